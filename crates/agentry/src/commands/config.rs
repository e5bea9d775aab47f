//! `agentry config show` and `validate`.

use std::path::Path;

use anyhow::Result;

use crate::cli::ConfigCommand;
use crate::output::{self, out, outln};
use crate::project::{CONFIG_FILE, Project};

pub fn run(dir: &Path, command: ConfigCommand) -> Result<()> {
    let project = Project::find(dir)?;
    match command {
        ConfigCommand::Show { json: true } => output::json(&project.config.redacted()),
        ConfigCommand::Show { json: false } => {
            out!("{}", toml::to_string(&project.config.redacted())?);
            Ok(())
        }
        ConfigCommand::Validate => {
            outln!("{} is valid", project.root.join(CONFIG_FILE).display());
            Ok(())
        }
    }
}

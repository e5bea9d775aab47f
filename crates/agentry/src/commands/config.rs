//! `agentry config show` and `validate`.

use std::path::Path;

use agentry_core::config::Config;
use anyhow::Result;

use crate::cli::ConfigCommand;
use crate::output;
use crate::project::{CONFIG_FILE, Project};

/// What `config show` prints in place of a secret.
const HIDDEN: &str = "(set, hidden)";

pub fn run(dir: &Path, command: ConfigCommand) -> Result<()> {
    let project = Project::find(dir)?;
    match command {
        ConfigCommand::Show { json: true } => output::json(&shown(project.config)),
        ConfigCommand::Show { json: false } => {
            print!("{}", toml::to_string(&shown(project.config))?);
            Ok(())
        }
        ConfigCommand::Validate => {
            println!("{} is valid", project.root.join(CONFIG_FILE).display());
            Ok(())
        }
    }
}

/// The config as it may be printed: the service token is said to be set, never shown.
fn shown(mut config: Config) -> Config {
    if !config.server.service_token.is_empty() {
        config.server.service_token = HIDDEN.to_string();
    }
    config
}

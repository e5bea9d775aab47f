//! `agentry flags list|enable|disable NAME`: runtime switches kept in the store.

use agentry_core::Timestamp;
use agentry_core::flags::Flag;
use anyhow::Result;
use serde_json::json;

use super::status::on_off;
use crate::cli::FlagsCommand;
use crate::output::{self, outln};
use crate::project::Project;

pub fn run(project: &Project, command: FlagsCommand) -> Result<()> {
    let store = project.open_store()?;
    let (flag, enabled) = match command {
        FlagsCommand::List { json } => {
            let flags = agentry_engine::status::flags(&store, &project.config)?;
            if json {
                return output::json(&flags);
            }
            for flag in flags {
                outln!(
                    "{:<22} {:<4} {}",
                    flag.name,
                    on_off(flag.enabled),
                    flag.source
                );
            }
            return Ok(());
        }
        FlagsCommand::Enable { name } => (name, true),
        FlagsCommand::Disable { name } => (name, false),
    };
    set(&store, flag, enabled)?;
    outln!("{flag} {}", on_off(enabled));
    Ok(())
}

/// Sets a flag in the store, where it wins over the config.
pub fn set(store: &dyn agentry_store::Store, flag: Flag, enabled: bool) -> Result<()> {
    store.put_state(
        &flag.state_key(),
        &json!({ "enabled": enabled }),
        Timestamp::now(),
    )?;
    Ok(())
}

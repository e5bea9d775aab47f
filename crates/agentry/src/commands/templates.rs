//! `agentry templates list|show|activate|deactivate`: the prompt templates' versions in the
//! store, seeded from `.agentry/prompts/` first.

use agentry_engine::templates::summaries;
use agentry_store::template::TemplateVersion;
use agentry_store::{SqliteStore, Store, StoreError};
use anyhow::Result;

use super::engine::seed_templates;
use crate::cli::TemplatesCommand;
use crate::output::{self, out, outln};
use crate::project::Project;

pub fn run(project: &Project, command: TemplatesCommand) -> Result<()> {
    let store = project.open_store()?;
    seed_templates(project, &store)?;
    match command {
        TemplatesCommand::List { json } => list(&store, json),
        TemplatesCommand::Show {
            name,
            version,
            json,
        } => show(&store, &name, version, json),
        TemplatesCommand::Activate { name, version } => {
            store.activate_template(&name, version)?;
            outln!("{name}: version {version} active");
            Ok(())
        }
        TemplatesCommand::Deactivate { name } => {
            let was_active = store.deactivate_template(&name)?;
            let what = if was_active { "now" } else { "already" };
            outln!("{name}: {what} without an active version");
            Ok(())
        }
    }
}

fn list(store: &SqliteStore, json: bool) -> Result<()> {
    let list = summaries(&store.templates()?);
    if json {
        return output::json(&list);
    }
    for template in list {
        let active = template
            .active_version
            .map_or("none".to_string(), |v| format!("v{v}"));
        let source = template.source.map_or("-", |s| s.as_str());
        outln!(
            "{:<18} active {active:<5} of {:<3} {source}",
            template.name,
            template.versions
        );
    }
    Ok(())
}

/// Prints version `version` of the template, else its active version, else its latest.
fn show(store: &SqliteStore, name: &str, version: Option<u32>, json: bool) -> Result<()> {
    let versions = store.template_versions(name)?;
    let chosen = match version {
        Some(wanted) => versions
            .iter()
            .find(|v| v.version == wanted)
            .ok_or_else(|| StoreError::NoTemplateVersion {
                name: name.to_string(),
                version: wanted,
            })?,
        None => active_or_latest(&versions),
    };
    if json {
        return output::json(chosen);
    }
    out!("{}", chosen.body);
    Ok(())
}

fn active_or_latest(versions: &[TemplateVersion]) -> &TemplateVersion {
    versions
        .iter()
        .find(|v| v.active)
        .unwrap_or_else(|| versions.last().expect("a template has a version"))
}

//! The prompt templates in the store: seeded at start-up from the project's prompts folder (or
//! the built-in texts), and summed up for the operator's list.

use std::path::Path;

use agentry_core::Timestamp;
use agentry_store::Store;
use agentry_store::template::{TemplateSource, TemplateVersion};
use serde::Serialize;

use crate::prompts::{DefaultTemplate, PromptError, Prompts, check_template, defaults};

/// What seeding did to one template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seeded {
    pub name: &'static str,
    /// The version holding the text seeded.
    pub version: u32,
    /// Whether the text was new, so that its version became the active one.
    pub new: bool,
}

/// Adds each built-in template's text (its file in `dir` if there is one, else the default)
/// as a new active version when no version has that text. A known text changes nothing, so an
/// operator's choice of version stands until the file changes. A file that cannot be read or
/// does not compile is not stored: the first such is the error, the others are still seeded.
pub fn seed(
    store: &dyn Store,
    dir: Option<&Path>,
    now: Timestamp,
) -> Result<Vec<Seeded>, PromptError> {
    let mut seeded = Vec::new();
    let mut broken = None;
    for template in defaults() {
        match text_of(dir, template) {
            Ok((text, source)) => {
                let added = store.add_template_version(template.name, &text, source, now)?;
                seeded.push(Seeded {
                    name: template.name,
                    version: added.version,
                    new: added.new,
                });
            }
            Err(err) => broken = broken.or(Some(err)),
        }
    }
    broken.map_or(Ok(seeded), Err)
}

/// Seeds the store's templates, then builds the prompts from their active versions.
pub fn seeded_prompts(
    store: &dyn Store,
    dir: Option<&Path>,
    now: Timestamp,
) -> Result<Prompts, PromptError> {
    seed(store, dir, now)?;
    Prompts::from_store(store)
}

/// The template's file in `dir` if there is one, checked to compile; else its default.
fn text_of(
    dir: Option<&Path>,
    template: &DefaultTemplate,
) -> Result<(String, TemplateSource), PromptError> {
    let Some(path) = dir.map(|d| d.join(template.file)).filter(|p| p.is_file()) else {
        return Ok((template.text.to_string(), TemplateSource::Default));
    };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|source| PromptError::Read {
        path: shown.clone(),
        source,
    })?;
    check_template(&shown, &text)?;
    Ok((text, TemplateSource::File))
}

/// One template as the operator's list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TemplateSummary {
    pub name: String,
    /// None when no version is active.
    pub active_version: Option<u32>,
    /// How many versions it has.
    pub versions: u32,
    /// Where the active version's text came from.
    pub source: Option<TemplateSource>,
}

/// Sums up `versions` (by name, then version, as the store lists them) per template.
pub fn summaries(versions: &[TemplateVersion]) -> Vec<TemplateSummary> {
    versions
        .chunk_by(|a, b| a.name == b.name)
        .map(|of_one| {
            let active = of_one.iter().find(|v| v.active);
            TemplateSummary {
                name: of_one[0].name.clone(),
                active_version: active.map(|v| v.version),
                versions: of_one.len() as u32,
                source: active.map(|v| v.source),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use agentry_store::SqliteStore;

    use super::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_unix_micros(secs * 1_000_000)
    }

    /// The active version of `name`, if any.
    fn active(store: &dyn Store, name: &str) -> Option<u32> {
        let versions = store.template_versions(name).unwrap();
        versions.iter().find(|v| v.active).map(|v| v.version)
    }

    #[test]
    fn the_defaults_are_the_first_versions_and_seeding_again_changes_nothing() {
        let store = SqliteStore::in_memory().unwrap();
        let first = seed(&store, None, t(0)).unwrap();
        assert_eq!(first.len(), defaults().count());
        assert!(first.iter().all(|s| s.version == 1 && s.new), "{first:?}");
        let stored = store.templates().unwrap();
        assert!(stored.iter().all(|v| v.source == TemplateSource::Default));
        let again = seed(&store, None, t(1)).unwrap();
        assert!(again.iter().all(|s| s.version == 1 && !s.new), "{again:?}");
        assert_eq!(store.templates().unwrap(), stored);
    }

    #[test]
    fn an_edited_file_is_a_new_active_version() {
        let store = SqliteStore::in_memory().unwrap();
        let dir = tempfile::tempdir().unwrap();
        seed(&store, Some(dir.path()), t(0)).unwrap();
        std::fs::write(dir.path().join("fixer.md"), "Fix {{ issue.title }}").unwrap();
        let seeded = seed(&store, Some(dir.path()), t(1)).unwrap();
        let new: Vec<_> = seeded.iter().filter(|s| s.new).collect();
        assert_eq!(
            new,
            [&Seeded {
                name: "fixer",
                version: 2,
                new: true
            }]
        );
        let fixer = store.template_versions("fixer").unwrap();
        assert_eq!(fixer[1].source, TemplateSource::File);
        assert_eq!(fixer[1].body, "Fix {{ issue.title }}");
        assert_eq!(active(&store, "fixer"), Some(2));
        assert_eq!(active(&store, "implementer"), Some(1));
    }

    #[test]
    fn an_older_version_activated_by_hand_stays_until_the_file_changes() {
        let store = SqliteStore::in_memory().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("planner.md");
        std::fs::write(&file, "Plan {{ goal }}").unwrap();
        seed(&store, Some(dir.path()), t(0)).unwrap();
        std::fs::write(&file, "Plan {{ goal }} in steps").unwrap();
        seed(&store, Some(dir.path()), t(1)).unwrap();
        store.activate_template("planner", 1).unwrap();
        seed(&store, Some(dir.path()), t(2)).unwrap();
        assert_eq!(active(&store, "planner"), Some(1));
        store.deactivate_template("planner").unwrap();
        seed(&store, Some(dir.path()), t(3)).unwrap();
        assert_eq!(active(&store, "planner"), None);
        std::fs::write(&file, "Plan {{ goal }} again").unwrap();
        seed(&store, Some(dir.path()), t(4)).unwrap();
        assert_eq!(active(&store, "planner"), Some(3));
    }

    #[test]
    fn a_broken_file_is_named_and_not_stored_while_the_others_are() {
        let store = SqliteStore::in_memory().unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("implementer.md"), "{{ unclosed").unwrap();
        let err = seed(&store, Some(dir.path()), t(0))
            .unwrap_err()
            .to_string();
        assert!(err.contains("implementer.md"), "{err}");
        assert!(store.template_versions("implementer").is_err());
        assert_eq!(active(&store, "fixer"), Some(1));
    }

    #[test]
    fn prompts_hold_only_the_active_versions() {
        let store = SqliteStore::in_memory().unwrap();
        seed(&store, None, t(0)).unwrap();
        store.deactivate_template("replan").unwrap();
        let prompts = Prompts::from_store(&store).unwrap();
        assert!(prompts.has("planner"));
        assert!(!prompts.has("replan"));
        let err = prompts
            .render_named("replan", &serde_json::json!({}))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("prompt template replan:"), "{err}");
    }

    #[test]
    fn the_list_sums_up_each_template() {
        let store = SqliteStore::in_memory().unwrap();
        let dir = tempfile::tempdir().unwrap();
        seed(&store, None, t(0)).unwrap();
        std::fs::write(dir.path().join("fixer.md"), "Fix it").unwrap();
        seed(&store, Some(dir.path()), t(1)).unwrap();
        store.deactivate_template("replan").unwrap();
        let list = summaries(&store.templates().unwrap());
        assert_eq!(list.len(), defaults().count());
        let fixer = list.iter().find(|s| s.name == "fixer").unwrap();
        assert_eq!(
            (fixer.active_version, fixer.versions, fixer.source),
            (Some(2), 2, Some(TemplateSource::File))
        );
        let replan = list.iter().find(|s| s.name == "replan").unwrap();
        assert_eq!((replan.active_version, replan.source), (None, None));
    }
}

//! Cases for the prompt template versions.

use agentry_store::StoreError;
use agentry_store::template::{AddedTemplate, TemplateSource};

use crate::MakeStore;
use crate::cases::t0;

fn added(version: u32, new: bool) -> AddedTemplate {
    AddedTemplate { version, new }
}

/// The active version of each template, by name.
fn active(store: &dyn agentry_store::Store) -> Vec<(String, u32)> {
    let versions = store.templates().unwrap();
    versions
        .into_iter()
        .filter(|v| v.active)
        .map(|v| (v.name, v.version))
        .collect()
}

pub(crate) fn a_new_text_is_a_new_active_version_and_a_known_one_is_not(make: MakeStore) {
    let store = make();
    assert_eq!(store.templates().unwrap(), Vec::new());
    let add = |name: &str, body: &str, source| {
        store
            .add_template_version(name, body, source, t0())
            .unwrap()
    };
    assert_eq!(
        add("fixer", "fix {{ x }}", TemplateSource::Default),
        added(1, true)
    );
    assert_eq!(
        add("fixer", "fix {{ x }}", TemplateSource::File),
        added(1, false)
    );
    assert_eq!(
        add("fixer", "mend {{ x }}", TemplateSource::File),
        added(2, true)
    );
    assert_eq!(add("planner", "plan", TemplateSource::Api), added(1, true));
    assert_eq!(
        active(store.as_ref()),
        [("fixer".to_string(), 2), ("planner".to_string(), 1)]
    );
    // The first text again is the first version again: it stays inactive.
    assert_eq!(
        add("fixer", "fix {{ x }}", TemplateSource::File),
        added(1, false)
    );
    let versions = store.template_versions("fixer").unwrap();
    let summary: Vec<_> = versions
        .iter()
        .map(|v| (v.version, v.body.as_str(), v.source, v.active, v.created_at))
        .collect();
    assert_eq!(
        summary,
        [
            (1, "fix {{ x }}", TemplateSource::Default, false, t0()),
            (2, "mend {{ x }}", TemplateSource::File, true, t0()),
        ]
    );
    let all: Vec<_> = store
        .templates()
        .unwrap()
        .into_iter()
        .map(|v| (v.name, v.version))
        .collect();
    let expected = [("fixer", 1), ("fixer", 2), ("planner", 1)];
    assert_eq!(all, expected.map(|(n, v)| (n.to_string(), v)));
    assert!(matches!(
        store.template_versions("nope"),
        Err(StoreError::NoTemplate(name)) if name == "nope"
    ));
}

pub(crate) fn at_most_one_version_of_a_template_is_active(make: MakeStore) {
    let store = make();
    for body in ["one", "two", "three"] {
        store
            .add_template_version("implementer", body, TemplateSource::File, t0())
            .unwrap();
    }
    store
        .add_template_version("fixer", "fix", TemplateSource::Default, t0())
        .unwrap();
    let activated = store.activate_template("implementer", 1).unwrap();
    assert_eq!((activated.version, activated.active), (1, true));
    assert_eq!(activated.body, "one");
    assert_eq!(
        active(store.as_ref()),
        [("fixer".to_string(), 1), ("implementer".to_string(), 1)]
    );
    assert!(matches!(
        store.activate_template("implementer", 4),
        Err(StoreError::NoTemplateVersion { name, version: 4 }) if name == "implementer"
    ));
    assert!(matches!(
        store.activate_template("nope", 1),
        Err(StoreError::NoTemplate(_))
    ));
    assert!(store.deactivate_template("implementer").unwrap());
    assert!(!store.deactivate_template("implementer").unwrap());
    assert_eq!(active(store.as_ref()), [("fixer".to_string(), 1)]);
    assert!(matches!(
        store.deactivate_template("nope"),
        Err(StoreError::NoTemplate(_))
    ));
    // A known text brings back no version: the template stays without one.
    let again = store
        .add_template_version("implementer", "three", TemplateSource::File, t0())
        .unwrap();
    assert_eq!(again, added(3, false));
    assert_eq!(active(store.as_ref()), [("fixer".to_string(), 1)]);
}

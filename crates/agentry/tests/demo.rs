//! `agentry demo`, the README's first command: it builds its project in a new repository and
//! runs the whole loop, each issue ending where the demo says it does.

mod support;

use support::{agentry_with, git_stdout, json_of};

#[test]
fn the_demo_runs_the_whole_loop_and_each_issue_ends_where_it_says() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("demo");
    let out = agentry_with(
        dir.path(),
        &["demo", "--dir", &repo.to_string_lossy()],
        &[],
        None,
    );
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("6 sessions: done 4, overflowed 1, verify_failed 1"),
        "{text}"
    );

    let status = |id: &str| {
        let shown = agentry_with(&repo, &["issue", "show", id, "--json"], &[], None);
        assert!(shown.status.success(), "{shown:?}");
        json_of(&shown)["status"].clone()
    };
    for (id, expected) in [
        ("i-greet", "closed"),
        ("i-count", "closed"),
        ("i-shout", "open"),
        ("i-bye", "needs_review"),
        ("i-docs", "needs_review"),
        ("i-tidy", "needs_review"),
    ] {
        assert_eq!(status(id), expected, "{id}");
    }
    let merges = git_stdout(&repo, &["log", "--merges", "--format=%s", "main"]);
    assert!(merges.contains("agentry/i-greet"), "{merges}");
}

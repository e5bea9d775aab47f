//! The playbook commands on temporary repositories: `handoff` and `sync-status`.

mod support;

use serde_json::{Value, json};
use support::{Repo, git, json_of, scripted_repo};

fn entries<'a>(list: &'a Value, id: &str) -> Vec<&'a Value> {
    let items = list.as_array().expect("a list");
    items
        .iter()
        .filter(|e| e["item"].as_str().unwrap().starts_with(id))
        .collect()
}

#[test]
fn the_handoff_says_what_is_done_with_evidence_and_what_is_pending_with_its_reason() {
    let repo = scripted_repo();
    let done = repo.add("write done.txt", &["--verify", "test -f done.txt"]);
    let run = repo.run_env(
        &["run", "--until-idle", "--json"],
        &[("AGENTRY_LOG", "warn")],
    );
    assert_eq!(json_of(&run)["outcomes"], json!({"done": 1}));
    let dropped = repo.add("not needed", &[]);
    repo.ok(&["issue", "close", &dropped, "--reason", "won't do"]);
    let first = repo.add("first step", &[]);
    let second = repo.add("second step", &["--depends-on", &first]);

    let summary = repo.json(&["handoff", "--json"]);
    let evidence = &entries(&summary["completed"], &done)[0]["evidence"];
    assert_eq!(evidence, "verify `test -f done.txt` exited 0");
    let evidence = &entries(&summary["completed"], &dropped)[0]["evidence"];
    assert_eq!(evidence, "closed: won't do");
    let reason = &entries(&summary["pending"], &second)[0]["reason"];
    assert_eq!(reason, &json!(format!("waits on {first}")));
    assert_eq!(
        entries(&summary["pending"], &first)[0]["reason"],
        "ready, not started"
    );
    assert_eq!(
        summary["next"],
        json!([format!("start {first} first step (open)")])
    );

    // What it prints is a handoff packet by agentry's own schema.
    let file = repo.file("handoff.json");
    std::fs::write(&file, summary.to_string()).unwrap();
    let parsed = repo.json(&[
        "parse",
        "--schema",
        "handoff",
        file.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(parsed["complete"], true, "{parsed}");
    let text = repo.ok(&["handoff"]);
    assert!(text.starts_with("COMPLETED\n"), "{text}");
    assert!(text.contains("\nRISKS\n- none\nNEXT\n"), "{text}");

    // Once a person merges its branch, the merge is the evidence.
    let branch = format!("agentry/{done}");
    git(
        repo.path(),
        &["merge", "--no-ff", "-q", "-m", "Merge", &branch],
    );
    repo.ok(&["merge-watch", "--once"]);
    let summary = repo.json(&["handoff", "--json"]);
    let evidence = entries(&summary["completed"], &done)[0]["evidence"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(evidence.starts_with("merged: "), "{evidence}");
}

#[test]
fn sync_status_digests_what_changed_and_says_no_change_when_nothing_did() {
    let repo = Repo::initialized();
    let a = repo.add("one", &[]);
    let first = repo.json(&["sync-status", "--json"]);
    assert_eq!(first["events"], json!({"ISSUE_CREATED": 1}));
    assert_eq!(repo.ok(&["sync-status"]), "no change\n");
    assert_eq!(repo.json(&["sync-status", "--json"]), Value::Null);

    repo.ok(&["issue", "close", &a, "--reason", "done by hand"]);
    repo.add("two", &[]);
    let text = repo.ok(&["sync-status"]);
    assert_eq!(
        text,
        format!("events: ISSUE_CREATED 1, STATUS_CHANGED 1\n{a}: open → closed\n")
    );
    assert_eq!(repo.ok(&["sync-status"]), "no change\n");
}

#[test]
fn sync_status_digests_a_session_run_on_its_branch() {
    let repo = scripted_repo();
    let id = repo.add("write done.txt", &[]);
    repo.ok(&["sync-status"]);
    let run = repo.run_env(&["run", "--until-idle"], &[("AGENTRY_LOG", "warn")]);
    assert!(run.status.success());
    let digest = repo.json(&["sync-status", "--json"]);
    assert_eq!(digest["events"]["SESSION_DONE"], 1, "{digest}");
    let text = repo.ok(&["sync-status"]);
    assert_eq!(text, "no change\n");
    let branch = format!("agentry/{id}");
    git(
        repo.path(),
        &["merge", "--no-ff", "-q", "-m", "Merge", &branch],
    );
    repo.ok(&["merge-watch", "--once"]);
    let text = repo.ok(&["sync-status"]);
    assert!(
        text.contains(&format!("{id}: needs_review → closed")),
        "{text}"
    );
}

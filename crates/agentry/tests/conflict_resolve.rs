//! `agentry conflict-resolve` on a temporary repository with real `agentry/<id>` branches:
//! two issues in review edit the same line (a merge-tree conflict), a third edits another
//! file; two more edit one file in lines apart (a clean merge, still an overlap). The report
//! changes nothing; `--apply` blocks the later issue with the reason naming its owner, the
//! files and the merge path. Also on the API.

mod support;

use serde_json::{Value, json};
use support::server::{Server, error_of};
use support::{PASS, Repo, assert_ok, events_of, git, rule};

/// Issue `id`'s branch `agentry/<id>` from main, with `file` set to `content` in one commit.
fn branch(repo: &Repo, id: &str, file: &str, content: &str) {
    let name = format!("agentry/{id}");
    git(repo.path(), &["checkout", "-q", "-b", &name, "main"]);
    std::fs::write(repo.file(file), content).unwrap();
    git(
        repo.path(),
        &["commit", "-q", "-am", &format!("{id} edits {file}")],
    );
    git(repo.path(), &["checkout", "-q", "main"]);
}

fn in_review(repo: &Repo, title: &str) -> String {
    let id = repo.add(title, &[]);
    repo.ok(&["issue", "update", &id, "--status", "in_progress"]);
    repo.ok(&["issue", "update", &id, "--status", "needs_review"]);
    id
}

/// `first` and `second` change the same line of `shared.txt`; `third` changes `other.txt`.
fn clashing_repo() -> (Repo, String, String, String) {
    let repo = Repo::new();
    std::fs::write(repo.file("shared.txt"), "one\n").unwrap();
    std::fs::write(repo.file("other.txt"), "two\n").unwrap();
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "initial commit"]);
    assert_ok(&repo.run(&["init"]));
    let first = in_review(&repo, "first");
    let second = in_review(&repo, "second");
    let third = in_review(&repo, "third");
    branch(&repo, &first, "shared.txt", "one by first\n");
    branch(&repo, &second, "shared.txt", "one by second\n");
    branch(&repo, &third, "other.txt", "two by third\n");
    (repo, first, second, third)
}

fn statuses(repo: &Repo, ids: &[&String]) -> Vec<String> {
    ids.iter()
        .map(|id| repo.show(id)["status"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_later_of_two_conflicting_branches_is_frozen_only_with_apply() {
    let (repo, first, second, third) = clashing_repo();
    let merge_path = format!("merge {first} first, then rebase {second} onto main and reopen it");

    let report = repo.json(&["conflict-resolve", "--json"]);
    assert_eq!(report["applied"], false);
    assert_eq!(report["compared"], json!([first, second, third]));
    assert_eq!(
        report["freezes"],
        json!([{
            "frozen": second,
            "owner": first,
            "kind": "conflict",
            "files": ["shared.txt"],
            "reason": format!("its branch conflicts with {first}'s in shared.txt; {merge_path}"),
            "merge_path": merge_path,
            "when_session_ends": false,
        }])
    );
    let text = repo.ok(&["conflict-resolve"]);
    assert!(
        text.contains(&format!(
            "{second} to freeze: conflict with {first} in shared.txt"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("owner {first}; {merge_path}")),
        "{text}"
    );
    assert_eq!(
        statuses(&repo, &[&first, &second, &third]),
        ["needs_review"; 3]
    );

    let text = repo.ok(&["conflict-resolve", "--apply"]);
    assert!(text.contains(&format!("{second} frozen")), "{text}");
    assert_eq!(
        statuses(&repo, &[&first, &second, &third]),
        ["needs_review", "blocked", "needs_review"]
    );
    let frozen = repo.show(&second);
    let changes = events_of(&frozen, "STATUS_CHANGED");
    let reason = changes.last().unwrap()["data"]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        reason.contains(&first) && reason.contains("shared.txt"),
        "{reason}"
    );
    for id in [&first, &second] {
        let detail = repo.show(id);
        let found = events_of(&detail, "CONFLICT_FOUND");
        assert_eq!(found.len(), 1, "{id}: {found:?}");
        assert_eq!(found[0]["data"]["owner"], first.as_str());
    }
    assert!(events_of(&repo.show(&third), "CONFLICT_FOUND").is_empty());

    // The frozen issue is out of review: nothing is left to freeze.
    let again = repo.json(&["conflict-resolve", "--json"]);
    assert_eq!(again["freezes"], json!([]));
    assert_eq!(again["compared"], json!([first, third]));
}

#[test]
fn branches_editing_one_file_apart_merge_cleanly_yet_the_later_is_frozen_as_an_overlap() {
    let repo = Repo::new();
    std::fs::write(repo.file("shared.txt"), "top\nmiddle\nbottom\n").unwrap();
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-q", "-m", "initial commit"]);
    assert_ok(&repo.run(&["init"]));
    let first = in_review(&repo, "first");
    let second = in_review(&repo, "second");
    branch(
        &repo,
        &first,
        "shared.txt",
        "top by first\nmiddle\nbottom\n",
    );
    branch(
        &repo,
        &second,
        "shared.txt",
        "top\nmiddle\nbottom by second\n",
    );

    let report = repo.json(&["conflict-resolve", "--json"]);
    let freezes = report["freezes"].as_array().unwrap();
    assert_eq!(freezes.len(), 1, "{report}");
    assert_eq!(freezes[0]["frozen"], second.as_str());
    assert_eq!(freezes[0]["owner"], first.as_str());
    assert_eq!(freezes[0]["kind"], "overlap");
    assert_eq!(freezes[0]["files"], json!(["shared.txt"]));
    let reason = freezes[0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(&format!(
            "its branch changes the same files as {first}'s in shared.txt; merge {first} first"
        )),
        "{reason}"
    );

    repo.ok(&["conflict-resolve", "--apply"]);
    assert_eq!(
        statuses(&repo, &[&first, &second]),
        ["needs_review", "blocked"]
    );
}

#[test]
fn conflict_resolve_on_the_api() {
    let (repo, first, second, third) = clashing_repo();
    let server = Server::start(&repo, &["--no-dispatch"], &[("SERVER__SERVICE_TOKEN", "t")]);
    let auth = ["Authorization: Bearer t"];
    let path = "/api/v1/conflict-resolve";

    assert_eq!(server.json("POST", path, &[], Some(json!({}))).0, 401);
    let (status, err) = server.json("POST", path, &auth, Some(json!({"apply": "yes"})));
    assert_eq!(status, 400);
    assert!(error_of(&err).contains("apply"), "{err}");
    // serde would read the body's struct from an array of its fields: not a body here.
    let (status, err) = server.json("POST", path, &auth, Some(json!([])));
    assert_eq!(status, 400);
    assert!(error_of(&err).contains("expected a JSON object"), "{err}");

    let (status, report) = server.json("POST", path, &auth, Some(json!({})));
    assert_eq!(
        (status, &report["applied"]),
        (200, &json!(false)),
        "{report}"
    );
    assert_eq!(report["freezes"][0]["frozen"], second.as_str());
    assert_eq!(statuses(&repo, &[&second]), ["needs_review"]);

    let (status, report) = server.json("POST", path, &auth, Some(json!({"apply": true})));
    assert_eq!(
        (status, &report["applied"]),
        (200, &json!(true)),
        "{report}"
    );
    assert_eq!(
        statuses(&repo, &[&first, &second, &third]),
        ["needs_review", "blocked", "needs_review"]
    );
}

/// The later issue's session is running when `conflict-resolve --apply` freezes it (its own
/// implementer runs the command, against the branch an earlier attempt left): its status is
/// left to the session, which ends blocked with the reason instead of going to review.
#[test]
fn a_running_issue_is_frozen_when_its_session_ends() {
    let (repo, first, _, _) = clashing_repo();
    let later = repo.add("later", &[]);
    branch(&repo, &later, "shared.txt", "one by later\n");
    let report = repo.file(".agentry/conflicts.json");
    let resolve = format!(
        "{} -C {} conflict-resolve --apply --json > {}",
        env!("CARGO_BIN_EXE_agentry"),
        repo.path().display(),
        report.display()
    );
    let script = rule(
        "implementer",
        "*",
        &[&[&format!("{{ run = {resolve:?} }}")]],
    ) + &rule("spec_reviewer", "*", &[&[PASS]])
        + &rule("quality_reviewer", "*", &[&[PASS]]);
    std::fs::write(repo.file("script.toml"), script).unwrap();
    // The agent stands in for a person running the command: it writes to the store, which
    // a sandboxed agent cannot.
    repo.append_config(
        "[agents.script]\nkind = \"scripted\"\nscript = \"script.toml\"\nsandbox = \"off\"\n",
    );
    for role in ["implementer", "spec_reviewer", "quality_reviewer"] {
        repo.set_config(role, "\"script\"");
    }

    assert_ok(&repo.run_env(&["run", "--until-idle"], &[("AGENTRY_LOG", "warn")]));
    let seen: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let frozen: Vec<&Value> = seen["freezes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["frozen"] == later.as_str())
        .collect();
    assert_eq!(frozen.len(), 1, "{seen}");
    assert_eq!(frozen[0]["when_session_ends"], true);
    let detail = repo.show(&later);
    assert_eq!(detail["status"], "blocked");
    let changes = events_of(&detail, "STATUS_CHANGED");
    let reason = changes.last().unwrap()["data"]["reason"].as_str().unwrap();
    assert!(reason.contains(&first), "{reason}");
    assert_eq!(events_of(&detail, "SESSION_DONE").len(), 1);
}

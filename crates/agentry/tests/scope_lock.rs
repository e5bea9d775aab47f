//! `agentry scope-lock` on temporary repositories with scripted agents: a lock holds back
//! other issues whose scope may touch its paths, `run --until-idle` still ends, and a release
//! (or the owner closed) lets them run. Also on the API.

mod support;

use serde_json::{Value, json};
use support::server::{Server, error_of};
use support::{Repo, assert_refused, events_of, scripted_repo};

/// A lock held by `owner` on `src/**`, an issue inside it and one outside.
fn locked_repo() -> (Repo, String, String, String) {
    let repo = scripted_repo();
    let owner = repo.add("owner", &["--scope", "src/**"]);
    let locked = repo.ok(&["scope-lock", &owner, "src/**"]);
    assert_eq!(locked, format!("{owner} locks src/**\n"));
    let inside = repo.add("inside", &["--scope", "src/lib.rs"]);
    let outside = repo.add("outside", &["--scope", "docs/**"]);
    (repo, owner, inside, outside)
}

#[test]
fn a_lock_holds_back_an_overlapping_issue_until_it_is_released() {
    let (repo, owner, inside, outside) = locked_repo();

    // The owner and the issue outside the lock run; the run ends with the other held back.
    let summary = repo.run_until_idle();
    assert_eq!(summary["outcomes"], json!({"done": 2}), "{summary}");
    assert_eq!(repo.show(&owner)["status"], "needs_review");
    assert_eq!(repo.show(&outside)["status"], "needs_review");
    let held = repo.show(&inside);
    assert_eq!(held["status"], "open");
    // It may first have waited for the owner's running session; the lock's wait is noted once.
    let waits: Vec<&Value> = events_of(&held, "SCOPE_WAIT")
        .into_iter()
        .filter(|wait| wait["data"]["scope_lock"] == true)
        .collect();
    assert_eq!(waits.len(), 1, "noted once: {waits:?}");
    assert_eq!(
        waits[0]["data"],
        json!({"waits_for": owner, "scope": "src/lib.rs", "overlaps": "src/**", "scope_lock": true})
    );

    let locks = repo.json(&["scope-lock", "--list", "--json"]);
    assert_eq!(locks[0]["issue_id"], owner.as_str());
    assert_eq!(locks[0]["globs"], json!(["src/**"]));

    let released = repo.ok(&["scope-lock", &owner, "--release"]);
    assert_eq!(released, format!("{owner} released src/**\n"));
    assert_eq!(repo.ok(&["scope-lock", "--list"]), "no scope locks\n");
    let owner_detail = repo.show(&owner);
    assert_eq!(events_of(&owner_detail, "SCOPE_LOCKED").len(), 1);
    assert_eq!(
        events_of(&owner_detail, "SCOPE_RELEASED")[0]["data"]["reason"],
        "released"
    );

    let summary = repo.run_until_idle();
    assert_eq!(summary["outcomes"], json!({"done": 1}), "{summary}");
    assert_eq!(repo.show(&inside)["status"], "needs_review");
}

#[test]
fn issues_held_by_a_lock_at_the_head_of_the_queue_do_not_hide_the_ones_behind() {
    let repo = scripted_repo();
    let owner = repo.add("owner", &["--scope", "src/**", "--priority", "3"]);
    repo.ok(&["scope-lock", &owner, "src/**"]);
    // One worker looks at 4 issues at first: the 6 held ones fill that stretch and more.
    let held: Vec<String> = (0..6)
        .map(|n| {
            repo.add(
                &format!("held {n}"),
                &["--scope", "src/a.rs", "--priority", "0"],
            )
        })
        .collect();
    let behind = repo.add("behind", &["--scope", "docs/**", "--priority", "1"]);

    // Bounded: a dispatcher that looks no further than the held issues never ends the run.
    let summary = repo.run_until_idle_with(&["--max-workers", "1"]);
    assert_eq!(summary["outcomes"], json!({"done": 2}), "{summary}");
    assert_eq!(repo.show(&behind)["status"], "needs_review");
    assert_eq!(repo.show(&owner)["status"], "needs_review");
    for id in &held {
        assert_eq!(repo.show(id)["status"], "open", "{id}");
    }
}

#[test]
fn a_lock_ends_when_its_issue_is_closed() {
    let (repo, owner, inside, _) = locked_repo();
    repo.ok(&["issue", "close", &owner, "--reason", "not needed"]);

    assert_eq!(repo.json(&["scope-lock", "--list", "--json"]), json!([]));
    let owner_detail = repo.show(&owner);
    let ended = events_of(&owner_detail, "SCOPE_RELEASED");
    assert_eq!(ended[0]["data"]["reason"], "the issue is closed");
    let summary = repo.run_until_idle();
    assert_eq!(summary["outcomes"], json!({"done": 2}), "{summary}");
    assert!(events_of(&repo.show(&inside), "SCOPE_WAIT").is_empty());
}

#[test]
fn bad_scope_locks_are_refused_naming_what_is_wrong() {
    let repo = Repo::initialized();
    let id = repo.add("one", &[]);
    assert_refused(
        &repo.run(&["scope-lock", "i-nosuch", "src/**"]),
        &["i-nosuch"],
    );
    assert_refused(&repo.run(&["scope-lock", &id]), &["at least one"]);
    assert_refused(
        &repo.run(&["scope-lock", &id, "src/**", "src/[ab.rs"]),
        &["\"src/[ab.rs\"", "unclosed character class"],
    );
    assert_refused(
        &repo.run(&["scope-lock", &id, "--release"]),
        &["holds no scope lock"],
    );
    repo.ok(&["issue", "close", &id]);
    assert_refused(&repo.run(&["scope-lock", &id, "src/**"]), &["closed"]);
    assert_eq!(repo.json(&["scope-lock", "--list", "--json"]), json!([]));
}

#[test]
fn scope_locks_on_the_api() {
    let repo = Repo::initialized();
    let id = repo.add("owner", &[]);
    let server = Server::start(&repo, &["--no-dispatch"], &[("SERVER__SERVICE_TOKEN", "t")]);
    let auth = ["Authorization: Bearer t"];
    let path = format!("/api/v1/tasks/{id}/scope-lock");
    let body = Some(json!({"globs": ["src/**"]}));

    assert_eq!(server.json("POST", &path, &[], body.clone()).0, 401);
    let (status, lock) = server.json("POST", &path, &auth, body);
    assert_eq!(status, 200, "{lock}");
    assert_eq!(lock["globs"], json!(["src/**"]));
    let (status, lock) = server.json("POST", &path, &auth, Some(json!({"globs": ["docs/*"]})));
    assert_eq!(
        (status, &lock["globs"]),
        (200, &json!(["src/**", "docs/*"]))
    );
    let (status, locks) = server.get("/api/v1/scope-locks");
    assert_eq!((status, locks.as_array().unwrap().len()), (200, 1));

    for (bad, needle) in [
        (json!({"globs": []}), "at least one"),
        (json!({"globs": ["a}"]}), "unopened alternate group"),
        (json!({"globs": "src"}), "globs"),
        (json!({"globs": ["a"], "more": 1}), "more"),
    ] {
        let (status, err) = server.json("POST", &path, &auth, Some(bad));
        assert_eq!(status, 400, "{err}");
        assert!(error_of(&err).contains(needle), "{err}");
    }
    let (status, _) = server.json(
        "POST",
        "/api/v1/tasks/i-nosuch/scope-lock",
        &auth,
        Some(json!({"globs": ["a"]})),
    );
    assert_eq!(status, 404);

    assert_eq!(server.json("DELETE", &path, &[], None).0, 401);
    let (status, released) = server.json("DELETE", &path, &auth, None);
    assert_eq!((status, &released["issue_id"]), (200, &json!(id)));
    let (status, err) = server.json("DELETE", &path, &auth, None);
    assert_eq!(status, 404);
    assert!(error_of(&err).contains("holds no scope lock"), "{err}");
    assert_eq!(server.get("/api/v1/scope-locks").1, json!([]));
}

//! End-to-end tests of the `agentry` binary, each in its own temporary git repository.

mod support;

use std::collections::HashSet;

use serde_json::{Value, json};
use support::{
    Repo, agentry, assert_ok, assert_refused, ids, is_issue_id, json_of, stdout, strings,
};

const PROMPTS: [&str; 6] = [
    ".agentry/prompts/implementer.md",
    ".agentry/prompts/fixer.md",
    ".agentry/prompts/spec_reviewer.md",
    ".agentry/prompts/quality_reviewer.md",
    ".agentry/prompts/planner.md",
    ".agentry/prompts/replan.md",
];

const RUNTIME_EXCLUDES: [&str; 4] = [
    "/.agentry/agentry.db*",
    "/.agentry/worktrees/",
    "/.agentry/logs/",
    "/.agentry/transcripts/",
];

const ISSUE_KEYS: [&str; 13] = [
    "id",
    "title",
    "body",
    "status",
    "priority",
    "ready_at",
    "created_at",
    "updated_at",
    "labels",
    "scope",
    "verify",
    "done_when",
    "not_your_job",
];

fn keys(object: &Value) -> HashSet<String> {
    object
        .as_object()
        .expect("a JSON object")
        .keys()
        .cloned()
        .collect()
}

fn assert_utc(value: &Value) {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {value}"));
    assert!(text.ends_with('Z'), "timestamp is not in UTC: {text}");
}

fn event_types(detail: &Value) -> Vec<String> {
    detail["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["event_type"].as_str().expect("an event type").to_string())
        .collect()
}

fn status_changes(detail: &Value) -> Vec<(String, String)> {
    detail["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["event_type"] == "STATUS_CHANGED")
        .map(|e| {
            let data = &e["data"];
            (
                data["from"].as_str().unwrap().to_string(),
                data["to"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

// 1. init outside a git repository

#[test]
fn init_outside_a_git_repository_is_refused_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = agentry(dir.path(), &["init"]);
    assert_refused(&out, &["not inside a git repository"]);
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(
        left.is_empty(),
        "init outside a repository created {left:?}"
    );
}

// 2. init

#[test]
fn init_creates_config_prompts_store_and_excludes_runtime_files() {
    let repo = Repo::new();
    let out = repo.ok(&["init"]);
    assert!(out.starts_with("agentry is set up in "), "{out}");
    assert!(repo.file(".agentry/config.toml").is_file());
    for prompt in PROMPTS {
        assert!(repo.file(prompt).is_file(), "{prompt} is missing");
        assert!(!repo.read(prompt).trim().is_empty(), "{prompt} is empty");
        assert!(out.contains(&format!("created {prompt}")), "{out}");
    }
    assert!(repo.file(".agentry/agentry.db").is_file());

    let exclude = repo.read(".git/info/exclude");
    let lines: Vec<&str> = exclude.lines().collect();
    for entry in RUNTIME_EXCLUDES {
        assert!(
            lines.contains(&entry),
            "{entry} is not excluded:\n{exclude}"
        );
    }

    let config = repo.read(".agentry/config.toml");
    assert!(
        config.lines().any(|l| l == "base_branch = \"main\""),
        "{config}"
    );
    let config_lines: Vec<&str> = config.lines().collect();
    let mut settings = 0;
    for (index, line) in config_lines.iter().enumerate() {
        let is_setting = !line.starts_with('#') && !line.starts_with('[') && line.contains(" = ");
        if is_setting {
            settings += 1;
            let previous = index
                .checked_sub(1)
                .map(|i| config_lines[i])
                .unwrap_or_default();
            assert!(
                previous.starts_with("# "),
                "{line:?} has no comment line above it:\n{config}"
            );
        }
    }
    assert!(settings >= 10, "every setting is written out:\n{config}");
}

#[test]
fn init_takes_base_branch_from_the_checked_out_branch() {
    let repo = Repo::on_branch("trunk");
    repo.ok(&["init"]);
    let config = repo.read(".agentry/config.toml");
    assert!(
        config.lines().any(|l| l == "base_branch = \"trunk\""),
        "{config}"
    );
    let shown = repo.json(&["config", "show", "--json"]);
    assert_eq!(shown["session"]["base_branch"], "trunk");
}

#[test]
fn init_a_second_time_changes_nothing() {
    let repo = Repo::initialized();
    let config_before = std::fs::read(repo.file(".agentry/config.toml")).unwrap();
    let exclude_before = repo.read(".git/info/exclude");

    let out = repo.ok(&["init"]);
    assert!(out.contains("nothing changed"), "{out}");
    assert_eq!(out.lines().count(), 1, "{out}");

    assert_eq!(
        std::fs::read(repo.file(".agentry/config.toml")).unwrap(),
        config_before
    );
    let exclude = repo.read(".git/info/exclude");
    assert_eq!(exclude, exclude_before);
    let mut seen = HashSet::new();
    for line in exclude.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            seen.insert(line),
            "{line:?} appears twice in .git/info/exclude:\n{exclude}"
        );
    }
}

// 3. commands before init

#[test]
fn commands_before_init_are_refused_with_a_hint_to_run_init() {
    let repo = Repo::new();
    for args in [
        &["issue", "list"][..],
        &["issue", "add", "a title"],
        &["issue", "show", "i-abc"],
        &["ready"],
        &["config", "show"],
        &["config", "validate"],
    ] {
        let out = repo.run(args);
        assert_refused(&out, &["agentry init"]);
    }
    assert!(
        !repo.file(".agentry").exists(),
        "a refused command created .agentry"
    );
}

// 4. issue add and show

#[test]
fn issue_add_prints_the_new_id_alone() {
    let repo = Repo::initialized();
    let out = repo.ok(&["issue", "add", "Write the README"]);
    let id = out.strip_suffix('\n').expect("a newline after the id");
    assert!(is_issue_id(id), "stdout is not just an id: {out:?}");
    assert!(!id.contains('\n'));
    let other = repo.add("Another", &[]);
    assert_ne!(other, id, "two issues got the same id");
}

#[test]
fn issue_add_json_prints_the_issue_with_exactly_its_fields() {
    let repo = Repo::initialized();
    let issue = repo.json(&["issue", "add", "Write the README", "--json"]);
    let expected: HashSet<String> = ISSUE_KEYS.iter().map(|k| k.to_string()).collect();
    assert_eq!(keys(&issue), expected);
    assert!(is_issue_id(issue["id"].as_str().unwrap()));
    assert_eq!(issue["title"], "Write the README");
    assert_eq!(issue["body"], "");
    assert_eq!(issue["status"], "open");
    assert_eq!(issue["priority"], 2);
    for list in ["labels", "scope", "verify", "done_when", "not_your_job"] {
        assert_eq!(issue[list], json!([]), "{list}");
    }
    for time in ["ready_at", "created_at", "updated_at"] {
        assert_utc(&issue[time]);
    }
    assert_eq!(issue["ready_at"], issue["created_at"]);
}

#[test]
fn issue_add_flags_are_stored_as_given() {
    let repo = Repo::initialized();
    let dependency = repo.add("Dependency", &[]);
    let id = repo.add(
        "Cache the index",
        &[
            "--body",
            "Keep it in memory.\nSecond line: é ✓",
            "--priority",
            "0",
            "--scope",
            "src/index/**",
            "--scope",
            "Cargo.toml",
            "--verify",
            "cargo test -p index",
            "--verify",
            "cargo clippy",
            "--done-when",
            "lookups hit the cache",
            "--not-your-job",
            "eviction",
            "--label",
            "perf",
            "--label",
            "backend",
            "--depends-on",
            &dependency,
        ],
    );
    let issue = repo.show(&id);
    assert_eq!(issue["id"], id.as_str());
    assert_eq!(issue["title"], "Cache the index");
    assert_eq!(issue["body"], "Keep it in memory.\nSecond line: é ✓");
    assert_eq!(issue["priority"], 0);
    assert_eq!(issue["status"], "open");
    assert_eq!(strings(&issue["scope"]), ["src/index/**", "Cargo.toml"]);
    assert_eq!(
        strings(&issue["verify"]),
        ["cargo test -p index", "cargo clippy"]
    );
    assert_eq!(strings(&issue["done_when"]), ["lookups hit the cache"]);
    assert_eq!(strings(&issue["not_your_job"]), ["eviction"]);
    assert_eq!(strings(&issue["labels"]), ["perf", "backend"]);
    assert_eq!(
        issue["links"],
        json!([{"src": id, "kind": "depends-on", "dst": dependency}])
    );
}

#[test]
fn issue_add_reads_the_body_from_a_file_or_stdin() {
    let repo = Repo::initialized();
    let body_file = repo.file("body.md");
    std::fs::write(&body_file, "# From a file\n\n- item\n").unwrap();
    let from_file = repo.add("From a file", &["--body-file", body_file.to_str().unwrap()]);
    assert_eq!(repo.show(&from_file)["body"], "# From a file\n\n- item\n");

    let out = support::agentry_with(
        repo.path(),
        &["issue", "add", "From stdin", "--body-file", "-", "--json"],
        &[],
        Some("piped body\nline two\n"),
    );
    let issue = json_of(&out);
    assert_eq!(issue["body"], "piped body\nline two\n");
    assert_eq!(
        repo.show(issue["id"].as_str().unwrap())["body"],
        "piped body\nline two\n"
    );

    let both = repo.run(&["issue", "add", "Both", "--body", "x", "--body-file", "-"]);
    assert_refused(&both, &["--body"]);
}

#[test]
fn issue_show_json_has_links_and_events_starting_with_creation() {
    let repo = Repo::initialized();
    let id = repo.add("Shown", &["--priority", "3"]);
    let detail = repo.show(&id);
    let mut expected: HashSet<String> = ISSUE_KEYS.iter().map(|k| k.to_string()).collect();
    expected.extend(["links", "events", "runs", "question"].map(String::from));
    assert_eq!(keys(&detail), expected);
    assert_eq!(detail["question"], Value::Null);
    assert_eq!(detail["links"], json!([]));
    assert_eq!(detail["runs"], json!([]));
    let events = detail["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    let created = &events[0];
    assert_eq!(created["event_type"], "ISSUE_CREATED");
    assert_eq!(created["issue_id"], id.as_str());
    assert_eq!(created["data"]["title"], "Shown");
    assert_eq!(created["data"]["priority"], 3);
    assert_utc(&created["created_at"]);
}

// 5. refusals

#[test]
fn show_of_an_unknown_issue_is_refused() {
    let repo = Repo::initialized();
    assert_refused(
        &repo.run(&["issue", "show", "i-zzzz"]),
        &["no issue i-zzzz"],
    );
    assert_refused(
        &repo.run(&["issue", "close", "i-zzzz"]),
        &["no issue i-zzzz"],
    );
}

#[test]
fn a_malformed_issue_id_is_refused() {
    let repo = Repo::initialized();
    for bad in ["I-ABC", "bd-12", "i-"] {
        let out = repo.run(&["issue", "show", bad]);
        assert_refused(&out, &["not an issue id", bad]);
    }
}

#[test]
fn a_priority_outside_0_to_4_is_refused() {
    let repo = Repo::initialized();
    let out = repo.run(&["issue", "add", "Too urgent", "--priority", "7"]);
    assert_refused(&out, &["priority must be 0 to 4", "7"]);
    let id = repo.add("Fine", &[]);
    let out = repo.run(&["issue", "update", &id, "--priority", "7"]);
    assert_refused(&out, &["priority must be 0 to 4"]);
    assert_eq!(repo.show(&id)["priority"], 2);
    assert_eq!(
        repo.json(&["issue", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn an_illegal_status_transition_names_both_statuses() {
    let repo = Repo::initialized();
    let id = repo.add("Done soon", &[]);
    assert_eq!(repo.ok(&["issue", "close", &id]), format!("closed {id}\n"));
    let out = repo.run(&["issue", "update", &id, "--status", "in_progress"]);
    let line = assert_refused(&out, &["closed", "in_progress"]);
    assert!(line.contains("closed → in_progress"), "{line}");
    assert_eq!(repo.show(&id)["status"], "closed");
}

#[test]
fn an_unknown_config_key_in_the_file_is_named() {
    let repo = Repo::initialized();
    let config = repo.read(".agentry/config.toml");
    let rewritten = config.replacen("[scheduling]\n", "[scheduling]\nworkers = 3\n", 1);
    assert_ne!(rewritten, config, "the config has a [scheduling] table");
    std::fs::write(repo.file(".agentry/config.toml"), rewritten).unwrap();
    for args in [&["config", "validate"][..], &["issue", "list"]] {
        let out = repo.run(args);
        assert_refused(
            &out,
            &["unknown config key", "scheduling.workers", "config.toml"],
        );
    }
}

#[test]
fn a_bad_backend_from_the_environment_names_key_value_and_choices() {
    let repo = Repo::initialized();
    for args in [&["ready"][..], &["config", "validate"]] {
        let out = repo.run_env(args, &[("SCHEDULING__BACKEND", "fast")]);
        assert_refused(
            &out,
            &[
                "scheduling.backend",
                "fast",
                "async, sequential",
                "SCHEDULING__BACKEND",
            ],
        );
    }
}

#[test]
fn depends_on_an_unknown_issue_creates_nothing() {
    let repo = Repo::initialized();
    let out = repo.run(&["issue", "add", "Orphan", "--depends-on", "i-nothere"]);
    assert_refused(&out, &["no issue i-nothere"]);
    assert_eq!(repo.json(&["issue", "list", "--json"]), json!([]));
}

#[test]
fn a_dependency_cycle_via_link_is_refused() {
    let repo = Repo::initialized();
    let a = repo.add("A", &[]);
    let b = repo.add("B", &[]);
    let c = repo.add("C", &[]);
    assert_eq!(
        repo.ok(&["issue", "link", &a, &b]),
        format!("linked: {a} depends-on {b}\n")
    );
    repo.ok(&["issue", "link", &b, &c]);

    let out = repo.run(&["issue", "link", &c, &a]);
    assert_refused(&out, &["cycle", &a, &c]);
    assert_refused(&repo.run(&["issue", "link", &a, &a]), &["itself"]);
    assert_eq!(
        repo.show(&c)["links"],
        json!([{"src": b, "kind": "depends-on", "dst": c}])
    );
}

// 6. list, update, close, reopen, link

#[test]
fn issue_list_filters_by_status_and_label() {
    let repo = Repo::initialized();
    let open_ui = repo.add("Open UI", &["--label", "ui"]);
    let closed_ui = repo.add("Closed UI", &["--label", "ui", "--label", "bug"]);
    let open_api = repo.add("Open API", &["--label", "api"]);
    repo.ok(&["issue", "close", &closed_ui]);

    let all = ids(&repo.json(&["issue", "list", "--json"]));
    assert_eq!(all.len(), 3);
    let as_set = |list: Vec<String>| list.into_iter().collect::<HashSet<_>>();
    assert_eq!(
        as_set(ids(
            &repo.json(&["issue", "list", "--status", "open", "--json"])
        )),
        as_set(vec![open_ui.clone(), open_api.clone()])
    );
    assert_eq!(
        ids(&repo.json(&["issue", "list", "--status", "closed", "--json"])),
        [closed_ui.as_str()]
    );
    assert_eq!(
        repo.json(&["issue", "list", "--status", "blocked", "--json"]),
        json!([])
    );
    assert_eq!(
        as_set(ids(
            &repo.json(&["issue", "list", "--label", "ui", "--json"])
        )),
        as_set(vec![open_ui.clone(), closed_ui.clone()])
    );
    assert_eq!(
        ids(&repo.json(&[
            "issue", "list", "--label", "ui", "--status", "open", "--json"
        ])),
        [open_ui]
    );
    assert_eq!(
        repo.json(&["issue", "list", "--label", "u", "--json"]),
        json!([])
    );
    assert_refused(&repo.run(&["issue", "list", "--status", "done"]), &["done"]);
}

#[test]
fn issue_update_changes_fields_and_labels() {
    let repo = Repo::initialized();
    let id = repo.add(
        "Old title",
        &[
            "--label",
            "keep",
            "--label",
            "drop",
            "--scope",
            "old/**",
            "--verify",
            "old check",
        ],
    );
    let updated = repo.json(&[
        "issue",
        "update",
        &id,
        "--title",
        "New title",
        "--body",
        "New body",
        "--priority",
        "1",
        "--add-label",
        "added",
        "--add-label",
        "keep",
        "--remove-label",
        "drop",
        "--scope",
        "new/**",
        "--verify",
        "make test",
        "--done-when",
        "it works",
        "--not-your-job",
        "docs",
        "--json",
    ]);
    let shown = repo.show(&id);
    for issue in [&updated, &shown] {
        assert_eq!(issue["title"], "New title");
        assert_eq!(issue["body"], "New body");
        assert_eq!(issue["priority"], 1);
        assert_eq!(strings(&issue["labels"]), ["keep", "added"]);
        assert_eq!(strings(&issue["scope"]), ["new/**"]);
        assert_eq!(strings(&issue["verify"]), ["make test"]);
        assert_eq!(strings(&issue["done_when"]), ["it works"]);
        assert_eq!(strings(&issue["not_your_job"]), ["docs"]);
        assert_eq!(issue["status"], "open");
    }
    assert_utc(&shown["updated_at"]);
    assert!(shown["updated_at"].as_str() > shown["created_at"].as_str());
    assert_eq!(event_types(&shown), ["ISSUE_CREATED", "ISSUE_UPDATED"]);

    assert_eq!(
        repo.ok(&["issue", "update", &id, "--title", "Third"]),
        format!("updated {id}\n")
    );
    assert_refused(&repo.run(&["issue", "update", &id]), &["nothing to update"]);
}

#[test]
fn close_then_reopen_records_status_changes_with_from_and_to() {
    let repo = Repo::initialized();
    let id = repo.add("Flip-flop", &[]);
    let closed = repo.json(&["issue", "close", &id, "--reason", "done", "--json"]);
    assert_eq!(closed["status"], "closed");
    assert_eq!(
        repo.ok(&["issue", "reopen", &id]),
        format!("reopened {id}\n")
    );
    let shown = repo.show(&id);
    assert_eq!(shown["status"], "open");
    assert_eq!(
        event_types(&shown),
        ["ISSUE_CREATED", "STATUS_CHANGED", "STATUS_CHANGED"]
    );
    assert_eq!(
        status_changes(&shown),
        [
            ("open".to_string(), "closed".to_string()),
            ("closed".to_string(), "open".to_string())
        ]
    );
    assert_eq!(shown["events"][1]["data"]["reason"], "done");
    assert_refused(&repo.run(&["issue", "reopen", &id]), &["open → open"]);
}

#[test]
fn a_dependency_holds_an_issue_out_of_ready_until_closed() {
    let repo = Repo::initialized();
    let a = repo.add("A needs B", &[]);
    let b = repo.add("B", &[]);
    repo.ok(&["issue", "link", &a, &b]);
    assert_eq!(
        repo.ok(&["issue", "link", &a, &b]),
        format!("already linked: {a} depends-on {b}\n")
    );

    assert_eq!(repo.ready_ids(&[]), [b.as_str()]);
    repo.ok(&["issue", "close", &b]);
    assert_eq!(repo.ready_ids(&[]), [a.as_str()]);

    let link = json!({"src": a, "kind": "depends-on", "dst": b});
    assert_eq!(repo.show(&a)["links"], json!([link]));
    assert_eq!(
        repo.show(&b)["links"],
        json!([link]),
        "show lists incoming links too"
    );
    assert!(event_types(&repo.show(&a)).contains(&"LINK_ADDED".to_string()));
}

#[test]
fn a_related_link_is_recorded_and_holds_nothing_back() {
    let repo = Repo::initialized();
    let a = repo.add("A", &[]);
    let b = repo.add("B", &[]);
    let out = repo.ok(&["issue", "link", &a, &b, "--kind", "related"]);
    assert_eq!(out, format!("linked: {a} related {b}\n"));
    assert_eq!(
        repo.show(&a)["links"],
        json!([{"src": a, "kind": "related", "dst": b}])
    );
    let ready: HashSet<String> = repo.ready_ids(&[]).into_iter().collect();
    assert_eq!(ready, HashSet::from([a.clone(), b.clone()]));

    let out = repo.ok(&["issue", "link", &a, &b, "--kind", "related", "--remove"]);
    assert_eq!(out, format!("unlinked: {a} related {b}\n"));
    assert_eq!(repo.show(&a)["links"], json!([]));
    assert_refused(
        &repo.run(&["issue", "link", &a, &b, "--kind", "blocks"]),
        &["blocks"],
    );
}

// 7. the ready queue

/// Issues whose ready order is known: returns (repo, ids in the expected order).
fn queue() -> (Repo, Vec<String>) {
    let repo = Repo::initialized();
    // Created newest-ready first, so that creation order is not the expected order.
    let newest = repo.add("p2, ready 3 Jan", &[]);
    let tie_a = repo.add("p2, ready 2 Jan", &[]);
    let tie_b = repo.add("p2, ready 2 Jan too", &[]);
    let oldest = repo.add("p2, ready 1 Jan", &[]);
    let urgent = repo.add("p1, ready now", &["--priority", "1"]);
    for (id, at) in [
        (&newest, "2020-01-03T00:00:00Z"),
        (&tie_a, "2020-01-02T00:00:00Z"),
        (&tie_b, "2020-01-02T01:00:00+01:00"),
        (&oldest, "2020-01-01T00:00:00Z"),
    ] {
        repo.ok(&["issue", "update", id, "--ready-at", at]);
    }
    let (first_tie, second_tie) = if tie_a < tie_b {
        (tie_a, tie_b)
    } else {
        (tie_b, tie_a)
    };
    (repo, vec![urgent, oldest, first_tie, second_tie, newest])
}

#[test]
fn ready_orders_by_priority_then_oldest_ready_at_then_id() {
    let (repo, expected) = queue();
    let ready = repo.json(&["ready", "--json"]);
    assert_eq!(ids(&ready), expected);
    assert_eq!(ready[2]["ready_at"], "2020-01-02T00:00:00.000000Z");
    assert_eq!(
        ready[3]["ready_at"], "2020-01-02T00:00:00.000000Z",
        "the offset is converted to UTC"
    );
}

#[test]
fn ready_limit_truncates_the_queue() {
    let (repo, expected) = queue();
    assert_eq!(repo.ready_ids(&["--limit", "2"]), expected[..2]);
    assert_eq!(repo.ready_ids(&["--limit", "0"]), Vec::<String>::new());
    assert_eq!(repo.ready_ids(&["--limit", "100"]), expected);
}

#[test]
fn future_ready_at_and_in_progress_issues_are_not_ready() {
    let repo = Repo::initialized();
    let waiting = repo.add("Later", &["--priority", "0"]);
    let busy = repo.add("Being worked on", &["--priority", "0"]);
    let free = repo.add("Free", &["--priority", "4"]);
    repo.ok(&[
        "issue",
        "update",
        &waiting,
        "--ready-at",
        "2999-01-01T00:00:00Z",
    ]);
    repo.ok(&["issue", "update", &busy, "--status", "in_progress"]);
    assert_eq!(repo.show(&busy)["status"], "in_progress");
    assert_eq!(repo.ready_ids(&[]), [free]);

    repo.ok(&[
        "issue",
        "update",
        &waiting,
        "--ready-at",
        "2000-01-01T00:00:00Z",
    ]);
    assert_eq!(repo.ready_ids(&["--limit", "1"]), [waiting]);
}

// 8. export and import

#[test]
fn export_then_import_into_a_fresh_repository_reproduces_the_export() {
    let source = Repo::initialized();
    let epic = source.add(
        "Epic",
        &["--body", "multi\nline\n\"quoted\" é", "--label", "epic"],
    );
    let part = source.add(
        "Part",
        &[
            "--priority",
            "0",
            "--scope",
            "src/**",
            "--verify",
            "cargo test",
            "--depends-on",
            &epic,
        ],
    );
    let note = source.add(
        "Note",
        &["--done-when", "read", "--not-your-job", "writing"],
    );
    let done = source.add("Done", &[]);
    source.ok(&["issue", "link", &part, &epic, "--kind", "parent"]);
    source.ok(&["issue", "link", &note, &part, "--kind", "related"]);
    source.ok(&["issue", "close", &done]);
    source.ok(&[
        "issue",
        "update",
        &note,
        "--ready-at",
        "2021-06-01T12:00:00Z",
    ]);

    let exported = source.ok(&["issue", "export"]);
    assert_eq!(exported.lines().count(), 4);
    for line in exported.lines() {
        let value: Value = serde_json::from_str(line).unwrap();
        assert!(value.get("links").is_some(), "{line}");
    }
    let file = source.file("export.jsonl");
    std::fs::write(&file, &exported).unwrap();

    let target = Repo::initialized();
    let out = target.ok(&["issue", "import", file.to_str().unwrap()]);
    assert_eq!(
        out,
        format!(
            "imported 4 issues and 3 links from {}; skipped 0 issues and 0 links\n",
            file.display()
        )
    );
    assert_eq!(target.ok(&["issue", "export"]), exported);
    assert_eq!(event_types(&target.show(&part)), ["ISSUE_IMPORTED"]);
}

#[test]
fn importing_the_same_export_again_takes_nothing_and_reports_the_skips() {
    let repo = Repo::initialized();
    let a = repo.add("A", &[]);
    let b = repo.add("B", &["--depends-on", &a]);
    let exported = repo.ok(&["issue", "export"]);
    let file = repo.file("export.jsonl");
    std::fs::write(&file, &exported).unwrap();

    let out = repo.ok(&["issue", "import", file.to_str().unwrap()]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "imported 0 issues and 0 links from {}; skipped 2 issues and 0 links",
            file.display()
        )
    );
    assert_eq!(lines.len(), 3, "{out}");
    let mut skipped_ids = HashSet::new();
    for line in &lines[1..] {
        assert!(line.starts_with("  skipped issue on line "), "{line}");
        assert!(line.ends_with(": already in the store"), "{line}");
        skipped_ids.extend(
            [&a, &b]
                .into_iter()
                .filter(|id| line.contains(&format!("({id})"))),
        );
    }
    assert_eq!(skipped_ids.len(), 2, "{out}");

    let report = repo.json(&["issue", "import", file.to_str().unwrap(), "--json"]);
    assert_eq!(report["taken"], 0);
    assert_eq!(report["links_taken"], 0);
    assert_eq!(report["skipped"].as_array().unwrap().len(), 2);
    assert_eq!(report["skipped"][0]["reason"], "already in the store");
    assert_eq!(
        repo.ok(&["issue", "export"]),
        exported,
        "the store is unchanged"
    );
}

// 9. beads

const BEADS: &str = r#"{"id":"bd-a1b2","title":"Offline mode","description":"Work without a network.","status":"open","priority":1,"issue_type":"epic","created_at":"2025-12-08T09:14:22.481203-08:00","updated_at":"2025-12-12T16:02:51.907114-08:00","labels":["mobile"]}
{"id":"bd-a1b2.1","title":"Queue writes","description":"Keep changes locally.","status":"open","priority":2,"issue_type":"task","created_at":"2025-12-08T09:15:02.117845-08:00","updated_at":"2025-12-09T11:40:33.562019-08:00","dependencies":[{"issue_id":"bd-a1b2.1","depends_on_id":"bd-a1b2","type":"parent-child","created_at":"2025-12-08T09:15:02.118301-08:00"}]}
{"id":"bd-c3d4","title":"Replay the queue","status":"in_progress","priority":2,"issue_type":"task","created_at":"2025-12-08T09:16:00.000000-08:00","updated_at":"2025-12-10T09:00:00.000000-08:00","assignee":"sam","dependencies":[{"issue_id":"bd-c3d4","depends_on_id":"bd-a1b2.1","type":"blocks","created_at":"2025-12-08T09:16:00.500000-08:00"}]}
{"id":"bd-e5f6","title":"Old idea","status":"tombstone","priority":3,"issue_type":"task","created_at":"2025-12-01T08:00:00-08:00","updated_at":"2025-12-02T08:00:00-08:00"}
"#;

/// The one issue carrying `beads:<beads_id>`.
fn imported(repo: &Repo, beads_id: &str) -> Value {
    let label = format!("beads:{beads_id}");
    let list = repo.json(&["issue", "list", "--label", &label, "--json"]);
    let found = list.as_array().unwrap();
    assert_eq!(found.len(), 1, "one issue has the label {label}: {list}");
    found[0].clone()
}

#[test]
fn a_beads_file_is_imported_with_its_ids_as_labels_and_its_dependencies_as_links() {
    let repo = Repo::initialized();
    let file = repo.file("issues.jsonl");
    std::fs::write(&file, BEADS).unwrap();

    let out = repo.ok(&["issue", "import", file.to_str().unwrap()]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            format!(
                "imported 3 issues and 2 links from {}; skipped 1 issues and 0 links",
                file.display()
            ),
            "  skipped issue on line 4 (bd-e5f6): deleted in beads (tombstone)".to_string(),
        ]
    );

    let epic = imported(&repo, "bd-a1b2");
    let child = imported(&repo, "bd-a1b2.1");
    let blocked = imported(&repo, "bd-c3d4");
    assert_eq!(strings(&epic["labels"]), ["beads:bd-a1b2", "mobile"]);
    assert_eq!(epic["title"], "Offline mode");
    assert_eq!(epic["body"], "Work without a network.");
    assert_eq!(epic["priority"], 1);
    assert_eq!(epic["created_at"], "2025-12-08T17:14:22.481203Z");
    assert_eq!(epic["updated_at"], "2025-12-13T00:02:51.907114Z");
    assert_eq!(
        blocked["status"], "open",
        "beads in_progress goes back to the queue"
    );
    assert_eq!(
        repo.json(&["issue", "list", "--label", "beads:bd-e5f6", "--json"]),
        json!([])
    );

    let (epic_id, child_id, blocked_id) = (&epic["id"], &child["id"], &blocked["id"]);
    let blocked_links = repo.show(blocked_id.as_str().unwrap())["links"].clone();
    assert_eq!(
        blocked_links,
        json!([{"src": blocked_id, "kind": "depends-on", "dst": child_id}])
    );
    let child_links = repo.show(child_id.as_str().unwrap())["links"].clone();
    let child_links: HashSet<String> = child_links
        .as_array()
        .unwrap()
        .iter()
        .map(Value::to_string)
        .collect();
    let expected: HashSet<String> = [
        json!({"src": child_id, "kind": "parent", "dst": epic_id}),
        json!({"src": blocked_id, "kind": "depends-on", "dst": child_id}),
    ]
    .iter()
    .map(Value::to_string)
    .collect();
    assert_eq!(child_links, expected);

    let ready = repo.ready_ids(&[]);
    assert!(
        !ready.contains(&blocked_id.as_str().unwrap().to_string()),
        "{ready:?}"
    );
    assert_eq!(ready.len(), 2, "{ready:?}");

    let again = repo.ok(&["issue", "import", file.to_str().unwrap()]);
    assert!(
        again.starts_with("imported 0 issues and 0 links"),
        "{again}"
    );
    assert!(again.contains(&format!(
        "(bd-a1b2): already imported as {}",
        epic_id.as_str().unwrap()
    )));
}

// 10. a malformed line

#[test]
fn a_malformed_line_fails_the_whole_import() {
    let repo = Repo::initialized();
    let file = repo.file("broken.jsonl");
    std::fs::write(
        &file,
        "{\"title\":\"first\"}\n{\"title\":\"second\"}\n{\"title\": oops\n{\"title\":\"fourth\"}\n",
    )
    .unwrap();
    let out = repo.run(&["issue", "import", file.to_str().unwrap()]);
    assert_refused(&out, &["line 3", "not imported"]);
    assert_eq!(repo.json(&["issue", "list", "--json"]), json!([]));

    let piped = support::agentry_with(
        repo.path(),
        &["issue", "import", "-"],
        &[],
        Some("{\"title\":\"ok\"}\n{\"title\":\"x\",\"priority\":9}\n"),
    );
    assert_refused(&piped, &["line 2", "priority"]);
    assert_eq!(repo.json(&["issue", "list", "--json"]), json!([]));
}

// 11. config

#[test]
fn config_show_json_reflects_the_environment() {
    let repo = Repo::initialized();
    let defaults = repo.json(&["config", "show", "--json"]);
    assert_eq!(defaults["scheduling"]["backend"], "async");
    assert_eq!(defaults["planning"]["enabled"], true);

    let out = repo.run_env(
        &["config", "show", "--json"],
        &[
            ("PLANNING__ENABLED", "false"),
            ("SCHEDULING__BACKEND", "sequential"),
        ],
    );
    let config = json_of(&out);
    assert_eq!(config["planning"]["enabled"], false);
    assert_eq!(config["scheduling"]["backend"], "sequential");
    assert_eq!(config["scheduling"]["max_workers"], 4);
    assert_eq!(config["store"]["path"], ".agentry/agentry.db");
    assert_eq!(config["session"]["base_branch"], "main");
    let mut expected = defaults.clone();
    expected["planning"]["enabled"] = json!(false);
    expected["scheduling"]["backend"] = json!("sequential");
    assert_eq!(config, expected, "only the overridden settings change");
}

#[test]
fn config_validate_accepts_the_default_file() {
    let repo = Repo::initialized();
    let out = repo.run(&["config", "validate"]);
    let text = assert_ok(&out);
    assert!(text.ends_with(" is valid\n"), "{text}");
    assert!(text.contains(".agentry/config.toml"), "{text}");
    assert!(stdout(&out).lines().count() == 1);
}

#[test]
fn a_refused_init_writes_nothing() {
    let repo = Repo::new();
    let out = repo.run_env(&["init"], &[("SCHEDULING__BACKEND", "fast")]);
    assert_refused(&out, &["scheduling.backend", "fast"]);
    assert!(
        !repo.file(".agentry").exists(),
        "a refused init left .agentry behind"
    );
}

#[test]
fn a_time_outside_the_years_0001_to_9999_is_refused_and_changes_nothing() {
    let repo = Repo::initialized();
    let id = repo.add("Far future", &[]);
    for outside in ["9999-12-31T23:59:59-01:00", "0000-01-01T00:00:00+01:00"] {
        let out = repo.run(&["issue", "update", &id, "--ready-at", outside]);
        assert_refused(&out, &["outside the years 0001 to 9999"]);
    }
    let line = r#"{"title":"far","created_at":"9999-12-31T23:59:59-01:00"}"#;
    std::fs::write(repo.file("far.jsonl"), format!("{line}\n")).unwrap();
    let out = repo.run(&["issue", "import", "far.jsonl"]);
    assert_refused(&out, &["line 1", "created_at"]);
    assert_eq!(ids(&repo.json(&["ready", "--json"])), vec![id]);
}

#[test]
fn the_text_table_lines_up_its_columns() {
    let repo = Repo::initialized();
    let first = repo.add("first", &[]);
    let second = repo.add("second", &[]);
    repo.ok(&["issue", "update", &second, "--status", "in_progress"]);
    let table = repo.ok(&["issue", "list"]);
    let title_columns: Vec<usize> = table
        .lines()
        .map(|l| l.find("first").or(l.find("second")).unwrap())
        .collect();
    assert_eq!(title_columns[0], title_columns[1], "{table}");
    assert!(table.contains(&first));
}

#[test]
fn doctor_names_what_to_fix_and_exits_1_until_it_is_fixed() {
    let repo = Repo::initialized();
    let out = repo.run(&["doctor", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let checks: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let failing: Vec<&str> = checks
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["what"].as_str().unwrap())
        .collect();
    let roles = [
        "role implementer",
        "role fixer",
        "role spec_reviewer",
        "role quality_reviewer",
    ];
    assert_eq!(failing, roles);
    let with_agent = |program: &str| {
        let config: String = repo
            .read(".agentry/config.toml")
            .lines()
            .take_while(|line| !line.starts_with("[agents.tool]"))
            .map(|line| match line.split_once(" = ") {
                Some((role @ ("implementer" | "spec_reviewer" | "quality_reviewer"), _)) => {
                    format!("{role} = \"tool\"\n")
                }
                _ => format!("{line}\n"),
            })
            .collect();
        let agent = format!("[agents.tool]\nkind = \"command\"\ncommand = [\"{program}\"]\n");
        std::fs::write(repo.file(".agentry/config.toml"), config + &agent).unwrap();
        repo.run(&["doctor"])
    };
    let out = with_agent("no-such-agent-program");
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("FIX  agent tool"), "{}", stdout(&out));
    let text = assert_ok(&with_agent("git"));
    assert!(text.lines().all(|line| line.starts_with("ok ")), "{text}");
    assert!(
        text.contains("agent tool") && text.contains("git version"),
        "{text}"
    );
}

#[test]
fn config_show_never_prints_the_service_token() {
    let repo = Repo::initialized();
    let env = [("SERVER__SERVICE_TOKEN", "s3cret-token")];
    let shown = repo.run_env(&["config", "show", "--json"], &env);
    let config: Value = serde_json::from_str(&stdout(&shown)).unwrap();
    assert_eq!(config["server"]["service_token"], "(set, hidden)");
    let text = stdout(&repo.run_env(&["config", "show"], &env));
    assert!(!text.contains("s3cret-token"), "{text}");
}

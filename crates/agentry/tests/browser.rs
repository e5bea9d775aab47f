//! The dashboard in a real headless Chromium: `tests/browser/dashboard.mjs` (Playwright) opens
//! the dashboard URL a running `agentry serve` printed (with the token it made) and drives the
//! page while an issue crosses the board from open through in progress to needs review, and
//! uses its panels and forms, the answer to a question among them.
//!
//! It needs Chromium and `npm ci` in tests/browser (`scripts/install-browser.sh`). Without them
//! it is skipped with the reason, unless `AGENTRY_REQUIRE_BROWSER=1` (CI), where it fails.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use agentry_core::{EventType, Timestamp};
use agentry_store::{SqliteStore, Store};

use support::{Repo, Serve, git};

const PASS: &str = r#"{ say = "Looks right.\n```json\n{\"verdict\": \"pass\", \"failed_items\": [], \"fix_list\": []}\n```" }"#;

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser")
}

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_string())
}

/// Why the test cannot run on this machine, if it cannot.
fn missing() -> Option<String> {
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|out| out.status.success()) {
        return Some("node is not installed".to_string());
    }
    if !Path::new(&chromium()).exists() {
        return Some(format!("{} is not installed", chromium()));
    }
    if !browser_dir().join("node_modules/playwright-core").is_dir() {
        return Some("tests/browser has no node_modules (npm ci)".to_string());
    }
    None
}

/// A project whose implementer waits until something is written to the FIFO `gate`, then
/// writes done.txt; scripted reviewers pass it. The gate's folder is the agent's to use, as
/// its sandbox hides the rest of `/tmp`.
fn project(gate: &Path) -> Repo {
    let repo = Repo::new();
    std::fs::write(repo.file("README.md"), "# a test project\n").unwrap();
    git(repo.path(), &["add", "README.md"]);
    git(repo.path(), &["commit", "-q", "-m", "initial commit"]);
    support::assert_ok(&repo.run(&["init"]));
    let reviewers: String = ["spec_reviewer", "quality_reviewer"]
        .iter()
        .map(|role| format!("[[rule]]\nrole = {role:?}\nissue = \"*\"\nturns = [[{PASS}]]\n\n"))
        .collect();
    std::fs::write(repo.file("reviewers.toml"), reviewers).unwrap();
    let wait_then_write = "read go < \"$0\" && echo done > done.txt";
    repo.append_config(&format!(
        "[agents.gated]\nkind = \"command\"\ncommand = [\"sh\", \"-c\", {wait_then_write:?}, {:?}]\nwritable = [{:?}]\n\n\
         [agents.reviewers]\nkind = \"scripted\"\nscript = \"reviewers.toml\"\n",
        gate.display(),
        gate.parent().expect("the gate is in a folder").display()
    ));
    repo.set_config("implementer", "\"gated\"");
    repo.set_config("spec_reviewer", "\"reviewers\"");
    repo.set_config("quality_reviewer", "\"reviewers\"");
    repo
}

/// An issue blocked on a question, as an implementer's blocking question packet leaves it.
fn asking_issue(repo: &Repo) -> String {
    let id = repo.add("pick a greeting", &[]);
    repo.ok(&[
        "issue",
        "update",
        &id,
        "--status",
        "blocked",
        "--reason",
        "the implementer asked a blocking question",
    ]);
    let store = SqliteStore::open(&repo.file(".agentry/agentry.db"), Duration::from_secs(5))
        .expect("the store opens");
    let question = serde_json::json!({
        "question": "Which greeting should the page use?",
        "context": "The issue does not say.",
        "files": [],
        "options": ["hello", "hi"],
        "recommended": "hello",
        "blocking": true,
    });
    let issue = id.parse().expect("an issue id");
    store
        .append_event(
            &issue,
            EventType::QuestionAsked,
            &question,
            Timestamp::now(),
        )
        .expect("the question is recorded");
    id
}

#[test]
fn an_issue_crosses_the_dashboard_in_a_real_browser() {
    if let Some(reason) = missing() {
        let required = std::env::var("AGENTRY_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "AGENTRY_REQUIRE_BROWSER=1 but {reason}: run scripts/install-browser.sh"
        );
        eprintln!("skipping the browser test: {reason} (scripts/install-browser.sh installs it)");
        return;
    }
    let fifo_dir = tempfile::tempdir().unwrap();
    let gate = fifo_dir.path().join("gate");
    let made = Command::new("mkfifo")
        .arg(&gate)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo {}", gate.display());
    let repo = project(&gate);
    let blocker = repo.add("the dependency that holds the new issue in open", &[]);
    repo.ok(&[
        "issue",
        "update",
        &blocker,
        "--status",
        "blocked",
        "--reason",
        "the test opens it",
    ]);
    let asking = asking_issue(&repo);
    let mut server = Serve::start(
        &repo,
        &[],
        // On drop, stop the agent of an unfinished session at once.
        &[("SCHEDULING__SHUTDOWN_GRACE_SECS", "0")],
    );
    let token = server.token.clone().expect("the server made a token");
    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-artifacts/dashboard.png");
    let out = Command::new("node")
        .arg("dashboard.mjs")
        .arg(server.dashboard_url())
        .current_dir(browser_dir())
        .env("CHROMIUM", chromium())
        .env("DASHBOARD_TOKEN", token)
        .env("DASHBOARD_BLOCKER", &blocker)
        .env("DASHBOARD_ASKING", &asking)
        .env("DASHBOARD_GATE", &gate)
        .env("DASHBOARD_SCREENSHOT", &screenshot)
        .output()
        .expect("node runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the dashboard test failed:\n{report}");
    println!("{report}");
}

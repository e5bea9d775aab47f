//! Whole sessions whose implementer is the real `claude` CLI, pointed at the scripted model
//! server: edits land in the worktree, usage and cost are recorded, rate limits and budgets end
//! the session with their reasons. Skipped, with a note, where claude is not installed
//! (scripts/install-agent-clis.sh installs it; `AGENTRY_REQUIRE_AGENT_CLIS=1` makes that a
//! failure, as in CI).

mod support;

use std::path::Path;

use agentry_testkit::{ModelServer, Reply, claude_or_skip};
use serde_json::{Value, json};
use support::{Repo, git};

const PASSING_REVIEWS: &str = r#"
[[rule]]
role = "spec_reviewer"
issue = "*"
turns = [[{ say = "```json\n{\"verdict\": \"pass\"}\n```" }]]

[[rule]]
role = "quality_reviewer"
issue = "*"
turns = [[{ say = "```json\n{\"verdict\": \"pass\"}\n```" }]]
"#;

/// A model server and a repository whose implementer is claude, pointed at it; the
/// reviewers are scripted to pass. `None` when claude is not installed.
struct ClaudeProject {
    repo: Repo,
    server: ModelServer,
    _runtime: tokio::runtime::Runtime,
}

impl ClaudeProject {
    /// `replies` gets the repository's path, so that a reply can name a file in a worktree.
    fn new(replies: impl FnOnce(&Path) -> Vec<Reply>, budgets: &str) -> Option<Self> {
        let claude = claude_or_skip()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let repo = Repo::new();
        let server = runtime.block_on(ModelServer::start(replies(repo.path())));
        std::fs::write(repo.file("README"), "project\n").unwrap();
        git(repo.path(), &["add", "."]);
        git(repo.path(), &["commit", "-q", "-m", "start"]);
        support::assert_ok(&repo.run(&["init"]));
        std::fs::write(repo.file("reviews.toml"), PASSING_REVIEWS).unwrap();
        configure(&repo, &claude, &server, budgets);
        Some(Self {
            repo,
            server,
            _runtime: runtime,
        })
    }

    fn run_until_idle(&self, extra: &[&str]) -> Value {
        let args = [&["run", "--until-idle", "--json"][..], extra].concat();
        support::json_of(&self.repo.run_env(&args, &[("AGENTRY_LOG", "error")]))
    }
}

fn configure(repo: &Repo, claude: &Path, server: &ModelServer, budgets: &str) {
    let sealed = repo.path().join(".claude-sealed");
    for dir in ["home", "tmp"] {
        std::fs::create_dir_all(sealed.join(dir)).unwrap();
    }
    let config_path = repo.file(".agentry/config.toml");
    let config = std::fs::read_to_string(&config_path).unwrap();
    let mut text: String = config
        .lines()
        .map(|line| match line.split_once(" = ") {
            Some(("implementer", _)) => "implementer = \"claude\"".to_string(),
            Some(("spec_reviewer" | "quality_reviewer", _)) => {
                format!("{} = \"rev\"", line.split_once(" = ").unwrap().0)
            }
            Some(("per_session_usd" | "per_day_usd", _)) => budget_line(line, budgets),
            _ => line.to_string(),
        })
        .map(|line| line + "\n")
        .collect();
    text.push_str(&format!(
        r#"
[agents.claude]
kind = "claude"
program = "{claude}"
model = "claude-sonnet-4-5"
timeout_secs = 120
pass_env = ["PATH"]
env = {{ HOME = "{home}", TMPDIR = "{tmp}", ANTHROPIC_BASE_URL = "{url}", ANTHROPIC_API_KEY = "test-key", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = "1", IS_SANDBOX = "1", CLAUDE_CODE_MAX_RETRIES = "0" }}

[agents.rev]
kind = "scripted"
script = "reviews.toml"
"#,
        claude = claude.display(),
        home = sealed.join("home").display(),
        tmp = sealed.join("tmp").display(),
        url = server.base_url(),
    ));
    std::fs::write(config_path, text).unwrap();
}

/// The budget line `budgets` sets (`per_session_usd = 0.001`), or `line` as it is.
fn budget_line(line: &str, budgets: &str) -> String {
    let key = line.split_once(" = ").unwrap().0;
    budgets
        .lines()
        .find(|b| b.starts_with(key))
        .unwrap_or(line)
        .to_string()
}

/// Adds an issue with a known id, so that its worktree's path is known before it runs.
fn import_issue(repo: &Repo, line: &str) {
    std::fs::write(repo.file("issue.jsonl"), format!("{line}\n")).unwrap();
    support::assert_ok(&repo.run(&["issue", "import", "issue.jsonl"]));
}

fn session_error(repo: &Repo, id: &str) -> String {
    let show = repo.show(id);
    let events = show["events"].as_array().unwrap();
    let error = events
        .iter()
        .rev()
        .find(|e| e["event_type"] == "SESSION_ERROR")
        .expect("a SESSION_ERROR");
    error["data"]["failed_items"][0]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn claude_implements_an_issue_whose_verify_and_reviews_pass() {
    let id = "i-hello";
    let write = |repo: &Path| {
        let path = repo.join(".agentry/worktrees").join(id).join("hello.txt");
        let input = json!({"file_path": path.display().to_string(), "content": "hello\n"});
        vec![
            Reply::Tool {
                name: "Write".into(),
                input,
            },
            Reply::Text("Wrote hello.txt.".into()),
        ]
    };
    let Some(project) = ClaudeProject::new(write, "") else {
        return;
    };
    import_issue(
        &project.repo,
        r#"{"id":"i-hello","title":"Say hello","scope":["hello.txt"],"verify":["grep -q hello hello.txt"]}"#,
    );
    let summary = project.run_until_idle(&[]);
    assert_eq!(summary["outcomes"], json!({"done": 1}), "{summary}");
    let branch_files = support::git_stdout(
        project.repo.path(),
        &["ls-tree", "-r", "--name-only", "agentry/i-hello"],
    );
    assert!(
        branch_files.lines().any(|f| f == "hello.txt"),
        "{branch_files}"
    );
    let runs = project.repo.json(&["runs", "--json"]);
    let claude_run = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["backend"] == "claude")
        .expect("claude's run");
    assert_eq!(claude_run["role"], "implementer");
    assert_eq!(claude_run["model"], "claude-sonnet-4-5");
    assert_eq!(claude_run["turns"], 2);
    assert!(
        claude_run["tokens_in"].as_u64().unwrap() > 0
            && claude_run["tokens_out"].as_u64().unwrap() > 0
    );
    assert!(claude_run["cost_usd"].as_f64().unwrap() > 0.0);
    assert!(runs["totals"]["cost_usd"].as_f64().unwrap() > 0.0);
    let asked = project.server.requests();
    assert!(
        asked
            .iter()
            .any(|r| r.body.to_string().contains("Say hello")),
        "the prompt reached the model"
    );
}

#[test]
fn a_rate_limited_claude_ends_the_session_as_rate_limited_without_a_failure() {
    let limited = Reply::Status {
        code: 429,
        body: r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#
            .into(),
        retry_after: Some(120),
    };
    let Some(project) = ClaudeProject::new(|_| vec![limited], "") else {
        return;
    };
    let id = project.repo.add("Say hello", &[]);
    let summary = project.run_until_idle(&[]);
    assert_eq!(summary["outcomes"], json!({"error": 1}), "{summary}");
    assert!(session_error(&project.repo, &id).contains("rate_limited"));
    let issue = project.repo.show(&id);
    assert_eq!(issue["status"], "open");
    assert!(
        issue["ready_at"].as_str().unwrap() > issue["updated_at"].as_str().unwrap(),
        "back once the limit lifts"
    );
}

#[test]
fn a_session_over_its_budget_ends_as_budget_exceeded() {
    let Some(project) = ClaudeProject::new(
        |_| vec![Reply::Text("Nothing to change.".into())],
        "per_session_usd = 0.000001",
    ) else {
        return;
    };
    let id = project.repo.add("Say hello", &[]);
    let summary = project.run_until_idle(&[]);
    assert_eq!(summary["outcomes"], json!({"error": 1}), "{summary}");
    assert!(
        session_error(&project.repo, &id).contains("budget_exceeded"),
        "{}",
        session_error(&project.repo, &id)
    );
}

#[test]
fn a_spent_daily_budget_stops_new_sessions() {
    let Some(project) = ClaudeProject::new(
        |_| vec![Reply::Text("Done.".into())],
        "per_day_usd = 0.000001",
    ) else {
        return;
    };
    let first = project.repo.add("First", &["--priority", "0"]);
    let second = project.repo.add("Second", &["--priority", "1"]);
    let summary = project.run_until_idle(&["--max-workers", "1"]);
    assert_eq!(summary["sessions"], 1, "{summary}");
    assert_eq!(project.repo.show(&first)["status"], "needs_review");
    assert_eq!(project.repo.show(&second)["status"], "open");
}

//! Whole sessions played by the real agent CLIs, pointed at the scripted model server. With
//! `claude` as the implementer: edits land in the worktree, usage and cost are recorded, rate
//! limits and budgets end the session with their reasons. With `codex`: its edits land, its
//! usage is recorded, and as a reviewer its verdict block is parsed from its answer. Skipped,
//! with a note, where a CLI is not installed (scripts/install-agent-clis.sh installs them;
//! `AGENTRY_REQUIRE_AGENT_CLIS=1` makes that a failure, as in CI).

mod support;

use std::path::Path;

use agentry_testkit::{ModelServer, Reply, claude_acp_or_skip, claude_or_skip, codex_or_skip};
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

/// A model server and a repository whose roles are played by an agent CLI pointed at it;
/// the reviewers it does not play are scripted to pass.
struct Project {
    repo: Repo,
    server: ModelServer,
    /// The environment agentry runs in.
    env: Vec<(&'static str, &'static str)>,
    _runtime: tokio::runtime::Runtime,
}

/// The roles `configure` hands out.
const ROLES: [&str; 3] = ["implementer", "spec_reviewer", "quality_reviewer"];

impl Project {
    /// `replies` gets the repository's path, so that a reply can name a file in a worktree;
    /// `setup` adds the agent.
    fn new(
        replies: impl FnOnce(&Path) -> Vec<Reply>,
        setup: impl FnOnce(&Repo, &ModelServer),
        env: Vec<(&'static str, &'static str)>,
    ) -> Self {
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
        setup(&repo, &server);
        Self {
            repo,
            server,
            env,
            _runtime: runtime,
        }
    }

    /// Claude as the implementer. `None` when claude is not installed.
    fn claude(replies: impl FnOnce(&Path) -> Vec<Reply>, budgets: &str) -> Option<Self> {
        let claude = claude_or_skip()?;
        let setup = |repo: &Repo, server: &ModelServer| {
            let table = claude_table(repo, &claude, server);
            configure(repo, "claude", &["implementer"], &table, budgets);
        };
        Some(Self::new(replies, setup, vec![("AGENTRY_LOG", "error")]))
    }

    /// claude-code-acp, driving claude, as the implementer. `None` when either is not
    /// installed.
    fn acp(replies: impl FnOnce(&Path) -> Vec<Reply>) -> Option<Self> {
        let (acp, claude) = (claude_acp_or_skip()?, claude_or_skip()?);
        let setup = |repo: &Repo, server: &ModelServer| {
            let table = acp_table(repo, &acp, &claude, server);
            configure(repo, "acp", &["implementer"], &table, "");
        };
        Some(Self::new(replies, setup, vec![("AGENTRY_LOG", "error")]))
    }

    /// Codex playing the roles in `cast`, its API key in agentry's environment. `None` when
    /// codex is not installed.
    fn codex(replies: Vec<Reply>, cast: &[&str]) -> Option<Self> {
        let codex = codex_or_skip()?;
        let setup = |repo: &Repo, server: &ModelServer| {
            configure(repo, "codex", cast, &codex_table(repo, &codex, server), "");
        };
        let env = vec![("AGENTRY_LOG", "error"), (CODEX_KEY_VAR, "test-key")];
        Some(Self::new(|_| replies, setup, env))
    }

    fn run_until_idle(&self, extra: &[&str]) -> Value {
        let args = [&["run", "--until-idle", "--json"][..], extra].concat();
        support::json_of(&self.repo.run_env(&args, &self.env))
    }
}

/// Rewrites the config: the roles in `cast` go to the agent `name`, whose `table` is added,
/// the other reviewers to the scripted `rev`; `budgets` replaces budget lines.
fn configure(repo: &Repo, name: &str, cast: &[&str], table: &str, budgets: &str) {
    let config_path = repo.file(".agentry/config.toml");
    let config = std::fs::read_to_string(&config_path).unwrap();
    let mut text: String = config
        .lines()
        .map(|line| match line.split_once(" = ") {
            Some((role, _)) if ROLES.contains(&role) => {
                let agent = if cast.contains(&role) { name } else { "rev" };
                format!("{role} = \"{agent}\"")
            }
            Some(("per_session_usd" | "per_day_usd", _)) => budget_line(line, budgets),
            _ => line.to_string(),
        })
        .map(|line| line + "\n")
        .collect();
    text.push_str(table);
    text.push_str(
        r#"
[agents.rev]
kind = "scripted"
script = "reviews.toml"
"#,
    );
    std::fs::write(config_path, text).unwrap();
}

/// `dirs` made in the repository's `.NAME-sealed`, the agent's home and scratch space.
fn sealed(repo: &Repo, name: &str, dirs: &[&str]) -> std::path::PathBuf {
    let sealed = repo.path().join(format!(".{name}-sealed"));
    for dir in dirs {
        std::fs::create_dir_all(sealed.join(dir)).unwrap();
    }
    sealed
}

fn claude_table(repo: &Repo, claude: &Path, server: &ModelServer) -> String {
    format!(
        r#"
[agents.claude]
kind = "claude"
program = "{claude}"
model = "claude-sonnet-4-5"
timeout_secs = 120
pass_env = ["PATH"]
env = {{ {env} }}
"#,
        claude = claude.display(),
        env = claude_env(repo, "claude", server),
    )
}

/// Claude Code's sealed environment, its home and scratch space in `.NAME-sealed`: the
/// scripted server as its model API, no calls beyond the model, no retries.
fn claude_env(repo: &Repo, name: &str, server: &ModelServer) -> String {
    let sealed = sealed(repo, name, &["home", "tmp"]);
    format!(
        r#"HOME = "{home}", TMPDIR = "{tmp}", ANTHROPIC_BASE_URL = "{url}", ANTHROPIC_API_KEY = "test-key", CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = "1", IS_SANDBOX = "1", CLAUDE_CODE_MAX_RETRIES = "0""#,
        home = sealed.join("home").display(),
        tmp = sealed.join("tmp").display(),
        url = server.base_url(),
    )
}

/// claude-code-acp with claude's sealed environment; PATH is passed for `node`. It drives
/// the installed `claude`, not the older one its SDK bundles, which asks the model an
/// extra question at start (which files matter) that a scripted server cannot expect.
fn acp_table(repo: &Repo, acp: &Path, claude: &Path, server: &ModelServer) -> String {
    format!(
        r#"
[agents.acp]
kind = "acp"
program = "{acp}"
timeout_secs = 120
pass_env = ["PATH"]
env = {{ {env}, CLAUDE_CODE_EXECUTABLE = "{claude}" }}
"#,
        acp = acp.display(),
        env = claude_env(repo, "acp", server),
        claude = claude.display(),
    )
}

/// The variable agentry holds codex's API key in; the config names it, never the key.
const CODEX_KEY_VAR: &str = "AGENTRY_TEST_CODEX_KEY";

/// Codex with the scripted server as its model provider (`agentry`, which the backend
/// names), no calls beyond the model, and no retries of a failed request.
fn codex_table(repo: &Repo, codex: &Path, server: &ModelServer) -> String {
    let sealed = sealed(repo, "codex", &["home", "codex-home", "tmp"]);
    format!(
        r#"
[agents.codex]
kind = "codex"
program = "{codex}"
model = "gpt-5.5"
base_url = "{url}/v1"
api_key_env = "{CODEX_KEY_VAR}"
timeout_secs = 120
pass_env = ["PATH"]
env = {{ HOME = "{home}", CODEX_HOME = "{codex_home}", TMPDIR = "{tmp}" }}
args = ["-c", "analytics.enabled=false", "--disable", "plugins", "--disable", "remote_plugin", "--disable", "apps", "-c", "model_providers.agentry.stream_max_retries=0", "-c", "model_providers.agentry.request_max_retries=0"]
"#,
        codex = codex.display(),
        home = sealed.join("home").display(),
        codex_home = sealed.join("codex-home").display(),
        tmp = sealed.join("tmp").display(),
        url = server.base_url(),
    )
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
    let Some(project) = Project::claude(write_hello, "") else {
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
fn claude_reaches_its_model_server_through_the_proxy_when_the_network_is_limited() {
    let Some(project) = Project::claude(write_hello, "") else {
        return;
    };
    project.repo.set_config("network", "\"allow\"");
    import_issue(
        &project.repo,
        r#"{"id":"i-hello","title":"Say hello","scope":["hello.txt"],"verify":["grep -q hello hello.txt"]}"#,
    );
    let summary = project.run_until_idle(&[]);
    assert_eq!(summary["outcomes"], json!({"done": 1}), "{summary}");
    assert!(
        project
            .server
            .requests()
            .iter()
            .any(|r| r.body.to_string().contains("Say hello")),
        "the prompt reached the model through the bridge and the proxy"
    );
}

/// Claude Code's Write of `hello.txt` in the `i-hello` worktree, then its last word.
fn write_hello(repo: &Path) -> Vec<Reply> {
    let path = repo.join(".agentry/worktrees/i-hello/hello.txt");
    let input = json!({"file_path": path.display().to_string(), "content": "hello\n"});
    vec![
        Reply::Tool {
            name: "Write".into(),
            input,
        },
        Reply::Text("Wrote hello.txt.".into()),
    ]
}

#[test]
fn claude_code_acp_implements_an_issue_over_acp() {
    let Some(project) = Project::acp(write_hello) else {
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
    let acp_run = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["backend"] == "acp");
    assert_eq!(acp_run.expect("the acp run")["role"], "implementer");
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
    let Some(project) = Project::claude(|_| vec![limited], "") else {
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

/// A model server that fails (`replies`) ends claude's session with what claude reported;
/// the issue goes back to the queue after a backoff.
fn assert_reported_failure(replies: Vec<Reply>, reported: &str) {
    let Some(project) = Project::claude(|_| replies, "") else {
        return;
    };
    let id = project.repo.add("Say hello", &[]);
    let summary = project.run_until_idle(&[]);
    assert_eq!(summary["outcomes"], json!({"error": 1}), "{summary}");
    let error = session_error(&project.repo, &id);
    assert!(
        error.contains("agent reported an error") && error.contains(reported),
        "{error}"
    );
    let issue = project.repo.show(&id);
    assert_eq!(issue["status"], "open");
    assert!(issue["ready_at"].as_str().unwrap() > issue["updated_at"].as_str().unwrap());
}

#[test]
fn a_model_server_error_ends_the_session_with_claudes_report() {
    let body = r#"{"type":"error","error":{"type":"api_error","message":"boom"}}"#;
    assert_reported_failure(
        vec![Reply::Status {
            code: 500,
            body: body.into(),
            retry_after: None,
        }],
        "500",
    );
}

#[test]
fn a_stream_cut_twice_ends_the_session_with_claudes_report() {
    assert_reported_failure(
        vec![Reply::CutOff, Reply::CutOff],
        "Connection to the API was lost",
    );
}

#[test]
fn a_session_over_its_budget_ends_as_budget_exceeded() {
    let Some(project) = Project::claude(
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
    let Some(project) = Project::claude(write_hello, "per_day_usd = 0.000001") else {
        return;
    };
    import_issue(
        &project.repo,
        r#"{"id":"i-hello","title":"First","priority":0}"#,
    );
    let second = project.repo.add("Second", &["--priority", "1"]);
    let summary = project.run_until_idle(&["--max-workers", "1"]);
    assert_eq!(summary["sessions"], 1, "{summary}");
    assert_eq!(project.repo.show("i-hello")["status"], "needs_review");
    assert_eq!(project.repo.show(&second)["status"], "open");
}

/// codex's tool call that adds `hello.txt` to its worktree.
fn add_hello_patch() -> Reply {
    Reply::Tool {
        name: "apply_patch".into(),
        input: json!("*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch\n"),
    }
}

#[test]
fn codex_implements_an_issue_whose_verify_and_reviews_pass() {
    let replies = vec![add_hello_patch(), Reply::Text("Wrote hello.txt.".into())];
    let Some(project) = Project::codex(replies, &["implementer"]) else {
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
    let codex_run = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["backend"] == "codex")
        .expect("codex's run");
    assert_eq!(codex_run["role"], "implementer");
    assert_eq!(codex_run["model"], "gpt-5.5");
    assert!(
        codex_run["tokens_in"].as_u64().unwrap() > 0
            && codex_run["tokens_out"].as_u64().unwrap() > 0
    );
    assert_eq!(codex_run["cost_usd"], Value::Null, "codex reports no cost");
    let asked = project.server.requests();
    assert!(
        asked
            .iter()
            .all(|r| r.header("authorization") == Some("Bearer test-key")),
        "the key came from the variable api_key_env names"
    );
    assert!(
        asked
            .iter()
            .any(|r| r.body.to_string().contains("Say hello")),
        "the prompt reached the model"
    );
}

#[test]
fn codex_reviews_and_its_verdict_block_is_parsed() {
    let verdict = Reply::Text("Looks right.\n\n```json\n{\"verdict\": \"pass\"}\n```".into());
    let replies = vec![
        add_hello_patch(),
        Reply::Text("Wrote hello.txt.".into()),
        verdict.clone(),
        verdict,
    ];
    let Some(project) = Project::codex(replies, &ROLES) else {
        return;
    };
    let id = project.repo.add("Say hello", &[]);
    let summary = project.run_until_idle(&[]);
    assert_eq!(summary["outcomes"], json!({"done": 1}), "{summary}");
    let issue = project.repo.show(&id);
    assert_eq!(issue["status"], "needs_review");
    let events: Vec<&str> = issue["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["event_type"].as_str())
        .collect();
    for passed in ["SPEC_REVIEW_PASS", "QUALITY_REVIEW_PASS"] {
        assert!(events.contains(&passed), "{events:?}");
    }
    let runs = project.repo.json(&["runs", "--json"]);
    let roles: Vec<&str> = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["backend"] == "codex")
        .filter_map(|r| r["role"].as_str())
        .collect();
    assert_eq!(roles.len(), 3, "{runs}");
    for role in ["spec_reviewer", "quality_reviewer"] {
        assert!(roles.contains(&role), "{roles:?}");
    }
}

#[test]
fn a_rate_limited_codex_ends_the_session_as_rate_limited() {
    let body =
        r#"{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}"#;
    let limited = Reply::Status {
        code: 429,
        body: body.into(),
        retry_after: None,
    };
    let Some(project) = Project::codex(vec![limited], &["implementer"]) else {
        return;
    };
    let id = project.repo.add("Say hello", &[]);
    let summary = project.run_until_idle(&[]);
    assert_eq!(summary["outcomes"], json!({"error": 1}), "{summary}");
    let error = session_error(&project.repo, &id);
    assert!(
        error.contains("rate_limited") && error.contains("429"),
        "{error}"
    );
    assert_eq!(project.repo.show(&id)["status"], "open");
}

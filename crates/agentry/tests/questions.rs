//! Questions from the implementer: a blocking one blocks the issue until a person answers it
//! (from the CLI or the API), and the next prompt carries the answer; an incomplete packet is
//! sent back once, naming what it lacks.

mod support;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use support::server::{Server, error_of};
use support::{Repo, assert_ok, assert_refused, scripted_repo};
use tempfile::TempDir;

/// A complete, blocking question packet.
const BLOCKING: &str = "I need a decision first.\n\nQUESTION: Which greeting should done.txt hold?\n\
CONTEXT: The issue does not say.\nFILES: done.txt\nOPTIONS:\n- hello\n- hi\n\
RECOMMENDED: hello\nBLOCKING: yes\n";

/// An implementer that keeps a copy of each prompt it gets (`prompt-N.md`), writes `done.txt`,
/// and answers turn N with `answer-N.txt` when the test put one there (else a short report).
struct Implementer {
    dir: TempDir,
}

impl Implementer {
    /// Sets up `repo` (scripted reviewers that pass) with this implementer.
    fn install(repo: &Repo) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("agent.sh");
        std::fs::write(
            &script,
            "dir=\"$1\"\nn=$(($(ls \"$dir\" | grep -c '^prompt-') + 1))\n\
             cp \"$AGENTRY_PROMPT_FILE\" \"$dir/prompt-$n.md\"\necho done > done.txt\n\
             if [ -f \"$dir/answer-$n.txt\" ]; then cat \"$dir/answer-$n.txt\"; else echo 'Wrote done.txt.'; fi\n",
        )
        .unwrap();
        let argv = [Path::new("sh"), &script, dir.path()]
            .map(|p| format!("{:?}", p.display().to_string()));
        // The agent keeps its prompts and finds its answers beside its script, outside the
        // worktree: its sandbox lets it write there.
        repo.append_config(&format!(
            "[agents.asker]\nkind = \"command\"\ncommand = [{}]\nwritable = [{}]\n",
            argv.join(", "),
            argv[2]
        ));
        repo.set_config("implementer", "\"asker\"");
        Self { dir }
    }

    fn answer_turn(&self, turn: u32, text: &str) {
        std::fs::write(self.path(&format!("answer-{turn}.txt")), text).unwrap();
    }

    fn prompt(&self, turn: u32) -> String {
        std::fs::read_to_string(self.path(&format!("prompt-{turn}.md")))
            .unwrap_or_else(|e| panic!("no prompt for turn {turn}: {e}"))
    }

    fn prompts(&self) -> usize {
        (1..)
            .take_while(|n| self.path(&format!("prompt-{n}.md")).exists())
            .count()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn event_types(issue: &Value) -> Vec<String> {
    issue["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap().to_string())
        .collect()
}

/// A repository whose one issue is blocked on the implementer's question; returns its id.
fn blocked_issue() -> (Repo, Implementer, String) {
    let repo = scripted_repo();
    let implementer = Implementer::install(&repo);
    implementer.answer_turn(1, BLOCKING);
    let id = repo.add("Write the greeting", &[]);
    let summary = repo.run_until_idle();
    assert_eq!(summary["outcomes"]["asked"], 1, "{summary}");
    (repo, implementer, id)
}

#[test]
fn a_blocking_question_round_trips_through_the_cli() {
    let (repo, implementer, id) = blocked_issue();
    let issue = repo.show(&id);
    assert_eq!(issue["status"], "blocked");
    assert_eq!(
        issue["question"]["question"],
        "Which greeting should done.txt hold?"
    );
    assert_eq!(
        issue["question"]["options"],
        serde_json::json!(["hello", "hi"])
    );
    assert_eq!(issue["question"]["blocking"], true);
    assert!(
        issue["question"]["asked_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    let types = event_types(&issue);
    assert!(types.contains(&"QUESTION_ASKED".to_string()), "{types:?}");
    assert!(!types.contains(&"IMPLEMENT_DONE".to_string()), "{types:?}");
    let text = repo.ok(&["issue", "show", &id]);
    assert!(text.contains("question (blocking"), "{text}");
    assert!(
        text.contains("Which greeting should done.txt hold?"),
        "{text}"
    );
    assert!(
        repo.ready_ids(&[]).is_empty(),
        "a blocked issue is not ready"
    );

    let out = repo.ok(&["answer", &id, "Say hello, in lowercase"]);
    assert!(out.contains(&id), "{out}");
    let issue = repo.show(&id);
    assert_eq!(issue["status"], "open");
    assert_eq!(issue["question"], Value::Null);
    assert_eq!(repo.ready_ids(&[]), vec![id.clone()]);

    repo.run_until_idle();
    assert_eq!(repo.show(&id)["status"], "needs_review");
    let prompt = implementer.prompt(2);
    assert!(
        prompt.contains("Which greeting should done.txt hold?"),
        "{prompt}"
    );
    assert!(prompt.contains("Say hello, in lowercase"), "{prompt}");
    assert!(!implementer.prompt(1).contains("The answer:"));
}

#[test]
fn only_an_issue_blocked_on_a_question_takes_an_answer() {
    let (repo, _implementer, id) = blocked_issue();
    assert_refused(&repo.run(&["answer", &id, "  "]), &["empty"]);
    assert_ok(&repo.run(&["answer", &id, "hello"]));
    assert_refused(
        &repo.run(&["answer", &id, "again"]),
        &[&id, "no open question", "open"],
    );
    let other = repo.add("Another", &[]);
    assert_refused(&repo.run(&["answer", &other, "x"]), &["no open question"]);
    assert_refused(&repo.run(&["answer", "i-zzzzzz", "x"]), &["i-zzzzzz"]);
}

#[test]
fn an_incomplete_packet_is_sent_back_once_naming_what_it_lacks() {
    let repo = scripted_repo();
    let implementer = Implementer::install(&repo);
    let incomplete = "QUESTION: Which greeting?\nBLOCKING: yes\n";
    implementer.answer_turn(1, incomplete);
    implementer.answer_turn(2, incomplete);
    let id = repo.add("Write the greeting", &[]);
    repo.run_until_idle();
    assert_eq!(implementer.prompts(), 2, "one request for a revised packet");
    let revise = implementer.prompt(2);
    assert!(
        revise.contains("lacks context, files, options, recommended"),
        "the request names the missing fields:\n{revise}"
    );
    assert!(!implementer.prompt(1).contains("lacks"));
    // Still incomplete: taken as the implementer's report, and the session carries on.
    let issue = repo.show(&id);
    assert_eq!(issue["status"], "needs_review");
    assert!(!event_types(&issue).contains(&"QUESTION_ASKED".to_string()));
}

#[test]
fn a_question_that_does_not_block_is_recorded_and_the_work_goes_on() {
    let repo = scripted_repo();
    let implementer = Implementer::install(&repo);
    implementer.answer_turn(1, &BLOCKING.replace("BLOCKING: yes", "BLOCKING: no"));
    let id = repo.add("Write the greeting", &[]);
    repo.run_until_idle();
    let issue = repo.show(&id);
    assert_eq!(issue["status"], "needs_review");
    assert_eq!(issue["question"], Value::Null);
    let asked = issue["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event_type"] == "QUESTION_ASKED")
        .expect("the question is recorded");
    assert_eq!(asked["data"]["blocking"], false);
}

#[test]
fn the_status_lists_issues_waiting_on_an_answer() {
    let (repo, _implementer, id) = blocked_issue();
    let status = repo.json(&["status", "--json"]);
    let questions = status["questions"].as_array().unwrap();
    assert_eq!(questions.len(), 1, "{status}");
    assert_eq!(questions[0]["issue_id"], id.as_str());
    assert_eq!(
        questions[0]["question"],
        "Which greeting should done.txt hold?"
    );
    let notes = status["readiness_notes"].to_string();
    assert!(
        notes.contains("wait on an answer") && notes.contains(&id),
        "{notes}"
    );
    assert_ok(&repo.run(&["answer", &id, "hello"]));
    assert_eq!(repo.json(&["status", "--json"])["questions"], json!([]));
}

#[test]
fn the_api_shows_and_answers_the_question() {
    let (repo, implementer, id) = blocked_issue();
    let token = ("SERVER__SERVICE_TOKEN", "s3cret");
    let server = Server::start(&repo, &["--no-dispatch"], &[token]);
    let good = ["Authorization: Bearer s3cret"];
    let task = format!("/api/v1/tasks/{id}");
    let answer = format!("{task}/answer");
    let body = Some(json!({"answer": "Say hello"}));

    let (status, detail) = server.get(&task);
    assert_eq!(status, 200);
    assert_eq!(
        detail["question"]["question"],
        "Which greeting should done.txt hold?"
    );
    assert_eq!(server.json("POST", &answer, &[], body.clone()).0, 401);
    let wrong = ["Authorization: Bearer nope"];
    assert_eq!(server.json("POST", &answer, &wrong, body.clone()).0, 401);
    for bad in [
        json!({}),
        json!({"answer": 3}),
        json!({"answer": "x", "more": 1}),
        json!({"answer": " "}),
    ] {
        let (status, error) = server.json("POST", &answer, &good, Some(bad.clone()));
        assert_eq!(status, 400, "{bad}: {error}");
        assert!(!error_of(&error).is_empty());
    }
    let (status, _) = server.request("POST", &answer, &good, b"{not json");
    assert_eq!(status, 400);
    let (status, error) = server.json("POST", "/api/v1/tasks/i-zzzzzz/answer", &good, body.clone());
    assert_eq!(status, 404, "{error}");

    let (status, answered) = server.json("POST", &answer, &good, body.clone());
    assert_eq!(status, 200, "{answered}");
    assert_eq!(answered["status"], "open");
    assert_eq!(answered["answer"], "Say hello");
    assert_eq!(answered["question"], "Which greeting should done.txt hold?");
    let (_, detail) = server.get(&task);
    assert_eq!(detail["status"], "open");
    assert_eq!(detail["question"], Value::Null);
    let (status, error) = server.json("POST", &answer, &good, body);
    assert_eq!(status, 409, "{error}");
    assert!(error_of(&error).contains("no open question"), "{error}");
    drop(server);

    repo.run_until_idle();
    assert_eq!(repo.show(&id)["status"], "needs_review");
    assert!(implementer.prompt(2).contains("Say hello"));
}

#[test]
fn reviewer_verdicts_go_through_the_lean_parse() {
    let repo = scripted_repo();
    let script = r#"
[[rule]]
role = "implementer"
issue = "*"
turns = [[{ write = { path = "done.txt", content = "done\n" } }]]

[[rule]]
role = "fixer"
issue = "*"
turns = [[{ write = { path = "fixed.txt", content = "fixed\n" } }]]

[[rule]]
role = "spec_reviewer"
issue = "*"
turns = [[{ say = "I looked at it." }], [{ say = "Verdict: PASS" }]]

[[rule]]
role = "quality_reviewer"
issue = "*"
turns = [[{ say = "LGTM" }]]
"#;
    std::fs::write(repo.file("script.toml"), script).unwrap();
    let id = repo.add("Reviewed", &[]);
    repo.run_until_idle();
    let issue = repo.show(&id);
    assert_eq!(issue["status"], "needs_review");
    let events = issue["events"].as_array().unwrap();
    let failed = events
        .iter()
        .find(|e| e["event_type"] == "SPEC_REVIEW_FAIL")
        .expect("the first review fails");
    assert_eq!(
        failed["data"]["failed_items"],
        json!(["verdict not understood"])
    );
    let kept = failed["data"]["fix_list"].to_string();
    assert!(
        kept.contains("I looked at it."),
        "the raw text is kept: {kept}"
    );
    let types = event_types(&issue);
    assert!(types.contains(&"SPEC_REVIEW_PASS".to_string()), "{types:?}");
    assert!(
        types.contains(&"QUALITY_REVIEW_PASS".to_string()),
        "{types:?}"
    );
}

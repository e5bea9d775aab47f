//! The real `claude` CLI (pinned by scripts/install-agent-clis.sh) against the scripted
//! model server: a tool-using turn, a rate limit and a server failure, all offline.
//! Skipped, with a note, when claude is not installed; AGENTRY_REQUIRE_AGENT_CLIS=1 makes
//! that a failure. AGENTRY_SAVE_CLAUDE_FIXTURES=crates/agentry-agents/testdata/claude
//! re-records the parser fixtures from these runs.

mod failures;
mod harness;

use agentry_testkit::{ModelServer, RecordedRequest, Reply};
use serde_json::json;

use harness::{claude_or_skip, run_claude, save_fixture};

const PROMPT: &str = "Create hello.txt containing hello.";

/// "METHOD /path" of each request.
fn paths(requests: &[RecordedRequest]) -> Vec<String> {
    requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// Whether the conversation `request` sends carries the result of tool call `id`.
fn carries_tool_result(request: &RecordedRequest, id: &str) -> bool {
    let messages = request.body["messages"].as_array().into_iter().flatten();
    messages
        .flat_map(|message| message["content"].as_array().into_iter().flatten())
        .any(|block| block["type"] == "tool_result" && block["tool_use_id"] == id)
}

#[tokio::test]
async fn claude_writes_a_file_through_the_scripted_model() {
    let Some(claude) = claude_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("work/hello.txt");
    let write = Reply::Tool {
        name: "Write".to_string(),
        input: json!({"file_path": file, "content": "hello\n"}),
    };
    let server = ModelServer::start(vec![write, Reply::Text("Wrote the file.".to_string())]).await;
    let run = run_claude(&claude, &server, dir.path(), PROMPT, &[]).await;
    let requests = server.requests();
    assert!(run.status.success(), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "hello\n");
    assert_eq!(paths(&requests), ["POST /v1/messages"; 2]);
    assert!(carries_tool_result(&requests[1], "toolu_testkit_0001"));

    let init = &run.lines()[0];
    assert_eq!(
        (&init["type"], &init["subtype"]),
        (&json!("system"), &json!("init"))
    );
    assert_eq!(run.of_type("assistant").len(), 2);
    let user = run.of_type("user");
    assert_eq!(user[0]["message"]["content"][0]["type"], "tool_result");
    let result = run.lines().pop().unwrap();
    assert_eq!(result["type"], "result");
    assert_eq!(result["is_error"], false);
    assert_eq!(result["num_turns"], 2);
    assert_eq!(result["result"], "Wrote the file.");
    assert!(result["usage"]["output_tokens"].as_u64().unwrap() > 0);
    assert!(result["total_cost_usd"].as_f64().unwrap() > 0.0);
    save_fixture("write_file.jsonl", &run.stdout);
}

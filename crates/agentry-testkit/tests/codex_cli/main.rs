//! The real `codex` CLI (pinned by scripts/install-agent-clis.sh) against the scripted
//! model server's Responses API: a turn that patches a file and runs a command, rate limits,
//! server failures and dropped streams, all offline. Skipped, with a note, when codex is not
//! installed; AGENTRY_REQUIRE_AGENT_CLIS=1 makes that a failure.
//! AGENTRY_SAVE_CODEX_FIXTURES=crates/agentry-agents/testdata/codex re-records the parser
//! fixtures from these runs.

mod failures;
mod harness;

use agentry_testkit::{ModelServer, RecordedRequest, Reply};
use serde_json::{Value, json};

use harness::{MODEL, codex_or_skip, run_codex, save_fixture};

const PROMPT: &str = "Create hello.txt containing hello.";

/// The input item of `request` that answers tool call `call_id`.
fn tool_output(request: &RecordedRequest, call_id: &str) -> Value {
    let input = request.body["input"].as_array().into_iter().flatten();
    input
        .filter(|item| item["call_id"] == call_id)
        .find(|item| item["type"].as_str().unwrap().ends_with("_output"))
        .cloned()
        .unwrap_or_else(|| panic!("no output for {call_id}"))
}

/// The names of the tools `request` offers the model.
fn tool_names(request: &RecordedRequest) -> Vec<String> {
    let tools = request.body["tools"].as_array().into_iter().flatten();
    tools
        .filter_map(|tool| Some(format!("{}:{}", tool["type"], tool["name"].as_str()?)))
        .collect()
}

#[tokio::test]
async fn codex_patches_a_file_and_runs_a_command_through_the_scripted_model() {
    let Some(codex) = codex_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let patch = Reply::Tool {
        name: "apply_patch".to_string(),
        input: json!("*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch\n"),
    };
    let command = Reply::Tool {
        name: "exec_command".to_string(),
        input: json!({"cmd": "cat hello.txt"}),
    };
    let replies = vec![patch, command, Reply::Text("Wrote hello.txt.".to_string())];
    let server = ModelServer::start(replies).await;
    let run = run_codex(&codex, &server, dir.path(), PROMPT, &[]).await;
    let requests = server.requests();
    assert!(run.status.success(), "{}\n{}", run.stdout, run.stderr);
    let file = dir.path().join("work/hello.txt");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "hello\n");

    assert!(requests.iter().all(|r| r.path == "/v1/responses"));
    assert_eq!(requests.len(), 3);
    let first = &requests[0];
    assert_eq!(first.header("authorization"), Some("Bearer test-key"));
    assert_eq!(first.header("accept"), Some("text/event-stream"));
    assert_eq!(
        (&first.body["model"], &first.body["stream"]),
        (&json!(MODEL), &json!(true))
    );
    assert!(first.body["input"].to_string().contains(PROMPT));
    let tools = tool_names(first);
    assert!(
        tools.contains(&r#""custom":apply_patch"#.to_string()),
        "{tools:?}"
    );
    assert!(
        tools.contains(&r#""function":exec_command"#.to_string()),
        "{tools:?}"
    );
    let patched = tool_output(&requests[1], "call_testkit_0001");
    assert_eq!(patched["type"], "custom_tool_call_output");
    assert!(patched["output"].as_str().unwrap().contains("A hello.txt"));
    let ran = tool_output(&requests[2], "call_testkit_0002");
    assert_eq!(ran["type"], "function_call_output");
    assert!(ran["output"].as_str().unwrap().contains("hello"));

    assert_eq!(
        run.types(),
        [
            "thread.started",
            "turn.started",
            "item.started",
            "item.completed",
            "item.started",
            "item.completed",
            "item.completed",
            "turn.completed"
        ]
    );
    let items = run.completed_items();
    assert_eq!(items[0]["type"], "file_change");
    assert_eq!(
        items[0]["changes"],
        json!([{"path": file.canonicalize().unwrap(), "kind": "add"}])
    );
    assert_eq!(items[1]["type"], "command_execution");
    assert_eq!(
        (&items[1]["aggregated_output"], &items[1]["exit_code"]),
        (&json!("hello\n"), &json!(0))
    );
    assert_eq!(
        (&items[2]["type"], &items[2]["text"]),
        (&json!("agent_message"), &json!("Wrote hello.txt."))
    );
    let usage = &run.lines().pop().unwrap()["usage"];
    assert!(usage["input_tokens"].as_u64().unwrap() > 1000, "{usage}");
    assert!(usage["output_tokens"].as_u64().unwrap() > 0);
    assert_eq!(usage["cached_input_tokens"], 0);
    save_fixture("write_file.jsonl", &run.stdout);
}

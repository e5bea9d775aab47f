//! Attacks through what agentry prints: secrets in the config, terminal escapes in user text.

use agentry_testkit::WebhookReceiver;

use crate::support::{Repo, assert_ok, json_of, stderr, stdout};

/// Values that must never be printed, each set somewhere a secret lives.
const SECRETS: [&str; 6] = [
    "sk-agent-env-1",
    "srv-token-2",
    "webhook-key-3",
    "routing-key-4",
    "route-key-5",
    "base-url-pass-6",
];

fn repo_with_secrets() -> Repo {
    let repo = Repo::initialized();
    repo.append_config(&format!(
        r#"
[agents.impl]
kind = "command"
command = ["true"]
base_url = "https://me:{pass}@llm.example/v1"
env = {{ ANTHROPIC_API_KEY = "{agent}" }}

[alerts.routes."severity:error"]
webhook_url = "https://hooks.example/services/{route_hook}"
routing_key = "{route_key}"
"#,
        agent = SECRETS[0],
        pass = SECRETS[5],
        route_hook = SECRETS[2],
        route_key = SECRETS[4],
    ));
    repo
}

#[test]
fn config_show_prints_no_secret_value() {
    let repo = repo_with_secrets();
    let webhook = format!("https://hooks.example/services/{}", SECRETS[2]);
    let env = [
        ("SERVER__SERVICE_TOKEN", SECRETS[1]),
        ("ALERTS__WEBHOOK_URL", webhook.as_str()),
        ("ALERTS__ROUTING_KEY", SECRETS[3]),
    ];
    for args in [&["config", "show"][..], &["config", "show", "--json"]] {
        let shown = repo.run_env(args, &env);
        let text = assert_ok(&shown);
        for secret in SECRETS {
            assert!(!text.contains(secret), "{args:?} printed {secret}:\n{text}");
        }
    }
    let config = json_of(&repo.run_env(&["config", "show", "--json"], &env));
    assert_eq!(
        config["agents"]["impl"]["env"]["ANTHROPIC_API_KEY"],
        "(set, hidden)"
    );
    assert_eq!(
        config["alerts"]["webhook_url"],
        "https://hooks.example/(hidden)"
    );
    assert_eq!(
        config["agents"]["impl"]["base_url"],
        "https://(hidden)@llm.example/v1"
    );
}

#[test]
fn the_alert_history_keeps_no_webhook_key() {
    let repo = Repo::initialized();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let receiver = runtime.block_on(WebhookReceiver::start(Vec::new()));
    let webhook = format!("{}/services/{}", receiver.base_url(), SECRETS[2]);
    let env = [
        ("ALERTS__WEBHOOK_URL", webhook.as_str()),
        ("ALERTS__ROUTING_KEY", SECRETS[3]),
    ];
    let sent = assert_ok(&repo.run_env(&["alerts", "test"], &env));
    let history = assert_ok(&repo.run(&["alerts", "list", "--json"]));
    for text in [&sent, &history] {
        assert!(
            !text.contains(SECRETS[2]) && !text.contains(SECRETS[3]),
            "{text}"
        );
    }
    // The receiver still got the real key: only what is shown is redacted.
    assert_eq!(receiver.requests()[0].body["routingKey"], SECRETS[3]);
}

/// A title that would retitle the terminal, clear the screen and forge a line of output.
const HOSTILE_TITLE: &str = "fix login\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m\ni-fake P0 closed";

#[test]
fn terminal_escapes_in_user_text_are_shown_escaped() {
    let repo = Repo::initialized();
    let id = repo.add(HOSTILE_TITLE, &[]);
    let mut printed = Vec::new();
    for args in [
        &["issue", "list"][..],
        &["issue", "show", &id],
        &["ready"],
        &["status"],
        &["handoff"],
    ] {
        printed.push((args.to_vec(), assert_ok(&repo.run(args))));
    }
    // An error that repeats what it was given.
    let refused = repo.run(&["issue", "show", "i-\u{1b}[2Jx"]);
    printed.push((vec!["issue", "show", "(bad id)"], stderr(&refused)));
    for (args, text) in &printed {
        let raw: Vec<char> = text
            .chars()
            .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
            .collect();
        assert!(raw.is_empty(), "{args:?} printed {raw:?}:\n{text}");
    }
    let list = &printed[0].1;
    assert!(list.contains("fix login\\u{1b}]0;owned"), "{list}");
    assert_eq!(list.lines().count(), 1, "one row per issue: {list}");
    // JSON keeps the title as it is, escaped the JSON way.
    let shown = json_of(&repo.run(&["issue", "show", &id, "--json"]));
    assert_eq!(shown["title"], HOSTILE_TITLE);
    assert!(!stdout(&repo.run(&["issue", "show", &id, "--json"])).contains('\u{1b}'));
}

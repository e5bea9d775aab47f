//! `agentry alerts test` and `alerts list` against real webhook receivers on loopback, and
//! broken `[alerts]` options refused at start-up with the key named.

mod support;

use agentry_testkit::{WebhookReceiver, unreachable_url};
use serde_json::{Value, json};
use support::{Repo, assert_refused, json_of, stderr, stdout};

/// A repository where `agentry init` has run, and a runtime for the receivers.
struct Setup {
    repo: Repo,
    runtime: tokio::runtime::Runtime,
}

impl Setup {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        Self {
            repo: Repo::initialized(),
            runtime,
        }
    }

    fn receiver(&self, statuses: Vec<u16>) -> WebhookReceiver {
        self.runtime.block_on(WebhookReceiver::start(statuses))
    }

    fn history(&self) -> Vec<Value> {
        let list = json_of(&self.repo.run(&["alerts", "list", "--json"]));
        list["alerts"].as_array().expect("a list of alerts").clone()
    }
}

#[test]
fn a_test_alert_reaches_the_default_webhook_in_the_webhook_shape() {
    let setup = Setup::new();
    let receiver = setup.receiver(Vec::new());
    let hook = format!("{}/hook", receiver.base_url());
    let env = [
        ("ALERTS__ENABLED", "true"),
        ("ALERTS__WEBHOOK_URL", hook.as_str()),
        ("ALERTS__ROUTING_KEY", "rk-1"),
        ("ALERTS__ENVIRONMENT", "ci"),
    ];
    let out = setup.repo.run_env(&["alerts", "test"], &env);
    assert_eq!(
        support::assert_ok(&out),
        format!(
            "alert agentry_test (error) via route default to {}/(hidden): sent (1 attempt)\n",
            receiver.base_url()
        )
    );
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        (requests[0].method.as_str(), requests[0].path.as_str()),
        ("POST", "/hook")
    );
    let mut body = requests[0].body.clone();
    let generated_at = body["alerts"][0]["generatedAt"].take();
    let generated_at = generated_at.as_str().expect("generatedAt is text");
    assert!(generated_at.parse::<agentry_core::Timestamp>().is_ok() && generated_at.ends_with('Z'));
    assert_eq!(
        body,
        json!({
            "source": "agentry",
            "environment": "ci",
            "routingKey": "rk-1",
            "alerts": [{
                "id": "agentry_test",
                "severity": "error",
                "title": "Test alert from agentry",
                "description": "Sent by `agentry alerts test` to check where alerts go; nothing needs doing.",
                "generatedAt": null,
                "sloMinutes": null,
                "sloBreached": false
            }]
        })
    );
    let history = setup.history();
    assert_eq!(history.len(), 1);
    let row = &history[0];
    assert_eq!(
        (
            &row["alert_id"],
            &row["outcome"],
            &row["attempts"],
            &row["route_key"]
        ),
        (
            &json!("agentry_test"),
            &json!("sent"),
            &json!(1),
            &json!("default")
        )
    );
    // The history names the destination without its key: the path and the routing key.
    assert_eq!(
        (&row["webhook_url"], &row["routing_key"]),
        (
            &json!(format!("{}/(hidden)", receiver.base_url())),
            &json!("(set, hidden)")
        )
    );
}

#[test]
fn routes_and_slo_thresholds_from_the_file_are_used() {
    let setup = Setup::new();
    let default = setup.receiver(Vec::new());
    let pager = setup.receiver(Vec::new());
    setup.repo.append_config(&format!(
        "\n[alerts.routes.\"severity:warning\"]\nwebhook_url = \"{}/pager\"\nrouting_key = \"pk\"\n\n[alerts.slo_thresholds]\ndisk_full = 15\n",
        pager.base_url()
    ));
    let default_url = default.base_url();
    let env = [("ALERTS__WEBHOOK_URL", default_url.as_str())];
    let args = [
        "alerts",
        "test",
        "--severity",
        "warning",
        "--id",
        "disk_full",
    ];
    let out = support::assert_ok(&setup.repo.run_env(&args, &env));
    assert!(
        out.starts_with(&format!(
            "alert disk_full (warning) via route severity:warning to {}/(hidden): sent (1 attempt)\n",
            pager.base_url()
        )),
        "{out}"
    );
    assert!(out.contains("alerts.enabled is false"), "{out}");
    assert!(default.requests().is_empty());
    let body = &pager.requests()[0].body;
    assert_eq!(body["routingKey"], "pk");
    assert_eq!(body["alerts"][0]["id"], "disk_full");
    assert_eq!(body["alerts"][0]["sloMinutes"], 15);
    let filtered = setup.repo.run_env(
        &["alerts", "test", "--severity", "info"],
        &[("ALERTS__SEVERITY_FILTER", "warning"), env[0]],
    );
    let out = support::assert_ok(&filtered);
    assert!(
        out.contains(": filtered\n(alerts.severity_filter is warning)"),
        "{out}"
    );
    let list = setup.repo.run(&["alerts", "list", "--limit", "1"]);
    let text = support::assert_ok(&list);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains(" filtered  info    agentry_test"), "{text}");
}

#[test]
fn a_receiver_that_is_down_fails_the_test_and_is_recorded() {
    let setup = Setup::new();
    let url = unreachable_url();
    let out = setup.repo.run_env(
        &["alerts", "test"],
        &[("ALERTS__WEBHOOK_URL", url.as_str())],
    );
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    assert!(
        stdout(&out).contains(": failed (3 attempts)\n"),
        "{}",
        stdout(&out)
    );
    let err = stderr(&out);
    assert!(
        err.starts_with("agentry: the test alert was not delivered (3 attempts): ")
            && err.contains("Connection refused"),
        "{err}"
    );
    let history = setup.history();
    assert_eq!(history.len(), 1);
    assert_eq!(
        (&history[0]["outcome"], &history[0]["attempts"]),
        (&json!("failed"), &json!(3))
    );
    assert!(
        history[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("Connection refused")
    );
}

#[test]
fn an_alert_no_webhook_takes_is_refused() {
    let setup = Setup::new();
    let out = setup.repo.run(&["alerts", "test"]);
    assert_refused(
        &out,
        &[
            "no webhook takes alert agentry_test (error)",
            "alerts.webhook_url",
        ],
    );
    assert_refused(
        &setup.repo.run(&["alerts", "test", "--id", "two words"]),
        &["--id"],
    );
    assert!(setup.history().is_empty());
}

#[test]
fn broken_alert_options_are_refused_at_start_up_naming_the_key() {
    let setup = Setup::new();
    let enabled = [("ALERTS__ENABLED", "true")];
    for args in [
        &["alerts", "test"][..],
        &["run", "--until-idle"],
        &["alerts", "list"],
    ] {
        let out = setup.repo.run_env(args, &enabled);
        assert_refused(&out, &["alerts.webhook_url", "no webhook is configured"]);
    }
    let negative = [("ALERTS__DEBOUNCE_WINDOW_SECS", "-5")];
    for args in [&["alerts", "test"][..], &["run", "--until-idle"]] {
        let out = setup.repo.run_env(args, &negative);
        assert_refused(
            &out,
            &[
                "alerts.debounce_window_secs = -5",
                "ALERTS__DEBOUNCE_WINDOW_SECS",
            ],
        );
    }
    setup
        .repo
        .append_config("\n[alerts.slo_thresholds]\nbacklog_stale = 0\n");
    for args in [&["alerts", "test"][..], &["run", "--until-idle"]] {
        let out = setup.repo.run(args);
        assert_refused(
            &out,
            &["alerts.slo_thresholds.backlog_stale", "more than 0 minutes"],
        );
    }
}

#[test]
fn a_route_without_a_webhook_is_refused_naming_the_key() {
    let setup = Setup::new();
    setup
        .repo
        .append_config("\n[alerts.routes.\"severity:error\"]\nrouting_key = \"k\"\n");
    let out = setup.repo.run(&["run", "--until-idle"]);
    assert_refused(&out, &["alerts.routes.severity:error.webhook_url"]);
}

#[test]
fn a_running_server_raises_health_alerts_to_the_webhook() {
    let setup = Setup::new();
    let receiver = setup.receiver(Vec::new());
    let hook = format!("{}/hook", receiver.base_url());
    setup.repo.ok(&["flags", "enable", "lean.plan_rewrite"]);
    let store = agentry_store::SqliteStore::open(
        &setup.repo.file(".agentry/agentry.db"),
        std::time::Duration::from_secs(5),
    )
    .unwrap();
    let error = json!({"lastError": "req-7: the model answered 500"});
    let now = agentry_core::Timestamp::now();
    agentry_store::Store::put_state(&store, "lean:plan_rewrite", &error, now).unwrap();
    let env = [
        ("ALERTS__ENABLED", "true"),
        ("ALERTS__WEBHOOK_URL", hook.as_str()),
        ("ALERTS__CHECK_INTERVAL_SECS", "1"),
        ("SERVER__SERVICE_TOKEN", "t"),
    ];
    let server = support::server::Server::start(&setup.repo, &["--no-dispatch"], &env);
    let bound = std::time::Duration::from_secs(30);
    let requests = setup.runtime.block_on(receiver.wait_for(1, bound));
    let alert = &requests[0].body["alerts"][0];
    assert_eq!(alert["id"], "plan_rewrite_error");
    assert_eq!(alert["severity"], "error");
    assert_eq!(alert["description"], "req-7: the model answered 500");

    // The publisher records the outcome once the webhook has answered: the history is read
    // until it shows the alert, with a bound (another process writes it).
    let deadline = std::time::Instant::now() + bound;
    let (history, sent) = loop {
        let (status, history) =
            server.json("GET", "/api/v1/alerts", &["Authorization: Bearer t"], None);
        assert_eq!(status, 200, "{history}");
        let sent = history["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["alert_id"] == "plan_rewrite_error")
            .cloned();
        if sent.is_some() || std::time::Instant::now() > deadline {
            break (history, sent);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(
        sent.map(|a| a["outcome"].clone()),
        Some(json!("sent")),
        "{history}"
    );
    // Read after the history, the counter has at least the deliveries the history showed.
    let sent_in_history = history["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["outcome"] == "sent")
        .count();
    let (status, metrics) = server.request("GET", "/metrics", &[], b"");
    assert_eq!(status, 200);
    let metrics = String::from_utf8(metrics).unwrap();
    let counted: usize = metrics
        .lines()
        .find_map(|l| l.strip_prefix("agentry_alerts_total{outcome=\"sent\"} "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no sent alerts count in:\n{metrics}"));
    assert!(
        counted >= sent_in_history.max(1),
        "{counted} < {sent_in_history}"
    );
}

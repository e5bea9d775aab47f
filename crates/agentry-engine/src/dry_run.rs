//! `agentry run --dry-run`: one synthetic issue, `i-dry1`, through a whole session with
//! scripted agents, an in-memory store and no repository.

use std::path::Path;
use std::sync::Arc;

use agentry_agents::Agent;

use agentry_core::config::{AgentConfig, AgentKind, Config};
use agentry_core::import::{ImportRecord, SourceKey};
use agentry_core::{EventType, IssueId, NewIssue, Status, Timestamp};
use agentry_store::{SqliteStore, Store};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::templates::seeded_prompts;
use crate::{Engine, Identity, RoleAgents, RunOptions, Settings, run};

/// Every role answers at once: the implementer changes nothing, the reviewers pass.
const INSTANT_SCRIPT: &str = r#"
[[rule]]
role = "implementer"
issue = "*"
turns = [[{ say = "Implemented the change." }]]

[[rule]]
role = "spec_reviewer"
issue = "*"
turns = [[{ say = "```json\n{\"verdict\": \"pass\", \"failed_items\": [], \"fix_list\": []}\n```" }]]

[[rule]]
role = "quality_reviewer"
issue = "*"
turns = [[{ say = "```json\n{\"verdict\": \"pass\", \"failed_items\": [], \"fix_list\": []}\n```" }]]
"#;

/// A scripted agent that passes every issue at once (dry runs, benchmarks); its script file
/// is written in `dir`.
pub fn instant_agent(dir: &Path) -> Result<Arc<dyn Agent>, String> {
    let script = dir.join("instant.toml");
    std::fs::write(&script, INSTANT_SCRIPT).map_err(|e| e.to_string())?;
    let config = AgentConfig {
        script: Some(script.display().to_string()),
        timeout_secs: 60,
        idle_timeout_secs: 0,
        ..AgentConfig::new(AgentKind::Scripted)
    };
    agentry_agents::build("instant", &config, dir).map_err(|e| e.to_string())
}

/// The dry run's report, in the shape of the runbook's.
#[derive(Debug, Serialize)]
pub struct DryRunReport {
    pub last_event_type: Option<EventType>,
    pub processed_issue: IssueId,
    pub snapshot_count: usize,
    pub status_updates: Vec<(IssueId, Status)>,
}

pub async fn dry_run() -> Result<DryRunReport, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let agent = instant_agent(dir.path())?;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::in_memory().map_err(|e| e.to_string())?);
    let id: IssueId = "i-dry1".parse().expect("a valid id");
    store
        .import(vec![dry_issue(&id)], Timestamp::now())
        .map_err(|e| e.to_string())?;
    let prompts =
        seeded_prompts(store.as_ref(), None, Timestamp::now()).map_err(|e| e.to_string())?;
    let mut settings = Settings::from_config(&Config::default(), None);
    settings.max_workers = 1;
    let engine = Arc::new(Engine {
        store: store.clone(),
        workspace: None,
        agents: RoleAgents::all(agent),
        prompts,
        settings,
        identity: Identity::current(),
        scratch: dir.path().to_path_buf(),
    });
    run(
        engine,
        RunOptions { until_idle: true },
        CancellationToken::new(),
    )
    .await?;
    report(store.as_ref(), id)
}

fn dry_issue(id: &IssueId) -> ImportRecord {
    ImportRecord {
        line: 1,
        key: SourceKey::Agentry(id.clone()),
        issue: NewIssue {
            done_when: vec!["the dry run reaches the review gate".into()],
            ..NewIssue::new("Dry run")
        },
        status: Status::Open,
        created_at: None,
        updated_at: None,
        links: Vec::new(),
        skip: None,
    }
}

fn report(store: &dyn Store, id: IssueId) -> Result<DryRunReport, String> {
    let events = store.events(&id).map_err(|e| e.to_string())?;
    let snapshots: Vec<_> = events
        .iter()
        .filter(|e| e.data.get("schema_version").is_some())
        .collect();
    let status_updates = events
        .iter()
        .filter(|e| e.event_type == EventType::StatusChanged)
        .filter_map(|e| {
            e.data["to"]
                .as_str()?
                .parse()
                .ok()
                .map(|to| (id.clone(), to))
        })
        .collect();
    Ok(DryRunReport {
        last_event_type: snapshots.last().map(|e| e.event_type),
        snapshot_count: snapshots.len(),
        processed_issue: id,
        status_updates,
    })
}

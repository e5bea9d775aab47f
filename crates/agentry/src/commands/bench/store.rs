//! `agentry bench store`: the ready queue, issue add and import on a generated backlog.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::output::outln;
use agentry_core::import::parse_jsonl;
use agentry_core::{IssueId, NewIssue, Timestamp};
use agentry_store::{SqliteStore, Store};
use anyhow::Result;

const IMPORT_RUNS: usize = 3;
const READY_RUNS: usize = 200;
const ADD_RUNS: usize = 500;

pub fn run(issues: usize) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let now = Timestamp::now();
    let (backlog, links) = backlog_jsonl(issues, now);
    outln!("store benchmark: {issues} issues, {links} depends-on links, SQLite file in WAL mode");
    let mut import_times = Vec::new();
    let mut store = None;
    for run in 0..IMPORT_RUNS {
        let fresh = open(&dir.path().join(format!("import-{run}.db")))?;
        let started = Instant::now();
        let report = fresh.import(parse_jsonl(&backlog)?, now)?;
        import_times.push(started.elapsed());
        anyhow::ensure!(
            report.taken == issues,
            "the import took {} of {issues} issues",
            report.taken
        );
        store = Some(fresh);
    }
    let store = store.expect("at least one import ran");
    let ready_times = repeat(READY_RUNS, || store.ready(now, 50).map(drop))?;
    let add_times = repeat(ADD_RUNS, || {
        store.create_issue(NewIssue::new("bench"), now).map(drop)
    })?;
    report("ready --limit 50", &ready_times, "20 ms");
    report("issue add", &add_times, "5 ms");
    report(&format!("import {issues} issues"), &import_times, "2 s");
    Ok(())
}

fn open(path: &Path) -> Result<SqliteStore> {
    Ok(SqliteStore::open(path, Duration::from_secs(5))?)
}

fn repeat(
    runs: usize,
    mut op: impl FnMut() -> Result<(), agentry_store::StoreError>,
) -> Result<Vec<Duration>> {
    (0..runs)
        .map(|_| {
            let started = Instant::now();
            op()?;
            Ok(started.elapsed())
        })
        .collect()
}

fn report(what: &str, times: &[Duration], target: &str) {
    let median = super::percentile(times, 50.0);
    outln!(
        "{what:<22} median {:>10.3} ms  ({} runs; target ≤ {target})",
        median.as_secs_f64() * 1e3,
        times.len()
    );
}

/// A backlog in agentry's JSON Lines: mixed statuses and priorities, `ready_at` spread over
/// the last day (a few in the future), and each issue depending on up to three earlier ones.
fn backlog_jsonl(issues: usize, now: Timestamp) -> (String, usize) {
    let mut rng = fastrand::Rng::with_seed(7);
    let ids: Vec<IssueId> = (0..issues)
        .map(|i| IssueId::generate(i as u64 * 2_654_435_761 + 1))
        .collect();
    let statuses = [
        "open",
        "open",
        "open",
        "open",
        "closed",
        "closed",
        "in_progress",
        "blocked",
        "needs_review",
    ];
    let mut text = String::new();
    let mut links = 0;
    for (index, id) in ids.iter().enumerate() {
        let mut depends: Vec<&IssueId> = (0..rng.usize(0..4))
            .filter(|_| index > 0)
            .map(|_| &ids[rng.usize(..index)])
            .collect();
        depends.sort();
        depends.dedup();
        links += depends.len();
        let links_json: Vec<String> = depends
            .iter()
            .map(|dst| format!(r#"{{"src":"{id}","kind":"depends-on","dst":"{dst}"}}"#))
            .collect();
        let _ = writeln!(
            text,
            r#"{{"id":"{id}","title":"Issue {index}","status":"{}","priority":{},"ready_at":"{}","verify":["sh test.sh"],"links":[{}]}}"#,
            statuses[rng.usize(..statuses.len())],
            rng.u8(0..5),
            now.plus_secs(-rng.i64(-600..86_400)),
            links_json.join(",")
        );
    }
    (text, links)
}

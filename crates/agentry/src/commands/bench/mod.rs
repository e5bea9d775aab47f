//! `agentry bench`: figures for BENCHMARKS.md. Each benchmark runs in its own process so that
//! its peak memory is its own.

mod dispatch;
mod engine;
mod fan_out;
mod http;
mod http_client;
mod loop_bench;
mod parse;
mod store;
mod stream_json;
mod worktrees;

use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::cli::BenchKind;
use crate::output::outln;

pub fn run(which: Option<BenchKind>, issues: Option<usize>) -> Result<()> {
    match which {
        Some(BenchKind::Store) => store::run(issues.unwrap_or(20_000)),
        Some(BenchKind::Loop) => loop_bench::run(issues.unwrap_or(10_000)),
        Some(BenchKind::Worktrees) => worktrees::run(issues.unwrap_or(200)),
        Some(BenchKind::Dispatch) => dispatch::run(issues.unwrap_or(200)),
        Some(BenchKind::StreamJson) => stream_json::run(),
        Some(BenchKind::Parse) => parse::run(),
        Some(BenchKind::Http) => http::run(issues.unwrap_or(1_000)),
        None => [
            "store",
            "loop",
            "worktrees",
            "dispatch",
            "stream-json",
            "parse",
            "http",
        ]
        .into_iter()
        .try_for_each(run_in_child),
    }
}

fn run_in_child(which: &str) -> Result<()> {
    let program = std::env::current_exe().context("could not find the agentry binary")?;
    let status = Command::new(program).args(["bench", which]).status()?;
    if !status.success() {
        bail!("the {which} benchmark failed ({status})");
    }
    outln!();
    Ok(())
}

/// The value below which `pct` percent of `times` fall.
pub(crate) fn percentile(times: &[Duration], pct: f64) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    let index = ((sorted.len() as f64 - 1.0) * pct / 100.0).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// This process's peak resident memory, in MiB (VmHWM).
pub(crate) fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// CPU time (user + system) used by this process, and by its children that have ended.
pub(crate) fn cpu_times() -> (Duration, Duration) {
    let of = |who| {
        // SAFETY: getrusage fills the struct it is given.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(who, &mut usage) };
        let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
        Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
    };
    (of(libc::RUSAGE_SELF), of(libc::RUSAGE_CHILDREN))
}

//! `agentry bench stream-json`: how fast Claude Code's output is read into events.

use std::time::Instant;

use crate::output::outln;
use agentry_agents::ClaudeStream;
use anyhow::Result;

/// A real session (claude writing a file, recorded against the scripted model server).
const RECORDED: &str = include_str!("../../../../agentry-agents/testdata/claude/write_file.jsonl");
/// Enough output to measure: about 100 MB.
const TARGET_BYTES: usize = 100 << 20;

pub fn run() -> Result<()> {
    let copies = TARGET_BYTES / RECORDED.len() + 1;
    let output = RECORDED.repeat(copies);
    let started = Instant::now();
    let mut events = 0;
    let mut stream = ClaudeStream::default();
    for line in output.lines() {
        events += stream.line(line).len();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let megabytes = output.len() as f64 / 1e6;
    outln!(
        "stream-json: {megabytes:.0} MB of recorded Claude Code output ({copies} sessions), {events} events"
    );
    outln!(
        "throughput             {:>10.1} MB/s  (target ≥ 50 MB/s)",
        megabytes / elapsed
    );
    Ok(())
}

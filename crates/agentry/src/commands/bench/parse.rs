//! `agentry bench parse`: the heuristics alone on the corpus of agent outputs: the share of
//! packets with every required field right, accuracy per field, and parse time per packet.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use agentry_lean::score::{Expected, score};
use agentry_lean::{MAX_INPUT_BYTES, PacketKind, parse};
use anyhow::{Context, Result, anyhow};

use super::percentile;
use crate::output::outln;

/// The corpus, read from the source tree the binary was built from.
const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../agentry-lean/testdata/corpus"
);
/// Parses of each case timed.
const ROUNDS: usize = 200;

struct Case {
    kind: PacketKind,
    text: String,
    expected: Expected,
}

pub fn run() -> Result<()> {
    let cases = corpus(Path::new(CORPUS))?;
    let mut right = 0;
    let mut fields: BTreeMap<(&str, String), (usize, usize)> = BTreeMap::new();
    let mut times = Vec::with_capacity(cases.len() * ROUNDS);
    for case in &cases {
        let schema = case.kind.schema();
        let result = parse(schema, &case.text)?;
        let score = score(&case.expected, &result);
        right += usize::from(score.required_right);
        for (name, ok) in score.fields {
            let tally = fields.entry((case.kind.name(), name)).or_default();
            tally.0 += usize::from(ok);
            tally.1 += 1;
        }
        for _ in 0..ROUNDS {
            let started = Instant::now();
            let result = parse(schema, &case.text);
            times.push(started.elapsed());
            drop(std::hint::black_box(result));
        }
    }
    report(&cases, right, &fields, &times);
    largest(&cases)
}

/// The whole corpus repeated up to the 10 MiB limit (padded with spaces), as one answer.
fn largest(cases: &[Case]) -> Result<()> {
    let corpus: String = cases.iter().map(|case| case.text.as_str()).collect();
    let mut text = corpus.repeat(MAX_INPUT_BYTES / corpus.len());
    text.push_str(&" ".repeat(MAX_INPUT_BYTES - text.len()));
    for kind in [PacketKind::ReviewVerdict, PacketKind::Handoff] {
        let started = Instant::now();
        parse(kind.schema(), &text)?;
        let elapsed = started.elapsed().as_secs_f64();
        outln!(
            "a 10 MiB answer, {:<14}  {:>6.0} ms  ({:.0} MB/s)",
            kind.name(),
            elapsed * 1e3,
            text.len() as f64 / 1e6 / elapsed
        );
    }
    Ok(())
}

fn report(
    cases: &[Case],
    right: usize,
    fields: &BTreeMap<(&str, String), (usize, usize)>,
    times: &[Duration],
) {
    let bytes: usize = cases.iter().map(|case| case.text.len()).sum();
    outln!(
        "parse: {} agent outputs ({} KB) from crates/agentry-lean/testdata/corpus, heuristics only",
        cases.len(),
        bytes / 1000
    );
    outln!(
        "every required field right   {:>6.1} %  ({right}/{})  (target ≥ 95 %)",
        100.0 * right as f64 / cases.len() as f64,
        cases.len()
    );
    let micros = |pct| percentile(times, pct).as_secs_f64() * 1e6;
    outln!(
        "parse time per packet        p50 {:.1} µs, p99 {:.1} µs  (target p50 ≤ 50 µs)",
        micros(50.0),
        micros(99.0)
    );
    outln!("accuracy per field:");
    let mut schema = "";
    for ((kind, name), (ok, all)) in fields {
        if *kind != schema {
            schema = kind;
            outln!("  {kind}");
        }
        outln!(
            "    {name:<14} {:>6.1} %  ({ok}/{all})",
            100.0 * *ok as f64 / *all as f64
        );
    }
}

fn corpus(dir: &Path) -> Result<Vec<Case>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| {
            format!(
                "the parse benchmark reads its corpus from the source tree: {}",
                dir.display()
            )
        })?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|name| name.strip_suffix(".txt").map(str::to_string))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let read = |suffix: &str| {
                let path = dir.join(format!("{name}{suffix}"));
                std::fs::read_to_string(&path)
                    .with_context(|| format!("could not read {}", path.display()))
            };
            let expected: Expected = serde_json::from_str(&read(".expected.json")?)
                .with_context(|| format!("{name}.expected.json"))?;
            let kind = PacketKind::from_name(&expected.schema)
                .ok_or_else(|| anyhow!("{name}: unknown schema {}", expected.schema))?;
            Ok(Case {
                kind,
                text: read(".txt")?,
                expected,
            })
        })
        .collect()
}

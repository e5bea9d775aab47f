//! `agentry issue import` and `export`, as JSON Lines.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use agentry_core::Timestamp;
use agentry_core::import::{ExportLine, ImportReport, parse_jsonl};
use agentry_store::Store;
use anyhow::{Context, Result};

use super::read_input;
use crate::output::{self, outln};
use crate::project::Project;

pub fn import(project: &Project, file: &PathBuf, json: bool) -> Result<()> {
    let text = read_input(file)?;
    let records =
        parse_jsonl(&text).with_context(|| format!("{} was not imported", file.display()))?;
    let report = project.open_store()?.import(records, Timestamp::now())?;
    if json {
        return output::json(&report);
    }
    print_report(&report, &file.display().to_string());
    Ok(())
}

fn print_report(report: &ImportReport, source: &str) {
    outln!(
        "imported {} issues and {} links from {source}; skipped {} issues and {} links",
        report.taken,
        report.links_taken,
        report.skipped.len(),
        report.links_skipped.len()
    );
    for (what, skipped) in [("issue", &report.skipped), ("link", &report.links_skipped)] {
        for item in skipped {
            let id = if item.source_id.is_empty() {
                String::new()
            } else {
                format!(" ({})", item.source_id)
            };
            outln!(
                "  skipped {what} on line {}{id}: {}",
                item.line,
                item.reason
            );
        }
    }
}

pub fn export(project: &Project) -> Result<()> {
    let exported = project.open_store()?.export()?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    for (issue, links) in &exported {
        serde_json::to_writer(&mut out, &ExportLine { issue, links })?;
        writeln!(out)?;
    }
    out.flush()?;
    Ok(())
}

//! Printing: JSON for `--json`, short text for people.

use std::io::{self, Write};

use agentry_core::Issue;
use anyhow::Result;
use serde::Serialize;

pub fn json(value: &impl Serialize) -> Result<()> {
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// One line per issue: id, priority, status, title.
pub fn issue_table(issues: &[Issue]) -> Result<()> {
    let mut out = io::stdout().lock();
    if issues.is_empty() {
        writeln!(out, "no issues")?;
    }
    for issue in issues {
        writeln!(
            out,
            "{:<10} P{}  {:<12}  {}",
            issue.id, issue.priority, issue.status, issue.title
        )?;
    }
    Ok(())
}

/// An issue, or one line about it, as the command's `--json` flag asks.
pub fn issue_or_line(issue: &Issue, json_wanted: bool, line: &str) -> Result<()> {
    if json_wanted {
        return json(issue);
    }
    println!("{line}");
    Ok(())
}

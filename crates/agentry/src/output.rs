//! Printing: JSON for `--json`, short text for people. Text for people goes through
//! [`terminal_safe`]: titles, reasons and answers come from issues, agents and the store, and
//! an escape sequence in one must not reach the operator's terminal as a command.

use std::borrow::Cow;
use std::fmt;
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

/// `println!` for text shown to people: control characters escaped (see [`terminal_safe`]).
macro_rules! outln {
    () => {
        $crate::output::print_text(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::print_text(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` for text shown to people: control characters escaped (see [`terminal_safe`]).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::print_text(format_args!($($arg)*))
    };
}

pub(crate) use {out, outln};

/// Writes `text` to stdout with its control characters escaped. A reader that has gone (`agentry
/// ... | head`) ends the command quietly; any other failure to write is a bug, as with `print!`.
pub fn print_text(text: fmt::Arguments<'_>) {
    let text = text.to_string();
    match io::stdout()
        .lock()
        .write_all(terminal_safe(&text).as_bytes())
    {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(err) => panic!("failed printing to stdout: {err}"),
    }
}

/// `text` with every control character but line breaks and tabs written as an escape
/// (`\u{1b}`), so that it cannot move the cursor, recolour or retitle a terminal.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    escape_controls(text, |c| c == '\n' || c == '\t')
}

/// A field shown on one line of a table: line breaks and tabs escaped too, so that a title
/// cannot forge rows of its own.
pub fn one_line(text: &str) -> Cow<'_, str> {
    escape_controls(text, |_| false)
}

fn escape_controls(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && !keep(c)) {
        return Cow::Borrowed(text);
    }
    let escaped = text
        .chars()
        .map(|c| match c.is_control() && !keep(c) {
            true => c.escape_unicode().to_string(),
            false => c.to_string(),
        })
        .collect();
    Cow::Owned(escaped)
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
            issue.id,
            issue.priority,
            issue.status,
            one_line(&issue.title)
        )?;
    }
    Ok(())
}

/// An issue, or one line about it, as the command's `--json` flag asks.
pub fn issue_or_line(issue: &Issue, json_wanted: bool, line: &str) -> Result<()> {
    if json_wanted {
        return json(issue);
    }
    outln!("{line}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_not_sent() {
        let title = "fix \u{1b}]0;owned\u{7}\u{1b}[2J login";
        assert_eq!(
            terminal_safe(title),
            "fix \\u{1b}]0;owned\\u{7}\\u{1b}[2J login"
        );
        assert_eq!(
            terminal_safe("two\nlines\tand a tab"),
            "two\nlines\tand a tab"
        );
        assert_eq!(one_line("a\nforged row"), "a\\u{a}forged row");
        assert!(matches!(terminal_safe("plain é"), Cow::Borrowed(_)));
        // C1 controls (CSI as one character) too.
        assert_eq!(terminal_safe("\u{9b}31m"), "\\u{9b}31m");
    }
}

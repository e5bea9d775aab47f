//! How failures reach the user: one line, and exit 2 for bad usage, input or config, 1 for a
//! failed run, 3 when the run guard refuses to dispatch.

use agentry_core::config::ConfigError;
use agentry_core::import::ImportError;
use agentry_core::issue::IssueInputError;
use agentry_store::StoreError;

/// A refusal caused by what the user asked for.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

pub fn exit_code(err: &anyhow::Error) -> u8 {
    if err.is::<crate::commands::GuardRefusal>() {
        return 3;
    }
    let refused = err.chain().any(|cause| {
        cause.is::<UsageError>()
            || cause.is::<ConfigError>()
            || cause.is::<ImportError>()
            || cause.is::<IssueInputError>()
            || cause
                .downcast_ref::<StoreError>()
                .is_some_and(StoreError::is_refusal)
    });
    if refused { 2 } else { 1 }
}

/// The error and its causes on one line.
pub fn one_line(err: &anyhow::Error) -> String {
    let text = format!("{err:#}").replace('\n', " ");
    crate::output::one_line(&text).into_owned()
}

/// The first line of a clap error without its `error: ` prefix, and where to find help.
pub fn clap_line(err: &clap::Error) -> String {
    let text = err.to_string();
    let first = text.lines().next().unwrap_or_default();
    let line = format!("{} (see --help)", first.trim_start_matches("error: "));
    crate::output::one_line(&line).into_owned()
}

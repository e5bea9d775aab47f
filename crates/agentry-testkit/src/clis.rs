//! Finding the real agent CLIs that scripts/install-agent-clis.sh installs.

use std::io::Write;
use std::path::PathBuf;

/// The `claude` to test: `AGENTRY_CLAUDE`, else the installed one; see [`cli_or_skip`].
pub fn claude_or_skip() -> Option<PathBuf> {
    cli_or_skip("claude", "AGENTRY_CLAUDE")
}

/// The `codex` to test: `AGENTRY_CODEX`, else the installed one; see [`cli_or_skip`].
pub fn codex_or_skip() -> Option<PathBuf> {
    cli_or_skip("codex", "AGENTRY_CODEX")
}

/// The `claude-code-acp` to test: `AGENTRY_CLAUDE_ACP`, else the installed one; see
/// [`cli_or_skip`].
pub fn claude_acp_or_skip() -> Option<PathBuf> {
    cli_or_skip("claude-code-acp", "AGENTRY_CLAUDE_ACP")
}

/// The CLI `name` to test: the path in `$override_var`, else the one
/// scripts/install-agent-clis.sh put in `$AGENTRY_AGENT_CLIS` (default
/// `~/.cache/agentry/agent-clis`). None, after saying so, when it is not installed — unless
/// `AGENTRY_REQUIRE_AGENT_CLIS=1`, when that fails the test.
fn cli_or_skip(name: &str, override_var: &str) -> Option<PathBuf> {
    let path = match std::env::var_os(override_var) {
        Some(path) => PathBuf::from(path),
        None => install_prefix().join("node_modules/.bin").join(name),
    };
    if path.is_file() {
        return Some(path);
    }
    let required = std::env::var("AGENTRY_REQUIRE_AGENT_CLIS").is_ok_and(|v| v == "1");
    assert!(!required, "{name} not found at {}", path.display());
    // Straight to stderr: the test harness captures println!, and a skip should be seen.
    let note = format!("skipped: {name} not installed (run scripts/install-agent-clis.sh)\n");
    let _ = std::io::stderr().write_all(note.as_bytes());
    None
}

fn install_prefix() -> PathBuf {
    match std::env::var_os("AGENTRY_AGENT_CLIS") {
        Some(prefix) => PathBuf::from(prefix),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
            .join(".cache/agentry/agent-clis"),
    }
}

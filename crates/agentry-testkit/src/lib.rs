//! Test doubles for agentry.
//!
//! [`ModelServer`] is a scripted model API on loopback. Real agent CLIs (Claude Code, Codex)
//! are pointed at it through their base-URL settings, so their whole loop — requests, tool
//! calls, tool results, rate limits, dropped streams — runs offline and deterministically.

mod answer;
mod anthropic;
mod clis;
mod openai;
mod record;
mod reply;
mod respond;
mod responses;
mod server;

pub use clis::{claude_acp_or_skip, claude_or_skip, codex_or_skip};
pub use record::RecordedRequest;
pub use reply::Reply;
pub use server::ModelServer;

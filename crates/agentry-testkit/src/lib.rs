//! Test doubles for agentry.
//!
//! [`ModelServer`] is a scripted model API on loopback. Real agent CLIs (Claude Code, Codex)
//! are pointed at it through their base-URL settings, so their whole loop — requests, tool
//! calls, tool results, rate limits, dropped streams — runs offline and deterministically.
//!
//! [`WebhookReceiver`] stands in for an ops webhook: it records what it is sent and fails on
//! cue.

mod answer;
mod anthropic;
mod clis;
mod openai;
mod record;
mod reply;
mod respond;
mod responses;
mod server;
mod webhook;

pub use clis::{claude_acp_or_skip, claude_or_skip, codex_or_skip};
pub use record::RecordedRequest;
pub use reply::Reply;
pub use server::ModelServer;
pub use webhook::{WebhookReceiver, unreachable_url};

//! Lean parsing of agent output: the packets agents write (dispatch, review verdict, question,
//! debug, handoff) as types with JSON Schemas generated from them, the checks a packet must
//! pass, and the heuristic parse that turns an agent's free text into a packet, each field
//! with a confidence and its source. Model fallbacks (plan rewrite, field fallback) build on
//! [`ParseResult::set_field`]; they live elsewhere.
//!
//! Pure: no IO, no clock, no async. Among agentry's crates it may depend only on
//! `agentry-core`. Every pass is linear in its input, and inputs are capped at
//! [`MAX_INPUT_BYTES`].

mod coerce;
pub mod contract;
mod heuristics;
mod packets;
mod parse;
mod review;
mod schema;
pub mod score;
mod text;
mod validate;

pub use heuristics::Method;
pub use packets::{
    Completed, DebugPacket, DispatchPacket, HandoffSummary, ITEM_MAX, NOTE_MAX, Packet, PacketKind,
    Pending, QuestionPacket, ReviewVerdict, TEXT_MAX,
};
pub use parse::{
    Diagnostic, FieldError, FieldResult, InputError, MAX_INPUT_BYTES, ParseResult, Source,
    check_size, parse,
};
pub use review::review_verdict;
pub use schema::{Field, Kind, Schema, SchemaError, Shape};
pub use validate::{MISSING, Violation, validate};

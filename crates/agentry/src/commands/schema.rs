//! `agentry schema NAME`: a packet's JSON Schema, generated from its type.

use agentry_lean::PacketKind;
use anyhow::Result;

use crate::error::usage;
use crate::output;

pub fn run(name: &str) -> Result<()> {
    output::json(&kind(name)?.json_schema())
}

/// The built-in packet called `name`, or a refusal naming the ones there are.
fn kind(name: &str) -> Result<PacketKind> {
    PacketKind::from_name(name).ok_or_else(|| {
        usage(format!(
            "unknown schema {name:?}; the schemas are {}",
            PacketKind::names()
        ))
    })
}

//! `agentry parse --schema NAME|FILE [INPUT|-]`: an agent's answer read into a packet by the
//! heuristics, with each field's confidence and source, and what is missing or invalid.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use agentry_lean::{InputError, MAX_INPUT_BYTES, PacketKind, ParseResult, Schema};
use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::cli::ParseArgs;
use crate::error::usage;
use crate::output;

pub fn run(args: ParseArgs) -> Result<()> {
    // `--force` will let a parse run while a lean fallback needs investigating; until the
    // fallbacks exist there is nothing to refuse.
    let _ = args.force;
    let schema = schema(&args.schema)?;
    let text = read_input(&args.input)?;
    let result = agentry_lean::parse(&schema, &text).map_err(|err| usage(err.to_string()))?;
    if args.json {
        output::json(&result)?;
    } else {
        print(&result);
    }
    if !result.complete {
        bail!(
            "the {} packet is not complete: {}",
            result.schema,
            problems(&result)
        );
    }
    Ok(())
}

/// A built-in packet by name, else a JSON Schema file.
fn schema(name_or_file: &str) -> Result<Cow<'static, Schema>> {
    if let Some(kind) = PacketKind::from_name(name_or_file) {
        return Ok(Cow::Borrowed(kind.schema()));
    }
    let path = Path::new(name_or_file);
    if !path.exists() {
        return Err(usage(format!(
            "unknown schema {name_or_file:?}: not one of {} and no such file",
            PacketKind::names()
        )));
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read {}", path.display()))?;
    let json: Value = serde_json::from_str(&text)
        .map_err(|err| usage(format!("{} is not JSON: {err}", path.display())))?;
    let name = path
        .file_stem()
        .map_or_else(|| name_or_file.into(), |s| s.to_string_lossy());
    Schema::from_json_schema(&name, &json)
        .map(Cow::Owned)
        .map_err(|err| usage(format!("{}: {err}", path.display())))
}

/// The input, refused past the parser's limit before more of it is read.
fn read_input(path: &Path) -> Result<String> {
    let limit = MAX_INPUT_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    if path.as_os_str() == "-" {
        io::stdin()
            .take(limit)
            .read_to_end(&mut bytes)
            .context("could not read stdin")?;
    } else {
        let file =
            File::open(path).with_context(|| format!("could not read {}", path.display()))?;
        file.take(limit)
            .read_to_end(&mut bytes)
            .with_context(|| format!("could not read {}", path.display()))?;
    }
    agentry_lean::check_size(bytes.len()).map_err(|err| match err {
        InputError::TooLarge { .. } => usage(format!(
            "{}: input larger than 10 MiB is refused",
            shown(path)
        )),
    })?;
    String::from_utf8(bytes).map_err(|_| usage(format!("{} is not UTF-8 text", shown(path))))
}

fn shown(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "stdin".into()
    } else {
        path.display().to_string()
    }
}

fn problems(result: &ParseResult) -> String {
    let missing =
        (!result.missing.is_empty()).then(|| format!("missing {}", result.missing.join(", ")));
    let invalid = result.invalid.iter().map(ToString::to_string);
    missing
        .into_iter()
        .chain(invalid)
        .collect::<Vec<_>>()
        .join("; ")
}

fn print(result: &ParseResult) {
    let state = if result.complete {
        "complete"
    } else {
        "not complete"
    };
    println!(
        "{} packet, {state}, confidence {:.2}",
        result.schema, result.confidence
    );
    let packet = Value::Object(result.packet.clone());
    println!(
        "{}",
        serde_json::to_string_pretty(&packet).unwrap_or_default()
    );
    println!("fields:");
    let width = result
        .fields
        .iter()
        .map(|f| f.name.len())
        .max()
        .unwrap_or(0);
    for field in &result.fields {
        let how = match (field.source, field.method) {
            (Some(source), Some(method)) => format!("{}  {}", label(&source), label(&method)),
            (Some(source), None) => label(&source),
            _ if field.required => "missing".into(),
            _ => "not found (optional)".into(),
        };
        println!("  {:<width$}  {:.2}  {how}", field.name, field.confidence);
    }
    for violation in &result.invalid {
        println!("invalid: {violation}");
    }
    for note in &result.diagnostics {
        match &note.field {
            Some(field) => println!("note: {field}: {}", note.message),
            None => println!("note: {}", note.message),
        }
    }
}

/// The snake_case name a value serializes to.
fn label(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

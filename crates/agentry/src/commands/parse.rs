//! `agentry parse --schema NAME|FILE [INPUT|-]`: an agent's answer read into a packet, with
//! each field's confidence and source, and what is missing or invalid. Inside a project the
//! lean model fallbacks run when their flags are on, and the parse refuses while one of them
//! needs investigating, unless `--force`; elsewhere the heuristics run alone.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use agentry_core::Timestamp;
use agentry_engine::lean::{LeanError, LeanParse, LeanParser, Telemetry};
use agentry_lean::{InputError, MAX_INPUT_BYTES, PacketKind, ParseResult, Schema};
use agentry_store::Store;
use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::engine::runtime;
use super::guard::{Guarded, refuse_if_investigating};
use crate::cli::ParseArgs;
use crate::error::usage;
use crate::output::{self, outln};
use crate::project::Project;

pub fn run(dir: &Path, args: ParseArgs) -> Result<()> {
    // The input first: a refused schema must not leave a writer to stdin with a closed pipe.
    let text = read_input(&args.input)?;
    let schema = schema(&args.schema)?;
    let parse = match Project::find_if_any(dir)? {
        Some(project) => lean_parse(&project, &schema, &text, args.force)?,
        None => LeanParse {
            result: agentry_lean::parse(&schema, &text).map_err(|err| usage(err.to_string()))?,
            telemetry: Vec::new(),
        },
    };
    if args.json {
        output::json(&parse)?;
    } else {
        print(&parse.result);
        print_telemetry(&parse.telemetry);
    }
    let result = &parse.result;
    if !result.complete {
        bail!(
            "the {} packet is not complete: {}",
            result.schema,
            problems(result)
        );
    }
    Ok(())
}

/// The parse with the fallbacks the flags turn on, once the guard lets it run.
fn lean_parse(project: &Project, schema: &Schema, text: &str, force: bool) -> Result<LeanParse> {
    let store: Arc<dyn Store> = Arc::new(project.open_store()?);
    refuse_if_investigating(store.as_ref(), &project.config, force, Guarded::Parse)?;
    let parser = LeanParser::new(store, &project.config, &project.root).map_err(lean_error)?;
    runtime()?
        .block_on(parser.parse(schema, text, None, Timestamp::now()))
        .map_err(lean_error)
}

fn lean_error(err: LeanError) -> anyhow::Error {
    match err {
        LeanError::Config(_) | LeanError::Input(_) => usage(err.to_string()),
        LeanError::Store(err) => err.into(),
    }
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
    outln!(
        "{} packet, {state}, confidence {:.2}",
        result.schema,
        result.confidence
    );
    let packet = Value::Object(result.packet.clone());
    outln!(
        "{}",
        serde_json::to_string_pretty(&packet).unwrap_or_default()
    );
    outln!("fields:");
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
        outln!("  {:<width$}  {:.2}  {how}", field.name, field.confidence);
    }
    for violation in &result.invalid {
        outln!("invalid: {violation}");
    }
    for note in &result.diagnostics {
        match &note.field {
            Some(field) => outln!("note: {field}: {}", note.message),
            None => outln!("note: {}", note.message),
        }
    }
}

fn print_telemetry(telemetry: &[Telemetry]) {
    for entry in telemetry {
        let reason = entry.reason.map(|r| format!(" ({})", label(&r)));
        let fields = (!entry.fields.is_empty()).then(|| format!(": {}", entry.fields.join(", ")));
        outln!(
            "telemetry: {} {}{}{}",
            entry.event,
            label(&entry.action),
            reason.unwrap_or_default(),
            fields.unwrap_or_default()
        );
    }
}

/// The snake_case name a value serializes to.
fn label(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

//! Packets on `|`-separated lines: `BUG: x | ROOT: y | FIX: z`, a header row of keys over a
//! row of values (`BUG | ROOT | FIX` then `x | y | z`, or a markdown table), and two-column
//! table rows (`| ROOT | y |`).

use super::keys::key_line;
use super::{Found, Method, Raw};
use crate::schema::{KeyHit, Schema};
use crate::text::clean_value;
use crate::text::lines::{Line, LineKind};

const CONFIDENCE: f64 = 0.85;

/// Proposes the values on packet lines; returns which lines were packet lines.
pub(crate) fn find(schema: &Schema, lines: &[Line<'_>], found: &mut Found) -> Vec<bool> {
    let mut used = vec![false; lines.len()];
    let mut index = 0;
    while index < lines.len() {
        let line = &lines[index];
        let prose = matches!(line.kind, LineKind::Text { .. } | LineKind::Bullet { .. });
        let table = matches!(line.kind, LineKind::Table);
        if !(prose || table) || !line.text.contains('|') {
            index += 1;
            continue;
        }
        if prose && keyed_parts(schema, line, found) {
            used[index] = true;
        } else if let Some(last) = header_and_row(schema, lines, index, found) {
            used[index..=last].iter_mut().for_each(|u| *u = true);
            index = last;
        } else if table {
            two_columns(schema, line, found);
        }
        index += 1;
    }
    used
}

/// `BUG: x | ROOT: y`: a `|` followed by a key starts the next part; any other `|` is part
/// of the value (`VERIFY: cargo test | tee log`).
fn keyed_parts(schema: &Schema, line: &Line<'_>, found: &mut Found) -> bool {
    let mut parts: Vec<(KeyHit, String)> = Vec::new();
    for segment in line.text.split('|') {
        match key_line(schema, segment).filter(|key| !key.rest.is_empty()) {
            Some(key) => {
                // the key line comes trimmed; a value continues with the space it had
                let trailing = &segment[segment.trim_end().len()..];
                parts.push((key.hit, format!("{}{trailing}", key.rest)));
            }
            None => {
                if let Some((_, value)) = parts.last_mut() {
                    value.push('|');
                    value.push_str(segment);
                }
            }
        }
    }
    if distinct_fields(parts.iter().map(|(hit, _)| *hit)) < 2 {
        return false;
    }
    for (hit, value) in parts {
        let raw = Raw::Text(clean_value(&value));
        found.propose(hit, raw, CONFIDENCE, Method::PacketLine, line.offset);
    }
    true
}

/// The fields a header row names (`BUG | ROOT | FIX`); empty unless every cell names one and
/// they are at least two.
pub(crate) fn header_fields(schema: &Schema, line: &str) -> Vec<usize> {
    header(schema, line).map_or_else(Vec::new, |hits| hits.iter().map(|hit| hit.field).collect())
}

fn header(schema: &Schema, line: &str) -> Option<Vec<KeyHit>> {
    if !line.contains('|') {
        return None;
    }
    let hits: Vec<KeyHit> = cells(line)
        .iter()
        .map(|cell| schema.key(cell))
        .collect::<Option<_>>()?;
    (distinct_fields(hits.iter().copied()) >= 2).then_some(hits)
}

/// A row of keys, then (past a `|---|` row) a row of as many values; returns the values'
/// line.
fn header_and_row(
    schema: &Schema,
    lines: &[Line<'_>],
    index: usize,
    found: &mut Found,
) -> Option<usize> {
    let hits = header(schema, lines[index].text)?;
    let (row, values) = lines[index + 1..]
        .iter()
        .enumerate()
        .filter(|(_, line)| line.kind != LineKind::Blank)
        .map(|(offset, line)| (index + 1 + offset, cells(line.text)))
        .find(|(_, cells)| !is_separator(cells))?;
    if values.len() != hits.len() {
        return None;
    }
    for (hit, value) in hits.into_iter().zip(values) {
        let raw = Raw::Text(clean_value(value));
        found.propose(hit, raw, CONFIDENCE, Method::PacketLine, lines[row].offset);
    }
    Some(row)
}

/// `| ROOT | the cache is keyed by path |`
fn two_columns(schema: &Schema, line: &Line<'_>, found: &mut Found) {
    if let [key, value] = cells(line.text)[..] {
        if let Some(hit) = schema.key(key) {
            let raw = Raw::Text(clean_value(value));
            found.propose(hit, raw, CONFIDENCE, Method::PacketLine, line.offset);
        }
    }
}

fn cells(line: &str) -> Vec<&str> {
    let line = line.trim();
    let line = line.strip_prefix('|').unwrap_or(line);
    let line = line.strip_suffix('|').unwrap_or(line);
    line.split('|').map(str::trim).collect()
}

fn is_separator(cells: &[&str]) -> bool {
    cells
        .iter()
        .all(|cell| !cell.is_empty() && cell.chars().all(|c| matches!(c, '-' | ':' | ' ')))
}

fn distinct_fields(hits: impl Iterator<Item = KeyHit>) -> usize {
    let mut fields: Vec<usize> = hits.map(|hit| hit.field).collect();
    fields.sort_unstable();
    fields.dedup();
    fields.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PacketKind;
    use crate::text::lines::classify;

    fn read(text: &str) -> Vec<(String, String)> {
        let schema = PacketKind::Debug.schema();
        let lines = classify(text, |_| Vec::new());
        let mut found = Found::default();
        find(schema, &lines, &mut found);
        found
            .candidates
            .into_iter()
            .map(|c| match c.raw {
                Raw::Text(text) => (schema.fields()[c.field].name.clone(), text),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn reads_keyed_parts_keeping_pipes_in_values() {
        assert_eq!(
            read("BUG: crash | ROOT: `a | b` pipe | FIX: quote it"),
            pairs(&[
                ("bug", "crash"),
                ("root", "`a | b` pipe"),
                ("fix", "quote it")
            ])
        );
    }

    #[test]
    fn reads_a_header_over_a_row_and_two_column_rows() {
        assert_eq!(
            read("| BUG | ROOT |\n|---|---|\n| crash | cache |"),
            pairs(&[("bug", "crash"), ("root", "cache")])
        );
        assert_eq!(
            read("| Field | Value |\n|---|---|\n| **Root cause** | cache |"),
            pairs(&[("root", "cache")])
        );
    }
}

//! A packet schema compiled from its JSON Schema: the fields the heuristics look for (by name
//! and `x-aliases`) and the limits a packet is checked against. The built-in packets and a
//! schema file a user gives go the same way, so both are parsed and checked alike.
//!
//! Only the part of JSON Schema that packets need is supported; any other validation keyword
//! is refused rather than silently not enforced.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::text::normalize_key;

/// Keywords that only describe, and are ignored.
const ANNOTATIONS: [&str; 12] = [
    "$schema",
    "$id",
    "$comment",
    "$defs",
    "definitions",
    "title",
    "description",
    "default",
    "examples",
    "format",
    "readOnly",
    "writeOnly",
];
/// Keywords that are enforced.
const CHECKED: [&str; 14] = [
    "type",
    "enum",
    "const",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "items",
    "minimum",
    "maximum",
    "properties",
    "required",
    "additionalProperties",
    "$ref",
];
/// How deep schemas may nest (through `$ref` too), which also stops a schema referring to
/// itself.
const MAX_DEPTH: usize = 16;

/// A compiled packet schema: an object with named fields.
#[derive(Clone, Debug)]
pub struct Schema {
    name: String,
    fields: Vec<Field>,
    closed: bool,
    keys: HashMap<String, KeyHit>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: String,
    /// Other names agents give it, from `x-aliases`.
    pub aliases: Vec<String>,
    pub required: bool,
    pub shape: Shape,
}

/// A value's type and limits.
#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    pub kind: Kind,
    pub nullable: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Text {
        min_len: usize,
        max_len: Option<usize>,
        /// The only values allowed (`enum`), if limited.
        one_of: Option<Vec<String>>,
    },
    Integer {
        min: Option<f64>,
        max: Option<f64>,
    },
    Number {
        min: Option<f64>,
        max: Option<f64>,
    },
    Boolean,
    List {
        items: Box<Shape>,
        min_items: usize,
        max_items: Option<usize>,
    },
    Object {
        fields: Vec<Field>,
        /// Unknown fields are rejected (`additionalProperties: false`).
        closed: bool,
    },
    /// No type given: anything goes.
    Any,
}

/// A key as written, matched to a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyHit {
    pub field: usize,
    /// The field's own name rather than an alias.
    pub exact: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SchemaError {
    #[error("schema {pointer}: {reason}")]
    Invalid { pointer: String, reason: String },
    #[error(
        "schema {pointer}: keyword \"{keyword}\" is not supported (supported: {})",
        CHECKED.join(", ")
    )]
    Unsupported { pointer: String, keyword: String },
}

impl Schema {
    /// Compiles a JSON Schema whose root is an object with `properties`.
    pub fn from_json_schema(name: &str, root: &Value) -> Result<Schema, SchemaError> {
        let shape = Compiler { root }.shape(root, "", 0)?;
        let Kind::Object { fields, closed } = shape.kind else {
            return Err(invalid("", "the root must be an object with properties"));
        };
        if fields.is_empty() {
            return Err(invalid("", "the root object has no properties"));
        }
        let keys = key_map(&fields);
        Ok(Schema {
            name: name.to_string(),
            fields,
            closed,
            keys,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Required fields first, in the schema's order, then the others by name.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|field| field.name == name)
    }

    pub(crate) fn closed(&self) -> bool {
        self.closed
    }

    /// The field a key written by an agent names ("NOT-YOUR-JOB", "**Root cause**").
    pub(crate) fn key(&self, written: &str) -> Option<KeyHit> {
        self.keys.get(&normalize_key(written)?).copied()
    }
}

impl Field {
    pub fn is_list(&self) -> bool {
        matches!(self.shape.kind, Kind::List { .. })
    }
}

/// Every normalised name and alias → its field; a name wins over another field's alias.
fn key_map(fields: &[Field]) -> HashMap<String, KeyHit> {
    let mut keys = HashMap::new();
    for (index, field) in fields.iter().enumerate() {
        for alias in &field.aliases {
            if let Some(key) = normalize_key(alias) {
                keys.entry(key).or_insert(KeyHit {
                    field: index,
                    exact: false,
                });
            }
        }
    }
    for (index, field) in fields.iter().enumerate() {
        if let Some(key) = normalize_key(&field.name) {
            keys.insert(
                key,
                KeyHit {
                    field: index,
                    exact: true,
                },
            );
        }
    }
    keys
}

fn invalid(pointer: &str, reason: &str) -> SchemaError {
    SchemaError::Invalid {
        pointer: display_pointer(pointer),
        reason: reason.to_string(),
    }
}

fn display_pointer(pointer: &str) -> String {
    if pointer.is_empty() {
        "/".into()
    } else {
        pointer.into()
    }
}

struct Compiler<'a> {
    root: &'a Value,
}

impl Compiler<'_> {
    fn shape(&self, schema: &Value, at: &str, depth: usize) -> Result<Shape, SchemaError> {
        if depth > MAX_DEPTH {
            return Err(invalid(
                at,
                "nests too deep (or refers to itself through $ref)",
            ));
        }
        let object = match schema {
            Value::Object(object) => object,
            Value::Bool(true) => return Ok(any()),
            _ => return Err(invalid(at, "a schema must be an object")),
        };
        check_keywords(object, at)?;
        if let Some(reference) = object.get("$ref") {
            // beside a $ref only annotations are read, so a check there would go unenforced
            if let Some(keyword) = object
                .keys()
                .find(|k| *k != "$ref" && CHECKED.contains(&k.as_str()))
            {
                return Err(SchemaError::Unsupported {
                    pointer: display_pointer(at),
                    keyword: format!("{keyword} beside $ref"),
                });
            }
            return self.reference(reference, at, depth);
        }
        let (types, nullable) = types(object.get("type"), at)?;
        let kind = match types.as_deref() {
            None if object.contains_key("enum") || object.contains_key("const") => {
                text(object, at)?
            }
            None if object.contains_key("properties") => self.object(object, at, depth)?,
            None => Kind::Any,
            Some("string") => text(object, at)?,
            Some("integer") => Kind::Integer {
                min: number(object, "minimum", at)?,
                max: number(object, "maximum", at)?,
            },
            Some("number") => Kind::Number {
                min: number(object, "minimum", at)?,
                max: number(object, "maximum", at)?,
            },
            Some("boolean") => Kind::Boolean,
            Some("array") => self.list(object, at, depth)?,
            Some("object") => self.object(object, at, depth)?,
            Some(other) => return Err(invalid(at, &format!("type \"{other}\" is not supported"))),
        };
        Ok(Shape { kind, nullable })
    }

    fn reference(&self, reference: &Value, at: &str, depth: usize) -> Result<Shape, SchemaError> {
        let target = reference
            .as_str()
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|pointer| self.root.pointer(pointer))
            .ok_or_else(|| invalid(at, "$ref must point inside this schema (\"#/$defs/...\")"))?;
        self.shape(target, at, depth + 1)
    }

    fn list(
        &self,
        object: &Map<String, Value>,
        at: &str,
        depth: usize,
    ) -> Result<Kind, SchemaError> {
        let items = match object.get("items") {
            Some(items) => self.shape(items, &format!("{at}/items"), depth + 1)?,
            None => any(),
        };
        Ok(Kind::List {
            items: Box::new(items),
            min_items: count(object, "minItems", at)?.unwrap_or(0),
            max_items: count(object, "maxItems", at)?,
        })
    }

    fn object(
        &self,
        object: &Map<String, Value>,
        at: &str,
        depth: usize,
    ) -> Result<Kind, SchemaError> {
        let closed = match object.get("additionalProperties") {
            None | Some(Value::Bool(true)) => false,
            Some(Value::Bool(false)) => true,
            Some(_) => {
                return Err(SchemaError::Unsupported {
                    pointer: display_pointer(&format!("{at}/additionalProperties")),
                    keyword: "additionalProperties (as a schema)".into(),
                });
            }
        };
        let required = required(object, at)?;
        let empty = Map::new();
        let properties = match object.get("properties") {
            Some(Value::Object(properties)) => properties,
            Some(_) => return Err(invalid(at, "properties must be an object")),
            None => &empty,
        };
        if let Some(name) = required.iter().find(|name| !properties.contains_key(*name)) {
            return Err(invalid(
                at,
                &format!("required field \"{name}\" has no property"),
            ));
        }
        // Required fields in the schema's order, then the others by name (the order JSON
        // objects lose).
        let mut names: Vec<&String> = required.iter().collect();
        names.extend(properties.keys().filter(|name| !required.contains(*name)));
        let mut fields = Vec::with_capacity(names.len());
        for name in names {
            let at = format!("{at}/properties/{}", crate::validate::escape(name));
            let schema = &properties[name];
            fields.push(Field {
                name: name.clone(),
                aliases: aliases(schema, &at)?,
                required: required.contains(name),
                shape: self.shape(schema, &at, depth + 1)?,
            });
        }
        Ok(Kind::Object { fields, closed })
    }
}

fn any() -> Shape {
    Shape {
        kind: Kind::Any,
        nullable: false,
    }
}

fn check_keywords(object: &Map<String, Value>, at: &str) -> Result<(), SchemaError> {
    let unsupported = object.keys().find(|key| {
        !key.starts_with("x-")
            && !ANNOTATIONS.contains(&key.as_str())
            && !CHECKED.contains(&key.as_str())
    });
    match unsupported {
        Some(keyword) => Err(SchemaError::Unsupported {
            pointer: display_pointer(at),
            keyword: keyword.clone(),
        }),
        None => Ok(()),
    }
}

/// The one type named (besides "null"), and whether null is allowed.
fn types(value: Option<&Value>, at: &str) -> Result<(Option<String>, bool), SchemaError> {
    let names: Vec<&str> = match value {
        None => return Ok((None, false)),
        Some(Value::String(name)) => vec![name],
        Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
        Some(_) => return Err(invalid(at, "type must be a string or an array of strings")),
    };
    let nullable = names.contains(&"null");
    let others: Vec<&str> = names.into_iter().filter(|name| *name != "null").collect();
    match others.as_slice() {
        [] => Err(invalid(at, "a field of type null only is not supported")),
        [one] => Ok((Some((*one).to_string()), nullable)),
        _ => Err(invalid(at, "a field of several types is not supported")),
    }
}

fn text(object: &Map<String, Value>, at: &str) -> Result<Kind, SchemaError> {
    let one_of = match (object.get("enum"), object.get("const")) {
        (Some(Value::Array(values)), _) => Some(strings(values, at)?),
        (Some(_), _) => return Err(invalid(at, "enum must be an array")),
        (None, Some(value)) => Some(strings(std::slice::from_ref(value), at)?),
        (None, None) => None,
    };
    Ok(Kind::Text {
        min_len: count(object, "minLength", at)?.unwrap_or(0),
        max_len: count(object, "maxLength", at)?,
        one_of,
    })
}

fn strings(values: &[Value], at: &str) -> Result<Vec<String>, SchemaError> {
    values
        .iter()
        .map(|value| {
            value
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| invalid(at, "only enums of strings are supported"))
        })
        .collect()
}

fn count(
    object: &Map<String, Value>,
    keyword: &str,
    at: &str,
) -> Result<Option<usize>, SchemaError> {
    match object.get(keyword) {
        None => Ok(None),
        Some(value) => value
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| invalid(at, &format!("{keyword} must be a non-negative integer"))),
    }
}

fn number(
    object: &Map<String, Value>,
    keyword: &str,
    at: &str,
) -> Result<Option<f64>, SchemaError> {
    match object.get(keyword) {
        None => Ok(None),
        Some(value) => value
            .as_f64()
            .map(Some)
            .ok_or_else(|| invalid(at, &format!("{keyword} must be a number"))),
    }
}

fn required(object: &Map<String, Value>, at: &str) -> Result<Vec<String>, SchemaError> {
    match object.get("required") {
        None => Ok(Vec::new()),
        Some(Value::Array(names)) => strings(names, at),
        Some(_) => Err(invalid(at, "required must be an array of names")),
    }
}

fn aliases(schema: &Value, at: &str) -> Result<Vec<String>, SchemaError> {
    match schema.get("x-aliases") {
        None => Ok(Vec::new()),
        Some(Value::Array(names)) => strings(names, at),
        Some(_) => Err(invalid(at, "x-aliases must be an array of strings")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn compiles_fields_with_their_limits_in_order() {
        let schema = Schema::from_json_schema(
            "t",
            &json!({
                "type": "object",
                "properties": {
                    "b": {"type": "string", "maxLength": 5, "x-aliases": ["bee"]},
                    "a": {"type": "array", "items": {"$ref": "#/$defs/item"}, "maxItems": 2},
                    "c": {"type": ["integer", "null"], "minimum": 0}
                },
                "required": ["b", "a"],
                "additionalProperties": false,
                "$defs": {"item": {"type": "string"}}
            }),
        )
        .unwrap();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["b", "a", "c"]);
        assert!(schema.closed());
        assert_eq!(schema.key("BEE").map(|hit| hit.field), Some(0));
        assert!(schema.fields()[2].shape.nullable);
        assert!(!schema.fields()[2].required);
    }

    #[test]
    fn refuses_what_it_cannot_enforce() {
        let err = Schema::from_json_schema(
            "t",
            &json!({"type": "object", "properties": {"a": {"type": "string", "pattern": "x"}}}),
        )
        .unwrap_err();
        assert_eq!(
            err,
            SchemaError::Unsupported {
                pointer: "/properties/a".into(),
                keyword: "pattern".into()
            }
        );
        let beside_ref = json!({"type": "object", "properties": {"a": {"$ref": "#/$defs/s", "maxLength": 3}}, "$defs": {"s": {"type": "string"}}});
        assert!(matches!(
            Schema::from_json_schema("t", &beside_ref),
            Err(SchemaError::Unsupported { keyword, .. }) if keyword == "maxLength beside $ref"
        ));
        let looping = json!({"type": "object", "properties": {"a": {"$ref": "#/properties/a"}}});
        assert!(Schema::from_json_schema("t", &looping).is_err());
        assert!(Schema::from_json_schema("t", &json!({"type": "string"})).is_err());
    }
}

//! JSON Schemas generated from the document types.
//!
//! The committed files under `specs/schemas/` are produced by
//! `cargo xtask schemas` from these functions; a test fails when they drift.

use schemars::generate::SchemaSettings;
use serde_json::Value;

use crate::document::Document;

/// The base of every schema `$id`; stable across releases.
pub const SCHEMA_ID_BASE: &str = "https://dcx.dev/schemas/";

/// The `$id` of a document's schema.
pub fn schema_id(document_id: &str) -> String {
    format!("{SCHEMA_ID_BASE}{document_id}.schema.json")
}

/// The file name a document's schema is committed under.
pub fn schema_file_name(document_id: &str) -> String {
    format!("{document_id}.schema.json")
}

/// The JSON Schema (draft 2020-12) of a document type, with its stable `$id`.
pub fn json_schema<D: Document>() -> Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let schema = generator.into_root_schema_for::<D>();
    let mut value = schema.to_value();
    if let Value::Object(map) = &mut value {
        map.insert("$id".to_owned(), Value::String(schema_id(D::ID)));
    }
    value
}

/// The schema text as committed: pretty JSON with a final newline.
pub fn json_schema_text<D: Document>() -> String {
    let mut text = serde_json::to_string_pretty(&json_schema::<D>()).unwrap_or_default();
    text.push('\n');
    text
}

/// A short description of what the schema expects at `pointer`, such as
/// "a string" or "one of `pass`, `fail`", for error messages.
pub(crate) fn expected_at<D: Document>(pointer: &str) -> Option<String> {
    let root = json_schema::<D>();
    let mut node = &root;
    for token in pointer.split('/').skip(1) {
        node = resolve(&root, node)?;
        node = if let Some(child) = node.get("properties").and_then(|p| p.get(token)) {
            child
        } else if token.parse::<usize>().is_ok() {
            node.get("items")?
        } else {
            return None;
        };
    }
    describe(&root, resolve(&root, node)?)
}

fn resolve<'a>(root: &'a Value, node: &'a Value) -> Option<&'a Value> {
    let mut node = node;
    // `$ref` chains are short; bound the walk anyway.
    for _ in 0..8 {
        if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            let name = reference.strip_prefix("#/$defs/")?;
            node = root.get("$defs")?.get(name)?;
            continue;
        }
        // `Option<Struct>` becomes `anyOf: [{$ref}, {type: null}]`: follow
        // the one branch that is not null.
        let branches = node.get("anyOf").and_then(Value::as_array);
        let mut non_null = branches
            .into_iter()
            .flatten()
            .filter(|b| b.get("type").and_then(Value::as_str) != Some("null"));
        match (non_null.next(), non_null.next()) {
            (Some(only), None) if branches.is_some() => node = only,
            _ => return Some(node),
        }
    }
    None
}

fn describe(root: &Value, node: &Value) -> Option<String> {
    if let Some(values) = node.get("enum").and_then(Value::as_array) {
        return Some(format!("one of {}", quote_all(values)));
    }
    if let Some(variants) = node.get("oneOf").and_then(Value::as_array) {
        let consts: Vec<Value> = variants
            .iter()
            .filter_map(|v| resolve(root, v)?.get("const").cloned())
            .collect();
        if consts.len() == variants.len() {
            return Some(format!("one of {}", quote_all(&consts)));
        }
    }
    if let Some(value) = node.get("const") {
        return Some(format!("the constant {value}"));
    }
    let kind = match node.get("type")? {
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect::<Vec<_>>()
            .join(" or "),
        _ => return None,
    };
    let article = match kind.as_str() {
        "object" => "an object",
        "array" => "an array",
        "integer" => "an integer",
        "string" if node.get("format").and_then(Value::as_str) == Some("date-time") => {
            "an RFC 3339 timestamp string"
        }
        "string" if node.get("pattern").and_then(Value::as_str) == Some("^[0-9a-f]{64}$") => {
            "a sha256 digest (64 lowercase hex characters)"
        }
        "string" => "a string",
        "boolean" => "a boolean",
        "number" => "a number",
        other => return Some(other.to_owned()),
    };
    Some(article.to_owned())
}

fn quote_all(values: &[Value]) -> String {
    values
        .iter()
        .map(|v| match v {
            Value::String(s) => format!("`{s}`"),
            other => format!("`{other}`"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

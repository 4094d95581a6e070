//! `json-c14n-v1`: the canonical JSON the runner certificates are hashed over.
//!
//! Objects have their keys sorted by UTF-8 bytes; arrays keep their order;
//! there is no whitespace; strings are escaped as serde_json escapes them
//! (only `"`, `\` and U+0000–U+001F; `/` and non-ASCII are written raw);
//! numbers are printed as serde_json prints them. The result equals Python's
//! `json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`
//! for the integer-only documents the peers hash. It is **not** RFC 8785
//! (which sorts keys by UTF-16 code units and formats floats differently):
//! the peers' hashes are defined by this algorithm, so it must stay as is.

use serde::Serialize;
use serde_json::Value;

use crate::digest::{Sha256Hex, sha256_bytes};

/// The canonical `json-c14n-v1` text of a JSON value.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

/// The canonical `json-c14n-v1` text of any serializable value.
pub fn canonical_json_of<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    Ok(canonical_json(&serde_json::to_value(value)?))
}

/// `sha256_hex(c14n(value))`: the digest of the canonical text's UTF-8 bytes.
pub fn canonical_sha256(value: &Value) -> Sha256Hex {
    sha256_bytes(canonical_json(value).as_bytes())
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => out.push_str(&number.to_string()),
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Sort explicitly rather than relying on serde_json's map type:
            // the `preserve_order` feature, enabled anywhere in a dependency
            // graph, would otherwise change every hash.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_bytewise_without_whitespace() {
        let v = json!({"b": 1, "a": [3, {"z": null, "é": true, "Z": false}], "": "x"});
        assert_eq!(
            canonical_json(&v),
            r#"{"":"x","a":[3,{"Z":false,"z":null,"é":true}],"b":1}"#
        );
    }

    #[test]
    fn escapes_like_serde_json_and_python() {
        // Only `"`, `\` and U+0000-U+001F are escaped; `/`, DEL and
        // non-ASCII are written raw (Python: ensure_ascii=False).
        let v = json!("a\"b\\c/d\u{0}\u{1f}\u{7f}\n\t\r\u{8}\u{c}é😀");
        let expected = r#""a\"b\\c/d\u0000\u001f"#.to_owned() + "\u{7f}" + r#"\n\t\r\b\f"# + "é😀\"";
        assert_eq!(canonical_json(&v), expected);
        assert_eq!(canonical_json(&v), serde_json::to_string(&v).unwrap());
    }

    #[test]
    fn non_bmp_keys_sort_by_utf8_bytes_not_utf16() {
        // U+FF61 is one UTF-16 unit above the surrogates used by U+1F600, so
        // RFC 8785 would put "😀" first; UTF-8 byte order puts it last.
        let v = json!({"😀": 1, "\u{ff61}": 2});
        assert_eq!(canonical_json(&v), "{\"\u{ff61}\":2,\"😀\":1}");
    }

    #[test]
    fn numbers_print_as_serde_json_does() {
        let v = json!([0, -1, 18446744073709551615u64, 0.5, 1e20, -0.0]);
        assert_eq!(canonical_json(&v), serde_json::to_string(&v).unwrap());
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e12f64..1e12).prop_map(Value::from),
            ".*".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((".*", inner), 0..6)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    /// Writes `value` as JSON text with every object's keys in a
    /// caller-chosen order, to feed the parser differently ordered input.
    fn write_shuffled(value: &Value, seed: &mut u64, out: &mut String) {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                // A small LCG is enough to produce varied permutations.
                for i in (1..entries.len()).rev() {
                    *seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    entries.swap(i, (*seed >> 33) as usize % (i + 1));
                }
                out.push('{');
                for (i, (k, v)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push_str(" , ");
                    }
                    out.push_str(&serde_json::to_string(k).unwrap());
                    out.push_str(" : ");
                    write_shuffled(v, seed, out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push_str("[ ");
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_shuffled(v, seed, out);
                }
                out.push_str(" ]");
            }
            other => out.push_str(&serde_json::to_string(other).unwrap()),
        }
    }

    proptest! {
        #[test]
        fn stable_under_key_reordering(value in arb_json(), seed in any::<u64>()) {
            let mut seed = seed;
            let mut text = String::new();
            write_shuffled(&value, &mut seed, &mut text);
            let reparsed: Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(canonical_json(&reparsed), canonical_json(&value));
        }

        #[test]
        fn round_trips_and_is_idempotent(value in arb_json()) {
            let canonical = canonical_json(&value);
            let reparsed: Value = serde_json::from_str(&canonical).unwrap();
            prop_assert_eq!(&reparsed, &value);
            prop_assert_eq!(canonical_json(&reparsed), canonical.clone());
            // With the default (sorted) map, serde_json's compact output is
            // an independent oracle for the whole algorithm.
            prop_assert_eq!(canonical, serde_json::to_string(&value).unwrap());
        }
    }
}

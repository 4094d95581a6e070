//! Building blocks for the semantic rules of [`Document::validate`](crate::Document::validate).

use crate::document::Violation;
use crate::pointer;

/// Collects violations while a document is walked.
#[derive(Debug, Default)]
pub(crate) struct Checker {
    violations: Vec<Violation>,
}

impl Checker {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn push(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.violations.push(Violation::new(pointer, message));
    }

    /// The field must not be empty or only whitespace.
    pub(crate) fn non_empty(&mut self, parent: &str, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.push(pointer::join(parent, field), "must not be empty");
        }
    }

    /// An integer field must hold the contract's constant.
    pub(crate) fn constant(&mut self, parent: &str, field: &str, found: u64, expected: u64) {
        if found != expected {
            self.push(
                pointer::join(parent, field),
                format!("must be {expected} (found {found})"),
            );
        }
    }

    /// A git commit id: 40 (SHA-1) or 64 (SHA-256) lowercase hex characters.
    pub(crate) fn commit_sha(&mut self, parent: &str, field: &str, value: &str) {
        let hex = value.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !(hex && (value.len() == 40 || value.len() == 64)) {
            self.push(
                pointer::join(parent, field),
                format!("expected a git commit id (40 or 64 lowercase hex characters), got {value:?}"),
            );
        }
    }

    /// Values of `items` selected by `key` must be unique; later duplicates
    /// are reported with the index of the first.
    pub(crate) fn unique<'a, T>(
        &mut self,
        list_pointer: &str,
        field: &str,
        items: &'a [T],
        key: impl Fn(&'a T) -> &'a str,
    ) {
        let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (index, item) in items.iter().enumerate() {
            let value = key(item);
            if let Some(first) = seen.get(value) {
                self.push(
                    pointer::join(&pointer::join(list_pointer, index), field),
                    format!("duplicate {field} {value:?} (first at {list_pointer}/{first})"),
                );
            } else {
                seen.insert(value, index);
            }
        }
    }

    pub(crate) fn finish(self) -> Vec<Violation> {
        self.violations
    }
}

/// Declares a unit type that (de)serializes as one fixed string, for the
/// `const` fields of the contracts (`intent-v1`, `sha256`, …). A wrong value
/// fails the typed parse with its pointer and the expected constant.
macro_rules! string_constant {
    ($(#[$doc:meta])* $name:ident = $value:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub struct $name;

        impl $name {
            /// The constant's text.
            pub const VALUE: &'static str = $value;
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str($value)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl ::serde::de::Visitor<'_> for Visitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        write!(f, "the constant `{}`", $value)
                    }
                    fn visit_str<E: ::serde::de::Error>(self, text: &str) -> Result<$name, E> {
                        if text == $value {
                            Ok($name)
                        } else {
                            Err(E::custom(format!("expected the constant `{}`, found `{}`", $value, text)))
                        }
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }

        impl ::schemars::JsonSchema for $name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                ::schemars::json_schema!({ "type": "string", "const": $value })
            }
        }
    };
}
pub(crate) use string_constant;

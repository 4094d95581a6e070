//! The one place dcx-contracts touches a YAML library.
//!
//! `serde_yaml` is unmaintained upstream; keeping every call behind these
//! few functions means a maintained fork (or another YAML crate with a serde
//! deserializer) replaces it by editing this file only.

use std::cell::Cell;
use std::fmt;

use serde::Serialize;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, Visitor};

/// How many values aliases may add beyond the text's length in bytes.
pub(crate) const ALIAS_SLACK: u64 = 65_536;

/// The most `[`/`{` open at once that the YAML library is handed.
pub(crate) const MAX_OPEN_BRACKETS: usize = 1_000;

/// A YAML error with its 1-based position when the library knows it.
#[derive(Debug)]
pub(crate) struct YamlError {
    pub(crate) message: String,
    pub(crate) line: Option<usize>,
    pub(crate) column: Option<usize>,
    /// Set when the document expands through aliases past this many values.
    pub(crate) expansion_limit: Option<u64>,
}

impl YamlError {
    fn from_library(error: &serde_yaml::Error) -> Self {
        let location = error.location();
        let mut message = error.to_string();
        // The library appends its own " at line L column C"; the position is
        // reported separately, in the `file:line:column` prefix.
        if let Some(at) = message.find(" at line ") {
            message.truncate(at);
        }
        Self {
            message,
            line: location.as_ref().map(|l| l.line()),
            column: location.as_ref().map(|l| l.column()),
            expansion_limit: None,
        }
    }
}

/// Refuses text the YAML library must not be handed, before anything is
/// built from it: too many flow brackets open at once (see
/// [`check_brackets`]), or aliases that expand the document past its
/// length plus [`ALIAS_SLACK`] values (see [`check_expansion`]). Every
/// parse of the same text replays the events this walk counted, so after
/// it no parse of it can grow past that budget.
pub(crate) fn check_bounds(text: &str) -> Result<(), YamlError> {
    check_brackets(text)?;
    // An alias is spelled `*name`: text without a `*` cannot expand, and is
    // spared the extra walk (registries with 10,000 lanes are parsed on
    // every ingest).
    if text.contains('*') {
        check_expansion(text)?;
    }
    Ok(())
}

/// Parses YAML text into a JSON value (for generic tools, and for the
/// loader's diagnosis of a document its typed parse refused), within
/// [`check_bounds`].
pub(crate) fn to_json_value(text: &str) -> Result<serde_json::Value, YamlError> {
    check_bounds(text)?;
    serde_yaml::from_str(text).map_err(|e| YamlError::from_library(&e))
}

/// Refuses text with more than [`MAX_OPEN_BRACKETS`] flow brackets open at
/// once, before the library sees it. The library stops at 128 levels of
/// nesting (its recursion limit), but only after scanning the whole
/// document, and its scanner is quadratic in flow depth (it revisits every
/// open level for each token): 100,000 `[` take minutes. The count ignores
/// quoting, so it can only over-estimate the depth; a real document never
/// has a thousand unbalanced brackets, and one nested past 128 is refused
/// by the library anyway.
fn check_brackets(text: &str) -> Result<(), YamlError> {
    let mut open = 0usize;
    let (mut line, mut column) = (1, 0);
    for c in text.chars() {
        column += 1;
        match c {
            '\n' => (line, column) = (line + 1, 0),
            '[' | '{' => {
                open += 1;
                if open > MAX_OPEN_BRACKETS {
                    return Err(YamlError {
                        message: format!(
                            "more than {MAX_OPEN_BRACKETS} '[' or '{{' open at once; refusing to parse it (a document nests at most 128 levels)"
                        ),
                        line: Some(line),
                        column: Some(column),
                        expansion_limit: None,
                    });
                }
            }
            ']' | '}' => open = open.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Walks the document as the deserializers will see it, aliases expanded,
/// keeping nothing, and fails once it has seen more values than the text's
/// length in bytes plus [`ALIAS_SLACK`]. Every value of an alias-free
/// document takes at least one byte of text (bar a few implicit nulls), so
/// only documents that multiply through anchors and aliases ("billion
/// laughs") are refused, after a bounded amount of work. Syntax errors and
/// the library's recursion limit surface here exactly as in the real parse.
fn check_expansion(text: &str) -> Result<(), YamlError> {
    let limit = (text.len() as u64).saturating_add(ALIAS_SLACK);
    let counter = Counter {
        left: Cell::new(limit),
    };
    match (&counter).deserialize(serde_yaml::Deserializer::from_str(text)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let mut error = YamlError::from_library(&e);
            if counter.left.get() == 0 {
                error.expansion_limit = Some(limit);
            }
            Err(error)
        }
    }
}

/// Counts values down to zero; see [`check_expansion`].
struct Counter {
    left: Cell<u64>,
}

impl Counter {
    fn take<E: de::Error>(&self) -> Result<(), E> {
        match self.left.get() {
            0 => Err(E::custom(
                "YAML aliases expand the document past its value budget",
            )),
            left => {
                self.left.set(left - 1);
                Ok(())
            }
        }
    }
}

impl<'de> DeserializeSeed<'de> for &Counter {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &Counter {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.take()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.take()
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<(), E> {
        self.take()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.take()
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<(), E> {
        self.take()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.take()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.take()
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<(), E> {
        self.take()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.take()
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.take()
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.deserialize(deserializer)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.deserialize(deserializer)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.take()?;
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.take()?;
        while map.next_key_seed(self)?.is_some() {
            map.next_value_seed(self)?;
        }
        Ok(())
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        // A tagged value (`!tag value`): the tag, then the value.
        use de::VariantAccess as _;
        let ((), variant) = data.variant_seed(self)?;
        variant.newtype_variant_seed(self)
    }
}

/// Deserializes `T` from YAML text, reporting the field path of the first
/// error and every ignored (unknown) field through `on_unknown`.
pub(crate) fn deserialize_tracked<T: DeserializeOwned>(
    text: &str,
    mut on_unknown: impl FnMut(serde_ignored::Path<'_>),
) -> Result<T, (serde_path_to_error::Path, YamlError)> {
    let deserializer = serde_yaml::Deserializer::from_str(text);
    let ignoring = serde_ignored::Deserializer::new(deserializer, &mut on_unknown);
    serde_path_to_error::deserialize(ignoring).map_err(|e| {
        let path = e.path().clone();
        let mut error = YamlError::from_library(e.inner());
        // The library also prefixes the field path ("runners[0].class: ");
        // callers report the path as a JSON Pointer instead.
        let dotted = path.to_string();
        if let Some((head, rest)) = error.message.split_once(": ")
            && !head.is_empty()
            && dotted.starts_with(head)
        {
            error.message = rest.to_owned();
        }
        (path, error)
    })
}

/// Serializes `value` as YAML text.
pub(crate) fn to_string<T: Serialize>(value: &T) -> Result<String, String> {
    serde_yaml::to_string(value).map_err(|e| e.to_string())
}

//! The one place dcx-contracts touches a YAML library.
//!
//! `serde_yaml` is unmaintained upstream; keeping every call behind these
//! few functions means a maintained fork (or another YAML crate with a serde
//! deserializer) replaces it by editing this file only.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A YAML error with its 1-based position when the library knows it.
#[derive(Debug)]
pub(crate) struct YamlError {
    pub(crate) message: String,
    pub(crate) line: Option<usize>,
    pub(crate) column: Option<usize>,
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
        }
    }
}

/// Parses YAML text into a JSON value (for version checks and generic tools).
pub(crate) fn to_json_value(text: &str) -> Result<serde_json::Value, YamlError> {
    serde_yaml::from_str(text).map_err(|e| YamlError::from_library(&e))
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

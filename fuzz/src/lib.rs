//! What every dcx fuzz target checks, beyond "does not panic".
//!
//! A document parser must either refuse the input with an error that can be
//! displayed, or return a document that (1) passes its own semantic rules,
//! (2) serializes, and (3) reads back as the same document. (3) is what
//! catches a parser that accepts something the writer cannot reproduce:
//! a signed-off artifact that would change on the next save.

use std::fmt::Debug;

use dcx_contracts::document::{self, Document, Format};

/// The label fuzz inputs carry in error messages.
pub const ORIGIN: &str = "fuzz-input";

/// Loads `data` as `D` in `format` and checks the round trip when it loads.
pub fn document_round_trip<D>(data: &[u8], format: Format)
where
    D: Document + PartialEq + Debug,
{
    let loaded = match document::from_bytes::<D>(data, format, ORIGIN) {
        Ok(loaded) => loaded,
        Err(error) => {
            // Error rendering walks positions and pointers: it must not panic.
            let message = error.to_string();
            assert!(!message.is_empty());
            return;
        }
    };
    let violations = loaded.document.validate();
    assert!(violations.is_empty(), "loaded document fails its own rules: {violations:?}");
    let bytes = document::to_bytes(&loaded.document, format)
        .unwrap_or_else(|error| panic!("a loaded document does not serialize: {error}"));
    let again = document::from_bytes::<D>(&bytes, format, ORIGIN).unwrap_or_else(|error| {
        panic!(
            "a saved document does not load again: {error}\n--- saved ---\n{}",
            String::from_utf8_lossy(&bytes)
        )
    });
    assert_eq!(loaded.document, again.document, "round trip changed the document");
}

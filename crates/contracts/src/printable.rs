//! Showing untrusted text on a terminal.

use std::fmt;

/// Displays text with control characters escaped (`\u{1b}`, `\n`, `\0`,
/// ...), so a key, an argument or an environment value cannot put terminal
/// escape sequences into a diagnostic or a report. Other text, non-ASCII
/// letters included, is shown as is.
///
/// ```
/// use dcx_contracts::printable::Printable;
///
/// assert_eq!(Printable("a\u{1b}[31mb").to_string(), "a\\u{1b}[31mb");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Printable<'a>(pub &'a str);

impl fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_debug())?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_letters_kept() {
        assert_eq!(
            Printable("a\u{1b}[31mb\n\tžluť").to_string(),
            "a\\u{1b}[31mb\\n\\tžluť"
        );
    }
}

//! Byte sizes on the command line: the resource-cap flags
//! (`--max-document-bytes`, `--max-package-bytes`, …) take plain bytes or
//! a binary-unit suffix, e.g. `1048576`, `512KiB`, `16MiB`, `1GiB`.
//! The one cap every command shares is `--max-document-bytes`
//! ([`DocumentLimitsArg`]).

use clap::Args;
use dcx_contracts::LoadLimits;

/// The global `--max-document-bytes`, flattened into the top-level
/// arguments.
#[derive(Debug, Clone, Copy, Args)]
pub(crate) struct DocumentLimitsArg {
    /// The largest document any command reads (bytes, or KiB/MiB/GiB).
    ///
    /// Registries, catalogs, overlays, bundles.lock.yaml, matrices,
    /// certificates, products.json, last_run.json, case files, checksum
    /// files and in-toto statements: a larger file is refused unread.
    #[arg(
        long,
        global = true,
        value_name = "SIZE",
        default_value = "16MiB",
        value_parser = parse_size
    )]
    max_document_bytes: u64,
}

impl DocumentLimitsArg {
    /// The limits every command passes to the libraries that load documents.
    pub(crate) fn limits(self) -> LoadLimits {
        LoadLimits::with_max_bytes(self.max_document_bytes)
    }
}

/// Parses `<digits>[B|KiB|MiB|GiB|TiB]` (units case-insensitive, a space
/// allowed before them). Decimal units (`MB`) are refused rather than
/// guessed at.
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let expected = || format!("expected a size such as 1048576, 512KiB, 16MiB or 1GiB, got {text:?}");
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(split);
    if digits.is_empty() {
        return Err(expected());
    }
    let shift = match unit.trim_start().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "kib" | "k" => 10,
        "mib" | "m" => 20,
        "gib" | "g" => 30,
        "tib" | "t" => 40,
        _ => return Err(expected()),
    };
    let number: u64 = digits.parse().map_err(|_| expected())?;
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("{text:?} is more than {} bytes", u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("100B"), Ok(100));
        assert_eq!(parse_size("512KiB"), Ok(512 << 10));
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("16 mib"), Ok(16 << 20));
        assert_eq!(parse_size("4GiB"), Ok(4 << 30));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("2TiB"), Ok(2 << 40));
    }

    #[test]
    fn nonsense_and_overflow_are_refused() {
        for bad in ["", "MiB", "-1", "1.5MiB", "16MB", "16 MiB x", "0x10"] {
            assert_eq!(
                parse_size(bad),
                Err(format!(
                    "expected a size such as 1048576, 512KiB, 16MiB or 1GiB, got {bad:?}"
                )),
                "{bad}"
            );
        }
        assert_eq!(
            parse_size("99999999999TiB"),
            Err("\"99999999999TiB\" is more than 18446744073709551615 bytes".to_owned())
        );
        assert!(parse_size("99999999999999999999").is_err());
    }
}

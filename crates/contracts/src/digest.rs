//! SHA-256 digests: the [`Sha256Hex`] newtype and streaming helpers.
//!
//! Every digest dcx reads or writes is 64 lowercase hex characters. Keeping
//! that in a type means a document that parsed holds only well-formed
//! digests, and comparisons never trip over case.

use std::fmt;
use std::io::{self, Read};
use std::path::Path;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// A SHA-256 digest written as 64 lowercase hexadecimal characters.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha256Hex([u8; 32]);

/// Why a string is not a [`Sha256Hex`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected 64 lowercase hex characters (a sha256 digest), got {found:?}")]
pub struct InvalidDigest {
    /// The rejected text, truncated to 80 characters.
    pub found: String,
}

impl Sha256Hex {
    /// Wraps raw digest bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw digest bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 64-character lowercase hex form.
    pub fn to_hex(&self) -> String {
        self.to_string()
    }

    /// Parses 64 lowercase hex characters; uppercase, prefixes such as
    /// `sha256:` and any other length are rejected.
    pub fn parse(text: &str) -> Result<Self, InvalidDigest> {
        let invalid = || InvalidDigest {
            found: text.chars().take(80).collect(),
        };
        let raw = text.as_bytes();
        if raw.len() != 64 {
            return Err(invalid());
        }
        let mut out = [0u8; 32];
        for (i, pair) in raw.chunks_exact(2).enumerate() {
            let hi = hex_value(pair[0]).ok_or_else(invalid)?;
            let lo = hex_value(pair[1]).ok_or_else(invalid)?;
            out[i] = (hi << 4) | lo;
        }
        Ok(Self(out))
    }
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        _ => None,
    }
}

impl fmt::Display for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Hex({self})")
    }
}

impl FromStr for Sha256Hex {
    type Err = InvalidDigest;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Sha256Hex {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Sha256Hex {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Failing inside the visitor (not after it returned) lets format
        // deserializers attach the position of the offending scalar.
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Sha256Hex;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sha256 digest (64 lowercase hex characters)")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Sha256Hex, E> {
                Sha256Hex::parse(text).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

impl JsonSchema for Sha256Hex {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Sha256Hex".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A sha256 digest: 64 lowercase hexadecimal characters.",
            "type": "string",
            "pattern": "^[0-9a-f]{64}$"
        })
    }
}

/// The sha256 of a byte slice.
pub fn sha256_bytes(bytes: &[u8]) -> Sha256Hex {
    Sha256Hex(Sha256::digest(bytes).into())
}

/// The sha256 of everything `reader` yields, read in 64 KiB chunks, and the
/// number of bytes read.
pub fn sha256_reader<R: Read>(mut reader: R) -> io::Result<(Sha256Hex, u64)> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buffer[..n]);
        total += n as u64;
    }
    Ok((Sha256Hex(hasher.finalize().into()), total))
}

/// The sha256 of a file's contents, streamed.
pub fn sha256_file(path: &Path) -> io::Result<Sha256Hex> {
    let file = std::fs::File::open(path)?;
    Ok(sha256_reader(file)?.0)
}

/// A reader that hashes the bytes passing through it, so a download or an
/// archive can be verified while it is consumed instead of read twice.
#[derive(Debug)]
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes_read: u64,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes_read: 0,
        }
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// The digest of everything read so far, and the inner reader.
    pub fn finish(self) -> (Sha256Hex, R) {
        (Sha256Hex(self.hasher.finalize().into()), self.inner)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes_read += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn known_digests() {
        assert_eq!(sha256_bytes(b"").to_hex(), EMPTY);
        assert_eq!(
            sha256_bytes(b"abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn streaming_matches_one_shot() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let (streamed, len) = sha256_reader(&data[..]).unwrap();
        assert_eq!(len, data.len() as u64);
        assert_eq!(streamed, sha256_bytes(&data));

        let mut reader = HashingReader::new(&data[..]);
        io::copy(&mut reader, &mut io::sink()).unwrap();
        assert_eq!(reader.bytes_read(), data.len() as u64);
        assert_eq!(reader.finish().0, sha256_bytes(&data));
    }

    #[test]
    fn parse_round_trips_and_rejects_bad_forms() {
        assert_eq!(Sha256Hex::parse(EMPTY).unwrap().to_string(), EMPTY);
        for bad in [
            "",
            "deadbeef",
            &EMPTY.to_uppercase(),
            &format!("sha256:{EMPTY}"),
            &format!("{EMPTY}0"),
            &EMPTY.replace('e', "g"),
        ] {
            assert!(Sha256Hex::parse(bad).is_err(), "{bad:?} accepted");
        }
        let err = Sha256Hex::parse("DEAD").unwrap_err();
        assert_eq!(
            err.to_string(),
            "expected 64 lowercase hex characters (a sha256 digest), got \"DEAD\""
        );
    }
}

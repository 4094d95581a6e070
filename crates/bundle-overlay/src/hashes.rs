//! The digests dcx defines for overlay builds, where the upstream contract
//! names a field but not what it covers. `specs/BUNDLE_HASHES.md` is the
//! normative text; the tests below are its vectors.
//!
//! The digests shared with the peers (`sha256_manifest`,
//! `declaration_sha256`, the package sha256) live in
//! [`dcx_contracts::manifest`] and [`dcx_contracts::digest`].

use std::collections::BTreeMap;

use dcx_contracts::Sha256Hex;
use dcx_contracts::bundle::ImplementationOverlay;
use dcx_contracts::c14n::canonical_json_of;
use dcx_contracts::digest::sha256_bytes;
use serde::Serialize;

/// What `overlay_sha256` hashes, as a JSON object (see [`overlay_sha256`]).
#[derive(Serialize)]
struct OverlayDigestInput<'a> {
    overlay: &'a ImplementationOverlay,
    sources: &'a BTreeMap<String, Sha256Hex>,
}

/// `overlay_sha256` of the build lock:
///
/// ```text
/// sha256_hex(json-c14n-v1({
///   "overlay": <the overlay document as dcx reads it>,
///   "sources": { "<source_path>": "<sha256 hex of that file>", ... }
/// }))
/// ```
///
/// - `overlay` is the `implementation_bundle_overlay_v1` document after
///   loading: only the fields of the contract (unknown fields dropped,
///   absent optional fields omitted), `updated_at` in UTC as
///   `YYYY-MM-DDTHH:MM:SSZ`. Comments and YAML formatting do not count; a
///   change of any operation, pin or output field does.
/// - `sources` maps every distinct `source_path` of `add_files` and
///   `replace_files` to the sha256 of the file's bytes. Editing a source file
///   changes the digest even when the document is untouched.
///
/// `sources` is a `BTreeMap`, so its keys are already in the order c14n
/// writes them; the c14n sorts regardless.
pub(crate) fn overlay_sha256(
    overlay: &ImplementationOverlay,
    sources: &BTreeMap<String, Sha256Hex>,
) -> Result<Sha256Hex, serde_json::Error> {
    let canonical = canonical_json_of(&OverlayDigestInput { overlay, sources })?;
    Ok(sha256_bytes(canonical.as_bytes()))
}

/// `integrity.sha256_manifests` of the lock an overlay build writes.
///
/// A resolver hashes `"<sha256 of manifest file>  <manifest path>\n"` over
/// the bundle manifests it resolved, in resolved order. An overlay build
/// resolves two inputs, base first: the base bundle, whose manifests its
/// own lock already summarizes, and the overlay. So:
///
/// ```text
/// sha256_hex("<base integrity.sha256_manifests>  <base root_bundle>\n"
///            "<overlay_sha256>  <output bundle_id>\n")
/// ```
pub(crate) fn overlay_sha256_manifests(
    base_sha256_manifests: &Sha256Hex,
    base_root_bundle: &str,
    overlay_sha256: &Sha256Hex,
    output_bundle_id: &str,
) -> Sha256Hex {
    let lines =
        format!("{base_sha256_manifests}  {base_root_bundle}\n{overlay_sha256}  {output_bundle_id}\n");
    sha256_bytes(lines.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dcx_contracts::{Format, from_str};

    const OVERLAY: &str = "\
version: 1
runner_id: rust
base_bundle:
  bundle_id: core
  bundle_version: 1.0.0
  source:
    repo: example/bundles
    release_tag: v1.0.0
    asset_url: base.tar.gz
    sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
overlay:
  add_files:
    - path: payloads/new.md
      source_path: files/new.md
  replace_files: []
  delete_paths: []
output_bundle:
  bundle_id: core-rust
  bundle_version: 1.0.0
  summary: Core for rust.
  maintainers:
    - name: maintainers
updated_at: 2026-02-22T10:30:00+01:00
";

    fn overlay(text: &str) -> ImplementationOverlay {
        from_str::<ImplementationOverlay>(text, Format::Yaml, "overlay.yaml")
            .unwrap()
            .document
    }

    fn sources() -> BTreeMap<String, Sha256Hex> {
        BTreeMap::from([("files/new.md".to_owned(), sha256_bytes(b"new\n"))])
    }

    /// The vector of `specs/BUNDLE_HASHES.md`: the canonical text, and its
    /// digest cross-checked with `printf '%s' '<text>' | sha256sum`.
    #[test]
    fn overlay_sha256_vector() {
        let input = OverlayDigestInput {
            overlay: &overlay(OVERLAY),
            sources: &sources(),
        };
        assert_eq!(
            canonical_json_of(&input).unwrap(),
            concat!(
                r#"{"overlay":{"base_bundle":{"bundle_id":"core","bundle_version":"1.0.0","source":"#,
                r#"{"asset_url":"base.tar.gz","release_tag":"v1.0.0","repo":"example/bundles","#,
                r#""sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}},"#,
                r#""output_bundle":{"bundle_id":"core-rust","bundle_version":"1.0.0","maintainers":"#,
                r#"[{"name":"maintainers"}],"summary":"Core for rust."},"overlay":{"add_files":"#,
                r#"[{"path":"payloads/new.md","source_path":"files/new.md"}],"delete_paths":[],"#,
                r#""replace_files":[]},"runner_id":"rust","updated_at":"2026-02-22T09:30:00Z","#,
                r#""version":1},"sources":{"files/new.md":"#,
                r#""7aa7a5359173d05b63cfd682e3c38487f3cb4f7f1d60659fe59fab1505977d4c"}}"#
            )
        );
        assert_eq!(
            overlay_sha256(&overlay(OVERLAY), &sources()).unwrap().to_hex(),
            "7f1675bc7de109412e59be6c96e03ec0466a5666517bd2e26c877e499c779085"
        );
    }

    #[test]
    fn formatting_does_not_count_content_does() {
        let base = overlay_sha256(&overlay(OVERLAY), &sources()).unwrap();
        let reformatted = format!(
            "# a comment\n{}",
            OVERLAY.replace("+01:00", "+01:00\nextra_field: ignored")
        );
        assert_eq!(overlay_sha256(&overlay(&reformatted), &sources()).unwrap(), base);

        let edited_source = BTreeMap::from([("files/new.md".to_owned(), sha256_bytes(b"new!\n"))]);
        assert_ne!(overlay_sha256(&overlay(OVERLAY), &edited_source).unwrap(), base);
        let retargeted = OVERLAY.replace("payloads/new.md", "payloads/other.md");
        assert_ne!(overlay_sha256(&overlay(&retargeted), &sources()).unwrap(), base);
    }

    #[test]
    fn sha256_manifests_vector() {
        let base = Sha256Hex::parse(&"a".repeat(64)).unwrap();
        let overlay = Sha256Hex::parse(&"b".repeat(64)).unwrap();
        let expected =
            sha256_bytes(format!("{}  core\n{}  core-rust\n", "a".repeat(64), "b".repeat(64)).as_bytes());
        assert_eq!(
            overlay_sha256_manifests(&base, "core", &overlay, "core-rust"),
            expected
        );
    }
}

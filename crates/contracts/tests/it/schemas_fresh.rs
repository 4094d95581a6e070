//! The committed schemas under `specs/schemas/` are generated from the types
//! (`cargo xtask schemas`); this fails as soon as a type changes without
//! regenerating them, or a schema file is edited by hand.

use dcx_contracts::documents::ALL;
use dcx_contracts::schema::{SCHEMA_ID_BASE, schema_file_name};

#[test]
fn committed_schemas_match_the_types() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/schemas");
    let mut stale = Vec::new();
    for kind in ALL {
        let path = dir.join(schema_file_name(kind.id));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != kind.json_schema_text() {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale schemas (run `cargo xtask schemas`): {stale:#?}"
    );
}

#[test]
fn schemas_are_draft_2020_12_with_stable_ids() {
    for kind in ALL {
        let schema = kind.json_schema();
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{}",
            kind.id
        );
        assert_eq!(schema["$id"], format!("{SCHEMA_ID_BASE}{}.schema.json", kind.id));
        assert!(
            jsonschema::meta::is_valid(&schema),
            "{} is not a valid JSON Schema",
            kind.id
        );
    }
}

#[test]
fn document_ids_are_unique() {
    let mut ids: Vec<&str> = ALL.iter().map(|k| k.id).collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), before);
}

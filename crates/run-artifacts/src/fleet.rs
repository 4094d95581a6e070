//! The fleet registry, `products.json` (contract §2): listing and
//! registering products.
//!
//! Edits are read-modify-write of the whole file, validated against the
//! contract before anything is written and written atomically, so a reader
//! (Dash, another `dcx`) sees the old registry or the new one, never half of
//! one. Concurrent registrations are serialized by the fleet lock (a lock
//! on the dash directory, see [`store`](crate::store)) held across the
//! whole read–modify–write, so N concurrent registrations keep N products.
//! A hand edit does not take the lock: it can still race a registration.

use dcx_contracts::run_artifacts::{Product, Products, RUN_ARTIFACT_SCHEMA_VERSION};
use dcx_contracts::{Document, LoadError, SaveError, Timestamp, Warning};

use crate::layout::{DashDir, InvalidProductId, ProductId};

/// Why the registry could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// The product id is not a safe slug.
    #[error(transparent)]
    InvalidProductId(#[from] InvalidProductId),
    /// `products.json` is missing, unreadable or breaks the contract.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The product is registered already.
    #[error("product {id:?} is already registered in {path}; product ids must be unique")]
    Duplicate {
        /// The product id.
        id: String,
        /// `products.json`.
        path: String,
    },
    /// Rewriting the file would drop fields dcx does not know.
    #[error(
        "{path} has fields dcx does not know ({}); refusing to rewrite it and drop them: edit the file by hand",
        pointers.join(", ")
    )]
    UnknownFields {
        /// `products.json`.
        path: String,
        /// The JSON Pointers of the unknown fields.
        pointers: Vec<String>,
    },
    /// The new registry breaks the contract, or the write failed.
    #[error(transparent)]
    Save(#[from] SaveError),
    /// The dash directory could not be created or locked.
    #[error("cannot lock the dash directory {}: {source}", path.display())]
    Lock {
        /// The dash directory.
        path: std::path::PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
}

/// Loads and validates `products.json`; unknown fields come back as warnings.
pub fn list_products(dash: &DashDir) -> Result<(Products, Vec<Warning>), FleetError> {
    let loaded = dcx_contracts::load_with::<Products>(&dash.products_file(), dash.load_limits())?;
    Ok((loaded.document, loaded.warnings))
}

/// Adds `product` to `products.json`, creating the file (and the schemas
/// under `schemas/`) when needed, and stamps `generated_at` with `now`.
///
/// Refused, with nothing written: an unsafe id, a duplicate id, an invalid
/// existing registry, or one with fields this build does not know (they
/// would be lost).
pub fn register_product(dash: &DashDir, product: Product, now: Timestamp) -> Result<Products, FleetError> {
    ProductId::parse(&product.product_id)?;
    let lock_failed = |source| FleetError::Lock {
        path: dash.root().to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dash.root()).map_err(lock_failed)?;
    // Held until the registry is written: the read below and the write are
    // one step for every other registration.
    let _fleet = crate::store::lock_dir(dash.root()).map_err(lock_failed)?;
    // Temp files of registrations that were killed; a failed sweep only
    // costs space.
    for dir in [
        dash.root().to_path_buf(),
        dash.root().join(crate::layout::SCHEMAS_DIR),
    ] {
        let _ = dcx_sys::sweep_leftovers(&dir);
    }
    let path = dash.products_file();
    let mut registry = if path.exists() {
        let loaded = dcx_contracts::load_with::<Products>(&path, dash.load_limits())?;
        if !loaded.warnings.is_empty() {
            return Err(FleetError::UnknownFields {
                path: path.display().to_string(),
                pointers: loaded.warnings.into_iter().map(|w| w.pointer).collect(),
            });
        }
        loaded.document
    } else {
        Products {
            schema_version: RUN_ARTIFACT_SCHEMA_VERSION.to_owned(),
            generated_at: None,
            products: Vec::new(),
        }
    };
    if registry
        .products
        .iter()
        .any(|p| p.product_id == product.product_id)
    {
        return Err(FleetError::Duplicate {
            id: product.product_id,
            path: path.display().to_string(),
        });
    }
    registry.products.push(product);
    registry.generated_at = Some(now);
    // The whole registry is validated first: a bad display name or SLA tier
    // is refused here with its pointer, before anything is written.
    let violations = registry.validate();
    if !violations.is_empty() {
        return Err(SaveError::Invalid {
            path: path.display().to_string(),
            document: Products::NAME,
            violations,
        }
        .into());
    }
    // The registry last: it is the commit point. A crash before it leaves
    // the old registry and registering again completes; a registry written
    // before its schemas could be left without them, and registering again
    // would be refused as a duplicate.
    dash.write_schemas().map_err(SaveError::from)?;
    dcx_contracts::save(&path, &registry)?;
    Ok(registry)
}

#[cfg(test)]
mod tests {
    use dcx_contracts::run_artifacts::ProductStatus;

    use super::*;

    fn product(id: &str) -> Product {
        Product {
            product_id: id.to_owned(),
            display_name: "Code Monkeys Dash".to_owned(),
            repo: None,
            path: None,
            owner: "nexus".to_owned(),
            status: ProductStatus::Active,
            spec_path: None,
            run_evidence_path: None,
            criticality: None,
            sla_tier: None,
            schedule_path: None,
            enabled: None,
        }
    }

    fn now() -> Timestamp {
        Timestamp::parse("2026-02-20T12:00:00Z").unwrap()
    }

    #[test]
    fn register_creates_then_appends_and_refuses_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let dash = DashDir::new(dir.path().join("dash"));
        register_product(&dash, product("codemonkeys-dash"), now()).unwrap();
        register_product(&dash, product("spec-kit"), now()).unwrap();
        let (registry, warnings) = list_products(&dash).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(
            registry
                .products
                .iter()
                .map(|p| p.product_id.as_str())
                .collect::<Vec<_>>(),
            ["codemonkeys-dash", "spec-kit"]
        );
        assert_eq!(registry.generated_at, Some(now()));
        assert!(dash.stale_schemas().is_empty());

        let before = std::fs::read(dash.products_file()).unwrap();
        let err = register_product(&dash, product("spec-kit"), now()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "product \"spec-kit\" is already registered in {}; product ids must be unique",
                dash.products_file().display()
            )
        );
        assert_eq!(std::fs::read(dash.products_file()).unwrap(), before);
    }

    #[test]
    fn unsafe_ids_and_invalid_products_are_refused_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let dash = DashDir::new(dir.path());
        let err = register_product(&dash, product("../x"), now()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid product id \"../x\": use 1 to 64 characters of a-z, 0-9, '-' and '_', starting with a letter or digit"
        );
        let mut bad = product("ok");
        bad.sla_tier = Some(9);
        bad.display_name = " ".to_owned();
        let err = register_product(&dash, bad, now()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "refusing to write {}: invalid products registry: 2 problems\n  \
                 - /products/0/display_name: must not be empty\n  \
                 - /products/0/sla_tier: must be 1 to 5 (found 9)",
                dash.products_file().display()
            )
        );
        assert!(!dash.products_file().exists());
        assert!(!dash.root().join("schemas").exists());
    }

    /// The registry is the commit point, written after the schemas: if
    /// anything before it fails (or the process is killed), the registry
    /// does not name the product yet, so registering again completes. Were
    /// it written first, a registry naming the product without its schemas
    /// could not be repaired by registering again (a duplicate).
    #[test]
    fn the_registry_is_written_last() {
        let dir = tempfile::tempdir().unwrap();
        let dash = DashDir::new(dir.path());
        register_product(&dash, product("first"), now()).unwrap();
        let before = std::fs::read(dash.products_file()).unwrap();
        let schemas = dir.path().join("schemas");
        std::fs::remove_dir_all(&schemas).unwrap();
        // A file where the schemas directory goes: writing them fails.
        std::fs::write(&schemas, "in the way").unwrap();
        register_product(&dash, product("second"), now()).unwrap_err();
        assert_eq!(std::fs::read(dash.products_file()).unwrap(), before);

        std::fs::remove_file(&schemas).unwrap();
        register_product(&dash, product("second"), now()).unwrap();
        assert!(dash.stale_schemas().is_empty());
    }

    #[test]
    fn a_registry_with_unknown_fields_is_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let dash = DashDir::new(dir.path());
        let text = r#"{"schema_version":"0.1","products":[],"owner_team":"core"}"#;
        std::fs::write(dash.products_file(), text).unwrap();
        let err = register_product(&dash, product("a"), now()).unwrap_err();
        assert!(matches!(&err, FleetError::UnknownFields { pointers, .. } if pointers == &["/owner_team"]));
        assert_eq!(std::fs::read_to_string(dash.products_file()).unwrap(), text);
    }

    #[test]
    fn an_invalid_registry_is_reported_with_its_pointer() {
        let dir = tempfile::tempdir().unwrap();
        let dash = DashDir::new(dir.path());
        std::fs::write(
            dash.products_file(),
            r#"{"schema_version":"0.1","products":[{"product_id":"a","display_name":"A","owner":"o"}]}"#,
        )
        .unwrap();
        let err = list_products(&dash).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}:1:85: /products/0/status: missing required field (expected one of `bootstrap`, `active`, \
                 `pending`, `development`, `planned`, `deprecated`, `archived`)",
                dash.products_file().display()
            )
        );
    }
}

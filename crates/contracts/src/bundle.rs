//! Spec bundles (seed 003): the bundle manifest, implementation overlays,
//! the locks a build writes, and the project lock that pins bundles.
//! The `resolved_files.sha256` manifest lives in [`crate::sha256_manifest`].

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::digest::Sha256Hex;
use crate::document::{Document, Format, VersionPin, Violation};
use crate::pointer::join;
use crate::relative_path::validate_relative_path;
use crate::sha256_manifest::RESERVED_FILE_NAMES;
use crate::timestamp::Timestamp;
use crate::validate::Checker;

/// The runners a bundle can target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BundleRunner {
    /// dc-runner-rust.
    Rust,
    /// dc-runner-python.
    Python,
    /// dc-runner-php.
    Php,
}

/// A person or team maintaining a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Maintainer {
    /// Name.
    #[schemars(length(min = 1))]
    pub name: String,
    /// How to reach them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

/// Where a bundle package is published, and its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PackageSource {
    /// The publishing repository, e.g. `jonruttan/data-contracts-bundles`.
    #[schemars(length(min = 1))]
    pub repo: String,
    /// The release tag.
    #[schemars(length(min = 1))]
    pub release_tag: String,
    /// The package URL: https, `file://`, or a path relative to the document.
    #[schemars(length(min = 1))]
    pub asset_url: String,
    /// The sha256 of the package bytes.
    pub sha256: Sha256Hex,
}

/// Whether a bundle must resolve.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DependencyMode {
    /// A runner it does not apply to is an error.
    #[default]
    Required,
    /// A runner it does not apply to skips it.
    Optional,
}

/// `bundle_manifest_v1`: a canonical bundle's declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "bundle_manifest_v1")]
pub struct BundleManifest {
    /// The bundle id.
    #[schemars(length(min = 1))]
    pub bundle_id: String,
    /// The bundle version.
    #[schemars(length(min = 1))]
    pub bundle_version: String,
    /// One line on what it holds.
    #[schemars(length(min = 1))]
    pub summary: String,
    /// At least one maintainer.
    #[schemars(length(min = 1))]
    pub maintainers: Vec<Maintainer>,
    /// Whether it must resolve for every runner.
    #[serde(default)]
    pub dependency_mode: DependencyMode,
    /// Bundle ids it depends on.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Its domains; at least one.
    #[schemars(length(min = 1))]
    pub domains: Vec<BundleDomain>,
    /// The digest of the declared files.
    pub declaration_provenance: DeclarationProvenance,
    /// The runners it applies to; empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applies_to_runners: Vec<BundleRunner>,
}

/// A domain of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BundleDomain {
    /// The domain id.
    #[schemars(length(min = 1))]
    pub id: String,
    /// Its modules; at least one.
    #[schemars(length(min = 1))]
    pub modules: Vec<BundleModule>,
}

/// A module of a bundle domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BundleModule {
    /// The module id.
    #[schemars(length(min = 1))]
    pub id: String,
    /// Declaration files listing its assets; at least one.
    #[schemars(length(min = 1))]
    pub contracts: Vec<String>,
    /// The resource kinds it selects; only `asset` exists.
    #[schemars(length(min = 1))]
    pub resource_kinds: Vec<ResourceKind>,
    /// How refs are selected.
    pub selection_policy: SelectionPolicy,
    /// Files the module produces (informational; never packaged).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<ModuleArtifact>,
}

/// A resource kind a module selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// Static files.
    Asset,
}

/// How a module selects files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SelectionPolicy {
    /// Only static, local refs.
    pub refs: RefsPolicy,
    /// Produced artifacts are excluded.
    pub artifacts: ArtifactsPolicy,
}

/// The only refs policy: `static_local_only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefsPolicy {
    /// No URLs, templates or `..`.
    StaticLocalOnly,
}

/// The only artifacts policy: `exclude_produced`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactsPolicy {
    /// Produced files are never packaged.
    ExcludeProduced,
}

/// A file a module produces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ModuleArtifact {
    /// Its path.
    #[schemars(length(min = 1))]
    pub path: String,
    /// What it is.
    pub kind: ArtifactKind,
}

/// What a produced file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactKind {
    /// A file.
    File,
    /// A directory.
    Dir,
    /// A report.
    Report,
    /// A manifest.
    Manifest,
    /// A lock.
    Lock,
}

/// The declaration digest of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeclarationProvenance {
    /// sha256 of `"<path>\n<sha256>\n"` over the sorted declared paths.
    pub declaration_sha256: Sha256Hex,
    /// The declared paths; at least one.
    #[schemars(length(min = 1))]
    pub declaration_paths: Vec<String>,
}

impl Document for BundleManifest {
    const ID: &'static str = "bundle_manifest_v1";
    const NAME: &'static str = "bundle manifest";
    const VERSION: Option<VersionPin> = None;
    const FORMAT: Format = Format::Yaml;

    fn validate(&self) -> Vec<Violation> {
        let mut check = Checker::new();
        check.non_empty("", "bundle_id", &self.bundle_id);
        check.non_empty("", "bundle_version", &self.bundle_version);
        check.non_empty("", "summary", &self.summary);
        maintainers(&mut check, "/maintainers", &self.maintainers);
        if self.domains.is_empty() {
            check.push("/domains", "must list at least one domain");
        }
        for (i, domain) in self.domains.iter().enumerate() {
            let at = join("/domains", i);
            check.non_empty(&at, "id", &domain.id);
            if domain.modules.is_empty() {
                check.push(join(&at, "modules"), "must list at least one module");
            }
            for (j, module) in domain.modules.iter().enumerate() {
                let m = join(&join(&at, "modules"), j);
                check.non_empty(&m, "id", &module.id);
                if module.contracts.is_empty() {
                    check.push(join(&m, "contracts"), "must list at least one declaration file");
                }
                if module.resource_kinds.is_empty() {
                    check.push(join(&m, "resource_kinds"), "must list at least one resource kind");
                }
            }
        }
        if self.declaration_provenance.declaration_paths.is_empty() {
            check.push(
                "/declaration_provenance/declaration_paths",
                "must list at least one path",
            );
        }
        check.finish()
    }
}

fn maintainers(check: &mut Checker, at: &str, list: &[Maintainer]) {
    if list.is_empty() {
        check.push(at, "must list at least one maintainer");
    }
    for (i, m) in list.iter().enumerate() {
        check.non_empty(&join(at, i), "name", &m.name);
    }
}

fn source(check: &mut Checker, at: &str, source: &PackageSource) {
    check.non_empty(at, "repo", &source.repo);
    check.non_empty(at, "release_tag", &source.release_tag);
    check.non_empty(at, "asset_url", &source.asset_url);
}

/// `implementation_bundle_overlay_v1`: an implementation bundle as
/// file-scoped operations on a pinned base bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "implementation_bundle_overlay_v1")]
pub struct ImplementationOverlay {
    /// Document version; this build reads 1.
    #[schemars(extend("const" = 1))]
    pub version: u64,
    /// The runner the bundle is for.
    pub runner_id: BundleRunner,
    /// The pinned base bundle.
    pub base_bundle: BaseBundle,
    /// The file operations.
    pub overlay: OverlayOperations,
    /// The bundle the build produces.
    pub output_bundle: OutputBundle,
    /// When the overlay was last edited.
    pub updated_at: Timestamp,
}

/// The base bundle an overlay applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BaseBundle {
    /// Its id.
    #[schemars(length(min = 1))]
    pub bundle_id: String,
    /// Its version.
    #[schemars(length(min = 1))]
    pub bundle_version: String,
    /// Where its package is and its digest.
    pub source: PackageSource,
}

/// File-scoped overlay operations; all three lists are required, and may be empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OverlayOperations {
    /// Files added; the target must not exist in the base.
    pub add_files: Vec<OverlayFile>,
    /// Files replaced; the target must exist in the base.
    pub replace_files: Vec<OverlayFile>,
    /// Paths deleted; each must exist in the base.
    pub delete_paths: Vec<String>,
}

/// One file an overlay adds or replaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OverlayFile {
    /// The target path in the bundle.
    #[schemars(length(min = 1))]
    pub path: String,
    /// The source file, relative to the overlay root.
    #[schemars(length(min = 1))]
    pub source_path: String,
}

/// The bundle an overlay build produces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OutputBundle {
    /// Its id.
    #[schemars(length(min = 1))]
    pub bundle_id: String,
    /// Its version.
    #[schemars(length(min = 1))]
    pub bundle_version: String,
    /// One line on what it holds.
    #[schemars(length(min = 1))]
    pub summary: String,
    /// At least one maintainer.
    #[schemars(length(min = 1))]
    pub maintainers: Vec<Maintainer>,
}

impl Document for ImplementationOverlay {
    const ID: &'static str = "implementation_bundle_overlay_v1";
    const NAME: &'static str = "implementation bundle overlay";
    const VERSION: Option<VersionPin> = Some(VersionPin::Integer {
        field: "version",
        value: 1,
    });
    const FORMAT: Format = Format::Yaml;

    fn validate(&self) -> Vec<Violation> {
        let mut check = Checker::new();
        check.constant("", "version", self.version, 1);
        check.non_empty("/base_bundle", "bundle_id", &self.base_bundle.bundle_id);
        check.non_empty("/base_bundle", "bundle_version", &self.base_bundle.bundle_version);
        source(&mut check, "/base_bundle/source", &self.base_bundle.source);
        check.non_empty("/output_bundle", "bundle_id", &self.output_bundle.bundle_id);
        check.non_empty(
            "/output_bundle",
            "bundle_version",
            &self.output_bundle.bundle_version,
        );
        check.non_empty("/output_bundle", "summary", &self.output_bundle.summary);
        maintainers(
            &mut check,
            "/output_bundle/maintainers",
            &self.output_bundle.maintainers,
        );

        // Every target is a bundle-relative path, not a reserved file, and
        // listed once across all three operations.
        let mut seen: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
        let ops = &self.overlay;
        let targets = ops
            .add_files
            .iter()
            .enumerate()
            .map(|(i, f)| (join(&join("/overlay/add_files", i), "path"), f.path.as_str()))
            .chain(
                ops.replace_files
                    .iter()
                    .enumerate()
                    .map(|(i, f)| (join(&join("/overlay/replace_files", i), "path"), f.path.as_str())),
            )
            .chain(
                ops.delete_paths
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (join("/overlay/delete_paths", i), p.as_str())),
            );
        for (at, path) in targets {
            if let Err(e) = validate_relative_path(path) {
                check.push(
                    at.clone(),
                    format!("{e} (targets are relative to the bundle root)"),
                );
            } else if RESERVED_FILE_NAMES.contains(&path) {
                check.push(
                    at.clone(),
                    format!("{path:?} is generated by the build and cannot be overlaid"),
                );
            }
            if let Some(first) = seen.get(path) {
                check.push(
                    at,
                    format!("{path:?} is already targeted at {first}; list each path once"),
                );
            } else {
                seen.insert(path, at);
            }
        }
        for (list, files) in [
            ("/overlay/add_files", &ops.add_files),
            ("/overlay/replace_files", &ops.replace_files),
        ] {
            for (i, file) in files.iter().enumerate() {
                if let Err(e) = validate_relative_path(&file.source_path) {
                    check.push(
                        join(&join(list, i), "source_path"),
                        format!("{e} (sources are relative to the overlay root)"),
                    );
                }
            }
        }
        check.finish()
    }
}

/// `implementation_bundle_build_lock_v1`: what an overlay build consumed and produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "implementation_bundle_build_lock_v1")]
pub struct BuildLock {
    /// Document version; this build reads 1.
    #[schemars(extend("const" = 1))]
    pub version: u64,
    /// The runner the bundle is for.
    pub runner_id: BundleRunner,
    /// sha256 of the base package bytes.
    pub base_package_sha256: Sha256Hex,
    /// sha256 of the overlay document and its sources (`specs/BUNDLE_HASHES.md`).
    pub overlay_sha256: Sha256Hex,
    /// sha256 of the output package; absent until `package-impl` ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_package_sha256: Option<Sha256Hex>,
    /// sha256 of the output's `resolved_files.sha256`.
    pub resolved_files_sha256: Sha256Hex,
    /// When the build ran.
    pub built_at: Timestamp,
    /// The tool and version that built it, e.g. `dcx 0.1.0`.
    #[schemars(length(min = 1))]
    pub tooling_version: String,
    /// The bundle the build produced (a dcx addition; upstream locks omit it).
    /// `package-impl` names the package from it, so a built tree alone is
    /// enough to package it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_bundle: Option<BundleRef>,
}

/// A bundle named by id and version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BundleRef {
    /// Its id.
    #[schemars(length(min = 1))]
    pub bundle_id: String,
    /// Its version.
    #[schemars(length(min = 1))]
    pub bundle_version: String,
}

impl Document for BuildLock {
    const ID: &'static str = "implementation_bundle_build_lock_v1";
    const NAME: &'static str = "implementation bundle build lock";
    const VERSION: Option<VersionPin> = Some(VersionPin::Integer {
        field: "version",
        value: 1,
    });
    const FORMAT: Format = Format::Yaml;

    fn validate(&self) -> Vec<Violation> {
        let mut check = Checker::new();
        check.constant("", "version", self.version, 1);
        check.non_empty("", "tooling_version", &self.tooling_version);
        if let Some(output) = &self.output_bundle {
            check.non_empty("/output_bundle", "bundle_id", &output.bundle_id);
            check.non_empty("/output_bundle", "bundle_version", &output.bundle_version);
        }
        check.finish()
    }
}

/// `resolved_bundle_lock_v1`: the resolution a bundle tree was built from,
/// and the integrity of its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "resolved_bundle_lock_v1")]
pub struct ResolvedBundleLock {
    /// Document version; this build reads 1.
    #[schemars(extend("const" = 1))]
    pub version: u64,
    /// The bundle the tree is.
    #[schemars(length(min = 1))]
    pub root_bundle: String,
    /// The runner it was resolved for.
    pub runner: BundleRunner,
    /// Where it was built from.
    pub source: LockSource,
    /// Bundle ids, dependencies first.
    pub resolved_order: Vec<String>,
    /// The digests of its files.
    pub integrity: LockIntegrity,
}

/// The source a lock was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LockSource {
    /// The repository.
    #[schemars(length(min = 1))]
    pub repo: String,
    /// The ref.
    #[schemars(length(min = 1))]
    pub r#ref: String,
    /// The commit.
    #[schemars(length(min = 1))]
    pub commit: String,
}

/// The integrity section of a resolved bundle lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LockIntegrity {
    /// Lines in `resolved_files.sha256`.
    pub file_count: u64,
    /// sha256 of the `resolved_files.sha256` bytes.
    pub sha256_manifest: Sha256Hex,
    /// sha256 of `"<sha256(manifest yaml)>  <path>\n"` over the resolved bundle manifests.
    pub sha256_manifests: Sha256Hex,
    /// sha256 of `"<path>\n<sha256>\n"` over the sorted files.
    pub declaration_sha256: Sha256Hex,
    /// The sorted file paths the declaration digest covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declaration_paths: Option<Vec<String>>,
}

impl Document for ResolvedBundleLock {
    const ID: &'static str = "resolved_bundle_lock_v1";
    const NAME: &'static str = "resolved bundle lock";
    const VERSION: Option<VersionPin> = Some(VersionPin::Integer {
        field: "version",
        value: 1,
    });
    const FORMAT: Format = Format::Yaml;

    fn validate(&self) -> Vec<Violation> {
        let mut check = Checker::new();
        check.constant("", "version", self.version, 1);
        check.non_empty("", "root_bundle", &self.root_bundle);
        check.non_empty("/source", "repo", &self.source.repo);
        check.non_empty("/source", "ref", &self.source.r#ref);
        check.non_empty("/source", "commit", &self.source.commit);
        if !self.resolved_order.contains(&self.root_bundle) {
            check.push(
                "/resolved_order",
                format!("must include the root bundle {:?}", self.root_bundle),
            );
        }
        if let Some(paths) = &self.integrity.declaration_paths {
            if paths.len() as u64 != self.integrity.file_count {
                check.push(
                    "/integrity/declaration_paths",
                    format!(
                        "lists {} paths but file_count is {}",
                        paths.len(),
                        self.integrity.file_count
                    ),
                );
            }
            if paths.windows(2).any(|w| w[0] >= w[1]) {
                check.push(
                    "/integrity/declaration_paths",
                    "must be sorted bytewise without duplicates",
                );
            }
        }
        check.finish()
    }
}

/// `project_bundle_lock_v1` (`bundles.lock.yaml`): the bundles a project installs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "project_bundle_lock_v1")]
pub struct ProjectBundleLock {
    /// Document version; this build reads 1.
    #[schemars(extend("const" = 1))]
    pub version: u64,
    /// The project.
    #[schemars(length(min = 1))]
    pub project_id: String,
    /// The pinned bundles; at least one.
    #[schemars(length(min = 1))]
    pub bundles: Vec<LockedBundle>,
    /// When the lock was last changed.
    pub updated_at: Timestamp,
}

/// One bundle pinned by a project lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LockedBundle {
    /// Its id.
    #[schemars(length(min = 1))]
    pub bundle_id: String,
    /// Its version.
    #[schemars(length(min = 1))]
    pub bundle_version: String,
    /// Where its package is and its digest.
    pub source: PackageSource,
    /// Where it is installed, relative to the workspace.
    #[schemars(length(min = 1))]
    pub install_dir: String,
    /// Its role; implementation bundles are `additional`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<BundleRole>,
}

/// A bundle's role in a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BundleRole {
    /// The project's main bundle.
    Primary,
    /// An extra bundle, such as an implementation overlay.
    Additional,
}

impl Document for ProjectBundleLock {
    const ID: &'static str = "project_bundle_lock_v1";
    const NAME: &'static str = "project bundle lock";
    const VERSION: Option<VersionPin> = Some(VersionPin::Integer {
        field: "version",
        value: 1,
    });
    const FORMAT: Format = Format::Yaml;

    fn validate(&self) -> Vec<Violation> {
        let mut check = Checker::new();
        check.constant("", "version", self.version, 1);
        check.non_empty("", "project_id", &self.project_id);
        if self.bundles.is_empty() {
            check.push("/bundles", "must pin at least one bundle");
        }
        for (i, bundle) in self.bundles.iter().enumerate() {
            let at = join("/bundles", i);
            check.non_empty(&at, "bundle_id", &bundle.bundle_id);
            check.non_empty(&at, "bundle_version", &bundle.bundle_version);
            check.non_empty(&at, "install_dir", &bundle.install_dir);
            source(&mut check, &join(&at, "source"), &bundle.source);
        }
        check.finish()
    }
}

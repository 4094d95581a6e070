//! What the core commands print. Text is for people and follows the
//! layout of runner-base v0.2.0 (its marker lines, `Image identity:`,
//! `Runtime contract:`, `Tool versions:`, ... are unchanged); JSON is the
//! document itself.
//!
//! Every list is sorted, so the same image always prints the same bytes.

use std::fmt::Write as _;

use dcx_contracts::Document;
use dcx_contracts::document::to_bytes;
use dcx_contracts::identity::ImageIdentity;
use dcx_contracts::printable::Printable;
use dcx_contracts::runner_platform::{
    DeclaredRuntime, ObservedRuntime, RunnerBuild, RunnerInfo, RunnerVersion,
};

use crate::command::CoreCommand;
use crate::error::RunnerError;

/// `runner help`: the core commands and this image's plugins.
pub fn help(identity: &ImageIdentity, plugins: &[String]) -> String {
    let mut out = format!("runner - the command dispatcher of {}\n\n", identity.image);
    out.push_str("Usage:\n  <image> <command> [arguments]\n\nCore commands:\n");
    let width = CoreCommand::ALL
        .iter()
        .map(|c| c.usage().len())
        .max()
        .unwrap_or(0);
    for command in CoreCommand::ALL {
        line(
            &mut out,
            format_args!("  {:<width$}  {}", command.usage(), command.summary()),
        );
    }
    out.push_str("\nPlugins:\n");
    list(&mut out, "  ", plugins.iter().map(String::as_str));
    out.push_str(
        "\nNotes:\n\
         - Commands must be explicit\n\
         - No implicit shell or fallback execution\n\
         - Additional commands are provided by image-specific plugins\n",
    );
    out
}

/// `runner about`: the image identity. Optional keys that the image does not
/// set are left out.
pub fn about(identity: &ImageIdentity) -> String {
    let mut out = String::from("Image identity:\n");
    let fields = [
        ("Name", Some(identity.image.as_str())),
        ("Domain", Some(identity.domain.as_str())),
        ("Role", Some(identity.role.as_str())),
        ("Description", identity.description()),
        ("Vendor", identity.vendor()),
        ("Repository", identity.repository()),
    ];
    for (label, value) in fields {
        if let Some(value) = value {
            field(&mut out, label, 11, value);
        }
    }
    out
}

/// `runner info` as text.
pub fn info(document: &RunnerInfo) -> String {
    let image = &document.image;
    let mut out = String::from("Image identity:\n");
    field(&mut out, "Name", 6, &image.name);
    field(&mut out, "Domain", 6, &image.domain);
    field(&mut out, "Role", 6, &image.role);

    out.push_str("\nRuntime contract:\n");
    declared_runtime(&mut out, &document.runtime_contract);

    out.push_str("\nRuntime state:\n");
    observed_runtime(&mut out, &document.runtime_state);

    out.push_str("\nTools:\n");
    let tools: Vec<String> = document
        .tools
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    list(&mut out, "  ", tools.iter().map(String::as_str));

    out.push_str("\nPlugins:\n");
    list(&mut out, "  - ", document.plugins.iter().map(String::as_str));
    out
}

/// `runner version` as text: the declared tool versions, then the runner's
/// own.
pub fn version(document: &RunnerVersion) -> String {
    let mut out = String::from("Tool versions:\n");
    if document.tools.is_empty() {
        out.push_str("  (no version information provided by this image)\n");
    }
    for tool in &document.tools {
        line(
            &mut out,
            format_args!("  {}_VERSION={}", tool.name, Printable(&tool.version)),
        );
    }
    out.push_str("\nRunner:\n");
    line(&mut out, format_args!("  {}", runner_line(&document.runner)));
    out
}

/// A document as pretty JSON with a final newline.
///
/// # Errors
///
/// [`RunnerError::Serialize`] if serialization fails, which these documents
/// (string keys only) never do.
pub fn json<D: Document>(document: &D) -> Result<String, RunnerError> {
    let serialize_error = |message: String| RunnerError::Serialize {
        document: D::NAME,
        message,
    };
    let bytes = to_bytes(document, dcx_contracts::Format::Json).map_err(serialize_error)?;
    String::from_utf8(bytes).map_err(|e| serialize_error(e.to_string()))
}

fn runner_line(runner: &RunnerBuild) -> String {
    format!(
        "runner {} (Runner Platform Contract {})",
        runner.version,
        dcx_contracts::runner_platform::PlatformContractV020::VALUE
    )
}

fn declared_runtime(out: &mut String, runtime: &DeclaredRuntime) {
    const NOT_DECLARED: &str = "(not declared)";
    let or_missing = |value: &Option<String>| value.clone().unwrap_or_else(|| NOT_DECLARED.to_owned());
    let ids = |value: &Option<String>| value.clone().unwrap_or_else(|| "?".to_owned());
    let user = format!(
        "{} ({}:{})",
        or_missing(&runtime.user),
        ids(&runtime.uid),
        ids(&runtime.gid)
    );
    field(out, "User", 7, &user);
    field(out, "Home", 7, &or_missing(&runtime.home));
    field(out, "Shell", 7, &or_missing(&runtime.shell));
    field(out, "Workdir", 7, &or_missing(&runtime.workdir));
}

fn observed_runtime(out: &mut String, runtime: &ObservedRuntime) {
    const UNKNOWN: &str = "unknown";
    let or_unknown = |value: &Option<String>| value.clone().unwrap_or_else(|| UNKNOWN.to_owned());
    let user = format!("{} ({}:{})", or_unknown(&runtime.user), runtime.uid, runtime.gid);
    field(out, "User", 7, &user);
    field(out, "Home", 7, &or_unknown(&runtime.home));
    field(out, "Shell", 7, &or_unknown(&runtime.shell));
    field(out, "Workdir", 7, &or_unknown(&runtime.workdir));
}

/// `  Label:   value`, the value starting at column `label_width + 4`.
fn field(out: &mut String, label: &str, label_width: usize, value: &str) {
    let label = format!("{label}:");
    line(
        out,
        format_args!("  {label:<width$} {}", Printable(value), width = label_width + 1),
    );
}

/// One item per line after `prefix`, or `(none)`.
fn list<'a>(out: &mut String, prefix: &str, items: impl Iterator<Item = &'a str>) {
    let mut empty = true;
    for item in items {
        empty = false;
        line(out, format_args!("{prefix}{}", Printable(item)));
    }
    if empty {
        out.push_str("  (none)\n");
    }
}

fn line(out: &mut String, args: std::fmt::Arguments<'_>) {
    // Writing to a String cannot fail.
    let _ = out.write_fmt(args);
    out.push('\n');
}

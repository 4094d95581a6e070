//! `dcx fleet register | list`: the products registry.

use clap::{Args, Subcommand, ValueEnum};
use dcx_contracts::run_artifacts::{Criticality, Product, ProductStatus};
use dcx_run_artifacts::{list_products, register_product};

use super::{DashDirArg, count, usage_error};
use crate::exit::Exit;
use crate::flags::now::{NOW, NowArg};

#[derive(Debug, Args)]
pub(crate) struct FleetArgs {
    #[command(flatten)]
    dash_dir: DashDirArg,
    #[command(subcommand)]
    command: FleetCommand,
}

#[derive(Debug, Subcommand)]
enum FleetCommand {
    /// Add a product to products.json (created when missing). The id must
    /// be a slug (a-z 0-9 - _) and not registered yet.
    ///
    /// Exit 0 registered, 2 refused (nothing written).
    Register(RegisterArgs),
    /// List the products of products.json.
    ///
    /// Exit 0, or 2 when products.json is missing or invalid.
    List,
}

#[derive(Debug, Args)]
#[command(mut_arg(NOW, |arg| arg.help("Pin `generated_at` (RFC 3339), for reproducible files.")))]
struct RegisterArgs {
    /// The product id (a slug: it becomes `runs/PRODUCT_ID/`).
    product_id: String,
    /// The name people read.
    #[arg(long)]
    display_name: String,
    /// The owning agent or team.
    #[arg(long)]
    owner: String,
    /// Lifecycle status.
    #[arg(long, value_enum)]
    status: StatusArg,
    /// How much the product matters.
    #[arg(long, value_enum)]
    criticality: Option<CriticalityArg>,
    /// SLA tier, 1 (highest priority) to 5.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=5))]
    sla_tier: Option<u8>,
    /// Where its code lives (local, github, …).
    #[arg(long)]
    repo: Option<String>,
    /// Its root, relative or absolute.
    #[arg(long)]
    path: Option<String>,
    /// Its spec file.
    #[arg(long)]
    spec_path: Option<String>,
    /// Its schedule file.
    #[arg(long)]
    schedule_path: Option<String>,
    /// Leave it out of fleet operations (`enabled: false`).
    #[arg(long)]
    disabled: bool,
    #[command(flatten)]
    now: NowArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum StatusArg {
    Bootstrap,
    Active,
    Pending,
    Development,
    Planned,
    Deprecated,
    Archived,
}

impl From<StatusArg> for ProductStatus {
    fn from(status: StatusArg) -> Self {
        match status {
            StatusArg::Bootstrap => ProductStatus::Bootstrap,
            StatusArg::Active => ProductStatus::Active,
            StatusArg::Pending => ProductStatus::Pending,
            StatusArg::Development => ProductStatus::Development,
            StatusArg::Planned => ProductStatus::Planned,
            StatusArg::Deprecated => ProductStatus::Deprecated,
            StatusArg::Archived => ProductStatus::Archived,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CriticalityArg {
    High,
    Medium,
    Low,
}

impl From<CriticalityArg> for Criticality {
    fn from(criticality: CriticalityArg) -> Self {
        match criticality {
            CriticalityArg::High => Criticality::High,
            CriticalityArg::Medium => Criticality::Medium,
            CriticalityArg::Low => Criticality::Low,
        }
    }
}

pub(crate) fn run(args: FleetArgs, documents: dcx_contracts::LoadLimits) -> Exit {
    let dash = args.dash_dir.dash(documents);
    match args.command {
        FleetCommand::Register(register) => {
            let now = register.now.clock().timestamp();
            let id = register.product_id.clone();
            let product = Product {
                product_id: register.product_id,
                display_name: register.display_name,
                repo: register.repo,
                path: register.path,
                owner: register.owner,
                status: register.status.into(),
                spec_path: register.spec_path,
                run_evidence_path: None,
                criticality: register.criticality.map(Into::into),
                sla_tier: register.sla_tier,
                schedule_path: register.schedule_path,
                enabled: register.disabled.then_some(false),
            };
            match register_product(&dash, product, now) {
                Ok(registry) => {
                    outln!(
                        "registered {id} in {} ({})",
                        dash.products_file().display(),
                        count(registry.products.len(), "product", "products")
                    );
                    Exit::Success
                }
                Err(e) => usage_error(e),
            }
        }
        FleetCommand::List => match list_products(&dash) {
            Ok((registry, warnings)) => {
                for warning in warnings {
                    errln!("warning: {}: {warning}", dash.products_file().display());
                }
                print_table(&registry.products);
                Exit::Success
            }
            Err(e) => usage_error(e),
        },
    }
}

fn print_table(products: &[Product]) {
    let rows: Vec<[String; 7]> = products
        .iter()
        .map(|p| {
            [
                p.product_id.clone(),
                p.display_name.clone(),
                p.owner.clone(),
                enum_text(&p.status),
                p.criticality.as_ref().map(enum_text).unwrap_or_default(),
                p.sla_tier.map(|t| t.to_string()).unwrap_or_default(),
                if p.enabled == Some(false) { "no" } else { "yes" }.to_owned(),
            ]
        })
        .collect();
    let header = [
        "PRODUCT",
        "NAME",
        "OWNER",
        "STATUS",
        "CRITICALITY",
        "SLA",
        "ENABLED",
    ]
    .map(str::to_owned);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        outln!("{}", cells.join("  ").trim_end());
    }
}

/// An enum as the contract spells it (`"active"`).
fn enum_text(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

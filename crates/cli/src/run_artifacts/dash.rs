//! `dcx dash render | serve`: the dashboard.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};
use dcx_run_artifacts::{
    DEFAULT_HISTORY_LIMIT, DashDir, INDEX_FILE, RenderOptions, ServeConfig, Severity, link_prefix,
    render_to_file, serve,
};

use super::{DashDirArg, count, usage_error};
use crate::exit::Exit;
use crate::flags::now::{NOW, NowArg};

#[derive(Debug, Args)]
pub(crate) struct DashArgs {
    #[command(flatten)]
    dash_dir: DashDirArg,
    #[command(subcommand)]
    command: DashCommand,
}

#[derive(Debug, Subcommand)]
enum DashCommand {
    /// Render the dashboard: one self-contained HTML file, a card per
    /// product. A bad artifact is a badge on its card, never a blank page.
    ///
    /// Exit 0 rendered, 2 rendered but products.json is missing or invalid
    /// (the page shows it), or the page could not be written.
    Render(RenderArgs),
    /// Serve the dashboard (rendered on each request) and the dash
    /// directory's evidence files, until Ctrl-C.
    ///
    /// Exit 0 after Ctrl-C, 2 when the address cannot be bound.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
#[command(mut_arg(NOW, |arg| arg.help("Pin \"rendered at\" (RFC 3339), for reproducible pages.")))]
struct RenderArgs {
    /// Where to write the page [default: `DASH_DIR/index.html`].
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Runs listed per product in the history.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_HISTORY_LIMIT)]
    history: usize,
    #[command(flatten)]
    now: NowArg,
}

#[derive(Debug, Args)]
#[command(mut_arg(NOW, |arg| arg.help("Pin \"rendered at\" (RFC 3339) on every page.")))]
struct ServeArgs {
    /// The address to listen on (port 0 picks a free one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Runs listed per product in the history.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_HISTORY_LIMIT)]
    history: usize,
    #[command(flatten)]
    now: NowArg,
}

pub(crate) fn run(args: DashArgs, documents: dcx_contracts::LoadLimits) -> Exit {
    let dash = args.dash_dir.dash(documents);
    match args.command {
        DashCommand::Render(render) => run_render(&dash, render),
        DashCommand::Serve(serve) => run_serve(dash, serve),
    }
}

fn run_render(dash: &DashDir, args: RenderArgs) -> Exit {
    let out = args.out.unwrap_or_else(|| dash.root().join(INDEX_FILE));
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(parent)
    {
        return usage_error(format!("cannot create {}: {e}", parent.display()));
    }
    let options = RenderOptions {
        now: args.now.clock().timestamp(),
        history_limit: args.history,
        link_prefix: link_prefix(dash.root(), &out),
    };
    let page = match render_to_file(dash, &options, &out) {
        Ok(page) => page,
        Err(e) => return usage_error(e),
    };
    for finding in &page.fleet.findings {
        errln!("{}: {finding}", finding.severity);
    }
    let with_errors = page.cards.iter().filter(|c| c.has_errors()).count();
    let badges: usize = page.cards.iter().map(|c| c.findings().len()).sum();
    outln!(
        "rendered {}: {}, {with_errors} with errors, {}{}",
        out.display(),
        count(page.cards.len(), "product", "products"),
        count(badges, "badge", "badges"),
        if badges > 0 {
            " (details: dcx runs validate)"
        } else {
            ""
        }
    );
    if page.fleet.findings.iter().any(|f| f.severity == Severity::Error) {
        Exit::Usage
    } else {
        Exit::Success
    }
}

fn run_serve(dash: DashDir, args: ServeArgs) -> Exit {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return usage_error(format!("cannot start the server runtime: {e}")),
    };
    runtime.block_on(async {
        let listener = match tokio::net::TcpListener::bind(args.bind).await {
            Ok(listener) => listener,
            Err(e) => return usage_error(format!("cannot listen on {}: {e}", args.bind)),
        };
        let address = listener
            .local_addr()
            .map_or_else(|_| args.bind.to_string(), |a| a.to_string());
        outln!(
            "serving {} at http://{address}/ (Ctrl-C to stop)",
            dash.root().display()
        );
        let config = ServeConfig {
            dash,
            clock: Arc::new(args.now.clock()),
            history_limit: args.history,
        };
        let shutdown = async {
            // If the handler cannot be installed, serve until killed.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        match serve(listener, config, shutdown).await {
            Ok(()) => Exit::Success,
            Err(e) => usage_error(format!("server failed: {e}")),
        }
    })
}

//! `chanhost bench …`: the figures the issues set targets for. Each bench
//! prints what it did and, as its last line, `key=value` pairs that tools
//! read.

mod brand;
mod http;
mod load;
mod native;
mod pipeline;
mod replay;
mod swap;

use std::process::ExitCode;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// The four reference plugins on a 10-line order, against the same four
    /// policies compiled natively. Last line:
    /// `pipeline_us=<median µs per order> native_us=<median µs> ratio=<pipeline/native>`.
    /// With `--plugins`, your plugin set on the same order, sandboxed only;
    /// last line `pipeline_us=<median µs per order>`.
    Pipeline {
        /// Orders evaluated (after a warm-up of a tenth as many).
        #[arg(long, default_value_t = 5_000)]
        iterations: usize,
        /// A TOML file with a region's `[plugins…]` tables (as in a region
        /// file; plugin paths relative to this file) to run instead of the
        /// reference plugins. The order and its stock stay the bench's.
        #[arg(long, value_name = "FILE")]
        plugins: Option<std::path::PathBuf>,
    },
    /// Time to load N regions × 4 distinct plugins from a warm component
    /// cache, in a fresh process. Last line: `load_ms=<ms> rss_mb=<MB>`.
    Load {
        #[arg(long, default_value_t = 32)]
        regions: usize,
        /// Internal: the measured child run over a prepared directory.
        #[arg(long, hide = true)]
        prepared: Option<std::path::PathBuf>,
    },
    /// Orders placed over HTTP by concurrent clients, against `--url` or a
    /// server the bench starts on a fresh database. Last line:
    /// `orders_per_s=<201s per second> p50_ms=<ms> p99_ms=<ms>`.
    Http(http::HttpArgs),
    /// Pricing deployed again and again in one region while clients place
    /// orders there; every order checked against the deployment it names.
    /// Last line: `activation_ms=<median> failed_orders=<n> mispriced_orders=<n>`.
    Swap(swap::SwapArgs),
    /// Stored orders of the example brand replayed through a candidate
    /// pricing. Last line: `replay_orders_per_s=<n>`.
    Replay(replay::ReplayArgs),
}

impl BenchCommand {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            BenchCommand::Pipeline {
                iterations,
                plugins: None,
            } => pipeline::run(iterations),
            BenchCommand::Pipeline {
                iterations,
                plugins: Some(file),
            } => pipeline::run_plugins(iterations, &file),
            BenchCommand::Load {
                regions,
                prepared: None,
            } => load::run(regions),
            BenchCommand::Load {
                prepared: Some(dir),
                ..
            } => load::measure(&dir),
            BenchCommand::Http(args) => http::run(args),
            BenchCommand::Swap(args) => swap::run(args),
            BenchCommand::Replay(args) => replay::run(args),
        }
    }
}

/// A bench's own server: the brand directory and its data set, on a fresh
/// database (PostgreSQL when given, else SQLite in `data_dir`), on any port.
fn own_server(
    config: &std::path::Path,
    database_url: Option<String>,
    data_dir: &std::path::Path,
) -> crate::server::ServerOptions {
    crate::server::ServerOptions {
        dataset: Some(config.join("dataset")),
        config: config.to_path_buf(),
        database_url,
        data_dir: data_dir.to_path_buf(),
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
    }
}

/// A brand's plugins loaded as the server loads them, on the default
/// component cache (warm after the first run).
fn load_policies(brand: &crate::config::BrandConfig) -> anyhow::Result<crate::policy::PolicySet> {
    let engine = crate::policy::PolicyEngine::new(
        brand.hq.limits.clone(),
        crate::policy::ComponentCache::default_location(),
    )?;
    Ok(crate::policy::PolicySet::load(brand, engine)?)
}

/// The median of a set of samples.
fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    samples.get(samples.len() / 2).copied().unwrap_or(0.0)
}

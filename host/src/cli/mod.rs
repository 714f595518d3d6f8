//! The `chanhost` command line: one file per command.

mod bench;
mod eval;
mod keys;
mod plugin;
mod plugin_new;
mod policy;
mod replay;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "chanhost",
    version,
    about = "Dealer-channel host with regional policies as WebAssembly plugins"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the order API (SQLite in ./data unless given a database URL).
    Serve(serve::ServeArgs),
    /// Evaluate one order with a region's plugins; print decision and trace.
    Eval(eval::EvalArgs),
    /// Benchmarks with machine-readable last lines.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Create, run, test, inspect, sign and publish plugin components.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Make an ed25519 key pair for signing plugins.
    Keygen(keys::KeygenArgs),
    /// Plan and apply region policy from a folder of TOML files.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Re-run stored orders through a candidate policy and report what
    /// would change.
    Replay(replay::ReplayArgs),
}

pub fn main() -> ExitCode {
    // Logs go to stderr as text, or as one JSON object per line with
    // CHANHOST_LOG_FORMAT=json; RUST_LOG picks what is logged.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("CHANHOST_LOG_FORMAT").is_ok_and(|format| format == "json") {
        logs.json().init();
    } else {
        logs.init();
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench(command) => command.run(),
        Command::Eval(args) => args.run(),
        Command::Serve(args) => args.run(),
        Command::Plugin(command) => command.run(),
        Command::Keygen(args) => args.run(),
        Command::Policy(command) => command.run(),
        Command::Replay(args) => args.run(),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

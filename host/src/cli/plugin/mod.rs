//! `chanhost plugin …`: create a plugin crate, look inside a component,
//! run it once or against fixtures under the production limits, sign it
//! with a publisher key, and publish it to an HQ server's registry.

mod check;
mod example;
mod files;
mod publish;
mod run;
mod sign;
mod test;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum PluginCommand {
    /// Create a ready plugin crate of one kind: SDK dependency, WIT wired,
    /// an example that passes its test and fixtures, a build command.
    New(super::plugin_new::NewArgs),
    /// Which world a component implements, its description and size, and
    /// whether it loads under the production limits. Prints JSON; exits
    /// non-zero when the component cannot be used.
    Check {
        /// The component (.wasm) to check.
        file: PathBuf,
    },
    /// Run a plugin once on an input, under the production limits, and show
    /// its output, fuel, time, memory high-water mark and log lines.
    #[command(
        long_about = run::LONG_ABOUT,
        override_usage = run::USAGE,
        after_help = run::EXIT_CODES,
        after_long_help = run::AFTER_HELP
    )]
    Run(run::RunArgs),
    /// Run a plugin on every case of a fixture directory and compare its
    /// outputs with the expected ones.
    #[command(
        long_about = test::LONG_ABOUT,
        after_help = test::EXIT_CODES,
        after_long_help = test::AFTER_HELP
    )]
    Test(test::TestArgs),
    /// Sign a component with a publisher key (from `chanhost keygen`);
    /// writes the signature file `chanhost plugin publish` sends.
    Sign {
        /// The component (.wasm) to sign.
        file: PathBuf,
        /// The publisher's secret key file, `<id>.key`.
        #[arg(long)]
        key: PathBuf,
        /// Where to write the signature [default: <file>.sig].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Upload a signed component to a server's plugin registry. Prints the
    /// stored manifest as JSON; exits non-zero with the server's reason when
    /// it refuses the component.
    Publish {
        /// The component (.wasm) to upload.
        file: PathBuf,
        /// The server's base URL, e.g. http://127.0.0.1:8080.
        #[arg(long, env = "CHANHOST_URL")]
        url: String,
        /// A bearer token of an HQ or region admin.
        #[arg(long, env = "CHANHOST_TOKEN", hide_env_values = true)]
        token: String,
        /// The signature from `chanhost plugin sign` [default: <file>.sig].
        #[arg(long)]
        signature: Option<PathBuf>,
    },
}

impl PluginCommand {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        match self {
            PluginCommand::New(args) => super::plugin_new::run(args),
            PluginCommand::Check { file } => check::run(file),
            PluginCommand::Run(args) => Ok(run::run(args)),
            PluginCommand::Test(args) => Ok(test::run(args)),
            PluginCommand::Sign { file, key, out } => sign::run(&file, &key, out),
            PluginCommand::Publish {
                file,
                url,
                token,
                signature,
            } => publish::run(&file, &url, &token, signature),
        }
    }
}

/// Exit codes of `plugin run` and `plugin test` (0 is success).
mod exit {
    /// `run`: the plugin faulted; `test`: a case failed.
    pub const FAULT: u8 = 1;
    /// Nothing could run: an unreadable file, a component refused at
    /// load, an input or a configuration that does not fit.
    pub const CANNOT_RUN: u8 = 2;
}

//! `chanhost plugin new <kind> <name>`: a ready plugin crate.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::policy::PluginKind;

#[derive(clap::Args)]
pub struct NewArgs {
    /// The plugin kind: anti-diversion, pricing, promotion or sourcing.
    pub kind: PluginKind,
    /// The crate's name, e.g. `gd-clearance`.
    pub name: String,
    /// Where to create the crate [default: ./<name>].
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

pub fn run(args: NewArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`plugin new {} {}` is being built", args.kind, args.name)
}

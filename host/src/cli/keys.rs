//! `chanhost keygen`: a publisher's ed25519 key pair for signing plugins.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::registry::signing::SecretKey;

#[derive(clap::Args)]
pub struct KeygenArgs {
    /// The key's name, which its signatures carry (e.g. `acme-release`):
    /// letters, digits, `-`, `_`, `.`.
    #[arg(long)]
    id: String,
    /// Where to write `<id>.key` (secret, mode 0600) and `<id>.pub`.
    #[arg(long, default_value = ".")]
    out: PathBuf,
}

impl KeygenArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let secret = SecretKey::generate(&self.id)?;
        std::fs::create_dir_all(&self.out)
            .with_context(|| format!("creating {}", self.out.display()))?;
        let key_path = self.out.join(format!("{}.key", self.id));
        let pub_path = self.out.join(format!("{}.pub", self.id));
        // The secret first: it refuses to replace an existing key, and a
        // .pub is only written beside the .key it belongs to.
        secret.write_new(&key_path)?;
        let public = secret.public();
        public.write(&pub_path)?;
        println!("secret key: {} (keep it private)", key_path.display());
        println!("public key: {}", pub_path.display());
        println!();
        println!("To have HQ trust it, add to hq.toml:");
        println!();
        println!("[registry]");
        println!("trusted_keys = [");
        println!("    {},", public.trusted_key_toml());
        println!("]");
        Ok(ExitCode::SUCCESS)
    }
}

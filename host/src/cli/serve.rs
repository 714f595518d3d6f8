//! `chanhost serve`: the order service over HTTP.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::config::dataset::Role;
use crate::server::{self, ServerOptions};
use crate::store::seed::Seeded;

#[derive(Args)]
pub struct ServeArgs {
    /// The brand directory (hq.toml, catalogue.toml, regions/).
    #[arg(long, default_value = "examples/brand")]
    config: PathBuf,
    /// Data set that seeds an empty database (warehouses, dealers, stock,
    /// demo tokens); `<config>/dataset` when it exists.
    #[arg(long)]
    dataset: Option<PathBuf>,
    /// Do not seed, even if the database is empty.
    #[arg(long, conflicts_with = "dataset")]
    no_seed: bool,
    /// PostgreSQL (`postgres://…`) or SQLite (`sqlite://file?mode=rwc`);
    /// SQLite in --data-dir when absent.
    #[arg(long, env = "CHANHOST_DATABASE_URL")]
    database_url: Option<String>,
    /// Where the embedded SQLite database lives.
    #[arg(long, default_value = "data")]
    data_dir: PathBuf,
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
}

impl ServeArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let dataset = match (self.no_seed, self.dataset) {
            (true, _) => None,
            (false, Some(dir)) => Some(dir),
            (false, None) => Some(self.config.join("dataset")).filter(|dir| dir.is_dir()),
        };
        let options = ServerOptions {
            config: self.config,
            dataset,
            database_url: self.database_url,
            data_dir: self.data_dir,
            listen: self.listen,
        };
        let runtime = tokio::runtime::Runtime::new()?;
        runtime.block_on(async move {
            let running = server::prepare(&options).await?;
            let url = format!("http://{}", running.addr);
            match running.seeded {
                Some(Seeded::Loaded { dealers, warehouses, stock_rows }) => {
                    println!("seeded: {dealers} dealers, {warehouses} warehouses, {stock_rows} stock rows")
                }
                Some(Seeded::AlreadyPresent) => println!("database already holds data; not seeded again"),
                None => {}
            }
            println!("chanhost serving {} regions at {url}/v1", running.state.policies.current().regions.len());
            println!("  console {url}/console/   API docs {url}/docs   metrics {url}/metrics");
            if let Some(dataset) = &running.dataset {
                println!("demo tokens (from the data set's tokens.toml):");
                let mut shown = [0usize; 3];
                for token in &dataset.tokens {
                    let slot = &mut shown[token.role as usize];
                    if *slot < 2 {
                        *slot += 1;
                        println!("  {:<13} {:<28} {}", token.role.as_str(), token.token, token.name);
                    }
                }
                if let Some(dealer) = dataset.tokens.iter().find(|t| t.role == Role::Dealer) {
                    println!("try:");
                    println!(
                        "  curl -s -H 'Authorization: Bearer {}' -H 'Idempotency-Key: try-1' \\\n    -H 'Content-Type: application/json' -d '{{\"lines\":[{{\"sku\":\"BJ-001\",\"quantity\":5}}]}}' {url}/v1/orders",
                        dealer.token
                    );
                }
            }
            running.serve(server::shutdown_signal()).await?;
            anyhow::Ok(())
        })?;
        Ok(ExitCode::SUCCESS)
    }
}

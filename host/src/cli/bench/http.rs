//! `chanhost bench http`: orders placed over HTTP by many concurrent
//! clients, each one priced and sourced by its region's plugins, reserved
//! and durably committed before its 201. Without `--url` the bench first
//! starts its own server on a fresh database loaded with the example data
//! set, in the same process, so the client's cost is counted on the same
//! cores. Last line: `orders_per_s=<n> p50_ms=<x> p99_ms=<y>` over 201s.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;
use clap::Args;

use crate::policy::PolicySet;
use crate::server;

mod client;
mod cpu;
mod report;

use client::{Seen, Window};
use report::{created_ms, decisions, last_line, summarise};

#[derive(Args)]
pub struct HttpArgs {
    /// A running server (`http://host:port`); without it the bench starts
    /// its own on a fresh database.
    #[arg(long)]
    url: Option<String>,
    /// Concurrent clients, each with one order in flight.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Measured seconds (after the warm-up).
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// PostgreSQL for the bench's own server (give it a fresh database);
    /// SQLite in a temporary directory when absent.
    #[arg(long)]
    database_url: Option<String>,
    /// The brand directory the own server loads; its `dataset/` seeds it.
    #[arg(long, default_value = "examples/brand")]
    config: PathBuf,
    /// Most lines per order; each order has 1..=lines lines.
    #[arg(long, default_value_t = 10)]
    lines: usize,
    /// Most cases per line (1..=this), small so the seeded stock lasts.
    #[arg(long, default_value_t = 2)]
    max_quantity: u32,
    /// Dealers to order for, spread over all regions (a token each).
    #[arg(long, default_value_t = 200)]
    dealers: usize,
    /// Threads of a separate client runtime; 0 runs the clients on the
    /// server's runtime (only without --url).
    #[arg(long, default_value_t = 0)]
    client_threads: usize,
    /// Worker threads of the own server's runtime.
    #[arg(long, default_value_t = 2)]
    server_threads: usize,
    /// The HQ token that lists dealers and issues their tokens.
    #[arg(long, default_value = "demo-hq-admin")]
    hq_token: String,
}

pub fn run(args: HttpArgs) -> anyhow::Result<ExitCode> {
    if args.clients == 0 || args.lines == 0 || args.max_quantity == 0 || args.seconds <= 0.0 {
        bail!("--clients, --lines, --max-quantity and --seconds must be positive");
    }
    let clients_rt = |threads: usize| runtime(threads.max(1), "client");
    let report = match args.url.clone() {
        Some(url) => {
            println!("server: {url} (given)");
            clients_rt(args.client_threads)?.block_on(drive(&args, url, None))?
        }
        None => {
            let data_dir = tempfile::tempdir()?;
            let server_rt = runtime(args.server_threads, "srv")?;
            let options =
                super::own_server(&args.config, args.database_url.clone(), data_dir.path());
            let running = server_rt.block_on(server::prepare(&options))?;
            let url = format!("http://{}", running.addr);
            let policies = running.state.policies.current();
            println!(
                "server: own, {} on {url}, {} server threads, clients on {}",
                match &args.database_url {
                    Some(_) => "PostgreSQL (--database-url)",
                    None => "SQLite in a temporary directory",
                },
                args.server_threads,
                match args.client_threads {
                    0 => "the same runtime".to_string(),
                    n => format!("a separate runtime of {n} threads"),
                }
            );
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let serving = server_rt.spawn(running.serve(async {
                let _ = stopped.await;
            }));
            let report = match args.client_threads {
                0 => server_rt.block_on(drive(&args, url, Some(policies))),
                n => clients_rt(n)?.block_on(drive(&args, url, Some(policies))),
            };
            let _ = stop.send(());
            let _ = server_rt
                .block_on(async { tokio::time::timeout(Duration::from_secs(5), serving).await });
            server_rt.shutdown_timeout(Duration::from_secs(1));
            report?
        }
    };
    println!("{report}");
    Ok(ExitCode::SUCCESS)
}

/// A runtime whose threads say what they are, for the CPU breakdown: the
/// first `workers` threads tokio starts are its workers, later ones run
/// `spawn_blocking` work.
fn runtime(workers: usize, name: &'static str) -> anyhow::Result<tokio::runtime::Runtime> {
    let started = Arc::new(AtomicUsize::new(0));
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.max(1))
        .thread_name_fn(move || {
            let n = started.fetch_add(1, Ordering::Relaxed);
            if n < workers {
                format!("{name}-worker-{n}")
            } else {
                format!("{name}-blocking-{n}")
            }
        })
        .enable_all()
        .build()?)
}

/// Issues the dealers' tokens, runs the clients through warm-up and the
/// measured window, and returns the report (its last line last).
async fn drive(
    args: &HttpArgs,
    base: String,
    policies: Option<Arc<PolicySet>>,
) -> anyhow::Result<String> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()?;
    let base = base.trim_end_matches('/').to_string();
    let prepared = Instant::now();
    let buyers = Arc::new(client::buyers(&http, &base, &args.hq_token, args.dealers).await?);
    let regions = {
        let mut r: Vec<&str> = buyers
            .iter()
            .map(|b| b.id.get(2..4).unwrap_or(""))
            .collect();
        r.sort();
        r.dedup();
        r.len()
    };
    println!(
        "{} dealers over {regions} regions, tokens issued in {} ms; {} clients, 1–{} lines of 1–{} cases",
        buyers.len(),
        prepared.elapsed().as_millis(),
        args.clients,
        args.lines,
        args.max_quantity
    );
    let start = Instant::now();
    let from = start + Duration::from_secs_f64(args.warmup);
    let window = Arc::new(Window {
        from,
        to: from + Duration::from_secs_f64(args.seconds),
        stop: AtomicBool::new(false),
        created: AtomicU64::new(0),
    });
    let run_id = crate::store::now_ms() as u64;
    let tasks: Vec<_> = (0..args.clients)
        .map(|n| {
            tokio::spawn(client::run(
                n,
                http.clone(),
                format!("{base}/v1/orders"),
                buyers.clone(),
                window.clone(),
                (args.lines, args.max_quantity, run_id),
            ))
        })
        .collect();

    tokio::time::sleep_until(from.into()).await;
    let database = args
        .database_url
        .as_deref()
        .filter(|_| args.url.is_none())
        .and_then(database_name);
    let cpu_before = cpu::snapshot(database);
    let mut last = window.created.load(Ordering::Relaxed);
    let mut tick = from;
    while tick < window.to {
        tick = (tick + Duration::from_secs(1)).min(window.to);
        tokio::time::sleep_until(tick.into()).await;
        let now = window.created.load(Ordering::Relaxed);
        println!(
            "  t={:>4.1}s  {:>6} orders/s",
            (tick - from).as_secs_f64(),
            now - last
        );
        last = now;
    }
    let cpu_after = cpu::snapshot(database);
    window.stop.store(true, Ordering::Relaxed);
    let mut seen = Seen::default();
    for task in tasks {
        let one = task.await?;
        seen.samples.extend(one.samples);
        seen.order_ids.extend(one.order_ids);
        for (code, n) in one.hold_reasons {
            *seen.hold_reasons.entry(code).or_default() += n;
        }
        if seen.errors.len() < 5 {
            seen.errors.extend(one.errors);
        }
    }
    let mut out = String::new();
    summarise(&mut out, &seen, args.seconds);
    let created = created_ms(&seen.samples, |_| true).len();
    out.push_str(&cpu::report(&cpu_before, &cpu_after, args.seconds, created));
    out.push_str(&decisions(&http, &base, &args.hq_token, &seen.order_ids, policies).await);
    out.push_str(&last_line(&seen.samples, args.seconds));
    Ok(out)
}

/// The database a `postgres://…/<name>?…` URL names.
fn database_name(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let path = rest.split_once('/')?.1;
    let name = path.split(['?', '#']).next()?;
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_from_url() {
        assert_eq!(
            database_name("postgres://postgres@127.0.0.1:5432/bench_a"),
            Some("bench_a")
        );
        assert_eq!(
            database_name("postgres://u:p@h/db?sslmode=disable"),
            Some("db")
        );
        assert_eq!(database_name("postgres://h:5432"), None);
    }
}

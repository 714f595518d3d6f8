//! `chanhost bench swap`: hot swaps under load. The bench starts its own
//! server (fresh SQLite, or `--database-url`), keeps clients placing
//! orders in one region, and deploys the region's pricing again and again,
//! alternating two configurations. Then it checks every order placed:
//!
//! - failed: any answer but 201 (a swap must never fail an order);
//! - mispriced: the order's stored prices differ from what the deployment
//!   its trace names prices its stored input at — an order decided by half
//!   of one version and half of another, or by a version it does not name,
//!   shows up here;
//! - activation: from sending the deploy call to the completion of the
//!   first order the new deployment decided (median over the swaps).
//!
//! Last line: `activation_ms=<median> failed_orders=<n> mispriced_orders=<n>`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use serde_json::{Value, json};
use sqlx::Row;

use super::median;
use crate::policy::{Decision, OrderContext, PolicySet};
use crate::server;
use crate::service::deployments::candidate_for_deployment;
use crate::store::Store;

#[derive(Args)]
pub struct SwapArgs {
    /// Seconds of load.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Time between two deployments.
    #[arg(long, default_value_t = 250)]
    every_ms: u64,
    /// Concurrent clients, each with one order in flight.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// The region whose pricing is swapped (and where orders are placed).
    #[arg(long, default_value = "gd")]
    region: String,
    /// PostgreSQL for the bench's server (give it a fresh database);
    /// SQLite in a temporary directory when absent.
    #[arg(long)]
    database_url: Option<String>,
    #[arg(long, default_value = "examples/brand")]
    config: PathBuf,
}

const HQ_TOKEN: &str = "demo-hq-admin";

/// The two pricing configurations swapped back and forth: they price every
/// tier differently, so an order priced by the wrong one is seen.
fn pricing_config(n: usize) -> Value {
    if n.is_multiple_of(2) {
        json!({ "tier_discount_bp": { "strategic": 800, "core": 500, "standard": 100 } })
    } else {
        json!({ "tier_discount_bp": { "strategic": 400, "core": 200, "standard": 0 } })
    }
}

struct Placed {
    status: u16,
    order_id: Option<String>,
    done: Instant,
}

struct Swap {
    sent: Instant,
    deployment_id: Option<String>,
    call_ms: f64,
}

pub fn run(args: SwapArgs) -> anyhow::Result<ExitCode> {
    if args.seconds <= 0.0 || args.clients == 0 || args.every_ms == 0 {
        bail!("--seconds, --clients and --every-ms must be positive");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let data_dir = tempfile::tempdir()?;
    let options = super::own_server(&args.config, args.database_url.clone(), data_dir.path());
    let running = runtime.block_on(server::prepare(&options))?;
    let base = format!("http://{}/v1", running.addr);
    let store = running.state.store.clone();
    let baseline = running.state.policies.baseline().clone();
    println!(
        "server: own, {} at {base}; {} clients in {}, pricing swapped every {} ms for {} s",
        if args.database_url.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        args.clients,
        args.region,
        args.every_ms,
        args.seconds
    );
    let (stop_server, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = runtime.spawn(running.serve(async {
        let _ = stopped.await;
    }));
    let (placed, swaps) = runtime.block_on(load_and_swap(&args, &base))?;
    let report = runtime.block_on(check(&store, &baseline, &placed, &swaps))?;
    let _ = stop_server.send(());
    let _ = runtime.block_on(serving);
    print!("{report}");
    Ok(ExitCode::SUCCESS)
}

async fn load_and_swap(args: &SwapArgs, base: &str) -> anyhow::Result<(Vec<Placed>, Vec<Swap>)> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients + 1)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()?;
    let (dealers, skus) = region_buyers(&http, base, &args.region).await?;
    let dealers = Arc::new(dealers);
    let skus = Arc::new(skus);
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..args.clients)
        .map(|n| {
            let (http, dealers, skus, stop) =
                (http.clone(), dealers.clone(), skus.clone(), stop.clone());
            let url = format!("{base}/orders");
            tokio::spawn(async move {
                let mut placed = Vec::new();
                let mut i = n;
                while !stop.load(Ordering::Relaxed) {
                    let body = json!({
                        "dealer_id": dealers[(i * 7 + n) % dealers.len()],
                        "lines": [{ "sku": skus[i % skus.len()], "quantity": 1 }],
                    });
                    let reply = http
                        .post(&url)
                        .bearer_auth(HQ_TOKEN)
                        .header("idempotency-key", format!("swap-{n}-{i}"))
                        .json(&body)
                        .send()
                        .await;
                    let (status, order_id) = match reply {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            let body: Value = response.json().await.unwrap_or(Value::Null);
                            (status, body["id"].as_str().map(str::to_string))
                        }
                        Err(_) => (0, None),
                    };
                    placed.push(Placed {
                        status,
                        order_id,
                        done: Instant::now(),
                    });
                    i += 1;
                }
                placed
            })
        })
        .collect();

    let start = Instant::now();
    let end = start + Duration::from_secs_f64(args.seconds);
    let mut swaps = Vec::new();
    let mut n = 0;
    // A short warm-up before the first swap.
    tokio::time::sleep(Duration::from_millis(args.every_ms)).await;
    while Instant::now() < end {
        let body = json!({ "changes": [{
            "region": args.region, "slot": "pricing",
            "plugin": "builtin:pricing-tiered", "config": pricing_config(n),
        }], "note": format!("bench swap {n}") });
        let sent = Instant::now();
        let reply = http
            .post(format!("{base}/deployments"))
            .bearer_auth(HQ_TOKEN)
            .json(&body)
            .send()
            .await?;
        let status = reply.status();
        let reply: Value = reply.json().await?;
        if !status.is_success() {
            bail!("deployment {n} refused: {status} {reply}");
        }
        swaps.push(Swap {
            sent,
            deployment_id: reply["deployments"][0]["id"].as_str().map(str::to_string),
            call_ms: sent.elapsed().as_secs_f64() * 1000.0,
        });
        n += 1;
        tokio::time::sleep(Duration::from_millis(args.every_ms)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut placed = Vec::new();
    for client in clients {
        placed.extend(client.await?);
    }
    Ok((placed, swaps))
}

/// The region's dealers and the SKUs its orders use.
async fn region_buyers(
    http: &reqwest::Client,
    base: &str,
    region: &str,
) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let dealers: Value = http
        .get(format!("{base}/dealers?region={region}"))
        .bearer_auth(HQ_TOKEN)
        .send()
        .await?
        .json()
        .await?;
    let dealers: Vec<String> = dealers
        .as_array()
        .context("dealers list")?
        .iter()
        .filter_map(|d| d["id"].as_str().map(str::to_string))
        .collect();
    if dealers.is_empty() {
        bail!("region {region} has no dealers");
    }
    // Unrestricted baijiu every region lists: stock for thousands of one-case orders.
    let skus = ["BJ-001", "BJ-002", "BJ-003", "BJ-004", "BJ-005"]
        .map(str::to_string)
        .to_vec();
    Ok((dealers, skus))
}

/// Re-prices every stored order with the deployment its trace names.
async fn check(
    store: &Store,
    baseline: &Arc<PolicySet>,
    placed: &[Placed],
    swaps: &[Swap],
) -> anyhow::Result<String> {
    let failed = placed.iter().filter(|p| p.status != 201).count();
    let done_at: HashMap<&str, Instant> = placed
        .iter()
        .filter_map(|p| Some((p.order_id.as_deref()?, p.done)))
        .collect();
    let mut conn = store.pool.acquire().await?;
    let rows = sqlx::query("SELECT id, context, decision FROM orders")
        .fetch_all(&mut *conn)
        .await?;
    drop(conn);
    let mut candidates: HashMap<Option<String>, Arc<PolicySet>> = HashMap::new();
    candidates.insert(None, Arc::new(baseline.for_replay()));
    let mut first_decided: HashMap<String, Instant> = HashMap::new();
    let mut mispriced = 0;
    let mut checked = 0;
    for row in rows {
        let id: String = row.try_get("id")?;
        let Some(done) = done_at.get(id.as_str()) else {
            continue;
        };
        let context: OrderContext = serde_json::from_str(&row.try_get::<String, _>("context")?)?;
        let stored: Decision = serde_json::from_str(&row.try_get::<String, _>("decision")?)?;
        let deployment = stored
            .trace
            .steps
            .iter()
            .find(|s| s.slot == "pricing")
            .and_then(|s| s.deployment_id.clone());
        if let Some(d) = &deployment {
            let first = first_decided.entry(d.clone()).or_insert(*done);
            *first = (*first).min(*done);
        }
        if !candidates.contains_key(&deployment) {
            let id = deployment.as_deref().expect("baseline inserted above");
            let set = candidate_for_deployment(store, baseline, id).await?;
            candidates.insert(deployment.clone(), Arc::new(set));
        }
        let replayed = candidates[&deployment].evaluate(&context)?;
        let prices = |d: &Decision| -> Vec<(u32, i64, i64)> {
            d.lines
                .iter()
                .map(|l| (l.line_no, l.unit_price, l.discount))
                .collect()
        };
        checked += 1;
        if prices(&replayed) != prices(&stored) || replayed.totals != stored.totals {
            mispriced += 1;
        }
    }
    let mut activation: Vec<f64> = swaps
        .iter()
        .filter_map(|s| {
            let first = first_decided.get(s.deployment_id.as_deref()?)?;
            Some(first.saturating_duration_since(s.sent).as_secs_f64() * 1000.0)
        })
        .collect();
    let mut calls: Vec<f64> = swaps.iter().map(|s| s.call_ms).collect();
    let activated = activation.len();
    let activation_ms = median(&mut activation);
    let mut out = String::new();
    out.push_str(&format!(
        "{} orders placed ({} answered 201, {failed} failed); {checked} re-priced with the deployment their trace names\n",
        placed.len(),
        placed.len() - failed,
    ));
    out.push_str(&format!(
        "{} swaps, {activated} of them decided an order; deploy call median {:.1} ms, max {:.1} ms\n",
        swaps.len(),
        median(&mut calls),
        calls.iter().copied().fold(0.0, f64::max),
    ));
    out.push_str(&format!(
        "activation_ms={activation_ms:.1} failed_orders={failed} mispriced_orders={mispriced}\n"
    ));
    Ok(out)
}

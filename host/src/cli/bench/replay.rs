//! `chanhost bench replay`: replay throughput through a 4-plugin candidate.
//!
//! Stored orders are made the real way: orders of the example data set's
//! dealers (every region, its listed SKUs, its and its neighbours' stock
//! as placement reads it) decided by the example brand's active policy,
//! and kept as the database keeps them (JSON). The candidate is the same
//! brand with other tier discounts in HQ's default pricing, so most
//! orders differ. Only the replay is timed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;

use super::load_policies;
use crate::config::BrandConfig;
use crate::config::dataset::Dataset;
use crate::domain::{Order, OrderLine, OrderType, TimestampMs, Urgency, Warehouse, WarehouseLevel};
use crate::policy::replay::{Replayer, StoredOrder};
use crate::policy::{DecisionStatus, OrderContext, PolicySet};

#[derive(Args)]
pub struct ReplayArgs {
    /// Stored orders replayed (after a warm-up of up to 2,000).
    #[arg(long, default_value_t = 50_000)]
    orders: usize,
    /// The active brand: its policy decides the stored orders, its data set
    /// supplies dealers, warehouses and stock.
    #[arg(long, default_value = "examples/brand")]
    config: PathBuf,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
}

/// HQ's default pricing in the example brand, and the candidate's.
const ACTIVE_PRICING: &str = "tier_discount_bp = { strategic = 600, core = 300, standard = 0 }";
const CANDIDATE_PRICING: &str =
    "tier_discount_bp = { strategic = 800, core = 400, standard = 100 }";

/// Orders placed from 2026-09-01 over two months: promotions with dates
/// apply to some and not others.
const FIRST_PLACED_AT: TimestampMs = 1_788_220_800_000;
const SPREAD_MS: i64 = 61 * 86_400_000;

pub fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let brand = BrandConfig::load(&args.config)?;
    let dataset = Dataset::load(&args.config.join("dataset"), &brand)?;
    let active = load_policies(&brand)?;

    // Placement stores only what the policy does not reject: make orders
    // until there are enough of those.
    let started = Instant::now();
    let mut maker = OrderMaker::new(&brand, &dataset);
    let mut stored = Vec::with_capacity(args.orders);
    let mut rejected = BTreeMap::new();
    let mut made = 0;
    while stored.len() < args.orders {
        let batch = maker.orders(made, (args.orders - stored.len()) * 3 / 2 + 16);
        made += batch.len();
        stored.extend(decide(&active, &batch, threads, &mut rejected)?);
    }
    stored.truncate(args.orders);
    let held = stored
        .iter()
        .filter(|s| s.decision.status == DecisionStatus::Held)
        .count();
    let lines: usize = stored.iter().map(|s| s.context.order.lines.len()).sum();
    println!(
        "stored orders: {} in {} regions ({held} held, {:.1} lines each), decided by {} in {:.1} s",
        stored.len(),
        brand.regions.len(),
        lines as f64 / stored.len().max(1) as f64,
        args.config.display(),
        started.elapsed().as_secs_f64()
    );
    let rejections: Vec<String> = rejected
        .iter()
        .map(|(code, n)| format!("{code} {n}"))
        .collect();
    println!(
        "  {} more made and rejected, as placement would not store them (reasons: {})",
        made - stored.len(),
        rejections.join(", ")
    );

    let sample = &stored[..stored.len().min(2_000)];
    let check = Replayer::new(&active.for_replay(), "*", i64::MIN, i64::MAX)
        .threads(threads)
        .replay_all(sample, &|_| {});
    println!(
        "active policy: {} of {} decisions reproduced exactly{}",
        check.reproduced,
        check.orders,
        check
            .not_reproduced
            .first()
            .map(|n| format!(" (first other: {} at {})", n.order_id, n.at))
            .unwrap_or_default()
    );

    let dir = tempfile::tempdir()?;
    write_candidate(&args.config, dir.path())?;
    let candidate = load_policies(&BrandConfig::load(dir.path())?)?.for_replay();
    // Warm instances in every slot the orders reach, as a long replay has.
    Replayer::new(&candidate, "*", i64::MIN, i64::MAX)
        .threads(threads)
        .replay_all(sample, &|_| {});
    // Three rounds, the median reported: the machine may be shared.
    let mut rounds = Vec::new();
    for _ in 0..ROUNDS {
        let before = Cpu::now();
        let report = Replayer::new(&candidate, "*", i64::MIN, i64::MAX)
            .threads(threads)
            .replay_all(&stored, &|_| {});
        rounds.push((report, before.since()));
    }
    rounds.sort_by_key(|(report, _)| report.orders_per_s);
    let (report, cpu) = &rounds[ROUNDS / 2];
    let summary = &report.summary;
    println!(
        "candidate ({CANDIDATE_PRICING}): {} orders on {threads} threads, {} rounds: {} orders/s",
        report.orders,
        ROUNDS,
        rounds
            .iter()
            .map(|(r, _)| r.orders_per_s.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  reproduced {}, differing {} (prices {}, promotions {}, routing {}, verdict {}), revenue impact {} fen, not evaluable {}",
        report.reproduced,
        summary.orders_differing,
        summary.price_changed,
        summary.promotions_changed,
        summary.routing_changed,
        summary.verdict_changed,
        summary.revenue_impact_fen,
        report.unevaluable
    );
    let per_order_us = cpu.process_s * 1e6 / report.orders.max(1) as f64;
    println!(
        "  median round: {} ms wall, {:.2} s CPU in this process ({per_order_us:.1} µs per order, {:.0} orders/s per busy core); the machine was {:.0}% busy, {:.0}% of it others",
        report.elapsed_ms,
        cpu.process_s,
        1e6 / per_order_us.max(f64::MIN_POSITIVE),
        cpu.machine_busy * 100.0,
        (cpu.machine_busy - cpu.process_s / (cpu.wall_s * cores() as f64)).max(0.0) * 100.0
    );
    // Where the time goes: the candidate's pipeline alone, without
    // comparing, on the same threads.
    let before = Cpu::now();
    let chunk = stored.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for orders in stored.chunks(chunk) {
            let candidate = &candidate;
            scope.spawn(move || {
                for order in orders {
                    std::hint::black_box(candidate.evaluate(&order.context).ok());
                }
            });
        }
    });
    let pipeline = before.since();
    let pipeline_us = pipeline.process_s * 1e6 / stored.len().max(1) as f64;
    println!(
        "  the candidate's pipeline alone on the same orders: {:.0} orders/s, {pipeline_us:.1} µs CPU per order ({:.0}% of the replay's CPU)",
        stored.len() as f64 / pipeline.wall_s,
        pipeline_us / per_order_us.max(f64::MIN_POSITIVE) * 100.0
    );
    if summary.orders_differing == 0 {
        bail!("the candidate changed nothing: the bench measures nothing useful");
    }
    println!("replay_orders_per_s={}", report.orders_per_s);
    Ok(ExitCode::SUCCESS)
}

const ROUNDS: usize = 3;

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// CPU spent by this process and by the whole machine (Linux /proc; zeros
/// elsewhere), to tell a slow replay from a busy machine.
struct Cpu {
    at: Instant,
    process_ticks: u64,
    machine_busy: u64,
    machine_total: u64,
}

struct CpuUse {
    wall_s: f64,
    process_s: f64,
    /// Share of all cores busy, this process included.
    machine_busy: f64,
}

impl Cpu {
    fn now() -> Cpu {
        // utime and stime, fields 14 and 15 of /proc/self/stat, after the
        // parenthesised command name.
        let process_ticks = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|stat| {
                let fields: Vec<u64> = stat[stat.rfind(')')? + 1..]
                    .split_whitespace()
                    .map(|f| f.parse().unwrap_or(0))
                    .collect();
                Some(fields.get(11)? + fields.get(12)?)
            })
            .unwrap_or(0);
        // The `cpu` line: user nice system idle iowait irq softirq steal.
        let machine: Vec<u64> = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|s| s.lines().next().map(str::to_string))
            .unwrap_or_default()
            .split_whitespace()
            .skip(1)
            .take(8)
            .map(|v| v.parse().unwrap_or(0))
            .collect();
        let idle = machine.get(3).copied().unwrap_or(0) + machine.get(4).copied().unwrap_or(0);
        let total: u64 = machine.iter().sum();
        Cpu {
            at: Instant::now(),
            process_ticks,
            machine_busy: total - idle,
            machine_total: total,
        }
    }

    fn since(&self) -> CpuUse {
        let now = Cpu::now();
        // Ticks are 1/100 s on Linux.
        let busy = now.machine_busy.saturating_sub(self.machine_busy) as f64;
        let total = now.machine_total.saturating_sub(self.machine_total) as f64;
        CpuUse {
            wall_s: self.at.elapsed().as_secs_f64(),
            process_s: now.process_ticks.saturating_sub(self.process_ticks) as f64 / 100.0,
            machine_busy: if total > 0.0 { busy / total } else { 0.0 },
        }
    }
}

/// The brand of `from` with the candidate's pricing, in `to`.
fn write_candidate(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to.join("regions"))?;
    for entry in std::fs::read_dir(from.join("regions"))? {
        let path = entry?.path();
        if let Some(name) = path.file_name() {
            std::fs::copy(&path, to.join("regions").join(name))?;
        }
    }
    std::fs::copy(from.join("catalogue.toml"), to.join("catalogue.toml"))?;
    let hq = std::fs::read_to_string(from.join("hq.toml"))?;
    if !hq.contains(ACTIVE_PRICING) {
        bail!(
            "{}/hq.toml no longer holds `{ACTIVE_PRICING}`: update the bench's candidate",
            from.display()
        );
    }
    std::fs::write(
        to.join("hq.toml"),
        hq.replacen(ACTIVE_PRICING, CANDIDATE_PRICING, 1),
    )?;
    Ok(())
}

/// Evaluates every context with the active policy on `threads` threads and
/// keeps what placement would store (not the rejected), as JSON gives it
/// back.
fn decide(
    active: &PolicySet,
    contexts: &[OrderContext],
    threads: usize,
    rejected: &mut BTreeMap<String, usize>,
) -> anyhow::Result<Vec<StoredOrder>> {
    let chunk = contexts.len().div_ceil(threads.max(1)).max(1);
    type Decided = (Vec<StoredOrder>, Vec<String>);
    let decided: Vec<anyhow::Result<Decided>> = std::thread::scope(|scope| {
        let workers: Vec<_> = contexts
            .chunks(chunk)
            .map(|contexts| {
                scope.spawn(move || {
                    let mut stored = Vec::with_capacity(contexts.len());
                    let mut rejected = Vec::new();
                    for context in contexts {
                        let decision = active.evaluate(context).with_context(|| {
                            format!("the bench made an invalid order {}", context.order.id)
                        })?;
                        if decision.status == DecisionStatus::Rejected {
                            rejected.extend(decision.reasons.into_iter().map(|r| r.code));
                            continue;
                        }
                        let stored_order = StoredOrder {
                            id: context.order.id.clone(),
                            placed_at: context.order.placed_at,
                            context: context.clone(),
                            decision,
                        };
                        let json = serde_json::to_string(&stored_order)?;
                        stored.push(serde_json::from_str(&json)?);
                    }
                    Ok((stored, rejected))
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a worker panicked"))
            .collect()
    });
    let mut stored = Vec::with_capacity(contexts.len());
    for part in decided {
        let (part, codes) = part?;
        stored.extend(part);
        for code in codes {
            *rejected.entry(code).or_default() += 1;
        }
    }
    Ok(stored)
}

/// Orders as the example data set's dealers would place them, the same
/// for the same count.
struct OrderMaker<'a> {
    brand: &'a BrandConfig,
    dataset: &'a Dataset,
    /// Per region: the SKUs it lists.
    listed: BTreeMap<&'a str, Vec<&'a str>>,
    /// Per warehouse: its stock, SKU → on hand.
    stock: BTreeMap<&'a str, BTreeMap<&'a str, u32>>,
    random: SplitMix,
}

impl<'a> OrderMaker<'a> {
    fn new(brand: &'a BrandConfig, dataset: &'a Dataset) -> Self {
        let listed = brand
            .regions
            .iter()
            .map(|(id, file)| {
                let skus = brand
                    .catalogue
                    .keys()
                    .map(String::as_str)
                    .filter(|sku| file.region.lists(sku))
                    .collect();
                (id.as_str(), skus)
            })
            .collect();
        let mut stock: BTreeMap<&str, BTreeMap<&str, u32>> = BTreeMap::new();
        for row in &dataset.stock {
            stock
                .entry(row.warehouse.as_str())
                .or_default()
                .insert(row.sku.as_str(), row.on_hand);
        }
        OrderMaker {
            brand,
            dataset,
            listed,
            stock,
            random: SplitMix(0x5eed),
        }
    }

    /// Orders number `first..first + count`.
    fn orders(&mut self, first: usize, count: usize) -> Vec<OrderContext> {
        (first..first + count).map(|i| self.order(i)).collect()
    }

    fn order(&mut self, i: usize) -> OrderContext {
        let dealers = &self.dataset.dealers;
        let dealer = &dealers[self.random.below(dealers.len())];
        let region = &self.brand.regions[&dealer.region].region;
        let listed = &self.listed[dealer.region.as_str()];
        // Mostly small orders, some of ten lines; quantities around the
        // dealer's usual order, an occasional outlier.
        let line_count = [1, 1, 2, 2, 3, 3, 4, 5, 7, 10][self.random.below(10)].min(listed.len());
        let mut skus: Vec<&str> = Vec::with_capacity(line_count);
        while skus.len() < line_count {
            let sku = listed[self.random.below(listed.len())];
            if !skus.contains(&sku) {
                skus.push(sku);
            }
        }
        let usual = dealer.usual_order_cases.max(line_count as u32);
        let lines = skus
            .iter()
            .enumerate()
            .map(|(n, sku)| {
                let typical = (usual / line_count as u32).max(1);
                let quantity = if self.random.below(50) == 0 {
                    typical * 12
                } else {
                    1 + self.random.below(2 * typical as usize) as u32
                };
                OrderLine {
                    line_no: n as u32 + 1,
                    sku: sku.to_string(),
                    quantity,
                }
            })
            .collect();
        // What placement reads: region-level warehouses of the region and
        // its neighbours, and every HQ warehouse, with the ordered SKUs.
        let warehouses = self
            .dataset
            .warehouses
            .iter()
            .filter(|w| {
                w.level == WarehouseLevel::Hq
                    || (w.level == WarehouseLevel::Region
                        && (w.region == region.id || region.neighbours.contains(&w.region)))
            })
            .filter_map(|w| {
                let stock = self.stock.get(w.id.as_str())?;
                let available: BTreeMap<String, u32> = skus
                    .iter()
                    .filter_map(|sku| stock.get(sku).map(|q| (sku.to_string(), *q)))
                    .collect();
                (!available.is_empty()).then(|| Warehouse {
                    id: w.id.clone(),
                    region: w.region.clone(),
                    level: w.level,
                    available,
                })
            })
            .collect();
        let placed_at = FIRST_PLACED_AT + (i as i64 * 7_919_000) % SPREAD_MS;
        OrderContext {
            order: Order {
                id: format!("ORD-BENCH-{i:07}"),
                dealer_id: dealer.id.clone(),
                region: dealer.region.clone(),
                ship_to: dealer.region.clone(),
                order_type: OrderType::Spot,
                urgency: if self.random.below(10) == 0 {
                    Urgency::Expedited
                } else {
                    Urgency::Normal
                },
                placed_at,
                lines,
            },
            dealer: dealer.to_dealer(),
            warehouses,
        }
    }
}

/// A small, seeded generator: the same orders on every run.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

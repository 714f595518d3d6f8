//! `chanhost replay`: re-run a region's stored orders through a candidate
//! policy — a brand directory, a folder of region files over the active
//! brand, or a deployment — and report what would have changed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::{BrandConfig, RegionFile, read_toml};
use crate::domain::{Fen, TimestampMs};
use crate::policy::diff::DecisionDiff;
use crate::policy::replay::{ReplayReport, Replayer, StoredOrder, format_instant, parse_instant};
use crate::policy::{ComponentCache, PolicyEngine, PolicySet};
use crate::store::history::{self, History, HistoryRange};
use crate::store::{Store, StoreResult};

#[derive(Args)]
pub struct ReplayArgs {
    /// The regional center whose orders are replayed.
    #[arg(long)]
    region: String,
    /// Orders placed at or after this instant: RFC 3339
    /// (2026-09-15T10:00:00+08:00) or ms since the epoch. Default: the first.
    #[arg(long, value_parser = parse_instant)]
    from: Option<TimestampMs>,
    /// Orders placed before this instant. Default: now.
    #[arg(long, value_parser = parse_instant)]
    to: Option<TimestampMs>,
    /// What to replay with: a brand directory (hq.toml, catalogue.toml,
    /// regions/), a folder of region files that replace the active brand's
    /// (same ids), or a deployment id (`DEP-…`).
    #[arg(long)]
    candidate: String,
    /// The active brand directory: the base of a region-files candidate
    /// or a deployment.
    #[arg(long, default_value = "examples/brand")]
    config: PathBuf,
    /// PostgreSQL (`postgres://…`) or SQLite (`sqlite://file`); SQLite in
    /// --data-dir when absent.
    #[arg(long, env = "CHANHOST_DATABASE_URL")]
    database_url: Option<String>,
    /// Where the embedded SQLite database lives.
    #[arg(long, default_value = "data")]
    data_dir: PathBuf,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
}

/// Orders read and handed to the workers at a time.
const PAGE: u32 = 2_000;

impl ReplayArgs {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let from = self.from.unwrap_or(i64::MIN);
        let to = self.to.unwrap_or_else(|| crate::store::now_ms() + 1);
        if from >= to {
            bail!(
                "--from {} is not before --to {}",
                format_instant(from),
                format_instant(to)
            );
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let store = runtime.block_on(self.open_store())?;
        let (candidate, described) = runtime.block_on(self.candidate(&store))?;
        if !candidate.regions.contains_key(&self.region) {
            bail!("the candidate ({described}) has no region {}", self.region);
        }
        let range = HistoryRange {
            region: self.region.clone(),
            from,
            to,
        };
        let total = runtime.block_on(history::count(&store, &range))?;

        let bar = ProgressBar::new(total).with_style(
            ProgressStyle::with_template(
                "{spinner} replaying {pos}/{len} orders [{bar:30}] {per_sec} eta {eta}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        // The reader runs ahead by a page or two while the workers replay.
        let (pages, mut next) = tokio::sync::mpsc::channel::<StoreResult<Vec<StoredOrder>>>(2);
        let reader = runtime.spawn({
            let store = store.clone();
            let range = range.clone();
            async move {
                let mut history = History::new(&store, range, PAGE);
                loop {
                    let page = history.next_page().await.transpose();
                    let Some(page) = page else { break };
                    let failed = page.is_err();
                    if pages.send(page).await.is_err() || failed {
                        break;
                    }
                }
            }
        });
        let mut replayer = Replayer::new(&candidate, &self.region, from, to);
        if let Some(threads) = self.threads {
            replayer = replayer.threads(threads);
        }
        let progress = |done: u64| bar.set_position(done);
        while let Some(page) = next.blocking_recv() {
            let page = page.context("reading stored orders")?;
            replayer.replay(&page, &progress);
        }
        runtime.block_on(reader)?;
        let report = replayer.finish();
        bar.finish_and_clear();

        if self.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print!("{}", readable(&report, &described));
        }
        Ok(ExitCode::SUCCESS)
    }

    async fn open_store(&self) -> anyhow::Result<Store> {
        match &self.database_url {
            Some(url) => Store::connect(url)
                .await
                .with_context(|| format!("connecting to {}", redact(url))),
            None => {
                let file = self.data_dir.join("chanhost.db");
                if !file.exists() {
                    bail!(
                        "no database at {}: give --data-dir of a chanhost serve, or --database-url",
                        file.display()
                    );
                }
                Store::open_data_dir(&self.data_dir)
                    .await
                    .with_context(|| format!("opening {}", file.display()))
            }
        }
    }

    /// The candidate policy, deterministic for replay, and a description
    /// of it for the report.
    async fn candidate(&self, store: &Store) -> anyhow::Result<(PolicySet, String)> {
        let path = Path::new(&self.candidate);
        if !path.exists() && self.candidate.to_ascii_uppercase().starts_with("DEP-") {
            let base = load(&BrandConfig::load(&self.config)?)?;
            let set = crate::service::deployments::candidate_for_deployment(
                store,
                &base,
                &self.candidate,
            )
            .await?;
            return Ok((
                set.for_replay(),
                format!(
                    "deployment {} over the active policy of {}",
                    self.candidate,
                    self.config.display()
                ),
            ));
        }
        if !path.is_dir() {
            bail!(
                "--candidate {}: neither a directory nor a deployment id (DEP-…)",
                self.candidate
            );
        }
        if path.join("hq.toml").exists() {
            let set = load(&BrandConfig::load(path)?)?;
            return Ok((
                set.for_replay(),
                format!("brand directory {}", path.display()),
            ));
        }
        let (brand, replaced) = overlay_regions(&self.config, path)?;
        let set = load(&brand)?;
        Ok((
            set.for_replay(),
            format!(
                "{} over {} (regions {})",
                path.display(),
                self.config.display(),
                replaced.join(", ")
            ),
        ))
    }
}

fn load(brand: &BrandConfig) -> anyhow::Result<PolicySet> {
    let engine = PolicyEngine::new(brand.hq.limits.clone(), ComponentCache::default_location())?;
    Ok(PolicySet::load(brand, engine)?)
}

/// The brand in `base` with each region file in `folder` in place of the
/// region of the same id; returns the ids replaced. Plugin paths in the
/// files stay relative to `base`, where the brand's components live.
pub fn overlay_regions(base: &Path, folder: &Path) -> anyhow::Result<(BrandConfig, Vec<String>)> {
    let mut brand = BrandConfig::load(base)?;
    let mut paths: Vec<PathBuf> = std::fs::read_dir(folder)
        .with_context(|| format!("reading {}", folder.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        bail!(
            "{} holds no hq.toml and no region *.toml files: not a candidate",
            folder.display()
        );
    }
    let mut replaced = Vec::new();
    for path in paths {
        let mut file: RegionFile = read_toml(&path)?;
        file.path = path.clone();
        let id = file.region.id.clone();
        if !brand.regions.contains_key(&id) {
            bail!(
                "{}: region {id} is not a region of {}",
                path.display(),
                base.display()
            );
        }
        if replaced.contains(&id) {
            bail!("{}: region {id} is given twice", path.display());
        }
        brand.regions.insert(id.clone(), file);
        replaced.push(id);
    }
    Ok((brand, replaced))
}

/// `postgres://user:secret@host/db` without the secret.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Fen as yuan with two decimals and a sign when asked.
fn yuan(fen: Fen, signed: bool) -> String {
    let sign = if fen < 0 {
        "-"
    } else if signed && fen > 0 {
        "+"
    } else {
        ""
    };
    let fen = fen.unsigned_abs();
    format!("{sign}{}.{:02}", fen / 100, fen % 100)
}

/// Differences shown in full in the text report (all kept ones in JSON).
const SHOWN: usize = 10;

fn readable(report: &ReplayReport, candidate: &str) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let bound = |ms: TimestampMs| match ms {
        i64::MIN => "the first order".to_string(),
        ms => format_instant(ms),
    };
    let summary = &report.summary;
    let _ = writeln!(
        out,
        "replay of region {}: orders placed from {} to {}",
        report.region,
        bound(report.from),
        format_instant(report.to)
    );
    let _ = writeln!(out, "candidate: {candidate}");
    let _ = writeln!(
        out,
        "orders replayed     {} in {:.2} s ({} orders/s)",
        report.orders,
        report.elapsed_ms as f64 / 1000.0,
        report.orders_per_s
    );
    let _ = writeln!(out, "reproduced exactly  {}", report.reproduced);
    let _ = writeln!(
        out,
        "differing           {} (verdict {}, prices {}, promotions {}, routing {})",
        summary.orders_differing,
        summary.verdict_changed,
        summary.price_changed,
        summary.promotions_changed,
        summary.routing_changed
    );
    let _ = writeln!(
        out,
        "revenue impact      {} yuan ({} fen)",
        yuan(summary.revenue_impact_fen, true),
        summary.revenue_impact_fen
    );
    if report.unevaluable > 0 {
        let _ = writeln!(
            out,
            "not evaluable       {} (the candidate refused their input)",
            report.unevaluable
        );
        for failure in report.failures.iter().take(SHOWN) {
            let _ = writeln!(out, "  {}: {}", failure.order_id, failure.error);
        }
    }
    if !summary.differences.is_empty() {
        let _ = writeln!(
            out,
            "first differences ({} of {} kept; --json lists them all):",
            summary.differences.len().min(SHOWN),
            summary.differences.len()
        );
        for diff in summary.differences.iter().take(SHOWN) {
            describe(&mut out, diff);
        }
    }
    // Orders whose diff is empty but that were not reproduced differ in
    // something a diff does not show (trace, wording, versions).
    let silent = report.orders - report.unevaluable - report.reproduced - summary.orders_differing;
    if silent > 0 {
        let _ = writeln!(
            out,
            "{silent} orders decided the same but not reproduced exactly (trace, wording or plugin versions), e.g.:"
        );
        for entry in report.not_reproduced.iter().take(SHOWN) {
            let _ = writeln!(out, "  {} at {}", entry.order_id, entry.at);
        }
    }
    out
}

fn describe(out: &mut String, diff: &DecisionDiff) {
    use std::fmt::Write;
    let _ = writeln!(
        out,
        "  {}: total {} → {} ({})",
        diff.order_id,
        yuan(diff.total.from, false),
        yuan(diff.total.to, false),
        yuan(diff.revenue_impact(), true)
    );
    if let Some(verdict) = &diff.verdict {
        let _ = writeln!(out, "    verdict {:?} → {:?}", verdict.from, verdict.to);
    }
    let price = |p: &Option<crate::policy::diff::LinePrice>| match p {
        Some(p) if p.discount != 0 => format!(
            "{} (−{})",
            yuan(p.unit_price, false),
            yuan(p.discount, false)
        ),
        Some(p) => yuan(p.unit_price, false),
        None => "unpriced".to_string(),
    };
    for change in &diff.prices {
        let _ = writeln!(
            out,
            "    line {} {}: {} → {}",
            change.line_no,
            change.sku,
            price(&change.from),
            price(&change.to)
        );
    }
    if !diff.promotions.added.is_empty() {
        let _ = writeln!(
            out,
            "    promotions added: {}",
            diff.promotions.added.join(", ")
        );
    }
    if !diff.promotions.removed.is_empty() {
        let _ = writeln!(
            out,
            "    promotions removed: {}",
            diff.promotions.removed.join(", ")
        );
    }
    let warehouses = |map: &std::collections::BTreeMap<String, u32>| {
        if map.is_empty() {
            "nowhere".to_string()
        } else {
            map.iter()
                .map(|(w, q)| format!("{w}×{q}"))
                .collect::<Vec<_>>()
                .join(" ")
        }
    };
    for change in &diff.routing {
        let backordered = if change.backordered.changed() {
            format!(
                ", backordered {} → {}",
                change.backordered.from, change.backordered.to
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "    {}: {} → {}{backordered}",
            change.sku,
            warehouses(&change.from),
            warehouses(&change.to)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_and_redaction() {
        assert_eq!(yuan(123_456, false), "1234.56");
        assert_eq!(yuan(-5, true), "-0.05");
        assert_eq!(yuan(700, true), "+7.00");
        assert_eq!(yuan(0, true), "0.00");
        assert_eq!(
            redact("postgres://me:secret@db.local:5432/x"),
            "postgres://me:***@db.local:5432/x"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
    }

    #[test]
    fn a_region_folder_replaces_only_its_regions() {
        let dir = tempfile::tempdir().unwrap();
        let gd = std::fs::read_to_string("../examples/brand/regions/gd.toml").unwrap();
        let gd = gd.replace("price_adjustment_bp = 0", "price_adjustment_bp = 200");
        std::fs::write(dir.path().join("gd.toml"), gd).unwrap();
        let base = Path::new("../examples/brand");
        let (brand, replaced) = overlay_regions(base, dir.path()).unwrap();
        assert_eq!(replaced, ["gd"]);
        assert_eq!(brand.regions["gd"].region.price_adjustment_bp, 200);
        assert_eq!(brand.regions["gd"].path, dir.path().join("gd.toml"));
        let original = BrandConfig::load(base).unwrap();
        assert_eq!(brand.regions.len(), original.regions.len());
        assert_eq!(brand.regions["sh"].path, original.regions["sh"].path);

        std::fs::write(
            dir.path().join("zz.toml"),
            "[region]\nid = \"zz\"\nname = \"Nowhere\"\n",
        )
        .unwrap();
        let error = overlay_regions(base, dir.path()).unwrap_err().to_string();
        assert!(error.contains("region zz is not a region"), "{error}");
        let empty = tempfile::tempdir().unwrap();
        let error = overlay_regions(base, empty.path()).unwrap_err().to_string();
        assert!(error.contains("not a candidate"), "{error}");
    }
}

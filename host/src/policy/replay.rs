//! Re-running stored orders through a candidate policy: each order's stored
//! input (its [`OrderContext`]) is evaluated again and the new decision is
//! compared with the stored one. Replaying the policy that decided the
//! orders must reproduce every decision exactly, which is what makes the
//! differences a candidate shows trustworthy.
//!
//! The candidate must be built with [`PolicySet::for_replay`]: a circuit
//! breaker remembers recent faults, and a replay must not depend on them.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::decision::Decision;
use super::diff::{DecisionDiff, DiffSummary, same_decision};
use super::pipeline::OrderContext;
use super::region::PolicySet;
use crate::domain::TimestampMs;

/// An order as placement stored it: its exact input and the decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredOrder {
    pub id: String,
    pub placed_at: TimestampMs,
    pub context: OrderContext,
    pub decision: Decision,
}

/// What a replay found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReplayReport {
    pub region: String,
    /// Orders placed at or after `from` and before `to` (ms since epoch).
    #[schema(value_type = i64)]
    pub from: TimestampMs,
    /// Milliseconds since the Unix epoch.
    #[schema(value_type = i64)]
    pub to: TimestampMs,
    /// Orders replayed, including those the candidate could not evaluate.
    pub orders: u64,
    /// Orders whose candidate decision equals the stored one in everything
    /// but wall-clock timings.
    pub reproduced: u64,
    /// Differences a dealer or warehouse would notice, over the orders the
    /// candidate evaluated.
    pub summary: DiffSummary,
    /// The first [`ReplayReport::KEPT`] orders not reproduced, and where
    /// their decisions first part (also when the summary sees no
    /// difference, e.g. a reworded explanation or another plugin version).
    pub not_reproduced: Vec<NotReproduced>,
    /// Orders the candidate refused as input (e.g. a SKU its catalogue
    /// lacks); not in the summary.
    pub unevaluable: u64,
    /// The first [`ReplayReport::KEPT`] of them, with the reason.
    pub failures: Vec<ReplayFailure>,
    /// Wall time from the start of the replay to its end, reading the
    /// orders included when they are read as the replay goes.
    pub elapsed_ms: u64,
    pub orders_per_s: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotReproduced {
    pub order_id: String,
    /// JSON pointer into the decision where the two first differ.
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReplayFailure {
    pub order_id: String,
    pub error: String,
}

impl ReplayReport {
    /// How many not-reproduced orders and failures a report lists.
    pub const KEPT: usize = 100;

    /// Every order reproduced and nothing refused.
    pub fn all_reproduced(&self) -> bool {
        self.reproduced == self.orders
    }
}

/// Orders are handed to the worker threads this many at a time: small
/// enough to balance uneven orders, large enough that taking a batch costs
/// nothing next to evaluating it.
const GRAIN: usize = 16;

/// A replay in progress, fed batches of stored orders in the order they
/// were placed.
pub struct Replayer<'a> {
    candidate: &'a PolicySet,
    threads: usize,
    started: Instant,
    report: ReplayReport,
}

impl<'a> Replayer<'a> {
    /// A replay of `region`'s orders in `[from, to)` through `candidate`
    /// on every core.
    pub fn new(candidate: &'a PolicySet, region: &str, from: TimestampMs, to: TimestampMs) -> Self {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Replayer {
            candidate,
            threads,
            started: Instant::now(),
            report: ReplayReport {
                region: region.to_string(),
                from,
                to,
                orders: 0,
                reproduced: 0,
                summary: DiffSummary::default(),
                not_reproduced: Vec::new(),
                unevaluable: 0,
                failures: Vec::new(),
                elapsed_ms: 0,
                orders_per_s: 0,
            },
        }
    }

    /// Uses `threads` worker threads instead of one per core.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Orders replayed so far.
    pub fn done(&self) -> u64 {
        self.report.orders
    }

    /// Replays `orders` in parallel; `progress` hears the running total of
    /// orders replayed (from the worker threads, after each few orders).
    pub fn replay(&mut self, orders: &[StoredOrder], progress: &(dyn Fn(u64) + Sync)) {
        let before = self.report.orders;
        let next = AtomicUsize::new(0);
        let done = AtomicU64::new(before);
        let grains = orders.len().div_ceil(GRAIN);
        // Decisions kept to show where they part only while the report
        // has room for more.
        let keep = self.report.not_reproduced.len() < ReplayReport::KEPT;
        let results: Vec<Mutex<Option<Outcome>>> = (0..grains).map(|_| Mutex::new(None)).collect();
        let work = || {
            loop {
                let grain = next.fetch_add(1, Ordering::Relaxed);
                if grain >= grains {
                    break;
                }
                let end = orders.len().min((grain + 1) * GRAIN);
                let batch = &orders[grain * GRAIN..end];
                let outcome = replay_grain(self.candidate, batch, keep);
                *results[grain].lock().expect("one writer per grain") = Some(outcome);
                progress(
                    done.fetch_add(batch.len() as u64, Ordering::Relaxed) + batch.len() as u64,
                );
            }
        };
        let threads = self.threads.min(grains);
        if threads <= 1 {
            work();
        } else {
            std::thread::scope(|scope| {
                for _ in 1..threads {
                    scope.spawn(work);
                }
                work();
            });
        }
        // Merged in placement order, so the kept examples are the first.
        for (grain, result) in results.into_iter().enumerate() {
            let outcome = result
                .into_inner()
                .expect("workers finished")
                .expect("every grain replayed");
            self.absorb(outcome, &orders[grain * GRAIN..]);
        }
    }

    /// Adds a grain's outcome; `orders` begin with the grain's.
    fn absorb(&mut self, outcome: Outcome, orders: &[StoredOrder]) {
        let report = &mut self.report;
        report.orders += outcome.orders;
        report.reproduced += outcome.reproduced;
        report.summary.merge(outcome.summary);
        report.unevaluable += outcome.failures.len() as u64;
        let room = ReplayReport::KEPT.saturating_sub(report.failures.len());
        report
            .failures
            .extend(outcome.failures.into_iter().take(room));
        let room = ReplayReport::KEPT.saturating_sub(report.not_reproduced.len());
        // Only the few kept are located: it costs two JSON trees each.
        report
            .not_reproduced
            .extend(
                outcome
                    .not_reproduced
                    .into_iter()
                    .take(room)
                    .map(|(i, decision)| NotReproduced {
                        order_id: orders[i].id.clone(),
                        at: first_difference(&orders[i].decision, &decision),
                    }),
            );
    }

    /// Replays `orders` and finishes.
    pub fn replay_all(
        mut self,
        orders: &[StoredOrder],
        progress: &(dyn Fn(u64) + Sync),
    ) -> ReplayReport {
        self.replay(orders, progress);
        self.finish()
    }

    pub fn finish(mut self) -> ReplayReport {
        let elapsed = self.started.elapsed();
        self.report.elapsed_ms = elapsed.as_millis() as u64;
        self.report.orders_per_s = if elapsed.is_zero() {
            0
        } else {
            (self.report.orders as f64 / elapsed.as_secs_f64()).round() as u64
        };
        self.report
    }
}

/// Replays `orders` (in placement order) through `candidate` in one go.
pub fn replay(
    candidate: &PolicySet,
    region: &str,
    from: TimestampMs,
    to: TimestampMs,
    orders: &[StoredOrder],
    progress: &(dyn Fn(u64) + Sync),
) -> ReplayReport {
    Replayer::new(candidate, region, from, to).replay_all(orders, progress)
}

/// What a few consecutive orders gave.
#[derive(Default)]
struct Outcome {
    orders: u64,
    reproduced: u64,
    summary: DiffSummary,
    /// Orders not reproduced (index in the grain) with the candidate's
    /// decision, the first few, when kept.
    not_reproduced: Vec<(usize, Decision)>,
    failures: Vec<ReplayFailure>,
}

fn replay_grain(candidate: &PolicySet, orders: &[StoredOrder], keep: bool) -> Outcome {
    let mut outcome = Outcome::default();
    for (i, stored) in orders.iter().enumerate() {
        outcome.orders += 1;
        let decision = match candidate.evaluate(&stored.context) {
            Ok(decision) => decision,
            Err(e) => {
                outcome.failures.push(ReplayFailure {
                    order_id: stored.id.clone(),
                    error: e.to_string(),
                });
                continue;
            }
        };
        if same_decision(&stored.decision, &decision) {
            outcome.reproduced += 1;
            outcome.summary.orders_compared += 1;
            continue;
        }
        outcome
            .summary
            .record(DecisionDiff::between(&stored.decision, &decision));
        // A grain never keeps more than the report can.
        if keep && outcome.not_reproduced.len() < ReplayReport::KEPT {
            outcome.not_reproduced.push((i, decision));
        }
    }
    outcome
}

/// The JSON pointer of the first place two decisions differ, what the
/// runs cost (time, fuel) aside, as in [`same_decision`]. Only called for
/// the few kept examples.
pub fn first_difference(a: &Decision, b: &Decision) -> String {
    fn timeless(decision: &Decision) -> serde_json::Value {
        let mut decision = decision.clone();
        decision.trace.total_us = 0;
        for step in &mut decision.trace.steps {
            step.duration_us = 0;
            step.fuel_used = 0;
        }
        serde_json::to_value(decision).expect("a decision is JSON")
    }
    fn walk(a: &serde_json::Value, b: &serde_json::Value, at: String) -> Option<String> {
        use serde_json::Value::{Array, Object};
        match (a, b) {
            (Object(x), Object(y)) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                keys.into_iter().find_map(|k| match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => walk(p, q, format!("{at}/{k}")),
                    _ => Some(format!("{at}/{k}")),
                })
            }
            (Array(x), Array(y)) => x
                .iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (p, q))| walk(p, q, format!("{at}/{i}")))
                .or_else(|| (x.len() != y.len()).then(|| format!("{at}/{}", x.len().min(y.len())))),
            _ => (a != b).then_some(at),
        }
    }
    walk(&timeless(a), &timeless(b), String::new()).unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Range bounds as people write them

/// An instant written as ms since the epoch or as RFC 3339
/// (`2026-09-15T10:00:00+08:00`, `2026-09-15T02:00:00.5Z`); a bare date
/// (`2026-09-15`) is its midnight UTC.
pub fn parse_instant(text: &str) -> Result<TimestampMs, String> {
    let text = text.trim();
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    parse_rfc3339(text).ok_or_else(|| {
        format!("{text:?} is not a time: give ms since the epoch or RFC 3339, e.g. 2026-09-15T10:00:00+08:00")
    })
}

fn parse_rfc3339(text: &str) -> Option<TimestampMs> {
    let number = |s: &str| -> Option<i64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (date, time) = match text.find(['T', 't', ' ']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let mut parts = date.splitn(3, '-');
    let (year, month, day) = (
        parts.next().filter(|y| y.len() == 4).and_then(number)?,
        parts.next().filter(|m| m.len() == 2).and_then(number)?,
        parts.next().filter(|d| d.len() == 2).and_then(number)?,
    );
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let Some(time) = time else {
        return Some(days * 86_400_000);
    };
    // Split the offset off: `Z`, or the last `+`/`-`.
    let (clock, offset_ms) = if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        (clock, 0)
    } else {
        let i = time.rfind(['+', '-'])?;
        let (clock, offset) = time.split_at(i);
        let sign = if offset.starts_with('-') { -1 } else { 1 };
        let (hours, minutes) = offset[1..].split_once(':')?;
        let (hours, minutes) = (number(hours)?, number(minutes)?);
        if hours > 23 || minutes > 59 {
            return None;
        }
        (clock, sign * (hours * 60 + minutes) * 60_000)
    };
    let (whole, fraction) = match clock.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (clock, None),
    };
    let mut hms = whole.splitn(3, ':');
    let (hour, minute, second) = (
        hms.next().filter(|h| h.len() == 2).and_then(number)?,
        hms.next().filter(|m| m.len() == 2).and_then(number)?,
        hms.next().filter(|s| s.len() == 2).and_then(number)?,
    );
    // 60 is a leap second, counted as the next second's start.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let millis = match fraction {
        Some(f) => {
            number(f)?;
            let digits: String = f.chars().chain("000".chars()).take(3).collect();
            digits.parse::<i64>().ok()?
        }
        None => 0,
    };
    Some(days * 86_400_000 + ((hour * 60 + minute) * 60 + second) * 1_000 + millis - offset_ms)
}

/// `ms` as RFC 3339 in UTC, with milliseconds only when there are some.
pub fn format_instant(ms: TimestampMs) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute) = (in_day / 3_600_000, in_day / 60_000 % 60);
    let (second, millis) = (in_day / 1_000 % 60, in_day % 1_000);
    let fraction = if millis == 0 {
        String::new()
    } else {
        format!(".{millis:03}")
    };
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}Z")
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::BrandConfig;
    use crate::policy::{ComponentCache, DecisionStatus, Limits, PolicyEngine};

    /// Warm instances, as the server runs them: their fuel use depends on
    /// the calls they served before, which a replay does not compare.
    fn load(dir: &Path) -> PolicySet {
        let brand = BrandConfig::load(dir).unwrap();
        let engine = PolicyEngine::new(Limits::default(), ComponentCache::disabled()).unwrap();
        PolicySet::load(&brand, engine).unwrap()
    }

    /// The example orders, each also under several other ids and
    /// quantities, decided by `set` as placement would.
    fn stored_orders(set: &PolicySet) -> Vec<StoredOrder> {
        let mut contexts = Vec::new();
        let mut paths: Vec<_> = std::fs::read_dir("../examples/brand/orders")
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).unwrap();
            let context: OrderContext = serde_json::from_str(&text).unwrap();
            for copy in 0..6u32 {
                let mut context = context.clone();
                context.order.id = format!("{}-{copy}", context.order.id);
                context.order.placed_at += i64::from(copy) * 60_000;
                for line in &mut context.order.lines {
                    line.quantity += copy * line.line_no % 7;
                }
                contexts.push(context);
            }
        }
        contexts
            .into_iter()
            .map(|context| StoredOrder {
                id: context.order.id.clone(),
                placed_at: context.order.placed_at,
                decision: set.evaluate(&context).unwrap(),
                context,
            })
            .collect()
    }

    fn without_timings(mut report: ReplayReport) -> ReplayReport {
        report.elapsed_ms = 0;
        report.orders_per_s = 0;
        report
    }

    #[test]
    fn replaying_the_deciding_policy_reproduces_every_decision() {
        let dir = Path::new("../examples/brand");
        let stored = stored_orders(&load(dir));
        // Another load: fresh instances with another history of calls.
        let candidate = load(dir).for_replay();
        let seen = AtomicU64::new(0);
        let progress = |done: u64| {
            seen.fetch_max(done, Ordering::Relaxed);
        };
        let report = Replayer::new(&candidate, "*", 0, i64::MAX)
            .threads(3)
            .replay_all(&stored, &progress);
        assert_eq!(report.orders, stored.len() as u64);
        assert_eq!(report.not_reproduced, Vec::new());
        assert_eq!(report.reproduced, report.orders);
        assert!(report.all_reproduced());
        assert_eq!(report.summary.orders_compared, report.orders);
        assert_eq!(report.summary.orders_differing, 0);
        assert_eq!(report.unevaluable, 0);
        assert_eq!(seen.load(Ordering::Relaxed), report.orders);
        // One thread or several: the same report.
        let single = Replayer::new(&candidate, "*", 0, i64::MAX)
            .threads(1)
            .replay_all(&stored, &|_| {});
        assert_eq!(without_timings(single), without_timings(report));
    }

    #[test]
    fn a_cheaper_pricing_candidate_shows_lost_revenue_in_placement_order() {
        let brand = Path::new("../examples/brand");
        let stored = stored_orders(&load(brand));
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("regions")).unwrap();
        for entry in std::fs::read_dir(brand.join("regions")).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(
                &path,
                dir.path().join("regions").join(path.file_name().unwrap()),
            )
            .unwrap();
        }
        std::fs::copy(
            brand.join("catalogue.toml"),
            dir.path().join("catalogue.toml"),
        )
        .unwrap();
        let hq = std::fs::read_to_string(brand.join("hq.toml")).unwrap();
        let cheaper = hq.replace(
            "tier_discount_bp = { strategic = 600, core = 300, standard = 0 }",
            "tier_discount_bp = { strategic = 900, core = 600, standard = 300 }",
        );
        assert_ne!(
            cheaper, hq,
            "hq.toml's default pricing moved; update this test"
        );
        std::fs::write(dir.path().join("hq.toml"), cheaper).unwrap();
        let candidate = load(dir.path()).for_replay();

        let report = replay(&candidate, "*", 0, i64::MAX, &stored, &|_| {});
        assert_eq!(report.orders, stored.len() as u64);
        assert!(report.reproduced < report.orders);
        let summary = &report.summary;
        assert!(summary.price_changed > 0, "{summary:?}");
        assert!(summary.revenue_impact_fen < 0, "{summary:?}");
        assert_eq!(summary.orders_compared, report.orders);
        assert_eq!(
            summary.orders_differing,
            report.orders - report.reproduced,
            "every order that was not reproduced differs in price here"
        );
        // Kept in placement order.
        let position = |id: &str| stored.iter().position(|s| s.id == id).unwrap();
        let kept: Vec<usize> = summary
            .differences
            .iter()
            .map(|d| position(&d.order_id))
            .collect();
        assert!(kept.windows(2).all(|w| w[0] < w[1]), "{kept:?}");
        let first = &report.not_reproduced[0];
        assert!(!first.at.starts_with("/trace"), "{first:?}");
        // A price cut never changes a verdict of these orders.
        assert_eq!(
            summary.verdict_changed,
            0,
            "{:#?}",
            summary
                .differences
                .iter()
                .filter(|d| d.verdict.is_some())
                .collect::<Vec<_>>()
        );
        assert!(
            stored
                .iter()
                .any(|s| s.decision.status == DecisionStatus::Held)
        );
    }

    #[test]
    fn an_order_the_candidate_cannot_evaluate_is_counted_not_compared() {
        let set = load(Path::new("../examples/brand"));
        let mut stored = stored_orders(&set);
        stored.truncate(3);
        stored[1].context.order.region = "atlantis".into();
        let report = replay(&set.for_replay(), "*", 0, i64::MAX, &stored, &|_| {});
        assert_eq!(report.orders, 3);
        assert_eq!(report.unevaluable, 1);
        assert_eq!(report.failures[0].order_id, stored[1].id);
        assert!(report.failures[0].error.contains("atlantis"));
        assert_eq!(report.summary.orders_compared, 2);
        assert_eq!(report.reproduced, 2);
        assert!(!report.all_reproduced());
    }

    #[test]
    fn instants_parse_as_ms_or_rfc3339_and_format_back() {
        assert_eq!(parse_instant("1789437600000"), Ok(1_789_437_600_000));
        assert_eq!(parse_instant("2026-09-15T02:00:00Z"), Ok(1_789_437_600_000));
        assert_eq!(
            parse_instant("2026-09-15T10:00:00+08:00"),
            Ok(1_789_437_600_000)
        );
        assert_eq!(
            parse_instant("2026-09-14T21:30:00-04:30"),
            Ok(1_789_437_600_000)
        );
        assert_eq!(
            parse_instant("2000-02-29t23:59:59.123z"),
            Ok(951_868_799_123)
        );
        assert_eq!(
            parse_instant("2000-02-29 23:59:59.1234Z"),
            Ok(951_868_799_123)
        );
        assert_eq!(parse_instant("1969-12-31T23:00:00Z"), Ok(-3_600_000));
        assert_eq!(parse_instant("2026-09-15"), Ok(1_789_430_400_000));
        for bad in [
            "yesterday",
            "2026-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-09-15T24:00:00Z",
            "2026-09-15T10:00:00",
            "2026-09-15T10:00:00+8",
            "2026-9-15",
            "",
        ] {
            assert!(parse_instant(bad).is_err(), "{bad}");
        }
        assert_eq!(format_instant(1_789_437_600_000), "2026-09-15T02:00:00Z");
        assert_eq!(format_instant(951_868_799_123), "2000-02-29T23:59:59.123Z");
        assert_eq!(format_instant(-3_600_000), "1969-12-31T23:00:00Z");
        for ms in [0, 1, 86_399_999, 4_102_444_800_000, -62_135_596_800_000] {
            assert_eq!(parse_instant(&format_instant(ms)), Ok(ms), "{ms}");
        }
    }
}

//! What the bench prints: counts, latency percentiles by order size, the
//! pipeline's share, and the last line.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use super::client::{Outcome, Sample, Seen};
use crate::policy::{OrderContext, PolicySet};

/// Everything but the last line: counts, statuses, latency by order size.
pub(super) fn summarise(out: &mut String, seen: &Seen, seconds: f64) {
    use std::fmt::Write;
    let count = |f: &dyn Fn(Outcome) -> bool| seen.samples.iter().filter(|s| f(s.outcome)).count();
    let accepted = count(&|o| o == Outcome::Accepted);
    let held = count(&|o| matches!(o, Outcome::Held { .. }));
    let backordered = count(&|o| o == Outcome::Held { backordered: true });
    let client = count(&|o| matches!(o, Outcome::Status(400..=499)));
    let server = count(&|o| matches!(o, Outcome::Status(500..=599)));
    let failed =
        count(&|o| o == Outcome::Failed) + count(&|o| matches!(o, Outcome::Status(s) if s < 400 ));
    let _ = writeln!(
        out,
        "measured {seconds:.1} s: {} requests completed",
        seen.samples.len()
    );
    let _ = writeln!(
        out,
        "  201: {} ({accepted} approved, {held} held for review of which {backordered} backordered)",
        accepted + held
    );
    let mut reasons: Vec<_> = seen.hold_reasons.iter().collect();
    reasons.sort();
    if !reasons.is_empty() {
        let reasons: Vec<String> = reasons
            .iter()
            .map(|(code, n)| format!("{code} {n}"))
            .collect();
        let _ = writeln!(out, "  hold reasons: {}", reasons.join(", "));
    }
    let _ = writeln!(out, "  4xx: {client}  5xx: {server}  errors: {failed}");
    for error in &seen.errors {
        let _ = writeln!(out, "  e.g. {error}");
    }
    for (label, range) in [
        ("1–3 lines", 1..=3u8),
        ("4–6 lines", 4..=6),
        ("7–10 lines", 7..=10),
        ("11+ lines", 11..=u8::MAX),
    ] {
        let mut ms: Vec<f64> = created_ms(&seen.samples, |s| range.contains(&s.lines));
        if ms.is_empty() {
            continue;
        }
        let n = ms.len();
        ms.sort_by(f64::total_cmp);
        let _ = writeln!(
            out,
            "  {label:<10} {n:>7} created ({:>6.0}/s)  p50 {:>6.2} ms  p99 {:>6.2} ms",
            n as f64 / seconds,
            percentile(&ms, 50.0),
            percentile(&ms, 99.0)
        );
    }
}

/// Latencies of 201s in ms, for the samples `keep` selects.
pub(super) fn created_ms(samples: &[Sample], keep: impl Fn(&Sample) -> bool) -> Vec<f64> {
    samples
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Accepted | Outcome::Held { .. }) && keep(s))
        .map(|s| s.latency_us as f64 / 1e3)
        .collect()
}

pub(super) fn last_line(samples: &[Sample], seconds: f64) -> String {
    let mut ms = created_ms(samples, |_| true);
    ms.sort_by(f64::total_cmp);
    format!(
        "orders_per_s={:.0} p50_ms={:.2} p99_ms={:.2}",
        ms.len() as f64 / seconds,
        percentile(&ms, 50.0),
        percentile(&ms, 99.0)
    )
}

/// Nearest-rank percentile of sorted samples; 0 when there are none.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The pipeline's share: the decision trace's wall time under load for a
/// sample of placed orders, and (own server) the same inputs evaluated
/// again on an idle thread.
pub(super) async fn decisions(
    http: &reqwest::Client,
    base: &str,
    hq: &str,
    ids: &[String],
    policies: Option<Arc<PolicySet>>,
) -> String {
    let mut under_load: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut inputs: Vec<OrderContext> = Vec::new();
    for id in ids.iter().take(400) {
        let Ok(response) = http
            .get(format!("{base}/v1/orders/{id}/decision"))
            .bearer_auth(hq)
            .send()
            .await
        else {
            continue;
        };
        let Ok(value) = response.json::<serde_json::Value>().await else {
            continue;
        };
        let lines = value["input"]["order"]["lines"]
            .as_array()
            .map_or(0, Vec::len);
        if let Some(us) = value["decision"]["trace"]["total_us"].as_u64() {
            under_load.entry(bucket(lines)).or_default().push(us as f64);
        }
        if let Ok(context) = serde_json::from_value::<OrderContext>(value["input"].clone()) {
            inputs.push(context);
        }
    }
    let idle = match policies {
        Some(policies) => tokio::task::spawn_blocking(move || {
            let mut idle: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
            for context in &inputs {
                let _ = policies.evaluate(context);
                let started = Instant::now();
                let _ = policies.evaluate(context);
                idle.entry(bucket(context.order.lines.len()))
                    .or_default()
                    .push(started.elapsed().as_secs_f64() * 1e6);
            }
            idle
        })
        .await
        .unwrap_or_default(),
        None => BTreeMap::new(),
    };
    let mut out = String::from(
        "pipeline per order (median µs: trace under load / same input on an idle thread):\n",
    );
    for (label, samples) in under_load.iter_mut() {
        samples.sort_by(f64::total_cmp);
        let idle = idle.get(label).cloned().map(|mut v| {
            v.sort_by(f64::total_cmp);
            percentile(&v, 50.0)
        });
        out.push_str(&format!(
            "  {label:<10} {:>4} orders  {:>7.0} / {}\n",
            samples.len(),
            percentile(samples, 50.0),
            idle.map_or("-".into(), |us| format!("{us:.0}"))
        ));
    }
    out
}

fn bucket(lines: usize) -> &'static str {
    match lines {
        0..=3 => "1–3 lines",
        4..=6 => "4–6 lines",
        7..=10 => "7–10 lines",
        _ => "11+ lines",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_is_nearest_rank() {
        let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&sorted, 50.0), 50.0);
        assert_eq!(percentile(&sorted, 99.0), 99.0);
        assert_eq!(percentile(&sorted, 100.0), 100.0);
        assert_eq!(percentile(&sorted, 0.0), 1.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }

    #[test]
    fn last_line_counts_only_created_orders() {
        let sample = |ms: u32, outcome| Sample {
            latency_us: ms * 1000,
            lines: 2,
            outcome,
        };
        let samples = vec![
            sample(2, Outcome::Accepted),
            sample(4, Outcome::Held { backordered: true }),
            sample(900, Outcome::Status(500)),
            sample(1, Outcome::Failed),
        ];
        assert_eq!(
            last_line(&samples, 2.0),
            "orders_per_s=1 p50_ms=2.00 p99_ms=4.00"
        );
    }
}

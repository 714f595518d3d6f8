//! The clients: dealers with their tokens, and the loop each client runs.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

/// One dealer the clients order for.
pub(super) struct Buyer {
    pub(super) id: String,
    pub(super) token: String,
    /// SKUs its region lists and may sell.
    pub(super) skus: Vec<String>,
}

#[derive(Deserialize)]
struct DealerRow {
    id: String,
    region: String,
    credit_limit: i64,
    outstanding_balance: i64,
}

#[derive(Deserialize)]
struct ProductRow {
    sku: String,
    #[serde(default)]
    restricted_to_regions: Vec<String>,
}

#[derive(Deserialize)]
struct RegionRow {
    id: String,
    listed: Option<Vec<String>>,
}

/// Picks `count` dealers round-robin over regions (most credit headroom
/// first within a region, so credit holds stay rare) and issues each a token.
pub(super) async fn buyers(
    http: &reqwest::Client,
    base: &str,
    hq: &str,
    count: usize,
) -> anyhow::Result<Vec<Buyer>> {
    let get = |path: &str| http.get(format!("{base}/v1/{path}")).bearer_auth(hq).send();
    let catalogue: Vec<ProductRow> = get("catalogue").await?.error_for_status()?.json().await?;
    let regions: Vec<RegionRow> = get("regions").await?.error_for_status()?.json().await?;
    let dealers: Vec<DealerRow> = get("dealers").await?.error_for_status()?.json().await?;
    let mut by_region: BTreeMap<&str, Vec<&DealerRow>> = BTreeMap::new();
    for dealer in &dealers {
        by_region.entry(&dealer.region).or_default().push(dealer);
    }
    for list in by_region.values_mut() {
        list.sort_by_key(|d| std::cmp::Reverse(d.credit_limit - d.outstanding_balance));
    }
    let mut picked = Vec::new();
    for rank in 0.. {
        let before = picked.len();
        for list in by_region.values() {
            if picked.len() < count
                && let Some(dealer) = list.get(rank)
            {
                picked.push(*dealer);
            }
        }
        if picked.len() == before || picked.len() >= count {
            break;
        }
    }
    let mut out = Vec::with_capacity(picked.len());
    for dealer in picked {
        let region = regions.iter().find(|r| r.id == dealer.region);
        let skus: Vec<String> = catalogue
            .iter()
            .filter(|p| {
                p.restricted_to_regions.is_empty()
                    || p.restricted_to_regions.contains(&dealer.region)
            })
            .filter(|p| {
                region
                    .and_then(|r| r.listed.as_ref())
                    .is_none_or(|listed| listed.contains(&p.sku))
            })
            .map(|p| p.sku.clone())
            .collect();
        if skus.is_empty() {
            continue;
        }
        #[derive(Deserialize)]
        struct Issued {
            token: String,
        }
        let issued: Issued = http
            .post(format!("{base}/v1/tokens"))
            .bearer_auth(hq)
            .json(&serde_json::json!({ "name": format!("bench {}", dealer.id), "role": "dealer", "dealer_id": dealer.id }))
            .send()
            .await?
            .error_for_status()
            .with_context(|| format!("issuing a token for {}", dealer.id))?
            .json()
            .await?;
        out.push(Buyer {
            id: dealer.id.clone(),
            token: issued.token,
            skus,
        });
    }
    if out.is_empty() {
        bail!("no dealers to order for at {base}");
    }
    Ok(out)
}

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Accepted,
    /// 201 held for review; `backordered` when stock ran short.
    Held {
        backordered: bool,
    },
    Status(u16),
    Failed,
}

pub(super) struct Sample {
    pub(super) latency_us: u32,
    pub(super) lines: u8,
    pub(super) outcome: Outcome,
}

/// What one client saw inside the measured window.
#[derive(Default)]
pub(super) struct Seen {
    pub(super) samples: Vec<Sample>,
    pub(super) hold_reasons: HashMap<String, u64>,
    pub(super) errors: Vec<String>,
    /// A few orders placed, to read their decisions afterwards.
    pub(super) order_ids: Vec<String>,
}

pub(super) struct Window {
    pub(super) from: Instant,
    pub(super) to: Instant,
    pub(super) stop: AtomicBool,
    pub(super) created: AtomicU64,
}

#[derive(Serialize)]
struct Line<'a> {
    sku: &'a str,
    quantity: u32,
}

#[derive(Serialize)]
struct OrderBody<'a> {
    lines: &'a [Line<'a>],
}

#[derive(Deserialize)]
struct Created {
    id: String,
    status: String,
    #[serde(default)]
    backorders: Vec<serde::de::IgnoredAny>,
    #[serde(default)]
    reasons: Vec<ReasonCode>,
}

#[derive(Deserialize)]
struct ReasonCode {
    code: String,
}

pub(super) async fn run(
    n: usize,
    http: reqwest::Client,
    url: String,
    buyers: Arc<Vec<Buyer>>,
    window: Arc<Window>,
    (max_lines, max_quantity, run_id): (usize, u32, u64),
) -> Seen {
    let mut rng = SplitMix64(run_id ^ (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut seen = Seen::default();
    let mut order = Vec::with_capacity(max_lines);
    let mut picks: Vec<usize> = Vec::new();
    for seq in 0u64.. {
        if window.stop.load(Ordering::Relaxed) {
            break;
        }
        let buyer = &buyers[rng.below(buyers.len())];
        let count = 1 + rng.below(max_lines.min(buyer.skus.len()));
        picks.clear();
        picks.extend(0..buyer.skus.len());
        order.clear();
        for i in 0..count {
            let j = i + rng.below(picks.len() - i);
            picks.swap(i, j);
            order.push(Line {
                sku: &buyer.skus[picks[i]],
                quantity: 1 + rng.below(max_quantity as usize) as u32,
            });
        }
        let body = serde_json::to_vec(&OrderBody { lines: &order }).expect("order serialises");
        let started = Instant::now();
        let answer = http
            .post(&url)
            .bearer_auth(&buyer.token)
            .header("idempotency-key", format!("bench-{run_id:x}-{n}-{seq}"))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        let (outcome, text) = match answer {
            Ok(response) => {
                let status = response.status().as_u16();
                match response.bytes().await {
                    Ok(bytes) => (Outcome::Status(status), Ok(bytes)),
                    Err(err) => (Outcome::Failed, Err(err.to_string())),
                }
            }
            Err(err) => (Outcome::Failed, Err(err.to_string())),
        };
        let done = Instant::now();
        let measured = done >= window.from && done <= window.to;
        let outcome = match (outcome, &text) {
            (Outcome::Status(201), Ok(bytes)) => match serde_json::from_slice::<Created>(bytes) {
                Ok(created) => {
                    window.created.fetch_add(1, Ordering::Relaxed);
                    if measured && seen.order_ids.len() < 8 && seq % 7 == 0 {
                        seen.order_ids.push(created.id);
                    }
                    if created.status == "pending_review" {
                        if measured {
                            for reason in created.reasons {
                                *seen.hold_reasons.entry(reason.code).or_default() += 1;
                            }
                        }
                        Outcome::Held {
                            backordered: !created.backorders.is_empty(),
                        }
                    } else {
                        Outcome::Accepted
                    }
                }
                Err(err) => {
                    if measured && seen.errors.len() < 3 {
                        seen.errors
                            .push(format!("201 with an unreadable body: {err}"));
                    }
                    Outcome::Failed
                }
            },
            (outcome, text) => {
                if measured && seen.errors.len() < 3 {
                    seen.errors.push(match (outcome, text) {
                        (Outcome::Status(status), Ok(bytes)) => {
                            format!(
                                "{status}: {}",
                                String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
                            )
                        }
                        (_, Err(err)) => err.clone(),
                        _ => String::new(),
                    });
                }
                outcome
            }
        };
        if measured {
            seen.samples.push(Sample {
                latency_us: (done - started).as_micros().min(u32::MAX as u128) as u32,
                lines: count.min(u8::MAX as usize) as u8,
                outcome,
            });
        }
    }
    seen
}

/// A tiny deterministic generator: the bench needs spread, not quality.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-enough in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (((self.next() >> 11) as u128 * n as u128) >> 53) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_stays_in_range_and_spreads() {
        let mut rng = SplitMix64(42);
        let mut hits = [0usize; 5];
        for _ in 0..5000 {
            hits[rng.below(5)] += 1;
        }
        assert!(hits.iter().all(|&h| (800..1200).contains(&h)), "{hits:?}");
    }
}

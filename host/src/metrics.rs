//! The server's Prometheus metrics: one registry per server (no globals, so
//! tests and benches may run several), filled from three places:
//!
//! - the HTTP layer (requests and latency by route template),
//! - order placement (each order's decision and its trace: every plugin
//!   call with latency, fuel, faults and guardrail findings),
//! - the order writer (group-commit latency and batch size);
//!
//! and, at scrape time, from state that is better read than counted: orders
//! by region and status (from the database, so several hosts sharing one
//! PostgreSQL agree), quarantined plugins, and the database pool.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::policy::decision::{Decision, StepStatus};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    /// The route template (`/v1/orders/{id}`), never the raw path: ids
    /// would make the series unbounded.
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResponseLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DecisionLabels {
    pub region: String,
    /// accepted, held or rejected.
    pub decision: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OrderStatusLabels {
    pub region: String,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginLabels {
    pub region: String,
    pub kind: String,
    pub plugin: String,
    pub version: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginOutcomeLabels {
    pub region: String,
    pub kind: String,
    pub plugin: String,
    pub version: String,
    /// ok, fault or quarantined (skipped).
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginFaultLabels {
    pub region: String,
    pub kind: String,
    pub plugin: String,
    pub version: String,
    /// The fault's stable code: trap, out-of-fuel, deadline, memory-limit,
    /// stack-overflow, input-too-large, output-too-large, plugin-error,
    /// guardrail.
    pub fault: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QuarantineLabels {
    pub kind: String,
    pub plugin: String,
    pub version: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    /// idle or in_use.
    pub state: String,
}

/// Histogram buckets for one family; a plain `fn` so families stay `Clone`.
#[derive(Clone)]
pub struct Buckets(fn() -> Histogram);

impl MetricConstructor<Histogram> for Buckets {
    fn new_metric(&self) -> Histogram {
        (self.0)()
    }
}

/// 100 µs … ~6.5 s: HTTP requests and database commits.
fn seconds_slow() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 17))
}

/// 2 µs … ~65 ms: one plugin call.
fn seconds_fast() -> Histogram {
    Histogram::new(exponential_buckets(0.000_002, 2.0, 16))
}

/// 1,000 … ~16M instructions: fuel of one call (the default budget is 11M).
fn fuel() -> Histogram {
    Histogram::new(exponential_buckets(1000.0, 2.0, 15))
}

/// 1 … 256 orders per commit.
fn batch_sizes() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 2.0, 9))
}

type HistogramFamily<L> = Family<L, Histogram, Buckets>;

/// Every metric the server exports.
pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<ResponseLabels, Counter>,
    pub http_duration: HistogramFamily<RouteLabels>,
    pub orders_placed: Family<DecisionLabels, Counter>,
    pub orders_by_status: Family<OrderStatusLabels, Gauge>,
    pub plugin_calls: Family<PluginOutcomeLabels, Counter>,
    pub plugin_duration: HistogramFamily<PluginLabels>,
    pub plugin_fuel: HistogramFamily<PluginLabels>,
    pub plugin_faults: Family<PluginFaultLabels, Counter>,
    pub guardrail_findings: Family<PluginLabels, Counter>,
    pub quarantined: Family<QuarantineLabels, Gauge>,
    pub commit: CommitMetrics,
    pub pool_connections: Family<PoolLabels, Gauge>,
    pub pool_max: Gauge,
}

/// What the order writer records per group commit; cheap to clone into
/// the writer task.
#[derive(Clone)]
pub struct CommitMetrics {
    pub duration: Histogram,
    pub orders: Histogram,
    pub batches: Family<CommitPathLabels, Counter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CommitPathLabels {
    /// How the batch was written: `book` (SQLite: decided on the stock
    /// book, one call), `reads` (decided on what it read under the lock),
    /// `careful` (one savepoint per order), `failed` (failed as a whole,
    /// then each order on its own).
    pub path: &'static str,
}

impl CommitMetrics {
    pub fn observe(&self, took: Duration, orders: usize, path: &'static str) {
        self.duration.observe(took.as_secs_f64());
        self.orders.observe(orders as f64);
        self.batches.get_or_create(&CommitPathLabels { path }).inc();
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("chanhost");
        let metrics = Metrics {
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(Buckets(seconds_slow)),
            orders_placed: Family::default(),
            orders_by_status: Family::default(),
            plugin_calls: Family::default(),
            plugin_duration: Family::new_with_constructor(Buckets(seconds_fast)),
            plugin_fuel: Family::new_with_constructor(Buckets(fuel)),
            plugin_faults: Family::default(),
            guardrail_findings: Family::default(),
            quarantined: Family::default(),
            commit: CommitMetrics {
                duration: seconds_slow(),
                orders: batch_sizes(),
                batches: Family::default(),
            },
            pool_connections: Family::default(),
            pool_max: Gauge::default(),
            registry: Registry::default(),
        };
        let m = &metrics;
        let r = &mut registry;
        r.register(
            "http_requests",
            "HTTP requests answered, by route template and status",
            m.http_requests.clone(),
        );
        r.register_with_unit(
            "http_request_duration",
            "Time to answer an HTTP request, by route template",
            Unit::Seconds,
            m.http_duration.clone(),
        );
        r.register(
            "orders_placed",
            "Orders this host placed, by region and the pipeline's decision",
            m.orders_placed.clone(),
        );
        r.register(
            "orders",
            "Orders in the database by region and lifecycle status (read at scrape)",
            m.orders_by_status.clone(),
        );
        r.register(
            "plugin_calls",
            "Plugin calls while placing orders, by region, kind, plugin, version and outcome",
            m.plugin_calls.clone(),
        );
        r.register_with_unit(
            "plugin_call_duration",
            "Wall time of one plugin call",
            Unit::Seconds,
            m.plugin_duration.clone(),
        );
        r.register(
            "plugin_fuel_used",
            "Fuel (instructions) one plugin call used",
            m.plugin_fuel.clone(),
        );
        r.register(
            "plugin_faults",
            "Plugin faults (traps, limit hits, invalid output, guardrail violations) by fault code",
            m.plugin_faults.clone(),
        );
        r.register(
            "plugin_guardrail_findings",
            "HQ guardrail findings on plugin output (each finding once)",
            m.guardrail_findings.clone(),
        );
        r.register(
            "plugin_quarantined",
            "1 for each plugin version the circuit breaker holds in quarantine (read at scrape)",
            m.quarantined.clone(),
        );
        r.register_with_unit(
            "db_commit_duration",
            "Time of one group commit of placed orders (begin to durable commit)",
            Unit::Seconds,
            m.commit.duration.clone(),
        );
        r.register(
            "db_commit_orders",
            "Orders carried by one group commit",
            m.commit.orders.clone(),
        );
        r.register(
            "db_commit_batches",
            "Group commits of placed orders, by how they were written (book, reads, careful, failed)",
            m.commit.batches.clone(),
        );
        r.register(
            "db_pool_connections",
            "Database pool connections by state (read at scrape)",
            m.pool_connections.clone(),
        );
        r.register(
            "db_pool_max_connections",
            "Largest size the database pool may grow to",
            m.pool_max.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }

    /// Counts an order placement's final answer (once per order, however
    /// often stock races made it re-evaluate).
    pub fn record_placed(&self, decision: &Decision) {
        self.orders_placed
            .get_or_create(&DecisionLabels {
                region: decision.region.clone(),
                decision: serde_plain(&decision.status),
            })
            .inc();
    }

    /// Counts every plugin call one evaluation's trace records.
    pub fn record_plugin_calls(&self, decision: &Decision) {
        for step in &decision.trace.steps {
            let plugin = PluginLabels {
                region: decision.region.clone(),
                kind: step.plugin.kind.to_string(),
                plugin: step.plugin.name.clone(),
                version: step.plugin.version.clone(),
            };
            let outcome = match step.status {
                StepStatus::Ok => "ok",
                StepStatus::Fault => "fault",
                StepStatus::Quarantined => "quarantined",
            };
            self.plugin_calls
                .get_or_create(&PluginOutcomeLabels {
                    region: plugin.region.clone(),
                    kind: plugin.kind.clone(),
                    plugin: plugin.plugin.clone(),
                    version: plugin.version.clone(),
                    outcome: outcome.to_owned(),
                })
                .inc();
            if step.status == StepStatus::Quarantined {
                continue; // not called: no time or fuel to record
            }
            self.plugin_duration
                .get_or_create(&plugin)
                .observe(step.duration_us as f64 / 1e6);
            self.plugin_fuel
                .get_or_create(&plugin)
                .observe(step.fuel_used as f64);
            if let Some(fault) = &step.fault {
                self.plugin_faults
                    .get_or_create(&PluginFaultLabels {
                        region: plugin.region.clone(),
                        kind: plugin.kind.clone(),
                        plugin: plugin.plugin.clone(),
                        version: plugin.version.clone(),
                        fault: fault.code().to_owned(),
                    })
                    .inc();
            }
            if !step.guardrail_findings.is_empty() {
                self.guardrail_findings
                    .get_or_create(&plugin)
                    .inc_by(step.guardrail_findings.len() as u64);
            }
        }
    }

    /// The registry in the Prometheus (OpenMetrics) text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

/// A unit enum's serde name (`accepted`, `pending_review`, …).
fn serde_plain<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_appear_once_they_have_a_series_and_plain_metrics_always() {
        let metrics = Metrics::new();
        let text = metrics.encode();
        assert!(
            text.contains("# HELP chanhost_db_commit_duration_seconds "),
            "{text}"
        );
        assert!(
            text.contains("# HELP chanhost_db_pool_max_connections "),
            "{text}"
        );
        // A family with no series yet is left out, as Prometheus expects.
        assert!(!text.contains("chanhost_http_requests"), "{text}");
        assert!(text.ends_with("# EOF\n"));

        metrics
            .http_requests
            .get_or_create(&ResponseLabels {
                method: "GET".into(),
                route: "/v1/orders/{id}".into(),
                status: 200,
            })
            .inc();
        let text = metrics.encode();
        assert!(
            text.contains("# TYPE chanhost_http_requests counter"),
            "{text}"
        );
        assert!(
            text.contains(
                r#"chanhost_http_requests_total{method="GET",route="/v1/orders/{id}",status="200"} 1"#
            ),
            "{text}"
        );
    }

    #[test]
    fn commits_are_observed_with_their_batch_size() {
        let metrics = Metrics::new();
        metrics.commit.observe(Duration::from_millis(3), 40, "book");
        let text = metrics.encode();
        assert!(
            text.contains(r#"chanhost_db_commit_batches_total{path="book"} 1"#),
            "{text}"
        );
        assert!(
            text.contains("chanhost_db_commit_duration_seconds_count 1"),
            "{text}"
        );
        assert!(
            text.contains("chanhost_db_commit_orders_sum 40.0"),
            "{text}"
        );
    }
}

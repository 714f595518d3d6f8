//! The circuit breaker: a plugin version that keeps faulting is
//! quarantined (not called; its kind's failure policy applies at once)
//! until a cooldown passes, then given one trial call.
//!
//! Health is kept per content hash, so one broken build is quarantined in
//! every region that runs it, and its state is visible to operators.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::limits::Fault;
use super::plugin::PluginIdentity;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerSettings {
    /// Consecutive faults that quarantine a plugin version; 0 disables.
    pub consecutive_faults: u32,
    /// How long a quarantine lasts before one trial call is let through.
    pub cooldown_ms: u64,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        BreakerSettings {
            consecutive_faults: 5,
            cooldown_ms: 30_000,
        }
    }
}

/// What operators see of one plugin version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PluginHealth {
    pub plugin: PluginIdentity,
    pub calls: u64,
    pub faults: u64,
    pub consecutive_faults: u32,
    pub quarantined: bool,
    /// Milliseconds until the next trial call, while quarantined.
    pub quarantine_remaining_ms: Option<u64>,
    pub last_fault: Option<String>,
}

#[derive(Debug)]
struct Health {
    identity: PluginIdentity,
    calls: u64,
    faults: u64,
    consecutive: u32,
    quarantined_until: Option<Instant>,
    last_fault: Option<String>,
}

impl Health {
    fn new(identity: &PluginIdentity) -> Self {
        Health {
            identity: identity.clone(),
            calls: 0,
            faults: 0,
            consecutive: 0,
            quarantined_until: None,
            last_fault: None,
        }
    }
}

#[derive(Debug, Default)]
pub struct Breaker {
    settings: BreakerSettings,
    health: Mutex<HashMap<String, Health>>,
}

impl Breaker {
    pub fn new(settings: BreakerSettings) -> Self {
        Breaker {
            settings,
            health: Mutex::new(HashMap::new()),
        }
    }

    /// A breaker that never quarantines (replays must not depend on it).
    pub fn disabled() -> Self {
        Breaker::new(BreakerSettings {
            consecutive_faults: 0,
            cooldown_ms: 0,
        })
    }

    /// Whether a call may go ahead now. During the quarantine it may not;
    /// once the cooldown has passed one trial call may.
    pub fn admits(&self, plugin: &PluginIdentity) -> bool {
        let mut health = self.health.lock().expect("breaker lock");
        let Some(entry) = health.get_mut(&plugin.hash) else {
            return true;
        };
        match entry.quarantined_until {
            Some(until) if Instant::now() < until => false,
            Some(_) => {
                // Half-open: this caller makes the trial call; others wait
                // for its outcome for another cooldown.
                entry.quarantined_until = Some(Instant::now() + self.cooldown());
                true
            }
            None => true,
        }
    }

    /// Records the outcome of a call that was made.
    pub fn record(&self, plugin: &PluginIdentity, fault: Option<&Fault>) {
        let mut health = self.health.lock().expect("breaker lock");
        // The entry exists after a plugin's first call: no key to copy then.
        if !health.contains_key(&plugin.hash) {
            health.insert(plugin.hash.clone(), Health::new(plugin));
        }
        let entry = health.get_mut(&plugin.hash).expect("inserted above");
        entry.calls += 1;
        match fault.filter(|f| f.counts_against_health()) {
            None => {
                entry.consecutive = 0;
                entry.quarantined_until = None;
            }
            Some(fault) => {
                entry.faults += 1;
                entry.consecutive += 1;
                entry.last_fault = Some(fault.to_string());
                let threshold = self.settings.consecutive_faults;
                if threshold > 0 && entry.consecutive >= threshold {
                    if entry.quarantined_until.is_none() {
                        tracing::warn!(plugin = %plugin.name, version = %plugin.version, hash = %plugin.hash,
                            "plugin quarantined after {} consecutive faults: {fault}", entry.consecutive);
                    }
                    entry.quarantined_until = Some(Instant::now() + self.cooldown());
                }
            }
        }
    }

    /// Quarantines a plugin version at once (the deployment guard found its
    /// fault rate too high), for one cooldown.
    pub fn quarantine(&self, plugin: &PluginIdentity, reason: &str) {
        let mut health = self.health.lock().expect("breaker lock");
        let entry = health
            .entry(plugin.hash.clone())
            .or_insert_with(|| Health::new(plugin));
        entry.quarantined_until = Some(Instant::now() + self.cooldown());
        entry.last_fault = Some(reason.to_string());
    }

    /// Every plugin version that has been called, quarantined ones first.
    pub fn snapshot(&self) -> Vec<PluginHealth> {
        let now = Instant::now();
        let health = self.health.lock().expect("breaker lock");
        let mut all: Vec<PluginHealth> = health
            .values()
            .map(|h| {
                let remaining = h
                    .quarantined_until
                    .map(|until| until.saturating_duration_since(now).as_millis() as u64);
                PluginHealth {
                    plugin: h.identity.clone(),
                    calls: h.calls,
                    faults: h.faults,
                    consecutive_faults: h.consecutive,
                    quarantined: h.quarantined_until.is_some(),
                    quarantine_remaining_ms: remaining,
                    last_fault: h.last_fault.clone(),
                }
            })
            .collect();
        all.sort_by(|a, b| {
            b.quarantined
                .cmp(&a.quarantined)
                .then(a.plugin.name.cmp(&b.plugin.name))
        });
        all
    }

    fn cooldown(&self) -> Duration {
        Duration::from_millis(self.settings.cooldown_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::types::PluginKind;

    fn identity() -> PluginIdentity {
        PluginIdentity {
            name: "p".into(),
            version: "1".into(),
            kind: PluginKind::Pricing,
            hash: "abc".into(),
            wit_version: "0.1.0".into(),
        }
    }

    #[test]
    fn quarantines_after_consecutive_faults_and_recovers_after_a_good_trial() {
        let breaker = Breaker::new(BreakerSettings {
            consecutive_faults: 3,
            cooldown_ms: 0,
        });
        let id = identity();
        let fault = Fault::Trap {
            message: "boom".into(),
        };
        for _ in 0..2 {
            breaker.record(&id, Some(&fault));
        }
        assert!(!breaker.snapshot()[0].quarantined);
        breaker.record(&id, Some(&fault));
        assert!(breaker.snapshot()[0].quarantined);
        // Cooldown 0: the next call is the trial; success closes the breaker.
        assert!(breaker.admits(&id));
        breaker.record(&id, None);
        assert!(!breaker.snapshot()[0].quarantined);
    }

    #[test]
    fn a_quarantined_plugin_is_not_admitted_during_cooldown() {
        let breaker = Breaker::new(BreakerSettings {
            consecutive_faults: 1,
            cooldown_ms: 60_000,
        });
        let id = identity();
        breaker.record(&id, Some(&Fault::OutOfFuel { limit: 1 }));
        assert!(!breaker.admits(&id));
        assert!(breaker.snapshot()[0].quarantine_remaining_ms.unwrap() > 0);
    }

    #[test]
    fn a_plugin_error_by_choice_does_not_count() {
        let breaker = Breaker::new(BreakerSettings {
            consecutive_faults: 1,
            cooldown_ms: 60_000,
        });
        let id = identity();
        breaker.record(
            &id,
            Some(&Fault::PluginError {
                code: "x".into(),
                message: "y".into(),
            }),
        );
        assert!(breaker.admits(&id));
    }
}

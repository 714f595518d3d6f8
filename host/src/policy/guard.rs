//! The automatic guard on a new deployment: its plugin calls are counted
//! and, once enough have been made, a fault rate at or above HQ's threshold
//! trips the guard once. Whoever listens (the deployment service) then
//! quarantines the version and rolls its slot back.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::sync::mpsc::UnboundedSender;

use crate::config::DeploymentSettings;

/// What a slot put there by a deployment carries: the deployment's id,
/// which every trace step records, and its guard.
#[derive(Debug)]
pub struct DeploymentTag {
    pub id: String,
    guard: Option<Guard>,
}

#[derive(Debug)]
struct Guard {
    min_calls: u64,
    fault_rate_bp: u64,
    window_calls: u64,
    calls: AtomicU64,
    faults: AtomicU64,
    tripped: AtomicBool,
    on_trip: UnboundedSender<String>,
}

impl DeploymentTag {
    /// A deployment no guard watches (shadows, replays).
    pub fn unguarded(id: impl Into<String>) -> Self {
        DeploymentTag {
            id: id.into(),
            guard: None,
        }
    }

    /// A deployment whose fault rate is watched; its id is sent on
    /// `on_trip` the first time the rate passes the threshold.
    pub fn guarded(
        id: impl Into<String>,
        settings: &DeploymentSettings,
        on_trip: UnboundedSender<String>,
    ) -> Self {
        DeploymentTag {
            id: id.into(),
            guard: Some(Guard {
                min_calls: u64::from(settings.guard_min_calls.max(1)),
                fault_rate_bp: u64::from(settings.guard_fault_rate_bp),
                window_calls: u64::from(settings.guard_window_calls),
                calls: AtomicU64::new(0),
                faults: AtomicU64::new(0),
                tripped: AtomicBool::new(false),
                on_trip,
            }),
        }
    }

    /// Counts one call of the deployment's plugin.
    pub fn record(&self, faulted: bool) {
        let Some(guard) = &self.guard else { return };
        let calls = guard.calls.fetch_add(1, Ordering::Relaxed) + 1;
        if calls > guard.window_calls {
            return;
        }
        let faults = if faulted {
            guard.faults.fetch_add(1, Ordering::Relaxed) + 1
        } else {
            guard.faults.load(Ordering::Relaxed)
        };
        if calls >= guard.min_calls
            && faults * 10_000 >= guard.fault_rate_bp * calls
            && guard.fault_rate_bp > 0
            && !guard.tripped.swap(true, Ordering::AcqRel)
        {
            // The receiver may be gone at shutdown; nothing to do then.
            let _ = guard.on_trip.send(self.id.clone());
        }
    }

    /// Calls and faults counted so far (while in the window).
    pub fn counts(&self) -> Option<(u64, u64)> {
        self.guard.as_ref().map(|g| {
            (
                g.calls.load(Ordering::Relaxed),
                g.faults.load(Ordering::Relaxed),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(min_calls: u32, rate_bp: u32) -> DeploymentSettings {
        DeploymentSettings {
            guard_min_calls: min_calls,
            guard_fault_rate_bp: rate_bp,
            ..DeploymentSettings::default()
        }
    }

    #[test]
    fn trips_once_when_the_fault_rate_passes_the_threshold_after_enough_calls() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let tag = DeploymentTag::guarded("dep-1", &settings(10, 2000), tx);
        for _ in 0..5 {
            tag.record(true);
        }
        assert!(rx.try_recv().is_err(), "too few calls to judge");
        for _ in 0..5 {
            tag.record(false);
        }
        assert_eq!(
            rx.try_recv().unwrap(),
            "dep-1",
            "5 faults in 10 calls is 50%"
        );
        tag.record(true);
        assert!(rx.try_recv().is_err(), "trips only once");
    }

    #[test]
    fn a_healthy_rate_never_trips() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let tag = DeploymentTag::guarded("dep-2", &settings(10, 2000), tx);
        for i in 0..100 {
            tag.record(i % 10 == 0);
        }
        assert!(rx.try_recv().is_err(), "10% stays under 20%");
        assert_eq!(tag.counts(), Some((100, 10)));
    }
}

//! The policy set orders are evaluated with right now, and how it is
//! replaced: a whole new [`PolicySet`] is built beside the live one and
//! swapped in with one atomic store. An evaluation holds the set it began
//! with, so orders in flight finish on the old plugins while new orders
//! take the new ones, and no order ever sees half a change.

use std::sync::Arc;

use arc_swap::ArcSwap;

use super::region::PolicySet;

pub struct LivePolicies {
    current: ArcSwap<PolicySet>,
    /// The brand directory's configuration, before any deployment: what
    /// the live set is derived from, and what a full rollback returns to.
    baseline: Arc<PolicySet>,
}

impl std::fmt::Debug for LivePolicies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LivePolicies")
            .field("regions", &self.current().regions.len())
            .finish_non_exhaustive()
    }
}

impl LivePolicies {
    pub fn new(baseline: PolicySet) -> Self {
        let baseline = Arc::new(baseline);
        LivePolicies {
            current: ArcSwap::new(baseline.clone()),
            baseline,
        }
    }

    /// The set to evaluate an order with; keep it for the whole evaluation.
    pub fn current(&self) -> Arc<PolicySet> {
        self.current.load_full()
    }

    pub fn baseline(&self) -> &Arc<PolicySet> {
        &self.baseline
    }

    /// Makes `set` the live set for every evaluation that starts from now.
    pub fn install(&self, set: PolicySet) {
        self.current.store(Arc::new(set));
    }
}

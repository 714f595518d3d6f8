//! Stock alerts (being written).

/// Alert thresholds, from domain.md's reference figures unless HQ sets its own.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    /// Safety stock: available below this share of target (basis points).
    pub safety_stock_bp: u32,
    /// Slow-moving: more days of cover than this.
    pub slow_moving_days: u32,
    /// Shortfall that drafts a cross-region transfer plan (basis points).
    pub shortfall_transfer_bp: u32,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            safety_stock_bp: 3000,
            slow_moving_days: 60,
            shortfall_transfer_bp: 2000,
        }
    }
}

impl AlertSettings {
    /// HQ's thresholds (hq.toml `[alerts]`), domain.md's figures by default.
    pub fn from_hq(_hq: &crate::config::HqFile) -> Self {
        AlertSettings::default()
    }
}

/// Starts the periodic alert scan (being written).
pub fn spawn_scanner(_state: crate::api::AppState) {}

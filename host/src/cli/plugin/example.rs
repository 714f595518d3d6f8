//! `chanhost plugin run --example-input <kind>`: a valid input for each
//! kind, the same order seen by each (three lines for a core dealer of
//! Guangdong: a baijiu, a wine and a low-alcohol product), in the JSON
//! shape `plugin run` reads. Tests run each through its reference plugin.

use crate::policy::PluginKind;

pub fn input(kind: PluginKind) -> &'static str {
    match kind {
        PluginKind::AntiDiversion => include_str!("examples/anti-diversion.json"),
        PluginKind::Pricing => include_str!("examples/pricing.json"),
        PluginKind::Promotion => include_str!("examples/promotion.json"),
        PluginKind::Sourcing => include_str!("examples/sourcing.json"),
    }
}

//! The reference plugins, embedded in the host binary. HQ's defaults (and
//! the fallback sourcing policy) are always at hand as `builtin:<name>`.

/// A plugin shipped inside the binary.
#[derive(Debug, Clone, Copy)]
pub struct BundledPlugin {
    /// The name regions refer to it by: `builtin:<name>`.
    pub name: &'static str,
    /// The component's bytes.
    pub wasm: &'static [u8],
}

/// Every bundled plugin.
pub const ALL: &[BundledPlugin] = &[
    BundledPlugin {
        name: "anti-diversion",
        wasm: include_bytes!(env!("CHANHOST_PLUGIN_ANTI_DIVERSION")),
    },
    BundledPlugin {
        name: "pricing-tiered",
        wasm: include_bytes!(env!("CHANHOST_PLUGIN_PRICING_TIERED")),
    },
    BundledPlugin {
        name: "promotions",
        wasm: include_bytes!(env!("CHANHOST_PLUGIN_PROMOTIONS")),
    },
    BundledPlugin {
        name: "sourcing-region-first",
        wasm: include_bytes!(env!("CHANHOST_PLUGIN_SOURCING_REGION_FIRST")),
    },
];

/// The bundled plugin called `name`, if any.
pub fn find(name: &str) -> Option<&'static BundledPlugin> {
    ALL.iter().find(|p| p.name == name)
}

/// Components used by the host's own tests; not part of the product.
#[doc(hidden)]
pub mod test_fixtures {
    /// A pricing plugin whose configuration `{"mode": …}` picks a misbehaviour.
    pub const HOSTILE_PLUGIN: &str = env!("CHANHOST_PLUGIN_HOSTILE_PLUGIN");
    /// A sourcing plugin whose configuration `{"mode": …}` picks a misbehaviour.
    pub const HOSTILE_SOURCING: &str = env!("CHANHOST_PLUGIN_HOSTILE_SOURCING");
    /// A promotion plugin whose configuration `{"mode": …}` picks a misbehaviour.
    pub const HOSTILE_PROMOTION: &str = env!("CHANHOST_PLUGIN_HOSTILE_PROMOTION");
    /// An anti-diversion plugin whose configuration `{"mode": …}` picks a misbehaviour.
    pub const HOSTILE_ANTI_DIVERSION: &str = env!("CHANHOST_PLUGIN_HOSTILE_ANTI_DIVERSION");
    /// A pricing plugin built against the WIT 0.1.0 snapshot; `{"markup_bp": n}`.
    pub const PRICING_WIT_0_1_0: &str = env!("CHANHOST_PLUGIN_PRICING_WIT_0_1_0");
}

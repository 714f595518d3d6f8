//! The wit-bindgen output, one module per world. Internal: plugin authors
//! use the re-exports and traits of the crate root instead.
//!
//! The shared interfaces (`types`, `host`) are generated once and every
//! world maps onto them with `with`, so a `types::Order` is the same Rust
//! type whichever kind a plugin implements.

pub mod shared {
    wit_bindgen::generate!({
        path: "../../wit",
        inline: "
            package chanhost:sdk;
            world shared {
                import chanhost:policy/types@0.2.0;
                import chanhost:policy/host@0.2.0;
            }
        ",
        world: "chanhost:sdk/shared",
        generate_all,
    });
}

/// One module per plugin world, compiled only when its feature is on.
macro_rules! world {
    ($feature:tt, $module:ident, $world:tt, $export_macro:tt, $bindings_module:tt) => {
        #[cfg(feature = $feature)]
        pub mod $module {
            wit_bindgen::generate!({
                path: "../../wit",
                world: $world,
                with: {
                    "chanhost:policy/types@0.2.0": crate::bindings::shared::chanhost::policy::types,
                    "chanhost:policy/host@0.2.0": crate::bindings::shared::chanhost::policy::host,
                },
                pub_export_macro: true,
                export_macro_name: $export_macro,
                default_bindings_module: $bindings_module,
            });
        }
    };
}

world!(
    "anti-diversion",
    anti_diversion,
    "chanhost:policy/anti-diversion-plugin@0.2.0",
    "__export_anti_diversion_world",
    "chanhost_sdk::bindings::anti_diversion"
);
world!(
    "pricing",
    pricing,
    "chanhost:policy/pricing-plugin@0.2.0",
    "__export_pricing_world",
    "chanhost_sdk::bindings::pricing"
);
world!(
    "promotion",
    promotion,
    "chanhost:policy/promotion-plugin@0.2.0",
    "__export_promotion_world",
    "chanhost_sdk::bindings::promotion"
);
world!(
    "sourcing",
    sourcing,
    "chanhost:policy/sourcing-plugin@0.2.0",
    "__export_sourcing_world",
    "chanhost_sdk::bindings::sourcing"
);

//! Host bindings of the WIT contract, one module per supported version.
//!
//! Only `chanhost:policy@0.1.0` exists today. When a new version ships, its
//! snapshot gets a module beside this one and the loader converts older
//! outputs into the newest types once, at the boundary (see `plugin.rs`).

pub mod v0_1_0 {
    /// The interfaces every world shares, generated once so all worlds use
    /// the same Rust types for them.
    pub mod shared {
        wasmtime::component::bindgen!({
            path: "../wit",
            inline: "
                package chanhost:host;
                world shared {
                    import chanhost:policy/types@0.1.0;
                    import chanhost:policy/host@0.1.0;
                }
            ",
            world: "chanhost:host/shared",
        });
    }

    macro_rules! world {
        ($module:ident, $world:tt) => {
            pub mod $module {
                wasmtime::component::bindgen!({
                    path: "../wit",
                    world: $world,
                    with: {
                        "chanhost:policy/types@0.1.0": super::shared::chanhost::policy::types,
                        "chanhost:policy/host@0.1.0": super::shared::chanhost::policy::host,
                    },
                });
            }
        };
    }

    world!(
        anti_diversion,
        "chanhost:policy/anti-diversion-plugin@0.1.0"
    );
    world!(pricing, "chanhost:policy/pricing-plugin@0.1.0");
    world!(promotion, "chanhost:policy/promotion-plugin@0.1.0");
    world!(sourcing, "chanhost:policy/sourcing-plugin@0.1.0");

    pub use shared::chanhost::policy::host::LogLevel;
    pub use shared::chanhost::policy::types;
}

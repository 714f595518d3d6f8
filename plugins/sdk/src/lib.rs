//! Write a chanhost policy plugin as a plain Rust impl.
//!
//! A plugin is a type implementing [`Plugin`] (name, version, configuration)
//! and exactly one kind trait: [`anti_diversion::AntiDiversion`],
//! [`pricing::Pricing`], [`promotion::Promotion`] or [`sourcing::Sourcing`].
//! One macro ([`export_pricing!`] and its siblings) turns it into a
//! WebAssembly component for the host; on a native build the macro expands
//! to nothing, so the same logic runs under `cargo test`.
//!
//! ```ignore
//! use chanhost_sdk::{Plugin, PluginError, pricing::*};
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema, Default)]
//! struct Config { markup_bp: i32 }
//!
//! struct Flat;
//! impl Plugin for Flat {
//!     type Config = Config;
//!     const NAME: &'static str = "flat-pricing";
//!     const VERSION: &'static str = "1.0.0";
//!     const SUMMARY: &'static str = "Base price plus a markup.";
//! }
//! impl Pricing for Flat {
//!     fn price(config: &Config, input: PricingInput) -> Result<Vec<PricedLine>, PluginError> {
//!         /* … */
//! #       Ok(vec![])
//!     }
//! }
//! chanhost_sdk::export_pricing!(Flat);
//! ```
//!
//! Build with the `kind` feature of this crate that matches the trait
//! (`features = ["pricing"]`) for `--target wasm32-wasip2`.
#![deny(missing_docs)]

#[cfg(target_arch = "wasm32")]
mod allocator;
#[doc(hidden)]
#[allow(missing_docs)]
pub mod bindings;
mod config;
pub mod log;
pub mod money;
pub mod testing;
pub mod text;

pub use bindings::shared::chanhost::policy::types::{
    ConfigError, CustomerClass, Dealer, DealerTier, Description, Fen, Order, OrderLine, OrderType,
    PluginError, PluginKind, Product, Reason, TimestampMs, Urgency, WarehouseLevel,
};
pub use config::parse_config;

/// Every plugin component allocates through size-class free lists, which
/// cost far fewer metered instructions than the libc allocator.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: allocator::SizeClasses = allocator::SizeClasses::new();
pub use schemars;
pub use serde;
pub use serde_json;

/// Identity and configuration of a plugin, whatever its kind.
pub trait Plugin {
    /// The configuration a region gives this plugin (its TOML table, passed
    /// as JSON). Fields should have serde defaults where a region may leave
    /// them out. The JSON Schema the host shows is derived from this type.
    type Config: serde::de::DeserializeOwned + schemars::JsonSchema + 'static;
    /// Stable name, e.g. `tiered-pricing`.
    const NAME: &'static str;
    /// Semantic version of the plugin.
    const VERSION: &'static str;
    /// One sentence on what the plugin does.
    const SUMMARY: &'static str;

    /// Checks a parsed configuration beyond its shape (ranges, overlaps,
    /// references) and returns every problem, each with a JSON pointer path.
    fn validate(config: &Self::Config) -> Vec<ConfigError> {
        let _ = config;
        Vec::new()
    }
}

impl PluginError {
    /// A plugin error with a stable code and a message for a person.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        PluginError {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl Reason {
    /// A reason with a stable code and a message for a person.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Reason {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl ConfigError {
    /// A configuration problem at `path` (JSON pointer, e.g. `/rules/0/min`).
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// 防窜货 plugins: may this dealer place this order?
#[cfg(feature = "anti-diversion")]
pub mod anti_diversion {
    pub use crate::bindings::anti_diversion::exports::chanhost::policy::anti_diversion::{
        CheckInput, Verdict,
    };

    /// Implemented by an anti-diversion plugin.
    pub trait AntiDiversion: crate::Plugin {
        /// Allow, hold for review, or reject the order, with reasons.
        fn check(config: &Self::Config, input: CheckInput) -> Result<Verdict, crate::PluginError>;
    }
}

/// Pricing plugins: a unit price per order line.
#[cfg(feature = "pricing")]
pub mod pricing {
    pub use crate::bindings::pricing::exports::chanhost::policy::pricing::{
        PriceContext, PricedLine, PricingInput,
    };

    /// Implemented by a pricing plugin.
    pub trait Pricing: crate::Plugin {
        /// One priced line per order line, each with an explanation.
        fn price(
            config: &Self::Config,
            input: PricingInput,
        ) -> Result<Vec<PricedLine>, crate::PluginError>;
    }
}

/// Promotion plugins: discounts and free goods on a priced order.
#[cfg(feature = "promotion")]
pub mod promotion {
    pub use crate::bindings::promotion::exports::chanhost::policy::promotion::{
        Adjustment, AdjustmentKind, FreeGoods, LineDiscount, NearExpiryLot, PricedOrderLine,
        PromotionInput,
    };

    /// Implemented by a promotion plugin.
    pub trait Promotion: crate::Plugin {
        /// The adjustments this plugin's promotions give, each tagged with
        /// the promotion id that gave it.
        fn apply(
            config: &Self::Config,
            input: PromotionInput,
        ) -> Result<Vec<Adjustment>, crate::PluginError>;
    }
}

/// Sourcing plugins: which warehouses ship what.
#[cfg(feature = "sourcing")]
pub mod sourcing {
    pub use crate::bindings::sourcing::exports::chanhost::policy::sourcing::{
        Allocation, Backorder, ProductionAlert, Signal, SourcingInput, SourcingPlan, StockLevel,
        TransferSuggestion, Warehouse,
    };

    /// Implemented by a sourcing plugin.
    pub trait Sourcing: crate::Plugin {
        /// Allocations covering every ordered case (or explicit backorders),
        /// a priority, and signals for production and transfers.
        fn source(
            config: &Self::Config,
            input: SourcingInput,
        ) -> Result<SourcingPlan, crate::PluginError>;
    }
}

/// Glue used by the export macros; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::config::{configure, describe, with_config};
}

/// Shared body of the four export macros.
#[doc(hidden)]
#[macro_export]
macro_rules! __export_plugin {
    ($plugin:ty, $kind:ident, $world:ident, $iface:ident, $kind_trait:ident, $func:ident,
     $input:ty, $output:ty, $export_macro:ident) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct __ChanhostShim;

            impl $crate::bindings::$world::exports::chanhost::policy::$iface::Guest for __ChanhostShim {
                fn describe() -> $crate::Description {
                    $crate::__private::describe::<$plugin>($crate::PluginKind::$kind)
                }
                fn configure(config: String) -> Result<(), Vec<$crate::ConfigError>> {
                    $crate::log::install_panic_flush();
                    let configured = $crate::__private::configure::<$plugin>(&config);
                    $crate::log::flush();
                    configured
                }
                fn $func(input: $input) -> Result<$output, $crate::PluginError> {
                    let output = $crate::__private::with_config::<$plugin, _>(|config| {
                        <$plugin as $crate::$world::$kind_trait>::$func(config, input)
                    });
                    $crate::log::flush();
                    output
                }
            }

            $crate::bindings::$world::$export_macro!(__ChanhostShim with_types_in $crate::bindings::$world);
        };
    };
}

/// Exports an [`anti_diversion::AntiDiversion`] plugin as a component.
#[cfg(feature = "anti-diversion")]
#[macro_export]
macro_rules! export_anti_diversion {
    ($plugin:ty) => {
        $crate::__export_plugin!(
            $plugin,
            AntiDiversion,
            anti_diversion,
            anti_diversion,
            AntiDiversion,
            check,
            $crate::anti_diversion::CheckInput,
            $crate::anti_diversion::Verdict,
            __export_anti_diversion_world
        );
    };
}

/// Exports a [`pricing::Pricing`] plugin as a component.
#[cfg(feature = "pricing")]
#[macro_export]
macro_rules! export_pricing {
    ($plugin:ty) => {
        $crate::__export_plugin!(
            $plugin,
            Pricing,
            pricing,
            pricing,
            Pricing,
            price,
            $crate::pricing::PricingInput,
            Vec<$crate::pricing::PricedLine>,
            __export_pricing_world
        );
    };
}

/// Exports a [`promotion::Promotion`] plugin as a component.
#[cfg(feature = "promotion")]
#[macro_export]
macro_rules! export_promotion {
    ($plugin:ty) => {
        $crate::__export_plugin!(
            $plugin,
            Promotion,
            promotion,
            promotion,
            Promotion,
            apply,
            $crate::promotion::PromotionInput,
            Vec<$crate::promotion::Adjustment>,
            __export_promotion_world
        );
    };
}

/// Exports a [`sourcing::Sourcing`] plugin as a component.
#[cfg(feature = "sourcing")]
#[macro_export]
macro_rules! export_sourcing {
    ($plugin:ty) => {
        $crate::__export_plugin!(
            $plugin,
            Sourcing,
            sourcing,
            sourcing,
            Sourcing,
            source,
            $crate::sourcing::SourcingInput,
            $crate::sourcing::SourcingPlan,
            __export_sourcing_world
        );
    };
}

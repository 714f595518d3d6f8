//! A bad brand configuration fails at load, naming file, line and field.

mod common;

use common::*;

fn load_error(brand: &TestBrand) -> String {
    brand
        .load()
        .expect_err("the brand must not load")
        .to_string()
}

#[test]
fn the_example_brand_loads_all_32_regions() {
    let policies = example_policies();
    assert_eq!(policies.regions.len(), 32);
    let gd = &policies.regions["gd"];
    assert_eq!(gd.promotions.len(), 1);
    assert_eq!(gd.pricing.plugin.identity().name, "pricing-tiered");
    // A region without its own slot gets HQ's default.
    let bj = &policies.regions["bj"];
    assert!(bj.promotions.is_empty());
    assert_eq!(
        bj.pricing.config_json,
        policies.regions["sx"].pricing.config_json
    );
    assert_ne!(
        bj.pricing.config_json,
        policies.regions["sh"].pricing.config_json
    );
}

#[test]
fn a_toml_syntax_error_names_file_line_and_column() {
    let brand = TestBrand::new(
        "[plugins.pricing\nplugin = \"builtin:pricing-tiered\"\n",
        "",
    );
    let error = load_error(&brand);
    assert!(error.contains("regions/r1.toml:6:"), "{error}");
}

#[test]
fn an_unknown_field_is_located() {
    let brand = TestBrand::new(
        "[plugins.pricing]\nplugin = \"builtin:pricing-tiered\"\ncolour = \"red\"\n",
        "",
    );
    let error = load_error(&brand);
    assert!(
        error.contains("regions/r1.toml:8:") && error.contains("unknown field `colour`"),
        "{error}"
    );
}

#[test]
fn a_configuration_the_plugin_rejects_lists_every_problem_with_its_path() {
    let brand = TestBrand::new(
        "[plugins.pricing]\nplugin = \"builtin:pricing-tiered\"\n[plugins.pricing.config]\n\
         tier_discount_bp = { core = 9000 }\n\
         quantity_breaks = [{ min_cases = 50, discount_bp = 100 }, { min_cases = 10, discount_bp = 100 }]\n",
        "",
    );
    let error = load_error(&brand);
    assert!(
        error.contains("regions/r1.toml:8: [pricing] rejected by plugin pricing-tiered"),
        "{error}"
    );
    assert!(
        error.contains("pricing.config/tier_discount_bp/core: tier discount must be 0..=5000"),
        "{error}"
    );
    assert!(
        error.contains("pricing.config/quantity_breaks/1/min_cases"),
        "{error}"
    );
}

#[test]
fn a_promotion_configuration_error_names_the_promotion_slot() {
    let brand = TestBrand::new(
        "[[plugins.promotions]]\nid = \"p\"\nplugin = \"builtin:promotions\"\n[[plugins.promotions.config.promotions]]\n\
         id = \"x\"\nkind = { type = \"spend_threshold\", threshold = 100, off = 500 }\n",
        "",
    );
    let error = load_error(&brand);
    assert!(
        error.contains("[plugins.promotions[0]] rejected by plugin promotions"),
        "{error}"
    );
    assert!(error.contains("/promotions/0/kind/off"), "{error}");
}

#[test]
fn unknown_plugins_and_plugins_in_the_wrong_slot_are_refused() {
    let brand = TestBrand::new(
        "[plugins.pricing]\nplugin = \"builtin:no-such-plugin\"\n",
        "",
    );
    let error = load_error(&brand);
    assert!(
        error.contains(
            "no built-in plugin no-such-plugin (built-in: anti-diversion, pricing-tiered"
        ),
        "{error}"
    );

    let brand = TestBrand::new(
        "[plugins.sourcing]\nplugin = \"builtin:pricing-tiered\"\n",
        "",
    );
    let error = load_error(&brand);
    assert!(
        error.contains("is a pricing plugin, but this slot needs a sourcing plugin"),
        "{error}"
    );

    let brand = TestBrand::new("[plugins.pricing]\nplugin = \"plugins/missing.wasm\"\n", "");
    assert!(load_error(&brand).contains("cannot read"), "missing file");

    let brand = TestBrand::new("[plugins.pricing]\nplugin = \"catalogue.toml\"\n", "");
    assert!(load_error(&brand).contains("not a valid WebAssembly component"));
}

#[test]
fn regional_prices_outside_the_hq_band_are_refused() {
    let brand = TestBrand::new("", "");
    let path = brand.path().join("regions/r1.toml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "neighbours = [\"r2\"]",
        "neighbours = [\"r2\"]\nprice_adjustment_bp = 1500",
    );
    std::fs::write(&path, text).unwrap();
    let error = load_error(&brand);
    assert!(
        error.contains(
            "region.price_adjustment_bp: adjustment 1500 bp is outside HQ's band of ±1000 bp"
        ),
        "{error}"
    );
}

#[test]
fn neighbours_must_exist() {
    let brand = TestBrand::new("", "");
    let path = brand.path().join("regions/r2.toml");
    std::fs::write(
        &path,
        "[region]\nid = \"r2\"\nname = \"Two\"\nneighbours = [\"r1\", \"r9\"]\n",
    )
    .unwrap();
    assert!(load_error(&brand).contains("r2.toml: region.neighbours[1]: unknown region r9"));
}

#[test]
fn a_component_above_the_size_limit_is_refused_at_load() {
    let brand = TestBrand::new("", "");
    brand.edit_hq(
        "deadline_ms = 50",
        "deadline_ms = 50\nmax_component_bytes = 100000",
    );
    let error = load_error(&brand);
    assert!(
        error.contains("bytes, above the 100000 byte limit"),
        "{error}"
    );
}

#[test]
fn example_dataset_loads() {
    use chanhost::config::BrandConfig;
    use chanhost::config::dataset::{Dataset, Role};
    use chanhost::domain::WarehouseLevel;

    let brand = BrandConfig::load(&examples()).expect("the example brand loads");
    let data = Dataset::load(&examples().join("dataset"), &brand).expect("the data set loads");
    assert!(data.dealers.len() >= 1000, "{} dealers", data.dealers.len());
    let regional = data
        .warehouses
        .iter()
        .filter(|w| w.level == WarehouseLevel::Region);
    assert_eq!(regional.count(), 32 * 2);
    for region in brand.regions.keys() {
        for n in 1..=2 {
            let id = format!("WH-{}-{n}", region.to_uppercase());
            assert!(
                data.warehouses.iter().any(|w| w.id == id),
                "{id} is missing"
            );
        }
    }
    for role in [Role::HqAdmin, Role::RegionAdmin, Role::Dealer] {
        assert!(
            data.tokens.iter().any(|t| t.role == role),
            "no {role:?} token"
        );
    }
    // The sample orders' dealers are in the data set, with the same profile.
    for entry in std::fs::read_dir(examples().join("orders")).unwrap() {
        let order: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap()).unwrap();
        let dealer: chanhost::domain::Dealer =
            serde_json::from_value(order["dealer"].clone()).unwrap();
        let record = data.dealers.iter().find(|d| d.id == dealer.id).unwrap();
        assert_eq!(record.to_dealer(), dealer);
    }
}

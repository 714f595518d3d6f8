//! What `Plugin::load` checks of a component before it calls it, each
//! refusal naming the thing that is wrong: the functions its policy
//! interface lacks, the imports the host does not offer, the function whose
//! type is not the contract's. (Which interface and version it exports is
//! read in `plugin::exported_kind`.)

use wasmtime::Store;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, ComponentNamedList, Func, InstancePre, Lift, Lower};

use super::bindings::{latest, v0_1_0};
use super::engine::PolicyEngine;
use super::plugin::{LoadError, SUPPORTED_WIT_VERSIONS, WIT_PACKAGE, new_store};
use super::sandbox::Sandbox;
use super::types::PluginKind;

/// The policy function of a kind: what `chanhost plugin run` calls.
pub fn policy_function(kind: PluginKind) -> &'static str {
    match kind {
        PluginKind::AntiDiversion => "check",
        PluginKind::Pricing => "price",
        PluginKind::Promotion => "apply",
        PluginKind::Sourcing => "source",
    }
}

/// The functions an exported policy interface must have.
fn required_functions(kind: PluginKind) -> [&'static str; 3] {
    ["describe", "configure", policy_function(kind)]
}

/// `describe, configure and price`, for the interface named in an error.
pub(super) fn required_functions_text(interface: &str) -> String {
    let kind = interface
        .strip_prefix(WIT_PACKAGE)
        .and_then(|r| r.strip_prefix('/'))
        .and_then(|r| PluginKind::from_interface(r.split('@').next().unwrap_or(r)));
    match kind {
        Some(kind) => {
            let [describe, configure, policy] = required_functions(kind);
            format!("{describe}, {configure} and {policy}")
        }
        None => "describe, configure and its policy function".into(),
    }
}

/// Checks the exported policy interface has every function of its kind,
/// naming the first one missing (wasmtime would only say the world does
/// not match).
pub(super) fn policy_functions(
    engine: &PolicyEngine,
    component: &Component,
    kind: PluginKind,
    wit_version: &str,
) -> Result<(), LoadError> {
    let interface = format!("{WIT_PACKAGE}/{kind}@{wit_version}");
    let ty = component.component_type();
    let Some(ComponentItem::ComponentInstance(instance)) = ty
        .get_export(engine.engine(), &interface)
        .map(|export| export.ty)
    else {
        return Ok(()); // exported_kind found it; nothing more to say here
    };
    let functions: Vec<String> = instance
        .exports(engine.engine())
        .filter(|(_, item)| matches!(item.ty, ComponentItem::ComponentFunc(_)))
        .map(|(name, _)| name.to_string())
        .collect();
    match required_functions(kind)
        .into_iter()
        .find(|f| !functions.iter().any(|name| name == f))
    {
        Some(function) => Err(LoadError::MissingExport {
            interface,
            function: function.into(),
            has: if functions.is_empty() {
                "no functions".into()
            } else {
                functions.join(", ")
            },
        }),
        None => Ok(()),
    }
}

/// Refuses an import from outside what the host offers, by name, before
/// wasmtime's linker does with a longer message: the host offers
/// `chanhost:policy/host` (and its `types`) of a supported version and WASI.
pub(super) fn imports(engine: &PolicyEngine, component: &Component) -> Result<(), LoadError> {
    let offered = |name: &str| {
        if name.starts_with("wasi:") {
            return true;
        }
        let Some((interface, version)) = name
            .strip_prefix(WIT_PACKAGE)
            .and_then(|r| r.strip_prefix('/'))
            .and_then(|r| r.split_once('@'))
        else {
            return false;
        };
        matches!(interface, "host" | "types") && SUPPORTED_WIT_VERSIONS.contains(&version)
    };
    let ty = component.component_type();
    match ty.imports(engine.engine()).find(|(name, _)| !offered(name)) {
        Some((import, _)) => Err(LoadError::ForbiddenImport {
            import: import.to_string(),
        }),
        None => Ok(()),
    }
}

/// Checks each function of the exported policy interface has the type the
/// contract of its WIT version gives it, naming the first that has not
/// (the generated bindings would only fail the first call, unnamed). Runs
/// in a sandboxed instance; a component that cannot even be instantiated is
/// left to the `describe` call, which reports the fault.
pub(super) fn function_types(
    engine: &PolicyEngine,
    pre: &InstancePre<Sandbox>,
    kind: PluginKind,
    wit_version: &str,
) -> Result<(), LoadError> {
    let Ok(mut store) = new_store(engine) else {
        return Ok(());
    };
    store.set_epoch_deadline(engine.setup_deadline_ticks());
    let Ok(instance) = pre.instantiate(&mut store) else {
        return Ok(());
    };
    let interface = format!("{WIT_PACKAGE}/{kind}@{wit_version}");
    let Some(exported) = instance.get_export_index(&mut store, None, &interface) else {
        return Ok(());
    };
    let mut mismatch: Option<(&str, String)> = None;
    let mut check = |name: &'static str, typed: Typecheck| {
        if mismatch.is_some() {
            return;
        }
        let func = instance
            .get_export_index(&mut store, Some(&exported), name)
            .and_then(|index| instance.get_func(&mut store, index));
        if let Some(func) = func
            && let Err(error) = typed(&func, &store)
        {
            mismatch = Some((name, format!("{error:#}")));
        }
    };
    check("describe", typed::<(), (latest::types::Description,)>);
    check(
        "configure",
        typed::<(&str,), (Result<(), Vec<latest::types::ConfigError>>,)>,
    );
    let policy = policy_function(kind);
    type Answer<T> = (Result<T, latest::types::PluginError>,);
    match (wit_version, kind) {
        (v0_1_0::VERSION, PluginKind::AntiDiversion) => {
            use v0_1_0::anti_diversion::exports::chanhost::policy::anti_diversion as wit;
            check(policy, typed::<(&wit::CheckInput,), Answer<wit::Verdict>>)
        }
        (v0_1_0::VERSION, PluginKind::Pricing) => {
            use v0_1_0::pricing::exports::chanhost::policy::pricing as wit;
            check(
                policy,
                typed::<(&wit::PricingInput,), Answer<Vec<wit::PricedLine>>>,
            )
        }
        (v0_1_0::VERSION, PluginKind::Promotion) => {
            use v0_1_0::promotion::exports::chanhost::policy::promotion as wit;
            check(
                policy,
                typed::<(&wit::PromotionInput,), Answer<Vec<wit::Adjustment>>>,
            )
        }
        (v0_1_0::VERSION, PluginKind::Sourcing) => {
            use v0_1_0::sourcing::exports::chanhost::policy::sourcing as wit;
            check(
                policy,
                typed::<(&wit::SourcingInput,), Answer<wit::SourcingPlan>>,
            )
        }
        (_, PluginKind::AntiDiversion) => {
            use latest::wit_anti_diversion as wit;
            check(policy, typed::<(&wit::CheckInput,), Answer<wit::Verdict>>)
        }
        (_, PluginKind::Pricing) => {
            use latest::wit_pricing as wit;
            check(
                policy,
                typed::<(&wit::PricingInput,), Answer<Vec<wit::PricedLine>>>,
            )
        }
        (_, PluginKind::Promotion) => {
            use latest::wit_promotion as wit;
            check(
                policy,
                typed::<(&wit::PromotionInput,), Answer<Vec<wit::Adjustment>>>,
            )
        }
        (_, PluginKind::Sourcing) => {
            use latest::wit_sourcing as wit;
            check(
                policy,
                typed::<(&wit::SourcingInput,), Answer<wit::SourcingPlan>>,
            )
        }
    }
    match mismatch {
        Some((function, reason)) => Err(LoadError::WrongTypes {
            world: format!("{WIT_PACKAGE}/{kind}-plugin@{wit_version}"),
            message: format!("`{function}` of {interface} has another type: {reason}"),
        }),
        None => Ok(()),
    }
}

/// Checks a function has one type (`typed::<P, R>`: `(P) -> R`).
type Typecheck = fn(&Func, &Store<Sandbox>) -> wasmtime::Result<()>;

fn typed<P, R>(func: &Func, store: &Store<Sandbox>) -> wasmtime::Result<()>
where
    P: ComponentNamedList + Lower,
    R: ComponentNamedList + Lift,
{
    func.typed::<P, R>(store).map(|_| ())
}

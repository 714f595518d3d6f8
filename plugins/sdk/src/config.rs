//! Parsing a plugin's configuration and the glue behind `meta`.
//!
//! The host configures each instance once, before its first policy call;
//! `configure` keeps the parsed value in the instance (a component runs
//! one thread, so a thread local) and every policy call borrows it.

use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;

use crate::{ConfigError, Description, Plugin, PluginError, PluginKind};

/// Parses and validates a configuration, returning every problem found.
///
/// Shape errors (wrong type, unknown field) come from serde, which stops at
/// the first; [`Plugin::validate`] then reports every semantic problem.
pub fn parse_config<P: Plugin>(json: &str) -> Result<P::Config, Vec<ConfigError>> {
    let json = if json.trim().is_empty() { "{}" } else { json };
    let deserializer = &mut serde_json::Deserializer::from_str(json);
    let config: P::Config = serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = json_pointer(err.path());
        vec![ConfigError::new(path, err.into_inner().to_string())]
    })?;
    let problems = P::validate(&config);
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(problems)
    }
}

/// `promotions[2].threshold` → `/promotions/2/threshold`.
fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        pointer.push('/');
        match segment {
            Segment::Seq { index } => pointer.push_str(&index.to_string()),
            Segment::Map { key } => pointer.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Segment::Enum { variant } => pointer.push_str(variant),
            Segment::Unknown => pointer.push('?'),
        }
    }
    pointer
}

/// The `describe` export.
pub fn describe<P: Plugin>(kind: PluginKind) -> Description {
    let schema = schemars::schema_for!(P::Config);
    Description {
        name: P::NAME.to_string(),
        version: P::VERSION.to_string(),
        kind,
        config_schema: serde_json::to_string(&schema).unwrap_or_default(),
        summary: P::SUMMARY.to_string(),
    }
}

/// The `configure` export: validates, and keeps a valid configuration for
/// this instance's policy calls.
pub fn configure<P: Plugin>(json: &str) -> Result<(), Vec<ConfigError>> {
    let config = parse_config::<P>(json)?;
    CONFIGURED.set(Some(Rc::new(config) as Rc<dyn Any>));
    Ok(())
}

thread_local! {
    static CONFIGURED: RefCell<Option<Rc<dyn Any>>> = const { RefCell::new(None) };
}

/// Runs a policy call with the configuration `configure` kept.
pub fn with_config<P: Plugin, R>(
    call: impl FnOnce(&P::Config) -> Result<R, PluginError>,
) -> Result<R, PluginError> {
    let config = CONFIGURED
        .with_borrow(|configured| configured.clone())
        .and_then(|config| config.downcast::<P::Config>().ok())
        .ok_or_else(|| {
            PluginError::new(
                "not-configured",
                "the host made a policy call before configuring this instance",
            )
        })?;
    call(&config)
}

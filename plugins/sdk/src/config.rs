//! Parsing a plugin's configuration and the glue behind `meta`.
//!
//! The host passes the configuration as a JSON string with every call. The
//! parsed value is kept per thread, keyed by that string, so an instance the
//! host reuses does not parse the same configuration twice.

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

/// The `configure` export.
pub fn configure<P: Plugin>(json: &str) -> Result<(), Vec<ConfigError>> {
    parse_config::<P>(json).map(|_| ())
}

thread_local! {
    static PARSED: RefCell<Option<(String, Rc<dyn Any>)>> = const { RefCell::new(None) };
}

/// Runs a policy call with the parsed configuration.
pub fn with_config<P: Plugin, R>(
    json: &str,
    call: impl FnOnce(&P::Config) -> Result<R, PluginError>,
) -> Result<R, PluginError> {
    let cached = PARSED.with_borrow(|parsed| match parsed {
        Some((key, value)) if key == json => value.clone().downcast::<P::Config>().ok(),
        _ => None,
    });
    let config = match cached {
        Some(config) => config,
        None => {
            let config = Rc::new(parse_config::<P>(json).map_err(|errors| {
                let detail: Vec<String> = errors
                    .iter()
                    .map(|e| format!("{}: {}", e.path, e.message))
                    .collect();
                PluginError::new("invalid-config", detail.join("; "))
            })?);
            PARSED.set(Some((json.to_string(), config.clone() as Rc<dyn Any>)));
            config
        }
    };
    call(&config)
}

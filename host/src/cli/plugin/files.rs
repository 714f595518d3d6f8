//! What `plugin run` and `plugin test` read: the component, loaded as a
//! server loads it; an input as JSON; a configuration as TOML. Each error
//! is a sentence naming the file and what is wrong with it.

use std::io::Read;
use std::path::Path;

use serde_json::Value;

use crate::policy::{ComponentCache, Limits, Plugin, PolicyEngine};

/// Loads a component under the production limits through `Plugin::load`,
/// the path `plugin check`, region loading and uploads take, so the same
/// WIT versions are accepted and the same components refused.
pub fn load_plugin(file: &Path) -> Result<Plugin, String> {
    let wasm = std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let engine = PolicyEngine::new(Limits::default(), ComponentCache::default_location())
        .map_err(|e| format!("cannot start the plugin engine: {e:#}"))?;
    Plugin::load(&engine, &wasm).map_err(|e| format!("{} is refused: {e}", file.display()))
}

/// A JSON document from a file, or from standard input for `-`.
pub fn read_json(path: &Path) -> Result<Value, String> {
    let text = if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        text
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?
    };
    serde_json::from_str(&text).map_err(|e| format!("{} is not valid JSON: {e}", path.display()))
}

/// A plugin configuration: a TOML file (as a region file's `config` table)
/// as the JSON `configure` receives; none is `{}`.
pub fn read_config(path: Option<&Path>) -> Result<String, String> {
    let Some(path) = path else {
        return Ok("{}".into());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| format!("{} is not valid TOML: {e}", path.display()))?;
    Ok(serde_json::to_string(&table).expect("a TOML table is valid JSON"))
}

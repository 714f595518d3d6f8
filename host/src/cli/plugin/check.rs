//! `chanhost plugin check`: which world a component implements and whether
//! it loads under the production limits, as JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;

use crate::policy::{ComponentCache, Limits, Plugin, PolicyEngine};

pub fn run(file: PathBuf) -> anyhow::Result<ExitCode> {
    let wasm = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let limits = Limits::default();
    let engine = PolicyEngine::new(limits.clone(), ComponentCache::default_location())?;
    let report = match Plugin::load(&engine, &wasm) {
        Ok(plugin) => {
            let describe = plugin.describe();
            json!({
                "file": file.display().to_string(),
                "loads": true,
                "world": format!("chanhost:policy/{}-plugin@{}", plugin.kind(), plugin.identity().wit_version),
                "identity": plugin.identity(),
                "description": plugin.description(),
                "size_bytes": plugin.size_bytes(),
                "describe_call": { "fuel_used": describe.fuel_used, "duration_us": describe.duration.as_micros() as u64 },
                "limits": limits,
            })
        }
        Err(err) => json!({
            "file": file.display().to_string(),
            "loads": false,
            "size_bytes": wasm.len(),
            "error": err.to_string(),
            "limits": limits,
        }),
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(if report["loads"] == true {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

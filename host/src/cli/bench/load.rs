//! `chanhost bench load`: N regions, each with its own four plugin
//! components (distinct builds, so nothing is shared between regions),
//! loaded from a warm compiled-component cache in a fresh process.

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, bail};

use super::brand;
use crate::config::BrandConfig;
use crate::policy::{ComponentCache, PolicyEngine, PolicySet};

const KINDS: [(&str, &str); 4] = [
    ("anti_diversion", "anti-diversion"),
    ("pricing", "pricing-tiered"),
    ("sourcing", "sourcing-region-first"),
    ("promotions", "promotions"),
];

pub fn run(regions: usize) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir()?;
    prepare(dir.path(), regions)?;
    // Warm the cache: the first load compiles every component.
    let started = Instant::now();
    drop(load(dir.path())?);
    println!(
        "cold load (compiling {} components): {} ms",
        regions * 4,
        started.elapsed().as_millis()
    );

    let output = Command::new(std::env::current_exe()?)
        .args(["bench", "load", "--prepared"])
        .arg(dir.path())
        .env("CHANHOST_CACHE_DIR", dir.path().join("cache"))
        .output()
        .context("running the measured child process")?;
    if !output.status.success() {
        bail!(
            "measured load failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    print!("{}", String::from_utf8_lossy(&output.stdout));
    Ok(ExitCode::SUCCESS)
}

/// The child: load once, report time and resident memory.
pub fn measure(dir: &Path) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let set = load(dir)?;
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    let rss_mb = resident_mb().unwrap_or(0.0);
    println!(
        "warm load: {} regions, {} slots",
        set.regions.len(),
        set.regions.len() * 4
    );
    println!("load_ms={load_ms:.0} rss_mb={rss_mb:.0}");
    Ok(ExitCode::SUCCESS)
}

fn load(dir: &Path) -> anyhow::Result<PolicySet> {
    let config = BrandConfig::load(dir)?;
    let engine = PolicyEngine::new(
        config.hq.limits.clone(),
        ComponentCache::at(dir.join("cache")),
    )?;
    Ok(PolicySet::load(&config, engine)?)
}

/// HQ and catalogue of the reference brand; regions `r00…` each pointing
/// at its own copy of every reference plugin, made distinct by a custom
/// section naming the region.
fn prepare(dir: &Path, regions: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir.join("regions"))?;
    std::fs::create_dir_all(dir.join("plugins"))?;
    std::fs::write(dir.join("hq.toml"), brand::HQ_TOML)?;
    std::fs::write(dir.join("catalogue.toml"), brand::CATALOGUE_TOML)?;
    for r in 0..regions {
        let id = format!("r{r:02}");
        let mut toml = format!("[region]\nid = \"{id}\"\nname = \"Region {r}\"\n");
        for (slot, plugin) in KINDS {
            let wasm = chanhost_bundled_plugins::find(plugin)
                .context("bundled plugin")?
                .wasm;
            let file = format!("plugins/{id}-{plugin}.wasm");
            std::fs::write(
                dir.join(&file),
                with_custom_section(wasm, "chanhost-region", id.as_bytes()),
            )?;
            if slot == "promotions" {
                toml += &format!("\n[[plugins.promotions]]\nplugin = \"{file}\"\n");
            } else {
                toml += &format!("\n[plugins.{slot}]\nplugin = \"{file}\"\n");
            }
        }
        std::fs::write(dir.join(format!("regions/{id}.toml")), toml)?;
    }
    Ok(())
}

/// Appends a custom section: same behaviour, different content hash.
fn with_custom_section(wasm: &[u8], name: &str, payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    leb128(&mut body, name.len() as u64);
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(payload);
    let mut out = wasm.to_vec();
    out.push(0); // custom section id
    leb128(&mut out, body.len() as u64);
    out.extend_from_slice(&body);
    out
}

fn leb128(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Resident set size of this process, from /proc.
fn resident_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

//! Compiled components on disk, keyed by content hash and engine, so a
//! component is compiled once per engine configuration, not once per start.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

/// A directory of precompiled components (`<sha256>-<engine>.cwasm`).
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: Option<PathBuf>,
}

impl ComponentCache {
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        ComponentCache {
            dir: Some(dir.into()),
        }
    }

    /// No disk cache: every load compiles.
    pub fn disabled() -> Self {
        ComponentCache { dir: None }
    }

    /// `$CHANHOST_CACHE_DIR`, else `$XDG_CACHE_HOME/chanhost`, else
    /// `~/.cache/chanhost`.
    pub fn default_location() -> Self {
        let dir = std::env::var_os("CHANHOST_CACHE_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("chanhost"))
            })
            .or_else(|| std::env::var_os("HOME").map(|d| PathBuf::from(d).join(".cache/chanhost")))
            .unwrap_or_else(|| std::env::temp_dir().join("chanhost-cache"));
        ComponentCache::at(dir)
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The compiled component for `wasm` (whose sha256 is `hash`), from the
    /// cache when this engine compiled it before.
    pub fn load(&self, engine: &Engine, hash: &str, wasm: &[u8]) -> wasmtime::Result<Component> {
        let Some(dir) = &self.dir else {
            return Component::new(engine, wasm);
        };
        let path = dir.join(format!("{hash}-{}.cwasm", engine_key(engine)));
        if path.exists() {
            // SAFETY: the file was written by `Component::serialize` of an
            // engine with the same compatibility hash (it is in the name),
            // in a directory only this host writes.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(component) => return Ok(component),
                Err(err) => {
                    tracing::warn!(path = %path.display(), "ignoring unreadable cached component: {err:#}")
                }
            }
        }
        let component = Component::new(engine, wasm)?;
        if let Err(err) = write_atomically(dir, &path, &component.serialize()?) {
            tracing::warn!(path = %path.display(), "could not cache compiled component: {err}");
        }
        Ok(component)
    }
}

/// A short hex key of everything that makes compiled code incompatible.
fn engine_key(engine: &Engine) -> String {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// Concurrent hosts may compile the same component: write a temporary file
/// and rename it, so no reader sees half a file.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

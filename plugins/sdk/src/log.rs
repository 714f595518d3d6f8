//! Log lines a plugin writes; the host keeps them (capped) in the order's
//! decision trace. On a native build (tests) they go to stderr.

use crate::bindings::shared::chanhost::policy::host::{self, LogLevel};

fn write(level: LogLevel, message: &str) {
    #[cfg(target_arch = "wasm32")]
    host::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = host::log; // the import exists only inside a component
        eprintln!("[{level:?}] {message}");
    }
}

/// Detail useful when debugging a decision.
pub fn debug(message: &str) {
    write(LogLevel::Debug, message)
}

/// A normal step of the decision.
pub fn info(message: &str) {
    write(LogLevel::Info, message)
}

/// Something unusual that did not stop the decision.
pub fn warn(message: &str) {
    write(LogLevel::Warn, message)
}

/// Something went wrong.
pub fn error(message: &str) {
    write(LogLevel::Error, message)
}

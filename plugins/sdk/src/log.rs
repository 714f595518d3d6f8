//! Log lines a plugin writes; the host keeps them (capped) in the order's
//! decision trace. On a native build (unit tests, native benchmarks) they
//! are kept in a per-thread buffer that [`take`] empties.

use crate::bindings::shared::chanhost::policy::host::{self, LogLevel};

fn write(level: LogLevel, message: &str) {
    #[cfg(target_arch = "wasm32")]
    host::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = host::log; // the import exists only inside a component
        NATIVE_LOG.with_borrow_mut(|lines| {
            if lines.len() < NATIVE_LOG_CAP {
                lines.push(format!("[{level:?}] {message}"));
            }
        });
    }
}

#[cfg(not(target_arch = "wasm32"))]
const NATIVE_LOG_CAP: usize = 1_000;

#[cfg(not(target_arch = "wasm32"))]
thread_local! {
    static NATIVE_LOG: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// On a native build, the lines logged on this thread since the last call
/// (at most 1,000), e.g. to assert on them in a unit test. Inside a
/// component the host has them, and this returns nothing.
pub fn take() -> Vec<String> {
    #[cfg(not(target_arch = "wasm32"))]
    return NATIVE_LOG.take();
    #[cfg(target_arch = "wasm32")]
    Vec::new()
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

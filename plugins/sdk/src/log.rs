//! Log lines a plugin writes; the host keeps them (capped) in the order's
//! decision trace. On a native build (unit tests, native benchmarks) they
//! are kept in a per-thread buffer that [`take`] empties.
//!
//! Inside a component, debug lines are held back and sent with the next
//! line of another level, or when the policy call returns (or panics), in
//! one host call: a plugin that writes a debug line per order line does
//! not pay a host call per line. Lines keep their order.

use crate::bindings::shared::chanhost::policy::host::{self, LogLevel};

fn write(level: LogLevel, message: &str) {
    #[cfg(target_arch = "wasm32")]
    {
        let held = PENDING.with_borrow_mut(|pending| {
            pending.push(host::LogLine {
                level,
                message: message.to_string(),
            });
            pending.len()
        });
        if !matches!(level, LogLevel::Debug) || held >= MAX_PENDING {
            flush();
        }
    }
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

/// Debug lines held back before they are sent anyway.
#[cfg(target_arch = "wasm32")]
const MAX_PENDING: usize = 64;

#[cfg(target_arch = "wasm32")]
thread_local! {
    static PENDING: std::cell::RefCell<Vec<host::LogLine>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Sends the lines held back to the host. The export glue calls it when a
/// call returns, and the panic hook before a panic's message.
#[doc(hidden)]
pub fn flush() {
    #[cfg(target_arch = "wasm32")]
    PENDING.with_borrow_mut(|pending| {
        if !pending.is_empty() {
            host::log_lines(pending);
            pending.clear();
        }
    });
}

/// Makes a panic send the lines held back before its message (which goes
/// to stderr), so that the trace of a call that panicked has them. The
/// export glue installs it once, when the instance is configured.
#[doc(hidden)]
pub fn install_panic_flush() {
    #[cfg(target_arch = "wasm32")]
    {
        static INSTALLED: std::sync::Once = std::sync::Once::new();
        INSTALLED.call_once(|| {
            let report = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                flush();
                report(info);
            }));
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

//! Termination signals: SIGTERM, SIGHUP, SIGINT and SIGQUIT.
//!
//! One thread receives them (`signal-hook`'s iterator: no code runs in the
//! signal handler itself). While the watch screen runs, it registers a
//! [`Hook`] that asks the UI loop to quit, so the terminal is restored by
//! the same code as for `q` (raw mode off, main screen, mouse tracking off,
//! cursor shown) and the process then exits with 128 + the signal number.
//! Without a hook (report, record, parse, lint), or at a second signal, the
//! running pfctl process groups are ended and the process exits at once
//! with that status.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
use signal_hook::iterator::Signals;

/// The signals that end pfblame.
pub(crate) const TERMINATING: [i32; 4] = [SIGTERM, SIGHUP, SIGINT, SIGQUIT];

/// Called with the signal number instead of exiting.
pub type Hook = Box<dyn Fn(i32) + Send>;

static HOOK: Mutex<Option<Hook>> = Mutex::new(None);
/// A hook was called already: the next signal exits at once.
static HOOKED_ONCE: AtomicBool = AtomicBool::new(false);

/// Starts the signal thread. Call once, early in `main`.
pub fn install() -> std::io::Result<()> {
    let mut signals = Signals::new(TERMINATING)?;
    thread::Builder::new()
        .name("pfblame-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if !call_hook(signal) {
                    crate::source::end_running_pfctl();
                    std::process::exit(128 + signal);
                }
            }
        })?;
    Ok(())
}

/// Hands the signal to the hook, once; false when there is none.
fn call_hook(signal: i32) -> bool {
    let hook = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    match hook.as_ref() {
        Some(f) if !HOOKED_ONCE.swap(true, Ordering::SeqCst) => {
            f(signal);
            true
        }
        _ => false,
    }
}

/// Signals go to `hook` until [`clear_hook`].
pub(crate) fn set_hook(hook: Hook) {
    HOOKED_ONCE.store(false, Ordering::SeqCst);
    *HOOK.lock().unwrap_or_else(|e| e.into_inner()) = Some(hook);
}

/// Signals exit at once again.
pub(crate) fn clear_hook() {
    *HOOK.lock().unwrap_or_else(|e| e.into_inner()) = None;
}

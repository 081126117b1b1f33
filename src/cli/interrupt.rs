//! Ctrl-C and SIGTERM during a run: the first signal raises the stop flag that the run
//! driver reads between steps (the run finishes the step in hand, writes a metrics row, a
//! checkpoint and a summary marked interrupted, says how to resume, and the command exits
//! with 130); a second one ends the process at once.

use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

/// Raised by the first SIGINT or SIGTERM.
static STOP: AtomicBool = AtomicBool::new(false);

/// Exit status of an interrupted command (128 + SIGINT), as shells report it.
pub const EXIT_STATUS: u8 = 130;

/// The error of a command whose run was interrupted (main exits with [`EXIT_STATUS`]; the
/// driver has already said where the checkpoint is).
#[derive(Debug)]
pub struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted")
    }
}

impl std::error::Error for Interrupted {}

#[cfg(unix)]
extern "C" fn on_signal(_: libc::c_int) {
    if STOP.swap(true, Ordering::SeqCst) {
        // SAFETY: _exit is async-signal-safe; a second signal means "stop now".
        unsafe { libc::_exit(EXIT_STATUS as libc::c_int) };
    }
    let msg = b"\ninterrupted: finishing the step in hand and saving a checkpoint (again to stop at once)\n";
    // SAFETY: write(2) is async-signal-safe; the buffer outlives the call.
    unsafe {
        libc::write(libc::STDERR_FILENO, msg.as_ptr().cast(), msg.len());
    }
}

/// The stop flag, with the handlers for SIGINT and SIGTERM installed on first use (only
/// commands that run presets into folders ask for it; every other command keeps the
/// default: Ctrl-C ends it).
pub fn flag() -> &'static AtomicBool {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        #[cfg(unix)]
        // SAFETY: the handler only touches an atomic and calls async-signal-safe functions.
        unsafe {
            let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::signal(libc::SIGINT, handler);
            libc::signal(libc::SIGTERM, handler);
        }
    });
    &STOP
}

/// Whether a run of this command was interrupted.
pub fn raised() -> bool {
    STOP.load(Ordering::SeqCst)
}

//! Ctrl-C during training: the first press asks training to stop after the
//! current step (the best checkpoint is already on disk and is kept); a
//! second press exits at once.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// A flag the first Ctrl-C sets.
pub fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let presses = Arc::new(AtomicUsize::new(0));
    let f = flag.clone();
    // Failing to install the handler (another one exists) only loses the
    // graceful stop; training still works.
    let _ = ctrlc::set_handler(move || {
        if presses.fetch_add(1, Ordering::SeqCst) >= 1 {
            eprintln!("\ninterrupted twice: exiting; the best checkpoint so far is kept");
            std::process::exit(130);
        }
        f.store(true, Ordering::SeqCst);
    });
    flag
}

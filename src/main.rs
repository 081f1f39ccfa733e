//! The `synth` binary. Everything it does is in [`cli`]: one module per
//! command and the run directory, plots and progress reporting they share.
//! What a Rust program embeds is the library, `src/lib.rs`.

mod cli;

use clap::Parser;
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // `synth trace add --size 1000 | head` should stop quietly when `head`
    // has read enough, as other command-line tools do, not panic on the
    // closed pipe (Rust ignores SIGPIPE by default).
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of a signal at start-up,
    // before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // candle on one thread, freed memory kept a while (`synth_runtime::process`).
    synth_runtime::process::tune();
    cli::run(cli::Cli::parse())
}

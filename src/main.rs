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
    // candle's own element-wise ops and matrix products run on one thread;
    // synth's kernels (the LSTM by sequence, the optimiser, the inference
    // engine, the NRAM seeds) take `--threads`. On two cores candle's
    // parallel paths cost more than they gave: NPI training on add-shaped
    // batches ran 1.75x faster serial, seq2seq about 1.25x (BENCHMARKS.md,
    // "NPI speed against PyTorch"). candle reads the variable, so it is
    // set here, before any thread exists; a user's own value is kept.
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        std::env::set_var("RAYON_NUM_THREADS", "1");
    }
    cli::run(cli::Cli::parse())
}

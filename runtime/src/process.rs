//! Process-wide settings a program training with synth applies once at
//! start-up, before it starts any thread: the `synth` binary does, and so
//! does the NPI training bench, so that it measures what `synth learn` runs.
//!
//! - candle's own element-wise ops and matrix products run on one thread;
//!   synth's kernels (the LSTM by sequence, the dense layers, the optimiser,
//!   the inference engine, the NRAM seeds) take `--threads`. On two cores
//!   candle's parallel paths cost more than they gave: NPI training on
//!   add-shaped batches ran 1.75x faster serial, seq2seq about 1.25x
//!   (BENCHMARKS.md, "NPI speed against PyTorch"). candle reads
//!   `RAYON_NUM_THREADS`, so it is set here.
//! - mimalloc (the allocator of the binary and the benches) hands freed
//!   memory back to the OS 10 ms after it is freed; a training step frees
//!   and reallocates the same tens of megabytes every few milliseconds, and
//!   the threads of its ops come and go, so pages went back and were faulted
//!   in and zeroed again all the time: `synth learn add --steps 400` took
//!   13,000 page faults, 370 with a 10 s delay, and ran about 15 % faster.
//!   (Setting `MIMALLOC_PURGE_DELAY` in the environment from `main` is too
//!   late: mimalloc reads its options before `main`.)
//!
//! A user's own `RAYON_NUM_THREADS` or `MIMALLOC_PURGE_DELAY` is kept.

// mimalloc's C API, linked in through the `mimalloc` crate, whose bindings
// do not name this option: `mi_option_purge_delay` is entry 15 of the
// `mi_option_e` enum in the mimalloc sources `libmimalloc-sys` 0.1.49 builds
// (v2 and v3 alike; Cargo.lock pins the version).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// Applies the settings above. Call it first thing in `main`, while the
/// process has one thread.
pub fn tune() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        std::env::set_var("RAYON_NUM_THREADS", "1");
    }
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets an integer option of the allocator linked in; called
        // at start-up, before any other thread exists.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 10_000) };
    }
}

//! Work split over short-lived scoped threads, for the training ops whose
//! parts each take a millisecond or more (the LSTM layer, the dense layers):
//! there, starting a thread costs a few microseconds, a small price for not
//! keeping a pool of spinning workers that would take the core the other
//! part needs (see `src/main.rs` on candle's own threads). The closed-loop
//! engine, whose steps take microseconds, uses [`crate::pair`] instead.
//!
//! Architecture invariant: every part writes outputs no other part writes,
//! and results come back in part order, so nothing depends on timing.

/// Runs `work(k)` for `k in 0..threads` (`k = 0` on the calling thread) and
/// returns the results in order.
pub fn run_split<T: Send>(threads: usize, work: impl Fn(usize) -> T + Sync) -> Vec<T> {
    if threads <= 1 {
        return vec![work(0)];
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = (1..threads)
            .map(|k| {
                let work = &work;
                s.spawn(move || work(k))
            })
            .collect();
        let mut out = vec![work(0)];
        out.extend(handles.into_iter().map(|h| h.join().expect("training worker panicked")));
        out
    })
}

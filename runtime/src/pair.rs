//! Two threads in lockstep: the caller and one partner thread run the two
//! halves of a job, many times a millisecond.
//!
//! Why: one closed-loop NPI step at batch 1 is a few matrix-vector products
//! over ~4.5 MB of weights, more than one core's L2 cache holds, so a single
//! thread streams them from L3 at every step. Split by output columns over
//! two cores, each half stays in its core's cache. The hand-off has to cost
//! well under a microsecond, which rules out a mutex and condition variable
//! (a wake-up is tens of microseconds): both sides poll an atomic counter,
//! spinning briefly and then yielding to the OS between polls, so that a
//! busy machine is not made busier.
//!
//! Architecture invariant: the job's result must not depend on the split
//! (each half computes its own outputs in the order one thread would), so
//! running with a partner changes the speed, never the numbers.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// A job for both threads: called with 0 on the caller's thread and with 1
/// on the partner's.
type Job<'a> = &'a (dyn Fn(usize) + Sync);

struct Shared {
    /// Jobs posted so far.
    posted: AtomicU64,
    /// Jobs the partner has finished.
    done: AtomicU64,
    stop: AtomicBool,
    panicked: AtomicBool,
    /// The job in flight, valid while `posted > done`.
    job: Mutex<Option<Job<'static>>>,
}

/// The handle [`with_pair`] gives its closure.
pub struct Pair<'s> {
    shared: &'s Shared,
}

/// Spins until `ready` holds, then yields the core between checks: on an
/// idle machine a yield returns at once, and on a busy one it lets the
/// thread the other side is waiting for run.
fn wait(ready: impl Fn() -> bool) {
    let mut spins = 0u32;
    while !ready() {
        if spins < 1 << 8 {
            std::hint::spin_loop();
            spins += 1;
        } else {
            std::thread::yield_now();
        }
    }
}

impl Shared {
    fn serve(&self) {
        let mut seen = 0u64;
        loop {
            wait(|| self.stop.load(Ordering::Acquire) || self.posted.load(Ordering::Acquire) > seen);
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            seen += 1;
            let job = self.job.lock().unwrap_or_else(|e| e.into_inner()).expect("a posted job");
            if catch_unwind(AssertUnwindSafe(|| job(1))).is_err() {
                self.panicked.store(true, Ordering::Release);
            }
            self.done.store(seen, Ordering::Release);
        }
    }
}

impl Pair<'_> {
    /// Runs `job(0)` here and `job(1)` on the partner thread; returns when
    /// both have finished.
    pub fn run(&self, job: &(dyn Fn(usize) + Sync)) {
        let s = self.shared;
        // SAFETY: the partner only calls the job between this store and its
        // `done` store, and this function does not return before it sees
        // that store, so the borrow outlives every use.
        let job_static: Job<'static> = unsafe { std::mem::transmute::<Job<'_>, Job<'static>>(job) };
        *s.job.lock().unwrap_or_else(|e| e.into_inner()) = Some(job_static);
        let n = s.posted.fetch_add(1, Ordering::AcqRel) + 1;
        job(0);
        wait(|| s.done.load(Ordering::Acquire) >= n);
        *s.job.lock().unwrap_or_else(|e| e.into_inner()) = None;
        if s.panicked.load(Ordering::Acquire) {
            panic!("the partner thread panicked");
        }
    }
}

/// Calls `f` with a [`Pair`] whose partner thread lives until `f` returns.
pub fn with_pair<R>(f: impl FnOnce(&Pair) -> R) -> R {
    let shared = Shared { posted: AtomicU64::new(0), done: AtomicU64::new(0), stop: AtomicBool::new(false), panicked: AtomicBool::new(false), job: Mutex::new(None) };
    /// Stops the partner however `f` ends.
    struct Stop<'a>(&'a Shared);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            self.0.stop.store(true, Ordering::Release);
        }
    }
    std::thread::scope(|scope| {
        scope.spawn(|| shared.serve());
        let _stop = Stop(&shared);
        f(&Pair { shared: &shared })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn both_halves_run_every_time() {
        let hits = [AtomicUsize::new(0), AtomicUsize::new(0)];
        let total = with_pair(|pair| {
            let mut total = 0;
            for i in 0..10_000 {
                let out = [AtomicUsize::new(0), AtomicUsize::new(0)];
                pair.run(&|half| {
                    hits[half].fetch_add(1, Ordering::Relaxed);
                    out[half].store(i * 2 + half, Ordering::Relaxed);
                });
                total += out[0].load(Ordering::Relaxed) + out[1].load(Ordering::Relaxed);
            }
            total
        });
        assert_eq!(hits[0].load(Ordering::Relaxed), 10_000);
        assert_eq!(hits[1].load(Ordering::Relaxed), 10_000);
        assert_eq!(total, (0..10_000).map(|i| 4 * i + 1).sum::<usize>());
    }

    #[test]
    fn a_panicking_partner_is_reported_not_hung() {
        let r = std::panic::catch_unwind(|| {
            with_pair(|pair| {
                pair.run(&|half| {
                    if half == 1 {
                        panic!("boom");
                    }
                })
            })
        });
        assert!(r.is_err());
    }
}

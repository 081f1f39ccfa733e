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

use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
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
    /// The payload of a panic in the partner's half of the job in flight,
    /// handed to the caller's thread to resume there.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
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
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| job(1))) {
                *self.panic.lock().unwrap_or_else(|e| e.into_inner()) = Some(payload);
            }
            self.done.store(seen, Ordering::Release);
        }
    }
}

impl Pair<'_> {
    /// Runs `job(0)` here and `job(1)` on the partner thread; returns when
    /// both have finished.
    ///
    /// A panic in either half is resumed on this thread, but only once the
    /// partner has finished its half: `job` may borrow from the caller's
    /// stack, which an unwind past this frame would free under the partner.
    /// When both halves panic, this thread's panic wins. The pair stays
    /// usable afterwards.
    pub fn run(&self, job: &(dyn Fn(usize) + Sync)) {
        let s = self.shared;
        // SAFETY: the partner only calls the job between this store and its
        // `done` store, and this function neither returns nor unwinds before
        // it sees that store (a panic in `job(0)` is caught and resumed
        // after the wait), so the borrow outlives every use.
        let job_static: Job<'static> = unsafe { std::mem::transmute::<Job<'_>, Job<'static>>(job) };
        *s.job.lock().unwrap_or_else(|e| e.into_inner()) = Some(job_static);
        let n = s.posted.fetch_add(1, Ordering::AcqRel) + 1;
        let mine = catch_unwind(AssertUnwindSafe(|| job(0)));
        wait(|| s.done.load(Ordering::Acquire) >= n);
        *s.job.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let partner = s.panic.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Err(payload) = mine {
            resume_unwind(payload);
        }
        if let Some(payload) = partner {
            resume_unwind(payload);
        }
    }
}

/// Calls `f` with a [`Pair`] whose partner thread lives until `f` returns.
pub fn with_pair<R>(f: impl FnOnce(&Pair) -> R) -> R {
    let shared = Shared { posted: AtomicU64::new(0), done: AtomicU64::new(0), stop: AtomicBool::new(false), panic: Mutex::new(None), job: Mutex::new(None) };
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

    /// `job(0)` panics while `job(1)` still reads and writes data on the
    /// caller's stack: `run` must not unwind past that data before the
    /// partner is done with it, and the pair must work on afterwards.
    #[test]
    fn a_panic_here_waits_for_the_partner_and_the_pair_goes_on() {
        let after = with_pair(|pair| {
            let finished = AtomicBool::new(false);
            let borrowed: Vec<AtomicUsize> = (0..64).map(|_| AtomicUsize::new(0)).collect();
            let r = catch_unwind(AssertUnwindSafe(|| {
                pair.run(&|half| {
                    if half == 0 {
                        panic!("caller's half fails");
                    }
                    // Long after the caller's half has panicked.
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    for (i, x) in borrowed.iter().enumerate() {
                        x.store(i + 1, Ordering::Relaxed);
                    }
                    finished.store(true, Ordering::Release);
                })
            }));
            let msg = r.expect_err("the caller's panic propagates").downcast::<&str>().map(|m| *m).unwrap_or("");
            assert_eq!(msg, "caller's half fails");
            assert!(finished.load(Ordering::Acquire), "run unwound before the partner finished");
            assert!(borrowed.iter().enumerate().all(|(i, x)| x.load(Ordering::Relaxed) == i + 1));
            // Both halves run again, and no stale panic is reported.
            let hits = [AtomicUsize::new(0), AtomicUsize::new(0)];
            for _ in 0..100 {
                pair.run(&|half| {
                    hits[half].fetch_add(1, Ordering::Relaxed);
                });
            }
            hits.map(|h| h.into_inner())
        });
        assert_eq!(after, [100, 100]);
    }

    /// A panic in the partner's half reaches the caller with its own
    /// message, after the caller's half has finished, and only once.
    #[test]
    fn a_partner_panic_is_resumed_here_once() {
        with_pair(|pair| {
            let mine_done = AtomicBool::new(false);
            let r = catch_unwind(AssertUnwindSafe(|| {
                pair.run(&|half| {
                    if half == 1 {
                        panic!("partner's half fails");
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    mine_done.store(true, Ordering::Release);
                })
            }));
            let msg = r.expect_err("the partner's panic propagates").downcast::<&str>().map(|m| *m).unwrap_or("");
            assert_eq!(msg, "partner's half fails");
            assert!(mine_done.load(Ordering::Acquire));
            // The next job runs cleanly.
            let out = [AtomicUsize::new(0), AtomicUsize::new(0)];
            pair.run(&|half| out[half].store(half + 7, Ordering::Relaxed));
            assert_eq!(out.map(|o| o.into_inner()), [7, 8]);
        });
    }

    /// Both halves panic: the caller's panic wins and the partner's is
    /// dropped, not left for the next job.
    #[test]
    fn when_both_halves_panic_the_callers_wins() {
        with_pair(|pair| {
            let r = catch_unwind(AssertUnwindSafe(|| pair.run(&|half| panic!("half {half}"))));
            let msg = r.expect_err("a panic propagates").downcast::<String>().map(|m| *m).unwrap_or_default();
            assert_eq!(msg, "half 0");
            pair.run(&|_| {});
        });
    }
}

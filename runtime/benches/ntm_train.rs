//! NTM speed: training episodes per second (forward, loss, backward and
//! Adam) on the stdlib `copy` task, in the NTM paper's shape (a controller
//! of 100, a one-layer tanh or an LSTM, memory 128 x 20, one read and one
//! write head), batches of 16 episodes all of one list length, as
//! `bench/ntm_torch.py` times its PyTorch twin.
//!
//! ```text
//! cargo bench -p synth-runtime --bench ntm_train
//! cargo bench -p synth-runtime --bench ntm_train -- --threads 1
//! ```
//!
//! Prints the median of several timed rounds after warm-up, in wall time
//! (a step uses every thread it is given).

use mimalloc::MiMalloc;
use std::time::Instant;
use synth_runtime::ntm::data::{encode, Sequence};
use synth_runtime::ntm::train::Stepper;
use synth_runtime::ntm::{Controller, Ntm, NtmConfig};
use synth_runtime::optim::FlatAdam;

mod timing;

use timing::median;

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

const BATCH: usize = 16;

fn bench(task: &synth_compiler::Task, config: &NtmConfig, n: usize, threads: usize) {
    let mut ntm = Ntm::new(config, 1);
    let mut adam = FlatAdam::new(ntm.layout.len);
    let mut stepper = Stepper::new(&ntm, threads);
    let batches: Vec<Vec<Sequence>> = (0..4).map(|b| (0..BATCH).map(|i| encode(config, &task.tape_example(n, (b * BATCH + i) as u64).expect("copy runs"))).collect()).collect();
    let steps_per_episode = batches[0][0].tokens.len();
    let mut step = |k: usize| {
        stepper.loss_and_gradient(&ntm, &batches[k % batches.len()]);
        adam.step(&mut ntm.params, &stepper.grad, 1e-3, 10.0);
    };
    for k in 0..3 {
        step(k);
    }
    let mut rounds = Vec::new();
    for r in 0..5 {
        let t0 = Instant::now();
        let reps = 8;
        for k in 0..reps {
            step(r * reps + k);
        }
        rounds.push(t0.elapsed().as_secs_f64() * 1e3 / reps as f64);
    }
    let ms = median(rounds);
    println!(
        "train copy {:4} n={n:3} ({steps_per_episode:3} steps) B={BATCH} threads={threads}: {ms:7.2} ms/step, {:6.0} episodes/s, {:7.0} episode-steps/s",
        config.controller.name(),
        BATCH as f64 * 1e3 / ms,
        (BATCH * steps_per_episode) as f64 * 1e3 / ms
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let threads: Vec<usize> = match args.iter().position(|a| a == "--threads") {
        Some(i) => vec![args[i + 1].parse().expect("--threads N")],
        None => vec![1, 2],
    };
    let task = synth_compiler::compile(include_str!("../../stdlib/copy.npl"), "copy").expect("copy compiles").task;
    let values = synth_runtime::seq2seq::values(&task, &(1..=20).collect::<Vec<_>>()).expect("copy runs");
    for controller in [Controller::Mlp, Controller::Lstm] {
        let config = NtmConfig { values, hidden: 100, memory: 128, width: 20, controller };
        for &t in &threads {
            for n in [10, 20] {
                bench(&task, &config, n, t);
            }
        }
    }
}

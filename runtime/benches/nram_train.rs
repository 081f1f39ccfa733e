//! NRAM speed: training examples per second (forward, loss, backward and
//! Adam) in the paper's Copy setting: the fourteen modules, 4 registers,
//! batches of 32 examples of 12 to 32 cells with `T` about `M`, the
//! default controller (2 x 64 ReLU) and the LSTM one; and the discrete
//! machine's timesteps per second on long tapes.
//!
//! ```text
//! cargo bench -p synth-runtime --bench nram_train            # all
//! cargo bench -p synth-runtime --bench nram_train -- train   # training only
//! cargo bench -p synth-runtime --bench nram_train -- discrete
//! SYNTH_CPU=avx2 cargo bench -p synth-runtime --bench nram_train -- train   # the AVX2 kernels
//! ```
//!
//! Single-threaded, as a seed trains. Prints the median of several timed
//! rounds after warm-up, in thread CPU time when the OS reports it (so a
//! busy machine does not skew it), else wall time.

use mimalloc::MiMalloc;
use std::time::Instant;
use synth_compiler::TapeExample;
use synth_runtime::nram::toy::Toy;
use synth_runtime::nram::{Controller, Nram, NramConfig, Options, Runner, Workspace};
use synth_runtime::kernels::{self, Cpu};
use synth_runtime::optim::FlatAdam;

mod timing;

use timing::{median, now_ms};

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

/// Copy at `cells` cells (size `(cells - 2) / 2`), `T = M`.
fn copy_example(cells: usize, seed: u64) -> TapeExample {
    let mut e = Toy::Copy.example((cells - 2) / 2, seed);
    e.timesteps = e.cells;
    e
}

fn bench_train(label: &str, cells: &[usize], hidden: usize, controller: Controller) {
    let config = NramConfig { hidden, controller, ..NramConfig::default() };
    let mut nram = Nram::new(&config, 1);
    let mut adam = FlatAdam::new(nram.params.len());
    let mut grad = vec![0f32; nram.params.len()];
    let mut ws = Workspace::new();
    let batches: Vec<Vec<TapeExample>> = (0..4).map(|b| (0..32).map(|i| copy_example(cells[(b * 32 + i) % cells.len()], (b * 32 + i) as u64)).collect()).collect();
    let opts = Options { clip_activations: 10.0, entropy: 0.1 };
    let start = Instant::now();
    let mut step = |k: usize| {
        let refs: Vec<&TapeExample> = batches[k % batches.len()].iter().collect();
        ws.train_step(&nram, &refs, opts, &mut grad);
        adam.step(&mut nram.params, &grad, 1e-3, 10.0);
    };
    for k in 0..3 {
        step(k);
    }
    let mut rounds = Vec::new();
    for r in 0..5 {
        let t0 = now_ms(&start);
        let n = 6;
        for k in 0..n {
            step(r * n + k);
        }
        rounds.push((now_ms(&start) - t0) / n as f64);
    }
    let ms = median(rounds);
    let mean_cells = cells.iter().sum::<usize>() as f64 / cells.len() as f64;
    println!("train {label:<28} {:4} {hidden:3}: {ms:7.2} ms/step, {:7.0} examples/s (mean M = T = {mean_cells:.0}, {} params)", controller.name(), 32.0 * 1e3 / ms, nram.params.len());
}

fn bench_discrete(cells: usize) {
    let nram = Nram::new(&NramConfig::default(), 1);
    let mut runner = Runner::new();
    let mut e = copy_example(cells, 0);
    e.timesteps = 1000;
    // Untrained parameters halt at random; count the steps run.
    let start = Instant::now();
    let mut rounds = Vec::new();
    for _ in 0..5 {
        let t0 = now_ms(&start);
        let mut steps = 0;
        for s in 0..20 {
            e.seed = s;
            steps += runner.run(&nram, &e).expect("a valid example").steps;
        }
        rounds.push((now_ms(&start) - t0) / steps as f64);
    }
    let ms = median(rounds);
    println!("discrete M = {cells:5}: {:8.0} timesteps/s", 1e3 / ms);
}

fn main() {
    // `SYNTH_CPU=avx2` (or `portable`) measures that kernel path on a
    // machine that has a wider one, as the `synth` binary does.
    if let Ok(isa) = std::env::var("SYNTH_CPU") {
        let cpu = isa.parse().map_err(|e| format!("{e:?}")).and_then(|isa| Cpu::new(isa).map_err(|e| format!("{e:?}")));
        match cpu {
            Ok(cpu) => kernels::set_default(cpu),
            Err(e) => panic!("SYNTH_CPU={isa}: {e}"),
        }
        eprintln!("kernels: {isa}");
    }
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let want = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    if want("train") {
        let mixed: Vec<usize> = (12..=32).step_by(2).collect();
        bench_train("copy M=12", &[12], 64, Controller::Mlp);
        bench_train("copy M=32", &[32], 64, Controller::Mlp);
        bench_train("copy M=12..32 (mixed)", &mixed, 64, Controller::Mlp);
        bench_train("copy M=12..32 (mixed)", &mixed, 128, Controller::Mlp);
        bench_train("copy M=12", &[12], 64, Controller::Lstm);
        bench_train("copy M=32", &[32], 64, Controller::Lstm);
    }
    if want("discrete") {
        bench_discrete(200);
        bench_discrete(10_000);
    }
}

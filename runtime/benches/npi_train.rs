//! NPI speed: training throughput (trace-steps per second) at batch 1 and 64
//! with frames of 20 steps, and closed-loop inference (model steps per
//! second) on `add`, one run at a time and 32 runs in lockstep.
//!
//! ```text
//! cargo bench -p synth-runtime --bench npi_train            # all
//! cargo bench -p synth-runtime --bench npi_train -- train   # training only
//! cargo bench -p synth-runtime --bench npi_train -- infer   # inference only
//! SYNTH_BENCH_MODEL=runs/add cargo bench -p synth-runtime --bench npi_train -- infer
//! SYNTH_CPU=avx2 cargo bench -p synth-runtime --bench npi_train   # a lower kernel path
//! ```
//!
//! Inference runs an untrained model unless `SYNTH_BENCH_MODEL` names a run
//! directory of the add task (a trained model is slower per step: its
//! activations have fewer exact zeros to skip).
//!
//! Model: the default `NpiConfig` (LSTM 2 x 256, fuse MLP 256, encoder
//! 128, embedding 64, key 32) on the add task's shapes. Prints the median of
//! several timed rounds after warm-up.

use mimalloc::MiMalloc;
use rand::{Rng, SeedableRng};
use std::time::Instant;
use synth_compiler::{Call, Frame, Step, Trace, ACT, NO_ARGS};
use synth_runtime::npi::{self, Dataset, Engine, ModelShape, Npi, NpiConfig};
use synth_runtime::optim::Adam;

mod timing;

use timing::{median, thread_cpu_ms};

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

fn add_task() -> synth_compiler::Task {
    let src = include_str!("../../stdlib/add.npl");
    synth_compiler::compile(src, "add").expect("stdlib/add.npl compiles").task
}

/// `frames` random frames of `len` steps each, shaped like `shape`.
fn random_frames(shape: &ModelShape, frames: usize, len: usize, seed: u64) -> Dataset {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let w = shape.obs_width();
    let mut trace = Trace { size: 0, seed, obs_width: w, frames: Vec::new(), steps: Vec::new(), obs: Vec::new() };
    for _ in 0..frames {
        let first = trace.steps.len() as u32;
        for t in 0..len {
            let end = t + 1 == len;
            let call = (!end).then(|| Call { program: rng.random_range(0..shape.programs() as u16), args: [rng.random_range(0..2), rng.random_range(0..4), rng.random_range(0..11)] });
            let call = call.map(|c| if c.program == ACT { c } else { Call { args: NO_ARGS, ..c } });
            trace.steps.push(Step { call, end, child: None });
            for &c in &shape.features {
                trace.obs.push(rng.random_range(0..c));
            }
        }
        trace.frames.push(Frame { program: rng.random_range(1..shape.programs() as u16), args: NO_ARGS, parent: None, depth: 1, first_step: first, len: len as u32 });
    }
    Dataset::from_traces(shape, [&trace])
}

fn bench_train(shape: &ModelShape, batch: usize, len: usize, cfg: NpiConfig) {
    let data = random_frames(shape, batch, len, 2);
    let ids: Vec<usize> = (0..batch).collect();
    time_train(&format!("train B={batch:3} T={len}"), shape, &data, &ids, cfg);
}

/// Training on batches like the real ones: 64 frames drawn from the add
/// task's traces (sizes 1..=10), so mostly short frames.
fn bench_train_add(task: &synth_compiler::Task, cfg: NpiConfig) {
    let shape = ModelShape::of(task);
    let traces: Vec<Trace> = (0..640).map(|i| task.trace(1 + i % 10, i as u64).unwrap()).collect();
    let data = Dataset::from_traces(&shape, &traces);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
    let ids: Vec<usize> = (0..64).map(|_| rng.random_range(0..data.frames.len())).collect();
    let rows: usize = ids.iter().map(|&f| data.frames[f].len).sum();
    time_train(&format!("train add, 64 frames ({rows} steps), hidden {}", cfg.hidden), &shape, &data, &ids, cfg);
}

/// The threads synth's own kernels use: `SYNTH_BENCH_THREADS`, else one
/// per core, as `synth` does (`RAYON_NUM_THREADS` sets candle's alone; by
/// default 1, see `synth_runtime::process`).
fn bench_threads() -> usize {
    std::env::var("SYNTH_BENCH_THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or_else(synth_runtime::settings::cores)
}

fn time_train(label: &str, shape: &ModelShape, data: &Dataset, ids: &[usize], cfg: NpiConfig) {
    let mut npi = Npi::new(&cfg, shape, 1).unwrap();
    let threads = bench_threads();
    npi.set_threads(threads);
    let dev = candle_core::Device::Cpu;
    let batch = ids.len();
    let steps: usize = ids.iter().map(|&f| data.frames[f].len).sum();
    let mut opt = Adam::new(&npi.varmap);
    let step = |opt: &mut Adam| -> (f64, f64, f64, f64) {
        let t0 = Instant::now();
        let b = data.batch(ids, &dev).unwrap();
        let t1 = Instant::now();
        let out = npi.forward(&b).unwrap();
        let loss = npi.loss(&out, &b).unwrap();
        let t2 = Instant::now();
        let grads = npi.backward(&loss).unwrap();
        let t3 = Instant::now();
        opt.step(&grads, 1e-4, 1.0, threads).unwrap();
        let t4 = Instant::now();
        let s = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
        (s(t0, t1), s(t1, t2), s(t2, t3), s(t3, t4))
    };
    let reps = if batch == 1 { 60 } else { 12 };
    for _ in 0..3 {
        step(&mut opt);
    }
    let mut total = Vec::new();
    let mut cpu = Vec::new();
    let mut parts = Vec::new();
    for _ in 0..reps {
        let c0 = thread_cpu_ms();
        let p = step(&mut opt);
        if let (Some(a), Some(b)) = (c0, thread_cpu_ms()) {
            cpu.push(b - a);
        }
        total.push(p.0 + p.1 + p.2 + p.3);
        parts.push(p);
    }
    let ms = median(total);
    let cpu = if cpu.is_empty() { f64::NAN } else { median(cpu) };
    let part = |f: fn(&(f64, f64, f64, f64)) -> f64| median(parts.iter().map(f).collect());
    println!(
        "{label}: {ms:8.2} ms/step  {:8.0} trace-steps/s  (batch {:.2} fwd {:.2} bwd {:.2} adam {:.2} ms; main thread cpu {cpu:.2} ms)",
        steps as f64 / ms * 1e3,
        part(|p| p.0),
        part(|p| p.1),
        part(|p| p.2),
        part(|p| p.3)
    );
}

fn bench_infer(task: &synth_compiler::Task, runs: usize, size: usize, threads: usize) {
    let shape = ModelShape::of(task);
    let npi = match std::env::var("SYNTH_BENCH_MODEL") {
        Ok(dir) => {
            let dir = std::path::Path::new(&dir);
            let meta = serde_json::from_slice(&std::fs::read(dir.join("model.json")).unwrap()).unwrap();
            let weights = std::fs::read(dir.join("model.safetensors")).unwrap();
            npi::Checkpoint { meta, weights, optimizer: None }.load(task).unwrap()
        }
        Err(_) => Npi::new(&NpiConfig::default(), &shape, 3).unwrap(),
    };
    let engine = Engine::new(&npi).unwrap();
    // An untrained model loops or fails early; a fixed step budget per run
    // measures the step rate alone. Failed runs restart until the budget is
    // spent.
    let budget = 20_000usize;
    let mut rates = Vec::new();
    for round in 0..5 {
        let mut steps = 0;
        let t0 = Instant::now();
        let mut k = 0u64;
        while steps < budget {
            let jobs: Vec<npi::Job<synth_compiler::Instance>> = (0..runs)
                .map(|i| {
                    k += 1;
                    npi::Job { world: task.sample(size, k + i as u64).unwrap(), limits: npi::Limits { max_steps: budget / runs, max_depth: 16 }, size, seed: k }
                })
                .collect();
            let out = npi::run_batch(&engine, task.entry, task.end, jobs, threads, false);
            steps += out.iter().map(|o| o.steps).sum::<usize>();
        }
        let dt = t0.elapsed().as_secs_f64();
        if round > 0 {
            rates.push(steps as f64 / dt);
        }
    }
    let model = if std::env::var("SYNTH_BENCH_MODEL").is_ok() { "trained" } else { "untrained" };
    println!("infer {runs:2} run(s) in lockstep, {threads} thread(s), {model} model: {:9.0} model steps/s", median(rates));
}

/// GFLOP/s of `kernels::gemm` with a dense right-hand side (the `gemm`
/// crate) and with one packed on every call (the AVX-512 kernel where the
/// CPU has it), on the LSTM's shapes, one thread.
fn bench_gemm() {
    use synth_runtime::kernels::{gemm, Cpu, Mat, PackedB, Rhs};
    let cpu = Cpu::default();
    // (m, n, k, what): per-thread shapes of a B=64, T=20 step (two threads).
    let shapes = [(640, 1024, 257, "input projection"), (640, 256, 1024, "dx = dG W_ih"), (1024, 513, 640, "dW = dG^T [x 1 h]"), (32, 1024, 256, "recurrent, 32 rows")];
    for (m, n, k, what) in shapes {
        let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 * 0.1).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.1).collect();
        let mut c = vec![0f32; m * n];
        let flops = 2.0 * (m * n * k) as f64;
        let time = |f: &mut dyn FnMut()| {
            let reps = ((2e9 / flops) as usize).max(3);
            f();
            let t0 = Instant::now();
            for _ in 0..reps {
                f();
            }
            flops * reps as f64 / t0.elapsed().as_secs_f64() / 1e9
        };
        // SAFETY: a (m, k), b (k, n), c (m, n), all row-major and in bounds.
        let dense = time(&mut || unsafe { gemm(m, Mat::rows(&a, k), Rhs::Dense { k, n, b: Mat::rows(&b, n) }, c.as_mut_ptr(), n, false) });
        let packed = time(&mut || unsafe { gemm(m, Mat::rows(&a, k), Rhs::Packed(&PackedB::new(cpu, k, n, Mat::rows(&b, n))), c.as_mut_ptr(), n, false) });
        println!("gemm {m:5} x {n:5} x {k:5} ({what}): dense (gemm crate) {dense:6.1} GFLOP/s, packed per call ({}) {packed:6.1} GFLOP/s", cpu.isa());
    }
}

fn main() {
    // As the `synth` binary runs: candle serial, freed memory kept a while.
    synth_runtime::process::tune();
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let want = |what: &str| args.is_empty() || args.iter().any(|a| a == what);
    let task = add_task();
    let shape = ModelShape::of(&task);
    // The instruction set, as the `synth` binary takes it.
    if let Ok(v) = std::env::var("SYNTH_CPU") {
        let isa: synth_runtime::kernels::Isa = v.parse().unwrap_or_else(|e| panic!("SYNTH_CPU: {e}"));
        synth_runtime::kernels::set_default(synth_runtime::kernels::Cpu::new(isa).unwrap_or_else(|e| panic!("SYNTH_CPU: {e}")));
    }
    println!(
        "threads: {} (candle's: {}), kernels: {}",
        bench_threads(),
        candle_core::utils::get_num_threads(),
        synth_runtime::kernels::Cpu::default().isa()
    );
    if want("train") || want("train1") {
        bench_train(&shape, 1, 20, NpiConfig::default());
    }
    if want("train") || want("train64") {
        bench_train(&shape, 64, 20, NpiConfig::default());
    }
    if want("train") || want("trainadd") {
        bench_train_add(&task, NpiConfig::default());
    }
    if want("tinycore") {
        // Everything but the LSTM: the same model with 8 hidden units.
        bench_train(&shape, 64, 20, NpiConfig { hidden: 8, ..NpiConfig::default() });
        bench_train_add(&task, NpiConfig { hidden: 8, ..NpiConfig::default() });
    }
    if want("gemm") {
        bench_gemm();
    }
    if want("infer") || want("infer1") {
        bench_infer(&task, 1, 1000, 1);
        bench_infer(&task, 1, 1000, 2);
    }
    if want("infer") || want("infer32") {
        bench_infer(&task, 32, 1000, 1);
    }
}

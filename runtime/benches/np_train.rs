//! Neural Programmer speed: training questions per second (the soft pass,
//! the loss, the hand-written backward and Adam) on the stdlib's `tableqa`
//! (3 number columns and a word column, 30 to 100 rows, 5 steps, 12
//! question kinds), batches of 20 as `synth learn` takes them, at hidden
//! sizes 64, 128 and 256 (embedding 64).
//!
//! ```text
//! cargo bench -p synth-runtime --bench np_train
//! ```
//!
//! Single-threaded. Prints the median of several timed rounds after
//! warm-up, in thread CPU time when the OS reports it (so a busy machine
//! does not skew it), else wall time. `bench/np_torch.py` is the PyTorch
//! twin of the same model and batch.

use mimalloc::MiMalloc;
use std::time::Instant;
use synth_runtime::np::data::collect_words;
use synth_runtime::np::model::Objective;
use synth_runtime::np::{Encoded, Np, NpConfig, Vocab, Workspace};
use synth_runtime::optim::FlatAdam;
use synth_runtime::TableEnvironment;

mod timing;

use timing::{median, now_ms};

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

fn main() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../stdlib/tableqa.npl");
    let src = std::fs::read_to_string(&path).expect("stdlib/tableqa.npl");
    let task = synth_compiler::compile(&src, "tableqa").expect("tableqa compiles").task;
    let examples: Vec<_> = (0..400).map(|i| task.table_example(30 + i % 71, i as u64).expect("an instance")).collect();
    let columns = TableEnvironment::columns(&task);
    let vocab = collect_words(examples.iter().map(|e| e.tokens.as_slice()), &columns);
    for hidden in [64, 128, 256] {
        let config = NpConfig { columns: columns.clone(), vocab: vocab.clone(), timesteps: TableEnvironment::timesteps(&task), hidden, embedding: 64 };
        let mut np = Np::new(&config, 1);
        let v = Vocab::new(&config);
        let data: Vec<Encoded> = examples.iter().map(|e| Encoded::new(&config, &v, e).expect("encodes")).collect();
        let mut adam = FlatAdam::new(np.params.len());
        let mut grad = vec![0f32; np.params.len()];
        let mut ws = Workspace::new();
        let objective = Objective { huber: 0.05, lookup_weight: 1.0, entropy: 0.0 };
        let start = Instant::now();
        let mut step = |k: usize| {
            grad.fill(0.0);
            for e in &data[(k * 20) % 380..(k * 20) % 380 + 20] {
                np.forward(e, objective, None, &mut ws);
                np.backward(e, &mut ws, &mut grad);
            }
            adam.step(&mut np.params, &grad, 1e-3, 1.0);
        };
        for k in 0..20 {
            step(k);
        }
        let rounds: Vec<f64> = (0..7)
            .map(|r| {
                let t = now_ms(&start);
                for k in 0..40 {
                    step(r * 40 + k);
                }
                (now_ms(&start) - t) / 40.0
            })
            .collect();
        let ms = median(rounds);
        println!("np train hidden {hidden:>3}: {ms:.2} ms per step of 20 questions, {:.0} questions/s ({} parameters)", 20_000.0 / ms, np.params.len());
    }
}

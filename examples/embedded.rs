//! A task written in the Rust source with `synth::npl!`: checked when this
//! example is compiled (misspell `FLIP` and it does not build), then traced
//! and learned by a small NPI for a few hundred steps.
//!
//! ```text
//! $ cargo run --release --example embedded
//! ```

use std::sync::LazyLock;
use synth::embedded::EmbeddedTask;
use synth::runtime::npi::{self, Fuse, NpiConfig, Observe, TrainConfig};

/// Binary increment, as `stdlib/increment.npl` (trailing ones become zeros,
/// then the first zero becomes a one), with plain random inputs.
static INCREMENT: EmbeddedTask = synth::npl! {
    task increment

    world scratchpad(rows: 1, cols: n + 1, base: 2) {
      pointer p on row 0 at right
    }

    input(n) {
      let a = random_number(digits: n)
      write_number(row: 0, a)
    }

    expect read_number(row: 0) == a + 1

    program INCREMENT {
      while p == 1 {
        FLIP()
      }
      write(p, 1)
    }

    program FLIP {
      write(p, 0)
      move(p, left)
    }
};

/// Compiled once, on first use.
static TASK: LazyLock<synth::Task> = LazyLock::new(|| INCREMENT.task());

fn main() -> anyhow::Result<()> {
    let task = &*TASK;
    println!("task `{}`, written at {}", task.name, INCREMENT.source().display);

    let trace = task.trace(4, 1).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("\nreference trace at size 4, seed 1:\n{}", task.render_trace(&trace));

    let model = NpiConfig { hidden: 32, layers: 1, embedding: 8, key: 8, encoder: 32, state: 16, fuse: Fuse::Mlp, fuse_hidden: 32, observe: Observe::All, vision: Default::default() };
    let cfg = TrainConfig {
        seed: 1,
        train_sizes: (1..=6).collect(),
        traces: 64,
        steps: 400,
        batch: 32,
        lr: 3e-3,
        validate_every: 100,
        validation_sizes: vec![8, 16],
        validation_count: 16,
        threads: 1,
        ..TrainConfig::default()
    };
    let outcome = npi::train(task, &model, &cfg, &mut npi::NoHooks)?;
    let best = &outcome.best.meta;
    println!("trained {} steps ({:?}); best weights at step {}, loss {:.4}:", outcome.steps, outcome.stop, best.step, best.loss);
    for s in &best.validation {
        println!("  size {:>2}: {}/{} inputs run exactly right", s.size, s.exact, s.count);
    }
    Ok(())
}

//! `synth check`: parse, compile and lint a task, then run its reference on
//! sampled inputs (the work is [`synth::check`]; this prints it).

use super::failure::Failure;
use super::task::{load, TaskArg};
use clap::Args;
use synth::{check, CheckOptions};

#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    task: TaskArg,
    /// Sizes to run the reference on, besides the learn block's (which
    /// are capped at 1,000; these are not).
    #[arg(long, value_delimiter = ',')]
    sizes: Option<Vec<usize>>,
    /// Seeds per size.
    #[arg(long, default_value_t = 4)]
    seeds: u64,
}

pub fn run(a: CheckArgs) -> Result<(), Failure> {
    let source = load(&a.task)?;
    let mut opts = CheckOptions { seeds: a.seeds, ..CheckOptions::default() };
    if let Some(sizes) = a.sizes {
        // Sizes the user names are run whatever their size; only the learn
        // block's are capped.
        opts.max_size = sizes.iter().copied().fold(opts.max_size, usize::max);
        opts.sizes = sizes;
    }
    let report = check(&source, &opts);
    let text = report.render(&source);
    if report.has_errors() {
        eprint!("{text}");
        Err(Failure::Reported)
    } else {
        print!("{text}");
        Ok(())
    }
}

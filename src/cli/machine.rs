//! What the CLI reads of the machine it runs on: the memory a run may use,
//! checked against the run's estimated footprint before a model is built
//! (`synth_runtime::npi::memory`), and the kernels' instruction set
//! (`SYNTH_CPU`). The runtime does no IO; it is handed both.

use anyhow::anyhow;
use synth_compiler::Task;
use synth_runtime::kernels::{self, Cpu, Isa};
use synth_runtime::npi::{memory, Footprint, ModelShape, NpiConfig, TrainConfig};

/// Sets the kernels' instruction set from `SYNTH_CPU` (`portable`, `avx2`
/// or `avx512`), when it is set: a path this CPU lacks, or a name that is
/// none of these, is an error.
pub fn apply_cpu_override() -> anyhow::Result<()> {
    let Some(value) = std::env::var_os("SYNTH_CPU") else { return Ok(()) };
    let value = value.to_string_lossy();
    if value.is_empty() {
        return Ok(());
    }
    let isa: Isa = value.parse().map_err(|e| anyhow!("SYNTH_CPU: {e}"))?;
    kernels::set_default(Cpu::new(isa).map_err(|e| anyhow!("SYNTH_CPU={value}: {e}"))?);
    Ok(())
}

/// Bytes a run may use: Linux's `MemAvailable`, else the physical memory,
/// else 8 GiB.
pub fn available_memory() -> u64 {
    if let Some(b) = std::fs::read_to_string("/proc/meminfo").ok().as_deref().and_then(mem_available) {
        return b;
    }
    physical_memory().unwrap_or(8 << 30)
}

/// `MemAvailable` of a `/proc/meminfo` text, in bytes.
fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let mut words = line.split_whitespace().skip(1);
    let kib: u64 = words.next()?.parse().ok()?;
    (words.next() == Some("kB")).then_some(())?;
    kib.checked_mul(1024)
}

#[cfg(any(target_os = "linux", target_os = "macos", target_os = "freebsd"))]
fn physical_memory() -> Option<u64> {
    // SAFETY: sysconf only reads system configuration values.
    let (pages, size) = unsafe { (libc::sysconf(libc::_SC_PHYS_PAGES), libc::sysconf(libc::_SC_PAGESIZE)) };
    (pages > 0 && size > 0).then(|| (pages as u64).saturating_mul(size as u64))
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "freebsd")))]
fn physical_memory() -> Option<u64> {
    None
}

/// What to lower when `need` does not fit: the settings behind its largest
/// part.
fn hint(need: &Footprint) -> &'static str {
    let largest = need.parts.iter().max_by(|a, b| a.1.total_cmp(&b.1)).map_or("", |p| p.0);
    match largest {
        "activations of a batch" => "lower `batch` or the training sizes",
        "training data" => "lower `traces` or the training sizes",
        "validation runs" => "lower `validation_count`",
        _ => "lower the model's sizes (`hidden`, `layers`, `encoder`, `state`, `fuse_hidden`, `embedding`, `key`)",
    }
}

fn refusal(e: memory::MemoryError) -> anyhow::Error {
    match &e {
        memory::MemoryError::TooLarge { need, .. } => anyhow!("{e}; {}", hint(need)),
        memory::MemoryError::Task(_) => anyhow!("{e}"),
    }
}

/// Refuses to train `model` on `task` as `cfg` says when the run would not
/// fit in the memory available, before anything big is allocated.
pub fn check_training(task: &Task, model: &NpiConfig, cfg: &TrainConfig) -> anyhow::Result<()> {
    let need = memory::training(task, model, cfg).map_err(|e| refusal(e.into()))?;
    need.check("training this model", available_memory()).map_err(refusal)?;
    Ok(())
}

/// Refuses to run `model` closed loop, `runs` runs at a time, when it
/// would not fit in the memory available.
pub fn check_inference(model: &NpiConfig, shape: &ModelShape, runs: usize) -> anyhow::Result<()> {
    memory::inference(model, shape, runs).check("running this model", available_memory()).map_err(refusal)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_is_read_in_bytes() {
        let text = "MemTotal:       24542568 kB\nMemFree:         1234 kB\nMemAvailable:   20000000 kB\n";
        assert_eq!(mem_available(text), Some(20_000_000 * 1024));
        assert_eq!(mem_available("MemTotal: 5 kB\n"), None);
        assert_eq!(mem_available("MemAvailable: lots\n"), None);
        assert!(available_memory() > 0);
    }
}

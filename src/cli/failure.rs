//! Why a command failed, and so which exit code it gets: the one place that
//! turns errors into the codes documented in [`super`].

use super::rundir::RunDirError;
use std::process::ExitCode;

/// Why a command failed.
pub enum Failure {
    /// Diagnostics or a message already printed: exit 1.
    Reported,
    /// Exit 1 with this message.
    Task(anyhow::Error),
    /// Exit 3 with this message.
    Io(anyhow::Error),
    /// Bad usage clap cannot see (a path that does not exist): exit 2 with
    /// this message.
    Usage(anyhow::Error),
}

impl Failure {
    /// A learner's settings error for the task shown as `display`: when
    /// there are `--set` values (`from_set`) and the `learn` block alone is
    /// fine (`block_ok`), the `--set` values are wrong, which is bad usage
    /// (exit 2, as for `synth lte`); otherwise the task's settings are
    /// (exit 1).
    pub fn settings(display: &str, from_set: bool, e: impl std::fmt::Display, block_ok: impl FnOnce() -> bool) -> Failure {
        if from_set && block_ok() {
            return Failure::Usage(anyhow::anyhow!("{display}: --set: {e}"));
        }
        let place = if from_set { "in the learn block or --set" } else { "in the learn block" };
        Failure::Task(anyhow::anyhow!("{display}: {place}: {e}"))
    }

    /// Prints the message (if not printed yet) and gives the exit code.
    pub fn report(self) -> ExitCode {
        match self {
            Failure::Reported => ExitCode::from(1),
            Failure::Task(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(1)
            }
            Failure::Io(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(3)
            }
            Failure::Usage(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(2)
            }
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Io(e.into())
    }
}

impl From<RunDirError> for Failure {
    fn from(e: RunDirError) -> Self {
        match e {
            RunDirError::Write { .. } | RunDirError::Read { .. } => Failure::Io(e.into()),
            RunDirError::NoModel { .. } | RunDirError::BadMeta { .. } | RunDirError::Missing { .. } => Failure::Task(e.into()),
        }
    }
}

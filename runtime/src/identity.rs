//! What every learner's checkpoint records about where it comes from
//! (layout version, learner, task, hash of the task's source), and the one
//! check of it against the task at hand: a checkpoint of another learner,
//! task or version of the source is refused with a message that says
//! which.

/// A checkpoint's claim and what the task at hand expects of it.
#[derive(Clone, Copy, Debug)]
pub struct Identity<'a> {
    pub format: u32,
    pub learner: &'a str,
    pub task: &'a str,
    pub source_hash: &'a str,
}

/// How a checkpoint's identity differs from the expected one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("the checkpoint has format {found}, this synth reads format {expected} of {learner} checkpoints")]
    Format { learner: String, expected: u32, found: u32 },
    #[error("the checkpoint is for the {found} learner, not {expected}")]
    Learner { expected: String, found: String },
    #[error("the checkpoint was trained on task `{found}`, not `{expected}`")]
    Task { expected: String, found: String },
    #[error("the checkpoint was trained on another version of `{task}` (source hash {found:.12}, the file now hashes to {expected:.12}); retrain it")]
    Source { task: String, expected: String, found: String },
}

impl Identity<'_> {
    /// Checks `self` (the checkpoint's) against `expected`, learner first
    /// (a format number means nothing across learners).
    pub fn check(&self, expected: &Identity) -> Result<(), IdentityError> {
        if self.learner != expected.learner {
            return Err(IdentityError::Learner { expected: expected.learner.into(), found: self.learner.into() });
        }
        if self.format != expected.format {
            return Err(IdentityError::Format { learner: expected.learner.into(), expected: expected.format, found: self.format });
        }
        if self.task != expected.task {
            return Err(IdentityError::Task { expected: expected.task.into(), found: self.task.into() });
        }
        if self.source_hash != expected.source_hash {
            return Err(IdentityError::Source { task: self.task.into(), expected: expected.source_hash.into(), found: self.source_hash.into() });
        }
        Ok(())
    }
}

//! Where a task's text comes from: a path on disk, or the name of a stdlib
//! task (`add`). A path wins when both exist, so a user's own `add.npl` in the
//! current directory is what `synth learn add.npl` trains.

use std::path::Path;

/// A task's source text and the names it is shown under.
#[derive(Clone, Debug)]
pub struct Source {
    /// As shown in diagnostics: the path given, or `stdlib/add.npl`.
    pub display: String,
    /// The file stem, the task's default name.
    pub stem: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read `{path}`: {err}")]
    Read { path: String, err: std::io::Error },
    #[error("no task file `{path}`")]
    Missing { path: String },
    #[error("no task `{name}`: it is neither a file nor a stdlib task (stdlib tasks: {known})")]
    Unknown { name: String, known: String },
}

impl Source {
    pub fn from_text(display: impl Into<String>, stem: impl Into<String>, text: impl Into<String>) -> Source {
        Source { display: display.into(), stem: stem.into(), text: text.into() }
    }

    /// Loads `arg`: an existing file, else a stdlib task's stem (with or
    /// without `.npl`).
    pub fn load(arg: &str) -> Result<Source, SourceError> {
        let path = Path::new(arg);
        if path.is_file() {
            let text = std::fs::read_to_string(path).map_err(|err| SourceError::Read { path: arg.to_string(), err })?;
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            return Ok(Source { display: arg.to_string(), stem, text });
        }
        let stem = arg.strip_suffix(".npl").unwrap_or(arg);
        if !stem.contains(['/', '\\']) {
            if let Some(text) = crate::stdlib::get(stem) {
                return Ok(Source::from_text(format!("stdlib/{stem}.npl"), stem, text));
            }
        }
        if arg.ends_with(".npl") || arg.contains(['/', '\\']) {
            return Err(SourceError::Missing { path: arg.to_string() });
        }
        let known = crate::stdlib::names().collect::<Vec<_>>().join(", ");
        Err(SourceError::Unknown { name: arg.to_string(), known })
    }
}

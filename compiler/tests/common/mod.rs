//! Helpers the compiler's integration tests share: compiling a source that
//! must compile cleanly, or must not compile.

use synth_compiler::{compile, Task};

/// The task of `src`, which must compile without warnings.
pub fn task(src: &str) -> Task {
    match compile(src, "t") {
        Ok(c) => {
            assert!(c.warnings.is_empty(), "{}", synth_dsl::render_all(&c.warnings, "t.npl", src));
            c.task
        }
        Err(d) => panic!("{}", synth_dsl::render_all(&d, "t.npl", src)),
    }
}

/// The rendered errors of a file that must not compile.
pub fn errors(src: &str) -> String {
    match compile(src, "t") {
        Ok(_) => panic!("compiled:\n{src}"),
        Err(d) => synth_dsl::render_all(&d, "t.npl", src),
    }
}

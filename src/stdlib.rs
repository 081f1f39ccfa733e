//! The task library, embedded at build time from `stdlib/*.npl` (see
//! `build.rs`), so `synth learn add` works from any directory.

include!(concat!(env!("OUT_DIR"), "/stdlib.rs"));

/// The source of the stdlib task named `stem`.
pub fn get(stem: &str) -> Option<&'static str> {
    STDLIB.iter().find(|(s, _)| *s == stem).map(|(_, src)| *src)
}

/// Every stdlib task's stem, sorted.
pub fn names() -> impl Iterator<Item = &'static str> {
    STDLIB.iter().map(|(s, _)| *s)
}

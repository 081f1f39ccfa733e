//! Every `tests/ui/**/*.npl` is a task with a mistake in it, named after the
//! mistake. Each must produce at least one diagnostic from `synth check`; the
//! snapshot holds the source and exactly what the user sees.

use synth::{check, CheckOptions, Source};

#[test]
fn ui_cases() {
    insta::glob!("ui/**/*.npl", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let rel = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap().to_string_lossy().replace('\\', "/");
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let source = Source::from_text(rel.clone(), stem, text.clone());
        let report = check(&source, &CheckOptions::default());
        assert!(!report.diagnostics.is_empty(), "{rel} produced no diagnostic");
        insta::assert_snapshot!(format!("{text}\n----- synth check {rel}\n{}", report.render(&source)));
    });
}

//! Every `tests/ui/syntax/*.npl` case at the workspace root provokes at least
//! one syntax error, and a case named `two_errors...` at least two. (The
//! workspace's own snapshot harness renders them; this only guards the
//! parser's side of the contract.)

#[test]
fn every_ui_syntax_case_is_an_error() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/ui/syntax");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("tests/ui/syntax")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "npl"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 12);
    for path in paths {
        let src = std::fs::read_to_string(&path).expect("readable case");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (_, diags) = synth_dsl::parse(&src);
        assert!(!diags.is_empty(), "{name}: no error");
        if name.starts_with("two_errors") {
            assert!(diags.len() >= 2, "{name}: {}", synth_dsl::render_all(&diags, &name, &src));
        }
    }
}

//! Built by `tests/embedded.rs` (`npl_errors_are_compile_errors`) as the
//! library of a crate of its own: every macro call holds an NPL mistake, and
//! the test reads rustc's errors. The calls are `synth_macros`'s own, since
//! the crate depends on the macros only (an error expands to nothing else).

pub fn misspelt_program() {
    let _ = synth_macros::npl! {
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
            FLP()
          }
          write(p, 1)
        }
        program FLIP {
          write(p, 0)
          move(p, left)
        }
    };
}

pub fn missing_comma() {
    let _ = synth_macros::npl! {
        task t
        world scratchpad(rows: 1, cols: n, base: 10) {
          pointer p on row 0 at left
        }
        input(n) {
          let xs = random_list(n, 0..10)
          write_list(row: 0 xs)
        }
        expect read_list(row: 0) == xs
        program P {
          move(p, right)
        }
    };
}

pub fn program_defined_twice() {
    let _ = synth_macros::npl! {
        task t
        world scratchpad(rows: 1, cols: n, base: 10) {
          pointer p on row 0 at left
        }
        input(n) {
          let xs = random_list(n, 0..10)
          write_list(row: 0, xs)
        }
        expect read_list(row: 0) == xs
        program STEP {
          move(p, right)
        }
        program STEP {
          move(p, left)
        }
    };
}

pub fn syntax_error_in_a_file() {
    let _ = synth_macros::include_npl!("bad.npl");
}

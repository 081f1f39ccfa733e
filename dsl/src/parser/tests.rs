//! Unit tests of the parser: every construct of NPL.md, precedence, spans,
//! recovery, the nesting limit, and the wording of errors. Expressions are
//! compared as S-expressions so that a test reads like the tree it expects.

use super::parse;
use crate::ast::*;
use crate::diagnostic::Diagnostic;

/// The whole example of NPL.md, verbatim.
const NPL_MD_EXAMPLE: &str = r#"// Grade-school addition on a four-row scratch pad (NPI, section 4.1).
task add

world scratchpad(rows: 4, cols: n + 2, base: 10) {
  pointer in1   on row 0 at right
  pointer in2   on row 1 at right
  pointer carry on row 2 at right
  pointer out   on row 3 at right
}

input(n) {
  let a = random_number(digits: n)
  let b = random_number(digits: n)
  write_number(row: 0, a)
  write_number(row: 1, b)
}

expect read_number(row: 3) == a + b

program ADD {
  while in1 != blank || in2 != blank || carry != blank {
    ADD1()
    LSHIFT()
  }
}

program ADD1 {
  let s = digit(in1) + digit(in2) + digit(carry)
  write(out, s % 10)
  if s >= 10 { CARRY() }
}

program CARRY {
  move(carry, left)
  write(carry, 1)
  move(carry, right)
}

program LSHIFT {
  move(in1, left)
  move(in2, left)
  move(carry, left)
  move(out, left)
}

learn npi {
  train sizes 1..=10, traces 64
  test sizes [20, 100, 1000]
}
"#;

/// Parses text that must be free of errors.
fn ok(src: &str) -> File {
    let (file, diags) = parse(src);
    assert!(diags.is_empty(), "unexpected diagnostics:\n{}", crate::render_all(&diags, "test.npl", src));
    file
}

/// The messages of the diagnostics of `src`.
fn messages(src: &str) -> Vec<String> {
    parse(src).1.into_iter().map(|d| d.message).collect()
}

/// The one diagnostic of `src`.
fn one_error(src: &str) -> Diagnostic {
    let (_, diags) = parse(src);
    assert_eq!(diags.len(), 1, "expected one diagnostic:\n{}", crate::render_all(&diags, "test.npl", src));
    diags.into_iter().next().unwrap()
}

/// An expression as an S-expression: `(+ a (* b c))`.
fn sx(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Int(v) => v.to_string(),
        ExprKind::Float(v) => format!("{v:e}"),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Blank => "blank".into(),
        ExprKind::Left => "left".into(),
        ExprKind::Right => "right".into(),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Name(id) => id.name.clone(),
        ExprKind::List(xs) => format!("[{}]", xs.iter().map(sx).collect::<Vec<_>>().join(" ")),
        ExprKind::Range { start, end, inclusive } => {
            format!("({} {} {})", if *inclusive { "..=" } else { ".." }, sx(start), sx(end))
        }
        ExprKind::Unary { op, expr } => format!("({} {})", if *op == UnOp::Not { "!" } else { "-" }, sx(expr)),
        ExprKind::Binary { op, lhs, rhs } => format!("({} {} {})", op.symbol(), sx(lhs), sx(rhs)),
        ExprKind::Call { callee, args } => {
            let args: Vec<String> = args
                .iter()
                .map(|a| match &a.name {
                    Some(n) => format!("{}:{}", n.name, sx(&a.value)),
                    None => sx(&a.value),
                })
                .collect();
            format!("(call {}{})", callee.name, args.iter().map(|a| format!(" {a}")).collect::<String>())
        }
        ExprKind::Index { base, index } => format!("(index {} {})", sx(base), sx(index)),
    }
}

/// The S-expression of `expect <text>`.
fn expr(text: &str) -> String {
    let file = ok(&format!("expect {text}\n"));
    match &file.items[..] {
        [Item { kind: ItemKind::Expect(e), .. }] => sx(e),
        other => panic!("not one expect item: {other:?}"),
    }
}

/// The statements of `program P { <body> }`.
fn stmts(body: &str) -> Vec<Stmt> {
    let file = ok(&format!("program P {{\n{body}\n}}\n"));
    match file.items.into_iter().next().map(|i| i.kind) {
        Some(ItemKind::Program(p)) => p.body.stmts,
        other => panic!("not a program: {other:?}"),
    }
}

/// A statement in a compact text form.
fn st(s: &Stmt) -> String {
    let block = |b: &Block| format!("{{{}}}", b.stmts.iter().map(st).collect::<Vec<_>>().join("; "));
    match &s.kind {
        StmtKind::Let { name, value } => format!("let {} {}", name.name, sx(value)),
        StmtKind::Assign { target, value } => format!("set {} {}", sx(target), sx(value)),
        StmtKind::If { arms, otherwise } => {
            let mut out: Vec<String> = arms.iter().map(|(c, b)| format!("if {} {}", sx(c), block(b))).collect();
            if let Some(b) = otherwise {
                out.push(format!("else {}", block(b)));
            }
            out.join(" ")
        }
        StmtKind::While { cond, body } => format!("while {} {}", sx(cond), block(body)),
        StmtKind::For { var, iter, body } => format!("for {} {} {}", var.name, sx(iter), block(body)),
        StmtKind::Return => "return".into(),
        StmtKind::Expr(e) => sx(e),
    }
}

fn kind_name(item: &Item) -> &'static str {
    match item.kind {
        ItemKind::Task(_) => "task",
        ItemKind::World(_) => "world",
        ItemKind::Input(_) => "input",
        ItemKind::Expect(_) => "expect",
        ItemKind::Program(_) => "program",
        ItemKind::Question(_) => "question",
        ItemKind::Learn(_) => "learn",
        ItemKind::Entry(_) => "entry",
    }
}

// ---- whole files ------------------------------------------------------------

#[test]
fn parses_the_npl_md_example() {
    let file = ok(NPL_MD_EXAMPLE);
    let kinds: Vec<_> = file.items.iter().map(kind_name).collect();
    assert_eq!(kinds, ["task", "world", "input", "expect", "program", "program", "program", "program", "learn"]);
}

#[test]
fn parses_every_stdlib_file_without_diagnostics() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../stdlib");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).expect("stdlib directory") {
        let path = entry.expect("stdlib entry").path();
        if path.extension().is_none_or(|e| e != "npl") {
            continue;
        }
        let src = std::fs::read_to_string(&path).expect("readable stdlib file");
        let (file, diags) = parse(&src);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(diags.is_empty(), "{}", crate::render_all(&diags, &name, &src));
        // Every line that starts with an item keyword became an item.
        let expected = src
            .lines()
            .filter(|l| super::ctx::ITEM_KEYWORDS.iter().any(|k| l.split([' ', '(']).next() == Some(*k)))
            .count();
        assert_eq!(file.items.len(), expected, "{name}");
        let known = match name.as_str() {
            "add.npl" => Some(9),
            "bubblesort.npl" => Some(12),
            _ => None,
        };
        if let Some(n) = known {
            assert_eq!(file.items.len(), n, "{name}");
        }
        seen += 1;
    }
    assert!(seen >= 2);
}

#[test]
fn empty_and_comment_only_files() {
    assert!(ok("").items.is_empty());
    assert!(ok("\n\n  // nothing here\n").items.is_empty());
    assert!(ok("// no newline at the end").items.is_empty());
}

#[test]
fn byte_order_mark_is_skipped() {
    let src = "\u{feff}task add\n";
    let file = ok(src);
    assert_eq!(file.items[0].span.text(src), "task add");
}

#[test]
fn items_in_any_order_with_crlf_line_ends() {
    let file = ok("entry MAIN\r\nprogram MAIN { STEP() }\r\ntask t\r\n");
    let kinds: Vec<_> = file.items.iter().map(kind_name).collect();
    assert_eq!(kinds, ["entry", "program", "task"]);
}

// ---- expressions --------------------------------------------------------------

#[test]
fn precedence_follows_npl_md() {
    assert_eq!(expr("0..a + 1"), "(.. 0 (+ a 1))");
    assert_eq!(expr("a || b && c"), "(|| a (&& b c))");
    assert_eq!(expr("a && b || c"), "(|| (&& a b) c)");
    assert_eq!(expr("-x * y"), "(* (- x) y)");
    assert_eq!(expr("!at_end(k)"), "(! (call at_end k))");
    assert_eq!(expr("a + b * c - d % e"), "(- (+ a (* b c)) (% d e))");
    assert_eq!(expr("a - b - c"), "(- (- a b) c)");
    assert_eq!(expr("a + 1 < b * 2"), "(< (+ a 1) (* b 2))");
}

#[test]
fn comparisons_bind_looser_than_arithmetic() {
    assert_eq!(expr("read_number(row: 3) == a + b"), "(== (call read_number row:3) (+ a b))");
    assert_eq!(expr("in1 != blank || carry != blank"), "(|| (!= in1 blank) (!= carry blank))");
    assert_eq!(expr("pos(lo) >= pos(hi)"), "(>= (call pos lo) (call pos hi))");
    assert_eq!(expr("a <= b && c > d"), "(&& (<= a b) (> c d))");
}

#[test]
fn ranges_and_floats() {
    assert_eq!(expr("1..=10"), "(..= 1 10)");
    assert_eq!(expr("0..10"), "(.. 0 10)");
    assert_eq!(expr("0..n - 1"), "(.. 0 (- n 1))");
    assert_eq!(expr("3e-4"), "3e-4");
    assert_eq!(expr("0.5"), "5e-1");
    assert_eq!(expr("2E+3"), "2e3");
    assert_eq!(expr("1.5..2.5"), "(.. 1.5e0 2.5e0)");
}

#[test]
fn literals() {
    assert_eq!(expr("123456789012345678901234567890"), "123456789012345678901234567890");
    assert_eq!(expr("[true, false, blank, left, right]"), "[true false blank left right]");
    assert_eq!(expr("\"Sum of {col}\""), "\"Sum of {col}\"");
    assert_eq!(expr("\"a\\\"b\\\\c\""), "\"a\\\"b\\\\c\"");
    assert_eq!(expr("[]"), "[]");
    assert_eq!(expr("[20, 100, 1000,]"), "[20 100 1000]");
}

#[test]
fn postfix_calls_and_indexing() {
    assert_eq!(expr("f()"), "(call f)");
    assert_eq!(expr("write_number(row: 0, a)"), "(call write_number row:0 a)");
    assert_eq!(expr("random_list(n, 0..10)"), "(call random_list n (.. 0 10))");
    assert_eq!(expr("mem[i + 1][j]"), "(index (index mem (+ i 1)) j)");
    assert_eq!(expr("-mem[i]"), "(- (index mem i))");
    assert_eq!(expr("(a + b) * c"), "(* (+ a b) c)");
    assert_eq!(expr("!!x"), "(! (! x))");
    assert_eq!(expr("- -x"), "(- (- x))");
}

#[test]
fn newlines_inside_brackets_and_after_operators() {
    assert_eq!(expr("f(a,\n  b)"), "(call f a b)");
    assert_eq!(expr("[1,\n 2\n]"), "[1 2]");
    assert_eq!(expr("a +\n  b"), "(+ a b)");
    assert_eq!(expr("a ||\n // why\n b"), "(|| a b)");
    assert_eq!(expr("(a\n + b)"), "(+ a b)");
}

#[test]
fn expression_spans_are_byte_ranges() {
    let src = "expect a + f(b, c)\n";
    let file = ok(src);
    let ItemKind::Expect(e) = &file.items[0].kind else { panic!() };
    assert_eq!(e.span.text(src), "a + f(b, c)");
    let ExprKind::Binary { rhs, .. } = &e.kind else { panic!() };
    assert_eq!(rhs.span.text(src), "f(b, c)");
    assert_eq!(file.items[0].span.text(src), "expect a + f(b, c)");
    let src = "expect (a + b) * c";
    let ItemKind::Expect(e) = &ok(src).items[0].kind else { panic!() };
    let ExprKind::Binary { lhs, .. } = &e.kind else { panic!() };
    assert_eq!(lhs.span.text(src), "(a + b)");
}

// ---- statements ---------------------------------------------------------------

#[test]
fn every_statement_kind() {
    let body = r#"
  let s = digit(in1) + 1
  s = s % 10
  mem[i] = 0
  if s >= 10 { CARRY() } else if s > 5 { HALF() } else { NONE() }
  while !at_end(k) { BUBBLE(); RESET() }
  for i in 0..n {
    STEP(i)
  }
  return
  write(out, s)
"#;
    let got: Vec<String> = stmts(body).iter().map(st).collect();
    assert_eq!(
        got,
        [
            "let s (+ (call digit in1) 1)",
            "set s (% s 10)",
            "set (index mem i) 0",
            "if (>= s 10) {(call CARRY)} if (> s 5) {(call HALF)} else {(call NONE)}",
            "while (! (call at_end k)) {(call BUBBLE); (call RESET)}",
            "for i (.. 0 n) {(call STEP i)}",
            "return",
            "(call write out s)",
        ]
    );
}

#[test]
fn else_may_start_the_next_line() {
    let got: Vec<String> = stmts("if a {\n  A()\n}\nelse {\n  B()\n}\nC()").iter().map(st).collect();
    assert_eq!(got, ["if a {(call A)} else {(call B)}", "(call C)"]);
}

#[test]
fn semicolons_comments_and_blank_lines() {
    let got: Vec<String> = stmts("A(); B() ;; C() // done\n\n  // alone\n;D()").iter().map(st).collect();
    assert_eq!(got, ["(call A)", "(call B)", "(call C)", "(call D)"]);
}

#[test]
fn statement_spans() {
    let src = "program P {\n  let x = f(1)\n  if x { A() }\n}\n";
    let file = ok(src);
    let ItemKind::Program(p) = &file.items[0].kind else { panic!() };
    let texts: Vec<&str> = p.body.stmts.iter().map(|s| s.span.text(src)).collect();
    assert_eq!(texts, ["let x = f(1)", "if x { A() }"]);
    assert_eq!(p.body.span.text(src), &src[10..src.len() - 1]);
    assert_eq!(file.items[0].span.text(src), src.trim_end());
}

// ---- items --------------------------------------------------------------------

#[test]
fn programs_with_and_without_parameters() {
    let file = ok("program A { B() }\nprogram B() { }\nprogram CARRY(c, d,) {\n  C(c)\n}\nprogram D\n{\n  E()\n}\n");
    let params: Vec<Vec<String>> = file
        .items
        .iter()
        .map(|i| match &i.kind {
            ItemKind::Program(p) => p.params.iter().map(|x| x.name.clone()).collect(),
            _ => panic!(),
        })
        .collect();
    assert_eq!(params, [vec![], vec![], vec!["c".to_string(), "d".to_string()], vec![]]);
}

#[test]
fn world_declarations() {
    let src = "world scratchpad(rows: 1, cols: n + 1, base: 10) {\n  pointer i on row 0 at left\n  pointer j on row n - 1 at right\n  pointer k on row 0 at 1\n  observe pos(i) >= pos(j)\n  column price values: 0..100\n  register r\n}\nworld tape(size: 8)\n";
    let file = ok(src);
    let ItemKind::World(w) = &file.items[0].kind else { panic!() };
    assert_eq!(w.kind.name, "scratchpad");
    assert_eq!(w.args.len(), 3);
    assert_eq!(w.decls.len(), 6);
    match &w.decls[0].kind {
        WorldDeclKind::Pointer { name, row, start: PointerStart::Left(_) } => {
            assert_eq!((name.name.as_str(), sx(row).as_str()), ("i", "0"))
        }
        other => panic!("{other:?}"),
    }
    match &w.decls[1].kind {
        WorldDeclKind::Pointer { row, start: PointerStart::Right(_), .. } => assert_eq!(sx(row), "(- n 1)"),
        other => panic!("{other:?}"),
    }
    match &w.decls[2].kind {
        WorldDeclKind::Pointer { start: PointerStart::Column(c), .. } => assert_eq!(sx(c), "1"),
        other => panic!("{other:?}"),
    }
    match &w.decls[3].kind {
        WorldDeclKind::Observe(e) => assert_eq!(sx(e), "(>= (call pos i) (call pos j))"),
        other => panic!("{other:?}"),
    }
    match &w.decls[4].kind {
        WorldDeclKind::Other { keyword, names, args } => {
            assert_eq!(keyword.name, "column");
            assert_eq!(names.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(), ["price"]);
            assert_eq!(args.len(), 1);
            assert_eq!(args[0].name.as_ref().map(|n| n.name.as_str()), Some("values"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(w.decls[0].span.text(src), "pointer i on row 0 at left");
    let ItemKind::World(tape) = &file.items[1].kind else { panic!() };
    assert!(tape.decls.is_empty());
}

#[test]
fn learn_settings() {
    let src = "learn npi {\n  train sizes 1..=10, traces 64\n  test sizes [20, 100, 1000]\n  return: after_call\n  lr 3e-4, steps 20000,\n    seed 7\n  shuffle true, verbose\n  modules: program, entry: program\n}\n";
    let file = ok(src);
    let ItemKind::Learn(l) = &file.items[0].kind else { panic!() };
    assert_eq!(l.learner.name, "npi");
    let lines: Vec<Vec<String>> = l
        .lines
        .iter()
        .map(|line| {
            line.clauses
                .iter()
                .map(|c| {
                    let words: Vec<&str> = c.words.iter().map(|w| w.name.as_str()).collect();
                    match &c.value {
                        Some(v) => format!("{}={}", words.join("_"), sx(v)),
                        None => words.join("_"),
                    }
                })
                .collect()
        })
        .collect();
    assert_eq!(
        lines,
        [
            vec!["train_sizes=(..= 1 10)", "traces=64"],
            vec!["test_sizes=[20 100 1000]"],
            vec!["return=after_call"],
            vec!["lr=3e-4", "steps=20000", "seed=7"],
            vec!["shuffle=true", "verbose"],
            vec!["modules=program", "entry=program"],
        ]
    );
    assert_eq!(l.lines[5].clauses[0].span.text(src), "modules: program");
    // A keyword that does not end the clause is still not a value.
    assert!(!messages("learn nram {\n  modules: program + 1\n}\n").is_empty());
    assert_eq!(l.lines[0].clauses[0].span.text(src), "train sizes 1..=10");
    assert_eq!(l.lines[0].span.text(src), "train sizes 1..=10, traces 64");
}

#[test]
fn question_input_task_entry() {
    let src = "task sums\ninput(n) {\n  let t = random_table(n)\n}\nquestion \"Sum of {col}\" { sum(col) }\nquestion \"Spread of {col}\" {\n  max(col) - min(col)\n}\nentry MAIN\n";
    let file = ok(src);
    let ItemKind::Task(t) = &file.items[0].kind else { panic!() };
    assert_eq!(t.name, "sums");
    let ItemKind::Input(input) = &file.items[1].kind else { panic!() };
    assert_eq!((input.param.name.as_str(), input.body.stmts.len()), ("n", 1));
    let ItemKind::Question(q) = &file.items[2].kind else { panic!() };
    assert_eq!(q.template, "Sum of {col}");
    assert_eq!(q.template_span.text(src), "\"Sum of {col}\"");
    let ItemKind::Question(q) = &file.items[3].kind else { panic!() };
    assert_eq!(st(&q.body.stmts[0]), "(- (call max col) (call min col))");
    let ItemKind::Entry(e) = &file.items[4].kind else { panic!() };
    assert_eq!(e.name, "MAIN");
}

#[test]
fn question_templates_holes_and_where() {
    let src = "question \"sum of {x}\" | \"total {x}\"\n  | \"add {x}\"\n  (x: column, v: 0..=9, t: word of city) { sum(x where y > v && city == t) - count(where (y < v)) }\n";
    let file = ok(src);
    let ItemKind::Question(q) = &file.items[0].kind else { panic!() };
    let templates: Vec<&str> = q.templates.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(templates, ["sum of {x}", "total {x}", "add {x}"]);
    assert_eq!(q.templates[1].1.text(src), "\"total {x}\"");
    let holes: Vec<(&str, &str)> = q.holes.iter().map(|h| (h.name.name.as_str(), h.span.text(src))).collect();
    assert_eq!(holes, [("x", "x: column"), ("v", "v: 0..=9"), ("t", "t: word of city")]);
    assert!(matches!(&q.holes[2].kind, crate::ast::HoleKind::Word { column } if column.name == "city"));
    let StmtKind::Expr(e) = &q.body.stmts[0].kind else { panic!() };
    assert_eq!(e.to_string(), "sum(x where y > v && city == t) - count(where y < v)");
    // `where: 3` stays an ordinary named argument.
    let file = ok("expect f(where: 3)\n");
    let ItemKind::Expect(e) = &file.items[0].kind else { panic!() };
    assert_eq!(e.to_string(), "f(where 3)");
}

// ---- errors -------------------------------------------------------------------

#[test]
fn error_messages() {
    let cases: &[(&str, &str)] = &[
        ("program ADD {\n  ADD1(a, b\n}\n", "expected `)` to close the argument list, found `}`"),
        ("program ADD {\n  let x = a +\n}\n", "expected an expression after `+`, found `}`"),
        ("program ADD {\n  let x = \"abc\n}\n", "unterminated string"),
        ("program ADD {\n  let while = 1\n}\n", "`while` is a keyword and cannot name a variable"),
        ("program ADD {\n  while = 1\n}\n", "`while` is a keyword and cannot name a variable"),
        ("program ADD {\n  for in in xs { A() }\n}\n", "`in` is a keyword and cannot name a loop variable"),
        ("program F(left) { A() }\n", "`left` is a keyword and cannot name a parameter"),
        ("program while { A() }\n", "`while` is a keyword and cannot name a program"),
        ("program ADD\n  ADD1()\n", "expected `{` to open the body of program `ADD`, found `ADD1`"),
        ("programm ADD { }\n", "unknown item `programm`"),
        (
            "world scratchpad(rows: 1) {\n  pointer p at left\n}\n",
            "expected `on row` after the pointer name, found `at`",
        ),
        ("world scratchpad(rows: 1) {\n  pointer p on 0 at left\n}\n", "expected `row` after `on`, found `0`"),
        (
            "world scratchpad(rows: 1) {\n  pointer p on row 0\n}\n",
            "expected `at` and where the pointer starts after the row, found end of line",
        ),
        ("learn npi {\n  return:\n}\n", "expected a value after `return:`, found end of line"),
        ("learn npi {\n  traces 64,\n}\n", "expected a setting after `,`, found `}`"),
        ("learn npi {\n  traces = 64\n}\n", "expected a value for `traces`, found `=`"),
        ("}\n", "unmatched `}`"),
        ("{\n", "expected an item, found `{`"),
        ("expect a $ b\n", "unexpected character `$`"),
        ("expect a < b < c\n", "comparison operators cannot be chained"),
        ("expect 0..1..2\n", "ranges cannot be chained"),
        ("expect f(a b)\n", "expected `)` to close the argument list, found `b`"),
        ("expect [1, 2\n", "expected `]` to close the list, found end of file"),
        ("expect (1 + 2\n", "expected `)` to close the parentheses, found end of file"),
        ("expect mem[1\n", "expected `]` to close the index, found end of file"),
        ("expect\n", "expected an expression after `expect`, found end of line"),
        ("expect 10m\n", "invalid number `10m`"),
        ("expect \"a\\qb\"\n", "unknown escape `\\q` in a string"),
        ("task\n", "expected a task name after `task`, found end of line"),
        ("task add more\n", "expected the end of the line, found `more`"),
        ("input {\n}\n", "expected `(` after `input`, found `{`"),
        ("input(n, m) {\n}\n", "expected `)` after the size parameter, found `,`"),
        ("program P {\n  s == 10\n}\n", "expected a statement, found an expression"),
        ("program P {\n  x\n}\n", "expected a statement, found the name `x`"),
        ("program P {\n  f(x) = 1\n}\n", "expected a variable or an indexed cell before `=`, found a call"),
        ("program P {\n  else { A() }\n}\n", "`else` without an `if`"),
        ("program P {\n  if x = 1 { A() }\n}\n", "expected `{` to open the `if` branch, found `=`"),
        ("program P {\n  while { A() }\n}\n", "expected a condition after `while`, found `{`"),
        ("program P {\n  for i 0..3 { A() }\n}\n", "expected `in` after `for i`, found `0`"),
        ("program P {\n  A() B()\n}\n", "expected the end of the statement, found `B`"),
        ("program P {\n  x += 1\n}\n", "expected an expression after `+`, found `=`"),
        ("program P {\n  A()\n", "expected `}` to close the body of program `P`, found end of file"),
        ("world {\n}\n", "expected a world kind after `world`, found `{`"),
        ("question { x }\n", "expected a template string after `question`, found `{`"),
        ("question \"a\" | { x }\n", "expected another template string after `|`, found `{`"),
        ("question \"a {x}\" (x column) { x }\n", "expected `:` and the kind of hole `x`, found `column`"),
        ("question \"a {x}\" (x: word of) { x }\n", "expected a word column after `word of`, found `)`"),
        ("question \"a {x}\" (x: column y: column) { x }\n", "expected `)` to close the holes, found `y`"),
        ("question \"a\" { sum(a where) }\n", "expected a condition after `where`, found `)`"),
        ("learn {\n}\n", "expected a learner name after `learn`, found `{`"),
        ("expect a & b\n", "unexpected character `&`"),
    ];
    for (src, want) in cases {
        let got = messages(src);
        assert_eq!(got.first().map(String::as_str), Some(*want), "for {src:?}, all: {got:?}");
    }
}

#[test]
fn messages_are_lowercase_without_final_period() {
    let srcs = ["programm X {}\n", "program P {\n  A(\n}\n", "expect 1 +\n", "}\n", "task\n", "expect \"x\n"];
    for src in srcs {
        for d in parse(src).1 {
            assert!(!d.message.ends_with('.'), "{}", d.message);
            assert!(!d.message.starts_with(|c: char| c.is_uppercase()), "{}", d.message);
            assert!(d.span.is_some() && d.span_label.is_some(), "{d:?}");
        }
    }
}

#[test]
fn suggestions_for_misspelled_items() {
    let hint = |src: &str| one_error(src).hints.first().cloned().unwrap_or_default();
    assert_eq!(hint("programm ADD { }\n"), "did you mean `program`?");
    assert_eq!(hint("Program ADD { }\n"), "did you mean `program`?");
    assert_eq!(hint("tsk add\n"), "did you mean `task`?");
    assert_eq!(hint("lern npi { }\n"), "did you mean `learn`?");
    assert_eq!(hint("expcet 1\n"), "did you mean `expect`?");
    assert!(hint("banana 1\n").starts_with("an item starts with"));
    assert!(hint("move(a, left)\n").starts_with("statements belong inside"));
}

#[test]
fn carets_point_where_the_missing_token_belongs() {
    // Missing `)` at the end of a line: right after `b`, not under the `}`.
    let src = "program ADD {\n  ADD1(a, b\n}\n";
    let d = one_error(src);
    let at = src.find("b\n").unwrap() + 1;
    assert_eq!(d.span, Some(crate::Span::at(at)));
    // Something wrong on the same line: under it.
    let src = "expect f(a b)\n";
    let d = one_error(src);
    assert_eq!(d.span.map(|s| s.text(src)), Some("b"));
}

#[test]
fn recovers_at_the_next_item() {
    let src = "task\nprogramm A {\n  B(\n}\nprogram OK {\n  C()\n}\nworld scratchpad(rows: 1) {\n  pointer p at left\n}\nentry OK\n";
    let (file, diags) = parse(src);
    assert_eq!(
        diags.iter().map(|d| d.message.as_str()).collect::<Vec<_>>(),
        [
            "expected a task name after `task`, found end of line",
            "unknown item `programm`",
            "expected `on row` after the pointer name, found `at`",
        ]
    );
    let kinds: Vec<_> = file.items.iter().map(kind_name).collect();
    assert_eq!(kinds, ["program", "world", "entry"]);
}

#[test]
fn recovers_at_the_next_statement() {
    let src = "program P {\n  let a = 1 +\n  while x + { A() }\n  B(\n  C()\n  D()\n}\nprogram Q { E() }\n";
    let (file, diags) = parse(src);
    // `let a = 1 +` continues on the next line (`+` at the end of a line)
    // and finds `while`; the `while` line is parsed on its own and fails at
    // `{`; `B(` swallows `C()` as its argument and fails at `D`, which is
    // parsed again as the next statement.
    assert_eq!(
        diags.iter().map(|d| d.message.as_str()).collect::<Vec<_>>(),
        [
            "expected an expression after `+`, found `while`",
            "expected an expression after `+`, found `{`",
            "expected `)` to close the argument list, found `D`",
        ]
    );
    let names: Vec<_> = file
        .items
        .iter()
        .map(|i| match &i.kind {
            ItemKind::Program(p) => (p.name.name.clone(), p.body.stmts.iter().map(st).collect::<Vec<_>>()),
            _ => panic!(),
        })
        .collect();
    assert_eq!(
        names,
        [("P".to_string(), vec!["(call D)".to_string()]), ("Q".to_string(), vec!["(call E)".to_string()])]
    );
}

#[test]
fn a_failed_line_skips_the_block_it_opened() {
    let src = "program P {\n  while x + {\n    A()\n  }\n  B()\n}\n";
    let (file, diags) = parse(src);
    assert_eq!(diags.len(), 1, "{diags:?}");
    let ItemKind::Program(p) = &file.items[0].kind else { panic!() };
    assert_eq!(p.body.stmts.iter().map(st).collect::<Vec<_>>(), ["(call B)"]);
}

#[test]
fn unclosed_block_stops_at_the_next_item() {
    let src = "program A {\n  while x {\n    B()\n}\n\nprogram B {\n  C()\n}\n";
    let (file, diags) = parse(src);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].message, "expected `}` to close the body of program `A`, found `program`");
    assert_eq!(diags[0].labels[0].message, "this `{` is never closed");
    assert_eq!(file.items.len(), 1);
    assert_eq!(kind_name(&file.items[0]), "program");
}

#[test]
fn odd_inputs_do_not_panic() {
    for src in [
        "{",
        "}",
        "(",
        ")",
        "[",
        "\"",
        "//",
        "\n\n\n",
        ";",
        "program",
        "program P {",
        "expect",
        "expect -",
        "é",
        "\u{0}",
    ] {
        let (_, diags) = parse(src);
        for d in &diags {
            let _ = d.render("x.npl", src);
        }
    }
    assert!(!parse("{").1.is_empty());
    assert!(!parse("}").1.is_empty());
}

// ---- nesting limit ----------------------------------------------------------

#[test]
fn nesting_up_to_the_limit_parses() {
    let depth = super::ctx::MAX_DEPTH - 1;
    ok(&format!("expect {}1{}\n", "(".repeat(depth), ")".repeat(depth)));
    ok(&format!("expect {}1{}\n", "[".repeat(depth), "]".repeat(depth)));
    ok(&format!("expect {}x\n", "!".repeat(depth)));
    ok(&format!("expect 1{}\n", " + 1".repeat(depth)));
    let mut prog = String::from("program P {\n");
    for _ in 0..depth - 1 {
        prog.push_str("if x {\n");
    }
    prog.push_str("A()\n");
    for _ in 0..depth - 1 {
        prog.push_str("}\n");
    }
    prog.push_str("}\n");
    ok(&prog);
}

#[test]
fn nesting_past_the_limit_is_one_error() {
    let deep = 10_000;
    let cases = [
        format!("expect {}1{}\nentry A\n", "(".repeat(deep), ")".repeat(deep)),
        format!("expect {}1{}\nentry A\n", "f(".repeat(deep), ")".repeat(deep)),
        format!("expect {}x\nentry A\n", "-".repeat(deep)),
        format!("expect 1{}\nentry A\n", " * 2".repeat(deep)),
        format!("expect x{}\nentry A\n", "[0]".repeat(deep)),
        format!("program P {{\n{}\n}}\nentry A\n", "while x {\n".repeat(deep)),
    ];
    for src in &cases {
        let (file, diags) = parse(src);
        assert_eq!(diags.len(), 1, "{:?}", diags.iter().map(|d| &d.message).collect::<Vec<_>>());
        assert_eq!(diags[0].message, "this is nested too deeply");
        // Parsing goes on after the deep item.
        assert!(matches!(file.items.last().map(|i| &i.kind), Some(ItemKind::Entry(_))));
    }
}

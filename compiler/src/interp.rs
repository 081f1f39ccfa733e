//! The interpreter: evaluates IR expressions, runs the `input` block and the
//! reference programs over a [`Pad`], and records the trace.
//!
//! Programs run on an explicit frame stack (a `Vec` of `(proc, pc, slot
//! base)` records over one shared `Vec` of locals), never on the Rust stack,
//! so recursion is bounded only by [`Limits::max_depth`]. Every instruction
//! counts against [`Limits::max_steps`], which is how an endless loop ends in
//! an error instead of a hang.
//!
//! Size: every value a run builds is checked against [`Limits::max_int_bits`]
//! and [`Limits::max_list_len`] before it is built and charged to the run's
//! [`Meter`], which also holds the bytes of the pad, the trace and the
//! frames against [`Limits::max_memory`]. With each value bounded, each step
//! is bounded in time too, so `max_steps` bounds a run's time. The trace
//! and the frames are reported to the meter once per [`BATCH`] recorded
//! steps, for a bound on all of them (see [`Machine::reserve`]).
//!
//! Recording: each call of a program or action is one [`Step`] of the caller
//! with the observation taken just before the call runs. A frame's steps are
//! buffered on a pending stack (a child's steps sit above its parent's) and
//! moved into the trace when the frame ends, so every frame's steps are
//! contiguous in [`Trace::steps`].
//!
//! [`Trace::steps`]: crate::Trace::steps

use crate::error::{Fault, FaultResult, RunError, RunErrorKind};
use crate::ir::{ActArg, Action, Arg, Cmp, Expr, Func, Instr, Limits, Module, ObserveKind, Proc, Ptr};
use crate::tape::Tape;
use crate::task::{Call, EndConvention, Frame, ProgramId, Step, ACT, NO_ARG, NO_ARGS};
use crate::value::{self, Arith, Dir, Meter, OpError, Value};
use crate::world::{Pad, BLANK};
use num_bigint::BigUint;
use num_bigint::{BigInt, Sign};
use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use std::cmp::Ordering;
use synth_dsl::Span;

/// The RNG of one sampled input; seeded from `(size, seed)` alone.
pub(crate) type Rng = ChaCha8Rng;

/// A ChaCha8 stream keyed by the size and the seed, so that an input is the
/// same on every run and machine, and different sizes draw independent
/// inputs for the same seed.
pub(crate) fn seeded_rng(size: usize, seed: u64) -> Rng {
    use rand::SeedableRng;
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&(size as u64).to_le_bytes());
    key[16..24].copy_from_slice(b"synthNPL");
    ChaCha8Rng::from_seed(key)
}

/// A uniform integer in `0..bound` (`bound > 0`), by rejection, so the result
/// depends only on the ChaCha stream and not on a library's sampling code.
pub(crate) fn uniform_below(rng: &mut Rng, bound: u64) -> u64 {
    let zone = u64::MAX - (u64::MAX - bound + 1) % bound;
    loop {
        let x = rng.next_u64();
        if x <= zone {
            return x % bound;
        }
    }
}

/// What an expression sees.
pub(crate) struct Cx<'a> {
    pub pad: &'a Pad,
    /// The tape of a tape world (empty in a scratchpad).
    pub tape: &'a Tape,
    pub locals: &'a [Value],
    /// Names of the locals, for messages.
    pub names: &'a [String],
    pub rng: Option<&'a mut Rng>,
    /// The run's size limits and memory account.
    pub meter: &'a Meter,
}

impl Cx<'_> {
    #[inline]
    fn ptr(&self, p: Ptr) -> FaultResult<usize> {
        match p {
            Ptr::Fixed(i) => Ok(i as usize),
            Ptr::Param(s) => match self.locals[s as usize] {
                Value::Ptr(i) => Ok(i as usize),
                ref other => Err(Fault::new(
                    RunErrorKind::Value,
                    format!("parameter `{}` should hold a pointer but holds {}", self.slot_name(s), other.describe()),
                )),
            },
        }
    }

    fn slot_name(&self, s: u16) -> &str {
        self.names.get(s as usize).map_or("?", |n| n.as_str())
    }

    /// How to name an operand in a message: "pointer `in1`", "variable `s`",
    /// and where it is.
    fn operand(&self, e: &Expr) -> Option<(String, String, Span)> {
        match e {
            Expr::Cell(p, span) => {
                let i = self.ptr(*p).ok()?;
                let name = self.pad.ptr_names[i].clone();
                Some((format!("pointer `{name}`"), name, *span))
            }
            Expr::Local(s, span) => {
                let name = self.slot_name(*s).to_string();
                Some((format!("variable `{name}`"), name, *span))
            }
            _ => None,
        }
    }
}

#[inline]
pub(crate) fn eval(e: &Expr, cx: &mut Cx) -> FaultResult<Value> {
    Ok(match e {
        Expr::Const(v) => v.clone(),
        Expr::Local(s, _) => cx.locals[*s as usize].clone(),
        Expr::Cell(p, _) => cx.pad.cell_value(cx.ptr(*p)?),
        Expr::Digit(p) => {
            let c = cx.pad.cell(cx.ptr(*p)?);
            Value::Int(if c == BLANK { 0 } else { c as i64 })
        }
        Expr::Pos(p) => Value::Int(cx.pad.ptr_col[cx.ptr(*p)?] as i64),
        Expr::AtStart(p) => Value::Bool(cx.pad.at_start(cx.ptr(*p)?)),
        Expr::AtEnd(p) => Value::Bool(cx.pad.at_end(cx.ptr(*p)?)),
        Expr::Angle(p, target) => {
            let i = cx.ptr(*p)? + 2 * *target as usize;
            match cx.pad.degrees(i) {
                Some(d) => Value::Int(d as i64),
                None => return Err(Fault::new(RunErrorKind::World, "only a pose world has angles")),
            }
        }
        Expr::Not(a) => Value::Bool(!eval_bool(a, cx)?),
        Expr::And(a, b) => Value::Bool(eval_bool(a, cx)? && eval_bool(b, cx)?),
        Expr::Or(a, b) => Value::Bool(eval_bool(a, cx)? || eval_bool(b, cx)?),
        Expr::Neg(a, span) => {
            let v = eval(a, cx)?;
            let r = value::neg(&v).map_err(|_| not_int(cx, a, &v, "-", *span, false))?;
            cx.meter.release(&v);
            cx.meter.charge_value(&r).map_err(|f| f.at(*span))?;
            r
        }
        Expr::Arith(op, a, b, span) => {
            let x = eval(a, cx)?;
            let y = eval(b, cx)?;
            match value::arith(*op, &x, &y, cx.meter.limits.max_int_bits) {
                Ok(v) => {
                    // The operands are temporaries: credit them as they go.
                    cx.meter.release(&x);
                    cx.meter.release(&y);
                    cx.meter.charge_value(&v).map_err(|f| f.at(*span))?;
                    v
                }
                Err(OpError::TooBig(bits)) => return Err(cx.meter.too_big(bits).at(*span)),
                Err(OpError::DivByZero) => {
                    let what = if *op == Arith::Div { "division" } else { "remainder" };
                    return Err(Fault::new(RunErrorKind::Value, format!("{what} by zero"))
                        .label(format!("the right side of `{}` is 0", op.symbol()))
                        .at(*span));
                }
                Err(OpError::NotInt) => {
                    let (bad, v) = if x.is_int() { (b, &y) } else { (a, &x) };
                    return Err(not_int(cx, bad, v, op.symbol(), *span, false));
                }
            }
        }
        Expr::Compare(op, a, b, span) => {
            let x = eval(a, cx)?;
            let y = eval(b, cx)?;
            let r = compare(*op, &x, &y).map_err(|_| {
                let (bad, v) = if x.is_int() { (b, &y) } else { (a, &x) };
                not_int(cx, bad, v, op.symbol(), *span, true)
            })?;
            cx.meter.release(&x);
            cx.meter.release(&y);
            Value::Bool(r)
        }
        Expr::Range(a, b, inclusive, span) => {
            let lo = eval(a, cx)?;
            let hi = eval(b, cx)?;
            let hi = if *inclusive {
                value::arith(Arith::Add, &hi, &Value::Int(1), cx.meter.limits.max_int_bits.saturating_add(1))
            } else {
                Ok(hi)
            };
            match (lo.as_i64(), hi.as_ref().ok().and_then(Value::as_i64)) {
                (Some(lo), Some(hi)) => Value::Range(lo, hi.max(lo)),
                _ => match (lo.to_big(), hi.ok().and_then(|h| h.to_big())) {
                    (Some(lo), Some(hi)) => {
                        let hi = hi.max(lo.clone());
                        let bytes = value::big_bytes(lo.bits()) + value::big_bytes(hi.bits());
                        cx.meter.charge(bytes).map_err(|f| f.at(*span))?;
                        Value::BigRange(std::sync::Arc::new((lo, hi)))
                    }
                    _ => return Err(Fault::new(RunErrorKind::Value, "range bounds must be integers").at(*span)),
                },
            }
        }
        Expr::List(items) => {
            cx.meter.list(items.len() as u64)?;
            let mut out = Vec::with_capacity(items.len());
            for it in items {
                out.push(eval(it, cx)?);
            }
            Value::list(out)
        }
        Expr::Index(base, index, span) => {
            let b = eval(base, cx)?;
            let i = eval(index, cx)?;
            let Value::List(items) = &b else {
                return Err(Fault::new(RunErrorKind::Value, format!("cannot index {}", b.describe())).at(*span));
            };
            match i.as_i64() {
                Some(k) if k >= 0 && (k as usize) < items.len() => {
                    let v = items[k as usize].clone();
                    cx.meter.release(&b);
                    v
                }
                _ => {
                    return Err(Fault::new(
                        RunErrorKind::Value,
                        format!("index {} is out of range for a list of length {}", i.describe(), items.len()),
                    )
                    .at(*span))
                }
            }
        }
        Expr::Mem(address, span) => {
            let a = eval(address, cx)?;
            cx.tape.read(&a).map_err(|f| f.at(*span))?
        }
        Expr::Call(f, args, span) => call(*f, args, cx).map_err(|f| f.at(*span))?,
    })
}

#[inline]
fn eval_bool(e: &Expr, cx: &mut Cx) -> FaultResult<bool> {
    match eval(e, cx)? {
        Value::Bool(b) => Ok(b),
        other => Err(Fault::new(RunErrorKind::Value, format!("expected a boolean, found {}", other.describe()))),
    }
}

#[inline]
fn compare(op: Cmp, x: &Value, y: &Value) -> Result<bool, OpError> {
    Ok(match op {
        Cmp::Eq => x == y,
        Cmp::Ne => x != y,
        Cmp::Lt => value::compare_ints(x, y)? == Ordering::Less,
        Cmp::Le => value::compare_ints(x, y)? != Ordering::Greater,
        Cmp::Gt => value::compare_ints(x, y)? == Ordering::Greater,
        Cmp::Ge => value::compare_ints(x, y)? != Ordering::Less,
    })
}

/// "pointer `in1` is on a blank cell, and `blank` cannot be used in `+`".
#[cold]
fn not_int(cx: &Cx, operand: &Expr, v: &Value, op: &str, span: Span, ordering: bool) -> Box<Fault> {
    let what = if ordering { format!("cannot be ordered with `{op}`") } else { format!("cannot be used in `{op}`") };
    if *v == Value::Blank {
        match cx.operand(operand) {
            Some((desc, name, at)) if desc.starts_with("pointer") => {
                let hint = if ordering {
                    format!("check `{name} != blank` before comparing")
                } else {
                    format!("use `digit({name})`, which reads blank as 0")
                };
                Fault::new(RunErrorKind::Value, format!("{desc} is on a blank cell, and `blank` {what}"))
                    .label(format!("`{name}` is blank here"))
                    .hint(hint)
                    .at(at)
            }
            Some((desc, name, at)) => Fault::new(RunErrorKind::Value, format!("{desc} holds `blank`, which {what}"))
                .label(format!("`{name}` is blank here"))
                .at(at),
            None => Fault::new(RunErrorKind::Value, format!("`blank` {what}")).at(span),
        }
    } else {
        Fault::new(RunErrorKind::Value, format!("`{op}` needs integers, found {}", v.describe())).at(span)
    }
}

fn list_arg(v: &Value, f: &str) -> FaultResult<std::sync::Arc<Vec<Value>>> {
    match v {
        Value::List(items) => Ok(items.clone()),
        other => Err(Fault::new(RunErrorKind::Value, format!("`{f}` takes a list, found {}", other.describe()))),
    }
}

/// A non-empty range to sample from: its start and its width.
enum Span64 {
    Small(i64, u64),
    Big(BigInt, BigUint),
}

impl Span64 {
    fn sample(&self, rng: &mut Rng) -> Value {
        match self {
            Span64::Small(lo, width) => Value::Int((*lo as i128 + uniform_below(rng, *width) as i128) as i64),
            Span64::Big(lo, width) => Value::from_big(lo + BigInt::from(uniform_big_below(rng, width))),
        }
    }
}

fn range_arg(v: &Value, f: &str) -> FaultResult<Span64> {
    let empty = |r: &Value| {
        Fault::new(RunErrorKind::Value, format!("`{f}` got the empty range {r}")).hint("write `a..b` with `a < b`")
    };
    match v {
        Value::Range(lo, hi) if hi > lo => Ok(Span64::Small(*lo, (*hi as i128 - *lo as i128) as u64)),
        Value::BigRange(r) if r.1 > r.0 => {
            let width = (&r.1 - &r.0).to_biguint().unwrap_or_default();
            Ok(Span64::Big(r.0.clone(), width))
        }
        Value::Range(..) | Value::BigRange(_) => Err(empty(v)),
        other => Err(Fault::new(RunErrorKind::Value, format!("`{f}` takes a range, found {}", other.describe()))),
    }
}

/// A uniform integer in `0..bound` (`bound > 0`) of any size, by rejection
/// over the bound's bit length.
fn uniform_big_below(rng: &mut Rng, bound: &BigUint) -> BigUint {
    let bits = bound.bits();
    let words = bits.div_ceil(64) as usize;
    let top_bits = bits - 64 * (words as u64 - 1);
    loop {
        let mut digits: Vec<u32> = Vec::with_capacity(words * 2);
        for w in 0..words {
            let mut x = rng.next_u64();
            if w + 1 == words && top_bits < 64 {
                x &= (1u64 << top_bits) - 1;
            }
            digits.push(x as u32);
            digits.push((x >> 32) as u32);
        }
        let x = BigUint::new(digits);
        if &x < bound {
            return x;
        }
    }
}

fn count_arg(v: &Value, f: &str, what: &str) -> FaultResult<usize> {
    const MAX: i64 = 10_000_000;
    match v.as_i64() {
        Some(k) if (0..=MAX).contains(&k) => Ok(k as usize),
        _ => Err(Fault::new(RunErrorKind::Value, format!("`{f}` needs a {what} in 0..={MAX}, found {}", v.describe()))),
    }
}

fn rng<'a>(cx: &'a mut Cx, f: &str) -> FaultResult<&'a mut Rng> {
    match cx.rng.as_deref_mut() {
        Some(r) => Ok(r),
        None => Err(Fault::new(RunErrorKind::Value, format!("`{f}` can only be used in `input`"))),
    }
}

fn call(f: Func, args: &[Expr], cx: &mut Cx) -> FaultResult<Value> {
    let mut vals: Vec<Value> = Vec::with_capacity(args.len());
    for a in args {
        vals.push(eval(a, cx)?);
    }
    let v = call_on(f, &vals, cx)?;
    // The arguments are temporaries: credit them as they go.
    for a in &vals {
        cx.meter.release(a);
    }
    Ok(v)
}

fn call_on(f: Func, vals: &[Value], cx: &mut Cx) -> FaultResult<Value> {
    Ok(match f {
        Func::RandomInt => {
            let range = range_arg(&vals[0], "random_int")?;
            range.sample(rng(cx, "random_int")?)
        }
        Func::RandomList => {
            let n = count_arg(&vals[0], "random_list", "length")?;
            let range = range_arg(&vals[1], "random_list")?;
            cx.meter.list(n as u64)?;
            // Elements from a range beyond i64 own their digits: charge them
            // all before drawing any.
            if let Span64::Big(lo, width) = &range {
                let each = value::big_bytes(lo.bits().max(width.bits()) + 1);
                cx.meter.charge(each.saturating_mul(n as u64))?;
            }
            let r = rng(cx, "random_list")?;
            Value::list((0..n).map(|_| range.sample(r)).collect())
        }
        Func::RandomNumber => {
            let n = count_arg(&vals[0], "random_number", "number of digits")?;
            if n == 0 {
                return Err(Fault::new(RunErrorKind::Value, "`random_number` needs at least 1 digit")
                    .hint("sizes start at 1, or write `random_number(digits: n + 1)`"));
            }
            let base = cx.pad.base as u64;
            // At most n * log2(base) bits, rounded up: refuse before drawing.
            let bits = (n as f64 * (base as f64).log2()).ceil() as u64;
            cx.meter.int_bits(bits)?;
            cx.meter.charge(n as u64 + value::big_bytes(bits))?;
            let r = rng(cx, "random_number")?;
            let mut digits: Vec<u8> = Vec::with_capacity(n);
            for i in 0..n {
                let d = if i == 0 && n > 1 { 1 + uniform_below(r, base - 1) } else { uniform_below(r, base) };
                digits.push(d as u8);
            }
            if bits <= 62 {
                Value::Int(digits.iter().fold(0i64, |acc, &d| acc * base as i64 + d as i64))
            } else {
                Value::from_big(BigInt::from_radix_be(Sign::Plus, &digits, base as u32).unwrap_or_default())
            }
        }
        Func::Len => Value::Int(list_arg(&vals[0], "len")?.len() as i64),
        Func::Min | Func::Max => {
            let name = if f == Func::Min { "min" } else { "max" };
            let list;
            let items: &[Value] = if vals.len() == 1 {
                list = list_arg(&vals[0], name)?;
                &list[..]
            } else {
                vals
            };
            let mut best: Option<&Value> = None;
            for v in items {
                best = Some(match best {
                    None => v,
                    Some(b) => {
                        let ord = value::compare_ints(v, b).map_err(|_| {
                            let bad = if v.is_int() { b } else { v };
                            Fault::new(
                                RunErrorKind::Value,
                                format!("`{name}` compares integers, found {}", bad.describe()),
                            )
                        })?;
                        if (f == Func::Min && ord == Ordering::Less) || (f == Func::Max && ord == Ordering::Greater) {
                            v
                        } else {
                            b
                        }
                    }
                });
            }
            match best {
                Some(b) if b.is_int() => b.clone(),
                Some(b) => {
                    return Err(Fault::new(
                        RunErrorKind::Value,
                        format!("`{name}` compares integers, found {}", b.describe()),
                    ))
                }
                None => return Err(Fault::new(RunErrorKind::Value, format!("`{name}` of an empty list"))),
            }
        }
        Func::Abs => value::abs(&vals[0]).map_err(|_| {
            Fault::new(RunErrorKind::Value, format!("`abs` takes an integer, found {}", vals[0].describe()))
        })?,
        Func::Sorted => {
            let items = list_arg(&vals[0], "sorted")?;
            cx.meter.list(items.len() as u64)?;
            let mut items = items.to_vec();
            value::sort_ints(&mut items)
                .map_err(|_| Fault::new(RunErrorKind::Value, "`sorted` sorts lists of integers".to_string()))?;
            Value::list(items)
        }
        Func::Reversed => {
            let items = list_arg(&vals[0], "reversed")?;
            cx.meter.list(items.len() as u64)?;
            let mut items = items.to_vec();
            items.reverse();
            Value::list(items)
        }
        Func::Repeat => {
            let items = list_arg(&vals[0], "repeat")?;
            let times = count_arg(&vals[1], "repeat", "number of copies")?;
            cx.meter.list((items.len() as u64).saturating_mul(times as u64))?;
            Value::list(items.iter().cloned().cycle().take(items.len() * times).collect())
        }
        Func::ReadNumber => cx.pad.read_number(cx.pad.row_index(&vals[0])?, cx.meter)?,
        Func::ReadList => cx.pad.read_list(cx.pad.row_index(&vals[0])?, cx.meter)?,
        Func::ReadTape => cx.tape.read_list(&vals[0], &vals[1], cx.meter)?,
        Func::RandomPermutation => {
            let n = count_arg(&vals[0], "random_permutation", "length")?;
            cx.meter.list(n as u64)?;
            let r = rng(cx, "random_permutation")?;
            let mut items: Vec<Value> = (0..n as i64).map(Value::Int).collect();
            shuffle(&mut items, r);
            Value::list(items)
        }
        Func::RandomDistinct => {
            let k = count_arg(&vals[0], "random_distinct", "count")?;
            let (lo, width) = match range_arg(&vals[1], "random_distinct")? {
                Span64::Small(lo, width) => (lo, width),
                Span64::Big(..) => {
                    return Err(Fault::new(
                        RunErrorKind::Value,
                        format!("`random_distinct` draws from a range of 64-bit integers, not {}", vals[1]),
                    ))
                }
            };
            if k as u64 > width {
                return Err(Fault::new(
                    RunErrorKind::Value,
                    format!("`random_distinct` cannot draw {k} distinct integers from {}, which holds {width}", vals[1]),
                )
                .hint("widen the range, or draw fewer integers"));
            }
            // The list, and Floyd's set of offsets beside it while it is drawn.
            cx.meter.list(k as u64)?;
            cx.meter.charge(64u64.saturating_mul(k as u64))?;
            let r = rng(cx, "random_distinct")?;
            let mut chosen = std::collections::BTreeSet::new();
            for j in width - k as u64..width {
                let t = uniform_below(r, j + 1);
                if !chosen.insert(t) {
                    chosen.insert(j);
                }
            }
            let mut items: Vec<Value> = chosen.into_iter().map(|o| Value::Int((lo as i128 + o as i128) as i64)).collect();
            shuffle(&mut items, r);
            cx.meter.release_bytes(64u64.saturating_mul(k as u64));
            Value::list(items)
        }
    })
}

/// Fisher-Yates, from the ChaCha stream alone.
fn shuffle<T>(items: &mut [T], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        let j = uniform_below(rng, i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

/// Writes the observation of `pad` into `out` (`module.obs_width()` values):
/// per pointer its cell (`base` for blank), at-start and at-end bits; then
/// every `observe` feature.
pub(crate) fn observe(module: &Module, pad: &Pad, out: &mut [u16]) -> FaultResult<()> {
    if observe_pose(pad, out) {
        return Ok(());
    }
    let np = observe_pointers(pad, out);
    for (k, o) in module.world.observes.iter().enumerate() {
        out[np * 3 + k] = observe_feature(o, pad)?;
    }
    Ok(())
}

/// As [`observe`], but a feature whose expression fails (`blank` ordered in
/// a state the reference never reaches) reads as class 0 instead of failing:
/// a learned model may drive the world anywhere.
pub(crate) fn observe_lenient(module: &Module, pad: &Pad, out: &mut [u16]) {
    if observe_pose(pad, out) {
        return;
    }
    let np = observe_pointers(pad, out);
    for (k, o) in module.world.observes.iter().enumerate() {
        out[np * 3 + k] = observe_feature(o, pad).unwrap_or(0);
    }
}

/// A pose world's observation (see `check::pose_features`): the camera's
/// columns, the car, the target's columns. False for other worlds.
#[inline]
fn observe_pose(pad: &Pad, out: &mut [u16]) -> bool {
    let Some(pose) = pad.pose else { return false };
    out[0] = pad.ptr_col[0] as u16;
    out[1] = pad.ptr_col[1] as u16;
    out[2] = pose.car;
    out[3] = pad.ptr_col[2] as u16;
    out[4] = pad.ptr_col[3] as u16;
    true
}

#[inline]
fn observe_pointers(pad: &Pad, out: &mut [u16]) -> usize {
    let np = pad.ptr_row.len();
    let base = pad.base;
    for p in 0..np {
        let c = pad.cell(p);
        out[3 * p] = if c == BLANK { base } else { c };
        out[3 * p + 1] = pad.at_start(p) as u16;
        out[3 * p + 2] = pad.at_end(p) as u16;
    }
    np
}

fn observe_feature(o: &crate::ir::Observe, pad: &Pad) -> FaultResult<u16> {
    let base = pad.base;
    // An `observe` expression has no loops and no variables: what it builds
    // is bounded by its text, so the default limits are only a backstop.
    let meter = Meter::new(Limits::default());
    let tape = Tape::default();
    let mut cx = Cx { pad, tape: &tape, locals: &[], names: &[], rng: None, meter: &meter };
    let v = eval(&o.expr, &mut cx).map_err(|f| f.at(o.span))?;
    Ok(match (o.kind, &v) {
        (ObserveKind::Bool, Value::Bool(b)) => *b as u16,
        (ObserveKind::Cell, Value::Blank) => base,
        (ObserveKind::Cell, Value::Int(d)) if (0..base as i64).contains(d) => *d as u16,
        _ => {
            return Err(Fault::new(
                RunErrorKind::Value,
                format!("`observe {}` gave {}, which is not a boolean or a cell", o.name, v.describe()),
            )
            .at(o.span))
        }
    })
}

/// Encodes a program argument into `0..classes`.
#[inline]
pub(crate) fn encode_arg(v: &Value, classes: u16, base: u16) -> Option<u16> {
    match v {
        Value::Ptr(i) => Some(*i),
        Value::Dir(Dir::Left) => Some(0),
        Value::Dir(Dir::Right) => Some(1),
        Value::Bool(b) => Some(*b as u16),
        Value::Blank => Some(base),
        Value::Int(i) if (0..classes as i64).contains(i) => Some(*i as u16),
        _ => None,
    }
}

/// Buffers steps per frame and collects the finished trace.
pub(crate) struct Recorder {
    pub frames: Vec<Frame>,
    pub steps: Vec<Step>,
    pub obs: Vec<u16>,
    pend_steps: Vec<Step>,
    pend_obs: Vec<u16>,
    width: usize,
    end: EndConvention,
}

impl Recorder {
    pub(crate) fn new(width: usize, end: EndConvention) -> Recorder {
        Recorder {
            frames: Vec::new(),
            steps: Vec::new(),
            obs: Vec::new(),
            pend_steps: Vec::new(),
            pend_obs: Vec::new(),
            width,
            end,
        }
    }

    #[inline]
    fn step(
        &mut self,
        module: &Module,
        pad: &Pad,
        call: Option<Call>,
        end: bool,
        child: Option<u32>,
    ) -> FaultResult<()> {
        self.pend_steps.push(Step { call, end, child });
        let at = self.pend_obs.len();
        self.pend_obs.resize(at + self.width, 0);
        observe(module, pad, &mut self.pend_obs[at..])
    }

    /// Whether ending a frame that made `calls` calls records a step.
    fn ends_with_step(&self, calls: u32) -> bool {
        self.end == EndConvention::OwnStep || calls == 0
    }

    fn end_frame(&mut self, module: &Module, pad: &Pad, frame: u32, pend_start: usize, calls: u32) -> FaultResult<()> {
        match self.end {
            EndConvention::OwnStep => self.step(module, pad, None, true, None)?,
            EndConvention::AfterCall if calls > 0 => {
                if let Some(last) = self.pend_steps.last_mut() {
                    last.end = true;
                }
            }
            EndConvention::AfterCall => self.step(module, pad, None, true, None)?,
        }
        let f = &mut self.frames[frame as usize];
        f.first_step = self.steps.len() as u32;
        f.len = (self.pend_steps.len() - pend_start) as u32;
        self.steps.extend(self.pend_steps.drain(pend_start..));
        self.obs.extend(self.pend_obs.drain(pend_start * self.width..));
        Ok(())
    }
}

/// Steps recorded between two reports of the trace and the frames to the
/// meter. The meter then holds room for this many steps, each a call, more
/// than the run has: for the stdlib's tasks, tens of kilobytes. A run
/// within that much of its limit is checked step by step.
const BATCH: u32 = 256;

/// The bytes of the frames' locals (`slots` values) and of `depth` frames,
/// twice over for the vectors' growth.
fn frame_bytes(slots: usize, depth: usize) -> u64 {
    2 * (slots * std::mem::size_of::<Value>() + depth * std::mem::size_of::<Active>()) as u64
}

/// What the meter has room for (see [`Machine::reserve`]).
struct Room {
    /// Steps that may still be recorded before the meter is asked again.
    steps: u32,
    /// The most locals any program has: what one call adds at most.
    max_slots: usize,
}

/// One live program invocation.
struct Active {
    /// `ProgramId` of the program.
    program: ProgramId,
    pc: u32,
    /// Index of the frame's first slot in the shared locals.
    base: u32,
    /// Index in the recorder's frames.
    frame: u32,
    /// Where the frame's pending steps start.
    pend: u32,
    calls: u32,
}

/// What an ordinary instruction asks the loop to do next.
enum Flow {
    Next,
    Jump(u32),
    Return,
}

pub(crate) struct Machine<'a> {
    pub module: &'a Module,
    pub pad: &'a mut Pad,
    /// The tape of a tape world (empty in a scratchpad).
    pub tape: &'a mut Tape,
    /// The program running (`None` in `input`), for the tape's log.
    pub program: Option<ProgramId>,
    pub limits: Limits,
    /// Bytes the run's values hold, against `limits`.
    pub meter: &'a Meter,
    /// Instructions executed so far.
    pub steps: u64,
    pub size: usize,
    pub seed: u64,
}

impl<'a> Machine<'a> {
    fn run_error(&self, f: Box<Fault>, proc: &Proc, pc: usize, in_program: bool) -> RunError {
        let mut f = f;
        let program = if in_program {
            Some(proc.name.clone())
        } else {
            f.message.push_str(" in `input`");
            None
        };
        f.into_run_error(program, proc.spans.get(pc).copied(), self.size, self.seed)
    }

    #[cold]
    fn step_limit(&self) -> Box<Fault> {
        Fault::new(
            RunErrorKind::StepLimit,
            format!("the run exceeded the step limit of {} steps", self.limits.max_steps),
        )
        .label("still running here")
        .hint("a loop that never ends? the limit is the `learn` setting `max_steps`")
    }

    /// Executes an instruction that neither calls nor acts.
    #[inline]
    fn plain(
        &mut self,
        instr: &Instr,
        frame: &mut [Value],
        names: &[String],
        rng: &mut Option<&mut Rng>,
    ) -> FaultResult<Flow> {
        let meter = self.meter;
        let mut cx = Cx { pad: self.pad, tape: self.tape, locals: frame, names, rng: rng.as_deref_mut(), meter };
        match instr {
            Instr::Set(slot, e) => {
                let v = eval(e, &mut cx)?;
                meter.release(&frame[*slot as usize]);
                frame[*slot as usize] = v;
            }
            Instr::JumpUnless(c, target) => {
                if !eval_bool(c, &mut cx)? {
                    return Ok(Flow::Jump(*target));
                }
            }
            Instr::Jump(target) => return Ok(Flow::Jump(*target)),
            Instr::SetIndex(slot, index, e) => {
                let i = eval(index, &mut cx)?;
                let v = eval(e, &mut cx)?;
                let Value::List(items) = &mut frame[*slot as usize] else {
                    return Err(Fault::new(RunErrorKind::Value, "only lists can be indexed"));
                };
                let len = items.len();
                match i.as_i64() {
                    Some(k) if k >= 0 && (k as usize) < len => {
                        // A list shared with another variable is copied first.
                        if std::sync::Arc::strong_count(items) > 1 {
                            meter.list(len as u64)?;
                        }
                        let items = std::sync::Arc::make_mut(items);
                        meter.release(&items[k as usize]);
                        items[k as usize] = v;
                    }
                    _ => {
                        return Err(Fault::new(
                            RunErrorKind::Value,
                            format!("index {} is out of range for a list of length {len}", i.describe()),
                        ))
                    }
                }
            }
            Instr::ForStart(e, state) => {
                let v = eval(e, &mut cx)?;
                match v {
                    Value::Range(..) | Value::List(_) => {}
                    Value::BigRange(_) => {
                        return Err(Fault::new(RunErrorKind::Value, format!("`for` over {v} would never end")))
                    }
                    other => {
                        return Err(Fault::new(
                            RunErrorKind::Value,
                            format!("`for` iterates over a range or a list, not {}", other.describe()),
                        ))
                    }
                }
                meter.release(&frame[*state as usize]);
                frame[*state as usize] = v;
                frame[*state as usize + 1] = Value::Int(0);
            }
            Instr::ForNext { state, var, exit } => {
                let s = *state as usize;
                let Value::Int(k) = frame[s + 1] else { return Ok(Flow::Jump(*exit)) };
                let next = match &frame[s] {
                    Value::Range(lo, hi) => match lo.checked_add(k) {
                        Some(i) if i < *hi => Some(Value::Int(i)),
                        _ => None,
                    },
                    Value::List(items) => items.get(k as usize).cloned(),
                    _ => None,
                };
                match next {
                    Some(v) => {
                        frame[*var as usize] = v;
                        frame[s + 1] = Value::Int(k + 1);
                    }
                    None => return Ok(Flow::Jump(*exit)),
                }
            }
            Instr::WriteNumber(row, x) => {
                let r = eval(row, &mut cx)?;
                let x = eval(x, &mut cx)?;
                let r = self.pad.row_index(&r)?;
                self.pad.write_number(r, &x)?;
                meter.release(&x);
            }
            Instr::SetPose(target, az, el) => {
                let az = eval(az, &mut cx)?;
                let el = eval(el, &mut cx)?;
                self.pad.set_angle(*target, 0, &az)?;
                self.pad.set_angle(*target, 1, &el)?;
            }
            Instr::WriteList(row, xs) => {
                let r = eval(row, &mut cx)?;
                let xs = eval(xs, &mut cx)?;
                let r = self.pad.row_index(&r)?;
                self.pad.write_list(r, &xs)?;
                meter.release(&xs);
            }
            Instr::Store(address, value) => {
                let a = eval(address, &mut cx)?;
                let v = eval(value, &mut cx)?;
                let module = self.module;
                let program = self.program.map(|id| (id, module.proc(id).name.as_str()));
                self.tape.write(&a, &v, program, meter)?;
            }
            Instr::WriteTape(at, xs) => {
                let a = eval(at, &mut cx)?;
                let xs = eval(xs, &mut cx)?;
                self.tape.write_list(&a, &xs)?;
                meter.release(&xs);
            }
            Instr::Eval(e) => {
                let v = eval(e, &mut cx)?;
                meter.release(&v);
            }
            Instr::Return => return Ok(Flow::Return),
            Instr::Act(..) | Instr::Call(..) => {
                return Err(Fault::new(RunErrorKind::Value, "actions and program calls run only in programs"))
            }
        }
        Ok(Flow::Next)
    }

    /// Runs the `input` block on `env` (slot 0 holds the size).
    pub(crate) fn run_input(&mut self, proc: &Proc, env: &mut [Value], rng: &mut Rng) -> Result<(), RunError> {
        let mut rng = Some(rng);
        let mut pc = 0usize;
        while pc < proc.code.len() {
            self.steps += 1;
            if self.steps > self.limits.max_steps {
                return Err(self.run_error(self.step_limit(), proc, pc, false));
            }
            match self.plain(&proc.code[pc], env, &proc.slot_names, &mut rng) {
                Ok(Flow::Next) => pc += 1,
                Ok(Flow::Jump(t)) => pc = t as usize,
                Ok(Flow::Return) => break,
                Err(f) => return Err(self.run_error(f, proc, pc, false)),
            }
        }
        Ok(())
    }

    /// Reports the pad, the trace (with `more` steps and `frames` frames to
    /// come) and the frames' locals (`slots` values, `depth` frames) to the
    /// meter, which refuses if the run would then hold more than its limit.
    fn hold(&self, rec: &Recorder, more: usize, frames: usize, slots: usize, depth: usize) -> FaultResult<()> {
        self.meter.set_fixed(self.pad.bytes() + self.tape.bytes() + rec.bytes_with(more, frames) + frame_bytes(slots, depth))
    }

    /// Makes sure the meter has room for the step about to be recorded,
    /// which opens `frames` frames and leaves the locals at `slots` values
    /// in `depth` frames. Reporting to the meter before every step slows
    /// tracing by a few percent, so the meter is asked for a batch of steps
    /// at once ([`Self::refill`]) and `room` counts them down: the common
    /// case is one compare and one decrement.
    #[inline]
    fn reserve(&self, rec: &Recorder, room: &mut Room, frames: usize, slots: usize, depth: usize) -> FaultResult<()> {
        if room.steps == 0 {
            room.steps = self.refill(rec, room.max_slots, frames, slots, depth)?;
        }
        room.steps -= 1;
        Ok(())
    }

    /// Asks the meter for the next [`BATCH`] steps, this one included: for
    /// the trace as [`Recorder::bytes_within`] bounds it, and for the
    /// locals and frames of a call at every step (at most `max_slots`
    /// locals each), so that every step of the batch fits whatever it does.
    /// The values charged meanwhile are checked against that bound. If the
    /// batch does not fit, asks for this step alone and exactly
    /// ([`Self::hold`]), so that a run near its limit stops at the step,
    /// and with the message, that checking every step would give. Returns
    /// the steps the meter has room for.
    #[inline(never)]
    fn refill(&self, rec: &Recorder, max_slots: usize, frames: usize, slots: usize, depth: usize) -> FaultResult<u32> {
        let batch = BATCH as usize;
        let frame = frame_bytes(slots + batch * max_slots, depth + batch);
        if self.meter.fits_fixed(self.pad.bytes() + self.tape.bytes() + rec.bytes_within(batch) + frame) {
            return Ok(BATCH);
        }
        self.hold(rec, 1, frames, slots, depth)?;
        Ok(1)
    }

    /// Ends the top frame: records its end, credits its locals and pops it.
    #[inline]
    fn pop_frame(
        &self,
        rec: &mut Recorder,
        room: &mut Room,
        locals: &mut Vec<Value>,
        stack: &mut Vec<Active>,
    ) -> FaultResult<()> {
        let depth = stack.len();
        let top = stack.pop().expect("a frame is running");
        if rec.ends_with_step(top.calls) {
            self.reserve(rec, room, 0, locals.len(), depth)?;
        }
        rec.end_frame(self.module, self.pad, top.frame, top.pend as usize, top.calls)?;
        let base = top.base as usize;
        locals[base..].iter().for_each(|v| self.meter.release(v));
        locals.truncate(base);
        Ok(())
    }

    /// Runs program `entry` to its end, recording into `rec`; `args` are its
    /// parameters' values (none but a tape's `cells` and `timesteps`).
    pub(crate) fn run_program(&mut self, entry: ProgramId, args: &[Value], rec: &mut Recorder) -> Result<(), RunError> {
        let module = self.module;
        let classes = module.arg_classes;
        let tape = module.is_tape();
        let base_value = self.pad.base;
        let mut stack: Vec<Active> = Vec::with_capacity(64);
        let mut locals: Vec<Value> = Vec::with_capacity(256);
        let mut no_rng: Option<&mut Rng> = None;

        let p0 = module.proc(entry);
        let meter = self.meter;
        self.hold(rec, 0, 1, p0.slots as usize, 1).map_err(|f| self.run_error(f, p0, 0, true))?;
        let max_slots = module.procs.iter().map(|p| p.slots as usize).max().unwrap_or(0);
        let mut room = Room { steps: 0, max_slots };
        locals.resize(p0.slots as usize, Value::Unit);
        // Parameters hold the first slots.
        for (slot, v) in locals.iter_mut().zip(args) {
            *slot = v.clone();
        }
        rec.frames.push(Frame { program: entry, args: NO_ARGS, parent: None, depth: 0, first_step: 0, len: 0 });
        stack.push(Active { program: entry, pc: 0, base: 0, frame: 0, pend: 0, calls: 0 });

        loop {
            let depth = stack.len();
            let Some(top) = stack.last_mut() else { break };
            let proc = module.proc(top.program);
            let pc = top.pc as usize;
            let base = top.base as usize;
            let Some(instr) = proc.code.get(pc) else {
                // The frame ran off its end: the same as `return`.
                self.pop_frame(rec, &mut room, &mut locals, &mut stack)
                    .map_err(|f| self.run_error(f, proc, pc, true))?;
                continue;
            };
            self.steps += 1;
            if self.steps > self.limits.max_steps {
                return Err(self.run_error(self.step_limit(), proc, pc, true));
            }
            self.program = Some(top.program);
            match instr {
                Instr::Act(action, p, arg) => {
                    let cx = Cx {
                        pad: self.pad,
                        tape: self.tape,
                        locals: &locals[base..],
                        names: &proc.slot_names,
                        rng: None,
                        meter,
                    };
                    let res = act_operands(*action, *p, arg, cx, base_value);
                    let (pi, code, op) = res.map_err(|f| self.run_error(f, proc, pc, true))?;
                    self.reserve(rec, &mut room, 0, locals.len(), depth)
                        .map_err(|f| self.run_error(f, proc, pc, true))?;
                    let call = Call { program: ACT, args: [action.code(), pi as u16, code] };
                    rec.step(module, self.pad, Some(call), false, None)
                        .map_err(|f| self.run_error(f, proc, pc, true))?;
                    let applied = match op {
                        Op::Write(cell) => {
                            self.pad.write(pi, cell);
                            Ok(())
                        }
                        Op::Move(d) => self.pad.move_ptr(pi, d),
                        Op::Swap(q) => {
                            self.pad.swap(pi, q);
                            Ok(())
                        }
                    };
                    applied.map_err(|f| self.run_error(f, proc, pc, true))?;
                    top.pc += 1;
                    top.calls += 1;
                }
                Instr::Call(id, args) => {
                    let id = *id;
                    if stack.len() >= self.limits.max_depth as usize {
                        let f = Fault::new(
                            RunErrorKind::DepthLimit,
                            format!("calls nested deeper than the limit of {} frames", self.limits.max_depth),
                        )
                        .label("one call too many")
                        .hint("a recursion that never stops? the limit is the `learn` setting `max_depth`");
                        return Err(self.run_error(f, proc, pc, true));
                    }
                    let callee = module.proc(id);
                    let new_base = locals.len();
                    let slots = new_base + callee.slots as usize;
                    self.reserve(rec, &mut room, 1, slots, stack.len() + 1)
                        .map_err(|f| self.run_error(f, proc, pc, true))?;
                    let mut encoded = NO_ARGS;
                    for (k, a) in args.iter().enumerate() {
                        let cx = Cx {
                            pad: self.pad,
                            tape: self.tape,
                            locals: &locals[base..new_base],
                            names: &proc.slot_names,
                            rng: None,
                            meter,
                        };
                        let v = match arg_value(a, cx) {
                            Ok(v) => v,
                            Err(f) => return Err(self.run_error(f, proc, pc, true)),
                        };
                        match encode_arg(&v, classes, base_value) {
                            Some(c) => encoded[k] = c,
                            // A tape's learner never sees a call: any value
                            // may be passed, and none is encoded.
                            None if tape => encoded[k] = NO_ARG,
                            None => {
                                let f = bad_argument(&callee.name, &callee.params[k].0, k, &v, classes);
                                return Err(self.run_error(f, proc, pc, true));
                            }
                        }
                        locals.push(v);
                    }
                    locals.resize(new_base + callee.slots as usize, Value::Unit);
                    let child = rec.frames.len() as u32;
                    let call = Call { program: id, args: encoded };
                    rec.step(module, self.pad, Some(call), false, Some(child))
                        .map_err(|f| self.run_error(f, proc, pc, true))?;
                    let depth = stack.len() as u32;
                    let top = stack.last_mut().expect("the caller is on the stack");
                    top.pc += 1;
                    top.calls += 1;
                    let parent = top.frame;
                    rec.frames.push(Frame {
                        program: id,
                        args: encoded,
                        parent: Some(parent),
                        depth,
                        first_step: 0,
                        len: 0,
                    });
                    let pend = rec.pend_len() as u32;
                    stack.push(Active { program: id, pc: 0, base: new_base as u32, frame: child, pend, calls: 0 });
                }
                Instr::Return => {
                    self.pop_frame(rec, &mut room, &mut locals, &mut stack)
                        .map_err(|f| self.run_error(f, proc, pc, true))?;
                }
                other => {
                    let flow = self.plain(other, &mut locals[base..], &proc.slot_names, &mut no_rng);
                    let top = stack.last_mut().expect("the frame is on the stack");
                    match flow {
                        Ok(Flow::Next) => top.pc += 1,
                        Ok(Flow::Jump(t)) => top.pc = t,
                        Ok(Flow::Return) => top.pc = u32::MAX,
                        Err(f) => return Err(self.run_error(f, proc, pc, true)),
                    }
                }
            }
        }
        Ok(())
    }
}

impl Recorder {
    /// The width of every observation.
    pub(crate) fn width(&self) -> usize {
        self.width
    }

    fn pend_len(&self) -> usize {
        self.pend_steps.len()
    }

    /// Bytes the trace will hold once `more` steps and `frames` frames are
    /// recorded, before they are: a growing vector's capacity is at most
    /// twice its length, so the finished steps, observations and frames
    /// count twice; the pending buffers keep their high-water capacity, so
    /// they count at the capacity the next push leaves them with (doubled
    /// if it must grow), twice over for their observations.
    fn bytes_with(&self, more: usize, frames: usize) -> u64 {
        let step = (std::mem::size_of::<Step>() + 2 * self.width) as u64;
        let cap = self.pend_steps.capacity();
        let need = self.pend_steps.len() + more;
        let pend = if need > cap { need.max(2 * cap) } else { cap };
        let steps = 2 * (self.steps.len() + more) as u64 + 2 * pend as u64;
        steps * step + 2 * (self.frames.len() + frames) as u64 * std::mem::size_of::<Frame>() as u64
    }

    /// A bound on [`Self::bytes_with`]`(1, 1)` at each of the next `more`
    /// steps (`more >= 3`), each of which records one step and opens at most
    /// one frame. Meanwhile the pending steps may move into the finished
    /// ones, so they count with them; and a pending buffer that must grow
    /// doubles, push by push from a capacity of at least 4, until it holds
    /// them all, so it ends below twice their number.
    fn bytes_within(&self, more: usize) -> u64 {
        let step = (std::mem::size_of::<Step>() + 2 * self.width) as u64;
        let cap = self.pend_steps.capacity();
        let need = self.pend_steps.len() + more;
        let pend = if need > cap { 2 * (need - 1) } else { cap };
        let steps = 2 * (self.steps.len() + need) as u64 + 2 * pend as u64;
        steps * step + 2 * (self.frames.len() + more) as u64 * std::mem::size_of::<Frame>() as u64
    }
}

/// An action's effect once its operands are known.
enum Op {
    Write(u16),
    Move(Dir),
    Swap(usize),
}

/// Evaluates an action's pointer and operand: the pointer index, the `ACT`
/// value argument, and the effect.
#[inline]
fn act_operands(action: Action, p: Ptr, arg: &ActArg, mut cx: Cx, base: u16) -> FaultResult<(usize, u16, Op)> {
    let pi = cx.ptr(p)?;
    Ok(match arg {
        ActArg::Value(e) => {
            let v = eval(e, &mut cx)?;
            match cx.pad.to_cell(&v) {
                Some(BLANK) => (pi, base, Op::Write(BLANK)),
                Some(c) => (pi, c, Op::Write(c)),
                None => {
                    return Err(Fault::new(RunErrorKind::World, format!("cannot write {} into a cell", v.describe()))
                        .label(format!("{} is not a digit", v.describe()))
                        .hint(format!(
                            "a cell holds a digit from 0 to {} or blank; reduce the value first, e.g. `x % {base}`",
                            base - 1
                        )))
                }
            }
        }
        ActArg::Dir(e) => match eval(e, &mut cx)? {
            Value::Dir(d) => (pi, if d == Dir::Left { 0 } else { 1 }, Op::Move(d)),
            other => {
                return Err(Fault::new(
                    RunErrorKind::Value,
                    format!("`{}` needs `left` or `right`, found {}", action.name(), other.describe()),
                ))
            }
        },
        ActArg::Ptr(q) => {
            let qi = cx.ptr(*q)?;
            (pi, qi as u16, Op::Swap(qi))
        }
    })
}

#[inline]
fn arg_value(a: &Arg, mut cx: Cx) -> FaultResult<Value> {
    match a {
        Arg::Ptr(p) => Ok(Value::Ptr(cx.ptr(*p)? as u16)),
        Arg::Value(e) => eval(e, &mut cx),
    }
}

#[cold]
fn bad_argument(program: &str, param: &str, k: usize, v: &Value, classes: u16) -> Box<Fault> {
    Fault::new(
        RunErrorKind::Argument,
        format!("argument `{param}` of {program} is {}, but an argument must be 0 to {}", v.describe(), classes - 1),
    )
    .label(format!("argument {} is out of range", k + 1))
    .hint(format!(
        "the learner sees a call's arguments as {classes} categories: digits, blank, pointers, `left`/`right`, booleans"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_ranges_sample_inside() {
        let mut r = seeded_rng(1, 1);
        let bound: BigUint = "1".repeat(30).parse().unwrap();
        let mut distinct = std::collections::BTreeSet::new();
        for _ in 0..100 {
            let x = uniform_big_below(&mut r, &bound);
            assert!(x < bound);
            distinct.insert(x);
        }
        assert!(distinct.len() > 90);
        assert_eq!(uniform_big_below(&mut r, &BigUint::from(1u32)), BigUint::from(0u32));
        let pow: BigUint = BigUint::from(1u32) << 64;
        assert!(uniform_big_below(&mut r, &pow) < pow);
    }

    #[test]
    fn rng_depends_on_size_and_seed_only() {
        let a: Vec<u64> = (0..4).map(|_| seeded_rng(3, 7).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(seeded_rng(3, 7).next_u64(), seeded_rng(4, 7).next_u64());
        assert_ne!(seeded_rng(3, 7).next_u64(), seeded_rng(3, 8).next_u64());
    }

    #[test]
    fn uniform_below_stays_in_bounds() {
        let mut r = seeded_rng(1, 1);
        let mut seen = [false; 10];
        for _ in 0..1000 {
            let x = uniform_below(&mut r, 10);
            seen[x as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
        assert_eq!(uniform_below(&mut r, 1), 0);
        let _ = uniform_below(&mut r, u64::MAX);
    }

    /// Records a step as `Recorder::step` does, without observing.
    fn record(rec: &mut Recorder) {
        rec.pend_steps.push(Step { call: None, end: false, child: None });
        rec.pend_obs.resize(rec.pend_obs.len() + rec.width, 0);
    }

    /// Whatever the steps of a batch do (call, act, end a frame), the bound
    /// the meter is asked for before them covers what asking before each
    /// one would have. Runs of random calls, actions and ends, from an
    /// empty recorder, with batches starting at a random step and frames of
    /// every length (calls and ends from rare to frequent), so that frames
    /// full of pending steps end while the buffers are still growing.
    #[test]
    fn a_batch_bound_covers_every_step_of_the_batch() {
        let mut rng = seeded_rng(0, 0);
        let mut moved = 0;
        for run in 0..400u64 {
            let mut rec = Recorder::new(12, EndConvention::OwnStep);
            // Where each open frame's pending steps start.
            let mut open = vec![0];
            // A call or an end is 1 step in `every`.
            let every = 2 + uniform_below(&mut rng, 100);
            let mut left = uniform_below(&mut rng, BATCH as u64);
            let mut bound = u64::MAX;
            for _ in 0..4 * BATCH {
                if left == 0 {
                    bound = rec.bytes_within(BATCH as usize);
                    left = BATCH as u64;
                }
                left -= 1;
                assert!(rec.bytes_with(1, 1) <= bound, "run {run}");
                record(&mut rec);
                match uniform_below(&mut rng, 2 * every) {
                    0 => {
                        let frame = Frame { program: 1, args: NO_ARGS, parent: None, depth: 0, first_step: 0, len: 0 };
                        rec.frames.push(frame);
                        open.push(rec.pend_steps.len());
                    }
                    1 if open.len() > 1 => {
                        // The step just recorded is the frame's end.
                        let start = open.pop().expect("a frame is open");
                        moved += rec.pend_steps.len() - start;
                        rec.steps.extend(rec.pend_steps.drain(start..));
                        rec.obs.extend(rec.pend_obs.drain(start * rec.width..));
                    }
                    _ => {}
                }
            }
        }
        assert!(moved > 100_000, "frames ended and their steps moved");
    }
}

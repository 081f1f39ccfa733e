//! Run-time values of the interpreter. Integers are arbitrary precision with a
//! small-int fast path: [`Value::Int`] holds every integer that fits in an
//! `i64` and [`Value::Big`] only those that do not, so digit arithmetic never
//! allocates and equality stays structural (the representation is canonical).
//! Lists and big numbers sit behind `Arc`, so cloning a value is cheap and a
//! sampled instance can cross threads.
//!
//! A run's values are sized against its [`Limits`] by a [`Meter`]: every
//! operation that builds an integer beyond `i64` or a list asks the meter
//! first (bit length, list length, bytes held), so a file cannot make a run
//! grow until the host kills it.

use crate::error::{Fault, FaultResult, RunErrorKind};
use crate::ir::Limits;
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{Signed, ToPrimitive, Zero};
use std::cell::Cell;
use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

/// `left` or `right`. Encoded as 0 and 1 in call arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Dir {
    Left,
    Right,
}

impl Dir {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Dir::Left => "left",
            Dir::Right => "right",
        }
    }
}

/// The kinds that own memory the [`Meter`] counts come last, so that
/// [`Value::owns_heap`], asked whenever the interpreter builds or drops a
/// value, is one comparison.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    /// No value: what an action returns, and an unset slot.
    Unit,
    Int(i64),
    Bool(bool),
    /// An empty cell.
    Blank,
    Dir(Dir),
    /// A pointer, by index in the world's declaration order (program
    /// parameters only).
    Ptr(u16),
    /// A half-open integer range `lo..hi`.
    Range(i64, i64),
    Str(Arc<str>),
    /// An integer outside `i64`; never holds one that fits.
    Big(Arc<BigInt>),
    List(Arc<Vec<Value>>),
    /// A half-open range whose bounds do not fit in `i64` (`0..a + 1` for a
    /// sampled 20-digit `a`).
    BigRange(Arc<(BigInt, BigInt)>),
}

/// Why an operation on values failed; the caller adds which operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OpError {
    /// An operand is not an integer (`blank`, a boolean, ...).
    NotInt,
    DivByZero,
    /// The result would have more bits than allowed: at least this many.
    TooBig(u64),
}

impl Value {
    pub(crate) fn from_big(b: BigInt) -> Value {
        match b.to_i64() {
            Some(i) => Value::Int(i),
            None => Value::Big(Arc::new(b)),
        }
    }

    pub(crate) fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(items))
    }

    pub(crate) fn is_int(&self) -> bool {
        matches!(self, Value::Int(_) | Value::Big(_))
    }

    /// The integer as an `i64`, when it is one and fits.
    pub(crate) fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub(crate) fn to_big(&self) -> Option<BigInt> {
        match self {
            Value::Int(i) => Some(BigInt::from(*i)),
            Value::Big(b) => Some((**b).clone()),
            _ => None,
        }
    }

    /// The bit length of an integer's magnitude (0 for 0).
    pub(crate) fn bits(&self) -> Option<u64> {
        match self {
            Value::Int(i) => Some(64 - i.unsigned_abs().leading_zeros() as u64),
            Value::Big(b) => Some(b.bits()),
            _ => None,
        }
    }

    /// Whether this value owns anything on the heap: the kinds
    /// [`Self::heap_bytes`] counts.
    #[inline(always)]
    pub(crate) fn owns_heap(&self) -> bool {
        matches!(self, Value::Big(_) | Value::List(_) | Value::BigRange(_))
    }

    /// Bytes this value owns on the heap beyond its own 24 (its `Arc`'d
    /// digits or elements, not what those elements own in turn).
    pub(crate) fn heap_bytes(&self) -> u64 {
        match self {
            Value::Big(b) => big_bytes(b.bits()),
            Value::List(items) => list_bytes(items.capacity() as u64),
            Value::BigRange(r) => big_bytes(r.0.bits()) + big_bytes(r.1.bits()),
            _ => 0,
        }
    }

    /// A short description for error messages: `blank`, `a list`, `12`.
    pub(crate) fn describe(&self) -> String {
        match self {
            Value::Unit => "nothing".into(),
            Value::Int(i) => i.to_string(),
            Value::Big(b) => abbreviate(&b.to_string()),
            Value::Bool(b) => b.to_string(),
            Value::Blank => "blank".into(),
            Value::Dir(d) => d.name().into(),
            Value::Ptr(_) => "a pointer".into(),
            Value::List(_) => "a list".into(),
            Value::Range(..) | Value::BigRange(_) => "a range".into(),
            Value::Str(_) => "a string".into(),
        }
    }
}

/// The heap bytes of an integer of `bits` bits: its `Arc` and `BigInt`
/// headers and its 64-bit words.
pub(crate) fn big_bytes(bits: u64) -> u64 {
    48 + bits.div_ceil(64) * 8
}

/// The heap bytes of a list of `len` values.
pub(crate) fn list_bytes(len: u64) -> u64 {
    40 + len.saturating_mul(std::mem::size_of::<Value>() as u64)
}

/// Accounts what one run holds against its [`Limits`]. Values are charged
/// when built and credited when the interpreter drops the last reference to
/// one (overwriting a variable, leaving a frame); a value still shared when
/// it is dropped stays charged, so the count is an upper bound of the bytes
/// the run's values hold. The interpreter reports the rest (the pad, the
/// trace, the frames) as `fixed`.
#[derive(Debug)]
pub(crate) struct Meter {
    pub limits: Limits,
    values: Cell<u64>,
    fixed: Cell<u64>,
}

impl Meter {
    pub(crate) fn new(limits: Limits) -> Meter {
        Meter { limits, values: Cell::new(0), fixed: Cell::new(0) }
    }

    /// A meter that starts with `values` bytes already charged.
    pub(crate) fn with_values(limits: Limits, values: u64) -> Meter {
        Meter { limits, values: Cell::new(values), fixed: Cell::new(0) }
    }

    /// Bytes charged for values.
    pub(crate) fn values(&self) -> u64 {
        self.values.get()
    }

    /// Sets the bytes of the pad, trace and frames and checks the total.
    #[inline]
    pub(crate) fn set_fixed(&self, bytes: u64) -> FaultResult<()> {
        self.fixed.set(bytes);
        self.check(0)
    }

    /// Sets the bytes of the pad, trace and frames if the total then fits,
    /// and says whether it did; otherwise leaves the account as it was.
    #[inline]
    pub(crate) fn fits_fixed(&self, bytes: u64) -> bool {
        let fits = self.values.get().saturating_add(bytes) <= self.limits.max_memory;
        if fits {
            self.fixed.set(bytes);
        }
        fits
    }

    #[inline]
    fn check(&self, more: u64) -> FaultResult<()> {
        let total = self.values.get().saturating_add(self.fixed.get()).saturating_add(more);
        if total > self.limits.max_memory {
            return Err(self.over_memory(total));
        }
        Ok(())
    }

    /// Charges what a value just computed owns (its size was checked against
    /// the limits before it was built), or refuses to keep it. Most values
    /// own nothing on the heap: for them this is one test, inlined.
    #[inline(always)]
    pub(crate) fn charge_value(&self, v: &Value) -> FaultResult<()> {
        if v.owns_heap() {
            return self.charge(v.heap_bytes());
        }
        Ok(())
    }

    /// Charges `bytes` for a value about to be built, or refuses.
    #[inline]
    pub(crate) fn charge(&self, bytes: u64) -> FaultResult<()> {
        if bytes == 0 {
            return Ok(());
        }
        self.check(bytes)?;
        self.values.set(self.values.get() + bytes);
        Ok(())
    }

    /// Credits a value that is about to be dropped, if this is its last
    /// reference (a shared one stays charged). Most values own nothing on
    /// the heap: for them this is one test, inlined where the interpreter
    /// drops a value.
    #[inline(always)]
    pub(crate) fn release(&self, v: &Value) {
        if v.owns_heap() {
            self.release_heap(v);
        }
    }

    #[inline(never)]
    fn release_heap(&self, v: &Value) {
        let unique = match v {
            Value::Big(b) => std::sync::Arc::strong_count(b) == 1,
            Value::List(l) => std::sync::Arc::strong_count(l) == 1,
            Value::BigRange(r) => std::sync::Arc::strong_count(r) == 1,
            _ => false,
        };
        if unique {
            self.values.set(self.values.get().saturating_sub(v.heap_bytes()));
        }
    }

    /// Credits `bytes` charged with [`Meter::charge`] for something that is
    /// gone.
    pub(crate) fn release_bytes(&self, bytes: u64) {
        self.values.set(self.values.get().saturating_sub(bytes));
    }

    /// Checks that an integer of `bits` bits may be built.
    #[inline]
    pub(crate) fn int_bits(&self, bits: u64) -> FaultResult<()> {
        if bits > self.limits.max_int_bits {
            return Err(self.too_big(bits));
        }
        Ok(())
    }

    /// Checks that a list of `len` values may be built, and charges it.
    #[inline]
    pub(crate) fn list(&self, len: u64) -> FaultResult<()> {
        if len > self.limits.max_list_len {
            return Err(Fault::new(
                RunErrorKind::SizeLimit,
                format!("a list of {len} elements would exceed the limit of {} elements", self.limits.max_list_len),
            )
            .label("too long")
            .hint("the limit is the `learn` setting `max_list_len`"));
        }
        self.charge(list_bytes(len))
    }

    #[cold]
    pub(crate) fn too_big(&self, bits: u64) -> Box<Fault> {
        Fault::new(
            RunErrorKind::SizeLimit,
            format!("an integer of {bits} bits would exceed the limit of {} bits", self.limits.max_int_bits),
        )
        .label("too large")
        .hint("a number that grows without end? the limit is the `learn` setting `max_int_bits`")
    }

    #[cold]
    fn over_memory(&self, total: u64) -> Box<Fault> {
        Fault::new(
            RunErrorKind::MemoryLimit,
            format!("the run would hold {total} bytes, more than the memory limit of {} bytes", self.limits.max_memory),
        )
        .label("over the limit here")
        .hint("the pad, the trace and the values all count; the limit is the `learn` setting `max_memory`")
    }
}

/// Shortens a long number for messages: the first and last digits and how
/// many there are.
pub(crate) fn abbreviate(s: &str) -> String {
    if s.len() <= 40 {
        return s.to_string();
    }
    format!("{}...{} ({} digits)", &s[..12], &s[s.len() - 12..], s.trim_start_matches('-').len())
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Range(lo, hi) => write!(f, "{lo}..{hi}"),
            Value::BigRange(r) => write!(f, "{}..{}", r.0, r.1),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Big(b) => write!(f, "{b}"),
            other => f.write_str(&other.describe()),
        }
    }
}

/// Integer arithmetic: `+ - * / %` with `/` and `%` rounding toward negative
/// infinity (so `-7 / 2 == -4` and `-7 % 2 == 1`), as in Python.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl Arith {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            Arith::Add => "+",
            Arith::Sub => "-",
            Arith::Mul => "*",
            Arith::Div => "/",
            Arith::Rem => "%",
        }
    }
}

/// Applies `op` to two integers whose result may have at most `max_bits`
/// bits. The i64 path handles everything that does not overflow; only then
/// do we build `BigInt`s, and only after checking that the result's bound
/// (the operands' bits, plus one for `+` and `-`) stays within one bit of
/// the limit, so an over-long product is refused before it is computed.
#[inline]
pub(crate) fn arith(op: Arith, a: &Value, b: &Value, max_bits: u64) -> Result<Value, OpError> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        let (x, y) = (*x, *y);
        let fast = match op {
            Arith::Add => x.checked_add(y),
            Arith::Sub => x.checked_sub(y),
            Arith::Mul => x.checked_mul(y),
            Arith::Div | Arith::Rem if y == 0 => return Err(OpError::DivByZero),
            Arith::Div if !(x == i64::MIN && y == -1) => Some(Integer::div_floor(&x, &y)),
            Arith::Rem if y == -1 => Some(0),
            Arith::Rem => Some(Integer::mod_floor(&x, &y)),
            Arith::Div => None,
        };
        if let Some(v) = fast {
            return Ok(Value::Int(v));
        }
    }
    let (Some(xb), Some(yb)) = (a.bits(), b.bits()) else {
        return Err(OpError::NotInt);
    };
    let bound = match op {
        Arith::Add | Arith::Sub => xb.max(yb) + 1,
        Arith::Mul => xb + yb,
        Arith::Div | Arith::Rem => xb.max(yb),
    };
    if bound > max_bits.saturating_add(1) {
        return Err(OpError::TooBig(bound - 1));
    }
    let (Some(x), Some(y)) = (a.to_big(), b.to_big()) else {
        return Err(OpError::NotInt);
    };
    let r = match op {
        Arith::Add => x + y,
        Arith::Sub => x - y,
        Arith::Mul => x * y,
        Arith::Div | Arith::Rem if y.is_zero() => return Err(OpError::DivByZero),
        Arith::Div => Integer::div_floor(&x, &y),
        Arith::Rem => Integer::mod_floor(&x, &y),
    };
    if r.bits() > max_bits {
        return Err(OpError::TooBig(r.bits()));
    }
    Ok(Value::from_big(r))
}

pub(crate) fn neg(a: &Value) -> Result<Value, OpError> {
    match a {
        Value::Int(x) => Ok(match x.checked_neg() {
            Some(v) => Value::Int(v),
            None => Value::from_big(-BigInt::from(*x)),
        }),
        Value::Big(b) => Ok(Value::from_big(-(**b).clone())),
        _ => Err(OpError::NotInt),
    }
}

pub(crate) fn abs(a: &Value) -> Result<Value, OpError> {
    match a {
        Value::Int(x) if *x >= 0 => Ok(Value::Int(*x)),
        Value::Int(_) => neg(a),
        Value::Big(b) => Ok(Value::from_big(b.abs())),
        _ => Err(OpError::NotInt),
    }
}

/// Orders two integers.
#[inline]
pub(crate) fn compare_ints(a: &Value, b: &Value) -> Result<Ordering, OpError> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(x.cmp(y)),
        // Canonical form: a big value is outside i64, so its sign decides.
        (Value::Big(x), Value::Int(_)) => Ok(if x.is_negative() { Ordering::Less } else { Ordering::Greater }),
        (Value::Int(_), Value::Big(y)) => Ok(if y.is_negative() { Ordering::Greater } else { Ordering::Less }),
        (Value::Big(x), Value::Big(y)) => Ok(x.cmp(y)),
        _ => Err(OpError::NotInt),
    }
}

/// Total order used by `sorted`, `min` and `max` on lists: integers by value;
/// anything else is an error.
pub(crate) fn sort_ints(items: &mut [Value]) -> Result<(), OpError> {
    if items.iter().any(|v| !v.is_int()) {
        return Err(OpError::NotInt);
    }
    items.sort_by(|a, b| compare_ints(a, b).unwrap_or(Ordering::Equal));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: u64 = 1 << 20;

    fn int(i: i64) -> Value {
        Value::Int(i)
    }

    #[test]
    fn small_ints_stay_small() {
        assert_eq!(arith(Arith::Add, &int(7), &int(8), B), Ok(int(15)));
        assert_eq!(arith(Arith::Rem, &int(17), &int(10), B), Ok(int(7)));
        assert_eq!(arith(Arith::Div, &int(-7), &int(2), B), Ok(int(-4)));
        assert_eq!(arith(Arith::Rem, &int(-7), &int(2), B), Ok(int(1)));
        assert_eq!(arith(Arith::Div, &int(1), &int(0), B), Err(OpError::DivByZero));
    }

    #[test]
    fn overflow_goes_big_and_comes_back() {
        let big = arith(Arith::Add, &int(i64::MAX), &int(1), B).unwrap();
        assert!(matches!(big, Value::Big(_)));
        assert_eq!(arith(Arith::Sub, &big, &int(1), B), Ok(int(i64::MAX)));
        assert_eq!(compare_ints(&big, &int(5)), Ok(Ordering::Greater));
        assert_eq!(arith(Arith::Div, &int(i64::MIN), &int(-1), B).unwrap().to_big(), Some(-BigInt::from(i64::MIN)));
        assert_eq!(neg(&int(i64::MIN)).unwrap().to_big(), Some(-BigInt::from(i64::MIN)));
    }

    #[test]
    fn lists_compare_elementwise() {
        let a = Value::list(vec![int(1), int(2)]);
        let b = Value::list(vec![int(1), int(2)]);
        let c = Value::list(vec![int(2), int(1)]);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(int(0), Value::Blank);
    }

    #[test]
    fn products_past_the_bit_limit_are_refused_before_they_are_built() {
        let x = arith(Arith::Mul, &int(i64::MAX), &int(i64::MAX), 200).unwrap();
        assert_eq!(x.bits(), Some(126));
        // 126 + 126 bits: refused on the bound, without multiplying.
        assert_eq!(arith(Arith::Mul, &x, &x, 200), Err(OpError::TooBig(251)));
        // Within one bit of the limit: computed, then measured.
        assert_eq!(arith(Arith::Mul, &x, &x, 251), Err(OpError::TooBig(252)));
        assert_eq!(arith(Arith::Mul, &x, &x, 252).unwrap().bits(), Some(252));
        // Sums and differences of values within the limit never fail on the bound.
        assert_eq!(arith(Arith::Sub, &x, &x, 126), Ok(int(0)));
        assert_eq!(int(-1).bits(), Some(1));
        assert_eq!(int(0).bits(), Some(0));
        assert_eq!(int(i64::MIN).bits(), Some(64));
    }

    #[test]
    fn the_meter_charges_and_credits_unique_values() {
        let limits = Limits { max_memory: 1000, max_list_len: 10, ..Limits::default() };
        let m = Meter::new(limits);
        m.list(10).unwrap();
        assert_eq!(m.values(), list_bytes(10));
        assert_eq!(m.list(11).unwrap_err().kind, RunErrorKind::SizeLimit);
        let v = Value::list(Vec::with_capacity(10));
        let shared = v.clone();
        m.release(&v);
        assert_eq!(m.values(), list_bytes(10), "a shared list stays charged");
        drop(shared);
        m.release(&v);
        assert_eq!(m.values(), 0);
        assert_eq!(m.charge(1001).unwrap_err().kind, RunErrorKind::MemoryLimit);
        m.set_fixed(900).unwrap();
        assert!(m.charge(101).is_err());
        m.charge(100).unwrap();
    }

    #[test]
    fn long_numbers_are_abbreviated() {
        let s = "1".repeat(100);
        assert_eq!(abbreviate(&s), "111111111111...111111111111 (100 digits)");
    }
}

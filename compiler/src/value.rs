//! Run-time values of the interpreter. Integers are arbitrary precision with a
//! small-int fast path: [`Value::Int`] holds every integer that fits in an
//! `i64` and [`Value::Big`] only those that do not, so digit arithmetic never
//! allocates and equality stays structural (the representation is canonical).
//! Lists and big numbers sit behind `Arc`, so cloning a value is cheap and a
//! sampled instance can cross threads.

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{Signed, ToPrimitive, Zero};
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

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    /// No value: what an action returns, and an unset slot.
    Unit,
    Int(i64),
    /// An integer outside `i64`; never holds one that fits.
    Big(Arc<BigInt>),
    Bool(bool),
    /// An empty cell.
    Blank,
    Dir(Dir),
    /// A pointer, by index in the world's declaration order (program
    /// parameters only).
    Ptr(u16),
    List(Arc<Vec<Value>>),
    /// A half-open integer range `lo..hi`.
    Range(i64, i64),
    /// A half-open range whose bounds do not fit in `i64` (`0..a + 1` for a
    /// sampled 20-digit `a`).
    BigRange(Arc<(BigInt, BigInt)>),
    Str(Arc<str>),
}

/// Why an operation on values failed; the caller adds which operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OpError {
    /// An operand is not an integer (`blank`, a boolean, ...).
    NotInt,
    DivByZero,
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

/// Applies `op` to two integers. The i64 path handles everything that does
/// not overflow; only then do we build `BigInt`s.
#[inline]
pub(crate) fn arith(op: Arith, a: &Value, b: &Value) -> Result<Value, OpError> {
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

    fn int(i: i64) -> Value {
        Value::Int(i)
    }

    #[test]
    fn small_ints_stay_small() {
        assert_eq!(arith(Arith::Add, &int(7), &int(8)), Ok(int(15)));
        assert_eq!(arith(Arith::Rem, &int(17), &int(10)), Ok(int(7)));
        assert_eq!(arith(Arith::Div, &int(-7), &int(2)), Ok(int(-4)));
        assert_eq!(arith(Arith::Rem, &int(-7), &int(2)), Ok(int(1)));
        assert_eq!(arith(Arith::Div, &int(1), &int(0)), Err(OpError::DivByZero));
    }

    #[test]
    fn overflow_goes_big_and_comes_back() {
        let big = arith(Arith::Add, &int(i64::MAX), &int(1)).unwrap();
        assert!(matches!(big, Value::Big(_)));
        assert_eq!(arith(Arith::Sub, &big, &int(1)), Ok(int(i64::MAX)));
        assert_eq!(compare_ints(&big, &int(5)), Ok(Ordering::Greater));
        assert_eq!(arith(Arith::Div, &int(i64::MIN), &int(-1)).unwrap().to_big(), Some(-BigInt::from(i64::MIN)));
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
    fn long_numbers_are_abbreviated() {
        let s = "1".repeat(100);
        assert_eq!(abbreviate(&s), "111111111111...111111111111 (100 digits)");
    }
}

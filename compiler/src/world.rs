//! The scratchpad world: a grid of cells, each a digit in `0..base` or
//! blank, and named pointers, each fixed to one row and moving along it.
//! Here live the primitive actions (`write`, `move`, `swap`), the reads a
//! program and an `observe` line make, and the whole-row set-up built-ins
//! `input` and `expect` use (`write_number`, `read_number`, `write_list`,
//! `read_list`). Cells are `u16`s with [`BLANK`] for an empty cell.
//!
//! The pad's size is checked against the run's memory limit before it is
//! allocated (see [`Pad::bytes_for`]), and reading a row into a number or a
//! list checks the result's size against the run's [`Meter`] first.

use crate::error::{Fault, FaultResult, RunErrorKind};
use crate::value::{self, Dir, Meter, Value};
use num_bigint::{BigInt, Sign};
use std::fmt::Write;

/// The cell value of an empty cell.
pub(crate) const BLANK: u16 = u16::MAX;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pad {
    pub rows: usize,
    pub cols: usize,
    pub base: u16,
    /// Row-major, `rows * cols`.
    pub cells: Vec<u16>,
    pub ptr_row: Vec<u32>,
    pub ptr_col: Vec<u32>,
    /// For messages: the pointers' names.
    pub ptr_names: std::sync::Arc<[String]>,
    /// A pose world's grid and car (`None` for a scratchpad).
    pub pose: Option<PoseState>,
}

/// What a pose world's pad holds beside its pointers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PoseState {
    pub decl: crate::ir::PoseDecl,
    /// The car's seed ([`crate::car_render::Car::from_seed`]).
    pub car: u16,
}

impl Pad {
    pub(crate) fn new(rows: usize, cols: usize, base: u16, ptr_names: std::sync::Arc<[String]>) -> FaultResult<Pad> {
        if rows == 0 || cols == 0 {
            return Err(Fault::new(RunErrorKind::World, format!("the pad would have {rows} rows and {cols} columns"))
                .hint("a scratchpad needs at least one row and one column"));
        }
        // Pointers keep their column in a u32; the run's memory limit, checked
        // by the caller, is what normally bounds the pad.
        if rows.checked_mul(cols).is_none() || cols > u32::MAX as usize || rows > u32::MAX as usize {
            return Err(Fault::new(
                RunErrorKind::MemoryLimit,
                format!("the pad would have {rows} rows of {cols} columns, more than synth can address"),
            ));
        }
        let n = ptr_names.len();
        Ok(Pad {
            rows,
            cols,
            base,
            cells: vec![BLANK; rows * cols],
            ptr_row: vec![0; n],
            ptr_col: vec![0; n],
            ptr_names,
            pose: None,
        })
    }

    /// The bytes a pad of `cells` cells and `pointers` pointers holds.
    pub(crate) fn bytes_for(cells: u64, pointers: usize) -> u64 {
        cells.saturating_mul(2).saturating_add(8 * pointers as u64)
    }

    /// The bytes this pad holds.
    pub(crate) fn bytes(&self) -> u64 {
        Pad::bytes_for(self.cells.len() as u64, self.ptr_row.len())
    }

    #[inline]
    pub(crate) fn cell(&self, p: usize) -> u16 {
        self.cells[self.ptr_row[p] as usize * self.cols + self.ptr_col[p] as usize]
    }

    #[inline]
    pub(crate) fn cell_value(&self, p: usize) -> Value {
        match self.cell(p) {
            BLANK => Value::Blank,
            d => Value::Int(d as i64),
        }
    }

    #[inline]
    pub(crate) fn at_start(&self, p: usize) -> bool {
        self.ptr_col[p] == 0
    }

    #[inline]
    pub(crate) fn at_end(&self, p: usize) -> bool {
        self.ptr_col[p] as usize + 1 == self.cols
    }

    /// Converts a value into a cell: a digit of the base or blank.
    #[inline]
    pub(crate) fn to_cell(&self, v: &Value) -> Option<u16> {
        match v {
            Value::Blank => Some(BLANK),
            Value::Int(d) if (0..self.base as i64).contains(d) => Some(*d as u16),
            _ => None,
        }
    }

    #[inline]
    pub(crate) fn write(&mut self, p: usize, cell: u16) {
        let i = self.ptr_row[p] as usize * self.cols + self.ptr_col[p] as usize;
        self.cells[i] = cell;
    }

    #[inline]
    pub(crate) fn move_ptr(&mut self, p: usize, dir: Dir) -> FaultResult<()> {
        if let Some(pose) = self.pose {
            return self.rotate(pose.decl, p, dir);
        }
        let last = self.cols as u32 - 1;
        self.step(p, dir, last, |pad, d| pad.off_edge(p, if d == Dir::Left { "left" } else { "right" }))
    }

    /// Moves pointer `p` one column towards `dir` within columns
    /// `0..=last`; at either end, the error `edge` makes for that side.
    #[inline]
    fn step(&mut self, p: usize, dir: Dir, last: u32, edge: impl FnOnce(&Pad, Dir) -> Box<Fault>) -> FaultResult<()> {
        let col = self.ptr_col[p];
        match dir {
            Dir::Left if col == 0 => Err(edge(self, dir)),
            Dir::Right if col >= last => Err(edge(self, dir)),
            Dir::Left => {
                self.ptr_col[p] = col - 1;
                Ok(())
            }
            Dir::Right => {
                self.ptr_col[p] = col + 1;
                Ok(())
            }
        }
    }

    /// A pose world's rotation: the azimuth (row 0) wraps around, the
    /// elevation stops at ±90 degrees.
    fn rotate(&mut self, pose: crate::ir::PoseDecl, p: usize, dir: Dir) -> FaultResult<()> {
        let col = self.ptr_col[p];
        if self.ptr_row[p] == 0 {
            let n = pose.azimuth_classes() as u32;
            self.ptr_col[p] = match dir {
                Dir::Left => (col + n - 1) % n,
                Dir::Right => (col + 1) % n,
            };
            return Ok(());
        }
        let last = pose.elevation_classes() as u32 - 1;
        self.step(p, dir, last, |pad, d| if d == Dir::Left { pad.past_pole("down", -90) } else { pad.past_pole("up", 90) })
    }

    #[cold]
    fn past_pole(&self, dir: &str, degrees: i32) -> Box<Fault> {
        Fault::new(RunErrorKind::World, format!("the camera cannot turn {dir} past an elevation of {degrees} degrees"))
            .label("rotated past the pole")
            .hint(format!("test `angle(elevation)` before rotating {dir}"))
    }

    /// A pose world's angle of pointer `p`, in degrees.
    pub(crate) fn degrees(&self, p: usize) -> Option<i32> {
        self.pose.map(|pose| pose.decl.degrees(self.ptr_row[p] as usize, self.ptr_col[p]))
    }

    /// Points axis `axis` (0 azimuth, 1 elevation) of the camera (or, with
    /// `target`, of the target) at `degrees`: a multiple of the axis's step,
    /// the azimuth in -180..=180 (-180 and 180 are one pose), the elevation
    /// in -90..=90.
    pub(crate) fn set_angle(&mut self, target: bool, axis: usize, degrees: &Value) -> FaultResult<()> {
        let Some(pose) = self.pose else {
            return Err(Fault::new(RunErrorKind::World, "only a pose world has a camera"));
        };
        let d = pose.decl;
        let (name, step, limit) =
            if axis == 0 { ("azimuth", d.azimuth_step as i64, 180) } else { ("elevation", d.elevation_step as i64, 90) };
        let who = if target { "target" } else { "camera" };
        let v = match degrees.as_i64() {
            Some(v) if (-limit..=limit).contains(&v) && v % step == 0 => v,
            _ => {
                return Err(Fault::new(
                    RunErrorKind::Value,
                    format!("the {who}'s {name} must be a multiple of {step} degrees from {} to {limit}, not {}", -limit, degrees.describe()),
                )
                .hint(format!("draw it as `{step} * random_int(a..=b)`")))
            }
        };
        let col = if axis == 0 {
            ((v - d.azimuth_origin() as i64) / step).rem_euclid(d.azimuth_classes() as i64)
        } else {
            (v - crate::ir::PoseDecl::ELEVATION_ORIGIN as i64) / step
        };
        self.ptr_col[axis + 2 * target as usize] = col as u32;
        Ok(())
    }

    #[cold]
    fn off_edge(&self, p: usize, side: &str) -> Box<Fault> {
        Fault::new(
            RunErrorKind::World,
            format!("pointer `{}` moved off the {side} edge of row {}", self.ptr_names[p], self.ptr_row[p]),
        )
        .label("moved off the pad")
        .hint(format!(
            "`{}` was already at the {side} end of its row; test `at_{}({})` before moving {side}",
            self.ptr_names[p],
            if side == "left" { "start" } else { "end" },
            self.ptr_names[p]
        ))
    }

    #[inline]
    pub(crate) fn swap(&mut self, p: usize, q: usize) {
        let i = self.ptr_row[p] as usize * self.cols + self.ptr_col[p] as usize;
        let j = self.ptr_row[q] as usize * self.cols + self.ptr_col[q] as usize;
        self.cells.swap(i, j);
    }

    pub(crate) fn row_index(&self, row: &Value) -> FaultResult<usize> {
        match row.as_i64() {
            Some(r) if r >= 0 && (r as usize) < self.rows => Ok(r as usize),
            _ => Err(Fault::new(
                RunErrorKind::World,
                format!("row {} does not exist: the pad's rows are 0 to {}", row.describe(), self.rows - 1),
            )),
        }
    }

    fn row(&self, r: usize) -> &[u16] {
        &self.cells[r * self.cols..(r + 1) * self.cols]
    }

    /// Writes `x` right-aligned on row `r`, one digit per cell.
    pub(crate) fn write_number(&mut self, r: usize, x: &Value) -> FaultResult<()> {
        let big = match x.to_big() {
            Some(b) if b.sign() != Sign::Minus => b,
            _ => {
                return Err(Fault::new(
                    RunErrorKind::Value,
                    format!("`write_number` writes non-negative integers, not {}", x.describe()),
                ))
            }
        };
        let digits = if big.sign() == Sign::NoSign { vec![0u32] } else { to_digits(&big, self.base) };
        if digits.len() > self.cols {
            return Err(Fault::new(
                RunErrorKind::World,
                format!(
                    "row {r} is too narrow for {} ({} digits, {} column{})",
                    x.describe(),
                    digits.len(),
                    self.cols,
                    plural(self.cols)
                ),
            )
            .hint("make the pad wider in the world block, e.g. `cols: n + 2`"));
        }
        let start = r * self.cols + self.cols - digits.len();
        for (i, d) in digits.iter().enumerate() {
            self.cells[start + i] = *d as u16;
        }
        Ok(())
    }

    /// The row's digits, blanks skipped, as one number (0 for an empty row).
    /// A number longer than the meter allows is refused before it is built
    /// (leading zeros do not count).
    pub(crate) fn read_number(&self, r: usize, meter: &Meter) -> FaultResult<Value> {
        let row = self.row(r);
        let first = row.iter().position(|&c| c != BLANK && c != 0).unwrap_or(row.len());
        let significant = row[first..].iter().filter(|&&c| c != BLANK).count();
        let bits = (significant as f64 * (self.base as f64).log2()).ceil() as u64;
        if bits <= 62 {
            let mut v: i64 = 0;
            for &d in row[first..].iter().filter(|&&c| c != BLANK) {
                v = v * self.base as i64 + d as i64;
            }
            return Ok(Value::Int(v));
        }
        meter.int_bits(bits)?;
        meter.charge(value::big_bytes(bits))?;
        let digits: Vec<u8> = row[first..].iter().filter(|&&c| c != BLANK).map(|&c| c as u8).collect();
        Ok(Value::from_big(from_digits(&digits, self.base)))
    }

    /// Writes the list left-aligned on row `r`.
    pub(crate) fn write_list(&mut self, r: usize, xs: &Value) -> FaultResult<()> {
        let Value::List(items) = xs else {
            return Err(Fault::new(RunErrorKind::Value, format!("`write_list` writes a list, not {}", xs.describe())));
        };
        if items.len() > self.cols {
            return Err(Fault::new(
                RunErrorKind::World,
                format!(
                    "row {r} is too narrow for a list of {} ({} column{})",
                    items.len(),
                    self.cols,
                    plural(self.cols)
                ),
            )
            .hint("make the pad wider in the world block, e.g. `cols: n + 1`"));
        }
        for (i, v) in items.iter().enumerate() {
            let Some(c) = self.to_cell(v) else {
                return Err(Fault::new(RunErrorKind::World, format!("cannot write {} into a cell", v.describe()))
                    .hint(format!("a cell holds a digit from 0 to {} or blank", self.base - 1)));
            };
            self.cells[r * self.cols + i] = c;
        }
        Ok(())
    }

    /// The row's non-blank cells, left to right; refused before it is built
    /// if the list would be longer than the meter allows.
    pub(crate) fn read_list(&self, r: usize, meter: &Meter) -> FaultResult<Value> {
        let n = self.row(r).iter().filter(|&&c| c != BLANK).count();
        meter.list(n as u64)?;
        Ok(Value::list(self.row(r).iter().filter(|&&c| c != BLANK).map(|&c| Value::Int(c as i64)).collect()))
    }

    /// The pad for humans: one line per row, then a line of carets under
    /// every pointer.
    pub(crate) fn render(&self) -> String {
        let w = if self.base <= 10 { 1 } else { (self.base - 1).to_string().len() };
        let mut out = String::new();
        for r in 0..self.rows {
            let _ = write!(out, "row {r:<3}");
            for &c in self.row(r) {
                if c == BLANK {
                    let _ = write!(out, " {:>w$}", "_");
                } else {
                    let _ = write!(out, " {c:>w$}");
                }
            }
            out.push('\n');
            // Pointers on this row, leftmost first, each on its own caret line
            // when they share a column.
            let mut here: Vec<usize> = (0..self.ptr_row.len()).filter(|&p| self.ptr_row[p] as usize == r).collect();
            here.sort_by_key(|&p| self.ptr_col[p]);
            let mut line = String::new();
            let mut used_to = 0usize;
            let mut pending: Vec<usize> = Vec::new();
            for p in here {
                let col = 7 + self.ptr_col[p] as usize * (w + 1) + w;
                if col < used_to {
                    pending.push(p);
                    continue;
                }
                while line.len() < col {
                    line.push(' ');
                }
                let _ = write!(line, "^{}", self.ptr_names[p]);
                used_to = line.len() + 1;
            }
            if !line.is_empty() {
                out.push_str(line.trim_end());
                out.push('\n');
            }
            for p in pending {
                let col = 7 + self.ptr_col[p] as usize * (w + 1) + w;
                let _ = writeln!(out, "{}^{}", " ".repeat(col), self.ptr_names[p]);
            }
        }
        out
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Most significant digit first.
fn to_digits(x: &BigInt, base: u16) -> Vec<u32> {
    let (_, digits) = x.to_radix_be(base as u32);
    digits.into_iter().map(u32::from).collect()
}

fn from_digits(digits: &[u8], base: u16) -> BigInt {
    BigInt::from_radix_be(Sign::Plus, digits, base as u32).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pad(rows: usize, cols: usize) -> Pad {
        Pad::new(rows, cols, 10, vec!["p".to_string(), "q".to_string()].into()).unwrap()
    }

    #[test]
    fn numbers_round_trip_right_aligned() {
        let mut p = pad(2, 6);
        p.write_number(0, &Value::Int(1234)).unwrap();
        assert_eq!(&p.cells[..6], &[BLANK, BLANK, 1, 2, 3, 4]);
        let m = Meter::new(crate::Limits::default());
        assert_eq!(p.read_number(0, &m).unwrap(), Value::Int(1234));
        assert_eq!(p.read_number(1, &m).unwrap(), Value::Int(0));
        let big: BigInt = "9".repeat(40).parse().unwrap();
        let mut wide = pad(1, 41);
        wide.write_number(0, &Value::from_big(big.clone())).unwrap();
        assert_eq!(wide.read_number(0, &m).unwrap(), Value::from_big(big));
        let tight = Meter::new(crate::Limits { max_int_bits: 100, ..crate::Limits::default() });
        assert_eq!(wide.read_number(0, &tight).unwrap_err().kind, RunErrorKind::SizeLimit);
        // Leading zeros do not count against the limit.
        let mut zeros = pad(1, 200);
        zeros.cells.fill(0);
        *zeros.cells.last_mut().unwrap() = 7;
        assert_eq!(zeros.read_number(0, &tight).unwrap(), Value::Int(7));
        assert!(p.write_number(1, &Value::Int(1_234_567)).is_err());
    }

    #[test]
    fn long_rows_in_large_bases_do_not_overflow() {
        // 15 digits of 255 in base 256 are 120 bits: too many for the i64
        // path that 15 decimal digits take.
        let mut p = Pad::new(1, 15, 256, vec!["p".to_string()].into()).unwrap();
        p.cells.fill(255);
        let m = Meter::new(crate::Limits::default());
        let expected = (BigInt::from(1) << 120) - 1;
        assert_eq!(p.read_number(0, &m).unwrap(), Value::from_big(expected));
    }

    #[test]
    fn lists_round_trip_left_aligned() {
        let mut p = pad(1, 5);
        p.write_list(0, &Value::list(vec![Value::Int(3), Value::Int(0)])).unwrap();
        assert_eq!(&p.cells, &[3, 0, BLANK, BLANK, BLANK]);
        let m = Meter::new(crate::Limits::default());
        assert_eq!(p.read_list(0, &m).unwrap(), Value::list(vec![Value::Int(3), Value::Int(0)]));
        let short = Meter::new(crate::Limits { max_list_len: 1, ..crate::Limits::default() });
        assert_eq!(p.read_list(0, &short).unwrap_err().kind, RunErrorKind::SizeLimit);
        assert!(p.write_list(0, &Value::list(vec![Value::Int(10)])).is_err());
    }

    #[test]
    fn moves_stop_at_the_edges() {
        let mut p = pad(3, 2);
        p.ptr_row[0] = 2;
        assert!(p.move_ptr(0, Dir::Right).is_ok());
        assert!(p.at_end(0));
        let e = p.move_ptr(0, Dir::Right).unwrap_err();
        assert_eq!(e.message, "pointer `p` moved off the right edge of row 2");
        p.move_ptr(0, Dir::Left).unwrap();
        assert!(p.at_start(0));
        assert!(p.move_ptr(0, Dir::Left).is_err());
    }

    #[test]
    fn renders_pointers_under_their_cells() {
        let mut p = pad(1, 3);
        p.write_list(0, &Value::list(vec![Value::Int(4), Value::Int(2)])).unwrap();
        p.ptr_col[1] = 2;
        assert_eq!(p.render(), "row 0   4 2 _\n        ^p  ^q\n");
    }
}

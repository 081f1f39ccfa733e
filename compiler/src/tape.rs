//! The tape world: `cells` integers, each in `0..cells` (so every value is
//! also an address), all 0 at the start. `mem[i]` reads a cell and
//! `mem[i] = v` writes one, in `input` and in programs; `write_list` and
//! `read_list` move whole lists in `input` and `expect`. An address or a
//! stored value outside `0..cells` is an error, never wrapped around.
//!
//! Once the programs start ([`Tape::start_run`]) every write marks its cell:
//! the marked cells are the ones a learner is graded on. A reference run for
//! `synth trace` also logs every write with the program that made it.
//!
//! The tape's size is checked against the run's memory limit before it is
//! allocated (see [`Tape::bytes_for`]); the log is charged to the run's
//! [`Meter`] write by write.

use crate::error::{Fault, FaultResult, RunErrorKind};
use crate::task::ProgramId;
use crate::value::{Meter, Value};
use std::fmt::Write;

/// The most cells a tape may have: values are `u32`s.
pub(crate) const MAX_CELLS: u64 = u32::MAX as u64;

/// One logged write: the program, the address and the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Logged {
    pub program: ProgramId,
    pub address: u32,
    pub value: u32,
}

/// The bytes the meter is charged for one logged write: the log entry (twice,
/// for the vector's growth) and the [`crate::task::TapeWrite`] it becomes,
/// whose program name is charged separately.
pub(crate) const LOGGED_BYTES: u64 =
    2 * std::mem::size_of::<Logged>() as u64 + std::mem::size_of::<crate::task::TapeWrite>() as u64;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tape {
    pub cells: Vec<u32>,
    /// Per cell, whether a program wrote it since [`Tape::start_run`].
    pub written: Vec<bool>,
    /// Whether writes are marked (the programs run) or not (`input`).
    tracking: bool,
    /// The programs' writes in order, when a trace asked for them.
    pub log: Option<Vec<Logged>>,
}

impl Tape {
    /// A tape of `cells` zeros. The caller has checked [`Tape::bytes_for`]
    /// against the memory limit and `cells` against [`MAX_CELLS`].
    pub(crate) fn new(cells: usize) -> Tape {
        Tape { cells: vec![0; cells], written: vec![false; cells], tracking: false, log: None }
    }

    /// The bytes a tape of `cells` cells holds during a run: each cell's
    /// value, its written flag, its value in the copy of the input tape kept
    /// beside the run, and its address in the list of graded cells an
    /// example ends with.
    pub(crate) fn bytes_for(cells: u64) -> u64 {
        cells.saturating_mul(3 * std::mem::size_of::<u32>() as u64 + 1)
    }

    /// The bytes this tape holds (0 for the empty tape of a scratchpad).
    pub(crate) fn bytes(&self) -> u64 {
        Tape::bytes_for(self.cells.len() as u64)
    }

    pub(crate) fn len(&self) -> usize {
        self.cells.len()
    }

    /// From now on, writes mark their cells (and are logged if `log`).
    pub(crate) fn start_run(&mut self, log: bool) {
        self.tracking = true;
        self.written.iter_mut().for_each(|w| *w = false);
        self.log = log.then(Vec::new);
    }

    /// The cells written since [`Tape::start_run`], ascending.
    pub(crate) fn graded(&self) -> Vec<u32> {
        self.written.iter().enumerate().filter(|(_, &w)| w).map(|(i, _)| i as u32).collect()
    }

    /// "0 to 7", or "none" for an empty tape.
    fn bounds(&self) -> String {
        match self.cells.len() {
            0 => "none".into(),
            n => format!("0 to {}", n - 1),
        }
    }

    /// An address: an integer in `0..cells`.
    pub(crate) fn address(&self, v: &Value) -> FaultResult<usize> {
        match v {
            Value::Int(a) if *a >= 0 && (*a as u64) < self.cells.len() as u64 => Ok(*a as usize),
            Value::Int(_) | Value::Big(_) => Err(Fault::new(
                RunErrorKind::World,
                format!(
                    "address {} is outside the tape, whose {} cells are {}",
                    v.describe(),
                    self.cells.len(),
                    self.bounds()
                ),
            )
            .label("no such cell")
            .hint("give the world more cells, e.g. `world tape(cells: 2 * n + 2)`, or check the address")),
            other => Err(Fault::new(
                RunErrorKind::Value,
                format!("an address is an integer, found {}", other.describe()),
            )),
        }
    }

    /// Where a list starts: an address, or `cells` itself (the end of the
    /// tape, where only an empty list fits).
    fn start(&self, at: &Value) -> FaultResult<usize> {
        match at {
            Value::Int(a) if *a >= 0 && *a as u64 == self.cells.len() as u64 => Ok(self.cells.len()),
            _ => self.address(at),
        }
    }

    /// A value a cell can hold: an integer in `0..cells`.
    pub(crate) fn value(&self, v: &Value) -> FaultResult<u32> {
        match v {
            Value::Int(x) if *x >= 0 && (*x as u64) < self.cells.len() as u64 => Ok(*x as u32),
            Value::Int(_) | Value::Big(_) => Err(Fault::new(
                RunErrorKind::World,
                format!(
                    "cannot store {} on a tape of {} cells: a cell holds {}",
                    v.describe(),
                    self.cells.len(),
                    self.bounds()
                ),
            )
            .label("out of range")
            .hint("every value on a tape is also an address, so it is in `0..cells`; give the world more cells or store a smaller value")),
            other => Err(Fault::new(
                RunErrorKind::Value,
                format!("a tape cell holds an integer, not {}", other.describe()),
            )),
        }
    }

    /// `mem[address]`.
    #[inline]
    pub(crate) fn read(&self, address: &Value) -> FaultResult<Value> {
        let a = self.address(address)?;
        Ok(Value::Int(i64::from(self.cells[a])))
    }

    /// `mem[address] = value`, by `program` (`None` in `input`). A logged
    /// write is charged to `meter` first.
    #[inline]
    pub(crate) fn write(
        &mut self,
        address: &Value,
        value: &Value,
        program: Option<(ProgramId, &str)>,
        meter: &Meter,
    ) -> FaultResult<()> {
        let a = self.address(address)?;
        let v = self.value(value)?;
        if self.tracking {
            if let (Some(log), Some((id, name))) = (self.log.as_mut(), program) {
                meter.charge(LOGGED_BYTES + name.len() as u64)?;
                log.push(Logged { program: id, address: a as u32, value: v });
            }
            self.written[a] = true;
        }
        self.cells[a] = v;
        Ok(())
    }

    /// `write_list(at: a, xs)`: every element is checked before any is
    /// written.
    pub(crate) fn write_list(&mut self, at: &Value, xs: &Value) -> FaultResult<()> {
        let Value::List(items) = xs else {
            return Err(Fault::new(RunErrorKind::Value, format!("`write_list` writes a list, not {}", xs.describe())));
        };
        let start = self.start(at)?;
        if items.len() > self.cells.len() - start {
            return Err(Fault::new(
                RunErrorKind::World,
                format!(
                    "a list of {} written at address {start} does not fit on the tape, whose {} cells are {}",
                    items.len(),
                    self.cells.len(),
                    self.bounds()
                ),
            )
            .hint("give the world more cells, or write the list at a lower address"));
        }
        let values = items.iter().map(|v| self.value(v)).collect::<FaultResult<Vec<u32>>>()?;
        for (i, v) in values.into_iter().enumerate() {
            self.cells[start + i] = v;
            if self.tracking {
                self.written[start + i] = true;
            }
        }
        Ok(())
    }

    /// `read_list(at: a, len: k)`: the `k` cells from `a` on; refused before
    /// it is built if the list would be longer than the meter allows.
    pub(crate) fn read_list(&self, at: &Value, len: &Value, meter: &Meter) -> FaultResult<Value> {
        let k = match len {
            Value::Int(k) if *k >= 0 => *k as u64,
            // Longer than any tape: refused below, as running off it.
            Value::Big(b) if b.sign() == num_bigint::Sign::Plus => u64::MAX,
            other => {
                return Err(Fault::new(
                    RunErrorKind::Value,
                    format!("`read_list` needs a length of at least 0, found {}", other.describe()),
                ))
            }
        };
        let start = self.start(at)?;
        if k > (self.cells.len() - start) as u64 {
            return Err(Fault::new(
                RunErrorKind::World,
                format!(
                    "`read_list` of {k} cells from address {start} runs off the tape, whose {} cells are {}",
                    self.cells.len(),
                    self.bounds()
                ),
            ));
        }
        meter.list(k)?;
        let k = k as usize;
        Ok(Value::list(self.cells[start..start + k].iter().map(|&c| Value::Int(i64::from(c))).collect()))
    }

    /// The tape for humans: 16 cells a line, each line led by its first
    /// address.
    pub(crate) fn render(&self) -> String {
        render_cells(&self.cells, &[])
    }
}

/// `cells` 16 a line, each line led by its first address; a cell listed in
/// `marked` (ascending) is followed by `*`.
pub(crate) fn render_cells(cells: &[u32], marked: &[u32]) -> String {
    let w = cells.iter().map(|c| c.to_string().len()).max().unwrap_or(1);
    let aw = cells.len().saturating_sub(1).max(1).to_string().len();
    let mut out = String::new();
    let mut marks = marked.iter().peekable();
    for (row, chunk) in cells.chunks(16).enumerate() {
        let _ = write!(out, "{:>aw$}:", row * 16);
        for (k, c) in chunk.iter().enumerate() {
            let i = (row * 16 + k) as u32;
            while marks.peek().is_some_and(|&&m| m < i) {
                marks.next();
            }
            let mark = if marks.peek() == Some(&&i) { "*" } else { " " };
            let _ = write!(out, " {c:>w$}{mark}");
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(i: i64) -> Value {
        Value::Int(i)
    }

    #[test]
    fn addresses_and_values_stay_on_the_tape() {
        let meter = Meter::new(crate::Limits::default());
        let mut t = Tape::new(4);
        t.write(&int(3), &int(3), None, &meter).unwrap();
        assert_eq!(t.read(&int(3)).unwrap(), int(3));
        let e = t.write(&int(4), &int(0), None, &meter).unwrap_err();
        assert_eq!(e.message, "address 4 is outside the tape, whose 4 cells are 0 to 3");
        let e = t.write(&int(0), &int(4), None, &meter).unwrap_err();
        assert_eq!(e.message, "cannot store 4 on a tape of 4 cells: a cell holds 0 to 3");
        assert!(t.read(&int(-1)).is_err());
        assert_eq!(t.read(&Value::Bool(true)).unwrap_err().kind, RunErrorKind::Value);
    }

    #[test]
    fn only_the_programs_writes_are_marked_and_logged() {
        let meter = Meter::new(crate::Limits::default());
        let mut t = Tape::new(6);
        t.write_list(&int(1), &Value::list(vec![int(5), int(2)])).unwrap();
        t.write(&int(0), &int(3), None, &meter).unwrap();
        t.start_run(true);
        t.write(&int(4), &int(2), Some((1, "COPY")), &meter).unwrap();
        t.write(&int(4), &int(1), Some((1, "COPY")), &meter).unwrap();
        assert_eq!(t.cells, [3, 5, 2, 0, 1, 0]);
        assert_eq!(t.graded(), [4]);
        assert_eq!(t.log.as_ref().map(Vec::len), Some(2));
        assert!(meter.values() >= 2 * LOGGED_BYTES);
        assert_eq!(
            t.read_list(&int(1), &int(2), &meter).unwrap(),
            Value::list(vec![int(5), int(2)])
        );
        assert!(t.read_list(&int(5), &int(2), &meter).is_err());
        assert_eq!(t.read_list(&int(6), &int(0), &meter).unwrap(), Value::list(vec![]));
        assert!(t.write_list(&int(5), &Value::list(vec![int(1), int(1)])).is_err());
        // Nothing was written by the refused list.
        assert_eq!(t.cells[5], 0);
    }

    #[test]
    fn renders_sixteen_cells_a_line_with_marks() {
        let cells: Vec<u32> = (0..18).collect();
        assert_eq!(
            render_cells(&cells, &[1, 17]),
            " 0:  0   1*  2   3   4   5   6   7   8   9  10  11  12  13  14  15\n16: 16  17*\n"
        );
    }
}

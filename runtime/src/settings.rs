//! Reading `learn` settings into a learner's config: the value checks and
//! the "did you mean" hint every learner shares. Each learner's
//! `ConfigError` turns a [`BadValue`] into its own variant, so that the
//! message names the learner.

use std::collections::BTreeMap;
use synth_compiler::suggest::edit_distance;
use synth_compiler::{learners, SettingValue};

/// The setting names `learner` takes: its entry in the compiler's
/// catalogue of learners (which `synth check` holds a `learn` block to),
/// and `return`, which the compiler reads but `--set` may repeat.
pub fn known(learner: &str) -> Vec<&'static str> {
    let catalogue = learners::lookup(learner).map_or(&[][..], |l| l.settings);
    catalogue.iter().map(|s| s.name).chain(["return"]).collect()
}

/// The training threads a `threads` setting asks for: itself, or for 0 one
/// per physical core (the NPI's default).
pub fn threads(setting: usize) -> usize {
    if setting > 0 {
        setting
    } else {
        crate::npi::TrainConfig::default().threads()
    }
}

/// The cores this process may use: synth's own default thread count.
/// (Not candle's `get_num_threads()`, which the `synth` binary sets to 1
/// for candle's own ops, see `src/main.rs`.)
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The first of `settings` whose name is not among `known`.
pub fn unknown<'a>(settings: &'a BTreeMap<String, SettingValue>, known: &[&str]) -> Option<&'a String> {
    settings.keys().find(|k| !known.contains(&k.as_str()))
}

/// A setting whose value has the wrong kind or is out of range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadValue {
    pub key: String,
    pub expected: &'static str,
    pub found: String,
}

impl BadValue {
    pub fn new(key: &str, expected: &'static str, v: &SettingValue) -> BadValue {
        BadValue { key: key.into(), expected, found: show(v) }
    }
}

/// A setting's value as the user wrote it.
pub fn show(v: &SettingValue) -> String {
    match v {
        SettingValue::Int(i) => i.to_string(),
        SettingValue::Float(f) => f.to_string(),
        SettingValue::Word(w) => format!("`{w}`"),
        SettingValue::List(l) => format!("{l:?}"),
        SettingValue::Words(w) => format!("[{}]", w.join(", ")),
        SettingValue::Flag(b) => b.to_string(),
    }
}

/// An integer in `1..=max`.
pub fn positive(key: &str, v: &SettingValue, max: usize) -> Result<usize, BadValue> {
    match v {
        SettingValue::Int(i) if *i > 0 && *i as u64 <= max as u64 => Ok(*i as usize),
        _ => Err(BadValue::new(key, if max == usize::MAX { "a positive integer" } else { "a positive integer in range" }, v)),
    }
}

/// An integer, 0 or more.
pub fn count(key: &str, v: &SettingValue) -> Result<usize, BadValue> {
    match v {
        SettingValue::Int(i) if *i >= 0 => Ok(*i as usize),
        _ => Err(BadValue::new(key, "a non-negative integer", v)),
    }
}

/// A finite number in `lo..=hi` (integers accepted).
pub fn number(key: &str, v: &SettingValue, lo: f64, hi: f64) -> Result<f64, BadValue> {
    let x = match v {
        SettingValue::Int(i) => *i as f64,
        SettingValue::Float(f) => *f,
        _ => f64::NAN,
    };
    if x.is_finite() && x >= lo && x <= hi {
        Ok(x)
    } else {
        Err(BadValue::new(key, "a number in range", v))
    }
}

/// The tail of an "unknown setting" message: the closest known name if
/// one is within two edits, else the whole list.
pub fn hint(known: &[&str], key: &str) -> String {
    match known.iter().min_by_key(|k| edit_distance(k, key)) {
        Some(close) if edit_distance(close, key) <= 2 => format!(" (did you mean `{close}`?)"),
        _ => format!(" (known: {})", known.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked() {
        assert_eq!(positive("k", &SettingValue::Int(3), 4), Ok(3));
        assert!(positive("k", &SettingValue::Int(5), 4).is_err());
        assert!(positive("k", &SettingValue::Int(0), usize::MAX).is_err());
        assert_eq!(count("k", &SettingValue::Int(0)), Ok(0));
        assert!(count("k", &SettingValue::Float(1.0)).is_err());
        assert_eq!(number("k", &SettingValue::Int(1), 0.0, 1.0), Ok(1.0));
        assert!(number("k", &SettingValue::Float(f64::NAN), 0.0, 1.0).is_err());
        let e = number("lr", &SettingValue::Word("fast".into()), 0.0, 1.0).unwrap_err();
        assert_eq!((e.key.as_str(), e.found.as_str()), ("lr", "`fast`"));
    }

    #[test]
    fn hints_name_the_closest_setting() {
        assert_eq!(hint(&["hidden", "layers"], "hiden"), " (did you mean `hidden`?)");
        assert_eq!(hint(&["hidden", "layers"], "xyzzy"), " (known: hidden, layers)");
    }
}

/// One size or a list of sizes, each at least 1 (`validation_sizes [20, 40]`).
pub fn sizes(key: &str, v: &SettingValue) -> Result<Vec<usize>, BadValue> {
    match v {
        SettingValue::Int(i) if *i > 0 => Ok(vec![*i as usize]),
        SettingValue::List(l) if !l.is_empty() && l.iter().all(|&s| s > 0) => Ok(l.iter().map(|&s| s as usize).collect()),
        _ => Err(BadValue::new(key, "a size or a list of sizes", v)),
    }
}

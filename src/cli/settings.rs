//! `--set KEY=VALUE` of `synth learn`: one learner setting given on the
//! command line, parsed into the same value the `learn` block would hold.

use anyhow::anyhow;
use synth_compiler::SettingValue;

/// `KEY=VALUE` of `--set`: an integer, a decimal, `true`/`false`, a
/// comma-separated list of integers or of names (`modules=read,inc,write`),
/// or a word.
pub fn parse_setting(s: &str) -> Result<(String, SettingValue), anyhow::Error> {
    let Some((key, value)) = s.split_once('=') else {
        return Err(anyhow!("--set expects KEY=VALUE (like `hidden=128`), found `{s}`"));
    };
    let (key, value) = (key.trim(), value.trim());
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(anyhow!("--set: `{key}` is not a setting name (letters, digits and `_`)"));
    }
    if value.is_empty() {
        return Err(anyhow!("--set {key}: no value after `=`"));
    }
    let list = value.trim_start_matches('[').trim_end_matches(']');
    let value = if let Ok(i) = value.parse::<i64>() {
        SettingValue::Int(i)
    } else if let Ok(f) = value.parse::<f64>() {
        SettingValue::Float(f)
    } else if value == "true" || value == "false" {
        SettingValue::Flag(value == "true")
    } else if value.contains('(') {
        // A circuit (`start=read1(r0) write2(one0, read1)`), commas and all.
        SettingValue::Word(value.to_string())
    } else if list.contains(',') || value.starts_with('[') {
        let word = |x: &str| x.starts_with(|c: char| c.is_ascii_alphabetic()) && x.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let items: Vec<&str> = list.split(',').map(str::trim).collect();
        if !items.is_empty() && items.iter().all(|x| word(x)) {
            SettingValue::Words(items.iter().map(|x| x.to_string()).collect())
        } else {
            let ints: Result<Vec<i64>, _> = items.iter().map(|x| x.parse::<i64>()).collect();
            SettingValue::List(ints.map_err(|_| anyhow!("--set {key}: `{value}` is not a list of integers or of names"))?)
        }
    } else {
        SettingValue::Word(value.to_string())
    };
    Ok((key.to_string(), value))
}

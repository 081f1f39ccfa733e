//! "did you mean `LSHIFT`?": the closest known name to a misspelt one, by
//! edit distance, for the hints of unknown-name errors. The runtime uses it
//! too (through this crate, so it need not depend on `synth-dsl`).

pub use synth_dsl::edit_distance;

/// The candidate closest to `name`, if it is close enough to be a likely
/// typo: at most a third of the name's length away (at least 1), or equal
/// ignoring case. Ties go to the earlier candidate, so results are stable.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c == name {
            continue;
        }
        let d = if c.eq_ignore_ascii_case(name) { 0 } else { edit_distance(name, c) };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// `did you mean `X`?` for the closest candidate.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_only_close_names() {
        assert_eq!(closest("LSHIT", ["ADD", "LSHIFT", "CARRY"]), Some("LSHIFT"));
        assert_eq!(closest("carry", ["CARRY"]), Some("CARRY"));
        assert_eq!(closest("xyz", ["ADD", "LSHIFT"]), None);
        assert_eq!(closest("in3", ["in1", "in2"]), Some("in1"));
    }
}

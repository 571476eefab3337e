//! "Did you mean": the closest known names to a mistyped one.

/// Up to three known names close to `input`, best first (case-insensitive edit distance).
pub fn did_you_mean<'a>(input: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let input = input.to_lowercase();
    let max = (input.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, &str)> = known
        .into_iter()
        .map(|k| (strsim::damerau_levenshtein(&input, &k.to_lowercase()), k))
        .filter(|&(d, k)| d <= max || k.to_lowercase().starts_with(&input))
        .collect();
    scored.sort();
    // Only the closest: `wbe01` means `web01`, not also `web02`.
    let best = scored.first().map_or(0, |&(d, _)| d);
    scored
        .into_iter()
        .take_while(|&(d, _)| d == best)
        .take(3)
        .map(|(_, k)| k)
        .collect()
}

/// A `help:` line for the suggestions, if any.
pub fn help_line(input: &str, known: &[String]) -> Option<String> {
    let s = did_you_mean(input, known.iter().map(String::as_str));
    match s.as_slice() {
        [] => None,
        [one] => Some(format!("did you mean `{one}`?")),
        many => Some(format!(
            "did you mean one of: {}?",
            many.iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let known = ["web01", "web02", "db-prod", "jump"];
        assert_eq!(did_you_mean("web1", known), vec!["web01"]);
        assert_eq!(did_you_mean("web0", known), vec!["web01", "web02"]);
        assert_eq!(did_you_mean("DB-PORD", known), vec!["db-prod"]);
        assert!(did_you_mean("zzzzzzzz", known).is_empty());
    }
}

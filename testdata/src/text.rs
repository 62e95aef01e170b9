//! Comparing transcripts: normalization and word error rate.

/// Lower-case words; apostrophes dropped, other punctuation (hyphens included) separates.
pub fn normalize(text: &str) -> Vec<String> {
    text.chars()
        .filter(|c| *c != '\'' && *c != '\u{2019}')
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Word error rate of `hypothesis` against `reference`: word-level Levenshtein distance
/// (substitutions, insertions, deletions) over the reference's word count.
pub fn wer(reference: &str, hypothesis: &str) -> f64 {
    let (r, h) = (normalize(reference), normalize(hypothesis));
    let mut previous: Vec<usize> = (0..=h.len()).collect();
    for (i, rw) in r.iter().enumerate() {
        let mut current = vec![i + 1; h.len() + 1];
        for (j, hw) in h.iter().enumerate() {
            let substitution = previous[j] + usize::from(rw != hw);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[h.len()] as f64 / r.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wer_table() {
        let cases = [
            ("the cat sat", "The cat sat.", 0.0),
            ("the cat sat", "the cat", 1.0 / 3.0),
            ("the cat sat", "the dog sat", 1.0 / 3.0),
            ("the cat sat", "the cat sat down", 1.0 / 3.0),
            ("ill disposed", "ill-disposed", 0.0),
            ("don't go", "dont go", 0.0),
            ("a b c d", "", 1.0),
            ("a b", "c d e f", 2.0),
        ];
        for (reference, hypothesis, expected) in cases {
            let got = wer(reference, hypothesis);
            assert!(
                (got - expected).abs() < 1e-9,
                "{reference:?} vs {hypothesis:?}: {got}"
            );
        }
    }
}

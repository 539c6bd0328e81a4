//! The terms of a full-text index that finds exactly what
//! [`crate::search`] finds: every text containing the query as a substring,
//! in any case (issue #17: the server's search of all history, on SQLite
//! FTS5 or a PostgreSQL GIN index over the same terms).
//!
//! Chinese has no spaces between words, and a user types two characters
//! more than anything else, so words are not the unit: each run of letters
//! and digits (Han or Latin alike) is indexed as its single characters and
//! its overlapping pairs. A query's terms are the pairs of each of its runs
//! (the character itself for a run of one). Whenever a text contains the
//! query, every term of the query is a term of the text (the property test
//! below), so the index narrows the candidates without losing one; the
//! caller then keeps those whose folded text contains the folded query.

use crate::search::fold;

/// The runs of letters and digits of already folded text.
fn runs(folded: &str) -> impl Iterator<Item = Vec<char>> + '_ {
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|run| !run.is_empty())
        .map(|run| run.chars().collect())
}

/// The terms under which a text is indexed: every letter or digit and
/// every pair of adjacent ones, folded like [`fold`], sorted, each once.
pub fn index_terms(text: &str) -> Vec<String> {
    let mut terms = Vec::new();
    for run in runs(&fold(text)) {
        for (i, c) in run.iter().enumerate() {
            terms.push(c.to_string());
            if let Some(next) = run.get(i + 1) {
                terms.push([*c, *next].iter().collect());
            }
        }
    }
    terms.sort_unstable();
    terms.dedup();
    terms
}

/// The terms every text containing `query` is indexed under: the pairs of
/// each run of letters and digits (a run of one: the character), sorted,
/// each once. Empty when the query has no letter or digit: then the index
/// cannot narrow anything down.
pub fn query_terms(query: &str) -> Vec<String> {
    let mut terms = Vec::new();
    for run in runs(&fold(query.trim())) {
        if let [only] = run.as_slice() {
            terms.push(only.to_string());
        }
        terms.extend(run.windows(2).map(|pair| pair.iter().collect::<String>()));
    }
    terms.sort_unstable();
    terms.dedup();
    terms
}

/// Whether `text` is a hit for `query`: the rule of the cached search
/// ([`crate::search::SearchIndex`]), for the candidates the terms found.
pub fn is_hit(text: &str, query: &str) -> bool {
    let query = fold(query.trim());
    !query.is_empty() && fold(text).contains(&query)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(terms: &[&str]) -> Vec<String> {
        terms.iter().map(|t| (*t).to_owned()).collect()
    }

    #[test]
    fn a_chinese_text_is_indexed_by_characters_and_overlapping_pairs() {
        assert_eq!(
            index_terms("周报，已发"),
            strings(&["发", "周", "周报", "已", "已发", "报"])
        );
        assert_eq!(query_terms(" 周报 "), strings(&["周报"]));
        assert_eq!(query_terms("周"), strings(&["周"]));
        assert_eq!(query_terms("已发周报"), strings(&["发周", "周报", "已发"]));
    }

    #[test]
    fn latin_and_digits_fold_case_and_mix_with_han_in_one_run() {
        assert_eq!(
            index_terms("Go2周"),
            strings(&["2", "2周", "g", "go", "o", "o2", "周"])
        );
        assert_eq!(query_terms("GO"), strings(&["go"]));
        assert_eq!(query_terms("a b"), strings(&["a", "b"]));
        assert!(query_terms("，。!").is_empty());
    }

    #[test]
    fn a_hit_contains_the_query_in_any_case_and_a_blank_query_finds_nothing() {
        assert!(is_hit("请周五前交周报 Report", "周报"));
        assert!(is_hit("请周五前交周报 Report", "report"));
        assert!(!is_hit("请周五前交周报", "周五交"));
        assert!(!is_hit("anything", "  "));
    }
}

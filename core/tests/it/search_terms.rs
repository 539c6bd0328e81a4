//! Property test: the terms of the server's search index never lose a hit.
//! Whenever a text contains the query (in any case), every term of the
//! query is a term of the text, so narrowing by terms and then keeping the
//! texts that contain the query finds exactly what a brute-force substring
//! search finds.

use penpen_core::search_terms::{index_terms, is_hit, query_terms};
use proptest::prelude::*;

/// Han, Latin in both cases, digits, punctuation, spaces, and characters
/// whose lowercase is not one character.
fn text() -> impl Strategy<Value = Vec<char>> {
    let alphabet: Vec<char> = "周报已发会议明天下午三点GoReportabcXYZ019，。! -_İẞΣσ"
        .chars()
        .collect();
    proptest::collection::vec(proptest::sample::select(alphabet), 0..40)
}

proptest! {
    #[test]
    fn a_text_containing_the_query_has_all_its_terms(
        text in text(),
        start in 0..40usize,
        len in 1..8usize,
        flips in proptest::collection::vec(any::<bool>(), 8),
    ) {
        prop_assume!(!text.is_empty());
        let start = start % text.len();
        let end = (start + len).min(text.len());
        // The query is a piece of the text, with ASCII letters in another case.
        let query: String = text[start..end]
            .iter()
            .zip(flips.iter().cycle())
            .map(|(c, flip)| if *flip && c.is_ascii_alphabetic() {
                if c.is_ascii_lowercase() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() }
            } else {
                *c
            })
            .collect();
        let text: String = text.iter().collect();
        prop_assume!(is_hit(&text, &query));
        let indexed = index_terms(&text);
        for term in query_terms(&query) {
            prop_assert!(
                indexed.binary_search(&term).is_ok(),
                "{:?} contains {:?} but is not indexed under {:?}", text, query, term
            );
        }
    }

    #[test]
    fn terms_and_hits_agree_with_a_brute_force_search(
        texts in proptest::collection::vec(text(), 1..30),
        query in text(),
    ) {
        let query: String = query.iter().take(4).collect();
        let texts: Vec<String> = texts.iter().map(|t| t.iter().collect()).collect();
        let wanted = query_terms(&query);
        let by_terms: Vec<&String> = texts
            .iter()
            .filter(|text| {
                let indexed = index_terms(text);
                wanted.iter().all(|term| indexed.binary_search(term).is_ok())
            })
            .filter(|text| is_hit(text, &query))
            .collect();
        let folded_query = penpen_core::search::fold(query.trim());
        let brute: Vec<&String> = texts
            .iter()
            .filter(|text| !folded_query.is_empty() && penpen_core::search::fold(text).contains(&folded_query))
            .collect();
        prop_assert_eq!(by_terms, brute);
    }
}

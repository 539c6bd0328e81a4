//! Pinyin initials of Chinese names ("张三" → "zs"), so the directory finds
//! people the way Chinese users type them.
//!
//! No pinyin table ships with the app: the browser's collator sorts Chinese
//! in pinyin order (`zh-u-co-pinyin`), so a character's initial is the
//! last of these boundary characters — the first character of each initial
//! in that order — that does not sort after it.

use js_sys::{Array, Function, Intl, Object};
use wasm_bindgen::JsValue;

/// The first character of each pinyin initial, in collation order (there
/// are no syllables starting with i, u or v).
const BOUNDARIES: [(char, char); 23] = [
    ('阿', 'a'),
    ('八', 'b'),
    ('嚓', 'c'),
    ('哒', 'd'),
    ('妸', 'e'),
    ('发', 'f'),
    ('旮', 'g'),
    ('哈', 'h'),
    ('讥', 'j'),
    ('咔', 'k'),
    ('垃', 'l'),
    ('妈', 'm'),
    ('拏', 'n'),
    ('噢', 'o'),
    ('妑', 'p'),
    ('七', 'q'),
    ('呥', 'r'),
    ('仨', 's'),
    ('他', 't'),
    ('哇', 'w'),
    ('夕', 'x'),
    ('丫', 'y'),
    ('帀', 'z'),
];

/// Turns names into their initials with the browser's pinyin collation.
#[derive(Debug, Clone)]
pub struct Initials {
    compare: Function,
}

impl Default for Initials {
    fn default() -> Initials {
        Initials::new()
    }
}

impl Initials {
    /// A collator for Chinese in pinyin order.
    pub fn new() -> Initials {
        let locales = Array::of1(&JsValue::from_str("zh-CN-u-co-pinyin"));
        let collator = Intl::Collator::new(&locales, &Object::new());
        Initials {
            compare: collator.compare(),
        }
    }

    /// "张三" → "zs", "Ada 王" → "adaw": Chinese characters by their
    /// initial, Latin letters as they are (lower case), the rest left out.
    pub fn of(&self, name: &str) -> String {
        name.chars()
            .filter_map(|c| {
                if c.is_ascii_alphanumeric() {
                    Some(c.to_ascii_lowercase())
                } else if is_han(c) {
                    self.initial(c)
                } else {
                    None
                }
            })
            .collect()
    }

    fn initial(&self, c: char) -> Option<char> {
        let character = JsValue::from_str(c.encode_utf8(&mut [0; 4]));
        BOUNDARIES
            .iter()
            .rev()
            .find(|(boundary, _)| {
                let boundary = JsValue::from_str(boundary.encode_utf8(&mut [0; 4]));
                // A browser without the collation returns no number: no initial.
                self.compare
                    .call2(&JsValue::NULL, &boundary, &character)
                    .ok()
                    .and_then(|order| order.as_f64())
                    .is_some_and(|order| order <= 0.0)
            })
            .map(|(_, initial)| *initial)
    }
}

/// Whether `c` is a CJK unified ideograph (the common and extension A blocks).
fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

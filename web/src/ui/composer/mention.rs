//! @mentions in the composer (PROTOCOL §15.4): finding the `@word` being
//! typed, the members it matches (by name or pinyin initials), putting the
//! chosen name in the text, and which picked ids the text still names when
//! it is sent. The ids travel beside the text; nothing is parsed out of it.

use penpen_core::UserId;

/// What `@所有人` is called in the text, whatever the interface language
/// (the readers' clients show the text as written).
pub const EVERYONE: &str = "所有人";
/// The most candidates the picker lists at once.
pub const MAX_SHOWN: usize = 8;

/// The `@word` before the caret: where its `@` is (a byte index) and the
/// word typed after it. `caret` counts UTF-16 units, as the browser does.
/// An `@` right after a Latin letter or digit (an e-mail address) is not one.
pub fn query_at(text: &str, caret_utf16: usize) -> Option<(usize, String)> {
    let caret = byte_index(text, caret_utf16);
    let before = &text[..caret];
    let at = before.rfind('@')?;
    let word = &before[at + 1..];
    if word.chars().any(char::is_whitespace) || word.contains('@') {
        return None;
    }
    if before[..at]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return None;
    }
    Some((at, word.to_owned()))
}

/// The byte index of the `units`-th UTF-16 unit of `text` (its end if past it).
pub fn byte_index(text: &str, units: usize) -> usize {
    let mut counted = 0;
    for (index, c) in text.char_indices() {
        if counted >= units {
            return index;
        }
        counted += c.len_utf16();
    }
    text.len()
}

/// The UTF-16 length of `text` (a caret position for the browser).
pub fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// One choice of the picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Candidate {
    /// @所有人 (offered to the holder only).
    Everyone,
    /// A member, with their name.
    Member(UserId, String),
}

impl Candidate {
    /// The name the text shows after the `@`.
    pub fn name(&self) -> &str {
        match self {
            Candidate::Everyone => EVERYONE,
            Candidate::Member(_, name) => name,
        }
    }
}

/// A member the picker may offer: their id, name and pinyin initials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Who.
    pub user: UserId,
    /// Their name.
    pub name: String,
    /// Its pinyin initials ("张伟" → "zw").
    pub initials: String,
}

/// The choices for `query`: @所有人 first for the holder, then the members
/// whose name, initials or account contain it (initials that start with it
/// first), at most [`MAX_SHOWN`].
pub fn candidates(members: &[Member], query: &str, holder: bool) -> Vec<Candidate> {
    let query = query.trim().to_lowercase();
    let mut found = Vec::new();
    let everyone = query.is_empty()
        || EVERYONE.contains(&query)
        || "syr".starts_with(&query)
        || "all".starts_with(&query)
        || "everyone".starts_with(&query);
    if holder && everyone {
        found.push(Candidate::Everyone);
    }
    let rank = |member: &Member| -> Option<u8> {
        if query.is_empty() || member.initials.starts_with(&query) {
            Some(0)
        } else if member.name.to_lowercase().contains(&query) {
            Some(1)
        } else if member.initials.contains(&query) || member.user.as_str().contains(&query) {
            Some(2)
        } else {
            None
        }
    };
    let mut ranked: Vec<(u8, usize, &Member)> = members
        .iter()
        .enumerate()
        .filter_map(|(index, m)| rank(m).map(|r| (r, index, m)))
        .collect();
    penpen_core::sorting::sort_by_key(&mut ranked, |(rank, index, _)| (*rank, *index));
    found.extend(
        ranked
            .into_iter()
            .map(|(_, _, m)| Candidate::Member(m.user.clone(), m.name.clone())),
    );
    found.truncate(MAX_SHOWN);
    found
}

/// `text` with the `@word` at `at` (up to the caret) replaced by `@name `,
/// and the caret after it (in UTF-16 units).
pub fn insert(text: &str, at: usize, caret_utf16: usize, name: &str) -> (String, usize) {
    let caret = byte_index(text, caret_utf16).max(at);
    let mut out = String::with_capacity(text.len() + name.len() + 2);
    out.push_str(&text[..at]);
    out.push('@');
    out.push_str(name);
    out.push(' ');
    let caret_after = utf16_len(&out);
    out.push_str(&text[caret..]);
    (out, caret_after)
}

/// What a text sends: the picked members whose `@name` it still shows
/// (deleting the name drops the mention), each once, and whether it still
/// shows `@所有人` when that was picked.
pub fn kept(text: &str, picked: &[Candidate]) -> (Vec<UserId>, bool) {
    let shows = |name: &str| text.contains(&format!("@{name}"));
    let mut users: Vec<UserId> = Vec::new();
    let mut everyone = false;
    for candidate in picked {
        match candidate {
            Candidate::Everyone => everyone |= shows(EVERYONE),
            Candidate::Member(user, name) => {
                if shows(name) && !users.contains(user) {
                    users.push(user.clone());
                }
            }
        }
    }
    (users, everyone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(n: u8, name: &str, initials: &str) -> Member {
        Member {
            user: UserId::parse(&format!("138000000{n:02}")).expect("id"),
            name: name.into(),
            initials: initials.into(),
        }
    }

    #[test]
    fn the_word_after_an_at_sign_is_the_query_but_not_in_an_address() {
        assert_eq!(query_at("@", 1), Some((0, String::new())));
        assert_eq!(query_at("你好 @zw", 7), Some((7, "zw".into())));
        assert_eq!(query_at("你好@张", 4), Some((6, "张".into())));
        assert_eq!(query_at("@张伟 好", 5), None, "a space ends it");
        assert_eq!(query_at("mail a@b", 8), None, "an address");
        assert_eq!(query_at("😀@l", 4), Some((4, "l".into())), "UTF-16 caret");
        assert_eq!(
            query_at("@ab cd", 2),
            Some((0, "a".into())),
            "up to the caret"
        );
    }

    #[test]
    fn candidates_match_names_and_initials_with_everyone_first_for_the_holder() {
        let members = [
            member(4, "刘洋", "ly"),
            member(5, "陈静", "cj"),
            member(6, "李雷", "ll"),
        ];
        let names = |found: Vec<Candidate>| -> Vec<String> {
            found.iter().map(|c| c.name().to_owned()).collect()
        };
        assert_eq!(
            names(candidates(&members, "", true)),
            ["所有人", "刘洋", "陈静", "李雷"]
        );
        assert_eq!(
            names(candidates(&members, "", false)),
            ["刘洋", "陈静", "李雷"]
        );
        assert_eq!(names(candidates(&members, "l", false)), ["刘洋", "李雷"]);
        assert_eq!(names(candidates(&members, "cj", false)), ["陈静"]);
        assert_eq!(names(candidates(&members, "静", true)), ["陈静"]);
        assert_eq!(names(candidates(&members, "所", true)), ["所有人"]);
        assert_eq!(
            names(candidates(&members, "所", false)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn choosing_puts_the_name_in_and_deleting_it_drops_the_id() {
        let (text, caret) = insert("请 @cj看", 4, 5, "陈静");
        assert_eq!(text, "请 @陈静 看");
        assert_eq!(caret, 6);
        let chen = Candidate::Member(member(5, "陈静", "cj").user, "陈静".into());
        let liu = Candidate::Member(member(4, "刘洋", "ly").user, "刘洋".into());
        let picked = [chen.clone(), liu, Candidate::Everyone, chen];
        let (users, everyone) = kept("@陈静 @所有人 看下", &picked);
        assert_eq!(users, [member(5, "", "").user]);
        assert!(everyone);
        assert_eq!(kept("看下", &picked), (vec![], false));
    }
}

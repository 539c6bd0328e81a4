//! Discussion groups: create (60888), rename (61888), members (62888), and the
//! caller's groups (53888).

use crate::frame_error::FrameError;
use crate::ids::{GroupId, UserId};
use crate::limits;
use crate::packet::{Packet, check_chars, invalid};
use crate::text;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

/// A list of users, written as the protocol document does: one string of
/// comma-separated ids, `"12345678900,12345678909"`. A JSON array is accepted too.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Members(pub Vec<UserId>);

impl Members {
    /// Whether `user` is in the list.
    pub fn contains(&self, user: &UserId) -> bool {
        self.0.contains(user)
    }

    /// The list without repeats, in first-seen order.
    pub fn deduplicated(&self) -> Members {
        let mut seen = Vec::with_capacity(self.0.len());
        for user in &self.0 {
            if !seen.contains(user) {
                seen.push(user.clone());
            }
        }
        Members(seen)
    }
}

impl Serialize for Members {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let joined: Vec<&str> = self.0.iter().map(UserId::as_str).collect();
        serializer.serialize_str(&joined.join(","))
    }
}

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Members, D::Error> {
        enum Raw {
            Joined(String),
            List(Vec<UserId>),
        }
        // A string or a list, told apart by a visitor: an untagged enum would
        // buffer the value and add serde's buffering code to the web bundle.
        struct RawVisitor;
        impl<'de> de::Visitor<'de> for RawVisitor {
            type Value = Raw;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or a list of users")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Raw, E> {
                Ok(Raw::Joined(text.to_owned()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
                let mut users = Vec::new();
                while let Some(user) = seq.next_element()? {
                    users.push(user);
                }
                Ok(Raw::List(users))
            }
        }
        match deserializer.deserialize_any(RawVisitor).map_err(|_| {
            de::Error::custom("member is not a list of users; expected \"id,id,…\" or [\"id\",…]")
        })? {
            Raw::List(users) => Ok(Members(users)),
            Raw::Joined(text) => text
                .split(',')
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(|part| UserId::parse(part).map_err(de::Error::custom))
                .collect::<Result<Vec<_>, _>>()
                .map(Members),
        }
    }
}

fn check_members(packet: &'static str, members: &Members) -> Result<(), FrameError> {
    if members.0.is_empty() {
        return Err(invalid(
            packet,
            "member is empty; expected at least one user",
        ));
    }
    if members.0.len() > limits::MAX_GROUP_MEMBERS {
        return Err(invalid(
            packet,
            format!(
                "{} members is too many; expected at most {}",
                members.0.len(),
                limits::MAX_GROUP_MEMBERS
            ),
        ));
    }
    Ok(())
}

fn check_group_name(packet: &'static str, name: &str) -> Result<(), FrameError> {
    if name.trim().is_empty() {
        return Err(invalid(packet, "name is empty; expected the group's name"));
    }
    check_chars("name", name, limits::MAX_GROUP_NAME_CHARS)
}

/// A discussion group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Its id.
    pub gid: GroupId,
    /// Who created it; always a member.
    pub holder: UserId,
    /// Its name (base64 on the wire).
    #[serde(with = "text::b64")]
    pub name: String,
    /// Its members, the holder included.
    pub member: Members,
}

/// 60888: create a discussion group. The holder is added to the members if
/// the list leaves them out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupCreate {
    /// The creator: must be the session's own user.
    pub holder: UserId,
    /// The group's name (base64 on the wire).
    #[serde(with = "text::b64")]
    pub name: String,
    /// The members.
    pub member: Members,
}

impl Packet for GroupCreate {
    const NAME: &'static str = "GroupCreate";
    fn validate(&self) -> Result<(), FrameError> {
        check_group_name(Self::NAME, &self.name)?;
        check_members(Self::NAME, &self.member)
    }
}

/// The reply to [`GroupCreate`]: the new group's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupCreated {
    /// Always 11.
    pub state: crate::State,
    /// The new group.
    pub gid: GroupId,
}

impl Packet for GroupCreated {
    const NAME: &'static str = "GroupCreated";
}

/// 61888: rename a group (any member may).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRename {
    /// The group.
    pub gid: GroupId,
    /// The new name (base64 on the wire).
    #[serde(with = "text::b64")]
    pub name: String,
}

impl Packet for GroupRename {
    const NAME: &'static str = "GroupRename";
    fn validate(&self) -> Result<(), FrameError> {
        check_group_name(Self::NAME, &self.name)
    }
}

/// What a membership change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MembersAction {
    /// Add the listed users (any member may).
    Add,
    /// Remove the listed users (the holder only).
    Remove,
    /// The caller leaves (`member` is ignored and may be absent). A holder who
    /// leaves hands the group to the longest-standing remaining member.
    Leave,
}

/// 62888: change a group's members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMembersChange {
    /// The group.
    pub gid: GroupId,
    /// What to do.
    pub action: MembersAction,
    /// Whom to add or remove.
    #[serde(default)]
    pub member: Members,
}

impl Packet for GroupMembersChange {
    const NAME: &'static str = "GroupMembersChange";
    fn validate(&self) -> Result<(), FrameError> {
        match self.action {
            MembersAction::Leave => Ok(()),
            MembersAction::Add | MembersAction::Remove => check_members(Self::NAME, &self.member),
        }
    }
}

/// The reply to [`GroupMembersChange`] and [`GroupRename`]: the group as it now is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupUpdated {
    /// Always 11.
    pub state: crate::State,
    /// The group after the change.
    pub group: Group,
}

impl Packet for GroupUpdated {
    const NAME: &'static str = "GroupUpdated";
}

/// 53888: the caller's groups, a page at a time in ascending gid. The
/// request may name the caller in `user`; `after` and `limit` page through a
/// long list. A request without them (the protocol document's shape) gets the
/// first page, with `more` set if there are further pages.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GroupsQuery {
    /// The caller (optional; must be the session's own user when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserId>,
    /// Only groups with a larger gid: the previous page's `next`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<GroupId>,
    /// At most this many groups (1 to [`limits::MAX_PAGE`]); the server's page
    /// size when absent. A page may hold fewer so that it fits in a frame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl Packet for GroupsQuery {
    const NAME: &'static str = "GroupsQuery";
    fn validate(&self) -> Result<(), FrameError> {
        match self.limit {
            Some(limit) if limit == 0 || limit > limits::MAX_PAGE => Err(invalid(
                Self::NAME,
                format!(
                    "limit {limit} is out of range; expected 1 to {}",
                    limits::MAX_PAGE
                ),
            )),
            _ => Ok(()),
        }
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// The reply to [`GroupsQuery`]: in the document's shape, a string holding the
/// JSON list; `more` and `next` only when further pages follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Groups {
    /// Always 11.
    pub state: crate::State,
    /// A page of the groups the caller is a member of, in ascending gid.
    #[serde(with = "text::json_in_string")]
    pub groups: Vec<Group>,
    /// Whether further pages follow (absent: this is the last).
    #[serde(default, skip_serializing_if = "is_false")]
    pub more: bool,
    /// The `after` that asks for the next page (with `more`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<GroupId>,
}

impl Packet for Groups {
    const NAME: &'static str = "Groups";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_a_joined_string_or_a_list_and_anything_else_says_so() {
        let a = UserId::parse("13800000001").expect("user");
        let b = UserId::parse("13800000002").expect("user");
        let joined: Members =
            serde_json::from_str(r#""13800000001, 13800000002""#).expect("joined");
        assert_eq!(joined, Members(vec![a.clone(), b.clone()]));
        let list: Members = serde_json::from_str(r#"["13800000001",13800000002]"#).expect("list");
        assert_eq!(list, Members(vec![a, b]));
        for bad in ["7", r#"["1"]"#, "{}"] {
            let err = serde_json::from_str::<Members>(bad).expect_err(bad);
            assert!(
                err.to_string().contains("member is not a list of users"),
                "{bad}: {err}"
            );
        }
        let err = serde_json::from_str::<Members>(r#""1,2""#).expect_err("short ids");
        assert!(err.to_string().contains("is not a user id"), "{err}");
    }
}

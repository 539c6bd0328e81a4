//! 51888: the company directory — departments, jobs and contacts, in the
//! protocol document's shape.

use super::Packet;
use crate::ids::{DepartmentId, JobId, UserId};
use crate::packets::profile::Presence;
use crate::text;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The request for the directory; `user` may name the caller.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DirectoryQuery {
    /// The caller (optional; must be the session's own user when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<UserId>,
}

impl Packet for DirectoryQuery {
    const NAME: &'static str = "DirectoryQuery";
}

/// One person in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Their name (base64 on the wire).
    #[serde(with = "text::b64")]
    pub name: String,
    /// Their account.
    pub user: UserId,
    /// Their department.
    pub department: DepartmentId,
    /// Their job title.
    pub job: JobId,
    /// Their signature (base64 on the wire).
    #[serde(with = "text::b64")]
    pub signing: String,
    /// Their presence now.
    #[serde(default)]
    pub presence: Presence,
}

/// The directory. As in the protocol document, each list is a string
/// holding JSON, and every name inside is base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directory {
    /// Always 11.
    pub state: crate::State,
    /// Department names by number.
    #[serde(with = "departments")]
    pub departments: BTreeMap<DepartmentId, String>,
    /// Job names by number.
    #[serde(with = "jobs")]
    pub jobs: BTreeMap<JobId, String>,
    /// Everyone.
    #[serde(with = "text::json_in_string")]
    pub contacts: Vec<Contact>,
}

impl Packet for Directory {
    const NAME: &'static str = "Directory";
}

/// A map of base64 names, carried as a string holding JSON.
macro_rules! named_map {
    ($module:ident, $key:ty) => {
        mod $module {
            use super::*;
            use serde::{Deserializer, Serializer};

            #[derive(Serialize, Deserialize)]
            #[serde(transparent)]
            struct Names(#[serde(with = "text::b64_values")] BTreeMap<$key, String>);

            pub fn serialize<S: Serializer>(
                map: &BTreeMap<$key, String>,
                serializer: S,
            ) -> Result<S::Ok, S::Error> {
                text::json_in_string::serialize(&Names(map.clone()), serializer)
            }

            pub fn deserialize<'de, D: Deserializer<'de>>(
                deserializer: D,
            ) -> Result<BTreeMap<$key, String>, D::Error> {
                text::json_in_string::deserialize::<Names, D>(deserializer).map(|names| names.0)
            }
        }
    };
}

named_map!(departments, DepartmentId);
named_map!(jobs, JobId);

//! One's own profile: password (30888), signature (31888), presence (33888),
//! and others' signatures (52888).

use crate::frame_error::FrameError;
use crate::ids::UserId;
use crate::limits;
use crate::packet::{Packet, check_chars, invalid};
use crate::text;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// 30888: change the password. Both are md5 digests. Every other session of
/// the user is signed out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordUpdate {
    /// The account: must be the session's own user.
    pub user: UserId,
    /// The md5 of the current password.
    pub old: String,
    /// The md5 of the new password.
    pub new: String,
}

impl Packet for PasswordUpdate {
    const NAME: &'static str = "PasswordUpdate";
    fn validate(&self) -> Result<(), FrameError> {
        for (field, digest) in [("old", &self.old), ("new", &self.new)] {
            if !crate::digest::is_password_digest(digest) {
                return Err(invalid(
                    Self::NAME,
                    format!("{field} is not an md5 digest; expected 32 lowercase hex digits"),
                ));
            }
        }
        Ok(())
    }
}

/// 31888: set one's signature (the document's "signing").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureUpdate {
    /// The account: must be the session's own user.
    pub user: UserId,
    /// The new signature, possibly empty (base64 on the wire).
    #[serde(with = "text::b64")]
    pub signing: String,
}

impl Packet for SignatureUpdate {
    const NAME: &'static str = "SignatureUpdate";
    fn validate(&self) -> Result<(), FrameError> {
        check_chars("signing", &self.signing, limits::MAX_SIGNATURE_CHARS)
    }
}

/// 52888: the signatures of the listed users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureQuery {
    /// Whose signatures.
    pub users: Vec<UserId>,
}

impl Packet for SignatureQuery {
    const NAME: &'static str = "SignatureQuery";
    fn validate(&self) -> Result<(), FrameError> {
        if self.users.len() > limits::MAX_SIGNATURE_USERS {
            return Err(invalid(
                Self::NAME,
                format!(
                    "{} users is too many; expected at most {}",
                    self.users.len(),
                    limits::MAX_SIGNATURE_USERS
                ),
            ));
        }
        Ok(())
    }
}

/// The reply to [`SignatureQuery`]: each known user's signature. Unknown
/// users are left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signatures {
    /// Always 11.
    pub state: crate::State,
    /// Signature by user (base64 values on the wire).
    #[serde(with = "text::b64_values")]
    pub signatures: BTreeMap<UserId, String>,
}

impl Packet for Signatures {
    const NAME: &'static str = "Signatures";
}

/// How available someone is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Presence {
    /// Using penpen now.
    Online,
    /// Signed in, but away (the app is in the background).
    Away,
    /// Signed in and does not want to be disturbed.
    Busy,
    /// No open session.
    #[default]
    Offline,
}

/// 33888: set one's presence. `offline` is set by the server when the last session closes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceUpdate {
    /// The account: must be the session's own user.
    pub user: UserId,
    /// The new presence.
    pub presence: Presence,
}

impl Packet for PresenceUpdate {
    const NAME: &'static str = "PresenceUpdate";
}

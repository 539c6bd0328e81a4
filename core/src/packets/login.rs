//! 20888: login.

use crate::ids::UserId;
use serde::{Deserialize, Serialize};

/// Login with an account and the md5 digest of its password
/// (see [`crate::digest::password_digest`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Login {
    /// The account.
    pub user: UserId,
    /// 32 lowercase hex digits: the md5 of the password.
    pub password: String,
}

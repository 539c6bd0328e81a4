//! 30888 password, 31888 signature, 33888 presence, 52888 signature sync.

use super::{Caller, Reply, must_be_self, reply, request};
use crate::auth;
use crate::change_limits::Change;
use crate::context::Context;
use crate::store::queries;
use penpen_core::packets::Done;
use penpen_core::packets::login::{PresenceChange, Push, SignatureChange};
use penpen_core::packets::profile::{
    PasswordUpdate, PresenceUpdate, SignatureQuery, SignatureUpdate, Signatures,
};
use penpen_core::{ErrorReply, Frame, State, UserId};
use std::time::Instant;

/// Changes the password when the current one is right, then signs out every
/// other session of the user.
pub async fn password(context: &Context, caller: &Caller, frame: &Frame) -> Reply {
    let update: PasswordUpdate = request(frame)?;
    let user = &caller.user;
    must_be_self(user, &update.user, "user")?;
    let attempt = context
        .limiter
        .admit(user, caller.address, Instant::now())
        .map_err(|refusal| ErrorReply::new(State::RATE_LIMITED, refusal.reason()))?;
    let who = user.clone();
    let account = context
        .store
        .read(move |conn| queries::account(conn, &who))
        .await
        .map_err(|e| e.reply())?
        .ok_or_else(|| {
            ErrorReply::new(State::UNKNOWN_USER, format!("user {user} does not exist"))
        })?;
    let (old, new) = (update.old.clone(), update.new.clone());
    let hashed = context
        .passwords
        .run(move || {
            if auth::verify_password_digest(&account.password_hash, &old) {
                auth::hash_password_digest(&new).map(Some)
            } else {
                Ok(None)
            }
        })
        .await
        .map_err(|err| match err {
            auth::PasswordQueueError::Busy => ErrorReply::new(
                State::BUSY,
                "the server is busy checking passwords; retry in a moment",
            ),
            auth::PasswordQueueError::Stopped => {
                ErrorReply::new(State::SERVER_ERROR, err.to_string())
            }
        })?
        .map_err(|e| ErrorReply::new(State::SERVER_ERROR, e.to_string()))?;
    let Some(new_hash) = hashed else {
        attempt.failed(Instant::now());
        return Err(ErrorReply::new(
            State::WRONG_PASSWORD,
            "the current password is wrong",
        ));
    };
    let (who, keep) = (user.clone(), caller.token_hash.clone());
    context
        .store
        .write(move |conn| queries::change_password(conn, &who, &new_hash, &keep))
        .await
        .map_err(|e| e.reply())?;
    attempt.succeeded(Instant::now());
    // Every connection of the other sessions closes now, with a signed-out push on 20888.
    context.revoke_user(user, Some(&caller.token_hash), "password changed");
    reply(&Done::new())
}

/// Sets the caller's signature and tells everyone online.
pub async fn signature(context: &Context, user: &UserId, frame: &Frame) -> Reply {
    let update: SignatureUpdate = request(frame)?;
    must_be_self(user, &update.user, "user")?;
    context
        .changes
        .admit(user, Change::Profile, Instant::now())?;
    let (who, signing) = (user.clone(), update.signing.clone());
    context
        .store
        .write(move |conn| queries::set_signature(conn, &who, &signing))
        .await
        .map_err(|e| e.reply())?;
    context.push_everyone(&Push::Signature {
        signature: SignatureChange {
            user: user.clone(),
            signing: update.signing,
        },
    });
    reply(&Done::new())
}

/// Sets the caller's presence and tells everyone online.
pub async fn presence(context: &Context, user: &UserId, frame: &Frame) -> Reply {
    let update: PresenceUpdate = request(frame)?;
    must_be_self(user, &update.user, "user")?;
    context
        .changes
        .admit(user, Change::Profile, Instant::now())?;
    let who = user.clone();
    context
        .store
        .write(move |conn| queries::set_presence(conn, &who, update.presence))
        .await
        .map_err(|e| e.reply())?;
    context.hub.note_presence(user, update.presence);
    context.push_everyone(&Push::Presence {
        presence: PresenceChange {
            user: user.clone(),
            presence: update.presence,
        },
    });
    reply(&Done::new())
}

/// The signatures of the listed users (everyone in the company sees everyone's).
pub async fn signatures(context: &Context, frame: &Frame) -> Reply {
    let query: SignatureQuery = request(frame)?;
    let found = context
        .store
        .read(move |conn| queries::signatures(conn, &query.users))
        .await
        .map_err(|e| e.reply())?;
    reply(&Signatures {
        state: State::SUCCESS,
        signatures: found,
    })
}

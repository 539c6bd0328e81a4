//! One operation from a form: what it is doing now, and the words for why
//! it failed.

use crate::i18n::{Lang, Text};
use crate::state::{Command, OperationFailure, OperationResult, use_shared};
use penpen_core::State;
use penpen_core::sync::{Operation, OperationError, Outcome};
use yew::prelude::*;

/// Where a form's operation is.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Nothing asked yet (or the form was edited since).
    Idle,
    /// Asked; waiting for the server.
    Waiting,
    /// Done.
    Done(Outcome),
    /// Not done, and why, in words.
    Failed(String),
}

/// A form's operation: its status, and how to start it.
#[derive(Debug, Clone, PartialEq)]
pub struct Handle {
    /// Where it is.
    pub status: UseStateHandle<Status>,
    command: Option<Callback<Command>>,
    lang: Lang,
}

impl Handle {
    /// Sends `operation`; the status follows it.
    pub fn run(&self, operation: Operation) {
        let Some(command) = &self.command else {
            return;
        };
        self.status.set(Status::Waiting);
        let (status, lang) = (self.status.clone(), self.lang);
        let reply = Callback::from(move |result: OperationResult| {
            status.set(match result {
                Ok(outcome) => Status::Done(outcome),
                Err(failure) => Status::Failed(failure_text(lang, &failure)),
            });
        });
        command.emit(Command::Perform(operation, reply));
    }

    /// Forgets the last answer (the form was edited).
    pub fn reset(&self) {
        if !matches!(*self.status, Status::Idle | Status::Waiting) {
            self.status.set(Status::Idle);
        }
    }

    /// Whether an answer is awaited.
    pub fn waiting(&self) -> bool {
        *self.status == Status::Waiting
    }
}

/// A form's operation handle.
#[hook]
pub fn use_operation() -> Handle {
    let shared = use_shared();
    let status = use_state(|| Status::Idle);
    Handle {
        status,
        command: shared.as_ref().map(|s| s.command.clone()),
        lang: shared.map(|s| s.lang).unwrap_or_default(),
    }
}

/// Why an operation failed, for the person who asked.
pub fn failure_text(lang: Lang, failure: &OperationFailure) -> String {
    match failure {
        OperationFailure::NotSent(OperationError::Offline) => lang.tr(Text::ErrOffline).to_owned(),
        OperationFailure::NotSent(OperationError::NotLoggedIn) => {
            lang.tr(Text::ErrSessionExpired).to_owned()
        }
        OperationFailure::NotSent(OperationError::Invalid(why)) => why.clone(),
        OperationFailure::Refused(refusal) => match refusal.state {
            State::WRONG_PASSWORD => lang.tr(Text::ErrCurrentPassword).to_owned(),
            State::RATE_LIMITED => lang.tr(Text::ErrRateLimited).to_owned(),
            State::SESSION_INVALID | State::SESSION_EXPIRED => {
                lang.tr(Text::ErrSessionExpired).to_owned()
            }
            State::UNAVAILABLE => lang.fill(Text::ErrLostAnswer, &[&refusal.error]),
            State::FORBIDDEN | State::NOT_A_MEMBER => {
                lang.fill(Text::ErrForbidden, &[&refusal.error])
            }
            _ => lang.fill(Text::ErrRefused, &[&refusal.error]),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use penpen_core::ErrorReply;

    #[test]
    fn failures_say_what_to_do_in_the_reader_s_language() {
        let offline = OperationFailure::NotSent(OperationError::Offline);
        assert!(failure_text(Lang::Zh, &offline).contains("离线"));
        assert!(failure_text(Lang::En, &offline).contains("offline"));
        let wrong = OperationFailure::Refused(ErrorReply::new(State::WRONG_PASSWORD, "wrong"));
        assert_eq!(failure_text(Lang::Zh, &wrong), "当前密码不正确");
        let holder_only = OperationFailure::Refused(ErrorReply::new(
            State::FORBIDDEN,
            "only the holder may remove members",
        ));
        assert_eq!(
            failure_text(Lang::En, &holder_only),
            "Not allowed: only the holder may remove members"
        );
    }
}

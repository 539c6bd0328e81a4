//! Renegotiation after the accept (a camera turned on or off, an ICE
//! restart), kept free of glare: each side has at most one offer in flight,
//! and when both sides offer at once the caller's offer wins — the callee
//! drops its own (the driver's `CreateAnswer` rolls it back) and offers
//! again once the caller's is answered.

use crate::packets::call::MAX_RENEGOTIATIONS_PER_CALL;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No offer either way.
    Stable,
    /// Our offer is being created (`CreateOffer` given to the driver).
    Creating,
    /// Our offer is sent; its answer is awaited.
    Sent,
    /// The other side's offer is being answered (`CreateAnswer` given).
    Answering,
}

/// What the machine must do next about the descriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Next {
    /// Ask the driver for an offer, restarting ICE or not.
    CreateOffer { ice_restart: bool },
    /// Nothing now.
    Nothing,
}

/// One side's renegotiation state.
#[derive(Debug, Clone)]
pub(super) struct Negotiation {
    state: State,
    /// An offer wanted while another was in flight; `Some(true)` restarts ICE.
    wanted: Option<bool>,
    /// Whether the offer being created or sent restarts ICE.
    restarting: bool,
    /// Offers sent so far (the server allows `MAX_RENEGOTIATIONS_PER_CALL`).
    sent: usize,
}

impl Negotiation {
    pub(super) fn new() -> Negotiation {
        Negotiation {
            state: State::Stable,
            wanted: None,
            restarting: false,
            sent: 0,
        }
    }

    /// An offer is wanted. `may_start`: the call is accepted, so it may go now.
    pub(super) fn want(&mut self, ice_restart: bool, may_start: bool) -> Next {
        self.wanted = Some(self.wanted.unwrap_or(false) || ice_restart);
        if may_start {
            self.next()
        } else {
            Next::Nothing
        }
    }

    /// Starts the wanted offer if nothing is in flight and the limit allows.
    pub(super) fn next(&mut self) -> Next {
        if self.state != State::Stable {
            return Next::Nothing;
        }
        let Some(ice_restart) = self.wanted.take() else {
            return Next::Nothing;
        };
        if self.sent >= MAX_RENEGOTIATIONS_PER_CALL {
            // The server would refuse it (21): the media stays as it is.
            return Next::Nothing;
        }
        self.state = State::Creating;
        self.restarting = ice_restart;
        Next::CreateOffer { ice_restart }
    }

    /// The driver created our offer: whether to send it (false when it was
    /// dropped for the other side's offer meanwhile).
    pub(super) fn offer_created(&mut self) -> bool {
        if self.state != State::Creating {
            return false;
        }
        self.state = State::Sent;
        self.sent += 1;
        true
    }

    /// The other side answered our offer (or the server refused it).
    pub(super) fn answered(&mut self) -> bool {
        if self.state != State::Sent {
            return false;
        }
        self.state = State::Stable;
        true
    }

    /// The other side offers. `polite`: this side gives way in a collision
    /// (the callee). Whether to answer it.
    pub(super) fn offered(&mut self, polite: bool) -> bool {
        match self.state {
            State::Stable => {}
            State::Creating | State::Sent if polite => {
                // Ours goes again after theirs.
                self.wanted = Some(self.wanted.unwrap_or(false) || self.restarting);
            }
            // The impolite side keeps its offer; the other rolls back.
            State::Creating | State::Sent => return false,
            // A second offer while answering the first: the driver answers
            // them in order, and the answer we send is for the latest.
            State::Answering => return true,
        }
        self.state = State::Answering;
        true
    }

    /// Our answer was created: whether to send it.
    pub(super) fn answer_created(&mut self) -> bool {
        if self.state != State::Answering {
            return false;
        }
        self.state = State::Stable;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_offer_at_a_time_and_the_next_waits() {
        let mut n = Negotiation::new();
        assert_eq!(n.want(false, false), Next::Nothing, "not accepted yet");
        assert_eq!(n.next(), Next::CreateOffer { ice_restart: false });
        assert_eq!(n.want(true, true), Next::Nothing, "one in flight");
        assert!(n.offer_created());
        assert!(n.answered());
        assert_eq!(n.next(), Next::CreateOffer { ice_restart: true });
    }

    #[test]
    fn in_a_collision_the_polite_side_answers_and_offers_again() {
        let mut caller = Negotiation::new();
        let mut callee = Negotiation::new();
        caller.want(false, true);
        callee.want(false, true);
        assert!(caller.offer_created());
        assert!(callee.offer_created());
        assert!(!caller.offered(false), "the caller keeps its offer");
        assert!(callee.offered(true), "the callee answers the caller's");
        assert!(callee.answer_created());
        assert!(caller.answered());
        assert_eq!(callee.next(), Next::CreateOffer { ice_restart: false });
        assert!(caller.offered(false));
    }

    #[test]
    fn the_renegotiation_limit_holds() {
        let mut n = Negotiation::new();
        for _ in 0..MAX_RENEGOTIATIONS_PER_CALL {
            assert!(matches!(n.want(false, true), Next::CreateOffer { .. }));
            assert!(n.offer_created());
            assert!(n.answered());
        }
        assert_eq!(n.want(false, true), Next::Nothing);
    }
}

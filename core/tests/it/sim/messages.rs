//! Sending on the simulated server (21888, 26888): storing a message, its
//! seqs per recipient, its pushes and its ack.

use super::Net;
use penpen_core::packets::groups::Members;
use penpen_core::packets::login::Push;
use penpen_core::packets::message::{Message, MessageType, Quote, SendAck, SendText, Sender};
use penpen_core::{ClientMsgId, Encoding, Frame, MessageId, Peer, Seq, Service, State, UserId};

impl Net {
    pub(super) fn repeat_ack(
        &mut self,
        index: usize,
        service: Service,
        me: &UserId,
        cid: &ClientMsgId,
    ) {
        let id = self.server.cids[&(me.clone(), cid.to_string())];
        let seq = self.server.accounts[me]
            .inbox
            .iter()
            .find(|(_, m)| **m == id)
            .map(|(s, _)| *s)
            .expect("the sender received it");
        let message = self.server.messages[&id].clone();
        self.reply_packet(index, service, &ack(cid, &message, seq));
    }

    /// Stores a message, gives it each recipient's next seq and pushes it
    /// to their live sessions; the message and the sender's seq.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn store_and_push(
        &mut self,
        me: &UserId,
        to: Peer,
        kind: MessageType,
        content: String,
        cid: Option<ClientMsgId>,
        quote: Option<Quote>,
        recipients: &[UserId],
    ) -> (Message, u64) {
        self.store_and_push_file(
            me,
            to,
            kind,
            content,
            cid,
            quote,
            None,
            (None, false),
            recipients,
        )
    }

    /// [`Self::store_and_push`] for a file's message, with its name and size.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn store_and_push_file(
        &mut self,
        me: &UserId,
        to: Peer,
        kind: MessageType,
        content: String,
        cid: Option<ClientMsgId>,
        quote: Option<Quote>,
        file: Option<(String, u64)>,
        (mentions, mention_all): (Option<Members>, bool),
        recipients: &[UserId],
    ) -> (Message, u64) {
        let (name, size) = file.unzip();
        self.server.next_id += 1;
        self.server.clock += 1000;
        let id = self.server.next_id;
        let message = Message {
            quote,
            mentions,
            mention_all,
            recalled: None,
            name,
            size,
            from: Sender::User(me.clone()),
            to,
            kind,
            content,
            time: "2026-11-26 12:00:00".into(),
            ts: self.server.clock,
            id: MessageId(id),
            seq: None,
            cid,
            duration: None,
        };
        self.deliver(message, recipients, Some(me))
    }

    /// Stores a message built by the server, gives it each recipient's next
    /// seq and pushes it to their live sessions; the message and the seq of
    /// `me` (0 when they are not a recipient).
    pub(super) fn deliver(
        &mut self,
        message: Message,
        recipients: &[UserId],
        me: Option<&UserId>,
    ) -> (Message, u64) {
        let id = message.id.0;
        self.server.messages.insert(id, message.clone());
        let mut my_seq = 0;
        for who in recipients {
            let account = self.server.accounts.get_mut(who).expect("account");
            account.last_seq += 1;
            account.inbox.insert(account.last_seq, id);
            if Some(who) == me {
                my_seq = account.last_seq;
            }
            let pushed = Message {
                seq: Some(Seq(account.last_seq)),
                ..message.clone()
            };
            let frame =
                Frame::encode(Encoding::Base64, &Push::Message(Box::new(pushed))).expect("encode");
            if self.lose_next_push_to.remove(who) {
                continue;
            }
            for client in &mut self.clients {
                let live = client.sockets.get(&Service::Login).is_some_and(|s| {
                    s.live && s.user.as_ref() == Some(who) && !self.nodes_silent.contains(&s.node)
                });
                if live && client.online {
                    client.inbound.push_back((Service::Login, frame.clone()));
                }
            }
        }
        (message, my_seq)
    }

    /// The answer to a repeated (sender, cid): the first message's ack.
    pub(super) fn earlier(&self, me: &UserId, cid: &ClientMsgId) -> Option<SendAck> {
        let id = *self.server.cids.get(&(me.clone(), cid.to_string()))?;
        let seq = self.server.accounts[me]
            .inbox
            .iter()
            .find(|(_, m)| **m == id)
            .map(|(s, _)| *s)
            .expect("the sender received it");
        Some(ack(cid, &self.server.messages[&id], seq))
    }

    pub(super) fn store_and_ack(
        &mut self,
        index: usize,
        service: Service,
        me: &UserId,
        send: SendText,
    ) {
        if &send.from != me {
            return self.refuse(index, service, State::FORBIDDEN, "not you");
        }
        let cid = send.cid.clone().expect("the engine always sends a cid");
        let key = (me.clone(), cid.to_string());
        if let Some(ack) = self.earlier(me, &cid) {
            return self.reply_packet(index, service, &ack);
        }
        let Some(recipients) = self.recipients(index, service, me, &send.to) else {
            return;
        };
        if let Peer::Group(gid) = &send.to {
            let members = &self.server.groups[gid];
            let mentioned = send.mentions.iter().flat_map(|m| &m.0);
            if mentioned.clone().any(|m| !members.contains(m)) {
                return self.refuse(index, service, State::BAD_PACKET, "not a member");
            }
            if send.mention_all && members.first() != Some(me) {
                return self.refuse(index, service, State::FORBIDDEN, "not the holder");
            }
        }
        let quote = match send.quote {
            None => None,
            Some(quoted) => match self.server.messages.get(&quoted.0) {
                Some(original) if original.conversation(me) == send.to => {
                    if original.recalled.is_some() || original.kind.is_recall() {
                        return self.refuse(index, service, State::BAD_PACKET, "not quotable");
                    }
                    Some(Quote::of(original))
                }
                _ => return self.refuse(index, service, State::NO_SUCH_MESSAGE, "no such message"),
            },
        };
        let (message, my_seq) = self.store_and_push_file(
            me,
            send.to.clone(),
            send.kind,
            send.content.clone(),
            Some(cid.clone()),
            quote,
            None,
            (send.mentions.clone(), send.mention_all),
            &recipients,
        );
        self.server.cids.insert(key, message.id.0);
        self.reply_packet(index, service, &ack(&cid, &message, my_seq));
    }

    /// Who receives a message to `to` from `me`, or `None` once refused.
    pub(super) fn recipients(
        &mut self,
        index: usize,
        service: Service,
        me: &UserId,
        to: &Peer,
    ) -> Option<Vec<UserId>> {
        match to {
            Peer::User(other) => {
                if !self.server.accounts.contains_key(other) {
                    self.refuse(index, service, State::UNKNOWN_USER, "no such user");
                    return None;
                }
                let mut people = vec![me.clone()];
                if other != me {
                    people.push(other.clone());
                }
                Some(people)
            }
            Peer::Group(gid) => match self.server.groups.get(gid) {
                Some(members) if members.contains(me) => Some(members.clone()),
                Some(_) => {
                    self.refuse(index, service, State::NOT_A_MEMBER, "not a member");
                    None
                }
                None => {
                    self.refuse(index, service, State::UNKNOWN_GROUP, "no such group");
                    None
                }
            },
        }
    }
}

pub(super) fn ack(cid: &ClientMsgId, message: &Message, seq: u64) -> SendAck {
    SendAck {
        state: State::SUCCESS,
        cid: Some(cid.clone()),
        id: message.id,
        seq: Seq(seq),
        time: message.time.clone(),
        ts: message.ts,
        content: None,
    }
}

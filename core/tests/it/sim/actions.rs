//! 27888 on the simulated server: recall and forward.

use super::Net;
use super::messages::ack;
use penpen_core::packets::actions::{Forward, Recall};
use penpen_core::packets::message::{
    ChatRecord, ChatRecordItem, MessageType, RecallNotice, Recalled, Sender,
};
use penpen_core::{ClientMsgId, Peer, Service, State, UserId};

impl Net {
    /// 27888: a recall by the sender (the simulated server keeps no
    /// windows and no holders: §15.1's rules are the real server's tests).
    pub(super) fn recall(&mut self, index: usize, me: &UserId, Recall { recall: id }: Recall) {
        let service = Service::MessageActions;
        let Some(original) = self.server.messages.get(&id.0).cloned() else {
            return self.refuse(index, service, State::NO_SUCH_MESSAGE, "no such message");
        };
        if original.from != Sender::User(me.clone()) {
            return self.refuse(index, service, State::FORBIDDEN, "not the sender");
        }
        let conversation = original.conversation(me);
        let recipients: Vec<UserId> = match &conversation {
            Peer::Group(gid) => self.server.groups[gid].clone(),
            Peer::User(other) if other == me => vec![me.clone()],
            Peer::User(other) => vec![me.clone(), other.clone()],
        };
        let notice = RecallNotice {
            id,
            by: me.clone(),
            sender: me.clone(),
        };
        let kind = if conversation.group().is_some() {
            MessageType::GroupRecall
        } else {
            MessageType::Recall
        };
        let content = serde_json::to_string(&notice).expect("encode");
        let (message, my_seq) =
            self.store_and_push(me, conversation, kind, content, None, None, &recipients);
        let recalled = Recalled {
            by: me.clone(),
            ts: message.ts,
        };
        for stored in self.server.messages.values_mut() {
            stored.take_recall(id, &recalled);
        }
        let mut ack = ack(
            &ClientMsgId::parse("unused").expect("cid"),
            &message,
            my_seq,
        );
        ack.cid = None;
        self.reply_packet(index, service, &ack);
    }

    /// 27888: a forward (§15.3): a copy typed for its new conversation, or
    /// one chat record; the visibility and kind rules are the real server's
    /// tests, this one checks only that the ids exist.
    pub(super) fn forward(&mut self, index: usize, me: &UserId, forward: Forward) {
        let service = Service::MessageActions;
        let key = (me.clone(), forward.cid.to_string());
        if let Some(ack) = self.earlier(me, &forward.cid) {
            return self.reply_packet(index, service, &ack);
        }
        let mut originals = Vec::new();
        for id in &forward.forward.0 {
            match self.server.messages.get(&id.0) {
                Some(original) => originals.push(original.clone()),
                None => {
                    return self.refuse(index, service, State::NO_SUCH_MESSAGE, "no such message");
                }
            }
        }
        let recipients: Vec<UserId> = match &forward.to {
            Peer::Group(gid) => self.server.groups[gid].clone(),
            Peer::User(other) if other == me => vec![me.clone()],
            Peer::User(other) => vec![me.clone(), other.clone()],
        };
        let group = forward.to.group().is_some();
        let (kind, content) = if forward.merge {
            let record = ChatRecord {
                source: originals[0].conversation(me),
                items: originals
                    .iter()
                    .map(|o| ChatRecordItem {
                        from: match &o.from {
                            Sender::User(from) => from.clone(),
                            Sender::System => me.clone(),
                        },
                        kind: o.kind,
                        content: o.content.clone(),
                        ts: o.ts,
                        time: o.time.clone(),
                        duration: o.duration,
                        name: None,
                        size: None,
                    })
                    .collect(),
            };
            (
                MessageType::ChatRecord.for_conversation(group),
                serde_json::to_string(&record).expect("encode"),
            )
        } else {
            let one = &originals[0];
            (one.kind.for_conversation(group), one.content.clone())
        };
        let Some(kind) = kind else {
            return self.refuse(index, service, State::BAD_PACKET, "not forwardable");
        };
        let (message, my_seq) = self.store_and_push(
            me,
            forward.to.clone(),
            kind,
            content,
            Some(forward.cid.clone()),
            None,
            &recipients,
        );
        self.server.cids.insert(key, message.id.0);
        self.reply_packet(index, service, &ack(&forward.cid, &message, my_seq));
    }
}

//! The engine's events turned into app state updates and notifications.

use super::Driver;
use crate::notify;
use crate::session::Session;
use crate::state::{FileAccess, OperationFailure, ServerHits, Update, display_name};
use crate::ui::format::{self, Body, People};
use penpen_core::packets::directory::Directory;
use penpen_core::packets::groups::Group;
use penpen_core::packets::message::Message;
use penpen_core::search::Hit;
use penpen_core::sync::Event;
use penpen_core::{Peer, UserId};
use std::rc::Rc;

impl Driver {
    /// Tells the user, once, of the newest message that arrived out of view
    /// while the engine's actions were carried out. A backlog fills several
    /// conversations in one write: one sound and one notification for it
    /// (notifications replace each other, so the last one is what stayed on
    /// screen before), not one each; each sound costs a new `AudioContext`.
    pub(super) fn notify_newest(&mut self) {
        if let Some((conversation, last)) = self.notice.take() {
            let title = self.name_of(&conversation);
            let mut body = self.preview(&last);
            // A mention is why a muted conversation still speaks up: say so.
            if penpen_core::sync::mentions_me(&last, &self.session.user) {
                let lang = crate::i18n::Lang::load();
                body = format!("{} {body}", lang.tr(crate::i18n::Text::MentionedMe));
            }
            notify::new_message(&title, &body, &notify::conversation_tag(&conversation));
        }
    }

    pub(super) fn event(&mut self, event: Event) {
        match event {
            Event::LoggedIn {
                user,
                token,
                name,
                broadcaster,
            } => {
                self.sockets.set_token(token.clone());
                self.update.emit(Update::Files(FileAccess {
                    server: self.sockets.server().clone(),
                    token: token.clone(),
                }));
                self.session = Session {
                    user,
                    token,
                    name,
                    broadcaster,
                    ..self.session.clone()
                };
                self.session.save();
                self.update.emit(Update::Account(self.engine.account()));
            }
            Event::LoginFailed(refusal) => {
                Session::forget();
                self.update.emit(Update::SignedOut(refusal.error));
            }
            Event::Unreachable => {}
            Event::SignedOut(reason) => {
                Session::forget();
                self.update.emit(Update::SignedOut(reason));
            }
            Event::ConnectionChanged(connection) => {
                if connection == penpen_core::sync::Connection::Connected {
                    // A new login: its pushes bring back the meetings still
                    // running (§13); the ones known before may be over.
                    self.update.emit(Update::MeetingsForgotten);
                }
                self.update
                    .emit(Update::Connection(connection, self.engine.queued()));
            }
            Event::Arrived {
                conversation,
                messages,
                live,
                alert,
            } => {
                // The engine decides what is worth a sound: not a muted
                // conversation's messages, unless one @-mentions the user.
                if let Some(last) = alert {
                    self.notice = Some((conversation.clone(), *last));
                }
                if let Some(index) = self.search.as_mut() {
                    super::commands::add_to_index(
                        index,
                        &conversation,
                        &messages,
                        &self.session.user,
                    );
                }
                // Only the open conversation shows messages as they come; the
                // list hears of the others through `ConversationsChanged`, so
                // a backlog over many conversations is not one state update
                // (and render) each.
                let open = self
                    .open
                    .as_ref()
                    .is_some_and(|(peer, _)| peer == &conversation);
                if open {
                    self.update.emit(Update::Arrived {
                        peer: conversation,
                        messages,
                        live,
                    });
                }
            }
            Event::History {
                conversation,
                messages,
                complete,
            } => {
                if let Some((peer, oldest)) = self.open.as_mut()
                    && *peer == conversation
                {
                    self.fetching_older = false;
                    let first = messages.first().map(|m| m.id);
                    *oldest = match (*oldest, first) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                if let Some(index) = self.search.as_mut() {
                    super::commands::add_to_index(
                        index,
                        &conversation,
                        &messages,
                        &self.session.user,
                    );
                }
                let open = self
                    .open
                    .as_ref()
                    .is_some_and(|(peer, _)| *peer == conversation);
                self.update.emit(Update::Older {
                    peer: conversation,
                    messages,
                    complete,
                });
                if open {
                    self.seek_on(complete, super::now());
                }
            }
            Event::OutboxChanged(peer) => {
                let outbox = self.outbox_of(&peer);
                self.update.emit(Update::Outbox(peer, outbox));
                self.update.emit(Update::Connection(
                    self.engine.connection(),
                    self.engine.queued(),
                ));
            }
            Event::ConversationsChanged => {
                self.publish_conversations();
                // A read mark (here or elsewhere) clears reminders; the
                // 32888 list brings the receipts setting.
                self.publish_dings();
                self.publish_receipts_setting();
            }
            Event::ReadsChanged(Peer::Group(gid)) => self.publish_group_receipts(gid),
            // A 1:1 peer's mark is in their conversation's row.
            Event::ReadsChanged(Peer::User(_)) => self.publish_conversations(),
            Event::Dinged(notice) => self.dinged(&notice),
            Event::DirectoryChanged => {
                if let Some(directory) = self.engine.directory() {
                    self.update
                        .emit(Update::Directory(Rc::new(directory.clone())));
                    self.publish_conversations();
                }
            }
            Event::GroupsChanged => {
                if let Some(groups) = self.engine.groups() {
                    self.update.emit(Update::Groups(Rc::new(groups.to_vec())));
                }
            }
            Event::CaughtUp => self.update.emit(Update::CaughtUp),
            Event::Performed { id, result } => {
                // SetReceipts answered: the setting shown follows.
                self.publish_receipts_setting();
                if let Some(at) = self.operations.iter().position(|(other, _)| *other == id) {
                    let (_, reply) = self.operations.remove(at);
                    reply.emit(result.map_err(OperationFailure::Refused));
                }
            }
            Event::Searched { id, result } => {
                if let Some(at) = self
                    .server_searches
                    .iter()
                    .position(|(other, _)| *other == id)
                {
                    let (_, reply) = self.server_searches.remove(at);
                    let me = &self.session.user;
                    reply.emit(
                        result
                            .map(|page| ServerHits {
                                hits: page
                                    .messages
                                    .iter()
                                    .filter_map(|m| Hit::of(m.conversation(me), m))
                                    .collect(),
                                more: page.more,
                                last: page.messages.last().map(|m| m.id),
                            })
                            .map_err(OperationFailure::Refused),
                    );
                }
            }
            Event::BroadcastsChanged => self.publish_broadcasts(),
            Event::CallInvited(invitation) => self.call_invited(*invitation),
            Event::CallEnded(ended) => self.call_ended(ended),
            Event::MeetingChanged(meeting) => self.meeting_changed(*meeting),
            Event::MeetingEnded(ended) => self.meeting_over(ended),
            Event::BroadcastArrived(broadcast) => {
                let sender = self.name_of(&Peer::User(broadcast.from.clone()));
                notify::new_message(
                    &format!("{} · {sender}", broadcast.title),
                    &broadcast.content,
                    "penpen-broadcast",
                );
            }
        }
    }

    /// Who people are, by the directory and the groups the engine holds.
    fn names(&self) -> Names<'_> {
        Names {
            me: &self.session.user,
            directory: self.engine.directory(),
            groups: self.engine.groups().unwrap_or_default(),
        }
    }

    pub(super) fn name_of(&self, peer: &Peer) -> String {
        let names = self.names();
        display_name(names.directory, names.groups, peer)
    }

    /// A notification's text: the message as its bubble would show it.
    fn preview(&self, message: &Message) -> String {
        let lang = crate::i18n::Lang::load();
        match format::body(
            lang,
            message.kind,
            &message.content,
            message.duration,
            message.from.user(),
            &self.names(),
        ) {
            Body::Text(text) | Body::Placeholder(text) | Body::Notice(text) => text,
        }
    }

    pub(super) fn outbox_of(&self, peer: &Peer) -> Vec<penpen_core::cache::OutboxEntry> {
        self.engine.outbox_of(peer).into_iter().cloned().collect()
    }

    fn publish_conversations(&mut self) {
        self.close_read_notifications();
        // The list draws the rows not hidden; the hidden muted ones ride
        // along for the mute switches of the group and contact pages.
        let mut list: Vec<_> = self.engine.conversations().into_iter().cloned().collect();
        list.extend(
            self.engine
                .muted_conversations()
                .into_iter()
                .filter(|c| c.hidden)
                .cloned(),
        );
        self.update
            .emit(Update::Conversations(list, self.engine.unread_total()));
    }

    /// Everything the cache gave, at once, before the network says anything.
    pub(super) fn publish_everything(&mut self) {
        self.update.emit(Update::Account(self.engine.account()));
        if let Some(directory) = self.engine.directory() {
            self.update
                .emit(Update::Directory(Rc::new(directory.clone())));
        }
        if let Some(groups) = self.engine.groups() {
            self.update.emit(Update::Groups(Rc::new(groups.to_vec())));
        }
        self.publish_conversations();
        self.publish_broadcasts();
        self.publish_dings();
        self.publish_receipts_setting();
        self.update.emit(Update::Connection(
            self.engine.connection(),
            self.engine.queued(),
        ));
    }

    fn publish_broadcasts(&self) {
        let list = self.engine.broadcasts().into_iter().cloned().collect();
        self.update.emit(Update::Broadcasts(
            Rc::new(list),
            self.engine.unread_broadcasts(),
        ));
    }
}

/// [`People`] from what the engine holds, for words outside the screens.
struct Names<'a> {
    me: &'a UserId,
    directory: Option<&'a Directory>,
    groups: &'a [Group],
}

impl People for Names<'_> {
    fn me(&self) -> Option<&UserId> {
        Some(self.me)
    }

    fn name(&self, user: &UserId) -> String {
        display_name(self.directory, self.groups, &Peer::User(user.clone()))
    }
}

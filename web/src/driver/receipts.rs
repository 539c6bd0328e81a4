//! Read receipts (§16) between the engine and the screens: which group is
//! watched, the marks and reminders the screens show, and the notifications
//! a read elsewhere makes stale.

use super::Driver;
use crate::notify;
use crate::state::Update;
use penpen_core::packets::receipts::DingNotice;
use penpen_core::{GroupId, Peer};
use std::rc::Rc;

/// What the driver last told the screens about receipts, so an event that
/// changes none of it renders nothing.
#[derive(Debug, Default)]
pub(super) struct Receipts {
    /// The group whose marks are watched (open on screen in a visible tab).
    watching: Option<GroupId>,
    /// The reminders last shown.
    dings: Vec<DingNotice>,
    /// The 发送已读回执 setting last shown.
    shared: Option<bool>,
    /// The conversations with unread messages at the last list: one that
    /// drops to none was read (here or elsewhere), and its notifications go.
    unread: Vec<Peer>,
}

impl Driver {
    /// Watches the group open on screen while the tab is visible, and
    /// nothing otherwise (§16.2): marks go only to those looking.
    pub(super) fn watch_open_group(&mut self, now: i64) {
        let wanted = self
            .open
            .as_ref()
            .and_then(|(peer, _)| peer.group())
            .filter(|_| self.visible);
        if wanted == self.receipts.watching {
            return;
        }
        if let Some(left) = self.receipts.watching {
            self.update.emit(Update::GroupReceipts(left, None));
        }
        self.receipts.watching = wanted;
        self.engine.watch_reads(wanted, now);
        if let Some(gid) = wanted {
            self.publish_group_receipts(gid);
        }
    }

    /// The watched group's marks, as the engine holds them now.
    pub(super) fn publish_group_receipts(&self, gid: GroupId) {
        if self.receipts.watching != Some(gid) {
            return;
        }
        let receipts = self
            .engine
            .group_receipts(gid)
            .filter(|r| r.is_known())
            .map(|r| Rc::new(r.clone()));
        self.update.emit(Update::GroupReceipts(gid, receipts));
    }

    /// The reminders still to show, when they changed.
    pub(super) fn publish_dings(&mut self) {
        if self.engine.dings() == self.receipts.dings.as_slice() {
            return;
        }
        self.receipts.dings = self.engine.dings().to_vec();
        self.update
            .emit(Update::Dings(Rc::new(self.receipts.dings.clone())));
    }

    /// The user's 发送已读回执 setting, when it changed.
    pub(super) fn publish_receipts_setting(&mut self) {
        let shared = self.engine.receipts_shared();
        if shared != self.receipts.shared {
            self.receipts.shared = shared;
            self.update.emit(Update::ReceiptsShared(shared));
        }
    }

    /// A reminder arrived: shown, with sound and a notification, even in a
    /// muted conversation (§16.4).
    pub(super) fn dinged(&mut self, notice: &DingNotice) {
        let lang = crate::i18n::Lang::load();
        let who = self.name_of(&Peer::User(notice.by.clone()));
        let snippet = crate::ui::format::quote_snippet(lang, &notice.message);
        let body = lang.fill(crate::i18n::Text::DingedBy, &[&who, &snippet]);
        let title = self.name_of(&notice.target);
        notify::ding(&title, &body, &notify::conversation_tag(&notice.target));
        self.publish_dings();
    }

    /// Closes the notifications of the conversations whose unread count
    /// dropped to none since the last list: read on this device or, through
    /// a read mark, on another (§16.1).
    pub(super) fn close_read_notifications(&mut self) {
        let now: Vec<Peer> = self
            .engine
            .conversations()
            .into_iter()
            .chain(self.engine.muted_conversations())
            .filter(|c| c.unread > 0)
            .map(|c| c.peer.clone())
            .collect();
        for peer in &self.receipts.unread {
            if !now.contains(peer) {
                notify::close(&notify::conversation_tag(peer));
            }
        }
        self.receipts.unread = now;
    }
}

//! The screens' commands: opening conversations and their older pages,
//! sending, searching, the conversation menu, logging out, operations.

use super::{Driver, performance_now};
use crate::session::Session;
use crate::state::{Command, OperationFailure, SearchResult, Update};
use penpen_core::cache::Cache;
use penpen_core::packets::message::{Message, MessageType};
use penpen_core::search::SearchIndex;
use penpen_core::sync::{Connection, HISTORY_PAGE};
use penpen_core::{MessageId, Peer, UserId};

/// Messages read per step when opening a conversation at an older message.
const FOCUS_STEP: usize = 1_000;

impl Driver {
    /// Opens a conversation at its newest page, or at the page holding
    /// `focus` (and everything newer, so the timeline stays contiguous).
    async fn open_conversation(&mut self, peer: Peer, focus: Option<MessageId>, now: i64) {
        self.engine.set_in_view(Some(peer.clone()));
        let page_size = HISTORY_PAGE as usize;
        let mut page = self
            .cache
            .timeline(&peer, None, page_size)
            .await
            .unwrap_or_default();
        if let Some(focus) = focus {
            // Back until the hit is loaded, and a page before it for context.
            let mut reached = page.first().is_some_and(|m| m.id <= focus);
            while let Some(oldest) = page.first().map(|m| m.id) {
                // Big steps: a hit may lie thousands of messages back.
                let older = self
                    .cache
                    .timeline(&peer, Some(oldest), FOCUS_STEP)
                    .await
                    .unwrap_or_default();
                if older.is_empty() {
                    break;
                }
                let done = reached;
                reached |= older.first().is_some_and(|m| m.id <= focus);
                page.splice(0..0, older);
                if done {
                    break;
                }
            }
        }
        let complete_here = page.len() < page_size;
        let complete = complete_here
            && self
                .engine
                .conversation(&peer)
                .is_some_and(|c| c.history_complete);
        let oldest = page.first().map(|m| m.id);
        self.open = Some((peer.clone(), oldest));
        let outbox = self.outbox_of(&peer);
        self.update.emit(Update::Opened {
            peer: peer.clone(),
            messages: page,
            outbox,
            complete,
            focus,
        });
        self.fetching_older = false;
        // A message older than all the cache has (a quote's original):
        // the server's pages are fetched until it is loaded.
        let unreached = focus.filter(|f| oldest.is_none_or(|o| o >= *f));
        self.seeking = unreached.filter(|_| !complete);
        if self.seeking.is_some() {
            // Far back, maybe: the server's largest pages.
            self.seek_older(peer, oldest, now);
        } else if complete_here && !complete {
            // The cache has no more: ask the server for what is older.
            self.fetch_older(peer, oldest, now);
        }
    }

    /// After an older page of the open conversation: another one while the
    /// message it was opened at is still older than everything loaded.
    pub(super) fn seek_on(&mut self, complete: bool, now: i64) {
        let Some(seeking) = self.seeking else {
            return;
        };
        match self.open.clone() {
            Some((peer, Some(oldest))) if !complete && oldest >= seeking => {
                self.seek_older(peer, Some(oldest), now)
            }
            _ => self.seeking = None,
        }
    }

    /// The search index, built from the cache the first time it is needed
    /// and kept up to date from then on.
    async fn search_index(&mut self) -> &SearchIndex {
        if self.search.is_none() {
            let mut index = SearchIndex::new();
            for cached in self.cache.all_messages().await.unwrap_or_default() {
                add_to_index(
                    &mut index,
                    &cached.conversation,
                    [&cached.message],
                    &self.session.user,
                );
            }
            self.search = Some(index);
        }
        self.search.get_or_insert_with(SearchIndex::new)
    }

    pub(super) async fn command(&mut self, command: Command, now: i64) {
        match command {
            Command::Open(peer) => {
                self.open_conversation(peer, None, now).await;
                self.watch_open_group(now);
            }
            Command::OpenAt(peer, id) => {
                self.open_conversation(peer, Some(id), now).await;
                self.watch_open_group(now);
            }
            Command::SendFile {
                peer,
                kind,
                data,
                reply,
            } => reply.emit(self.engine.send_file(peer, kind, data, now).map(|_| ())),
            Command::PrepareSearch => {
                self.search_index().await;
            }
            Command::Search {
                query,
                within,
                reply,
            } => {
                let index = self.search_index().await;
                let started = performance_now();
                let found = index.search(&query, within.as_ref());
                let took_ms = performance_now() - started;
                reply.emit(SearchResult {
                    query,
                    found,
                    took_ms,
                });
            }
            Command::SearchServer {
                query,
                within,
                before,
                reply,
            } => match self.engine.search_server(&query, within, before, now) {
                Ok(id) => {
                    // Kept in id order (ids only grow, so this is the end).
                    let at = self
                        .server_searches
                        .partition_point(|(other, _)| *other < id);
                    self.server_searches.insert(at, (id, reply));
                }
                Err(err) => reply.emit(Err(OperationFailure::NotSent(err))),
            },
            Command::Call(command) => self.call_command(command, now),
            Command::Meeting(command) => self.meeting_command(command, now),
            Command::Close => {
                self.engine.set_in_view(None);
                self.open = None;
                self.fetching_older = false;
                self.update.emit(Update::Closed);
                self.watch_open_group(now);
            }
            Command::LoadOlder => {
                let Some((peer, oldest)) = self.open.clone() else {
                    return;
                };
                if self.fetching_older {
                    return;
                }
                let page = match oldest {
                    // Nothing loaded yet: the server decides.
                    None => Vec::new(),
                    Some(before) => self
                        .cache
                        .timeline(&peer, Some(before), HISTORY_PAGE as usize)
                        .await
                        .unwrap_or_default(),
                };
                let new_oldest = page.first().map(|m| m.id).or(oldest);
                self.open = Some((peer.clone(), new_oldest));
                let full = page.len() >= HISTORY_PAGE as usize;
                if !page.is_empty() {
                    self.update.emit(Update::Older {
                        peer: peer.clone(),
                        messages: page,
                        complete: false,
                    });
                }
                if !full {
                    self.fetch_older(peer, new_oldest, now);
                }
            }
            Command::SendText(peer, text) => {
                // Refusals (empty, too long) are caught by the composer first.
                let _ = self.engine.send_text(peer, text, now);
            }
            Command::SendComposed {
                peer,
                text,
                quote,
                mentions,
                mention_all,
            } => {
                // The composer only offers mentions in a group, each member once.
                let _ = self
                    .engine
                    .send_composed(peer, text, quote, mentions, mention_all, now);
            }
            Command::Retry(cid) => self.engine.retry(&cid, now),
            Command::Discard(cid) => self.engine.discard(&cid),
            Command::SendUpload { peer, file, reply } => {
                reply.emit(self.queue_upload(peer, file, now).await)
            }
            Command::CancelUpload(cid) => self.engine.cancel_upload(&cid, now),
            Command::OpenFile { name, reply } => reply.emit(self.open_file(&name).await),
            Command::MarkRead(peer) => self.engine.mark_read(&peer),
            Command::Seen(peer, id) => self.engine.mark_seen(&peer, id, now),
            Command::DismissDing(id) => {
                self.engine.dismiss_ding(id);
                self.publish_dings();
            }
            Command::MarkUnread(peer) => self.engine.mark_unread(&peer),
            Command::Pin(peer, pinned) => self.engine.set_pinned(&peer, pinned, now),
            Command::Delete(peer) => {
                if self.open.as_ref().is_some_and(|(p, _)| p == &peer) {
                    self.engine.set_in_view(None);
                    self.open = None;
                    self.update.emit(Update::Closed);
                    self.watch_open_group(now);
                }
                self.engine.delete_conversation(&peer);
                if let Some(index) = self.search.as_mut() {
                    index.remove_conversation(&peer);
                }
            }
            Command::Draft(peer, text) => self.engine.set_draft(&peer, text),
            Command::Reconnect => self.engine.reconnect_now(now),
            Command::LogOut { keep_messages } => {
                let connected = self.engine.connection() == Connection::Connected;
                self.engine.log_out();
                if !connected {
                    // The stream could not carry the logout: a socket of its
                    // own tries, so the token does not outlive the session.
                    let session = self.session.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        let _ = crate::session::log_out(&session).await;
                    });
                }
                Session::forget();
                if !keep_messages {
                    self.remove_local_data();
                }
                self.update.emit(Update::SignedOut(String::new()));
            }
            Command::Perform(operation, reply) => match self.engine.perform(operation, now) {
                Ok(id) => {
                    // Kept in id order (ids only grow, so this is the end).
                    let at = self.operations.partition_point(|(other, _)| *other < id);
                    self.operations.insert(at, (id, reply));
                }
                Err(err) => reply.emit(Err(OperationFailure::NotSent(err))),
            },
            Command::Forward {
                ids,
                targets,
                merge,
                reply,
            } => match self.engine.forward(&ids, &targets, merge, now) {
                Ok(asked) => {
                    for id in asked {
                        let at = self.operations.partition_point(|(other, _)| *other < id);
                        self.operations.insert(at, (id, reply.clone()));
                    }
                }
                Err(err) => reply.emit(Err(OperationFailure::NotSent(err))),
            },
            Command::SetBusy(busy) => {
                crate::prefs::set_busy(busy);
                self.engine.set_busy(busy, now);
                self.update.emit(Update::Busy(busy));
            }
            Command::RefreshSignatures(users) => self.engine.refresh_signatures(users, now),
            Command::ReadBroadcast(id) => self.engine.mark_broadcast_read(id),
            Command::ClearHistory(peer) => {
                self.engine.clear_history(&peer);
                if let Some(index) = self.search.as_mut() {
                    index.remove_conversation(&peer);
                }
                if self.open.as_ref().is_some_and(|(p, _)| p == &peer) {
                    self.open = Some((peer.clone(), None));
                    let outbox = self.outbox_of(&peer);
                    self.update.emit(Update::Opened {
                        peer: peer.clone(),
                        messages: Vec::new(),
                        outbox,
                        complete: false,
                        focus: None,
                    });
                }
            }
        }
    }

    /// Asks the server for the page of the open conversation before `before`.
    fn fetch_older(&mut self, peer: Peer, before: Option<MessageId>, now: i64) {
        self.fetching_older = true;
        self.update.emit(Update::LoadingOlder(peer.clone()));
        self.engine.load_older(peer, before, now);
    }

    /// [`Driver::fetch_older`] towards the message the conversation was
    /// opened at, in the engine's largest pages.
    fn seek_older(&mut self, peer: Peer, before: Option<MessageId>, now: i64) {
        self.fetching_older = true;
        self.update.emit(Update::LoadingOlder(peer.clone()));
        self.engine.seek_older(peer, before, now);
    }
}

/// Adds messages to the search index: texts as they are, call records by
/// their line ("视频通话 03:12", "未接来电") as this user reads it, found in
/// either language and shown in the one chosen.
pub(super) fn add_to_index<'a>(
    index: &mut SearchIndex,
    conversation: &Peer,
    messages: impl IntoIterator<Item = &'a Message>,
    me: &UserId,
) {
    use crate::i18n::Lang;
    use crate::ui::format::call_line;
    let shown = Lang::load();
    for message in messages {
        if message.kind == MessageType::Call {
            let caller = message.from.user() == Some(me);
            let line = |lang| call_line(lang, &message.content, caller);
            let words = format!("{} {}", line(Lang::Zh), line(Lang::En));
            index.add_described(conversation, message, line(shown), &words);
        } else {
            index.add(conversation, [message]);
        }
    }
}

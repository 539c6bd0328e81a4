//! The app's one state, a reducer fed by the sync driver, and the commands
//! the screens send back to it.
//!
//! The screens never talk to the network or the cache: they read this state
//! and send [`Command`]s; the driver (`crate::driver`) runs the sync engine
//! and reports with [`Update`]s.

use penpen_core::cache::{AccountMeta, CachedBroadcast, Conversation, OutboxEntry};
use penpen_core::packets::directory::Directory;
use penpen_core::packets::groups::Group;
use penpen_core::packets::message::{Message, Quote, Recalled};
use penpen_core::packets::receipts::DingNotice;
use penpen_core::receipts::GroupReceipts;
use penpen_core::sync::{Connection, Operation, OperationError, Outcome};
use penpen_core::{BroadcastId, ClientMsgId, ErrorReply, GroupId, MessageId, Peer, UserId};
use std::collections::BTreeMap;
use std::rc::Rc;
use yew::Reducible;

/// Everything the screens show.
#[derive(Debug, Clone, PartialEq)]
pub struct AppState {
    /// The account and its sync position.
    pub account: Option<AccountMeta>,
    /// The connection indicator.
    pub connection: Connection,
    /// Messages waiting to be sent, over all conversations.
    pub queued: usize,
    /// The conversation list, in display order (pinned first, then newest);
    /// shared, so an update that leaves it alone does not copy it.
    pub conversations: Rc<Vec<Conversation>>,
    /// The unread total, for the tab title.
    pub unread_total: u32,
    /// The company directory (names for 1:1 conversations).
    pub directory: Option<Rc<Directory>>,
    /// The user's groups (names for group conversations).
    pub groups: Rc<Vec<Group>>,
    /// The groups have been loaded (from the cache or the server): a group
    /// missing from them is one the user is not in.
    pub groups_known: bool,
    /// The conversation on screen, if any; shared like the list.
    pub open: Option<Rc<OpenConversation>>,
    /// The local cache failed and is being rebuilt from the server.
    pub cache_problem: Option<String>,
    /// The session ended (revoked token, logged out elsewhere): why.
    pub signed_out: Option<String>,
    /// Catch-up finished at least once since the app started.
    pub caught_up: bool,
    /// The user chose to show as busy.
    pub busy: bool,
    /// The company broadcasts, newest first.
    pub broadcasts: Rc<Vec<CachedBroadcast>>,
    /// How many of them are unread.
    pub unread_broadcasts: usize,
    /// How stored files are fetched.
    pub files: Option<FileAccess>,
    /// The meetings running in the user's groups, as the stream last pushed
    /// them (forgotten when it reconnects: PROTOCOL §13).
    pub meetings: Rc<Vec<penpen_core::packets::meeting::Meeting>>,
    /// Texts this tab recalled, by message id, for 重新编辑: kept only here,
    /// never sent or cached (the server and the other devices keep nothing).
    pub reedit: Rc<BTreeMap<MessageId, String>>,
    /// The marks of the group open on screen (§16.2), once its full list
    /// came: what "N人未读" is counted from.
    pub group_receipts: Option<(GroupId, Rc<GroupReceipts>)>,
    /// Urgent reminders (加急) to the user not yet read or dismissed,
    /// oldest first.
    pub dings: Rc<Vec<DingNotice>>,
    /// The user's own 发送已读回执 setting (none: not known yet).
    pub receipts_shared: Option<bool>,
}

/// Where stored files are, and the token that lets this session fetch them.
#[derive(Debug, Clone, PartialEq)]
pub struct FileAccess {
    /// The server.
    pub server: crate::config::ServerAddress,
    /// The session's token.
    pub token: String,
}

impl FileAccess {
    /// The URL of a stored file of any kind (28888, §15.6).
    pub fn file_url(&self, name: &str) -> String {
        self.server
            .file_url(penpen_core::Service::Files, name, &self.token)
    }

    /// The URL of an image's, a voice message's or a file's stored file,
    /// on the port that serves its kind.
    pub fn url(&self, kind: penpen_core::packets::message::MessageType, name: &str) -> String {
        let service = if kind.is_voice() {
            penpen_core::Service::Voice
        } else if kind.is_file() {
            penpen_core::Service::Files
        } else {
            penpen_core::Service::Image
        };
        self.server.file_url(service, name, &self.token)
    }
}

impl Default for AppState {
    fn default() -> AppState {
        AppState {
            account: None,
            connection: Connection::Connecting,
            queued: 0,
            conversations: Rc::new(Vec::new()),
            unread_total: 0,
            directory: None,
            groups: Rc::new(Vec::new()),
            groups_known: false,
            open: None,
            cache_problem: None,
            signed_out: None,
            caught_up: false,
            busy: false,
            broadcasts: Rc::new(Vec::new()),
            unread_broadcasts: 0,
            files: None,
            meetings: Rc::new(Vec::new()),
            reedit: Rc::new(BTreeMap::new()),
            group_receipts: None,
            dings: Rc::new(Vec::new()),
            receipts_shared: None,
        }
    }
}

/// The conversation on screen: the messages loaded so far (oldest first, each
/// once) and its unsent messages.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenConversation {
    /// Who or which group.
    pub peer: Peer,
    /// Loaded messages, ascending by id, no duplicates.
    pub messages: Vec<Message>,
    /// Unacknowledged own messages, in sending order (shown after `messages`).
    pub outbox: Vec<OutboxEntry>,
    /// Nothing older exists (on this device or the server).
    pub complete: bool,
    /// An older page is being fetched.
    pub loading_older: bool,
    /// Bumped whenever a message arrives live, so the view can offer a
    /// "new messages" jump when scrolled up.
    pub arrivals: u32,
    /// The message to show and mark (a search hit), instead of the newest.
    pub focus: Option<MessageId>,
    /// The message the composer's text will reply to (§15.2).
    pub quoting: Option<Quote>,
    /// Text to put in the composer (a recalled text to edit again), with a
    /// number that changes each time so the same text can be put twice.
    pub fill: Option<(u32, String)>,
}

impl OpenConversation {
    /// An empty view of `peer`, before its first page.
    pub fn new(peer: Peer) -> OpenConversation {
        OpenConversation {
            peer,
            messages: Vec::new(),
            outbox: Vec::new(),
            complete: false,
            loading_older: true,
            arrivals: 0,
            focus: None,
            quoting: None,
            fill: None,
        }
    }

    /// Merges messages in id order, keeping each id once.
    pub fn merge(&mut self, incoming: &[Message]) {
        let mut by_id: BTreeMap<MessageId, Message> =
            penpen_core::sorting::map_of(self.messages.drain(..).map(|m| (m.id, m)));
        for message in incoming {
            by_id.insert(message.id, message.clone());
        }
        // A recall that arrives takes its original's content off the screen
        // (the cache did the same in the write that brought it).
        for recall in incoming {
            let Some(notice) = recall.recall_notice() else {
                continue;
            };
            let recalled = Recalled {
                by: notice.by,
                ts: recall.ts,
            };
            for message in by_id.range_mut(notice.id..).map(|(_, m)| m) {
                message.take_recall(notice.id, &recalled);
            }
        }
        self.messages = by_id.into_values().collect();
    }

    /// The oldest loaded message's id (where "load older" continues).
    pub fn oldest(&self) -> Option<MessageId> {
        self.messages.first().map(|m| m.id)
    }
}

/// What the driver reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// The account (after loading the cache or logging in).
    Account(AccountMeta),
    /// The connection indicator and the queued count.
    Connection(Connection, usize),
    /// The conversation list and the unread total.
    Conversations(Vec<Conversation>, u32),
    /// The directory was loaded or refreshed.
    Directory(Rc<Directory>),
    /// The groups were loaded or refreshed.
    Groups(Rc<Vec<Group>>),
    /// A conversation was opened: its newest cached page.
    Opened {
        /// Which.
        peer: Peer,
        /// The page, oldest first.
        messages: Vec<Message>,
        /// Its unsent messages.
        outbox: Vec<OutboxEntry>,
        /// Nothing older exists.
        complete: bool,
        /// The message to show (a search hit), else the newest.
        focus: Option<MessageId>,
    },
    /// The conversation view was left.
    Closed,
    /// Messages arrived in a conversation.
    Arrived {
        /// Which.
        peer: Peer,
        /// The messages.
        messages: Vec<Message>,
        /// Pushed live (rather than caught up or loaded).
        live: bool,
    },
    /// An older page of the open conversation (from the cache or the server).
    Older {
        /// Which.
        peer: Peer,
        /// The messages.
        messages: Vec<Message>,
        /// Nothing older exists.
        complete: bool,
    },
    /// An older page of this conversation is being fetched from the server.
    LoadingOlder(Peer),
    /// The outbox of a conversation changed.
    Outbox(Peer, Vec<OutboxEntry>),
    /// Catch-up finished.
    CaughtUp,
    /// The cache failed; it is being rebuilt.
    CacheProblem(String),
    /// The session ended.
    SignedOut(String),
    /// The busy choice.
    Busy(bool),
    /// The broadcasts (newest first) and how many are unread.
    Broadcasts(Rc<Vec<CachedBroadcast>>, usize),
    /// Where files are fetched from (at start, and with each new token).
    Files(FileAccess),
    /// How much of the current upload has left, or none when none is going.
    /// It changes every 100 ms while a file goes out, so it does not pass
    /// through [`AppState`]: [`UpdateSink`] hands it to its own context,
    /// [`Upload`], and only what shows progress renders again.
    Upload(Option<f64>),
    /// The call screen changed. Like the upload progress it changes often
    /// during a call (the quality every two seconds), so [`UpdateSink`]
    /// hands it to its own context, [`crate::calls::CallScreen`].
    Call(Box<crate::calls::CallScreen>),
    /// A group's meeting started or its participants changed (pushed).
    Meeting(Box<penpen_core::packets::meeting::Meeting>),
    /// This meeting of the group is over (or over for this user).
    MeetingOver(GroupId, penpen_core::MeetingId),
    /// The stream reconnected: the meetings known are forgotten, and its
    /// pushes bring back the ones still running.
    MeetingsForgotten,
    /// The meeting screen changed: like the call screen it has its own
    /// context, [`crate::meetings::MeetingScreen`].
    MeetingScreen(Box<crate::meetings::MeetingScreen>),
    /// The composer replies to this message, or to none (from the screens).
    Quoting(Option<Quote>),
    /// This tab recalled a text: kept for 重新编辑 (from the screens).
    Reedit(MessageId, String),
    /// Put this text in the composer (重新编辑, from the screens).
    Fill(String),
    /// The watched group's marks changed, or none are known (no group
    /// watched, or no full list yet).
    GroupReceipts(GroupId, Option<Rc<GroupReceipts>>),
    /// The urgent reminders still to show, oldest first.
    Dings(Rc<Vec<DingNotice>>),
    /// The user's 发送已读回执 setting.
    ReceiptsShared(Option<bool>),
}

/// The share of the file now being uploaded that has left (0 to 1), or none
/// when no upload is going: a context of its own beside [`Shared`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Upload(pub Option<f64>);

/// Where the driver's updates go: the state's reducer, except the upload
/// progress, which has its own context.
#[derive(Debug, Clone)]
pub struct UpdateSink {
    /// The app state's reducer.
    pub state: yew::UseReducerDispatcher<AppState>,
    /// The upload progress.
    pub upload: yew::UseStateSetter<Upload>,
    /// The call screen.
    pub call: yew::UseStateSetter<crate::calls::CallScreen>,
    /// The meeting screen.
    pub meeting: yew::UseStateSetter<crate::meetings::MeetingScreen>,
}

impl UpdateSink {
    /// Hands one update to whatever shows it.
    pub fn emit(&self, update: Update) {
        match update {
            Update::Upload(share) => self.upload.set(Upload(share)),
            Update::Call(screen) => self.call.set(*screen),
            Update::MeetingScreen(screen) => self.meeting.set(*screen),
            other => self.state.dispatch(other),
        }
    }
}

impl Reducible for AppState {
    type Action = Update;

    fn reduce(self: Rc<Self>, update: Update) -> Rc<Self> {
        // Updates about a conversation that is not on screen, and the
        // upload progress (see `UpdateSink`), change nothing shown here:
        // the same `Rc` back means nothing renders again.
        let open_is = |peer: &Peer| self.open.as_ref().is_some_and(|o| &o.peer == peer);
        match &update {
            Update::Arrived { peer, .. }
            | Update::Older { peer, .. }
            | Update::LoadingOlder(peer)
            | Update::Outbox(peer, _)
                if !open_is(peer) =>
            {
                return self;
            }
            Update::Upload(_) | Update::Call(_) | Update::MeetingScreen(_) => return self,
            _ => {}
        }
        // Only the fields an update names are replaced; the lists and the
        // open conversation are shared with the previous state otherwise.
        let mut state = (*self).clone();
        match update {
            Update::Account(account) => state.account = Some(account),
            Update::Connection(connection, queued) => {
                state.connection = connection;
                state.queued = queued;
            }
            Update::Conversations(list, unread) => {
                state.conversations = Rc::new(list);
                state.unread_total = unread;
            }
            Update::Directory(directory) => state.directory = Some(directory),
            Update::Groups(groups) => {
                state.groups = groups;
                state.groups_known = true;
            }
            Update::Opened {
                peer,
                messages,
                outbox,
                complete,
                focus,
            } => {
                let mut open = OpenConversation::new(peer);
                open.focus = focus;
                open.merge(&messages);
                open.outbox = outbox;
                open.complete = complete;
                open.loading_older = false;
                state.open = Some(Rc::new(open));
            }
            Update::Closed => state.open = None,
            Update::Arrived { messages, live, .. } => {
                if let Some(open) = state.open.as_mut() {
                    let open = Rc::make_mut(open);
                    open.merge(&messages);
                    if live {
                        open.arrivals += 1;
                    }
                }
            }
            Update::Older {
                messages, complete, ..
            } => {
                if let Some(open) = state.open.as_mut() {
                    let open = Rc::make_mut(open);
                    open.merge(&messages);
                    open.complete = complete;
                    open.loading_older = false;
                }
            }
            Update::LoadingOlder(_) => {
                if let Some(open) = state.open.as_mut() {
                    Rc::make_mut(open).loading_older = true;
                }
            }
            Update::Outbox(_, outbox) => {
                if let Some(open) = state.open.as_mut() {
                    Rc::make_mut(open).outbox = outbox;
                }
            }
            Update::CaughtUp => state.caught_up = true,
            Update::CacheProblem(problem) => state.cache_problem = Some(problem),
            Update::SignedOut(reason) => state.signed_out = Some(reason),
            Update::Busy(busy) => state.busy = busy,
            Update::Files(files) => state.files = Some(files),
            // Handled before the copy above.
            Update::Upload(_) | Update::Call(_) | Update::MeetingScreen(_) => {}
            Update::Meeting(meeting) => {
                let meetings = Rc::make_mut(&mut state.meetings);
                // One meeting per group: the newest push says how it is.
                meetings.retain(|m| m.gid != meeting.gid);
                meetings.push(*meeting);
            }
            Update::MeetingOver(gid, meeting) => {
                Rc::make_mut(&mut state.meetings)
                    .retain(|m| !(m.gid == gid && m.meeting == meeting));
            }
            Update::MeetingsForgotten => state.meetings = Rc::new(Vec::new()),
            Update::Quoting(quote) => {
                if let Some(open) = state.open.as_mut() {
                    Rc::make_mut(open).quoting = quote;
                }
            }
            Update::Reedit(id, text) => {
                Rc::make_mut(&mut state.reedit).insert(id, text);
            }
            Update::Fill(text) => {
                if let Some(open) = state.open.as_mut() {
                    let open = Rc::make_mut(open);
                    let next = open.fill.as_ref().map_or(0, |(n, _)| n.wrapping_add(1));
                    open.fill = Some((next, text));
                }
            }
            Update::GroupReceipts(gid, receipts) => {
                state.group_receipts = receipts.map(|receipts| (gid, receipts));
            }
            Update::Dings(dings) => state.dings = dings,
            Update::ReceiptsShared(shared) => state.receipts_shared = shared,
            Update::Broadcasts(broadcasts, unread) => {
                state.broadcasts = broadcasts;
                state.unread_broadcasts = unread;
            }
        }
        Rc::new(state)
    }
}

/// What the screens ask the driver to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Open a conversation (load its newest page, mark it read).
    Open(Peer),
    /// Leave the conversation view.
    Close,
    /// Load the page before the oldest loaded message of the open conversation.
    LoadOlder,
    /// Send a text message.
    SendText(Peer, String),
    /// Send a text with what the composer added: the message it replies
    /// to (§15.2), the members it @-mentions by id, or everyone (§15.4).
    SendComposed {
        /// The conversation.
        peer: Peer,
        /// The text, with the names as typed.
        text: String,
        /// The message replied to.
        quote: Option<Quote>,
        /// Who is mentioned (groups only).
        mentions: Vec<UserId>,
        /// @所有人.
        mention_all: bool,
    },
    /// Send a failed message again.
    Retry(ClientMsgId),
    /// Give up on an unsent message.
    Discard(ClientMsgId),
    /// Send a file of any kind, uploaded in chunks from the `File` itself
    /// (kept in IndexedDB so the upload goes on after a reload); the
    /// callback hears whether it was queued, or why not.
    SendUpload {
        /// To whom.
        peer: Peer,
        /// The file picked or dropped.
        file: web_sys::File,
        /// Queued, or why not.
        reply: yew::Callback<Result<(), penpen_core::sync::SendError>>,
    },
    /// Stop an upload and forget it (取消).
    CancelUpload(ClientMsgId),
    /// The stored file `name` (28888) as a `Blob`: from IndexedDB if it was
    /// downloaded before (so it opens offline), else fetched and kept.
    OpenFile {
        /// The server's name for it.
        name: String,
        /// The file, or why not.
        reply: yew::Callback<Result<web_sys::Blob, String>>,
    },
    /// Mark a conversation read.
    MarkRead(Peer),
    /// The newest message of this conversation shown on screen in a
    /// visible window (§16.1): it and everything before it were read.
    Seen(Peer, MessageId),
    /// The user closed an urgent reminder's banner without opening it.
    DismissDing(MessageId),
    /// Mark a conversation unread.
    MarkUnread(Peer),
    /// Pin or unpin a conversation.
    Pin(Peer, bool),
    /// Remove a conversation from the list and this device.
    Delete(Peer),
    /// Keep the composer's text.
    Draft(Peer, String),
    /// Reconnect now (the user pressed retry).
    Reconnect,
    /// Log out; unless `keep_messages`, the account's database on this
    /// device goes too (a shared computer).
    LogOut {
        /// Whether this device keeps the account's messages.
        keep_messages: bool,
    },
    /// Ask the server to change something; the callback gets the answer.
    Perform(Operation, yew::Callback<OperationResult>),
    /// Forward messages to conversations (§15.3): one by one, or merged
    /// into one chat record per target. The callback gets one answer per
    /// request ([`forward_requests`] of them), or one refusal if none was
    /// sent.
    Forward {
        /// The messages, oldest first.
        ids: Vec<MessageId>,
        /// Where they go.
        targets: Vec<Peer>,
        /// One chat record per target.
        merge: bool,
        /// Each request's answer.
        reply: yew::Callback<OperationResult>,
    },
    /// Show as busy, or not.
    SetBusy(bool),
    /// Fetch these people's current signatures.
    RefreshSignatures(Vec<UserId>),
    /// Clear a conversation's messages from this device.
    ClearHistory(Peer),
    /// A broadcast was opened.
    ReadBroadcast(BroadcastId),
    /// Open a conversation at one of its messages (a search hit).
    OpenAt(Peer, MessageId),
    /// Send an image or a voice message; the callback hears whether it was
    /// queued, or why not.
    SendFile {
        /// To whom.
        peer: Peer,
        /// An image, or a recording of some seconds.
        kind: penpen_core::sync::FileKind,
        /// The file.
        data: Vec<u8>,
        /// Queued, or why not.
        reply: yew::Callback<Result<(), penpen_core::sync::SendError>>,
    },
    /// Build the search index now (the search page opened), so it is ready
    /// by the time the first words are typed.
    PrepareSearch,
    /// Search the cached messages, in one conversation or all; the callback
    /// gets the result.
    Search {
        /// The words.
        query: String,
        /// The conversation, or none for all.
        within: Option<Peer>,
        /// Where the result goes.
        reply: yew::Callback<SearchResult>,
    },
    /// Search the server's history (PROTOCOL §17): one page of hits, the
    /// newest, or those before `before`; the callback gets it once.
    SearchServer {
        /// The words.
        query: String,
        /// The conversation, or none for all.
        within: Option<Peer>,
        /// The last hit of the page before, for the next page.
        before: Option<MessageId>,
        /// Where the page (or why there is none) goes.
        reply: yew::Callback<ServerSearchResult>,
    },
    /// Something about a call (start, accept, hang up, camera, devices).
    Call(crate::calls::CallCommand),
    /// Something about a meeting (start, join, leave, end, mic, camera).
    Meeting(crate::meetings::MeetingCommand),
}

/// What a search found, and how long it took.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResult {
    /// The query it answers.
    pub query: String,
    /// The hits (newest first) and their total.
    pub found: penpen_core::search::Found,
    /// Milliseconds the search took (not counting building the index).
    pub took_ms: f64,
}

/// A page of the server's hits: the same shape as a cached search's, so
/// the search page draws both alike.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerHits {
    /// The hits, newest first.
    pub hits: Vec<penpen_core::search::Hit>,
    /// More hits lie before the last one.
    pub more: bool,
    /// The page's last message: the next page is asked for before it.
    pub last: Option<MessageId>,
}

/// The answer to [`Command::SearchServer`]: not sent (offline, a query
/// the server would refuse), refused or lost, or a page.
pub type ServerSearchResult = Result<ServerHits, OperationFailure>;

/// How many requests (and so answers) a forward of `messages` to `targets`
/// makes: one per message per target, or one per target merged.
pub fn forward_requests(messages: usize, targets: usize, merge: bool) -> usize {
    targets * if merge { 1 } else { messages }
}

/// The answer to [`Command::Perform`].
pub type OperationResult = Result<Outcome, OperationFailure>;

/// Why an operation did not happen.
#[derive(Debug, Clone, PartialEq)]
pub enum OperationFailure {
    /// It was not sent (offline, signed out, over a limit).
    NotSent(OperationError),
    /// The server refused it, or the connection dropped before its answer.
    Refused(ErrorReply),
}

/// What the pane beside the list shows instead of a chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Panel {
    /// A person's page.
    Contact(UserId),
    /// A group's page.
    Group(GroupId),
    /// The form that creates a group.
    NewGroup,
    /// A broadcast.
    Broadcast(BroadcastId),
    /// The form that sends a broadcast.
    NewBroadcast,
    /// Message search, in one conversation or all.
    Search(Option<Peer>),
}

/// The name to show for a conversation: the contact's or group's name, else
/// the account or gid.
pub fn peer_name(state: &AppState, peer: &Peer) -> String {
    display_name(state.directory.as_deref(), &state.groups, peer)
}

/// The name of a person (from the directory) or a group (from the user's
/// groups), else the account or gid.
pub fn display_name(directory: Option<&Directory>, groups: &[Group], peer: &Peer) -> String {
    match peer {
        Peer::User(user) => directory
            .and_then(|d| d.contacts.iter().find(|c| &c.user == user))
            .map(|c| c.name.clone())
            .unwrap_or_else(|| user.to_string()),
        Peer::Group(gid) => groups
            .iter()
            .find(|g| g.gid == *gid)
            .map(|g| g.name.clone())
            .unwrap_or_else(|| format!("#{gid}")),
    }
}

/// What the chat with `peer` knows about who read the user's messages: the
/// other person's mark (1:1), or the group's marks while it is watched.
pub fn known_receipts<'a>(state: &'a AppState, peer: &Peer) -> crate::ui::receipts::Known<'a> {
    use crate::ui::receipts::Known;
    match peer {
        Peer::User(_) => {
            state
                .conversations
                .iter()
                .find(|c| &c.peer == peer)
                .map_or(Known::Nothing, |c| Known::Peer {
                    read: c.peer_read,
                    private: c.peer_private,
                })
        }
        Peer::Group(gid) => Known::Group(
            state
                .group_receipts
                .as_ref()
                .filter(|(watched, _)| watched == gid)
                .map(|(_, receipts)| &**receipts),
        ),
    }
}

/// Whether the user may post in a conversation: not in a group they left
/// or were removed from (whose history stays readable).
pub fn may_post(state: &AppState, peer: &Peer) -> bool {
    let Some(gid) = peer.group() else {
        return true;
    };
    if !state.groups_known {
        return true;
    }
    let me = state.account.as_ref().map(|a| &a.user);
    state
        .groups
        .iter()
        .any(|g| g.gid == gid && me.is_some_and(|me| g.member.contains(me)))
}

/// The name of a person, from the directory, else their account.
pub fn person_name(state: &AppState, user: &UserId) -> String {
    peer_name(state, &Peer::User(user.clone()))
}

/// Up to two characters for an avatar: the end of a Chinese name ("张三" →
/// "张三", "欧阳娜娜" → "娜娜"), the first letters of a Latin one.
pub fn initials(name: &str) -> String {
    let chars: Vec<char> = name.chars().filter(|c| !c.is_whitespace()).collect();
    if chars.iter().any(|c| !c.is_ascii()) {
        chars[chars.len().saturating_sub(2)..].iter().collect()
    } else {
        name.split_whitespace()
            .filter_map(|word| word.chars().next())
            .take(2)
            // Every character is ASCII here: no Unicode case table needed.
            .map(|c| c.to_ascii_uppercase())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_take_the_given_name_or_the_first_letters() {
        assert_eq!(initials("张三"), "张三");
        assert_eq!(initials("欧阳娜娜"), "娜娜");
        assert_eq!(initials("ada lovelace"), "AL");
        assert_eq!(initials(""), "");
    }

    #[test]
    fn running_meetings_follow_the_pushes_and_are_forgotten_on_reconnect() {
        use penpen_core::MeetingId;
        use penpen_core::packets::meeting::Meeting;
        use penpen_core::testing::{gid, user};
        let id = |text: &str| MeetingId::parse(text).expect("a meeting id");
        let meeting = |group: u64, meeting: &str, people: &[u64]| Meeting {
            gid: gid(group),
            meeting: id(meeting),
            started_by: user(3),
            started_at: 1_795_784_709_000,
            participants: people.iter().map(|p| user(*p)).collect(),
        };
        let apply = |state: Rc<AppState>, update: Update| state.reduce(update);
        let mut state = Rc::new(AppState::default());
        state = apply(state, Update::Meeting(Box::new(meeting(7, "m-1", &[3]))));
        state = apply(state, Update::Meeting(Box::new(meeting(8, "m-2", &[3]))));
        // A join in group 7: the newest push replaces what was known.
        state = apply(state, Update::Meeting(Box::new(meeting(7, "m-1", &[3, 0]))));
        assert_eq!(state.meetings.len(), 2);
        let seven = state.meetings.iter().find(|m| m.gid == gid(7));
        assert_eq!(seven.map(|m| m.participants.len()), Some(2));
        // An end of another meeting id leaves the running one alone.
        state = apply(state, Update::MeetingOver(gid(7), id("m-0")));
        assert_eq!(state.meetings.len(), 2);
        state = apply(state, Update::MeetingOver(gid(7), id("m-1")));
        assert_eq!(state.meetings.len(), 1);
        assert_eq!(state.meetings[0].gid, gid(8));
        state = apply(state, Update::MeetingsForgotten);
        assert!(state.meetings.is_empty());
    }
}

/// What every screen gets from the app through a Yew context.
#[derive(Debug, Clone)]
pub struct Shared {
    /// The state.
    pub state: yew::UseReducerHandle<AppState>,
    /// Sends a command to the driver.
    pub command: yew::Callback<Command>,
    /// The interface language.
    pub lang: crate::i18n::Lang,
    /// The reader's zone, minutes east of UTC (for times and day separators).
    pub utc_offset_minutes: i32,
    /// The page shown instead of the chat, if any.
    pub panel: yew::UseStateHandle<Option<Panel>>,
}

impl PartialEq for Shared {
    /// The same state is the same `Rc` (the reducer makes a new one for
    /// every change): comparing by address spares a walk through every
    /// conversation each time the app renders.
    fn eq(&self, other: &Shared) -> bool {
        std::ptr::eq::<AppState>(&*self.state, &*other.state)
            && self.command == other.command
            && self.lang == other.lang
            && self.utc_offset_minutes == other.utc_offset_minutes
            && self.panel == other.panel
    }
}

/// The app's [`Shared`] context, for every screen below the signed-in
/// session (none outside it, as in the login screen).
#[yew::hook]
pub fn use_shared() -> Option<Shared> {
    yew::use_context::<Shared>()
}

/// The upload progress (see [`Upload`]): the share that has left, if a file
/// is going out.
#[yew::hook]
pub fn use_upload() -> Option<f64> {
    yew::use_context::<Upload>().and_then(|upload| upload.0)
}

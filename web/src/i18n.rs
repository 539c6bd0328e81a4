//! The words on screen: Chinese first, English second.

const LANG_KEY: &str = "penpen.lang";

/// A language the interface speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// 简体中文, the default.
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    /// The remembered choice, else Chinese.
    pub fn load() -> Lang {
        let stored = gloo::utils::window()
            .local_storage()
            .ok()
            .flatten()
            .and_then(|s| s.get_item(LANG_KEY).ok().flatten());
        match stored.as_deref() {
            Some("en") => Lang::En,
            _ => Lang::Zh,
        }
    }

    /// Remembers the choice for the next visit.
    pub fn save(self) {
        if let Ok(Some(storage)) = gloo::utils::window().local_storage() {
            // Forgetting the language is harmless: the next visit starts in Chinese.
            let _ = storage.set_item(LANG_KEY, self.code());
        }
    }

    /// The BCP 47 code, for `<html lang>`.
    pub const fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The other language, for the switch.
    pub const fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// The text for `key` with its placeholders `{0}`, `{1}`, … replaced by
    /// `args`, in one pass, so an argument that itself contains `{1}` (a
    /// group named so) is shown as written. Word order differs between the
    /// languages, which is why the placeholders are numbered.
    pub fn fill(self, key: Text, args: &[&str]) -> String {
        let template = self.tr(key);
        let mut out =
            String::with_capacity(template.len() + args.iter().map(|a| a.len()).sum::<usize>());
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let argument = after.find('}').and_then(|close| {
                let index: usize = after[..close].parse().ok()?;
                Some((args.get(index).copied().unwrap_or(""), close))
            });
            match argument {
                Some((value, close)) => {
                    out.push_str(value);
                    rest = &after[close + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// The text for `key` in this language.
    pub const fn tr(self, key: Text) -> &'static str {
        let (zh, en) = match key {
            Text::AppName => ("penpen", "penpen"),
            Text::Tagline => (
                "企业即时通讯 · 消息永不丢失",
                "Enterprise messaging · no message is ever lost",
            ),
            Text::Account => ("账号", "Account"),
            Text::AccountHint => ("11 位手机号", "11-digit mobile number"),
            Text::Password => ("密码", "Password"),
            Text::PasswordHint => ("请输入密码", "Enter your password"),
            Text::LogIn => ("登录", "Log in"),
            Text::LoggingIn => ("正在登录…", "Logging in…"),
            Text::SwitchLanguage => ("English", "中文"),
            Text::ErrAccountFormat => (
                "账号格式不正确：应为 11 位数字的手机号",
                "That account is not valid: expected an 11-digit mobile number",
            ),
            Text::ErrPasswordEmpty => ("请输入密码", "Please enter your password"),
            Text::ErrWrongPassword => ("账号或密码错误", "Wrong account or password"),
            Text::ErrUnreachable => (
                "无法连接服务器，请检查网络后重试",
                "Cannot reach the server; check the network and try again",
            ),
            Text::ErrServer => ("服务器拒绝了请求", "The server refused the request"),
            Text::ErrRateLimited => (
                "尝试次数过多，请一分钟后再试",
                "Too many attempts; try again in a minute",
            ),
            Text::ErrSessionExpired => (
                "登录已失效，请重新登录",
                "Your session has ended; please log in again",
            ),
            Text::LogOut => ("退出登录", "Log out"),
            Text::LogOutAsk => (
                "退出登录后，是否在这台设备上保留消息？在公用电脑上请选择删除。",
                "After logging out, keep this device's messages? On a shared computer, remove them.",
            ),
            Text::LogOutKeep => ("保留消息并退出", "Keep messages and log out"),
            Text::LogOutRemove => ("删除本机消息并退出", "Remove messages and log out"),
            Text::LoginServer => ("服务器：{0}", "Server: {0}"),
            Text::ServerProposal => (
                "此链接要求使用另一台服务器：{0}。您的账号和密码将发送到该服务器，请仅在信任它时使用。",
                "This link asks to use another server: {0}. Your account and password will be sent there; use it only if you trust it.",
            ),
            Text::ServerProposalAccept => ("使用此服务器", "Use this server"),
            Text::ServerProposalReject => ("忽略", "Ignore"),
            Text::ServerProposalInvalid => (
                "此链接中的服务器地址无效，已忽略",
                "The server address in this link is not valid and was ignored",
            ),
            Text::NotificationsAsk => (
                "有新消息时显示桌面通知？",
                "Show a desktop notification when a message arrives?",
            ),
            Text::NotificationsEnable => ("开启通知", "Turn on"),
            Text::NotificationsLater => ("以后再说", "Not now"),
            // The connection indicator.
            Text::Connected => ("已连接", "Connected"),
            Text::Connecting => ("正在连接…", "Connecting…"),
            Text::Offline => ("离线", "Offline"),
            Text::Queued => ("{0} 条待发送", "{0} queued"),
            Text::Reconnect => ("重试", "Retry"),
            // Banners.
            Text::SignedOutBanner => ("登录已失效：{0}", "You have been signed out: {0}"),
            Text::CacheProblemBanner => (
                "本地缓存出错，正在从服务器重新同步：{0}",
                "The local cache failed and is being synced again from the server: {0}",
            ),
            Text::LogInAgain => ("重新登录", "Log in again"),
            // Relative times and dates; date templates get
            // [year, month, day, English month abbreviation].
            Text::JustNow => ("刚刚", "just now"),
            Text::MinutesAgo => ("{0}分钟前", "{0} min ago"),
            Text::HoursAgo => ("{0}小时前", "{0} h ago"),
            Text::Yesterday => ("昨天", "Yesterday"),
            Text::YesterdayAt => ("昨天 {0}", "Yesterday {0}"),
            Text::MonthDay => ("{1}月{2}日", "{3} {2}"),
            Text::FullDate => ("{0}年{1}月{2}日", "{3} {2}, {0}"),
            // Message bodies that are not text.
            Text::Image => ("[图片]", "[Image]"),
            Text::Voice => ("[语音]", "[Voice]"),
            Text::VoiceSeconds => ("[语音 {0}s]", "[Voice {0}s]"),
            Text::Unsupported => ("[不支持的消息类型]", "[Unsupported message type]"),
            Text::GroupNotice => ("[群通知]", "[Group notice]"),
            // Call records (type 3); {0} is the call's length, mm:ss.
            Text::VoiceCallLasted => ("语音通话 {0}", "Voice call {0}"),
            Text::VideoCallLasted => ("视频通话 {0}", "Video call {0}"),
            Text::CallNoAnswer => ("对方未接听", "No answer"),
            Text::CallMissed => ("未接来电", "Missed call"),
            Text::CallDeclinedByThem => ("对方已拒绝", "Declined"),
            Text::CallDeclinedByYou => ("已拒绝", "You declined"),
            Text::CallBusyThem => ("对方忙线中", "Busy"),
            Text::CallBusyYou => ("忙线未接", "Missed while busy"),
            Text::CallFailed => ("通话未接通", "Call failed"),
            Text::CallRecord => ("[通话]", "[Call]"),
            // The call screen and the call buttons.
            Text::VoiceCall => ("语音通话", "Voice call"),
            Text::VideoCall => ("视频通话", "Video call"),
            Text::CallCalling => ("正在呼叫…", "Calling…"),
            Text::CallRinging => ("对方已响铃，等待接听…", "Ringing, waiting for an answer…"),
            Text::CallInvitesVoice => ("邀请你进行语音通话", "invites you to a voice call"),
            Text::CallInvitesVideo => ("邀请你进行视频通话", "invites you to a video call"),
            Text::CallAccept => ("接听", "Accept"),
            Text::CallDecline => ("拒绝", "Decline"),
            Text::CallHangUp => ("挂断", "Hang up"),
            Text::CallReconnecting => ("网络不佳，正在重新连接…", "Poor network, reconnecting…"),
            Text::CallMute => ("静音", "Mute"),
            Text::CallCamera => ("摄像头", "Camera"),
            Text::CallDevices => ("设备", "Devices"),
            Text::CallMicrophone => ("麦克风", "Microphone"),
            Text::CallSpeaker => ("扬声器", "Speaker"),
            Text::CallSystemDefault => ("系统默认", "System default"),
            Text::CallQualityGood => ("信号良好", "Good signal"),
            Text::CallQualityFair => ("信号一般", "Fair signal"),
            Text::CallQualityPoor => ("信号较差", "Poor signal"),
            Text::CallRelayed => ("中继", "relayed"),
            Text::CallDuration => ("通话时长 {0}", "Call length {0}"),
            // Why a call ended (beside the call records' words above).
            Text::CallEnded => ("通话已结束", "Call ended"),
            Text::CallCancelledByYou => ("已取消", "Cancelled"),
            Text::CallCancelledByThem => ("对方已取消", "They cancelled"),
            Text::CallLost => (
                "网络中断，通话已结束",
                "The connection was lost; the call ended",
            ),
            Text::CallGlare => (
                "双方同时发起了呼叫",
                "You called each other at the same time",
            ),
            Text::CallAnsweredElsewhere => ("已在其他设备接听", "Answered on another device"),
            Text::CallUnknownUser => ("该用户不存在", "There is no such user"),
            Text::CallInAnotherCall => (
                "你已在其他设备通话中",
                "You are already in a call on another device",
            ),
            Text::CallGone => ("已在其他设备处理", "Already handled on another device"),
            Text::CallForbidden => ("无法呼叫此用户", "You cannot call this user"),
            Text::CallUnreachable => ("无法连接通话服务器", "Cannot reach the call server"),
            Text::CallInsecureContext => (
                "当前页面不是安全连接（HTTPS），浏览器不允许使用麦克风和摄像头",
                "This page is not a secure connection (HTTPS), so the browser offers no microphone or camera",
            ),
            Text::CallMediaRefused => (
                "麦克风或摄像头权限被拒绝，请在浏览器设置中允许",
                "The microphone or camera was refused; allow it in the browser's settings",
            ),
            Text::CallMediaMissing => (
                "没有找到麦克风或摄像头",
                "No microphone or camera was found",
            ),
            Text::CallMediaBusy => (
                "麦克风或摄像头正被其他程序占用",
                "Another program is using the microphone or camera",
            ),
            Text::CallMediaFailed => ("通话失败：{0}", "The call failed: {0}"),
            // Meetings; {0} a count, a group's name or the browser's words.
            Text::MeetingInProgress => ("会议进行中 · {0}人", "Meeting in progress · {0} people"),
            Text::MeetingJoin => ("加入", "Join"),
            Text::MeetingStart => ("发起会议", "Start a meeting"),
            Text::MeetingTitle => ("{0}的会议", "{0}: meeting"),
            Text::MeetingJoining => ("正在加入会议…", "Joining the meeting…"),
            Text::MeetingPeople => ("{0}人", "{0} people"),
            Text::MeetingMic => ("麦克风", "Microphone"),
            Text::MeetingCamera => ("摄像头", "Camera"),
            Text::MeetingParticipants => ("参会人", "Participants"),
            Text::MeetingLeave => ("离开", "Leave"),
            Text::MeetingEnd => ("结束会议", "End for all"),
            Text::MeetingEndRefused => (
                "只有会议发起人或群主可以结束会议",
                "Only whoever started the meeting or the group's holder can end it",
            ),
            Text::MeetingYou => ("（我）", " (you)"),
            Text::MeetingLeftByYou => ("你已离开会议", "You left the meeting"),
            Text::MeetingOver => ("会议已结束", "The meeting has ended"),
            Text::MeetingEmpty => (
                "会议已结束：所有人都已离开",
                "The meeting ended: everyone left",
            ),
            Text::MeetingRemoved => (
                "你已不在该讨论组中，已退出会议",
                "You are no longer in the group, so you left its meeting",
            ),
            Text::MeetingJoinedElsewhere => (
                "你已在其他设备加入会议",
                "You joined the meeting on another device",
            ),
            Text::MeetingLost => (
                "网络中断，已退出会议",
                "The connection was lost; you left the meeting",
            ),
            Text::MeetingFull => (
                "会议人数已满（最多 16 人）",
                "The meeting is full (16 people at most)",
            ),
            Text::MeetingBusy => (
                "你正在通话或另一个会议中",
                "You are in a call or another meeting",
            ),
            Text::MeetingGone => ("会议已结束或不存在", "The meeting is over"),
            Text::MeetingNotMember => (
                "只有讨论组成员可以加入会议",
                "Only the group's members can join its meeting",
            ),
            Text::MeetingUnreachable => ("无法连接会议服务器", "Cannot reach the meeting server"),
            Text::MeetingMediaFailed => ("会议失败：{0}", "The meeting failed: {0}"),
            // Group notices: {0} did it, {1} what or whom.
            Text::NoticeCreated => ("{0} 创建了讨论组", "{0} created the group"),
            Text::NoticeRenamed => ("{0} 将讨论组改名为 {1}", "{0} renamed the group to {1}"),
            Text::NoticeAdded => ("{0} 邀请了 {1}", "{0} invited {1}"),
            Text::NoticeRemoved => ("{0} 移出了 {1}", "{0} removed {1}"),
            Text::NoticeLeft => ("{0} 退出了讨论组", "{0} left the group"),
            // Recall (§15.1): {0} who took it back; for a holder's, {0} whose it was.
            Text::NoticeRecalled => ("{0}撤回了一条消息", "{0} recalled a message"),
            Text::NoticeRecalledByHolder => (
                "群主撤回了{0}的一条消息",
                "The group owner recalled a message from {0}",
            ),
            Text::NoticeYouRecalledTheirs => {
                ("你撤回了{0}的一条消息", "You recalled a message from {0}")
            }
            Text::Reedit => ("重新编辑", "Edit again"),
            Text::MessageActions => ("消息操作", "Message actions"),
            Text::ActionRecall => ("撤回", "Recall"),
            Text::ActionQuote => ("引用", "Quote"),
            Text::ActionCopy => ("复制", "Copy"),
            Text::RecallFailed => ("撤回失败", "Could not recall"),
            Text::QuoteRecalled => ("引用的消息已撤回", "The quoted message was recalled"),
            Text::CancelQuote => ("取消引用", "Stop quoting"),
            Text::Dismiss => ("知道了", "OK"),
            Text::QuotedFrom => ("{0}：{1}", "{0}: {1}"),
            // Meeting notices: {0} who started it; {0} how long (mm:ss), {1} how many took part.
            Text::NoticeMeetingStarted => ("{0} 发起了会议", "{0} started a meeting"),
            Text::NoticeMeetingEnded => (
                "会议已结束，时长 {0}，{1}人参加",
                "Meeting ended after {0}, {1} took part",
            ),
            Text::You => ("你", "You"),
            Text::NameSeparator => ("、", ", "),
            // The conversation list.
            Text::SenderSaid => ("{0}: {1}", "{0}: {1}"),
            Text::Draft => ("[草稿]", "[Draft]"),
            Text::Pinned => ("已置顶", "Pinned"),
            Text::Unread => ("未读", "Unread"),
            Text::Conversations => ("会话", "Chats"),
            Text::NoConversations => ("暂无会话", "No chats yet"),
            Text::NoConversationsHint => (
                "同事发来的消息会显示在这里",
                "Messages from your colleagues will appear here",
            ),
            Text::SyncingConversations => ("正在同步会话…", "Syncing chats…"),
            Text::Pin => ("置顶", "Pin"),
            Text::Unpin => ("取消置顶", "Unpin"),
            Text::Mute => ("消息免打扰", "Mute notifications"),
            Text::Unmute => ("取消免打扰", "Unmute"),
            Text::Muted => ("已开启消息免打扰", "Notifications muted"),
            Text::MentionedMe => ("[有人@我]", "[Mentioned]"),
            Text::MentionAll => ("所有人", "Everyone"),
            Text::MentionPicker => ("选择提醒的人", "Mention someone"),
            Text::MuteFailed => (
                "免打扰设置未保存，请检查网络后重试",
                "The mute setting was not saved; check the connection and try again",
            ),
            Text::MarkRead => ("标为已读", "Mark as read"),
            Text::MarkUnread => ("标为未读", "Mark as unread"),
            Text::DeleteConversation => ("删除会话", "Delete chat"),
            Text::ConfirmDelete => (
                "删除后，本设备上的聊天记录将被清除",
                "The chat history on this device will be removed",
            ),
            Text::Delete => ("删除", "Delete"),
            Text::Cancel => ("取消", "Cancel"),
            // The chat view.
            Text::PickConversation => ("选择一个会话开始聊天", "Pick a chat to start"),
            Text::TabChats => ("消息", "Chats"),
            Text::TabContacts => ("通讯录", "Contacts"),
            Text::SearchContacts => ("搜索姓名或账号", "Search by name or account"),
            Text::NoContacts => ("没有找到联系人", "No one found"),
            Text::DirectoryLoading => ("正在加载通讯录…", "Loading the directory…"),
            Text::MeMark => ("我", "me"),
            Text::PresenceOnline => ("在线", "Online"),
            Text::PresenceAway => ("离开", "Away"),
            Text::PresenceBusy => ("忙碌", "Busy"),
            Text::PresenceOffline => ("离线", "Offline"),
            Text::Back => ("返回", "Back"),
            Text::MemberCount => ("{0} 人", "{0} members"),
            Text::LoadingOlder => ("正在加载更早的消息…", "Loading earlier messages…"),
            Text::NoOlder => ("没有更早的消息了", "No earlier messages"),
            Text::NewMessages => ("有新消息 ↓", "New messages ↓"),
            Text::Sending => ("发送中", "Sending"),
            Text::Sent => ("已发送", "Sent"),
            Text::SendFailed => ("发送失败", "Not sent"),
            Text::Resend => ("重发", "Send again"),
            // The composer.
            Text::ComposerHint => (
                "输入消息，Enter 发送，Shift+Enter 换行",
                "Write a message (Enter to send, Shift+Enter for a new line)",
            ),
            Text::ComposerShortHint => ("输入消息", "Write a message"),
            Text::Send => ("发送", "Send"),
            Text::TooLong => (
                "消息超过 {0} 字，无法发送",
                "Messages are limited to {0} characters",
            ),
            Text::TabMe => ("我", "Me"),
            Text::Signature => ("个性签名", "Signature"),
            Text::SignatureHint => ("写一句话介绍自己", "A line about yourself"),
            Text::Save => ("保存", "Save"),
            Text::Saving => ("正在保存…", "Saving…"),
            Text::Saved => ("已保存", "Saved"),
            Text::Presence => ("状态", "Status"),
            Text::ShowBusy => ("显示为忙碌", "Show me as busy"),
            Text::PresenceAuto => (
                "打开应用时为在线，切到后台时为离开",
                "Online while the app is open, away while it is in the background",
            ),
            Text::ChangePassword => ("修改密码", "Change password"),
            Text::CurrentPassword => ("当前密码", "Current password"),
            Text::NewPassword => ("新密码", "New password"),
            Text::ConfirmPassword => ("确认新密码", "Confirm the new password"),
            Text::PasswordChanged => (
                "密码已修改，其他设备上的登录已退出",
                "Password changed; your other sessions were signed out",
            ),
            Text::ErrPasswordMismatch => ("两次输入的新密码不一致", "The two new passwords differ"),
            Text::ErrPasswordShort => (
                "新密码至少 6 位",
                "The new password needs at least 6 characters",
            ),
            Text::ErrPasswordSame => (
                "新密码不能与当前密码相同",
                "The new password must differ from the current one",
            ),
            Text::ErrCurrentPassword => ("当前密码不正确", "The current password is wrong"),
            Text::Language => ("语言", "Language"),
            Text::Sound => ("新消息提示音", "Sound for new messages"),
            Text::CallVideo => ("通话视频画质", "Video quality in calls"),
            Text::CallVideoSmooth => ("流畅（省流量）", "Smooth (saves data)"),
            Text::CallVideoStandard => ("标清", "Standard"),
            Text::CallVideoHigh => ("高清", "High"),
            Text::About => ("关于", "About"),
            Text::AboutText => (
                "penpen 企鹅通讯 {0} · PENPEN 1.0 协议 · 服务器 {1}",
                "penpen {0} · PENPEN 1.0 protocol · server {1}",
            ),
            Text::Department => ("部门", "Department"),
            Text::Job => ("职位", "Job"),
            Text::ErrOffline => (
                "当前离线，此操作需要连接服务器，请联网后重试",
                "You are offline; this needs the server, so try again once connected",
            ),
            Text::ErrLostAnswer => (
                "连接中断，未收到服务器答复，请确认后重试：{0}",
                "The connection dropped before the server answered; check and try again: {0}",
            ),
            Text::ErrRefused => ("服务器拒绝了请求：{0}", "The server refused: {0}"),
            Text::ErrForbidden => ("没有权限：{0}", "Not allowed: {0}"),
            Text::SendMessage => ("发消息", "Message"),
            Text::ClearHistory => ("清空本地聊天记录", "Clear local chat history"),
            Text::ConfirmClearHistory => (
                "清空本设备上与 {0} 的聊天记录？服务器上的记录仍会保留",
                "Clear the chat history with {0} on this device? The server keeps it",
            ),
            Text::HistoryCleared => ("本地聊天记录已清空", "Local chat history cleared"),
            Text::Clear => ("清空", "Clear"),
            Text::ContactUnknown => ("通讯录中没有此人", "This person is not in the directory"),
            Text::NewGroup => ("发起讨论组", "New group"),
            Text::GroupName => ("讨论组名称", "Group name"),
            Text::GroupNameHint => ("例如：项目讨论", "For example: Project talk"),
            Text::PickMembers => ("选择成员", "Pick members"),
            Text::Selected => ("已选 {0} 人", "{0} selected"),
            Text::Create => ("创建", "Create"),
            Text::Creating => ("正在创建…", "Creating…"),
            Text::ErrGroupName => ("请填写讨论组名称", "Please name the group"),
            Text::ErrNoMembers => ("请至少选择一位成员", "Please pick at least one member"),
            Text::GroupDetail => ("讨论组信息", "Group info"),
            Text::GroupId => ("群号", "Group number"),
            Text::Holder => ("群主", "Owner"),
            Text::Members => ("成员", "Members"),
            Text::Rename => ("修改名称", "Rename"),
            Text::AddMembers => ("添加成员", "Add members"),
            Text::Add => ("添加", "Add"),
            Text::Remove => ("移出", "Remove"),
            Text::LeaveGroup => ("退出讨论组", "Leave group"),
            Text::ConfirmLeave => (
                "退出后将不再收到此讨论组的消息，已有记录仍可查看",
                "You will no longer get this group's messages; what is here stays readable",
            ),
            Text::Leave => ("退出", "Leave"),
            Text::NotInGroup => (
                "你已不在此讨论组中，无法发送消息",
                "You are no longer in this group and cannot post",
            ),
            Text::TabBroadcasts => ("通知", "News"),
            Text::KindNotice => ("通知", "Notice"),
            Text::KindNews => ("新闻", "News"),
            Text::KindAnnouncement => ("公告", "Announcement"),
            Text::NewBroadcast => ("发布通知", "New broadcast"),
            Text::NoBroadcasts => ("暂无公司通知", "No company broadcasts yet"),
            Text::BroadcastKind => ("类型", "Kind"),
            Text::BroadcastTitle => ("标题", "Title"),
            Text::BroadcastContent => ("正文", "Text"),
            Text::ErrBroadcastTitle => ("请填写标题", "Please give it a title"),
            Text::ErrBroadcastContent => ("请填写正文", "Please write the text"),
            Text::SearchMessages => ("搜索聊天记录", "Search messages"),
            Text::SearchIn => ("在“{0}”中搜索", "Search in {0}"),
            Text::SearchHint => ("输入关键词", "Type a word to find"),
            Text::SearchHits => ("找到 {0} 条相关记录", "{0} messages found"),
            Text::NoSearchHits => ("没有找到相关记录", "Nothing found"),
            Text::SearchThisConversation => ("查找聊天记录", "Search this chat"),
            Text::FoundOnServer => ("服务器上的更早消息", "Older messages on the server"),
            Text::SearchingServer => ("正在搜索服务器…", "Searching the server…"),
            Text::SearchOfflineLocalOnly => (
                "离线时只能搜索本机消息",
                "Offline: only the messages on this device were searched",
            ),
            Text::ServerSearchFailed => ("服务器搜索失败：{0}", "The server's search failed: {0}"),
            Text::NoServerHits => ("服务器上没有更多相关记录", "Nothing more on the server"),
            Text::MoreFromServer => ("加载更多", "Load more"),
            Text::ViewImage => ("查看大图", "View full size"),
            Text::AttachImage => ("发送图片", "Send an image"),
            Text::AttachFile => ("文件", "File"),
            Text::SendFileHint => ("发送文件", "Send a file"),
            Text::FileMessage => ("[文件] {0}", "[File] {0}"),
            Text::FilePlaceholder => ("[文件]", "[File]"),
            Text::Download => ("下载", "Download"),
            Text::Downloading => ("正在下载…", "Downloading…"),
            Text::Preview => ("预览", "Preview"),
            Text::ClosePreview => ("关闭预览", "Close preview"),
            Text::SavedOffline => ("已保存，可离线打开", "Saved; opens offline"),
            Text::DownloadFailed => ("下载失败：{0}", "Download failed: {0}"),
            Text::CancelUpload => ("取消", "Cancel"),
            Text::Uploading => ("正在上传 {0}", "Uploading {0}"),
            Text::FileTooLarge => ("文件不能超过 {0} MB", "Files are limited to {0} MB"),
            Text::ImageTooLarge => ("图片不能超过 {0} MB", "Images are limited to {0} MB"),
            Text::NotAnImage => (
                "只能发送 JPEG、PNG、GIF 或 WebP 图片",
                "Only JPEG, PNG, GIF or WebP images can be sent",
            ),
            Text::FileUnreadable => ("无法读取这个文件", "This file cannot be read"),
            Text::DropImage => ("松开即可发送图片", "Drop to send the image"),
            Text::RecordVoice => ("录制语音", "Record a voice message"),
            Text::RecordVoiceHint => (
                "点击开始录音（手机上按住说话）",
                "Click to record (hold on a phone)",
            ),
            Text::SlideToCancel => (
                "松开发送，滑开取消",
                "Release to send, slide away to cancel",
            ),
            Text::EscToCancel => ("按 Esc 取消", "Esc to cancel"),
            Text::VoiceTooShort => ("说话时间太短", "Too short to send"),
            Text::MicrophoneRefused => (
                "无法使用麦克风：{0}",
                "The microphone is not available: {0}",
            ),
            Text::PlayVoice => ("播放语音", "Play"),
            Text::PauseVoice => ("暂停", "Pause"),
            Text::Unplayed => ("未播放", "Not played"),
            Text::ShowMore => ("显示更多", "Show more"),
            // Forward (§15.3): the multi-select bar, the picker, chat records.
            Text::Forward => ("转发", "Forward"),
            Text::MultiSelect => ("多选", "Select"),
            Text::SelectedCount => ("已选 {0} 条", "{0} selected"),
            Text::ForwardOneByOne => ("逐条转发", "Forward one by one"),
            Text::ForwardMerged => ("合并转发", "Forward as chat history"),
            Text::ForwardTo => ("转发给", "Forward to"),
            Text::SearchTargets => ("搜索联系人或群聊", "Search people or groups"),
            Text::RecentChats => ("最近聊天", "Recent chats"),
            Text::People => ("联系人", "People"),
            Text::GroupChats => ("群聊", "Groups"),
            Text::SendToCount => ("发送 ({0})", "Send ({0})"),
            Text::ForwardFailed => ("转发失败：{0}", "Could not forward: {0}"),
            Text::ChatRecord => ("[聊天记录]", "[Chat history]"),
            Text::ChatRecordLabel => ("聊天记录", "Chat history"),
            Text::ChatRecordOfTwo => ("{0}和{1}的聊天记录", "Chat history of {0} and {1}"),
            Text::ChatRecordOf => ("{0}的聊天记录", "Chat history of {0}"),
            Text::AGroup => ("群聊", "a group"),
            Text::File => ("[文件]", "[File]"),
            Text::Close => ("关闭", "Close"),
            // Read receipts (§16).
            Text::ReceiptRead => ("已读", "Read"),
            Text::ReceiptUnread => ("未读", "Unread"),
            Text::ReceiptsUnread => ("{0}人未读", "{0} unread"),
            Text::ReceiptsAllRead => ("全部已读", "All read"),
            Text::ReadListTitle => ("消息接收人列表", "Read by"),
            Text::ReadListRead => ("已读 ({0})", "Read ({0})"),
            Text::ReadListUnread => ("未读 ({0})", "Unread ({0})"),
            Text::ReadListUnknown => ("未开启已读回执 ({0})", "Receipts off ({0})"),
            Text::ReadListEmpty => ("无", "Nobody"),
            Text::ReadListLoading => ("正在获取已读状态…", "Getting read status…"),
            Text::RemindUnread => ("提醒未读的人", "Remind unread"),
            Text::Ding => ("加急", "Urgent reminder"),
            Text::DingConfirm => (
                "向 {0} 位未读的人发送加急提醒？对方即使开启了免打扰也会收到。",
                "Send an urgent reminder to the {0} who have not read it? They get it even if they muted the chat.",
            ),
            Text::DingSend => ("发送加急", "Send reminder"),
            Text::DingSent => ("已加急提醒", "Reminder sent"),
            Text::DingFailed => ("加急失败：{0}", "Could not send the reminder: {0}"),
            Text::DingedBy => (
                "{0} 加急提醒你：{1}",
                "{0} sent you an urgent reminder: {1}",
            ),
            Text::DingView => ("查看", "View"),
            Text::DingMore => ("另有 {0} 条加急", "{0} more reminders"),
            Text::ReceiptsSetting => ("发送已读回执", "Send read receipts"),
            Text::ReceiptsSettingHint => (
                "关闭后，对方看到你的已读状态为“未知”；你的其他设备仍会同步已读。",
                "When off, others see your read status as unknown; your own devices still sync it.",
            ),
            Text::ReceiptsSettingFailed => (
                "已读回执设置未保存：{0}",
                "The read receipts setting was not saved: {0}",
            ),
            Text::Privacy => ("隐私", "Privacy"),
        };
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// Every piece of text the interface shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Text {
    AppName,
    Tagline,
    Account,
    AccountHint,
    Password,
    PasswordHint,
    LogIn,
    LoggingIn,
    SwitchLanguage,
    ErrAccountFormat,
    ErrPasswordEmpty,
    ErrWrongPassword,
    ErrUnreachable,
    ErrServer,
    ErrRateLimited,
    ErrSessionExpired,
    LogOut,
    LogOutAsk,
    LogOutKeep,
    LogOutRemove,
    LoginServer,
    ServerProposal,
    ServerProposalAccept,
    ServerProposalReject,
    ServerProposalInvalid,
    NotificationsAsk,
    NotificationsEnable,
    NotificationsLater,
    Connected,
    Connecting,
    Offline,
    Queued,
    Reconnect,
    SignedOutBanner,
    CacheProblemBanner,
    LogInAgain,
    JustNow,
    MinutesAgo,
    HoursAgo,
    Yesterday,
    YesterdayAt,
    MonthDay,
    FullDate,
    Image,
    Voice,
    VoiceSeconds,
    Unsupported,
    GroupNotice,
    VoiceCallLasted,
    VideoCallLasted,
    CallNoAnswer,
    CallMissed,
    CallDeclinedByThem,
    CallDeclinedByYou,
    CallBusyThem,
    CallBusyYou,
    CallFailed,
    CallRecord,
    VoiceCall,
    VideoCall,
    CallCalling,
    CallRinging,
    CallInvitesVoice,
    CallInvitesVideo,
    CallAccept,
    CallDecline,
    CallHangUp,
    CallReconnecting,
    CallMute,
    CallCamera,
    CallDevices,
    CallMicrophone,
    CallSpeaker,
    CallSystemDefault,
    CallQualityGood,
    CallQualityFair,
    CallQualityPoor,
    CallRelayed,
    CallDuration,
    CallEnded,
    CallCancelledByYou,
    CallCancelledByThem,
    CallLost,
    CallGlare,
    CallAnsweredElsewhere,
    CallUnknownUser,
    CallInAnotherCall,
    CallGone,
    CallForbidden,
    CallUnreachable,
    CallInsecureContext,
    CallMediaRefused,
    CallMediaMissing,
    CallMediaBusy,
    CallMediaFailed,
    MeetingInProgress,
    MeetingJoin,
    MeetingStart,
    MeetingTitle,
    MeetingJoining,
    MeetingPeople,
    MeetingMic,
    MeetingCamera,
    MeetingParticipants,
    MeetingLeave,
    MeetingEnd,
    MeetingEndRefused,
    MeetingYou,
    MeetingLeftByYou,
    MeetingOver,
    MeetingEmpty,
    MeetingRemoved,
    MeetingJoinedElsewhere,
    MeetingLost,
    MeetingFull,
    MeetingBusy,
    MeetingGone,
    MeetingNotMember,
    MeetingUnreachable,
    MeetingMediaFailed,
    NoticeCreated,
    NoticeRenamed,
    NoticeAdded,
    NoticeRemoved,
    NoticeLeft,
    NoticeRecalled,
    NoticeRecalledByHolder,
    NoticeYouRecalledTheirs,
    Reedit,
    MessageActions,
    ActionRecall,
    ActionQuote,
    ActionCopy,
    RecallFailed,
    QuoteRecalled,
    CancelQuote,
    Dismiss,
    QuotedFrom,
    NoticeMeetingStarted,
    NoticeMeetingEnded,
    You,
    NameSeparator,
    SenderSaid,
    Draft,
    Pinned,
    /// 消息免打扰 (a menu item and a switch).
    Mute,
    /// Turning 消息免打扰 off (a menu item).
    Unmute,
    /// The muted icon's title.
    Muted,
    /// Before the preview of a conversation that mentions the user.
    MentionedMe,
    /// @所有人's name in the mention picker.
    MentionAll,
    /// The mention picker's label.
    MentionPicker,
    /// A mute change that did not reach the server.
    MuteFailed,
    Unread,
    Conversations,
    NoConversations,
    NoConversationsHint,
    SyncingConversations,
    Pin,
    Unpin,
    MarkRead,
    MarkUnread,
    DeleteConversation,
    ConfirmDelete,
    Delete,
    Cancel,
    PickConversation,
    TabChats,
    TabContacts,
    SearchContacts,
    NoContacts,
    DirectoryLoading,
    MeMark,
    PresenceOnline,
    PresenceAway,
    PresenceBusy,
    PresenceOffline,
    Back,
    MemberCount,
    LoadingOlder,
    NoOlder,
    NewMessages,
    Sending,
    Sent,
    SendFailed,
    Resend,
    ComposerHint,
    ComposerShortHint,
    Send,
    TooLong,
    TabMe,
    Signature,
    SignatureHint,
    Save,
    Saving,
    Saved,
    Presence,
    ShowBusy,
    PresenceAuto,
    ChangePassword,
    CurrentPassword,
    NewPassword,
    ConfirmPassword,
    PasswordChanged,
    ErrPasswordMismatch,
    ErrPasswordShort,
    ErrPasswordSame,
    ErrCurrentPassword,
    Language,
    Sound,
    CallVideo,
    CallVideoSmooth,
    CallVideoStandard,
    CallVideoHigh,
    About,
    AboutText,
    Department,
    Job,
    ErrOffline,
    ErrLostAnswer,
    ErrRefused,
    ErrForbidden,
    SendMessage,
    ClearHistory,
    ConfirmClearHistory,
    HistoryCleared,
    Clear,
    ContactUnknown,
    NewGroup,
    GroupName,
    GroupNameHint,
    PickMembers,
    Selected,
    Create,
    Creating,
    ErrGroupName,
    ErrNoMembers,
    GroupDetail,
    GroupId,
    Holder,
    Members,
    Rename,
    AddMembers,
    Add,
    Remove,
    LeaveGroup,
    ConfirmLeave,
    Leave,
    NotInGroup,
    TabBroadcasts,
    KindNotice,
    KindNews,
    KindAnnouncement,
    NewBroadcast,
    NoBroadcasts,
    BroadcastKind,
    BroadcastTitle,
    BroadcastContent,
    ErrBroadcastTitle,
    ErrBroadcastContent,
    SearchMessages,
    SearchIn,
    SearchHint,
    SearchHits,
    NoSearchHits,
    SearchThisConversation,
    FoundOnServer,
    SearchingServer,
    SearchOfflineLocalOnly,
    ServerSearchFailed,
    NoServerHits,
    MoreFromServer,
    ViewImage,
    AttachImage,
    AttachFile,
    SendFileHint,
    FileMessage,
    FilePlaceholder,
    Download,
    Downloading,
    Preview,
    ClosePreview,
    SavedOffline,
    DownloadFailed,
    CancelUpload,
    Uploading,
    FileTooLarge,
    ImageTooLarge,
    NotAnImage,
    FileUnreadable,
    DropImage,
    RecordVoice,
    RecordVoiceHint,
    SlideToCancel,
    EscToCancel,
    VoiceTooShort,
    MicrophoneRefused,
    PlayVoice,
    PauseVoice,
    Unplayed,
    ShowMore,
    Forward,
    MultiSelect,
    SelectedCount,
    ForwardOneByOne,
    ForwardMerged,
    ForwardTo,
    SearchTargets,
    RecentChats,
    People,
    GroupChats,
    SendToCount,
    ForwardFailed,
    ChatRecord,
    ChatRecordLabel,
    ChatRecordOfTwo,
    ChatRecordOf,
    AGroup,
    File,
    Close,
    ReceiptRead,
    ReceiptUnread,
    ReceiptsUnread,
    ReceiptsAllRead,
    ReadListTitle,
    ReadListRead,
    ReadListUnread,
    ReadListUnknown,
    ReadListEmpty,
    ReadListLoading,
    RemindUnread,
    Ding,
    DingConfirm,
    DingSend,
    DingSent,
    DingFailed,
    DingedBy,
    DingView,
    DingMore,
    ReceiptsSetting,
    ReceiptsSettingHint,
    ReceiptsSettingFailed,
    Privacy,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_the_default_and_the_switch_names_the_other_language() {
        assert_eq!(Lang::default(), Lang::Zh);
        assert_eq!(Lang::Zh.tr(Text::LogIn), "登录");
        assert_eq!(Lang::En.tr(Text::LogIn), "Log in");
        assert_eq!(Lang::Zh.tr(Text::SwitchLanguage), "English");
        assert_eq!(Lang::Zh.other(), Lang::En);
    }

    #[test]
    fn placeholders_are_filled_once_in_each_language_s_order() {
        assert_eq!(Lang::Zh.fill(Text::Queued, &["3"]), "3 条待发送");
        assert_eq!(Lang::En.fill(Text::Queued, &["3"]), "3 queued");
        assert_eq!(
            Lang::Zh.fill(Text::FullDate, &["2025", "3", "5", "Mar"]),
            "2025年3月5日"
        );
        assert_eq!(
            Lang::En.fill(Text::FullDate, &["2025", "3", "5", "Mar"]),
            "Mar 5, 2025"
        );
        // An argument that looks like a placeholder is not filled again.
        assert_eq!(
            Lang::Zh.fill(Text::NoticeRenamed, &["张三", "{0} 组"]),
            "张三 将讨论组改名为 {0} 组"
        );
        // A missing argument leaves nothing behind.
        assert_eq!(Lang::En.fill(Text::NoticeAdded, &["Ada"]), "Ada invited ");
    }
}

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
            // Group notices: {0} did it, {1} what or whom.
            Text::NoticeCreated => ("{0} 创建了讨论组", "{0} created the group"),
            Text::NoticeRenamed => ("{0} 将讨论组改名为 {1}", "{0} renamed the group to {1}"),
            Text::NoticeAdded => ("{0} 邀请了 {1}", "{0} invited {1}"),
            Text::NoticeRemoved => ("{0} 移出了 {1}", "{0} removed {1}"),
            Text::NoticeLeft => ("{0} 退出了讨论组", "{0} left the group"),
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
    NoticeCreated,
    NoticeRenamed,
    NoticeAdded,
    NoticeRemoved,
    NoticeLeft,
    You,
    NameSeparator,
    SenderSaid,
    Draft,
    Pinned,
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

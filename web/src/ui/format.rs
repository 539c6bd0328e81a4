//! Words and times as the screens show them: pure functions of the data, the
//! language and the clock reading they are given, so they are tested natively.

use crate::i18n::{Lang, Text};
use crate::state::{AppState, person_name};
use penpen_core::UserId;
use penpen_core::cache::Preview;
use penpen_core::packets::call::{CallOutcome, CallRecord, Media};
use penpen_core::packets::groups::Members;
use penpen_core::packets::meeting::{MeetingEndedNotice, MeetingStartedNotice};
use penpen_core::packets::message::{
    GroupCreatedNotice, GroupMembersNotice, GroupRenamedNotice, MessageType, Quote, RecallNotice,
};
use penpen_core::time::{self, Ago};

/// Two messages further apart than this get a time line between them.
pub const SEPARATOR_GAP_MS: i64 = 5 * 60 * 1000;

/// The longest preview kept for a conversation row; the row cuts it further
/// with an ellipsis, this only keeps a 5,000-character message out of the DOM.
const PREVIEW_CHARS: usize = 80;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Who people are, for the words about them.
pub trait People {
    /// The reader's own account, once known.
    fn me(&self) -> Option<&UserId>;
    /// A person's display name.
    fn name(&self, user: &UserId) -> String;
}

impl People for AppState {
    fn me(&self) -> Option<&UserId> {
        self.account.as_ref().map(|account| &account.user)
    }

    fn name(&self, user: &UserId) -> String {
        person_name(self, user)
    }
}

/// What a message shows in its bubble or its row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// Words someone wrote, shown as written.
    Text(String),
    /// A stand-in for what cannot be shown yet (an image, a voice message,
    /// a type this build does not know).
    Placeholder(String),
    /// A line about the group itself, written by the server.
    Notice(String),
}

/// What a message of type `kind` with `content` shows. `duration` is a voice
/// message's length, when known; `from` its sender (a call record reads
/// differently for the caller).
pub fn body(
    lang: Lang,
    kind: MessageType,
    content: &str,
    duration: Option<u32>,
    from: Option<&UserId>,
    people: &impl People,
) -> Body {
    match kind {
        MessageType::Call => {
            let caller = from.is_some() && from == people.me();
            Body::Placeholder(call_line(lang, content, caller))
        }
        MessageType::Text | MessageType::GroupText => Body::Text(content.to_owned()),
        MessageType::Image | MessageType::GroupImage => {
            Body::Placeholder(lang.tr(Text::Image).to_owned())
        }
        MessageType::Voice | MessageType::GroupVoice => Body::Placeholder(match duration {
            Some(seconds) => lang.fill(Text::VoiceSeconds, &[&seconds.to_string()]),
            None => lang.tr(Text::Voice).to_owned(),
        }),
        MessageType::File | MessageType::GroupFile => {
            Body::Placeholder(lang.tr(Text::FilePlaceholder).to_owned())
        }
        kind if kind.is_notice() => Body::Notice(notice_line(lang, kind, content, people)),
        kind if kind.is_chat_record() => Body::Placeholder(lang.tr(Text::ChatRecord).to_owned()),
        kind if kind.is_recall() => Body::Notice(
            serde_json::from_str::<RecallNotice>(content)
                .map(|n| recall_line(lang, &n.by, Some(&n.sender), people))
                .unwrap_or_else(|_| lang.fill(Text::NoticeRecalled, &[""])),
        ),
        _ => Body::Placeholder(lang.tr(Text::Unsupported).to_owned()),
    }
}

/// What stands in place of a recalled message (§15.1): "王建国撤回了一条消息",
/// "你撤回了一条消息", or, when a group's holder took back someone else's,
/// "群主撤回了王建国的一条消息".
pub fn recall_line(
    lang: Lang,
    by: &UserId,
    sender: Option<&UserId>,
    people: &impl People,
) -> String {
    let who = |user: &UserId| {
        if people.me() == Some(user) {
            lang.tr(Text::You).to_owned()
        } else {
            people.name(user)
        }
    };
    match sender {
        Some(sender) if sender != by && people.me() == Some(by) => {
            lang.fill(Text::NoticeYouRecalledTheirs, &[&who(sender)])
        }
        Some(sender) if sender != by => lang.fill(Text::NoticeRecalledByHolder, &[&who(sender)]),
        _ => lang.fill(Text::NoticeRecalled, &[&who(by)]),
    }
}

/// A quote's line: whose it was and what it said, or that it was recalled.
pub fn quote_line(lang: Lang, quote: &Quote, people: &impl People) -> String {
    let name = match &quote.from {
        penpen_core::packets::message::Sender::User(user) if people.me() == Some(user) => {
            lang.tr(Text::You).to_owned()
        }
        penpen_core::packets::message::Sender::User(user) => people.name(user),
        penpen_core::packets::message::Sender::System => String::new(),
    };
    lang.fill(Text::QuotedFrom, &[&name, &quote_snippet(lang, quote)])
}

/// What a quoted (or reminded, §16.4) message is, in one short line.
pub fn quote_snippet(lang: Lang, quote: &Quote) -> String {
    if quote.recalled {
        lang.tr(Text::QuoteRecalled).to_owned()
    } else {
        match (quote.kind, &quote.content) {
            (kind, _) if kind.is_image() => lang.tr(Text::Image).to_owned(),
            (kind, _) if kind.is_voice() => lang.tr(Text::Voice).to_owned(),
            (_, Some(content)) => one_line(content, PREVIEW_CHARS),
            (_, None) => lang.tr(Text::Unsupported).to_owned(),
        }
    }
}

/// A call record's line (type 3), as the caller or the callee reads it; a
/// record that does not decode still says it was a call.
pub fn call_line(lang: Lang, content: &str, caller: bool) -> String {
    let Ok(record) = serde_json::from_str::<CallRecord>(content) else {
        return lang.tr(Text::CallRecord).to_owned();
    };
    let text = match (record.outcome, caller) {
        (CallOutcome::Answered, _) => {
            let lasted = match record.media {
                Media::Audio => Text::VoiceCallLasted,
                Media::Video => Text::VideoCallLasted,
            };
            return lang.fill(lasted, &[&call_length(record.duration.unwrap_or(0))]);
        }
        (CallOutcome::Missed, true) => Text::CallNoAnswer,
        (CallOutcome::Missed, false) => Text::CallMissed,
        (CallOutcome::Declined, true) => Text::CallDeclinedByThem,
        (CallOutcome::Declined, false) => Text::CallDeclinedByYou,
        (CallOutcome::Busy, true) => Text::CallBusyThem,
        (CallOutcome::Busy, false) => Text::CallBusyYou,
        (CallOutcome::Failed, _) => Text::CallFailed,
    };
    lang.tr(text).to_owned()
}

/// A call's length as `mm:ss` (`h:mm:ss` from an hour on), as call
/// records read in WeCom and DingTalk (a voice message's `m:ss` is
/// `ui::voice::clock`, never an hour long).
pub fn call_length(seconds: u32) -> String {
    let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if hours > 0 {
        format!("{hours}:{minutes:02}:{seconds:02}")
    } else {
        format!("{minutes:02}:{seconds:02}")
    }
}

/// The readable line for a group notice (types 19–25), whose content is the
/// notice's JSON; a notice that does not decode still says it is one.
pub fn notice_line(lang: Lang, kind: MessageType, content: &str, people: &impl People) -> String {
    let who = |user: &UserId| {
        if people.me() == Some(user) {
            lang.tr(Text::You).to_owned()
        } else {
            people.name(user)
        }
    };
    let everyone = |members: &Members| {
        members
            .deduplicated()
            .0
            .iter()
            .map(who)
            .collect::<Vec<_>>()
            .join(lang.tr(Text::NameSeparator))
    };
    let members = || serde_json::from_str::<GroupMembersNotice>(content).ok();
    let line =
        match kind {
            MessageType::GroupCreated => serde_json::from_str::<GroupCreatedNotice>(content)
                .ok()
                .map(|n| lang.fill(Text::NoticeCreated, &[&who(&n.holder)])),
            MessageType::GroupRenamed => serde_json::from_str::<GroupRenamedNotice>(content)
                .ok()
                .map(|n| lang.fill(Text::NoticeRenamed, &[&who(&n.by), &n.name])),
            MessageType::GroupMembersAdded => members()
                .map(|n| lang.fill(Text::NoticeAdded, &[&who(&n.by), &everyone(&n.member)])),
            MessageType::GroupMembersRemoved => members()
                .map(|n| lang.fill(Text::NoticeRemoved, &[&who(&n.by), &everyone(&n.member)])),
            // For 23 `by` is the member who left.
            MessageType::GroupMemberLeft => {
                members().map(|n| lang.fill(Text::NoticeLeft, &[&who(&n.by)]))
            }
            MessageType::MeetingStarted => serde_json::from_str::<MeetingStartedNotice>(content)
                .ok()
                .map(|n| lang.fill(Text::NoticeMeetingStarted, &[&who(&n.by)])),
            MessageType::MeetingEnded => serde_json::from_str::<MeetingEndedNotice>(content)
                .ok()
                .map(|n| {
                    lang.fill(
                        Text::NoticeMeetingEnded,
                        &[&call_length(n.duration), &n.participants.len().to_string()],
                    )
                }),
            _ => None,
        };
    line.unwrap_or_else(|| lang.tr(Text::GroupNotice).to_owned())
}

/// The last message's line in the conversation list: one line of text or a
/// placeholder, in groups after the sender's name (not for one's own), and
/// notices as they read.
pub fn preview_line(lang: Lang, preview: &Preview, group: bool, people: &impl People) -> String {
    let shown = match body(
        lang,
        preview.kind,
        &preview.content,
        None,
        preview.from.as_ref(),
        people,
    ) {
        Body::Text(text) => one_line(&text, PREVIEW_CHARS),
        Body::Placeholder(placeholder) => placeholder,
        Body::Notice(notice) => return notice,
    };
    match &preview.from {
        Some(from) if group && people.me() != Some(from) => {
            lang.fill(Text::SenderSaid, &[&people.name(from), &shown])
        }
        _ => shown,
    }
}

/// `text` on one line (line breaks become spaces), at most `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let mut line: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(max + 1)
        .collect();
    if line.chars().count() > max {
        line = line.chars().take(max).collect();
        line.push('…');
    }
    line
}

/// A share (0 to 1) as a whole percentage, for progress bars. (Integer
/// formatting: a float printed with a precision would add its own
/// formatting code to the bundle.)
pub fn percent(share: f64) -> u32 {
    (share.clamp(0.0, 1.0) * 100.0).round() as u32
}

/// Milliseconds to a tenth, as `f64`'s `Display` writes them ("12.3", "12"),
/// with integer formatting: printing the float itself would add the
/// float-formatting code (about 10 KB) to the bundle.
pub fn tenths(ms: f64) -> String {
    let tenths = (ms.max(0.0) * 10.0).round() as u64;
    match tenths % 10 {
        0 => (tenths / 10).to_string(),
        fraction => format!("{}.{fraction}", tenths / 10),
    }
}

/// A conversation row's time: 刚刚, N分钟前, N小时前, 昨天, M月D日, YYYY年M月D日.
pub fn ago_label(lang: Lang, ago: Ago) -> String {
    match ago {
        Ago::JustNow => lang.tr(Text::JustNow).to_owned(),
        Ago::Minutes(minutes) => lang.fill(Text::MinutesAgo, &[&minutes.to_string()]),
        Ago::Hours(hours) => lang.fill(Text::HoursAgo, &[&hours.to_string()]),
        Ago::Yesterday => lang.tr(Text::Yesterday).to_owned(),
        Ago::ThisYear { month, day } => date(lang, Text::MonthDay, 0, month, day),
        Ago::Date { year, month, day } => date(lang, Text::FullDate, year, month, day),
    }
}

fn date(lang: Lang, template: Text, year: i64, month: u32, day: u32) -> String {
    let abbreviation = MONTHS
        .get((month as usize).wrapping_sub(1))
        .copied()
        .unwrap_or("");
    lang.fill(
        template,
        &[
            &year.to_string(),
            &month.to_string(),
            &day.to_string(),
            abbreviation,
        ],
    )
}

/// Whether a time line goes before a message written at `ts`, after one
/// written at `previous` (none: it is the first loaded).
pub fn separated(previous: Option<i64>, ts: i64) -> bool {
    previous.is_none_or(|previous| ts - previous > SEPARATOR_GAP_MS)
}

/// An instant as the reader's calendar and clock show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Local {
    day: i64,
    year: i64,
    month: u32,
    date: u32,
    clock: (u32, u32),
}

fn local(ts: i64, utc_offset_minutes: i32) -> Local {
    let seconds = ts.div_euclid(1000) + i64::from(utc_offset_minutes) * 60;
    // `format_time` writes `YYYY-MM-DD HH:MM:SS`; the fields are read back from
    // the end so a year of any width parses.
    let formatted = time::format_time(ts, utc_offset_minutes);
    let (calendar, _) = formatted.split_once(' ').unwrap_or((&formatted, ""));
    let mut parts = calendar.rsplitn(3, '-');
    let date = parts.next().and_then(|d| d.parse().ok()).unwrap_or(1);
    let month = parts.next().and_then(|m| m.parse().ok()).unwrap_or(1);
    let year = parts.next().and_then(|y| y.parse().ok()).unwrap_or(1970);
    let of_day = seconds.rem_euclid(86_400);
    Local {
        day: seconds.div_euclid(86_400),
        year,
        month,
        date,
        clock: ((of_day / 3600) as u32, (of_day % 3600 / 60) as u32),
    }
}

/// `HH:MM` in the reader's zone.
pub fn clock(ts: i64, utc_offset_minutes: i32) -> String {
    let (hour, minute) = local(ts, utc_offset_minutes).clock;
    format!("{hour:02}:{minute:02}")
}

/// The time line between messages: `HH:MM` today, 昨天 HH:MM, M月D日 HH:MM
/// this year, YYYY年M月D日 HH:MM before, all in the reader's zone.
pub fn separator_label(lang: Lang, ts: i64, now: i64, utc_offset_minutes: i32) -> String {
    let then = local(ts, utc_offset_minutes);
    let today = local(now, utc_offset_minutes);
    let at = clock(ts, utc_offset_minutes);
    if then.day == today.day {
        at
    } else if then.day == today.day - 1 {
        lang.fill(Text::YesterdayAt, &[&at])
    } else if then.year == today.year {
        format!(
            "{} {at}",
            date(lang, Text::MonthDay, then.year, then.month, then.date)
        )
    } else {
        format!(
            "{} {at}",
            date(lang, Text::FullDate, then.year, then.month, then.date)
        )
    }
}

/// The unread mark of a conversation row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Badge {
    /// How many, "99+" above 99.
    Count(String),
    /// Marked unread by the user, with nothing new in it.
    Dot,
}

/// The badge for `unread` messages, or for a conversation marked unread.
pub fn badge(unread: u32, marked_unread: bool) -> Option<Badge> {
    match unread {
        0 if marked_unread => Some(Badge::Dot),
        0 => None,
        1..=99 => Some(Badge::Count(unread.to_string())),
        _ => Some(Badge::Count("99+".to_owned())),
    }
}

/// One of a few avatar colours for a person, the same on every screen.
pub fn tint(seed: &str) -> u32 {
    // FNV-1a: stable across builds, unlike std's randomly seeded hasher.
    let hash = seed.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    hash % 6
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    struct Team {
        me: UserId,
        names: BTreeMap<UserId, &'static str>,
    }

    impl People for Team {
        fn me(&self) -> Option<&UserId> {
            Some(&self.me)
        }
        fn name(&self, user: &UserId) -> String {
            self.names
                .get(user)
                .map_or_else(|| user.to_string(), |name| (*name).to_owned())
        }
    }

    fn user(n: u8) -> UserId {
        UserId::parse(&format!("138000000{n:02}")).expect("an 11-digit test account")
    }

    fn team() -> Team {
        Team {
            me: user(9),
            names: [(user(1), "张三"), (user(2), "李四"), (user(3), "王五")]
                .into_iter()
                .collect(),
        }
    }

    fn preview(from: Option<UserId>, kind: MessageType, content: &str) -> Preview {
        Preview {
            id: None,
            from,
            kind,
            content: content.to_owned(),
            ts: 0,
        }
    }

    /// A notice's content as the server writes it (names base64 inside).
    fn json(notice: &impl serde::Serialize) -> String {
        serde_json::to_string(notice).expect("notices serialize")
    }

    #[test]
    fn a_recall_reads_by_who_took_back_whose_message() {
        let (zh, people) = (Lang::Zh, team());
        assert_eq!(
            recall_line(zh, &user(1), Some(&user(1)), &people),
            "张三撤回了一条消息"
        );
        assert_eq!(
            recall_line(zh, &user(9), Some(&user(9)), &people),
            "你撤回了一条消息"
        );
        assert_eq!(
            recall_line(zh, &user(1), Some(&user(2)), &people),
            "群主撤回了李四的一条消息"
        );
        assert_eq!(
            recall_line(zh, &user(9), Some(&user(2)), &people),
            "你撤回了李四的一条消息"
        );
        assert_eq!(
            recall_line(Lang::En, &user(1), Some(&user(9)), &people),
            "The group owner recalled a message from You"
        );
        // The conversation list's preview of a recall.
        let notice = json(&RecallNotice {
            id: penpen_core::MessageId(5),
            by: user(2),
            sender: user(2),
        });
        assert_eq!(
            preview_line(
                zh,
                &preview(Some(user(2)), MessageType::GroupRecall, &notice),
                true,
                &people
            ),
            "李四撤回了一条消息"
        );
    }

    #[test]
    fn a_quote_names_its_sender_and_shows_a_snippet_or_that_it_was_recalled() {
        let (zh, people) = (Lang::Zh, team());
        let mut quote = Quote {
            id: penpen_core::MessageId(5),
            from: penpen_core::packets::message::Sender::User(user(1)),
            kind: MessageType::Text,
            content: Some("周五\n开会".into()),
            recalled: false,
        };
        assert_eq!(quote_line(zh, &quote, &people), "张三：周五 开会");
        quote.kind = MessageType::GroupImage;
        quote.content = None;
        assert_eq!(quote_line(zh, &quote, &people), "张三：[图片]");
        quote.recalled = true;
        assert_eq!(quote_line(zh, &quote, &people), "张三：引用的消息已撤回");
    }

    #[test]
    fn notices_read_as_sentences_with_names() {
        let (zh, people) = (Lang::Zh, team());
        let created = json(&GroupCreatedNotice {
            holder: user(1),
            name: "技术部".into(),
            member: Members(vec![user(1), user(2)]),
        });
        assert_eq!(
            notice_line(zh, MessageType::GroupCreated, &created, &people),
            "张三 创建了讨论组"
        );
        let renamed = json(&GroupRenamedNotice {
            by: user(1),
            name: "产品组".into(),
        });
        assert_eq!(
            notice_line(zh, MessageType::GroupRenamed, &renamed, &people),
            "张三 将讨论组改名为 产品组"
        );
        let added = r#"{"by":"13800000001","member":"13800000002,13800000003"}"#;
        assert_eq!(
            notice_line(zh, MessageType::GroupMembersAdded, added, &people),
            "张三 邀请了 李四、王五"
        );
        assert_eq!(
            notice_line(Lang::En, MessageType::GroupMembersAdded, added, &people),
            "张三 invited 李四, 王五"
        );
        let removed = r#"{"by":"13800000001","member":"13800000009"}"#;
        assert_eq!(
            notice_line(zh, MessageType::GroupMembersRemoved, removed, &people),
            "张三 移出了 你"
        );
        let left = r#"{"by":"13800000002","member":"13800000002"}"#;
        assert_eq!(
            notice_line(zh, MessageType::GroupMemberLeft, left, &people),
            "李四 退出了讨论组"
        );
        assert_eq!(
            notice_line(zh, MessageType::GroupMemberLeft, "not json", &people),
            "[群通知]"
        );
    }

    #[test]
    fn meeting_notices_say_who_started_it_and_how_long_and_how_many() {
        use penpen_core::MeetingId;
        let (zh, people) = (Lang::Zh, team());
        let meeting = MeetingId::generated(1, 2);
        let started = json(&MeetingStartedNotice {
            meeting: meeting.clone(),
            by: user(1),
        });
        assert_eq!(
            notice_line(zh, MessageType::MeetingStarted, &started, &people),
            "张三 发起了会议"
        );
        assert_eq!(
            notice_line(Lang::En, MessageType::MeetingStarted, &started, &people),
            "张三 started a meeting"
        );
        let mine = json(&MeetingStartedNotice {
            meeting: meeting.clone(),
            by: user(9),
        });
        assert_eq!(
            notice_line(zh, MessageType::MeetingStarted, &mine, &people),
            "你 发起了会议"
        );
        let ended = json(&MeetingEndedNotice {
            meeting: meeting.clone(),
            by: None,
            duration: 723,
            participants: vec![user(1), user(2), user(3), user(9), user(4)],
        });
        assert_eq!(
            notice_line(zh, MessageType::MeetingEnded, &ended, &people),
            "会议已结束，时长 12:03，5人参加"
        );
        assert_eq!(
            notice_line(Lang::En, MessageType::MeetingEnded, &ended, &people),
            "Meeting ended after 12:03, 5 took part"
        );
        let long = json(&MeetingEndedNotice {
            meeting,
            by: Some(user(1)),
            duration: 3_725,
            participants: vec![user(1)],
        });
        assert_eq!(
            notice_line(zh, MessageType::MeetingEnded, &long, &people),
            "会议已结束，时长 1:02:05，1人参加"
        );
        assert_eq!(
            notice_line(zh, MessageType::MeetingEnded, "{}", &people),
            "[群通知]",
            "a notice that does not decode"
        );
        // A notice, in the bubble and in the list alike.
        assert_eq!(
            body(
                zh,
                MessageType::MeetingStarted,
                &started,
                None,
                None,
                &people
            ),
            Body::Notice("张三 发起了会议".into())
        );
        let row = preview(None, MessageType::MeetingEnded, &ended);
        assert_eq!(
            preview_line(zh, &row, true, &people),
            "会议已结束，时长 12:03，5人参加"
        );
    }

    #[test]
    fn previews_name_the_sender_in_groups_and_stand_in_for_media() {
        let (zh, people) = (Lang::Zh, team());
        let text = preview(Some(user(1)), MessageType::GroupText, "明天\n开会");
        assert_eq!(preview_line(zh, &text, true, &people), "张三: 明天 开会");
        let own = preview(Some(user(9)), MessageType::GroupText, "好的");
        assert_eq!(preview_line(zh, &own, true, &people), "好的");
        let direct = preview(Some(user(1)), MessageType::Text, "在吗");
        assert_eq!(preview_line(zh, &direct, false, &people), "在吗");
        let image = preview(Some(user(2)), MessageType::GroupImage, "a.jpg");
        assert_eq!(preview_line(zh, &image, true, &people), "李四: [图片]");
        let voice = preview(Some(user(2)), MessageType::Voice, "a.webm");
        assert_eq!(preview_line(zh, &voice, false, &people), "[语音]");
        let odd = preview(Some(user(2)), MessageType::Unknown(77), "");
        assert_eq!(
            preview_line(Lang::En, &odd, false, &people),
            "[Unsupported message type]"
        );
        let left = r#"{"by":"13800000002","member":"13800000002"}"#;
        let notice = preview(None, MessageType::GroupMemberLeft, left);
        assert_eq!(
            preview_line(zh, &notice, true, &people),
            "李四 退出了讨论组"
        );
    }

    #[test]
    fn bubbles_show_text_as_written_and_voice_with_its_length() {
        let people = team();
        assert_eq!(
            body(Lang::Zh, MessageType::Text, "a\nb", None, None, &people),
            Body::Text("a\nb".into())
        );
        assert_eq!(
            body(
                Lang::Zh,
                MessageType::GroupVoice,
                "v.webm",
                Some(7),
                None,
                &people
            ),
            Body::Placeholder("[语音 7s]".into())
        );
    }

    #[test]
    fn call_records_read_for_the_caller_and_the_callee() {
        use penpen_core::CallId;
        let people = team();
        let record = |media, outcome, duration| {
            json(&CallRecord {
                call: CallId::generated(1, 2),
                media,
                outcome,
                duration,
            })
        };
        let read = |lang, content: &str, from: &UserId| match body(
            lang,
            MessageType::Call,
            content,
            None,
            Some(from),
            &people,
        ) {
            Body::Placeholder(line) => line,
            other => panic!("a call record is a placeholder line: {other:?}"),
        };
        let (me, them) = (user(9), user(1));
        let answered = record(Media::Video, CallOutcome::Answered, Some(192));
        assert_eq!(read(Lang::Zh, &answered, &them), "视频通话 03:12");
        assert_eq!(read(Lang::En, &answered, &me), "Video call 03:12");
        let long = record(Media::Audio, CallOutcome::Answered, Some(3_725));
        assert_eq!(read(Lang::Zh, &long, &me), "语音通话 1:02:05");
        let missed = record(Media::Video, CallOutcome::Missed, None);
        assert_eq!(read(Lang::Zh, &missed, &them), "未接来电");
        assert_eq!(read(Lang::Zh, &missed, &me), "对方未接听");
        let declined = record(Media::Audio, CallOutcome::Declined, None);
        assert_eq!(read(Lang::Zh, &declined, &me), "对方已拒绝");
        assert_eq!(read(Lang::En, &declined, &them), "You declined");
        let busy = record(Media::Audio, CallOutcome::Busy, None);
        assert_eq!(read(Lang::Zh, &busy, &me), "对方忙线中");
        assert_eq!(
            read(Lang::Zh, "{}", &me),
            "[通话]",
            "a record that does not decode"
        );
        // In the list too.
        let row = preview(Some(them), MessageType::Call, &missed);
        assert_eq!(preview_line(Lang::Zh, &row, false, &people), "未接来电");
    }

    #[test]
    fn long_text_is_cut_to_one_line() {
        assert_eq!(one_line("  a\n\nb  c ", 10), "a b c");
        assert_eq!(one_line("一二三四五", 3), "一二三…");
        assert_eq!(one_line("一二三", 3), "一二三");
    }

    #[test]
    fn relative_times_in_both_languages() {
        assert_eq!(ago_label(Lang::Zh, Ago::JustNow), "刚刚");
        assert_eq!(ago_label(Lang::Zh, Ago::Minutes(5)), "5分钟前");
        assert_eq!(ago_label(Lang::En, Ago::Hours(3)), "3 h ago");
        assert_eq!(ago_label(Lang::Zh, Ago::Yesterday), "昨天");
        assert_eq!(
            ago_label(Lang::Zh, Ago::ThisYear { month: 3, day: 5 }),
            "3月5日"
        );
        assert_eq!(
            ago_label(Lang::En, Ago::ThisYear { month: 3, day: 5 }),
            "Mar 5"
        );
        let long_ago = Ago::Date {
            year: 2024,
            month: 12,
            day: 31,
        };
        assert_eq!(ago_label(Lang::Zh, long_ago), "2024年12月31日");
        assert_eq!(ago_label(Lang::En, long_ago), "Dec 31, 2024");
    }

    #[test]
    fn separators_come_after_five_quiet_minutes() {
        assert!(separated(None, 0));
        assert!(!separated(Some(0), SEPARATOR_GAP_MS));
        assert!(separated(Some(0), SEPARATOR_GAP_MS + 1));
    }

    #[test]
    fn separator_labels_count_days_in_the_reader_s_zone() {
        // 2026-11-27 21:05:09 in UTC+8.
        let now = 1_795_784_709_000;
        let hour = 3_600_000;
        assert_eq!(separator_label(Lang::Zh, now - 2 * hour, now, 480), "19:05");
        assert_eq!(
            separator_label(Lang::Zh, now - 23 * hour, now, 480),
            "昨天 22:05"
        );
        // 07:05 today in UTC+8 is 23:05 the day before in UTC.
        assert_eq!(
            separator_label(Lang::Zh, now - 14 * hour, now, 480),
            "07:05"
        );
        assert_eq!(
            separator_label(Lang::En, now - 14 * hour, now, 0),
            "Yesterday 23:05"
        );
        assert_eq!(
            separator_label(Lang::Zh, now - 72 * hour, now, 480),
            "11月24日 21:05"
        );
        assert_eq!(
            separator_label(Lang::En, now - 72 * hour, now, 480),
            "Nov 24 21:05"
        );
        assert_eq!(
            separator_label(Lang::Zh, now - 400 * 24 * hour, now, 480),
            "2025年10月23日 21:05"
        );
    }

    #[test]
    fn badges_cap_at_99_and_show_a_dot_when_marked() {
        assert_eq!(badge(0, false), None);
        assert_eq!(badge(0, true), Some(Badge::Dot));
        assert_eq!(badge(3, true), Some(Badge::Count("3".into())));
        assert_eq!(badge(99, false), Some(Badge::Count("99".into())));
        assert_eq!(badge(100, false), Some(Badge::Count("99+".into())));
    }

    #[test]
    fn tints_are_stable_and_in_range() {
        assert_eq!(tint("13800000001"), tint("13800000001"));
        assert!((0..6).contains(&tint("13800000002")));
    }

    #[test]
    fn tenths_read_as_the_rounded_float_would() {
        for ms in [0.0, 0.04, 0.05, 1.0, 12.34, 12.96, 99.95, 250.0, 1234.56] {
            let rounded = (ms * 10.0_f64).round() / 10.0;
            assert_eq!(tenths(ms), rounded.to_string(), "{ms}");
        }
    }
}

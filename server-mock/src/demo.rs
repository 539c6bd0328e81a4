//! The demo company loaded into an empty database, so a newcomer can log in
//! at once: departments, jobs, 24 staff, groups and some history.

use crate::auth;
use crate::store::db::Db;
use crate::store::queries::{self, NewMessage, NewUser};
use crate::store::{Store, StoreError};
use penpen_core::packets::broadcast::BroadcastKind;
use penpen_core::packets::groups::Members;
use penpen_core::packets::message::{GroupCreatedNotice, MessageType, Sender};
use penpen_core::{DepartmentId, JobId, Peer, UserId, digest};

/// Every demo account's password.
pub const DEMO_PASSWORD: &str = "penpen2026";

/// The departments and jobs of the protocol document's example company.
const DEPARTMENTS: &[(u64, &str)] = &[(1, "总经理"), (2, "技术部"), (3, "市场部"), (4, "财务部")];

const JOBS: &[(u64, &str)] = &[
    (1, "总经理"),
    (2, "部长"),
    (3, "软件工程师"),
    (4, "销售经理"),
    (5, "财务总监"),
];

/// (account, name, department, job, signature, may broadcast)
pub const STAFF: &[(&str, &str, u64, u64, &str, bool)] = &[
    ("13800000001", "王建国", 1, 1, "让沟通更简单", true),
    ("13800000002", "李娜", 3, 2, "有事请留言，看到必回", true),
    ("13800000003", "张伟", 2, 2, "代码即文档", false),
    ("13800000004", "刘洋", 2, 3, "专注后端", false),
    ("13800000005", "陈静", 2, 3, "今天天气好好~", false),
    ("13800000006", "杨帆", 2, 3, "早睡早起", false),
    ("13800000007", "赵磊", 2, 3, "Rust 爱好者", false),
    ("13800000008", "黄丽", 2, 3, "测试一切", false),
    ("13800000009", "周杰", 2, 3, "用户第一", false),
    ("13800000010", "吴敏", 2, 3, "设计改变生活", false),
    ("13800000011", "徐婷", 2, 3, "在路上", false),
    ("13800000012", "孙浩", 2, 3, "保持好奇", false),
    ("13800000013", "马超", 3, 4, "客户满意是目标", false),
    ("13800000014", "朱琳", 3, 4, "出差中，回复稍慢", false),
    ("13800000015", "胡斌", 3, 4, "每天进步一点点", false),
    ("13800000016", "郭晶", 3, 4, "欢迎合作", false),
    ("13800000017", "何平", 3, 4, "热爱生活", false),
    ("13800000018", "高原", 3, 4, "山高人为峰", false),
    ("13800000019", "林芳", 4, 5, "报销请在每月25日前提交", true),
    ("13800000020", "罗刚", 4, 2, "认真负责", false),
    ("13800000021", "梁雪", 4, 2, "账目清楚", false),
    ("13800000022", "宋涛", 2, 3, "写代码，也写诗", false),
    ("13800000023", "郑爽", 3, 4, "笑口常开", false),
    ("13800000024", "谢明", 3, 4, "一起加油", false),
];

fn user(id: &str) -> Result<UserId, StoreError> {
    UserId::parse(id).map_err(|e| StoreError::Database(e.to_string()))
}

/// Fills an empty database with the demo company; does nothing otherwise.
/// Returns whether it loaded anything.
pub async fn load_if_empty(store: &Store, now_ms: i64) -> Result<bool, StoreError> {
    if store.read(queries::user_count).await? > 0 {
        return Ok(false);
    }
    // Hashing is slow on purpose; do it before taking the writer.
    let digest = digest::password_digest(DEMO_PASSWORD);
    let hashes = tokio::task::spawn_blocking(move || {
        STAFF
            .iter()
            .map(|_| auth::hash_password_digest(&digest))
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|e| StoreError::Database(e.to_string()))?
    .map_err(|e| StoreError::Database(e.to_string()))?;

    store
        .write(move |conn| {
            if queries::user_count(conn)? > 0 {
                return Ok(false);
            }
            for (id, name) in DEPARTMENTS {
                queries::put_department(conn, DepartmentId(*id), name)?;
            }
            for (id, name) in JOBS {
                queries::put_job(conn, JobId(*id), name)?;
            }
            for ((id, name, department, job, signing, broadcaster), hash) in
                STAFF.iter().zip(hashes)
            {
                queries::add_user(
                    conn,
                    &NewUser {
                        id: user(id)?,
                        name: (*name).to_owned(),
                        department: DepartmentId(*department),
                        job: JobId(*job),
                        password_hash: hash,
                        signing: (*signing).to_owned(),
                        broadcaster: *broadcaster,
                    },
                )?;
            }
            load_history(conn, now_ms)?;
            Ok(true)
        })
        .await
}

/// Groups and a few conversations from the last days.
fn load_history(conn: &Db<'_>, now_ms: i64) -> Result<(), StoreError> {
    const MINUTE: i64 = 60_000;
    let created = now_ms - 3 * 24 * 60 * MINUTE;
    let mut ts = now_ms - 2 * 24 * 60 * MINUTE;
    let mut send = |conn: &Db<'_>,
                    from: &str,
                    to: Peer,
                    kind: MessageType,
                    text: &str|
     -> Result<(), StoreError> {
        ts += 7 * MINUTE;
        let sender = if from == "0" {
            Sender::System
        } else {
            Sender::User(user(from)?)
        };
        let recipients = match &to {
            Peer::User(other) => match &sender {
                Sender::User(me) => vec![me.clone(), other.clone()],
                Sender::System => vec![other.clone()],
            },
            Peer::Group(gid) => queries::current_members(conn, *gid)?.0,
        };
        let message = NewMessage {
            file: None,
            sender,
            to,
            kind,
            content: text.to_owned(),
            duration: None,
            cid: None,
            ts,
            mentions: None,
            mention_all: false,
        };
        queries::store_message(conn, &message, &recipients)?;
        Ok(())
    };

    let groups: &[(&str, &str, &[&str])] = &[
        (
            "13800000003",
            "技术部",
            &[
                "13800000003",
                "13800000004",
                "13800000005",
                "13800000006",
                "13800000007",
                "13800000008",
                "13800000022",
            ],
        ),
        (
            "13800000009",
            "产品评审会",
            &[
                "13800000009",
                "13800000010",
                "13800000011",
                "13800000003",
                "13800000005",
                "13800000023",
            ],
        ),
        (
            "13800000014",
            "午餐小分队",
            &[
                "13800000014",
                "13800000005",
                "13800000011",
                "13800000017",
                "13800000021",
            ],
        ),
    ];
    let mut gids = Vec::new();
    for (holder, name, members) in groups {
        let holder = user(holder)?;
        let members = Members(members.iter().map(|m| user(m)).collect::<Result<_, _>>()?);
        let gid = queries::create_group(conn, &holder, name, &members, created)?;
        let notice = GroupCreatedNotice {
            holder,
            name: (*name).to_owned(),
            member: members,
        };
        let content =
            serde_json::to_string(&notice).map_err(|e| StoreError::Database(e.to_string()))?;
        send(
            conn,
            "0",
            Peer::Group(gid),
            MessageType::GroupCreated,
            &content,
        )?;
        gids.push(gid);
    }
    let boss = Peer::User(user("13800000001")?);
    let zhang = Peer::User(user("13800000003")?);
    send(
        conn,
        "13800000001",
        zhang.clone(),
        MessageType::Text,
        "张伟，新版本的进度怎么样了？",
    )?;
    send(
        conn,
        "13800000003",
        boss,
        MessageType::Text,
        "王总，核心功能已经完成，本周五可以给大家演示。",
    )?;
    send(
        conn,
        "13800000001",
        zhang,
        MessageType::Text,
        "好的，辛苦了 👍",
    )?;
    if let [dev, review, lunch] = gids[..] {
        send(
            conn,
            "13800000003",
            Peer::Group(dev),
            MessageType::GroupText,
            "大家好，本周的迭代计划已经发到邮箱，请查收。",
        )?;
        send(
            conn,
            "13800000005",
            Peer::Group(dev),
            MessageType::GroupText,
            "收到！",
        )?;
        send(
            conn,
            "13800000007",
            Peer::Group(dev),
            MessageType::GroupText,
            "服务端的接口文档我下午更新一下。",
        )?;
        send(
            conn,
            "13800000009",
            Peer::Group(review),
            MessageType::GroupText,
            "周四下午三点产品评审，会议室 302。",
        )?;
        send(
            conn,
            "13800000011",
            Peer::Group(review),
            MessageType::GroupText,
            "设计稿已经上传，大家可以先看看。",
        )?;
        send(
            conn,
            "13800000014",
            Peer::Group(lunch),
            MessageType::GroupText,
            "今天中午吃什么？楼下新开了一家面馆 🍜",
        )?;
        send(
            conn,
            "13800000017",
            Peer::Group(lunch),
            MessageType::GroupText,
            "走起！十二点楼下见。",
        )?;
    }
    let broadcasts: &[(&str, BroadcastKind, &str, &str)] = &[
        (
            "13800000001",
            BroadcastKind::Announcement,
            "欢迎使用 penpen",
            "公司内部通讯统一使用 penpen，所有消息都会在服务器端保存，随时可查，永不丢失。",
        ),
        (
            "13800000002",
            BroadcastKind::Notice,
            "国庆放假通知",
            "10月1日至7日放假，请大家提前安排好工作。",
        ),
        (
            "13800000019",
            BroadcastKind::Notice,
            "报销提醒",
            "本月报销请在25日前提交到财务部。",
        ),
    ];
    for (sender, kind, title, content) in broadcasts {
        ts += 60 * MINUTE;
        queries::store_broadcast(
            conn,
            &user(sender)?,
            *kind,
            title,
            content,
            None,
            ts,
            penpen_core::time::DEFAULT_UTC_OFFSET_MINUTES,
        )?;
    }
    Ok(())
}

//! `search`: the server's search of all history (PROTOCOL §17) over a large
//! store, in this process (no server binary): fills a store with
//! `--messages` texts of a company of 1,000 people (1:1 and groups of 20,
//! words from a vocabulary of everyday office Chinese and some English),
//! then times `--queries` searches of a two-character and of a
//! four-character query by random people, each the first page (20 hits) as
//! the app asks it, and reports p50/p99/max per query length.
//!
//! The store is filled once and kept (`--store sqlite:DIR` or a
//! `postgres://` URL): a second run on the same store only measures.

use penpen_core::packets::groups::Members;
use penpen_core::packets::message::{MessageType, Sender};
use penpen_core::{DepartmentId, GroupId, JobId, Peer, UserId};
use penpen_server_mock::store::queries::{self, NewMessage, NewUser};
use penpen_server_mock::store::{Store, StoreLocation, StoreOptions};
use std::time::{Duration, Instant};

/// People in the company.
const PEOPLE: usize = 1_000;
/// Groups, each of `GROUP_SIZE` people.
const GROUPS: usize = 200;
const GROUP_SIZE: usize = 20;
/// Messages stored per write transaction while filling.
const FILL_BATCH: usize = 2_000;

/// Everyday words; texts are made of a few of them.
const WORDS: &[&str] = &[
    "周报",
    "会议",
    "项目",
    "进度",
    "客户",
    "合同",
    "报价",
    "审批",
    "预算",
    "财务",
    "发票",
    "报销",
    "出差",
    "培训",
    "招聘",
    "面试",
    "需求",
    "设计",
    "测试",
    "上线",
    "版本",
    "发布",
    "修复",
    "问题",
    "数据",
    "分析",
    "方案",
    "计划",
    "目标",
    "季度",
    "年度",
    "总结",
    "汇报",
    "领导",
    "同事",
    "部门",
    "市场",
    "销售",
    "渠道",
    "运营",
    "活动",
    "推广",
    "用户",
    "反馈",
    "体验",
    "产品",
    "功能",
    "接口",
    "服务器",
    "数据库",
    "明天",
    "今天",
    "下午",
    "上午",
    "晚上",
    "周一",
    "周五",
    "尽快",
    "确认",
    "收到",
    "好的",
    "谢谢",
    "麻烦",
    "请问",
    "已经",
    "完成",
    "处理",
    "跟进",
    "安排",
    "通知",
    "大家",
    "一下",
    "文件",
    "附件",
    "邮件",
    "电话",
    "地址",
    "时间",
    "地点",
    "准备",
    "材料",
    "资料",
    "更新",
    "提交",
    "review",
    "deadline",
    "PPT",
    "OK",
    "meeting",
    "bug",
    "release",
    "demo",
    "KPI",
    "OKR",
];

/// A small deterministic generator (xorshift64*): the same store every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn person(n: usize) -> UserId {
    UserId::parse(&format!("136{:08}", n + 1)).expect("11 digits")
}

fn sentence(random: &mut Random) -> String {
    let words = 2 + random.below(6);
    let mut text = String::new();
    for i in 0..words {
        if i > 0 && random.below(3) == 0 {
            text.push('，');
        }
        text.push_str(WORDS[random.below(WORDS.len())]);
    }
    text
}

async fn open(location: StoreLocation) -> anyhow::Result<Store> {
    let options = StoreOptions::default();
    Ok(tokio::task::spawn_blocking(move || Store::open_at(&location, options)).await??)
}

/// Fills an empty store; returns the groups' ids.
async fn fill(store: &Store, messages: usize) -> anyhow::Result<()> {
    store
        .write(|db| {
            queries::put_department(db, DepartmentId(1), "全公司")?;
            queries::put_job(db, JobId(1), "员工")?;
            for n in 0..PEOPLE {
                queries::add_user(
                    db,
                    &NewUser {
                        id: person(n),
                        name: format!("员工{n}"),
                        department: DepartmentId(1),
                        job: JobId(1),
                        password_hash: "not used".into(),
                        signing: String::new(),
                        broadcaster: false,
                    },
                )?;
            }
            for g in 0..GROUPS {
                let mut members: Vec<UserId> = (0..GROUP_SIZE)
                    .map(|i| person((g * 7 + i * 50) % PEOPLE))
                    .collect();
                members.sort();
                members.dedup();
                let holder = members[0].clone();
                queries::create_group(db, &holder, &format!("群{g}"), &Members(members), 0)?;
            }
            Ok(())
        })
        .await?;
    let started = Instant::now();
    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    let mut stored = 0;
    while stored < messages {
        let batch = FILL_BATCH.min(messages - stored);
        let plans: Vec<(usize, Peer, String)> = (0..batch)
            .map(|_| {
                let from = random.below(PEOPLE);
                let to = if random.below(2) == 0 {
                    let mut other = random.below(PEOPLE);
                    if other == from {
                        other = (other + 1) % PEOPLE;
                    }
                    Peer::User(person(other))
                } else {
                    Peer::Group(GroupId::new(1 + random.below(GROUPS) as u64).expect("a gid"))
                };
                (from, to, sentence(&mut random))
            })
            .collect();
        let base_ts = 1_700_000_000_000 + stored as i64 * 1_000;
        store
            .write(move |db| {
                for (i, (from, to, text)) in plans.into_iter().enumerate() {
                    let (recipients, sender, kind) = match &to {
                        Peer::User(other) => (
                            vec![person(from), other.clone()],
                            Sender::User(person(from)),
                            MessageType::Text,
                        ),
                        Peer::Group(gid) => {
                            let members = queries::current_members(db, *gid)?.0;
                            let sender = members[from % members.len()].clone();
                            (members, Sender::User(sender), MessageType::GroupText)
                        }
                    };
                    let message = NewMessage {
                        sender,
                        to,
                        kind,
                        content: text,
                        duration: None,
                        cid: None,
                        ts: base_ts + i as i64,
                        mentions: None,
                        mention_all: false,
                        file: None,
                    };
                    queries::store_message(db, &message, &recipients)?;
                }
                Ok(())
            })
            .await?;
        stored += batch;
        if stored % 100_000 == 0 || stored == messages {
            println!(
                "  stored {stored} messages ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

/// Times `queries` searches of `query` by random people.
async fn measure(store: &Store, query: &'static str, count: usize) -> anyhow::Result<()> {
    let mut random = Random(0x5eed ^ query.len() as u64);
    let mut times = Vec::with_capacity(count);
    let mut hits = 0usize;
    for _ in 0..count {
        let who = person(random.below(PEOPLE));
        let started = Instant::now();
        let (found, _) = store
            .read(move |db| queries::search(db, &who, query, None, None, 20, 480))
            .await?;
        times.push(started.elapsed());
        hits += found.len();
    }
    times.sort();
    println!(
        "  {query:?} ({} characters): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {count} searches ({:.1} hits a page)",
        query.chars().count(),
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        percentile(&times, 1.0),
        hits as f64 / count as f64
    );
    Ok(())
}

/// Fills (once) and measures.
pub async fn search_scenario(
    location: StoreLocation,
    messages: usize,
    count: usize,
) -> anyhow::Result<()> {
    let store = open(location).await?;
    let have = store.read(queries::user_count).await?;
    if have == 0 {
        println!("search: filling the store with {messages} messages (once)");
        fill(&store, messages).await?;
    } else {
        println!("search: the store is filled already ({have} people)");
    }
    println!("search: the first page (20 hits) of all history, as one person of {PEOPLE} sees it");
    // A common pair, a rarer one, a four-character phrase, and Latin.
    for query in ["周报", "报销", "项目进度", "review"] {
        measure(&store, query, count).await?;
    }
    let closing = store.clone();
    tokio::task::spawn_blocking(move || closing.close()).await?;
    Ok(())
}

//! Message search over 50,000 cached messages, as a long-used account's
//! cache holds: Chinese and mixed text in 200 conversations.
//!
//! `cargo bench -p penpen-core --bench search` prints the time of one search
//! over the whole index (the budget is 100 ms in the browser, where
//! wasm runs this same code).

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    native::main();
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use criterion::{Criterion, criterion_group};
    use penpen_core::packets::message::{Message, MessageType, Sender};
    use penpen_core::search::SearchIndex;
    use penpen_core::{MessageId, Peer, UserId};
    use std::hint::black_box;

    const PHRASES: [&str; 8] = [
        "周五下午三点在三楼会议室开项目例会，请带上本周进展。",
        "好的，收到 👍",
        "合同已经发到你邮箱了，请查收",
        "The build is green again, deploying to staging now",
        "明天上午客户来访，记得准备演示环境",
        "报销单据请在月底前交到财务部",
        "Can we move the review to Thursday?",
        "午饭一起去食堂吗",
    ];

    fn index() -> SearchIndex {
        let me = UserId::parse("13800000001").expect("id");
        let mut index = SearchIndex::new();
        for conversation in 0..200u64 {
            let peer = Peer::User(
                UserId::parse(&format!("{}", 13_900_000_000u64 + conversation)).expect("id"),
            );
            let messages: Vec<Message> = (0..250u64)
                .map(|n| {
                    let id = conversation * 250 + n + 1;
                    Message {
                        quote: None,
                        mentions: None,
                        mention_all: false,
                        recalled: None,
                        name: None,
                        size: None,
                        from: Sender::User(me.clone()),
                        to: peer.clone(),
                        kind: MessageType::Text,
                        content: format!("{} #{id}", PHRASES[(id % 8) as usize]),
                        time: String::new(),
                        ts: id as i64,
                        id: MessageId(id),
                        seq: None,
                        cid: None,
                        duration: None,
                    }
                })
                .collect();
            index.add(&peer, &messages);
        }
        assert_eq!(index.len(), 50_000);
        index
    }

    fn search(c: &mut Criterion) {
        let index = index();
        let mut group = c.benchmark_group("search 50k messages");
        group.bench_function("Chinese, many hits (会议)", |b| {
            b.iter(|| black_box(index.search(black_box("会议"), None)))
        });
        group.bench_function("Latin, any case (STAGING)", |b| {
            b.iter(|| black_box(index.search(black_box("STAGING"), None)))
        });
        group.bench_function("no hit (不存在的词)", |b| {
            b.iter(|| black_box(index.search(black_box("不存在的词"), None)))
        });
        group.finish();
    }

    criterion_group!(benches, search);
    pub fn main() {
        benches();
        Criterion::default().configure_from_args().final_summary();
    }
}

//! Codec throughput: decoding and encoding a typical text message frame.
//!
//! `cargo bench -p penpen-core --bench codec` prints the time per frame;
//! frames per second is its inverse (criterion also prints it as `thrpt`).

// Benchmarks run natively; on wasm32 (checked by clippy --all-targets) there is nothing to run.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    native::main();
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use criterion::{Criterion, Throughput, criterion_group};
    use penpen_core::packets::message::{Message, MessageType, SendText, Sender};
    use penpen_core::{ClientMsgId, Encoding, Frame, MessageId, Peer, Seq, UserId};
    use std::hint::black_box;

    fn user(id: &str) -> UserId {
        UserId::parse(id).expect("valid")
    }

    fn typical_send() -> SendText {
        SendText {
            quote: None,
            mentions: None,
            mention_all: false,
            from: user("15228977313"),
            to: Peer::User(user("13800000001")),
            kind: MessageType::Text,
            content: "周五下午三点在三楼会议室开项目例会，请带上本周进展。🐧".into(),
            cid: Some(ClientMsgId::parse("0b9f3c1e-6a2d-4c1b-9f1e-3c2a1b0d9e8f").expect("valid")),
        }
    }

    fn typical_push() -> Message {
        let send = typical_send();
        Message {
            quote: None,
            mentions: None,
            mention_all: false,
            recalled: None,
            name: None,
            size: None,
            from: Sender::User(send.from),
            to: send.to,
            kind: send.kind,
            content: send.content,
            time: "2026-11-27 21:05:09".into(),
            ts: 1_795_784_709_000,
            id: MessageId(1_000_001),
            seq: Some(Seq(4_711)),
            cid: send.cid,
            duration: None,
        }
    }

    fn codec(c: &mut Criterion) {
        let mut group = c.benchmark_group("text message frame");
        group.throughput(Throughput::Elements(1));

        let send = typical_send();
        let send_frame = Frame::encode(Encoding::Base64, &send).expect("encodes");
        group.bench_function("decode send (1110)", |b| {
            b.iter(|| {
                let frame = Frame::decode(black_box(&send_frame)).expect("valid");
                black_box(frame.packet::<SendText>().expect("valid"))
            })
        });
        group.bench_function("encode send (1110)", |b| {
            b.iter(|| {
                black_box(Frame::encode(Encoding::Base64, black_box(&send)).expect("encodes"))
            })
        });

        let push = typical_push();
        let push_frame = Frame::encode(Encoding::Base64, &push).expect("encodes");
        group.bench_function("decode push (1110)", |b| {
            b.iter(|| {
                let frame = Frame::decode(black_box(&push_frame)).expect("valid");
                black_box(frame.packet::<Message>().expect("valid"))
            })
        });
        group.bench_function("encode push (1110)", |b| {
            b.iter(|| {
                black_box(Frame::encode(Encoding::Base64, black_box(&push)).expect("encodes"))
            })
        });
        group.finish();
    }

    criterion_group!(benches, codec);
    pub fn main() {
        benches();
        Criterion::default().configure_from_args().final_summary();
    }
}

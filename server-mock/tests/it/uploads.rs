//! Files of any kind on 28888 (PROTOCOL §15.6): chunked uploads that resume,
//! quotas, and downloads only for those who may see a message naming the file.

use crate::common::*;
use penpen_core::packets::message::{MessageType, SendAck};
use penpen_core::packets::upload::{Upload, UploadOffset};
use penpen_core::{ClientMsgId, Peer, Service, State};
use penpen_server_mock::RunningServer;
use std::time::Duration;

const CHUNK: usize = 256 * 1024;

fn cid(text: &str) -> ClientMsgId {
    ClientMsgId::parse(text).expect("cid")
}

/// Bytes that differ everywhere, so a misplaced chunk shows.
fn bytes(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// A reply on 28888: the offset packet, a send's ack, or a refusal.
#[derive(Debug)]
enum Answer {
    Offset(UploadOffset),
    Ack(SendAck),
    Refused(State, String),
}

async fn ask(port: &mut Client, upload: &Upload) -> Answer {
    port.send(upload).await;
    let payload = port.payload().await;
    let value: serde_json::Value = serde_json::from_str(&payload).expect("json");
    if value.get("id").is_some() {
        Answer::Ack(serde_json::from_str(&payload).expect("an ack"))
    } else if value.get("offset").is_some() {
        Answer::Offset(serde_json::from_str(&payload).expect("an offset"))
    } else {
        Answer::Refused(
            State(value["state"].as_u64().expect("state") as u16),
            value["error"].as_str().unwrap_or_default().to_owned(),
        )
    }
}

fn begin_upload(cid_text: &str, to: Peer, name: &str, size: usize) -> Upload {
    Upload::Start {
        cid: cid(cid_text),
        to,
        name: name.into(),
        size: size as u64,
    }
}

async fn offset_of(port: &mut Client, upload: &Upload) -> u64 {
    match ask(port, upload).await {
        Answer::Offset(UploadOffset { state, offset, .. }) if state == State::SUCCESS => offset,
        other => panic!("expected an offset, got {other:?}"),
    }
}

/// Sends the chunks of `data` from `from` on; returns the offset reached.
async fn send_chunks(port: &mut Client, cid_text: &str, data: &[u8], from: u64) -> u64 {
    let mut offset = from;
    while (offset as usize) < data.len() {
        let end = (offset as usize + CHUNK).min(data.len());
        let chunk = Upload::Chunk {
            cid: cid(cid_text),
            offset,
            data: data[offset as usize..end].to_vec(),
        };
        offset = offset_of(port, &chunk).await;
        assert_eq!(offset, end as u64);
    }
    offset
}

async fn send_file(port: &mut Client, cid_text: &str) -> SendAck {
    match ask(port, &Upload::Send { cid: cid(cid_text) }).await {
        Answer::Ack(ack) => ack,
        other => panic!("expected an ack, got {other:?}"),
    }
}

async fn files_port(server: &RunningServer, token: &str) -> Client {
    Client::connect(server, Service::Files, Some(token)).await
}

#[tokio::test]
async fn a_file_uploaded_in_chunks_is_delivered_and_downloaded_byte_identical() {
    let (server, _data) = start().await;
    let (_z, zhang) = log_in(&server, ZHANG).await;
    let (mut liu_stream, liu) = log_in(&server, LIU).await;
    while liu_stream
        .next_message(Duration::from_millis(400))
        .await
        .is_some()
    {}
    let (_w, wang) = log_in(&server, WANG).await;

    let mut data = b"%PDF-1.7\n".to_vec();
    data.extend(bytes(CHUNK * 3 + 1234, 1));
    let mut port = files_port(&server, &zhang.token).await;
    let begin = begin_upload("f-1", Peer::User(user(LIU)), "内容 报告.pdf", data.len());
    assert_eq!(offset_of(&mut port, &begin).await, 0);
    // Sending before every byte is there says how far it got.
    match ask(&mut port, &Upload::Send { cid: cid("f-1") }).await {
        Answer::Offset(reply) => assert_eq!((reply.state, reply.offset), (State::UPLOAD_OFFSET, 0)),
        other => panic!("{other:?}"),
    }
    send_chunks(&mut port, "f-1", &data, 0).await;
    let ack = send_file(&mut port, "f-1").await;
    let stored = ack.content.clone().expect("the stored name");
    assert!(
        stored.ends_with(".pdf") && !stored.contains("报告"),
        "{stored}"
    );
    // A repeated send, and a start of the same cid, get the same message.
    let again = send_file(&mut port, "f-1").await;
    assert_eq!(
        (again.id, again.content.as_deref()),
        (ack.id, Some(stored.as_str()))
    );
    match ask(&mut port, &begin).await {
        Answer::Ack(restart) => assert_eq!(restart.id, ack.id),
        other => panic!("{other:?}"),
    }

    let pushed = liu_stream
        .next_message(Duration::from_secs(5))
        .await
        .expect("pushed");
    assert_eq!(pushed.kind, MessageType::File);
    assert_eq!(pushed.content, stored);
    assert_eq!(pushed.name.as_deref(), Some("内容 报告.pdf"));
    assert_eq!(pushed.size, Some(data.len() as u64));

    let addr = server.addr(Service::Files).expect("served");
    let (status, headers, body) = http_get(addr, &file_path(&stored, &liu.token), "").await;
    assert_eq!(status, 200);
    assert!(body == data, "the download is byte-identical");
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'none'; sandbox"
    );
    assert!(
        headers["content-disposition"]
            .ends_with("filename*=UTF-8''%E5%86%85%E5%AE%B9%20%E6%8A%A5%E5%91%8A.pdf"),
        "{}",
        headers["content-disposition"]
    );
    assert!(headers["content-disposition"].starts_with("attachment;"));
    assert!(!headers.contains_key("access-control-allow-origin"));
    // The app's page (another port of the same host) may read it.
    let (status, headers, _) = http_get(
        addr,
        &file_path(&stored, &liu.token),
        "Origin: http://127.0.0.1:8080\r\n",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://127.0.0.1:8080"
    );
    let (status, _, _) = http_get(
        addr,
        &file_path(&stored, &liu.token),
        "Origin: https://evil.example\r\n",
    )
    .await;
    assert_eq!(status, 403, "other sites are refused before anything");

    // A range.
    let (status, headers, body) = http_get(
        addr,
        &file_path(&stored, &liu.token),
        "Range: bytes=100-299\r\n",
    )
    .await;
    assert_eq!(status, 206);
    assert_eq!(body, data[100..300]);
    assert_eq!(
        headers["content-range"],
        format!("bytes 100-299/{}", data.len())
    );
    let (status, _, body) = http_get(
        addr,
        &file_path(&stored, &zhang.token),
        "Range: bytes=-10\r\n",
    )
    .await;
    assert_eq!((status, body.as_slice()), (206, &data[data.len() - 10..]));
    let (status, headers, _) = http_get(
        addr,
        &file_path(&stored, &liu.token),
        &format!("Range: bytes={}-\r\n", data.len()),
    )
    .await;
    assert_eq!(status, 416);
    assert_eq!(headers["content-range"], format!("bytes */{}", data.len()));

    // Not Wang's conversation; no ticket; another file's ticket.
    assert_eq!(
        http_get(addr, &file_path(&stored, &wang.token), "").await.0,
        404
    );
    assert_eq!(http_get(addr, &format!("/files/{stored}"), "").await.0, 401);
    let other = format!(
        "/files/{stored}?ticket={}",
        ticket_for("0123456789abcdef0123456789abcdef.pdf", &liu.token)
    );
    assert_eq!(http_get(addr, &other, "").await.0, 401);
    // Image ports do not serve it, nor does 28888 serve outside its folder.
    let image = server.addr(Service::Image).expect("served");
    assert_eq!(
        http_get(image, &file_path(&stored, &liu.token), "").await.0,
        404
    );
    let escape = format!(
        "/files/..%2Fpenpen.db?ticket={}",
        ticket_for("../penpen.db", &liu.token)
    );
    assert_eq!(http_get(addr, &escape, "").await.0, 404);
}

#[tokio::test]
async fn a_forwarded_file_opens_for_its_new_parties_under_its_name() {
    use penpen_core::packets::actions::{Forward, MessageAction, MessageIds};
    use penpen_core::packets::message::ChatRecord;
    let (server, _data) = start().await;
    let (_z, zhang) = log_in(&server, ZHANG).await;
    let (_l, _liu) = log_in(&server, LIU).await;
    let (mut wang_stream, wang) = log_in(&server, WANG).await;
    while wang_stream
        .next_message(Duration::from_millis(400))
        .await
        .is_some()
    {}
    let data = bytes(CHUNK + 99, 7);
    let mut port = files_port(&server, &zhang.token).await;
    let begin = begin_upload("f-fw", Peer::User(user(LIU)), "预算.xlsx", data.len());
    assert_eq!(offset_of(&mut port, &begin).await, 0);
    send_chunks(&mut port, "f-fw", &data, 0).await;
    let ack = send_file(&mut port, "f-fw").await;
    let stored = ack.content.clone().expect("the stored name");
    let addr = server.addr(Service::Files).expect("served");
    assert_eq!(
        http_get(addr, &file_path(&stored, &wang.token), "").await.0,
        404
    );

    // Forwarded one by one to Wang: the same stored file, its name and size.
    let mut actions = Client::connect(&server, Service::MessageActions, Some(&zhang.token)).await;
    let forward = |merge, cid_text: &str| {
        MessageAction::Forward(Forward {
            forward: MessageIds(vec![ack.id]),
            to: Peer::User(user(WANG)),
            merge,
            cid: cid(cid_text),
        })
    };
    let copy: SendAck = actions
        .request(&forward(false, "fw-1"))
        .await
        .expect("forwarded");
    assert_eq!(copy.content.as_deref(), Some(stored.as_str()));
    let pushed = wang_stream
        .next_message(Duration::from_secs(5))
        .await
        .expect("the copy is pushed");
    assert_eq!(pushed.kind, MessageType::File);
    assert_eq!(
        (pushed.name.as_deref(), pushed.size),
        (Some("预算.xlsx"), Some(data.len() as u64))
    );
    let (status, headers, body) = http_get(addr, &file_path(&stored, &wang.token), "").await;
    assert_eq!(status, 200);
    assert!(body == data, "the forwarded file is the same bytes");
    assert!(
        headers["content-disposition"].ends_with("filename*=UTF-8''%E9%A2%84%E7%AE%97.xlsx"),
        "{}",
        headers["content-disposition"]
    );

    // In a chat record, the item keeps the file's name and size.
    let _: SendAck = actions
        .request(&forward(true, "fw-2"))
        .await
        .expect("merged");
    let record = wang_stream
        .next_message(Duration::from_secs(5))
        .await
        .expect("the record is pushed");
    assert_eq!(record.kind, MessageType::ChatRecord);
    let record: ChatRecord = serde_json::from_str(&record.content).expect("a chat record");
    assert_eq!(
        (record.items[0].name.as_deref(), record.items[0].size),
        (Some("预算.xlsx"), Some(data.len() as u64))
    );
}

#[tokio::test]
async fn a_chunk_at_the_wrong_offset_gets_42_with_the_stored_offset() {
    let (server, _data) = start().await;
    let (_z, zhang) = log_in(&server, ZHANG).await;
    let mut port = files_port(&server, &zhang.token).await;
    let data = bytes(CHUNK * 2, 2);
    let begin = begin_upload("f-2", Peer::User(user(LIU)), "a.bin", data.len());
    offset_of(&mut port, &begin).await;
    let first = Upload::Chunk {
        cid: cid("f-2"),
        offset: 0,
        data: data[..CHUNK].to_vec(),
    };
    assert_eq!(offset_of(&mut port, &first).await, CHUNK as u64);
    // The same chunk again (its reply was lost): refused, with where to go on.
    match ask(&mut port, &first).await {
        Answer::Offset(reply) => {
            assert_eq!(
                (reply.state, reply.offset),
                (State::UPLOAD_OFFSET, CHUNK as u64)
            );
            assert!(reply.error.expect("why").contains("holds 262144 bytes"));
        }
        other => panic!("{other:?}"),
    }
    // Unknown uploads, chunks past the size, and a resume of another file.
    let stranger = Upload::Chunk {
        cid: cid("nope"),
        offset: 0,
        data: vec![1],
    };
    match ask(&mut port, &stranger).await {
        Answer::Offset(reply) => assert_eq!((reply.state, reply.offset), (State::UPLOAD_OFFSET, 0)),
        other => panic!("{other:?}"),
    }
    let past = Upload::Chunk {
        cid: cid("f-2"),
        offset: CHUNK as u64,
        data: vec![0; CHUNK + 1],
    };
    assert!(matches!(
        ask(&mut port, &past).await,
        Answer::Refused(State::BAD_PACKET, _)
    ));
    let changed = begin_upload("f-2", Peer::User(user(LIU)), "b.bin", data.len());
    assert!(matches!(
        ask(&mut port, &changed).await,
        Answer::Refused(State::BAD_PACKET, _)
    ));
    // Another user's cid is not the same upload.
    let (_l, liu) = log_in(&server, LIU).await;
    let mut liu_port = files_port(&server, &liu.token).await;
    let theirs = Upload::Chunk {
        cid: cid("f-2"),
        offset: CHUNK as u64,
        data: vec![1],
    };
    match ask(&mut liu_port, &theirs).await {
        Answer::Offset(reply) => assert_eq!(reply.offset, 0),
        other => panic!("{other:?}"),
    }
    // Cancel: the upload is gone.
    let cancelled = ask(&mut port, &Upload::Cancel { cid: cid("f-2") }).await;
    assert!(
        matches!(cancelled, Answer::Refused(State::SUCCESS, _)),
        "{cancelled:?}"
    );
    assert_eq!(
        offset_of(&mut port, &begin).await,
        0,
        "a new upload after the cancel"
    );
}

#[tokio::test]
async fn an_upload_resumes_after_a_dropped_connection() {
    let (server, _data) = start().await;
    let (_z, zhang) = log_in(&server, ZHANG).await;
    let (mut liu_stream, liu) = log_in(&server, LIU).await;
    while liu_stream
        .next_message(Duration::from_millis(400))
        .await
        .is_some()
    {}
    let data = bytes(CHUNK * 4 + 17, 3);
    let begin = begin_upload("f-3", Peer::User(user(LIU)), "notes.txt", data.len());
    {
        let mut port = files_port(&server, &zhang.token).await;
        offset_of(&mut port, &begin).await;
        send_chunks(&mut port, "f-3", &data[..CHUNK * 2], 0).await;
        // One more chunk goes out and the connection drops before its reply.
        port.send(&Upload::Chunk {
            cid: cid("f-3"),
            offset: (CHUNK * 2) as u64,
            data: data[CHUNK * 2..CHUNK * 3].to_vec(),
        })
        .await;
    }
    let mut port = files_port(&server, &zhang.token).await;
    let resumed = offset_of(&mut port, &begin).await;
    assert!(
        resumed == (CHUNK * 2) as u64 || resumed == (CHUNK * 3) as u64,
        "resumes where the server's bytes end: {resumed}"
    );
    send_chunks(&mut port, "f-3", &data, resumed).await;
    let ack = send_file(&mut port, "f-3").await;
    let stored = ack.content.expect("stored name");
    let pushed = liu_stream
        .next_message(Duration::from_secs(5))
        .await
        .expect("pushed");
    assert_eq!(pushed.id, ack.id);
    assert!(
        liu_stream
            .next_message(Duration::from_millis(500))
            .await
            .is_none(),
        "the file arrives once"
    );
    let addr = server.addr(Service::Files).expect("served");
    let (status, _, body) = http_get(addr, &file_path(&stored, &liu.token), "").await;
    assert_eq!(status, 200);
    assert!(body == data, "byte-identical after the resume");
}

#[tokio::test]
async fn quotas_refuse_a_file_too_large_and_a_user_over_quota() {
    let (server, _data) = start_configured(|config| {
        config.files.max_file_bytes = 1000;
        config.files.user_quota_bytes = 1500;
    })
    .await;
    let (_z, zhang) = log_in(&server, ZHANG).await;
    let mut port = files_port(&server, &zhang.token).await;
    let to = || Peer::User(user(LIU));
    assert!(matches!(
        ask(&mut port, &begin_upload("q-0", to(), "big", 1001)).await,
        Answer::Refused(State::TOO_LARGE, _)
    ));
    // 800 stored and sent, 600 under way: 1400 of 1500.
    offset_of(&mut port, &begin_upload("q-1", to(), "a", 800)).await;
    send_chunks(&mut port, "q-1", &bytes(800, 4), 0).await;
    send_file(&mut port, "q-1").await;
    offset_of(&mut port, &begin_upload("q-2", to(), "b", 600)).await;
    match ask(&mut port, &begin_upload("q-3", to(), "c", 101)).await {
        Answer::Refused(State::QUOTA_FULL, why) => assert!(why.contains("1400 bytes"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        offset_of(&mut port, &begin_upload("q-3", to(), "c", 100)).await,
        0
    );
    // A cancelled upload gives its room back.
    ask(&mut port, &Upload::Cancel { cid: cid("q-2") }).await;
    assert_eq!(
        offset_of(&mut port, &begin_upload("q-4", to(), "d", 600)).await,
        0
    );
    // The conversation is checked at start.
    assert!(matches!(
        ask(
            &mut port,
            &begin_upload("q-5", Peer::User(user("13899999999")), "e", 1)
        )
        .await,
        Answer::Refused(State::UNKNOWN_USER, _)
    ));
    assert!(matches!(
        ask(
            &mut port,
            &begin_upload("q-6", Peer::parse("999999").expect("gid"), "e", 1)
        )
        .await,
        Answer::Refused(State::UNKNOWN_GROUP, _)
    ));
}

#[tokio::test]
async fn abandoned_uploads_expire_with_their_partial_files() {
    let (server, data) = start_configured(|config| {
        config.files.upload_expiry = Duration::from_millis(300);
        config.files.sweep_every = Duration::from_millis(100);
    })
    .await;
    let (_z, zhang) = log_in(&server, ZHANG).await;
    let mut port = files_port(&server, &zhang.token).await;
    let begin = begin_upload("x-1", Peer::User(user(LIU)), "a", 10);
    offset_of(&mut port, &begin).await;
    offset_of(
        &mut port,
        &Upload::Chunk {
            cid: cid("x-1"),
            offset: 0,
            data: vec![1; 5],
        },
    )
    .await;
    let parts = || {
        std::fs::read_dir(data.path().join("files"))
            .expect("files folder")
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
            .count()
    };
    assert_eq!(parts(), 1);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while parts() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the upload never expired"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(offset_of(&mut port, &begin).await, 0, "started afresh");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_resumes_after_a_server_sigkill_from_bytes_on_disk() {
    use crate::crash::{port, spawn_server, token_of};
    let folder = tempfile::tempdir().expect("folder");
    let seed = (std::process::id() % 900) as u16 + 13;
    let (mut server, offset) = spawn_server(folder.path(), seed).await;
    let data = bytes(CHUNK * 40, 5);
    let begin = begin_upload("k-1", Peer::User(user(LIU)), "big.bin", data.len());
    let token = token_of(offset, ZHANG).await;
    let mut client = Client::try_connect(port(Service::Files, offset), Some(&token))
        .await
        .expect("28888");
    offset_of(&mut client, &begin).await;
    // Chunks go out until the server dies; the last acknowledged offset is noted.
    let uploader = tokio::spawn(async move {
        let mut acked = 0u64;
        loop {
            let end = (acked as usize + CHUNK).min(data.len());
            if acked as usize == data.len() {
                return acked;
            }
            client
                .send(&Upload::Chunk {
                    cid: cid("k-1"),
                    offset: acked,
                    data: data[acked as usize..end].to_vec(),
                })
                .await;
            match client.next_payload(Duration::from_secs(5)).await {
                Some(payload) => {
                    let reply: UploadOffset = serde_json::from_str(&payload).expect("an offset");
                    acked = reply.offset;
                }
                None => return acked,
            }
        }
    });
    // Kill once some chunks are in.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let parts: u64 = std::fs::read_dir(folder.path().join("files"))
            .map(|d| {
                d.flatten()
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0);
        if parts >= (CHUNK * 5) as u64 || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill().await.expect("SIGKILL");
    let acked = uploader.await.expect("uploader");
    assert!(acked > 0, "some chunks were acknowledged before the kill");
    assert!(acked < (CHUNK * 40) as u64, "the kill came before the end");

    let (mut server, offset) = spawn_server(folder.path(), seed + 500).await;
    let token = token_of(offset, ZHANG).await;
    let mut client = Client::try_connect(port(Service::Files, offset), Some(&token))
        .await
        .expect("28888");
    let resumed = offset_of(&mut client, &begin).await;
    assert!(
        resumed >= acked,
        "an acknowledged offset survives the kill: {resumed} < {acked}"
    );
    let data = bytes(CHUNK * 40, 5);
    send_chunks(&mut client, "k-1", &data, resumed).await;
    let ack = send_file(&mut client, "k-1").await;
    let stored = ack.content.expect("stored");
    let liu = token_of(offset, LIU).await;
    let (status, _, body) =
        http_get(port(Service::Files, offset), &file_path(&stored, &liu), "").await;
    assert_eq!(status, 200);
    assert!(body == data, "byte-identical after the kill and resume");
    let _ = server.kill().await;
}

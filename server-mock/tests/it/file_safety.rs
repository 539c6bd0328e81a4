//! Files kept safely: a repeated cid answers the one stored file, orphans are
//! swept at start, decompression bombs and recordings longer than they say
//! are refused with nothing stored.

use crate::common::*;
use penpen_core::packets::message::{MessageType, SendAck, SendFile};
use penpen_core::{ClientMsgId, ErrorReply, Peer, Service, State};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// A PNG header declaring `width` × `height` pixels.
fn png(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
    png.extend_from_slice(&width.to_be_bytes());
    png.extend_from_slice(&height.to_be_bytes());
    png.extend_from_slice(b"\x08\x02\x00\x00\x00\x90wS\xde");
    png
}

/// An Ogg page holding one packet.
fn ogg_page(granule: u64, body: &[u8]) -> Vec<u8> {
    let mut page = b"OggS\x00\x00".to_vec();
    page.extend_from_slice(&granule.to_le_bytes());
    page.extend_from_slice(&[0; 12]);
    page.extend_from_slice(&[1, body.len() as u8]);
    page.extend_from_slice(body);
    page
}

/// An Ogg Opus recording of `seconds` (pre-skip 312).
fn ogg_opus(seconds: u64) -> Vec<u8> {
    let mut file = ogg_page(0, b"OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00");
    file.extend(ogg_page(0, b"OpusTags"));
    file.extend(ogg_page(312 + seconds * 48_000, &[0xFC; 40]));
    file
}

/// A WebM recording as Chromium's MediaRecorder writes it: no Duration,
/// segment and clusters of unknown size, a block every 20 ms for `ms`.
fn chromium_webm(ms: u64) -> Vec<u8> {
    let element = |id: &[u8], data: &[u8]| {
        let mut out = id.to_vec();
        out.push(0x80 | data.len() as u8);
        out.extend_from_slice(data);
        out
    };
    let mut file = element(&[0x1A, 0x45, 0xDF, 0xA3], &element(&[0x42, 0x82], b"webm"));
    file.extend_from_slice(&[
        0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    ]);
    file.extend(element(
        &[0x15, 0x49, 0xA9, 0x66],
        &element(&[0x2A, 0xD7, 0xB1], &[0x0F, 0x42, 0x40]),
    ));
    file.extend(element(
        &[0x16, 0x54, 0xAE, 0x6B],
        &element(&[0x86], b"A_OPUS"),
    ));
    let mut cluster = 0;
    while cluster <= ms {
        file.extend_from_slice(&[0x1F, 0x43, 0xB6, 0x75, 0xFF]);
        file.extend(element(&[0xE7], &(cluster as u32).to_be_bytes()));
        let mut relative = 0u64;
        while relative < 1000 && cluster + relative <= ms {
            let mut block = vec![0x81];
            block.extend_from_slice(&(relative as i16).to_be_bytes());
            block.extend_from_slice(&[0x80, 0xFC, 0xFF]);
            file.extend(element(&[0xA3], &block));
            relative += 20;
        }
        cluster += 1000;
    }
    file
}

fn send_file(kind: MessageType, data: Vec<u8>, duration: Option<u32>, cid: &str) -> SendFile {
    SendFile {
        from: user(ZHANG),
        to: Peer::User(user(LIU)),
        kind,
        data,
        name: None,
        duration,
        cid: Some(ClientMsgId::parse(cid).expect("cid")),
    }
}

/// The names in the files folder.
fn stored_files(data: &Path) -> BTreeSet<String> {
    match std::fs::read_dir(data.join("files")) {
        Ok(entries) => entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .collect(),
        Err(_) => BTreeSet::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sends_of_one_cid_at_once_answer_the_one_stored_file() {
    let (server, data) = start().await;
    let (_stream, zhang) = log_in(&server, ZHANG).await;
    let mut answers = Vec::new();
    for round in 0..12 {
        let cid = format!("race-{round}");
        let mut first = Client::connect(&server, Service::Image, Some(&zhang.token)).await;
        let mut second = Client::connect(&server, Service::Image, Some(&zhang.token)).await;
        let send = send_file(MessageType::Image, png(16, 16), None, &cid);
        // Both are on the wire before either is answered.
        first.send(&send).await;
        second.send(&send).await;
        let (a, b) = tokio::join!(first.payload(), second.payload());
        let a: SendAck = decode_reply(&a).expect("stored");
        let b: SendAck = decode_reply(&b).expect("stored");
        answers.push((cid, a, b));
    }
    let on_disk = stored_files(data.path());
    for (cid, a, b) in &answers {
        assert_eq!(a.id, b.id, "{cid}: one message");
        assert_eq!(a.content, b.content, "{cid}: both name the stored file");
        let name = a.content.clone().expect("a file name");
        assert!(on_disk.contains(&name), "{cid}: {name} is on disk");
    }
    assert_eq!(
        on_disk.len(),
        answers.len(),
        "one file per message, no file no message names: {on_disk:?}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphaned_and_half_written_files_are_swept_at_start() {
    let (server, data) = start().await;
    let (_stream, zhang) = log_in(&server, ZHANG).await;
    let mut port = Client::connect(&server, Service::Image, Some(&zhang.token)).await;
    let kept: SendAck = port
        .request(&send_file(MessageType::Image, png(4, 4), None, "kept"))
        .await
        .expect("stored");
    let kept = kept.content.expect("a file name");
    drop(port);
    server.shutdown().await;

    let files = data.path().join("files");
    let two_hours_ago = SystemTime::now() - Duration::from_secs(2 * 60 * 60);
    let make = |name: &str, modified: SystemTime| {
        let path = files.join(name);
        std::fs::write(&path, b"orphan").expect("written");
        std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(modified))
            .expect("dated");
    };
    make("0123456789abcdef0123456789abcdef.png", two_hours_ago);
    make("fedcba9876543210fedcba9876543210.jpg", SystemTime::now());
    make(
        "00112233445566778899aabbccddeeff.ogg.part",
        SystemTime::now(),
    );
    // The stored file is old too, but a message names it.
    std::fs::File::options()
        .write(true)
        .open(files.join(&kept))
        .and_then(|f| f.set_modified(two_hours_ago))
        .expect("dated");

    let server = start_in(data.path()).await;
    let left = stored_files(data.path());
    assert_eq!(
        left,
        BTreeSet::from([kept, "fedcba9876543210fedcba9876543210.jpg".to_owned()]),
        "the old orphan and the partial file are gone; a young file may belong to a send in flight"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decompression_bomb_is_refused_and_nothing_is_stored() {
    let (server, data) = start().await;
    let (_stream, zhang) = log_in(&server, ZHANG).await;
    let mut port = Client::connect(&server, Service::Image, Some(&zhang.token)).await;
    // 49 bytes that declare 60,000 × 60,000 pixels (3.6 gigapixels).
    let refusal: ErrorReply = port
        .request::<_, SendAck>(&send_file(
            MessageType::Image,
            png(60_000, 60_000),
            None,
            "bomb",
        ))
        .await
        .expect_err("refused");
    assert_eq!(refusal.state, State::UNSUPPORTED_FORMAT);
    assert!(refusal.error.contains("60000 × 60000"), "{}", refusal.error);
    let broken: ErrorReply = port
        .request::<_, SendAck>(&send_file(
            MessageType::Image,
            b"\x89PNG\r\n\x1a\n".to_vec(),
            None,
            "no-header",
        ))
        .await
        .expect_err("refused");
    assert_eq!(broken.state, State::UNSUPPORTED_FORMAT);
    assert!(
        broken.error.contains("width and height"),
        "{}",
        broken.error
    );
    let fine: SendAck = port
        .request(&send_file(
            MessageType::Image,
            png(4_000, 3_000),
            None,
            "photo",
        ))
        .await
        .expect("a 12 MP photo is fine");
    assert_eq!(
        stored_files(data.path()),
        BTreeSet::from([fine.content.expect("a file name")])
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_longer_than_it_says_is_refused() {
    let (server, data) = start().await;
    let (_stream, zhang) = log_in(&server, ZHANG).await;
    let mut port = Client::connect(&server, Service::Voice, Some(&zhang.token)).await;
    let refusal: ErrorReply = port
        .request::<_, SendAck>(&send_file(
            MessageType::Voice,
            ogg_opus(30),
            Some(3),
            "long",
        ))
        .await
        .expect_err("refused");
    assert_eq!(refusal.state, State::BAD_PACKET);
    assert!(refusal.error.contains("30000 ms"), "{}", refusal.error);
    assert!(stored_files(data.path()).is_empty(), "nothing was stored");

    let ogg: SendAck = port
        .request(&send_file(MessageType::Voice, ogg_opus(3), Some(3), "ogg"))
        .await
        .expect("as long as it says");
    // Chromium writes no Duration: the last block's time is the length.
    let webm: SendAck = port
        .request(&send_file(
            MessageType::Voice,
            chromium_webm(2_400),
            Some(2),
            "webm",
        ))
        .await
        .expect("a Chromium recording of 2.4 s sent as 2 s");
    let too_long: ErrorReply = port
        .request::<_, SendAck>(&send_file(
            MessageType::Voice,
            chromium_webm(9_000),
            Some(2),
            "webm-long",
        ))
        .await
        .expect_err("9 s sent as 2 s");
    assert_eq!(too_long.state, State::BAD_PACKET);
    assert_eq!(stored_files(data.path()).len(), 2, "{ogg:?} {webm:?}");
    server.shutdown().await;
}

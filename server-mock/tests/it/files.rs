//! Images and voice: sniffed, stored under the server's names, served only to
//! those who may see them.

use crate::common::*;
use penpen_core::packets::message::{MessageType, SendAck, SendFile};
use penpen_core::{ClientMsgId, Peer, Service, State};
use std::net::SocketAddr;
use std::time::Duration;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde";
const OGG_OPUS: &[u8] = b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x13OpusHead\x01\x01";

/// A plain HTTP/1.1 GET; returns the status, the content type and the body.
async fn get_file(addr: SocketAddr, path: &str) -> (u16, String, Vec<u8>) {
    let (status, headers, body) = http_get(addr, path, "").await;
    let content_type = headers.get("content-type").cloned().unwrap_or_default();
    (status, content_type, body)
}

fn file(
    from: &str,
    to: Peer,
    kind: MessageType,
    data: &[u8],
    duration: Option<u32>,
    cid: &str,
) -> SendFile {
    SendFile {
        from: user(from),
        to,
        kind,
        data: data.to_vec(),
        name: Some("截图.png".into()),
        duration,
        cid: Some(ClientMsgId::parse(cid).expect("cid")),
    }
}

#[tokio::test]
async fn an_image_is_stored_delivered_and_served_only_to_its_conversation() {
    let (server, _data) = start().await;
    let (_s, zhang) = log_in(&server, ZHANG).await;
    let (mut liu_stream, liu) = log_in(&server, LIU).await;
    while liu_stream
        .next_message(Duration::from_millis(400))
        .await
        .is_some()
    {}
    let (_w, wang) = log_in(&server, WANG).await;

    let mut port = Client::connect(&server, Service::Image, Some(&zhang.token)).await;
    let send = file(
        ZHANG,
        Peer::User(user(LIU)),
        MessageType::Image,
        PNG,
        None,
        "img-1",
    );
    let ack: SendAck = port.request(&send).await.expect("stored");
    let name = ack.content.clone().expect("the server's file name");
    assert!(name.ends_with(".png") && !name.contains("截图"), "{name}");
    let again: SendAck = port.request(&send).await.expect("a retry");
    assert_eq!(
        (again.id, again.content.as_deref()),
        (ack.id, Some(name.as_str()))
    );

    let received = liu_stream
        .next_message(Duration::from_secs(5))
        .await
        .expect("pushed");
    assert_eq!(
        (received.kind, received.content.as_str()),
        (MessageType::Image, name.as_str())
    );

    let addr = server.addr(Service::Image).expect("served");
    let (status, content_type, body) = get_file(addr, &file_path(&name, &liu.token)).await;
    assert_eq!(
        (status, content_type.as_str(), body.as_slice()),
        (200, "image/png", PNG)
    );
    assert_eq!(
        get_file(addr, &file_path(&name, &wang.token)).await.0,
        404,
        "not Wang's conversation"
    );
    assert_eq!(get_file(addr, &format!("/files/{name}")).await.0, 401);
    assert_eq!(
        get_file(
            addr,
            &format!(
                "/files/..%2Fpenpen.db?ticket={}",
                ticket_for("../penpen.db", &liu.token)
            )
        )
        .await
        .0,
        404
    );
    server.shutdown().await;
}

#[tokio::test]
async fn files_are_refused_for_their_format_size_and_port() {
    let (server, _data) = start().await;
    let (_s, zhang) = log_in(&server, ZHANG).await;
    let mut images = Client::connect(&server, Service::Image, Some(&zhang.token)).await;
    let to = Peer::User(user(LIU));

    let svg = file(
        ZHANG,
        to.clone(),
        MessageType::Image,
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        None,
        "f-1",
    );
    assert_eq!(
        images
            .request::<_, SendAck>(&svg)
            .await
            .expect_err("not an image")
            .state,
        State::UNSUPPORTED_FORMAT
    );
    let mut huge = PNG.to_vec();
    huge.resize(penpen_core::limits::MAX_IMAGE_BYTES + 1, 0);
    let too_big = file(ZHANG, to.clone(), MessageType::Image, &huge, None, "f-2");
    assert_eq!(
        images
            .request::<_, SendAck>(&too_big)
            .await
            .expect_err("too large")
            .state,
        State::TOO_LARGE
    );
    let voice_on_image_port = file(
        ZHANG,
        to.clone(),
        MessageType::Voice,
        OGG_OPUS,
        Some(3),
        "f-3",
    );
    assert_eq!(
        images
            .request::<_, SendAck>(&voice_on_image_port)
            .await
            .expect_err("wrong port")
            .state,
        State::BAD_PACKET
    );

    let mut voice = Client::connect(&server, Service::Voice, Some(&zhang.token)).await;
    let png_as_voice = file(ZHANG, to.clone(), MessageType::Voice, PNG, Some(3), "f-4");
    assert_eq!(
        voice
            .request::<_, SendAck>(&png_as_voice)
            .await
            .expect_err("not audio")
            .state,
        State::UNSUPPORTED_FORMAT
    );
    let ack: SendAck = voice
        .request(&file(
            ZHANG,
            to,
            MessageType::Voice,
            OGG_OPUS,
            Some(3),
            "f-5",
        ))
        .await
        .expect("stored");
    assert!(ack.content.expect("name").ends_with(".ogg"));
    server.shutdown().await;
}

#[tokio::test]
async fn group_voice_is_served_to_members_only() {
    let (server, _data) = start().await;
    let (_s, zhang) = log_in(&server, ZHANG).await;
    let (_l, liu) = log_in(&server, LIU).await;
    let (_w, wang) = log_in(&server, WANG).await;
    // gid 1 is the demo's 技术部 group: Zhang and Liu, not Wang.
    let gid = Peer::parse("1").expect("gid");
    let mut voice = Client::connect(&server, Service::Voice, Some(&zhang.token)).await;
    let ack: SendAck = voice
        .request(&file(
            ZHANG,
            gid,
            MessageType::GroupVoice,
            OGG_OPUS,
            Some(5),
            "gv-1",
        ))
        .await
        .expect("stored");
    let name = ack.content.expect("name");
    let addr = server.addr(Service::Voice).expect("served");
    let (status, content_type, _) = get_file(addr, &file_path(&name, &liu.token)).await;
    assert_eq!((status, content_type.as_str()), (200, "audio/ogg"));
    assert_eq!(get_file(addr, &file_path(&name, &wang.token)).await.0, 404);
    server.shutdown().await;
}

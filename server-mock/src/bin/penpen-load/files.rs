//! The files load (§15.6): one user uploads a file of `--mib` MiB in 1 MiB
//! chunks (the web client's way: one chunk in flight, or `--window`), sends
//! it, and the recipient downloads it over HTTP with a file ticket. Reports
//! upload and download throughput over loopback, checks the download is
//! byte-identical, and the server's resident and peak memory around both.

use super::{ServerProcess, Socket, account, connect, log_in_all, next_payload, send_packet};
use anyhow::{Context as _, bail};
use penpen_core::packets::message::SendAck;
use penpen_core::packets::upload::{Upload, UploadOffset};
use penpen_core::tickets::{SessionTag, Ticket, TicketKey, expiry_for};
use penpen_core::{ClientMsgId, Peer, Service};
use sha2::{Digest, Sha256};
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CHUNK: usize = penpen_core::limits::MAX_UPLOAD_CHUNK_BYTES;

fn mib(bytes: f64) -> f64 {
    bytes / (1024.0 * 1024.0)
}

async fn offset_reply(socket: &mut Socket) -> anyhow::Result<u64> {
    let payload = next_payload(socket)
        .await
        .context("the files socket closed")?;
    let reply: UploadOffset =
        serde_json::from_str(&payload).with_context(|| format!("not an offset: {payload}"))?;
    if reply.state != penpen_core::State::SUCCESS {
        bail!("refused: {payload}");
    }
    Ok(reply.offset)
}

pub(super) async fn files_scenario(
    server: &ServerProcess,
    size_mib: usize,
    window: usize,
) -> anyhow::Result<()> {
    let mut streams = log_in_all(server, 2).await?;
    let (_, reader_token) = streams.pop().context("the reader")?;
    let (_, sender_token) = streams.pop().context("the sender")?;
    let data: Vec<u8> = {
        let mut x: u32 = 0x2545_F491;
        (0..size_mib * 1024 * 1024)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    };
    let expected = Sha256::digest(&data);
    let kib = |v: Option<u64>| v.map_or(0.0, |k| k as f64 / 1024.0);
    println!(
        "files: {size_mib} MiB in {} chunks of 1 MiB, {window} in flight; server resident {:.1} MiB, peak {:.1} MiB before",
        data.len().div_ceil(CHUNK),
        kib(server.resident_kib()),
        kib(server.peak_kib())
    );

    let mut socket = connect(server.addr(Service::Files), Some(&sender_token)).await?;
    let cid = ClientMsgId::parse("load-file-1")?;
    let started = Instant::now();
    send_packet(
        &mut socket,
        &Upload::Start {
            cid: cid.clone(),
            to: Peer::User(account(1)),
            name: "压测文件.bin".into(),
            size: data.len() as u64,
        },
    )
    .await?;
    offset_reply(&mut socket).await?;
    let chunks: Vec<&[u8]> = data.chunks(CHUNK).collect();
    let (mut sent, mut acked) = (0usize, 0usize);
    while acked < chunks.len() {
        while sent < chunks.len() && sent - acked < window.max(1) {
            send_packet(
                &mut socket,
                &Upload::Chunk {
                    cid: cid.clone(),
                    offset: (sent * CHUNK) as u64,
                    data: chunks[sent].to_vec(),
                },
            )
            .await?;
            sent += 1;
        }
        offset_reply(&mut socket).await?;
        acked += 1;
    }
    send_packet(&mut socket, &Upload::Send { cid: cid.clone() }).await?;
    let payload = next_payload(&mut socket).await.context("no ack")?;
    let ack: SendAck =
        serde_json::from_str(&payload).with_context(|| format!("not an ack: {payload}"))?;
    let upload = started.elapsed().as_secs_f64();
    let stored = ack.content.context("the stored name")?;
    println!(
        "  upload: {:.2} s, {:.1} MiB/s (start → every chunk flushed and acknowledged → message committed); server resident {:.1} MiB, peak {:.1} MiB",
        upload,
        mib(data.len() as f64) / upload,
        kib(server.resident_kib()),
        kib(server.peak_kib())
    );

    // The download, streamed: read and hashed as it comes.
    let ticket = Ticket::mint(
        &TicketKey::from_token(&reader_token),
        SessionTag::from_token(&reader_token),
        &stored,
        expiry_for(penpen_server_mock::context::now_ms()),
    );
    let addr = server.addr(Service::Files);
    let started = Instant::now();
    let mut tcp = tokio::net::TcpStream::connect(addr).await?;
    tcp.write_all(
        format!("GET /files/{stored}?ticket={ticket} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .await?;
    let mut buffer = vec![0u8; 256 * 1024];
    let mut head = Vec::new();
    let mut hasher = Sha256::new();
    let mut body = 0usize;
    let mut in_body = false;
    let mut chunked = false;
    let mut raw_body = Vec::new();
    loop {
        let n = tcp.read(&mut buffer).await?;
        if n == 0 {
            break;
        }
        if in_body {
            if chunked {
                raw_body.extend_from_slice(&buffer[..n]);
            } else {
                hasher.update(&buffer[..n]);
                body += n;
            }
            continue;
        }
        head.extend_from_slice(&buffer[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            let text = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
            if !text.starts_with("http/1.1 200") {
                bail!(
                    "download refused: {}",
                    text.lines().next().unwrap_or_default()
                );
            }
            chunked = text.contains("transfer-encoding: chunked");
            let rest = head[end + 4..].to_vec();
            if chunked {
                raw_body.extend_from_slice(&rest);
            } else {
                hasher.update(&rest);
                body += rest.len();
            }
            in_body = true;
        }
    }
    if chunked {
        bail!("the server sent a chunked body; expected a Content-Length");
    }
    let download = started.elapsed().as_secs_f64();
    if body != data.len() || hasher.finalize() != expected {
        bail!("the download differs: {body} bytes");
    }
    println!(
        "  download: {:.2} s, {:.1} MiB/s, byte-identical; server resident {:.1} MiB, peak (VmHWM) {:.1} MiB",
        download,
        mib(data.len() as f64) / download,
        kib(server.resident_kib()),
        kib(server.peak_kib())
    );
    Ok(())
}

//! Files of any kind through the engine (§15.6) against the simulated
//! server: chunks read from the driver one at a time, resumed from the
//! server's offset after a drop or a reload, cancelled by the user.

use crate::sim::{Net, ready};
use penpen_core::cache::Cache;
use penpen_core::packets::message::MessageType;
use penpen_core::sync::{Connection, SendError, UPLOAD_CHUNK_BYTES};
use penpen_core::{GroupId, Peer};

const A: usize = 0;
const B: usize = 1;
const MIB: usize = 1024 * 1024;

fn two_people() -> (Net, Peer, Peer) {
    let mut net = Net::new(3);
    net.log_in(1);
    net.log_in(2);
    net.run_for(5_000);
    for client in &net.clients {
        assert_eq!(client.engine.connection(), Connection::Connected);
    }
    (
        net,
        Peer::User(crate::sim::user(2)),
        Peer::User(crate::sim::user(1)),
    )
}

fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed)
        .collect()
}

/// The one stored file's bytes, and the file messages B received.
fn arrived(net: &Net, from_a: &Peer) -> (Vec<u8>, usize) {
    assert_eq!(net.server.files.len(), 1, "stored once");
    let file = net.server.files.values().next().expect("a file").clone();
    let messages = net.clients[B]
        .timeline(from_a)
        .into_iter()
        .filter(|m| m.kind == MessageType::File)
        .count();
    (file, messages)
}

#[test]
fn a_file_goes_in_chunks_read_one_at_a_time_and_arrives_byte_identical() {
    let (mut net, to_b, to_a) = two_people();
    let data = bytes(3 * MIB + 12_345, 1);
    let cid = net.send_upload(A, to_b.clone(), "季度报告.pdf", data.clone());
    upload_until(&mut net, 1);
    // The outbox entry, as cached, never holds the bytes.
    let cached = ready(net.clients[A].cache.load()).expect("load").outbox;
    assert_eq!(cached.len(), 1);
    assert!(cached[0].file.is_none());
    assert!(serde_json::to_string(&cached[0]).expect("json").len() < 1000);
    net.clients[A].hold_reads = false;
    net.read_chunks(A);
    net.run_for(10_000);

    let (file, messages) = arrived(&net, &to_a);
    assert!(file == data, "byte-identical");
    assert_eq!(messages, 1);
    assert_eq!(net.server.largest_chunk, UPLOAD_CHUNK_BYTES as usize);
    let received = net.clients[B].timeline(&to_a).pop().expect("the file");
    assert_eq!(received.name.as_deref(), Some("季度报告.pdf"));
    assert_eq!(received.size, Some(data.len() as u64));
    // The sender's timeline has it too, from the ack; the driver let go of the bytes.
    let mine = net.clients[A].timeline(&to_b).pop().expect("sent");
    assert_eq!(
        (mine.kind, mine.cid.as_ref()),
        (MessageType::File, Some(&cid))
    );
    assert_eq!(mine.name.as_deref(), Some("季度报告.pdf"));
    assert!(net.clients[A].files.is_empty());
    assert!(net.clients[A].engine.outbox_of(&to_b).is_empty());
    assert!(
        ready(net.clients[A].cache.load())
            .expect("load")
            .outbox
            .is_empty()
    );

    // In a group it is a type-15 message.
    let group = Peer::Group(GroupId::new(7).expect("gid"));
    net.send_upload(B, group.clone(), "notes.txt", b"hello".to_vec());
    net.run_for(5_000);
    let last = net.clients[A].timeline(&group).pop().expect("group file");
    assert_eq!((last.kind, last.size), (MessageType::GroupFile, Some(5)));
}

/// Lets the upload of A go until the server holds `chunks` chunks, with
/// the next read held back.
fn upload_until(net: &mut Net, chunks: usize) {
    net.clients[A].hold_reads = true;
    for _ in 0..chunks {
        net.run_for(1_000);
        net.read_chunks(A);
    }
    net.run_for(1_000);
    let held = net
        .server
        .uploads
        .values()
        .next()
        .expect("under way")
        .data
        .len();
    assert_eq!(held, chunks * MIB);
}

#[test]
fn a_dropped_connection_mid_upload_resumes_from_the_servers_offset() {
    let (mut net, to_b, to_a) = two_people();
    let data = bytes(4 * MIB + 7, 2);
    let cid = net.send_upload(A, to_b.clone(), "a.zip", data.clone());
    upload_until(&mut net, 2);
    let entry = net.clients[A].engine.outbox_of(&to_b)[0].clone();
    assert_eq!(entry.upload.as_ref().map(|u| u.sent), Some(2 * MIB as u64));

    net.drop_connections(A);
    // The read asked for before the drop comes back late: it is not sent.
    net.read_chunks(A);
    net.clients[A].hold_reads = false;
    net.run_for(60_000);

    let (file, messages) = arrived(&net, &to_a);
    assert!(file == data, "byte-identical after the resume");
    assert_eq!(messages, 1, "arrives once");
    assert!(net.clients[A].engine.outbox_of(&to_b).is_empty());
    assert!(!net.clients[A].files.contains_key(&cid));
}

#[test]
fn a_reload_mid_upload_goes_on_from_the_outbox() {
    let (mut net, to_b, to_a) = two_people();
    let data = bytes(3 * MIB, 3);
    net.send_upload(A, to_b.clone(), "视频.mp4", data.clone());
    upload_until(&mut net, 1);
    // The cached entry says how far it got, for the progress bar after the reload.
    let cached = ready(net.clients[A].cache.load()).expect("load").outbox;
    assert_eq!(cached[0].upload.as_ref().map(|u| u.sent), Some(MIB as u64));

    net.reload(A);
    net.clients[A].hold_reads = false;
    net.run_for(30_000);
    let (file, messages) = arrived(&net, &to_a);
    assert!(file == data, "byte-identical after the reload");
    assert_eq!(messages, 1);
}

#[test]
fn a_cancelled_upload_leaves_nothing_and_a_too_large_one_is_refused() {
    let (mut net, to_b, to_a) = two_people();
    let cid = net.send_upload(A, to_b.clone(), "big.bin", bytes(3 * MIB, 4));
    upload_until(&mut net, 1);
    let now = net.now;
    net.clients[A].engine.cancel_upload(&cid, now);
    net.clients[A].hold_reads = false;
    net.read_chunks(A);
    net.run_for(10_000);
    assert!(net.server.uploads.is_empty(), "the server was told");
    assert!(net.server.files.is_empty());
    assert!(
        net.clients[A].files.is_empty(),
        "the driver let go of the bytes"
    );
    assert!(net.clients[A].engine.outbox_of(&to_b).is_empty());
    assert!(
        ready(net.clients[A].cache.load())
            .expect("load")
            .outbox
            .is_empty()
    );
    assert!(net.clients[B].timeline(&to_a).is_empty());

    let now = net.now;
    let refused = net.clients[A].engine.send_upload(
        to_b.clone(),
        "huge.iso".into(),
        penpen_core::limits::MAX_FILE_BYTES + 1,
        now,
    );
    assert!(matches!(refused, Err(SendError::FileTooLarge { .. })));
    let refused = net.clients[A].engine.send_upload(to_b, " ".into(), 5, now);
    assert_eq!(refused, Err(SendError::NoName));
}

#[test]
fn a_file_whose_bytes_are_gone_fails_instead_of_hanging() {
    let (mut net, to_b, _) = two_people();
    let cid = net.send_upload(A, to_b.clone(), "gone.txt", bytes(10, 5));
    net.clients[A].files.remove(&cid);
    net.run_for(5_000);
    let entry = net.clients[A].engine.outbox_of(&to_b)[0].clone();
    assert!(
        matches!(entry.state, penpen_core::cache::OutboxState::Failed { .. }),
        "{:?}",
        entry.state
    );
    // Deleting the failed entry lets the driver forget the file too.
    net.clients[A].files.insert(cid.clone(), bytes(10, 5));
    net.clients[A].engine.discard(&cid);
    net.run_for(1_000);
    assert!(net.clients[A].engine.outbox_of(&to_b).is_empty());
    assert!(net.clients[A].files.is_empty());
}

//! Message search through the real UI: Chinese substrings and Latin words in
//! any case, across conversations and inside one, highlighted, and a hit
//! opens its conversation at the message; and the server's search of all
//! history (§17) finding, for a fresh browser, a message it never cached.

use anyhow::Context as _;
use futures_util::{SinkExt, StreamExt};
use penpen_core::packets::Packet;
use penpen_core::packets::groups::{
    GroupCreate, GroupCreated, GroupMembersChange, GroupUpdated, Members, MembersAction,
};
use penpen_core::packets::login::{Login, LoginReply};
use penpen_core::packets::message::{MessageType, SendAck, SendText};
use penpen_core::{Encoding, ErrorReply, Frame, GroupId, Peer, Service, UserId, digest};
use penpen_e2e::Harness;
use penpen_e2e::app::{
    LI, PASSWORD, TECH_GROUP, WANG, ZHANG, log_in, open_chat, row, screenshots, send,
};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_messages_and_jumps_to_them() -> anyhow::Result<()> {
    Harness::run("search", |harness| async move {
        let zhang = harness.open_app("zhang").await?;
        let outcome = async {
            log_in(&zhang, ZHANG).await?;
            open_chat(&zhang, TECH_GROUP).await?;
            send(&zhang, "Quarterly REPORT 已上传，请大家查收").await?;
            zhang
                .wait_for_count("#chat .message__state[data-state=\"queued\"]", 0)
                .await?;

            // Across every conversation: the demo history and what was just sent.
            zhang.click("#search-messages").await?;
            zhang.type_into("#search-input", "查收").await?;
            zhang
                .wait_for_attribute("#search-summary", "data-total", "2")
                .await?;
            zhang
                .wait_for_count_with_text(".search-hit mark", "查收", 2)
                .await?;
            // Latin words in any case; the original case is what is shown.
            zhang.type_into("#search-input", "report").await?;
            zhang
                .wait_for_attribute("#search-summary", "data-total", "1")
                .await?;
            zhang.wait_for_text(".search-hit mark", "REPORT").await?;
            zhang.type_into("#search-input", "辛苦").await?;
            zhang
                .wait_for_attribute(".search-hit", "data-peer", WANG)
                .await?;
            screenshots(&zhang, "search").await?;

            // A hit opens its conversation with the message marked.
            zhang.click(".search-hit .conversation__open").await?;
            zhang.wait_for_attribute("#chat", "data-peer", WANG).await?;
            zhang
                .wait_for_count_with_text("#chat .chat__row--focus", "好的，辛苦了", 1)
                .await?;

            // Inside one conversation, only its messages.
            zhang.click("#chat-search").await?;
            zhang.type_into("#search-input", "查收").await?;
            zhang
                .wait_for_attribute("#search-summary", "data-total", "0")
                .await?;
            zhang.type_into("#search-input", "演示").await?;
            zhang
                .wait_for_attribute("#search-summary", "data-total", "1")
                .await?;
            Ok(())
        }
        .await;
        zhang.finish(outcome).await
    })
    .await
}

/// A raw client socket to one service of the test's server, as another
/// device would speak to it (the seeding needs no browser).
struct Raw {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Raw {
    async fn open(offset: u16, service: Service, token: Option<&str>) -> anyhow::Result<Raw> {
        let port = service
            .port_with_offset(offset)
            .with_context(|| format!("{service} has no port at offset {offset}"))?;
        let url = match token {
            Some(token) => format!("ws://127.0.0.1:{port}/?token={token}"),
            None => format!("ws://127.0.0.1:{port}/"),
        };
        let (socket, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .with_context(|| format!("connecting to {service}"))?;
        Ok(Raw { socket })
    }

    /// Sends `packet` and reads its reply (a refusal is an error).
    async fn ask<T: Packet, R: Packet>(&mut self, packet: &T) -> anyhow::Result<R> {
        self.socket
            .send(WsMessage::text(Frame::encode(Encoding::Base64, packet)?))
            .await?;
        loop {
            let message = tokio::time::timeout(Duration::from_secs(20), self.socket.next())
                .await
                .with_context(|| format!("no reply to {} within 20 s", T::NAME))?
                .context("the server closed the socket")??;
            let WsMessage::Text(text) = message else {
                continue;
            };
            let frame = Frame::decode(text.as_str())?;
            if let Ok(reply) = frame.packet::<R>() {
                return Ok(reply);
            }
            let refusal: ErrorReply = frame
                .packet()
                .with_context(|| format!("neither a {} nor a refusal", R::NAME))?;
            anyhow::bail!("{} refused: {refusal:?}", T::NAME);
        }
    }
}

/// 王建国's other device, long before: a group with 陈静 whose history is
/// `early` texts, the hit, then `later` texts; then 张伟 is added. Its gid.
async fn seed_old_group(offset: u16, early: usize, later: usize) -> anyhow::Result<GroupId> {
    let wang = UserId::parse(WANG).context("an account")?;
    let mut stream = Raw::open(offset, Service::Login, None).await?;
    let login: LoginReply = stream
        .ask(&Login {
            user: wang.clone(),
            password: digest::password_digest(PASSWORD),
        })
        .await?;
    let token = Some(login.token.as_str());
    let member = |accounts: &[&str]| -> anyhow::Result<Members> {
        Ok(Members(
            accounts
                .iter()
                .map(|a| UserId::parse(a).context("an account"))
                .collect::<anyhow::Result<_>>()?,
        ))
    };
    let created: GroupCreated = Raw::open(offset, Service::GroupCreate, token)
        .await?
        .ask(&GroupCreate {
            holder: wang.clone(),
            name: "去年的项目".into(),
            member: member(&[WANG, LI])?,
        })
        .await?;
    let mut texts = Raw::open(offset, Service::GroupText, token).await?;
    let lines = (0..early)
        .map(|n| format!("早期讨论 {n}"))
        .chain([OLD_HIT.to_owned()])
        .chain((0..later).map(|n| format!("进度更新 {n}")));
    for content in lines {
        let _: SendAck = texts
            .ask(&SendText {
                from: wang.clone(),
                to: Peer::Group(created.gid),
                kind: MessageType::GroupText,
                content,
                quote: None,
                mentions: None,
                mention_all: false,
                cid: None,
            })
            .await?;
    }
    let _: GroupUpdated = Raw::open(offset, Service::GroupMembers, token)
        .await?
        .ask(&GroupMembersChange {
            gid: created.gid,
            action: MembersAction::Add,
            member: member(&[ZHANG])?,
        })
        .await?;
    Ok(created.gid)
}

/// The message 张伟's device never received: sent before he joined.
const OLD_HIT: &str = "去年的预算表放在共享盘了";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_browser_finds_a_message_it_never_cached_and_opens_it() -> anyhow::Result<()> {
    Harness::run("search-server", |harness| async move {
        // More history after the hit than one page of the server's history.
        let later = 120;
        let gid = seed_old_group(harness.port_offset(), 30, later).await?;
        let zhang = harness.open_app("zhang").await?;
        let outcome = async {
            log_in(&zhang, ZHANG).await?;
            zhang.wait_for_count(&row(&gid.to_string()), 1).await?;

            zhang.click("#search-messages").await?;
            zhang.type_into("#search-input", "预算表").await?;
            // Nothing cached has it; the server does, marked as the server's.
            zhang
                .wait_for_attribute("#search-summary", "data-total", "0")
                .await?;
            zhang
                .wait_for_attribute("#search-server", "data-state", "done")
                .await?;
            zhang
                .wait_for_text("#search-server", "服务器上的更早消息")
                .await?;
            zhang
                .wait_for_count_with_text(".search-hit--server mark", "预算表", 1)
                .await?;
            screenshots(&zhang, "search-server").await?;

            // Opened at the hit: the history down to it is loaded (older
            // context above it too), the hit marked.
            zhang
                .click(".search-hit--server .conversation__open")
                .await?;
            zhang
                .wait_for_attribute("#chat", "data-peer", &gid.to_string())
                .await?;
            zhang
                .wait_for_count_with_text("#chat .chat__row--focus", OLD_HIT, 1)
                .await?;
            zhang
                .wait_for_count_with_text("#chat .chat__list li", "早期讨论 29", 1)
                .await?;
            screenshots(&zhang, "search-server-opened").await?;

            // And from there down to the present, without a hole.
            let newest = format!("进度更新 {}", later - 1);
            let mut seen = Vec::new();
            for _ in 0..200 {
                let found = zhang
                    .script(
                        "const s = document.querySelector('#chat .chat__messages');
                         s.scrollTop = s.scrollHeight;
                         return [...document.querySelectorAll('#chat .chat__list li')]
                           .map(li => li.textContent)
                           .filter(t => t.includes('进度更新 '))
                           .map(t => t.match(/进度更新 (\\d+)/)[1]);",
                    )
                    .await?;
                if let Some(numbers) = found.as_array() {
                    seen.extend(
                        numbers
                            .iter()
                            .filter_map(|n| n.as_str()?.parse::<usize>().ok()),
                    );
                }
                if seen.contains(&(later - 1)) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            seen.sort_unstable();
            seen.dedup();
            anyhow::ensure!(
                seen == (0..later).collect::<Vec<_>>(),
                "scrolling down from the hit to {newest} shows every message: {seen:?}"
            );

            // What was loaded is cached now; offline, only the cache is
            // searched, and the page says so.
            zhang.set_network_offline(true).await?;
            zhang
                .wait_for_attribute("#connection", "data-state", "offline")
                .await?;
            zhang.click("#chat-search").await?;
            zhang.type_into("#search-input", "预算表").await?;
            zhang
                .wait_for_attribute("#search-summary", "data-total", "1")
                .await?;
            zhang
                .wait_for_attribute("#search-server", "data-state", "offline")
                .await?;
            zhang
                .wait_for_text(".search__server-note", "离线时只能搜索本机消息")
                .await?;
            screenshots(&zhang, "search-server-offline").await?;
            Ok(())
        }
        .await;
        zhang.finish(outcome).await
    })
    .await
}

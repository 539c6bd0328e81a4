//! 20888 on the simulated server: login, resume, acks, heartbeats and the
//! pushes to live sessions.

use super::{Net, PASSWORD};
use penpen_core::digest::password_digest;
use penpen_core::packets::login::{LoginReply, Push, StreamRequest};
use penpen_core::{Encoding, Frame, Seq, Service, State, UserId};

impl Net {
    pub(super) fn stream_request(&mut self, index: usize, frame: &Frame) {
        let request = match StreamRequest::from_frame(frame) {
            Ok(request) => request,
            Err(e) => return self.refuse(index, Service::Login, State::BAD_PACKET, &e.to_string()),
        };
        // What the server pushes after the reply: the unacknowledged messages,
        // unless the client said it catches up itself.
        let mut backlog = true;
        let user = match request {
            StreamRequest::Read(mark) => return self.take_read_mark(index, mark.read),
            StreamRequest::Watch(watch) => return self.watch(index, watch.watch),
            StreamRequest::Login(login) => {
                if login.password != password_digest(PASSWORD)
                    || !self.server.accounts.contains_key(&login.user)
                {
                    return self.refuse(
                        index,
                        Service::Login,
                        State::LOGIN_FAILED,
                        "wrong account or password",
                    );
                }
                self.password_logins += 1;
                self.server.next_token += 1;
                let token = format!("token-{}", self.server.next_token);
                self.server.tokens.insert(token.clone(), login.user.clone());
                (login.user, token)
            }
            StreamRequest::Resume(resume) => {
                if self.server.tokens.get(&resume.token) != Some(&resume.user) {
                    return self.refuse(
                        index,
                        Service::Login,
                        State::SESSION_INVALID,
                        "token revoked",
                    );
                }
                backlog = !resume.catch_up;
                (resume.user, resume.token)
            }
            StreamRequest::Ack(ack) => {
                let Some(me) = self.clients[index]
                    .sockets
                    .get(&Service::Login)
                    .and_then(|s| s.user.clone())
                else {
                    return;
                };
                let account = self.server.accounts.get_mut(&me).expect("account");
                account.acked = account.acked.max(ack.ack.0.min(account.last_seq));
                return;
            }
            StreamRequest::Logout(_) => {
                let token = self.clients[index].token.clone().unwrap_or_default();
                self.server.tokens.remove(&token);
                return;
            }
            StreamRequest::Heartbeat(heartbeat) => {
                self.heartbeats += 1;
                return self.reply_packet(index, Service::Login, &heartbeat);
            }
        };
        let (who, token) = user;
        let name = self.server.accounts[&who].name.clone();
        if let Some(socket) = self.clients[index].sockets.get_mut(&Service::Login) {
            socket.user = Some(who.clone());
            socket.live = true;
        }
        self.reply_packet(
            index,
            Service::Login,
            &LoginReply {
                state: State::SUCCESS,
                user: who.clone(),
                token,
                name,
                broadcaster: false,
            },
        );
        self.replay_dings(index, &who);
        // The backlog: everything not acknowledged, oldest first.
        let acked = self.server.accounts[&who].acked;
        if !backlog {
            return;
        }
        for message in self.received_by(&who) {
            if message.seq > Some(Seq(acked)) {
                let frame = Frame::encode(Encoding::Base64, &Push::Message(Box::new(message)))
                    .expect("encode");
                self.clients[index]
                    .inbound
                    .push_back((Service::Login, frame));
            }
        }
    }

    /// Queues `frame` on every live stream of `who`.
    pub(super) fn push_live(&mut self, who: &UserId, frame: &str) {
        for client in &mut self.clients {
            let live = client.sockets.get(&Service::Login).is_some_and(|s| {
                s.live && s.user.as_ref() == Some(who) && !self.nodes_silent.contains(&s.node)
            });
            if live && client.online {
                client.inbound.push_back((Service::Login, frame.to_owned()));
            }
        }
    }
}

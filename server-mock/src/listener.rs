//! One port's accept loop: admission against the connection caps, the TLS
//! handshake when configured, HTTP/1.1 with a deadline for the request head,
//! and a write-stall timeout on every byte the server sends.

use crate::limits::{Admission, Connections};
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tower::ServiceExt;

/// Everything one port's loop needs.
pub(crate) struct Listener {
    pub(crate) tcp: TcpListener,
    pub(crate) router: Router,
    pub(crate) tls: Option<TlsAcceptor>,
    pub(crate) connections: Arc<Connections>,
    pub(crate) shutdown: watch::Receiver<bool>,
}

/// hyper's smallest allowed read buffer: request heads here are a URL with a
/// token and a few headers.
const MAX_REQUEST_HEAD: usize = 16 * 1024;

impl Listener {
    /// Accepts until the server stops, then waits for the HTTP connections
    /// to finish (upgraded WebSockets watch the stop signal themselves).
    pub(crate) async fn run(mut self) {
        let mut open = JoinSet::new();
        loop {
            let accepted = tokio::select! {
                accepted = self.tcp.accept() => accepted,
                _ = self.shutdown.wait_for(|stopped| *stopped) => break,
            };
            while open.try_join_next().is_some() {}
            let (tcp, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, most likely: waiting lets
                    // connections close instead of spinning on the error.
                    tracing::warn!(%err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let admission = match self.connections.admit_tcp(peer.ip()) {
                Ok(admission) => admission,
                Err(refusal) => {
                    tracing::debug!(%peer, %refusal, "refused a connection");
                    if self.tls.is_none() {
                        refuse_plain(&tcp, &refusal.to_string());
                    }
                    continue;
                }
            };
            // Frames are small and each should leave at once: without
            // TCP_NODELAY a second frame waits for the peer's delayed ACK.
            if let Err(err) = tcp.set_nodelay(true) {
                tracing::debug!(%err, "cannot set TCP_NODELAY");
            }
            open.spawn(serve(
                tcp,
                peer,
                admission,
                self.router.clone(),
                self.tls.clone(),
                self.connections.limits().clone(),
                self.shutdown.clone(),
            ));
        }
        while open.join_next().await.is_some() {}
    }
}

/// Answers a refused plain connection with a 503 and the reason, without
/// parsing the request or waiting: one non-blocking write, then close.
fn refuse_plain(tcp: &TcpStream, reason: &str) {
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reason}",
        reason.len()
    );
    let _ = tcp.try_write(response.as_bytes());
    // Drain what the client already sent, so closing sends FIN rather than
    // a reset that could discard the answer before the client reads it.
    let mut sink = [0u8; 1024];
    while matches!(tcp.try_read(&mut sink), Ok(n) if n > 0) {}
}

async fn serve(
    tcp: TcpStream,
    peer: SocketAddr,
    admission: Admission,
    router: Router,
    tls: Option<TlsAcceptor>,
    limits: crate::limits::ConnectionLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let stream = match tls {
        None => Stream::Plain(tcp),
        Some(acceptor) => {
            match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => Stream::Tls(Box::new(tls)),
                Ok(Err(err)) => {
                    tracing::debug!(%peer, %err, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            }
        }
    };
    let io = Guarded {
        stream,
        _admission: admission,
        send_timeout: limits.send_timeout,
        stall: None,
    };
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(request.map(axum::body::Body::new))
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.handshake_timeout)
        .max_buf_size(MAX_REQUEST_HEAD);
    let connection = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(connection);
    let mut stopping = false;
    loop {
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(err) = served {
                    tracing::debug!(%peer, %err, "HTTP connection ended");
                }
                return;
            }
            _ = shutdown.wait_for(|stopped| *stopped), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// A plain or TLS connection.
enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// A connection that holds its place among the open ones, and fails a write
/// that makes no progress for `send_timeout` (a peer that stopped reading).
///
/// The timeout sits here, below hyper and the WebSocket codec, so it covers
/// every write of every port (frames, file downloads, the TLS layer) and
/// measures progress rather than the time a large frame takes.
struct Guarded {
    stream: Stream,
    _admission: Admission,
    send_timeout: Duration,
    /// Armed while a write waits for the peer.
    stall: Option<Pin<Box<Sleep>>>,
}

impl Guarded {
    /// Called when a write could not proceed: fails it once the peer has
    /// accepted nothing for `send_timeout`.
    fn poll_stalled<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let timeout = self.send_timeout;
        let stall = self
            .stall
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(Instant::now() + timeout)));
        match stall.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the peer accepted nothing for {timeout:?}"),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn progressed(&mut self) {
        // Dropping the timer costs one allocation per stall, and stalls are
        // rare; keeping it would need resetting on every write.
        self.stall = None;
    }

    fn write_step<T>(
        &mut self,
        cx: &mut Context<'_>,
        step: impl FnOnce(&mut Stream, &mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match step(&mut self.stream, cx) {
            Poll::Ready(result) => {
                self.progressed();
                Poll::Ready(result)
            }
            Poll::Pending => self.poll_stalled(cx),
        }
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.get_mut().stream {
            Stream::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().write_step(cx, |stream, cx| match stream {
            Stream::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
        })
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().write_step(cx, |stream, cx| match stream {
            Stream::Plain(tcp) => Pin::new(tcp).poll_write_vectored(cx, bufs),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_write_vectored(cx, bufs),
        })
    }

    fn is_write_vectored(&self) -> bool {
        match &self.stream {
            Stream::Plain(tcp) => tcp.is_write_vectored(),
            Stream::Tls(tls) => tls.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().write_step(cx, |stream, cx| match stream {
            Stream::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
        })
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().write_step(cx, |stream, cx| match stream {
            Stream::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
        })
    }
}

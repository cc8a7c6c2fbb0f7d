//! The connection of the HTTP engine to a server: plain TCP, or TLS over TCP for
//! `server ... ssl` (rustls, with the server's `verify`, `ca-file` and `sni`). Both kinds are
//! parked in the idle pool and reused alike.
//!
//! rustls buffers ciphertext it could not write yet; a TCP stream has no such buffer, so
//! callers written for TCP never flush. To keep that true here, a TLS write first waits until
//! earlier ciphertext is out, and every read pushes pending ciphertext first: bytes written are
//! always on their way once the caller turns to reading the answer.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::ctx::ConnInfo;
use super::runtime::Server;
use super::tls::{self, ServerTls};

/// A connection to a server.
#[derive(Debug)]
pub enum ServerIo {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl ServerIo {
    /// The TCP socket underneath (for socket options).
    pub fn tcp(&self) -> &TcpStream {
        match self {
            ServerIo::Plain(s) => s,
            ServerIo::Tls(t) => t.get_ref().0,
        }
    }
}

/// Connects to `server` at `addr`: TCP, the PROXY header if configured, then the TLS
/// handshake when the server has `ssl` (its config in `tls_table`, by server uid).
/// A failed certificate verification is an error like a refused connection.
pub async fn connect(
    server: &Server,
    addr: SocketAddr,
    info: &ConnInfo,
    tls_table: &[Option<ServerTls>],
) -> io::Result<ServerIo> {
    let mut s = TcpStream::connect(addr).await?;
    let _ = s.set_nodelay(true);
    super::tcp::send_proxy_header(&server.cfg, &mut s, info).await;
    match tls_table.get(server.uid).and_then(|t| t.as_ref()) {
        None => Ok(ServerIo::Plain(s)),
        Some(t) => {
            let c = tokio_rustls::TlsConnector::from(t.config.clone());
            let tls = c.connect(tls::handshake_name(t, addr.ip()), s).await?;
            Ok(ServerIo::Tls(Box::new(tls)))
        }
    }
}

impl AsyncRead for ServerIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ServerIo::Plain(s) => Pin::new(s).poll_read(cx, buf),
            ServerIo::Tls(t) => {
                // push out ciphertext still buffered by rustls (registers for writability)
                let _ = Pin::new(&mut **t).poll_flush(cx);
                Pin::new(&mut **t).poll_read(cx, buf)
            }
        }
    }
}

/// A TLS write that leaves no ciphertext behind unannounced (see the module comment).
fn tls_write(
    t: &mut tokio_rustls::client::TlsStream<TcpStream>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    let mut t = Pin::new(t);
    match t.as_mut().poll_flush(cx) {
        Poll::Ready(Ok(())) => {}
        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
        Poll::Pending => return Poll::Pending,
    }
    let r = t.as_mut().poll_write(cx, buf);
    if matches!(r, Poll::Ready(Ok(_))) {
        let _ = t.poll_flush(cx);
    }
    r
}

impl AsyncWrite for ServerIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ServerIo::Plain(s) => Pin::new(s).poll_write(cx, buf),
            ServerIo::Tls(t) => tls_write(t, cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ServerIo::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            ServerIo::Tls(t) => {
                let first = bufs
                    .iter()
                    .find(|b| !b.is_empty())
                    .map_or(&[][..], |b| &b[..]);
                tls_write(t, cx, first)
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        matches!(self, ServerIo::Plain(_))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ServerIo::Plain(s) => Pin::new(s).poll_flush(cx),
            ServerIo::Tls(t) => Pin::new(&mut **t).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ServerIo::Plain(s) => Pin::new(s).poll_shutdown(cx),
            ServerIo::Tls(t) => Pin::new(&mut **t).poll_shutdown(cx),
        }
    }
}

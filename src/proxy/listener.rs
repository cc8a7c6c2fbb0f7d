//! Listening sockets for `bind` lines: IPv4/IPv6, port ranges, several addresses per line,
//! `fd@N` inherited sockets (as VTest passes them), SO_REUSEPORT and backlog.
//!
//! Sockets are created as plain std sockets before the async runtime starts (and before
//! daemonizing), so bind errors are reported in the foreground as HAProxy does.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{FromRawFd, RawFd};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::haproxy::ir;

/// One bound, listening socket and the frontend it feeds.
#[derive(Debug)]
pub struct BoundListener {
    pub frontend: usize,
    pub socket: std::net::TcpListener,
    pub local: SocketAddr,
    /// Bind options of the line it came from.
    pub options: ir::BindOptions,
    /// The address as written, for messages.
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("Starting {kind} {proxy}: cannot bind socket (Address already in use) [{addr}]")]
    InUse {
        kind: &'static str,
        proxy: String,
        addr: String,
    },
    #[error("Starting {kind} {proxy}: cannot bind socket ({err}) [{addr}]")]
    Io {
        kind: &'static str,
        proxy: String,
        addr: String,
        err: std::io::Error,
    },
    #[error("Starting {kind} {proxy}: fd@{fd} is not a usable socket [{addr}]")]
    BadFd {
        kind: &'static str,
        proxy: String,
        addr: String,
        fd: RawFd,
    },
    #[error("Starting {kind} {proxy}: address family not supported yet in this engine [{addr}]")]
    Unsupported {
        kind: &'static str,
        proxy: String,
        addr: String,
    },
}

/// Default listen backlog when neither the bind, the frontend, nor maxconn give one.
const DEFAULT_BACKLOG: i32 = 1024;

/// Binds every address of `bind` for frontend index `frontend`.
pub fn bind_all(
    proxy: &ir::Proxy,
    frontend: usize,
    bind: &ir::Bind,
    out: &mut Vec<BoundListener>,
) -> Result<(), BindError> {
    let kind = proxy.kind.keyword();
    let backlog = bind
        .options
        .backlog
        .or(proxy.backlog)
        .or(bind.options.maxconn)
        .or(proxy.maxconn)
        .map(|b| b.min(i32::MAX as u32) as i32)
        .unwrap_or(DEFAULT_BACKLOG)
        .max(16);
    for addr in &bind.addrs {
        match addr {
            ir::ListenAddr::Inet { ip, ports, v6only } => {
                for port in ports.low..=ports.high {
                    let sa = SocketAddr::new(*ip, port);
                    let v6only = *v6only || bind.options.v6only;
                    let socket = bind_inet(sa, v6only, backlog).map_err(|err| {
                        let a = fmt_addr(sa);
                        if err.kind() == std::io::ErrorKind::AddrInUse {
                            BindError::InUse {
                                kind,
                                proxy: proxy.name.clone(),
                                addr: a,
                            }
                        } else {
                            BindError::Io {
                                kind,
                                proxy: proxy.name.clone(),
                                addr: a,
                                err,
                            }
                        }
                    })?;
                    let local = socket.local_addr().unwrap_or(sa);
                    out.push(BoundListener {
                        frontend,
                        socket,
                        local,
                        options: bind.options.clone(),
                        text: bind.addr_text.clone(),
                    });
                }
            }
            ir::ListenAddr::Fd { fd } => {
                let socket = inherit_fd(*fd, backlog).ok_or_else(|| BindError::BadFd {
                    kind,
                    proxy: proxy.name.clone(),
                    addr: bind.addr_text.clone(),
                    fd: *fd,
                })?;
                let local = socket
                    .local_addr()
                    .unwrap_or(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0));
                out.push(BoundListener {
                    frontend,
                    socket,
                    local,
                    options: bind.options.clone(),
                    text: bind.addr_text.clone(),
                });
            }
            _ => {
                return Err(BindError::Unsupported {
                    kind,
                    proxy: proxy.name.clone(),
                    addr: bind.addr_text.clone(),
                });
            }
        }
    }
    Ok(())
}

fn fmt_addr(sa: SocketAddr) -> String {
    match sa.ip() {
        IpAddr::V4(_) => format!("{}:{}", sa.ip(), sa.port()),
        IpAddr::V6(_) => format!("[{}]:{}", sa.ip(), sa.port()),
    }
}

/// Creates, binds and listens on a TCP socket the way HAProxy does (SO_REUSEADDR,
/// SO_REUSEPORT, non-blocking).
pub fn bind_inet(
    sa: SocketAddr,
    v6only: bool,
    backlog: i32,
) -> std::io::Result<std::net::TcpListener> {
    let domain = if sa.is_ipv4() {
        Domain::IPV4
    } else {
        Domain::IPV6
    };
    let socket = Socket::new(
        domain,
        Type::STREAM.nonblocking().cloexec(),
        Some(Protocol::TCP),
    )?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    if sa.is_ipv6() {
        // `:::80` listens on both families unless v6only, as HAProxy's default.
        let unspecified = sa.ip() == IpAddr::V6(Ipv6Addr::UNSPECIFIED);
        socket.set_only_v6(v6only || !unspecified)?;
    }
    socket.bind(&SockAddr::from(sa))?;
    socket.listen(backlog)?;
    Ok(socket.into())
}

/// Takes over an inherited listening socket (`fd@N`). Returns None when `fd` is not an open
/// stream socket.
fn inherit_fd(fd: RawFd, backlog: i32) -> Option<std::net::TcpListener> {
    if fd < 0 {
        return None;
    }
    // SAFETY: fcntl(F_GETFD) only queries the descriptor table; it is valid for any integer.
    let open = unsafe { libc::fcntl(fd, libc::F_GETFD) } >= 0;
    if !open {
        return None;
    }
    let mut ty: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `ty`, which is a c_int.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&mut ty as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc != 0 || ty != libc::SOCK_STREAM {
        return None;
    }
    // SAFETY: `fd` is an open stream socket handed to this process for exclusive use by the
    // `fd@` bind; ownership moves into the Socket, which closes it on drop.
    let socket = unsafe { Socket::from_raw_fd(fd) };
    socket.set_nonblocking(true).ok()?;
    socket.set_cloexec(true).ok()?;
    socket.listen(backlog).ok()?;
    Some(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_port_ranges_and_reports_busy_ports() {
        let first = bind_inet("127.0.0.1:0".parse().unwrap(), false, 16).unwrap();
        let port = first.local_addr().unwrap().port();
        let proxy = ir::Proxy {
            kind: ir::ProxyKind::Frontend,
            name: "fe".into(),
            ..Default::default()
        };
        // SO_REUSEPORT lets the same port be bound twice by this process, as HAProxy does.
        let bind = ir::Bind {
            addrs: vec![ir::ListenAddr::Inet {
                ip: "127.0.0.1".parse().unwrap(),
                ports: ir::PortRange {
                    low: port,
                    high: port,
                },
                v6only: false,
            }],
            addr_text: format!("127.0.0.1:{port}"),
            options: Default::default(),
            span: Default::default(),
        };
        let mut out = Vec::new();
        bind_all(&proxy, 0, &bind, &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].local.port(), port);
        let bad = ir::Bind {
            addrs: vec![ir::ListenAddr::Fd { fd: 99999 }],
            ..bind
        };
        assert!(matches!(
            bind_all(&proxy, 0, &bad, &mut out),
            Err(BindError::BadFd { .. })
        ));
    }
}

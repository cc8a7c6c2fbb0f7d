//! keepalived's `virtual_server` (LVS) without kernel IPVS.
//!
//! - [`sched`]: the IPVS schedulers (rr, wrr, lc, wlc, sh, dh, lblc, sed, nq) and persistence.
//! - [`check`]: the health checkers (TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK, DNS_CHECK,
//!   SMTP_CHECK) with keepalived's retry / delay semantics.
//! - [`pool`]: keepalived's `ipwrapper` logic: which real servers are in the service, quorum,
//!   hysteresis, sorry server, inhibit_on_failure, notify scripts.
//! - [`forward`]: [`forward::UserspaceBackend`], the [`LvsBackend`] that proxies TCP connections
//!   (IPVS NAT semantics as seen by the client). A kernel IPVS (netlink) backend can implement the
//!   same trait.
//! - [`genhash`]: `rkeepalived --genhash`.
//!
//! ## Who serves the VIP
//! Listening sockets use `IP_FREEBIND`, so they can be bound before VRRP assigns the virtual
//! address. The kernel delivers connections to them only while the address is local, i.e. while
//! this node is VRRP MASTER; as BACKUP the VIP lives elsewhere and nothing reaches us. This needs no
//! coupling with the VRRP engine and follows the address however it gets assigned.
pub mod check;
pub mod forward;
pub mod genhash;
pub mod pool;
pub mod sched;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::keepalived::ir::{
    CheckerKind, KeepalivedConfig, LbAlgo, LbKind, Protocol, VirtualServer, VirtualServerAddress,
    VirtualServerGroupMember,
};
use crate::keepalived::report::{ErrorClass, Finding};

/// Identifies a virtual service inside a backend (index in the configuration).
pub type ServiceId = usize;

/// A virtual service as a backend sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSpec {
    pub id: ServiceId,
    /// keepalived's `FMT_VS` text, e.g. `[10.0.0.10]:tcp:80`.
    pub name: String,
    /// Every address:port the service answers on (one, or each member of a group).
    pub listen: Vec<SocketAddr>,
    pub protocol: Protocol,
    pub algo: LbAlgo,
    /// `persistence_timeout` and `persistence_granularity`.
    pub persistence: Option<(Duration, Option<IpAddr>)>,
    /// How long the forwarder waits for a real server's connection.
    pub connect_timeout: Duration,
}

/// A destination (real server or sorry server) as a backend sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DestSpec {
    pub addr: SocketAddr,
    pub weight: i32,
    pub uthreshold: u32,
}

/// Errors of a backend.
#[derive(Debug, thiserror::Error)]
pub enum LvsError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0} is not supported by this backend")]
    Unsupported(String),
}

/// What the health-check side needs from a load balancer: IPVS's service / destination
/// commands. Implemented in user space by [`forward::UserspaceBackend`].
pub trait LvsBackend: Send + Sync {
    fn add_service(&self, spec: &ServiceSpec) -> Result<(), LvsError>;
    fn del_service(&self, id: ServiceId);
    fn add_dest(&self, id: ServiceId, dest: DestSpec);
    fn edit_dest(&self, id: ServiceId, dest: DestSpec);
    fn del_dest(&self, id: ServiceId, addr: SocketAddr);
}

/// `tcp` / `udp` / `sctp` as keepalived prints them.
pub fn proto_name(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Sctp => "sctp",
    }
}

/// keepalived's `inet_sockaddrtotrio`: `[10.0.0.2]:tcp:80`.
pub fn fmt_trio(addr: SocketAddr, p: Protocol) -> String {
    format!("[{}]:{}:{}", addr.ip(), proto_name(p), addr.port())
}

/// The addresses a virtual server listens on (group members expanded; fwmark: none).
pub fn listen_addrs(cfg: &KeepalivedConfig, vs: &VirtualServer) -> Vec<SocketAddr> {
    match &vs.address {
        VirtualServerAddress::Ip { addr, port } => vec![SocketAddr::new(*addr, *port)],
        VirtualServerAddress::Fwmark(_) => Vec::new(),
        VirtualServerAddress::Group(name) => {
            let Some(g) = cfg.virtual_server_groups.iter().find(|g| &g.name == name) else {
                return Vec::new();
            };
            let mut out = Vec::new();
            for m in &g.members {
                if let VirtualServerGroupMember::Address {
                    addr,
                    range_end,
                    port,
                    ..
                } = m
                {
                    let port = port.unwrap_or(0);
                    match (addr, range_end) {
                        (IpAddr::V4(a), Some(end)) => {
                            let o = a.octets();
                            for last in o[3] as u16..=(*end).min(255) {
                                out.push(SocketAddr::new(
                                    IpAddr::from([o[0], o[1], o[2], last as u8]),
                                    port,
                                ));
                            }
                        }
                        (IpAddr::V6(a), Some(end)) => {
                            let mut s = a.segments();
                            for last in s[7]..=*end {
                                s[7] = last;
                                out.push(SocketAddr::new(IpAddr::from(s), port));
                            }
                        }
                        _ => out.push(SocketAddr::new(*addr, port)),
                    }
                }
            }
            out
        }
    }
}

/// keepalived's `FMT_VS` for a virtual server.
pub fn vs_name(vs: &VirtualServer) -> String {
    let proto = vs.protocol.unwrap_or(Protocol::Udp);
    match &vs.address {
        VirtualServerAddress::Ip { addr, port } => fmt_trio(SocketAddr::new(*addr, *port), proto),
        VirtualServerAddress::Fwmark(m) => format!("FWM {m}"),
        VirtualServerAddress::Group(g) => format!("[{g}]:0"),
    }
}

/// What rkeepalived cannot do as keepalived with kernel IPVS would: one note per construct,
/// located at its line. Reported by `-t` (as notices, which do not change the exit status) and
/// logged at start-up.
pub fn config_notes(cfg: &KeepalivedConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut note = |span, msg: String| {
        out.push(Finding::new(ErrorClass::Info, Some(span), msg).child());
    };
    for vs in &cfg.virtual_servers {
        let name = vs_name(vs);
        if let VirtualServerAddress::Fwmark(m) = vs.address {
            note(
                vs.span,
                format!(
                    "virtual_server fwmark {m}: firewall-mark services need kernel IPVS; \
                     rkeepalived's user-space balancer does not serve it"
                ),
            );
        }
        if let VirtualServerAddress::Group(g) = &vs.address {
            if let Some(grp) = cfg.virtual_server_groups.iter().find(|x| &x.name == g) {
                for m in &grp.members {
                    if let VirtualServerGroupMember::Fwmark { mark, span } = m {
                        note(
                            *span,
                            format!(
                                "virtual_server_group {g}: fwmark {mark} needs kernel IPVS; \
                                 this member is not served"
                            ),
                        );
                    }
                }
            }
        }
        if vs.protocol == Some(Protocol::Sctp) {
            note(
                vs.span,
                format!(
                    "virtual_server {name}: protocol SCTP is not served by rkeepalived's \
                     user-space balancer (TCP and UDP only); health checks still run"
                ),
            );
        }
        let kinds = std::iter::once((vs.lb_kind, vs.span))
            .chain(vs.real_servers.iter().map(|r| (r.lb_kind, r.span)));
        for (kind, span) in kinds {
            let k = match kind {
                Some(LbKind::Dr) => "DR",
                Some(LbKind::Tun) => "TUN",
                _ => continue,
            };
            note(
                span,
                format!(
                    "virtual_server {name}: lb_kind {k} needs kernel IPVS; rkeepalived proxies \
                     the connections in user space like NAT (real servers see the director's \
                     address and must answer it)"
                ),
            );
        }
        if let Some(algo) = vs.lb_algo {
            let fallback = match algo {
                LbAlgo::Lblcr => Some("lblc"),
                LbAlgo::Fo | LbAlgo::Ovf | LbAlgo::Mh | LbAlgo::Twos => Some("wlc"),
                _ => None,
            };
            if let Some(f) = fallback {
                note(
                    vs.span,
                    format!(
                        "virtual_server {name}: lb_algo {algo:?} is not implemented by \
                         rkeepalived; scheduling with {f}"
                    ),
                );
            }
        }
        if let Some(e) = &vs.persistence_engine {
            note(
                vs.span,
                format!("virtual_server {name}: persistence_engine {e} is not supported - ignored"),
            );
        }
        for rs in &vs.real_servers {
            for c in &rs.checkers {
                if let CheckerKind::Other(k) = &c.kind {
                    note(
                        c.span,
                        format!("{k} is not implemented by rkeepalived; the checker is ignored"),
                    );
                }
            }
        }
    }
    out
}

/// The running virtual servers; dropping it shuts them down (keepalived's exit path: servers
/// removed, `omega` scripts run) and waits for that.
pub struct LvsHandle {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for LvsHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the virtual servers of `cfg` with the user-space backend on their own multi-threaded
/// tokio runtime (a thread of this process, beside the VRRP engine's runtime), so proxying uses
/// every core and never delays VRRP adverts.
pub fn spawn(cfg: &KeepalivedConfig) -> Option<LvsHandle> {
    if cfg.virtual_servers.is_empty() {
        return None;
    }
    // What cannot be served (config_notes) was reported with file and line by the caller.
    let pools = pool::build(cfg);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
    let started = std::thread::Builder::new()
        .name("lvs".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .thread_name("lvs-worker")
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    crate::vrrp::log::info(&format!("cannot start the LVS runtime: {e}"));
                    return;
                }
            };
            let backend: Arc<dyn LvsBackend> = Arc::new(forward::UserspaceBackend::new());
            rt.block_on(pool::run(pools, backend, stop_rx));
            rt.shutdown_timeout(std::time::Duration::from_secs(1));
        });
    match started {
        Ok(h) => Some(LvsHandle {
            stop: Some(stop_tx),
            thread: Some(h),
        }),
        Err(e) => {
            crate::vrrp::log::info(&format!("cannot start the LVS thread: {e}"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notes(text: &str) -> Vec<String> {
        let sys = crate::keepalived::system::HostSystem;
        let loaded = crate::keepalived::load_str("t.conf", text, None, &sys);
        config_notes(&loaded.config)
            .iter()
            .map(|f| {
                format!(
                    "{}: {}",
                    f.diag.span.map(|s| s.line).unwrap_or(0),
                    f.diag.message
                )
            })
            .collect()
    }

    #[test]
    fn notes_name_kernel_only_features_at_their_line() {
        let table: &[(&str, &[&str])] = &[
            (
                "virtual_server 10.0.0.1 80 {\n protocol TCP\n lb_kind NAT\n}\n",
                &[],
            ),
            (
                "virtual_server 10.0.0.1 80 {\n protocol TCP\n lb_kind TUN\n}\n",
                &["1: virtual_server [10.0.0.1]:tcp:80: lb_kind TUN needs kernel IPVS"],
            ),
            (
                "virtual_server 10.0.0.1 80 {\n protocol SCTP\n}\n",
                &["1: virtual_server [10.0.0.1]:sctp:80: protocol SCTP is not served"],
            ),
            (
                "virtual_server 10.0.0.1 80 {\n protocol TCP\n lb_algo mh\n}\n",
                &["1: virtual_server [10.0.0.1]:tcp:80: lb_algo Mh is not implemented"],
            ),
        ];
        for (text, want) in table {
            let got = notes(text);
            assert_eq!(got.len(), want.len(), "{text}: {got:?}");
            for (g, w) in got.iter().zip(want.iter()) {
                assert!(g.starts_with(w), "{g} !~ {w}");
            }
        }
    }

    #[test]
    fn group_members_expand_ranges() {
        let text = "virtual_server_group G {\n 10.0.0.1-3 80\n 10.0.0.9 81\n fwmark 4\n}\n\
                    virtual_server group G {\n protocol TCP\n}\n";
        let sys = crate::keepalived::system::HostSystem;
        let loaded = crate::keepalived::load_str("t.conf", text, None, &sys);
        let vs = &loaded.config.virtual_servers[0];
        let got: Vec<String> = listen_addrs(&loaded.config, vs)
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(
            got,
            ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.0.9:81"]
        );
    }

    #[test]
    fn locality_probe() {
        assert!(check::is_local(IpAddr::from([127, 0, 0, 1])));
        assert!(!check::is_local(IpAddr::from([192, 0, 2, 77])));
    }
}

//! The user-space [`LvsBackend`]: a TCP proxy (and a UDP flow relay) per virtual address.
//!
//! Each virtual address gets a listening socket bound with `IP_FREEBIND` (the VIP may not be
//! assigned yet; the kernel only delivers connections while it is). A new connection is
//! scheduled (persistence template first, then the service's scheduler), connected to the chosen
//! destination and streamed both ways with half-close, on one task. The destination's active
//! connection count feeds the lc / wlc / sed / nq schedulers.
//!
//! Scheduling state lives behind one short mutex per service, taken once per new connection (the
//! kernel takes the service's scheduler lock the same way); the data path takes no lock.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinHandle;

use super::sched::{Dest, Persistence, Scheduler};
use super::{DestSpec, LvsBackend, LvsError, ServiceId, ServiceSpec};
use crate::keepalived::ir::Protocol;
use crate::vrrp::log;

/// Scheduling state of one service.
struct Table {
    dests: Vec<Arc<Dest>>,
    sched: Scheduler,
    persistence: Option<Persistence>,
}

/// One virtual service being served.
pub struct Service {
    spec: ServiceSpec,
    table: Mutex<Table>,
    listeners: Mutex<Vec<JoinHandle<()>>>,
}

/// Releases a connection's hold on its destination (and persistence template) when dropped.
struct ConnGuard {
    service: Arc<Service>,
    dest: Arc<Dest>,
    client: IpAddr,
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.dest.active.fetch_sub(1, Ordering::Relaxed);
        if let Ok(mut t) = self.service.table.lock() {
            if let Some(p) = &mut t.persistence {
                p.release(self.client, Instant::now());
            }
        }
    }
}

impl Service {
    /// Picks a destination for a new connection (persistence template first).
    fn pick(self: &Arc<Self>, client: IpAddr, local: IpAddr) -> Option<ConnGuard> {
        let mut guard = self.table.lock().ok()?;
        let t = &mut *guard;
        let now = Instant::now();
        let from_template = t
            .persistence
            .as_mut()
            .and_then(|p| p.lookup(client, &t.dests, now));
        let i = match from_template {
            Some(i) => i,
            None => t.sched.schedule(&t.dests, client, local)?,
        };
        let dest = t.dests.get(i)?.clone();
        if let Some(p) = &mut t.persistence {
            p.bind(client, dest.addr, now);
        }
        dest.active.fetch_add(1, Ordering::Relaxed);
        Some(ConnGuard {
            service: self.clone(),
            dest,
            client,
        })
    }

    /// Destinations currently in the service: (address, weight, active connections).
    pub fn dests(&self) -> Vec<(SocketAddr, i32, u32)> {
        self.table
            .lock()
            .map(|t| {
                t.dests
                    .iter()
                    .map(|d| (d.addr, d.weight(), d.active()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The user-space balancer: services by id.
#[derive(Default)]
pub struct UserspaceBackend {
    services: Mutex<HashMap<ServiceId, Arc<Service>>>,
}

impl UserspaceBackend {
    pub fn new() -> Self {
        Self::default()
    }

    fn service(&self, id: ServiceId) -> Option<Arc<Service>> {
        self.services.lock().ok()?.get(&id).cloned()
    }

    fn with_table(&self, id: ServiceId, f: impl FnOnce(&mut Table)) {
        if let Some(s) = self.service(id) {
            if let Ok(mut t) = s.table.lock() {
                f(&mut t);
                let Table { dests, sched, .. } = &mut *t;
                sched.dests_changed(dests);
            }
        }
    }

    /// Destinations of a service (for dumps and tests).
    pub fn dests(&self, id: ServiceId) -> Vec<(SocketAddr, i32, u32)> {
        self.service(id).map(|s| s.dests()).unwrap_or_default()
    }
}

/// A listening socket that may bind an address not (yet) assigned here.
pub fn freebind_listener(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let sock = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    sock.set_reuse_address(true)?;
    if addr.is_ipv4() {
        sock.set_freebind(true)?;
    } else {
        sock.set_freebind_ipv6(true)?;
        sock.set_only_v6(true)?;
    }
    sock.set_nonblocking(true)?;
    sock.bind(&addr.into())?;
    sock.listen(1024)?;
    TcpListener::from_std(std::net::TcpListener::from(sock))
}

/// A UDP socket that may bind an address not (yet) assigned here.
pub fn freebind_udp(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let sock = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )?;
    sock.set_reuse_address(true)?;
    if addr.is_ipv4() {
        sock.set_freebind(true)?;
    } else {
        sock.set_freebind_ipv6(true)?;
        sock.set_only_v6(true)?;
    }
    sock.set_nonblocking(true)?;
    sock.bind(&addr.into())?;
    UdpSocket::from_std(std::net::UdpSocket::from(sock))
}

/// IPVS's default UDP timeout: a flow idle this long is forgotten.
const UDP_IDLE: std::time::Duration = std::time::Duration::from_secs(300);

/// One UDP flow (client address:port) bound to a destination.
struct UdpFlow {
    upstream: Arc<UdpSocket>,
    open: Arc<std::sync::atomic::AtomicBool>,
}

/// UDP: each client address:port is a flow scheduled once; replies go back from the VIP.
async fn udp_loop(service: Arc<Service>, socket: Arc<UdpSocket>) {
    let mut flows: HashMap<SocketAddr, UdpFlow> = HashMap::new();
    let mut buf = vec![0u8; 65536];
    loop {
        let (n, client) = match socket.recv_from(&mut buf).await {
            Ok(x) => x,
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let reuse = flows
            .get(&client)
            .filter(|f| f.open.load(Ordering::Relaxed))
            .map(|f| f.upstream.clone());
        let upstream = match reuse {
            Some(u) => u,
            None => {
                if flows.len() > 1024 {
                    flows.retain(|_, f| f.open.load(Ordering::Relaxed));
                }
                let local = socket
                    .local_addr()
                    .map(|a| a.ip())
                    .unwrap_or(IpAddr::from([0, 0, 0, 0]));
                let Some(guard) = service.pick(client.ip(), local) else {
                    continue;
                };
                let target = guard.dest.addr;
                let bind: SocketAddr = if target.is_ipv4() {
                    SocketAddr::from(([0, 0, 0, 0], 0))
                } else {
                    SocketAddr::from(([0u16; 8], 0))
                };
                let up = match UdpSocket::bind(bind).await {
                    Ok(u) => u,
                    Err(_) => continue,
                };
                if up.connect(target).await.is_err() {
                    continue;
                }
                let up = Arc::new(up);
                let open = Arc::new(std::sync::atomic::AtomicBool::new(true));
                tokio::spawn(udp_replies(
                    up.clone(),
                    socket.clone(),
                    client,
                    open.clone(),
                    guard,
                ));
                flows.insert(
                    client,
                    UdpFlow {
                        upstream: up.clone(),
                        open,
                    },
                );
                up
            }
        };
        let _ = upstream.send(&buf[..n]).await;
    }
}

/// Relays a flow's replies to the client until it is idle for [`UDP_IDLE`].
async fn udp_replies(
    upstream: Arc<UdpSocket>,
    socket: Arc<UdpSocket>,
    client: SocketAddr,
    open: Arc<std::sync::atomic::AtomicBool>,
    guard: ConnGuard,
) {
    let mut buf = vec![0u8; 65536];
    while let Ok(Ok(n)) = tokio::time::timeout(UDP_IDLE, upstream.recv(&mut buf)).await {
        let _ = socket.send_to(&buf[..n], client).await;
    }
    open.store(false, Ordering::Relaxed);
    drop(guard);
}

async fn accept_loop(service: Arc<Service>, listener: TcpListener) {
    loop {
        let (client, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                log::detail_info(&format!("accept on {}: {e}", service.spec.name));
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let svc = service.clone();
        tokio::spawn(async move {
            let local = client
                .local_addr()
                .map(|a| a.ip())
                .unwrap_or(IpAddr::from([0, 0, 0, 0]));
            let Some(guard) = svc.pick(peer.ip(), local) else {
                // IPVS drops the SYN; we close at once (the client sees a reset).
                return;
            };
            proxy(client, guard, svc.spec.connect_timeout).await;
        });
    }
}

async fn proxy(mut client: TcpStream, guard: ConnGuard, connect_timeout: std::time::Duration) {
    let target = guard.dest.addr;
    let upstream = tokio::time::timeout(connect_timeout, TcpStream::connect(target)).await;
    let mut upstream = match upstream {
        Ok(Ok(s)) => s,
        _ => {
            log::detail_info(&format!("connect to real server {target} failed"));
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    // copy_bidirectional forwards a FIN in each direction separately (half-close).
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    drop(guard);
}

impl LvsBackend for UserspaceBackend {
    fn add_service(&self, spec: &ServiceSpec) -> Result<(), LvsError> {
        let service = Arc::new(Service {
            spec: spec.clone(),
            table: Mutex::new(Table {
                dests: Vec::new(),
                sched: Scheduler::new(spec.algo),
                persistence: spec.persistence.map(|(t, g)| Persistence::new(t, g)),
            }),
            listeners: Mutex::new(Vec::new()),
        });
        if let Ok(mut m) = self.services.lock() {
            m.insert(spec.id, service.clone());
        }
        if spec.protocol == Protocol::Sctp {
            return Err(LvsError::Unsupported(format!(
                "protocol {} for VS {}",
                super::proto_name(spec.protocol),
                spec.name
            )));
        }
        let mut first_err = None;
        for addr in &spec.listen {
            let started = if spec.protocol == Protocol::Udp {
                freebind_udp(*addr).map(|u| tokio::spawn(udp_loop(service.clone(), Arc::new(u))))
            } else {
                freebind_listener(*addr).map(|l| tokio::spawn(accept_loop(service.clone(), l)))
            };
            match started {
                Ok(h) => {
                    if let Ok(mut v) = service.listeners.lock() {
                        v.push(h);
                    }
                }
                Err(source) => {
                    if first_err.is_none() {
                        first_err = Some(LvsError::Listen {
                            addr: *addr,
                            source,
                        });
                    }
                }
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn del_service(&self, id: ServiceId) {
        let removed = self.services.lock().ok().and_then(|mut m| m.remove(&id));
        if let Some(s) = removed {
            if let Ok(v) = s.listeners.lock() {
                for h in v.iter() {
                    h.abort();
                }
            }
        }
    }

    fn add_dest(&self, id: ServiceId, d: DestSpec) {
        self.with_table(id, |t| {
            if let Some(x) = t.dests.iter().find(|x| x.addr == d.addr) {
                x.weight.store(d.weight, Ordering::Relaxed);
            } else {
                t.dests
                    .push(Arc::new(Dest::new(d.addr, d.weight, d.uthreshold)));
            }
        });
    }

    fn edit_dest(&self, id: ServiceId, d: DestSpec) {
        self.add_dest(id, d);
    }

    fn del_dest(&self, id: ServiceId, addr: SocketAddr) {
        self.with_table(id, |t| {
            t.dests.retain(|x| x.addr != addr);
            if let Some(p) = &mut t.persistence {
                p.forget_dest(addr);
            }
        });
    }
}

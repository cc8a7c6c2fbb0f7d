//! Runtime structures compiled from the IR: frontends, backends and servers with their live
//! state (atomics), indexed by name. The configuration part is immutable; the whole
//! [`Runtime`] sits behind an `ArcSwap` so a later reload can swap it atomically.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::acl::CompiledCond;
use super::balance::{BalanceConf, Balancer, HashFunction, HashLookup, HashType, LbAlgo, LbServer};
use super::conn_limit::ConnLimit;
use super::cookie::CookiePersist;
use super::ctx::ProxyLookup;
use super::rules::RuleSet;
use super::sample::CompileEnv;
use super::server_state::{ServerSet, ServerState as LiveState};
use super::stick::{StickRules, StickTable};
use crate::haproxy::ir;

/// Counters shared by frontends, backends and servers (HAProxy's stats columns).
#[derive(Debug, Default)]
pub struct Counters {
    /// Current sessions (`scur`).
    pub cur: AtomicU32,
    /// Highest `cur` seen (`smax`).
    pub max: AtomicU32,
    /// Cumulated sessions (`stot`).
    pub total: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    /// Denied requests (`dreq`) and responses (`dresp`).
    pub denied_req: AtomicU64,
    pub denied_resp: AtomicU64,
    /// Request errors (`ereq`), connection errors (`econ`), response errors (`eresp`).
    pub err_req: AtomicU64,
    pub err_conn: AtomicU64,
    pub err_resp: AtomicU64,
    /// Retries (`wretr`) and redispatches (`wredis`).
    pub retries: AtomicU64,
    pub redispatches: AtomicU64,
    /// HTTP requests (`req_tot`).
    pub requests: AtomicU64,
    /// Responses by class 1xx..5xx and other (`hrsp_*`).
    pub hrsp: [AtomicU64; 6],
    /// Current queue length (`qcur`) and its max (`qmax`).
    pub queue_cur: AtomicU32,
    pub queue_max: AtomicU32,
    /// Times a server was selected (`lbtot`).
    pub lbtot: AtomicU64,
    pub cli_abort: AtomicU64,
    pub srv_abort: AtomicU64,
}

impl Counters {
    /// One more current session; returns the new count.
    pub fn enter(&self) -> u32 {
        let n = self.cur.fetch_add(1, Ordering::Relaxed) + 1;
        self.max.fetch_max(n, Ordering::Relaxed);
        self.total.fetch_add(1, Ordering::Relaxed);
        n
    }
    pub fn leave(&self) {
        self.cur.fetch_sub(1, Ordering::Relaxed);
    }
    pub fn count_status(&self, status: u16) {
        let i = match status {
            100..=199 => 0,
            200..=299 => 1,
            300..=399 => 2,
            400..=499 => 3,
            500..=599 => 4,
            _ => 5,
        };
        self.hrsp[i].fetch_add(1, Ordering::Relaxed);
    }
    pub fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }
}

/// Per-server counters and check details beside the load-balancing state (which lives in
/// the backend's [`ServerSet`]).
#[derive(Debug)]
pub struct ServerStats {
    /// Human text of the last check result (`L4OK`, `L7STS`...), and its detail.
    pub check_info: std::sync::Mutex<String>,
    /// Health counter as HAProxy keeps it: 0..rise+fall-1, up when >= rise.
    pub health: AtomicU32,
    pub check_fail: AtomicU64,
    pub downtime_secs: AtomicU64,
    pub counters: Counters,
}

/// Where a server's connections go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerTarget {
    pub ip: IpAddr,
    pub port: ir::ServerPort,
}

impl ServerTarget {
    /// The socket address for a client that connected to local port `dst_port`.
    pub fn addr(&self, dst_port: u16) -> SocketAddr {
        let port = match self.port {
            ir::ServerPort::Fixed(p) => p,
            ir::ServerPort::None => dst_port,
            ir::ServerPort::Offset(o) => (i32::from(dst_port) + o).clamp(0, 65535) as u16,
        };
        SocketAddr::new(self.ip, port)
    }
}

#[derive(Debug)]
pub struct Server {
    pub name: String,
    /// `id` (puid): configured or assigned in order from 1.
    pub id: u32,
    /// Index in its backend's `servers`.
    pub index: usize,
    /// Unique index across all backends (pool slot).
    pub uid: usize,
    /// The address from the configuration; None when it could not be resolved (the server
    /// stays down). Connections use [`Server::target`], which follows `set server B/S addr`.
    pub target: Option<ServerTarget>,
    /// Where connections go now (the configured address until `set server addr` changes it).
    pub addr: arc_swap::ArcSwapOption<ServerTarget>,
    pub backup: bool,
    /// Configured weight.
    pub weight: u32,
    /// 0 = unlimited.
    pub maxconn: u32,
    pub maxqueue: u32,
    pub cookie: Option<String>,
    pub cfg: ir::Server,
    pub stats: ServerStats,
}

impl Server {
    /// Where the server's connections go now (None: unresolved address).
    #[inline]
    pub fn target(&self) -> Option<ServerTarget> {
        self.addr.load().as_deref().copied()
    }
    /// This server's load-balancing state in its backend's set.
    pub fn live<'a>(&self, be: &'a Backend) -> Option<&'a LiveState> {
        be.live.get(self.index)
    }
}

/// Connection handling for HTTP (the most restrictive of frontend and backend applies).
pub use ir::HttpConnMode;

#[derive(Debug)]
pub struct Backend {
    pub name: String,
    pub id: u32,
    pub index: usize,
    pub mode: ir::ProxyMode,
    pub servers: Vec<Arc<Server>>,
    pub cfg: ir::Proxy,
    pub retries: u32,
    pub counters: Counters,
    /// Woken when a server slot frees, for requests queued on maxconn.
    pub queue_notify: Notify,
    /// Live load-balancing state of `servers` (same order).
    pub live: ServerSet,
    pub balancer: Balancer,
    /// Compiled ACLs and http rules (shared with the frontend part of a `listen`).
    pub rules: Arc<RuleSet>,
    /// `cookie` persistence, when configured.
    pub cookie: Option<CookiePersist>,
    /// `stick on|match|store-*` rules and the servers' numeric ids (what tables store).
    pub stick: StickRules,
    pub server_ids: Vec<u32>,
    pub last_change: AtomicU64,
    /// `stats admin if|unless` rules (any match allows the stats page's admin actions).
    pub stats_admin: Vec<CompiledCond>,
}

impl Backend {
    pub fn server(&self, name: &str) -> Option<&Arc<Server>> {
        self.servers.iter().find(|s| s.name == name)
    }
    /// Number of usable servers (HAProxy's `nbsrv`).
    pub fn nbsrv(&self) -> u32 {
        self.live.nbsrv()
    }
}

#[derive(Debug)]
pub struct Frontend {
    pub name: String,
    pub id: u32,
    pub index: usize,
    pub mode: ir::ProxyMode,
    pub cfg: ir::Proxy,
    /// For a `listen`, its own backend index.
    pub own_backend: Option<usize>,
    /// `default_backend` resolved to an index (static names only).
    pub default_backend: Option<usize>,
    pub counters: Counters,
    /// 0 = unlimited.
    pub maxconn: u32,
    pub rules: Arc<RuleSet>,
    /// `stats admin if|unless` rules (any match allows the stats page's admin actions).
    pub stats_admin: Vec<CompiledCond>,
    /// `maxconn` as enforced now (`set maxconn frontend` changes it; 0 = unlimited).
    pub conn_limit: Arc<ConnLimit>,
}

/// Every compiled proxy, plus global settings.
#[derive(Debug)]
pub struct Runtime {
    pub frontends: Vec<Arc<Frontend>>,
    pub backends: Vec<Arc<Backend>>,
    backend_by_name: HashMap<String, usize>,
    pub global: ir::Global,
    pub userlists: Vec<ir::Userlist>,
    /// Stick tables by the name of the proxy declaring them.
    pub stick_tables: HashMap<String, Arc<StickTable>>,
    pub started: Instant,
    pub started_unix: u64,
    /// Number of servers across backends (pool slots).
    pub server_count: usize,
    /// Global `maxconn` as enforced now (`set maxconn global` changes it).
    pub global_limit: Arc<ConnLimit>,
}

/// A problem found while compiling the IR (reported like HAProxy's startup alerts).
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("Proxy '{proxy}': unable to find required default_backend: '{backend}'.")]
    MissingBackend { proxy: String, backend: String },
    #[error("Proxy '{proxy}': {msg}")]
    Rules { proxy: String, msg: String },
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Runtime {
    pub fn compile(config: &ir::Config) -> Result<Runtime, CompileError> {
        let now = unix_now();
        // Proxy ids (`iid`) as HAProxy assigns them: in file order from 1.
        // The GLOBAL proxy carrying the stats socket (created by `stats socket|timeout|maxconn`)
        // takes id 0 but still shifts the numbering.
        let g = &config.global;
        let global_proxy =
            !g.stats_sockets.is_empty() || g.stats_timeout.is_some() || g.stats_maxconn.is_some();
        let mut next_id = if !global_proxy { 1u32 } else { 2 };
        let mut ids: HashMap<String, u32> = HashMap::new();
        for p in &config.proxies {
            let id = p.id.map(|i| i as u32).unwrap_or(next_id);
            next_id = next_id.max(id) + 1;
            ids.insert(p.name.clone(), id);
        }
        let env = CompileEnv::from_config(config);
        let mut rulesets: HashMap<String, Arc<RuleSet>> = HashMap::new();
        for p in &config.proxies {
            let mut rs = RuleSet::compile(p, &env).map_err(|e| CompileError::Rules {
                proxy: p.name.clone(),
                msg: e.to_string(),
            })?;
            rs.set_buffer_limits(&config.global);
            rulesets.insert(p.name.clone(), Arc::new(rs));
        }
        let rules_of = |name: &str| rulesets.get(name).cloned().unwrap_or_default();
        let stats_admin = |p: &ir::Proxy| -> Result<Vec<CompiledCond>, CompileError> {
            let rs = rules_of(&p.name);
            p.stats
                .admin
                .iter()
                .map(|c| {
                    CompiledCond::compile(c, &rs.acls, &env).map_err(|e| CompileError::Rules {
                        proxy: p.name.clone(),
                        msg: e.to_string(),
                    })
                })
                .collect()
        };
        let mut backends = Vec::new();
        let mut frontends = Vec::new();
        let mut backend_by_name = HashMap::new();
        let mut uid = 0usize;
        for p in config.backends() {
            let index = backends.len();
            let mut servers = Vec::new();
            let mut next_id = 1u32;
            for s in &p.servers {
                let id = s.id.map(|i| i as u32).unwrap_or(next_id);
                next_id = next_id.max(id) + 1;
                let target = match &s.addr {
                    ir::ServerAddr::Inet {
                        resolved: Some(ip),
                        port,
                        ..
                    } => Some(ServerTarget {
                        ip: *ip,
                        port: *port,
                    }),
                    _ => None,
                };
                servers.push(Arc::new(Server {
                    name: s.name.clone(),
                    id,
                    index: servers.len(),
                    uid,
                    target,
                    addr: arc_swap::ArcSwapOption::from_pointee(target),
                    backup: s.backup,
                    weight: s.weight,
                    maxconn: s.maxconn.unwrap_or(0),
                    maxqueue: s.maxqueue.unwrap_or(0),
                    cookie: s.cookie.clone(),
                    cfg: s.clone(),
                    stats: ServerStats {
                        check_info: std::sync::Mutex::new(String::new()),
                        health: AtomicU32::new(s.rise + s.fall - 1),
                        check_fail: AtomicU64::new(0),
                        downtime_secs: AtomicU64::new(0),
                        counters: Counters::default(),
                    },
                }));
                uid += 1;
            }
            backend_by_name.insert(p.name.clone(), index);
            let live = ServerSet::new(
                p.servers
                    .iter()
                    .map(|s| {
                        let st = LiveState::new(s.weight, s.disabled, s.maxconn.unwrap_or(0));
                        st.last_change.store(now, Ordering::Relaxed);
                        st
                    })
                    .collect(),
            );
            let balancer = Balancer::new(&balance_conf(p, &servers));
            let stick = StickRules::compile(p, &rules_of(&p.name).acls, &env).map_err(|e| {
                CompileError::Rules {
                    proxy: p.name.clone(),
                    msg: e.to_string(),
                }
            })?;
            let server_ids: Vec<u32> = servers.iter().map(|s| s.id).collect();
            let cookie = p.cookie.as_ref().map(|c| {
                let values: Vec<Option<String>> =
                    p.servers.iter().map(|s| s.cookie.clone()).collect();
                CookiePersist::from_ir(c, &values)
            });
            backends.push(Arc::new(Backend {
                name: p.name.clone(),
                id: ids.get(&p.name).copied().unwrap_or(0),
                index,
                mode: p.mode,
                servers,
                cfg: p.clone(),
                retries: p.retries.unwrap_or(3),
                counters: Counters::default(),
                queue_notify: Notify::new(),
                live,
                balancer,
                rules: rules_of(&p.name),
                cookie,
                stick,
                server_ids,
                last_change: AtomicU64::new(now),
                stats_admin: stats_admin(p)?,
            }));
        }
        for p in config
            .proxies
            .iter()
            .filter(|p| p.kind.has_frontend() && !p.disabled)
        {
            let own_backend = if p.kind == ir::ProxyKind::Listen {
                backend_by_name.get(&p.name).copied()
            } else {
                None
            };
            let default_backend = match &p.default_backend {
                Some(ir::BackendRef::Static(name)) => {
                    Some(*backend_by_name.get(name).ok_or_else(|| {
                        CompileError::MissingBackend {
                            proxy: p.name.clone(),
                            backend: name.clone(),
                        }
                    })?)
                }
                _ => own_backend,
            };
            frontends.push(Arc::new(Frontend {
                name: p.name.clone(),
                id: ids.get(&p.name).copied().unwrap_or(0),
                index: frontends.len(),
                mode: p.mode,
                cfg: p.clone(),
                own_backend,
                default_backend,
                counters: Counters::default(),
                maxconn: p.maxconn.unwrap_or(0),
                rules: rules_of(&p.name),
                stats_admin: stats_admin(p)?,
                conn_limit: ConnLimit::new(p.maxconn.unwrap_or(0)),
            }));
        }
        Ok(Runtime {
            frontends,
            backends,
            backend_by_name,
            global: config.global.clone(),
            userlists: config.userlists.clone(),
            stick_tables: config
                .proxies
                .iter()
                .filter_map(|p| {
                    p.stick_table
                        .as_ref()
                        .map(|t| (p.name.clone(), Arc::new(StickTable::from_ir(t))))
                })
                // `table NAME` of a peers section, named `SECTION/NAME` (kept locally: the
                // peers protocol is not spoken)
                .chain(config.peers.iter().flat_map(|pr| {
                    pr.tables.iter().map(|(n, t)| {
                        (format!("{}/{n}", pr.name), Arc::new(StickTable::from_ir(t)))
                    })
                }))
                .collect(),
            started: Instant::now(),
            started_unix: now,
            server_count: uid,
            global_limit: ConnLimit::new(config.global.maxconn.unwrap_or(0)),
        })
    }

    pub fn backend_index(&self, name: &str) -> Option<usize> {
        self.backend_by_name.get(name).copied()
    }
    pub fn backend(&self, name: &str) -> Option<&Arc<Backend>> {
        self.backend_index(name).and_then(|i| self.backends.get(i))
    }
}

impl ProxyLookup for Runtime {
    fn nbsrv(&self, backend: &str) -> Option<u32> {
        self.backend(backend).map(|b| b.nbsrv())
    }
}

/// Effective HTTP connection mode for a frontend/backend pair.
pub fn conn_mode(fe: &ir::Proxy, be: &ir::Proxy) -> HttpConnMode {
    use HttpConnMode::*;
    match (fe.options.http_mode, be.options.http_mode) {
        (Close, _) | (_, Close) => Close,
        (ServerClose, _) | (_, ServerClose) => ServerClose,
        _ => KeepAlive,
    }
}

/// A timeout, or "wait forever" when unset.
pub fn or_forever(t: Option<Duration>) -> Duration {
    t.unwrap_or(Duration::from_secs(86400 * 365))
}

/// The balance module's view of a backend's configuration.
fn balance_conf(p: &ir::Proxy, servers: &[Arc<Server>]) -> BalanceConf {
    let algo = match p.balance.as_ref().unwrap_or(&ir::BalanceAlgo::RoundRobin) {
        ir::BalanceAlgo::RoundRobin => LbAlgo::RoundRobin,
        ir::BalanceAlgo::StaticRr => LbAlgo::StaticRr,
        ir::BalanceAlgo::LeastConn => LbAlgo::LeastConn,
        ir::BalanceAlgo::First => LbAlgo::First,
        ir::BalanceAlgo::Source => LbAlgo::Source,
        ir::BalanceAlgo::Uri {
            len,
            depth,
            whole,
            path_only,
        } => LbAlgo::Uri {
            whole: *whole,
            path_only: *path_only,
            len: len.unwrap_or(0),
            depth: depth.unwrap_or(0),
        },
        ir::BalanceAlgo::UrlParam { param, .. } => LbAlgo::UrlParam {
            name: param.as_bytes().into(),
        },
        ir::BalanceAlgo::Hdr {
            name,
            use_domain_only,
        } => LbAlgo::Hdr {
            name: name.as_bytes().into(),
            use_domain_only: *use_domain_only,
        },
        ir::BalanceAlgo::Random { draws } => LbAlgo::Random {
            draws: (*draws).max(1),
        },
        ir::BalanceAlgo::RdpCookie { name } => LbAlgo::RdpCookie {
            name: name.as_deref().unwrap_or("mstshash").as_bytes().into(),
        },
        // `balance hash <expr>`: not supported by the balance module yet; round-robin instead.
        ir::BalanceAlgo::Hash { .. } => LbAlgo::RoundRobin,
    };
    let hash_type = match p.hash_type {
        None => HashType::default(),
        Some(h) => {
            let lookup = match h.method {
                ir::HashMethod::MapBased => HashLookup::MapBased,
                ir::HashMethod::Consistent => HashLookup::Consistent,
            };
            let function = match h.function {
                ir::HashFunction::Sdbm => Some(HashFunction::Sdbm),
                ir::HashFunction::Djb2 => Some(HashFunction::Djb2),
                ir::HashFunction::Wt6 => Some(HashFunction::Wt6),
                ir::HashFunction::Crc32 => Some(HashFunction::Crc32),
                ir::HashFunction::None => None,
            };
            HashType::from_parts(lookup, function, h.avalanche)
        }
    };
    BalanceConf {
        algo,
        hash_type,
        allbackups: p.options.allbackups,
        servers: servers
            .iter()
            .map(|s| LbServer {
                id: s.id,
                backup: s.backup,
                weight: s.weight,
                disabled: s.cfg.disabled,
            })
            .collect(),
    }
}

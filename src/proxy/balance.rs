//! Server selection for a backend: every `balance` algorithm of HAProxy 2.6.
//!
//! Build one [`Balancer`] per backend from a [`BalanceConf`] at load time; on the request path
//! call [`Balancer::pick`] with the request view and the backend's live [`ServerSet`].
//!
//! Hot path costs:
//! - `roundrobin`: one uncontended `Mutex` per backend held for the pick only (the interleaving
//!   is inherently sequential state, exactly as HAProxy's write lock). With one worker per
//!   backend connection the lock is never contended; with several threads it is held for a
//!   few hundred ns. No allocation.
//! - `static-rr`, hash algorithms (`source`, `uri`, `url_param`, `hdr`, `random`, consistent
//!   or map-based): lock-free: an `ArcSwap` snapshot of the lookup tables plus atomics. Tables
//!   are rebuilt (under a mutex, off the fast path) only when the `ServerSet` generation changes
//!   (a server went up/down or changed weight).
//! - `leastconn`, `first`: lock-free scans of the servers' atomics.

mod fwrr;
pub mod hash;

use std::cell::Cell;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;

use super::ctx::{split_comma_values, RequestCtx};
use super::server_state::{ServerSet, ServerState};
use fwrr::{Fwrr, WEIGHT_SCALE};
pub use hash::{full_hash, HashFunction};

/// A `balance` algorithm with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LbAlgo {
    RoundRobin,
    StaticRr,
    LeastConn,
    First,
    Source,
    /// `uri [len N] [depth N] [whole] [path-only]` (0 = unlimited).
    Uri {
        whole: bool,
        path_only: bool,
        len: u32,
        depth: u32,
    },
    /// `url_param NAME [check_post]` (POST bodies are not inspected: falls back to rr).
    UrlParam {
        name: Box<[u8]>,
    },
    /// `hdr(NAME) [use_domain_only]`.
    Hdr {
        name: Box<[u8]>,
        use_domain_only: bool,
    },
    /// `random[(draws)]`, default 2 draws.
    Random {
        draws: u32,
    },
    /// `hash <expr>`: hash of a sample expression (falls back to round robin when the
    /// expression yields nothing).
    Expr {
        expr: crate::haproxy::ir::SampleExpr,
    },
    /// `rdp-cookie[(name)]`: TCP-mode RDP only; in HTTP it finds no cookie and falls back.
    RdpCookie {
        name: Box<[u8]>,
    },
}

/// `hash-type` lookup method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HashLookup {
    #[default]
    MapBased,
    Consistent,
}

/// `hash-type <method> [<function>] [avalanche]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HashType {
    pub lookup: HashLookup,
    pub function: HashFunction,
    pub avalanche: bool,
}

impl HashType {
    /// `hash-type consistent` with no function: sdbm plus avalanche (HAProxy's default).
    pub fn consistent_default() -> Self {
        HashType {
            lookup: HashLookup::Consistent,
            function: HashFunction::Sdbm,
            avalanche: true,
        }
    }
    /// From `hash-type <method> [<function> [avalanche]]`: a consistent method without a
    /// function gets avalanche, as in HAProxy.
    pub fn from_parts(lookup: HashLookup, function: Option<HashFunction>, avalanche: bool) -> Self {
        match function {
            None => HashType {
                lookup,
                function: HashFunction::Sdbm,
                avalanche: lookup == HashLookup::Consistent,
            },
            Some(function) => HashType {
                lookup,
                function,
                avalanche,
            },
        }
    }
}

/// What the balancer needs to know about one configured server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LbServer {
    /// Numeric server id (`id` keyword, else 1-based position): orders `first` and seeds
    /// consistent-hash points.
    pub id: u32,
    pub backup: bool,
    /// Configured user weight (0..=256, default 1).
    pub weight: u32,
    /// `disabled` keyword: starts in maintenance.
    pub disabled: bool,
}

/// Everything `balance` needs from a backend's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceConf {
    pub algo: LbAlgo,
    pub hash_type: HashType,
    /// `option allbackups`.
    pub allbackups: bool,
    pub servers: Vec<LbServer>,
}

impl BalanceConf {
    /// `balance roundrobin` over servers of the given weights (ids 1..), handy for tests.
    pub fn roundrobin(weights: &[u32]) -> Self {
        BalanceConf {
            algo: LbAlgo::RoundRobin,
            hash_type: HashType::default(),
            allbackups: false,
            servers: weights
                .iter()
                .enumerate()
                .map(|(i, &w)| LbServer {
                    id: i as u32 + 1,
                    backup: false,
                    weight: w,
                    disabled: false,
                })
                .collect(),
        }
    }
}

/// Outcome of a pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pick {
    /// Index of the chosen server in the backend's server list.
    Server(usize),
    /// No usable server at all: answer 503.
    NoServer,
    /// Servers exist but all are at maxconn: queue the request (backend queue).
    Full,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lookup {
    Rr,
    Map,
    Chash,
    LeastConn,
    First,
}

/// Lookup tables for one server-state generation.
#[derive(Debug, Default)]
struct Tables {
    generation: u64,
    /// Effective weight per server (0 when not usable).
    eweight: Vec<u32>,
    srv_act: u32,
    srv_bck: u32,
    fbck: Option<u32>,
    tot_weight: u32,
    tot_used: u32,
    /// Map-based: slot → server.
    map: Vec<u32>,
    /// Consistent hash rings: (point, server), sorted by point.
    ring_act: Vec<(u32, u32)>,
    ring_bck: Vec<(u32, u32)>,
}

struct RrState {
    generation: u64,
    fwrr: Fwrr,
}

/// The load balancer of one backend. `Send + Sync`; share it in an `Arc`.
pub struct Balancer {
    algo: LbAlgo,
    hash_type: HashType,
    allbackups: bool,
    servers: Box<[LbServer]>,
    /// Server indices ordered by id (for `first`).
    by_id: Box<[u32]>,
    /// Compiled expression of `balance hash <expr>`.
    hash_expr: Option<crate::proxy::sample::CompiledExpr>,
    lookup: Lookup,
    /// Weight divider of map-based tables (GCD of configured weights).
    wmult: u32,
    rr: Option<Mutex<RrState>>,
    tables: ArcSwap<Tables>,
    rebuild: Mutex<()>,
    rr_idx: AtomicUsize,
    chash_last: AtomicUsize,
    /// leastconn tie-break: sequence number of each server's last pick (least recently
    /// picked first, like HAProxy's FIFO among equal keys in its tree).
    lc_last: Box<[std::sync::atomic::AtomicU64]>,
    lc_seq: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Balancer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Balancer")
            .field("algo", &self.algo)
            .field("hash_type", &self.hash_type)
            .finish()
    }
}

impl Balancer {
    pub fn new(conf: &BalanceConf) -> Self {
        let lookup = match conf.algo {
            LbAlgo::RoundRobin => Lookup::Rr,
            LbAlgo::StaticRr => Lookup::Map,
            LbAlgo::LeastConn => Lookup::LeastConn,
            LbAlgo::First => Lookup::First,
            LbAlgo::Random { .. } => Lookup::Chash,
            _ => match conf.hash_type.lookup {
                HashLookup::MapBased => Lookup::Map,
                HashLookup::Consistent => Lookup::Chash,
            },
        };
        let mut wmult = 1u32;
        if lookup == Lookup::Map {
            let mut it = conf
                .servers
                .iter()
                .map(|s| s.weight.min(256))
                .filter(|&w| w > 0);
            if let Some(first) = it.next() {
                wmult = it.fold(first, gcd);
            }
        }
        let rr = (lookup == Lookup::Rr).then(|| {
            let init: Vec<(bool, bool, u32)> = conf
                .servers
                .iter()
                .map(|s| (s.backup, !s.disabled, s.weight.min(256)))
                .collect();
            Mutex::new(RrState {
                generation: 0,
                fwrr: Fwrr::new(&init, conf.allbackups),
            })
        });
        let mut by_id: Vec<u32> = (0..conf.servers.len() as u32).collect();
        by_id.sort_by_key(|&i| conf.servers[i as usize].id);
        Balancer {
            algo: conf.algo.clone(),
            hash_type: conf.hash_type,
            allbackups: conf.allbackups,
            servers: conf.servers.clone().into_boxed_slice(),
            by_id: by_id.into_boxed_slice(),
            hash_expr: match &conf.algo {
                LbAlgo::Expr { expr } => {
                    match crate::proxy::sample::CompiledExpr::compile(expr, &Default::default()) {
                        Ok(e) => Some(e),
                        Err(e) => {
                            tracing::warn!("balance hash: {e}; using round robin");
                            None
                        }
                    }
                }
                _ => None,
            },
            lookup,
            wmult,
            rr,
            tables: ArcSwap::from_pointee(Tables::default()),
            rebuild: Mutex::new(()),
            rr_idx: AtomicUsize::new(0),
            chash_last: AtomicUsize::new(usize::MAX),
            lc_last: (0..conf.servers.len())
                .map(|_| std::sync::atomic::AtomicU64::new(0))
                .collect(),
            lc_seq: std::sync::atomic::AtomicU64::new(0),
        }
    }

    pub fn algo(&self) -> &LbAlgo {
        &self.algo
    }

    /// Chooses a server for `req` among `live` (same order as the configured servers).
    pub fn pick(&self, req: &RequestCtx<'_>, live: &ServerSet) -> Pick {
        self.pick_avoiding(req, live, None)
    }

    /// Like [`Balancer::pick`] but avoids server `avoid` when another one is possible
    /// (`option redispatch` after a failed connection).
    pub fn pick_avoiding(
        &self,
        req: &RequestCtx<'_>,
        live: &ServerSet,
        avoid: Option<usize>,
    ) -> Pick {
        let has_room = |i: usize| live.get(i).map(ServerState::has_room).unwrap_or(false);
        let picked = match self.lookup {
            Lookup::Rr => return self.pick_rr(live, avoid, &has_room),
            _ => {
                let t = self.tables_for(live);
                if t.tot_weight == 0 {
                    return Pick::NoServer;
                }
                match self.lookup {
                    Lookup::LeastConn => self.pick_leastconn(&t, live, avoid),
                    Lookup::First => self.pick_first(&t, live, avoid),
                    Lookup::Map if self.algo == LbAlgo::StaticRr => {
                        self.map_rr(&t, avoid, &has_room)
                    }
                    Lookup::Chash if matches!(self.algo, LbAlgo::Random { .. }) => {
                        self.pick_random(&t, live, avoid)
                    }
                    _ => match self.hash_of(&t, req) {
                        Some(h) if self.lookup == Lookup::Chash => self.chash_lookup(&t, h, avoid),
                        Some(h) => t
                            .map
                            .get(h as usize % t.tot_weight as usize)
                            .map(|&s| s as usize),
                        None if self.lookup == Lookup::Chash => {
                            self.chash_next(&t, avoid, &has_room)
                        }
                        None => self.map_rr(&t, avoid, &has_room),
                    },
                }
            }
        };
        match picked {
            Some(i) => {
                if let Some(s) = live.get(i) {
                    s.lb_picks.fetch_add(1, Ordering::Relaxed);
                }
                Pick::Server(i)
            }
            None => Pick::Full,
        }
    }

    fn pick_rr(
        &self,
        live: &ServerSet,
        avoid: Option<usize>,
        has_room: &dyn Fn(usize) -> bool,
    ) -> Pick {
        let Some(rr) = &self.rr else {
            return Pick::NoServer;
        };
        let mut st = match rr.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let gen = live.generation();
        if st.generation != gen {
            for (i, s) in live.iter().enumerate().take(self.servers.len()) {
                let ok = s.is_up() && !s.is_drain();
                st.fwrr.update(i, ok, s.weight());
            }
            st.generation = gen;
        }
        match st.fwrr.next_server(avoid, has_room) {
            Some(i) => {
                drop(st);
                if let Some(s) = live.get(i) {
                    s.lb_picks.fetch_add(1, Ordering::Relaxed);
                }
                Pick::Server(i)
            }
            None if live.iter().any(ServerState::is_lb_usable) => Pick::Full,
            None => Pick::NoServer,
        }
    }

    /// Current tables, rebuilt first if the servers changed since they were built.
    fn tables_for(&self, live: &ServerSet) -> arc_swap::Guard<Arc<Tables>> {
        let gen = live.generation();
        let t = self.tables.load();
        if t.generation == gen {
            return t;
        }
        drop(t);
        let _g = match self.rebuild.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let t = self.tables.load();
        if t.generation == gen {
            return t;
        }
        drop(t);
        let new = self.build_tables(live, gen);
        if self.lookup == Lookup::LeastConn {
            // A server coming back is queued after the others with the same load (HAProxy
            // inserts it at the end of its tree's equal keys).
            let old = self.tables.load();
            for (i, &ew) in new.eweight.iter().enumerate() {
                if ew > 0 && old.eweight.get(i) == Some(&0) {
                    let seq = self.lc_seq.fetch_add(1, Ordering::Relaxed) + 1;
                    if let Some(a) = self.lc_last.get(i) {
                        a.store(seq, Ordering::Relaxed);
                    }
                }
            }
        }
        self.tables.store(Arc::new(new));
        self.tables.load()
    }

    fn eweight_of(&self, uweight: u32) -> u32 {
        match self.lookup {
            Lookup::Map => uweight.div_ceil(self.wmult),
            _ => uweight * WEIGHT_SCALE as u32,
        }
    }

    fn build_tables(&self, live: &ServerSet, generation: u64) -> Tables {
        let n = self.servers.len().min(live.len());
        let mut t = Tables {
            generation,
            eweight: vec![0; n],
            ..Tables::default()
        };
        let (mut wact, mut wbck) = (0u32, 0u32);
        for i in 0..n {
            let Some(s) = live.get(i) else { continue };
            if !s.is_lb_usable() {
                continue;
            }
            let ew = self.eweight_of(s.weight());
            t.eweight[i] = ew;
            if self.servers[i].backup {
                if t.srv_bck == 0 && !self.allbackups {
                    t.fbck = Some(i as u32);
                }
                t.srv_bck += 1;
                wbck += ew;
            } else {
                t.srv_act += 1;
                wact += ew;
            }
        }
        if t.srv_act > 0 {
            t.tot_weight = wact;
            t.tot_used = t.srv_act;
        } else if let Some(f) = t.fbck {
            t.tot_weight = t.eweight[f as usize];
            t.tot_used = 1;
        } else {
            t.tot_weight = wbck;
            t.tot_used = t.srv_bck;
        }
        match self.lookup {
            Lookup::Map => self.build_map(&mut t),
            Lookup::Chash => {
                for i in 0..n {
                    let ew = t.eweight[i];
                    if ew == 0 {
                        continue;
                    }
                    let base = self.servers[i].id.wrapping_mul(256 * WEIGHT_SCALE as u32);
                    let ring = if self.servers[i].backup {
                        &mut t.ring_bck
                    } else {
                        &mut t.ring_act
                    };
                    for j in 0..ew {
                        ring.push((full_hash(base.wrapping_add(j)), i as u32));
                    }
                }
                t.ring_act.sort_by_key(|&(k, _)| k);
                t.ring_bck.sort_by_key(|&(k, _)| k);
            }
            _ => {}
        }
        t
    }

    /// HAProxy's map: for each slot, the server whose accumulated score is highest (first
    /// declared wins ties), so declaration order is respected for equal weights.
    #[allow(clippy::needless_range_loop)]
    fn build_map(&self, t: &mut Tables) {
        let tot = t.tot_weight as i64;
        if tot == 0 {
            return;
        }
        let want_backup = t.srv_act == 0;
        let n = t.eweight.len();
        let mut wscore = vec![0i64; n];
        t.map = Vec::with_capacity(tot as usize);
        for _ in 0..tot {
            let mut best: Option<usize> = None;
            let mut max = 0i64;
            for i in 0..n {
                if self.servers[i].backup != want_backup || t.eweight[i] == 0 {
                    continue;
                }
                if tot == 1 {
                    best = Some(i);
                    break;
                }
                wscore[i] += t.eweight[i] as i64;
                let v = (wscore[i] + tot) / tot;
                if best.is_none() || v > max {
                    max = v;
                    best = Some(i);
                }
            }
            if let Some(b) = best {
                wscore[b] -= tot;
                t.map.push(b as u32);
            }
        }
    }

    fn map_rr(
        &self,
        t: &Tables,
        avoid: Option<usize>,
        has_room: &dyn Fn(usize) -> bool,
    ) -> Option<usize> {
        let tot = t.map.len();
        if tot == 0 {
            return None;
        }
        let mut start = self.rr_idx.load(Ordering::Relaxed);
        if start >= tot {
            start = 0;
        }
        let mut newidx = start;
        let mut avoided: Option<(usize, usize)> = None;
        loop {
            let srv = t.map[newidx] as usize;
            newidx += 1;
            if has_room(srv) {
                avoided = Some((srv, newidx));
                if Some(srv) != avoid {
                    self.rr_idx.store(newidx, Ordering::Relaxed);
                    return Some(srv);
                }
            }
            if newidx == tot {
                newidx = 0;
            }
            if newidx == start {
                break;
            }
        }
        let (srv, idx) = avoided?;
        self.rr_idx.store(idx, Ordering::Relaxed);
        Some(srv)
    }

    /// The hash of the request for hash-based algorithms, or None when the key is missing
    /// (the caller then falls back to round robin, as HAProxy).
    fn hash_of(&self, t: &Tables, req: &RequestCtx<'_>) -> Option<u32> {
        let func = self.hash_type.function;
        let single = t.tot_used == 1;
        let h = match &self.algo {
            LbAlgo::Source => {
                if single {
                    return Some(0);
                }
                let mut h = 0u32;
                match req.conn.src.ip() {
                    IpAddr::V4(a) => h = u32::from_be_bytes(a.octets()),
                    IpAddr::V6(a) => {
                        for c in a.octets().chunks_exact(4) {
                            h ^= u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
                        }
                    }
                }
                h
            }
            LbAlgo::Uri {
                whole,
                path_only,
                len,
                depth,
            } => {
                if single {
                    return Some(0);
                }
                let mut uri = if *path_only { req.path() } else { req.uri };
                if *len > 0 && uri.len() > *len as usize {
                    uri = &uri[..*len as usize];
                }
                let depth_stop = if *depth > 0 { depth + 1 } else { 0 };
                let mut slashes = 0u32;
                let mut end = uri.len();
                for (i, &c) in uri.iter().enumerate() {
                    if c == b'/' {
                        slashes += 1;
                        if slashes == depth_stop {
                            end = i;
                            break;
                        }
                    } else if c == b'?' && !whole {
                        end = i;
                        break;
                    }
                }
                func.hash(&uri[..end])
            }
            LbAlgo::UrlParam { name } => {
                let v = url_param_value(req.query()?, name)?;
                func.hash(v)
            }
            LbAlgo::Hdr {
                name,
                use_domain_only,
            } => {
                if single {
                    return Some(0);
                }
                let line = req.header(name)?;
                let v = split_comma_values(line).next().unwrap_or(b"");
                if v.is_empty() {
                    return None;
                }
                if *use_domain_only {
                    func.hash(main_domain(v))
                } else {
                    func.hash(v)
                }
            }
            LbAlgo::Expr { .. } => {
                let e = self.hash_expr.as_ref()?;
                let v = e.eval(&crate::proxy::sample::EvalCtx::new(req))?;
                if single {
                    return Some(0);
                }
                func.hash(&v.to_bytes())
            }
            _ => return None,
        };
        Some(if self.hash_type.avalanche {
            full_hash(h)
        } else {
            h
        })
    }

    fn ring<'t>(&self, t: &'t Tables) -> Result<&'t [(u32, u32)], Option<usize>> {
        if t.srv_act > 0 {
            Ok(&t.ring_act)
        } else if let Some(f) = t.fbck {
            Err(Some(f as usize))
        } else if t.srv_bck > 0 {
            Ok(&t.ring_bck)
        } else {
            Err(None)
        }
    }

    fn chash_lookup(&self, t: &Tables, h: u32, avoid: Option<usize>) -> Option<usize> {
        let ring = match self.ring(t) {
            Ok(r) => r,
            Err(s) => return s,
        };
        if ring.is_empty() {
            return None;
        }
        let n = ring.len();
        let mut next = ring.partition_point(|&(k, _)| k < h);
        if next == n {
            next = 0;
        }
        let prev = if next == 0 { n - 1 } else { next - 1 };
        let dp = h.wrapping_sub(ring[prev].0);
        let dn = ring[next].0.wrapping_sub(h);
        let mut pos = if dp <= dn { prev } else { next };
        let mut loops = 0;
        while Some(ring[pos].1 as usize) == avoid {
            pos += 1;
            if pos == n {
                pos = 0;
                loops += 1;
                if loops > 1 {
                    break;
                }
            }
        }
        Some(ring[pos].1 as usize)
    }

    /// Round robin over the consistent-hash ring (fallback when the hash key is missing).
    fn chash_next(
        &self,
        t: &Tables,
        avoid: Option<usize>,
        has_room: &dyn Fn(usize) -> bool,
    ) -> Option<usize> {
        let ring = match self.ring(t) {
            Ok(r) => r,
            Err(s) => return s,
        };
        let n = ring.len();
        if n == 0 {
            return None;
        }
        let last = self.chash_last.load(Ordering::Relaxed);
        let mut pos = if last >= n { 0 } else { (last + 1) % n };
        let mut avoided = None;
        for _ in 0..n {
            let s = ring[pos].1 as usize;
            if has_room(s) {
                if Some(s) != avoid {
                    self.chash_last.store(pos, Ordering::Relaxed);
                    return Some(s);
                }
                avoided = Some(s);
            }
            pos = (pos + 1) % n;
        }
        avoided
    }

    fn pick_random(&self, t: &Tables, live: &ServerSet, avoid: Option<usize>) -> Option<usize> {
        let draws = match self.algo {
            LbAlgo::Random { draws } => draws.max(1),
            _ => 1,
        };
        let served = |i: usize| {
            live.get(i)
                .map(|s| s.cur_conns.load(Ordering::Relaxed))
                .unwrap_or(0) as u64
        };
        let mut curr: Option<usize> = None;
        for _ in 0..draws {
            let prev = curr;
            let Some(c) = self.chash_lookup(t, prng(), avoid) else {
                curr = None;
                break;
            };
            curr = Some(c);
            if let Some(p) = prev {
                if p != c && served(c) * t.eweight[p] as u64 > served(p) * t.eweight[c] as u64 {
                    curr = Some(p);
                }
            }
        }
        let c = curr?;
        live.get(c).filter(|s| s.has_room()).map(|_| c)
    }

    /// Candidate group for scanning algorithms: active servers, else the first backup, else
    /// all backups.
    fn scan_group(&self, t: &Tables) -> Result<bool, Option<usize>> {
        if t.srv_act > 0 {
            Ok(false)
        } else if let Some(f) = t.fbck {
            Err(Some(f as usize))
        } else if t.srv_bck > 0 {
            Ok(true)
        } else {
            Err(None)
        }
    }

    fn pick_leastconn(&self, t: &Tables, live: &ServerSet, avoid: Option<usize>) -> Option<usize> {
        let backup = match self.scan_group(t) {
            Ok(b) => b,
            Err(s) => return s,
        };
        let n = t.eweight.len();
        if n == 0 {
            return None;
        }
        let mut best: Option<(u64, u64, usize)> = None;
        let mut avoided = None;
        for i in 0..n {
            let ew = t.eweight[i] as u64;
            if ew == 0 || self.servers[i].backup != backup {
                continue;
            }
            let Some(s) = live.get(i) else { continue };
            if !s.has_room() {
                continue;
            }
            if Some(i) == avoid {
                avoided = Some(i);
                continue;
            }
            let inflight =
                (s.cur_conns.load(Ordering::Relaxed) + s.queued.load(Ordering::Relaxed)) as u64;
            let key = if inflight == 0 {
                0
            } else {
                (inflight + 1) * 4096 / ew
            };
            let last = self
                .lc_last
                .get(i)
                .map(|a| a.load(Ordering::Relaxed))
                .unwrap_or(0);
            if best.map_or(true, |(bk, bl, _)| (key, last) < (bk, bl)) {
                best = Some((key, last, i));
            }
        }
        let chosen = best.map(|(_, _, i)| i).or(avoided);
        if let Some(i) = chosen {
            let seq = self.lc_seq.fetch_add(1, Ordering::Relaxed) + 1;
            if let Some(a) = self.lc_last.get(i) {
                a.store(seq, Ordering::Relaxed);
            }
        }
        chosen
    }

    fn pick_first(&self, t: &Tables, live: &ServerSet, avoid: Option<usize>) -> Option<usize> {
        let backup = match self.scan_group(t) {
            Ok(b) => b,
            Err(s) => return s,
        };
        let mut avoided = None;
        for &i in self.by_id.iter() {
            let i = i as usize;
            if t.eweight.get(i).copied().unwrap_or(0) == 0 || self.servers[i].backup != backup {
                continue;
            }
            if live.get(i).map(ServerState::has_room).unwrap_or(false) {
                if Some(i) != avoid {
                    return Some(i);
                }
                avoided = Some(i);
            }
        }
        avoided
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    let (mut a, mut b) = (a, b);
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

/// Value of parameter `name` in query string `q` (HAProxy's url_param balance lookup).
pub fn url_param_value<'q>(q: &'q [u8], name: &[u8]) -> Option<&'q [u8]> {
    q.split(|&c| c == b'&').find_map(|p| {
        if p.len() > name.len() && p[name.len()] == b'=' && &p[..name.len()] == name {
            Some(&p[name.len() + 1..])
        } else {
            None
        }
    })
}

/// `use_domain_only`: the label before the TLD (`www.example.com` → `example`).
fn main_domain(v: &[u8]) -> &[u8] {
    let Some(last_dot) = v.iter().rposition(|&c| c == b'.') else {
        return v;
    };
    let start = v[..last_dot]
        .iter()
        .rposition(|&c| c == b'.')
        .map(|p| p + 1)
        .unwrap_or(0);
    &v[start..last_dot]
}

thread_local! {
    static PRNG: Cell<u32> = Cell::new(seed());
}

fn seed() -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
        .unwrap_or(0x1234_5678);
    let local = 0u8;
    let addr = &local as *const u8 as usize as u32;
    (t ^ addr.rotate_left(16)) | 1
}

/// Thread-local xorshift32, as HAProxy's statistical PRNG.
fn prng() -> u32 {
    PRNG.with(|c| {
        let mut x = c.get();
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c.set(x);
        x
    })
}

#[cfg(test)]
mod tests;

//! Stick tables and `stick on|match|store-request|store-response` persistence.
//!
//! A [`StickTable`] maps a key (`type ip|ipv6|integer|string len N|binary len N`) to the id of
//! a server, with `expire` and `size` limits. Tables are sharded (16 mutex-protected maps) so
//! concurrent workers rarely contend; a lookup or store is one short critical section and no
//! allocation for fixed-size keys (IP, integer) — string keys allocate on store only.
//!
//! As in HAProxy the table stores the server's numeric id (`id` keyword or position) and its
//! key (`srvkey name`, the default, or `srvkey addr`): a lookup finds the server of the
//! current backend with that name (or address) first, then the one with that id, so a table
//! may be shared by several backends (`stick on src table other`, `table peers/name`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::haproxy::ir;
use crate::proxy::acl::{cond_ok, AclSet, CompiledCond};
use crate::proxy::sample::{CompileEnv, CompileError, CompiledExpr, EvalCtx, Smp};
use crate::proxy::server_state::ServerSet;

/// A stick-table key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StickKey {
    V4(u32),
    V6(u128),
    Int(i64),
    Bytes(Box<[u8]>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Ip,
    Ipv6,
    Integer,
    String(usize),
    Binary(usize),
}

#[derive(Debug, Clone)]
struct Entry {
    server_id: u32,
    /// The server's name or address (`srvkey`).
    server_key: Option<Arc<str>>,
    expires: Option<Instant>,
    touched: Instant,
}

const SHARDS: usize = 16;

/// One `stick-table`.
#[derive(Debug)]
pub struct StickTable {
    kind: KeyKind,
    /// Max entries per shard.
    shard_cap: usize,
    expire: Option<Duration>,
    /// `srvkey addr`: entries name their server by address instead of name.
    srvkey_addr: bool,
    shards: Vec<Mutex<HashMap<StickKey, Entry>>>,
}

/// The server a stream was sent to, as a stick table records it.
#[derive(Debug, Clone, Copy)]
pub struct StoredServer<'a> {
    pub id: u32,
    pub name: &'a str,
    pub addr: Option<SocketAddr>,
}

impl StickTable {
    pub fn from_ir(t: &ir::StickTable) -> Self {
        let kind = match t.key {
            ir::StickKeyType::Ip => KeyKind::Ip,
            ir::StickKeyType::Ipv6 => KeyKind::Ipv6,
            ir::StickKeyType::Integer => KeyKind::Integer,
            ir::StickKeyType::String { len } => {
                KeyKind::String(if len == 0 { 32 } else { len as usize })
            }
            ir::StickKeyType::Binary { len } => {
                KeyKind::Binary(if len == 0 { 32 } else { len as usize })
            }
        };
        let mut table = Self::new(kind, t.size, t.expire);
        table.srvkey_addr = t.srvkey_addr;
        table
    }

    fn new(kind: KeyKind, size: u64, expire: Option<Duration>) -> Self {
        let size = size.max(1) as usize;
        StickTable {
            kind,
            shard_cap: size.div_ceil(SHARDS).max(1),
            expire,
            srvkey_addr: false,
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    /// Converts a sample into this table's key type (None if it does not convert).
    pub fn key_of(&self, s: &Smp<'_>) -> Option<StickKey> {
        Some(match self.kind {
            KeyKind::Ip => match s.to_ip()? {
                IpAddr::V4(a) => StickKey::V4(u32::from(a)),
                IpAddr::V6(a) => StickKey::V4(u32::from(a.to_ipv4_mapped()?)),
            },
            KeyKind::Ipv6 => match s.to_ip()? {
                IpAddr::V4(a) => StickKey::V6(u128::from(a.to_ipv6_mapped())),
                IpAddr::V6(a) => StickKey::V6(u128::from(a)),
            },
            KeyKind::Integer => StickKey::Int(s.to_int()?),
            KeyKind::String(len) | KeyKind::Binary(len) => {
                let b = s.to_bytes();
                StickKey::Bytes(b[..b.len().min(len)].into())
            }
        })
    }

    fn shard(&self, k: &StickKey) -> &Mutex<HashMap<StickKey, Entry>> {
        let h = match k {
            StickKey::V4(v) => *v as u64,
            StickKey::V6(v) => (*v as u64) ^ ((*v >> 64) as u64),
            StickKey::Int(v) => *v as u64,
            StickKey::Bytes(b) => b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &c| {
                (h ^ c as u64).wrapping_mul(0x100_0000_01b3)
            }),
        };
        let h = h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 60;
        &self.shards[h as usize % SHARDS]
    }

    /// The server id stored for `k`, if present and not expired.
    pub fn lookup(&self, k: &StickKey) -> Option<u32> {
        self.lookup_entry(k).map(|(id, _)| id)
    }

    /// The server id and server key stored for `k`, if present and not expired.
    pub fn lookup_entry(&self, k: &StickKey) -> Option<(u32, Option<Arc<str>>)> {
        let now = Instant::now();
        let mut m = self.shard(k).lock().unwrap_or_else(|e| e.into_inner());
        match m.get(k) {
            Some(e) if e.expires.map_or(true, |x| x > now) => {
                Some((e.server_id, e.server_key.clone()))
            }
            Some(_) => {
                m.remove(k);
                None
            }
            None => None,
        }
    }

    /// Stores (or refreshes) `k` → `server_id`. When full, expired entries are purged first,
    /// then the least recently touched entry is evicted (HAProxy evicts the oldest too).
    pub fn store(&self, k: StickKey, server_id: u32) {
        self.store_entry(k, server_id, None)
    }

    /// Whether entries name their server by address (`srvkey addr`).
    pub fn srvkey_addr(&self) -> bool {
        self.srvkey_addr
    }

    /// Stores `k` → the server's id and key (name or address, per `srvkey`).
    pub fn store_server(&self, k: StickKey, server: StoredServer<'_>) {
        let key: Option<Arc<str>> = if self.srvkey_addr {
            server.addr.map(|a| Arc::from(a.to_string()))
        } else {
            Some(Arc::from(server.name))
        };
        self.store_entry(k, server.id, key)
    }

    fn store_entry(&self, k: StickKey, server_id: u32, server_key: Option<Arc<str>>) {
        let now = Instant::now();
        let expires = self.expire.map(|d| now + d);
        let mut m = self.shard(&k).lock().unwrap_or_else(|e| e.into_inner());
        if !m.contains_key(&k) && m.len() >= self.shard_cap {
            m.retain(|_, e| e.expires.map_or(true, |x| x > now));
            if m.len() >= self.shard_cap {
                if let Some(oldest) = m
                    .iter()
                    .min_by_key(|(_, e)| e.touched)
                    .map(|(k, _)| k.clone())
                {
                    m.remove(&oldest);
                }
            }
        }
        m.insert(
            k,
            Entry {
                server_id,
                server_key,
                expires,
                touched: now,
            },
        );
    }

    /// Number of live entries (for stats/tests).
    pub fn len(&self) -> usize {
        let now = Instant::now();
        self.shards
            .iter()
            .map(|s| {
                s.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .values()
                    .filter(|e| e.expires.map_or(true, |x| x > now))
                    .count()
            })
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Clone)]
struct StickRule {
    kind: ir::StickRuleKind,
    expr: CompiledExpr,
    /// Table name (None = the backend's own table).
    table: Option<String>,
    cond: Option<CompiledCond>,
}

/// A backend's compiled `stick` rules.
#[derive(Debug, Clone, Default)]
pub struct StickRules {
    rules: Vec<StickRule>,
}

impl StickRules {
    pub fn compile(
        p: &ir::Proxy,
        acls: &AclSet,
        env: &CompileEnv,
    ) -> Result<StickRules, CompileError> {
        let mut rules = Vec::with_capacity(p.stick_rules.len());
        for r in &p.stick_rules {
            rules.push(StickRule {
                kind: r.kind,
                expr: CompiledExpr::compile(&r.expr, env)?,
                table: r.table.clone(),
                cond: CompiledCond::compile_opt(r.cond.as_ref(), acls, env)?,
            });
        }
        Ok(StickRules { rules })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Request side `stick match` / `stick on`: the first matching rule whose key is in its
    /// table and designates a server of this backend that is up (or `persist`) gives the
    /// server index. `tables(name)` resolves a table (None name = own table); `server_ids`
    /// maps server index → numeric id.
    pub fn match_request(
        &self,
        ec: &EvalCtx<'_>,
        tables: &dyn Fn(Option<&str>) -> Option<std::sync::Arc<StickTable>>,
        server_ids: &[u32],
        key_index: &dyn Fn(&str, bool) -> Option<usize>,
        live: &ServerSet,
        persist: bool,
    ) -> Option<usize> {
        for r in &self.rules {
            if !matches!(r.kind, ir::StickRuleKind::Match | ir::StickRuleKind::On) {
                continue;
            }
            if !cond_ok(r.cond.as_ref(), ec) {
                continue;
            }
            let Some(t) = tables(r.table.as_deref()) else {
                continue;
            };
            let Some(s) = r.expr.eval(ec) else { continue };
            let Some(k) = t.key_of(&s) else { continue };
            let Some((id, key)) = t.lookup_entry(&k) else {
                continue;
            };
            // the server with the stored name (or address) first, then the one with the id
            let by_key = key.and_then(|k| key_index(&k, t.srvkey_addr));
            let Some(idx) = by_key.or_else(|| server_ids.iter().position(|&x| x == id)) else {
                continue;
            };
            if live.get(idx).map(|s| s.is_up()).unwrap_or(false) || persist {
                return Some(idx);
            }
        }
        None
    }

    /// After the server is chosen: `stick on` and `stick store-request` store the key.
    pub fn store_request(
        &self,
        ec: &EvalCtx<'_>,
        tables: &dyn Fn(Option<&str>) -> Option<std::sync::Arc<StickTable>>,
        server: StoredServer<'_>,
    ) {
        self.store(
            ec,
            tables,
            server,
            &[ir::StickRuleKind::On, ir::StickRuleKind::StoreRequest],
        );
    }

    /// On the response: `stick store-response` rules (EvalCtx with the response).
    pub fn store_response(
        &self,
        ec: &EvalCtx<'_>,
        tables: &dyn Fn(Option<&str>) -> Option<std::sync::Arc<StickTable>>,
        server: StoredServer<'_>,
    ) {
        self.store(ec, tables, server, &[ir::StickRuleKind::StoreResponse]);
    }

    fn store(
        &self,
        ec: &EvalCtx<'_>,
        tables: &dyn Fn(Option<&str>) -> Option<std::sync::Arc<StickTable>>,
        server: StoredServer<'_>,
        kinds: &[ir::StickRuleKind],
    ) {
        // HAProxy stores at most one key per table per stream (first matching rule).
        let mut done: Vec<Option<&str>> = Vec::new();
        for r in &self.rules {
            if !kinds.contains(&r.kind) || done.contains(&r.table.as_deref()) {
                continue;
            }
            if !cond_ok(r.cond.as_ref(), ec) {
                continue;
            }
            let Some(t) = tables(r.table.as_deref()) else {
                continue;
            };
            let Some(s) = r.expr.eval(ec) else { continue };
            if let Some(k) = t.key_of(&s) {
                t.store_server(k, server);
                done.push(r.table.as_deref());
            }
        }
    }
}

// Runtime API (`show table`, `clear table`) accessors, added for cli_api.rs.
impl StickTable {
    /// Live entries as (key, server id, remaining time to expiry).
    pub fn entries(&self) -> Vec<(StickKey, u32, Option<Duration>)> {
        let now = Instant::now();
        let mut out = Vec::new();
        for s in &self.shards {
            let m = s.lock().unwrap_or_else(|e| e.into_inner());
            for (k, e) in m.iter() {
                if e.expires.map_or(true, |x| x > now) {
                    out.push((k.clone(), e.server_id, e.expires.map(|x| x - now)));
                }
            }
        }
        out
    }
    /// Removes every entry (`clear table`).
    pub fn clear(&self) {
        for s in &self.shards {
            s.lock().unwrap_or_else(|e| e.into_inner()).clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::ctx::{RequestCtx, Vars};
    use crate::proxy::server_state::ServerState;
    use crate::proxy::testutil::{conn, expr, req};
    use std::sync::Arc;

    #[test]
    fn ip_table_store_lookup_expire_evict() {
        let t = StickTable::new(KeyKind::Ip, 32, Some(Duration::from_millis(50)));
        let k = t.key_of(&Smp::Ip("10.0.0.1".parse().unwrap())).unwrap();
        assert_eq!(t.lookup(&k), None);
        t.store(k.clone(), 7);
        assert_eq!(t.lookup(&k), Some(7));
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(t.lookup(&k), None, "expired");
        let t = StickTable::new(KeyKind::Integer, 16, None);
        for i in 0..100 {
            t.store(StickKey::Int(i), 1);
        }
        assert!(t.len() <= 16, "size bounded: {}", t.len());
        let s = StickTable::new(KeyKind::String(4), 10, None);
        assert_eq!(
            s.key_of(&Smp::str(b"abcdefgh")),
            Some(StickKey::Bytes(b"abcd"[..].into()))
        );
    }

    #[test]
    fn stick_on_src() {
        let p = ir::Proxy {
            name: "be".into(),
            stick_table: Some(ir::StickTable {
                key: ir::StickKeyType::Ip,
                size: 1000,
                expire: None,
                nopurge: false,
                srvkey_addr: false,
                peers: None,
                store: vec![],
                span: Default::default(),
            }),
            stick_rules: vec![ir::StickRule {
                kind: ir::StickRuleKind::On,
                expr: expr("src"),
                table: None,
                cond: None,
                span: Default::default(),
            }],
            ..Default::default()
        };
        let env = CompileEnv::default();
        let rules = StickRules::compile(&p, &AclSet::default(), &env).unwrap();
        let table = Arc::new(StickTable::from_ir(p.stick_table.as_ref().unwrap()));
        let tables = |n: Option<&str>| {
            if n.is_none() {
                Some(table.clone())
            } else {
                None
            }
        };
        let live = ServerSet::new(vec![
            ServerState::new(1, false, 0),
            ServerState::new(1, false, 0),
        ]);
        let ids = [1u32, 2];
        let vars = Vars::new();
        let h = req("GET", "/", &[]);
        let c = conn("1.2.3.4:5", "9.9.9.9:80");
        let r = RequestCtx::new(&h, &c, "fe", "be", &vars);
        let ec = EvalCtx::new(&r);
        let names = ["s1", "s2"];
        let by_name = |k: &str, _addr: bool| names.iter().position(|n| *n == k);
        let by_id_only = |_: &str, _: bool| None;
        assert_eq!(
            rules.match_request(&ec, &tables, &ids, &by_name, &live, false),
            None
        );
        let stored = StoredServer {
            id: 2,
            name: "s2",
            addr: None,
        };
        rules.store_request(&ec, &tables, stored);
        assert_eq!(
            rules.match_request(&ec, &tables, &ids, &by_name, &live, false),
            Some(1)
        );
        assert_eq!(
            rules.match_request(&ec, &tables, &ids, &by_id_only, &live, false),
            Some(1),
            "no server with that name: by id"
        );
        let renamed = |k: &str, _: bool| (k == "s2").then_some(0);
        assert_eq!(
            rules.match_request(&ec, &tables, &ids, &renamed, &live, false),
            Some(0),
            "the name wins over the id (a table shared by backends)"
        );
        let ids = [1u32, 2];
        live.set_running(1, false);
        assert_eq!(
            rules.match_request(&ec, &tables, &ids, &by_name, &live, false),
            None,
            "down server not used"
        );
        assert_eq!(
            rules.match_request(&ec, &tables, &ids, &by_name, &live, true),
            Some(1),
            "option persist"
        );
    }
}

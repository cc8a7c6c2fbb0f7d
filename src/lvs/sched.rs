//! IPVS schedulers with the Linux kernel's semantics (`ip_vs_rr.c`, `ip_vs_wrr.c`, ...), written
//! from their documented behaviour.
//!
//! A [`Scheduler`] picks one of a service's destinations for a new connection. Destinations with
//! weight 0 are quiesced (never picked for new connections, persistent templates aside); an
//! overloaded destination (active connections at its `uthreshold`) is skipped like the kernel's
//! `IP_VS_DEST_F_OVERLOAD`. Connection counts are the ones the forwarder keeps on each [`Dest`].

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicI32, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::keepalived::ir::LbAlgo;

/// A destination (real server, or the sorry server) of a virtual service.
#[derive(Debug)]
pub struct Dest {
    pub addr: SocketAddr,
    /// IPVS weight; 0 = quiesced.
    pub weight: AtomicI32,
    /// Connections being proxied now (IPVS `activeconns`).
    pub active: AtomicU32,
    /// IPVS `inactconns` (connections in TIME_WAIT etc.); a proxy has none, kept for the formulas.
    pub inactive: AtomicU32,
    /// Upper connection threshold (0 = none): at or above it the dest is overloaded.
    pub uthreshold: u32,
}

impl Dest {
    pub fn new(addr: SocketAddr, weight: i32, uthreshold: u32) -> Dest {
        Dest {
            addr,
            weight: AtomicI32::new(weight),
            active: AtomicU32::new(0),
            inactive: AtomicU32::new(0),
            uthreshold,
        }
    }
    pub fn weight(&self) -> i32 {
        self.weight.load(Ordering::Relaxed)
    }
    pub fn active(&self) -> u32 {
        self.active.load(Ordering::Relaxed)
    }
    fn inactive(&self) -> u32 {
        self.inactive.load(Ordering::Relaxed)
    }
    pub fn overloaded(&self) -> bool {
        self.uthreshold > 0 && self.active() >= self.uthreshold
    }
    /// Usable for a new connection: weight > 0 and not overloaded.
    fn available(&self) -> bool {
        self.weight() > 0 && !self.overloaded()
    }
    /// `ip_vs_dest_conn_overhead`: active connections weigh 256 times inactive ones.
    fn conn_overhead(&self) -> u64 {
        ((self.active() as u64) << 8) + self.inactive() as u64
    }
}

/// Size of the sh / dh hash tables (kernel `IP_VS_SH_TAB_BITS` / `IP_VS_DH_TAB_BITS` = 8).
const TAB_BITS: u32 = 8;
const TAB_SIZE: usize = 1 << TAB_BITS;
/// lblc entries unused this long are forgotten (kernel: 24 h, `sysctl_lblc_expiration`).
const LBLC_EXPIRATION: Duration = Duration::from_secs(24 * 3600);
/// lblc table size that triggers a clean-up (the kernel's table is 1024 buckets, 16 k entries).
const LBLC_MAX_ENTRIES: usize = 16 * 1024;

fn gcd(a: i32, b: i32) -> i32 {
    let (mut a, mut b) = (a, b);
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

/// `hash_32` of the kernel (multiplicative hash with the 32-bit golden ratio).
fn hash_32(val: u32, bits: u32) -> u32 {
    val.wrapping_mul(0x61C8_8647) >> (32 - bits)
}

/// Folds an address to 32 bits like `ip_vs_*_hashkey` (IPv6: xor of the four words).
fn addr_fold(addr: IpAddr) -> u32 {
    match addr {
        IpAddr::V4(a) => u32::from(a),
        IpAddr::V6(a) => {
            let o = a.octets();
            (0..4).fold(0u32, |acc, i| {
                acc ^ u32::from_be_bytes([o[4 * i], o[4 * i + 1], o[4 * i + 2], o[4 * i + 3]])
            })
        }
    }
}

/// Per-service scheduling state (the kernel's `sched_data`).
#[derive(Debug)]
pub struct Scheduler {
    algo: LbAlgo,
    /// rr: index of the last chosen destination (`None` = list head).
    rr_last: Option<usize>,
    /// wrr: current index, current weight, max weight, gcd.
    wrr_cl: Option<usize>,
    wrr_cw: i32,
    wrr_mw: i32,
    wrr_di: i32,
    /// sh / dh: bucket -> destination index.
    table: Vec<usize>,
    /// lblc: destination address -> (destination index, last use).
    lblc: HashMap<IpAddr, (SocketAddr, Instant)>,
}

impl Scheduler {
    /// A scheduler for `algo`; algorithms the kernel has but we do not model fall back to wlc.
    pub fn new(algo: LbAlgo) -> Scheduler {
        let algo = match algo {
            LbAlgo::Rr
            | LbAlgo::Wrr
            | LbAlgo::Lc
            | LbAlgo::Wlc
            | LbAlgo::Sh
            | LbAlgo::Dh
            | LbAlgo::Lblc
            | LbAlgo::Sed
            | LbAlgo::Nq => algo,
            LbAlgo::Lblcr => LbAlgo::Lblc,
            _ => LbAlgo::Wlc,
        };
        Scheduler {
            algo,
            rr_last: None,
            wrr_cl: None,
            wrr_cw: 0,
            wrr_mw: 0,
            wrr_di: 1,
            table: Vec::new(),
            lblc: HashMap::new(),
        }
    }

    pub fn algo(&self) -> LbAlgo {
        self.algo
    }

    /// Called whenever destinations are added, removed or re-weighted (`update_service`).
    pub fn dests_changed(&mut self, dests: &[Arc<Dest>]) {
        // rr / wrr restart at the list head, like the kernel's `*_dest_changed`.
        self.rr_last = None;
        let weights: Vec<i32> = dests.iter().map(|d| d.weight().max(0)).collect();
        let di = weights.iter().copied().filter(|w| *w > 0).fold(0, gcd);
        let di = if di == 0 { 1 } else { di };
        let max = weights.iter().copied().max().unwrap_or(0);
        self.wrr_cl = None;
        self.wrr_di = di;
        self.wrr_mw = max - (di - 1);
        if self.wrr_cw > self.wrr_mw || self.wrr_cw == 0 {
            self.wrr_cw = self.wrr_mw;
        } else if di > 1 {
            self.wrr_cw = (self.wrr_cw / di) * di + 1;
        }
        self.table.clear();
        if dests.is_empty() {
            return;
        }
        match self.algo {
            LbAlgo::Sh => {
                // Each destination takes `weight` consecutive buckets (at least one).
                let mut d = 0;
                let mut count = 0;
                for _ in 0..TAB_SIZE {
                    self.table.push(d);
                    count += 1;
                    if count >= weights[d] {
                        d = (d + 1) % dests.len();
                        count = 0;
                    }
                }
            }
            LbAlgo::Dh => {
                for i in 0..TAB_SIZE {
                    self.table.push(i % dests.len());
                }
            }
            _ => {}
        }
    }

    /// Picks a destination for a new connection from `client` to `local` (the virtual address).
    pub fn schedule(
        &mut self,
        dests: &[Arc<Dest>],
        client: IpAddr,
        local: IpAddr,
    ) -> Option<usize> {
        if dests.is_empty() {
            return None;
        }
        match self.algo {
            LbAlgo::Rr => self.rr(dests),
            LbAlgo::Wrr => self.wrr(dests),
            LbAlgo::Lc => least(dests, |d| d.conn_overhead(), false),
            LbAlgo::Sed => least(dests, |d| d.active() as u64 + 1, true),
            LbAlgo::Nq => dests
                .iter()
                .position(|d| d.available() && d.active() == 0)
                .or_else(|| least(dests, |d| d.active() as u64 + 1, true)),
            LbAlgo::Sh => self.hashed(dests, client, true),
            LbAlgo::Dh => self.hashed(dests, local, false),
            LbAlgo::Lblc => self.lblc(dests, local),
            _ => least(dests, |d| d.conn_overhead(), true),
        }
    }

    fn rr(&mut self, dests: &[Arc<Dest>]) -> Option<usize> {
        let n = dests.len();
        let start = self.rr_last.map(|i| i + 1).unwrap_or(0);
        for k in 0..n {
            let i = (start + k) % n;
            if dests[i].available() {
                self.rr_last = Some(i);
                return Some(i);
            }
        }
        None
    }

    /// The kernel's interleaved weighted round robin: walk the list repeatedly, each pass with a
    /// current weight `cw` lowered by the gcd, picking destinations whose weight is >= cw.
    fn wrr(&mut self, dests: &[Arc<Dest>]) -> Option<usize> {
        let n = dests.len();
        if self.wrr_mw <= 0 {
            return None;
        }
        // Bound the walk: at most (mw / di + 1) passes over the list.
        let passes = (self.wrr_mw / self.wrr_di.max(1)) as usize + 2;
        let mut next = self.wrr_cl.map(|i| i + 1).unwrap_or(0);
        for _ in 0..passes {
            while next < n {
                let d = &dests[next];
                if !d.overloaded() && d.weight() >= self.wrr_cw && d.weight() > 0 {
                    self.wrr_cl = Some(next);
                    return Some(next);
                }
                next += 1;
            }
            self.wrr_cw -= self.wrr_di;
            if self.wrr_cw <= 0 {
                self.wrr_cw = self.wrr_mw;
            }
            next = 0;
        }
        self.wrr_cl = None;
        None
    }

    fn hashed(&mut self, dests: &[Arc<Dest>], key: IpAddr, sh: bool) -> Option<usize> {
        if self.table.len() != TAB_SIZE {
            self.dests_changed(dests);
        }
        let bucket = if sh {
            hash_32(addr_fold(key), TAB_BITS) as usize
        } else {
            (addr_fold(key).wrapping_mul(2_654_435_761) as usize) & (TAB_SIZE - 1)
        };
        let i = *self.table.get(bucket)?;
        let d = dests.get(i)?;
        d.available().then_some(i)
    }

    /// Locality-based least connection: keep a destination address on the server it went to,
    /// unless that server is gone, quiesced or overloaded relative to the others.
    fn lblc(&mut self, dests: &[Arc<Dest>], key: IpAddr) -> Option<usize> {
        let now = Instant::now();
        if self.lblc.len() >= LBLC_MAX_ENTRIES {
            // the kernel's periodic garbage collection: expired entries, then the oldest half
            self.lblc
                .retain(|_, (_, used)| now.duration_since(*used) < LBLC_EXPIRATION);
            if self.lblc.len() >= LBLC_MAX_ENTRIES {
                let mut ages: Vec<Instant> = self.lblc.values().map(|(_, u)| *u).collect();
                ages.sort_unstable();
                let cut = ages[ages.len() / 2];
                self.lblc.retain(|_, (_, used)| *used > cut);
            }
        }
        if let Some((addr, _)) = self.lblc.get(&key).copied() {
            if let Some(i) = dests.iter().position(|d| d.addr == addr) {
                let d = &dests[i];
                let overloaded = d.active() as i64 > d.weight() as i64
                    && dests
                        .iter()
                        .any(|o| (o.active() as i64) * 2 < o.weight() as i64);
                if d.available() && !overloaded {
                    self.lblc.insert(key, (addr, now));
                    return Some(i);
                }
            }
        }
        let i = least(
            dests,
            |d| d.active() as u64 * 50 + d.inactive() as u64,
            true,
        )?;
        self.lblc.insert(key, (dests[i].addr, now));
        Some(i)
    }
}

/// The least-loaded available destination; `weighted` compares overhead / weight the kernel's
/// way (cross multiplication, first wins ties).
fn least(dests: &[Arc<Dest>], overhead: impl Fn(&Dest) -> u64, weighted: bool) -> Option<usize> {
    let mut best: Option<(usize, u64, u64)> = None;
    for (i, d) in dests.iter().enumerate() {
        if !d.available() {
            continue;
        }
        let oh = overhead(d);
        let w = if weighted { d.weight() as u64 } else { 1 };
        match best {
            None => best = Some((i, oh, w)),
            Some((_, loh, lw)) => {
                if (loh as u128) * (w as u128) > (oh as u128) * (lw as u128) {
                    best = Some((i, oh, w));
                }
            }
        }
    }
    best.map(|(i, _, _)| i)
}

/// A persistence template: which destination a client (masked) was sent to.
#[derive(Debug, Clone, Copy)]
pub struct Template {
    pub dest: SocketAddr,
    /// Connections currently controlled by the template (it does not expire while > 0).
    pub controlled: u32,
    pub expires: Instant,
}

/// `persistence_timeout` / `persistence_granularity`: client (network) -> destination.
#[derive(Debug)]
pub struct Persistence {
    pub timeout: Duration,
    /// Netmask applied to client addresses (IPv4 /32 or IPv6 /128 by default).
    pub granularity: Option<IpAddr>,
    templates: HashMap<IpAddr, Template>,
    /// Expired templates are swept at most once a second (the kernel uses timers).
    last_sweep: Option<Instant>,
}

impl Persistence {
    pub fn new(timeout: Duration, granularity: Option<IpAddr>) -> Persistence {
        Persistence {
            timeout,
            granularity,
            templates: HashMap::new(),
            last_sweep: None,
        }
    }

    /// The template key for a client address.
    pub fn key(&self, client: IpAddr) -> IpAddr {
        match (client, self.granularity) {
            (IpAddr::V4(c), Some(IpAddr::V4(m))) => {
                IpAddr::V4((u32::from(c) & u32::from(m)).into())
            }
            (IpAddr::V6(c), Some(IpAddr::V6(m))) => {
                IpAddr::V6((u128::from(c) & u128::from(m)).into())
            }
            (IpAddr::V6(c), Some(IpAddr::V4(m))) => {
                // keepalived takes a prefix length for IPv6; a dotted mask means its bit count.
                let bits = u32::from(m).count_ones().min(128);
                let mask = if bits == 0 {
                    0
                } else {
                    u128::MAX << (128 - bits)
                };
                IpAddr::V6((u128::from(c) & mask).into())
            }
            (c, _) => c,
        }
    }

    /// The destination the template for `client` names, if live and still in the service.
    /// A quiesced (weight 0) destination keeps its clients, as the kernel does by default
    /// (`expire_quiescent_template` = 0); a removed one ends the template.
    pub fn lookup(&mut self, client: IpAddr, dests: &[Arc<Dest>], now: Instant) -> Option<usize> {
        let key = self.key(client);
        let t = self.templates.get(&key).copied()?;
        if t.controlled == 0 && now >= t.expires {
            self.templates.remove(&key);
            return None;
        }
        match dests.iter().position(|d| d.addr == t.dest) {
            Some(i) if !dests[i].overloaded() => Some(i),
            _ => {
                self.templates.remove(&key);
                None
            }
        }
    }

    /// Records that a connection of `client` goes to `dest` (creates or refreshes the template).
    pub fn bind(&mut self, client: IpAddr, dest: SocketAddr, now: Instant) {
        let key = self.key(client);
        let timeout = self.timeout;
        let t = self.templates.entry(key).or_insert(Template {
            dest,
            controlled: 0,
            expires: now + timeout,
        });
        t.dest = dest;
        t.controlled += 1;
        t.expires = now + timeout;
    }

    /// A connection of `client` ended: the template lives `timeout` longer.
    pub fn release(&mut self, client: IpAddr, now: Instant) {
        let key = self.key(client);
        if let Some(t) = self.templates.get_mut(&key) {
            t.controlled = t.controlled.saturating_sub(1);
            t.expires = now + self.timeout;
        }
        let due = self
            .last_sweep
            .map(|l| now.saturating_duration_since(l) >= Duration::from_secs(1))
            .unwrap_or(true);
        if self.templates.len() > 4096 && due {
            self.last_sweep = Some(now);
            self.templates
                .retain(|_, t| t.controlled > 0 || t.expires > now);
        }
    }

    /// Forgets templates that name `dest` (the destination was removed).
    pub fn forget_dest(&mut self, dest: SocketAddr) {
        self.templates.retain(|_, t| t.dest != dest);
    }

    pub fn len(&self) -> usize {
        self.templates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dests(weights: &[i32]) -> Vec<Arc<Dest>> {
        weights
            .iter()
            .enumerate()
            .map(|(i, w)| {
                Arc::new(Dest::new(
                    SocketAddr::from(([10, 0, 0, 11 + i as u8], 80)),
                    *w,
                    0,
                ))
            })
            .collect()
    }

    fn run(algo: LbAlgo, d: &[Arc<Dest>], n: usize) -> Vec<usize> {
        let mut s = Scheduler::new(algo);
        s.dests_changed(d);
        let c: IpAddr = [10, 0, 0, 100].into();
        (0..n)
            .map(|_| s.schedule(d, c, c).unwrap_or(usize::MAX))
            .collect()
    }

    #[test]
    fn wrr_follows_kernel_sequence() {
        // (weights, first picks) — the kernel's gcd / max-weight walk.
        let table: &[(&[i32], &[usize])] = &[
            (&[2, 1], &[0, 0, 1, 0, 0, 1]),
            (&[4, 3, 2], &[0, 0, 1, 0, 1, 2, 0, 1, 2]),
            (&[1, 1], &[0, 1, 0, 1]),
            (&[2, 2], &[0, 1, 0, 1]),
            (&[0, 3], &[1, 1, 1]),
            (&[4, 2], &[0, 0, 1, 0, 0, 1]),
        ];
        for (w, want) in table {
            let d = dests(w);
            assert_eq!(&run(LbAlgo::Wrr, &d, want.len()), want, "weights {w:?}");
        }
    }

    #[test]
    fn wrr_ratio_over_many() {
        let d = dests(&[2, 1]);
        let picks = run(LbAlgo::Wrr, &d, 300);
        assert_eq!(picks.iter().filter(|&&i| i == 0).count(), 200);
        assert_eq!(picks.iter().filter(|&&i| i == 1).count(), 100);
    }

    #[test]
    fn all_quiesced_gives_none() {
        for algo in [
            LbAlgo::Rr,
            LbAlgo::Wrr,
            LbAlgo::Lc,
            LbAlgo::Wlc,
            LbAlgo::Sed,
            LbAlgo::Nq,
            LbAlgo::Sh,
            LbAlgo::Dh,
            LbAlgo::Lblc,
        ] {
            let d = dests(&[0, 0]);
            assert_eq!(run(algo, &d, 3), vec![usize::MAX; 3], "{algo:?}");
        }
    }

    #[test]
    fn rr_skips_quiesced() {
        let d = dests(&[1, 0, 5]);
        assert_eq!(run(LbAlgo::Rr, &d, 4), vec![0, 2, 0, 2]);
    }

    #[test]
    fn least_connection_family() {
        let d = dests(&[1, 3]);
        d[0].active.store(1, Ordering::Relaxed);
        d[1].active.store(2, Ordering::Relaxed);
        // lc: raw counts -> dest 0; wlc: 256/1 vs 512/3 -> dest 1.
        assert_eq!(run(LbAlgo::Lc, &d, 1), vec![0]);
        assert_eq!(run(LbAlgo::Wlc, &d, 1), vec![1]);
        // sed: (1+1)/1 vs (2+1)/3 -> dest 1
        assert_eq!(run(LbAlgo::Sed, &d, 1), vec![1]);
        // nq: an idle server wins at once
        d[0].active.store(0, Ordering::Relaxed);
        assert_eq!(run(LbAlgo::Nq, &d, 1), vec![0]);
    }

    #[test]
    fn sh_is_stable_per_client_and_weighted() {
        let d = dests(&[1, 1, 1]);
        let mut s = Scheduler::new(LbAlgo::Sh);
        s.dests_changed(&d);
        let mut seen = [0usize; 3];
        for last in 1..=250u8 {
            let c: IpAddr = [192, 168, 1, last].into();
            let a = s.schedule(&d, c, c);
            assert_eq!(a, s.schedule(&d, c, c));
            seen[a.unwrap_or(0)] += 1;
        }
        assert!(seen.iter().all(|&n| n > 30), "{seen:?}");
        // a quiesced destination makes its clients unschedulable (no fallback)
        d[0].weight.store(0, Ordering::Relaxed);
        let c: IpAddr = (1..=250u8)
            .map(|l| IpAddr::from([192, 168, 1, l]))
            .find(|c| {
                let mut s2 = Scheduler::new(LbAlgo::Sh);
                s2.dests_changed(&dests(&[1, 1, 1]));
                s2.schedule(&dests(&[1, 1, 1]), *c, *c) == Some(0)
            })
            .unwrap();
        assert_eq!(s.schedule(&d, c, c), None);
    }

    #[test]
    fn persistence_keeps_client_until_timeout() {
        let d = dests(&[1, 1]);
        let mut p = Persistence::new(Duration::from_secs(50), Some([255, 255, 255, 0].into()));
        let now = Instant::now();
        let c1: IpAddr = [10, 1, 1, 5].into();
        let c2: IpAddr = [10, 1, 1, 9].into();
        assert_eq!(p.lookup(c1, &d, now), None);
        p.bind(c1, d[1].addr, now);
        p.release(c1, now);
        // same /24 shares the template
        assert_eq!(p.lookup(c2, &d, now + Duration::from_secs(10)), Some(1));
        // quiesced dest keeps its clients
        d[1].weight.store(0, Ordering::Relaxed);
        assert_eq!(p.lookup(c1, &d, now + Duration::from_secs(20)), Some(1));
        assert_eq!(p.lookup(c1, &d, now + Duration::from_secs(51)), None);
        // removed dest ends the template
        p.bind(c1, d[1].addr, now);
        assert_eq!(p.lookup(c1, &d[..1], now), None);
    }
}

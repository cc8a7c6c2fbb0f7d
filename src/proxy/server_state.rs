//! Live, lock-free runtime state of a backend's servers.
//!
//! One [`ServerSet`] per backend, shared (`Arc`) between the request path (balance, cookie
//! persistence, connection accounting), the health-check tasks and the stats page. Every
//! field is an atomic; changes to what the load balancer must know (up/down, maintenance,
//! weight) go through `ServerSet` methods that bump a generation counter, so balance.rs notices
//! them with one atomic load per pick and rebuilds its tables only then.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Operational state bit: the server passes its health checks (or has none).
const ST_RUNNING: u32 = 1;
/// Administrative maintenance (`disabled` keyword, stats admin, CLI).
const ST_MAINT: u32 = 2;
/// Administrative drain (weight forced to 0 for the load balancer, persistence still works).
const ST_DRAIN: u32 = 4;
const WEIGHT_SHIFT: u32 = 16;

/// Result of the last health check, for logs and the stats page (`check_status` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum CheckStatus {
    /// No check configured / not run yet.
    None = 0,
    L4Ok = 1,
    L4Timeout = 2,
    L4Conn = 3,
    L7Ok = 4,
    L7Timeout = 5,
    L7Rsp = 6,
    L7Sts = 7,
    /// Initialising (before the first result).
    Ini = 8,
    SockErr = 9,
    L6Ok = 10,
    L6Timeout = 11,
    L6Rsp = 12,
}

impl CheckStatus {
    pub fn from_u32(v: u32) -> CheckStatus {
        match v {
            1 => CheckStatus::L4Ok,
            2 => CheckStatus::L4Timeout,
            3 => CheckStatus::L4Conn,
            4 => CheckStatus::L7Ok,
            5 => CheckStatus::L7Timeout,
            6 => CheckStatus::L7Rsp,
            7 => CheckStatus::L7Sts,
            8 => CheckStatus::Ini,
            9 => CheckStatus::SockErr,
            10 => CheckStatus::L6Ok,
            11 => CheckStatus::L6Timeout,
            12 => CheckStatus::L6Rsp,
            _ => CheckStatus::None,
        }
    }
    /// HAProxy's short name (`L4OK`, `L7STS`, ...), as in the CSV `check_status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::None => "",
            CheckStatus::L4Ok => "L4OK",
            CheckStatus::L4Timeout => "L4TOUT",
            CheckStatus::L4Conn => "L4CON",
            CheckStatus::L7Ok => "L7OK",
            CheckStatus::L7Timeout => "L7TOUT",
            CheckStatus::L7Rsp => "L7RSP",
            CheckStatus::L7Sts => "L7STS",
            CheckStatus::Ini => "INI",
            CheckStatus::SockErr => "SOCKERR",
            CheckStatus::L6Ok => "L6OK",
            CheckStatus::L6Timeout => "L6TOUT",
            CheckStatus::L6Rsp => "L6RSP",
        }
    }
    /// HAProxy's description (`Layer4 check passed`...), as in logs and `check_desc`.
    pub fn description(self) -> &'static str {
        match self {
            CheckStatus::None => "Unknown",
            CheckStatus::Ini => "Initializing",
            CheckStatus::SockErr => "Socket error",
            CheckStatus::L4Ok => "Layer4 check passed",
            CheckStatus::L4Timeout => "Layer4 timeout",
            CheckStatus::L4Conn => "Layer4 connection problem",
            CheckStatus::L6Ok => "Layer6 check passed",
            CheckStatus::L6Timeout => "Layer6 timeout",
            CheckStatus::L6Rsp => "Layer6 invalid response",
            CheckStatus::L7Timeout => "Layer7 timeout",
            CheckStatus::L7Rsp => "Layer7 invalid response",
            CheckStatus::L7Ok => "Layer7 check passed",
            CheckStatus::L7Sts => "Layer7 wrong status",
        }
    }
    /// Whether the check passed.
    pub fn passed(self) -> bool {
        matches!(
            self,
            CheckStatus::L4Ok | CheckStatus::L6Ok | CheckStatus::L7Ok
        )
    }
}

/// Live state of one server. All fields are atomics; read them with the accessors.
#[derive(Debug)]
pub struct ServerState {
    /// Bits ST_* in the low half, user weight (0..=256) in the high half.
    status: AtomicU32,
    /// Connections currently being served (`served` in HAProxy, `scur` in stats).
    pub cur_conns: AtomicU32,
    /// Requests waiting in this server's queue (`qcur`).
    pub queued: AtomicU32,
    /// Cumulative sessions sent to this server (`stot`).
    pub total_conns: AtomicU64,
    /// Times the load balancer picked this server (`lbtot`).
    pub lb_picks: AtomicU64,
    /// Last check result ([`CheckStatus`] as u32), its duration in ms, and the HTTP status
    /// of an L7 check (0 if none).
    pub check_status: AtomicU32,
    pub check_duration_ms: AtomicU32,
    pub check_code: AtomicU32,
    /// Unix time (seconds) of the last UP/DOWN transition (`lastchg`).
    pub last_change: AtomicU64,
    /// Number of UP→DOWN transitions (`chkdown`).
    pub down_transitions: AtomicU32,
    /// `maxconn` (0 = unlimited): from the configuration, changed by `set maxconn server`.
    maxconn: AtomicU32,
}

impl ServerState {
    /// A server with user weight `weight`, running unless `disabled`.
    pub fn new(weight: u32, disabled: bool, maxconn: u32) -> Self {
        let mut bits = ST_RUNNING;
        if disabled {
            bits |= ST_MAINT;
        }
        ServerState {
            status: AtomicU32::new(bits | (weight.min(256) << WEIGHT_SHIFT)),
            cur_conns: AtomicU32::new(0),
            queued: AtomicU32::new(0),
            total_conns: AtomicU64::new(0),
            lb_picks: AtomicU64::new(0),
            check_status: AtomicU32::new(0),
            check_duration_ms: AtomicU32::new(0),
            check_code: AtomicU32::new(0),
            last_change: AtomicU64::new(0),
            down_transitions: AtomicU32::new(0),
            maxconn: AtomicU32::new(maxconn),
        }
    }

    #[inline]
    fn bits(&self) -> u32 {
        self.status.load(Ordering::Acquire)
    }
    /// Passes its checks (operational state RUNNING), regardless of maintenance.
    #[inline]
    pub fn is_running(&self) -> bool {
        self.bits() & ST_RUNNING != 0
    }
    #[inline]
    pub fn is_maint(&self) -> bool {
        self.bits() & ST_MAINT != 0
    }
    #[inline]
    pub fn is_drain(&self) -> bool {
        self.bits() & ST_DRAIN != 0
    }
    /// User weight (0..=256).
    #[inline]
    pub fn weight(&self) -> u32 {
        self.bits() >> WEIGHT_SHIFT
    }
    /// Can receive traffic at all (running and not in maintenance). Persistence (cookies,
    /// stick tables) may use a server that is up but has weight 0 or is draining.
    #[inline]
    pub fn is_up(&self) -> bool {
        self.bits() & (ST_RUNNING | ST_MAINT) == ST_RUNNING
    }
    /// Eligible for load balancing: up, not draining, weight > 0.
    #[inline]
    pub fn is_lb_usable(&self) -> bool {
        let b = self.bits();
        b & (ST_RUNNING | ST_MAINT | ST_DRAIN) == ST_RUNNING && (b >> WEIGHT_SHIFT) > 0
    }
    pub fn maxconn(&self) -> u32 {
        self.maxconn.load(Ordering::Relaxed)
    }
    /// `set maxconn server` (runtime API).
    pub fn set_maxconn(&self, maxconn: u32) {
        self.maxconn.store(maxconn, Ordering::Relaxed);
    }
    /// Whether one more connection fits (`maxconn` not reached and nobody queued).
    #[inline]
    pub fn has_room(&self) -> bool {
        let maxconn = self.maxconn.load(Ordering::Relaxed);
        maxconn == 0
            || (self.queued.load(Ordering::Relaxed) == 0
                && self.cur_conns.load(Ordering::Relaxed) < maxconn)
    }
    pub fn check_status(&self) -> CheckStatus {
        CheckStatus::from_u32(self.check_status.load(Ordering::Relaxed))
    }
    /// Marks one more connection served; pair with [`ServerState::conn_done`].
    #[inline]
    pub fn conn_start(&self) {
        self.cur_conns.fetch_add(1, Ordering::Relaxed);
        self.total_conns.fetch_add(1, Ordering::Relaxed);
    }
    #[inline]
    pub fn conn_done(&self) {
        let _ = self
            .cur_conns
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| v.checked_sub(1));
    }
}

/// The live states of one backend's servers, in configuration order, plus a generation counter
/// bumped on every change relevant to load balancing.
#[derive(Debug)]
pub struct ServerSet {
    servers: Box<[ServerState]>,
    generation: AtomicU64,
}

impl ServerSet {
    pub fn new(servers: Vec<ServerState>) -> Self {
        ServerSet {
            servers: servers.into_boxed_slice(),
            generation: AtomicU64::new(1),
        }
    }
    #[inline]
    pub fn len(&self) -> usize {
        self.servers.len()
    }
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }
    #[inline]
    pub fn get(&self, idx: usize) -> Option<&ServerState> {
        self.servers.get(idx)
    }
    #[inline]
    pub fn iter(&self) -> std::slice::Iter<'_, ServerState> {
        self.servers.iter()
    }
    /// Changes every time a server's up/maint/drain state or weight changes.
    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn update(&self, idx: usize, f: impl Fn(u32) -> u32) -> bool {
        let Some(s) = self.servers.get(idx) else {
            return false;
        };
        let prev = s
            .status
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| Some(f(b)));
        let changed = match prev {
            Ok(old) => f(old) != old,
            Err(_) => false,
        };
        if changed {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
        changed
    }

    /// Health-check verdict: the server is (not) operational. Returns whether it changed.
    pub fn set_running(&self, idx: usize, running: bool) -> bool {
        let changed = self.update(idx, |b| {
            if running {
                b | ST_RUNNING
            } else {
                b & !ST_RUNNING
            }
        });
        if changed {
            if let Some(s) = self.servers.get(idx) {
                s.last_change.store(unix_now(), Ordering::Relaxed);
                if !running {
                    s.down_transitions.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        changed
    }
    /// Administrative maintenance on/off.
    pub fn set_maint(&self, idx: usize, maint: bool) -> bool {
        self.update(idx, |b| if maint { b | ST_MAINT } else { b & !ST_MAINT })
    }
    /// Administrative drain on/off.
    pub fn set_drain(&self, idx: usize, drain: bool) -> bool {
        self.update(idx, |b| if drain { b | ST_DRAIN } else { b & !ST_DRAIN })
    }
    /// New user weight (clamped to 0..=256).
    pub fn set_weight(&self, idx: usize, weight: u32) -> bool {
        self.update(idx, |b| {
            (b & ((1 << WEIGHT_SHIFT) - 1)) | (weight.min(256) << WEIGHT_SHIFT)
        })
    }
    /// Usable servers count (`nbsrv`): running, not maint, weight > 0 — active or backup.
    pub fn nbsrv(&self) -> u32 {
        self.servers.iter().filter(|s| s.is_lb_usable()).count() as u32
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_bits_and_generation() {
        let set = ServerSet::new(vec![
            ServerState::new(1, false, 0),
            ServerState::new(2, true, 1),
        ]);
        let g0 = set.generation();
        let s1 = set.get(1).unwrap();
        assert!(!s1.is_up() && s1.is_maint() && s1.weight() == 2);
        assert!(set.set_maint(1, false));
        assert!(set.get(1).unwrap().is_lb_usable());
        assert!(!set.set_maint(1, false), "no change, no bump");
        assert!(set.set_weight(0, 0));
        assert!(!set.get(0).unwrap().is_lb_usable() && set.get(0).unwrap().is_up());
        assert!(set.generation() > g0);
        assert!(set.set_running(1, false));
        assert_eq!(set.nbsrv(), 0);
        let s = set.get(1).unwrap();
        s.conn_start();
        assert!(!s.has_room());
        s.conn_done();
        s.conn_done();
        assert_eq!(s.cur_conns.load(Ordering::Relaxed), 0);
    }
}

//! keepalived's VRRP state machine for one instance, as a pure, clock-injected value.
//!
//! No I/O happens here: every event (`start`, `on_timer`, `on_advert`, fault and priority changes,
//! `shutdown`) takes the current [`Instant`] and returns the [`Action`]s the engine must carry out
//! (send an advert, add or remove the VIPs, send gratuitous ARPs, run notify scripts, log).
//! The timing rules are keepalived 2.2.7's (`vrrp.c`, `vrrp_scheduler.c`):
//! master-down = 3 × master_adver_int + skew, where skew is `(256 − prio)/256 s` for VRRPv2 and
//! `(256 − prio) × master_adver_int / 256` for VRRPv3.

use std::cmp::Ordering;
use std::fmt;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::packet::{VrrpHeader, VrrpVersion};

/// Priority of the address owner.
pub const PRIO_OWNER: u8 = 255;
/// Adverts missed before a backup takes over (RFC 3768/5798 §6.1).
pub const DOWN_TIMER_ADVERTS: u32 = 3;

/// The state of an instance, as keepalived names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VrrpState {
    Init,
    Backup,
    Master,
    Fault,
    Stop,
}

impl fmt::Display for VrrpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VrrpState::Init => "INIT",
            VrrpState::Backup => "BACKUP",
            VrrpState::Master => "MASTER",
            VrrpState::Fault => "FAULT",
            VrrpState::Stop => "STOP",
        })
    }
}

/// What the engine must do after an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send an advertisement with this priority (0 = release).
    SendAdvert { priority: u8 },
    /// Add the virtual addresses and routes.
    AddVips,
    /// Remove the virtual addresses and routes.
    RemoveVips,
    /// Send gratuitous ARPs / unsolicited NAs now, and again after `garp_master_delay`.
    Garp,
    /// Run the notify scripts for the state just entered.
    Notify(VrrpState),
    /// A log line in keepalived's wording.
    Log(String),
}

/// The static parameters of an instance that the state machine needs.
#[derive(Debug, Clone, PartialEq)]
pub struct StateParams {
    pub name: String,
    pub version: VrrpVersion,
    /// Configured priority (1–255).
    pub base_priority: u8,
    /// Configured advert interval (whole seconds for v2, centiseconds granularity for v3).
    pub adver_int: Duration,
    /// `state MASTER` in the configuration.
    pub initial_master: bool,
    pub nopreempt: bool,
    pub preempt_delay: Duration,
    /// The address our adverts come from (for equal-priority tie breaks).
    pub our_addr: Option<IpAddr>,
    /// `lower_prio_no_advert`: stay silent on a lower-priority advert.
    pub lower_prio_no_advert: bool,
    /// `higher_prio_send_advert`: advertise once more before yielding.
    pub higher_prio_send_advert: bool,
}

/// One VRRP instance's protocol state.
#[derive(Debug, Clone)]
pub struct VrrpInstance {
    pub params: StateParams,
    state: VrrpState,
    want_master: bool,
    effective_priority: u8,
    master_adver_int: Duration,
    ms_down_timer: Duration,
    /// When the current timer fires (master: next advert; backup: master down).
    sands: Option<Instant>,
    preempt_time: Option<Instant>,
    fault_count: u32,
    vips_set: bool,
    /// The current master's address and priority as last heard.
    pub master_addr: Option<IpAddr>,
    pub master_priority: u8,
    /// keepalived's AH sequence counter: the last one sent, never below the last one heard.
    pub ah_seq: u32,
    /// The last AH sequence number accepted from a peer: the replay floor for received adverts.
    /// keepalived checks received adverts against its send counter instead; two masters that
    /// step their counters in lockstep then drop each other's adverts for good (seen after a
    /// frozen master resumes), which a separate floor avoids without changing the wire.
    pub ah_rx_seq: u32,
    pub last_transition: Option<Instant>,
}

fn skew(version: VrrpVersion, prio_gap: u32, master_adver_int: Duration) -> Duration {
    match version {
        VrrpVersion::V2 => Duration::from_micros(u64::from(prio_gap) * 1_000_000 / 256),
        VrrpVersion::V3 => {
            let cs = master_adver_int.as_millis() as u64 / 10;
            Duration::from_micros(u64::from(prio_gap) * cs * 625 / 16)
        }
    }
}

impl VrrpInstance {
    pub fn new(params: StateParams) -> Self {
        let prio = params.base_priority.max(1);
        VrrpInstance {
            want_master: params.initial_master,
            effective_priority: prio,
            master_adver_int: params.adver_int,
            ms_down_timer: Duration::ZERO,
            sands: None,
            preempt_time: None,
            fault_count: 0,
            vips_set: false,
            master_addr: None,
            master_priority: 0,
            ah_seq: 0,
            ah_rx_seq: 0,
            last_transition: None,
            state: VrrpState::Init,
            params,
        }
    }

    pub fn state(&self) -> VrrpState {
        self.state
    }
    pub fn effective_priority(&self) -> u8 {
        self.effective_priority
    }
    pub fn master_adver_int(&self) -> Duration {
        self.master_adver_int
    }
    /// When the engine must call [`on_timer`](Self::on_timer) next, if at all.
    pub fn deadline(&self) -> Option<Instant> {
        self.sands
    }
    pub fn vips_set(&self) -> bool {
        self.vips_set
    }
    pub fn in_fault(&self) -> bool {
        self.fault_count > 0
    }

    /// keepalived's `VRRP_TIMER_SKEW`.
    pub fn skew_time(&self) -> Duration {
        skew(
            self.params.version,
            256 - u32::from(self.effective_priority),
            self.master_adver_int,
        )
    }

    /// keepalived's `VRRP_MS_DOWN_TIMER`.
    pub fn master_down_interval(&self) -> Duration {
        self.master_adver_int * DOWN_TIMER_ADVERTS + self.skew_time()
    }

    fn is_owner(&self) -> bool {
        self.params.base_priority == PRIO_OWNER
    }

    fn log(&self, out: &mut Vec<Action>, msg: impl fmt::Display) {
        out.push(Action::Log(format!("({}) {}", self.params.name, msg)));
    }

    /// keepalived's `vrrp_init_instance_sands`.
    fn reset_timer(&mut self, now: Instant) {
        self.sands = match self.state {
            VrrpState::Master => Some(now + self.params.adver_int),
            VrrpState::Backup => Some(now + self.ms_down_timer),
            _ => None,
        };
    }

    /// Starts the instance (keepalived's `vrrp_init_state`). `faulted` is the initial fault
    /// condition (tracked interface down, weight-0 script failing).
    pub fn start(&mut self, now: Instant, faulted: bool) -> Vec<Action> {
        let mut out = Vec::new();
        self.fault_count = u32::from(faulted);
        self.master_adver_int = self.params.adver_int;
        self.last_transition = Some(now);
        if faulted {
            self.log(&mut out, "Entering FAULT STATE (init)");
            self.state = VrrpState::Fault;
            out.push(Action::Notify(VrrpState::Fault));
        } else if self.want_master && self.is_owner() {
            // The owner becomes master by timing out of backup at once.
            self.state = VrrpState::Backup;
            self.ms_down_timer = Duration::from_micros(1);
        } else {
            self.ms_down_timer = self.master_down_interval();
            self.log(&mut out, "Entering BACKUP STATE (init)");
            self.state = VrrpState::Backup;
            out.push(Action::Notify(VrrpState::Backup));
        }
        self.reset_timer(now);
        out
    }

    /// `vrrp_startup_delay`: a backup's first master-down wait starts only after `delay`.
    pub fn delay_start(&mut self, now: Instant, delay: Duration) {
        if self.state == VrrpState::Backup && !delay.is_zero() {
            self.sands = Some(now + delay + self.ms_down_timer);
        }
    }

    /// The timer fired: a backup takes over, a master advertises.
    /// `group_allows_master` is false when a sync-group peer is in FAULT.
    pub fn on_timer(&mut self, now: Instant, group_allows_master: bool) -> Vec<Action> {
        let mut out = Vec::new();
        match self.sands {
            Some(t) if t <= now => {}
            _ => return out,
        }
        match self.state {
            VrrpState::Backup => {
                if group_allows_master {
                    self.goto_master(now, &mut out);
                } else {
                    self.ms_down_timer = self.master_down_interval();
                    self.reset_timer(now);
                }
            }
            VrrpState::Master => {
                self.master_tx(now, &mut out);
                self.reset_timer(now);
            }
            _ => self.sands = None,
        }
        out
    }

    /// Takes mastership now (timer expiry, or a sync group moving together).
    pub fn goto_master(&mut self, now: Instant, out: &mut Vec<Action>) {
        if matches!(
            self.state,
            VrrpState::Master | VrrpState::Fault | VrrpState::Stop
        ) {
            return;
        }
        self.want_master = true;
        self.state = VrrpState::Master;
        self.master_adver_int = self.params.adver_int;
        self.master_tx(now, out);
        self.reset_timer(now);
    }

    /// keepalived's `vrrp_state_master_tx`: advertise first, then take the addresses.
    fn master_tx(&mut self, now: Instant, out: &mut Vec<Action>) {
        out.push(Action::SendAdvert {
            priority: self.effective_priority,
        });
        if !self.vips_set {
            self.log(out, "Entering MASTER STATE");
            out.push(Action::AddVips);
            out.push(Action::Garp);
            out.push(Action::Notify(VrrpState::Master));
            self.vips_set = true;
            self.last_transition = Some(now);
        }
    }

    /// Leaves MASTER for BACKUP (keepalived's `vrrp_state_leave_master`).
    pub fn leave_master(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.state != VrrpState::Master {
            return;
        }
        self.log(out, "Entering BACKUP STATE");
        self.preempt_time = None;
        out.push(Action::RemoveVips);
        self.vips_set = false;
        self.state = VrrpState::Backup;
        self.want_master = false;
        out.push(Action::Notify(VrrpState::Backup));
        self.ms_down_timer = self.master_down_interval();
        self.reset_timer(now);
        self.last_transition = Some(now);
    }

    /// A validated advert arrived (see [`super::packet::check_advert`]).
    pub fn on_advert(
        &mut self,
        now: Instant,
        hd: &VrrpHeader,
        src: IpAddr,
        ah_seq: Option<u32>,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        if let Some(seq) = ah_seq {
            self.ah_rx_seq = seq;
            self.ah_seq = self.ah_seq.max(seq);
        }
        match self.state {
            VrrpState::Backup => self.backup_rx(now, hd, src, &mut out),
            VrrpState::Master => self.master_rx(now, hd, src, ah_seq, &mut out),
            _ => {}
        }
        out
    }

    fn adopt_master_interval(&mut self, hd: &VrrpHeader) {
        if self.params.version == VrrpVersion::V3 && hd.adver_int > 0 {
            self.master_adver_int = Duration::from_millis(u64::from(hd.adver_int) * 10);
        }
    }

    /// keepalived's `vrrp_state_backup`.
    fn backup_rx(&mut self, now: Instant, hd: &VrrpHeader, src: IpAddr, out: &mut Vec<Action>) {
        if hd.priority == 0 {
            // The master is leaving: take over after the skew time only.
            self.ms_down_timer = self.skew_time();
            self.reset_timer(now);
            return;
        }
        let preempt_pending = !self.params.preempt_delay.is_zero()
            && self.preempt_time.map(|t| t > now).unwrap_or(true);
        if self.params.nopreempt || hd.priority >= self.effective_priority || preempt_pending {
            self.adopt_master_interval(hd);
            self.ms_down_timer = self.master_down_interval();
            self.master_addr = Some(src);
            self.master_priority = hd.priority;
            if !self.params.preempt_delay.is_zero() {
                if hd.priority >= self.effective_priority {
                    self.preempt_time = None;
                } else if self.preempt_time.is_none() {
                    self.preempt_time = Some(now + self.params.preempt_delay);
                }
            }
            self.want_master = false;
            self.reset_timer(now);
        } else {
            // Lower priority and we may preempt: ignore it, so the down timer runs out.
            self.log(
                out,
                format!(
                    "received lower priority ({}) advert from {} - discarding",
                    hd.priority, src
                ),
            );
            self.master_addr = Some(src);
        }
    }

    /// keepalived's `vrrp_state_master_rx`.
    fn master_rx(
        &mut self,
        now: Instant,
        hd: &VrrpHeader,
        src: IpAddr,
        ah_seq: Option<u32>,
        out: &mut Vec<Action>,
    ) {
        let addr_cmp = match self.params.our_addr {
            Some(ours) => cmp_addr(&src, &ours),
            None => Ordering::Greater,
        };
        let higher = hd.priority > self.effective_priority
            || (hd.priority == self.effective_priority && addr_cmp == Ordering::Greater);
        if hd.priority == 0 || (self.params.higher_prio_send_advert && higher) {
            out.push(Action::SendAdvert {
                priority: self.effective_priority,
            });
            if hd.priority == 0 {
                self.reset_timer(now);
                return;
            }
        }
        if hd.priority == self.effective_priority {
            if addr_cmp == Ordering::Equal {
                self.log(out, "WARNING - equal priority advert received from remote host with our IP address.");
            } else if self.effective_priority == PRIO_OWNER {
                self.log(out, "CONFIGURATION ERROR: local instance and a remote instance are both configured as address owner, please fix - reducing local priority");
                self.effective_priority = PRIO_OWNER - 1;
                self.params.base_priority = PRIO_OWNER - 1;
            }
        }
        if hd.priority < self.effective_priority
            || (hd.priority == self.effective_priority && addr_cmp == Ordering::Less)
        {
            self.log(
                out,
                format!(
                    "Received advert from {} with lower priority {}, ours {}{}",
                    src,
                    hd.priority,
                    self.effective_priority,
                    if self.params.lower_prio_no_advert {
                        ""
                    } else {
                        ", forcing new election"
                    }
                ),
            );
            if let Some(seq) = ah_seq {
                self.ah_seq = seq.wrapping_add(1);
            }
            if !self.params.lower_prio_no_advert {
                out.push(Action::SendAdvert {
                    priority: self.effective_priority,
                });
                self.reset_timer(now);
            }
            return;
        }
        if hd.priority > self.effective_priority || addr_cmp == Ordering::Greater {
            if hd.priority > self.effective_priority {
                self.log(
                    out,
                    format!(
                        "Master received advert from {} with higher priority {}, ours {}",
                        src, hd.priority, self.effective_priority
                    ),
                );
            } else {
                self.log(
                    out,
                    format!(
                        "Master received advert from {} with same priority {} but higher IP address than ours",
                        src, hd.priority
                    ),
                );
            }
            self.adopt_master_interval(hd);
            self.master_addr = Some(src);
            self.master_priority = hd.priority;
            self.leave_master(now, out);
        }
    }

    /// A tracked object failed (`fault = true`) or recovered. Counted: the instance leaves FAULT
    /// only when every fault has cleared.
    pub fn set_fault(&mut self, now: Instant, fault: bool) -> Vec<Action> {
        let mut out = Vec::new();
        if fault {
            self.fault_count += 1;
            if self.fault_count == 1 {
                self.enter_fault(now, &mut out);
            }
        } else if self.fault_count > 0 {
            self.fault_count -= 1;
            if self.fault_count == 0 {
                self.leave_fault(now, &mut out);
            }
        }
        out
    }

    fn enter_fault(&mut self, now: Instant, out: &mut Vec<Action>) {
        match self.state {
            VrrpState::Fault | VrrpState::Stop => return,
            VrrpState::Master => {
                self.log(out, "Entering FAULT STATE");
                out.push(Action::SendAdvert { priority: 0 });
                out.push(Action::RemoveVips);
                self.vips_set = false;
            }
            _ => self.log(out, "Entering FAULT STATE"),
        }
        self.state = VrrpState::Fault;
        out.push(Action::Notify(VrrpState::Fault));
        self.sands = None;
        self.last_transition = Some(now);
    }

    /// keepalived's `try_up_instance` + `vrrp_state_leave_fault`.
    fn leave_fault(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.state != VrrpState::Fault {
            return;
        }
        self.master_adver_int = self.params.adver_int;
        let owner_master = self.params.initial_master && self.is_owner();
        if owner_master {
            self.state = VrrpState::Backup;
            self.goto_master(now, out);
            return;
        }
        self.want_master = false;
        self.log(out, "Entering BACKUP STATE");
        self.state = VrrpState::Backup;
        self.preempt_time = None;
        out.push(Action::Notify(VrrpState::Backup));
        self.ms_down_timer = self.master_down_interval();
        self.reset_timer(now);
        self.last_transition = Some(now);
    }

    /// Base priority plus track weights: keepalived clamps to 1–254 and never changes an owner.
    pub fn set_total_priority(&mut self, now: Instant, total: i32) -> Vec<Action> {
        let mut out = Vec::new();
        if self.is_owner() {
            return out;
        }
        let new_prio = total.clamp(1, i32::from(PRIO_OWNER) - 1) as u8;
        if new_prio == self.effective_priority {
            return out;
        }
        self.log(
            &mut out,
            format!(
                "Changing effective priority from {} to {}",
                self.effective_priority, new_prio
            ),
        );
        let old_down = self.ms_down_timer;
        self.effective_priority = new_prio;
        self.ms_down_timer = self.master_down_interval();
        if self.state == VrrpState::Backup {
            if let Some(s) = self.sands {
                self.sands = Some(if old_down < self.ms_down_timer {
                    s + (self.ms_down_timer - old_down)
                } else {
                    s.checked_sub(old_down - self.ms_down_timer)
                        .unwrap_or(now)
                        .max(now)
                });
            }
        }
        out
    }

    /// Sync group: a peer entered BACKUP, follow it (keepalived's `vrrp_sync_backup`).
    pub fn sync_backup(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        self.leave_master(now, &mut out);
        out
    }

    /// Sync group: a peer became MASTER, follow it (keepalived's `vrrp_sync_master`).
    pub fn sync_master(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if self.state == VrrpState::Backup {
            self.goto_master(now, &mut out);
        }
        out
    }

    /// Sync group: a peer went to FAULT.
    pub fn sync_fault(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if self.fault_count == 0 {
            self.enter_fault(now, &mut out);
        }
        out
    }

    /// Sync group: the faulty peer recovered.
    pub fn sync_unfault(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if self.fault_count == 0 {
            self.leave_fault(now, &mut out);
        }
        out
    }

    /// Graceful stop: a master advertises priority 0 and releases its addresses.
    pub fn shutdown(&mut self, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        if self.state == VrrpState::Master {
            out.push(Action::SendAdvert { priority: 0 });
            out.push(Action::RemoveVips);
            self.vips_set = false;
        }
        if self.state != VrrpState::Stop {
            self.state = VrrpState::Stop;
            out.push(Action::Notify(VrrpState::Stop));
        }
        self.sands = None;
        self.last_transition = Some(now);
        out
    }

    /// Reload: carry the running state over to the new configuration (no mastership change
    /// unless the new configuration demands it through adverts).
    pub fn inherit(&mut self, old: &VrrpInstance, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        self.ah_seq = old.ah_seq;
        self.ah_rx_seq = old.ah_rx_seq;
        self.master_addr = old.master_addr;
        self.master_priority = old.master_priority;
        self.last_transition = old.last_transition;
        match old.state {
            VrrpState::Master if self.fault_count == 0 => {
                self.state = VrrpState::Master;
                self.vips_set = old.vips_set;
                self.want_master = true;
                self.master_adver_int = self.params.adver_int;
                // Re-assert the (possibly changed) addresses and advertise at once.
                out.push(Action::AddVips);
                out.push(Action::SendAdvert {
                    priority: self.effective_priority,
                });
                self.reset_timer(now);
            }
            VrrpState::Backup if self.fault_count == 0 => {
                self.state = VrrpState::Backup;
                self.master_adver_int = old.master_adver_int;
                self.ms_down_timer = self.master_down_interval();
                self.reset_timer(now);
            }
            _ => out = self.start(now, self.fault_count > 0),
        }
        out
    }
}

/// keepalived compares source addresses numerically (network byte order).
fn cmp_addr(a: &IpAddr, b: &IpAddr) -> Ordering {
    match (a, b) {
        (IpAddr::V4(x), IpAddr::V4(y)) => x.octets().cmp(&y.octets()),
        (IpAddr::V6(x), IpAddr::V6(y)) => x.octets().cmp(&y.octets()),
        _ => Ordering::Greater,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(prio: u8, version: VrrpVersion, adv_ms: u64) -> StateParams {
        StateParams {
            name: "VI_1".into(),
            version,
            base_priority: prio,
            adver_int: Duration::from_millis(adv_ms),
            initial_master: false,
            nopreempt: false,
            preempt_delay: Duration::ZERO,
            our_addr: Some("192.168.57.10".parse().unwrap()),
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
        }
    }

    fn hdr(prio: u8, adv: u16) -> VrrpHeader {
        VrrpHeader {
            version: 2,
            kind: 1,
            vrid: 51,
            priority: prio,
            naddr: 1,
            auth_type: 0,
            adver_int: adv,
            checksum: 0,
        }
    }

    fn peer() -> IpAddr {
        "192.168.57.20".parse().unwrap()
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn skew_and_master_down_follow_keepalived_formulas() {
        // (prio, version, advert ms, expected skew µs, expected master-down µs)
        let table = [
            (100u8, VrrpVersion::V2, 1000u64, 609_375u64, 3_609_375u64),
            (150, VrrpVersion::V2, 1000, 414_062, 3_414_062),
            (254, VrrpVersion::V2, 1000, 7_812, 3_007_812),
            (100, VrrpVersion::V3, 100, 60_937, 360_937),
            (150, VrrpVersion::V3, 1000, 414_062, 3_414_062),
            (200, VrrpVersion::V3, 100, 21_875, 321_875),
        ];
        for (prio, v, adv, skew_us, down_us) in table {
            let i = VrrpInstance::new(params(prio, v, adv));
            assert_eq!(
                i.skew_time().as_micros() as u64,
                skew_us,
                "skew prio {prio} {v:?}"
            );
            assert_eq!(
                i.master_down_interval().as_micros() as u64,
                down_us,
                "down prio {prio} {v:?}"
            );
        }
    }

    #[test]
    fn backup_takes_over_after_master_down_and_advertises() {
        let t0 = Instant::now();
        let mut i = VrrpInstance::new(params(100, VrrpVersion::V2, 1000));
        let a = i.start(t0, false);
        assert!(a.contains(&Action::Log("(VI_1) Entering BACKUP STATE (init)".into())));
        assert_eq!(i.state(), VrrpState::Backup);
        let down = i.deadline().unwrap() - t0;
        assert_eq!(down, Duration::from_micros(3_609_375));
        assert!(i.on_timer(t0 + ms(3000), true).is_empty());
        let a = i.on_timer(t0 + down, true);
        assert_eq!(i.state(), VrrpState::Master);
        assert_eq!(a[0], Action::SendAdvert { priority: 100 });
        assert!(a.contains(&Action::AddVips) && a.contains(&Action::Garp));
        assert!(a.contains(&Action::Log("(VI_1) Entering MASTER STATE".into())));
        assert_eq!(i.deadline(), Some(t0 + down + ms(1000)));
        let a = i.on_timer(t0 + down + ms(1000), true);
        assert_eq!(a, vec![Action::SendAdvert { priority: 100 }]);
    }

    #[test]
    fn adverts_from_higher_priority_master_keep_backup_down() {
        let t0 = Instant::now();
        let mut i = VrrpInstance::new(params(100, VrrpVersion::V2, 1000));
        i.start(t0, false);
        for k in 1..10 {
            let now = t0 + ms(1000 * k);
            i.on_advert(now, &hdr(150, 1), peer(), None);
            assert_eq!(i.deadline(), Some(now + Duration::from_micros(3_609_375)));
            assert!(i.on_timer(now, true).is_empty());
        }
        assert_eq!(i.state(), VrrpState::Backup);
        assert_eq!(i.master_addr, Some(peer()));
    }

    #[test]
    fn priority_zero_advert_cuts_wait_to_skew() {
        let t0 = Instant::now();
        let mut i = VrrpInstance::new(params(100, VrrpVersion::V2, 1000));
        i.start(t0, false);
        i.on_advert(t0 + ms(500), &hdr(0, 1), peer(), None);
        assert_eq!(
            i.deadline(),
            Some(t0 + ms(500) + Duration::from_micros(609_375))
        );
    }

    #[test]
    fn preempt_on_lower_priority_advert_and_nopreempt_does_not() {
        let t0 = Instant::now();
        for nopreempt in [false, true] {
            let mut p = params(150, VrrpVersion::V2, 1000);
            p.nopreempt = nopreempt;
            let mut i = VrrpInstance::new(p);
            i.start(t0, false);
            let mut became_master = None;
            for k in 1..20u64 {
                let now = t0 + ms(1000 * k);
                i.on_timer(now, true);
                if i.state() == VrrpState::Master {
                    became_master = Some(k);
                    break;
                }
                i.on_advert(now, &hdr(100, 1), peer(), None);
            }
            if nopreempt {
                assert_eq!(became_master, None);
            } else {
                // lower adverts are discarded, so the first down timer runs out (3.41 s)
                assert_eq!(became_master, Some(4));
            }
        }
    }

    #[test]
    fn preempt_delay_postpones_takeover() {
        let t0 = Instant::now();
        let mut p = params(150, VrrpVersion::V2, 1000);
        p.preempt_delay = ms(5000);
        let mut i = VrrpInstance::new(p);
        i.start(t0, false);
        let mut became = None;
        for k in 1..30u64 {
            let now = t0 + ms(1000 * k);
            i.on_timer(now, true);
            if i.state() == VrrpState::Master {
                became = Some(k);
                break;
            }
            i.on_advert(now, &hdr(100, 1), peer(), None);
        }
        // preempt timer starts at 1 s and expires at 6 s; adverts until then re-arm the down
        // timer (last at 5 s → 8.41 s), later ones are discarded: master at the 9 s tick
        assert_eq!(became, Some(9));
    }

    #[test]
    fn master_yields_to_higher_and_reasserts_over_lower() {
        let t0 = Instant::now();
        let mut i = VrrpInstance::new(params(100, VrrpVersion::V2, 1000));
        i.start(t0, false);
        i.on_timer(t0 + ms(4000), true);
        assert_eq!(i.state(), VrrpState::Master);
        let a = i.on_advert(t0 + ms(4100), &hdr(50, 1), peer(), None);
        assert_eq!(a[1], Action::SendAdvert { priority: 100 });
        assert!(
            matches!(&a[0], Action::Log(l) if l.contains("lower priority 50, ours 100, forcing new election"))
        );
        assert_eq!(i.state(), VrrpState::Master);
        let a = i.on_advert(t0 + ms(4200), &hdr(0, 1), peer(), None);
        assert_eq!(a, vec![Action::SendAdvert { priority: 100 }]);
        let a = i.on_advert(t0 + ms(4300), &hdr(200, 1), peer(), None);
        assert_eq!(i.state(), VrrpState::Backup);
        assert!(a.contains(&Action::RemoveVips) && a.contains(&Action::Notify(VrrpState::Backup)));
        assert!(a.contains(&Action::Log("(VI_1) Entering BACKUP STATE".into())));
    }

    #[test]
    fn equal_priority_higher_address_wins() {
        let t0 = Instant::now();
        let mut i = VrrpInstance::new(params(100, VrrpVersion::V2, 1000));
        i.start(t0, false);
        i.on_timer(t0 + ms(4000), true);
        i.on_advert(
            t0 + ms(4100),
            &hdr(100, 1),
            "192.168.57.5".parse().unwrap(),
            None,
        );
        assert_eq!(i.state(), VrrpState::Master);
        i.on_advert(t0 + ms(4200), &hdr(100, 1), peer(), None);
        assert_eq!(i.state(), VrrpState::Backup);
    }

    #[test]
    fn owner_starts_master_at_once_and_keeps_255() {
        let t0 = Instant::now();
        let mut p = params(255, VrrpVersion::V2, 1000);
        p.initial_master = true;
        let mut i = VrrpInstance::new(p);
        assert!(i.start(t0, false).is_empty());
        i.on_timer(t0 + ms(1), true);
        assert_eq!(i.state(), VrrpState::Master);
        assert!(i.set_total_priority(t0, 50).is_empty());
        assert_eq!(i.effective_priority(), 255);
    }

    #[test]
    fn effective_priority_is_clamped() {
        let t0 = Instant::now();
        let mut i = VrrpInstance::new(params(100, VrrpVersion::V2, 1000));
        i.start(t0, false);
        for (total, want) in [(300, 254u8), (-20, 1), (0, 1), (120, 120), (100, 100)] {
            i.set_total_priority(t0, total);
            assert_eq!(i.effective_priority(), want, "total {total}");
        }
    }

    #[test]
    fn fault_releases_and_recovers_to_backup() {
        let t0 = Instant::now();
        let mut i = VrrpInstance::new(params(100, VrrpVersion::V2, 1000));
        i.start(t0, false);
        i.on_timer(t0 + ms(4000), true);
        let a = i.set_fault(t0 + ms(4500), true);
        assert_eq!(i.state(), VrrpState::Fault);
        assert_eq!(a[1], Action::SendAdvert { priority: 0 });
        assert!(a.contains(&Action::RemoveVips));
        assert!(i.set_fault(t0 + ms(4600), true).is_empty());
        assert!(i.set_fault(t0 + ms(4700), false).is_empty());
        assert_eq!(i.state(), VrrpState::Fault);
        assert!(i
            .on_advert(t0 + ms(4800), &hdr(50, 1), peer(), None)
            .is_empty());
        let a = i.set_fault(t0 + ms(5000), false);
        assert_eq!(i.state(), VrrpState::Backup);
        assert!(a.contains(&Action::Notify(VrrpState::Backup)));
    }

    #[test]
    fn shutdown_of_master_sends_priority_zero() {
        let t0 = Instant::now();
        let mut i = VrrpInstance::new(params(100, VrrpVersion::V3, 100));
        i.start(t0, false);
        i.on_timer(t0 + ms(1000), true);
        let a = i.shutdown(t0 + ms(1100));
        assert_eq!(
            a,
            vec![
                Action::SendAdvert { priority: 0 },
                Action::RemoveVips,
                Action::Notify(VrrpState::Stop)
            ]
        );
    }

    #[test]
    fn v3_backup_adopts_master_interval() {
        let t0 = Instant::now();
        let mut i = VrrpInstance::new(params(100, VrrpVersion::V3, 1000));
        i.start(t0, false);
        let mut h = hdr(200, 10);
        h.version = 3;
        i.on_advert(t0, &h, peer(), None);
        assert_eq!(i.master_adver_int(), ms(100));
        assert_eq!(
            i.deadline(),
            Some(t0 + ms(300) + Duration::from_micros(60_937))
        );
    }

    #[test]
    fn startup_delay_postpones_the_first_master_down() {
        let t0 = Instant::now();
        let mut i = VrrpInstance::new(params(100, VrrpVersion::V2, 1000));
        i.start(t0, false);
        i.delay_start(t0, ms(5000));
        assert_eq!(
            i.deadline(),
            Some(t0 + ms(5000) + Duration::from_micros(3_609_375))
        );
        assert!(i.on_timer(t0 + ms(4000), true).is_empty());
    }

    #[test]
    fn reload_keeps_master_without_transition() {
        let t0 = Instant::now();
        let mut old = VrrpInstance::new(params(100, VrrpVersion::V2, 1000));
        old.start(t0, false);
        old.on_timer(t0 + ms(4000), true);
        let mut new = VrrpInstance::new(params(90, VrrpVersion::V2, 1000));
        let a = new.inherit(&old, t0 + ms(4500));
        assert_eq!(new.state(), VrrpState::Master);
        assert!(!a
            .iter()
            .any(|x| matches!(x, Action::Notify(_) | Action::RemoveVips)));
    }
}

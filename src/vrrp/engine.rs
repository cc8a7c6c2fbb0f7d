//! The tokio-driven VRRP engine: owns the instances' sockets and state machines, feeds them
//! packets, timers, tracking results and signals, and carries out their actions.
//!
//! One task runs the engine loop; per-instance receive tasks and per-script check tasks only
//! forward events to it over a channel, so all state lives on one task without locks.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::config::{EngineConfig, VipConfig, VrrpInstanceConfig};
use super::fifo::NotifyFifo;
use super::log;
use super::net::{self, Interface, Netlink, Received, SocketSpec, VrrpSocket};
use super::packet::{
    check_advert, encode_ipv4, parse_ipv4, parse_ipv6, Advert, AuthType, Ipv4Frame, RxError,
    RxExpect, RxStats, VrrpVersion, MCAST_V6, VRRP_TTL,
};
use super::scripts::{self, ScriptStatus};
use super::state::{Action, StateParams, VrrpInstance, VrrpState};

/// Re-reads the configuration for SIGHUP.
pub type Loader = Box<dyn Fn() -> Result<EngineConfig, String> + Send>;

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("({instance}) interface {interface}: {source}")]
    Interface {
        instance: String,
        interface: String,
        source: std::io::Error,
    },
    #[error("({instance}) cannot open VRRP socket on {interface}: {source}")]
    Socket {
        instance: String,
        interface: String,
        source: std::io::Error,
    },
    #[error("netlink: {0}")]
    Netlink(std::io::Error),
}

enum Event {
    Packet {
        generation: u64,
        index: usize,
        data: Vec<u8>,
        meta: Received,
    },
    Script {
        generation: u64,
        index: usize,
        ok: bool,
    },
}

/// One running instance.
pub(super) struct Inst {
    pub(super) cfg: VrrpInstanceConfig,
    pub(super) sm: VrrpInstance,
    /// The interface adverts and VIPs use (the VMAC when `use_vmac`).
    pub(super) iface: Interface,
    pub(super) vmac_created: bool,
    /// None while the interface is missing (`dynamic_interfaces`): the instance is in FAULT
    /// until the interface appears and the instance is opened again.
    pub(super) socket: Option<Arc<VrrpSocket>>,
    pub(super) stats: RxStats,
    pub(super) ip_id: u16,
    pub(super) advert: Advert,
    pub(super) vip_addrs: Vec<IpAddr>,
    pub(super) garp_due: Option<Instant>,
    pub(super) refresh_due: Option<Instant>,
    /// `vrrp_garp_interval` / `vrrp_gna_interval`: when the next GARP / NA may go out, and
    /// the addresses waiting for it.
    pub(super) garp_next: Option<Instant>,
    pub(super) gna_next: Option<Instant>,
    pub(super) garp_pending: Vec<IpAddr>,
    /// `garp_lower_prio_delay`: GARPs again after a lower priority advert.
    pub(super) lower_prio_garp_due: Option<Instant>,
    pub(super) faulted: bool,
}

pub(super) struct Engine {
    pub(super) cfg: EngineConfig,
    pub(super) insts: Vec<Inst>,
    pub(super) scripts: Vec<ScriptStatus>,
    pub(super) track_file_values: Vec<i64>,
    /// Running processes per `vrrp_track_process`, and when /proc was last scanned.
    pub(super) track_process_counts: Vec<u32>,
    pub(super) processes_scanned: Option<Instant>,
    pub(super) tasks: Vec<JoinHandle<()>>,
    pub(super) generation: u64,
    pub(super) netlink: Netlink,
    events: mpsc::Sender<Event>,
    pub(super) group_states: Vec<Option<VrrpState>>,
    pub(super) default_user: Option<String>,
    pub(super) fifos: Vec<NotifyFifo>,
}

fn state_params(c: &VrrpInstanceConfig, our: Option<IpAddr>) -> StateParams {
    StateParams {
        name: c.name.clone(),
        version: c.version,
        base_priority: c.priority,
        adver_int: c.adver_int,
        initial_master: c.initial_master,
        nopreempt: c.nopreempt,
        preempt_delay: c.preempt_delay,
        our_addr: our,
        lower_prio_no_advert: c.lower_prio_no_advert,
        higher_prio_send_advert: c.higher_prio_send_advert,
    }
}

/// An instance whose interface does not exist (yet): no socket, FAULT until it appears.
fn missing_interface_instance(c: &VrrpInstanceConfig) -> Inst {
    let vip_addrs = c.vip_addrs();
    Inst {
        sm: VrrpInstance::new(state_params(c, None)),
        cfg: c.clone(),
        iface: Interface {
            name: c.interface.clone(),
            index: 0,
            mac: [0; 6],
            ipv4: None,
            ipv6_link_local: None,
        },
        vmac_created: false,
        socket: None,
        stats: RxStats::default(),
        ip_id: 0,
        advert: Advert {
            version: c.version,
            vrid: c.vrid,
            priority: c.priority,
            auth_type: AuthType::None,
            adver_int: c.adver_int_field(),
            addrs: vip_addrs.clone(),
            auth_key: c.auth_key,
        },
        vip_addrs,
        garp_due: None,
        refresh_due: None,
        lower_prio_garp_due: None,
        garp_next: None,
        gna_next: None,
        garp_pending: Vec::new(),
        faulted: true,
    }
}

/// Opens an instance; with `dynamic_interfaces`, a missing interface gives an instance in
/// FAULT (keepalived's behaviour) instead of an error.
fn open_or_wait(
    c: &VrrpInstanceConfig,
    netlink: &mut Netlink,
    dynamic_interfaces: bool,
) -> Result<Inst, EngineError> {
    match open_instance(c, netlink) {
        Err(EngineError::Interface { .. }) if dynamic_interfaces => {
            log::info(&format!(
                "({}) interface {} does not exist - instance in FAULT until it appears",
                c.name, c.interface
            ));
            Ok(missing_interface_instance(c))
        }
        other => other,
    }
}

fn open_instance(c: &VrrpInstanceConfig, netlink: &mut Netlink) -> Result<Inst, EngineError> {
    let base = net::lookup_interface(&c.interface).map_err(|source| EngineError::Interface {
        instance: c.name.clone(),
        interface: c.interface.clone(),
        source,
    })?;
    let mut iface = base.clone();
    let mut vmac_created = false;
    if let Some(vname) = &c.use_vmac {
        let mac = net::vmac_address(c.vrid, c.ipv6);
        match netlink.create_vmac(vname, base.index, mac) {
            Ok(ch) => {
                vmac_created = ch == net::Change::Done;
                if let Ok(v) = net::lookup_interface(vname) {
                    // keepalived's VMAC sysctls: only the VMAC answers ARP for the VIPs, and it
                    // hears the other routers' adverts although it has no address of its own.
                    for (ifname, key, value) in [
                        (vname.as_str(), "arp_ignore", "1"),
                        (vname.as_str(), "accept_local", "1"),
                        (vname.as_str(), "rp_filter", "0"),
                        (c.interface.as_str(), "arp_ignore", "1"),
                        (c.interface.as_str(), "arp_filter", "1"),
                    ] {
                        let _ = std::fs::write(
                            format!("/proc/sys/net/ipv4/conf/{ifname}/{key}"),
                            value,
                        );
                    }
                    iface = Interface {
                        ipv4: base.ipv4,
                        ..v
                    };
                    log::info(&format!(
                        "({}) Setting VMAC {} on {}",
                        c.name, vname, c.interface
                    ));
                }
            }
            Err(e) => log::info(&format!("({}) cannot create VMAC {}: {}", c.name, vname, e)),
        }
    }
    let our: Option<IpAddr> = if c.ipv6 {
        c.unicast_src
            .or(c.mcast_src)
            .or(iface.ipv6_link_local.map(IpAddr::V6))
    } else {
        c.unicast_src.or(c.mcast_src).or(iface.ipv4.map(IpAddr::V4))
    };
    let src6 = match our {
        Some(IpAddr::V6(a)) => Some(a),
        _ => None,
    };
    let socket = VrrpSocket::open(&SocketSpec {
        interface: &iface,
        ipv6: c.ipv6,
        ah: c.auth_type == AuthType::Ah,
        unicast_src: if c.unicast() {
            c.unicast_src.or(our)
        } else {
            None
        },
        src6,
        group: c.mcast_group,
    })
    .map_err(|source| EngineError::Socket {
        instance: c.name.clone(),
        interface: iface.name.clone(),
        source,
    })?;
    let vip_addrs = c.vip_addrs();
    let advert = Advert {
        version: c.version,
        vrid: c.vrid,
        priority: c.priority,
        auth_type: if c.version == VrrpVersion::V2 {
            c.auth_type
        } else {
            AuthType::None
        },
        adver_int: c.adver_int_field(),
        addrs: vip_addrs.clone(),
        auth_key: c.auth_key,
    };
    Ok(Inst {
        sm: VrrpInstance::new(state_params(c, our)),
        cfg: c.clone(),
        iface,
        vmac_created,
        socket: Some(Arc::new(socket)),
        stats: RxStats::default(),
        ip_id: 0,
        advert,
        vip_addrs,
        garp_due: None,
        refresh_due: None,
        lower_prio_garp_due: None,
        garp_next: None,
        gna_next: None,
        garp_pending: Vec::new(),
        faulted: false,
    })
}

impl Engine {
    fn new(cfg: EngineConfig, events: mpsc::Sender<Event>) -> Result<Engine, EngineError> {
        let mut netlink = Netlink::open().map_err(EngineError::Netlink)?;
        let mut insts = Vec::with_capacity(cfg.instances.len());
        for c in &cfg.instances {
            insts.push(open_or_wait(c, &mut netlink, cfg.dynamic_interfaces)?);
        }
        let scripts = cfg.scripts.iter().map(ScriptStatus::new).collect();
        // keepalived: scripts run as script_user, else keepalived_script when that user exists,
        // else as ourselves (the lookup in scripts.rs falls back to our uid).
        let default_user = cfg
            .script_user
            .clone()
            .or_else(|| Some("keepalived_script".to_owned()));
        let mut fifos = Vec::new();
        for p in &cfg.notify_fifos {
            match NotifyFifo::open(p) {
                Ok(f) => fifos.push(f),
                Err(e) => log::info(&format!("Unable to open notify fifo {} - {e}", p.display())),
            }
        }
        Ok(Engine {
            fifos,
            track_file_values: vec![0; cfg.track_files.len()],
            track_process_counts: vec![0; cfg.track_processes.len()],
            processes_scanned: None,
            group_states: vec![None; cfg.sync_groups.len()],
            cfg,
            insts,
            scripts,
            tasks: Vec::new(),
            generation: 0,
            netlink,
            events,
            default_user,
        })
    }

    fn spawn_tasks(&mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
        self.generation += 1;
        let generation = self.generation;
        for (index, inst) in self.insts.iter().enumerate() {
            let Some(socket) = inst.socket.clone() else {
                continue;
            };
            let tx = self.events.clone();
            let name = inst.cfg.name.clone();
            self.tasks.push(tokio::spawn(async move {
                let mut buf = vec![0u8; 2048];
                loop {
                    match socket.recv(&mut buf).await {
                        Ok(meta) => {
                            let data = buf[..meta.len].to_vec();
                            if tx
                                .send(Event::Packet {
                                    generation,
                                    index,
                                    data,
                                    meta,
                                })
                                .await
                                .is_err()
                            {
                                return;
                            }
                        }
                        Err(e) => {
                            log::detail_info(&format!("({name}) recvmsg error: {e}"));
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                }
            }));
        }
        let used: Vec<bool> = (0..self.cfg.scripts.len())
            .map(|s| {
                self.cfg
                    .instances
                    .iter()
                    .any(|i| i.track_scripts.iter().any(|t| t.index == s))
            })
            .collect();
        for (index, script) in self.cfg.scripts.iter().enumerate() {
            if !used[index] {
                continue;
            }
            let script = script.clone();
            let tx = self.events.clone();
            let user = self.default_user.clone();
            self.tasks.push(tokio::spawn(async move {
                let mut tick = tokio::time::interval(script.interval);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    let ok = scripts::run_check(&script, user.as_deref()).await;
                    if tx
                        .send(Event::Script {
                            generation,
                            index,
                            ok,
                        })
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }));
        }
    }

    /// Removes leftover VIPs (keepalived does so at startup) and starts every instance.
    fn start(&mut self, now: Instant) {
        for f in &self.cfg.track_files {
            if let Some((value, overwrite)) = f.init {
                if overwrite || !f.path.exists() {
                    if let Err(e) = std::fs::write(&f.path, format!("{value}\n")) {
                        log::info(&format!(
                            "Unable to initialise track file {} ({e})",
                            f.path.display()
                        ));
                    }
                }
            }
        }
        self.poll_files();
        self.poll_processes(now);
        self.static_config(true);
        for i in 0..self.insts.len() {
            if self.insts[i].socket.is_none() {
                continue; // no interface yet, nothing to clean
            }
            log::detail_info(&format!("({}) removing VIPs.", self.insts[i].cfg.name));
            self.remove_vips(i);
        }
        for i in 0..self.insts.len() {
            let (fault, total) = self.evaluate(i);
            self.insts[i].faulted = fault;
            let std_now = now.into_std();
            let prev = self.insts[i].sm.state();
            let mut acts = self.insts[i].sm.start(std_now, fault);
            if !fault {
                acts.extend(self.insts[i].sm.set_total_priority(std_now, total));
            }
            self.insts[i]
                .sm
                .delay_start(std_now, self.cfg.startup_delay);
            self.after(i, prev, acts, now, true);
        }
    }

    /// Adds (`add`) or removes the `static_ipaddress` and `static_routes` entries, as keepalived
    /// does at start and stop. Addresses without `dev` cannot be placed and are skipped.
    fn static_config(&mut self, add: bool) {
        let addrs = self.cfg.static_addresses.clone();
        let routes = self.cfg.static_routes.clone();
        if !add {
            for r in &routes {
                let oif = r.dev.as_deref().and_then(|d| net::if_index(d).ok());
                let _ = self.netlink.route(false, r, oif);
            }
        }
        for a in &addrs {
            let Some(idx) = a.dev.as_deref().and_then(|d| net::if_index(d).ok()) else {
                log::info(&format!(
                    "static_ipaddress {}: no usable dev - skipping",
                    a.addr
                ));
                continue;
            };
            if let Err(e) = self.netlink.address(add, idx, a) {
                if add {
                    log::info(&format!("cannot add static address {}: {e}", a.addr));
                }
            }
        }
        if add {
            for r in &routes {
                let oif = r.dev.as_deref().and_then(|d| net::if_index(d).ok());
                if let Err(e) = self.netlink.route(true, r, oif) {
                    log::info(&format!("cannot add static route {}: {e}", r.dest));
                }
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let mut best: Option<Instant> = None;
        for inst in &self.insts {
            let cands = [
                inst.sm.deadline().map(Instant::from_std),
                inst.garp_due,
                inst.refresh_due,
                inst.lower_prio_garp_due,
                if inst.garp_pending.is_empty() {
                    None
                } else {
                    inst.garp_next.into_iter().chain(inst.gna_next).min()
                },
            ];
            for t in cands.into_iter().flatten() {
                best = Some(best.map_or(t, |b| b.min(t)));
            }
        }
        best
    }

    fn group_allows_master(&self, i: usize) -> bool {
        match self.insts[i].cfg.sync_group {
            Some(g) => self.cfg.sync_groups[g]
                .members
                .iter()
                .all(|&m| self.insts[m].sm.state() != VrrpState::Fault),
            None => true,
        }
    }

    fn on_timers(&mut self, now: Instant) {
        let std_now = now.into_std();
        for i in 0..self.insts.len() {
            if self.insts[i]
                .sm
                .deadline()
                .map(|d| d <= std_now)
                .unwrap_or(false)
            {
                let allows = self.group_allows_master(i);
                let prev = self.insts[i].sm.state();
                if prev == VrrpState::Backup {
                    log::detail_info(&format!(
                        "({}) Receive advertisement timeout",
                        self.insts[i].cfg.name
                    ));
                }
                let acts = self.insts[i].sm.on_timer(std_now, allows);
                self.after(i, prev, acts, now, true);
            }
            if self.insts[i].garp_due.map(|d| d <= now).unwrap_or(false) {
                self.insts[i].garp_due = None;
                let rep = self.insts[i].cfg.garp_master_repeat;
                self.send_garps(i, rep, true);
            }
            if !self.insts[i].garp_pending.is_empty() {
                let pending = std::mem::take(&mut self.insts[i].garp_pending);
                for a in pending {
                    if !self.send_spaced(i, a, now) {
                        self.insts[i].garp_pending.push(a);
                    }
                }
            }
            if self.insts[i]
                .lower_prio_garp_due
                .map(|d| d <= now)
                .unwrap_or(false)
            {
                self.insts[i].lower_prio_garp_due = None;
                if self.insts[i].sm.state() == VrrpState::Master {
                    let rep = self.insts[i].cfg.garp_lower_prio_repeat;
                    self.send_garps(i, rep, true);
                }
            }
            if let Some(d) = self.insts[i].refresh_due {
                if d <= now {
                    let rep = self.insts[i].cfg.garp_master_refresh_repeat;
                    self.send_garps(i, rep, false);
                    self.insts[i].refresh_due =
                        self.insts[i].cfg.garp_master_refresh.map(|r| now + r);
                }
            }
        }
    }

    fn on_packet(&mut self, i: usize, data: &[u8], meta: &Received, now: Instant) {
        let inst = &mut self.insts[i];
        let parsed = if inst.cfg.ipv6 {
            let src = match meta.src {
                IpAddr::V6(a) => a,
                IpAddr::V4(_) => Ipv6Addr::UNSPECIFIED,
            };
            parse_ipv6(data, src, meta.dst.unwrap_or(MCAST_V6), meta.hop_limit)
        } else {
            parse_ipv4(data)
        };
        let rx = match parsed {
            Ok(rx) => rx,
            Err(e) => {
                inst.stats.record_drop(&e);
                log::info(&format!(
                    "{} VRRP packet too short - {} bytes",
                    if inst.cfg.ipv6 { "IPv6" } else { "IPv4" },
                    data.len()
                ));
                return;
            }
        };
        let hd = rx.header();
        if hd.vrid != inst.cfg.vrid {
            return;
        }
        if matches!(
            inst.sm.state(),
            VrrpState::Fault | VrrpState::Init | VrrpState::Stop
        ) {
            return;
        }
        let check_vips = !(inst.cfg.skip_check_adv_addr && inst.sm.master_addr == Some(rx.src));
        let exp = RxExpect {
            version: inst.cfg.version,
            auth_type: inst.cfg.auth_type,
            auth_key: &inst.cfg.auth_key,
            adver_int_secs: inst.cfg.adver_int_field(),
            vips: &inst.vip_addrs,
            check_vips,
            unicast: inst.cfg.unicast(),
            unicast_peers: &inst.cfg.unicast_peers,
            unicast_peer_ttl: &inst.cfg.unicast_peer_ttl,
            check_unicast_src: inst.cfg.check_unicast_src,
            ah_seq: inst.sm.ah_rx_seq,
        };
        match check_advert(&rx, &exp) {
            Err(e) => {
                // keepalived counts an advert as received once its headers, checksum and
                // destination passed, before the address list and unicast peer checks.
                if matches!(
                    e,
                    RxError::AddrMissing { .. } | RxError::NotPeer(_) | RxError::TtlRange { .. }
                ) {
                    inst.stats.advert_rcvd += 1;
                }
                inst.stats.record_drop(&e);
                log::info(&format!("({}) {}", inst.cfg.name, e));
            }
            Ok(adv) => {
                inst.stats.advert_rcvd += 1;
                if adv.header.priority == 0 {
                    inst.stats.pri_zero_rcvd += 1;
                }
                let prev = inst.sm.state();
                // keepalived's notify_master_rx_lower_pri: a master hears a lower priority.
                let rx_lower = prev == VrrpState::Master
                    && adv.header.priority != 0
                    && adv.header.priority < inst.sm.effective_priority();
                let acts = inst
                    .sm
                    .on_advert(now.into_std(), &adv.header, adv.src, adv.ah_seq);
                self.after(i, prev, acts, now, true);
                if rx_lower {
                    self.lower_prio_garps(i, now);
                    self.event_notify(i, "MASTER_RX_LOWER_PRI", true);
                }
            }
        }
    }

    /// Applies an instance's actions, counts transitions and moves its sync group along.
    fn after(
        &mut self,
        i: usize,
        prev: VrrpState,
        acts: Vec<Action>,
        now: Instant,
        propagate: bool,
    ) {
        for a in acts {
            self.exec(i, a, now);
        }
        let new = self.insts[i].sm.state();
        if new == prev {
            return;
        }
        if new == VrrpState::Master {
            self.insts[i].stats.become_master += 1;
        }
        if prev == VrrpState::Master {
            self.insts[i].stats.release_master += 1;
            self.insts[i].garp_due = None;
            self.insts[i].refresh_due = None;
            self.insts[i].lower_prio_garp_due = None;
            self.insts[i].garp_pending.clear();
        }
        let Some(g) = self.insts[i].cfg.sync_group else {
            return;
        };
        if propagate {
            let members = self.cfg.sync_groups[g].members.clone();
            for m in members.into_iter().filter(|&m| m != i) {
                let std_now = now.into_std();
                let mprev = self.insts[m].sm.state();
                let acts = match new {
                    VrrpState::Master => self.insts[m].sm.sync_master(std_now),
                    VrrpState::Backup if prev == VrrpState::Fault => {
                        self.insts[m].sm.sync_unfault(std_now)
                    }
                    VrrpState::Backup => self.insts[m].sm.sync_backup(std_now),
                    VrrpState::Fault => self.insts[m].sm.sync_fault(std_now),
                    _ => Vec::new(),
                };
                self.after(m, mprev, acts, now, false);
            }
        }
        self.update_group_state(g);
    }

    fn update_group_state(&mut self, g: usize) {
        let group = &self.cfg.sync_groups[g];
        let states: Vec<VrrpState> = group
            .members
            .iter()
            .map(|&m| self.insts[m].sm.state())
            .collect();
        let Some(first) = states.first().copied() else {
            return;
        };
        if !states.iter().all(|s| *s == first) || self.group_states[g] == Some(first) {
            return;
        }
        self.group_states[g] = Some(first);
        log::info(&format!(
            "VRRP_Group({}) Syncing instances to {} state",
            group.name, first
        ));
        let n = group.notifies.clone();
        let name = group.name.clone();
        self.notify(&n, "GROUP", &name, first, 0);
    }

    /// keepalived on a lower priority advert: `garp_lower_prio_repeat` GARPs now and again
    /// after `garp_lower_prio_delay`, for this instance and the other members of its sync group.
    fn lower_prio_garps(&mut self, i: usize, now: Instant) {
        let mut who = vec![i];
        if let Some(g) = self.insts[i].cfg.sync_group {
            who.extend(
                self.cfg.sync_groups[g]
                    .members
                    .iter()
                    .copied()
                    .filter(|&m| m != i),
            );
        }
        for m in who {
            let rep = self.insts[m].cfg.garp_lower_prio_repeat;
            if rep == 0 || self.insts[m].sm.state() != VrrpState::Master {
                continue;
            }
            self.send_garps(m, rep, true);
            let delay = self.insts[m].cfg.garp_lower_prio_delay;
            if !delay.is_zero() {
                self.insts[m].lower_prio_garp_due = Some(now + delay);
            }
        }
    }

    /// keepalived's event notifies: a FIFO line `INSTANCE "NAME" EVENT PRIO`, and for
    /// MASTER_RX_LOWER_PRI the `notify_master_rx_lower_pri` script (no arguments).
    fn event_notify(&self, i: usize, event: &str, run_script: bool) {
        let inst = &self.insts[i];
        if run_script {
            if let Some(cmd) = &inst.cfg.notify_master_rx_lower_pri {
                scripts::spawn_notify(cmd, &[], self.default_user.as_deref());
            }
        }
        let line = format!(
            "INSTANCE \"{}\" {event} {}\n",
            inst.cfg.name,
            inst.sm.effective_priority()
        );
        for f in &self.fifos {
            f.write_line(&line);
        }
    }

    fn notify(
        &self,
        n: &super::config::Notifies,
        kind: &str,
        name: &str,
        state: VrrpState,
        prio: u8,
    ) {
        let user = self.default_user.as_deref();
        let specific = match state {
            VrrpState::Master => n.master.as_ref(),
            VrrpState::Backup => n.backup.as_ref(),
            VrrpState::Fault => n.fault.as_ref(),
            VrrpState::Stop => n.stop.as_ref(),
            VrrpState::Init => None,
        };
        if let Some(cmd) = specific {
            scripts::spawn_notify(cmd, &[], user);
        }
        let line = format!("{kind} \"{name}\" {state} {prio}\n");
        for f in &self.fifos {
            f.write_line(&line);
        }
        if let Some(cmd) = &n.generic {
            let extra = [
                kind.to_owned(),
                name.to_owned(),
                state.to_string(),
                prio.to_string(),
            ];
            scripts::spawn_notify(cmd, &extra, user);
        }
    }

    fn exec(&mut self, i: usize, a: Action, now: Instant) {
        match a {
            Action::SendAdvert { priority } => send_advert(&mut self.insts[i], priority),
            Action::AddVips => {
                log::detail_info(&format!("({}) setting VIPs.", self.insts[i].cfg.name));
                self.add_vips(i);
            }
            Action::RemoveVips => {
                log::detail_info(&format!("({}) removing VIPs.", self.insts[i].cfg.name));
                self.remove_vips(i);
            }
            Action::Garp => {
                let rep = self.insts[i].cfg.garp_master_repeat;
                self.send_garps(i, rep, true);
                let c = &self.insts[i].cfg;
                let delay = c.garp_master_delay;
                let refresh = c.garp_master_refresh;
                self.insts[i].garp_due = (!delay.is_zero()).then(|| now + delay);
                self.insts[i].refresh_due = refresh.map(|r| now + r);
            }
            Action::Notify(state) => {
                let inst = &self.insts[i];
                let prio = inst.sm.effective_priority();
                let name = inst.cfg.name.clone();
                let n = inst.cfg.notifies.clone();
                if state == VrrpState::Stop {
                    return; // run (bounded) by shutdown
                }
                self.notify(&n, "INSTANCE", &name, state, prio);
            }
            Action::Log(line) => log::info(&line),
        }
    }
}

/// Builds and sends one advert of `inst` with `priority` to the group or every unicast peer.
fn send_advert(inst: &mut Inst, priority: u8) {
    {
        inst.advert.priority = priority;
        let dsts: Vec<IpAddr> = if inst.cfg.unicast() {
            inst.cfg.unicast_peers.clone()
        } else {
            vec![inst.cfg.mcast_group]
        };
        // `unicast_ttl` applies to unicast IPv4 adverts (keepalived sets it on the IP header).
        let ttl = if inst.cfg.unicast() {
            inst.cfg.unicast_ttl
        } else {
            VRRP_TTL
        };
        if inst.cfg.ipv6 {
            let src = inst
                .sm
                .params
                .our_addr
                .unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
            for dst in dsts {
                let mut out = Vec::with_capacity(inst.advert.payload_len());
                inst.advert.encode_payload(src, dst, &mut out);
                let Some(socket) = &inst.socket else { return };
                if let Err(e) = socket.send(&out, dst) {
                    log::info(&format!("({}) send advert error ({})", inst.cfg.name, e));
                }
            }
        } else {
            let Some(IpAddr::V4(src)) = inst.sm.params.our_addr else {
                log::info(&format!(
                    "({}) no IPv4 source address on {}",
                    inst.cfg.name, inst.iface.name
                ));
                return;
            };
            let ah_seq = if inst.cfg.auth_type == AuthType::Ah {
                inst.sm.ah_seq = inst.sm.ah_seq.wrapping_add(1);
                Some(inst.sm.ah_seq)
            } else {
                None
            };
            let key = inst.cfg.auth_key;
            for dst in dsts {
                let IpAddr::V4(dst4) = dst else { continue };
                inst.ip_id = inst.ip_id.wrapping_add(1).max(1);
                let frame = Ipv4Frame {
                    src,
                    dst: dst4,
                    ttl,
                    ip_id: inst.ip_id,
                    ah: ah_seq.map(|s| (&key, s)),
                    unicast: inst.cfg.unicast(),
                };
                let bytes = encode_ipv4(&inst.advert, &frame);
                let Some(socket) = &inst.socket else { return };
                if let Err(e) = socket.send(&bytes, dst) {
                    log::info(&format!("({}) send advert error ({})", inst.cfg.name, e));
                }
            }
        }
        inst.stats.advert_sent += 1;
        if priority == 0 {
            inst.stats.pri_zero_sent += 1;
            log::detail_info(&format!("({}) sent 0 priority", inst.cfg.name));
        }
    }
}

impl Engine {
    fn vip_ifindex(&self, i: usize, vip: &VipConfig) -> u32 {
        match &vip.dev {
            Some(dev) if *dev != self.insts[i].cfg.interface => {
                net::if_index(dev).unwrap_or(self.insts[i].iface.index)
            }
            _ => self.insts[i].iface.index,
        }
    }

    fn add_vips(&mut self, i: usize) {
        let vips: Vec<VipConfig> = self.insts[i]
            .cfg
            .vips
            .iter()
            .chain(self.insts[i].cfg.excluded_vips.iter())
            .cloned()
            .collect();
        for vip in &vips {
            let idx = self.vip_ifindex(i, vip);
            if let Err(e) = self.netlink.address(true, idx, vip) {
                log::info(&format!(
                    "({}) cannot add VIP {}: {}",
                    self.insts[i].cfg.name, vip.addr, e
                ));
            }
        }
        let routes = self.insts[i].cfg.routes.clone();
        for r in &routes {
            let oif = r.dev.as_deref().and_then(|d| net::if_index(d).ok());
            if let Err(e) = self.netlink.route(true, r, oif) {
                log::info(&format!(
                    "({}) cannot add route {}: {}",
                    self.insts[i].cfg.name, r.dest, e
                ));
            }
        }
    }

    fn remove_vips(&mut self, i: usize) {
        let routes = self.insts[i].cfg.routes.clone();
        for r in &routes {
            let oif = r.dev.as_deref().and_then(|d| net::if_index(d).ok());
            let _ = self.netlink.route(false, r, oif);
        }
        let vips: Vec<VipConfig> = self.insts[i]
            .cfg
            .vips
            .iter()
            .chain(self.insts[i].cfg.excluded_vips.iter())
            .cloned()
            .collect();
        for vip in &vips {
            let idx = self.vip_ifindex(i, vip);
            if let Err(e) = self.netlink.address(false, idx, vip) {
                log::info(&format!(
                    "({}) cannot remove VIP {}: {}",
                    self.insts[i].cfg.name, vip.addr, e
                ));
            }
        }
    }

    fn send_garps(&mut self, i: usize, repeat: u32, log_it: bool) {
        let inst = &self.insts[i];
        let v4: Vec<Ipv4Addr> = inst
            .cfg
            .vips
            .iter()
            .filter_map(|v| match v.addr.addr() {
                IpAddr::V4(a) => Some(a),
                IpAddr::V6(_) => None,
            })
            .collect();
        let v6: Vec<Ipv6Addr> = inst
            .cfg
            .vips
            .iter()
            .filter_map(|v| match v.addr.addr() {
                IpAddr::V6(a) => Some(a),
                IpAddr::V4(_) => None,
            })
            .collect();
        if log_it {
            for a in &v4 {
                log::info(&format!(
                    "({}) Sending/queueing gratuitous ARPs on {} for {}",
                    inst.cfg.name, inst.iface.name, a
                ));
            }
            for a in &v6 {
                log::info(&format!(
                    "({}) Sending/queueing Unsolicited Neighbour Adverts on {} for {}",
                    inst.cfg.name, inst.iface.name, a
                ));
            }
        }
        if !inst.cfg.garp_interval.is_zero() || !inst.cfg.gna_interval.is_zero() {
            // vrrp_garp_interval / vrrp_gna_interval: like keepalived, a message goes out at
            // once when the interval since the last one has passed; otherwise the address is
            // marked pending (once, however many repeats were asked for) and sent later.
            let now = Instant::now();
            for _ in 0..repeat.max(1) {
                for a in v4
                    .iter()
                    .map(|a| IpAddr::V4(*a))
                    .chain(v6.iter().map(|a| IpAddr::V6(*a)))
                {
                    if self.insts[i].garp_pending.contains(&a) {
                        continue;
                    }
                    if !self.send_spaced(i, a, now) {
                        self.insts[i].garp_pending.push(a);
                    }
                }
            }
            return;
        }
        for _ in 0..repeat.max(1) {
            if let Err(e) = net::send_garps(inst.iface.index, inst.iface.mac, &v4) {
                log::info(&format!(
                    "Error {e} sending gratuitous ARP on {}",
                    inst.iface.name
                ));
            }
            if let Err(e) = net::send_unsolicited_na(inst.iface.index, inst.iface.mac, &v6) {
                log::info(&format!(
                    "Error {e} sending unsolicited NA on {}",
                    inst.iface.name
                ));
            }
        }
    }

    /// Sends one GARP / NA for `a` if its interval allows it now; false when it must wait.
    fn send_spaced(&mut self, i: usize, a: IpAddr, now: Instant) -> bool {
        let inst = &mut self.insts[i];
        let (next, gap) = match a {
            IpAddr::V4(_) => (&mut inst.garp_next, inst.cfg.garp_interval),
            IpAddr::V6(_) => (&mut inst.gna_next, inst.cfg.gna_interval),
        };
        if next.map(|t| now < t).unwrap_or(false) {
            return false;
        }
        *next = Some(now + gap);
        let (index, mac) = (inst.iface.index, inst.iface.mac);
        let sent = match a {
            IpAddr::V4(v4) => net::send_garps(index, mac, &[v4]),
            IpAddr::V6(v6) => net::send_unsolicited_na(index, mac, &[v6]),
        };
        if let Err(e) = sent {
            log::info(&format!(
                "Error {e} sending gratuitous ARP/NA on {}",
                inst.iface.name
            ));
        }
        true
    }

    /// Fault condition and total priority of instance `i` from its tracked objects.
    fn evaluate(&self, i: usize) -> (bool, i32) {
        let c = &self.insts[i].cfg;
        let mut fault = !c.dont_track_primary && !net::interface_is_up(&c.interface);
        let mut total = i32::from(c.priority);
        let mut weigh = |ok: bool, weight: i32, reverse: bool, fault: &mut bool| {
            let ok = ok != reverse;
            if weight == 0 {
                if !ok {
                    *fault = true;
                }
            } else if (weight > 0) == ok {
                // positive weights count while up, negative ones while down
                total += weight;
            }
        };
        for t in &c.track_interfaces {
            weigh(
                net::interface_is_up(&t.name),
                t.weight,
                t.reverse,
                &mut fault,
            );
        }
        for t in &c.track_scripts {
            if let Some(up) = self.scripts.get(t.index).and_then(|s| s.up) {
                weigh(up, t.weight, t.reverse, &mut fault);
            }
        }
        for t in &c.track_processes {
            if let (Some(p), Some(&n)) = (
                self.cfg.track_processes.get(t.index),
                self.track_process_counts.get(t.index),
            ) {
                weigh(super::process::is_up(p, n), t.weight, t.reverse, &mut fault);
            }
        }
        for t in &c.track_files {
            // keepalived: weight 0 → any non-zero value is a failure; otherwise value × weight
            // is added to the priority, and a result below -253 is a failure.
            let v = self.track_file_values.get(t.index).copied().unwrap_or(0);
            if t.weight == 0 {
                if v != 0 {
                    fault = true;
                }
            } else {
                let mut contrib = v.saturating_mul(i64::from(t.weight));
                if t.reverse {
                    contrib = -contrib;
                }
                if contrib < -253 {
                    fault = true;
                } else {
                    total += contrib.min(253) as i32;
                }
            }
        }
        (fault, total)
    }

    fn poll_files(&mut self) {
        for (k, f) in self.cfg.track_files.iter().enumerate() {
            let v = std::fs::read_to_string(&f.path)
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .unwrap_or(0);
            self.track_file_values[k] = v;
        }
    }

    /// Rescans /proc for tracked processes, at most every 250 ms.
    fn poll_processes(&mut self, now: Instant) {
        if self.cfg.track_processes.is_empty() {
            return;
        }
        if let Some(t) = self.processes_scanned {
            if now.duration_since(t) < Duration::from_millis(250) {
                return;
            }
        }
        self.processes_scanned = Some(now);
        let counts = super::process::count_running(&self.cfg.track_processes);
        for (k, p) in self.cfg.track_processes.iter().enumerate() {
            let was = self
                .track_process_counts
                .get(k)
                .map(|&n| super::process::is_up(p, n));
            let up = super::process::is_up(p, counts[k]);
            if was != Some(up) {
                log::info(&format!(
                    "Track process {} {}",
                    p.name,
                    if up { "is now up" } else { "is now down" }
                ));
            }
        }
        self.track_process_counts = counts;
    }

    /// `dynamic_interfaces`: opens the instances whose interface has appeared since.
    fn open_appeared_interfaces(&mut self, now: Instant) {
        let mut reopened = false;
        for i in 0..self.insts.len() {
            let Ok(index) = net::if_index(&self.insts[i].cfg.interface) else {
                continue;
            };
            // Open when missing so far, or when the interface was re-created (new index).
            let recreated = self.insts[i].cfg.use_vmac.is_none()
                && self.insts[i].socket.is_some()
                && index != self.insts[i].iface.index;
            if self.insts[i].socket.is_some() && !recreated {
                continue;
            }
            if recreated && !self.cfg.dynamic_interfaces {
                continue;
            }
            let cfg = self.insts[i].cfg.clone();
            match open_instance(&cfg, &mut self.netlink) {
                Ok(mut inst) => {
                    log::info(&format!(
                        "({}) interface {} appeared",
                        cfg.name, cfg.interface
                    ));
                    let std_now = now.into_std();
                    let prev = self.insts[i].sm.state();
                    inst.stats = self.insts[i].stats.clone();
                    self.insts[i] = inst;
                    let (fault, total) = self.evaluate(i);
                    self.insts[i].faulted = fault;
                    let mut acts = self.insts[i].sm.start(std_now, fault);
                    if !fault {
                        acts.extend(self.insts[i].sm.set_total_priority(std_now, total));
                    }
                    self.after(i, prev, acts, now, true);
                    reopened = true;
                }
                Err(e) => log::detail_info(&e.to_string()),
            }
        }
        if reopened {
            self.spawn_tasks();
        }
    }

    fn poll_tracking(&mut self, now: Instant) {
        self.open_appeared_interfaces(now);
        self.poll_files();
        self.poll_processes(now);
        let std_now = now.into_std();
        for i in 0..self.insts.len() {
            if self.insts[i].sm.state() == VrrpState::Stop {
                continue;
            }
            let (fault, total) = self.evaluate(i);
            if fault != self.insts[i].faulted {
                self.insts[i].faulted = fault;
                let prev = self.insts[i].sm.state();
                let acts = self.insts[i].sm.set_fault(std_now, fault);
                self.after(i, prev, acts, now, true);
            }
            if !fault {
                let prev = self.insts[i].sm.state();
                let old_prio = self.insts[i].sm.effective_priority();
                let acts = self.insts[i].sm.set_total_priority(std_now, total);
                self.after(i, prev, acts, now, true);
                if self.insts[i].cfg.notify_priority_changes
                    && self.insts[i].sm.effective_priority() != old_prio
                {
                    let kind = if self.insts[i].sm.state() == VrrpState::Master {
                        "MASTER_PRIORITY"
                    } else {
                        "BACKUP_PRIORITY"
                    };
                    self.event_notify(i, kind, false);
                }
            }
        }
    }

    fn on_script(&mut self, index: usize, ok: bool, now: Instant) {
        let Some(status) = self.scripts.get_mut(index) else {
            return;
        };
        if let Some(up) = status.record(ok) {
            let name = &self.cfg.scripts[index].name;
            log::info(&format!(
                "VRRP_Script({}) {}",
                name,
                if up { "succeeded" } else { "failed" }
            ));
            self.poll_tracking(now);
        }
    }

    async fn shutdown(&mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
        let now = Instant::now();
        let mut stops = Vec::new();
        for i in 0..self.insts.len() {
            let prev = self.insts[i].sm.state();
            let acts = self.insts[i].sm.shutdown(now.into_std());
            self.after(i, prev, acts, now, false);
            let inst = &self.insts[i];
            let extra = vec![
                "INSTANCE".to_owned(),
                inst.cfg.name.clone(),
                "STOP".to_owned(),
                inst.sm.effective_priority().to_string(),
            ];
            if let Some(c) = &inst.cfg.notifies.stop {
                stops.push((c.clone(), Vec::new()));
            }
            if let Some(c) = &inst.cfg.notifies.generic {
                stops.push((c.clone(), extra));
            }
        }
        for inst in &self.insts {
            let line = format!(
                "INSTANCE \"{}\" STOP {}\n",
                inst.cfg.name,
                inst.sm.effective_priority()
            );
            for f in &self.fifos {
                f.write_line(&line);
            }
        }
        for f in &self.fifos {
            if f.created {
                let _ = std::fs::remove_file(&f.path);
            }
        }
        for (cmd, extra) in stops {
            scripts::run_notify_bounded(
                &cmd,
                &extra,
                self.default_user.as_deref(),
                Duration::from_secs(1),
            )
            .await;
        }
        for i in 0..self.insts.len() {
            if self.insts[i].vmac_created {
                let _ = self.netlink.delete_link(self.insts[i].iface.index);
            }
        }
        self.static_config(false);
    }

    /// SIGHUP: re-read the configuration and carry running states over, so that an unchanged
    /// master stays master without a transition.
    fn reload(&mut self, new_cfg: EngineConfig, now: Instant) {
        let mut new_insts = Vec::with_capacity(new_cfg.instances.len());
        for c in &new_cfg.instances {
            match open_or_wait(c, &mut self.netlink, new_cfg.dynamic_interfaces) {
                Ok(i) => new_insts.push(i),
                Err(e) => {
                    log::info(&format!(
                        "Reload failed, keeping the running configuration: {e}"
                    ));
                    return;
                }
            }
        }
        let mut old: HashMap<String, Inst> = self
            .insts
            .drain(..)
            .map(|i| (i.cfg.name.clone(), i))
            .collect();
        let mut old_scripts: HashMap<String, ScriptStatus> = HashMap::new();
        for (k, s) in self.scripts.drain(..).enumerate() {
            if let Some(c) = self.cfg.scripts.get(k) {
                old_scripts.insert(c.name.clone(), s);
            }
        }
        self.scripts = new_cfg
            .scripts
            .iter()
            .map(|s| {
                old_scripts
                    .remove(&s.name)
                    .unwrap_or_else(|| ScriptStatus::new(s))
            })
            .collect();
        self.track_file_values = vec![0; new_cfg.track_files.len()];
        self.cfg.track_files = new_cfg.track_files.clone();
        self.poll_files();
        self.group_states = vec![None; new_cfg.sync_groups.len()];
        // Static addresses and routes: drop what the new configuration no longer has, add the rest.
        let gone_addrs: Vec<VipConfig> = self
            .cfg
            .static_addresses
            .iter()
            .filter(|a| !new_cfg.static_addresses.contains(a))
            .cloned()
            .collect();
        let gone_routes: Vec<_> = self
            .cfg
            .static_routes
            .iter()
            .filter(|r| !new_cfg.static_routes.contains(r))
            .cloned()
            .collect();
        self.cfg.static_addresses = gone_addrs;
        self.cfg.static_routes = gone_routes;
        self.static_config(false);
        self.cfg = new_cfg;
        self.static_config(true);
        self.track_process_counts = vec![0; self.cfg.track_processes.len()];
        self.processes_scanned = None;
        self.poll_processes(now);
        self.insts = new_insts;
        let std_now = now.into_std();
        for i in 0..self.insts.len() {
            let (fault, total) = self.evaluate(i);
            self.insts[i].faulted = fault;
            let name = self.insts[i].cfg.name.clone();
            let prev_old = old
                .remove(&name)
                .filter(|o| o.cfg.vrid == self.insts[i].cfg.vrid);
            let acts = match prev_old {
                Some(o) => {
                    if o.sm.state() == VrrpState::Master {
                        // Drop addresses the new configuration no longer has.
                        let keep: Vec<_> = self.insts[i].cfg.vips.iter().map(|v| v.addr).collect();
                        for vip in o.cfg.vips.iter().filter(|v| !keep.contains(&v.addr)) {
                            let _ = self.netlink.address(false, o.iface.index, vip);
                        }
                    }
                    self.insts[i].stats = o.stats.clone();
                    self.insts[i].vmac_created |=
                        o.vmac_created && self.insts[i].cfg.use_vmac == o.cfg.use_vmac;
                    self.insts[i].ip_id = o.ip_id;
                    let mut a = self.insts[i].sm.set_total_priority(std_now, total);
                    if fault {
                        a.extend(self.insts[i].sm.start(std_now, true));
                    } else {
                        a.extend(self.insts[i].sm.inherit(&o.sm, std_now));
                    }
                    a
                }
                None => {
                    let mut a = self.insts[i].sm.start(std_now, fault);
                    if !fault {
                        a.extend(self.insts[i].sm.set_total_priority(std_now, total));
                    }
                    a
                }
            };
            let prev = self.insts[i].sm.state();
            self.after(i, prev, acts, now, false);
        }
        // Instances that disappeared release their addresses (and their VMAC).
        for (_, mut o) in old {
            if o.sm.state() == VrrpState::Master {
                o.sm.shutdown(std_now);
                send_advert(&mut o, 0);
                for vip in &o.cfg.vips {
                    let _ = self.netlink.address(false, o.iface.index, vip);
                }
            }
            if o.vmac_created {
                let _ = self.netlink.delete_link(o.iface.index);
            }
        }
        self.spawn_tasks();
    }
}

/// Runs the engine until SIGTERM/SIGINT; returns the exit status.
pub async fn run_engine(cfg: EngineConfig, loader: Loader) -> i32 {
    let (tx, mut rx) = mpsc::channel::<Event>(1024);
    let mut engine = match Engine::new(cfg, tx) {
        Ok(e) => e,
        Err(e) => {
            log::info(&e.to_string());
            return 1;
        }
    };
    let (Ok(mut term), Ok(mut int), Ok(mut hup), Ok(mut usr1), Ok(mut usr2)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
        signal(SignalKind::user_defined1()),
        signal(SignalKind::user_defined2()),
    ) else {
        log::info("cannot install signal handlers");
        return 1;
    };
    if !engine.cfg.scripts.is_empty() && !engine.cfg.script_security {
        log::info(
            "SECURITY VIOLATION - scripts are being executed but script_security not enabled.",
        );
    }
    if !engine.cfg.startup_delay.is_zero() {
        log::info(&format!(
            "Delaying startup for {} seconds",
            engine.cfg.startup_delay.as_secs_f64()
        ));
    }
    engine.spawn_tasks();
    engine.start(Instant::now());
    log::info("Startup complete");
    let mut poll = tokio::time::interval(Duration::from_millis(100));
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let far = Duration::from_secs(3600);
    loop {
        let deadline = engine
            .next_deadline()
            .unwrap_or_else(|| Instant::now() + far);
        tokio::select! {
            biased;
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => {
                log::info("Reloading ...");
                match loader() {
                    Ok(c) => engine.reload(c, Instant::now()),
                    Err(e) => log::info(&format!("Reload failed: {e}")),
                }
            }
            _ = usr1.recv() => engine.dump_data(),
            _ = usr2.recv() => engine.dump_stats(),
            _ = tokio::time::sleep_until(deadline) => engine.on_timers(Instant::now()),
            Some(ev) = rx.recv() => match ev {
                Event::Packet { generation, index, data, meta } if generation == engine.generation => {
                    engine.on_packet(index, &data, &meta, Instant::now());
                }
                Event::Script { generation, index, ok } if generation == engine.generation => {
                    engine.on_script(index, ok, Instant::now());
                }
                _ => {}
            },
            _ = poll.tick() => engine.poll_tracking(Instant::now()),
        }
    }
    log::info("Stopping");
    engine.shutdown().await;
    log::info("Stopped");
    0
}

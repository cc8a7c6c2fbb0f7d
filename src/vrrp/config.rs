//! What the VRRP engine runs: instances, scripts, track files and sync groups with every default
//! resolved, lowered from the keepalived IR ([`from_ir`]).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;

use super::packet::{auth_key, AuthKey, AuthType, VrrpVersion};
use crate::keepalived::ir::{self, KeepalivedConfig};

/// Why a configuration cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("({0}) virtual_router_id is missing")]
    MissingVrid(String),
    #[error("({0}) no interface given and no default_interface")]
    MissingInterface(String),
    #[error("({instance}) unknown vrrp_script {script}")]
    UnknownScript { instance: String, script: String },
    #[error("({instance}) unknown vrrp_track_file {file}")]
    UnknownTrackFile { instance: String, file: String },
    #[error("({0}) mixes IPv4 and IPv6 virtual addresses")]
    MixedFamilies(String),
}

/// One virtual address with its `ip addr add` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VipConfig {
    pub addr: IpNet,
    /// Device override (`dev IF`); the instance interface otherwise.
    pub dev: Option<String>,
    pub label: Option<String>,
    pub brd: Option<IpAddr>,
    /// Numeric scope (`host` = 254, `link` = 253, `site` = 200, `global` = 0).
    pub scope: u8,
}

/// A virtual route (`virtual_routes`): destination, gateway, device, metric, table, type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteConfig {
    pub dest: IpNet,
    pub via: Option<IpAddr>,
    pub src: Option<IpAddr>,
    pub dev: Option<String>,
    pub metric: Option<u32>,
    pub table: Option<u32>,
    pub scope: Option<u8>,
    /// RTN_* type: 1 unicast, 6 blackhole, 7 unreachable, 8 prohibit.
    pub route_type: u8,
}

/// A command to run, split into words.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Command {
    pub args: Vec<String>,
    pub user: Option<String>,
}

/// A `vrrp_script`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptConfig {
    pub name: String,
    pub command: Command,
    pub interval: Duration,
    pub timeout: Duration,
    pub weight: i32,
    pub rise: u32,
    pub fall: u32,
    pub init_fail: bool,
}

/// A `vrrp_track_file`.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackFileConfig {
    pub name: String,
    pub path: PathBuf,
    pub weight: i32,
    pub reverse: bool,
    /// `init_file [VALUE] [overwrite]`: written at startup when missing (or always).
    pub init: Option<(i32, bool)>,
}

/// A `vrrp_track_process`.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackProcessConfig {
    pub name: String,
    /// comm, or argv[0] with `full_command`.
    pub process: String,
    pub params: Vec<String>,
    pub param_match: ir::ParamMatch,
    pub full_command: bool,
    pub weight: i32,
    pub reverse: bool,
    pub quorum: u32,
    pub quorum_max: u32,
}

/// A tracked object's weight as seen by one instance (`weight 0` = FAULT on failure).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackWeight {
    /// Index into [`EngineConfig::scripts`] / `track_files`.
    pub index: usize,
    pub weight: i32,
    pub reverse: bool,
}

/// A `track_interface` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackInterface {
    pub name: String,
    pub weight: i32,
    pub reverse: bool,
}

/// Notify scripts of an instance or sync group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Notifies {
    pub master: Option<Command>,
    pub backup: Option<Command>,
    pub fault: Option<Command>,
    pub stop: Option<Command>,
    /// The generic `notify` script (called with `INSTANCE|GROUP name state priority`).
    pub generic: Option<Command>,
}

/// Everything one VRRP instance needs.
#[derive(Debug, Clone, PartialEq)]
pub struct VrrpInstanceConfig {
    pub name: String,
    pub interface: String,
    pub vrid: u8,
    pub version: VrrpVersion,
    pub ipv6: bool,
    pub priority: u8,
    pub adver_int: Duration,
    pub initial_master: bool,
    pub nopreempt: bool,
    pub preempt_delay: Duration,
    pub auth_type: AuthType,
    pub auth_key: AuthKey,
    pub vips: Vec<VipConfig>,
    pub excluded_vips: Vec<VipConfig>,
    pub routes: Vec<RouteConfig>,
    pub unicast_src: Option<IpAddr>,
    pub unicast_peers: Vec<IpAddr>,
    /// (min_ttl, max_ttl) per unicast peer (0 - 255 unless configured).
    pub unicast_peer_ttl: Vec<(u8, u8)>,
    /// `unicast_ttl`: TTL of unicast IPv4 adverts (255 by default).
    pub unicast_ttl: u8,
    pub check_unicast_src: bool,
    pub mcast_src: Option<IpAddr>,
    /// The multicast group adverts go to (`mcast_dst_ip`, `vrrp_mcast_group4/6`, or
    /// 224.0.0.18 / ff02::12).
    pub mcast_group: IpAddr,
    pub track_interfaces: Vec<TrackInterface>,
    pub track_scripts: Vec<TrackWeight>,
    pub track_files: Vec<TrackWeight>,
    /// Indexes into [`EngineConfig::track_processes`].
    pub track_processes: Vec<TrackWeight>,
    pub garp_master_delay: Duration,
    pub garp_master_repeat: u32,
    pub garp_master_refresh: Option<Duration>,
    pub garp_master_refresh_repeat: u32,
    pub garp_interval: Duration,
    /// `vrrp_gna_interval`: minimum gap between unsolicited neighbour adverts.
    pub gna_interval: Duration,
    /// GARPs sent by a master on a lower priority advert (0 = none), and the delay before
    /// sending them again.
    pub garp_lower_prio_repeat: u32,
    pub garp_lower_prio_delay: Duration,
    pub notifies: Notifies,
    pub skip_check_adv_addr: bool,
    /// Don't answer a lower-priority advert with an advert of our own.
    pub lower_prio_no_advert: bool,
    /// Send an advert before yielding to a higher-priority one.
    pub higher_prio_send_advert: bool,
    /// `use_vmac`: the macvlan name (default `vrrp.VRID`).
    pub use_vmac: Option<String>,
    pub sync_group: Option<usize>,
    /// `dont_track_primary`: the instance's own interface going down is not a fault.
    pub dont_track_primary: bool,
    /// `notify_master_rx_lower_pri`: run when this master hears a lower priority advert.
    pub notify_master_rx_lower_pri: Option<Command>,
    /// `notify_priority_changes` (instance, else its sync group's): FIFO lines on changes.
    pub notify_priority_changes: bool,
}

impl VrrpInstanceConfig {
    /// The advert interval field: seconds for v2, centiseconds for v3.
    pub fn adver_int_field(&self) -> u16 {
        match self.version {
            VrrpVersion::V2 => self.adver_int.as_secs().clamp(1, 255) as u16,
            VrrpVersion::V3 => ((self.adver_int.as_millis() / 10) as u16).clamp(1, 4095),
        }
    }
    /// The addresses carried in adverts.
    pub fn vip_addrs(&self) -> Vec<IpAddr> {
        self.vips.iter().map(|v| v.addr.addr()).collect()
    }
    pub fn unicast(&self) -> bool {
        !self.unicast_peers.is_empty()
    }
}

/// A `vrrp_sync_group`.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncGroupConfig {
    pub name: String,
    /// Indexes into [`EngineConfig::instances`].
    pub members: Vec<usize>,
    pub notifies: Notifies,
}

/// The whole VRRP side of a configuration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EngineConfig {
    pub router_id: Option<String>,
    pub instances: Vec<VrrpInstanceConfig>,
    pub scripts: Vec<ScriptConfig>,
    pub track_files: Vec<TrackFileConfig>,
    pub track_processes: Vec<TrackProcessConfig>,
    pub sync_groups: Vec<SyncGroupConfig>,
    pub script_security: bool,
    pub script_user: Option<String>,
    /// `notify_fifo` and `vrrp_notify_fifo` paths.
    pub notify_fifos: Vec<PathBuf>,
    /// `vrrp_startup_delay`.
    pub startup_delay: Duration,
    /// `static_ipaddress`: added at start, kept while running, removed at stop (keepalived).
    pub static_addresses: Vec<VipConfig>,
    /// `static_routes`: likewise.
    pub static_routes: Vec<RouteConfig>,
    /// `dynamic_interfaces`: a missing interface puts its instance in FAULT (not an error).
    pub dynamic_interfaces: bool,
}

fn command(s: &ir::Script) -> Command {
    let args = if s.args.is_empty() {
        s.cmdline.split_whitespace().map(str::to_owned).collect()
    } else {
        s.args.clone()
    };
    Command {
        args,
        user: s.user.clone(),
    }
}

fn scope_number(s: Option<&str>) -> u8 {
    match s {
        Some("host") => 254,
        Some("link") => 253,
        Some("site") => 200,
        Some("nowhere") => 255,
        Some(other) => other.parse().unwrap_or(0),
        None => 0,
    }
}

fn vip(v: &ir::VirtualIp) -> VipConfig {
    VipConfig {
        addr: v.addr,
        dev: v.dev.clone(),
        label: v.label.clone(),
        brd: v.brd,
        scope: scope_number(v.scope.as_deref()),
    }
}

fn route(r: &ir::VirtualRoute) -> RouteConfig {
    let route_type = match r.route_type.as_deref() {
        Some("blackhole") => 6,
        Some("unreachable") => 7,
        Some("prohibit") => 8,
        _ => 1,
    };
    let table = r.table.as_deref().and_then(|t| match t {
        "main" => Some(254),
        "local" => Some(255),
        "default" => Some(253),
        n => n.parse().ok(),
    });
    RouteConfig {
        dest: r.dest,
        via: r.via,
        src: r.src,
        dev: r.dev.clone(),
        metric: r.metric,
        table,
        scope: r.scope.as_deref().map(|s| scope_number(Some(s))),
        route_type,
    }
}

fn notifies(
    master: &Option<ir::Script>,
    backup: &Option<ir::Script>,
    fault: &Option<ir::Script>,
    stop: &Option<ir::Script>,
    generic: &Option<ir::Script>,
) -> Notifies {
    Notifies {
        master: master.as_ref().map(command),
        backup: backup.as_ref().map(command),
        fault: fault.as_ref().map(command),
        stop: stop.as_ref().map(command),
        generic: generic.as_ref().map(command),
    }
}

/// keepalived's vrrp_complete_instance: an instance in a sync group (without
/// `sync_group_tracking_weight`) or an address owner does not run floating priorities: weighted
/// interfaces become unweighted (in a group) or untracked (owner), weighted scripts and
/// processes are dropped, files with the default weight 1 become unweighted, other weighted
/// files are dropped.
fn drop_weights(ic: &mut VrrpInstanceConfig, in_group: bool) {
    if in_group {
        for t in &mut ic.track_interfaces {
            t.weight = 0;
        }
    } else {
        ic.track_interfaces.retain(|t| t.weight == 0);
    }
    ic.track_scripts.retain(|t| t.weight == 0);
    ic.track_processes.retain(|t| t.weight == 0);
    ic.track_files.retain_mut(|t| {
        if t.weight == 1 {
            t.weight = 0;
        }
        t.weight == 0
    });
}

/// keepalived's sync_group_tracking_init: the group's tracked interfaces, scripts and files
/// apply to every member (weights cleared when a member is the address owner).
fn add_group_tracking(
    sg: &ir::VrrpSyncGroup,
    cfg: &KeepalivedConfig,
    instances: &mut [VrrpInstanceConfig],
    scripts: &[ScriptConfig],
    files: &[TrackFileConfig],
) {
    let members: Vec<usize> = sg
        .group
        .iter()
        .filter_map(|m| instances.iter().position(|i| &i.name == m))
        .collect();
    let owner = members.iter().any(|&m| instances[m].priority == 255);
    let weight = |w: i32| if owner { 0 } else { w };
    let ifs: Vec<TrackInterface> = sg
        .track_interface
        .iter()
        .map(|t| TrackInterface {
            name: t.name.clone(),
            weight: weight(t.weight.unwrap_or(0)),
            reverse: t.reverse,
        })
        .collect();
    let scr: Vec<TrackWeight> = sg
        .track_script
        .iter()
        .filter_map(|t| {
            let index = cfg.vrrp_scripts.iter().position(|s| s.name == t.name)?;
            Some(TrackWeight {
                index,
                weight: weight(t.weight.unwrap_or(scripts.get(index)?.weight)),
                reverse: t.reverse,
            })
        })
        .collect();
    let fil: Vec<TrackWeight> = sg
        .track_file
        .iter()
        .filter_map(|t| {
            let index = cfg.vrrp_track_files.iter().position(|s| s.name == t.name)?;
            let f = files.get(index)?;
            Some(TrackWeight {
                index,
                weight: weight(t.weight.unwrap_or(f.weight)),
                reverse: t.reverse || f.reverse,
            })
        })
        .collect();
    for m in members {
        instances[m].track_interfaces.extend(ifs.iter().cloned());
        instances[m].track_scripts.extend(scr.iter().copied());
        instances[m].track_files.extend(fil.iter().copied());
    }
}

/// Lowers the keepalived IR to what the engine runs, applying keepalived's defaults.
pub fn from_ir(cfg: &KeepalivedConfig) -> Result<EngineConfig, ConfigError> {
    let g = &cfg.global_defs;
    let scripts: Vec<ScriptConfig> = cfg
        .vrrp_scripts
        .iter()
        .map(|s| {
            let interval = if s.interval.is_zero() {
                Duration::from_secs(1)
            } else {
                s.interval
            };
            ScriptConfig {
                name: s.name.clone(),
                command: s
                    .script
                    .as_ref()
                    .map(|sc| {
                        let mut c = command(sc);
                        if c.user.is_none() {
                            c.user = s.user.as_ref().map(|(u, _)| u.clone());
                        }
                        c
                    })
                    .unwrap_or_default(),
                interval,
                timeout: s.timeout.unwrap_or(interval),
                weight: s.weight,
                rise: s.rise.max(1),
                fall: s.fall.max(1),
                init_fail: s.init_fail,
            }
        })
        .collect();
    let track_files: Vec<TrackFileConfig> = cfg
        .vrrp_track_files
        .iter()
        .map(|f| TrackFileConfig {
            name: f.name.clone(),
            path: f.file.clone().unwrap_or_default(),
            weight: f.weight,
            reverse: f.weight_reverse,
            init: f.init_file,
        })
        .collect();

    let track_processes: Vec<TrackProcessConfig> = cfg
        .vrrp_track_processes
        .iter()
        .map(|p| TrackProcessConfig {
            name: p.name.clone(),
            process: p.process.clone().unwrap_or_default(),
            params: p.params.clone(),
            param_match: p.param_match,
            full_command: p.full_command,
            weight: p.weight,
            reverse: p.weight_reverse,
            quorum: p.quorum,
            quorum_max: p.quorum_max,
        })
        .collect();
    let mut instances = Vec::new();
    for inst in &cfg.instances {
        let name = inst.name.clone();
        let vrid = inst
            .virtual_router_id
            .ok_or_else(|| ConfigError::MissingVrid(name.clone()))?;
        let interface = inst
            .interface
            .clone()
            .or_else(|| g.default_interface.clone())
            .ok_or_else(|| ConfigError::MissingInterface(name.clone()))?;
        let ipv6 = inst.is_ipv6();
        if inst
            .virtual_ipaddress
            .iter()
            .any(|v| v.addr.addr().is_ipv6() != ipv6)
        {
            return Err(ConfigError::MixedFamilies(name));
        }
        let version = if ipv6 || inst.effective_version(g) == 3 {
            VrrpVersion::V3
        } else {
            VrrpVersion::V2
        };
        let adver_int = match version {
            VrrpVersion::V2 => Duration::from_secs((inst.advert_int.round() as u64).clamp(1, 255)),
            VrrpVersion::V3 => {
                Duration::from_millis(u64::from(inst.advert_int_centiseconds()) * 10)
            }
        };
        // vrrp_strict / strict_mode: keepalived resets what RFC 3768/5798 do not allow
        // (validate.rs reports each reset at -t).
        let strict = inst.strict_mode.unwrap_or(g.vrrp_strict);
        let (auth_type, key) = match (&inst.authentication, version, ipv6) {
            (Some(a), VrrpVersion::V2, _) if !a.auth_pass.is_empty() && !strict => {
                let t = match a.auth_type {
                    Some(ir::AuthType::Pass) => AuthType::Pass,
                    Some(ir::AuthType::Ah) if !ipv6 => AuthType::Ah,
                    _ => AuthType::None,
                };
                let mut k = [0u8; 8];
                for (d, s) in k.iter_mut().zip(&a.auth_pass) {
                    *d = *s;
                }
                (t, k)
            }
            _ => (AuthType::None, auth_key("")),
        };
        let priority = inst.priority.max(1);
        // keepalived: AH with initial MASTER (non-owner) is cleared to BACKUP; priority 255 (the
        // address owner) starts as MASTER.
        let initial_master = priority == 255
            || (!strict && inst.state == ir::InitialState::Master && auth_type != AuthType::Ah);
        let mut track_scripts = Vec::new();
        for t in &inst.track_script {
            let index = cfg
                .vrrp_scripts
                .iter()
                .position(|s| s.name == t.name)
                .ok_or_else(|| ConfigError::UnknownScript {
                    instance: name.clone(),
                    script: t.name.clone(),
                })?;
            track_scripts.push(TrackWeight {
                index,
                weight: t.weight.unwrap_or(scripts[index].weight),
                reverse: t.reverse,
            });
        }
        let mut tfiles = Vec::new();
        for t in &inst.track_file {
            let index = cfg
                .vrrp_track_files
                .iter()
                .position(|s| s.name == t.name)
                .ok_or_else(|| ConfigError::UnknownTrackFile {
                    instance: name.clone(),
                    file: t.name.clone(),
                })?;
            tfiles.push(TrackWeight {
                index,
                weight: t.weight.unwrap_or(track_files[index].weight),
                reverse: t.reverse || track_files[index].reverse,
            });
        }
        // keepalived ignores (with a -t error) a track_process naming no vrrp_track_process.
        let tprocs = inst
            .track_process
            .iter()
            .filter_map(|t| {
                let index = track_processes.iter().position(|p| p.name == t.name)?;
                Some(TrackWeight {
                    index,
                    weight: t.weight.unwrap_or(track_processes[index].weight),
                    reverse: if t.weight.is_some() {
                        t.reverse
                    } else {
                        track_processes[index].reverse
                    },
                })
            })
            .collect();
        instances.push(VrrpInstanceConfig {
            name,
            interface,
            vrid,
            version,
            ipv6,
            priority,
            adver_int,
            initial_master,
            nopreempt: inst.nopreempt,
            preempt_delay: if strict {
                Duration::ZERO
            } else {
                inst.preempt_delay.unwrap_or(Duration::ZERO)
            },
            auth_type,
            auth_key: key,
            vips: inst.virtual_ipaddress.iter().map(vip).collect(),
            excluded_vips: inst.virtual_ipaddress_excluded.iter().map(vip).collect(),
            routes: inst.virtual_routes.iter().map(route).collect(),
            unicast_src: inst.unicast_src_ip,
            unicast_peers: inst.unicast_peer.iter().map(|p| p.addr).collect(),
            unicast_peer_ttl: inst
                .unicast_peer
                .iter()
                .map(|p| (p.min_ttl.unwrap_or(0), p.max_ttl.unwrap_or(255)))
                .collect(),
            unicast_ttl: inst.unicast_ttl.unwrap_or(super::packet::VRRP_TTL),
            check_unicast_src: inst.check_unicast_src || g.vrrp_check_unicast_src,
            mcast_src: inst.mcast_src_ip,
            mcast_group: inst
                .mcast_dst_ip
                .filter(|a| a.is_ipv6() == ipv6)
                .or(if ipv6 {
                    g.vrrp_mcast_group6
                } else {
                    g.vrrp_mcast_group4
                })
                .unwrap_or(if ipv6 {
                    IpAddr::V6(super::packet::MCAST_V6)
                } else {
                    IpAddr::V4(super::packet::MCAST_V4)
                }),
            track_interfaces: inst
                .track_interface
                .iter()
                .map(|t| TrackInterface {
                    name: t.name.clone(),
                    weight: t.weight.unwrap_or(0),
                    reverse: t.reverse,
                })
                .collect(),
            track_scripts,
            track_files: tfiles,
            track_processes: tprocs,
            garp_master_delay: inst
                .garp_master_delay
                .or(g.vrrp_garp_master_delay)
                .unwrap_or(Duration::from_secs(5)),
            garp_master_repeat: inst
                .garp_master_repeat
                .or(g.vrrp_garp_master_repeat)
                .unwrap_or(5),
            garp_master_refresh: inst
                .garp_master_refresh
                .or(g.vrrp_garp_master_refresh)
                .filter(|d| !d.is_zero()),
            garp_master_refresh_repeat: inst
                .garp_master_refresh_repeat
                .or(g.vrrp_garp_master_refresh_repeat)
                .unwrap_or(1),
            garp_interval: g.vrrp_garp_interval.unwrap_or(Duration::ZERO),
            gna_interval: g.vrrp_gna_interval.unwrap_or(Duration::ZERO),
            // keepalived: unset → the global value, whose default is the garp_master one;
            // none in strict mode.
            garp_lower_prio_repeat: if strict {
                0
            } else {
                inst.garp_lower_prio_repeat
                    .or(g.vrrp_garp_lower_prio_repeat)
                    .or(g.vrrp_garp_master_repeat)
                    .unwrap_or(5)
            },
            garp_lower_prio_delay: if strict {
                Duration::ZERO
            } else {
                inst.garp_lower_prio_delay
                    .or(g.vrrp_garp_lower_prio_delay)
                    .or(g.vrrp_garp_master_delay)
                    .unwrap_or(Duration::from_secs(5))
            },
            notifies: notifies(
                &inst.notify_master,
                &inst.notify_backup,
                &inst.notify_fault,
                &inst.notify_stop,
                &inst.notify,
            ),
            skip_check_adv_addr: inst
                .skip_check_adv_addr
                .unwrap_or(g.vrrp_skip_check_adv_addr),
            lower_prio_no_advert: strict
                || inst
                    .lower_prio_no_advert
                    .or(g.vrrp_lower_prio_no_advert)
                    .unwrap_or(false),
            higher_prio_send_advert: !strict
                && inst
                    .higher_prio_send_advert
                    .or(g.vrrp_higher_prio_send_advert)
                    .unwrap_or(false),
            use_vmac: inst
                .use_vmac
                .as_ref()
                .map(|n| n.clone().unwrap_or_else(|| format!("vrrp.{vrid}"))),
            sync_group: None,
            dont_track_primary: inst.dont_track_primary,
            notify_master_rx_lower_pri: inst.notify_master_rx_lower_pri.as_ref().map(command),
            notify_priority_changes: inst
                .notify_priority_changes
                .or_else(|| {
                    cfg.sync_group_of(&inst.name)
                        .and_then(|sg| sg.notify_priority_changes)
                })
                .unwrap_or(false),
        });
    }
    for (inst, ic) in cfg.instances.iter().zip(instances.iter_mut()) {
        let group = cfg.sync_group_of(&inst.name);
        let in_group = group
            .map(|g| !(g.sync_group_tracking_weight || g.global_tracking))
            .unwrap_or(false);
        if in_group || ic.priority == 255 {
            drop_weights(ic, in_group);
        }
    }
    let mut sync_groups = Vec::new();
    for (gi, sg) in cfg.sync_groups.iter().enumerate() {
        add_group_tracking(sg, cfg, &mut instances, &scripts, &track_files);
        let members: Vec<usize> = sg
            .group
            .iter()
            .filter_map(|m| instances.iter().position(|i| &i.name == m))
            .collect();
        for &m in &members {
            instances[m].sync_group = Some(gi);
        }
        sync_groups.push(SyncGroupConfig {
            name: sg.name.clone(),
            members,
            notifies: notifies(
                &sg.notify_master,
                &sg.notify_backup,
                &sg.notify_fault,
                &sg.notify_stop,
                &sg.notify,
            ),
        });
    }
    Ok(EngineConfig {
        router_id: g.router_id.clone(),
        instances,
        scripts,
        track_files,
        track_processes,
        sync_groups,
        script_security: g.enable_script_security,
        script_user: g.script_user.as_ref().map(|(u, _)| u.clone()),
        notify_fifos: [&g.notify_fifo, &g.vrrp_notify_fifo]
            .into_iter()
            .flatten()
            .map(|s| PathBuf::from(s.program()))
            .filter(|p| !p.as_os_str().is_empty())
            .collect(),
        startup_delay: g.vrrp_startup_delay.unwrap_or(Duration::ZERO),
        static_addresses: cfg.static_ipaddress.iter().map(vip).collect(),
        static_routes: cfg.static_routes.iter().map(route).collect(),
        dynamic_interfaces: g.dynamic_interfaces,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Span;

    fn base() -> KeepalivedConfig {
        let mut cfg = KeepalivedConfig::default();
        let mut i = ir::VrrpInstance::new("VI_1", Span::default());
        i.interface = Some("eth0".into());
        i.virtual_router_id = Some(51);
        i.priority = 150;
        i.advert_int = 1.4;
        i.virtual_ipaddress.push(ir::VirtualIp::new(
            "192.168.57.222/32".parse().unwrap(),
            Span::default(),
        ));
        i.authentication = Some(ir::Authentication {
            auth_type: Some(ir::AuthType::Pass),
            auth_pass: b"123456".to_vec(),
            span: Span::default(),
        });
        cfg.instances.push(i);
        cfg
    }

    #[test]
    fn lowers_seed_instance_with_keepalived_defaults() {
        let e = from_ir(&base()).unwrap();
        let i = &e.instances[0];
        assert_eq!(i.version, VrrpVersion::V2);
        assert_eq!(
            i.adver_int,
            Duration::from_secs(1),
            "v2 rounds to whole seconds"
        );
        assert_eq!(i.auth_type, AuthType::Pass);
        assert_eq!(&i.auth_key, b"123456\0\0");
        assert_eq!(i.garp_master_delay, Duration::from_secs(5));
        assert_eq!(i.garp_master_repeat, 5);
        assert!(!i.initial_master);
    }

    #[test]
    fn v3_keeps_centiseconds_and_drops_auth() {
        let mut cfg = base();
        cfg.instances[0].version = Some(3);
        cfg.instances[0].advert_int = 0.1;
        let i = &from_ir(&cfg).unwrap().instances[0];
        assert_eq!(i.adver_int, Duration::from_millis(100));
        assert_eq!(i.adver_int_field(), 10);
        assert_eq!(i.auth_type, AuthType::None);
    }

    #[test]
    fn unknown_track_script_is_an_error() {
        let mut cfg = base();
        cfg.instances[0].track_script.push(ir::TrackedScript {
            name: "nope".into(),
            weight: None,
            reverse: false,
            span: Span::default(),
        });
        assert!(matches!(
            from_ir(&cfg),
            Err(ConfigError::UnknownScript { .. })
        ));
    }
}

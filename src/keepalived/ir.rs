//! Typed intermediate representation of a keepalived.conf (keepalived 2.2.7 semantics).
//!
//! Engines (VRRP, virtual_server) consume only this; they never see configuration text.
//! Every node carries the [`Span`] of the line that opened it. Values not set in the file are
//! `None` (or keepalived's documented default where the field is not an `Option`), so an engine
//! can apply global defaults (e.g. `global_defs.vrrp_garp_master_delay`) itself.
//!
//! Stability rule: this file only grows (new fields / variants); nothing is renamed.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;

use crate::diag::Span;

/// A whole configuration after includes, conditionals and parameter expansion.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeepalivedConfig {
    pub global_defs: GlobalDefs,
    /// `static_ipaddress { ... }` entries (same syntax as virtual_ipaddress).
    pub static_ipaddress: Vec<VirtualIp>,
    /// `static_routes { ... }` entries.
    pub static_routes: Vec<VirtualRoute>,
    /// `static_rules { ... }` entries (kept as words; not acted upon yet).
    pub static_rules: Vec<RawLine>,
    pub vrrp_scripts: Vec<VrrpScript>,
    pub vrrp_track_files: Vec<VrrpTrackFile>,
    pub vrrp_track_processes: Vec<VrrpTrackProcess>,
    pub sync_groups: Vec<VrrpSyncGroup>,
    pub instances: Vec<VrrpInstance>,
    pub virtual_server_groups: Vec<VirtualServerGroup>,
    pub virtual_servers: Vec<VirtualServer>,
}

impl KeepalivedConfig {
    /// The instance called `name`.
    pub fn instance(&self, name: &str) -> Option<&VrrpInstance> {
        self.instances.iter().find(|i| i.name == name)
    }
    /// The vrrp_script called `name`.
    pub fn vrrp_script(&self, name: &str) -> Option<&VrrpScript> {
        self.vrrp_scripts.iter().find(|s| s.name == name)
    }
    /// The vrrp_track_process called `name`.
    pub fn vrrp_track_process(&self, name: &str) -> Option<&VrrpTrackProcess> {
        self.vrrp_track_processes.iter().find(|s| s.name == name)
    }
    /// The vrrp_track_file called `name`.
    pub fn vrrp_track_file(&self, name: &str) -> Option<&VrrpTrackFile> {
        self.vrrp_track_files.iter().find(|s| s.name == name)
    }
    /// The sync group that holds instance `name`, if any.
    pub fn sync_group_of(&self, name: &str) -> Option<&VrrpSyncGroup> {
        self.sync_groups
            .iter()
            .find(|g| g.group.iter().any(|m| m == name))
    }
}

/// A configuration line kept as its words (for blocks we carry but do not model).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawLine {
    pub words: Vec<String>,
    pub span: Span,
}

/// A script to run (notify, vrrp_script, MISC_CHECK, quorum_up...), keepalived's `notify_script_t`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    /// The command line as written (after parameter expansion, quotes removed).
    pub cmdline: String,
    /// The command split into words like keepalived does (quotes group words).
    pub args: Vec<String>,
    /// Explicit `username [groupname]` after the script (notify_* and `user` keyword).
    pub user: Option<String>,
    pub group: Option<String>,
    pub span: Span,
}

impl Script {
    /// The program that is executed (first word).
    pub fn program(&self) -> &str {
        self.args.first().map(String::as_str).unwrap_or("")
    }
}

/// `global_defs { ... }`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GlobalDefs {
    pub router_id: Option<String>,
    pub notification_email: Vec<String>,
    pub notification_email_from: Option<String>,
    /// `smtp_server IP [PORT]`.
    pub smtp_server: Option<(IpAddr, u16)>,
    pub smtp_helo_name: Option<String>,
    pub smtp_connect_timeout: Option<Duration>,
    pub enable_script_security: bool,
    /// `script_user USER [GROUP]`.
    pub script_user: Option<(String, Option<String>)>,
    pub vrrp_version: Option<u8>,
    pub vrrp_strict: bool,
    pub vrrp_skip_check_adv_addr: bool,
    pub vrrp_check_unicast_src: bool,
    pub vrrp_garp_master_delay: Option<Duration>,
    pub vrrp_garp_master_repeat: Option<u32>,
    pub vrrp_garp_master_refresh: Option<Duration>,
    pub vrrp_garp_master_refresh_repeat: Option<u32>,
    pub vrrp_garp_lower_prio_delay: Option<Duration>,
    pub vrrp_garp_lower_prio_repeat: Option<u32>,
    pub vrrp_garp_interval: Option<Duration>,
    pub vrrp_gna_interval: Option<Duration>,
    pub vrrp_lower_prio_no_advert: Option<bool>,
    pub vrrp_higher_prio_send_advert: Option<bool>,
    pub vrrp_mcast_group4: Option<IpAddr>,
    pub vrrp_mcast_group6: Option<IpAddr>,
    pub vrrp_startup_delay: Option<Duration>,
    pub vrrp_min_garp: bool,
    pub vrrp_notify_fifo: Option<Script>,
    pub notify_fifo: Option<Script>,
    pub lvs_notify_fifo: Option<Script>,
    pub default_interface: Option<String>,
    pub dynamic_interfaces: bool,
    pub max_auto_priority: Option<i32>,
    pub net_namespace: Option<String>,
    pub instance_name: Option<String>,
    pub startup_script: Option<Script>,
    pub shutdown_script: Option<Script>,
    pub lvs_id: Option<String>,
    /// Every other global_defs line, kept as words (known to keepalived but not modelled here).
    pub other: Vec<RawLine>,
    pub span: Span,
}

/// `vrrp_script NAME { ... }`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VrrpScript {
    pub name: String,
    pub script: Option<Script>,
    /// Default 1 s.
    pub interval: Duration,
    /// Default: `interval`.
    pub timeout: Option<Duration>,
    /// -253..=253; 0 means the script only moves the instance to FAULT.
    pub weight: i32,
    /// `weight N reverse`.
    pub weight_reverse: bool,
    pub rise: u32,
    pub fall: u32,
    pub init_fail: bool,
    /// `user USER [GROUP]`.
    pub user: Option<(String, Option<String>)>,
    pub span: Span,
}

/// `vrrp_track_file NAME { file PATH; weight N [reverse]; init_file [VALUE] [overwrite] }`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VrrpTrackFile {
    pub name: String,
    pub file: Option<PathBuf>,
    pub weight: i32,
    pub weight_reverse: bool,
    pub init_file: Option<(i32, bool)>,
    pub span: Span,
}

/// How the parameters of a tracked process are compared (`param_match`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ParamMatch {
    /// Parameters are not compared.
    #[default]
    None,
    /// The parameters are exactly the configured ones.
    Exact,
    /// The configured parameters are a prefix of the process's (whole words).
    Partial,
    /// Like `Partial`, but the last configured parameter may be a prefix of the process's.
    Initial,
}

/// `vrrp_track_process NAME { process PATH [ARGS...]; param_match; weight N [reverse];
/// quorum N; quorum_max N; full_command; delay ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct VrrpTrackProcess {
    pub name: String,
    /// The process name (comm), or argv[0] with `full_command`.
    pub process: Option<String>,
    /// Parameters to compare (from the `process` line).
    pub params: Vec<String>,
    pub param_match: ParamMatch,
    pub full_command: bool,
    pub weight: i32,
    pub weight_reverse: bool,
    /// Up while quorum <= running processes <= quorum_max.
    pub quorum: u32,
    pub quorum_max: u32,
    pub span: Span,
}

impl Default for VrrpTrackProcess {
    fn default() -> Self {
        VrrpTrackProcess {
            name: String::new(),
            process: None,
            params: Vec::new(),
            param_match: ParamMatch::None,
            full_command: false,
            weight: 0,
            weight_reverse: false,
            quorum: 1,
            quorum_max: 65535,
            span: Span::default(),
        }
    }
}

/// `vrrp_sync_group NAME { group { ... } ... }`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VrrpSyncGroup {
    pub name: String,
    /// Names of the member instances, in order.
    pub group: Vec<String>,
    pub track_interface: Vec<TrackedInterface>,
    pub track_script: Vec<TrackedScript>,
    pub track_file: Vec<TrackedFile>,
    pub notify_master: Option<Script>,
    pub notify_backup: Option<Script>,
    pub notify_fault: Option<Script>,
    pub notify_stop: Option<Script>,
    pub notify: Option<Script>,
    pub smtp_alert: Option<bool>,
    pub global_tracking: bool,
    pub sync_group_tracking_weight: bool,
    pub notify_priority_changes: Option<bool>,
    pub span: Span,
}

/// The `state` keyword of a vrrp_instance (keepalived's initial state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InitialState {
    Master,
    #[default]
    Backup,
}

/// `authentication { auth_type ...; auth_pass ... }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthType {
    /// Simple text password (type 1).
    Pass,
    /// IPsec AH (type 2), keepalived's own HMAC-MD5-96 header.
    Ah,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authentication {
    pub auth_type: Option<AuthType>,
    /// The password, at most 8 bytes (keepalived truncates longer ones, with a warning).
    pub auth_pass: Vec<u8>,
    pub span: Span,
}

/// `track_interface` entry: `IFNAME [weight [-]N [reverse]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedInterface {
    pub name: String,
    pub weight: Option<i32>,
    pub reverse: bool,
    pub span: Span,
}

/// `track_script` entry: `NAME [weight [-]N [reverse]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedScript {
    pub name: String,
    /// Overrides the script's own weight when given.
    pub weight: Option<i32>,
    pub reverse: bool,
    pub span: Span,
}

/// `track_file` entry: `NAME [weight [-]N [reverse]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedFile {
    pub name: String,
    pub weight: Option<i32>,
    pub reverse: bool,
    pub span: Span,
}

/// `unicast_peer { IP [min_ttl N] [max_ttl N] }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnicastPeer {
    pub addr: IpAddr,
    pub min_ttl: Option<u8>,
    pub max_ttl: Option<u8>,
    pub span: Span,
}

/// One `virtual_ipaddress` / `static_ipaddress` line:
/// `ADDR[/PFX] [brd ADDR] [dev IF] [scope S] [label L] [peer ADDR] [home] [-nodad] ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualIp {
    /// Address with prefix length (/32 or /128 when not given).
    pub addr: IpNet,
    pub brd: Option<IpAddr>,
    pub dev: Option<String>,
    pub scope: Option<String>,
    pub label: Option<String>,
    pub peer: Option<IpNet>,
    pub home: bool,
    pub no_dad: bool,
    pub no_prefix_route: bool,
    pub auto_join: bool,
    pub preferred_lft: Option<u32>,
    /// `track_group NAME`.
    pub track_group: Option<String>,
    pub span: Span,
}

impl VirtualIp {
    pub fn new(addr: IpNet, span: Span) -> Self {
        VirtualIp {
            addr,
            brd: None,
            dev: None,
            scope: None,
            label: None,
            peer: None,
            home: false,
            no_dad: false,
            no_prefix_route: false,
            auto_join: false,
            preferred_lft: None,
            track_group: None,
            span,
        }
    }
}

/// One `virtual_routes` / `static_routes` line:
/// `[TYPE] [src ADDR] [to] DEST [via|gw GW] [dev IF] [scope S] [table T] [metric N] ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualRoute {
    /// Route type when given (`blackhole`, `unreachable`, `prohibit`, ...); None = unicast.
    pub route_type: Option<String>,
    pub dest: IpNet,
    pub src: Option<IpAddr>,
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
    pub scope: Option<String>,
    pub table: Option<String>,
    pub metric: Option<u32>,
    /// Every word as written (for options not modelled above).
    pub words: Vec<String>,
    pub span: Span,
}

/// `vrrp_instance NAME { ... }` with every keepalived 2.2.7 keyword we model.
#[derive(Debug, Clone, PartialEq)]
pub struct VrrpInstance {
    pub name: String,
    /// `state MASTER|BACKUP` (keepalived defaults to BACKUP).
    pub state: InitialState,
    /// Priority 255 (address owner) forces MASTER.
    pub interface: Option<String>,
    /// `use_vmac [NAME]`: Some(None) = default name vrrp.VRID.
    pub use_vmac: Option<Option<String>>,
    pub vmac_xmit_base: bool,
    pub use_ipvlan: Option<Vec<String>>,
    pub native_ipv6: bool,
    pub dont_track_primary: bool,
    pub track_interface: Vec<TrackedInterface>,
    pub track_script: Vec<TrackedScript>,
    pub track_file: Vec<TrackedFile>,
    /// `track_process` entries (same shape as track_file's).
    pub track_process: Vec<TrackedFile>,
    pub mcast_src_ip: Option<IpAddr>,
    pub unicast_src_ip: Option<IpAddr>,
    pub unicast_peer: Vec<UnicastPeer>,
    /// A `unicast_peer` block was written (even if empty: keepalived then warns).
    pub unicast_peer_configured: bool,
    pub unicast_ttl: Option<u8>,
    pub unicast_fault_no_peer: bool,
    pub check_unicast_src: bool,
    pub mcast_dst_ip: Option<IpAddr>,
    /// 1..=255; None when missing (an error keepalived reports).
    pub virtual_router_id: Option<u8>,
    /// 1..=255, default 100.
    pub priority: u8,
    /// Advertisement interval in seconds as written (default 1.0).
    pub advert_int: f64,
    /// `version 2|3`; None = global `vrrp_version` (default 2).
    pub version: Option<u8>,
    pub virtual_ipaddress: Vec<VirtualIp>,
    pub virtual_ipaddress_excluded: Vec<VirtualIp>,
    pub virtual_routes: Vec<VirtualRoute>,
    pub virtual_rules: Vec<RawLine>,
    pub authentication: Option<Authentication>,
    /// `accept` = Some(true), `no_accept` = Some(false).
    pub accept: Option<bool>,
    pub skip_check_adv_addr: Option<bool>,
    pub strict_mode: Option<bool>,
    pub nopreempt: bool,
    pub preempt_delay: Option<Duration>,
    pub garp_master_delay: Option<Duration>,
    pub garp_master_repeat: Option<u32>,
    pub garp_master_refresh: Option<Duration>,
    pub garp_master_refresh_repeat: Option<u32>,
    pub garp_lower_prio_delay: Option<Duration>,
    pub garp_lower_prio_repeat: Option<u32>,
    pub lower_prio_no_advert: Option<bool>,
    pub higher_prio_send_advert: Option<bool>,
    pub down_timer_adverts: Option<u32>,
    pub notify_master: Option<Script>,
    pub notify_backup: Option<Script>,
    pub notify_fault: Option<Script>,
    pub notify_stop: Option<Script>,
    pub notify_deleted: Option<Script>,
    pub notify: Option<Script>,
    pub notify_master_rx_lower_pri: Option<Script>,
    pub notify_priority_changes: Option<bool>,
    pub smtp_alert: Option<bool>,
    pub debug: Option<u32>,
    pub kernel_rx_buf_size: Option<u64>,
    pub lvs_sync_daemon_interface: Option<String>,
    pub promote_secondaries: bool,
    pub span: Span,
}

impl VrrpInstance {
    pub fn new(name: impl Into<String>, span: Span) -> Self {
        VrrpInstance {
            name: name.into(),
            state: InitialState::Backup,
            interface: None,
            use_vmac: None,
            vmac_xmit_base: false,
            use_ipvlan: None,
            native_ipv6: false,
            dont_track_primary: false,
            track_interface: Vec::new(),
            track_script: Vec::new(),
            track_file: Vec::new(),
            track_process: Vec::new(),
            mcast_src_ip: None,
            unicast_src_ip: None,
            unicast_peer: Vec::new(),
            unicast_peer_configured: false,
            unicast_ttl: None,
            unicast_fault_no_peer: false,
            check_unicast_src: false,
            mcast_dst_ip: None,
            virtual_router_id: None,
            priority: 100,
            advert_int: 1.0,
            version: None,
            virtual_ipaddress: Vec::new(),
            virtual_ipaddress_excluded: Vec::new(),
            virtual_routes: Vec::new(),
            virtual_rules: Vec::new(),
            authentication: None,
            accept: None,
            skip_check_adv_addr: None,
            strict_mode: None,
            nopreempt: false,
            preempt_delay: None,
            garp_master_delay: None,
            garp_master_repeat: None,
            garp_master_refresh: None,
            garp_master_refresh_repeat: None,
            garp_lower_prio_delay: None,
            garp_lower_prio_repeat: None,
            lower_prio_no_advert: None,
            higher_prio_send_advert: None,
            down_timer_adverts: None,
            notify_master: None,
            notify_backup: None,
            notify_fault: None,
            notify_stop: None,
            notify_deleted: None,
            notify: None,
            notify_master_rx_lower_pri: None,
            notify_priority_changes: None,
            smtp_alert: None,
            debug: None,
            kernel_rx_buf_size: None,
            lvs_sync_daemon_interface: None,
            promote_secondaries: false,
            span,
        }
    }

    /// The advertisement interval in centiseconds (VRRPv3 field), at least 1.
    pub fn advert_int_centiseconds(&self) -> u16 {
        let cs = (self.advert_int * 100.0).round();
        if cs < 1.0 {
            1
        } else if cs > 4095.0 {
            4095
        } else {
            cs as u16
        }
    }

    /// The effective protocol version given the global default.
    pub fn effective_version(&self, globals: &GlobalDefs) -> u8 {
        if self.is_ipv6() {
            return 3;
        }
        self.version.or(globals.vrrp_version).unwrap_or(2)
    }

    /// Whether the instance is IPv6 (decided by its first VIP, like keepalived).
    pub fn is_ipv6(&self) -> bool {
        self.virtual_ipaddress
            .first()
            .map(|v| v.addr.addr().is_ipv6())
            .unwrap_or(false)
    }
}

/// `virtual_server_group NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualServerGroup {
    pub name: String,
    pub members: Vec<VirtualServerGroupMember>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VirtualServerGroupMember {
    /// `IP[-LAST] PORT`: addresses `addr` up to the last byte `range_end` when given.
    Address {
        addr: IpAddr,
        range_end: Option<u16>,
        port: Option<u16>,
        span: Span,
    },
    /// `fwmark N`.
    Fwmark { mark: u32, span: Span },
}

/// What a virtual_server listens on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VirtualServerAddress {
    /// `virtual_server IP PORT`.
    Ip { addr: IpAddr, port: u16 },
    /// `virtual_server fwmark N`.
    Fwmark(u32),
    /// `virtual_server group NAME`.
    Group(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

/// IPVS scheduler (`lb_algo` / `lvs_sched`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LbAlgo {
    Rr,
    Wrr,
    Lc,
    Wlc,
    Lblc,
    Lblcr,
    Sh,
    Dh,
    Sed,
    Nq,
    Fo,
    Ovf,
    Mh,
    Twos,
}

impl LbAlgo {
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "rr" => LbAlgo::Rr,
            "wrr" => LbAlgo::Wrr,
            "lc" => LbAlgo::Lc,
            "wlc" => LbAlgo::Wlc,
            "lblc" => LbAlgo::Lblc,
            "lblcr" => LbAlgo::Lblcr,
            "sh" => LbAlgo::Sh,
            "dh" => LbAlgo::Dh,
            "sed" => LbAlgo::Sed,
            "nq" => LbAlgo::Nq,
            "fo" => LbAlgo::Fo,
            "ovf" => LbAlgo::Ovf,
            "mh" => LbAlgo::Mh,
            "twos" => LbAlgo::Twos,
            _ => return None,
        })
    }
}

/// IPVS forwarding method (`lb_kind` / `lvs_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LbKind {
    Nat,
    Dr,
    Tun,
}

/// `virtual_server ... { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct VirtualServer {
    pub address: VirtualServerAddress,
    pub protocol: Option<Protocol>,
    pub lb_algo: Option<LbAlgo>,
    pub lb_kind: Option<LbKind>,
    pub persistence_timeout: Option<u32>,
    pub persistence_granularity: Option<IpAddr>,
    pub persistence_engine: Option<String>,
    /// Default 1.
    pub quorum: u32,
    pub hysteresis: u32,
    pub quorum_up: Option<Script>,
    pub quorum_down: Option<Script>,
    pub sorry_server: Option<(IpAddr, Option<u16>)>,
    pub sorry_server_inhibit: bool,
    pub sorry_server_lvs_method: Option<LbKind>,
    /// Default 60 s.
    pub delay_loop: Option<Duration>,
    pub virtualhost: Option<String>,
    pub alpha: bool,
    pub omega: bool,
    pub ha_suspend: bool,
    pub inhibit_on_failure: bool,
    pub retry: Option<u32>,
    pub delay_before_retry: Option<Duration>,
    pub connect_timeout: Option<Duration>,
    pub warmup: Option<Duration>,
    pub smtp_alert: Option<bool>,
    pub real_servers: Vec<RealServer>,
    pub span: Span,
}

impl VirtualServer {
    pub fn new(address: VirtualServerAddress, span: Span) -> Self {
        VirtualServer {
            address,
            protocol: None,
            lb_algo: None,
            lb_kind: None,
            persistence_timeout: None,
            persistence_granularity: None,
            persistence_engine: None,
            quorum: 1,
            hysteresis: 0,
            quorum_up: None,
            quorum_down: None,
            sorry_server: None,
            sorry_server_inhibit: false,
            sorry_server_lvs_method: None,
            delay_loop: None,
            virtualhost: None,
            alpha: false,
            omega: false,
            ha_suspend: false,
            inhibit_on_failure: false,
            retry: None,
            delay_before_retry: None,
            connect_timeout: None,
            warmup: None,
            smtp_alert: None,
            real_servers: Vec::new(),
            span,
        }
    }
}

/// `real_server IP [PORT] { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct RealServer {
    pub addr: IpAddr,
    pub port: Option<u16>,
    /// Default 1.
    pub weight: i32,
    pub lb_kind: Option<LbKind>,
    pub inhibit_on_failure: Option<bool>,
    pub notify_up: Option<Script>,
    pub notify_down: Option<Script>,
    pub alpha: Option<bool>,
    pub retry: Option<u32>,
    pub delay_before_retry: Option<Duration>,
    pub connect_timeout: Option<Duration>,
    pub delay_loop: Option<Duration>,
    pub warmup: Option<Duration>,
    pub virtualhost: Option<String>,
    pub smtp_alert: Option<bool>,
    pub uthreshold: Option<u32>,
    pub lthreshold: Option<u32>,
    pub checkers: Vec<Checker>,
    pub span: Span,
}

impl RealServer {
    pub fn new(addr: IpAddr, port: Option<u16>, span: Span) -> Self {
        RealServer {
            addr,
            port,
            weight: 1,
            lb_kind: None,
            inhibit_on_failure: None,
            notify_up: None,
            notify_down: None,
            alpha: None,
            retry: None,
            delay_before_retry: None,
            connect_timeout: None,
            delay_loop: None,
            warmup: None,
            virtualhost: None,
            smtp_alert: None,
            uthreshold: None,
            lthreshold: None,
            checkers: Vec::new(),
            span,
        }
    }
}

/// Options every checker block accepts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckerCommon {
    pub connect_ip: Option<IpAddr>,
    pub connect_port: Option<u16>,
    pub bindto: Option<IpAddr>,
    pub bind_port: Option<u16>,
    pub bind_if: Option<String>,
    /// Default 5 s.
    pub connect_timeout: Option<Duration>,
    /// `retry` (or deprecated `nb_get_retry`).
    pub retry: Option<u32>,
    pub delay_before_retry: Option<Duration>,
    pub warmup: Option<Duration>,
    pub delay_loop: Option<Duration>,
    pub alpha: Option<bool>,
    pub fwmark: Option<u32>,
    pub log_all_failures: Option<bool>,
}

/// A health checker inside a real_server.
#[derive(Debug, Clone, PartialEq)]
pub struct Checker {
    pub kind: CheckerKind,
    pub common: CheckerCommon,
    pub span: Span,
}

/// `url { path P; digest D; status_code N ... }` of HTTP_GET / SSL_GET.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpUrl {
    pub path: Option<String>,
    /// MD5 of the body, lower-case hex.
    pub digest: Option<String>,
    /// Accepted status codes as inclusive ranges (`200`, `200-299`). Empty = 2xx.
    pub status_code: Vec<(u16, u16)>,
    pub virtualhost: Option<String>,
    pub regex: Option<String>,
    pub regex_no_match: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CheckerKind {
    Tcp,
    /// HTTP_GET (`ssl = false`) and SSL_GET (`ssl = true`).
    Http {
        ssl: bool,
        urls: Vec<HttpUrl>,
        virtualhost: Option<String>,
        http_protocol: Option<String>,
        enable_sni: bool,
    },
    Misc {
        script: Option<Script>,
        timeout: Option<Duration>,
        dynamic: bool,
        user: Option<(String, Option<String>)>,
    },
    Dns {
        query_type: Option<String>,
        name: Option<String>,
    },
    Smtp {
        helo_name: Option<String>,
    },
    /// PING_CHECK, UDP_CHECK, FILE_CHECK, BFD_CHECK: parsed, not modelled further.
    Other(String),
}

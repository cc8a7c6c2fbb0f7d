//! Typed extraction: keyword tree → [`KeepalivedConfig`], with the checks keepalived's
//! keyword handlers make while reading (number ranges, unknown values, interface existence).

use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use ipnet::IpNet;

use crate::diag::Span;
use crate::keepalived::ir::*;
use crate::keepalived::lexer::Line;
use crate::keepalived::parser::Node;
use crate::keepalived::report::{ErrorClass, Finding, Phase};
use crate::keepalived::system::System;

/// Reads the IR out of the keyword tree.
pub struct Extractor<'s> {
    pub findings: Vec<Finding>,
    pub cfg: KeepalivedConfig,
    sys: &'s dyn System,
    /// A missing parameter makes keepalived exit(2) at once.
    pub aborted: bool,
    /// An interface named in a VRRP block does not exist (keepalived's VRRP side then stops
    /// before its whole-configuration checks).
    pub missing_interface: bool,
    phase: Phase,
}

fn secs(us: u64) -> Duration {
    Duration::from_micros(us)
}

impl<'s> Extractor<'s> {
    pub fn new(sys: &'s dyn System) -> Self {
        Extractor {
            findings: Vec::new(),
            cfg: KeepalivedConfig::default(),
            sys,
            aborted: false,
            missing_interface: false,
            phase: Phase::Parent,
        }
    }

    fn err(&mut self, class: ErrorClass, span: Span, msg: impl Into<String>) {
        self.findings
            .push(Finding::new(class, Some(span), msg).in_phase(self.phase));
    }

    fn general(&mut self, span: Span, msg: impl Into<String>) {
        self.err(ErrorClass::General, span, msg);
    }

    /// Word `i` of a node, reporting keepalived's missing parameter error (fatal) when absent.
    fn need<'n>(&mut self, n: &'n Node, i: usize) -> Option<&'n str> {
        match n.arg(i) {
            Some(w) => Some(w),
            None => {
                if !self.aborted {
                    self.err(
                        ErrorClass::MissingParameter,
                        n.span,
                        format!(
                            "*** Configuration line starting `{}` is missing a parameter after keyword `{}` at word position {}",
                            n.words[0],
                            n.words[i - 1],
                            i + 1
                        ),
                    );
                }
                self.aborted = true;
                None
            }
        }
    }

    // ---- keepalived's number readers -------------------------------------------------------

    fn read_unsigned(&mut self, span: Span, s: &str, min: u64, max: u64) -> Option<u64> {
        let t = s.trim_start();
        if t.starts_with('-') {
            self.err(
                ErrorClass::InvalidNumber,
                span,
                format!("negative number '{s}'"),
            );
            return None;
        }
        match parse_strtoul(t) {
            None => {
                self.err(
                    ErrorClass::InvalidNumber,
                    span,
                    format!("invalid number '{s}'"),
                );
                None
            }
            Some(v) if v > u32::MAX as u64 => {
                self.err(
                    ErrorClass::InvalidNumber,
                    span,
                    format!("number '{s}' outside unsigned integer range"),
                );
                None
            }
            Some(v) if v < min || v > max => {
                self.err(
                    ErrorClass::InvalidNumber,
                    span,
                    format!("number '{s}' outside range [{min}, {max}]"),
                );
                None
            }
            Some(v) => Some(v),
        }
    }

    fn read_int(&mut self, span: Span, s: &str, min: i64, max: i64) -> Option<i64> {
        match parse_strtol(s) {
            None => {
                self.err(
                    ErrorClass::InvalidNumber,
                    span,
                    format!("invalid number '{s}'"),
                );
                None
            }
            Some(v) if v < i32::MIN as i64 || v > i32::MAX as i64 => {
                self.err(
                    ErrorClass::InvalidNumber,
                    span,
                    format!("number '{s}' outside integer range"),
                );
                None
            }
            Some(v) if v < min || v > max => {
                self.err(
                    ErrorClass::InvalidNumber,
                    span,
                    format!("number '{s}' outside range [{min}, {max}]"),
                );
                None
            }
            Some(v) => Some(v),
        }
    }

    /// read_decimal_unsigned with `shift` decimal digits; returns the scaled integer.
    fn read_decimal(&mut self, span: Span, s: &str, min: u64, max: u64, shift: u32) -> Option<u64> {
        if s.starts_with('-') {
            self.err(
                ErrorClass::InvalidNumber,
                span,
                format!("negative number '{s}'"),
            );
            return None;
        }
        let (int, frac) = match s.find('.') {
            Some(p) => (&s[..p], &s[p + 1..]),
            None => (s, ""),
        };
        let mut round_up = false;
        if !frac.is_ascii() {
            self.err(
                ErrorClass::InvalidNumber,
                span,
                format!("invalid number '{s}'"),
            );
            return None;
        }
        let mut frac = frac.to_string();
        if frac.len() > shift as usize {
            self.err(
                ErrorClass::InvalidNumber,
                span,
                format!("number '{s}' has too many decimal places"),
            );
            round_up = frac.as_bytes()[shift as usize] >= b'5';
            frac.truncate(shift as usize);
        }
        while frac.len() < shift as usize {
            frac.push('0');
        }
        let digits = format!("{int}{frac}");
        let val = if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
            None
        } else {
            digits.parse::<u64>().ok()
        };
        let Some(mut v) = val else {
            self.err(
                ErrorClass::InvalidNumber,
                span,
                format!("invalid number '{s}'"),
            );
            return None;
        };
        if round_up {
            v += 1;
        }
        if v < min || v > max {
            let d = 10u64.pow(shift);
            let w = shift as usize;
            self.err(
                ErrorClass::InvalidNumber,
                span,
                format!(
                    "number '{s}' outside range [{}.{:0w$}, {}.{:0w$}]",
                    min / d,
                    min % d,
                    max / d,
                    max % d
                ),
            );
            return None;
        }
        Some(v)
    }

    /// read_timer: seconds with up to 6 decimals → microseconds.
    fn read_timer(&mut self, span: Span, s: &str, min_us: u64, max_us: u64) -> Option<u64> {
        self.read_decimal(
            span,
            s,
            min_us,
            if max_us == 0 { u32::MAX as u64 } else { max_us },
            6,
        )
    }

    fn timer_arg(&mut self, n: &Node, min_us: u64, max_us: u64) -> Option<Duration> {
        let w = self.need(n, 1)?.to_string();
        self.read_timer(n.span, &w, min_us, max_us).map(secs)
    }

    fn uint_arg(&mut self, n: &Node, min: u64, max: u64) -> Option<u64> {
        let w = self.need(n, 1)?.to_string();
        self.read_unsigned(n.span, &w, min, max)
    }

    fn bool_arg(&mut self, n: &Node) -> Option<bool> {
        match n.arg(1) {
            None => Some(true),
            Some(w) => match check_true_false(w) {
                Some(b) => Some(b),
                None => {
                    let k = n.keyword().to_string();
                    self.general(n.span, format!("Invalid value '{w}' for {k} specified"));
                    None
                }
            },
        }
    }

    fn script_arg(&mut self, n: &Node) -> Option<Script> {
        self.need(n, 1)?;
        // keepalived re-reads the raw line with quote/escape rules (alloc_strvec_quoted_escaped).
        let qe = split_script(&n.raw);
        let cmd = qe.get(1).cloned().unwrap_or_default();
        let args = split_script(&cmd);
        if args.is_empty() {
            let k = n.keyword().to_string();
            self.general(n.span, format!("Invalid {k} script"));
            return None;
        }
        Some(Script {
            cmdline: cmd,
            args,
            user: qe.get(2).cloned(),
            group: qe.get(3).cloned(),
            span: n.span,
        })
    }

    // ---- top level --------------------------------------------------------------------------

    pub fn extract(&mut self, nodes: &[Node]) {
        // keepalived's handlers for these keywords read their first parameter unconditionally
        // and exit(2) when it is missing.
        if let Some(n) = first_missing_required(nodes) {
            self.phase = crate::keepalived::parser::phase_of(&n.context, n.keyword(), true);
            self.need(n, 1);
            return;
        }
        for n in nodes {
            if self.aborted {
                return;
            }
            self.phase = crate::keepalived::parser::phase_of("root", n.keyword(), true);
            match n.keyword() {
                "global_defs" => self.global_defs(n),
                "net_namespace" => {
                    if let Some(v) = self.need(n, 1) {
                        self.cfg.global_defs.net_namespace = Some(v.to_string());
                    }
                }
                "instance" => {
                    if let Some(v) = self.need(n, 1) {
                        self.cfg.global_defs.instance_name = Some(v.to_string());
                    }
                }
                "static_ipaddress" => {
                    let v = self.ip_list(&n.values);
                    self.cfg.static_ipaddress.extend(v);
                }
                "static_routes" => {
                    let v = self.route_list(&n.values);
                    self.cfg.static_routes.extend(v);
                }
                "static_rules" => {
                    for l in &n.values {
                        self.cfg.static_rules.push(RawLine {
                            words: l.words.clone(),
                            span: l.span,
                        });
                    }
                }
                "vrrp_script" => self.vrrp_script(n),
                "vrrp_track_file" | "track_file" => self.track_file_block(n),
                "vrrp_track_process" => self.track_process_block(n),
                "vrrp_sync_group" => self.sync_group(n),
                "vrrp_instance" => self.instance(n),
                "virtual_server_group" => self.vs_group(n),
                "virtual_server" => self.virtual_server(n),
                "bfd_instance" => {
                    let has_nbr = n
                        .children
                        .iter()
                        .any(|c| matches!(c.keyword(), "neighbor_ip" | "neighbour_ip"));
                    if !has_nbr {
                        let name = n.arg(1).unwrap_or("").to_string();
                        self.general(n.end_span, format!("Configuration error: BFD instance {name} has no neighbor address set, disabling instance"));
                    }
                }
                _ => {}
            }
        }
    }

    fn global_defs(&mut self, node: &Node) {
        let mut g = std::mem::take(&mut self.cfg.global_defs);
        g.span = node.span;
        for n in &node.children {
            if self.aborted {
                break;
            }
            let kw = n.keyword();
            match kw {
                "router_id" => match n.arg(1) {
                    Some(v) => g.router_id = Some(v.to_string()),
                    None => self.general(n.span, "routerid name missing - ignoring"),
                },
                "notification_email" => {
                    if n.values.is_empty() {
                        self.general(n.end_span, "Warning - empty notification_email block");
                    }
                    g.notification_email = n.values.iter().flat_map(|l| l.words.clone()).collect();
                }
                "notification_email_from" => match n.arg(1) {
                    Some(v) => g.notification_email_from = Some(v.to_string()),
                    None => self.general(n.span, "emailfrom missing - ignoring"),
                },
                "smtp_server" => {
                    if let Some(host) = self.need(n, 1) {
                        let host = host.to_string();
                        let port_s = n.arg(2).unwrap_or("25").to_string();
                        let port = self.read_unsigned(n.span, &port_s, 1, 65535).map(|p| p as u16);
                        // keepalived resolves names too; we look only at /etc/hosts (no DNS).
                        let addr = host.parse::<IpAddr>().ok().or_else(|| self.sys.resolve_host(&host));
                        match (addr, port) {
                            (Some(a), Some(p)) => g.smtp_server = Some((a, p)),
                            _ => self.general(n.span, format!("Invalid smtp server {host} {port_s}")),
                        }
                    }
                }
                "smtp_helo_name" => g.smtp_helo_name = n.arg(1).map(str::to_string),
                "smtp_connect_timeout" => {
                    if let Some(w) = self.need(n, 1) {
                        match parse_strtoul(w) {
                            Some(v) if v <= (u32::MAX / 1_000_000) as u64 => g.smtp_connect_timeout = Some(Duration::from_secs(v.max(1))),
                            _ => {
                                let w = w.to_string();
                                self.general(n.span, format!("smtp_connect_timeout '{w}' must be in [0, {}] - ignoring", u32::MAX / 1_000_000));
                            }
                        }
                    }
                }
                "enable_script_security" => g.enable_script_security = true,
                "script_user" => match n.arg(1) {
                    None => self.general(n.span, "No script username specified"),
                    Some(u) => {
                        let grp = n.arg(2);
                        if !self.sys.user_exists(u) || grp.map(|g| !self.sys.group_exists(g)).unwrap_or(false) {
                            self.general(n.span, "Error setting global script uid/gid");
                            g.other.push(RawLine { words: vec!["#script_user_failed".into()], span: n.span });
                        }
                        g.script_user = Some((u.to_string(), grp.map(str::to_string)));
                    }
                },
                "vrrp_version" => {
                    if let Some(w) = self.need(n, 1) {
                        let w = w.to_string();
                        match self.read_int(n.span, &w, 2, 3) {
                            Some(v) => g.vrrp_version = Some(v as u8),
                            None => self.general(n.span, "vrrp_version invalid"),
                        }
                    }
                }
                "vrrp_strict" => g.vrrp_strict = true,
                "vrrp_skip_check_adv_addr" => g.vrrp_skip_check_adv_addr = self.bool_arg(n).unwrap_or(true),
                "vrrp_check_unicast_src" => g.vrrp_check_unicast_src = true,
                "vrrp_garp_master_delay" => g.vrrp_garp_master_delay = self.uint_arg(n, 0, 86400).map(Duration::from_secs),
                "vrrp_garp_master_repeat" => {
                    if let Some(w) = self.need(n, 1) {
                        let w = w.to_string();
                        match self.read_unsigned(n.span, &w, 0, u32::MAX as u64) {
                            Some(0) => {
                                self.general(n.span, "vrrp_garp_master_repeat must be greater than 0, setting to 1");
                                g.vrrp_garp_master_repeat = Some(1);
                            }
                            Some(v) => g.vrrp_garp_master_repeat = Some(v as u32),
                            None => self.general(n.span, format!("vrrp_garp_master_repeat '{w}' invalid - ignoring")),
                        }
                    }
                }
                "vrrp_garp_master_refresh" => g.vrrp_garp_master_refresh = self.uint_arg(n, 0, u32::MAX as u64).map(Duration::from_secs),
                "vrrp_garp_master_refresh_repeat" => g.vrrp_garp_master_refresh_repeat = self.uint_arg(n, 0, u32::MAX as u64).map(|v| v as u32),
                "vrrp_garp_lower_prio_delay" => g.vrrp_garp_lower_prio_delay = self.uint_arg(n, 0, 86400).map(Duration::from_secs),
                "vrrp_garp_lower_prio_repeat" => g.vrrp_garp_lower_prio_repeat = self.uint_arg(n, 0, u32::MAX as u64).map(|v| v as u32),
                "vrrp_garp_interval" => g.vrrp_garp_interval = self.timer_arg(n, 1, u32::MAX as u64),
                "vrrp_gna_interval" => g.vrrp_gna_interval = self.timer_arg(n, 1, u32::MAX as u64),
                "vrrp_lower_prio_no_advert" => g.vrrp_lower_prio_no_advert = self.bool_arg(n),
                "vrrp_higher_prio_send_advert" => g.vrrp_higher_prio_send_advert = self.bool_arg(n),
                "vrrp_min_garp" => g.vrrp_min_garp = self.bool_arg(n).unwrap_or(true),
                "vrrp_mcast_group4" | "vrrp_mcast_group6" => {
                    if let Some(w) = self.need(n, 1) {
                        match w.parse::<IpAddr>() {
                            Ok(a) if kw.ends_with('4') && a.is_ipv4() && a.is_multicast() => g.vrrp_mcast_group4 = Some(a),
                            Ok(a) if kw.ends_with('6') && a.is_ipv6() && a.is_multicast() => g.vrrp_mcast_group6 = Some(a),
                            _ => {
                                let w = w.to_string();
                                self.general(n.span, format!("{kw} '{w}' is invalid"));
                            }
                        }
                    }
                }
                "vrrp_startup_delay" => g.vrrp_startup_delay = self.timer_arg(n, 0, 3600 * 1_000_000),
                "vrrp_iptables" | "vrrp_ipsets" => self.general(
                    n.span,
                    "iptables not supported, using nftables instead. Please replace 'vrrp_iptables and 'vrrp_ipsets' with 'nftables' config option",
                ),
                "notify_fifo" => g.notify_fifo = self.script_arg(n),
                "vrrp_notify_fifo" => g.vrrp_notify_fifo = self.script_arg(n),
                "lvs_notify_fifo" => g.lvs_notify_fifo = self.script_arg(n),
                "default_interface" => match n.arg(1) {
                    Some(v) => g.default_interface = Some(v.to_string()),
                    None => self.general(n.span, "default_interface requires interface name"),
                },
                "dynamic_interfaces" => {
                    g.dynamic_interfaces = true;
                    if let Some(w) = n.arg(1) {
                        if w != "allow_if_changes" {
                            let w = w.to_string();
                            self.general(n.span, format!("Unknown dynamic_interfaces option '{w}'"));
                        }
                    }
                }
                "max_auto_priority" => {
                    let v = n.arg(1).map(parse_strtol).unwrap_or(Some(99));
                    match v {
                        Some(p) if (-1..=99).contains(&p) => g.max_auto_priority = Some(p as i32),
                        _ => {
                            let w = n.arg(1).unwrap_or("").to_string();
                            self.general(n.span, format!("max_auto_priority '{w}' must be in [0, 99] (or -1 to disable) - ignoring"));
                        }
                    }
                }
                "startup_script" | "shutdown_script" => {
                    let s = if n.arg(1).is_none() {
                        self.general(n.span, format!("{} script missing", &kw[..kw.len() - 7]));
                        None
                    } else {
                        self.script_arg(n)
                    };
                    if kw == "startup_script" {
                        g.startup_script = s;
                    } else {
                        g.shutdown_script = s;
                    }
                }
                "lvs_id" | "router_id_" => g.lvs_id = n.arg(1).map(str::to_string),
                "vrrp_rt_priority" | "checker_rt_priority" | "bfd_rt_priority" => {
                    let process = &kw[..kw.find('_').unwrap_or(0)];
                    match n.arg(1) {
                        None => self.general(n.span, format!("No {process} process real-time priority specified")),
                        Some(w) => {
                            let w = w.to_string();
                            match self.read_int(n.span, &w, i32::MIN as i64, i32::MAX as i64) {
                                None => self.general(n.span, format!("{process} process real-time priority '{w}' invalid")),
                                Some(p) if p < 1 => self.general(n.span, format!("{process} process real-time priority {p} less than minimum 1 - setting to minimum")),
                                Some(p) if p > 99 => self.general(n.span, format!("{process} process real-time priority {p} greater than maximum 99 - setting to maximum")),
                                Some(_) => {}
                            }
                            g.other.push(RawLine { words: n.words.clone(), span: n.span });
                        }
                    }
                }
                "lvs_sync_daemon" => {
                    // IF [INSTANCE] [id N] [maxlen N] [port N] [ttl N] [group IP]
                    if n.arg(1).is_none() {
                        self.general(n.span, "lvs_sync_daemon requires interface");
                    }
                    let w = n.words.clone();
                    let mut i = 2;
                    while i < w.len() {
                        let (min, max) = match w[i].as_str() {
                            "id" => (0, 255),
                            "maxlen" => (1, 65507),
                            "port" => (1, 65535),
                            "ttl" => (1, 255),
                            _ => {
                                i += 1;
                                continue;
                            }
                        };
                        match w.get(i + 1) {
                            Some(v) => {
                                let _ = self.read_unsigned(n.span, v, min, max);
                            }
                            None => self.general(n.span, format!("No value specified for lvs_sync_daemon {} - ignoring", w[i])),
                        }
                        i += 2;
                    }
                    g.other.push(RawLine { words: n.words.clone(), span: n.span });
                }
                "vrrp_vmac_garp_intvl" => {
                    self.err(ErrorClass::Deprecated, n.span, "Keyword \"vrrp_vmac_garp_intvl\" is deprecated - please use \"vrrp_garp_extra_if\"");
                }
                _ => g.other.push(RawLine { words: n.words.clone(), span: n.span }),
            }
        }
        self.cfg.global_defs = g;
    }

    // ---- addresses and routes ---------------------------------------------------------------

    fn parse_ipnet(s: &str) -> Option<IpNet> {
        if let Ok(n) = IpNet::from_str(s) {
            return Some(n);
        }
        IpAddr::from_str(s).ok().map(IpNet::from)
    }

    fn ip_list(&mut self, lines: &[Line]) -> Vec<VirtualIp> {
        let mut out = Vec::new();
        for l in lines {
            let w = &l.words;
            let Some(addr) = Self::parse_ipnet(&w[0]) else {
                self.general(
                    l.span,
                    format!("VRRP parsed invalid IP {}. skipping IP...", w[0]),
                );
                continue;
            };
            let mut vip = VirtualIp::new(addr, l.span);
            let mut i = 1;
            while i < w.len() {
                let val = w.get(i + 1).cloned();
                match w[i].as_str() {
                    "brd" | "broadcast" => {
                        vip.brd = val.as_deref().and_then(|v| v.parse().ok());
                        i += 1;
                    }
                    "dev" => {
                        if let Some(d) = &val {
                            if !self.sys.interface_exists(d)
                                && !self.cfg.global_defs.dynamic_interfaces
                            {
                                self.missing_interface = true;
                                self.general(
                                    l.span,
                                    format!(
                                        "WARNING - interface {d} for ip address {} doesn't exist",
                                        w[0]
                                    ),
                                );
                            }
                        }
                        vip.dev = val;
                        i += 1;
                    }
                    "scope" => {
                        vip.scope = val;
                        i += 1;
                    }
                    "label" => {
                        if vip.addr.addr().is_ipv6() {
                            self.general(
                                l.span,
                                format!(
                                    "Cannot specify label for IPv6 addresses ({}) - ignoring label",
                                    w[0]
                                ),
                            );
                            i += 1;
                            i += 1;
                            continue;
                        }
                        vip.label = val;
                        i += 1;
                    }
                    "peer" => {
                        vip.peer = val.as_deref().and_then(Self::parse_ipnet);
                        i += 1;
                    }
                    "preferred_lft" => {
                        vip.preferred_lft = val.as_deref().and_then(|v| v.parse().ok());
                        i += 1;
                    }
                    "track_group" => {
                        vip.track_group = val;
                        i += 1;
                    }
                    "home" => vip.home = true,
                    "-nodad" | "nodad" => vip.no_dad = true,
                    "noprefixroute" => vip.no_prefix_route = true,
                    "autojoin" => vip.auto_join = true,
                    "mngtmpaddr" | "no_track" | "dont_track" | "use_vmac" => {}
                    other => {
                        let other = other.to_string();
                        self.general(
                            l.span,
                            format!(
                                "Unknown configuration entry '{other}' for ip address - ignoring"
                            ),
                        );
                    }
                }
                i += 1;
            }
            out.push(vip);
        }
        out
    }

    fn route_list(&mut self, lines: &[Line]) -> Vec<VirtualRoute> {
        let mut out = Vec::new();
        const TYPES: [&str; 8] = [
            "unicast",
            "blackhole",
            "unreachable",
            "prohibit",
            "local",
            "broadcast",
            "multicast",
            "throw",
        ];
        for l in lines {
            let w = &l.words;
            let mut r = VirtualRoute {
                route_type: None,
                dest: IpNet::from(IpAddr::from([0u8, 0, 0, 0])),
                src: None,
                via: None,
                dev: None,
                scope: None,
                table: None,
                metric: None,
                words: w.clone(),
                span: l.span,
            };
            let mut have_dest = false;
            let mut i = 0;
            while i < w.len() {
                let val = w.get(i + 1).cloned();
                match w[i].as_str() {
                    t if TYPES.contains(&t) && i == 0 => r.route_type = Some(t.to_string()),
                    "src" => {
                        r.src = val.as_deref().and_then(|v| v.parse().ok());
                        i += 1;
                    }
                    "via" | "gw" => {
                        if w[i] == "gw" {
                            self.general(
                                l.span,
                                "\"gw\" for routes is deprecated. Please use \"via\"",
                            );
                        }
                        r.via = val.as_deref().and_then(|v| v.parse().ok());
                        i += 1;
                    }
                    "dev" | "oif" => {
                        if let Some(d) = &val {
                            if !self.sys.interface_exists(d)
                                && !self.cfg.global_defs.dynamic_interfaces
                            {
                                self.missing_interface = true;
                                self.general(
                                    l.span,
                                    format!("WARNING - interface {d} for VROUTE doesn't exist"),
                                );
                            }
                        }
                        r.dev = val;
                        i += 1;
                    }
                    "scope" => {
                        r.scope = val;
                        i += 1;
                    }
                    "table" => {
                        r.table = val;
                        i += 1;
                    }
                    "metric" | "priority" | "preference" => {
                        r.metric = val.as_deref().and_then(|v| v.parse().ok());
                        i += 1;
                    }
                    "to" => {
                        if let Some(d) = val.as_deref().and_then(Self::parse_ipnet) {
                            r.dest = d;
                            have_dest = true;
                        }
                        i += 1;
                    }
                    "default" if !have_dest => {
                        let v6 = w.iter().any(|x| x == "inet6");
                        let any: IpAddr = if v6 {
                            IpAddr::from([0u16; 8])
                        } else {
                            IpAddr::from([0u8; 4])
                        };
                        r.dest = IpNet::new(any, 0).unwrap_or(r.dest);
                        have_dest = true;
                    }
                    "inet6" | "inet" if !have_dest => {}
                    other if !have_dest => {
                        if let Some(d) = Self::parse_ipnet(other) {
                            r.dest = d;
                            have_dest = true;
                        } else {
                            // Options with a value we do not model.
                            i += 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            out.push(r);
        }
        out
    }

    // ---- vrrp_script / track_file / sync group -------------------------------------------------

    fn vrrp_script(&mut self, node: &Node) {
        let name = node.arg(1).unwrap_or("").to_string();
        let mut s = VrrpScript {
            name,
            interval: Duration::from_secs(1),
            rise: 1,
            fall: 1,
            span: node.span,
            ..Default::default()
        };
        for n in &node.children {
            if self.aborted {
                return;
            }
            match n.keyword() {
                "script" => s.script = self.script_arg(n),
                "interval" => {
                    if let Some(w) = self.need(n, 1) {
                        let w = w.to_string();
                        match self.read_unsigned(n.span, &w, 0, (u32::MAX / 1_000_000) as u64) {
                            Some(x) => s.interval = Duration::from_secs(x.max(1)),
                            None => {
                                let name = s.name.clone();
                                self.general(n.span, format!("({name}): vrrp script interval '{w}' must be between 1 and {} - ignoring", u32::MAX / 1_000_000));
                            }
                        }
                    }
                }
                "timeout" => s.timeout = self.timer_arg(n, 1, 0),
                "weight" => {
                    if let Some(w) = self.need(n, 1) {
                        let w = w.to_string();
                        if let Some(v) = self.read_int(n.span, &w, -253, 253) {
                            s.weight = v as i32;
                        }
                        s.weight_reverse = n.arg(2) == Some("reverse");
                    }
                }
                "rise" => s.rise = self.uint_arg(n, 1, u32::MAX as u64).unwrap_or(1) as u32,
                "fall" => s.fall = self.uint_arg(n, 1, u32::MAX as u64).unwrap_or(1) as u32,
                "init_fail" => s.init_fail = true,
                "user" => {
                    if let Some(u) = self.need(n, 1) {
                        let u = u.to_string();
                        if !self.sys.user_exists(&u) {
                            let prog = s
                                .script
                                .as_ref()
                                .map(|x| x.cmdline.clone())
                                .unwrap_or_default();
                            self.general(
                                n.span,
                                format!("Unable to set uid/gid for script {prog}"),
                            );
                        }
                        s.user = Some((u, n.arg(2).map(str::to_string)));
                    }
                }
                _ => {}
            }
        }
        if s.script.is_none() {
            self.general(
                node.end_span,
                format!("No script set for vrrp_script {} - removing", s.name),
            );
            return;
        }
        self.cfg.vrrp_scripts.push(s);
    }

    fn track_file_block(&mut self, node: &Node) {
        // keepalived's default weight of a track file is 1 (value × 1 added to the priority).
        let mut t = VrrpTrackFile {
            name: node.arg(1).unwrap_or("").to_string(),
            weight: 1,
            span: node.span,
            ..Default::default()
        };
        for n in &node.children {
            match n.keyword() {
                "file" => t.file = n.arg(1).map(PathBuf::from),
                "weight" => {
                    if let Some(w) = self.need(n, 1) {
                        let w = w.to_string();
                        if let Some(v) = self.read_int(n.span, &w, -254, 254) {
                            t.weight = v as i32;
                        }
                        t.weight_reverse = n.arg(2) == Some("reverse");
                    }
                }
                "init_file" => {
                    let v = n.arg(1).and_then(|v| v.parse::<i32>().ok()).unwrap_or(0);
                    t.init_file = Some((v, n.words.iter().any(|w| w == "overwrite")));
                }
                _ => {}
            }
        }
        if t.file.is_none() {
            self.general(
                node.end_span,
                format!("No file set for track_file {} - ignoring", t.name),
            );
            return;
        }
        self.cfg.vrrp_track_files.push(t);
    }

    fn track_process_block(&mut self, node: &Node) {
        let mut t = VrrpTrackProcess {
            name: node.arg(1).unwrap_or("").to_string(),
            span: node.span,
            ..Default::default()
        };
        let pname = t.name.clone();
        for n in &node.children {
            match n.keyword() {
                "process" => {
                    if t.process.is_some() {
                        self.general(
                            n.span,
                            format!(
                                "Process already set for track process {pname} - ignoring {}",
                                n.arg(1).unwrap_or("")
                            ),
                        );
                        continue;
                    }
                    t.process = n.arg(1).map(str::to_string);
                    if n.words.len() > 2 {
                        t.params = n.words[2..].to_vec();
                        if t.param_match == ParamMatch::None {
                            t.param_match = ParamMatch::Exact;
                        }
                        t.full_command = true;
                    }
                }
                "param_match" => {
                    t.full_command = true;
                    match n.arg(1) {
                        None => t.param_match = ParamMatch::Exact,
                        Some("initial") => t.param_match = ParamMatch::Initial,
                        Some("partial") => t.param_match = ParamMatch::Partial,
                        Some(o) => {
                            let o = o.to_string();
                            self.general(n.span, format!("Invalid param_match type {o} - ignoring"))
                        }
                    }
                }
                "full_command" => t.full_command = true,
                "weight" => match (n.arg(1), n.arg(1).and_then(parse_strtol)) {
                    (Some(_), Some(w)) if (-254..=254).contains(&w) => {
                        t.weight = w as i32;
                        t.weight_reverse = n.arg(2) == Some("reverse");
                    }
                    (Some(a), _) => {
                        let msg = format!(
                            "Weight ({a}) for vrrp_track_process {pname} must be between [-254..254] inclusive. Ignoring..."
                        );
                        self.general(n.span, msg)
                    }
                    (None, _) => self.general(
                        n.span,
                        format!("No weight specified for track process {pname} - ignoring"),
                    ),
                },
                "quorum" => match n.arg(1).and_then(parse_strtol) {
                    Some(q) if (1..=65535).contains(&q) && q as u32 <= t.quorum_max => {
                        t.quorum = q as u32
                    }
                    Some(q) if (1..=65535).contains(&q) => self.general(
                        n.span,
                        "Quorum is greater than quorum_max - ignoring".to_string(),
                    ),
                    _ => self.general(
                        n.span,
                        format!(
                            "Quorum ({}) for vrrp_track_process {pname} must be between [1..65535] inclusive. Ignoring...",
                            n.arg(1).unwrap_or("")
                        ),
                    ),
                },
                "quorum_max" => match n.arg(1).and_then(parse_strtol) {
                    Some(q) if (0..=65535).contains(&q) => {
                        let q = q as u32;
                        if (q > 0 || t.quorum > 1) && q < t.quorum {
                            self.general(
                                n.span,
                                "quorum_max is less than quorum - ignoring".to_string(),
                            );
                        } else {
                            t.quorum_max = q;
                            if q == 0 {
                                t.quorum = 0;
                            } else if t.quorum == 0 {
                                t.quorum = 1;
                            }
                        }
                    }
                    _ => self.general(
                        n.span,
                        format!(
                            "quorum_max ({}) for vrrp_track_process {pname} must be between [0..65535] inclusive. Ignoring...",
                            n.arg(1).unwrap_or("")
                        ),
                    ),
                },
                _ => {}
            }
        }
        if t.process.is_none() {
            self.general(
                node.end_span,
                format!("track process '{pname}' process name not specified"),
            );
            return;
        }
        self.cfg.vrrp_track_processes.push(t);
    }

    fn tracked(
        &mut self,
        lines: &[Line],
        min: i64,
        max: i64,
    ) -> Vec<(String, Option<i32>, bool, Span)> {
        let mut out = Vec::new();
        for l in lines {
            let w = &l.words;
            let mut weight = None;
            let mut reverse = false;
            if w.len() >= 2 && w[1] == "weight" {
                match w.get(2) {
                    Some(v) => match parse_strtol(v) {
                        Some(x) if x >= min && x <= max => weight = Some(x as i32),
                        _ => {
                            self.general(l.span, format!("(track) weight for {} must be between [{min}:{max}] inclusive. Ignoring", w[0]));
                            continue;
                        }
                    },
                    None => {
                        self.general(
                            l.span,
                            format!(
                                "(track) weight without value specified for {} - ignoring",
                                w[0]
                            ),
                        );
                        continue;
                    }
                }
                reverse = w.get(3).map(|s| s == "reverse").unwrap_or(false);
            }
            out.push((w[0].clone(), weight, reverse, l.span));
        }
        out
    }

    fn sync_group(&mut self, node: &Node) {
        let mut g = VrrpSyncGroup {
            name: node.arg(1).unwrap_or("").to_string(),
            span: node.span,
            ..Default::default()
        };
        for n in &node.children {
            if self.aborted {
                return;
            }
            match n.keyword() {
                "group" => g.group = n.values.iter().flat_map(|l| l.words.clone()).collect(),
                "track_interface" => {
                    for (name, weight, reverse, span) in self.tracked(&n.values, -254, 254) {
                        if !self.sys.interface_exists(&name) {
                            self.missing_interface = true;
                            let gname = g.name.clone();
                            self.general(
                                span,
                                format!("({gname}) tracked interface {name} doesn't exist"),
                            );
                        }
                        g.track_interface.push(TrackedInterface {
                            name,
                            weight,
                            reverse,
                            span,
                        });
                    }
                }
                "track_script" => {
                    for (name, weight, reverse, span) in self.tracked(&n.values, -254, 254) {
                        g.track_script.push(TrackedScript {
                            name,
                            weight,
                            reverse,
                            span,
                        });
                    }
                }
                "track_file" => {
                    for (name, weight, reverse, span) in self.tracked(&n.values, -254, 254) {
                        g.track_file.push(TrackedFile {
                            name,
                            weight,
                            reverse,
                            span,
                        });
                    }
                }
                "notify_master" => g.notify_master = self.script_arg(n),
                "notify_backup" => g.notify_backup = self.script_arg(n),
                "notify_fault" => g.notify_fault = self.script_arg(n),
                "notify_stop" => g.notify_stop = self.script_arg(n),
                "notify" => g.notify = self.script_arg(n),
                "smtp_alert" => g.smtp_alert = self.bool_arg(n),
                "global_tracking" => {
                    let msg = format!(
                        "({}) global_tracking is deprecated. Use track_interface/script/file on the sync group",
                        g.name
                    );
                    self.general(n.span, msg);
                    g.global_tracking = true;
                }
                "sync_group_tracking_weight" => g.sync_group_tracking_weight = true,
                "notify_priority_changes" => g.notify_priority_changes = self.bool_arg(n),
                _ => {}
            }
        }
        self.cfg.sync_groups.push(g);
    }

    // ---- vrrp_instance ------------------------------------------------------------------------

    fn instance(&mut self, node: &Node) {
        let name = node.arg(1).unwrap_or("").to_string();
        if self.cfg.instances.iter().any(|i| i.name == name) {
            self.general(
                node.span,
                format!("vrrp_instance {name} defined more than once"),
            );
        }
        let mut v = VrrpInstance::new(name.clone(), node.span);
        for n in &node.children {
            if self.aborted {
                return;
            }
            let kw = n.keyword();
            match kw {
                "state" => {
                    if let Some(s) = self.need(n, 1) {
                        match s {
                            "MASTER" => v.state = InitialState::Master,
                            "BACKUP" => v.state = InitialState::Backup,
                            other => {
                                let other = other.to_string();
                                self.general(
                                    n.span,
                                    format!(
                                        "({name}) unknown state '{other}', defaulting to BACKUP"
                                    ),
                                );
                            }
                        }
                    }
                }
                "interface" => {
                    if let Some(ifn) = self.need(n, 1) {
                        let ifn = ifn.to_string();
                        if ifn.len() >= 16 {
                            self.general(
                                n.span,
                                format!("Interface name '{ifn}' too long - ignoring"),
                            );
                        } else {
                            if !self.sys.interface_exists(&ifn)
                                && !self.cfg.global_defs.dynamic_interfaces
                            {
                                self.missing_interface = true;
                                self.general(n.span, format!("WARNING - interface {ifn} for vrrp_instance {name} doesn't exist"));
                            } else if self.sys.is_loopback(&ifn) {
                                self.general(n.span, format!("({name}) cannot use a loopback interface ({ifn}) for vrrp - ignoring"));
                            }
                            v.interface = Some(ifn);
                        }
                    }
                }
                "use_vmac" => {
                    let mut vname = None;
                    for w in &n.words[1..] {
                        let is_mac = w.contains(':')
                            && w.split(':')
                                .all(|x| x.len() <= 2 && x.bytes().all(|c| c.is_ascii_hexdigit()));
                        if is_mac {
                            continue;
                        }
                        if vname.is_some() {
                            self.general(n.span, "VMAC interface name already specified");
                            continue;
                        }
                        let other = self.cfg.instances.iter().find(|o| {
                            o.use_vmac.as_ref().and_then(|x| x.as_deref()) == Some(w.as_str())
                        });
                        if let Some(o) = other {
                            let oname = o.name.clone();
                            self.general(n.span, format!("({name}) VRRP instance {oname} is already using {w} - ignoring name"));
                            continue;
                        }
                        vname = Some(w.clone());
                    }
                    v.use_vmac = Some(vname);
                }
                "vmac_xmit_base" => v.vmac_xmit_base = true,
                "use_ipvlan" => v.use_ipvlan = Some(n.words[1..].to_vec()),
                "native_ipv6" => v.native_ipv6 = true,
                "dont_track_primary" => v.dont_track_primary = true,
                "track_interface" => {
                    for (tn, weight, reverse, span) in self.tracked(&n.values, -254, 254) {
                        if !self.sys.interface_exists(&tn)
                            && !self.cfg.global_defs.dynamic_interfaces
                        {
                            self.missing_interface = true;
                            self.general(
                                span,
                                format!("({name}) tracked interface {tn} doesn't exist"),
                            );
                            continue;
                        }
                        v.track_interface.push(TrackedInterface {
                            name: tn,
                            weight,
                            reverse,
                            span,
                        });
                    }
                }
                "track_script" => {
                    for (tn, weight, reverse, span) in self.tracked(&n.values, -254, 254) {
                        v.track_script.push(TrackedScript {
                            name: tn,
                            weight,
                            reverse,
                            span,
                        });
                    }
                }
                "track_process" => {
                    for (tn, weight, reverse, span) in self.tracked(&n.values, -254, 254) {
                        // keepalived looks the process up while reading the instance.
                        if self.cfg.vrrp_track_process(&tn).is_none() {
                            let msg =
                                format!("({}) track process {tn} not found, ignoring...", v.name);
                            self.general(span, msg);
                            continue;
                        }
                        v.track_process.push(TrackedFile {
                            name: tn,
                            weight,
                            reverse,
                            span,
                        });
                    }
                }
                "track_file" => {
                    for (tn, weight, reverse, span) in self.tracked(&n.values, -254, 254) {
                        v.track_file.push(TrackedFile {
                            name: tn,
                            weight,
                            reverse,
                            span,
                        });
                    }
                }
                "mcast_src_ip" | "unicast_src_ip" => {
                    if let Some(a) = self.need(n, 1) {
                        match a.parse::<IpAddr>() {
                            Ok(ip) => {
                                if kw == "mcast_src_ip" {
                                    v.mcast_src_ip = Some(ip)
                                } else {
                                    v.unicast_src_ip = Some(ip)
                                }
                            }
                            Err(_) => {
                                let a = a.to_string();
                                self.general(
                                    n.span,
                                    format!("Configuration error: VRRP instance[{name}] malformed src address[{a}]. Skipping..."),
                                );
                            }
                        }
                    }
                }
                "unicast_peer" => {
                    v.unicast_peer_configured = true;
                    for l in &n.values {
                        match l.words[0].parse::<IpAddr>() {
                            Ok(addr) => {
                                let mut p = UnicastPeer {
                                    addr,
                                    min_ttl: None,
                                    max_ttl: None,
                                    span: l.span,
                                };
                                let mut i = 1;
                                while i + 1 < l.words.len() {
                                    let val = l.words[i + 1].parse::<u8>().ok();
                                    match l.words[i].as_str() {
                                        "min_ttl" => p.min_ttl = val,
                                        "max_ttl" => p.max_ttl = val,
                                        _ => {}
                                    }
                                    i += 2;
                                }
                                v.unicast_peer.push(p);
                            }
                            Err(_) => self.general(
                                l.span,
                                format!(
                                    "Configuration error: VRRP instance[{name}] malformed unicast peer address[{}]. Skipping...",
                                    l.words[0]
                                ),
                            ),
                        }
                    }
                }
                "unicast_ttl" => v.unicast_ttl = self.uint_arg(n, 1, 255).map(|x| x as u8),
                "unicast_fault_no_peer" => v.unicast_fault_no_peer = true,
                "check_unicast_src" => v.check_unicast_src = true,
                "mcast_dst_ip" => v.mcast_dst_ip = n.arg(1).and_then(|a| a.parse().ok()),
                "virtual_router_id" => {
                    if let Some(w) = self.need(n, 1) {
                        let w = w.to_string();
                        match self.read_unsigned(n.span, &w, 1, 255) {
                            Some(x) => v.virtual_router_id = Some(x as u8),
                            None => self.general(
                                n.span,
                                format!("({name}): VRID '{w}' not valid - must be between 1 & 255"),
                            ),
                        }
                    }
                }
                "priority" => {
                    if let Some(w) = self.need(n, 1) {
                        let w = w.to_string();
                        match self.read_unsigned(n.span, &w, 1, 255) {
                            Some(x) => v.priority = x as u8,
                            None => {
                                self.general(n.span, format!("({name}) Priority not valid! must be between 1 & 255. Using default 100"));
                                v.priority = 100;
                            }
                        }
                    }
                }
                "advert_int" => {
                    if let Some(w) = self.need(n, 1) {
                        let w = w.to_string();
                        match self.read_decimal(n.span, &w, 10_000, 255_000_000, 6) {
                            Some(us) if us > 0 => v.advert_int = us as f64 / 1e6,
                            _ => self.general(n.span, format!("({name}) Advert interval ({w}) not valid! Must be > 0 - ignoring")),
                        }
                    }
                }
                "version" => {
                    if let Some(w) = self.need(n, 1) {
                        let w = w.to_string();
                        match parse_strtol(&w) {
                            Some(x @ 2..=3) => v.version = Some(x as u8),
                            Some(_) => self.general(
                                n.span,
                                format!("({name}): Version must be either 2 or 3"),
                            ),
                            None => {
                                self.err(
                                    ErrorClass::InvalidNumber,
                                    n.span,
                                    format!("invalid number '{w}'"),
                                );
                                self.general(
                                    n.span,
                                    format!("({name}): Version must be either 2 or 3"),
                                );
                            }
                        }
                    }
                }
                "virtual_ipaddress" => v.virtual_ipaddress = self.ip_list(&n.values),
                "virtual_ipaddress_excluded" => {
                    v.virtual_ipaddress_excluded = self.ip_list(&n.values)
                }
                "virtual_routes" => v.virtual_routes = self.route_list(&n.values),
                "virtual_rules" => {
                    v.virtual_rules = n
                        .values
                        .iter()
                        .map(|l| RawLine {
                            words: l.words.clone(),
                            span: l.span,
                        })
                        .collect()
                }
                "authentication" => v.authentication = Some(self.authentication(n, &name)),
                "accept" => v.accept = Some(true),
                "no_accept" => v.accept = Some(false),
                "skip_check_adv_addr" => v.skip_check_adv_addr = self.bool_arg(n),
                "strict_mode" => v.strict_mode = self.bool_arg(n),
                "preempt" => v.nopreempt = false,
                "nopreempt" => v.nopreempt = true,
                "preempt_delay" => v.preempt_delay = self.timer_arg(n, 0, 1000 * 1_000_000),
                "garp_master_delay" => {
                    v.garp_master_delay = self.uint_arg(n, 0, 86400).map(Duration::from_secs)
                }
                "garp_master_repeat" => {
                    v.garp_master_repeat = self.uint_arg(n, 0, u32::MAX as u64).map(|x| x as u32)
                }
                "garp_master_refresh" => {
                    v.garp_master_refresh = self
                        .uint_arg(n, 0, u32::MAX as u64)
                        .map(Duration::from_secs)
                }
                "garp_master_refresh_repeat" => {
                    v.garp_master_refresh_repeat =
                        self.uint_arg(n, 0, u32::MAX as u64).map(|x| x as u32)
                }
                "garp_lower_prio_delay" => {
                    v.garp_lower_prio_delay = self.uint_arg(n, 0, 86400).map(Duration::from_secs)
                }
                "garp_lower_prio_repeat" => {
                    v.garp_lower_prio_repeat =
                        self.uint_arg(n, 0, u32::MAX as u64).map(|x| x as u32)
                }
                "lower_prio_no_advert" => v.lower_prio_no_advert = self.bool_arg(n),
                "higher_prio_send_advert" => v.higher_prio_send_advert = self.bool_arg(n),
                "down_timer_adverts" => {
                    v.down_timer_adverts = self.uint_arg(n, 1, 100).map(|x| x as u32)
                }
                "notify_master" => v.notify_master = self.script_arg(n),
                "notify_backup" => v.notify_backup = self.script_arg(n),
                "notify_fault" => v.notify_fault = self.script_arg(n),
                "notify_stop" => v.notify_stop = self.script_arg(n),
                "notify_deleted" => v.notify_deleted = self.script_arg(n),
                "notify" => v.notify = self.script_arg(n),
                "notify_master_rx_lower_pri" => v.notify_master_rx_lower_pri = self.script_arg(n),
                "notify_priority_changes" => v.notify_priority_changes = self.bool_arg(n),
                "smtp_alert" => v.smtp_alert = self.bool_arg(n),
                "debug" => v.debug = n.arg(1).and_then(|x| x.parse().ok()),
                "kernel_rx_buf_size" => {
                    v.kernel_rx_buf_size = n.arg(1).and_then(|x| x.parse().ok())
                }
                "lvs_sync_daemon_interface" => {
                    v.lvs_sync_daemon_interface = n.arg(1).map(str::to_string)
                }
                "promote_secondaries" => v.promote_secondaries = true,
                "vmac_garp_intvl" => self.err(
                    ErrorClass::Deprecated,
                    n.span,
                    "Keyword \"vmac_garp_intvl\" is deprecated - please use \"garp_extra_if\"",
                ),
                _ => {}
            }
        }
        // keepalived's end-of-block checks for the instance.
        let unicast = !v.unicast_peer.is_empty();
        if v.use_vmac.is_some() && unicast && !v.vmac_xmit_base {
            self.general(
                node.end_span,
                format!("({name}) unicast with use_vmac requires vmac_xmit_base - setting"),
            );
            v.vmac_xmit_base = true;
        }
        if v.unicast_ttl.is_some() && !unicast {
            self.general(
                node.end_span,
                format!("({name}): Cannot use unicast_ttl without unicast peers - resetting"),
            );
        }
        self.cfg.instances.push(v);
    }

    fn authentication(&mut self, node: &Node, name: &str) -> Authentication {
        let mut a = Authentication {
            auth_type: None,
            auth_pass: Vec::new(),
            span: node.span,
        };
        for n in &node.children {
            match n.keyword() {
                "auth_type" => {
                    if let Some(t) = self.need(n, 1) {
                        match t {
                            "PASS" => a.auth_type = Some(AuthType::Pass),
                            "AH" => a.auth_type = Some(AuthType::Ah),
                            other => {
                                let other = other.to_string();
                                self.general(
                                    n.span,
                                    format!("({name}) unknown authentication type '{other}'"),
                                );
                            }
                        }
                    }
                }
                "auth_pass" => {
                    if let Some(p) = self.need(n, 1) {
                        let mut bytes = p.as_bytes().to_vec();
                        if bytes.len() > 8 {
                            bytes.truncate(8);
                            self.err(
                                ErrorClass::General,
                                n.span,
                                "Truncating auth_pass to 8 characters",
                            );
                        }
                        a.auth_pass = bytes;
                    }
                }
                _ => {}
            }
        }
        a
    }

    // ---- virtual servers ----------------------------------------------------------------------

    fn vs_group(&mut self, node: &Node) {
        let name = node.arg(1).unwrap_or("").to_string();
        let mut g = VirtualServerGroup {
            name,
            members: Vec::new(),
            span: node.span,
        };
        for l in &node.values {
            let w = &l.words;
            if w[0] == "fwmark" {
                match w.get(1).and_then(|m| parse_strtoul(m)) {
                    Some(mark) if mark <= u32::MAX as u64 => {
                        g.members.push(VirtualServerGroupMember::Fwmark {
                            mark: mark as u32,
                            span: l.span,
                        })
                    }
                    _ => self.general(l.span, "virtual server group fwmark invalid - skipping"),
                }
                continue;
            }
            let (addr_s, range_end) = match w[0].rsplit_once('-') {
                Some((a, e)) if e.bytes().all(|c| c.is_ascii_hexdigit()) && !e.is_empty() => {
                    // The last byte (IPv4, decimal) or last 16-bit group (IPv6, hex).
                    let end = if a.contains(':') {
                        u16::from_str_radix(e, 16).ok()
                    } else {
                        e.parse().ok()
                    };
                    (a, end)
                }
                _ => (w[0].as_str(), None),
            };
            match addr_s.parse::<IpAddr>() {
                Ok(addr) => {
                    let port = w.get(1).and_then(|p| p.parse::<u16>().ok());
                    g.members.push(VirtualServerGroupMember::Address {
                        addr,
                        range_end,
                        port,
                        span: l.span,
                    });
                }
                Err(_) => self.general(
                    l.span,
                    format!(
                        "Invalid virtual server group IP address {} - skipping",
                        w[0]
                    ),
                ),
            }
        }
        self.cfg.virtual_server_groups.push(g);
    }

    fn lb_kind(s: &str) -> Option<LbKind> {
        match s {
            "NAT" => Some(LbKind::Nat),
            "DR" => Some(LbKind::Dr),
            "TUN" => Some(LbKind::Tun),
            _ => None,
        }
    }

    fn virtual_server(&mut self, node: &Node) {
        let w1 = node.arg(1).unwrap_or("");
        let address = match w1 {
            "group" => VirtualServerAddress::Group(node.arg(2).unwrap_or("").to_string()),
            "fwmark" => {
                let m = node
                    .arg(2)
                    .and_then(parse_strtoul)
                    .filter(|m| *m <= u32::MAX as u64);
                match m {
                    Some(m) => VirtualServerAddress::Fwmark(m as u32),
                    None => {
                        self.general(node.span, "virtual server fwmark invalid - skipping");
                        return;
                    }
                }
            }
            a => match a.parse::<IpAddr>() {
                Ok(addr) => {
                    let port = node.arg(2).and_then(|p| p.parse::<u16>().ok()).unwrap_or(0);
                    VirtualServerAddress::Ip { addr, port }
                }
                Err(_) => {
                    let port = node
                        .arg(2)
                        .filter(|p| !p.trim_start_matches('0').is_empty());
                    let msg = match port {
                        Some(p) => {
                            format!("Invalid virtual server IP address/port {a}/{p} - skipping")
                        }
                        None => format!("Invalid virtual server IP address {a} - skipping"),
                    };
                    self.general(node.span, msg);
                    return;
                }
            },
        };
        let mut vs = VirtualServer::new(address, node.span);
        for n in &node.children {
            if self.aborted {
                return;
            }
            match n.keyword() {
                "delay_loop" => vs.delay_loop = self.timer_arg(n, 1, 0),
                "lb_algo" | "lvs_sched" => {
                    if let Some(a) = self.need(n, 1) {
                        match LbAlgo::from_name(a) {
                            Some(x) => vs.lb_algo = Some(x),
                            None => {
                                let a = a.to_string();
                                self.general(
                                    n.span,
                                    format!("Invalid lvs_scheduler '{a}' - ignoring"),
                                );
                            }
                        }
                    }
                }
                "lb_kind" | "lvs_method" => {
                    if let Some(k) = self.need(n, 1) {
                        match Self::lb_kind(k) {
                            Some(x) => vs.lb_kind = Some(x),
                            None => {
                                let k = k.to_string();
                                self.general(n.span, format!("Invalid lvs_method - '{k}'"));
                            }
                        }
                    }
                }
                "persistence_timeout" => {
                    vs.persistence_timeout = match n.arg(1) {
                        None => Some(6 * 60),
                        Some(w) => {
                            let w = w.to_string();
                            self.read_unsigned(n.span, &w, 1, 2_678_400)
                                .map(|x| x as u32)
                        }
                    }
                }
                "persistence_granularity" => {
                    vs.persistence_granularity = n.arg(1).and_then(|a| a.parse().ok())
                }
                "persistence_engine" => vs.persistence_engine = n.arg(1).map(str::to_string),
                "protocol" => {
                    if let Some(p) = self.need(n, 1) {
                        vs.protocol = match p {
                            p if p.eq_ignore_ascii_case("TCP") => Some(Protocol::Tcp),
                            p if p.eq_ignore_ascii_case("UDP") => Some(Protocol::Udp),
                            p if p.eq_ignore_ascii_case("SCTP") => Some(Protocol::Sctp),
                            other => {
                                let other = other.to_string();
                                self.general(
                                    n.span,
                                    format!("Unknown protocol {other} - ignoring"),
                                );
                                None
                            }
                        }
                    }
                }
                "quorum" => {
                    vs.quorum = self
                        .uint_arg(n, 1, u32::MAX as u64)
                        .map(|x| x as u32)
                        .unwrap_or(1)
                }
                "hysteresis" => {
                    vs.hysteresis = self
                        .uint_arg(n, 0, u32::MAX as u64)
                        .map(|x| x as u32)
                        .unwrap_or(0)
                }
                "quorum_up" => vs.quorum_up = self.script_arg(n),
                "quorum_down" => vs.quorum_down = self.script_arg(n),
                "sorry_server" => {
                    let a = self.need(n, 1).and_then(|a| a.parse::<IpAddr>().ok());
                    match a {
                        Some(addr) => {
                            vs.sorry_server = Some((addr, n.arg(2).and_then(|p| p.parse().ok())))
                        }
                        None if !self.aborted => {
                            self.general(n.span, "Invalid sorry_server IP address - ignoring")
                        }
                        None => {}
                    }
                }
                "sorry_server_inhibit" => {
                    vs.sorry_server_inhibit = self.bool_arg(n).unwrap_or(true)
                }
                "sorry_server_lvs_method" => {
                    vs.sorry_server_lvs_method = n.arg(1).and_then(Self::lb_kind)
                }
                "virtualhost" => match n.arg(1) {
                    Some(h) => vs.virtualhost = Some(h.to_string()),
                    None => self.general(n.span, "virtual server virtualhost missing"),
                },
                "alpha" => vs.alpha = true,
                "omega" => vs.omega = true,
                "ha_suspend" => vs.ha_suspend = true,
                "inhibit_on_failure" => vs.inhibit_on_failure = self.bool_arg(n).unwrap_or(true),
                "retry" => vs.retry = self.uint_arg(n, 1, u32::MAX as u64).map(|x| x as u32),
                "delay_before_retry" => vs.delay_before_retry = self.timer_arg(n, 0, 0),
                "connect_timeout" => vs.connect_timeout = self.timer_arg(n, 1, 0),
                "warmup" => vs.warmup = self.timer_arg(n, 0, 0),
                "smtp_alert" => vs.smtp_alert = self.bool_arg(n),
                "real_server" => {
                    if let Some(rs) = self.real_server(n) {
                        vs.real_servers.push(rs);
                    }
                }
                _ => {}
            }
        }
        self.cfg.virtual_servers.push(vs);
    }

    fn real_server(&mut self, node: &Node) -> Option<RealServer> {
        let a = self.need(node, 1)?;
        let Ok(addr) = a.parse::<IpAddr>() else {
            let a = a.to_string();
            self.general(
                node.span,
                format!("Invalid real server ip address/port {a} - skipping"),
            );
            return None;
        };
        let port = node.arg(2).and_then(|p| p.parse::<u16>().ok());
        let mut rs = RealServer::new(addr, port, node.span);
        for n in &node.children {
            if self.aborted {
                return None;
            }
            match n.keyword() {
                "weight" => {
                    if let Some(w) = self.need(n, 1) {
                        let w = w.to_string();
                        if let Some(x) = self.read_int(n.span, &w, 0, 65535) {
                            rs.weight = x as i32;
                        }
                    }
                }
                "lvs_method" => rs.lb_kind = n.arg(1).and_then(Self::lb_kind),
                "inhibit_on_failure" => rs.inhibit_on_failure = self.bool_arg(n),
                "notify_up" => rs.notify_up = self.script_arg(n),
                "notify_down" => rs.notify_down = self.script_arg(n),
                "alpha" => rs.alpha = self.bool_arg(n),
                "retry" => rs.retry = self.uint_arg(n, 1, u32::MAX as u64).map(|x| x as u32),
                "delay_before_retry" => rs.delay_before_retry = self.timer_arg(n, 0, 0),
                "connect_timeout" => rs.connect_timeout = self.timer_arg(n, 1, 0),
                "delay_loop" => rs.delay_loop = self.timer_arg(n, 1, 0),
                "warmup" => rs.warmup = self.timer_arg(n, 0, 0),
                "virtualhost" => rs.virtualhost = n.arg(1).map(str::to_string),
                "smtp_alert" => rs.smtp_alert = self.bool_arg(n),
                "uthreshold" => rs.uthreshold = n.arg(1).and_then(|x| x.parse().ok()),
                "lthreshold" => rs.lthreshold = n.arg(1).and_then(|x| x.parse().ok()),
                "TCP_CHECK" | "HTTP_GET" | "SSL_GET" | "MISC_CHECK" | "DNS_CHECK"
                | "SMTP_CHECK" | "UDP_CHECK" | "PING_CHECK" | "FILE_CHECK" | "BFD_CHECK" => {
                    if let Some(c) = self.checker(n) {
                        rs.checkers.push(c);
                    }
                }
                _ => {}
            }
        }
        Some(rs)
    }

    fn checker(&mut self, node: &Node) -> Option<Checker> {
        let kw = node.keyword();
        let mut common = CheckerCommon::default();
        let mut kind = match kw {
            "TCP_CHECK" => CheckerKind::Tcp,
            "HTTP_GET" | "SSL_GET" => CheckerKind::Http {
                ssl: kw == "SSL_GET",
                urls: Vec::new(),
                virtualhost: None,
                http_protocol: None,
                enable_sni: false,
            },
            "MISC_CHECK" => CheckerKind::Misc {
                script: None,
                timeout: None,
                dynamic: false,
                user: None,
            },
            "DNS_CHECK" => CheckerKind::Dns {
                query_type: None,
                name: None,
            },
            "SMTP_CHECK" => CheckerKind::Smtp { helo_name: None },
            other => CheckerKind::Other(other.to_string()),
        };
        for n in &node.children {
            if self.aborted {
                return None;
            }
            match n.keyword() {
                "connect_ip" => common.connect_ip = n.arg(1).and_then(|a| a.parse().ok()),
                "connect_port" => {
                    if let Some(w) = self.need(n, 1) {
                        let w = w.to_string();
                        common.connect_port =
                            self.read_unsigned(n.span, &w, 1, 65535).map(|x| x as u16);
                    }
                }
                "bindto" => common.bindto = n.arg(1).and_then(|a| a.parse().ok()),
                "bind_port" => common.bind_port = n.arg(1).and_then(|a| a.parse().ok()),
                "bind_if" => common.bind_if = n.arg(1).map(str::to_string),
                "connect_timeout" => common.connect_timeout = self.timer_arg(n, 1, 0),
                "retry" => common.retry = self.uint_arg(n, 0, u32::MAX as u64).map(|x| x as u32),
                "nb_get_retry" => {
                    self.general(n.span, "nb_get_retry is deprecated - please use 'retry'");
                    common.retry = self.uint_arg(n, 0, u32::MAX as u64).map(|x| x as u32);
                }
                "delay_before_retry" => common.delay_before_retry = self.timer_arg(n, 0, 0),
                "warmup" => common.warmup = self.timer_arg(n, 0, 0),
                "delay_loop" => common.delay_loop = self.timer_arg(n, 1, 0),
                "alpha" => common.alpha = self.bool_arg(n),
                "fwmark" => common.fwmark = n.arg(1).and_then(|a| a.parse().ok()),
                "log_all_failures" => common.log_all_failures = self.bool_arg(n),
                k => match &mut kind {
                    CheckerKind::Http {
                        urls,
                        virtualhost,
                        http_protocol,
                        enable_sni,
                        ..
                    } => match k {
                        "url" => {
                            let mut u = HttpUrl {
                                span: n.span,
                                ..Default::default()
                            };
                            for c in &n.children {
                                match c.keyword() {
                                    "path" => u.path = self.need(c, 1).map(str::to_string),
                                    "digest" => {
                                        u.digest = self.need(c, 1).map(|d| d.to_ascii_lowercase())
                                    }
                                    "status_code" => {
                                        for w in &c.words[1..] {
                                            let r = match w.split_once('-') {
                                                Some((a, b)) => a.parse().ok().zip(b.parse().ok()),
                                                None => w.parse().ok().map(|x| (x, x)),
                                            };
                                            if let Some(r) = r {
                                                u.status_code.push(r);
                                            }
                                        }
                                    }
                                    "virtualhost" => u.virtualhost = c.arg(1).map(str::to_string),
                                    "regex" => u.regex = c.arg(1).map(str::to_string),
                                    "regex_no_match" => u.regex_no_match = true,
                                    _ => {}
                                }
                            }
                            urls.push(u);
                        }
                        "virtualhost" => *virtualhost = n.arg(1).map(str::to_string),
                        "http_protocol" => *http_protocol = n.arg(1).map(str::to_string),
                        "enable_sni" => *enable_sni = true,
                        _ => {}
                    },
                    CheckerKind::Misc {
                        script,
                        timeout,
                        dynamic,
                        user,
                    } => match k {
                        "misc_path" => *script = self.script_arg(n),
                        "misc_timeout" => *timeout = self.timer_arg(n, 1, 0),
                        "misc_dynamic" => *dynamic = true,
                        "user" => {
                            *user = n
                                .arg(1)
                                .map(|u| (u.to_string(), n.arg(2).map(str::to_string)))
                        }
                        _ => {}
                    },
                    CheckerKind::Dns { query_type, name } => match k {
                        "type" => *query_type = n.arg(1).map(str::to_string),
                        "name" => *name = n.arg(1).map(str::to_string),
                        _ => {}
                    },
                    CheckerKind::Smtp { helo_name } if k == "helo_name" => {
                        *helo_name = n.arg(1).map(str::to_string);
                    }
                    _ => {}
                },
            }
        }
        if let CheckerKind::Http { urls, .. } = &kind {
            if urls.is_empty() {
                self.general(
                    node.span,
                    "An HTTP/SSL_GET checker has no url(s) specified - ignoring",
                );
                return None;
            }
        }
        if let CheckerKind::Misc { script: None, .. } = &kind {
            self.general(node.span, "No misc_path set for MISC_CHECK - ignoring");
            return None;
        }
        Some(Checker {
            kind,
            common,
            span: node.span,
        })
    }
}

/// Keywords whose keepalived handler needs a first parameter (missing: exit 2).
const REQUIRED_ARG: &[&str] = &[
    "advert_int",
    "auth_pass",
    "auth_type",
    "bind_if",
    "bind_port",
    "bindto",
    "connect_ip",
    "connect_port",
    "connect_timeout",
    "debug",
    "delay_before_retry",
    "delay_loop",
    "digest",
    "down_timer_adverts",
    "fall",
    "fwmark",
    "garp_lower_prio_delay",
    "garp_lower_prio_repeat",
    "garp_master_delay",
    "garp_master_refresh",
    "garp_master_refresh_repeat",
    "garp_master_repeat",
    "hysteresis",
    "interface",
    "interval",
    "lb_algo",
    "lvs_sched",
    "lthreshold",
    "uthreshold",
    "mcast_dst_ip",
    "mcast_src_ip",
    "misc_timeout",
    "nb_get_retry",
    "path",
    "persistence_engine",
    "persistence_granularity",
    "preempt_delay",
    "protocol",
    "quorum",
    "real_server",
    "retry",
    "rise",
    "smtp_connect_timeout",
    "sorry_server",
    "state",
    "timeout",
    "unicast_ttl",
    "version",
    "virtual_router_id",
    "warmup",
    "weight",
    "vrrp_garp_interval",
    "vrrp_garp_lower_prio_delay",
    "vrrp_garp_lower_prio_repeat",
    "vrrp_garp_master_delay",
    "vrrp_garp_master_refresh",
    "vrrp_garp_master_refresh_repeat",
    "vrrp_garp_master_repeat",
    "vrrp_gna_interval",
    "vrrp_mcast_group4",
    "vrrp_mcast_group6",
    "vrrp_startup_delay",
    "vrrp_version",
];

/// The first node, in reading order, of a keyword that needs a parameter and has none.
fn first_missing_required(nodes: &[Node]) -> Option<&Node> {
    for n in nodes {
        if n.words.len() == 1 && n.context != "root" && REQUIRED_ARG.contains(&n.keyword()) {
            return Some(n);
        }
        if let Some(c) = first_missing_required(&n.children) {
            return Some(c);
        }
    }
    None
}

/// keepalived's check_true_false().
pub fn check_true_false(s: &str) -> Option<bool> {
    match s {
        "true" | "on" | "yes" => Some(true),
        "false" | "off" | "no" => Some(false),
        _ => None,
    }
}

/// strtoul(s, 0) over the whole string.
pub fn parse_strtoul(s: &str) -> Option<u64> {
    let s = s.strip_prefix('+').unwrap_or(s);
    if s.is_empty() {
        return None;
    }
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u64::from_str_radix(h, 16).ok();
    }
    if s.len() > 1 && s.starts_with('0') {
        return u64::from_str_radix(&s[1..], 8).ok();
    }
    if !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().or(Some(u64::MAX))
}

/// strtol(s, 0) over the whole string.
pub fn parse_strtol(s: &str) -> Option<i64> {
    let (neg, b) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let v = parse_strtoul(b)?;
    let v = i64::try_from(v).unwrap_or(i64::MAX);
    Some(if neg { -v } else { v })
}

/// Splits a script command line into words like keepalived (quotes group, `\` escapes).
pub fn split_script(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = cmd.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    in_word = true;
                }
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

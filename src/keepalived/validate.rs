//! Whole-configuration checks keepalived makes after reading (vrrp_complete_init,
//! validate_check_config, script security), worded like keepalived.

use crate::keepalived::ir::*;
use crate::keepalived::report::{ErrorClass, Finding, Phase};
use crate::keepalived::system::{ScriptFile, System};

struct V<'a> {
    out: Vec<Finding>,
    sys: &'a dyn System,
    phase: Phase,
}

impl V<'_> {
    fn at(&mut self, class: ErrorClass, span: crate::diag::Span, msg: String) {
        self.out.push(
            Finding::new(class, Some(span), msg)
                .in_phase(self.phase)
                .unlocated(),
        );
    }
    fn general(&mut self, span: crate::diag::Span, msg: String) {
        self.at(ErrorClass::General, span, msg);
    }
}

/// How the default script user resolves (keepalived's get_default_script_user).
#[derive(Clone, Copy, PartialEq, Eq)]
enum DefaultUser {
    Ok,
    Failed,
}

/// Runs every check; returns keepalived's findings.
pub fn validate(cfg: &KeepalivedConfig, sys: &dyn System, missing_interface: bool) -> Vec<Finding> {
    let mut v = V {
        out: Vec::new(),
        sys,
        phase: Phase::Checker,
    };
    let g = &cfg.global_defs;
    let script_user_failed = g.other.iter().any(|l| {
        l.words
            .first()
            .map(|w| w == "#script_user_failed")
            .unwrap_or(false)
    });

    // Default script user: the configured one, else keepalived_script (needed only with
    // script security; otherwise root is used).
    let default_user = if script_user_failed {
        DefaultUser::Failed
    } else if g.script_user.is_some() {
        DefaultUser::Ok
    } else if g.enable_script_security && !sys.user_exists("keepalived_script") {
        DefaultUser::Failed
    } else {
        DefaultUser::Ok
    };
    // keepalived resolves the default user at the first script it reads without a user: in
    // the checker process if it has scripts, else in the VRRP process.
    let checker_scripts: Vec<&Script> = cfg
        .virtual_servers
        .iter()
        .flat_map(|vs| {
            let rs_scripts = vs.real_servers.iter().flat_map(|rs| {
                let misc = rs.checkers.iter().filter_map(|c| match &c.kind {
                    CheckerKind::Misc {
                        script: Some(s),
                        user: None,
                        ..
                    } => Some(s),
                    _ => None,
                });
                [&rs.notify_up, &rs.notify_down]
                    .into_iter()
                    .flatten()
                    .chain(misc)
            });
            [&vs.quorum_up, &vs.quorum_down]
                .into_iter()
                .flatten()
                .chain(rs_scripts)
        })
        .filter(|s| s.user.is_none())
        .collect();
    let vrrp_scripts: Vec<&Script> = all_scripts(cfg)
        .into_iter()
        .chain(
            cfg.vrrp_scripts
                .iter()
                .filter(|s| s.user.is_none())
                .filter_map(|s| s.script.as_ref()),
        )
        .filter(|s| s.user.is_none())
        .collect();
    let first = |list: &[&Script]| {
        list.iter()
            .map(|s| s.span)
            .min_by_key(|sp| (sp.file, sp.line))
    };
    let (first_script, phase) = match first(&checker_scripts) {
        Some(sp) => (Some(sp), Phase::Checker),
        None => (first(&vrrp_scripts), Phase::Vrrp),
    };
    if g.script_user.is_none() && g.enable_script_security && default_user == DefaultUser::Failed {
        if let Some(span) = first_script {
            v.out.push(
                Finding::new(
                    ErrorClass::General,
                    Some(span),
                    "Unable to set default user keepalived_script for script",
                )
                .in_phase(phase),
            );
        }
    }

    check_checker(&mut v, cfg, default_user);
    v.phase = Phase::Vrrp;
    check_rules(&mut v, cfg);
    if missing_interface {
        // keepalived's VRRP process stops here (CONFIG_BAD_IF) without its later checks.
        v.out.push(
            Finding::new(
                ErrorClass::BadInterface,
                None,
                "Non-existent interface specified in configuration",
            )
            .child(),
        );
    } else {
        check_vrrp(&mut v, cfg, default_user);
    }
    v.out
}

/// Every notify-like script of the VRRP side (not vrrp_script), with its owner for messages.
fn all_scripts(cfg: &KeepalivedConfig) -> Vec<&Script> {
    let mut s: Vec<&Script> = Vec::new();
    for i in &cfg.instances {
        for x in [
            &i.notify_master,
            &i.notify_backup,
            &i.notify_fault,
            &i.notify_stop,
            &i.notify_deleted,
            &i.notify,
            &i.notify_master_rx_lower_pri,
        ]
        .into_iter()
        .flatten()
        {
            s.push(x);
        }
    }
    for g in &cfg.sync_groups {
        for x in [
            &g.notify_master,
            &g.notify_backup,
            &g.notify_fault,
            &g.notify_stop,
            &g.notify,
        ]
        .into_iter()
        .flatten()
        {
            s.push(x);
        }
    }
    s
}

/// keepalived's script checks: (is a script that would run, was found).
fn script_flags(sys: &dyn System, s: &Script, default_user: DefaultUser) -> (bool, bool) {
    // A script without its own user runs as the default user; if that failed it is dropped.
    let user_ok = match &s.user {
        Some(u) => {
            sys.user_exists(u)
                && s.group
                    .as_deref()
                    .map(|g| sys.group_exists(g))
                    .unwrap_or(true)
        }
        None => default_user == DefaultUser::Ok,
    };
    if !user_ok {
        return (false, true);
    }
    match sys.resolve_script(s.program()) {
        ScriptFile::NotExecuted => (false, true),
        ScriptFile::NotFound => (false, false),
        ScriptFile::Executable(_) | ScriptFile::NotExecutable(_) => (true, true),
    }
}

fn check_checker(v: &mut V, cfg: &KeepalivedConfig, default_user: DefaultUser) {
    if cfg.virtual_servers.is_empty() {
        return;
    }
    let g = &cfg.global_defs;
    let mut is_script = false;
    for vs in &cfg.virtual_servers {
        let name = vs_name(vs);
        // Scheduler / protocol defaults.
        if vs.protocol.is_none() {
            if !matches!(vs.address, VirtualServerAddress::Fwmark(_)) {
                v.general(
                    vs.span,
                    format!("Virtual server {name}: no protocol set - defaulting to UDP"),
                );
            }
        } else if matches!(vs.address, VirtualServerAddress::Fwmark(_)) {
            v.general(vs.span, format!("Warning: Virtual server {name}: protocol specified for fwmark - protocol will be ignored"));
        } else if let VirtualServerAddress::Group(gname) = &vs.address {
            let fwmark_only = cfg
                .virtual_server_groups
                .iter()
                .find(|g| &g.name == gname)
                .map(|g| {
                    !g.members.is_empty()
                        && g.members
                            .iter()
                            .all(|m| matches!(m, VirtualServerGroupMember::Fwmark { .. }))
                })
                .unwrap_or(false);
            if fwmark_only {
                v.general(vs.span, format!("Warning: Virtual server [{gname}]:0: protocol specified for fwmark - protocol will be ignored"));
            }
        }
        if let Some((saddr, sport)) = vs.sorry_server {
            for rs in &vs.real_servers {
                let inhibit = rs.inhibit_on_failure.unwrap_or(vs.inhibit_on_failure);
                if rs.addr == saddr && rs.port == sport && inhibit != vs.sorry_server_inhibit {
                    v.general(
                        vs.span,
                        format!(
                            "Virtual server {name}: real server {} matches sorry server, but inhibit setting differs, setting on sorry server",
                            rs_name(rs, vs)
                        ),
                    );
                }
            }
        }
        if vs.lb_algo.is_none() {
            v.general(
                vs.span,
                format!("Virtual server {name}: no scheduler set, setting default 'wlc'"),
            );
        }
        if vs.real_servers.is_empty() {
            v.general(
                vs.span,
                format!("Virtual server {name} has no real servers - ignoring"),
            );
        }
        if let VirtualServerAddress::Ip { port, .. } = vs.address {
            for rs in &vs.real_servers {
                let rport = rs.port.unwrap_or(0);
                if port != 0
                    && rport != port
                    && vs.lb_kind != Some(LbKind::Nat)
                    && vs.lb_kind.is_some()
                {
                    v.general(rs.span, format!("WARNING - virtual server {name} and real server {} ports don't match - resetting", rs_name(rs, vs)));
                }
            }
        }
        let total: i64 = vs.real_servers.iter().map(|r| r.weight as i64).sum();
        if !vs.real_servers.is_empty() && vs.quorum as i64 > total {
            v.general(
                vs.span,
                format!("Warning - quorum {} for {name} exceeds total weight of real servers {total}, reducing quorum to {total}", vs.quorum),
            );
        }
        for s in [&vs.quorum_up, &vs.quorum_down].into_iter().flatten() {
            is_script |= script_flags(v.sys, s, default_user).0;
        }
        for rs in &vs.real_servers {
            for s in [&rs.notify_up, &rs.notify_down].into_iter().flatten() {
                is_script |= script_flags(v.sys, s, default_user).0;
            }
            for c in &rs.checkers {
                if let CheckerKind::Misc {
                    script: Some(s),
                    user,
                    ..
                } = &c.kind
                {
                    let mut s = s.clone();
                    if let Some((u, grp)) = user {
                        s.user = Some(u.clone());
                        s.group = grp.clone();
                    } else if default_user == DefaultUser::Failed {
                        v.general(
                            c.span,
                            format!(
                                "Unable to set default user for misc script {} - removing",
                                s.cmdline
                            ),
                        );
                        continue;
                    }
                    is_script |= script_flags(v.sys, &s, default_user).0;
                }
            }
        }
    }
    for s in [&g.notify_fifo, &g.lvs_notify_fifo].into_iter().flatten() {
        is_script |= script_flags(v.sys, s, default_user).0;
    }
    if !g.enable_script_security && is_script {
        v.out.push(
            Finding::new(ErrorClass::Security, None, "SECURITY VIOLATION - check scripts are being executed but script_security not enabled.")
                .in_phase(Phase::Checker),
        );
    }
}

fn vs_name(vs: &VirtualServer) -> String {
    let proto = match vs.protocol {
        Some(Protocol::Tcp) => "tcp",
        Some(Protocol::Udp) => "udp",
        Some(Protocol::Sctp) => "sctp",
        None => "none",
    };
    match &vs.address {
        VirtualServerAddress::Ip { addr, port } => format!("[{addr}]:{proto}:{port}"),
        VirtualServerAddress::Fwmark(m) => format!("FWM {m}"),
        VirtualServerAddress::Group(g) => format!("[{g}]:0"),
    }
}

fn rs_name(rs: &RealServer, vs: &VirtualServer) -> String {
    let proto = match vs.protocol {
        Some(Protocol::Tcp) => "tcp",
        Some(Protocol::Udp) => "udp",
        Some(Protocol::Sctp) => "sctp",
        None => "none",
    };
    format!("[{}]:{proto}:{}", rs.addr, rs.port.unwrap_or(0))
}

fn check_vrrp(v: &mut V, cfg: &KeepalivedConfig, default_user: DefaultUser) {
    let g = &cfg.global_defs;
    if cfg.instances.is_empty() {
        return;
    }
    // Script security first (keepalived's check_vrrp_script_security).
    let mut is_script = false;
    for s in &cfg.vrrp_scripts {
        let Some(script) = &s.script else { continue };
        let mut script = script.clone();
        if let Some((u, grp)) = &s.user {
            script.user = Some(u.clone());
            script.group = grp.clone();
        } else if default_user == DefaultUser::Failed {
            v.general(
                s.span,
                format!(
                    "Unable to set default user for vrrp script {} - removing",
                    s.name
                ),
            );
            continue;
        }
        let (isscript, found) = script_flags(v.sys, &script, default_user);
        if !found {
            v.general(
                s.span,
                format!(
                    "Disabling track script {} since not found/accessible",
                    s.name
                ),
            );
        }
        is_script |= isscript;
    }
    for s in all_scripts(cfg) {
        is_script |= script_flags(v.sys, s, default_user).0;
    }
    for s in [&g.notify_fifo, &g.vrrp_notify_fifo].into_iter().flatten() {
        is_script |= script_flags(v.sys, s, default_user).0;
    }
    if !g.enable_script_security && is_script {
        v.out.push(
            Finding::new(
                ErrorClass::Security,
                None,
                "SECURITY VIOLATION - scripts are being executed but script_security not enabled.",
            )
            .child(),
        );
    }

    // Sync groups (keepalived sets them up before completing the instances).
    for sg in &cfg.sync_groups {
        let mut members = 0;
        for m in &sg.group {
            if cfg.instance(m).is_none() {
                v.general(
                    sg.span,
                    format!(
                        "Virtual router {m} specified in sync group {} doesn't exist - ignoring",
                        sg.name
                    ),
                );
            } else {
                members += 1;
            }
        }
        if members == 0 {
            v.general(
                sg.span,
                format!("Sync group {} has no virtual router(s) - removing", sg.name),
            );
        } else if members == 1 {
            v.general(sg.span, format!("Sync group {} has only 1 virtual router(s) - this probably isn't what you want", sg.name));
        }
    }
    // Per instance (keepalived stops at the first instance that cannot be completed).
    for i in &cfg.instances {
        let name = &i.name;
        if i.virtual_router_id.is_none() {
            v.general(
                i.span,
                format!("({name}) the virtual router id must be set"),
            );
            return;
        }
        let unicast_configured =
            i.unicast_src_ip.is_some() || i.unicast_peer_configured || i.unicast_ttl.is_some();
        let unicast = !i.unicast_peer.is_empty();
        let have_if = i
            .interface
            .as_deref()
            .map(|n| v.sys.interface_exists(n) && !v.sys.is_loopback(n))
            .unwrap_or(false)
            || (i.interface.is_none()
                && g.default_interface
                    .as_deref()
                    .map(|n| v.sys.interface_exists(n))
                    .unwrap_or(false))
            || (i.interface.is_some() && g.dynamic_interfaces);
        if !have_if && !unicast {
            v.general(i.span, format!("({name}) Unknown interface!"));
            return;
        }
        let version = i.effective_version(g);
        let v6 = i.is_ipv6();
        if v6 && version == 2 && i.version == Some(2) {
            v.general(
                i.span,
                format!("({name}) cannot use IPv6 with VRRP version 2; setting version 3"),
            );
        }
        let strict = i.strict_mode.unwrap_or(g.vrrp_strict);
        if strict && (i.state == InitialState::Master) != (i.priority == 255) {
            v.general(
                i.span,
                format!("({name}) State MASTER must match being address owner"),
            );
        }
        if let Some(a) = &i.authentication {
            if strict {
                v.general(
                    a.span,
                    format!("({name}) Strict mode does not support authentication. Ignoring."),
                );
            } else if version == 3 {
                v.general(
                    a.span,
                    format!("({name}) VRRP version 3 does not support authentication. Ignoring."),
                );
            } else if a.auth_type.is_some() && a.auth_pass.is_empty() {
                v.general(
                    a.span,
                    format!("({name}) Authentication specified but no password given. Ignoring"),
                );
            } else if a.auth_type == Some(AuthType::Ah) && v6 {
                v.general(
                    a.span,
                    format!("({name}) Cannot use AH authentication with IPv6. ignoring"),
                );
            } else if a.auth_type == Some(AuthType::Ah)
                && i.state == InitialState::Master
                && i.priority != 255
            {
                v.general(a.span, format!("({name}) Initial state master is incompatible with AH authentication - clearing"));
            }
        }
        if unicast_configured && i.unicast_peer.is_empty() && !i.unicast_fault_no_peer {
            v.at(
                ErrorClass::Deprecated,
                i.span,
                format!("({name}) A unicast keyword has been specified without any unicast peers. Defaulting to multicast. This usage is deprecated - please update your configuration."),
            );
        }
        if unicast && strict {
            v.general(
                i.span,
                format!("({name}) Unicast peers are not supported in strict mode"),
            );
        }
        if i.nopreempt && i.priority == 255 {
            v.general(
                i.span,
                format!("({name}) nopreempt is incompatible with priority 255."),
            );
        }
        // Advertisement interval units.
        let us = (i.advert_int * 1e6).round() as u64;
        if version == 2 && us % 1_000_000 != 0 && us < 256_000_000 {
            v.general(
                i.span,
                format!(
                    "({name}) VRRPv2 advertisement interval {:.6}s must be an integer. rounding",
                    i.advert_int
                ),
            );
        } else if version == 3 && us % 10_000 != 0 {
            v.general(i.span, format!("({name}) VRRPv3 advertisement interval {:.6}s must be in units of 10ms - rounding", i.advert_int));
        }
        if strict {
            // keepalived's strict-mode resets (vrrp_complete_instance), in its order.
            let resets = [
                (
                    i.preempt_delay.map(|d| !d.is_zero()).unwrap_or(false) && i.priority != 255,
                    "preempt_delay is incompatible with strict mode - resetting",
                ),
                (
                    i.down_timer_adverts.map(|n| n != 3).unwrap_or(false),
                    "down_timer_adverts is incompatible with strict mode - resetting",
                ),
                (
                    i.garp_lower_prio_repeat.map(|n| n != 0).unwrap_or(false),
                    "Strict mode requires no repeat garps. resetting",
                ),
                (
                    i.garp_lower_prio_delay
                        .map(|d| !d.is_zero())
                        .unwrap_or(false),
                    "Strict mode requires no repeat garp delay. resetting",
                ),
                (
                    i.lower_prio_no_advert == Some(false),
                    "Strict mode requires no lower priority advert. resetting",
                ),
                (
                    i.higher_prio_send_advert == Some(true),
                    "strict mode requires higher_prio_send_advert to be clear. resetting",
                ),
            ];
            for (hit, msg) in resets {
                if hit {
                    v.general(i.span, format!("({name}) {msg}"));
                }
            }
        }
        if i.promote_secondaries && (i.use_vmac.is_some() || i.use_ipvlan.is_some()) {
            v.general(
                i.span,
                format!("({name}) promote_secondaries is automatically set for vmacs - ignoring"),
            );
        }
        if i.vmac_xmit_base && i.use_vmac.is_none() {
            v.general(
                i.span,
                format!("({name}) vmac_xmit_base is only valid with a vmac - ignoring"),
            );
        }
        if let Some(ifn) = &i.interface {
            for t in &i.track_interface {
                if &t.name == ifn {
                    v.general(
                        t.span,
                        format!("({name}) Ignoring track_interface {ifn} since own interface"),
                    );
                }
            }
        }
        if i.virtual_ipaddress.is_empty() {
            if version == 3 || v6 || strict {
                v.general(
                    i.span,
                    format!("({name}) No VIP specified; at least one is required"),
                );
                return;
            }
            v.at(
                ErrorClass::Warning,
                i.span,
                format!("({name}) No VIP specified; at least one is sensible"),
            );
        }
        // No floating priorities in a sync group (unless sync_group_tracking_weight) or for
        // the address owner (keepalived's vrrp_complete_instance).
        let in_group = cfg
            .sync_group_of(name)
            .map(|g| !(g.sync_group_tracking_weight || g.global_tracking))
            .unwrap_or(false);
        if in_group || i.priority == 255 {
            let why = |owner_word: &'static str| if in_group { "SYNC group" } else { owner_word };
            for t in &i.track_interface {
                if t.weight.unwrap_or(0) != 0 {
                    v.general(
                        i.span,
                        format!(
                            "({name}) ignoring {} tracked interface {}due to {}",
                            t.name,
                            if in_group { "weight " } else { "" },
                            why("address owner")
                        ),
                    );
                }
            }
            for t in &i.track_script {
                let w = t
                    .weight
                    .or_else(|| cfg.vrrp_script(&t.name).map(|s| s.weight))
                    .unwrap_or(0);
                if w != 0 {
                    v.general(
                        i.span,
                        format!(
                            "({name}) ignoring tracked script {} with weights due to {}",
                            t.name,
                            why("address_owner")
                        ),
                    );
                }
            }
            for t in &i.track_file {
                let Some(f) = cfg.vrrp_track_file(&t.name) else {
                    continue;
                };
                let w = t.weight.unwrap_or(f.weight);
                if w == 1 {
                    v.general(
                        i.span,
                        format!(
                            "({name}) ignoring weight from tracked file {} due to {}. specify weight 0",
                            t.name,
                            why("address_owner")
                        ),
                    );
                } else if w != 0 {
                    v.general(
                        i.span,
                        format!(
                            "({name}) ignoring tracked file {} with weight {w} due to {}",
                            t.name,
                            why("address_owner")
                        ),
                    );
                }
            }
        }
        // Address family mix.
        if let Some(first) = i.virtual_ipaddress.first() {
            let fam6 = first.addr.addr().is_ipv6();
            for vip in &i.virtual_ipaddress[1..] {
                if vip.addr.addr().is_ipv6() != fam6 {
                    v.general(
                        vip.span,
                        format!(
                            "({name}): address family must match VRRP instance [{}] - ignoring",
                            vip.addr
                        ),
                    );
                }
            }
        }
        for ts in &i.track_script {
            if cfg.vrrp_script(&ts.name).is_none() {
                v.general(
                    ts.span,
                    format!("({name}) track script {} not found, ignoring...", ts.name),
                );
            }
        }
        for tf in &i.track_file {
            if cfg.vrrp_track_file(&tf.name).is_none() {
                v.general(
                    tf.span,
                    format!("({name}) track file {} not found, ignoring...", tf.name),
                );
            }
        }
    }
    // Duplicate VRIDs on one interface and family.
    for (a, ia) in cfg.instances.iter().enumerate() {
        for ib in &cfg.instances[a + 1..] {
            if ia.virtual_router_id == ib.virtual_router_id
                && ia.interface == ib.interface
                && ia.is_ipv6() == ib.is_ipv6()
                && ia.unicast_peer.is_empty()
                && ib.unicast_peer.is_empty()
            {
                v.general(
                    ib.span,
                    format!(
                        "{} and {} both use VRID {} on interface {}",
                        ia.name,
                        ib.name,
                        ia.virtual_router_id.unwrap_or(0),
                        ia.interface.clone().unwrap_or_default()
                    ),
                );
            }
        }
    }
    // Unused vrrp_scripts.
    for s in &cfg.vrrp_scripts {
        let used = cfg
            .instances
            .iter()
            .any(|i| i.track_script.iter().any(|t| t.name == s.name))
            || cfg
                .sync_groups
                .iter()
                .any(|g| g.track_script.iter().any(|t| t.name == s.name));
        if !used {
            v.general(s.span, format!("Warning - script {} is not used", s.name));
        }
    }
}

/// ip rules without a preference get one counted down from 16384 (per family), with a warning.
fn check_rules(v: &mut V, cfg: &KeepalivedConfig) {
    let mut next4 = 16384u32;
    let mut next6 = 16384u32;
    let rules = cfg
        .static_rules
        .iter()
        .chain(cfg.instances.iter().flat_map(|i| i.virtual_rules.iter()));
    for r in rules {
        let has_pref = r.words.iter().any(|w| {
            matches!(
                w.as_str(),
                "preference" | "priority" | "order" | "pref" | "prio"
            )
        });
        if has_pref {
            continue;
        }
        let v6 = r.words.iter().any(|w| w == "inet6" || w.contains(':'));
        let n = if v6 { &mut next6 } else { &mut next4 };
        v.out.push(
            Finding::new(
                ErrorClass::General,
                Some(r.span),
                format!("Rule has no preference specified - setting to {n}. This is probably not what you want."),
            )
            .child(),
        );
        *n = n.saturating_sub(1);
    }
}

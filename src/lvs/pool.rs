//! keepalived's `ipwrapper` logic: which real servers a virtual service holds.
//!
//! Checkers report state changes ([`CheckEvent`]); a real server is alive while none of its
//! checkers fails. Alive servers are in the service (or, with `inhibit_on_failure`, dead ones
//! stay with weight 0). The service has quorum while the weights of alive servers add up to
//! `quorum` (± `hysteresis`); without quorum the `sorry_server` replaces the pool, and the
//! `quorum_up` / `quorum_down` scripts run. Log lines use keepalived's wording.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::check::{self, CheckerSpec};
use super::{fmt_trio, listen_addrs, vs_name, DestSpec, LvsBackend, ServiceId, ServiceSpec};
use crate::keepalived::ir::{KeepalivedConfig, LbAlgo, Protocol, Script, VirtualServerAddress};
use crate::vrrp::log;

/// What a checker reports to the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckEvent {
    /// Checker `checker` of real server `rs` in service `vs` is now up / down.
    State {
        vs: usize,
        rs: usize,
        checker: usize,
        up: bool,
    },
    /// MISC_CHECK with misc_dynamic: new weight (None = back to the configured weight).
    Weight {
        vs: usize,
        rs: usize,
        weight: Option<i32>,
    },
}

/// A real server's runtime state.
#[derive(Debug, Clone)]
pub struct RealServerState {
    pub addr: SocketAddr,
    pub name: String,
    /// Configured weight.
    pub iweight: i32,
    /// Current weight (misc_dynamic may change it).
    pub weight: i32,
    pub alive: bool,
    /// In the backend's service (with inhibit: possibly at weight 0).
    pub set: bool,
    pub inhibit: bool,
    pub uthreshold: u32,
    pub checkers_up: Vec<bool>,
    pub notify_up: Option<Script>,
    pub notify_down: Option<Script>,
}

impl RealServerState {
    fn failed(&self) -> usize {
        self.checkers_up.iter().filter(|u| !**u).count()
    }
}

/// A virtual service's runtime state.
#[derive(Debug, Clone)]
pub struct Pool {
    pub spec: ServiceSpec,
    pub quorum: u32,
    pub hysteresis: u32,
    pub quorum_up_script: Option<Script>,
    pub quorum_down_script: Option<Script>,
    pub quorum_state_up: bool,
    /// `omega`: run notify_down / quorum_down scripts when stopping.
    pub omega: bool,
    pub sorry: Option<RealServerState>,
    pub rs: Vec<RealServerState>,
    pub checkers: Vec<CheckerSpec>,
}

/// Lowers the configuration's virtual servers (fwmark ones excepted) to pools.
pub fn build(cfg: &KeepalivedConfig) -> Vec<Pool> {
    let mut pools = Vec::new();
    for vs in cfg.virtual_servers.iter() {
        if matches!(vs.address, VirtualServerAddress::Fwmark(_)) {
            continue;
        }
        let id: ServiceId = pools.len();
        let protocol = vs.protocol.unwrap_or(Protocol::Udp);
        let vport = match vs.address {
            VirtualServerAddress::Ip { port, .. } => port,
            _ => 0,
        };
        let name = vs_name(vs);
        let listen = listen_addrs(cfg, vs);
        let spec = ServiceSpec {
            id,
            name: name.clone(),
            listen: listen.clone(),
            protocol,
            algo: vs.lb_algo.unwrap_or(LbAlgo::Wlc),
            persistence: vs
                .persistence_timeout
                .filter(|t| *t > 0)
                .map(|t| (Duration::from_secs(t as u64), vs.persistence_granularity)),
            connect_timeout: vs.connect_timeout.unwrap_or(Duration::from_secs(5)),
        };
        let vs_inhibit = vs.inhibit_on_failure;
        let mut rss = Vec::new();
        let mut checkers = Vec::new();
        for (ri, rs) in vs.real_servers.iter().enumerate() {
            // keepalived resets a DR real server's port to the service's ("ports don't match").
            let dr = rs.lb_kind.or(vs.lb_kind) == Some(crate::keepalived::ir::LbKind::Dr);
            let port = if dr && vport != 0 {
                vport
            } else {
                rs.port.unwrap_or(vport)
            };
            let addr = SocketAddr::new(rs.addr, port);
            let mut checkers_up = Vec::new();
            for c in &rs.checkers {
                if let Some(spec) = check::spec_for(vs, rs, c, addr, &name, protocol) {
                    let up = !spec.alpha;
                    checkers_up.push(up);
                    let ha_suspend = if vs.ha_suspend {
                        spec_listen_ips(&listen)
                    } else {
                        Vec::new()
                    };
                    checkers.push(CheckerSpec {
                        vs: id,
                        rs: ri,
                        index: checkers_up.len() - 1,
                        ha_suspend,
                        ..spec
                    });
                }
            }
            let failed = checkers_up.iter().any(|u| !u);
            rss.push(RealServerState {
                addr,
                name: fmt_trio(addr, protocol),
                iweight: rs.weight,
                weight: rs.weight,
                alive: !failed,
                set: false,
                inhibit: rs.inhibit_on_failure.unwrap_or(vs_inhibit),
                uthreshold: rs.uthreshold.unwrap_or(0),
                checkers_up,
                notify_up: rs.notify_up.clone(),
                notify_down: rs.notify_down.clone(),
            });
        }
        let sorry = vs.sorry_server.map(|(ip, port)| {
            let dr = vs.lb_kind == Some(crate::keepalived::ir::LbKind::Dr);
            let port = if dr && vport != 0 {
                vport
            } else {
                port.unwrap_or(vport)
            };
            let addr = SocketAddr::new(ip, port);
            RealServerState {
                addr,
                name: fmt_trio(addr, protocol),
                iweight: 1,
                weight: 1,
                alive: false,
                set: false,
                inhibit: vs.sorry_server_inhibit,
                uthreshold: 0,
                checkers_up: Vec::new(),
                notify_up: None,
                notify_down: None,
            }
        });
        pools.push(Pool {
            spec,
            quorum: vs.quorum,
            hysteresis: vs.hysteresis,
            quorum_up_script: vs.quorum_up.clone(),
            quorum_down_script: vs.quorum_down.clone(),
            quorum_state_up: true,
            omega: vs.omega,
            sorry,
            rs: rss,
            checkers,
        });
    }
    pools
}

fn spec_listen_ips(listen: &[SocketAddr]) -> Vec<IpAddr> {
    let mut v: Vec<IpAddr> = listen.iter().map(|a| a.ip()).collect();
    v.dedup();
    v
}

/// Runs a notify / quorum script (not waited for; tokio reaps it).
pub fn run_script(script: &Script) {
    let Some((prog, args)) = script.args.split_first() else {
        return;
    };
    let mut cmd = tokio::process::Command::new(prog);
    cmd.args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(false);
    match cmd.spawn() {
        Ok(mut child) => {
            tokio::spawn(async move {
                let _ = child.wait().await;
            });
        }
        Err(e) => log::info(&format!("Failed to exec {}: {e}", script.cmdline)),
    }
}

impl Pool {
    fn dest(rs: &RealServerState, weight: i32) -> DestSpec {
        DestSpec {
            addr: rs.addr,
            weight,
            uthreshold: rs.uthreshold,
        }
    }

    /// keepalived's `ipvs_cmd(LVS_CMD_ADD_DEST)`: an inhibited server already in the service
    /// gets its weight back instead.
    fn add_dest(id: ServiceId, be: &dyn LvsBackend, rs: &mut RealServerState) {
        let w = if rs.failed() > 0 { 0 } else { rs.weight };
        if rs.set {
            be.edit_dest(id, Self::dest(rs, w));
        } else {
            be.add_dest(id, Self::dest(rs, w));
        }
        rs.set = true;
    }

    /// `ipvs_cmd(LVS_CMD_DEL_DEST)`: an inhibited server stays with weight 0.
    fn del_dest(id: ServiceId, be: &dyn LvsBackend, rs: &mut RealServerState) {
        if !rs.set {
            return;
        }
        if rs.inhibit {
            be.edit_dest(id, Self::dest(rs, 0));
        } else {
            be.del_dest(id, rs.addr);
            rs.set = false;
        }
    }

    fn live_weight(&self) -> i64 {
        self.rs
            .iter()
            .filter(|r| r.alive)
            .map(|r| r.weight.max(0) as i64)
            .sum()
    }

    /// Creates the service and its initial destinations (`init_service_vs`).
    pub fn init(&mut self, be: &dyn LvsBackend) {
        if let Err(e) = be.add_service(&self.spec) {
            log::info(&format!("{e}"));
        }
        let id = self.spec.id;
        self.quorum_state_up = self.live_weight() >= self.quorum as i64 + self.hysteresis as i64;
        for rs in &mut self.rs {
            if rs.alive {
                rs.alive = false;
                Self::add_dest(id, be, rs);
                rs.alive = true;
            } else if rs.inhibit {
                // present but disabled until its checkers succeed
                be.add_dest(id, Self::dest(rs, 0));
                rs.set = true;
            }
        }
        self.update_quorum_state(be, true);
        if let Some(s) = &mut self.sorry {
            if s.inhibit && !s.set {
                be.add_dest(id, Self::dest(s, 0));
                s.set = true;
            }
        }
    }

    /// Adds or removes every alive real server (`perform_quorum_state`).
    fn perform_quorum_state(&mut self, be: &dyn LvsBackend, add: bool) {
        log::info(&format!(
            "{} the pool for VS {}",
            if add {
                "Adding alive servers to"
            } else {
                "Removing alive servers from"
            },
            self.spec.name
        ));
        let id = self.spec.id;
        for rs in self.rs.iter_mut().filter(|r| r.alive) {
            if add {
                Self::add_dest(id, be, rs);
            } else {
                Self::del_dest(id, be, rs);
            }
        }
    }

    /// Gains or loses quorum, swapping the sorry server in or out (`update_quorum_state`).
    pub fn update_quorum_state(&mut self, be: &dyn LvsBackend, init: bool) {
        let weight_sum = self.live_weight();
        let threshold = if self.quorum_state_up {
            self.quorum as i64 - self.hysteresis as i64
        } else {
            self.quorum as i64 + self.hysteresis as i64
        };
        let id = self.spec.id;
        if !self.quorum_state_up && weight_sum >= threshold {
            self.quorum_state_up = true;
            log::info(&format!(
                "Gained quorum {}+{}={} <= {} for VS {}",
                self.quorum, self.hysteresis, threshold, weight_sum, self.spec.name
            ));
            let sorry_alive = self.sorry.as_ref().map(|s| s.alive).unwrap_or(false);
            if sorry_alive {
                if let Some(s) = &mut self.sorry {
                    log::info(&format!(
                        "{} sorry server {} from VS {}",
                        if s.inhibit { "Disabling" } else { "Removing" },
                        s.name,
                        self.spec.name
                    ));
                    Self::del_dest(id, be, s);
                    s.alive = false;
                }
                self.perform_quorum_state(be, true);
            }
            if let Some(s) = &self.quorum_up_script {
                run_script(s);
            }
        } else if (self.quorum_state_up && (weight_sum == 0 || weight_sum < threshold))
            || (init
                && !self.quorum_state_up
                && self.sorry.as_ref().map(|s| !s.alive).unwrap_or(false))
        {
            self.quorum_state_up = false;
            log::info(&format!(
                "{} {}-{}={} > {} for VS {}",
                if init {
                    "Starting with quorum down"
                } else {
                    "Lost quorum"
                },
                self.quorum,
                self.hysteresis,
                threshold,
                weight_sum,
                self.spec.name
            ));
            let sorry_dead = self.sorry.as_ref().map(|s| !s.alive).unwrap_or(false);
            if sorry_dead {
                if let Some(s) = &self.sorry {
                    log::info(&format!(
                        "{} sorry server {} to VS {}",
                        if s.inhibit { "Enabling" } else { "Adding" },
                        s.name,
                        self.spec.name
                    ));
                }
                self.perform_quorum_state(be, false);
                if let Some(s) = &mut self.sorry {
                    Self::add_dest(id, be, s);
                    s.alive = true;
                }
            }
            if let Some(s) = &self.quorum_down_script {
                run_script(s);
            }
        }
    }

    /// A real server went up or down (`perform_svr_state`).
    fn perform_svr_state(&mut self, be: &dyn LvsBackend, ri: usize, alive: bool) {
        let id = self.spec.id;
        let change_pool =
            self.quorum_state_up || self.sorry.as_ref().map(|s| !s.alive).unwrap_or(true);
        let vs_name = self.spec.name.clone();
        let Some(rs) = self.rs.get_mut(ri) else {
            return;
        };
        if rs.alive == alive {
            return;
        }
        log::info(&format!(
            "{}ing service {} {} VS {}",
            match (alive, rs.inhibit) {
                (true, true) => "Enabl",
                (true, false) => "Add",
                (false, true) => "Disabl",
                (false, false) => "Remov",
            },
            rs.name,
            if rs.inhibit {
                "of"
            } else if alive {
                "to"
            } else {
                "from"
            },
            vs_name
        ));
        if change_pool {
            if alive {
                Self::add_dest(id, be, rs);
            } else {
                Self::del_dest(id, be, rs);
            }
        }
        rs.alive = alive;
        let script = if alive {
            &rs.notify_up
        } else {
            &rs.notify_down
        };
        if let Some(s) = script {
            run_script(s);
        }
        self.update_quorum_state(be, false);
    }

    /// Applies one checker report.
    pub fn on_event(&mut self, be: &dyn LvsBackend, ev: CheckEvent) {
        match ev {
            CheckEvent::State {
                rs, checker, up, ..
            } => {
                let Some(r) = self.rs.get_mut(rs) else {
                    return;
                };
                let Some(slot) = r.checkers_up.get_mut(checker) else {
                    return;
                };
                if *slot == up {
                    return;
                }
                *slot = up;
                let failed = r.failed();
                if up && failed == 0 {
                    self.perform_svr_state(be, rs, true);
                } else if !up && failed == 1 {
                    self.perform_svr_state(be, rs, false);
                }
            }
            CheckEvent::Weight { rs, weight, .. } => {
                let id = self.spec.id;
                let change_pool =
                    self.quorum_state_up || self.sorry.as_ref().map(|s| !s.alive).unwrap_or(true);
                let vs_name = self.spec.name.clone();
                let Some(r) = self.rs.get_mut(rs) else {
                    return;
                };
                let new = weight.unwrap_or(r.iweight);
                if new == r.weight {
                    return;
                }
                log::info(&format!(
                    "Changing weight from {} to {} for {}active service {} of VS {}",
                    r.weight,
                    new,
                    if r.alive { "" } else { "in" },
                    r.name,
                    vs_name
                ));
                r.weight = new;
                if r.alive && r.set && change_pool {
                    be.edit_dest(id, Self::dest(r, new));
                }
                self.update_quorum_state(be, false);
            }
        }
    }

    /// The real server addresses currently alive (tests, dumps).
    pub fn alive_addrs(&self) -> Vec<IpAddr> {
        self.rs
            .iter()
            .filter(|r| r.alive)
            .map(|r| r.addr.ip())
            .collect()
    }
}

/// Runs a script at shutdown, waiting at most a second for it (keepalived's
/// `system_call_script` with a 1 s timer).
fn run_script_and_wait(script: &Script) {
    let Some((prog, args)) = script.args.split_first() else {
        return;
    };
    let child = std::process::Command::new(prog)
        .args(args)
        .stdin(std::process::Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        log::info(&format!("Failed to exec {}", script.cmdline));
        return;
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(1);
    while std::time::Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Pool {
    /// Stopping (`clear_service_vs`): every server leaves the service; with `omega` the
    /// notify_down and quorum_down scripts run.
    pub fn shutdown(&mut self, be: &dyn LvsBackend) {
        let id = self.spec.id;
        if let Some(s) = &mut self.sorry {
            if s.set {
                be.del_dest(id, s.addr);
                s.set = false;
                s.alive = false;
            }
        }
        for rs in &mut self.rs {
            if !rs.set {
                continue;
            }
            log::info(&format!(
                "Shutting down {}service {} from VS {}",
                if rs.inhibit && !rs.alive {
                    "(inhibited) "
                } else {
                    ""
                },
                rs.name,
                self.spec.name
            ));
            be.del_dest(id, rs.addr);
            rs.set = false;
            if rs.alive {
                rs.alive = false;
                if self.omega {
                    if let Some(s) = &rs.notify_down {
                        run_script_and_wait(s);
                    }
                }
            }
        }
        if self.quorum_state_up {
            self.quorum_state_up = false;
        }
        if self.omega {
            if let Some(s) = &self.quorum_down_script {
                run_script_and_wait(s);
            }
        }
        be.del_service(id);
    }
}

/// Runs every pool: initial services, then checker reports until `stop` fires (or its sender
/// is dropped); then the services are shut down like keepalived's on exit.
pub async fn run(
    mut pools: Vec<Pool>,
    backend: Arc<dyn LvsBackend>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let (tx, mut rx) = mpsc::channel::<CheckEvent>(256);
    for p in &mut pools {
        p.init(backend.as_ref());
        for c in &p.checkers {
            tokio::spawn(check::run_checker(c.clone(), tx.clone()));
        }
    }
    drop(tx);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            ev = rx.recv() => match ev {
                Some(ev) => {
                    let vs = match ev {
                        CheckEvent::State { vs, .. } | CheckEvent::Weight { vs, .. } => vs,
                    };
                    if let Some(p) = pools.get_mut(vs) {
                        p.on_event(backend.as_ref(), ev);
                    }
                }
                // no checkers at all: wait for the stop
                None => {
                    let _ = (&mut stop).await;
                    break;
                }
            },
        }
    }
    for p in &mut pools {
        p.shutdown(backend.as_ref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A backend that records commands.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<String>>);
    impl LvsBackend for Recorder {
        fn add_service(&self, spec: &ServiceSpec) -> Result<(), super::super::LvsError> {
            self.0
                .lock()
                .unwrap()
                .push(format!("add_service {}", spec.name));
            Ok(())
        }
        fn del_service(&self, _: ServiceId) {}
        fn add_dest(&self, _: ServiceId, d: DestSpec) {
            self.0
                .lock()
                .unwrap()
                .push(format!("add {} w{}", d.addr, d.weight));
        }
        fn edit_dest(&self, _: ServiceId, d: DestSpec) {
            self.0
                .lock()
                .unwrap()
                .push(format!("edit {} w{}", d.addr, d.weight));
        }
        fn del_dest(&self, _: ServiceId, a: SocketAddr) {
            self.0.lock().unwrap().push(format!("del {a}"));
        }
    }
    impl Recorder {
        fn take(&self) -> Vec<String> {
            std::mem::take(&mut *self.0.lock().unwrap())
        }
    }

    fn pools(text: &str) -> Vec<Pool> {
        let sys = crate::keepalived::system::HostSystem;
        let loaded = crate::keepalived::load_str("t.conf", text, None, &sys);
        build(&loaded.config)
    }

    const CONF: &str = "virtual_server 10.0.0.10 80 {\n protocol TCP\n lb_algo wrr\n lb_kind NAT\n sorry_server 10.0.0.5 8000\n \
        real_server 10.0.0.11 80 {\n weight 2\n TCP_CHECK {\n connect_timeout 1\n }\n }\n \
        real_server 10.0.0.12 80 {\n weight 1\n inhibit_on_failure\n TCP_CHECK {\n connect_timeout 1\n }\n }\n}\n";

    fn down(rs: usize) -> CheckEvent {
        CheckEvent::State {
            vs: 0,
            rs,
            checker: 0,
            up: false,
        }
    }
    fn up(rs: usize) -> CheckEvent {
        CheckEvent::State {
            vs: 0,
            rs,
            checker: 0,
            up: true,
        }
    }

    #[test]
    fn removal_inhibit_and_sorry_server() {
        let mut p = pools(CONF);
        assert_eq!(p.len(), 1);
        let be = Recorder::default();
        let p = &mut p[0];
        p.init(&be);
        assert_eq!(
            be.take(),
            vec![
                "add_service [10.0.0.10]:tcp:80",
                "add 10.0.0.11:80 w2",
                "add 10.0.0.12:80 w1"
            ]
        );
        p.on_event(&be, down(0));
        assert_eq!(be.take(), vec!["del 10.0.0.11:80"]);
        // inhibit_on_failure: weight 0, then quorum lost -> sorry server replaces the pool
        p.on_event(&be, down(1));
        assert_eq!(
            be.take(),
            vec!["edit 10.0.0.12:80 w0", "add 10.0.0.5:8000 w1"]
        );
        assert!(!p.quorum_state_up);
        // one server back: quorum regained, sorry server out, alive servers in
        p.on_event(&be, up(1));
        assert_eq!(be.take(), vec!["del 10.0.0.5:8000", "edit 10.0.0.12:80 w1"]);
        assert!(p.quorum_state_up);
        p.on_event(&be, up(0));
        assert_eq!(be.take(), vec!["add 10.0.0.11:80 w2"]);
    }

    #[test]
    fn quorum_with_hysteresis() {
        let text = "virtual_server 10.0.0.10 80 {\n quorum 3\n hysteresis 1\n \
            real_server 10.0.0.11 80 {\n weight 2\n TCP_CHECK {\n }\n }\n \
            real_server 10.0.0.12 80 {\n weight 2\n TCP_CHECK {\n }\n }\n}\n";
        let mut p = pools(text);
        let be = Recorder::default();
        let p = &mut p[0];
        p.init(&be);
        assert!(p.quorum_state_up); // 4 >= 3 + 1
        p.on_event(&be, down(0)); // 2 < 3 - 1? no: 2 >= 2 stays up
        assert!(p.quorum_state_up);
        p.on_event(&be, down(1)); // 0 -> lost
        assert!(!p.quorum_state_up);
        p.on_event(&be, up(0)); // 2 < 3 + 1 -> still down
        assert!(!p.quorum_state_up);
        p.on_event(&be, up(1)); // 4 >= 4 -> gained
        assert!(p.quorum_state_up);
    }
}

//! VRRP engine tests: `rkeepalived` instances (and Debian's keepalived 2.2.7 as a peer) in
//! network namespaces on a bridge, with the seed lab's 192.168.57.0/24 addresses.
//!
//! Every test builds its own [`Lab`]; nothing leaves the namespaces. Failover figures are printed
//! (`cargo test -- --nocapture`) and asserted only against generous bounds.

use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::netns::{require_netns, Lab, Ns};
use crate::util::{require, rkeepalived_bin};

const VIP: &str = "192.168.57.222";
const LB1: &str = "192.168.57.130";
const LB2: &str = "192.168.57.136";
const CLIENT: &str = "192.168.57.10";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Impl {
    Ours,
    Keepalived,
}

/// A running VRRP daemon in a namespace.
struct Daemon {
    kind: Impl,
    child: Child,
    dir: tempfile::TempDir,
    label: String,
}

impl Daemon {
    fn start(kind: Impl, ns: &Ns, label: &str, conf: &str) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let conf_path = dir.path().join("keepalived.conf");
        fs::write(&conf_path, conf).expect("write conf");
        let log = fs::File::create(dir.path().join("log")).expect("log file");
        let pid = dir.path().join("k.pid");
        let vpid = dir.path().join("vrrp.pid");
        let program = match kind {
            Impl::Ours => rkeepalived_bin().to_string_lossy().into_owned(),
            Impl::Keepalived => "keepalived".to_owned(),
        };
        let mut cmd = ns.command(&program);
        cmd.args(["-n", "-l", "-D", "-f"])
            .arg(&conf_path)
            .arg("-p")
            .arg(&pid)
            .arg("-r")
            .arg(&vpid);
        if kind == Impl::Keepalived {
            cmd.args(["--vrrp", "-c"]).arg(dir.path().join("chk.pid"));
        }
        cmd.env("TMPDIR", dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup"))
            .stderr(log);
        let child = cmd.spawn().expect("spawn daemon");
        Daemon {
            kind,
            child,
            dir,
            label: label.to_owned(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn log(&self) -> String {
        fs::read_to_string(self.path("log")).unwrap_or_default()
    }

    /// The process that runs VRRP (keepalived's VRRP child, or ours).
    fn vrrp_pid(&self) -> i32 {
        if self.kind == Impl::Keepalived {
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Some(p) = fs::read_to_string(self.path("vrrp.pid"))
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                {
                    return p;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            panic!(
                "{}: keepalived wrote no vrrp pid file; log:\n{}",
                self.label,
                self.log()
            );
        }
        self.child.id() as i32
    }

    fn signal_vrrp(&self, sig: i32) {
        // SAFETY: signalling a process this test started.
        unsafe { libc::kill(self.vrrp_pid(), sig) };
    }

    fn signal_main(&self, sig: i32) {
        // SAFETY: signalling a process this test started.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Stops gracefully (SIGTERM) and waits for the exit.
    fn stop(&mut self) {
        self.signal_main(libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "{} did not stop on SIGTERM; log:\n{}",
            self.label,
            self.log()
        );
    }

    /// Asks for the statistics file (SIGUSR2) and returns it.
    fn stats(&self) -> String {
        let path = self.path("keepalived.stats");
        let _ = fs::remove_file(&path);
        self.signal_vrrp(libc::SIGUSR2);
        wait_file(&path)
    }

    /// Asks for the state dump (SIGUSR1) and returns it.
    fn data(&self) -> String {
        let path = self.path("keepalived.data");
        let _ = fs::remove_file(&path);
        self.signal_vrrp(libc::SIGUSR1);
        wait_file(&path)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            // SAFETY: killing processes this test started.
            unsafe {
                if self.kind == Impl::Keepalived {
                    if let Some(p) = fs::read_to_string(self.path("vrrp.pid"))
                        .ok()
                        .and_then(|s| s.trim().parse().ok())
                    {
                        libc::kill(p, libc::SIGCONT);
                        libc::kill(p, libc::SIGKILL);
                    }
                }
                libc::kill(self.child.id() as i32, libc::SIGCONT);
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn wait_file(path: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(s) = fs::read_to_string(path) {
            if !s.is_empty() {
                // let the writer finish
                std::thread::sleep(Duration::from_millis(50));
                return fs::read_to_string(path).unwrap_or(s);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{} was not written", path.display());
}

/// Polls `cond` every 10 ms; returns how long it took, or None after `timeout`.
fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if cond() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// One vrrp_instance for the seed lab (interface eth0, VRID 51, VIP 192.168.57.222).
fn conf(
    router: &str,
    state: &str,
    prio: u8,
    advert: &str,
    extra_instance: &str,
    extra_global: &str,
) -> String {
    format!(
        "global_defs {{\n  router_id {router}\n}}\n{extra_global}\n\
         vrrp_instance VI_1 {{\n  state {state}\n  interface eth0\n  virtual_router_id 51\n  priority {prio}\n  \
         advert_int {advert}\n{extra_instance}\n  virtual_ipaddress {{\n    {VIP} dev eth0\n  }}\n}}\n"
    )
}

const PASS: &str = "  authentication {\n    auth_type PASS\n    auth_pass 123456\n  }\n";
const AH: &str = "  authentication {\n    auth_type AH\n    auth_pass secret12\n  }\n";

/// Two load balancers and a client on the bridge, with a socat "who am I" listener on each LB.
struct Topology {
    _lab: Lab,
    lb1: Ns,
    lb2: Ns,
    client: Ns,
    listeners: Vec<Child>,
}

impl Topology {
    fn new(tag: &str) -> Topology {
        let mut lab = Lab::new(tag);
        let lb1 = lab.node("lb1", "eth0", &format!("{LB1}/24"));
        let lb2 = lab.node("lb2", "eth0", &format!("{LB2}/24"));
        let client = lab.node("cl", "eth0", &format!("{CLIENT}/24"));
        Topology {
            _lab: lab,
            lb1,
            lb2,
            client,
            listeners: Vec::new(),
        }
    }

    fn listen_whoami(&mut self) {
        for (ns, name) in [(self.lb1.clone(), "lb1"), (self.lb2.clone(), "lb2")] {
            let child = ns
                .command("socat")
                .args([
                    "TCP-LISTEN:8080,fork,reuseaddr",
                    &format!("SYSTEM:echo {name}"),
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("socat");
            self.listeners.push(child);
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    /// Which LB answers on the VIP from the client ("lb1", "lb2", or "" when unreachable).
    fn whoami(&self) -> String {
        let out = self.client.run(&[
            "socat",
            "-T1",
            "-",
            &format!("TCP:{VIP}:8080,connect-timeout=1"),
        ]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        for c in &mut self.listeners {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Records the time, source and priority of every VRRP (or AH) advert seen from a namespace.
struct AdvertWatch {
    seen: Arc<Mutex<Vec<(Instant, Ipv4Addr, u8)>>>,
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl AdvertWatch {
    fn start(ns: &Ns, ah: bool) -> AdvertWatch {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, stop2) = (seen.clone(), stop.clone());
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let handle = ns.spawn_within(move || {
            let proto = if ah { 51 } else { 112 };
            let s = socket2::Socket::new(
                socket2::Domain::IPV4,
                socket2::Type::RAW,
                Some(socket2::Protocol::from(proto)),
            )
            .expect("raw socket");
            // SAFETY: a NUL-terminated literal.
            let index = unsafe { libc::if_nametoindex(c"eth0".as_ptr()) };
            s.join_multicast_v4_n(
                &Ipv4Addr::new(224, 0, 0, 18),
                &socket2::InterfaceIndexOrAddress::Index(index),
            )
            .expect("join 224.0.0.18");
            s.set_read_timeout(Some(Duration::from_millis(20)))
                .expect("timeout");
            let _ = ready_tx.send(());
            let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 1500];
            while !stop2.load(AtomicOrdering::Relaxed) {
                if let Ok(n) = s.recv(&mut buf) {
                    // SAFETY: recv initialised the first n bytes.
                    let b: Vec<u8> = buf[..n]
                        .iter()
                        .map(|x| unsafe { x.assume_init() })
                        .collect();
                    let ihl = usize::from(b.first().copied().unwrap_or(0) & 0x0f) * 4;
                    let off = ihl + if ah { 24 } else { 0 };
                    if b.len() > off + 2 {
                        let src = Ipv4Addr::new(b[12], b[13], b[14], b[15]);
                        seen2
                            .lock()
                            .unwrap()
                            .push((Instant::now(), src, b[off + 2]));
                    }
                }
            }
        });
        ready_rx
            .recv_timeout(Duration::from_secs(2))
            .expect("watcher ready");
        AdvertWatch {
            seen,
            stop,
            handle: Some(handle),
        }
    }

    /// When the last advert from `src` was seen.
    fn last_from(&self, src: &str) -> Option<Instant> {
        let src: Ipv4Addr = src.parse().ok()?;
        self.seen
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|(_, s, _)| *s == src)
            .map(|(t, _, _)| *t)
    }
}

impl Drop for AdvertWatch {
    fn drop(&mut self) {
        self.stop.store(true, AtomicOrdering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Freezes the master's VRRP process and measures, from the last advert it sent, how long the
/// backup takes to hold the VIP (expected: its master-down interval).
fn freeze_and_measure(
    watch: &AdvertWatch,
    master: &Daemon,
    master_ip: &str,
    backup: &Ns,
    timeout: Duration,
) -> Option<Duration> {
    master.signal_vrrp(libc::SIGSTOP);
    let stopped = Instant::now();
    let took = wait_until(timeout, || holds_vip(backup))?;
    let vip_seen = stopped + took;
    let last = watch.last_from(master_ip).unwrap_or(stopped);
    Some(vip_seen.saturating_duration_since(last))
}

fn holds_vip(ns: &Ns) -> bool {
    ns.has_addr(VIP)
}

fn secs(d: Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

/// Brings up a master and a backup and checks the election (VIP on `master` only).
fn elect(master: &Ns, m: &Daemon, backup: &Ns, b: &Daemon, within: Duration) {
    let t = wait_until(within, || holds_vip(master) && !holds_vip(backup));
    assert!(
        t.is_some(),
        "no election: master has VIP {}, backup has VIP {}\n--- {} log:\n{}\n--- {} log:\n{}",
        holds_vip(master),
        holds_vip(backup),
        m.label,
        m.log(),
        b.label,
        b.log()
    );
}

#[test]
fn vrrp_two_nodes_elect_and_fail_over_on_freeze_and_sigterm() {
    if !require_netns() || !require("socat") {
        return;
    }
    let mut t = Topology::new("vfo");
    t.listen_whoami();
    let mut a = Daemon::start(
        Impl::Ours,
        &t.lb1,
        "lb1",
        &conf("test1", "MASTER", 150, "1", PASS, ""),
    );
    let b = Daemon::start(
        Impl::Ours,
        &t.lb2,
        "lb2",
        &conf("test2", "BACKUP", 100, "1", PASS, ""),
    );
    elect(&t.lb1, &a, &t.lb2, &b, Duration::from_secs(8));
    assert!(
        a.log().contains("(VI_1) Entering MASTER STATE"),
        "{}",
        a.log()
    );
    assert!(
        b.log().contains("(VI_1) Entering BACKUP STATE"),
        "{}",
        b.log()
    );
    assert_eq!(t.whoami(), "lb1");
    // stays stable for a few adverts
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        holds_vip(&t.lb1) && !holds_vip(&t.lb2),
        "flapped:\n{}\n{}",
        a.log(),
        b.log()
    );

    // Frozen master: the backup takes over 3 × 1 s + skew (100) = 3.61 s after the last advert.
    let watch = AdvertWatch::start(&t.client, false);
    std::thread::sleep(Duration::from_millis(1100));
    let took = freeze_and_measure(&watch, &a, LB1, &t.lb2, Duration::from_secs(8))
        .expect("backup never took over");
    println!(
        "rkeepalived v2 failover after the last advert (advert 1 s, backup prio 100, expected 3.609 s): {}",
        secs(took)
    );
    assert!(
        took < Duration::from_millis(3610 + 1500),
        "took {}",
        secs(took)
    );
    // The client reaches the new master at once (GARP updated its neighbour entry).
    let reach = wait_until(Duration::from_secs(2), || t.whoami() == "lb2");
    assert!(reach.is_some(), "client does not reach lb2 through the VIP");

    // Thawed, the higher priority master preempts again.
    a.signal_vrrp(libc::SIGCONT);
    let back = wait_until(Duration::from_secs(6), || {
        holds_vip(&t.lb1) && !holds_vip(&t.lb2)
    });
    assert!(
        back.is_some(),
        "lb1 did not preempt:\n{}\n{}",
        a.log(),
        b.log()
    );
    assert!(wait_until(Duration::from_secs(2), || t.whoami() == "lb1").is_some());

    // SIGTERM: priority 0 advert, the backup takes over after its skew time (0.61 s).
    std::thread::sleep(Duration::from_millis(1200));
    a.signal_main(libc::SIGTERM);
    let took = wait_until(Duration::from_secs(5), || holds_vip(&t.lb2))
        .expect("no takeover after SIGTERM");
    a.stop();
    println!(
        "rkeepalived SIGTERM handover (backup prio 100): {}",
        secs(took)
    );
    assert!(
        took < Duration::from_millis(610 + 1200),
        "took {}",
        secs(took)
    );
    assert!(!holds_vip(&t.lb1), "stopped master kept the VIP");
    assert!(a.log().contains("Stopped"));
    let stats = b.stats();
    assert!(
        stats.contains("  Priority Zero:\n    Received: 1"),
        "{stats}"
    );
}

#[test]
fn vrrp_nopreempt_keeps_the_current_master() {
    if !require_netns() {
        return;
    }
    let t = Topology::new("vnp");
    // VIP options as `ip addr add` takes them
    let opts = |c: String| {
        c.replace(
            &format!("{VIP} dev eth0"),
            &format!("{VIP}/24 brd 192.168.57.255 dev eth0 label eth0:vip scope global"),
        )
    };
    // lb2 (priority 100) starts alone and becomes master
    let b = Daemon::start(
        Impl::Ours,
        &t.lb2,
        "lb2",
        &opts(conf("test2", "BACKUP", 100, "1", "", "")),
    );
    assert!(
        wait_until(Duration::from_secs(8), || holds_vip(&t.lb2)).is_some(),
        "{}",
        b.log()
    );
    let addr = t.lb2.ip(&["-4", "addr", "show", "dev", "eth0"]);
    assert!(
        addr.contains(&format!(
            "inet {VIP}/24 brd 192.168.57.255 scope global secondary eth0:vip"
        )),
        "{addr}"
    );
    // lb1 (priority 150, nopreempt) joins: it must not take the VIP
    let a = Daemon::start(
        Impl::Ours,
        &t.lb1,
        "lb1",
        &opts(conf("test1", "BACKUP", 150, "1", "  nopreempt\n", "")),
    );
    std::thread::sleep(Duration::from_secs(6));
    assert!(
        holds_vip(&t.lb2) && !holds_vip(&t.lb1),
        "nopreempt ignored:\n{}\n{}",
        a.log(),
        b.log()
    );
    assert!(a.data().contains("State = BACKUP"));
    // while a preempting lb1 does take it
    drop(a);
    let a = Daemon::start(
        Impl::Ours,
        &t.lb1,
        "lb1p",
        &opts(conf("test1", "BACKUP", 150, "1", "", "")),
    );
    let took = wait_until(Duration::from_secs(8), || {
        holds_vip(&t.lb1) && !holds_vip(&t.lb2)
    });
    assert!(
        took.is_some(),
        "preemption failed:\n{}\n{}",
        a.log(),
        b.log()
    );
    assert!(
        b.log().contains("with higher priority 150, ours 100"),
        "{}",
        b.log()
    );
}

#[test]
fn vrrp_track_script_failure_moves_the_vip() {
    if !require_netns() {
        return;
    }
    let t = Topology::new("vts");
    let dir = tempfile::tempdir().expect("tempdir");
    let flag = dir.path().join("fail");
    let script = dir.path().join("chk.sh");
    fs::write(
        &script,
        format!("#!/bin/sh\ntest ! -e {}\n", flag.display()),
    )
    .expect("script");
    Command::new("chmod")
        .arg("755")
        .arg(&script)
        .status()
        .expect("chmod");
    let global = format!(
        "vrrp_script chk {{\n  script \"{}\"\n  interval 1\n  weight -60\n  fall 1\n  rise 1\n}}\n",
        script.display()
    );
    // the master also owns a virtual route, which must follow the VIP
    let track =
        "  track_script {\n    chk\n  }\n  virtual_routes {\n    10.200.0.0/24 dev eth0\n  }\n";
    let has_route = |ns: &Ns| {
        ns.ip(&["route", "show", "10.200.0.0/24"])
            .contains("10.200.0.0/24")
    };
    let a = Daemon::start(
        Impl::Ours,
        &t.lb1,
        "lb1",
        &conf("test1", "MASTER", 150, "1", track, &global),
    );
    let b = Daemon::start(
        Impl::Ours,
        &t.lb2,
        "lb2",
        &conf("test2", "BACKUP", 100, "1", "", ""),
    );
    elect(&t.lb1, &a, &t.lb2, &b, Duration::from_secs(8));
    assert!(has_route(&t.lb1), "virtual route missing on the master");
    fs::write(&flag, "x").expect("flag");
    let took = wait_until(Duration::from_secs(10), || {
        holds_vip(&t.lb2) && !holds_vip(&t.lb1)
    });
    assert!(
        took.is_some(),
        "VIP did not move:\n{}\n{}",
        a.log(),
        b.log()
    );
    let log = a.log();
    assert!(
        !has_route(&t.lb1),
        "virtual route kept after losing mastership"
    );
    assert!(log.contains("VRRP_Script(chk) failed"), "{log}");
    assert!(
        log.contains("(VI_1) Changing effective priority from 150 to 90"),
        "{log}"
    );
    fs::remove_file(&flag).expect("unflag");
    let back = wait_until(Duration::from_secs(10), || {
        holds_vip(&t.lb1) && !holds_vip(&t.lb2)
    });
    assert!(
        back.is_some(),
        "VIP did not come back:\n{}\n{}",
        a.log(),
        b.log()
    );
    assert!(has_route(&t.lb1), "virtual route not restored");
    assert!(a.log().contains("VRRP_Script(chk) succeeded"));
}

#[test]
fn vrrp_unicast_peers_elect_and_hand_over() {
    if !require_netns() {
        return;
    }
    let t = Topology::new("vuc");
    let uc = |src: &str, peer: &str| {
        format!("  unicast_src_ip {src}\n  unicast_peer {{\n    {peer}\n  }}\n{PASS}")
    };
    let mut a = Daemon::start(
        Impl::Ours,
        &t.lb1,
        "lb1",
        &conf("test1", "MASTER", 150, "1", &uc(LB1, LB2), ""),
    );
    let b = Daemon::start(
        Impl::Ours,
        &t.lb2,
        "lb2",
        &conf("test2", "BACKUP", 100, "1", &uc(LB2, LB1), ""),
    );
    elect(&t.lb1, &a, &t.lb2, &b, Duration::from_secs(8));
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        holds_vip(&t.lb1) && !holds_vip(&t.lb2),
        "unicast adverts not honoured:\n{}\n{}",
        a.log(),
        b.log()
    );
    assert!(a.data().contains("Using unicast"));
    a.stop();
    let took =
        wait_until(Duration::from_secs(5), || holds_vip(&t.lb2)).expect("no unicast takeover");
    println!("rkeepalived unicast SIGTERM handover: {}", secs(took));
    let stats = b.stats();
    assert!(
        !stats.contains("    Received: 0\n    Sent"),
        "backup received no unicast adverts:\n{stats}"
    );
}

#[test]
fn vrrp_v3_fast_adverts_fail_over_quickly() {
    if !require_netns() {
        return;
    }
    let t = Topology::new("vv3");
    let v3 = "  version 3\n";
    let a = Daemon::start(
        Impl::Ours,
        &t.lb1,
        "lb1",
        &conf("test1", "MASTER", 150, "0.1", v3, ""),
    );
    let b = Daemon::start(
        Impl::Ours,
        &t.lb2,
        "lb2",
        &conf("test2", "BACKUP", 100, "0.1", v3, ""),
    );
    elect(&t.lb1, &a, &t.lb2, &b, Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(1000));
    assert!(
        holds_vip(&t.lb1) && !holds_vip(&t.lb2),
        "v3 flapped:\n{}\n{}",
        a.log(),
        b.log()
    );
    let watch = AdvertWatch::start(&t.client, false);
    std::thread::sleep(Duration::from_millis(300));
    let took = freeze_and_measure(&watch, &a, LB1, &t.lb2, Duration::from_secs(3))
        .expect("no v3 takeover");
    println!(
        "rkeepalived v3 100 ms failover after the last advert (backup prio 100, expected 0.361 s): {}",
        secs(took)
    );
    assert!(
        took < Duration::from_millis(1000),
        "v3 failover took {}",
        secs(took)
    );
    a.signal_vrrp(libc::SIGCONT);
}

/// Crafted bad VRRP packets for VRID `vrid` (VIP `vip`), each with a name.
fn bad_packets(vrid: u8, vip: &str) -> Vec<(&'static str, Vec<u8>)> {
    use rhaproxy::vrrp::packet::{
        auth_key, encode_ipv4, internet_checksum, Advert, AuthType, Ipv4Frame, VrrpVersion,
        MCAST_V4,
    };
    use std::net::IpAddr;
    let good = Advert {
        version: VrrpVersion::V2,
        vrid,
        priority: 254,
        auth_type: AuthType::Pass,
        adver_int: 1,
        addrs: vec![IpAddr::V4(vip.parse().unwrap())],
        auth_key: auth_key("123456"),
    };
    let frame = Ipv4Frame {
        src: CLIENT.parse().unwrap(),
        dst: MCAST_V4,
        ttl: 255,
        ip_id: 9,
        ah: None,
        unicast: false,
    };
    // edits a VRRP byte of a good packet and repairs the checksum, so a later check fails
    let edited = |at: usize, v: u8| {
        let mut p = encode_ipv4(&good, &frame);
        p[20 + at] = v;
        p[26] = 0;
        p[27] = 0;
        let c = internet_checksum(&p[20..]);
        p[26..28].copy_from_slice(&c.to_be_bytes());
        p
    };
    let mut short = encode_ipv4(&good, &frame);
    short.truncate(short.len() - 3);
    let n = short.len() as u16;
    short[2..4].copy_from_slice(&n.to_be_bytes());
    let mut bad_sum = encode_ipv4(&good, &frame);
    bad_sum[26] ^= 0x5a;
    vec![
        (
            "wrong password",
            encode_ipv4(
                &Advert {
                    auth_key: auth_key("guess"),
                    ..good.clone()
                },
                &frame,
            ),
        ),
        (
            "ttl 64",
            encode_ipv4(&good, &Ipv4Frame { ttl: 64, ..frame }),
        ),
        ("truncated", short),
        ("bad checksum", bad_sum),
        ("type 2", edited(0, 0x22)),
        ("auth type none", edited(4, 0)),
        ("auth type 7", edited(4, 7)),
        ("interval 3", edited(5, 3)),
        ("other VIP", edited(11, 99)),
        ("two addresses", edited(3, 2)),
        (
            "garbage",
            vec![
                0x45, 0, 0, 24, 0, 0, 0, 0, 255, 112, 0, 0, 192, 168, 57, 10, 224, 0, 0, 18, 0xff,
                0xff, 0xff, 0xff,
            ],
        ),
    ]
}

/// keepalived's counter lines of a stats dump (everything but the sent-advert count).
fn keepalived_counters(stats: &str) -> Vec<String> {
    stats
        .lines()
        .skip_while(|l| !l.starts_with("  Advertisements:"))
        .take_while(|l| !l.starts_with("  Other Errors:"))
        .filter(|l| !(l.trim_start().starts_with("Sent:")))
        .map(str::to_owned)
        .collect()
}

/// The same bad packets sent to rkeepalived and keepalived: both drop them, keep their
/// mastership, and count them identically in keepalived's statistics lines.
#[test]
fn vrrp_drops_and_counts_bad_packets_like_keepalived() {
    use std::net::SocketAddrV4;
    if !require_netns() || !require("keepalived") {
        return;
    }
    let t = Topology::new("vbad");
    let mut ours = Daemon::start(
        Impl::Ours,
        &t.lb1,
        "ours",
        &conf("o", "MASTER", 150, "1", PASS, ""),
    );
    let kal_conf = conf("k", "MASTER", 150, "1", PASS, "")
        .replace("virtual_router_id 51", "virtual_router_id 52")
        .replace(VIP, "192.168.57.223");
    let mut kal = Daemon::start(Impl::Keepalived, &t.lb2, "keepalived", &kal_conf);
    let up = wait_until(Duration::from_secs(8), || {
        holds_vip(&t.lb1) && t.lb2.has_addr("192.168.57.223")
    });
    assert!(up.is_some(), "{}\n{}", ours.log(), kal.log());
    let mut packets = bad_packets(51, VIP);
    packets.extend(bad_packets(52, "192.168.57.223"));
    let count = packets.len();
    let sent = t.client.within(move || {
        let s = socket2::Socket::new(
            socket2::Domain::IPV4,
            socket2::Type::RAW,
            Some(socket2::Protocol::from(112)),
        )
        .expect("raw socket");
        s.set_header_included_v4(true).expect("hdrincl");
        s.bind_device(Some(b"eth0")).expect("bind eth0");
        let dst = socket2::SockAddr::from(SocketAddrV4::new(rhaproxy::vrrp::packet::MCAST_V4, 0));
        let mut n = 0;
        for _round in 0..3 {
            for (_, p) in &packets {
                if s.send_to(p, &dst).is_ok() {
                    n += 1;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        n
    });
    assert_eq!(sent, 3 * count);
    std::thread::sleep(Duration::from_millis(500));
    assert!(ours.alive(), "rkeepalived died:\n{}", ours.log());
    assert!(kal.alive(), "keepalived died:\n{}", kal.log());
    assert!(
        holds_vip(&t.lb1),
        "a bogus priority 254 advert displaced the master:\n{}",
        ours.log()
    );
    let (so, sk) = (ours.stats(), kal.stats());
    let (co, ck) = (keepalived_counters(&so), keepalived_counters(&sk));
    println!("rkeepalived counters: {co:?}\nkeepalived counters: {ck:?}");
    assert!(co.iter().any(|l| l == "    Failure: 3"), "{so}");
    assert!(co.iter().any(|l| l == "    TTL: 3"), "{so}");
    assert_eq!(
        co, ck,
        "counters differ\n--- rkeepalived:\n{so}\n--- keepalived:\n{sk}"
    );
    assert!(so.contains("    Checksum: 3"), "{so}");
    // keepalived's wording for each drop reason, line for line (times stripped)
    let reasons = |log: &str| -> Vec<String> {
        let mut v: Vec<String> = log
            .lines()
            .filter_map(|l| l.split_once(": (VI_1) ").map(|(_, r)| r.to_owned()))
            .filter(|r| {
                !r.starts_with("Entering") && !r.starts_with("Sending") && !r.contains("priority")
            })
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let (ro, rk) = (
        reasons(&ours.log()),
        reasons(
            &kal.log()
                .replace("VRID 52", "VRID 51")
                .replace("192.168.57.223", VIP),
        ),
    );
    assert_eq!(ro, rk, "log wording differs from keepalived's");
    let log = ours.log();
    assert!(log.contains("(VI_1) received an invalid passwd!"), "{log}");
    assert!(
        log.contains("invalid TTL/HL. Received 64 and expect 255"),
        "{log}"
    );
    assert!(ours.data().contains("State = MASTER"));
}

// ---------------------------------------------------------------------------------------------
// Interoperation with keepalived 2.2.7

/// keepalived (priority 150) and rkeepalived (priority 100) in one VRID: ours backs up to it,
/// takes over when keepalived freezes, and hands back; then the roles swap.
fn interop(tag: &str, auth: &str, version_line: &str, advert: &str) {
    interop_with(tag, auth, version_line, advert, |_, _| String::new());
}

/// [`interop`] with per-node extra lines (`extra(own address, peer address)`).
fn interop_with(
    tag: &str,
    auth: &str,
    version_line: &str,
    advert: &str,
    node_extra: impl Fn(&str, &str) -> String,
) {
    if !require_netns() || !require("keepalived") {
        return;
    }
    let t = Topology::new(tag);
    let extra = format!("{auth}{version_line}");
    let (x1, x2) = (
        format!("{extra}{}", node_extra(LB1, LB2)),
        format!("{extra}{}", node_extra(LB2, LB1)),
    );
    let adv_s: f64 = advert.parse().unwrap_or(1.0);
    // keepalived's master-down interval for priority 100: v2 skew is (256-100)/256 s, v3 skew is
    // (256-100)/256 of the advert interval.
    let skew = if version_line.is_empty() {
        156.0 / 256.0
    } else {
        156.0 / 256.0 * adv_s
    };
    let down_100 = Duration::from_secs_f64(3.0 * adv_s + skew);
    let margin = Duration::from_millis(1500);

    // Round 1: keepalived master, ours backup.
    let k = Daemon::start(
        Impl::Keepalived,
        &t.lb1,
        "keepalived",
        &conf("kal", "BACKUP", 150, advert, &x1, ""),
    );
    let o = Daemon::start(
        Impl::Ours,
        &t.lb2,
        "rkeepalived",
        &conf("ours", "BACKUP", 100, advert, &x2, ""),
    );
    elect(&t.lb1, &k, &t.lb2, &o, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis((3000.0 * adv_s) as u64 + 500));
    assert!(
        holds_vip(&t.lb1) && !holds_vip(&t.lb2),
        "unstable with keepalived master:\n{}\n{}",
        k.log(),
        o.log()
    );
    let watch = AdvertWatch::start(&t.client, auth == AH);
    std::thread::sleep(Duration::from_secs_f64(adv_s * 1.1));
    let took = freeze_and_measure(
        &watch,
        &k,
        LB1,
        &t.lb2,
        down_100 + margin + Duration::from_secs(2),
    )
    .unwrap_or_else(|| {
        panic!(
            "rkeepalived did not take over from frozen keepalived:\n{}",
            o.log()
        )
    });
    println!(
        "[{tag}] rkeepalived (100) replaces frozen keepalived, after its last advert: {} (expected {})",
        secs(took),
        secs(down_100)
    );
    assert!(took < down_100 + margin, "took {}", secs(took));
    k.signal_vrrp(libc::SIGCONT);
    let back = wait_until(Duration::from_secs(8), || {
        holds_vip(&t.lb1) && !holds_vip(&t.lb2)
    });
    assert!(
        back.is_some(),
        "keepalived did not take back over:\n{}\n{}",
        k.log(),
        o.log()
    );
    drop(k);
    drop(o);
    for ns in [&t.lb1, &t.lb2] {
        let _ = ns.run(&["ip", "addr", "del", &format!("{VIP}/32"), "dev", "eth0"]);
    }

    // Round 2: ours master, keepalived backup.
    let o = Daemon::start(
        Impl::Ours,
        &t.lb1,
        "rkeepalived",
        &conf("ours", "BACKUP", 150, advert, &x1, ""),
    );
    let k = Daemon::start(
        Impl::Keepalived,
        &t.lb2,
        "keepalived",
        &conf("kal", "BACKUP", 100, advert, &x2, ""),
    );
    elect(&t.lb1, &o, &t.lb2, &k, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis((3000.0 * adv_s) as u64 + 500));
    assert!(
        holds_vip(&t.lb1) && !holds_vip(&t.lb2),
        "unstable with rkeepalived master:\n{}\n{}",
        o.log(),
        k.log()
    );
    let watch = AdvertWatch::start(&t.client, auth == AH);
    std::thread::sleep(Duration::from_secs_f64(adv_s * 1.1));
    let took = freeze_and_measure(
        &watch,
        &o,
        LB1,
        &t.lb2,
        down_100 + margin + Duration::from_secs(2),
    )
    .unwrap_or_else(|| {
        panic!(
            "keepalived did not take over from frozen rkeepalived:\n{}",
            k.log()
        )
    });
    println!(
        "[{tag}] keepalived (100) replaces frozen rkeepalived, after its last advert: {} (expected {})",
        secs(took),
        secs(down_100)
    );
    o.signal_vrrp(libc::SIGCONT);
    let back = wait_until(Duration::from_secs(8), || {
        holds_vip(&t.lb1) && !holds_vip(&t.lb2)
    });
    assert!(
        back.is_some(),
        "rkeepalived did not take back over:\n{}\n{}",
        o.log(),
        k.log()
    );
    assert!(k.log().contains("Entering BACKUP STATE"), "{}", k.log());
}

#[test]
fn vrrp_interop_keepalived_v2_pass() {
    interop("vipa", PASS, "", "1");
}

#[test]
fn vrrp_interop_keepalived_v2_ah() {
    interop("viah", AH, "", "1");
}

#[test]
fn vrrp_interop_keepalived_v3() {
    interop("viv3", "", "  version 3\n", "0.2");
}

/// Unicast VRRPv3 (checksum over the unicast pseudo-header) with keepalived in both roles.
#[test]
fn vrrp_interop_keepalived_unicast_v3() {
    interop_with("viuc", "", "  version 3\n", "0.2", |own, peer| {
        format!("  unicast_src_ip {own}\n  unicast_peer {{\n    {peer}\n  }}\n")
    });
}

/// The reference figures: keepalived backing up keepalived on the same topology.
#[test]
fn vrrp_reference_keepalived_failover_figures() {
    if !require_netns() || !require("keepalived") {
        return;
    }
    let t = Topology::new("vref");
    for (label, extra, advert, expected_ms) in [
        ("v2 1 s", PASS.to_owned(), "1", 3609u64),
        ("v3 100 ms", "  version 3\n".to_owned(), "0.1", 361),
    ] {
        let a = Daemon::start(
            Impl::Keepalived,
            &t.lb1,
            "k1",
            &conf("k1", "BACKUP", 150, advert, &extra, ""),
        );
        let b = Daemon::start(
            Impl::Keepalived,
            &t.lb2,
            "k2",
            &conf("k2", "BACKUP", 100, advert, &extra, ""),
        );
        elect(&t.lb1, &a, &t.lb2, &b, Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(1000));
        let watch = AdvertWatch::start(&t.client, false);
        std::thread::sleep(Duration::from_millis(1100));
        let took = freeze_and_measure(&watch, &a, LB1, &t.lb2, Duration::from_secs(8))
            .expect("keepalived failover");
        println!(
            "reference keepalived {label} failover after the last advert: {} (expected {} ms)",
            secs(took),
            expected_ms
        );
        assert!(took < Duration::from_millis(expected_ms + 1500));
        a.signal_vrrp(libc::SIGCONT);
        drop(a);
        drop(b);
        for ns in [&t.lb1, &t.lb2] {
            let _ = ns.run(&["ip", "addr", "del", &format!("{VIP}/32"), "dev", "eth0"]);
        }
    }
    // SIGTERM handover: the priority-0 advert lets the backup (100) take over after its skew.
    let mut a = Daemon::start(
        Impl::Keepalived,
        &t.lb1,
        "k1",
        &conf("k1", "BACKUP", 150, "1", PASS, ""),
    );
    let b = Daemon::start(
        Impl::Keepalived,
        &t.lb2,
        "k2",
        &conf("k2", "BACKUP", 100, "1", PASS, ""),
    );
    elect(&t.lb1, &a, &t.lb2, &b, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(500));
    a.signal_main(libc::SIGTERM);
    let took = wait_until(Duration::from_secs(5), || holds_vip(&t.lb2))
        .expect("keepalived SIGTERM handover");
    println!(
        "reference keepalived SIGTERM handover (backup prio 100, skew 0.609 s): {}",
        secs(took)
    );
    assert!(took < Duration::from_millis(610 + 1200));
    a.stop();
}

// ---------------------------------------------------------------------------------------------
// Notify scripts, reload, sync groups, IPv6

/// A notify script that appends its arguments (or a fixed word) to `log`.
fn recorder(dir: &Path, name: &str, log: &Path, fixed: Option<&str>) -> PathBuf {
    let path = dir.join(name);
    let what = fixed
        .map(|w| w.to_owned())
        .unwrap_or_else(|| "$*".to_owned());
    fs::write(
        &path,
        format!("#!/bin/sh\necho \"{what}\" >> {}\n", log.display()),
    )
    .expect("write script");
    Command::new("chmod")
        .arg("755")
        .arg(&path)
        .status()
        .expect("chmod");
    path
}

/// The same notify configuration under keepalived and rkeepalived gives the same calls.
#[test]
fn vrrp_notify_arguments_match_keepalived() {
    if !require_netns() || !require("keepalived") {
        return;
    }
    let t = Topology::new("vnt");
    let mut runs = Vec::new();
    for (kind, ns, vrid) in [(Impl::Keepalived, &t.lb1, "61"), (Impl::Ours, &t.lb2, "62")] {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("calls");
        let generic = recorder(dir.path(), "notify.sh", &log, None);
        let master = recorder(dir.path(), "master.sh", &log, Some("notify_master"));
        let backup = recorder(dir.path(), "backup.sh", &log, Some("notify_backup"));
        let stop = recorder(dir.path(), "stop.sh", &log, Some("notify_stop"));
        let extra = format!(
            "  notify \"{}\"\n  notify_master \"{}\"\n  notify_backup \"{}\"\n  notify_stop \"{}\"\n",
            generic.display(),
            master.display(),
            backup.display(),
            stop.display()
        );
        // a FIFO we hold open for reading, so its lines survive the daemon's exit
        let fifo = dir.path().join("fifo");
        let cpath = std::ffi::CString::new(fifo.to_string_lossy().as_bytes()).unwrap();
        // SAFETY: mkfifo on a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(cpath.as_ptr(), 0o600) }, 0);
        let reader = {
            use std::os::unix::fs::OpenOptionsExt;
            fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&fifo)
                .expect("open fifo")
        };
        let global = format!(
            "global_defs {{\n  enable_script_security\n  script_user root\n  vrrp_notify_fifo {}\n}}\n",
            fifo.display()
        );
        let c = conf("n", "BACKUP", 200, "1", &extra, &global)
            .replace("virtual_router_id 51", &format!("virtual_router_id {vrid}"));
        let d = Daemon::start(kind, ns, &format!("{kind:?}"), &c);
        runs.push((d, dir, log, ns.clone(), reader));
    }
    // both are alone in their VRID: BACKUP (init), then MASTER after 3 × 1 s + skew
    for (d, _, _, ns, _) in &runs {
        assert!(
            wait_until(Duration::from_secs(8), || holds_vip(ns)).is_some(),
            "{}",
            d.log()
        );
    }
    std::thread::sleep(Duration::from_millis(300));
    let mut calls = Vec::new();
    for (mut d, dir, log, _, mut reader) in runs {
        d.stop();
        std::thread::sleep(Duration::from_millis(300));
        let mut lines: Vec<String> = fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect();
        // specific and generic scripts run concurrently: compare as sets per state
        lines.sort();
        let mut fifo_lines = String::new();
        let _ = std::io::Read::read_to_string(&mut reader, &mut fifo_lines);
        calls.push((d.kind, lines, d.log(), fifo_lines));
        drop(dir);
    }
    let (_, kal, klog, kfifo) = &calls[0];
    let (_, ours, olog, ofifo) = &calls[1];
    println!("keepalived fifo:\n{kfifo}rkeepalived fifo:\n{ofifo}");
    assert!(kfifo.contains("INSTANCE \"VI_1\" MASTER 200"), "{kfifo}");
    assert_eq!(ofifo, kfifo, "notify fifo lines differ");
    assert!(
        kal.contains(&"INSTANCE VI_1 MASTER 200".to_owned()),
        "keepalived calls {kal:?}\n{klog}"
    );
    assert_eq!(
        ours, kal,
        "notify calls differ\n--- keepalived:\n{klog}\n--- rkeepalived:\n{olog}"
    );
}

#[test]
fn vrrp_sighup_reload_keeps_mastership() {
    if !require_netns() {
        return;
    }
    let t = Topology::new("vhup");
    let a = Daemon::start(
        Impl::Ours,
        &t.lb1,
        "lb1",
        &conf("test1", "MASTER", 150, "1", PASS, ""),
    );
    let b = Daemon::start(
        Impl::Ours,
        &t.lb2,
        "lb2",
        &conf("test2", "BACKUP", 100, "1", PASS, ""),
    );
    elect(&t.lb1, &a, &t.lb2, &b, Duration::from_secs(8));
    // new configuration: lower (still winning) priority and an excluded (not advertised) VIP
    let new = conf("test1", "MASTER", 140, "1", PASS, "").replace(
        &format!("    {VIP} dev eth0\n"),
        &format!("    {VIP} dev eth0\n  }}\n  virtual_ipaddress_excluded {{\n    192.168.57.223 dev eth0\n"),
    );
    fs::write(a.path("keepalived.conf"), new).expect("rewrite conf");
    a.signal_main(libc::SIGHUP);
    let added = wait_until(Duration::from_secs(3), || t.lb1.has_addr("192.168.57.223"));
    assert!(
        added.is_some(),
        "reload did not add the new VIP:\n{}",
        a.log()
    );
    let flapped = wait_until(Duration::from_secs(4), || {
        holds_vip(&t.lb2) || !holds_vip(&t.lb1)
    });
    assert!(
        flapped.is_none(),
        "mastership changed on reload:\n{}\n{}",
        a.log(),
        b.log()
    );
    let log = a.log();
    assert!(log.contains("Reloading"), "{log}");
    assert_eq!(log.matches("Entering MASTER STATE").count(), 1, "{log}");
    assert!(a.data().contains("Priority = 140"));
}

#[test]
fn vrrp_sync_group_moves_instances_together() {
    if !require_netns() {
        return;
    }
    let mut t = Topology::new("vsg");
    let (lb1, lb2) = (t.lb1.clone(), t.lb2.clone());
    t._lab.connect(&lb1, "eth1", Some("10.57.0.130/24"));
    t._lab.connect(&lb2, "eth1", Some("10.57.0.136/24"));
    let group = |prio: u8, name: &str| {
        format!(
            "global_defs {{\n  router_id {name}\n}}\nvrrp_sync_group G1 {{\n  group {{\n    VI_1\n    VI_2\n  }}\n}}\n\
             vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  priority {prio}\n  advert_int 1\n  \
             virtual_ipaddress {{\n    {VIP}\n  }}\n}}\n\
             vrrp_instance VI_2 {{\n  state BACKUP\n  interface eth1\n  virtual_router_id 52\n  priority {prio}\n  advert_int 1\n  \
             virtual_ipaddress {{\n    10.57.0.222\n  }}\n}}\n"
        )
    };
    let a = Daemon::start(Impl::Ours, &lb1, "lb1", &group(150, "a"));
    let b = Daemon::start(Impl::Ours, &lb2, "lb2", &group(100, "b"));
    let both = |ns: &Ns| holds_vip(ns) && ns.has_addr("10.57.0.222");
    let none = |ns: &Ns| !holds_vip(ns) && !ns.has_addr("10.57.0.222");
    assert!(
        wait_until(Duration::from_secs(8), || both(&lb1) && none(&lb2)).is_some(),
        "{}\n{}",
        a.log(),
        b.log()
    );
    // pull lb1's eth1 cable (bridge port p4): VI_2 faults and drags VI_1 along
    t._lab.set_port(4, false);
    let moved = wait_until(Duration::from_secs(8), || both(&lb2) && none(&lb1));
    assert!(
        moved.is_some(),
        "group did not move together:\n{}\n{}",
        a.log(),
        b.log()
    );
    assert!(
        a.log().contains("(VI_2) Entering FAULT STATE"),
        "{}",
        a.log()
    );
    t._lab.set_port(4, true);
    let back = wait_until(Duration::from_secs(10), || both(&lb1) && none(&lb2));
    assert!(
        back.is_some(),
        "group did not come back:\n{}\n{}",
        a.log(),
        b.log()
    );
}

#[test]
fn vrrp_ipv6_instances_elect_and_fail_over() {
    if !require_netns() {
        return;
    }
    let t = Topology::new("vv6");
    for (ns, a) in [(&t.lb1, "fd00:57::130/64"), (&t.lb2, "fd00:57::136/64")] {
        ns.ip(&["-6", "addr", "add", a, "dev", "eth0", "nodad"]);
    }
    // wait for the link-local addresses to leave DAD
    let ready = wait_until(Duration::from_secs(5), || {
        [&t.lb1, &t.lb2].iter().all(|ns| {
            let o = ns.run(&["ip", "-6", "addr", "show", "dev", "eth0", "scope", "link"]);
            let s = String::from_utf8_lossy(&o.stdout);
            s.contains("fe80") && !s.contains("tentative")
        })
    });
    assert!(ready.is_some(), "no link-local addresses");
    let v6 = |prio: u8| {
        format!(
            "vrrp_instance VI_6 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 56\n  priority {prio}\n  \
             advert_int 0.2\n  virtual_ipaddress {{\n    fd00:57::222\n  }}\n}}\n"
        )
    };
    let a = Daemon::start(Impl::Ours, &t.lb1, "lb1", &v6(150));
    let b = Daemon::start(Impl::Ours, &t.lb2, "lb2", &v6(100));
    let has = |ns: &Ns| ns.has_addr("fd00:57::222");
    assert!(
        wait_until(Duration::from_secs(5), || has(&t.lb1) && !has(&t.lb2)).is_some(),
        "{}\n{}",
        a.log(),
        b.log()
    );
    // added with nodad like keepalived: usable at once, never tentative
    let line = t.lb1.ip(&["-6", "addr", "show", "dev", "eth0"]);
    let vip_line = line
        .lines()
        .find(|l| l.contains("fd00:57::222"))
        .unwrap_or("")
        .to_owned();
    assert!(!vip_line.contains("tentative"), "{line}");
    std::thread::sleep(Duration::from_millis(800));
    assert!(
        has(&t.lb1) && !has(&t.lb2),
        "v6 flapped:\n{}\n{}",
        a.log(),
        b.log()
    );
    a.signal_vrrp(libc::SIGSTOP);
    let took = wait_until(Duration::from_secs(3), || has(&t.lb2)).expect("no IPv6 takeover");
    println!(
        "rkeepalived IPv6 v3 200 ms SIGSTOP failover: {}",
        secs(took)
    );
    a.signal_vrrp(libc::SIGCONT);
    let back = wait_until(Duration::from_secs(3), || has(&t.lb1) && !has(&t.lb2));
    assert!(back.is_some(), "{}\n{}", a.log(), b.log());

    // Interop over IPv6: keepalived (150) replaces our lb1, preempts our lb2, and hands over
    // to it when frozen.
    let mut a = a;
    a.stop();
    if !require("keepalived") {
        return;
    }
    assert!(
        wait_until(Duration::from_secs(3), || has(&t.lb2)).is_some(),
        "{}",
        b.log()
    );
    let k = Daemon::start(Impl::Keepalived, &t.lb1, "keepalived", &v6(150));
    let pre = wait_until(Duration::from_secs(5), || has(&t.lb1) && !has(&t.lb2));
    assert!(
        pre.is_some(),
        "keepalived did not preempt over IPv6:\n{}\n{}",
        k.log(),
        b.log()
    );
    std::thread::sleep(Duration::from_millis(800));
    assert!(
        has(&t.lb1) && !has(&t.lb2),
        "IPv6 interop flapped:\n{}\n{}",
        k.log(),
        b.log()
    );
    k.signal_vrrp(libc::SIGSTOP);
    let took =
        wait_until(Duration::from_secs(3), || has(&t.lb2)).expect("no takeover from keepalived");
    println!(
        "rkeepalived replaces frozen keepalived over IPv6 (200 ms): {}",
        secs(took)
    );
    k.signal_vrrp(libc::SIGCONT);
    let back = wait_until(Duration::from_secs(3), || has(&t.lb1) && !has(&t.lb2));
    assert!(back.is_some(), "{}\n{}", k.log(), b.log());
}

#[test]
fn vrrp_use_vmac_moves_the_virtual_mac() {
    if !require_netns() {
        return;
    }
    let t = Topology::new("vmac");
    t.client.run_ok(&[
        "sh",
        "-c",
        "echo 1 > /proc/sys/net/ipv4/conf/eth0/arp_accept",
    ]);
    let vmac = "  use_vmac\n";
    let mut a = Daemon::start(
        Impl::Ours,
        &t.lb1,
        "lb1",
        &conf("test1", "BACKUP", 150, "1", vmac, ""),
    );
    let b = Daemon::start(
        Impl::Ours,
        &t.lb2,
        "lb2",
        &conf("test2", "BACKUP", 100, "1", vmac, ""),
    );
    elect(&t.lb1, &a, &t.lb2, &b, Duration::from_secs(8));
    let link = t.lb1.ip(&["link", "show", "vrrp.51"]);
    assert!(link.contains("00:00:5e:00:01:33"), "{link}");
    assert!(t
        .lb1
        .ip(&["-4", "addr", "show", "dev", "vrrp.51"])
        .contains(VIP));
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        holds_vip(&t.lb1) && !holds_vip(&t.lb2),
        "vmac instances flapped:\n{}\n{}",
        a.log(),
        b.log()
    );
    // The client learns the VIP's MAC from the gratuitous ARPs alone (arp_accept), so no reply
    // traffic (which leaves through eth0) muddles the entry.
    let neigh = || t.client.ip(&["neigh", "show", VIP]);
    let learned = wait_until(Duration::from_secs(7), || {
        neigh().contains("00:00:5e:00:01:33")
    });
    assert!(
        learned.is_some(),
        "client did not learn the virtual MAC: {}",
        neigh()
    );
    a.stop();
    assert!(
        wait_until(Duration::from_secs(5), || holds_vip(&t.lb2)).is_some(),
        "{}",
        b.log()
    );
    assert!(t
        .lb2
        .ip(&["-4", "addr", "show", "dev", "vrrp.51"])
        .contains(VIP));
    // the new master's GARPs keep the entry on the same virtual MAC
    std::thread::sleep(Duration::from_millis(300));
    assert!(neigh().contains("00:00:5e:00:01:33"), "{}", neigh());
    assert!(
        t.lb1.run(&["ip", "link", "show", "vrrp.51"]).status.code() != Some(0),
        "VMAC not removed on stop"
    );
}

/// Without `-n` rkeepalived detaches like keepalived; priority 255 (address owner) is master at once.
#[test]
fn vrrp_daemon_mode_owner_is_master_at_once() {
    if !require_netns() {
        return;
    }
    let t = Topology::new("vdm");
    let dir = tempfile::tempdir().expect("tempdir");
    let conf_path = dir.path().join("keepalived.conf");
    fs::write(&conf_path, conf("own", "MASTER", 255, "1", "", "")).expect("conf");
    let pid = dir.path().join("k.pid");
    let status = t
        .lb1
        .command(&rkeepalived_bin().to_string_lossy())
        .arg("-f")
        .arg(&conf_path)
        .arg("-p")
        .arg(&pid)
        .arg("-r")
        .arg(dir.path().join("v.pid"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run rkeepalived");
    assert!(status.success(), "parent exit {status:?}");
    let took = wait_until(Duration::from_secs(3), || holds_vip(&t.lb1))
        .expect("owner did not take the VIP");
    println!(
        "owner (255) master {} after the daemon detached",
        secs(took)
    );
    assert!(
        took < Duration::from_millis(1500),
        "owner waited {}",
        secs(took)
    );
    let daemon: i32 = wait_until(Duration::from_secs(2), || pid.exists())
        .and_then(|_| fs::read_to_string(&pid).ok())
        .and_then(|s| s.trim().parse().ok())
        .expect("pid file");
    // SAFETY: terminating the daemon this test started.
    unsafe { libc::kill(daemon, libc::SIGTERM) };
    assert!(wait_until(Duration::from_secs(3), || !holds_vip(&t.lb1)
        && !pid.exists())
    .is_some());
}

/// `track_file`: the value × weight moves the priority; below -253 the instance faults.
#[test]
fn vrrp_track_file_weights_and_fault() {
    if !require_netns() {
        return;
    }
    let t = Topology::new("vtf");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("prio");
    let global = format!(
        "vrrp_track_file tf {{\n  file \"{}\"\n  weight 1\n  init_file 0 overwrite\n}}\n",
        file.display()
    );
    let track = "  track_file {\n    tf\n  }\n";
    let a = Daemon::start(
        Impl::Ours,
        &t.lb1,
        "lb1",
        &conf("test1", "BACKUP", 150, "1", track, &global),
    );
    let b = Daemon::start(
        Impl::Ours,
        &t.lb2,
        "lb2",
        &conf("test2", "BACKUP", 100, "1", "", ""),
    );
    elect(&t.lb1, &a, &t.lb2, &b, Duration::from_secs(8));
    assert_eq!(
        fs::read_to_string(&file).unwrap_or_default().trim(),
        "0",
        "init_file not written"
    );
    fs::write(&file, "-60\n").expect("write");
    let moved = wait_until(Duration::from_secs(8), || {
        holds_vip(&t.lb2) && !holds_vip(&t.lb1)
    });
    assert!(
        moved.is_some(),
        "VIP did not move:\n{}\n{}",
        a.log(),
        b.log()
    );
    assert!(
        a.log()
            .contains("(VI_1) Changing effective priority from 150 to 90"),
        "{}",
        a.log()
    );
    fs::write(&file, "-300\n").expect("write");
    let fault = wait_until(Duration::from_secs(3), || {
        a.log().contains("(VI_1) Entering FAULT STATE")
    });
    assert!(fault.is_some(), "no FAULT below -253:\n{}", a.log());
    fs::write(&file, "0\n").expect("write");
    let back = wait_until(Duration::from_secs(8), || {
        holds_vip(&t.lb1) && !holds_vip(&t.lb2)
    });
    assert!(
        back.is_some(),
        "VIP did not come back:\n{}\n{}",
        a.log(),
        b.log()
    );
}

/// Gratuitous ARP timing (garp_master_repeat / _delay / _refresh / _refresh_repeat) counted on
/// the wire for rkeepalived and keepalived side by side (owners of two VRIDs).
#[test]
fn vrrp_garp_repeat_delay_refresh_match_keepalived() {
    if !require_netns() || !require("keepalived") {
        return;
    }
    let t = Topology::new("vgarp");
    let seen: Arc<Mutex<Vec<(Instant, Ipv4Addr)>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let (seen2, stop2) = (seen.clone(), stop.clone());
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let watcher = t.client.spawn_within(move || {
        let proto = socket2::Protocol::from(i32::from(0x0806u16.to_be()));
        let s = socket2::Socket::new(socket2::Domain::PACKET, socket2::Type::RAW, Some(proto))
            .expect("packet socket");
        s.set_read_timeout(Some(Duration::from_millis(20)))
            .expect("timeout");
        let _ = ready_tx.send(());
        let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 1600];
        while !stop2.load(AtomicOrdering::Relaxed) {
            if let Ok(n) = s.recv(&mut buf) {
                // SAFETY: recv initialised the first n bytes.
                let f: Vec<u8> = buf[..n]
                    .iter()
                    .map(|x| unsafe { x.assume_init() })
                    .collect();
                // ARP request whose sender and target are the same address: a gratuitous ARP
                if f.len() >= 42
                    && f[12..14] == [8, 6]
                    && f[20..22] == [0, 1]
                    && f[28..32] == f[38..42]
                {
                    seen2
                        .lock()
                        .unwrap()
                        .push((Instant::now(), Ipv4Addr::new(f[28], f[29], f[30], f[31])));
                }
            }
        }
    });
    ready_rx
        .recv_timeout(Duration::from_secs(2))
        .expect("watcher");
    let garp = "  garp_master_repeat 3\n  garp_master_delay 1\n  garp_master_refresh 1\n  garp_master_refresh_repeat 2\n";
    let ours = conf("o", "MASTER", 255, "1", garp, "")
        .replace("virtual_router_id 51", "virtual_router_id 71");
    let kal = conf("k", "MASTER", 255, "1", garp, "")
        .replace("virtual_router_id 51", "virtual_router_id 72")
        .replace(VIP, "192.168.57.223");
    let o = Daemon::start(Impl::Ours, &t.lb1, "ours", &ours);
    let k = Daemon::start(Impl::Keepalived, &t.lb2, "keepalived", &kal);
    std::thread::sleep(Duration::from_millis(4700));
    stop.store(true, AtomicOrdering::Relaxed);
    let _ = watcher.join();
    let seen = seen.lock().unwrap().clone();
    let profile = |ip: &str| -> Vec<usize> {
        let ip: Ipv4Addr = ip.parse().unwrap();
        let times: Vec<Instant> = seen
            .iter()
            .filter(|(_, a)| *a == ip)
            .map(|(t, _)| *t)
            .collect();
        let Some(first) = times.first().copied() else {
            return vec![];
        };
        // GARPs per half-second slot from the first one, over 3.5 s
        (0..7)
            .map(|slot| {
                let lo = first + Duration::from_millis(500 * slot);
                let hi = lo + Duration::from_millis(500);
                times.iter().filter(|t| **t >= lo && **t < hi).count()
            })
            .collect()
    };
    let (po, pk) = (profile(VIP), profile("192.168.57.223"));
    println!("GARPs per 0.5 s slot: rkeepalived {po:?}, keepalived {pk:?}");
    assert!(
        !pk.is_empty() && !po.is_empty(),
        "no GARPs seen:\n{}\n{}",
        o.log(),
        k.log()
    );
    assert_eq!(po[0], pk[0], "initial burst differs");
    let (so, sk): (usize, usize) = (po.iter().sum(), pk.iter().sum());
    assert!(
        so.abs_diff(sk) <= 2,
        "GARP totals differ: ours {so}, keepalived {sk}"
    );
}

/// `track_interface` with a weight lowers the priority when the tracked link goes down
/// (and a weight-0 tracked interface would put the instance in FAULT instead).
#[test]
fn vrrp_track_interface_weight_moves_the_vip() {
    if !require_netns() {
        return;
    }
    let mut t = Topology::new("vti");
    let lb1 = t.lb1.clone();
    t._lab.connect(&lb1, "eth1", Some("10.58.0.130/24")); // bridge port p4
    let track = "  track_interface {\n    eth1 weight -60\n  }\n";
    let a = Daemon::start(
        Impl::Ours,
        &t.lb1,
        "lb1",
        &conf("test1", "BACKUP", 150, "1", track, ""),
    );
    let b = Daemon::start(
        Impl::Ours,
        &t.lb2,
        "lb2",
        &conf("test2", "BACKUP", 100, "1", "", ""),
    );
    elect(&t.lb1, &a, &t.lb2, &b, Duration::from_secs(8));
    t._lab.set_port(4, false);
    let moved = wait_until(Duration::from_secs(8), || {
        holds_vip(&t.lb2) && !holds_vip(&t.lb1)
    });
    assert!(
        moved.is_some(),
        "VIP did not move:\n{}\n{}",
        a.log(),
        b.log()
    );
    assert!(
        a.log()
            .contains("(VI_1) Changing effective priority from 150 to 90"),
        "{}",
        a.log()
    );
    assert!(
        !a.log().contains("FAULT"),
        "a weighted interface must not fault:\n{}",
        a.log()
    );
    t._lab.set_port(4, true);
    let back = wait_until(Duration::from_secs(8), || {
        holds_vip(&t.lb1) && !holds_vip(&t.lb2)
    });
    assert!(
        back.is_some(),
        "VIP did not come back:\n{}\n{}",
        a.log(),
        b.log()
    );
}

/// `vrrp_mcast_group4`: both daemons advertise to another group and still interoperate.
#[test]
fn vrrp_interop_keepalived_custom_multicast_group() {
    if !require_netns() || !require("keepalived") {
        return;
    }
    let t = Topology::new("vmg");
    let global = "global_defs {\n  vrrp_mcast_group4 224.0.0.100\n}\n";
    let k = Daemon::start(
        Impl::Keepalived,
        &t.lb1,
        "keepalived",
        &conf("k", "BACKUP", 150, "1", PASS, global),
    );
    let o = Daemon::start(
        Impl::Ours,
        &t.lb2,
        "rkeepalived",
        &conf("o", "BACKUP", 100, "1", PASS, global),
    );
    elect(&t.lb1, &k, &t.lb2, &o, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        holds_vip(&t.lb1) && !holds_vip(&t.lb2),
        "unstable:\n{}\n{}",
        k.log(),
        o.log()
    );
    k.signal_vrrp(libc::SIGSTOP);
    let took = wait_until(Duration::from_secs(6), || holds_vip(&t.lb2));
    assert!(took.is_some(), "no takeover:\n{}", o.log());
    k.signal_vrrp(libc::SIGCONT);
    let back = wait_until(Duration::from_secs(6), || {
        holds_vip(&t.lb1) && !holds_vip(&t.lb2)
    });
    assert!(
        back.is_some(),
        "keepalived did not take back over:\n{}\n{}",
        k.log(),
        o.log()
    );
    // the other way round: keepalived stays backup only if it hears our adverts on the group
    drop(k);
    drop(o);
    for ns in [&t.lb1, &t.lb2] {
        let _ = ns.run(&["ip", "addr", "del", &format!("{VIP}/32"), "dev", "eth0"]);
    }
    let o = Daemon::start(
        Impl::Ours,
        &t.lb1,
        "rkeepalived",
        &conf("o", "BACKUP", 150, "1", PASS, global),
    );
    let k = Daemon::start(
        Impl::Keepalived,
        &t.lb2,
        "keepalived",
        &conf("k", "BACKUP", 100, "1", PASS, global),
    );
    elect(&t.lb1, &o, &t.lb2, &k, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        holds_vip(&t.lb1) && !holds_vip(&t.lb2),
        "keepalived does not hear us:\n{}\n{}",
        o.log(),
        k.log()
    );
}

/// `static_ipaddress` / `static_routes` are in place once the daemon runs (whatever its VRRP
/// state) and gone after SIGTERM; with `dont_track_primary`, losing the carrier on the
/// instance's own interface does not move it to FAULT (it stays MASTER), where without it the
/// instance faults and drops the VIP.
#[test]
fn vrrp_static_config_and_dont_track_primary() {
    if !require_netns() {
        return;
    }
    let mut lab = Lab::new("vst");
    let lb1 = lab.node("lb1", "eth0", &format!("{LB1}/24"));
    let lb2 = lab.node("lb2", "eth0", &format!("{LB2}/24"));
    let statics = "static_ipaddress {\n  10.77.0.1/32 dev eth0\n}\n\
                   static_routes {\n  10.78.0.0/24 via 192.168.57.1 dev eth0\n}\n";
    let has_route = |ns: &Ns| {
        ns.ip(&["route", "show", "10.78.0.0/24"])
            .contains("10.78.0.0/24")
    };
    // The lab's bridge ports: p1 = lb1, p2 = lb2. Both cables are pulled from the start, so
    // each node is alone with its interface down.
    lab.set_port(1, false);
    lab.set_port(2, false);
    // lb1: dont_track_primary; lb2: default tracking.
    let mut a = Daemon::start(
        Impl::Ours,
        &lb1,
        "lb1",
        &conf("s1", "BACKUP", 150, "1", "  dont_track_primary\n", statics),
    );
    let mut b = Daemon::start(
        Impl::Ours,
        &lb2,
        "lb2",
        &conf("s2", "BACKUP", 150, "1", "", ""),
    );
    let up = wait_until(Duration::from_secs(10), || {
        lb1.has_addr("10.77.0.1") && has_route(&lb1) && holds_vip(&lb1)
    });
    assert!(up.is_some(), "statics/VIP missing on lb1:\n{}", a.log());
    let lb2_faulted = wait_until(Duration::from_secs(8), || b.log().contains("FAULT"));
    assert!(lb2_faulted.is_some(), "lb2 did not fault:\n{}", b.log());
    assert!(!holds_vip(&lb2), "faulted lb2 holds the VIP:\n{}", b.log());
    assert!(
        !a.log().contains("FAULT"),
        "dont_track_primary instance faulted:\n{}",
        a.log()
    );
    lab.set_port(1, true);
    lab.set_port(2, true);
    a.stop();
    b.stop();
    assert!(
        !lb1.has_addr("10.77.0.1") && !has_route(&lb1),
        "static address/route left after stop:\n{}",
        a.log()
    );
}

/// `strict_mode` (as `vrrp_strict`) at run time: authentication is ignored (adverts carry none), so a strict
/// instance with `auth_type PASS` elects with a peer configured without authentication.
#[test]
fn vrrp_strict_mode_ignores_authentication() {
    if !require_netns() {
        return;
    }
    let t = Topology::new("vsm");
    let a = Daemon::start(
        Impl::Ours,
        &t.lb1,
        "lb1",
        &conf(
            "m1",
            "BACKUP",
            150,
            "1",
            &format!("  strict_mode\n{PASS}"),
            "",
        ),
    );
    let b = Daemon::start(
        Impl::Ours,
        &t.lb2,
        "lb2",
        &conf("m2", "BACKUP", 100, "1", "", ""),
    );
    elect(&t.lb1, &a, &t.lb2, &b, Duration::from_secs(8));
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        holds_vip(&t.lb1) && !holds_vip(&t.lb2),
        "strict instance did not win cleanly:\n{}\n{}",
        a.log(),
        b.log()
    );
    assert!(
        !b.log().contains("auth") && !b.log().contains("Entering MASTER STATE"),
        "peer saw authenticated adverts or became master:\n{}",
        b.log()
    );
}

/// `vrrp_track_process` with a negative weight: while the tracked process runs lb1 (150) is
/// master; when it ends lb1 drops to 90 and lb2 (100) takes the VIP; when it runs again lb1
/// preempts back. The process gets a unique name (a copy of sleep), since /proc is shared with
/// the host.
#[test]
fn vrrp_track_process_weight_moves_the_vip() {
    if !require_netns() {
        return;
    }
    let t = Topology::new("vtp");
    let bin_dir = tempfile::tempdir().expect("tempdir");
    let pname = format!("rkp{}", std::process::id() % 100_000);
    let exe = bin_dir.path().join(&pname);
    fs::copy("/bin/sleep", &exe).expect("copy sleep");
    let spawn = || {
        Command::new(&exe)
            .arg("300")
            .spawn()
            .expect("spawn tracked process")
    };
    let mut proc1 = spawn();
    let global =
        format!("vrrp_track_process tp {{\n  process {pname}\n  weight -60\n  quorum 1\n}}\n");
    let track = "  track_process {\n    tp\n  }\n";
    let a = Daemon::start(
        Impl::Ours,
        &t.lb1,
        "lb1",
        &conf("p1", "BACKUP", 150, "1", track, &global),
    );
    let b = Daemon::start(
        Impl::Ours,
        &t.lb2,
        "lb2",
        &conf("p2", "BACKUP", 100, "1", "", ""),
    );
    elect(&t.lb1, &a, &t.lb2, &b, Duration::from_secs(8));
    let _ = proc1.kill();
    let _ = proc1.wait();
    let moved = wait_until(Duration::from_secs(8), || {
        holds_vip(&t.lb2) && !holds_vip(&t.lb1)
    });
    assert!(
        moved.is_some(),
        "VIP did not move:\n{}\n{}",
        a.log(),
        b.log()
    );
    assert!(
        a.log()
            .contains("(VI_1) Changing effective priority from 150 to 90"),
        "{}",
        a.log()
    );
    let mut proc2 = spawn();
    let back = wait_until(Duration::from_secs(8), || {
        holds_vip(&t.lb1) && !holds_vip(&t.lb2)
    });
    let _ = proc2.kill();
    let _ = proc2.wait();
    assert!(
        back.is_some(),
        "VIP did not come back:\n{}\n{}",
        a.log(),
        b.log()
    );
}

/// `dynamic_interfaces`: an instance whose interface does not exist at start is in FAULT (the
/// daemon keeps running its other instances); once the interface appears it starts and, alone
/// on its link, becomes master holding its VIP.
#[test]
fn vrrp_dynamic_interfaces_fault_until_the_interface_appears() {
    if !require_netns() {
        return;
    }
    let mut lab = Lab::new("vdi");
    let lb1 = lab.node("lb1", "eth0", &format!("{LB1}/24"));
    let text = format!(
        "global_defs {{\n  router_id d1\n  dynamic_interfaces\n}}\n\
         vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  priority 100\n  advert_int 1\n  virtual_ipaddress {{\n    {VIP}\n  }}\n}}\n\
         vrrp_instance VI_2 {{\n  state BACKUP\n  interface eth5\n  virtual_router_id 52\n  priority 100\n  advert_int 1\n  virtual_ipaddress {{\n    10.59.0.222/24\n  }}\n}}\n"
    );
    let mut a = Daemon::start(Impl::Ours, &lb1, "lb1", &text);
    let first = wait_until(Duration::from_secs(10), || {
        holds_vip(&lb1) && a.log().contains("(VI_2) Entering FAULT STATE")
    });
    assert!(
        first.is_some(),
        "VI_1 not master or VI_2 not in FAULT:\n{}",
        a.log()
    );
    assert!(a.alive(), "daemon exited:\n{}", a.log());
    assert!(!lb1.has_addr("10.59.0.222"));
    lab.connect(&lb1, "eth5", Some("10.59.0.130/24"));
    let second = wait_until(Duration::from_secs(10), || lb1.has_addr("10.59.0.222"));
    assert!(
        second.is_some(),
        "VI_2 did not take its VIP after eth5 appeared:\n{}",
        a.log()
    );
    assert!(
        a.log().contains("(VI_2) Entering MASTER STATE"),
        "{}",
        a.log()
    );
    a.stop();
}

/// `unicast_ttl` and a unicast peer's `min_ttl`: lb1 sends its unicast adverts with TTL 10;
/// lb2 accepts them while its range for lb1 is 1 - 255 (one master), and drops them as a TTL
/// error when the range is 20 - 255 (lb2 then becomes master as well).
#[test]
fn vrrp_unicast_ttl_and_peer_ttl_range() {
    if !require_netns() {
        return;
    }
    let t = Topology::new("vut");
    let a = Daemon::start(
        Impl::Ours,
        &t.lb1,
        "lb1",
        &conf(
            "u1",
            "BACKUP",
            150,
            "1",
            &format!(
                "  unicast_ttl 10\n  unicast_src_ip {LB1}\n  unicast_peer {{\n    {LB2}\n  }}\n"
            ),
            "",
        ),
    );
    let peer_conf = |min: u8| {
        conf(
            "u2",
            "BACKUP",
            100,
            "1",
            &format!(
                "  check_unicast_src\n  unicast_src_ip {LB2}\n  unicast_peer {{\n    {LB1} min_ttl {min} max_ttl 255\n  }}\n"
            ),
            "",
        )
    };
    let mut b = Daemon::start(Impl::Ours, &t.lb2, "lb2", &peer_conf(1));
    elect(&t.lb1, &a, &t.lb2, &b, Duration::from_secs(8));
    b.stop();
    let b = Daemon::start(Impl::Ours, &t.lb2, "lb2", &peer_conf(20));
    let both = wait_until(Duration::from_secs(8), || {
        holds_vip(&t.lb1) && holds_vip(&t.lb2)
    });
    assert!(
        both.is_some(),
        "lb2 accepted adverts with TTL 10 below min_ttl 20:\n{}\n{}",
        a.log(),
        b.log()
    );
    assert!(
        b.log().contains("(VI_1) TTL/HL 10 not in range 20 - 255"),
        "{}",
        b.log()
    );
}

/// `notify_priority_changes` and `notify_master_rx_lower_pri`, differentially: the same
/// configuration under keepalived and under rkeepalived on lb1 (master, priority 200) gives the
/// same FIFO lines and script calls when a track file raises its priority to 210 and a lower
/// priority master's advert (priority 100, sent from the client) arrives.
#[test]
fn vrrp_priority_change_and_rx_lower_pri_notifies_match_keepalived() {
    if !require_netns() || !require("keepalived") {
        return;
    }
    let t = Topology::new("vpn");
    let mut results = Vec::new();
    for kind in [Impl::Keepalived, Impl::Ours] {
        let dir = tempfile::tempdir().expect("tempdir");
        let calls = dir.path().join("calls");
        let lower = recorder(dir.path(), "lower.sh", &calls, Some("rx_lower_pri $*"));
        let track = dir.path().join("track");
        fs::write(&track, "0\n").expect("track file");
        let fifo = dir.path().join("fifo");
        let cpath = std::ffi::CString::new(fifo.to_string_lossy().as_bytes()).unwrap();
        // SAFETY: mkfifo on a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(cpath.as_ptr(), 0o600) }, 0);
        let mut reader = {
            use std::os::unix::fs::OpenOptionsExt;
            fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&fifo)
                .expect("open fifo")
        };
        let global = format!(
            "global_defs {{\n  enable_script_security\n  script_user root\n  vrrp_notify_fifo {}\n}}\n\
             vrrp_track_file tf {{\n  file {}\n  weight 1\n}}\n",
            fifo.display(),
            track.display()
        );
        let extra = format!(
            "  notify_priority_changes\n  notify_master_rx_lower_pri \"{}\"\n  track_file {{\n    tf\n  }}\n",
            lower.display()
        );
        let mut a = Daemon::start(
            kind,
            &t.lb1,
            &format!("{kind:?}"),
            &conf("p1", "BACKUP", 200, "1", &extra, &global),
        );
        assert!(
            wait_until(Duration::from_secs(8), || holds_vip(&t.lb1)).is_some(),
            "{}",
            a.log()
        );
        fs::write(&track, "10\n").expect("track file");
        let raised = wait_until(Duration::from_secs(5), || {
            a.log().contains("priority from 200 to 210")
        });
        assert!(raised.is_some(), "priority not raised:\n{}", a.log());
        // A lower priority master's advert (priority 100) from the client.
        inject_advert(&t.client, 51, 100, VIP);
        let heard = wait_until(Duration::from_secs(5), || {
            fs::read_to_string(&calls)
                .unwrap_or_default()
                .contains("rx_lower_pri")
        });
        std::thread::sleep(Duration::from_millis(500));
        a.stop();
        let mut fifo_lines = String::new();
        let _ = std::io::Read::read_to_string(&mut reader, &mut fifo_lines);
        assert!(
            heard.is_some(),
            "{kind:?}: no rx_lower_pri call:\n{}",
            a.log()
        );
        results.push((
            kind,
            fifo_lines,
            fs::read_to_string(&calls).unwrap_or_default(),
            a.log(),
        ));
    }
    let (_, kfifo, kcalls, klog) = &results[0];
    let (_, ofifo, ocalls, olog) = &results[1];
    println!("keepalived fifo:\n{kfifo}rkeepalived fifo:\n{ofifo}");
    assert!(
        kfifo.contains("INSTANCE \"VI_1\" MASTER_PRIORITY 210"),
        "{kfifo}"
    );
    assert!(
        kfifo.contains("INSTANCE \"VI_1\" MASTER_RX_LOWER_PRI 210"),
        "{kfifo}"
    );
    assert_eq!(ofifo, kfifo, "fifo lines differ\n{klog}\n{olog}");
    assert_eq!(ocalls, kcalls, "script calls differ");
}

/// Sync group tracking like keepalived: a group's `track_file` applies to every member (value
/// non-zero with weight 0 → both instances FAULT and both VIPs move), while a weighted
/// instance-level track_file in the group is ignored (no `sync_group_tracking_weight`).
#[test]
fn vrrp_sync_group_tracking_applies_to_members() {
    if !require_netns() {
        return;
    }
    let t = Topology::new("vgt");
    let dir = tempfile::tempdir().expect("tempdir");
    let (gfile, ifile) = (dir.path().join("group"), dir.path().join("inst"));
    fs::write(&gfile, "0\n").expect("write");
    // would take VI_1 from 150 to 50 if instance weights applied in a sync group
    fs::write(&ifile, "1\n").expect("write");
    let text = |prio: u8, name: &str, tracked: bool| {
        let (files, group_track, inst_track) = if tracked {
            (
                format!(
                    "vrrp_track_file gf {{\n  file {}\n  weight 0\n}}\nvrrp_track_file inf {{\n  file {}\n  weight -100\n}}\n",
                    gfile.display(),
                    ifile.display()
                ),
                "  track_file {\n    gf\n  }\n",
                "  track_file {\n    inf\n  }\n",
            )
        } else {
            (String::new(), "", "")
        };
        format!(
            "global_defs {{\n  router_id {name}\n}}\n{files}vrrp_sync_group G1 {{\n  group {{\n    VI_1\n    VI_2\n  }}\n{group_track}}}\n\
             vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  priority {prio}\n  advert_int 1\n{inst_track}  \
             virtual_ipaddress {{\n    {VIP}\n  }}\n}}\n\
             vrrp_instance VI_2 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 52\n  priority {prio}\n  advert_int 1\n  \
             virtual_ipaddress {{\n    192.168.57.223\n  }}\n}}\n"
        )
    };
    let a = Daemon::start(Impl::Ours, &t.lb1, "lb1", &text(150, "a", true));
    let b = Daemon::start(Impl::Ours, &t.lb2, "lb2", &text(100, "b", false));
    let both = |ns: &Ns| holds_vip(ns) && ns.has_addr("192.168.57.223");
    let none = |ns: &Ns| !holds_vip(ns) && !ns.has_addr("192.168.57.223");
    assert!(
        wait_until(Duration::from_secs(8), || both(&t.lb1) && none(&t.lb2)).is_some(),
        "lb1 should hold both (instance weight ignored):\n{}\n{}",
        a.log(),
        b.log()
    );
    fs::write(&gfile, "1\n").expect("write");
    assert!(
        wait_until(Duration::from_secs(8), || both(&t.lb2) && none(&t.lb1)).is_some(),
        "group track_file did not fault both members:\n{}\n{}",
        a.log(),
        b.log()
    );
    fs::write(&gfile, "0\n").expect("write");
    assert!(
        wait_until(Duration::from_secs(10), || both(&t.lb1) && none(&t.lb2)).is_some(),
        "group did not come back:\n{}\n{}",
        a.log(),
        b.log()
    );
}

/// Sends one VRRPv2 advert (no authentication) from the client, as a lower priority master.
fn inject_advert(client: &Ns, vrid: u8, priority: u8, vip: &str) {
    let vip: Ipv4Addr = vip.parse().unwrap();
    client.within(move || {
        use rhaproxy::vrrp::packet::{
            auth_key, encode_ipv4, Advert, AuthType, Ipv4Frame, VrrpVersion, MCAST_V4,
        };
        let advert = Advert {
            version: VrrpVersion::V2,
            vrid,
            priority,
            auth_type: AuthType::None,
            adver_int: 1,
            addrs: vec![std::net::IpAddr::V4(vip)],
            auth_key: auth_key(""),
        };
        let frame = Ipv4Frame {
            src: CLIENT.parse().unwrap(),
            dst: MCAST_V4,
            ttl: 255,
            ip_id: 11,
            ah: None,
            unicast: false,
        };
        let sock = socket2::Socket::new(
            socket2::Domain::IPV4,
            socket2::Type::RAW,
            Some(socket2::Protocol::from(112)),
        )
        .expect("raw socket");
        sock.set_header_included_v4(true).expect("hdrincl");
        sock.bind_device(Some(b"eth0")).expect("bind eth0");
        let dst = socket2::SockAddr::from(std::net::SocketAddrV4::new(MCAST_V4, 0));
        sock.send_to(&encode_ipv4(&advert, &frame), &dst)
            .expect("send advert");
    });
}

/// `garp_lower_prio_repeat` / `garp_lower_prio_delay`: a master hearing a lower priority
/// advert sends that many GARPs at once and again after the delay, as keepalived does
/// (rkeepalived on lb1 and keepalived on lb2, each master of its own VRID, same injected
/// adverts; GARPs counted on the client).
#[test]
fn vrrp_garp_lower_prio_matches_keepalived() {
    if !require_netns() || !require("keepalived") {
        return;
    }
    let t = Topology::new("vglp");
    let garp = "  garp_master_repeat 1\n  garp_master_delay 0\n  garp_lower_prio_repeat 2\n  garp_lower_prio_delay 1\n";
    let ours = conf("o", "BACKUP", 200, "1", garp, "")
        .replace("virtual_router_id 51", "virtual_router_id 73");
    let kal = conf("k", "BACKUP", 200, "1", garp, "")
        .replace("virtual_router_id 51", "virtual_router_id 74")
        .replace(VIP, "192.168.57.223");
    let o = Daemon::start(Impl::Ours, &t.lb1, "ours", &ours);
    let k = Daemon::start(Impl::Keepalived, &t.lb2, "keepalived", &kal);
    let up = wait_until(Duration::from_secs(8), || {
        holds_vip(&t.lb1) && t.lb2.has_addr("192.168.57.223")
    });
    assert!(up.is_some(), "{}\n{}", o.log(), k.log());
    std::thread::sleep(Duration::from_millis(500));
    let seen: Arc<Mutex<Vec<Ipv4Addr>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let (seen2, stop2) = (seen.clone(), stop.clone());
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let watcher = t.client.spawn_within(move || {
        let proto = socket2::Protocol::from(i32::from(0x0806u16.to_be()));
        let s = socket2::Socket::new(socket2::Domain::PACKET, socket2::Type::RAW, Some(proto))
            .expect("packet socket");
        s.set_read_timeout(Some(Duration::from_millis(20)))
            .expect("timeout");
        let _ = ready_tx.send(());
        let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 1600];
        while !stop2.load(AtomicOrdering::Relaxed) {
            if let Ok(n) = s.recv(&mut buf) {
                // SAFETY: recv initialised the first n bytes.
                let f: Vec<u8> = buf[..n]
                    .iter()
                    .map(|x| unsafe { x.assume_init() })
                    .collect();
                if f.len() >= 42
                    && f[12..14] == [8, 6]
                    && f[20..22] == [0, 1]
                    && f[28..32] == f[38..42]
                {
                    seen2
                        .lock()
                        .unwrap()
                        .push(Ipv4Addr::new(f[28], f[29], f[30], f[31]));
                }
            }
        }
    });
    ready_rx
        .recv_timeout(Duration::from_secs(2))
        .expect("watcher");
    inject_advert(&t.client, 73, 100, VIP);
    inject_advert(&t.client, 74, 100, "192.168.57.223");
    std::thread::sleep(Duration::from_millis(2500));
    stop.store(true, AtomicOrdering::Relaxed);
    let _ = watcher.join();
    let seen = seen.lock().unwrap().clone();
    let count = |ip: &str| {
        let ip: Ipv4Addr = ip.parse().unwrap();
        seen.iter().filter(|a| **a == ip).count()
    };
    let (co, ck) = (count(VIP), count("192.168.57.223"));
    println!("GARPs after a lower priority advert: rkeepalived {co}, keepalived {ck}");
    assert_eq!(ck, 4, "keepalived reference changed:\n{}", k.log());
    assert_eq!(co, ck, "ours differ from keepalived:\n{}", o.log());
}

/// Records gratuitous ARPs (address, time) seen on the client until the returned flag is set.
#[allow(clippy::type_complexity)]
fn garp_watcher(
    client: &Ns,
) -> (
    Arc<Mutex<Vec<(Instant, Ipv4Addr)>>>,
    Arc<AtomicBool>,
    std::thread::JoinHandle<()>,
) {
    let seen: Arc<Mutex<Vec<(Instant, Ipv4Addr)>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let (seen2, stop2) = (seen.clone(), stop.clone());
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let handle = client.spawn_within(move || {
        let proto = socket2::Protocol::from(i32::from(0x0806u16.to_be()));
        let s = socket2::Socket::new(socket2::Domain::PACKET, socket2::Type::RAW, Some(proto))
            .expect("packet socket");
        s.set_read_timeout(Some(Duration::from_millis(20)))
            .expect("timeout");
        let _ = ready_tx.send(());
        let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 1600];
        while !stop2.load(AtomicOrdering::Relaxed) {
            if let Ok(n) = s.recv(&mut buf) {
                // SAFETY: recv initialised the first n bytes.
                let f: Vec<u8> = buf[..n]
                    .iter()
                    .map(|x| unsafe { x.assume_init() })
                    .collect();
                if f.len() >= 42
                    && f[12..14] == [8, 6]
                    && f[20..22] == [0, 1]
                    && f[28..32] == f[38..42]
                {
                    seen2
                        .lock()
                        .unwrap()
                        .push((Instant::now(), Ipv4Addr::new(f[28], f[29], f[30], f[31])));
                }
            }
        }
    });
    ready_rx
        .recv_timeout(Duration::from_secs(2))
        .expect("watcher");
    (seen, stop, handle)
}

/// `vrrp_garp_interval`: the GARPs of a burst are spaced like keepalived's. keepalived sends
/// the first at once and marks the address pending for the rest (a pending address is not
/// queued twice), so `garp_master_repeat 3` with a 0.4 s interval gives 2 GARPs 0.4 s apart.
#[test]
fn vrrp_garp_interval_spaces_garps_like_keepalived() {
    if !require_netns() || !require("keepalived") {
        return;
    }
    let t = Topology::new("vgi");
    let (seen, stop, watcher) = garp_watcher(&t.client);
    let garp = "  garp_master_repeat 3\n  garp_master_delay 0\n";
    let global = "global_defs {\n  vrrp_garp_interval 0.4\n}\n";
    let ours = conf("o", "MASTER", 255, "1", garp, global)
        .replace("virtual_router_id 51", "virtual_router_id 75");
    let kal = conf("k", "MASTER", 255, "1", garp, global)
        .replace("virtual_router_id 51", "virtual_router_id 76")
        .replace(VIP, "192.168.57.223");
    let o = Daemon::start(Impl::Ours, &t.lb1, "ours", &ours);
    let k = Daemon::start(Impl::Keepalived, &t.lb2, "keepalived", &kal);
    std::thread::sleep(Duration::from_millis(5000));
    stop.store(true, AtomicOrdering::Relaxed);
    let _ = watcher.join();
    let seen = seen.lock().unwrap().clone();
    let span = |ip: &str| -> Option<(usize, Duration)> {
        let ip: Ipv4Addr = ip.parse().unwrap();
        let times: Vec<Instant> = seen
            .iter()
            .filter(|(_, a)| *a == ip)
            .map(|(t, _)| *t)
            .collect();
        Some((times.len(), *times.last()? - *times.first()?))
    };
    let (so, sk) = (span(VIP), span("192.168.57.223"));
    println!("GARP count and first-to-last span: rkeepalived {so:?}, keepalived {sk:?}");
    let (Some((no, dto)), Some((nk, dtk))) = (so, sk) else {
        panic!("no GARPs seen:\n{}\n{}", o.log(), k.log());
    };
    assert_eq!(no, nk, "GARP counts differ\n{}", k.log());
    assert!(
        dtk >= Duration::from_millis(300),
        "keepalived reference changed: {dtk:?}"
    );
    assert!(
        dto >= Duration::from_millis(300) && dto <= dtk + Duration::from_millis(300),
        "ours not spaced like keepalived: {dto:?} vs {dtk:?}\n{}",
        o.log()
    );
}

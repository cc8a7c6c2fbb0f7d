//! VRRP engine tests: `rkeepalived` instances (and Debian's keepalived 2.2.7 as a peer) in
//! network namespaces on a bridge, with the seed lab's 192.168.57.0/24 addresses.
//!
//! Every test builds its own [`Lab`]; nothing leaves the namespaces. Failover figures are printed
//! (`cargo test -- --nocapture`) and asserted only against generous bounds.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
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

    // Frozen master: the backup takes over after 3 × 1 s + skew (100) = 3.61 s.
    a.signal_vrrp(libc::SIGSTOP);
    let took =
        wait_until(Duration::from_secs(8), || holds_vip(&t.lb2)).expect("backup never took over");
    println!(
        "rkeepalived v2 SIGSTOP failover (advert 1 s, backup prio 100): {}",
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
    // lb2 (priority 100) starts alone and becomes master
    let b = Daemon::start(
        Impl::Ours,
        &t.lb2,
        "lb2",
        &conf("test2", "BACKUP", 100, "1", "", ""),
    );
    assert!(
        wait_until(Duration::from_secs(8), || holds_vip(&t.lb2)).is_some(),
        "{}",
        b.log()
    );
    // lb1 (priority 150, nopreempt) joins: it must not take the VIP
    let a = Daemon::start(
        Impl::Ours,
        &t.lb1,
        "lb1",
        &conf("test1", "BACKUP", 150, "1", "  nopreempt\n", ""),
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
        &conf("test1", "BACKUP", 150, "1", "", ""),
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
    let track = "  track_script {\n    chk\n  }\n";
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
    a.signal_vrrp(libc::SIGSTOP);
    let took = wait_until(Duration::from_secs(3), || holds_vip(&t.lb2)).expect("no v3 takeover");
    println!(
        "rkeepalived v3 100 ms SIGSTOP failover (backup prio 100, expected 0.361 s): {}",
        secs(took)
    );
    assert!(
        took < Duration::from_millis(1000),
        "v3 failover took {}",
        secs(took)
    );
    a.signal_vrrp(libc::SIGCONT);
}

/// Sends crafted VRRP packets from the client namespace; the master must drop and count them.
#[test]
fn vrrp_drops_and_counts_bad_packets() {
    use rhaproxy::vrrp::packet::{
        auth_key, encode_ipv4, Advert, AuthType, Ipv4Frame, VrrpVersion, MCAST_V4,
    };
    use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
    if !require_netns() {
        return;
    }
    let t = Topology::new("vbad");
    let mut a = Daemon::start(
        Impl::Ours,
        &t.lb1,
        "lb1",
        &conf("test1", "MASTER", 150, "1", PASS, ""),
    );
    assert!(
        wait_until(Duration::from_secs(8), || holds_vip(&t.lb1)).is_some(),
        "{}",
        a.log()
    );
    let vip: Ipv4Addr = VIP.parse().unwrap();
    let good = Advert {
        version: VrrpVersion::V2,
        vrid: 51,
        priority: 254,
        auth_type: AuthType::Pass,
        adver_int: 1,
        addrs: vec![IpAddr::V4(vip)],
        auth_key: auth_key("123456"),
    };
    let src: Ipv4Addr = CLIENT.parse().unwrap();
    let frame = Ipv4Frame {
        src,
        dst: MCAST_V4,
        ttl: 255,
        ip_id: 9,
        ah: None,
        unicast: false,
    };
    let mut packets: Vec<(&str, Vec<u8>)> = Vec::new();
    let wrong_pass = Advert {
        auth_key: auth_key("guess"),
        ..good.clone()
    };
    packets.push(("wrong password", encode_ipv4(&wrong_pass, &frame)));
    packets.push((
        "ttl 64",
        encode_ipv4(&good, &Ipv4Frame { ttl: 64, ..frame }),
    ));
    let mut short = encode_ipv4(&good, &frame);
    short.truncate(short.len() - 3);
    let n = short.len() as u16;
    short[2..4].copy_from_slice(&n.to_be_bytes());
    packets.push(("truncated", short));
    let mut bad_sum = encode_ipv4(&good, &frame);
    bad_sum[26] ^= 0x5a;
    packets.push(("bad checksum", bad_sum));
    packets.push((
        "garbage",
        vec![
            0x45, 0, 0, 24, 0, 0, 0, 0, 255, 112, 0, 0, 192, 168, 57, 10, 224, 0, 0, 18, 0xff,
            0xff, 0xff, 0xff,
        ],
    ));
    let sent = t.client.within(move || {
        let s = socket2::Socket::new(
            socket2::Domain::IPV4,
            socket2::Type::RAW,
            Some(socket2::Protocol::from(112)),
        )
        .expect("raw socket");
        s.set_header_included_v4(true).expect("hdrincl");
        s.bind_device(Some(b"eth0")).expect("bind eth0");
        let dst = socket2::SockAddr::from(SocketAddrV4::new(MCAST_V4, 0));
        let mut n = 0;
        for round in 0..3 {
            for (_, p) in &packets {
                if s.send_to(p, &dst).is_ok() {
                    n += 1;
                }
            }
            let _ = round;
            std::thread::sleep(Duration::from_millis(50));
        }
        n
    });
    assert_eq!(sent, 15);
    std::thread::sleep(Duration::from_millis(500));
    assert!(a.alive(), "daemon died:\n{}", a.log());
    assert!(
        holds_vip(&t.lb1),
        "a bogus priority 254 advert displaced the master:\n{}",
        a.log()
    );
    let stats = a.stats();
    let count = |section: &str, key: &str| -> u64 {
        let body = stats.split(section).nth(1).unwrap_or("");
        body.lines()
            .find(|l| l.trim_start().starts_with(key))
            .and_then(|l| l.split(':').nth(1))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    assert!(count("Authentication Errors:", "Failure") >= 3, "{stats}");
    assert!(count("Packet Errors:", "TTL") >= 3, "{stats}");
    assert!(count("Packet Errors:", "Length") >= 6, "{stats}");
    assert!(count("Other Errors:", "Checksum") >= 3, "{stats}");
    let log = a.log();
    assert!(log.contains("(VI_1) received an invalid passwd!"), "{log}");
    assert!(
        log.contains("invalid TTL/HL. Received 64 and expect 255"),
        "{log}"
    );
    assert!(a.data().contains("State = MASTER"));
}

// ---------------------------------------------------------------------------------------------
// Interoperation with keepalived 2.2.7

/// keepalived (priority 150) and rkeepalived (priority 100) in one VRID: ours backs up to it,
/// takes over when keepalived freezes, and hands back; then the roles swap.
fn interop(tag: &str, auth: &str, version_line: &str, advert: &str) {
    if !require_netns() || !require("keepalived") {
        return;
    }
    let t = Topology::new(tag);
    let extra = format!("{auth}{version_line}");
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
        &conf("kal", "BACKUP", 150, advert, &extra, ""),
    );
    let o = Daemon::start(
        Impl::Ours,
        &t.lb2,
        "rkeepalived",
        &conf("ours", "BACKUP", 100, advert, &extra, ""),
    );
    elect(&t.lb1, &k, &t.lb2, &o, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis((3000.0 * adv_s) as u64 + 500));
    assert!(
        holds_vip(&t.lb1) && !holds_vip(&t.lb2),
        "unstable with keepalived master:\n{}\n{}",
        k.log(),
        o.log()
    );
    k.signal_vrrp(libc::SIGSTOP);
    let took = wait_until(down_100 + margin + Duration::from_secs(2), || {
        holds_vip(&t.lb2)
    })
    .unwrap_or_else(|| {
        panic!(
            "rkeepalived did not take over from frozen keepalived:\n{}",
            o.log()
        )
    });
    println!(
        "[{tag}] rkeepalived (100) replaces frozen keepalived: {} (expected {})",
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
        &conf("ours", "BACKUP", 150, advert, &extra, ""),
    );
    let k = Daemon::start(
        Impl::Keepalived,
        &t.lb2,
        "keepalived",
        &conf("kal", "BACKUP", 100, advert, &extra, ""),
    );
    elect(&t.lb1, &o, &t.lb2, &k, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis((3000.0 * adv_s) as u64 + 500));
    assert!(
        holds_vip(&t.lb1) && !holds_vip(&t.lb2),
        "unstable with rkeepalived master:\n{}\n{}",
        o.log(),
        k.log()
    );
    o.signal_vrrp(libc::SIGSTOP);
    let took = wait_until(down_100 + margin + Duration::from_secs(2), || {
        holds_vip(&t.lb2)
    })
    .unwrap_or_else(|| {
        panic!(
            "keepalived did not take over from frozen rkeepalived:\n{}",
            k.log()
        )
    });
    println!(
        "[{tag}] keepalived (100) replaces frozen rkeepalived: {} (expected {})",
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
        a.signal_vrrp(libc::SIGSTOP);
        let took =
            wait_until(Duration::from_secs(8), || holds_vip(&t.lb2)).expect("keepalived failover");
        println!(
            "reference keepalived {label} SIGSTOP failover: {} (expected {} ms)",
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
}

//! keepalived `virtual_server` tests: `rkeepalived` as an LVS-NAT director in a namespace LAN,
//! with nginx real servers (each answers `/` with its own name and serves `/lbstate` from a file
//! the test rewrites), a client namespace, and the VIP held by rkeepalived's own VRRP instance.
//!
//! Everything lives in namespaces the tests create ([`Lab`]); nothing leaves them.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::netns::{require_netns, Lab, Ns};
use crate::util::{require, rkeepalived_bin};

const VIP: &str = "10.0.0.10";
const LBSTATE_OK: &str = "state ok\n";

fn md5_hex(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A process started in a namespace; killed on drop.
struct Proc {
    child: Child,
    dir: PathBuf,
    log: PathBuf,
}

impl Proc {
    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // SIGTERM first: nginx's master then stops its workers too.
        // SAFETY: signalling a process this test started.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = wait_until(Duration::from_secs(3), || {
            matches!(self.child.try_wait(), Ok(Some(_)))
        });
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = &self.dir;
    }
}

#[allow(dead_code)]
/// An nginx real server: `/` answers `NAME`, `/lbstate` is a file, on ports 80, 3000 and `extra`.
struct RealServer {
    name: String,
    ns: Ns,
    www: PathBuf,
    _proc: Proc,
}

impl RealServer {
    fn start(ns: &Ns, name: &str, tmp: &Path, ports: &[u16]) -> RealServer {
        Self::start_with(ns, name, tmp, ports, "")
    }

    /// Same, with `extra` lines inside nginx's server block (e.g. a TLS listener).
    fn start_with(ns: &Ns, name: &str, tmp: &Path, ports: &[u16], extra: &str) -> RealServer {
        let dir = tmp.join(name);
        let www = dir.join("www");
        fs::create_dir_all(&www).unwrap();
        fs::write(www.join("lbstate"), LBSTATE_OK).unwrap();
        let listens: String = ports.iter().map(|p| format!("listen {p};\n")).collect();
        let d = dir.display();
        let conf = format!(
            "user root;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n access_log off;\n client_body_temp_path {d}/t1;\n proxy_temp_path {d}/t2;\n\
             fastcgi_temp_path {d}/t3;\n uwsgi_temp_path {d}/t4;\n scgi_temp_path {d}/t5;\n\
             default_type text/plain;\n\
             server {{\n {listens} {extra}\n root {www};\n location = / {{ return 200 \"{name}\\n\"; }}\n }}\n}}\n",
            www = www.display()
        );
        let conf_path = dir.join("nginx.conf");
        fs::write(&conf_path, conf).unwrap();
        let log = dir.join("stderr");
        let child = ns
            .command("nginx")
            .arg("-p")
            .arg(&dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(&conf_path)
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawn nginx");
        let rs = RealServer {
            name: name.to_owned(),
            ns: ns.clone(),
            www,
            _proc: Proc {
                child,
                dir: dir.clone(),
                log,
            },
        };
        let port = ports[0];
        let ok = wait_until(Duration::from_secs(10), || {
            ns.within(move || {
                TcpStream::connect_timeout(
                    &SocketAddr::from(([127, 0, 0, 1], port)),
                    Duration::from_millis(500),
                )
                .is_ok()
            })
        });
        assert!(
            ok.is_some(),
            "nginx {name} did not start: {}",
            rs._proc.log()
        );
        rs
    }

    fn set_lbstate(&self, body: &str) {
        let tmp = self.www.join("lbstate.tmp");
        fs::write(&tmp, body).unwrap();
        fs::rename(&tmp, self.www.join("lbstate")).unwrap();
    }
}

/// rkeepalived running on the director.
struct Director {
    proc: Proc,
}

impl Director {
    fn start(ns: &Ns, tmp: &Path, name: &str, conf: &str) -> Director {
        let dir = tmp.join(name);
        fs::create_dir_all(&dir).unwrap();
        let conf_path = dir.join("keepalived.conf");
        fs::write(&conf_path, conf).unwrap();
        let log = dir.join("log");
        let f = fs::File::create(&log).unwrap();
        let child = ns
            .command(&rkeepalived_bin().to_string_lossy())
            .args(["-n", "-l", "-D", "-f"])
            .arg(&conf_path)
            .arg("-p")
            .arg(dir.join("k.pid"))
            .arg("-r")
            .arg(dir.join("v.pid"))
            .stdin(Stdio::null())
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .expect("spawn rkeepalived");
        Director {
            proc: Proc { child, dir, log },
        }
    }

    fn log(&self) -> String {
        self.proc.log()
    }

    /// Waits until the log contains `text`.
    fn wait_log(&self, text: &str, timeout: Duration) {
        let ok = wait_until(timeout, || self.log().contains(text));
        assert!(
            ok.is_some(),
            "rkeepalived never logged {text:?}; log:\n{}",
            self.log()
        );
    }

    fn stop(&mut self) {
        // SAFETY: signalling a process this test started.
        unsafe { libc::kill(self.proc.child.id() as i32, libc::SIGTERM) };
        let _ = wait_until(Duration::from_secs(5), || {
            matches!(self.proc.child.try_wait(), Ok(Some(_)))
        });
    }
}

fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if cond() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// `n` sequential new connections from `client` to `vip:port` (optionally from `src`), each a
/// `GET /`; returns the answers (first line; "" when refused / reset).
fn fetch_many(client: &Ns, vip: &str, port: u16, n: usize) -> Vec<String> {
    let addr: SocketAddr = format!("{vip}:{port}").parse().unwrap();
    client.within(move || {
        (0..n)
            .map(|_| {
                let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
                    return String::new();
                };
                let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
                if s.write_all(b"GET / HTTP/1.0\r\n\r\n").is_err() {
                    return String::new();
                }
                let mut out = String::new();
                let _ = s.read_to_string(&mut out);
                match out.split_once("\r\n\r\n") {
                    Some((_, body)) => body.trim().to_owned(),
                    None => String::new(),
                }
            })
            .collect()
    })
}

fn count(answers: &[String], name: &str) -> usize {
    answers.iter().filter(|a| a.as_str() == name).count()
}

/// The LAN: director 10.0.0.2 (VIP 10.0.0.10 through VRRP), client 10.0.0.100, real servers
/// 10.0.0.11.. and a sorry server 10.0.0.5.
struct LvsLab {
    rs: Vec<RealServer>,
    sorry: Option<RealServer>,
    director: Ns,
    client: Ns,
    tmp: tempfile::TempDir,
    lab: Lab,
}

impl LvsLab {
    fn new(tag: &str, real_servers: usize, sorry: bool) -> LvsLab {
        let mut lab = Lab::new(tag);
        let tmp = tempfile::tempdir().unwrap();
        let director = lab.node("dir", "eth0", "10.0.0.2/24");
        let client = lab.node("cli", "eth0", "10.0.0.100/24");
        let mut rs = Vec::new();
        for i in 0..real_servers {
            let name = format!("rs{}", i + 1);
            let ns = lab.node(&name, "eth0", &format!("10.0.0.{}/24", 11 + i));
            rs.push(RealServer::start(&ns, &name, tmp.path(), &[80, 3000]));
        }
        let sorry = sorry.then(|| {
            let ns = lab.node("sorry", "eth0", "10.0.0.5/24");
            RealServer::start(&ns, "sorry", tmp.path(), &[80])
        });
        LvsLab {
            rs,
            sorry,
            director,
            client,
            tmp,
            lab,
        }
    }

    fn start(&self, conf: &str) -> Director {
        let d = Director::start(&self.director, self.tmp.path(), "director", conf);
        let ok = wait_until(Duration::from_secs(15), || self.director.has_addr(VIP));
        assert!(ok.is_some(), "VIP never assigned; log:\n{}", d.log());
        d
    }
}

/// A VRRP instance holding the VIP on the director (MASTER at once: priority 255 owner style).
fn vrrp_block(prio: u8) -> String {
    format!(
        "vrrp_instance VI_LVS {{\n state MASTER\n interface eth0\n virtual_router_id 61\n \
         priority {prio}\n advert_int 1\n virtual_ipaddress {{\n  {VIP}/24\n }}\n}}\n"
    )
}

fn real_server(ip: &str, weight: u32, check: &str) -> String {
    format!(" real_server {ip} 80 {{\n  weight {weight}\n{check} }}\n")
}

fn tcp_check() -> String {
    "  TCP_CHECK {\n   connect_timeout 2\n  }\n".to_owned()
}

fn http_check(digest: &str) -> String {
    format!(
        "  HTTP_GET {{\n   url {{\n    path /lbstate\n    digest {digest}\n   }}\n   \
         connect_port 3000\n   connect_timeout 2\n   retry 0\n  }}\n"
    )
}

#[test]
fn lvs_schedulers_over_new_connections() {
    if !require_netns() || !require("nginx") {
        return;
    }
    let lab = LvsLab::new("lvss", 3, false);
    let tcp = tcp_check();
    let conf = format!(
        "{vrrp}\
         virtual_server {VIP} 80 {{\n delay_loop 1\n lb_algo wrr\n lb_kind NAT\n protocol TCP\n\
         {a}{b}}}\n\
         virtual_server {VIP} 81 {{\n delay_loop 1\n lb_algo rr\n lb_kind NAT\n protocol TCP\n\
         {c}{d}{e}}}\n\
         virtual_server {VIP} 82 {{\n delay_loop 1\n lb_algo sh\n lb_kind NAT\n protocol TCP\n\
         {c}{d}{e}}}\n\
         virtual_server {VIP} 83 {{\n delay_loop 1\n lb_algo wlc\n lb_kind NAT\n protocol TCP\n\
         {c}{f}{e}}}\n",
        vrrp = vrrp_block(150),
        a = real_server("10.0.0.11", 2, &tcp),
        b = real_server("10.0.0.12", 1, &tcp),
        c = real_server("10.0.0.11", 1, &tcp),
        d = real_server("10.0.0.12", 1, &tcp),
        e = real_server("10.0.0.13", 1, &tcp),
        f = real_server("10.0.0.12", 0, &tcp),
    );
    let d = lab.start(&conf);
    // (port, requests, expected answers per real server)
    let table: &[(u16, usize, [usize; 3])] = &[
        (80, 30, [20, 10, 0]),  // wrr 2:1 exactly
        (81, 30, [10, 10, 10]), // rr
    ];
    for (port, n, want) in table {
        let answers = fetch_many(&lab.client, VIP, *port, *n);
        let got = [
            count(&answers, "rs1"),
            count(&answers, "rs2"),
            count(&answers, "rs3"),
        ];
        assert_eq!(&got, want, "port {port}: {answers:?}\nlog:\n{}", d.log());
    }
    // wlc: the weight-0 (quiesced) server gets nothing
    let answers = fetch_many(&lab.client, VIP, 83, 6);
    assert_eq!(count(&answers, "rs2"), 0, "{answers:?}");
    assert_eq!(
        count(&answers, "rs1") + count(&answers, "rs3"),
        6,
        "{answers:?}"
    );
    // sh: one client always lands on the same real server
    let answers = fetch_many(&lab.client, VIP, 82, 9);
    assert!(
        !answers[0].is_empty() && answers.iter().all(|a| a == &answers[0]),
        "sh: {answers:?}"
    );
}

#[test]
fn lvs_digest_change_takes_server_out_and_back() {
    if !require_netns() || !require("nginx") {
        return;
    }
    let lab = LvsLab::new("lvsd", 2, false);
    let http = http_check(&md5_hex(LBSTATE_OK.as_bytes()));
    let conf = format!(
        "{vrrp}virtual_server {VIP} 80 {{\n delay_loop 1\n lb_algo rr\n lb_kind NAT\n\
         protocol TCP\n{a}{b}}}\n",
        vrrp = vrrp_block(150),
        a = real_server("10.0.0.11", 1, &http),
        b = real_server("10.0.0.12", 1, &http),
    );
    let d = lab.start(&conf);
    d.wait_log(
        "Remote Web server [10.0.0.11]:tcp:80 succeed on service.",
        Duration::from_secs(10),
    );
    let answers = fetch_many(&lab.client, VIP, 80, 10);
    assert_eq!(
        (count(&answers, "rs1"), count(&answers, "rs2")),
        (5, 5),
        "{answers:?}"
    );

    lab.rs[0].set_lbstate("state changed\n");
    d.wait_log(
        "Removing service [10.0.0.11]:tcp:80 from VS [10.0.0.10]:tcp:80",
        Duration::from_secs(15),
    );
    assert!(d
        .log()
        .contains("HTTP_CHECK on service [10.0.0.11]:tcp:80 failed"));
    let answers = fetch_many(&lab.client, VIP, 80, 10);
    assert_eq!(count(&answers, "rs2"), 10, "{answers:?}");

    lab.rs[0].set_lbstate(LBSTATE_OK);
    d.wait_log(
        "Adding service [10.0.0.11]:tcp:80 to VS [10.0.0.10]:tcp:80",
        Duration::from_secs(15),
    );
    let answers = fetch_many(&lab.client, VIP, 80, 10);
    assert_eq!(
        (count(&answers, "rs1"), count(&answers, "rs2")),
        (5, 5),
        "{answers:?}"
    );
}

#[test]
fn lvs_sorry_server_when_all_down() {
    if !require_netns() || !require("nginx") {
        return;
    }
    let lab = LvsLab::new("lvsy", 2, true);
    let http = http_check(&md5_hex(LBSTATE_OK.as_bytes()));
    let conf = format!(
        "{vrrp}virtual_server {VIP} 80 {{\n delay_loop 1\n lb_algo wrr\n lb_kind NAT\n\
         protocol TCP\n sorry_server 10.0.0.5 80\n{a}{b}}}\n",
        vrrp = vrrp_block(150),
        a = real_server("10.0.0.11", 1, &http),
        b = real_server("10.0.0.12", 1, &http),
    );
    let d = lab.start(&conf);
    let answers = fetch_many(&lab.client, VIP, 80, 4);
    assert_eq!(count(&answers, "sorry"), 0, "{answers:?}");
    for rs in &lab.rs {
        rs.set_lbstate("maintenance\n");
    }
    d.wait_log(
        "Adding sorry server [10.0.0.5]:tcp:80 to VS [10.0.0.10]:tcp:80",
        Duration::from_secs(15),
    );
    assert!(d
        .log()
        .contains("Lost quorum 1-0=1 > 0 for VS [10.0.0.10]:tcp:80"));
    let answers = fetch_many(&lab.client, VIP, 80, 6);
    assert_eq!(count(&answers, "sorry"), 6, "{answers:?}");

    lab.rs[1].set_lbstate(LBSTATE_OK);
    d.wait_log(
        "Removing sorry server [10.0.0.5]:tcp:80 from VS [10.0.0.10]:tcp:80",
        Duration::from_secs(15),
    );
    let answers = fetch_many(&lab.client, VIP, 80, 4);
    assert_eq!(count(&answers, "rs2"), 4, "{answers:?}");
    assert!(lab.sorry.is_some());
}

#[test]
fn lvs_persistence_keeps_client_on_one_server() {
    if !require_netns() || !require("nginx") {
        return;
    }
    let mut lab = LvsLab::new("lvsp", 3, false);
    let client2 = lab.lab.node("cli2", "eth0", "10.0.0.101/24");
    let tcp = tcp_check();
    let conf = format!(
        "{vrrp}virtual_server {VIP} 80 {{\n delay_loop 1\n lb_algo rr\n lb_kind NAT\n\
         persistence_timeout 50\n protocol TCP\n{a}{b}{c}}}\n",
        vrrp = vrrp_block(150),
        a = real_server("10.0.0.11", 1, &tcp),
        b = real_server("10.0.0.12", 1, &tcp),
        c = real_server("10.0.0.13", 1, &tcp),
    );
    let _d = lab.start(&conf);
    let first = fetch_many(&lab.client, VIP, 80, 12);
    assert!(
        !first[0].is_empty() && first.iter().all(|a| a == &first[0]),
        "client 1 moved: {first:?}"
    );
    let second = fetch_many(&client2, VIP, 80, 12);
    assert!(
        !second[0].is_empty() && second.iter().all(|a| a == &second[0]),
        "client 2 moved: {second:?}"
    );
    // rr gives the second client's template the next server
    assert_ne!(first[0], second[0]);
    // client 1 still sticks after client 2's connections
    let again = fetch_many(&lab.client, VIP, 80, 3);
    assert!(again.iter().all(|a| a == &first[0]), "{again:?}");
}

#[test]
fn lvs_genhash_matches_md5sum_and_keepalived() {
    if !require_netns() || !require("nginx") {
        return;
    }
    let lab = LvsLab::new("lvsg", 1, false);
    let body = "some page\nwith two lines\n";
    lab.rs[0].set_lbstate(body);
    let out = lab.client.run_ok(&[
        &rkeepalived_bin().to_string_lossy(),
        "--genhash",
        "-s",
        "10.0.0.11",
        "-p",
        "3000",
        "-u",
        "/lbstate",
    ]);
    let md5sum = Command::new("md5sum")
        .arg(lab.rs[0].www.join("lbstate"))
        .output()
        .unwrap();
    let md5sum = String::from_utf8_lossy(&md5sum.stdout);
    let want = md5sum.split_whitespace().next().unwrap_or("");
    assert_eq!(out.trim(), want);
    assert_eq!(out.trim(), md5_hex(body.as_bytes()));
    // differential: Debian's keepalived --genhash on the same page
    if crate::util::have("keepalived") {
        let theirs = lab.client.run_ok(&[
            "keepalived",
            "--genhash",
            "-s",
            "10.0.0.11",
            "-p",
            "3000",
            "-u",
            "/lbstate",
        ]);
        assert_eq!(out.trim(), theirs.trim());
        // a refused connection: same message from both
        let ours = lab.client.run(&[
            &rkeepalived_bin().to_string_lossy(),
            "--genhash",
            "-s",
            "10.0.0.11",
            "-p",
            "4444",
            "-u",
            "/",
        ]);
        let theirs = lab.client.run(&[
            "keepalived",
            "--genhash",
            "-s",
            "10.0.0.11",
            "-p",
            "4444",
            "-u",
            "/",
        ]);
        assert_eq!(
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&theirs.stdout)
        );
        assert_eq!(ours.status.code(), theirs.status.code());
    }
}

#[test]
fn lvs_backup_serves_nothing_master_takes_over() {
    if !require_netns() || !require("nginx") {
        return;
    }
    let mut lab = LvsLab::new("lvsb", 1, false);
    let backup_ns = lab.lab.node("dir2", "eth0", "10.0.0.3/24");
    let tcp = tcp_check();
    let vs = format!(
        "virtual_server {VIP} 80 {{\n delay_loop 1\n ha_suspend\n lb_algo rr\n lb_kind NAT\n protocol TCP\n{a}}}\n",
        a = real_server("10.0.0.11", 1, &tcp)
    );
    let mut master = lab.start(&format!("{}{vs}", vrrp_block(150)));
    let backup_conf = format!("{}{vs}", vrrp_block(100).replace("MASTER", "BACKUP"));
    let backup = Director::start(&backup_ns, lab.tmp.path(), "backup", &backup_conf);
    backup.wait_log("Entering BACKUP STATE", Duration::from_secs(10));
    assert!(!backup_ns.has_addr(VIP));
    let answers = fetch_many(&lab.client, VIP, 80, 3);
    assert_eq!(count(&answers, "rs1"), 3, "{answers:?}");
    // the backup listens (FREEBIND) but the kernel gives it nothing: the VIP is not local
    let direct = fetch_many(&backup_ns, VIP, 80, 1);
    assert_eq!(
        direct,
        vec!["rs1".to_owned()],
        "reached the master's VIP over the LAN"
    );

    // ha_suspend: the backup's checkers wait for the VIP
    master.wait_log(
        "Activating healthchecker for service [10.0.0.11]:tcp:80 for VS [10.0.0.10]:tcp:80",
        Duration::from_secs(5),
    );
    assert!(
        !backup.log().contains("TCP connection to"),
        "{}",
        backup.log()
    );

    master.stop();
    let ok = wait_until(Duration::from_secs(10), || backup_ns.has_addr(VIP));
    assert!(ok.is_some(), "backup never took the VIP:\n{}", backup.log());
    // the client's ARP cache follows the gratuitous ARP
    let ok = wait_until(Duration::from_secs(10), || {
        count(&fetch_many(&lab.client, VIP, 80, 1), "rs1") == 1
    });
    assert!(ok.is_some(), "new master does not serve:\n{}", backup.log());
    backup.wait_log(
        "Activating healthchecker for service [10.0.0.11]:tcp:80 for VS [10.0.0.10]:tcp:80",
        Duration::from_secs(5),
    );
}

/// The seed 003 "FO + LB" lb1 config with its own addresses (203.0.113.0/24 public side on
/// eth0, 10.0.0.0/24 LAN on bond0), AH-authenticated VRRP in a sync group, and the slide's
/// virtual_server: wrr, NAT, persistence 50 s, sorry server, TCP_CHECK + HTTP_GET of /lbstate
/// on port 3000 (the digest is templated to our page's).
#[test]
fn lvs_seed_003_config_runs() {
    if !require_netns() || !require("nginx") {
        return;
    }
    let conf_path =
        crate::util::repo_root().join("examples/003-keepalived-ah-sync-ipvs/lb1/keepalived.conf");
    let conf = fs::read_to_string(&conf_path).unwrap();
    assert!(conf.contains("9f170475f8fbb9d178c358323fcbf49f"));
    let conf = conf.replace(
        "9f170475f8fbb9d178c358323fcbf49f",
        &md5_hex(LBSTATE_OK.as_bytes()),
    );
    let mut lab = Lab::new("lvs3");
    let tmp = tempfile::tempdir().unwrap();
    let director = lab.node("lb1", "eth0", "203.0.113.2/24");
    lab.connect(&director, "bond0", Some("10.0.0.2/24"));
    let client = lab.node("cli", "eth0", "203.0.113.100/24");
    let mut rs = Vec::new();
    for (i, ip) in ["10.0.0.11", "10.0.0.12"].iter().enumerate() {
        let name = format!("rs{}", i + 1);
        let ns = lab.node(&name, "eth0", &format!("{ip}/24"));
        // LVS-NAT: the real servers' gateway is the LAN VIP
        ns.ip(&["route", "add", "default", "via", "10.0.0.1"]);
        rs.push(RealServer::start(&ns, &name, tmp.path(), &[80, 3000]));
    }
    let d = Director::start(&director, tmp.path(), "lb1", &conf);
    let ok = wait_until(Duration::from_secs(15), || {
        director.has_addr("203.0.113.10") && director.has_addr("10.0.0.1")
    });
    assert!(ok.is_some(), "VIPs never assigned; log:\n{}", d.log());
    let answers = fetch_many(&client, "203.0.113.10", 80, 6);
    assert!(
        (answers[0] == "rs1" || answers[0] == "rs2") && answers.iter().all(|a| a == &answers[0]),
        "persistence 50 s keeps the client: {answers:?}\nlog:\n{}",
        d.log()
    );
    // stop the client's real server: TCP_CHECK takes it out, the template goes with it
    let idx = if answers[0] == "rs1" { 0 } else { 1 };
    let other = if idx == 0 { "rs2" } else { "rs1" };
    let stopped = rs.remove(idx);
    let ip = if idx == 0 { "10.0.0.11" } else { "10.0.0.12" };
    drop(stopped);
    d.wait_log(
        &format!("Removing service [{ip}]:tcp:80 from VS [203.0.113.10]:tcp:80"),
        Duration::from_secs(30),
    );
    let answers = fetch_many(&client, "203.0.113.10", 80, 3);
    assert!(answers.iter().all(|a| a == other), "{answers:?}");
    let _ = &rs;
}

/// `-t` says what the user-space balancer cannot do, at the line, without changing the verdict.
#[test]
fn lvs_config_test_notes_kernel_only_features() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("k.conf");
    fs::write(
        &path,
        "virtual_server 192.0.2.1 80 {\n lb_algo rr\n lb_kind DR\n real_server 192.0.2.11 80 {\n  weight 1\n }\n}\n\
         virtual_server fwmark 7 {\n lb_algo rr\n lb_kind NAT\n real_server 192.0.2.12 80 {\n }\n}\n",
    )
    .unwrap();
    let out = Command::new(rkeepalived_bin())
        .arg("-t")
        .arg("-f")
        .arg(&path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let file = path.display();
    let want = [
        // keepalived defaults a missing protocol to UDP (and says so)
        "Virtual server [192.0.2.1]:none:80: no protocol set - defaulting to UDP".to_owned(),
        format!("({file}: Line 1) virtual_server [192.0.2.1]:udp:80: lb_kind DR needs kernel IPVS"),
        format!(
            "({file}: Line 8) virtual_server fwmark 7: firewall-mark services need kernel IPVS"
        ),
    ];
    for w in &want {
        assert!(err.contains(w.as_str()), "missing {w:?} in:\n{err}");
    }
    if crate::util::have("keepalived") {
        let theirs = Command::new("keepalived")
            .arg("-t")
            .arg("-f")
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), theirs.status.code(), "{err}");
    }
}

/// `n` UDP flows (a new client socket each) to `vip:port`; returns the first reply line of each.
fn udp_many(client: &Ns, vip: &str, port: u16, n: usize) -> Vec<String> {
    let addr: SocketAddr = format!("{vip}:{port}").parse().unwrap();
    client.within(move || {
        (0..n)
            .map(|_| {
                let s = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let _ = s.send_to(b"q\n", addr);
                let mut buf = [0u8; 512];
                match s.recv_from(&mut buf) {
                    Ok((n, _)) => String::from_utf8_lossy(&buf[..n]).trim().to_owned(),
                    Err(_) => String::new(),
                }
            })
            .collect()
    })
}

fn script(path: &Path, body: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

/// UDP service, MISC_CHECK with misc_dynamic weights, inhibit_on_failure, notify_up/down, omega.
#[test]
fn lvs_udp_misc_dynamic_inhibit_notify_omega() {
    if !require_netns() || !require("nginx") || !require("socat") {
        return;
    }
    let lab = LvsLab::new("lvsu", 2, false);
    let _udp: Vec<Proc> = lab
        .rs
        .iter()
        .map(|rs| {
            let log = lab.tmp.path().join(format!("{}-socat", rs.name));
            let child = rs
                .ns
                .command("socat")
                .args([
                    "UDP4-RECVFROM:5353,fork",
                    &format!("SYSTEM:read x; echo {}", rs.name),
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            Proc {
                child,
                dir: lab.tmp.path().to_owned(),
                log,
            }
        })
        .collect();
    let t = lab.tmp.path();
    fs::write(t.join("w1"), "0").unwrap();
    fs::write(t.join("w2"), "0").unwrap();
    let chk1 = script(
        &t.join("chk1.sh"),
        &format!("exit $(cat {})", t.join("w1").display()),
    );
    let chk2 = script(
        &t.join("chk2.sh"),
        &format!("exit $(cat {})", t.join("w2").display()),
    );
    let events = t.join("events");
    let notify = script(
        &t.join("notify.sh"),
        &format!("echo \"$1 $2\" >> {}", events.display()),
    );
    let conf = format!(
        "{vrrp}virtual_server {VIP} 5353 {{\n delay_loop 1\n lb_algo wrr\n lb_kind NAT\n protocol UDP\n\
          omega\n quorum_down \"{notify} quorum down\"\n\
          real_server 10.0.0.11 5353 {{\n  weight 1\n  MISC_CHECK {{\n   misc_path {chk1}\n   misc_dynamic\n  }}\n }}\n\
          real_server 10.0.0.12 5353 {{\n  weight 1\n  inhibit_on_failure\n  notify_up \"{notify} up rs2\"\n  \
          notify_down \"{notify} down rs2\"\n  MISC_CHECK {{\n   misc_path {chk2}\n  }}\n }}\n}}\n",
        vrrp = vrrp_block(150),
    );
    let mut d = lab.start(&conf);
    let answers = udp_many(&lab.client, VIP, 5353, 4);
    assert_eq!(
        (count(&answers, "rs1"), count(&answers, "rs2")),
        (2, 2),
        "{answers:?}\n{}",
        d.log()
    );

    // misc_dynamic: exit status 5 means weight 3
    fs::write(t.join("w1"), "5").unwrap();
    d.wait_log(
        "Changing weight from 1 to 3 for active service [10.0.0.11]:udp:5353 of VS [10.0.0.10]:udp:5353",
        Duration::from_secs(10),
    );
    let answers = udp_many(&lab.client, VIP, 5353, 8);
    assert_eq!(
        (count(&answers, "rs1"), count(&answers, "rs2")),
        (6, 2),
        "{answers:?}"
    );

    // failure with inhibit_on_failure: weight 0 instead of removal, notify_down runs
    fs::write(t.join("w2"), "1").unwrap();
    d.wait_log(
        "Disabling service [10.0.0.12]:udp:5353 of VS [10.0.0.10]:udp:5353",
        Duration::from_secs(10),
    );
    let answers = udp_many(&lab.client, VIP, 5353, 4);
    assert_eq!(count(&answers, "rs1"), 4, "{answers:?}");
    fs::write(t.join("w2"), "0").unwrap();
    d.wait_log(
        "Enabling service [10.0.0.12]:udp:5353 of VS [10.0.0.10]:udp:5353",
        Duration::from_secs(10),
    );
    let ok = wait_until(Duration::from_secs(5), || {
        fs::read_to_string(&events).unwrap_or_default() == "down rs2\nup rs2\n"
    });
    assert!(
        ok.is_some(),
        "notify events: {:?}",
        fs::read_to_string(&events)
    );

    // omega: stopping runs the down notifiers of alive servers, then quorum_down
    d.stop();
    assert!(
        d.log()
            .contains("Shutting down service [10.0.0.12]:udp:5353 from VS [10.0.0.10]:udp:5353"),
        "{}",
        d.log()
    );
    assert_eq!(
        fs::read_to_string(&events).unwrap_or_default(),
        "down rs2\nup rs2\ndown rs2\nquorum down\n"
    );
}

/// A DNS server on `addr` in `ns` answering every query with `rcode` (no records), until `stop`.
fn dns_responder(
    ns: &Ns,
    addr: SocketAddr,
    rcode: std::sync::Arc<std::sync::atomic::AtomicU8>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    use std::sync::atomic::Ordering;
    // a socket opened inside the namespace stays there, whatever thread uses it
    let sock = ns.within(move || std::net::UdpSocket::bind(addr).expect("bind dns"));
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while !stop.load(Ordering::Relaxed) {
            let Ok((n, from)) = sock.recv_from(&mut buf) else {
                continue;
            };
            if n < 12 {
                continue;
            }
            let mut reply = buf[..n].to_vec();
            reply[2] = 0x80 | (buf[2] & 0x01); // QR, RD echoed
            reply[3] = 0x80 | (rcode.load(Ordering::Relaxed) & 0x0f); // RA, rcode
            let _ = sock.send_to(&reply, from);
        }
    });
}

/// SSL_GET (digest over TLS, certificate not verified, like keepalived), SMTP_CHECK and DNS_CHECK; `--genhash
/// -S` agrees with keepalived's.
#[test]
fn lvs_ssl_get_smtp_and_dns_checkers() {
    if !require_netns() || !require("nginx") || !require("socat") || !require("openssl") {
        return;
    }
    let mut lab = Lab::new("lvst");
    let tmp = tempfile::tempdir().unwrap();
    let director = lab.node("dir", "eth0", "10.0.0.2/24");
    let rs_ns = lab.node("rs1", "eth0", "10.0.0.11/24");
    let key = tmp.path().join("key.pem");
    let cert = tmp.path().join("cert.pem");
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=rs1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tls = format!(
        "listen 443 ssl;\n ssl_certificate {};\n ssl_certificate_key {};",
        cert.display(),
        key.display()
    );
    let rs = RealServer::start_with(&rs_ns, "rs1", tmp.path(), &[80], &tls);
    let _smtp = Proc {
        child: rs_ns
            .command("socat")
            .args([
                "TCP-LISTEN:25,fork,reuseaddr",
                "SYSTEM:echo '220 rs1 ESMTP'; read l; echo '250 rs1'; read l; echo '221 bye'",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
        dir: tmp.path().to_owned(),
        log: tmp.path().join("none"),
    };
    let digest = md5_hex(LBSTATE_OK.as_bytes());
    let conf = format!(
        "virtual_server 10.0.0.10 80 {{\n delay_loop 1\n lb_algo rr\n lb_kind NAT\n protocol TCP\n\
          real_server 10.0.0.11 80 {{\n  weight 1\n\
           SSL_GET {{\n   url {{\n    path /lbstate\n    digest {digest}\n   }}\n   connect_port 443\n   \
           connect_timeout 2\n   retry 0\n  }}\n\
           SMTP_CHECK {{\n   connect_port 25\n   connect_timeout 2\n   helo_name director\n  }}\n\
           DNS_CHECK {{\n   type A\n   name example.test\n   connect_timeout 1\n  }}\n }}\n}}\n"
    );
    let rcode = std::sync::Arc::new(std::sync::atomic::AtomicU8::new(0));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    dns_responder(
        &rs_ns,
        "10.0.0.11:53".parse().unwrap(),
        rcode.clone(),
        stop.clone(),
    );
    let d = Director::start(&director, tmp.path(), "director", &conf);
    d.wait_log(
        "Remote Web server [10.0.0.11]:tcp:80 succeed on service.",
        Duration::from_secs(10),
    );
    d.wait_log(
        "Remote SMTP server [10.0.0.11]:tcp:80 succeed on service.",
        Duration::from_secs(10),
    );
    // DNS_CHECK: SERVFAIL answers take the server out after 3 retries, NOERROR brings it back
    rcode.store(2, std::sync::atomic::Ordering::Relaxed);
    d.wait_log(
        "DNS_CHECK ([10.0.0.11]:tcp:80) read error occurred. (rcode = 2) after 3 retries",
        Duration::from_secs(15),
    );
    d.wait_log(
        "Removing service [10.0.0.11]:tcp:80 from VS [10.0.0.10]:tcp:80",
        Duration::from_secs(5),
    );
    rcode.store(0, std::sync::atomic::Ordering::Relaxed);
    d.wait_log(
        "Adding service [10.0.0.11]:tcp:80 to VS [10.0.0.10]:tcp:80",
        Duration::from_secs(10),
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);

    rs.set_lbstate("changed\n");
    d.wait_log(
        "HTTP_CHECK on service [10.0.0.11]:tcp:80 failed",
        Duration::from_secs(10),
    );

    let args = [
        "--genhash",
        "-S",
        "-s",
        "10.0.0.11",
        "-p",
        "443",
        "-u",
        "/lbstate",
    ];
    let ours = director.run_ok(
        &std::iter::once(rkeepalived_bin().to_string_lossy().as_ref())
            .chain(args)
            .collect::<Vec<_>>(),
    );
    assert_eq!(ours.trim(), md5_hex(b"changed\n"));
    if crate::util::have("keepalived") {
        let theirs = director.run_ok(
            &std::iter::once("keepalived")
                .chain(args)
                .collect::<Vec<_>>(),
        );
        assert_eq!(ours.trim(), theirs.trim());
    }
}

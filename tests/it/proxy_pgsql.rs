//! Seed 004 (PostgreSQL read/write split) against REAL PostgreSQL servers.
//!
//! Three throw-away clusters (initdb once, copied twice; started with pg_ctl as the `postgres`
//! user on loopback ports) stand for one primary and two replicas. They are independent
//! clusters, not streaming replicas: the test is about routing, and the role each one plays
//! is what the Patroni-style role endpoints (in-test HTTP servers answering 200/503 on
//! `/primary` and `/replica`, and 503 when their database does not accept connections) say.
//!
//! Layout as in the seed: a write port (5001-style) routed to whoever is primary by
//! `option httpchk OPTIONS /primary` + `check port`, a read port (5002-style) round-robin over
//! the replicas, and a backend with `option pgsql-check user postgres`.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::proxy_tcp::{free_port, Proxy};

fn pg_bindir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists() && p.join("pg_ctl").exists())
        .collect();
    dirs.sort();
    dirs.pop()
}

fn ci() -> bool {
    std::env::var("CI").map(|v| v == "true").unwrap_or(false)
}

fn as_postgres(args: &[&str]) -> std::process::Output {
    Command::new("runuser")
        .arg("-u")
        .arg("postgres")
        .arg("--")
        .args(args)
        .output()
        .expect("runuser")
}

/// Started clusters; stopped (immediate mode) on drop, also when the test fails.
struct Clusters {
    _dir: tempfile::TempDir,
    bindir: PathBuf,
    datadirs: Vec<PathBuf>,
    ports: Vec<u16>,
}

impl Clusters {
    fn start(n: usize) -> Clusters {
        let bindir = pg_bindir().expect("postgres binaries");
        let dir = tempfile::Builder::new()
            .prefix("rhaproxy-pg")
            .tempdir()
            .unwrap();
        let root = dir.path().to_path_buf();
        Command::new("chown")
            .arg("postgres")
            .arg(&root)
            .status()
            .unwrap();
        let initdb = bindir.join("initdb");
        let first = root.join("pg0");
        let o = as_postgres(&[
            initdb.to_str().unwrap(),
            "-D",
            first.to_str().unwrap(),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        ]);
        assert!(
            o.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let mut datadirs = vec![first.clone()];
        for i in 1..n {
            let d = root.join(format!("pg{i}"));
            let o = as_postgres(&["cp", "-a", first.to_str().unwrap(), d.to_str().unwrap()]);
            assert!(o.status.success());
            datadirs.push(d);
        }
        let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let c = Clusters {
            _dir: dir,
            bindir,
            datadirs,
            ports,
        };
        for i in 0..n {
            c.pg_ctl_start(i);
        }
        c
    }

    fn pg_ctl_start(&self, i: usize) {
        let d = &self.datadirs[i];
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=16MB -c max_connections=20",
            self.ports[i],
            d.display()
        );
        let log = d.join("log.txt");
        let o = as_postgres(&[
            self.bindir.join("pg_ctl").to_str().unwrap(),
            "-D",
            d.to_str().unwrap(),
            "-o",
            &opts,
            "-l",
            log.to_str().unwrap(),
            "-w",
            "-t",
            "30",
            "start",
        ]);
        assert!(
            o.status.success(),
            "pg_ctl start: {} {}",
            String::from_utf8_lossy(&o.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    fn stop(&self, i: usize) {
        let _ = as_postgres(&[
            self.bindir.join("pg_ctl").to_str().unwrap(),
            "-D",
            self.datadirs[i].to_str().unwrap(),
            "-m",
            "immediate",
            "-w",
            "stop",
        ]);
    }
}

impl Drop for Clusters {
    fn drop(&mut self) {
        for i in 0..self.datadirs.len() {
            self.stop(i);
        }
    }
}

const PRIMARY: u8 = 1;
const REPLICA: u8 = 2;

/// A Patroni-like REST endpoint for one database: `/primary` (or `/master`) answers 200 when
/// this node is primary, `/replica` 200 when it is a replica; 503 otherwise, and 503 for
/// everything when the database does not accept connections.
struct RoleEndpoint {
    port: u16,
    role: Arc<AtomicU8>,
}

impl RoleEndpoint {
    fn start(db_port: u16, role: u8) -> RoleEndpoint {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let role = Arc::new(AtomicU8::new(role));
        let r = role.clone();
        thread::spawn(move || {
            for s in l.incoming() {
                let Ok(s) = s else { continue };
                let r = r.clone();
                thread::spawn(move || {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                    let mut rd = BufReader::new(&s);
                    let mut line = String::new();
                    if rd.read_line(&mut line).is_err() {
                        return;
                    }
                    loop {
                        let mut h = String::new();
                        match rd.read_line(&mut h) {
                            Ok(n) if n > 2 => continue,
                            _ => break,
                        }
                    }
                    let path = line.split(' ').nth(1).unwrap_or("");
                    let db_up = TcpStream::connect_timeout(
                        &([127, 0, 0, 1], db_port).into(),
                        Duration::from_secs(1),
                    )
                    .is_ok();
                    let role = r.load(Ordering::SeqCst);
                    let ok = db_up
                        && match path {
                            "/primary" | "/master" | "/leader" => role == PRIMARY,
                            "/replica" => role == REPLICA,
                            _ => false,
                        };
                    let status = if ok {
                        "200 OK"
                    } else {
                        "503 Service Unavailable"
                    };
                    let _ = (&s).write_all(
                        format!(
                            "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        )
                        .as_bytes(),
                    );
                });
            }
        });
        RoleEndpoint { port, role }
    }
}

/// A PostgreSQL StartupMessage (protocol 3.0) for `user`.
fn startup(user: &str) -> Vec<u8> {
    let mut body = vec![0, 3, 0, 0];
    body.extend_from_slice(b"user\0");
    body.extend_from_slice(user.as_bytes());
    body.extend_from_slice(b"\0\0");
    let mut m = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    m.extend_from_slice(&body);
    m
}

/// `psql -Atc SQL` through 127.0.0.1:`port`; stdout trimmed, or Err(stderr).
fn psql(port: u16, sql: &str) -> Result<String, String> {
    let o = Command::new("psql")
        .env("PGCONNECT_TIMEOUT", "5")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "postgres",
            "-d",
            "postgres",
        ])
        .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .map_err(|e| e.to_string())?;
    if o.status.success() {
        Ok(String::from_utf8_lossy(&o.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&o.stderr).into_owned())
    }
}

fn wait_for(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if f() {
            return;
        }
        thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

fn available() -> bool {
    let ok = pg_bindir().is_some()
        && Path::new("/usr/bin/psql").exists()
        && Command::new("id")
            .arg("postgres")
            .output()
            .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            !ci(),
            "postgresql (initdb, pg_ctl, psql, user postgres) is required in CI"
        );
        eprintln!("skipping: postgresql server binaries not installed");
    }
    ok
}

#[test]
fn proxy_pgsql_seed004_read_write_split_with_failover() {
    if !available() {
        return;
    }
    let pg = Clusters::start(3);
    let p = &pg.ports;
    let roles: Vec<RoleEndpoint> = vec![
        RoleEndpoint::start(p[0], PRIMARY),
        RoleEndpoint::start(p[1], REPLICA),
        RoleEndpoint::start(p[2], REPLICA),
    ];
    let (wport, rport, cport) = (free_port(), free_port(), free_port());
    let srv = |name: &str, i: usize, extra: &str| {
        format!(
            "  server {name} 127.0.0.1:{} check port {}{extra}\n",
            p[i], roles[i].port
        )
    };
    let cfg = format!(
        "global\n  maxconn 100\ndefaults\n  mode tcp\n  log global\n  retries 2\n  timeout connect 3s\n  timeout client 30m\n  timeout server 30m\n  timeout check 2s\n\
         listen primary\n  bind 127.0.0.1:{wport}\n  option httpchk OPTIONS /primary\n  http-check expect status 200\n  default-server inter 200 fall 2 rise 1 on-marked-down shutdown-sessions\n{}{}{}\
         listen replicas\n  bind 127.0.0.1:{rport}\n  balance roundrobin\n  option httpchk OPTIONS /replica\n  http-check expect status 200\n  default-server inter 200 fall 2 rise 1 on-marked-down shutdown-sessions\n{}{}{}\
         listen pgcheck\n  bind 127.0.0.1:{cport}\n  option pgsql-check user postgres\n  default-server inter 200 fall 2 rise 1\n  server pg0 127.0.0.1:{} check\n  server pg1 127.0.0.1:{} check\n  server pg2 127.0.0.1:{} check\n",
        srv("pg0", 0, ""),
        srv("pg1", 1, ""),
        srv("pg2", 2, ""),
        srv("pg0", 0, ""),
        srv("pg1", 1, ""),
        srv("pg2", 2, ""),
        p[0],
        p[1],
        p[2],
    );
    let proxy = Proxy::rhaproxy(&cfg, &[wport, rport, cport]);
    // the first checks put the replicas' pg0 and the primary's pg1/pg2 down
    wait_for("initial role checks", Duration::from_secs(10), || {
        let e = proxy.stderr();
        e.contains("primary/pg1 is DOWN")
            && e.contains("primary/pg2 is DOWN")
            && e.contains("replicas/pg0 is DOWN")
    });
    let port_of = |s: Result<String, String>| s.unwrap_or_else(|e| panic!("psql: {e}"));
    // writes reach the primary
    for _ in 0..3 {
        assert_eq!(port_of(psql(wport, "SHOW port")), p[0].to_string());
    }
    port_of(psql(
        wport,
        "CREATE TABLE seed004(x int); INSERT INTO seed004 VALUES (42)",
    ));
    assert_eq!(port_of(psql(p[0], "SELECT x FROM seed004")), "42");
    assert!(
        psql(p[1], "SELECT x FROM seed004").is_err(),
        "the write went to a replica"
    );
    // reads round-robin over the two replicas
    let reads: Vec<String> = (0..4).map(|_| port_of(psql(rport, "SHOW port"))).collect();
    let (r1, r2) = (p[1].to_string(), p[2].to_string());
    assert!(reads.iter().all(|r| *r == r1 || *r == r2), "{reads:?}");
    assert_eq!(
        reads[0..2].iter().filter(|r| **r == r1).count(),
        1,
        "{reads:?}"
    );
    assert_eq!(reads[2], reads[0], "{reads:?}");
    // pgsql-check: every real server answers the StartupMessage with an 'R' message
    let e = proxy.stderr();
    assert!(!e.contains("pgcheck/"), "{e}");

    // a long write session on the old primary (raw protocol: startup, wait for ReadyForQuery)
    let mut long = TcpStream::connect(("127.0.0.1", wport)).unwrap();
    long.set_read_timeout(Some(Duration::from_secs(8))).unwrap();
    long.write_all(&startup("postgres")).unwrap();
    let mut got = Vec::new();
    let mut b = [0u8; 4096];
    while !got.windows(1).any(|w| w == b"Z") {
        let n = std::io::Read::read(&mut long, &mut b).unwrap();
        assert!(n > 0, "session closed early");
        got.extend_from_slice(&b[..n]);
    }
    thread::sleep(Duration::from_millis(300));
    roles[0].role.store(REPLICA, Ordering::SeqCst);
    roles[1].role.store(PRIMARY, Ordering::SeqCst);
    let flipped = Instant::now();
    wait_for(
        "writes to follow the new primary",
        Duration::from_secs(10),
        || psql(wport, "SHOW port").is_ok_and(|s| s == p[1].to_string()),
    );
    // fall (2) x inter (200ms) plus check durations; generous bound for loaded machines
    assert!(
        flipped.elapsed() < Duration::from_secs(5),
        "{:?}",
        flipped.elapsed()
    );
    // on-marked-down shutdown-sessions closed the session held on the old primary
    // on-marked-down shutdown-sessions: the proxy closes it (EOF, not a read timeout)
    let n = std::io::Read::read(&mut long, &mut b).expect("session should be closed, not idle");
    assert_eq!(n, 0);
    wait_for("reads over pg0 and pg2", Duration::from_secs(10), || {
        let mut seen: Vec<String> = (0..4)
            .filter_map(|_| psql(rport, "SHOW port").ok())
            .collect();
        seen.sort();
        seen.dedup();
        seen == {
            let mut v = vec![p[0].to_string(), p[2].to_string()];
            v.sort();
            v
        }
    });

    // a stopped database: pgsql-check marks it down, its role endpoint fails, reads avoid it
    pg.stop(2);
    wait_for(
        "pgsql-check marks pg2 down",
        Duration::from_secs(10),
        || proxy.stderr().contains("Server pgcheck/pg2 is DOWN"),
    );
    let e = proxy.stderr();
    assert!(
        !e.contains("pgcheck/pg0 is DOWN") && !e.contains("pgcheck/pg1 is DOWN"),
        "{e}"
    );
    wait_for("replicas/pg2 down", Duration::from_secs(10), || {
        proxy.stderr().contains("Server replicas/pg2 is DOWN")
    });
    for _ in 0..3 {
        assert_eq!(port_of(psql(rport, "SHOW port")), p[0].to_string());
    }
    // and back: the restarted server is seen up again, no proxy restart
    pg.pg_ctl_start(2);
    wait_for("pgsql-check marks pg2 up", Duration::from_secs(10), || {
        proxy.stderr().contains("Server pgcheck/pg2 is UP")
    });
}

#[test]
fn proxy_pgsql_check_matches_haproxy() {
    if !available() || !crate::util::require("haproxy") {
        return;
    }
    let pg = Clusters::start(1);
    let dead = free_port();
    let lport = free_port();
    let cfg = |port: u16| {
        format!(
            "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n  timeout check 2s\n\
             listen pg\n  bind 127.0.0.1:{port}\n  option pgsql-check user postgres\n  server up 127.0.0.1:{} check inter 200 fall 1 rise 1\n  server down 127.0.0.1:{dead} check inter 200 fall 1 rise 1\n\
             listen baduser\n  bind 127.0.0.1:{}\n  option pgsql-check user no_such_role\n  server s 127.0.0.1:{} check inter 200 fall 1 rise 1\n",
            pg.ports[0],
            free_port(),
            pg.ports[0]
        )
    };
    let mut outs = Vec::new();
    for rh in [false, true] {
        let c = cfg(lport);
        let p = if rh {
            Proxy::rhaproxy(&c, &[lport])
        } else {
            Proxy::haproxy(&c, &[lport])
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let e = p.stderr();
            if e.contains("pg/down is DOWN") {
                break;
            }
            assert!(Instant::now() < deadline, "rhaproxy={rh}: {e}");
            thread::sleep(Duration::from_millis(50));
        }
        thread::sleep(Duration::from_millis(600));
        let e = p.stderr();
        let mut lines: Vec<String> = e
            .lines()
            .filter(|l| l.contains(" is DOWN") || l.contains(" is UP"))
            .map(|l| {
                // keep "Server x/y is DOWN, reason: <reason>" without timings
                let l = l.split(" : ").nth(1).unwrap_or(l);
                l.split(", check duration").next().unwrap_or(l).to_string()
            })
            .collect();
        lines.sort();
        outs.push(lines);
        drop(p);
    }
    assert_eq!(outs[0], outs[1]);
    assert!(outs[0]
        .iter()
        .any(|l| l.contains("pg/down is DOWN, reason: Layer4 connection problem")));
    assert!(
        !outs[0].iter().any(|l| l.contains("pg/up is DOWN")),
        "{:?}",
        outs[0]
    );
    // with trust authentication PostgreSQL sends AuthenticationOk before it looks the role up,
    // so an unknown user still passes the check (in both implementations)
    assert!(
        !outs[0].iter().any(|l| l.contains("baduser/s is DOWN")),
        "{:?}",
        outs[0]
    );
}

/// A pgbouncer (session pooling, trust auth) in front of one PostgreSQL, run as the `postgres`
/// user (pgbouncer refuses root); killed on drop.
struct Bouncer {
    _dir: tempfile::TempDir,
    port: u16,
    proc: Option<super::proxy_tcp::Proc>,
}

impl Bouncer {
    fn start(pg_port: u16) -> Bouncer {
        use std::os::unix::process::CommandExt;
        let dir = tempfile::Builder::new()
            .prefix("rhaproxy-pgb")
            .tempdir()
            .unwrap();
        let port = free_port();
        let d = dir.path();
        std::fs::write(d.join("users.txt"), "\"postgres\" \"\"\n").unwrap();
        std::fs::write(
            d.join("pgbouncer.ini"),
            format!(
                "[databases]\npostgres = host=127.0.0.1 port={pg_port} dbname=postgres\n\
                 [pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
                 auth_type = trust\nauth_file = {}\npool_mode = session\nlogfile = {}\n",
                d.join("users.txt").display(),
                d.join("pgbouncer.log").display()
            ),
        )
        .unwrap();
        let id = |flag: &str| -> u32 {
            let o = Command::new("id")
                .args([flag, "postgres"])
                .output()
                .unwrap();
            String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
        };
        Command::new("chown")
            .args(["-R", "postgres"])
            .arg(d)
            .status()
            .unwrap();
        let child = Command::new("pgbouncer")
            .arg(d.join("pgbouncer.ini"))
            .uid(id("-u"))
            .gid(id("-g"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let b = Bouncer {
            _dir: dir,
            port,
            proc: Some(super::proxy_tcp::Proc(child)),
        };
        super::proxy_tcp::wait_port(port);
        b
    }

    fn stop(&mut self) {
        self.proc = None;
    }
}

/// Seed 004 with a pgbouncer in front of every PostgreSQL: write port → bouncer of the
/// primary, read port round-robin over the replicas' bouncers, `option pgsql-check` through
/// pgbouncer; rhaproxy and haproxy run the same config side by side and must agree.
#[test]
fn proxy_pgsql_seed004_through_pgbouncer_matches_haproxy() {
    if !available() || !crate::util::require("haproxy") {
        return;
    }
    if !Path::new("/usr/sbin/pgbouncer").exists() {
        assert!(!ci(), "pgbouncer is required in CI");
        eprintln!("skipping: pgbouncer not installed");
        return;
    }
    let pg = Clusters::start(3);
    let mut bouncers: Vec<Bouncer> = pg.ports.iter().map(|p| Bouncer::start(*p)).collect();
    let b: Vec<u16> = bouncers.iter().map(|b| b.port).collect();
    let socks = tempfile::tempdir().unwrap();
    let mut procs = Vec::new();
    let mut fronts = Vec::new();
    for bin in ["haproxy", "rhaproxy"] {
        let sock = socks.path().join(format!("{bin}.sock"));
        let (wport, rport, nport) = (free_port(), free_port(), free_port());
        let cfg = format!(
            "global\n  stats socket {} level admin\n\
             defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 30s\n  timeout server 30s\n  timeout check 2s\n  option pgsql-check user postgres\n  default-server inter 200 fall 1 rise 1\n\
             listen write\n  bind 127.0.0.1:{wport}\n  server b0 127.0.0.1:{} check\n\
             listen read\n  bind 127.0.0.1:{rport}\n  balance roundrobin\n  server b1 127.0.0.1:{} check\n  server b2 127.0.0.1:{} check\n\
             listen unknownuser\n  bind 127.0.0.1:{nport}\n  option pgsql-check user nobody\n  server b0 127.0.0.1:{} check\n",
            sock.display(),
            b[0],
            b[1],
            b[2],
            b[0]
        );
        let p = if bin == "haproxy" {
            Proxy::haproxy(&cfg, &[wport, rport, nport])
        } else {
            Proxy::rhaproxy(&cfg, &[wport, rport, nport])
        };
        procs.push((p, sock));
        fronts.push((wport, rport));
    }
    let sock_paths: Vec<&Path> = procs.iter().map(|(_, s)| s.as_path()).collect();
    let states = |rows: &[(&str, &str)]| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = rows
            .iter()
            .map(|(k, s)| (k.to_string(), s.to_string()))
            .collect();
        v.sort();
        v
    };
    // pgbouncer answers the StartupMessage of a user it does not know with a FATAL error
    let want = states(&[
        ("write/b0", "UP L7OK 0"),
        ("read/b1", "UP L7OK 0"),
        ("read/b2", "UP L7OK 0"),
        ("unknownuser/b0", "DOWN L7RSP "),
    ]);
    let got = super::proxy_mysql::settle(&sock_paths, &want);
    assert_eq!(got[1], got[0], "rhaproxy (right) vs haproxy (left)");
    assert_eq!(got[1], want);

    let port_of = |s: Result<String, String>| s.unwrap_or_else(|e| panic!("psql: {e}"));
    let (wport, rport) = fronts[1];
    assert_eq!(port_of(psql(wport, "SHOW port")), pg.ports[0].to_string());
    port_of(psql(
        wport,
        "CREATE TABLE bounced(x int); INSERT INTO bounced VALUES (4), (38)",
    ));
    assert_eq!(
        port_of(psql(pg.ports[0], "SELECT sum(x) FROM bounced")),
        "42"
    );
    let reads: Vec<String> = (0..4).map(|_| port_of(psql(rport, "SHOW port"))).collect();
    let mut seen = reads.clone();
    seen.sort();
    seen.dedup();
    let mut replicas = vec![pg.ports[1].to_string(), pg.ports[2].to_string()];
    replicas.sort();
    assert_eq!(seen, replicas, "{reads:?}");

    // PostgreSQL behind bouncer 2 stops: pgbouncer still authenticates the check (trust), so
    // the check through pgbouncer keeps b2 up in both implementations...
    pg.stop(2);
    thread::sleep(Duration::from_millis(800));
    let got = super::proxy_mysql::settle(&sock_paths, &want);
    assert_eq!(got[1], got[0], "rhaproxy (right) vs haproxy (left)");
    assert_eq!(got[1], want);
    // ...until pgbouncer itself goes away: then it is down and reads stay on replica 1
    bouncers[2].stop();
    let want = states(&[
        ("write/b0", "UP L7OK 0"),
        ("read/b1", "UP L7OK 0"),
        ("read/b2", "DOWN L4CON "),
        ("unknownuser/b0", "DOWN L7RSP "),
    ]);
    let got = super::proxy_mysql::settle(&sock_paths, &want);
    assert_eq!(got[1], got[0], "rhaproxy (right) vs haproxy (left)");
    assert_eq!(got[1], want);
    for _ in 0..3 {
        assert_eq!(port_of(psql(rport, "SHOW port")), pg.ports[1].to_string());
    }
}

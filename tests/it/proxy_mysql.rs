//! `option mysql-check` against a REAL MariaDB server (Debian's mariadb-server), started by the
//! test on loopback with a throw-away datadir, compared with real haproxy on the same config.
//!
//! The check user is created as the manual says (`CREATE USER '<username>'@'<ip>'`, no
//! password, resource limits); an application user with a password is what the `mariadb` client
//! logs in as through the proxies' frontends.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::proxy_tcp::{free_port, Proc, Proxy};

const MARIADBD: &str = "/usr/sbin/mariadbd";
const INSTALL_DB: &str = "/usr/bin/mariadb-install-db";
const CLIENT: &str = "/usr/bin/mariadb";

fn available() -> bool {
    let ok = [MARIADBD, INSTALL_DB, CLIENT]
        .iter()
        .all(|p| Path::new(p).exists())
        && crate::util::is_root();
    if !ok {
        assert!(
            std::env::var("CI").map(|v| v != "true").unwrap_or(true),
            "mariadb-server and mariadb-client are required in CI (run as root)"
        );
        eprintln!("skipping: mariadb-server not installed (or not root)");
    }
    ok
}

/// One mariadbd on 127.0.0.1:`port` with its own datadir; killed on drop.
struct Mariadb {
    dir: tempfile::TempDir,
    port: u16,
    proc: Option<Proc>,
}

impl Mariadb {
    fn socket(&self) -> PathBuf {
        self.dir.path().join("mysqld.sock")
    }

    fn start() -> Mariadb {
        let dir = tempfile::Builder::new()
            .prefix("rhaproxy-my")
            .tempdir()
            .unwrap();
        let data = dir.path().join("data");
        let o = Command::new(INSTALL_DB)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .args([
                "--user=root",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
                "--skip-name-resolve",
            ])
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "mariadb-install-db: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        let mut db = Mariadb {
            dir,
            port: free_port(),
            proc: None,
        };
        let child = Command::new(MARIADBD)
            .arg("--no-defaults")
            .arg("--user=root")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", db.socket().display()))
            .arg(format!("--port={}", db.port))
            .arg(format!(
                "--pid-file={}",
                db.dir.path().join("mysqld.pid").display()
            ))
            .arg(format!(
                "--log-error={}",
                db.dir.path().join("error.log").display()
            ))
            .args([
                "--bind-address=127.0.0.1",
                "--skip-name-resolve",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=16M",
                "--max-connections=50",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        db.proc = Some(Proc(child));
        let deadline = Instant::now() + Duration::from_secs(30);
        while db.root_sql("SELECT 1").is_err() {
            assert!(
                Instant::now() < deadline,
                "mariadbd did not start: {}",
                std::fs::read_to_string(db.dir.path().join("error.log")).unwrap_or_default()
            );
            thread::sleep(Duration::from_millis(100));
        }
        // the check user as the manual creates it: no password, limited resources
        db.root_sql(
            "CREATE USER 'haproxy'@'127.0.0.1' WITH MAX_QUERIES_PER_HOUR 1 MAX_UPDATES_PER_HOUR 0 MAX_STATEMENT_TIME 0.0001; \
             CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY 'app-pw'; \
             GRANT ALL ON *.* TO 'app'@'127.0.0.1'",
        )
        .unwrap();
        db
    }

    /// SQL as root over the unix socket (socket authentication).
    fn root_sql(&self, sql: &str) -> Result<String, String> {
        let o = Command::new(CLIENT)
            .arg("--no-defaults")
            .arg("-uroot")
            .arg(format!("--socket={}", self.socket().display()))
            .args(["-N", "-B", "-e", sql])
            .output()
            .map_err(|e| e.to_string())?;
        if o.status.success() {
            Ok(String::from_utf8_lossy(&o.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&o.stderr).into_owned())
        }
    }

    fn stop(&mut self) {
        self.proc = None;
    }
}

/// The `mariadb` client over TCP to 127.0.0.1:`port` as the application user.
fn client_sql(port: u16, sql: &str) -> Result<String, String> {
    let o = Command::new(CLIENT)
        .args(["--no-defaults", "--protocol=TCP", "-h", "127.0.0.1"])
        .arg(format!("-P{port}"))
        .args([
            "-uapp",
            "-papp-pw",
            "--connect-timeout=5",
            "-N",
            "-B",
            "-e",
            sql,
        ])
        .output()
        .map_err(|e| e.to_string())?;
    if o.status.success() {
        Ok(String::from_utf8_lossy(&o.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&o.stderr).into_owned())
    }
}

/// `show stat` over the runtime API: (pxname/svname) → (status, check_status, check_code)
/// for every server row.
pub(crate) fn server_states(sock: &Path) -> Vec<(String, String)> {
    let Ok(mut s) = UnixStream::connect(sock) else {
        return Vec::new();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(b"show stat\n").is_err() {
        return Vec::new();
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let mut lines = out.lines();
    let Some(header) = lines.next().and_then(|h| h.strip_prefix("# ")) else {
        return Vec::new();
    };
    let cols: Vec<&str> = header.split(',').collect();
    let col = |name: &str| cols.iter().position(|c| *c == name);
    let (Some(px), Some(sv), Some(st), Some(cs), Some(cc)) = (
        col("pxname"),
        col("svname"),
        col("status"),
        col("check_status"),
        col("check_code"),
    ) else {
        return Vec::new();
    };
    let mut rows: Vec<(String, String)> = lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f.len() > cc && f[sv] != "FRONTEND" && f[sv] != "BACKEND")
        .map(|f| {
            (
                format!("{}/{}", f[px], f[sv]),
                format!("{} {} {}", f[st], f[cs], f[cc]),
            )
        })
        .collect();
    rows.sort();
    rows
}

/// Polls both proxies' `show stat` until each matches `want`; returns what each showed last.
pub(crate) fn settle(socks: &[&Path], want: &[(String, String)]) -> Vec<Vec<(String, String)>> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got: Vec<_> = socks.iter().map(|s| server_states(s)).collect();
        if got.iter().all(|g| g == want) || Instant::now() > deadline {
            return got;
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// Health-check transition lines of a proxy's stderr, without timings and pids.
pub(crate) fn transitions(stderr: &str) -> Vec<String> {
    let mut v: Vec<String> = stderr
        .lines()
        .filter(|l| {
            l.contains(" is DOWN") || l.contains(" is UP") || l.contains("no server available")
        })
        .map(|l| {
            let l = l.split(" : ").nth(1).unwrap_or(l);
            l.split(", check duration").next().unwrap_or(l).to_string()
        })
        .collect();
    v.sort();
    v
}

#[test]
fn proxy_mysql_check_real_mariadb_matches_haproxy() {
    if !available() || !crate::util::require("haproxy") {
        return;
    }
    let mut db = Mariadb::start();
    let dead = free_port();
    // (section, option line, server port, state with the database up)
    let rows: Vec<(&str, &str, u16, &str)> = vec![
        (
            "post41",
            "option mysql-check user haproxy post-41",
            db.port,
            "UP L7OK 0",
        ),
        (
            "default41",
            "option mysql-check user haproxy",
            db.port,
            "UP L7OK 0",
        ),
        (
            "pre41",
            "option mysql-check user haproxy pre-41",
            db.port,
            "UP L7OK 0",
        ),
        ("nouser", "option mysql-check", db.port, "UP L7OK 0"),
        (
            "unknown",
            "option mysql-check user nobody",
            db.port,
            "DOWN L7STS 1045",
        ),
        (
            "withpw",
            "option mysql-check user app",
            db.port,
            "DOWN L7STS 1045",
        ),
        (
            "dead",
            "option mysql-check user haproxy",
            dead,
            "DOWN L4CON ",
        ),
    ];
    let socks = tempfile::tempdir().unwrap();
    let mut procs = Vec::new();
    let mut fronts = Vec::new();
    for (i, bin) in ["haproxy", "rhaproxy"].iter().enumerate() {
        let sock = socks.path().join(format!("{bin}.sock"));
        let mut cfg = format!(
            "global\n  stats socket {} level admin\ndefaults\n  mode tcp\n  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\n  timeout check 2s\n",
            sock.display()
        );
        let mut ports = Vec::new();
        for (name, option, port, _) in &rows {
            let fport = free_port();
            ports.push(fport);
            cfg.push_str(&format!(
                "listen {name}\n  bind 127.0.0.1:{fport}\n  {option}\n  server db 127.0.0.1:{port} check inter 200 fall 1 rise 1\n"
            ));
        }
        let p = if i == 0 {
            Proxy::haproxy(&cfg, &ports)
        } else {
            Proxy::rhaproxy(&cfg, &ports)
        };
        procs.push((p, sock));
        fronts.push(ports);
    }
    let sock_paths: Vec<&Path> = procs.iter().map(|(_, s)| s.as_path()).collect();
    let want: Vec<(String, String)> = {
        let mut w: Vec<_> = rows
            .iter()
            .map(|(n, _, _, st)| (format!("{n}/db"), st.to_string()))
            .collect();
        w.sort();
        w
    };
    let got = settle(&sock_paths, &want);
    assert_eq!(
        got[1], got[0],
        "rhaproxy (right) vs haproxy (left), database up"
    );
    assert_eq!(got[1], want);
    // the refusal is reported the same way, MariaDB's own message included
    let (ha, rh) = (
        transitions(&procs[0].0.stderr()),
        transitions(&procs[1].0.stderr()),
    );
    assert_eq!(rh, ha);
    assert!(
        rh.iter().any(|l| l.contains(
            "Server unknown/db is DOWN, reason: Layer7 wrong status, code: 1045, info: \"#28000Access denied for user 'nobody'@'127.0.0.1'"
        )),
        "{rh:?}"
    );

    // a real client through both frontends of a checked-up server
    for (i, ports) in fronts.iter().enumerate() {
        let port = ports[0];
        assert_eq!(
            client_sql(port, "SELECT @@port").unwrap_or_else(|e| panic!("proxy {i}: {e}")),
            db.port.to_string()
        );
    }
    client_sql(
        fronts[1][1],
        "CREATE DATABASE IF NOT EXISTS t; CREATE TABLE t.x (v INT); INSERT INTO t.x VALUES (7),(35)",
    )
    .unwrap();
    assert_eq!(
        client_sql(fronts[1][0], "SELECT SUM(v) FROM t.x").unwrap(),
        "42"
    );
    assert_eq!(db.root_sql("SELECT COUNT(*) FROM t.x").unwrap(), "2");

    // the database goes away: every check fails at layer 4 in both
    db.stop();
    let want_down: Vec<(String, String)> = want
        .iter()
        .map(|(k, _)| (k.clone(), "DOWN L4CON ".to_string()))
        .collect();
    let got = settle(&sock_paths, &want_down);
    assert_eq!(
        got[1], got[0],
        "rhaproxy (right) vs haproxy (left), database stopped"
    );
    assert_eq!(got[1], want_down);
    assert!(client_sql(fronts[1][0], "SELECT 1").is_err());
}

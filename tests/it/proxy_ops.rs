//! Operations through the real binary: the runtime API on `stats socket` driven with socat
//! (compared with real haproxy on the same configuration), the Prometheus exporter, the
//! server-state file and master-worker reloads.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::util::{require, rhaproxy_bin};

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

fn wait_port(port: u16) {
    wait_for(&format!("port {port}"), || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
}

/// A running proxy (ours or haproxy) with its config in a temp dir.
struct Running {
    dir: tempfile::TempDir,
    proc: Proc,
}

impl Running {
    /// Starts `bin -db -f cfg`, where `{dir}` in `cfg` is replaced by the temp dir.
    fn start(bin: &Path, cfg: &str, extra: &[&str], wait: &[u16]) -> Running {
        let dir = tempfile::tempdir().unwrap();
        let cfg = cfg.replace("{dir}", &dir.path().display().to_string());
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, cfg).unwrap();
        let child = Command::new(bin)
            .args(extra)
            .arg("-f")
            .arg(&path)
            .stdout(std::fs::File::create(dir.path().join("stdout.txt")).unwrap())
            .stderr(std::fs::File::create(dir.path().join("stderr.txt")).unwrap())
            .spawn()
            .unwrap();
        let r = Running {
            dir,
            proc: Proc(child),
        };
        for p in wait {
            wait_port(*p);
        }
        r
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn sock(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }
    fn wait_sock(&self, name: &str) {
        let p = self.path(name);
        wait_for("stats socket", || {
            std::os::unix::net::UnixStream::connect(&p).is_ok()
        });
    }
    fn stderr(&self) -> String {
        std::fs::read_to_string(self.path("stderr.txt")).unwrap_or_default()
    }
}

/// Sends `input` through socat to `addr` (a socat address) and returns the whole reply.
fn socat(addr: &str, input: &str) -> String {
    let mut child = Command::new("socat")
        .arg("-t5")
        .arg("-")
        .arg(addr)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn cli(sock: &str, cmd: &str) -> String {
    socat(&format!("UNIX-CONNECT:{sock}"), &format!("{cmd}\n"))
}

/// A tiny HTTP server answering `NAME\n` to every request (keep-alive).
fn http_server(name: &'static str) -> u16 {
    http_server_slow(name, Duration::ZERO)
}

/// Like [`http_server`], answering each request after `delay`.
fn http_server_slow(name: &'static str, delay: Duration) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                        thread::sleep(delay);
                        let body = format!("{name}\n");
                        let resp = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if s.write_all(resp.as_bytes()).is_err() {
                            return;
                        }
                    }
                    match s.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
            });
        }
    });
    port
}

/// One GET with `Connection: close`; returns (status, body).
fn get(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

fn bodies(port: u16, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| get(port, "/").1.trim().to_string())
        .collect()
}

fn cli_config(fe_port: u16, tcp_port: u16, s1: u16, s2: u16) -> String {
    format!(
        "global\n  nbthread 1\n  stats socket {{dir}}/admin.sock level admin mode 600\n  stats socket {{dir}}/user.sock level user\n  stats socket {{dir}}/oper.sock\n  stats socket ipv4@127.0.0.1:{tcp_port} level admin\n\
         defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind 127.0.0.1:{fe_port}\n  default_backend be\n\
         backend be\n  balance roundrobin\n  stick-table type ip size 10\n  server s1 127.0.0.1:{s1} weight 3\n  server s2 127.0.0.1:{s2}\n"
    )
}

// ---------------------------------------------------------------------------------------------
// runtime API
// ---------------------------------------------------------------------------------------------

/// The same command sequence against haproxy and rhaproxy: replies must be identical
/// (the column that depends on time is masked in `show servers state`).
#[test]
fn proxy_ops_cli_differential_against_haproxy() {
    if !require("socat") || !require("haproxy") {
        return;
    }
    let (s1, s2) = (http_server("s1"), http_server("s2"));
    // (socket, command) in order; state carries over between steps.
    let steps: &[(&str, &str)] = &[
        ("admin.sock", "show backend"),
        ("admin.sock", "get weight be/s1"),
        ("admin.sock", "disable server be/zz"),
        ("admin.sock", "disable server nope/s1"),
        ("admin.sock", "disable server be"),
        ("admin.sock", "set server be/s1 weight 50%"),
        ("admin.sock", "get weight be/s1"),
        ("admin.sock", "set weight be/s1 7"),
        ("admin.sock", "get weight be/s1; get weight be/s2"),
        ("admin.sock", "set weight be/s1 300"),
        ("admin.sock", "set server be/s1 weight abc"),
        ("admin.sock", "set server be/s1 state foo"),
        ("admin.sock", "set server be/s1 state drain"),
        ("admin.sock", "show servers state"),
        ("admin.sock", "set server be/s1 state ready"),
        ("admin.sock", "disable server be/s2"),
        ("admin.sock", "show servers state be"),
        ("admin.sock", "enable server be/s2"),
        ("admin.sock", "enable health be/s1"),
        ("admin.sock", "show table"),
        ("admin.sock", "show table be"),
        ("admin.sock", "show table nope"),
        ("admin.sock", "clear table be"),
        ("user.sock", "disable server be/s1"),
        ("user.sock", "set weight be/s1 2"),
        ("user.sock", "set maxconn global 10"),
        ("user.sock", "get weight be/s1"),
        ("oper.sock", "set server be/s1 state maint"),
        ("oper.sock", "show backend"),
        ("oper.sock", "clear counters"),
        ("oper.sock", "clear counters all"),
        ("user.sock", "clear counters"),
        ("admin.sock", "clear counters all"),
        ("admin.sock", "show info; show backend"),
    ];
    let run = |bin: &Path| -> Vec<String> {
        let (fe, tcp) = (free_port(), free_port());
        let p = Running::start(bin, &cli_config(fe, tcp, s1, s2), &["-db"], &[fe, tcp]);
        p.wait_sock("admin.sock");
        steps
            .iter()
            .map(|(sock, cmd)| {
                let out = cli(&p.sock(sock), cmd);
                if cmd.starts_with("show servers state") {
                    // mask srv_time_since_last_change (be_id must match: the GLOBAL proxy of
                    // the stats socket shifts the numbering in both)
                    out.lines()
                        .map(|l| {
                            let mut w: Vec<&str> = l.split(' ').collect();
                            if w.len() > 10 && !l.starts_with('#') {
                                w[9] = "T";
                            }
                            w.join(" ") + "\n"
                        })
                        .collect()
                } else if cmd.starts_with("show info") {
                    // keep the field names only (values differ by nature)
                    out.lines()
                        .map(|l| l.split(':').next().unwrap_or("").to_string() + "\n")
                        .collect()
                } else {
                    out
                }
            })
            .collect()
    };
    let ours = run(&rhaproxy_bin());
    let theirs = run(Path::new("haproxy"));
    let diffs: Vec<String> = ours
        .iter()
        .zip(&theirs)
        .enumerate()
        .filter(|(_, (o, t))| o != t)
        .map(|(i, (o, t))| format!("step {i} {:?}:\n ours: {o:?}\n haproxy: {t:?}", steps[i]))
        .collect();
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    assert!(theirs[1].starts_with("3 (initial 3)"));
}

/// Admin actions change where traffic goes; prompt mode and the TCP socket work.
#[test]
fn proxy_ops_cli_actions_steer_traffic_and_prompt_mode() {
    if !require("socat") {
        return;
    }
    let (s1, s2) = (http_server("s1"), http_server("s2"));
    let (fe, tcp) = (free_port(), free_port());
    let p = Running::start(
        &rhaproxy_bin(),
        &cli_config(fe, tcp, s1, s2),
        &["-db"],
        &[fe, tcp],
    );
    p.wait_sock("admin.sock");
    let admin = p.sock("admin.sock");
    // weights 3:1
    let b = bodies(fe, 8);
    assert_eq!(b.iter().filter(|x| *x == "s1").count(), 6, "{b:?}");
    // maintenance: everything to s2
    assert_eq!(cli(&admin, "set server be/s1 state maint"), "\n");
    assert!(bodies(fe, 4).iter().all(|x| x == "s2"));
    let st = cli(&admin, "show stat");
    let s1_row = st.lines().find(|l| l.starts_with("be,s1,")).unwrap();
    assert!(s1_row.contains(",MAINT,"), "{s1_row}");
    // ready again, then drain s2: everything to s1
    cli(
        &admin,
        "set server be/s1 state ready; set server be/s2 state drain",
    );
    assert!(bodies(fe, 4).iter().all(|x| x == "s1"));
    // weight 0 on s1 and s2 back: all to s2
    cli(&admin, "set server be/s2 state ready; set weight be/s1 0");
    assert!(bodies(fe, 4).iter().all(|x| x == "s2"));
    // prompt mode over the TCP socket: a prompt after each reply, level command, quit
    let out = socat(
        &format!("TCP:127.0.0.1:{tcp}"),
        "prompt\nshow cli level\nget weight be/s1\nuser\nset weight be/s1 1\nquit\n",
    );
    assert_eq!(
        out,
        "\n> admin\n\n> 0 (initial 3)\n\n> \n> Permission denied\n\n> \n"
    );
    // typed and json forms of show stat carry the same values as the CSV
    let typed = cli(&admin, "show stat typed");
    assert!(typed.starts_with("F."), "{typed}");
    assert!(
        typed
            .lines()
            .any(|l| l.starts_with("S.") && l.ends_with(".svname.1:KNS:str:s1")),
        "{typed}"
    );
    let json = cli(&admin, "show stat json");
    let check = Command::new("python3")
        .args(["-c", "import json,sys\nd=json.load(sys.stdin)\nprint(len(d), sorted(set(f['objType'] for o in d for f in o)), [f['value']['value'] for o in d for f in o if f['field']['name']=='svname'])"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(json.as_bytes())?;
            c.wait_with_output()
        });
    if let Ok(out) = check {
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "4 ['Backend', 'Frontend', 'Server'] ['FRONTEND', 's1', 's2', 'BACKEND']",
            "{json}"
        );
    }
    // show info reflects the requests seen
    let info = cli(&admin, "show info");
    let cum: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("CumReq: "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(cum >= 20, "{info}");
    assert!(info.contains(&format!("Pid: {}\n", p.proc.0.id())));
    // clear counters all: the request counters restart from zero
    let req_tot = |st: &str| -> String {
        let col = st
            .lines()
            .next()
            .unwrap()
            .trim_start_matches("# ")
            .split(',')
            .position(|c| c == "req_tot")
            .unwrap();
        st.lines()
            .find(|l| l.starts_with("fe,FRONTEND,"))
            .unwrap()
            .split(',')
            .nth(col)
            .unwrap()
            .to_string()
    };
    assert_ne!(req_tot(&cli(&admin, "show stat")), "0");
    assert_eq!(cli(&admin, "clear counters all"), "\n");
    assert_eq!(req_tot(&cli(&admin, "show stat")), "0");
    // socket mode 600
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(p.path("admin.sock"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(!p.stderr().contains("ALERT"), "{}", p.stderr());
}

// ---------------------------------------------------------------------------------------------
// Prometheus exporter
// ---------------------------------------------------------------------------------------------

/// Parses exposition text with the reference parser (Python's `prometheus_client`), returning
/// one `name{k="v",...} value` line per sample with labels sorted, or None when the parser
/// is not installed.
fn prometheus_parse(text: &str) -> Option<Result<Vec<String>, String>> {
    const SCRIPT: &str = "import sys\nfrom prometheus_client.parser import text_string_to_metric_families as f\nfor fam in f(sys.stdin.read()):\n  for s in fam.samples:\n    print('%s{%s} %r' % (s.name, ','.join('%s=\"%s\"' % kv for kv in sorted(s.labels.items())), s.value))\n";
    let ok = Command::new("/usr/bin/python3")
        .args(["-c", "import prometheus_client"])
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        return None;
    }
    let mut child = Command::new("/usr/bin/python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if !out.status.success() {
        return Some(Err(String::from_utf8_lossy(&out.stderr).into_owned()));
    }
    Some(Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()))
}

fn sample(samples: &[String], key: &str) -> f64 {
    samples
        .iter()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no sample {key}"))
        .parse()
        .unwrap()
}

#[test]
fn proxy_ops_prometheus_exporter_parses_and_follows_traffic() {
    if !require("socat") {
        return;
    }
    if prometheus_parse("").is_none() {
        if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
            panic!("python3-prometheus-client is required in CI");
        }
        eprintln!("skipping: python3-prometheus-client not installed");
        return;
    }
    let (s1, s2) = (http_server("s1"), http_server("s2"));
    let fe = free_port();
    let cfg = format!(
        "global\n  stats socket {{dir}}/admin.sock level admin\n\
         defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind 127.0.0.1:{fe}\n  http-request use-service prometheus-exporter if {{ path /metrics }}\n  default_backend be\n\
         backend be\n  server s1 127.0.0.1:{s1}\n  server s2 127.0.0.1:{s2}\n"
    );
    let p = Running::start(&rhaproxy_bin(), &cfg, &["-db"], &[fe]);
    p.wait_sock("admin.sock");
    let scrape = || {
        let (status, body) = get(fe, "/metrics");
        assert_eq!(status, 200);
        prometheus_parse(&body).unwrap().unwrap()
    };
    let before = scrape();
    for name in [
        "haproxy_process_uptime_seconds",
        "haproxy_frontend_http_requests_total",
        "haproxy_backend_status",
        "haproxy_server_status",
        "haproxy_server_current_sessions",
        "haproxy_server_weight",
    ] {
        assert!(before.iter().any(|l| l.starts_with(name)), "{name} missing");
    }
    let fe_req = "haproxy_frontend_http_requests_total{proxy=\"fe\"}";
    let s1_tot = "haproxy_server_sessions_total{proxy=\"be\",server=\"s1\"}";
    let s1_up = "haproxy_server_status{proxy=\"be\",server=\"s1\",state=\"UP\"}";
    let s1_maint = "haproxy_server_status{proxy=\"be\",server=\"s1\",state=\"MAINT\"}";
    let s1_w = "haproxy_server_weight{proxy=\"be\",server=\"s1\"}";
    let be_2xx = "haproxy_backend_http_responses_total{code=\"2xx\",proxy=\"be\"}";
    assert_eq!(sample(&before, s1_up), 1.0);
    assert_eq!(sample(&before, s1_w), 1.0);
    assert_eq!(bodies(fe, 6).len(), 6);
    let after = scrape();
    assert!(sample(&after, fe_req) >= sample(&before, fe_req) + 6.0);
    assert_eq!(sample(&after, s1_tot), sample(&before, s1_tot) + 3.0);
    assert_eq!(sample(&after, be_2xx), sample(&before, be_2xx) + 6.0);
    cli(
        &p.sock("admin.sock"),
        "set server be/s1 state maint; set weight be/s2 9",
    );
    let last = scrape();
    assert_eq!(sample(&last, s1_up), 0.0);
    assert_eq!(sample(&last, s1_maint), 1.0);
    assert_eq!(
        sample(&last, "haproxy_server_weight{proxy=\"be\",server=\"s2\"}"),
        9.0
    );
    // every metric family we export also exists in haproxy 2.6's exporter
    if crate::util::have("haproxy") {
        let hp = Running::start(
            Path::new("haproxy"),
            &cfg.replace(&fe.to_string(), &free_port().to_string()),
            &["-db"],
            &[],
        );
        let hport: u16 = cfg_port(&hp);
        wait_port(hport);
        let theirs = prometheus_parse(&get(hport, "/metrics").1)
            .unwrap()
            .unwrap();
        let family = |l: &String| l.split('{').next().unwrap_or("").to_string();
        let theirs: std::collections::BTreeSet<String> = theirs.iter().map(family).collect();
        let extra: Vec<String> = last
            .iter()
            .map(family)
            .filter(|f| !theirs.contains(f))
            .collect();
        assert!(extra.is_empty(), "not in haproxy's exporter: {extra:?}");
    }
}

/// The frontend port written in a running proxy's config.
fn cfg_port(r: &Running) -> u16 {
    let cfg = std::fs::read_to_string(r.path("haproxy.cfg")).unwrap();
    cfg.lines()
        .find_map(|l| l.trim().strip_prefix("bind 127.0.0.1:"))
        .unwrap()
        .parse()
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// server-state-file
// ---------------------------------------------------------------------------------------------

/// State saved with `show servers state > FILE` comes back after a restart: globally for
/// `load-server-state-from-file global`, per backend for `local`, not at all for `none`.
#[test]
fn proxy_ops_server_state_file_survives_restart() {
    if !require("socat") {
        return;
    }
    let (s1, s2) = (http_server("s1"), http_server("s2"));
    let state_dir = tempfile::tempdir().unwrap();
    let sd = state_dir.path().display().to_string();
    let (fe1, fe2, fe3) = (free_port(), free_port(), free_port());
    let cfg = format!(
        "global\n  stats socket {{dir}}/admin.sock level admin\n  server-state-base {sd}\n  server-state-file global.state\n\
         defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n  load-server-state-from-file global\n\
         listen g\n  bind 127.0.0.1:{fe1}\n  server s1 127.0.0.1:{s1}\n  server s2 127.0.0.1:{s2} weight 2\n\
         listen l\n  bind 127.0.0.1:{fe2}\n  load-server-state-from-file local\n  server-state-file-name l.state\n  server s1 127.0.0.1:{s1}\n  server s2 127.0.0.1:{s2}\n\
         listen n\n  bind 127.0.0.1:{fe3}\n  load-server-state-from-file none\n  server s1 127.0.0.1:{s1}\n  server s2 127.0.0.1:{s2}\n"
    );
    let save = |p: &Running| {
        let sock = p.sock("admin.sock");
        cli(&sock, "set server g/s1 state maint; set weight g/s2 5; set server l/s2 state drain; set server n/s1 state maint");
        let all = cli(&sock, "show servers state");
        std::fs::write(state_dir.path().join("global.state"), &all).unwrap();
        std::fs::write(
            state_dir.path().join("l.state"),
            cli(&sock, "show servers state l"),
        )
        .unwrap();
        all
    };
    let first = Running::start(&rhaproxy_bin(), &cfg, &["-db"], &[fe1, fe2, fe3]);
    first.wait_sock("admin.sock");
    let saved = save(&first);
    assert!(saved.starts_with("1\n# be_id "), "{saved}");
    drop(first);
    let second = Running::start(&rhaproxy_bin(), &cfg, &["-db"], &[fe1, fe2, fe3]);
    second.wait_sock("admin.sock");
    let sock = second.sock("admin.sock");
    assert_eq!(cli(&sock, "get weight g/s2"), "5 (initial 2)\n\n");
    let state = cli(&sock, "show servers state");
    let admin_of = |be: &str, srv: &str| -> String {
        state
            .lines()
            .find(|l| l.split(' ').nth(1) == Some(be) && l.split(' ').nth(3) == Some(srv))
            .and_then(|l| l.split(' ').nth(6))
            .unwrap()
            .to_string()
    };
    assert_eq!(admin_of("g", "s1"), "1", "{state}");
    assert_eq!(admin_of("l", "s2"), "8", "{state}");
    assert_eq!(admin_of("n", "s1"), "0", "none: not restored\n{state}");
    assert!(bodies(fe1, 4).iter().all(|b| b == "s2"));
    assert!(bodies(fe2, 4).iter().all(|b| b == "s1"));
    assert!(
        !second.stderr().contains("Can't open"),
        "{}",
        second.stderr()
    );
}

// ---------------------------------------------------------------------------------------------
// master-worker
// ---------------------------------------------------------------------------------------------

fn kill(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig} {pid}");
}

/// Children of a process (its workers).
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn mw_config(port: u16, version: &str, extra_global: &str) -> String {
    format!(
        "global\n  master-worker\n  hard-stop-after 10s\n{extra_global}\
         defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind 127.0.0.1:{port}\n  http-request return status 200 content-type text/plain string \"{version}\\n\"\n"
    )
}

/// A bounded load (fresh connection per request, several client threads) with three
/// reloads in the middle: every request succeeds, and the answers move to the new version.
/// A broken configuration keeps the current worker serving.
#[test]
fn proxy_ops_master_worker_reloads_without_failures() {
    let port = free_port();
    let p = Running::start(&rhaproxy_bin(), &mw_config(port, "v0", ""), &[], &[port]);
    let master = p.proc.0.id();
    assert_eq!(get(port, "/").1, "v0\n");
    assert_eq!(children(master).len(), 1);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let stop = stop.clone();
            thread::spawn(move || {
                let (mut ok, mut failed) = (0u32, Vec::new());
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let r = (|| -> std::io::Result<String> {
                        let mut s = TcpStream::connect(("127.0.0.1", port))?;
                        s.set_read_timeout(Some(Duration::from_secs(5)))?;
                        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
                        let mut out = String::new();
                        s.read_to_string(&mut out)?;
                        Ok(out)
                    })();
                    match r {
                        Ok(t) if t.starts_with("HTTP/1.1 200") => ok += 1,
                        Ok(t) => failed.push(format!("bad answer {t:?}")),
                        Err(e) => failed.push(e.to_string()),
                    }
                }
                (ok, failed)
            })
        })
        .collect();
    let cfg_path = p.path("haproxy.cfg");
    for v in 1..=3 {
        thread::sleep(Duration::from_millis(700));
        std::fs::write(&cfg_path, mw_config(port, &format!("v{v}"), "")).unwrap();
        kill(master, "USR2");
        let want = format!("v{v}\n");
        wait_for("the new worker", || get(port, "/").1 == want);
    }
    thread::sleep(Duration::from_millis(700));
    // a broken configuration: the master says why and the worker keeps serving v3
    std::fs::write(
        &cfg_path,
        "global\n  master-worker\nfrontend fe\n  bogus-keyword\n",
    )
    .unwrap();
    kill(master, "USR2");
    wait_for("the master's alert", || {
        p.stderr().contains("keeps running with the previous")
    });
    thread::sleep(Duration::from_millis(500));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut ok, mut failed) = (0, Vec::new());
    for c in clients {
        let (o, f) = c.join().unwrap();
        ok += o;
        failed.extend(f);
    }
    assert!(
        failed.is_empty(),
        "{} failed of {}: {:?}",
        failed.len(),
        ok as usize + failed.len(),
        &failed[..failed.len().min(5)]
    );
    assert!(ok > 100, "only {ok} requests");
    assert_eq!(get(port, "/").1, "v3\n");
    assert!(
        p.stderr().contains("unknown keyword 'bogus-keyword'"),
        "{}",
        p.stderr()
    );
    // old workers are gone (soft-stopped), one worker serves
    wait_for("old workers to leave", || children(master).len() == 1);
    // SIGTERM on the master stops everything
    let worker = children(master)[0];
    kill(master, "TERM");
    wait_for("the worker to stop", || {
        !Path::new(&format!("/proc/{worker}")).exists()
            || std::fs::read_to_string(format!("/proc/{worker}/stat"))
                .map(|s| s.contains(") Z "))
                .unwrap_or(true)
    });
}

/// `-Ws`: READY=1 (with MAINPID) reaches $NOTIFY_SOCKET once the worker serves, and a reload
/// reports RELOADING=1 then READY=1.
#[test]
fn proxy_ops_master_worker_systemd_notify() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let sock_path = dir.path().join("notify.sock");
    let notify = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let cfg_path = dir.path().join("haproxy.cfg");
    std::fs::write(&cfg_path, mw_config(port, "v0", "")).unwrap();
    let child = Command::new(rhaproxy_bin())
        .arg("-Ws")
        .arg("-f")
        .arg(&cfg_path)
        .env("NOTIFY_SOCKET", &sock_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let p = Proc(child);
    let mut buf = [0u8; 256];
    let n = notify.recv(&mut buf).unwrap();
    let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(msg.contains("READY=1"), "{msg}");
    assert!(msg.contains(&format!("MAINPID={}", p.0.id())), "{msg}");
    // ready means serving
    assert_eq!(get(port, "/").1, "v0\n");
    kill(p.0.id(), "USR2");
    let n = notify.recv(&mut buf).unwrap();
    assert_eq!(String::from_utf8_lossy(&buf[..n]), "RELOADING=1\n");
    let n = notify.recv(&mut buf).unwrap();
    assert_eq!(String::from_utf8_lossy(&buf[..n]), "READY=1\n");
}

/// wrk (keep-alive connections) with three reloads in the middle: no socket errors and no
/// non-2xx answers. Real haproxy 2.6 shows a few read errors in the same run (idle
/// keep-alive connections closed at soft stop); we serve a request already on its way.
#[test]
fn proxy_ops_master_worker_wrk_keepalive_reloads() {
    if !require("wrk") {
        return;
    }
    let port = free_port();
    let p = Running::start(&rhaproxy_bin(), &mw_config(port, "v0", ""), &[], &[port]);
    let master = p.proc.0.id();
    let wrk = Command::new("wrk")
        .args(["-t1", "-c8", "-d4s"])
        .arg(format!("http://127.0.0.1:{port}/"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..3 {
        thread::sleep(Duration::from_millis(1000));
        kill(master, "USR2");
    }
    let out = wrk.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("requests in"), "{text}");
    assert!(!text.contains("Socket errors"), "{text}");
    assert!(!text.contains("Non-2xx"), "{text}");
    assert_eq!(
        p.stderr().matches("New worker").count(),
        4,
        "{}",
        p.stderr()
    );
    kill(master, "TERM");
}

/// The master CLI (`-S`): `show proc` lists the master and its worker, `reload` reloads.
#[test]
fn proxy_ops_master_cli_show_proc_and_reload() {
    if !require("socat") {
        return;
    }
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let msock = dir.path().join("master.sock");
    let p = Running::start(
        &rhaproxy_bin(),
        &mw_config(port, "v0", ""),
        &["-S", &format!("{},mode,600", msock.display())],
        &[port],
    );
    let master = p.proc.0.id();
    let ms = format!("UNIX-CONNECT:{}", msock.display());
    wait_for("master socket", || msock.exists());
    let procs = socat(&ms, "show proc\n");
    let worker = children(master)[0];
    assert!(procs.starts_with("#<PID>"), "{procs}");
    assert!(procs.contains(&format!("{master:<16}master")), "{procs}");
    assert!(procs.contains(&format!("{worker:<16}worker")), "{procs}");
    std::fs::write(p.path("haproxy.cfg"), mw_config(port, "v1", "")).unwrap();
    socat(&ms, "reload\n");
    wait_for("the reload", || get(port, "/").1 == "v1\n");
    let new_worker = *children(master).iter().find(|w| **w != worker).unwrap();
    let want = format!("# workers\n{new_worker:<16}worker          0");
    wait_for("show proc to list the new worker", || {
        socat(&ms, "show proc\n").contains(&want)
    });
    let procs = socat(&ms, "show proc\n");
    assert!(procs.contains(&want), "{procs}");
    assert!(
        procs.contains(&format!("{master:<16}master          1")),
        "{procs}"
    );
    kill(master, "TERM");
}

/// `set maxconn server`: a server limited to one connection queues (and times out) the
/// second of two concurrent requests; after raising the limit both are served at once.
#[test]
fn proxy_ops_cli_set_maxconn_server() {
    if !require("socat") {
        return;
    }
    let slow = http_server_slow("slow", Duration::from_millis(600));
    let fe = free_port();
    let cfg = format!(
        "global\n  stats socket {{dir}}/admin.sock level admin\n\
         defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n  timeout queue 200ms\n\
         listen l\n  bind 127.0.0.1:{fe}\n  server s1 127.0.0.1:{slow} maxconn 1\n"
    );
    let p = Running::start(&rhaproxy_bin(), &cfg, &["-db"], &[fe]);
    p.wait_sock("admin.sock");
    let pair = || {
        let a = thread::spawn(move || get(fe, "/").0);
        thread::sleep(Duration::from_millis(50));
        let b = thread::spawn(move || get(fe, "/").0);
        let mut v = vec![a.join().unwrap(), b.join().unwrap()];
        v.sort();
        v
    };
    assert_eq!(pair(), vec![200, 503]);
    assert_eq!(
        cli(&p.sock("admin.sock"), "set maxconn server l/s1 10"),
        "\n"
    );
    assert_eq!(pair(), vec![200, 200]);
    assert_eq!(
        cli(&p.sock("admin.sock"), "set maxconn server l/nope 10"),
        "No such server.\n\n"
    );
}

/// Stops a daemonized master (from its pidfile) at the end of a test, also on failure.
struct PidfileGuard(PathBuf);
impl Drop for PidfileGuard {
    fn drop(&mut self) {
        if let Some(pid) = std::fs::read_to_string(&self.0)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
        {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    }
}

/// `-D -W -p FILE`: the master goes to the background, the pidfile names it, reloads work
/// and SIGTERM on the master stops its worker too.
#[test]
fn proxy_ops_master_worker_daemon_and_pidfile() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("haproxy.cfg");
    let pidfile = dir.path().join("haproxy.pid");
    std::fs::write(&cfg, mw_config(port, "v0", "")).unwrap();
    let _guard = PidfileGuard(pidfile.clone());
    let st = Command::new(rhaproxy_bin())
        .args(["-D", "-W", "-p"])
        .arg(&pidfile)
        .arg("-f")
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    wait_port(port);
    let master: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    wait_for("the worker", || children(master).len() == 1);
    let worker = children(master)[0];
    assert_eq!(get(port, "/").1, "v0\n");
    std::fs::write(&cfg, mw_config(port, "v1", "")).unwrap();
    kill(master, "USR2");
    wait_for("the reload", || get(port, "/").1 == "v1\n");
    kill(master, "TERM");
    wait_for("master and workers to stop", || {
        !Path::new(&format!("/proc/{master}")).exists()
            && !Path::new(&format!("/proc/{worker}")).exists()
    });
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

/// Client threads sending one request per connection until `stop`; returns (ok, failures).
fn load_clients(
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Vec<thread::JoinHandle<(u32, Vec<String>)>> {
    (0..4)
        .map(|_| {
            let stop = stop.clone();
            thread::spawn(move || {
                let (mut ok, mut failed) = (0u32, Vec::new());
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let r = (|| -> std::io::Result<String> {
                        let mut s = TcpStream::connect(("127.0.0.1", port))?;
                        s.set_read_timeout(Some(Duration::from_secs(5)))?;
                        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
                        let mut out = String::new();
                        s.read_to_string(&mut out)?;
                        Ok(out)
                    })();
                    match r {
                        Ok(t) if t.starts_with("HTTP/1.1 200") => ok += 1,
                        Ok(t) => failed.push(format!("bad answer {t:?}")),
                        Err(e) => failed.push(e.to_string()),
                    }
                }
                (ok, failed)
            })
        })
        .collect()
}

/// Classic reload without master: `rhaproxy -x STATS_SOCKET -sf OLDPID` takes the
/// listening sockets of the running process (`expose-fd listeners`), so three reloads
/// under load lose no request.
#[test]
fn proxy_ops_classic_reload_with_socket_transfer() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("admin.sock");
    let cfg_path = dir.path().join("haproxy.cfg");
    let cfg = |v: &str| {
        format!(
            "global\n  stats socket {} level admin expose-fd listeners\n\
             defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
             frontend fe\n  bind 127.0.0.1:{port}\n  http-request return status 200 content-type text/plain string \"{v}\\n\"\n",
            sock.display()
        )
    };
    std::fs::write(&cfg_path, cfg("v0")).unwrap();
    let start = |extra: &[String]| {
        Proc(
            Command::new(rhaproxy_bin())
                .arg("-db")
                .args(extra)
                .arg("-f")
                .arg(&cfg_path)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        )
    };
    let mut procs = vec![start(&[])];
    wait_port(port);
    wait_for("stats socket", || {
        std::os::unix::net::UnixStream::connect(&sock).is_ok()
    });
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients = load_clients(port, stop.clone());
    for v in 1..=3 {
        thread::sleep(Duration::from_millis(600));
        std::fs::write(&cfg_path, cfg(&format!("v{v}"))).unwrap();
        let old = procs.last().unwrap().0.id();
        procs.push(start(&[
            "-x".into(),
            sock.display().to_string(),
            "-sf".into(),
            old.to_string(),
        ]));
        let want = format!("v{v}\n");
        wait_for("the new process", || get(port, "/").1 == want);
        // the old process leaves once idle
        wait_for("the old process to stop", || {
            std::fs::read_to_string(format!("/proc/{old}/stat"))
                .map(|st| st.contains(") Z "))
                .unwrap_or(true)
        });
    }
    thread::sleep(Duration::from_millis(400));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut ok, mut failed) = (0, Vec::new());
    for c in clients {
        let (o, f) = c.join().unwrap();
        ok += o;
        failed.extend(f);
    }
    assert!(
        failed.is_empty(),
        "{} failed of {}: {:?}",
        failed.len(),
        ok as usize + failed.len(),
        &failed[..failed.len().min(5)]
    );
    assert!(ok > 100, "only {ok} requests");
}

// ---------------------------------------------------------------------------------------------
// runtime API: addresses, connection limits, sessions
// ---------------------------------------------------------------------------------------------

/// `set maxconn frontend|global`, `set server addr|agent`, `enable|disable agent`,
/// `shutdown session(s)`, `show sess ID`: every reply identical to haproxy's, and the
/// resulting `addr` column of `show stat` too.
#[test]
fn proxy_ops_cli_runtime_commands_differential() {
    if !require("socat") || !require("haproxy") {
        return;
    }
    let steps: &[&str] = &[
        "set maxconn frontend fe 10",
        "set maxconn frontend nope 10",
        "set maxconn frontend fe",
        "set maxconn frontend fe -1",
        "set maxconn frontend fe abc",
        "set maxconn global 100",
        "set maxconn global 100000000",
        "set maxconn global",
        "set maxconn global 0",
        "set maxconn frontend fe 7",
        "set maxconn global 300",
        "set server be/s1 addr",
        "set server be/s1 addr foo",
        "set server be/s1 addr 127.0.0.2",
        "set server be/s1 addr 127.0.0.2",
        "set server be/s1 addr 127.0.0.3 port 81",
        "set server be/s1 addr 127.0.0.3 port 81",
        "set server be/s1 addr 127.0.0.3 port",
        "set server be/s1 addr 127.0.0.4 port abc",
        "set server be/s1 addr ::1 port +5",
        "set server be/s2 addr 127.0.0.9 port +5",
        "set server be/s1 agent up",
        "set server be/s2 agent up",
        "set server be/s2 agent sideways",
        "disable agent be/s2",
        "set server be/s2 agent down",
        "enable agent be/s1",
        "enable agent be/s2",
        "shutdown sessions server be/zz",
        "shutdown sessions server be/s1",
        "shutdown session",
        "shutdown session abc",
        "shutdown session 0x77",
        "show sess 0x77",
    ];
    let run = |bin: &Path| -> Vec<String> {
        let (fe, dead) = (free_port(), free_port());
        let cfg = format!(
            "global\n  maxconn 5000\n  stats socket {{dir}}/admin.sock level admin\n\
             defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
             frontend fe\n  bind 127.0.0.1:{fe}\n  default_backend be\n\
             backend be\n  server s1 127.0.0.1:7001\n  server s2 127.0.0.1:7002 agent-check agent-port {dead} agent-inter 1h port 7002\n"
        );
        let p = Running::start(bin, &cfg, &["-db"], &[fe]);
        p.wait_sock("admin.sock");
        let sock = p.sock("admin.sock");
        let mut out: Vec<String> = steps.iter().map(|c| cli(&sock, c)).collect();
        let addrs: Vec<String> = cli(&sock, "show stat")
            .lines()
            .filter(|l| l.starts_with("be,s"))
            .map(|l| l.split(',').nth(73).unwrap_or("").to_string())
            .collect();
        out.push(addrs.join(" "));
        // the limits now in force: the frontend's `slim` and `show info`'s Maxconn
        let stat = cli(&sock, "show stat");
        let fe_row = stat.lines().find(|l| l.starts_with("fe,FRONTEND,"));
        out.push(
            fe_row
                .and_then(|l| l.split(',').nth(6))
                .unwrap_or("")
                .to_string(),
        );
        let info = cli(&sock, "show info");
        out.push(
            info.lines()
                .filter(|l| l.starts_with("Maxconn:") || l.starts_with("Hard_maxconn:"))
                .collect::<Vec<_>>()
                .join(" "),
        );
        out
    };
    let ours = run(&rhaproxy_bin());
    let theirs = run(Path::new("haproxy"));
    let diffs: Vec<String> = ours
        .iter()
        .zip(&theirs)
        .enumerate()
        .filter(|(_, (o, t))| o != t)
        .map(|(i, (o, t))| {
            format!(
                "step {i} {:?}:\n ours: {o:?}\n haproxy: {t:?}",
                steps.get(i).unwrap_or(&"show stat addr")
            )
        })
        .collect();
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    assert!(theirs[15].starts_with("IP changed from '127.0.0.2' to '127.0.0.3', port changed"));
    let n = theirs.len();
    assert_eq!(theirs[n - 3], "[::1]:81 127.0.0.9:5");
    assert_eq!(theirs[n - 2], "7");
    assert_eq!(theirs[n - 1], "Maxconn: 300 Hard_maxconn: 5000");
}

/// `set server B/S addr IP port P` sends the next requests to the new address (the idle
/// connection to the old one is not reused).
#[test]
fn proxy_ops_cli_set_server_addr_moves_traffic() {
    if !require("socat") {
        return;
    }
    let (a, b) = (http_server("A"), http_server("B"));
    let fe = free_port();
    let cfg = format!(
        "global\n  stats socket {{dir}}/admin.sock level admin\n\
         defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         listen l\n  bind 127.0.0.1:{fe}\n  server s1 127.0.0.1:{a}\n"
    );
    let p = Running::start(&rhaproxy_bin(), &cfg, &["-db"], &[fe]);
    p.wait_sock("admin.sock");
    assert_eq!(bodies(fe, 3), vec!["A", "A", "A"]);
    let reply = cli(
        &p.sock("admin.sock"),
        &format!("set server l/s1 addr 127.0.0.1 port {b}"),
    );
    assert_eq!(
        reply,
        format!("no need to change the addr, port changed from '{a}' to '{b}' by 'stats socket command'\n\n")
    );
    assert_eq!(bodies(fe, 3), vec!["B", "B", "B"]);
}

/// Health checks follow `set server addr`: a server checked DOWN at a dead port comes UP once
/// its address points at a live one (HAProxy checks the server's current address).
#[test]
fn proxy_ops_cli_set_server_addr_moves_health_checks() {
    if !require("socat") {
        return;
    }
    let a = http_server("A");
    let dead = free_port();
    let fe = free_port();
    let cfg = format!(
        "global\n  stats socket {{dir}}/admin.sock level admin\n\
         defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n  timeout check 1s\n\
         listen l\n  bind 127.0.0.1:{fe}\n  server s1 127.0.0.1:{dead} check inter 100ms rise 1 fall 1\n"
    );
    let p = Running::start(&rhaproxy_bin(), &cfg, &["-db"], &[fe]);
    p.wait_sock("admin.sock");
    let status = || -> String {
        let stat = cli(&p.sock("admin.sock"), "show stat");
        let line = stat
            .lines()
            .find(|l| l.starts_with("l,s1,"))
            .unwrap_or_default()
            .to_string();
        line.split(',').nth(17).unwrap_or("").to_string()
    };
    let wait_for = |want: &str| {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let st = status();
            if st == want {
                return;
            }
            assert!(Instant::now() < deadline, "s1 stayed {st}, want {want}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait_for("DOWN");
    cli(
        &p.sock("admin.sock"),
        &format!("set server l/s1 addr 127.0.0.1 port {a}"),
    );
    wait_for("UP");
    assert_eq!(bodies(fe, 2), vec!["A", "A"]);
}

/// One HTTP request on a fresh connection to `port`, not waiting for the answer.
fn open_request(port: u16) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    s
}

/// Waits until `s` is closed by the peer (EOF or reset); false after `limit`.
fn closed_within(s: &mut TcpStream, limit: Duration) -> bool {
    s.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 512];
    let start = Instant::now();
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return false
            }
            Err(_) => return true,
        }
        if start.elapsed() > limit {
            return false;
        }
    }
}

/// `show sess` lists streams in HAProxy's format with their frontend, backend and server;
/// `shutdown sessions server` closes the streams on that server, `shutdown session ID` one
/// stream; both disappear from `show sess`.
#[test]
fn proxy_ops_cli_show_and_shutdown_sessions() {
    if !require("socat") {
        return;
    }
    let slow = http_server_slow("slow", Duration::from_secs(8));
    let fe = free_port();
    let cfg = format!(
        "global\n  stats socket {{dir}}/admin.sock level admin\n  stats socket {{dir}}/user.sock level user\n\
         defaults\n  mode http\n  timeout connect 1s\n  timeout client 20s\n  timeout server 20s\n\
         frontend fe\n  bind 127.0.0.1:{fe}\n  default_backend be\n\
         backend be\n  server s1 127.0.0.1:{slow}\n"
    );
    let p = Running::start(&rhaproxy_bin(), &cfg, &["-db"], &[fe]);
    p.wait_sock("admin.sock");
    let sock = p.sock("admin.sock");
    let mut busy = open_request(fe);
    let mut idle = TcpStream::connect(("127.0.0.1", fe)).unwrap();
    let lines = std::cell::RefCell::new(Vec::new());
    wait_for("two streams in show sess", || {
        let now: Vec<String> = cli(&sock, "show sess")
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        let ok = now.iter().any(|l| l.contains(" srv=s1 ")) && now.len() >= 3;
        *lines.borrow_mut() = now;
        ok
    });
    let lines = lines.into_inner();
    let on_s1 = lines.iter().find(|l| l.contains(" srv=s1 ")).unwrap();
    assert!(
        on_s1.contains(": proto=tcpv4 src=127.0.0.1:") && on_s1.contains(" fe=fe be=be srv=s1 ts="),
        "{on_s1}"
    );
    let waiting = lines
        .iter()
        .find(|l| l.contains(" fe=fe ") && l.contains(" srv=<none> "))
        .unwrap_or_else(|| panic!("no idle stream in {lines:?}"));
    assert!(lines
        .last()
        .unwrap()
        .contains("fe=GLOBAL be=<NONE> srv=<none>"));
    assert_eq!(
        cli(&p.sock("user.sock"), "show sess"),
        "Permission denied\n\n"
    );

    assert_eq!(cli(&sock, "shutdown sessions server be/s1"), "\n");
    assert!(
        closed_within(&mut busy, Duration::from_secs(5)),
        "stream on s1 not closed"
    );
    let id = waiting.split(':').next().unwrap().to_string();
    let detail = cli(&sock, &format!("show sess {id}"));
    assert!(
        detail.starts_with(&format!("{id}: id=")) && detail.contains("frontend=fe"),
        "{detail}"
    );
    assert_eq!(cli(&sock, &format!("shutdown session {id}")), "\n");
    assert!(
        closed_within(&mut idle, Duration::from_secs(5)),
        "idle stream not closed"
    );
    wait_for("streams gone from show sess", || {
        cli(&sock, "show sess")
            .lines()
            .filter(|l| !l.is_empty())
            .count()
            == 1
    });
    assert_eq!(
        cli(&sock, &format!("shutdown session {id}")),
        "No such session (use 'show sess').\n\n"
    );
}

/// `set maxconn frontend`: at 1, a second connection waits while the first is open; raising
/// the limit lets it in at once. `set maxconn global` lowers and restores the process limit.
#[test]
fn proxy_ops_cli_set_maxconn_frontend_and_global() {
    if !require("socat") {
        return;
    }
    let s1 = http_server("s1");
    let fe = free_port();
    let cfg = format!(
        "global\n  maxconn 100\n  stats socket {{dir}}/admin.sock level admin\n\
         defaults\n  mode http\n  timeout connect 1s\n  timeout client 10s\n  timeout server 5s\n\
         frontend fe\n  bind 127.0.0.1:{fe}\n  default_backend be\n\
         backend be\n  server s1 127.0.0.1:{s1}\n"
    );
    let p = Running::start(&rhaproxy_bin(), &cfg, &["-db"], &[fe]);
    p.wait_sock("admin.sock");
    let sock = p.sock("admin.sock");
    for (cmd, first_limit) in [
        ("set maxconn frontend fe", "set maxconn frontend fe 1"),
        ("set maxconn global", "set maxconn global 1"),
    ] {
        assert_eq!(cli(&sock, first_limit), "\n");
        // the first connection holds the only slot (keep-alive, one answered request)
        let mut first = open_request(fe);
        first
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut buf = [0u8; 256];
        assert!(first.read(&mut buf).unwrap() > 0);
        let mut second = open_request(fe);
        second
            .set_read_timeout(Some(Duration::from_millis(400)))
            .unwrap();
        assert!(
            second.read(&mut buf).is_err(),
            "{cmd} 1: second connection served"
        );
        assert_eq!(cli(&sock, &format!("{cmd} 10")), "\n");
        second
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let n = second.read(&mut buf).unwrap();
        assert!(
            String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
            "{cmd} 10"
        );
    }
    assert_eq!(
        cli(&sock, "set maxconn global 101"),
        "Value out of range.\n\n"
    );
}

// ---------------------------------------------------------------------------------------------
// logs
// ---------------------------------------------------------------------------------------------

/// Every syslog datagram received until the socket stays quiet for `quiet`.
fn drain_syslog(sock: &std::net::UdpSocket, quiet: Duration) -> Vec<String> {
    sock.set_read_timeout(Some(quiet)).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = sock.recv(&mut buf) {
        out.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    out
}

/// What a log line is about, for comparing two proxies: its `<PRI>`, the syslog header
/// form, and which of our requests produced it.
fn log_signature(line: &str) -> String {
    let pri = line
        .split_once('>')
        .map(|(p, _)| format!("{p}>"))
        .unwrap_or_default();
    let form = if line.contains(">1 ") {
        "rfc5424"
    } else {
        "rfc3164"
    };
    let what = if line.contains("GET /ok ") {
        "200 /ok"
    } else if line.contains("GET /dead ") {
        "503 /dead"
    } else if line.contains("<BADREQ>") {
        "null connection"
    } else {
        "other"
    };
    format!("{pri} {form} {what}")
}

/// `log` targets with facility, max and min level and format, `option dontlognull` and
/// `option log-separate-errors`: for the same traffic (a 200, a 503, a connection without a
/// request) rhaproxy sends the same syslog priorities as haproxy, and nothing more.
#[test]
fn proxy_ops_logs_levels_dontlognull_separate_errors_differential() {
    if !require("haproxy") {
        return;
    }
    let ok = http_server("ok");
    let dead = free_port();
    // (log line, extra frontend options)
    let cases: &[(&str, &str)] = &[
        ("log 127.0.0.1:{sys} local3", ""),
        (
            "log 127.0.0.1:{sys} local3",
            "  option dontlognull\n  option log-separate-errors\n",
        ),
        (
            "log 127.0.0.1:{sys} local0 notice",
            "  option log-separate-errors\n",
        ),
        (
            "log 127.0.0.1:{sys} len 1024 format rfc5424 daemon info err",
            "  option log-separate-errors\n  option dontlognull\n",
        ),
        ("log 127.0.0.1:{sys} local7 debug notice", ""),
    ];
    let run = |bin: &Path, log: &str, opts: &str| -> Vec<String> {
        let sys = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let sport = sys.local_addr().unwrap().port();
        let fe = free_port();
        let cfg = format!(
            "global\n  nbthread 1\n\
             defaults\n  mode http\n  retries 0\n  timeout connect 1s\n  timeout client 2s\n  timeout server 5s\n\
             frontend fe\n  bind 127.0.0.1:{fe}\n  {}\n  option httplog\n{opts}  use_backend bdead if {{ path_beg /dead }}\n  default_backend bok\n\
             backend bok\n  server s1 127.0.0.1:{ok}\n\
             backend bdead\n  server s1 127.0.0.1:{dead}\n",
            log.replace("{sys}", &sport.to_string())
        );
        let p = Running::start(bin, &cfg, &["-db"], &[fe]);
        assert_eq!(get(fe, "/ok").0, 200);
        assert_eq!(get(fe, "/dead").0, 503);
        drop(TcpStream::connect(("127.0.0.1", fe)).unwrap());
        let mut sigs: Vec<String> = drain_syslog(&sys, Duration::from_millis(500))
            .iter()
            .map(|l| log_signature(l))
            .collect();
        drop(p);
        sigs.sort();
        sigs
    };
    let mut diffs = Vec::new();
    let mut reference = Vec::new();
    for (log, opts) in cases {
        let ours = run(&rhaproxy_bin(), log, opts);
        let theirs = run(Path::new("haproxy"), log, opts);
        if ours != theirs {
            diffs.push(format!(
                "{log} / {opts:?}:\n ours:    {ours:?}\n haproxy: {theirs:?}"
            ));
        }
        reference.push(theirs);
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    // what haproxy did, so the comparison is about something: local3 info = <158>,
    // err = <155>; dontlognull drops the null connections
    assert!(
        reference[0].contains(&"<158> rfc3164 200 /ok".to_string()),
        "{:?}",
        reference[0]
    );
    assert!(reference[0].iter().any(|s| s.ends_with("null connection")));
    assert!(
        reference[1].contains(&"<155> rfc3164 503 /dead".to_string()),
        "{:?}",
        reference[1]
    );
    assert!(!reference[1].iter().any(|s| s.ends_with("null connection")));
    assert!(
        !reference[2].iter().any(|s| s.contains("200 /ok")),
        "{:?}",
        reference[2]
    );
}

/// Maintenance and drain changes (runtime API and stats page) are reported on stderr with
/// HAProxy's wording and counts, including the backend having no server left.
#[test]
fn proxy_ops_admin_state_changes_reported_like_haproxy() {
    if !require("socat") || !require("haproxy") {
        return;
    }
    let steps: &[&str] = &[
        "set server b1/srv1 state maint",
        "set server b1/srv2 state drain",
        "set server b1/srv2 state maint",
        "set server b1/srv3 state maint",
        "set server b1/srv1 state ready",
        "set server b1/srv2 state drain",
        "set server b1/srv2 state ready",
        "disable server b2/srv1",
        "enable server b2/srv1",
        "POST s=srv2&action=drain&b=b2",
        "POST s=srv2&action=ready&b=b2",
    ];
    let run = |bin: &Path| -> Vec<String> {
        let (fe, st, dead) = (free_port(), free_port(), free_port());
        let cfg = format!(
            "global\n  stats socket {{dir}}/admin.sock level admin\n\
             defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
             frontend fe\n  bind 127.0.0.1:{fe}\n  default_backend b1\n\
             listen stats\n  bind 127.0.0.1:{st}\n  stats enable\n  stats uri /\n  stats admin if TRUE\n\
             backend b1\n  server srv1 127.0.0.1:{dead}\n  server srv2 127.0.0.1:{dead}\n  server srv3 127.0.0.1:{dead}\n\
             backend b2\n  server srv1 127.0.0.1:{dead}\n  server srv2 127.0.0.1:{dead} backup\n"
        );
        let p = Running::start(bin, &cfg, &["-db"], &[fe, st]);
        p.wait_sock("admin.sock");
        for step in steps {
            match step.strip_prefix("POST ") {
                Some(form) => {
                    let mut s = TcpStream::connect(("127.0.0.1", st)).unwrap();
                    write!(
                        s,
                        "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{form}",
                        form.len()
                    )
                    .unwrap();
                    let mut out = String::new();
                    let _ = s.read_to_string(&mut out);
                    assert!(out.starts_with("HTTP/1.1 303"), "{out}");
                }
                None => assert_eq!(cli(&p.sock("admin.sock"), step), "\n"),
            }
        }
        thread::sleep(Duration::from_millis(200));
        p.stderr()
            .lines()
            .filter(|l| {
                l.contains(" : Server ")
                    || l.contains(" : Backup Server ")
                    || l.contains("has no server")
            })
            .map(|l| match (l.find('('), l.find(')')) {
                (Some(a), Some(b)) if a < b => format!("{}(PID{}", &l[..a], &l[b..]),
                _ => l.to_string(),
            })
            .collect()
    };
    let ours = run(&rhaproxy_bin());
    let theirs = run(Path::new("haproxy"));
    assert_eq!(ours, theirs);
    assert!(theirs.len() >= 12, "{theirs:#?}");
    assert!(theirs
        .iter()
        .any(|l| l.contains("backend 'b1' has no server available!")));
}

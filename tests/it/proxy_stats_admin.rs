//! The stats page's admin actions (`stats admin if ...`) through the real binary: the form
//! POSTs compared with real haproxy on the same configuration, and the page driven in headless
//! Chromium (Debian's chromium + chromium-driver + python3-selenium, tests/browser/).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::util::{have, repo_root, require, rhaproxy_bin};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A proxy (ours or haproxy) running on a config written to a temp dir; killed on drop.
struct Proxy {
    dir: tempfile::TempDir,
    child: Child,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proxy {
    /// `cfg` may use `{dir}` for the temp dir; waits for `port` and the `admin.sock` socket.
    fn start(bin: &Path, cfg: &str, port: u16) -> Proxy {
        let dir = tempfile::tempdir().unwrap();
        let cfg = cfg.replace("{dir}", &dir.path().display().to_string());
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, cfg).unwrap();
        let child = Command::new(bin)
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("stderr.txt")).unwrap())
            .spawn()
            .unwrap();
        let p = Proxy { dir, child };
        let sock = p.sock();
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err()
            || UnixStream::connect(&sock).is_err()
        {
            assert!(
                Instant::now() < deadline,
                "{} did not start: {}",
                bin.display(),
                std::fs::read_to_string(p.dir.path().join("stderr.txt")).unwrap_or_default()
            );
            thread::sleep(Duration::from_millis(20));
        }
        p
    }
    fn sock(&self) -> PathBuf {
        self.dir.path().join("admin.sock")
    }
    /// One runtime API command over the unix socket.
    fn cli(&self, cmd: &str) -> String {
        let mut s = UnixStream::connect(self.sock()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(format!("{cmd}\n").as_bytes()).unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }
    /// `pxname,svname,status` of every `show stat` row.
    fn statuses(&self) -> Vec<String> {
        self.cli("show stat")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                format!("{},{},{}", f[0], f[1], f.get(17).unwrap_or(&""))
            })
            .collect()
    }
}

/// Sends one raw HTTP/1.1 request (Connection: close); returns (status, lower-cased head, body).
fn http(port: u16, method: &str, uri: &str, body: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut req = format!("{method} {uri} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    if method == "POST" {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_string())
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
}

/// Undoes chunked framing when present (haproxy answers chunked, we answer with a length).
fn body_of(head: &str, body: &str) -> String {
    if !head.contains("transfer-encoding: chunked") {
        return body.to_string();
    }
    let mut out = String::new();
    let mut s = body;
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

/// Two backends, a stats page with admin rights for everyone on fe1 and a read-only one on
/// fe2 limited to b1 and itself (`stats scope`), and a runtime API socket. The servers point
/// at a closed port (no checks: "no check").
fn admin_config(fe1: u16, fe2: u16, dead: u16) -> String {
    format!(
        "global\n  stats socket {{dir}}/admin.sock level admin\n\
         defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe1\n  bind 127.0.0.1:{fe1}\n  stats enable\n  stats refresh 5s\n  stats uri /\n  stats admin if TRUE\n\
         frontend fe2\n  bind 127.0.0.1:{fe2}\n  stats enable\n  stats uri /st\n  stats admin if FALSE\n  stats scope b1\n  stats scope .\n\
         backend b1\n  server srv1 127.0.0.1:{dead}\n  server srv2 127.0.0.1:{dead}\n  server srv3 127.0.0.1:{dead}\n\
         backend b2\n  server srv1 127.0.0.1:{dead}\n  server srv2 127.0.0.1:{dead}\n"
    )
}

/// (frontend 1 or 2, method, uri, form body): each POST's status and Location, each GET's
/// status and body, and the servers' states after every step must match haproxy's.
const STEPS: &[(u8, &str, &str, &str)] = &[
    (
        1,
        "POST",
        "/?scope=b2",
        "s=srv1&s=srv2&s=srv3&action=maint&b=%234",
    ),
    (1, "POST", "/;norefresh;up", "s=srv2&action=drain&b=b1"),
    (1, "POST", "/", "s=srvX&action=drain&b=b1"),
    (1, "POST", "/", "s=srvX&s=srv1&action=ready&b=b1"),
    (1, "POST", "/", "action=ready&b=b1"),
    (1, "POST", "/", "s=srv1&action=foo&b=b1"),
    (1, "POST", "/", "s=srv1&action=dhlth&b=b1"),
    (1, "POST", "/", "s=srv1&action=hdown&b=nope"),
    (1, "POST", "/", "s=srv1&action=hdown&b=b2"),
    (1, "POST", "/", "s=srv1&action=dagent&b=b2"),
    (1, "POST", "/", "s=srv2&action=dagent&b=%235"),
    (1, "POST", "/", "s=srv2&action=arunn&b=%235"),
    (1, "POST", "/", "s=srv2&action=eagent&b=%235"),
    (1, "POST", "/", "s=srv1&action=hrunn&b=b2"),
    (1, "POST", "/", "s=srv2&action=shutdown&b=b2"),
    (1, "POST", "/;st=DONE", "s=srv3&action=ready&b=b1&s=srv1"),
    (1, "POST", "/", "s=srv1&action=disable&b=b1"),
    (1, "POST", "/", "s=srv1&action=disable&b=b1"),
    (1, "POST", "/", "s=srv1&action=enable&b=b1"),
    (1, "POST", "/", "s=srv1&action=maint&b=%233"),
    (2, "POST", "/st", "s=srv1&action=maint&b=b1"),
    (2, "POST", "/st;up?scope=b1", "s=srv1&action=maint&b=b1"),
    (1, "GET", "/;csv;scope=B1", ""),
    (1, "GET", "/;csv;up;scope=b", ""),
    (1, "GET", "/;csv;no-maint", ""),
    (1, "GET", "/;csv;scope=b2;up", ""),
    (2, "GET", "/st;csv", ""),
    (2, "GET", "/st;csv;scope=fe", ""),
];

#[test]
fn proxy_stats_admin_post_differential_against_haproxy() {
    if !require("haproxy") {
        return;
    }
    let run = |bin: &Path| -> Vec<String> {
        let (fe1, fe2, dead) = (free_port(), free_port(), free_port());
        let p = Proxy::start(bin, &admin_config(fe1, fe2, dead), fe1);
        let mut out = Vec::new();
        for (fe, method, uri, body) in STEPS {
            let port = if *fe == 1 { fe1 } else { fe2 };
            let (status, head, resp) = http(port, method, uri, body);
            let what = if *method == "POST" {
                header(&head, "location").unwrap_or("-").to_string()
            } else {
                // CSV: keep pxname, svname, status (the rest are counters and times)
                body_of(&head, &resp)
                    .lines()
                    .map(|l| {
                        l.split(',')
                            .take(2)
                            .chain(l.split(',').nth(17))
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            };
            out.push(format!(
                "{method} {uri} {body} -> {status} {what} :: {}",
                p.statuses().join("|")
            ));
        }
        out
    };
    let ours = run(&rhaproxy_bin());
    let theirs = run(Path::new("haproxy"));
    let diffs: Vec<String> = ours
        .iter()
        .zip(&theirs)
        .filter(|(o, t)| o != t)
        .map(|(o, t)| format!(" ours:    {o}\n haproxy: {t}"))
        .collect();
    assert!(diffs.is_empty(), "differences:\n{}", diffs.join("\n"));
    // the reference really did what the test is about
    assert!(
        theirs[0].contains("-> 303 /;st=done?scope=b2"),
        "{}",
        theirs[0]
    );
    assert!(theirs[20].contains("-> 303 /st;st=deny"), "{}", theirs[20]);
    // `stats scope b1` + `stats scope .` on fe2: b1 and fe2 itself, never b2 or fe1
    let csv_part = |i: usize| theirs[i].split(" :: ").next().unwrap_or("").to_string();
    let scoped = csv_part(STEPS.len() - 2);
    assert!(
        scoped.contains("|b1,BACKEND")
            && scoped.contains("|fe2,FRONTEND")
            && !scoped.contains("b2,"),
        "{scoped}"
    );
    let searched = csv_part(STEPS.len() - 1);
    assert!(
        searched.contains("fe2,") && !searched.contains("b1,"),
        "{searched}"
    );
}

/// The HTML page offers the admin form only where `stats admin` matches.
#[test]
fn proxy_stats_admin_form_only_with_admin_rights() {
    let (fe1, fe2, dead) = (free_port(), free_port(), free_port());
    let p = Proxy::start(&rhaproxy_bin(), &admin_config(fe1, fe2, dead), fe1);
    let (st, head, body) = http(fe1, "GET", "/", "");
    assert_eq!(st, 200);
    assert_eq!(header(&head, "refresh"), Some("5"));
    for needle in [
        "<form method=\"post\">",
        "<input class='b1-checkbox' type=\"checkbox\" name=\"s\" value=\"srv3\">",
        "<option value=\"maint\">Set state to MAINT</option>",
        "<input type=\"hidden\" name=\"b\" value=\"#4\">",
        "<input type=\"submit\" value=\"Apply\">",
    ] {
        assert!(body.contains(needle), "missing {needle}");
    }
    let (_, head, body) = http(fe1, "GET", "/;norefresh;st=PART?scope=b2", "");
    assert_eq!(header(&head, "refresh"), None);
    assert!(body.contains("Action partially processed."));
    assert!(body.contains("b2-checkbox") && !body.contains("b1-checkbox"));
    let (st, _, body) = http(fe2, "GET", "/st", "");
    assert_eq!(st, 200);
    assert!(!body.contains("<form method=\"post\">") && !body.contains("checkbox"));
    assert!(body.contains("srv3"));
    drop(p);
}

/// What the browser script reports after one action.
fn chromium_action(url: &str, backend: &str, server: &str, action: &str) -> String {
    let python = if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    let script = repo_root().join("tests/browser/stats_admin.py");
    let out = Command::new(python)
        .arg(script)
        .args([url, backend, server, action])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "browser run failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Whether Chromium, its WebDriver and python3-selenium are here; without them the test is
/// skipped with the reason, except in CI (CI=true) where that is a failure.
fn browser_available() -> bool {
    let selenium = Command::new(if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    })
    .args(["-c", "import selenium"])
    .stderr(Stdio::null())
    .status()
    .is_ok_and(|s| s.success());
    let missing: Vec<&str> = [
        ("chromium", have("chromium")),
        ("chromedriver (chromium-driver)", have("chromedriver")),
        ("python3-selenium", selenium),
    ]
    .into_iter()
    .filter(|(_, ok)| !ok)
    .map(|(n, _)| n)
    .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("headless Chromium test needs {} in CI", missing.join(", "));
    }
    eprintln!(
        "skipping proxy_stats_admin_in_headless_chromium: {} not installed",
        missing.join(", ")
    );
    false
}

/// A real browser ticks a server, picks "Set state to MAINT", clicks Apply: the server is
/// MAINT in the runtime API; then back to READY. The same page of real haproxy gives the
/// same redirect and banner.
#[test]
fn proxy_stats_admin_in_headless_chromium() {
    if !browser_available() {
        return;
    }
    let (fe1, fe2, dead) = (free_port(), free_port(), free_port());
    let status_of = |p: &Proxy, srv: &str| -> String {
        p.statuses()
            .into_iter()
            .find(|l| l.starts_with(srv))
            .unwrap_or_default()
    };
    let ours = Proxy::start(&rhaproxy_bin(), &admin_config(fe1, fe2, dead), fe1);
    let url = format!("http://127.0.0.1:{fe1}/");
    assert_eq!(status_of(&ours, "b1,srv2,"), "b1,srv2,no check");
    let r = chromium_action(&url, "b1", "srv2", "maint");
    assert!(
        r.contains(";st=DONE") && r.contains("Action processed successfully."),
        "{r}"
    );
    assert!(r.contains("\"b\": \"#4\""), "{r}");
    assert_eq!(status_of(&ours, "b1,srv2,"), "b1,srv2,MAINT");
    assert_eq!(status_of(&ours, "b1,srv1,"), "b1,srv1,no check");
    let scoped = format!("http://127.0.0.1:{fe1}/;norefresh?scope=b1");
    let r2 = chromium_action(&scoped, "b1", "srv2", "ready");
    assert!(r2.contains(";st=DONE;norefresh?scope=b1"), "{r2}");
    assert_eq!(status_of(&ours, "b1,srv2,"), "b1,srv2,no check");
    drop(ours);

    if have("haproxy") {
        let (fe1, fe2, dead) = (free_port(), free_port(), free_port());
        let theirs = Proxy::start(Path::new("haproxy"), &admin_config(fe1, fe2, dead), fe1);
        let t = chromium_action(&format!("http://127.0.0.1:{fe1}/"), "b1", "srv2", "maint");
        assert_eq!(status_of(&theirs, "b1,srv2,"), "b1,srv2,MAINT");
        assert_eq!(
            t.replace(&fe1.to_string(), "PORT"),
            r.replace(&ours_port(&r), "PORT"),
            "haproxy's page behaves differently"
        );
    }
}

/// The port in the first URL of a browser report.
fn ours_port(report: &str) -> String {
    report
        .split("127.0.0.1:")
        .nth(1)
        .map(|s| s.chars().take_while(char::is_ascii_digit).collect())
        .unwrap_or_default()
}

/// "Kill Sessions" on the stats page closes the streams attached to the ticked server.
#[test]
fn proxy_stats_admin_kill_sessions_closes_streams() {
    // a server that accepts and never answers: the request stays attached to it
    let hold = TcpListener::bind("127.0.0.1:0").unwrap();
    let hold_port = hold.local_addr().unwrap().port();
    thread::spawn(move || {
        let mut kept = Vec::new();
        for s in hold.incoming().flatten() {
            kept.push(s);
        }
    });
    let (fe, stats) = (free_port(), free_port());
    let cfg = format!(
        "global\n  stats socket {{dir}}/admin.sock level admin\n\
         defaults\n  mode http\n  timeout connect 1s\n  timeout client 30s\n  timeout server 30s\n\
         frontend web\n  bind 127.0.0.1:{fe}\n  default_backend be\n\
         frontend st\n  bind 127.0.0.1:{stats}\n  stats enable\n  stats uri /\n  stats admin if {{ src 127.0.0.1 }}\n\
         backend be\n  server s1 127.0.0.1:{hold_port}\n"
    );
    let p = Proxy::start(&rhaproxy_bin(), &cfg, stats);
    let mut stuck = TcpStream::connect(("127.0.0.1", fe)).unwrap();
    stuck
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !p.cli("show sess").contains(" srv=s1 ") {
        assert!(Instant::now() < deadline, "stream never reached s1");
        thread::sleep(Duration::from_millis(20));
    }
    let (st, head, _) = http(stats, "POST", "/", "s=s1&action=shutdown&b=be");
    assert_eq!((st, header(&head, "location")), (303, Some("/;st=done")));
    stuck
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 64];
    let closed = match stuck.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    };
    assert!(closed, "the stream on s1 is still open");
    assert!(!p.cli("show sess").contains(" srv=s1 "));
}

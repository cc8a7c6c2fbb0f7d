//! Health checks through the real binary, compared with real haproxy on the same configs:
//! `option log-health-checks` lines for protocol checks (ldap, spop, redis, mysql, ssl-hello),
//! tcp-check rulesets (min-recv, comments, connect ports, empty responses), checks through a
//! SOCKS4 proxy, maintenance from the CLI (log lines and `show servers state`), and the
//! `req.payload` / `hex2i` samples the fake servers in HAProxy's own check tests rely on.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::thread;
use std::time::{Duration, Instant};

use crate::proxy_tcp::{free_port, Proxy};
use crate::util::require;

/// What a fake server does on each connection.
#[derive(Clone, Copy)]
enum Script {
    /// Sends `greeting` at once, then one reply per read, then waits for the close.
    Talk(&'static [u8], &'static [&'static [u8]]),
    /// Reads the request, then closes without a word.
    Silent,
    /// Reads the request, answers once and closes.
    Reply(&'static [u8]),
}

fn fake_server(script: Script) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            thread::spawn(move || {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let mut b = [0u8; 1024];
                match script {
                    Script::Silent => {
                        let _ = s.read(&mut b);
                    }
                    Script::Reply(r) => {
                        let _ = s.read(&mut b);
                        let _ = s.write_all(r);
                    }
                    Script::Talk(greeting, replies) => {
                        let _ = s.write_all(greeting);
                        let mut i = 0;
                        while matches!(s.read(&mut b), Ok(n) if n > 0) {
                            if let Some(r) = replies.get(i) {
                                let _ = s.write_all(r);
                            }
                            i += 1;
                        }
                    }
                }
            });
        }
    });
    port
}

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A one-reply list that lives for the whole test binary.
fn one_reply(v: Vec<u8>) -> &'static [&'static [u8]] {
    let reply: &'static [u8] = Box::leak(v.into_boxed_slice());
    Box::leak(vec![reply].into_boxed_slice())
}

/// The first `Health check for server B/S ...` line of each server, without the timing.
fn first_check_lines(stderr: &str) -> Vec<String> {
    let mut seen = std::collections::BTreeMap::new();
    for l in stderr.lines() {
        let Some(i) = l.find("Health check for server ") else {
            continue;
        };
        let msg = &l[i..];
        let server = msg.split_whitespace().nth(4).unwrap_or("").to_string();
        let masked = match (msg.find(", check duration: "), msg.find("ms, status: ")) {
            (Some(a), Some(b)) if a < b => format!("{}{}", &msg[..a], &msg[b + 2..]),
            _ => msg.to_string(),
        };
        seen.entry(server).or_insert(masked);
    }
    seen.into_values().collect()
}

/// Runs `cfg` (with `{PORT}` for a frontend to wait on) on both binaries until every one of
/// `servers` logged a check result, and returns (haproxy, rhaproxy) first lines.
fn both_check_lines(cfg: &str, servers: usize) -> (Vec<String>, Vec<String>) {
    let run = |rh: bool| {
        let port = free_port();
        let cfg = cfg.replace("{PORT}", &port.to_string());
        let p = if rh {
            Proxy::rhaproxy(&cfg, &[port])
        } else {
            Proxy::haproxy(&cfg, &[port])
        };
        let deadline = Instant::now() + Duration::from_secs(8);
        loop {
            let lines = first_check_lines(&p.stderr());
            if lines.len() >= servers || Instant::now() > deadline {
                return lines;
            }
            thread::sleep(Duration::from_millis(50));
        }
    };
    (run(false), run(true))
}

const DEFAULTS: &str =
    "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
    \x20 option log-health-checks\n\
    frontend f\n  bind 127.0.0.1:{PORT}\n  default_backend b0\n";

fn backend(name: &str, opts: &str, port: u16, srv_opts: &str) -> String {
    format!("backend {name}\n{opts}  server s 127.0.0.1:{port} check inter 300 rise 1 fall 1{srv_opts}\n")
}

/// Each row: backend options, the fake server, the line haproxy and rhaproxy must both log.
#[test]
fn proxy_checks_protocol_log_lines_differential() {
    if !require("haproxy") {
        return;
    }
    let spop_ok = one_reply(unhex("00000036 65 00000001 0000 0776657273696F6E 0803322E30 0E6D61782D6672616D652D73697A65 03FCF0 060C6361706162696C6974696573 0800"));
    let spop_frag = one_reply(unhex("00000007 65 00000000 0000"));
    let spop_vsn = one_reply(unhex(
        "00000014 65 00000001 0000 0776657273696F6E 0803312E30",
    ));
    let ldap_ok = one_reply(unhex("300C020101 61 070A01 00 04000400"));
    let ldap_proto = one_reply(unhex("300C020101 60 070A01 00 04000400"));
    let ldap_code = one_reply(unhex("300C020101 61 070A01 31 04000400"));
    const MYSQL_HS: &[u8] = b"\x31\x00\x00\x00\x0a5.5.5-10.11.6-MariaDB\x00\x08\x00\x00\x00abcdefgh\x00\xfe\xf7\x2d\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00";
    const MYSQL_OK: &[u8] = b"\x07\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00";
    let rows: Vec<(&str, Script, &str)> = vec![
        ("  option ldap-check\n", Script::Talk(b"", ldap_ok),
         "succeeded, reason: Layer7 check passed, code: 0, info: \"Success\""),
        ("  option ldap-check\n", Script::Talk(b"", ldap_proto),
         "failed, reason: Layer7 invalid response, info: \"Not LDAPv3 protocol\""),
        ("  option ldap-check\n", Script::Talk(b"", ldap_code),
         "failed, reason: Layer7 wrong status, code: 49, info: \"See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9\""),
        ("  option spop-check\n", Script::Talk(b"", spop_ok),
         "succeeded, reason: Layer7 check passed, code: 0, info: \"SPOA server is ok\""),
        ("  option spop-check\n", Script::Talk(b"", spop_frag),
         "failed, reason: Layer7 invalid response, info: \"fragmentation not supported\""),
        ("  option spop-check\n", Script::Talk(b"", spop_vsn),
         "failed, reason: Layer7 invalid response, info: \"unsupported version\""),
        ("  option redis-check\n", Script::Reply(b"-LOADING wait\r\n"),
         "failed, reason: Layer7 wrong status, code: 0, info: \"-LOADING wait\""),
        ("  option mysql-check user haproxy\n", Script::Talk(MYSQL_HS, &[MYSQL_OK]),
         "succeeded, reason: Layer7 check passed, code: 0, info: \"5.5.5-10.11.6-MariaDB\""),
        ("  option smtpchk EHLO me.test\n",
         Script::Talk(b"220 mx.test ESMTP\r\n", &[b"250-mx.test\r\n250 SIZE 1000\r\n", b"221 2.0.0 bye\r\n"]),
         "succeeded, reason: Layer7 check passed, code: 221, info: \"2.0.0 bye\""),
        ("  option smtpchk\n",
         Script::Talk(b"220 mx.test ESMTP\r\n", &[b"250 hello\r\n", b"500 nope\r\n"]),
         "failed, reason: Layer7 wrong status, code: 500, info: \"nope\""),
        ("  option ssl-hello-chk\n", Script::Silent,
         "failed, reason: Layer6 invalid response, info: \"TCPCHK got an empty response at step 2\""),
        ("  option ssl-hello-chk\n", Script::Talk(b"", &[b"HTTP/1.0 400 Bad Request\r\n\r\n"]),
         "failed, reason: Layer6 invalid response"),
        ("  option ssl-hello-chk\n", Script::Talk(b"", &[b"\x16\x03\x00\x00\x04\x0e\x00\x00\x00"]),
         "succeeded, reason: Layer6 check passed"),
        ("  option tcp-check\n  tcp-check connect\n  tcp-check expect min-recv 4 !rstring ^error comment \"neg\"\n  tcp-check expect string good comment \"pos\"\n",
         Script::Talk(b"good", &[]),
         "succeeded, reason: Layer7 check passed, code: 0, info: \"(tcp-check)\""),
        ("  option tcp-check\n  tcp-check send PING\\r\\n\n  tcp-check expect string PONG comment \"pong\"\n",
         Script::Reply(b"NOPE\r\n"),
         "failed, reason: Layer7 invalid response, info: \"TCPCHK did not match content 'PONG' at step 2 comment: pong\""),
        ("  option tcp-check\n  tcp-check connect port 1\n",
         Script::Silent,
         "failed, reason: Layer4 connection problem, info: \"Connection refused at step 1 of tcp-check (connect port 1)\""),
        ("  option tcp-check\n  tcp-check send hello\n  tcp-check expect string hi\n",
         Script::Silent,
         "failed, reason: Layer7 invalid response, info: \"TCPCHK got an empty response at step 2\""),
    ];
    let mut cfg = DEFAULTS.replace("default_backend b0", "default_backend b00");
    let mut want = Vec::new();
    for (i, (opts, script, line)) in rows.iter().enumerate() {
        let port = fake_server(*script);
        cfg.push_str(&backend(&format!("b{i:02}"), opts, port, ""));
        want.push(format!("b{i:02}/s {line}"));
    }
    let (h, r) = both_check_lines(&cfg, rows.len());
    let strip = |v: &[String]| -> Vec<String> {
        v.iter()
            .map(|l| l.trim_start_matches("Health check for server ").to_string())
            .collect()
    };
    let (h, r) = (strip(&h), strip(&r));
    assert_eq!(h.len(), rows.len(), "haproxy: {h:#?}");
    for (got, w) in h.iter().zip(&want) {
        assert!(
            got.starts_with(w.as_str()),
            "haproxy said {got}, row wants {w}"
        );
    }
    assert_eq!(h, r);
}

/// `tcp-request content` on `req.payload(off,len)` with `-m bin`, `-m str`, and
/// `hex,hex2i` compared as integers or addresses, as the fake servers of HAProxy's check
/// tests use them: accepted connections reach the echo server, rejected ones are closed.
#[test]
fn proxy_checks_payload_acls_differential() {
    if !require("haproxy") {
        return;
    }
    let echo = fake_server(Script::Talk(b"", &[b"OK"]));
    let rows: &[(&str, &[u8], bool)] = &[
        (
            "{ req.len eq 4 } { req.payload(0,4) -m bin 50494e47 }",
            b"PING",
            true,
        ),
        (
            "{ req.len eq 4 } { req.payload(0,4) -m bin 50494e48 }",
            b"PING",
            false,
        ),
        ("{ req.payload(1,2) -m str IN }", b"PING", true),
        ("{ req.payload(0,0) -m str PING }", b"PING", true),
        (
            "{ req.payload(2,2),hex,hex2i eq 8080 }",
            b"\x04\x01\x1f\x90",
            true,
        ),
        (
            "{ req.payload(2,2),hex,hex2i eq 8081 }",
            b"\x04\x01\x1f\x90",
            false,
        ),
        (
            "{ req.payload(0,4),hex,hex2i -m ip 127.0.0.1 }",
            b"\x7f\x00\x00\x01",
            true,
        ),
        (
            "{ req.payload(0,4),hex,hex2i -m ip 10.0.0.0/8 }",
            b"\x7f\x00\x00\x01",
            false,
        ),
        ("{ req.payload(8,2) -m bin 0000 }", b"PING", false),
    ];
    let mut cfg = String::from(
        "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n",
    );
    let mut ports = Vec::new();
    for (i, (cond, _, _)) in rows.iter().enumerate() {
        let p = free_port();
        ports.push(p);
        cfg.push_str(&format!(
            "listen l{i}\n  bind 127.0.0.1:{p}\n  tcp-request inspect-delay 300ms\n  tcp-request content accept if {cond}\n  tcp-request content reject\n  server s 127.0.0.1:{echo}\n"
        ));
    }
    let answers = |proxy: Proxy| -> Vec<bool> {
        let out = rows
            .iter()
            .zip(&ports)
            .map(|((_, input, _), port)| {
                let mut s = TcpStream::connect(("127.0.0.1", *port)).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
                s.write_all(input).unwrap();
                let mut b = [0u8; 16];
                matches!(s.read(&mut b), Ok(n) if n > 0 && &b[..n] == b"OK")
            })
            .collect();
        drop(proxy);
        out
    };
    let h = answers(Proxy::haproxy(&cfg, &ports));
    let r = answers(Proxy::rhaproxy(&cfg, &ports));
    let want: Vec<bool> = rows.iter().map(|r| r.2).collect();
    assert_eq!(h, want, "haproxy disagrees with the table");
    assert_eq!(r, want);
}

/// A SOCKS4 proxy that checks the CONNECT request for `target_port`/127.0.0.1 and user
/// "HAProxy", grants it and then answers one HTTP request with 200.
fn socks4_http_server(target_port: u16) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            thread::spawn(move || {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let mut req = [0u8; 16];
                if s.read_exact(&mut req).is_err() {
                    return;
                }
                let mut want = vec![4u8, 1];
                want.extend_from_slice(&target_port.to_be_bytes());
                want.extend_from_slice(&[127, 0, 0, 1]);
                want.extend_from_slice(b"HAProxy\0");
                let status = if req[..] == want[..] { 0x5a } else { 0x5b };
                let _ = s.write_all(&[0, status, 0, 0, 0, 0, 0, 0]);
                let mut b = [0u8; 1024];
                if status == 0x5a && matches!(s.read(&mut b), Ok(n) if n > 0) {
                    let _ = s.write_all(b"HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n");
                }
            });
        }
    });
    port
}

#[test]
fn proxy_checks_via_socks4_differential() {
    if !require("haproxy") {
        return;
    }
    // the real server is never contacted directly: nothing listens on its port
    let target = free_port();
    let socks = socks4_http_server(target);
    let cfg = format!(
        "{DEFAULTS}backend b0\n  option httpchk\n  server s 127.0.0.1:{target} socks4 127.0.0.1:{socks} check-via-socks4 check inter 300 rise 1 fall 1\n\
         backend b1\n  option httpchk\n  server s 127.0.0.1:{target} check inter 300 rise 1 fall 1\n"
    );
    let (h, r) = both_check_lines(&cfg, 2);
    assert_eq!(
        h.first().map(String::as_str),
        Some("Health check for server b0/s succeeded, reason: Layer7 check passed, code: 200, status: 1/1 UP."),
        "{h:#?}"
    );
    assert!(
        h.get(1).is_some_and(|l| l.contains("b1/s failed")),
        "{h:#?}"
    );
    assert_eq!(h, r);
}

fn cli(sock: &std::path::Path, cmd: &str) -> String {
    let mut s = UnixStream::connect(sock).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    s.write_all(format!("{cmd}\n").as_bytes()).unwrap();
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// `disable server` / `enable server` on the CLI: the log lines (going DOWN for
/// maintenance, backend has no server available, UP/READY leaving forced maintenance) and
/// `show servers state` rows (proxy ids, states, check result and health) as haproxy.
#[test]
fn proxy_checks_maintenance_from_cli_differential() {
    if !require("haproxy") {
        return;
    }
    let up = fake_server(Script::Silent);
    let run = |rh: bool| {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("admin.sock");
        let cfg = format!(
            "global\n  stats socket {} level admin\n{}backend b1\n  server s1 127.0.0.1:{up} check inter 200 rise 1 fall 1\n  server s2 127.0.0.1:{up} check inter 200 rise 1 fall 1\n",
            sock.display(),
            DEFAULTS
                .replace("{PORT}", &port.to_string())
                .replace("default_backend b0", "default_backend b1")
        );
        let p = if rh {
            Proxy::rhaproxy(&cfg, &[port])
        } else {
            Proxy::haproxy(&cfg, &[port])
        };
        let wait_for = |needle: &str| {
            let deadline = Instant::now() + Duration::from_secs(5);
            while !p.stderr().contains(needle) && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(30));
            }
        };
        wait_for("b1/s2 succeeded");
        let mut states = vec![cli(&sock, "show servers state")];
        cli(&sock, "disable server b1/s1");
        cli(&sock, "disable server b1/s2");
        wait_for("no server available");
        states.push(cli(&sock, "show servers state"));
        cli(&sock, "enable server b1/s1");
        wait_for("b1/s1 is UP/READY");
        // mask srv_time_since_last_change
        let states: Vec<String> = states
            .iter()
            .flat_map(|s| s.lines().map(String::from).collect::<Vec<_>>())
            .map(|l| {
                let mut w: Vec<&str> = l.split(' ').collect();
                if w.len() > 10 && !l.starts_with('#') {
                    w[9] = "T";
                }
                w.join(" ")
            })
            .collect();
        let events: Vec<String> = p
            .stderr()
            .lines()
            .filter(|l| l.contains("maintenance") || l.contains("no server available"))
            .map(|l| l.split(" : ").nth(1).unwrap_or(l).to_string())
            .collect();
        (states, events)
    };
    let (h_states, h_events) = run(false);
    assert_eq!(
        h_events,
        [
            "Server b1/s1 is going DOWN for maintenance. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
            "Server b1/s2 is going DOWN for maintenance. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.",
            "backend 'b1' has no server available!",
            "Server b1/s1 is UP/READY (leaving forced maintenance).",
        ]
    );
    let (r_states, r_events) = run(true);
    assert_eq!(h_events, r_events);
    assert_eq!(h_states, r_states);
}

/// A self-signed certificate for `ok.test` as HAProxy's combined PEM, in `dir`.
fn self_signed_pem(dir: &std::path::Path) -> std::path::PathBuf {
    let o = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "k.pem",
            "-out",
            "c.pem",
            "-days",
            "2",
            "-subj",
            "/CN=ok.test",
        ])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut pem = std::fs::read(dir.join("c.pem")).unwrap();
    pem.extend(std::fs::read(dir.join("k.pem")).unwrap());
    let path = dir.join("ok.pem");
    std::fs::write(&path, pem).unwrap();
    path
}

/// Checks over TLS against one TLS server (real haproxy, fronted by SNI and ALPN filters):
/// `check-ssl` with `check-sni`/`check-alpn`, `ssl` inherited by httpchk, `tcp-check connect
/// ssl sni`, and a plain connect; both binaries must log the same results.
#[test]
fn proxy_checks_over_tls_differential() {
    if !require("haproxy") || !require("openssl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pem = self_signed_pem(dir.path());
    let (tls, sni, alpn, ready) = (free_port(), free_port(), free_port(), free_port());
    let server_cfg = format!(
        "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
         frontend tls\n  mode http\n  bind 127.0.0.1:{tls} ssl crt {}\n  http-request return status 200\n\
         listen sni\n  bind 127.0.0.1:{sni}\n  tcp-request inspect-delay 300ms\n  tcp-request content reject if {{ req.ssl_hello_type 0 }}\n  tcp-request content accept if {{ req.ssl_sni ok.test }}\n  tcp-request content reject\n  server s 127.0.0.1:{tls}\n\
         listen alpn\n  bind 127.0.0.1:{alpn}\n  tcp-request inspect-delay 300ms\n  tcp-request content reject if {{ req.ssl_hello_type 0 }}\n  tcp-request content accept if {{ req.ssl_alpn h2 }}\n  tcp-request content reject\n  server s 127.0.0.1:{tls}\n\
         listen ready\n  bind 127.0.0.1:{ready}\n  server s 127.0.0.1:{tls}\n",
        pem.display()
    );
    let _tls_server = Proxy::haproxy(&server_cfg, &[tls, sni, alpn, ready]);
    let srv = |port: u16, opts: &str| {
        format!("  server s 127.0.0.1:{port} {opts} inter 300 rise 1 fall 1\n")
    };
    let rows = [
        ("", srv(sni, "check check-ssl check-sni ok.test verify none"),
         "succeeded, reason: Layer6 check passed"),
        ("", srv(sni, "check check-ssl check-sni bad.test verify none"),
         "failed, reason: Layer6 invalid response, info: \"SSL handshake failure\""),
        ("", srv(alpn, "check check-ssl check-alpn h2,http/1.1 verify none"),
         "succeeded, reason: Layer6 check passed"),
        ("  option httpchk GET /\n", srv(tls, "ssl verify none check"),
         "succeeded, reason: Layer7 check passed, code: 200"),
        ("  option tcp-check\n  tcp-check connect ssl sni ok.test\n", srv(sni, "check verify none"),
         "succeeded, reason: Layer6 check passed, info: \"(tcp-check)\""),
        ("  option tcp-check\n  tcp-check connect ssl sni bad.test\n", srv(sni, "check verify none"),
         "failed, reason: Layer6 invalid response, info: \"SSL handshake failure at step 1 of tcp-check (connect)\""),
        ("", srv(tls, "check"), "succeeded, reason: Layer4 check passed"),
    ];
    let mut cfg = DEFAULTS.replace("default_backend b0", "default_backend b00");
    for (i, (opts, server, _)) in rows.iter().enumerate() {
        cfg.push_str(&format!("backend b{i:02}\n{opts}{server}"));
    }
    let (h, r) = both_check_lines(&cfg, rows.len());
    assert_eq!(h.len(), rows.len(), "haproxy: {h:#?}");
    for (i, (got, (_, _, want))) in h.iter().zip(&rows).enumerate() {
        let want = format!("Health check for server b{i:02}/s {want}");
        assert!(
            got.starts_with(&want),
            "haproxy said {got}, row wants {want}"
        );
    }
    assert_eq!(h, r);
}

/// `agent-check`: each agent answers one line; the server's state, weights and maxconn as
/// `show servers state` and `show stat` report them must be haproxy's.
#[test]
fn proxy_checks_agent_replies_differential() {
    if !require("haproxy") {
        return;
    }
    let rows: &[&'static [u8]] = &[
        b"75%\n",
        b"maxconn:30\n",
        b"maint\n",
        b"drain\n",
        b"down # going away\n",
        b"up, 50%\n",
        b"ready 200%\n",
    ];
    let agents: Vec<u16> = rows.iter().map(|r| fake_server(Script::Reply(r))).collect();
    let up = fake_server(Script::Silent);
    let run = |rh: bool| {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("admin.sock");
        let mut cfg = format!(
            "global\n  stats socket {} level admin\n{}",
            sock.display(),
            DEFAULTS
                .replace("{PORT}", &port.to_string())
                .replace("  option log-health-checks\n", "")
        );
        for (i, agent) in agents.iter().enumerate() {
            cfg.push_str(&format!(
                "backend b{i}\n  server s 127.0.0.1:{up} weight 100 agent-check agent-port {agent} agent-inter 200 agent-send hello\n"
            ));
        }
        cfg = cfg.replace("default_backend b0", "default_backend b1");
        let p = if rh {
            Proxy::rhaproxy(&cfg, &[port])
        } else {
            Proxy::haproxy(&cfg, &[port])
        };
        thread::sleep(Duration::from_millis(1200));
        // be_name, op_state, admin_state, uweight, iweight of each server
        let state: Vec<String> = cli(&sock, "show servers state")
            .lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()) && l.contains(' '))
            .map(|l| {
                let w: Vec<&str> = l.split(' ').collect();
                format!("{} op={} admin={} w={}/{}", w[1], w[5], w[6], w[7], w[8])
            })
            .collect();
        // pxname, svname, slim, status, weight
        let stat: Vec<String> = cli(&sock, "show stat")
            .lines()
            .filter(|l| l.contains(",s,"))
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                format!("{} slim={} status={} weight={}", f[0], f[6], f[17], f[18])
            })
            .collect();
        drop(p);
        (state, stat)
    };
    let (h_state, h_stat) = run(false);
    assert_eq!(
        h_state.first().map(String::as_str),
        Some("b0 op=2 admin=0 w=75/100"),
        "{h_state:#?}"
    );
    let (r_state, r_stat) = run(true);
    assert_eq!(h_state, r_state);
    assert_eq!(h_stat, r_stat);
}

/// A server already DOWN by its checks "enters maintenance" without going down again, comes
/// back UP/READY, and its checks bring it down again: the same lines as haproxy.
#[test]
fn proxy_checks_maintenance_of_a_down_server_differential() {
    if !require("haproxy") {
        return;
    }
    let closed = free_port();
    let run = |rh: bool| {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("admin.sock");
        let cfg = format!(
            "global\n  stats socket {} level admin\n{}backend b1\n  server s1 127.0.0.1:{closed} check inter 100 rise 1 fall 1\n",
            sock.display(),
            DEFAULTS
                .replace("{PORT}", &port.to_string())
                .replace("  option log-health-checks\n", "")
                // the readiness probe's connection must not count as a session of b1
                .replace("default_backend b0", "default_backend none\nbackend none")
        );
        let p = if rh {
            Proxy::rhaproxy(&cfg, &[port])
        } else {
            Proxy::haproxy(&cfg, &[port])
        };
        let wait_for = |needle: &str, n: usize| {
            let deadline = Instant::now() + Duration::from_secs(5);
            while p.stderr().matches(needle).count() < n && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(30));
            }
        };
        wait_for("is DOWN", 1);
        cli(&sock, "disable server b1/s1");
        wait_for("enters maintenance", 1);
        cli(&sock, "enable server b1/s1");
        wait_for("is DOWN", 2);
        p.stderr()
            .lines()
            .filter(|l| l.contains("Server b1/s1") || l.contains("no server"))
            .map(|l| l.split(" : ").nth(1).unwrap_or(l).to_string())
            .map(|l| match l.find(", check duration") {
                Some(i) => l[..i].to_string() + &l[l.find("ms.").map_or(l.len(), |j| j + 2)..],
                None => l,
            })
            .collect::<Vec<String>>()
    };
    let h = run(false);
    assert_eq!(
        h.get(2).map(String::as_str),
        Some("Server b1/s1 was DOWN and now enters maintenance."),
        "{h:#?}"
    );
    assert_eq!(h, run(true));
}

/// An HTTP server that answers 200 and keeps the `X-Haproxy-Server-State` values it saw.
fn state_recorder() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let keep = seen.clone();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let mut req = Vec::new();
            let mut b = [0u8; 2048];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut b) {
                    Ok(n) if n > 0 => req.extend_from_slice(&b[..n]),
                    _ => break,
                }
            }
            let text = String::from_utf8_lossy(&req).to_string();
            if let Some(v) = text.lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .starts_with("x-haproxy-server-state:")
                    .then(|| l[23..].trim().to_string())
            }) {
                keep.lock().unwrap().push(v);
            }
            let _ = s.write_all(b"HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n");
        }
    });
    (port, seen)
}

/// `http-check send-state`: the header of the first checks (servers starting UP with the
/// health of `rise`, weights, sessions) is haproxy's, and a plain backend sends none.
#[test]
fn proxy_checks_send_state_header_differential() {
    if !require("haproxy") {
        return;
    }
    let run = |rh: bool| {
        let (p1, seen1) = state_recorder();
        let (p2, seen2) = state_recorder();
        let (p3, seen3) = state_recorder();
        let port = free_port();
        let cfg = format!(
            "defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
             frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\n\
             backend b\n  option httpchk GET /\n  http-check send-state\n\
             \x20 server s1 127.0.0.1:{p1} check inter 200 weight 2\n\
             \x20 server s2 127.0.0.1:{p2} check inter 200 rise 1 fall 1 weight 3\n\
             backend plain\n  option httpchk GET /\n  server s3 127.0.0.1:{p3} check inter 200\n"
        );
        let p = if rh {
            Proxy::rhaproxy(&cfg, &[port])
        } else {
            Proxy::haproxy(&cfg, &[port])
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while (seen1.lock().unwrap().len() < 2 || seen2.lock().unwrap().is_empty())
            && Instant::now() < deadline
        {
            thread::sleep(Duration::from_millis(30));
        }
        drop(p);
        let first_two = |v: &std::sync::Arc<std::sync::Mutex<Vec<String>>>| {
            v.lock()
                .unwrap()
                .iter()
                .take(2)
                .cloned()
                .collect::<Vec<_>>()
        };
        let port_of = |s: String, p: u16| s.replace(&p.to_string(), "PORT");
        let s1: Vec<String> = first_two(&seen1)
            .into_iter()
            .map(|s| port_of(s, p1))
            .collect();
        let s2: Vec<String> = first_two(&seen2)
            .into_iter()
            .map(|s| port_of(s, p2))
            .collect();
        let n3 = seen3.lock().unwrap().len();
        (s1, s2, n3)
    };
    let h = run(false);
    assert!(
        h.0.first()
            .is_some_and(|s| s.starts_with("UP 1/3; address=127.0.0.1; port=PORT; name=b/s1;")),
        "{h:#?}"
    );
    assert_eq!(h.2, 0, "no header without send-state");
    assert_eq!(h, run(true));
}

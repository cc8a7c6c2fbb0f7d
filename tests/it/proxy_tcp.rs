//! `mode tcp` through the real binary, compared with real haproxy on the same configs:
//! balancing sequences over new connections, half-close, tcp-request connection/content rules
//! with inspect-delay (`req.len`, `req.ssl_sni`, `req.ssl_hello_type`, SNI passthrough), and the
//! PROXY protocol (`accept-proxy`, `send-proxy`, `send-proxy-v2`).
//!
//! Helpers here are shared with `proxy_tls` and `proxy_pgsql`.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::util::{require, rhaproxy_bin};

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills and reaps a child process on drop.
pub struct Proc(pub Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn wait_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        thread::sleep(Duration::from_millis(20));
    }
    panic!("nothing listens on port {port}");
}

/// A proxy process (rhaproxy or haproxy) running a config written to a tempdir.
pub struct Proxy {
    pub dir: tempfile::TempDir,
    _proc: Proc,
    stderr_path: PathBuf,
}

impl Proxy {
    pub fn start_with(bin: &Path, cfg: &str, wait: &[u16]) -> Proxy {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, cfg).unwrap();
        let stderr_path = dir.path().join("stderr.txt");
        let child = Command::new(bin)
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .spawn()
            .unwrap();
        let proc = Proc(child);
        let p = Proxy {
            dir,
            _proc: proc,
            stderr_path,
        };
        for port in wait {
            let deadline = Instant::now() + Duration::from_secs(15);
            while TcpStream::connect(("127.0.0.1", *port)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "{} did not listen on {port}: {}",
                    bin.display(),
                    p.stderr()
                );
                thread::sleep(Duration::from_millis(20));
            }
        }
        p
    }
    pub fn rhaproxy(cfg: &str, wait: &[u16]) -> Proxy {
        Proxy::start_with(&rhaproxy_bin(), cfg, wait)
    }
    pub fn haproxy(cfg: &str, wait: &[u16]) -> Proxy {
        Proxy::start_with(Path::new("haproxy"), cfg, wait)
    }
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

/// A TCP server that reads until the client half-closes, then answers `TAG:<what it got>`
/// and closes: it proves both directions and the half-close went through.
pub struct TagServer {
    pub port: u16,
}

impl TagServer {
    pub fn start(tag: &'static str) -> TagServer {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { continue };
                thread::spawn(move || {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                    let mut got = Vec::new();
                    let _ = s.read_to_end(&mut got);
                    let mut out = format!("{tag}:").into_bytes();
                    out.extend_from_slice(&got);
                    let _ = s.write_all(&out);
                });
            }
        });
        TagServer { port }
    }
}

/// One new connection: send `data`, half-close, read everything back ("" if refused/reset).
pub fn exchange(port: u16, data: &[u8]) -> Vec<u8> {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return b"<refused>".to_vec();
    };
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.write_all(data);
    let _ = s.shutdown(Shutdown::Write);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The TLS ClientHello a client sends for `name` (what SNI passthrough routes on).
pub fn client_hello(name: &str) -> Vec<u8> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let mut c = rustls::ClientConnection::new(
        Arc::new(cfg),
        rustls::pki_types::ServerName::try_from(name.to_string()).unwrap(),
    )
    .unwrap();
    let mut out = Vec::new();
    c.write_tls(&mut out).unwrap();
    out
}

/// Runs `f` against haproxy then rhaproxy on `cfg` (with `{PORT}` = the listening port).
pub fn differential<T>(cfg: &str, f: impl Fn(u16) -> T) -> (T, T) {
    let hp = free_port();
    let h = Proxy::haproxy(&cfg.replace("{PORT}", &hp.to_string()), &[hp]);
    let a = f(hp);
    drop(h);
    let rp = free_port();
    let r = Proxy::rhaproxy(&cfg.replace("{PORT}", &rp.to_string()), &[rp]);
    let b = f(rp);
    drop(r);
    (a, b)
}

const GLOBAL: &str = "global\n  nbthread 1\ndefaults\n  mode tcp\n  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\n";

#[test]
fn proxy_tcp_differential_table() {
    if !require("haproxy") {
        return;
    }
    let a = TagServer::start("A");
    let b = TagServer::start("B");
    let c = TagServer::start("C");
    let (pa, pb, pc) = (a.port, b.port, c.port);
    let hello_a = client_hello("a.example");
    let hello_b = client_hello("b.example");
    let hello_x = client_hello("other.example");
    // (name, config after GLOBAL, inputs sent on successive new connections)
    let cases: Vec<(&str, String, Vec<Vec<u8>>)> = vec![
        (
            "roundrobin 2:1 with half-close",
            format!(
                "listen l\n  bind 127.0.0.1:{{PORT}}\n  balance roundrobin\n  server a 127.0.0.1:{pa} weight 2\n  server b 127.0.0.1:{pb} weight 1\n"
            ),
            (0..7).map(|i| format!("req{i}").into_bytes()).collect(),
        ),
        (
            "static-rr 1:1:1, one server down",
            format!(
                "listen l\n  bind 127.0.0.1:{{PORT}}\n  balance static-rr\n  server a 127.0.0.1:{pa}\n  server b 127.0.0.1:{pb}\n  server c 127.0.0.1:{pc}\n  server d 127.0.0.1:1 disabled\n"
            ),
            (0..5).map(|_| b"x".to_vec()).collect(),
        ),
        (
            "balance source is sticky",
            format!(
                "listen l\n  bind 127.0.0.1:{{PORT}}\n  balance source\n  server a 127.0.0.1:{pa}\n  server b 127.0.0.1:{pb}\n  server c 127.0.0.1:{pc}\n"
            ),
            (0..4).map(|_| b"s".to_vec()).collect(),
        ),
        (
            "SNI passthrough with inspect-delay",
            format!(
                "frontend f\n  bind 127.0.0.1:{{PORT}}\n  tcp-request inspect-delay 3s\n  tcp-request content accept if {{ req.ssl_hello_type 1 }}\n  use_backend ba if {{ req.ssl_sni -i a.example }}\n  use_backend bb if {{ req_ssl_sni -m end b.example }}\n  default_backend bc\nbackend ba\n  server a 127.0.0.1:{pa}\nbackend bb\n  server b 127.0.0.1:{pb}\nbackend bc\n  server c 127.0.0.1:{pc}\n"
            ),
            vec![hello_a.clone(), hello_b.clone(), hello_x.clone(), b"plain".to_vec()],
        ),
        (
            "tcp-request content reject on req.len",
            format!(
                "listen l\n  bind 127.0.0.1:{{PORT}}\n  tcp-request inspect-delay 2s\n  tcp-request content reject if {{ req.len gt 3 }}\n  server a 127.0.0.1:{pa}\n"
            ),
            vec![b"hi".to_vec(), b"hello".to_vec(), b"abc".to_vec()],
        ),
        (
            "tcp-request connection reject by src",
            format!(
                "listen l\n  bind 127.0.0.1:{{PORT}}\n  acl lo src 127.0.0.0/8\n  tcp-request connection reject if lo\n  server a 127.0.0.1:{pa}\n"
            ),
            vec![b"x".to_vec()],
        ),
        (
            "tcp-request connection accept before reject",
            format!(
                "listen l\n  bind 127.0.0.1:{{PORT}}\n  tcp-request connection accept if {{ src 127.0.0.1 }}\n  tcp-request connection reject\n  server a 127.0.0.1:{pa}\n"
            ),
            vec![b"x".to_vec()],
        ),
        (
            "send-proxy v1 and accept-proxy",
            format!(
                "listen l\n  bind 127.0.0.1:{{PORT}} accept-proxy\n  server a 127.0.0.1:{pa} send-proxy\n"
            ),
            vec![
                b"PROXY TCP4 192.0.2.7 198.51.100.8 1111 2222\r\nhello".to_vec(),
                b"PROXY TCP6 2001:db8::1 2001:db8::2 5 6\r\nv6".to_vec(),
                b"not a proxy header\r\n".to_vec(),
            ],
        ),
        (
            "accept-proxy v2 then send-proxy-v2",
            format!(
                "listen l\n  bind 127.0.0.1:{{PORT}} accept-proxy\n  server a 127.0.0.1:{pa} send-proxy-v2\n"
            ),
            vec![{
                let mut v = vec![
                    0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21,
                    0x11, 0x00, 0x0C, 10, 1, 2, 3, 10, 4, 5, 6, 0x04, 0xD2, 0x01, 0xBB,
                ];
                v.extend_from_slice(b"data");
                v
            }],
        ),
    ];
    let mut failures = Vec::new();
    for (name, body, inputs) in &cases {
        let cfg = format!("{GLOBAL}{body}");
        let (h, r) = differential(&cfg, |port| {
            inputs
                .iter()
                .map(|i| text(&exchange(port, i)))
                .collect::<Vec<_>>()
        });
        // sanity: the reference produced something meaningful for the case
        assert!(!h.is_empty(), "{name}");
        if h != r {
            failures.push(format!("{name}:\n  haproxy:  {h:?}\n  rhaproxy: {r:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn proxy_tcp_streams_large_payload_both_ways() {
    // an echo server that returns each chunk as it comes, until EOF
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let sp = l.local_addr().unwrap().port();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            thread::spawn(move || {
                let mut r = s.try_clone().unwrap();
                let _ = std::io::copy(&mut r, &mut s);
            });
        }
    });
    let port = free_port();
    let cfg = format!("{GLOBAL}listen l\n  bind 127.0.0.1:{port}\n  server e 127.0.0.1:{sp}\n");
    let _p = Proxy::rhaproxy(&cfg, &[port]);
    let data: Vec<u8> = (0..4_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut r = s.try_clone().unwrap();
    let d2 = data.clone();
    let w = thread::spawn(move || {
        s.write_all(&d2).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
    });
    let mut got = Vec::new();
    r.read_to_end(&mut got).unwrap();
    w.join().unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got == data);
}

#[test]
fn proxy_tcp_health_checks_and_shutdown_sessions() {
    // server a: a tcp-check expecting a banner; b is healthy plain TCP.
    let banner = TcpListener::bind("127.0.0.1:0").unwrap();
    let bport = banner.local_addr().unwrap().port();
    let healthy = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let h2 = healthy.clone();
    thread::spawn(move || {
        for s in banner.incoming() {
            let Ok(mut s) = s else { continue };
            let ok = h2.load(std::sync::atomic::Ordering::SeqCst);
            thread::spawn(move || {
                let _ = s.write_all(if ok {
                    b"+OK ready\r\n"
                } else {
                    b"-ERR busy\r\n"
                });
                // keep relayed sessions open until the peer closes
                let mut b = [0u8; 64];
                while matches!(s.read(&mut b), Ok(n) if n > 0) {}
            });
        }
    });
    let port = free_port();
    let cfg = format!(
        "{GLOBAL}listen l\n  bind 127.0.0.1:{port}\n  option tcp-check\n  tcp-check expect string +OK\n  server a 127.0.0.1:{bport} check inter 100 fall 2 rise 1 on-marked-down shutdown-sessions\n"
    );
    let p = Proxy::rhaproxy(&cfg, &[port]);
    // a long session through a
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut b = [0u8; 64];
    let n = s.read(&mut b).unwrap();
    assert_eq!(&b[..n], b"+OK ready\r\n");
    healthy.store(false, std::sync::atomic::Ordering::SeqCst);
    // the check fails twice, the server goes down and its session is killed
    let t = Instant::now();
    let n = s.read(&mut b).unwrap_or(0);
    assert_eq!(n, 0, "session should be shut down");
    assert!(t.elapsed() < Duration::from_secs(8));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !p.stderr().contains("is DOWN") && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(50));
    }
    assert!(p.stderr().contains("Server l/a is DOWN"), "{}", p.stderr());
}

#[test]
fn proxy_tcp_check_config_accepted() {
    // the keywords used here pass `-c` in both implementations
    if !require("haproxy") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.cfg");
    std::fs::write(
        &path,
        format!("{GLOBAL}frontend f\n  bind 127.0.0.1:8443\n  tcp-request inspect-delay 5s\n  tcp-request content accept if {{ req.ssl_hello_type 1 }}\n  tcp-request content reject if {{ req.len gt 10000 }}\n  use_backend b if {{ req.ssl_sni -i x }}\n  default_backend b\nbackend b\n  option pgsql-check user postgres\n  server s 127.0.0.1:5432 check send-proxy-v2 on-marked-down shutdown-sessions\n"),
    )
    .unwrap();
    for bin in [rhaproxy_bin(), PathBuf::from("haproxy")] {
        let o = Command::new(&bin)
            .arg("-c")
            .arg("-f")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{}: {}",
            bin.display(),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// A fake protocol server: sends `greeting` on connect, then one reply per read, then waits
/// for the peer to close.
fn fake_server(greeting: &'static [u8], replies: &'static [&'static [u8]]) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            thread::spawn(move || {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = s.write_all(greeting);
                let mut b = [0u8; 1024];
                let mut i = 0;
                while matches!(s.read(&mut b), Ok(n) if n > 0) {
                    if let Some(r) = replies.get(i) {
                        let _ = s.write_all(r);
                    }
                    i += 1;
                }
            });
        }
    });
    port
}

/// The "Server b/s is DOWN, reason: ..." lines without timings, sorted.
fn state_lines(stderr: &str) -> Vec<String> {
    let mut v: Vec<String> = stderr
        .lines()
        .filter(|l| l.contains(" is DOWN") || l.contains(" is UP"))
        .map(|l| {
            let l = l.split(" : ").nth(1).unwrap_or(l);
            l.split(", check duration").next().unwrap_or(l).to_string()
        })
        .collect();
    v.sort();
    v
}

#[test]
fn proxy_tcp_protocol_checks_differential() {
    if !require("haproxy") {
        return;
    }
    const MYSQL_HS: &[u8] = b"\x31\x00\x00\x00\x0a5.5.5-10.11.6-MariaDB\x00\x08\x00\x00\x00abcdefgh\x00\xfe\xf7\x2d\x02\x00\xff\x81\x15\x00\x00\x00\x00\x00";
    const MYSQL_ERR: &[u8] = b"\x16\x00\x00\x00\xff\x6a\x04Host is not allowed";
    const MYSQL_OK: &[u8] = b"\x07\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00";
    const MYSQL_DENIED: &[u8] = b"\x18\x00\x00\x02\xff\x15\x04#28000Access denied!!";
    let redis_ok = fake_server(b"", &[b"+PONG\r\n"]);
    let redis_bad = fake_server(b"", &[b"-LOADING wait\r\n"]);
    let mysql_ok = fake_server(MYSQL_HS, &[]);
    let mysql_err = fake_server(MYSQL_ERR, &[]);
    let mysql_user_ok = fake_server(MYSQL_HS, &[MYSQL_OK]);
    let mysql_user_denied = fake_server(MYSQL_HS, &[MYSQL_DENIED]);
    let smtp_ok = fake_server(b"220 mx ESMTP\r\n", &[b"250 mx hello\r\n", b"221 bye\r\n"]);
    let smtp_bad = fake_server(b"554 go away\r\n", &[]);
    let ssl_ok = fake_server(b"", &[b"\x16\x03\x00\x00\x04\x0e\x00\x00\x00"]);
    let ssl_bad = fake_server(b"", &[b"HTTP/1.0 400 Bad Request\r\n\r\n"]);
    let pg_err = fake_server(
        b"",
        &[b"E\x00\x00\x00\x20SFATAL\x00Mno pg_hba entry\x00\x00"],
    );
    let pg_sasl = fake_server(
        b"",
        &[b"R\x00\x00\x00\x17\x00\x00\x00\x0aSCRAM-SHA-256\x00\x00"],
    );
    let pg_odd = fake_server(
        b"",
        &[b"R\x00\x00\x00\x17\x00\x00\x00\x0bSCRAM-SHA-256\x00\x00"],
    );
    let tc_ok = fake_server(b"", &[b"+OK PONG\r\n", b"\x01\x02ok"]);
    let tc_bad = fake_server(b"", &[b"nope\r\n"]);
    let port = free_port();
    let be = |name: &str, opt: &str, srv: &[(&str, u16)]| {
        let mut s = format!("backend {name}\n{opt}");
        for (n, p) in srv {
            s.push_str(&format!(
                "  server {n} 127.0.0.1:{p} check inter 150 fall 1 rise 1\n"
            ));
        }
        s
    };
    let cfg = format!(
        "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n  timeout check 1s\n\
         frontend f\n  bind 127.0.0.1:{port}\n  default_backend redis\n{}{}{}{}{}{}{}{}",
        be("redis", "  option redis-check\n", &[("ok", redis_ok), ("bad", redis_bad)]),
        be("mysql", "  option mysql-check\n", &[("ok", mysql_ok), ("err", mysql_err)]),
        be(
            "mysqluser",
            "  option mysql-check user haproxy post-41\n",
            &[("ok", mysql_user_ok), ("denied", mysql_user_denied)]
        ),
        be("smtp", "  option smtpchk HELO mx.test\n", &[("ok", smtp_ok), ("bad", smtp_bad)]),
        be("ssl", "  option ssl-hello-chk\n", &[("ok", ssl_ok), ("bad", ssl_bad)]),
        be("pg", "  option pgsql-check user app\n", &[("err", pg_err), ("sasl", pg_sasl), ("odd", pg_odd)]),
        be(
            "tc",
            "  option tcp-check\n  tcp-check send PING\\r\\n\n  tcp-check expect string PONG\n  tcp-check send-binary 0a0b\n  tcp-check expect binary 0102\n",
            &[("ok", tc_ok), ("bad", tc_bad)]
        ),
        be(
            "tcport",
            &format!("  option tcp-check\n  tcp-check connect port {redis_ok}\n  tcp-check send *1\\r\\n$4\\r\\nPING\\r\\n\n  tcp-check expect rstring ^\\+PONG\n"),
            &[("ok", 1)]
        ),
    );
    let run = |bin_is_rh: bool| {
        let p = if bin_is_rh {
            Proxy::rhaproxy(&cfg, &[port])
        } else {
            Proxy::haproxy(&cfg, &[port])
        };
        thread::sleep(Duration::from_millis(1500));
        state_lines(&p.stderr())
    };
    let want: Vec<String> = run(false);
    let got = run(true);
    let downs: Vec<&str> = want
        .iter()
        .filter(|l| l.contains("is DOWN"))
        .map(|l| l.split(" is DOWN").next().unwrap_or(""))
        .collect();
    assert_eq!(
        downs,
        [
            "Server mysql/err",
            "Server mysqluser/denied",
            "Server pg/err",
            "Server pg/odd",
            "Server redis/bad",
            "Server smtp/bad",
            "Server ssl/bad",
            "Server tc/bad"
        ],
        "{want:#?}"
    );
    assert_eq!(want, got);
}

#[test]
fn proxy_http_accept_proxy_send_proxy_chain_differential() {
    if !require("haproxy") {
        return;
    }
    let inner = free_port();
    let inner2 = free_port();
    let cfg = format!(
        "defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n\
         frontend f\n  bind 127.0.0.1:{{PORT}} accept-proxy\n  use_backend b2 if {{ path_beg /v2 }}\n  default_backend b\n\
         backend b\n  server s 127.0.0.1:{inner} send-proxy\n\
         backend b2\n  server s 127.0.0.1:{inner2} send-proxy-v2\n\
         frontend inner\n  bind 127.0.0.1:{inner} accept-proxy\n  bind 127.0.0.1:{inner2} accept-proxy\n\
         \x20 http-request return status 200 content-type text/plain lf-string \"src=%[src]:%[src_port] dst=%[dst]:%[dst_port] path=%[path]\"\n"
    );
    let (h, r) = differential(&cfg, |port| {
        let mut out = Vec::new();
        for (hdr, path) in [
            ("PROXY TCP4 192.0.2.9 198.51.100.1 4444 80\r\n", "/v1"),
            ("PROXY TCP4 192.0.2.10 198.51.100.2 5555 81\r\n", "/v2"),
            ("PROXY TCP6 2001:db8::7 2001:db8::8 6666 82\r\n", "/v2"),
        ] {
            let req = format!("{hdr}GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
            let resp = text(&exchange(port, req.as_bytes()));
            out.push(resp.rsplit("\r\n\r\n").next().unwrap_or("").to_string());
        }
        out
    });
    assert_eq!(
        h[0], "src=192.0.2.9:4444 dst=198.51.100.1:80 path=/v1",
        "{h:?}"
    );
    assert_eq!(h, r);
}

#[test]
fn proxy_tcp_idle_timeouts_close_like_haproxy() {
    if !require("haproxy") {
        return;
    }
    let a = TagServer::start("A");
    // (timeouts, whether an idle session is closed within 3 s)
    let cases = [
        ("timeout client 300ms\n  timeout server 300ms", true),
        ("timeout client 300ms\n  timeout server 30s", true),
        (
            "timeout client 30s\n  timeout server 30s\n  timeout tunnel 300ms",
            true,
        ),
        ("timeout client 30s\n  timeout server 30s", false),
    ];
    for (timeouts, closes) in cases {
        let cfg = format!(
            "defaults\n  mode tcp\n  timeout connect 2s\n  {timeouts}\nlisten l\n  bind 127.0.0.1:{{PORT}}\n  server a 127.0.0.1:{}\n",
            a.port
        );
        let (h, r) = differential(&cfg, |port| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
            let t = Instant::now();
            let mut b = [0u8; 16];
            match s.read(&mut b) {
                Ok(_) => Some(t.elapsed() >= Duration::from_millis(200)),
                Err(_) => None, // still open after 3 s
            }
        });
        assert_eq!(
            h,
            if closes { Some(true) } else { None },
            "haproxy, {timeouts}"
        );
        assert_eq!(h, r, "{timeouts}");
    }
}

/// A keep-alive HTTP/1.1 backend answering every request with its name.
fn named_http_backend(name: &'static str) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { continue };
            thread::spawn(move || {
                use std::io::BufRead;
                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                let mut r = std::io::BufReader::new(s.try_clone().unwrap());
                let mut w = s;
                loop {
                    let mut any = false;
                    loop {
                        let mut line = String::new();
                        match r.read_line(&mut line) {
                            Ok(0) | Err(_) => return,
                            Ok(_) if line == "\r\n" => break,
                            Ok(_) => any = true,
                        }
                    }
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{name}",
                        name.len()
                    );
                    if !any || w.write_all(resp.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// `tcp-request content` rules in mode http, beside haproxy: run on every request of a
/// keep-alive connection with layer-7 fetches, `accept` ending the evaluation, `reject`
/// closing the connection without a response, and a backend's rules only for its own requests.
#[test]
fn proxy_tcp_content_rules_in_mode_http_differential() {
    if !require("haproxy") || !require("curl") {
        return;
    }
    let (a, b) = (named_http_backend("A"), named_http_backend("B"));
    let cfg = format!(
        "global\n  nbthread 1\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\n\
         frontend fe\n  bind 127.0.0.1:{{PORT}}\n  tcp-request inspect-delay 2s\n\
         \x20 tcp-request content reject if {{ path_beg /blocked }}\n\
         \x20 tcp-request content accept if {{ req.hdr(x-vip) -m found }}\n\
         \x20 tcp-request content reject if {{ req.hdr(x-bad) -m found }}\n\
         \x20 tcp-request content reject if {{ method DELETE }}\n\
         \x20 use_backend be2 if {{ path_beg /two }}\n  default_backend be\n\
         backend be\n  tcp-request content reject if {{ path_end /be-blocked }}\n  server s 127.0.0.1:{a}\n\
         backend be2\n  server s 127.0.0.1:{b}\n"
    );
    // (curl arguments, paths requested on one connection)
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec![], vec!["/"]),
        (vec![], vec!["/blocked"]),
        (vec![], vec!["/x/be-blocked"]),
        (vec![], vec!["/two/be-blocked"]),
        (vec!["-H", "x-bad: 1"], vec!["/"]),
        (vec!["-H", "x-bad: 1", "-H", "x-vip: 1"], vec!["/"]),
        (vec!["-H", "x-vip: 1"], vec!["/blocked"]),
        (vec!["-X", "DELETE"], vec!["/"]),
        (vec![], vec!["/a", "/two/b", "/blocked", "/c"]),
    ];
    let run = |port: u16| -> Vec<String> {
        cases
            .iter()
            .map(|(args, paths)| {
                let mut c = Command::new("curl");
                c.args(["-s", "-m", "5"]).args(args);
                for (i, p) in paths.iter().enumerate() {
                    if i > 0 {
                        c.arg("--next").args(["-s", "-m", "5"]).args(args);
                    }
                    c.args(["-w", " %{http_code};"])
                        .arg(format!("http://127.0.0.1:{port}{p}"));
                }
                let o = c.output().unwrap();
                String::from_utf8_lossy(&o.stdout).into_owned()
            })
            .collect()
    };
    let (h, r) = differential(&cfg, run);
    assert_eq!(r, h, "rhaproxy (left) vs haproxy (right)");
    assert_eq!(
        h,
        [
            "A 200;",
            " 000;",
            " 000;",
            "B 200;",
            " 000;",
            "A 200;",
            " 000;",
            " 000;",
            // the rejected request closes the connection: curl reconnects for the next one
            "A 200;B 200; 000;A 200;",
        ]
    );
}

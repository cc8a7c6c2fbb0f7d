//! The L7 engine through the real binary: `rhaproxy -f cfg` in front of real nginx backends
//! and in-test servers, compared with real haproxy on the same configuration.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::util::{require, rhaproxy_bin};

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

/// A port nobody listens on right now, taken below the kernel's ephemeral range
/// (32768-60999) so that outgoing connections of parallel tests cannot grab it between this
/// check and the proxy's bind. Ports are handed out once per test process; `span` consecutive
/// free ports are reserved (for port-range binds).
fn free_ports(span: u16) -> u16 {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let seed = (std::process::id() as usize * 7919) % 9000;
    loop {
        let n = NEXT.fetch_add(span as usize, Ordering::SeqCst);
        let base = 21000 + ((seed + n) % 11000) as u16;
        let all_free = (0..span).all(|i| TcpListener::bind(("127.0.0.1", base + i)).is_ok());
        if all_free {
            return base;
        }
    }
}

fn free_port() -> u16 {
    free_ports(1)
}

/// Kills and reaps a child process on drop.
struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        thread::sleep(Duration::from_millis(20));
    }
    panic!("nothing listens on port {port}");
}

/// One nginx process serving several named backends, each answering `NAME\n`.
struct Nginx {
    _dir: tempfile::TempDir,
    _proc: Proc,
    ports: Vec<u16>,
}

impl Nginx {
    fn start(names: &[&str]) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let ports: Vec<u16> = names.iter().map(|_| free_port()).collect();
        let mut servers = String::new();
        for (n, p) in names.iter().zip(&ports) {
            servers.push_str(&format!(
                "  server {{ listen 127.0.0.1:{p}; keepalive_requests 100000;\n    location / {{ return 200 \"{n}\\n\"; }}\n    location /big {{ return 200 \"{}\"; }} }}\n",
                "x".repeat(3000)
            ));
        }
        let conf = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\nerror_log {d}/error.log;\npid {d}/nginx.pid;\n\
             events {{ worker_connections 1024; }}\nhttp {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n{servers}}}\n"
        );
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, conf).unwrap();
        let child = Command::new("nginx")
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let proc = Proc(child);
        for p in &ports {
            wait_port(*p);
        }
        Nginx {
            _dir: dir,
            _proc: proc,
            ports,
        }
    }
}

/// A proxy process (rhaproxy or haproxy) running a config text written to a tempdir.
struct Proxy {
    dir: tempfile::TempDir,
    proc: Proc,
    stderr_path: PathBuf,
}

impl Proxy {
    fn start_with(bin: &Path, cfg: &str, wait: &[u16]) -> Proxy {
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
        for p in wait {
            wait_port(*p);
        }
        Proxy {
            dir,
            proc,
            stderr_path,
        }
    }
    fn rhaproxy(cfg: &str, wait: &[u16]) -> Proxy {
        Proxy::start_with(&rhaproxy_bin(), cfg, wait)
    }
    fn haproxy(cfg: &str, wait: &[u16]) -> Proxy {
        Proxy::start_with(Path::new("haproxy"), cfg, wait)
    }
    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
    fn pid(&self) -> u32 {
        self.proc.0.id()
    }
}

/// A parsed HTTP response.
#[derive(Debug, Clone)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A minimal HTTP/1.1 client on one TCP connection (keep-alive).
struct Client {
    r: BufReader<TcpStream>,
}

impl Client {
    fn connect(port: u16) -> Client {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Client {
            r: BufReader::new(s),
        }
    }
    fn send(&mut self, raw: &str) {
        self.r.get_mut().write_all(raw.as_bytes()).unwrap();
    }
    fn get(&mut self, path: &str) -> Resp {
        self.send(&format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n"));
        self.read_response(false).expect("response")
    }
    /// Reads one response; None when the connection closed first.
    fn read_response(&mut self, head_only: bool) -> Option<Resp> {
        let mut line = String::new();
        if self.r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let status: u16 = line.split_whitespace().nth(1)?.parse().ok()?;
        let mut headers = Vec::new();
        loop {
            let mut l = String::new();
            self.r.read_line(&mut l).ok()?;
            let l = l.trim_end();
            if l.is_empty() {
                break;
            }
            let (n, v) = l.split_once(':')?;
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
        let mut resp = Resp {
            status,
            headers,
            body: String::new(),
        };
        if head_only || status == 204 || status == 304 || (100..200).contains(&status) {
            return Some(resp);
        }
        if let Some(cl) = resp
            .header("content-length")
            .and_then(|v| v.parse::<usize>().ok())
        {
            let mut body = vec![0u8; cl];
            self.r.read_exact(&mut body).ok()?;
            resp.body = String::from_utf8_lossy(&body).into_owned();
        } else if resp
            .header("transfer-encoding")
            .is_some_and(|v| v.contains("chunked"))
        {
            let mut body = Vec::new();
            loop {
                let mut sz = String::new();
                self.r.read_line(&mut sz).ok()?;
                let n = usize::from_str_radix(sz.trim().split(';').next()?, 16).ok()?;
                let mut chunk = vec![0u8; n + 2];
                self.r.read_exact(&mut chunk).ok()?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
            resp.body = String::from_utf8_lossy(&body).into_owned();
        } else {
            let mut body = Vec::new();
            self.r.read_to_end(&mut body).ok()?;
            resp.body = String::from_utf8_lossy(&body).into_owned();
        }
        Some(resp)
    }
    /// True when the server closed the connection (read returns EOF).
    fn is_closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.r.read(&mut b), Ok(0) | Err(_))
    }
}

/// One request on a fresh connection.
fn get_once(port: u16, path: &str) -> Resp {
    Client::connect(port).get(path)
}

/// `GET path` `n` times on one keep-alive connection; returns the body first lines.
fn sequence(port: u16, path: &str, n: usize) -> Vec<String> {
    let mut c = Client::connect(port);
    (0..n)
        .map(|_| {
            let r = c.get(path);
            format!("{} {}", r.status, r.body.lines().next().unwrap_or(""))
        })
        .collect()
}

const DEFAULTS: &str =
    "defaults\n  mode http\n  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\n";

fn global(threads: u32) -> String {
    format!("global\n  nbthread {threads}\n")
}

/// A hand-written HTTP/1.1 server for behaviours nginx cannot show: counts connections and
/// requests, optional delay before answering, answers `NAME <request head>`.
struct TestServer {
    port: u16,
    conns: Arc<AtomicUsize>,
    heads: Arc<std::sync::Mutex<Vec<String>>>,
}

impl TestServer {
    fn start(name: &'static str, delay: Duration) -> TestServer {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let conns = Arc::new(AtomicUsize::new(0));
        let heads = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (c2, h2) = (conns.clone(), heads.clone());
        thread::spawn(move || {
            for s in l.incoming() {
                let Ok(s) = s else { return };
                c2.fetch_add(1, Ordering::SeqCst);
                let h3 = h2.clone();
                thread::spawn(move || {
                    let mut r = BufReader::new(s);
                    loop {
                        let mut head = String::new();
                        loop {
                            let mut l = String::new();
                            match r.read_line(&mut l) {
                                Ok(0) | Err(_) => return,
                                Ok(_) => {}
                            }
                            if l == "\r\n" {
                                break;
                            }
                            head.push_str(&l);
                        }
                        let cl: usize = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().to_string())
                            })
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                        let mut body = vec![0u8; cl];
                        if r.read_exact(&mut body).is_err() {
                            return;
                        }
                        h3.lock().unwrap().push(head.clone());
                        thread::sleep(delay);
                        let close = head.to_ascii_lowercase().contains("connection: close");
                        let payload = format!("{name}\n{}", String::from_utf8_lossy(&body));
                        let resp = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nX-Server: {name}\r\n{}\r\n{payload}",
                            payload.len(),
                            if close { "Connection: close\r\n" } else { "" }
                        );
                        if r.get_mut().write_all(resp.as_bytes()).is_err() || close {
                            return;
                        }
                    }
                });
            }
        });
        TestServer { port, conns, heads }
    }
    fn last_head(&self) -> String {
        self.heads
            .lock()
            .unwrap()
            .last()
            .cloned()
            .unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------------
// forwarding and balancing, data-driven
// ---------------------------------------------------------------------------------------------

#[test]
fn proxy_http_roundrobin_table_against_nginx() {
    if !require("nginx") {
        return;
    }
    let ng = Nginx::start(&["web1", "web2", "web3"]);
    let (p1, p2, p3) = (ng.ports[0], ng.ports[1], ng.ports[2]);
    // (server lines, requests, expected first lines in order)
    let table: Vec<(String, usize, Vec<&str>)> = vec![
        (format!("server web1 127.0.0.1:{p1}\n  server web2 127.0.0.1:{p2}"), 4, vec!["web1", "web2", "web1", "web2"]),
        (format!("server web1 127.0.0.1:{p1} weight 2\n  server web2 127.0.0.1:{p2} weight 1"), 6, vec!["web1", "web1", "web2", "web1", "web1", "web2"]),
        (format!("server web1 127.0.0.1:{p1}\n  server web2 127.0.0.1:{p2} weight 0\n  server web3 127.0.0.1:{p3}"), 4, vec!["web1", "web3", "web1", "web3"]),
        (format!("server web1 127.0.0.1:{p1} disabled\n  server web2 127.0.0.1:{p2}\n  server web3 127.0.0.1:{p3} backup"), 3, vec!["web2", "web2", "web2"]),
        (format!("balance first\n  server web1 127.0.0.1:{p1}\n  server web2 127.0.0.1:{p2}"), 3, vec!["web1", "web1", "web1"]),
    ];
    for (servers, n, want) in table {
        let port = free_port();
        let cfg = format!(
            "{}{DEFAULTS}listen app\n  bind 127.0.0.1:{port}\n  {servers}\n",
            global(1)
        );
        let px = Proxy::rhaproxy(&cfg, &[port]);
        let got = sequence(port, "/", n);
        let want: Vec<String> = want.iter().map(|w| format!("200 {w}")).collect();
        assert_eq!(got, want, "config:\n{cfg}\nstderr: {}", px.stderr());
    }
}

#[test]
fn proxy_http_keepalive_reuses_client_and_server_connections() {
    let srv = TestServer::start("ts", Duration::ZERO);
    let port = free_port();
    let cfg = format!("{}{DEFAULTS}frontend fe\n  bind 127.0.0.1:{port}\n  default_backend be\nbackend be\n  server s1 127.0.0.1:{}\n", global(1), srv.port);
    let _px = Proxy::rhaproxy(&cfg, &[port]);
    let mut c = Client::connect(port);
    for i in 0..5 {
        let r = c.get(&format!("/k{i}"));
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-server"), Some("ts"));
        assert!(r.header("connection").is_none(), "{:?}", r.headers);
    }
    assert_eq!(
        srv.conns.load(Ordering::SeqCst),
        1,
        "one server connection for five requests"
    );
    // HAProxy lower-cases header names on the way to the server
    assert!(
        srv.last_head().contains("\nhost: test\r\n"),
        "{}",
        srv.last_head()
    );
}

#[test]
fn proxy_http_connection_modes() {
    // (option, client connection closed after response, server connections for 3 requests)
    let table = [
        ("", false, 1usize),
        ("option http-server-close", false, 3),
        ("option httpclose", true, 1),
    ];
    for (opt, client_closed, server_conns) in table {
        let srv = TestServer::start("ts", Duration::ZERO);
        let port = free_port();
        let cfg = format!(
            "{}{DEFAULTS}  {opt}\nlisten app\n  bind 127.0.0.1:{port}\n  server s1 127.0.0.1:{}\n",
            global(1),
            srv.port
        );
        let _px = Proxy::rhaproxy(&cfg, &[port]);
        if client_closed {
            let mut c = Client::connect(port);
            let r = c.get("/");
            assert_eq!(r.header("connection"), Some("close"), "{opt}");
            assert!(c.is_closed(), "{opt}: client connection must close");
            assert!(
                srv.last_head().contains("connection: close"),
                "{opt}: {}",
                srv.last_head()
            );
        } else {
            let mut c = Client::connect(port);
            for _ in 0..3 {
                assert_eq!(c.get("/").status, 200, "{opt}");
            }
            assert_eq!(srv.conns.load(Ordering::SeqCst), server_conns, "{opt}");
        }
    }
}

#[test]
fn proxy_http_forwardfor_and_except() {
    let srv = TestServer::start("ts", Duration::ZERO);
    // (option line, header expected at the server)
    let table = [
        ("option forwardfor", Some("x-forwarded-for: 127.0.0.1")),
        ("option forwardfor except 127.0.0.0/8", None),
        (
            "option forwardfor header X-Client",
            Some("x-client: 127.0.0.1"),
        ),
    ];
    for (opt, want) in table {
        let port = free_port();
        let cfg = format!(
            "{}{DEFAULTS}listen app\n  bind 127.0.0.1:{port}\n  {opt}\n  server s1 127.0.0.1:{}\n",
            global(1),
            srv.port
        );
        let _px = Proxy::rhaproxy(&cfg, &[port]);
        assert_eq!(get_once(port, "/").status, 200);
        let head = srv.last_head();
        match want {
            Some(h) => assert!(head.contains(h), "{opt}: {head}"),
            None => assert!(!head.contains("x-forwarded-for"), "{opt}: {head}"),
        }
    }
}

#[test]
fn proxy_http_bodies_chunked_and_expect_continue() {
    let srv = TestServer::start("ts", Duration::ZERO);
    let port = free_port();
    let cfg = format!(
        "{}{DEFAULTS}listen app\n  bind 127.0.0.1:{port}\n  server s1 127.0.0.1:{}\n",
        global(1),
        srv.port
    );
    let _px = Proxy::rhaproxy(&cfg, &[port]);
    let mut c = Client::connect(port);
    c.send("POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
    let r = c.read_response(false).unwrap();
    assert_eq!(r.body, "ts\nhello");
    // 3000-byte response from nginx through the proxy arrives intact
    if require("nginx") {
        let ng = Nginx::start(&["big"]);
        let port2 = free_port();
        let cfg = format!(
            "{}{DEFAULTS}listen app\n  bind 127.0.0.1:{port2}\n  server s1 127.0.0.1:{}\n",
            global(1),
            ng.ports[0]
        );
        let _px2 = Proxy::rhaproxy(&cfg, &[port2]);
        let mut c = Client::connect(port2);
        for _ in 0..3 {
            let r = c.get("/big");
            assert_eq!(r.body.len(), 3000);
        }
        // Expect: 100-continue: nginx answers 100, the proxy relays it, then the final answer
        c.send("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
        let interim = c.read_response(true).unwrap();
        assert_eq!(interim.status, 100);
        c.send("data");
        let r = c.read_response(false).unwrap();
        assert_eq!((r.status, r.body.as_str()), (200, "big\n"));
    }
}

// ---------------------------------------------------------------------------------------------
// errors, timeouts, retries, maxconn
// ---------------------------------------------------------------------------------------------

#[test]
fn proxy_http_error_statuses() {
    let slow = TestServer::start("slow", Duration::from_millis(1500));
    let dead = free_port();
    let port = free_port();
    let cfg = format!(
        "{}defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 500ms\n  timeout http-request 500ms\n  retries 1\n\
         frontend fe\n  bind 127.0.0.1:{port}\n  use_backend be_slow if {{ path_beg /slow }}\n  use_backend be_dead if {{ path_beg /dead }}\n  default_backend be_none\n\
         backend be_slow\n  server s 127.0.0.1:{}\nbackend be_dead\n  server d 127.0.0.1:{dead}\nbackend be_none\n",
        global(1),
        slow.port
    );
    let _px = Proxy::rhaproxy(&cfg, &[port]);
    // (request, expected status)
    let table: [(&str, u16); 4] = [
        ("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n", 504),
        ("GET /dead HTTP/1.1\r\nHost: t\r\n\r\n", 503),
        ("GET /none HTTP/1.1\r\nHost: t\r\n\r\n", 503),
        ("GARBAGE\r\n\r\n", 400),
    ];
    for (req, want) in table {
        let mut c = Client::connect(port);
        c.send(req);
        let r = c.read_response(false).expect("a response");
        assert_eq!(r.status, want, "{req:?}");
    }
    // a client that sends half a head and waits: 408 after timeout http-request
    let mut c = Client::connect(port);
    c.send("GET / HTTP/1.1\r\nHo");
    let r = c.read_response(false).expect("408");
    assert_eq!(r.status, 408);
}

#[test]
fn proxy_http_retries_and_redispatch() {
    let ok = TestServer::start("alive", Duration::ZERO);
    let dead = free_port();
    let port = free_port();
    // With redispatch the failed server is abandoned on the last retry.
    let cfg = format!(
        "{}{DEFAULTS}  retries 1\n  option redispatch\nlisten app\n  bind 127.0.0.1:{port}\n  server dead 127.0.0.1:{dead}\n  server alive 127.0.0.1:{}\n",
        global(1),
        ok.port
    );
    let _px = Proxy::rhaproxy(&cfg, &[port]);
    for _ in 0..4 {
        let r = get_once(port, "/");
        assert_eq!((r.status, r.header("x-server")), (200, Some("alive")));
    }
}

#[test]
fn proxy_http_server_maxconn_queue_and_timeout() {
    let slow = TestServer::start("slow", Duration::from_millis(700));
    let port = free_port();
    let cfg = format!(
        "{}defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n  timeout queue 300ms\n\
         listen app\n  bind 127.0.0.1:{port}\n  server s 127.0.0.1:{} maxconn 1\n",
        global(1),
        slow.port
    );
    let _px = Proxy::rhaproxy(&cfg, &[port]);
    // three at once: one is served, the queued ones give up after timeout queue with 503
    let handles: Vec<_> = (0..3)
        .map(|_| thread::spawn(move || get_once(port, "/").status))
        .collect();
    let mut statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    statuses.sort();
    assert_eq!(statuses, vec![200, 503, 503]);
    // with a long enough queue timeout, queued requests are served in turn
    let port2 = free_port();
    let cfg = format!(
        "{}{DEFAULTS}  timeout queue 5s\nlisten app\n  bind 127.0.0.1:{port2}\n  server s 127.0.0.1:{} maxconn 1\n",
        global(1),
        slow.port
    );
    let _px2 = Proxy::rhaproxy(&cfg, &[port2]);
    let handles: Vec<_> = (0..3)
        .map(|_| thread::spawn(move || get_once(port2, "/").status))
        .collect();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(statuses, vec![200, 200, 200]);
}

// ---------------------------------------------------------------------------------------------
// differential: same config, haproxy vs rhaproxy
// ---------------------------------------------------------------------------------------------

/// Runs `cfg` (with `{PORT}` for the frontend port) under both proxies and returns
/// (haproxy, rhaproxy) results of `f`.
fn differential<T: std::fmt::Debug>(cfg: &str, f: impl Fn(u16, &Proxy) -> T) -> (T, T) {
    let hp = free_port();
    let h = Proxy::haproxy(&cfg.replace("{PORT}", &hp.to_string()), &[hp]);
    let a = f(hp, &h);
    drop(h);
    let rp = free_port();
    let r = Proxy::rhaproxy(&cfg.replace("{PORT}", &rp.to_string()), &[rp]);
    let b = f(rp, &r);
    (a, b)
}

#[test]
fn proxy_http_differential_weights_and_routing() {
    if !require("nginx") || !require("haproxy") {
        return;
    }
    let ng = Nginx::start(&["web1", "web2", "web3", "api"]);
    let [p1, p2, p3, pa] = [ng.ports[0], ng.ports[1], ng.ports[2], ng.ports[3]];
    let cases = [
        format!("listen app\n  bind 127.0.0.1:{{PORT}}\n  balance roundrobin\n  server web1 127.0.0.1:{p1}\n  server web2 127.0.0.1:{p2}\n"),
        format!("listen app\n  bind 127.0.0.1:{{PORT}}\n  balance roundrobin\n  server web1 127.0.0.1:{p1} weight 2\n  server web2 127.0.0.1:{p2} weight 1\n"),
        format!("listen app\n  bind 127.0.0.1:{{PORT}}\n  server web1 127.0.0.1:{p1} weight 2\n  server web2 127.0.0.1:{p2} weight 2\n  server web3 127.0.0.1:{p3} weight 1\n"),
        format!("listen app\n  bind 127.0.0.1:{{PORT}}\n  balance static-rr\n  server web1 127.0.0.1:{p1} weight 3\n  server web2 127.0.0.1:{p2} weight 1\n"),
        format!(
            "frontend fe\n  bind 127.0.0.1:{{PORT}}\n  acl is_api path_beg /api\n  use_backend api if is_api\n  default_backend web\n\
             backend api\n  server api 127.0.0.1:{pa}\nbackend web\n  server web1 127.0.0.1:{p1}\n  server web2 127.0.0.1:{p2}\n"
        ),
    ];
    for case in cases {
        let cfg = format!("{}{DEFAULTS}{case}", global(1));
        let run = |port: u16, _: &Proxy| {
            let mut out = sequence(port, "/", 7);
            out.extend(sequence(port, "/api/x", 2));
            // new connection per request too
            out.extend((0..3).map(|_| get_once(port, "/").body.trim().to_string()));
            out
        };
        let (h, r) = differential(&cfg, run);
        assert_eq!(h, r, "haproxy vs rhaproxy for:\n{cfg}");
    }
}

#[test]
fn proxy_http_differential_server_down_and_back() {
    if !require("haproxy") {
        return;
    }
    // A server that can be stopped and restarted on the same port.
    let a = TestServer::start("a", Duration::ZERO);
    let b_port = free_port();
    let cfg = format!(
        "{}{DEFAULTS}listen app\n  bind 127.0.0.1:{{PORT}}\n  server a 127.0.0.1:{} check inter 100ms fall 2 rise 2\n  server b 127.0.0.1:{b_port} check inter 100ms fall 2 rise 2\n",
        global(1),
        a.port
    );
    let run = |port: u16, px: &Proxy| {
        let mut phases = Vec::new();
        // b is down from the start: only a serves
        thread::sleep(Duration::from_millis(500));
        phases.push(sequence(port, "/", 4).join(","));
        // b comes up: after rise checks it takes its share again
        let l = TcpListener::bind(("127.0.0.1", b_port)).unwrap();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop2 = stop.clone();
        let t = thread::spawn(move || {
            l.set_nonblocking(true).unwrap();
            while !stop2.load(Ordering::SeqCst) {
                if let Ok((s, _)) = l.accept() {
                    s.set_nonblocking(false).unwrap();
                    thread::spawn(move || {
                        let mut r = BufReader::new(s);
                        loop {
                            let mut line = String::new();
                            match r.read_line(&mut line) {
                                Ok(0) | Err(_) => return,
                                Ok(_) if line == "\r\n" => {
                                    let _ = r.get_mut().write_all(
                                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nb\n",
                                    );
                                }
                                Ok(_) => {}
                            }
                        }
                    });
                }
                thread::sleep(Duration::from_millis(5));
            }
        });
        thread::sleep(Duration::from_millis(800));
        let mut seq = sequence(port, "/", 4);
        seq.sort();
        phases.push(seq.join(","));
        stop.store(true, Ordering::SeqCst);
        let _ = t.join();
        thread::sleep(Duration::from_millis(800));
        phases.push(sequence(port, "/", 4).join(","));
        let _ = px.stderr();
        phases
    };
    let (h, r) = differential(&cfg, run);
    assert_eq!(h, r);
    assert_eq!(h[0], "200 a,200 a,200 a,200 a");
    assert_eq!(h[1], "200 a,200 a,200 b,200 b");
}

// ---------------------------------------------------------------------------------------------
// process behaviour and logs
// ---------------------------------------------------------------------------------------------

fn kill(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status();
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

#[test]
fn proxy_process_daemon_pidfile_and_stop_signals() {
    let srv = TestServer::start("ts", Duration::ZERO);
    // (stop signal, nbthread): both stop at once; nbthread 2 runs the multi-thread runtime
    for (sig, threads) in [("TERM", 1), ("INT", 2)] {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let cfg = dir.path().join("h.cfg");
        let pidfile = dir.path().join("h.pid");
        std::fs::write(
            &cfg,
            format!(
                "{}{DEFAULTS}listen app\n  bind 127.0.0.1:{port}\n  server s 127.0.0.1:{}\n",
                global(threads),
                srv.port
            ),
        )
        .unwrap();
        let st = Command::new(rhaproxy_bin())
            .arg("-D")
            .arg("-p")
            .arg(&pidfile)
            .arg("-f")
            .arg(&cfg)
            .status()
            .unwrap();
        assert!(st.success(), "-D parent exits 0");
        wait_port(port);
        let pid: u32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(alive(pid));
        let mut c = Client::connect(port);
        for _ in 0..3 {
            assert_eq!(c.get("/").status, 200);
        }
        kill(pid, sig);
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive(pid) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(pid), "SIG{sig} stops the daemon");
    }
}

#[test]
fn proxy_process_sigusr1_soft_stop_finishes_in_flight() {
    let slow = TestServer::start("slow", Duration::from_millis(800));
    let port = free_port();
    let cfg = format!(
        "{}{DEFAULTS}listen app\n  bind 127.0.0.1:{port}\n  server s 127.0.0.1:{}\n",
        global(1),
        slow.port
    );
    let mut px = Proxy::rhaproxy(&cfg, &[port]);
    let inflight = thread::spawn(move || get_once(port, "/"));
    thread::sleep(Duration::from_millis(200));
    kill(px.pid(), "USR1");
    thread::sleep(Duration::from_millis(200));
    // listeners are closed at once
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "listener closed on soft stop"
    );
    let r = inflight.join().unwrap();
    assert_eq!((r.status, r.body.as_str()), (200, "slow\n"));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(Some(st)) = px.proc.0.try_wait() {
            assert!(st.success());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "process exits after the in-flight request"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn proxy_http_logs_httplog_to_udp_syslog() {
    let srv = TestServer::start("ts", Duration::ZERO);
    let sys = UdpSocket::bind("127.0.0.1:0").unwrap();
    sys.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let sport = sys.local_addr().unwrap().port();
    let port = free_port();
    let cfg = format!(
        "global\n  nbthread 1\n  log 127.0.0.1:{sport} local2 info\n{DEFAULTS}  log global\n  option httplog\nfrontend fe\n  bind 127.0.0.1:{port}\n  default_backend be\nbackend be\n  server s1 127.0.0.1:{}\n",
        srv.port
    );
    let _px = Proxy::rhaproxy(&cfg, &[port]);
    assert_eq!(get_once(port, "/hello?x=1").status, 200);
    let mut buf = [0u8; 2048];
    // the readiness probe (a connection without a request) is logged first, as haproxy does
    let line = loop {
        let n = sys.recv(&mut buf).unwrap();
        let line = String::from_utf8_lossy(&buf[..n]).to_string();
        if !line.contains("<NOSRV>") {
            break line;
        }
    };
    // <150> = local2 (18) * 8 + info (6)
    assert!(line.starts_with("<150>"), "{line}");
    let re = regex::Regex::new(
        r#"\]: 127\.0\.0\.1:\d+ \[\d\d/\w\w\w/\d{4}:\d\d:\d\d:\d\d\.\d\d\d\] fe be/s1 \d+/\d+/\d+/\d+/\d+ 200 \d+ - - ---- \d+/\d+/\d+/\d+/0 0/0 "GET /hello\?x=1 HTTP/1\.1"$"#,
    )
    .unwrap();
    assert!(re.is_match(&line), "{line}");
}

#[test]
fn proxy_http_binds_ipv6_and_port_ranges() {
    let srv = TestServer::start("ts", Duration::ZERO);
    let base = free_ports(2);
    let v6 = free_port();
    let cfg = format!(
        "{}{DEFAULTS}frontend fe\n  bind 127.0.0.1:{base}-{}\n  bind [::1]:{v6}\n  default_backend be\nbackend be\n  server s 127.0.0.1:{}\n",
        global(1),
        base + 1,
        srv.port
    );
    let _px = Proxy::rhaproxy(&cfg, &[base]);
    for p in [base, base + 1] {
        assert_eq!(get_once(p, "/").status, 200, "port {p}");
    }
    if let Ok(s) = TcpStream::connect(SocketAddr::from(([0, 0, 0, 0, 0, 0, 0, 1], v6))) {
        let mut c = Client {
            r: BufReader::new(s),
        };
        assert_eq!(c.get("/").status, 200);
    }
    let _ = Shutdown::Both;
}

// ---------------------------------------------------------------------------------------------
// differential L7: rules, redirects, cookies through both binaries
// ---------------------------------------------------------------------------------------------

/// Echo backend: 200 with `X-Server`, `X-Uri` and `X-Echo-<name>` for each `x-*`/`cookie`
/// header received; `X-Want-Set-Cookie: v` makes it answer `Set-Cookie: v`.
fn echo_server(name: &'static str) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { return };
            thread::spawn(move || {
                let mut r = BufReader::new(s);
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let uri = line.split_whitespace().nth(1).unwrap_or("").to_string();
                    let mut extra = String::new();
                    let mut close = false;
                    loop {
                        let mut h = String::new();
                        if r.read_line(&mut h).unwrap_or(0) == 0 {
                            return;
                        }
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        let Some((n, v)) = h.split_once(':') else {
                            continue;
                        };
                        let (n, v) = (n.trim().to_ascii_lowercase(), v.trim());
                        if n == "connection" && v.eq_ignore_ascii_case("close") {
                            close = true;
                        }
                        if n == "x-want-set-cookie" {
                            extra.push_str(&format!("Set-Cookie: {v}\r\n"));
                        } else if n.starts_with("x-") || n == "cookie" {
                            extra.push_str(&format!("X-Echo-{n}: {v}\r\n"));
                        }
                    }
                    let resp = format!("HTTP/1.1 200 OK\r\nX-Server: {name}\r\nX-Uri: {uri}\r\n{extra}Content-Length: 0\r\n\r\n");
                    if r.get_mut().write_all(resp.as_bytes()).is_err() || close {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// Status plus the response headers worth comparing (lower-case names, in order).
fn observe(
    port: u16,
    method: &str,
    uri: &str,
    hdrs: &[(&str, &str)],
) -> (u16, Vec<(String, String)>) {
    let mut c = Client::connect(port);
    let mut req = format!("{method} {uri} HTTP/1.1\r\nHost: test.local\r\n");
    for (n, v) in hdrs {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str("\r\n");
    c.send(&req);
    let r = c.read_response(false).unwrap_or(Resp {
        status: 0,
        headers: vec![],
        body: String::new(),
    });
    let keep = |n: &str| {
        let n = n.to_ascii_lowercase();
        n.starts_with("x-")
            || matches!(
                n.as_str(),
                "location" | "set-cookie" | "cache-control" | "www-authenticate"
            )
    };
    let headers = r
        .headers
        .iter()
        .filter(|(n, _)| keep(n))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .collect();
    (r.status, headers)
}

#[test]
fn proxy_http_differential_rules_redirects_cookies() {
    if !require("haproxy") {
        return;
    }
    let ports: Vec<u16> = ["s1", "s2", "s3", "s4"]
        .into_iter()
        .map(echo_server)
        .collect();
    type Req = (
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
    );
    let cases: [(&str, &[Req]); 4] = [
        (
            "frontend fe\n  bind 127.0.0.1:{PORT}\n  acl is_api path_beg /api /v2\n  acl is_admin hdr(x-role) -i admin\n  acl is_post method POST\n  use_backend api if is_api !is_post\n  use_backend admin if is_admin || is_post\n  use_backend be_%[req.hdr(x-be)] if { req.hdr(x-be) -m found }\n  default_backend web\nbackend api\n  server s1 127.0.0.1:{s1}\nbackend admin\n  server s2 127.0.0.1:{s2}\nbackend web\n  server s4 127.0.0.1:{s4}\nbackend be_x\n  server s3 127.0.0.1:{s3}\n",
            &[
                ("GET", "/api/users", &[]),
                ("POST", "/api/users", &[]),
                ("GET", "/v2/x", &[("X-Role", "ADMIN")]),
                ("GET", "/index.html", &[]),
                ("GET", "/index.html", &[("X-Be", "x")]),
                ("GET", "/index.html", &[("X-Be", "nope")]),
            ],
        ),
        (
            "frontend fe\n  bind 127.0.0.1:{PORT}\n  http-request deny if { path /forbidden }\n  http-request deny deny_status 429 if { path_beg /limited }\n  http-request redirect scheme https code 301 if { path_beg /secure }\n  http-request redirect location /login?from=%[path] if { path /account }\n  http-request redirect prefix /new drop-query if { path_beg /old }\n  http-request return status 200 content-type text/plain string hello if { path /hello }\n  http-request auth realm Private if { path_beg /private } !{ http_auth(users) }\n  http-request add-header X-Added one\n  http-request del-header X-Secret\n  http-request set-header X-Path %[path]\n  http-request replace-path ^/app/(.*) /\\1\n  http-request set-query a=1 if { path /q }\n  http-response set-header X-Resp yes\n  http-response set-status 202 if { path /accepted }\n  default_backend web\nuserlist users\n  user bob insecure-password pw\nbackend web\n  server s1 127.0.0.1:{s1}\n",
            &[
                ("GET", "/forbidden", &[]),
                ("GET", "/limited/x", &[]),
                ("GET", "/secure/page?a=b", &[]),
                ("GET", "/account", &[]),
                ("GET", "/old/path?x=1", &[]),
                ("GET", "/hello", &[]),
                ("GET", "/private/x", &[]),
                ("GET", "/private/x", &[("Authorization", "Basic Ym9iOnB3")]),
                ("GET", "/app/deep/page?z=9", &[("X-Secret", "s")]),
                ("GET", "/q?old=1", &[]),
                ("GET", "/accepted", &[]),
            ],
        ),
        (
            "frontend fe\n  bind 127.0.0.1:{PORT}\n  default_backend app\nbackend app\n  cookie SRV insert indirect nocache httponly\n  server s1 127.0.0.1:{s1} cookie c1\n  server s2 127.0.0.1:{s2} cookie c2\n  server s3 127.0.0.1:{s3}\n",
            &[
                ("GET", "/", &[]),
                ("GET", "/", &[]),
                ("GET", "/", &[]),
                ("GET", "/", &[("Cookie", "SRV=c2")]),
                ("GET", "/", &[("Cookie", "a=1; SRV=c1; b=2")]),
                ("GET", "/", &[("Cookie", "SRV=zzz")]),
                ("POST", "/", &[]),
            ],
        ),
        (
            "frontend fe\n  bind 127.0.0.1:{PORT}\n  use_backend pfx if { path_beg /p }\n  default_backend rw\nbackend rw\n  cookie JSESSIONID rewrite\n  server s1 127.0.0.1:{s1} cookie r1\n  server s2 127.0.0.1:{s2} cookie r2\nbackend pfx\n  cookie SID prefix\n  server s3 127.0.0.1:{s3} cookie p3\n  server s4 127.0.0.1:{s4} cookie p4\n",
            &[
                ("GET", "/", &[("X-Want-Set-Cookie", "JSESSIONID=abc; path=/")]),
                ("GET", "/", &[("Cookie", "JSESSIONID=r2")]),
                ("GET", "/p", &[("X-Want-Set-Cookie", "SID=sess1; path=/")]),
                ("GET", "/p", &[("Cookie", "SID=p4~sess1; other=z")]),
            ],
        ),
    ];
    for (cfg, reqs) in cases {
        let mut text = format!("{}{DEFAULTS}{cfg}", global(1));
        for (i, p) in ports.iter().enumerate() {
            text = text.replace(&format!("{{s{}}}", i + 1), &p.to_string());
        }
        let run = |port: u16, _: &Proxy| {
            reqs.iter()
                .map(|(m, u, h)| observe(port, m, u, h))
                .collect::<Vec<_>>()
        };
        let (h, r) = differential(&text, run);
        for (i, (a, b)) in h.iter().zip(&r).enumerate() {
            assert_eq!(
                b, a,
                "request {:?}\n(left: rhaproxy, right: haproxy)\n{text}",
                reqs[i]
            );
        }
    }
}

#[test]
fn proxy_http_stats_page_csv_and_auth() {
    let srv = TestServer::start("ts", Duration::ZERO);
    let port = free_port();
    let sport = free_port();
    let cfg = format!(
        "{}{DEFAULTS}frontend fe\n  bind 127.0.0.1:{port}\n  default_backend be\nbackend be\n  server s1 127.0.0.1:{} check\n  server s2 127.0.0.1:1 disabled\n\
         listen stats\n  bind 127.0.0.1:{sport}\n  stats enable\n  stats uri /stats\n  stats auth admin:pw\n  stats refresh 5s\n",
        global(1),
        srv.port
    );
    let _px = Proxy::rhaproxy(&cfg, &[port, sport]);
    assert_eq!(get_once(port, "/").status, 200);
    let mut c = Client::connect(sport);
    let r = c.get("/stats;csv");
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"HAProxy Statistics\"")
    );
    let mut c = Client::connect(sport);
    c.send("GET /stats;csv HTTP/1.1\r\nHost: t\r\nAuthorization: Basic YWRtaW46cHc=\r\n\r\n");
    let r = c.read_response(false).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("refresh"), Some("5"));
    let mut lines = r.body.lines();
    let header = lines.next().unwrap();
    if require("haproxy") {
        // the header line must be exactly haproxy's
        let hport = free_port();
        let hcfg = format!("{}{DEFAULTS}listen stats\n  bind 127.0.0.1:{hport}\n  stats enable\n  stats uri /stats\n", global(1));
        let _h = Proxy::haproxy(&hcfg, &[hport]);
        let theirs = get_once(hport, "/stats;csv").body;
        assert_eq!(header, theirs.lines().next().unwrap());
    }
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let row = |px: &str, sv: &str| {
        rows.iter()
            .find(|r| r[0] == px && r[1] == sv)
            .unwrap_or_else(|| panic!("{px}/{sv} in {rows:?}"))
    };
    let cols: Vec<&str> = header.trim_start_matches("# ").split(',').collect();
    let col =
        |r: &Vec<&str>, name: &str| r[cols.iter().position(|c| *c == name).unwrap()].to_string();
    assert_eq!(col(row("fe", "FRONTEND"), "status"), "OPEN");
    assert_eq!(col(row("fe", "FRONTEND"), "req_tot"), "1");
    assert_eq!(col(row("be", "s1"), "stot"), "1");
    assert_eq!(col(row("be", "s2"), "status"), "MAINT");
    assert_eq!(col(row("be", "BACKEND"), "hrsp_2xx"), "1");
    assert_eq!(col(row("be", "BACKEND"), "algo"), "roundrobin");
    // the HTML page
    let mut c = Client::connect(sport);
    c.send("GET /stats HTTP/1.1\r\nHost: t\r\nAuthorization: Basic YWRtaW46cHc=\r\n\r\n");
    let r = c.read_response(false).unwrap();
    assert_eq!(r.header("content-type"), Some("text/html"));
    assert!(r.body.contains("Statistics Report for"));
}

#[test]
fn proxy_http_errorfile_and_log_format() {
    let dir = tempfile::tempdir().unwrap();
    let ef = dir.path().join("503.http");
    std::fs::write(&ef, "HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nsorry :(\n").unwrap();
    let port = free_port();
    let cfg = format!(
        "{}{DEFAULTS}  log stdout format raw local0\n  log-format \"%ci %ft %b/%s %ST %HM %HU\"\nfrontend fe\n  bind 127.0.0.1:{port}\n  default_backend be\nbackend be\n  errorfile 503 {}\n",
        global(1),
        ef.display()
    );
    let dir2 = tempfile::tempdir().unwrap();
    let cfg_path = dir2.path().join("h.cfg");
    std::fs::write(&cfg_path, &cfg).unwrap();
    let out_path = dir2.path().join("out.txt");
    let child = Command::new(rhaproxy_bin())
        .arg("-db")
        .arg("-f")
        .arg(&cfg_path)
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _p = Proxy {
        dir: dir2,
        proc: Proc(child),
        stderr_path: PathBuf::new(),
    };
    wait_port(port);
    let r = get_once(port, "/x?y=1");
    assert_eq!((r.status, r.body.as_str()), (503, "sorry :(\n"));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let out = std::fs::read_to_string(&out_path).unwrap_or_default();
        if out.contains("127.0.0.1 fe be/<NOSRV> 503 GET /x?y=1") {
            break;
        }
        assert!(Instant::now() < deadline, "log line not found in {out:?}");
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn proxy_http_inherited_fd_bind_and_keepalive_timeout() {
    if !require("perl") {
        return;
    }
    let srv = TestServer::start("ts", Duration::ZERO);
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("h.cfg");
    // fd@${LISTEN_FD}: a socket created and bound by the parent, as VTest does
    std::fs::write(
        &cfg,
        format!(
            "{}defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n  timeout http-keep-alive 300ms\n\
             frontend fe\n  bind \"fd@${{LISTEN_FD}}\"\n  default_backend be\nbackend be\n  server s 127.0.0.1:{}\n",
            global(1),
            srv.port
        ),
    )
    .unwrap();
    // perl-base is always there: bind, clear close-on-exec, exec the proxy
    let script = format!(
        "my $s = IO::Socket::INET->new(LocalAddr=>'127.0.0.1:{port}', Listen=>16, ReuseAddr=>1) or die; \
         fcntl($s, F_SETFD, fcntl($s, F_GETFD, 0) & ~FD_CLOEXEC); $ENV{{LISTEN_FD}} = fileno($s); \
         exec('{}', '-db', '-f', '{}') or die;",
        rhaproxy_bin().display(),
        cfg.display()
    );
    let child = Command::new("perl")
        .arg("-MIO::Socket::INET")
        .arg("-MFcntl")
        .arg("-e")
        .arg(script)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _p = Proc(child);
    wait_port(port);
    let mut c = Client::connect(port);
    assert_eq!(c.get("/").status, 200);
    // idle longer than timeout http-keep-alive: the proxy closes the connection silently
    thread::sleep(Duration::from_millis(600));
    assert!(c.is_closed(), "idle keep-alive connection closed");
}

#[test]
fn proxy_http_log_targets() {
    let srv = TestServer::start("ts", Duration::ZERO);
    let dir = tempfile::tempdir().unwrap();
    let sock_path = dir.path().join("log.sock");
    let unix = std::os::unix::net::UnixDatagram::bind(&sock_path).unwrap();
    unix.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let port = free_port();
    let cfg = format!(
        "global\n  nbthread 1\n  log {} local0 info\n  log 127.0.0.1:{} daemon notice\n{DEFAULTS}  log global\n  option tcplog\nlisten app\n  bind 127.0.0.1:{port}\n  server s1 127.0.0.1:{}\n",
        sock_path.display(),
        udp.local_addr().unwrap().port(),
        srv.port
    );
    let _px = Proxy::rhaproxy(&cfg, &[port]);
    assert_eq!(get_once(port, "/").status, 200);
    let mut buf = [0u8; 2048];
    let line = loop {
        let n = unix.recv(&mut buf).unwrap();
        let line = String::from_utf8_lossy(&buf[..n]).to_string();
        if !line.contains("<NOSRV>") {
            break line;
        }
    };
    // local0 (16) * 8 + info (6); tcplog fields
    assert!(line.starts_with("<134>"), "{line}");
    let re = regex::Regex::new(
        r"\]: 127\.0\.0\.1:\d+ \[[^\]]+\] app app/s1 \d+/\d+/\d+ \d+ -- \d+/\d+/\d+/\d+/0 0/0$",
    )
    .unwrap();
    assert!(re.is_match(&line), "{line}");
    // the UDP target only takes notice and more severe: traffic logs (info) are filtered out
    udp.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    assert!(
        udp.recv(&mut buf).is_err(),
        "info line must not reach a notice target"
    );
}

#[test]
fn proxy_http_upgrade_tunnel_and_frontend_maxconn() {
    // a server that switches protocols and then echoes bytes
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let sport = l.local_addr().unwrap().port();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            thread::spawn(move || {
                let mut head = Vec::new();
                let mut b = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if s.read(&mut b).unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(b[0]);
                }
                let _ = s.write_all(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n");
                let mut buf = [0u8; 1024];
                loop {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            let _ = s.write_all(&buf[..n]);
                        }
                    }
                }
            });
        }
    });
    let port = free_port();
    let cfg = format!("{}{DEFAULTS}  timeout tunnel 5s\nfrontend fe\n  bind 127.0.0.1:{port}\n  maxconn 1\n  default_backend be\nbackend be\n  server s 127.0.0.1:{sport}\n", global(1));
    let _px = Proxy::rhaproxy(&cfg, &[port]);
    let mut c = Client::connect(port);
    c.send("GET /ws HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n");
    let r = c.read_response(true).unwrap();
    assert_eq!(r.status, 101);
    c.send("ping");
    let mut got = [0u8; 4];
    c.r.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"ping");
    // frontend maxconn 1: a second client waits in the backlog until the tunnel ends
    let waiting = thread::spawn(move || {
        let t0 = Instant::now();
        let mut c2 = Client::connect(port);
        c2.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        let r = c2.read_response(true);
        (t0.elapsed(), r.map(|r| r.status))
    });
    thread::sleep(Duration::from_millis(400));
    drop(c);
    let (waited, status) = waiting.join().unwrap();
    assert_eq!(status, Some(101));
    assert!(
        waited >= Duration::from_millis(300),
        "second connection served only after the first ended ({waited:?})"
    );
}

#[test]
fn proxy_http_chunked_both_ways_keeps_alive() {
    // server: reads a head, then a chunked body if announced, answers a chunked response
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let sport = l.local_addr().unwrap().port();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { return };
            thread::spawn(move || {
                let mut r = BufReader::new(s);
                loop {
                    let mut head = String::new();
                    loop {
                        let mut line = String::new();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        head.push_str(&line);
                    }
                    let mut body = String::new();
                    if head.contains("transfer-encoding: chunked") {
                        loop {
                            let mut sz = String::new();
                            r.read_line(&mut sz).unwrap();
                            let n = usize::from_str_radix(sz.trim(), 16).unwrap();
                            let mut chunk = vec![0u8; n + 2];
                            r.read_exact(&mut chunk).unwrap();
                            if n == 0 {
                                break;
                            }
                            body.push_str(&String::from_utf8_lossy(&chunk[..n]));
                        }
                    }
                    let cl = head.contains("content-length");
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n4\r\n-end\r\n0\r\n\r\n",
                        body.len()
                    );
                    let resp = if body.is_empty() {
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nnone\r\n0\r\n\r\n".to_string()
                    } else {
                        resp
                    };
                    assert!(!cl, "content-length must not be forwarded with chunked");
                    if r.get_mut().write_all(resp.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    let port = free_port();
    let cfg = format!(
        "{}{DEFAULTS}listen app\n  bind 127.0.0.1:{port}\n  server s 127.0.0.1:{sport}\n",
        global(1)
    );
    let _px = Proxy::rhaproxy(&cfg, &[port]);
    let mut c = Client::connect(port);
    // (request, expected body), all on one connection
    let table = [
        ("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world-end"),
        ("GET / HTTP/1.1\r\nHost: t\r\n\r\n", "none"),
        ("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n", "ab-end"),
    ];
    for (req, want) in table {
        c.send(req);
        let r = c.read_response(false).expect("response");
        assert_eq!((r.status, r.body.as_str()), (200, want), "{req:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// seed lab 000 in a network namespace: the lab's haproxy.cfg unchanged
// ---------------------------------------------------------------------------------------------

/// examples/000-haproxy-pair-weights/lb{1,2}/haproxy.cfg (read from the repository when present).
const SEED000_LB1: &str = "# HAProxy 1 (MASTER): round robin over the two WordPress servers, weights 1:1.\nglobal\n    log /dev/log local0\n    maxconn 2048\n    user haproxy\n    group haproxy\n    daemon\n\ndefaults\n    mode http\n    log global\n    option httplog\n    option dontlognull\n    option forwardfor\n    option redispatch\n    retries 3\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\nfrontend wordpress\n    bind *:80\n    default_backend wp_servers\n\nbackend wp_servers\n    balance roundrobin\n    server wp1 192.168.10.11:80 check weight 1\n    server wp2 192.168.10.12:80 check weight 1\n";

/// A network namespace removed on drop.
struct Netns(String);
impl Netns {
    fn new(tag: &str) -> Netns {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "rhx-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let ok = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "ip netns add {name}");
        let ns = Netns(name);
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }
    fn ip(&self, args: &[&str]) {
        let st = Command::new("ip")
            .arg("-n")
            .arg(&self.0)
            .args(args)
            .status()
            .unwrap();
        assert!(st.success(), "ip -n {} {args:?}", self.0);
    }
    fn cmd(&self, prog: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0, prog]);
        c
    }
}
impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[test]
fn proxy_http_seed_000_lab_in_netns_matches_haproxy() {
    if !require("ip") || !require("nginx") || !require("haproxy") || !require("curl") {
        return;
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    if !is_root {
        eprintln!("skipping: needs root for network namespaces");
        return;
    }
    let lb1 = std::fs::read_to_string(
        crate::util::repo_root().join("examples/000-haproxy-pair-weights/lb1/haproxy.cfg"),
    )
    .unwrap_or_else(|_| SEED000_LB1.to_string());
    let lb2 = lb1.replace(
        "server wp1 192.168.10.11:80 check weight 1",
        "server wp1 192.168.10.11:80 check weight 2",
    );
    // two namespaces as two hosts: the load balancer (192.168.10.21) and the web servers
    // (192.168.10.11 and .12), joined by a veth pair
    let ns = Netns::new("seedlb");
    let wp = Netns::new("seedwp");
    ns.ip(&[
        "link", "add", "v0", "type", "veth", "peer", "name", "v1", "netns", &wp.0,
    ]);
    ns.ip(&["addr", "add", "192.168.10.21/24", "dev", "v0"]);
    ns.ip(&["link", "set", "v0", "up"]);
    wp.ip(&["addr", "add", "192.168.10.11/24", "dev", "v1"]);
    wp.ip(&["addr", "add", "192.168.10.12/24", "dev", "v1"]);
    wp.ip(&["link", "set", "v1", "up"]);
    // WP1 and WP2 at the lab's addresses
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let conf = format!(
        "daemon off;\nmaster_process off;\nerror_log {d}/error.log;\npid {d}/nginx.pid;\nevents {{ worker_connections 64; }}\n\
         http {{ access_log off; client_body_temp_path {d}/b; proxy_temp_path {d}/p; fastcgi_temp_path {d}/f; uwsgi_temp_path {d}/u; scgi_temp_path {d}/s;\n\
         server {{ listen 192.168.10.11:80; location / {{ return 200 \"wp1\\n\"; }} }}\n\
         server {{ listen 192.168.10.12:80; location / {{ return 200 \"wp2\\n\"; }} }} }}\n"
    );
    std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
    let ng = wp
        .cmd("nginx")
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(dir.path().join("nginx.conf"))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _ng = Proc(ng);
    let run = |bin: &Path, cfg: &str| -> Vec<String> {
        let cfg_path = dir.path().join("haproxy.cfg");
        std::fs::write(&cfg_path, cfg).unwrap();
        // -db keeps the configured `daemon` in the foreground so the test owns the process
        let px = ns
            .cmd(bin.to_str().unwrap())
            .arg("-db")
            .arg("-f")
            .arg(&cfg_path)
            .stderr(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let _px = Proc(px);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = ns
                .cmd("curl")
                .args([
                    "-s",
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{http_code}",
                    "http://127.0.0.1/",
                ])
                .output()
                .unwrap();
            if out.stdout == b"200" {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not serve in the namespace",
                bin.display()
            );
            thread::sleep(Duration::from_millis(50));
        }
        // six requests on one keep-alive connection (after the probe above)
        let mut args = vec!["-s".to_string()];
        args.extend((0..6).map(|_| "http://127.0.0.1/".to_string()));
        let out = ns.cmd("curl").args(&args).output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    };
    for cfg in [&lb1, &lb2] {
        let theirs = run(Path::new("/usr/sbin/haproxy"), cfg);
        let ours = run(&rhaproxy_bin(), cfg);
        assert_eq!(ours, theirs, "seed 000 config:\n{cfg}");
        assert_eq!(ours.len(), 6);
    }
}

#[test]
fn proxy_http_monitor_uri_originalto_after_response() {
    let srv = TestServer::start("ts", Duration::ZERO);
    let port = free_port();
    let cfg = format!(
        "{}{DEFAULTS}frontend fe\n  bind 127.0.0.1:{port}\n  monitor-uri /healthz\n  option originalto\n  http-after-response set-header X-After done\n  default_backend be\nbackend be\n  server s 127.0.0.1:{}\n",
        global(1),
        srv.port
    );
    let _px = Proxy::rhaproxy(&cfg, &[port]);
    let r = get_once(port, "/healthz");
    assert_eq!((r.status, r.body.contains("Service ready.")), (200, true));
    assert_eq!(
        srv.heads.lock().unwrap().len(),
        0,
        "monitor-uri never reaches a server"
    );
    let r = get_once(port, "/x");
    assert_eq!(r.header("x-after"), Some("done"));
    assert!(
        srv.last_head().contains("x-original-to: 127.0.0.1"),
        "{}",
        srv.last_head()
    );
}

#[test]
fn proxy_http_differential_stick_tables() {
    if !require("haproxy") {
        return;
    }
    let ports: Vec<u16> = ["s1", "s2", "s3"].into_iter().map(echo_server).collect();
    let cfg = format!(
        "{}{DEFAULTS}frontend fe\n  bind 127.0.0.1:{{PORT}}\n  use_backend by_src if {{ path_beg /src }}\n  default_backend by_user\n\
         backend by_user\n  stick-table type string len 32 size 1k expire 10m\n  stick on req.hdr(x-user)\n  server s1 127.0.0.1:{}\n  server s2 127.0.0.1:{}\n  server s3 127.0.0.1:{}\n\
         backend by_src\n  stick-table type ip size 1k expire 10m\n  stick on src\n  server s1 127.0.0.1:{}\n  server s2 127.0.0.1:{}\n",
        global(1),
        ports[0], ports[1], ports[2], ports[0], ports[1]
    );
    let users = [
        "alice", "bob", "carol", "alice", "dave", "bob", "alice", "carol",
    ];
    let run = |port: u16, _: &Proxy| {
        let mut out: Vec<String> = users
            .iter()
            .map(|u| {
                observe(port, "GET", "/", &[("X-User", u)])
                    .1
                    .into_iter()
                    .find(|(n, _)| n == "x-server")
                    .map(|(_, v)| v)
                    .unwrap_or_default()
            })
            .collect();
        out.extend((0..4).map(|_| {
            observe(port, "GET", "/src", &[])
                .1
                .into_iter()
                .find(|(n, _)| n == "x-server")
                .map(|(_, v)| v)
                .unwrap_or_default()
        }));
        out
    };
    let (h, r) = differential(&cfg, run);
    assert_eq!(r, h, "(left: rhaproxy, right: haproxy)");
    // the same user always lands on the same server
    assert_eq!(h[0], h[3]);
    assert_eq!(h[0], h[6]);
}

#[test]
fn proxy_http_server_state_changes_are_logged() {
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let port = free_port();
    let dead = free_port();
    let cfg = format!(
        "global\n  nbthread 1\n  log 127.0.0.1:{} local1 notice\n{DEFAULTS}  log global\nlisten app\n  bind 127.0.0.1:{port}\n  server dead 127.0.0.1:{dead} check inter 100ms\n",
        udp.local_addr().unwrap().port()
    );
    let px = Proxy::rhaproxy(&cfg, &[port]);
    let mut buf = [0u8; 2048];
    let n = udp.recv(&mut buf).unwrap();
    let line = String::from_utf8_lossy(&buf[..n]).to_string();
    // local1 (17) * 8 + alert (1)
    assert!(line.starts_with("<137>"), "{line}");
    assert!(
        line.contains("Server app/dead is DOWN, reason: Layer4 connection problem"),
        "{line}"
    );
    let n = udp.recv(&mut buf).unwrap();
    // a `listen` section is a "proxy" in this message (as HAProxy)
    let line = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(
        line.contains("proxy app has no server available!"),
        "{line}"
    );
    assert!(px.stderr().contains("Server app/dead is DOWN"));
    // and the backend now answers 503
    assert_eq!(get_once(port, "/").status, 503);
}

#[test]
fn proxy_http_reuse_modes() {
    // (http-reuse, server connections after two clients in turn, one request each)
    for (mode, want) in [("never", 2usize), ("safe", 2), ("always", 1)] {
        let srv = TestServer::start("ts", Duration::ZERO);
        let port = free_port();
        let cfg = format!(
            "{}{DEFAULTS}listen app\n  bind 127.0.0.1:{port}\n  http-reuse {mode}\n  server s 127.0.0.1:{}\n",
            global(1),
            srv.port
        );
        let _px = Proxy::rhaproxy(&cfg, &[port]);
        for _ in 0..2 {
            assert_eq!(get_once(port, "/").status, 200);
            thread::sleep(Duration::from_millis(150));
        }
        assert_eq!(srv.conns.load(Ordering::SeqCst), want, "http-reuse {mode}");
    }
}

/// Runs `cfg` with stdout captured; returns the stdout text after `f` ran and logs settled.
fn with_stdout(bin: &Path, cfg: &str, port: u16, f: impl Fn(), lines: usize) -> String {
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("h.cfg");
    std::fs::write(&cfg_path, cfg).unwrap();
    let out_path = dir.path().join("out.txt");
    let child = Command::new(bin)
        .arg("-db")
        .arg("-f")
        .arg(&cfg_path)
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _p = Proc(child);
    wait_port(port);
    f();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let out = std::fs::read_to_string(&out_path).unwrap_or_default();
        if out.lines().count() >= lines || Instant::now() > deadline {
            return out;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn proxy_http_differential_httplog_fields() {
    if !require("haproxy") {
        return;
    }
    let a = echo_server("s1");
    let b = echo_server("s2");
    let dead = free_port();
    // fields compared: frontend, backend/server, status, termination state with cookie flags,
    // retries, request line
    let fields = |out: &str| -> Vec<String> {
        out.lines()
            .filter(|l| !l.contains("NOTICE"))
            .map(|l| {
                let w: Vec<&str> = l.split(' ').collect();
                let quoted = l.find('"').map_or("", |i| &l[i..]);
                let rc = w.get(10).and_then(|c| c.rsplit('/').next()).unwrap_or("");
                format!("{} {} {} {} rc={} {}", w[2], w[3], w[5], w[9], rc, quoted)
            })
            .collect()
    };
    let run = |bin: &Path| {
        let port = free_port();
        let cfg = format!(
            "{}defaults\n  mode http\n  log stdout format raw local0\n  option httplog\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n\
             frontend fe\n  bind 127.0.0.1:{port}\n  use_backend dead if {{ path /dead }}\n  http-request deny if {{ path /deny }}\n  default_backend be\n\
             backend be\n  cookie SRV insert indirect nocache\n  server s1 127.0.0.1:{a} cookie a\n  server s2 127.0.0.1:{b} cookie b\n\
             backend dead\n  retries 1\n  timeout connect 200ms\n  server d 127.0.0.1:{dead}\n",
            global(1)
        );
        let out = with_stdout(
            bin,
            &cfg,
            port,
            || {
                for (path, hdrs) in [
                    ("/", vec![]),
                    ("/", vec![("Cookie", "SRV=b")]),
                    ("/", vec![("Cookie", "SRV=zz")]),
                    ("/deny", vec![]),
                    ("/dead", vec![]),
                ] {
                    observe(port, "GET", path, &hdrs);
                }
                let mut c = Client::connect(port);
                c.send("BAD\r\n\r\n");
                let _ = c.read_response(false);
            },
            7,
        );
        fields(&out)
    };
    // the first line is the readiness probe (a connection closed without a request)
    let theirs = run(Path::new("haproxy"));
    let ours = run(&rhaproxy_bin());
    assert_eq!(ours, theirs, "(left: rhaproxy, right: haproxy)");
    assert_eq!(ours.len(), 7);
}

#[test]
fn proxy_tcp_mode_relays_and_balances() {
    let a = TestServer::start("a", Duration::ZERO);
    let b = TestServer::start("b", Duration::ZERO);
    let port = free_port();
    let cfg = format!(
        "{}defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\nlisten db\n  bind 127.0.0.1:{port}\n  server a 127.0.0.1:{}\n  server b 127.0.0.1:{}\n",
        global(1),
        a.port,
        b.port
    );
    let _px = Proxy::rhaproxy(&cfg, &[port]);
    // bytes pass untouched (header case kept), and connections alternate between servers
    let mut seen = Vec::new();
    for _ in 0..4 {
        let mut c = Client::connect(port);
        c.send("GET /raw HTTP/1.1\r\nHost: T\r\nX-Case: Kept\r\n\r\n");
        let r = c.read_response(false).unwrap();
        seen.push(r.body.lines().next().unwrap_or("").to_string());
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(sorted, ["a", "a", "b", "b"], "{seen:?}");
    let heads = a.heads.lock().unwrap().clone();
    assert!(
        heads.iter().all(|h| h.contains("Host: T\r\nX-Case: Kept")),
        "{heads:?}"
    );
}

#[test]
fn proxy_process_reload_with_sf_hands_over() {
    let old_srv = TestServer::start("old", Duration::ZERO);
    let new_srv = TestServer::start("new", Duration::ZERO);
    let port = free_port();
    let cfg = |srv: u16| {
        format!(
            "{}{DEFAULTS}listen app\n  bind 127.0.0.1:{port}\n  server s 127.0.0.1:{srv}\n",
            global(1)
        )
    };
    let mut old = Proxy::rhaproxy(&cfg(old_srv.port), &[port]);
    assert_eq!(get_once(port, "/").body, "old\n");
    // the classic reload: a new process with -sf <old pid>
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.cfg");
    std::fs::write(&path, cfg(new_srv.port)).unwrap();
    let child = Command::new(rhaproxy_bin())
        .arg("-db")
        .arg("-f")
        .arg(&path)
        .arg("-sf")
        .arg(old.pid().to_string())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _new = Proc(child);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(Some(st)) = old.proc.0.try_wait() {
            assert!(st.success(), "old process exits cleanly");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "old process did not stop after -sf"
        );
        thread::sleep(Duration::from_millis(20));
    }
    for _ in 0..3 {
        assert_eq!(get_once(port, "/").body, "new\n");
    }
}

/// A server that answers one request per connection and then closes it without saying so
/// (no `Connection: close`, as VTest's servers do): the kept server connection is dead on the
/// next request, which must go to a fresh connection instead of failing with a 502.
#[test]
fn proxy_http_kept_server_connection_closed_by_server_is_replaced() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let srv_port = l.local_addr().unwrap().port();
    let conns = Arc::new(AtomicUsize::new(0));
    let c2 = conns.clone();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            c2.fetch_add(1, Ordering::SeqCst);
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            while r.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                line.clear();
            }
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
            let _ = s.shutdown(Shutdown::Both);
        }
    });
    let port = free_port();
    let cfg = format!("{}{DEFAULTS}frontend fe\n  bind 127.0.0.1:{port}\n  default_backend be\nbackend be\n  server s1 127.0.0.1:{srv_port}\n", global(1));
    let _px = Proxy::rhaproxy(&cfg, &[port]);
    let mut c = Client::connect(port);
    for i in 0..3 {
        let r = c.get(&format!("/r{i}"));
        assert_eq!(r.status, 200, "request {i}");
    }
    assert_eq!(
        conns.load(Ordering::SeqCst),
        3,
        "one server connection per request"
    );
}

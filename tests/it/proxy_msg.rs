//! HTTP/1 message framing and payload buffering, differential against haproxy: the same raw
//! request goes through both proxies to an in-test backend that reports what it received.
//! Covers Transfer-Encoding judgement (400/422/502, T-E + C-L, `TE: trailers`), a request
//! line with several spaces, `http-request wait-for-body`, `option http-buffer-request`,
//! `req.body` and `json_query`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{require, rhaproxy_bin, ThreadServer};

struct Proc(Child, tempfile::TempDir);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn start(bin: &Path, cfg: &str, port: u16) -> Proc {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("haproxy.cfg");
    std::fs::write(&path, cfg).unwrap();
    let child = Command::new(bin)
        .arg("-db")
        .arg("-f")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "proxy did not listen"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Proc(child, dir)
}

/// Reads one HTTP/1 message head from `s` (up to the blank line) plus any bytes after it.
fn read_head(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<usize> {
    let mut tmp = [0u8; 4096];
    loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return Some(p + 4);
        }
        match s.read(&mut tmp) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
    }
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Reads the payload after a head: Content-Length or chunked (de-chunked).
fn read_body(s: &mut TcpStream, head: &str, mut rest: Vec<u8>) -> Vec<u8> {
    let mut tmp = [0u8; 4096];
    if header(head, "transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        let mut out = Vec::new();
        loop {
            while !rest.windows(2).any(|w| w == b"\r\n") {
                match s.read(&mut tmp) {
                    Ok(0) | Err(_) => return out,
                    Ok(n) => rest.extend_from_slice(&tmp[..n]),
                }
            }
            let eol = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let line = String::from_utf8_lossy(&rest[..eol]).to_string();
            let size =
                usize::from_str_radix(line.split(';').next().unwrap().trim(), 16).unwrap_or(0);
            while rest.len() < eol + 2 + size + 2 {
                match s.read(&mut tmp) {
                    Ok(0) | Err(_) => return out,
                    Ok(n) => rest.extend_from_slice(&tmp[..n]),
                }
            }
            out.extend_from_slice(&rest[eol + 2..eol + 2 + size]);
            rest.drain(..eol + 2 + size + 2);
            if size == 0 {
                return out;
            }
        }
    }
    let len: usize = header(head, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while rest.len() < len {
        match s.read(&mut tmp) {
            Ok(0) | Err(_) => break,
            Ok(n) => rest.extend_from_slice(&tmp[..n]),
        }
    }
    rest.truncate(len);
    rest
}

/// The backend: reports the framing it saw in `x-seen-*` headers; paths under `/te-` answer
/// with that Transfer-Encoding (a bad one for the proxy to refuse).
fn backend(mut s: TcpStream, _name: &str) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    loop {
        let mut buf = Vec::new();
        let Some(end) = read_head(&mut s, &mut buf) else {
            return;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_string();
        let body = read_body(&mut s, &head, buf[end..].to_vec());
        let path = head.split(' ').nth(1).unwrap_or("").to_string();
        let resp = if let Some(te) = path.strip_prefix("/te-") {
            format!(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: {}\r\n\r\n0\r\n\r\n",
                te.replace("%20", " ")
            )
        } else {
            format!(
                "HTTP/1.1 200 OK\r\nx-seen-te: {}\r\nx-seen-cl: {}\r\nx-seen-tehdr: {}\r\nx-seen-body: {}\r\ncontent-length: 0\r\n\r\n",
                header(&head, "transfer-encoding").unwrap_or("-"),
                header(&head, "content-length").unwrap_or("-"),
                header(&head, "te").unwrap_or("-"),
                body.len()
            )
        };
        if s.write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}

/// What a client saw for one raw request: status, selected headers, whether the proxy closed.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    status: String,
    headers: Vec<(String, String)>,
    closed: bool,
}

const REPORTED: &[&str] = &[
    "x-seen-te",
    "x-seen-cl",
    "x-seen-tehdr",
    "x-seen-body",
    "x-q",
    "connection",
];

/// Sends `parts` (with `pause` between them), reads one response.
fn exchange(port: u16, parts: &[&[u8]], pause: Duration) -> Seen {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(8))).unwrap();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(pause);
        }
        s.write_all(p).unwrap();
    }
    let mut buf = Vec::new();
    let Some(end) = read_head(&mut s, &mut buf) else {
        return Seen {
            status: "none".into(),
            headers: vec![],
            closed: true,
        };
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let _ = read_body(&mut s, &head, buf[end..].to_vec());
    let status = head.split(' ').nth(1).unwrap_or("").to_string();
    let headers = REPORTED
        .iter()
        .filter_map(|n| header(&head, n).map(|v| (n.to_string(), v.to_ascii_lowercase())))
        .collect();
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let closed = matches!(s.read(&mut [0u8; 64]), Ok(0));
    Seen {
        status,
        headers,
        closed,
    }
}

fn config(port: u16, backend_port: u16, extra: &str) -> String {
    format!(
        "defaults\n  mode http\n  timeout connect 5s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind 127.0.0.1:{port}\n{extra}  default_backend be\n\
         backend be\n  server s1 127.0.0.1:{backend_port}\n"
    )
}

/// Runs every row through haproxy (when installed) and rhaproxy; returns rhaproxy's answers
/// after checking they equal haproxy's.
fn differential(extra: &str, rows: &[(&str, Vec<Vec<u8>>)], pause: Duration) -> Vec<Seen> {
    let be = ThreadServer::start("msg", backend);
    let run = |bin: &Path| {
        let port = free_port();
        let _p = start(bin, &config(port, be.port, extra), port);
        rows.iter()
            .map(|(_, parts)| {
                let parts: Vec<&[u8]> = parts.iter().map(|p| &p[..]).collect();
                exchange(port, &parts, pause)
            })
            .collect::<Vec<_>>()
    };
    let ours = run(&rhaproxy_bin());
    if require("haproxy") {
        let theirs = run(Path::new("haproxy"));
        // Known difference: after a 502 or a local reply HAProxy may keep the client
        // connection; rhaproxy closes it. Closing is asserted per row where it is required.
        // When rhaproxy closes where haproxy keeps the connection, it also says so with
        // `connection: close`; that header follows from the difference and is left out.
        for ((name, _), (t, o)) in rows.iter().zip(theirs.iter().zip(&ours)) {
            let ours_headers: Vec<(String, String)> = o
                .headers
                .iter()
                .filter(|(n, v)| !(o.closed && !t.closed && n == "connection" && v == "close"))
                .cloned()
                .collect();
            assert_eq!(
                (&t.status, &t.headers),
                (&o.status, &ours_headers),
                "row {name}: haproxy vs rhaproxy"
            );
        }
    }
    ours
}

fn st(s: &Seen) -> &str {
    &s.status
}

fn hdr<'a>(s: &'a Seen, n: &str) -> Option<&'a str> {
    s.headers
        .iter()
        .find(|(k, _)| k == n)
        .map(|(_, v)| v.as_str())
}

#[test]
fn proxy_msg_transfer_encoding_table() {
    let b = |s: &str| vec![s.as_bytes().to_vec()];
    let rows: Vec<(&str, Vec<Vec<u8>>)> = vec![
        ("te+cl", b("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 31\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n")),
        ("chunked twice", b("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n")),
        ("gzip then chunked", b("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")),
        ("chunked then gzip", b("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n")),
        ("gzip only", b("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nContent-Length: 0\r\n\r\n")),
        ("te trailers kept", b("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTE: trailers, gzip\r\n\r\n3\r\nabc\r\n0\r\n\r\n")),
        ("te gzip dropped", b("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTE: gzip\r\n\r\n0\r\n\r\n")),
        ("te with q dropped", b("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTE: trailers;q=0.5\r\n\r\n0\r\n\r\n")),
        ("two spaces", b("POST /x  HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok")),
        ("response te gzip", b("GET /te-gzip HTTP/1.1\r\nHost: a\r\n\r\n")),
        ("response chunked twice", b("GET /te-chunked,%20chunked HTTP/1.1\r\nHost: a\r\n\r\n")),
    ];
    let seen = differential("", &rows, Duration::ZERO);
    let want_status = [
        "200", "400", "422", "400", "400", "200", "200", "200", "200", "502", "502",
    ];
    for ((name, _), (s, want)) in rows.iter().zip(seen.iter().zip(want_status)) {
        assert_eq!(st(s), want, "row {name}: {s:?}");
    }
    // T-E + C-L: C-L dropped towards the server, the client connection closed afterwards
    assert_eq!(hdr(&seen[0], "x-seen-te"), Some("chunked"));
    assert_eq!(hdr(&seen[0], "x-seen-cl"), Some("-"));
    assert_eq!(hdr(&seen[0], "connection"), Some("close"));
    assert!(seen[0].closed);
    assert_eq!(hdr(&seen[5], "x-seen-tehdr"), Some("trailers"));
    assert_eq!(hdr(&seen[5], "x-seen-body"), Some("3"));
    assert_eq!(hdr(&seen[6], "x-seen-tehdr"), Some("-"));
    assert_eq!(hdr(&seen[7], "x-seen-tehdr"), Some("-"));
    assert_eq!(hdr(&seen[8], "x-seen-body"), Some("2"));
}

#[test]
fn proxy_msg_wait_for_body_and_req_body() {
    let extra = "  http-request wait-for-body time 3s at-least 1k if { path /w }\n\
                 http-request wait-for-body time 300ms if { path /t }\n\
                 http-request set-var(txn.q) req.body,json_query('$.a.b[1]') if { path /w }\n\
                 http-request deny if { path /w } { req.body -m sub forbidden }\n\
                 http-response set-header x-q %[var(txn.q)]\n";
    let rows: Vec<(&str, Vec<Vec<u8>>)> = vec![
        // body sent after a pause: the rules still see it
        (
            "late body",
            vec![
                b"POST /w HTTP/1.1\r\nHost: a\r\nContent-Length: 22\r\n\r\n".to_vec(),
                br#"{"a":{"b":["x","yz"]}}"#.to_vec(),
            ],
        ),
        (
            "chunked late body",
            vec![
                b"POST /w HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(),
                b"5\r\n{\"a\":\r\nf\r\n{\"b\":[1,\"ok\"]}}\r\n0\r\n\r\n".to_vec(),
            ],
        ),
        (
            "deny on body",
            vec![
                b"POST /w HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\n".to_vec(),
                b"forbidden".to_vec(),
            ],
        ),
        // incomplete payload: 408 when the wait times out
        (
            "timeout",
            vec![b"POST /t HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc".to_vec()],
        ),
    ];
    let seen = differential(extra, &rows, Duration::from_millis(100));
    assert_eq!(st(&seen[0]), "200");
    assert_eq!(hdr(&seen[0], "x-q"), Some("yz"));
    assert_eq!(hdr(&seen[0], "x-seen-body"), Some("22"));
    assert_eq!(st(&seen[1]), "200");
    assert_eq!(hdr(&seen[1], "x-q"), Some("ok"));
    assert_eq!(st(&seen[2]), "403");
    assert_eq!(st(&seen[3]), "408");
}

#[test]
fn proxy_msg_http_buffer_request_with_json_query_int() {
    let extra = "  option http-buffer-request\n\
                 http-request set-var(txn.q) req.body,json_query('$.n','int'),add(1)\n\
                 http-response set-header x-q %[var(txn.q)]\n";
    let rows: Vec<(&str, Vec<Vec<u8>>)> = vec![
        (
            "int",
            vec![
                b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 8\r\n\r\n".to_vec(),
                br#"{"n":41}"#.to_vec(),
            ],
        ),
        (
            "not a number",
            vec![b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\n{\"n\":\"x\"}".to_vec()],
        ),
    ];
    let seen = differential(extra, &rows, Duration::from_millis(100));
    assert_eq!(st(&seen[0]), "200");
    assert_eq!(hdr(&seen[0], "x-q"), Some("42"));
    assert_eq!(st(&seen[1]), "200");
    // "x" casts to 0 for add(1), as in HAProxy
    assert_eq!(hdr(&seen[1], "x-q"), Some("1"));
}

/// A backend that reads a request and never answers (holds the connection 3 s).
fn silent_backend(mut s: TcpStream, _name: &str) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
    let mut buf = Vec::new();
    let _ = read_head(&mut s, &mut buf);
    std::thread::sleep(Duration::from_secs(3));
}

/// `option abortonclose`: a client that half-closes while queued is logged `CQ--`, one that
/// closes while waiting for the response head `CH--` with status 400, as haproxy logs them.
#[test]
fn proxy_msg_abortonclose_log_states() {
    let be = ThreadServer::start("silent", silent_backend);
    let run = |bin: &Path| -> Vec<(String, String)> {
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let cfg = format!(
            "defaults\n  mode http\n  option abortonclose\n  timeout connect 5s\n  timeout client 5s\n  timeout server 5s\n  timeout queue 5s\n\
             frontend fe\n  bind 127.0.0.1:{port}\n  log stdout format raw local0 info\n  option httplog\n  default_backend be\n\
             backend be\n  server s1 127.0.0.1:{} maxconn 1\n",
            be.port
        );
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, cfg).unwrap();
        let out_path = dir.path().join("stdout.txt");
        let child = Command::new(bin)
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let _p = Proc(child, tempfile::tempdir().unwrap());
        let t0 = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(t0.elapsed() < Duration::from_secs(10));
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut a = TcpStream::connect(("127.0.0.1", port)).unwrap();
        a.write_all(b"GET /held HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        let mut q = TcpStream::connect(("127.0.0.1", port)).unwrap();
        q.write_all(b"GET /queued HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        q.shutdown(std::net::Shutdown::Write).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        a.shutdown(std::net::Shutdown::Write).unwrap();
        let t0 = Instant::now();
        loop {
            let text = std::fs::read_to_string(&out_path).unwrap_or_default();
            let lines: Vec<(String, String)> = ["/queued", "/held"]
                .iter()
                .filter_map(|p| {
                    let l = text.lines().find(|l| l.contains(&format!("GET {p} ")))?;
                    // "... STATUS BYTES - - TERM ..." : the fields after the timers
                    let w: Vec<&str> = l.split_whitespace().collect();
                    let i = w.iter().position(|x| x.matches('/').count() == 4)?;
                    Some((w.get(i + 1)?.to_string(), w.get(i + 5)?.to_string()))
                })
                .collect();
            if lines.len() == 2 || t0.elapsed() > Duration::from_secs(8) {
                drop(a);
                drop(q);
                return lines;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let ours = run(&rhaproxy_bin());
    assert_eq!(
        ours,
        vec![
            ("-1".to_string(), "CQ--".to_string()),
            ("400".to_string(), "CH--".to_string())
        ]
    );
    if require("haproxy") {
        assert_eq!(run(Path::new("haproxy")), ours, "haproxy vs rhaproxy");
    }
}

/// A backend answering its own name as the body.
fn name_backend(mut s: TcpStream, name: &str) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    loop {
        let mut buf = Vec::new();
        if read_head(&mut s, &mut buf).is_none() {
            return;
        }
        let resp = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{name}",
            name.len()
        );
        if s.write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}

/// A `table` of a `peers` section shared by two backends whose servers are listed in a
/// different order: entries name their server (`srvkey name`), so both backends send a key
/// to the same server, as haproxy does.
#[test]
fn proxy_msg_peers_table_shared_by_backends_routes_by_server_name() {
    let a = ThreadServer::start("a", name_backend);
    let b = ThreadServer::start("b", name_backend);
    let run = |bin: &Path| -> Vec<String> {
        let port = free_port();
        let peer_port = free_port();
        let dir = tempfile::tempdir().unwrap();
        let cfg = format!(
            "defaults\n  mode http\n  timeout connect 5s\n  timeout client 5s\n  timeout server 5s\n\
             peers mypeers\n  peer local 127.0.0.1:{peer_port}\n  table t type string size 1k\n\
             frontend fe\n  bind 127.0.0.1:{port}\n  use_backend be2 if {{ path_beg /be2 }}\n  default_backend be1\n\
             backend be1\n  balance roundrobin\n  stick on urlp(c) table mypeers/t\n  server a 127.0.0.1:{pa}\n  server b 127.0.0.1:{pb}\n\
             backend be2\n  balance roundrobin\n  stick on urlp(c) table mypeers/t\n  server b 127.0.0.1:{pb}\n  server a 127.0.0.1:{pa}\n",
            pa = a.port,
            pb = b.port
        );
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, cfg).unwrap();
        let child = Command::new(bin)
            .args(["-db", "-L", "local", "-f"])
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let _p = Proc(child, dir);
        let t0 = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "proxy did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        ["/be1?c=x", "/be2?c=x", "/be1?c=y", "/be2?c=y", "/be2?c=x"]
            .iter()
            .map(|p| {
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                s.write_all(
                    format!("GET {p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
                )
                .unwrap();
                let mut out = String::new();
                let _ = s.read_to_string(&mut out);
                out.rsplit("\r\n\r\n").next().unwrap_or("").to_string()
            })
            .collect()
    };
    let ours = run(&rhaproxy_bin());
    assert_eq!(ours, ["a", "a", "b", "b", "a"]);
    if require("haproxy") {
        assert_eq!(run(Path::new("haproxy")), ours, "haproxy vs rhaproxy");
    }
}

/// A FIX message (`|` for SOH) completed with BodyLength and CheckSum.
fn fix_msg(body: &str) -> Vec<u8> {
    let body = body.replace('|', "\x01");
    let mut m = format!("8=FIX.4.4\x019={}\x01{body}", body.len()).into_bytes();
    let sum = m.iter().fold(0u8, |a, &c| a.wrapping_add(c));
    m.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    m
}

/// Answers a FIX logon with a valid logon, or with garbage when the target is `BADREPLY`.
fn fix_backend(mut s: TcpStream, _name: &str) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = Vec::new();
    let mut tmp = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\x0110=") || buf.last() != Some(&1) {
        match s.read(&mut tmp) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
    }
    let reply = if buf.windows(12).any(|w| w == b"56=BADREPLY\x01") {
        b"not a FIX message at all, sorry".to_vec()
    } else {
        fix_msg("35=A|49=EXECUTOR|56=CLIENT1|98=0|108=30|")
    };
    let _ = s.write_all(&reply);
}

/// mode tcp content inspection: `req.payload`/`res.payload`, `fix_is_valid`, `fix_tag_value`,
/// `tcp-request content set-var`, `tcp-response content reject`; the bytes each client gets
/// back are compared with haproxy's.
#[test]
fn proxy_msg_tcp_content_inspection_with_fix() {
    let be = ThreadServer::start("fix", fix_backend);
    let good = fix_msg("35=A|49=CLIENT1|56=EXECUTOR|98=0|108=30|");
    let mut bad_sum = good.clone();
    let n = bad_sum.len();
    bad_sum[n - 2] = if bad_sum[n - 2] == b'9' { b'0' } else { b'9' };
    let rows: Vec<(&str, Vec<Vec<u8>>)> = vec![
        (
            "valid, in two parts",
            vec![good[..30].to_vec(), good[30..].to_vec()],
        ),
        (
            "other sender",
            vec![fix_msg("35=A|49=CLIENT2|56=EXECUTOR|98=0|")],
        ),
        ("bad checksum", vec![bad_sum]),
        (
            "invalid reply",
            vec![fix_msg("35=A|49=CLIENT1|56=BADREPLY|98=0|")],
        ),
    ];
    let run = |bin: &Path| -> Vec<usize> {
        let port = free_port();
        let cfg = format!(
            "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 5s\n  timeout server 5s\n\
             frontend fe\n  bind 127.0.0.1:{port}\n  tcp-request inspect-delay 3s\n\
               tcp-request content reject unless {{ req.payload(0,0),fix_is_valid }}\n\
               tcp-request content set-var(req.sender) req.payload(0,0),fix_tag_value(SenderCompID)\n\
               tcp-request content reject unless {{ var(req.sender) -m str CLIENT1 }}\n\
               default_backend be\n\
             backend be\n  tcp-response inspect-delay 3s\n\
               tcp-response content reject unless {{ res.payload(0,0),fix_is_valid }}\n\
               server s 127.0.0.1:{}\n",
            be.port
        );
        let _p = start(bin, &cfg, port);
        rows.iter()
            .map(|(_, parts)| {
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(8))).unwrap();
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    s.write_all(p).unwrap();
                }
                let mut out = Vec::new();
                let _ = s.read_to_end(&mut out);
                out.len()
            })
            .collect()
    };
    let ours = run(&rhaproxy_bin());
    let reply = fix_msg("35=A|49=EXECUTOR|56=CLIENT1|98=0|108=30|").len();
    assert_eq!(ours, vec![reply, 0, 0, 0]);
    if require("haproxy") {
        assert_eq!(run(Path::new("haproxy")), ours, "haproxy vs rhaproxy");
    }
}

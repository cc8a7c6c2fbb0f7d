//! HTTP replies and error pages through the real binary, each row run against rhaproxy and
//! (when installed) real haproxy with the same configuration and the same expectations:
//! `http-request deny|return` reply arguments (errorfile, errorfiles, default-errorfiles,
//! string, lf-string, lf-file, hdr), `http-error`, `errorfiles`, `http-after-response` on
//! local replies, `fc_pp_unique_id`, `set-src`/`set-dst` with `option forwardfor/originalto
//! except`, `http-request capture` + `capture.req.hdr`, `map_regm` back-references and
//! `redirect ... ignore-empty`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::util::{have, rhaproxy_bin};

/// Kills and reaps a child process on drop.
struct Proc(Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn wait_port(port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A parsed answer: None when the proxy closed without answering.
#[derive(Debug, Clone, PartialEq)]
struct Answer {
    /// Everything received.
    raw: Vec<u8>,
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `raw` and reads until the proxy closes (requests carry `Connection: close`).
fn exchange(port: u16, raw: &[u8]) -> Option<Answer> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    s.write_all(raw).expect("send");
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    if buf.is_empty() {
        return None;
    }
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            let (n, v) = l.split_once(':')?;
            Some((n.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    Some(Answer {
        raw: buf.clone(),
        status,
        headers,
        body: buf[end..].to_vec(),
    })
}

/// What a row expects.
#[derive(Clone, Copy)]
enum Want {
    /// Status, header expectations (name, Some(value) / None = absent), body if checked.
    Reply(
        u16,
        &'static [(&'static str, Option<&'static str>)],
        Option<&'static str>,
    ),
    /// The connection closes without any answer.
    Close,
    /// Several responses on the one connection, with these statuses in order.
    Statuses(&'static [u16]),
}

struct Case {
    name: &'static str,
    /// Proxy sections after `global`/`defaults`; `{P}` = the listening port, `{P2}` = a second
    /// port, `{DIR}` = a directory with the error files below.
    config: &'static str,
    request: &'static [u8],
    want: Want,
    /// rhaproxy only (the row needs something the installed haproxy does differently).
    ours_only: bool,
}

const GET: &[u8] = b"GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";

const CASES: &[Case] = &[
    Case {
        name: "deny uses the built-in 403 page",
        config: "frontend f\n  bind 127.0.0.1:{P}\n  http-request deny\n",
        request: GET,
        want: Want::Reply(403, &[("content-type", Some("text/html"))], None),
        ours_only: false,
    },
    Case {
        name: "deny deny_status uses the proxy's errorfile",
        config: "frontend f\n  bind 127.0.0.1:{P}\n  errorfile 400 {DIR}/400.http\n  http-request deny deny_status 400\n",
        request: GET,
        want: Want::Reply(400, &[("x-err", Some("file-400"))], Some("bad\n")),
        ours_only: false,
    },
    Case {
        name: "deny errorfiles takes the http-errors section's page",
        config: "http-errors e1\n  errorfile 404 {DIR}/404.http\nfrontend f\n  bind 127.0.0.1:{P}\n  errorfile 404 {DIR}/400.http\n  http-request deny deny_status 404 errorfiles e1\n",
        request: GET,
        want: Want::Reply(404, &[("x-err", Some("e1-404"))], None),
        ours_only: false,
    },
    Case {
        name: "errorfiles imports a section into the proxy",
        config: "http-errors e1\n  errorfile 404 {DIR}/404.http\nfrontend f\n  bind 127.0.0.1:{P}\n  errorfiles e1 404\n  http-request deny deny_status 404\n",
        request: GET,
        want: Want::Reply(404, &[("x-err", Some("e1-404"))], None),
        ours_only: false,
    },
    Case {
        name: "deny with string, content-type and a log-format hdr",
        config: "frontend f\n  bind 127.0.0.1:{P}\n  http-request deny status 500 hdr x-info \"path=%[path]\" content-type text/plain string \"Internal Error\"\n",
        request: GET,
        want: Want::Reply(
            500,
            &[
                ("x-info", Some("path=/x")),
                ("content-type", Some("text/plain")),
                ("content-length", Some("14")),
            ],
            Some("Internal Error"),
        ),
        ours_only: false,
    },
    Case {
        name: "deny with lf-file",
        config: "frontend f\n  bind 127.0.0.1:{P}\n  http-request deny status 403 content-type text/plain lf-file {DIR}/lf.txt\n",
        request: GET,
        want: Want::Reply(403, &[("content-type", Some("text/plain"))], Some("path /x denied\n")),
        ours_only: false,
    },
    Case {
        name: "deny errorfile /dev/null closes without answering",
        config: "frontend f\n  bind 127.0.0.1:{P}\n  http-request deny deny_status 500 errorfile /dev/null\n",
        request: GET,
        want: Want::Close,
        ours_only: false,
    },
    Case {
        name: "http-error without payload gives an empty reply",
        config: "frontend f\n  bind 127.0.0.1:{P}\n  errorfile 400 {DIR}/400.http\n  http-error status 400\n  http-request deny deny_status 400\n",
        request: GET,
        want: Want::Reply(400, &[("x-err", None), ("content-length", Some("0"))], Some("")),
        ours_only: false,
    },
    Case {
        name: "http-error lf-string page used by return default-errorfiles",
        config: "frontend f\n  bind 127.0.0.1:{P}\n  http-error status 200 content-type text/plain hdr x-path \"path=%[path]\" lf-string \"at %[path]\"\n  http-request return status 200 default-errorfiles\n",
        request: GET,
        want: Want::Reply(200, &[("x-path", Some("path=/x")), ("content-type", Some("text/plain"))], Some("at /x")),
        ours_only: false,
    },
    Case {
        name: "http-error default-errorfiles resets an errorfile",
        config: "frontend f\n  bind 127.0.0.1:{P}\n  errorfile 403 {DIR}/400.http\n  http-error status 403 default-errorfiles\n  http-request deny\n",
        request: GET,
        want: Want::Reply(403, &[("x-err", None), ("content-type", Some("text/html"))], None),
        ours_only: false,
    },
    Case {
        name: "return errorfile sends the file",
        config: "frontend f\n  bind 127.0.0.1:{P}\n  http-request return status 400 errorfile {DIR}/400.http\n",
        request: GET,
        want: Want::Reply(400, &[("x-err", Some("file-400"))], Some("bad\n")),
        ours_only: false,
    },
    Case {
        name: "return leaves out hdr values that render empty",
        config: "frontend f\n  bind 127.0.0.1:{P}\n  http-request return status 200 hdr x-none \"%[req.hdr(x-absent)]\" hdr x-some \"%[req.hdr(host)]\"\n",
        request: GET,
        want: Want::Reply(200, &[("x-none", None), ("x-some", Some("t"))], Some("")),
        ours_only: false,
    },
    Case {
        name: "http-after-response runs on deny and return replies",
        config: "frontend f\n  bind 127.0.0.1:{P}\n  http-request deny if { path /d }\n  http-request return status 200 content-type text/plain string ok\n  http-after-response set-header x-after \"%[status]\"\n  http-after-response del-header content-type if { status 200 }\n",
        request: GET,
        want: Want::Reply(200, &[("x-after", Some("200")), ("content-type", None)], Some("ok")),
        ours_only: false,
    },
    Case {
        name: "http-after-response set-status on a deny",
        config: "frontend f\n  bind 127.0.0.1:{P}\n  http-request deny\n  http-after-response set-status 418\n  http-after-response set-header x-seen yes\n",
        request: GET,
        want: Want::Reply(418, &[("x-seen", Some("yes"))], None),
        ours_only: false,
    },
    Case {
        name: "fc_pp_unique_id reads the PROXY v2 unique id TLV",
        config: "frontend f\n  bind 127.0.0.1:{P} accept-proxy\n  http-request return status 200 hdr x-uid \"%[fc_pp_unique_id,hex]\" hdr x-src \"%[src]\"\n",
        request: b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x14\x7f\x00\x00\x09\x7f\x00\x00\x01\x00\x2a\x05\x39\x05\x00\x05\x31\x32\x33\x34\x35GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        want: Want::Reply(200, &[("x-uid", Some("3132333435")), ("x-src", Some("127.0.0.9"))], None),
        ours_only: false,
    },
    Case {
        name: "set-src/set-dst feed forwardfor/originalto (address kept)",
        config: "frontend f\n  bind 127.0.0.1:{P}\n  http-request set-src hdr(x-src)\n  http-request set-dst hdr(x-dst)\n  default_backend b\nbackend b\n  option forwardfor except 10.0.0.0/25\n  option originalto\n  server s 127.0.0.1:{P2}\nfrontend echo\n  bind 127.0.0.1:{P2}\n  http-request return status 200 hdr x-ff \"%[req.hdr(x-forwarded-for)]\" hdr x-ot \"%[req.hdr(x-original-to)]\"\n",
        request: b"GET / HTTP/1.1\r\nHost: t\r\nx-src: 10.0.0.200\r\nx-dst: 2001:db8::5\r\nConnection: close\r\n\r\n",
        want: Want::Reply(200, &[("x-ff", Some("10.0.0.200")), ("x-ot", Some("2001:db8::5"))], None),
        ours_only: false,
    },
    Case {
        name: "forwardfor except matches the address set-src put",
        config: "frontend f\n  bind 127.0.0.1:{P}\n  http-request set-src hdr(x-src)\n  default_backend b\nbackend b\n  option forwardfor except 10.0.0.0/25\n  server s 127.0.0.1:{P2}\nfrontend echo\n  bind 127.0.0.1:{P2}\n  http-request return status 200 hdr x-ff \"%[req.hdr(x-forwarded-for)]\"\n",
        request: b"GET / HTTP/1.1\r\nHost: t\r\nx-src: 10.0.0.1\r\nConnection: close\r\n\r\n",
        want: Want::Reply(200, &[("x-ff", None)], None),
        ours_only: false,
    },
    Case {
        name: "http-request capture slots and capture.req.hdr",
        config: "frontend f\n  bind 127.0.0.1:{P}\n  declare capture request len 32\n  http-request capture req.hdr(host) len 3\n  http-request capture req.hdr(x-a) id 0\n  http-request return status 200 hdr x-c0 \"%[capture.req.hdr(0)]\" hdr x-c1 \"%[capture.req.hdr(1)]\" hdr x-m \"%[capture.req.method]\"\n",
        request: b"GET / HTTP/1.1\r\nHost: v-test\r\nx-a: alpha\r\nConnection: close\r\n\r\n",
        want: Want::Reply(200, &[("x-c0", Some("alpha")), ("x-c1", Some("v-t")), ("x-m", Some("GET"))], None),
        ours_only: false,
    },
    Case {
        name: "map_regm expands back-references",
        config: "frontend f\n  bind 127.0.0.1:{P}\n  http-request return status 200 hdr x-m \"%[req.hdr(host),map_regm({DIR}/regm.map,none)]\"\n",
        request: b"GET / HTTP/1.1\r\nHost: www.example.org\r\nConnection: close\r\n\r\n",
        want: Want::Reply(200, &[("x-m", Some("www.example_AND_org"))], None),
        ours_only: false,
    },
    Case {
        name: "redirect ignore-empty skips the rule",
        config: "frontend f\n  bind 127.0.0.1:{P}\n  http-request redirect location \"%[req.hdr(x-to)]\" ignore-empty\n  http-request return status 200 hdr x-r passed\n",
        request: GET,
        want: Want::Reply(200, &[("x-r", Some("passed")), ("location", None)], None),
        ours_only: false,
    },
    Case {
        name: "http-restrict-req-hdr-names reject answers 403",
        config: "frontend f\n  bind 127.0.0.1:{P}\n  option http-restrict-req-hdr-names reject\n  http-request set-header x-seen 1\n  default_backend b\nbackend b\n  server s 127.0.0.1:{P2}\nfrontend echo\n  bind 127.0.0.1:{P2}\n  http-request return status 200\n",
        request: b"GET / HTTP/1.1\r\nHost: t\r\nX-my_hdr: on\r\nConnection: close\r\n\r\n",
        want: Want::Reply(403, &[], None),
        ours_only: false,
    },
    Case {
        name: "http-restrict-req-hdr-names delete drops the header before the backend",
        config: "frontend f\n  bind 127.0.0.1:{P}\n  default_backend b\nbackend b\n  option http-restrict-req-hdr-names delete\n  server s 127.0.0.1:{P2}\nfrontend echo\n  bind 127.0.0.1:{P2}\n  http-request return status 200 hdr x-got \"%[req.hdr(x-my_hdr)]\" hdr x-ok \"%[req.hdr(x-ok)]\"\n",
        request: b"GET / HTTP/1.1\r\nHost: t\r\nX-my_hdr: on\r\nX-ok: yes\r\nConnection: close\r\n\r\n",
        want: Want::Reply(200, &[("x-got", None), ("x-ok", Some("yes"))], None),
        ours_only: false,
    },
    Case {
        name: "a deny with the built-in page keeps the connection",
        config: "frontend f\n  bind 127.0.0.1:{P}\n  http-request deny if { path /d }\n  http-request return status 200 hdr x-second yes\n",
        request: b"GET /d HTTP/1.1\r\nHost: t\r\n\r\nGET /ok HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        want: Want::Statuses(&[403, 200]),
        ours_only: false,
    },
    Case {
        name: "normalize-uri path-strip-dotdot, merge-slashes and query-sort-by-name",
        config: "global\n  expose-experimental-directives\nfrontend f\n  bind 127.0.0.1:{P}\n  http-request normalize-uri path-merge-slashes\n  http-request normalize-uri path-strip-dotdot\n  http-request normalize-uri query-sort-by-name\n  http-request return status 200 hdr x-url \"%[url]\"\n",
        request: b"GET //a//b/../../../c/?z=1&a=2&a=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        want: Want::Reply(200, &[("x-url", Some("/../c/?a=2&a=1&z=1"))], None),
        ours_only: false,
    },
    Case {
        name: "normalize-uri percent-decode-unreserved and percent-to-uppercase",
        config: "global\n  expose-experimental-directives\nfrontend f\n  bind 127.0.0.1:{P}\n  http-request normalize-uri percent-decode-unreserved\n  http-request normalize-uri percent-to-uppercase\n  http-request return status 200 hdr x-url \"%[url]\"\n",
        request: b"GET /%61dmin/%3f%zz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        want: Want::Reply(200, &[("x-url", Some("/admin/%3F%zz"))], None),
        ours_only: false,
    },
    Case {
        name: "normalize-uri percent-to-uppercase strict rejects a bad escape with 400",
        config: "global\n  expose-experimental-directives\nfrontend f\n  bind 127.0.0.1:{P}\n  http-request normalize-uri percent-to-uppercase strict\n  http-request return status 200\n",
        request: b"GET /%zz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        want: Want::Reply(400, &[], None),
        ours_only: false,
    },
    Case {
        name: "a backslash in converter arguments stays unless it escapes a quote, space or backslash",
        config: "frontend f\n  bind 127.0.0.1:{P}\n  http-request return status 200 hdr x-a %[req.hdr(host),regsub(:\\d+$,)] hdr x-b %[req.hdr(host),regsub(\\.,\\ )]\n",
        request: b"GET / HTTP/1.1\r\nHost: example.org:8443\r\nConnection: close\r\n\r\n",
        want: Want::Reply(200, &[("x-a", Some("example.org")), ("x-b", Some("example org:8443"))], None),
        ours_only: false,
    },
    Case {
        name: "http-error in defaults is inherited",
        config: "defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n  http-error status 403 content-type text/plain string \"from defaults\"\nfrontend f\n  bind 127.0.0.1:{P}\n  http-request deny\n",
        request: GET,
        want: Want::Reply(403, &[("content-type", Some("text/plain"))], Some("from defaults")),
        ours_only: false,
    },
    Case {
        name: "ipmask masks an IPv4-mapped IPv6 address as IPv4",
        config: "frontend f\n  bind 127.0.0.1:{P}\n  http-request return status 200 hdr x-m \"%[req.hdr_ip(x-a),ipmask(24,64)]\" hdr x-n \"%[req.hdr_ip(x-b),ipmask(24,64)]\"\n",
        request: b"GET / HTTP/1.1\r\nHost: t\r\nx-a: ::FFFF:192.168.1.101\r\nx-b: 2001:db8:1:2:3:4:5:6\r\nConnection: close\r\n\r\n",
        want: Want::Reply(200, &[("x-m", Some("192.168.1.0")), ("x-n", Some("2001:db8:1:2::"))], None),
        ours_only: false,
    },
];

fn write_files(dir: &Path) {
    let files: &[(&str, &str)] = &[
        (
            "400.http",
            "HTTP/1.1 400 Bad request\r\nx-err: file-400\r\ncontent-length: 4\r\ncontent-type: text/plain\r\n\r\nbad\n",
        ),
        (
            "404.http",
            "HTTP/1.1 404 Not Found\r\nx-err: e1-404\r\ncontent-length: 0\r\n\r\n",
        ),
        ("lf.txt", "path %[path] denied\n"),
        ("regm.map", "^(.*)\\.(.*)$ \\1_AND_\\2\n"),
    ];
    for (n, c) in files {
        std::fs::write(dir.join(n), c).expect("write file");
    }
}

/// Starts `bin` on the row's configuration; None if it did not come up.
fn start(bin: &Path, case: &Case, dir: &Path, tag: &str) -> Option<(Proc, u16)> {
    let (p, p2) = (free_port(), free_port());
    let cfg = format!(
        "global\n  maxconn 100\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n{}",
        case.config
            .replace("{P2}", &p2.to_string())
            .replace("{P}", &p.to_string())
            .replace("{DIR}", &dir.display().to_string())
    );
    let path = dir.join(format!("{tag}-{p}.cfg"));
    std::fs::write(&path, cfg).expect("write cfg");
    let child = Command::new(bin)
        .arg("-f")
        .arg(&path)
        .arg("-q")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn proxy");
    let proc = Proc(child);
    if !wait_port(p) || (case.config.contains("{P2}") && !wait_port(p2)) {
        return None;
    }
    Some((proc, p))
}

fn check(case: &Case, got: Option<Answer>) -> Result<(), String> {
    match (case.want, got) {
        (Want::Close, None) => Ok(()),
        (Want::Close, Some(a)) => Err(format!("wanted a close, got {a:?}")),
        (Want::Reply(..) | Want::Statuses(_), None) => Err("closed without answering".into()),
        (Want::Statuses(want), Some(a)) => {
            let text = String::from_utf8_lossy(&a.raw).into_owned();
            let got: Vec<u16> = text
                .split("HTTP/1.1 ")
                .skip(1)
                .filter_map(|r| r.get(..3)?.parse().ok())
                .collect();
            if got == want {
                Ok(())
            } else {
                Err(format!("statuses {got:?} (want {want:?}): {text:?}"))
            }
        }
        (Want::Reply(status, headers, body), Some(a)) => {
            if a.status != status {
                return Err(format!("status {} (want {status}): {a:?}", a.status));
            }
            for (n, v) in headers {
                if a.header(n) != *v {
                    return Err(format!("header {n}: {:?} (want {v:?}): {a:?}", a.header(n)));
                }
            }
            if let Some(b) = body {
                if a.body != b.as_bytes() {
                    return Err(format!(
                        "body {:?} (want {b:?})",
                        String::from_utf8_lossy(&a.body)
                    ));
                }
            }
            Ok(())
        }
    }
}

#[test]
fn http_replies_and_error_pages_match_haproxy() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_files(dir.path());
    let haproxy = have("haproxy").then(|| std::path::PathBuf::from("haproxy"));
    let mut failures = Vec::new();
    for case in CASES {
        let mut bins = vec![("rhaproxy", rhaproxy_bin())];
        if let (Some(h), false) = (&haproxy, case.ours_only) {
            bins.push(("haproxy", h.clone()));
        }
        for (tag, bin) in &bins {
            let Some((_proc, port)) = start(bin, case, dir.path(), tag) else {
                failures.push(format!("{tag}: {}: did not start", case.name));
                continue;
            };
            if let Err(e) = check(case, exchange(port, case.request)) {
                failures.push(format!("{tag}: {}: {e}", case.name));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Sends one runtime-API command over a unix socket and returns the answer.
fn cli(sock: &Path, cmd: &str) -> String {
    let mut s = std::os::unix::net::UnixStream::connect(sock).expect("connect stats socket");
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    s.write_all(cmd.as_bytes()).expect("send");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// `show/add/del/clear map` edit the map every converter naming the file uses, as in haproxy.
#[test]
fn runtime_api_edits_maps_like_haproxy() {
    let mut bins = vec![rhaproxy_bin()];
    if have("haproxy") {
        bins.push(std::path::PathBuf::from("haproxy"));
    }
    for bin in bins {
        let dir = tempfile::tempdir().expect("tempdir");
        let map = dir.path().join("hosts.map");
        std::fs::write(&map, "a.example be-a\nb.example be-b\n").expect("map");
        let sock = dir.path().join("stats.sock");
        let port = free_port();
        let cfg = format!(
            "global\n  stats socket {} level admin\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\nfrontend f\n  bind 127.0.0.1:{port}\n  http-request return status 200 hdr x-be \"%[req.hdr(host),map_str({},none)]\"\n",
            sock.display(),
            map.display()
        );
        let path = dir.path().join("h.cfg");
        std::fs::write(&path, cfg).expect("cfg");
        let _proc = Proc(
            Command::new(&bin)
                .arg("-f")
                .arg(&path)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn"),
        );
        assert!(wait_port(port), "{} did not start", bin.display());
        let lookup = |host: &str| {
            let req = format!("GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
            exchange(port, req.as_bytes())
                .and_then(|a| a.header("x-be").map(str::to_string))
                .unwrap_or_default()
        };
        let m = map.display().to_string();
        assert_eq!(lookup("b.example"), "be-b", "{}", bin.display());
        let shown = cli(&sock, &format!("show map {m}\n"));
        let lines: Vec<&str> = shown.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 2, "{}: {shown:?}", bin.display());
        assert!(lines[0].starts_with("0x") && lines[0].ends_with(" a.example be-a"));
        assert_eq!(cli(&sock, &format!("del map {m} b.example\n")).trim(), "");
        assert_eq!(
            cli(&sock, &format!("add map {m} c.example be-c\n")).trim(),
            ""
        );
        cli(
            &sock,
            &format!("add map {m} <<\nd.example be-d\ne.example be-e\n\n"),
        );
        assert_eq!(lookup("b.example"), "none", "{}", bin.display());
        assert_eq!(lookup("c.example"), "be-c", "{}", bin.display());
        assert_eq!(lookup("e.example"), "be-e", "{}", bin.display());
        cli(&sock, &format!("clear map {m}\n"));
        assert_eq!(lookup("a.example"), "none", "{}", bin.display());
        assert_eq!(cli(&sock, &format!("show map {m}\n")).trim(), "");
    }
}

/// `tune.bufsize`/`tune.maxrewrite` leave little room for header additions to a request whose
/// body fills the buffer: in strict mode (the default) a rewrite that does not fit is a 500,
/// after `strict-mode off` it is skipped. Same answers as haproxy.
#[test]
fn strict_mode_and_rewrite_room_like_haproxy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let value = "1234567890".repeat(6);
    let cfg_text = |port: u16| {
        format!(
            "global\n  tune.bufsize 2048\n  tune.maxrewrite 128\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\nfrontend f\n  bind 127.0.0.1:{port}\n  http-request set-header x-hdr1 {value}\n  http-request set-header x-hdr2 {value} if {{ path /two }}\n  http-request strict-mode off if {{ path /soft }}\n  http-request set-header x-hdr3 {value} if {{ path /soft }}\n  http-request return status 200 hdr x-h3 \"%[req.hdr(x-hdr3)]\" hdr x-h1 \"%[req.hdr(x-hdr1),length]\"\n"
        )
    };
    let mut bins = vec![("rhaproxy", rhaproxy_bin())];
    if have("haproxy") {
        bins.push(("haproxy", std::path::PathBuf::from("haproxy")));
    }
    for (tag, bin) in bins {
        let port = free_port();
        let path = dir.path().join(format!("{tag}.cfg"));
        std::fs::write(&path, cfg_text(port)).expect("cfg");
        let _proc = Proc(
            Command::new(&bin)
                .arg("-f")
                .arg(&path)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn"),
        );
        assert!(wait_port(port), "{tag} did not start");
        let ask = |path: &str, body: usize| {
            let mut req = format!(
                "GET {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {body}\r\nConnection: close\r\n\r\n"
            )
            .into_bytes();
            req.extend(std::iter::repeat(b'x').take(body));
            exchange(port, &req)
        };
        let one = ask("/one", 2000).expect("answer");
        assert_eq!((one.status, one.header("x-h1")), (200, Some("60")), "{tag}");
        assert_eq!(ask("/two", 2000).map(|a| a.status), Some(500), "{tag}");
        let soft = ask("/soft", 2000).expect("answer");
        assert_eq!((soft.status, soft.header("x-h3")), (200, None), "{tag}");
        // a small request has all the room it needs
        assert_eq!(ask("/two", 10).map(|a| a.status), Some(200), "{tag}");
    }
}

//! Differential test of the L7 decision logic (ACLs, http-request/response rules, redirects,
//! use_backend, cookie persistence, balancing): the SAME haproxy.cfg text is run by real
//! `haproxy` in front of echo backends, and parsed by rhaproxy's front end then simulated
//! with rhaproxy::proxy::{rules, acl, cookie, balance}. Status codes, the chosen server, what the
//! server received, and the visible response headers must be identical.
//!
//! The simulation below is also a compact reference of how the engine chains the modules.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rhaproxy::haproxy::ir;
use rhaproxy::proxy::balance::{
    BalanceConf, Balancer, HashFunction, HashLookup, HashType, LbAlgo, LbServer, Pick,
};
use rhaproxy::proxy::cookie::CookiePersist;
use rhaproxy::proxy::ctx::{ConnInfo, HdrField, RequestCtx, RequestHead, ResponseHead, Vars};
use rhaproxy::proxy::rules::{RuleEnv, RuleSet, Verdict};
use rhaproxy::proxy::sample::{CompileEnv, EvalCtx};
use rhaproxy::proxy::server_state::{ServerSet, ServerState};
use rhaproxy::proxy::stick::{StickRules, StickTable};

use crate::util;

/// The response head an echo backend builds for a request head (shared by the real backend
/// and the simulation).
fn echo_response(name: &str, uri: &str, headers: &[(String, String)]) -> Vec<(String, String)> {
    let mut out = vec![
        ("X-Server".to_string(), name.to_string()),
        ("X-Uri".to_string(), uri.to_string()),
    ];
    for (n, v) in headers {
        let ln = n.to_ascii_lowercase();
        if ln.starts_with("x-") || ln == "cookie" {
            out.push((format!("X-Echo-{ln}"), v.clone()));
        }
        if ln == "x-want-set-cookie" {
            out.push(("Set-Cookie".to_string(), v.clone()));
        }
        if ln == "x-want-cache-control" {
            out.push(("Cache-Control".to_string(), v.clone()));
        }
        if ln == "x-want-etag" {
            out.push(("ETag".to_string(), v.clone()));
        }
    }
    out
}

/// Echo backend connection: answers 200 with X-Server, X-Uri, and X-Echo-<name> for each
/// received `x-*`/`cookie` header; `X-Want-Set-Cookie: v` makes it send `Set-Cookie: v`.
fn echo_conn(s: TcpStream, name: &str) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = s.set_nodelay(true);
    let mut r = BufReader::new(match s.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    let mut w = s;
    loop {
        let mut first = String::new();
        match r.read_line(&mut first) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let uri = first.split_whitespace().nth(1).unwrap_or("").to_string();
        let mut headers = Vec::new();
        let mut clen = 0usize;
        loop {
            let mut line = String::new();
            match r.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((n, v)) = l.split_once(':') {
                if n.eq_ignore_ascii_case("content-length") {
                    clen = v.trim().parse().unwrap_or(0);
                }
                headers.push((n.to_string(), v.trim().to_string()));
            }
        }
        let mut body = vec![0u8; clen];
        if clen > 0 && r.read_exact(&mut body).is_err() {
            return;
        }
        let mut resp = String::from("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n");
        for (n, v) in echo_response(name, &uri, &headers) {
            resp.push_str(&format!("{n}: {v}\r\n"));
        }
        resp.push_str("\r\nok");
        if w.write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}

struct Haproxy {
    child: Child,
    _dir: tempfile::TempDir,
    port: u16,
    sock: std::path::PathBuf,
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_haproxy(cfg_body: &str, port: u16) -> Haproxy {
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("admin.sock");
    let cfg = format!(
        "global\n    stats socket {} level admin\n\n{cfg_body}",
        sock.display()
    );
    let path = dir.path().join("haproxy.cfg");
    std::fs::write(&path, cfg).expect("write cfg");
    let child = Command::new("haproxy")
        .arg("-db")
        .arg("-f")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn haproxy");
    let h = Haproxy {
        child,
        _dir: dir,
        port,
        sock,
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() || !h.sock.exists() {
        assert!(Instant::now() < deadline, "haproxy did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    h
}

fn admin(h: &Haproxy, cmd: &str) {
    let mut s = UnixStream::connect(&h.sock).expect("admin socket");
    writeln!(s, "{cmd}").expect("admin write");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
}

/// What a client observes: status and the interesting response headers (lower-case names).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Observed {
    status: u16,
    headers: Vec<(String, String)>,
}

fn interesting(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("x-")
        || matches!(
            n.as_str(),
            "location" | "set-cookie" | "cache-control" | "www-authenticate"
        )
}

fn send(port: u16, method: &str, uri: &str, hdrs: &[(&str, &str)]) -> Observed {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let _ = s.set_nodelay(true);
    let mut req = format!("{method} {uri} HTTP/1.1\r\nHost: test.local\r\n");
    for (n, v) in hdrs {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str("Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).expect("send");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let head = out.split("\r\n\r\n").next().unwrap_or("");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .filter(|(n, _)| interesting(n))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Observed { status, headers }
}

/// One backend as the simulation runs it.
struct SimBackend {
    name: String,
    rules: RuleSet,
    servers: Vec<String>,
    live: ServerSet,
    balancer: Balancer,
    cookie: Option<CookiePersist>,
    persist: bool,
    stick: StickRules,
    table: Option<Arc<StickTable>>,
    ids: Vec<u32>,
}

struct Sim {
    frontend: RuleSet,
    fe_name: String,
    backends: Vec<SimBackend>,
}

fn balance_conf(p: &ir::Proxy) -> BalanceConf {
    let algo = match p.balance.as_ref().unwrap_or(&ir::BalanceAlgo::RoundRobin) {
        ir::BalanceAlgo::StaticRr => LbAlgo::StaticRr,
        ir::BalanceAlgo::First => LbAlgo::First,
        ir::BalanceAlgo::Source => LbAlgo::Source,
        ir::BalanceAlgo::Uri {
            len,
            depth,
            whole,
            path_only,
        } => LbAlgo::Uri {
            whole: *whole,
            path_only: *path_only,
            len: len.unwrap_or(0),
            depth: depth.unwrap_or(0),
        },
        ir::BalanceAlgo::UrlParam { param, .. } => LbAlgo::UrlParam {
            name: param.as_bytes().into(),
        },
        ir::BalanceAlgo::Hdr {
            name,
            use_domain_only,
        } => LbAlgo::Hdr {
            name: name.as_bytes().into(),
            use_domain_only: *use_domain_only,
        },
        _ => LbAlgo::RoundRobin,
    };
    let hash_type = match p.hash_type {
        None => HashType::default(),
        Some(h) => HashType::from_parts(
            if h.method == ir::HashMethod::Consistent {
                HashLookup::Consistent
            } else {
                HashLookup::MapBased
            },
            match h.function {
                ir::HashFunction::Djb2 => Some(HashFunction::Djb2),
                ir::HashFunction::Wt6 => Some(HashFunction::Wt6),
                ir::HashFunction::Crc32 => Some(HashFunction::Crc32),
                ir::HashFunction::Sdbm => Some(HashFunction::Sdbm),
                ir::HashFunction::None => None,
            },
            h.avalanche,
        ),
    };
    BalanceConf {
        algo,
        hash_type,
        allbackups: p.options.allbackups,
        servers: p
            .servers
            .iter()
            .enumerate()
            .map(|(i, s)| LbServer {
                id: s.id.map(|x| x as u32).unwrap_or(i as u32 + 1),
                backup: s.backup,
                weight: s.weight,
                disabled: s.disabled,
            })
            .collect(),
    }
}

impl Sim {
    fn new(cfg: &ir::Config, fe: &str) -> Sim {
        let env = CompileEnv::from_config(cfg);
        let fep = cfg.proxy(fe).expect("frontend");
        let backends = cfg
            .backends()
            .map(|p| SimBackend {
                name: p.name.clone(),
                rules: RuleSet::compile(p, &env).expect("compile backend"),
                servers: p.servers.iter().map(|s| s.name.clone()).collect(),
                live: ServerSet::new(
                    p.servers
                        .iter()
                        .map(|s| ServerState::new(s.weight, s.disabled, s.maxconn.unwrap_or(0)))
                        .collect(),
                ),
                balancer: Balancer::new(&balance_conf(p)),
                cookie: p.cookie.as_ref().map(|c| {
                    let sc: Vec<Option<String>> =
                        p.servers.iter().map(|s| s.cookie.clone()).collect();
                    CookiePersist::from_ir(c, &sc)
                }),
                persist: p.options.persist,
                stick: {
                    let rs = RuleSet::compile(p, &env).expect("compile backend");
                    StickRules::compile(p, &rs.acls, &env).expect("stick rules")
                },
                table: p
                    .stick_table
                    .as_ref()
                    .map(|t| Arc::new(StickTable::from_ir(t))),
                ids: p
                    .servers
                    .iter()
                    .enumerate()
                    .map(|(i, s)| s.id.map(|x| x as u32).unwrap_or(i as u32 + 1))
                    .collect(),
            })
            .collect();
        Sim {
            frontend: RuleSet::compile(fep, &env).expect("compile frontend"),
            fe_name: fe.to_string(),
            backends,
        }
    }

    fn backend(&self, name: &str) -> Option<&SimBackend> {
        self.backends.iter().find(|b| b.name == name)
    }

    /// What rhaproxy's decision logic produces for one request.
    fn run(&self, method: &str, uri: &str, hdrs: &[(&str, &str)]) -> Observed {
        let mut head = RequestHead {
            method: Bytes::copy_from_slice(method.as_bytes()),
            uri: Bytes::copy_from_slice(uri.as_bytes()),
            version: Bytes::from_static(b"HTTP/1.1"),
            headers: std::iter::once(("Host", "test.local"))
                .chain(hdrs.iter().copied())
                .map(|(n, v)| HdrField::new(n.as_bytes().to_vec(), v.as_bytes().to_vec()))
                .collect(),
            ..Default::default()
        };
        let conn = ConnInfo {
            src: "127.0.0.1:40000".parse().expect("addr"),
            dst: "127.0.0.1:80".parse().expect("addr"),
            ssl_fc: false,
            ssl_sni: None,
            pp_unique_id: None,
        };
        let mut vars = Vars::new();
        let fe = &self.frontend;
        let env = RuleEnv {
            conn: &conn,
            frontend: &self.fe_name,
            backend: "",
            proxies: None,
        };
        if let Some(o) = verdict_reply(fe.apply_request(&mut head, &env, &mut vars)) {
            return o;
        }
        if let Some(r) = fe.apply_redirects(&head, &env, &vars) {
            return reply_observed(r);
        }
        let be_name = {
            let rc = RequestCtx::new(&head, &conn, &self.fe_name, "", &vars);
            fe.switching
                .select(&EvalCtx::new(&rc), &|n| self.backend(n).is_some())
                .map(|c| c.into_owned())
        };
        let Some(be) = be_name.as_deref().and_then(|n| self.backend(n)) else {
            return Observed {
                status: 503,
                headers: vec![],
            };
        };
        let benv = RuleEnv {
            conn: &conn,
            frontend: &self.fe_name,
            backend: &be.name,
            proxies: None,
        };
        if be.name != self.fe_name {
            if let Some(o) = verdict_reply(be.rules.apply_request(&mut head, &benv, &mut vars)) {
                return o;
            }
            if let Some(r) = be.rules.apply_redirects(&head, &benv, &vars) {
                return reply_observed(r);
            }
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let ck = be
            .cookie
            .as_ref()
            .map(|c| c.on_request(&mut head, &be.live, be.persist, now))
            .unwrap_or_default();
        let tables = |n: Option<&str>| match n {
            None => be.table.clone(),
            Some(t) => self.backend(t).and_then(|b| b.table.clone()),
        };
        let server = {
            let rc = RequestCtx::new(&head, &conn, &self.fe_name, &be.name, &vars);
            let ec = EvalCtx::new(&rc);
            let by_use_server = || {
                be.rules
                    .select_server(&ec, &|n| be.servers.iter().position(|s| s == n), &|i| {
                        be.persist || be.live.get(i).is_some_and(|s| s.is_up())
                    })
            };
            let chosen = match ck.server.or_else(by_use_server) {
                Some(s) => s,
                None => match be.stick.match_request(
                    &ec,
                    &tables,
                    &be.ids,
                    &|k, _| be.servers.iter().position(|s| s == k),
                    &be.live,
                    be.persist,
                ) {
                    Some(s) => s,
                    None => match be.balancer.pick(&rc, &be.live) {
                        Pick::Server(s) => s,
                        _ => {
                            return Observed {
                                status: 503,
                                headers: vec![],
                            }
                        }
                    },
                },
            };
            let stored = rhaproxy::proxy::stick::StoredServer {
                id: be.ids[chosen],
                name: &be.servers[chosen],
                addr: None,
            };
            be.stick.store_request(&ec, &tables, stored);
            chosen
        };
        // The server sees `head`; build its echo response.
        let fwd: Vec<(String, String)> = head
            .headers
            .iter()
            .map(|h| {
                (
                    String::from_utf8_lossy(&h.name).into_owned(),
                    String::from_utf8_lossy(&h.value).into_owned(),
                )
            })
            .collect();
        let mut res = ResponseHead {
            version: Bytes::from_static(b"HTTP/1.1"),
            status: 200,
            reason: Bytes::from_static(b"OK"),
            headers: echo_response(
                &be.servers[server],
                &String::from_utf8_lossy(&head.uri),
                &fwd,
            )
            .into_iter()
            .map(|(n, v)| HdrField::new(n.into_bytes(), v.into_bytes()))
            .collect(),
        };
        // HAProxy order: http-response rules (backend, then frontend), then server cookies.
        if let Some(o) = verdict_reply(be.rules.apply_response(&head, &mut res, &benv, &mut vars)) {
            return o;
        }
        if be.name != self.fe_name {
            if let Some(o) = verdict_reply(fe.apply_response(&head, &mut res, &benv, &mut vars)) {
                return o;
            }
        }
        if let Some(c) = &be.cookie {
            c.on_response(&head, &mut res, &ck, Some(server), now);
        }
        Observed {
            status: res.status,
            headers: res
                .headers
                .iter()
                .filter(|h| interesting(&String::from_utf8_lossy(&h.name)))
                .map(|h| {
                    (
                        String::from_utf8_lossy(&h.name).to_ascii_lowercase(),
                        String::from_utf8_lossy(&h.value).into_owned(),
                    )
                })
                .collect(),
        }
    }
}

fn reply_observed(r: rhaproxy::proxy::rules::Reply) -> Observed {
    Observed {
        status: r.status,
        headers: r
            .headers
            .iter()
            .filter(|(n, _)| interesting(&String::from_utf8_lossy(n)))
            .map(|(n, v)| {
                (
                    String::from_utf8_lossy(n).to_ascii_lowercase(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect(),
    }
}

fn verdict_reply(v: Verdict) -> Option<Observed> {
    match v {
        Verdict::Continue => None,
        // The engine answers these with HAProxy's error pages (which carry cache-control).
        Verdict::Deny { status } | Verdict::Tarpit { status } => Some(Observed {
            status,
            headers: vec![("cache-control".into(), "no-cache".into())],
        }),
        Verdict::Auth { realm } => Some(Observed {
            status: 401,
            headers: vec![
                ("cache-control".into(), "no-cache".into()),
                (
                    "www-authenticate".into(),
                    format!("Basic realm=\"{realm}\""),
                ),
            ],
        }),
        Verdict::Reply(r) => Some(reply_observed(r)),
        Verdict::Prometheus => Some(Observed {
            status: 200,
            headers: Vec::new(),
        }),
    }
}

enum Step {
    Req(
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
    ),
    /// `disable server be/s` (maintenance) on both sides.
    Maint(&'static str, &'static str),
}

struct Case {
    name: &'static str,
    /// Configuration with `{PORT}` for the frontend port and `{s1}`..`{s4}` for server ports.
    cfg: &'static str,
    steps: &'static [Step],
}

const DEFAULTS: &str = "defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\n";

fn run_case(c: &Case) {
    let servers: Vec<util::ThreadServer> = (1..=4)
        .map(|i| util::ThreadServer::start(&format!("s{i}"), echo_conn))
        .collect();
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut text = format!("{DEFAULTS}{}", c.cfg).replace("{PORT}", &port.to_string());
    for (i, s) in servers.iter().enumerate() {
        text = text.replace(&format!("{{s{}}}", i + 1), &s.port.to_string());
    }
    let (parsed, _) = rhaproxy::haproxy::parser::parse_text("diff.cfg", &text, Default::default());
    assert!(
        !parsed.has_errors(),
        "{}: parse errors {:?}",
        c.name,
        parsed.findings
    );
    let sim = Sim::new(&parsed.config, "fe");
    let h = start_haproxy(&text, port);
    for (i, step) in c.steps.iter().enumerate() {
        match step {
            Step::Maint(be, srv) => {
                admin(&h, &format!("disable server {be}/{srv}"));
                let b = sim.backend(be).expect("backend");
                let idx = b.servers.iter().position(|s| s == srv).expect("server");
                b.live.set_maint(idx, true);
            }
            Step::Req(m, uri, hdrs) => {
                let theirs = send(h.port, m, uri, hdrs);
                let ours = sim.run(m, uri, hdrs);
                assert_eq!(
                    ours, theirs,
                    "case {} step {i}: {m} {uri} {hdrs:?}\n(left: rhaproxy, right: haproxy)",
                    c.name
                );
            }
        }
    }
}

#[test]
fn l7_decisions_match_haproxy() {
    if !util::require("haproxy") {
        return;
    }
    use Step::*;
    let cases = [
        Case {
            name: "acl routing",
            cfg: "frontend fe\n    bind 127.0.0.1:{PORT}\n    acl is_api path_beg /api /v2\n    acl is_admin hdr(x-role) -i admin\n    acl is_post method POST\n    acl img path_end .png .jpg\n    use_backend api if is_api !is_post\n    use_backend admin if is_admin || is_post\n    use_backend static if img\n    use_backend be_%[req.hdr(x-be)] if { req.hdr(x-be) -m found }\n    default_backend web\n\nbackend api\n    server s1 127.0.0.1:{s1}\nbackend admin\n    server s2 127.0.0.1:{s2}\nbackend static\n    server s3 127.0.0.1:{s3}\nbackend web\n    server s4 127.0.0.1:{s4}\nbackend be_x\n    server s1 127.0.0.1:{s1}\n",
            steps: &[
                Req("GET", "/api/users", &[]),
                Req("POST", "/api/users", &[]),
                Req("GET", "/v2/x", &[("X-Role", "ADMIN")]),
                Req("GET", "/img/a.png", &[]),
                Req("GET", "/index.html", &[]),
                Req("GET", "/index.html", &[("X-Be", "x")]),
                Req("GET", "/index.html", &[("X-Be", "nope")]),
            ],
        },
        Case {
            name: "http-request rules",
            cfg: "frontend fe\n    bind 127.0.0.1:{PORT}\n    acl local src 127.0.0.0/8\n    http-request deny if { path /forbidden }\n    http-request deny deny_status 429 if { path_beg /limited }\n    http-request redirect scheme https code 301 if { path_beg /secure }\n    http-request redirect location /login?from=%[path] if { path /account }\n    http-request redirect prefix /new drop-query if { path_beg /old }\n    http-request return status 200 content-type text/plain string hello if { path /hello }\n    http-request auth realm Private if { path_beg /private } !{ http_auth(users) }\n    http-request set-header X-Client %[src] if local\n    http-request add-header X-Added one\n    http-request add-header X-Added two\n    http-request del-header X-Secret\n    http-request set-header X-Path %[path]\n    http-request replace-path ^/app/(.*) /\\1\n    http-request set-query a=1 if { path /q }\n    http-request replace-header X-Chain (.*) \\1;via=%[src]\n    http-request replace-value X-List ^b$ B\n    http-request set-var(txn.tag) str(tagged)\n    http-request set-header X-Tag %[var(txn.tag)]\n    http-response set-header X-Resp yes\n    http-response del-header X-Echo-x-secret\n    http-response set-status 202 if { path /accepted }\n    default_backend web\n\nuserlist users\n    user bob insecure-password pw\n\nbackend web\n    server s1 127.0.0.1:{s1}\n",
            steps: &[
                Req("GET", "/forbidden", &[]),
                Req("GET", "/limited/x", &[]),
                Req("GET", "/secure/page?a=b", &[]),
                Req("GET", "/account", &[]),
                Req("GET", "/old/path?x=1", &[]),
                Req("GET", "/hello", &[]),
                Req("GET", "/private/x", &[]),
                Req("GET", "/private/x", &[("Authorization", "Basic Ym9iOnB3")]),
                Req("GET", "/app/deep/page?z=9", &[("X-Secret", "s")]),
                Req("GET", "/q?old=1", &[]),
                Req("GET", "/chain", &[("X-Chain", "a"), ("X-List", "a, b, c")]),
                Req("GET", "/accepted", &[]),
            ],
        },
        Case {
            name: "more rules",
            cfg: "frontend fe\n    bind 127.0.0.1:{PORT}\n    acl admins http_auth_group(ul) ops\n    http-request auth if { path /needauth }\n    http-request deny deny_status 400 if { url_param(bad) -m found }\n    http-request allow if { path /allowed }\n    http-request set-uri /rewritten%[path]?k=v if { path_beg /su }\n    http-request set-method PUT if { path /m }\n    http-request set-header X-Admin yes if admins\n    http-request set-header X-Not-Admin yes unless admins\n    http-request set-var(txn.n) hdr_cnt(x-n)\n    http-request set-header X-N %[var(txn.n)]\n    http-request set-header X-Host-Lower %[req.hdr(host),lower,field(1,.)]\n    http-request set-header X-Cnt %[req.hdr_cnt(x-n),add(10)]\n    http-request set-header X-Never yes if { path /allowed }\n    http-response set-header X-Status %[status]\n    http-response set-header X-Method %[method]\n    default_backend web\n\nuserlist ul\n    group ops users alice\n    user alice insecure-password secret\n    user bob insecure-password pw\n\nbackend web\n    server s1 127.0.0.1:{s1}\n",
            steps: &[
                Req("GET", "/needauth", &[]),
                Req("GET", "/x?bad=1", &[]),
                Req("GET", "/allowed", &[]),
                Req("GET", "/su/b", &[("X-N", "1"), ("X-N", "2, 3")]),
                Req("POST", "/m", &[]),
                Req("GET", "/g", &[("Authorization", "Basic YWxpY2U6c2VjcmV0")]),
                Req("GET", "/g", &[("Authorization", "Basic Ym9iOnB3")]),
            ],
        },
        Case {
            name: "cookie insert indirect nocache",
            cfg: "frontend fe\n    bind 127.0.0.1:{PORT}\n    default_backend app\n\nbackend app\n    cookie SRV insert indirect nocache httponly\n    server s1 127.0.0.1:{s1} cookie c1\n    server s2 127.0.0.1:{s2} cookie c2\n    server s3 127.0.0.1:{s3}\n",
            steps: &[
                Req("GET", "/", &[]),
                Req("GET", "/", &[]),
                Req("GET", "/", &[]),
                Req("GET", "/", &[("Cookie", "SRV=c2")]),
                Req("GET", "/", &[("Cookie", "a=1; SRV=c1; b=2")]),
                Req("GET", "/", &[("Cookie", "SRV=zzz")]),
                Req("GET", "/", &[("X-Want-Cache-Control", "max-age=60")]),
                Req("GET", "/", &[("X-Want-Cache-Control", "public")]),
                Req("GET", "/", &[("X-Want-Cache-Control", "no-cache")]),
                Req("GET", "/", &[("X-Want-Etag", "\"v1\"")]),
                Req("POST", "/", &[("X-Want-Etag", "\"v1\"")]),
                Req("GET", "/", &[("Cookie", "SRV=c1"), ("X-Want-Set-Cookie", "SRV=app; path=/")]),
                Maint("app", "s1"),
                Req("GET", "/", &[("Cookie", "SRV=c1")]),
                Req("GET", "/", &[("Cookie", "SRV=c2")]),
            ],
        },
        Case {
            name: "cookie rewrite and prefix",
            cfg: "frontend fe\n    bind 127.0.0.1:{PORT}\n    use_backend pfx if { path_beg /p }\n    default_backend rw\n\nbackend rw\n    cookie JSESSIONID rewrite\n    server s1 127.0.0.1:{s1} cookie r1\n    server s2 127.0.0.1:{s2} cookie r2\n\nbackend pfx\n    cookie SID prefix\n    server s3 127.0.0.1:{s3} cookie p3\n    server s4 127.0.0.1:{s4} cookie p4\n",
            steps: &[
                Req("GET", "/", &[("X-Want-Set-Cookie", "JSESSIONID=abc; path=/")]),
                Req("GET", "/", &[("Cookie", "JSESSIONID=r2")]),
                Req("GET", "/p", &[("X-Want-Set-Cookie", "SID=sess1; path=/")]),
                Req("GET", "/p", &[("Cookie", "SID=p4~sess1; other=z")]),
                Req("GET", "/p", &[("Cookie", "SID=p3~sess9")]),
            ],
        },
        Case {
            name: "weighted rr with hdr hashing and backup",
            cfg: "frontend fe\n    bind 127.0.0.1:{PORT}\n    use_backend h if { path_beg /h }\n    default_backend rr\n\nbackend rr\n    balance roundrobin\n    server s1 127.0.0.1:{s1} weight 2\n    server s2 127.0.0.1:{s2} weight 1\n    server s3 127.0.0.1:{s3} backup\n\nbackend h\n    balance hdr(x-user)\n    server s1 127.0.0.1:{s1}\n    server s2 127.0.0.1:{s2}\n    server s4 127.0.0.1:{s4}\n",
            steps: &[
                Req("GET", "/", &[]),
                Req("GET", "/", &[]),
                Req("GET", "/", &[]),
                Req("GET", "/", &[]),
                Req("GET", "/h", &[("X-User", "alice")]),
                Req("GET", "/h", &[("X-User", "bob")]),
                Req("GET", "/h", &[("X-User", "carol")]),
                Req("GET", "/h", &[("X-User", "alice")]),
                Maint("rr", "s1"),
                Maint("rr", "s2"),
                Req("GET", "/", &[]),
            ],
        },
        Case {
            name: "cookie insert after http-response rules",
            cfg: "frontend fe\n    bind 127.0.0.1:{PORT}\n    default_backend app\n\nbackend app\n    cookie SRV insert\n    http-response del-header Set-Cookie\n    server s1 127.0.0.1:{s1} cookie c1\n    server s2 127.0.0.1:{s2} cookie c2\n",
            steps: &[
                Req("GET", "/", &[("X-Want-Set-Cookie", "APP=1")]),
                Req("GET", "/", &[("Cookie", "SRV=c1")]),
            ],
        },
        Case {
            name: "use-server",
            cfg: "frontend fe\n    bind 127.0.0.1:{PORT}\n    default_backend app\n\nbackend app\n    use-server s3 if { path_beg /three }\n    use-server s2 if { hdr(x-two) -m found }\n    server s1 127.0.0.1:{s1}\n    server s2 127.0.0.1:{s2}\n    server s3 127.0.0.1:{s3}\n",
            steps: &[
                Req("GET", "/three", &[]),
                Req("GET", "/x", &[("X-Two", "1")]),
                Req("GET", "/three", &[("X-Two", "1")]),
                Req("GET", "/x", &[]),
                Maint("app", "s3"),
                Req("GET", "/three", &[("X-Two", "1")]),
                Req("GET", "/three", &[]),
            ],
        },
        Case {
            name: "stick on src",
            cfg: "frontend fe\n    bind 127.0.0.1:{PORT}\n    default_backend app\n\nbackend app\n    stick-table type ip size 1m expire 30m\n    stick on src\n    server s1 127.0.0.1:{s1}\n    server s2 127.0.0.1:{s2}\n    server s3 127.0.0.1:{s3}\n",
            steps: &[
                Req("GET", "/", &[]),
                Req("GET", "/", &[]),
                Req("GET", "/a", &[]),
                Maint("app", "s1"),
                Req("GET", "/", &[]),
                Req("GET", "/", &[]),
            ],
        },
    ];
    for c in &cases {
        run_case(c);
    }
}

//! Differential test of balance sequences: real `haproxy` in front of in-test backends that
//! answer their own name, versus `rhaproxy::proxy::balance` fed the same weights and the same
//! server state events (applied through haproxy's runtime API at the same request index).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rhaproxy::proxy::balance::{
    BalanceConf, Balancer, HashLookup, HashType, LbAlgo, LbServer, Pick,
};
use rhaproxy::proxy::ctx::{ConnInfo, RequestCtx, RequestHead, Vars};
use rhaproxy::proxy::server_state::{ServerSet, ServerState};

use crate::util;

fn serve(s: TcpStream, name: &str) {
    let _ = s.set_nonblocking(false);
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let mut r = BufReader::new(match s.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    let _ = s.set_nodelay(true);
    let mut w = s;
    loop {
        // Read one request head.
        let mut any = false;
        loop {
            let mut line = String::new();
            match r.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" || line == "\n" {
                break;
            }
            any = true;
        }
        if !any {
            return;
        }
        let resp = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: text/plain\r\n\r\n{}",
            name.len(),
            name
        );
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

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn start_haproxy(backend_body: &str) -> Haproxy {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let sock = dir.path().join("admin.sock");
    let cfg = format!(
        "global\n    stats socket {} level admin\n\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\nfrontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\n\nbackend be\n{backend_body}",
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

fn get(port: u16, path: &str, extra: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect haproxy");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let _ = s.set_nodelay(true);
    let req = format!("GET {path} HTTP/1.1\r\nHost: t\r\n{extra}Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).expect("send");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out.get(9..12).unwrap_or("").to_string();
    if status != "200" {
        return format!("<{status}>");
    }
    out.split("\r\n\r\n").nth(1).unwrap_or("").to_string()
}

fn admin(h: &Haproxy, cmd: &str) {
    let mut s = UnixStream::connect(&h.sock).expect("admin socket");
    writeln!(s, "{cmd}").expect("admin write");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(
        out.trim().is_empty(),
        "admin command {cmd:?} answered {out:?}"
    );
}

/// Waits until haproxy counts no current session on any server of `be`, so that a
/// connection-count-based algorithm (leastconn) sees the previous request as finished: the
/// client reading EOF does not mean haproxy already released the server side.
fn wait_idle(h: &Haproxy) {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let mut s = UnixStream::connect(&h.sock).expect("admin socket");
        writeln!(s, "show stat").expect("admin write");
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        // CSV: pxname,svname,qcur,qmax,scur,...
        let busy = out
            .lines()
            .filter(|l| l.starts_with("be,") && !l.starts_with("be,BACKEND"))
            .any(|l| l.split(',').nth(4).is_some_and(|scur| scur != "0"));
        if !busy || Instant::now() > deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[derive(Clone, Copy, Debug)]
enum Ev {
    Maint(usize),
    Ready(usize),
    Weight(usize, u32),
}

struct Case {
    name: &'static str,
    balance: &'static str,
    algo: LbAlgo,
    hash: HashType,
    weights: &'static [u32],
    backup: &'static [usize],
    allbackups: bool,
    requests: usize,
    /// (before request index, event).
    events: &'static [(usize, Ev)],
    /// Request path for request i.
    path: fn(usize) -> String,
}

fn root(_: usize) -> String {
    "/".to_string()
}
fn deep(i: usize) -> String {
    format!("/d{}/e{}/f{}/g{}?q={}", i % 3, i % 4, i % 5, i, i)
}
fn varied(i: usize) -> String {
    format!("/item/{}?id={}", i % 7, i % 5)
}

const NAMES: [&str; 6] = ["s1", "s2", "s3", "s4", "s5", "s6"];

fn run_case(c: &Case) {
    let backends: Vec<util::ThreadServer> = NAMES[..c.weights.len()]
        .iter()
        .map(|n| util::ThreadServer::start(n, serve))
        .collect();
    let mut body = format!("    balance {}\n", c.balance);
    if c.allbackups {
        body.push_str("    option allbackups\n");
    }
    if c.hash == HashType::consistent_default() {
        body.push_str("    hash-type consistent\n");
    } else if c.hash.lookup == HashLookup::Consistent {
        let f = format!("{:?}", c.hash.function).to_lowercase();
        let av = if c.hash.avalanche { " avalanche" } else { "" };
        body.push_str(&format!("    hash-type consistent {f}{av}\n"));
    } else if c.hash.avalanche {
        body.push_str("    hash-type map-based sdbm avalanche\n");
    }
    for (i, b) in backends.iter().enumerate() {
        let bk = if c.backup.contains(&i) { " backup" } else { "" };
        body.push_str(&format!(
            "    server {} 127.0.0.1:{} weight {}{}\n",
            NAMES[i], b.port, c.weights[i], bk
        ));
    }
    let h = start_haproxy(&body);

    let conf = BalanceConf {
        algo: c.algo.clone(),
        hash_type: c.hash,
        allbackups: c.allbackups,
        servers: c
            .weights
            .iter()
            .enumerate()
            .map(|(i, &w)| LbServer {
                id: i as u32 + 1,
                backup: c.backup.contains(&i),
                weight: w,
                disabled: false,
            })
            .collect(),
    };
    let ours = Balancer::new(&conf);
    let live = ServerSet::new(
        c.weights
            .iter()
            .map(|&w| ServerState::new(w, false, 0))
            .collect(),
    );

    let mut theirs_seq = Vec::new();
    let mut ours_seq = Vec::new();
    for i in 0..c.requests {
        for (at, ev) in c.events {
            if *at == i {
                match *ev {
                    Ev::Maint(s) => {
                        admin(&h, &format!("disable server be/{}", NAMES[s]));
                        live.set_maint(s, true);
                    }
                    Ev::Ready(s) => {
                        admin(&h, &format!("enable server be/{}", NAMES[s]));
                        live.set_maint(s, false);
                    }
                    Ev::Weight(s, w) => {
                        admin(&h, &format!("set weight be/{} {}", NAMES[s], w));
                        live.set_weight(s, w);
                    }
                }
            }
        }
        let path = (c.path)(i);
        wait_idle(&h);
        theirs_seq.push(get(h.port, &path, ""));
        let head = RequestHead {
            method: "GET".into(),
            uri: path.clone().into(),
            version: "HTTP/1.1".into(),
            headers: vec![],
            ..Default::default()
        };
        let conn = ConnInfo::default();
        let vars = Vars::new();
        let req = RequestCtx::new(&head, &conn, "fe", "be", &vars);
        ours_seq.push(match ours.pick(&req, &live) {
            Pick::Server(s) => NAMES[s].to_string(),
            Pick::NoServer | Pick::Full => "<503>".to_string(),
        });
    }
    assert_eq!(
        ours_seq, theirs_seq,
        "case {}: rhaproxy balance (left) vs haproxy (right)",
        c.name
    );
}

fn rr() -> HashType {
    HashType::default()
}

#[test]
fn balance_sequences_match_haproxy() {
    if !util::require("haproxy") {
        return;
    }
    // `hash-type consistent` alone means sdbm + avalanche.
    let cases = [
        Case {
            name: "rr 1:1",
            balance: "roundrobin",
            algo: LbAlgo::RoundRobin,
            hash: rr(),
            weights: &[1, 1],
            backup: &[],
            allbackups: false,
            requests: 40,
            events: &[],
            path: root,
        },
        Case {
            name: "rr 2:1",
            balance: "roundrobin",
            algo: LbAlgo::RoundRobin,
            hash: rr(),
            weights: &[2, 1],
            backup: &[],
            allbackups: false,
            requests: 60,
            events: &[],
            path: root,
        },
        Case {
            name: "rr 3:2:1",
            balance: "roundrobin",
            algo: LbAlgo::RoundRobin,
            hash: rr(),
            weights: &[3, 2, 1],
            backup: &[],
            allbackups: false,
            requests: 130,
            events: &[],
            path: root,
        },
        Case {
            name: "rr 7:2:7",
            balance: "roundrobin",
            algo: LbAlgo::RoundRobin,
            hash: rr(),
            weights: &[7, 2, 7],
            backup: &[],
            allbackups: false,
            requests: 300,
            events: &[],
            path: root,
        },
        Case {
            name: "rr 3:2:2:3",
            balance: "roundrobin",
            algo: LbAlgo::RoundRobin,
            hash: rr(),
            weights: &[3, 2, 2, 3],
            backup: &[],
            allbackups: false,
            requests: 200,
            events: &[],
            path: root,
        },
        Case {
            name: "rr 3:2:1 down/up",
            balance: "roundrobin",
            algo: LbAlgo::RoundRobin,
            hash: rr(),
            weights: &[3, 2, 1],
            backup: &[],
            allbackups: false,
            requests: 150,
            events: &[
                (7, Ev::Maint(1)),
                (30, Ev::Ready(1)),
                (61, Ev::Maint(0)),
                (62, Ev::Maint(2)),
                (90, Ev::Ready(0)),
                (91, Ev::Ready(2)),
                (120, Ev::Weight(2, 4)),
            ],
            path: root,
        },
        Case {
            name: "rr backup",
            balance: "roundrobin",
            algo: LbAlgo::RoundRobin,
            hash: rr(),
            weights: &[1, 1, 2, 1],
            backup: &[2, 3],
            allbackups: false,
            requests: 40,
            events: &[(5, Ev::Maint(0)), (10, Ev::Maint(1)), (20, Ev::Ready(0))],
            path: root,
        },
        Case {
            name: "rr allbackups",
            balance: "roundrobin",
            algo: LbAlgo::RoundRobin,
            hash: rr(),
            weights: &[1, 1, 2, 1],
            backup: &[2, 3],
            allbackups: true,
            requests: 50,
            events: &[(3, Ev::Maint(0)), (4, Ev::Maint(1)), (40, Ev::Ready(1))],
            path: root,
        },
        Case {
            name: "static-rr 3:2:1",
            balance: "static-rr",
            algo: LbAlgo::StaticRr,
            hash: rr(),
            weights: &[3, 2, 1],
            backup: &[],
            allbackups: false,
            requests: 40,
            events: &[(13, Ev::Maint(0)), (25, Ev::Ready(0))],
            path: root,
        },
        Case {
            name: "static-rr 2:1",
            balance: "static-rr",
            algo: LbAlgo::StaticRr,
            hash: rr(),
            weights: &[2, 1],
            backup: &[],
            allbackups: false,
            requests: 20,
            events: &[],
            path: root,
        },
        Case {
            name: "leastconn sequential",
            balance: "leastconn",
            algo: LbAlgo::LeastConn,
            hash: rr(),
            weights: &[1, 3, 1],
            backup: &[],
            allbackups: false,
            requests: 14,
            events: &[(5, Ev::Maint(1)), (10, Ev::Ready(1))],
            path: root,
        },
        Case {
            name: "first",
            balance: "first",
            algo: LbAlgo::First,
            hash: rr(),
            weights: &[1, 1, 1],
            backup: &[],
            allbackups: false,
            requests: 12,
            events: &[(4, Ev::Maint(0)), (8, Ev::Ready(0))],
            path: root,
        },
        Case {
            name: "uri map-based",
            balance: "uri",
            algo: LbAlgo::Uri {
                whole: false,
                path_only: false,
                len: 0,
                depth: 0,
            },
            hash: rr(),
            weights: &[1, 2, 1],
            backup: &[],
            allbackups: false,
            requests: 30,
            events: &[(15, Ev::Maint(1))],
            path: varied,
        },
        Case {
            name: "uri consistent",
            balance: "uri whole",
            algo: LbAlgo::Uri {
                whole: true,
                path_only: false,
                len: 0,
                depth: 0,
            },
            hash: HashType::consistent_default(),
            weights: &[1, 1, 1],
            backup: &[],
            allbackups: false,
            requests: 30,
            events: &[(15, Ev::Maint(2))],
            path: varied,
        },
        Case {
            name: "uri map-based sdbm avalanche",
            balance: "uri",
            algo: LbAlgo::Uri {
                whole: false,
                path_only: false,
                len: 0,
                depth: 0,
            },
            hash: HashType {
                lookup: HashLookup::MapBased,
                function: rhaproxy::proxy::balance::HashFunction::Sdbm,
                avalanche: true,
            },
            weights: &[1, 2, 3],
            backup: &[],
            allbackups: false,
            requests: 30,
            events: &[],
            path: varied,
        },
        Case {
            name: "uri depth 2 len 12",
            balance: "uri depth 2 len 12",
            algo: LbAlgo::Uri {
                whole: false,
                path_only: false,
                len: 12,
                depth: 2,
            },
            hash: rr(),
            weights: &[1, 1, 1, 1],
            backup: &[],
            allbackups: false,
            requests: 30,
            events: &[],
            path: deep,
        },
        Case {
            name: "url_param consistent djb2",
            balance: "url_param id",
            algo: LbAlgo::UrlParam {
                name: b"id"[..].into(),
            },
            hash: HashType {
                lookup: HashLookup::Consistent,
                function: rhaproxy::proxy::balance::HashFunction::Djb2,
                avalanche: false,
            },
            weights: &[2, 1, 1],
            backup: &[],
            allbackups: false,
            requests: 30,
            events: &[(20, Ev::Maint(0))],
            path: varied,
        },
        Case {
            name: "balance hash path",
            balance: "hash path,lower",
            algo: LbAlgo::Expr {
                expr: rhaproxy::haproxy::ir::SampleExpr {
                    fetch: "path".into(),
                    args: vec![],
                    converters: vec![rhaproxy::haproxy::ir::Converter {
                        name: "lower".into(),
                        args: vec![],
                    }],
                },
            },
            hash: rr(),
            weights: &[1, 2, 1],
            backup: &[],
            allbackups: false,
            requests: 30,
            events: &[(20, Ev::Maint(1))],
            path: varied,
        },
        Case {
            name: "url_param",
            balance: "url_param id",
            algo: LbAlgo::UrlParam {
                name: b"id"[..].into(),
            },
            hash: rr(),
            weights: &[1, 1, 1],
            backup: &[],
            allbackups: false,
            requests: 20,
            events: &[],
            path: varied,
        },
    ];
    for c in &cases {
        let t0 = Instant::now();
        run_case(c);
        eprintln!("case {}: {:?}", c.name, t0.elapsed());
    }
}

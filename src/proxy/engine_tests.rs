//! In-process engine tests: an IR built by hand, real sockets, in-test backends.
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::listener;
use super::runtime::Runtime;
use crate::haproxy::ir;

/// A backend answering every request with `name\n`, keep-alive.
async fn backend(name: &'static str) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut tmp = [0u8; 4096];
                loop {
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut tmp).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&tmp[..n]),
                        }
                    }
                    let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                    let head = String::from_utf8_lossy(&buf[..end]).to_string();
                    buf.drain(..end);
                    let xff = head
                        .lines()
                        .find(|l| l.starts_with("x-forwarded-for:"))
                        .map(|l| l[16..].trim().to_string())
                        .unwrap_or_default();
                    let body = format!("{name}\n{xff}");
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{}",
                        body.len(),
                        body
                    );
                    if s.write_all(resp.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn server(name: &str, addr: SocketAddr, weight: u32) -> ir::Server {
    ir::Server {
        name: name.into(),
        addr: ir::ServerAddr::Inet {
            host: addr.ip().to_string(),
            resolved: Some(addr.ip()),
            port: ir::ServerPort::Fixed(addr.port()),
        },
        weight,
        ..Default::default()
    }
}

fn listen(servers: Vec<ir::Server>) -> ir::Config {
    let mut p = ir::Proxy {
        kind: ir::ProxyKind::Listen,
        name: "app".into(),
        mode: ir::ProxyMode::Http,
        servers,
        ..Default::default()
    };
    p.binds.push(ir::Bind {
        addrs: vec![ir::ListenAddr::Inet {
            ip: "127.0.0.1".parse().unwrap(),
            ports: ir::PortRange { low: 0, high: 0 },
            v6only: false,
        }],
        addr_text: "127.0.0.1:0".into(),
        options: Default::default(),
        span: Default::default(),
    });
    p.options.forwardfor = Some(ir::ForwardFor {
        except: None,
        header: "X-Forwarded-For".into(),
        if_none: false,
    });
    ir::Config {
        proxies: vec![p],
        ..Default::default()
    }
}

async fn start(cfg: ir::Config) -> SocketAddr {
    let rt = Runtime::compile(&cfg).unwrap();
    let mut bound = Vec::new();
    listener::bind_all(
        &rt.frontends[0].cfg,
        0,
        &rt.frontends[0].cfg.binds[0],
        &mut bound,
    )
    .unwrap();
    let addr = bound[0].local;
    tokio::spawn(super::process::serve_all(rt, bound, true));
    addr
}

async fn get(s: &mut TcpStream, path: &str) -> String {
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut tmp))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&tmp[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(h) = text.find("\r\n\r\n") {
            let cl: usize = text[..h]
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= h + 4 + cl {
                return text;
            }
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn roundrobin_keepalive_and_forwardfor() {
    let a = backend("web1").await;
    let b = backend("web2").await;
    let addr = start(listen(vec![server("web1", a, 2), server("web2", b, 1)])).await;
    let mut c = TcpStream::connect(addr).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..6 {
        let r = get(&mut c, "/").await;
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
        let body = &r[r.find("\r\n\r\n").unwrap() + 4..];
        seen.push(body.lines().next().unwrap().to_string());
        assert_eq!(body.lines().nth(1), Some("127.0.0.1"));
    }
    assert_eq!(seen.iter().filter(|s| *s == "web1").count(), 4, "{seen:?}");
    assert_eq!(seen.iter().filter(|s| *s == "web2").count(), 2, "{seen:?}");
}

/// Idle keep-alive connections hold only the serve future: keep it small (the transaction
/// state is boxed per request).
#[test]
fn idle_connection_future_stays_small() {
    let rt = Runtime::compile(&listen(vec![])).unwrap();
    let engine = super::Engine::new(rt, super::log::Logger::default());
    let fe = engine.runtime.load().frontends[0].clone();
    let info = super::ctx::ConnInfo::default();
    let std_sock = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let r = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    r.block_on(async {
        let s = TcpStream::connect(std_sock.local_addr().unwrap())
            .await
            .unwrap();
        let fut = super::stream::serve(s, info, fe, engine.clone());
        let size = std::mem::size_of_val(&fut);
        assert!(size <= 2048, "serve future is {size} bytes");
    });
}

/// What an idle plain HTTP keep-alive connection costs is its `serve` future (boxed by
/// `tcp::dispatch`; TLS, h2 and mode tcp are other futures) plus the small task around it.
#[test]
fn plain_http_connection_future_stays_under_a_kilobyte() {
    let rt = Runtime::compile(&listen(vec![])).unwrap();
    let engine = super::Engine::new(rt, super::log::Logger::default());
    let fe = engine.runtime.load().frontends[0].clone();
    let std_sock = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let r = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    r.block_on(async {
        let s = TcpStream::connect(std_sock.local_addr().unwrap())
            .await
            .unwrap();
        let fut = super::stream::serve(s, super::ctx::ConnInfo::default(), fe, engine.clone());
        let size = std::mem::size_of_val(&fut);
        eprintln!("serve future: {size} bytes");
        assert!(size <= 1024, "serve future is {size} bytes");
    });
}

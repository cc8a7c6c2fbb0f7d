//! Connection entry for every listener, and `mode tcp` streams.
//!
//! [`dispatch`] runs, per accepted connection: `accept-proxy` (PROXY v1/v2 header),
//! `tcp-request connection` rules, the TLS handshake of `bind ... ssl` (ALPN h2 goes to an
//! HTTP/2 front that feeds the HTTP/1 engine), then the HTTP engine or [`serve_l4`].
//!
//! [`serve_l4`] is `mode tcp`: `tcp-request content` rules with `tcp-request inspect-delay`
//! (fetches `req.len`, `req.ssl_sni` from a ClientHello that is not terminated,
//! `req.ssl_hello_type`), `use_backend` (SNI passthrough), server choice with the backend's
//! balance algorithm, `send-proxy[-v2]`, server-side TLS, and a relay with half-close and
//! `timeout client/server/tunnel`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout_at;

use super::acl::{cond_ok, AclSet, CompiledCond};
use super::balance;
use super::ctx::{ConnInfo, ProxyLookup, RequestCtx, RequestHead, VarValue, Vars};
use super::log::LogRecord;
use super::proxy_proto;
use super::runtime::{or_forever, Backend, Counters, Frontend, Runtime, Server};
use super::sample::{
    take_may_change, AuthList, CompileEnv, CompiledExpr, EvalCtx, RES_PAYLOAD_VAR,
};
use super::stream;
use super::tls::{self, ServerTls};
use super::Engine;
use crate::haproxy::ir;

/// Variable names under which the tcp layer exposes `req.len` and `req.ssl_hello_type`
/// (the sample module maps those fetches to these names).
pub const VAR_REQ_LEN: &str = "\0req.len";
pub const VAR_HELLO_TYPE: &str = "\0req.ssl_hello_type";
/// The first ALPN protocol of a ClientHello (`req.ssl_alpn`).
pub const VAR_REQ_ALPN: &str = "\0req.ssl_alpn";
/// The bytes received so far while inspecting (`req.payload`).
pub const VAR_REQ_PAYLOAD: &str = "\0req.payload";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TcpVerdict {
    Accept,
    Reject,
    /// Actions this engine does not run (they neither accept nor reject).
    Continue,
}

/// A frontend's compiled `tcp-request connection|content` rules.
#[derive(Debug, Default)]
pub struct TcpRules {
    connection: Vec<(TcpVerdict, Option<CompiledCond>)>,
    content: Vec<ContentRule>,
    inspect_delay: Option<Duration>,
}

/// A `tcp-request content` / `tcp-response content` rule: accept, reject, `set-var`, or an
/// action this engine does not run.
#[derive(Debug)]
struct ContentRule {
    verdict: TcpVerdict,
    cond: Option<CompiledCond>,
    set_var: Option<(Box<str>, CompiledExpr)>,
}

fn compile_content(
    rules: &[ir::TcpRule],
    acls: &AclSet,
    env: &CompileEnv,
) -> Result<Vec<ContentRule>, String> {
    let verdicts = compile_tcp(rules, acls, env)?;
    rules
        .iter()
        .zip(verdicts)
        .map(|(r, (verdict, cond))| {
            let set_var = match &r.action {
                ir::TcpAction::SetVar { name, expr } => Some((
                    Box::from(name.as_str()),
                    CompiledExpr::compile(expr, env).map_err(|e| e.to_string())?,
                )),
                _ => None,
            };
            Ok(ContentRule {
                verdict,
                cond,
                set_var,
            })
        })
        .collect()
}

/// Runs content rules in order (`set-var` rules set their variable and go on); the first
/// accept or reject ends them. Also says whether a fetch lacked data that may still arrive,
/// in which case a reject (or no decision) is only final once inspection is over.
fn run_content(
    rules: &[ContentRule],
    head: &RequestHead,
    info: &ConnInfo,
    names: (&str, &str),
    vars: &mut Vars,
    rt: &Runtime,
) -> (Option<TcpVerdict>, bool) {
    let _ = take_may_change();
    for r in rules {
        let (matched, value) = {
            let ctx = RequestCtx::new(head, info, names.0, names.1, vars)
                .with_proxies(rt as &dyn ProxyLookup);
            let ec = EvalCtx::new(&ctx);
            if cond_ok(r.cond.as_ref(), &ec) {
                let v = r
                    .set_var
                    .as_ref()
                    .and_then(|(_, e)| e.eval(&ec).map(|s| s.to_var()));
                (true, v)
            } else {
                (false, None)
            }
        };
        if !matched {
            continue;
        }
        match r.verdict {
            TcpVerdict::Continue => {
                if let (Some((name, _)), Some(v)) = (&r.set_var, value) {
                    vars.set(name, v);
                }
            }
            v => return (Some(v), take_may_change()),
        }
    }
    (None, take_may_change())
}

pub(crate) fn compile_tcp(
    rules: &[ir::TcpRule],
    acls: &AclSet,
    env: &CompileEnv,
) -> Result<Vec<(TcpVerdict, Option<CompiledCond>)>, String> {
    rules
        .iter()
        .map(|r| {
            let v = match r.action {
                ir::TcpAction::Accept => TcpVerdict::Accept,
                ir::TcpAction::Reject | ir::TcpAction::SilentDrop => TcpVerdict::Reject,
                _ => TcpVerdict::Continue,
            };
            let c =
                CompiledCond::compile_opt(r.cond.as_ref(), acls, env).map_err(|e| e.to_string())?;
            Ok((v, c))
        })
        .collect()
}

pub(crate) fn first_verdict(
    rules: &[(TcpVerdict, Option<CompiledCond>)],
    ec: &EvalCtx<'_>,
) -> Option<TcpVerdict> {
    rules
        .iter()
        .filter(|(v, _)| *v != TcpVerdict::Continue)
        .find(|(_, c)| cond_ok(c.as_ref(), ec))
        .map(|(v, _)| *v)
}

/// What a listener adds on top of its frontend: TLS, PROXY protocol, tcp rules.
pub struct ListenerL4 {
    tls: Option<tokio_rustls::TlsAcceptor>,
    accept_proxy: bool,
    /// `proto h2` on the bind: HTTP/2 with prior knowledge (h2c, or h2 whatever ALPN says).
    force_h2: bool,
    rules: TcpRules,
    /// `tcp-response content` rules of every backend (by backend index).
    response: Vec<Vec<ContentRule>>,
    /// Server-side TLS configs by server uid.
    server_tls: Arc<Vec<Option<ServerTls>>>,
}

/// Server-side TLS configs of every server (index = server uid).
pub fn server_tls_table(rt: &Runtime) -> Result<Arc<Vec<Option<ServerTls>>>, String> {
    let mut v = vec![None; rt.server_count];
    for be in &rt.backends {
        for s in &be.servers {
            if let Some(slot) = v.get_mut(s.uid) {
                *slot = tls::client_config(&s.cfg)
                    .map_err(|e| format!("backend '{}' server '{}': {e}", be.name, s.name))?;
            }
        }
    }
    Ok(Arc::new(v))
}

impl ListenerL4 {
    pub fn build(
        opts: &ir::BindOptions,
        fe: &Frontend,
        rt: &Runtime,
        server_tls: Arc<Vec<Option<ServerTls>>>,
    ) -> Result<Arc<ListenerL4>, String> {
        let tls = if opts.ssl {
            let cfg = tls::server_config(opts).map_err(|e| format!("Proxy '{}': {e}", fe.name))?;
            Some(tokio_rustls::TlsAcceptor::from(cfg))
        } else {
            None
        };
        let env = CompileEnv {
            userlists: rt
                .userlists
                .iter()
                .map(|u| Arc::new(AuthList::from_ir(u)))
                .collect(),
        };
        let acls = &fe.rules.acls;
        let rules = TcpRules {
            connection: compile_tcp(&fe.cfg.tcp_request_connection, acls, &env)?,
            content: compile_content(&fe.cfg.tcp_request_content, acls, &env)?,
            inspect_delay: fe.cfg.tcp_request_inspect_delay,
        };
        let response = rt
            .backends
            .iter()
            .map(|be| compile_content(&be.cfg.tcp_response_content, &be.rules.acls, &env))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Arc::new(ListenerL4 {
            tls,
            accept_proxy: opts.accept_proxy,
            force_h2: opts.proto.as_deref() == Some("h2"),
            rules,
            response,
            server_tls,
        }))
    }
}

impl ListenerL4 {
    /// Plain HTTP/1 (no TLS, h2, PROXY header or tcp rules): the accept loop runs
    /// `stream::serve` directly in the connection's task, which then holds nothing else.
    pub fn is_plain_http(&self, fe: &Frontend) -> bool {
        fe.mode == ir::ProxyMode::Http
            && self.tls.is_none()
            && !self.accept_proxy
            && !self.force_h2
            && self.rules.connection.is_empty()
    }
}

/// Handles one accepted connection through its listener's layers. Boxed: the TLS handshake,
/// h2 and mode tcp futures are large, and plain HTTP/1 (see `ListenerL4::is_plain_http`)
/// does not pay for them.
pub fn dispatch(
    sock: TcpStream,
    info: ConnInfo,
    fe: Arc<Frontend>,
    engine: Arc<Engine>,
    l4: Arc<ListenerL4>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    if l4.is_plain_http(&fe) {
        Box::pin(stream::serve(sock, info, fe, engine))
    } else {
        Box::pin(dispatch_layered(sock, info, fe, engine, l4))
    }
}

/// `dispatch` for everything but plain HTTP/1.
async fn dispatch_layered(
    mut sock: TcpStream,
    mut info: ConnInfo,
    fe: Arc<Frontend>,
    engine: Arc<Engine>,
    l4: Arc<ListenerL4>,
) {
    if l4.accept_proxy {
        let limit = or_forever(fe.cfg.timeouts.client).min(Duration::from_secs(30));
        match proxy_proto::read_header_with_id(&mut sock, limit).await {
            Ok((addrs, uid)) => {
                if let Some(a) = addrs {
                    info.src = a.src;
                    info.dst = a.dst;
                }
                info.pp_unique_id = uid;
            }
            Err(_) => return,
        }
    }
    if !l4.rules.connection.is_empty() {
        let head = RequestHead::default();
        let vars = Vars::new();
        let ctx = RequestCtx::new(&head, &info, &fe.name, "", &vars);
        if first_verdict(&l4.rules.connection, &EvalCtx::new(&ctx)) == Some(TcpVerdict::Reject) {
            Counters::add(&fe.counters.denied_req, 1);
            return;
        }
    }
    let Some(acceptor) = &l4.tls else {
        match fe.mode {
            ir::ProxyMode::Http if l4.force_h2 => serve_h2(sock, info, fe, engine).await,
            ir::ProxyMode::Http => stream::serve(sock, info, fe, engine).await,
            _ => serve_l4(sock, info, fe, engine, &l4).await,
        }
        return;
    };
    let limit = or_forever(fe.cfg.timeouts.client);
    let tls = match tokio::time::timeout(limit, acceptor.accept(sock)).await {
        Ok(Ok(t)) => t,
        _ => return,
    };
    let (h2, sni) = {
        let (_, conn) = tls.get_ref();
        (
            conn.alpn_protocol() == Some(b"h2"),
            conn.server_name()
                .map(|s| Bytes::copy_from_slice(s.as_bytes())),
        )
    };
    info.ssl_fc = true;
    info.ssl_sni = sni;
    match fe.mode {
        ir::ProxyMode::Http if h2 || l4.force_h2 => serve_h2(tls, info, fe, engine).await,
        ir::ProxyMode::Http => stream::serve(tls, info, fe, engine).await,
        _ => serve_l4(tls, info, fe, engine, &l4).await,
    }
}

/// HTTP/2 over TLS: each request is replayed as HTTP/1.1 into the HTTP engine over an
/// in-memory pipe, so every rule, balance and log path is the same as for HTTP/1.
async fn serve_h2<C>(client: C, info: ConnInfo, fe: Arc<Frontend>, engine: Arc<Engine>)
where
    C: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let svc = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let (info, fe, engine) = (info.clone(), fe.clone(), engine.clone());
        async move {
            let (near, far) = tokio::io::duplex(64 * 1024);
            tokio::spawn(stream::serve(far, info, fe, engine));
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(TokioIo::new(near)).await?;
            tokio::spawn(conn);
            let (mut parts, body) = req.into_parts();
            if !parts.headers.contains_key(http::header::HOST) {
                if let Some(a) = parts.uri.authority().and_then(|a| a.as_str().parse().ok()) {
                    parts.headers.insert(http::header::HOST, a);
                }
            }
            if let Some(pq) = parts.uri.path_and_query() {
                if let Ok(u) = pq.as_str().parse() {
                    parts.uri = u;
                }
            }
            parts.version = http::Version::HTTP_11;
            let mut resp = sender
                .send_request(hyper::Request::from_parts(parts, body))
                .await?;
            for h in [
                "connection",
                "keep-alive",
                "transfer-encoding",
                "proxy-connection",
                "upgrade",
            ] {
                resp.headers_mut().remove(h);
            }
            Ok::<_, hyper::Error>(resp)
        }
    });
    // The connection window stays at the protocol's 65535 until data is received, as
    // HAProxy does: no WINDOW_UPDATE between our SETTINGS and the client's SETTINGS ack.
    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
        .initial_connection_window_size(65_535)
        .serve_connection(TokioIo::new(client), svc)
        .await;
}

/// Parses a TLS ClientHello at the start of `buf`.
/// Returns None while the record is incomplete, else (hello type, SNI).
pub fn parse_client_hello(buf: &[u8]) -> Option<(i64, Option<Vec<u8>>)> {
    if buf.is_empty() {
        return None;
    }
    if buf[0] != 0x16 {
        return Some((0, None));
    }
    if buf.len() < 5 {
        return None;
    }
    let rec_len = u16::from_be_bytes([buf[3], buf[4]]) as usize;
    if buf.len() < 5 + rec_len {
        return if buf.len() >= 16384 + 5 {
            Some((0, None))
        } else {
            None
        };
    }
    let hs = &buf[5..5 + rec_len];
    let hello_type = i64::from(*hs.first()?);
    if hello_type != 1 {
        return Some((hello_type, None));
    }
    Some((1, sni_of(hs)))
}

/// The first protocol of the ALPN extension of a complete ClientHello record in `buf`.
pub fn client_hello_alpn(buf: &[u8]) -> Option<Vec<u8>> {
    let rec_len = u16::from_be_bytes([*buf.get(3)?, *buf.get(4)?]) as usize;
    let hs = buf.get(5..5 + rec_len)?;
    if hs.first() != Some(&1) {
        return None;
    }
    let mut p = 4 + 2 + 32; // header, version, random
    p += 1 + *hs.get(p)? as usize;
    p += 2 + u16::from_be_bytes([*hs.get(p)?, *hs.get(p + 1)?]) as usize;
    p += 1 + *hs.get(p)? as usize;
    let ext_len = u16::from_be_bytes([*hs.get(p)?, *hs.get(p + 1)?]) as usize;
    p += 2;
    let end = (p + ext_len).min(hs.len());
    while p + 4 <= end {
        let t = u16::from_be_bytes([hs[p], hs[p + 1]]);
        let l = u16::from_be_bytes([hs[p + 2], hs[p + 3]]) as usize;
        let body = hs.get(p + 4..p + 4 + l)?;
        if t == 16 {
            // protocol_name_list: len(2), then len(1) name...
            let n = *body.get(2)? as usize;
            return body.get(3..3 + n).map(<[u8]>::to_vec);
        }
        p += 4 + l;
    }
    None
}

/// The server_name extension of a ClientHello handshake message.
fn sni_of(hs: &[u8]) -> Option<Vec<u8>> {
    let mut p = 4 + 2 + 32; // header, version, random
    let sid = *hs.get(p)? as usize;
    p += 1 + sid;
    let cs = u16::from_be_bytes([*hs.get(p)?, *hs.get(p + 1)?]) as usize;
    p += 2 + cs;
    let cm = *hs.get(p)? as usize;
    p += 1 + cm;
    let ext_len = u16::from_be_bytes([*hs.get(p)?, *hs.get(p + 1)?]) as usize;
    p += 2;
    let end = (p + ext_len).min(hs.len());
    while p + 4 <= end {
        let t = u16::from_be_bytes([hs[p], hs[p + 1]]);
        let l = u16::from_be_bytes([hs[p + 2], hs[p + 3]]) as usize;
        let body = hs.get(p + 4..p + 4 + l)?;
        if t == 0 {
            // server_name_list: len(2), type(1)=0 host_name, len(2), name
            let name_len = u16::from_be_bytes([*body.get(3)?, *body.get(4)?]) as usize;
            if *body.get(2)? == 0 {
                return body.get(5..5 + name_len).map(|n| n.to_ascii_lowercase());
            }
            return None;
        }
        p += 4 + l;
    }
    None
}

struct ServedGuard {
    server: Arc<Server>,
    backend: Arc<Backend>,
}

impl Drop for ServedGuard {
    fn drop(&mut self) {
        if let Some(l) = self.backend.live.get(self.server.index) {
            l.conn_done();
        }
        if self.server.maxconn != 0 {
            self.backend.queue_notify.notify_one();
        }
    }
}

struct LeaveGuard<'a>(&'a Counters);
impl Drop for LeaveGuard<'_> {
    fn drop(&mut self) {
        self.0.leave();
    }
}

fn ms(d: Duration) -> i64 {
    stream::ms(d)
}

/// Writes the PROXY header `send-proxy` / `send-proxy-v2` asks for on a new server
/// connection (errors surface on the next write).
pub async fn send_proxy_header(cfg: &ir::Server, s: &mut TcpStream, info: &ConnInfo) {
    if cfg.send_proxy_v2 {
        let _ = s.write_all(&proxy_proto::v2(info.src, info.dst)).await;
    } else if cfg.send_proxy {
        let _ = s.write_all(&proxy_proto::v1(info.src, info.dst)).await;
    }
}

/// Whether a backend's servers send PROXY headers (their connections are not shared).
pub fn uses_proxy_protocol(be: &Backend) -> bool {
    be.servers
        .iter()
        .any(|s| s.cfg.send_proxy || s.cfg.send_proxy_v2)
}

/// Connects to `server` (PROXY header and TLS as configured).
async fn connect_server(
    server: &Server,
    addr: SocketAddr,
    info: &ConnInfo,
    limit: Duration,
    server_tls: &[Option<ServerTls>],
) -> Option<Box<dyn AsyncStream>> {
    let mut s = tokio::time::timeout(limit, TcpStream::connect(addr))
        .await
        .ok()?
        .ok()?;
    let _ = s.set_nodelay(true);
    if server.cfg.send_proxy_v2 {
        s.write_all(&proxy_proto::v2(info.src, info.dst))
            .await
            .ok()?;
    } else if server.cfg.send_proxy {
        s.write_all(&proxy_proto::v1(info.src, info.dst))
            .await
            .ok()?;
    }
    match server_tls.get(server.uid).and_then(|t| t.as_ref()) {
        None => Some(Box::new(s)),
        Some(t) => {
            let c = tokio_rustls::TlsConnector::from(t.config.clone());
            let name = tls::handshake_name(t, addr.ip());
            let tls = tokio::time::timeout(limit, c.connect(name, s))
                .await
                .ok()?
                .ok()?;
            Some(Box::new(tls))
        }
    }
}

pub trait AsyncStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> AsyncStream for T {}

/// Serves one client connection in `mode tcp`.
pub async fn serve_l4<C>(
    mut client: C,
    mut info: ConnInfo,
    fe: Arc<Frontend>,
    engine: Arc<Engine>,
    l4: &ListenerL4,
) where
    C: AsyncRead + AsyncWrite + Unpin,
{
    let rt: Arc<Runtime> = engine.runtime.load_full();
    let mut rec = LogRecord::new(&info, std::time::SystemTime::now(), &fe);
    rec.ssl = info.ssl_fc;
    let t0 = Instant::now();
    let mut head = RequestHead::default();
    let mut vars = Vars::new();
    let mut buf: Vec<u8> = Vec::new();
    // ---- tcp-request content, with inspect-delay
    let inspect_sni = !info.ssl_fc;
    let delay = l4.rules.inspect_delay.unwrap_or(Duration::ZERO);
    let deadline = tokio::time::Instant::now() + delay;
    let mut done_reading = delay.is_zero();
    loop {
        let hello = parse_client_hello(&buf);
        vars.set(VAR_REQ_LEN, VarValue::Int(buf.len() as i64));
        if let Some((t, sni)) = &hello {
            vars.set(VAR_HELLO_TYPE, VarValue::Int(*t));
            if let Some(alpn) = client_hello_alpn(&buf) {
                vars.set(VAR_REQ_ALPN, VarValue::Str(Bytes::from(alpn)));
            }
            if inspect_sni {
                info.ssl_sni = sni.as_ref().map(|s| Bytes::copy_from_slice(s));
            }
        }
        // a ClientHello still arriving leaves the SNI undecided: wait for it
        let decided = hello.is_some() || done_reading;
        if decided {
            // what `req.payload` inspects
            head.body = Bytes::copy_from_slice(&buf);
            let names = (fe.name.as_str(), "");
            let (verdict, may_change) =
                run_content(&l4.rules.content, &head, &info, names, &mut vars, &rt);
            match verdict {
                Some(TcpVerdict::Reject) if may_change && !done_reading => {}
                Some(TcpVerdict::Reject) => {
                    Counters::add(&fe.counters.denied_req, 1);
                    rec.term = *b"PR";
                    rec.t_active = ms(t0.elapsed());
                    engine.logger.log(&rec, &fe, &engine);
                    return;
                }
                Some(_) => break,
                None if done_reading || !may_change => break,
                None => {}
            }
        }
        if done_reading || l4.rules.content.is_empty() {
            break;
        }
        let mut tmp = [0u8; 4096];
        match timeout_at(deadline, client.read(&mut tmp)).await {
            Err(_) | Ok(Ok(0)) | Ok(Err(_)) => done_reading = true,
            Ok(Ok(n)) => {
                buf.extend_from_slice(&tmp[..n]);
                if buf.len() >= 16384 {
                    done_reading = true;
                }
            }
        }
    }
    // ---- backend
    let be_idx = {
        let ctx = RequestCtx::new(&head, &info, &fe.name, "", &vars)
            .with_proxies(&*rt as &dyn ProxyLookup);
        let ec = EvalCtx::new(&ctx);
        fe.rules
            .switching
            .select(&ec, &|n| rt.backend_index(n).is_some())
            .and_then(|n| rt.backend_index(&n))
            .or(fe.own_backend)
            .or(fe.default_backend)
    };
    let Some(be) = be_idx.and_then(|i| rt.backends.get(i)).cloned() else {
        rec.term = *b"SC";
        engine.logger.log(&rec, &fe, &engine);
        return;
    };
    rec.backend = Some(be.clone());
    be.counters.enter();
    let _be_guard = LeaveGuard(&be.counters);
    let connect_timeout = or_forever(be.cfg.timeouts.connect);
    let mut retries_left = be.retries;
    let mut exclude = None;
    let t_queue = Instant::now();
    let (server, mut conn, _served) = loop {
        let ctx = RequestCtx::new(&head, &info, &fe.name, &be.name, &vars);
        let server = match be.balancer.pick_avoiding(&ctx, &be.live, exclude) {
            balance::Pick::Server(i) => match be.servers.get(i) {
                Some(s) => s.clone(),
                None => return,
            },
            balance::Pick::Full => {
                let d = tokio::time::Instant::from_std(
                    t_queue + or_forever(be.cfg.timeouts.queue.or(be.cfg.timeouts.connect)),
                );
                if timeout_at(d, be.queue_notify.notified()).await.is_err() {
                    rec.term = *b"sQ";
                    engine.logger.log(&rec, &fe, &engine);
                    return;
                }
                continue;
            }
            balance::Pick::NoServer => {
                rec.term = *b"SC";
                engine.logger.log(&rec, &fe, &engine);
                return;
            }
        };
        if let Some(l) = be.live.get(server.index) {
            l.conn_start();
        }
        let served = ServedGuard {
            server: server.clone(),
            backend: be.clone(),
        };
        super::sessions::attach_server(be.index, server.uid);
        let Some(target) = server.target() else {
            exclude = Some(server.index);
            continue;
        };
        let t_conn = Instant::now();
        let addr = target.addr(info.dst.port());
        match connect_server(&server, addr, &info, connect_timeout, &l4.server_tls).await {
            Some(s) => {
                rec.t_connect = ms(t_conn.elapsed());
                break (server, s, served);
            }
            None => {
                Counters::add(&be.counters.err_conn, 1);
                if retries_left == 0 {
                    rec.server = Some(server.clone());
                    rec.term = *b"SC";
                    engine.logger.log(&rec, &fe, &engine);
                    return;
                }
                retries_left -= 1;
                rec.retries += 1;
                if be.cfg.options.redispatch && retries_left == 0 {
                    exclude = Some(server.index);
                } else {
                    tokio::time::sleep(connect_timeout.min(Duration::from_secs(1))).await;
                }
            }
        }
    };
    rec.t_queue = ms(t_queue.elapsed()) - rec.t_connect.max(0);
    rec.server = Some(server.clone());
    server.stats.counters.enter();
    let _srv_guard = LeaveGuard(&server.stats.counters);
    Counters::add(&server.stats.counters.lbtot, 1);
    if !buf.is_empty() && conn.write_all(&buf).await.is_err() {
        rec.term = *b"SD";
        engine.logger.log(&rec, &fe, &engine);
        return;
    }
    // ---- tcp-response content, with tcp-response inspect-delay
    if let Some(rules) = l4.response.get(be.index).filter(|r| !r.is_empty()) {
        let delay = be.cfg.tcp_response_inspect_delay.unwrap_or(Duration::ZERO);
        let deadline = tokio::time::Instant::now() + delay;
        let mut done = delay.is_zero();
        let mut sbuf: Vec<u8> = Vec::new();
        loop {
            vars.set(
                RES_PAYLOAD_VAR,
                VarValue::Str(Bytes::copy_from_slice(&sbuf)),
            );
            let names = (fe.name.as_str(), be.name.as_str());
            let (verdict, may_change) = run_content(rules, &head, &info, names, &mut vars, &rt);
            match verdict {
                Some(TcpVerdict::Reject) if may_change && !done => {}
                Some(TcpVerdict::Reject) => {
                    Counters::add(&be.counters.denied_resp, 1);
                    rec.term = *b"PD";
                    rec.t_active = ms(t0.elapsed());
                    engine.logger.log(&rec, &fe, &engine);
                    return;
                }
                Some(_) => break,
                None if done || !may_change => break,
                None => {}
            }
            if done {
                break;
            }
            let mut tmp = [0u8; 4096];
            match timeout_at(deadline, conn.read(&mut tmp)).await {
                Err(_) | Ok(Ok(0)) | Ok(Err(_)) => done = true,
                Ok(Ok(n)) => {
                    sbuf.extend_from_slice(&tmp[..n]);
                    if sbuf.len() >= 16384 {
                        done = true;
                    }
                }
            }
        }
        vars.unset(RES_PAYLOAD_VAR);
        if !sbuf.is_empty() && client.write_all(&sbuf).await.is_err() {
            rec.term = *b"CD";
            engine.logger.log(&rec, &fe, &engine);
            return;
        }
    }
    let idle = be
        .cfg
        .timeouts
        .tunnel
        .or(fe.cfg.timeouts.tunnel)
        .unwrap_or_else(|| {
            or_forever(fe.cfg.timeouts.client).min(or_forever(be.cfg.timeouts.server))
        });
    let kill = server_kill_switch(&be, &server);
    let (up, down) = tokio::select! {
        r = stream::tunnel(&mut client, &mut conn, idle) => r,
        _ = kill => (0, 0),
    };
    rec.bytes_in = up + buf.len() as u64;
    rec.bytes_out = down;
    Counters::add(&be.counters.bytes_in, rec.bytes_in);
    Counters::add(&be.counters.bytes_out, rec.bytes_out);
    rec.t_active = ms(t0.elapsed());
    engine.logger.log(&rec, &fe, &engine);
}

/// Resolves when the session must be killed: `on-marked-down shutdown-sessions` and the
/// server goes down, or `on-marked-up shutdown-backup-sessions` on a backup server while an
/// active server comes up. Polls the (atomic) server state; never resolves otherwise.
async fn server_kill_switch(be: &Arc<Backend>, server: &Arc<Server>) {
    let on_down = server.cfg.on_marked_down.as_deref() == Some("shutdown-sessions");
    let backup_kill = server.backup
        && be.servers.iter().any(|s| {
            !s.backup && s.cfg.on_marked_up.as_deref() == Some("shutdown-backup-sessions")
        });
    if !on_down && !backup_kill {
        return std::future::pending().await;
    }
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let up = |s: &Server| be.live.get(s.index).is_some_and(|l| l.is_up());
        if on_down && !up(server) {
            return;
        }
        if backup_kill
            && be.servers.iter().any(|s| {
                !s.backup
                    && s.cfg.on_marked_up.as_deref() == Some("shutdown-backup-sessions")
                    && up(s)
            })
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ClientHello built by rustls for `name`.
    fn client_hello(name: &str) -> Vec<u8> {
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

    #[test]
    fn sni_from_client_hello() {
        let h = client_hello("Www.Example.org");
        assert_eq!(
            parse_client_hello(&h),
            Some((1, Some(b"www.example.org".to_vec())))
        );
        for cut in [0, 1, 4, 5, 40, h.len() - 1] {
            assert_eq!(parse_client_hello(&h[..cut]), None, "cut {cut}");
        }
        assert_eq!(parse_client_hello(b"GET / HTTP/1.0\r\n"), Some((0, None)));
        // an IP address is not sent as SNI
        let h = client_hello("127.0.0.1");
        assert_eq!(parse_client_hello(&h), Some((1, None)));
    }

    #[test]
    fn garbage_never_panics() {
        let mut x: u32 = 1;
        for len in 0..400 {
            let mut b = vec![0x16, 3, 1, (len >> 8) as u8, len as u8];
            for _ in 0..len {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                b.push((x >> 16) as u8);
            }
            if len > 0 {
                b[5] = 1;
            }
            let _ = parse_client_hello(&b);
        }
    }
}

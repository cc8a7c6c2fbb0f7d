//! One task per client connection in `mode http`: read a request, choose the backend and the
//! server, connect (timeouts, retries, redispatch, queueing on maxconn), forward both ways,
//! keep both sides alive as the connection mode allows, and log each transaction.

use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout_at;

use super::balance;
use super::body_wait::{self, BodyWait, WaitEnd as BodyWaitEnd};
use super::ctx::{ConnInfo, ProxyLookup, RequestCtx, RequestHead, ResponseCtx, ResponseHead, Vars};
use super::http1::{self, BodyKind, BodyProgress, HeadParser, Parsed};
use super::log::LogRecord;
use super::pool::{self, ServerConn};
use super::rules::{self, apply_response_rules, RuleEnv, Verdict};
use super::runtime::{
    conn_mode, or_forever, Backend, Counters, Frontend, HttpConnMode, Runtime, Server,
};
use super::sample::EvalCtx;
use super::stats;
use super::Engine;
use crate::haproxy::ir;

/// Largest request or response head accepted (HAProxy: bufsize - maxrewrite).
pub const MAX_HEAD: usize = 15360;
/// On soft stop, how long an idle keep-alive connection may still bring one last request.
const STOP_GRACE: Duration = Duration::from_secs(1);
const BUF_SIZE: usize = 16384;
/// Read size while forwarding a body: fewer, larger reads and writes for big transfers.
const BODY_BUF_SIZE: usize = 65536;
/// Body bytes read with a response head that are copied behind it into one write.
const INLINE_BODY_MAX: usize = 4096;

/// Releases a server slot (maxconn accounting) when a transaction ends, waking queued requests.
struct ServedGuard {
    server: Arc<Server>,
    backend: Arc<Backend>,
}

impl ServedGuard {
    fn new(server: Arc<Server>, backend: Arc<Backend>) -> ServedGuard {
        if let Some(l) = backend.live.get(server.index) {
            l.conn_start();
        }
        ServedGuard { server, backend }
    }
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

/// Result of choosing a server.
enum Pick {
    Server(Arc<Server>),
    /// Usable servers exist but all are at maxconn.
    Full,
    /// No usable server.
    None,
}

fn pick_server(be: &Backend, req: &RequestCtx<'_>, exclude: Option<usize>) -> Pick {
    match be.balancer.pick_avoiding(req, &be.live, exclude) {
        balance::Pick::Server(i) => match be.servers.get(i) {
            Some(s) => Pick::Server(s.clone()),
            None => Pick::None,
        },
        balance::Pick::NoServer => Pick::None,
        balance::Pick::Full => Pick::Full,
    }
}

/// How reading a head ended when it did not complete.
enum HeadEnd {
    Closed,
    Timeout { got_bytes: bool },
    Invalid,
    TooLarge,
    Stopping,
}

/// Buffers and parser state of the request in flight. Taken from a per-thread free list
/// when a request starts to arrive and given back when the connection goes idle: an idle
/// keep-alive connection holds no buffer, and a busy one allocates none per request
/// (HAProxy's buffer pools).
struct Bufs {
    cbuf: BytesMut,
    sbuf: BytesMut,
    out: Vec<u8>,
    parser: HeadParser,
    req: RequestHead,
    resp: ResponseHead,
    /// The session's variables while a request is in flight (kept in `serve` in between).
    vars: Vars,
}

/// Most free `Bufs` kept per thread (about 33 KB each once used).
const MAX_FREE_BUFS: usize = 64;
/// A buffer that grew past this is freed rather than kept on the free list.
const MAX_KEPT_CAPACITY: usize = 2 * BODY_BUF_SIZE;

thread_local! {
    // Boxed: a connection holds its `Bufs` as one pointer, moved to and from this list.
    #[allow(clippy::vec_box)]
    static FREE_BUFS: std::cell::RefCell<Vec<Box<Bufs>>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

impl Bufs {
    fn new() -> Bufs {
        Bufs {
            cbuf: BytesMut::new(),
            sbuf: BytesMut::new(),
            out: Vec::new(),
            parser: HeadParser::new(),
            req: RequestHead::default(),
            resp: ResponseHead::default(),
            vars: Vars::new(),
        }
    }

    /// Takes buffers from this thread's free list (or new ones), with the session's vars.
    fn take(vars: &mut Vars) -> Box<Bufs> {
        let mut b = FREE_BUFS
            .with(|f| f.borrow_mut().pop())
            .unwrap_or_else(|| Box::new(Bufs::new()));
        b.vars = std::mem::take(vars);
        b
    }

    /// Drops the references into the read buffers so they can be reused in place.
    fn end_transaction(&mut self) {
        self.req.headers.clear();
        self.req.method = Bytes::new();
        self.req.uri = Bytes::new();
        self.req.version = Bytes::new();
        self.resp.headers.clear();
        self.resp.reason = Bytes::new();
        self.resp.version = Bytes::new();
    }

    /// Gives the buffers back to this thread's free list (their content is dropped) and the
    /// session's vars back to `vars`.
    fn recycle(mut self: Box<Self>, vars: &mut Vars) {
        *vars = std::mem::take(&mut self.vars);
        self.end_transaction();
        self.cbuf.clear();
        self.sbuf.clear();
        self.out.clear();
        if self.cbuf.capacity() > MAX_KEPT_CAPACITY
            || self.sbuf.capacity() > MAX_KEPT_CAPACITY
            || self.out.capacity() > MAX_KEPT_CAPACITY
        {
            pool::note_freed_buffers();
            return;
        }
        FREE_BUFS.with(|f| {
            let mut f = f.borrow_mut();
            if f.len() < MAX_FREE_BUFS {
                f.push(self);
            } else {
                pool::note_freed_buffers();
            }
        });
    }
}

/// A client connection: bytes both ways, plus a readiness wait so an idle connection can
/// wait for its next request without holding buffers.
pub trait ClientStream: AsyncRead + AsyncWrite + Unpin {
    /// Ready when a read would make progress. The default is "always".
    fn poll_read_ready(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let _ = cx;
        std::task::Poll::Ready(Ok(()))
    }

    /// Whether `poll_read_ready` really waits (else a read is awaited with the buffers held).
    fn reports_read_readiness(&self) -> bool {
        false
    }
}

impl ClientStream for TcpStream {
    fn poll_read_ready(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        TcpStream::poll_read_ready(self, cx)
    }

    fn reports_read_readiness(&self) -> bool {
        true
    }
}

fn reserve(buf: &mut BytesMut) {
    if buf.capacity() - buf.len() < 2048 {
        buf.reserve(BUF_SIZE);
    }
}

/// Serves one client connection until it closes.
#[allow(clippy::manual_async_fn)] // see the comment in the body
pub fn serve<C>(
    mut client: C,
    info: ConnInfo,
    frontend: Arc<Frontend>,
    engine: Arc<Engine>,
) -> impl std::future::Future<Output = ()>
where
    C: ClientStream,
{
    // An async block, not an async fn: an async fn copies its arguments into locals, and both
    // copies stay in the future (rust-lang/rust#62958), which every idle connection pays for.
    async move { serve_conn(&mut client, &info, &frontend, &engine).await }
}

async fn serve_conn<C>(
    client: &mut C,
    info: &ConnInfo,
    frontend: &Arc<Frontend>,
    engine: &Arc<Engine>,
) where
    C: ClientStream,
{
    let rt: Arc<Runtime> = engine.runtime.load_full();
    let accept_date = std::time::SystemTime::now();
    // The request's buffers: None while the connection waits idle (see `Bufs`).
    let mut bufs: Option<Box<Bufs>> = None;
    let mut vars = Vars::new();
    let mut attached: Option<ServerConn> = None;
    let mut first = true;
    let fe = frontend;
    let t = &fe.cfg.timeouts;
    loop {
        let wait_start = Instant::now();
        let wait_date = if first {
            accept_date
        } else {
            std::time::SystemTime::now()
        };
        let idle_limit = if first {
            t.http_request.or(t.client)
        } else {
            t.http_keep_alive.or(t.http_request).or(t.client)
        };
        let head_limit = t.http_request.or(t.client);
        let got = read_request_head(
            client, &mut bufs, &mut vars, idle_limit, head_limit, engine, first,
        )
        .await;
        // Boxed: the request's state (log record, transaction) exists only while a request
        // is in flight, not in every idle connection's future.
        let keep_alive = Box::pin(handle_request(
            client,
            info,
            fe,
            &rt,
            engine,
            got,
            &mut bufs,
            &mut attached,
            first,
            (wait_start, wait_date),
        ))
        .await;
        if !keep_alive {
            break;
        }
        first = false;
    }
    if let Some(b) = bufs.take() {
        b.recycle(&mut vars);
    }
    if let Some(c) = attached.take() {
        if reuse_mode(&c, &rt) != ReuseMode::Never {
            pool::put(c);
        }
    }
}

/// Handles what reading a request head gave: answers a bad or missing request, else runs
/// the transaction and logs it. Returns whether the connection stays open for another.
#[allow(clippy::too_many_arguments)]
async fn handle_request<C: ClientStream>(
    client: &mut C,
    info: &ConnInfo,
    fe: &Arc<Frontend>,
    rt: &Arc<Runtime>,
    engine: &Arc<Engine>,
    got: Result<(), HeadEnd>,
    bufs: &mut Option<Box<Bufs>>,
    attached: &mut Option<ServerConn>,
    first: bool,
    (wait_start, wait_date): (Instant, std::time::SystemTime),
) -> bool {
    let t_req_start = Instant::now();
    let mut rec = LogRecord::new(info, wait_date, fe);
    rec.t_idle = ms(t_req_start.duration_since(wait_start));
    match got {
        Ok(()) => {}
        Err(HeadEnd::Closed) => {
            // A connection closed before its first request: HAProxy logs it as a
            // <BADREQ> 400 with state CR, unless `option dontlognull`.
            if first && !engine.logger.drops_null(fe.index) {
                rec.status = 400;
                rec.term = *b"CR";
                rec.request_line = b"<BADREQ>".to_vec();
                fe.counters.count_status(400);
                engine.logger.log(&rec, fe, engine);
            }
            return false;
        }
        Err(HeadEnd::Stopping) => return false,
        Err(HeadEnd::Timeout { got_bytes }) => {
            if first || got_bytes {
                let _ = client.write_all(http1::ERR_408).await;
                rec.status = 408;
                rec.term = *b"cR";
                rec.bytes_out = http1::ERR_408.len() as u64;
                Counters::add(&fe.counters.err_req, 1);
                fe.counters.count_status(408);
                engine.logger.log(&rec, fe, engine);
            }
            return false;
        }
        Err(HeadEnd::Invalid) | Err(HeadEnd::TooLarge) => {
            let _ = client.write_all(http1::ERR_400).await;
            rec.status = 400;
            rec.term = *b"PR";
            // HAProxy reports 0 bytes for the 400 its H1 layer sends itself
            rec.bytes_out = 0;
            rec.request_line = b"<BADREQ>".to_vec();
            Counters::add(&fe.counters.err_req, 1);
            fe.counters.count_status(400);
            engine.logger.log(&rec, fe, engine);
            return false;
        }
    }
    // read_request_head returns Ok only with the request in `bufs`
    let Some(b) = bufs.as_deref_mut() else {
        return false;
    };
    rec.t_request = ms(wait_start.elapsed()) - rec.t_idle;
    Counters::add(&fe.counters.requests, 1);
    if engine.logger.wants(fe.index) {
        rec.set_request_line(&b.req);
    }
    let outcome = transaction(client, info, fe, rt, engine, b, attached, first, &mut rec).await;
    rec.t_active = ms(t_req_start.elapsed());
    engine.logger.log(&rec, fe, engine);
    b.end_transaction();
    // A shareable server connection goes back to the idle pool between requests (as
    // HAProxy's idle lists); only private ones (`http-reuse never`) stay attached.
    if let (Some(c), Some(be)) = (attached.take(), rec.backend.as_deref()) {
        if reuse_of(be) == ReuseMode::Never {
            *attached = Some(c);
        } else {
            pool::put(c);
        }
    }
    match outcome {
        Outcome::KeepAlive => true,
        Outcome::Close => {
            let _ = client.shutdown().await;
            false
        }
        Outcome::Abort => false,
    }
}

/// `http-reuse` of a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReuseMode {
    /// Idle connections stay private to their session.
    Never,
    /// Shared, but the first request of a session never uses one (the default).
    Safe,
    /// `aggressive` / `always`: shared for every request.
    Always,
}

fn reuse_of(be: &Backend) -> ReuseMode {
    // connections that carry a PROXY header belong to their client (HAProxy: private)
    if super::tcp::uses_proxy_protocol(be) {
        return ReuseMode::Never;
    }
    match be.cfg.http_reuse.as_deref() {
        Some("never") => ReuseMode::Never,
        Some("aggressive") | Some("always") => ReuseMode::Always,
        _ => ReuseMode::Safe,
    }
}

fn reuse_mode(c: &ServerConn, rt: &Runtime) -> ReuseMode {
    rt.backends
        .iter()
        .find(|b| b.servers.iter().any(|s| s.uid == c.server_uid))
        .map_or(ReuseMode::Safe, |b| reuse_of(b))
}

pub fn ms(d: Duration) -> i64 {
    d.as_millis().min(i64::MAX as u128) as i64
}

/// Reads a request head into `bufs`. While nothing of the request has arrived yet the
/// connection holds no buffers: they are given back and taken again on the first byte.
async fn read_request_head<C: ClientStream>(
    client: &mut C,
    bufs: &mut Option<Box<Bufs>>,
    vars: &mut Vars,
    idle_limit: Option<Duration>,
    head_limit: Option<Duration>,
    engine: &Engine,
    first: bool,
) -> Result<(), HeadEnd> {
    let mut started = bufs.as_ref().is_some_and(|b| !b.cbuf.is_empty());
    let now = Instant::now();
    let mut deadline = tokio::time::Instant::from_std(
        now + or_forever(if started { head_limit } else { idle_limit }),
    );
    loop {
        if let Some(b) = bufs.as_deref_mut() {
            if !b.cbuf.is_empty() {
                match b.parser.parse_request(&mut b.cbuf, &mut b.req) {
                    Ok(Parsed::Complete(_)) => return Ok(()),
                    Ok(Parsed::Partial) => {
                        if b.cbuf.len() >= MAX_HEAD {
                            return Err(HeadEnd::TooLarge);
                        }
                    }
                    Err(_) => return Err(HeadEnd::Invalid),
                }
            }
        }
        if !started {
            // Wait for the first byte without holding buffers, so idle connections stay small.
            if let Some(b) = bufs.take() {
                b.recycle(vars);
            }
            let ready = std::future::poll_fn(|cx| client.poll_read_ready(cx));
            let r = if !first {
                // idle keep-alive wait: also ends on soft stop, after a short grace so that a
                // request already on its way is still served (with `connection: close`)
                // instead of meeting a closed connection (zero-downtime reloads).
                let mut ready = std::pin::pin!(ready);
                let stop = engine.stop.notified();
                let waited = if engine.is_stopping() {
                    None
                } else {
                    tokio::select! {
                        r = timeout_at(deadline, ready.as_mut()) => Some(r),
                        _ = stop => None,
                    }
                };
                match waited {
                    Some(r) => r,
                    None => match tokio::time::timeout(STOP_GRACE, ready.as_mut()).await {
                        Ok(x) => Ok(x),
                        Err(_) => return Err(HeadEnd::Stopping),
                    },
                }
            } else {
                timeout_at(deadline, ready).await
            };
            match r {
                Err(_) => return Err(HeadEnd::Timeout { got_bytes: false }),
                Ok(Err(_)) => return Err(HeadEnd::Closed),
                Ok(Ok(())) => {}
            }
        }
        let b = bufs.get_or_insert_with(|| Bufs::take(vars));
        reserve(&mut b.cbuf);
        let n = if !started && client.reports_read_readiness() {
            // One attempt: readiness can be spurious (tokio reports a just-accepted socket
            // readable). When nothing is there, go back to waiting without the buffers.
            let mut read = std::pin::pin!(client.read_buf(&mut b.cbuf));
            match std::future::poll_fn(|cx| {
                std::task::Poll::Ready(std::future::Future::poll(read.as_mut(), cx))
            })
            .await
            {
                std::task::Poll::Ready(r) => Ok(r),
                std::task::Poll::Pending => continue,
            }
        } else {
            timeout_at(deadline, client.read_buf(&mut b.cbuf)).await
        };
        match n {
            Err(_) => return Err(HeadEnd::Timeout { got_bytes: started }),
            Ok(Ok(0)) | Ok(Err(_)) => return Err(HeadEnd::Closed),
            Ok(Ok(_)) => {
                if !started {
                    started = true;
                    deadline =
                        tokio::time::Instant::from_std(Instant::now() + or_forever(head_limit));
                }
            }
        }
    }
}

/// What to do with the client connection after a transaction.
enum Outcome {
    KeepAlive,
    /// Close gracefully (after flushing).
    Close,
    /// Drop the connection at once (truncated transfer).
    Abort,
}

async fn send_error<C: AsyncWrite + Unpin>(
    client: &mut C,
    status: u16,
    rec: &mut LogRecord,
    fe: &Frontend,
    rt: &Runtime,
) -> Outcome {
    // the backend's error page, else the frontend's, else HAProxy's built-in one (rules.rs);
    // no request is at hand here, so log-format pages render against an empty one
    let _ = rt;
    let (req, vars, info) = (RequestHead::default(), Vars::new(), ConnInfo::default());
    let ctx = RequestCtx::new(&req, &info, &fe.name, "", &vars);
    let be_rules = rec.backend.as_deref().map(|b| &*b.rules);
    let reply = rules::error_reply(status, be_rules, &fe.rules, &EvalCtx::new(&ctx));
    rec.status = status;
    fe.counters.count_status(status);
    if let Some(bytes) = rules::write_reply(&reply, 1, false) {
        let _ = client.write_all(&bytes).await;
        rec.bytes_out = bytes.len() as u64;
    }
    Outcome::Close
}

/// Sends the answer of a rule that stopped processing (deny, tarpit, auth, redirect, return),
/// after the http-after-response rules.
#[allow(clippy::too_many_arguments)]
async fn local_verdict<C: AsyncWrite + Unpin>(
    client: &mut C,
    verdict: Verdict,
    rec: &mut LogRecord,
    fe: &Frontend,
    be: Option<&Arc<Backend>>,
    rt: &Runtime,
    close: bool,
    req_minor: u8,
    req: &RequestHead,
    vars: &mut Vars,
    info: &ConnInfo,
) -> Outcome {
    if let Some(be) = be {
        rec.backend = Some(be.clone());
    }
    let be_name = be.map(|b| b.name.as_str()).unwrap_or("");
    let be_rules = be
        .filter(|b| fe.own_backend != Some(b.index))
        .map(|b| &*b.rules);
    let error_page = |status: u16, vars: &Vars| {
        let ctx = RequestCtx::new(req, info, &fe.name, be_name, vars)
            .with_proxies(rt as &dyn ProxyLookup);
        rules::error_reply(status, be_rules, &fe.rules, &EvalCtx::new(&ctx))
    };
    let mut close = close;
    let mut reply = match verdict {
        Verdict::Continue => return Outcome::KeepAlive,
        Verdict::Deny { status } => {
            Counters::add(&fe.counters.denied_req, 1);
            rec.term = *b"PR";
            error_page(status, vars)
        }
        Verdict::Tarpit { status } => {
            let t = be
                .and_then(|b| b.cfg.timeouts.tarpit)
                .or(fe.cfg.timeouts.tarpit)
                .or(fe.cfg.timeouts.connect);
            tokio::time::sleep(t.unwrap_or(Duration::ZERO)).await;
            Counters::add(&fe.counters.denied_req, 1);
            rec.term = *b"PT";
            close = true;
            error_page(status, vars)
        }
        Verdict::Auth { realm } => {
            rec.term = *b"PR";
            rules::auth_reply(&realm)
        }
        Verdict::Prometheus => {
            rec.term = *b"LR";
            let bytes = super::prometheus::response(rt, req_minor == 0, close);
            rec.status = 200;
            rec.bytes_out = bytes.len() as u64;
            fe.counters.count_status(200);
            if client.write_all(&bytes).await.is_err() {
                return Outcome::Abort;
            }
            return if close {
                Outcome::Close
            } else {
                Outcome::KeepAlive
            };
        }
        Verdict::Reply(r) => {
            rec.term = *b"LR";
            if r.source == rules::ReplySource::ProxyErrors {
                error_page(r.status, vars)
            } else {
                r
            }
        }
    };
    if !reply.keeps_connection() {
        close = true;
    }
    let env = RuleEnv {
        conn: info,
        frontend: &fe.name,
        backend: be_name,
        proxies: Some(rt as &dyn ProxyLookup),
    };
    let sets: Vec<&rules::RuleSet> = be_rules.into_iter().chain([&*fe.rules]).collect();
    rules::after_response_on_reply(&mut reply, &sets, req, &env, vars);
    rec.status = reply.status;
    fe.counters.count_status(reply.status);
    let Some(bytes) = rules::write_reply(&reply, req_minor, close) else {
        return Outcome::Close;
    };
    rec.bytes_out = bytes.len() as u64;
    if client.write_all(&bytes).await.is_err() {
        return Outcome::Abort;
    }
    if close {
        Outcome::Close
    } else {
        Outcome::KeepAlive
    }
}

fn add_forwarded_for(req: &mut RequestHead, fe: &ir::Proxy, be: &ir::Proxy, src: IpAddr) {
    let ff = match (&be.options.forwardfor, &fe.options.forwardfor) {
        (Some(b), _) => b,
        (None, Some(f)) => f,
        (None, None) => return,
    };
    let src = match src {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(src),
        v4 => v4,
    };
    let excepted = |o: &Option<ir::ForwardFor>| {
        o.as_ref()
            .and_then(|f| f.except.as_ref())
            .is_some_and(|n| n.contains(&src))
    };
    if excepted(&fe.options.forwardfor) || excepted(&be.options.forwardfor) {
        return;
    }
    let name = ff.header.as_bytes();
    if ff.if_none && http1::header(&req.headers, name).is_some() {
        return;
    }
    req.headers.push(super::ctx::HdrField {
        name: Bytes::copy_from_slice(name),
        value: Bytes::from(src.to_string()),
    });
}

/// `option originalto [except NET] [header NAME]`: the address the client connected to.
fn add_original_to(req: &mut RequestHead, fe: &ir::Proxy, be: &ir::Proxy, dst: IpAddr) {
    let Some(ot) = be
        .options
        .originalto
        .as_ref()
        .or(fe.options.originalto.as_ref())
    else {
        return;
    };
    let dst = match dst {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(dst),
        v4 => v4,
    };
    if ot.except.as_ref().is_some_and(|n| n.contains(&dst)) {
        return;
    }
    let name = if ot.header.is_empty() {
        "X-Original-To"
    } else {
        ot.header.as_str()
    };
    req.headers.push(super::ctx::HdrField {
        name: Bytes::copy_from_slice(name.as_bytes()),
        value: Bytes::from(dst.to_string()),
    });
}

/// Rewrites the `Connection` header of a message for the next hop.
fn set_connection(headers: &mut Vec<super::ctx::HdrField>, close: bool, keep_alive_token: bool) {
    let tokens = http1::connection_tokens(headers);
    if tokens.upgrade {
        return;
    }
    if headers.iter().any(|h| h.is(b"connection")) {
        http1::del_header(headers, b"connection");
    }
    if close {
        http1::add_header(headers, b"connection", Bytes::from_static(b"close"));
    } else if keep_alive_token {
        http1::add_header(headers, b"connection", Bytes::from_static(b"keep-alive"));
    }
}

/// Serves the stats page (GET/HEAD) or applies its admin form (POST) when the request is for
/// the stats URI of `site`; None when it is not a stats request. `close` says whether the
/// connection must close after the reply for other reasons than an unread request body.
#[allow(clippy::too_many_arguments)]
async fn stats_page<C>(
    client: &mut C,
    info: &ConnInfo,
    fe: &Frontend,
    own_backend: &str,
    site: stats::StatsSite<'_>,
    rt: &Runtime,
    b: &mut Bufs,
    req_body: BodyKind,
    rec: &mut LogRecord,
    close_ka: bool,
    logger: &super::log::Logger,
    after_sets: &[&rules::RuleSet],
) -> Option<Outcome>
where
    C: AsyncRead + AsyncWrite + Unpin,
{
    use super::stats_admin::{self, AdminStatus};
    let method = &b.req.method[..];
    let (get, head, post) = (method == b"GET", method == b"HEAD", method == b"POST");
    if !(get || head || post) {
        return None;
    }
    let q = stats::query(site.cfg, &b.req.uri)?;
    let authorization = http1::header(&b.req.headers, b"authorization");
    // an unread body forces the close; a POST body read below does not
    let mut close = close_ka || req_body != BodyKind::None;
    let (status, page) = if !stats::authorized(site.cfg, authorization) {
        (401, stats::unauthorized(site.cfg))
    } else {
        let admin = {
            let ctx = RequestCtx::new(&b.req, info, &fe.name, own_backend, &b.vars)
                .with_proxies(rt as &dyn ProxyLookup);
            let ec = EvalCtx::new(&ctx);
            site.admin.iter().any(|c| c.eval(&ec))
        };
        if post {
            let st = if !admin {
                AdminStatus::Deny
            } else {
                let wait = or_forever(fe.cfg.timeouts.client).min(Duration::from_secs(30));
                let expect_continue = http1::header(&b.req.headers, b"expect")
                    .is_some_and(|v| v.eq_ignore_ascii_case(b"100-continue"));
                if expect_continue
                    && b.cbuf.is_empty()
                    && client
                        .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                        .await
                        .is_err()
                {
                    return Some(Outcome::Abort);
                }
                // HAProxy's limit: one buffer minus the rewrite reserve
                match stats_admin::read_body(client, &mut b.cbuf, req_body, 15360, wait).await {
                    Ok(form) => {
                        close = close_ka;
                        stats_admin::apply(rt, logger, &form)
                    }
                    Err(stats_admin::BodyError::TooLarge(_)) => AdminStatus::Excd,
                    Err(_) => return Some(Outcome::Abort),
                }
            };
            let loc = stats::admin_location(site.cfg, &q, st);
            (303, stats_admin::redirect(&loc))
        } else {
            (
                200,
                stats::response(rt, site.cfg, &q, own_backend, admin, head),
            )
        }
    };
    let page = {
        let env = RuleEnv {
            conn: info,
            frontend: &fe.name,
            backend: own_backend,
            proxies: Some(rt as &dyn ProxyLookup),
        };
        rules::after_response_on_page(page, after_sets, &b.req, &env, &mut b.vars)
    };
    rec.status = status;
    rec.stats_page = true;
    fe.counters.count_status(status);
    if client.write_all(&page).await.is_err() {
        return Some(Outcome::Abort);
    }
    rec.bytes_out = page.len() as u64;
    Some(if close {
        Outcome::Close
    } else {
        Outcome::KeepAlive
    })
}

#[allow(clippy::too_many_arguments)]
async fn transaction<C>(
    client: &mut C,
    info: &ConnInfo,
    fe: &Arc<Frontend>,
    rt: &Arc<Runtime>,
    engine: &Engine,
    b: &mut Bufs,
    attached: &mut Option<ServerConn>,
    first: bool,
    rec: &mut LogRecord,
) -> Outcome
where
    C: AsyncRead + AsyncWrite + Unpin,
{
    let req_body = match http1::request_body(&b.req.headers) {
        Ok(k) => k,
        Err(e) => {
            rec.term = *b"PR";
            Counters::add(&fe.counters.err_req, 1);
            let status = if e == http1::HttpError::UnknownCoding {
                422
            } else {
                400
            };
            return send_error(client, status, rec, fe, rt).await;
        }
    };
    let req_minor = http1::minor(&b.req.version);
    // Transfer-Encoding wins over Content-Length (RFC 9112 6.3): never forward both; like
    // HAProxy, T-E with C-L or on HTTP/1.0 closes the connection after this transaction.
    let te_forces_close = req_body == BodyKind::Chunked
        && (http1::del_header(&mut b.req.headers, b"content-length") > 0 || req_minor == 0);
    let client_wants_ka =
        !te_forces_close && http1::wants_keep_alive(&b.req.version, &b.req.headers);
    // A local reply can keep the connection only when no request body is left unread.
    let body_pending = req_body != BodyKind::None;
    let local_close =
        |mode_close: bool| !client_wants_ka || mode_close || body_pending || engine.is_stopping();

    // ---- tcp-request content rules of the frontend (run per request in mode http)
    if !fe.cfg.tcp_request_content.is_empty() {
        let ctx = RequestCtx::new(&b.req, info, &fe.name, "", &b.vars)
            .with_proxies(&**rt as &dyn ProxyLookup);
        if engine.http_content.load().frontend_rejects(fe.index, &ctx) {
            Counters::add(&fe.counters.denied_req, 1);
            rec.term = *b"PR";
            return Outcome::Abort;
        }
    }
    // ---- monitor-uri: answered by the proxy itself
    if let Some(m) = fe.cfg.monitor_uri.as_deref() {
        // the whole URI, or for a monitor-uri starting with '/' the path of an absolute-form
        // URI too (HAProxy 2.6)
        let uri = &b.req.uri[..];
        let path_of_absolute = || -> Option<&[u8]> {
            let after = uri.windows(3).position(|w| w == b"://")? + 3;
            let slash = uri[after..].iter().position(|&c| c == b'/')? + after;
            Some(&uri[slash..])
        };
        if uri == m.as_bytes() || (m.starts_with('/') && path_of_absolute() == Some(m.as_bytes())) {
            const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 58\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n";
            rec.status = 200;
            rec.bytes_out = OK.len() as u64;
            fe.counters.count_status(200);
            if client.write_all(OK).await.is_err() {
                return Outcome::Abort;
            }
            return if local_close(fe.cfg.options.http_mode == HttpConnMode::Close) {
                Outcome::Close
            } else {
                Outcome::KeepAlive
            };
        }
    }
    // ---- wait-for-body / option http-buffer-request: buffer the payload before the rules
    b.req.body = Bytes::new();
    // a client that closes while its payload is awaited still goes through the rules and
    // the backend choice (logged there with `CR`), as in HAProxy
    let mut body_aborted = false;
    if body_pending {
        match wait_for_request_body(client, info, fe, rt, b, req_body).await {
            Ok(()) => {}
            Err(BodyWaitEnd::Timeout) => {
                rec.term = *b"cD";
                Counters::add(&fe.counters.err_req, 1);
                return send_error(client, 408, rec, fe, rt).await;
            }
            Err(BodyWaitEnd::Invalid) => {
                rec.term = *b"PR";
                Counters::add(&fe.counters.err_req, 1);
                return send_error(client, 400, rec, fe, rt).await;
            }
            Err(_) => body_aborted = true,
        }
    }
    // ---- frontend http-request rules, redirects, backend switching
    let fe_env = RuleEnv {
        conn: info,
        frontend: &fe.name,
        backend: "",
        proxies: Some(&**rt as &dyn ProxyLookup),
    };
    let verdict = match fe.rules.apply_request(&mut b.req, &fe_env, &mut b.vars) {
        Verdict::Continue => match fe.rules.apply_redirects(&b.req, &fe_env, &b.vars) {
            Some(reply) => Verdict::Reply(reply),
            None => Verdict::Continue,
        },
        v => v,
    };
    if verdict != Verdict::Continue {
        let close = local_close(fe.cfg.options.http_mode == HttpConnMode::Close);
        return local_verdict(
            client,
            verdict,
            rec,
            fe,
            None,
            rt,
            close,
            req_minor,
            &b.req,
            &mut b.vars,
            info,
        )
        .await;
    }
    let be_idx = {
        let ctx = RequestCtx::new(&b.req, info, &fe.name, "", &b.vars)
            .with_proxies(&**rt as &dyn ProxyLookup);
        let ec = EvalCtx::new(&ctx);
        fe.rules
            .switching
            .select(&ec, &|n| rt.backend_index(n).is_some())
            .and_then(|n| rt.backend_index(&n))
            .or(fe.own_backend)
    };
    if be_idx.is_none() {
        // no backend: the frontend's own stats settings may still serve the page
        if let Some(site) = stats::site(fe, None) {
            let close = !client_wants_ka
                || fe.cfg.options.http_mode == HttpConnMode::Close
                || engine.is_stopping();
            if let Some(out) = stats_page(
                client,
                info,
                fe,
                &fe.name,
                site,
                rt,
                b,
                req_body,
                rec,
                close,
                &engine.logger,
                &[&*fe.rules],
            )
            .await
            {
                return out;
            }
        }
    }
    let Some(be) = be_idx.and_then(|i| rt.backends.get(i)).cloned() else {
        rec.term = *b"SC";
        return send_error(client, 503, rec, fe, rt).await;
    };
    rec.backend = Some(be.clone());
    be.counters.enter();
    let _be_guard = LeaveGuard(&be.counters);
    Counters::add(&be.counters.requests, 1);
    let mode = conn_mode(&fe.cfg, &be.cfg);
    let mut client_close = !client_wants_ka || mode == HttpConnMode::Close || engine.is_stopping();
    let server_close = mode != HttpConnMode::KeepAlive;
    let separate_backend = fe.own_backend != Some(be.index);
    if separate_backend && !be.cfg.tcp_request_content.is_empty() {
        let ctx = RequestCtx::new(&b.req, info, &fe.name, &be.name, &b.vars)
            .with_proxies(&**rt as &dyn ProxyLookup);
        if engine.http_content.load().backend_rejects(be.index, &ctx) {
            Counters::add(&be.counters.denied_req, 1);
            rec.term = *b"PR";
            return Outcome::Abort;
        }
    }
    if separate_backend {
        let be_env = RuleEnv {
            conn: info,
            frontend: &fe.name,
            backend: &be.name,
            proxies: Some(&**rt as &dyn ProxyLookup),
        };
        let verdict = be.rules.apply_request(&mut b.req, &be_env, &mut b.vars);
        let verdict = match verdict {
            Verdict::Continue => match be.rules.apply_redirects(&b.req, &be_env, &b.vars) {
                Some(r) => Verdict::Reply(r),
                None => Verdict::Continue,
            },
            v => v,
        };
        if verdict != Verdict::Continue {
            let close = local_close(mode == HttpConnMode::Close);
            return local_verdict(
                client,
                verdict,
                rec,
                fe,
                Some(&be),
                rt,
                close,
                req_minor,
                &b.req,
                &mut b.vars,
                info,
            )
            .await;
        }
    }
    if body_aborted {
        rec.term = *b"CR";
        return Outcome::Abort;
    }
    if let Some(site) = stats::site(fe, Some(&be)) {
        let after_sets: Vec<&rules::RuleSet> = (separate_backend.then_some(&*be.rules))
            .into_iter()
            .chain([&*fe.rules])
            .collect();
        let close = !client_wants_ka || mode == HttpConnMode::Close || engine.is_stopping();
        if let Some(out) = stats_page(
            client,
            info,
            fe,
            &be.name,
            site,
            rt,
            b,
            req_body,
            rec,
            close,
            &engine.logger,
            &after_sets,
        )
        .await
        {
            be.counters.count_status(rec.status);
            return out;
        }
    }
    // ---- cookie persistence (request side)
    let now_secs = super::runtime::unix_now();
    let cookie_txn = be
        .cookie
        .as_ref()
        .map(|c| c.on_request(&mut b.req, &be.live, be.cfg.options.persist, now_secs));
    // ---- stick tables (request side)
    let tables = |name: Option<&str>| rt.stick_tables.get(name.unwrap_or(&be.name)).cloned();
    let stick_server = if be.stick.is_empty() || cookie_txn.is_some_and(|t| t.server.is_some()) {
        None
    } else {
        let ctx = RequestCtx::new(&b.req, info, &fe.name, &be.name, &b.vars)
            .with_proxies(&**rt as &dyn ProxyLookup);
        be.stick.match_request(
            &EvalCtx::new(&ctx),
            &tables,
            &be.server_ids,
            &|key, by_addr| {
                be.servers.iter().position(|s| {
                    if by_addr {
                        s.target
                            .is_some_and(|t| t.addr(info.dst.port()).to_string() == key)
                    } else {
                        s.name == key
                    }
                })
            },
            &be.live,
            be.cfg.options.persist,
        )
    };
    let expect_continue = http1::header(&b.req.headers, b"expect")
        .is_some_and(|v| v.eq_ignore_ascii_case(b"100-continue"));
    let method_is_head = &b.req.method[..] == b"HEAD";
    let method = b.req.method.clone();

    // the addresses as set-src/set-dst left them
    let (src, dst) = {
        let c = b.vars.conn_override().unwrap_or(info);
        (c.src.ip(), c.dst.ip())
    };
    add_forwarded_for(&mut b.req, &fe.cfg, &be.cfg, src);
    add_original_to(&mut b.req, &fe.cfg, &be.cfg, dst);
    http1::sanitize_te(&mut b.req.headers);
    set_connection(
        &mut b.req.headers,
        server_close,
        req_minor == 0 && !server_close,
    );

    b.out.clear();
    b.out.reserve(1024);
    http1::write_request(&b.req, &mut b.out);
    let mut req_progress = BodyProgress::start(req_body);
    // Body bytes already received go out with the head.
    let take = match req_progress.advance(&b.cbuf) {
        Ok(n) => n,
        Err(_) => return send_error(client, 400, rec, fe, rt).await,
    };
    b.out.extend_from_slice(&b.cbuf[..take]);
    bytes::Buf::advance(&mut b.cbuf, take);
    rec.bytes_in = b.out.len() as u64;
    let request_replayable = req_progress.is_done();

    // ---- server selection, queueing and connection (with retries and redispatch)
    let bt = &be.cfg.timeouts;
    let connect_timeout = or_forever(bt.connect);
    let queue_timeout = bt.queue.or(bt.connect);
    let mut exclude: Option<usize> = None;
    let mut retries_left = be.retries;
    // `option abortonclose`: a client that closes while its stream waits for a server (in
    // the queue, during connection attempts, for the response head) aborts the stream; what
    // it sends meanwhile is kept in `stash`
    let abort_on_close = be.cfg.options.abortonclose;
    let mut stash = BytesMut::new();
    let t_queue_start = Instant::now();
    let (server, mut conn, _served) = loop {
        let ctx = RequestCtx::new(&b.req, info, &fe.name, &be.name, &b.vars);
        let forced = cookie_txn
            .and_then(|t| t.server)
            .or(stick_server)
            .filter(|i| Some(*i) != exclude);
        let picked = match forced.and_then(|i| be.servers.get(i)) {
            Some(s) => Pick::Server(s.clone()),
            None => pick_server(&be, &ctx, exclude),
        };
        let server = match picked {
            Pick::Server(s) => s,
            Pick::None => {
                rec.t_queue = ms(t_queue_start.elapsed());
                rec.term = *b"SC";
                Counters::add(&be.counters.err_conn, 1);
                return send_error(client, 503, rec, fe, rt).await;
            }
            Pick::Full => {
                // wait in the backend queue for a slot
                let n = be.counters.queue_cur.fetch_add(1, Ordering::Relaxed) + 1;
                be.counters.queue_max.fetch_max(n, Ordering::Relaxed);
                let deadline =
                    tokio::time::Instant::from_std(t_queue_start + or_forever(queue_timeout));
                let woke = tokio::select! {
                    w = timeout_at(deadline, be.queue_notify.notified()) => Some(w),
                    _ = client_gone(client, &mut stash, abort_on_close) => None,
                };
                be.counters.queue_cur.fetch_sub(1, Ordering::Relaxed);
                let Some(woke) = woke else {
                    rec.t_queue = ms(t_queue_start.elapsed());
                    rec.term = *b"CQ";
                    return Outcome::Abort;
                };
                if woke.is_err() {
                    rec.t_queue = ms(t_queue_start.elapsed());
                    rec.term = *b"sQ";
                    return send_error(client, 503, rec, fe, rt).await;
                }
                continue;
            }
        };
        let served = ServedGuard::new(server.clone(), be.clone());
        rec.t_queue = ms(t_queue_start.elapsed());
        // An attached connection to the same server, else an idle one as `http-reuse`
        // allows (safe: not for the first request of a session), else a new one.
        let reuse_mode = reuse_of(&be);
        let reuse = match attached.take() {
            Some(mut c) if c.server_uid == server.uid => {
                // kept from the previous transaction: the server may have closed it since
                c.reused = true;
                Some(c)
            }
            Some(c) => {
                if reuse_mode != ReuseMode::Never {
                    pool::put(c);
                }
                None
            }
            None => None,
        };
        let shared_ok = match reuse_mode {
            ReuseMode::Never => false,
            ReuseMode::Safe => !first,
            ReuseMode::Always => true,
        };
        let reuse = reuse.or_else(|| {
            if shared_ok {
                pool::take(server.uid)
            } else {
                None
            }
        });
        super::sessions::attach_server(be.index, server.uid);
        if let Some(c) = reuse {
            break (server, c, served);
        }
        let Some(target) = server.target() else {
            exclude = Some(server.index);
            continue;
        };
        let addr = target.addr(info.dst.port());
        let t_conn = Instant::now();
        let tls = engine.server_tls.load();
        let connect = tokio::time::timeout(
            connect_timeout,
            super::server_io::connect(&server, addr, info, &tls),
        );
        let connected = if abort_on_close {
            tokio::select! {
                c = connect => Some(c),
                _ = client_gone(client, &mut stash, true) => None,
            }
        } else {
            Some(connect.await)
        };
        let Some(connected) = connected else {
            rec.server = Some(server.clone());
            rec.term = *b"CC";
            return Outcome::Abort;
        };
        match connected {
            Ok(Ok(stream)) => {
                rec.t_connect = ms(t_conn.elapsed());
                let uid = server.uid;
                break (
                    server,
                    ServerConn {
                        stream,
                        server_uid: uid,
                        reused: false,
                        idle_since: Instant::now(),
                    },
                    served,
                );
            }
            Ok(Err(_)) | Err(_) => {
                Counters::add(&server.stats.counters.err_conn, 1);
                Counters::add(&be.counters.err_conn, 1);
                if retries_left == 0 {
                    rec.server = Some(server.clone());
                    rec.term = *b"SC";
                    rec.t_connect = -1;
                    return send_error(client, 503, rec, fe, rt).await;
                }
                retries_left -= 1;
                rec.retries += 1;
                Counters::add(&be.counters.retries, 1);
                Counters::add(&server.stats.counters.retries, 1);
                let redispatch = be.cfg.options.redispatch && retries_left == 0;
                if redispatch {
                    exclude = Some(server.index);
                    Counters::add(&be.counters.redispatches, 1);
                } else {
                    // turn-around timer before retrying the same server
                    let turn_around =
                        tokio::time::sleep(connect_timeout.min(Duration::from_secs(1)));
                    if tokio::select! {
                        _ = turn_around => false,
                        _ = client_gone(client, &mut stash, abort_on_close) => true,
                    } {
                        rec.server = Some(server.clone());
                        rec.term = *b"CC";
                        return Outcome::Abort;
                    }
                    exclude = None;
                }
                drop(served);
                continue;
            }
        }
    };
    rec.server = Some(server.clone());
    if !stash.is_empty() {
        // payload the client sent while we waited for a server (abortonclose watch)
        b.cbuf.extend_from_slice(&stash);
        stash.clear();
    }
    if !be.stick.is_empty() {
        let ctx = RequestCtx::new(&b.req, info, &fe.name, &be.name, &b.vars)
            .with_proxies(&**rt as &dyn ProxyLookup);
        be.stick
            .store_request(&EvalCtx::new(&ctx), &tables, stored_server(&server, info));
    }
    server.stats.counters.enter();
    let _srv_guard = LeaveGuard(&server.stats.counters);
    Counters::add(&server.stats.counters.lbtot, 1);
    Counters::add(&server.stats.counters.requests, 1);
    let srv_timeout = or_forever(bt.server);
    let cli_timeout = or_forever(fe.cfg.timeouts.client);

    // ---- send the request head (and buffered body); a stale reused connection is replaced once
    let mut resent = false;
    loop {
        let wrote = tokio::time::timeout(srv_timeout, conn.stream.write_all(&b.out)).await;
        if matches!(wrote, Ok(Ok(()))) {
            break;
        }
        if conn.reused && !resent {
            resent = true;
            match reconnect(&server, info, connect_timeout, engine).await {
                Some(c) => {
                    conn = c;
                    continue;
                }
                None => {
                    rec.term = *b"SC";
                    return send_error(client, 503, rec, fe, rt).await;
                }
            }
        }
        rec.term = *b"SC";
        return send_error(client, 503, rec, fe, rt).await;
    }

    // ---- request body, with Expect: 100-continue handled by the server's interim response
    b.sbuf.clear();
    let mut got_final_early = false;
    if !req_progress.is_done() {
        if expect_continue {
            reserve(&mut b.sbuf);
            tokio::select! {
                r = conn.stream.read_buf(&mut b.sbuf) => {
                    match r {
                        Ok(n) if n > 0 => {}
                        _ => { rec.term = *b"SH"; return send_error(client, 502, rec, fe, rt).await; }
                    }
                    // parse what came: a 100 is relayed, a final answer ends the upload
                    match read_interim(client, &mut conn, b, srv_timeout).await {
                        Ok(true) => {}
                        Ok(false) => { got_final_early = true; client_close = true; }
                        Err(status) => { rec.term = *b"SH"; return send_error(client, status, rec, fe, rt).await; }
                    }
                }
                r = client.read_buf(&mut b.cbuf) => {
                    if !matches!(r, Ok(n) if n > 0) { rec.term = *b"CD"; return Outcome::Abort; }
                }
            }
        }
        if !got_final_early {
            match forward_body(
                client,
                &mut conn.stream,
                &mut b.cbuf,
                &mut req_progress,
                cli_timeout,
                srv_timeout,
                Side::Client,
            )
            .await
            {
                Ok(n) => rec.bytes_in += n,
                Err(side) => {
                    rec.term = if side == Side::Client { *b"CD" } else { *b"SD" };
                    if side == Side::Server {
                        return send_error(client, 502, rec, fe, rt).await;
                    }
                    return Outcome::Abort;
                }
            }
        }
    }

    // ---- response head (skipping interim 1xx, relayed to the client)
    let t_wait_resp = Instant::now();
    loop {
        if !got_final_early || b.resp.status == 0 {
            let read_head = read_response_head(&mut conn.stream, b, srv_timeout);
            let head = if abort_on_close {
                tokio::select! {
                    h = read_head => Some(h),
                    _ = client_gone(client, &mut stash, true) => None,
                }
            } else {
                Some(read_head.await)
            };
            let Some(head) = head else {
                // HAProxy logs a client abort while waiting for the response as 400 `CH`
                rec.status = 400;
                rec.term = *b"CH";
                rec.t_response = -1;
                return Outcome::Abort;
            };
            if !stash.is_empty() {
                b.cbuf.extend_from_slice(&stash);
                stash.clear();
            }
            match head {
                Ok(()) => {}
                Err(e) => {
                    // a reused connection closed by the server before answering: replay once
                    if matches!(e, RespErr::Closed { got_bytes: false })
                        && conn.reused
                        && !resent
                        && request_replayable
                    {
                        resent = true;
                        if let Some(mut c) = reconnect(&server, info, connect_timeout, engine).await
                        {
                            if matches!(
                                tokio::time::timeout(srv_timeout, c.stream.write_all(&b.out)).await,
                                Ok(Ok(()))
                            ) {
                                conn = c;
                                continue;
                            }
                        }
                    }
                    Counters::add(&be.counters.err_resp, 1);
                    Counters::add(&server.stats.counters.err_resp, 1);
                    let (status, term) = match e {
                        RespErr::Timeout => (504, *b"sH"),
                        RespErr::Closed { .. } => (502, *b"SH"),
                        RespErr::Invalid => (502, *b"PH"),
                    };
                    rec.term = term;
                    rec.t_response = -1;
                    return send_error(client, status, rec, fe, rt).await;
                }
            }
        }
        got_final_early = false;
        let st = b.resp.status;
        if (100..200).contains(&st) && st != 101 {
            b.out.clear();
            http1::write_response(&b.resp, &mut b.out);
            if client.write_all(&b.out).await.is_err() {
                return Outcome::Abort;
            }
            continue;
        }
        break;
    }
    rec.t_response = ms(t_wait_resp.elapsed());
    // ---- http-response wait-for-body
    if let Some(wait) = response_body_wait(info, fe, &be, separate_backend, b, rt) {
        let kind = http1::response_body(b.resp.status, &b.resp.headers, &method);
        if let Ok(kind @ (BodyKind::Length(_) | BodyKind::Chunked | BodyKind::UntilClose)) = kind {
            match body_wait::fill(&mut conn.stream, &mut b.sbuf, kind, wait, srv_timeout).await {
                BodyWaitEnd::Ready => {}
                BodyWaitEnd::Timeout => {
                    rec.term = *b"sD";
                    Counters::add(&be.counters.err_resp, 1);
                    return send_error(client, 504, rec, fe, rt).await;
                }
                _ => {
                    rec.term = *b"SD";
                    Counters::add(&be.counters.err_resp, 1);
                    return send_error(client, 502, rec, fe, rt).await;
                }
            }
        }
    }
    // ---- http-response rules (backend, then frontend) and cookie persistence
    {
        let be_env = RuleEnv {
            conn: info,
            frontend: &fe.name,
            backend: &be.name,
            proxies: Some(&**rt as &dyn ProxyLookup),
        };
        let mut verdict = Verdict::Continue;
        if separate_backend && !be.rules.http_response.is_empty() {
            verdict = be
                .rules
                .apply_response(&b.req, &mut b.resp, &be_env, &mut b.vars);
        }
        if verdict == Verdict::Continue && !fe.rules.http_response.is_empty() {
            verdict = fe
                .rules
                .apply_response(&b.req, &mut b.resp, &be_env, &mut b.vars);
        }
        if verdict != Verdict::Continue {
            Counters::add(&be.counters.denied_resp, 1);
            local_verdict(
                client,
                verdict,
                rec,
                fe,
                Some(&be),
                rt,
                true,
                req_minor,
                &b.req,
                &mut b.vars,
                info,
            )
            .await;
            return Outcome::Close;
        }
        if let (Some(c), Some(t)) = (&be.cookie, &cookie_txn) {
            let count = |h: &ResponseHead| h.headers.iter().filter(|f| f.is(b"set-cookie")).count();
            let before = count(&b.resp);
            let server_set = b
                .resp
                .headers
                .iter()
                .any(|f| f.is(b"set-cookie") && f.value.starts_with(&c.name));
            c.on_response(&b.req, &mut b.resp, t, Some(server.index), now_secs);
            let action = if count(&b.resp) > before {
                b'I'
            } else if server_set {
                b'P'
            } else {
                b'N'
            };
            rec.cookie_flags = [t.status.log_char() as u8, action];
        }
        if !be.stick.is_empty() {
            let ctx = RequestCtx::new(&b.req, info, &fe.name, &be.name, &b.vars)
                .with_proxies(&**rt as &dyn ProxyLookup);
            let rctx = ResponseCtx::new(&b.resp);
            be.stick.store_response(
                &EvalCtx::with_response(&ctx, &rctx),
                &tables,
                stored_server(&server, info),
            );
        }
        // http-after-response (backend, then frontend); a deny there is ignored as in HAProxy
        if separate_backend && !be.rules.http_after_response.is_empty() {
            let _ = apply_response_rules(
                &be.rules.http_after_response,
                &b.req,
                &mut b.resp,
                &be_env,
                &mut b.vars,
            );
        }
        if !fe.rules.http_after_response.is_empty() {
            let _ = apply_response_rules(
                &fe.rules.http_after_response,
                &b.req,
                &mut b.resp,
                &be_env,
                &mut b.vars,
            );
        }
    }
    let status = b.resp.status;
    rec.status = status;
    fe.counters.count_status(status);
    be.counters.count_status(status);
    server.stats.counters.count_status(status);

    let resp_body = match http1::response_body(
        status,
        &b.resp.headers,
        if method_is_head { b"HEAD" } else { &method },
    ) {
        Ok(k) => k,
        Err(_) => {
            rec.term = *b"PH";
            Counters::add(&be.counters.err_resp, 1);
            return send_error(client, 502, rec, fe, rt).await;
        }
    };
    if resp_body == BodyKind::Chunked
        && (http1::del_header(&mut b.resp.headers, b"content-length") > 0
            || http1::minor(&b.resp.version) == 0)
    {
        // T-E with C-L, or T-E from an HTTP/1.0 server: HAProxy closes the client side too
        client_close = true;
    }
    let upgrade = status == 101 || (&method[..] == b"CONNECT" && (200..300).contains(&status));
    let server_ka = !server_close
        && !upgrade
        && resp_body != BodyKind::UntilClose
        && http1::wants_keep_alive(&b.resp.version, &b.resp.headers);
    if resp_body == BodyKind::UntilClose {
        client_close = true;
    }
    if !upgrade {
        set_connection(
            &mut b.resp.headers,
            client_close,
            !client_close && req_minor == 0,
        );
    }

    b.out.clear();
    http1::write_response(&b.resp, &mut b.out);
    let mut resp_progress = BodyProgress::start(resp_body);
    let take = match resp_progress.advance(&b.sbuf) {
        Ok(n) => n,
        Err(_) => {
            rec.term = *b"PD";
            return Outcome::Abort;
        }
    };
    // A small body goes out with the head in one write; a large first part is written from
    // the read buffer rather than copied behind the head.
    let body_inline = take <= INLINE_BODY_MAX;
    if body_inline {
        b.out.extend_from_slice(&b.sbuf[..take]);
        bytes::Buf::advance(&mut b.sbuf, take);
    }
    if tokio::time::timeout(cli_timeout, client.write_all(&b.out))
        .await
        .map_or(true, |r| r.is_err())
    {
        rec.term = *b"CD";
        Counters::add(&fe.counters.cli_abort, 1);
        return Outcome::Abort;
    }
    rec.bytes_out = b.out.len() as u64;
    if !body_inline {
        if tokio::time::timeout(cli_timeout, client.write_all(&b.sbuf[..take]))
            .await
            .map_or(true, |r| r.is_err())
        {
            rec.term = *b"CD";
            Counters::add(&fe.counters.cli_abort, 1);
            return Outcome::Abort;
        }
        bytes::Buf::advance(&mut b.sbuf, take);
        rec.bytes_out += take as u64;
    }

    if upgrade {
        // tunnel: relay everything both ways until either side closes
        if !b.cbuf.is_empty() && conn.stream.write_all(&b.cbuf).await.is_err() {
            return Outcome::Abort;
        }
        b.cbuf.clear();
        if !b.sbuf.is_empty() && client.write_all(&b.sbuf).await.is_err() {
            return Outcome::Abort;
        }
        b.sbuf.clear();
        let idle = be
            .cfg
            .timeouts
            .tunnel
            .or(fe.cfg.timeouts.tunnel)
            .unwrap_or_else(|| cli_timeout.max(srv_timeout));
        let (up, down) = tunnel(client, &mut conn.stream, idle).await;
        rec.bytes_in += up;
        rec.bytes_out += down;
        return Outcome::Close;
    }

    if !resp_progress.is_done() {
        match forward_body(
            &mut conn.stream,
            client,
            &mut b.sbuf,
            &mut resp_progress,
            srv_timeout,
            cli_timeout,
            Side::Server,
        )
        .await
        {
            Ok(n) => rec.bytes_out += n,
            Err(side) => {
                rec.term = if side == Side::Client { *b"CD" } else { *b"SD" };
                return Outcome::Abort;
            }
        }
    }
    Counters::add(&fe.counters.bytes_in, rec.bytes_in);
    Counters::add(&fe.counters.bytes_out, rec.bytes_out);
    Counters::add(&be.counters.bytes_in, rec.bytes_in);
    Counters::add(&be.counters.bytes_out, rec.bytes_out);
    Counters::add(&server.stats.counters.bytes_in, rec.bytes_in);
    Counters::add(&server.stats.counters.bytes_out, rec.bytes_out);

    if server_ka && b.sbuf.is_empty() {
        *attached = Some(conn);
    }
    if client_close || !req_progress.is_done() {
        Outcome::Close
    } else {
        Outcome::KeepAlive
    }
}

/// Buffers the request payload when `option http-buffer-request` or a matching
/// `http-request wait-for-body` asks for it (and answers `Expect: 100-continue` itself then).
async fn wait_for_request_body<C>(
    client: &mut C,
    info: &ConnInfo,
    fe: &Frontend,
    rt: &Arc<Runtime>,
    b: &mut Bufs,
    kind: BodyKind,
) -> Result<(), BodyWaitEnd>
where
    C: AsyncRead + AsyncWrite + Unpin,
{
    let rule_wait = if fe.rules.http_request.is_empty() {
        None
    } else {
        let ctx = RequestCtx::new(&b.req, info, &fe.name, "", &b.vars)
            .with_proxies(&**rt as &dyn ProxyLookup);
        BodyWait::first_matching(&fe.rules.http_request, &EvalCtx::new(&ctx))
    };
    let httpreq = fe.cfg.timeouts.http_request;
    let wait = match rule_wait {
        Some(w) => w,
        None if fe.cfg.options.http_buffer_request => BodyWait {
            time: httpreq,
            at_least: 0,
        },
        None => return Ok(()),
    };
    if http1::header(&b.req.headers, b"expect")
        .is_some_and(|v| v.eq_ignore_ascii_case(b"100-continue"))
    {
        http1::del_header(&mut b.req.headers, b"expect");
        if client
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .await
            .is_err()
        {
            return Err(BodyWaitEnd::Closed);
        }
    }
    let idle = or_forever(fe.cfg.timeouts.client);
    match body_wait::fill(client, &mut b.cbuf, kind, wait, idle).await {
        BodyWaitEnd::Ready => {
            b.req.body = body_wait::payload(&b.cbuf, kind);
            Ok(())
        }
        end => Err(end),
    }
}

/// The `http-response wait-for-body` rule (backend, then frontend) that applies, if any.
fn response_body_wait(
    info: &ConnInfo,
    fe: &Frontend,
    be: &Backend,
    separate_backend: bool,
    b: &Bufs,
    rt: &Arc<Runtime>,
) -> Option<BodyWait> {
    let sets = [separate_backend.then_some(&be.rules), Some(&fe.rules)];
    let has_rules = sets.iter().flatten().any(|r| !r.http_response.is_empty());
    if !has_rules {
        return None;
    }
    let ctx = RequestCtx::new(&b.req, info, &fe.name, &be.name, &b.vars)
        .with_proxies(&**rt as &dyn ProxyLookup);
    let rctx = ResponseCtx::new(&b.resp);
    let ec = EvalCtx::with_response(&ctx, &rctx);
    sets.iter()
        .flatten()
        .find_map(|r| BodyWait::first_matching(&r.http_response, &ec))
}

/// Resolves when the client closes its side, when `enabled` (`option abortonclose`); bytes
/// the client sends meanwhile are kept in `stash`. Never resolves otherwise.
async fn client_gone<C: AsyncRead + Unpin>(client: &mut C, stash: &mut BytesMut, enabled: bool) {
    if !enabled {
        return std::future::pending().await;
    }
    loop {
        if stash.len() >= MAX_HEAD {
            return std::future::pending().await;
        }
        stash.reserve(4096);
        match client.read_buf(stash).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// The server as a stick table records it (`srvkey name|addr`).
fn stored_server<'a>(server: &'a Server, info: &ConnInfo) -> super::stick::StoredServer<'a> {
    super::stick::StoredServer {
        id: server.id,
        name: &server.name,
        addr: server.target.map(|t| t.addr(info.dst.port())),
    }
}

struct LeaveGuard<'a>(&'a Counters);
impl Drop for LeaveGuard<'_> {
    fn drop(&mut self) {
        self.0.leave();
    }
}

async fn reconnect(
    server: &Server,
    info: &ConnInfo,
    connect_timeout: Duration,
    engine: &Engine,
) -> Option<ServerConn> {
    let target = server.target()?;
    let tls = engine.server_tls.load();
    let connect = super::server_io::connect(server, target.addr(info.dst.port()), info, &tls);
    let stream = tokio::time::timeout(connect_timeout, connect)
        .await
        .ok()?
        .ok()?;
    Some(ServerConn {
        stream,
        server_uid: server.uid,
        reused: false,
        idle_since: Instant::now(),
    })
}

enum RespErr {
    Timeout,
    Closed { got_bytes: bool },
    Invalid,
}

async fn read_response_head(
    server: &mut super::server_io::ServerIo,
    b: &mut Bufs,
    limit: Duration,
) -> Result<(), RespErr> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if !b.sbuf.is_empty() {
            match b.parser.parse_response(&mut b.sbuf, &mut b.resp) {
                Ok(Parsed::Complete(_)) => return Ok(()),
                Ok(Parsed::Partial) => {
                    if b.sbuf.len() >= MAX_HEAD {
                        return Err(RespErr::Invalid);
                    }
                }
                Err(_) => return Err(RespErr::Invalid),
            }
        }
        reserve(&mut b.sbuf);
        match timeout_at(deadline, server.read_buf(&mut b.sbuf)).await {
            Err(_) => return Err(RespErr::Timeout),
            Ok(Ok(0)) | Ok(Err(_)) => {
                return Err(RespErr::Closed {
                    got_bytes: !b.sbuf.is_empty(),
                })
            }
            Ok(Ok(_)) => {}
        }
    }
}

/// After `Expect: 100-continue`, reads the server's first answer: relays a 100 and returns
/// true (send the body), or leaves a final response parsed in `b.resp` and returns false.
async fn read_interim<C: AsyncWrite + Unpin>(
    client: &mut C,
    conn: &mut ServerConn,
    b: &mut Bufs,
    limit: Duration,
) -> Result<bool, u16> {
    match read_response_head(&mut conn.stream, b, limit).await {
        Ok(()) => {}
        Err(RespErr::Timeout) => return Err(504),
        Err(_) => return Err(502),
    }
    if b.resp.status == 100 {
        b.out.clear();
        http1::write_response(&b.resp, &mut b.out);
        client.write_all(&b.out).await.map_err(|_| 502u16)?;
        b.resp.status = 0;
        return Ok(true);
    }
    Ok(false)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Client,
    Server,
}

/// Forwards the rest of a body from `src` to `dst`; `buf` may hold bytes already read.
/// Returns the number of body bytes forwarded, or which side failed.
async fn forward_body<R, W>(
    src: &mut R,
    dst: &mut W,
    buf: &mut BytesMut,
    progress: &mut BodyProgress,
    read_timeout: Duration,
    write_timeout: Duration,
    src_side: Side,
) -> Result<u64, Side>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut total = 0u64;
    while !progress.is_done() {
        if buf.is_empty() {
            if buf.capacity() - buf.len() < BUF_SIZE {
                buf.reserve(BODY_BUF_SIZE);
            }
            match tokio::time::timeout(read_timeout, src.read_buf(buf)).await {
                Ok(Ok(0)) => {
                    if matches!(progress, BodyProgress::UntilClose) {
                        *progress = BodyProgress::Done;
                        break;
                    }
                    return Err(src_side);
                }
                Ok(Ok(_)) => {}
                Ok(Err(_)) | Err(_) => return Err(src_side),
            }
        }
        let n = progress.advance(buf).map_err(|_| src_side)?;
        match tokio::time::timeout(write_timeout, dst.write_all(&buf[..n])).await {
            Ok(Ok(())) => {}
            _ => return Err(opposite(src_side)),
        }
        bytes::Buf::advance(buf, n);
        total += n as u64;
    }
    Ok(total)
}

/// Relays bytes both ways until both sides are done or nothing moved for `idle`
/// (`timeout tunnel`). Half-closes are propagated. Returns (client→server, server→client).
pub async fn tunnel<C, S>(client: &mut C, server: &mut S, idle: Duration) -> (u64, u64)
where
    C: AsyncRead + AsyncWrite + Unpin,
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut cr, mut cw) = tokio::io::split(client);
    let (mut sr, mut sw) = tokio::io::split(server);
    let mut up_buf = vec![0u8; BUF_SIZE];
    let mut down_buf = vec![0u8; BUF_SIZE];
    let (mut up, mut down) = (0u64, 0u64);
    let (mut c_open, mut s_open) = (true, true);
    while c_open || s_open {
        tokio::select! {
            r = cr.read(&mut up_buf), if c_open => match r {
                Ok(0) | Err(_) => {
                    c_open = false;
                    let _ = sw.shutdown().await;
                }
                Ok(n) => {
                    if sw.write_all(&up_buf[..n]).await.is_err() {
                        break;
                    }
                    up += n as u64;
                }
            },
            r = sr.read(&mut down_buf), if s_open => match r {
                Ok(0) | Err(_) => {
                    s_open = false;
                    let _ = cw.shutdown().await;
                }
                Ok(n) => {
                    if cw.write_all(&down_buf[..n]).await.is_err() {
                        break;
                    }
                    down += n as u64;
                }
            },
            _ = tokio::time::sleep(idle) => break,
        }
    }
    (up, down)
}

fn opposite(s: Side) -> Side {
    match s {
        Side::Client => Side::Server,
        Side::Server => Side::Client,
    }
}

/// Serves one client connection in `mode tcp`: pick a server, connect (retries,
/// redispatch), then relay bytes both ways until either side closes.
pub async fn serve_tcp(
    mut client: TcpStream,
    info: ConnInfo,
    frontend: Arc<Frontend>,
    engine: Arc<Engine>,
) {
    let rt: Arc<Runtime> = engine.runtime.load_full();
    let fe = &frontend;
    let mut rec = LogRecord::new(&info, std::time::SystemTime::now(), fe);
    let t0 = Instant::now();
    let Some(be) = fe.default_backend.and_then(|i| rt.backends.get(i)).cloned() else {
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
        let empty = RequestHead::default();
        let vars = Vars::new();
        let ctx = RequestCtx::new(&empty, &info, &fe.name, &be.name, &vars);
        let server = match pick_server(&be, &ctx, exclude) {
            Pick::Server(s) => s,
            Pick::Full => {
                let d = tokio::time::Instant::from_std(
                    t_queue + or_forever(be.cfg.timeouts.queue.or(be.cfg.timeouts.connect)),
                );
                if timeout_at(d, be.queue_notify.notified()).await.is_err() {
                    rec.term = *b"sQ";
                    engine.logger.log(&rec, fe, &engine);
                    return;
                }
                continue;
            }
            Pick::None => {
                rec.term = *b"SC";
                engine.logger.log(&rec, fe, &engine);
                return;
            }
        };
        let served = ServedGuard::new(server.clone(), be.clone());
        super::sessions::attach_server(be.index, server.uid);
        let Some(target) = server.target() else {
            exclude = Some(server.index);
            continue;
        };
        let t_conn = Instant::now();
        match tokio::time::timeout(
            connect_timeout,
            TcpStream::connect(target.addr(info.dst.port())),
        )
        .await
        {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                rec.t_connect = ms(t_conn.elapsed());
                break (server, s, served);
            }
            _ => {
                Counters::add(&be.counters.err_conn, 1);
                if retries_left == 0 {
                    rec.server = Some(server.clone());
                    rec.term = *b"SC";
                    engine.logger.log(&rec, fe, &engine);
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
    let idle = be
        .cfg
        .timeouts
        .tunnel
        .or(fe.cfg.timeouts.tunnel)
        .unwrap_or_else(|| {
            or_forever(fe.cfg.timeouts.client).max(or_forever(be.cfg.timeouts.server))
        });
    let (up, down) = tunnel(&mut client, &mut conn, idle).await;
    rec.bytes_in = up;
    rec.bytes_out = down;
    rec.t_active = ms(t0.elapsed());
    engine.logger.log(&rec, fe, &engine);
}

//! Drives health checks: one task per server with `check`, probing every `inter`
//! (`fastinter` while changing state, `downinter` while down), with HAProxy's rise/fall
//! health counter, and logging state changes as HAProxy does.
//!
//! Probes: TCP connect (default) and `option httpchk` (method, uri, version, `http-check send`
//! headers, `http-check expect status|rstatus|string|rstring`).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub use super::checks_db::{Limits, Route};
use super::log::Logger;
use super::runtime::{Backend, Server};
use super::server_state::CheckStatus;
use super::Engine;
use crate::haproxy::ir;

/// What one probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeResult {
    pub ok: bool,
    pub status: CheckStatus,
    /// HTTP status of an L7 check (0 otherwise).
    pub code: u16,
    /// Text for logs (`Connection refused`, `HTTP status check returned code <3C>503<3E>`).
    pub info: String,
    pub duration: Duration,
}

/// How a backend's servers are probed.
#[derive(Debug, Clone)]
pub enum Probe {
    Tcp,
    Http {
        request: Vec<u8>,
        expect: Expect,
    },
    /// Protocol checks and tcp-check sequences (see `checks_db`).
    Seq(super::checks_db::CheckSeq),
}

#[derive(Debug, Clone)]
pub enum Expect {
    /// Default: 2xx and 3xx pass.
    Default,
    Status {
        codes: Vec<(u16, u16)>,
        negate: bool,
    },
    Rstatus {
        re: regex::Regex,
        negate: bool,
    },
    String {
        s: Vec<u8>,
        negate: bool,
    },
    Rstring {
        re: regex::bytes::Regex,
        negate: bool,
    },
}

/// Builds the probe of a backend from its options.
pub fn probe_for(p: &ir::Proxy) -> Probe {
    if let Some(seq) = super::checks_db::seq_for(p) {
        return Probe::Seq(seq);
    }
    let Some(ir::CheckKind::HttpChk(chk)) = &p.options.check else {
        return Probe::Tcp;
    };
    let mut method = chk.method.clone();
    let mut uri = chk.uri.clone();
    let mut version = chk.version.clone().unwrap_or_else(|| "HTTP/1.0".into());
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut body = None;
    let mut expect = Expect::Default;
    for r in &p.http_checks {
        match r {
            ir::HttpCheckRule::Send {
                method: m,
                uri: u,
                version: v,
                headers: h,
                body: b,
            } => {
                if let Some(m) = m {
                    method = m.clone();
                }
                if let Some(u) = u {
                    uri = u.clone();
                }
                if let Some(v) = v {
                    version = v.clone();
                }
                headers.extend(h.iter().cloned());
                if b.is_some() {
                    body = b.clone();
                }
            }
            ir::HttpCheckRule::Expect {
                negate,
                kind,
                pattern,
                ..
            } => {
                let negate = *negate;
                expect = match kind.as_str() {
                    "status" => Expect::Status {
                        codes: parse_status_list(pattern),
                        negate,
                    },
                    "rstatus" => match regex::Regex::new(pattern) {
                        Ok(re) => Expect::Rstatus { re, negate },
                        Err(_) => Expect::Default,
                    },
                    "string" => Expect::String {
                        s: pattern.as_bytes().to_vec(),
                        negate,
                    },
                    "rstring" => match regex::bytes::Regex::new(pattern) {
                        Ok(re) => Expect::Rstring { re, negate },
                        Err(_) => Expect::Default,
                    },
                    _ => Expect::Default,
                };
            }
            _ => {}
        }
    }
    // legacy headers appended to the version of `option httpchk` (`HTTP/1.1\r\nHost:\ x`)
    // count only without `http-check send` rules
    let has_send = p
        .http_checks
        .iter()
        .any(|r| matches!(r, ir::HttpCheckRule::Send { .. }));
    let mut legacy = Vec::new();
    for sep in ["\r\n", "\\r\\n"] {
        if let Some(i) = version.find(sep) {
            let tail = version[i + sep.len()..].to_string();
            version.truncate(i);
            if !has_send {
                for line in tail.split(sep).filter(|l| !l.is_empty()) {
                    let line = line.replace("\\ ", " ");
                    if let Some((n, v)) = line.split_once(':') {
                        legacy.push((n.trim().to_string(), v.trim().to_string()));
                    }
                }
            }
            break;
        }
    }
    headers.splice(0..0, legacy);
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("connection"))
    {
        headers.push(("Connection".into(), "close".into()));
    }
    let mut req = format!("{method} {uri} {version}\r\n").into_bytes();
    for (n, v) in &headers {
        req.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    if let Some(b) = &body {
        req.extend_from_slice(format!("content-length: {}\r\n", b.len()).as_bytes());
    }
    req.extend_from_slice(b"\r\n");
    if let Some(b) = &body {
        req.extend_from_slice(b.as_bytes());
    }
    Probe::Http {
        request: req,
        expect,
    }
}

fn parse_status_list(p: &str) -> Vec<(u16, u16)> {
    p.split(',')
        .filter_map(|part| {
            let (a, b) = part.split_once('-').unwrap_or((part, part));
            Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
        })
        .collect()
}

/// Runs one probe against `addr`.
pub async fn run_probe(
    probe: &Probe,
    addr: std::net::SocketAddr,
    limits: Limits,
    route: &Route,
) -> ProbeResult {
    if let Probe::Seq(seq) = probe {
        return super::checks_db::run(seq, addr, limits, route).await;
    }
    let limit = limits.connect;
    let start = Instant::now();
    let fail = |status: CheckStatus, code: u16, info: String| ProbeResult {
        ok: false,
        status,
        code,
        info,
        duration: start.elapsed(),
    };
    let conn_deadline = tokio::time::Instant::from_std(start + limit);
    let conn = super::checks_db::open_route(addr, route, route.tls.clone(), conn_deadline);
    let mut stream = match conn.await {
        Err((status, info)) => return fail(status, 0, info),
        Ok(s) => s,
    };
    let (request, expect) = match probe {
        Probe::Tcp => {
            return ProbeResult {
                ok: true,
                status: if route.tls.is_some() {
                    CheckStatus::L6Ok
                } else {
                    CheckStatus::L4Ok
                },
                code: 0,
                info: String::new(),
                duration: start.elapsed(),
            };
        }
        Probe::Http { request, expect } => (request, expect),
        Probe::Seq(_) => return fail(CheckStatus::L7Rsp, 0, String::new()),
    };
    let deadline = match limits.read {
        Some(r) => Instant::now() + r,
        None => start + limit,
    };
    // `http-check send-state`: one more header, built for this run
    let with_state;
    let request: &[u8] = match (
        &route.state_header,
        request.windows(4).position(|w| w == b"\r\n\r\n"),
    ) {
        (Some(h), Some(end)) => {
            let mut r = Vec::with_capacity(request.len() + h.len() + 32);
            r.extend_from_slice(&request[..end + 2]);
            r.extend_from_slice(format!("x-haproxy-server-state: {h}\r\n").as_bytes());
            r.extend_from_slice(&request[end + 2..]);
            with_state = r;
            &with_state
        }
        _ => request,
    };
    let io = async {
        stream.write_all(request).await?;
        let mut buf = Vec::with_capacity(1024);
        let mut tmp = [0u8; 2048];
        loop {
            let n = stream.read(&mut tmp).await?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&tmp[..n]);
            if buf.len() > 16384 {
                break;
            }
            // status-only expectations can stop at the status line
            if !matches!(expect, Expect::String { .. } | Expect::Rstring { .. })
                && buf.windows(2).any(|w| w == b"\r\n")
            {
                break;
            }
        }
        Ok::<Vec<u8>, std::io::Error>(buf)
    };
    let buf = match tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), io).await {
        Err(_) => return fail(CheckStatus::L7Timeout, 0, String::new()),
        Ok(Err(e)) => return fail(CheckStatus::L7Rsp, 0, e.to_string()),
        Ok(Ok(b)) => b,
    };
    let line_end = buf
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap_or(buf.len());
    let line = String::from_utf8_lossy(&buf[..line_end]);
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let code: u16 = match (
        version.starts_with("HTTP/"),
        parts.next().and_then(|c| c.parse().ok()),
    ) {
        (true, Some(c)) => c,
        _ => return fail(CheckStatus::L7Rsp, 0, "Invalid HTTP response".into()),
    };
    let reason = parts.next().unwrap_or("").to_string();
    let body_start = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(buf.len(), |p| p + 4);
    let body = &buf[body_start..];
    let ok = match expect {
        Expect::Default => (200..400).contains(&code),
        Expect::Status { codes, negate } => {
            codes.iter().any(|(a, b)| (*a..=*b).contains(&code)) != *negate
        }
        Expect::Rstatus { re, negate } => re.is_match(&code.to_string()) != *negate,
        Expect::String { s, negate } => {
            body.windows(s.len().max(1)).any(|w| w == &s[..]) != *negate
        }
        Expect::Rstring { re, negate } => re.is_match(body) != *negate,
    };
    ProbeResult {
        ok,
        status: if ok {
            CheckStatus::L7Ok
        } else {
            CheckStatus::L7Sts
        },
        code,
        // HAProxy reports no text for a passed HTTP check, the reason phrase for a failed
        // status expectation (the implicit one of `option httpchk` included)
        info: if ok {
            String::new()
        } else if matches!(
            expect,
            Expect::Default | Expect::Status { .. } | Expect::Rstatus { .. }
        ) {
            reason
        } else {
            format!("HTTP status check returned code <3C>{code}<3E>")
        },
        duration: start.elapsed(),
    }
}

/// Starts the check tasks of every server with `check`.
pub fn spawn_checks(engine: &Arc<Engine>) {
    let rt = engine.runtime.load_full();
    for be in &rt.backends {
        let probe = probe_for(&be.cfg);
        for srv in &be.servers {
            if srv.cfg.check && srv.target.is_some() {
                tokio::spawn(check_loop(
                    engine.clone(),
                    be.clone(),
                    srv.clone(),
                    probe.clone(),
                ));
            }
            if srv.cfg.agent_check && srv.cfg.agent_port.is_some() && srv.target.is_some() {
                tokio::spawn(agent_loop(engine.clone(), be.clone(), srv.clone()));
            }
        }
    }
}

/// The `X-Haproxy-Server-State` value of `http-check send-state`, as HAProxy builds it:
/// state with the health counters while changing, address, port, name, node, weights,
/// sessions and queue.
fn server_state_header(be: &Backend, srv: &Server, node: &str, rise: u32, fall: u32) -> String {
    let live = be.live.get(srv.index);
    let health = srv.stats.health.load(Ordering::Relaxed);
    let running = live.is_some_and(|l| l.is_up());
    let state = if super::cli_api::health_disabled(srv.uid) {
        "no check".to_string()
    } else if running {
        if health >= rise + fall - 1 {
            "UP".to_string()
        } else {
            format!("UP {}/{fall}", (health + 1).saturating_sub(rise))
        }
    } else if health > 0 {
        format!("DOWN {health}/{rise}")
    } else {
        "DOWN".to_string()
    };
    let (addr, port) = match srv.target {
        Some(t) => (t.ip.to_string(), t.addr(0).port().to_string()),
        None => (String::new(), String::new()),
    };
    let weight = live.filter(|l| l.is_lb_usable()).map_or(0, |l| l.weight());
    let usable = |backup: bool| -> u32 {
        be.servers
            .iter()
            .filter(|s| s.backup == backup)
            .filter_map(|s| be.live.get(s.index))
            .filter(|l| l.is_lb_usable())
            .map(|l| l.weight())
            .sum()
    };
    let total = match usable(false) {
        0 => usable(true),
        t => t,
    };
    let scur = live.map_or(0, |l| l.cur_conns.load(Ordering::Relaxed));
    let qcur = live.map_or(0, |l| l.queued.load(Ordering::Relaxed));
    let be_cur = be.counters.cur.load(Ordering::Relaxed);
    format!(
        "{state}; address={addr}; port={port}; name={}/{}; node={node}; weight={weight}/{total}; scur={scur}/{be_cur}; qcur={qcur}",
        be.name, srv.name
    )
}

/// TLS for the checks of a server: `check-ssl`, or the server's own `ssl` when the checks go
/// to the server's address and port (HAProxy does not inherit it with `port`/`addr`), with
/// `check-sni` and `check-alpn`. None when TLS is off or its configuration fails.
fn check_tls(cfg: &ir::Server) -> Option<super::checks_db::CheckTls> {
    let inherited = cfg.ssl && cfg.check_port.is_none() && cfg.check_addr.is_none();
    if !cfg.check_ssl && !inherited {
        return None;
    }
    build_check_tls(cfg, cfg.check_sni.clone(), &cfg.check_alpn)
}

/// A check TLS config from the server's verify settings, with this SNI and ALPN list.
fn build_check_tls(
    cfg: &ir::Server,
    sni: Option<String>,
    alpn: &[String],
) -> Option<super::checks_db::CheckTls> {
    let mut c = cfg.clone();
    c.ssl = true;
    c.sni = sni;
    c.verifyhost = None;
    let t = super::tls::client_config(&c).ok().flatten()?;
    let mut config = (*t.config).clone();
    config.alpn_protocols = alpn
        .iter()
        .flat_map(|a| a.split(','))
        .filter(|a| !a.is_empty())
        .map(|a| a.as_bytes().to_vec())
        .collect();
    Some(super::checks_db::CheckTls {
        config: Arc::new(config),
        sni: t.sni,
    })
}

async fn check_loop(engine: Arc<Engine>, be: Arc<Backend>, srv: Arc<Server>, probe: Probe) {
    let cfg = &srv.cfg;
    let rise = cfg.rise.max(1);
    let fall = cfg.fall.max(1);
    let inter = cfg.inter.max(Duration::from_millis(10));
    let fastinter = cfg.fastinter.unwrap_or(inter);
    let downinter = cfg.downinter.unwrap_or(inter);
    if srv.target().is_none() {
        return;
    }
    // `addr`/`port` as configured, else the server's current address (`set server addr`
    // moves the checks with the traffic, as in HAProxy)
    let check_ip: Option<std::net::IpAddr> = cfg.check_addr.as_deref().and_then(|a| a.parse().ok());
    let check_addr = || -> Option<std::net::SocketAddr> {
        let target = srv.target()?;
        let port = cfg.check_port.unwrap_or_else(|| target.addr(0).port());
        Some(std::net::SocketAddr::new(
            check_ip.unwrap_or(target.ip),
            port,
        ))
    };
    // `check-via-socks4`: through the server's `socks4` proxy (numeric address)
    let via_socks4 = cfg
        .raw
        .iter()
        .find(|(k, _)| k == "socks4")
        .and_then(|(_, v)| v.first())
        .filter(|_| cfg.check_via_socks4)
        .and_then(|a| a.parse::<std::net::SocketAddr>().ok());
    let mut route = Route {
        via_socks4,
        tls: check_tls(cfg),
        rule_tls: Vec::new(),
        state_header: None,
    };
    let send_state = matches!(probe, Probe::Http { .. })
        && be
            .cfg
            .http_checks
            .iter()
            .any(|r| matches!(r, ir::HttpCheckRule::SendState));
    let node = if send_state {
        engine
            .runtime
            .load()
            .global
            .node
            .clone()
            .unwrap_or_else(super::cli_api::hostname)
    } else {
        String::new()
    };
    if let Probe::Seq(seq) = &probe {
        for st in &seq.steps {
            if let super::checks_db::Step::Connect {
                step,
                tls: super::checks_db::ConnectTls::Ssl { sni, alpn },
                ..
            } = st
            {
                if let Some(t) = build_check_tls(cfg, sni.clone(), alpn) {
                    route.rule_tls.push((*step, t));
                }
            }
        }
    }
    // HAProxy: without `timeout check` the whole check gets `inter`; with it, the connection
    // gets min(timeout connect, inter) and the reading `timeout check`
    let limits = match be.cfg.timeouts.check {
        None => Limits::total(inter),
        Some(c) => Limits {
            connect: be.cfg.timeouts.connect.map_or(inter, |t| t.min(inter)),
            read: Some(c),
        },
    };
    // HAProxy starts servers up, but one failure is enough to put them down.
    srv.stats.health.store(rise, Ordering::Relaxed);
    if let Some(l) = be.live.get(srv.index) {
        l.check_status
            .store(CheckStatus::Ini as u32, Ordering::Relaxed);
    }
    // spread the first checks a little, as HAProxy does
    let first_delay = inter.mul_f64((srv.index as f64 + 1.0) / (be.servers.len() as f64 + 1.0));
    tokio::time::sleep(first_delay.min(inter)).await;
    loop {
        // checks pause while the server is in maintenance (HAProxy's CHK_ST_PAUSED)
        let in_maint = be.live.get(srv.index).is_some_and(|l| l.is_maint());
        if in_maint || super::cli_api::health_disabled(srv.uid) {
            tokio::time::sleep(inter).await;
            continue;
        }
        if send_state {
            route.state_header = Some(server_state_header(&be, &srv, &node, rise, fall));
        }
        let Some(addr) = check_addr() else { return };
        let r = run_probe(&probe, addr, limits, &route).await;
        apply_result(&engine.logger, &be, &srv, &r, rise, fall);
        let health = srv.stats.health.load(Ordering::Relaxed);
        let up = be.live.get(srv.index).is_some_and(|l| l.is_running());
        let wait = if !up && health == 0 {
            downinter
        } else if health != rise + fall - 1 && (up || health > 0) {
            fastinter
        } else {
            inter
        };
        tokio::time::sleep(wait).await;
    }
}

/// Servers (by unique index) whose agent last said `down`/`stopped`/`fail` (HAProxy's agent
/// health 0: the stats show "DOWN (agent)").
static AGENT_DOWN: std::sync::Mutex<std::collections::BTreeSet<usize>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// Whether the agent of the server with this unique index last reported it down.
pub fn agent_says_down(uid: usize) -> bool {
    AGENT_DOWN.lock().map(|s| s.contains(&uid)).unwrap_or(false)
}

/// What an agent reply asks for (HAProxy's agent-check words; the last of a kind wins).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AgentReply {
    /// `up` (true) or `down`/`stopped`/`fail` (false).
    pub health: Option<bool>,
    /// `ready`, `drain` or `maint`.
    pub admin: Option<String>,
    /// `NN%`: percentage of the configured weight.
    pub weight_pct: Option<u32>,
    /// `maxconn:NN`.
    pub maxconn: Option<u32>,
    /// Text after `#`.
    pub desc: String,
}

/// Parses the first line of an agent's reply: words separated by spaces, tabs or commas,
/// an optional `# description` at the end.
pub fn parse_agent_reply(line: &str) -> AgentReply {
    let line = line.split(['\r', '\n']).next().unwrap_or("");
    let (words, desc) = match line.split_once('#') {
        Some((w, d)) => (w, d.trim().to_string()),
        None => (line, String::new()),
    };
    let mut r = AgentReply {
        desc,
        ..AgentReply::default()
    };
    for w in words.split([' ', '\t', ',']).filter(|w| !w.is_empty()) {
        let lw = w.to_ascii_lowercase();
        match lw.as_str() {
            "up" => r.health = Some(true),
            "down" | "stopped" | "fail" => r.health = Some(false),
            "ready" | "drain" | "maint" => r.admin = Some(lw.clone()),
            _ => {
                if let Some(v) = lw.strip_prefix("maxconn:") {
                    r.maxconn = v.trim().parse().ok().or(r.maxconn);
                } else if lw.starts_with(|c: char| c.is_ascii_digit()) && lw.contains('%') {
                    r.weight_pct = lw
                        .split('%')
                        .next()
                        .and_then(|n| n.parse().ok())
                        .or(r.weight_pct);
                }
            }
        }
    }
    r
}

/// `agent-check`: every `agent-inter`, connects to `agent-addr:agent-port`, sends
/// `agent-send`, reads one line and applies it (admin state, weight, maxconn, health).
async fn agent_loop(engine: Arc<Engine>, be: Arc<Backend>, srv: Arc<Server>) {
    let cfg = &srv.cfg;
    if srv.target().is_none() {
        return;
    }
    let Some(port) = cfg.agent_port else { return };
    let inter = cfg
        .agent_inter
        .unwrap_or(cfg.inter)
        .max(Duration::from_millis(10));
    let agent_ip: Option<std::net::IpAddr> = cfg.agent_addr.as_deref().and_then(|a| a.parse().ok());
    let limit = be.cfg.timeouts.check.unwrap_or(inter);
    let first_delay = inter.mul_f64((srv.index as f64 + 1.0) / (be.servers.len() as f64 + 1.0));
    tokio::time::sleep(first_delay.min(inter)).await;
    loop {
        // `agent-addr` as configured, else the server's current address
        let Some(target) = srv.target() else { return };
        let addr = std::net::SocketAddr::new(agent_ip.unwrap_or(target.ip), port);
        let exchange = async {
            let mut s = tokio::net::TcpStream::connect(addr).await?;
            if let Some(send) = &cfg.agent_send {
                s.write_all(send.as_bytes()).await?;
            }
            let mut buf = Vec::new();
            let mut tmp = [0u8; 512];
            loop {
                let n = s.read(&mut tmp).await?;
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&tmp[..n]);
                if buf.contains(&b'\n') || buf.contains(&b'\r') || buf.len() > 4096 {
                    break;
                }
            }
            Ok::<Vec<u8>, std::io::Error>(buf)
        };
        if let Ok(Ok(reply)) = tokio::time::timeout(limit, exchange).await {
            let text = String::from_utf8_lossy(&reply);
            apply_agent_reply(&engine.logger, &be, &srv, &parse_agent_reply(&text));
        }
        tokio::time::sleep(inter).await;
    }
}

/// Applies an agent's reply: admin state first, then weight and maxconn, then health.
pub fn apply_agent_reply(logger: &Logger, be: &Backend, srv: &Server, r: &AgentReply) {
    let Some(live) = be.live.get(srv.index) else {
        return;
    };
    match r.admin.as_deref() {
        Some("maint") => {
            if be.live.set_maint(srv.index, true) {
                maint_changed(logger, be, srv, true);
            }
        }
        Some("drain") => {
            be.live.set_drain(srv.index, true);
        }
        Some(_) => {
            be.live.set_drain(srv.index, false);
            if be.live.set_maint(srv.index, false) {
                maint_changed(logger, be, srv, false);
            }
        }
        None => {}
    }
    if let Some(pct) = r.weight_pct {
        let w = (u64::from(srv.weight) * u64::from(pct) / 100).min(256) as u32;
        be.live.set_weight(srv.index, w);
    }
    if let Some(m) = r.maxconn {
        live.set_maxconn(m);
    }
    if let Some(up) = r.health {
        if let Ok(mut set) = AGENT_DOWN.lock() {
            if up {
                set.remove(&srv.uid);
            } else {
                set.insert(srv.uid);
            }
        }
        // the agent can bring a server down; up again only when its health check agrees
        let check_ok =
            !srv.cfg.check || srv.stats.health.load(Ordering::Relaxed) >= srv.cfg.rise.max(1);
        let result = ProbeResult {
            ok: up,
            status: if up {
                CheckStatus::L7Ok
            } else {
                CheckStatus::L7Sts
            },
            code: 0,
            info: r.desc.clone(),
            duration: Duration::ZERO,
        };
        if !up && !live.is_maint() && be.live.set_running(srv.index, false) {
            log_change(logger, be, srv, &result, false);
        } else if up && check_ok && !live.is_maint() && be.live.set_running(srv.index, true) {
            log_change(logger, be, srv, &result, true);
        }
    }
}

fn apply_result(
    logger: &Logger,
    be: &Backend,
    srv: &Server,
    r: &ProbeResult,
    rise: u32,
    fall: u32,
) {
    let Some(live) = be.live.get(srv.index) else {
        return;
    };
    let prev_status = live.check_status.swap(r.status as u32, Ordering::Relaxed);
    live.check_code.store(u32::from(r.code), Ordering::Relaxed);
    live.check_duration_ms
        .store(r.duration.as_millis() as u32, Ordering::Relaxed);
    if let Ok(mut i) = srv.stats.check_info.lock() {
        i.clear();
        i.push_str(&r.info);
    }
    let h = &srv.stats.health;
    let health = h.load(Ordering::Relaxed);
    let max = rise + fall - 1;
    // `option log-health-checks`: a line when the check status or the health counter changes
    let reported = (r.ok && health < max) || (!r.ok && health > 0);
    if be.cfg.options.log_health_checks && (prev_status != r.status as u32 || reported) {
        let new_health = match (r.ok, health) {
            (true, h) if h < max && h + 1 >= rise => max,
            (true, h) if h < max => h + 1,
            (true, h) => h,
            (false, h) if h > rise => h - 1,
            (false, _) => 0,
        };
        log_check_result(logger, be, srv, r, new_health, rise, fall);
    }
    if r.ok {
        if health < max {
            let nh = health + 1;
            if nh >= rise {
                h.store(max, Ordering::Relaxed);
                if be.live.set_running(srv.index, true) {
                    log_change(logger, be, srv, r, true);
                }
            } else {
                h.store(nh, Ordering::Relaxed);
            }
        }
    } else {
        srv.stats.check_fail.fetch_add(1, Ordering::Relaxed);
        if health > rise {
            h.store(health - 1, Ordering::Relaxed);
        } else {
            h.store(0, Ordering::Relaxed);
            if be.live.set_running(srv.index, false) {
                log_change(logger, be, srv, r, false);
            }
        }
    }
}

fn reason_text(r: &ProbeResult, up: bool) -> String {
    let what = r.status.description();
    let code = if r.code != 0 || r.status == CheckStatus::L7Sts {
        format!(", code: {}", r.code)
    } else {
        String::new()
    };
    let info = if !r.info.is_empty() && (!up || r.code != 0) {
        format!(", info: \"{}\"", r.info)
    } else {
        String::new()
    };
    format!(
        "{what}{code}{info}, check duration: {}ms",
        r.duration.as_millis()
    )
}

/// The `option log-health-checks` line for one check result (HAProxy's wording).
fn log_check_result(
    logger: &Logger,
    be: &Backend,
    srv: &Server,
    r: &ProbeResult,
    health: u32,
    rise: u32,
    fall: u32,
) {
    let what = r.status.description();
    let mut msg = format!(
        "Health check for {}server {}/{} {}, reason: {what}",
        if srv.backup { "backup " } else { "" },
        be.name,
        srv.name,
        if r.ok { "succeeded" } else { "failed" },
    );
    // the response code only for statuses that carry one (HAProxy's L57DATA and above)
    if matches!(r.status, CheckStatus::L7Ok | CheckStatus::L7Sts) {
        msg.push_str(&format!(", code: {}", r.code));
    }
    if !r.info.is_empty() {
        msg.push_str(&format!(", info: \"{}\"", r.info));
    }
    let (a, b, state) = if health >= rise {
        (health - rise + 1, fall, "UP")
    } else {
        (health, rise, "DOWN")
    };
    msg.push_str(&format!(
        ", check duration: {}ms, status: {a}/{b} {state}.",
        r.duration.as_millis()
    ));
    eprintln!("[WARNING]  ({}) : {msg}", std::process::id());
    logger.backend_event(be.index, 5, &msg);
}

/// A server entered (`entering`) or left forced maintenance (`disable server`, `set server
/// state maint|ready`...): as HAProxy, entering stops the server and pauses its checks
/// (health 0), leaving puts it back up with health `rise` (checked again at once); both are
/// logged with HAProxy's wording. Call after the maintenance bit changed.
pub fn maint_changed(logger: &Logger, be: &Backend, srv: &Server, entering: bool) {
    let Some(live) = be.live.get(srv.index) else {
        return;
    };
    let pid = std::process::id();
    let kind = if srv.backup {
        "Backup Server"
    } else {
        "Server"
    };
    if entering {
        srv.stats.health.store(0, Ordering::Relaxed);
        if be.live.set_running(srv.index, false) {
            let (active, backup) = up_counts(be);
            let msg = format!(
                "{kind} {}/{} is going DOWN for maintenance. {active} active and {backup} backup servers left.{} {} sessions active, 0 requeued, 0 remaining in queue.",
                be.name,
                srv.name,
                if active == 0 && backup > 0 { " Running on backup." } else { "" },
                live.cur_conns.load(Ordering::Relaxed)
            );
            eprintln!("[WARNING]  ({pid}) : {msg}");
            logger.backend_event(be.index, 1, &msg);
            if active == 0 && backup == 0 {
                backend_down(logger, be);
            }
        } else {
            let msg = format!(
                "{kind} {}/{} was DOWN and now enters maintenance.",
                be.name, srv.name
            );
            eprintln!("[WARNING]  ({pid}) : {msg}");
            logger.backend_event(be.index, 5, &msg);
        }
    } else {
        let rise = srv.cfg.rise.max(1);
        let fall = srv.cfg.fall.max(1);
        if srv.cfg.check {
            // up with the health of a server that just rose ("start OK but check at once")
            srv.stats.health.store(rise + fall - 1, Ordering::Relaxed);
        }
        be.live.set_running(srv.index, true);
        let msg = format!(
            "{kind} {}/{} is UP/{} (leaving forced maintenance).",
            be.name,
            srv.name,
            if live.is_drain() { "DRAIN" } else { "READY" }
        );
        eprintln!("[WARNING]  ({pid}) : {msg}");
        logger.backend_event(be.index, 5, &msg);
    }
}

/// Active and backup servers that can take traffic.
fn up_counts(be: &Backend) -> (usize, usize) {
    let up = |backup: bool| {
        be.servers
            .iter()
            .filter(|s| s.backup == backup && be.live.get(s.index).is_some_and(|l| l.is_up()))
            .count()
    };
    (up(false), up(true))
}

fn backend_down(logger: &Logger, be: &Backend) {
    let msg = format!("backend {} has no server available!", be.name);
    eprintln!(
        "[ALERT]    ({}) : backend '{}' has no server available!",
        std::process::id(),
        be.name
    );
    logger.backend_event(be.index, 0, &msg);
}

/// Prints HAProxy's state-change messages on stderr.
fn log_change(logger: &Logger, be: &Backend, srv: &Server, r: &ProbeResult, up: bool) {
    let active = be
        .servers
        .iter()
        .filter(|s| !s.backup && be.live.get(s.index).is_some_and(|l| l.is_up()))
        .count();
    let backup = be
        .servers
        .iter()
        .filter(|s| s.backup && be.live.get(s.index).is_some_and(|l| l.is_up()))
        .count();
    let pid = std::process::id();
    let kind = if srv.backup {
        "Backup Server"
    } else {
        "Server"
    };
    // stderr as HAProxy prints it, and the backend's log targets (notice when up, alert
    // when down, emerg when the backend has nothing left)
    if up {
        let msg = format!(
            "{kind} {}/{} is UP, reason: {}. {active} active and {backup} backup servers online. 0 sessions requeued, 0 total in queue.",
            be.name, srv.name, reason_text(r, true)
        );
        eprintln!("[WARNING]  ({pid}) : {msg}");
        logger.backend_event(be.index, 5, &msg);
    } else {
        let sessions = be
            .live
            .get(srv.index)
            .map_or(0, |l| l.cur_conns.load(Ordering::Relaxed));
        let msg = format!(
            "{kind} {}/{} is DOWN, reason: {}. {active} active and {backup} backup servers left. {sessions} sessions active, 0 requeued, 0 remaining in queue.",
            be.name, srv.name, reason_text(r, false)
        );
        eprintln!("[WARNING]  ({pid}) : {msg}");
        logger.backend_event(be.index, 1, &msg);
        if active == 0 && backup == 0 {
            // HAProxy names a `listen` section "proxy" here
            let what = match be.cfg.kind {
                ir::ProxyKind::Listen => "proxy",
                _ => "backend",
            };
            let msg = format!("{what} {} has no server available!", be.name);
            eprintln!(
                "[ALERT]    ({pid}) : {what} '{}' has no server available!",
                be.name
            );
            logger.backend_event(be.index, 0, &msg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tcp_and_http_probes() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let mut b = [0u8; 512];
                let _ = s.read(&mut b).await;
                let _ = s
                    .write_all(b"HTTP/1.0 503 Service Unavailable\r\n\r\nbusy")
                    .await;
            }
        });
        let r = run_probe(
            &Probe::Tcp,
            addr,
            Limits::total(Duration::from_secs(1)),
            &Route::default(),
        )
        .await;
        assert!(r.ok && r.status == CheckStatus::L4Ok);
        let http = |expect| Probe::Http {
            request: b"GET / HTTP/1.0\r\n\r\n".to_vec(),
            expect,
        };
        let r = run_probe(
            &http(Expect::Default),
            addr,
            Limits::total(Duration::from_secs(1)),
            &Route::default(),
        )
        .await;
        assert!(!r.ok && r.code == 503 && r.status == CheckStatus::L7Sts);
        let r = run_probe(
            &http(Expect::Status {
                codes: vec![(503, 503)],
                negate: false,
            }),
            addr,
            Limits::total(Duration::from_secs(1)),
            &Route::default(),
        )
        .await;
        assert!(r.ok);
        let r = run_probe(
            &http(Expect::String {
                s: b"busy".to_vec(),
                negate: false,
            }),
            addr,
            Limits::total(Duration::from_secs(1)),
            &Route::default(),
        )
        .await;
        assert!(r.ok);
        // nothing listens on port 1
        let r = run_probe(
            &Probe::Tcp,
            "127.0.0.1:1".parse().unwrap(),
            Limits::total(Duration::from_secs(1)),
            &Route::default(),
        )
        .await;
        assert!(!r.ok && r.status == CheckStatus::L4Conn && r.info == "Connection refused");
    }
}

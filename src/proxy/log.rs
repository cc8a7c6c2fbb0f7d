//! Traffic logs: HAProxy's httplog / tcplog / default formats and `log-format` variables,
//! sent to stdout/stderr or syslog targets (UDP, unix datagram socket) with facility/level.

use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::SystemTime;

use super::ctx::{ConnInfo, RequestHead};
use super::runtime::{Backend, Frontend, Runtime, Server};
use super::Engine;
use crate::haproxy::ir;

/// One finished transaction, as the log line needs it. Times are milliseconds, -1 when the
/// step was not reached.
#[derive(Debug, Clone)]
pub struct LogRecord {
    pub client: SocketAddr,
    pub local: SocketAddr,
    pub accept_date: SystemTime,
    pub t_idle: i64,
    pub t_request: i64,
    pub t_queue: i64,
    pub t_connect: i64,
    pub t_response: i64,
    pub t_active: i64,
    pub status: u16,
    /// Bytes sent to the client (`%B`) and received from it (`%U`).
    pub bytes_out: u64,
    pub bytes_in: u64,
    /// Termination state (`%ts`): who ended the session and at which step.
    pub term: [u8; 2],
    pub retries: u32,
    pub backend: Option<Arc<Backend>>,
    pub server: Option<Arc<Server>>,
    /// Answered by the stats page (`<STATS>` as the server name).
    pub stats_page: bool,
    /// Persistence cookie flags of `%tsc` (client cookie state, server cookie action).
    pub cookie_flags: [u8; 2],
    /// `METHOD URI VERSION` as received.
    pub request_line: Vec<u8>,
    pub method: Vec<u8>,
    pub uri: Vec<u8>,
    pub version: Vec<u8>,
    pub ssl: bool,
}

impl LogRecord {
    pub fn new(info: &ConnInfo, accept_date: SystemTime, _fe: &Frontend) -> LogRecord {
        LogRecord {
            client: info.src,
            local: info.dst,
            accept_date,
            t_idle: 0,
            t_request: -1,
            t_queue: -1,
            t_connect: -1,
            t_response: -1,
            t_active: 0,
            status: 0,
            bytes_out: 0,
            bytes_in: 0,
            term: *b"--",
            retries: 0,
            backend: None,
            server: None,
            stats_page: false,
            cookie_flags: *b"--",
            request_line: Vec::new(),
            method: Vec::new(),
            uri: Vec::new(),
            version: Vec::new(),
            ssl: info.ssl_fc,
        }
    }

    pub fn set_request_line(&mut self, req: &RequestHead) {
        self.method.clear();
        self.method.extend_from_slice(&req.method);
        self.uri.clear();
        self.uri.extend_from_slice(&req.uri);
        self.version.clear();
        self.version.extend_from_slice(&req.version);
        self.request_line.clear();
        self.request_line.extend_from_slice(&req.method);
        self.request_line.push(b' ');
        self.request_line.extend_from_slice(&req.uri);
        self.request_line.push(b' ');
        self.request_line.extend_from_slice(&req.version);
    }
}

pub const HTTPLOG: &str = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r";
pub const TCPLOG: &str = "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq";
pub const CLF: &str = "%{+Q}o %{-Q}ci - - [%trg] %r %ST %B \"\" \"\" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl";

/// Parses a log-format string into nodes (variables `%x`, `%{flags}x`; `%[...]` samples
/// are kept as sample nodes rendered as `-` until sample fetches are wired in).
pub fn parse_format(text: &str) -> Vec<ir::LogFormatNode> {
    let mut nodes = Vec::new();
    let mut lit = String::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if b.get(i + 1) == Some(&b'%') {
                lit.push('%');
                i += 2;
                continue;
            }
            let mut j = i + 1;
            let mut flags = Vec::new();
            if b.get(j) == Some(&b'{') {
                let end = text[j..].find('}').map(|e| j + e).unwrap_or(b.len());
                flags = text[j + 1..end.min(b.len())]
                    .split(',')
                    .map(str::to_string)
                    .collect();
                j = end + 1;
            }
            if b.get(j) == Some(&b'[') {
                let end = text[j..].find(']').map(|e| j + e).unwrap_or(b.len() - 1);
                if !lit.is_empty() {
                    nodes.push(ir::LogFormatNode::Literal(std::mem::take(&mut lit)));
                }
                let expr = text[j + 1..end].to_string();
                nodes.push(ir::LogFormatNode::Sample {
                    expr: ir::SampleExpr {
                        fetch: expr,
                        args: Vec::new(),
                        converters: Vec::new(),
                    },
                    flags,
                });
                i = end + 1;
                continue;
            }
            let start = j;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            if !lit.is_empty() {
                nodes.push(ir::LogFormatNode::Literal(std::mem::take(&mut lit)));
            }
            nodes.push(ir::LogFormatNode::Var {
                name: text[start..j].to_string(),
                flags,
            });
            i = j;
        } else if b[i] == b'\\' && i + 1 < b.len() {
            lit.push(b[i + 1] as char);
            i += 2;
        } else {
            let ch = text[i..].chars().next().unwrap_or(' ');
            lit.push(ch);
            i += ch.len_utf8();
        }
    }
    if !lit.is_empty() {
        nodes.push(ir::LogFormatNode::Literal(lit));
    }
    nodes
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Broken-down time (local or UTC) with milliseconds.
#[derive(Debug, Clone, Copy)]
struct Tm {
    year: i32,
    mon: usize,
    day: u32,
    hour: u32,
    min: u32,
    sec: u32,
    ms: u32,
    gmtoff: i64,
}

fn broken_down(t: SystemTime, utc: bool) -> Tm {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as libc::time_t;
    // SAFETY: `tm` is a plain C struct fully written by localtime_r/gmtime_r; both only read
    // `secs` and write into `tm`.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe {
        if utc {
            libc::gmtime_r(&secs, &mut tm);
        } else {
            libc::localtime_r(&secs, &mut tm);
        }
    }
    Tm {
        year: tm.tm_year + 1900,
        mon: tm.tm_mon.clamp(0, 11) as usize,
        day: tm.tm_mday as u32,
        hour: tm.tm_hour as u32,
        min: tm.tm_min as u32,
        sec: tm.tm_sec as u32,
        ms: d.subsec_millis(),
        gmtoff: tm.tm_gmtoff,
    }
}

/// `21/Nov/2026:14:13:46.495`
fn push_date_ms(out: &mut Vec<u8>, t: SystemTime) {
    let tm = broken_down(t, false);
    let _ = write!(
        out,
        "{:02}/{}/{:04}:{:02}:{:02}:{:02}.{:03}",
        tm.day, MONTHS[tm.mon], tm.year, tm.hour, tm.min, tm.sec, tm.ms
    );
}

/// `21/Nov/2026:14:13:46 +0000` (CLF, GMT or local)
fn push_date_clf(out: &mut Vec<u8>, t: SystemTime, utc: bool) {
    let tm = broken_down(t, utc);
    let off = if utc { 0 } else { tm.gmtoff };
    let sign = if off < 0 { '-' } else { '+' };
    let off = off.abs();
    let _ = write!(
        out,
        "{:02}/{}/{:04}:{:02}:{:02}:{:02} {}{:02}{:02}",
        tm.day,
        MONTHS[tm.mon],
        tm.year,
        tm.hour,
        tm.min,
        tm.sec,
        sign,
        off / 3600,
        off % 3600 / 60
    );
}

/// Syslog header date `Nov 21 14:13:49`.
fn push_syslog_date(out: &mut Vec<u8>, t: SystemTime) {
    let tm = broken_down(t, false);
    let _ = write!(
        out,
        "{} {:2} {:02}:{:02}:{:02}",
        MONTHS[tm.mon], tm.day, tm.hour, tm.min, tm.sec
    );
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SinkFormat {
    Rfc3164,
    Rfc5424,
    Raw,
    Short,
}

#[derive(Debug)]
enum SinkDest {
    Stdout,
    Stderr,
    Udp(UdpSocket, SocketAddr),
    Unix(UnixDatagram, String),
}

#[derive(Debug)]
struct Sink {
    dest: SinkDest,
    facility: u8,
    /// Highest level sent (syslog numbers: lower is more severe).
    level: u8,
    min_level: u8,
    format: SinkFormat,
    max_len: usize,
}

/// Per-frontend compiled log settings.
#[derive(Debug, Default)]
struct FrontendLog {
    sinks: Vec<Arc<Sink>>,
    format: Vec<ir::LogFormatNode>,
    /// No option httplog/tcplog nor log-format: "Connect from" line at accept.
    connect_only: bool,
    dontlognull: bool,
    separate_errors: bool,
}

/// Sends log lines for every frontend.
#[derive(Debug, Default)]
pub struct Logger {
    frontends: Vec<FrontendLog>,
    /// Log targets of each backend (for server state changes), by backend index.
    backends: Vec<Vec<Arc<Sink>>>,
    tag: String,
    pid: u32,
}

pub fn facility_code(name: &str) -> Option<u8> {
    const F: [&str; 24] = [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2",
        "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4",
        "local5", "local6", "local7",
    ];
    F.iter().position(|f| *f == name).map(|i| i as u8)
}

pub fn level_code(name: &str) -> Option<u8> {
    const L: [&str; 8] = [
        "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
    ];
    L.iter().position(|l| *l == name).map(|i| i as u8)
}

fn open_sink(t: &ir::LogTarget) -> Option<Sink> {
    let dest = match &t.dest {
        ir::LogDest::Stdout => SinkDest::Stdout,
        ir::LogDest::Stderr => SinkDest::Stderr,
        ir::LogDest::Udp {
            resolved: Some(ip),
            port,
            ..
        } => {
            let to = SocketAddr::new(*ip, *port);
            let bind: SocketAddr = if ip.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }
                .parse()
                .ok()?;
            let s = UdpSocket::bind(bind).ok()?;
            s.set_nonblocking(true).ok()?;
            SinkDest::Udp(s, to)
        }
        ir::LogDest::Unix { path } => {
            let s = UnixDatagram::unbound().ok()?;
            s.set_nonblocking(true).ok()?;
            SinkDest::Unix(s, path.clone())
        }
        _ => return None,
    };
    let format = match t.format.as_deref() {
        Some("raw") => SinkFormat::Raw,
        Some("short") => SinkFormat::Short,
        Some("rfc5424") => SinkFormat::Rfc5424,
        _ => SinkFormat::Rfc3164,
    };
    Some(Sink {
        dest,
        facility: t.facility.as_deref().and_then(facility_code).unwrap_or(16),
        level: t.level.as_deref().and_then(level_code).unwrap_or(7),
        min_level: t.min_level.as_deref().and_then(level_code).unwrap_or(0),
        format,
        max_len: t.max_len.map(|m| m as usize).unwrap_or(1024),
    })
}

impl Logger {
    pub fn new(rt: &Runtime) -> Logger {
        let global: Vec<Arc<Sink>> = rt
            .global
            .logs
            .iter()
            .filter_map(open_sink)
            .map(Arc::new)
            .collect();
        let tag = rt.global.log_tag.clone().unwrap_or_else(|| {
            std::env::args()
                .next()
                .and_then(|a| {
                    std::path::Path::new(&a)
                        .file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                })
                .unwrap_or_else(|| "rhaproxy".into())
        });
        let mut frontends = Vec::new();
        for fe in &rt.frontends {
            let mut sinks = Vec::new();
            for t in &fe.cfg.logs {
                if t.dest == ir::LogDest::Global {
                    sinks.extend(global.iter().cloned());
                } else if let Some(s) = open_sink(t) {
                    sinks.push(Arc::new(s));
                }
            }
            let o = &fe.cfg.options;
            let (format, connect_only) = if let Some(f) = &fe.cfg.log_format {
                (f.nodes.clone(), false)
            } else if o.httplog && o.httplog_clf {
                (parse_format(CLF), false)
            } else if o.httplog && fe.mode == ir::ProxyMode::Http {
                (parse_format(HTTPLOG), false)
            } else if o.httplog || o.tcplog {
                (parse_format(TCPLOG), false)
            } else {
                (Vec::new(), true)
            };
            frontends.push(FrontendLog {
                sinks,
                format,
                connect_only,
                dontlognull: o.dontlognull,
                separate_errors: o.log_separate_errors,
            });
        }
        let backends = rt
            .backends
            .iter()
            .map(|be| {
                let mut sinks = Vec::new();
                for t in &be.cfg.logs {
                    if t.dest == ir::LogDest::Global {
                        sinks.extend(global.iter().cloned());
                    } else if let Some(s) = open_sink(t) {
                        sinks.push(Arc::new(s));
                    }
                }
                sinks
            })
            .collect();
        Logger {
            frontends,
            backends,
            tag,
            pid: std::process::id(),
        }
    }

    /// Sends an event about backend `be` (server state changes) to its log targets at
    /// syslog `level`.
    pub fn backend_event(&self, be: usize, level: u8, msg: &str) {
        let Some(sinks) = self.backends.get(be) else {
            return;
        };
        if sinks.is_empty() {
            return;
        }
        let f = FrontendLog {
            sinks: sinks.clone(),
            ..FrontendLog::default()
        };
        self.emit(&f, level, msg.as_bytes());
    }

    /// `option dontlognull` on frontend `fe`.
    pub fn drops_null(&self, fe: usize) -> bool {
        self.frontends.get(fe).map_or(true, |f| f.dontlognull)
    }

    /// Whether the frontend wants the "Connect from" line at accept.
    pub fn logs_connect(&self, fe: usize) -> bool {
        self.frontends
            .get(fe)
            .is_some_and(|f| f.connect_only && !f.sinks.is_empty())
    }

    /// Sends the default-format "Connect from" line.
    pub fn log_connect(&self, fe: &Frontend, info: &ConnInfo) {
        let Some(f) = self.frontends.get(fe.index) else {
            return;
        };
        let mode = match fe.mode {
            ir::ProxyMode::Http => "HTTP",
            ir::ProxyMode::Tcp => "TCP",
            ir::ProxyMode::Health => "HEALTH",
        };
        let msg = format!(
            "Connect from {} to {} ({}/{})",
            fmt_ip_port(info.src),
            fmt_ip_port(info.dst),
            fe.name,
            mode
        );
        self.emit(f, 6, msg.as_bytes());
    }

    /// Logs a finished transaction.
    /// Whether transactions of frontend `fe` are logged at all.
    pub fn wants(&self, fe: usize) -> bool {
        self.frontends
            .get(fe)
            .is_some_and(|f| !f.sinks.is_empty() && !f.connect_only)
    }

    pub fn log(&self, rec: &LogRecord, fe: &Frontend, engine: &Engine) {
        let Some(f) = self.frontends.get(fe.index) else {
            return;
        };
        if f.sinks.is_empty() || f.connect_only {
            return;
        }
        let mut line = Vec::with_capacity(256);
        render(&f.format, rec, fe, engine, &mut line);
        // info, or err for failed transactions with `option log-separate-errors`
        let failed = rec.status >= 500 || rec.term[0] != b'-';
        let level = if f.separate_errors && failed { 3 } else { 6 };
        self.emit(f, level, &line);
    }

    fn emit(&self, f: &FrontendLog, level: u8, msg: &[u8]) {
        for s in &f.sinks {
            if level > s.level {
                continue;
            }
            let level = level.max(s.min_level);
            let mut out = Vec::with_capacity(msg.len() + 48);
            match s.format {
                SinkFormat::Raw => {}
                SinkFormat::Short => {
                    let _ = write!(out, "<{}>", level);
                }
                SinkFormat::Rfc3164 => {
                    let _ = write!(out, "<{}>", u32::from(s.facility) * 8 + u32::from(level));
                    push_syslog_date(&mut out, SystemTime::now());
                    let _ = write!(out, " {}[{}]: ", self.tag, self.pid);
                }
                SinkFormat::Rfc5424 => {
                    let _ = write!(out, "<{}>1 ", u32::from(s.facility) * 8 + u32::from(level));
                    let t = SystemTime::now();
                    let tm = broken_down(t, true);
                    let _ = write!(
                        out,
                        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z - {} {} - - ",
                        tm.year,
                        tm.mon + 1,
                        tm.day,
                        tm.hour,
                        tm.min,
                        tm.sec,
                        tm.ms * 1000,
                        self.tag,
                        self.pid
                    );
                }
            }
            out.extend_from_slice(msg);
            out.truncate(s.max_len.max(80) - 1);
            out.push(b'\n');
            match &s.dest {
                SinkDest::Stdout => {
                    let _ = std::io::stdout().lock().write_all(&out);
                }
                SinkDest::Stderr => {
                    let _ = std::io::stderr().lock().write_all(&out);
                }
                SinkDest::Udp(sock, to) => {
                    out.pop();
                    let _ = sock.send_to(&out, to);
                }
                SinkDest::Unix(sock, path) => {
                    out.pop();
                    let _ = sock.send_to(&out, path);
                }
            }
        }
    }
}

fn fmt_ip_port(a: SocketAddr) -> String {
    let ip = match a.ip() {
        std::net::IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(std::net::IpAddr::V4)
            .unwrap_or(a.ip()),
        ip => ip,
    };
    format!("{}:{}", ip, a.port())
}

fn push_num(out: &mut Vec<u8>, n: i64) {
    let _ = write!(out, "{n}");
}

fn push_str(out: &mut Vec<u8>, s: &[u8], quote: bool) {
    if quote {
        out.push(b'"');
    }
    if s.is_empty() && !quote {
        out.push(b'-');
    } else {
        out.extend_from_slice(s);
    }
    if quote {
        out.push(b'"');
    }
}

#[allow(clippy::too_many_arguments)]
fn render(
    nodes: &[ir::LogFormatNode],
    rec: &LogRecord,
    fe: &Frontend,
    engine: &Engine,
    out: &mut Vec<u8>,
) {
    let mut global_quote = false;
    let backend = rec.backend.as_ref();
    let server = rec.server.as_ref();
    let be = backend.map(|b| b.name.as_str());
    let srv = if rec.stats_page {
        Some("<STATS>")
    } else {
        server.map(|s| s.name.as_str())
    };
    for node in nodes {
        match node {
            ir::LogFormatNode::Literal(s) => out.extend_from_slice(s.as_bytes()),
            ir::LogFormatNode::Sample { .. } => out.push(b'-'),
            ir::LogFormatNode::Var { name, flags } => {
                let mut quote = global_quote;
                for f in flags {
                    match f.as_str() {
                        "+Q" => quote = true,
                        "-Q" => quote = false,
                        _ => {}
                    }
                }
                let tt = if rec.t_active >= 0 {
                    rec.t_idle + rec.t_request.max(0) + rec.t_active
                } else {
                    -1
                };
                match name.as_str() {
                    "o" => global_quote = quote,
                    "ci" => {
                        let a = fmt_ip_port(rec.client);
                        let ip = a.rsplit_once(':').map(|(i, _)| i).unwrap_or(&a);
                        push_str(out, ip.as_bytes(), quote);
                    }
                    "cp" => push_num(out, i64::from(rec.client.port())),
                    "fi" => {
                        let a = fmt_ip_port(rec.local);
                        let ip = a.rsplit_once(':').map(|(i, _)| i).unwrap_or(&a);
                        push_str(out, ip.as_bytes(), quote);
                    }
                    "fp" => push_num(out, i64::from(rec.local.port())),
                    "f" => push_str(out, fe.name.as_bytes(), quote),
                    "ft" => {
                        if quote {
                            out.push(b'"');
                        }
                        out.extend_from_slice(fe.name.as_bytes());
                        if rec.ssl {
                            out.push(b'~');
                        }
                        if quote {
                            out.push(b'"');
                        }
                    }
                    "b" => push_str(out, be.unwrap_or(&fe.name).as_bytes(), quote),
                    "s" => push_str(out, srv.unwrap_or("<NOSRV>").as_bytes(), quote),
                    "t" | "tr" | "trl" => {
                        if quote {
                            out.push(b'"');
                        }
                        push_date_ms(out, rec.accept_date);
                        if quote {
                            out.push(b'"');
                        }
                    }
                    "trg" | "T" => push_date_clf(out, rec.accept_date, true),
                    "Tl" => push_date_clf(out, rec.accept_date, false),
                    "ms" => {
                        let ms = rec
                            .accept_date
                            .duration_since(SystemTime::UNIX_EPOCH)
                            .unwrap_or_default()
                            .subsec_millis();
                        let _ = write!(out, "{ms:03}");
                    }
                    "Ts" => push_num(
                        out,
                        rec.accept_date
                            .duration_since(SystemTime::UNIX_EPOCH)
                            .unwrap_or_default()
                            .as_secs() as i64,
                    ),
                    "TR" => push_num(out, rec.t_request),
                    "Ti" => push_num(out, rec.t_idle),
                    "Th" => push_num(out, 0),
                    "Tq" => push_num(
                        out,
                        if rec.t_request >= 0 {
                            rec.t_idle + rec.t_request
                        } else {
                            -1
                        },
                    ),
                    "Tw" => push_num(out, rec.t_queue),
                    "Tc" => push_num(out, rec.t_connect),
                    "Tr" => push_num(out, rec.t_response),
                    "Ta" => push_num(out, rec.t_active),
                    "Tt" => push_num(out, tt),
                    "Tu" => push_num(out, tt),
                    "Td" => push_num(out, -1),
                    // -1: no status (the stream ended before any answer)
                    "ST" => push_num(
                        out,
                        if rec.status == 0 {
                            -1
                        } else {
                            i64::from(rec.status)
                        },
                    ),
                    "B" => push_num(out, rec.bytes_out as i64),
                    "U" => push_num(out, rec.bytes_in as i64),
                    "CC" | "CS" | "hr" | "hs" | "hrl" | "hsl" => {
                        if matches!(name.as_str(), "CC" | "CS") {
                            push_str(out, b"-", quote)
                        } else {
                            // no captures configured: HAProxy prints nothing for %hr/%hs, so drop
                            // the separator space before it
                            if out.last() == Some(&b' ') {
                                out.pop();
                            }
                        }
                    }
                    "ts" => out.extend_from_slice(&rec.term),
                    "tsc" => {
                        out.extend_from_slice(&rec.term);
                        out.extend_from_slice(&rec.cookie_flags);
                    }
                    "ac" => push_num(out, i64::from(engine.active.load(Ordering::Relaxed))),
                    "fc" => push_num(out, i64::from(fe.counters.cur.load(Ordering::Relaxed))),
                    "bc" => push_num(
                        out,
                        backend.map_or(0, |b| i64::from(b.counters.cur.load(Ordering::Relaxed))),
                    ),
                    "sc" => push_num(
                        out,
                        server.map_or(0, |s| {
                            i64::from(s.stats.counters.cur.load(Ordering::Relaxed))
                        }),
                    ),
                    "rc" => push_num(out, i64::from(rec.retries)),
                    "sq" => push_num(out, 0),
                    "bq" => push_num(
                        out,
                        backend.map_or(0, |b| {
                            i64::from(b.counters.queue_cur.load(Ordering::Relaxed))
                        }),
                    ),
                    "r" => push_str(out, &rec.request_line, quote),
                    "HM" => push_str(out, &rec.method, quote),
                    "HU" => push_str(out, &rec.uri, quote),
                    "HP" => {
                        let p = rec.uri.split(|&c| c == b'?').next().unwrap_or(&[]);
                        push_str(out, p, quote)
                    }
                    "HPO" => {
                        let p = super::ctx::strip_authority(&rec.uri);
                        let p = p.split(|&c| c == b'?').next().unwrap_or(&[]);
                        push_str(out, p, quote)
                    }
                    "HQ" => {
                        let q = rec
                            .uri
                            .iter()
                            .position(|&c| c == b'?')
                            .map_or(&[][..], |i| &rec.uri[i..]);
                        push_str(out, q, quote)
                    }
                    "HV" => push_str(out, &rec.version, quote),
                    "pid" => push_num(out, i64::from(std::process::id())),
                    "H" => push_str(out, hostname().as_bytes(), quote),
                    "lc" | "rt" => {
                        push_num(out, fe.counters.requests.load(Ordering::Relaxed) as i64)
                    }
                    "si" => match server.and_then(|s| s.target()) {
                        Some(t) => push_str(out, t.ip.to_string().as_bytes(), quote),
                        None => push_str(out, b"-", quote),
                    },
                    "sp" => match server.and_then(|s| s.target()) {
                        Some(t) => push_num(out, i64::from(t.addr(rec.local.port()).port())),
                        None => push_str(out, b"-", quote),
                    },
                    "ID" => push_str(out, b"-", quote),
                    _ => push_str(out, b"-", quote),
                }
            }
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_builtin_formats() {
        let nodes = parse_format(HTTPLOG);
        let vars: Vec<&str> = nodes
            .iter()
            .filter_map(|n| match n {
                ir::LogFormatNode::Var { name, .. } => Some(name.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(&vars[..6], &["ci", "cp", "tr", "ft", "b", "s"]);
        assert!(
            matches!(nodes.last(), Some(ir::LogFormatNode::Var { name, flags }) if name == "r" && flags == &["+Q"])
        );
        let n = parse_format("100%% %[src] a\\ b");
        assert_eq!(n.len(), 3);
    }

    #[test]
    fn facility_and_level_codes() {
        assert_eq!(facility_code("local0"), Some(16));
        assert_eq!(facility_code("daemon"), Some(3));
        assert_eq!(level_code("info"), Some(6));
        assert_eq!(level_code("nope"), None);
    }
}

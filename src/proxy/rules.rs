//! http-request / http-response rules, `redirect`, `use_backend` and `default_backend`,
//! compiled from the IR and applied to the engine's editable heads.
//!
//! Usage per request (frontend, then backend, as HAProxy):
//! 1. `fe_rules.apply_request(&mut head, &env, &mut vars)` → [`Verdict`];
//! 2. `fe_rules.redirects` (legacy `redirect` lines) via [`RuleSet::apply_redirects`];
//! 3. `fe_rules.switching.select(...)` → backend name;
//! 4. `be_rules.apply_request(...)` again with the backend name in `env`;
//! 5. on the response: `be_rules.apply_response(...)` then `fe_rules.apply_response(...)`.
//!
//! Semantics follow HAProxy 2.6: rules run in order; `allow` stops the rule list (processing
//! continues), `deny`/`tarpit`/`auth`/`redirect`/`return` stop with a reply; header edits are
//! visible to the rules that follow.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;

use crate::haproxy::ir;
use crate::proxy::acl::{cond_ok, AclSet, CompiledCond};
use crate::proxy::ctx::{
    ConnInfo, HdrField, ProxyLookup, RequestCtx, RequestHead, ResponseCtx, ResponseHead, Vars,
};
use crate::proxy::sample::{subst_template, CompileEnv, CompileError, CompiledExpr, EvalCtx};

/// A compiled log-format string (`text %[expr] %ci ...`).
#[derive(Debug, Clone, Default)]
pub struct LogFmt {
    nodes: Vec<LfNode>,
}

#[derive(Debug, Clone)]
enum LfNode {
    Lit(Box<[u8]>),
    Expr { expr: CompiledExpr, quote: bool },
    Var { var: LogVar, quote: bool },
}

/// Log-format variables usable in rule values (the engine's logger has the full set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogVar {
    ClientIp,
    ClientPort,
    FrontendIp,
    FrontendPort,
    FrontendName,
    BackendName,
    Method,
    Uri,
    Path,
    Query,
    Version,
    UnixTime,
    Hostname,
    Pid,
    Unknown,
}

impl LogFmt {
    pub fn compile(f: &ir::LogFormat, env: &CompileEnv) -> Result<LogFmt, CompileError> {
        let mut nodes = Vec::with_capacity(f.nodes.len());
        for n in &f.nodes {
            let quote = |flags: &[String]| flags.iter().any(|x| x == "+Q");
            nodes.push(match n {
                ir::LogFormatNode::Literal(s) => LfNode::Lit(s.as_bytes().into()),
                ir::LogFormatNode::Sample { expr, flags } => LfNode::Expr {
                    expr: CompiledExpr::compile(expr, env)?,
                    quote: quote(flags),
                },
                ir::LogFormatNode::Var { name, flags } => LfNode::Var {
                    var: match name.as_str() {
                        "ci" => LogVar::ClientIp,
                        "cp" => LogVar::ClientPort,
                        "fi" => LogVar::FrontendIp,
                        "fp" => LogVar::FrontendPort,
                        "f" | "ft" => LogVar::FrontendName,
                        "b" => LogVar::BackendName,
                        "HM" => LogVar::Method,
                        "HU" => LogVar::Uri,
                        "HP" => LogVar::Path,
                        "HQ" => LogVar::Query,
                        "HV" => LogVar::Version,
                        "Ts" => LogVar::UnixTime,
                        "H" => LogVar::Hostname,
                        "pid" => LogVar::Pid,
                        _ => LogVar::Unknown,
                    },
                    quote: quote(flags),
                },
            });
        }
        Ok(LogFmt { nodes })
    }

    /// A literal format (no variables).
    pub fn literal(s: &str) -> LogFmt {
        LogFmt {
            nodes: vec![LfNode::Lit(s.as_bytes().into())],
        }
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Appends the rendered string to `out`. Missing samples render as nothing (HAProxy
    /// renders `-` only in logs; in header values an empty sample gives an empty string).
    pub fn render(&self, c: &EvalCtx<'_>, out: &mut Vec<u8>) {
        for n in &self.nodes {
            match n {
                LfNode::Lit(b) => out.extend_from_slice(b),
                LfNode::Expr { expr, quote } => {
                    if *quote {
                        out.push(b'"');
                    }
                    if let Some(v) = expr.eval(c) {
                        v.write_to(out);
                    }
                    if *quote {
                        out.push(b'"');
                    }
                }
                LfNode::Var { var, quote } => {
                    if *quote {
                        out.push(b'"');
                    }
                    render_var(*var, c, out);
                    if *quote {
                        out.push(b'"');
                    }
                }
            }
        }
    }

    pub fn render_to_vec(&self, c: &EvalCtx<'_>) -> Vec<u8> {
        let mut v = Vec::new();
        self.render(c, &mut v);
        v
    }
}

fn render_var(var: LogVar, c: &EvalCtx<'_>, out: &mut Vec<u8>) {
    use std::io::Write;
    let r = c.req;
    let _ = match var {
        LogVar::ClientIp => write!(
            out,
            "{}",
            crate::proxy::sample::canonical_ip(r.conn.src.ip())
        ),
        LogVar::ClientPort => write!(out, "{}", r.conn.src.port()),
        LogVar::FrontendIp => write!(
            out,
            "{}",
            crate::proxy::sample::canonical_ip(r.conn.dst.ip())
        ),
        LogVar::FrontendPort => write!(out, "{}", r.conn.dst.port()),
        LogVar::FrontendName => out.write_all(r.frontend.as_bytes()),
        LogVar::BackendName => out.write_all(r.backend.as_bytes()),
        LogVar::Method => out.write_all(r.method),
        LogVar::Uri => out.write_all(r.uri),
        LogVar::Path => out.write_all(r.path()),
        LogVar::Query => match r.query() {
            Some(q) => {
                out.push(b'?');
                out.write_all(q)
            }
            None => Ok(()),
        },
        LogVar::Version => out.write_all(r.version),
        LogVar::UnixTime => write!(
            out,
            "{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        ),
        LogVar::Hostname => out.write_all(hostname().as_bytes()),
        LogVar::Pid => write!(out, "{}", std::process::id()),
        LogVar::Unknown => out.write_all(b"-"),
    };
}

fn hostname() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    })
}

/// A reply the engine must send instead of forwarding (redirect, return, deny with a body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub reason: Cow<'static, str>,
    /// Header fields in order (for a `Generated` reply Content-Length is NOT included: the
    /// engine frames `body`).
    pub headers: Vec<(Bytes, Bytes)>,
    pub body: Bytes,
    pub source: ReplySource,
}

impl Reply {
    /// Whether the connection may serve another request after this reply: generated replies
    /// are framed by the engine; an error page only when its own header fields frame it and
    /// do not ask to close.
    pub fn keeps_connection(&self) -> bool {
        match self.source {
            ReplySource::Generated => true,
            ReplySource::Errorfile => {
                let has = |n: &[u8]| self.headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(n));
                has(b"content-length")
                    && !self.headers.iter().any(|(h, v)| {
                        h.eq_ignore_ascii_case(b"connection")
                            && v.split(|&c| c == b',').any(|t| {
                                crate::proxy::http1::trim(t).eq_ignore_ascii_case(b"close")
                            })
                    })
            }
            _ => false,
        }
    }
}

/// Where a [`Reply`] comes from, which decides how it is framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplySource {
    /// Built from rule arguments: the engine adds Content-Length (and Connection: close).
    Generated,
    /// An error page (errorfile, http-errors, built-in): a full message whose header fields
    /// already frame the body; sent as is, then the connection closes.
    Errorfile,
    /// An empty errorfile (`/dev/null`): close without answering.
    Silent,
    /// An errorfile that is not a valid HTTP response: its bytes are sent as they are.
    Raw,
    /// `default-errorfiles`: stands for the proxies' error page for `status`; the engine
    /// resolves it with [`error_reply`].
    ProxyErrors,
}

/// Outcome of a rule list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Go on (no rule stopped processing, or `allow` matched).
    Continue,
    /// `deny [deny_status N]` without custom body: the engine sends its error page for
    /// `status` (honouring `errorfile`). For http-response deny the status is 502.
    Deny { status: u16 },
    /// `tarpit`: hold the connection `timeout tarpit` (else `timeout connect`), then send the
    /// error page for `status` (500 by default).
    Tarpit { status: u16 },
    /// `auth`: 401 with `WWW-Authenticate: Basic realm="<realm>"` and the 401 error page.
    Auth { realm: String },
    /// Send this reply (redirects, `return`, `deny` with custom content).
    Reply(Reply),
    /// `use-service prometheus-exporter`: the engine answers with the metrics.
    Prometheus,
}

/// Reason phrase HAProxy uses for a status code.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        410 => "Gone",
        413 => "Payload Too Large",
        414 => "URI Too Long",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        425 => "Too Early",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Other",
    }
}

/// How `del-header -m` compares names.
#[derive(Debug, Clone)]
pub enum NameMatch {
    Str(Box<[u8]>),
    Beg(Box<[u8]>),
    End(Box<[u8]>),
    Sub(Box<[u8]>),
    Reg(regex::bytes::Regex),
}

impl NameMatch {
    fn matches(&self, name: &[u8]) -> bool {
        match self {
            NameMatch::Str(n) => name.eq_ignore_ascii_case(n),
            NameMatch::Beg(n) => name.len() >= n.len() && name[..n.len()].eq_ignore_ascii_case(n),
            NameMatch::End(n) => {
                name.len() >= n.len() && name[name.len() - n.len()..].eq_ignore_ascii_case(n)
            }
            NameMatch::Sub(n) => name
                .windows(n.len().max(1))
                .any(|w| w.eq_ignore_ascii_case(n)),
            NameMatch::Reg(r) => r.is_match(name),
        }
    }
}

/// The replacement of `replace-header`/`replace-value`/`replace-path`/`replace-uri`: a
/// log-format string (rendered first) whose `\N` back-references are then expanded.
#[derive(Debug, Clone)]
pub enum ReplaceFmt {
    /// Template with back-references already converted to `${N}`.
    Static(Box<[u8]>),
    Fmt(LogFmt),
}

impl ReplaceFmt {
    fn compile(text: &str, env: &CompileEnv) -> Result<ReplaceFmt, CompileError> {
        if text.contains('%') {
            if let Ok(f) = crate::haproxy::parser::sample::parse_log_format(text) {
                return Ok(ReplaceFmt::Fmt(LogFmt::compile(&f, env)?));
            }
        }
        Ok(ReplaceFmt::Static(subst_template(text.as_bytes()).into()))
    }
    /// The expansion template for this request.
    fn template(&self, c: &EvalCtx<'_>) -> Cow<'_, [u8]> {
        match self {
            ReplaceFmt::Static(t) => Cow::Borrowed(&t[..]),
            ReplaceFmt::Fmt(f) => Cow::Owned(subst_template(&f.render_to_vec(c))),
        }
    }
}

/// A compiled redirect.
#[derive(Debug, Clone)]
pub struct CompiledRedirect {
    pub kind: ir::RedirectKind,
    pub target: LogFmt,
    /// `redirect prefix /` adds nothing (self-redirection).
    pub prefix_is_root: bool,
    pub code: u16,
    pub drop_query: bool,
    pub append_slash: bool,
    /// Full Set-Cookie value (`NAME=v; path=/;` or `NAME; path=/; Max-Age=0;`).
    pub cookie: Option<Bytes>,
    /// `ignore-empty`: no redirect when the target renders empty.
    pub ignore_empty: bool,
}

/// A compiled http-request / http-response action.
#[derive(Debug, Clone)]
pub enum Action {
    Allow,
    /// `use-service prometheus-exporter`.
    UsePrometheus,
    Deny(ReplySpec),
    Tarpit {
        status: u16,
    },
    Auth {
        realm: Option<String>,
    },
    Redirect(Box<CompiledRedirect>),
    SetHeader {
        name: Bytes,
        value: LogFmt,
    },
    AddHeader {
        name: Bytes,
        value: LogFmt,
    },
    DelHeader {
        name: NameMatch,
    },
    ReplaceHeader {
        name: Bytes,
        re: regex::bytes::Regex,
        subst: ReplaceFmt,
        per_value: bool,
    },
    SetPath(LogFmt),
    SetPathq(LogFmt),
    SetQuery(LogFmt),
    SetUri(LogFmt),
    SetMethod(LogFmt),
    ReplacePath {
        re: regex::bytes::Regex,
        subst: ReplaceFmt,
    },
    ReplacePathq {
        re: regex::bytes::Regex,
        subst: ReplaceFmt,
    },
    ReplaceUri {
        re: regex::bytes::Regex,
        subst: ReplaceFmt,
    },
    SetVar {
        name: Box<str>,
        expr: CompiledExpr,
    },
    SetVarFmt {
        name: Box<str>,
        fmt: LogFmt,
    },
    UnsetVar {
        name: Box<str>,
    },
    SetStatus {
        code: u16,
        reason: Option<Bytes>,
    },
    Return(ReplySpec),
    /// `normalize-uri <normalizer>`.
    NormalizeUri(normalize::Normalizer),
    /// `strict-mode on|off`: whether a failed rewrite (no buffer room left) is an error.
    StrictMode(bool),
    /// `set-src`, `set-dst`, `set-src-port`, `set-dst-port`.
    SetAddr {
        expr: CompiledExpr,
        dst: bool,
        port: bool,
    },
    /// `http-request capture EXPR len N | id N`: into request capture slot `slot`, cut to `len`.
    Capture {
        expr: CompiledExpr,
        slot: usize,
        len: usize,
    },
    /// `wait-for-body time T [at-least N]`: the engine buffers the payload before the rules
    /// run (`proxy::body_wait`); the rule itself does nothing when reached.
    WaitForBody(super::body_wait::BodyWait),
    /// Accepted but not implemented: ignored.
    Ignored,
}

#[derive(Debug, Clone)]
pub enum ReturnBody {
    None,
    Static(Bytes),
    Fmt(LogFmt),
    /// A complete HTTP response from an errorfile, parsed at load.
    Page(Arc<Reply>),
    /// `default-errorfiles`: the proxies' error page for the status.
    ProxyErrors,
}

/// A compiled http reply: `deny`/`return` arguments or an `http-error` / errorfile page.
#[derive(Debug, Clone)]
pub struct ReplySpec {
    pub status: u16,
    pub content_type: Option<Bytes>,
    pub body: ReturnBody,
    pub headers: Vec<(Bytes, LogFmt)>,
}

impl ReplySpec {
    /// An errorfile page for `status`.
    fn page(status: u16, content: &[u8]) -> ReplySpec {
        ReplySpec {
            status,
            content_type: None,
            body: ReturnBody::Page(Arc::new(parse_page(content))),
            headers: Vec::new(),
        }
    }

    fn compile(
        status: u16,
        content_type: &Option<String>,
        body: &Option<ir::ReturnBody>,
        headers: &[(String, ir::LogFormat)],
        env: &CompileEnv,
    ) -> Result<ReplySpec, CompileError> {
        let lf = |f: &ir::LogFormat| LogFmt::compile(f, env);
        let read = |p: &String| {
            std::fs::read(p).map_err(|e| CompileError::BadPattern {
                pattern: p.clone(),
                msg: e.to_string(),
            })
        };
        let body = match body {
            None => ReturnBody::None,
            Some(ir::ReturnBody::String(s)) => ReturnBody::Static(Bytes::from(s.clone())),
            Some(ir::ReturnBody::LfString(f)) => ReturnBody::Fmt(lf(f)?),
            Some(ir::ReturnBody::LfFile(p)) => {
                let text = String::from_utf8_lossy(&read(p)?).into_owned();
                let f = crate::haproxy::parser::sample::parse_log_format(&text).map_err(|e| {
                    CompileError::BadPattern {
                        pattern: p.clone(),
                        msg: e.to_string(),
                    }
                })?;
                ReturnBody::Fmt(lf(&f)?)
            }
            Some(ir::ReturnBody::File(p)) => ReturnBody::Static(Bytes::from(read(p)?)),
            Some(ir::ReturnBody::Errorfile(p)) => ReturnBody::Page(Arc::new(parse_page(&read(p)?))),
            Some(ir::ReturnBody::Errorfiles { page: Some(c), .. }) => {
                ReturnBody::Page(Arc::new(parse_page(c)))
            }
            Some(ir::ReturnBody::Errorfiles { page: None, .. }) => ReturnBody::None,
            Some(ir::ReturnBody::DefaultErrorfiles) => ReturnBody::ProxyErrors,
        };
        let mut hs = Vec::with_capacity(headers.len());
        for (n, v) in headers {
            hs.push((Bytes::from(n.clone()), lf(v)?));
        }
        Ok(ReplySpec {
            status,
            content_type: content_type.as_ref().map(|s| Bytes::from(s.clone())),
            body,
            headers: hs,
        })
    }

    /// The reply for this request. Header values that render empty are left out, as HAProxy.
    pub fn build(&self, c: &EvalCtx<'_>) -> Reply {
        let body = match &self.body {
            ReturnBody::Page(p) => return (**p).clone(),
            ReturnBody::ProxyErrors => {
                return Reply {
                    status: self.status,
                    reason: Cow::Borrowed(reason_phrase(self.status)),
                    headers: Vec::new(),
                    body: Bytes::new(),
                    source: ReplySource::ProxyErrors,
                }
            }
            ReturnBody::None => Bytes::new(),
            ReturnBody::Static(b) => b.clone(),
            ReturnBody::Fmt(f) => Bytes::from(f.render_to_vec(c)),
        };
        let mut hs = Vec::with_capacity(self.headers.len() + 1);
        for (n, f) in &self.headers {
            let v = f.render_to_vec(c);
            if !v.is_empty() {
                hs.push((n.clone(), Bytes::from(v)));
            }
        }
        if let Some(ct) = &self.content_type {
            if !body.is_empty() {
                hs.push((Bytes::from_static(b"content-type"), ct.clone()));
            }
        }
        Reply {
            status: self.status,
            reason: Cow::Borrowed(reason_phrase(self.status)),
            headers: hs,
            body,
            source: ReplySource::Generated,
        }
    }
}

/// An errorfile's content as a reply: parsed into status, header fields and body.
pub fn parse_page(content: &[u8]) -> Reply {
    let raw = || Reply {
        status: 0,
        reason: Cow::Borrowed(""),
        headers: Vec::new(),
        body: Bytes::copy_from_slice(content),
        source: ReplySource::Raw,
    };
    if content.is_empty() {
        return Reply {
            source: ReplySource::Silent,
            ..raw()
        };
    }
    let mut hdrs = [httparse::EMPTY_HEADER; 64];
    let mut res = httparse::Response::new(&mut hdrs);
    let Ok(httparse::Status::Complete(n)) = res.parse(content) else {
        return raw();
    };
    let status = res.code.unwrap_or(0);
    Reply {
        status,
        reason: Cow::Owned(res.reason.unwrap_or("").to_string()),
        headers: res
            .headers
            .iter()
            .map(|h| {
                (
                    Bytes::copy_from_slice(h.name.as_bytes()),
                    Bytes::copy_from_slice(h.value),
                )
            })
            .collect(),
        body: Bytes::copy_from_slice(&content[n..]),
        source: ReplySource::Errorfile,
    }
}

/// The error page for `status`: the backend's (`errorfile`, `errorfiles`, `http-error`), else
/// the frontend's, else HAProxy's built-in page.
pub fn error_reply(status: u16, be: Option<&RuleSet>, fe: &RuleSet, c: &EvalCtx<'_>) -> Reply {
    for rs in be.into_iter().chain(std::iter::once(fe)) {
        if let Some(spec) = rs.error_pages.iter().rev().find(|p| p.status == status) {
            let r = spec.build(c);
            if r.source != ReplySource::ProxyErrors {
                return r;
            }
        }
    }
    parse_page(crate::proxy::http1::error_page(status))
}

/// The 401 reply of `auth`.
pub fn auth_reply(realm: &str) -> Reply {
    Reply {
        status: 401,
        reason: Cow::Borrowed("Unauthorized"),
        headers: vec![
            (
                Bytes::from_static(b"cache-control"),
                Bytes::from_static(b"no-cache"),
            ),
            (
                Bytes::from_static(b"content-type"),
                Bytes::from_static(b"text/html"),
            ),
            (
                Bytes::from_static(b"www-authenticate"),
                Bytes::from(format!("Basic realm=\"{realm}\"")),
            ),
        ],
        body: Bytes::from_static(b"<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n"),
        source: ReplySource::Generated,
    }
}

/// Runs `http-after-response` rules (backend's, then frontend's) on a locally generated reply,
/// as HAProxy does for every response it forwards.
pub fn after_response_on_reply(
    reply: &mut Reply,
    sets: &[&RuleSet],
    req: &RequestHead,
    env: &RuleEnv<'_>,
    vars: &mut Vars,
) {
    if matches!(reply.source, ReplySource::Silent | ReplySource::Raw)
        || sets.iter().all(|s| s.http_after_response.is_empty())
    {
        return;
    }
    let mut res = ResponseHead {
        version: Bytes::from_static(b"HTTP/1.1"),
        status: reply.status,
        reason: Bytes::copy_from_slice(reply.reason.as_bytes()),
        headers: reply
            .headers
            .drain(..)
            .map(|(n, v)| HdrField { name: n, value: v })
            .collect(),
    };
    for rs in sets {
        let _ = apply_response_rules(&rs.http_after_response, req, &mut res, env, vars);
    }
    reply.status = res.status;
    reply.reason = Cow::Owned(String::from_utf8_lossy(&res.reason).into_owned());
    reply.headers = res.headers.into_iter().map(|h| (h.name, h.value)).collect();
}

/// [`after_response_on_reply`] for a response the engine already serialized (the stats
/// page): unchanged when no rule applies.
pub fn after_response_on_page(
    page: Vec<u8>,
    sets: &[&RuleSet],
    req: &RequestHead,
    env: &RuleEnv<'_>,
    vars: &mut Vars,
) -> Vec<u8> {
    if sets.iter().all(|s| s.http_after_response.is_empty()) {
        return page;
    }
    let mut reply = parse_page(&page);
    if reply.source != ReplySource::Errorfile {
        return page;
    }
    let close = !reply.keeps_connection();
    after_response_on_reply(&mut reply, sets, req, env, vars);
    write_reply(&reply, 1, close).unwrap_or(page)
}

/// A reply on the wire (`HTTP/1.0` when the request was), None for a silent close.
pub fn write_reply(r: &Reply, req_minor: u8, close: bool) -> Option<Vec<u8>> {
    match r.source {
        ReplySource::Silent => return None,
        ReplySource::Raw => return Some(r.body.to_vec()),
        _ => {}
    }
    let mut out = Vec::with_capacity(256 + r.body.len());
    out.extend_from_slice(if req_minor == 0 {
        b"HTTP/1.0 "
    } else {
        b"HTTP/1.1 "
    });
    out.extend_from_slice(r.status.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(r.reason.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (n, v) in &r.headers {
        if close && r.source == ReplySource::Errorfile && n.eq_ignore_ascii_case(b"connection") {
            continue; // said once below, as HAProxy's H1 layer does
        }
        let at = out.len();
        out.extend_from_slice(n);
        out[at..].make_ascii_lowercase();
        out.extend_from_slice(b": ");
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }
    if r.source != ReplySource::Errorfile {
        out.extend_from_slice(format!("content-length: {}\r\n", r.body.len()).as_bytes());
    }
    if close {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&r.body);
    Some(out)
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub action: Action,
    pub cond: Option<CompiledCond>,
}

/// Target of a `use_backend` / `default_backend`.
#[derive(Debug, Clone)]
pub enum BackendTarget {
    Static(String),
    Dynamic(LogFmt),
}

/// A `use-server` rule (static server name, or a log-format name).
#[derive(Debug, Clone)]
pub struct UseServerRule {
    pub target: BackendTarget,
    pub cond: Option<CompiledCond>,
}

/// A frontend's backend switching rules.
#[derive(Debug, Clone, Default)]
pub struct Switching {
    pub rules: Vec<(BackendTarget, Option<CompiledCond>)>,
    pub default: Option<BackendTarget>,
}

/// Everything rule evaluation needs besides the head: connection, names, lookups.
#[derive(Clone, Copy)]
pub struct RuleEnv<'a> {
    pub conn: &'a ConnInfo,
    pub frontend: &'a str,
    pub backend: &'a str,
    pub proxies: Option<&'a dyn ProxyLookup>,
}

impl<'a> RuleEnv<'a> {
    fn req_ctx(&self, head: &'a RequestHead, vars: &'a Vars) -> RequestCtx<'a> {
        let conn = vars.conn_override().unwrap_or(self.conn);
        let mut r = RequestCtx::new(head, conn, self.frontend, self.backend, vars);
        r.proxies = self.proxies;
        r
    }
}

/// The buffer a message lives in, as far as rewrites are concerned: HAProxy reads at most
/// `bufsize - maxrewrite` bytes of a message (head and the body that came with it) and header
/// rewrites must fit in what is left of `bufsize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferLimits {
    pub bufsize: usize,
    pub maxrewrite: usize,
}

impl Default for BufferLimits {
    fn default() -> Self {
        BufferLimits {
            bufsize: 16384,
            maxrewrite: 1024,
        }
    }
}

impl BufferLimits {
    /// From `tune.bufsize` / `tune.maxrewrite` (maxrewrite at most half of bufsize).
    pub fn from_global(g: &ir::Global) -> BufferLimits {
        let mut b = BufferLimits::default();
        let num = |k: &str| {
            g.tune
                .iter()
                .rev()
                .find(|(n, _)| n == k)
                .and_then(|(_, v)| v.first()?.parse::<usize>().ok())
        };
        if let Some(n) = num("tune.bufsize").filter(|&n| n > 0) {
            b.bufsize = n;
        }
        if let Some(n) = num("tune.maxrewrite") {
            b.maxrewrite = n;
        }
        b.maxrewrite = b.maxrewrite.min(b.bufsize / 2);
        b
    }

    /// Room left for rewrites in a message whose head takes `head` bytes and whose body is
    /// `body` bytes long (what of it arrived with the head shares the buffer).
    fn room(&self, head: usize, body: usize) -> usize {
        let read_limit = self.bufsize - self.maxrewrite;
        let occupied = (head + body).min(head.max(read_limit));
        self.bufsize.saturating_sub(occupied)
    }
}

/// Bytes a header field takes on the wire (`name: value\r\n`).
fn field_len(name: &[u8], value: &[u8]) -> usize {
    name.len() + value.len() + 4
}

fn head_len(start_line: usize, headers: &[HdrField]) -> usize {
    start_line
        + 2
        + headers
            .iter()
            .map(|h| field_len(&h.name, &h.value))
            .sum::<usize>()
        + 2
}

fn body_len(headers: &[HdrField]) -> usize {
    crate::proxy::http1::header(headers, b"content-length")
        .and_then(|v| std::str::from_utf8(v).ok()?.trim().parse().ok())
        .unwrap_or(0)
}

/// How many bytes `set-header`/`add-header` adds to a head (set-header first removes the field).
fn header_growth(a: &Action, name: &[u8], value: Option<&[u8]>, headers: &[HdrField]) -> usize {
    let removed: usize = match a {
        Action::SetHeader { .. } => headers
            .iter()
            .filter(|h| h.is(name))
            .map(|h| field_len(&h.name, &h.value))
            .sum(),
        _ => 0,
    };
    field_len(name, value.unwrap_or(b"")).saturating_sub(removed)
}

/// Whether a header edit adding `grow` bytes fits; takes the room when it does. The room is
/// computed at the message's first growing rewrite.
fn take_room(
    vars: &mut Vars,
    response: bool,
    limits: &BufferLimits,
    grow: usize,
    head: impl FnOnce() -> (usize, usize),
) -> bool {
    if grow == 0 {
        return true;
    }
    let room = match vars.rewrite_room(response) {
        Some(r) => r,
        None => {
            let (h, b) = head();
            limits.room(h, b)
        }
    };
    if grow > room {
        vars.set_rewrite_room(response, Some(room));
        return false;
    }
    vars.set_rewrite_room(response, Some(room - grow));
    true
}

/// One proxy's compiled HTTP rules.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub proxy_name: String,
    pub acls: AclSet,
    pub http_request: Vec<Rule>,
    pub http_response: Vec<Rule>,
    pub http_after_response: Vec<Rule>,
    /// The proxy's error pages (`errorfile`, `errorfiles`, `http-error`), last one wins.
    pub error_pages: Vec<ReplySpec>,
    /// `option http-restrict-req-hdr-names delete|reject` (after the http-request rules).
    pub restrict_hdr_names: Option<ir::RestrictHdrNames>,
    /// `tune.bufsize` / `tune.maxrewrite`: how much header rewrites may add to a message.
    pub buffer: BufferLimits,
    pub redirects: Vec<(CompiledRedirect, Option<CompiledCond>)>,
    pub switching: Switching,
    /// `use-server` rules (backend side).
    pub use_servers: Vec<UseServerRule>,
    /// `unique-id-format` and the optional `unique-id-header` it is sent in.
    pub unique_id: Option<(LogFmt, Option<String>)>,
}

fn regex_bytes(r: &ir::Regex) -> Result<regex::bytes::Regex, CompileError> {
    regex::bytes::Regex::new(r.0.as_str()).map_err(|e| CompileError::BadPattern {
        pattern: r.0.as_str().to_string(),
        msg: e.to_string(),
    })
}

fn compile_redirect(r: &ir::Redirect, env: &CompileEnv) -> Result<CompiledRedirect, CompileError> {
    let prefix_is_root = r.kind == ir::RedirectKind::Prefix && r.target.text == "/";
    let cookie = match (&r.set_cookie, &r.clear_cookie) {
        (Some(c), _) => Some(Bytes::from(format!("{c}; path=/;"))),
        (None, Some(c)) => Some(Bytes::from(format!("{c}; path=/; Max-Age=0;"))),
        _ => None,
    };
    Ok(CompiledRedirect {
        kind: r.kind,
        target: LogFmt::compile(&r.target, env)?,
        prefix_is_root,
        code: r.code,
        drop_query: r.drop_query,
        append_slash: r.append_slash,
        cookie,
        ignore_empty: r.ignore_empty,
    })
}

/// `http-request` actions the engine performs (see [`compile_action`]; every other action
/// compiles to `Action::Ignored`).
pub const SUPPORTED_HTTP_REQUEST_ACTIONS: &[&str] = &[
    "use-service",
    "allow",
    "deny",
    "tarpit",
    "auth",
    "redirect",
    "return",
    "set-header",
    "add-header",
    "del-header",
    "replace-header",
    "replace-value",
    "set-path",
    "set-pathq",
    "set-query",
    "set-uri",
    "set-method",
    "replace-path",
    "replace-pathq",
    "replace-uri",
    "set-var",
    "set-var-fmt",
    "unset-var",
    "wait-for-body",
    "capture",
    "set-src",
    "set-dst",
    "set-src-port",
    "set-dst-port",
    "normalize-uri",
    "strict-mode",
];

/// `tcp-request connection` and `tcp-request content` actions the engine performs
/// (`proxy::tcp`; other tcp actions neither accept nor reject there).
pub const SUPPORTED_TCP_ACTIONS: &[&str] = &["accept", "reject"];

/// `tcp-request content` and `tcp-response content` actions the engine performs in mode tcp
/// (`proxy::tcp`).
pub const SUPPORTED_TCP_CONTENT_ACTIONS: &[&str] = &["accept", "reject", "set-var"];

/// `http-response` and `http-after-response` actions the engine performs.
pub const SUPPORTED_HTTP_RESPONSE_ACTIONS: &[&str] = &[
    "strict-mode",
    "allow",
    "deny",
    "redirect",
    "return",
    "set-header",
    "add-header",
    "del-header",
    "replace-header",
    "replace-value",
    "set-status",
    "set-var",
    "set-var-fmt",
    "unset-var",
    "wait-for-body",
];

/// Checks the words of `http-request normalize-uri` (HAProxy's messages).
pub fn check_normalizer(args: &[String]) -> Result<(), String> {
    normalize::Normalizer::from_args(args).map(|_| ())
}

/// Whether the engine performs `action` in the rule set `ruleset` (`http-request`,
/// `http-response`, `http-after-response`, `tcp-request content`...). Other tcp rule sets
/// (`tcp-request session`) are not run by this engine yet.
pub fn is_supported_action(ruleset: &str, action: &str) -> bool {
    match ruleset {
        "http-request" => SUPPORTED_HTTP_REQUEST_ACTIONS.contains(&action),
        "http-response" | "http-after-response" => {
            SUPPORTED_HTTP_RESPONSE_ACTIONS.contains(&action)
        }
        // tcp.rs: connection rules in every mode, content rules in mode tcp frontends
        "tcp-request connection" => SUPPORTED_TCP_ACTIONS.contains(&action),
        "tcp-request content" | "tcp-response content" => {
            SUPPORTED_TCP_CONTENT_ACTIONS.contains(&action)
        }
        _ => false,
    }
}

fn compile_action(
    a: &ir::HttpAction,
    env: &CompileEnv,
    response: bool,
    capture_slots: &[u32],
) -> Result<Action, CompileError> {
    use ir::HttpAction as A;
    let lf = |f: &ir::LogFormat| LogFmt::compile(f, env);
    Ok(match a {
        A::Allow => Action::Allow,
        A::Deny {
            status,
            content_type,
            body,
            headers,
        } => Action::Deny(ReplySpec::compile(
            status.unwrap_or(if response { 502 } else { 403 }),
            content_type,
            &Some(body.clone().unwrap_or(ir::ReturnBody::DefaultErrorfiles)),
            headers,
            env,
        )?),
        A::Tarpit { status, .. } => Action::Tarpit {
            status: status.unwrap_or(500),
        },
        A::Auth { realm } => Action::Auth {
            realm: realm.clone(),
        },
        A::Redirect(r) => Action::Redirect(Box::new(compile_redirect(r, env)?)),
        A::SetHeader { name, value } => Action::SetHeader {
            name: Bytes::from(name.clone()),
            value: lf(value)?,
        },
        A::AddHeader { name, value } => Action::AddHeader {
            name: Bytes::from(name.clone()),
            value: lf(value)?,
        },
        A::DelHeader { name, method } => {
            let n: Box<[u8]> = name.as_bytes().into();
            Action::DelHeader {
                name: match method.as_deref() {
                    Some("beg") => NameMatch::Beg(n),
                    Some("end") => NameMatch::End(n),
                    Some("sub") => NameMatch::Sub(n),
                    Some("reg") => NameMatch::Reg(
                        regex::bytes::RegexBuilder::new(name)
                            .case_insensitive(true)
                            .build()
                            .map_err(|e| CompileError::BadPattern {
                                pattern: name.clone(),
                                msg: e.to_string(),
                            })?,
                    ),
                    _ => NameMatch::Str(n),
                },
            }
        }
        A::ReplaceHeader {
            name,
            regex,
            replace,
        } => Action::ReplaceHeader {
            name: Bytes::from(name.clone()),
            re: regex_bytes(regex)?,
            subst: ReplaceFmt::compile(replace, env)?,
            per_value: false,
        },
        A::ReplaceValue {
            name,
            regex,
            replace,
        } => Action::ReplaceHeader {
            name: Bytes::from(name.clone()),
            re: regex_bytes(regex)?,
            subst: ReplaceFmt::compile(replace, env)?,
            per_value: true,
        },
        A::SetPath(f) => Action::SetPath(lf(f)?),
        A::SetPathq(f) => Action::SetPathq(lf(f)?),
        A::SetQuery(f) => Action::SetQuery(lf(f)?),
        A::SetUri(f) => Action::SetUri(lf(f)?),
        A::SetMethod(f) => Action::SetMethod(lf(f)?),
        A::ReplacePath { regex, replace } => Action::ReplacePath {
            re: regex_bytes(regex)?,
            subst: ReplaceFmt::compile(replace, env)?,
        },
        A::ReplacePathq { regex, replace } => Action::ReplacePathq {
            re: regex_bytes(regex)?,
            subst: ReplaceFmt::compile(replace, env)?,
        },
        A::ReplaceUri { regex, replace } => Action::ReplaceUri {
            re: regex_bytes(regex)?,
            subst: ReplaceFmt::compile(replace, env)?,
        },
        A::SetVar { name, expr } => Action::SetVar {
            name: name.as_str().into(),
            expr: CompiledExpr::compile(expr, env)?,
        },
        A::SetVarFmt { name, format } => Action::SetVarFmt {
            name: name.as_str().into(),
            fmt: lf(format)?,
        },
        A::UnsetVar { name } => Action::UnsetVar {
            name: name.as_str().into(),
        },
        A::SetStatus { code, reason } => Action::SetStatus {
            code: *code,
            reason: reason.as_ref().map(|r| Bytes::from(r.clone())),
        },
        A::Return {
            status,
            content_type,
            body,
            headers,
        } => Action::Return(ReplySpec::compile(
            *status,
            content_type,
            body,
            headers,
            env,
        )?),
        A::UseService(s) if s == "prometheus-exporter" => Action::UsePrometheus,
        A::Raw { action, args } if action == "strict-mode" => {
            Action::StrictMode(args.first().map(String::as_str) == Some("on"))
        }
        A::NormalizeUri(args) if !response => {
            Action::NormalizeUri(normalize::Normalizer::from_args(args).map_err(|msg| {
                CompileError::BadPattern {
                    pattern: args.join(" "),
                    msg,
                }
            })?)
        }
        A::SetSrc(e) | A::SetDst(e) | A::SetSrcPort(e) | A::SetDstPort(e) if !response => {
            Action::SetAddr {
                expr: CompiledExpr::compile(e, env)?,
                dst: matches!(a, A::SetDst(_) | A::SetDstPort(_)),
                port: matches!(a, A::SetSrcPort(_) | A::SetDstPort(_)),
            }
        }
        A::UseService(s) if s == "prometheus-exporter" => Action::UsePrometheus,
        A::WaitForBody(args) => {
            Action::WaitForBody(super::body_wait::BodyWait::parse(args).map_err(|msg| {
                CompileError::BadPattern {
                    pattern: args.join(" "),
                    msg,
                }
            })?)
        }
        A::CaptureSample {
            expr, id: Some(id), ..
        } if !response => match capture_slots.get(*id as usize) {
            Some(len) => Action::Capture {
                expr: CompiledExpr::compile(expr, env)?,
                slot: *id as usize,
                len: *len as usize,
            },
            None => Action::Ignored,
        },
        _ => Action::Ignored,
    })
}

fn compile_rules(
    rules: &[ir::HttpRule],
    acls: &AclSet,
    env: &CompileEnv,
    response: bool,
    capture_slots: &[u32],
) -> Result<Vec<Rule>, CompileError> {
    rules
        .iter()
        .map(|r| {
            Ok(Rule {
                action: compile_action(&r.action, env, response, capture_slots)?,
                cond: CompiledCond::compile_opt(r.cond.as_ref(), acls, env)?,
            })
        })
        .collect()
}

fn backend_target(b: &ir::BackendRef, env: &CompileEnv) -> Result<BackendTarget, CompileError> {
    Ok(match b {
        ir::BackendRef::Static(s) => BackendTarget::Static(s.clone()),
        ir::BackendRef::Dynamic(f) => BackendTarget::Dynamic(LogFmt::compile(f, env)?),
    })
}

impl RuleSet {
    /// Applies the global `tune.bufsize` / `tune.maxrewrite`.
    pub fn set_buffer_limits(&mut self, g: &ir::Global) {
        self.buffer = BufferLimits::from_global(g);
    }

    /// Compiles a proxy's ACLs, http rules, redirects and switching rules.
    pub fn compile(p: &ir::Proxy, env: &CompileEnv) -> Result<RuleSet, CompileError> {
        let acls = AclSet::compile(&p.acls, env)?;
        let slots = &p.req_capture_lens;
        let http_request = compile_rules(&p.http_request, &acls, env, false, slots)?;
        let http_response = compile_rules(&p.http_response, &acls, env, true, slots)?;
        let http_after_response = compile_rules(&p.http_after_response, &acls, env, true, slots)?;
        let mut error_pages: Vec<ReplySpec> = p
            .errorfiles
            .iter()
            .map(|e| ReplySpec::page(e.status, &e.content))
            .collect();
        for e in &p.error_replies {
            error_pages.push(ReplySpec::compile(
                e.status,
                &e.content_type,
                &e.body,
                &e.headers,
                env,
            )?);
        }
        let mut redirects = Vec::new();
        for r in &p.redirects {
            redirects.push((
                compile_redirect(&r.redirect, env)?,
                CompiledCond::compile_opt(r.cond.as_ref(), &acls, env)?,
            ));
        }
        let mut switching = Switching::default();
        for u in &p.use_backends {
            switching.rules.push((
                backend_target(&u.target, env)?,
                CompiledCond::compile_opt(u.cond.as_ref(), &acls, env)?,
            ));
        }
        switching.default = p
            .default_backend
            .as_ref()
            .map(|b| backend_target(b, env))
            .transpose()?;
        let mut use_servers = Vec::with_capacity(p.use_servers.len());
        for u in &p.use_servers {
            let target = if u.server.contains('%') {
                match crate::haproxy::parser::sample::parse_log_format(&u.server) {
                    Ok(f) => BackendTarget::Dynamic(LogFmt::compile(&f, env)?),
                    Err(_) => BackendTarget::Static(u.server.clone()),
                }
            } else {
                BackendTarget::Static(u.server.clone())
            };
            use_servers.push(UseServerRule {
                target,
                cond: CompiledCond::compile_opt(u.cond.as_ref(), &acls, env)?,
            });
        }
        Ok(RuleSet {
            proxy_name: p.name.clone(),
            acls,
            http_request,
            http_response,
            http_after_response,
            error_pages,
            buffer: BufferLimits::default(),
            restrict_hdr_names: p
                .options
                .restrict_req_hdr_names
                .filter(|r| *r != ir::RestrictHdrNames::Preserve),
            redirects,
            switching,
            use_servers,
            unique_id: p
                .unique_id_format
                .as_ref()
                .map(|f| LogFmt::compile(f, env))
                .transpose()?
                .map(|f| (f, p.unique_id_header.clone())),
        })
    }

    /// Runs the http-request rules on `head`.
    pub fn apply_request(
        &self,
        head: &mut RequestHead,
        env: &RuleEnv<'_>,
        vars: &mut Vars,
    ) -> Verdict {
        if env.backend.is_empty() {
            // a new transaction: its messages have not been rewritten yet
            vars.set_rewrite_room(false, None);
            vars.set_rewrite_room(true, None);
        }
        self.assign_unique_id(head, env, vars);
        let v = request_rules(
            &self.http_request,
            &self.proxy_name,
            head,
            env,
            vars,
            &self.buffer,
        );
        if v != Verdict::Continue {
            return v;
        }
        // option http-restrict-req-hdr-names: names outside [A-Za-z0-9-]
        let bad = |h: &HdrField| {
            !h.name
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        };
        match self.restrict_hdr_names {
            Some(ir::RestrictHdrNames::Reject) if head.headers.iter().any(bad) => {
                Verdict::Deny { status: 403 }
            }
            Some(ir::RestrictHdrNames::Delete) => {
                head.headers.retain(|h| !bad(h));
                Verdict::Continue
            }
            _ => Verdict::Continue,
        }
    }

    /// Computes the stream's unique id once (`unique-id-format`, first proxy that has one) and
    /// adds the `unique-id-header` when configured.
    fn assign_unique_id(&self, head: &mut RequestHead, env: &RuleEnv<'_>, vars: &mut Vars) {
        let Some((fmt, header)) = &self.unique_id else {
            return;
        };
        if vars.get(crate::proxy::sample::UNIQUE_ID_VAR).is_some() {
            return;
        }
        let id = {
            let r = env.req_ctx(head, vars);
            fmt.render_to_vec(&EvalCtx::new(&r))
        };
        if let Some(h) = header {
            head.headers
                .push(HdrField::new(h.as_bytes().to_vec(), id.clone()));
        }
        vars.set(
            crate::proxy::sample::UNIQUE_ID_VAR,
            crate::proxy::ctx::VarValue::Str(id.into()),
        );
    }

    /// Runs the legacy `redirect` rules (after http-request rules, as HAProxy).
    pub fn apply_redirects(
        &self,
        head: &RequestHead,
        env: &RuleEnv<'_>,
        vars: &Vars,
    ) -> Option<Reply> {
        let r = env.req_ctx(head, vars);
        let ec = EvalCtx::new(&r);
        for (rd, cond) in &self.redirects {
            if cond_ok(cond.as_ref(), &ec) {
                if let Some(r) = redirect_reply(rd, &ec) {
                    return Some(r);
                }
            }
        }
        None
    }

    /// Runs http-response rules on `res` (request view for request fetches).
    pub fn apply_response(
        &self,
        req: &RequestHead,
        res: &mut ResponseHead,
        env: &RuleEnv<'_>,
        vars: &mut Vars,
    ) -> Verdict {
        response_rules(&self.http_response, req, res, env, vars, Some(&self.buffer))
    }
}

impl RuleSet {
    /// `use-server` rules (call only when no persistence cookie assigned a server): the first
    /// matching rule naming a server that `usable` accepts (up, or `option persist`) gives its
    /// index. `index_of` maps a server name to its index in the backend. A dynamic name that
    /// names no server stops the rules, as in HAProxy.
    pub fn select_server(
        &self,
        c: &EvalCtx<'_>,
        index_of: &dyn Fn(&str) -> Option<usize>,
        usable: &dyn Fn(usize) -> bool,
    ) -> Option<usize> {
        for r in &self.use_servers {
            if !cond_ok(r.cond.as_ref(), c) {
                continue;
            }
            let idx = match &r.target {
                BackendTarget::Static(n) => index_of(n),
                BackendTarget::Dynamic(f) => {
                    let name = String::from_utf8_lossy(&f.render_to_vec(c)).into_owned();
                    Some(index_of(&name)?)
                }
            };
            if let Some(i) = idx {
                if usable(i) {
                    return Some(i);
                }
            }
        }
        None
    }
}

impl Switching {
    /// The backend for this request: first matching `use_backend`, else `default_backend`.
    /// A dynamic name that `exists` rejects stops the rules and falls back to the default.
    /// None: no backend (a frontend answers 503; a listen uses itself).
    pub fn select<'s>(
        &'s self,
        c: &EvalCtx<'_>,
        exists: &dyn Fn(&str) -> bool,
    ) -> Option<Cow<'s, str>> {
        for (t, cond) in &self.rules {
            if !cond_ok(cond.as_ref(), c) {
                continue;
            }
            match t {
                BackendTarget::Static(s) => return Some(Cow::Borrowed(s)),
                BackendTarget::Dynamic(f) => {
                    let name = String::from_utf8_lossy(&f.render_to_vec(c)).into_owned();
                    if exists(&name) {
                        return Some(Cow::Owned(name));
                    }
                    break;
                }
            }
        }
        match &self.default {
            Some(BackendTarget::Static(s)) => Some(Cow::Borrowed(s)),
            Some(BackendTarget::Dynamic(f)) => {
                let name = String::from_utf8_lossy(&f.render_to_vec(c)).into_owned();
                exists(&name).then_some(Cow::Owned(name))
            }
            None => None,
        }
    }
}

/// The edits request and response rules share: header changes and variables. Applies
/// `action` and returns true when it is one of them.
fn apply_shared_edit(
    action: &Action,
    headers: &mut Vec<HdrField>,
    rendered: &mut Option<Vec<u8>>,
    tmpl: Option<&[u8]>,
    var_value: &mut Option<crate::proxy::ctx::VarValue>,
    vars: &mut Vars,
) -> bool {
    match action {
        Action::SetHeader { name, .. } => {
            set_header(headers, name, rendered.take().unwrap_or_default())
        }
        Action::AddHeader { name, .. } => headers.push(HdrField {
            name: name.clone(),
            value: Bytes::from(rendered.take().unwrap_or_default()),
        }),
        Action::DelHeader { name } => headers.retain(|h| !name.matches(&h.name)),
        Action::ReplaceHeader {
            name,
            re,
            subst: _,
            per_value,
        } => replace_in_headers(headers, name, re, tmpl.unwrap_or(b""), *per_value),
        Action::SetVar { name, .. } | Action::SetVarFmt { name, .. } => {
            if let Some(v) = var_value.take() {
                vars.set(name, v);
            }
        }
        Action::UnsetVar { name } => vars.unset(name),
        _ => return false,
    }
    true
}

fn set_header(headers: &mut Vec<HdrField>, name: &Bytes, value: Vec<u8>) {
    headers.retain(|h| !h.is(name));
    headers.push(HdrField {
        name: name.clone(),
        value: Bytes::from(value),
    });
}

/// HAProxy's regex replacement: when `re` matches `hay`, the whole value becomes `subst` with
/// `\N` back-references expanded (text outside the match is not kept).
fn regex_expand(re: &regex::bytes::Regex, hay: &[u8], subst: &[u8]) -> Option<Vec<u8>> {
    let caps = re.captures(hay)?;
    let mut out = Vec::with_capacity(subst.len() + 16);
    caps.expand(subst, &mut out);
    Some(out)
}

fn replace_in_headers(
    headers: &mut [HdrField],
    name: &[u8],
    re: &regex::bytes::Regex,
    subst: &[u8],
    per_value: bool,
) {
    for h in headers.iter_mut().filter(|h| h.is(name)) {
        if per_value {
            // Each comma-separated element is matched on its trimmed value; a replaced element
            // loses its surrounding blanks while the others are kept verbatim (as HAProxy).
            let line = h.value.clone();
            let mut out = Vec::with_capacity(line.len() + 16);
            let mut changed = false;
            for (i, seg) in raw_comma_segments(&line).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let v = crate::proxy::ctx::trim_blanks(seg);
                match regex_expand(re, v, subst) {
                    Some(r) => {
                        changed = true;
                        out.extend_from_slice(&r);
                    }
                    None => out.extend_from_slice(seg),
                }
            }
            if changed {
                h.value = Bytes::from(out);
            }
        } else if let Some(r) = regex_expand(re, &h.value, subst) {
            h.value = Bytes::from(r);
        }
    }
}

/// Splits at commas outside double quotes, keeping each segment's blanks.
fn raw_comma_segments(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(line);
    std::iter::from_fn(move || {
        let s = rest?;
        let mut in_q = false;
        let mut i = 0;
        while i < s.len() {
            match s[i] {
                b'"' => in_q = !in_q,
                b'\\' if in_q => i += 1,
                b',' if !in_q => {
                    rest = Some(&s[i + 1..]);
                    return Some(&s[..i]);
                }
                _ => {}
            }
            i += 1;
        }
        rest = None;
        Some(s)
    })
}

/// Splits a request target into (prefix up to path start, path, query-with-?).
fn uri_parts(uri: &[u8]) -> (&[u8], &[u8], &[u8]) {
    let pq = crate::proxy::ctx::strip_authority(uri);
    let prefix = &uri[..uri.len() - pq.len()];
    let qpos = pq.iter().position(|&c| c == b'?').unwrap_or(pq.len());
    (prefix, &pq[..qpos], &pq[qpos..])
}

fn join3(a: &[u8], b: &[u8], c: &[u8]) -> Bytes {
    let mut v = Vec::with_capacity(a.len() + b.len() + c.len());
    v.extend_from_slice(a);
    v.extend_from_slice(b);
    v.extend_from_slice(c);
    Bytes::from(v)
}

/// Builds a redirect reply (HAProxy's http_apply_redirect_rule).
/// The redirect's reply, None when `ignore-empty` applies.
pub fn redirect_reply(rd: &CompiledRedirect, c: &EvalCtx<'_>) -> Option<Reply> {
    if rd.ignore_empty && rd.target.render_to_vec(c).is_empty() {
        return None;
    }
    Some(build_redirect(rd, c))
}

pub fn build_redirect(rd: &CompiledRedirect, c: &EvalCtx<'_>) -> Reply {
    let mut loc = Vec::with_capacity(64);
    let req = c.req;
    let path_q = || -> &[u8] {
        let p = req.path_and_query();
        let p: &[u8] = if p.is_empty() { b"/" } else { p };
        if rd.drop_query {
            let q = p.iter().position(|&x| x == b'?').unwrap_or(p.len());
            &p[..q]
        } else {
            p
        }
    };
    match rd.kind {
        ir::RedirectKind::Scheme => {
            rd.target.render(c, &mut loc);
            loc.extend_from_slice(b"://");
            loc.extend_from_slice(req.header(b"host").unwrap_or(b""));
            loc.extend_from_slice(path_q());
        }
        ir::RedirectKind::Prefix => {
            if !rd.prefix_is_root {
                rd.target.render(c, &mut loc);
            }
            loc.extend_from_slice(path_q());
        }
        ir::RedirectKind::Location => rd.target.render(c, &mut loc),
    }
    if rd.append_slash
        && rd.kind != ir::RedirectKind::Location
        && loc.last().is_some_and(|&l| l != b'/')
    {
        loc.push(b'/');
    }
    let code = match rd.code {
        301 | 302 | 303 | 307 | 308 => rd.code,
        _ => 302,
    };
    let mut headers = vec![(Bytes::from_static(b"location"), Bytes::from(loc))];
    if matches!(code, 302 | 303 | 307) {
        headers.push((
            Bytes::from_static(b"cache-control"),
            Bytes::from_static(b"no-cache"),
        ));
    }
    if let Some(ck) = &rd.cookie {
        headers.push((Bytes::from_static(b"set-cookie"), ck.clone()));
    }
    Reply {
        status: code,
        reason: Cow::Borrowed(reason_phrase(code)),
        headers,
        body: Bytes::new(),
        source: ReplySource::Generated,
    }
}

/// Runs http-request `rules` in order on `head`.
pub fn apply_request_rules(
    rules: &[Rule],
    proxy_name: &str,
    head: &mut RequestHead,
    env: &RuleEnv<'_>,
    vars: &mut Vars,
) -> Verdict {
    request_rules(rules, proxy_name, head, env, vars, &BufferLimits::default())
}

fn request_rules(
    rules: &[Rule],
    proxy_name: &str,
    head: &mut RequestHead,
    env: &RuleEnv<'_>,
    vars: &mut Vars,
    limits: &BufferLimits,
) -> Verdict {
    let mut strict = true;
    for rule in rules {
        // Phase 1: evaluate the condition and render values with an immutable view.
        let mut new_conn: Option<ConnInfo> = None;
        let mut rendered: Option<Vec<u8>> = None;
        let mut var_value = None;
        let mut tmpl: Option<Cow<'_, [u8]>> = None;
        {
            let r = env.req_ctx(head, vars);
            let ec = EvalCtx::new(&r);
            if !cond_ok(rule.cond.as_ref(), &ec) {
                continue;
            }
            match &rule.action {
                Action::Allow => return Verdict::Continue,
                Action::Deny(spec) => {
                    return match spec.body {
                        ReturnBody::ProxyErrors => Verdict::Deny {
                            status: spec.status,
                        },
                        _ => Verdict::Reply(spec.build(&ec)),
                    }
                }
                Action::Tarpit { status } => return Verdict::Tarpit { status: *status },
                Action::UsePrometheus => return Verdict::Prometheus,
                Action::Auth { realm } => {
                    return Verdict::Auth {
                        realm: realm.clone().unwrap_or_else(|| proxy_name.to_string()),
                    }
                }
                Action::Redirect(rd) => {
                    if let Some(r) = redirect_reply(rd, &ec) {
                        return Verdict::Reply(r);
                    }
                }
                Action::Return(spec) => return Verdict::Reply(spec.build(&ec)),
                Action::SetHeader { value, .. }
                | Action::AddHeader { value, .. }
                | Action::SetPath(value)
                | Action::SetPathq(value)
                | Action::SetQuery(value)
                | Action::SetUri(value)
                | Action::SetMethod(value) => rendered = Some(value.render_to_vec(&ec)),
                Action::SetVar { expr, .. } => var_value = expr.eval(&ec).map(|s| s.to_var()),
                Action::SetAddr { expr, dst, port } => {
                    // the address (port kept when the family allows) or the port
                    let mut conn = ec.req.conn.clone();
                    let target = if *dst { &mut conn.dst } else { &mut conn.src };
                    let changed = match expr.eval(&ec) {
                        Some(v) if *port => v
                            .to_int()
                            .and_then(|p| u16::try_from(p).ok())
                            .map(|p| target.set_port(p))
                            .is_some(),
                        Some(v) => v.to_ip().map(|ip| target.set_ip(ip)).is_some(),
                        None => false,
                    };
                    if changed {
                        new_conn = Some(conn);
                    }
                }
                Action::Capture { expr, len, .. } => {
                    rendered = expr.eval(&ec).map(|v| {
                        let mut b = v.to_bytes().to_vec();
                        b.truncate(*len);
                        b
                    })
                }
                Action::ReplaceHeader { subst, .. }
                | Action::ReplacePath { subst, .. }
                | Action::ReplacePathq { subst, .. }
                | Action::ReplaceUri { subst, .. } => tmpl = Some(subst.template(&ec)),
                Action::SetVarFmt { fmt, .. } => {
                    var_value = Some(crate::proxy::ctx::VarValue::Str(Bytes::from(
                        fmt.render_to_vec(&ec),
                    )))
                }
                _ => {}
            }
        }
        // Phase 2: apply the edit (a header addition must fit in the buffer room).
        if let Action::StrictMode(on) = &rule.action {
            strict = *on;
            continue;
        }
        if let Action::SetHeader { name, .. } | Action::AddHeader { name, .. } = &rule.action {
            let grow = header_growth(&rule.action, name, rendered.as_deref(), &head.headers);
            let h = &*head;
            let measure = || {
                let start = h.method.len() + h.uri.len() + 10;
                (head_len(start, &h.headers), body_len(&h.headers))
            };
            if !take_room(vars, false, limits, grow, measure) {
                if strict {
                    return Verdict::Deny { status: 500 };
                }
                continue;
            }
        }
        if apply_shared_edit(
            &rule.action,
            &mut head.headers,
            &mut rendered,
            tmpl.as_deref(),
            &mut var_value,
            vars,
        ) {
            continue;
        }
        match &rule.action {
            Action::SetPath(_) => {
                let v = rendered.unwrap_or_default();
                let (pre, _, q) = uri_parts(&head.uri);
                head.uri = join3(pre, &v, q);
            }
            Action::SetPathq(_) => {
                let v = rendered.unwrap_or_default();
                let (pre, _, _) = uri_parts(&head.uri);
                head.uri = join3(pre, &v, b"");
            }
            Action::SetQuery(_) => {
                let v = rendered.unwrap_or_default();
                let (pre, p, _) = uri_parts(&head.uri);
                let mut q = Vec::with_capacity(v.len() + 1);
                q.push(b'?');
                q.extend_from_slice(&v);
                head.uri = join3(pre, p, &q);
            }
            Action::SetUri(_) => head.uri = Bytes::from(rendered.unwrap_or_default()),
            Action::SetMethod(_) => {
                vars.remember_method(head.method.clone());
                head.method = Bytes::from(rendered.unwrap_or_default());
            }
            Action::ReplacePath { re, .. } => {
                let (pre, p, q) = uri_parts(&head.uri);
                if let Some(np) = regex_expand(re, p, tmpl.as_deref().unwrap_or(b"")) {
                    head.uri = join3(pre, &np, q);
                }
            }
            Action::ReplacePathq { re, .. } => {
                let (pre, p, q) = uri_parts(&head.uri);
                let pq = join3(b"", p, q);
                if let Some(np) = regex_expand(re, &pq, tmpl.as_deref().unwrap_or(b"")) {
                    head.uri = join3(pre, &np, b"");
                }
            }
            Action::ReplaceUri { re, .. } => {
                if let Some(nu) = regex_expand(re, &head.uri, tmpl.as_deref().unwrap_or(b"")) {
                    head.uri = Bytes::from(nu);
                }
            }
            Action::Capture { slot, .. } => {
                if let Some(v) = rendered {
                    vars.set_capture(*slot, Bytes::from(v));
                }
            }
            Action::SetAddr { .. } => {
                if let Some(c) = new_conn {
                    vars.set_conn_override(c);
                }
            }
            Action::NormalizeUri(n) => match n.apply(&head.uri) {
                Ok(Some(u)) => head.uri = Bytes::from(u),
                Ok(None) => {}
                Err(()) => return Verdict::Deny { status: 400 },
            },
            _ => {}
        }
    }
    Verdict::Continue
}

/// Runs http-response `rules` in order on `res`.
pub fn apply_response_rules(
    rules: &[Rule],
    req: &RequestHead,
    res: &mut ResponseHead,
    env: &RuleEnv<'_>,
    vars: &mut Vars,
) -> Verdict {
    response_rules(rules, req, res, env, vars, None)
}

/// [`apply_response_rules`]; with `limits`, header additions must fit in the buffer room.
fn response_rules(
    rules: &[Rule],
    req: &RequestHead,
    res: &mut ResponseHead,
    env: &RuleEnv<'_>,
    vars: &mut Vars,
    limits: Option<&BufferLimits>,
) -> Verdict {
    let mut strict = true;
    for rule in rules {
        let mut rendered: Option<Vec<u8>> = None;
        let mut var_value = None;
        let mut tmpl: Option<Cow<'_, [u8]>> = None;
        {
            let r = env.req_ctx(req, vars);
            let rc = ResponseCtx::new(res);
            let ec = EvalCtx::with_response(&r, &rc);
            if !cond_ok(rule.cond.as_ref(), &ec) {
                continue;
            }
            match &rule.action {
                Action::Allow => return Verdict::Continue,
                Action::Deny(spec) => {
                    return match spec.body {
                        ReturnBody::ProxyErrors => Verdict::Deny {
                            status: spec.status,
                        },
                        _ => Verdict::Reply(spec.build(&ec)),
                    }
                }
                Action::Redirect(rd) => {
                    if let Some(r) = redirect_reply(rd, &ec) {
                        return Verdict::Reply(r);
                    }
                }
                Action::Return(spec) => return Verdict::Reply(spec.build(&ec)),
                Action::SetHeader { value, .. } | Action::AddHeader { value, .. } => {
                    rendered = Some(value.render_to_vec(&ec))
                }
                Action::SetVar { expr, .. } => var_value = expr.eval(&ec).map(|s| s.to_var()),
                Action::ReplaceHeader { subst, .. }
                | Action::ReplacePath { subst, .. }
                | Action::ReplacePathq { subst, .. }
                | Action::ReplaceUri { subst, .. } => tmpl = Some(subst.template(&ec)),
                Action::SetVarFmt { fmt, .. } => {
                    var_value = Some(crate::proxy::ctx::VarValue::Str(Bytes::from(
                        fmt.render_to_vec(&ec),
                    )))
                }
                _ => {}
            }
        }
        if let Action::StrictMode(on) = &rule.action {
            strict = *on;
            continue;
        }
        if let (Some(limits), Action::SetHeader { name, .. } | Action::AddHeader { name, .. }) =
            (limits, &rule.action)
        {
            let grow = header_growth(&rule.action, name, rendered.as_deref(), &res.headers);
            let h = &*res;
            let measure = || {
                let start = h.reason.len() + 13;
                (head_len(start, &h.headers), body_len(&h.headers))
            };
            if !take_room(vars, true, limits, grow, measure) {
                if strict {
                    return Verdict::Deny { status: 500 };
                }
                continue;
            }
        }
        if apply_shared_edit(
            &rule.action,
            &mut res.headers,
            &mut rendered,
            tmpl.as_deref(),
            &mut var_value,
            vars,
        ) {
            continue;
        }
        match &rule.action {
            Action::SetStatus { code, reason } => {
                res.status = *code;
                res.reason = reason
                    .clone()
                    .unwrap_or_else(|| Bytes::from_static(reason_phrase(*code).as_bytes()));
            }
            _ => {}
        }
    }
    Verdict::Continue
}

/// Shared handle type the engine can keep per proxy.
pub type SharedRuleSet = Arc<RuleSet>;

mod normalize;

#[cfg(test)]
mod tests;

//! Protocol health checks built as tcp-check sequences, the way HAProxy 2.6 implements them:
//! `option pgsql-check`, `option mysql-check`, `option redis-check`, `option ssl-hello-chk`,
//! `option smtpchk`, and explicit `tcp-check connect/send/send-binary/expect` rules.
//!
//! A [`CheckSeq`] is a list of steps run over one connection; the first failing expect decides
//! the result (status and info text as HAProxy reports them).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::checker::ProbeResult;
use super::server_state::CheckStatus;
use crate::haproxy::ir;

/// What an `expect` step compares the received bytes with.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Substring (`string`, `binary`).
    Bytes(Vec<u8>),
    /// Regex on the bytes (`rstring`).
    Rstring(regex::bytes::Regex),
    /// Regex on the upper-case hex dump of the bytes (`rbinary`).
    Rbinary(regex::Regex),
    /// MySQL initial handshake packet (not an error packet).
    MysqlHandshake,
    /// MySQL OK packet after the handshake (not an error packet).
    MysqlOk,
    /// LDAPv3 BindResponse with resultCode 0 (`option ldap-check`).
    LdapBind,
    /// SPOP AGENT-HELLO (`option spop-check`).
    SpopHello,
}

#[derive(Debug, Clone)]
pub struct ExpectStep {
    pub matcher: Matcher,
    pub negate: bool,
    /// Wait for at least this many bytes before matching; when set, a mismatch on what has
    /// arrived is conclusive (unset: wait for more data on mismatch, as HAProxy).
    pub min_recv: Option<usize>,
    pub error_status: CheckStatus,
    pub ok_info: Option<String>,
    pub err_info: Option<ErrInfo>,
    /// Rule number in the tcp-check list (1-based) and its description, for the generic
    /// messages of explicit `tcp-check` rules (None for protocol checks).
    pub user_rule: Option<(usize, String)>,
    /// `comment` of the rule, added to its messages.
    pub comment: Option<String>,
    /// Rule number (1-based) in HAProxy's ruleset, for "at step N" texts.
    pub step: usize,
    /// `tout-status`: status on a read timeout (L7TOUT by default).
    pub tout_status: Option<CheckStatus>,
    /// `ok-status`: status when this expect is the last rule and passes.
    pub ok_status: Option<CheckStatus>,
    /// On success, report the reply's code and text (SMTP: `status-code` and `on-success`
    /// taken from the reply line).
    pub ok_reply: bool,
}

/// How the info text of a failed expect is built.
#[derive(Debug, Clone)]
pub enum ErrInfo {
    Fixed(String),
    /// `res.payload(N,0)` up to the first NUL (PostgreSQL error fields).
    PayloadToNul(usize),
    /// `res.payload(0,0),cut_crlf`: the first line received (Redis errors).
    FirstLine,
    /// `res.payload(N,0),ltrim(' '),cut_crlf`, and the status code from the first 3 bytes
    /// (SMTP replies; N = 0 for the banner check, which sets no code).
    SmtpReply(usize),
}

/// TLS of a `tcp-check connect` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectTls {
    Plain,
    /// `default`: as the server's checks (`check-ssl`, inherited `ssl`).
    Default,
    /// `ssl [sni NAME] [alpn LIST]`.
    Ssl {
        sni: Option<String>,
        alpn: Vec<String>,
    },
}

#[derive(Debug, Clone)]
pub enum Step {
    /// (Re)connect, optionally to another address or port.
    Connect {
        port: Option<u16>,
        addr: Option<std::net::IpAddr>,
        /// Rule number (1-based) in the tcp-check list.
        step: usize,
        comment: Option<String>,
        tls: ConnectTls,
    },
    Send(Vec<u8>),
    Expect(ExpectStep),
}

/// A compiled health-check sequence.
#[derive(Debug, Clone)]
pub struct CheckSeq {
    pub steps: Vec<Step>,
    /// Status reported when every step passed.
    pub ok_status: CheckStatus,
    /// An explicit `tcp-check` ruleset: HAProxy's generic messages ("at step N of
    /// tcp-check", "(tcp-check)"), which protocol checks don't use.
    pub generic: bool,
}

fn expect(matcher: Matcher) -> ExpectStep {
    ExpectStep {
        matcher,
        negate: false,
        min_recv: None,
        error_status: CheckStatus::L7Rsp,
        ok_info: None,
        err_info: None,
        user_rule: None,
        comment: None,
        step: 0,
        tout_status: None,
        ok_status: None,
        ok_reply: false,
    }
}

/// PostgreSQL StartupMessage (protocol 3.0) with only a `user` parameter.
pub fn pgsql_startup(user: &str) -> Vec<u8> {
    let len = 15 + user.len() as u32;
    let mut m = Vec::with_capacity(len as usize);
    m.extend_from_slice(&len.to_be_bytes());
    m.extend_from_slice(&0x0003_0000u32.to_be_bytes());
    m.extend_from_slice(b"user\0");
    m.extend_from_slice(user.as_bytes());
    m.extend_from_slice(b"\0\0");
    m
}

/// MySQL client authentication packet followed by COM_QUIT (HAProxy's layout).
pub fn mysql_auth(user: &str, post41: bool) -> Vec<u8> {
    let mut body = Vec::new();
    let plen = if post41 {
        body.extend_from_slice(&[0x00, 0x82, 0x00, 0x00, 0x00, 0x80, 0x00, 0x01, 0x21]);
        body.extend_from_slice(&[0u8; 23]);
        user.len() + 7 + 27
    } else {
        body.extend_from_slice(&[0x00, 0x80, 0x00, 0x00, 0x01]);
        user.len() + 7
    };
    let mut m = vec![
        (plen & 0xff) as u8,
        ((plen >> 8) & 0xff) as u8,
        ((plen >> 16) & 0xff) as u8,
        1,
    ];
    m.extend_from_slice(&body);
    m.extend_from_slice(user.as_bytes());
    m.extend_from_slice(&[0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01]);
    m
}

/// An SSLv3 ClientHello, as `option ssl-hello-chk` sends it.
pub fn ssl_client_hello() -> Vec<u8> {
    let mut body = vec![0x03, 0x00]; // client version SSLv3
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as u32)
        .unwrap_or(0);
    body.extend_from_slice(&now.to_be_bytes());
    body.extend_from_slice(&[0x5a; 28]); // random
    body.push(0); // session id length
    let suites: [u16; 17] = [
        0x0000, 0x0001, 0x0002, 0x0003, 0x0004, 0x0005, 0x0006, 0x0007, 0x0008, 0x0009, 0x000a,
        0x000b, 0x000c, 0x000d, 0x000e, 0x000f, 0x002f,
    ];
    body.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[0x01, 0x00]); // one compression method: null
    let mut hs = vec![0x01];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x00];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Unescapes a `tcp-check send` string (`\r`, `\n`, `\t`, `\\`, `\xHH`).
fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            match b[i + 1] {
                b'r' => out.push(b'\r'),
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'x' if i + 3 < b.len() => {
                    match s
                        .get(i + 2..i + 4)
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                    {
                        Some(v) => {
                            out.push(v);
                            i += 4;
                            continue;
                        }
                        None => out.push(b'x'),
                    }
                }
                c => out.push(c),
            }
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn status_of(s: &str) -> CheckStatus {
    match s {
        "L7OK" | "L7OKC" => CheckStatus::L7Ok,
        "L7STS" => CheckStatus::L7Sts,
        "L7TOUT" => CheckStatus::L7Timeout,
        "L6OK" => CheckStatus::L6Ok,
        "L6TOUT" => CheckStatus::L6Timeout,
        "L6RSP" => CheckStatus::L6Rsp,
        "L4OK" => CheckStatus::L4Ok,
        "L4TOUT" => CheckStatus::L4Timeout,
        "L4CON" => CheckStatus::L4Conn,
        _ => CheckStatus::L7Rsp,
    }
}

fn tcp_check_expect(
    step: usize,
    negate: bool,
    kind: &str,
    pattern: &str,
    options: &[String],
) -> Option<Step> {
    let matcher = match kind {
        "string" => Matcher::Bytes(pattern.as_bytes().to_vec()),
        "binary" => Matcher::Bytes(unhex(pattern)?),
        "rstring" => Matcher::Rstring(regex::bytes::Regex::new(pattern).ok()?),
        "rbinary" => Matcher::Rbinary(regex::Regex::new(pattern).ok()?),
        _ => return None,
    };
    let mut e = expect(matcher);
    e.negate = negate;
    let desc = match kind {
        "string" => format!("string '{pattern}'"),
        "binary" => format!("binary '{pattern}'"),
        "rstring" => "regex".to_string(),
        _ => "binary regex".to_string(),
    };
    e.user_rule = Some((step, desc));
    e.step = step;
    let mut it = options.iter();
    while let Some(o) = it.next() {
        match o.as_str() {
            "min-recv" => e.min_recv = it.next().and_then(|v| v.parse().ok()),
            "error-status" => e.error_status = status_of(it.next().map_or("", |s| s)),
            "tout-status" => e.tout_status = it.next().map(|s| status_of(s)),
            "ok-status" => e.ok_status = it.next().map(|s| status_of(s)),
            "comment" => e.comment = it.next().cloned(),
            "on-success" => e.ok_info = it.next().cloned(),
            "on-error" => e.err_info = it.next().cloned().map(ErrInfo::Fixed),
            _ => {}
        }
    }
    Some(Step::Expect(e))
}

fn from_tcp_checks(rules: &[ir::TcpCheckRule]) -> CheckSeq {
    let mut steps = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        match r {
            ir::TcpCheckRule::Connect { options } => {
                let opt = |name: &str| {
                    options
                        .iter()
                        .position(|o| o == name)
                        .and_then(|i| options.get(i + 1))
                };
                let tls = if options.iter().any(|o| o == "default") {
                    ConnectTls::Default
                } else if options.iter().any(|o| o == "ssl") {
                    ConnectTls::Ssl {
                        sni: opt("sni").cloned(),
                        alpn: opt("alpn")
                            .map(|a| a.split(',').map(String::from).collect())
                            .unwrap_or_default(),
                    }
                } else {
                    ConnectTls::Plain
                };
                steps.push(Step::Connect {
                    port: opt("port").and_then(|p| p.parse().ok()),
                    addr: opt("addr").and_then(|a| parse_check_addr(a)),
                    step: i + 1,
                    comment: opt("comment").cloned(),
                    tls,
                });
            }
            ir::TcpCheckRule::Send { data, hex, .. } => {
                let bytes = if *hex {
                    unhex(data).unwrap_or_default()
                } else {
                    unescape(data)
                };
                steps.push(Step::Send(bytes));
            }
            ir::TcpCheckRule::Expect {
                negate,
                kind,
                pattern,
                options,
            } => {
                if let Some(s) = tcp_check_expect(i + 1, *negate, kind, pattern, options) {
                    steps.push(s);
                }
            }
            _ => {}
        }
    }
    CheckSeq {
        steps,
        ok_status: CheckStatus::L7Ok,
        generic: true,
    }
}

/// `addr` of a `connect` rule: an IP address, optionally with `:port` (the port is taken by
/// the `port` option).
fn parse_check_addr(a: &str) -> Option<std::net::IpAddr> {
    a.parse()
        .ok()
        .or_else(|| a.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// The check sequence of a backend, when its check is a protocol/tcp-check one
/// (None: TCP connect or httpchk, handled by the checker itself).
pub fn seq_for(p: &ir::Proxy) -> Option<CheckSeq> {
    let kind = p.options.check.as_ref()?;
    let seq = match kind {
        ir::CheckKind::TcpCheck => from_tcp_checks(&p.tcp_checks),
        ir::CheckKind::PgsqlChk { user } => {
            let mut steps = Vec::new();
            if let Some(u) = user {
                steps.push(Step::Send(pgsql_startup(u)));
                let mut not_err = expect(Matcher::Rstring(regex::bytes::Regex::new("^E").ok()?));
                not_err.negate = true;
                not_err.min_recv = Some(5);
                not_err.err_info = Some(ErrInfo::PayloadToNul(6));
                steps.push(Step::Expect(not_err));
                let mut auth = expect(Matcher::Rbinary(
                    // HAProxy 2.6.12 also accepts SASL (10), whatever the message length
                    regex::Regex::new("^52000000[A-Z0-9]{2}000000(00|02|03|04|05|06|0A)").ok()?,
                ));
                auth.min_recv = Some(9);
                auth.error_status = CheckStatus::L7Sts;
                auth.ok_info = Some("PostgreSQL server is ok".into());
                auth.err_info = Some(ErrInfo::Fixed("PostgreSQL unknown error".into()));
                steps.push(Step::Expect(auth));
            }
            CheckSeq {
                ok_status: if user.is_some() {
                    CheckStatus::L7Ok
                } else {
                    CheckStatus::L4Ok
                },
                steps,
                generic: false,
            }
        }
        ir::CheckKind::MysqlChk { user, post41 } => {
            let mysql = |m| {
                let mut e = expect(m);
                e.error_status = CheckStatus::L7Sts;
                Step::Expect(e)
            };
            // as HAProxy: the authentication packet (and COM_QUIT) goes out right after the
            // connect, then the handshake and the OK that follows it are read
            let mut steps = Vec::new();
            if let Some(u) = user {
                steps.push(Step::Send(mysql_auth(u, *post41)));
            }
            steps.push(mysql(Matcher::MysqlHandshake));
            if user.is_some() {
                steps.push(mysql(Matcher::MysqlOk));
            }
            CheckSeq {
                steps,
                ok_status: CheckStatus::L7Ok,
                generic: false,
            }
        }
        ir::CheckKind::RedisChk => {
            let mut e = expect(Matcher::Bytes(b"+PONG\r\n".to_vec()));
            e.error_status = CheckStatus::L7Sts;
            e.err_info = Some(ErrInfo::FirstLine);
            e.ok_info = Some("Redis server is ok".into());
            CheckSeq {
                steps: vec![
                    Step::Send(b"*1\r\n$4\r\nPING\r\n".to_vec()),
                    Step::Expect(e),
                ],
                ok_status: CheckStatus::L7Ok,
                generic: false,
            }
        }
        ir::CheckKind::LdapChk => {
            let mut first = expect(Matcher::Rbinary(regex::Regex::new("^30").ok()?));
            first.min_recv = Some(14);
            first.err_info = Some(ErrInfo::Fixed("Not LDAPv3 protocol".into()));
            CheckSeq {
                steps: vec![
                    Step::Send(super::checks_proto::LDAP_BIND_REQUEST.to_vec()),
                    Step::Expect(first),
                    Step::Expect(expect(Matcher::LdapBind)),
                ],
                ok_status: CheckStatus::L7Ok,
                generic: false,
            }
        }
        ir::CheckKind::SpopChk => {
            let mut e = expect(Matcher::SpopHello);
            e.min_recv = Some(4);
            CheckSeq {
                steps: vec![
                    Step::Send(super::checks_proto::spop_hello_request()),
                    Step::Expect(e),
                ],
                ok_status: CheckStatus::L7Ok,
                generic: false,
            }
        }
        ir::CheckKind::SslHelloChk => {
            let mut e = expect(Matcher::Rbinary(regex::Regex::new("^1[56]").ok()?));
            e.min_recv = Some(5);
            e.error_status = CheckStatus::L6Rsp;
            e.tout_status = Some(CheckStatus::L6Timeout);
            CheckSeq {
                steps: vec![Step::Send(ssl_client_hello()), Step::Expect(e)],
                ok_status: CheckStatus::L6Ok,
                generic: false,
            }
        }
        ir::CheckKind::SmtpChk { hello, domain } => {
            let cmd = match (hello.as_deref(), domain.as_deref()) {
                (Some(h), Some(d))
                    if h.eq_ignore_ascii_case("HELO") || h.eq_ignore_ascii_case("EHLO") =>
                {
                    format!("{h} {d}\r\n")
                }
                _ => "HELO localhost\r\n".to_string(),
            };
            let mut banner = expect(Matcher::Rstring(
                regex::bytes::Regex::new("^[0-9]{3}[ \r]").ok()?,
            ));
            banner.min_recv = Some(4);
            banner.err_info = Some(ErrInfo::SmtpReply(0));
            let mut banner2 = expect(Matcher::Rstring(
                regex::bytes::Regex::new("^2[0-9]{2}[ \r]").ok()?,
            ));
            banner2.error_status = CheckStatus::L7Sts;
            banner2.min_recv = Some(4);
            banner2.err_info = Some(ErrInfo::SmtpReply(4));
            let mut ehlo = expect(Matcher::Rstring(
                regex::bytes::Regex::new("^2[0-9]{2}[- \r]").ok()?,
            ));
            ehlo.error_status = CheckStatus::L7Sts;
            ehlo.min_recv = Some(4);
            ehlo.err_info = Some(ErrInfo::SmtpReply(4));
            // HAProxy 2.6.12 ends the conversation: QUIT, and 221 reported with its text
            let mut quit = expect(Matcher::Rstring(
                regex::bytes::Regex::new("^221[ \r]").ok()?,
            ));
            quit.error_status = CheckStatus::L7Sts;
            quit.min_recv = Some(4);
            quit.err_info = Some(ErrInfo::SmtpReply(4));
            quit.ok_reply = true;
            CheckSeq {
                steps: vec![
                    Step::Expect(banner),
                    Step::Expect(banner2),
                    Step::Send(cmd.into_bytes()),
                    Step::Expect(ehlo),
                    Step::Send(b"QUIT\r\n".to_vec()),
                    Step::Expect(quit),
                ],
                ok_status: CheckStatus::L7Ok,
                generic: false,
            }
        }
        _ => return None,
    };
    let mut seq = seq;
    if !seq.generic {
        // rule numbers as in HAProxy's built-in rulesets, which start with an explicit
        // connect for these checks
        let offset = usize::from(matches!(
            kind,
            ir::CheckKind::MysqlChk { .. }
                | ir::CheckKind::PgsqlChk { .. }
                | ir::CheckKind::SmtpChk { .. }
        ));
        for (i, st) in seq.steps.iter_mut().enumerate() {
            if let Step::Expect(e) = st {
                e.step = i + 1 + offset;
            }
        }
    }
    Some(seq)
}

fn hex_upper(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push_str(&format!("{x:02X}"));
    }
    s
}

/// Result of matching an expect against what was received so far.
enum Verdict {
    Pass,
    Fail,
    /// Failed with this status (instead of the expect's error status).
    FailWith(CheckStatus),
    /// Need more bytes (unless the peer closed).
    More,
    /// The peer closed in the middle of a protocol message (L7RSP, as HAProxy reports it).
    Truncated,
}

fn judge(e: &ExpectStep, buf: &[u8], closed: bool) -> (Verdict, Option<String>, u16) {
    if !closed {
        if let Matcher::Bytes(p) = &e.matcher {
            if buf.len() < p.len() {
                return (Verdict::More, None, 0);
            }
        }
        if e.min_recv.is_some_and(|m| buf.len() < m) {
            return (Verdict::More, None, 0);
        }
    }
    if matches!(e.matcher, Matcher::MysqlHandshake | Matcher::MysqlOk) {
        return judge_mysql(e, buf, closed);
    }
    if matches!(e.matcher, Matcher::LdapBind | Matcher::SpopHello) {
        let reply = match e.matcher {
            Matcher::LdapBind => super::checks_proto::ldap_bind_response(buf, closed),
            _ => super::checks_proto::spop_hello_reply(buf, closed),
        };
        return match reply {
            super::checks_proto::Reply::Ok(info) => (Verdict::Pass, Some(info.to_string()), 0),
            super::checks_proto::Reply::More => (Verdict::More, None, 0),
            super::checks_proto::Reply::Fail(status, code, info) => {
                (Verdict::FailWith(status), Some(info), code)
            }
        };
    }
    let hit = match &e.matcher {
        Matcher::Bytes(s) => !s.is_empty() && buf.windows(s.len()).any(|w| w == &s[..]),
        Matcher::Rstring(re) => re.is_match(buf),
        Matcher::Rbinary(re) => re.is_match(&hex_upper(buf)),
        Matcher::MysqlHandshake | Matcher::MysqlOk | Matcher::LdapBind | Matcher::SpopHello => {
            false
        }
    };
    if !hit && !closed && e.min_recv.is_none() {
        return (Verdict::More, None, 0);
    }
    if hit != e.negate {
        return (Verdict::Pass, None, 0);
    }
    let (info, code) = match &e.err_info {
        Some(ErrInfo::Fixed(t)) => (Some(t.clone()), 0),
        Some(ErrInfo::PayloadToNul(o)) => {
            let p = buf.get(*o..).unwrap_or_default();
            let p = p.split(|c| *c == 0).next().unwrap_or_default();
            (Some(String::from_utf8_lossy(p).into_owned()), 0)
        }
        Some(ErrInfo::FirstLine) => {
            let end = buf
                .iter()
                .position(|c| *c == b'\r' || *c == b'\n')
                .unwrap_or(buf.len());
            (Some(String::from_utf8_lossy(&buf[..end]).into_owned()), 0)
        }
        Some(ErrInfo::SmtpReply(o)) => {
            let (text, code) = smtp_reply(buf, *o);
            (Some(text), if *o == 0 { 0 } else { code })
        }
        None => match &e.user_rule {
            Some((step, desc)) => {
                let what = if hit {
                    "TCPCHK matched unwanted content"
                } else {
                    "TCPCHK did not match content"
                };
                let detail = match (&e.matcher, desc.strip_prefix("string ")) {
                    (Matcher::Bytes(_), Some(quoted)) => format!(" {quoted}"),
                    (Matcher::Bytes(_), None) => " (binary)".to_string(),
                    (Matcher::Rstring(_), _) => " (regex)".to_string(),
                    _ => " (binary regex)".to_string(),
                };
                (Some(format!("{what}{detail} at step {step}")), 0)
            }
            None => (None, 0),
        },
    };
    (Verdict::Fail, info, code)
}

/// `res.payload(offset,0),ltrim(' '),cut_crlf` and the code in the first 3 bytes of an
/// SMTP reply.
fn smtp_reply(buf: &[u8], offset: usize) -> (String, u16) {
    let p = buf.get(offset..).unwrap_or_default();
    let start = p.iter().position(|c| *c != b' ').unwrap_or(p.len());
    let p = &p[start..];
    let end = p
        .iter()
        .position(|c| *c == b'\r' || *c == b'\n')
        .unwrap_or(p.len());
    let code = std::str::from_utf8(buf.get(..3).unwrap_or_default())
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (String::from_utf8_lossy(&p[..end]).into_owned(), code)
}

/// MySQL packets as HAProxy reads them: the handshake at 0, the OK after it; an error packet
/// (0xff) fails with its code and message.
fn judge_mysql(e: &ExpectStep, buf: &[u8], closed: bool) -> (Verdict, Option<String>, u16) {
    let more = || {
        if closed {
            (Verdict::Truncated, None, 0)
        } else {
            (Verdict::More, None, 0)
        }
    };
    let plen_at = |o: usize| -> Option<usize> {
        let h = buf.get(o..o + 3)?;
        Some(h[0] as usize | (h[1] as usize) << 8 | (h[2] as usize) << 16)
    };
    let offset = match e.matcher {
        Matcher::MysqlOk => match plen_at(0) {
            Some(l) => l + 4,
            None => return more(),
        },
        _ => 0,
    };
    let Some(plen) = plen_at(offset) else {
        return more();
    };
    let Some(pkt) = buf.get(offset + 4..offset + 4 + plen) else {
        return more();
    };
    if pkt.first() == Some(&0xff) {
        let code = pkt
            .get(1..3)
            .map_or(0, |c| u16::from_le_bytes([c[0], c[1]]));
        let msg = String::from_utf8_lossy(buf.get(offset + 7..).unwrap_or_default()).into_owned();
        return (Verdict::Fail, Some(msg), code);
    }
    // the server version (from the handshake), as HAProxy shows it
    let ver = buf
        .get(5..)
        .map(|v| v.split(|c| *c == 0).next().unwrap_or_default())
        .map(|v| String::from_utf8_lossy(v).into_owned());
    (Verdict::Pass, ver, 0)
}

/// How long a check may take: `connect` for the connection, then `read` (HAProxy's
/// `timeout check`) from the connection on, or, without it, until `connect` runs out counted
/// from the start (the whole check then gets `inter`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub connect: Duration,
    pub read: Option<Duration>,
}

impl Limits {
    pub fn total(d: Duration) -> Limits {
        Limits {
            connect: d,
            read: None,
        }
    }
}

/// The rule a check failed on, for HAProxy's generic "at step N of tcp-check" texts.
fn step_suffix(seq: &CheckSeq, what: Option<(usize, String, Option<&str>)>) -> String {
    if !seq.generic {
        return String::new();
    }
    match what {
        None => " at initial connection step of tcp-check".to_string(),
        Some((step, desc, comment)) => {
            let mut s = format!(" at step {step} of tcp-check ({desc})");
            if let Some(c) = comment {
                s.push_str(&format!(" comment: '{c}'"));
            }
            s
        }
    }
}

/// Runs `seq` against `addr` within `limits`, as HAProxy evaluates a tcp-check ruleset:
/// an implicit connect unless the first rule is one; an `expect` after a `send` or a
/// `connect` reads before it judges; received bytes accumulate until the next `connect`.
pub async fn run(seq: &CheckSeq, addr: SocketAddr, limits: Limits, route: &Route) -> ProbeResult {
    let start = Instant::now();
    let conn_deadline = tokio::time::Instant::from_std(start + limits.connect);
    let mut deadline = conn_deadline;
    let result = |ok: bool, status: CheckStatus, info: String| ProbeResult {
        ok,
        status,
        code: 0,
        info,
        duration: start.elapsed(),
    };
    let mut stream: Option<CheckStream> = None;
    let mut buf: Vec<u8> = Vec::new();
    let mut closed = false;
    let mut must_read = false;
    let mut last_info: Option<String> = None;
    let mut last_code: u16 = 0;
    // what decides the result when every rule passed: the last connect or expect
    let mut last_ok = (CheckStatus::L4Ok, None::<String>);
    let connect = |ip: Option<std::net::IpAddr>, port: Option<u16>, tls: Option<CheckTls>| {
        let a = SocketAddr::new(ip.unwrap_or(addr.ip()), port.unwrap_or(addr.port()));
        open_route(a, route, tls, conn_deadline)
    };
    let read_deadline = |d: tokio::time::Instant| match limits.read {
        Some(r) => tokio::time::Instant::now() + r,
        None => d,
    };
    // an implicit connect first, unless the sequence starts with its own
    if !matches!(seq.steps.first(), Some(Step::Connect { .. })) {
        match connect(None, None, route.tls.clone()).await {
            Err((status, text)) => {
                let info = format!("{text}{}", step_suffix(seq, None));
                return result(false, status, info);
            }
            Ok(s) => {
                stream = Some(s);
                deadline = read_deadline(deadline);
                must_read = true;
            }
        }
    }
    for step in &seq.steps {
        match step {
            Step::Connect {
                port,
                addr: ip,
                step,
                comment,
                tls,
            } => {
                let tls = match tls {
                    ConnectTls::Plain => None,
                    ConnectTls::Default => route.tls.clone(),
                    ConnectTls::Ssl { .. } => route
                        .rule_tls
                        .iter()
                        .find(|(n, _)| n == step)
                        .map(|(_, t)| t.clone()),
                };
                if let Some(mut old) = stream.take() {
                    let _ = old.shutdown().await;
                }
                let desc = match port {
                    Some(p) => format!("connect port {p}"),
                    None => "connect".to_string(),
                };
                let suffix = step_suffix(seq, Some((*step, desc, comment.as_deref())));
                let tls_on = tls.is_some();
                match connect(*ip, *port, tls).await {
                    Err((status, text)) => return result(false, status, format!("{text}{suffix}")),
                    Ok(s) => {
                        stream = Some(s);
                        deadline = read_deadline(deadline);
                        buf.clear();
                        closed = false;
                        must_read = true;
                        let status = if tls_on {
                            CheckStatus::L6Ok
                        } else {
                            CheckStatus::L4Ok
                        };
                        last_ok = (status, seq.generic.then(|| "(tcp-check)".to_string()));
                    }
                }
            }
            Step::Send(data) => {
                let Some(s) = stream.as_mut() else {
                    return result(false, CheckStatus::L7Rsp, String::new());
                };
                // as HAProxy, each send releases what was received before
                buf.clear();
                closed = false;
                match tokio::time::timeout_at(deadline, s.write_all(data)).await {
                    Ok(Ok(())) => must_read = true,
                    Ok(Err(e)) => return result(false, CheckStatus::L7Rsp, e.to_string()),
                    Err(_) => return result(false, CheckStatus::L7Timeout, String::new()),
                }
            }
            Step::Expect(e) => {
                let mut first = must_read;
                must_read = false;
                loop {
                    let (v, info, code) = if first && !closed {
                        (Verdict::More, None, 0)
                    } else {
                        judge(e, &buf, closed)
                    };
                    match v {
                        Verdict::Truncated => {
                            return result(false, CheckStatus::L7Rsp, String::new())
                        }
                        Verdict::Pass => {
                            if let Some(i) = info.or_else(|| e.ok_info.clone()) {
                                last_info = Some(i);
                            }
                            if e.ok_reply {
                                let (text, code) = smtp_reply(&buf, 4);
                                last_info = Some(text);
                                last_code = code;
                            }
                            last_ok = (
                                e.ok_status.unwrap_or(seq.ok_status),
                                e.ok_info.clone().or_else(|| {
                                    (seq.generic && e.user_rule.is_some())
                                        .then(|| "(tcp-check)".to_string())
                                }),
                            );
                            break;
                        }
                        Verdict::Fail | Verdict::FailWith(_) => {
                            let mut info = info.unwrap_or_default();
                            if let Some(c) = &e.comment {
                                info.push_str(&format!(" comment: {c}"));
                            }
                            let status = match v {
                                Verdict::FailWith(s) => s,
                                _ if closed && buf.is_empty() => CheckStatus::L7Rsp,
                                _ => e.error_status,
                            };
                            let mut r = result(false, status, info);
                            r.code = code;
                            return r;
                        }
                        Verdict::More => {
                            let Some(s) = stream.as_mut() else {
                                return result(false, CheckStatus::L7Rsp, String::new());
                            };
                            let mut tmp = [0u8; 4096];
                            match tokio::time::timeout_at(deadline, s.read(&mut tmp)).await {
                                Err(_) => {
                                    let info = match &e.user_rule {
                                        Some((step, d)) => step_suffix(
                                            seq,
                                            Some((
                                                *step,
                                                format!("expect {d}"),
                                                e.comment.as_deref(),
                                            )),
                                        ),
                                        None => String::new(),
                                    };
                                    let status = e.tout_status.unwrap_or(CheckStatus::L7Timeout);
                                    return result(false, status, info);
                                }
                                Ok(Ok(0)) | Ok(Err(_)) => {
                                    closed = true;
                                    if first && buf.is_empty() {
                                        let mut info = format!(
                                            "TCPCHK got an empty response at step {}",
                                            e.step
                                        );
                                        if let Some(c) = &e.comment {
                                            info.push_str(&format!(" comment: '{c}'"));
                                        }
                                        return result(false, e.error_status, info);
                                    }
                                }
                                Ok(Ok(n)) => {
                                    buf.extend_from_slice(&tmp[..n]);
                                    if buf.len() > 65536 {
                                        closed = true;
                                    }
                                }
                            }
                            first = false;
                        }
                    }
                }
            }
        }
    }
    if let Some(mut s) = stream {
        let _ = s.shutdown().await;
    }
    // protocol checks report their own text (server version, "... is ok"); explicit
    // tcp-check rules "(tcp-check)" or their on-success text
    let (status, generic_info) = last_ok;
    let status = if seq.generic { status } else { seq.ok_status };
    let info = if seq.generic {
        generic_info.unwrap_or_default()
    } else {
        last_info.unwrap_or_default()
    };
    let mut r = result(true, status, info);
    r.code = last_code;
    r
}

/// TLS of a check connection (`check-ssl`, or inherited from a server's `ssl`).
#[derive(Clone)]
pub struct CheckTls {
    pub config: std::sync::Arc<rustls::ClientConfig>,
    /// `check-sni` (no SNI without it).
    pub sni: Option<rustls::pki_types::ServerName<'static>>,
}

impl std::fmt::Debug for CheckTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckTls").field("sni", &self.sni).finish()
    }
}

/// How a check reaches its server: optionally through a SOCKS4 proxy, optionally over TLS.
#[derive(Debug, Clone, Default)]
pub struct Route {
    pub via_socks4: Option<SocketAddr>,
    pub tls: Option<CheckTls>,
    /// TLS of the `tcp-check connect ... ssl` rules, by rule number.
    pub rule_tls: Vec<(usize, CheckTls)>,
    /// `http-check send-state`: the `X-Haproxy-Server-State` value for this run.
    pub state_header: Option<String>,
}

/// A check connection, plain or TLS.
pub type CheckStream = Box<dyn super::tcp::AsyncStream>;

/// Why a check connection could not be opened: status and HAProxy's text.
pub type ConnFailure = (CheckStatus, String);

/// Opens a check connection along `route` before `deadline`: L4 errors and timeouts, then
/// L6 ones for the TLS handshake ("SSL handshake failure").
pub async fn open_route(
    target: SocketAddr,
    route: &Route,
    tls: Option<CheckTls>,
    deadline: tokio::time::Instant,
) -> Result<CheckStream, ConnFailure> {
    let tcp = match tokio::time::timeout_at(deadline, open_conn(target, route.via_socks4)).await {
        Err(_) => return Err((CheckStatus::L4Timeout, String::new())),
        Ok(Err(e)) => return Err((CheckStatus::L4Conn, conn_err(&e))),
        Ok(Ok(s)) => s,
    };
    let _ = tcp.set_nodelay(true);
    let Some(t) = tls else {
        return Ok(Box::new(tcp));
    };
    let name = t
        .sni
        .clone()
        .unwrap_or_else(|| rustls::pki_types::ServerName::IpAddress(target.ip().into()));
    let c = tokio_rustls::TlsConnector::from(t.config.clone());
    match tokio::time::timeout_at(deadline, c.connect(name, tcp)).await {
        Err(_) => Err((CheckStatus::L6Timeout, String::new())),
        Ok(Err(_)) => Err((CheckStatus::L6Rsp, "SSL handshake failure".to_string())),
        Ok(Ok(s)) => Ok(Box::new(s)),
    }
}

/// Opens a check connection to `target`, directly or through a SOCKS4 proxy (server
/// `socks4` with `check-via-socks4`): CONNECT request with user id "HAProxy", granted when
/// the reply's status byte is 0x5a.
pub async fn open_conn(
    target: SocketAddr,
    via_socks4: Option<SocketAddr>,
) -> std::io::Result<TcpStream> {
    let Some(proxy) = via_socks4 else {
        return TcpStream::connect(target).await;
    };
    let std::net::IpAddr::V4(ip) = target.ip() else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "SOCKS4 reaches IPv4 servers only",
        ));
    };
    let mut s = TcpStream::connect(proxy).await?;
    let mut req = vec![4u8, 1];
    req.extend_from_slice(&target.port().to_be_bytes());
    req.extend_from_slice(&ip.octets());
    req.extend_from_slice(b"HAProxy\0");
    s.write_all(&req).await?;
    let mut reply = [0u8; 8];
    s.read_exact(&mut reply).await?;
    if reply[1] != 0x5a {
        return Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "SOCKS4 proxy refused the connection",
        ));
    }
    Ok(s)
}

/// A connection error as HAProxy words it: `strerror()` text, and for errors that the
/// connect() call itself returns, "General socket error (...)".
pub fn conn_err(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    match e.raw_os_error() {
        Some(libc::ENETUNREACH)
        | Some(libc::EHOSTUNREACH)
        | Some(libc::EACCES)
        | Some(libc::EPERM)
        | Some(libc::EAFNOSUPPORT) => {
            format!("General socket error ({text})")
        }
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgsql_startup_layout() {
        let m = pgsql_startup("haproxy");
        assert_eq!(&m[..4], &(22u32).to_be_bytes());
        assert_eq!(m.len(), 22);
        assert_eq!(&m[4..8], &[0, 3, 0, 0]);
        assert!(m.ends_with(b"user\0haproxy\0\0"));
    }

    #[test]
    fn mysql_packet_lengths() {
        let m = mysql_auth("hap", true);
        assert_eq!(m[0] as usize, 3 + 7 + 27);
        assert_eq!(m[3], 1);
        assert_eq!(m.len(), 4 + 9 + 23 + 3 + 7);
        let m = mysql_auth("hap", false);
        assert_eq!(m[0] as usize, 3 + 7);
    }

    #[test]
    fn unescape_and_hex() {
        assert_eq!(unescape("PING\\r\\n"), b"PING\r\n");
        assert_eq!(unescape("a\\x41b"), b"aAb");
        assert_eq!(unhex("0a0B"), Some(vec![10, 11]));
        assert_eq!(unhex("0a0"), None);
        assert_eq!(hex_upper(&[0x52, 0, 0x0a]), "52000A");
    }

    #[tokio::test]
    async fn pgsql_sequence_against_fake_server() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let mut n = 0;
            while let Ok((mut s, _)) = l.accept().await {
                let mut b = [0u8; 512];
                let _ = s.read(&mut b).await;
                n += 1;
                let reply: &[u8] = if n == 1 {
                    b"R\0\0\0\x08\0\0\0\0"
                } else {
                    b"EFATAL role does not exist\0"
                };
                let _ = s.write_all(reply).await;
            }
        });
        let mut p = crate::haproxy::ir::Proxy::default();
        p.options.check = Some(ir::CheckKind::PgsqlChk {
            user: Some("u".into()),
        });
        let seq = seq_for(&p).unwrap();
        let r = run(
            &seq,
            addr,
            Limits::total(Duration::from_secs(2)),
            &Route::default(),
        )
        .await;
        assert!(r.ok, "{r:?}");
        assert_eq!(r.info, "PostgreSQL server is ok");
        let r = run(
            &seq,
            addr,
            Limits::total(Duration::from_secs(2)),
            &Route::default(),
        )
        .await;
        assert!(!r.ok);
        assert_eq!(r.status, CheckStatus::L7Rsp);
    }

    /// Replies of a fake MySQL server, one per connection: (handshake + OK), an error packet
    /// after the handshake, a truncated handshake.
    #[tokio::test]
    async fn mysql_sequence_against_fake_server() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let hs: &[u8] = b"\x0a\0\0\0\x0a10.11.9\0\x01"; // length 10, protocol 10, version
        tokio::spawn(async move {
            let mut n = 0;
            while let Ok((mut s, _)) = l.accept().await {
                n += 1;
                // the client packet comes first, before the server greets (as HAProxy sends it)
                let mut b = [0u8; 512];
                let got = s.read(&mut b).await.unwrap_or(0);
                assert!(got > 4 && b[3] == 1, "auth packet first");
                let mut reply = Vec::new();
                match n {
                    1 => {
                        reply.extend_from_slice(hs);
                        reply.extend_from_slice(b"\x07\0\0\x02\0\0\0\x02\0\0\0");
                    }
                    2 => {
                        reply.extend_from_slice(hs);
                        reply.extend_from_slice(b"\x0f\0\0\x02\xff\x15\x04#28000denied");
                    }
                    _ => reply.extend_from_slice(&hs[..8]),
                }
                let _ = s.write_all(&reply).await;
            }
        });
        let mut p = crate::haproxy::ir::Proxy::default();
        p.options.check = Some(ir::CheckKind::MysqlChk {
            user: Some("haproxy".into()),
            post41: true,
        });
        let seq = seq_for(&p).unwrap();
        let r = run(
            &seq,
            addr,
            Limits::total(Duration::from_secs(2)),
            &Route::default(),
        )
        .await;
        assert!(r.ok, "{r:?}");
        assert_eq!((r.status, r.info.as_str()), (CheckStatus::L7Ok, "10.11.9"));
        let r = run(
            &seq,
            addr,
            Limits::total(Duration::from_secs(2)),
            &Route::default(),
        )
        .await;
        assert!(!r.ok);
        assert_eq!((r.status, r.code), (CheckStatus::L7Sts, 1045));
        assert!(r.info.ends_with("#28000denied"), "{r:?}");
        let r = run(
            &seq,
            addr,
            Limits::total(Duration::from_secs(2)),
            &Route::default(),
        )
        .await;
        assert_eq!(r.status, CheckStatus::L7Rsp, "{r:?}");
    }
}

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
}

/// How the info text of a failed expect is built.
#[derive(Debug, Clone)]
pub enum ErrInfo {
    Fixed(String),
    /// `res.payload(N,0)` up to the first NUL (PostgreSQL error fields).
    PayloadToNul(usize),
    /// `res.payload(N,0),ltrim(' '),cut_crlf`, and the status code from the first 3 bytes
    /// (SMTP replies; N = 0 for the banner check, which sets no code).
    SmtpReply(usize),
}

#[derive(Debug, Clone)]
pub enum Step {
    /// (Re)connect, optionally to another port.
    Connect {
        port: Option<u16>,
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
    let mut it = options.iter();
    while let Some(o) = it.next() {
        match o.as_str() {
            "min-recv" => e.min_recv = it.next().and_then(|v| v.parse().ok()),
            "error-status" => e.error_status = status_of(it.next().map_or("", |s| s)),
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
                let port = options
                    .iter()
                    .position(|o| o == "port")
                    .and_then(|i| options.get(i + 1))
                    .and_then(|p| p.parse().ok());
                steps.push(Step::Connect { port });
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
    }
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
            }
        }
        ir::CheckKind::RedisChk => {
            let mut e = expect(Matcher::Bytes(b"+PONG\r\n".to_vec()));
            e.error_status = CheckStatus::L7Sts;
            e.err_info = Some(ErrInfo::Fixed("Redis server is not ready".into()));
            e.ok_info = Some("Redis server is ok".into());
            CheckSeq {
                steps: vec![
                    Step::Send(b"*1\r\n$4\r\nPING\r\n".to_vec()),
                    Step::Expect(e),
                ],
                ok_status: CheckStatus::L7Ok,
            }
        }
        ir::CheckKind::SslHelloChk => {
            let mut e = expect(Matcher::Rbinary(regex::Regex::new("^1[56]").ok()?));
            e.min_recv = Some(5);
            CheckSeq {
                steps: vec![Step::Send(ssl_client_hello()), Step::Expect(e)],
                ok_status: CheckStatus::L7Ok,
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
            CheckSeq {
                steps: vec![
                    Step::Expect(banner),
                    Step::Expect(banner2),
                    Step::Send(cmd.into_bytes()),
                    Step::Expect(ehlo),
                    Step::Send(b"QUIT\r\n".to_vec()),
                ],
                ok_status: CheckStatus::L7Ok,
            }
        }
        _ => return None,
    };
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
    let hit = match &e.matcher {
        Matcher::Bytes(s) => !s.is_empty() && buf.windows(s.len()).any(|w| w == &s[..]),
        Matcher::Rstring(re) => re.is_match(buf),
        Matcher::Rbinary(re) => re.is_match(&hex_upper(buf)),
        Matcher::MysqlHandshake | Matcher::MysqlOk => false,
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
        Some(ErrInfo::SmtpReply(o)) => {
            let p = buf.get(*o..).unwrap_or_default();
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
            let code = if *o == 0 { 0 } else { code };
            (Some(String::from_utf8_lossy(&p[..end]).into_owned()), code)
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

/// Runs `seq` against `addr` within `limit`.
pub async fn run(seq: &CheckSeq, addr: SocketAddr, limit: Duration) -> ProbeResult {
    let start = Instant::now();
    let deadline = tokio::time::Instant::from_std(start + limit);
    let result = |ok: bool, status: CheckStatus, info: String| ProbeResult {
        ok,
        status,
        code: 0,
        info,
        duration: start.elapsed(),
    };
    let mut stream: Option<TcpStream> = None;
    let mut buf: Vec<u8> = Vec::new();
    let mut closed = false;
    let mut last_info = String::new();
    let connect = |port: Option<u16>| {
        let a = SocketAddr::new(addr.ip(), port.unwrap_or(addr.port()));
        tokio::time::timeout_at(deadline, TcpStream::connect(a))
    };
    // an implicit connect first, unless the sequence starts with its own
    let explicit = matches!(seq.steps.first(), Some(Step::Connect { .. }));
    if !explicit {
        match connect(None).await {
            Err(_) => return result(false, CheckStatus::L4Timeout, String::new()),
            Ok(Err(e)) => return result(false, CheckStatus::L4Conn, conn_err(&e)),
            Ok(Ok(s)) => stream = Some(s),
        }
    }
    for step in &seq.steps {
        match step {
            Step::Connect { port } => match connect(*port).await {
                Err(_) => return result(false, CheckStatus::L4Timeout, String::new()),
                Ok(Err(e)) => return result(false, CheckStatus::L4Conn, conn_err(&e)),
                Ok(Ok(s)) => {
                    stream = Some(s);
                    buf.clear();
                    closed = false;
                }
            },
            Step::Send(data) => {
                let Some(s) = stream.as_mut() else {
                    return result(false, CheckStatus::L7Rsp, String::new());
                };
                match tokio::time::timeout_at(deadline, s.write_all(data)).await {
                    // the receive buffer is kept: later expects see everything (as HAProxy)
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => return result(false, CheckStatus::L7Rsp, e.to_string()),
                    Err(_) => return result(false, CheckStatus::L7Timeout, String::new()),
                }
            }
            Step::Expect(e) => loop {
                let (v, info, code) = judge(e, &buf, closed);
                match v {
                    Verdict::Pass => {
                        if let Some(i) = info.or_else(|| e.ok_info.clone()) {
                            last_info = i;
                        }
                        break;
                    }
                    Verdict::Truncated => return result(false, CheckStatus::L7Rsp, String::new()),
                    Verdict::Fail => {
                        let info = info.unwrap_or_default();
                        let status = if closed && buf.is_empty() {
                            CheckStatus::L7Rsp
                        } else {
                            e.error_status
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
                                    Some((step, d)) => {
                                        format!(" at step {step} of tcp-check (expect {d})")
                                    }
                                    None => String::new(),
                                };
                                return result(false, CheckStatus::L7Timeout, info);
                            }
                            Ok(Ok(0)) | Ok(Err(_)) => closed = true,
                            Ok(Ok(n)) => {
                                buf.extend_from_slice(&tmp[..n]);
                                if buf.len() > 65536 {
                                    closed = true;
                                }
                            }
                        }
                    }
                }
            },
        }
    }
    if let Some(mut s) = stream {
        let _ = s.shutdown().await;
    }
    result(true, seq.ok_status, last_info)
}

fn conn_err(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "Connection refused".to_string(),
        _ => e.to_string(),
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
        let r = run(&seq, addr, Duration::from_secs(2)).await;
        assert!(r.ok, "{r:?}");
        assert_eq!(r.info, "PostgreSQL server is ok");
        let r = run(&seq, addr, Duration::from_secs(2)).await;
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
        let r = run(&seq, addr, Duration::from_secs(2)).await;
        assert!(r.ok, "{r:?}");
        assert_eq!((r.status, r.info.as_str()), (CheckStatus::L7Ok, "10.11.9"));
        let r = run(&seq, addr, Duration::from_secs(2)).await;
        assert!(!r.ok);
        assert_eq!((r.status, r.code), (CheckStatus::L7Sts, 1045));
        assert!(r.info.ends_with("#28000denied"), "{r:?}");
        let r = run(&seq, addr, Duration::from_secs(2)).await;
        assert_eq!(r.status, CheckStatus::L7Rsp, "{r:?}");
    }
}

//! keepalived's health checkers: TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK, DNS_CHECK and
//! SMTP_CHECK, each a tokio task reporting state changes to the pool.
//!
//! Timing follows keepalived: a first check after a random delay up to `warmup` (default
//! `delay_loop`), then every `delay_loop`; a failed check is retried `retry` times
//! `delay_before_retry` apart before the checker is declared down; one success brings it up.
//! Defaults are resolved checker → real_server → virtual_server → checker type, as keepalived.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use md5::{Digest, Md5};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio::time::timeout;

use super::pool::CheckEvent;
use crate::keepalived::ir::{Checker, CheckerKind, Protocol, RealServer, VirtualServer};
use crate::vrrp::log;

/// One URL of an HTTP_GET / SSL_GET checker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlCheck {
    pub path: String,
    /// MD5 of the body, 16 bytes.
    pub digest: Option<[u8; 16]>,
    /// Accepted status ranges (default 200-299).
    pub status: Vec<(u16, u16)>,
    pub virtualhost: Option<String>,
}

/// HTTP version of the request (`http_protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpProtocol {
    /// `HTTP/1.0` (default).
    V10,
    /// `1.0C`: 1.0 with `Connection: close`.
    V10Close,
    /// `1.1` with `Connection: close`.
    V11,
}

/// What a checker does.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    Tcp,
    Http {
        ssl: bool,
        urls: Vec<UrlCheck>,
        protocol: HttpProtocol,
        sni: bool,
    },
    Misc {
        args: Vec<String>,
        timeout: Duration,
        dynamic: bool,
    },
    Dns {
        qtype: u16,
        name: String,
    },
    Smtp {
        helo: String,
    },
}

/// A checker ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckerSpec {
    pub vs: usize,
    pub rs: usize,
    pub index: usize,
    /// keepalived's `FMT_CHK`: the real server, e.g. `[10.0.0.11]:tcp:80`.
    pub label: String,
    pub vs_label: String,
    pub probe: Probe,
    pub target: SocketAddr,
    pub bindto: Option<IpAddr>,
    pub connect_timeout: Duration,
    pub retry: u32,
    pub delay_before_retry: Duration,
    pub delay_loop: Duration,
    pub warmup: Duration,
    pub alpha: bool,
    pub log_all_failures: bool,
    /// `ha_suspend`: the service's addresses; the checker runs only while one is local.
    pub ha_suspend: Vec<IpAddr>,
}

fn parse_digest(hex: &str) -> Option<[u8; 16]> {
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// DNS query types keepalived's DNS_CHECK accepts.
fn dns_type(name: &str) -> Option<u16> {
    Some(match name.to_ascii_uppercase().as_str() {
        "A" => 1,
        "NS" => 2,
        "CNAME" => 5,
        "SOA" => 6,
        "MX" => 15,
        "TXT" => 16,
        "AAAA" => 28,
        _ => return None,
    })
}

/// Lowers one configured checker (None for kinds we do not run).
pub fn spec_for(
    vs: &VirtualServer,
    rs: &RealServer,
    c: &Checker,
    rs_addr: SocketAddr,
    vs_label: &str,
    proto: Protocol,
) -> Option<CheckerSpec> {
    let co = &c.common;
    let delay_loop = co
        .delay_loop
        .or(rs.delay_loop)
        .or(vs.delay_loop)
        .unwrap_or(Duration::from_secs(60));
    let (default_retry, default_dbr, probe) = match &c.kind {
        CheckerKind::Tcp => (1, Some(Duration::from_secs(1)), Probe::Tcp),
        CheckerKind::Http {
            ssl,
            urls,
            virtualhost,
            http_protocol,
            enable_sni,
        } => {
            let vhost = virtualhost
                .clone()
                .or_else(|| rs.virtualhost.clone())
                .or_else(|| vs.virtualhost.clone());
            let urls = urls
                .iter()
                .map(|u| UrlCheck {
                    path: u.path.clone().unwrap_or_else(|| "/".into()),
                    digest: u.digest.as_deref().and_then(parse_digest),
                    status: if u.status_code.is_empty() {
                        vec![(200, 299)]
                    } else {
                        u.status_code.clone()
                    },
                    virtualhost: u.virtualhost.clone().or_else(|| vhost.clone()),
                })
                .collect();
            let protocol = match http_protocol.as_deref() {
                Some("1.1") => HttpProtocol::V11,
                Some("1.0C") | Some("1.0c") => HttpProtocol::V10Close,
                _ => HttpProtocol::V10,
            };
            (
                1,
                Some(Duration::from_secs(3)),
                Probe::Http {
                    ssl: *ssl,
                    urls,
                    protocol,
                    sni: *enable_sni,
                },
            )
        }
        CheckerKind::Misc {
            script,
            timeout,
            dynamic,
            ..
        } => (
            0,
            Some(Duration::from_secs(1)),
            Probe::Misc {
                args: script.as_ref().map(|s| s.args.clone()).unwrap_or_default(),
                timeout: timeout.unwrap_or(delay_loop),
                dynamic: *dynamic,
            },
        ),
        CheckerKind::Dns { query_type, name } => (
            3,
            None,
            Probe::Dns {
                qtype: query_type.as_deref().and_then(dns_type).unwrap_or(6),
                name: name.clone().unwrap_or_else(|| ".".into()),
            },
        ),
        CheckerKind::Smtp { helo_name } => (
            1,
            Some(Duration::from_secs(1)),
            Probe::Smtp {
                helo: helo_name
                    .clone()
                    .unwrap_or_else(|| "smtpchecker.keepalived.org".into()),
            },
        ),
        CheckerKind::Other(_) => return None,
    };
    let default_port = match &probe {
        Probe::Dns { .. } => 53,
        Probe::Smtp { .. } => 25,
        _ => rs_addr.port(),
    };
    let target = SocketAddr::new(
        co.connect_ip.unwrap_or(rs_addr.ip()),
        co.connect_port.unwrap_or(default_port),
    );
    Some(CheckerSpec {
        vs: 0,
        rs: 0,
        index: 0,
        label: super::fmt_trio(rs_addr, proto),
        vs_label: vs_label.to_string(),
        probe,
        target,
        bindto: co.bindto,
        connect_timeout: co
            .connect_timeout
            .or(rs.connect_timeout)
            .or(vs.connect_timeout)
            .unwrap_or(Duration::from_secs(5)),
        retry: co.retry.or(rs.retry).or(vs.retry).unwrap_or(default_retry),
        delay_before_retry: co
            .delay_before_retry
            .or(rs.delay_before_retry)
            .or(vs.delay_before_retry)
            .or(default_dbr)
            .unwrap_or(delay_loop),
        delay_loop,
        warmup: co.warmup.or(rs.warmup).or(vs.warmup).unwrap_or(delay_loop),
        alpha: co.alpha.or(rs.alpha).unwrap_or(vs.alpha),
        log_all_failures: co.log_all_failures.unwrap_or(false),
        ha_suspend: Vec::new(),
    })
}

/// Result of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Up,
    /// MISC_CHECK with misc_dynamic: up, with this exit status (0 or 2..=255).
    UpStatus(u8),
    /// Down, with keepalived's reason text (e.g. "MD5 digest error to").
    Down(String),
}

/// A small random delay in [0, max] for the first check (keepalived spreads checkers out).
fn jitter(max: Duration) -> Duration {
    let mut b = [0u8; 4];
    // SAFETY: getrandom writes at most b.len() bytes into b.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
    if n != 4 || max.is_zero() {
        return Duration::ZERO;
    }
    let r = u32::from_ne_bytes(b) as u128;
    Duration::from_nanos(((max.as_nanos() * r) >> 32) as u64)
}

/// Runs one checker forever, reporting changes on `tx`.
pub async fn run_checker(spec: CheckerSpec, tx: mpsc::Sender<CheckEvent>) {
    let mut is_up = !spec.alpha;
    let mut has_run = false;
    let mut retry_it = 0u32;
    let mut last_status: u8 = 0;
    let mut enabled = spec.ha_suspend.is_empty();
    tokio::time::sleep(jitter(spec.warmup)).await;
    loop {
        if !spec.ha_suspend.is_empty() {
            let local = spec.ha_suspend.iter().any(|a| is_local(*a));
            if local != enabled {
                log::info(&format!(
                    "{}ing healthchecker for service {} for VS {}",
                    if local { "Activat" } else { "Suspend" },
                    spec.label,
                    spec.vs_label
                ));
                enabled = local;
            }
            if !enabled {
                tokio::time::sleep(spec.delay_loop.min(Duration::from_secs(1))).await;
                continue;
            }
        }
        let outcome = probe(&spec).await;
        let delay;
        match outcome {
            Outcome::Up | Outcome::UpStatus(_) => {
                if let Outcome::UpStatus(st) = outcome {
                    if st != last_status {
                        last_status = st;
                        let weight = if st == 0 { None } else { Some(st as i32 - 2) };
                        let _ = tx
                            .send(CheckEvent::Weight {
                                vs: spec.vs,
                                rs: spec.rs,
                                weight,
                            })
                            .await;
                    }
                }
                retry_it = 0;
                delay = spec.delay_loop;
                if !is_up || !has_run {
                    if let Some(line) = success_line(&spec) {
                        log::info(&line);
                    }
                    is_up = true;
                    let _ = tx.send(state(&spec, true)).await;
                }
            }
            Outcome::Down(reason) => {
                if spec.log_all_failures && is_up {
                    log::info(&format!("{reason} server {}.", spec.label));
                }
                if retry_it < spec.retry {
                    retry_it += 1;
                    delay = spec.delay_before_retry;
                } else {
                    delay = spec.delay_loop;
                    if is_up || !has_run {
                        log::info(&failure_line(&spec, has_run, &reason));
                        is_up = false;
                        let _ = tx.send(state(&spec, false)).await;
                    }
                    retry_it = 0;
                }
            }
        }
        has_run = true;
        tokio::time::sleep(delay).await;
    }
}

/// Whether `addr` is assigned here (binding it without IP_FREEBIND succeeds).
pub fn is_local(addr: IpAddr) -> bool {
    std::net::UdpSocket::bind(SocketAddr::new(addr, 0)).is_ok()
}

fn state(spec: &CheckerSpec, up: bool) -> CheckEvent {
    CheckEvent::State {
        vs: spec.vs,
        rs: spec.rs,
        checker: spec.index,
        up,
    }
}

/// keepalived's success message (DNS_CHECK logs none).
fn success_line(spec: &CheckerSpec) -> Option<String> {
    Some(match &spec.probe {
        Probe::Tcp => format!("TCP connection to {} success.", spec.label),
        Probe::Http { .. } => format!("Remote Web server {} succeed on service.", spec.label),
        Probe::Misc { args, .. } => format!(
            "Misc check for [{} VS {}] by [{}] succeeded.",
            spec.label,
            spec.vs_label,
            args.first().map(String::as_str).unwrap_or("")
        ),
        Probe::Dns { .. } => return None,
        Probe::Smtp { .. } => format!("Remote SMTP server {} succeed on service.", spec.label),
    })
}

fn failure_line(spec: &CheckerSpec, has_run: bool, reason: &str) -> String {
    let retries = if has_run && spec.retry > 0 {
        format!(" after {} retries", spec.retry)
    } else {
        String::new()
    };
    match &spec.probe {
        Probe::Tcp => format!("TCP_CHECK on service {} failed{retries}.", spec.label),
        Probe::Http { .. } => format!("HTTP_CHECK on service {} failed{retries}.", spec.label),
        Probe::Misc { args, .. } => format!(
            "Misc check for [{} VS {}] by [{}] failed{} ({reason}).",
            spec.label,
            spec.vs_label,
            args.first().map(String::as_str).unwrap_or(""),
            if spec.retry > 0 {
                format!(
                    " after {} {}",
                    spec.retry,
                    if spec.retry == 1 { "retry" } else { "retries" }
                )
            } else {
                " with retry disabled".into()
            }
        ),
        Probe::Dns { .. } => format!("DNS_CHECK ({}) {reason}{retries}", spec.label),
        Probe::Smtp { .. } => format!("SMTP_CHECK on service {} failed{retries}.", spec.label),
    }
}

/// Performs one check.
pub async fn probe(spec: &CheckerSpec) -> Outcome {
    match &spec.probe {
        Probe::Tcp => match connect(spec.target, spec.bindto, spec.connect_timeout).await {
            Ok(_) => Outcome::Up,
            Err(e) => Outcome::Down(e),
        },
        Probe::Http {
            ssl,
            urls,
            protocol,
            sni,
        } => {
            for u in urls {
                let got = fetch(
                    spec.target,
                    spec.bindto,
                    &u.path,
                    u.virtualhost.as_deref(),
                    *protocol,
                    *ssl,
                    *sni,
                    spec.connect_timeout,
                )
                .await;
                let resp = match got {
                    Ok(r) => r,
                    Err(e) => return Outcome::Down(e),
                };
                if resp.raw_len == 0 {
                    return Outcome::Down("Read, no data received from".into());
                }
                if !u
                    .status
                    .iter()
                    .any(|(a, b)| (*a..=*b).contains(&resp.status))
                {
                    return Outcome::Down("HTTP status code error to".into());
                }
                if let Some(d) = &u.digest {
                    if &resp.digest != d {
                        return Outcome::Down("MD5 digest error to".into());
                    }
                }
            }
            Outcome::Up
        }
        Probe::Misc {
            args,
            timeout: t,
            dynamic,
        } => misc(args, *t, *dynamic).await,
        Probe::Dns { qtype, name } => dns(spec, *qtype, name).await,
        Probe::Smtp { helo } => smtp(spec, helo).await,
    }
}

/// Connects with keepalived's failure texts.
pub async fn connect(
    target: SocketAddr,
    bindto: Option<IpAddr>,
    t: Duration,
) -> Result<TcpStream, String> {
    let sock = if target.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| format!("socket: {e}"))?;
    if let Some(b) = bindto {
        sock.bind(SocketAddr::new(b, 0))
            .map_err(|e| format!("bind: {e}"))?;
    }
    match timeout(t, sock.connect(target)).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(_)) => Err("Connection failed".into()),
        Err(_) => Err("Timeout connecting".into()),
    }
}

/// An HTTP response as the checker sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub header: Vec<u8>,
    pub body: Vec<u8>,
    /// MD5 of the body (everything after the header, as keepalived hashes it).
    pub digest: [u8; 16],
    pub raw_len: usize,
}

/// The request keepalived sends (`request_template`).
pub fn request(path: &str, host: &str, protocol: HttpProtocol) -> String {
    format!(
        "GET {path} HTTP/1.{}\r\nUser-Agent: KeepAliveClient\r\n{}Host: {host}\r\n\r\n",
        if protocol == HttpProtocol::V11 { 1 } else { 0 },
        if protocol == HttpProtocol::V10 {
            ""
        } else {
            "Connection: close\r\n"
        }
    )
}

/// Splits a raw response into status, header and body.
pub fn parse_response(raw: &[u8]) -> HttpResponse {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n");
    let (header, body) = match split {
        Some(i) => (&raw[..i + 4], &raw[i + 4..]),
        None => (raw, &raw[raw.len()..]),
    };
    // "HTTP/1.x NNN ..."
    let status = std::str::from_utf8(header)
        .ok()
        .and_then(|h| h.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let digest: [u8; 16] = Md5::digest(body).into();
    HttpResponse {
        status,
        header: header.to_vec(),
        body: body.to_vec(),
        digest,
        raw_len: raw.len(),
    }
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    req: &str,
    t: Duration,
) -> Result<Vec<u8>, String> {
    timeout(t, s.write_all(req.as_bytes()))
        .await
        .map_err(|_| "Timeout WEB write".to_string())?
        .map_err(|_| "Cannot send get request to".to_string())?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match timeout(t, s.read(&mut buf)).await {
            Err(_) => return Err("Timeout WEB read".into()),
            Ok(Err(_)) => {
                if raw.is_empty() {
                    return Err("Read error with".into());
                }
                break;
            }
            Ok(Ok(0)) => break,
            Ok(Ok(n)) => {
                raw.extend_from_slice(&buf[..n]);
                if raw.len() > 16 << 20 {
                    break;
                }
            }
        }
    }
    Ok(raw)
}

/// GETs `path` from `target` like keepalived's HTTP_GET / SSL_GET.
#[allow(clippy::too_many_arguments)]
pub async fn fetch(
    target: SocketAddr,
    bindto: Option<IpAddr>,
    path: &str,
    vhost: Option<&str>,
    protocol: HttpProtocol,
    ssl: bool,
    sni: bool,
    t: Duration,
) -> Result<HttpResponse, String> {
    let mut stream = connect(target, bindto, t).await?;
    let host = match vhost {
        Some(v) => v.to_string(),
        None if target.is_ipv6() => format!("[{}]:{}", target.ip(), target.port()),
        None => target.to_string(),
    };
    let req = request(path, &host, protocol);
    let raw = if ssl {
        let cfg = tls_config(sni);
        let name = match (sni, vhost) {
            (true, Some(v)) => rustls::pki_types::ServerName::try_from(v.to_string())
                .map_err(|_| "SSL handshake failed with".to_string())?,
            _ => rustls::pki_types::ServerName::IpAddress(target.ip().into()),
        };
        let conn = tokio_rustls::TlsConnector::from(cfg);
        let mut tls = timeout(t, conn.connect(name, stream))
            .await
            .map_err(|_| "Timeout SSL connecting".to_string())?
            .map_err(|_| "SSL handshake failed with".to_string())?;
        exchange(&mut tls, &req, t).await?
    } else {
        exchange(&mut stream, &req, t).await?
    };
    Ok(parse_response(&raw))
}

/// SSL_GET does not verify the server certificate (keepalived without `ssl { ca ... }`).
#[derive(Debug)]
struct AcceptAnyCert(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn tls_config(sni: bool) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|_| {
            rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_protocol_versions(&[&rustls::version::TLS12])
                .unwrap_or_else(|_| unreachable_builder())
        });
    let mut cfg = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
        .with_no_client_auth();
    cfg.enable_sni = sni;
    Arc::new(cfg)
}

/// ring supports TLS 1.2 and 1.3; this path cannot be reached with the bundled provider.
fn unreachable_builder() -> rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier> {
    rustls::ClientConfig::builder()
}

async fn misc(args: &[String], t: Duration, dynamic: bool) -> Outcome {
    let Some((prog, rest)) = args.split_first() else {
        return Outcome::Down("no script".into());
    };
    let mut cmd = tokio::process::Command::new(prog);
    cmd.args(rest)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Outcome::Down(format!("exec failed {e}")),
    };
    match timeout(t, child.wait()).await {
        Err(_) => {
            let _ = child.kill().await;
            Outcome::Down("timed out".into())
        }
        Ok(Err(e)) => Outcome::Down(format!("wait failed {e}")),
        Ok(Ok(st)) => match st.code() {
            Some(0) => {
                if dynamic {
                    Outcome::UpStatus(0)
                } else {
                    Outcome::Up
                }
            }
            Some(c) if dynamic && (2..=255).contains(&c) => Outcome::UpStatus(c as u8),
            Some(c) => Outcome::Down(format!("exited with status {c}")),
            None => Outcome::Down("killed by signal".into()),
        },
    }
}

/// Encodes a DNS query (RD set) for `name` / `qtype`.
pub fn dns_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut q = Vec::with_capacity(32 + name.len());
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.').filter(|l| !l.is_empty()) {
        let l = &label.as_bytes()[..label.len().min(63)];
        q.push(l.len() as u8);
        q.extend_from_slice(l);
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes());
    q
}

async fn dns(spec: &CheckerSpec, qtype: u16, name: &str) -> Outcome {
    let bind: SocketAddr = match (spec.bindto, spec.target.is_ipv4()) {
        (Some(b), _) => SocketAddr::new(b, 0),
        (None, true) => SocketAddr::from(([0, 0, 0, 0], 0)),
        (None, false) => SocketAddr::from(([0u16; 8], 0)),
    };
    let sock = match UdpSocket::bind(bind).await {
        Ok(s) => s,
        Err(e) => return Outcome::Down(format!("socket error {e}")),
    };
    let mut idb = [0u8; 2];
    // SAFETY: getrandom writes at most 2 bytes into idb.
    unsafe { libc::getrandom(idb.as_mut_ptr().cast(), 2, 0) };
    let id = u16::from_ne_bytes(idb);
    let q = dns_query(id, name, qtype);
    if sock.send_to(&q, spec.target).await.is_err() {
        return Outcome::Down("failed to send query.".into());
    }
    let mut buf = [0u8; 1500];
    let deadline = tokio::time::Instant::now() + spec.connect_timeout;
    loop {
        let r = tokio::time::timeout_at(deadline, sock.recv_from(&mut buf)).await;
        let n = match r {
            Err(_) => return Outcome::Down("timeout.".into()),
            Ok(Err(_)) => return Outcome::Down("read error occurred.".into()),
            Ok(Ok((n, from))) if from == spec.target => n,
            Ok(Ok(_)) => continue,
        };
        if n < 12 || u16::from_be_bytes([buf[0], buf[1]]) != id || buf[2] & 0x80 == 0 {
            continue;
        }
        let rcode = buf[3] & 0x0f;
        if rcode != 0 {
            return Outcome::Down(format!("read error occurred. (rcode = {rcode})"));
        }
        return Outcome::Up;
    }
}

async fn smtp_status<S: AsyncRead + Unpin>(s: &mut S, t: Duration) -> Option<u16> {
    let mut buf = Vec::new();
    let mut b = [0u8; 512];
    loop {
        let n = timeout(t, s.read(&mut b)).await.ok()?.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&b[..n]);
        // the last line of a (multi-line) reply has no '-' after the code
        let text = String::from_utf8_lossy(&buf);
        if text.ends_with('\n') {
            let last = text
                .lines()
                .map(|l| l.trim_end_matches('\r'))
                .rfind(|l| l.len() >= 3);
            if let Some(last) = last {
                if last.as_bytes().get(3) != Some(&b'-') {
                    return last.get(..3)?.parse().ok();
                }
            }
        }
        if buf.len() > 8192 {
            return None;
        }
    }
}

async fn smtp(spec: &CheckerSpec, helo: &str) -> Outcome {
    let mut s = match connect(spec.target, spec.bindto, spec.connect_timeout).await {
        Ok(s) => s,
        Err(e) => return Outcome::Down(e),
    };
    let t = spec.connect_timeout;
    if smtp_status(&mut s, t).await != Some(220) {
        return Outcome::Down("Bad greeting".into());
    }
    if s.write_all(format!("HELO {helo}\r\n").as_bytes())
        .await
        .is_err()
    {
        return Outcome::Down("Write failed".into());
    }
    if smtp_status(&mut s, t).await != Some(250) {
        return Outcome::Down("Bad HELO response".into());
    }
    let _ = s.write_all(b"QUIT\r\n").await;
    Outcome::Up
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_matches_keepalived_template() {
        assert_eq!(
            request("/lbstate", "10.0.0.11:3000", HttpProtocol::V10),
            "GET /lbstate HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 10.0.0.11:3000\r\n\r\n"
        );
        assert!(request("/", "h", HttpProtocol::V11)
            .starts_with("GET / HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\n"));
    }

    #[test]
    fn response_digest_is_md5_of_body() {
        let r = parse_response(b"HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nhello\n");
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"hello\n");
        // md5("hello\n") as printed by md5sum
        assert_eq!(
            r.digest,
            parse_digest("b1946ac92492d2347c6235b4d2611184").unwrap()
        );
        let r = parse_response(b"garbage");
        assert_eq!(r.status, 0);
    }

    #[test]
    fn digest_parsing() {
        assert!(parse_digest("9f170475f8fbb9d178c358323fcbf49f").is_some());
        assert!(parse_digest("9f17").is_none());
        assert!(parse_digest("zz170475f8fbb9d178c358323fcbf49f").is_none());
    }

    #[test]
    fn dns_query_encoding() {
        let q = dns_query(0x1234, "example.com", 1);
        assert_eq!(&q[..4], &[0x12, 0x34, 0x01, 0x00]);
        assert_eq!(&q[12..], b"\x07example\x03com\x00\x00\x01\x00\x01");
        let root = dns_query(1, ".", 6);
        assert_eq!(&root[12..], &[0, 0, 6, 0, 1]);
    }
}

//! Value sub-grammars (nom): times, sizes, integers, addresses and port ranges.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use nom::bytes::complete::{tag, take_while1};
use nom::character::complete::digit1;
use nom::combinator::{all_consuming, opt};
use nom::sequence::pair;
use nom::IResult;

use crate::haproxy::ir::{ListenAddr, PortRange, ServerAddr, ServerPort};

/// Why a time value did not parse (haproxy's wording is built by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeError {
    /// No digits at all.
    Empty,
    /// An unexpected character (the first one that is not a digit or unit).
    BadChar(char),
    /// The value does not fit in 32-bit milliseconds.
    Overflow,
    Underflow,
}

/// Parses a time like haproxy's `parse_time_err()`: `<digits>[us|ms|s|m|h|d]`, the result
/// rounded up to `unit_us` (the keyword's unit, also the unit of a bare number). Characters after
/// a valid unit are ignored (haproxy only warns): they are returned as the second value.
pub fn parse_time_full(s: &str, unit_us: u64) -> Result<(Duration, Option<char>), TimeError> {
    let first = s.chars().next().ok_or(TimeError::Empty)?;
    if !first.is_ascii_digit() {
        return Err(TimeError::BadChar(first));
    }
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let mut value: u128 = 0;
    for c in s[..digits_end].bytes() {
        value = value.saturating_mul(10).saturating_add((c - b'0') as u128);
    }
    let rest = &s[digits_end..];
    let (in_us, after): (u128, &str) = if rest.is_empty() {
        (unit_us as u128, "")
    } else if let Some(r) = rest.strip_prefix("us") {
        (1, r)
    } else if let Some(r) = rest.strip_prefix("ms") {
        (1_000, r)
    } else if let Some(r) = rest.strip_prefix('s') {
        (1_000_000, r)
    } else if let Some(r) = rest.strip_prefix('m') {
        (60_000_000, r)
    } else if let Some(r) = rest.strip_prefix('h') {
        (3_600_000_000, r)
    } else if let Some(r) = rest.strip_prefix('d') {
        (86_400_000_000, r)
    } else {
        return Err(TimeError::BadChar(rest.chars().next().unwrap_or('?')));
    };
    let unit = unit_us.max(1) as u128;
    let result = (value.saturating_mul(in_us) + unit - 1) / unit;
    if result >= 0x8000_0000 {
        return Err(TimeError::Overflow);
    }
    if result == 0 && value != 0 {
        return Err(TimeError::Underflow);
    }
    let dur = Duration::from_micros((result * unit) as u64);
    Ok((dur, after.chars().next()))
}

/// [`parse_time_full`] without the trailing-garbage report.
pub fn parse_time(s: &str, unit_us: u64) -> Result<Duration, TimeError> {
    parse_time_full(s, unit_us).map(|(d, _)| d)
}

/// Parses a time in milliseconds by default.
pub fn parse_time_ms(s: &str) -> Result<Duration, TimeError> {
    parse_time(s, 1_000)
}

/// Parses a size with an optional `k`, `m`, `g` suffix (powers of 1024).
pub fn parse_size(s: &str) -> Option<u64> {
    let res: IResult<&str, (&str, Option<char>)> = all_consuming(pair(
        digit1,
        opt(nom::character::complete::one_of("kKmMgG")),
    ))(s);
    let (_, (digits, suffix)) = res.ok()?;
    let n: u64 = digits.parse().ok()?;
    let mul = match suffix.map(|c| c.to_ascii_lowercase()) {
        Some('k') => 1024,
        Some('m') => 1024 * 1024,
        Some('g') => 1024 * 1024 * 1024,
        _ => 1,
    };
    n.checked_mul(mul)
}

/// C `atol()`-like: leading digits (with sign), 0 when none. haproxy uses this for many
/// integer arguments, so "abc" silently becomes 0.
pub fn atol(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut v: i64 = 0;
    for c in digits.chars() {
        match c.to_digit(10) {
            Some(d) => v = v.saturating_mul(10).saturating_add(d as i64),
            None => break,
        }
    }
    if neg {
        -v
    } else {
        v
    }
}

/// A strictly numeric unsigned integer.
pub fn parse_uint(s: &str) -> Option<u64> {
    let res: IResult<&str, &str> = all_consuming(digit1)(s);
    res.ok().and_then(|(_, d)| d.parse().ok())
}

/// Address family / socket prefix of an address string (`ipv4@`, `unix@`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrPrefix {
    None,
    Ipv4,
    Ipv6,
    Unix,
    Abns,
    Fd,
    SockPair,
    Udp,
    Udp4,
    Udp6,
    Tcp,
    Tcp4,
    Tcp6,
    Quic4,
    Quic6,
    Uxst,
    Uxdg,
}

fn addr_prefix(input: &str) -> IResult<&str, AddrPrefix> {
    use AddrPrefix::*;
    let (rest, word) = take_while1(|c: char| c.is_ascii_alphanumeric() || c == '+')(input)?;
    let (rest, _) = tag("@")(rest)?;
    let p = match word {
        "ipv4" => Ipv4,
        "ipv6" => Ipv6,
        "unix" => Unix,
        "abns" => Abns,
        "fd" => Fd,
        "sockpair" => SockPair,
        "udp" | "udp+ipv4" => Udp,
        "udp4" => Udp4,
        "udp6" | "udp+ipv6" => Udp6,
        "tcp" => Tcp,
        "tcp4" | "tcp+ipv4" => Tcp4,
        "tcp6" | "tcp+ipv6" => Tcp6,
        "quic4" | "quic+ipv4" => Quic4,
        "quic6" | "quic+ipv6" => Quic6,
        "uxst" => Uxst,
        "uxdg" => Uxdg,
        _ => {
            return Err(nom::Err::Error(nom::error::Error::new(
                input,
                nom::error::ErrorKind::Tag,
            )))
        }
    };
    Ok((rest, p))
}

/// Splits `prefix@rest`.
pub fn split_prefix(s: &str) -> (AddrPrefix, &str) {
    match addr_prefix(s) {
        Ok((rest, p)) => (p, rest),
        Err(_) => (AddrPrefix::None, s),
    }
}

/// Errors worded like haproxy's `str2sa_range()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddrError {
    MissingPort(String),
    InvalidPort(String),
    InvalidAddress { host: String, full: String },
    PortRangeNotAllowed(String),
    PortOffsetNotAllowed(String),
    Other(String),
}

impl AddrError {
    pub fn message(&self) -> String {
        match self {
            AddrError::MissingPort(s) => format!("missing port specification in '{s}'"),
            AddrError::InvalidPort(p) => format!("invalid port '{p}'"),
            AddrError::InvalidAddress { host, full } => {
                format!("invalid address: '{host}' in '{full}'")
            }
            AddrError::PortRangeNotAllowed(s) => format!("port range not permitted here in '{s}'"),
            AddrError::PortOffsetNotAllowed(s) => format!("port offset not allowed in '{s}'"),
            AddrError::Other(s) => s.clone(),
        }
    }
}

/// `inet_aton`-style IPv4 (accepts `1.2.3`, `10`, hex/octal parts) as haproxy does via libc.
pub fn parse_ipv4_aton(s: &str) -> Option<Ipv4Addr> {
    if s.is_empty() || s.ends_with('.') {
        return None;
    }
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut nums = Vec::with_capacity(4);
    for p in &parts {
        let v = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
            u64::from_str_radix(h, 16).ok()?
        } else if p.len() > 1 && p.starts_with('0') {
            u64::from_str_radix(&p[1..], 8).ok()?
        } else {
            if p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            p.parse::<u64>().ok()?
        };
        nums.push(v);
    }
    let n = nums.len();
    let mut addr: u64 = 0;
    for (i, v) in nums.iter().enumerate() {
        if i < n - 1 {
            if *v > 255 {
                return None;
            }
            addr |= v << (8 * (3 - i));
        } else {
            let bits = 8 * (4 - i as u32);
            if bits < 64 && *v >= (1u64 << bits) {
                return None;
            }
            addr |= v;
        }
    }
    Some(Ipv4Addr::from(addr as u32))
}

/// Looks `name` up in /etc/hosts (no DNS traffic, by design).
pub fn resolve_hosts_file(name: &str) -> Option<IpAddr> {
    let text = std::fs::read_to_string("/etc/hosts").ok()?;
    resolve_in_hosts(&text, name)
}

/// Looks `name` up in the text of a hosts file (first match wins).
pub fn resolve_in_hosts(text: &str, name: &str) -> Option<IpAddr> {
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut it = line.split_whitespace();
        let Some(ip) = it.next() else { continue };
        if it.any(|h| h.eq_ignore_ascii_case(name)) {
            if let Ok(ip) = ip.parse::<IpAddr>() {
                return Some(ip);
            }
        }
    }
    None
}

/// Numeric (v4 via inet_aton rules, v6) or /etc/hosts resolution.
pub fn resolve_host(host: &str) -> Option<IpAddr> {
    if let Some(v4) = parse_ipv4_aton(host) {
        return Some(IpAddr::V4(v4));
    }
    if let Ok(v6) = host.parse::<Ipv6Addr>() {
        return Some(IpAddr::V6(v6));
    }
    resolve_hosts_file(host)
}

/// Splits `host:port` at the last colon (IPv6 hosts may be bracketed).
fn split_host_port(s: &str) -> Option<(&str, &str)> {
    if let Some(rest) = s.strip_prefix('[') {
        let end = rest.find(']')?;
        let host = &rest[..end];
        let after = &rest[end + 1..];
        return Some((host, after.strip_prefix(':').unwrap_or(after)));
    }
    let i = s.rfind(':')?;
    Some((&s[..i], &s[i + 1..]))
}

/// haproxy's `env_expand()`: `$NAME` / `${NAME}` anywhere in an address string are replaced
/// by the variable's value (empty when unset).
pub fn env_expand(s: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
    if !s.contains('$') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            let next = s[i..].find('$').map(|n| i + n).unwrap_or(b.len());
            out.push_str(&s[i..next]);
            i = next;
            continue;
        }
        let mut j = i + 1;
        let brace = b.get(j) == Some(&b'{');
        if brace {
            j += 1;
        }
        let start = j;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
            j += 1;
        }
        if let Some(v) = env(&s[start..j]) {
            out.push_str(&v);
        }
        if brace && b.get(j) == Some(&b'}') {
            j += 1;
        }
        i = j;
    }
    out
}

/// `atoi()`: leading digits, 0 when none (never fails).
fn atoi(s: &str) -> i64 {
    atol(s)
}

/// Port part after the colon, haproxy's way. `mandatory`: a bind (port ≥ 1 required).
fn parse_port_part(
    p: &str,
    full: &str,
    mandatory: bool,
    ranges: bool,
) -> Result<(PortRange, Option<i32>), AddrError> {
    let first = p.chars().next();
    match first {
        Some(c) if c.is_ascii_digit() => {
            let (p1, p2) = match p.split_once('-') {
                Some((a, b)) => {
                    if !ranges {
                        return Err(AddrError::PortRangeNotAllowed(full.to_string()));
                    }
                    (a, b)
                }
                None => (p, p),
            };
            let (lo, hi) = (atoi(p1), atoi(p2));
            let min = i64::from(mandatory);
            if lo < min || lo > 65535 {
                return Err(AddrError::InvalidPort(p1.to_string()));
            }
            if hi < min || hi > 65535 {
                return Err(AddrError::InvalidPort(p2.to_string()));
            }
            if lo > hi {
                return Err(AddrError::Other(format!("invalid port range '{lo}-{hi}'")));
            }
            Ok((
                PortRange {
                    low: lo as u16,
                    high: hi as u16,
                },
                None,
            ))
        }
        Some('-') | Some('+') if !mandatory => {
            let n = atoi(&p[1..]) as i32;
            Ok((
                PortRange::default(),
                Some(if first == Some('-') { -n } else { n }),
            ))
        }
        Some('-') | Some('+') => Err(AddrError::Other(format!(
            "port offset not permitted here in '{full}'"
        ))),
        Some(c) => Err(AddrError::Other(format!(
            "invalid character '{c}' in port number '{p}' in '{full}'"
        ))),
        None if mandatory => Err(AddrError::MissingPort(full.to_string())),
        None => Ok((PortRange::default(), None)),
    }
}

/// Parses one `bind` address (no commas).
pub fn parse_listen_addr(s: &str) -> Result<ListenAddr, AddrError> {
    let (prefix, rest) = split_prefix(s);
    match prefix {
        AddrPrefix::Unix | AddrPrefix::Uxst | AddrPrefix::Uxdg => {
            return Ok(ListenAddr::Unix {
                path: rest.to_string(),
            })
        }
        AddrPrefix::Abns => {
            return Ok(ListenAddr::Abns {
                name: rest.to_string(),
            })
        }
        AddrPrefix::Fd => {
            let fd = parse_uint(rest).ok_or_else(|| {
                AddrError::Other(format!(
                    "file descriptor '{rest}' is not a valid integer in '{s}'"
                ))
            })?;
            return Ok(ListenAddr::Fd { fd: fd as i32 });
        }
        AddrPrefix::SockPair => {
            let fd = parse_uint(rest).ok_or_else(|| {
                AddrError::Other(format!(
                    "file descriptor '{rest}' is not a valid integer in '{s}'"
                ))
            })?;
            return Ok(ListenAddr::SockPair { fd: fd as i32 });
        }
        _ => {}
    }
    if prefix == AddrPrefix::None && rest.starts_with('/') {
        return Ok(ListenAddr::Unix {
            path: rest.to_string(),
        });
    }
    let Some((host, port)) = split_host_port(rest) else {
        return Err(AddrError::MissingPort(s.to_string()));
    };
    if port.is_empty() {
        return Err(AddrError::MissingPort(s.to_string()));
    }
    let want_v6 = matches!(
        prefix,
        AddrPrefix::Ipv6 | AddrPrefix::Tcp6 | AddrPrefix::Udp6 | AddrPrefix::Quic6
    );
    let ip: IpAddr = if host.is_empty() || host == "*" {
        if want_v6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        }
    } else if host == "::" {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        resolve_host(host).ok_or_else(|| AddrError::InvalidAddress {
            host: host.to_string(),
            full: s.to_string(),
        })?
    };
    let (ports, _) = parse_port_part(port, s, true, true)?;
    Ok(ListenAddr::Inet {
        ip,
        ports,
        v6only: prefix == AddrPrefix::Ipv6,
    })
}

/// Parses a server address: `host[:port]`, `host:+N`, `host:-N`, `unix@path`, `abns@name`.
/// The host is not required to resolve here (see validation).
pub fn parse_server_addr(s: &str) -> Result<ServerAddr, AddrError> {
    let (prefix, rest) = split_prefix(s);
    match prefix {
        AddrPrefix::Unix | AddrPrefix::Uxst => {
            return Ok(ServerAddr::Unix {
                path: rest.to_string(),
            })
        }
        AddrPrefix::Abns => {
            return Ok(ServerAddr::Abns {
                name: rest.to_string(),
            })
        }
        AddrPrefix::SockPair => {
            let fd = parse_uint(rest).ok_or_else(|| {
                AddrError::Other(format!(
                    "file descriptor '{rest}' is not a valid integer in '{s}'"
                ))
            })?;
            return Ok(ServerAddr::SockPair { fd: fd as i32 });
        }
        AddrPrefix::Fd => {
            return Err(AddrError::Other(format!(
                "address family not supported in '{s}'"
            )))
        }
        _ => {}
    }
    if prefix == AddrPrefix::None && rest.starts_with('/') {
        return Ok(ServerAddr::Unix {
            path: rest.to_string(),
        });
    }
    // an IPv6 literal without brackets and without port (several colons): the whole is the host
    let (host, port_text) = if rest.starts_with('[') {
        match split_host_port(rest) {
            Some((h, p)) => (h, Some(p)),
            None => {
                return Err(AddrError::InvalidAddress {
                    host: rest.to_string(),
                    full: s.to_string(),
                })
            }
        }
    } else if rest.matches(':').count() > 1 {
        // IPv6 without brackets: the whole is the host, unless what precedes the last colon
        // is itself an IPv6 address (then the rest is the port)
        if rest.parse::<Ipv6Addr>().is_ok() {
            (rest, None)
        } else {
            match rest.rfind(':') {
                Some(i) if rest[..i].parse::<Ipv6Addr>().is_ok() => {
                    (&rest[..i], Some(&rest[i + 1..]))
                }
                _ => (rest, None),
            }
        }
    } else {
        match rest.rfind(':') {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        }
    };
    let port = match port_text {
        None => ServerPort::None,
        Some(p) => match parse_port_part(p, s, false, false)? {
            (_, Some(off)) => ServerPort::Offset(off),
            (r, None) if p.is_empty() => {
                let _ = r;
                ServerPort::None
            }
            (r, None) => ServerPort::Fixed(r.low),
        },
    };
    let host = if host.is_empty() || host == "*" {
        "0.0.0.0"
    } else {
        host
    };
    let resolved = if let Some(v4) = parse_ipv4_aton(host) {
        Some(IpAddr::V4(v4))
    } else {
        host.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
    };
    Ok(ServerAddr::Inet {
        host: host.to_string(),
        resolved,
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let ms = |n| Ok(Duration::from_millis(n));
        assert_eq!(parse_time_ms("100"), ms(100));
        assert_eq!(parse_time_ms("5s"), ms(5000));
        assert_eq!(parse_time_ms("2m"), ms(120_000));
        assert_eq!(parse_time_ms("1h"), ms(3_600_000));
        assert_eq!(parse_time_ms("1d"), ms(86_400_000));
        assert_eq!(parse_time_ms("500us"), ms(1));
        assert_eq!(parse_time("500us", 1), Ok(Duration::from_micros(500)));
        assert_eq!(
            parse_time_full("15min", 1000),
            Ok((Duration::from_secs(900), Some('i')))
        );
        assert_eq!(parse_time_ms("10ms"), ms(10));
        assert_eq!(parse_time_ms("5x"), Err(TimeError::BadChar('x')));
        assert_eq!(parse_time_ms("5sec"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_time_ms(""), Err(TimeError::Empty));
        assert_eq!(parse_time_ms("x"), Err(TimeError::BadChar('x')));
        assert_eq!(parse_time_ms("30d"), Err(TimeError::Overflow));
        assert_eq!(parse_time("3", 1_000_000), ms(3000));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("1k"), Some(1024));
        assert_eq!(parse_size("2m"), Some(2 * 1024 * 1024));
        assert_eq!(parse_size("1g"), Some(1 << 30));
        assert_eq!(parse_size("1x"), None);
        assert_eq!(parse_size(""), None);
    }

    #[test]
    fn listen_addresses() {
        let inet = |ip: &str, lo, hi| ListenAddr::Inet {
            ip: ip.parse().unwrap(),
            ports: PortRange { low: lo, high: hi },
            v6only: false,
        };
        assert_eq!(parse_listen_addr(":80"), Ok(inet("0.0.0.0", 80, 80)));
        assert_eq!(parse_listen_addr("*:80"), Ok(inet("0.0.0.0", 80, 80)));
        assert_eq!(
            parse_listen_addr("127.0.0.1:8000-8010"),
            Ok(inet("127.0.0.1", 8000, 8010))
        );
        assert_eq!(parse_listen_addr(":::443"), Ok(inet("::", 443, 443)));
        assert_eq!(parse_listen_addr("[::1]:443"), Ok(inet("::1", 443, 443)));
        assert_eq!(parse_listen_addr("1.2.3:80"), Ok(inet("1.2.0.3", 80, 80)));
        assert!(matches!(
            parse_listen_addr("ipv6@:80"),
            Ok(ListenAddr::Inet { v6only: true, .. })
        ));
        assert_eq!(
            parse_listen_addr("unix@/run/x.sock"),
            Ok(ListenAddr::Unix {
                path: "/run/x.sock".into()
            })
        );
        assert_eq!(
            parse_listen_addr("/run/x.sock"),
            Ok(ListenAddr::Unix {
                path: "/run/x.sock".into()
            })
        );
        assert_eq!(
            parse_listen_addr("abns@foo"),
            Ok(ListenAddr::Abns { name: "foo".into() })
        );
        assert_eq!(parse_listen_addr("fd@3"), Ok(ListenAddr::Fd { fd: 3 }));
        assert_eq!(
            parse_listen_addr("0.0.0.0:$PORT").unwrap_err().message(),
            "invalid character '$' in port number '$PORT' in '0.0.0.0:$PORT'"
        );
        let env = |n: &str| (n == "P").then(|| "81".to_string());
        assert_eq!(env_expand("a:$P-${P}x$NOPE", &env), "a:81-81x");
        assert_eq!(
            parse_listen_addr(":").unwrap_err().message(),
            "missing port specification in ':'"
        );
        assert_eq!(
            parse_listen_addr(":99999").unwrap_err().message(),
            "invalid port '99999'"
        );
        assert_eq!(
            parse_listen_addr("no-such-host.invalid:80")
                .unwrap_err()
                .message(),
            "invalid address: 'no-such-host.invalid' in 'no-such-host.invalid:80'"
        );
    }

    #[test]
    fn server_addresses() {
        let a = parse_server_addr("10.0.0.1:8080").unwrap();
        assert_eq!(
            a,
            ServerAddr::Inet {
                host: "10.0.0.1".into(),
                resolved: Some("10.0.0.1".parse().unwrap()),
                port: ServerPort::Fixed(8080)
            }
        );
        assert!(matches!(
            parse_server_addr("db:5432"),
            Ok(ServerAddr::Inet {
                resolved: None,
                port: ServerPort::Fixed(5432),
                ..
            })
        ));
        assert!(matches!(
            parse_server_addr("10.0.0.1"),
            Ok(ServerAddr::Inet {
                port: ServerPort::None,
                ..
            })
        ));
        assert!(matches!(
            parse_server_addr("10.0.0.1:+1000"),
            Ok(ServerAddr::Inet {
                port: ServerPort::Offset(1000),
                ..
            })
        ));
        assert!(matches!(
            parse_server_addr("[::1]:80"),
            Ok(ServerAddr::Inet {
                port: ServerPort::Fixed(80),
                ..
            })
        ));
        assert!(matches!(
            parse_server_addr("::1"),
            Ok(ServerAddr::Inet {
                port: ServerPort::None,
                ..
            })
        ));
        assert_eq!(
            parse_server_addr("1.2.3.4:99999").unwrap_err().message(),
            "invalid port '99999'"
        );
        assert!(matches!(
            parse_server_addr("unix@/x"),
            Ok(ServerAddr::Unix { .. })
        ));
    }

    #[test]
    fn hosts_file_lookup() {
        let hosts = "127.0.0.1 localhost\n# c\n10.1.2.3 db db.local # x\n";
        assert_eq!(
            resolve_in_hosts(hosts, "db.local"),
            Some("10.1.2.3".parse().unwrap())
        );
        assert_eq!(resolve_in_hosts(hosts, "nope"), None);
    }

    #[test]
    fn aton_forms() {
        assert_eq!(parse_ipv4_aton("10"), Some(Ipv4Addr::new(0, 0, 0, 10)));
        assert_eq!(parse_ipv4_aton("1.2.3"), Some(Ipv4Addr::new(1, 2, 0, 3)));
        assert_eq!(parse_ipv4_aton("256.1.1.1"), None);
        assert_eq!(parse_ipv4_aton("abc"), None);
    }
}

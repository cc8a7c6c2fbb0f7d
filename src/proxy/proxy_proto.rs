//! PROXY protocol v1 (text) and v2 (binary): parsing on `bind ... accept-proxy` and emitting
//! on `server ... send-proxy` / `send-proxy-v2`.
//!
//! Parsing consumes exactly the header from the socket (peeking first), so whatever follows —
//! a TLS ClientHello or an HTTP request — stays unread for the next layer.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

pub const V2_SIG: [u8; 12] = [
    0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProxyProtoError {
    #[error("timeout waiting for the PROXY header")]
    Timeout,
    #[error("connection closed before the PROXY header")]
    Closed,
    #[error("invalid PROXY header")]
    Invalid,
}

/// What a header says: the original addresses (None for `UNKNOWN` / `LOCAL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyAddrs {
    pub src: SocketAddr,
    pub dst: SocketAddr,
}

/// Parses a complete header at the start of `buf`.
/// Ok(None): need more bytes; Ok(Some((len, addrs))): header length and addresses.
pub fn parse(buf: &[u8]) -> Result<Option<(usize, Option<ProxyAddrs>)>, ProxyProtoError> {
    if buf.len() >= 12 && buf[..12] == V2_SIG {
        return parse_v2(buf);
    }
    if buf.len() < 12 && V2_SIG.starts_with(buf) && !buf.is_empty() && buf[0] == 0x0D {
        return Ok(None);
    }
    parse_v1(buf)
}

fn parse_v1(buf: &[u8]) -> Result<Option<(usize, Option<ProxyAddrs>)>, ProxyProtoError> {
    let n = buf.len().min(6);
    if buf[..n] != b"PROXY "[..n] {
        return Err(ProxyProtoError::Invalid);
    }
    let Some(end) = buf.windows(2).position(|w| w == b"\r\n") else {
        return if buf.len() >= 107 {
            Err(ProxyProtoError::Invalid)
        } else {
            Ok(None)
        };
    };
    if end > 105 {
        return Err(ProxyProtoError::Invalid);
    }
    let line = std::str::from_utf8(&buf[6..end]).map_err(|_| ProxyProtoError::Invalid)?;
    let parts: Vec<&str> = line.split(' ').collect();
    let addrs = match parts.first().copied() {
        Some("UNKNOWN") => None,
        Some(fam @ ("TCP4" | "TCP6")) if parts.len() == 5 => {
            let ip = |s: &str| -> Result<IpAddr, ProxyProtoError> {
                let ip: IpAddr = s.parse().map_err(|_| ProxyProtoError::Invalid)?;
                if (fam == "TCP4") != ip.is_ipv4() {
                    return Err(ProxyProtoError::Invalid);
                }
                Ok(ip)
            };
            let port = |s: &str| -> Result<u16, ProxyProtoError> {
                if s.len() > 1 && s.starts_with('0') {
                    return Err(ProxyProtoError::Invalid);
                }
                s.parse().map_err(|_| ProxyProtoError::Invalid)
            };
            Some(ProxyAddrs {
                src: SocketAddr::new(ip(parts[1])?, port(parts[3])?),
                dst: SocketAddr::new(ip(parts[2])?, port(parts[4])?),
            })
        }
        _ => return Err(ProxyProtoError::Invalid),
    };
    Ok(Some((end + 2, addrs)))
}

fn parse_v2(buf: &[u8]) -> Result<Option<(usize, Option<ProxyAddrs>)>, ProxyProtoError> {
    if buf.len() < 16 {
        return Ok(None);
    }
    let ver_cmd = buf[12];
    if ver_cmd >> 4 != 2 {
        return Err(ProxyProtoError::Invalid);
    }
    let len = u16::from_be_bytes([buf[14], buf[15]]) as usize;
    if buf.len() < 16 + len {
        return Ok(None);
    }
    let body = &buf[16..16 + len];
    let total = 16 + len;
    match ver_cmd & 0x0F {
        0 => return Ok(Some((total, None))), // LOCAL
        1 => {}
        _ => return Err(ProxyProtoError::Invalid),
    }
    let addrs = match buf[13] >> 4 {
        1 => {
            if body.len() < 12 {
                return Err(ProxyProtoError::Invalid);
            }
            let src = Ipv4Addr::new(body[0], body[1], body[2], body[3]);
            let dst = Ipv4Addr::new(body[4], body[5], body[6], body[7]);
            Some(ProxyAddrs {
                src: SocketAddr::new(src.into(), u16::from_be_bytes([body[8], body[9]])),
                dst: SocketAddr::new(dst.into(), u16::from_be_bytes([body[10], body[11]])),
            })
        }
        2 => {
            if body.len() < 36 {
                return Err(ProxyProtoError::Invalid);
            }
            let mut s = [0u8; 16];
            let mut d = [0u8; 16];
            s.copy_from_slice(&body[..16]);
            d.copy_from_slice(&body[16..32]);
            Some(ProxyAddrs {
                src: SocketAddr::new(
                    Ipv6Addr::from(s).into(),
                    u16::from_be_bytes([body[32], body[33]]),
                ),
                dst: SocketAddr::new(
                    Ipv6Addr::from(d).into(),
                    u16::from_be_bytes([body[34], body[35]]),
                ),
            })
        }
        _ => None, // AF_UNSPEC / AF_UNIX: keep the connection's own addresses
    };
    Ok(Some((total, addrs)))
}

/// The value of the PP2_TYPE_UNIQUE_ID (0x05) TLV of a complete v2 header (`fc_pp_unique_id`).
pub fn v2_unique_id(header: &[u8]) -> Option<&[u8]> {
    if header.len() < 16 || header[..12] != V2_SIG {
        return None;
    }
    let len = u16::from_be_bytes([header[14], header[15]]) as usize;
    let body = header.get(16..16 + len)?;
    let addr_len = match header[13] >> 4 {
        1 => 12,
        2 => 36,
        3 => 216,
        _ => 0,
    };
    let mut tlvs = body.get(addr_len..)?;
    while tlvs.len() >= 3 {
        let (kind, n) = (tlvs[0], u16::from_be_bytes([tlvs[1], tlvs[2]]) as usize);
        let value = tlvs.get(3..3 + n)?;
        if kind == 0x05 {
            return Some(value);
        }
        tlvs = &tlvs[3 + n..];
    }
    None
}

/// Reads a PROXY header off `sock` within `limit`, consuming exactly its bytes.
pub async fn read_header(
    sock: &mut TcpStream,
    limit: Duration,
) -> Result<Option<ProxyAddrs>, ProxyProtoError> {
    read_header_with_id(sock, limit).await.map(|(a, _)| a)
}

/// [`read_header`], also returning the v2 header's unique id TLV.
pub async fn read_header_with_id(
    sock: &mut TcpStream,
    limit: Duration,
) -> Result<(Option<ProxyAddrs>, Option<bytes::Bytes>), ProxyProtoError> {
    let uid = |h: &[u8]| v2_unique_id(h).map(bytes::Bytes::copy_from_slice);
    let deadline = tokio::time::Instant::now() + limit;
    let mut peek = [0u8; 232];
    loop {
        let n = match tokio::time::timeout_at(deadline, sock.peek(&mut peek)).await {
            Err(_) => return Err(ProxyProtoError::Timeout),
            Ok(Err(_)) | Ok(Ok(0)) => return Err(ProxyProtoError::Closed),
            Ok(Ok(n)) => n,
        };
        match parse(&peek[..n])? {
            Some((len, addrs)) => {
                let mut discard = vec![0u8; len];
                sock.read_exact(&mut discard)
                    .await
                    .map_err(|_| ProxyProtoError::Closed)?;
                return Ok((addrs, uid(&discard)));
            }
            None => {
                if n == peek.len() {
                    // a v2 header with TLVs longer than our peek: read it in full
                    if peek[..12] == V2_SIG {
                        let len = 16 + u16::from_be_bytes([peek[14], peek[15]]) as usize;
                        let mut all = vec![0u8; len];
                        sock.read_exact(&mut all)
                            .await
                            .map_err(|_| ProxyProtoError::Closed)?;
                        let addrs = parse(&all)?
                            .map(|(_, a)| a)
                            .ok_or(ProxyProtoError::Invalid)?;
                        return Ok((addrs, uid(&all)));
                    }
                    return Err(ProxyProtoError::Invalid);
                }
                // wait for more bytes to arrive
                tokio::time::sleep(Duration::from_millis(2)).await;
                if tokio::time::Instant::now() >= deadline {
                    return Err(ProxyProtoError::Timeout);
                }
            }
        }
    }
}

/// A v1 header for a connection from `src` to `dst`.
pub fn v1(src: SocketAddr, dst: SocketAddr) -> Vec<u8> {
    let (src, dst) = normalize(src, dst);
    match (src, dst) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => format!(
            "PROXY TCP4 {} {} {} {}\r\n",
            s.ip(),
            d.ip(),
            s.port(),
            d.port()
        )
        .into_bytes(),
        (SocketAddr::V6(s), SocketAddr::V6(d)) => format!(
            "PROXY TCP6 {} {} {} {}\r\n",
            s.ip(),
            d.ip(),
            s.port(),
            d.port()
        )
        .into_bytes(),
        _ => b"PROXY UNKNOWN\r\n".to_vec(),
    }
}

/// A v2 header (PROXY command over TCP) for a connection from `src` to `dst`.
pub fn v2(src: SocketAddr, dst: SocketAddr) -> Vec<u8> {
    let (src, dst) = normalize(src, dst);
    let mut h = V2_SIG.to_vec();
    h.push(0x21);
    match (src, dst) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => {
            h.push(0x11);
            h.extend_from_slice(&12u16.to_be_bytes());
            h.extend_from_slice(&s.ip().octets());
            h.extend_from_slice(&d.ip().octets());
            h.extend_from_slice(&s.port().to_be_bytes());
            h.extend_from_slice(&d.port().to_be_bytes());
        }
        (SocketAddr::V6(s), SocketAddr::V6(d)) => {
            h.push(0x21);
            h.extend_from_slice(&36u16.to_be_bytes());
            h.extend_from_slice(&s.ip().octets());
            h.extend_from_slice(&d.ip().octets());
            h.extend_from_slice(&s.port().to_be_bytes());
            h.extend_from_slice(&d.port().to_be_bytes());
        }
        _ => {
            h.push(0x00);
            h.extend_from_slice(&0u16.to_be_bytes());
        }
    }
    h
}

/// Mixed families: map IPv4 to IPv4-mapped IPv6 so both sides share one family.
fn normalize(src: SocketAddr, dst: SocketAddr) -> (SocketAddr, SocketAddr) {
    let v6 = |a: SocketAddr| match a {
        SocketAddr::V4(v) => SocketAddr::new(v.ip().to_ipv6_mapped().into(), v.port()),
        x => x,
    };
    let unmap = |a: SocketAddr| match a {
        SocketAddr::V6(v) => match v.ip().to_ipv4_mapped() {
            Some(ip) => SocketAddr::new(ip.into(), v.port()),
            None => a,
        },
        x => x,
    };
    let (s, d) = (unmap(src), unmap(dst));
    if s.is_ipv4() == d.is_ipv4() {
        (s, d)
    } else {
        (v6(s), v6(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_roundtrip_and_errors() {
        let s: SocketAddr = "192.0.2.1:1234".parse().unwrap();
        let d: SocketAddr = "198.51.100.2:443".parse().unwrap();
        let h = v1(s, d);
        assert_eq!(h, b"PROXY TCP4 192.0.2.1 198.51.100.2 1234 443\r\n");
        let mut buf = h.clone();
        buf.extend_from_slice(b"GET / HTTP/1.1\r\n");
        assert_eq!(
            parse(&buf).unwrap(),
            Some((h.len(), Some(ProxyAddrs { src: s, dst: d })))
        );
        assert_eq!(parse(b"PROXY TCP4 1.2.3.4").unwrap(), None);
        assert_eq!(parse(b"PRO").unwrap(), None);
        assert!(parse(b"GET / HTTP/1.1\r\n").is_err());
        assert!(parse(b"PROXY TCP4 ::1 1.2.3.4 1 2\r\n").is_err());
        assert!(parse(b"PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n").is_err());
        assert_eq!(parse(b"PROXY UNKNOWN\r\n").unwrap(), Some((15, None)));
    }

    #[test]
    fn v2_roundtrip() {
        for (s, d) in [
            ("192.0.2.1:1234", "198.51.100.2:443"),
            ("[2001:db8::1]:5", "[2001:db8::2]:6"),
        ] {
            let s: SocketAddr = s.parse().unwrap();
            let d: SocketAddr = d.parse().unwrap();
            let h = v2(s, d);
            assert_eq!(
                parse(&h).unwrap(),
                Some((h.len(), Some(ProxyAddrs { src: s, dst: d })))
            );
            assert_eq!(parse(&h[..h.len() - 1]).unwrap(), None);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut x: u32 = 7;
        for len in 0..300 {
            let mut b = Vec::new();
            if len % 3 == 0 {
                b.extend_from_slice(&V2_SIG);
            }
            for _ in 0..len {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                b.push((x >> 16) as u8);
            }
            let _ = parse(&b);
        }
    }
}

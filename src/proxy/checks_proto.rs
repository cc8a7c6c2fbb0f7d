//! Binary protocol pieces of the health checks that are not plain pattern matches:
//! the LDAPv3 BindResponse (`option ldap-check`) and the SPOP HAPROXY-HELLO / AGENT-HELLO
//! exchange (`option spop-check`).
//!
//! Each reply judge is pure: it gets the bytes received so far and whether the peer closed,
//! and says whether the check passed, failed (with HAProxy's status and text) or needs more.

use super::server_state::CheckStatus;

/// What a protocol reply judge decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Passed, with the info text HAProxy reports.
    Ok(&'static str),
    /// Failed: status, response code (0 if none), info text.
    Fail(CheckStatus, u16, String),
    /// Wait for more bytes.
    More,
}

/// The simple LDAPv3 bind request `option ldap-check` sends (anonymous, version 3).
pub const LDAP_BIND_REQUEST: [u8; 14] = [
    0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00,
];

const NOT_LDAP: &str = "Not LDAPv3 protocol";

/// Judges an LDAP BindResponse (the first byte, 0x30, is checked by the caller's `^30`
/// expect). Message lengths in long form are accepted on 2 or 4 bytes, as HAProxy does.
pub fn ldap_bind_response(buf: &[u8], closed: bool) -> Reply {
    let too_short = || {
        if closed {
            Reply::Fail(CheckStatus::L7Rsp, 0, String::new())
        } else {
            Reply::More
        }
    };
    let not_ldap = || Reply::Fail(CheckStatus::L7Rsp, 0, NOT_LDAP.to_string());
    let Some(&len0) = buf.get(1) else {
        return too_short();
    };
    let (nbytes, msglen) = if len0 & 0x80 != 0 {
        let n = usize::from(len0 & 0x7f);
        let Some(b) = buf.get(2..2 + n) else {
            return too_short();
        };
        let len = match n {
            2 => usize::from(u16::from_be_bytes([b[0], b[1]])),
            4 => u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize,
            _ => return not_ldap(),
        };
        (n, len)
    } else {
        (0, usize::from(len0))
    };
    if buf.len() < 2 + nbytes + msglen {
        return too_short();
    }
    let mut p = 2 + nbytes;
    // messageID INTEGER 1, then protocolOp bindResponse (APPLICATION 1)
    if buf.get(p..p + 4) != Some(&[0x02, 0x01, 0x01, 0x61][..]) {
        return not_ldap();
    }
    p += 4;
    let skip = match buf.get(p) {
        Some(b) if b & 0x80 != 0 => usize::from(b & 0x7f),
        _ => 0,
    };
    p += 1 + skip;
    // resultCode ENUMERATED
    if buf.get(p..p + 2) != Some(&[0x0a, 0x01][..]) {
        return not_ldap();
    }
    p += 2;
    match buf.get(p) {
        Some(0) => Reply::Ok("Success"),
        Some(code) => Reply::Fail(
            CheckStatus::L7Sts,
            u16::from(*code),
            "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9".to_string(),
        ),
        None => too_short(),
    }
}

// ---- SPOP (SPOE protocol 2.0)

const SPOP_HAPROXY_HELLO: u8 = 1;
const SPOP_AGENT_HELLO: u8 = 101;
const SPOP_AGENT_DISCONNECT: u8 = 102;
const SPOP_FLAG_FIN: u32 = 1;
/// The frame size HAProxy offers (its buffer size, 16384, minus the length prefix).
const SPOP_MAX_FRAME: u64 = 16380;
const SPOP_MIN_FRAME: u64 = 256;

const T_NULL: u8 = 0;
const T_BOOL: u8 = 1;
const T_INT32: u8 = 2;
const T_UINT32: u8 = 3;
const T_INT64: u8 = 4;
const T_UINT64: u8 = 5;
const T_IPV4: u8 = 6;
const T_IPV6: u8 = 7;
const T_STR: u8 = 8;
const T_BIN: u8 = 9;
const T_FLAG_TRUE: u8 = 0x10;

/// SPOP error reasons, by status code (the text HAProxy logs).
const SPOP_REASONS: [&str; 14] = [
    "normal",
    "I/O error",
    "a timeout occurred",
    "frame is too big",
    "invalid frame received",
    "version value not found",
    "max-frame-size value not found",
    "capabilities value not found",
    "unsupported version",
    "max-frame-size too big or too small",
    "fragmentation not supported",
    "invalid interlaced frames",
    "frame-id not found",
    "resource allocation error",
];
const SPOP_UNKNOWN: &str = "an unknown error occurred";
const ERR_INVALID: usize = 4;
const ERR_NO_VSN: usize = 5;
const ERR_NO_FRAME_SIZE: usize = 6;
const ERR_BAD_VSN: usize = 8;
const ERR_BAD_FRAME_SIZE: usize = 9;
const ERR_FRAG: usize = 10;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    if v < 240 {
        out.push(v as u8);
        return;
    }
    out.push((v as u8) | 240);
    v = (v - 240) >> 4;
    while v >= 128 {
        out.push((v as u8) | 128);
        v = (v - 128) >> 7;
    }
    out.push(v as u8);
}

fn get_varint(b: &[u8], p: &mut usize) -> Option<u64> {
    let first = *b.get(*p)?;
    *p += 1;
    let mut v = u64::from(first);
    if v < 240 {
        return Some(v);
    }
    let mut shift = 4;
    loop {
        let c = *b.get(*p)?;
        *p += 1;
        v = v.checked_add(u64::from(c).checked_shl(shift)?)?;
        shift += 7;
        if c < 128 {
            return Some(v);
        }
        if shift > 63 {
            return None;
        }
    }
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s);
}

fn get_str<'a>(b: &'a [u8], p: &mut usize) -> Option<&'a [u8]> {
    let n = usize::try_from(get_varint(b, p)?).ok()?;
    let s = b.get(*p..p.checked_add(n)?)?;
    *p += n;
    Some(s)
}

/// The HAPROXY-HELLO frame of a SPOP health check, with its 4-byte length prefix.
pub fn spop_hello_request() -> Vec<u8> {
    let mut f = vec![SPOP_HAPROXY_HELLO];
    f.extend_from_slice(&SPOP_FLAG_FIN.to_be_bytes());
    f.extend_from_slice(&[0, 0]); // stream-id, frame-id
    put_str(&mut f, b"supported-versions");
    f.push(T_STR);
    put_str(&mut f, b"2.0");
    put_str(&mut f, b"max-frame-size");
    f.push(T_UINT32);
    put_varint(&mut f, SPOP_MAX_FRAME);
    put_str(&mut f, b"capabilities");
    f.push(T_STR);
    put_str(&mut f, b"");
    put_str(&mut f, b"healthcheck");
    f.push(T_BOOL | T_FLAG_TRUE);
    let mut out = (f.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&f);
    out
}

fn skip_data(b: &[u8], p: &mut usize, ty: u8) -> Option<()> {
    match ty & 0x0f {
        T_NULL | T_BOOL => {}
        T_INT32 | T_UINT32 | T_INT64 | T_UINT64 => {
            get_varint(b, p)?;
        }
        T_IPV4 => *p = p.checked_add(4).filter(|e| *e <= b.len())?,
        T_IPV6 => *p = p.checked_add(16).filter(|e| *e <= b.len())?,
        T_STR | T_BIN => {
            get_str(b, p)?;
        }
        _ => return None,
    }
    Some(())
}

/// "X.Y" as X*1000+Y (SPOP version numbers).
fn spop_version(s: &[u8]) -> Option<u32> {
    let s = std::str::from_utf8(s).ok()?.trim();
    let (maj, min) = s.split_once('.')?;
    Some(maj.parse::<u32>().ok()? * 1000 + min.parse::<u32>().ok()?)
}

/// Reads an AGENT-HELLO frame (without length prefix); Err(reason index).
fn spop_agent_hello(f: &[u8]) -> Result<(), usize> {
    if f.first() != Some(&SPOP_AGENT_HELLO) || f.len() < 7 {
        return Err(ERR_INVALID);
    }
    let flags = u32::from_be_bytes([f[1], f[2], f[3], f[4]]);
    if flags & SPOP_FLAG_FIN == 0 {
        return Err(ERR_FRAG);
    }
    if f[5] != 0 || f[6] != 0 {
        return Err(ERR_INVALID);
    }
    let mut p = 7;
    let mut version = false;
    let mut frame_size = false;
    while p < f.len() {
        let key = match get_str(f, &mut p) {
            Some(k) if !k.is_empty() => k,
            _ => return Err(ERR_INVALID),
        };
        let ty = *f.get(p).ok_or(ERR_INVALID)?;
        p += 1;
        if key.starts_with(b"version") {
            if ty & 0x0f != T_STR {
                return Err(ERR_INVALID);
            }
            let v = get_str(f, &mut p).ok_or(ERR_INVALID)?;
            match spop_version(v) {
                Some(2000) => version = true,
                _ => return Err(ERR_BAD_VSN),
            }
        } else if key.starts_with(b"max-frame-size") {
            if !matches!(ty & 0x0f, T_INT32 | T_UINT32 | T_INT64 | T_UINT64) {
                return Err(ERR_INVALID);
            }
            let v = get_varint(f, &mut p).ok_or(ERR_INVALID)?;
            if !(SPOP_MIN_FRAME..=SPOP_MAX_FRAME).contains(&v) {
                return Err(ERR_BAD_FRAME_SIZE);
            }
            frame_size = true;
        } else if key.starts_with(b"capabilities") {
            if ty & 0x0f != T_STR {
                return Err(ERR_INVALID);
            }
            get_str(f, &mut p).ok_or(ERR_INVALID)?;
        } else {
            skip_data(f, &mut p, ty).ok_or(ERR_INVALID)?;
        }
    }
    if !version {
        return Err(ERR_NO_VSN);
    }
    if !frame_size {
        return Err(ERR_NO_FRAME_SIZE);
    }
    Ok(())
}

/// The status code an AGENT-DISCONNECT frame carries (unknown when absent).
fn spop_disconnect_code(f: &[u8]) -> usize {
    let mut p = 7;
    while p < f.len() {
        let Some(key) = get_str(f, &mut p) else {
            break;
        };
        let Some(&ty) = f.get(p) else { break };
        p += 1;
        if key == b"status-code" && matches!(ty & 0x0f, T_INT32 | T_UINT32 | T_INT64 | T_UINT64) {
            return get_varint(f, &mut p).map_or(usize::MAX, |v| v as usize);
        }
        if skip_data(f, &mut p, ty).is_none() {
            break;
        }
    }
    usize::MAX
}

/// Judges the agent's reply to [`spop_hello_request`] (with its length prefix).
pub fn spop_hello_reply(buf: &[u8], closed: bool) -> Reply {
    let Some(len) = buf.get(..4) else {
        return if closed {
            Reply::Fail(CheckStatus::L7Rsp, 0, String::new())
        } else {
            Reply::More
        };
    };
    let size = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
    if !closed && buf.len() < 4 + size {
        return Reply::More;
    }
    let frame = &buf[4..buf.len().min(4 + size)];
    let code = if frame.first() == Some(&SPOP_AGENT_DISCONNECT) {
        Err(spop_disconnect_code(frame))
    } else {
        spop_agent_hello(frame)
    };
    match code {
        Ok(()) => Reply::Ok("SPOA server is ok"),
        Err(c) => Reply::Fail(
            CheckStatus::L7Rsp,
            0,
            SPOP_REASONS
                .get(c)
                .copied()
                .unwrap_or(SPOP_UNKNOWN)
                .to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn spop_request_layout() {
        let r = spop_hello_request();
        assert_eq!(r.len(), 82);
        assert_eq!(&r[..4], &[0, 0, 0, 0x4e]);
        assert_eq!(&r[12..29], b"supported-version");
        let mut v = Vec::new();
        put_varint(&mut v, 16380);
        assert_eq!(v, [0xfc, 0xf0, 0x06]);
        let mut p = 0;
        assert_eq!(get_varint(&v, &mut p), Some(16380));
    }

    #[test]
    fn spop_replies() {
        let rows = [
            ("00000036 65 00000001 0000 0776657273696F6E 0803322E30 0E6D61782D6672616D652D73697A65 03FCF0 060C6361706162696C6974696573 0800", Reply::Ok("SPOA server is ok")),
            ("00000000", Reply::Fail(CheckStatus::L7Rsp, 0, "invalid frame received".into())),
            ("00000007 65 00000000 0000", Reply::Fail(CheckStatus::L7Rsp, 0, "fragmentation not supported".into())),
            ("00000014 65 00000001 0000 0776657273696F6E 0803312E30", Reply::Fail(CheckStatus::L7Rsp, 0, "unsupported version".into())),
            ("00000007 65 00000001 0000", Reply::Fail(CheckStatus::L7Rsp, 0, "version value not found".into())),
        ];
        for (hex, want) in rows {
            assert_eq!(spop_hello_reply(&unhex(hex), true), want, "{hex}");
        }
        assert_eq!(spop_hello_reply(&unhex("00000036 65"), false), Reply::More);
    }

    #[test]
    fn ldap_replies() {
        let rows = [
            ("300C020101 61 070A01 00 04000400", Reply::Ok("Success")),
            (
                "300C020101 60 070A01 00 04000400",
                Reply::Fail(CheckStatus::L7Rsp, 0, NOT_LDAP.into()),
            ),
            (
                "300C020101 61 070A01 01 04000400",
                Reply::Fail(
                    CheckStatus::L7Sts,
                    1,
                    "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9".into(),
                ),
            ),
            (
                "308400000010020101 61 84000000070A01 00 04000400",
                Reply::Ok("Success"),
            ),
            (
                "3083000010",
                Reply::Fail(CheckStatus::L7Rsp, 0, NOT_LDAP.into()),
            ),
        ];
        for (hex, want) in rows {
            assert_eq!(ldap_bind_response(&unhex(hex), true), want, "{hex}");
        }
        assert_eq!(
            ldap_bind_response(&unhex("308400000010020101 61 84000000070A01"), false),
            Reply::More
        );
    }
}

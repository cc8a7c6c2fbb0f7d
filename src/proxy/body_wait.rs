//! Waiting for a message payload before the rules run: `http-request wait-for-body`,
//! `http-response wait-for-body` and `option http-buffer-request`.
//!
//! As in HAProxy, the wait ends when the whole payload is there, when `at-least` bytes of it
//! arrived, or when the buffer is full (`tune.bufsize` minus `tune.maxrewrite`); when the time
//! runs out first, a request gets 408 and a response 504. The condition of a `wait-for-body`
//! rule is evaluated once, before the rule set runs; the rule itself then does nothing.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};

use super::http1::{BodyKind, BodyProgress};
use super::rules::{Action, Rule};
use crate::proxy::acl::cond_ok;
use crate::proxy::sample::EvalCtx;

/// Payload bytes a wait buffers at most: HAProxy's default `tune.bufsize` (16384) minus
/// `tune.maxrewrite` (1024).
pub const BUFFER_LIMIT: usize = 16384 - 1024;

/// How long and for how much a message waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyWait {
    /// None: until the whole payload (or a full buffer) is there, bounded by the caller's
    /// idle timeout.
    pub time: Option<Duration>,
    /// Stop waiting once this many payload bytes arrived; 0 = no such limit.
    pub at_least: u64,
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitEnd {
    /// Go on: the payload (or enough of it) is buffered.
    Ready,
    /// The time ran out first (408 for a request, 504 for a response).
    Timeout,
    /// The peer closed or failed before the payload was complete.
    Closed,
    /// The payload framing is invalid.
    Invalid,
}

impl BodyWait {
    /// `time <time> [at-least <bytes>]` (the words after `wait-for-body`).
    pub fn parse(args: &[String]) -> Result<BodyWait, String> {
        let mut time = None;
        let mut at_least = 0;
        let mut it = args.iter().map(String::as_str);
        while let Some(w) = it.next() {
            match w {
                "time" => {
                    let v = it.next().ok_or("'time' expects a value")?;
                    time = Some(
                        crate::haproxy::parser::values::parse_time_ms(v)
                            .map_err(|e| format!("invalid time '{v}': {e:?}"))?,
                    );
                }
                "at-least" => {
                    let v = it.next().ok_or("'at-least' expects a size")?;
                    at_least = crate::haproxy::parser::values::parse_size(v)
                        .ok_or_else(|| format!("invalid size '{v}'"))?;
                }
                other => return Err(format!("unexpected '{other}'")),
            }
        }
        match time {
            Some(t) => Ok(BodyWait {
                time: Some(t),
                at_least,
            }),
            None => Err("'time' is mandatory".into()),
        }
    }

    /// The first `wait-for-body` rule of `rules` whose condition holds.
    pub fn first_matching(rules: &[Rule], ec: &EvalCtx<'_>) -> Option<BodyWait> {
        rules.iter().find_map(|r| match &r.action {
            Action::WaitForBody(w) if cond_ok(r.cond.as_ref(), ec) => Some(*w),
            _ => None,
        })
    }
}

/// Whether the payload at the start of `buf` is complete, and how many payload bytes
/// (chunk framing excluded) it holds so far.
fn progress(buf: &[u8], kind: BodyKind) -> Result<(bool, usize), ()> {
    let mut p = BodyProgress::start(kind);
    let used = p.advance(buf).map_err(|_| ())?;
    let payload = match kind {
        BodyKind::Chunked => dechunk(&buf[..used]).len(),
        _ => used,
    };
    Ok((p.is_done(), payload))
}

/// Reads from `src` into `buf` (which already holds the payload bytes received with the
/// head) until the wait is over.
pub async fn fill<R: AsyncRead + Unpin>(
    src: &mut R,
    buf: &mut BytesMut,
    kind: BodyKind,
    wait: BodyWait,
    idle: Duration,
) -> WaitEnd {
    let deadline = tokio::time::Instant::now() + wait.time.unwrap_or(idle);
    loop {
        let Ok((done, payload)) = progress(buf, kind) else {
            return WaitEnd::Invalid;
        };
        if done || payload >= BUFFER_LIMIT || (wait.at_least > 0 && payload as u64 >= wait.at_least)
        {
            return WaitEnd::Ready;
        }
        buf.reserve(8192);
        match tokio::time::timeout_at(deadline, src.read_buf(buf)).await {
            Err(_) => return WaitEnd::Timeout,
            Ok(Ok(0)) if kind == BodyKind::UntilClose => return WaitEnd::Ready,
            Ok(Ok(0)) | Ok(Err(_)) => return WaitEnd::Closed,
            Ok(Ok(_)) => {}
        }
    }
}

/// The payload bytes at the start of `buf` (de-chunked), for `req.body`.
pub fn payload(buf: &[u8], kind: BodyKind) -> Bytes {
    match kind {
        BodyKind::None => Bytes::new(),
        BodyKind::Chunked => Bytes::from(dechunk(buf)),
        BodyKind::Length(n) => {
            Bytes::copy_from_slice(&buf[..buf.len().min(usize::try_from(n).unwrap_or(usize::MAX))])
        }
        BodyKind::UntilClose => Bytes::copy_from_slice(buf),
    }
}

/// The data of the complete chunks at the start of `b`.
fn dechunk(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(eol) = b[i..].windows(2).position(|w| w == b"\r\n") {
        let line = &b[i..i + eol];
        let hex_end = line
            .iter()
            .position(|c| !c.is_ascii_hexdigit())
            .unwrap_or(line.len());
        let Some(size) = std::str::from_utf8(&line[..hex_end])
            .ok()
            .and_then(|h| usize::from_str_radix(h, 16).ok())
        else {
            break;
        };
        if size == 0 {
            break;
        }
        let start = i + eol + 2;
        let end = start + size;
        if end > b.len() {
            out.extend_from_slice(&b[start..]);
            break;
        }
        out.extend_from_slice(&b[start..end]);
        i = end + 2;
        if i > b.len() {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_action_words() {
        let w = |s: &str| BodyWait::parse(&s.split(' ').map(String::from).collect::<Vec<_>>());
        assert_eq!(
            w("time 100ms"),
            Ok(BodyWait {
                time: Some(Duration::from_millis(100)),
                at_least: 0
            })
        );
        assert_eq!(
            w("time 1s at-least 1k"),
            Ok(BodyWait {
                time: Some(Duration::from_secs(1)),
                at_least: 1024
            })
        );
        assert!(w("at-least 10").is_err());
        assert!(w("time").is_err());
        assert!(w("time 1s bogus").is_err());
    }

    #[test]
    fn payload_progress_and_dechunking() {
        assert_eq!(progress(b"abc", BodyKind::Length(5)), Ok((false, 3)));
        assert_eq!(progress(b"abcde", BodyKind::Length(5)), Ok((true, 5)));
        let chunked = b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        assert_eq!(progress(chunked, BodyKind::Chunked), Ok((true, 5)));
        assert_eq!(progress(&chunked[..10], BodyKind::Chunked), Ok((false, 3)));
        assert_eq!(&payload(chunked, BodyKind::Chunked)[..], b"abcde");
        assert_eq!(&payload(b"abcdef", BodyKind::Length(4))[..], b"abcd");
        assert!(progress(b"zz\r\n", BodyKind::Chunked).is_err());
    }
}

//! FIX (Financial Information eXchange) messages, for the `fix_is_valid` and
//! `fix_tag_value` converters: HAProxy's checks (BeginString, BodyLength, MsgType first,
//! tag ids valid for the version, body length and checksum).

const DELIM: u8 = 0x01;
/// The shortest message HAProxy looks at.
const MIN_SIZE: usize = 26;

pub const TAG_BEGIN_STRING: u32 = 8;
pub const TAG_BODY_LENGTH: u32 = 9;
pub const TAG_CHECKSUM: u32 = 10;
pub const TAG_MSG_TYPE: u32 = 35;

/// Outcome of validating a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Valid,
    /// The message is incomplete so far.
    NeedMore,
    Invalid,
}

/// Outcome of looking a tag up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagValue<'a> {
    Found(&'a [u8]),
    NeedMore,
    Absent,
}

/// Leading decimal digits of `s` and how many bytes they used.
fn read_uint(s: &[u8]) -> (u32, usize) {
    let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let v = s[..n].iter().fold(0u32, |acc, &c| {
        acc.wrapping_mul(10).wrapping_add(u32::from(c - b'0'))
    });
    (v, n)
}

/// The tag id in `tag`, 0 when it is not a number or not valid for `version`.
fn check_id(tag: &[u8], version: Option<&[u8]>) -> u32 {
    let (id, used) = read_uint(tag);
    if used != tag.len() || id == 0 {
        return 0;
    }
    let Some(v) = version else { return id };
    if (10000..=19999).contains(&id) {
        return id;
    }
    let max = match v {
        b"FIX.4.0" => 140,
        b"FIX.4.1" => 211,
        b"FIX.4.2" => 446,
        b"FIX.4.3" => 659,
        b"FIX.4.4" => 956,
        b"FIXT.1.1" => 1621,
        _ => 0,
    };
    if id <= max {
        id
    } else {
        0
    }
}

fn known_version(v: &[u8]) -> bool {
    matches!(
        v,
        b"FIX.4.0" | b"FIX.4.1" | b"FIX.4.2" | b"FIX.4.3" | b"FIX.4.4" | b"FIXT.1.1"
    )
}

/// The tag id a `fix_tag_value` argument names: a number, or one of the names HAProxy
/// knows (MsgType, CheckSum, BodyLength, TargetCompID, BeginString, SenderCompID).
pub fn tag_id(name: &str) -> Option<u32> {
    let id = check_id(name.as_bytes(), None);
    if id != 0 {
        return Some(id);
    }
    Some(match name.to_ascii_lowercase().as_str() {
        "msgtype" => TAG_MSG_TYPE,
        "checksum" => TAG_CHECKSUM,
        "bodylength" => TAG_BODY_LENGTH,
        "targetcompid" => 56,
        "beginstring" => TAG_BEGIN_STRING,
        "sendercompid" => 49,
        _ => return None,
    })
}

/// One `tag=value<SOH>` field at the start of `rest`: (tag, value) or None when incomplete;
/// Err for an empty tag.
fn field(rest: &[u8]) -> Option<Result<(&[u8], &[u8]), ()>> {
    let eq = rest.iter().position(|&c| c == b'=')?;
    let stop = rest[eq..].iter().position(|&c| c == DELIM)?;
    if eq == 0 {
        return Some(Err(()));
    }
    Some(Ok((&rest[..eq], &rest[eq + 1..eq + stop])))
}

/// Validates a whole message.
pub fn validate(msg: &[u8]) -> Check {
    if msg.len() < MIN_SIZE {
        return Check::NeedMore;
    }
    let mut p = 0;
    let mut version: Option<&[u8]> = None;
    let (mut checksum, mut tagnum, mut bodylen) = (0u8, 0u32, 0usize);
    let mut body: Option<usize> = None;
    while p < msg.len() {
        let (tag, value) = match field(&msg[p..]) {
            None => return Check::NeedMore,
            Some(Err(())) => return Check::Invalid,
            Some(Ok(f)) => f,
        };
        let id = check_id(tag, version);
        if id == 0 {
            return Check::Invalid;
        }
        tagnum += 1;
        match tagnum {
            1 => {
                if id != TAG_BEGIN_STRING || !known_version(value) {
                    return Check::Invalid;
                }
                version = Some(value);
            }
            2 => {
                let (n, used) = read_uint(value);
                if id != TAG_BODY_LENGTH || used != value.len() || n == 0 {
                    return Check::Invalid;
                }
                bodylen = n as usize;
                body = Some(p + tag.len() + value.len() + 2);
            }
            3 if id != TAG_MSG_TYPE => return Check::Invalid,
            _ if tagnum > 3 && id == TAG_CHECKSUM => {
                let Some(start) = body else {
                    return Check::Invalid;
                };
                let (sum, used) = read_uint(value);
                if bodylen != p - start || value.len() != 3 || used != 3 {
                    return Check::Invalid;
                }
                return if u32::from(checksum) == sum {
                    Check::Valid
                } else {
                    Check::Invalid
                };
            }
            _ => {}
        }
        for &c in tag.iter().chain(b"=").chain(value).chain(&[DELIM]) {
            checksum = checksum.wrapping_add(c);
        }
        p += tag.len() + value.len() + 2;
    }
    if body.is_some() {
        Check::NeedMore
    } else {
        Check::Invalid
    }
}

/// The value of tag `id` in a message.
pub fn tag_value(msg: &[u8], id: u32) -> TagValue<'_> {
    let mut p = 0;
    while p < msg.len() {
        let (tag, value) = match field(&msg[p..]) {
            None => return TagValue::NeedMore,
            Some(Err(())) => return TagValue::Absent,
            Some(Ok(f)) => f,
        };
        let t = check_id(tag, None);
        if t == 0 {
            return TagValue::Absent;
        }
        if t == id {
            return if value.is_empty() {
                TagValue::Absent
            } else {
                TagValue::Found(value)
            };
        }
        if t == TAG_CHECKSUM {
            return TagValue::Absent;
        }
        p += tag.len() + value.len() + 2;
    }
    TagValue::NeedMore
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `msg` with `|` for SOH, completed with its BodyLength and CheckSum.
    fn fix(version: &str, body: &str) -> Vec<u8> {
        let body = body.replace('|', "\x01");
        let mut m = format!("8={version}\x019={}\x01{body}", body.len()).into_bytes();
        let sum = m.iter().fold(0u8, |a, &c| a.wrapping_add(c));
        m.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
        m
    }

    #[test]
    fn validates_like_haproxy() {
        let ok = fix("FIX.4.4", "35=A|49=CLIENT1|56=EXECUTOR|34=1|98=0|108=30|");
        assert_eq!(validate(&ok), Check::Valid);
        assert_eq!(validate(&ok[..40]), Check::NeedMore);
        assert_eq!(validate(&ok[..10]), Check::NeedMore);
        let mut bad_sum = ok.clone();
        let n = bad_sum.len();
        bad_sum[n - 2] = if bad_sum[n - 2] == b'9' { b'0' } else { b'9' };
        assert_eq!(validate(&bad_sum), Check::Invalid);
        // MsgType not third
        let swapped = fix("FIX.4.4", "49=CLIENT1|35=A|56=EXECUTOR|98=0|");
        assert_eq!(validate(&swapped), Check::Invalid);
        // unknown version, tag id out of the version's range
        assert_eq!(
            validate(&fix("FIX.9.9", "35=A|49=C|56=E|98=0|")),
            Check::Invalid
        );
        assert_eq!(
            validate(&fix("FIX.4.0", "35=A|49=C|56=E|900=0|")),
            Check::Invalid
        );
        assert_eq!(
            validate(&fix("FIX.4.4", "35=A|49=C|=0|56=EXECUTOR|")),
            Check::Invalid
        );
    }

    #[test]
    fn tag_values() {
        let m = fix("FIX.4.4", "35=A|49=CLIENT1|56=EXECUTOR|");
        assert_eq!(tag_value(&m, 49), TagValue::Found(b"CLIENT1"));
        assert_eq!(tag_value(&m, 8), TagValue::Found(b"FIX.4.4"));
        assert_eq!(tag_value(&m, 777), TagValue::Absent);
        assert_eq!(tag_value(&m[..20], 56), TagValue::NeedMore);
        assert_eq!(tag_id("SenderCompID"), Some(49));
        assert_eq!(tag_id("35"), Some(35));
        assert_eq!(tag_id("nope"), None);
    }
}

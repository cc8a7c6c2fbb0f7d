//! `http-request normalize-uri <normalizer>`: the URI normalizers of HAProxy 2.6 (manual
//! section 4.4, "http-request normalize-uri"), written from their documented behaviour.
//!
//! Path normalizers work on the path only (up to `?`), the percent and fragment ones on the
//! path with its query (and fragment), `query-sort-by-name` on the query. A request target
//! without a path (`*`) is left alone.

/// One configured normalizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Normalizer {
    FragmentEncode,
    FragmentStrip,
    PathMergeSlashes,
    PathStripDot,
    PathStripDotdot { full: bool },
    PercentDecodeUnreserved { strict: bool },
    PercentToUppercase { strict: bool },
    QuerySortByName,
}

impl Normalizer {
    /// From the action's words (`path-strip-dotdot full`, `percent-to-uppercase strict`...).
    pub fn from_args(args: &[String]) -> Result<Normalizer, String> {
        let opt = args.get(1).map(String::as_str);
        let flag = |want: &str| -> Result<bool, String> {
            match opt {
                None => Ok(false),
                Some(o) if o == want => Ok(true),
                Some(o) => Err(format!(
                    "unknown argument '{o}' for '{}' normalizer",
                    args[0]
                )),
            }
        };
        let plain = |n: Normalizer| -> Result<Normalizer, String> {
            match opt {
                None => Ok(n),
                Some(o) => Err(format!("unexpected argument '{o}'")),
            }
        };
        match args.first().map(String::as_str) {
            Some("fragment-encode") => plain(Normalizer::FragmentEncode),
            Some("fragment-strip") => plain(Normalizer::FragmentStrip),
            Some("path-merge-slashes") => plain(Normalizer::PathMergeSlashes),
            Some("path-strip-dot") => plain(Normalizer::PathStripDot),
            Some("path-strip-dotdot") => Ok(Normalizer::PathStripDotdot {
                full: flag("full")?,
            }),
            Some("percent-decode-unreserved") => Ok(Normalizer::PercentDecodeUnreserved {
                strict: flag("strict")?,
            }),
            Some("percent-to-uppercase") => Ok(Normalizer::PercentToUppercase {
                strict: flag("strict")?,
            }),
            Some("query-sort-by-name") => plain(Normalizer::QuerySortByName),
            Some(o) => Err(format!("unknown normalizer '{o}'")),
            None => Err("missing argument <normalizer>".into()),
        }
    }

    /// The normalized request target, Ok(None) when nothing applies, Err(()) for an invalid
    /// URI in strict mode (the request gets a 400).
    pub fn apply(self, uri: &[u8]) -> Result<Option<Vec<u8>>, ()> {
        // request targets with no path ('*', authority form) are left alone
        let pq = crate::proxy::ctx::strip_authority(uri);
        if !pq.starts_with(b"/") {
            return Ok(None);
        }
        let prefix = &uri[..uri.len() - pq.len()];
        let q = pq.iter().position(|&c| c == b'?').unwrap_or(pq.len());
        let (path, query) = (&pq[..q], &pq[q..]);
        let rebuilt = |p: Vec<u8>, rest: &[u8]| {
            let mut v = Vec::with_capacity(prefix.len() + p.len() + rest.len());
            v.extend_from_slice(prefix);
            v.extend_from_slice(&p);
            v.extend_from_slice(rest);
            v
        };
        Ok(Some(match self {
            Normalizer::PathMergeSlashes => rebuilt(merge_slashes(path), query),
            Normalizer::PathStripDot => rebuilt(strip_dot(path), query),
            Normalizer::PathStripDotdot { full } => rebuilt(strip_dotdot(path, full), query),
            Normalizer::QuerySortByName => match query.strip_prefix(b"?") {
                Some(qs) => {
                    let mut sorted = b"?".to_vec();
                    sorted.extend_from_slice(&sort_query(qs));
                    rebuilt(path.to_vec(), &sorted)
                }
                None => return Ok(None),
            },
            Normalizer::PercentToUppercase { strict } => rebuilt(percent_upper(pq, strict)?, b""),
            Normalizer::PercentDecodeUnreserved { strict } => {
                rebuilt(percent_decode_unreserved(pq, strict)?, b"")
            }
            Normalizer::FragmentStrip => {
                let end = pq.iter().position(|&c| c == b'#').unwrap_or(pq.len());
                rebuilt(pq[..end].to_vec(), b"")
            }
            Normalizer::FragmentEncode => {
                let mut v = Vec::with_capacity(pq.len() + 8);
                for &c in pq {
                    if c == b'#' {
                        v.extend_from_slice(b"%23");
                    } else {
                        v.push(c);
                    }
                }
                rebuilt(v, b"")
            }
        }))
    }
}

fn merge_slashes(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len());
    for &c in path {
        if !(c == b'/' && out.last() == Some(&b'/')) {
            out.push(c);
        }
    }
    out
}

/// Drops `.` segments; a dropped segment takes its following slash with it.
fn strip_dot(path: &[u8]) -> Vec<u8> {
    let pieces: Vec<&[u8]> = path.split(|&c| c == b'/').collect();
    let mut out = Vec::with_capacity(path.len());
    for (i, seg) in pieces.iter().enumerate() {
        if *seg == b"." {
            continue;
        }
        out.extend_from_slice(seg);
        if i + 1 < pieces.len() {
            out.push(b'/');
        }
    }
    out
}

/// Merges `..` segments with the segment before them (empty segments included); the `..`
/// that have nothing left to remove stay at the start unless `full`.
fn strip_dotdot(path: &[u8], full: bool) -> Vec<u8> {
    let Some(rest) = path.strip_prefix(b"/") else {
        return path.to_vec();
    };
    let mut kept: Vec<&[u8]> = Vec::new();
    let mut unconsumed = 0usize;
    let segs: Vec<&[u8]> = rest.split(|&c| c == b'/').collect();
    let ends_with_dotdot = segs.last() == Some(&&b".."[..]);
    for seg in &segs {
        if *seg == b".." {
            if kept.pop().is_none() {
                unconsumed += 1;
            }
        } else {
            kept.push(seg);
        }
    }
    if ends_with_dotdot {
        // "/a/b/.." is "/a/": the last segment is a directory
        kept.push(b"");
    }
    let mut out = Vec::with_capacity(path.len());
    if !full {
        for _ in 0..unconsumed {
            out.extend_from_slice(b"/..");
        }
    }
    out.push(b'/');
    out.extend_from_slice(&kept.join(&b'/'));
    out
}

/// Sorts `&`-separated parameters by name (bytewise, a prefix first), keeping the order of
/// parameters of the same name.
fn sort_query(qs: &[u8]) -> Vec<u8> {
    let mut params: Vec<&[u8]> = qs.split(|&c| c == b'&').collect();
    params.sort_by_key(|p| {
        let n = p.iter().position(|&c| c == b'=').unwrap_or(p.len());
        &p[..n]
    });
    params.join(&b'&')
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Whether `s[i]` starts a valid `%XX` sequence.
fn percent_at(s: &[u8], i: usize) -> Option<(u8, u8)> {
    let (a, b) = (*s.get(i + 1)?, *s.get(i + 2)?);
    hex_val(a)?;
    hex_val(b)?;
    Some((a, b))
}

fn percent_upper(s: &[u8], strict: bool) -> Result<Vec<u8>, ()> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            match percent_at(s, i) {
                Some((a, b)) => {
                    out.extend_from_slice(&[b'%', a.to_ascii_uppercase(), b.to_ascii_uppercase()]);
                    i += 3;
                    continue;
                }
                None if strict => return Err(()),
                None => {}
            }
        }
        out.push(s[i]);
        i += 1;
    }
    Ok(out)
}

fn percent_decode_unreserved(s: &[u8], strict: bool) -> Result<Vec<u8>, ()> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            match percent_at(s, i) {
                Some((a, b)) => {
                    let c = (hex_val(a).unwrap_or(0) << 4) | hex_val(b).unwrap_or(0);
                    if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
                        out.push(c);
                    } else {
                        out.extend_from_slice(&[b'%', a, b]);
                    }
                    i += 3;
                    continue;
                }
                None if strict => return Err(()),
                None => {}
            }
        }
        out.push(s[i]);
        i += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(n: Normalizer, uri: &str) -> Result<String, ()> {
        Ok(match n.apply(uri.as_bytes())? {
            Some(v) => String::from_utf8(v).unwrap(),
            None => uri.to_string(),
        })
    }

    #[test]
    fn manual_examples() {
        use Normalizer::*;
        let table: &[(Normalizer, &str, &str)] = &[
            (FragmentEncode, "/#foo", "/%23foo"),
            (FragmentStrip, "/#foo", "/"),
            (PathStripDot, "/.", "/"),
            (PathStripDot, "/./bar/", "/bar/"),
            (PathStripDot, "/a/./a", "/a/a"),
            (PathStripDot, "/.well-known/", "/.well-known/"),
            (PathStripDotdot { full: false }, "/foo/../", "/"),
            (PathStripDotdot { full: false }, "/foo/../bar/", "/bar/"),
            (PathStripDotdot { full: false }, "/foo/bar/../", "/foo/"),
            (PathStripDotdot { full: false }, "/../bar/", "/../bar/"),
            (PathStripDotdot { full: false }, "/bar/../../", "/../"),
            (PathStripDotdot { full: false }, "/foo//../", "/foo/"),
            (
                PathStripDotdot { full: false },
                "/foo/%2E%2E/",
                "/foo/%2E%2E/",
            ),
            (PathStripDotdot { full: false }, "/foo/..", "/"),
            (PathStripDotdot { full: true }, "/../bar/", "/bar/"),
            (PathStripDotdot { full: true }, "/bar/../../", "/"),
            (PathMergeSlashes, "//", "/"),
            (PathMergeSlashes, "/foo//bar", "/foo/bar"),
            (PathMergeSlashes, "//foo?bar=///", "/foo?bar=///"),
            (
                PercentDecodeUnreserved { strict: false },
                "/%61dmin",
                "/admin",
            ),
            (
                PercentDecodeUnreserved { strict: false },
                "/foo%3Fbar=baz",
                "/foo%3Fbar=baz",
            ),
            (
                PercentDecodeUnreserved { strict: false },
                "/%%36%36",
                "/%66",
            ),
            (PercentDecodeUnreserved { strict: false }, "/%ZZ", "/%ZZ"),
            (PercentToUppercase { strict: false }, "/%6f", "/%6F"),
            (PercentToUppercase { strict: false }, "/%zz", "/%zz"),
            (QuerySortByName, "/?c=3&a=1&b=2", "/?a=1&b=2&c=3"),
            (QuerySortByName, "/?aaa=3&a=1&aa=2", "/?a=1&aa=2&aaa=3"),
            (
                QuerySortByName,
                "/?a=3&b=4&a=1&b=5&a=2",
                "/?a=3&a=1&a=2&b=4&b=5",
            ),
            (QuerySortByName, "/?", "/?"),
            (PathMergeSlashes, "*", "*"),
        ];
        for (n, from, to) in table {
            assert_eq!(run(*n, from).as_deref(), Ok(*to), "{n:?} {from}");
        }
        assert!(run(PercentDecodeUnreserved { strict: true }, "/%%36%36").is_err());
        assert!(run(PercentToUppercase { strict: true }, "/%zz").is_err());
    }

    #[test]
    fn arguments() {
        let a = |w: &[&str]| {
            Normalizer::from_args(&w.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(
            a(&["path-strip-dotdot", "full"]),
            Ok(Normalizer::PathStripDotdot { full: true })
        );
        assert!(a(&["path-strip-dotdot", "strict"]).is_err());
        assert!(a(&["nope"]).is_err());
        assert!(a(&[]).is_err());
    }
}

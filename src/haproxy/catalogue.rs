//! The keyword catalogue (grammar/haproxy-keywords.tsv): every keyword of the HAProxy 2.6
//! manual, where it is valid, and our status for it. The parser and `-c` consult it:
//! unknown keywords are errors (with "did you mean"), `parsed-warned` ones are accepted with a
//! "not implemented yet" warning, `rejected` ones are errors with haproxy's replacement text.

use std::collections::HashMap;
use std::sync::OnceLock;

const TSV: &str = include_str!("../../grammar/haproxy-keywords.tsv");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Implemented,
    ParsedWarned,
    Rejected,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub keyword: &'static str,
    pub kind: &'static str,
    pub sections: Vec<&'static str>,
    pub status: Status,
    pub note: &'static str,
}

struct Catalogue {
    entries: Vec<Entry>,
    by_kind: HashMap<(&'static str, &'static str), usize>,
}

fn catalogue() -> &'static Catalogue {
    static CAT: OnceLock<Catalogue> = OnceLock::new();
    CAT.get_or_init(|| {
        let mut entries = Vec::new();
        let mut by_kind = HashMap::new();
        for line in TSV.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let mut cols = line.split('\t');
            let (Some(keyword), Some(kind), Some(sections), Some(status)) =
                (cols.next(), cols.next(), cols.next(), cols.next())
            else {
                continue;
            };
            let note = cols.next().unwrap_or("");
            let status = match status {
                "implemented" => Status::Implemented,
                "rejected" => Status::Rejected,
                _ => Status::ParsedWarned,
            };
            by_kind.insert((kind, keyword), entries.len());
            entries.push(Entry {
                keyword,
                kind,
                sections: sections.split(',').collect(),
                status,
                note,
            });
        }
        Catalogue { entries, by_kind }
    })
}

/// The entry for `keyword` of `kind` (`global`, `proxy`, `option`, `bind`, `server`, `action`,
/// `fetch`, `converter`, `section`, or an other section's name).
pub fn lookup(kind: &str, keyword: &str) -> Option<&'static Entry> {
    let c = catalogue();
    c.by_kind.get(&(kind, keyword)).map(|&i| &c.entries[i])
}

/// All entries of a kind, in file order.
pub fn of_kind(kind: &str) -> impl Iterator<Item = &'static Entry> + '_ {
    catalogue().entries.iter().filter(move |e| e.kind == kind)
}

/// Every entry.
pub fn all() -> &'static [Entry] {
    &catalogue().entries
}

pub fn is_fetch(name: &str) -> bool {
    lookup("fetch", name).is_some() || is_dynamic_fetch(name)
}

/// Fetches with a numeric part (`sc0_*`, `sc1_*`, `sc2_*`, `src_*`...) or `51d.*`: accept
/// every tracked-counter index form the manual describes generically.
fn is_dynamic_fetch(name: &str) -> bool {
    for p in ["sc0_", "sc1_", "sc2_"] {
        if let Some(rest) = name.strip_prefix(p) {
            return lookup("fetch", &format!("sc_{rest}")).is_some();
        }
    }
    false
}

pub fn is_converter(name: &str) -> bool {
    lookup("converter", name).is_some()
}

/// HAProxy's "did you mean" scorer: compares letter-transition fingerprints of two words
/// (letters 1..26, digits 27, other 28, begin/end 28) and keeps the closest candidate, if
/// its distance is within twice the length of both words.
pub fn best_match<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let fw = fingerprint(word);
    let mut best: Option<(&str, u32)> = None;
    for c in candidates {
        let d = distance(&fw, &fingerprint(c));
        if best.map(|(_, bd)| d < bd).unwrap_or(true) {
            best = Some((c, d));
        }
    }
    let (b, d) = best?;
    if d as usize > 2 * word.len() || d as usize > 2 * b.len() {
        return None;
    }
    Some(b)
}

/// Sparse fingerprint: sorted (cell, count) pairs of haproxy's 1024-cell array.
fn fingerprint(word: &str) -> Vec<(u16, u8)> {
    let mut cells: Vec<(u16, u8)> = Vec::with_capacity(2 * word.len() + 1);
    let mut bump = |cell: usize, set: bool| {
        let cell = cell as u16;
        match cells.iter_mut().find(|(c, _)| *c == cell) {
            Some((_, n)) => *n = if set { 1 } else { n.wrapping_add(1) },
            None => cells.push((cell, 1)),
        }
    };
    let mut from = 28usize;
    for c in word.bytes() {
        let c = c.to_ascii_lowercase();
        let to = match c {
            b'a'..=b'z' => (c - b'a' + 1) as usize,
            b'0'..=b'9' => 27,
            _ => 28,
        };
        bump(to, true);
        bump(32 * from + to, false);
        from = to;
    }
    bump(32 * from + 28, false);
    cells.sort_unstable();
    cells
}

fn distance(a: &[(u16, u8)], b: &[(u16, u8)]) -> u32 {
    let (mut i, mut j, mut d) = (0, 0, 0u32);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x.0 == y.0 => {
                d += (x.1 as i32 - y.1 as i32).unsigned_abs();
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x.0 < y.0 => {
                d += x.1 as u32;
                i += 1;
            }
            (Some(_), Some(y)) => {
                d += y.1 as u32;
                j += 1;
            }
            (Some(x), None) => {
                d += x.1 as u32;
                i += 1;
            }
            (None, Some(y)) => {
                d += y.1 as u32;
                j += 1;
            }
            (None, None) => break,
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_loads_every_kind() {
        for kind in [
            "section",
            "global",
            "proxy",
            "option",
            "bind",
            "server",
            "action",
            "fetch",
            "converter",
        ] {
            assert!(of_kind(kind).count() > 0, "{kind}");
        }
        assert_eq!(
            lookup("global", "nbproc").map(|e| e.status),
            Some(Status::Rejected)
        );
        assert_eq!(
            lookup("proxy", "balance").map(|e| e.status),
            Some(Status::Implemented)
        );
        assert!(is_fetch("req.hdr") && is_fetch("hdr_beg") && is_fetch("sc0_http_req_rate"));
        assert!(is_converter("lower") && is_converter("map_str"));
    }

    #[test]
    fn suggestions_follow_haproxy() {
        assert_eq!(
            best_match("forwarded", ["forwardfor", "httplog", "tcplog"]),
            Some("forwardfor")
        );
        assert_eq!(best_match("foo", ["tfo", "ssl", "crt"]), Some("tfo"));
        assert_eq!(best_match("zzzzzzzzzz", ["a"]), None);
    }
}

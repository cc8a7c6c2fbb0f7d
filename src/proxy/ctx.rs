//! Borrowed, allocation-free views of one HTTP exchange, as the L7 decision logic sees it.
//!
//! The engine owns the parsed head ([`RequestHead`] / [`ResponseHead`]: zero-copy [`Bytes`]
//! slices of its read buffer) and the connection facts ([`ConnInfo`]). ACLs, sample fetches,
//! balance algorithms and rules read a [`RequestCtx`] (and for responses a [`ResponseCtx`]),
//! which only borrows: building one costs a few pointer copies and no allocation.
//!
//! Header rewriting (rules.rs) mutates a `RequestHead` / `ResponseHead` in place and builds a
//! fresh `RequestCtx` for every rule so later rules see earlier edits, as HAProxy does.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use bytes::Bytes;

/// One header field as received (name case preserved; value without surrounding blanks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HdrField {
    pub name: Bytes,
    pub value: Bytes,
}

impl HdrField {
    pub fn new(name: impl Into<Bytes>, value: impl Into<Bytes>) -> Self {
        HdrField {
            name: name.into(),
            value: value.into(),
        }
    }
    /// Whether this field's name equals `name`, ASCII case-insensitively.
    #[inline]
    pub fn is(&self, name: &[u8]) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

/// A parsed request head (start line + header fields). The engine owns it; rules edit it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHead {
    /// `GET`, `POST`, ... (as received).
    pub method: Bytes,
    /// The request target exactly as received (origin form `/p?q`, or absolute form).
    pub uri: Bytes,
    /// `HTTP/1.1`, `HTTP/1.0`.
    pub version: Bytes,
    pub headers: Vec<HdrField>,
    /// The payload received so far when the engine waited for it (`http-request
    /// wait-for-body`, `option http-buffer-request`), de-chunked; empty otherwise (`req.body`).
    pub body: Bytes,
}

/// A parsed response head. The engine owns it; http-response rules edit it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseHead {
    pub version: Bytes,
    pub status: u16,
    pub reason: Bytes,
    pub headers: Vec<HdrField>,
}

/// Facts about the client connection and where the stream is being routed.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// Client address (`src`, `src_port`).
    pub src: SocketAddr,
    /// Local address the client connected to (`dst`, `dst_port`).
    pub dst: SocketAddr,
    /// Whether the client connection is TLS (`ssl_fc`).
    pub ssl_fc: bool,
    /// The SNI the client sent, if any (`ssl_fc_sni`).
    pub ssl_sni: Option<Bytes>,
    /// The unique id TLV of the client's PROXY v2 header (`fc_pp_unique_id`).
    pub pp_unique_id: Option<Bytes>,
}

impl Default for ConnInfo {
    fn default() -> Self {
        let a = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
        ConnInfo {
            src: a,
            dst: a,
            ssl_fc: false,
            ssl_sni: None,
            pp_unique_id: None,
        }
    }
}

/// A typed sample value (what fetches return, converters transform, and set-var stores).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarValue {
    Bool(bool),
    Int(i64),
    Str(Bytes),
    Ip(IpAddr),
}

/// Per-stream variable store (`set-var(txn.x)`, `var(txn.x)`). Empty until first set: no
/// allocation for streams that never use variables. Names are stored without the scope prefix
/// being interpreted (`txn.x` and `req.x` are distinct names, as in HAProxy both live per stream).
#[derive(Debug, Clone, Default)]
pub struct Vars {
    entries: Vec<(Box<str>, VarValue)>,
    /// The method as received, kept when `set-method` changes it: HAProxy's `method` fetch
    /// keeps reporting the original method.
    orig_method: Option<Bytes>,
    /// Request capture slots (`http-request capture`), by slot index.
    captures: Vec<Option<Bytes>>,
    /// The connection as `set-src`/`set-dst` rules rewrote it (kept with the stream's other
    /// state; fetches and rules then see these addresses).
    conn: Option<Box<ConnInfo>>,
    /// Buffer room left for header rewrites of the request and of the response (computed at
    /// the first rewrite of the message; `tune.bufsize` / `tune.maxrewrite`).
    rewrite_room: [Option<usize>; 2],
}

impl Vars {
    pub fn new() -> Self {
        Vars {
            entries: Vec::new(),
            orig_method: None,
            captures: Vec::new(),
            conn: None,
            rewrite_room: [None, None],
        }
    }
    /// Remembers the received method before a rewrite (first call wins).
    pub fn remember_method(&mut self, m: Bytes) {
        if self.orig_method.is_none() {
            self.orig_method = Some(m);
        }
    }
    /// The received method if `set-method` changed it.
    pub fn orig_method(&self) -> Option<&Bytes> {
        self.orig_method.as_ref()
    }
    pub fn get(&self, name: &str) -> Option<&VarValue> {
        self.entries
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| v)
    }
    pub fn set(&mut self, name: &str, value: VarValue) {
        match self.entries.iter_mut().find(|(n, _)| &**n == name) {
            Some((_, v)) => *v = value,
            None => self.entries.push((name.into(), value)),
        }
    }
    pub fn unset(&mut self, name: &str) {
        self.entries.retain(|(n, _)| &**n != name);
    }
    pub fn clear(&mut self) {
        self.entries.clear();
        self.orig_method = None;
        self.captures.clear();
        self.conn = None;
        self.rewrite_room = [None, None];
    }
    /// Room left for rewrites of the request (`response` false) or the response.
    pub fn rewrite_room(&self, response: bool) -> Option<usize> {
        self.rewrite_room[response as usize]
    }
    pub fn set_rewrite_room(&mut self, response: bool, room: Option<usize>) {
        self.rewrite_room[response as usize] = room;
    }
    /// The connection facts as rewritten by `set-src`/`set-dst`, if any rule did.
    pub fn conn_override(&self) -> Option<&ConnInfo> {
        self.conn.as_deref()
    }
    /// Records rewritten connection facts (`set-src`, `set-dst`, ...).
    pub fn set_conn_override(&mut self, conn: ConnInfo) {
        self.conn = Some(Box::new(conn));
    }
    /// Stores a request capture in slot `slot`.
    pub fn set_capture(&mut self, slot: usize, value: Bytes) {
        if self.captures.len() <= slot {
            self.captures.resize(slot + 1, None);
        }
        self.captures[slot] = Some(value);
    }
    /// The request capture in slot `slot` (`capture.req.hdr(N)`).
    pub fn capture(&self, slot: usize) -> Option<&Bytes> {
        self.captures.get(slot)?.as_ref()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Read access to runtime state of other proxies, for fetches like `nbsrv(backend)`.
/// The engine implements it over its runtime backend table.
pub trait ProxyLookup: Sync {
    /// Number of usable (up, non-maint, weight>0 or backup) servers in `backend`, or None if
    /// no such backend exists.
    fn nbsrv(&self, backend: &str) -> Option<u32>;
}

/// Borrowed view of one request for ACLs, sample fetches, balance and rules. `Copy`: cheap to pass.
#[derive(Clone, Copy)]
pub struct RequestCtx<'a> {
    pub method: &'a [u8],
    pub uri: &'a [u8],
    pub version: &'a [u8],
    pub headers: &'a [HdrField],
    /// The buffered request payload (see [`RequestHead::body`]).
    pub body: &'a [u8],
    pub conn: &'a ConnInfo,
    /// Name of the frontend handling the stream.
    pub frontend: &'a str,
    /// Name of the backend chosen so far (equals the frontend name for a `listen`, or "" before
    /// `use_backend` resolution in a pure frontend).
    pub backend: &'a str,
    pub vars: &'a Vars,
    /// Runtime lookup for `nbsrv` and friends; None in contexts without one (tests).
    pub proxies: Option<&'a dyn ProxyLookup>,
}

impl<'a> RequestCtx<'a> {
    /// A view of `head` for a stream on `conn` through `frontend`/`backend`.
    pub fn new(
        head: &'a RequestHead,
        conn: &'a ConnInfo,
        frontend: &'a str,
        backend: &'a str,
        vars: &'a Vars,
    ) -> Self {
        RequestCtx {
            method: &head.method,
            uri: &head.uri,
            version: &head.version,
            headers: &head.headers,
            body: &head.body,
            conn,
            frontend,
            backend,
            vars,
            proxies: None,
        }
    }

    pub fn with_proxies(mut self, proxies: &'a dyn ProxyLookup) -> Self {
        self.proxies = Some(proxies);
        self
    }

    /// The path part of the URI (`/a/b` of `/a/b?x=1`; for an absolute URI `http://h/a?x` it is
    /// `/a`, as HAProxy's `path` fetch). Empty for `*`-less odd targets.
    pub fn path(&self) -> &'a [u8] {
        let p = strip_authority(self.uri);
        let end = p.iter().position(|&c| c == b'?').unwrap_or(p.len());
        &p[..end]
    }

    /// The query string without `?` (None when there is no `?`).
    pub fn query(&self) -> Option<&'a [u8]> {
        self.uri
            .iter()
            .position(|&c| c == b'?')
            .map(|i| &self.uri[i + 1..])
    }

    /// The path with its query (`/a/b?x=1`), authority stripped (`pathq` fetch).
    pub fn path_and_query(&self) -> &'a [u8] {
        strip_authority(self.uri)
    }

    /// First header named `name` (case-insensitive), whole value.
    #[inline]
    pub fn header(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.headers
            .iter()
            .find(|h| h.is(name))
            .map(|h| &h.value[..])
    }

    /// Every full-line value of header `name`, in order (`req.fhdr` semantics).
    pub fn header_lines<'n>(&self, name: &'n [u8]) -> impl Iterator<Item = &'a [u8]> + 'n
    where
        'a: 'n,
    {
        self.headers
            .iter()
            .filter(move |h| h.is(name))
            .map(|h| &h.value[..])
    }

    /// Every comma-separated value of header `name`, in order, trimmed (`req.hdr` semantics).
    pub fn header_values<'n>(&self, name: &'n [u8]) -> impl Iterator<Item = &'a [u8]> + 'n
    where
        'a: 'n,
    {
        self.header_lines(name).flat_map(split_comma_values)
    }

    /// `Host` header value, else the authority of an absolute URI.
    pub fn host(&self) -> Option<&'a [u8]> {
        self.header(b"host").or_else(|| authority(self.uri))
    }
}

/// Borrowed view of a response (for http-response rules and ACLs).
#[derive(Clone, Copy)]
pub struct ResponseCtx<'a> {
    pub status: u16,
    pub reason: &'a [u8],
    pub version: &'a [u8],
    pub headers: &'a [HdrField],
}

impl<'a> ResponseCtx<'a> {
    pub fn new(head: &'a ResponseHead) -> Self {
        ResponseCtx {
            status: head.status,
            reason: &head.reason,
            version: &head.version,
            headers: &head.headers,
        }
    }
    #[inline]
    pub fn header(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.headers
            .iter()
            .find(|h| h.is(name))
            .map(|h| &h.value[..])
    }
    pub fn header_lines<'n>(&self, name: &'n [u8]) -> impl Iterator<Item = &'a [u8]> + 'n
    where
        'a: 'n,
    {
        self.headers
            .iter()
            .filter(move |h| h.is(name))
            .map(|h| &h.value[..])
    }
}

/// Splits one header line into its comma-separated values, trimmed of blanks. Commas inside
/// double quotes do not split (as HAProxy's http_find_header).
pub fn split_comma_values(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(line);
    std::iter::from_fn(move || {
        let s = rest?;
        let mut in_q = false;
        let mut end = s.len();
        let mut i = 0;
        while i < s.len() {
            match s[i] {
                b'"' => in_q = !in_q,
                b'\\' if in_q => i += 1,
                b',' if !in_q => {
                    end = i;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        if end < s.len() {
            rest = Some(&s[end + 1..]);
        } else {
            rest = None;
        }
        Some(trim_blanks(&s[..end.min(s.len())]))
    })
}

/// Trims spaces and tabs on both ends.
pub fn trim_blanks(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', r @ ..] = s {
        s = r;
    }
    while let [r @ .., b' ' | b'\t'] = s {
        s = r;
    }
    s
}

/// For an absolute-form URI (`scheme://authority/path`), the part from the path on; otherwise
/// the URI itself.
pub fn strip_authority(uri: &[u8]) -> &[u8] {
    if uri.first() == Some(&b'/') {
        return uri;
    }
    if let Some(i) = uri.windows(3).position(|w| w == b"://") {
        let rest = &uri[i + 3..];
        let end = rest
            .iter()
            .position(|&c| c == b'/' || c == b'?')
            .unwrap_or(rest.len());
        return &rest[end..];
    }
    uri
}

/// The authority of an absolute-form URI.
pub fn authority(uri: &[u8]) -> Option<&[u8]> {
    if uri.first() == Some(&b'/') {
        return None;
    }
    let i = uri.windows(3).position(|w| w == b"://")?;
    let rest = &uri[i + 3..];
    let end = rest
        .iter()
        .position(|&c| c == b'/' || c == b'?')
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(uri: &str, hdrs: &[(&str, &str)]) -> RequestHead {
        RequestHead {
            method: Bytes::from_static(b"GET"),
            uri: Bytes::copy_from_slice(uri.as_bytes()),
            version: Bytes::from_static(b"HTTP/1.1"),
            headers: hdrs
                .iter()
                .map(|(n, v)| HdrField::new(n.as_bytes().to_vec(), v.as_bytes().to_vec()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn path_query_and_headers() {
        let h = head(
            "/a/b?x=1&y",
            &[("Host", "ex.com"), ("X-L", "a, b"), ("x-l", "\"c,d\"")],
        );
        let c = ConnInfo::default();
        let v = Vars::new();
        let r = RequestCtx::new(&h, &c, "fe", "be", &v);
        assert_eq!(r.path(), b"/a/b");
        assert_eq!(r.query(), Some(&b"x=1&y"[..]));
        assert_eq!(r.header(b"HOST"), Some(&b"ex.com"[..]));
        let vals: Vec<&[u8]> = r.header_values(b"x-l").collect();
        assert_eq!(vals, vec![&b"a"[..], b"b", b"\"c,d\""]);
        assert_eq!(r.header_lines(b"X-L").count(), 2);
    }

    #[test]
    fn absolute_uri() {
        let h = head("http://h.example:81/p/q?z", &[]);
        let c = ConnInfo::default();
        let v = Vars::new();
        let r = RequestCtx::new(&h, &c, "fe", "be", &v);
        assert_eq!(r.path(), b"/p/q");
        assert_eq!(r.path_and_query(), b"/p/q?z");
        assert_eq!(r.host(), Some(&b"h.example:81"[..]));
    }

    #[test]
    fn vars_set_get() {
        let mut v = Vars::new();
        assert!(v.get("txn.a").is_none());
        v.set("txn.a", VarValue::Int(3));
        v.set("txn.a", VarValue::Int(4));
        assert_eq!(v.get("txn.a"), Some(&VarValue::Int(4)));
        v.unset("txn.a");
        assert!(v.is_empty());
    }
}

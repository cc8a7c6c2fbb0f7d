//! HTTP/1.x message heads: parsing (httparse) into a reusable, editable [`Head`], body
//! framing, chunked-body tracking, and the error pages HAProxy sends.
//!
//! A [`Head`] owns a copy of the raw head bytes plus the spans of its start line and headers.
//! Edits append new bytes to that store and re-point spans, so a request costs no allocation
//! once the store has grown to its working size. Header names are written lower-cased, as
//! HAProxy 2.6 does on both sides.

use std::mem::MaybeUninit;

/// Most headers accepted in one message (HAProxy's `tune.http.maxhdr` default).
pub const MAX_HEADERS: usize = 101;

/// Byte range inside a [`Head`]'s store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    start: u32,
    end: u32,
}

impl Span {
    fn new(start: usize, end: usize) -> Span {
        Span { start: start as u32, end: end as u32 }
    }
    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// Why a message head was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("invalid HTTP message: {0}")]
    Invalid(&'static str),
    #[error("message head larger than the buffer")]
    TooLarge,
}

/// Outcome of feeding bytes to a head parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// The head is complete and used this many bytes of the input.
    Complete(usize),
    /// More bytes are needed.
    Partial,
}

/// How the body of a message is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    None,
    Length(u64),
    Chunked,
    /// Response body running until the server closes.
    UntilClose,
}

/// What the `Connection` header of a message asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnTokens {
    pub close: bool,
    pub keep_alive: bool,
    pub upgrade: bool,
}

/// One HTTP/1.x request or response head.
#[derive(Debug, Clone, Default)]
pub struct Head {
    store: Vec<u8>,
    /// Request: method, uri, version. Response: version, status, reason.
    line: [Span; 3],
    headers: Vec<(Span, Span)>,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    /// Response status (0 for requests).
    pub status: u16,
    is_response: bool,
}

fn offset(base: &[u8], part: &[u8]) -> usize {
    part.as_ptr() as usize - base.as_ptr() as usize
}

fn eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.eq_ignore_ascii_case(b)
}

impl Head {
    pub fn new() -> Head {
        Head { store: Vec::with_capacity(1024), headers: Vec::with_capacity(32), ..Head::default() }
    }

    /// Parses a request head at the start of `buf`.
    pub fn parse_request(&mut self, buf: &[u8]) -> Result<Parsed, HttpError> {
        let mut raw: [MaybeUninit<httparse::Header<'_>>; MAX_HEADERS] =
            [const { MaybeUninit::uninit() }; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut []);
        let status = req.parse_with_uninit_headers(buf, &mut raw).map_err(map_err)?;
        let len = match status {
            httparse::Status::Partial => return Ok(Parsed::Partial),
            httparse::Status::Complete(n) => n,
        };
        self.reset(buf, len);
        let method = req.method.unwrap_or("");
        let path = req.path.unwrap_or("");
        self.line[0] = Span::new(offset(buf, method.as_bytes()), offset(buf, method.as_bytes()) + method.len());
        self.line[1] = Span::new(offset(buf, path.as_bytes()), offset(buf, path.as_bytes()) + path.len());
        self.minor = req.version.unwrap_or(1);
        self.line[2] = Span::default();
        self.status = 0;
        self.is_response = false;
        for h in req.headers.iter() {
            let n = offset(buf, h.name.as_bytes());
            let v = offset(buf, h.value);
            self.headers.push((Span::new(n, n + h.name.len()), Span::new(v, v + h.value.len())));
        }
        Ok(Parsed::Complete(len))
    }

    /// Parses a response head at the start of `buf`.
    pub fn parse_response(&mut self, buf: &[u8]) -> Result<Parsed, HttpError> {
        let mut raw: [MaybeUninit<httparse::Header<'_>>; MAX_HEADERS] =
            [const { MaybeUninit::uninit() }; MAX_HEADERS];
        let mut headers_init = [httparse::EMPTY_HEADER; 0];
        let mut resp = httparse::Response::new(&mut headers_init);
        let status = httparse::ParserConfig::default()
            .allow_spaces_after_header_name_in_responses(true)
            .allow_obsolete_multiline_headers_in_responses(true)
            .parse_response_with_uninit_headers(&mut resp, buf, &mut raw)
            .map_err(map_err)?;
        let len = match status {
            httparse::Status::Partial => return Ok(Parsed::Partial),
            httparse::Status::Complete(n) => n,
        };
        self.reset(buf, len);
        self.minor = resp.version.unwrap_or(1);
        self.status = resp.code.unwrap_or(0);
        self.is_response = true;
        // Status and reason are re-rendered from `status` and this span.
        let reason = resp.reason.unwrap_or("");
        let r = offset(buf, reason.as_bytes());
        self.line[2] = Span::new(r, r + reason.len());
        for h in resp.headers.iter() {
            let n = offset(buf, h.name.as_bytes());
            let v = offset(buf, h.value);
            self.headers.push((Span::new(n, n + h.name.len()), Span::new(v, v + h.value.len())));
        }
        Ok(Parsed::Complete(len))
    }

    fn reset(&mut self, buf: &[u8], len: usize) {
        self.store.clear();
        self.store.extend_from_slice(&buf[..len]);
        self.headers.clear();
    }

    /// Builds a response head from scratch (for generated responses).
    pub fn response(status: u16, reason: &str) -> Head {
        let mut h = Head::new();
        h.is_response = true;
        h.minor = 1;
        h.status = status;
        h.line[2] = h.push_bytes(reason.as_bytes());
        h
    }

    fn push_bytes(&mut self, b: &[u8]) -> Span {
        let start = self.store.len();
        self.store.extend_from_slice(b);
        Span::new(start, self.store.len())
    }

    fn slice(&self, s: Span) -> &[u8] {
        self.store.get(s.range()).unwrap_or(&[])
    }

    pub fn is_response(&self) -> bool {
        self.is_response
    }
    pub fn method(&self) -> &[u8] {
        self.slice(self.line[0])
    }
    /// The request target as received (origin form `/p?q` or absolute form).
    pub fn uri(&self) -> &[u8] {
        self.slice(self.line[1])
    }
    /// The path part of the URI (without the query string); for absolute-form URIs, the path
    /// after the authority.
    pub fn path(&self) -> &[u8] {
        let uri = self.uri();
        let uri = strip_authority(uri);
        match uri.iter().position(|&c| c == b'?') {
            Some(q) => &uri[..q],
            None => uri,
        }
    }
    /// The query string after `?`, if any.
    pub fn query(&self) -> Option<&[u8]> {
        let uri = self.uri();
        uri.iter().position(|&c| c == b'?').map(|q| &uri[q + 1..])
    }
    pub fn reason(&self) -> &[u8] {
        self.slice(self.line[2])
    }

    pub fn set_method(&mut self, m: &[u8]) {
        self.line[0] = self.push_bytes(m);
    }
    pub fn set_uri(&mut self, u: &[u8]) {
        self.line[1] = self.push_bytes(u);
    }
    /// Replaces the path, keeping the query string.
    pub fn set_path(&mut self, p: &[u8]) {
        let mut uri = Vec::with_capacity(p.len() + 32);
        uri.extend_from_slice(p);
        if let Some(q) = self.query() {
            uri.push(b'?');
            uri.extend_from_slice(q);
        }
        self.set_uri(&uri);
    }
    /// Replaces the query string (`None` removes it); `q` excludes the `?`.
    pub fn set_query(&mut self, q: Option<&[u8]>) {
        let mut uri = self.path().to_vec();
        if let Some(q) = q {
            uri.push(b'?');
            uri.extend_from_slice(q);
        }
        self.set_uri(&uri);
    }
    pub fn set_status(&mut self, status: u16, reason: Option<&[u8]>) {
        self.status = status;
        let r = reason.unwrap_or_else(|| default_reason(status).as_bytes()).to_vec();
        self.line[2] = self.push_bytes(&r);
    }

    /// Number of header lines.
    pub fn header_count(&self) -> usize {
        self.headers.len()
    }
    /// Every header line as (name, value), in order.
    pub fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.headers.iter().map(move |(n, v)| (self.slice(*n), self.slice(*v)))
    }
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &[u8]) -> Option<&[u8]> {
        self.headers().find(|(n, _)| eq_ignore_case(n, name)).map(|(_, v)| v)
    }
    /// Every line of header `name`.
    pub fn header_all<'a>(&'a self, name: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers().filter(move |(n, _)| eq_ignore_case(n, name)).map(|(_, v)| v)
    }
    pub fn has_header(&self, name: &[u8]) -> bool {
        self.header(name).is_some()
    }
    /// Appends a header line.
    pub fn add_header(&mut self, name: &[u8], value: &[u8]) {
        let n = self.push_bytes(name);
        let v = self.push_bytes(value);
        self.headers.push((n, v));
    }
    /// Removes every line of header `name`; returns how many were removed.
    pub fn del_header(&mut self, name: &[u8]) -> usize {
        let before = self.headers.len();
        let store = &self.store;
        self.headers.retain(|(n, _)| !eq_ignore_case(store.get(n.range()).unwrap_or(&[]), name));
        before - self.headers.len()
    }
    /// Replaces every line of `name` by one line with `value`.
    pub fn set_header(&mut self, name: &[u8], value: &[u8]) {
        self.del_header(name);
        self.add_header(name, value);
    }
    /// Rewrites the value of the `i`-th header line.
    pub fn set_header_value_at(&mut self, i: usize, value: &[u8]) {
        if i < self.headers.len() {
            let v = self.push_bytes(value);
            self.headers[i].1 = v;
        }
    }
    /// Removes the `i`-th header line.
    pub fn remove_header_at(&mut self, i: usize) {
        if i < self.headers.len() {
            self.headers.remove(i);
        }
    }
    /// Header lines as (index, name, value), to drive `replace-header` style edits.
    pub fn header_at(&self, i: usize) -> Option<(&[u8], &[u8])> {
        self.headers.get(i).map(|(n, v)| (self.slice(*n), self.slice(*v)))
    }

    /// Tokens of every `Connection` header.
    pub fn connection_tokens(&self) -> ConnTokens {
        let mut t = ConnTokens::default();
        for v in self.header_all(b"connection") {
            for tok in v.split(|&c| c == b',') {
                let tok = trim(tok);
                if tok.eq_ignore_ascii_case(b"close") {
                    t.close = true;
                } else if tok.eq_ignore_ascii_case(b"keep-alive") {
                    t.keep_alive = true;
                } else if tok.eq_ignore_ascii_case(b"upgrade") {
                    t.upgrade = true;
                }
            }
        }
        t
    }

    /// Whether the sender of this message wants the connection kept open afterwards.
    pub fn wants_keep_alive(&self) -> bool {
        let t = self.connection_tokens();
        if self.minor == 0 {
            t.keep_alive && !t.close
        } else {
            !t.close
        }
    }

    /// Body framing of a request (RFC 7230 3.3.3).
    pub fn request_body(&self) -> Result<BodyKind, HttpError> {
        if let Some(te) = self.transfer_encoding_chunked()? {
            return if te { Ok(BodyKind::Chunked) } else { Err(HttpError::Invalid("transfer-encoding")) };
        }
        match self.content_length()? {
            Some(0) | None => Ok(BodyKind::None),
            Some(n) => Ok(BodyKind::Length(n)),
        }
    }

    /// Body framing of this response to a request with `method`.
    pub fn response_body(&self, request_method: &[u8]) -> Result<BodyKind, HttpError> {
        if request_method == b"HEAD" || (100..200).contains(&self.status) || self.status == 204 || self.status == 304 {
            return Ok(BodyKind::None);
        }
        if request_method == b"CONNECT" && (200..300).contains(&self.status) {
            return Ok(BodyKind::None);
        }
        if let Some(te) = self.transfer_encoding_chunked()? {
            return Ok(if te { BodyKind::Chunked } else { BodyKind::UntilClose });
        }
        match self.content_length()? {
            Some(0) => Ok(BodyKind::None),
            Some(n) => Ok(BodyKind::Length(n)),
            None => Ok(BodyKind::UntilClose),
        }
    }

    /// `Some(true)` if the last transfer coding is chunked, `Some(false)` for another coding,
    /// `None` without Transfer-Encoding.
    fn transfer_encoding_chunked(&self) -> Result<Option<bool>, HttpError> {
        let mut last: Option<bool> = None;
        for v in self.header_all(b"transfer-encoding") {
            for tok in v.split(|&c| c == b',') {
                let tok = trim(tok);
                if tok.is_empty() {
                    continue;
                }
                if last == Some(true) {
                    // chunked must be the last coding
                    return Err(HttpError::Invalid("transfer-encoding"));
                }
                last = Some(tok.eq_ignore_ascii_case(b"chunked"));
            }
        }
        Ok(last)
    }

    /// The Content-Length, refusing invalid or conflicting values.
    pub fn content_length(&self) -> Result<Option<u64>, HttpError> {
        let mut found: Option<u64> = None;
        for v in self.header_all(b"content-length") {
            for part in v.split(|&c| c == b',') {
                let n = parse_u64(trim(part)).ok_or(HttpError::Invalid("content-length"))?;
                if found.is_some_and(|f| f != n) {
                    return Err(HttpError::Invalid("content-length"));
                }
                found = Some(n);
            }
        }
        Ok(found)
    }

    /// Serializes this head (with lower-cased header names) into `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let version: &[u8] = if self.minor == 0 { b"HTTP/1.0" } else { b"HTTP/1.1" };
        if self.is_response {
            out.extend_from_slice(version);
            out.push(b' ');
            push_u16_3(out, self.status);
            out.push(b' ');
            out.extend_from_slice(self.reason());
        } else {
            out.extend_from_slice(self.method());
            out.push(b' ');
            out.extend_from_slice(self.uri());
            out.push(b' ');
            out.extend_from_slice(version);
        }
        out.extend_from_slice(b"\r\n");
        for (n, v) in self.headers.iter() {
            let name = self.slice(*n);
            let at = out.len();
            out.extend_from_slice(name);
            out[at..].make_ascii_lowercase();
            out.extend_from_slice(b": ");
            out.extend_from_slice(self.slice(*v));
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
    }
}

fn strip_authority(uri: &[u8]) -> &[u8] {
    if uri.first() == Some(&b'/') {
        return uri;
    }
    // absolute form: scheme://authority/path
    if let Some(p) = find(uri, b"://") {
        let rest = &uri[p + 3..];
        return match rest.iter().position(|&c| c == b'/' || c == b'?') {
            Some(i) => &rest[i..],
            None => b"",
        };
    }
    uri
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

pub fn trim(b: &[u8]) -> &[u8] {
    let s = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let e = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(s, |e| e + 1);
    &b[s..e.max(s)]
}

fn parse_u64(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 {
        return None;
    }
    let mut n: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(c - b'0');
    }
    Some(n)
}

fn push_u16_3(out: &mut Vec<u8>, n: u16) {
    let n = n.min(999);
    out.push(b'0' + (n / 100) as u8);
    out.push(b'0' + (n / 10 % 10) as u8);
    out.push(b'0' + (n % 10) as u8);
}

fn map_err(e: httparse::Error) -> HttpError {
    HttpError::Invalid(match e {
        httparse::Error::HeaderName => "header name",
        httparse::Error::HeaderValue => "header value",
        httparse::Error::NewLine => "new line",
        httparse::Error::Status => "status",
        httparse::Error::Token => "token",
        httparse::Error::TooManyHeaders => "too many headers",
        httparse::Error::Version => "version",
    })
}

/// Reason phrase HAProxy uses for a status it generates.
pub fn default_reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        410 => "Gone",
        413 => "Payload Too Large",
        421 => "Misdirected Request",
        425 => "Too Early",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Other",
    }
}

/// Incremental parser of a chunked body: tells how many bytes of a stream belong to the
/// message, so the proxy forwards them untouched and knows where the message ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChunkedTracker {
    state: ChunkState,
    size: u64,
    digits: u8,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum ChunkState {
    #[default]
    Size,
    Ext,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    /// Start of a trailer line (or of the final empty line).
    TrailerStart,
    Trailer,
    TrailerLf,
    LastLf,
    Done,
}

impl ChunkedTracker {
    pub fn is_done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Consumes bytes of `data`; returns how many belong to the message. When the message
    /// ends inside `data`, the count stops there and [`is_done`](Self::is_done) turns true.
    pub fn advance(&mut self, data: &[u8]) -> Result<usize, HttpError> {
        let mut i = 0;
        while i < data.len() {
            let c = data[i];
            match self.state {
                ChunkState::Size => match c {
                    b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                        let d = (c as char).to_digit(16).unwrap_or(0) as u64;
                        self.digits += 1;
                        if self.digits > 15 {
                            return Err(HttpError::Invalid("chunk size"));
                        }
                        self.size = self.size * 16 + d;
                    }
                    b';' | b' ' | b'\t' if self.digits > 0 => self.state = ChunkState::Ext,
                    b'\r' if self.digits > 0 => self.state = ChunkState::SizeLf,
                    b'\n' if self.digits > 0 => self.end_size_line(),
                    _ => return Err(HttpError::Invalid("chunk size")),
                },
                ChunkState::Ext => match c {
                    b'\r' => self.state = ChunkState::SizeLf,
                    b'\n' => self.end_size_line(),
                    _ => {}
                },
                ChunkState::SizeLf => {
                    if c != b'\n' {
                        return Err(HttpError::Invalid("chunk size"));
                    }
                    self.end_size_line();
                }
                ChunkState::Data => {
                    let avail = (data.len() - i) as u64;
                    let take = avail.min(self.size);
                    self.size -= take;
                    i += take as usize;
                    if self.size == 0 {
                        self.state = ChunkState::DataCr;
                    }
                    continue;
                }
                ChunkState::DataCr => match c {
                    b'\r' => self.state = ChunkState::DataLf,
                    b'\n' => self.next_chunk(),
                    _ => return Err(HttpError::Invalid("chunk data")),
                },
                ChunkState::DataLf => {
                    if c != b'\n' {
                        return Err(HttpError::Invalid("chunk data"));
                    }
                    self.next_chunk();
                }
                ChunkState::TrailerStart => match c {
                    b'\r' => self.state = ChunkState::LastLf,
                    b'\n' => {
                        self.state = ChunkState::Done;
                        return Ok(i + 1);
                    }
                    _ => self.state = ChunkState::Trailer,
                },
                ChunkState::Trailer => {
                    if c == b'\r' {
                        self.state = ChunkState::TrailerLf;
                    } else if c == b'\n' {
                        self.state = ChunkState::TrailerStart;
                    }
                }
                ChunkState::TrailerLf => {
                    if c != b'\n' {
                        return Err(HttpError::Invalid("chunk trailer"));
                    }
                    self.state = ChunkState::TrailerStart;
                }
                ChunkState::LastLf => {
                    if c != b'\n' {
                        return Err(HttpError::Invalid("chunk trailer"));
                    }
                    self.state = ChunkState::Done;
                    return Ok(i + 1);
                }
                ChunkState::Done => return Ok(i),
            }
            i += 1;
        }
        Ok(i)
    }

    fn end_size_line(&mut self) {
        self.state = if self.size == 0 { ChunkState::TrailerStart } else { ChunkState::Data };
        self.digits = 0;
    }
    fn next_chunk(&mut self) {
        self.state = ChunkState::Size;
        self.size = 0;
        self.digits = 0;
    }
}

/// Tracks the bytes of a message body left to forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyProgress {
    Done,
    Length(u64),
    Chunked(ChunkedTracker),
    UntilClose,
}

impl BodyProgress {
    pub fn start(kind: BodyKind) -> BodyProgress {
        match kind {
            BodyKind::None | BodyKind::Length(0) => BodyProgress::Done,
            BodyKind::Length(n) => BodyProgress::Length(n),
            BodyKind::Chunked => BodyProgress::Chunked(ChunkedTracker::default()),
            BodyKind::UntilClose => BodyProgress::UntilClose,
        }
    }
    pub fn is_done(&self) -> bool {
        matches!(self, BodyProgress::Done)
    }
    /// Consumes body bytes from the front of `data`; returns how many belong to the message.
    pub fn advance(&mut self, data: &[u8]) -> Result<usize, HttpError> {
        match self {
            BodyProgress::Done => Ok(0),
            BodyProgress::Length(left) => {
                let take = (*left).min(data.len() as u64);
                *left -= take;
                if *left == 0 {
                    *self = BodyProgress::Done;
                }
                Ok(take as usize)
            }
            BodyProgress::Chunked(t) => {
                let n = t.advance(data)?;
                if t.is_done() {
                    *self = BodyProgress::Done;
                }
                Ok(n)
            }
            BodyProgress::UntilClose => Ok(data.len()),
        }
    }
}

/// A canned error response, as HAProxy words it.
pub fn error_page(status: u16) -> &'static [u8] {
    match status {
        400 => ERR_400,
        401 => ERR_401,
        403 => ERR_403,
        404 => ERR_404,
        405 => ERR_405,
        408 => ERR_408,
        410 => ERR_410,
        413 => ERR_413,
        429 => ERR_429,
        500 => ERR_500,
        501 => ERR_501,
        502 => ERR_502,
        504 => ERR_504,
        _ => ERR_503,
    }
}

pub const ERR_400: &[u8] = b"HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n";
pub const ERR_401: &[u8] = b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n";
pub const ERR_403: &[u8] = b"HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n";
pub const ERR_404: &[u8] = b"HTTP/1.1 404 Not Found\r\ncontent-length: 83\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>404 Not Found</h1>\nThe resource could not be found.\n</body></html>\n";
pub const ERR_405: &[u8] = b"HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 146\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>405 Method Not Allowed</h1>\nA request was made of a resource using a request method not supported by that resource\n</body></html>\n";
pub const ERR_408: &[u8] = b"HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n";
pub const ERR_410: &[u8] = b"HTTP/1.1 410 Gone\r\ncontent-length: 114\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>410 Gone</h1>\nThe resource is no longer available and will not be available again.\n</body></html>\n";
pub const ERR_413: &[u8] = b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 106\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>413 Payload Too Large</h1>\nThe request entity exceeds the maximum allowed.\n</body></html>\n";
pub const ERR_429: &[u8] = b"HTTP/1.1 429 Too Many Requests\r\ncontent-length: 117\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given amount of time.\n</body></html>\n";
pub const ERR_500: &[u8] = b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 97\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>500 Internal Server Error</h1>\nAn internal server error occurred.\n</body></html>\n";
pub const ERR_501: &[u8] = b"HTTP/1.1 501 Not Implemented\r\ncontent-length: 136\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>501 Not Implemented</h1>\n.The server does not support the functionality required to fulfill the request.\n</body></html>\n";
pub const ERR_502: &[u8] = b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n";
pub const ERR_503: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n";
pub const ERR_504: &[u8] = b"HTTP/1.1 504 Gateway Time-out\r\ncontent-length: 92\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n";

#[cfg(test)]
mod tests {
    use super::*;

    fn req(raw: &str) -> Head {
        let mut h = Head::new();
        assert_eq!(h.parse_request(raw.as_bytes()).unwrap(), Parsed::Complete(raw.len()));
        h
    }

    #[test]
    fn parses_and_reserializes_a_request() {
        let h = req("GET /a/b?x=1 HTTP/1.1\r\nHost: example\r\nX-Foo:  bar \r\n\r\n");
        assert_eq!(h.method(), b"GET");
        assert_eq!(h.path(), b"/a/b");
        assert_eq!(h.query(), Some(&b"x=1"[..]));
        assert_eq!(h.header(b"x-foo"), Some(&b"bar"[..]));
        let mut out = Vec::new();
        h.write_to(&mut out);
        assert_eq!(out, b"GET /a/b?x=1 HTTP/1.1\r\nhost: example\r\nx-foo: bar\r\n\r\n");
    }

    #[test]
    fn partial_and_invalid_heads() {
        let mut h = Head::new();
        assert_eq!(h.parse_request(b"GET / HTTP/1.1\r\nHo").unwrap(), Parsed::Partial);
        assert!(h.parse_request(b"GET / HTTP/1.1\r\nBad Header\r\n\r\n").is_err());
        assert!(h.parse_request(b"\x00\x01\r\n\r\n").is_err());
    }

    #[test]
    fn edits_headers_uri_and_status() {
        let mut h = req("GET /p?q HTTP/1.0\r\nA: 1\r\nB: 2\r\na: 3\r\n\r\n");
        assert_eq!(h.del_header(b"a"), 2);
        h.add_header(b"X-Forwarded-For", b"10.0.0.1");
        h.set_path(b"/new");
        let mut out = Vec::new();
        h.write_to(&mut out);
        assert_eq!(out, b"GET /new?q HTTP/1.0\r\nb: 2\r\nx-forwarded-for: 10.0.0.1\r\n\r\n");
        h.set_query(None);
        assert_eq!(h.uri(), b"/new");

        let mut r = Head::new();
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        assert_eq!(r.parse_response(raw).unwrap(), Parsed::Complete(raw.len() - 5));
        assert_eq!(r.response_body(b"GET").unwrap(), BodyKind::Length(5));
        assert_eq!(r.response_body(b"HEAD").unwrap(), BodyKind::None);
        r.set_status(404, None);
        let mut out = Vec::new();
        r.write_to(&mut out);
        assert_eq!(out, b"HTTP/1.1 404 Not Found\r\ncontent-length: 5\r\n\r\n");
    }

    #[test]
    fn body_framing_table() {
        let cases: &[(&str, Result<BodyKind, ()>)] = &[
            ("GET / HTTP/1.1\r\n\r\n", Ok(BodyKind::None)),
            ("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n", Ok(BodyKind::Length(10))),
            ("POST / HTTP/1.1\r\nContent-Length: 10, 10\r\n\r\n", Ok(BodyKind::Length(10))),
            ("POST / HTTP/1.1\r\nContent-Length: 10\r\nContent-Length: 11\r\n\r\n", Err(())),
            ("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", Err(())),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", Ok(BodyKind::Chunked)),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", Ok(BodyKind::Chunked)),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", Err(())),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", Err(())),
        ];
        for (raw, want) in cases {
            let h = req(raw);
            assert_eq!(h.request_body().map_err(|_| ()), *want, "{raw}");
        }
    }

    #[test]
    fn chunked_tracker_finds_the_end() {
        let body = b"5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nTrailer: x\r\n\r\nNEXT";
        // byte by byte and all at once must agree
        let mut t = ChunkedTracker::default();
        assert_eq!(t.advance(body).unwrap(), body.len() - 4);
        assert!(t.is_done());
        let mut t = ChunkedTracker::default();
        let mut used = 0;
        for b in body.chunks(1) {
            used += t.advance(b).unwrap();
            if t.is_done() {
                break;
            }
        }
        assert_eq!(used, body.len() - 4);
        let mut t = ChunkedTracker::default();
        assert!(t.advance(b"zz\r\n").is_err());
    }

    #[test]
    fn keep_alive_rules() {
        assert!(req("GET / HTTP/1.1\r\n\r\n").wants_keep_alive());
        assert!(!req("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").wants_keep_alive());
        assert!(!req("GET / HTTP/1.0\r\n\r\n").wants_keep_alive());
        assert!(req("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").wants_keep_alive());
    }

    #[test]
    fn error_pages_have_matching_lengths() {
        for s in [400, 401, 403, 404, 405, 408, 410, 413, 429, 500, 501, 502, 503, 504] {
            let page = error_page(s);
            let mut h = Head::new();
            let Parsed::Complete(n) = h.parse_response(page).unwrap() else { panic!("partial {s}") };
            assert_eq!(h.status, s);
            assert_eq!(h.content_length().unwrap(), Some((page.len() - n) as u64), "{s}");
        }
    }
}

//! HTTP/1.x message heads: parsing (httparse) into the engine's [`RequestHead`] /
//! [`ResponseHead`] (zero-copy slices of the read buffer), body framing, chunked-body
//! tracking, serialization, and the error pages HAProxy sends.
//!
//! Header names are written lower-cased, as HAProxy 2.6 does on both sides.

use std::mem::MaybeUninit;

use bytes::{Bytes, BytesMut};

use super::ctx::{HdrField, RequestHead, ResponseHead};

/// Most headers accepted in one message (HAProxy's `tune.http.maxhdr` default).
pub const MAX_HEADERS: usize = 101;

/// Why a message head was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("invalid HTTP message: {0}")]
    Invalid(&'static str),
    #[error("message head larger than the buffer")]
    TooLarge,
    /// A request Transfer-Encoding other than `chunked` (HAProxy answers 422).
    #[error("unknown transfer-encoding")]
    UnknownCoding,
}

/// Outcome of feeding bytes to a head parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// The head is complete; it used this many bytes (now split off the buffer).
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

const HTTP10: &[u8] = b"HTTP/1.0";
const HTTP11: &[u8] = b"HTTP/1.1";

/// Reusable scratch space for parsing heads (one per connection side).
#[derive(Debug, Default)]
pub struct HeadParser {
    spans: Vec<[u32; 4]>,
}

/// Position of `part` inside `base` (httparse hands out sub-slices of the input). A slice
/// from elsewhere (an empty default) maps to 0; callers only slice non-empty parts.
fn offset(base: &[u8], part: &[u8]) -> u32 {
    let (b, p) = (base.as_ptr() as usize, part.as_ptr() as usize);
    if p >= b && p + part.len() <= b + base.len() {
        (p - b) as u32
    } else {
        0
    }
}

impl HeadParser {
    pub fn new() -> HeadParser {
        HeadParser { spans: Vec::new() }
    }

    /// Parses a request head at the start of `buf`. When complete, the head bytes are split
    /// off `buf` and `head` holds zero-copy slices of them.
    pub fn parse_request(
        &mut self,
        buf: &mut BytesMut,
        head: &mut RequestHead,
    ) -> Result<Parsed, HttpError> {
        let (len, line, minor) = {
            let data: &[u8] = &buf[..];
            let mut raw: [MaybeUninit<httparse::Header<'_>>; MAX_HEADERS] =
                [const { MaybeUninit::uninit() }; MAX_HEADERS];
            let mut req = httparse::Request::new(&mut []);
            // HAProxy accepts several spaces between the parts of the request line
            let mut cfg = httparse::ParserConfig::default();
            cfg.allow_multiple_spaces_in_request_line_delimiters(true);
            let len = match cfg
                .parse_request_with_uninit_headers(&mut req, data, &mut raw)
                .map_err(map_err)?
            {
                httparse::Status::Partial => return Ok(Parsed::Partial),
                httparse::Status::Complete(n) => n,
            };
            let m = req.method.unwrap_or("").as_bytes();
            let u = req.path.unwrap_or("").as_bytes();
            let line = [
                offset(data, m),
                m.len() as u32,
                offset(data, u),
                u.len() as u32,
            ];
            self.collect(data, req.headers);
            (len, line, req.version.unwrap_or(1))
        };
        let bytes = buf.split_to(len).freeze();
        head.method = slice(&bytes, line[0], line[1]);
        head.uri = slice(&bytes, line[2], line[3]);
        head.version = Bytes::from_static(if minor == 0 { HTTP10 } else { HTTP11 });
        self.fill(&bytes, &mut head.headers);
        Ok(Parsed::Complete(len))
    }

    /// Parses a response head at the start of `buf` (same contract as `parse_request`).
    pub fn parse_response(
        &mut self,
        buf: &mut BytesMut,
        head: &mut ResponseHead,
    ) -> Result<Parsed, HttpError> {
        let (len, reason, minor, status) = {
            let data: &[u8] = &buf[..];
            let mut raw: [MaybeUninit<httparse::Header<'_>>; MAX_HEADERS] =
                [const { MaybeUninit::uninit() }; MAX_HEADERS];
            let mut resp = httparse::Response::new(&mut []);
            let st = httparse::ParserConfig::default()
                .allow_spaces_after_header_name_in_responses(true)
                .allow_obsolete_multiline_headers_in_responses(true)
                .parse_response_with_uninit_headers(&mut resp, data, &mut raw)
                .map_err(map_err)?;
            let len = match st {
                httparse::Status::Partial => return Ok(Parsed::Partial),
                httparse::Status::Complete(n) => n,
            };
            let r = resp.reason.unwrap_or("").as_bytes();
            let reason = [offset(data, r), r.len() as u32];
            self.collect(data, resp.headers);
            (
                len,
                reason,
                resp.version.unwrap_or(1),
                resp.code.unwrap_or(0),
            )
        };
        let bytes = buf.split_to(len).freeze();
        head.version = Bytes::from_static(if minor == 0 { HTTP10 } else { HTTP11 });
        head.status = status;
        head.reason = slice(&bytes, reason[0], reason[1]);
        self.fill(&bytes, &mut head.headers);
        Ok(Parsed::Complete(len))
    }

    /// Frees the scratch space (idle connections).
    pub fn release(&mut self) {
        if self.spans.capacity() != 0 {
            self.spans = Vec::new();
        }
    }

    fn collect(&mut self, data: &[u8], headers: &[httparse::Header<'_>]) {
        self.spans.clear();
        self.spans.reserve(headers.len());
        for h in headers {
            let n = h.name.as_bytes();
            self.spans.push([
                offset(data, n),
                n.len() as u32,
                offset(data, h.value),
                h.value.len() as u32,
            ]);
        }
    }

    fn fill(&self, bytes: &Bytes, out: &mut Vec<HdrField>) {
        out.clear();
        // room for the headers plus a few added by rules (forwardfor, connection)
        out.reserve(self.spans.len() + 4);
        for s in &self.spans {
            out.push(HdrField {
                name: slice(bytes, s[0], s[1]),
                value: slice(bytes, s[2], s[3]),
            });
        }
    }
}

fn slice(b: &Bytes, start: u32, len: u32) -> Bytes {
    if len == 0 {
        return Bytes::new();
    }
    b.slice(start as usize..(start + len) as usize)
}

/// 0 for HTTP/1.0, 1 otherwise.
pub fn minor(version: &[u8]) -> u8 {
    u8::from(version != HTTP10)
}

/// The first value of header `name` (case-insensitive).
pub fn header<'a>(headers: &'a [HdrField], name: &[u8]) -> Option<&'a [u8]> {
    headers.iter().find(|h| h.is(name)).map(|h| &h.value[..])
}

fn header_all<'a>(headers: &'a [HdrField], name: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    headers
        .iter()
        .filter(move |h| h.is(name))
        .map(|h| &h.value[..])
}

/// Removes every line of header `name`; returns how many were removed.
pub fn del_header(headers: &mut Vec<HdrField>, name: &[u8]) -> usize {
    let before = headers.len();
    headers.retain(|h| !h.is(name));
    before - headers.len()
}

/// Appends a header line.
pub fn add_header(headers: &mut Vec<HdrField>, name: &'static [u8], value: Bytes) {
    headers.push(HdrField {
        name: Bytes::from_static(name),
        value,
    });
}

/// Tokens of every `Connection` header.
pub fn connection_tokens(headers: &[HdrField]) -> ConnTokens {
    let mut t = ConnTokens::default();
    for v in header_all(headers, b"connection") {
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

/// Whether the sender of a message wants the connection kept open afterwards.
pub fn wants_keep_alive(version: &[u8], headers: &[HdrField]) -> bool {
    let t = connection_tokens(headers);
    if minor(version) == 0 {
        t.keep_alive && !t.close
    } else {
        !t.close
    }
}

/// Body framing of a request (RFC 7230 3.3.3), judged as HAProxy's H1 parser does: a
/// Transfer-Encoding whose last coding is not `chunked`, or with `chunked` twice, is a bad
/// request (400); a valid one with another coding before `chunked` is refused with
/// [`HttpError::UnknownCoding`] (422).
pub fn request_body(headers: &[HdrField]) -> Result<BodyKind, HttpError> {
    if transfer_encoding(headers, false)? {
        return Ok(BodyKind::Chunked);
    }
    match content_length(headers)? {
        Some(0) | None => Ok(BodyKind::None),
        Some(n) => Ok(BodyKind::Length(n)),
    }
}

/// Body framing of a response with `status` to a request with `request_method`.
/// A Transfer-Encoding other than a single `chunked` is invalid (HAProxy answers 502).
pub fn response_body(
    status: u16,
    headers: &[HdrField],
    request_method: &[u8],
) -> Result<BodyKind, HttpError> {
    if request_method == b"HEAD" || (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(BodyKind::None);
    }
    if request_method == b"CONNECT" && (200..300).contains(&status) {
        return Ok(BodyKind::None);
    }
    if transfer_encoding(headers, true)? {
        return Ok(BodyKind::Chunked);
    }
    match content_length(headers)? {
        Some(0) => Ok(BodyKind::None),
        Some(n) => Ok(BodyKind::Length(n)),
        None => Ok(BodyKind::UntilClose),
    }
}

/// Whether the message carries a Transfer-Encoding header at all.
pub fn has_transfer_encoding(headers: &[HdrField]) -> bool {
    headers.iter().any(|h| h.is(b"transfer-encoding"))
}

/// `true` when the message is chunked, `false` without Transfer-Encoding; an error for a
/// coding HAProxy refuses: `chunked` applied twice, a request coding after `chunked` or not
/// ending with it (invalid), any coding other than `chunked` (unknown coding).
fn transfer_encoding(headers: &[HdrField], response: bool) -> Result<bool, HttpError> {
    let (mut present, mut seen_chunked, mut last_chunked, mut other) = (false, false, false, false);
    for v in header_all(headers, b"transfer-encoding") {
        for tok in v.split(|&c| c == b',') {
            let tok = trim(tok);
            if tok.is_empty() {
                continue;
            }
            present = true;
            if tok.eq_ignore_ascii_case(b"chunked") {
                if seen_chunked {
                    return Err(HttpError::Invalid("transfer-encoding"));
                }
                seen_chunked = true;
                last_chunked = true;
            } else {
                if !response && seen_chunked {
                    return Err(HttpError::Invalid("transfer-encoding"));
                }
                last_chunked = false;
                other = true;
            }
        }
    }
    if !present {
        return Ok(false);
    }
    if !response && !last_chunked {
        return Err(HttpError::Invalid("transfer-encoding"));
    }
    if other {
        return Err(if response {
            HttpError::Invalid("transfer-encoding")
        } else {
            HttpError::UnknownCoding
        });
    }
    Ok(true)
}

/// The `TE` request header as HAProxy forwards it: only `trailers` survives (when it is a
/// token of its own, without parameters); otherwise the header is dropped.
pub fn sanitize_te(headers: &mut Vec<HdrField>) {
    let Some(i) = headers.iter().position(|h| h.is(b"te")) else {
        return;
    };
    let keep = {
        let v = &headers[i].value[..];
        v.windows(8)
            .position(|w| w == b"trailers")
            .is_some_and(|p| v.get(p + 8).map_or(true, |&c| c == b','))
    };
    del_header(headers, b"te");
    if keep {
        add_header(headers, b"te", Bytes::from_static(b"trailers"));
    }
}

/// The Content-Length, refusing invalid or conflicting values.
pub fn content_length(headers: &[HdrField]) -> Result<Option<u64>, HttpError> {
    let mut found: Option<u64> = None;
    for v in header_all(headers, b"content-length") {
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

fn write_headers(headers: &[HdrField], out: &mut Vec<u8>) {
    for h in headers {
        let at = out.len();
        out.extend_from_slice(&h.name);
        out[at..].make_ascii_lowercase();
        out.extend_from_slice(b": ");
        out.extend_from_slice(&h.value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Serializes a request head (lower-cased header names, as HAProxy) into `out`.
pub fn write_request(head: &RequestHead, out: &mut Vec<u8>) {
    out.extend_from_slice(&head.method);
    out.push(b' ');
    out.extend_from_slice(&head.uri);
    out.push(b' ');
    out.extend_from_slice(if minor(&head.version) == 0 {
        HTTP10
    } else {
        HTTP11
    });
    out.extend_from_slice(b"\r\n");
    write_headers(&head.headers, out);
}

/// Serializes a response head (lower-cased header names, as HAProxy) into `out`.
pub fn write_response(head: &ResponseHead, out: &mut Vec<u8>) {
    out.extend_from_slice(if minor(&head.version) == 0 {
        HTTP10
    } else {
        HTTP11
    });
    out.push(b' ');
    push_u16_3(out, head.status);
    out.push(b' ');
    out.extend_from_slice(&head.reason);
    out.extend_from_slice(b"\r\n");
    write_headers(&head.headers, out);
}

pub fn trim(b: &[u8]) -> &[u8] {
    let s = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let e = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(s, |e| e + 1);
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
        self.state = if self.size == 0 {
            ChunkState::TrailerStart
        } else {
            ChunkState::Data
        };
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
        422 => ERR_422,
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
pub const ERR_422: &[u8] = b"HTTP/1.1 422 Unprocessable Content\r\nContent-length: 116\r\nCache-Control: no-cache\r\nContent-Type: text/html\r\n\r\n<html><body><h1>422 Unprocessable Content</h1>\nThe server cannot process the contained instructions.\n</body></html>\n";
pub const ERR_429: &[u8] = b"HTTP/1.1 429 Too Many Requests\r\ncontent-length: 117\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given amount of time.\n</body></html>\n";
pub const ERR_500: &[u8] = b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 97\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>500 Internal Server Error</h1>\nAn internal server error occurred.\n</body></html>\n";
pub const ERR_501: &[u8] = b"HTTP/1.1 501 Not Implemented\r\ncontent-length: 136\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>501 Not Implemented</h1>\n.The server does not support the functionality required to fulfill the request.\n</body></html>\n";
pub const ERR_502: &[u8] = b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n";
pub const ERR_503: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n";
pub const ERR_504: &[u8] = b"HTTP/1.1 504 Gateway Time-out\r\ncontent-length: 92\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n";

#[cfg(test)]
mod tests {
    use super::*;

    fn req(raw: &str) -> RequestHead {
        let mut h = RequestHead::default();
        let mut buf = BytesMut::from(raw.as_bytes());
        let mut p = HeadParser::new();
        assert_eq!(
            p.parse_request(&mut buf, &mut h).unwrap(),
            Parsed::Complete(raw.len())
        );
        assert!(buf.is_empty());
        h
    }

    #[test]
    fn parses_and_reserializes_a_request() {
        let h = req("GET /a/b?x=1 HTTP/1.1\r\nHost: example\r\nX-Foo:  bar \r\n\r\n");
        assert_eq!(&h.method[..], b"GET");
        assert_eq!(&h.uri[..], b"/a/b?x=1");
        assert_eq!(header(&h.headers, b"x-foo"), Some(&b"bar"[..]));
        let mut out = Vec::new();
        write_request(&h, &mut out);
        assert_eq!(
            out,
            b"GET /a/b?x=1 HTTP/1.1\r\nhost: example\r\nx-foo: bar\r\n\r\n"
        );
    }

    #[test]
    fn partial_and_invalid_heads() {
        let mut h = RequestHead::default();
        let mut p = HeadParser::new();
        let mut b = BytesMut::from(&b"GET / HTTP/1.1\r\nHo"[..]);
        assert_eq!(p.parse_request(&mut b, &mut h).unwrap(), Parsed::Partial);
        assert_eq!(b.len(), 18);
        let mut b = BytesMut::from(&b"GET / HTTP/1.1\r\nBad Header\r\n\r\n"[..]);
        assert!(p.parse_request(&mut b, &mut h).is_err());
        let mut b = BytesMut::from(&b"\x00\x01\r\n\r\n"[..]);
        assert!(p.parse_request(&mut b, &mut h).is_err());
    }

    #[test]
    fn pipelined_requests_leave_the_rest_in_the_buffer() {
        let mut h = RequestHead::default();
        let mut p = HeadParser::new();
        let mut b = BytesMut::from(&b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.0\r\nA: b\r\n\r\n"[..]);
        assert_eq!(
            p.parse_request(&mut b, &mut h).unwrap(),
            Parsed::Complete(19)
        );
        assert_eq!(&h.uri[..], b"/1");
        assert_eq!(
            p.parse_request(&mut b, &mut h).unwrap(),
            Parsed::Complete(25)
        );
        assert_eq!(&h.uri[..], b"/2");
        assert_eq!(minor(&h.version), 0);
        assert_eq!(h.headers.len(), 1);
    }

    #[test]
    fn edits_and_response_framing() {
        let mut h = req("GET /p?q HTTP/1.0\r\nA: 1\r\nB: 2\r\na: 3\r\n\r\n");
        assert_eq!(del_header(&mut h.headers, b"a"), 2);
        add_header(
            &mut h.headers,
            b"X-Forwarded-For",
            Bytes::from_static(b"10.0.0.1"),
        );
        let mut out = Vec::new();
        write_request(&h, &mut out);
        assert_eq!(
            out,
            b"GET /p?q HTTP/1.0\r\nb: 2\r\nx-forwarded-for: 10.0.0.1\r\n\r\n"
        );

        let mut r = ResponseHead::default();
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        let mut b = BytesMut::from(&raw[..]);
        let mut p = HeadParser::new();
        assert_eq!(
            p.parse_response(&mut b, &mut r).unwrap(),
            Parsed::Complete(raw.len() - 5)
        );
        assert_eq!(&b[..], b"hello");
        assert_eq!(
            response_body(r.status, &r.headers, b"GET").unwrap(),
            BodyKind::Length(5)
        );
        assert_eq!(
            response_body(r.status, &r.headers, b"HEAD").unwrap(),
            BodyKind::None
        );
        r.status = 404;
        r.reason = Bytes::from_static(crate::proxy::rules::reason_phrase(404).as_bytes());
        let mut out = Vec::new();
        write_response(&r, &mut out);
        assert_eq!(out, b"HTTP/1.1 404 Not Found\r\ncontent-length: 5\r\n\r\n");
    }

    #[test]
    fn body_framing_table() {
        let cases: &[(&str, Result<BodyKind, ()>)] = &[
            ("GET / HTTP/1.1\r\n\r\n", Ok(BodyKind::None)),
            (
                "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n",
                Ok(BodyKind::Length(10)),
            ),
            (
                "POST / HTTP/1.1\r\nContent-Length: 10, 10\r\n\r\n",
                Ok(BodyKind::Length(10)),
            ),
            (
                "POST / HTTP/1.1\r\nContent-Length: 10\r\nContent-Length: 11\r\n\r\n",
                Err(()),
            ),
            ("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", Err(())),
            (
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                Ok(BodyKind::Chunked),
            ),
            (
                "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                Err(()), // HAProxy: 422, no coding but chunked is forwarded
            ),
            (
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
                Err(()),
            ),
            (
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                Err(()),
            ),
            (
                "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
                Err(()),
            ),
        ];
        for (raw, want) in cases {
            let h = req(raw);
            assert_eq!(request_body(&h.headers).map_err(|_| ()), *want, "{raw}");
        }
    }

    #[test]
    fn chunked_tracker_finds_the_end() {
        let body = b"5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nTrailer: x\r\n\r\nNEXT";
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
    fn transfer_encoding_as_haproxy() {
        let te = |v: &str| {
            vec![HdrField::new(
                b"Transfer-Encoding".to_vec(),
                v.as_bytes().to_vec(),
            )]
        };
        assert_eq!(request_body(&te("chunked")), Ok(BodyKind::Chunked));
        assert_eq!(
            request_body(&te("gzip, chunked")),
            Err(HttpError::UnknownCoding)
        );
        for bad in ["chunked, chunked", "chunked, gzip", "gzip"] {
            assert_eq!(
                request_body(&te(bad)),
                Err(HttpError::Invalid("transfer-encoding")),
                "{bad}"
            );
        }
        assert_eq!(
            response_body(200, &te("chunked"), b"GET"),
            Ok(BodyKind::Chunked)
        );
        for bad in ["gzip", "chunked, gzip", "gzip, chunked", "chunked, chunked"] {
            assert!(response_body(200, &te(bad), b"GET").is_err(), "{bad}");
        }
        // bodyless responses ignore the header
        assert_eq!(response_body(204, &te("gzip"), b"GET"), Ok(BodyKind::None));
    }

    #[test]
    fn te_header_keeps_only_trailers() {
        let run = |v: &str| {
            let mut h = vec![HdrField::new(b"TE".to_vec(), v.as_bytes().to_vec())];
            sanitize_te(&mut h);
            header(&h, b"te").map(|v| String::from_utf8_lossy(v).into_owned())
        };
        assert_eq!(run("trailers"), Some("trailers".into()));
        assert_eq!(run("trailers, gzip"), Some("trailers".into()));
        assert_eq!(run("gzip, trailers"), Some("trailers".into()));
        assert_eq!(run("gzip"), None);
        assert_eq!(run("trailers;q=0.5"), None);
    }

    #[test]
    fn keep_alive_rules() {
        let ka = |raw: &str| {
            let h = req(raw);
            wants_keep_alive(&h.version, &h.headers)
        };
        assert!(ka("GET / HTTP/1.1\r\n\r\n"));
        assert!(!ka("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
        assert!(!ka("GET / HTTP/1.0\r\n\r\n"));
        assert!(ka("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
    }

    #[test]
    fn error_pages_have_matching_lengths() {
        for s in [
            400, 401, 403, 404, 405, 408, 410, 413, 422, 429, 500, 501, 502, 503, 504,
        ] {
            let page = error_page(s);
            let mut h = ResponseHead::default();
            let mut b = BytesMut::from(page);
            let Parsed::Complete(_) = HeadParser::new().parse_response(&mut b, &mut h).unwrap()
            else {
                panic!("partial {s}")
            };
            assert_eq!(h.status, s);
            assert_eq!(
                content_length(&h.headers).unwrap(),
                Some(b.len() as u64),
                "{s}"
            );
        }
    }

    proptest::proptest! {
        /// Arbitrary bytes never panic the parsers or the chunk tracker.
        #[test]
        fn arbitrary_input_never_panics(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let mut p = HeadParser::new();
            let mut buf = BytesMut::from(&data[..]);
            let mut req = RequestHead::default();
            let _ = p.parse_request(&mut buf, &mut req);
            let mut buf = BytesMut::from(&data[..]);
            let mut res = ResponseHead::default();
            if p.parse_response(&mut buf, &mut res).is_ok() {
                let _ = response_body(res.status, &res.headers, b"GET");
            }
            let mut t = ChunkedTracker::default();
            let _ = t.advance(&data);
        }

        /// A chunked body is delimited the same way whatever the read boundaries.
        #[test]
        fn chunked_split_invariance(sizes in proptest::collection::vec(1usize..40, 0..6), cut in 1usize..64) {
            let mut body = Vec::new();
            for n in &sizes {
                body.extend_from_slice(format!("{n:x}\r\n").as_bytes());
                body.extend(std::iter::repeat(b'x').take(*n));
                body.extend_from_slice(b"\r\n");
            }
            body.extend_from_slice(b"0\r\n\r\nTAIL");
            let mut t = ChunkedTracker::default();
            let mut used = 0;
            for piece in body.chunks(cut) {
                used += t.advance(piece).unwrap();
                if t.is_done() {
                    break;
                }
            }
            proptest::prop_assert!(t.is_done());
            proptest::prop_assert_eq!(used, body.len() - 4);
        }
    }
}

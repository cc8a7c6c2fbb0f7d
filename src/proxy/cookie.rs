//! Cookie-based persistence: `cookie NAME [rewrite|insert|prefix] [indirect] [nocache]
//! [postonly] [preserve] [httponly] [secure] [domain D]* [maxidle T] [maxlife T] [attr A]*`
//! with each server's `cookie VALUE`.
//!
//! Request side ([`CookiePersist::on_request`]): finds the persistence cookie, picks the server
//! it names (if that server is up, or `option persist`), strips the `SRV~` prefix (prefix mode)
//! or removes the cookie (insert + indirect), checks `maxidle`/`maxlife` dates.
//! Response side ([`CookiePersist::on_response`]): removes/rewrites/prefixes the server's own
//! cookie, inserts `Set-Cookie` when the client did not already come with a valid cookie for
//! this server (or its dates need refreshing), adds `Cache-control: private` with `nocache` on
//! cacheable responses. Behaviour follows HAProxy 2.6.

use bytes::Bytes;

use crate::haproxy::ir;
use crate::proxy::ctx::{trim_blanks, HdrField, RequestHead, ResponseHead};
use crate::proxy::server_state::ServerSet;

/// Persistence cookie mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieMode {
    Insert,
    Rewrite,
    Prefix,
    /// No mode: the application sets the cookie itself; we only read it.
    Passive,
}

/// What the request told us (HAProxy's TX_CK_* log flag in `%CC`-style logs: N,I,D,V,E,O,U).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CookieStatus {
    /// No persistence cookie.
    #[default]
    None,
    /// Names no known server.
    Invalid,
    /// Names a server that is down.
    Down,
    /// Valid: the request goes to the named server.
    Valid,
    /// Too old for `maxidle`.
    Expired,
    /// Too old for `maxlife`.
    Old,
    /// Present but ignored (server already assigned).
    Unused,
}

impl CookieStatus {
    /// HAProxy's log letter for the client cookie state.
    pub fn log_char(self) -> char {
        match self {
            CookieStatus::None => 'N',
            CookieStatus::Invalid => 'I',
            CookieStatus::Down => 'D',
            CookieStatus::Valid => 'V',
            CookieStatus::Expired => 'E',
            CookieStatus::Old => 'O',
            CookieStatus::Unused => 'U',
        }
    }
}

/// Per-transaction persistence state, produced by the request side, used by the response side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CookieTxn {
    /// The server the cookie designates (use it instead of load balancing).
    pub server: Option<usize>,
    pub status: CookieStatus,
    /// Dates carried by the cookie (seconds, 4 s granularity), 0 if none.
    pub last_date: u32,
    pub first_date: u32,
}

/// A backend's compiled `cookie` settings plus its servers' cookie values.
#[derive(Debug, Clone)]
pub struct CookiePersist {
    pub name: Bytes,
    pub mode: CookieMode,
    pub indirect: bool,
    pub nocache: bool,
    pub postonly: bool,
    pub preserve: bool,
    pub httponly: bool,
    pub secure: bool,
    /// `; domain=a; domain=b` as HAProxy joins several `domain` options.
    pub domain: Option<String>,
    pub maxidle: u32,
    pub maxlife: u32,
    pub attrs: Option<String>,
    /// Server cookie values, by server index.
    pub servers: Vec<Option<Bytes>>,
}

const DELIM: u8 = b'~';
const DELIM_DATE: u8 = b'|';
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// 30-bit value → 5 base64 chars (HAProxy's cookie date encoding).
fn s30_to_b64(v: u32) -> [u8; 5] {
    let mut out = [0u8; 5];
    let mut x = v;
    for o in out.iter_mut() {
        *o = B64[((x >> 24) & 0x3f) as usize];
        x <<= 6;
    }
    out
}

fn b64_to_s30(s: &[u8]) -> Option<u32> {
    if s.len() < 5 {
        return None;
    }
    let mut out = 0u32;
    for &c in &s[..5] {
        let v = B64.iter().position(|&b| b == c)? as u32;
        out = (out << 6) | v;
    }
    Some(out)
}

impl CookiePersist {
    /// From the IR: the backend's `cookie` line and its servers' `cookie` values (in server
    /// order).
    pub fn from_ir(c: &ir::CookieSettings, server_cookies: &[Option<String>]) -> Self {
        CookiePersist {
            name: Bytes::from(c.name.clone()),
            mode: match c.mode {
                ir::CookieMode::Insert => CookieMode::Insert,
                ir::CookieMode::Rewrite => CookieMode::Rewrite,
                ir::CookieMode::Prefix => CookieMode::Prefix,
                ir::CookieMode::Passive => CookieMode::Passive,
            },
            indirect: c.indirect,
            nocache: c.nocache,
            postonly: c.postonly,
            preserve: c.preserve,
            httponly: c.httponly,
            secure: c.secure,
            domain: (!c.domains.is_empty()).then(|| c.domains.join("; domain=")),
            maxidle: c.maxidle.map(|d| d.as_secs() as u32).unwrap_or(0),
            maxlife: c.maxlife.map(|d| d.as_secs() as u32).unwrap_or(0),
            attrs: (!c.attrs.is_empty()).then(|| c.attrs.join("; ")),
            servers: server_cookies
                .iter()
                .map(|s| s.as_ref().map(|v| Bytes::from(v.clone())))
                .collect(),
        }
    }

    /// Request side. `persist`: `option persist` (use a down server anyway). `now`: unix secs.
    /// Edits the Cookie headers as HAProxy does (prefix stripped, cookie removed with
    /// insert+indirect). Allocates only when a header must be rewritten.
    pub fn on_request(
        &self,
        head: &mut RequestHead,
        live: &ServerSet,
        persist: bool,
        now: u64,
    ) -> CookieTxn {
        let mut txn = CookieTxn::default();
        let strip = self.mode == CookieMode::Insert && self.indirect;
        let name = &self.name[..];
        let mut i = 0;
        while i < head.headers.len() {
            let h = &head.headers[i];
            // Fast reject: header is not Cookie or does not mention our name.
            if !h.is(b"cookie")
                || name.is_empty()
                || !h.value.windows(name.len()).any(|w| w == name)
            {
                i += 1;
                continue;
            }
            let line = h.value.clone();
            let mut out: Option<Vec<u8>> = None;
            let mut kept = 0usize;
            let push = |out: &mut Vec<u8>, kept: &mut usize, piece: &[u8]| {
                if *kept > 0 {
                    out.extend_from_slice(b"; ");
                }
                out.extend_from_slice(piece);
                *kept += 1;
            };
            for (k, part) in line.split(|&c| c == b';').enumerate() {
                let p = trim_blanks(part);
                let ours = match p.iter().position(|&c| c == b'=') {
                    Some(e) if trim_blanks(&p[..e]) == name => Some(e),
                    _ => None,
                };
                let Some(e) = ours else {
                    if let Some(o) = out.as_mut() {
                        if !p.is_empty() {
                            push(o, &mut kept, p);
                        }
                    } else if !p.is_empty() {
                        kept += 1;
                    }
                    continue;
                };
                let val = trim_blanks(&p[e + 1..]);
                let (srv_part, rest) = self.split_value(val, &mut txn, now);
                if txn.server.is_none()
                    && !matches!(txn.status, CookieStatus::Expired | CookieStatus::Old)
                {
                    self.lookup_server(srv_part, live, persist, &mut txn);
                }
                let rewrite = if self.mode == CookieMode::Prefix {
                    rest
                } else {
                    None
                };
                if !strip && rewrite.is_none() {
                    if let Some(o) = out.as_mut() {
                        push(o, &mut kept, p);
                    } else {
                        kept += 1;
                    }
                    continue;
                }
                let o = out.get_or_insert_with(|| {
                    // First edit on this line: copy what was kept before this cookie.
                    let mut v = Vec::with_capacity(line.len());
                    let mut n = 0usize;
                    for prev in line.split(|&c| c == b';').take(k) {
                        let pp = trim_blanks(prev);
                        if !pp.is_empty() {
                            push(&mut v, &mut n, pp);
                        }
                    }
                    kept = n;
                    v
                });
                if let Some(newval) = rewrite {
                    if kept > 0 {
                        o.extend_from_slice(b"; ");
                    }
                    o.extend_from_slice(name);
                    o.push(b'=');
                    o.extend_from_slice(newval);
                    kept += 1;
                }
            }
            match out {
                Some(v) if v.is_empty() => {
                    head.headers.remove(i);
                    continue;
                }
                Some(v) => head.headers[i].value = Bytes::from(v),
                None => {}
            }
            i += 1;
        }
        txn
    }

    /// Splits a cookie value into the server part and (prefix mode) the application value;
    /// parses and checks dates in insert/rewrite modes.
    fn split_value<'v>(
        &self,
        val: &'v [u8],
        txn: &mut CookieTxn,
        now: u64,
    ) -> (&'v [u8], Option<&'v [u8]>) {
        if self.mode == CookieMode::Prefix {
            return match val.iter().position(|&c| c == DELIM) {
                Some(d) => (&val[..d], Some(&val[d + 1..])),
                None => (&val[..0], None),
            };
        }
        let Some(bar) = val.iter().position(|&c| c == DELIM_DATE) else {
            return (val, None);
        };
        let srv = &val[..bar];
        let rest = &val[bar + 1..];
        if rest.len() >= 5 {
            if let Some(v) = b64_to_s30(rest) {
                txn.last_date = v << 2;
            }
        }
        if let Some(b2) = rest.iter().position(|&c| c == DELIM_DATE) {
            if rest.len() - b2 > 5 {
                if let Some(v) = b64_to_s30(&rest[b2 + 1..]) {
                    txn.first_date = v << 2;
                }
            }
        }
        let now = now as i64;
        if txn.first_date != 0
            && self.maxlife != 0
            && (now - txn.first_date as i64 > self.maxlife as i64
                || txn.first_date as i64 - now > 86400)
        {
            txn.status = CookieStatus::Old;
            txn.first_date = 0;
            txn.last_date = 0;
            return (&val[..0], None);
        }
        if txn.last_date != 0
            && self.maxidle != 0
            && (now - txn.last_date as i64 > self.maxidle as i64
                || txn.last_date as i64 - now > 86400)
        {
            txn.status = CookieStatus::Expired;
            txn.first_date = 0;
            txn.last_date = 0;
            return (&val[..0], None);
        }
        (srv, None)
    }

    fn lookup_server(&self, srv_part: &[u8], live: &ServerSet, persist: bool, txn: &mut CookieTxn) {
        if srv_part.is_empty() {
            if txn.status == CookieStatus::None {
                txn.status = CookieStatus::Invalid;
            }
            return;
        }
        for (i, c) in self.servers.iter().enumerate() {
            if c.as_deref() != Some(srv_part) {
                continue;
            }
            let up = live.get(i).map(|s| s.is_up()).unwrap_or(false);
            if up || persist {
                txn.status = if up {
                    CookieStatus::Valid
                } else {
                    CookieStatus::Down
                };
                txn.server = Some(i);
                return;
            }
            txn.status = CookieStatus::Down;
        }
        if txn.status == CookieStatus::None {
            txn.status = CookieStatus::Invalid;
        }
    }

    /// Response side. `req`: the request as forwarded; `server`: the server that answered
    /// (None for local replies); `txn`: what [`CookiePersist::on_request`] returned.
    /// Returns the server-side cookie letter of HAProxy's termination state (4th char):
    /// `N` none, `I` inserted, `U` updated (dates refreshed), `P` server cookie passed as is,
    /// `R` rewritten/prefixed, `D` deleted.
    pub fn on_response(
        &self,
        req: &RequestHead,
        res: &mut ResponseHead,
        txn: &CookieTxn,
        server: Option<usize>,
        now: u64,
    ) -> char {
        let mut state = 'N';
        let is_post = &req.method[..] == b"POST";
        let direct = server.is_some() && txn.server == server;
        let mut found = false;
        let srv_cookie = server.and_then(|i| self.servers.get(i).cloned().flatten());
        let mut i = 0;
        while i < res.headers.len() {
            if !res.headers[i].is(b"set-cookie") {
                i += 1;
                continue;
            }
            let line = res.headers[i].value.clone();
            let first_end = line.iter().position(|&c| c == b';').unwrap_or(line.len());
            let first = trim_blanks(&line[..first_end]);
            let Some(eq) = first.iter().position(|&c| c == b'=') else {
                i += 1;
                continue;
            };
            if trim_blanks(&first[..eq]) != &self.name[..] {
                i += 1;
                continue;
            }
            found = true;
            state = 'P';
            if self.preserve {
                i += 1;
                continue;
            }
            if (server.is_some() && self.mode == CookieMode::Insert) || (direct && self.indirect) {
                res.headers.remove(i);
                state = 'D';
                continue;
            }
            if let Some(sc) = &srv_cookie {
                let val = trim_blanks(&first[eq + 1..]);
                let new_val: Option<Vec<u8>> = match self.mode {
                    CookieMode::Rewrite => Some(sc.to_vec()),
                    CookieMode::Prefix => {
                        let mut v = Vec::with_capacity(sc.len() + 1 + val.len());
                        v.extend_from_slice(sc);
                        v.push(DELIM);
                        v.extend_from_slice(val);
                        Some(v)
                    }
                    _ => None,
                };
                if let Some(nv) = new_val {
                    let mut out = Vec::with_capacity(line.len() + sc.len() + 1);
                    out.extend_from_slice(&self.name);
                    out.push(b'=');
                    out.extend_from_slice(&nv);
                    out.extend_from_slice(&line[first_end..]);
                    res.headers[i].value = Bytes::from(out);
                    state = 'R';
                }
            }
            i += 1;
        }

        // Insert mode: emit our cookie when needed.
        let Some(srv) = server else { return state };
        let now32 = now as u32;
        let refresh_dates = ((self.maxidle != 0 || txn.last_date != 0)
            && (txn.last_date == 0 || (txn.last_date as i64 - now as i64) < 0))
            || (self.maxlife != 0 && txn.first_date == 0)
            || (self.maxlife == 0 && txn.first_date != 0);
        if self.mode != CookieMode::Insert
            || (found && self.preserve)
            || (direct && !refresh_dates)
            || (self.postonly && !is_post)
        {
            return state;
        }
        let mut v: Vec<u8> = Vec::with_capacity(64);
        match self.servers.get(srv).cloned().flatten() {
            None => {
                v.extend_from_slice(&self.name);
                v.extend_from_slice(b"=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/");
            }
            Some(sc) => {
                v.extend_from_slice(&self.name);
                v.push(b'=');
                v.extend_from_slice(&sc);
                if self.maxidle != 0 || self.maxlife != 0 {
                    v.push(DELIM_DATE);
                    v.extend_from_slice(&s30_to_b64((now32.wrapping_add(3)) >> 2));
                    if self.maxlife != 0 {
                        v.push(DELIM_DATE);
                        let first = if txn.first_date != 0 {
                            txn.first_date >> 2
                        } else {
                            now32.wrapping_add(3) >> 2
                        };
                        v.extend_from_slice(&s30_to_b64(first));
                    }
                }
                v.extend_from_slice(b"; path=/");
            }
        }
        if let Some(d) = &self.domain {
            v.extend_from_slice(b"; domain=");
            v.extend_from_slice(d.as_bytes());
        }
        if self.httponly {
            v.extend_from_slice(b"; HttpOnly");
        }
        if self.secure {
            v.extend_from_slice(b"; Secure");
        }
        if let Some(a) = &self.attrs {
            v.extend_from_slice(b"; ");
            v.extend_from_slice(a.as_bytes());
        }
        res.headers.push(HdrField::new(
            Bytes::from_static(b"Set-Cookie"),
            Bytes::from(v),
        ));
        if self.nocache && request_cacheable(req) && response_cacheable(res) {
            res.headers.push(HdrField::new(
                Bytes::from_static(b"Cache-control"),
                Bytes::from_static(b"private"),
            ));
        }
        if direct && self.servers.get(srv).cloned().flatten().is_some() {
            'U'
        } else {
            'I'
        }
    }
}

/// Whether the request allows caching its response (safe method, no Authorization, no
/// `Cache-Control: no-store`), as HAProxy's request cacheability check.
pub fn request_cacheable(req: &RequestHead) -> bool {
    if !matches!(&req.method[..], b"GET" | b"HEAD" | b"OPTIONS" | b"TRACE") {
        return false;
    }
    for h in &req.headers {
        if h.is(b"authorization") {
            return false;
        }
        if h.is(b"cache-control")
            && crate::proxy::ctx::split_comma_values(&h.value)
                .any(|v| v.len() >= 8 && v[..8].eq_ignore_ascii_case(b"no-store"))
        {
            return false;
        }
    }
    true
}

/// Whether a response may be cached (so `nocache` must add `Cache-control: private`):
/// no `Pragma: no-cache`, no private/no-cache/no-store/max-age=0 directive, and some
/// freshness information (`max-age`, `s-maxage`, `Expires`) or validator (`ETag`,
/// `Last-Modified`); `public` alone is not enough. Checked against haproxy 2.6.12.
pub fn response_cacheable(res: &ResponseHead) -> bool {
    if res.status < 200 {
        return false;
    }
    let mut cacheable = true;
    let mut fresh = false;
    for h in &res.headers {
        if h.is(b"pragma")
            && crate::proxy::ctx::trim_blanks(&h.value).eq_ignore_ascii_case(b"no-cache")
        {
            return false;
        }
        if h.is(b"cache-control") {
            for v in crate::proxy::ctx::split_comma_values(&h.value) {
                let starts = |p: &[u8]| v.len() >= p.len() && v[..p.len()].eq_ignore_ascii_case(p);
                if v.eq_ignore_ascii_case(b"public") {
                    cacheable = true;
                } else if v.eq_ignore_ascii_case(b"private")
                    || v.eq_ignore_ascii_case(b"no-cache")
                    || v.eq_ignore_ascii_case(b"no-store")
                    || v.eq_ignore_ascii_case(b"max-age=0")
                    || v.eq_ignore_ascii_case(b"s-maxage=0")
                {
                    cacheable = false;
                } else if starts(b"s-maxage") || starts(b"max-age") {
                    fresh = true;
                }
            }
        }
        if h.is(b"expires") || h.is(b"etag") || h.is(b"last-modified") {
            fresh = true;
        }
    }
    cacheable && fresh
}

#[cfg(test)]
mod tests;

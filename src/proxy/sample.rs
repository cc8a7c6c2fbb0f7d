//! Sample fetches and converters, compiled from the IR's [`SampleExpr`] at load time.
//!
//! A [`CompiledExpr`] is evaluated against an [`EvalCtx`] (request view, optional response
//! view). Fetch results borrow from the request whenever possible ([`Smp::Str`] holds a
//! `Cow`), so the common ACLs (`path_beg`, `hdr(host) -i`, `src`, `method`) allocate nothing;
//! converters allocate only when they transform.
//!
//! Two evaluation modes, as in HAProxy:
//! - ACL mode ([`CompiledExpr::for_each`]): multi-valued fetches (`hdr`, `cook`, ...) yield
//!   every occurrence until the matcher says stop;
//! - sample mode ([`CompiledExpr::eval`]): one value; header fetches default to the LAST
//!   occurrence (`hdr(x)` is `hdr(x,-1)` there), as in HAProxy's log-format and set-var.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use crate::haproxy::ir;
use crate::proxy::ctx::{split_comma_values, trim_blanks, RequestCtx, ResponseCtx, VarValue};

/// Why an expression could not be compiled (config errors the checker did not catch).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    #[error("unknown fetch method '{0}'")]
    UnknownFetch(String),
    #[error("unknown converter '{0}'")]
    UnknownConverter(String),
    #[error("fetch method '{fetch}': {msg}")]
    BadFetchArg { fetch: String, msg: String },
    #[error("converter '{conv}': {msg}")]
    BadConverterArg { conv: String, msg: String },
    #[error("unknown ACL '{0}'")]
    UnknownAcl(String),
    #[error("invalid pattern '{pattern}': {msg}")]
    BadPattern { pattern: String, msg: String },
    #[error("unknown userlist '{0}'")]
    UnknownUserlist(String),
}

/// A sample value. Strings borrow from the request when they can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Smp<'a> {
    Bool(bool),
    Int(i64),
    Str(Cow<'a, [u8]>),
    Ip(IpAddr),
}

impl<'a> Smp<'a> {
    pub fn str(s: &'a [u8]) -> Self {
        Smp::Str(Cow::Borrowed(s))
    }
    /// The value as bytes (integers and addresses rendered as text).
    pub fn to_bytes(&self) -> Cow<'_, [u8]> {
        match self {
            Smp::Str(s) => Cow::Borrowed(&s[..]),
            Smp::Int(i) => Cow::Owned(i.to_string().into_bytes()),
            Smp::Bool(b) => Cow::Owned(if *b { b"1".to_vec() } else { b"0".to_vec() }),
            Smp::Ip(ip) => Cow::Owned(ip.to_string().into_bytes()),
        }
    }
    /// Appends the value's text to `out` (log-format rendering).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        use std::io::Write;
        let _ = match self {
            Smp::Str(s) => {
                out.extend_from_slice(s);
                Ok(())
            }
            Smp::Int(i) => write!(out, "{i}"),
            Smp::Ip(ip) => write!(out, "{ip}"),
            Smp::Bool(b) => {
                out.push(if *b { b'1' } else { b'0' });
                Ok(())
            }
        };
    }
    /// The value as an integer (strings parsed like HAProxy's strl2ic: leading digits).
    pub fn to_int(&self) -> Option<i64> {
        match self {
            Smp::Int(i) => Some(*i),
            Smp::Bool(b) => Some(*b as i64),
            // HAProxy's string to integer cast: fails only on an empty string; text without
            // leading digits reads as 0
            Smp::Str(s) if s.is_empty() => None,
            Smp::Str(s) => Some(parse_int_prefix(s).unwrap_or(0)),
            Smp::Ip(_) => None,
        }
    }
    pub fn to_bool(&self) -> bool {
        match self {
            Smp::Bool(b) => *b,
            Smp::Int(i) => *i != 0,
            Smp::Str(s) => !s.is_empty(),
            Smp::Ip(_) => true,
        }
    }
    pub fn to_ip(&self) -> Option<IpAddr> {
        match self {
            Smp::Ip(ip) => Some(*ip),
            Smp::Str(s) => std::str::from_utf8(trim_blanks(s)).ok()?.parse().ok(),
            Smp::Int(i) => u32::try_from(*i)
                .ok()
                .map(|v| IpAddr::V4(Ipv4Addr::from(v))),
            Smp::Bool(_) => None,
        }
    }
    pub fn into_owned(self) -> Smp<'static> {
        match self {
            Smp::Bool(b) => Smp::Bool(b),
            Smp::Int(i) => Smp::Int(i),
            Smp::Ip(i) => Smp::Ip(i),
            Smp::Str(s) => Smp::Str(Cow::Owned(s.into_owned())),
        }
    }
    pub fn to_var(&self) -> VarValue {
        match self {
            Smp::Bool(b) => VarValue::Bool(*b),
            Smp::Int(i) => VarValue::Int(*i),
            Smp::Ip(i) => VarValue::Ip(*i),
            Smp::Str(s) => VarValue::Str(bytes::Bytes::copy_from_slice(s)),
        }
    }
}

/// Leading optional sign and digits (HAProxy's lenient string→int cast).
pub fn parse_int_prefix(s: &[u8]) -> Option<i64> {
    let s = trim_blanks(s);
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let end = digits
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    if end == 0 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in &digits[..end] {
        v = v.saturating_mul(10).saturating_add((c - b'0') as i64);
    }
    Some(if neg { -v } else { v })
}

/// What a fetch/converter evaluation sees.
#[derive(Clone, Copy)]
pub struct EvalCtx<'a> {
    pub req: &'a RequestCtx<'a>,
    pub res: Option<&'a ResponseCtx<'a>>,
}

impl<'a> EvalCtx<'a> {
    pub fn new(req: &'a RequestCtx<'a>) -> Self {
        EvalCtx { req, res: None }
    }
    pub fn with_response(req: &'a RequestCtx<'a>, res: &'a ResponseCtx<'a>) -> Self {
        EvalCtx {
            req,
            res: Some(res),
        }
    }
}

/// Fetches HAProxy only provides while the request head is present (SMP_USE_HRQHV): in the
/// response phase they never return a value (`method`, `src`, variables still do).
fn request_volatile(f: &Fetch) -> bool {
    matches!(
        f,
        Fetch::Path
            | Fetch::Pathq
            | Fetch::Url
            | Fetch::Query
            | Fetch::Base
            | Fetch::UrlParam { .. }
            | Fetch::ReqVer
            | Fetch::Hdr {
                side: Side::Req,
                ..
            }
            | Fetch::HdrCnt {
                side: Side::Req,
                ..
            }
            | Fetch::HdrVal {
                side: Side::Req,
                ..
            }
            | Fetch::HdrIp {
                side: Side::Req,
                ..
            }
            | Fetch::Cook {
                side: Side::Req,
                ..
            }
            | Fetch::CookCnt {
                side: Side::Req,
                ..
            }
            | Fetch::CookVal {
                side: Side::Req,
                ..
            }
            | Fetch::HttpAuth(_)
            | Fetch::HttpAuthGroup(_)
            | Fetch::HttpAuthUser
            | Fetch::HttpAuthPass
            | Fetch::ReqHdrNames(_)
    )
}

/// One userlist, ready for `http_auth` checks.
#[derive(Debug)]
pub struct AuthList {
    pub name: String,
    users: Vec<(String, ir::Password, Vec<String>)>,
}

impl AuthList {
    pub fn from_ir(u: &ir::Userlist) -> Self {
        let mut users: Vec<(String, ir::Password, Vec<String>)> = u
            .users
            .iter()
            .map(|x| (x.name.clone(), x.password.clone(), x.groups.clone()))
            .collect();
        // `group G users a,b` also puts users in groups.
        for g in &u.groups {
            for un in &g.users {
                if let Some(e) = users.iter_mut().find(|(n, _, _)| n == un) {
                    if !e.2.contains(&g.name) {
                        e.2.push(g.name.clone());
                    }
                }
            }
        }
        AuthList {
            name: u.name.clone(),
            users,
        }
    }

    /// Checks `user`/`pass`; returns the user's groups on success.
    pub fn check(&self, user: &[u8], pass: &[u8]) -> Option<&[String]> {
        let (_, pw, groups) = self.users.iter().find(|(n, _, _)| n.as_bytes() == user)?;
        let ok = match pw {
            ir::Password::Insecure(p) => p.as_bytes() == pass,
            ir::Password::Secure(hash) => crate::proxy::crypt::verify(pass, hash),
            ir::Password::None => false,
        };
        ok.then_some(&groups[..])
    }
}

/// Decoded `Authorization: Basic` credentials.
pub fn basic_credentials(req: &RequestCtx<'_>) -> Option<(Vec<u8>, Vec<u8>)> {
    let v = req.header(b"authorization")?;
    let v = trim_blanks(v);
    if v.len() < 6 || !v[..6].eq_ignore_ascii_case(b"basic ") {
        return None;
    }
    let dec = base64_decode(trim_blanks(&v[6..]))?;
    let colon = dec.iter().position(|&c| c == b':')?;
    Some((dec[..colon].to_vec(), dec[colon + 1..].to_vec()))
}

/// Which header list a header fetch reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Req,
    Res,
}

/// A compiled sample fetch.
#[derive(Debug, Clone)]
pub enum Fetch {
    Method,
    Path,
    Pathq,
    Url,
    Query,
    Base,
    UrlParam {
        name: Box<[u8]>,
        delim: u8,
    },
    ReqVer,
    ResVer,
    Status,
    /// `hdr`/`req.hdr`/`res.hdr`/`shdr` (comma-split values) or `fhdr` (full lines).
    Hdr {
        side: Side,
        name: Box<[u8]>,
        occ: Option<i32>,
        full: bool,
    },
    HdrCnt {
        side: Side,
        name: Option<Box<[u8]>>,
        full: bool,
    },
    HdrVal {
        side: Side,
        name: Box<[u8]>,
        occ: Option<i32>,
    },
    HdrIp {
        side: Side,
        name: Box<[u8]>,
        occ: Option<i32>,
    },
    /// `cook`/`req.cook`/`cookie` (request) or `res.cook`/`scook` (Set-Cookie).
    Cook {
        side: Side,
        name: Option<Box<[u8]>>,
    },
    CookCnt {
        side: Side,
        name: Option<Box<[u8]>>,
    },
    CookVal {
        side: Side,
        name: Box<[u8]>,
    },
    Src,
    SrcPort,
    Dst,
    DstPort,
    SslFc,
    SslFcSni,
    FcPpUniqueId,
    /// `capture.req.hdr(N)`: request capture slot N.
    CaptureReqHdr(usize),
    CaptureReqUri,
    CaptureReqMethod,
    CaptureReqVer,
    HttpAuth(Arc<AuthList>),
    HttpAuthGroup(Arc<AuthList>),
    HttpAuthUser,
    HttpAuthPass,
    Nbsrv(Option<Box<str>>),
    FeName,
    BeName,
    Var(Box<str>),
    Const(Smp<'static>),
    ProtoHttp,
    Env(Box<str>),
    Rand(Option<u64>),
    /// `uuid`: a random version 4 UUID.
    Uuid,
    /// `req.body`: the buffered request payload (see `http-request wait-for-body`).
    ReqBody,
    /// `req.body_len`: its length.
    ReqBodyLen,
    /// `req.payload(off,len)` / `res.payload(off,len)` (len 0: up to the end): the bytes a
    /// content inspection holds (mode tcp), `req.body` for a request in mode http.
    Payload {
        res: bool,
        off: usize,
        len: usize,
    },
    Date(i64),
    ReqHdrNames(u8),
    /// A fetch the engine doesn't provide: never yields a value.
    Never,
}

/// `map*` converter table: (key, value) lines of the map file, in file order.
pub type MapEntries = Vec<(Box<[u8]>, Box<[u8]>)>;

/// A compiled converter.
#[derive(Debug, Clone)]
pub enum Conv {
    Lower,
    Upper,
    Base64,
    B64Dec,
    Hex,
    /// `hex2i`: a hex string as a signed 64-bit integer.
    Hex2i,
    Length,
    Field {
        index: i32,
        delims: Box<[u8]>,
        count: i32,
    },
    Word {
        index: i32,
        delims: Box<[u8]>,
        count: i32,
    },
    Regsub {
        re: regex::bytes::Regex,
        subst: Box<[u8]>,
        global: bool,
    },
    /// `url_dec([in_form])`: `+` becomes a space everywhere when true, else only after `?`.
    UrlDec(bool),
    /// `url_enc([query])`: percent-encodes everything but RFC 3986 unreserved characters.
    UrlEnc,
    /// `digest(alg)`, `sha1`, `sha2([bits])`: binary message digest.
    Digest(DigestAlgo),
    /// `hmac(alg,key)`: the key is base64, given inline or in a variable.
    Hmac(DigestAlgo, KeyArg),
    /// `iif(true,false)`.
    Iif(Box<[u8]>, Box<[u8]>),
    /// `secure_memcmp(var)`: whether the sample equals the variable's bytes.
    SecureMemcmp(Box<str>),
    /// `add_item(delim,[var][,suffix])`.
    AddItem {
        delim: Box<[u8]>,
        var: Option<Box<str>>,
        suffix: Box<[u8]>,
    },
    /// `be2dec(sep,chunk[,truncate])` / `be2hex([sep],[chunk],[truncate])`.
    BeChunks {
        hex: bool,
        sep: Box<[u8]>,
        chunk: usize,
        truncate: bool,
    },
    Ltrim(Box<[u8]>),
    Rtrim(Box<[u8]>),
    Bytes {
        offset: usize,
        len: Option<usize>,
    },
    Arith {
        op: ArithOp,
        arg: ArithArg,
    },
    Neg,
    Not,
    Bool,
    Odd,
    Even,
    /// `ipmask(v4[,v6])`: masks given as prefix lengths or addresses (any bit pattern).
    Ipmask {
        v4: u32,
        v6: u128,
    },
    Concat {
        prefix: Box<[u8]>,
        var: Option<Box<str>>,
        suffix: Box<[u8]>,
    },
    Map {
        map: Arc<crate::proxy::maps::MapFile>,
        default: Option<Box<[u8]>>,
        how: MapMatch,
    },
    Hash(crate::proxy::balance::HashFunction, bool),
    Json(JsonInput),
    /// `fix_is_valid`: whether the input is a valid FIX message.
    FixIsValid,
    /// `fix_tag_value(tag)`: the value of a tag of a FIX message.
    FixTagValue(u32),
    /// `json_query(path[,int])`.
    JsonQuery {
        steps: Vec<json_query::Step>,
        int: bool,
    },
    /// Converters we accept but do not apply (identity).
    Identity,
}

/// Message digest algorithms of `digest`, `hmac`, `sha1`, `sha2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgo {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl DigestAlgo {
    fn from_name(n: &str) -> Option<Self> {
        Some(match n.trim().to_ascii_lowercase().as_str() {
            "md5" => DigestAlgo::Md5,
            "sha1" => DigestAlgo::Sha1,
            "sha224" => DigestAlgo::Sha224,
            "sha256" => DigestAlgo::Sha256,
            "sha384" => DigestAlgo::Sha384,
            "sha512" => DigestAlgo::Sha512,
            _ => return None,
        })
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        use sha2::Digest;
        match self {
            DigestAlgo::Md5 => md5::Md5::digest(data).to_vec(),
            DigestAlgo::Sha1 => sha1::Sha1::digest(data).to_vec(),
            DigestAlgo::Sha224 => sha2::Sha224::digest(data).to_vec(),
            DigestAlgo::Sha256 => sha2::Sha256::digest(data).to_vec(),
            DigestAlgo::Sha384 => sha2::Sha384::digest(data).to_vec(),
            DigestAlgo::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    fn hmac(self, key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
        use hmac::{Hmac, Mac};
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
            let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key).ok()?;
            m.update(data);
            Some(m.finalize().into_bytes().to_vec())
        }
        match self {
            DigestAlgo::Md5 => run::<Hmac<md5::Md5>>(key, data),
            DigestAlgo::Sha1 => run::<Hmac<sha1::Sha1>>(key, data),
            DigestAlgo::Sha224 => run::<Hmac<sha2::Sha224>>(key, data),
            DigestAlgo::Sha256 => run::<Hmac<sha2::Sha256>>(key, data),
            DigestAlgo::Sha384 => run::<Hmac<sha2::Sha384>>(key, data),
            DigestAlgo::Sha512 => run::<Hmac<sha2::Sha512>>(key, data),
        }
    }
}

/// A converter argument that is a constant or the name of a variable (`txn.key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyArg {
    Const(Box<[u8]>),
    Var(Box<str>),
}

/// Input decoding of the `json` converter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonInput {
    Ascii,
    /// UTF-8; `skip` drops bad sequences instead of failing.
    Utf8 {
        skip: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    And,
    Or,
    Xor,
}

#[derive(Debug, Clone)]
pub enum ArithArg {
    Int(i64),
    Var(Box<str>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapMatch {
    Str,
    Beg,
    Sub,
    End,
    Dir,
    Dom,
    Reg,
    Int,
    Ip,
}

/// A compiled `fetch,conv,...` expression.
#[derive(Debug, Clone)]
pub struct CompiledExpr {
    pub fetch: Fetch,
    pub convs: Vec<Conv>,
}

/// Userlists and other load-time lookups a compilation may need.
#[derive(Default, Clone)]
pub struct CompileEnv {
    pub userlists: Vec<Arc<AuthList>>,
}

impl CompileEnv {
    pub fn from_config(cfg: &ir::Config) -> Self {
        CompileEnv {
            userlists: cfg
                .userlists
                .iter()
                .map(|u| Arc::new(AuthList::from_ir(u)))
                .collect(),
        }
    }
    fn userlist(&self, name: &str) -> Result<Arc<AuthList>, CompileError> {
        self.userlists
            .iter()
            .find(|u| u.name == name)
            .cloned()
            .ok_or_else(|| CompileError::UnknownUserlist(name.to_string()))
    }
}

/// The natural match method of a fetch when an ACL gives none.
pub fn default_match(fetch: &Fetch) -> ir::MatchMethod {
    use ir::MatchMethod as M;
    match fetch {
        Fetch::Src | Fetch::Dst | Fetch::HdrIp { .. } => M::Ip,
        Fetch::SrcPort
        | Fetch::DstPort
        | Fetch::Status
        | Fetch::HdrCnt { .. }
        | Fetch::HdrVal { .. }
        | Fetch::CookCnt { .. }
        | Fetch::CookVal { .. }
        | Fetch::Nbsrv(_)
        | Fetch::Rand(_)
        | Fetch::Date(_) => M::Int,
        Fetch::SslFc | Fetch::HttpAuth(_) | Fetch::ProtoHttp => M::Bool,
        Fetch::Const(Smp::Bool(_)) => M::Bool,
        Fetch::Const(Smp::Int(_)) => M::Int,
        Fetch::Var(n) if n.as_ref() == super::tcp::VAR_REQ_ALPN => M::Str,
        Fetch::Var(n) if n.starts_with('\0') => M::Int, // req.len, req.ssl_hello_type (tcp.rs)
        Fetch::Const(Smp::Ip(_)) => M::Ip,
        Fetch::Payload { .. } => M::Bin,
        _ => M::Str,
    }
}

fn arg_name(fetch: &str, args: &[String], i: usize) -> Result<Box<[u8]>, CompileError> {
    match args.get(i) {
        Some(a) if !a.is_empty() => Ok(a.as_bytes().into()),
        _ => Err(CompileError::BadFetchArg {
            fetch: fetch.into(),
            msg: "missing name argument".into(),
        }),
    }
}

fn arg_occ(fetch: &str, args: &[String], i: usize) -> Result<Option<i32>, CompileError> {
    match args.get(i) {
        None => Ok(None),
        Some(a) if a.is_empty() => Ok(None),
        Some(a) => a
            .trim()
            .parse::<i32>()
            .map(Some)
            .map_err(|_| CompileError::BadFetchArg {
                fetch: fetch.into(),
                msg: format!("invalid occurrence '{a}'"),
            }),
    }
}

/// Splits a fetch keyword with an implied match suffix (`path_beg`, `hdr_sub`, `urlp_reg`) into
/// the base fetch and the method. Returns None when the name is a plain fetch.
pub fn split_acl_suffix(name: &str) -> Option<(&str, ir::MatchMethod)> {
    use ir::MatchMethod as M;
    const SUF: &[(&str, M)] = &[
        ("_beg", M::Beg),
        ("_end", M::End),
        ("_sub", M::Sub),
        ("_reg", M::Reg),
        ("_dir", M::Dir),
        ("_dom", M::Dom),
        ("_len", M::Len),
        ("_str", M::Str),
        ("_found", M::Found),
        ("_bin", M::Bin),
        ("_ip", M::Ip),
    ];
    const BASES: &[&str] = &[
        "path",
        "url",
        "urlp",
        "url_param",
        "hdr",
        "req.hdr",
        "res.hdr",
        "shdr",
        "cook",
        "req.cook",
        "res.cook",
        "scook",
        "base",
        "query",
        "method",
        "req.fhdr",
        "res.fhdr",
        "var",
        "pathq",
        "ssl_fc_sni",
        "req.ssl_sni",
        "cookie",
    ];
    for (s, m) in SUF {
        if let Some(b) = name.strip_suffix(s) {
            if BASES.contains(&b) {
                // hdr_ip / shdr_ip are IP-typed header fetches, handled as fetches.
                if *s == "_ip" && !matches!(b, "url" | "urlp") {
                    return None;
                }
                return Some((b, *m));
            }
        }
    }
    None
}

/// Sample fetches the engine evaluates: exactly the names [`compile_fetch`] has an arm for
/// (any other name compiles to [`Fetch::Never`]). The keyword catalogue's `implemented` fetches
/// must equal this list plus its ACL-suffixed forms (a test checks it).
pub const SUPPORTED_FETCHES: &[&str] = &[
    "method",
    "path",
    "pathq",
    "url",
    "query",
    "base",
    "url_param",
    "urlp",
    "req.ver",
    "req_ver",
    "res.ver",
    "resp_ver",
    "status",
    "hdr",
    "req.hdr",
    "req.fhdr",
    "res.hdr",
    "shdr",
    "res.fhdr",
    "hdr_cnt",
    "req.hdr_cnt",
    "req.fhdr_cnt",
    "res.hdr_cnt",
    "shdr_cnt",
    "res.fhdr_cnt",
    "hdr_val",
    "req.hdr_val",
    "res.hdr_val",
    "shdr_val",
    "hdr_ip",
    "req.hdr_ip",
    "res.hdr_ip",
    "shdr_ip",
    "cook",
    "req.cook",
    "cookie",
    "res.cook",
    "scook",
    "cook_cnt",
    "req.cook_cnt",
    "res.cook_cnt",
    "scook_cnt",
    "cook_val",
    "req.cook_val",
    "res.cook_val",
    "scook_val",
    "src",
    "src_port",
    "dst",
    "dst_port",
    "ssl_fc",
    "ssl_fc_sni",
    "req.ssl_sni",
    "req_ssl_sni",
    "fc_pp_unique_id",
    "capture.req.hdr",
    "capture.req.uri",
    "capture.req.method",
    "capture.req.ver",
    "req.len",
    "req_len",
    "req.ssl_hello_type",
    "req_ssl_hello_type",
    "req.payload",
    "payload",
    "req.ssl_alpn",
    "http_auth",
    "http_auth_group",
    "http_auth_user",
    "http_auth_pass",
    "nbsrv",
    "fe_name",
    "be_name",
    "var",
    "str",
    "int",
    "bool",
    "ipv4",
    "ipv6",
    "always_true",
    "always_false",
    "req.proto_http",
    "req_proto_http",
    "env",
    "rand",
    "date",
    "req.hdr_names",
    "unique-id",
    "uuid",
    "req.body",
    "req.body_len",
    "req.payload",
    "payload",
    "res.payload",
];

/// Whether the engine evaluates the fetch `name` (also ACL-suffixed forms like `path_beg`).
pub fn is_supported_fetch(name: &str) -> bool {
    let base = split_acl_suffix(name).map(|(b, _)| b).unwrap_or(name);
    SUPPORTED_FETCHES.contains(&base)
}

/// Converters the engine applies: exactly the names [`compile_conv`] has an arm for (any other
/// name compiles to [`Conv::Identity`]), plus every `map*` form.
pub const SUPPORTED_CONVERTERS: &[&str] = &[
    "lower",
    "upper",
    "base64",
    "b64dec",
    "hex",
    "hex2i",
    "length",
    "field",
    "word",
    "regsub",
    "url_dec",
    "ltrim",
    "rtrim",
    "bytes",
    "add",
    "sub",
    "mul",
    "div",
    "mod",
    "and",
    "or",
    "xor",
    "neg",
    "not",
    "bool",
    "odd",
    "even",
    "ipmask",
    "concat",
    "djb2",
    "sdbm",
    "wt6",
    "crc32",
    "json",
    "json_query",
    "fix_is_valid",
    "fix_tag_value",
    "url_enc",
    "sha1",
    "sha2",
    "digest",
    "hmac",
    "iif",
    "secure_memcmp",
    "add_item",
    "be2dec",
    "be2hex",
];

/// Whether the engine applies the converter `name`.
pub fn is_supported_converter(name: &str) -> bool {
    SUPPORTED_CONVERTERS.contains(&name) || name.starts_with("map")
}

/// Compiles a fetch by name (without suffix).
pub fn compile_fetch(name: &str, args: &[String], env: &CompileEnv) -> Result<Fetch, CompileError> {
    let f = name;
    Ok(match name {
        "method" => Fetch::Method,
        "path" => Fetch::Path,
        "pathq" => Fetch::Pathq,
        "url" => Fetch::Url,
        "query" => Fetch::Query,
        "base" => Fetch::Base,
        "url_param" | "urlp" => Fetch::UrlParam {
            name: arg_name(f, args, 0)?,
            delim: args.get(1).and_then(|d| d.bytes().next()).unwrap_or(b'&'),
        },
        "req.ver" | "req_ver" => Fetch::ReqVer,
        "res.ver" | "resp_ver" => Fetch::ResVer,
        "status" => Fetch::Status,
        "hdr" | "req.hdr" => Fetch::Hdr {
            side: Side::Req,
            name: arg_name(f, args, 0)?,
            occ: arg_occ(f, args, 1)?,
            full: false,
        },
        "req.fhdr" => Fetch::Hdr {
            side: Side::Req,
            name: arg_name(f, args, 0)?,
            occ: arg_occ(f, args, 1)?,
            full: true,
        },
        "res.hdr" | "shdr" => Fetch::Hdr {
            side: Side::Res,
            name: arg_name(f, args, 0)?,
            occ: arg_occ(f, args, 1)?,
            full: false,
        },
        "res.fhdr" => Fetch::Hdr {
            side: Side::Res,
            name: arg_name(f, args, 0)?,
            occ: arg_occ(f, args, 1)?,
            full: true,
        },
        "hdr_cnt" | "req.hdr_cnt" => Fetch::HdrCnt {
            side: Side::Req,
            name: args.first().map(|a| a.as_bytes().into()),
            full: false,
        },
        "req.fhdr_cnt" => Fetch::HdrCnt {
            side: Side::Req,
            name: args.first().map(|a| a.as_bytes().into()),
            full: true,
        },
        "res.hdr_cnt" | "shdr_cnt" => Fetch::HdrCnt {
            side: Side::Res,
            name: args.first().map(|a| a.as_bytes().into()),
            full: false,
        },
        "res.fhdr_cnt" => Fetch::HdrCnt {
            side: Side::Res,
            name: args.first().map(|a| a.as_bytes().into()),
            full: true,
        },
        "hdr_val" | "req.hdr_val" => Fetch::HdrVal {
            side: Side::Req,
            name: arg_name(f, args, 0)?,
            occ: arg_occ(f, args, 1)?,
        },
        "res.hdr_val" | "shdr_val" => Fetch::HdrVal {
            side: Side::Res,
            name: arg_name(f, args, 0)?,
            occ: arg_occ(f, args, 1)?,
        },
        "hdr_ip" | "req.hdr_ip" => Fetch::HdrIp {
            side: Side::Req,
            name: arg_name(f, args, 0)?,
            occ: arg_occ(f, args, 1)?,
        },
        "res.hdr_ip" | "shdr_ip" => Fetch::HdrIp {
            side: Side::Res,
            name: arg_name(f, args, 0)?,
            occ: arg_occ(f, args, 1)?,
        },
        "cook" | "req.cook" | "cookie" => Fetch::Cook {
            side: Side::Req,
            name: args
                .first()
                .filter(|a| !a.is_empty())
                .map(|a| a.as_bytes().into()),
        },
        "res.cook" | "scook" => Fetch::Cook {
            side: Side::Res,
            name: args
                .first()
                .filter(|a| !a.is_empty())
                .map(|a| a.as_bytes().into()),
        },
        "cook_cnt" | "req.cook_cnt" => Fetch::CookCnt {
            side: Side::Req,
            name: args.first().map(|a| a.as_bytes().into()),
        },
        "res.cook_cnt" | "scook_cnt" => Fetch::CookCnt {
            side: Side::Res,
            name: args.first().map(|a| a.as_bytes().into()),
        },
        "cook_val" | "req.cook_val" => Fetch::CookVal {
            side: Side::Req,
            name: arg_name(f, args, 0)?,
        },
        "res.cook_val" | "scook_val" => Fetch::CookVal {
            side: Side::Res,
            name: arg_name(f, args, 0)?,
        },
        "src" => Fetch::Src,
        "src_port" => Fetch::SrcPort,
        "dst" => Fetch::Dst,
        "dst_port" => Fetch::DstPort,
        "ssl_fc" => Fetch::SslFc,
        "ssl_fc_sni" | "req.ssl_sni" | "req_ssl_sni" => Fetch::SslFcSni,
        "fc_pp_unique_id" => Fetch::FcPpUniqueId,
        "capture.req.hdr" => Fetch::CaptureReqHdr(
            args.first()
                .and_then(|a| a.trim().parse().ok())
                .ok_or_else(|| CompileError::BadFetchArg {
                    fetch: f.to_string(),
                    msg: "expects a capture slot number".into(),
                })?,
        ),
        "capture.req.uri" => Fetch::CaptureReqUri,
        "capture.req.method" => Fetch::CaptureReqMethod,
        "capture.req.ver" => Fetch::CaptureReqVer,
        "req.len" | "req_len" => Fetch::Var(super::tcp::VAR_REQ_LEN.into()),
        "req.ssl_hello_type" | "req_ssl_hello_type" => {
            Fetch::Var(super::tcp::VAR_HELLO_TYPE.into())
        }
        "req.ssl_alpn" => Fetch::Var(super::tcp::VAR_REQ_ALPN.into()),
        "http_auth" => {
            Fetch::HttpAuth(env.userlist(args.first().map(String::as_str).unwrap_or(""))?)
        }
        "http_auth_group" => {
            Fetch::HttpAuthGroup(env.userlist(args.first().map(String::as_str).unwrap_or(""))?)
        }
        "http_auth_user" => Fetch::HttpAuthUser,
        "http_auth_pass" => Fetch::HttpAuthPass,
        "nbsrv" => Fetch::Nbsrv(
            args.first()
                .filter(|a| !a.is_empty())
                .map(|a| a.as_str().into()),
        ),
        "fe_name" => Fetch::FeName,
        "be_name" => Fetch::BeName,
        "var" => Fetch::Var(arg_name(f, args, 0).map(|b| String::from_utf8_lossy(&b).into())?),
        "unique-id" => Fetch::Var(UNIQUE_ID_VAR.into()),
        "uuid" => Fetch::Uuid,
        "req.body" => Fetch::ReqBody,
        "req.payload" | "payload" | "res.payload" => {
            let num = |i: usize| -> Result<usize, CompileError> {
                args.get(i)
                    .and_then(|a| a.trim().parse().ok())
                    .ok_or_else(|| CompileError::BadFetchArg {
                        fetch: f.into(),
                        msg: "expects <offset>,<length>".into(),
                    })
            };
            Fetch::Payload {
                res: f == "res.payload",
                off: num(0)?,
                len: num(1)?,
            }
        }
        "req.body_len" => Fetch::ReqBodyLen,
        "str" => Fetch::Const(Smp::Str(Cow::Owned(crate::haproxy::lexer::text_to_bytes(
            args.first().map_or("", |a| a.as_str()),
        )))),
        "int" => Fetch::Const(Smp::Int(
            args.first()
                .and_then(|a| a.trim().parse().ok())
                .ok_or_else(|| CompileError::BadFetchArg {
                    fetch: f.into(),
                    msg: "expects an integer".into(),
                })?,
        )),
        "bool" => Fetch::Const(Smp::Bool(
            args.first()
                .map(|a| a == "1" || a == "true")
                .unwrap_or(false),
        )),
        "ipv4" | "ipv6" => Fetch::Const(Smp::Ip(
            args.first()
                .and_then(|a| a.trim().parse().ok())
                .ok_or_else(|| CompileError::BadFetchArg {
                    fetch: f.into(),
                    msg: "expects an address".into(),
                })?,
        )),
        "always_true" => Fetch::Const(Smp::Bool(true)),
        "always_false" => Fetch::Const(Smp::Bool(false)),
        "req.proto_http" | "req_proto_http" => Fetch::ProtoHttp,
        "env" => Fetch::Env(args.first().cloned().unwrap_or_default().into()),
        "rand" => Fetch::Rand(args.first().and_then(|a| a.trim().parse().ok())),
        "date" => Fetch::Date(
            args.first()
                .and_then(|a| a.trim().parse().ok())
                .unwrap_or(0),
        ),
        "req.hdr_names" => {
            Fetch::ReqHdrNames(args.first().and_then(|a| a.bytes().next()).unwrap_or(b','))
        }
        _ => {
            // The front end validated the name against HAProxy's catalogue: a fetch we do not
            // implement yet never yields a value (ACLs on it do not match).
            tracing::warn!("sample fetch '{name}' is not supported yet; it never returns a value");
            Fetch::Never
        }
    })
}

fn conv_err(c: &str, msg: &str) -> CompileError {
    CompileError::BadConverterArg {
        conv: c.into(),
        msg: msg.into(),
    }
}

fn int_arg(c: &str, args: &[String], i: usize) -> Result<i64, CompileError> {
    args.get(i)
        .and_then(|a| a.trim().parse().ok())
        .ok_or_else(|| conv_err(c, "expects an integer argument"))
}

/// Compiles one converter.
pub fn compile_conv(c: &ir::Converter) -> Result<Conv, CompileError> {
    let n = c.name.as_str();
    let a = &c.args;
    Ok(match n {
        "lower" => Conv::Lower,
        "upper" => Conv::Upper,
        "base64" => Conv::Base64,
        "b64dec" => Conv::B64Dec,
        "hex" => Conv::Hex,
        "hex2i" => Conv::Hex2i,
        "length" => Conv::Length,
        "field" | "word" => {
            let index = int_arg(n, a, 0)? as i32;
            let delims: Box<[u8]> = a.get(1).map(|d| unescape(d)).unwrap_or_default().into();
            if delims.is_empty() {
                return Err(conv_err(n, "missing delimiters"));
            }
            let count = a.get(2).and_then(|x| x.trim().parse().ok()).unwrap_or(1);
            if n == "field" {
                Conv::Field {
                    index,
                    delims,
                    count,
                }
            } else {
                Conv::Word {
                    index,
                    delims,
                    count,
                }
            }
        }
        "regsub" => {
            let re_src = a.first().ok_or_else(|| conv_err(n, "missing regex"))?;
            let flags = a.get(2).map(String::as_str).unwrap_or("");
            let re = regex::bytes::RegexBuilder::new(re_src)
                .case_insensitive(flags.contains('i'))
                .build()
                .map_err(|e| conv_err(n, &e.to_string()))?;
            Conv::Regsub {
                re,
                subst: a
                    .get(1)
                    .map(|s| s.as_bytes().to_vec())
                    .unwrap_or_default()
                    .into(),
                global: flags.contains('g'),
            }
        }
        "url_dec" => Conv::UrlDec(
            a.first()
                .and_then(|x| x.trim().parse::<i64>().ok())
                .is_some_and(|v| v != 0),
        ),
        "url_enc" => match a.first().map(|x| unquote(x)) {
            None | Some("") | Some("query") => Conv::UrlEnc,
            Some(_) => return Err(conv_err(n, "only 'query' encoding is supported")),
        },
        "sha1" => Conv::Digest(DigestAlgo::Sha1),
        "sha2" => Conv::Digest(match a.first().map(|x| x.trim()).unwrap_or("256") {
            "" | "256" => DigestAlgo::Sha256,
            "224" => DigestAlgo::Sha224,
            "384" => DigestAlgo::Sha384,
            "512" => DigestAlgo::Sha512,
            _ => return Err(conv_err(n, "bits must be 224, 256, 384 or 512")),
        }),
        "digest" => Conv::Digest(
            a.first()
                .and_then(|x| DigestAlgo::from_name(unquote(x)))
                .ok_or_else(|| conv_err(n, "unsupported digest algorithm"))?,
        ),
        "hmac" => {
            let alg = a
                .first()
                .and_then(|x| DigestAlgo::from_name(unquote(x)))
                .ok_or_else(|| conv_err(n, "unsupported digest algorithm"))?;
            let key = a.get(1).map(|x| unquote(x)).unwrap_or("");
            let key = if is_var_name(key) {
                KeyArg::Var(key.into())
            } else {
                KeyArg::Const(
                    base64_decode(key.as_bytes())
                        .ok_or_else(|| conv_err(n, "key must be base64"))?
                        .into(),
                )
            };
            Conv::Hmac(alg, key)
        }
        "iif" => Conv::Iif(
            a.first()
                .map(|x| unquote(x).as_bytes().into())
                .unwrap_or_default(),
            a.get(1)
                .map(|x| unquote(x).as_bytes().into())
                .unwrap_or_default(),
        ),
        "secure_memcmp" => Conv::SecureMemcmp(
            a.first()
                .map(|x| unquote(x).into())
                .ok_or_else(|| conv_err(n, "missing variable"))?,
        ),
        "add_item" => Conv::AddItem {
            delim: a
                .first()
                .map(|x| unescape(unquote(x)).into())
                .unwrap_or_default(),
            var: a
                .get(1)
                .map(|x| unquote(x))
                .filter(|x| !x.is_empty())
                .map(Into::into),
            suffix: a
                .get(2)
                .map(|x| unescape(unquote(x)).into())
                .unwrap_or_default(),
        },
        "be2dec" | "be2hex" => {
            let hex = n == "be2hex";
            let chunk = a
                .get(1)
                .map(|x| x.trim())
                .filter(|x| !x.is_empty())
                .map(|x| {
                    x.parse::<usize>()
                        .map_err(|_| conv_err(n, "bad chunk size"))
                })
                .transpose()?
                .unwrap_or(0);
            if !hex && !(1..=8).contains(&chunk) {
                return Err(conv_err(n, "chunk size must be between 1 and 8"));
            }
            Conv::BeChunks {
                hex,
                sep: a
                    .first()
                    .map(|x| unescape(unquote(x)).into())
                    .unwrap_or_default(),
                chunk,
                truncate: a
                    .get(2)
                    .and_then(|x| x.trim().parse::<i64>().ok())
                    .is_some_and(|v| v != 0),
            }
        }
        "ltrim" => Conv::Ltrim(a.first().map(|s| s.as_bytes().into()).unwrap_or_default()),
        "rtrim" => Conv::Rtrim(a.first().map(|s| s.as_bytes().into()).unwrap_or_default()),
        "bytes" => Conv::Bytes {
            offset: int_arg(n, a, 0)?.max(0) as usize,
            len: a
                .get(1)
                .and_then(|x| x.trim().parse::<i64>().ok())
                .map(|v| v.max(0) as usize),
        },
        "add" | "sub" | "mul" | "div" | "mod" | "and" | "or" | "xor" => {
            let op = match n {
                "add" => ArithOp::Add,
                "sub" => ArithOp::Sub,
                "mul" => ArithOp::Mul,
                "div" => ArithOp::Div,
                "mod" => ArithOp::Mod,
                "and" => ArithOp::And,
                "or" => ArithOp::Or,
                _ => ArithOp::Xor,
            };
            let raw = a.first().ok_or_else(|| conv_err(n, "missing argument"))?;
            let arg = match raw.trim().parse::<i64>() {
                Ok(v) => ArithArg::Int(v),
                Err(_) => ArithArg::Var(raw.trim().into()),
            };
            Conv::Arith { op, arg }
        }
        "neg" => Conv::Neg,
        "not" => Conv::Not,
        "bool" => Conv::Bool,
        "odd" => Conv::Odd,
        "even" => Conv::Even,
        "ipmask" => {
            let v4 = mask_v4(a.first().map(String::as_str).unwrap_or("32"))
                .ok_or_else(|| conv_err(n, "bad mask"))?;
            let v6 = mask_v6(a.get(1).map(String::as_str).unwrap_or("128"))
                .ok_or_else(|| conv_err(n, "bad mask"))?;
            Conv::Ipmask { v4, v6 }
        }
        "concat" => Conv::Concat {
            prefix: a.first().map(|s| s.as_bytes().into()).unwrap_or_default(),
            var: a
                .get(1)
                .filter(|s| !s.is_empty())
                .map(|s| s.as_str().into()),
            suffix: a.get(2).map(|s| s.as_bytes().into()).unwrap_or_default(),
        },
        "djb2" | "sdbm" | "wt6" | "crc32" => {
            use crate::proxy::balance::HashFunction as H;
            let f = match n {
                "djb2" => H::Djb2,
                "sdbm" => H::Sdbm,
                "wt6" => H::Wt6,
                _ => H::Crc32,
            };
            Conv::Hash(f, a.first().map(|x| x == "1").unwrap_or(false))
        }
        "fix_is_valid" => Conv::FixIsValid,
        "fix_tag_value" => Conv::FixTagValue(
            a.first()
                .and_then(|x| fix::tag_id(unquote(x)))
                .ok_or_else(|| conv_err(n, "expects a known FIX tag name or id"))?,
        ),
        "json_query" => Conv::JsonQuery {
            steps: json_query::compile(a.first().map(|x| unquote(x)).unwrap_or(""))
                .ok_or_else(|| conv_err(n, "expects a JSON path starting with '$'"))?,
            int: match a.get(1).map(|x| unquote(x)) {
                None | Some("") => false,
                Some("int") => true,
                Some(_) => return Err(conv_err(n, "output type must be 'int'")),
            },
        },
        "json" => Conv::Json(match a.first().map(|x| unquote(x)).unwrap_or("") {
            "" | "ascii" => JsonInput::Ascii,
            "utf8" | "utf8p" => JsonInput::Utf8 { skip: false },
            "utf8s" | "utf8ps" => JsonInput::Utf8 { skip: true },
            _ => return Err(conv_err(n, "unknown input code")),
        }),
        _ if n.starts_with("map") => {
            let how = match n {
                "map" | "map_str" | "map_str_str" => MapMatch::Str,
                _ if n.starts_with("map_beg") => MapMatch::Beg,
                _ if n.starts_with("map_sub") => MapMatch::Sub,
                _ if n.starts_with("map_end") => MapMatch::End,
                _ if n.starts_with("map_dir") => MapMatch::Dir,
                _ if n.starts_with("map_dom") => MapMatch::Dom,
                _ if n.starts_with("map_reg") => MapMatch::Reg,
                _ if n.starts_with("map_int") => MapMatch::Int,
                _ if n.starts_with("map_ip") => MapMatch::Ip,
                _ => MapMatch::Str,
            };
            let file = a.first().ok_or_else(|| conv_err(n, "missing map file"))?;
            let map = crate::proxy::maps::load(file)
                .map_err(|e| conv_err(n, &format!("cannot read {file}: {e}")))?;
            Conv::Map {
                map,
                default: a.get(1).map(|d| d.as_bytes().into()),
                how,
            }
        }
        _ => {
            tracing::warn!("converter '{n}' is not supported yet; it passes samples unchanged");
            Conv::Identity
        }
    })
}

/// Strips one pair of surrounding quotes from a converter argument.
fn unquote(s: &str) -> &str {
    let t = s.trim();
    for q in ['\'', '"'] {
        if let Some(inner) = t.strip_prefix(q).and_then(|x| x.strip_suffix(q)) {
            return inner;
        }
    }
    t
}

/// Whether a converter argument names a variable (`txn.x`, `sess.x`, ...).
fn is_var_name(s: &str) -> bool {
    ["proc.", "sess.", "txn.", "req.", "res."]
        .iter()
        .any(|p| s.starts_with(p))
}

fn var_bytes(c: &EvalCtx<'_>, name: &str) -> Option<Vec<u8>> {
    Some(match c.req.vars.get(name)? {
        VarValue::Str(s) => s.to_vec(),
        VarValue::Int(i) => i.to_string().into_bytes(),
        VarValue::Bool(b) => vec![if *b { b'1' } else { b'0' }],
        VarValue::Ip(i) => i.to_string().into_bytes(),
    })
}

/// Percent-encodes all bytes but RFC 3986 unreserved characters.
fn url_encode_query(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len() * 3);
    for &ch in b {
        if ch.is_ascii_alphanumeric() || matches!(ch, b'-' | b'.' | b'_' | b'~') {
            out.push(ch);
        } else {
            out.extend_from_slice(format!("%{ch:02X}").as_bytes());
        }
    }
    out
}

/// `be2dec`/`be2hex`: big-endian chunks rendered as decimal or hex, separated.
fn be_chunks(b: &[u8], hex: bool, sep: &[u8], chunk: usize, truncate: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let size = if chunk == 0 { b.len().max(1) } else { chunk };
    for (i, part) in b.chunks(size).enumerate() {
        if truncate && part.len() < size {
            break;
        }
        if i > 0 {
            out.extend_from_slice(sep);
        }
        if hex {
            for x in part {
                out.extend_from_slice(format!("{x:02X}").as_bytes());
            }
        } else {
            let v = part.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x));
            out.extend_from_slice(v.to_string().as_bytes());
        }
    }
    out
}

/// Escapes a string for JSON; None when `Utf8 { skip: false }` meets a bad sequence.
fn json_escape(b: &[u8], input: JsonInput) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    let push_cp = |out: &mut Vec<u8>, cp: u32| match cp {
        0x22 => out.extend_from_slice(b"\\\""),
        0x5c => out.extend_from_slice(b"\\\\"),
        0x2f => out.extend_from_slice(b"\\/"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        0x0a => out.extend_from_slice(b"\\n"),
        0x0d => out.extend_from_slice(b"\\r"),
        0x09 => out.extend_from_slice(b"\\t"),
        c if !(0x20..0x7f).contains(&c) => out.extend_from_slice(format!("\\u{c:04x}").as_bytes()),
        c => out.push(c as u8),
    };
    match input {
        JsonInput::Ascii => {
            for &ch in b {
                push_cp(&mut out, u32::from(ch));
            }
        }
        JsonInput::Utf8 { skip } => {
            for chunk in b.utf8_chunks() {
                for ch in chunk.valid().chars() {
                    let cp = u32::from(ch);
                    if cp > 0xffff {
                        if skip {
                            continue;
                        }
                        return None;
                    }
                    push_cp(&mut out, cp);
                }
                if !chunk.invalid().is_empty() && !skip {
                    return None;
                }
            }
        }
    }
    Some(out)
}

fn mask_v4(s: &str) -> Option<u32> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u32>() {
        return (n <= 32).then(|| u32::MAX.checked_shl(32 - n).unwrap_or(0));
    }
    s.parse::<Ipv4Addr>().ok().map(u32::from)
}

fn mask_v6(s: &str) -> Option<u128> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u32>() {
        return (n <= 128).then(|| u128::MAX.checked_shl(128 - n).unwrap_or(0));
    }
    s.parse::<Ipv6Addr>().ok().map(u128::from)
}

fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            out.push(match b[i + 1] {
                b't' => b'\t',
                b'n' => b'\n',
                b'r' => b'\r',
                c => c,
            });
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

impl CompiledExpr {
    /// Compiles an IR sample expression. Suffixed ACL keywords are resolved by acl.rs.
    pub fn compile(e: &ir::SampleExpr, env: &CompileEnv) -> Result<Self, CompileError> {
        let fetch = compile_fetch(&e.fetch, &e.args, env)?;
        let convs = e
            .converters
            .iter()
            .map(compile_conv)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CompiledExpr { fetch, convs })
    }

    /// Sample mode: one value (last occurrence for header fetches), converters applied.
    pub fn eval<'a>(&self, c: &EvalCtx<'a>) -> Option<Smp<'a>> {
        let mut out = None;
        let last = matches!(
            self.fetch,
            Fetch::Hdr { occ: None, .. }
                | Fetch::HdrVal { occ: None, .. }
                | Fetch::HdrIp { occ: None, .. }
        );
        fetch_each(&self.fetch, c, &mut |s| {
            out = Some(s);
            !last
        });
        let mut v = out?;
        for conv in &self.convs {
            v = apply_conv(conv, v, c)?;
        }
        Some(v)
    }

    /// ACL mode: calls `f` for every value (converters applied) until it returns true.
    /// Returns whether `f` returned true.
    pub fn for_each<'a>(&self, c: &EvalCtx<'a>, f: &mut dyn FnMut(Smp<'a>) -> bool) -> bool {
        if self.convs.is_empty() {
            return fetch_each(&self.fetch, c, f);
        }
        fetch_each(&self.fetch, c, &mut |s| {
            let mut v = s;
            for conv in &self.convs {
                match apply_conv(conv, v, c) {
                    Some(n) => v = n,
                    None => return false,
                }
            }
            f(v)
        })
    }
}

fn headers<'a>(c: &EvalCtx<'a>, side: Side) -> &'a [crate::proxy::ctx::HdrField] {
    match side {
        Side::Req => c.req.headers,
        Side::Res => c.res.map(|r| r.headers).unwrap_or(&[]),
    }
}

/// Calls `f` on each value of header `name` (comma-split unless `full`), in order, until it
/// returns true.
fn for_hdr_values<'a>(
    hs: &'a [crate::proxy::ctx::HdrField],
    name: &[u8],
    full: bool,
    f: &mut dyn FnMut(&'a [u8]) -> bool,
) -> bool {
    for h in hs.iter().filter(|h| h.is(name)) {
        let line: &'a [u8] = &h.value;
        if full {
            if f(trim_blanks(line)) {
                return true;
            }
        } else {
            for v in split_comma_values(line) {
                if f(v) {
                    return true;
                }
            }
        }
    }
    false
}

fn count_hdr_values(hs: &[crate::proxy::ctx::HdrField], name: &[u8], full: bool) -> usize {
    let mut n = 0;
    for_hdr_values(hs, name, full, &mut |_| {
        n += 1;
        false
    });
    n
}

/// Calls `f` on the selected occurrence(s): all (occ None or 0, ACL mode) or one position
/// (1 = first, -1 = last).
fn each_occ<'a>(
    hs: &'a [crate::proxy::ctx::HdrField],
    name: &[u8],
    full: bool,
    occ: Option<i32>,
    f: &mut dyn FnMut(&'a [u8]) -> bool,
) -> bool {
    let target = match occ {
        None | Some(0) => return for_hdr_values(hs, name, full, f),
        Some(n) if n > 0 => n as i64 - 1,
        Some(n) => count_hdr_values(hs, name, full) as i64 + n as i64,
    };
    if target < 0 {
        return false;
    }
    let mut i = 0i64;
    let mut found: Option<&'a [u8]> = None;
    for_hdr_values(hs, name, full, &mut |v| {
        if i == target {
            found = Some(v);
            return true;
        }
        i += 1;
        false
    });
    match found {
        Some(v) => f(v),
        None => false,
    }
}

/// Iterates cookies `name=value` in Cookie headers (request) or the first pair of each
/// Set-Cookie (response).
fn each_cookie<'a>(
    hs: &'a [crate::proxy::ctx::HdrField],
    side: Side,
    f: &mut dyn FnMut(&'a [u8], &'a [u8]) -> bool,
) -> bool {
    let hname: &[u8] = if side == Side::Req {
        b"cookie"
    } else {
        b"set-cookie"
    };
    for h in hs.iter().filter(|h| h.is(hname)) {
        let line: &'a [u8] = &h.value;
        for (k, p) in line.split(|&c| c == b';').enumerate() {
            if side == Side::Res && k > 0 {
                break;
            }
            let p = trim_blanks(p);
            if p.is_empty() {
                continue;
            }
            let (n, v) = match p.iter().position(|&c| c == b'=') {
                Some(i) => (trim_blanks(&p[..i]), trim_blanks(&p[i + 1..])),
                None => (p, &p[p.len()..]),
            };
            if f(n, v) {
                return true;
            }
        }
    }
    false
}

/// Runs a fetch, calling `f` for each value until it returns true.
pub fn fetch_each<'a>(fetch: &Fetch, c: &EvalCtx<'a>, f: &mut dyn FnMut(Smp<'a>) -> bool) -> bool {
    let req = c.req;
    if c.res.is_some() && request_volatile(fetch) {
        return false;
    }
    match fetch {
        Fetch::Method => {
            // HAProxy reports the method parsed at reception for the well-known methods
            // (even after set-method); others are read from the current start line, and only
            // while the request is present.
            let orig: &'a [u8] = req.vars.orig_method().map(|b| &b[..]).unwrap_or(req.method);
            if matches!(
                orig,
                b"GET"
                    | b"HEAD"
                    | b"POST"
                    | b"PUT"
                    | b"DELETE"
                    | b"OPTIONS"
                    | b"CONNECT"
                    | b"TRACE"
            ) {
                f(Smp::str(orig))
            } else if c.res.is_some() {
                false
            } else {
                f(Smp::str(req.method))
            }
        }
        Fetch::Path => f(Smp::str(req.path())),
        Fetch::Pathq => f(Smp::str(req.path_and_query())),
        Fetch::Url => f(Smp::str(req.uri)),
        Fetch::Query => match req.query() {
            Some(q) => f(Smp::str(q)),
            None => false,
        },
        Fetch::Base => {
            let host = req.header(b"host").unwrap_or(b"");
            let path = req.path();
            let mut v = Vec::with_capacity(host.len() + path.len());
            v.extend_from_slice(host);
            v.extend_from_slice(path);
            f(Smp::Str(Cow::Owned(v)))
        }
        Fetch::UrlParam { name, delim } => {
            let Some(q) = req.query() else { return false };
            for p in q.split(|c| c == delim) {
                if p.len() > name.len() && p[name.len()] == b'=' && p[..name.len()] == name[..] {
                    if f(Smp::str(&p[name.len() + 1..])) {
                        return true;
                    }
                } else if p == &name[..] && f(Smp::str(&p[p.len()..])) {
                    return true;
                }
            }
            false
        }
        Fetch::ReqVer => f(Smp::str(
            req.version.strip_prefix(b"HTTP/").unwrap_or(req.version),
        )),
        Fetch::ResVer => match c.res {
            Some(r) => f(Smp::str(
                r.version.strip_prefix(b"HTTP/").unwrap_or(r.version),
            )),
            None => false,
        },
        Fetch::Status => match c.res {
            Some(r) => f(Smp::Int(r.status as i64)),
            None => false,
        },
        Fetch::Hdr {
            side,
            name,
            occ,
            full,
        } => each_occ(headers(c, *side), name, *full, *occ, &mut |v| {
            f(Smp::str(v))
        }),
        Fetch::HdrCnt { side, name, full } => {
            let hs = headers(c, *side);
            let n = match name {
                Some(n) => count_hdr_values(hs, n, *full),
                None => hs.len(),
            };
            f(Smp::Int(n as i64))
        }
        Fetch::HdrVal { side, name, occ } => each_occ(
            headers(c, *side),
            name,
            false,
            *occ,
            &mut |v| match parse_int_prefix(v) {
                Some(i) => f(Smp::Int(i)),
                None => false,
            },
        ),
        Fetch::HdrIp { side, name, occ } => each_occ(
            headers(c, *side),
            name,
            false,
            *occ,
            &mut |v| match Smp::str(v).to_ip() {
                Some(ip) => f(Smp::Ip(ip)),
                None => false,
            },
        ),
        Fetch::Cook { side, name } => {
            each_cookie(headers(c, *side), *side, &mut |n, v| match name {
                Some(want) => n == &want[..] && f(Smp::str(v)),
                None => f(Smp::str(n)),
            })
        }
        Fetch::CookCnt { side, name } => {
            let mut cnt = 0i64;
            each_cookie(headers(c, *side), *side, &mut |n, _| {
                if name.as_ref().map_or(true, |w| n == &w[..]) {
                    cnt += 1;
                }
                false
            });
            f(Smp::Int(cnt))
        }
        Fetch::CookVal { side, name } => each_cookie(headers(c, *side), *side, &mut |n, v| {
            n == &name[..] && parse_int_prefix(v).map(|i| f(Smp::Int(i))).unwrap_or(false)
        }),
        Fetch::Src => f(Smp::Ip(canonical_ip(req.conn.src.ip()))),
        Fetch::SrcPort => f(Smp::Int(req.conn.src.port() as i64)),
        Fetch::Dst => f(Smp::Ip(canonical_ip(req.conn.dst.ip()))),
        Fetch::DstPort => f(Smp::Int(req.conn.dst.port() as i64)),
        Fetch::SslFc => f(Smp::Bool(req.conn.ssl_fc)),
        Fetch::SslFcSni => match &req.conn.ssl_sni {
            Some(s) => f(Smp::str(s)),
            None => false,
        },
        Fetch::FcPpUniqueId => match &req.conn.pp_unique_id {
            Some(s) => f(Smp::str(s)),
            None => false,
        },
        // the request line stays available to the response phase through these
        Fetch::CaptureReqHdr(slot) => match req.vars.capture(*slot) {
            Some(v) => f(Smp::str(v)),
            None => false,
        },
        Fetch::CaptureReqUri => f(Smp::str(req.path_and_query())),
        Fetch::CaptureReqMethod => f(Smp::str(
            req.vars.orig_method().map(|b| &b[..]).unwrap_or(req.method),
        )),
        Fetch::CaptureReqVer => f(Smp::str(req.version)),
        Fetch::HttpAuth(list) => {
            let ok = basic_credentials(req)
                .map(|(u, p)| list.check(&u, &p).is_some())
                .unwrap_or(false);
            f(Smp::Bool(ok))
        }
        Fetch::HttpAuthGroup(list) => {
            let Some((u, p)) = basic_credentials(req) else {
                return false;
            };
            let Some(groups) = list.check(&u, &p) else {
                return false;
            };
            for g in groups {
                if f(Smp::Str(Cow::Owned(g.as_bytes().to_vec()))) {
                    return true;
                }
            }
            false
        }
        Fetch::HttpAuthUser => match basic_credentials(req) {
            Some((u, _)) => f(Smp::Str(Cow::Owned(u))),
            None => false,
        },
        Fetch::HttpAuthPass => match basic_credentials(req) {
            Some((_, p)) => f(Smp::Str(Cow::Owned(p))),
            None => false,
        },
        Fetch::Nbsrv(be) => {
            let name = be.as_deref().unwrap_or(req.backend);
            match req.proxies.and_then(|p| p.nbsrv(name)) {
                Some(n) => f(Smp::Int(n as i64)),
                None => false,
            }
        }
        Fetch::FeName => f(Smp::str(req.frontend.as_bytes())),
        Fetch::BeName => f(Smp::str(req.backend.as_bytes())),
        Fetch::Var(name) => match {
            // the tcp layer's inspection values (`req.len`...) grow with the buffer
            if name.starts_with("\0req.") {
                note_may_change();
            }
            req.vars.get(name)
        } {
            Some(VarValue::Bool(b)) => f(Smp::Bool(*b)),
            Some(VarValue::Int(i)) => f(Smp::Int(*i)),
            Some(VarValue::Ip(i)) => f(Smp::Ip(*i)),
            Some(VarValue::Str(s)) => f(Smp::str(s)),
            None => false,
        },
        Fetch::Const(v) => f(match v {
            Smp::Str(s) => Smp::Str(Cow::Owned(s.to_vec())),
            Smp::Bool(b) => Smp::Bool(*b),
            Smp::Int(i) => Smp::Int(*i),
            Smp::Ip(i) => Smp::Ip(*i),
        }),
        Fetch::ProtoHttp => f(Smp::Bool(true)),
        Fetch::Env(name) => match std::env::var(&**name) {
            Ok(v) => f(Smp::Str(Cow::Owned(v.into_bytes()))),
            Err(_) => false,
        },
        Fetch::Uuid => f(owned(uuid_v4().into_bytes())),
        Fetch::ReqBody => f(Smp::str(req.body)),
        Fetch::ReqBodyLen => f(Smp::Int(req.body.len() as i64)),
        Fetch::Payload { res, off, len } => {
            let data: &[u8] = if *res {
                match req.vars.get(RES_PAYLOAD_VAR) {
                    Some(VarValue::Str(b)) => b,
                    _ => return false,
                }
            } else {
                req.body
            };
            let end = if *len == 0 { data.len() } else { off + len };
            match data.get(*off..end) {
                Some(d) if !d.is_empty() => f(Smp::str(d)),
                _ => {
                    note_may_change();
                    false
                }
            }
        }
        Fetch::Rand(range) => {
            let r = crate::proxy::sample::rand_u32() as u64;
            f(Smp::Int(match range {
                Some(n) if *n > 0 => ((r * n) >> 32) as i64,
                _ => r as i64,
            }))
        }
        Fetch::Date(off) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            f(Smp::Int(now + off))
        }
        Fetch::ReqHdrNames(d) => {
            let mut v = Vec::new();
            for (i, h) in req.headers.iter().enumerate() {
                if i > 0 {
                    v.push(*d);
                }
                v.extend_from_slice(&h.name);
            }
            f(Smp::Str(Cow::Owned(v)))
        }
        Fetch::Never => false,
    }
}

/// IPv4-mapped IPv6 addresses are reported as IPv4 (as HAProxy with v4v6 binds).
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// The variable holding the stream's `unique-id-format` result (a name no `set-var` can use).
pub const UNIQUE_ID_VAR: &str = "\u{0}unique-id";

/// A random (version 4) UUID in its textual form.
pub(crate) fn uuid_v4() -> String {
    let w = [rand_u32(), rand_u32(), rand_u32(), rand_u32()];
    let b: Vec<u8> = w.iter().flat_map(|x| x.to_be_bytes()).collect();
    let hi = u16::from_be_bytes([b[6], b[7]]) & 0x0fff | 0x4000;
    let var = u16::from_be_bytes([b[8], b[9]]) & 0x3fff | 0x8000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        u16::from_be_bytes([b[4], b[5]]),
        hi,
        var,
        b[10..16].iter().fold(0u64, |a, &x| (a << 8) | u64::from(x))
    )
}

pub(crate) fn rand_u32() -> u32 {
    use std::cell::Cell;
    thread_local!(static S: Cell<u32> = Cell::new({
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(7);
        t | 1
    }));
    S.with(|c| {
        let mut x = c.get();
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c.set(x);
        x
    })
}

fn owned<'a>(v: Vec<u8>) -> Smp<'a> {
    Smp::Str(Cow::Owned(v))
}

/// Applies one converter; None drops the sample (conversion failed).
pub fn apply_conv<'a>(conv: &Conv, v: Smp<'a>, c: &EvalCtx<'a>) -> Option<Smp<'a>> {
    Some(match conv {
        Conv::Lower => match v {
            Smp::Str(s) => {
                if s.iter().any(|b| b.is_ascii_uppercase()) {
                    owned(s.to_ascii_lowercase())
                } else {
                    Smp::Str(s)
                }
            }
            other => other,
        },
        Conv::Upper => match v {
            Smp::Str(s) => {
                if s.iter().any(|b| b.is_ascii_lowercase()) {
                    owned(s.to_ascii_uppercase())
                } else {
                    Smp::Str(s)
                }
            }
            other => other,
        },
        Conv::Base64 => owned(base64_encode(&v.to_bytes()).into_bytes()),
        Conv::B64Dec => owned(base64_decode(&v.to_bytes())?),
        Conv::Hex => {
            let b = v.to_bytes();
            let mut s = Vec::with_capacity(b.len() * 2);
            for x in b.iter() {
                s.extend_from_slice(format!("{x:02X}").as_bytes());
            }
            owned(s)
        }
        Conv::Hex2i => {
            // as HAProxy: every character must be a hex digit, else no value
            let b = v.to_bytes();
            let mut n: i64 = 0;
            for c in b.iter() {
                match (*c as char).to_digit(16) {
                    Some(d) => n = (n << 4).wrapping_add(i64::from(d)),
                    None => return None,
                }
            }
            Smp::Int(n)
        }
        Conv::Length => Smp::Int(v.to_bytes().len() as i64),
        Conv::Field {
            index,
            delims,
            count,
        } => field(v, *index, delims, *count, false)?,
        Conv::Word {
            index,
            delims,
            count,
        } => field(v, *index, delims, *count, true)?,
        Conv::Regsub { re, subst, global } => {
            let b = v.to_bytes();
            let rep = regex_subst_template(subst);
            let out = if *global {
                re.replace_all(&b, &rep[..])
            } else {
                re.replace(&b, &rep[..])
            };
            owned(out.into_owned())
        }
        Conv::UrlDec(in_form) => owned(url_decode(&v.to_bytes(), *in_form)),
        Conv::UrlEnc => owned(url_encode_query(&v.to_bytes())),
        Conv::Digest(alg) => owned(alg.digest(&v.to_bytes())),
        Conv::Hmac(alg, key) => {
            let key = match key {
                KeyArg::Const(k) => k.to_vec(),
                KeyArg::Var(name) => base64_decode(&var_bytes(c, name)?)?,
            };
            owned(alg.hmac(&key, &v.to_bytes())?)
        }
        Conv::Iif(t, f) => {
            if v.to_bool() {
                owned(t.to_vec())
            } else {
                owned(f.to_vec())
            }
        }
        Conv::SecureMemcmp(name) => {
            let other = var_bytes(c, name)?;
            let b = v.to_bytes();
            let same = b.len() == other.len()
                && b.iter()
                    .zip(other.iter())
                    .fold(0u8, |acc, (x, y)| acc | (x ^ y))
                    == 0;
            Smp::Bool(same)
        }
        Conv::AddItem { delim, var, suffix } => {
            let mut out = v.to_bytes().into_owned();
            let val = var.as_deref().and_then(|n| var_bytes(c, n));
            let has_more = val.as_ref().is_some_and(|x| !x.is_empty()) || !suffix.is_empty();
            if !out.is_empty() && has_more {
                out.extend_from_slice(delim);
            }
            if let Some(x) = val {
                out.extend_from_slice(&x);
            }
            out.extend_from_slice(suffix);
            owned(out)
        }
        Conv::BeChunks {
            hex,
            sep,
            chunk,
            truncate,
        } => owned(be_chunks(&v.to_bytes(), *hex, sep, *chunk, *truncate)),
        Conv::Ltrim(chars) => match v {
            Smp::Str(Cow::Borrowed(s)) => {
                let start = s.iter().position(|c| !chars.contains(c)).unwrap_or(s.len());
                Smp::str(&s[start..])
            }
            other => {
                let b = other.to_bytes();
                let start = b.iter().position(|c| !chars.contains(c)).unwrap_or(b.len());
                owned(b[start..].to_vec())
            }
        },
        Conv::Rtrim(chars) => {
            let b = v.to_bytes();
            let end = b
                .iter()
                .rposition(|c| !chars.contains(c))
                .map(|p| p + 1)
                .unwrap_or(0);
            owned(b[..end].to_vec())
        }
        Conv::Bytes { offset, len } => {
            let b = v.to_bytes();
            if *offset >= b.len() {
                return None;
            }
            let end = len.map(|l| (*offset + l).min(b.len())).unwrap_or(b.len());
            owned(b[*offset..end].to_vec())
        }
        Conv::Arith { op, arg } => {
            let x = v.to_int()?;
            let y = match arg {
                ArithArg::Int(i) => *i,
                ArithArg::Var(name) => match c.req.vars.get(name)? {
                    VarValue::Int(i) => *i,
                    VarValue::Bool(b) => *b as i64,
                    VarValue::Str(s) => parse_int_prefix(s)?,
                    VarValue::Ip(_) => return None,
                },
            };
            Smp::Int(match op {
                ArithOp::Add => x.saturating_add(y),
                ArithOp::Sub => x.saturating_sub(y),
                ArithOp::Mul => x.saturating_mul(y),
                ArithOp::Div => {
                    if y == 0 {
                        i64::MAX
                    } else {
                        x / y
                    }
                }
                ArithOp::Mod => {
                    if y == 0 {
                        0
                    } else {
                        x % y
                    }
                }
                ArithOp::And => x & y,
                ArithOp::Or => x | y,
                ArithOp::Xor => x ^ y,
            })
        }
        Conv::Neg => Smp::Int(-v.to_int()?),
        Conv::Not => Smp::Bool(!v.to_bool()),
        Conv::Bool => Smp::Bool(v.to_bool()),
        Conv::Odd => Smp::Bool(v.to_int()? & 1 == 1),
        Conv::Even => Smp::Bool(v.to_int()? & 1 == 0),
        // an IPv4-mapped IPv6 address is masked as the IPv4 address it carries, as HAProxy
        Conv::Ipmask { v4, v6 } => match v.to_ip()? {
            IpAddr::V4(a) => Smp::Ip(IpAddr::V4(Ipv4Addr::from(u32::from(a) & v4))),
            IpAddr::V6(a) if a.to_ipv4_mapped().is_some() => {
                let a = a.to_ipv4_mapped()?;
                Smp::Ip(IpAddr::V4(Ipv4Addr::from(u32::from(a) & v4)))
            }
            IpAddr::V6(a) => Smp::Ip(IpAddr::V6(Ipv6Addr::from(u128::from(a) & v6))),
        },
        Conv::Concat {
            prefix,
            var,
            suffix,
        } => {
            let mut out = v.to_bytes().into_owned();
            out.extend_from_slice(prefix);
            if let Some(name) = var {
                if let Some(val) = c.req.vars.get(name) {
                    match val {
                        VarValue::Str(s) => out.extend_from_slice(s),
                        VarValue::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
                        VarValue::Bool(b) => out.push(if *b { b'1' } else { b'0' }),
                        VarValue::Ip(i) => out.extend_from_slice(i.to_string().as_bytes()),
                    }
                }
            }
            out.extend_from_slice(suffix);
            owned(out)
        }
        Conv::Map { map, default, how } => {
            let key = v.to_bytes();
            let entries = map.entries();
            if *how == MapMatch::Reg {
                // map_regm: the value may refer to the pattern's groups (\1 ... \9)
                for e in entries.iter() {
                    let (k, val) = (&e.key, &e.value);
                    let Ok(re) = regex::bytes::Regex::new(&String::from_utf8_lossy(k)) else {
                        continue;
                    };
                    if let Some(caps) = re.captures(&key) {
                        let mut out = Vec::new();
                        caps.expand(&regex_subst_template(val), &mut out);
                        return Some(owned(out));
                    }
                }
                return default.as_ref().map(|d| owned(d.to_vec()));
            }
            let found = entries.iter().find(|e| map_matches(*how, &key, &e.key));
            match (found, default) {
                (Some(e), _) => owned(e.value.to_vec()),
                (None, Some(d)) => owned(d.to_vec()),
                (None, None) => return None,
            }
        }
        Conv::Hash(func, aval) => {
            let h = func.hash(&v.to_bytes());
            Smp::Int(if *aval {
                crate::proxy::balance::full_hash(h)
            } else {
                h
            } as i64)
        }
        Conv::Json(input) => owned(json_escape(&v.to_bytes(), *input)?),
        Conv::FixIsValid => match fix::validate(&v.to_bytes()) {
            fix::Check::Valid => Smp::Bool(true),
            fix::Check::Invalid => Smp::Bool(false),
            fix::Check::NeedMore => {
                note_may_change();
                return None;
            }
        },
        Conv::FixTagValue(tag) => match fix::tag_value(&v.to_bytes(), *tag) {
            fix::TagValue::Found(x) => owned(x.to_vec()),
            fix::TagValue::Absent => return None,
            fix::TagValue::NeedMore => {
                note_may_change();
                return None;
            }
        },
        Conv::JsonQuery { steps, int } => match json_query::query(&v.to_bytes(), steps)? {
            json_query::Found::Str(s) => owned(s),
            json_query::Found::Bool(b) => Smp::Bool(b),
            json_query::Found::Number(t) => {
                let t = std::str::from_utf8(&t).ok()?;
                if *int {
                    // HAProxy: strtoll, then limited to what a JSON integer can hold exactly
                    let end = t
                        .find(|c: char| c != '-' && !c.is_ascii_digit())
                        .unwrap_or(t.len());
                    let i: i64 = t[..end].parse().ok()?;
                    if i.unsigned_abs() > (1u64 << 53) - 1 {
                        return None;
                    }
                    Smp::Int(i)
                } else {
                    owned(json_query::format_g(t.parse::<f64>().ok()?).into_bytes())
                }
            }
        },
        Conv::Identity => v,
    })
}

fn map_matches(how: MapMatch, key: &[u8], pat: &[u8]) -> bool {
    match how {
        MapMatch::Str => key == pat,
        MapMatch::Beg => key.starts_with(pat),
        MapMatch::End => key.ends_with(pat),
        MapMatch::Sub => pat.is_empty() || key.windows(pat.len()).any(|w| w == pat),
        MapMatch::Dir => crate::proxy::acl::match_delimited(key, pat, b'/', false),
        MapMatch::Dom => crate::proxy::acl::match_delimited(key, pat, b'.', false),
        MapMatch::Reg => regex::bytes::Regex::new(&String::from_utf8_lossy(pat))
            .map(|r| r.is_match(key))
            .unwrap_or(false),
        MapMatch::Int => {
            parse_int_prefix(key).is_some() && parse_int_prefix(key) == parse_int_prefix(pat)
        }
        MapMatch::Ip => {
            let ip = Smp::str(key).to_ip();
            let net = std::str::from_utf8(pat)
                .ok()
                .and_then(crate::proxy::acl::parse_net);
            matches!((ip, net), (Some(i), Some(n)) if n.contains(&i))
        }
    }
}

/// HAProxy's `\1` back-references → regex crate's `${1}`.
fn regex_subst_template(subst: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(subst.len() + 8);
    let mut i = 0;
    while i < subst.len() {
        let c = subst[i];
        if c == b'\\' && i + 1 < subst.len() && subst[i + 1].is_ascii_digit() {
            out.extend_from_slice(b"${");
            out.push(subst[i + 1]);
            out.push(b'}');
            i += 2;
        } else if c == b'$' {
            out.extend_from_slice(b"$$");
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Public for rules.rs (replace-header & co use the same back-reference syntax).
pub fn subst_template(subst: &[u8]) -> Vec<u8> {
    regex_subst_template(subst)
}

fn field<'a>(v: Smp<'a>, index: i32, delims: &[u8], count: i32, word: bool) -> Option<Smp<'a>> {
    let s = match v {
        Smp::Str(s) => s,
        other => Cow::Owned(other.to_bytes().into_owned()),
    };
    let is_d = |c: &u8| delims.contains(c);
    // Split into fields: `word` skips empty fields (runs of delimiters).
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for (i, ch) in s.iter().enumerate() {
        if is_d(ch) {
            spans.push((start, i));
            start = i + 1;
        }
    }
    spans.push((start, s.len()));
    if word {
        spans.retain(|(a, b)| b > a);
    }
    let n = spans.len() as i32;
    if index == 0 || index.abs() > n {
        return None;
    }
    let count = if count <= 0 { n } else { count };
    let (first, last) = if index > 0 {
        let f = index - 1;
        (f, (f + count - 1).min(n - 1))
    } else {
        let l = n + index;
        ((l - count + 1).max(0), l)
    };
    let a = spans[first as usize].0;
    let b = spans[last as usize].1;
    Some(match s {
        Cow::Borrowed(x) => Smp::str(&x[a..b]),
        Cow::Owned(x) => owned(x[a..b].to_vec()),
    })
}

fn url_decode(s: &[u8], in_form: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut in_query = in_form;
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'?' => {
                in_query = true;
                out.push(b'?');
            }
            b'+' if in_query => out.push(b' '),
            b'%' if i + 2 < s.len() => match (hexval(s[i + 1]), hexval(s[i + 2])) {
                (Some(a), Some(b)) => {
                    out.push(a * 16 + b);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    out
}

fn hexval(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64_encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = ((b[0] as u32) << 16) | ((b[1] as u32) << 8) | b[2] as u32;
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            B64[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            B64[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

pub fn base64_decode(input: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0;
    for &c in input {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => return None,
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

mod fix;
mod json_query;

/// Variable holding the server data a `tcp-response content` inspection sees (`res.payload`).
pub const RES_PAYLOAD_VAR: &str = "\0res.payload";

thread_local! {
    /// Set by a fetch or converter that lacked data which may still arrive (HAProxy's
    /// SMP_F_MAY_CHANGE); content inspection reads it after each synchronous evaluation.
    static MAY_CHANGE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn note_may_change() {
    MAY_CHANGE.with(|c| c.set(true));
}

/// Whether an evaluation since the last call lacked data that may still arrive (and resets).
pub fn take_may_change() -> bool {
    MAY_CHANGE.with(|c| c.replace(false))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod conv_tests {
    use super::*;
    use crate::proxy::ctx::{RequestCtx, Vars};
    use crate::proxy::testutil::{conn, expr, req};

    /// (expression, request header `h`, expected output; None = no value). Expected values
    /// come from HAProxy's converter reg-tests and the 2.6 manual.
    const CASES: &[(&str, &str, Option<&str>)] = &[
        (
            "req.hdr(h),url_enc",
            "foo=bar+42 42~",
            Some("foo%3Dbar%2B42%2042~"),
        ),
        (
            "req.hdr(h),url_dec",
            "/bla+%20?foo%3Dbar%2B42+42%20",
            Some("/bla+ ?foo=bar+42 42 "),
        ),
        ("req.hdr(h),url_dec(1)", "/bla+%20?a+b", Some("/bla  ?a b")),
        (
            "req.hdr(h),sha1,hex,lower",
            "1",
            Some("356a192b7913b04c54574d18c28d46e6395428ab"),
        ),
        (
            "req.hdr(h),sha2(224),hex,lower",
            "1",
            Some("e25388fde8290dc286a6164fa2d97e551b53498dcbf7bc378eb1f178"),
        ),
        (
            "req.hdr(h),digest(sha256),hex,lower",
            "1",
            Some("6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b"),
        ),
        (
            "req.hdr(h),hmac(sha1,a2V5),hex,lower",
            "1",
            Some("e23feb105f9622241bf23db1638cd2b4208b1f53"),
        ),
        (
            "req.hdr(h),hmac(sha256,a2V5),hex,lower",
            "2",
            Some("ae7b3ee87b8c9214f714df1c2042c7a985b9d711e9938a063937ad1636775a88"),
        ),
        ("req.hdr_cnt(h),iif(ok,ko)", "1", Some("ok")),
        ("req.hdr_cnt(x),iif(ok,ko)", "1", Some("ko")),
        ("req.hdr(h),json", "foo 1/2\"", Some("foo 1\\/2\\\"")),
        (
            "req.hdr(h),be2dec(-,3)",
            "0123456789",
            Some("3158322-3355701-3553080-57"),
        ),
        (
            "req.hdr(h),be2dec(::,3,1)",
            "0123456789",
            Some("3158322::3355701::3553080"),
        ),
        (
            "req.hdr(h),be2hex(--,3),lower",
            "0123456789",
            Some("303132--333435--363738--39"),
        ),
        ("req.hdr(h),be2hex,lower", "0123", Some("30313233")),
        ("req.hdr(h),add_item(-,,_suff_)", "in", Some("in-_suff_")),
        ("req.hdr(x),add_item(-,,_suff_)", "in", None),
        (
            "req.hdr(h),ipmask(24,ffff:ffff:ffff:ffff:ffff:ffff:ffff:fee0)",
            "2001:db8::ffff",
            Some("2001:db8::fee0"),
        ),
        (
            "req.hdr(h),ipmask(255.255.0.0)",
            "10.1.2.3",
            Some("10.1.0.0"),
        ),
    ];

    #[test]
    fn converters_match_haproxy() {
        let c = conn("127.0.0.1:1000", "127.0.0.1:80");
        let vars = Vars::new();
        let env = CompileEnv::default();
        for (text, h, want) in CASES {
            let head = req("GET", "/", &[("h", h)]);
            let r = RequestCtx::new(&head, &c, "fe", "be", &vars);
            let e = CompiledExpr::compile(&expr(text), &env).expect(text);
            let got = e
                .eval(&EvalCtx::new(&r))
                .map(|v| String::from_utf8_lossy(&v.to_bytes()).into_owned());
            assert_eq!(got.as_deref(), *want, "{text} on {h:?}");
        }
    }

    #[test]
    fn json_utf8_modes() {
        assert_eq!(json_escape(b"\xE0", JsonInput::Utf8 { skip: false }), None);
        assert_eq!(
            json_escape(b"-\xE0-", JsonInput::Utf8 { skip: true }).as_deref(),
            Some(&b"--"[..])
        );
        assert_eq!(
            json_escape("é\n".as_bytes(), JsonInput::Utf8 { skip: false }).as_deref(),
            Some(&b"\\u00e9\\n"[..])
        );
    }
}

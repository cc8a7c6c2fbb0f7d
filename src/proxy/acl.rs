//! ACLs and conditions, compiled from the IR at load time.
//!
//! - [`CompiledAcl`]: a sample expression plus a matcher with pre-processed patterns
//!   (case-folded strings, parsed integer ranges and networks, built regexes).
//! - [`AclSet`]: a proxy's named ACLs (same-name declarations are OR-ed, as in HAProxy) plus
//!   the predefined ones (`TRUE`, `HTTP`, `METH_GET`, `LOCALHOST`, ...).
//! - [`CompiledCond`]: `if|unless` OR-of-ANDs of possibly negated ACL references.
//!
//! Evaluation allocates nothing for the usual fetches (path, headers, src, method) and matchers.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use crate::haproxy::ir::{self, MatchMethod};
use crate::proxy::sample::{
    default_match, split_acl_suffix, CompileEnv, CompileError, CompiledExpr, EvalCtx, Fetch, Smp,
};

/// An integer pattern: inclusive range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntRange {
    pub min: i64,
    pub max: i64,
}

impl IntRange {
    /// `N`, `N:M`, `N:`, `:M`, or operator forms `eq|ge|gt|le|lt N` (operator passed separately).
    fn parse(s: &str) -> Option<IntRange> {
        let s = s.trim();
        if let Some((a, b)) = s.split_once(':') {
            let min = if a.is_empty() {
                i64::MIN
            } else {
                a.parse().ok()?
            };
            let max = if b.is_empty() {
                i64::MAX
            } else {
                b.parse().ok()?
            };
            return Some(IntRange { min, max });
        }
        let v: i64 = s.parse().ok()?;
        Some(IntRange { min: v, max: v })
    }
    #[inline]
    fn contains(&self, v: i64) -> bool {
        self.min <= v && v <= self.max
    }
}

/// Case handling of string patterns.
#[derive(Debug, Clone)]
pub struct StrPats {
    pats: Vec<Box<[u8]>>,
    /// Exact-match lookup when there are many patterns (keys case-folded when icase).
    set: Option<HashSet<Box<[u8]>>>,
    /// Substring search for several patterns at once (literal alternation: the regex engine
    /// compiles it to a multi-literal searcher).
    multi: Option<regex::bytes::Regex>,
    icase: bool,
}

/// A pattern matcher.
#[derive(Debug, Clone)]
pub enum Matcher {
    Found,
    Bool,
    Int(Vec<IntRange>),
    Len(Vec<IntRange>),
    Ip(Vec<IpNet>),
    Str(StrPats),
    Beg(StrPats),
    End(StrPats),
    Sub(StrPats),
    Dir(StrPats),
    Dom(StrPats),
    Reg(Vec<regex::bytes::Regex>),
    Bin(Vec<Vec<u8>>),
}

/// One compiled ACL line.
#[derive(Debug, Clone)]
pub struct CompiledAcl {
    pub name: String,
    pub expr: CompiledExpr,
    pub matcher: Matcher,
}

#[inline]
fn eq_case(a: &[u8], b: &[u8], icase: bool) -> bool {
    if icase {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

fn contains_sub(hay: &[u8], pat: &[u8], icase: bool) -> bool {
    if pat.is_empty() {
        return true;
    }
    if pat.len() > hay.len() {
        return false;
    }
    let first = pat[0];
    hay.windows(pat.len()).any(|w| {
        (if icase {
            w[0].eq_ignore_ascii_case(&first)
        } else {
            w[0] == first
        }) && eq_case(w, pat, icase)
    })
}

/// HAProxy's `dir`/`dom` matching: `pat` (without leading/trailing delimiters) must appear in
/// `hay` bounded by `delim` or the string ends.
pub fn match_delimited(hay: &[u8], pat: &[u8], delim: u8, icase: bool) -> bool {
    let mut p = pat;
    while let [d, rest @ ..] = p {
        if *d != delim {
            break;
        }
        p = rest;
    }
    while let [rest @ .., d] = p {
        if *d != delim {
            break;
        }
        p = rest;
    }
    if p.is_empty() {
        return hay.contains(&delim) || hay.is_empty();
    }
    if p.len() > hay.len() {
        return false;
    }
    for i in 0..=hay.len() - p.len() {
        let before_ok = i == 0 || hay[i - 1] == delim;
        let after = i + p.len();
        let after_ok = after == hay.len() || hay[after] == delim;
        if before_ok && after_ok && eq_case(&hay[i..after], p, icase) {
            return true;
        }
    }
    false
}

/// Parses an IP/network pattern (`10.0.0.0/8`, `1.2.3.4`, `::1`, `10.0.0.0/255.0.0.0`).
pub fn parse_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    if s == "localhost" {
        return parse_net("127.0.0.1");
    }
    if let Ok(n) = s.parse::<IpNet>() {
        return Some(n);
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(IpNet::from(ip));
    }
    let (a, m) = s.split_once('/')?;
    let ip: std::net::Ipv4Addr = a.parse().ok()?;
    let mask: std::net::Ipv4Addr = m.parse().ok()?;
    let len = u32::from(mask).count_ones() as u8;
    ipnet::Ipv4Net::new(ip, len).ok().map(IpNet::V4)
}

fn net_contains(n: &IpNet, ip: &IpAddr) -> bool {
    if n.contains(ip) {
        return true;
    }
    // IPv4 patterns match IPv4-mapped IPv6 samples and vice versa.
    match (n, ip) {
        (IpNet::V4(n4), IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map(|v4| n4.contains(&v4))
            .unwrap_or(false),
        (IpNet::V6(n6), IpAddr::V4(v4)) => n6.contains(&v4.to_ipv6_mapped()),
        _ => false,
    }
}

impl StrPats {
    fn new(pats: Vec<Box<[u8]>>, icase: bool, exact: bool) -> Self {
        let set = (exact && pats.len() > 8).then(|| {
            pats.iter()
                .map(|p| {
                    if icase {
                        p.to_ascii_lowercase().into_boxed_slice()
                    } else {
                        p.clone()
                    }
                })
                .collect()
        });
        StrPats {
            pats,
            set,
            multi: None,
            icase,
        }
    }

    /// Substring matcher: one literal-alternation regex instead of one scan per pattern.
    fn for_sub(pats: Vec<Box<[u8]>>, icase: bool) -> Self {
        let mut me = StrPats::new(pats, icase, false);
        if !me.pats.is_empty() && me.pats.iter().all(|p| !p.is_empty()) {
            let alts: Option<Vec<String>> = me
                .pats
                .iter()
                .map(|p| std::str::from_utf8(p).ok().map(regex::escape))
                .collect();
            if let Some(alts) = alts {
                me.multi = regex::bytes::RegexBuilder::new(&alts.join("|"))
                    .case_insensitive(icase)
                    .unicode(false)
                    .build()
                    .ok();
            }
        }
        me
    }
}

impl Matcher {
    /// Whether sample `s` matches any pattern.
    pub fn matches(&self, s: &Smp<'_>) -> bool {
        match self {
            Matcher::Found => true,
            Matcher::Bool => s.to_bool(),
            Matcher::Int(r) => s
                .to_int()
                .map(|v| r.iter().any(|x| x.contains(v)))
                .unwrap_or(false),
            Matcher::Len(r) => {
                let l = match s {
                    Smp::Str(b) => b.len(),
                    other => other.to_bytes().len(),
                } as i64;
                r.iter().any(|x| x.contains(l))
            }
            Matcher::Ip(nets) => match s.to_ip() {
                Some(ip) => nets.iter().any(|n| net_contains(n, &ip)),
                None => false,
            },
            Matcher::Reg(res) => {
                let b = s.to_bytes();
                res.iter().any(|r| r.is_match(&b))
            }
            Matcher::Bin(pats) => {
                let b = s.to_bytes();
                pats.iter().any(|p| b[..] == p[..])
            }
            Matcher::Str(p) => {
                let b = s.to_bytes();
                if let Some(set) = &p.set {
                    if p.icase {
                        let mut buf = [0u8; 256];
                        if b.len() <= buf.len() {
                            let k = &mut buf[..b.len()];
                            k.copy_from_slice(&b);
                            k.make_ascii_lowercase();
                            return set.contains(&k[..]);
                        }
                        return set.contains(&b.to_ascii_lowercase()[..]);
                    }
                    return set.contains(&b[..]);
                }
                p.pats.iter().any(|x| eq_case(&b, x, p.icase))
            }
            Matcher::Beg(p) => {
                let b = s.to_bytes();
                p.pats
                    .iter()
                    .any(|x| b.len() >= x.len() && eq_case(&b[..x.len()], x, p.icase))
            }
            Matcher::End(p) => {
                let b = s.to_bytes();
                p.pats
                    .iter()
                    .any(|x| b.len() >= x.len() && eq_case(&b[b.len() - x.len()..], x, p.icase))
            }
            Matcher::Sub(p) => {
                let b = s.to_bytes();
                match &p.multi {
                    Some(re) => re.is_match(&b),
                    None => p.pats.iter().any(|x| contains_sub(&b, x, p.icase)),
                }
            }
            Matcher::Dir(p) => {
                let b = s.to_bytes();
                p.pats.iter().any(|x| match_delimited(&b, x, b'/', p.icase))
            }
            Matcher::Dom(p) => {
                let b = s.to_bytes();
                p.pats.iter().any(|x| match_delimited(&b, x, b'.', p.icase))
            }
        }
    }

    /// Builds a matcher for `method` from IR patterns.
    pub fn compile(
        method: MatchMethod,
        patterns: &[ir::Pattern],
        icase: bool,
    ) -> Result<Matcher, CompileError> {
        let texts = || {
            patterns.iter().filter_map(|p| match p {
                ir::Pattern::Value(v) => Some(v.as_str()),
                ir::Pattern::Regex(_) => None,
            })
        };
        let bad = |p: &str, msg: &str| CompileError::BadPattern {
            pattern: p.to_string(),
            msg: msg.to_string(),
        };
        let ints = || -> Result<Vec<IntRange>, CompileError> {
            let words: Vec<&str> = texts().collect();
            let mut out = Vec::new();
            let mut i = 0;
            while i < words.len() {
                let w = words[i];
                let op = match w {
                    "eq" | "ge" | "gt" | "le" | "lt" => Some(w),
                    _ => None,
                };
                if let Some(op) = op {
                    let v: i64 = words
                        .get(i + 1)
                        .and_then(|x| x.trim().parse().ok())
                        .ok_or_else(|| bad(w, "expects an integer after the operator"))?;
                    out.push(match op {
                        "eq" => IntRange { min: v, max: v },
                        "ge" => IntRange {
                            min: v,
                            max: i64::MAX,
                        },
                        "gt" => IntRange {
                            min: v.saturating_add(1),
                            max: i64::MAX,
                        },
                        "le" => IntRange {
                            min: i64::MIN,
                            max: v,
                        },
                        _ => IntRange {
                            min: i64::MIN,
                            max: v.saturating_sub(1),
                        },
                    });
                    i += 2;
                    continue;
                }
                out.push(IntRange::parse(w).ok_or_else(|| bad(w, "not an integer or range"))?);
                i += 1;
            }
            Ok(out)
        };
        let strs = |exact: bool| {
            StrPats::new(
                texts()
                    .map(|t| t.as_bytes().to_vec().into_boxed_slice())
                    .collect(),
                icase,
                exact,
            )
        };
        Ok(match method {
            MatchMethod::Found => Matcher::Found,
            MatchMethod::Bool => Matcher::Bool,
            MatchMethod::Int => Matcher::Int(ints()?),
            MatchMethod::Len => Matcher::Len(ints()?),
            MatchMethod::Ip => {
                let mut nets = Vec::new();
                for t in texts() {
                    nets.push(parse_net(t).ok_or_else(|| bad(t, "not an IP address or network"))?);
                }
                Matcher::Ip(nets)
            }
            MatchMethod::Str => Matcher::Str(strs(true)),
            MatchMethod::Beg => Matcher::Beg(strs(false)),
            MatchMethod::End => Matcher::End(strs(false)),
            MatchMethod::Sub => Matcher::Sub(StrPats::for_sub(
                texts()
                    .map(|t| t.as_bytes().to_vec().into_boxed_slice())
                    .collect(),
                icase,
            )),
            MatchMethod::Dir => Matcher::Dir(strs(false)),
            MatchMethod::Dom => Matcher::Dom(strs(false)),
            MatchMethod::Reg => {
                let mut res = Vec::new();
                for p in patterns {
                    let src = match p {
                        ir::Pattern::Value(v) => v.as_str(),
                        ir::Pattern::Regex(r) => r.0.as_str(),
                    };
                    match regex::bytes::RegexBuilder::new(src)
                        .case_insensitive(icase)
                        .build()
                    {
                        Ok(r) => res.push(r),
                        // PCRE-only syntax the regex crate lacks: this pattern never matches.
                        Err(e) => tracing::warn!("regex '{src}' not supported: {e}"),
                    }
                }
                Matcher::Reg(res)
            }
            MatchMethod::Bin => {
                let mut out = Vec::new();
                for t in texts() {
                    out.push(hex_decode(t).ok_or_else(|| bad(t, "not an hex string"))?);
                }
                Matcher::Bin(out)
            }
        })
    }
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.trim().as_bytes();
    if b.len() % 2 != 0 {
        return None;
    }
    b.chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).ok()?, 16).ok())
        .collect()
}

impl CompiledAcl {
    /// Compiles one IR ACL (fetch with optional implied suffix, flags, patterns).
    pub fn compile(acl: &ir::Acl, env: &CompileEnv) -> Result<CompiledAcl, CompileError> {
        let mut expr_ir = acl.expr.clone();
        let mut implied = None;
        if let Some((base, m)) = split_acl_suffix(&acl.expr.fetch) {
            expr_ir.fetch = base.to_string();
            implied = Some(m);
        }
        let expr = CompiledExpr::compile(&expr_ir, env)?;
        let natural = default_match(&expr.fetch);
        let mut method = acl.flags.match_method.or(implied).unwrap_or(natural);
        // An ACL on a boolean fetch with patterns compares integers (`ssl_fc 1`).
        if method == MatchMethod::Bool && !acl.patterns.is_empty() {
            method = MatchMethod::Int;
        }
        // Converters change the type: a string fetch piped into `length` matches as int.
        if acl.flags.match_method.is_none() && implied.is_none() && !expr.convs.is_empty() {
            use crate::proxy::sample::Conv;
            if let Some(last) = expr.convs.last() {
                method = match last {
                    Conv::Length
                    | Conv::Arith { .. }
                    | Conv::Neg
                    | Conv::Hash(..)
                    | Conv::Hex2i => MatchMethod::Int,
                    Conv::Bool
                    | Conv::Not
                    | Conv::Odd
                    | Conv::Even
                    | Conv::SecureMemcmp(_)
                    | Conv::FixIsValid => {
                        if acl.patterns.is_empty() {
                            MatchMethod::Bool
                        } else {
                            MatchMethod::Int
                        }
                    }
                    Conv::Ipmask { .. } => MatchMethod::Ip,
                    _ => {
                        if matches!(
                            natural,
                            MatchMethod::Int | MatchMethod::Ip | MatchMethod::Bin
                        ) {
                            MatchMethod::Str
                        } else {
                            natural
                        }
                    }
                };
            }
        }
        let matcher = Matcher::compile(method, &acl.patterns, acl.flags.ignore_case)?;
        Ok(CompiledAcl {
            name: acl.name.clone(),
            expr,
            matcher,
        })
    }

    /// Whether the ACL matches. A pattern-less non-boolean ACL never matches, as in HAProxy.
    #[inline]
    pub fn matches(&self, c: &EvalCtx<'_>) -> bool {
        match &self.matcher {
            Matcher::Found => self.expr.for_each(c, &mut |_| true),
            m => self.expr.for_each(c, &mut |s| m.matches(&s)),
        }
    }
}

/// A reference to the ACL lines a condition term names.
#[derive(Debug, Clone)]
pub struct AclGroup(pub Arc<[CompiledAcl]>);

impl AclGroup {
    #[inline]
    pub fn matches(&self, c: &EvalCtx<'_>) -> bool {
        self.0.iter().any(|a| a.matches(c))
    }
}

/// A proxy's ACLs by name.
#[derive(Debug, Clone, Default)]
pub struct AclSet {
    by_name: HashMap<String, AclGroup>,
}

/// HAProxy 2.6's predefined ACLs: (name, fetch, args, method, patterns).
const PREDEFINED: &[(&str, &str, &str, MatchMethod, &[&str])] = &[
    ("FALSE", "always_false", "", MatchMethod::Bool, &[]),
    ("TRUE", "always_true", "", MatchMethod::Bool, &[]),
    ("HTTP", "req.proto_http", "", MatchMethod::Bool, &[]),
    ("HTTP_1.0", "req.ver", "", MatchMethod::Str, &["1.0"]),
    ("HTTP_1.1", "req.ver", "", MatchMethod::Str, &["1.1"]),
    ("HTTP_2.0", "req.ver", "", MatchMethod::Str, &["2.0"]),
    (
        "HTTP_CONTENT",
        "req.hdr_val",
        "content-length",
        MatchMethod::Int,
        &["gt", "0"],
    ),
    ("HTTP_URL_ABS", "url", "", MatchMethod::Reg, &["^[^/:]*://"]),
    ("HTTP_URL_SLASH", "url", "", MatchMethod::Beg, &["/"]),
    ("HTTP_URL_STAR", "url", "", MatchMethod::Str, &["*"]),
    (
        "LOCALHOST",
        "src",
        "",
        MatchMethod::Ip,
        &["127.0.0.1/8", "::1"],
    ),
    ("METH_CONNECT", "method", "", MatchMethod::Str, &["CONNECT"]),
    ("METH_DELETE", "method", "", MatchMethod::Str, &["DELETE"]),
    ("METH_GET", "method", "", MatchMethod::Str, &["GET", "HEAD"]),
    ("METH_HEAD", "method", "", MatchMethod::Str, &["HEAD"]),
    ("METH_OPTIONS", "method", "", MatchMethod::Str, &["OPTIONS"]),
    ("METH_POST", "method", "", MatchMethod::Str, &["POST"]),
    ("METH_PUT", "method", "", MatchMethod::Str, &["PUT"]),
    ("METH_TRACE", "method", "", MatchMethod::Str, &["TRACE"]),
    ("RDP_COOKIE", "always_false", "", MatchMethod::Bool, &[]),
    ("REQ_CONTENT", "always_false", "", MatchMethod::Bool, &[]),
    ("WAIT_END", "always_true", "", MatchMethod::Bool, &[]),
];

fn predefined(name: &str, env: &CompileEnv) -> Option<AclGroup> {
    let (_, fetch, arg, method, pats) = PREDEFINED.iter().find(|p| p.0 == name)?;
    let acl = ir::Acl {
        name: name.to_string(),
        expr: ir::SampleExpr {
            fetch: fetch.to_string(),
            args: if arg.is_empty() {
                vec![]
            } else {
                vec![arg.to_string()]
            },
            converters: vec![],
        },
        flags: ir::AclFlags {
            match_method: Some(*method),
            ..Default::default()
        },
        patterns: pats
            .iter()
            .map(|p| ir::Pattern::Value(p.to_string()))
            .collect(),
        span: Default::default(),
    };
    CompiledAcl::compile(&acl, env)
        .ok()
        .map(|a| AclGroup(Arc::from(vec![a])))
}

impl AclSet {
    /// Compiles a proxy's `acl` lines.
    pub fn compile(acls: &[ir::Acl], env: &CompileEnv) -> Result<AclSet, CompileError> {
        let mut grouped: Vec<(String, Vec<CompiledAcl>)> = Vec::new();
        for a in acls {
            let c = CompiledAcl::compile(a, env)?;
            match grouped.iter_mut().find(|(n, _)| *n == a.name) {
                Some((_, v)) => v.push(c),
                None => grouped.push((a.name.clone(), vec![c])),
            }
        }
        Ok(AclSet {
            by_name: grouped
                .into_iter()
                .map(|(n, v)| (n, AclGroup(Arc::from(v))))
                .collect(),
        })
    }

    /// The named ACL (proxy's own first, then predefined).
    pub fn get(&self, name: &str, env: &CompileEnv) -> Option<AclGroup> {
        self.by_name
            .get(name)
            .cloned()
            .or_else(|| predefined(name, env))
    }
}

/// One term of a condition.
#[derive(Debug, Clone)]
pub struct CondTerm {
    pub negated: bool,
    pub acl: AclGroup,
}

/// A compiled `if|unless` condition.
#[derive(Debug, Clone)]
pub struct CompiledCond {
    pub unless: bool,
    /// OR of ANDs.
    pub terms: Vec<Vec<CondTerm>>,
}

impl CompiledCond {
    pub fn compile(
        c: &ir::Condition,
        acls: &AclSet,
        env: &CompileEnv,
    ) -> Result<CompiledCond, CompileError> {
        let mut terms = Vec::with_capacity(c.terms.len());
        for and in &c.terms {
            let mut v = Vec::with_capacity(and.len());
            for t in and {
                let acl = match &t.acl {
                    ir::AclRef::Named(n) => acls
                        .get(n, env)
                        .ok_or_else(|| CompileError::UnknownAcl(n.clone()))?,
                    ir::AclRef::Anonymous(a) => {
                        AclGroup(Arc::from(vec![CompiledAcl::compile(a, env)?]))
                    }
                };
                v.push(CondTerm {
                    negated: t.negated,
                    acl,
                });
            }
            terms.push(v);
        }
        Ok(CompiledCond {
            unless: c.polarity == ir::Polarity::Unless,
            terms,
        })
    }

    /// Compiles an optional condition (None = always true).
    pub fn compile_opt(
        c: Option<&ir::Condition>,
        acls: &AclSet,
        env: &CompileEnv,
    ) -> Result<Option<CompiledCond>, CompileError> {
        c.map(|c| CompiledCond::compile(c, acls, env)).transpose()
    }

    /// Evaluates the condition.
    pub fn eval(&self, c: &EvalCtx<'_>) -> bool {
        let any = self
            .terms
            .iter()
            .any(|and| and.iter().all(|t| t.acl.matches(c) != t.negated));
        any != self.unless
    }
}

/// Evaluates an optional condition (absent = true).
#[inline]
pub fn cond_ok(c: Option<&CompiledCond>, ctx: &EvalCtx<'_>) -> bool {
    c.map_or(true, |c| c.eval(ctx))
}

/// Whether a fetch is usable in a request context (for callers that want to warn).
pub fn is_response_fetch(f: &Fetch) -> bool {
    matches!(
        f,
        Fetch::Status
            | Fetch::ResVer
            | Fetch::Hdr {
                side: crate::proxy::sample::Side::Res,
                ..
            }
    )
}

#[cfg(test)]
mod tests;

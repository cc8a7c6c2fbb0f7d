//! Helpers for unit tests of the L7 decision modules: tiny text → IR builders (the real
//! parser lives in the haproxy front end) and request builders.
#![cfg(test)]

use bytes::Bytes;

use crate::haproxy::ir;
use crate::proxy::ctx::{ConnInfo, HdrField, RequestHead};

/// `fetch(a,b),conv1(x),conv2` → SampleExpr (no nested parentheses or quoted commas).
pub fn expr(text: &str) -> ir::SampleExpr {
    let mut parts = split_top(text, b',').into_iter();
    let first = parts.next().unwrap_or_default();
    let (fetch, args) = name_args(&first);
    let converters = parts
        .map(|p| {
            let (name, args) = name_args(&p);
            ir::Converter { name, args }
        })
        .collect();
    ir::SampleExpr {
        fetch,
        args,
        converters,
    }
}

fn split_top(s: &str, sep: u8) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for ch in s.chars() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if ch as u32 == sep as u32 && depth == 0 {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(ch);
        }
    }
    out.push(cur);
    out
}

fn name_args(s: &str) -> (String, Vec<String>) {
    match s.find('(') {
        Some(i) => {
            let inner = s[i + 1..].trim_end_matches(')');
            let args = if inner.is_empty() {
                vec![]
            } else {
                split_top(inner, b',')
            };
            (s[..i].to_string(), args)
        }
        None => (s.to_string(), vec![]),
    }
}

/// `fetch [-i] [-m meth] [--] patterns...` → Acl named `name`.
pub fn acl(name: &str, text: &str) -> ir::Acl {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut flags = ir::AclFlags::default();
    let mut i = 1;
    while i < words.len() && words[i].starts_with('-') {
        match words[i] {
            "-i" => flags.ignore_case = true,
            "-n" => flags.no_dns = true,
            "-m" => {
                i += 1;
                flags.match_method = Some(match words[i] {
                    "found" => ir::MatchMethod::Found,
                    "bool" => ir::MatchMethod::Bool,
                    "int" => ir::MatchMethod::Int,
                    "ip" => ir::MatchMethod::Ip,
                    "bin" => ir::MatchMethod::Bin,
                    "len" => ir::MatchMethod::Len,
                    "str" => ir::MatchMethod::Str,
                    "sub" => ir::MatchMethod::Sub,
                    "reg" => ir::MatchMethod::Reg,
                    "beg" => ir::MatchMethod::Beg,
                    "end" => ir::MatchMethod::End,
                    "dir" => ir::MatchMethod::Dir,
                    _ => ir::MatchMethod::Dom,
                });
            }
            "--" => {
                i += 1;
                break;
            }
            _ => break,
        }
        i += 1;
    }
    ir::Acl {
        name: name.to_string(),
        expr: expr(words[0]),
        flags,
        patterns: words[i..]
            .iter()
            .map(|w| ir::Pattern::Value(w.to_string()))
            .collect(),
        span: Default::default(),
    }
}

/// `a b || !c` style condition over named ACLs, or `{ anon acl }` blocks.
pub fn cond(text: &str) -> ir::Condition {
    let (polarity, rest) = if let Some(r) = text.strip_prefix("unless ") {
        (ir::Polarity::Unless, r)
    } else {
        (ir::Polarity::If, text.strip_prefix("if ").unwrap_or(text))
    };
    let mut terms = vec![vec![]];
    let mut toks = rest.split_whitespace().peekable();
    while let Some(t) = toks.next() {
        if t == "||" || t == "or" {
            terms.push(vec![]);
            continue;
        }
        let (negated, t) = match t.strip_prefix('!') {
            Some(x) => (true, x),
            None => (false, t),
        };
        let acl = if t == "{" {
            let mut inner = Vec::new();
            for w in toks.by_ref() {
                if w == "}" {
                    break;
                }
                inner.push(w);
            }
            ir::AclRef::Anonymous(Box::new(acl("", &inner.join(" "))))
        } else {
            ir::AclRef::Named(t.to_string())
        };
        if let Some(last) = terms.last_mut() {
            last.push(ir::CondTerm { negated, acl });
        }
    }
    ir::Condition {
        polarity,
        terms,
        span: Default::default(),
    }
}

/// A GET-like request head.
pub fn req(method: &str, uri: &str, hdrs: &[(&str, &str)]) -> RequestHead {
    RequestHead {
        method: Bytes::copy_from_slice(method.as_bytes()),
        uri: Bytes::copy_from_slice(uri.as_bytes()),
        version: Bytes::from_static(b"HTTP/1.1"),
        headers: hdrs
            .iter()
            .map(|(n, v)| HdrField::new(n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect(),
        ..Default::default()
    }
}

pub fn conn(src: &str, dst: &str) -> ConnInfo {
    ConnInfo {
        src: src.parse().expect("src addr"),
        dst: dst.parse().expect("dst addr"),
        ssl_fc: false,
        ssl_sni: None,
        pp_unique_id: None,
    }
}

/// Mini log-format parser: literals, `%[expr]`, `%var`, `%{+Q}var`.
pub fn lf(text: &str) -> ir::LogFormat {
    let mut nodes = Vec::new();
    let mut lit = String::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 1 < b.len() {
            let mut flags = Vec::new();
            let mut j = i + 1;
            if b[j] == b'{' {
                let end = text[j..].find('}').map(|e| j + e).unwrap_or(b.len() - 1);
                flags = text[j + 1..end].split(',').map(|s| s.to_string()).collect();
                j = end + 1;
            }
            if j < b.len() && b[j] == b'[' {
                let end = text[j..].find(']').map(|e| j + e).unwrap_or(b.len());
                if !lit.is_empty() {
                    nodes.push(ir::LogFormatNode::Literal(std::mem::take(&mut lit)));
                }
                nodes.push(ir::LogFormatNode::Sample {
                    expr: expr(&text[j + 1..end]),
                    flags,
                });
                i = end + 1;
                continue;
            }
            let end = text[j..]
                .find(|c: char| !c.is_ascii_alphanumeric())
                .map(|e| j + e)
                .unwrap_or(b.len());
            if !lit.is_empty() {
                nodes.push(ir::LogFormatNode::Literal(std::mem::take(&mut lit)));
            }
            nodes.push(ir::LogFormatNode::Var {
                name: text[j..end].to_string(),
                flags,
            });
            i = end;
            continue;
        }
        lit.push(b[i] as char);
        i += 1;
    }
    if !lit.is_empty() {
        nodes.push(ir::LogFormatNode::Literal(lit));
    }
    ir::LogFormat {
        text: text.to_string(),
        nodes,
    }
}

pub fn rule(action: ir::HttpAction, c: Option<&str>) -> ir::HttpRule {
    ir::HttpRule {
        action,
        cond: c.map(cond),
        span: Default::default(),
    }
}

pub fn re(s: &str) -> ir::Regex {
    ir::Regex(regex::Regex::new(s).expect("test regex"))
}

//! Sample expressions (`fetch(args),conv(args)`), ACLs, conditions and log-format strings.

use std::path::Path;

use nom::bytes::complete::take_while1;
use nom::IResult;

use crate::diag::Span;
use crate::haproxy::catalogue;
use crate::haproxy::ir::{
    Acl, AclFlags, AclRef, CondTerm, Condition, Converter, LogFormat, LogFormatNode, MatchMethod,
    Pattern, Polarity, Regex, SampleExpr,
};

/// ACLs every proxy knows without declaring them.
pub const PREDEFINED_ACLS: &[&str] = &[
    "FALSE",
    "HTTP",
    "HTTP_1.0",
    "HTTP_1.1",
    "HTTP_2.0",
    "HTTP_CONTENT",
    "HTTP_URL_ABS",
    "HTTP_URL_SLASH",
    "HTTP_URL_STAR",
    "LOCALHOST",
    "METH_CONNECT",
    "METH_DELETE",
    "METH_GET",
    "METH_HEAD",
    "METH_OPTIONS",
    "METH_POST",
    "METH_PUT",
    "METH_TRACE",
    "RDP_COOKIE",
    "REQ_CONTENT",
    "TRUE",
    "WAIT_END",
];

fn fetch_name(input: &str) -> IResult<&str, &str> {
    take_while1(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')(input)
}

/// Reads `(a,b,...)` starting at `(`; returns args and the rest after `)`.
/// Quotes and backslashes are honoured; nested parentheses are kept inside an argument.
fn arg_list(input: &str) -> Result<(Vec<String>, &str), String> {
    let b = input.as_bytes();
    debug_assert!(b.first() == Some(&b'('));
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut q: Option<char> = None;
    let mut it = input.char_indices().skip(1).peekable();
    while let Some((i, c)) = it.next() {
        match (q, c) {
            (Some(qc), _) if c == qc => q = None,
            // as haproxy's make_arg_list: outside single quotes a backslash escapes `\\`,
            // space and quotes and makes \r \n \t; before anything else it stays
            (Some('"') | None, '\\') => match it.peek().map(|&(_, n)| n) {
                Some(n @ ('\\' | ' ' | '"' | '\'')) => {
                    it.next();
                    cur.push(n);
                }
                Some(n @ ('r' | 'n' | 't')) => {
                    it.next();
                    cur.push(match n {
                        'r' => '\r',
                        'n' => '\n',
                        _ => '\t',
                    });
                }
                _ => cur.push('\\'),
            },
            (Some(_), _) => cur.push(c),
            (None, '\'' | '"') => q = Some(c),
            (None, ')') => {
                if !cur.is_empty() || !args.is_empty() {
                    args.push(std::mem::take(&mut cur));
                }
                return Ok((args, &input[i + 1..]));
            }
            (None, ',') => args.push(std::mem::take(&mut cur)),
            (None, _) => cur.push(c),
        }
    }
    Err("missing closing ')'".to_string())
}

/// Converters whose arguments name a pattern/map file that haproxy opens at load.
fn converter_takes_file(name: &str) -> bool {
    name.starts_with("map") && name != "mapping"
}

/// Parses a sample expression. `check_files` makes map converters open their file (like -c).
pub fn parse_sample_expr(text: &str) -> Result<SampleExpr, String> {
    let (rest, fetch) = fetch_name(text).map_err(|_| "missing fetch method".to_string())?;
    if !catalogue::is_fetch(fetch) {
        return Err(format!("unknown fetch method '{fetch}'"));
    }
    let mut expr = SampleExpr {
        fetch: fetch.to_string(),
        args: Vec::new(),
        converters: Vec::new(),
    };
    let mut rest = rest;
    if rest.starts_with('(') {
        let (args, r) =
            arg_list(rest).map_err(|e| format!("invalid args in fetch method '{fetch}' : {e}"))?;
        expr.args = args;
        rest = r;
    }
    loop {
        if rest.is_empty() {
            break;
        }
        let Some(r) = rest.strip_prefix(',') else {
            return Err(match expr.converters.last() {
                Some(c) => format!("missing comma after converter '{}'", c.name),
                None => format!("missing comma after fetch keyword '{fetch}'"),
            });
        };
        let (r, name) = fetch_name(r).map_err(|_| "missing converter name".to_string())?;
        if !catalogue::is_converter(name) {
            return Err(format!("unknown converter '{name}'"));
        }
        let mut conv = Converter {
            name: name.to_string(),
            args: Vec::new(),
        };
        rest = r;
        if rest.starts_with('(') {
            let (args, r) =
                arg_list(rest).map_err(|e| format!("invalid args in converter '{name}' : {e}"))?;
            conv.args = args;
            rest = r;
        }
        if converter_takes_file(name) {
            if let Some(file) = conv.args.first() {
                let seen = pattern_file_seen(file);
                if !seen && !crate::haproxy::parser::config_file_readable(file) {
                    return Err(format!(
                        "invalid args in converter '{name}' : failed to open pattern file <{file}>"
                    ));
                }
            }
        }
        expr.converters.push(conv);
    }
    Ok(expr)
}

/// Splits an ACL keyword like `hdr_beg` into the base fetch and its implied match method.
pub fn acl_keyword(name: &str) -> Option<(String, Option<MatchMethod>)> {
    const SUFFIXES: &[(&str, MatchMethod)] = &[
        ("_beg", MatchMethod::Beg),
        ("_end", MatchMethod::End),
        ("_sub", MatchMethod::Sub),
        ("_reg", MatchMethod::Reg),
        ("_dir", MatchMethod::Dir),
        ("_dom", MatchMethod::Dom),
        ("_len", MatchMethod::Len),
        ("_ip", MatchMethod::Ip),
        ("_val", MatchMethod::Int),
        ("_found", MatchMethod::Found),
    ];
    // a real fetch (not only an ACL derivative) keeps its name
    if let Some(e) = catalogue::lookup("fetch", name) {
        if e.note != "ACL derivative" {
            return Some((name.to_string(), None));
        }
    }
    for (suf, m) in SUFFIXES {
        if let Some(base) = name.strip_suffix(suf) {
            if catalogue::is_fetch(base) {
                return Some((base.to_string(), Some(*m)));
            }
        }
    }
    if catalogue::is_fetch(name) {
        return Some((name.to_string(), None));
    }
    None
}

fn match_method(name: &str) -> Option<MatchMethod> {
    Some(match name {
        "found" => MatchMethod::Found,
        "bool" => MatchMethod::Bool,
        "int" => MatchMethod::Int,
        "ip" => MatchMethod::Ip,
        "bin" => MatchMethod::Bin,
        "len" => MatchMethod::Len,
        "str" => MatchMethod::Str,
        "sub" => MatchMethod::Sub,
        "reg" => MatchMethod::Reg,
        "beg" => MatchMethod::Beg,
        "end" => MatchMethod::End,
        "dir" => MatchMethod::Dir,
        "dom" => MatchMethod::Dom,
        _ => return None,
    })
}

/// Compiles a regex the way haproxy's PCRE2 would accept it. Returns Ok(None) when the
/// pattern uses PCRE features the `regex` crate lacks (look-around, backreferences): haproxy
/// accepts those, so we accept and keep the text.
pub fn compile_regex(pat: &str, ignore_case: bool) -> Result<Option<Regex>, String> {
    match regex::RegexBuilder::new(pat)
        .case_insensitive(ignore_case)
        .build()
    {
        Ok(r) => Ok(Some(Regex(r))),
        Err(e) => {
            let msg = e.to_string();
            if msg.contains("look-around")
                || msg.contains("backreferences")
                || msg.contains("not supported")
            {
                Ok(None)
            } else {
                let short = msg
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
                    .trim_start_matches("error: ")
                    .to_string();
                Err(format!(
                    "regex '{pat}' is invalid ({})",
                    pcre_wording(&short, pat)
                ))
            }
        }
    }
}

/// PCRE2's wording (as haproxy prints it) for the common errors the `regex` crate reports.
fn pcre_wording(msg: &str, pat: &str) -> String {
    let at_end = pat.len();
    let (text, off) = if msg.contains("unclosed character class") {
        ("missing terminating ] for character class", at_end)
    } else if msg.contains("unclosed group") {
        ("missing closing parenthesis", at_end)
    } else if msg.contains("unopened group") {
        ("unmatched closing parenthesis", pat.find(')').unwrap_or(0))
    } else if msg.contains("repetition operator missing expression") {
        (
            "quantifier does not follow a repeatable item",
            pat.find(['*', '+', '?', '{']).unwrap_or(0),
        )
    } else if msg.contains("incomplete escape sequence") {
        ("\\ at end of pattern", at_end)
    } else {
        return format!("error={msg}");
    };
    format!("error={text}, erroffset={off}")
}

/// Parses the words of an ACL after its name: `fetch [flags] [patterns]`.
/// `base_dir` resolves relative `-f` files (haproxy uses the current directory).
pub fn parse_acl_body(name: &str, words: &[String], span: Span) -> Result<Acl, String> {
    let Some(first) = words.first() else {
        return Err("missing fetch method in ACL expression".to_string());
    };
    let (kw_text, args_rest) = match first.find(['(', ',']) {
        Some(i) => (&first[..i], &first[i..]),
        None => (first.as_str(), ""),
    };
    let (base, implied) = match acl_keyword(kw_text) {
        Some(x) => x,
        None => {
            return Err(format!(
                "unknown fetch method '{kw_text}' in ACL expression '{first}'"
            ))
        }
    };
    let expr = parse_sample_expr(&format!("{base}{args_rest}")).map_err(|e| {
        if e.starts_with("invalid args in converter") {
            format!("ACL keyword '{kw_text}' : {}", e)
        } else {
            format!("{e} in ACL expression '{first}'")
        }
    })?;
    let mut flags = AclFlags {
        match_method: implied,
        ..AclFlags::default()
    };
    let mut patterns = Vec::new();
    let mut i = 1;
    let mut files: Vec<String> = Vec::new();
    while i < words.len() {
        let w = words[i].as_str();
        if !w.starts_with('-') || w == "-" {
            break;
        }
        match w {
            "-i" => flags.ignore_case = true,
            "-n" => flags.no_dns = true,
            "-M" => flags.map_files = true,
            "--" => {
                i += 1;
                break;
            }
            "-f" => {
                let Some(f) = words.get(i + 1) else {
                    return Err("missing filename after '-f'".to_string());
                };
                files.push(f.clone());
                i += 1;
            }
            "-u" => {
                let Some(id) = words.get(i + 1) else {
                    return Err("the argument of -u must be an integer".to_string());
                };
                flags.unique_id = Some(id.clone());
                i += 1;
            }
            "-m" => {
                let Some(m) = words.get(i + 1) else {
                    return Err(
                        "unknown matching method '' when parsing ACL expression".to_string()
                    );
                };
                let mm = match_method(m).ok_or_else(|| {
                    format!("unknown matching method '{m}' when parsing ACL expression")
                })?;
                flags.match_method = Some(mm);
                i += 1;
            }
            _ => {
                // haproxy: unknown options are errors ("-1" style numbers are allowed only after --)
                if w[1..]
                    .chars()
                    .next()
                    .map(|c| c.is_ascii_digit())
                    .unwrap_or(false)
                {
                    break;
                }
                return Err(format!(
                    "'{w}' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'"
                ));
            }
        }
        i += 1;
    }
    let is_reg = flags.match_method == Some(MatchMethod::Reg);
    let push_pattern = |p: &str, patterns: &mut Vec<Pattern>| -> Result<(), String> {
        if is_reg {
            match compile_regex(p, flags.ignore_case)? {
                Some(r) => patterns.push(Pattern::Regex(r)),
                None => patterns.push(Pattern::Value(p.to_string())),
            }
        } else {
            patterns.push(Pattern::Value(p.to_string()));
        }
        Ok(())
    };
    for f in &files {
        let text = read_pattern_file(f)?;
        for line in text.lines() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            push_pattern(l, &mut patterns)?;
        }
    }
    for w in &words[i..] {
        push_pattern(w, &mut patterns)?;
    }
    flags.files = files;
    Ok(Acl {
        name: name.to_string(),
        expr,
        flags,
        patterns,
        span,
    })
}

thread_local! {
    /// Pattern/map files already referenced by this parse (haproxy shares one reference per
    /// file name, so a file that failed to open is only reported once).
    static SEEN_PATTERN_FILES: std::cell::RefCell<std::collections::HashSet<String>> =
        std::cell::RefCell::new(std::collections::HashSet::new());
}

/// Forgets the pattern files seen (start of a new configuration).
pub fn reset_pattern_files() {
    SEEN_PATTERN_FILES.with(|s| s.borrow_mut().clear());
}

/// Records `f`; true when it was already referenced.
fn pattern_file_seen(f: &str) -> bool {
    SEEN_PATTERN_FILES.with(|s| !s.borrow_mut().insert(f.to_string()))
}

fn read_pattern_file(f: &str) -> Result<String, String> {
    let seen = pattern_file_seen(f);
    match crate::haproxy::parser::read_config_file(Path::new(f)) {
        Some(b) => Ok(String::from_utf8_lossy(&b).into_owned()),
        None if seen => Ok(String::new()),
        None => Err(format!("failed to open pattern file <{f}>")),
    }
}

/// Checks an ACL name (haproxy allows letters, digits, `-_.:`).
pub fn invalid_acl_char(name: &str) -> Option<char> {
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
}

/// Parses `if|unless` words into a condition. `known` tells whether a named ACL exists.
/// Returns the number of words consumed is all of them; errors are haproxy's sub-messages.
pub fn parse_condition(
    words: &[String],
    span: Span,
    known: &dyn Fn(&str) -> bool,
) -> Result<Condition, String> {
    let polarity = match words.first().map(String::as_str) {
        Some("if") => Polarity::If,
        Some("unless") => Polarity::Unless,
        _ => return Err("conditions must start with either 'if' or 'unless'".to_string()),
    };
    let mut terms: Vec<Vec<CondTerm>> = vec![Vec::new()];
    let mut i = 1;
    let mut negated = false;
    while i < words.len() {
        let w = words[i].as_str();
        if w == "!" {
            negated = !negated;
            i += 1;
            continue;
        }
        if w == "||" || w.eq_ignore_ascii_case("or") {
            terms.push(Vec::new());
            negated = false;
            i += 1;
            continue;
        }
        let w = if w.len() > 1 && w.trim_start_matches('!') == "{" {
            for _ in 0..(w.len() - 1) {
                negated = !negated;
            }
            "{"
        } else {
            w
        };
        if w == "{" {
            let end = words[i + 1..]
                .iter()
                .position(|x| x == "}")
                .map(|p| i + 1 + p)
                .ok_or_else(|| "missing closing '}' in condition".to_string())?;
            let body = &words[i + 1..end];
            let acl = parse_acl_body("", body, span)?;
            push_term(
                &mut terms,
                CondTerm {
                    negated,
                    acl: AclRef::Anonymous(Box::new(acl)),
                },
            );
            negated = false;
            i = end + 1;
            continue;
        }
        let mut name = w;
        while let Some(n) = name.strip_prefix('!') {
            negated = !negated;
            name = n;
        }
        if !known(name) && !PREDEFINED_ACLS.contains(&name) {
            return Err(format!("no such ACL : '{name}'"));
        }
        push_term(
            &mut terms,
            CondTerm {
                negated,
                acl: AclRef::Named(name.to_string()),
            },
        );
        negated = false;
        i += 1;
    }
    Ok(Condition {
        polarity,
        terms,
        span,
    })
}

fn push_term(terms: &mut [Vec<CondTerm>], t: CondTerm) {
    if let Some(last) = terms.last_mut() {
        last.push(t);
    }
}

/// Parses a log-format string leniently: `%%`, `%[expr]`, `%{flags}var`, `%var`, literals.
/// Sample expressions inside `%[...]` must parse (unknown fetch → error, as haproxy).
pub fn parse_log_format(text: &str) -> Result<LogFormat, String> {
    let mut nodes = Vec::new();
    let mut lit = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '%' {
            lit.push(c);
            continue;
        }
        let rest = &text[i + 1..];
        if rest.starts_with('%') {
            lit.push('%');
            chars.next();
            continue;
        }
        if !lit.is_empty() {
            nodes.push(LogFormatNode::Literal(std::mem::take(&mut lit)));
        }
        let mut flags = Vec::new();
        let mut consumed = 0;
        let mut body = rest;
        if let Some(r) = body.strip_prefix('{') {
            let Some(end) = r.find('}') else {
                return Err(format!("missing '}}' in log-format '{text}'"));
            };
            flags = r[..end].split(',').map(str::to_string).collect();
            consumed += end + 2;
            body = &r[end + 1..];
        }
        if let Some(r) = body.strip_prefix('[') {
            // find the matching ']' (nested brackets allowed)
            let mut depth = 1;
            let mut end = None;
            for (j, ch) in r.char_indices() {
                match ch {
                    '[' => depth += 1,
                    ']' => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(j);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let Some(end) = end else {
                return Err(format!("missing ']' after '{r}'"));
            };
            let expr = parse_sample_expr(&r[..end])
                .map_err(|e| format!("failed to parse sample expression <{}> : {e}", &r[..=end]))?;
            nodes.push(LogFormatNode::Sample { expr, flags });
            consumed += end + 2;
        } else {
            let name: String = body
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            consumed += name.len();
            nodes.push(LogFormatNode::Var { name, flags });
        }
        for _ in 0..consumed {
            chars.next();
        }
    }
    if !lit.is_empty() {
        nodes.push(LogFormatNode::Literal(lit));
    }
    Ok(LogFormat {
        text: text.to_string(),
        nodes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn sample_expressions() {
        let e = parse_sample_expr("req.hdr(host),lower,map_beg(/dev/null,default)").unwrap();
        assert_eq!(e.fetch, "req.hdr");
        assert_eq!(e.args, vec!["host"]);
        assert_eq!(e.converters.len(), 2);
        assert_eq!(e.converters[1].args, vec!["/dev/null", "default"]);
        assert!(parse_sample_expr("nosuchfetch")
            .unwrap_err()
            .contains("unknown fetch method"));
        assert!(parse_sample_expr("src,nosuchconv")
            .unwrap_err()
            .contains("unknown converter"));
        assert!(parse_sample_expr("src,map(/no/such/file)")
            .unwrap_err()
            .contains("failed to open pattern file"));
    }

    #[test]
    fn acls() {
        let a = parse_acl_body("h", &s(&["hdr_beg(host)", "-i", "www."]), Span::default()).unwrap();
        assert_eq!(a.expr.fetch, "hdr");
        assert_eq!(a.flags.match_method, Some(MatchMethod::Beg));
        assert!(a.flags.ignore_case);
        assert_eq!(a.patterns, vec![Pattern::Value("www.".into())]);
        let r = parse_acl_body("r", &s(&["path_reg", "^/a.*$"]), Span::default()).unwrap();
        assert!(matches!(r.patterns[0], Pattern::Regex(_)));
        assert!(
            parse_acl_body("r", &s(&["path_reg", "(["]), Span::default())
                .unwrap_err()
                .contains("regex '([' is invalid")
        );
        assert!(
            parse_acl_body("f", &s(&["src", "-f", "/no/such.lst"]), Span::default())
                .unwrap_err()
                .contains("failed to open pattern file </no/such.lst>")
        );
        assert!(parse_acl_body("x", &s(&["foo_bar"]), Span::default())
            .unwrap_err()
            .contains("unknown fetch method 'foo_bar'"));
    }

    #[test]
    fn conditions() {
        let known = |n: &str| n == "a" || n == "b";
        let c = parse_condition(
            &s(&["if", "a", "!b", "||", "{", "src", "10.0.0.0/8", "}"]),
            Span::default(),
            &known,
        )
        .unwrap();
        assert_eq!(c.polarity, Polarity::If);
        assert_eq!(c.terms.len(), 2);
        assert_eq!(c.terms[0].len(), 2);
        assert!(c.terms[0][1].negated);
        assert!(matches!(c.terms[1][0].acl, AclRef::Anonymous(_)));
        assert_eq!(
            parse_condition(&s(&["if", "zz"]), Span::default(), &known).unwrap_err(),
            "no such ACL : 'zz'"
        );
        assert!(parse_condition(&s(&["unless", "TRUE"]), Span::default(), &known).is_ok());
    }

    #[test]
    fn log_formats() {
        let f = parse_log_format("%ci:%cp [%tr] %{+Q}r %[src] 100%%").unwrap();
        assert!(f
            .nodes
            .iter()
            .any(|n| matches!(n, LogFormatNode::Sample { .. })));
        assert!(f.nodes.iter().any(|n| matches!(n, LogFormatNode::Var { name, flags } if name == "r" && flags == &vec!["+Q".to_string()])));
        assert!(parse_log_format("%[nosuch]").is_err());
    }
}

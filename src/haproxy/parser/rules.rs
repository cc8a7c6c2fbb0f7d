//! `http-request`, `http-response`, `http-after-response`, `tcp-request`, `tcp-response` and
//! `redirect` rules.

use super::values;
use super::{sample, Line, Loc, Parser};
use crate::haproxy::catalogue;
use crate::haproxy::ir::*;

const HTTP_REQUEST_ACTIONS: &str = "'wait-for-handshake', 'ot-group', 'set-log-level', 'set-nice', 'use-service', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'do-resolve(*)', 'cache-use', 'add-acl(*)', 'add-header', 'allow', 'auth', 'capture', 'del-acl(*)', 'del-header', 'del-map(*)', 'deny', 'disable-l7-retry', 'early-hint', 'normalize-uri', 'redirect', 'reject', 'replace-header', 'replace-path', 'replace-pathq', 'replace-uri', 'replace-value', 'return', 'set-header', 'set-map(*)', 'set-method', 'set-path', 'set-pathq', 'set-query', 'set-uri', 'strict-mode', 'tarpit', 'track-sc(*)', 'set-timeout', 'wait-for-body', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-dst', 'set-dst-port', 'set-mark', 'set-src', 'set-src-port', 'set-tos', 'silent-drop', 'set-priority-class', 'set-priority-offset'";
const HTTP_RESPONSE_ACTIONS: &str = "'ot-group', 'set-log-level', 'set-nice', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'cache-store', 'add-acl(*)', 'add-header', 'allow', 'capture', 'del-acl(*)', 'del-header', 'del-map(*)', 'deny', 'redirect', 'replace-header', 'replace-value', 'return', 'set-header', 'set-map(*)', 'set-status', 'strict-mode', 'track-sc(*)', 'wait-for-body', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-mark', 'set-tos', 'silent-drop'";
const HTTP_AFTER_ACTIONS: &str = "'ot-group', 'add-header', 'allow', 'capture', 'del-header', 'replace-header', 'replace-value', 'set-header', 'set-status', 'strict-mode', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'";
const TCP_CONTENT_ACTIONS: &str = "'accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', 'track-sc0' ... 'track-sc2', 'ot-group', 'set-log-level', 'set-nice', 'switch-mode', 'use-service', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'do-resolve(*)', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-src', 'set-src-port', 'set-dst', 'set-dst-port', 'set-mark', 'set-tos', 'silent-drop', 'set-priority-class', 'set-priority-offset'";
const TCP_CONNECTION_ACTIONS: &str = "'accept', 'reject', 'capture', 'expect-proxy', 'expect-netscaler-cip', 'track-sc0' ... 'track-sc2', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-src', 'set-src-port', 'set-dst', 'set-dst-port', 'set-mark', 'set-tos', 'silent-drop'";
const TCP_RESPONSE_ACTIONS: &str = "'accept', 'close', 'reject', 'ot-group', 'set-log-level', 'set-nice', 'sc-inc-gpc(*)', 'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt(*)', 'sc-set-gpt0(*)', 'send-spoe-group', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)', 'set-mark', 'set-tos', 'silent-drop'";

fn action_known(list: &str, action: &str) -> bool {
    let base = action.split('(').next().unwrap_or(action);
    if list.contains(&format!("'{base}'")) || list.contains(&format!("'{base}(*)'")) {
        return true;
    }
    if let Some(n) = base.strip_prefix("track-sc") {
        return n.parse::<u32>().is_ok() || (n.is_empty() && action.contains('('));
    }
    if let Some(n) = base
        .strip_prefix("sc-inc-gpc")
        .or_else(|| base.strip_prefix("sc-set-gpt"))
    {
        return n.is_empty() || n == "0" || n == "1";
    }
    false
}

/// Position of the first `if`/`unless` word at or after `from`.
fn cond_start(line: &Line, from: usize) -> Option<usize> {
    (from..line.len()).find(|&i| matches!(line.arg(i), "if" | "unless"))
}

fn vec_args(line: &Line, from: usize, to: usize) -> Vec<String> {
    (from..to).map(|i| line.arg(i).to_string()).collect()
}

/// The arguments of an http reply (`deny`, `tarpit`, `return`, `http-error`), as HAProxy's
/// `http_parse_http_reply` reads them.
pub(crate) struct ReplyArgs {
    pub status: Option<u16>,
    pub content_type: Option<String>,
    pub body: Option<ReturnBody>,
    pub headers: Vec<(String, LogFormat)>,
    /// Words used (the rest must be a condition).
    pub consumed: usize,
}

/// Parses reply arguments from `args` until a word that is not one of them. `deny_status` is
/// accepted as `status` for deny/tarpit. Errors are HAProxy's messages.
pub(crate) fn parse_reply_args(
    args: &[String],
    http_errors: &[HttpErrors],
    default_status: u16,
) -> Result<ReplyArgs, String> {
    let mut r = ReplyArgs {
        status: None,
        content_type: None,
        body: None,
        headers: Vec::new(),
        consumed: 0,
    };
    let mut body_kw: Option<&str> = None;
    let mut errorfiles_section: Option<String> = None;
    let mut k = 0;
    while k < args.len() {
        let kw = args[k].as_str();
        let val = args.get(k + 1);
        let need = |what: &str| -> Result<&String, String> {
            val.filter(|v| !v.is_empty())
                .ok_or_else(|| format!("'{kw}' expects {what} as argument"))
        };
        let body_once = |prev: Option<&str>| -> Result<(), String> {
            match prev {
                Some(p) => Err(format!("unexpected '{kw}' argument, '{p}' already defined")),
                None => Ok(()),
            }
        };
        match kw {
            "status" | "deny_status" => {
                let v = need("<status_code>")?;
                let code = values::atol(v);
                if !(200..=599).contains(&code) {
                    return Err(format!("Unexpected status code '{v}'"));
                }
                r.status = Some(code as u16);
                k += 2;
            }
            "content-type" => {
                r.content_type = Some(need("<ctype>")?.clone());
                k += 2;
            }
            "default-errorfiles" => {
                body_once(body_kw)?;
                body_kw = Some("default-errorfiles");
                r.body = Some(ReturnBody::DefaultErrorfiles);
                k += 1;
            }
            "errorfiles" => {
                body_once(body_kw)?;
                body_kw = Some("errorfiles");
                let name = need("<name>")?.clone();
                if !http_errors.iter().any(|h| h.name == name) {
                    return Err(format!(
                        "unknown http-errors section '{name}' referenced by an http reply "
                    ));
                }
                errorfiles_section = Some(name);
                k += 2;
            }
            "errorfile" | "file" | "lf-file" => {
                body_once(body_kw)?;
                body_kw = Some(if kw == "errorfile" {
                    "errorfile"
                } else if kw == "file" {
                    "file"
                } else {
                    "lf-file"
                });
                let f = need(if kw == "errorfile" { "<fmt>" } else { "<file>" })?.clone();
                if !crate::haproxy::parser::config_file_readable(&f) {
                    return Err(format!("error opening file '{f}'"));
                }
                r.body = Some(match kw {
                    "errorfile" => ReturnBody::Errorfile(f),
                    "file" => ReturnBody::File(f),
                    _ => ReturnBody::LfFile(f),
                });
                k += 2;
            }
            "string" | "lf-string" => {
                body_once(body_kw)?;
                body_kw = Some(if kw == "string" {
                    "string"
                } else {
                    "lf-string"
                });
                let v = need(if kw == "string" { "<str>" } else { "<fmt>" })?.clone();
                r.body = Some(if kw == "string" {
                    ReturnBody::String(v)
                } else {
                    ReturnBody::LfString(sample::parse_log_format(&v).map_err(|e| e.to_string())?)
                });
                k += 2;
            }
            "hdr" => {
                let (Some(name), Some(value)) = (args.get(k + 1), args.get(k + 2)) else {
                    return Err("'hdr' expects <name> and <value> as arguments".into());
                };
                k += 3;
                // HAProxy ignores these: the reply frames itself
                if ["content-length", "transfer-encoding", "content-type"]
                    .iter()
                    .any(|h| name.eq_ignore_ascii_case(h))
                {
                    continue;
                }
                let f = sample::parse_log_format(value).map_err(|e| e.to_string())?;
                r.headers.push((name.clone(), f));
            }
            _ => break,
        }
        r.consumed = k;
    }
    if let Some(section) = errorfiles_section {
        let status = r.status.unwrap_or(default_status);
        let page = http_errors
            .iter()
            .find(|h| h.name == section)
            .and_then(|h| h.errorfiles.iter().rev().find(|e| e.status == status))
            .map(|e| e.content.clone());
        r.body = Some(ReturnBody::Errorfiles { section, page });
    }
    Ok(r)
}

impl Parser {
    fn lua_loaded(&self) -> bool {
        !self.cfg.global.lua_loads.is_empty()
    }

    pub(crate) fn http_rule(&mut self, line: &Line) {
        let span = line.span;
        let ruleset = line.arg(0).to_string();
        let action = line.arg(1).to_string();
        let list = match ruleset.as_str() {
            "http-request" => HTTP_REQUEST_ACTIONS,
            "http-response" => HTTP_RESPONSE_ACTIONS,
            _ => HTTP_AFTER_ACTIONS,
        };
        let is_lua = action.starts_with("lua.") && self.lua_loaded();
        if !action_known(list, &action) && !is_lua {
            let names: Vec<&str> = list
                .split(", ")
                .map(|n| n.trim_matches('\'').trim_end_matches("(*)"))
                .collect();
            let hint = match catalogue::best_match(&action, names.iter().copied()) {
                Some(b) => format!(" Did you mean '{b}' maybe ?"),
                None => String::new(),
            };
            self.alert_loc(
                Loc::ParsingTight,
                span,
                format!("'{ruleset}' expects {list}, but got '{action}'.{hint}"),
            );
            self.abort();
            return;
        }
        let kindname = self.px_kind().keyword();
        let pxname = self.px_name();
        let rule_err = |p: &mut Parser, msg: String| {
            p.alert(span, format!("error detected in {kindname} '{pxname}' while parsing '{ruleset} {action}' rule : {msg}"));
            p.abort();
        };
        let end = cond_start(line, 2).unwrap_or(line.len());
        let args = vec_args(line, 2, end);
        let lf = |p: &mut Parser, text: &str| -> Option<LogFormat> {
            match sample::parse_log_format(text) {
                Ok(f) => Some(f),
                Err(e) => {
                    p.alert(span, format!("error detected in {kindname} '{pxname}' while parsing '{ruleset} {action}' rule : {e}."));
                    p.abort();
                    None
                }
            }
        };
        let base = action.split('(').next().unwrap_or("").to_string();
        let paren = action
            .find('(')
            .map(|i| action[i + 1..].trim_end_matches(')').to_string());
        let mut consumed = args.len(); // words the action uses (the rest must be a condition)
        let act: HttpAction = match base.as_str() {
            "allow" => {
                consumed = 0;
                HttpAction::Allow
            }
            "deny" | "tarpit" => {
                let default_status = match (base.as_str(), ruleset.as_str()) {
                    ("tarpit", _) => 500,
                    (_, "http-request") => 403,
                    _ => 502,
                };
                let r = match parse_reply_args(&args, &self.cfg.http_errors, default_status) {
                    Ok(r) => r,
                    Err(e) => {
                        rule_err(self, format!("{e}."));
                        return;
                    }
                };
                consumed = r.consumed;
                if base == "deny" {
                    HttpAction::Deny {
                        status: r.status,
                        content_type: r.content_type,
                        body: r.body,
                        headers: r.headers,
                    }
                } else {
                    HttpAction::Tarpit {
                        status: r.status,
                        content_type: r.content_type,
                        body: r.body,
                        headers: r.headers,
                    }
                }
            }
            "auth" => {
                consumed = 0;
                let mut realm = None;
                if args.first().map(String::as_str) == Some("realm") {
                    realm = args.get(1).cloned();
                    consumed = 2;
                }
                HttpAction::Auth { realm }
            }
            "redirect" => match self.parse_redirect(&args) {
                Ok(r) => HttpAction::Redirect(r),
                Err(e) => {
                    rule_err(self, e);
                    return;
                }
            },
            "set-header" | "add-header" | "early-hint" => {
                if args.len() < 2 {
                    rule_err(self, "expects exactly 2 arguments.".into());
                    return;
                }
                consumed = 2;
                let Some(value) = lf(self, &args[1]) else {
                    return;
                };
                let name = args[0].clone();
                match base.as_str() {
                    "set-header" => HttpAction::SetHeader { name, value },
                    "add-header" => HttpAction::AddHeader { name, value },
                    _ => HttpAction::EarlyHint { name, value },
                }
            }
            "del-header" => {
                if args.is_empty() {
                    rule_err(self, "expects at least 1 argument.".into());
                    return;
                }
                consumed = if args.get(1).map(String::as_str) == Some("-m") {
                    3
                } else {
                    1
                };
                if consumed == 3 {
                    let m = args.get(2).map(String::as_str).unwrap_or("");
                    if !matches!(m, "str" | "beg" | "end" | "sub" | "reg") {
                        rule_err(self, format!("-m with unsupported matching method '{m}'."));
                        return;
                    }
                }
                HttpAction::DelHeader {
                    name: args[0].clone(),
                    method: args.get(2).filter(|_| consumed == 3).cloned(),
                }
            }
            "replace-header" | "replace-value" => {
                if args.len() < 3 {
                    rule_err(self, "expects exactly 3 arguments.".into());
                    return;
                }
                consumed = 3;
                let regex = match sample::compile_regex(&args[1], false) {
                    Ok(Some(r)) => r,
                    Ok(None) => {
                        self.push_http_raw(&ruleset, &action, &args, line, end);
                        return;
                    }
                    Err(e) => {
                        rule_err(self, e);
                        return;
                    }
                };
                let (name, replace) = (args[0].clone(), args[2].clone());
                if base == "replace-header" {
                    HttpAction::ReplaceHeader {
                        name,
                        regex,
                        replace,
                    }
                } else {
                    HttpAction::ReplaceValue {
                        name,
                        regex,
                        replace,
                    }
                }
            }
            "replace-path" | "replace-pathq" | "replace-uri" => {
                if args.len() < 2 {
                    rule_err(self, "expects exactly 2 arguments.".into());
                    return;
                }
                consumed = 2;
                let regex = match sample::compile_regex(&args[0], false) {
                    Ok(Some(r)) => r,
                    Ok(None) => {
                        self.push_http_raw(&ruleset, &action, &args, line, end);
                        return;
                    }
                    Err(e) => {
                        rule_err(self, e);
                        return;
                    }
                };
                let replace = args[1].clone();
                match base.as_str() {
                    "replace-path" => HttpAction::ReplacePath { regex, replace },
                    "replace-pathq" => HttpAction::ReplacePathq { regex, replace },
                    _ => HttpAction::ReplaceUri { regex, replace },
                }
            }
            "set-path" | "set-pathq" | "set-query" | "set-uri" | "set-method" => {
                if args.is_empty() {
                    rule_err(self, "expects exactly 1 argument.".into());
                    return;
                }
                consumed = 1;
                let Some(f) = lf(self, &args[0]) else { return };
                match base.as_str() {
                    "set-path" => HttpAction::SetPath(f),
                    "set-pathq" => HttpAction::SetPathq(f),
                    "set-query" => HttpAction::SetQuery(f),
                    "set-uri" => HttpAction::SetUri(f),
                    _ => HttpAction::SetMethod(f),
                }
            }
            "set-var" | "set-var-fmt" => {
                let name = paren.clone().unwrap_or_default();
                if args.is_empty() {
                    rule_err(self, "expects an argument.".into());
                    return;
                }
                consumed = 1;
                if base == "set-var" {
                    match sample::parse_sample_expr(&args[0]) {
                        Ok(expr) => HttpAction::SetVar { name, expr },
                        Err(e) => {
                            rule_err(self, format!("{e}."));
                            return;
                        }
                    }
                } else {
                    let Some(format) = lf(self, &args[0]) else {
                        return;
                    };
                    HttpAction::SetVarFmt { name, format }
                }
            }
            "unset-var" => {
                consumed = 0;
                HttpAction::UnsetVar {
                    name: paren.clone().unwrap_or_default(),
                }
            }
            "set-status" => {
                let code = values::atol(args.first().map(String::as_str).unwrap_or(""));
                if !(100..=999).contains(&code) {
                    rule_err(
                        self,
                        "expects an HTTP status code between 100 and 999.".into(),
                    );
                    return;
                }
                consumed = 1;
                let reason = if args.get(1).map(String::as_str) == Some("reason") {
                    consumed = 3;
                    args.get(2).cloned()
                } else {
                    None
                };
                HttpAction::SetStatus {
                    code: code as u16,
                    reason,
                }
            }
            "return" => {
                let r = match parse_reply_args(&args, &self.cfg.http_errors, 200) {
                    Ok(r) => r,
                    Err(e) => {
                        rule_err(self, format!("{e}."));
                        return;
                    }
                };
                consumed = r.consumed;
                HttpAction::Return {
                    status: r.status.unwrap_or(200),
                    content_type: r.content_type,
                    body: r.body,
                    headers: r.headers,
                }
            }
            "set-log-level" => {
                consumed = 1;
                HttpAction::SetLogLevel(args.first().cloned().unwrap_or_default())
            }
            "set-nice" => {
                consumed = 1;
                HttpAction::SetNice(
                    values::atol(args.first().map(String::as_str).unwrap_or("")) as i32
                )
            }
            "set-tos" => {
                consumed = 1;
                HttpAction::SetTos(args.first().cloned().unwrap_or_default())
            }
            "set-mark" => {
                consumed = 1;
                HttpAction::SetMark(args.first().cloned().unwrap_or_default())
            }
            "set-dst" | "set-dst-port" | "set-src" | "set-src-port" => {
                consumed = 1;
                let expr =
                    match sample::parse_sample_expr(args.first().map(String::as_str).unwrap_or(""))
                    {
                        Ok(e) => e,
                        Err(e) => {
                            rule_err(self, format!("{e}."));
                            return;
                        }
                    };
                match base.as_str() {
                    "set-dst" => HttpAction::SetDst(expr),
                    "set-dst-port" => HttpAction::SetDstPort(expr),
                    "set-src" => HttpAction::SetSrc(expr),
                    _ => HttpAction::SetSrcPort(expr),
                }
            }
            b if b.starts_with("track-sc") => {
                let n = b.trim_start_matches("track-sc").parse::<u32>().unwrap_or(0);
                if n > 2 {
                    rule_err(
                        self,
                        format!("{n} track-sc number exceeding 2 (MAX_SESS_STKCTR-1) value."),
                    );
                    return;
                }
                let index = n as u8;
                let expr =
                    match sample::parse_sample_expr(args.first().map(String::as_str).unwrap_or(""))
                    {
                        Ok(e) => e,
                        Err(e) => {
                            rule_err(self, format!("{e}."));
                            return;
                        }
                    };
                consumed = 1;
                let table = if args.get(1).map(String::as_str) == Some("table") {
                    consumed = 3;
                    args.get(2).cloned()
                } else {
                    None
                };
                HttpAction::TrackSc {
                    index,
                    key: expr,
                    table,
                }
            }
            "capture" => {
                let expr =
                    match sample::parse_sample_expr(args.first().map(String::as_str).unwrap_or(""))
                    {
                        Ok(e) => e,
                        Err(e) => {
                            rule_err(self, format!("{e}."));
                            return;
                        }
                    };
                let mut len = None;
                let mut id = None;
                match args.get(1).map(String::as_str) {
                    Some("len") => {
                        len = Some(
                            values::atol(args.get(2).map(String::as_str).unwrap_or("")).max(0)
                                as u32,
                        )
                    }
                    Some("id") => {
                        id = Some(
                            values::atol(args.get(2).map(String::as_str).unwrap_or("")).max(0)
                                as u32,
                        )
                    }
                    _ => {}
                }
                consumed = 3.min(args.len());
                if ruleset == "http-request" {
                    if let Some(l) = len {
                        // a new request capture slot
                        let slots = &mut self.px().req_capture_lens;
                        id = Some(slots.len() as u32);
                        slots.push(l);
                    }
                }
                HttpAction::CaptureSample { expr, len, id }
            }
            "do-resolve" => {
                let inner = paren.clone().unwrap_or_default();
                let mut parts = inner.split(',');
                let var = parts.next().unwrap_or("").to_string();
                let resolvers = parts.next().unwrap_or("").to_string();
                let expr =
                    match sample::parse_sample_expr(args.first().map(String::as_str).unwrap_or(""))
                    {
                        Ok(e) => e,
                        Err(e) => {
                            rule_err(self, format!("{e}."));
                            return;
                        }
                    };
                consumed = 1;
                HttpAction::DoResolve {
                    var,
                    resolvers,
                    expr,
                }
            }
            "use-service" => {
                let svc = args.first().cloned().unwrap_or_default();
                consumed = 1;
                let known =
                    svc == "prometheus-exporter" || (svc.starts_with("lua.") && self.lua_loaded());
                if !known {
                    rule_err(self, format!("'{svc}' unknown service name.."));
                    return;
                }
                HttpAction::UseService(svc)
            }
            "silent-drop" => {
                consumed = 0;
                HttpAction::SilentDrop
            }
            "reject" => {
                consumed = 0;
                HttpAction::Reject
            }
            "normalize-uri" => {
                if !self.experimental {
                    self.alert(span, "'normalize-uri' action is experimental, must be allowed via a global 'expose-experimental-directives'");
                    self.abort();
                    return;
                }
                if let Err(e) = crate::proxy::rules::check_normalizer(&args) {
                    rule_err(self, format!("{e}."));
                    return;
                }
                HttpAction::NormalizeUri(args.clone())
            }
            "wait-for-body" => HttpAction::WaitForBody(args.clone()),
            "cache-use" => {
                consumed = 1;
                HttpAction::CacheUse(args.first().cloned().unwrap_or_default())
            }
            "cache-store" => {
                consumed = 1;
                HttpAction::CacheStore(args.first().cloned().unwrap_or_default())
            }
            "strict-mode" => {
                // kept as its words; the engine reads `on`/`off`
                if !matches!(args.first().map(String::as_str), Some("on" | "off")) {
                    rule_err(self, "expects 'on' or 'off' as argument.".into());
                    return;
                }
                consumed = 1;
                HttpAction::Raw {
                    action: "strict-mode".into(),
                    args: args[..1].to_vec(),
                }
            }
            b if b.starts_with("lua.") => HttpAction::Lua {
                name: b[4..].to_string(),
                args: args.clone(),
            },
            _ => {
                self.unimplemented(span, &format!("{ruleset} {base}"));
                HttpAction::Raw {
                    action: action.clone(),
                    args: args.clone(),
                }
            }
        };
        if !matches!(&act, HttpAction::Raw { action, .. } if action != "strict-mode")
            && !crate::proxy::rules::is_supported_action(&ruleset, &base)
        {
            // parsed and validated, but the engine does not perform it yet
            self.unimplemented(span, &format!("{ruleset} {base}"));
        }
        if consumed < args.len() {
            self.alert_loc(
                Loc::ParsingTight,
                span,
                format!("'{ruleset} {action}' expects either 'if' or 'unless' followed by a condition but found '{}'.", args[consumed]),
            );
            self.abort();
            return;
        }
        let cond = if end < line.len() {
            let words = line.args_from(end);
            let known = |n: &str| self.acl_known(n);
            match sample::parse_condition(&words, span, &known) {
                Ok(c) => Some(c),
                Err(e) => {
                    self.alert(
                        span,
                        format!(
                            "error detected while parsing an '{ruleset} {action}' condition : {e}."
                        ),
                    );
                    self.abort();
                    return;
                }
            }
        } else {
            None
        };
        if ruleset == "http-request" {
            self.warn_misplaced(super::proxy::RuleStage::HttpRequest, "http-request", span);
        }
        // a final action without condition makes the following rules of the same set useless
        let last_final = self
            .px_ref_rules(&ruleset)
            .and_then(|r| r.last())
            .map(|r| r.cond.is_none() && is_final(&r.action));
        if last_final == Some(true) {
            self.warn_loc(
                Loc::ParsingTight,
                span,
                format!("previous '{ruleset}' action is final and has no condition attached, further entries are NOOP."),
            );
        }
        let rule = HttpRule {
            action: act,
            cond,
            span,
        };
        let p = self.px();
        match ruleset.as_str() {
            "http-request" => p.http_request.push(rule),
            "http-response" => p.http_response.push(rule),
            _ => p.http_after_response.push(rule),
        }
    }

    /// `redirect` arguments (shared by the keyword and the http-request action).
    fn parse_redirect(&mut self, args: &[String]) -> Result<Redirect, String> {
        let mut r = Redirect {
            kind: RedirectKind::Location,
            target: LogFormat {
                text: String::new(),
                nodes: vec![],
            },
            code: 302,
            drop_query: false,
            append_slash: false,
            ignore_empty: false,
            set_cookie: None,
            clear_cookie: None,
        };
        let mut have_target = false;
        let mut k = 0;
        while k < args.len() {
            let v = args.get(k + 1).cloned().unwrap_or_default();
            match args[k].as_str() {
                t @ ("location" | "prefix" | "scheme") => {
                    r.kind = match t {
                        "location" => RedirectKind::Location,
                        "prefix" => RedirectKind::Prefix,
                        _ => RedirectKind::Scheme,
                    };
                    r.target = sample::parse_log_format(&v).map_err(|e| format!("{e}."))?;
                    have_target = true;
                    k += 2;
                }
                "code" => {
                    let c = values::atol(&v);
                    if !matches!(c, 301 | 302 | 303 | 307 | 308) {
                        return Err(format!("'code': unsupported HTTP code '{v}' (must be one of 301, 302, 303, 307 or 308)."));
                    }
                    r.code = c as u16;
                    k += 2;
                }
                "set-cookie" => {
                    r.set_cookie = Some(v);
                    k += 2;
                }
                "clear-cookie" => {
                    r.clear_cookie = Some(v);
                    k += 2;
                }
                "drop-query" => {
                    r.drop_query = true;
                    k += 1;
                }
                "append-slash" => {
                    r.append_slash = true;
                    k += 1;
                }
                "ignore-empty" => {
                    r.ignore_empty = true;
                    k += 1;
                }
                "if" | "unless" => break,
                o => {
                    return Err(format!("expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' (was '{o}')."))
                }
            }
        }
        if !have_target {
            return Err("redirect: missing 'location', 'prefix' or 'scheme'.".into());
        }
        Ok(r)
    }

    pub(crate) fn redirect_kw(&mut self, line: &Line) {
        let span = line.span;
        self.warn_misplaced(super::proxy::RuleStage::Redirect, "redirect", span);
        let end = cond_start(line, 1).unwrap_or(line.len());
        let args = vec_args(line, 1, end);
        let redirect = match self.parse_redirect(&args) {
            Ok(r) => r,
            Err(e) => {
                self.alert(
                    span,
                    format!(
                        "error detected in {} '{}' while parsing redirect rule : {e}",
                        self.px_kind().keyword(),
                        self.px_name()
                    ),
                );
                return;
            }
        };
        let cond = if end < line.len() {
            let words = line.args_from(end);
            let known = |n: &str| self.acl_known(n);
            match sample::parse_condition(&words, span, &known) {
                Ok(c) => Some(c),
                Err(e) => {
                    self.alert(
                        span,
                        format!(
                            "error detected in {} '{}' while parsing redirect rule : error in condition: {e}.",
                            self.px_kind().keyword(),
                            self.px_name()
                        ),
                    );
                    return;
                }
            }
        } else {
            None
        };
        self.px().redirects.push(RedirectRule {
            redirect,
            cond,
            span,
        });
    }

    /// Keeps a rule we accept but cannot compile (PCRE-only regex) as a raw action.
    fn push_http_raw(
        &mut self,
        ruleset: &str,
        action: &str,
        args: &[String],
        line: &Line,
        end: usize,
    ) {
        let span = line.span;
        let cond = if end < line.len() {
            let words = line.args_from(end);
            let known = |n: &str| self.acl_known(n);
            sample::parse_condition(&words, span, &known).ok()
        } else {
            None
        };
        let rule = HttpRule {
            action: HttpAction::Raw {
                action: action.to_string(),
                args: args.to_vec(),
            },
            cond,
            span,
        };
        let p = self.px();
        match ruleset {
            "http-request" => p.http_request.push(rule),
            "http-response" => p.http_response.push(rule),
            _ => p.http_after_response.push(rule),
        }
    }

    pub(crate) fn tcp_rule(&mut self, line: &Line) {
        let span = line.span;
        let ruleset = line.arg(0);
        let kind = self.px_kind();
        let pxdesc = format!("{} '{}'", kind.keyword(), self.px_name());
        let sub = line.arg(1);
        let is_req = ruleset == "tcp-request";
        if sub == "inspect-delay" {
            match self.ptime(line.arg(2)) {
                Ok(d) => {
                    if is_req {
                        self.px().tcp_request_inspect_delay = Some(d)
                    } else {
                        self.px().tcp_response_inspect_delay = Some(d)
                    }
                }
                Err(e) => {
                    let detail = match e {
                        values::TimeError::BadChar(c) => format!(" (unexpected character '{c}')"),
                        _ => String::new(),
                    };
                    self.alert(span, format!("'{ruleset} inspect-delay' expects a positive delay in milliseconds, in {pxdesc}{detail}"));
                }
            }
            return;
        }
        let list = match (is_req, sub) {
            (true, "connection") => {
                if !kind.has_frontend() && kind != ProxyKind::Defaults {
                    self.alert(
                        span,
                        format!(
                            "tcp-request connection is not allowed because {} {} is not a frontend",
                            kind.keyword(),
                            self.px_name()
                        ),
                    );
                    return;
                }
                TCP_CONNECTION_ACTIONS
            }
            (true, "session") => {
                if !kind.has_frontend() && kind != ProxyKind::Defaults {
                    self.alert(
                        span,
                        format!(
                            "tcp-request session is not allowed because {} {} is not a frontend",
                            kind.keyword(),
                            self.px_name()
                        ),
                    );
                    return;
                }
                TCP_CONNECTION_ACTIONS
            }
            (true, "content") => TCP_CONTENT_ACTIONS,
            (false, "content") => TCP_RESPONSE_ACTIONS,
            (true, _) => {
                self.alert(span, format!("'tcp-request' expects 'inspect-delay', 'connection', or 'content' in {pxdesc} (got '{sub}')"));
                return;
            }
            (false, _) => {
                self.alert(span, format!("'tcp-response' expects 'inspect-delay' or 'content' in {pxdesc} (got '{sub}')"));
                return;
            }
        };
        let action = line.arg(2).to_string();
        let is_lua = action.starts_with("lua.") && self.lua_loaded();
        if !action_known(list, &action) && !is_lua {
            self.alert(
                span,
                format!("'{ruleset} {sub}' expects {list} in {pxdesc} (got '{action}')."),
            );
            return;
        }
        let end = cond_start(line, 3).unwrap_or(line.len());
        let args = vec_args(line, 3, end);
        let err = |p: &mut Parser, msg: String| {
            p.alert(span, format!("'{ruleset} {sub} {action}' : {msg}"));
        };
        let base = action.split('(').next().unwrap_or("").to_string();
        let paren = action
            .find('(')
            .map(|i| action[i + 1..].trim_end_matches(')').to_string());
        let expr_at = |p: &mut Parser, i: usize| -> Option<SampleExpr> {
            match sample::parse_sample_expr(args.get(i).map(String::as_str).unwrap_or("")) {
                Ok(e) => Some(e),
                Err(e) => {
                    p.alert(span, e.to_string());
                    None
                }
            }
        };
        let act = match base.as_str() {
            "accept" => TcpAction::Accept,
            "reject" => TcpAction::Reject,
            "close" => TcpAction::Close,
            "silent-drop" => TcpAction::SilentDrop,
            "expect-proxy" => TcpAction::ExpectProxy,
            "expect-netscaler-cip" => TcpAction::ExpectNetscalerCip,
            "capture" => {
                let Some(expr) = expr_at(self, 0) else { return };
                TcpAction::Capture {
                    expr,
                    len: values::atol(args.get(2).map(String::as_str).unwrap_or("")).max(0) as u32,
                }
            }
            b if b.starts_with("track-sc") => {
                let Some(key) = expr_at(self, 0) else { return };
                let index = b.trim_start_matches("track-sc").parse::<u8>().unwrap_or(0);
                let table = if args.get(1).map(String::as_str) == Some("table") {
                    args.get(2).cloned()
                } else {
                    None
                };
                TcpAction::TrackSc { index, key, table }
            }
            "set-var" => {
                let Some(expr) = expr_at(self, 0) else { return };
                TcpAction::SetVar {
                    name: paren.unwrap_or_default(),
                    expr,
                }
            }
            "unset-var" => TcpAction::UnsetVar {
                name: paren.unwrap_or_default(),
            },
            "set-dst" => {
                let Some(e) = expr_at(self, 0) else { return };
                TcpAction::SetDst(e)
            }
            "set-src" => {
                let Some(e) = expr_at(self, 0) else { return };
                TcpAction::SetSrc(e)
            }
            "use-service" => {
                let svc = args.first().cloned().unwrap_or_default();
                if !(svc == "prometheus-exporter" || (svc.starts_with("lua.") && self.lua_loaded()))
                {
                    err(self, format!("'{svc}' unknown service name."));
                    return;
                }
                TcpAction::UseService(svc)
            }
            b if b.starts_with("lua.") => TcpAction::Lua {
                name: b[4..].to_string(),
                args: args.clone(),
            },
            _ => {
                self.unimplemented(span, &format!("{ruleset} {sub} {base}"));
                TcpAction::Raw {
                    action: action.clone(),
                    args: args.clone(),
                }
            }
        };
        if !matches!(act, TcpAction::Raw { .. })
            && !crate::proxy::rules::is_supported_action(&format!("{ruleset} {sub}"), &base)
        {
            // parsed and validated, but the engine does not run tcp rules yet
            self.unimplemented(span, &format!("{ruleset} {sub} {base}"));
        }
        let cond = if end < line.len() {
            let words = line.args_from(end);
            let known = |n: &str| self.acl_known(n);
            match sample::parse_condition(&words, span, &known) {
                Ok(c) => Some(c),
                Err(e) => {
                    self.alert(span, format!("'{ruleset} {sub} {action}' : error detected in {pxdesc} while parsing '{}' condition : {e}", line.arg(end)));
                    return;
                }
            }
        } else {
            None
        };
        let stage = match (is_req, sub) {
            (true, "connection") => Some(super::proxy::RuleStage::TcpConnection),
            (true, "session") => Some(super::proxy::RuleStage::TcpSession),
            (true, _) => Some(super::proxy::RuleStage::TcpContent),
            _ => None,
        };
        if let Some(stage) = stage {
            self.warn_misplaced(stage, ruleset, span);
        }
        let rule = TcpRule {
            action: act,
            cond,
            span,
        };
        let p = self.px();
        match (is_req, sub) {
            (true, "connection") => p.tcp_request_connection.push(rule),
            (true, "session") => p.tcp_request_session.push(rule),
            (true, _) => p.tcp_request_content.push(rule),
            (false, _) => p.tcp_response_content.push(rule),
        }
    }
}

/// Actions after which haproxy stops evaluating the rule set.
fn is_final(a: &HttpAction) -> bool {
    matches!(
        a,
        HttpAction::Allow
            | HttpAction::Deny { .. }
            | HttpAction::Tarpit { .. }
            | HttpAction::Auth { .. }
            | HttpAction::Redirect(_)
            | HttpAction::Return { .. }
            | HttpAction::Reject
            | HttpAction::SilentDrop
            | HttpAction::UseService(_)
    )
}

impl Parser {
    /// The current proxy's rules of an http rule set.
    fn px_ref_rules(&self, ruleset: &str) -> Option<&Vec<HttpRule>> {
        let p = match self.section {
            super::Section::Defaults(i) => self.cfg.defaults.get(i),
            super::Section::Proxy(i) => self.cfg.proxies.get(i),
            _ => None,
        }?;
        Some(match ruleset {
            "http-request" => &p.http_request,
            "http-response" => &p.http_response,
            _ => &p.http_after_response,
        })
    }
}

/// Status codes HAProxy can generate an error page for (`errorfile`, `http-error`).
pub(crate) const HANDLED_ERROR_CODES: [u16; 17] = [
    200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504,
];

impl Parser {
    /// `http-error status N [content-type T] [payload] [hdr N V]*`: the proxy's error page for
    /// N. Errorfile forms join `errorfiles`, the others `error_replies`; either way it replaces
    /// what an earlier directive set for N.
    pub(crate) fn http_error(&mut self, line: &Line) {
        let span = line.span;
        let args = vec_args(line, 1, line.len());
        let r = match parse_reply_args(&args, &self.cfg.http_errors, 0) {
            Ok(r) => r,
            Err(e) => {
                self.alert(span, format!("http-error : {e}."));
                return;
            }
        };
        let Some(status) = r.status else {
            self.alert(
                span,
                "http-error : expects at least a <status> as arguments.",
            );
            return;
        };
        if !HANDLED_ERROR_CODES.contains(&status) {
            self.alert(
                span,
                format!("http-error: status code '{status}' not handled."),
            );
            return;
        }
        if let Some(w) = args.get(r.consumed) {
            self.alert(span, format!("http-error : unknown keyword '{w}'."));
            return;
        }
        let page = match &r.body {
            Some(ReturnBody::Errorfiles {
                page: None,
                section,
            }) => {
                self.warn(
                    span,
                    format!(
                        "config: proxy '{}' : status '{status}' not declared in http-errors section '{section}'.",
                        self.px_name()
                    ),
                );
                return;
            }
            Some(ReturnBody::Errorfiles {
                page: Some(c),
                section,
            }) => Some((section.clone(), c.clone())),
            Some(ReturnBody::Errorfile(path)) => {
                match crate::haproxy::parser::read_config_file(path) {
                    Some(c) => Some((path.clone(), c)),
                    None => {
                        self.alert(span, format!("http-error : error opening file '{path}'."));
                        return;
                    }
                }
            }
            _ => None,
        };
        let px = self.px();
        px.error_replies.retain(|e| e.status != status);
        px.errorfiles.retain(|e| e.status != status);
        match (page, r.body) {
            (Some((path, content)), _) => px.errorfiles.push(ErrorFile {
                status,
                path,
                content,
                span,
            }),
            (None, Some(ReturnBody::DefaultErrorfiles)) => {}
            (None, body) => px.error_replies.push(ErrorReply {
                status,
                content_type: r.content_type,
                body,
                headers: r.headers,
                span,
            }),
        }
    }
}

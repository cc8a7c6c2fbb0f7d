//! Which sample fetches and converters used in a configuration the proxy engine does not
//! evaluate yet. The catalogue says which fetch/converter *keywords* exist; the engine's
//! registries (`proxy::sample::is_supported_fetch` / `is_supported_converter`) say which ones
//! it runs. `-c` and start-up warn with FILE:LINE about each use of an unsupported one, since
//! an ACL on such a fetch never matches and such a converter passes its input unchanged.
//!
//! Rules whose action the engine does not perform are warned by the parser itself, so their
//! sample expressions are not walked again here (track-sc, capture...). `tcp-request content`
//! rules are run by mode tcp frontends (`proxy::tcp`) and by mode http frontends and backends
//! (`proxy::tcp_content`), so mode tcp backends are warned here.

use std::collections::HashSet;

use crate::diag::Span;
use crate::haproxy::ir::{
    Acl, AclRef, BackendRef, Condition, Config, HttpAction, HttpRule, LogFormat, LogFormatNode,
    ProxyKind, ProxyMode, ReturnBody, SampleExpr, TcpAction,
};
use crate::proxy::rules::is_supported_action;
use crate::proxy::sample::{is_supported_converter, is_supported_fetch};

/// One use of a fetch or converter the engine does not support.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedSample {
    pub span: Span,
    /// `sample fetch 'name'` or `converter 'name'`.
    pub what: String,
}

/// Every use of an unsupported fetch or converter in the proxies' ACLs, conditions, rules,
/// log formats, dynamic use_backend targets and stick rules, once per (line, name).
pub fn unsupported_samples(cfg: &Config) -> Vec<UnsupportedSample> {
    let mut w = Walker::default();
    for p in &cfg.proxies {
        for a in &p.acls {
            w.acl(a);
        }
        for f in [
            &p.log_format,
            &p.log_format_sd,
            &p.error_log_format,
            &p.unique_id_format,
        ]
        .into_iter()
        .flatten()
        {
            w.log_format(f, p.log_format_span.unwrap_or(p.span));
        }
        for (set, rules) in [
            ("http-request", &p.http_request),
            ("http-response", &p.http_response),
            ("http-after-response", &p.http_after_response),
        ] {
            for r in rules {
                w.http_rule(set, r);
            }
        }
        let runs_content =
            p.mode == ProxyMode::Http || matches!(p.kind, ProxyKind::Frontend | ProxyKind::Listen);
        for (set, rules) in [
            ("tcp-request connection", &p.tcp_request_connection),
            ("tcp-request content", &p.tcp_request_content),
        ] {
            for r in rules {
                let name = tcp_action_name(&r.action);
                if !is_supported_action(set, name) {
                    // already warned as an unimplemented action
                    continue;
                }
                if set == "tcp-request content" && !runs_content {
                    w.note(
                        r.span,
                        format!("keyword '{set} {name}' in a mode tcp backend"),
                    );
                    continue;
                }
                w.cond(r.cond.as_ref());
            }
        }
        for u in &p.use_backends {
            if let BackendRef::Dynamic(f) = &u.target {
                w.log_format(f, u.span);
            }
            w.cond(u.cond.as_ref());
        }
        if let Some(BackendRef::Dynamic(f)) = &p.default_backend {
            w.log_format(f, p.span);
        }
        for u in &p.use_servers {
            w.cond(u.cond.as_ref());
        }
        for r in &p.redirects {
            w.log_format(&r.redirect.target, r.span);
            w.cond(r.cond.as_ref());
        }
        for s in &p.stick_rules {
            w.expr(&s.expr, s.span);
            w.cond(s.cond.as_ref());
        }
        // server-side TLS sends a constant SNI only (`sni str(NAME)`), not a per-request one
        for s in &p.servers {
            if let Some(t) = s.sni.as_deref().filter(|t| !t.starts_with("str(")) {
                w.note(s.span, format!("server sni '{t}'"));
            }
        }
    }
    w.out
}

#[derive(Default)]
struct Walker {
    seen: HashSet<(Span, String)>,
    out: Vec<UnsupportedSample>,
}

impl Walker {
    fn note(&mut self, span: Span, what: String) {
        if self.seen.insert((span, what.clone())) {
            self.out.push(UnsupportedSample { span, what });
        }
    }

    fn expr(&mut self, e: &SampleExpr, span: Span) {
        if !is_supported_fetch(&e.fetch) {
            self.note(span, format!("sample fetch '{}'", e.fetch));
        }
        for c in &e.converters {
            if !is_supported_converter(&c.name) {
                self.note(span, format!("converter '{}'", c.name));
            }
        }
    }

    fn acl(&mut self, a: &Acl) {
        self.expr(&a.expr, a.span);
    }

    fn cond(&mut self, c: Option<&Condition>) {
        let Some(c) = c else { return };
        for term in c.terms.iter().flatten() {
            if let AclRef::Anonymous(a) = &term.acl {
                self.acl(a);
            }
        }
    }

    fn log_format(&mut self, f: &LogFormat, span: Span) {
        for n in &f.nodes {
            if let LogFormatNode::Sample { expr, .. } = n {
                self.expr(expr, span);
            }
        }
    }

    fn http_rule(&mut self, set: &str, r: &HttpRule) {
        let name = action_name(&r.action);
        if !is_supported_action(set, name) {
            // already warned as an unimplemented action
            return;
        }
        self.cond(r.cond.as_ref());
        let span = r.span;
        match &r.action {
            HttpAction::SetHeader { value, .. } | HttpAction::AddHeader { value, .. } => {
                self.log_format(value, span)
            }
            HttpAction::SetPath(f)
            | HttpAction::SetPathq(f)
            | HttpAction::SetQuery(f)
            | HttpAction::SetUri(f)
            | HttpAction::SetMethod(f)
            | HttpAction::SetVarFmt { format: f, .. } => self.log_format(f, span),
            HttpAction::SetVar { expr, .. } => self.expr(expr, span),
            HttpAction::Redirect(rd) => self.log_format(&rd.target, span),
            HttpAction::Return { body, headers, .. }
            | HttpAction::Deny { body, headers, .. }
            | HttpAction::Tarpit { body, headers, .. } => {
                if let Some(ReturnBody::LfString(f)) = body {
                    self.log_format(f, span);
                }
                for (_, v) in headers {
                    self.log_format(v, span);
                }
            }
            _ => {}
        }
    }
}

/// The catalogue name of a tcp action the engine may perform ("" for the others).
fn tcp_action_name(a: &TcpAction) -> &'static str {
    match a {
        TcpAction::Accept => "accept",
        TcpAction::Reject => "reject",
        TcpAction::SilentDrop => "silent-drop",
        _ => "",
    }
}

/// The catalogue name of an http action the engine may perform ("" for the others).
fn action_name(a: &HttpAction) -> &'static str {
    match a {
        HttpAction::Allow => "allow",
        HttpAction::Deny { .. } => "deny",
        HttpAction::Tarpit { .. } => "tarpit",
        HttpAction::Auth { .. } => "auth",
        HttpAction::Redirect(_) => "redirect",
        HttpAction::SetHeader { .. } => "set-header",
        HttpAction::AddHeader { .. } => "add-header",
        HttpAction::DelHeader { .. } => "del-header",
        HttpAction::ReplaceHeader { .. } => "replace-header",
        HttpAction::ReplaceValue { .. } => "replace-value",
        HttpAction::SetPath(_) => "set-path",
        HttpAction::SetPathq(_) => "set-pathq",
        HttpAction::SetQuery(_) => "set-query",
        HttpAction::SetUri(_) => "set-uri",
        HttpAction::SetMethod(_) => "set-method",
        HttpAction::ReplacePath { .. } => "replace-path",
        HttpAction::ReplacePathq { .. } => "replace-pathq",
        HttpAction::ReplaceUri { .. } => "replace-uri",
        HttpAction::SetVar { .. } => "set-var",
        HttpAction::SetVarFmt { .. } => "set-var-fmt",
        HttpAction::UnsetVar { .. } => "unset-var",
        HttpAction::SetStatus { .. } => "set-status",
        HttpAction::Return { .. } => "return",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::haproxy::catalogue::{self, Status};
    use crate::haproxy::ir;
    use crate::proxy::rules::{
        SUPPORTED_HTTP_REQUEST_ACTIONS, SUPPORTED_HTTP_RESPONSE_ACTIONS, SUPPORTED_TCP_ACTIONS,
        SUPPORTED_TCP_CONTENT_ACTIONS,
    };
    use crate::proxy::sample::{
        compile_conv, compile_fetch, split_acl_suffix, CompileEnv, Conv, Fetch,
        SUPPORTED_CONVERTERS, SUPPORTED_FETCHES,
    };

    fn implemented(e: &catalogue::Entry) -> bool {
        e.status == Status::Implemented
    }

    /// The engine's own answer: does `compile_fetch` have an arm for it (an argument error
    /// counts: the arm exists), or does it fall back to `Fetch::Never`?
    fn engine_evaluates_fetch(name: &str) -> bool {
        let env = CompileEnv::from_config(&ir::Config::default());
        let base = split_acl_suffix(name).map(|(b, _)| b).unwrap_or(name);
        !matches!(
            compile_fetch(base, &["x".to_string()], &env),
            Ok(Fetch::Never)
        )
    }

    fn engine_applies_converter(name: &str) -> bool {
        let c = ir::Converter {
            name: name.to_string(),
            args: vec![],
        };
        !matches!(compile_conv(&c), Ok(Conv::Identity))
    }

    #[test]
    fn fetch_registry_matches_engine_and_catalogue() {
        let mut wrong = Vec::new();
        for e in catalogue::of_kind("fetch") {
            let engine = engine_evaluates_fetch(e.keyword);
            if engine != is_supported_fetch(e.keyword) {
                wrong.push(format!(
                    "{}: registry disagrees with compile_fetch",
                    e.keyword
                ));
            }
            if engine != implemented(e) {
                wrong.push(format!(
                    "{}: catalogue {:?}, engine {engine}",
                    e.keyword, e.status
                ));
            }
        }
        for f in SUPPORTED_FETCHES {
            match catalogue::lookup("fetch", f) {
                Some(e) if implemented(e) => {}
                other => wrong.push(format!(
                    "{f}: supported, catalogue {:?}",
                    other.map(|e| e.status)
                )),
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        // the fallback itself
        assert!(!engine_evaluates_fetch("ssl_c_used") && !is_supported_fetch("ssl_c_used"));
        assert!(is_supported_fetch("path_beg") && is_supported_fetch("req.hdr"));
    }

    #[test]
    fn converter_registry_matches_engine_and_catalogue() {
        let mut wrong = Vec::new();
        for e in catalogue::of_kind("converter") {
            let engine = engine_applies_converter(e.keyword);
            if engine != is_supported_converter(e.keyword) {
                wrong.push(format!(
                    "{}: registry disagrees with compile_conv",
                    e.keyword
                ));
            }
            if engine != implemented(e) {
                wrong.push(format!(
                    "{}: catalogue {:?}, engine {engine}",
                    e.keyword, e.status
                ));
            }
        }
        for c in SUPPORTED_CONVERTERS {
            match catalogue::lookup("converter", c) {
                Some(e) if implemented(e) => {}
                other => wrong.push(format!(
                    "{c}: supported, catalogue {:?}",
                    other.map(|e| e.status)
                )),
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    /// Representative keywords of the other kinds, with where the engine reads them (or why
    /// it does not): the catalogue must say the same.
    #[test]
    fn catalogue_status_of_representative_keywords() {
        use Status::{Implemented as I, ParsedWarned as W};
        const TABLE: &[(&str, &str, Status)] = &[
            ("global", "maxconn", I),                  // process.rs: accept semaphore
            ("global", "daemon", I),                   // process.rs
            ("global", "pidfile", I),                  // process.rs
            ("global", "nbthread", I),                 // process.rs: tokio workers
            ("global", "hard-stop-after", I),          // process.rs
            ("global", "description", I),              // informational
            ("global", "chroot", W),                   // never read by the engine
            ("global", "user", W),                     // no privilege drop
            ("global", "stats", I),                    // stats socket: the runtime API
            ("global", "master-worker", I),            // master.rs
            ("global", "ssl-default-bind-ciphers", W), // rustls default suites
            ("proxy", "balance", I),                   // balance.rs
            ("proxy", "timeout client", I),            // stream.rs
            ("proxy", "monitor-uri", I),               // stream.rs
            ("proxy", "http-reuse", I),                // stream.rs
            ("proxy", "stick on", I),                  // stick.rs
            ("proxy", "tcp-request content", I),       // tcp.rs, tcp_content.rs
            ("proxy", "tcp-request connection", I),    // tcp.rs
            ("proxy", "tcp-request inspect-delay", I), // tcp.rs
            ("proxy", "tcp-request session", W),
            ("proxy", "tcp-response content", I),
            ("proxy", "tcp-check expect", I), // checks_db.rs
            ("proxy", "tcp-check send-lf", W),
            ("proxy", "timeout client-fin", W),
            ("proxy", "capture request header", W),
            ("proxy", "unique-id-format", I), // rules.rs
            ("proxy", "stats admin", I),      // stats_admin.rs
            ("option", "httplog", I),         // log.rs
            ("option", "forwardfor", I),      // stream.rs
            ("option", "redispatch", I),      // stream.rs
            ("option", "httpchk", I),         // checker.rs
            ("option", "tcpka", W),
            ("option", "mysql-check", I),   // checks_db.rs
            ("option", "pgsql-check", I),   // checks_db.rs
            ("option", "redis-check", I),   // checks_db.rs
            ("option", "smtpchk", I),       // checks_db.rs
            ("option", "ssl-hello-chk", I), // checks_db.rs
            ("option", "tcp-check", I),     // checks_db.rs
            ("option", "ldap-check", I),    // checks_db.rs, checks_proto.rs
            ("option", "abortonclose", I),
            ("bind", "v6only", I),       // listener.rs
            ("bind", "backlog", I),      // listener.rs
            ("bind", "ssl", I),          // tls.rs
            ("bind", "crt", I),          // tls.rs
            ("bind", "alpn", I),         // tls.rs
            ("bind", "accept-proxy", I), // proxy_proto.rs
            ("bind", "ciphers", W),      // ignored
            ("bind", "verify", W),       // no client certificates
            ("bind", "tfo", W),
            ("server", "check", I),  // checker.rs
            ("server", "weight", I), // balance.rs
            ("server", "cookie", I), // cookie.rs
            ("server", "backup", I),
            ("server", "slowstart", W),
            ("server", "send-proxy", I),     // tcp.rs, stream.rs
            ("server", "send-proxy-v2", I),  // tcp.rs, stream.rs
            ("server", "on-marked-down", I), // tcp.rs
            ("server", "ssl", I),            // tcp.rs, server_io.rs
            ("server", "ciphers", W),        // ignored
            ("server", "track", W),
            ("section", "userlist", I), // http_auth
            ("section", "resolvers", W),
            ("section", "peers", W),
        ];
        let wrong: Vec<String> = TABLE
            .iter()
            .filter(|(kind, kw, want)| catalogue::lookup(kind, kw).map(|e| e.status) != Some(*want))
            .map(|(kind, kw, want)| format!("{kind} {kw}: want {want:?}"))
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    /// An action is `implemented` when the engine performs it in at least one of the rule sets
    /// the catalogue lists for it; in the others `-c` still warns (per rule set).
    #[test]
    fn action_registry_matches_catalogue() {
        let mut wrong = Vec::new();
        for e in catalogue::of_kind("action") {
            let engine = e.sections.iter().any(|s| is_supported_action(s, e.keyword));
            if engine != implemented(e) {
                wrong.push(format!(
                    "{}: catalogue {:?}, engine {engine}",
                    e.keyword, e.status
                ));
            }
        }
        for (set, list) in [
            ("http-request", SUPPORTED_HTTP_REQUEST_ACTIONS),
            ("http-response", SUPPORTED_HTTP_RESPONSE_ACTIONS),
            ("tcp-request connection", SUPPORTED_TCP_ACTIONS),
            ("tcp-request content", SUPPORTED_TCP_CONTENT_ACTIONS),
            ("tcp-response content", SUPPORTED_TCP_CONTENT_ACTIONS),
        ] {
            for a in list {
                match catalogue::lookup("action", a) {
                    Some(e) if implemented(e) && e.sections.contains(&set) => {}
                    other => wrong.push(format!(
                        "{set} {a}: supported, catalogue {:?}",
                        other.map(|e| (e.status, e.sections.clone()))
                    )),
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        assert!(is_supported_action("tcp-request content", "accept"));
        assert!(!is_supported_action("tcp-request session", "accept"));
        assert!(is_supported_action("tcp-response content", "reject"));
        assert!(!is_supported_action("tcp-request connection", "set-var"));
    }
}

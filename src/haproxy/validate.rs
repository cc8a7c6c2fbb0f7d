//! haproxy's post-parse checks (`check_config_validity()` and server address initialisation).
//!
//! They only run when parsing found no error, as in haproxy. Host names are resolved only
//! numerically or through /etc/hosts (never DNS): an unresolvable server name is an error, or
//! a "disabling server" warning with `-dr`.

use crate::diag::{Diagnostic, Severity, SourceMap};
use crate::haproxy::ir::*;
use crate::haproxy::parser::values;
use crate::haproxy::parser::{Finding, Loc};

#[derive(Debug, Clone, Copy, Default)]
pub struct ValidateOptions {
    /// `-dr`: resolution failures disable the server instead of failing.
    pub ignore_resolution_failures: bool,
}

fn finding(severity: Severity, loc: Loc, span: Option<crate::diag::Span>, msg: String) -> Finding {
    Finding {
        diag: Diagnostic {
            severity,
            message: msg,
            span,
            help: None,
        },
        loc,
        fatal: true,
    }
}

/// Runs the checks; resolved server addresses are written back into `cfg`.
pub fn validate(cfg: &mut Config, sources: &SourceMap, opts: ValidateOptions) -> Vec<Finding> {
    let mut out = Vec::new();
    let fname = |s: &crate::diag::Span| sources.name(s.file).to_string();

    for u in &cfg.userlists {
        for g in &u.groups {
            for name in &g.users {
                if !u.users.iter().any(|x| &x.name == name) {
                    out.push(finding(
                        Severity::Error,
                        Loc::None,
                        Some(g.span),
                        format!(
                            "userlist '{}': no such user '{name}' specified in group '{}'",
                            u.name, g.name
                        ),
                    ));
                }
            }
        }
    }
    if !cfg.programs.is_empty() && !cfg.global.master_worker {
        let span = cfg.programs.first().map(|p| p.span);
        out.push(finding(
            Severity::Error,
            Loc::None,
            span,
            "Can't use a 'program' section without master worker mode.".into(),
        ));
    }
    // backends by name (first one wins, as haproxy's lookup)
    let mut backends: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, b) in cfg.proxies.iter().enumerate() {
        if b.kind.has_backend() {
            backends.entry(b.name.as_str()).or_insert(i);
        }
    }
    for (pi, p) in cfg.proxies.iter().enumerate() {
        let kind = p.kind.type_str();
        // SSL binds need a certificate
        for b in &p.binds {
            if b.options.ssl && b.options.crt.is_empty() && b.options.crt_list.is_empty() {
                out.push(finding(
                    Severity::Error,
                    Loc::None,
                    Some(b.span),
                    format!(
                        "Proxy '{}': no SSL certificate specified for bind '{}' at [{}:{}] (use 'crt').",
                        p.name,
                        b.addr_text,
                        fname(&b.span),
                        b.span.line
                    ),
                ));
            }
        }
        if p.disabled {
            continue;
        }
        if let (Some(f), Some(span)) = (&p.log_format, p.log_format_span) {
            if p.kind.has_frontend() {
                if let Some(msg) = log_format_problem(f, p.mode == ProxyMode::Http) {
                    out.push(finding(
                        Severity::Error,
                        Loc::CapParsing,
                        Some(span),
                        format!("failed to parse log-format : {msg}."),
                    ));
                }
            }
        }
        if p.kind == ProxyKind::Frontend && p.binds.is_empty() {
            out.push(finding(
                Severity::Warning,
                Loc::None,
                Some(p.span),
                format!("{kind} '{}' has no 'bind' directive. Please declare it as a backend if this was intended.", p.name),
            ));
        }
        let backend_exists = |name: &str| backends.contains_key(name);
        if p.kind.has_frontend() {
            if let Some(BackendRef::Static(name)) = &p.default_backend {
                let target = backends.get(name.as_str()).copied();
                if !backend_exists(name) {
                    out.push(finding(
                        Severity::Error,
                        Loc::None,
                        Some(p.span),
                        format!(
                            "Proxy '{}': unable to find required default_backend: '{name}'.",
                            p.name
                        ),
                    ));
                } else if target == Some(pi) {
                    out.push(finding(
                        Severity::Error,
                        Loc::None,
                        Some(p.span),
                        format!(
                            "Proxy '{}': loop detected for default_backend: '{name}'.",
                            p.name
                        ),
                    ));
                }
            }
            if let Some(BackendRef::Static(name)) = &p.default_backend {
                if let Some(&ti) = backends.get(name.as_str()) {
                    let t = &cfg.proxies[ti];
                    if p.mode == ProxyMode::Http && t.mode == ProxyMode::Tcp && ti != pi {
                        out.push(finding(
                            Severity::Error,
                            Loc::None,
                            Some(p.span),
                            format!(
                                "http {} '{}' ({}:{}) tries to use incompatible tcp {} '{}' ({}:{}) as its default backend (see 'mode').",
                                p.kind.type_str(), p.name, fname(&p.span), p.span.line, t.kind.type_str(), t.name, fname(&t.span), t.span.line
                            ),
                        ));
                    }
                }
            }
            for ub in &p.use_backends {
                if let BackendRef::Static(name) = &ub.target {
                    if let Some(&ti) = backends.get(name.as_str()) {
                        let t = &cfg.proxies[ti];
                        if p.mode == ProxyMode::Http && t.mode == ProxyMode::Tcp && ti != pi {
                            out.push(finding(
                                Severity::Error,
                                Loc::None,
                                Some(ub.span),
                                format!(
                                    "http {} '{}' ({}:{}) tries to use incompatible tcp {} '{}' ({}:{}) in a 'use_backend' rule (see 'mode').",
                                    p.kind.type_str(), p.name, fname(&p.span), p.span.line, t.kind.type_str(), t.name, fname(&t.span), t.span.line
                                ),
                            ));
                        }
                    }
                    if !backend_exists(name) {
                        out.push(finding(
                            Severity::Error,
                            Loc::None,
                            Some(ub.span),
                            format!(
                                "Proxy '{}': unable to find required use_backend: '{name}'.",
                                p.name
                            ),
                        ));
                    }
                }
            }
        }
        for us in &p.use_servers {
            if !p.servers.iter().any(|s| s.name == us.server) {
                out.push(finding(
                    Severity::Error,
                    Loc::None,
                    Some(us.span),
                    format!("{kind} '{}' : unable to find server '{}' referenced in a 'use-server' rule.", p.name, us.server),
                ));
            }
        }
        if let Some(st) = &p.stick_table {
            if let Some(pr) = &st.peers {
                if !cfg.peers.iter().any(|x| &x.name == pr) {
                    out.push(finding(
                        Severity::Error,
                        Loc::None,
                        Some(st.span),
                        format!("Proxy '{}': unable to find sync peers '{pr}'.", p.name),
                    ));
                }
            }
        }
        for sr in p.stick_rules.iter().filter(|_| p.kind.has_backend()) {
            let table_ok = match &sr.table {
                Some(t) => {
                    cfg.proxies
                        .iter()
                        .any(|x| &x.name == t && x.stick_table.is_some())
                        || t.split_once('/').is_some_and(|(sec, name)| {
                            cfg.peers
                                .iter()
                                .any(|p| p.name == sec && p.tables.iter().any(|(n, _)| n == name))
                        })
                }
                None => p.stick_table.is_some(),
            };
            if !table_ok {
                let t = sr.table.clone().unwrap_or_else(|| p.name.clone());
                out.push(finding(
                    Severity::Error,
                    Loc::None,
                    Some(sr.span),
                    format!("Proxy '{}': unable to find stick-table '{t}'.", p.name),
                ));
            }
        }
        // missing timeouts (warning)
        if matches!(p.mode, ProxyMode::Tcp | ProxyMode::Http) {
            let t = &p.timeouts;
            let fe_missing = p.kind.has_frontend() && t.client.is_none();
            let be_missing = p.kind.has_backend()
                && !p.servers.is_empty()
                && (t.connect.is_none()
                    || (t.server.is_none() && (p.mode == ProxyMode::Http || t.tunnel.is_none())));
            if fe_missing || be_missing {
                let mut which = Vec::new();
                if fe_missing {
                    which.push("'client'");
                }
                if be_missing {
                    which.push("'connect'");
                    which.push("'server'");
                }
                let list = match which.len() {
                    1 => which[0].to_string(),
                    _ => format!(
                        "{} and {}",
                        which[..which.len() - 1].join(", "),
                        which[which.len() - 1]
                    ),
                };
                let _ = list;
                let all = "'client', 'connect', 'server'";
                out.push(finding(
                    Severity::Warning,
                    Loc::None,
                    Some(p.span),
                    format!(
                        "missing timeouts for {kind} '{}'.\n   | While not properly invalid, you will certainly encounter various problems\n   | with such a configuration. To fix this, please ensure that all following\n   | timeouts are set to a non-zero value: {all}.",
                        p.name
                    ),
                ));
            }
        }
        // logging and HTTP-only settings in non-HTTP proxies (warnings)
        if p.kind.has_frontend() && matches!(p.mode, ProxyMode::Tcp | ProxyMode::Http) {
            let has_format = p.options.httplog
                || p.options.tcplog
                || p.options.httpslog
                || p.log_format.is_some();
            let has_logs = p.logs.iter().any(|l| l.dest != LogDest::Global)
                || (p.logs.iter().any(|l| l.dest == LogDest::Global)
                    && !cfg.global.logs.is_empty());
            if has_format && !has_logs {
                out.push(finding(
                    Severity::Warning,
                    Loc::None,
                    Some(p.span),
                    format!(
                        "log format ignored for {kind} '{}' since it has no log address.",
                        p.name
                    ),
                ));
            }
        }
        if p.mode == ProxyMode::Tcp && p.kind.has_frontend() && p.options.httplog {
            if let Some(sp) = p.options.httplog_span {
                out.push(finding(
                    Severity::Warning,
                    Loc::Parsing,
                    Some(sp),
                    format!("'option httplog' not usable with {kind} '{}' (needs 'mode http'). Falling back to 'option tcplog'.", p.name),
                ));
            }
        }
        if p.mode != ProxyMode::Http {
            let mut ignored = |what: String| {
                out.push(finding(Severity::Warning, Loc::None, Some(p.span), what));
            };
            if p.stats.enabled {
                ignored(format!(
                    "'stats' statement ignored for {kind} '{}' as it requires HTTP mode.",
                    p.name
                ));
            }
            if !p.captures.is_empty() {
                ignored(format!(
                    "'capture' statement ignored for {kind} '{}' as it requires HTTP mode.",
                    p.name
                ));
            }
            for (rules, what) in [
                (&p.http_request, "http-request"),
                (&p.http_response, "http-response"),
                (&p.http_after_response, "http-after-response"),
            ] {
                if !rules.is_empty() {
                    ignored(format!(
                        "'{what}' rules ignored for {kind} '{}' as they require HTTP mode.",
                        p.name
                    ));
                }
            }
            if !p.redirects.is_empty() {
                ignored(format!(
                    "'redirect' rules ignored for {kind} '{}' as they require HTTP mode.",
                    p.name
                ));
            }
            if p.options.http_buffer_request {
                ignored(format!("'option http-buffer-request' ignored for {kind} '{}' as it requires HTTP mode.", p.name));
            }
            if p.options.forwardfor.is_some() {
                ignored(format!(
                    "'option forwardfor' ignored for {kind} '{}' as it requires HTTP mode.",
                    p.name
                ));
            }
            if p.options.originalto.is_some() {
                ignored(format!(
                    "'option originalto' ignored for {kind} '{}' as it requires HTTP mode.",
                    p.name
                ));
            }
        }
        if !p.http_checks.is_empty()
            && !matches!(p.options.check, Some(CheckKind::HttpChk(_)))
            && p.kind.has_backend()
        {
            out.push(finding(
                Severity::Warning,
                Loc::None,
                Some(p.span),
                format!("{kind} '{}' uses http-check rules without 'option httpchk', so the rules are ignored.", p.name),
            ));
        }
        if p.mode == ProxyMode::Tcp && p.kind.has_backend() {
            if p.cookie.is_some() {
                out.push(finding(
                    Severity::Warning,
                    Loc::None,
                    Some(p.span),
                    format!(
                        "cookie will be ignored for {kind} '{}' (needs 'mode http').",
                        p.name
                    ),
                ));
            }
            if matches!(
                p.balance,
                Some(
                    BalanceAlgo::Uri { .. }
                        | BalanceAlgo::UrlParam { .. }
                        | BalanceAlgo::Hdr { .. }
                )
            ) {
                out.push(finding(
                    Severity::Warning,
                    Loc::None,
                    Some(p.span),
                    format!("Layer 7 hash not possible for {kind} '{}' (needs 'mode http'). Falling back to round robin.", p.name),
                ));
            }
            for s in p.servers.iter().filter(|s| s.cookie.is_some()) {
                out.push(finding(
                    Severity::Warning,
                    Loc::None,
                    Some(s.span),
                    format!(
                        "{kind} '{}' : ignoring cookie for server '{}' as HTTP mode is disabled.",
                        p.name, s.name
                    ),
                ));
            }
        }
        // duplicate server names (servers without explicit id)
        for (i, s) in p.servers.iter().enumerate() {
            if s.id.is_some() {
                continue;
            }
            if let Some(other) = p.servers[..i]
                .iter()
                .find(|o| o.id.is_none() && o.name == s.name)
            {
                if p.server_templates
                    .iter()
                    .any(|t| s.name.starts_with(&t.prefix))
                {
                    continue;
                }
                out.push(finding(
                    Severity::Error,
                    Loc::Parsing,
                    Some(s.span),
                    format!(
                        "{kind} '{}', another server named '{}' was already defined at line {}, please use distinct names.",
                        p.name, s.name, other.span.line
                    ),
                ));
            }
        }
    }
    cross_references(cfg, sources, &mut out);
    if let Some(host) = local_peer_name() {
        for pr in cfg.peers.iter().filter(|p| !p.disabled) {
            if !pr.peers.iter().chain(&pr.servers).any(|p| p.name == host) {
                out.push(finding(
                    Severity::Warning,
                    Loc::None,
                    Some(pr.span),
                    format!(
                        "Removing incomplete section 'peers {}' (no peer named '{host}').",
                        pr.name
                    ),
                ));
            }
        }
    }
    if out.iter().any(|f| f.is_fatal()) {
        return out;
    }

    // server address initialisation (haproxy: after the checks above passed)
    let mut failed = false;
    for p in cfg.proxies.iter_mut() {
        let pname = p.name.clone();
        for s in p.servers.iter_mut() {
            let ServerAddr::Inet { host, resolved, .. } = &mut s.addr else {
                continue;
            };
            if resolved.is_some() {
                continue;
            }
            let methods = if s.init_addr.is_empty() {
                vec![InitAddr::Last, InitAddr::Libc]
            } else {
                s.init_addr.clone()
            };
            let mut ok = false;
            for m in &methods {
                match m {
                    InitAddr::Libc => {
                        if let Some(ip) = values::resolve_hosts_file(host) {
                            *resolved = Some(ip);
                            ok = true;
                        }
                    }
                    InitAddr::None => ok = true,
                    InitAddr::Ip(ip) => {
                        *resolved = Some(*ip);
                        ok = true;
                    }
                    InitAddr::Last => {}
                }
                if ok {
                    break;
                }
            }
            if ok {
                continue;
            }
            let template = p
                .server_templates
                .iter()
                .any(|t| s.name.starts_with(&t.prefix) && s.span == t.span);
            let name = if template {
                "(null)".to_string()
            } else {
                s.name.clone()
            };
            let _ = name;
            if opts.ignore_resolution_failures {
                out.push(finding(
                    Severity::Warning,
                    Loc::Bracket,
                    Some(s.span),
                    format!("'server {pname}/{}' : could not resolve address '{host}', disabling server.", s.name),
                ));
                s.disabled = true;
            } else {
                out.push(finding(
                    Severity::Error,
                    Loc::Bracket,
                    Some(s.span),
                    format!(
                        "'server {pname}/{}' : could not resolve address '{host}'.",
                        s.name
                    ),
                ));
                failed = true;
            }
        }
    }
    if failed {
        out.push(finding(
            Severity::Error,
            Loc::None,
            None,
            "Failed to initialize server(s) addr.".into(),
        ));
    }
    out
}

/// Checks of names that refer to other sections (resolvers, tables, userlists, ...).
fn cross_references(cfg: &Config, sources: &SourceMap, out: &mut Vec<Finding>) {
    let server_verify_none = cfg.global.raw.iter().any(|r| {
        r.keyword == "ssl-server-verify" && r.args.first().map(String::as_str) == Some("none")
    });
    for p in &cfg.proxies {
        for s in &p.servers {
            let verify = s.verify.unwrap_or(if server_verify_none {
                VerifyMode::None
            } else {
                VerifyMode::Required
            });
            if s.ssl && verify == VerifyMode::Required && s.ca_file.is_none() {
                out.push(finding(
                    Severity::Error,
                    Loc::Bracket,
                    Some(s.span),
                    format!("'server {}/{}' : verify is enabled by default but no CA file specified. If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit 'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to disable server-side verifications by default.", p.name, s.name),
                ));
            }
        }
    }
    let fname = |s: &crate::diag::Span| sources.name(s.file).to_string();
    let has_resolvers = |n: &str| cfg.resolvers.iter().any(|r| r.name == n);
    let has_table = |own: &Proxy, t: &Option<String>| match t {
        Some(t) => cfg
            .proxies
            .iter()
            .any(|x| &x.name == t && x.stick_table.is_some()),
        None => own.stick_table.is_some(),
    };
    let global_external_check = cfg.global.raw.iter().any(|r| r.keyword == "external-check");
    for p in &cfg.proxies {
        if p.disabled {
            continue;
        }
        let kind = p.kind.type_str();
        for (name, span) in p.http_errors_refs.iter().zip(p.http_errors_spans.iter()) {
            if !cfg.http_errors.iter().any(|h| &h.name == name) {
                out.push(finding(
                    Severity::Error,
                    Loc::None,
                    Some(*span),
                    format!(
                        "proxy '{}': unknown http-errors section '{name}' (at {}:{}).",
                        p.name,
                        fname(span),
                        span.line
                    ),
                ));
            }
        }
        if p.options.check == Some(CheckKind::ExternalCheck) && !global_external_check {
            out.push(finding(
                Severity::Error,
                Loc::None,
                Some(p.span),
                format!("Proxy '{}' : 'option external-check' unable to find required 'global.external-check'.", p.name),
            ));
        }
        if let Some(BalanceAlgo::Hash { expr }) = &p.balance {
            if let Err(e) = crate::haproxy::parser::sample::parse_sample_expr(expr) {
                out.push(finding(
                    Severity::Error,
                    Loc::None,
                    Some(p.span),
                    format!("{kind} '{}' [{}:{}]: failed to parse 'balance hash' expression '{expr}' in : {e}.", p.name, fname(&p.span), p.span.line),
                ));
            }
        }
        for a in &p.acls {
            if matches!(
                a.expr.fetch.as_str(),
                "http_auth" | "http_auth_group" | "http_auth_bearer"
            ) {
                if let Some(ul) = a.expr.args.first() {
                    if !cfg.userlists.iter().any(|u| &u.name == ul) {
                        out.push(finding(
                            Severity::Error,
                            Loc::ParsingTight,
                            Some(a.span),
                            format!("unable to find userlist '{ul}' referenced in arg 1 of ACL keyword '{}' in proxy '{}'.", a.expr.fetch, p.name),
                        ));
                    }
                }
            }
        }
        let http_rules = p.http_request.iter().chain(p.http_response.iter());
        for r in http_rules {
            match &r.action {
                HttpAction::DoResolve { resolvers, .. } if !has_resolvers(resolvers) => out.push(finding(
                    Severity::Error,
                    Loc::None,
                    Some(r.span),
                    format!("Proxy '{}': Can't find resolvers section '{resolvers}' for do-resolve action.", p.name),
                )),
                HttpAction::TrackSc { index, table, .. } if !has_table(p, table) => out.push(finding(
                    Severity::Error,
                    Loc::None,
                    Some(r.span),
                    format!("Proxy '{}': unable to find table '{}' referenced by track-sc{index}.", p.name, table.clone().unwrap_or_else(|| p.name.clone())),
                )),
                _ => {}
            }
        }
        let tcp_rules = p
            .tcp_request_connection
            .iter()
            .chain(p.tcp_request_session.iter())
            .chain(p.tcp_request_content.iter());
        for r in tcp_rules {
            if let TcpAction::TrackSc { index, table, .. } = &r.action {
                if !has_table(p, table) {
                    out.push(finding(
                        Severity::Error,
                        Loc::None,
                        Some(r.span),
                        format!(
                            "Proxy '{}': unable to find table '{}' referenced by track-sc{index}.",
                            p.name,
                            table.clone().unwrap_or_else(|| p.name.clone())
                        ),
                    ));
                }
            }
        }
        for s in &p.servers {
            if let Some(r) = &s.resolvers {
                if !has_resolvers(r) {
                    out.push(finding(
                        Severity::Error,
                        Loc::None,
                        Some(s.span),
                        format!(
                            "{kind} '{}', server '{}': unable to find required resolvers '{r}'",
                            p.name, s.name
                        ),
                    ));
                }
            }
        }
    }
}

/// Log-format variables haproxy knows, and whether each needs HTTP mode.
const LOG_VARS: &[(&str, bool)] = &[
    ("o", false),
    ("B", false),
    ("CC", true),
    ("CS", true),
    ("H", false),
    ("ID", false),
    ("ST", false),
    ("T", false),
    ("Ta", true),
    ("Tc", false),
    ("Th", false),
    ("Ti", true),
    ("Tl", false),
    ("Tq", true),
    ("Tr", true),
    ("TR", true),
    ("Td", false),
    ("Ts", false),
    ("Tt", false),
    ("Tu", false),
    ("Tw", false),
    ("U", false),
    ("ac", false),
    ("b", false),
    ("bc", false),
    ("bi", false),
    ("bp", false),
    ("bq", false),
    ("ci", false),
    ("cp", false),
    ("f", false),
    ("fc", false),
    ("fi", false),
    ("fp", false),
    ("ft", false),
    ("hr", false),
    ("hrl", false),
    ("hs", false),
    ("hsl", false),
    ("HM", true),
    ("HP", true),
    ("HPO", true),
    ("HQ", true),
    ("HU", true),
    ("HV", true),
    ("lc", false),
    ("ms", false),
    ("pid", false),
    ("r", true),
    ("rc", false),
    ("rt", false),
    ("s", false),
    ("sc", false),
    ("si", false),
    ("sp", false),
    ("sq", false),
    ("sslc", false),
    ("sslv", false),
    ("t", false),
    ("tr", true),
    ("trg", true),
    ("trl", true),
    ("ts", false),
    ("tsc", false),
];

/// haproxy's complaint about a log-format string, if any.
pub fn log_format_problem(f: &LogFormat, http: bool) -> Option<String> {
    for n in &f.nodes {
        if let LogFormatNode::Var { name, .. } = n {
            match LOG_VARS.iter().find(|(v, _)| v == name) {
                None => {
                    return Some(format!(
                        "no such format variable '{name}'. If you wanted to emit the '%' character verbatim, you need to use '%%'"
                    ))
                }
                Some((_, true)) if !http => return Some(format!("format variable '{name}' is reserved for HTTP mode")),
                _ => {}
            }
        }
    }
    None
}

/// Whether haproxy would have something to listen on (else `-c` exits 2).
pub fn has_listener(cfg: &Config, local_peer: Option<&str>) -> bool {
    if !cfg.global.stats_sockets.is_empty() || cfg.global.master_worker {
        return true;
    }
    if cfg
        .global
        .raw
        .iter()
        .any(|r| r.keyword.starts_with("log-forward "))
    {
        return true;
    }
    if cfg
        .proxies
        .iter()
        .any(|p| !p.disabled && !p.binds.is_empty())
    {
        return true;
    }
    let host = local_peer.map(str::to_string).or_else(hostname);
    cfg.peers
        .iter()
        .any(|pr| !pr.disabled && pr.peers.iter().any(|p| Some(&p.name) == host.as_ref()))
}

/// The local peer name: `-L NAME` (exported as `HAPROXY_LOCALPEER`, as HAProxy does), else
/// the host name.
fn local_peer_name() -> Option<String> {
    std::env::var("HAPROXY_LOCALPEER")
        .ok()
        .filter(|n| !n.is_empty())
        .or_else(hostname)
}

fn hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: buf is a valid writable buffer of the given length.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr() as *mut libc::c_char, buf.len()) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
    Some(String::from_utf8_lossy(&buf[..end]).into_owned())
}

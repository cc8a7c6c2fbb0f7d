//! Proxy sections (defaults, frontend, backend, listen) and their keywords.

use std::time::Duration;

use super::values::{self, TimeError};
use super::{sample, Line, Parser, Section};
use crate::haproxy::catalogue;
use crate::haproxy::ir::*;

/// Characters haproxy accepts in proxy/server/ACL names.
pub fn invalid_name_char(name: &str) -> Option<char> {
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
}

/// Removed directives and haproxy's message for each.
fn removed_directive(kw: &str) -> Option<String> {
    let use_ = |what: &str| {
        format!("The '{kw}' directive is not supported anymore since HAProxy 2.1. Use '{what}' instead.")
    };
    Some(match kw {
        "contimeout" => "the 'contimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout connect'.".into(),
        "clitimeout" => "the 'clitimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout client'.".into(),
        "srvtimeout" => "the 'srvtimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout server'.".into(),
        "redispatch" | "redisp" => format!("keyword '{kw}' directive is not supported anymore since HAProxy 2.1. Use 'option redispatch'."),
        "block" => format!("The '{kw}' directive is not supported anymore since HAProxy 2.1. Use 'http-request deny' which uses the exact same syntax."),
        "cliexp" | "reqrep" => format!("The '{kw}' directive is not supported anymore since HAProxy 2.1. Use 'http-request replace-path', 'http-request replace-uri' or 'http-request replace-header' instead."),
        "reqdel" | "reqidel" => use_("http-request del-header"),
        "reqdeny" => format!("The '{kw}' not supported anymore since HAProxy 2.1. Use 'http-request deny' instead."),
        "reqideny" => use_("http-request deny"),
        "reqpass" | "reqipass" => format!("The '{kw}' not supported anymore since HAProxy 2.1."),
        "reqallow" | "reqiallow" => use_("http-request allow"),
        "reqtarpit" | "reqitarpit" => use_("http-request tarpit"),
        "reqirep" => use_("http-request replace-header"),
        "reqadd" => use_("http-request add-header"),
        "grace" => "the 'grace' keyword is not supported any more since HAProxy version 2.5.".into(),
        "srvexp" | "rsprep" | "rspirep" => use_("http-response replace-header"),
        "rspdel" => format!("The '{kw}' directive is not supported anymore since HAProxy 2.1. Use 'http-response del-header' ."),
        "rspidel" => use_("http-response del-header"),
        "rspdeny" | "rspideny" => use_("http-response deny"),
        "rspadd" => use_("http-response add-header"),
        _ => return None,
    })
}

/// Keywords haproxy handles itself in a proxy section (for "did you mean").
const COMMON_KW: &[&str] = &[
    "external-check",
    "use-fcgi-app",
    "filter",
    "compression",
    "errorloc",
    "errorloc302",
    "errorloc303",
    "errorfile",
    "errorfiles",
    "http-error",
    "timeout",
    "clitimeout",
    "contimeout",
    "srvtimeout",
    "rate-limit",
    "max-keep-alive-queue",
    "declare",
    "retry-on",
    "clitcpka-cnt",
    "srvtcpka-cnt",
    "clitcpka-idle",
    "srvtcpka-idle",
    "clitcpka-intvl",
    "srvtcpka-intvl",
    "tcp-request",
    "tcp-response",
    "http-check",
    "tcp-check",
    "listen",
    "frontend",
    "backend",
    "defaults",
    "server",
    "default-server",
    "server-template",
    "bind",
    "monitor-net",
    "monitor-uri",
    "mode",
    "id",
    "description",
    "disabled",
    "enabled",
    "bind-process",
    "acl",
    "dynamic-cookie-key",
    "cookie",
    "email-alert",
    "persist",
    "appsession",
    "load-server-state-from-file",
    "server-state-file-name",
    "max-session-srv-conns",
    "capture",
    "retries",
    "http-request",
    "http-response",
    "http-after-response",
    "http-send-name-header",
    "block",
    "redirect",
    "use_backend",
    "use-server",
    "force-persist",
    "ignore-persist",
    "force-persist",
    "stick-table",
    "stick",
    "stats",
    "option",
    "default_backend",
    "http-reuse",
    "monitor",
    "transparent",
    "maxconn",
    "backlog",
    "fullconn",
    "dispatch",
    "balance",
    "hash-type",
    "hash-balance-factor",
    "unique-id-format",
    "unique-id-header",
    "log-format",
    "log-format-sd",
    "log-tag",
    "log",
    "source",
    "usesrc",
    "error-log-format",
];

/// haproxy's option tables in its own order (cfg_opts, cfg_opts2, common options): the
/// "did you mean" candidates.
const HAPROXY_OPTION_ORDER: &[&str] = &[
    "abortonclose",
    "allbackups",
    "checkcache",
    "clitcpka",
    "contstats",
    "dontlognull",
    "http-buffer-request",
    "http-ignore-probes",
    "idle-close-on-response",
    "prefer-last-server",
    "logasap",
    "nolinger",
    "persist",
    "srvtcpka",
    "transparent",
    "splice-request",
    "splice-response",
    "splice-auto",
    "accept-invalid-http-request",
    "accept-invalid-http-response",
    "dontlog-normal",
    "log-separate-errors",
    "log-health-checks",
    "socket-stats",
    "tcp-smart-accept",
    "tcp-smart-connect",
    "independent-streams",
    "http-use-proxy-header",
    "http-pretend-keepalive",
    "http-no-delay",
    "h1-case-adjust-bogus-client",
    "h1-case-adjust-bogus-server",
    "disable-h2-upgrade",
    "httpclose",
    "http-server-close",
    "http-keep-alive",
    "redispatch",
    "httplog",
    "tcplog",
    "tcpka",
    "httpchk",
    "ssl-hello-chk",
    "smtpchk",
    "pgsql-check",
    "redis-check",
    "mysql-check",
    "ldap-check",
    "spop-check",
    "tcp-check",
    "external-check",
    "forwardfor",
    "original-to",
];

/// Option names accepted beyond [`HAPROXY_OPTION_ORDER`] (never suggested by "did you mean").
const OPTION_NAMES_NOT_SUGGESTED: &[&str] = &[
    "httpslog",
    "http-restrict-req-hdr-names",
    "originalto",
    "forceclose",
    "http-tunnel",
];

impl Parser {
    pub(crate) fn px(&mut self) -> &mut Proxy {
        match self.section {
            Section::Defaults(i) => &mut self.cfg.defaults[i],
            Section::Proxy(i) => &mut self.cfg.proxies[i],
            // callers only use px() in proxy sections; keep a scratch proxy otherwise
            _ => {
                self.cfg.defaults.push(Proxy::default());
                let n = self.cfg.defaults.len() - 1;
                &mut self.cfg.defaults[n]
            }
        }
    }

    fn px_ref(&self) -> Option<&Proxy> {
        match self.section {
            Section::Defaults(i) => self.cfg.defaults.get(i),
            Section::Proxy(i) => self.cfg.proxies.get(i),
            _ => None,
        }
    }

    pub(crate) fn px_kind(&self) -> ProxyKind {
        self.px_ref().map(|p| p.kind).unwrap_or_default()
    }

    pub(crate) fn px_name(&self) -> String {
        self.px_ref().map(|p| p.name.clone()).unwrap_or_default()
    }

    /// Whether a named ACL is visible in the current proxy.
    pub(crate) fn acl_known(&self, name: &str) -> bool {
        self.px_ref()
            .map(|p| p.acls.iter().any(|a| a.name == name))
            .unwrap_or(false)
    }

    pub(crate) fn start_proxy(&mut self, line: &Line) {
        let kw = line.arg(0);
        let span = line.span;
        let kind = match kw {
            "defaults" => ProxyKind::Defaults,
            "frontend" => ProxyKind::Frontend,
            "backend" => ProxyKind::Backend,
            _ => ProxyKind::Listen,
        };
        let mut name = line.arg(1).to_string();
        let mut from: Option<String> = None;
        if kind != ProxyKind::Defaults {
            if !line.has(1) {
                self.alert(span, format!("'{kw}' expects an <id> argument"));
                self.abort();
                return;
            }
            if let Some(c) = invalid_name_char(&name) {
                self.alert(
                    span,
                    format!("character '{c}' is not permitted in '{kw}' name '{name}'."),
                );
            }
            let clash = self.proxy_index.get(&name).and_then(|ids| {
                ids.iter()
                    .map(|&i| &self.cfg.proxies[i])
                    .find(|p| match kind {
                        ProxyKind::Frontend => p.kind.has_frontend(),
                        ProxyKind::Backend => p.kind.has_backend(),
                        _ => true,
                    })
            });
            if let Some(other) = clash {
                let msg = format!(
                    "{kw} '{name}' has the same name as {} '{}' declared at {}:{}.",
                    other.kind.keyword(),
                    other.name,
                    self.file_name(other.span.file),
                    other.span.line
                );
                self.alert_loc(super::Loc::CapParsing, span, msg);
            }
            if (line.has(2) && (!line.has(3) || line.arg(2) != "from")) || line.has(4) {
                if line.has(4) {
                    self.alert(
                        span,
                        format!(
                            "'{kw}' cannot handle unexpected argument '{}'.",
                            line.arg(4)
                        ),
                    );
                }
                if matches!(kind, ProxyKind::Frontend | ProxyKind::Listen) {
                    self.alert_nonfatal(
                        span,
                        "please use the 'bind' keyword for listening addresses.",
                    );
                }
                self.section = Section::BrokenProxy;
                return;
            }
            if line.arg(2) == "from" {
                from = Some(line.arg(3).to_string());
            }
        } else if line.arg(1) == "from" && line.has(2) && !line.has(3) {
            name = String::new();
            from = Some(line.arg(2).to_string());
        } else if line.arg(2) == "from" {
            from = Some(line.arg(3).to_string());
        }

        // which defaults section this one inherits from
        let parent: Option<usize> = match &from {
            Some(f) => match self.cfg.defaults.iter().position(|d| &d.name == f) {
                Some(i) => {
                    let dups: Vec<crate::diag::Span> = self
                        .cfg
                        .defaults
                        .iter()
                        .filter(|d| &d.name == f)
                        .map(|d| d.span)
                        .collect();
                    if dups.len() > 1 {
                        let (a, b) = (dups[0], dups[1]);
                        let msg = format!(
                            "ambiguous defaults section name '{f}' referenced by {kw} '{name}' exists at least at {}:{} and {}:{}.",
                            self.file_name(a.file),
                            a.line,
                            self.file_name(b.file),
                            b.line
                        );
                        self.alert(span, msg);
                    }
                    Some(i)
                }
                None => {
                    self.alert(
                        span,
                        format!("defaults section '{f}' not found for {kw} '{name}'."),
                    );
                    self.abort();
                    return;
                }
            },
            None if kind == ProxyKind::Defaults => None,
            None => self.last_defaults,
        };
        if let Some(pi) = parent {
            if !self.inherit_allowed(pi, kind, &name, span) {
                self.abort();
                return;
            }
        }
        let mut p = match parent {
            Some(i) => {
                let mut d = self.cfg.defaults[i].clone();
                d.defaults_from = Some(d.name.clone());
                d.raw.clear();
                d
            }
            None => Proxy::default(),
        };
        p.kind = kind;
        p.name = name;
        p.span = span;
        p.binds.clear();
        p.servers.clear();
        p.server_templates.clear();
        if kind == ProxyKind::Backend {
            p.default_backend = None;
        }
        if kind == ProxyKind::Defaults {
            self.inherited_rules = rule_counts(&p);
            self.cfg.defaults.push(p);
            let i = self.cfg.defaults.len() - 1;
            self.last_defaults = Some(i);
            self.section = Section::Defaults(i);
        } else {
            let idx = self.cfg.proxies.len();
            self.proxy_index
                .entry(p.name.clone())
                .or_default()
                .push(idx);
            self.inherited_rules = rule_counts(&p);
            self.cfg.proxies.push(p);
            self.section = Section::Proxy(idx);
        }
    }

    /// haproxy's restrictions on inheriting from a defaults section that defines rules.
    fn inherit_allowed(
        &mut self,
        pi: usize,
        kind: ProxyKind,
        _name: &str,
        span: crate::diag::Span,
    ) -> bool {
        let d = &self.cfg.defaults[pi];
        let has_rules = !d.http_request.is_empty()
            || !d.http_response.is_empty()
            || !d.http_after_response.is_empty()
            || !d.tcp_request_connection.is_empty()
            || !d.tcp_request_session.is_empty()
            || !d.tcp_request_content.is_empty()
            || !d.tcp_response_content.is_empty();
        if !has_rules {
            return true;
        }
        let at = format!("{}:{}", self.file_name(d.span.file), d.span.line);
        let l4 = !d.tcp_request_connection.is_empty() || !d.tcp_request_session.is_empty();
        let rsp = !d.tcp_response_content.is_empty();
        let msg = match kind {
            ProxyKind::Defaults => Some(format!("a defaults section cannot inherit from a defaults section defining TCP/HTTP rules (defaults section at {at}).")),
            ProxyKind::Listen => Some("a listen section cannot inherit from a defaults section defining TCP/HTTP rules.".to_string()),
            _ => match self.defaults_users.get(&pi) {
                Some(k) if *k != kind => Some(format!("frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules (defaults section at {at}).")),
                _ if kind == ProxyKind::Backend && l4 => Some(format!("a backend section cannot inherit from a defaults section defining 'tcp-request connection' or 'tcp-request session' rules (defaults section at {at}).")),
                _ if kind == ProxyKind::Frontend && rsp => Some(format!("a frontend section cannot inherit from a defaults section defining 'tcp-response content' rules (defaults section at {at}).")),
                _ => None,
            },
        };
        match msg {
            Some(m) => {
                self.alert_loc(super::Loc::ParsingTight, span, m);
                false
            }
            None => {
                self.defaults_users.insert(pi, kind);
                true
            }
        }
    }

    /// A keyword line inside a proxy section.
    pub(crate) fn proxy_kw(&mut self, line: &Line, modifier: Option<&str>) {
        let kw = line.arg(0);
        let span = line.span;
        let kind = self.px_kind();
        if let Some(msg) = removed_directive(kw) {
            if kw == "grace" {
                self.alert_loc(super::Loc::ParsingTight, span, msg);
            } else {
                self.alert(span, msg);
            }
            return;
        }
        if kw == "monitor-net" {
            self.alert(span, format!("'monitor-net' doesn't exist anymore. Please use 'http-request return status 200 if {{ src {} }}' instead.", line.arg(1)));
            return;
        }
        if kw == "mode" && line.arg(1) == "health" {
            self.alert(span, "'mode health' doesn't exist anymore. Please use 'http-request return status 200' instead.");
            return;
        }
        // section applicability (haproxy: error in defaults for some, warning elsewhere)
        let self_checked = matches!(
            kw,
            "tcp-request"
                | "tcp-response"
                | "use-server"
                | "server"
                | "default-server"
                | "server-template"
        );
        if let Some(sections) = applicable_sections(line).filter(|_| !self_checked) {
            let here = kind.keyword();
            if !sections.iter().any(|s| *s == here) {
                if kind == ProxyKind::Defaults {
                    if matches!(
                        kw,
                        "bind"
                            | "server"
                            | "server-template"
                            | "use_backend"
                            | "use-server"
                            | "capture"
                            | "description"
                            | "dispatch"
                            | "monitor-uri"
                            | "id"
                            | "declare"
                    ) {
                        self.alert(span, format!("'{kw}' not allowed in 'defaults' section."));
                        return;
                    }
                } else {
                    let cap = match kind {
                        ProxyKind::Frontend => "backend",
                        _ => "frontend",
                    };
                    const WARN_IF_NOT_CAP: &[&str] = &[
                        "bind",
                        "monitor-uri",
                        "dynamic-cookie-key",
                        "cookie",
                        "load-server-state-from-file",
                        "server-state-file-name",
                        "max-session-srv-conns",
                        "capture",
                        "retries",
                        "http-send-name-header",
                        "use_backend",
                        "use-server",
                        "ignore-persist",
                        "force-persist",
                        "stick",
                        "default_backend",
                        "http-reuse",
                        "monitor",
                        "maxconn",
                        "backlog",
                        "fullconn",
                        "dispatch",
                        "balance",
                        "hash-type",
                        "source",
                    ];
                    let pxname = self.px_name();
                    if kw == "timeout" {
                        let msg = format!("'timeout {}' will be ignored because {} '{pxname}' has no {cap} capability", line.arg(1), kind.type_str());
                        self.warn(span, msg);
                    } else if WARN_IF_NOT_CAP.contains(&kw) {
                        let msg = format!(
                            "'{kw}' ignored because {} '{pxname}' has no {cap} capability.",
                            kind.type_str()
                        );
                        self.warn(span, msg);
                    }
                    // haproxy only really ignores timeouts; other keywords still apply
                    if kw == "timeout" {
                        return;
                    }
                }
            }
        }
        match kw {
            "mode" => {
                if !line.has(1) {
                    self.alert(span, "unknown proxy mode ''.");
                    return;
                }
                let m = match line.arg(1) {
                    "tcp" => ProxyMode::Tcp,
                    "http" => ProxyMode::Http,
                    "health" => ProxyMode::Health,
                    o => {
                        self.alert(span, format!("unknown proxy mode '{o}'."));
                        return;
                    }
                };
                self.px().mode = m;
            }
            "id" => {
                let v = values::atol(line.arg(1));
                if v <= 0 {
                    self.alert_loc(super::Loc::ParsingTight, span, "custom id has to be > 0.");
                    return;
                }
                let me = (self.px_kind(), self.px_name());
                let clash = self
                    .cfg
                    .proxies
                    .iter()
                    .find(|p| p.id == Some(v) && !(p.kind == me.0 && p.name == me.1))
                    .map(|p| (p.kind.keyword(), p.name.clone(), p.span));
                if let Some((k, n, s)) = clash {
                    let f = self.file_name(s.file);
                    self.alert_loc(
                        super::Loc::ParsingTight,
                        span,
                        format!(
                            "{} {} reuses same custom id as {k} {n} (declared at {f}:{}).",
                            me.0.keyword(),
                            me.1,
                            s.line
                        ),
                    );
                    return;
                }
                self.px().id = Some(v);
            }
            "description" => self.px().description = Some(line.args_from(1).join(" ")),
            "disabled" => self.px().disabled = true,
            "enabled" => self.px().disabled = false,
            "maxconn" | "backlog" | "fullconn" | "retries" | "hash-balance-factor" => {
                if !line.has(1) {
                    self.alert(span, format!("'{kw}' expects an integer argument."));
                    return;
                }
                if line.has(2) {
                    self.alert(
                        span,
                        format!(
                            "'{kw}' cannot handle unexpected argument '{}'.",
                            line.arg(2)
                        ),
                    );
                    return;
                }
                let v = values::atol(line.arg(1)).max(0) as u32;
                let p = self.px();
                match kw {
                    "maxconn" => p.maxconn = Some(v),
                    "backlog" => p.backlog = Some(v),
                    "fullconn" => p.fullconn = Some(v),
                    "retries" => p.retries = Some(v),
                    _ => p.hash_balance_factor = Some(v),
                }
            }
            "rate-limit" => {
                if line.arg(1) != "sessions" {
                    self.alert(
                        span,
                        format!("'{kw}' only supports 'sessions' (got '{}')", line.arg(1)),
                    );
                    return;
                }
                self.px().rate_limit_sessions = Some(values::atol(line.arg(2)).max(0) as u32);
            }
            "balance" => match parse_balance(line) {
                Ok(b) => self.px().balance = Some(b),
                Err(e) => self.alert(span, format!("balance {e}")),
            },
            "hash-type" => self.hash_type(line),
            "cookie" => self.cookie(line),
            "option" => self.option(line, modifier),
            "timeout" => self.timeout(line),
            "log" => {
                if modifier == Some("no") {
                    self.px().logs.clear();
                    return;
                }
                if let Some(t) = self.parse_log_line(line, false) {
                    self.px().logs.push(t);
                }
            }
            "log-format" | "log-format-sd" | "error-log-format" | "unique-id-format" => {
                if !line.has(1) {
                    self.alert(span, format!("'{kw}' expects an argument."));
                    return;
                }
                if line.has(2) {
                    self.alert(
                        span,
                        format!("{kw} expects only one argument, don't forget to escape spaces!"),
                    );
                    return;
                }
                match sample::parse_log_format(line.arg(1)) {
                    Ok(f) => {
                        let p = self.px();
                        match kw {
                            "log-format" => {
                                p.log_format = Some(f);
                                p.log_format_span = Some(span);
                            }
                            "log-format-sd" => p.log_format_sd = Some(f),
                            "error-log-format" => p.error_log_format = Some(f),
                            _ => p.unique_id_format = Some(f),
                        }
                    }
                    // haproxy parses these strings after the configuration is read
                    Err(e) => {
                        let what = if kw == "unique-id-format" {
                            "unique-id"
                        } else {
                            kw
                        };
                        self.defer_alert(
                            super::Loc::CapParsing,
                            span,
                            format!("failed to parse {what} : {e}."),
                        )
                    }
                }
            }
            "log-tag" => self.px().log_tag = Some(line.arg(1).to_string()),
            "unique-id-header" => self.px().unique_id_header = Some(line.arg(1).to_string()),
            "monitor-uri" => {
                if !line.has(1) {
                    self.alert(span, "'monitor-uri' expects an URI.");
                    return;
                }
                self.px().monitor_uri = Some(line.arg(1).to_string());
            }
            "monitor" => {
                if line.arg(1) == "fail" {
                    self.warn_misplaced(RuleStage::Monitor, "monitor fail", span);
                }
                if line.arg(1) != "fail" {
                    self.alert(span, "'monitor' only supports 'fail'.");
                    return;
                }
                let words = line.args_from(2);
                let known = |n: &str| self.acl_known(n);
                match sample::parse_condition(&words, span, &known) {
                    Ok(c) => self.px().monitor_fail.push(c),
                    Err(e) => self.alert(
                        span,
                        format!("error detected while parsing a 'monitor fail' condition : {e}."),
                    ),
                }
            }
            "acl" => self.acl(line),
            "use_backend" => self.use_backend(line),
            "default_backend" => {
                if !line.has(1) {
                    self.alert(span, format!("'{kw}' expects a backend name."));
                    return;
                }
                if line.has(2) {
                    self.alert(
                        span,
                        format!(
                            "'{kw}' cannot handle unexpected argument '{}'.",
                            line.arg(2)
                        ),
                    );
                    return;
                }
                let target = self.backend_ref(line.arg(1));
                self.px().default_backend = target;
            }
            "use-server" => {
                if !line.has(1) {
                    self.alert(span, "'use-server' expects a server name.");
                    return;
                }
                if !matches!(line.arg(2), "if" | "unless") {
                    self.alert(
                        span,
                        "'use-server' requires either 'if' or 'unless' followed by a condition.",
                    );
                    return;
                }
                let words = line.args_from(2);
                let known = |n: &str| self.acl_known(n);
                match sample::parse_condition(&words, span, &known) {
                    Ok(c) => {
                        let server = line.arg(1).to_string();
                        self.px().use_servers.push(UseServer {
                            server,
                            cond: Some(c),
                            span,
                        });
                    }
                    Err(e) => self.alert(
                        span,
                        format!("error detected while parsing switching rule : {e}."),
                    ),
                }
            }
            "http-request"
            | "http-response"
            | "http-after-response"
            | "tcp-request"
            | "tcp-response"
                if kind == ProxyKind::Defaults
                    && self.px_name().is_empty()
                    && line.arg(1) != "inspect-delay" =>
            {
                self.alert(
                    span,
                    format!("'{kw}' not allowed in anonymous 'defaults' section."),
                );
            }
            "http-request" | "http-response" | "http-after-response" => self.http_rule(line),
            "tcp-request" | "tcp-response" => self.tcp_rule(line),
            "redirect" => self.redirect_kw(line),
            "bind" => self.bind_line(line),
            "server" | "default-server" | "server-template" => self.server_line(line),
            "errorfile" => {
                if !line.has(2) {
                    self.alert(
                        span,
                        format!("{kw} : expects <status_code> and <file> as arguments."),
                    );
                    return;
                }
                let status = values::atol(line.arg(1)) as u16;
                let path = line.arg(2).to_string();
                match crate::haproxy::parser::read_config_file(&path).ok_or(()) {
                    Ok(content) => {
                        self.px().error_replies.retain(|e| e.status != status);
                        self.px().errorfiles.push(ErrorFile {
                            status,
                            path,
                            content,
                            span,
                        })
                    }
                    Err(_) => self.alert(span, format!("errorfile : error opening file '{path}'.")),
                }
            }
            "errorloc" | "errorloc302" | "errorloc303" => {
                if !line.has(2) {
                    self.alert(
                        span,
                        format!("'{kw}' expects <status_code> and <url> as arguments."),
                    );
                    return;
                }
                let status = values::atol(line.arg(1)) as u16;
                let code = if kw == "errorloc303" { 303 } else { 302 };
                self.px().errorloc.push(ErrorLoc {
                    status,
                    url: line.arg(2).to_string(),
                    code,
                    span,
                });
            }
            "errorfiles" => {
                if !line.has(1) {
                    self.alert(span, "'errorfiles' expects <name> as argument.");
                    return;
                }
                // The section's pages join this proxy's errorfiles in directive order (the
                // last line naming a status wins); sections declared later stay references.
                let codes: Vec<u16> = (2..)
                    .take_while(|&i| line.has(i))
                    .map(|i| values::atol(line.arg(i)) as u16)
                    .collect();
                let pages: Vec<ErrorFile> = self
                    .cfg
                    .http_errors
                    .iter()
                    .find(|h| h.name == line.arg(1))
                    .map(|h| {
                        h.errorfiles
                            .iter()
                            .filter(|e| codes.is_empty() || codes.contains(&e.status))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                self.px()
                    .error_replies
                    .retain(|e| !pages.iter().any(|p| p.status == e.status));
                self.px().errorfiles.extend(pages);
                self.px().http_errors_refs.push(line.arg(1).to_string());
                self.px().http_errors_spans.push(span);
            }
            "stick-table" => self.stick_table(line),
            "stick" => self.stick_rule(line),
            "capture" => self.capture(line),
            "declare" => self.declare(line),
            "stats" => self.stats_kw(line),
            "http-check" => self.http_check(line),
            "tcp-check" => self.tcp_check(line),
            "http-reuse" => {
                if !matches!(line.arg(1), "never" | "safe" | "aggressive" | "always") {
                    self.alert(
                        span,
                        "'http-reuse' only supports 'never', 'safe', 'aggressive', 'always'.",
                    );
                    return;
                }
                self.px().http_reuse = Some(line.arg(1).to_string());
            }
            "source" => self.px().source = Some(line.args_from(1).join(" ")),
            "external-check" => match line.arg(1) {
                "command" => self.px().external_check_command = Some(line.arg(2).to_string()),
                "path" => self.px().external_check_path = Some(line.arg(2).to_string()),
                o => self.alert(
                    span,
                    format!("'external-check' only supports 'command' and 'path'. but got '{o}'."),
                ),
            },
            "email-alert" => self.px().email_alert.push(raw(line)),
            "filter" => {
                self.unimplemented(span, "filter");
                self.px().filters.push(raw(line));
            }
            "compression" => {
                self.unimplemented(span, "compression");
                self.px().compression.push(raw(line));
            }
            "http-error" => self.http_error(line),
            _ => self.proxy_fallback(line),
        }
    }

    fn proxy_fallback(&mut self, line: &Line) {
        let kw = line.arg(0);
        let span = line.word_span(0);
        let known = COMMON_KW.contains(&kw)
            || catalogue::of_kind("proxy").any(|e| e.keyword.split(' ').next() == Some(kw));
        if known {
            self.unimplemented(span, kw);
            self.px().raw.push(raw(line));
            return;
        }
        let section = self.px_kind().keyword();
        match catalogue::best_match(kw, COMMON_KW.iter().copied()) {
            Some(b) => self.alert_help(
                span,
                format!(
                    "unknown keyword '{kw}' in '{section}' section; did you mean '{b}' maybe ?"
                ),
                format!("did you mean '{b}'?"),
            ),
            None => self.alert(
                span,
                format!("unknown keyword '{kw}' in '{section}' section"),
            ),
        }
    }

    fn backend_ref(&mut self, text: &str) -> Option<BackendRef> {
        if text.contains('%') {
            match sample::parse_log_format(text) {
                Ok(f) => Some(BackendRef::Dynamic(f)),
                Err(e) => {
                    let span = self.cur_span;
                    self.defer_alert(
                        super::Loc::CapParsing,
                        span,
                        format!("failed to parse use_backend rule '{text}' : {e}."),
                    );
                    Some(BackendRef::Dynamic(LogFormat {
                        text: text.to_string(),
                        nodes: vec![],
                    }))
                }
            }
        } else {
            Some(BackendRef::Static(text.to_string()))
        }
    }

    fn use_backend(&mut self, line: &Line) {
        let span = line.span;
        if !line.has(1) {
            self.alert(span, "'use_backend' expects a backend name.");
            return;
        }
        let cond = if line.has(2) {
            if !matches!(line.arg(2), "if" | "unless") {
                self.alert(
                    span,
                    format!("unexpected keyword '{}' after switching rule, only 'if' and 'unless' are allowed.", line.arg(2)),
                );
                return;
            }
            let words = line.args_from(2);
            let known = |n: &str| self.acl_known(n);
            match sample::parse_condition(&words, span, &known) {
                Ok(c) => Some(c),
                Err(e) => {
                    self.alert(
                        span,
                        format!("error detected while parsing switching rule : {e}."),
                    );
                    return;
                }
            }
        } else {
            None
        };
        if let Some(target) = self.backend_ref(line.arg(1)) {
            self.px()
                .use_backends
                .push(UseBackend { target, cond, span });
        }
    }

    fn acl(&mut self, line: &Line) {
        let span = line.span;
        let name = line.arg(1).to_string();
        if let Some(c) = sample::invalid_acl_char(&name) {
            self.alert(
                span,
                format!("character '{c}' is not permitted in acl name '{name}'."),
            );
            return;
        }
        if self.px_kind() == ProxyKind::Defaults && self.px_name().is_empty() {
            self.alert(span, "'acl' not allowed in anonymous 'defaults' section.");
            return;
        }
        let words = line.args_from(2);
        match sample::parse_acl_body(&name, &words, span) {
            Ok(acl) => self.px().acls.push(acl),
            Err(e) => self.alert(
                span,
                format!("error detected while parsing ACL '{name}' : {e}."),
            ),
        }
    }

    fn hash_type(&mut self, line: &Line) {
        let span = line.span;
        let method = match line.arg(1) {
            "map-based" => HashMethod::MapBased,
            "consistent" => HashMethod::Consistent,
            "avalanche" => HashMethod::MapBased,
            _ => {
                self.alert(
                    span,
                    "'hash-type' only supports 'consistent' and 'map-based'.",
                );
                return;
            }
        };
        let mut ht = HashType {
            method,
            function: HashFunction::Sdbm,
            avalanche: method == HashMethod::Consistent && !line.has(2),
        };
        if line.has(2) {
            ht.function = match line.arg(2) {
                "sdbm" => HashFunction::Sdbm,
                "djb2" => HashFunction::Djb2,
                "wt6" => HashFunction::Wt6,
                "crc32" => HashFunction::Crc32,
                "none" => HashFunction::None,
                _ => {
                    self.alert(span, "'hash-type' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions.");
                    return;
                }
            };
            if line.has(3) {
                if line.arg(3) != "avalanche" {
                    self.alert(
                        span,
                        "'hash-type' only supports 'avalanche' as a modifier for hash functions.",
                    );
                    return;
                }
                ht.avalanche = true;
            }
        }
        self.px().hash_type = Some(ht);
    }

    fn cookie(&mut self, line: &Line) {
        let span = line.span;
        if !line.has(1) {
            self.alert(span, "'cookie' expects <cookie_name> as argument.");
            return;
        }
        let mut c = CookieSettings {
            name: line.arg(1).to_string(),
            mode: CookieMode::Passive,
            indirect: false,
            nocache: false,
            postonly: false,
            preserve: false,
            httponly: false,
            secure: false,
            dynamic: false,
            domains: vec![],
            maxidle: None,
            maxlife: None,
            attrs: vec![],
        };
        let mut i = 2;
        let mut modes = 0;
        while line.has(i) {
            match line.arg(i) {
                "rewrite" => {
                    c.mode = CookieMode::Rewrite;
                    modes += 1;
                }
                "insert" => {
                    c.mode = CookieMode::Insert;
                    modes += 1;
                }
                "prefix" => {
                    c.mode = CookieMode::Prefix;
                    modes += 1;
                }
                "indirect" => c.indirect = true,
                "nocache" => c.nocache = true,
                "postonly" => c.postonly = true,
                "preserve" => c.preserve = true,
                "httponly" => c.httponly = true,
                "secure" => c.secure = true,
                "dynamic" => c.dynamic = true,
                "domain" => {
                    i += 1;
                    if !line.has(i) {
                        self.alert(span, "'domain' requires an argument.");
                        return;
                    }
                    c.domains.push(line.arg(i).to_string());
                }
                "attr" => {
                    i += 1;
                    c.attrs.push(line.arg(i).to_string());
                }
                k @ ("maxidle" | "maxlife") => {
                    i += 1;
                    match self.ptime_unit(line.arg(i), 1_000_000) {
                        Ok(d) => {
                            if k == "maxidle" {
                                c.maxidle = Some(d)
                            } else {
                                c.maxlife = Some(d)
                            }
                        }
                        Err(_) => {
                            self.alert(span, format!("'{k}' expects a time argument in seconds."));
                            return;
                        }
                    }
                }
                _ => {
                    self.alert(span, "'cookie' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', 'domain', 'maxidle', 'dynamic', 'maxlife' and 'attr' options.");
                    return;
                }
            }
            i += 1;
        }
        if c.mode == CookieMode::Rewrite && c.indirect {
            self.alert(
                span,
                "cookie 'rewrite' and 'indirect' modes are incompatible.",
            );
            return;
        }
        if modes > 1 {
            self.alert(
                span,
                "cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.",
            );
            return;
        }
        if c.preserve && c.mode != CookieMode::Insert && !c.indirect {
            self.alert(
                span,
                "cookie 'preserve' requires at least 'insert' or 'indirect'.",
            );
            return;
        }
        self.px().cookie = Some(c);
    }

    fn option(&mut self, line: &Line, modifier: Option<&str>) {
        let span = line.span;
        let name = line.arg(1);
        if !line.has(1) {
            self.alert(span, "'option' expects an option name.");
            return;
        }
        if name == "forceclose" {
            self.alert_loc(super::Loc::ParsingTight, span, "option 'forceclose' is not supported any more since HAProxy 2.0, please just remove it, or use 'option httpclose' if absolutely needed.");
            return;
        }
        if name == "http-tunnel" {
            self.alert_loc(super::Loc::ParsingTight, span, "option 'http-tunnel' is not supported any more since HAProxy 2.1, please just remove it, it shouldn't be needed.");
            return;
        }
        if name == "http_proxy" {
            self.alert_loc(super::Loc::ParsingTight, span, "option 'http_proxy' is not supported any more since HAProxy 2.5. This option stopped working in HAProxy 1.9 and usually had nasty side effects. It can be more reliably implemented with combinations of 'http-request set-dst' and 'http-request set-uri', and even 'http-request do-resolve' if DNS resolution is desired.");
            return;
        }
        if !HAPROXY_OPTION_ORDER.contains(&name) && !OPTION_NAMES_NOT_SUGGESTED.contains(&name) {
            match catalogue::best_match(name, HAPROXY_OPTION_ORDER.iter().copied()) {
                Some(b) => self.alert_help(
                    line.word_span(1),
                    format!("unknown option '{name}'; did you mean '{b}' maybe ?"),
                    format!("did you mean '{b}'?"),
                ),
                None => self.alert(line.word_span(1), format!("unknown option '{name}'.")),
            }
            return;
        }
        const NEGATABLE: &[&str] = &[
            "abortonclose",
            "allbackups",
            "checkcache",
            "clitcpka",
            "contstats",
            "dontlognull",
            "http-buffer-request",
            "http-ignore-probes",
            "idle-close-on-response",
            "prefer-last-server",
            "logasap",
            "nolinger",
            "persist",
            "srvtcpka",
            "transparent",
            "splice-request",
            "splice-response",
            "splice-auto",
            "accept-invalid-http-request",
            "accept-invalid-http-response",
            "dontlog-normal",
            "log-separate-errors",
            "log-health-checks",
            "socket-stats",
            "tcp-smart-accept",
            "tcp-smart-connect",
            "independent-streams",
            "http-use-proxy-header",
            "http-pretend-keepalive",
            "http-no-delay",
            "h1-case-adjust-bogus-client",
            "h1-case-adjust-bogus-server",
            "disable-h2-upgrade",
            "httpclose",
            "http-server-close",
            "http-keep-alive",
            "redispatch",
        ];
        if modifier.is_some() && !NEGATABLE.contains(&name) {
            self.alert_loc(
                super::Loc::ParsingTight,
                span,
                format!("negation/default is not supported for option '{name}'."),
            );
            return;
        }
        if NEGATABLE.contains(&name) && name != "redispatch" && line.has(2) {
            self.alert(
                span,
                format!(
                    "'option {name}' cannot handle unexpected argument '{}'.",
                    line.arg(2)
                ),
            );
            return;
        }
        let enable = modifier != Some("no");
        let default = modifier == Some("default");
        let on = enable && !default;
        if on {
            self.engine_gap("option", name, span, &format!("option {name}"));
        }
        if name == "httplog" && on {
            self.px().options.httplog_span = Some(span);
        }
        if matches!(name, "httplog" | "tcplog") && self.px_kind() == ProxyKind::Backend {
            let msg = format!(
                "backend '{}' : 'option {name}' directive is ignored in backends.",
                self.px_name()
            );
            self.warn(span, msg);
        }
        self.px().options.all.insert(name.to_string(), on);
        match name {
            "httplog" => {
                if line.has(2) && line.arg(2) != "clf" {
                    self.alert(span, "keyword 'httplog' only supports option 'clf'.");
                    return;
                }
                let clf = line.arg(2) == "clf";
                self.px().options.httplog = on;
                let o = &mut self.px().options;
                o.httplog_clf = clf && enable;
                if enable {
                    self.px().options.tcplog = false;
                }
            }
            "httpslog" => self.px().options.httpslog = on,
            "tcplog" => {
                self.px().options.tcplog = on;
                if enable {
                    self.px().options.httplog = false;
                }
            }
            "dontlognull" => self.px().options.dontlognull = on,
            "dontlog-normal" => self.px().options.dontlog_normal = on,
            "log-separate-errors" => self.px().options.log_separate_errors = on,
            "log-health-checks" => self.px().options.log_health_checks = on,
            "redispatch" => {
                self.px().options.redispatch = on;
                if line.has(2) {
                    self.px().options.redispatch_interval = Some(values::atol(line.arg(2)) as i32);
                }
            }
            "allbackups" => self.px().options.allbackups = on,
            "abortonclose" => self.px().options.abortonclose = on,
            "http-keep-alive" => self.px().options.http_mode = HttpConnMode::KeepAlive,
            "http-server-close" => {
                self.px().options.http_mode = if enable {
                    HttpConnMode::ServerClose
                } else {
                    HttpConnMode::KeepAlive
                }
            }
            "httpclose" | "forceclose" => {
                self.px().options.http_mode = if enable {
                    HttpConnMode::Close
                } else {
                    HttpConnMode::KeepAlive
                }
            }
            "http-buffer-request" => self.px().options.http_buffer_request = on,
            "http-ignore-probes" => self.px().options.http_ignore_probes = on,
            "http-pretend-keepalive" => self.px().options.http_pretend_keepalive = on,
            "http-no-delay" => self.px().options.http_no_delay = on,
            "http-use-htx" => self.px().options.http_use_htx = on,
            "persist" => self.px().options.persist = on,
            "prefer-last-server" => self.px().options.prefer_last_server = on,
            "splice-auto" => self.px().options.splice_auto = on,
            "splice-request" => self.px().options.splice_request = on,
            "splice-response" => self.px().options.splice_response = on,
            "tcpka" => self.px().options.tcpka = on,
            "clitcpka" => self.px().options.clitcpka = on,
            "srvtcpka" => self.px().options.srvtcpka = on,
            "socket-stats" => self.px().options.socket_stats = on,
            "transparent" => self.px().options.transparent = on,
            "accept-invalid-http-request" => self.px().options.accept_invalid_http_request = on,
            "accept-invalid-http-response" => self.px().options.accept_invalid_http_response = on,
            "h1-case-adjust-bogus-client" => self.px().options.h1_case_adjust_bogus_client = on,
            "h1-case-adjust-bogus-server" => self.px().options.h1_case_adjust_bogus_server = on,
            "independent-streams" => self.px().options.independent_streams = on,
            "nolinger" => self.px().options.nolinger = on,
            "contstats" => self.px().options.contstats = on,
            "disable-h2-upgrade" => self.px().options.disable_h2_upgrade = on,
            "idle-close-on-response" => self.px().options.idle_close_on_response = on,
            "forwardfor" | "originalto" | "original-to" => {
                if !enable {
                    if name == "forwardfor" {
                        self.px().options.forwardfor = None;
                    } else {
                        self.px().options.originalto = None;
                    }
                    return;
                }
                let mut ff = ForwardFor {
                    except: None,
                    header: if name == "forwardfor" {
                        "X-Forwarded-For".into()
                    } else {
                        "X-Original-To".into()
                    },
                    if_none: false,
                };
                let mut i = 2;
                while line.has(i) {
                    match line.arg(i) {
                        "except" => {
                            i += 1;
                            let t = line.arg(i);
                            let net = t.parse::<ipnet::IpNet>().ok().or_else(|| {
                                t.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from)
                            });
                            match net {
                                Some(n) => ff.except = Some(n),
                                None => {
                                    self.alert(span, format!("'option {name}' : '{t}' is not a valid network address."));
                                    return;
                                }
                            }
                        }
                        "header" => {
                            i += 1;
                            ff.header = line.arg(i).to_string();
                        }
                        "if-none" if name == "forwardfor" => ff.if_none = true,
                        _ => {
                            let msg = if name == "forwardfor" {
                                format!("'option {name}' only supports optional values: 'except', 'header' and 'if-none'.")
                            } else {
                                format!("'option {name}' only supports optional values: 'except' and 'header'.")
                            };
                            self.alert(span, msg);
                            return;
                        }
                    }
                    i += 1;
                }
                if name == "forwardfor" {
                    self.px().options.forwardfor = Some(ff);
                } else {
                    self.px().options.originalto = Some(ff);
                }
            }
            "httpchk" => {
                let args = line.args_from(2);
                let chk = match args.len() {
                    0 => HttpChk {
                        method: "OPTIONS".into(),
                        uri: "/".into(),
                        version: None,
                    },
                    1 => HttpChk {
                        method: "OPTIONS".into(),
                        uri: args[0].clone(),
                        version: None,
                    },
                    2 => HttpChk {
                        method: args[0].clone(),
                        uri: args[1].clone(),
                        version: None,
                    },
                    _ => HttpChk {
                        method: args[0].clone(),
                        uri: args[1].clone(),
                        version: Some(args[2..].join(" ")),
                    },
                };
                // the proxy gets its own http-check ruleset here: rules inherited from the
                // defaults section are dropped (its own earlier lines stay)
                if enable {
                    self.drop_inherited_http_checks(false);
                }
                self.px().options.check = enable.then_some(CheckKind::HttpChk(chk));
            }
            "pgsql-check" => {
                let user = if line.arg(2) == "user" {
                    Some(line.arg(3).to_string())
                } else {
                    None
                };
                if line.arg(2) != "user" || !line.has(3) {
                    self.alert(
                        span,
                        "'option pgsql-check' expects 'user <username>' as argument.",
                    );
                    return;
                }
                self.px().options.check = enable.then_some(CheckKind::PgsqlChk { user });
            }
            "mysql-check" => {
                if line.has(2) && (line.arg(2) != "user" || !line.has(3)) {
                    let msg = if line.arg(2) != "user" {
                        format!("'option mysql-check' only supports optional values: 'user' (got '{}').", line.arg(2))
                    } else {
                        "'option mysql-check user' expects <username> as argument.".to_string()
                    };
                    self.alert(span, msg);
                    return;
                }
                let user = if line.arg(2) == "user" {
                    Some(line.arg(3).to_string())
                } else {
                    None
                };
                // post-41 is the default (HAProxy 2.6 sends the 4.1 packet without the word)
                let post41 = match line.arg(4) {
                    "" | "post-41" => true,
                    "pre-41" => false,
                    other => {
                        let msg = format!(
                            "keyword 'user' only supports 'post-41' and 'pre-41' (got '{other}')."
                        );
                        self.alert(span, msg);
                        return;
                    }
                };
                self.px().options.check = enable.then_some(CheckKind::MysqlChk { user, post41 });
            }
            "redis-check" => self.px().options.check = enable.then_some(CheckKind::RedisChk),
            "ssl-hello-chk" => self.px().options.check = enable.then_some(CheckKind::SslHelloChk),
            "smtpchk" => {
                let (hello, domain) = if line.has(3) {
                    (Some(line.arg(2).to_string()), Some(line.arg(3).to_string()))
                } else {
                    (None, None)
                };
                self.px().options.check = enable.then_some(CheckKind::SmtpChk { hello, domain });
            }
            "http-restrict-req-hdr-names" => {
                let policy = match line.arg(2) {
                    "preserve" => RestrictHdrNames::Preserve,
                    "delete" => RestrictHdrNames::Delete,
                    "reject" => RestrictHdrNames::Reject,
                    "" => {
                        self.alert(span, format!("missing parameter. option '{name}' expects 'preserve', 'reject' or 'delete' option."));
                        return;
                    }
                    o => {
                        self.alert(span, format!("invalid parameter '{o}'. option '{name}' expects 'preserve', 'reject' or 'delete' option."));
                        return;
                    }
                };
                self.px().options.restrict_req_hdr_names = Some(policy);
            }
            "ldap-check" => self.px().options.check = enable.then_some(CheckKind::LdapChk),
            "spop-check" => self.px().options.check = enable.then_some(CheckKind::SpopChk),
            "tcp-check" => self.px().options.check = enable.then_some(CheckKind::TcpCheck),
            "external-check" => {
                self.px().options.check = enable.then_some(CheckKind::ExternalCheck)
            }
            _ => {
                // known option without a typed field yet
                self.unimplemented(span, &format!("option {name}"));
            }
        }
    }

    fn timeout(&mut self, line: &Line) {
        let span = line.span;
        let which = line.arg(1);
        const NAMES: &[&str] = &[
            "client",
            "server",
            "connect",
            "check",
            "queue",
            "http-keep-alive",
            "http-request",
            "tunnel",
            "tarpit",
            "client-fin",
            "server-fin",
        ];
        let canonical = match which {
            "clitimeout" => "client",
            "srvtimeout" => "server",
            "contimeout" => "connect",
            w if NAMES.contains(&w) => w,
            _ => {
                self.alert(
                    span,
                    format!("'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', 'http-request', 'tunnel', 'tarpit', 'client-fin' and 'server-fin' (got '{which}')"),
                );
                return;
            }
        };
        if !line.has(2) {
            self.alert(
                span,
                format!("'timeout {which}' expects an integer value (in milliseconds)"),
            );
            return;
        }
        let d = match self.ptime(line.arg(2)) {
            Ok(d) => d,
            Err(TimeError::BadChar(c)) => {
                self.alert(
                    span,
                    format!("unexpected character '{c}' in 'timeout {which}'"),
                );
                return;
            }
            Err(TimeError::Overflow) => {
                self.alert(span, format!("timer overflow in argument '{}' to 'timeout {which}' (maximum value is 2147483647 ms or ~24.8 days)", line.arg(2)));
                return;
            }
            Err(_) => {
                self.alert(
                    span,
                    format!("'timeout {which}' expects an integer value (in milliseconds)"),
                );
                return;
            }
        };
        if line.has(3) {
            self.alert(
                span,
                format!(
                    "'timeout {which}' cannot handle unexpected argument '{}'.",
                    line.arg(3)
                ),
            );
            return;
        }
        let t = &mut self.px().timeouts;
        let slot = match canonical {
            "client" => &mut t.client,
            "server" => &mut t.server,
            "connect" => &mut t.connect,
            "check" => &mut t.check,
            "queue" => &mut t.queue,
            "http-keep-alive" => &mut t.http_keep_alive,
            "http-request" => &mut t.http_request,
            "tunnel" => &mut t.tunnel,
            "tarpit" => &mut t.tarpit,
            "client-fin" => &mut t.client_fin,
            _ => &mut t.server_fin,
        };
        *slot = Some(d);
    }

    fn stick_table(&mut self, line: &Line) {
        if let Some(st) = self.parse_stick_table(line, 1) {
            self.px().stick_table = Some(st);
        }
    }

    /// The arguments of a stick table from word `first` on (`stick-table ...` in a proxy,
    /// `table NAME ...` in a peers section); None after an alert.
    pub(super) fn parse_stick_table(&mut self, line: &Line, first: usize) -> Option<StickTable> {
        let span = line.span;
        let mut st = StickTable {
            key: StickKeyType::Ip,
            size: 0,
            expire: None,
            nopurge: false,
            srvkey_addr: false,
            peers: None,
            store: vec![],
            span,
        };
        let mut i = first;
        let mut have_type = false;
        while line.has(i) {
            match line.arg(i) {
                "type" => {
                    i += 1;
                    st.key = match line.arg(i) {
                        "ip" => StickKeyType::Ip,
                        "ipv6" => StickKeyType::Ipv6,
                        "integer" => StickKeyType::Integer,
                        t @ ("string" | "binary") => {
                            let len = if line.arg(i + 1) == "len" {
                                i += 2;
                                values::atol(line.arg(i)).max(0) as u32
                            } else if t == "string" {
                                32
                            } else {
                                32
                            };
                            if t == "string" {
                                StickKeyType::String { len }
                            } else {
                                StickKeyType::Binary { len }
                            }
                        }
                        t => {
                            self.alert(span, format!("stick-table: unknown type '{t}'."));
                            return None;
                        }
                    };
                    have_type = true;
                }
                "size" => {
                    i += 1;
                    match values::parse_size(line.arg(i)) {
                        Some(s) => st.size = s,
                        None => {
                            self.alert(span, format!("stick-table: unexpected character in argument of 'size' ('{}').", line.arg(i)));
                            return None;
                        }
                    }
                }
                "expire" => {
                    i += 1;
                    match self.ptime(line.arg(i)) {
                        Ok(d) => st.expire = Some(d),
                        Err(_) => {
                            self.alert(span, format!("stick-table: unexpected character in argument of 'expire' ('{}').", line.arg(i)));
                            return None;
                        }
                    }
                }
                "nopurge" => st.nopurge = true,
                "peers" => {
                    i += 1;
                    st.peers = Some(line.arg(i).to_string());
                }
                "store" => {
                    i += 1;
                    st.store.extend(split_top_commas(line.arg(i)));
                }
                "srvkey" => {
                    i += 1;
                    match line.arg(i) {
                        "name" => st.srvkey_addr = false,
                        "addr" => st.srvkey_addr = true,
                        k => {
                            self.alert(span, format!("stick-table: unexpected value for 'srvkey' ('{k}'). Expecting either 'name' or 'addr'."));
                            return None;
                        }
                    }
                }
                "write-to" | "recv-only" => {
                    if line.arg(i) != "recv-only" {
                        i += 1;
                    }
                }
                other => {
                    self.alert(span, format!("stick-table: unknown argument '{other}'."));
                    return None;
                }
            }
            i += 1;
        }
        if !have_type {
            self.alert(span, "stick-table: missing type.");
            return None;
        }
        if st.size == 0 {
            self.alert(span, "stick-table: missing size.");
            return None;
        }
        Some(st)
    }

    fn stick_rule(&mut self, line: &Line) {
        let span = line.span;
        let kind = match line.arg(1) {
            "on" => StickRuleKind::On,
            "match" => StickRuleKind::Match,
            "store-request" => StickRuleKind::StoreRequest,
            "store-response" => StickRuleKind::StoreResponse,
            _ => {
                self.alert(span, "'stick' expects 'on', 'match', or 'store'.");
                return;
            }
        };
        let expr = match sample::parse_sample_expr(line.arg(2)) {
            Ok(e) => e,
            Err(e) => {
                self.alert(span, format!("'stick {}' : {e}", line.arg(1)));
                return;
            }
        };
        let mut i = 3;
        let mut table = None;
        if line.arg(i) == "table" {
            table = Some(line.arg(i + 1).to_string());
            i += 2;
        }
        let cond = if matches!(line.arg(i), "if" | "unless") {
            let words = line.args_from(i);
            let known = |n: &str| self.acl_known(n);
            match sample::parse_condition(&words, span, &known) {
                Ok(c) => Some(c),
                Err(e) => {
                    self.alert(
                        span,
                        format!(
                            "'stick {}' : error detected while parsing sticking condition : {e}.",
                            line.arg(1)
                        ),
                    );
                    return;
                }
            }
        } else {
            None
        };
        self.px().stick_rules.push(StickRule {
            kind,
            expr,
            table,
            cond,
            span,
        });
    }

    fn capture(&mut self, line: &Line) {
        let span = line.span;
        let len_at = |i: usize| values::atol(line.arg(i)).max(0) as u32;
        let cap = match (line.arg(1), line.arg(2)) {
            ("cookie", _) => {
                if line.arg(3) != "len" {
                    self.alert(
                        span,
                        "'capture' expects 'cookie' <cookie_name> 'len' <len>.",
                    );
                    return;
                }
                Capture::Cookie {
                    name: line.arg(2).to_string(),
                    len: len_at(4),
                }
            }
            ("request", "header") => {
                if line.arg(4) != "len" {
                    self.alert(
                        span,
                        "'capture request header' expects <header name> 'len' <len>.",
                    );
                    return;
                }
                Capture::RequestHeader {
                    name: line.arg(3).to_string(),
                    len: len_at(5),
                }
            }
            ("response", "header") => {
                if line.arg(4) != "len" {
                    self.alert(
                        span,
                        "'capture response header' expects <header name> 'len' <len>.",
                    );
                    return;
                }
                Capture::ResponseHeader {
                    name: line.arg(3).to_string(),
                    len: len_at(5),
                }
            }
            _ => {
                self.alert(
                    span,
                    "'capture' expects 'cookie' or 'request header' or 'response header'.",
                );
                return;
            }
        };
        if let Capture::RequestHeader { len, .. } = &cap {
            let len = *len;
            self.px().req_capture_lens.push(len);
        }
        self.px().captures.push(cap);
    }

    /// `declare capture { request | response } len N`.
    fn declare(&mut self, line: &Line) {
        let span = line.span;
        if line.arg(1) != "capture" {
            self.alert(span, "'declare' expects 'capture' as argument.");
            return;
        }
        if !matches!(line.arg(2), "request" | "response") || line.arg(3) != "len" {
            self.alert(
                span,
                "'declare capture' expects 'request' or 'response' followed by 'len' <length>.",
            );
            return;
        }
        let len = values::atol(line.arg(4)).max(0) as u32;
        if line.arg(2) == "request" {
            self.px().req_capture_lens.push(len);
        }
    }

    fn stats_kw(&mut self, line: &Line) {
        let span = line.span;
        let sub = line.arg(1);
        let a2 = line.arg(2).to_string();
        match sub {
            "enable" => self.px().stats.enabled = true,
            "uri" => {
                if !line.has(2) {
                    self.alert(span, "'uri' needs an URI prefix.");
                    return;
                }
                let s = &mut self.px().stats;
                s.enabled = true;
                s.uri = Some(a2);
            }
            "realm" => {
                if !line.has(2) {
                    self.alert(span, "'realm' needs an realm name.");
                    return;
                }
                let s = &mut self.px().stats;
                s.enabled = true;
                s.realm = Some(line.args_from(2).join(" "));
            }
            "auth" => {
                let (u, p) = a2.split_once(':').unwrap_or((a2.as_str(), ""));
                let (u, p) = (u.to_string(), p.to_string());
                let s = &mut self.px().stats;
                s.enabled = true;
                s.auth.push((u, p));
            }
            "refresh" => match self.ptime_unit(&a2, 1_000_000) {
                Ok(d) => {
                    let s = &mut self.px().stats;
                    s.enabled = true;
                    s.refresh = Some(d);
                }
                Err(_) => self.alert(span, "'refresh' needs a positive interval in seconds."),
            },
            "admin" => {
                let words = line.args_from(2);
                let known = |n: &str| self.acl_known(n);
                match sample::parse_condition(&words, span, &known) {
                    Ok(c) => self.px().stats.admin.push(c),
                    Err(_) if !matches!(line.arg(2), "if" | "unless") => {
                        self.alert(span, "'stats admin' requires either 'if' or 'unless' followed by a condition.")
                    }
                    Err(e) => self.alert(span, format!("error detected while parsing a 'stats admin' condition : {e}.")),
                }
            }
            "hide-version" => self.px().stats.hide_version = true,
            "show-legends" => self.px().stats.show_legends = true,
            "show-node" => self.px().stats.show_node = Some(a2),
            "show-desc" => self.px().stats.show_desc = Some(line.args_from(2).join(" ")),
            "scope" => self.px().stats.scope.push(a2),
            "http-request" => {
                self.unimplemented(span, "stats http-request");
                self.px().stats.raw.push(raw(line));
            }
            "show-modules" | "bind-process" | "socket" | "timeout" | "maxconn" => {
                self.unimplemented(span, &format!("stats {sub}"));
                self.px().stats.raw.push(raw(line));
            }
            _ => self.alert_loc(
                super::Loc::ParsingTight,
                span,
                format!("unknown stats parameter '{sub}', expects 'admin', 'uri', 'realm', 'auth', 'scope', 'enable', 'hide-version', 'show-node', 'show-desc' or 'show-legends'."),
            ),
        }
    }

    /// A proxy's first own `option httpchk` or `http-check` line starts its own ruleset (as
    /// HAProxy): the rules inherited from its defaults section are dropped, and for an
    /// `http-check` line also the request of an inherited `option httpchk`.
    fn drop_inherited_http_checks(&mut self, reset_request: bool) {
        if !matches!(self.section, Section::Proxy(_)) {
            return;
        }
        let parent = self
            .px_ref()
            .and_then(|p| p.defaults_from.clone())
            .and_then(|n| {
                if n.is_empty() {
                    self.last_defaults
                } else {
                    self.cfg.defaults.iter().rposition(|d| d.name == n)
                }
            });
        let Some(d) = parent.and_then(|i| self.cfg.defaults.get(i)) else {
            return;
        };
        let (rules, check) = (d.http_checks.clone(), d.options.check.clone());
        let px = self.px();
        if px.http_checks != rules {
            return;
        }
        px.http_checks.clear();
        if reset_request && !rules.is_empty() || reset_request && px.options.check == check {
            if let Some(CheckKind::HttpChk(_)) = &px.options.check {
                px.options.check = Some(CheckKind::HttpChk(HttpChk {
                    method: "OPTIONS".into(),
                    uri: "/".into(),
                    version: None,
                }));
            }
        }
    }

    fn http_check(&mut self, line: &Line) {
        let span = line.span;
        let sub_full = line.arg(1);
        // set-var(name) / unset-var(name) / set-var-fmt(name) carry their variable
        let sub = sub_full.split('(').next().unwrap_or(sub_full);
        let rule = match sub {
            "disable-on-404" => HttpCheckRule::DisableOn404,
            "send-state" => HttpCheckRule::SendState,
            "comment" => HttpCheckRule::Comment(line.arg(2).to_string()),
            "connect" => {
                let earlier_step = self.px_ref().map(|p| {
                    p.http_checks.iter().any(|r| {
                        matches!(
                            r,
                            HttpCheckRule::Send { .. }
                                | HttpCheckRule::Expect { .. }
                                | HttpCheckRule::Connect { .. }
                        )
                    })
                });
                if earlier_step == Some(true) {
                    self.alert(span, "'http-check connect' : first step MUST also be a 'connect', optionally preceded by a 'set-var', an 'unset-var' or a 'comment', when there is a 'connect' step in the tcp-check ruleset.");
                    return;
                }
                HttpCheckRule::Connect {
                    options: line.args_from(2),
                }
            }
            "send" => {
                let mut r = (None, None, None, Vec::new(), None);
                let mut i = 2;
                while line.has(i) {
                    match line.arg(i) {
                        "meth" => r.0 = Some(line.arg(i + 1).to_string()),
                        "uri" | "uri-lf" => r.1 = Some(line.arg(i + 1).to_string()),
                        "ver" => r.2 = Some(line.arg(i + 1).to_string()),
                        "hdr" => {
                            r.3.push((line.arg(i + 1).to_string(), line.arg(i + 2).to_string()));
                            i += 1;
                        }
                        "body" | "body-lf" => r.4 = Some(line.arg(i + 1).to_string()),
                        "comment" => {}
                        o => {
                            self.alert(span, format!("'http-check send' : expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', 'body' or 'body-lf' but got '{o}' as argument."));
                            return;
                        }
                    }
                    i += 2;
                }
                HttpCheckRule::Send {
                    method: r.0,
                    uri: r.1,
                    version: r.2,
                    headers: r.3,
                    body: r.4,
                }
            }
            "expect" => {
                let mut i = 2;
                let mut options = Vec::new();
                while matches!(
                    line.arg(i),
                    "min-recv"
                        | "comment"
                        | "ok-status"
                        | "error-status"
                        | "tout-status"
                        | "on-success"
                        | "on-error"
                        | "status-code"
                ) {
                    options.push(line.arg(i).to_string());
                    options.push(line.arg(i + 1).to_string());
                    i += 2;
                }
                let mut negate = false;
                if line.arg(i) == "!" {
                    negate = true;
                    i += 1;
                }
                let mut kind = line.arg(i).to_string();
                if let Some(k) = kind.strip_prefix('!') {
                    negate = true;
                    kind = k.to_string();
                }
                if !matches!(
                    kind.as_str(),
                    "status"
                        | "rstatus"
                        | "string"
                        | "rstring"
                        | "hdr"
                        | "fhdr"
                        | "status-lf"
                        | "string-lf"
                ) {
                    self.alert(span, format!("'http-check expect' : 'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', '[!]status', '[!]rstatus', [!]hdr, [!]fhdr or comment but got '{kind}' as argument.."));
                    return;
                }
                if matches!(kind.as_str(), "rstatus" | "rstring") {
                    if let Err(e) = sample::compile_regex(line.arg(i + 1), false) {
                        self.alert(span, format!("'http-check expect' : {e}"));
                        return;
                    }
                }
                let pattern = expect_pattern_and_options(line, i + 1, &mut options);
                HttpCheckRule::Expect {
                    negate,
                    kind,
                    pattern,
                    options,
                }
            }
            "set-var" => match sample::parse_sample_expr(line.arg(2)) {
                Ok(expr) => HttpCheckRule::SetVar {
                    name: sub.to_string(),
                    expr,
                },
                Err(_) => HttpCheckRule::Raw {
                    action: sub.to_string(),
                    args: line.args_from(2),
                },
            },
            "unset-var" | "set-var-fmt" => HttpCheckRule::Raw {
                action: sub.to_string(),
                args: line.args_from(2),
            },
            o => {
                self.alert(span, format!("'http-check' only supports 'disable-on-404', 'send-state', 'comment', 'connect', 'send', 'expect', 'set-var-fmt(*)', 'set-var(*)', 'unset-var(*)'. but got '{o}'"));
                return;
            }
        };
        if matches!(
            rule,
            HttpCheckRule::Send { .. }
                | HttpCheckRule::Expect { .. }
                | HttpCheckRule::Connect { .. }
        ) {
            self.drop_inherited_http_checks(true);
        }
        self.px().http_checks.push(rule);
    }

    fn tcp_check(&mut self, line: &Line) {
        let span = line.span;
        let sub_full = line.arg(1);
        let sub = sub_full.split('(').next().unwrap_or(sub_full);
        let rule = match sub {
            "comment" => TcpCheckRule::Comment(line.arg(2).to_string()),
            "connect" => TcpCheckRule::Connect {
                options: line.args_from(2),
            },
            "send" | "send-lf" => TcpCheckRule::Send {
                data: line.arg(2).to_string(),
                hex: false,
                log_format: sub == "send-lf",
            },
            "send-binary" | "send-binary-lf" => TcpCheckRule::Send {
                data: line.arg(2).to_string(),
                hex: true,
                log_format: sub == "send-binary-lf",
            },
            "expect" => {
                let mut i = 2;
                let mut options = Vec::new();
                while matches!(
                    line.arg(i),
                    "min-recv"
                        | "comment"
                        | "ok-status"
                        | "error-status"
                        | "tout-status"
                        | "on-success"
                        | "on-error"
                        | "status-code"
                ) {
                    options.push(line.arg(i).to_string());
                    options.push(line.arg(i + 1).to_string());
                    i += 2;
                }
                let mut negate = false;
                if line.arg(i) == "!" {
                    negate = true;
                    i += 1;
                }
                let mut kind = line.arg(i).to_string();
                if let Some(k) = kind.strip_prefix('!') {
                    negate = true;
                    kind = k.to_string();
                }
                if !matches!(
                    kind.as_str(),
                    "string" | "rstring" | "binary" | "rbinary" | "string-lf" | "binary-lf"
                ) {
                    self.alert(span, format!("'tcp-check expect' : 'only supports min-recv, '[!]binary', '[!]string', '[!]rstring', '[!]string-lf''[!]rbinary', '[!]binary-lf' or comment but got '{kind}' as argument.."));
                    return;
                }
                let pattern = expect_pattern_and_options(line, i + 1, &mut options);
                TcpCheckRule::Expect {
                    negate,
                    kind,
                    pattern,
                    options,
                }
            }
            "set-var" | "unset-var" | "set-var-fmt" => TcpCheckRule::Raw {
                action: sub.to_string(),
                args: line.args_from(2),
            },
            o => {
                self.alert(span, format!("'tcp-check' expects 'comment', 'connect', 'send', 'send-binary', 'expect', 'set-var' or 'unset-var' but got '{o}' as argument."));
                return;
            }
        };
        self.px().tcp_checks.push(rule);
    }
}

/// The pattern words of a `tcp-check expect` / `http-check expect` from word `from` on, and
/// the `name value` options (`comment`, `min-recv`, `on-error`...) that may follow it, which
/// are added to `options`.
fn expect_pattern_and_options(line: &Line, from: usize, options: &mut Vec<String>) -> String {
    let mut pattern: Vec<String> = Vec::new();
    let mut i = from;
    while line.has(i) {
        let w = line.arg(i);
        let is_option = !pattern.is_empty()
            && matches!(
                w,
                "min-recv"
                    | "comment"
                    | "ok-status"
                    | "error-status"
                    | "tout-status"
                    | "on-success"
                    | "on-error"
                    | "status-code"
            );
        if is_option {
            options.push(w.to_string());
            options.push(line.arg(i + 1).to_string());
            i += 2;
        } else {
            pattern.push(w.to_string());
            i += 1;
        }
    }
    pattern.join(" ")
}

/// Arguments of an engine-supported keyword that the engine does not act on yet:
/// `balance hash EXPR` (balanced round-robin instead) and `http-check expect` matches other
/// than status/rstatus/string/rstring (the check only looks at the status class then).
pub(crate) fn unsupported_argument(line: &Line) -> Option<String> {
    match line.arg(0) {
        "balance" if line.arg(1) == "hash" => Some("balance hash".into()),
        "http-check" if line.arg(1) == "expect" => {
            const KINDS: &[&str] = &[
                "status",
                "rstatus",
                "string",
                "rstring",
                "hdr",
                "fhdr",
                "status-lf",
                "string-lf",
            ];
            let kind = line
                .words
                .iter()
                .skip(2)
                .map(|w| w.text.trim_start_matches('!'))
                .find(|w| KINDS.contains(w))?;
            (!matches!(kind, "status" | "rstatus" | "string" | "rstring"))
                .then(|| format!("http-check expect {kind}"))
        }
        _ => None,
    }
}

/// The proxy-keyword catalogue entry of this line ("timeout client", "stats enable", "acl").
pub(crate) fn catalogue_key(line: &Line) -> Option<&'static str> {
    let kw = line.arg(0);
    let two = format!("{} {}", kw, line.arg(1));
    let three = format!("{} {} {}", kw, line.arg(1), line.arg(2));
    let found = [three.as_str(), two.as_str(), kw]
        .into_iter()
        .find_map(|k| catalogue::lookup("proxy", k))
        .map(|e| e.keyword);
    found
}

/// Sections where the keyword of this line is valid, from the catalogue.
fn applicable_sections(line: &Line) -> Option<Vec<&'static str>> {
    let kw = line.arg(0);
    let two = format!("{} {}", kw, line.arg(1));
    let three = format!("{} {} {}", kw, line.arg(1), line.arg(2));
    for k in [three.as_str(), two.as_str(), kw] {
        if let Some(e) = catalogue::lookup("proxy", k) {
            return Some(e.sections.clone());
        }
    }
    None
}

fn raw(line: &Line) -> RawDirective {
    RawDirective {
        keyword: line.arg(0).to_string(),
        args: line.args_from(1),
        span: line.span,
    }
}

/// Splits on commas outside parentheses (`conn_cur,http_req_rate(10s)`).
pub fn split_top_commas(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => {
                depth += 1;
                cur.push(c)
            }
            ')' => {
                depth -= 1;
                cur.push(c)
            }
            ',' if depth == 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `balance <algo> [args]`; Err is haproxy's message (printed after "balance ").
pub fn parse_balance(line: &Line) -> Result<BalanceAlgo, String> {
    let a = line.arg(1);
    let (name, paren) = match a.find('(') {
        Some(i) => (&a[..i], Some(&a[i + 1..])),
        None => (a, None),
    };
    Ok(match name {
        "roundrobin" | "" => BalanceAlgo::RoundRobin,
        "hdr" if paren.is_none() => {
            return Err("only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options.".into())
        }
        "static-rr" => BalanceAlgo::StaticRr,
        "leastconn" => BalanceAlgo::LeastConn,
        "first" => BalanceAlgo::First,
        "source" => BalanceAlgo::Source,
        "random" => {
            let draws = match paren {
                Some(p) => {
                    let Some(inner) = p.strip_suffix(')') else {
                        return Err("random : missing closing parenthesis.".into());
                    };
                    let n = values::atol(inner);
                    if n < 1 {
                        return Err("random : number of draws must be at least 1.".into());
                    }
                    n as u32
                }
                None => 2,
            };
            BalanceAlgo::Random { draws }
        }
        "uri" => {
            let mut algo = (None, None, false, false);
            let mut i = 2;
            while line.has(i) {
                match line.arg(i) {
                    k @ ("len" | "depth") => {
                        let v = values::parse_uint(line.arg(i + 1)).filter(|v| *v > 0);
                        let Some(v) = v else {
                            return Err(format!("uri : '{k}' expects a positive integer (got '{}').", line.arg(i + 1)));
                        };
                        if k == "len" {
                            algo.0 = Some(v as u32)
                        } else {
                            algo.1 = Some(v as u32)
                        }
                        i += 2;
                    }
                    "whole" => {
                        algo.2 = true;
                        i += 1;
                    }
                    "path-only" => {
                        algo.3 = true;
                        i += 1;
                    }
                    o => return Err(format!("uri only accepts parameters 'len', 'depth', 'path-only', and 'whole' (got '{o}').")),
                }
            }
            BalanceAlgo::Uri { len: algo.0, depth: algo.1, whole: algo.2, path_only: algo.3 }
        }
        "url_param" => {
            if !line.has(2) {
                return Err("url_param requires an URL parameter name.".into());
            }
            let check_post = if line.arg(3) == "check_post" {
                Some(values::atol(line.arg(4)).max(0) as u32)
            } else if line.has(3) {
                return Err(format!("url_param only accepts 'check_post' modifier (got '{}').", line.arg(3)));
            } else {
                None
            };
            BalanceAlgo::UrlParam { param: line.arg(2).to_string(), check_post }
        }
        "hdr" => {
            let Some(inner) = paren.and_then(|p| p.strip_suffix(')')).filter(|s| !s.is_empty()) else {
                return Err("hdr requires an http header field name.".into());
            };
            let use_domain_only = match line.arg(2) {
                "" => false,
                "use_domain_only" => true,
                o => return Err(format!("hdr only accepts 'use_domain_only' modifier (got '{o}').")),
            };
            BalanceAlgo::Hdr { name: inner.to_string(), use_domain_only }
        }
        "rdp-cookie" => {
            let name = match paren {
                Some(p) => {
                    let inner = p.strip_suffix(')').unwrap_or(p);
                    if inner.is_empty() {
                        return Err("rdp-cookie : missing cookie name.".into());
                    }
                    Some(inner.to_string())
                }
                None => None,
            };
            BalanceAlgo::RdpCookie { name }
        }
        "hash" => {
            if !line.has(2) {
                return Err("hash requires a sample expression.".into());
            }
            BalanceAlgo::Hash { expr: line.arg(2).to_string() }
        }
        _ => {
            return Err("only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options.".into())
        }
    })
}

/// Zero duration helper for printers.
pub fn is_zero(d: &Duration) -> bool {
    d.is_zero()
}

/// Rule list lengths in the order haproxy checks misplaced rules: tcp-request session,
/// tcp-request content, monitor fail, http-request, redirect, use_backend, use-server.
fn rule_counts(p: &Proxy) -> [usize; 7] {
    [
        p.tcp_request_session.len(),
        p.tcp_request_content.len(),
        p.monitor_fail.len(),
        p.http_request.len(),
        p.redirects.len(),
        p.use_backends.len(),
        p.use_servers.len(),
    ]
}

/// Where a rule stands in haproxy's processing order (later rules are evaluated first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum RuleStage {
    TcpConnection = 0,
    TcpSession = 1,
    TcpContent = 2,
    Monitor = 3,
    HttpRequest = 4,
    Redirect = 5,
}

impl Parser {
    /// haproxy's "a 'x' rule placed after a 'y' rule will still be processed before" warning.
    pub(crate) fn warn_misplaced(&mut self, stage: RuleStage, arg: &str, span: crate::diag::Span) {
        let Some(p) = self.px_ref() else { return };
        let now = rule_counts(p);
        let own: Vec<usize> = now
            .iter()
            .zip(self.inherited_rules.iter())
            .map(|(a, b)| a.saturating_sub(*b))
            .collect();
        const AFTER: [&str; 7] = [
            "a 'tcp-request session'",
            "a 'tcp-request content'",
            "a 'monitor fail'",
            "an 'http-request'",
            "a 'redirect'",
            "a 'use_backend'",
            "a 'use-server'",
        ];
        // a stage is checked against every list processed after it
        let first = stage as usize;
        for i in first..7 {
            if own[i] > 0 {
                self.warn(
                    span,
                    format!(
                        "a '{arg}' rule placed after {} rule will still be processed before.",
                        AFTER[i]
                    ),
                );
                return;
            }
        }
    }
}

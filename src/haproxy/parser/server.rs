//! `bind`, `server`, `default-server` and `server-template` lines.

use std::path::Path;

use super::values::{self, TimeError};
use super::{Line, Loc, Parser};
use crate::haproxy::catalogue;
use crate::haproxy::ir::*;

/// Bind options that take one value.
const BIND_WITH_VALUE: &[&str] = &[
    "accept-netscaler-cip",
    "alpn",
    "backlog",
    "ca-file",
    "ca-ignore-err",
    "ca-sign-file",
    "ca-sign-pass",
    "ca-verify-file",
    "ciphers",
    "ciphersuites",
    "crl-file",
    "crt",
    "crt-ignore-err",
    "crt-list",
    "curves",
    "ecdhe",
    "gid",
    "group",
    "id",
    "interface",
    "level",
    "maxconn",
    "mode",
    "mss",
    "name",
    "namespace",
    "nice",
    "npn",
    "process",
    "proto",
    "severity-output",
    "shards",
    "ssl-max-ver",
    "ssl-min-ver",
    "tcp-ut",
    "thread",
    "tls-ticket-keys",
    "uid",
    "user",
    "verify",
    "sigalgs",
    "client-sigalgs",
];

/// Server options that take one value.
const SERVER_WITH_VALUE: &[&str] = &[
    "addr",
    "agent-addr",
    "agent-inter",
    "agent-port",
    "agent-send",
    "alpn",
    "ca-file",
    "check-alpn",
    "check-proto",
    "check-sni",
    "ciphers",
    "ciphersuites",
    "cookie",
    "crl-file",
    "crt",
    "curves",
    "downinter",
    "error-limit",
    "fall",
    "fastinter",
    "id",
    "init-addr",
    "inter",
    "log-proto",
    "max-reuse",
    "maxconn",
    "maxqueue",
    "minconn",
    "namespace",
    "npn",
    "observe",
    "on-error",
    "on-marked-down",
    "on-marked-up",
    "pool-low-conn",
    "pool-max-conn",
    "pool-purge-delay",
    "port",
    "proto",
    "proxy-v2-options",
    "redir",
    "resolve-net",
    "resolve-opts",
    "resolve-prefer",
    "resolvers",
    "rise",
    "slowstart",
    "sni",
    "socks4",
    "ssl-max-ver",
    "ssl-min-ver",
    "tcp-ut",
    "track",
    "verify",
    "verifyhost",
    "weight",
    "set-proxy-v2-tlv-fmt",
    "sigalgs",
    "client-sigalgs",
    "ws",
    "hash-key",
];

fn is_pem_cert(path: &Path) -> bool {
    match crate::haproxy::parser::read_config_file(path).ok_or(()) {
        Ok(b) => {
            let t = String::from_utf8_lossy(&b);
            t.contains("-----BEGIN CERTIFICATE-----")
                || t.contains("-----BEGIN TRUSTED CERTIFICATE-----")
        }
        Err(_) => false,
    }
}

fn with_base(base: &Option<String>, path: &str) -> String {
    match base {
        Some(b) if !path.starts_with('/') => format!("{}/{}", b.trim_end_matches('/'), path),
        _ => path.to_string(),
    }
}

impl Parser {
    pub(crate) fn bind_line(&mut self, line: &Line) {
        let span = line.span;
        if !line.has(1) {
            self.alert(
                span,
                "'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.",
            );
            return;
        }
        let text = line.arg(1).to_string();
        let mut addrs = Vec::new();
        for part in text.split(',') {
            let expanded = self.expand_env(part);
            match values::parse_listen_addr(&expanded) {
                Ok(a) => {
                    if let ListenAddr::Fd { fd } = a {
                        if let Some(reason) = fd_not_socket(fd) {
                            self.alert(
                                span,
                                format!("'bind' : cannot use file descriptor '{fd}' : {reason}."),
                            );
                            return;
                        }
                    }
                    addrs.push(a)
                }
                Err(e) => {
                    let msg = e
                        .message()
                        .replace(&format!("'{expanded}'"), &format!("'{part}'"));
                    self.alert(span, format!("'bind' : {msg}"));
                    return;
                }
            }
        }
        let section = self.px_kind().keyword();
        if let Some(options) = self.parse_bind_options(line, 2, &format!("bind {text}"), section) {
            self.px().binds.push(Bind {
                addrs,
                addr_text: text,
                options,
                span,
            });
        }
    }

    /// Parses bind options from word `start`; `what` is "bind ADDR" for messages.
    pub(crate) fn parse_bind_options(
        &mut self,
        line: &Line,
        start: usize,
        what: &str,
        section: &str,
    ) -> Option<BindOptions> {
        let span = line.span;
        let mut o = BindOptions::default();
        let mut i = start;
        let crt_base = self.cfg.global.crt_base.clone();
        let ca_base = self.cfg.global.ca_base.clone();
        let prefix = format!("'{what}' in section '{section}'");
        // haproxy words option errors differently for "stats socket"
        let is_stats = what == "stats socket";
        let wrap = |inner: String| -> String {
            if is_stats {
                format!("'stats socket' : '{inner}'")
            } else {
                format!("{prefix} : {inner}")
            }
        };
        while line.has(i) {
            let kw = line.arg(i);
            let known = catalogue::lookup("bind", kw).is_some()
                || matches!(
                    kw,
                    "expose-fd" | "sigalgs" | "client-sigalgs" | "quic-cc-algo" | "no-alpn"
                );
            if !known {
                let cands: Vec<&str> = catalogue::of_kind("bind").map(|e| e.keyword).collect();
                match catalogue::best_match(kw, cands.iter().copied()) {
                    Some(b) => self.alert_help(
                        span,
                        format!("{prefix}: unknown keyword '{kw}'; did you mean '{b}' maybe ?"),
                        format!("did you mean '{b}'?"),
                    ),
                    None => self.alert(span, format!("{prefix}: unknown keyword '{kw}'.")),
                }
                return None;
            }
            self.engine_gap("bind", kw, span, &format!("bind {kw}"));
            let takes_value = BIND_WITH_VALUE.contains(&kw) || kw == "expose-fd";
            if takes_value && !line.has(i + 1) {
                let msg = match kw {
                    "alpn" => wrap(format!(
                        "'alpn' : missing the comma-delimited ALPN protocol suite"
                    )),
                    "crt" => wrap(format!("'crt' : missing certificate location")),
                    "ca-file" => wrap(format!("'ca-file' : missing CAfile path")),
                    _ => wrap(format!("'{kw}' : missing value")),
                };
                self.alert(span, msg);
                return None;
            }
            let v = line.arg(i + 1).to_string();
            match kw {
                "ssl" => o.ssl = true,
                "crt" => {
                    let path = with_base(&crt_base, &v);
                    let p = Path::new(&path);
                    match std::fs::metadata(p) {
                        Err(_) => {
                            self.alert(span, wrap(format!("unable to stat SSL certificate from file '{path}' : No such file or directory.")));
                            return None;
                        }
                        Ok(m) if m.is_file() && !is_pem_cert(p) => {
                            self.alert(
                                span,
                                wrap(format!("unable to load certificate from file '{path}'.")),
                            );
                            return None;
                        }
                        Ok(m) => {
                            if let Some(msg) = crt_problem(p, m.is_dir()) {
                                self.alert(span, wrap(format!("{msg}")));
                                return None;
                            }
                            o.crt.push(path)
                        }
                    }
                }
                "crt-list" => {
                    let path = with_base(&crt_base, &v);
                    if !crate::haproxy::parser::config_file_readable(&path) {
                        self.alert(span, wrap(format!("'crt-list' : cannot open file '{path}' : No such file or directory")));
                        return None;
                    }
                    o.crt_list.push(path);
                }
                "ca-file" | "crl-file" | "ca-verify-file" => {
                    let path = with_base(&ca_base, &v);
                    if !crate::haproxy::parser::config_file_readable(&path) {
                        let what = if kw == "crl-file" {
                            "CRLfile"
                        } else {
                            "CAfile"
                        };
                        if kw == "crl-file" {
                            self.alert(
                                span,
                                wrap(format!("unable to load {what} from file '{path}'.")),
                            );
                        } else {
                            self.alert_loc(Loc::None, span, format!("Couldn't open the ca-file '{path}' (No such file or directory)."));
                            self.alert(span, wrap(format!("'ca-file' : unable to load {path}")));
                        }
                        return None;
                    }
                    if kw == "crl-file" {
                        o.crl_file = Some(path);
                    } else {
                        o.ca_file = Some(path);
                    }
                }
                "verify" => {
                    o.verify = Some(match v.as_str() {
                        "none" => VerifyMode::None,
                        "optional" => VerifyMode::Optional,
                        "required" => VerifyMode::Required,
                        _ => {
                            self.alert(span, wrap(format!("'verify' : unknown verify method '{v}', only 'none', 'optional', and 'required' are supported")));
                            return None;
                        }
                    })
                }
                "alpn" => o.alpn = v.split(',').map(str::to_string).collect(),
                "npn" => o.npn = v.split(',').map(str::to_string).collect(),
                "ciphers" => o.ciphers = Some(v.clone()),
                "ciphersuites" => o.ciphersuites = Some(v.clone()),
                "ssl-min-ver" | "ssl-max-ver" => {
                    if !matches!(
                        v.as_str(),
                        "SSLv3" | "TLSv1.0" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3"
                    ) {
                        self.alert(span, wrap(format!("'{v}' : unknown ssl/tls version")));
                        return None;
                    }
                    if kw == "ssl-min-ver" {
                        o.ssl_min_ver = Some(v.clone())
                    } else {
                        o.ssl_max_ver = Some(v.clone())
                    }
                }
                "strict-sni" => o.strict_sni = true,
                "accept-proxy" => o.accept_proxy = true,
                "accept-netscaler-cip" => {
                    o.accept_netscaler_cip = Some(values::atol(&v).max(0) as u32)
                }
                "transparent" => o.transparent = true,
                "v4v6" => o.v4v6 = true,
                "v6only" => o.v6only = true,
                "defer-accept" => o.defer_accept = true,
                "tfo" => o.tfo = true,
                "allow-0rtt" => o.allow_0rtt = true,
                "expose-fd" => o.expose_fd_listeners = v == "listeners",
                "interface" => o.interface = Some(v.clone()),
                "namespace" => o.namespace = Some(v.clone()),
                "name" => o.name = Some(v.clone()),
                "id" => o.id = Some(values::atol(&v)),
                "maxconn" => o.maxconn = Some(values::atol(&v).max(0) as u32),
                "backlog" => o.backlog = Some(values::atol(&v).max(0) as u32),
                "mss" => o.mss = Some(v.clone()),
                "nice" => o.nice = Some(values::atol(&v) as i32),
                "proto" => o.proto = Some(v.clone()),
                "process" => o.process = Some(v.clone()),
                "thread" => o.thread = Some(v.clone()),
                "tcp-ut" => match self.ptime(&v) {
                    Ok(d) => o.tcp_ut = Some(d),
                    Err(_) => {
                        self.alert(
                            span,
                            wrap(format!("'tcp-ut' : unexpected character in '{v}'")),
                        );
                        return None;
                    }
                },
                "level" => {
                    if !matches!(v.as_str(), "user" | "operator" | "admin") {
                        self.alert(
                            span,
                            wrap(format!(
                                "'level' only supports 'user', 'operator', and 'admin' (got '{v}')"
                            )),
                        );
                        return None;
                    }
                    o.level = Some(v.clone())
                }
                "mode" => o.mode = u32::from_str_radix(&v, 8).ok(),
                "user" => o.user = Some(v.clone()),
                "group" => o.group = Some(v.clone()),
                "uid" => o.uid = Some(values::atol(&v).max(0) as u32),
                "gid" => o.gid = Some(values::atol(&v).max(0) as u32),
                _ => {
                    self.unimplemented(span, &format!("bind {kw}"));
                    o.raw.push((
                        kw.to_string(),
                        if takes_value { vec![v.clone()] } else { vec![] },
                    ));
                }
            }
            i += if takes_value { 2 } else { 1 };
        }
        Some(o)
    }

    /// `server`, `default-server`, `server-template`.
    pub(crate) fn server_line(&mut self, line: &Line) {
        let kw = line.arg(0);
        let span = line.span;
        let bracket = |p: &mut Parser, msg: String| p.alert_loc(Loc::Bracket, span, msg);
        let is_default = kw == "default-server";
        let is_template = kw == "server-template";
        match self.px_kind() {
            ProxyKind::Defaults if !is_default => {
                bracket(self, format!("'{kw}' not allowed in 'defaults' section."));
                return;
            }
            ProxyKind::Frontend => {
                let f = self.file_name(span.file);
                let msg = format!(
                    "parsing [{f}:{}] : '{kw}' not allowed because frontend '{}' has no backend capability.",
                    span.line,
                    self.px_name()
                );
                bracket(self, msg);
                return;
            }
            _ => {}
        }
        if is_template && !line.has(3) {
            bracket(
                self,
                format!("'{kw}' expects <prefix> <nb | range> <addr>[:<port>] as arguments."),
            );
            return;
        }
        if !is_default && !is_template && !line.has(2) {
            bracket(
                self,
                format!("'{kw}' expects <name> and <addr>[:<port>] as arguments."),
            );
            return;
        }
        let name = if is_default {
            String::new()
        } else {
            line.arg(1).to_string()
        };
        if !is_default {
            if let Some(c) = super::proxy::invalid_name_char(&name) {
                let what = if is_template { "prefix" } else { "name" };
                bracket(
                    self,
                    format!("character '{c}' is not permitted in {kw} {what} '{name}'."),
                );
                return;
            }
        }
        let mut i = if is_default { 1 } else { 2 };
        let mut range = (0u32, 0u32);
        if is_template {
            let r = line.arg(2);
            let parsed = match r.split_once('-') {
                Some((a, b)) => values::parse_uint(a).zip(values::parse_uint(b)),
                None => values::parse_uint(r).map(|n| (1, n)),
            };
            match parsed {
                Some((lo, hi)) if lo >= 1 && hi >= lo => range = (lo as u32, hi as u32),
                _ => {
                    bracket(self, format!("Wrong {kw} number or range arg '{r}'."));
                    return;
                }
            }
            i = 3;
        }
        let px_name = self.px_name();
        let obj = if is_default {
            String::new()
        } else if is_template {
            format!("'server {px_name}/(null)' : ")
        } else {
            format!("'server {px_name}/{name}' : ")
        };
        let mut srv = self.px().default_server.clone();
        srv.name = name.clone();
        srv.span = span;
        srv.raw.clear();
        if !is_default {
            let addr_text = line.arg(i).to_string();
            let expanded = self.expand_env(&addr_text);
            match values::parse_server_addr(&expanded) {
                Ok(a) => {
                    if let ServerAddr::Inet {
                        host,
                        resolved: None,
                        ..
                    } = &a
                    {
                        if !addr_text.starts_with('[') && !valid_dns_name(host) {
                            let id = if is_template {
                                "(null)".to_string()
                            } else {
                                name.clone()
                            };
                            bracket(
                                self,
                                format!("{obj}Can't create DNS resolution for server '{id}'"),
                            );
                            return;
                        }
                    }
                    srv.addr = a;
                }
                Err(e) => {
                    let msg = e
                        .message()
                        .replace(&format!("'{expanded}'"), &format!("'{addr_text}'"));
                    bracket(self, format!("{obj}{msg}"));
                    return;
                }
            }
            srv.addr_text = addr_text;
            i += 1;
        }
        let mut fatal = false;
        while line.has(i) {
            let o = line.arg(i);
            let known = catalogue::lookup("server", o).is_some() || SERVER_WITH_VALUE.contains(&o);
            if !known {
                let cands: Vec<&str> = catalogue::of_kind("server").map(|e| e.keyword).collect();
                let hint = if is_default {
                    " Hint: no address was expected for this server."
                } else {
                    ""
                };
                let msg = match catalogue::best_match(o, cands.iter().copied()) {
                    Some(b) => {
                        format!("{obj}unknown keyword '{o}'; did you mean '{b}' maybe ?{hint}")
                    }
                    None => format!("{obj}unknown keyword '{o}'.{hint}"),
                };
                bracket(self, msg);
                return;
            }
            self.engine_gap("server", o, span, &format!("server {o}"));
            let takes_value = SERVER_WITH_VALUE.contains(&o) || (o == "source");
            let v = line.arg(i + 1).to_string();
            if takes_value && !line.has(i + 1) && o != "source" {
                let msg = match o {
                    "cookie" | "redir" | "sni" | "check-sni" | "agent-send" => {
                        format!("{obj}'{o}' expects <value> as argument..")
                    }
                    "weight" | "rise" | "fall" | "maxconn" | "maxqueue" | "minconn" | "port" => {
                        format!("{obj}'{o}' expects an integer argument..")
                    }
                    _ => format!("{obj}'{o}' expects <value> as argument.."),
                };
                bracket(self, msg);
                return;
            }
            let time = |p: &mut Parser, what: &str, v: &str| -> Option<std::time::Duration> {
                match p.ptime(v) {
                    Ok(d) if !d.is_zero() => Some(d),
                    Ok(_) => {
                        p.alert_loc(
                            Loc::Bracket,
                            span,
                            format!(
                                "{obj}invalid value 0 for argument '{what}' of server {name}.."
                            ),
                        );
                        None
                    }
                    Err(TimeError::BadChar(c)) => {
                        let label = if matches!(
                            what,
                            "inter" | "fastinter" | "downinter" | "agent-inter"
                        ) {
                            "agent-inter"
                        } else {
                            what
                        };
                        p.alert_loc(Loc::Bracket, span, format!("{obj}unexpected character '{c}' in '{label}' argument of server {name}.."));
                        None
                    }
                    Err(_) => {
                        p.alert_loc(Loc::Bracket, span, format!("{obj}timer overflow in argument '{v}' to '{what}' of server {name}, maximum value is 2147483647 ms (~24.8 days).."));
                        None
                    }
                }
            };
            match o {
                "check" => srv.check = true,
                "no-check" => srv.check = false,
                "check-ssl" => srv.check_ssl = true,
                "no-check-ssl" => srv.check_ssl = false,
                "check-send-proxy" => srv.check_send_proxy = true,
                "check-sni" => srv.check_sni = Some(v.clone()),
                "check-alpn" => srv.check_alpn = v.split(',').map(str::to_string).collect(),
                "check-proto" => srv.check_proto = Some(v.clone()),
                "check-via-socks4" => srv.check_via_socks4 = true,
                "inter" | "fastinter" | "downinter" | "agent-inter" | "slowstart"
                | "pool-purge-delay" => {
                    let Some(d) = time(self, o, &v) else {
                        fatal = true;
                        break;
                    };
                    match o {
                        "inter" => srv.inter = d,
                        "fastinter" => srv.fastinter = Some(d),
                        "downinter" => srv.downinter = Some(d),
                        "agent-inter" => srv.agent_inter = Some(d),
                        "slowstart" => srv.slowstart = Some(d),
                        _ => srv.pool_purge_delay = Some(d),
                    }
                }
                "rise" | "fall" => {
                    let n = values::atol(&v);
                    if n <= 0 {
                        bracket(self, format!("{obj}'{o}' has to be > 0.."));
                        return;
                    }
                    if o == "rise" {
                        srv.rise = n as u32
                    } else {
                        srv.fall = n as u32
                    }
                }
                "weight" => {
                    let n = values::atol(&v);
                    if !(0..=256).contains(&n) {
                        bracket(
                            self,
                            format!("{obj}weight of server {name} is not within 0 and 256 ({n}).."),
                        );
                        return;
                    }
                    srv.weight = n as u32;
                }
                "backup" => srv.backup = true,
                "no-backup" => srv.backup = false,
                "disabled" => srv.disabled = true,
                "enabled" => srv.disabled = false,
                "maxconn" => srv.maxconn = Some(values::atol(&v).max(0) as u32),
                "minconn" => srv.minconn = Some(values::atol(&v).max(0) as u32),
                "maxqueue" => srv.maxqueue = Some(values::atol(&v).max(0) as u32),
                "cookie" => srv.cookie = Some(v.clone()),
                "port" => srv.check_port = Some(values::atol(&v).clamp(0, 65535) as u16),
                "addr" => srv.check_addr = Some(v.clone()),
                "agent-check" => srv.agent_check = true,
                "no-agent-check" => srv.agent_check = false,
                "agent-port" => srv.agent_port = Some(values::atol(&v).clamp(0, 65535) as u16),
                "agent-addr" => {
                    let expanded = self.expand_env(&v);
                    if expanded.is_empty() || values::resolve_host(&expanded).is_none() {
                        bracket(self, format!("{obj}parsing agent-addr failed. Check if '{v}' is correct address.."));
                        return;
                    }
                    srv.agent_addr = Some(v.clone());
                }
                "socks4" => {
                    let expanded = self.expand_env(&v);
                    let port_ok = expanded
                        .rsplit_once(':')
                        .map(|(_, p)| !p.is_empty())
                        .unwrap_or(false);
                    if !port_ok {
                        bracket(
                            self,
                            format!("{obj}'socks4 {v}' : missing port specification in '{v}'."),
                        );
                        return;
                    }
                    srv.raw.push(("socks4".into(), vec![v.clone()]));
                }
                "agent-send" => srv.agent_send = Some(v.clone()),
                "ssl" => srv.ssl = true,
                "no-ssl" => srv.ssl = false,
                "verify" => {
                    srv.verify = Some(match v.as_str() {
                        "none" => VerifyMode::None,
                        "required" => VerifyMode::Required,
                        _ => {
                            bracket(self, format!("{obj}'verify' : unknown verify method '{v}', only 'none' and 'required' are supported.."));
                            return;
                        }
                    })
                }
                "verifyhost" => srv.verifyhost = Some(v.clone()),
                "no-verifyhost" => srv.verifyhost = None,
                "ca-file" => {
                    let path = with_base(&self.cfg.global.ca_base, &v);
                    if !crate::haproxy::parser::config_file_readable(&path) {
                        bracket(self, format!("{obj}Couldn't open the ca-file '{path}' (No such file or directory)."));
                        self.alert_loc(
                            Loc::None,
                            span,
                            format!("'ca-file' : unable to load {path}."),
                        );
                        return;
                    }
                    srv.ca_file = Some(path);
                }
                "crt" => {
                    let path = with_base(&self.cfg.global.crt_base, &v);
                    if std::fs::metadata(&path).is_err() {
                        // reported when haproxy prepares the server's SSL context (after parsing),
                        // and only for SSL servers
                        if srv.ssl || (i + 2..line.len()).any(|k| line.arg(k) == "ssl") {
                            self.defer_alert(
                                Loc::Bracket,
                                span,
                                format!("{obj}unable to stat SSL certificate from file '{path}' : No such file or directory."),
                            );
                        }
                    }
                    srv.crt = Some(path);
                }
                "sni" => srv.sni = Some(v.clone()),
                "alpn" => srv.alpn = v.split(',').map(str::to_string).collect(),
                "ciphers" => srv.ciphers = Some(v.clone()),
                "ssl-min-ver" => srv.ssl_min_ver = Some(v.clone()),
                "ssl-max-ver" => srv.ssl_max_ver = Some(v.clone()),
                "no-sslv3" => srv.no_sslv3 = true,
                "no-tlsv10" => srv.no_tlsv10 = true,
                "no-tlsv11" => srv.no_tlsv11 = true,
                "send-proxy" => srv.send_proxy = true,
                "no-send-proxy" => srv.send_proxy = false,
                "send-proxy-v2" => srv.send_proxy_v2 = true,
                "no-send-proxy-v2" => srv.send_proxy_v2 = false,
                "send-proxy-v2-ssl" => srv.send_proxy_v2_ssl = true,
                "send-proxy-v2-ssl-cn" => srv.send_proxy_v2_ssl_cn = true,
                "init-addr" => {
                    let mut methods = Vec::new();
                    for m in v.split(',') {
                        methods.push(match m {
                            "last" => InitAddr::Last,
                            "libc" => InitAddr::Libc,
                            "none" => InitAddr::None,
                            other => match values::resolve_host(other) {
                                Some(ip) if other.parse::<std::net::IpAddr>().is_ok() => InitAddr::Ip(ip),
                                _ => {
                                    bracket(self, format!("{obj}'init-addr' : unknown init-addr method '{other}', supported methods are 'libc', 'last', 'none'.."));
                                    return;
                                }
                            },
                        });
                    }
                    srv.init_addr = methods;
                }
                "resolvers" => srv.resolvers = Some(v.clone()),
                "resolve-prefer" => {
                    if !matches!(v.as_str(), "ipv4" | "ipv6") {
                        bracket(
                            self,
                            format!(
                                "{obj}'resolve-prefer' expects either ipv4 or ipv6 as argument.."
                            ),
                        );
                        return;
                    }
                    srv.resolve_prefer = Some(v.clone());
                }
                "resolve-net" => srv.resolve_net = v.split(',').map(str::to_string).collect(),
                "on-error" => srv.on_error = Some(v.clone()),
                "on-marked-down" => {
                    if v != "shutdown-sessions" {
                        bracket(
                            self,
                            format!(
                                "{obj}'on-marked-down' expects 'shutdown-sessions' but got '{v}'."
                            ),
                        );
                        return;
                    }
                    srv.on_marked_down = Some(v.clone());
                }
                "on-marked-up" => {
                    if v != "shutdown-backup-sessions" {
                        bracket(self, format!("{obj}'on-marked-up' expects 'shutdown-backup-sessions' but got '{v}'."));
                        return;
                    }
                    srv.on_marked_up = Some(v.clone());
                }
                "error-limit" => srv.error_limit = Some(values::atol(&v).max(0) as u32),
                "observe" => {
                    if !matches!(v.as_str(), "none" | "layer4" | "layer7") {
                        bracket(self, format!("{obj}'observe' expects one of 'none', 'layer4', 'layer7' but got '{v}'."));
                        return;
                    }
                    if v == "layer7" && self.px_ref_mode() != ProxyMode::Http {
                        // haproxy prints this alert but does not fail the configuration
                        self.push(
                            crate::diag::Severity::Error,
                            Loc::Bracket,
                            Some(span),
                            format!("{obj}'layer7' can only be used in http proxies.."),
                            None,
                        );
                        if let Some(f) = self.findings.last_mut() {
                            f.fatal = false;
                        }
                        self.fatal_count = self.fatal_count.saturating_sub(1);
                    }
                    srv.observe = Some(v.clone());
                }
                "redir" => srv.redir = Some(v.clone()),
                "track" => srv.track = Some(v.clone()),
                "source" => {
                    // "source addr[:port] [usesrc ...] [interface name]": consume the rest
                    srv.source = Some(line.args_from(i + 1).join(" "));
                    break;
                }
                "proto" => srv.proto = Some(v.clone()),
                "pool-max-conn" => srv.pool_max_conn = Some(values::atol(&v)),
                "tfo" => srv.tfo = true,
                "namespace" => srv.namespace = Some(v.clone()),
                "id" => {
                    if is_default {
                        bracket(
                            self,
                            format!("'{o}' option is not accepted in default-server sections"),
                        );
                    } else {
                        let n = values::atol(&v);
                        if n <= 0 {
                            bracket(self, format!("{obj}'id' : custom id has to be > 0."));
                            return;
                        }
                        let used = self
                            .px()
                            .servers
                            .iter()
                            .find(|s| s.id == Some(n))
                            .map(|s| (s.name.clone(), s.span));
                        if let Some((other, sp)) = used {
                            let f = self.file_name(sp.file);
                            bracket(self, format!("{obj}'id' : custom id {n} already used at {f}:{} ('server {other}').", sp.line));
                            return;
                        }
                        srv.id = Some(n);
                    }
                }
                _ => {
                    self.unimplemented(span, &format!("server {o}"));
                    srv.raw.push((
                        o.to_string(),
                        if takes_value { vec![v.clone()] } else { vec![] },
                    ));
                }
            }
            i += if takes_value { 2 } else { 1 };
        }
        if fatal {
            return;
        }
        if is_default {
            self.px().default_server = srv;
            return;
        }
        if is_template {
            let addr_text = srv.addr_text.clone();
            self.px().server_templates.push(ServerTemplate {
                prefix: name.clone(),
                low: range.0,
                high: range.1,
                addr_text,
                span,
            });
            for n in range.0..=range.1.min(range.0.saturating_add(10_000)) {
                let mut s = srv.clone();
                s.name = format!("{name}{n}");
                self.px().servers.push(s);
            }
            return;
        }
        self.px().servers.push(srv);
    }
}

/// Whether haproxy can prepare a DNS query name for this host: it refuses empty labels
/// (leading or doubled dots; `$VAR.x` with VAR unset becomes `.x`).
pub fn valid_dns_name(host: &str) -> bool {
    !host.starts_with('.') && !host.contains("..")
}

/// Why an inherited file descriptor cannot be used as a listener, if it cannot.
fn fd_not_socket(fd: i32) -> Option<&'static str> {
    let mut ty: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `ty`, which is a valid c_int.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            &mut ty as *mut libc::c_int as *mut libc::c_void,
            &mut len,
        )
    };
    if rc == 0 {
        return None;
    }
    match std::io::Error::last_os_error().raw_os_error() {
        Some(libc::ENOTSOCK) => Some("Socket operation on non-socket"),
        Some(libc::EBADF) => Some("Bad file descriptor"),
        _ => Some("Invalid argument"),
    }
}

/// haproxy's complaint about a certificate file or directory, if any: every certificate
/// needs its private key, in the same PEM file or in `FILE.key`.
fn crt_problem(path: &Path, is_dir: bool) -> Option<String> {
    let files: Vec<std::path::PathBuf> = if is_dir {
        let mut v: Vec<_> = std::fs::read_dir(path)
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .filter(|p| {
                let n = p.to_string_lossy();
                ![".key", ".ocsp", ".issuer", ".sctl", ".dh"]
                    .iter()
                    .any(|s| n.ends_with(s))
            })
            .collect();
        v.sort();
        v
    } else {
        vec![path.to_path_buf()]
    };
    for f in files {
        let text = read_capped(&f);
        let shown = f.to_string_lossy().replace("//", "/");
        if !text.contains("-----BEGIN CERTIFICATE-----")
            && !text.contains("-----BEGIN TRUSTED CERTIFICATE-----")
        {
            if is_dir {
                continue;
            }
            return Some(format!("unable to load certificate from file '{shown}'."));
        }
        if !text.contains("PRIVATE KEY-----") {
            let key = format!("{}.key", f.to_string_lossy());
            if !read_capped(Path::new(&key)).contains("PRIVATE KEY-----") {
                return Some(format!(
                    "No Private Key found in '{}'.",
                    key.replace("//", "/")
                ));
            }
        }
    }
    None
}

/// Reads at most 4 MiB of a file (certificates, keys), lossily as text; "" when unreadable.
pub(crate) fn read_capped(path: &Path) -> String {
    let buf = crate::haproxy::parser::read_config_file(path).unwrap_or_default();
    String::from_utf8_lossy(&buf).into_owned()
}

impl Parser {
    /// Mode of the proxy being parsed.
    pub(crate) fn px_ref_mode(&self) -> ProxyMode {
        match self.section {
            super::Section::Defaults(i) => {
                self.cfg.defaults.get(i).map(|p| p.mode).unwrap_or_default()
            }
            super::Section::Proxy(i) => self.cfg.proxies.get(i).map(|p| p.mode).unwrap_or_default(),
            _ => ProxyMode::Tcp,
        }
    }
}

//! IR → haproxy.cfg text. Used by `rhaproxy -c --dump` (the resolved configuration: every
//! proxy printed with what it inherited from its defaults) and by the round-trip tests.
//! The output parses back to the same IR (modulo spans).

use std::fmt::Write;
use std::time::Duration;

use crate::haproxy::ir::*;

/// Quotes a word for the lexer when needed (single quotes keep everything literal).
pub fn quote(w: &str) -> String {
    if !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '#' | '\'' | '"' | '\\' | '$'))
    {
        return w.to_string();
    }
    if !w.contains('\'') {
        return format!("'{w}'");
    }
    let mut s = String::from("\"");
    for c in w.chars() {
        match c {
            '"' | '\\' | '$' => {
                s.push('\\');
                s.push(c);
            }
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            _ => s.push(c),
        }
    }
    s.push('"');
    s
}

/// A duration in the largest exact unit.
pub fn time(d: Duration) -> String {
    let us = d.as_micros();
    if us % 1000 != 0 {
        return format!("{us}us");
    }
    let ms = us / 1000;
    for (unit, n) in [
        ("d", 86_400_000u128),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
    ] {
        if ms > 0 && ms % n == 0 {
            return format!("{}{unit}", ms / n);
        }
    }
    format!("{ms}ms")
}

fn listen_addr(a: &ListenAddr) -> String {
    match a {
        ListenAddr::Inet { ip, ports, v6only } => {
            let port = if ports.low == ports.high {
                ports.low.to_string()
            } else {
                format!("{}-{}", ports.low, ports.high)
            };
            let prefix = if *v6only { "ipv6@" } else { "" };
            match ip {
                std::net::IpAddr::V6(v6) => format!("{prefix}[{v6}]:{port}"),
                std::net::IpAddr::V4(v4) => format!("{prefix}{v4}:{port}"),
            }
        }
        ListenAddr::Unix { path } => format!("unix@{path}"),
        ListenAddr::Abns { name } => format!("abns@{name}"),
        ListenAddr::Fd { fd } => format!("fd@{fd}"),
        ListenAddr::SockPair { fd } => format!("sockpair@{fd}"),
    }
}

fn server_addr(s: &Server) -> String {
    match &s.addr {
        ServerAddr::None => s.addr_text.clone(),
        ServerAddr::Inet { host, port, .. } => {
            let h = if host.contains(':') {
                format!("[{host}]")
            } else {
                host.clone()
            };
            match port {
                ServerPort::None => h,
                ServerPort::Fixed(p) => format!("{h}:{p}"),
                ServerPort::Offset(o) if *o >= 0 => format!("{h}:+{o}"),
                ServerPort::Offset(o) => format!("{h}:{o}"),
            }
        }
        ServerAddr::Unix { path } => format!("unix@{path}"),
        ServerAddr::Abns { name } => format!("abns@{name}"),
        ServerAddr::SockPair { fd } => format!("sockpair@{fd}"),
    }
}

fn bind_options(o: &BindOptions) -> String {
    let mut w: Vec<String> = Vec::new();
    let mut kv = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            w.push(k.into());
            w.push(quote(v));
        }
    };
    kv("name", &o.name);
    kv("ca-file", &o.ca_file);
    kv("crl-file", &o.crl_file);
    kv("ciphers", &o.ciphers);
    kv("ciphersuites", &o.ciphersuites);
    kv("ssl-min-ver", &o.ssl_min_ver);
    kv("ssl-max-ver", &o.ssl_max_ver);
    kv("interface", &o.interface);
    kv("namespace", &o.namespace);
    kv("proto", &o.proto);
    kv("process", &o.process);
    kv("thread", &o.thread);
    kv("level", &o.level);
    kv("user", &o.user);
    kv("group", &o.group);
    if o.ssl {
        w.push("ssl".into());
    }
    for c in &o.crt {
        w.push("crt".into());
        w.push(quote(c));
    }
    for c in &o.crt_list {
        w.push("crt-list".into());
        w.push(quote(c));
    }
    if let Some(v) = o.verify {
        w.push("verify".into());
        w.push(
            match v {
                VerifyMode::None => "none",
                VerifyMode::Optional => "optional",
                VerifyMode::Required => "required",
            }
            .into(),
        );
    }
    if !o.alpn.is_empty() {
        w.push("alpn".into());
        w.push(quote(&o.alpn.join(",")));
    }
    for (flag, on) in [
        ("strict-sni", o.strict_sni),
        ("accept-proxy", o.accept_proxy),
        ("transparent", o.transparent),
        ("v4v6", o.v4v6),
        ("v6only", o.v6only),
        ("defer-accept", o.defer_accept),
        ("tfo", o.tfo),
        ("allow-0rtt", o.allow_0rtt),
    ] {
        if on {
            w.push(flag.into());
        }
    }
    if let Some(id) = o.id {
        w.push(format!("id {id}"));
    }
    if let Some(m) = o.maxconn {
        w.push(format!("maxconn {m}"));
    }
    if let Some(m) = o.backlog {
        w.push(format!("backlog {m}"));
    }
    if let Some(d) = o.tcp_ut {
        w.push(format!("tcp-ut {}", time(d)));
    }
    if let Some(m) = o.mode {
        w.push(format!("mode {m:o}"));
    }
    for (k, v) in &o.raw {
        w.push(k.clone());
        w.extend(v.iter().map(|x| quote(x)));
    }
    w.join(" ")
}

fn server_options(s: &Server) -> String {
    let d = Server::default();
    let mut w: Vec<String> = Vec::new();
    let flags = [
        ("check", s.check),
        ("check-ssl", s.check_ssl),
        ("check-send-proxy", s.check_send_proxy),
        ("backup", s.backup),
        ("disabled", s.disabled),
        ("ssl", s.ssl),
        ("send-proxy", s.send_proxy),
        ("send-proxy-v2", s.send_proxy_v2),
        ("send-proxy-v2-ssl", s.send_proxy_v2_ssl),
        ("send-proxy-v2-ssl-cn", s.send_proxy_v2_ssl_cn),
        ("agent-check", s.agent_check),
        ("no-sslv3", s.no_sslv3),
        ("no-tlsv10", s.no_tlsv10),
        ("no-tlsv11", s.no_tlsv11),
        ("tfo", s.tfo),
    ];
    for (f, on) in flags {
        if on {
            w.push(f.into());
        }
    }
    if s.inter != d.inter {
        w.push(format!("inter {}", time(s.inter)));
    }
    for (k, v) in [
        ("fastinter", s.fastinter),
        ("downinter", s.downinter),
        ("slowstart", s.slowstart),
        ("agent-inter", s.agent_inter),
    ] {
        if let Some(v) = v {
            w.push(format!("{k} {}", time(v)));
        }
    }
    if s.rise != d.rise {
        w.push(format!("rise {}", s.rise));
    }
    if s.fall != d.fall {
        w.push(format!("fall {}", s.fall));
    }
    if s.weight != d.weight {
        w.push(format!("weight {}", s.weight));
    }
    for (k, v) in [
        ("maxconn", s.maxconn),
        ("minconn", s.minconn),
        ("maxqueue", s.maxqueue),
        ("error-limit", s.error_limit),
    ] {
        if let Some(v) = v {
            w.push(format!("{k} {v}"));
        }
    }
    if let Some(p) = s.check_port {
        w.push(format!("port {p}"));
    }
    if let Some(p) = s.agent_port {
        w.push(format!("agent-port {p}"));
    }
    let strs = [
        ("cookie", &s.cookie),
        ("addr", &s.check_addr),
        ("agent-addr", &s.agent_addr),
        ("agent-send", &s.agent_send),
        ("verifyhost", &s.verifyhost),
        ("ca-file", &s.ca_file),
        ("crt", &s.crt),
        ("sni", &s.sni),
        ("check-sni", &s.check_sni),
        ("check-proto", &s.check_proto),
        ("ciphers", &s.ciphers),
        ("ssl-min-ver", &s.ssl_min_ver),
        ("ssl-max-ver", &s.ssl_max_ver),
        ("resolvers", &s.resolvers),
        ("resolve-prefer", &s.resolve_prefer),
        ("on-error", &s.on_error),
        ("on-marked-down", &s.on_marked_down),
        ("on-marked-up", &s.on_marked_up),
        ("observe", &s.observe),
        ("redir", &s.redir),
        ("track", &s.track),
        ("proto", &s.proto),
        ("namespace", &s.namespace),
    ];
    for (k, v) in strs {
        if let Some(v) = v {
            w.push(format!("{k} {}", quote(v)));
        }
    }
    if let Some(v) = s.verify {
        w.push(format!(
            "verify {}",
            if v == VerifyMode::Required {
                "required"
            } else {
                "none"
            }
        ));
    }
    if !s.alpn.is_empty() {
        w.push(format!("alpn {}", quote(&s.alpn.join(","))));
    }
    if !s.init_addr.is_empty() {
        let m: Vec<String> = s
            .init_addr
            .iter()
            .map(|m| match m {
                InitAddr::Last => "last".to_string(),
                InitAddr::Libc => "libc".to_string(),
                InitAddr::None => "none".to_string(),
                InitAddr::Ip(ip) => ip.to_string(),
            })
            .collect();
        w.push(format!("init-addr {}", m.join(",")));
    }
    if let Some(id) = s.id {
        w.push(format!("id {id}"));
    }
    for (k, v) in &s.raw {
        w.push(k.clone());
        w.extend(v.iter().map(|x| quote(x)));
    }
    if let Some(src) = &s.source {
        w.push(format!("source {src}"));
    }
    w.join(" ")
}

fn cond(c: &Option<Condition>) -> String {
    match c {
        None => String::new(),
        Some(c) => {
            let mut s = String::from(if c.polarity == Polarity::If {
                " if"
            } else {
                " unless"
            });
            for (i, and) in c.terms.iter().enumerate() {
                if i > 0 {
                    s.push_str(" ||");
                }
                for t in and {
                    s.push(' ');
                    if t.negated {
                        s.push('!');
                    }
                    match &t.acl {
                        AclRef::Named(n) => s.push_str(n),
                        AclRef::Anonymous(a) => {
                            s.push_str("{ ");
                            s.push_str(&acl_body(a));
                            s.push_str(" }");
                        }
                    }
                }
            }
            s
        }
    }
}

fn sample_expr(e: &SampleExpr) -> String {
    let mut s = e.fetch.clone();
    if !e.args.is_empty() {
        let _ = write!(s, "({})", e.args.join(","));
    }
    for c in &e.converters {
        s.push(',');
        s.push_str(&c.name);
        if !c.args.is_empty() {
            let _ = write!(s, "({})", c.args.join(","));
        }
    }
    s
}

fn acl_body(a: &Acl) -> String {
    let mut w = vec![quote(&sample_expr(&a.expr))];
    if a.flags.ignore_case {
        w.push("-i".into());
    }
    if let Some(m) = a.flags.match_method {
        w.push(format!("-m {}", format!("{m:?}").to_lowercase()));
    }
    for p in &a.patterns {
        match p {
            Pattern::Value(v) => w.push(quote(v)),
            Pattern::Regex(r) => w.push(quote(r.0.as_str())),
        }
    }
    w.join(" ")
}

/// The reply arguments of deny/tarpit/return/http-error, with a leading space.
fn reply_args(
    status: Option<(&str, u16)>,
    content_type: &Option<String>,
    body: &Option<ReturnBody>,
    headers: &[(String, LogFormat)],
) -> String {
    let mut s = String::new();
    if let Some((kw, st)) = status {
        let _ = write!(s, " {kw} {st}");
    }
    if let Some(ct) = content_type {
        let _ = write!(s, " content-type {}", quote(ct));
    }
    match body {
        Some(ReturnBody::String(b)) => {
            let _ = write!(s, " string {}", quote(b));
        }
        Some(ReturnBody::LfString(f)) => {
            let _ = write!(s, " lf-string {}", quote(&f.text));
        }
        Some(ReturnBody::File(f)) => {
            let _ = write!(s, " file {}", quote(f));
        }
        Some(ReturnBody::LfFile(f)) => {
            let _ = write!(s, " lf-file {}", quote(f));
        }
        Some(ReturnBody::Errorfile(f)) => {
            let _ = write!(s, " errorfile {}", quote(f));
        }
        Some(ReturnBody::Errorfiles { section, .. }) => {
            let _ = write!(s, " errorfiles {}", quote(section));
        }
        Some(ReturnBody::DefaultErrorfiles) => s.push_str(" default-errorfiles"),
        None => {}
    }
    for (n, v) in headers {
        let _ = write!(s, " hdr {} {}", quote(n), quote(&v.text));
    }
    s
}

fn http_action(a: &HttpAction) -> String {
    match a {
        HttpAction::Allow => "allow".into(),
        HttpAction::Deny {
            status,
            content_type,
            body,
            headers,
        } => format!(
            "deny{}",
            reply_args(
                status.map(|s| ("deny_status", s)),
                content_type,
                body,
                headers
            )
        ),
        HttpAction::Tarpit {
            status,
            content_type,
            body,
            headers,
        } => format!(
            "tarpit{}",
            reply_args(
                status.map(|s| ("deny_status", s)),
                content_type,
                body,
                headers
            )
        ),
        HttpAction::Auth { realm } => match realm {
            Some(r) => format!("auth realm {}", quote(r)),
            None => "auth".into(),
        },
        HttpAction::Redirect(r) => format!("redirect {}", redirect(r)),
        HttpAction::SetHeader { name, value } => {
            format!("set-header {} {}", quote(name), quote(&value.text))
        }
        HttpAction::AddHeader { name, value } => {
            format!("add-header {} {}", quote(name), quote(&value.text))
        }
        HttpAction::EarlyHint { name, value } => {
            format!("early-hint {} {}", quote(name), quote(&value.text))
        }
        HttpAction::DelHeader { name, method } => match method {
            Some(m) => format!("del-header {} -m {m}", quote(name)),
            None => format!("del-header {}", quote(name)),
        },
        HttpAction::ReplaceHeader {
            name,
            regex,
            replace,
        } => {
            format!(
                "replace-header {} {} {}",
                quote(name),
                quote(regex.0.as_str()),
                quote(replace)
            )
        }
        HttpAction::ReplaceValue {
            name,
            regex,
            replace,
        } => {
            format!(
                "replace-value {} {} {}",
                quote(name),
                quote(regex.0.as_str()),
                quote(replace)
            )
        }
        HttpAction::SetPath(f) => format!("set-path {}", quote(&f.text)),
        HttpAction::SetPathq(f) => format!("set-pathq {}", quote(&f.text)),
        HttpAction::SetQuery(f) => format!("set-query {}", quote(&f.text)),
        HttpAction::SetUri(f) => format!("set-uri {}", quote(&f.text)),
        HttpAction::SetMethod(f) => format!("set-method {}", quote(&f.text)),
        HttpAction::ReplacePath { regex, replace } => format!(
            "replace-path {} {}",
            quote(regex.0.as_str()),
            quote(replace)
        ),
        HttpAction::ReplacePathq { regex, replace } => format!(
            "replace-pathq {} {}",
            quote(regex.0.as_str()),
            quote(replace)
        ),
        HttpAction::ReplaceUri { regex, replace } => {
            format!("replace-uri {} {}", quote(regex.0.as_str()), quote(replace))
        }
        HttpAction::SetVar { name, expr } => {
            format!("set-var({name}) {}", quote(&sample_expr(expr)))
        }
        HttpAction::SetVarFmt { name, format } => {
            format!("set-var-fmt({name}) {}", quote(&format.text))
        }
        HttpAction::UnsetVar { name } => format!("unset-var({name})"),
        HttpAction::SetStatus { code, reason } => match reason {
            Some(r) => format!("set-status {code} reason {}", quote(r)),
            None => format!("set-status {code}"),
        },
        HttpAction::Return {
            status,
            content_type,
            body,
            headers,
        } => format!(
            "return{}",
            reply_args(Some(("status", *status)), content_type, body, headers)
        ),
        HttpAction::SetLogLevel(l) => format!("set-log-level {l}"),
        HttpAction::SetNice(n) => format!("set-nice {n}"),
        HttpAction::SetTos(t) => format!("set-tos {t}"),
        HttpAction::SetMark(m) => format!("set-mark {m}"),
        HttpAction::SetDst(e) => format!("set-dst {}", quote(&sample_expr(e))),
        HttpAction::SetDstPort(e) => format!("set-dst-port {}", quote(&sample_expr(e))),
        HttpAction::SetSrc(e) => format!("set-src {}", quote(&sample_expr(e))),
        HttpAction::SetSrcPort(e) => format!("set-src-port {}", quote(&sample_expr(e))),
        HttpAction::TrackSc { index, key, table } => match table {
            Some(t) => format!(
                "track-sc{index} {} table {}",
                quote(&sample_expr(key)),
                quote(t)
            ),
            None => format!("track-sc{index} {}", quote(&sample_expr(key))),
        },
        HttpAction::ScIncGpc { index, counter } => format!("sc-inc-gpc{counter}({index})"),
        HttpAction::CaptureSample { expr, len, id } => {
            let mut s = format!("capture {}", quote(&sample_expr(expr)));
            if let Some(l) = len {
                let _ = write!(s, " len {l}");
            }
            if let Some(i) = id {
                let _ = write!(s, " id {i}");
            }
            s
        }
        HttpAction::DoResolve {
            var,
            resolvers,
            expr,
        } => format!(
            "do-resolve({var},{resolvers}) {}",
            quote(&sample_expr(expr))
        ),
        HttpAction::UseService(s) => format!("use-service {s}"),
        HttpAction::Lua { name, args } => words(&format!("lua.{name}"), args),
        HttpAction::SilentDrop => "silent-drop".into(),
        HttpAction::Reject => "reject".into(),
        HttpAction::NormalizeUri(a) => words("normalize-uri", a),
        HttpAction::WaitForBody(a) => words("wait-for-body", a),
        HttpAction::CacheUse(c) => format!("cache-use {c}"),
        HttpAction::CacheStore(c) => format!("cache-store {c}"),
        HttpAction::Raw { action, args } => words(action, args),
    }
}

fn words(first: &str, rest: &[String]) -> String {
    let mut s = first.to_string();
    for r in rest {
        s.push(' ');
        s.push_str(&quote(r));
    }
    s
}

fn redirect(r: &Redirect) -> String {
    let kind = match r.kind {
        RedirectKind::Location => "location",
        RedirectKind::Prefix => "prefix",
        RedirectKind::Scheme => "scheme",
    };
    let mut s = format!("{kind} {}", quote(&r.target.text));
    if r.code != 302 {
        let _ = write!(s, " code {}", r.code);
    }
    if r.drop_query {
        s.push_str(" drop-query");
    }
    if r.ignore_empty {
        s.push_str(" ignore-empty");
    }
    if r.append_slash {
        s.push_str(" append-slash");
    }
    if let Some(c) = &r.set_cookie {
        let _ = write!(s, " set-cookie {}", quote(c));
    }
    if let Some(c) = &r.clear_cookie {
        let _ = write!(s, " clear-cookie {}", quote(c));
    }
    s
}

fn tcp_action(a: &TcpAction) -> String {
    match a {
        TcpAction::Accept => "accept".into(),
        TcpAction::Reject => "reject".into(),
        TcpAction::SilentDrop => "silent-drop".into(),
        TcpAction::ExpectProxy => "expect-proxy layer4".into(),
        TcpAction::ExpectNetscalerCip => "expect-netscaler-cip layer4".into(),
        TcpAction::Capture { expr, len } => {
            format!("capture {} len {len}", quote(&sample_expr(expr)))
        }
        TcpAction::TrackSc { index, key, table } => match table {
            Some(t) => format!(
                "track-sc{index} {} table {}",
                quote(&sample_expr(key)),
                quote(t)
            ),
            None => format!("track-sc{index} {}", quote(&sample_expr(key))),
        },
        TcpAction::SetVar { name, expr } => {
            format!("set-var({name}) {}", quote(&sample_expr(expr)))
        }
        TcpAction::UnsetVar { name } => format!("unset-var({name})"),
        TcpAction::SetDst(e) => format!("set-dst {}", quote(&sample_expr(e))),
        TcpAction::SetSrc(e) => format!("set-src {}", quote(&sample_expr(e))),
        TcpAction::UseService(s) => format!("use-service {s}"),
        TcpAction::Lua { name, args } => words(&format!("lua.{name}"), args),
        TcpAction::Close => "close".into(),
        TcpAction::Raw { action, args } => words(action, args),
    }
}

fn balance(b: &BalanceAlgo) -> String {
    match b {
        BalanceAlgo::RoundRobin => "roundrobin".into(),
        BalanceAlgo::StaticRr => "static-rr".into(),
        BalanceAlgo::LeastConn => "leastconn".into(),
        BalanceAlgo::First => "first".into(),
        BalanceAlgo::Source => "source".into(),
        BalanceAlgo::Uri {
            len,
            depth,
            whole,
            path_only,
        } => {
            let mut s = "uri".to_string();
            if let Some(l) = len {
                let _ = write!(s, " len {l}");
            }
            if let Some(d) = depth {
                let _ = write!(s, " depth {d}");
            }
            if *whole {
                s.push_str(" whole");
            }
            if *path_only {
                s.push_str(" path-only");
            }
            s
        }
        BalanceAlgo::UrlParam { param, check_post } => match check_post {
            Some(n) => format!("url_param {} check_post {n}", quote(param)),
            None => format!("url_param {}", quote(param)),
        },
        BalanceAlgo::Hdr {
            name,
            use_domain_only,
        } => {
            format!(
                "hdr({name}){}",
                if *use_domain_only {
                    " use_domain_only"
                } else {
                    ""
                }
            )
        }
        BalanceAlgo::Random { draws } => format!("random({draws})"),
        BalanceAlgo::RdpCookie { name } => match name {
            Some(n) => format!("rdp-cookie({n})"),
            None => "rdp-cookie".into(),
        },
        BalanceAlgo::Hash { expr } => format!("hash {}", quote(expr)),
    }
}

fn log_target(t: &LogTarget) -> String {
    let dest = match &t.dest {
        LogDest::Global => return "log global".into(),
        LogDest::Stdout => "stdout".to_string(),
        LogDest::Stderr => "stderr".to_string(),
        LogDest::Udp { host, port, .. } => format!("{host}:{port}"),
        LogDest::Tcp { host, port, .. } => format!("tcp@{host}:{port}"),
        LogDest::Unix { path } => path.clone(),
        LogDest::Ring { name } => format!("ring@{name}"),
        LogDest::Fd { fd } => format!("fd@{fd}"),
    };
    let mut s = format!("log {dest}");
    if let Some(l) = t.max_len {
        let _ = write!(s, " len {l}");
    }
    if let Some(f) = &t.format {
        let _ = write!(s, " format {f}");
    }
    if let Some(f) = &t.sample {
        let _ = write!(s, " sample {f}");
    }
    for x in [&t.facility, &t.level, &t.min_level].into_iter().flatten() {
        let _ = write!(s, " {x}");
    }
    s
}

fn print_proxy(out: &mut String, p: &Proxy) {
    let header = if p.kind == ProxyKind::Defaults && p.name.is_empty() {
        "defaults".to_string()
    } else {
        format!("{} {}", p.kind.keyword(), p.name)
    };
    let _ = writeln!(out, "{header}");
    let mut l = |s: String| {
        let _ = writeln!(out, "    {s}");
    };
    l(format!(
        "mode {}",
        match p.mode {
            ProxyMode::Tcp => "tcp",
            ProxyMode::Http => "http",
            ProxyMode::Health => "health",
        }
    ));
    if p.disabled {
        l("disabled".into());
    }
    if let Some(d) = &p.description {
        l(format!("description {}", quote(d)));
    }
    if let Some(id) = p.id {
        l(format!("id {id}"));
    }
    for t in &p.logs {
        l(log_target(t));
    }
    for (k, v) in [
        ("maxconn", p.maxconn),
        ("backlog", p.backlog),
        ("fullconn", p.fullconn),
        ("retries", p.retries),
    ] {
        if let Some(v) = v {
            l(format!("{k} {v}"));
        }
    }
    let t = &p.timeouts;
    // only what applies to this kind of proxy (a frontend ignores backend timeouts)
    let fe = p.kind.has_frontend() || p.kind == ProxyKind::Defaults;
    let be = p.kind.has_backend() || p.kind == ProxyKind::Defaults;
    for (k, v, applies) in [
        ("connect", t.connect, be),
        ("client", t.client, fe),
        ("server", t.server, be),
        ("http-request", t.http_request, true),
        ("http-keep-alive", t.http_keep_alive, true),
        ("queue", t.queue, be),
        ("check", t.check, be),
        ("tunnel", t.tunnel, be),
        ("client-fin", t.client_fin, fe),
        ("server-fin", t.server_fin, be),
        ("tarpit", t.tarpit, true),
    ] {
        if let (Some(v), true) = (v, applies) {
            l(format!("timeout {k} {}", time(v)));
        }
    }
    let o = &p.options;
    for (name, on) in &o.all {
        if matches!(
            name.as_str(),
            "forwardfor"
                | "originalto"
                | "original-to"
                | "httpchk"
                | "httplog"
                | "pgsql-check"
                | "mysql-check"
                | "smtpchk"
        ) {
            continue;
        }
        l(format!("{}option {name}", if *on { "" } else { "no " }));
    }
    if o.httplog {
        l(format!(
            "option httplog{}",
            if o.httplog_clf { " clf" } else { "" }
        ));
    }
    if let Some(ff) = &o.forwardfor {
        let mut s = "option forwardfor".to_string();
        if let Some(e) = ff.except {
            let _ = write!(s, " except {e}");
        }
        if ff.header != "X-Forwarded-For" {
            let _ = write!(s, " header {}", quote(&ff.header));
        }
        if ff.if_none {
            s.push_str(" if-none");
        }
        l(s);
    }
    match &o.check {
        Some(CheckKind::HttpChk(c)) => {
            let mut s = format!("option httpchk {} {}", quote(&c.method), quote(&c.uri));
            if let Some(v) = &c.version {
                let _ = write!(s, " {}", quote(v));
            }
            l(s);
        }
        Some(CheckKind::PgsqlChk { user: Some(u) }) => {
            l(format!("option pgsql-check user {}", quote(u)))
        }
        Some(CheckKind::MysqlChk {
            user: Some(u),
            post41,
        }) => l(format!(
            "option mysql-check user {}{}",
            quote(u),
            if *post41 { "" } else { " pre-41" }
        )),
        Some(CheckKind::SmtpChk {
            hello: Some(h),
            domain: Some(d),
        }) => l(format!("option smtpchk {} {}", quote(h), quote(d))),
        _ => {}
    }
    if let Some(b) = &p.balance {
        l(format!("balance {}", balance(b)));
    }
    if let Some(h) = &p.hash_type {
        let m = if h.method == HashMethod::Consistent {
            "consistent"
        } else {
            "map-based"
        };
        let f = format!("{:?}", h.function).to_lowercase();
        l(format!(
            "hash-type {m} {f}{}",
            if h.avalanche { " avalanche" } else { "" }
        ));
    }
    if let Some(c) = &p.cookie {
        let mut s = format!("cookie {}", quote(&c.name));
        match c.mode {
            CookieMode::Insert => s.push_str(" insert"),
            CookieMode::Rewrite => s.push_str(" rewrite"),
            CookieMode::Prefix => s.push_str(" prefix"),
            CookieMode::Passive => {}
        }
        for (f, on) in [
            ("indirect", c.indirect),
            ("nocache", c.nocache),
            ("postonly", c.postonly),
            ("preserve", c.preserve),
            ("httponly", c.httponly),
            ("secure", c.secure),
            ("dynamic", c.dynamic),
        ] {
            if on {
                let _ = write!(s, " {f}");
            }
        }
        for d in &c.domains {
            let _ = write!(s, " domain {}", quote(d));
        }
        l(s);
    }
    if let Some(f) = &p.log_format {
        l(format!("log-format {}", quote(&f.text)));
    }
    if let Some(f) = &p.unique_id_format {
        l(format!("unique-id-format {}", quote(&f.text)));
    }
    if let Some(h) = &p.unique_id_header {
        l(format!("unique-id-header {}", quote(h)));
    }
    if let Some(u) = &p.monitor_uri {
        l(format!("monitor-uri {}", quote(u)));
    }
    for b in &p.binds {
        let opts = bind_options(&b.options);
        let addrs: Vec<String> = b.addrs.iter().map(listen_addr).collect();
        l(format!(
            "bind {}{}{}",
            addrs.join(","),
            if opts.is_empty() { "" } else { " " },
            opts
        ));
    }
    for a in &p.acls {
        l(format!("acl {} {}", a.name, acl_body(a)));
    }
    if let Some(st) = &p.stick_table {
        let key = match &st.key {
            StickKeyType::Ip => "ip".to_string(),
            StickKeyType::Ipv6 => "ipv6".to_string(),
            StickKeyType::Integer => "integer".to_string(),
            StickKeyType::String { len } => format!("string len {len}"),
            StickKeyType::Binary { len } => format!("binary len {len}"),
        };
        let mut s = format!("stick-table type {key} size {}", st.size);
        if let Some(e) = st.expire {
            let _ = write!(s, " expire {}", time(e));
        }
        if st.nopurge {
            s.push_str(" nopurge");
        }
        if let Some(pr) = &st.peers {
            let _ = write!(s, " peers {pr}");
        }
        if !st.store.is_empty() {
            let _ = write!(s, " store {}", st.store.join(","));
        }
        l(s);
    }
    for r in &p.tcp_request_connection {
        l(format!(
            "tcp-request connection {}{}",
            tcp_action(&r.action),
            cond(&r.cond)
        ));
    }
    for r in &p.tcp_request_session {
        l(format!(
            "tcp-request session {}{}",
            tcp_action(&r.action),
            cond(&r.cond)
        ));
    }
    if let Some(d) = p.tcp_request_inspect_delay {
        l(format!("tcp-request inspect-delay {}", time(d)));
    }
    for r in &p.tcp_request_content {
        l(format!(
            "tcp-request content {}{}",
            tcp_action(&r.action),
            cond(&r.cond)
        ));
    }
    for r in &p.http_request {
        l(format!(
            "http-request {}{}",
            http_action(&r.action),
            cond(&r.cond)
        ));
    }
    for r in &p.http_response {
        l(format!(
            "http-response {}{}",
            http_action(&r.action),
            cond(&r.cond)
        ));
    }
    for r in &p.http_after_response {
        l(format!(
            "http-after-response {}{}",
            http_action(&r.action),
            cond(&r.cond)
        ));
    }
    for r in &p.redirects {
        l(format!(
            "redirect {}{}",
            redirect(&r.redirect),
            cond(&r.cond)
        ));
    }
    for u in &p.use_backends {
        let t = match &u.target {
            BackendRef::Static(s) => s.clone(),
            BackendRef::Dynamic(f) => quote(&f.text),
        };
        l(format!("use_backend {t}{}", cond(&u.cond)));
    }
    if let Some(d) = &p.default_backend {
        let t = match d {
            BackendRef::Static(s) => s.clone(),
            BackendRef::Dynamic(f) => quote(&f.text),
        };
        l(format!("default_backend {t}"));
    }
    let ds = server_options(&p.default_server);
    if !ds.is_empty() {
        l(format!("default-server {ds}"));
    }
    for s in &p.servers {
        let opts = server_options(s);
        l(format!(
            "server {} {}{}{}",
            s.name,
            server_addr(s),
            if opts.is_empty() { "" } else { " " },
            opts
        ));
    }
    for e in &p.errorfiles {
        l(format!("errorfile {} {}", e.status, quote(&e.path)));
    }
    for e in &p.error_replies {
        l(format!(
            "http-error{}",
            reply_args(
                Some(("status", e.status)),
                &e.content_type,
                &e.body,
                &e.headers
            )
        ));
    }
    for r in &p.raw {
        l(words(&r.keyword, &r.args));
    }
    let _ = writeln!(out);
}

/// The whole configuration as text.
pub fn print_config(cfg: &Config) -> String {
    let mut out = String::new();
    let g = &cfg.global;
    let _ = writeln!(out, "global");
    let mut l = |s: String| {
        let _ = writeln!(out, "    {s}");
    };
    if g.daemon {
        l("daemon".into());
    }
    if g.master_worker {
        l("master-worker".into());
    }
    if let Some(n) = g.nbthread {
        l(format!("nbthread {n}"));
    }
    if let Some(n) = g.maxconn {
        l(format!("maxconn {n}"));
    }
    for (k, v) in [
        ("user", &g.user),
        ("group", &g.group),
        ("chroot", &g.chroot),
        ("pidfile", &g.pidfile),
        ("ca-base", &g.ca_base),
        ("crt-base", &g.crt_base),
    ] {
        if let Some(v) = v {
            l(format!("{k} {}", quote(v)));
        }
    }
    for t in &g.logs {
        l(log_target(t));
    }
    for r in &g.raw {
        l(words(&r.keyword, &r.args));
    }
    let _ = writeln!(out);
    // defaults are already folded into every proxy below: show them as comments only
    for d in &cfg.defaults {
        let mut tmp = String::new();
        print_proxy(&mut tmp, d);
        for line in tmp.lines() {
            if !line.is_empty() {
                let _ = writeln!(out, "# {line}");
            }
        }
        let _ = writeln!(out);
    }
    for p in &cfg.proxies {
        print_proxy(&mut out, p);
    }
    for u in &cfg.userlists {
        let _ = writeln!(out, "userlist {}", u.name);
        for g in &u.groups {
            let _ = writeln!(
                out,
                "    group {}{}",
                g.name,
                if g.users.is_empty() {
                    String::new()
                } else {
                    format!(" users {}", g.users.join(","))
                }
            );
        }
        for us in &u.users {
            let pw = match &us.password {
                Password::Secure(p) => format!(" password {}", quote(p)),
                Password::Insecure(p) => format!(" insecure-password {}", quote(p)),
                Password::None => String::new(),
            };
            let groups = if us.groups.is_empty() {
                String::new()
            } else {
                format!(" groups {}", us.groups.join(","))
            };
            let _ = writeln!(out, "    user {}{pw}{groups}", us.name);
        }
        let _ = writeln!(out);
    }
    out
}

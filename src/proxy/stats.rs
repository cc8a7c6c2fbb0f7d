//! The stats page (`stats enable|uri|realm|auth|refresh|hide-version`): an HTML report and
//! the `;csv` export with HAProxy 2.6's CSV columns.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use super::runtime::{unix_now, Backend, Counters, Frontend, Runtime, Server};
use super::server_state::CheckStatus;
use crate::haproxy::ir;

/// HAProxy 2.6's CSV columns, in order (the header line is `# ` + these joined by `,` + `,`).
pub const CSV_COLUMNS: &[&str] = &[
    "pxname",
    "svname",
    "qcur",
    "qmax",
    "scur",
    "smax",
    "slim",
    "stot",
    "bin",
    "bout",
    "dreq",
    "dresp",
    "ereq",
    "econ",
    "eresp",
    "wretr",
    "wredis",
    "status",
    "weight",
    "act",
    "bck",
    "chkfail",
    "chkdown",
    "lastchg",
    "downtime",
    "qlimit",
    "pid",
    "iid",
    "sid",
    "throttle",
    "lbtot",
    "tracked",
    "type",
    "rate",
    "rate_lim",
    "rate_max",
    "check_status",
    "check_code",
    "check_duration",
    "hrsp_1xx",
    "hrsp_2xx",
    "hrsp_3xx",
    "hrsp_4xx",
    "hrsp_5xx",
    "hrsp_other",
    "hanafail",
    "req_rate",
    "req_rate_max",
    "req_tot",
    "cli_abrt",
    "srv_abrt",
    "comp_in",
    "comp_out",
    "comp_byp",
    "comp_rsp",
    "lastsess",
    "last_chk",
    "last_agt",
    "qtime",
    "ctime",
    "rtime",
    "ttime",
    "agent_status",
    "agent_code",
    "agent_duration",
    "check_desc",
    "agent_desc",
    "check_rise",
    "check_fall",
    "check_health",
    "agent_rise",
    "agent_fall",
    "agent_health",
    "addr",
    "cookie",
    "mode",
    "algo",
    "conn_rate",
    "conn_rate_max",
    "conn_tot",
    "intercepted",
    "dcon",
    "dses",
    "wrew",
    "connect",
    "reuse",
    "cache_lookups",
    "cache_hits",
    "srv_icur",
    "src_ilim",
    "qtime_max",
    "ctime_max",
    "rtime_max",
    "ttime_max",
    "eint",
    "idle_conn_cur",
    "safe_conn_cur",
    "used_conn_cur",
    "need_conn_est",
    "uweight",
    "agg_server_status",
    "agg_server_check_status",
    "agg_check_status",
    "-",
    "ssl_sess",
    "ssl_reused_sess",
    "ssl_failed_handshake",
    "h2_headers_rcvd",
    "h2_data_rcvd",
    "h2_settings_rcvd",
    "h2_rst_stream_rcvd",
    "h2_goaway_rcvd",
    "h2_detected_conn_protocol_errors",
    "h2_detected_strm_protocol_errors",
    "h2_rst_stream_resp",
    "h2_goaway_resp",
    "h2_open_connections",
    "h2_backend_open_streams",
    "h2_total_connections",
    "h2_backend_total_streams",
    "h1_open_connections",
    "h1_open_streams",
    "h1_total_connections",
    "h1_total_streams",
    "h1_bytes_in",
    "h1_bytes_out",
    "h1_spliced_bytes_in",
    "h1_spliced_bytes_out",
];

/// Where a stats request is heading, decided from the proxy's `stats` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsKind {
    Html,
    Csv,
}

/// The stats settings that apply to a request through `fe`/`be`, if any is enabled.
pub fn settings<'a>(fe: &'a Frontend, be: Option<&'a Backend>) -> Option<&'a ir::StatsSettings> {
    if let Some(b) = be {
        if b.cfg.stats.enabled || b.cfg.stats.uri.is_some() {
            return Some(&b.cfg.stats);
        }
    }
    (fe.cfg.stats.enabled || fe.cfg.stats.uri.is_some()).then_some(&fe.cfg.stats)
}

/// Whether `uri` addresses the stats page, and in which form.
pub fn matches(s: &ir::StatsSettings, uri: &[u8]) -> Option<StatsKind> {
    let prefix = s.uri.as_deref().unwrap_or("/haproxy?stats").as_bytes();
    if !uri.starts_with(prefix) {
        return None;
    }
    let rest = &uri[prefix.len()..];
    if rest.windows(4).any(|w| w == b";csv") {
        Some(StatsKind::Csv)
    } else {
        Some(StatsKind::Html)
    }
}

/// Checks `Authorization: Basic ...` against `stats auth` pairs (always true without auth).
pub fn authorized(s: &ir::StatsSettings, authorization: Option<&[u8]>) -> bool {
    if s.auth.is_empty() {
        return true;
    }
    let Some(v) = authorization else { return false };
    let v = std::str::from_utf8(v).unwrap_or("").trim();
    let Some(b64) = v
        .strip_prefix("Basic ")
        .or_else(|| v.strip_prefix("basic "))
    else {
        return false;
    };
    let Some(decoded) = base64_decode(b64.trim()) else {
        return false;
    };
    let Ok(text) = String::from_utf8(decoded) else {
        return false;
    };
    let Some((u, p)) = text.split_once(':') else {
        return false;
    };
    s.auth.iter().any(|(au, ap)| au == u && ap == p)
}

/// The 401 answer asking for stats credentials.
pub fn unauthorized(s: &ir::StatsSettings) -> Vec<u8> {
    let realm = s.realm.as_deref().unwrap_or("HAProxy Statistics");
    let body = "<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n";
    format!(
        "HTTP/1.1 401 Unauthorized\r\ncontent-length: {}\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nwww-authenticate: Basic realm=\"{realm}\"\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn ld(a: &std::sync::atomic::AtomicU64) -> u64 {
    a.load(Ordering::Relaxed)
}
fn ld32(a: &std::sync::atomic::AtomicU32) -> u64 {
    u64::from(a.load(Ordering::Relaxed))
}

fn mode_name(m: ir::ProxyMode) -> &'static str {
    match m {
        ir::ProxyMode::Http => "http",
        ir::ProxyMode::Tcp => "tcp",
        ir::ProxyMode::Health => "health",
    }
}

fn algo_name(p: &ir::Proxy) -> &'static str {
    match p.balance.as_ref().unwrap_or(&ir::BalanceAlgo::RoundRobin) {
        ir::BalanceAlgo::RoundRobin => "roundrobin",
        ir::BalanceAlgo::StaticRr => "static-rr",
        ir::BalanceAlgo::LeastConn => "leastconn",
        ir::BalanceAlgo::First => "first",
        ir::BalanceAlgo::Source => "source",
        ir::BalanceAlgo::Uri { .. } => "uri",
        ir::BalanceAlgo::UrlParam { .. } => "url_param",
        ir::BalanceAlgo::Hdr { .. } => "hdr",
        ir::BalanceAlgo::Random { .. } => "random",
        ir::BalanceAlgo::RdpCookie { .. } => "rdp-cookie",
        ir::BalanceAlgo::Hash { .. } => "hash",
    }
}

/// Fills the counters shared by every row type.
fn common(row: &mut [String], idx: &dyn Fn(&str) -> usize, c: &Counters) {
    let mut set = |k: &str, v: String| row[idx(k)] = v;
    set("scur", ld32(&c.cur).to_string());
    set("smax", ld32(&c.max).to_string());
    set("stot", ld(&c.total).to_string());
    set("bin", ld(&c.bytes_in).to_string());
    set("bout", ld(&c.bytes_out).to_string());
    for (i, k) in [
        "hrsp_1xx",
        "hrsp_2xx",
        "hrsp_3xx",
        "hrsp_4xx",
        "hrsp_5xx",
        "hrsp_other",
    ]
    .iter()
    .enumerate()
    {
        set(k, ld(&c.hrsp[i]).to_string());
    }
}

/// Renders the CSV export.
pub fn csv(rt: &Runtime) -> String {
    let idx = |k: &str| CSV_COLUMNS.iter().position(|c| *c == k).unwrap_or(0);
    let mut out = String::with_capacity(4096);
    out.push_str("# ");
    for c in CSV_COLUMNS {
        out.push_str(c);
        out.push(',');
    }
    out.push('\n');
    let pid = std::process::id().to_string();
    let now = unix_now();
    let push_row = |out: &mut String, row: &[String]| {
        for v in row {
            out.push_str(v);
            out.push(',');
        }
        out.push('\n');
    };
    let mut seen = std::collections::HashSet::new();
    // proxies in configuration order: frontends and backends interleaved by name
    let mut order: Vec<(&str, Option<&Frontend>, Option<&Backend>)> = Vec::new();
    for fe in &rt.frontends {
        let be = fe
            .own_backend
            .and_then(|i| rt.backends.get(i))
            .map(|b| &**b);
        order.push((&fe.name, Some(fe), be));
        if let Some(b) = be {
            seen.insert(b.name.clone());
        }
    }
    for be in &rt.backends {
        if !seen.contains(&be.name) {
            order.push((&be.name, None, Some(be)));
        }
    }
    order.sort_by_key(|(_, f, b)| f.map(|f| f.id).or(b.map(|b| b.id)).unwrap_or(0));
    for (name, fe, be) in order {
        if let Some(fe) = fe {
            let mut row = vec![String::new(); CSV_COLUMNS.len()];
            common(&mut row, &idx, &fe.counters);
            let c = &fe.counters;
            let mut set = |k: &str, v: String| row[idx(k)] = v;
            set("pxname", name.to_string());
            set("svname", "FRONTEND".into());
            set(
                "slim",
                if fe.maxconn > 0 { fe.maxconn } else { 2000 }.to_string(),
            );
            set("dreq", ld(&c.denied_req).to_string());
            set("dresp", ld(&c.denied_resp).to_string());
            set("ereq", ld(&c.err_req).to_string());
            set("status", "OPEN".into());
            set("pid", "1".into());
            set("iid", fe.id.to_string());
            set("sid", "0".into());
            set("type", "0".into());
            for k in [
                "rate",
                "rate_lim",
                "rate_max",
                "req_rate",
                "req_rate_max",
                "comp_in",
                "comp_out",
                "comp_byp",
                "comp_rsp",
            ] {
                set(k, "0".into());
            }
            set("req_tot", ld(&c.requests).to_string());
            set("mode", mode_name(fe.mode).into());
            set("conn_rate", "0".into());
            set("conn_rate_max", "0".into());
            set("conn_tot", ld(&c.total).to_string());
            for k in [
                "intercepted",
                "dcon",
                "dses",
                "wrew",
                "cache_lookups",
                "cache_hits",
                "eint",
            ] {
                set(k, "0".into());
            }
            set("-", "-".into());
            let _ = &pid;
            push_row(&mut out, &row);
        }
        if let Some(be) = be {
            let mut act = 0u32;
            let mut bck = 0u32;
            let mut wact = 0u32;
            for srv in &be.servers {
                let row = server_row(be, srv, &idx, now);
                if let Some(l) = be.live.get(srv.index) {
                    if l.is_up() {
                        if srv.backup {
                            bck += 1;
                        } else {
                            act += 1;
                            wact += l.weight();
                        }
                    }
                }
                push_row(&mut out, &row);
            }
            let mut row = vec![String::new(); CSV_COLUMNS.len()];
            common(&mut row, &idx, &be.counters);
            let c = &be.counters;
            let mut set = |k: &str, v: String| row[idx(k)] = v;
            set("pxname", be.name.clone());
            set("svname", "BACKEND".into());
            set("qcur", ld32(&c.queue_cur).to_string());
            set("qmax", ld32(&c.queue_max).to_string());
            set("slim", be.cfg.fullconn.unwrap_or(1000).to_string());
            set("dreq", ld(&c.denied_req).to_string());
            set("dresp", ld(&c.denied_resp).to_string());
            set("econ", ld(&c.err_conn).to_string());
            set("eresp", ld(&c.err_resp).to_string());
            set("wretr", ld(&c.retries).to_string());
            set("wredis", ld(&c.redispatches).to_string());
            set("status", if act + bck > 0 { "UP" } else { "DOWN" }.into());
            set("weight", wact.to_string());
            set("act", act.to_string());
            set("bck", bck.to_string());
            set("chkdown", "0".into());
            set(
                "lastchg",
                now.saturating_sub(be.last_change.load(Ordering::Relaxed))
                    .to_string(),
            );
            set("downtime", "0".into());
            set("pid", "1".into());
            set("iid", be.id.to_string());
            set("sid", "0".into());
            set("lbtot", ld(&c.lbtot).to_string());
            set("type", "1".into());
            set("rate", "0".into());
            set("rate_max", "0".into());
            set("req_tot", ld(&c.requests).to_string());
            set("cli_abrt", ld(&c.cli_abort).to_string());
            set("srv_abrt", ld(&c.srv_abort).to_string());
            for k in [
                "comp_in", "comp_out", "comp_byp", "comp_rsp", "qtime", "ctime", "rtime", "ttime",
            ] {
                set(k, "0".into());
            }
            set("lastsess", "-1".into());
            set("mode", mode_name(be.mode).into());
            set("algo", algo_name(&be.cfg).into());
            for k in [
                "intercepted",
                "dcon",
                "dses",
                "wrew",
                "connect",
                "reuse",
                "qtime_max",
                "ctime_max",
                "rtime_max",
                "ttime_max",
                "eint",
            ] {
                set(k, "0".into());
            }
            set("uweight", wact.to_string());
            set("agg_server_status", "0".into());
            set("agg_server_check_status", "0".into());
            set("agg_check_status", "0".into());
            set("-", "-".into());
            if be.servers.is_empty() {
                row[idx("status")] = "UP".into();
            }
            push_row(&mut out, &row);
        }
    }
    out
}

fn server_row(be: &Backend, srv: &Server, idx: &dyn Fn(&str) -> usize, now: u64) -> Vec<String> {
    let mut row = vec![String::new(); CSV_COLUMNS.len()];
    let c = &srv.stats.counters;
    common(&mut row, idx, c);
    let live = be.live.get(srv.index);
    let mut set = |k: &str, v: String| row[idx(k)] = v;
    set("pxname", be.name.clone());
    set("svname", srv.name.clone());
    set("qcur", "0".into());
    set("qmax", "0".into());
    if srv.maxconn > 0 {
        set("slim", srv.maxconn.to_string());
    }
    set("dresp", ld(&c.denied_resp).to_string());
    set("econ", ld(&c.err_conn).to_string());
    set("eresp", ld(&c.err_resp).to_string());
    set("wretr", ld(&c.retries).to_string());
    set("wredis", ld(&c.redispatches).to_string());
    let checked = srv.cfg.check;
    let status = match live {
        Some(l) if l.is_maint() => "MAINT".to_string(),
        Some(l) if l.is_drain() => "DRAIN".to_string(),
        Some(l) if l.is_running() => {
            if checked {
                "UP".to_string()
            } else {
                "no check".to_string()
            }
        }
        _ => "DOWN".to_string(),
    };
    set("status", status);
    set(
        "weight",
        live.map_or(srv.weight, |l| l.weight()).to_string(),
    );
    set("act", u8::from(!srv.backup).to_string());
    set("bck", u8::from(srv.backup).to_string());
    if checked {
        set("chkfail", ld(&srv.stats.check_fail).to_string());
        set(
            "chkdown",
            live.map_or(0, |l| l.down_transitions.load(Ordering::Relaxed))
                .to_string(),
        );
    }
    set(
        "lastchg",
        now.saturating_sub(live.map_or(now, |l| l.last_change.load(Ordering::Relaxed)))
            .to_string(),
    );
    if checked {
        set("downtime", ld(&srv.stats.downtime_secs).to_string());
    }
    set("pid", "1".into());
    set("iid", be.id.to_string());
    set("sid", srv.id.to_string());
    set("lbtot", ld(&c.lbtot).to_string());
    set("type", "2".into());
    set("rate", "0".into());
    set("rate_max", "0".into());
    if checked {
        if let Some(l) = live {
            let st = l.check_status();
            set("check_status", st.as_str().into());
            let code = l.check_code.load(Ordering::Relaxed);
            // HAProxy shows the code for every layer-7 result (L7OK included), as 0 if none
            if code != 0 || matches!(st, CheckStatus::L7Ok | CheckStatus::L7Sts) {
                set("check_code", code.to_string());
            }
            set(
                "check_duration",
                l.check_duration_ms.load(Ordering::Relaxed).to_string(),
            );
        }
    }
    set("req_tot", ld(&c.requests).to_string());
    set("cli_abrt", ld(&c.cli_abort).to_string());
    set("srv_abrt", ld(&c.srv_abort).to_string());
    set("lastsess", "-1".into());
    for k in ["qtime", "ctime", "rtime", "ttime"] {
        set(k, "0".into());
    }
    if checked {
        let desc = match live.map(|l| l.check_status()) {
            Some(super::server_state::CheckStatus::L4Ok) => "Layer4 check passed",
            Some(super::server_state::CheckStatus::L4Conn) => "Layer4 connection problem",
            Some(super::server_state::CheckStatus::L4Timeout) => "Layer4 timeout",
            Some(super::server_state::CheckStatus::L7Ok) => "Layer7 check passed",
            Some(super::server_state::CheckStatus::L7Sts) => "Layer7 wrong status",
            Some(super::server_state::CheckStatus::L7Rsp) => "Layer7 invalid response",
            Some(super::server_state::CheckStatus::L7Timeout) => "Layer7 timeout",
            _ => "Initializing",
        };
        set("check_desc", desc.into());
        set("check_rise", srv.cfg.rise.to_string());
        set("check_fall", srv.cfg.fall.to_string());
        set(
            "check_health",
            srv.stats.health.load(Ordering::Relaxed).to_string(),
        );
    }
    if let Some(t) = srv.target {
        set("addr", t.addr(0).to_string());
    }
    if let Some(ck) = &srv.cookie {
        set("cookie", ck.clone());
    }
    set("mode", mode_name(be.mode).into());
    for k in [
        "dcon",
        "dses",
        "wrew",
        "connect",
        "reuse",
        "qtime_max",
        "ctime_max",
        "rtime_max",
        "ttime_max",
        "eint",
    ] {
        set(k, "0".into());
    }
    set("srv_icur", "0".into());
    set("idle_conn_cur", "0".into());
    set("safe_conn_cur", "0".into());
    set("used_conn_cur", "0".into());
    set("need_conn_est", "0".into());
    set("uweight", srv.weight.to_string());
    set("-", "-".into());
    row
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Renders the HTML report.
pub fn html(rt: &Runtime, s: &ir::StatsSettings) -> String {
    let mut o = String::with_capacity(16384);
    let pid = std::process::id();
    o.push_str("<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\"\n\"http://www.w3.org/TR/html4/loose.dtd\">\n");
    o.push_str("<html><head><title>Statistics Report for HAProxy</title>\n<link rel=\"icon\" href=\"data:,\">\n");
    o.push_str("<meta http-equiv=\"content-type\" content=\"text/html; charset=iso-8859-1\">\n");
    o.push_str("<style type=\"text/css\"><!--\nbody { font-family: arial, helvetica, sans-serif; font-size: 12px; }\n");
    o.push_str("table.tbl { border-collapse: collapse; } table.tbl td, table.tbl th { border: 1px solid gray; padding: 2px 3px; }\n");
    o.push_str(".active_up {background: #c0ffc0;} .active_down {background: #ff9090;} .maintain {background: #c07820;} .backup_up {background: #b0d0ff;}\n");
    o.push_str("th.pxname { background: #b00040; color: #ffff40; }\n--></style></head>\n<body>");
    if s.hide_version {
        o.push_str("<h1><a href=\"http://www.haproxy.org/\" style=\"text-decoration: none;\">HAProxy</a></h1>\n");
    } else {
        let _ = write!(
            o,
            "<h1><a href=\"http://www.haproxy.org/\" style=\"text-decoration: none;\">HAProxy version {} (rhaproxy)</a></h1>\n",
            env!("CARGO_PKG_VERSION")
        );
    }
    let _ = write!(
        o,
        "<h2>Statistics Report for pid {pid}</h2>\n<hr width=\"100%\" class=\"hr\">\n"
    );
    let uptime = rt.started.elapsed().as_secs();
    let _ = write!(
        o,
        "<h3>&gt; General process information</h3>\n<table border=0><tr><td align=\"left\" nowrap width=\"1%\"><p><b>pid = </b> {pid} (process #1, nbproc = 1, nbthread = {})<br>\n<b>uptime = </b> {}d {}h{:02}m{:02}s<br>\n</td></tr></table>\n",
        rt.global.nbthread.unwrap_or(1),
        uptime / 86400,
        uptime % 86400 / 3600,
        uptime % 3600 / 60,
        uptime % 60
    );
    let head = "<tr><th>Name</th><th>Cur queue</th><th>Max queue</th><th>Cur sessions</th><th>Max sessions</th><th>Total sessions</th><th>Bytes in</th><th>Bytes out</th><th>Status</th><th>LastChk</th><th>Wght</th><th>Act</th><th>Bck</th></tr>\n";
    for fe in &rt.frontends {
        let _ = write!(o, "<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\"><th class=\"pxname\" width=\"10%\"><a name=\"{0}\"></a>{0}</th></tr>\n{head}", esc(&fe.name));
        let c = &fe.counters;
        let _ = write!(
            o,
            "<tr class=\"frontend\"><td>Frontend</td><td></td><td></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>OPEN</td><td></td><td></td><td></td><td></td></tr>\n",
            ld32(&c.cur), ld32(&c.max), ld(&c.total), ld(&c.bytes_in), ld(&c.bytes_out)
        );
        if let Some(be) = fe.own_backend.and_then(|i| rt.backends.get(i)) {
            backend_rows(&mut o, be);
        }
        o.push_str("</table><p>\n");
    }
    for be in &rt.backends {
        if rt.frontends.iter().any(|f| f.own_backend == Some(be.index)) {
            continue;
        }
        let _ = write!(o, "<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\"><th class=\"pxname\" width=\"10%\"><a name=\"{0}\"></a>{0}</th></tr>\n{head}", esc(&be.name));
        backend_rows(&mut o, be);
        o.push_str("</table><p>\n");
    }
    o.push_str("</body></html>\n");
    o
}

fn backend_rows(o: &mut String, be: &Backend) {
    for srv in &be.servers {
        let live = be.live.get(srv.index);
        let c = &srv.stats.counters;
        let (class, status) = match live {
            Some(l) if l.is_maint() => ("maintain", "MAINT"),
            Some(l) if l.is_running() => (
                if srv.backup { "backup_up" } else { "active_up" },
                if srv.cfg.check { "UP" } else { "no check" },
            ),
            _ => ("active_down", "DOWN"),
        };
        let chk = live.map(|l| l.check_status().as_str()).unwrap_or("");
        let _ = write!(
            o,
            "<tr class=\"{class}\"><td>{}</td><td>0</td><td>0</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{status}</td><td>{chk}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&srv.name),
            ld32(&c.cur),
            ld32(&c.max),
            ld(&c.total),
            ld(&c.bytes_in),
            ld(&c.bytes_out),
            live.map_or(0, |l| l.weight()),
            if srv.backup { "-" } else { "Y" },
            if srv.backup { "Y" } else { "-" },
        );
    }
    let c = &be.counters;
    let _ = write!(
        o,
        "<tr class=\"backend\"><td>Backend</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td></td><td></td><td></td><td></td></tr>\n",
        ld32(&c.queue_cur),
        ld32(&c.queue_max),
        ld32(&c.cur),
        ld32(&c.max),
        ld(&c.total),
        ld(&c.bytes_in),
        ld(&c.bytes_out),
        if be.nbsrv() > 0 || be.servers.is_empty() { "UP" } else { "DOWN" },
    );
}

/// A complete stats response (head + body) for `kind`.
pub fn response(rt: &Runtime, s: &ir::StatsSettings, kind: StatsKind) -> Vec<u8> {
    let (ctype, body) = match kind {
        StatsKind::Csv => ("text/plain", csv(rt)),
        StatsKind::Html => ("text/html", html(rt, s)),
    };
    let mut head =
        format!("HTTP/1.1 200 OK\r\ncache-control: no-cache\r\ncontent-type: {ctype}\r\n");
    if let Some(r) = s.refresh {
        let _ = write!(head, "refresh: {}\r\n", r.as_secs());
    }
    let _ = write!(head, "content-length: {}\r\n\r\n", body.len());
    let mut out = head.into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_header_matches_haproxy_2_6() {
        // The header line real haproxy 2.6.12 prints (129 fields with the trailing empty one).
        assert_eq!(CSV_COLUMNS.len(), 128);
        assert_eq!(
            CSV_COLUMNS[..8],
            ["pxname", "svname", "qcur", "qmax", "scur", "smax", "slim", "stot"]
        );
        assert_eq!(CSV_COLUMNS.last(), Some(&"h1_spliced_bytes_out"));
    }

    #[test]
    fn basic_auth() {
        let s = ir::StatsSettings {
            auth: vec![("admin".into(), "s3cret".into())],
            ..Default::default()
        };
        assert!(authorized(&s, Some(b"Basic YWRtaW46czNjcmV0")));
        assert!(!authorized(&s, Some(b"Basic YWRtaW46d3Jvbmc=")));
        assert!(!authorized(&s, None));
        assert!(authorized(&ir::StatsSettings::default(), None));
    }

    #[test]
    fn uri_matching() {
        let s = ir::StatsSettings {
            enabled: true,
            uri: Some("/stats".into()),
            ..Default::default()
        };
        assert_eq!(matches(&s, b"/stats"), Some(StatsKind::Html));
        assert_eq!(matches(&s, b"/stats;csv"), Some(StatsKind::Csv));
        assert_eq!(matches(&s, b"/other"), None);
        assert_eq!(
            matches(&ir::StatsSettings::default(), b"/haproxy?stats;csv"),
            Some(StatsKind::Csv)
        );
    }
}

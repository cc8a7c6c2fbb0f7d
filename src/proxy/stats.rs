//! The stats page (`stats enable|uri|realm|auth|refresh|hide-version`): an HTML report and
//! the `;csv` export with HAProxy 2.6's CSV columns.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use super::acl::CompiledCond;
use super::runtime::{unix_now, Backend, Counters, Frontend, Runtime, Server};
use super::server_state::CheckStatus;
use super::stats_admin::AdminStatus;
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatsKind {
    #[default]
    Html,
    Csv,
    /// `;typed`: the CLI's `show stat typed` form.
    Typed,
    /// `;json`: the CLI's `show stat json` form.
    Json,
}

/// The stats settings that apply to a request through `fe`/`be`, if any is enabled.
pub fn settings<'a>(fe: &'a Frontend, be: Option<&'a Backend>) -> Option<&'a ir::StatsSettings> {
    site(fe, be).map(|s| s.cfg)
}

/// The proxy whose `stats` settings serve a request: its settings and `stats admin` rules.
#[derive(Debug, Clone, Copy)]
pub struct StatsSite<'a> {
    pub cfg: &'a ir::StatsSettings,
    pub admin: &'a [CompiledCond],
}

/// The stats site of a request through `fe` (and `be` once chosen): the backend's settings
/// win, as in HAProxy where the stats applet belongs to the stream's backend.
pub fn site<'a>(fe: &'a Frontend, be: Option<&'a Backend>) -> Option<StatsSite<'a>> {
    if let Some(b) = be {
        if b.cfg.stats.enabled || b.cfg.stats.uri.is_some() {
            return Some(StatsSite {
                cfg: &b.cfg.stats,
                admin: &b.stats_admin,
            });
        }
    }
    (fe.cfg.stats.enabled || fe.cfg.stats.uri.is_some()).then_some(StatsSite {
        cfg: &fe.cfg.stats,
        admin: &fe.stats_admin,
    })
}

/// The URI options of a stats request (`;csv`, `;up`, `;no-maint`, `;norefresh`, `;st=`,
/// `scope=`), read as HAProxy 2.6 reads them: anywhere after the stats prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsQuery {
    pub kind: StatsKind,
    /// `;up`: hide servers that are not up.
    pub hide_down: bool,
    /// `;no-maint`: hide servers in maintenance.
    pub no_maint: bool,
    /// `;norefresh` (only when `stats refresh` is set).
    pub no_refresh: bool,
    /// `;st=CODE`: the result of the admin action that redirected here.
    pub status: Option<AdminStatus>,
    /// `scope=TEXT`: only proxies whose name contains TEXT (case-insensitive).
    pub scope: Option<String>,
}

/// Longest `scope=` text HAProxy keeps.
const SCOPE_MAX: usize = 20;

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The path (and query) of an absolute-form URI, or the URI itself.
fn path_of(uri: &[u8]) -> &[u8] {
    if uri.first() == Some(&b'/') {
        return uri;
    }
    let Some(after) = find(uri, b"://").map(|p| p + 3) else {
        return uri;
    };
    match uri[after..].iter().position(|&c| c == b'/') {
        Some(slash) => &uri[after + slash..],
        None => b"/",
    }
}

/// Whether `uri` addresses the stats page, and with which options.
pub fn query(s: &ir::StatsSettings, uri: &[u8]) -> Option<StatsQuery> {
    let prefix = s.uri.as_deref().unwrap_or("/haproxy?stats").as_bytes();
    let uri = if prefix.first() == Some(&b'/') {
        path_of(uri)
    } else {
        uri
    };
    let rest = uri.strip_prefix(prefix)?;
    let has = |k: &[u8]| find(rest, k).is_some();
    let mut q = StatsQuery {
        hide_down: has(b";up"),
        no_maint: has(b";no-maint"),
        no_refresh: s.refresh.is_some() && has(b";norefresh"),
        ..StatsQuery::default()
    };
    if has(b";csv") {
        q.kind = StatsKind::Csv;
    }
    if has(b";typed") {
        q.kind = StatsKind::Typed;
    }
    if has(b";json") && !has(b";json-schema") {
        q.kind = StatsKind::Json;
    }
    if let Some(p) = find(rest, b";st=") {
        if rest.len() >= p + 8 {
            q.status = Some(AdminStatus::from_code(&rest[p + 4..]));
        }
    }
    // HAProxy only looks for `scope=` where at least 8 bytes remain (so at least 2 of value)
    if let Some(p) = find(rest, b"scope=").filter(|p| rest.len() >= p + 8) {
        let v = &rest[p + 6..];
        let end = v
            .iter()
            .position(|&c| matches!(c, b';' | b'&' | b' '))
            .unwrap_or(v.len());
        let v = &v[..end.min(SCOPE_MAX)];
        let valid = v
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b':' | b'_' | b'-'));
        if !v.is_empty() && valid {
            q.scope = Some(String::from_utf8_lossy(v).into_owned());
        }
    }
    Some(q)
}

/// Whether `uri` addresses the stats page, and in which form.
pub fn matches(s: &ir::StatsSettings, uri: &[u8]) -> Option<StatsKind> {
    query(s, uri).map(|q| q.kind)
}

/// Which proxies and servers a stats request shows (`stats scope`, `scope=`, `;up`,
/// `;no-maint`).
#[derive(Debug, Clone, Copy, Default)]
pub struct View<'a> {
    /// `stats scope` names (`.` = the request's own backend); empty = all.
    pub allowed: &'a [String],
    /// The request's backend (for `stats scope .`).
    pub own: &'a str,
    pub search: Option<&'a str>,
    pub hide_down: bool,
    pub no_maint: bool,
}

impl<'a> View<'a> {
    /// Everything (the CLI's `show stat`).
    pub fn all() -> View<'static> {
        View::default()
    }
    pub fn new(s: &'a ir::StatsSettings, q: &'a StatsQuery, own: &'a str) -> View<'a> {
        View {
            allowed: &s.scope,
            own,
            search: q.scope.as_deref(),
            hide_down: q.hide_down,
            no_maint: q.no_maint,
        }
    }
    pub fn shows_proxy(&self, name: &str) -> bool {
        let allowed = self.allowed.is_empty()
            || self
                .allowed
                .iter()
                .any(|a| a == name || (a == "." && name == self.own));
        let searched = self.search.map_or(true, |s| {
            name.to_ascii_lowercase().contains(&s.to_ascii_lowercase())
        });
        allowed && searched
    }
    pub fn shows_server(&self, be: &Backend, srv: &Server) -> bool {
        let Some(l) = be.live.get(srv.index) else {
            return true;
        };
        (!self.no_maint || !l.is_maint()) && (!self.hide_down || l.is_up())
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

/// Renders the CSV export (every proxy and server).
pub fn csv(rt: &Runtime) -> String {
    csv_view(rt, &View::all())
}

/// Renders the CSV export of what `view` shows.
pub fn csv_view(rt: &Runtime, view: &View<'_>) -> String {
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
        if !view.shows_proxy(name) {
            continue;
        }
        if let Some(fe) = fe {
            let mut row = vec![String::new(); CSV_COLUMNS.len()];
            common(&mut row, &idx, &fe.counters);
            let c = &fe.counters;
            let mut set = |k: &str, v: String| row[idx(k)] = v;
            set("pxname", name.to_string());
            set("svname", "FRONTEND".into());
            set(
                "slim",
                match fe.conn_limit.limit() {
                    0 => 2000,
                    n => n,
                }
                .to_string(),
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
                if let Some(l) = be.live.get(srv.index) {
                    // HAProxy counts usable servers: up, not draining, weight > 0
                    if l.is_lb_usable() {
                        if srv.backup {
                            bck += 1;
                        } else {
                            act += 1;
                            wact += l.weight();
                        }
                    }
                }
                if view.shows_server(be, srv) {
                    push_row(&mut out, &server_row(be, srv, &idx, now));
                }
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
            let mut status = if act + bck > 0 { "UP" } else { "DOWN" }.to_string();
            if view.hide_down || view.no_maint {
                let nbup = be.live.iter().filter(|l| l.is_up()).count();
                let _ = write!(status, " ({nbup}/{})", be.servers.len());
            }
            set("status", status);
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
    // the live maxconn (`set maxconn server`, agent-check `maxconn:N`)
    let maxconn = live.map_or(srv.maxconn, |l| l.maxconn());
    if maxconn > 0 {
        set("slim", maxconn.to_string());
    }
    set("dresp", ld(&c.denied_resp).to_string());
    set("econ", ld(&c.err_conn).to_string());
    set("eresp", ld(&c.err_resp).to_string());
    set("wretr", ld(&c.retries).to_string());
    set("wredis", ld(&c.redispatches).to_string());
    let checked = srv.cfg.check;
    let status = match live {
        Some(l) if l.is_maint() => "MAINT".to_string(),
        Some(l) if l.is_drain() && srv.cfg.agent_check => "DRAIN (agent)".to_string(),
        Some(l) if l.is_drain() => "DRAIN".to_string(),
        Some(l) if l.is_running() => {
            if checked {
                "UP".to_string()
            } else {
                "no check".to_string()
            }
        }
        _ if srv.cfg.agent_check && super::checker::agent_says_down(srv.uid) => {
            "DOWN (agent)".to_string()
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
            Some(super::server_state::CheckStatus::None) | None => "Initializing",
            Some(s) => s.description(),
        };
        set("check_desc", desc.into());
        set("check_rise", srv.cfg.rise.to_string());
        set("check_fall", srv.cfg.fall.to_string());
        set(
            "check_health",
            srv.stats.health.load(Ordering::Relaxed).to_string(),
        );
    }
    if let Some(t) = srv.target() {
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

/// What an HTML page is rendered for: the request's options and whether admin is allowed.
#[derive(Debug, Clone, Copy)]
pub struct HtmlPage<'a> {
    pub query: &'a StatsQuery,
    pub view: View<'a>,
    /// `stats admin` matched: show the per-server checkboxes and the action form.
    pub admin: bool,
}

/// The stats URI prefix (`stats uri`, default `/haproxy?stats`).
pub fn uri_prefix(s: &ir::StatsSettings) -> &str {
    s.uri.as_deref().unwrap_or("/haproxy?stats")
}

/// `;up`, `;norefresh` and `?scope=` of the current page, kept in links and redirects.
pub fn carried_options(q: &StatsQuery) -> String {
    let mut o = String::new();
    if q.hide_down {
        o.push_str(";up");
    }
    if q.no_refresh {
        o.push_str(";norefresh");
    }
    if let Some(sc) = &q.scope {
        let _ = write!(o, "?scope={sc}");
    }
    o
}

/// Renders the HTML report.
pub fn html(rt: &Runtime, s: &ir::StatsSettings, page: &HtmlPage<'_>) -> String {
    let mut o = String::with_capacity(16384);
    let pid = std::process::id();
    o.push_str("<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\"\n\"http://www.w3.org/TR/html4/loose.dtd\">\n");
    o.push_str("<html><head><title>Statistics Report for HAProxy</title>\n<link rel=\"icon\" href=\"data:,\">\n");
    o.push_str("<meta http-equiv=\"content-type\" content=\"text/html; charset=iso-8859-1\">\n");
    o.push_str("<style type=\"text/css\"><!--\nbody { font-family: arial, helvetica, sans-serif; font-size: 12px; }\n");
    o.push_str("table.tbl { border-collapse: collapse; } table.tbl td, table.tbl th { border: 1px solid gray; padding: 2px 3px; }\n");
    o.push_str(".active_up {background: #c0ffc0;} .active_down {background: #ff9090;} .active_going_down {background: #ffffa0;} .active_no_check {background: #e0e0e0;} .maintain {background: #c07820;} .draining {background: #20a0ff;} .backup_up {background: #b0d0ff;}\n");
    o.push_str("th.pxname { background: #b00040; color: #ffff40; }\n--></style></head>\n<body>");
    if s.hide_version {
        o.push_str("<h1><a href=\"http://www.haproxy.org/\" style=\"text-decoration: none;\">HAProxy</a></h1>\n");
    } else {
        let _ = writeln!(
            o,
            "<h1><a href=\"http://www.haproxy.org/\" style=\"text-decoration: none;\">HAProxy version {} (rhaproxy)</a></h1>",
            env!("CARGO_PKG_VERSION")
        );
    }
    let _ = writeln!(
        o,
        "<h2>Statistics Report for pid {pid}</h2>\n<hr width=\"100%\" class=\"hr\">"
    );
    let uptime = rt.started.elapsed().as_secs();
    let _ = write!(
        o,
        "<h3>&gt; General process information</h3>\n<table border=0><tr><td align=\"left\" nowrap width=\"1%\"><p><b>pid = </b> {pid} (process #1, nbproc = 1, nbthread = {})<br>\n<b>uptime = </b> {}d {}h{:02}m{:02}s<br>\n</td>",
        rt.global.nbthread.unwrap_or(1),
        uptime / 86400,
        uptime % 86400 / 3600,
        uptime % 3600 / 60,
        uptime % 60
    );
    let q = page.query;
    let prefix = esc(uri_prefix(s));
    let scope_txt = q
        .scope
        .as_deref()
        .map(|sc| format!("?scope={}", esc(sc)))
        .unwrap_or_default();
    let (up, norefresh) = (
        if q.hide_down { ";up" } else { "" },
        if q.no_refresh { ";norefresh" } else { "" },
    );
    let _ = writeln!(
        o,
        "<td align=\"left\" valign=\"top\" nowrap width=\"1%\"><b>Display option:</b><ul style=\"margin-top: 0.25em;\"><li><form method=\"GET\">Scope : <input value=\"{}\" name=\"scope\" size=\"8\" maxlength=\"{SCOPE_MAX}\" tabindex=\"1\"/></form>",
        esc(q.scope.as_deref().unwrap_or(""))
    );
    if q.hide_down {
        let _ = writeln!(
            o,
            "<li><a href=\"{prefix}{norefresh}{scope_txt}\">Show all servers</a><br>"
        );
    } else {
        let _ = writeln!(
            o,
            "<li><a href=\"{prefix};up{norefresh}{scope_txt}\">Hide 'DOWN' servers</a><br>"
        );
    }
    if s.refresh.is_some() {
        if q.no_refresh {
            let _ = writeln!(
                o,
                "<li><a href=\"{prefix}{up}{scope_txt}\">Enable refresh</a><br>"
            );
        } else {
            let _ = writeln!(
                o,
                "<li><a href=\"{prefix}{up};norefresh{scope_txt}\">Disable refresh</a><br>"
            );
        }
    }
    let _ = writeln!(
        o,
        "<li><a href=\"{prefix}{up}{norefresh}{scope_txt}\">Refresh now</a><br>"
    );
    let nr = if s.refresh.is_some() {
        ";norefresh"
    } else {
        ""
    };
    let _ = writeln!(
        o,
        "<li><a href=\"{prefix};csv{nr}{scope_txt}\">CSV export</a><br>"
    );
    let _ = writeln!(o, "<li><a href=\"{prefix};json{nr}{scope_txt}\">JSON export</a> (<a href=\"{prefix};json-schema\">schema</a>)<br>");
    o.push_str("</ul></td></tr></table>\n");
    if let Some(st) = page.query.status {
        let (class, msg) = st.banner();
        let _ = writeln!(
            o,
            "<p><div class={class}><a class=lfsb href=\"{}{}\" title=\"Remove this message\">[X]</a> {msg}</div>",
            esc(uri_prefix(s)),
            esc(&carried_options(page.query)),
        );
    }
    let view = &page.view;
    for fe in &rt.frontends {
        if !view.shows_proxy(&fe.name) {
            continue;
        }
        let be = fe.own_backend.and_then(|i| rt.backends.get(i));
        proxy_table(&mut o, &fe.name, Some(fe), be.map(|b| &**b), page);
    }
    for be in &rt.backends {
        if rt.frontends.iter().any(|f| f.own_backend == Some(be.index)) {
            continue;
        }
        if !view.shows_proxy(&be.name) {
            continue;
        }
        proxy_table(&mut o, &be.name, None, Some(be), page);
    }
    o.push_str("</body></html>\n");
    o
}

/// One proxy's table; with admin rights and servers, wrapped in the action form HAProxy
/// prints (checkbox `s` per server, `action` select, hidden `b=#ID`, Apply).
fn proxy_table(
    o: &mut String,
    name: &str,
    fe: Option<&Frontend>,
    be: Option<&Backend>,
    page: &HtmlPage<'_>,
) {
    let form = page.admin && be.is_some_and(|b| !b.servers.is_empty());
    let name_e = esc(name);
    if form {
        o.push_str("<form method=\"post\">");
    }
    let _ = write!(
        o,
        "<table class=\"tbl\" width=\"100%\">\n<tr class=\"titre\">"
    );
    if page.admin {
        if form {
            let _ = write!(
                o,
                "<th rowspan=2 width=1><input type=\"checkbox\" onclick=\"for(c in document.getElementsByClassName('{name_e}-checkbox')) document.getElementsByClassName('{name_e}-checkbox').item(c).checked = this.checked\"></th>"
            );
        } else {
            o.push_str("<th rowspan=2></th>");
        }
    }
    let _ = writeln!(
        o,
        "<th class=\"pxname\" width=\"10%\"><a name=\"{name_e}\"></a><a class=px href=\"#{name_e}\">{name_e}</a></th></tr>\n<tr class=\"titre\"><th>Name</th><th>Cur queue</th><th>Max queue</th><th>Cur sessions</th><th>Max sessions</th><th>Total sessions</th><th>Bytes in</th><th>Bytes out</th><th>Status</th><th>LastChk</th><th>Wght</th><th>Act</th><th>Bck</th></tr>"
    );
    let blank = if page.admin { "<td></td>" } else { "" };
    if let Some(fe) = fe {
        let c = &fe.counters;
        let _ = writeln!(
            o,
            "<tr class=\"frontend\">{blank}<td>Frontend</td><td></td><td></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>OPEN</td><td></td><td></td><td></td><td></td></tr>",
            ld32(&c.cur), ld32(&c.max), ld(&c.total), ld(&c.bytes_in), ld(&c.bytes_out)
        );
    }
    if let Some(be) = be {
        backend_rows(o, be, page);
    }
    o.push_str("</table>");
    if let (true, Some(be)) = (form, be) {
        let _ = write!(
            o,
            "Choose the action to perform on the checked servers : <select name=action><option value=\"\"></option><option value=\"ready\">Set state to READY</option><option value=\"drain\">Set state to DRAIN</option><option value=\"maint\">Set state to MAINT</option><option value=\"dhlth\">Health: disable checks</option><option value=\"ehlth\">Health: enable checks</option><option value=\"hrunn\">Health: force UP</option><option value=\"hnolb\">Health: force NOLB</option><option value=\"hdown\">Health: force DOWN</option><option value=\"dagent\">Agent: disable checks</option><option value=\"eagent\">Agent: enable checks</option><option value=\"arunn\">Agent: force UP</option><option value=\"adown\">Agent: force DOWN</option><option value=\"shutdown\">Kill Sessions</option></select><input type=\"hidden\" name=\"b\" value=\"#{}\">&nbsp;<input type=\"submit\" value=\"Apply\"></form>",
            be.id
        );
    }
    o.push_str("<p>\n");
}

fn backend_rows(o: &mut String, be: &Backend, page: &HtmlPage<'_>) {
    let be_e = esc(&be.name);
    for srv in &be.servers {
        if !page.view.shows_server(be, srv) {
            continue;
        }
        let live = be.live.get(srv.index);
        let c = &srv.stats.counters;
        let (class, status) = match live {
            Some(l) if l.is_maint() => ("maintain", "MAINT"),
            Some(l) if l.is_drain() && l.is_running() => ("draining", "DRAIN"),
            Some(l) if l.is_running() => (
                if srv.backup { "backup_up" } else { "active_up" },
                if srv.cfg.check { "UP" } else { "no check" },
            ),
            _ => ("active_down", "DOWN"),
        };
        let chk = live.map(|l| l.check_status().as_str()).unwrap_or("");
        let srv_e = esc(&srv.name);
        let checkbox = if page.admin {
            format!("<td><input class='{be_e}-checkbox' type=\"checkbox\" name=\"s\" value=\"{srv_e}\"></td>")
        } else {
            String::new()
        };
        let _ = writeln!(
            o,
            "<tr class=\"{class}\">{checkbox}<td>{srv_e}</td><td>0</td><td>0</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{status}</td><td>{chk}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
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
    let _ = writeln!(
        o,
        "<tr class=\"backend\">{}<td>Backend</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td></td><td></td><td></td><td></td></tr>",
        if page.admin { "<td></td>" } else { "" },
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

/// A complete stats response (head + body) for a GET/HEAD.
pub fn response(
    rt: &Runtime,
    s: &ir::StatsSettings,
    q: &StatsQuery,
    own_backend: &str,
    admin: bool,
    head_only: bool,
) -> Vec<u8> {
    let view = View::new(s, q, own_backend);
    let (ctype, body) = match q.kind {
        StatsKind::Csv => ("text/plain", csv_view(rt, &view)),
        StatsKind::Typed => ("text/plain", super::cli_api::show_stat_typed(rt)),
        StatsKind::Json => ("application/json", super::cli_api::show_stat_json(rt)),
        StatsKind::Html => (
            "text/html",
            html(
                rt,
                s,
                &HtmlPage {
                    query: q,
                    view,
                    admin,
                },
            ),
        ),
    };
    let mut head =
        format!("HTTP/1.1 200 OK\r\ncache-control: no-cache\r\ncontent-type: {ctype}\r\n");
    if let (Some(r), false) = (s.refresh, q.no_refresh) {
        let _ = write!(head, "refresh: {}\r\n", r.as_secs());
    }
    let _ = write!(head, "content-length: {}\r\n\r\n", body.len());
    let mut out = head.into_bytes();
    if !head_only {
        out.extend_from_slice(body.as_bytes());
    }
    out
}

/// The `Location` of the redirect after an admin POST: `PREFIX;st=CODE[;up][;norefresh][?scope=X]`.
pub fn admin_location(s: &ir::StatsSettings, q: &StatsQuery, st: AdminStatus) -> String {
    format!("{};st={}{}", uri_prefix(s), st.code(), carried_options(q))
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

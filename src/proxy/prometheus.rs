//! The Prometheus exporter (`http-request use-service prometheus-exporter`): HAProxy 2.6's
//! metric names (`haproxy_process_*`, `haproxy_frontend_*`, `haproxy_backend_*`,
//! `haproxy_server_*`) in the text exposition format, with HELP and TYPE lines, so existing
//! dashboards keep working. Values come from the same sources as `show info` and the CSV
//! export, so the three always agree.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use super::runtime::Runtime;
use super::stats::{csv, CSV_COLUMNS};

/// (name suffix, type, `show info` field, help).
const PROCESS_METRICS: &[(&str, &str, &str, &str)] = &[
    ("nbthread", "gauge", "Nbthread", "Number of started threads (global.nbthread)"),
    ("nbproc", "gauge", "Nbproc", "Number of started worker processes (historical, always 1)"),
    ("relative_process_id", "gauge", "Process_num", "Relative worker process number (1)"),
    ("uptime_seconds", "gauge", "Uptime_sec", "How long ago this worker process was started (seconds)"),
    ("max_fds", "gauge", "Ulimit-n", "Hard limit on the number of per-process file descriptors"),
    ("max_sockets", "gauge", "Maxsock", "Hard limit on the number of per-process sockets"),
    ("max_connections", "gauge", "Maxconn", "Hard limit on the number of per-process connections (configured or imposed by Ulimit-n)"),
    ("hard_max_connections", "gauge", "Hard_maxconn", "Hard limit on the number of per-process connections (imposed by Memmax_MB or Ulimit-n)"),
    ("current_connections", "gauge", "CurrConns", "Current number of connections on this worker process"),
    ("connections_total", "counter", "CumConns", "Total number of connections on this worker process since started"),
    ("requests_total", "counter", "CumReq", "Total number of requests on this worker process since started"),
    ("limit_connection_rate", "gauge", "ConnRateLimit", "Hard limit for ConnRate (global.maxconnrate)"),
    ("idle_time_percent", "gauge", "Idle_pct", "Percentage of last second spent waiting in the current worker thread"),
    ("stopping", "gauge", "Stopping", "1 if the worker process is currently stopping, otherwise zero"),
    ("jobs", "gauge", "Jobs", "Current number of active jobs on the current worker process (frontend connections, master connections, listeners)"),
    ("listeners", "gauge", "Listeners", "Current number of active listeners on the current worker process"),
    ("bytes_out_total", "counter", "TotalBytesOut", "Total number of bytes emitted by current worker process since started"),
    ("build_info", "gauge", "Build info", "Build info"),
    ("start_time_seconds", "gauge", "Start_time_sec", "Start time in seconds"),
];

/// (name suffix, type, CSV column, scopes: 1 frontend, 2 backend, 4 server, help).
const PROXY_METRICS: &[(&str, &str, &str, u8, &str)] = &[
    ("current_sessions", "gauge", "scur", 7, "Number of current sessions on the frontend, backend or server"),
    ("max_sessions", "gauge", "smax", 7, "Highest value of current sessions encountered since process started"),
    ("limit_sessions", "gauge", "slim", 7, "Frontend/listener/server's maxconn, backend's fullconn"),
    ("sessions_total", "counter", "stot", 7, "Total number of sessions since process started"),
    ("bytes_in_total", "counter", "bin", 7, "Total number of request bytes since process started"),
    ("bytes_out_total", "counter", "bout", 7, "Total number of response bytes since process started"),
    ("requests_denied_total", "counter", "dreq", 3, "Total number of denied requests since process started"),
    ("responses_denied_total", "counter", "dresp", 7, "Total number of denied responses since process started"),
    ("request_errors_total", "counter", "ereq", 1, "Total number of invalid requests since process started"),
    ("status", "gauge", "status", 7, "Current status of the service, per state label value."),
    ("http_responses_total", "counter", "hrsp_", 7, "Total number of HTTP responses with status 100-199 returned by this object since the worker process started"),
    ("http_requests_total", "counter", "req_tot", 3, "Total number of HTTP requests processed by this object since the worker process started"),
    ("connections_total", "counter", "conn_tot", 1, "Total number of new connections accepted on this frontend since the worker process started"),
    ("current_queue", "gauge", "qcur", 6, "Number of current queued connections"),
    ("max_queue", "gauge", "qmax", 6, "Highest value of queued connections encountered since process started"),
    ("connection_errors_total", "counter", "econ", 6, "Total number of failed connections to server since the worker process started"),
    ("response_errors_total", "counter", "eresp", 6, "Total number of invalid responses since the worker process started"),
    ("retry_warnings_total", "counter", "wretr", 6, "Total number of server connection retries since the worker process started"),
    ("redispatch_warnings_total", "counter", "wredis", 6, "Total number of server redispatches due to connection failures since the worker process started"),
    ("weight", "gauge", "weight", 6, "Server's effective weight, or sum of active servers' effective weights for a backend"),
    ("active_servers", "gauge", "act", 2, "Total number of active UP servers with a non-zero weight"),
    ("backup_servers", "gauge", "bck", 2, "Total number of backup UP servers with a non-zero weight"),
    ("check_up_down_total", "counter", "chkdown", 6, "Total number of failed checks causing UP to DOWN server transitions, per server/backend, since the worker process started"),
    ("check_last_change_seconds", "gauge", "lastchg", 6, "How long ago the last server state changed, in seconds"),
    ("downtime_seconds_total", "counter", "downtime", 6, "Total time spent in DOWN state, for server or backend"),
    ("loadbalanced_total", "counter", "lbtot", 6, "Total number of requests routed by load balancing since the worker process started (ignores queue pop and stickiness)"),
    ("client_aborts_total", "counter", "cli_abrt", 6, "Total number of requests or connections aborted by the client since the worker process started"),
    ("server_aborts_total", "counter", "srv_abrt", 6, "Total number of requests or connections aborted by the server since the worker process started"),
    ("last_session_seconds", "gauge", "lastsess", 6, "How long ago some traffic was seen on this object on this worker process, in seconds"),
    ("uweight", "gauge", "uweight", 6, "Server's user weight, or sum of active servers' user weights for a backend"),
    ("check_failures_total", "counter", "chkfail", 4, "Total number of failed individual health checks per server/backend, since the worker process started"),
    ("queue_limit", "gauge", "qlimit", 4, "Limit on the number of connections in queue, for servers only (maxqueue argument)"),
    ("check_status", "gauge", "check_status", 4, "Status of last health check, per state label value."),
    ("check_code", "gauge", "check_code", 4, "layer5-7 code, if available of the last health check."),
    ("check_duration_seconds", "gauge", "check_duration", 4, "Total duration of the latest server health check, in seconds."),
];

const SERVER_STATES: &[&str] = &["DOWN", "UP", "MAINT", "DRAIN", "NOLB"];
const CHECK_STATES: &[&str] = &[
    "HANA", "SOCKERR", "L4OK", "L4TOUT", "L4CON", "L6OK", "L6TOUT", "L6RSP", "L7TOUT", "L7RSP",
    "L7OK", "L7OKC", "L7STS", "PROCERR", "PROCTOUT", "PROCOK",
];
const HRSP: &[(&str, &str)] = &[
    ("hrsp_1xx", "1xx"),
    ("hrsp_2xx", "2xx"),
    ("hrsp_3xx", "3xx"),
    ("hrsp_4xx", "4xx"),
    ("hrsp_5xx", "5xx"),
    ("hrsp_other", "other"),
];

/// The HTTP response of the exporter.
pub fn response(rt: &Runtime, http10: bool, close: bool) -> Vec<u8> {
    let body = render(rt);
    let mut out = format!(
        "HTTP/1.{} 200 OK\r\ncache-control: no-cache\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\n{}\r\n",
        if http10 { 0 } else { 1 },
        body.len(),
        if close { "connection: close\r\n" } else { "" }
    )
    .into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, typ: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {typ}");
}

/// A CSV cell as a metric value (`NaN` when the cell is empty or not numeric).
fn value(col: &str, cell: &str) -> String {
    if col == "check_duration" {
        return cell
            .parse::<f64>()
            .map_or("NaN".into(), |ms| format!("{}", ms / 1000.0));
    }
    if cell.parse::<f64>().is_ok() {
        cell.to_string()
    } else {
        "NaN".into()
    }
}

/// The whole exposition text.
pub fn render(rt: &Runtime) -> String {
    let mut out = String::with_capacity(32 * 1024);
    let cur: u32 = rt
        .frontends
        .iter()
        .map(|f| f.counters.cur.load(Ordering::Relaxed))
        .sum();
    let info: HashMap<&str, String> = super::cli_api::info_fields(rt, cur, false)
        .into_iter()
        .collect();
    for (suffix, typ, field, help) in PROCESS_METRICS {
        let name = format!("haproxy_process_{suffix}");
        header(&mut out, &name, typ, help);
        let v = info.get(field).map(String::as_str).unwrap_or("0");
        if *suffix == "build_info" {
            let _ = writeln!(out, "{name}{{version=\"{}\"}} 1", escape(v));
        } else {
            let _ = writeln!(out, "{name} {v}");
        }
    }
    // rows of the CSV export by scope
    let text = csv(rt);
    let col = |k: &str| CSV_COLUMNS.iter().position(|c| *c == k);
    let ty = col("type");
    let mut rows: [Vec<Vec<&str>>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for line in text.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        match ty.and_then(|i| cells.get(i)).copied() {
            Some("0") => rows[0].push(cells),
            Some("1") => rows[1].push(cells),
            Some("2") => rows[2].push(cells),
            _ => {}
        }
    }
    for (scope_idx, scope) in ["frontend", "backend", "server"].iter().enumerate() {
        let bit = 1u8 << scope_idx;
        let rows = &rows[scope_idx];
        for (suffix, typ, column, scopes, help) in PROXY_METRICS {
            if scopes & bit == 0 {
                continue;
            }
            let name = format!("haproxy_{scope}_{suffix}");
            header(&mut out, &name, typ, help);
            for cells in rows {
                let get = |k: &str| col(k).and_then(|i| cells.get(i)).copied().unwrap_or("");
                let mut labels = format!("proxy=\"{}\"", escape(get("pxname")));
                if scope_idx == 2 {
                    let _ = write!(labels, ",server=\"{}\"", escape(get("svname")));
                }
                match *column {
                    "hrsp_" => {
                        for (c, code) in HRSP {
                            let _ = writeln!(
                                out,
                                "{name}{{{labels},code=\"{code}\"}} {}",
                                value(c, get(c))
                            );
                        }
                    }
                    "status" => {
                        let st = get("status");
                        let word = st.split(' ').next().unwrap_or("");
                        let cur = match word {
                            "OPEN" | "UP" | "no" => "UP",
                            "DOWN" | "STOP" => "DOWN",
                            w => w,
                        };
                        let states: &[&str] = if scope_idx == 2 {
                            SERVER_STATES
                        } else {
                            &SERVER_STATES[..2]
                        };
                        for s in states {
                            let _ = writeln!(
                                out,
                                "{name}{{{labels},state=\"{s}\"}} {}",
                                u8::from(*s == cur)
                            );
                        }
                    }
                    "check_status" => {
                        let st = get("check_status").trim_start_matches("* ");
                        if st.is_empty() {
                            continue;
                        }
                        for s in CHECK_STATES {
                            let _ = writeln!(
                                out,
                                "{name}{{{labels},state=\"{s}\"}} {}",
                                u8::from(*s == st)
                            );
                        }
                    }
                    // no check, no check details (as haproxy)
                    c @ ("check_code" | "check_duration") if get(c).is_empty() => {}
                    c => {
                        let _ = writeln!(out, "{name}{{{labels}}} {}", value(c, get(c)));
                    }
                }
            }
        }
    }
    out
}

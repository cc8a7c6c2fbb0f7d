//! The runtime API on `stats socket` (HAProxy's "CLI"): unix, TCP and `fd@` sockets with
//! `level user|operator|admin`, non-interactive (one line, commands separated by `;`) and
//! `prompt` mode, and the commands operators script with socat: `show info|stat|servers
//! state|backend|sess|table`, `clear table`, `disable|enable server|health`, `set server`,
//! `set|get weight`, `shutdown sessions server`. Replies use HAProxy 2.6's wording.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

use super::runtime::{unix_now, Backend, Runtime, Server};
use super::server_state::CheckStatus;
use super::stats_admin::{report_admin_change, AdminSnapshot};
use super::stick::StickKey;
use super::Engine;
use crate::haproxy::ir;

/// Access level of a CLI session (`level` on the `stats socket` line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    User,
    Operator,
    Admin,
}

impl Level {
    /// The `level` bind option; HAProxy's default is `operator`.
    pub fn from_option(s: Option<&str>) -> Level {
        match s {
            Some("user") => Level::User,
            Some("admin") => Level::Admin,
            _ => Level::Operator,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Level::User => "user",
            Level::Operator => "operator",
            Level::Admin => "admin",
        }
    }
}

/// State of one CLI connection.
#[derive(Debug)]
pub struct Session {
    pub level: Level,
    pub prompt: bool,
    pub quit: bool,
}

/// Servers (by unique index) whose health checks were disabled with `disable health`.
static HEALTH_OFF: Mutex<BTreeSet<usize>> = Mutex::new(BTreeSet::new());

/// Whether `disable health` is in force for the server with this unique index (checker.rs
/// skips probes while it is).
pub fn health_disabled(uid: usize) -> bool {
    HEALTH_OFF.lock().map(|s| s.contains(&uid)).unwrap_or(false)
}

/// Servers (by unique index) whose agent checks were disabled (`disable agent`, stats page).
static AGENT_OFF: Mutex<BTreeSet<usize>> = Mutex::new(BTreeSet::new());

/// `disable health` / `enable health` (also the stats page's "Health: disable/enable checks").
pub fn set_health_enabled(srv: &Server, enable: bool) {
    if let Ok(mut set) = HEALTH_OFF.lock() {
        if enable {
            set.remove(&srv.uid);
        } else {
            set.insert(srv.uid);
        }
    }
}

/// Whether the server has an agent check configured (`agent-check`).
pub fn agent_configured(srv: &Server) -> bool {
    srv.cfg.agent_check
}

/// Whether the server's agent check is configured and not disabled at runtime.
pub fn agent_enabled(srv: &Server) -> bool {
    agent_configured(srv)
        && !AGENT_OFF
            .lock()
            .map(|s| s.contains(&srv.uid))
            .unwrap_or(false)
}

/// `disable agent` / `enable agent` (also the stats page's "Agent: disable/enable checks").
pub fn set_agent_enabled(srv: &Server, enable: bool) {
    if let Ok(mut set) = AGENT_OFF.lock() {
        if enable {
            set.remove(&srv.uid);
        } else {
            set.insert(srv.uid);
        }
    }
}

const PERMISSION_DENIED: &str = "Permission denied\n";

// ---------------------------------------------------------------------------------------------
// sockets
// ---------------------------------------------------------------------------------------------

fn alert(msg: &str) {
    eprintln!("[ALERT]    ({}) : {}", std::process::id(), msg);
}

/// Opens every `stats socket` of the global section and serves it. Errors are reported as
/// startup alerts; the proxy keeps running without that socket.
pub fn spawn_sockets(engine: &Arc<Engine>) {
    let rt = engine.runtime.load_full();
    for sock in &rt.global.stats_sockets {
        let level = Level::from_option(sock.options.level.as_deref());
        if let Err(e) = open_socket(engine, &sock.addr, &sock.options, level) {
            alert(&format!("Starting stats socket: {e}"));
        }
    }
}

fn open_socket(
    engine: &Arc<Engine>,
    addr: &ir::ListenAddr,
    opts: &ir::BindOptions,
    level: Level,
) -> std::io::Result<()> {
    match addr {
        ir::ListenAddr::Unix { path } => {
            let _ = std::fs::remove_file(path);
            let l = tokio::net::UnixListener::bind(path)?;
            if let Some(mode) = opts.mode {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
            }
            let engine = engine.clone();
            // `expose-fd listeners` on an admin socket: `_getsocks` hands the listening
            // sockets to a new process (`-x`).
            let expose = opts.expose_fd_listeners && level == Level::Admin;
            tokio::spawn(async move {
                loop {
                    match l.accept().await {
                        Ok((s, _)) => {
                            use std::os::fd::AsRawFd;
                            let fd = expose.then(|| s.as_raw_fd());
                            tokio::spawn(serve_with_fd(s, engine.clone(), level, fd));
                        }
                        Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
                    }
                }
            });
        }
        ir::ListenAddr::Inet { ip, ports, .. } => {
            let std_l = std::net::TcpListener::bind((*ip, ports.low))?;
            std_l.set_nonblocking(true)?;
            spawn_tcp(engine, tokio::net::TcpListener::from_std(std_l)?, level);
        }
        ir::ListenAddr::Fd { fd } => {
            use std::os::fd::FromRawFd;
            // SAFETY: `fd@N` names a listening socket this process inherited and owns; it is
            // used only here.
            let std_l = unsafe { std::net::TcpListener::from_raw_fd(*fd) };
            std_l.set_nonblocking(true)?;
            spawn_tcp(engine, tokio::net::TcpListener::from_std(std_l)?, level);
        }
        _ => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "unsupported address family for the stats socket",
            ))
        }
    }
    Ok(())
}

fn spawn_tcp(engine: &Arc<Engine>, l: tokio::net::TcpListener, level: Level) {
    let engine = engine.clone();
    tokio::spawn(async move {
        loop {
            match l.accept().await {
                Ok((s, _)) => {
                    tokio::spawn(serve(s, engine.clone(), level));
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
            }
        }
    });
}

/// One CLI connection: read lines, run their commands, answer.
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(s: S, engine: Arc<Engine>, level: Level) {
    serve_with_fd(s, engine, level, None).await
}

/// [`serve`], where `expose_fd` is the connection's descriptor when `_getsocks` is allowed.
async fn serve_with_fd<S: AsyncRead + AsyncWrite + Unpin>(
    s: S,
    engine: Arc<Engine>,
    level: Level,
    expose_fd: Option<std::os::fd::RawFd>,
) {
    let (r, mut w) = tokio::io::split(s);
    let mut lines = BufReader::new(r).lines();
    let mut sess = Session {
        level,
        prompt: false,
        quit: false,
    };
    let timeout = engine
        .runtime
        .load()
        .global
        .stats_timeout
        .unwrap_or(std::time::Duration::from_secs(10));
    loop {
        let line = match tokio::time::timeout(timeout, lines.next_line()).await {
            Ok(Ok(Some(l))) => l,
            _ => break,
        };
        if line.trim() == "_getsocks" {
            match expose_fd {
                Some(fd) => {
                    if let Err(e) = super::master::send_listeners(fd) {
                        let _ = w.write_all(format!("{e}\n").as_bytes()).await;
                    }
                }
                None => {
                    let _ = w.write_all(PERMISSION_DENIED.as_bytes()).await;
                }
            }
            break;
        }
        // a command ending in `<<` takes the following lines up to an empty one as payload
        let mut line = line;
        if line.trim_end().ends_with("<<") {
            line = line.trim_end().to_string();
            while let Ok(Ok(Some(l))) = tokio::time::timeout(timeout, lines.next_line()).await {
                if l.is_empty() {
                    break;
                }
                line.push('\n');
                line.push_str(&l);
            }
        }
        let out = execute_line(&engine, &line, &mut sess);
        if w.write_all(out.as_bytes()).await.is_err() {
            break;
        }
        if sess.quit || !sess.prompt {
            break;
        }
        if w.write_all(b"> ").await.is_err() {
            break;
        }
    }
    let _ = w.shutdown().await;
}

/// Runs one input line (commands separated by unescaped `;`); every command's reply is
/// followed by an empty line, as HAProxy does.
pub fn execute_line(engine: &Engine, line: &str, sess: &mut Session) -> String {
    let mut out = String::new();
    for cmd in split_commands(line) {
        // `cmd <<` + payload lines: the payload travels as one last word starting with `<<`
        let words = match cmd.split_once('\n') {
            Some((first, payload)) if first.trim_end().ends_with("<<") => {
                let mut w = split_words(first.trim_end().trim_end_matches("<<"));
                w.push(format!("<<{payload}"));
                w
            }
            _ => split_words(&cmd),
        };
        if words.is_empty() {
            if sess.prompt {
                continue;
            }
            break;
        }
        let reply = execute(engine, &words, sess);
        out.push_str(&reply);
        out.push('\n');
        if sess.quit {
            break;
        }
    }
    out
}

fn split_commands(line: &str) -> Vec<String> {
    let mut cmds = vec![String::new()];
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&';') => {
                if let (Some(last), Some(n)) = (cmds.last_mut(), chars.next()) {
                    last.push('\\');
                    last.push(n);
                }
            }
            ';' => cmds.push(String::new()),
            c => {
                if let Some(last) = cmds.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    cmds
}

fn split_words(cmd: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut chars = cmd.chars();
    let mut in_word = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    in_word = true;
                }
            }
            c if c.is_ascii_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

// ---------------------------------------------------------------------------------------------
// commands
// ---------------------------------------------------------------------------------------------

/// Help lines (command, description) with the level they need, in HAProxy's order.
const HELP: &[(&str, &str, Level)] = &[
    (
        "clear table <table> [<filter>]*",
        "remove an entry from a table (filter: data/key)",
        Level::Operator,
    ),
    (
        "clear counters [all]",
        "clear max statistics counters (or all counters)",
        Level::Operator,
    ),
    ("disable agent", "disable agent checks", Level::Admin),
    ("disable health", "disable health checks", Level::Admin),
    (
        "disable server (DEPRECATED)",
        "disable a server for maintenance (use 'set server' instead)",
        Level::Admin,
    ),
    ("enable agent", "enable agent checks", Level::Admin),
    ("enable health", "enable health checks", Level::Admin),
    (
        "enable server  (DEPRECATED)",
        "enable a disabled server (use 'set server' instead)",
        Level::Admin,
    ),
    (
        "get weight <bk>/<srv>",
        "report a server's current weight",
        Level::User,
    ),
    (
        "operator",
        "lower the level of the current CLI session to operator",
        Level::Operator,
    ),
    (
        "set maxconn frontend <frontend> <value>",
        "change a frontend's maxconn setting",
        Level::Admin,
    ),
    (
        "set maxconn global <value>",
        "change the per-process maxconn setting",
        Level::Admin,
    ),
    (
        "set maxconn server <bk>/<srv>",
        "change a server's maxconn setting",
        Level::Admin,
    ),
    (
        "set server <bk>/<srv> [opts]",
        "change a server's state, weight, address or ssl",
        Level::Admin,
    ),
    (
        "set weight <bk>/<srv>  (DEPRECATED)",
        "change a server's weight (use 'set server' instead)",
        Level::Admin,
    ),
    (
        "show backend",
        "list backends in the current running config",
        Level::User,
    ),
    (
        "show cli level",
        "display the level of the current CLI session",
        Level::User,
    ),
    (
        "show info [desc|json|typed|float]*",
        "report information about the running process",
        Level::User,
    ),
    (
        "show servers state [<backend>]",
        "dump volatile server information (all or for a single backend)",
        Level::User,
    ),
    (
        "show sess [id]",
        "report the list of current sessions or dump this exact session",
        Level::User,
    ),
    (
        "show stat [desc|json|no-maint|typed|up]*",
        "report counters for each proxy and server",
        Level::User,
    ),
    (
        "show table <table> [<filter>]*",
        "report table usage stats or dump this table's contents (filter: data/key)",
        Level::User,
    ),
    (
        "shutdown session [id]",
        "kill a specific session",
        Level::Admin,
    ),
    (
        "shutdown sessions server <bk>/<srv>",
        "kill sessions on a server",
        Level::Admin,
    ),
    (
        "user",
        "lower the level of the current CLI session to user",
        Level::User,
    ),
    (
        "help [<command>]",
        "list matching or all commands",
        Level::User,
    ),
    ("prompt", "toggle interactive mode with prompt", Level::User),
    ("quit", "disconnect", Level::User),
];

fn help(level: Level, unknown: bool) -> String {
    let mut out = String::from(if unknown {
        "Unknown command, but maybe one of the following ones is a better match:\n"
    } else {
        "The following commands are valid at this level:\n"
    });
    for (cmd, desc, need) in HELP {
        if *need <= level {
            let _ = writeln!(out, "  {cmd:<40}: {desc}");
        }
    }
    out
}

/// Runs one command (already split in words) and returns its reply (without the final empty
/// line).
pub fn execute(engine: &Engine, w: &[String], sess: &mut Session) -> String {
    let a: Vec<&str> = w.iter().map(String::as_str).collect();
    let rt = engine.runtime.load_full();
    let admin = sess.level >= Level::Admin;
    match a.as_slice() {
        ["help", ..] => help(sess.level, false),
        ["prompt", ..] => {
            sess.prompt = !sess.prompt;
            String::new()
        }
        ["quit", ..] => {
            sess.quit = true;
            String::new()
        }
        ["user"] => {
            sess.level = Level::User;
            String::new()
        }
        ["operator"] => {
            if sess.level < Level::Operator {
                return PERMISSION_DENIED.into();
            }
            sess.level = Level::Operator;
            String::new()
        }
        ["show", "cli", "level"] => format!("{}\n", sess.level.name()),
        [verb @ ("show" | "clear" | "add" | "del" | "set"), "map", rest @ ..] => {
            // maps.rs; `add map FILE <<` carries its entries as a payload
            if *verb != "show" && !admin {
                return PERMISSION_DENIED.into();
            }
            let (rest, payload) = match rest.split_last() {
                Some((last, head)) if last.starts_with("<<") => (head, last.get(2..)),
                _ => (rest, None),
            };
            super::maps::cli(verb, rest, payload).unwrap_or_else(|| help(sess.level, true))
        }
        ["show", "info", ..] => show_info(engine, &rt),
        ["show", "stat", rest @ ..] => {
            if rest.contains(&"typed") {
                show_stat_typed(&rt)
            } else if rest.contains(&"json") {
                show_stat_json(&rt)
            } else {
                super::stats::csv(&rt)
            }
        }
        ["show", "servers", "state", rest @ ..] => show_servers_state(&rt, rest.first().copied()),
        ["show", "backend"] => {
            let mut out = String::from("# name\n");
            for b in &rt.backends {
                let _ = writeln!(out, "{}", b.name);
            }
            out
        }
        ["show", "sess", rest @ ..] => {
            if sess.level < Level::Operator {
                return PERMISSION_DENIED.into();
            }
            show_sess(&rt, rest.first().copied())
        }
        ["shutdown", "session", rest @ ..] => {
            if !admin {
                return PERMISSION_DENIED.into();
            }
            match rest
                .first()
                .and_then(|v| parse_c_ulong(v))
                .filter(|&id| id != 0)
            {
                None => "Session pointer expected (use 'show sess').\n".into(),
                Some(id) if super::sessions::shutdown_session(id) => String::new(),
                Some(_) => "No such session (use 'show sess').\n".into(),
            }
        }
        ["disable" | "enable", "agent", rest @ ..] => {
            if !admin {
                return PERMISSION_DENIED.into();
            }
            match find_server(&rt, rest.first().copied()) {
                Ok((_, srv)) => {
                    let enable = a[0] == "enable";
                    if enable && !agent_configured(srv) {
                        return "Agent was not configured on this server, cannot enable.\n".into();
                    }
                    set_agent_enabled(srv, enable);
                    String::new()
                }
                Err(e) => e.into(),
            }
        }
        ["show", "table", rest @ ..] => show_table(&rt, rest.first().copied()),
        ["clear", "table", rest @ ..] => {
            if sess.level < Level::Operator {
                return PERMISSION_DENIED.into();
            }
            let Some(name) = rest.first() else {
                return "Optional argument only supports \"data.<store_data_type>\" and key <key>\n".into();
            };
            match rt.stick_tables.get(*name) {
                Some(t) => {
                    t.clear();
                    String::new()
                }
                None => "No such table\n".into(),
            }
        }
        ["clear", "counters", rest @ ..] => {
            let all = rest.first() == Some(&"all");
            if sess.level < if all { Level::Admin } else { Level::Operator } {
                return PERMISSION_DENIED.into();
            }
            clear_counters(&rt, all);
            String::new()
        }
        ["get", "weight", rest @ ..] => match find_server(&rt, rest.first().copied()) {
            Ok((be, srv)) => {
                let cur = srv.live(be).map_or(0, |l| l.weight());
                format!("{cur} (initial {})\n", srv.weight)
            }
            Err(e) => e.into(),
        },
        ["set", "weight", rest @ ..] => {
            if !admin {
                return PERMISSION_DENIED.into();
            }
            match find_server(&rt, rest.first().copied()) {
                Ok((be, srv)) => set_weight(be, srv, rest.get(1).copied()),
                Err(e) => e.into(),
            }
        }
        ["disable" | "enable", "server", rest @ ..] => {
            if !admin {
                return PERMISSION_DENIED.into();
            }
            match find_server(&rt, rest.first().copied()) {
                Ok((be, srv)) => {
                    let maint = a[0] == "disable";
                    if be.live.set_maint(srv.index, maint) {
                        super::checker::maint_changed(&engine.logger, be, srv, maint);
                    }
                    String::new()
                }
                Err(e) => e.into(),
            }
        }
        ["disable" | "enable", "health", rest @ ..] => {
            if !admin {
                return PERMISSION_DENIED.into();
            }
            match find_server(&rt, rest.first().copied()) {
                Ok((_, srv)) => {
                    let enable = a[0] == "enable";
                    if enable && !srv.cfg.check {
                        return "Health check was not configured on this server, cannot enable.\n"
                            .into();
                    }
                    set_health_enabled(srv, enable);
                    String::new()
                }
                Err(e) => e.into(),
            }
        }
        ["set", "server", rest @ ..] => {
            if !admin {
                return PERMISSION_DENIED.into();
            }
            match find_server(&rt, rest.first().copied()) {
                Ok((be, srv)) => {
                    let before = AdminSnapshot::of(be, srv);
                    let out = set_server(be, srv, &rest[1..], &engine.logger);
                    report_admin_change(&engine.logger, be, srv, before);
                    out
                }
                Err(e) => e.into(),
            }
        }
        ["set", "maxconn", "server", rest @ ..] => {
            if !admin {
                return PERMISSION_DENIED.into();
            }
            match find_server(&rt, rest.first().copied()) {
                Ok((be, srv)) => {
                    let Some(n) = rest.get(1).and_then(|v| v.parse::<u32>().ok()) else {
                        return "Integer value expected.\n".into();
                    };
                    if let Some(live) = srv.live(be) {
                        live.set_maxconn(n);
                    }
                    // requests queued on the old limit may fit now
                    be.queue_notify.notify_waiters();
                    String::new()
                }
                Err(e) => e.into(),
            }
        }
        ["set", "maxconn", "frontend", rest @ ..] => {
            if !admin {
                return PERMISSION_DENIED.into();
            }
            let Some(name) = rest.first().filter(|n| !n.is_empty()) else {
                return "A frontend name is expected.\n".into();
            };
            let Some(fe) = rt.frontends.iter().find(|f| f.name == *name) else {
                return "No such frontend.\n".into();
            };
            let Some(v) = rest.get(1).filter(|v| !v.is_empty()) else {
                return "Integer value expected.\n".into();
            };
            let v = c_atoi(v);
            if v < 0 {
                return "Value out of range.\n".into();
            }
            if let Some(l) = engine.limits.frontend(fe.index) {
                l.set_limit(v as u32);
            }
            String::new()
        }
        ["set", "maxconn", "global", rest @ ..] => {
            if !admin {
                return PERMISSION_DENIED.into();
            }
            let Some(v) = rest.first().filter(|v| !v.is_empty()) else {
                return "Expects an integer value.\n".into();
            };
            let v = c_atoi(v);
            let hard = engine.limits.hard_global;
            if hard > 0 && v > i64::from(hard) {
                return "Value out of range.\n".into();
            }
            // 0 or negative: back to the hard limit (unlimited when none was configured)
            let v = if v <= 0 { hard } else { v as u32 };
            engine.limits.global.set_limit(v);
            String::new()
        }
        ["set", "maxconn", ..] => {
            if !admin {
                return PERMISSION_DENIED.into();
            }
            "'set maxconn' only supports 'frontend', 'global' and 'server'.\n".into()
        }
        ["shutdown", "sessions", "server", rest @ ..] => {
            if !admin {
                return PERMISSION_DENIED.into();
            }
            match find_server(&rt, rest.first().copied()) {
                Ok((_, srv)) => {
                    super::sessions::shutdown_server(srv.uid);
                    String::new()
                }
                Err(e) => e.into(),
            }
        }
        _ => help(sess.level, true),
    }
}

/// `clear counters [all]`: the maxima, or every counter with `all`.
fn clear_counters(rt: &Runtime, all: bool) {
    use std::sync::atomic::AtomicU64;
    let clear = |c: &super::runtime::Counters| {
        c.max
            .store(c.cur.load(Ordering::Relaxed), Ordering::Relaxed);
        c.queue_max
            .store(c.queue_cur.load(Ordering::Relaxed), Ordering::Relaxed);
        if all {
            let zero = |a: &AtomicU64| a.store(0, Ordering::Relaxed);
            for a in [
                &c.total,
                &c.bytes_in,
                &c.bytes_out,
                &c.denied_req,
                &c.denied_resp,
                &c.err_req,
                &c.err_conn,
                &c.err_resp,
                &c.retries,
                &c.redispatches,
                &c.requests,
                &c.lbtot,
                &c.cli_abort,
                &c.srv_abort,
            ] {
                zero(a);
            }
            for a in &c.hrsp {
                zero(a);
            }
        }
    };
    for f in &rt.frontends {
        clear(&f.counters);
    }
    for b in &rt.backends {
        clear(&b.counters);
        for s in &b.servers {
            clear(&s.stats.counters);
            if all {
                s.stats.check_fail.store(0, Ordering::Relaxed);
                if let Some(l) = s.live(b) {
                    l.total_conns.store(0, Ordering::Relaxed);
                    l.lb_picks.store(0, Ordering::Relaxed);
                }
            }
        }
    }
}

fn find_server<'a>(
    rt: &'a Runtime,
    arg: Option<&str>,
) -> Result<(&'a Arc<Backend>, &'a Arc<Server>), &'static str> {
    let Some((b, s)) = arg.and_then(|a| a.split_once('/')) else {
        return Err("Require 'backend/server'.\n");
    };
    let be = rt.backend(b).ok_or("No such backend.\n")?;
    let srv = be.server(s).ok_or("No such server.\n")?;
    Ok((be, srv))
}

/// `set weight B/S N[%]` and `set server B/S weight N[%]`.
fn set_weight(be: &Backend, srv: &Server, arg: Option<&str>) -> String {
    let Some(arg) = arg else {
        return "Require <weight>.\n".into();
    };
    let (num, pct) = match arg.strip_suffix('%') {
        Some(n) => (n, true),
        None => (arg, false),
    };
    let Ok(v) = num.parse::<i64>() else {
        return "Empty weight string empty or preceded by garbage".into();
    };
    let w = if pct {
        if !(0..=100).contains(&v) {
            return "Relative weight must be positive.\n".into();
        }
        (i64::from(srv.weight) * v / 100) as u32
    } else {
        if !(0..=256).contains(&v) {
            return "Absolute weight can only be between 0 and 256 inclusive.\n".into();
        }
        v as u32
    };
    be.live.set_weight(srv.index, w);
    String::new()
}

fn set_server(be: &Backend, srv: &Server, opts: &[&str], logger: &super::log::Logger) -> String {
    let set_maint = |maint: bool| {
        if be.live.set_maint(srv.index, maint) {
            super::checker::maint_changed(logger, be, srv, maint);
        }
    };
    match opts {
        ["weight", rest @ ..] => set_weight(be, srv, rest.first().copied()),
        ["state", st, ..] => {
            match *st {
                "ready" => {
                    be.live.set_drain(srv.index, false);
                    set_maint(false);
                }
                "drain" => {
                    be.live.set_drain(srv.index, true);
                    set_maint(false);
                }
                "maint" => set_maint(true),
                _ => return "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n".into(),
            }
            String::new()
        }
        ["state"] => "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n".into(),
        ["health", st, ..] => {
            match *st {
                "up" => {
                    be.live.set_running(srv.index, true);
                }
                "down" | "stopping" => {
                    be.live.set_running(srv.index, false);
                }
                _ => {
                    return "'set server <srv> health' expects 'up', 'stopping', or 'down'.\n"
                        .into()
                }
            }
            String::new()
        }
        ["addr"] | ["addr", ""] => {
            "set server <b>/<s> addr requires an address and optionally a port.\n".into()
        }
        ["addr", addr, rest @ ..] => {
            let port = match rest {
                ["port", p, ..] => Some(*p),
                ["port"] => Some(""),
                _ => None,
            };
            set_server_addr(srv, addr, port)
        }
        ["agent", st, ..] => {
            if !agent_enabled(srv) {
                return "agent checks are not enabled on this server.\n".into();
            }
            match *st {
                "up" => {
                    be.live.set_running(srv.index, true);
                }
                "down" => {
                    be.live.set_running(srv.index, false);
                }
                _ => return "'set server <srv> agent' expects 'up' or 'down'.\n".into(),
            }
            String::new()
        }
        ["agent"] => {
            if agent_enabled(srv) {
                "'set server <srv> agent' expects 'up' or 'down'.\n".into()
            } else {
                "agent checks are not enabled on this server.\n".into()
            }
        }
        _ => "'set server <srv>' only supports 'agent', 'health', 'state', 'weight', 'addr', 'fqdn', 'check-addr', 'check-port' and 'ssl'.\n".into(),
    }
}

fn show_info(engine: &Engine, rt: &Runtime) -> String {
    let fields = info_fields(
        rt,
        engine.active.load(Ordering::Relaxed),
        engine.is_stopping(),
    );
    let mut out = String::with_capacity(2048);
    for (k, v) in fields {
        let _ = writeln!(out, "{k}: {v}");
    }
    out
}

/// `show info` fields (HAProxy's names, in its order) for a process with `cur` client
/// connections.
pub fn info_fields(rt: &Runtime, cur: u32, stopping: bool) -> Vec<(&'static str, String)> {
    let up = rt.started.elapsed().as_secs();
    let cum_conns: u64 = rt
        .frontends
        .iter()
        .map(|f| f.counters.total.load(Ordering::Relaxed))
        .sum();
    let cum_req: u64 = rt
        .frontends
        .iter()
        .map(|f| f.counters.requests.load(Ordering::Relaxed))
        .sum();
    let bytes_out: u64 = rt
        .frontends
        .iter()
        .map(|f| f.counters.bytes_out.load(Ordering::Relaxed))
        .sum();
    let hard_maxconn = rt.global.maxconn.unwrap_or(0);
    // as enforced now (`set maxconn global`)
    let maxconn = rt.global_limit.limit();
    let nbthread = rt.global.nbthread.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1)
    });
    let listeners: usize = rt
        .frontends
        .iter()
        .map(|f| f.cfg.binds.len())
        .sum::<usize>()
        + rt.global.stats_sockets.len();
    let node = rt.global.node.clone().unwrap_or_else(hostname);
    let version = env!("CARGO_PKG_VERSION");
    let fields: Vec<(&str, String)> = vec![
        ("Name", "HAProxy".into()),
        ("Version", format!("2.6.12-rhaproxy-{version}")),
        ("Release_date", "2026/11/21".into()),
        ("Nbthread", nbthread.to_string()),
        ("Nbproc", "1".into()),
        ("Process_num", "1".into()),
        ("Pid", std::process::id().to_string()),
        (
            "Uptime",
            format!(
                "{}d {}h{:02}m{:02}s",
                up / 86400,
                (up / 3600) % 24,
                (up / 60) % 60,
                up % 60
            ),
        ),
        ("Uptime_sec", up.to_string()),
        ("Memmax_MB", "0".into()),
        ("PoolAlloc_MB", "0".into()),
        ("PoolUsed_MB", "0".into()),
        ("PoolFailed", "0".into()),
        ("Ulimit-n", nofile().to_string()),
        ("Maxsock", nofile().to_string()),
        ("Maxconn", maxconn.to_string()),
        ("Hard_maxconn", hard_maxconn.to_string()),
        ("CurrConns", cur.to_string()),
        ("CumConns", cum_conns.to_string()),
        ("CumReq", cum_req.to_string()),
        ("MaxSslConns", "0".into()),
        ("CurrSslConns", "0".into()),
        ("CumSslConns", "0".into()),
        ("Maxpipes", "0".into()),
        ("PipesUsed", "0".into()),
        ("PipesFree", "0".into()),
        ("ConnRate", "0".into()),
        (
            "ConnRateLimit",
            rt.global.maxconnrate.unwrap_or(0).to_string(),
        ),
        ("MaxConnRate", "0".into()),
        ("SessRate", "0".into()),
        ("SessRateLimit", "0".into()),
        ("MaxSessRate", "0".into()),
        ("SslRate", "0".into()),
        ("SslRateLimit", "0".into()),
        ("MaxSslRate", "0".into()),
        ("SslFrontendKeyRate", "0".into()),
        ("SslFrontendMaxKeyRate", "0".into()),
        ("SslFrontendSessionReuse_pct", "0".into()),
        ("SslBackendKeyRate", "0".into()),
        ("SslBackendMaxKeyRate", "0".into()),
        ("SslCacheLookups", "0".into()),
        ("SslCacheMisses", "0".into()),
        ("CompressBpsIn", "0".into()),
        ("CompressBpsOut", "0".into()),
        ("CompressBpsRateLim", "0".into()),
        ("Tasks", "0".into()),
        ("Run_queue", "0".into()),
        ("Idle_pct", "100".into()),
        ("node", node),
        ("Stopping", u8::from(stopping).to_string()),
        ("Jobs", (u64::from(cur) + listeners as u64).to_string()),
        ("Unstoppable Jobs", "0".into()),
        ("Listeners", listeners.to_string()),
        ("ActivePeers", "0".into()),
        ("ConnectedPeers", "0".into()),
        ("DroppedLogs", "0".into()),
        ("BusyPolling", "0".into()),
        ("FailedResolutions", "0".into()),
        ("TotalBytesOut", bytes_out.to_string()),
        ("TotalSplicdedBytesOut", "0".into()),
        ("BytesOutRate", "0".into()),
        ("DebugCommandsIssued", "0".into()),
        ("CumRecvLogs", "0".into()),
        ("Build info", format!("2.6.12-rhaproxy-{version}")),
        ("Memmax_bytes", "0".into()),
        ("PoolAlloc_bytes", "0".into()),
        ("PoolUsed_bytes", "0".into()),
        ("Start_time_sec", rt.started_unix.to_string()),
        ("Tainted", "0".into()),
    ];
    fields
}

pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn nofile() -> u64 {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes into the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } == 0 {
        r.rlim_cur
    } else {
        0
    }
}

/// One non-empty cell of the stats, with HAProxy's typed-output attributes.
struct TypedField<'a> {
    kind: char,
    iid: &'a str,
    sid: &'a str,
    pos: usize,
    name: &'static str,
    /// origin, nature, scope letters (`K`/`M`/`S`/`C`, `N`/`G`/`M`/`L`/`C`/`O`, `S`/`P`)
    tags: [char; 3],
    typ: &'static str,
    value: &'a str,
}

/// Field attributes as HAProxy tags them (key names, limits, maxima, counters, gauges).
fn field_tags(name: &str, value: &str) -> ([char; 3], &'static str) {
    let numeric = value.parse::<u64>().is_ok();
    match name {
        "pxname" | "svname" => (['K', 'N', 'S'], "str"),
        "status" | "check_status" | "addr" | "cookie" | "mode" | "algo" | "check_desc"
        | "agent_desc" | "agent_status" => (['S', 'O', 'S'], "str"),
        "slim" | "qlimit" | "rate_lim" | "weight" | "uweight" | "check_rise" | "check_fall"
        | "pid" | "iid" | "sid" | "type" => (['C', 'L', 'P'], "u32"),
        n if n.ends_with("max") || n.ends_with("_max") => (['M', 'M', 'P'], "u32"),
        "stot" | "bin" | "bout" | "dreq" | "dresp" | "ereq" | "econ" | "eresp" | "wretr"
        | "wredis" | "chkfail" | "chkdown" | "lbtot" | "req_tot" | "cli_abrt" | "srv_abrt"
        | "conn_tot" | "downtime" | "hanafail" | "intercepted" | "dcon" | "dses" | "wrew"
        | "connect" | "reuse" | "eint" => (['M', 'C', 'P'], "u64"),
        n if n.starts_with("hrsp_") => (['M', 'C', 'P'], "u64"),
        _ if numeric => (['M', 'G', 'P'], "u32"),
        _ => (['S', 'O', 'S'], "str"),
    }
}

/// Calls `f` for every non-empty stats cell, object by object (`end` after each object).
fn typed_fields(rt: &Runtime, mut f: impl FnMut(Option<&TypedField<'_>>)) {
    let csv = super::stats::csv(rt);
    let cols = super::stats::CSV_COLUMNS;
    let iid = cols.iter().position(|c| *c == "iid");
    let sid = cols.iter().position(|c| *c == "sid");
    let ty = cols.iter().position(|c| *c == "type");
    for line in csv.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let get = |i: Option<usize>| i.and_then(|i| cells.get(i)).copied().unwrap_or("0");
        let kind = match get(ty) {
            "0" => 'F',
            "1" => 'B',
            "2" => 'S',
            _ => 'L',
        };
        for (pos, (name, value)) in cols.iter().zip(&cells).enumerate() {
            if value.is_empty() {
                continue;
            }
            let (tags, typ) = field_tags(name, value);
            f(Some(&TypedField {
                kind,
                iid: get(iid),
                sid: get(sid),
                pos,
                name,
                tags,
                typ,
                value,
            }));
        }
        f(None);
    }
}

/// `show stat typed`: `F.iid.sid.pos.name.1:tags:type:value` lines, derived from the CSV
/// export so both stay in step.
pub(crate) fn show_stat_typed(rt: &Runtime) -> String {
    let mut out = String::new();
    typed_fields(rt, |field| match field {
        Some(t) => {
            let _ = writeln!(
                out,
                "{}.{}.{}.{}.{}.1:{}{}{}:{}:{}",
                t.kind,
                t.iid,
                t.sid,
                t.pos,
                t.name,
                t.tags[0],
                t.tags[1],
                t.tags[2],
                t.typ,
                t.value
            );
        }
        None => out.push('\n'),
    });
    out
}

fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `show stat json`: HAProxy's array (one per object) of field objects.
pub(crate) fn show_stat_json(rt: &Runtime) -> String {
    let mut objects: Vec<String> = Vec::new();
    let mut cur: Vec<String> = Vec::new();
    typed_fields(rt, |field| match field {
        Some(t) => {
            let obj_type = match t.kind {
                'F' => "Frontend",
                'B' => "Backend",
                'S' => "Server",
                _ => "Listener",
            };
            let tag = |c: char, i: usize| -> &'static str {
                match (i, c) {
                    (0, 'K') => "Key",
                    (0, 'M') => "Metric",
                    (0, 'S') => "Status",
                    (0, 'C') => "Config",
                    (1, 'N') => "Name",
                    (1, 'G') => "Gauge",
                    (1, 'M') => "Max",
                    (1, 'L') => "Limit",
                    (1, 'C') => "Counter",
                    (1, 'O') => "Output",
                    (2, 'S') => "Service",
                    (2, 'P') => "Process",
                    _ => "",
                }
            };
            let value = if t.typ == "str" {
                json_str(t.value)
            } else {
                t.value.to_string()
            };
            cur.push(format!(
                "{{\"objType\":\"{obj_type}\",\"proxyId\":{},\"id\":{},\"field\":{{\"pos\":{},\"name\":\"{}\"}},\"processNum\":1,\"tags\":{{\"origin\":\"{}\",\"nature\":\"{}\",\"scope\":\"{}\"}},\"value\":{{\"type\":\"{}\",\"value\":{value}}}}}",
                t.iid, t.sid, t.pos, t.name, tag(t.tags[0], 0), tag(t.tags[1], 1), tag(t.tags[2], 2), t.typ
            ));
        }
        None => objects.push(format!("[{}]", std::mem::take(&mut cur).join(","))),
    });
    format!("[{}]\n", objects.join(","))
}

/// HAProxy's `srv_check_status` number for a check result.
fn hchk_status(c: CheckStatus) -> u32 {
    match c {
        CheckStatus::None | CheckStatus::Ini => 1,
        CheckStatus::L4Ok => 6,
        CheckStatus::L4Timeout => 7,
        CheckStatus::L4Conn => 8,
        CheckStatus::SockErr => 5,
        CheckStatus::L6Ok => 9,
        CheckStatus::L6Timeout => 10,
        CheckStatus::L6Rsp => 11,
        CheckStatus::L7Timeout => 12,
        CheckStatus::L7Rsp => 13,
        CheckStatus::L7Ok => 15,
        CheckStatus::L7Sts => 17,
    }
}

/// HAProxy's `check->result` of the last check: unknown (0), failed (2), passed (3).
fn check_result(configured: bool, c: CheckStatus) -> u32 {
    match c {
        _ if !configured => 0,
        CheckStatus::None | CheckStatus::Ini => 0,
        c if c.passed() => 3,
        _ => 2,
    }
}

/// The header of `show servers state` and of server-state files (format version 1).
pub const SERVERS_STATE_HEADER: &str = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n";

/// `show servers state [BACKEND]` (also the server-state file's content).
pub fn show_servers_state(rt: &Runtime, backend: Option<&str>) -> String {
    if let Some(b) = backend {
        if rt.backend(b).is_none() {
            return "Can't find backend.\n".into();
        }
    }
    let mut out = String::from(SERVERS_STATE_HEADER);
    let now = unix_now();
    for be in &rt.backends {
        if backend.is_some_and(|b| b != be.name) {
            continue;
        }
        for srv in &be.servers {
            let Some(live) = srv.live(be) else { continue };
            let maint = live.is_maint();
            let op = if maint || !live.is_running() { 0 } else { 2 };
            let mut admin = 0u32;
            if maint {
                admin |= 0x01;
                if srv.cfg.disabled {
                    admin |= 0x04;
                }
            }
            if live.is_drain() {
                admin |= 0x08;
            }
            let rise = srv.cfg.rise.max(1);
            let health = if maint {
                0
            } else if srv.cfg.check {
                srv.stats.health.load(Ordering::Relaxed)
            } else if live.is_running() {
                rise
            } else {
                0
            };
            let chk_state = if srv.cfg.check {
                let mut s = 0x02;
                if !health_disabled(srv.uid) {
                    s |= 0x04;
                }
                if maint {
                    s |= 0x08;
                }
                s
            } else {
                0
            };
            let (addr, port) = match srv.target() {
                Some(t) => (
                    t.ip.to_string(),
                    match t.port {
                        ir::ServerPort::Fixed(p) => p.to_string(),
                        _ => "0".into(),
                    },
                ),
                None => ("-".into(), "0".into()),
            };
            let fqdn = match &srv.cfg.addr {
                ir::ServerAddr::Inet { host, resolved, .. }
                    if resolved.map(|r| r.to_string()).as_deref() != Some(host.as_str()) =>
                {
                    host.clone()
                }
                _ => "-".into(),
            };
            let since = now.saturating_sub(live.last_change.load(Ordering::Relaxed));
            let _ = writeln!(
                out,
                "{} {} {} {} {} {} {} {} {} {} {} {} {} {} 0 {} {} {} {} - 0 {} {} - 0",
                be.id,
                be.name,
                srv.id,
                srv.name,
                addr,
                op,
                admin,
                live.weight(),
                srv.weight,
                since,
                hchk_status(live.check_status()),
                check_result(srv.cfg.check, live.check_status()),
                health,
                chk_state,
                u8::from(be.cfg.id.is_some()),
                u8::from(srv.cfg.id.is_some()),
                fqdn,
                port,
                srv.cfg.check_port.unwrap_or(0),
                srv.cfg.check_addr.as_deref().unwrap_or("-"),
            );
        }
    }
    out
}

/// C's `atoi`: optional sign and leading digits, 0 when there are none.
fn c_atoi(v: &str) -> i64 {
    let v = v.trim_start();
    let (neg, digits) = match v.as_bytes().first() {
        Some(b'-') => (true, &v[1..]),
        Some(b'+') => (false, &v[1..]),
        _ => (false, v),
    };
    let n: i64 = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .take(18)
        .fold(0, |acc, d| acc * 10 + i64::from(d - b'0'));
    if neg {
        -n
    } else {
        n
    }
}

/// C's `strtoul(v, NULL, 0)`: decimal, `0x` hex or `0` octal prefix; None when no digit.
fn parse_c_ulong(v: &str) -> Option<u64> {
    let v = v.trim();
    let (digits, radix) = if let Some(h) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        (h, 16)
    } else if v.len() > 1 && v.starts_with('0') {
        (&v[1..], 8)
    } else {
        (v, 10)
    };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    u64::from_str_radix(&digits[..end], radix).ok()
}

/// `set server B/S addr IP [port P]`, with HAProxy's report of what changed. As in HAProxy,
/// an address change is kept even when the port part is then refused.
fn set_server_addr(srv: &Server, addr: &str, port: Option<&str>) -> String {
    let by = " by 'stats socket command'\n";
    let Ok(ip) = addr.parse::<std::net::IpAddr>() else {
        return format!("Invalid addr '{addr}'{by}");
    };
    let Some(cur) = srv.target() else {
        return format!("Update for the current server address family is only supported through configuration file{by}");
    };
    let mut next = cur;
    let mut msg = if cur.ip == ip {
        "no need to change the addr".to_string()
    } else {
        next.ip = ip;
        format!("IP changed from '{}' to '{addr}'", cur.ip)
    };
    if let Some(p) = port {
        msg.push_str(", ");
        port_change(srv, cur, &mut next, p, &mut msg);
    }
    if next != cur {
        srv.addr.store(Some(Arc::new(next)));
        // idle connections to the old address must not be reused
        while super::pool::take(srv.uid).is_some() {}
    }
    msg + by
}

/// The port part of `set server addr`: updates `next.port` and reports into `msg`.
fn port_change(
    srv: &Server,
    cur: super::runtime::ServerTarget,
    next: &mut super::runtime::ServerTarget,
    p: &str,
    msg: &mut String,
) {
    let sign = p.chars().next();
    let digits = p.strip_prefix(['+', '-']).unwrap_or(p);
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let Ok(n) = digits[..end].parse::<i64>() else {
        let _ = write!(msg, "problem converting port '{p}' to an int");
        return;
    };
    let (cur_port, mapped) = match cur.port {
        ir::ServerPort::Fixed(p) => (i64::from(p), false),
        ir::ServerPort::None => (0, true),
        ir::ServerPort::Offset(o) => (i64::from(o), true),
    };
    let relative = matches!(sign, Some('+' | '-'));
    let new = if sign == Some('-') { -n } else { n };
    if relative && !mapped && srv.cfg.check_port.is_none() {
        msg.push_str("can't change <port> to port map because it is incompatible with current health check port configuration (use 'port' statement from the 'server' directive.");
        return;
    }
    if relative != mapped || cur_port != new {
        next.port = if relative {
            ir::ServerPort::Offset(new.clamp(-65535, 65535) as i32)
        } else {
            ir::ServerPort::Fixed(new as u16)
        };
        let cur_txt = if mapped {
            format!("+{cur_port}")
        } else {
            cur_port.to_string()
        };
        let new_txt = match sign {
            Some('+') => format!("+{n}"),
            Some('-') => format!("-{n}"),
            _ => (new as u16).to_string(),
        };
        let _ = write!(msg, "port changed from '{cur_txt}' to '{new_txt}'");
    } else {
        msg.push_str("no need to change the port");
    }
}

/// `age=` of `show sess`: HAProxy's compact human time.
fn human_age(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{}s", s / 60, s % 60),
        s if s < 86400 => format!("{}h{}m", s / 3600, s % 3600 / 60),
        s => format!("{}d{}h", s / 86400, s % 86400 / 3600),
    }
}

/// `show sess [all|ID]`: one line per stream in HAProxy's format (the fields a tool parses:
/// address, proto, src, fe, be, srv, age, calls; buffer and flag fields carry neutral
/// values), the CLI's own stream last; `all` or an id adds HAProxy's detail lines.
fn show_sess(rt: &Runtime, arg: Option<&str>) -> String {
    let streams = super::sessions::snapshot();
    let target = match arg {
        None | Some("") => None,
        Some("all") => Some(None),
        // as strtoul: no number means no target (the plain list)
        Some(v) => parse_c_ulong(v).filter(|&id| id != 0).map(Some),
    };
    let mut out = String::new();
    let proto = |a: &std::net::SocketAddr| if a.is_ipv4() { "tcpv4" } else { "tcpv6" };
    let mut found = false;
    for e in &streams {
        let fe = rt.frontends.get(e.frontend);
        let fe_name = fe.map_or("?", |f| f.name.as_str());
        let be = e.backend().and_then(|i| rt.backends.get(i));
        let be_name = be.map_or(fe_name, |b| b.name.as_str());
        let srv = be.and_then(|b| {
            let uid = e.server_uid()?;
            b.servers.iter().find(|s| s.uid == uid)
        });
        let age = human_age(e.started.elapsed().as_secs());
        match target {
            None => {
                let _ = writeln!(
                    out,
                    "{:#x}: proto={} src={} fe={fe_name} be={be_name} srv={} ts=00 epoch=0 age={age} calls={} rate=0 cpu=0 lat=0 rq[f=0h,i=0,an=00h,rx=,wx=,ax=] rp[f=0h,i=0,an=00h,rx=,wx=,ax=] scf=[8,0h,fd=-1] scb=[8,0h,fd=-1] exp= rc=0 c_exp=",
                    e.id,
                    proto(&e.src),
                    e.src,
                    srv.map_or("<none>", |s| s.name.as_str()),
                    e.calls.load(Ordering::Relaxed).max(1),
                );
            }
            Some(want) if want.map_or(true, |id| id == e.id) => {
                found = true;
                let _ = writeln!(
                    out,
                    "{:#x}: id={} proto={} source={}\n  flags=0x0, conn_retries=0, conn_exp=<NEVER> conn_et=0x000 srv_conn={}\n  frontend={fe_name} (id={} mode={}), listener=? addr={}\n  backend={be_name} (id={})\n  server={} (id={}) addr={}\n  age={age} calls={}",
                    e.id,
                    e.id,
                    proto(&e.src),
                    e.src,
                    srv.map_or("(nil)".to_string(), |s| format!("{:p}", Arc::as_ptr(s))),
                    fe.map_or(0, |f| f.id),
                    fe.map_or("tcp", |f| if f.mode == ir::ProxyMode::Http { "http" } else { "tcp" }),
                    e.dst,
                    be.map_or(0, |b| b.id),
                    srv.map_or("<none>", |s| s.name.as_str()),
                    srv.map_or(0, |s| s.id),
                    srv.and_then(|s| s.target()).map_or("<none>".to_string(), |t| t.addr(e.dst.port()).to_string()),
                    e.calls.load(Ordering::Relaxed).max(1),
                );
            }
            Some(_) => {}
        }
    }
    match target {
        None => out.push_str("0x1: proto=unix_stream src=unix:1 fe=GLOBAL be=<NONE> srv=<none> ts=00 epoch=0 age=0s calls=1 rate=0 cpu=0 lat=0 rq[f=0h,i=0,an=00h,rx=,wx=,ax=] rp[f=0h,i=0,an=00h,rx=,wx=,ax=] scf=[8,0h,fd=-1] scb=[8,0h,fd=-1] exp= rc=0 c_exp=\n"),
        Some(Some(_)) if !found => out.push_str("Session not found.\n"),
        _ => {}
    }
    out
}

fn table_type(t: &ir::StickTable) -> String {
    match t.key {
        ir::StickKeyType::Ip => "ip".into(),
        ir::StickKeyType::Ipv6 => "ipv6".into(),
        ir::StickKeyType::Integer => "integer".into(),
        ir::StickKeyType::String { len } => format!("string (length {len})"),
        ir::StickKeyType::Binary { len } => format!("binary (length {len})"),
    }
}

fn key_text(k: &StickKey) -> String {
    match k {
        StickKey::V4(v) => std::net::Ipv4Addr::from(*v).to_string(),
        StickKey::V6(v) => std::net::Ipv6Addr::from(*v).to_string(),
        StickKey::Int(v) => v.to_string(),
        StickKey::Bytes(b) => String::from_utf8_lossy(b)
            .trim_end_matches('\0')
            .to_string(),
    }
}

fn show_table(rt: &Runtime, name: Option<&str>) -> String {
    let mut out = String::new();
    let mut cfgs: Vec<&ir::Proxy> = rt.backends.iter().map(|b| &b.cfg).collect();
    cfgs.extend(rt.frontends.iter().map(|f| &f.cfg));
    let mut seen = BTreeSet::new();
    let mut found = false;
    for p in cfgs {
        let Some(tc) = &p.stick_table else { continue };
        if !seen.insert(p.name.clone()) || name.is_some_and(|n| n != p.name) {
            continue;
        }
        let Some(t) = rt.stick_tables.get(&p.name) else {
            continue;
        };
        found = true;
        let entries = t.entries();
        let _ = writeln!(
            out,
            "# table: {}, type: {}, size:{}, used:{}",
            p.name,
            table_type(tc),
            tc.size,
            entries.len()
        );
        if name.is_some() {
            for (i, (k, sid, exp)) in entries.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "0x{:x}: key={} use=0 exp={} server_id={}",
                    i + 1,
                    key_text(k),
                    exp.map_or(0, |d| d.as_millis()),
                    sid
                );
            }
        }
    }
    if name.is_some() && !found {
        return "No such table\n".into();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_and_word_splitting() {
        assert_eq!(
            split_commands("show info; show stat"),
            vec!["show info", " show stat"]
        );
        assert_eq!(split_commands("a\\;b;c"), vec!["a\\;b", "c"]);
        assert_eq!(
            split_words("  set  weight be/s1\t 5 "),
            vec!["set", "weight", "be/s1", "5"]
        );
        assert_eq!(split_words("a\\ b c"), vec!["a b", "c"]);
    }

    #[test]
    fn levels_and_help() {
        assert_eq!(Level::from_option(None), Level::Operator);
        assert_eq!(Level::from_option(Some("admin")), Level::Admin);
        let h = help(Level::User, false);
        assert!(h.contains("show info") && !h.contains("set server"));
        assert!(help(Level::Admin, false).contains("set server <bk>/<srv> [opts]"));
    }
}

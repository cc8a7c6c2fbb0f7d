//! Master-worker mode (`-W`, `-Ws`, `master-worker` in global).
//!
//! The master binds every listening socket, then runs the proxy in a worker: a re-exec of
//! this binary that inherits the listening sockets (their descriptors stay open across
//! exec; the worker learns them from `RHAPROXY_LISTEN_FDS`) and reports readiness on an
//! inherited socket (`RHAPROXY_READY_FD`). On SIGUSR2 the master re-reads the
//! configuration: if it is broken, the master says why and keeps the current worker; else it
//! binds any new address, starts a new worker on the same sockets and, once that one is
//! ready, soft-stops the old one (SIGUSR1: it finishes in-flight requests, bounded by
//! `hard-stop-after`). Since old and new workers accept from the very same kernel sockets,
//! no connection is refused during a reload. With `-Ws`, readiness and reloads are
//! reported to systemd (`Type=notify`) over `$NOTIFY_SOCKET`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use tokio::io::AsyncReadExt;

use super::listener::{self, BindError, BoundListener};
use super::runtime::Runtime;
use crate::haproxy::check::{self, CheckOptions, DiagFormat};
use crate::haproxy::cli::ProcessOptions;
use crate::haproxy::ir;

/// Set in a worker's environment: it must serve, not supervise.
const WORKER_ENV: &str = "RHAPROXY_WORKER";
/// `fd=addr;fd=addr...`: listening sockets handed down by the master.
const LISTEN_FDS_ENV: &str = "RHAPROXY_LISTEN_FDS";
/// A stream socket the worker writes one byte to once it serves.
const READY_FD_ENV: &str = "RHAPROXY_READY_FD";

fn alert(msg: &str) {
    eprintln!("[ALERT]    ({}) : {}", std::process::id(), msg);
}
fn notice(msg: &str) {
    eprintln!("[NOTICE]   ({}) : {}", std::process::id(), msg);
}

/// Whether this process is a master (master-worker requested and not already a worker).
pub fn is_master(config: &ir::Config, opts: &ProcessOptions) -> bool {
    (opts.master_worker || config.global.master_worker) && std::env::var_os(WORKER_ENV).is_none()
}

// ---------------------------------------------------------------------------------------------
// worker side
// ---------------------------------------------------------------------------------------------

fn inherited() -> &'static Mutex<HashMap<SocketAddr, RawFd>> {
    static FDS: OnceLock<Mutex<HashMap<SocketAddr, RawFd>>> = OnceLock::new();
    FDS.get_or_init(|| {
        let mut m = HashMap::new();
        if let Ok(v) = std::env::var(LISTEN_FDS_ENV) {
            for item in v.split(';') {
                if let Some((fd, addr)) = item.split_once('=') {
                    if let (Ok(fd), Ok(addr)) = (fd.parse::<RawFd>(), addr.parse::<SocketAddr>()) {
                        m.insert(addr, fd);
                    }
                }
            }
        }
        Mutex::new(m)
    })
}

/// Like [`listener::bind_all`], but in a worker the sockets the master handed down are used
/// instead of new ones.
pub fn bind_or_inherit(
    proxy: &ir::Proxy,
    frontend: usize,
    bind: &ir::Bind,
    out: &mut Vec<BoundListener>,
) -> Result<(), BindError> {
    let start = out.len();
    let r = bind_or_inherit_inner(proxy, frontend, bind, out);
    register(out.get(start..).unwrap_or_default());
    r
}

fn bind_or_inherit_inner(
    proxy: &ir::Proxy,
    frontend: usize,
    bind: &ir::Bind,
    out: &mut Vec<BoundListener>,
) -> Result<(), BindError> {
    let mut wanted = Vec::new();
    for addr in &bind.addrs {
        match addr {
            ir::ListenAddr::Inet { ip, ports, .. } => {
                for port in ports.low..=ports.high {
                    wanted.push(SocketAddr::new(*ip, port));
                }
            }
            _ => return listener::bind_all(proxy, frontend, bind, out),
        }
    }
    let Ok(mut fds) = inherited().lock() else {
        return listener::bind_all(proxy, frontend, bind, out);
    };
    if wanted.is_empty() || !wanted.iter().all(|a| fds.contains_key(a)) {
        drop(fds);
        return listener::bind_all(proxy, frontend, bind, out);
    }
    for sa in wanted {
        let Some(fd) = fds.remove(&sa) else { continue };
        // SAFETY: the master passed this descriptor to us for this address; nothing else in
        // this process owns it, and it is taken out of the table so it is wrapped only once.
        let socket = unsafe { std::net::TcpListener::from_raw_fd(fd) };
        let _ = socket.set_nonblocking(true);
        out.push(BoundListener {
            frontend,
            socket,
            local: sa,
            options: bind.options.clone(),
            text: bind.addr_text.clone(),
        });
    }
    Ok(())
}

/// Tells the master (if any) that this worker listens and serves.
pub fn notify_ready() {
    let Some(fd) = std::env::var(READY_FD_ENV)
        .ok()
        .and_then(|v| v.parse::<RawFd>().ok())
    else {
        return;
    };
    std::env::remove_var(READY_FD_ENV);
    // SAFETY: the master handed this descriptor down for this single use; it is consumed here.
    let mut s = unsafe { std::os::unix::net::UnixStream::from_raw_fd(fd) };
    use std::io::Write;
    let _ = s.write_all(b"R");
}

// ---------------------------------------------------------------------------------------------
// master side
// ---------------------------------------------------------------------------------------------

/// Listening sockets held by the master, by address.
type Sockets = HashMap<SocketAddr, std::net::TcpListener>;

/// Binds the addresses of `config` that `held` does not have yet.
fn bind_missing(config: &ir::Config, held: &mut Sockets) -> Result<(), String> {
    let rt = Runtime::compile(config).map_err(|e| e.to_string())?;
    for fe in &rt.frontends {
        for bind in &fe.cfg.binds {
            let mut wanted = Vec::new();
            for addr in &bind.addrs {
                if let ir::ListenAddr::Inet { ip, ports, .. } = addr {
                    for port in ports.low..=ports.high {
                        wanted.push(SocketAddr::new(*ip, port));
                    }
                }
            }
            if !wanted.is_empty() && wanted.iter().all(|a| held.contains_key(a)) {
                continue;
            }
            let mut bound = Vec::new();
            listener::bind_all(&fe.cfg, fe.index, bind, &mut bound).map_err(|e| e.to_string())?;
            for b in bound {
                held.entry(b.local).or_insert(b.socket);
            }
        }
    }
    Ok(())
}

/// Addresses the configuration listens on (to close the others after a reload).
fn addresses(config: &ir::Config) -> Vec<SocketAddr> {
    let mut out = Vec::new();
    for p in config
        .proxies
        .iter()
        .filter(|p| p.kind.has_frontend() && !p.disabled)
    {
        for b in &p.binds {
            for a in &b.addrs {
                if let ir::ListenAddr::Inet { ip, ports, .. } = a {
                    for port in ports.low..=ports.high {
                        out.push(SocketAddr::new(*ip, port));
                    }
                }
            }
        }
    }
    out
}

fn load_config(opts: &ProcessOptions) -> Result<ir::Config, ()> {
    let copts = CheckOptions {
        paths: opts.config_paths.clone(),
        ignore_resolution_failures: opts.ignore_resolution_failures,
        zero_warning: opts.zero_warning,
        quiet: opts.quiet,
        verbose: false,
        dump: false,
        format: DiagFormat::Haproxy,
        warn_unimplemented: false,
        local_peer: opts.local_peer.clone(),
    };
    let loaded = check::load(&copts);
    if !loaded.ok {
        check::print_findings(&loaded.findings, &loaded.sources, copts.format, opts.quiet);
        return Err(());
    }
    Ok(loaded.config)
}

/// Sends a `Type=notify` message to systemd when `$NOTIFY_SOCKET` is set.
pub fn sd_notify(msg: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(sock) = std::os::unix::net::UnixDatagram::unbound() else {
        return;
    };
    let bytes = path.as_encoded_bytes();
    if let Some(name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        if let Ok(addr) = std::os::unix::net::SocketAddr::from_abstract_name(name) {
            let _ = sock.send_to_addr(msg.as_bytes(), &addr);
        }
    } else {
        let _ = sock.send_to(msg.as_bytes(), std::path::Path::new(&path));
    }
}

struct Worker {
    child: tokio::process::Child,
    pid: u32,
}

/// Starts a worker on `held` and waits until it serves. Err with the reason otherwise.
async fn start_worker(opts: &ProcessOptions, held: &Sockets) -> Result<Worker, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find my executable: {e}"))?;
    let (mine, theirs) = std::os::unix::net::UnixStream::pair()
        .map_err(|e| format!("cannot create a socket pair: {e}"))?;
    let mut fds: Vec<RawFd> = held.values().map(|l| l.as_raw_fd()).collect();
    fds.push(theirs.as_raw_fd());
    let spec: Vec<String> = held
        .iter()
        .map(|(a, l)| format!("{}={a}", l.as_raw_fd()))
        .collect();
    let mut cmd = tokio::process::Command::new(exe);
    cmd.arg("-db");
    for p in &opts.config_paths {
        cmd.arg("-f").arg(p);
    }
    if opts.quiet {
        cmd.arg("-q");
    }
    if opts.ignore_resolution_failures {
        cmd.arg("-dr");
    }
    cmd.env(WORKER_ENV, "1")
        .env(LISTEN_FDS_ENV, spec.join(";"))
        .env(READY_FD_ENV, theirs.as_raw_fd().to_string())
        .env_remove("NOTIFY_SOCKET")
        .kill_on_drop(false);
    // SAFETY: between fork and exec only prctl and fcntl (async-signal-safe) run, on descriptors this
    // process owns, to let them survive exec.
    unsafe {
        cmd.pre_exec(move || {
            // a worker does not outlive its master
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            for &fd in &fds {
                let flags = libc::fcntl(fd, libc::F_GETFD);
                if flags >= 0 {
                    libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC);
                }
            }
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start a worker: {e}"))?;
    drop(theirs);
    let pid = child.id().unwrap_or(0);
    mine.set_nonblocking(true)
        .map_err(|e| format!("socket pair: {e}"))?;
    let mut ready =
        tokio::net::UnixStream::from_std(mine).map_err(|e| format!("socket pair: {e}"))?;
    let mut b = [0u8; 1];
    tokio::select! {
        r = ready.read(&mut b) => match r {
            Ok(1) => Ok(Worker { child, pid }),
            _ => {
                let status = child.wait().await.ok().and_then(|s| s.code()).unwrap_or(-1);
                Err(format!("new worker ({pid}) exited with code {status} before it was ready"))
            }
        },
        s = child.wait() => Err(format!(
            "new worker ({pid}) exited with code {} before it was ready",
            s.ok().and_then(|s| s.code()).unwrap_or(-1)
        )),
        _ = tokio::time::sleep(Duration::from_secs(60)) => {
            let _ = child.start_kill();
            Err(format!("new worker ({pid}) did not get ready in time"))
        }
    }
}

fn signal(pid: u32, sig: libc::c_int) {
    if pid > 0 {
        // SAFETY: kill(2) only sends a signal to our own child.
        unsafe { libc::kill(pid as libc::pid_t, sig) };
    }
}

/// Runs the master; returns the exit status.
pub fn run(config: ir::Config, opts: &ProcessOptions) -> i32 {
    let mut held = Sockets::new();
    if let Err(e) = bind_missing(&config, &mut held) {
        alert(&e);
        return 1;
    }
    let pidfile = opts
        .pidfile
        .clone()
        .or_else(|| config.global.pidfile.clone());
    let daemon = (opts.daemon || config.global.daemon) && !opts.debug && !opts.foreground;
    if daemon {
        // the master goes to the background (the pidfile gets its pid); workers follow it
        match super::process::daemonize(pidfile.as_deref()) {
            Ok(true) => return 0,
            Ok(false) => {}
            Err(e) => {
                alert(&format!("cannot fork: {e}"));
                return 1;
            }
        }
    } else if let Some(p) = &pidfile {
        if let Err(e) = std::fs::write(p, format!("{}\n", std::process::id())) {
            alert(&format!("cannot create pidfile {p}: {e}"));
            return 1;
        }
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            alert(&format!("cannot start the master runtime: {e}"));
            return 1;
        }
    };
    rt.block_on(supervise(opts.clone(), held))
}

async fn supervise(opts: ProcessOptions, mut held: Sockets) -> i32 {
    use tokio::signal::unix::{signal as sig, SignalKind};
    let (Ok(mut usr2), Ok(mut usr1), Ok(mut term), Ok(mut int), Ok(mut hup)) = (
        sig(SignalKind::user_defined2()),
        sig(SignalKind::user_defined1()),
        sig(SignalKind::terminate()),
        sig(SignalKind::interrupt()),
        sig(SignalKind::hangup()),
    ) else {
        alert("master: cannot install signal handlers");
        return 1;
    };
    let started = super::runtime::unix_now();
    let view = std::sync::Arc::new(Mutex::new(MasterView::default()));
    let (reload_tx, mut reload_rx) = tokio::sync::mpsc::channel::<()>(4);
    open_master_cli(&opts.master_cli, &view, &reload_tx, started);
    let mut current = match start_worker(&opts, &held).await {
        Ok(w) => w,
        Err(e) => {
            alert(&format!("master: {e}"));
            return 1;
        }
    };
    notice(&format!("New worker ({}) forked", current.pid));
    if let Ok(mut v) = view.lock() {
        v.current = current.pid;
        v.current_since = super::runtime::unix_now();
    }
    sd_notify(&format!("READY=1\nMAINPID={}\n", std::process::id()));
    // old workers finishing their in-flight work
    let mut old: Vec<Worker> = Vec::new();
    let mut reap = tokio::time::interval(Duration::from_millis(200));
    loop {
        tokio::select! {
            _ = usr2.recv() => {}
            Some(()) = reload_rx.recv() => {}
            _ = hup.recv() => {}
            _ = reap.tick() => {
                old.retain_mut(|w| !matches!(w.child.try_wait(), Ok(Some(_))));
                if let Ok(mut v) = view.lock() {
                    v.old.retain(|(p, _)| old.iter().any(|w| w.pid == *p));
                }
                continue;
            }
            s = current.child.wait() => {
                let code = s.ok().and_then(|s| s.code()).unwrap_or(1);
                alert(&format!("Current worker ({}) exited with code {code}", current.pid));
                for w in &old {
                    signal(w.pid, libc::SIGTERM);
                }
                return code;
            }
            _ = usr1.recv() => {
                // soft stop everything, wait for the workers, leave
                signal(current.pid, libc::SIGUSR1);
                for w in &old {
                    signal(w.pid, libc::SIGUSR1);
                }
                let _ = current.child.wait().await;
                for w in &mut old {
                    let _ = w.child.wait().await;
                }
                return 0;
            }
            _ = term.recv() => return stop_all(current, old).await,
            _ = int.recv() => return stop_all(current, old).await,
        }
        // reload
        notice("Reloading HAProxy");
        sd_notify("RELOADING=1\n");
        let config = match load_config(&opts) {
            Ok(c) => c,
            Err(()) => {
                alert(&format!(
                    "master: the new configuration has errors; worker ({}) keeps running with the previous one.",
                    current.pid
                ));
                sd_notify("READY=1\n");
                continue;
            }
        };
        if let Err(e) = bind_missing(&config, &mut held) {
            alert(&format!(
                "master: {e}; worker ({}) keeps running with the previous configuration.",
                current.pid
            ));
            sd_notify("READY=1\n");
            continue;
        }
        let keep = addresses(&config);
        let mut for_new: Sockets = Sockets::new();
        for a in &keep {
            if let Some(l) = held.get(a).and_then(|l| l.try_clone().ok()) {
                for_new.insert(*a, l);
            }
        }
        match start_worker(&opts, &for_new).await {
            Ok(w) => {
                notice(&format!("New worker ({}) forked", w.pid));
                signal(current.pid, libc::SIGUSR1);
                let prev = std::mem::replace(&mut current, w);
                if let Ok(mut v) = view.lock() {
                    v.reloads += 1;
                    let since = v.current_since;
                    v.old.push((prev.pid, since));
                    v.current = current.pid;
                    v.current_since = super::runtime::unix_now();
                }
                old.push(prev);
                // sockets the new configuration no longer uses are closed
                held.retain(|a, _| keep.contains(a));
            }
            Err(e) => alert(&format!(
                "master: {e}; worker ({}) keeps running with the previous configuration.",
                current.pid
            )),
        }
        drop(for_new);
        sd_notify("READY=1\n");
    }
}

async fn stop_all(mut current: Worker, mut old: Vec<Worker>) -> i32 {
    signal(current.pid, libc::SIGTERM);
    for w in &old {
        signal(w.pid, libc::SIGTERM);
    }
    let _ = current.child.wait().await;
    for w in &mut old {
        let _ = w.child.wait().await;
    }
    0
}

// ---------------------------------------------------------------------------------------------
// master CLI (`-S ADDR[,mode,OCTAL]`)
// ---------------------------------------------------------------------------------------------

/// What the master CLI shows and asks for.
#[derive(Debug, Default)]
struct MasterView {
    reloads: u32,
    current: u32,
    current_since: u64,
    old: Vec<(u32, u64)>,
}

fn uptime_text(since: u64) -> String {
    let up = super::runtime::unix_now().saturating_sub(since);
    format!(
        "{}d{:02}h{:02}m{:02}s",
        up / 86400,
        (up / 3600) % 24,
        (up / 60) % 60,
        up % 60
    )
}

fn show_proc(view: &MasterView, started: u64) -> String {
    let version = "2.6.12";
    let mut out =
        String::from("#<PID>          <type>          <reloads>       <uptime>        <version>\n");
    out.push_str(&format!(
        "{:<16}{:<16}{:<16}{:<16}{version}\n# workers\n",
        std::process::id(),
        "master",
        view.reloads,
        uptime_text(started)
    ));
    out.push_str(&format!(
        "{:<16}{:<16}{:<16}{:<16}{version}\n# old workers\n",
        view.current,
        "worker",
        0,
        uptime_text(view.current_since)
    ));
    for (pid, since) in &view.old {
        out.push_str(&format!(
            "{:<16}{:<16}{:<16}{:<16}{version}\n",
            pid,
            "worker",
            1,
            uptime_text(*since)
        ));
    }
    out
}

async fn master_cli_session<S>(
    s: S,
    view: std::sync::Arc<Mutex<MasterView>>,
    reload: tokio::sync::mpsc::Sender<()>,
    started: u64,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (r, mut w) = tokio::io::split(s);
    let mut lines = BufReader::new(r).lines();
    let mut prompt = false;
    while let Ok(Ok(Some(line))) =
        tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await
    {
        let mut out = String::new();
        for cmd in line.split(';').map(str::trim).filter(|c| !c.is_empty()) {
            match cmd {
                "reload" => {
                    let _ = reload.send(()).await;
                    let _ = w.shutdown().await;
                    return;
                }
                "show proc" => {
                    if let Ok(v) = view.lock() {
                        out.push_str(&show_proc(&v, started));
                    }
                }
                "prompt" => prompt = !prompt,
                "quit" => {
                    let _ = w.shutdown().await;
                    return;
                }
                _ => out.push_str(
                    "The following commands are valid at this level:\n  help                                    : list matching or all commands\n  prompt                                  : toggle interactive mode with prompt\n  quit                                    : disconnect\n  reload                                  : reload haproxy\n  show proc                               : show processes status\n",
                ),
            }
            out.push('\n');
        }
        if w.write_all(out.as_bytes()).await.is_err() || !prompt {
            break;
        }
        if w.write_all(b"master> ").await.is_err() {
            break;
        }
    }
    let _ = w.shutdown().await;
}

/// Opens the `-S` sockets; returns how many could be opened.
fn open_master_cli(
    specs: &[String],
    view: &std::sync::Arc<Mutex<MasterView>>,
    reload: &tokio::sync::mpsc::Sender<()>,
    started: u64,
) {
    for spec in specs {
        let mut parts = spec.split(',');
        let addr = parts.next().unwrap_or("");
        let mut mode = None;
        while let Some(opt) = parts.next() {
            if opt == "mode" {
                mode = parts.next().and_then(|m| u32::from_str_radix(m, 8).ok());
            }
        }
        let view = view.clone();
        let reload = reload.clone();
        let path = addr.strip_prefix("unix@").unwrap_or(addr);
        if path.starts_with('/') || path.starts_with('.') {
            let _ = std::fs::remove_file(path);
            match tokio::net::UnixListener::bind(path) {
                Ok(l) => {
                    if let Some(m) = mode {
                        use std::os::unix::fs::PermissionsExt;
                        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(m));
                    }
                    tokio::spawn(async move {
                        while let Ok((s, _)) = l.accept().await {
                            tokio::spawn(master_cli_session(
                                s,
                                view.clone(),
                                reload.clone(),
                                started,
                            ));
                        }
                    });
                }
                Err(e) => alert(&format!("master CLI: cannot bind {path}: {e}")),
            }
        } else {
            let a = addr
                .strip_prefix("ipv4@")
                .or_else(|| addr.strip_prefix("ipv6@"))
                .unwrap_or(addr);
            match a
                .parse::<SocketAddr>()
                .map_err(|e| e.to_string())
                .and_then(|sa| {
                    let l = std::net::TcpListener::bind(sa).map_err(|e| e.to_string())?;
                    l.set_nonblocking(true).map_err(|e| e.to_string())?;
                    tokio::net::TcpListener::from_std(l).map_err(|e| e.to_string())
                }) {
                Ok(l) => {
                    tokio::spawn(async move {
                        while let Ok((s, _)) = l.accept().await {
                            tokio::spawn(master_cli_session(
                                s,
                                view.clone(),
                                reload.clone(),
                                started,
                            ));
                        }
                    });
                }
                Err(e) => alert(&format!("master CLI: cannot bind {addr}: {e}")),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// classic reload with socket transfer: `stats socket ... expose-fd listeners` + `-x SOCKET`
// ---------------------------------------------------------------------------------------------

/// Listening sockets of this process (address, descriptor), for `_getsocks`.
fn registry() -> &'static Mutex<Vec<(SocketAddr, RawFd)>> {
    static REG: OnceLock<Mutex<Vec<(SocketAddr, RawFd)>>> = OnceLock::new();
    REG.get_or_init(|| Mutex::new(Vec::new()))
}

/// Records the listeners `bind_or_inherit` produced, so they can be handed over later.
fn register(bound: &[BoundListener]) {
    if let Ok(mut r) = registry().lock() {
        for b in bound {
            r.push((b.local, b.socket.as_raw_fd()));
        }
    }
}

/// Sends every listening socket of this process over the unix stream `fd` (answer to
/// `_getsocks`): one message whose text is `addr;addr;...` and whose SCM_RIGHTS carry the
/// descriptors in the same order.
pub fn send_listeners(fd: RawFd) -> std::io::Result<()> {
    let list: Vec<(SocketAddr, RawFd)> = registry().lock().map(|r| r.clone()).unwrap_or_default();
    let text: Vec<String> = list.iter().map(|(a, _)| a.to_string()).collect();
    let mut payload = text.join(";").into_bytes();
    payload.push(b'\n');
    let fds: Vec<RawFd> = list.iter().map(|(_, f)| *f).collect();
    send_fds(fd, &payload, &fds)
}

fn send_fds(sock: RawFd, payload: &[u8], fds: &[RawFd]) -> std::io::Result<()> {
    let fd_bytes = std::mem::size_of_val(fds) as u32;
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(fd_bytes) } as usize;
    let mut cbuf = vec![0u8; space.max(1)];
    let mut iov = libc::iovec {
        iov_base: payload.as_ptr() as *mut libc::c_void,
        iov_len: payload.len(),
    };
    // SAFETY: msghdr is plain data; every pointer set below points into live local buffers
    // (payload, iov, cbuf) that outlive the sendmsg call, and the control message is written
    // within `cbuf`, which CMSG_SPACE sized for `fds`.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        if !fds.is_empty() {
            msg.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
            msg.msg_controllen = space as _;
            let c = libc::CMSG_FIRSTHDR(&msg);
            if c.is_null() {
                return Err(std::io::Error::other("no room for the control message"));
            }
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(fd_bytes) as _;
            std::ptr::copy_nonoverlapping(
                fds.as_ptr() as *const u8,
                libc::CMSG_DATA(c),
                fd_bytes as usize,
            );
        }
        if libc::sendmsg(sock, &msg, 0) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// `-x SOCKET`: asks the running process for its listening sockets (`_getsocks` on its
/// stats socket) so this one accepts on the very same sockets: no connection is refused or
/// reset when the old process then stops (`-sf`).
pub fn fetch_listeners(path: &str) {
    match fetch(path) {
        Ok(list) => {
            if let Ok(mut m) = inherited().lock() {
                m.extend(list);
            }
        }
        Err(e) => eprintln!(
            "[WARNING]  ({}) : Failed to get the sockets from the old process ({path}): {e}",
            std::process::id()
        ),
    }
}

fn fetch(path: &str) -> std::io::Result<Vec<(SocketAddr, RawFd)>> {
    use std::io::Write;
    let mut s = std::os::unix::net::UnixStream::connect(path)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(b"_getsocks\n")?;
    let mut data = vec![0u8; 64 * 1024];
    const MAX_FDS: usize = 1024;
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE((MAX_FDS * std::mem::size_of::<RawFd>()) as u32) };
    let mut cbuf = vec![0u8; space as usize];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr() as *mut libc::c_void,
        iov_len: data.len(),
    };
    let mut fds: Vec<RawFd> = Vec::new();
    // SAFETY: the msghdr points into `data`, `iov` and `cbuf`, all alive during recvmsg; the
    // control messages are read only within `msg_controllen` bytes via the CMSG_* helpers.
    let n = unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = cbuf.len() as _;
        let n = libc::recvmsg(s.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC);
        if n < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let len = (*c).cmsg_len as usize - libc::CMSG_LEN(0) as usize;
                let count = len / std::mem::size_of::<RawFd>();
                let p = libc::CMSG_DATA(c) as *const RawFd;
                for i in 0..count {
                    fds.push(std::ptr::read_unaligned(p.add(i)));
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
        n as usize
    };
    let text = String::from_utf8_lossy(&data[..n]);
    let text = text.trim_end();
    if text.is_empty() && fds.is_empty() {
        return Err(std::io::Error::other(
            "no sockets received (is 'expose-fd listeners' set on that stats socket?)",
        ));
    }
    let addrs: Vec<&str> = text.split(';').filter(|a| !a.is_empty()).collect();
    if addrs.len() != fds.len() {
        for fd in fds {
            // SAFETY: these descriptors were just received and are owned by nobody else.
            drop(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) });
        }
        return Err(std::io::Error::other(format!(
            "unexpected answer: {text:?}"
        )));
    }
    let mut out = Vec::new();
    for (a, fd) in addrs.iter().zip(fds) {
        match a.parse::<SocketAddr>() {
            Ok(sa) => out.push((sa, fd)),
            // SAFETY: as above, an unusable received descriptor is closed.
            Err(_) => drop(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }),
        }
    }
    Ok(out)
}

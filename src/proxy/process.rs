//! Process life cycle: compile the IR, bind, daemonize (-D, -p pidfile), run the async
//! runtime with `nbthread` workers, accept connections within global/frontend maxconn, and
//! stop cleanly on SIGINT/SIGTERM (at once) or SIGUSR1 (soft stop: stop listening, finish
//! what is in flight).

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use super::ctx::ConnInfo;
use super::listener::BoundListener;
use super::log::Logger;
use super::runtime::{Frontend, Runtime};
use super::Engine;
use crate::haproxy::cli::ProcessOptions;
use crate::haproxy::ir;

fn alert(msg: &str) {
    eprintln!("[ALERT]    ({}) : {}", std::process::id(), msg);
}

/// Entry point of run mode; returns the exit status.
pub fn run(config: ir::Config, opts: &ProcessOptions) -> i32 {
    let rt = match Runtime::compile(&config) {
        Ok(rt) => rt,
        Err(e) => {
            alert(&e.to_string());
            return 1;
        }
    };
    super::server_state_file::apply(&config, &rt);
    // Bind everything first, so errors show in the foreground.
    if let Some(x) = &opts.expose_socket {
        super::master::fetch_listeners(x);
    }
    let mut bound: Vec<BoundListener> = Vec::new();
    for fe in &rt.frontends {
        for bind in &fe.cfg.binds {
            if let Err(e) = super::master::bind_or_inherit(&fe.cfg, fe.index, bind, &mut bound) {
                alert(&e.to_string());
                return 1;
            }
        }
    }
    if bound.is_empty() && !rt.frontends.is_empty() {
        alert("no listener could be started.");
        return 1;
    }
    let daemon = (opts.daemon || config.global.daemon) && !opts.debug && !opts.foreground;
    let pidfile = opts
        .pidfile
        .clone()
        .or_else(|| config.global.pidfile.clone());
    if daemon {
        match daemonize(pidfile.as_deref()) {
            Ok(true) => return 0, // parent
            Ok(false) => {}
            Err(e) => {
                alert(&format!("cannot fork: {e}"));
                return 1;
            }
        }
    } else if let Some(p) = &pidfile {
        if let Err(e) = write_pidfile(p, std::process::id()) {
            alert(&format!("[{}] cannot create pidfile {p}: {e}", program()));
            return 1;
        }
    }
    let threads = config
        .global
        .nbthread
        .map(|n| n.max(1) as usize)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
    let built = if threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    };
    let tokio_rt = match built {
        Ok(r) => r,
        Err(e) => {
            alert(&format!("cannot start the runtime: {e}"));
            return 1;
        }
    };
    // Classic reload: our listeners are up, ask the old processes to finish (-sf, soft stop)
    // or to quit (-st).
    signal_old(&opts.soft_stop_pids, libc::SIGUSR1);
    signal_old(&opts.terminate_pids, libc::SIGTERM);
    super::master::notify_ready();
    let code = tokio_rt.block_on(serve_all(rt, bound, opts.quiet));
    // Do not wait for tasks still blocked on sockets.
    tokio_rt.shutdown_timeout(Duration::from_millis(100));
    code
}

fn signal_old(pids: &[u32], sig: libc::c_int) {
    for &pid in pids {
        if pid == 0 || pid == std::process::id() {
            continue;
        }
        // SAFETY: kill(2) only sends a signal; a stale pid yields ESRCH, which is ignored.
        unsafe { libc::kill(pid as libc::pid_t, sig) };
    }
}

fn program() -> String {
    std::env::args()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "rhaproxy".into())
}

fn write_pidfile(path: &str, pid: u32) -> std::io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    writeln!(f, "{pid}")
}

/// Forks into the background. Returns Ok(true) in the parent (which should exit), Ok(false)
/// in the daemon.
pub(crate) fn daemonize(pidfile: Option<&str>) -> std::io::Result<bool> {
    // SAFETY: called before any thread or async runtime exists, so the child is a faithful
    // single-threaded copy; fork has no memory-safety preconditions otherwise.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(std::io::Error::last_os_error());
    }
    if pid > 0 {
        if let Some(p) = pidfile {
            write_pidfile(p, pid as u32)?;
        }
        return Ok(true);
    }
    // SAFETY: setsid only detaches the process from its terminal session.
    unsafe { libc::setsid() };
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        use std::os::fd::AsRawFd;
        for fd in 0..3 {
            // SAFETY: dup2 onto the standard descriptors, which this process owns.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
    }
    Ok(false)
}

pub async fn serve_all(rt: Runtime, bound: Vec<BoundListener>, _quiet: bool) -> i32 {
    let logger = Logger::new(&rt);
    let frontends = rt.frontends.clone();
    let engine = Engine::new(rt, logger);
    let mut accept_tasks = Vec::new();
    let server_tls = match super::tcp::server_tls_table(&engine.runtime.load()) {
        Ok(t) => t,
        Err(e) => {
            alert(&e);
            return 1;
        }
    };
    engine.server_tls.store(server_tls.clone());
    match super::tcp_content::HttpContentRules::build(&engine.runtime.load()) {
        Ok(r) => engine.http_content.store(Arc::new(r)),
        Err(e) => {
            alert(&e);
            return 1;
        }
    }
    for b in bound {
        let listener = match TcpListener::from_std(b.socket) {
            Ok(l) => l,
            Err(e) => {
                alert(&format!("cannot register listener {}: {e}", b.text));
                return 1;
            }
        };
        let Some(fe) = frontends.get(b.frontend).cloned() else {
            continue;
        };
        let rt_now = engine.runtime.load();
        let l4 = match super::tcp::ListenerL4::build(&b.options, &fe, &rt_now, server_tls.clone()) {
            Ok(l) => l,
            Err(e) => {
                alert(&e);
                return 1;
            }
        };
        accept_tasks.push(tokio::spawn(accept_loop(
            listener,
            b.local,
            l4,
            fe,
            engine.clone(),
        )));
    }
    super::checker::spawn_checks(&engine);
    super::cli_api::spawn_sockets(&engine);
    tokio::spawn(super::pool::trim_after_bursts());

    use tokio::signal::unix::{signal, SignalKind};
    let (mut term, mut int, mut usr1) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::user_defined1()),
    ) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        _ => {
            alert("cannot install signal handlers");
            return 1;
        }
    };
    tokio::select! {
        _ = term.recv() => return 0,
        _ = int.recv() => return 0,
        _ = usr1.recv() => {}
    }
    // Soft stop: close listeners, let in-flight transactions finish.
    engine.soft_stop();
    for t in &accept_tasks {
        t.abort();
    }
    // wait until no accept loop runs any more, so a connection accepted at this very moment
    // is counted in `active` before we wait for it (else it would be reset at exit)
    for t in accept_tasks {
        let _ = t.await;
    }
    let hard_stop = engine.runtime.load().global.hard_stop_after;
    let wait_idle = async {
        loop {
            let done = engine.conn_done.notified();
            if engine.active.load(Ordering::SeqCst) == 0 {
                break;
            }
            done.await;
        }
    };
    tokio::select! {
        _ = wait_idle => {}
        _ = async { match hard_stop { Some(d) => tokio::time::sleep(d).await, None => std::future::pending().await } } => {}
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    super::pool::clear();
    0
}

async fn accept_loop(
    listener: TcpListener,
    local: std::net::SocketAddr,
    l4: Arc<super::tcp::ListenerL4>,
    fe: Arc<Frontend>,
    engine: Arc<Engine>,
) {
    let local_is_wildcard = local.ip().is_unspecified();
    loop {
        // global and frontend maxconn (both changeable with `set maxconn`)
        let gp = engine.limits.global.acquire().await;
        let fp = match engine.limits.frontend(fe.index) {
            Some(l) => Some(l.acquire().await),
            None => None,
        };
        let (sock, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(_) => {
                // EMFILE and friends: back off briefly instead of spinning
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = sock.set_nodelay(true);
        let dst = if local_is_wildcard {
            sock.local_addr().unwrap_or(local)
        } else {
            local
        };
        let info = ConnInfo {
            src: peer,
            dst,
            ssl_fc: false,
            ssl_sni: None,
            pp_unique_id: None,
        };
        engine.active.fetch_add(1, Ordering::Relaxed);
        fe.counters.enter();
        if engine.logger.logs_connect(fe.index) {
            engine.logger.log_connect(&fe, &info);
        }
        let done = ConnDone {
            fe: fe.clone(),
            engine: engine.clone(),
            permits: Some((fp, gp)),
        };
        // registered for `show sess` / `shutdown session(s)`
        let (src, dst) = (info.src, info.dst);
        if l4.is_plain_http(&fe) {
            let conn = super::stream::serve(sock, info, fe.clone(), engine.clone());
            let conn = super::sessions::run(fe.index, src, dst, conn);
            tokio::spawn(ConnTask { conn, _done: done });
        } else {
            let conn = super::tcp::dispatch(sock, info, fe.clone(), engine.clone(), l4.clone());
            let conn = super::sessions::run(fe.index, src, dst, conn);
            tokio::spawn(ConnTask { conn, _done: done });
        }
    }
}

/// The task of one accepted connection: its future, inline (one allocation per
/// connection), and the accounting to undo when it ends, also when it is aborted. A struct
/// rather than an async block, which would keep a second copy of what it moves into the
/// connection's future.
struct ConnTask<F> {
    conn: F,
    _done: ConnDone,
}

impl<F: std::future::Future<Output = ()>> std::future::Future for ConnTask<F> {
    type Output = ();
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        // SAFETY: structural pinning of `conn`: it is never moved out of the pinned
        // ConnTask, ConnTask is not Unpin unless F is, and ConnDone's Drop does not touch it.
        unsafe { self.map_unchecked_mut(|t| &mut t.conn) }.poll(cx)
    }
}

struct ConnDone {
    fe: Arc<Frontend>,
    engine: Arc<Engine>,
    permits: Option<(
        Option<super::conn_limit::ConnSlot>,
        super::conn_limit::ConnSlot,
    )>,
}

impl Drop for ConnDone {
    fn drop(&mut self) {
        self.fe.counters.leave();
        drop(self.permits.take());
        self.engine.active.fetch_sub(1, Ordering::SeqCst);
        self.engine.conn_done.notify_waiters();
    }
}

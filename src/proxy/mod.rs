//! The async proxy engine: runs a validated haproxy IR.
//!
//! - [`runtime`]: the IR compiled into frontends/backends/servers with live atomics
//! - [`listener`]: bind lines → listening sockets (IPv4/6, ranges, `fd@`)
//! - [`stream`]: one task per client connection (HTTP/1.1 both sides, keep-alive, reuse)
//! - [`http1`]: head parsing/serialization, framing, error pages
//! - [`pool`]: idle server connections for reuse
//! - [`process`]: daemon, pidfile, signals, threads
//! - [`log`]: httplog/tcplog/log-format to stdout/stderr/syslog
//! - [`stats`]: the stats page (HTML and CSV)
//! - [`ctx`] and the decision modules: balance, ACLs, rules (pure logic, no I/O)
pub mod acl;
pub mod balance;
pub mod body_wait;
pub mod checker;
pub mod checks_db;
pub mod checks_proto;
pub mod cli_api;
pub mod conn_limit;
pub mod cookie;
pub mod crypt;
pub mod ctx;
pub mod http1;
pub mod listener;
pub mod log;
pub mod maps;
pub mod master;
pub mod pool;
pub mod process;
pub mod prometheus;
pub mod proxy_proto;
pub mod rules;
pub mod runtime;
pub mod sample;
pub mod server_io;
pub mod server_state;
pub mod server_state_file;
pub mod sessions;
pub mod stats;
pub mod stats_admin;
pub mod stick;
pub mod tcp;
pub mod tcp_content;
pub mod tls;

pub mod stream;

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::sync::Notify;

use runtime::Runtime;

/// Process-wide engine state shared by every connection task.
pub struct Engine {
    pub runtime: ArcSwap<Runtime>,
    /// Set on soft stop: listeners are closed, idle connections end, responses close.
    pub stopping: AtomicBool,
    pub stop: Notify,
    /// Current client connections (`actconn`).
    pub active: AtomicU32,
    /// Woken whenever a client connection ends (soft stop waits on it).
    pub conn_done: Notify,
    pub logger: log::Logger,
    /// Global and per-frontend `maxconn`, changeable from the runtime API.
    pub limits: conn_limit::Limits,
    /// Server-side TLS configs by server uid (`server ... ssl`), set at start-up.
    pub server_tls: ArcSwap<Vec<Option<tls::ServerTls>>>,
    /// `tcp-request content` rules of mode http proxies, set at start-up.
    pub http_content: ArcSwap<tcp_content::HttpContentRules>,
}

impl Engine {
    pub fn new(rt: Runtime, logger: log::Logger) -> Arc<Engine> {
        let limits = conn_limit::Limits::from_runtime(&rt);
        Arc::new(Engine {
            limits,
            runtime: ArcSwap::from_pointee(rt),
            stopping: AtomicBool::new(false),
            stop: Notify::new(),
            active: AtomicU32::new(0),
            conn_done: Notify::new(),
            logger,
            server_tls: ArcSwap::from_pointee(Vec::new()),
            http_content: ArcSwap::from_pointee(Default::default()),
        })
    }
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }
    /// Starts a soft stop.
    pub fn soft_stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.stop.notify_waiters();
    }
}

/// Runs the proxy engine on a validated configuration; returns the exit status.
pub fn run(config: crate::haproxy::ir::Config, opts: &crate::haproxy::cli::ProcessOptions) -> i32 {
    if master::is_master(&config, opts) {
        return master::run(config, opts);
    }
    process::run(config, opts)
}
#[cfg(test)]
mod engine_tests;
#[cfg(test)]
mod testutil;

//! Idle server connections kept for reuse (HAProxy's `http-reuse safe` idle pools).
//!
//! Pools are per worker thread (thread-local), so taking or returning a connection never
//! takes a lock. A connection that the server closed while idle is detected when it is used:
//! the stream retries such a request once on a fresh connection.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use super::server_io::ServerIo;

/// How long an idle connection is kept (HAProxy's `pool-purge-delay` default).
pub const PURGE_DELAY: Duration = Duration::from_secs(5);
/// Most idle connections kept per server and thread.
pub const MAX_IDLE_PER_SERVER: usize = 128;

/// A connection to a server, with what the stream needs to know about its past.
#[derive(Debug)]
pub struct ServerConn {
    pub stream: ServerIo,
    /// Global server uid (see `runtime::Server::uid`).
    pub server_uid: usize,
    /// True when it already carried a request (so a failure may be a stale idle close).
    pub reused: bool,
    pub idle_since: Instant,
}

thread_local! {
    static IDLE: RefCell<Vec<Vec<ServerConn>>> = const { RefCell::new(Vec::new()) };
}

/// Takes the most recently parked idle connection to server `uid`, if any is fresh enough.
pub fn take(uid: usize) -> Option<ServerConn> {
    IDLE.with(|idle| {
        let mut idle = idle.borrow_mut();
        let list = idle.get_mut(uid)?;
        let now = Instant::now();
        while let Some(mut c) = list.pop() {
            if now.duration_since(c.idle_since) < PURGE_DELAY {
                c.reused = true;
                return Some(c);
            }
            // too old: closed; older ones below are older still
            discard(c);
            list.drain(..).for_each(discard);
        }
        None
    })
}

/// Parks a connection for reuse.
pub fn put(mut conn: ServerConn) {
    IDLE.with(|idle| {
        let mut idle = idle.borrow_mut();
        let uid = conn.server_uid;
        if idle.len() <= uid {
            idle.resize_with(uid + 1, Vec::new);
        }
        let list = &mut idle[uid];
        if list.len() >= MAX_IDLE_PER_SERVER {
            discard(list.remove(0));
        }
        conn.idle_since = Instant::now();
        list.push(conn);
    })
}

/// Drops every idle connection of this thread (soft stop).
pub fn clear() {
    IDLE.with(|idle| {
        for list in idle.borrow_mut().drain(..) {
            list.into_iter().for_each(discard);
        }
    });
}

/// Closes an idle connection with a reset (SO_LINGER 0), as HAProxy closes the idle server
/// connections it gives up: a FIN would leave one TIME_WAIT socket per connection on this
/// side, and at thousands of new server connections per second those exhaust the local ports
/// and make every connect() search for a free one.
fn discard(conn: ServerConn) {
    let _ = socket2::SockRef::from(conn.stream.tcp()).set_linger(Some(Duration::ZERO));
    drop(conn);
}

/// Number of idle connections parked on this thread for server `uid`.
pub fn idle_count(uid: usize) -> usize {
    IDLE.with(|idle| idle.borrow().get(uid).map_or(0, Vec::len))
}

/// Request buffers freed (rather than kept on a free list) since the last trim.
static FREED_BUFFERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
/// Freed buffers that make a trim worthwhile (each is about 33 KB of address space).
const TRIM_AFTER_FREED: usize = 32;

/// Counts a request buffer set freed because its thread's free list was full.
pub fn note_freed_buffers() {
    FREED_BUFFERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Runs for the life of the process: after a burst of connections freed many request buffers,
/// hands the freed heap pages back to the system. glibc's malloc keeps them otherwise, so a
/// burst of requests on thousands of connections would stay resident while they sit idle
/// (HAProxy trims its pools in the same situation).
pub async fn trim_after_bursts() {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if FREED_BUFFERS.swap(0, std::sync::atomic::Ordering::Relaxed) >= TRIM_AFTER_FREED {
            trim_heap();
        }
    }
}

fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap memory to the kernel; it has no
    // preconditions and touches no memory owned by Rust objects.
    unsafe {
        libc::malloc_trim(0);
    }
}

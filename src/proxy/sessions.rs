//! The live client streams, for `show sess`, `shutdown session` and `shutdown sessions server`
//! (runtime API) and the stats page's "Kill Sessions".
//!
//! Each accepted connection registers one [`StreamEntry`] for its lifetime (one short lock of
//! one of 16 shards at accept and one at close, none per request). The connection task runs
//! inside [`run`], which drops the whole connection future, closing both sides, when the entry
//! is killed. The request path records which server the stream is attached to with
//! [`attach_server`] (a task-local, three atomic operations).

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// No server / backend attached yet.
const NONE: usize = usize::MAX;

/// One client stream.
#[derive(Debug)]
pub struct StreamEntry {
    /// Unique id, shown as HAProxy shows a stream's address (`0x...`).
    pub id: u64,
    pub frontend: usize,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub started: Instant,
    /// Backend index and server unique index the stream is attached to (NONE if none).
    backend: AtomicUsize,
    server: AtomicUsize,
    /// Requests handled on this stream so far (`calls` in `show sess`).
    pub calls: AtomicU32,
    killed: AtomicBool,
    /// The connection task's waker, to wake it when killed (touched only when it changes).
    waker: Mutex<Option<Waker>>,
}

impl StreamEntry {
    /// The backend index the stream was last sent to.
    pub fn backend(&self) -> Option<usize> {
        Some(self.backend.load(Ordering::Relaxed)).filter(|&b| b != NONE)
    }
    /// The unique index of the server the stream is attached to.
    pub fn server_uid(&self) -> Option<usize> {
        Some(self.server.load(Ordering::Relaxed)).filter(|&s| s != NONE)
    }
    /// Asks the connection task to end now (both sides closed).
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        let waker = self.waker.lock().ok().and_then(|mut w| w.take());
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// Ids start high so they never collide with the CLI's own pseudo-stream (`0x1`).
static NEXT_ID: AtomicU64 = AtomicU64::new(0x1000);
/// Shards of the registry (by id), so accepts on different threads rarely meet on a lock.
const SHARDS: usize = 16;
type Shard = Mutex<BTreeMap<u64, Arc<StreamEntry>>>;
static STREAMS: [Shard; SHARDS] = [const { Mutex::new(BTreeMap::new()) }; SHARDS];

fn shard(id: u64) -> &'static Shard {
    &STREAMS[(id % SHARDS as u64) as usize]
}

tokio::task_local! {
    static CURRENT: Arc<StreamEntry>;
}

/// Removes the entry when the connection ends, however it ends.
struct Registration(u64);
impl Drop for Registration {
    fn drop(&mut self) {
        if let Ok(mut m) = shard(self.0).lock() {
            m.remove(&self.0);
        }
    }
}

/// Runs one client connection `fut` as a registered stream; it is dropped (its sockets closed)
/// if the stream is killed. Not an `async fn`: that would keep a second, inline copy of
/// `fut` in the task beside the boxed one (about 0.8 KB per idle connection).
pub fn run<F: Future<Output = ()>>(
    frontend: usize,
    src: SocketAddr,
    dst: SocketAddr,
    fut: F,
) -> impl Future<Output = ()> {
    let entry = Arc::new(StreamEntry {
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        frontend,
        src,
        dst,
        started: Instant::now(),
        backend: AtomicUsize::new(NONE),
        server: AtomicUsize::new(NONE),
        calls: AtomicU32::new(0),
        killed: AtomicBool::new(false),
        waker: Mutex::new(None),
    });
    if let Ok(mut m) = shard(entry.id).lock() {
        m.insert(entry.id, entry.clone());
    }
    let killable = Killable {
        _reg: Registration(entry.id),
        fut: Box::pin(fut),
        entry: entry.clone(),
        registered: None,
    };
    CURRENT.scope(entry, killable)
}

/// A connection future that ends early when its entry is killed. Per poll it costs one atomic
/// load; the task's waker is stored only when it changes (once, for a task).
struct Killable<F> {
    /// Unregisters the stream when the connection ends, however it ends. First field: it is
    /// dropped before `fut`, so a stream whose sockets are closed is never still listed.
    _reg: Registration,
    fut: Pin<Box<F>>,
    entry: Arc<StreamEntry>,
    registered: Option<Waker>,
}

impl<F: Future<Output = ()>> Future for Killable<F> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if this.entry.killed.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        if this.fut.as_mut().poll(cx).is_ready() {
            return Poll::Ready(());
        }
        if !this
            .registered
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            this.registered = Some(cx.waker().clone());
            if let Ok(mut w) = this.entry.waker.lock() {
                *w = Some(cx.waker().clone());
            }
            // a kill between the first check and the store found no waker: see it now
            if this.entry.killed.load(Ordering::Acquire) {
                return Poll::Ready(());
            }
        }
        Poll::Pending
    }
}

/// Records, for the current connection task, the backend and server its request went to.
pub fn attach_server(backend: usize, server_uid: usize) {
    let _ = CURRENT.try_with(|e| {
        e.backend.store(backend, Ordering::Relaxed);
        e.server.store(server_uid, Ordering::Relaxed);
        e.calls.fetch_add(1, Ordering::Relaxed);
    });
}

/// The current connection ended its exchange with a server (keep-alive: it may go elsewhere).
pub fn detach_server() {
    let _ = CURRENT.try_with(|e| e.server.store(NONE, Ordering::Relaxed));
}

/// Every live stream, oldest first.
pub fn snapshot() -> Vec<Arc<StreamEntry>> {
    let mut all: Vec<Arc<StreamEntry>> = STREAMS
        .iter()
        .filter_map(|m| {
            m.lock()
                .ok()
                .map(|m| m.values().cloned().collect::<Vec<_>>())
        })
        .flatten()
        .collect();
    all.sort_by_key(|e| e.id);
    all
}

/// Kills every stream attached to the server with unique index `uid`; returns how many.
pub fn shutdown_server(uid: usize) -> usize {
    let mut n = 0;
    for e in snapshot() {
        if e.server_uid() == Some(uid) {
            e.kill();
            n += 1;
        }
    }
    n
}

/// Kills the stream with this id; false if there is none.
pub fn shutdown_session(id: u64) -> bool {
    let e = shard(id).lock().ok().and_then(|m| m.get(&id).cloned());
    match e {
        Some(e) => {
            e.kill();
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn killed_streams_end_and_unregister() {
        let a: SocketAddr = "127.0.0.1:1000".parse().unwrap();
        let task = tokio::spawn(run(0, a, a, async {
            attach_server(3, 77_001);
            std::future::pending::<()>().await;
        }));
        let mut found = None;
        for _ in 0..100 {
            found = snapshot()
                .into_iter()
                .find(|e| e.server_uid() == Some(77_001));
            if found.is_some() {
                break;
            }
            tokio::task::yield_now().await;
        }
        let e = found.expect("registered");
        assert_eq!(e.backend(), Some(3));
        assert_eq!(shutdown_server(77_001), 1);
        tokio::time::timeout(std::time::Duration::from_secs(5), task)
            .await
            .unwrap()
            .unwrap();
        assert!(!snapshot().iter().any(|x| x.id == e.id));
        assert!(!shutdown_session(e.id));
    }
}

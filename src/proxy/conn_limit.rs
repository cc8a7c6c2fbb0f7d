//! Connection limits that can change at runtime: the global `maxconn` and each frontend's
//! `maxconn`, which accept loops wait on before accepting, and which `set maxconn global` and
//! `set maxconn frontend` (runtime API) change while connections are open.
//!
//! A limit is two atomics and a `Notify`: taking a slot is one compare-and-swap, releasing one
//! is a decrement and a wake-up. Lowering a limit never drops connections; new ones wait until
//! the count is under the new limit, as HAProxy does.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

use super::runtime::Runtime;

/// One limit (0 = unlimited).
#[derive(Debug, Default)]
pub struct ConnLimit {
    limit: AtomicU32,
    current: AtomicU32,
    freed: Notify,
}

/// A taken slot; released on drop.
#[derive(Debug)]
pub struct ConnSlot(Arc<ConnLimit>);

impl Drop for ConnSlot {
    fn drop(&mut self) {
        let _ = self
            .0
            .current
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| v.checked_sub(1));
        self.0.freed.notify_one();
    }
}

impl ConnLimit {
    pub fn new(limit: u32) -> Arc<ConnLimit> {
        Arc::new(ConnLimit {
            limit: AtomicU32::new(limit),
            current: AtomicU32::new(0),
            freed: Notify::new(),
        })
    }

    pub fn limit(&self) -> u32 {
        self.limit.load(Ordering::Relaxed)
    }

    pub fn current(&self) -> u32 {
        self.current.load(Ordering::Relaxed)
    }

    /// Changes the limit; waiting accept loops re-check at once.
    pub fn set_limit(&self, limit: u32) {
        self.limit.store(limit, Ordering::Release);
        self.freed.notify_waiters();
    }

    fn try_take(&self) -> bool {
        self.current
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
                let limit = self.limit.load(Ordering::Acquire);
                (limit == 0 || v < limit).then_some(v + 1)
            })
            .is_ok()
    }

    /// Waits for a free slot and takes it.
    pub async fn acquire(self: &Arc<Self>) -> ConnSlot {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            if self.try_take() {
                return ConnSlot(self.clone());
            }
            freed.await;
        }
    }
}

/// The process's limits: global, and one per frontend (same order as `Runtime::frontends`).
#[derive(Debug)]
pub struct Limits {
    pub global: Arc<ConnLimit>,
    /// The global limit at startup: `set maxconn global` may not exceed it (`Hard_maxconn`).
    pub hard_global: u32,
    pub frontends: Vec<Arc<ConnLimit>>,
}

impl Limits {
    /// The limits compiled into `rt` (they live in the runtime so the stats page and
    /// `show info` report what is enforced).
    pub fn from_runtime(rt: &Runtime) -> Limits {
        Limits {
            global: rt.global_limit.clone(),
            hard_global: rt.global.maxconn.unwrap_or(0),
            frontends: rt.frontends.iter().map(|f| f.conn_limit.clone()).collect(),
        }
    }

    pub fn frontend(&self, index: usize) -> Option<&Arc<ConnLimit>> {
        self.frontends.get(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn raising_the_limit_wakes_waiters_and_lowering_keeps_slots() {
        let l = ConnLimit::new(1);
        let a = l.acquire().await;
        let l2 = l.clone();
        let waiter = tokio::spawn(async move { l2.acquire().await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        l.set_limit(2);
        let b = tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(l.current(), 2);
        l.set_limit(1);
        assert_eq!(l.current(), 2, "open connections stay");
        drop(a);
        assert!(!l.try_take(), "still at the new limit");
        drop(b);
        assert!(l.try_take());
        l.set_limit(0);
        assert!(l.try_take() && l.try_take(), "0 = unlimited");
    }
}

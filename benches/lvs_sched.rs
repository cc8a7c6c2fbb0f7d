//! IPVS scheduler cost per new connection (user-space LVS, `rhaproxy::lvs::sched`).
//! `cargo bench --bench lvs_sched`
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rhaproxy::keepalived::ir::LbAlgo;
use rhaproxy::lvs::sched::{Dest, Persistence, Scheduler};

fn dests(n: usize) -> Vec<Arc<Dest>> {
    (0..n)
        .map(|i| {
            Arc::new(Dest::new(
                SocketAddr::from(([10, 0, 1, i as u8], 80)),
                1 + (i % 4) as i32,
                0,
            ))
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let d = dests(16);
    for algo in [
        LbAlgo::Rr,
        LbAlgo::Wrr,
        LbAlgo::Wlc,
        LbAlgo::Sh,
        LbAlgo::Lblc,
        LbAlgo::Nq,
    ] {
        let mut s = Scheduler::new(algo);
        s.dests_changed(&d);
        let mut n = 0u32;
        c.bench_function(&format!("schedule {algo:?} 16 dests"), |b| {
            b.iter(|| {
                n = n.wrapping_add(1);
                let client = IpAddr::from(n.to_be_bytes());
                black_box(s.schedule(&d, client, client))
            })
        });
    }
    let mut p = Persistence::new(Duration::from_secs(50), None);
    let now = Instant::now();
    let mut n = 0u32;
    c.bench_function("persistence lookup+bind 64k clients", |b| {
        b.iter(|| {
            n = (n + 1) & 0xffff;
            let client = IpAddr::from(n.to_be_bytes());
            if p.lookup(client, &d, now).is_none() {
                p.bind(client, d[(n % 16) as usize].addr, now);
                p.release(client, now);
            }
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

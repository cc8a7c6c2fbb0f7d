//! Decode + receive-check cost of one VRRP advert (the per-packet hot path).
use std::net::{IpAddr, Ipv4Addr};

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rhaproxy::vrrp::packet::{
    auth_key, check_advert, encode_ipv4, parse_ipv4, Advert, AuthType, Ipv4Frame, RxExpect,
    VrrpVersion, MCAST_V4,
};

fn advert(auth_type: AuthType, version: VrrpVersion) -> Advert {
    Advert {
        version,
        vrid: 51,
        priority: 150,
        auth_type,
        adver_int: 1,
        addrs: vec![IpAddr::V4(Ipv4Addr::new(192, 168, 57, 222))],
        auth_key: auth_key("secret12"),
    }
}

fn bench(c: &mut Criterion) {
    let key = auth_key("secret12");
    for (name, auth, version) in [
        ("v2_pass", AuthType::Pass, VrrpVersion::V2),
        ("v2_ah", AuthType::Ah, VrrpVersion::V2),
        ("v3", AuthType::None, VrrpVersion::V3),
    ] {
        let adv = advert(auth, version);
        let frame = Ipv4Frame {
            src: Ipv4Addr::new(192, 168, 57, 130),
            dst: MCAST_V4,
            ttl: 255,
            ip_id: 1,
            ah: (auth == AuthType::Ah).then_some((&key, 1)),
            unicast: false,
        };
        let dgram = encode_ipv4(&adv, &frame);
        let exp = RxExpect {
            version,
            auth_type: auth,
            auth_key: &key,
            adver_int_secs: 1,
            vips: &adv.addrs,
            check_vips: true,
            unicast: false,
            unicast_peers: &[],
            check_unicast_src: false,
            ah_seq: 0,
        };
        c.bench_function(&format!("decode_check_{name}"), |b| {
            b.iter(|| {
                let rx = parse_ipv4(black_box(&dgram)).ok();
                rx.map(|rx| check_advert(&rx, &exp).is_ok())
            })
        });
        c.bench_function(&format!("encode_{name}"), |b| {
            b.iter(|| encode_ipv4(black_box(&adv), &frame))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Parsing + validating a generated haproxy.cfg (N backends × 10 servers), the work
//! `rhaproxy -c` does. benches/check_large.sh compares the binary with `haproxy -c` on
//! 10,000 × 10.
use criterion::{criterion_group, criterion_main, Criterion};

use rhaproxy::diag::SourceMap;
use rhaproxy::haproxy::parser::{self, ParseOptions};
use rhaproxy::haproxy::validate::{self, ValidateOptions};

/// The same shape as check_large.sh generates.
pub fn generate(backends: usize, servers: usize) -> String {
    let mut s = String::with_capacity(backends * servers * 80);
    s.push_str("global\n    maxconn 100000\n\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n    option httplog\n\n");
    s.push_str("frontend www\n    bind 127.0.0.1:18080\n");
    for b in 0..backends.min(100) {
        s.push_str(&format!(
            "    acl host_{b} hdr(host) -i b{b}.example.com\n    use_backend be{b} if host_{b}\n"
        ));
    }
    s.push_str("    default_backend be0\n\n");
    for b in 0..backends {
        s.push_str(&format!(
            "backend be{b}\n    balance roundrobin\n    option httpchk GET /health\n"
        ));
        for n in 0..servers {
            let ip = b * servers + n;
            s.push_str(&format!(
                "    server s{n} 10.{}.{}.{}:8080 check inter 2s fall 3 rise 2 weight {}\n",
                (ip >> 16) & 255,
                (ip >> 8) & 255,
                ip & 255,
                1 + n
            ));
        }
        s.push('\n');
    }
    s
}

fn check(text: &str) -> usize {
    let mut sources = SourceMap::new();
    let id = sources.add("bench.cfg", text);
    let mut p = parser::Parser::new(ParseOptions::default());
    p.parse_file(id, "bench.cfg", text);
    let parsed = p.finish();
    let mut cfg = parsed.config;
    let findings = validate::validate(&mut cfg, &sources, ValidateOptions::default());
    cfg.proxies.len() + findings.len()
}

fn bench(c: &mut Criterion) {
    let text = generate(1000, 10);
    let mut g = c.benchmark_group("haproxy_check");
    g.sample_size(10);
    g.bench_function("parse_validate_1000x10", |b| b.iter(|| check(&text)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Hot-path micro-benchmarks of the L7 decision logic: server pick for every balance
//! algorithm, ACL/condition evaluation, header rewriting, cookie persistence.
//! Run: `cargo bench --bench lb_hot`.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use rhaproxy::haproxy::ir;
use rhaproxy::proxy::acl::CompiledCond;
use rhaproxy::proxy::balance::{BalanceConf, Balancer, HashLookup, HashType, LbAlgo, LbServer};
use rhaproxy::proxy::cookie::CookiePersist;
use rhaproxy::proxy::ctx::{ConnInfo, HdrField, RequestCtx, RequestHead, Vars};
use rhaproxy::proxy::rules::{RuleEnv, RuleSet};
use rhaproxy::proxy::sample::{CompileEnv, EvalCtx};
use rhaproxy::proxy::server_state::{ServerSet, ServerState};

fn head() -> RequestHead {
    let h = |n: &str, v: &str| HdrField::new(n.as_bytes().to_vec(), v.as_bytes().to_vec());
    RequestHead {
        method: Bytes::from_static(b"GET"),
        uri: Bytes::from_static(b"/api/v1/users/42?id=1234&sort=asc"),
        version: Bytes::from_static(b"HTTP/1.1"),
        headers: vec![
            h("Host", "www.example.com"),
            h(
                "User-Agent",
                "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/120.0",
            ),
            h(
                "Accept",
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            ),
            h("Accept-Language", "en-US,en;q=0.5"),
            h("Accept-Encoding", "gzip, deflate, br"),
            h("Connection", "keep-alive"),
            h("Cookie", "_ga=GA1.2.3; SRV=s3; theme=dark"),
            h("X-User", "alice"),
            h("X-Secret", "drop-me"),
            h("Upgrade-Insecure-Requests", "1"),
        ],
    }
}

fn conn() -> ConnInfo {
    ConnInfo {
        src: "192.168.10.20:51234".parse().unwrap(),
        dst: "10.0.0.1:80".parse().unwrap(),
        ssl_fc: false,
        ssl_sni: None,
        pp_unique_id: None,
    }
}

fn parse(text: &str) -> ir::Config {
    let (p, _) = rhaproxy::haproxy::parser::parse_text("bench.cfg", text, Default::default());
    assert!(!p.has_errors(), "{:?}", p.findings);
    p.config
}

fn bench_balance(c: &mut Criterion) {
    let h = head();
    let ci = conn();
    let vars = Vars::new();
    let req = RequestCtx::new(&h, &ci, "fe", "be", &vars);
    let consistent = HashType::from_parts(HashLookup::Consistent, None, false);
    let algos: Vec<(&str, LbAlgo, HashType)> = vec![
        ("roundrobin", LbAlgo::RoundRobin, HashType::default()),
        ("static-rr", LbAlgo::StaticRr, HashType::default()),
        ("leastconn", LbAlgo::LeastConn, HashType::default()),
        ("first", LbAlgo::First, HashType::default()),
        ("source", LbAlgo::Source, HashType::default()),
        (
            "uri",
            LbAlgo::Uri {
                whole: false,
                path_only: false,
                len: 0,
                depth: 0,
            },
            HashType::default(),
        ),
        (
            "uri-consistent",
            LbAlgo::Uri {
                whole: false,
                path_only: false,
                len: 0,
                depth: 0,
            },
            consistent,
        ),
        (
            "url_param",
            LbAlgo::UrlParam {
                name: b"id"[..].into(),
            },
            HashType::default(),
        ),
        (
            "hdr",
            LbAlgo::Hdr {
                name: b"x-user"[..].into(),
                use_domain_only: false,
            },
            HashType::default(),
        ),
        (
            "random(2)",
            LbAlgo::Random { draws: 2 },
            HashType::default(),
        ),
    ];
    let mut g = c.benchmark_group("pick");
    for (name, algo, hash_type) in algos {
        let weights = [3u32, 2, 1, 1, 1, 1, 1, 1];
        let conf = BalanceConf {
            algo,
            hash_type,
            allbackups: false,
            servers: weights
                .iter()
                .enumerate()
                .map(|(i, &w)| LbServer {
                    id: i as u32 + 1,
                    backup: false,
                    weight: w,
                    disabled: false,
                })
                .collect(),
        };
        let b = Balancer::new(&conf);
        let live = ServerSet::new(
            weights
                .iter()
                .map(|&w| ServerState::new(w, false, 0))
                .collect(),
        );
        g.bench_function(name, |bn| {
            bn.iter(|| black_box(b.pick(black_box(&req), &live)))
        });
    }
    g.finish();
}

const CFG: &str = r#"
defaults
    mode http
frontend fe
    bind 127.0.0.1:8080
    acl is_api path_beg /api /v2
    acl host_ok hdr(host) -i www.example.com example.com
    acl internal src 10.0.0.0/8 192.168.0.0/16
    acl is_get method GET HEAD
    acl static path_end .css .js .png .jpg .gif .svg .woff2
    acl bad_agent hdr_sub(user-agent) -i curl wget python-requests sqlmap nikto
    acl many_hosts hdr(host) -i a1.com a2.com a3.com a4.com a5.com a6.com a7.com a8.com a9.com a10.com a11.com a12.com a13.com a14.com a15.com a16.com a17.com a18.com a19.com www.example.com
    http-request deny if bad_agent
    http-request set-header X-Forwarded-Proto http
    http-request set-header X-Client-IP %[src]
    http-request add-header X-Request-Path %[path]
    http-request del-header X-Secret
    http-request replace-path ^/api/v1/(.*) /\1
    use_backend api if is_api host_ok is_get
    default_backend web
backend api
    cookie SRV insert indirect nocache
    server s1 127.0.0.1:1 cookie s1
    server s2 127.0.0.1:2 cookie s2
    server s3 127.0.0.1:3 cookie s3
backend web
    server w1 127.0.0.1:4
"#;

fn bench_acl_and_rules(c: &mut Criterion) {
    let cfg = parse(CFG);
    let env = CompileEnv::from_config(&cfg);
    let fe = cfg.proxy("fe").unwrap();
    let rules = RuleSet::compile(fe, &env).unwrap();
    let h = head();
    let ci = conn();
    let vars = Vars::new();
    let req = RequestCtx::new(&h, &ci, "fe", "", &vars);
    let ec = EvalCtx::new(&req);

    let mut g = c.benchmark_group("acl");
    for name in [
        "is_api",
        "host_ok",
        "internal",
        "is_get",
        "static",
        "bad_agent",
        "many_hosts",
    ] {
        let acl = rules.acls.get(name, &env).unwrap();
        g.bench_function(name, |b| b.iter(|| black_box(acl.matches(black_box(&ec)))));
    }
    let cond_ir = &fe.use_backends[0].cond;
    let cond = CompiledCond::compile(cond_ir.as_ref().unwrap(), &rules.acls, &env).unwrap();
    g.bench_function("cond is_api host_ok is_get", |b| {
        b.iter(|| black_box(cond.eval(black_box(&ec))))
    });
    g.bench_function("use_backend select", |b| {
        b.iter(|| {
            black_box(
                rules
                    .switching
                    .select(black_box(&ec), &|n| n == "api" || n == "web"),
            )
        })
    });
    g.finish();

    let mut g = c.benchmark_group("rules");
    let renv = RuleEnv {
        conn: &ci,
        frontend: "fe",
        backend: "",
        proxies: None,
    };
    g.bench_function("http-request 6 rules (clone head incl.)", |b| {
        b.iter_batched(
            || (head(), Vars::new()),
            |(mut hd, mut v)| black_box(rules.apply_request(&mut hd, &renv, &mut v)),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("clone head only (baseline)", |b| {
        b.iter_batched(
            || (),
            |_| black_box((head(), Vars::new())),
            BatchSize::SmallInput,
        )
    });
    g.finish();

    let be = cfg.proxy("api").unwrap();
    let sc: Vec<Option<String>> = be.servers.iter().map(|s| s.cookie.clone()).collect();
    let ck = CookiePersist::from_ir(be.cookie.as_ref().unwrap(), &sc);
    let live = ServerSet::new(vec![
        ServerState::new(1, false, 0),
        ServerState::new(1, false, 0),
        ServerState::new(1, false, 0),
    ]);
    let mut g = c.benchmark_group("cookie");
    g.bench_function("insert indirect: on_request (strip)", |b| {
        b.iter_batched(
            head,
            |mut hd| black_box(ck.on_request(&mut hd, &live, false, 0)),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench_balance, bench_acl_and_rules);
criterion_main!(benches);

//! Entry points for the fuzz target (fuzz/fuzz_targets/haproxy_config.rs) and the
//! property tests: arbitrary input must never panic or hang the front end.

use std::collections::HashMap;

use crate::diag::SourceMap;
use crate::haproxy::parser::{self, ParseOptions};
use crate::haproxy::printer;
use crate::haproxy::validate::{self, ValidateOptions};

/// Lexes, parses, validates and prints `data`, then parses the printed text again.
/// Returns the printed configuration (None when the input had errors).
pub fn check_bytes(data: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(data);
    let opts = ParseOptions {
        warn_unimplemented: true,
        env: Some(HashMap::new()),
    };
    let mut sources = SourceMap::new();
    let id = sources.add("fuzz.cfg", text.as_ref());
    let mut p = parser::Parser::new(opts.clone());
    p.parse_file(id, "fuzz.cfg", &text);
    let parsed = p.finish();
    // rendering every finding must not panic either
    for f in &parsed.findings {
        let _ = f.haproxy_text(&sources);
    }
    if parsed.has_errors() {
        return None;
    }
    let mut cfg = parsed.config;
    let _ = validate::validate(
        &mut cfg,
        &sources,
        ValidateOptions {
            ignore_resolution_failures: true,
        },
    );
    let printed = printer::print_config(&cfg);
    let (again, _) = parser::parse_text("printed.cfg", &printed, opts);
    let _ = printer::print_config(&again.config);
    Some(printed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Span;
    use crate::haproxy::ir::*;
    use proptest::prelude::*;
    use std::time::Duration;

    const SAMPLE: &str = include_str!("../../tests/data/haproxy/sample.cfg");

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = check_bytes(&data);
        }

        #[test]
        fn mutated_sample_lines_never_panic(
            picks in proptest::collection::vec((0usize..200, 0usize..80, any::<char>()), 1..20)
        ) {
            let mut lines: Vec<String> = SAMPLE.lines().map(str::to_string).collect();
            for (l, pos, c) in picks {
                let n = lines.len();
                let line = &mut lines[l % n];
                let mut chars: Vec<char> = line.chars().collect();
                let p = pos % (chars.len() + 1);
                match pos % 3 {
                    0 => chars.insert(p, c),
                    1 if p < chars.len() => { chars.remove(p); }
                    _ => chars.insert(p, [' ', '"', '\'', '\\', '#', '$', '{', '}', '(', ')', ','][pos % 11]),
                }
                *line = chars.into_iter().collect();
            }
            let text = lines.join("\n") + "\n";
            let _ = check_bytes(text.as_bytes());
        }

        #[test]
        fn ir_round_trips_through_text(cfg in arb_config()) {
            let first = printer::print_config(&cfg);
            let (parsed, _) = parser::parse_text("rt.cfg", &first, ParseOptions::default());
            let errors: Vec<_> = parsed.findings.iter().filter(|f| f.diag.is_error()).map(|f| f.diag.message.clone()).collect();
            prop_assert!(errors.is_empty(), "printed config does not parse: {:?}\n{}", errors, first);
            let second = printer::print_config(&parsed.config);
            prop_assert_eq!(&first, &second);
            // and the typed values survived
            for (a, b) in cfg.proxies.iter().zip(parsed.config.proxies.iter()) {
                prop_assert_eq!(&a.name, &b.name);
                prop_assert_eq!(a.kind, b.kind);
                prop_assert_eq!(a.mode, b.mode);
                prop_assert_eq!(a.timeouts, b.timeouts);
                prop_assert_eq!(&a.balance, &b.balance);
                prop_assert_eq!(a.servers.len(), b.servers.len());
                for (s, t) in a.servers.iter().zip(b.servers.iter()) {
                    prop_assert_eq!(&s.addr, &t.addr);
                    prop_assert_eq!((s.weight, s.rise, s.fall, s.inter, s.check, s.backup), (t.weight, t.rise, t.fall, t.inter, t.check, t.backup));
                }
                prop_assert_eq!(a.binds.iter().map(|b| b.addrs.clone()).collect::<Vec<_>>(), b.binds.iter().map(|b| b.addrs.clone()).collect::<Vec<_>>());
            }
        }
    }

    fn arb_duration() -> impl Strategy<Value = Option<Duration>> {
        prop_oneof![
            Just(None),
            (1u64..100_000).prop_map(|ms| Some(Duration::from_millis(ms))),
            (1u64..1000).prop_map(|s| Some(Duration::from_secs(s))),
        ]
    }

    fn arb_balance() -> impl Strategy<Value = Option<BalanceAlgo>> {
        prop_oneof![
            Just(None),
            Just(Some(BalanceAlgo::RoundRobin)),
            Just(Some(BalanceAlgo::LeastConn)),
            Just(Some(BalanceAlgo::Source)),
            Just(Some(BalanceAlgo::First)),
            (1u32..5).prop_map(|d| Some(BalanceAlgo::Random { draws: d })),
            (proptest::option::of(1u32..100), any::<bool>()).prop_map(|(len, whole)| Some(
                BalanceAlgo::Uri {
                    len,
                    depth: None,
                    whole,
                    path_only: false
                }
            )),
            "[a-z]{1,8}".prop_map(|n| Some(BalanceAlgo::Hdr {
                name: n,
                use_domain_only: false
            })),
        ]
    }

    fn arb_server(i: usize) -> impl Strategy<Value = Server> {
        (
            any::<[u8; 4]>(),
            1u16..65535,
            0u32..=256,
            1u32..10,
            1u32..10,
            any::<bool>(),
            any::<bool>(),
            1u64..60,
        )
            .prop_map(
                move |(ip, port, weight, rise, fall, check, backup, inter)| {
                    let host = format!("{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3]);
                    Server {
                        name: format!("s{i}"),
                        addr: ServerAddr::Inet {
                            resolved: host.parse().ok(),
                            host,
                            port: ServerPort::Fixed(port),
                        },
                        weight,
                        rise,
                        fall,
                        check,
                        backup,
                        inter: Duration::from_secs(inter),
                        ..Server::default()
                    }
                },
            )
    }

    fn arb_proxy(i: usize) -> impl Strategy<Value = Proxy> {
        (
            prop_oneof![
                Just(ProxyKind::Frontend),
                Just(ProxyKind::Backend),
                Just(ProxyKind::Listen)
            ],
            prop_oneof![Just(ProxyMode::Tcp), Just(ProxyMode::Http)],
            arb_duration(),
            arb_duration(),
            arb_duration(),
            arb_balance(),
            proptest::collection::vec(1024u16..65000, 0..3),
            (0usize..4).prop_flat_map(|n| (0..n).map(arb_server).collect::<Vec<_>>()),
        )
            .prop_map(
                move |(kind, mode, connect, client, server, balance, ports, servers)| {
                    let mut p = Proxy {
                        kind,
                        mode,
                        name: format!("px{i}"),
                        ..Proxy::default()
                    };
                    if kind.has_frontend() {
                        p.timeouts.client = client;
                    }
                    if kind.has_backend() {
                        p.timeouts.connect = connect;
                        p.timeouts.server = server;
                        p.balance = balance;
                        p.servers = servers;
                    }
                    if kind.has_frontend() {
                        for port in ports {
                            p.binds.push(Bind {
                                addrs: vec![ListenAddr::Inet {
                                    ip: "127.0.0.1".parse().unwrap_or(std::net::IpAddr::V4(
                                        std::net::Ipv4Addr::LOCALHOST,
                                    )),
                                    ports: PortRange {
                                        low: port,
                                        high: port,
                                    },
                                    v6only: false,
                                }],
                                addr_text: format!("127.0.0.1:{port}"),
                                options: BindOptions::default(),
                                span: Span::default(),
                            });
                        }
                    }
                    p
                },
            )
    }

    fn arb_config() -> impl Strategy<Value = Config> {
        (1usize..5)
            .prop_flat_map(|n| (0..n).map(arb_proxy).collect::<Vec<_>>())
            .prop_map(|proxies| Config {
                proxies,
                ..Config::default()
            })
    }

    #[test]
    fn sample_config_round_trips() {
        let printed = check_bytes(SAMPLE.as_bytes()).expect("sample.cfg is valid");
        assert!(printed.contains("backend app"), "{printed}");
    }
}

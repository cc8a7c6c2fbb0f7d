//! `rhaproxy -c` names every keyword, action, fetch and converter the engine does not act on
//! yet, with FILE:LINE, as a "not implemented yet" notice that leaves the exit status alone
//! (also under -dW). Keywords the engine runs get no such notice.

use std::process::Command;

use crate::util::rhaproxy_bin;

/// (configuration line, Some(text the notice on that line names) | None for no notice).
const LINES: &[(&str, Option<&str>)] = &[
    ("global", None),
    ("  chroot /tmp", Some("keyword 'chroot'")),
    ("  maxconn 100", None),
    (
        "  ssl-default-bind-ciphers ECDHE",
        Some("keyword 'ssl-default-bind-ciphers'"),
    ),
    ("resolvers dns", Some("keyword 'resolvers'")),
    ("  nameserver a 127.0.0.1:53", None),
    ("defaults", None),
    ("  mode http", None),
    ("  timeout client 1s", None),
    ("  timeout server 1s", None),
    ("  timeout connect 1s", None),
    ("  option tcpka", Some("keyword 'option tcpka'")),
    ("  option forwardfor", None),
    ("  no option abortonclose", None),
    ("frontend fe", None),
    ("  bind 127.0.0.1:8080 tfo", Some("keyword 'bind tfo'")),
    ("  bind 127.0.0.1:8081 v6only", None),
    (
        "  acl body req.body_size gt 10",
        Some("sample fetch 'req.body_size'"),
    ),
    ("  acl api path_beg /api", None),
    ("  tcp-request connection reject if { src 10.0.0.1 }", None),
    ("  tcp-request inspect-delay 5s", None),
    // tcp content rules run in mode http frontends too (per request)
    ("  tcp-request content accept", None),
    ("  acl h hdr(host),lower -m str a", None),
    (
        "  http-request set-header X %[req.hdr(host),crc32c]",
        Some("converter 'crc32c'"),
    ),
    ("  http-request set-header Y %[req.hdr(host),lower]", None),
    (
        "  http-request deny if { ssl_c_used }",
        Some("sample fetch 'ssl_c_used'"),
    ),
    (
        "  http-request early-hint Link x",
        Some("keyword 'http-request early-hint'"),
    ),
    ("  http-response set-status 200 if { status 404 }", None),
    (
        "  timeout client-fin 1s",
        Some("keyword 'timeout client-fin'"),
    ),
    ("  stats admin if TRUE", None),
    (
        "  capture request header Host len 20",
        Some("keyword 'capture request header'"),
    ),
    ("  use_backend be if api", None),
    ("  default_backend be", None),
    ("backend be", None),
    ("  balance roundrobin", None),
    ("  option mysql-check", None),
    ("  server a 127.0.0.1:9 check inter 2s weight 10", None),
    (
        "  server b 127.0.0.1:9 slowstart 10s",
        Some("keyword 'server slowstart'"),
    ),
    ("  server c 127.0.0.1:9 send-proxy", None),
    // TLS towards servers is done (mode tcp and http), without ALPN
    (
        "  server d 127.0.0.1:9 ssl verify none alpn h2",
        Some("keyword 'server alpn'"),
    ),
    ("backend be2", None),
    (
        "  balance hash req.hdr(host)",
        Some("keyword 'balance hash'"),
    ),
    ("  option httpchk", None),
    (
        "  http-check expect hdr name x-ok",
        Some("keyword 'http-check expect hdr'"),
    ),
    ("  http-check expect status 200", None),
    // server-side TLS: a constant SNI is sent, a per-request one is not evaluated
    (
        "  server e 127.0.0.1:9 ssl verify none sni str(a.test)",
        None,
    ),
    (
        "  server f 127.0.0.1:9 ssl verify none sni req.hdr(host)",
        Some("server sni 'req.hdr(host)'"),
    ),
];

fn check(args: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("gaps.cfg");
    let text: String = LINES.iter().map(|(l, _)| format!("{l}\n")).collect();
    std::fs::write(&path, text).expect("write config");
    let out = Command::new(rhaproxy_bin())
        .args(["-c", "--diag-format", "haproxy"])
        .args(args)
        .arg("-f")
        .arg(&path)
        .output()
        .expect("run rhaproxy");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), stderr)
}

/// (line number, message) of each "not implemented yet" notice.
fn notices(stderr: &str) -> Vec<(usize, String)> {
    stderr
        .lines()
        .filter(|l| l.starts_with("[WARNING]") && l.ends_with("is not implemented yet in rhaproxy"))
        .filter_map(|l| {
            let at = l.find("gaps.cfg:")? + "gaps.cfg:".len();
            let end = at + l[at..].find(']')?;
            let line = l[at..end].parse().ok()?;
            let msg = l[end..].trim_start_matches("] : ").to_string();
            Some((line, msg))
        })
        .collect()
}

#[test]
fn unimplemented_keywords_are_named_with_file_and_line() {
    let (code, stderr) = check(&[]);
    assert_eq!(
        code, 0,
        "notices must not change the exit status:\n{stderr}"
    );
    let found = notices(&stderr);
    for (i, (line, expected)) in LINES.iter().enumerate() {
        let n = i + 1;
        let here: Vec<&String> = found
            .iter()
            .filter(|(l, _)| *l == n)
            .map(|(_, m)| m)
            .collect();
        match expected {
            Some(what) => assert!(
                here.iter().any(|m| m.starts_with(what)),
                "line {n} `{line}`: expected a notice naming {what}, got {here:?}\n{stderr}"
            ),
            None => assert!(
                here.is_empty(),
                "line {n} `{line}`: unexpected notice {here:?}"
            ),
        }
    }
    // once per line and thing: tcp-request content accept is not also warned as tcp-request content
    let tcp_line = 1 + LINES
        .iter()
        .position(|(l, _)| l.contains("tcp-request content accept"))
        .expect("table has a tcp-request content rule");
    // (it runs in this mode http frontend, so it is not warned at all now)
    assert!(
        found.iter().filter(|(l, _)| *l == tcp_line).count() <= 1,
        "{found:?}"
    );
}

#[test]
fn notices_stay_out_of_the_exit_status_and_can_be_silenced() {
    let (code, stderr) = check(&["-dW"]);
    assert_eq!(
        code, 0,
        "-dW must not fail on 'not implemented yet' notices:\n{stderr}"
    );
    let (code, stderr) = check(&["--no-unimplemented-warnings"]);
    assert_eq!(code, 0);
    assert!(notices(&stderr).is_empty(), "{stderr}");
}

//! TLS through the real binary, compared with real haproxy: certificates chosen by SNI among
//! combined PEM files in a `crt` directory and a `crt-list`, ALPN h2 and http/1.1 with curl,
//! `ssl_fc`/`ssl_fc_sni`, `http-request redirect scheme https unless { ssl_fc }`, and
//! server-side `ssl verify required ca-file ... sni ...` in mode tcp.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::proxy_tcp::{free_port, Proxy};
use crate::util::require;

/// A test CA and leaf certificates for `names`, each written as HAProxy's combined PEM
/// (certificate + key) into `dir/certs/NN-name.pem`. Returns the CA file.
fn make_certs(dir: &Path, names: &[&str]) -> PathBuf {
    let run = |args: &[&str]| {
        let o = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=rhaproxy test CA",
    ]);
    std::fs::create_dir_all(dir.join("certs")).unwrap();
    for (i, n) in names.iter().enumerate() {
        run(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &format!("{n}.key"),
            "-out",
            &format!("{n}.csr"),
            "-subj",
            &format!("/CN={n}"),
        ]);
        std::fs::write(
            dir.join(format!("{n}.ext")),
            format!("subjectAltName=DNS:{n}\nbasicConstraints=CA:FALSE\n"),
        )
        .unwrap();
        run(&[
            "x509",
            "-req",
            "-in",
            &format!("{n}.csr"),
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &format!("{n}.crt"),
            "-days",
            "2",
            "-extfile",
            &format!("{n}.ext"),
        ]);
        let mut pem = std::fs::read(dir.join(format!("{n}.crt"))).unwrap();
        pem.extend(std::fs::read(dir.join(format!("{n}.key"))).unwrap());
        std::fs::write(dir.join("certs").join(format!("{i:02}-{n}.pem")), pem).unwrap();
    }
    dir.join("ca.pem")
}

/// The subject CN the server presents for `sni` (None: no SNI sent).
fn served_cn(port: u16, sni: Option<&str>) -> String {
    let mut c = Command::new("openssl");
    c.args(["s_client", "-connect", &format!("127.0.0.1:{port}")]);
    match sni {
        Some(s) => c.args(["-servername", s]),
        None => c.arg("-noservername"),
    };
    let o = c.stdin(std::process::Stdio::null()).output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    out.lines()
        .find(|l| l.starts_with("subject="))
        .map(|l| l.replace(' ', ""))
        .unwrap_or_else(|| "<none>".into())
}

/// curl: (http version, status, body, location).
fn curl(
    port: u16,
    scheme: &str,
    host: &str,
    ca: &Path,
    extra: &[&str],
) -> (String, String, String) {
    let o = Command::new("curl")
        .args([
            "-s",
            "-m",
            "10",
            "--resolve",
            &format!("{host}:{port}:127.0.0.1"),
        ])
        .arg("--cacert")
        .arg(ca)
        .args(extra)
        .args(["-w", "|%{http_version}|%{http_code}|%{redirect_url}"])
        .arg(format!("{scheme}://{host}:{port}/path?q=1"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let mut parts = out.rsplitn(4, '|');
    let redirect = parts.next().unwrap_or("").to_string();
    let code = parts.next().unwrap_or("").to_string();
    let version = parts.next().unwrap_or("").to_string();
    let body = parts.next().unwrap_or("").to_string();
    (format!("{version} {code}"), body, redirect)
}

#[test]
fn proxy_tls_sni_alpn_redirect_differential() {
    if !require("openssl") || !require("curl") || !require("haproxy") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ca = make_certs(dir.path(), &["a.test", "b.test"]);
    // a crt-list with an explicit SNI filter for a third name served by b's certificate
    let list = dir.path().join("list.txt");
    std::fs::write(
        &list,
        format!(
            "{} [alpn http/1.1] c.test\n",
            dir.path().join("certs/01-b.test.pem").display()
        ),
    )
    .unwrap();
    let (http, https, listp) = (free_port(), free_port(), free_port());
    let cfg = format!(
        "global\n  nbthread 1\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind 127.0.0.1:{http}\n  bind 127.0.0.1:{https} ssl crt {certs} alpn h2,http/1.1\n\
         \x20 http-request redirect scheme https unless {{ ssl_fc }}\n\
         \x20 http-request return status 200 content-type text/plain lf-string \"sni=%[ssl_fc_sni] ssl=%[ssl_fc] path=%[path]\"\n\
         frontend fl\n  bind 127.0.0.1:{listp} ssl crt-list {list}\n\
         \x20 http-request return status 200 content-type text/plain lf-string \"list sni=%[ssl_fc_sni]\"\n",
        certs = dir.path().join("certs").display(),
        list = list.display(),
    );
    let probe = |_: &Proxy| {
        let mut v = Vec::new();
        for sni in [
            Some("a.test"),
            Some("b.test"),
            Some("B.TEST"),
            Some("other.test"),
            None,
        ] {
            v.push(format!("{sni:?} -> {}", served_cn(https, sni)));
        }
        v.push(format!(
            "crt-list c.test -> {}",
            served_cn(listp, Some("c.test"))
        ));
        for host in ["a.test", "b.test"] {
            v.push(format!(
                "h2 {host}: {:?}",
                curl(https, "https", host, &ca, &["--http2"])
            ));
            v.push(format!(
                "h1 {host}: {:?}",
                curl(https, "https", host, &ca, &["--http1.1"])
            ));
        }
        v.push(format!(
            "crt-list h1: {:?}",
            curl(listp, "https", "c.test", &ca, &["--http1.1", "-k"])
        ));
        v.push(format!(
            "plain: {:?}",
            curl(http, "http", "a.test", &ca, &[])
        ));
        v
    };
    let h = Proxy::haproxy(&cfg, &[http, https, listp]);
    let want = probe(&h);
    drop(h);
    let r = Proxy::rhaproxy(&cfg, &[http, https, listp]);
    let got = probe(&r);
    // the reference did what the test means
    assert!(
        want[0].contains("CN=a.test") && want[1].contains("CN=b.test"),
        "{want:#?}"
    );
    assert!(
        want.iter().any(|l| l.starts_with("h2 a.test: (\"2 200\"")),
        "{want:#?}"
    );
    assert!(
        want.iter().any(|l| l.contains("301") || l.contains("302")),
        "{want:#?}"
    );
    assert!(
        want.iter().any(|l| l.contains("list sni=c.test")),
        "{want:#?}"
    );
    assert_eq!(want, got, "stderr: {}", r.stderr());
}

#[test]
fn proxy_tls_server_side_verify_and_sni() {
    if !require("openssl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ca = make_certs(dir.path(), &["a.test", "b.test"]);
    let (tls_port, ok_port, bad_port, none_port) =
        (free_port(), free_port(), free_port(), free_port());
    // a TLS HTTP frontend, and three mode-tcp relays that re-encrypt towards it
    let cfg = format!(
        "defaults\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n\
         frontend tlsfe\n  mode http\n  bind 127.0.0.1:{tls_port} ssl crt {certs}\n\
         \x20 http-request return status 200 content-type text/plain lf-string \"sni=%[ssl_fc_sni]\"\n\
         listen ok\n  mode tcp\n  bind 127.0.0.1:{ok_port}\n  server s 127.0.0.1:{tls_port} ssl verify required ca-file {ca} sni str(b.test)\n\
         listen bad\n  mode tcp\n  bind 127.0.0.1:{bad_port}\n  server s 127.0.0.1:{tls_port} ssl verify required ca-file {ca} sni str(wrong.test)\n\
         listen none\n  mode tcp\n  bind 127.0.0.1:{none_port}\n  server s 127.0.0.1:{tls_port} ssl verify none\n",
        certs = dir.path().join("certs").display(),
        ca = ca.display(),
    );
    let r = Proxy::rhaproxy(&cfg, &[tls_port, ok_port, bad_port, none_port]);
    let get = |port: u16| {
        String::from_utf8_lossy(&super::proxy_tcp::exchange(
            port,
            b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        ))
        .into_owned()
    };
    let ok = get(ok_port);
    assert!(
        ok.starts_with("HTTP/1.1 200") && ok.ends_with("sni=b.test"),
        "{ok}\n{}",
        r.stderr()
    );
    // wrong name: verification fails, the connection is closed without a response
    assert_eq!(get(bad_port), "");
    // verify none: no SNI sent, any certificate accepted
    let none = get(none_port);
    assert!(
        none.starts_with("HTTP/1.1 200") && none.ends_with("sni="),
        "{none}"
    );
}

#[test]
fn proxy_tls_bad_certificate_fails_startup() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.pem");
    std::fs::write(&bad, "not a certificate\n").unwrap();
    let port = free_port();
    let cfg = format!(
        "defaults\n  mode http\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\nfrontend f\n  bind 127.0.0.1:{port} ssl crt {}\n  http-request return status 200\n",
        bad.display()
    );
    let path = dir.path().join("h.cfg");
    std::fs::write(&path, cfg).unwrap();
    let o = Command::new(crate::util::rhaproxy_bin())
        .arg("-db")
        .arg("-f")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("bad.pem"), "{e}");
}

#[test]
fn proxy_h2c_prior_knowledge_differential() {
    if !require("curl") || !require("haproxy") {
        return;
    }
    let cfg = "defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n\
               frontend f\n  bind 127.0.0.1:{PORT} proto h2\n\
               \x20 http-request return status 200 content-type text/plain lf-string \"h2c path=%[path] host=%[req.hdr(host)]\"\n";
    let (h, r) = super::proxy_tcp::differential(cfg, |port| {
        let o = Command::new("curl")
            .args([
                "-s",
                "-m",
                "10",
                "--http2-prior-knowledge",
                "-w",
                "|%{http_version}|%{http_code}",
            ])
            .arg(format!("http://127.0.0.1:{port}/p?x=1"))
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).replace(&format!(":{port}"), ":PORT")
    });
    assert!(h.ends_with("|2|200") && h.contains("h2c path=/p"), "{h}");
    assert_eq!(h, r);
}

/// An HTTP/1.1 backend that answers each request with `METHOD PATH BODY` (close after one).
fn echo_http_backend() -> u16 {
    use std::io::{BufRead, BufReader, Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { continue };
            std::thread::spawn(move || {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut line = String::new();
                r.read_line(&mut line).unwrap_or(0);
                let (mut len, mut chunked) = (0usize, false);
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap_or(0) <= 2 {
                        break;
                    }
                    let l = h.to_ascii_lowercase();
                    if let Some(v) = l.strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                    if l.starts_with("transfer-encoding:") && l.contains("chunked") {
                        chunked = true;
                    }
                }
                let mut body = Vec::new();
                if chunked {
                    loop {
                        let mut sz = String::new();
                        r.read_line(&mut sz).unwrap_or(0);
                        let n = usize::from_str_radix(sz.trim(), 16).unwrap_or(0);
                        let mut chunk = vec![0u8; n + 2];
                        r.read_exact(&mut chunk).unwrap_or(());
                        if n == 0 {
                            break;
                        }
                        body.extend_from_slice(&chunk[..n]);
                    }
                } else {
                    body.resize(len, 0);
                    r.read_exact(&mut body).unwrap_or(());
                }
                let mut parts = line.split(' ');
                let out = format!(
                    "{} {} {}",
                    parts.next().unwrap_or(""),
                    parts.next().unwrap_or(""),
                    String::from_utf8_lossy(&body)
                );
                let mut w = s;
                let _ = write!(
                    w,
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{out}",
                    out.len()
                );
            });
        }
    });
    port
}

#[test]
fn proxy_tls_h2_to_http1_backend_with_bodies() {
    if !require("openssl") || !require("curl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ca = make_certs(dir.path(), &["a.test"]);
    let be = echo_http_backend();
    let port = free_port();
    let cfg = format!(
        "defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n\
         frontend f\n  bind 127.0.0.1:{port} ssl crt {} alpn h2,http/1.1\n  default_backend b\n\
         backend b\n  server s 127.0.0.1:{be}\n",
        dir.path().join("certs").display()
    );
    let _p = Proxy::rhaproxy(&cfg, &[port]);
    let big = "z".repeat(200_000);
    let big_file = dir.path().join("big.txt");
    std::fs::write(&big_file, &big).unwrap();
    let big_arg = format!("@{}", big_file.display());
    for (extra, want) in [
        (vec!["--http2"], "GET /path?q=1 "),
        (vec!["--http2", "-d", "hello=1"], "POST /path?q=1 hello=1"),
        (
            vec!["--http2", "--data-binary", big_arg.as_str()],
            "POST /path?q=1 zzz",
        ),
        (vec!["--http1.1", "-d", "x"], "POST /path?q=1 x"),
    ] {
        let (status, body, _) = curl(port, "https", "a.test", &ca, &extra);
        assert!(status.ends_with(" 200"), "{extra:?}: {status} {body}");
        assert!(
            body.starts_with(want),
            "{extra:?}: {}",
            &body[..body.len().min(80)]
        );
    }
    let (_, body, _) = curl(
        port,
        "https",
        "a.test",
        &ca,
        &["--http2", "--data-binary", big_arg.as_str()],
    );
    assert_eq!(body.len(), "POST /path?q=1 ".len() + big.len());
}

/// nginx with one TLS server block (certificate `name`, signed by the test CA) that answers
/// every request with the SNI it got and which of its connections carried the request.
struct TlsNginx {
    _dir: tempfile::TempDir,
    _proc: super::proxy_tcp::Proc,
    port: u16,
}

impl TlsNginx {
    fn start(certs: &Path, name: &str) -> TlsNginx {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let port = free_port();
        std::fs::write(dir.path().join("big.bin"), big_body()).unwrap();
        let conf = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\nerror_log {d}/error.log;\npid {d}/nginx.pid;\n\
             events {{ worker_connections 256; }}\nhttp {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
             \x20 server {{\n    listen 127.0.0.1:{port} ssl;\n    ssl_certificate {c}/{name}.crt;\n    ssl_certificate_key {c}/{name}.key;\n\
             \x20   keepalive_requests 1000;\n    client_max_body_size 10m;\n\
             \x20   location / {{ return 200 \"sni=$ssl_server_name conn=$connection n=$connection_requests\\n\"; }}\n\
             \x20   location /big.bin {{ root {d}; }}\n  }}\n}}\n",
            c = certs.display(),
        );
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, conf).unwrap();
        let child = Command::new("nginx")
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let proc = super::proxy_tcp::Proc(child);
        super::proxy_tcp::wait_port(port);
        TlsNginx {
            _dir: dir,
            _proc: proc,
            port,
        }
    }
}

/// 1.5 MB of varied bytes (so a lost or repeated TLS record shows).
fn big_body() -> Vec<u8> {
    (0..1_500_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// `curl` over plain HTTP to the proxy: one (status, body) per URL, all on one connection.
fn curl_plain(port: u16, paths: &[&str], extra: &[&str]) -> Vec<(String, String)> {
    let mut c = Command::new("curl");
    c.args(["-s", "-m", "10"]).args(extra);
    for (i, p) in paths.iter().enumerate() {
        if i > 0 {
            c.arg("--next").args(["-s", "-m", "10"]).args(extra);
        }
        c.args(["-w", "|%{http_code}\n#END#\n"])
            .arg(format!("http://127.0.0.1:{port}{p}"));
    }
    let o = c.output().unwrap();
    String::from_utf8_lossy(&o.stdout)
        .split("\n#END#\n")
        .filter(|s| !s.is_empty())
        .map(|s| {
            let (body, code) = s.rsplit_once('|').unwrap_or((s, ""));
            (code.to_string(), body.trim_end().to_string())
        })
        .collect()
}

/// `server ... ssl` in mode http, beside haproxy: verify required with the CA and the right
/// SNI, verify none (no SNI sent), a failing verification (503), a 1.5 MB download and an
/// upload over the TLS server connection, and the TLS connection kept and reused: on the same
/// client connection, and across client connections with `http-reuse always`.
#[test]
fn proxy_tls_server_side_in_mode_http_matches_haproxy() {
    if !require("openssl") || !require("curl") || !require("nginx") || !require("haproxy") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ca = make_certs(dir.path(), &["b.test"]);
    let ngx = TlsNginx::start(dir.path(), "b.test");
    let n = ngx.port;
    let mut results = Vec::new();
    for bin in ["haproxy", "rhaproxy"] {
        let (ok, none, bad, chk) = (free_port(), free_port(), free_port(), free_port());
        let cfg = format!(
            "defaults\n  mode http\n  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\n  http-reuse always\n\
             listen ok\n  bind 127.0.0.1:{ok}\n  server s 127.0.0.1:{n} ssl verify required ca-file {ca} sni str(b.test)\n\
             listen none\n  bind 127.0.0.1:{none}\n  server s 127.0.0.1:{n} ssl verify none\n\
             listen bad\n  bind 127.0.0.1:{bad}\n  retries 1\n  server s 127.0.0.1:{n} ssl verify required ca-file {ca} sni str(wrong.test)\n\
             listen checked\n  bind 127.0.0.1:{chk}\n  option httpchk GET /\n  server tls 127.0.0.1:{n} ssl verify none check inter 200 fall 1 rise 1\n  server clear 127.0.0.1:{n} check inter 200 fall 1 rise 1\n",
            ca = ca.display(),
        );
        let p = if bin == "haproxy" {
            Proxy::haproxy(&cfg, &[ok, none, bad, chk])
        } else {
            Proxy::rhaproxy(&cfg, &[ok, none, bad, chk])
        };
        // two requests on one client connection, then two more client connections
        let mut ok_rows = curl_plain(ok, &["/", "/"], &[]);
        ok_rows.extend(curl_plain(ok, &["/"], &[]));
        ok_rows.extend(curl_plain(ok, &["/"], &[]));
        let none_rows = curl_plain(none, &["/"], &[]);
        let bad_rows = curl_plain(bad, &["/"], &[]);
        // a large response through the TLS server connection
        let big = Command::new("curl")
            .args(["-s", "-m", "20"])
            .arg(format!("http://127.0.0.1:{ok}/big.bin"))
            .output()
            .unwrap()
            .stdout;
        // an upload (the whole body must be written out before nginx answers)
        let body_file = dir.path().join("upload.bin");
        std::fs::write(&body_file, big_body()).unwrap();
        let up = curl_plain(
            ok,
            &["/"],
            &["--data-binary", &format!("@{}", body_file.display())],
        );
        // health checks of an ssl server go over TLS; in clear, nginx answers 400
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !p.stderr().contains("checked/clear is DOWN") {
            assert!(
                std::time::Instant::now() < deadline,
                "{bin}: {}",
                p.stderr()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        std::thread::sleep(std::time::Duration::from_millis(600));
        results.push((ok_rows, none_rows, bad_rows, big, up, p.stderr()));
    }
    let field = |body: &str, key: &str| -> String {
        body.split(' ')
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
            .unwrap_or("?")
            .to_string()
    };
    let view = |r: &(
        Vec<(String, String)>,
        Vec<(String, String)>,
        Vec<(String, String)>,
        Vec<u8>,
        Vec<(String, String)>,
        String,
    )| {
        let sni = |rows: &Vec<(String, String)>| -> Vec<String> {
            rows.iter()
                .map(|(c, b)| format!("{c} sni={}", field(b, "sni")))
                .collect()
        };
        (
            sni(&r.0),
            sni(&r.1),
            r.2.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>(),
            r.3.len(),
            sni(&r.4),
        )
    };
    let (ha, rh) = (view(&results[0]), view(&results[1]));
    assert_eq!(
        rh, ha,
        "rhaproxy (left) vs haproxy (right)\n{}",
        results[1].5
    );
    assert_eq!(ha.0, vec!["200 sni=b.test"; 4]);
    assert_eq!(ha.1, vec!["200 sni="]);
    assert_eq!(ha.2, vec!["503"]);
    assert_eq!(
        results[1].3,
        big_body(),
        "download through the TLS server connection"
    );
    assert_eq!(ha.4, vec!["200 sni=b.test"]);
    let (hc, rc) = (
        super::proxy_mysql::transitions(&results[0].5),
        super::proxy_mysql::transitions(&results[1].5),
    );
    assert_eq!(rc, hc, "health checks: rhaproxy (left) vs haproxy (right)");
    assert!(
        rc.iter().any(|l| l
            .starts_with("Server checked/clear is DOWN, reason: Layer7 wrong status, code: 400")),
        "{rc:?}"
    );
    assert!(!rc.iter().any(|l| l.contains("checked/tls")), "{rc:?}");
    // rhaproxy kept its TLS connection to nginx: one nginx connection, requests 1..4
    let rows = &results[1].0;
    let conns: Vec<String> = rows.iter().map(|(_, b)| field(b, "conn")).collect();
    let nums: Vec<String> = rows.iter().map(|(_, b)| field(b, "n")).collect();
    assert!(conns.iter().all(|c| *c == conns[0]), "{rows:?}");
    assert_eq!(nums, ["1", "2", "3", "4"], "{rows:?}");
}

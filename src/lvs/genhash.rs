//! `rkeepalived --genhash`: keepalived's genhash, the MD5 digest of a web page for HTTP_GET /
//! SSL_GET `digest` lines.
//!
//! `rkeepalived --genhash -s SERVER -p PORT -u URL [-S] [-I] [-V VHOST] [-P 1.0|1.0C|1.1]
//! [-t SECS] [-v]` prints the digest (lower-case hex) of the body, like keepalived; failures print
//! keepalived's message ("Connection failed") and, as keepalived, still exit 0. Usage errors exit 1.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::check::{fetch, HttpProtocol};

const USAGE: &str = "Usage: rkeepalived --genhash COMMAND [OPTIONS]\n\
Commands:\n   -s server-address -p port -u url\n   -S -s server-address -p port -u url\n   -h\n\n\
Options:\n\
Either long or short options are allowed.\n\
   --use-ssl         -S       Use SSL connection to remote server.\n\
   --use-sni         -I       Use SNI during SSL handshake (uses virtualhost setting; see -V).\n\
   --server          -s       Use the specified remote server address.\n\
   --port            -p       Use the specified remote server port.\n\
   --url             -u       Use the specified remote server url.\n\
   --use-virtualhost -V       Use the specified virtualhost in GET query.\n\
   --verbose         -v       Use verbose mode output.\n\
   --help            -h       Display this short inlined help screen.\n\
   --protocol        -P       Use the specified HTTP protocol - '1.0', 1.0c', '1.1'.\n\
                                1.0c means 1.0 with 'Connection: close'\n\
   --timeout         -t       Timeout in seconds\n";

/// Parsed genhash options.
#[derive(Debug, Clone, PartialEq)]
pub struct GenhashArgs {
    pub server: IpAddr,
    pub port: u16,
    pub url: String,
    pub ssl: bool,
    pub sni: bool,
    pub vhost: Option<String>,
    pub verbose: bool,
    pub protocol: HttpProtocol,
    pub timeout: Duration,
}

/// Parses the words after `--genhash`; Err(message) for usage errors (empty = help).
pub fn parse(words: &[String]) -> Result<GenhashArgs, String> {
    let mut server = None;
    let mut port = None;
    let mut url = None;
    let mut a = GenhashArgs {
        server: IpAddr::from([127, 0, 0, 1]),
        port: 0,
        url: String::new(),
        ssl: false,
        sni: false,
        vhost: None,
        verbose: false,
        protocol: HttpProtocol::V10,
        timeout: Duration::from_secs(5),
    };
    let mut it = words.iter();
    while let Some(w) = it.next() {
        let (flag, inline) = match w.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (w.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("Missing parameter for option {name}"))
        };
        match flag {
            "-h" | "--help" => return Err(String::new()),
            "-v" | "--verbose" => a.verbose = true,
            "-S" | "--use-ssl" => a.ssl = true,
            "-I" | "--use-sni" => a.sni = true,
            "-s" | "--server" => {
                let v = value(flag)?;
                server = Some(
                    v.parse::<IpAddr>()
                        .map_err(|_| format!("server should be an IP, not {v}"))?,
                );
            }
            "-p" | "--port" => {
                let v = value(flag)?;
                port = Some(
                    v.parse::<u16>()
                        .ok()
                        .filter(|p| *p > 0)
                        .ok_or_else(|| format!("invalid port number '{v}'"))?,
                );
            }
            "-u" | "--url" => url = Some(value(flag)?),
            "-V" | "--use-virtualhost" => a.vhost = Some(value(flag)?),
            "-P" | "--protocol" => {
                let v = value(flag)?;
                a.protocol = match v.as_str() {
                    "1.0" => HttpProtocol::V10,
                    "1.0c" | "1.0C" => HttpProtocol::V10Close,
                    "1.1" => HttpProtocol::V11,
                    _ => return Err(format!("invalid HTTP protocol version '{v}'")),
                };
            }
            "-t" | "--timeout" => {
                let v = value(flag)?;
                a.timeout = v
                    .parse::<u64>()
                    .ok()
                    .filter(|t| *t > 0)
                    .map(Duration::from_secs)
                    .ok_or_else(|| format!("invalid timeout '{v}'"))?;
            }
            "-m" | "--fwmark" => return Err("rkeepalived built without fwmark support".into()),
            other => return Err(format!("Unknown option {other}")),
        }
    }
    match (server, port, url) {
        (Some(s), Some(p), Some(u)) => {
            a.server = s;
            a.port = p;
            a.url = u;
            Ok(a)
        }
        _ => Err(String::new()),
    }
}

/// Runs genhash with the words after `--genhash`; returns the exit status.
pub fn main(words: &[String]) -> i32 {
    let args = match parse(words) {
        Ok(a) => a,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("{msg}");
            }
            eprint!("{USAGE}");
            return 1;
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start runtime: {e}");
            return 1;
        }
    };
    let started = std::time::Instant::now();
    let target = SocketAddr::new(args.server, args.port);
    let got = rt.block_on(fetch(
        target,
        None,
        &args.url,
        args.vhost.as_deref(),
        args.protocol,
        args.ssl,
        args.sni,
        args.timeout,
    ));
    match got {
        Ok(resp) if resp.raw_len > 0 => {
            let hex: String = resp.digest.iter().map(|b| format!("{b:02x}")).collect();
            if args.verbose {
                println!(
                    "-----------------------[ HTTP Header Ascii Buffer ]-----------------------"
                );
                println!("{}", String::from_utf8_lossy(&resp.header));
                println!(
                    "-----------------------[ HTML hash final resulting ]-----------------------"
                );
            }
            println!("{hex}");
            if args.verbose {
                println!(
                    "\nGlobal response time for [{}] = {} usecs",
                    args.url,
                    started.elapsed().as_micros()
                );
            }
        }
        Ok(_) => eprintln!("no data received from remote webserver"),
        Err(msg) => println!("{msg}"),
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn parses_keepalived_options() {
        let a = parse(&w("-s 10.0.0.11 -p 3000 -u /lbstate -V www.example.com -S")).unwrap();
        assert_eq!(a.server, IpAddr::from([10, 0, 0, 11]));
        assert_eq!(a.port, 3000);
        assert_eq!(a.url, "/lbstate");
        assert_eq!(a.vhost.as_deref(), Some("www.example.com"));
        assert!(a.ssl);
        let a = parse(&w("--server=::1 --port=80 --url=/ -P 1.1")).unwrap();
        assert_eq!(a.protocol, HttpProtocol::V11);
    }

    #[test]
    fn rejects_bad_usage() {
        let table = [
            (
                "-s host.example -p 80 -u /",
                "server should be an IP, not host.example",
            ),
            ("-s 1.2.3.4 -p 0 -u /", "invalid port number '0'"),
            ("-s 1.2.3.4 -p 80", ""),
            ("-x", "Unknown option -x"),
            ("-s", "Missing parameter for option -s"),
        ];
        for (args, want) in table {
            assert_eq!(parse(&w(args)).unwrap_err(), want, "{args}");
        }
    }
}

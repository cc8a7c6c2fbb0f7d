//! Command line of `rhaproxy` (haproxy's argv style).
//!
//! haproxy uses multi-letter short options (`-dr`, `-sf PID...`, `-cc EXPR`, `-Ws`) that clap
//! cannot express; [`rewrite_args`] turns them into long options first, then clap parses.

use std::ffi::OsString;

use clap::Parser as ClapParser;

use crate::haproxy::check::{self, CheckOptions, DiagFormat};

/// Process-level options of run mode (everything but the configuration itself).
/// The proxy engine reads these; the struct only grows (additive changes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessOptions {
    /// `-f` paths as given (files or directories), in order.
    pub config_paths: Vec<String>,
    /// `-D`: daemonize.
    pub daemon: bool,
    /// `-W` / `-Ws`: master-worker mode (`-Ws`: with systemd notify support).
    pub master_worker: bool,
    pub systemd_notify: bool,
    /// `-p FILE`: write the pid(s) there.
    pub pidfile: Option<String>,
    /// `-d`: debug mode (foreground, verbose). `-db`: stay in foreground, no background.
    pub debug: bool,
    pub foreground: bool,
    /// `-q`: quiet.
    pub quiet: bool,
    /// `-V`: verbose.
    pub verbose: bool,
    /// `-sf PID...`: ask these old processes to finish (soft stop) once we are up.
    pub soft_stop_pids: Vec<u32>,
    /// `-st PID...`: terminate these old processes once we are up.
    pub terminate_pids: Vec<u32>,
    /// `-x SOCKET`: fetch listening sockets from the old process's stats socket.
    pub expose_socket: Option<String>,
    /// `-S BIND[,opts]`: master CLI socket.
    pub master_cli: Vec<String>,
    /// `-L NAME`: local peer name.
    pub local_peer: Option<String>,
    /// `-N N`: default per-proxy maxconn.
    pub default_maxconn: Option<u32>,
    /// `-dr`: ignore server address resolution failures.
    pub ignore_resolution_failures: bool,
    /// `-dW`: warnings are fatal.
    pub zero_warning: bool,
}

#[derive(Debug, ClapParser)]
#[command(
    name = "rhaproxy",
    disable_version_flag = true,
    disable_help_flag = true
)]
struct Args {
    #[arg(long = "file", short = 'f')]
    files: Vec<String>,
    #[arg(long = "check", short = 'c')]
    check: bool,
    #[arg(long = "check-cond")]
    check_cond: Option<String>,
    #[arg(long = "daemon", short = 'D')]
    daemon: bool,
    #[arg(long = "master-worker")]
    master_worker: bool,
    #[arg(long = "master-worker-systemd")]
    master_worker_systemd: bool,
    #[arg(long = "pidfile", short = 'p')]
    pidfile: Option<String>,
    #[arg(long = "debug")]
    debug: bool,
    #[arg(long = "foreground")]
    foreground: bool,
    #[arg(long = "quiet", short = 'q')]
    quiet: bool,
    #[arg(long = "verbose", short = 'V')]
    verbose: bool,
    #[arg(long = "soft-stop", num_args = 0..)]
    soft_stop: Vec<u32>,
    #[arg(long = "terminate", num_args = 0..)]
    terminate: Vec<u32>,
    #[arg(long = "expose-socket", short = 'x')]
    expose_socket: Option<String>,
    #[arg(long = "master-cli", short = 'S')]
    master_cli: Vec<String>,
    #[arg(long = "local-peer", short = 'L')]
    local_peer: Option<String>,
    #[arg(long = "maxconn-default", short = 'N')]
    default_maxconn: Option<u32>,
    #[arg(long = "maxconn", short = 'n')]
    maxconn: Option<u32>,
    #[arg(long = "chdir", short = 'C')]
    chdir: Option<String>,
    #[arg(long = "ignore-resolution-failures")]
    dr: bool,
    #[arg(long = "zero-warning")]
    dw: bool,
    /// Other `-dX` debug flags haproxy accepts (ignored).
    #[arg(long = "debug-flag")]
    debug_flags: Vec<String>,
    #[arg(long = "version", short = 'v')]
    version: bool,
    #[arg(long = "build-options")]
    build_options: bool,
    #[arg(long = "help", short = 'h')]
    help: bool,
    /// Print the resolved configuration (with -c).
    #[arg(long = "dump")]
    dump: bool,
    /// `haproxy` or `miette` (default: miette on a terminal, haproxy otherwise).
    #[arg(long = "diag-format")]
    diag_format: Option<String>,
    /// Do not warn about keywords accepted but not implemented yet.
    #[arg(long = "no-unimplemented-warnings")]
    no_unimplemented: bool,
    /// Files after `--`.
    #[arg(last = true)]
    rest: Vec<String>,
}

/// Rewrites haproxy-style arguments into the long options clap understands.
pub fn rewrite_args(args: &[String]) -> Vec<String> {
    let mut out = vec![args.first().cloned().unwrap_or_else(|| "rhaproxy".into())];
    let mut i = 1;
    while i < args.len() {
        let a = args[i].as_str();
        let take_pids = |flag: &str, out: &mut Vec<String>, i: &mut usize| {
            out.push(flag.to_string());
            while *i + 1 < args.len() && !args[*i + 1].starts_with('-') {
                *i += 1;
                out.push(args[*i].clone());
            }
        };
        match a {
            "--" => {
                out.push("--".into());
                out.extend(args[i + 1..].iter().cloned());
                break;
            }
            "-dr" => out.push("--ignore-resolution-failures".into()),
            "-dW" => out.push("--zero-warning".into()),
            "-db" => out.push("--foreground".into()),
            "-d" => out.push("--debug".into()),
            "-W" => out.push("--master-worker".into()),
            "-Ws" => out.push("--master-worker-systemd".into()),
            "-vv" => out.push("--build-options".into()),
            "-cc" => out.push("--check-cond".into()),
            "-sf" => take_pids("--soft-stop", &mut out, &mut i),
            "-st" => take_pids("--terminate", &mut out, &mut i),
            _ if a.starts_with("-d") && a.len() > 2 && !a.starts_with("--") => {
                out.push("--debug-flag".into());
                out.push(a[2..].to_string());
            }
            _ => out.push(a.to_string()),
        }
        i += 1;
    }
    out
}

fn version_banner() -> String {
    format!(
        "rhaproxy version {} (compatible with HAProxy 2.6) - a memory-safe Rust drop-in\nStatus: configuration front end and checker; see README.md for the support table.\n",
        env!("CARGO_PKG_VERSION")
    )
}

fn usage() -> &'static str {
    "Usage : rhaproxy [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -n <maxconn> ] [ -N <maxpconn> ]\n        [ -p <pidfile> ] [ -m <max megs> ] [ -C <dir> ] [-- <cfgfile>*]\n        -v displays version ; -vv shows known build options.\n        -d enters debug mode ; -db only disables background mode.\n        -dM[<byte>] poisons memory with <byte> (defaults to 0x50)\n        -V enters verbose mode (disables quiet mode)\n        -D goes daemon ; -C changes to <dir> before loading files.\n        -W master-worker mode.\n        -Ws master-worker mode with systemd notify support.\n        -q quiet mode : don't display messages\n        -c check mode : only check config files and exit\n        -cc check condition : evaluate a condition and exit\n        -dr ignore server address resolution failures\n        -dW fails if any warning is emitted\n        -sf/-st [pid ]* finishes/terminates old pids.\n        -x <unix_socket> get listening sockets from a unix socket\n        -S <bind>[,<bind options>...] new master CLI\n        --dump (with -c) prints the resolved configuration\n        --diag-format haproxy|miette chooses the diagnostics format\n"
}

/// Runs the program with `args` (argv[0] included) and returns the exit status.
pub fn main(args: Vec<OsString>) -> i32 {
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let rewritten = rewrite_args(&args);
    let parsed = match Args::try_parse_from(&rewritten) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            eprint!("{}", usage());
            return 1;
        }
    };
    if parsed.help {
        eprint!("{}", usage());
        return 1;
    }
    if parsed.version || parsed.build_options {
        print!("{}", version_banner());
        return 0;
    }
    if let Some(expr) = &parsed.check_cond {
        let env = |n: &str| std::env::var(n).ok();
        return match crate::haproxy::cond::eval_condition(expr, &env) {
            Ok(true) => 0,
            Ok(false) => 1,
            Err(e) => {
                eprintln!(
                    "[ALERT]    ({}) : config : Failed to evaluate condition: {}",
                    std::process::id(),
                    e.message
                );
                2
            }
        };
    }
    if let Some(dir) = &parsed.chdir {
        if let Err(e) = std::env::set_current_dir(dir) {
            eprintln!(
                "[ALERT]    ({}) : Cannot chdir to {dir} : {e}",
                std::process::id()
            );
            return 1;
        }
    }
    let mut files = parsed.files.clone();
    files.extend(parsed.rest.iter().cloned());
    if files.is_empty() {
        eprintln!(
            "[ALERT]    ({}) : No configuration file specified.",
            std::process::id()
        );
        eprint!("{}", usage());
        return 1;
    }
    let format = match parsed.diag_format.as_deref() {
        Some("haproxy") => DiagFormat::Haproxy,
        Some("miette") => DiagFormat::Miette,
        Some(other) => {
            eprintln!("unknown --diag-format '{other}' (expected 'haproxy' or 'miette')");
            return 1;
        }
        None => DiagFormat::auto(),
    };
    if let Some(name) = &parsed.local_peer {
        // as HAProxy: the local peer name is exported (the peers checks read it back)
        std::env::set_var("HAPROXY_LOCALPEER", name);
    }
    let copts = CheckOptions {
        paths: files.clone(),
        ignore_resolution_failures: parsed.dr,
        zero_warning: parsed.dw,
        quiet: parsed.quiet,
        verbose: parsed.verbose,
        dump: parsed.dump,
        format,
        warn_unimplemented: !parsed.no_unimplemented,
        local_peer: parsed.local_peer.clone(),
    };
    if parsed.check {
        return check::run_check(&copts);
    }
    // run mode: load, refuse on errors, then hand over to the engine
    let loaded = check::load(&copts);
    check::print_findings(&loaded.findings, &loaded.sources, format, parsed.quiet);
    if !loaded.ok {
        eprintln!(
            "[ALERT]    ({}) : config : Fatal errors found in configuration.",
            std::process::id()
        );
        return 1;
    }
    let popts = ProcessOptions {
        config_paths: files,
        daemon: parsed.daemon,
        master_worker: parsed.master_worker || parsed.master_worker_systemd,
        systemd_notify: parsed.master_worker_systemd,
        pidfile: parsed.pidfile,
        debug: parsed.debug,
        foreground: parsed.foreground || parsed.debug,
        quiet: parsed.quiet,
        verbose: parsed.verbose,
        soft_stop_pids: parsed.soft_stop,
        terminate_pids: parsed.terminate,
        expose_socket: parsed.expose_socket,
        master_cli: parsed.master_cli,
        local_peer: parsed.local_peer,
        default_maxconn: parsed.default_maxconn,
        ignore_resolution_failures: parsed.dr,
        zero_warning: parsed.dw,
    };
    crate::proxy::run(loaded.config, &popts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn rewrites_haproxy_style_options() {
        let r = rewrite_args(&s(&[
            "rhaproxy", "-c", "-dr", "-f", "a.cfg", "-sf", "12", "13", "-dW", "-Ws",
        ]));
        assert_eq!(
            r,
            s(&[
                "rhaproxy",
                "-c",
                "--ignore-resolution-failures",
                "-f",
                "a.cfg",
                "--soft-stop",
                "12",
                "13",
                "--zero-warning",
                "--master-worker-systemd"
            ])
        );
        let a = Args::try_parse_from(&r).unwrap();
        assert!(a.check && a.dr && a.dw && a.master_worker_systemd);
        assert_eq!(a.soft_stop, vec![12, 13]);
        let r = rewrite_args(&s(&["rhaproxy", "-f", "a", "--", "b.cfg", "c.cfg"]));
        let a = Args::try_parse_from(&r).unwrap();
        assert_eq!(a.rest, s(&["b.cfg", "c.cfg"]));
        let r = rewrite_args(&s(&["rhaproxy", "-cc", "version_atleast(2.4)"]));
        assert_eq!(
            Args::try_parse_from(&r).unwrap().check_cond.as_deref(),
            Some("version_atleast(2.4)")
        );
    }
}

//! `rkeepalived` command line (keepalived's getopt_long flags).
use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Parser;

use crate::keepalived::system::HostSystem;
use crate::keepalived::{load, Loaded};

/// Process options the engines need (stable: the VRRP engine builds on it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DaemonOptions {
    /// `-f/--use-file` (default /etc/keepalived/keepalived.conf).
    pub config_file: PathBuf,
    /// `-n/--dont-fork`.
    pub dont_fork: bool,
    /// `-l/--log-console`.
    pub log_console: bool,
    /// `-D/--log-detail`.
    pub log_detail: bool,
    /// `-P/--vrrp`: run only the VRRP subsystem.
    pub vrrp_only: bool,
    /// `-C/--check`: run only the checker subsystem.
    pub check_only: bool,
    /// `-p/--pid`.
    pub pid_file: Option<PathBuf>,
    /// `-r/--vrrp_pid`.
    pub vrrp_pid_file: Option<PathBuf>,
    /// `-c/--checkers_pid`.
    pub checkers_pid_file: Option<PathBuf>,
    /// `-i/--config-id`.
    pub config_id: Option<String>,
    /// `-S/--log-facility` 0..7 (local0..local7).
    pub log_facility: Option<u8>,
    /// `-d/--dump-conf`.
    pub dump_conf: bool,
    /// `-x/--snmp` (accepted, not supported).
    pub snmp: bool,
}

/// keepalived's command line, parsed with clap (getopt_long-compatible spellings).
#[derive(Debug, Parser)]
#[command(
    name = "rkeepalived",
    disable_version_flag = true,
    about = "keepalived-compatible VRRP daemon and checker"
)]
struct Args {
    /// Use the specified configuration file.
    #[arg(short = 'f', long = "use-file", value_name = "FILE")]
    use_file: Option<PathBuf>,
    /// Check the configuration for obvious errors (optionally of FILE).
    #[arg(short = 't', long = "config-test", value_name = "FILE", num_args = 0..=1, require_equals = true)]
    config_test: Option<Option<PathBuf>>,
    /// Print the resolved configuration (with -t).
    #[arg(long = "dump")]
    dump: bool,
    /// Don't fork the daemon process.
    #[arg(short = 'n', long = "dont-fork")]
    dont_fork: bool,
    /// Log messages to local console.
    #[arg(short = 'l', long = "log-console")]
    log_console: bool,
    /// Detailed log messages.
    #[arg(short = 'D', long = "log-detail")]
    log_detail: bool,
    /// Only run with VRRP subsystem.
    #[arg(short = 'P', long = "vrrp")]
    vrrp: bool,
    /// Only run with Health-checker subsystem.
    #[arg(short = 'C', long = "check")]
    check: bool,
    /// Use specified pidfile for parent process.
    #[arg(short = 'p', long = "pid", value_name = "FILE")]
    pid: Option<PathBuf>,
    /// Use specified pidfile for VRRP child process.
    #[arg(short = 'r', long = "vrrp_pid", value_name = "FILE")]
    vrrp_pid: Option<PathBuf>,
    /// Use specified pidfile for checkers child process.
    #[arg(short = 'c', long = "checkers_pid", value_name = "FILE")]
    checkers_pid: Option<PathBuf>,
    /// Skip any configuration lines beginning '@' that don't match ID.
    #[arg(short = 'i', long = "config-id", value_name = "ID")]
    config_id: Option<String>,
    /// Set syslog facility to LOG_LOCAL[0-7].
    #[arg(short = 'S', long = "log-facility", value_name = "[0-7]")]
    log_facility: Option<u8>,
    /// Dump the configuration data.
    #[arg(short = 'd', long = "dump-conf")]
    dump_conf: bool,
    /// Enable SNMP subsystem (not supported by rkeepalived).
    #[arg(short = 'x', long = "snmp")]
    snmp: bool,
    /// Generate an MD5 digest of a web page (reserved; not implemented yet).
    #[arg(long = "genhash", hide = true)]
    genhash: bool,
    /// Display the version number.
    #[arg(short = 'v', long = "version")]
    version: bool,
}

/// Default configuration file, as keepalived.
pub const DEFAULT_CONFIG_FILE: &str = "/etc/keepalived/keepalived.conf";

/// keepalived's default config id: the host name up to the first dot.
fn default_config_id() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into our buffer.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).to_string();
    Some(name.split('.').next().unwrap_or("").to_string())
}

/// Runs the program with `args` (argv[0] included) and returns the exit status.
pub fn main(args: Vec<OsString>) -> i32 {
    if let Some(pos) = args.iter().position(|a| a == "--genhash" || a == "-T") {
        let rest: Vec<String> = args[pos + 1..]
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        return crate::lvs::genhash::main(&rest);
    }
    let args = match Args::try_parse_from(args) {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    if args.version {
        eprintln!(
            "rkeepalived {} (keepalived 2.2.7 compatible)",
            env!("CARGO_PKG_VERSION")
        );
        return 0;
    }
    if args.genhash {
        eprintln!("rkeepalived: --genhash is not implemented yet");
        return 1;
    }
    if args.snmp {
        eprintln!("rkeepalived: SNMP (-x) is not supported - ignoring");
    }
    let config_file = match (&args.config_test, &args.use_file) {
        (Some(Some(f)), _) => f.clone(),
        (_, Some(f)) => f.clone(),
        _ => PathBuf::from(DEFAULT_CONFIG_FILE),
    };
    let config_id = args.config_id.clone().or_else(default_config_id);
    let sys = HostSystem;
    let mut loaded = load(&config_file, config_id.as_deref(), &sys);
    loaded
        .findings
        .extend(crate::lvs::config_notes(&loaded.config));
    if args.config_test.is_some() {
        report_findings(&loaded);
        if args.dump || args.dump_conf {
            println!("{:#?}", loaded.config);
        }
        return loaded.exit_status;
    }
    if loaded.exit_status == 2 {
        report_findings(&loaded);
        return 2;
    }
    report_findings(&loaded);
    if args.dump_conf {
        println!("{:#?}", loaded.config);
    }
    let options = DaemonOptions {
        config_file,
        dont_fork: args.dont_fork,
        log_console: args.log_console,
        log_detail: args.log_detail,
        vrrp_only: args.vrrp,
        check_only: args.check,
        pid_file: args.pid,
        vrrp_pid_file: args.vrrp_pid,
        checkers_pid_file: args.checkers_pid,
        config_id,
        log_facility: args.log_facility,
        dump_conf: args.dump_conf,
        snmp: args.snmp,
    };
    crate::vrrp::run(loaded.config, &options)
}

/// Prints findings: keepalived's lines, or miette reports when stderr is a terminal.
fn report_findings(loaded: &Loaded) {
    let tty = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    for (f, line) in loaded.findings.iter().zip(loaded.render_lines()) {
        if tty && f.diag.span.is_some() {
            eprintln!("{:?}", f.diag.to_report(&loaded.sources));
        } else {
            eprintln!("{line}");
        }
    }
}

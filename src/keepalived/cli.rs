//! `rkeepalived` command line (keepalived's getopt_long flags).
use std::ffi::OsString;
use std::path::PathBuf;

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

/// Runs the program with `args` (argv[0] included) and returns the exit status.
pub fn main(_args: Vec<OsString>) -> i32 {
    eprintln!("not implemented yet");
    1
}

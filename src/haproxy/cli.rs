//! Command line of `rhaproxy` (haproxy's argv style).
use std::ffi::OsString;

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

/// Runs the program with `args` (argv[0] included) and returns the exit status.
pub fn main(_args: Vec<OsString>) -> i32 {
    eprintln!("not implemented yet");
    1
}

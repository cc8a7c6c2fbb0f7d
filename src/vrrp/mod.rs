//! The VRRP engine: keepalived-compatible virtual router redundancy.
//!
//! - [`packet`]: VRRPv2/v3 wire format, PASS and keepalived's AH, receive checks.
//! - [`state`]: keepalived's state machine, pure and clock-injected.
//! - [`config`]: what the engine runs, lowered from the keepalived IR.
//! - [`net`]: raw sockets, netlink (VIPs, routes, VMAC), GARP / NA.
//! - [`engine`]: the tokio loop tying them together; [`run`] is the process entry point.
pub mod config;
mod dump;
pub mod engine;
mod fifo;
pub mod log;
pub mod net;
pub mod packet;
pub mod process;
pub mod scripts;
pub mod state;

use std::path::{Path, PathBuf};

use crate::keepalived::cli::DaemonOptions;
use crate::keepalived::ir::KeepalivedConfig;

/// keepalived's default pid files.
const DEFAULT_PID_FILE: &str = "/run/keepalived.pid";
const DEFAULT_VRRP_PID_FILE: &str = "/run/keepalived_vrrp.pid";

fn pid_alive(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
        .map(|pid| {
            // SAFETY: signal 0 only checks that the process exists.
            pid > 0 && unsafe { libc::kill(pid, 0) } == 0
        })
        .unwrap_or(false)
}

/// Detaches like keepalived without `-n`: the parent returns, the child continues in a new session.
fn daemonize(log_console: bool) -> Result<bool, std::io::Error> {
    // SAFETY: fork before any thread exists (the runtime is built afterwards).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(std::io::Error::last_os_error());
    }
    if pid > 0 {
        return Ok(false);
    }
    // SAFETY: plain setsid/chdir/open/dup2 in the child, on descriptors it owns.
    unsafe {
        libc::setsid();
        libc::chdir(c"/".as_ptr());
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null >= 0 {
            libc::dup2(null, 0);
            if !log_console {
                libc::dup2(null, 1);
                libc::dup2(null, 2);
            }
            if null > 2 {
                libc::close(null);
            }
        }
    }
    Ok(true)
}

/// Runs the VRRP engine on a validated configuration; returns the process exit status.
pub fn run(config: KeepalivedConfig, options: &DaemonOptions) -> i32 {
    // The daemon changes directory to /, so a relative -f must be resolved first.
    let path =
        std::fs::canonicalize(&options.config_file).unwrap_or_else(|_| options.config_file.clone());
    let config_id = options.config_id.clone();
    let reload = move || {
        let loaded = crate::keepalived::load(
            &path,
            config_id.as_deref(),
            &crate::keepalived::system::HostSystem,
        );
        for line in loaded.render_lines() {
            log::info(&line);
        }
        if loaded.exit_status == 2 {
            Err(format!(
                "configuration {} could not be read",
                path.display()
            ))
        } else {
            Ok(loaded.config)
        }
    };
    run_with_loader(config, options, Box::new(reload))
}

/// [`run`] with a SIGHUP re-reader of the configuration.
pub fn run_with_loader(
    config: KeepalivedConfig,
    options: &DaemonOptions,
    reload: Box<dyn Fn() -> Result<KeepalivedConfig, String> + Send>,
) -> i32 {
    log::init(
        options.log_console,
        options.log_detail,
        options.log_facility,
    );
    let engine_cfg = match config::from_ir(&config) {
        Ok(c) => c,
        Err(e) => {
            log::info(&e.to_string());
            return 1;
        }
    };
    let pid_file = options
        .pid_file
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PID_FILE));
    let vrrp_pid_file = options
        .vrrp_pid_file
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_VRRP_PID_FILE));
    if pid_alive(&pid_file) || pid_alive(&vrrp_pid_file) {
        log::info("daemon is already running");
        return 0;
    }
    if !options.dont_fork {
        match daemonize(options.log_console) {
            Ok(true) => {}
            Ok(false) => return 0,
            Err(e) => {
                log::info(&format!("fork failed: {e}"));
                return 1;
            }
        }
    }
    log::info("Starting rkeepalived (keepalived 2.2.7 compatible VRRP)");
    log::info(&format!(
        "Opening file '{}'.",
        options.config_file.display()
    ));
    let pid = std::process::id().to_string();
    for f in [&pid_file, &vrrp_pid_file] {
        if let Err(e) = std::fs::write(f, format!("{pid}\n")) {
            log::info(&format!("Unable to write pidfile {}: {e}", f.display()));
        }
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            log::info(&format!("cannot start runtime: {e}"));
            return 1;
        }
    };
    let loader: engine::Loader =
        Box::new(move || reload().and_then(|c| config::from_ir(&c).map_err(|e| e.to_string())));
    // keepalived's checker side: virtual_servers served beside VRRP (see crate::lvs).
    let lvs = (!options.vrrp_only)
        .then(|| crate::lvs::spawn(&config))
        .flatten();
    let status = runtime.block_on(engine::run_engine(engine_cfg, loader));
    drop(lvs);
    for f in [&pid_file, &vrrp_pid_file] {
        let _ = std::fs::remove_file(f);
    }
    log::info("Stopped Keepalived v2.2.7 (rkeepalived)");
    status
}

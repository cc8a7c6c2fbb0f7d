//! The VRRP engine: keepalived-compatible virtual router redundancy.
pub mod packet;
pub mod config;
pub mod net;
pub mod state;

use crate::keepalived::cli::DaemonOptions;
use crate::keepalived::ir::KeepalivedConfig;

/// Runs the VRRP engine on a validated configuration; returns the process exit status.
pub fn run(_config: KeepalivedConfig, _options: &DaemonOptions) -> i32 {
    eprintln!("rkeepalived: the VRRP engine is not built yet");
    1
}

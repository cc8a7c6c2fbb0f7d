//! The async proxy engine: runs a validated haproxy IR.
pub mod ctx;
pub mod http1;

/// Runs the proxy engine on a validated configuration; returns the exit status.
pub fn run(config: crate::haproxy::ir::Config, opts: &crate::haproxy::cli::ProcessOptions) -> i32 {
    let _ = (config, opts);
    eprintln!("proxy engine not built yet");
    1
}

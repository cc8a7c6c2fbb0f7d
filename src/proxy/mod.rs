//! placeholder: filled by the proxy work.
pub mod acl;
pub mod balance;
pub mod crypt;
pub mod cookie;
pub mod ctx;
pub mod rules;
pub mod sample;
pub mod server_state;
pub mod stick;
#[cfg(test)]
mod testutil;

/// Runs the proxy engine on a validated configuration; returns the exit status.
/// Stub until the engine lands (the engine branch replaces this).
pub fn run(config: crate::haproxy::ir::Config, opts: &crate::haproxy::cli::ProcessOptions) -> i32 {
    let _ = (config, opts);
    eprintln!("proxy engine not built yet");
    1
}

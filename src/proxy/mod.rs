//! The async proxy engine: runs a validated haproxy IR.
pub mod http1;

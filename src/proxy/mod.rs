//! placeholder: filled by the proxy work.
pub mod balance;
pub mod ctx;
pub mod server_state;

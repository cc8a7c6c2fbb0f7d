//! placeholder: filled by the proxy work.
pub mod ctx;

//! The VRRP engine: keepalived-compatible virtual router redundancy.
pub mod packet;
pub mod state;

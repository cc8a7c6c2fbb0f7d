//! rhaproxy: a memory-safe drop-in for HAProxy and Keepalived.
//!
//! Pipeline: text → lexer → nom parser → typed IR (with spans) → validation → engines.
//! See ARCHITECTURE.md for the code map and the invariants.

pub mod diag;
pub mod haproxy;
pub mod keepalived;
pub mod lvs;
pub mod proxy;
pub mod vrrp;

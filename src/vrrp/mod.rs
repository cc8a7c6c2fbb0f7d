//! placeholder: filled by the vrrp work.

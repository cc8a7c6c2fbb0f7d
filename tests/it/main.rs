//! The one integration-test binary: it drives the real `rhaproxy` / `rkeepalived` binaries.
//! Each area has its own module; shared helpers live in `util`.

mod engine_gaps;
mod examples;
mod haproxy_check;
mod keepalived_check;
mod lvs;
mod netns;
mod proxy_balance;
mod proxy_checks;
mod proxy_errors;
mod proxy_http;
mod proxy_l7_diff;
mod proxy_msg;
mod proxy_mysql;
mod proxy_ops;
mod proxy_pgsql;
mod proxy_stats_admin;
pub mod proxy_tcp;
mod proxy_tls;
mod support_table;
mod util;
mod vrrp;

//! The one integration-test binary: it drives the real `rhaproxy` / `rkeepalived` binaries.
//! Each area has its own module; shared helpers live in `util`.

mod util;
mod proxy_balance;
mod proxy_http;
mod proxy_l7_diff;
mod proxy_ops;
mod haproxy_check;

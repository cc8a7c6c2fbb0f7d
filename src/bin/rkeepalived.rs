//! `rkeepalived`: the keepalived-compatible VRRP daemon and checker. All logic lives in the library.
fn main() {
    std::process::exit(rhaproxy::keepalived::cli::main(
        std::env::args_os().collect(),
    ));
}

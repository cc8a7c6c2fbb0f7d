//! `rhaproxy`: the HAProxy-compatible proxy and checker. All logic lives in the library.
fn main() {
    std::process::exit(rhaproxy::haproxy::cli::main(std::env::args_os().collect()));
}

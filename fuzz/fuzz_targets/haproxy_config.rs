//! Fuzz target: any bytes through the haproxy.cfg lexer, `.if` evaluator, parser, validation
//! and printer must neither panic nor hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rhaproxy::haproxy::fuzzing;

fuzz_target!(|data: &[u8]| {
    fuzzing::check_bytes(data);
});

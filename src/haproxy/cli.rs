//! Command line entry point (placeholder).
use std::ffi::OsString;

/// Runs the program with `args` (argv[0] included) and returns the exit status.
pub fn main(_args: Vec<OsString>) -> i32 {
    eprintln!("not implemented yet");
    1
}

//! Helpers shared by every integration-test module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Path of the freshly built `rhaproxy` binary.
pub fn rhaproxy_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rhaproxy"))
}

/// Path of the freshly built `rkeepalived` binary.
pub fn rkeepalived_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rkeepalived"))
}

/// The repository root (for `examples/`, `grammar/`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` beside the checkout, when present (corpus, seeds).
pub fn shared_dir() -> Option<PathBuf> {
    let p = repo_root().join("..").join("shared");
    p.is_dir().then_some(p)
}

/// Runs a command to completion in `dir`, returning its output.
pub fn run_in(dir: &Path, cmd: &mut Command) -> Output {
    cmd.current_dir(dir).output().expect("spawn")
}

/// Whether an external program is on PATH (tests that need one skip loudly without it, except in CI).
pub fn have(program: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program} >/dev/null 2>&1"))
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// In CI (CI=true) a missing tool is a failure, elsewhere a skip with a message.
pub fn require(program: &str) -> bool {
    if have(program) {
        return true;
    }
    if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
        panic!("{program} is required in CI but is not installed");
    }
    eprintln!("skipping: {program} not installed");
    false
}

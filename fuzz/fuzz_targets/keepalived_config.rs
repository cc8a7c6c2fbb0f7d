//! Fuzzes the whole keepalived.conf front end (lexer, keyword-table parser, typed extraction,
//! validation) on arbitrary text: it must never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rhaproxy::keepalived::system::{ScriptFile, System};

/// A fixed system (eth0, eth1, lo; user root) so runs are reproducible.
struct FakeSystem;

impl System for FakeSystem {
    fn interface_exists(&self, name: &str) -> bool {
        matches!(name, "lo" | "eth0" | "eth1")
    }
    fn is_loopback(&self, name: &str) -> bool {
        name == "lo"
    }
    fn user_exists(&self, name: &str) -> bool {
        name == "root"
    }
    fn group_exists(&self, name: &str) -> bool {
        name == "root"
    }
    fn resolve_script(&self, program: &str) -> ScriptFile {
        if program.starts_with("/bin/") {
            ScriptFile::Executable(program.into())
        } else {
            ScriptFile::NotFound
        }
    }
    fn netns_exists(&self, _name: &str) -> bool {
        false
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let loaded = rhaproxy::keepalived::load_str("fuzz.conf", &text, Some("fuzz"), &FakeSystem);
    let _ = loaded.render_lines();
});

//! What validation asks the running system (interfaces of the current network namespace,
//! users, script files), behind a trait so tests can stub it.

use std::ffi::CString;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// How a script's program resolves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptFile {
    /// `</path` file-open checks: nothing is executed.
    NotExecuted,
    NotFound,
    /// Found and executable.
    Executable(PathBuf),
    /// Found but not executable.
    NotExecutable(PathBuf),
}

pub trait System {
    fn interface_exists(&self, name: &str) -> bool;
    fn is_loopback(&self, name: &str) -> bool;
    fn user_exists(&self, name: &str) -> bool;
    fn group_exists(&self, name: &str) -> bool;
    fn resolve_script(&self, program: &str) -> ScriptFile;
    /// Whether the named network namespace (`/var/run/netns/NAME`) can be entered.
    fn netns_exists(&self, name: &str) -> bool;
    /// A host name's address from /etc/hosts (never DNS).
    fn resolve_host(&self, _name: &str) -> Option<IpAddr> {
        None
    }
}

/// The real system keepalived would look at.
pub struct HostSystem;

impl System for HostSystem {
    fn interface_exists(&self, name: &str) -> bool {
        let Ok(c) = CString::new(name) else {
            return false;
        };
        // SAFETY: if_nametoindex reads a NUL-terminated string and has no other effects.
        unsafe { libc::if_nametoindex(c.as_ptr()) != 0 }
    }
    fn is_loopback(&self, name: &str) -> bool {
        std::fs::read_to_string(format!("/sys/class/net/{name}/type"))
            .map(|t| t.trim() == "772")
            .unwrap_or(name == "lo")
    }
    fn user_exists(&self, name: &str) -> bool {
        let Ok(c) = CString::new(name) else {
            return false;
        };
        // SAFETY: getpwnam takes a NUL-terminated name; we only test the result for NULL.
        unsafe { !libc::getpwnam(c.as_ptr()).is_null() }
    }
    fn group_exists(&self, name: &str) -> bool {
        let Ok(c) = CString::new(name) else {
            return false;
        };
        // SAFETY: as above.
        unsafe { !libc::getgrnam(c.as_ptr()).is_null() }
    }
    fn resolve_script(&self, program: &str) -> ScriptFile {
        let p = program.trim_start();
        if let Some(rest) = p.strip_prefix('<') {
            if rest.trim_start().starts_with('/') {
                return ScriptFile::NotExecuted;
            }
        }
        let path = if !program.contains('/') {
            let paths = std::env::var("PATH").unwrap_or_else(|_| {
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()
            });
            match paths
                .split(':')
                .map(|d| Path::new(d).join(program))
                .find(|c| c.is_file())
            {
                Some(c) => c,
                None => return ScriptFile::NotFound,
            }
        } else {
            PathBuf::from(program)
        };
        match std::fs::canonicalize(&path) {
            Err(_) => ScriptFile::NotFound,
            Ok(real) => {
                use std::os::unix::fs::PermissionsExt;
                let exec = std::fs::metadata(&real)
                    .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
                    .unwrap_or(false);
                if exec {
                    ScriptFile::Executable(real)
                } else {
                    ScriptFile::NotExecutable(real)
                }
            }
        }
    }
    fn netns_exists(&self, name: &str) -> bool {
        !name.contains('/') && Path::new("/var/run/netns").join(name).exists()
    }
    fn resolve_host(&self, name: &str) -> Option<IpAddr> {
        let hosts = std::fs::read_to_string("/etc/hosts").ok()?;
        hosts_lookup(&hosts, name)
    }
}

/// Looks `name` up in the text of an /etc/hosts file.
pub fn hosts_lookup(hosts: &str, name: &str) -> Option<IpAddr> {
    hosts.lines().find_map(|line| {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let addr = words.next()?.parse::<IpAddr>().ok()?;
        words.any(|w| w.eq_ignore_ascii_case(name)).then_some(addr)
    })
}

//! Running external programs: `vrrp_script` checks (with keepalived's rise/fall counting) and
//! notify scripts (`notify_master` ... and the generic `notify INSTANCE|GROUP name state prio`).

use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command as ProcCommand;

use super::config::{Command, ScriptConfig};
use super::log;

/// A uid/gid pair for `user` / `script_user`.
fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: getpwnam_r writes into buffers we own; result points into `pwd` when non-null.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 4096];
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let r = libc::getpwnam_r(
            c.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        );
        if r != 0 || result.is_null() {
            return None;
        }
        Some((pwd.pw_uid, pwd.pw_gid))
    }
}

fn build(cmd: &Command, extra: &[String], default_user: Option<&str>) -> Option<ProcCommand> {
    let program = cmd.args.first()?;
    let mut c = ProcCommand::new(program);
    c.args(&cmd.args[1..]).args(extra);
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c.process_group(0);
    c.kill_on_drop(false);
    if let Some(user) = cmd.user.as_deref().or(default_user) {
        if let Some((uid, gid)) = lookup_user(user) {
            c.uid(uid).gid(gid);
        }
    }
    Some(c)
}

/// Runs a check script once; `true` when it exits 0 within `timeout` (keepalived kills it and
/// counts a failure otherwise).
pub async fn run_check(script: &ScriptConfig, default_user: Option<&str>) -> bool {
    let Some(mut cmd) = build(&script.command, &[], default_user) else {
        return false;
    };
    let Ok(mut child) = cmd.spawn() else {
        return false;
    };
    match tokio::time::timeout(script.timeout, child.wait()).await {
        Ok(Ok(status)) => status.success(),
        Ok(Err(_)) => false,
        Err(_) => {
            if let Some(pid) = child.id() {
                // SAFETY: signalling the process group we created for the child.
                unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
            }
            let _ = child.wait().await;
            false
        }
    }
}

/// keepalived's rise/fall counter for one `vrrp_script`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptStatus {
    /// `None` until the first result.
    pub up: Option<bool>,
    result: u32,
    rise: u32,
    fall: u32,
}

impl ScriptStatus {
    pub fn new(cfg: &ScriptConfig) -> Self {
        ScriptStatus {
            up: if cfg.init_fail { Some(false) } else { None },
            result: if cfg.init_fail {
                0
            } else {
                cfg.rise.saturating_sub(1)
            },
            rise: cfg.rise.max(1),
            fall: cfg.fall.max(1),
        }
    }

    /// Feeds one run's outcome; returns the new up/down state when it changes
    /// (logged by the caller as `VRRP_Script(name) succeeded|failed`).
    pub fn record(&mut self, success: bool) -> Option<bool> {
        let first = self.up.is_none();
        if success {
            if self.result < self.rise - 1 {
                self.result += 1;
            } else if self.result != self.rise + self.fall - 1 {
                let was_down = self.result < self.rise;
                self.result = self.rise + self.fall - 1;
                if was_down || first {
                    self.up = Some(true);
                    return self.up;
                }
            }
            None
        } else if self.result > self.rise {
            self.result -= 1;
            None
        } else {
            let changed = self.result == self.rise || first;
            self.result = 0;
            if changed || self.up != Some(false) {
                self.up = Some(false);
                return self.up;
            }
            None
        }
    }
}

/// Starts a notify script without waiting for it (a reaper task collects it).
pub fn spawn_notify(cmd: &Command, extra: &[String], default_user: Option<&str>) {
    if let Some(mut c) = build(cmd, extra, default_user) {
        match c.spawn() {
            Ok(mut child) => {
                tokio::spawn(async move {
                    let _ = child.wait().await;
                });
            }
            Err(e) => log::info(&format!(
                "Failed to exec notify script {} ({e})",
                cmd.args.join(" ")
            )),
        }
    }
}

/// Runs a notify script and waits at most `limit` (STOP notifications at shutdown).
pub async fn run_notify_bounded(
    cmd: &Command,
    extra: &[String],
    default_user: Option<&str>,
    limit: Duration,
) {
    if let Some(mut c) = build(cmd, extra, default_user) {
        if let Ok(mut child) = c.spawn() {
            let _ = tokio::time::timeout(limit, child.wait()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(rise: u32, fall: u32) -> ScriptConfig {
        ScriptConfig {
            name: "chk".into(),
            command: Command::default(),
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            weight: 0,
            rise,
            fall,
            init_fail: false,
        }
    }

    #[test]
    fn rise_and_fall_count_like_keepalived() {
        let mut s = ScriptStatus::new(&cfg(2, 3));
        // keepalived starts at rise - 1, so the first success already counts as risen
        let mut seen = Vec::new();
        for ok in [true, true, false, false, false, true, true] {
            seen.push(s.record(ok));
        }
        assert_eq!(
            seen,
            vec![Some(true), None, None, None, Some(false), None, Some(true)]
        );
    }

    #[test]
    fn single_rise_fall_flips_each_time() {
        let mut s = ScriptStatus::new(&cfg(1, 1));
        assert_eq!(s.record(false), Some(false));
        assert_eq!(s.record(false), None);
        assert_eq!(s.record(true), Some(true));
        assert_eq!(s.record(true), None);
        assert_eq!(s.record(false), Some(false));
    }
}

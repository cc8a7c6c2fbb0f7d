//! `vrrp_track_process`: counts the running processes that match each tracked process by
//! scanning /proc (keepalived follows the kernel's process events; a periodic scan gives the
//! same up/down result a little later).
use std::fs;

use crate::keepalived::ir::ParamMatch;

use super::config::TrackProcessConfig;

/// One process as read from /proc.
struct ProcessInfo {
    /// `comm` (the kernel's short name).
    comm: String,
    /// argv, split at NULs (empty for kernel threads and zombies).
    argv: Vec<String>,
}

fn read_process(pid: &str) -> Option<ProcessInfo> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_string();
    let state = stat.get(close + 1..)?.split_whitespace().next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    let raw = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let argv = raw
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect();
    Some(ProcessInfo { comm, argv })
}

fn params_match(t: &TrackProcessConfig, params: &[String]) -> bool {
    match t.param_match {
        ParamMatch::None => true,
        ParamMatch::Exact => params == t.params.as_slice(),
        ParamMatch::Partial => params.starts_with(&t.params),
        ParamMatch::Initial => match t.params.split_last() {
            None => true,
            Some((last, head)) => {
                params.len() >= t.params.len()
                    && params.starts_with(head)
                    && params[head.len()].starts_with(last.as_str())
            }
        },
    }
}

fn matches(t: &TrackProcessConfig, p: &ProcessInfo) -> bool {
    if t.full_command {
        match p.argv.split_first() {
            Some((argv0, params)) => *argv0 == t.process && params_match(t, params),
            None => false,
        }
    } else {
        p.comm == t.process
    }
}

/// How many running processes match each entry of `tracked`, in order.
pub fn count_running(tracked: &[TrackProcessConfig]) -> Vec<u32> {
    let mut counts = vec![0u32; tracked.len()];
    if tracked.is_empty() {
        return counts;
    }
    let Ok(dir) = fs::read_dir("/proc") else {
        return counts;
    };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Some(info) = read_process(pid) else {
            continue;
        };
        for (k, t) in tracked.iter().enumerate() {
            if matches(t, &info) {
                counts[k] = counts[k].saturating_add(1);
            }
        }
    }
    counts
}

/// Whether a tracked process is up: quorum <= running <= quorum_max.
pub fn is_up(t: &TrackProcessConfig, running: u32) -> bool {
    running >= t.quorum && running <= t.quorum_max
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracked(process: &str, params: &[&str], m: ParamMatch, full: bool) -> TrackProcessConfig {
        TrackProcessConfig {
            name: "t".into(),
            process: process.into(),
            params: params.iter().map(|s| s.to_string()).collect(),
            param_match: m,
            full_command: full,
            weight: 0,
            reverse: false,
            quorum: 1,
            quorum_max: 65535,
        }
    }

    #[test]
    fn parameters_match_like_keepalived() {
        let p = ProcessInfo {
            comm: "sleep".into(),
            argv: vec!["/bin/sleep".into(), "300".into(), "--x".into()],
        };
        let cases = [
            (tracked("sleep", &[], ParamMatch::None, false), true),
            (tracked("slee", &[], ParamMatch::None, false), false),
            (tracked("/bin/sleep", &[], ParamMatch::None, true), true),
            (
                tracked("/bin/sleep", &["300", "--x"], ParamMatch::Exact, true),
                true,
            ),
            (
                tracked("/bin/sleep", &["300"], ParamMatch::Exact, true),
                false,
            ),
            (
                tracked("/bin/sleep", &["300"], ParamMatch::Partial, true),
                true,
            ),
            (
                tracked("/bin/sleep", &["30"], ParamMatch::Partial, true),
                false,
            ),
            (
                tracked("/bin/sleep", &["30"], ParamMatch::Initial, true),
                true,
            ),
            (
                tracked("/bin/sleep", &["300", "--"], ParamMatch::Initial, true),
                true,
            ),
            (
                tracked("/bin/sleep", &["301"], ParamMatch::Initial, true),
                false,
            ),
        ];
        for (t, want) in cases {
            assert_eq!(matches(&t, &p), want, "{:?} {:?}", t.process, t.params);
        }
    }

    #[test]
    fn quorum_bounds() {
        let mut t = tracked("x", &[], ParamMatch::None, false);
        t.quorum = 2;
        t.quorum_max = 3;
        assert_eq!(
            (0..5).map(|n| is_up(&t, n)).collect::<Vec<_>>(),
            [false, false, true, true, false]
        );
    }
}

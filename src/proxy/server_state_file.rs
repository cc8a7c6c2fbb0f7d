//! `server-state-file` / `server-state-base` (global), `load-server-state-from-file
//! global|local|none` and `server-state-file-name` (proxies): at startup, servers get back the
//! administrative state (maintenance, drain), user weight and operational state saved with
//! `show servers state > FILE` before a reload, in HAProxy's version-1 format.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use super::runtime::{Backend, Runtime, Server};
use crate::haproxy::ir;

/// Where a backend loads its state from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LoadFrom {
    None,
    Global,
    Local(String),
}

/// One saved server line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedServer {
    pub backend: String,
    pub server: String,
    pub op_state: u32,
    pub admin_state: u32,
    pub uweight: u32,
    pub iweight: u32,
}

/// Parses a server-state file (version 1). Lines that do not parse are skipped, as HAProxy
/// does; an unknown version yields an error.
pub fn parse(text: &str) -> Result<Vec<SavedServer>, String> {
    let mut lines = text.lines();
    match lines.next().map(str::trim) {
        Some("1") => {}
        Some(v) => return Err(format!("unsupported server state file version '{v}'")),
        None => return Ok(Vec::new()),
    }
    let mut out = Vec::new();
    for l in lines {
        let l = l.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let w: Vec<&str> = l.split_ascii_whitespace().collect();
        if w.len() < 9 {
            continue;
        }
        let num = |i: usize| w.get(i).and_then(|v| v.parse::<u32>().ok());
        let (Some(op_state), Some(admin_state), Some(uweight), Some(iweight)) =
            (num(5), num(6), num(7), num(8))
        else {
            continue;
        };
        out.push(SavedServer {
            backend: w[1].to_string(),
            server: w[3].to_string(),
            op_state,
            admin_state,
            uweight,
            iweight,
        });
    }
    Ok(out)
}

fn directive<'a>(config: &'a ir::Config, p: &'a ir::Proxy, kw: &str) -> Option<&'a [String]> {
    let own = p.raw.iter().rev().find(|d| d.keyword == kw);
    let inherited = || {
        let name = p.defaults_from.as_deref()?;
        config
            .defaults
            .iter()
            .rev()
            .find(|d| d.name == name)?
            .raw
            .iter()
            .rev()
            .find(|d| d.keyword == kw)
    };
    own.or_else(inherited).map(|d| d.args.as_slice())
}

fn with_base(global: &ir::Global, path: &str) -> String {
    match &global.server_state_base {
        Some(base) if !path.starts_with('/') => {
            format!("{}/{}", base.trim_end_matches('/'), path)
        }
        _ => path.to_string(),
    }
}

fn load_from(config: &ir::Config, be: &Backend) -> LoadFrom {
    let mode =
        directive(config, &be.cfg, "load-server-state-from-file").and_then(|a| a.first().cloned());
    match mode.as_deref() {
        Some("global") => LoadFrom::Global,
        Some("local") => {
            let name = directive(config, &be.cfg, "server-state-file-name")
                .and_then(|a| a.first().cloned())
                .filter(|n| n != "use-backend-name")
                .unwrap_or_else(|| be.name.clone());
            LoadFrom::Local(with_base(&config.global, &name))
        }
        _ => LoadFrom::None,
    }
}

fn warn(msg: &str) {
    eprintln!("[WARNING]  ({}) : config : {msg}", std::process::id());
}

/// Applies the saved states to the compiled runtime (before it serves anything).
pub fn apply(config: &ir::Config, rt: &Runtime) {
    let mut files: HashMap<String, Option<Vec<SavedServer>>> = HashMap::new();
    let mut read = |path: &str, what: &str| -> Option<Vec<SavedServer>> {
        files
            .entry(path.to_string())
            .or_insert_with(|| match std::fs::read_to_string(path) {
                Ok(t) => match parse(&t) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        warn(&format!("config: {what} server state file '{path}': {e}"));
                        None
                    }
                },
                Err(e) => {
                    warn(&format!(
                        "config: Can't open {what} server state file '{path}': {}",
                        io_text(&e)
                    ));
                    None
                }
            })
            .clone()
    };
    for be in &rt.backends {
        let saved = match load_from(config, be) {
            LoadFrom::None => continue,
            LoadFrom::Global => {
                let Some(path) = &config.global.server_state_file else {
                    continue;
                };
                read(&with_base(&config.global, path), "global")
            }
            LoadFrom::Local(path) => read(&path, "local"),
        };
        for s in saved.iter().flatten().filter(|s| s.backend == be.name) {
            if let Some(srv) = be.server(&s.server) {
                restore(be, srv, s);
                if srv.cfg.check && s.op_state == 0 {
                    srv.stats.health.store(0, Ordering::Relaxed);
                }
            }
        }
    }
}

fn restore(be: &Backend, srv: &Server, s: &SavedServer) {
    let (idx, cfg_weight, has_check) = (srv.index, srv.weight, srv.cfg.check);
    // forced maintenance / drain (set from the CLI or the stats page)
    be.live
        .set_maint(idx, s.admin_state & 0x01 != 0 || srv.cfg.disabled);
    be.live.set_drain(idx, s.admin_state & 0x08 != 0);
    // the user weight survives only if the configured weight did not change
    if s.iweight == cfg_weight {
        be.live.set_weight(idx, s.uweight);
    }
    // a server that was down stays down until its checks pass again
    if has_check && s.op_state == 0 && s.admin_state & 0x01 == 0 {
        be.live.set_running(idx, false);
    }
}

fn io_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_version_1() {
        let t = "1\n# be_id be_name ...\n3 be 1 s1 127.0.0.1 2 8 7 3 0 1 0 2 0 0 0 0 - 18081 - 0 0 - - 0\nbad line\n";
        let v = parse(t).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!((v[0].admin_state, v[0].uweight, v[0].iweight), (8, 7, 3));
        assert!(parse("2\n").is_err());
        assert!(parse("").unwrap().is_empty());
    }
}

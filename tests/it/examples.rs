//! The example configs (`examples/`) against the verdicts recorded in `examples/VERDICTS.tsv`.
//!
//! Every row names a config, the tool that checks it, the interfaces its namespace needs and the
//! exit code the reference tool gives. haproxy configs are checked with `-c -f FILE` from the
//! file's folder; keepalived configs with `-t -f FILE` from the file's folder inside a network
//! namespace created here (veth interfaces with the names the row lists; `none` = no interface).
//! The reference tools (haproxy 2.6.12, keepalived 2.2.7) must reproduce the table, and so must
//! `rhaproxy -c` / `rkeepalived -t`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::util::{self, TestNetns};

const CHECK_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Haproxy,
    Keepalived,
}

/// One row of VERDICTS.tsv.
#[derive(Debug)]
struct Verdict {
    tool: Tool,
    /// Relative to `examples/`.
    config: String,
    args: Vec<String>,
    /// `None`: the row needs a namespace without interfaces.
    ifaces: Option<Vec<String>>,
    exit: i32,
    first_diag: String,
}

fn examples_dir() -> PathBuf {
    util::repo_root().join("examples")
}

fn load_verdicts() -> Vec<Verdict> {
    let path = examples_dir().join("VERDICTS.tsv");
    let text = std::fs::read_to_string(&path).expect("read examples/VERDICTS.tsv");
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(
            cols.len() >= 5,
            "VERDICTS.tsv:{}: expected at least 5 columns",
            n + 1
        );
        let tool = match cols[0] {
            "haproxy" => Tool::Haproxy,
            "keepalived" => Tool::Keepalived,
            other => panic!("VERDICTS.tsv:{}: unknown tool {other}", n + 1),
        };
        let args = match cols[2] {
            "-" | "" => Vec::new(),
            a => a.split_whitespace().map(str::to_owned).collect(),
        };
        let ifaces = match cols[3] {
            "none" => None,
            "-" | "" => Some(Vec::new()),
            l => Some(l.split(',').map(str::to_owned).collect()),
        };
        let exit = cols[4]
            .parse()
            .unwrap_or_else(|_| panic!("VERDICTS.tsv:{}: bad exit code", n + 1));
        rows.push(Verdict {
            tool,
            config: cols[1].to_owned(),
            args,
            ifaces,
            exit,
            first_diag: cols.get(5).copied().unwrap_or("-").to_owned(),
        });
    }
    rows
}

/// All config files under `examples/` that need a verdict.
fn example_configs() -> BTreeSet<String> {
    fn walk(dir: &Path, base: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
            let p = entry.path();
            if p.is_dir() {
                walk(&p, base, out);
                continue;
            }
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.ends_with(".cfg") || (name.starts_with("keepalived") && name.ends_with(".conf"))
            {
                let rel = p.strip_prefix(base).expect("prefix");
                out.insert(rel.to_string_lossy().into_owned());
            }
        }
    }
    let base = examples_dir();
    let mut out = BTreeSet::new();
    walk(&base, &base, &mut out);
    out
}

#[test]
fn examples_every_config_has_a_verdict() {
    let rows = load_verdicts();
    let listed: BTreeSet<String> = rows.iter().map(|r| r.config.clone()).collect();
    let present = example_configs();
    let missing: Vec<_> = present.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&present).collect();
    assert!(
        missing.is_empty(),
        "configs without a row in examples/VERDICTS.tsv: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "VERDICTS.tsv rows for missing files: {stale:?}"
    );
    // Every seed lab and the quick start are represented, with both tools where the lab has both.
    for (folder, tools) in [
        ("000-", &[Tool::Haproxy, Tool::Keepalived][..]),
        ("001-", &[Tool::Haproxy, Tool::Keepalived]),
        ("002-", &[Tool::Haproxy, Tool::Keepalived]),
        ("003-", &[Tool::Keepalived]),
        ("004-", &[Tool::Haproxy, Tool::Keepalived]),
        ("quickstart/", &[Tool::Haproxy, Tool::Keepalived]),
    ] {
        for tool in tools {
            assert!(
                rows.iter()
                    .any(|r| r.config.starts_with(folder) && r.tool == *tool),
                "no {tool:?} example in {folder}"
            );
        }
    }
}

/// The binaries a run compares with the table.
struct Checkers {
    haproxy: PathBuf,
    keepalived: PathBuf,
}

/// Namespaces for the keepalived rows: one with every interface any row needs, one bare.
struct Namespaces {
    full: TestNetns,
    bare: TestNetns,
}

impl Namespaces {
    fn for_rows(rows: &[Verdict]) -> Namespaces {
        let mut full = TestNetns::new("rhx-ex");
        let bare = TestNetns::new("rhx-exb");
        let names: BTreeSet<&str> = rows
            .iter()
            .filter_map(|r| r.ifaces.as_ref())
            .flatten()
            .map(String::as_str)
            .collect();
        for name in names {
            full.add_iface(name);
        }
        Namespaces { full, bare }
    }
}

/// Runs one row's check; returns (exit code or None when killed/signalled, combined output).
fn run_check(row: &Verdict, bins: &Checkers, ns: &Namespaces) -> (Option<i32>, String) {
    let path = examples_dir().join(&row.config);
    let dir = path.parent().expect("parent").to_path_buf();
    let file = path.file_name().expect("file name").to_owned();
    let mut cmd = match row.tool {
        Tool::Haproxy => {
            let mut c = Command::new(&bins.haproxy);
            c.arg("-c").args(&row.args).arg("-f").arg(&file);
            c
        }
        Tool::Keepalived => {
            let netns = if row.ifaces.is_some() {
                &ns.full
            } else {
                &ns.bare
            };
            let mut c = netns.command(&bins.keepalived);
            c.arg("-t").args(&row.args).arg("-f").arg(&file);
            c
        }
    };
    cmd.current_dir(&dir);
    let (out, killed) = util::output_with_timeout(&mut cmd, CHECK_TIMEOUT);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let code = if killed { None } else { out.status.code() };
    (code, text)
}

/// Checks every row with `bins`; returns the disagreements, one line each.
fn disagreements(bins: &Checkers, also_first_line: bool) -> Vec<String> {
    let rows = load_verdicts();
    assert!(!rows.is_empty(), "VERDICTS.tsv has no rows");
    let ns = Namespaces::for_rows(&rows);
    let mut bad = Vec::new();
    for row in &rows {
        let (code, text) = run_check(row, bins, &ns);
        let ifaces = match &row.ifaces {
            Some(l) => l.join(","),
            None => "none".to_owned(),
        };
        if code != Some(row.exit) {
            bad.push(format!(
                "{} [{:?}, ifaces {ifaces}]: exit {code:?}, expected {} ({})\n{}",
                row.config,
                row.tool,
                row.exit,
                row.first_diag,
                text.lines().take(6).collect::<Vec<_>>().join("\n")
            ));
            continue;
        }
        // haproxy's first alert names `[FILE:LINE]`; our diagnostics must name the same place.
        if also_first_line {
            if let Some(place) = haproxy_place(&row.first_diag) {
                if !text.contains(&place) {
                    bad.push(format!(
                        "{}: exit agrees but the output does not name {place} ({})",
                        row.config, row.first_diag
                    ));
                }
            }
        }
    }
    bad
}

/// `parsing [haproxy.cfg:63] : ...` -> `haproxy.cfg:63`.
fn haproxy_place(diag: &str) -> Option<String> {
    let start = diag.find("parsing [")? + "parsing [".len();
    let end = diag[start..].find(']')? + start;
    Some(diag[start..end].to_owned())
}

fn can_run(tools: &[&str]) -> bool {
    if !util::is_root() {
        if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
            panic!("the example checks need root (network namespaces) in CI");
        }
        eprintln!("skipping: not root, cannot create network namespaces");
        return false;
    }
    tools.iter().all(|t| util::require(t))
}

#[test]
fn examples_reference_tools_agree_with_verdicts() {
    if !can_run(&["haproxy", "keepalived", "ip"]) {
        return;
    }
    let bins = Checkers {
        haproxy: PathBuf::from("haproxy"),
        keepalived: PathBuf::from("keepalived"),
    };
    let bad = disagreements(&bins, false);
    assert!(
        bad.is_empty(),
        "haproxy/keepalived disagree with examples/VERDICTS.tsv:\n{}",
        bad.join("\n\n")
    );
}

#[test]
fn examples_our_checkers_agree_with_verdicts() {
    if !can_run(&["ip"]) {
        return;
    }
    let bins = Checkers {
        haproxy: util::rhaproxy_bin(),
        keepalived: util::rkeepalived_bin(),
    };
    let bad = disagreements(&bins, true);
    assert!(
        bad.is_empty(),
        "rhaproxy -c / rkeepalived -t disagree with examples/VERDICTS.tsv:\n{}",
        bad.join("\n\n")
    );
}

#[test]
fn examples_haproxy_place_is_extracted() {
    assert_eq!(
        haproxy_place("config : parsing [haproxy.cfg:63] : please use the 'bind' keyword"),
        Some("haproxy.cfg:63".to_owned())
    );
    assert_eq!(haproxy_place("SECURITY VIOLATION - scripts"), None);
}

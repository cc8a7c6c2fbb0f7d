//! README.md's support table and grammar/SUPPORT.md are generated from the two keyword
//! catalogues (grammar/haproxy-keywords.tsv, grammar/keepalived-keywords.tsv). This test fails
//! when either drifts from the catalogues; `UPDATE_SUPPORT=1 cargo test --test it support_table`
//! rewrites them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::util::repo_root;

const START: &str = "<!-- support-table:start (generated from grammar/*-keywords.tsv) -->";
const END: &str = "<!-- support-table:end -->";

/// One catalogue row reduced to what the tables show.
struct Row {
    keyword: String,
    kind: String,
    place: String,
    status: String,
    note: String,
}

fn tsv_rows(name: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(repo_root().join("grammar").join(name)).expect("catalogue");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

fn haproxy_rows() -> Vec<Row> {
    tsv_rows("haproxy-keywords.tsv")
        .into_iter()
        .map(|c| Row {
            keyword: c.first().cloned().unwrap_or_default(),
            kind: c.get(1).cloned().unwrap_or_default(),
            place: c.get(2).cloned().unwrap_or_default(),
            status: c.get(3).cloned().unwrap_or_default(),
            note: c.get(4).cloned().unwrap_or_default(),
        })
        .collect()
}

fn keepalived_rows() -> Vec<Row> {
    tsv_rows("keepalived-keywords.tsv")
        .into_iter()
        .map(|c| {
            // status may carry a note after a colon ("warned: deprecated ..."); a fifth
            // column, when present, is the note.
            let raw = c.get(3).cloned().unwrap_or_default();
            let (status, mut note) = match raw.split_once(':') {
                Some((s, n)) => (s.trim().to_string(), n.trim().to_string()),
                None => (raw.trim().to_string(), String::new()),
            };
            if let Some(n) = c.get(4).filter(|n| !n.trim().is_empty()) {
                note = n.trim().to_string();
            }
            Row {
                keyword: c.get(1).cloned().unwrap_or_default(),
                kind: c.get(2).cloned().unwrap_or_default(),
                place: c.first().cloned().unwrap_or_default(),
                status,
                note,
            }
        })
        .collect()
}

/// Counts per kind and status, as a markdown table.
fn summary(title: &str, rows: &[Row], statuses: &[String]) -> String {
    let mut counts: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for r in rows {
        *counts
            .entry(r.kind.as_str())
            .or_default()
            .entry(r.status.as_str())
            .or_default() += 1;
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| {title} keywords | {} | total |",
        statuses.join(" | ")
    );
    let _ = writeln!(out, "|---|{}---|", "---|".repeat(statuses.len()));
    let mut totals = vec![0usize; statuses.len()];
    for (kind, by_status) in &counts {
        let mut line = format!("| {kind} |");
        let mut sum = 0;
        for (i, s) in statuses.iter().enumerate() {
            let n = by_status.get(s.as_str()).copied().unwrap_or(0);
            totals[i] += n;
            sum += n;
            let _ = write!(line, " {n} |");
        }
        let _ = writeln!(out, "{line} {sum} |");
    }
    let all: usize = totals.iter().sum();
    let cells: Vec<String> = totals.iter().map(|n| format!("**{n}**")).collect();
    let _ = writeln!(out, "| **all** | {} | **{all}** |", cells.join(" | "));
    out
}

fn full_list(title: &str, rows: &[Row]) -> String {
    let mut out = format!(
        "## {title}\n\n| keyword | kind | where | status | note |\n|---|---|---|---|---|\n"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            r.keyword.replace('|', "\\|"),
            r.kind,
            r.place.replace('|', "\\|"),
            r.status,
            r.note.replace('|', "\\|")
        );
    }
    out
}

/// The statuses present in `rows`: the usual ones first, in their order, then any other.
fn statuses(rows: &[Row]) -> Vec<String> {
    const ORDER: [&str; 6] = [
        "implemented",
        "typed",
        "parsed-warned",
        "accepted",
        "warned",
        "rejected",
    ];
    let mut present: Vec<String> = Vec::new();
    for r in rows {
        if !present.contains(&r.status) {
            present.push(r.status.clone());
        }
    }
    present.sort_by_key(|s| {
        (
            ORDER.iter().position(|o| o == s).unwrap_or(ORDER.len()),
            s.clone(),
        )
    });
    present
}

fn generated() -> (String, String) {
    let h = haproxy_rows();
    let k = keepalived_rows();
    let hs = statuses(&h);
    let ks = statuses(&k);
    let readme = format!(
        "{START}\n{}\n{}\n{END}",
        summary("haproxy.cfg", &h, &hs),
        summary("keepalived.conf", &k, &ks)
    );
    let support = format!(
        "# Keyword support\n\nGenerated from grammar/haproxy-keywords.tsv and grammar/keepalived-keywords.tsv by \
         `UPDATE_SUPPORT=1 cargo test --test it support_table`; edit the catalogues, not this file.\n\n{}\n{}",
        full_list("haproxy.cfg (HAProxy 2.6)", &h),
        full_list("keepalived.conf (keepalived 2.2.7)", &k)
    );
    (readme, support)
}

#[test]
fn support_tables_match_the_catalogues() {
    let (block, support) = generated();
    let readme_path = repo_root().join("README.md");
    let support_path = repo_root().join("grammar").join("SUPPORT.md");
    let readme = std::fs::read_to_string(&readme_path).expect("README.md");
    let (Some(a), Some(b)) = (readme.find(START), readme.find(END)) else {
        panic!("README.md lacks the support-table markers");
    };
    let current_block = &readme[a..b + END.len()];
    let current_support = std::fs::read_to_string(&support_path).unwrap_or_default();
    if std::env::var_os("UPDATE_SUPPORT").is_some() {
        let new_readme = format!("{}{}{}", &readme[..a], block, &readme[b + END.len()..]);
        std::fs::write(&readme_path, new_readme).expect("write README.md");
        std::fs::write(&support_path, &support).expect("write SUPPORT.md");
        return;
    }
    assert_eq!(
        current_block, block,
        "README.md support table is stale: run with UPDATE_SUPPORT=1"
    );
    assert_eq!(
        current_support, support,
        "grammar/SUPPORT.md is stale: run with UPDATE_SUPPORT=1"
    );
}

//! keepalived configuration front end: lexer → parser (keyword tables) → typed IR →
//! validation, and the `rkeepalived` command line.
//!
//! [`load`] is the one entry point: it reads a file like `keepalived -t` does and returns the
//! IR with every finding and keepalived's exit status.
pub mod cli;
pub mod ir;
pub mod lexer;
pub mod parser;
pub mod report;
pub mod system;
pub mod typed;
pub mod validate;

use std::path::Path;

use crate::diag::SourceMap;
use ir::KeepalivedConfig;
use report::{ErrorClass, Finding, Phase};
use system::System;

/// Result of reading and checking a configuration.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: KeepalivedConfig,
    pub findings: Vec<Finding>,
    pub sources: SourceMap,
    pub multi_file: bool,
    /// keepalived's `-t` exit status for these findings.
    pub exit_status: i32,
}

impl Loaded {
    /// keepalived-style lines for every finding, in report order.
    pub fn render_lines(&self) -> Vec<String> {
        self.findings
            .iter()
            .map(|f| f.render(&self.sources, self.multi_file))
            .collect()
    }
}

/// Reads and checks `path` (with `config_id` for `@ID` lines), against the running system.
pub fn load(path: &Path, config_id: Option<&str>, sys: &dyn System) -> Loaded {
    let opts = lexer::LexOptions {
        config_id: config_id.map(str::to_string),
    };
    if !path.exists() {
        let f = Finding::new(
            ErrorClass::Info,
            None,
            format!("Config files missing '{}'.", path.display()),
        );
        return Loaded {
            config: KeepalivedConfig::default(),
            findings: vec![f],
            sources: SourceMap::new(),
            multi_file: false,
            exit_status: 0,
        };
    }
    let lexed = lexer::lex_file(path, &opts);
    finish(lexed, sys)
}

/// Same as [`load`] for text in memory (tests, fuzzing).
pub fn load_str(name: &str, text: &str, config_id: Option<&str>, sys: &dyn System) -> Loaded {
    let opts = lexer::LexOptions {
        config_id: config_id.map(str::to_string),
    };
    finish(lexer::lex_str(name, text, &opts), sys)
}

fn finish(lexed: lexer::Lexed, sys: &dyn System) -> Loaded {
    let mut findings = lexed.findings;
    // The IR comes from one read with every block active; structure errors come from reads
    // like each keepalived process makes (each skips the blocks it does not handle).
    let (nodes, _) = parser::TreeBuilder::new(&lexed.lines).build();
    let mut seen = std::collections::HashSet::new();
    for pass in [Phase::Parent, Phase::Checker, Phase::Vrrp, Phase::Bfd] {
        let (_, pass_findings) = parser::TreeBuilder::for_pass(&lexed.lines, pass).build();
        for f in pass_findings {
            if seen.insert((f.diag.message.clone(), f.diag.span)) {
                findings.push(f);
            }
        }
    }
    let mut ex = typed::Extractor::new(sys);
    ex.extract(&nodes);
    findings.extend(ex.findings);
    let missing_interface = ex.missing_interface;
    let config = ex.cfg;
    // keepalived reports while reading, in line order within each process.
    let mut line_order = std::collections::HashMap::new();
    for (i, l) in lexed.lines.iter().enumerate() {
        line_order.entry((l.span.file, l.span.line)).or_insert(i);
    }
    for f in findings.iter_mut() {
        if f.order == usize::MAX {
            if let Some(sp) = f.diag.span {
                f.order = line_order
                    .get(&(sp.file, sp.line))
                    .copied()
                    .unwrap_or(usize::MAX - 1);
            }
        }
    }
    let mut exit_status;
    if ex.aborted {
        // keepalived exits at once (KEEPALIVED_EXIT_CONFIG) on a missing parameter.
        exit_status = 2;
    } else {
        // A configured network namespace that cannot be entered ends keepalived -t after the
        // parent has read the configuration, with status 0.
        let ns_fail = config
            .global_defs
            .net_namespace
            .as_deref()
            .map(|n| !sys.netns_exists(n))
            .unwrap_or(false);
        if ns_fail {
            findings.retain(|f| f.phase == Phase::Parent);
            let name = config.global_defs.net_namespace.clone().unwrap_or_default();
            findings.push(Finding::new(
                ErrorClass::Info,
                None,
                format!("Unable to set network namespace {name} - exiting"),
            ));
            exit_status = 0;
        } else {
            findings.extend(validate::validate(&config, sys, missing_interface));
            exit_status = report::exit_status(&findings);
        }
    }
    // Parent-process messages come first, then each child's, like keepalived's.
    findings.sort_by_key(|f| (f.phase, f.order));
    // Then rkeepalived's own notices: keywords read but not acted on yet.
    if exit_status != 2 {
        not_implemented_notices(&nodes, &mut findings);
    }
    if exit_status == 2 && findings.is_empty() {
        exit_status = 2;
    }
    Loaded {
        config,
        findings,
        sources: lexed.sources,
        multi_file: lexed.multi_file,
        exit_status,
    }
}

/// One notice per use of a keyword the engines do not act on (catalogue status
/// `parsed-warned`), in file order. The blocks of such a keyword are not descended into.
fn not_implemented_notices(nodes: &[parser::Node], out: &mut Vec<Finding>) {
    let cat = parser::Catalogue::get();
    for n in nodes {
        if !cat.is_implemented(&n.context, n.keyword()) {
            out.push(Finding::not_implemented(n.span, n.keyword()));
        } else {
            not_implemented_notices(&n.children, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::system::{ScriptFile, System};
    use super::*;
    use proptest::prelude::*;

    /// A fixed system: eth0, eth1, lo; only root exists; /bin/* scripts exist.
    pub(crate) struct FakeSystem;

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

    const SAMPLE: &str = "global_defs {\n router_id lb1\n enable_script_security\n script_user root\n}\n\
vrrp_script chk {\n script \"/bin/true\"\n interval 2\n weight -20\n}\n\
vrrp_sync_group G {\n group {\n VI_1\n VI_2\n }\n sync_group_tracking_weight\n}\n\
vrrp_instance VI_1 {\n state MASTER\n interface eth0\n virtual_router_id 51\n priority 200\n advert_int 1\n\
 authentication {\n auth_type PASS\n auth_pass secret12\n }\n virtual_ipaddress {\n 10.0.0.100/24 dev eth0 label eth0:1\n }\n\
 track_script {\n chk weight 10\n }\n}\n\
vrrp_instance VI_2 {\n interface eth1\n virtual_router_id 52\n version 3\n advert_int 0.1\n virtual_ipaddress {\n 10.1.0.100\n }\n}\n\
virtual_server 10.0.0.100 80 {\n lb_algo wrr\n lb_kind NAT\n protocol TCP\n persistence_timeout 50\n sorry_server 10.0.0.9 8080\n\
 real_server 10.0.0.21 80 {\n weight 2\n HTTP_GET {\n url {\n path /lbstate\n digest 9f170475f8fbb9d178c358323fcbf49f\n status_code 200\n }\n\
 connect_timeout 3\n retry 3\n delay_before_retry 2\n }\n }\n}\n";

    #[test]
    fn sample_checks_clean_and_fills_the_ir() {
        let l = load_str("k.conf", SAMPLE, None, &FakeSystem);
        assert_eq!(l.exit_status, 0, "{:?}", l.render_lines());
        let c = &l.config;
        assert_eq!(c.instances.len(), 2);
        let v1 = &c.instances[0];
        assert_eq!(v1.virtual_router_id, Some(51));
        assert_eq!(v1.priority, 200);
        assert_eq!(v1.state, ir::InitialState::Master);
        assert_eq!(
            v1.authentication.as_ref().map(|a| a.auth_pass.clone()),
            Some(b"secret12".to_vec())
        );
        assert_eq!(v1.virtual_ipaddress[0].label.as_deref(), Some("eth0:1"));
        assert_eq!(v1.track_script[0].weight, Some(10));
        let v2 = &c.instances[1];
        assert_eq!(v2.advert_int_centiseconds(), 10);
        assert_eq!(v2.effective_version(&c.global_defs), 3);
        assert_eq!(c.sync_group_of("VI_2").map(|g| g.name.as_str()), Some("G"));
        assert_eq!(c.vrrp_scripts[0].weight, -20);
        let vs = &c.virtual_servers[0];
        assert_eq!(vs.lb_algo, Some(ir::LbAlgo::Wrr));
        assert_eq!(vs.real_servers[0].weight, 2);
        match &vs.real_servers[0].checkers[0].kind {
            ir::CheckerKind::Http { urls, .. } => {
                assert_eq!(urls[0].status_code, vec![(200, 200)]);
                assert_eq!(
                    urls[0].digest.as_deref(),
                    Some("9f170475f8fbb9d178c358323fcbf49f")
                );
            }
            other => panic!("unexpected checker {other:?}"),
        }
        assert_eq!(vs.real_servers[0].checkers[0].common.retry, Some(3));
    }

    #[test]
    fn findings_render_like_keepalived() {
        let l = load_str(
            "k.conf",
            "global_defs {\n router_idd x\n}\n",
            None,
            &FakeSystem,
        );
        assert_eq!(l.exit_status, 5);
        assert_eq!(l.render_lines()[0], "(Line 2) Unknown keyword 'router_idd'");
        assert_eq!(
            l.findings[0].diag.help.as_deref(),
            Some("did you mean 'router_id'?")
        );
    }

    #[test]
    fn unimplemented_keywords_get_a_warning_notice_after_keepalived_lines() {
        let text = "global_defs {\n router_idd x\n vrrp_no_swap\n}\n";
        let l = load_str("k.conf", text, None, &FakeSystem);
        assert_eq!(l.exit_status, 5);
        let lines = l.render_lines();
        assert_eq!(
            lines,
            vec![
                "(Line 2) Unknown keyword 'router_idd'".to_string(),
                "(k.conf: Line 3) keyword 'vrrp_no_swap' is not implemented yet in rkeepalived"
                    .to_string()
            ]
        );
        let notice = &l.findings[1].diag;
        assert_eq!(notice.severity, crate::diag::Severity::Warning);
        assert_eq!(notice.span.map(|s| s.line), Some(3));
    }

    fn keyword_soup() -> impl Strategy<Value = String> {
        let words = prop::sample::select(vec![
            "vrrp_instance",
            "VI_1",
            "{",
            "}",
            "interface",
            "eth0",
            "virtual_router_id",
            "51",
            "priority",
            "-1",
            "virtual_ipaddress",
            "10.0.0.1/24",
            "dev",
            "authentication",
            "auth_type",
            "AH",
            "auth_pass",
            "\"",
            "$X=",
            "$X",
            "${X}",
            "@id",
            "@^id",
            "~SEQ(i,1,3)",
            "include",
            "*",
            "#",
            "!",
            "\\",
            "virtual_server",
            "real_server",
            "HTTP_GET",
            "url",
            "path",
            "global_defs",
            "vrrp_script",
            "script",
            "/bin/true",
            "track_script",
            "\n",
            "\n",
            "\n",
            "0x1f",
            "1.5",
            "",
            "notify",
            "vrrp_sync_group",
            "group",
        ]);
        prop::collection::vec(words, 0..80).prop_map(|w| w.join(" "))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

        #[test]
        fn never_panics_on_random_text(s in "\\PC{0,400}") {
            let l = load_str("p.conf", &s, Some("id"), &FakeSystem);
            prop_assert!(matches!(l.exit_status, 0 | 2 | 4 | 5 | 6));
        }

        #[test]
        fn never_panics_on_keyword_soup(s in keyword_soup()) {
            let l = load_str("p.conf", &s, Some("id"), &FakeSystem);
            let _ = l.render_lines();
            prop_assert!(matches!(l.exit_status, 0 | 2 | 4 | 5 | 6));
        }

        #[test]
        fn never_panics_on_mutated_sample(pos in 0usize..2000, cut in 0usize..40, insert in "\\PC{0,12}") {
            let mut s = SAMPLE.to_string();
            let p = s.char_indices().map(|(i, _)| i).nth(pos % s.chars().count()).unwrap_or(0);
            let end = s[p..].char_indices().map(|(i, _)| p + i).nth(cut).unwrap_or(s.len());
            s.replace_range(p..end, &insert);
            let l = load_str("m.conf", &s, None, &FakeSystem);
            prop_assert!(matches!(l.exit_status, 0 | 2 | 4 | 5 | 6));
        }
    }
}

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
    let (nodes, tree_findings) = parser::TreeBuilder::new(&lexed.lines).build();
    findings.extend(tree_findings);
    let mut ex = typed::Extractor::new(sys);
    ex.extract(&nodes);
    findings.extend(ex.findings);
    let config = ex.cfg;
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
            findings.extend(validate::validate(&config, sys));
            exit_status = report::exit_status(&findings);
        }
    }
    // Parent-process messages come first, like keepalived's.
    findings.sort_by_key(|f| f.phase == Phase::Child);
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

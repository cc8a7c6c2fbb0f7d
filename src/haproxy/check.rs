//! Loading configuration files and `rhaproxy -c`: haproxy's semantics and exit codes.
//!
//! Exit status: 0 valid; 1 errors (or warnings with `-dW`); 2 valid but nothing listens.
//! Diagnostics go to stderr, either as haproxy's own lines (`[ALERT]    (pid) : config :
//! parsing [FILE:LINE] : msg`) or as miette reports; "Configuration file is valid" goes to
//! stdout.

use std::io::{IsTerminal, Write};
use std::path::Path;

use crate::diag::{Severity, SourceMap};
use crate::haproxy::ir::Config;
use crate::haproxy::parser::{self, Finding, Loc, ParseOptions};
use crate::haproxy::validate::{self, ValidateOptions};

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagFormat {
    /// haproxy's `[ALERT] ... parsing [FILE:LINE] : msg` lines (default when stderr is not a TTY).
    Haproxy,
    /// miette reports with source snippets (default on a TTY).
    Miette,
}

impl DiagFormat {
    pub fn auto() -> Self {
        if std::io::stderr().is_terminal() {
            DiagFormat::Miette
        } else {
            DiagFormat::Haproxy
        }
    }
}

#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub paths: Vec<String>,
    pub ignore_resolution_failures: bool,
    pub zero_warning: bool,
    pub quiet: bool,
    pub verbose: bool,
    pub dump: bool,
    pub format: DiagFormat,
    /// Warn about keywords accepted but not interpreted (default on for -c).
    pub warn_unimplemented: bool,
    pub local_peer: Option<String>,
}

/// Outcome of loading a configuration.
pub struct Loaded {
    pub config: Config,
    pub sources: SourceMap,
    pub findings: Vec<Finding>,
    /// files that had at least one error (haproxy lists them)
    pub error_files: Vec<String>,
    pub ok: bool,
    /// haproxy stops before reading anything (missing file/directory, nothing to read).
    pub early_exit: bool,
    /// Parsing stopped early (haproxy's ERR_ABORT).
    pub aborted: bool,
}

/// Expands `-f` arguments: a directory contributes its `*.cfg` files in name order.
pub fn expand_paths(paths: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for p in paths {
        let path = Path::new(p);
        if !path.exists() {
            return Err(format!(
                "Cannot open configuration file/directory {p} : No such file or directory"
            ));
        }
        if path.is_dir() {
            let mut names: Vec<String> = std::fs::read_dir(path)
                .map_err(|e| format!("Cannot open configuration directory {p} : {e}"))?
                .filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.ends_with(".cfg"))
                .collect();
            names.sort();
            for n in names {
                out.push(format!("{}/{}", p.trim_end_matches('/'), n));
            }
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Reads, parses and validates the configuration.
pub fn load(opts: &CheckOptions) -> Loaded {
    let mut sources = SourceMap::new();
    let mut findings = Vec::new();
    let mut error_files = Vec::new();
    let files = match expand_paths(&opts.paths) {
        Ok(f) => f,
        Err(e) => {
            findings.push(plain_error(e));
            return Loaded {
                config: Config::default(),
                sources,
                findings,
                error_files,
                ok: false,
                early_exit: true,
                aborted: false,
            };
        }
    };
    if files.is_empty() {
        findings.push(plain_error("No configuration file found.".into()));
        return Loaded {
            config: Config::default(),
            sources,
            findings,
            error_files,
            ok: false,
            early_exit: true,
            aborted: false,
        };
    }
    let mut p = parser::Parser::new(ParseOptions {
        warn_unimplemented: opts.warn_unimplemented,
        env: None,
    });
    for f in &files {
        let text = match std::fs::read(f) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => {
                findings.push(plain_error(format!(
                    "Could not open configuration file {f} : {}",
                    io_reason(&e)
                )));
                error_files.push(f.clone());
                continue;
            }
        };
        let id = sources.add(f.clone(), text.clone());
        let before = p.findings.len();
        p.parse_file(id, f, &text);
        if p.findings[before..].iter().any(|x| x.is_fatal()) {
            error_files.push(f.clone());
        }
    }
    let parsed = p.finish();
    let aborted = parsed.aborted;
    findings.extend(parsed.findings);
    let mut config = parsed.config;
    let deferred = parsed.deferred;
    let parse_ok = !findings.iter().any(|f| f.is_fatal());
    if !parse_ok {
        return Loaded {
            config,
            sources,
            findings,
            error_files,
            ok: false,
            early_exit: false,
            aborted,
        };
    }
    let mut v = deferred;
    v.extend(validate::validate(
        &mut config,
        &sources,
        ValidateOptions {
            ignore_resolution_failures: opts.ignore_resolution_failures,
        },
    ));
    if opts.warn_unimplemented {
        v.extend(unsupported_sample_findings(&config));
    }
    let ok = !v.iter().any(|f| f.is_fatal());
    findings.extend(v);
    Loaded {
        config,
        sources,
        findings,
        error_files,
        ok,
        early_exit: false,
        aborted,
    }
}

/// "not implemented yet" warnings for fetches and converters the engine does not evaluate.
fn unsupported_sample_findings(cfg: &Config) -> Vec<Finding> {
    crate::haproxy::engine_support::unsupported_samples(cfg)
        .into_iter()
        .map(|u| Finding {
            diag: crate::diag::Diagnostic {
                severity: Severity::Warning,
                message: format!("{} is not implemented yet in rhaproxy", u.what),
                span: Some(u.span),
                help: None,
            }
            .with_help("it is accepted, but the engine does not evaluate it: a fetch yields no value (ACLs on it never match), a converter passes its input unchanged"),
            loc: crate::haproxy::parser::Loc::Parsing,
            fatal: true,
        })
        .collect()
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".into(),
        _ => e.to_string(),
    }
}

fn plain_error(msg: String) -> Finding {
    Finding {
        diag: crate::diag::Diagnostic::error(None, msg),
        loc: Loc::None,
        fatal: true,
    }
}

/// Prints findings in the chosen format.
pub fn print_findings(findings: &[Finding], sources: &SourceMap, format: DiagFormat, quiet: bool) {
    let pid = std::process::id();
    let stderr = std::io::stderr();
    let mut err = stderr.lock();
    for f in findings {
        if quiet && f.diag.severity != Severity::Error {
            continue;
        }
        if f.diag.message.is_empty() {
            // haproxy fails silently on a few errors
            continue;
        }
        match format {
            DiagFormat::Haproxy => {
                let tag = match f.diag.severity {
                    Severity::Error => "[ALERT]   ",
                    Severity::Warning => "[WARNING] ",
                    Severity::Notice => "[NOTICE]  ",
                };
                let _ = writeln!(err, "{tag} ({pid}) : config : {}", f.haproxy_text(sources));
            }
            DiagFormat::Miette => {
                let report = f.diag.to_report(sources);
                let _ = writeln!(err, "{report:?}");
            }
        }
    }
}

/// `rhaproxy -c`: returns the exit status.
pub fn run_check(opts: &CheckOptions) -> i32 {
    let loaded = load(opts);
    // -q, or "quiet" in global, silences every message, alerts included (as haproxy)
    let quiet = opts.quiet
        || loaded
            .config
            .global
            .raw
            .iter()
            .any(|r| r.keyword == "quiet");
    if !quiet {
        print_findings(&loaded.findings, &loaded.sources, opts.format, false);
    }
    let pid = std::process::id();
    if loaded.early_exit {
        return 1;
    }
    if !loaded.ok {
        if quiet {
            return 1;
        }
        if opts.format == DiagFormat::Haproxy {
            for f in &loaded.error_files {
                eprintln!(
                    "[ALERT]    ({pid}) : config : Error(s) found in configuration file : {f}"
                );
            }
            if !loaded.aborted {
                eprintln!("[ALERT]    ({pid}) : config : Fatal errors found in configuration.");
            }
        } else {
            eprintln!("error: fatal errors found in configuration");
        }
        return 1;
    }
    // our own "not implemented yet" notes do not count as haproxy warnings
    let warned = loaded.findings.iter().any(|f| {
        f.diag.severity == Severity::Warning
            && !f
                .diag
                .message
                .ends_with("is not implemented yet in rhaproxy")
    });
    let zero_warning = opts.zero_warning
        || loaded
            .config
            .global
            .raw
            .iter()
            .any(|r| r.keyword == "zero-warning");
    if warned && zero_warning {
        if !quiet {
            eprintln!("[ALERT]    ({pid}) : config : Some warnings were found and 'zero-warning' is set. Aborting.");
        }
        return 1;
    }
    if opts.dump {
        print!("{}", crate::haproxy::printer::print_config(&loaded.config));
    }
    if warned && !quiet {
        println!("Warnings were found.");
    }
    if !validate::has_listener(&loaded.config, opts.local_peer.as_deref()) {
        if !quiet {
            println!(
                "Configuration file has no error but will not start (no listener) => exit(2)."
            );
        }
        return 2;
    }
    if !quiet {
        println!("Configuration file is valid");
    }
    0
}

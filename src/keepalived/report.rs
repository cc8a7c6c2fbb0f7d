//! keepalived's configuration error classes and its `-t` output format.
//!
//! keepalived keeps the "highest" class reported while reading (the enum order of its
//! `config_err_t`), and `-t` exits 0 when nothing was reported, 4 for file/interface/fatal
//! problems alone, 6 when a script security violation was reported, 5 otherwise.

use crate::diag::{Diagnostic, SourceMap, Span};

/// keepalived's `config_err_t`, in its enum order (later = wins for the exit status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorClass {
    /// Printed but does not count (keepalived reports these with CONFIG_OK).
    Info,
    FileNotFound,
    BadInterface,
    Fatal,
    MultipleFiles,
    UnknownKeyword,
    UnexpectedBlockStart,
    MissingBlockStart,
    UnexpectedBlockEnd,
    MissingBlockEnd,
    UnmatchedQuote,
    MissingParameter,
    InvalidNumber,
    General,
    Warning,
    Deprecated,
    Security,
}

/// Which keepalived process would have reported it: the parent reads global settings; the
/// VRRP / checker children read their own blocks (and print file names in the prefix).
/// keepalived reads the file once per process, in this order, so messages come out grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Parent,
    Checker,
    Vrrp,
    Bfd,
}

/// One finding with keepalived's class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub class: ErrorClass,
    pub phase: Phase,
    /// Whether keepalived prefixes the message with `(Line N)` (it does while reading).
    pub located: bool,
    pub diag: Diagnostic,
    /// Position in keepalived's reading order (index into the lexed lines), for sorting.
    pub order: usize,
    /// Always name the file in the `-t` line (rkeepalived's own notices).
    pub name_file: bool,
}

impl Finding {
    pub fn new(class: ErrorClass, span: Option<Span>, message: impl Into<String>) -> Self {
        let diag = match class {
            ErrorClass::Info => Diagnostic::notice(span, message),
            ErrorClass::Warning | ErrorClass::Deprecated => Diagnostic::warning(span, message),
            _ => Diagnostic::error(span, message),
        };
        Finding {
            class,
            phase: Phase::Parent,
            located: span.is_some(),
            diag,
            order: usize::MAX,
            name_file: false,
        }
    }
    /// rkeepalived's notice for a keyword it reads but does not act on yet: printed after
    /// keepalived's own lines, with the file name, as a warning on a terminal; it never changes
    /// the exit status.
    pub fn not_implemented(span: Span, keyword: &str) -> Self {
        let mut f = Finding::new(
            ErrorClass::Info,
            Some(span),
            format!("keyword '{keyword}' is not implemented yet in rkeepalived"),
        );
        f.diag = Diagnostic::warning(Some(span), f.diag.message.clone())
            .with_help("rkeepalived accepts it like keepalived but does not act on it");
        f.name_file = true;
        f
    }
    /// Reported by the VRRP child process.
    pub fn child(mut self) -> Self {
        self.phase = Phase::Vrrp;
        self
    }
    pub fn in_phase(mut self, phase: Phase) -> Self {
        self.phase = phase;
        self
    }
    pub fn unlocated(mut self) -> Self {
        self.located = false;
        self
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.diag = self.diag.with_help(help);
        self
    }

    /// keepalived's `-t` line: `(FILE: Line N) message`, `(Line N) message` or `message`.
    pub fn render(&self, sources: &SourceMap, multi_file: bool) -> String {
        match (self.located, self.diag.span) {
            (true, Some(span)) => {
                if multi_file || self.name_file || self.phase != Phase::Parent {
                    format!(
                        "({}: Line {}) {}",
                        sources.name(span.file),
                        span.line,
                        self.diag.message
                    )
                } else {
                    format!("(Line {}) {}", span.line, self.diag.message)
                }
            }
            _ => self.diag.message.clone(),
        }
    }
}

/// The `-t` exit status for a set of findings (keepalived's `config_test_exit`).
pub fn exit_status(findings: &[Finding]) -> i32 {
    match findings.iter().map(|f| f.class).max() {
        None | Some(ErrorClass::Info) => 0,
        Some(ErrorClass::FileNotFound | ErrorClass::BadInterface | ErrorClass::Fatal) => 4,
        Some(ErrorClass::Security) => 6,
        Some(_) => 5,
    }
}

//! haproxy.cfg parser: lines of words → [`Config`], with haproxy's diagnostics.
//!
//! The driver reads each file line by line (the lexer needs the environment as changed by
//! `setenv` so far, and `.if` blocks), detects section starts, and hands each line to its
//! section's keyword parser. Proxy keywords live in [`proxy`], `server`/`bind` lines in
//! [`server`], http/tcp rules in [`rules`]; value sub-grammars (nom) in [`values`] and
//! [`sample`].

pub mod proxy;
pub mod rules;
pub mod sample;
pub mod server;
pub mod values;

use std::collections::HashMap;

use crate::diag::{Diagnostic, FileId, Severity, SourceMap, Span};
use crate::haproxy::catalogue::{self, Status};
use crate::haproxy::cond::{eval_condition, CondStack};
use crate::haproxy::ir::*;
use crate::haproxy::lexer::{lex_line, split_lines, EnvLookup, Word};

/// How haproxy prefixes the location of a message (it is not uniform).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loc {
    /// `parsing [FILE:LINE] : msg`
    Parsing,
    /// `parsing [FILE:LINE]: msg`
    ParsingTight,
    /// `[FILE:LINE] : msg`
    Bracket,
    /// `Parsing [FILE:LINE]: msg`
    CapParsing,
    /// no location in the haproxy line (the span still names the place for miette)
    None,
}

/// A diagnostic plus how haproxy would print its location.
#[derive(Debug, Clone)]
pub struct Finding {
    pub diag: Diagnostic,
    pub loc: Loc,
    /// An error that fails the check (haproxy prints a few alerts that do not).
    pub fatal: bool,
}

impl Finding {
    /// Whether this finding makes the configuration invalid.
    pub fn is_fatal(&self) -> bool {
        self.diag.is_error() && self.fatal
    }

    /// The text after `[ALERT]    (pid) : config : `.
    pub fn haproxy_text(&self, sources: &SourceMap) -> String {
        let place = self
            .diag
            .span
            .map(|s| (sources.name(s.file).to_string(), s.line));
        match (self.loc, place) {
            (Loc::Parsing, Some((f, l))) => format!("parsing [{f}:{l}] : {}", self.diag.message),
            (Loc::ParsingTight, Some((f, l))) => {
                format!("parsing [{f}:{l}]: {}", self.diag.message)
            }
            (Loc::Bracket, Some((f, l))) => format!("[{f}:{l}] : {}", self.diag.message),
            (Loc::CapParsing, Some((f, l))) => format!("Parsing [{f}:{l}]: {}", self.diag.message),
            _ => self.diag.message.clone(),
        }
    }
}

/// Environment seen by `"$VAR"` expansion: the process environment changed by
/// `setenv/presetenv/unsetenv/resetenv` lines, plus `.FILE` and `.SECTION`.
#[derive(Debug, Default, Clone)]
pub struct Env {
    overrides: HashMap<String, Option<String>>,
    cleared: bool,
    file: String,
    section: String,
    /// Test hook: a fixed environment instead of the process one.
    pub fixed: Option<HashMap<String, String>>,
}

impl Env {
    fn base(&self, name: &str) -> Option<String> {
        match &self.fixed {
            Some(m) => m.get(name).cloned(),
            None => std::env::var(name).ok(),
        }
    }
}

impl EnvLookup for Env {
    fn get(&self, name: &str) -> Option<String> {
        match name {
            ".FILE" => return Some(self.file.clone()),
            ".SECTION" => return Some(self.section.clone()),
            _ => {}
        }
        if let Some(v) = self.overrides.get(name) {
            return v.clone();
        }
        if self.cleared {
            return None;
        }
        self.base(name)
    }
}

/// The section being parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    None,
    Global,
    /// index into `defaults`
    Defaults(usize),
    /// index into `proxies`
    Proxy(usize),
    /// A proxy header failed: every keyword line errors until the next section.
    BrokenProxy,
    Userlist(usize),
    Peers(usize),
    Resolvers(usize),
    Mailers(usize),
    HttpErrors(usize),
    Cache(usize),
    Program(usize),
    Ring(usize),
    Other,
}

/// Result of parsing all files.
#[derive(Debug)]
pub struct Parsed {
    pub config: Config,
    pub findings: Vec<Finding>,
    /// Problems haproxy reports in its post-parse stage (only when parsing succeeded).
    pub deferred: Vec<Finding>,
    /// Set when haproxy would stop reading immediately (ERR_ABORT).
    pub aborted: bool,
}

impl Parsed {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.is_fatal())
    }
}

/// Options of a parse.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// Warn for keywords accepted but not interpreted (rhaproxy-specific warnings).
    pub warn_unimplemented: bool,
    /// A fixed environment (tests); None = the process environment.
    pub env: Option<HashMap<String, String>>,
}

pub struct Parser {
    pub(crate) cfg: Config,
    pub(crate) findings: Vec<Finding>,
    section: Section,
    section_name: &'static str,
    env: Env,
    file: FileId,
    /// Index of the latest defaults section, if any.
    last_defaults: Option<usize>,
    pub(crate) opts: ParseOptions,
    aborted: bool,
    fatal_count: usize,
    /// (file, line, what) of each "not implemented yet" warning, so a line is warned once.
    unimplemented_seen: Vec<(crate::diag::FileId, u32, String)>,
    /// Span of the line being parsed (for warnings raised deep in value parsers).
    cur_span: Span,
    /// `expose-experimental-directives` seen in global.
    pub(crate) experimental: bool,
    /// Names of the loaded files, by FileId.
    pub(crate) file_names: Vec<String>,
    /// Proxies by name (indexes into `cfg.proxies`), for duplicate checks.
    pub(crate) proxy_index: HashMap<String, Vec<usize>>,
    /// Findings haproxy only reports after parsing (its post-parse checks).
    pub(crate) deferred: Vec<Finding>,
    /// Which kind of proxy used each defaults section that defines rules.
    pub(crate) defaults_users: HashMap<usize, ProxyKind>,
    /// Rule counts the current proxy inherited from its defaults (haproxy keeps those apart,
    /// so its rule-ordering warnings only look at the proxy's own rules).
    pub(crate) inherited_rules: [usize; 7],
}

/// Words of the current line, with helpers.
pub struct Line<'a> {
    pub words: &'a [Word],
    pub span: Span,
}

impl<'a> Line<'a> {
    pub fn arg(&self, i: usize) -> &'a str {
        self.words.get(i).map(|w| w.text.as_str()).unwrap_or("")
    }
    pub fn has(&self, i: usize) -> bool {
        i < self.words.len()
    }
    pub fn len(&self) -> usize {
        self.words.len()
    }
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }
    pub fn args_from(&self, i: usize) -> Vec<String> {
        self.words.iter().skip(i).map(|w| w.text.clone()).collect()
    }
    pub fn word_span(&self, i: usize) -> Span {
        self.words.get(i).map(|w| w.span).unwrap_or(self.span)
    }
}

const SECTION_KEYWORDS: &[&str] = &[
    "global",
    "defaults",
    "frontend",
    "backend",
    "listen",
    "userlist",
    "peers",
    "resolvers",
    "mailers",
    "http-errors",
    "cache",
    "program",
    "ring",
    "log-forward",
    "fcgi-app",
];

impl Parser {
    pub fn new(opts: ParseOptions) -> Self {
        sample::reset_pattern_files();
        let env = Env {
            fixed: opts.env.clone(),
            ..Env::default()
        };
        Parser {
            cfg: Config::default(),
            findings: Vec::new(),
            section: Section::None,
            section_name: "",
            env,
            file: FileId(0),
            last_defaults: None,
            opts,
            aborted: false,
            fatal_count: 0,
            unimplemented_seen: Vec::new(),
            cur_span: Span::default(),
            experimental: false,
            file_names: Vec::new(),
            proxy_index: HashMap::new(),
            deferred: Vec::new(),
            defaults_users: HashMap::new(),
            inherited_rules: [0; 7],
        }
    }

    // ---- diagnostics ------------------------------------------------------------------

    pub(crate) fn push(
        &mut self,
        severity: Severity,
        loc: Loc,
        span: Option<Span>,
        msg: String,
        help: Option<String>,
    ) {
        if severity == Severity::Error {
            self.fatal_count += 1;
        }
        let mut diag = Diagnostic {
            severity,
            message: msg,
            span,
            help: None,
        };
        if let Some(h) = help {
            diag = diag.with_help(h);
        }
        self.findings.push(Finding {
            diag,
            loc,
            fatal: true,
        });
    }
    pub(crate) fn alert(&mut self, span: Span, msg: impl Into<String>) {
        self.push(Severity::Error, Loc::Parsing, Some(span), msg.into(), None);
    }
    /// An alert haproxy prints without failing the configuration.
    pub(crate) fn alert_nonfatal(&mut self, span: Span, msg: impl Into<String>) {
        self.push(Severity::Error, Loc::Parsing, Some(span), msg.into(), None);
        self.fatal_count = self.fatal_count.saturating_sub(1);
        if let Some(f) = self.findings.last_mut() {
            f.fatal = false;
        }
    }
    pub(crate) fn alert_loc(&mut self, loc: Loc, span: Span, msg: impl Into<String>) {
        self.push(Severity::Error, loc, Some(span), msg.into(), None);
    }
    pub(crate) fn alert_help(
        &mut self,
        span: Span,
        msg: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.push(
            Severity::Error,
            Loc::Parsing,
            Some(span),
            msg.into(),
            Some(help.into()),
        );
    }
    /// An error haproxy reports in its post-parse stage.
    pub(crate) fn defer_alert(&mut self, loc: Loc, span: Span, msg: impl Into<String>) {
        let diag = Diagnostic::error(Some(span), msg.into());
        self.deferred.push(Finding {
            diag,
            loc,
            fatal: true,
        });
    }
    pub(crate) fn warn(&mut self, span: Span, msg: impl Into<String>) {
        self.push(
            Severity::Warning,
            Loc::Parsing,
            Some(span),
            msg.into(),
            None,
        );
    }
    pub(crate) fn warn_loc(&mut self, loc: Loc, span: Span, msg: impl Into<String>) {
        self.push(Severity::Warning, loc, Some(span), msg.into(), None);
    }
    /// A keyword we accept without interpreting it yet.
    pub(crate) fn unimplemented(&mut self, span: Span, what: &str) {
        // one warning per line and keyword: "tcp-request content accept" covers
        // "tcp-request content"
        let words: Vec<&str> = what.split(' ').collect();
        let covered = self.unimplemented_seen.iter().any(|(f, l, w)| {
            *f == span.file && *l == span.line && {
                let seen: Vec<&str> = w.split(' ').collect();
                let n = seen.len().min(words.len());
                seen[..n] == words[..n]
            }
        });
        if covered {
            return;
        }
        self.unimplemented_seen
            .push((span.file, span.line, what.to_string()));
        if self.opts.warn_unimplemented {
            self.push(
                Severity::Warning,
                Loc::Parsing,
                Some(span),
                format!("keyword '{what}' is not implemented yet in rhaproxy"),
                Some("it is accepted and shown by --dump, but has no effect".into()),
            );
        }
    }
    /// Warns when the catalogue marks `key` of `kind` as parsed but not run by the engine.
    pub(crate) fn engine_gap(&mut self, kind: &str, key: &str, span: Span, what: &str) {
        if catalogue::lookup(kind, key).is_some_and(|e| e.status == Status::ParsedWarned) {
            self.unimplemented(span, what);
        }
    }

    pub(crate) fn abort(&mut self) {
        self.aborted = true;
    }

    /// Parses a time with `unit_us` as unit, warning like haproxy about trailing characters.
    pub(crate) fn ptime_unit(
        &mut self,
        text: &str,
        unit_us: u64,
    ) -> Result<std::time::Duration, values::TimeError> {
        let (d, trailing) = values::parse_time_full(text, unit_us)?;
        if let Some(c) = trailing {
            let span = self.cur_span;
            self.warn_loc(
                Loc::None,
                span,
                format!("unexpected character '{c}' after the timer value '{text}', only (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. This will be reported as an error in next versions."),
            );
        }
        Ok(d)
    }

    /// haproxy's `env_expand()` on an address string, with the configuration's environment.
    pub(crate) fn expand_env(&self, text: &str) -> String {
        let env = &self.env;
        values::env_expand(text, &|n: &str| env.get(n))
    }

    /// [`Self::ptime_unit`] in milliseconds.
    pub(crate) fn ptime(&mut self, text: &str) -> Result<std::time::Duration, values::TimeError> {
        self.ptime_unit(text, 1_000)
    }

    // ---- driver -------------------------------------------------------------------------

    /// Parses one file's text (several calls accumulate into the same configuration).
    pub fn parse_file(&mut self, file: FileId, name: &str, text: &str) {
        if self.aborted {
            return;
        }
        self.file = file;
        self.env.file = name.to_string();
        while self.file_names.len() <= file.0 as usize {
            self.file_names.push(String::new());
        }
        self.file_names[file.0 as usize] = name.to_string();
        let mut conds = CondStack::default();
        let mut missing_lf: Option<(u32, usize)> = None;
        let mut last_line_no = 0u32;
        self.fatal_count = 0;
        for pl in split_lines(text) {
            last_line_no = pl.number;
            if !pl.has_lf {
                missing_lf = Some((pl.number, pl.text.len() + 1));
            }
            if self.fatal_count >= 50 {
                let span = Span::new(file, pl.number, pl.offset, pl.offset + pl.text.len());
                self.alert_loc(
                    Loc::ParsingTight,
                    span,
                    format!(
                        "too many fatal errors ({}), stopping now.",
                        self.fatal_count
                    ),
                );
                break;
            }
            let line_span = Span::new(file, pl.number, pl.offset, pl.offset + pl.text.len());
            let trimmed = pl.text.trim_start();
            if trimmed.starts_with('[') {
                // scope lines ("[name]") only change the scope of later messages
                continue;
            }
            let words = match lex_line(pl.text, file, pl.number, pl.offset, &self.env) {
                Ok(w) => w,
                Err(e) => {
                    let mut msg = e.message();
                    if e.kind != crate::haproxy::lexer::LexErrorKind::TooManyWords {
                        // haproxy shows the line and a caret under the faulty character
                        let leading = pl.text.len() - pl.text.trim_start().len();
                        let pos = e.pos.saturating_sub(1).saturating_sub(leading);
                        let (shown, at) = sanitize_for_printing(&pl.text[leading..], pos, 80);
                        msg = format!("{msg}\n  {shown}\n  {}^", " ".repeat(at));
                    }
                    self.alert_loc(Loc::ParsingTight, line_span, msg);
                    continue;
                }
            };
            if words.is_empty() {
                continue;
            }
            let kw = words[0].text.as_str();
            if kw.starts_with('.') {
                if matches!(kw, ".if" | ".elif" | ".else" | ".endif") {
                    let expr_text = words[1..]
                        .iter()
                        .map(|w| w.text.as_str())
                        .collect::<Vec<_>>()
                        .join(" ");
                    let env = &self.env;
                    let mut eval = || {
                        eval_condition(&expr_text, env).map_err(|e| {
                            let width = if kw == ".if" { 76 } else { 74 };
                            let (shown, at) = sanitize_for_printing(&expr_text, e.pos, width);
                            format!(
                                "{} in '{}' at position {}:\n  {kw} {shown}\n  {}^",
                                e.message,
                                kw,
                                e.pos + 1,
                                " ".repeat(at + kw.len() + 1)
                            )
                        })
                    };
                    let first_arg = words.get(1).map(|w| w.text.as_str());
                    if let Err(msg) = conds.directive(kw, first_arg, &mut eval) {
                        self.alert_loc(Loc::ParsingTight, line_span, msg);
                        self.aborted = true;
                        return;
                    }
                    continue;
                }
                if !conds.active() {
                    continue;
                }
                self.dot_directive(&words, line_span);
                if self.aborted {
                    return;
                }
                continue;
            }
            if !conds.active() {
                continue;
            }
            self.line(&words, line_span);
            if self.aborted {
                return;
            }
        }
        self.end_section();
        self.section = Section::None;
        if let Some((line, pos)) = missing_lf {
            let span = Span::new(file, line, text.len(), text.len());
            self.alert_loc(
                Loc::ParsingTight,
                span,
                format!(
                    "Missing LF on last line, file might have been truncated at position {pos}."
                ),
            );
        }
        if conds.depth() > 0 {
            let span = Span::new(file, last_line_no, text.len(), text.len());
            self.alert_loc(Loc::ParsingTight, span, "non-terminated '.if' block.");
            self.aborted = true;
        }
    }

    /// `.diag/.notice/.warning/.alert`
    fn dot_directive(&mut self, words: &[Word], span: Span) {
        let kw = words[0].text.as_str();
        if !matches!(kw, ".diag" | ".notice" | ".warning" | ".alert") {
            self.alert_loc(
                Loc::ParsingTight,
                span,
                format!("unknown directive '{kw}'."),
            );
            return;
        }
        if let Some(extra) = words.get(2) {
            self.alert_loc(
                Loc::ParsingTight,
                span,
                format!("Unexpected argument '{}' for '{kw}'. Use quotes if the message should contain spaces.", extra.text),
            );
            return;
        }
        let msg = format!("'{}'.", words.get(1).map(|w| w.text.as_str()).unwrap_or(""));
        match kw {
            ".alert" => {
                self.alert_loc(Loc::ParsingTight, span, msg);
                self.aborted = true;
            }
            ".warning" => self.warn_loc(Loc::ParsingTight, span, msg),
            ".notice" => self.push(Severity::Notice, Loc::ParsingTight, Some(span), msg, None),
            _ => {} // .diag: only shown with -dD
        }
    }

    /// One logical line.
    fn line(&mut self, words: &[Word], span: Span) {
        self.cur_span = span;
        let mut w: Vec<Word> = words.to_vec();
        // "no" / "default" modifiers
        let mut modifier = None;
        if w[0].text == "no" || w[0].text == "default" {
            modifier = Some(w[0].text.clone());
            let first = w.remove(0);
            // haproxy shifts the words; with "default" the last word stays duplicated
            if first.text == "default" {
                if let Some(last) = w.last().cloned() {
                    w.push(last);
                }
            }
            let k = w.first().map(|x| x.text.as_str()).unwrap_or("");
            if !matches!(
                k,
                "option"
                    | "log"
                    | "busy-polling"
                    | "set-dumpable"
                    | "strict-limits"
                    | "insecure-fork-wanted"
                    | "numa-cpu-mapping"
            ) {
                self.alert_loc(
                    Loc::ParsingTight,
                    span,
                    "negation/default currently supported only for options, log, busy-polling, set-dumpable, strict-limits, insecure-fork-wanted and numa-cpu-mapping.",
                );
                // haproxy still hands the shifted line to the section parser
            }
            if w.is_empty() {
                w.push(Word {
                    text: String::new(),
                    span,
                });
            }
        }
        let line = Line { words: &w, span };
        let kw = line.arg(0);
        if SECTION_KEYWORDS.contains(&kw) {
            self.start_section(&line);
            return;
        }
        match self.section {
            Section::None => {
                self.alert_loc(
                    Loc::ParsingTight,
                    span,
                    format!("unknown keyword '{kw}' out of section."),
                );
            }
            Section::Global => self.global_kw(&line, modifier.as_deref()),
            Section::Defaults(_) | Section::Proxy(_) => self.proxy_kw(&line, modifier.as_deref()),
            Section::BrokenProxy => self.alert(span, "'listen' or 'defaults' expected."),
            Section::Userlist(i) => self.userlist_kw(i, &line),
            Section::Peers(i) => self.peers_kw(i, &line),
            Section::Resolvers(i) => self.resolvers_kw(i, &line),
            Section::Mailers(i) => self.mailers_kw(i, &line),
            Section::HttpErrors(i) => self.http_errors_kw(i, &line),
            Section::Cache(i) => self.cache_kw(i, &line),
            Section::Program(i) => self.program_kw(i, &line),
            Section::Ring(i) => self.ring_kw(i, &line),
            Section::Other => self.other_kw(&line),
        }
        // keywords the parser models but the engine does not act on yet
        match self.section {
            Section::Global => self.engine_gap("global", kw, line.word_span(0), kw),
            Section::Defaults(_) | Section::Proxy(_) => {
                if let Some(key) = proxy::catalogue_key(&line) {
                    self.engine_gap("proxy", key, line.word_span(0), key);
                }
                if let Some(what) = proxy::unsupported_argument(&line) {
                    self.unimplemented(line.word_span(0), &what);
                }
            }
            _ => {}
        }
    }

    /// haproxy's end-of-section checks (post_section_parser).
    fn end_section(&mut self) {
        if let Section::Cache(i) = self.section {
            if let Some(c) = self.cfg.caches.get(i) {
                if c.total_max_size_mb.unwrap_or(0) == 0 {
                    let (name, span) = (c.name.clone(), c.span);
                    self.alert_loc(
                        Loc::None,
                        span,
                        format!("Size not specified for cache '{name}'"),
                    );
                }
            }
        }
    }

    fn start_section(&mut self, line: &Line) {
        self.end_section();
        let kw = line.arg(0);
        self.engine_gap("section", kw, line.word_span(0), kw);
        let name = line.arg(1).to_string();
        let span = line.span;
        self.section_name = SECTION_KEYWORDS
            .iter()
            .copied()
            .find(|s| *s == kw)
            .unwrap_or("");
        self.env.section = if name.is_empty() {
            kw.to_string()
        } else {
            name.clone()
        };
        match kw {
            "global" => {
                if self.cfg.global.span.is_none() {
                    self.cfg.global.span = Some(span);
                }
                self.section = Section::Global;
            }
            "defaults" | "frontend" | "backend" | "listen" => self.start_proxy(line),
            "userlist" => {
                if name.is_empty() {
                    self.alert_loc(
                        Loc::ParsingTight,
                        span,
                        "'userlist' expects <name> as arguments.",
                    );
                    self.section = Section::Other;
                    return;
                }
                if self.cfg.userlists.iter().any(|u| u.name == name) {
                    self.warn(span, format!("ignoring duplicated userlist '{name}'."));
                }
                self.cfg.userlists.push(Userlist {
                    name,
                    groups: vec![],
                    users: vec![],
                    span,
                });
                self.section = Section::Userlist(self.cfg.userlists.len() - 1);
            }
            "peers" => {
                if name.is_empty() {
                    self.alert(span, "missing name for peers section.");
                    self.abort();
                    self.section = Section::Other;
                    return;
                }
                self.cfg.peers.push(PeersSection {
                    name,
                    peers: vec![],
                    binds: vec![],
                    servers: vec![],
                    table: vec![],
                    tables: vec![],
                    disabled: false,
                    raw: vec![],
                    span,
                });
                self.section = Section::Peers(self.cfg.peers.len() - 1);
            }
            "resolvers" => {
                if name.is_empty() {
                    self.alert(span, "missing name for resolvers section.");
                    self.section = Section::Other;
                    return;
                }
                self.cfg.resolvers.push(Resolvers {
                    name,
                    nameservers: vec![],
                    parse_resolv_conf: false,
                    accepted_payload_size: None,
                    resolve_retries: None,
                    timeout_resolve: None,
                    timeout_retry: None,
                    hold: vec![],
                    raw: vec![],
                    span,
                });
                self.section = Section::Resolvers(self.cfg.resolvers.len() - 1);
            }
            "mailers" => {
                if name.is_empty() {
                    self.alert(span, "'mailers' expects <name> as argument.");
                    self.section = Section::Other;
                    return;
                }
                self.cfg.mailers.push(Mailers {
                    name,
                    mailers: vec![],
                    timeout_mail: None,
                    span,
                });
                self.section = Section::Mailers(self.cfg.mailers.len() - 1);
            }
            "http-errors" => {
                if name.is_empty() {
                    self.alert(span, "'http-errors' expects <name> as argument.");
                    self.section = Section::Other;
                    return;
                }
                self.cfg.http_errors.push(HttpErrors {
                    name,
                    errorfiles: vec![],
                    span,
                });
                self.section = Section::HttpErrors(self.cfg.http_errors.len() - 1);
            }
            "cache" => {
                if name.is_empty() {
                    self.alert(span, "'cache' expects a <name> argument");
                    self.abort();
                    self.section = Section::Other;
                    return;
                }
                self.cfg.caches.push(Cache {
                    name,
                    total_max_size_mb: None,
                    max_object_size: None,
                    max_age: None,
                    process_vary: None,
                    max_secondary_entries: None,
                    span,
                });
                self.section = Section::Cache(self.cfg.caches.len() - 1);
            }
            "program" => {
                if name.is_empty() {
                    self.alert(span, "'program' expects an <id> argument");
                    self.abort();
                    self.section = Section::Other;
                    return;
                }
                self.cfg.programs.push(Program {
                    name,
                    command: vec![],
                    user: None,
                    group: None,
                    start_on_reload: false,
                    span,
                });
                self.section = Section::Program(self.cfg.programs.len() - 1);
            }
            "ring" => {
                if name.is_empty() {
                    self.alert(span, "missing ring name.");
                    self.section = Section::Other;
                    return;
                }
                self.cfg.rings.push(Ring {
                    name,
                    size: None,
                    format: None,
                    maxlen: None,
                    servers: vec![],
                    raw: vec![],
                    span,
                });
                self.section = Section::Ring(self.cfg.rings.len() - 1);
            }
            _ => {
                self.unimplemented(span, kw);
                self.section = Section::Other;
            }
        }
    }

    // ---- global -------------------------------------------------------------------------

    fn too_many_args(&mut self, line: &Line, max: usize) -> bool {
        if line.has(max + 1) {
            let span = line.span;
            let msg = format!(
                "'{}' cannot handle unexpected argument '{}'.",
                line.arg(0),
                line.arg(max + 1)
            );
            self.alert(span, msg);
            return true;
        }
        false
    }

    fn global_kw(&mut self, line: &Line, modifier: Option<&str>) {
        let kw = line.arg(0);
        let span = line.span;
        let a1 = line.arg(1).to_string();
        let int_arg = |p: &mut Parser, line: &Line| -> Option<u32> {
            if !line.has(1) {
                p.alert(
                    line.span,
                    format!("'{}' expects an integer argument.", line.arg(0)),
                );
                return None;
            }
            Some(values::atol(line.arg(1)).max(0) as u32)
        };
        match kw {
            "daemon" => {
                if !self.too_many_args(line, 0) {
                    self.cfg.global.daemon = true;
                }
            }
            "master-worker" => {
                if line.has(1) && line.arg(1) != "no-exit-on-failure" {
                    self.alert(
                        span,
                        "'master-worker' only supports 'no-exit-on-failure' option.",
                    );
                    return;
                }
                self.cfg.global.master_worker = true;
                self.cfg.global.no_exit_on_failure = line.has(1);
            }
            "nbproc" => {
                self.alert(span, "nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used on multi-processor machines if available.");
            }
            "nbthread" => {
                if self.too_many_args(line, 1) {
                    return;
                }
                match values::parse_uint(&a1) {
                    Some(n) if (1..=64).contains(&n) => self.cfg.global.nbthread = Some(n as u32),
                    Some(n) => self.alert(
                        span,
                        format!("'nbthread' value must be between 1 and 64 (was {n})"),
                    ),
                    None => self.alert(
                        span,
                        format!(
                            "'nbthread' passed a missing or unparsable integer value in '{a1}'"
                        ),
                    ),
                }
            }
            "maxconn" => {
                if self.too_many_args(line, 1) {
                    return;
                }
                if let Some(v) = int_arg(self, line) {
                    self.cfg.global.maxconn = Some(v);
                }
            }
            "maxsslconn" => {
                if let Some(v) = int_arg(self, line) {
                    self.cfg.global.maxsslconn = Some(v);
                }
            }
            "maxconnrate" => {
                if let Some(v) = int_arg(self, line) {
                    self.cfg.global.maxconnrate = Some(v);
                }
            }
            "uid" | "gid" => {
                if self.too_many_args(line, 1) {
                    return;
                }
                if !line.has(1) {
                    self.alert(span, format!("'{kw}' expects an integer argument."));
                    return;
                }
                let v = values::atol(&a1).max(0) as u64;
                if kw == "uid" {
                    self.cfg.global.uid = Some(v as u32);
                } else {
                    self.cfg.global.gid = Some(v as u32);
                }
            }
            "user" | "group" | "chroot" | "pidfile" | "node" | "ca-base" | "crt-base"
            | "server-state-file" | "server-state-base" | "log-tag" | "ssl-dh-param-file" => {
                if self.too_many_args(line, 1) {
                    return;
                }
                if !line.has(1) {
                    let msg = match kw {
                        "user" | "group" => format!("'{kw}' expects a {kw} name."),
                        "chroot" => "'chroot' expects a directory as an argument.".into(),
                        "pidfile" => "'pidfile' expects a file name as an argument.".into(),
                        "ca-base" | "crt-base" => format!(
                            "global statement '{kw}' expects a directory path as an argument."
                        ),
                        "node" => {
                            self.alert_loc(Loc::ParsingTight, span, "'node' requires valid node name - non-empty string with digits(0-9), letters(A-Z, a-z), dot(.), hyphen(-) or underscode(_).");
                            return;
                        }
                        _ => format!("'{kw}' expects an argument."),
                    };
                    self.alert(span, msg);
                    return;
                }
                if kw == "user" && !name_in_db("/etc/passwd", &a1) {
                    self.alert(span, format!("cannot find user id for '{a1}' (0:Success)"));
                    return;
                }
                if kw == "group" && !name_in_db("/etc/group", &a1) {
                    self.alert(span, format!("cannot find group id for '{a1}' (0:Success)"));
                    return;
                }
                if kw == "ssl-dh-param-file" && !crate::haproxy::parser::config_file_readable(&a1) {
                    self.alert(
                        span,
                        format!(
                            "'ssl-dh-param-file': unable to load DH parameters from file <{a1}>."
                        ),
                    );
                    return;
                }
                let g = &mut self.cfg.global;
                let v = Some(a1);
                match kw {
                    "user" => g.user = v,
                    "group" => g.group = v,
                    "chroot" => g.chroot = v,
                    "pidfile" => g.pidfile = v,
                    "node" => g.node = v,
                    "ca-base" => g.ca_base = v,
                    "crt-base" => g.crt_base = v,
                    "server-state-file" => g.server_state_file = v,
                    "server-state-base" => g.server_state_base = v,
                    "log-tag" => g.log_tag = v,
                    _ => g.ssl_dh_param_file = v,
                }
            }
            "description" => {
                if !line.has(1) {
                    self.alert_loc(
                        Loc::ParsingTight,
                        span,
                        "'description' expects a string argument.",
                    );
                    return;
                }
                self.cfg.global.description = Some(line.args_from(1).join(" "))
            }
            "ssl-engine" => self.alert(span, "unknown keyword 'ssl-engine' in 'global' section"),
            "h1-case-adjust-file" => {
                if !crate::haproxy::parser::config_file_readable(&a1) {
                    self.defer_alert(
                        Loc::None,
                        span,
                        format!("h1-headers-case-adjust-file '{a1}': failed to open file."),
                    );
                }
                self.cfg.global.raw.push(RawDirective {
                    keyword: kw.into(),
                    args: line.args_from(1),
                    span,
                });
            }
            "log-send-hostname" => self.cfg.global.log_send_hostname = Some(a1),
            "log" => {
                if modifier == Some("no") {
                    self.cfg.global.logs.clear();
                    return;
                }
                if let Some(t) = self.parse_log_line(line, true) {
                    self.cfg.global.logs.push(t);
                }
            }
            "stats" => self.global_stats(line),
            "ssl-default-bind-ciphers" => self.cfg.global.ssl_default_bind_ciphers = Some(a1),
            "ssl-default-bind-ciphersuites" => {
                self.cfg.global.ssl_default_bind_ciphersuites = Some(a1)
            }
            "ssl-default-bind-options" => {
                self.cfg.global.ssl_default_bind_options = line.args_from(1)
            }
            "ssl-default-server-ciphers" => self.cfg.global.ssl_default_server_ciphers = Some(a1),
            "ssl-default-server-ciphersuites" => {
                self.cfg.global.ssl_default_server_ciphersuites = Some(a1)
            }
            "ssl-default-server-options" => {
                self.cfg.global.ssl_default_server_options = line.args_from(1)
            }
            "tune.ssl.default-dh-param" => {
                if let Some(v) = int_arg(self, line) {
                    self.cfg.global.tune_ssl_default_dh_param = Some(v);
                }
            }
            "tune.bufsize" | "tune.maxrewrite" => {
                // read by the rules engine (rewrite room, proxy::rules::BufferLimits)
                if int_arg(self, line).is_some() {
                    self.cfg
                        .global
                        .tune
                        .push((kw.to_string(), line.args_from(1)));
                }
            }
            "hard-stop-after" => match self.ptime(&a1) {
                Ok(d) => self.cfg.global.hard_stop_after = Some(d),
                Err(_) => self.alert(
                    span,
                    format!("unexpected character in argument '{a1}' of '{kw}'"),
                ),
            },
            "spread-checks" => {
                if let Some(v) = int_arg(self, line) {
                    if v > 50 {
                        self.alert_loc(
                            Loc::ParsingTight,
                            span,
                            "'spread-checks' needs a positive value in range 0..50.",
                        );
                        return;
                    }
                    self.cfg.global.spread_checks = Some(v);
                }
            }
            "lua-load" | "lua-load-per-thread" => {
                if !line.has(1) {
                    self.alert(span, format!("'{kw}' expects a path as parameter."));
                    return;
                }
                if !crate::haproxy::parser::config_file_readable(&a1) {
                    let err = std::io::Error::from(std::io::ErrorKind::NotFound);
                    let _ = err;
                    self.alert(
                        span,
                        format!(
                            "error in Lua file '{a1}': cannot open {a1}: No such file or directory"
                        ),
                    );
                    return;
                }
                self.cfg.global.lua_loads.push(a1);
            }
            "setenv" | "presetenv" => {
                if !line.has(2) {
                    self.alert_loc(
                        Loc::ParsingTight,
                        span,
                        format!("'{kw}' expects a name and a value."),
                    );
                    return;
                }
                if kw == "presetenv" && self.env.get(&a1).is_some() {
                    return;
                }
                self.env.overrides.insert(a1, Some(line.arg(2).to_string()));
            }
            "unsetenv" => {
                for n in line.args_from(1) {
                    self.env.overrides.insert(n, None);
                }
            }
            "resetenv" => {
                let keep: Vec<String> = line.args_from(1);
                let kept: Vec<(String, Option<String>)> =
                    keep.iter().map(|k| (k.clone(), self.env.get(k))).collect();
                self.env.overrides.clear();
                self.env.cleared = true;
                for (k, v) in kept {
                    self.env.overrides.insert(k, v);
                }
            }
            "expose-experimental-directives" => self.experimental = true,
            "zero-warning" | "quiet" => self.cfg.global.raw.push(RawDirective {
                keyword: kw.into(),
                args: vec![],
                span,
            }),
            "set-var" if line.has(2) && sample::parse_sample_expr(line.arg(2)).is_err() => {
                if let Err(e) = sample::parse_sample_expr(line.arg(2)) {
                    self.alert(span, e);
                }
            }
            "set-var" | "set-var-fmt" => {
                self.cfg.global.set_vars.push(RawDirective {
                    keyword: kw.into(),
                    args: line.args_from(1),
                    span,
                });
            }
            _ => self.catalogue_fallback("global", "global", line),
        }
    }

    fn global_stats(&mut self, line: &Line) {
        let span = line.span;
        match line.arg(1) {
            "socket" => {
                if !line.has(2) {
                    self.alert(span, "'stats socket' expects a path to a UNIX socket or an IPv4/IPv6 address as argument.");
                    return;
                }
                let text = line.arg(2);
                match values::parse_listen_addr(text) {
                    Ok(addr) => {
                        let options = self.parse_bind_options(line, 3, "stats socket", "global");
                        if let Some(options) = options {
                            self.cfg.global.stats_sockets.push(StatsSocket { addr, options, span });
                        }
                    }
                    Err(e) => self.alert(span, format!("'stats socket' : {}", e.message())),
                }
            }
            "timeout" => match self.ptime(line.arg(2)) {
                Ok(d) if !d.is_zero() => self.cfg.global.stats_timeout = Some(d),
                _ => self.alert(span, "'stats timeout' expects a positive value"),
            },
            "maxconn" => match values::parse_uint(line.arg(2)) {
                Some(v) if v > 0 => self.cfg.global.stats_maxconn = Some(v as u32),
                _ => self.alert(span, "'stats maxconn' expects a positive value"),
            },
            "bind-process" => self.cfg.global.raw.push(RawDirective { keyword: "stats".into(), args: line.args_from(1), span }),
            other => self.alert(
                span,
                format!("'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got '{other}')"),
            ),
        }
    }

    /// A keyword our typed parser does not handle: look it up in the catalogue.
    pub(crate) fn catalogue_fallback(&mut self, kind: &str, section: &str, line: &Line) {
        let kw = line.arg(0);
        let span = line.word_span(0);
        match catalogue::lookup(kind, kw) {
            Some(e) if e.status == Status::Rejected => {
                let msg = e.note.to_string();
                self.alert(span, msg);
            }
            Some(_) => {
                self.unimplemented(span, kw);
                let raw = RawDirective {
                    keyword: kw.to_string(),
                    args: line.args_from(1),
                    span,
                };
                match self.section {
                    Section::Global => self.cfg.global.raw.push(raw),
                    Section::Defaults(_) | Section::Proxy(_) => self.px().raw.push(raw),
                    _ => {}
                }
            }
            None => {
                let candidates: Vec<&str> = catalogue::of_kind(kind).map(|e| e.keyword).collect();
                let best = catalogue::best_match(
                    kw,
                    candidates
                        .iter()
                        .copied()
                        .map(|c| c.split(' ').next().unwrap_or(c)),
                );
                match best {
                    Some(b) => self.alert_help(
                        span,
                        format!("unknown keyword '{kw}' in '{section}' section; did you mean '{b}' maybe ?"),
                        format!("did you mean '{b}'?"),
                    ),
                    None => self.alert(span, format!("unknown keyword '{kw}' in '{section}' section")),
                }
            }
        }
    }

    // ---- log lines --------------------------------------------------------------------

    /// `log <target> [len N] [format F] [sample R:S] <facility> [<level> [<minlevel>]]` or `log global`.
    pub(crate) fn parse_log_line(&mut self, line: &Line, in_global: bool) -> Option<LogTarget> {
        let span = line.span;
        let target = line.arg(1);
        if target == "global" && !in_global {
            return Some(LogTarget {
                dest: LogDest::Global,
                max_len: None,
                format: None,
                sample: None,
                facility: None,
                level: None,
                min_level: None,
                span,
            });
        }
        if !line.has(1) {
            self.alert(
                span,
                "log : expects <address> and <facility> or global as arguments",
            );
            return None;
        }
        let mut i = 2;
        let mut t = LogTarget {
            dest: LogDest::Stdout,
            max_len: None,
            format: None,
            sample: None,
            facility: None,
            level: None,
            min_level: None,
            span,
        };
        loop {
            match line.arg(i) {
                "len" => {
                    let n = values::atol(line.arg(i + 1));
                    if !(80..=65535).contains(&n) {
                        self.alert(
                            span,
                            format!(
                                "log : invalid log length '{}', must be between 80 and 65535",
                                line.arg(i + 1)
                            ),
                        );
                        return None;
                    }
                    t.max_len = Some(n as u32);
                    i += 2;
                }
                "format" => {
                    let f = line.arg(i + 1);
                    if !matches!(
                        f,
                        "local"
                            | "rfc3164"
                            | "rfc5424"
                            | "priority"
                            | "short"
                            | "timed"
                            | "iso"
                            | "raw"
                    ) {
                        self.alert(span, format!("log : unknown log format '{f}'"));
                        return None;
                    }
                    t.format = Some(f.to_string());
                    i += 2;
                }
                "sample" => {
                    t.sample = Some(line.arg(i + 1).to_string());
                    i += 2;
                }
                _ => break,
            }
        }
        if !line.has(i) {
            self.alert(
                span,
                "log : expects <address> and <facility> or global as arguments",
            );
            return None;
        }
        const FACILITIES: &[&str] = &[
            "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
            "auth2", "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2",
            "local3", "local4", "local5", "local6", "local7",
        ];
        const LEVELS: &[&str] = &[
            "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
        ];
        // address first (haproxy expands $VARs and resolves it at parse time)
        let expanded = self.expand_env(target);
        let (prefix, rest) = values::split_prefix(&expanded);
        t.dest = match target {
            "stdout" => LogDest::Stdout,
            "stderr" => LogDest::Stderr,
            _ if target.starts_with("ring@") => LogDest::Ring {
                name: target[5..].to_string(),
            },
            _ if target.starts_with('/') || prefix == values::AddrPrefix::Unix => LogDest::Unix {
                path: rest.to_string(),
            },
            _ if prefix == values::AddrPrefix::Fd => LogDest::Fd {
                fd: values::atol(rest) as i32,
            },
            _ => {
                let (host, port) = match rest.rfind(':') {
                    Some(p)
                        if rest[..p].parse::<std::net::Ipv6Addr>().is_ok()
                            || !rest[..p].contains(':') =>
                    {
                        (&rest[..p], &rest[p + 1..])
                    }
                    _ => (rest, ""),
                };
                let port_n = if port.is_empty() {
                    514
                } else {
                    match values::parse_uint(port) {
                        Some(p) if p <= 65535 => p as u16,
                        _ => {
                            self.alert(span, format!("log : invalid port '{port}'"));
                            return None;
                        }
                    }
                };
                let resolved = if host.is_empty() || host == "*" {
                    Some(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
                } else {
                    values::resolve_host(host)
                };
                let Some(ip) = resolved else {
                    self.alert(
                        span,
                        format!("log : invalid address: '{host}' in '{target}'"),
                    );
                    return None;
                };
                let tcp = matches!(
                    prefix,
                    values::AddrPrefix::Tcp | values::AddrPrefix::Tcp4 | values::AddrPrefix::Tcp6
                );
                if tcp {
                    LogDest::Tcp {
                        host: host.to_string(),
                        resolved: Some(ip),
                        port: port_n,
                    }
                } else {
                    LogDest::Udp {
                        host: host.to_string(),
                        resolved: Some(ip),
                        port: port_n,
                    }
                }
            }
        };
        let fac = line.arg(i);
        if !FACILITIES.contains(&fac) {
            self.alert(span, format!("log : unknown log facility '{fac}'"));
            return None;
        }
        t.facility = Some(fac.to_string());
        if line.has(i + 1) {
            let l = line.arg(i + 1);
            if !LEVELS.contains(&l) {
                self.alert(span, format!("log : unknown optional log level '{l}'"));
                return None;
            }
            t.level = Some(l.to_string());
        }
        if line.has(i + 2) {
            let l = line.arg(i + 2);
            if !LEVELS.contains(&l) {
                self.alert(
                    span,
                    format!("log : unknown optional minimum log level '{l}'"),
                );
                return None;
            }
            t.min_level = Some(l.to_string());
        }
        if line.has(i + 3) {
            self.alert(
                span,
                format!(
                    "log : cannot handle unexpected argument '{}'",
                    line.arg(i + 3)
                ),
            );
            return None;
        }
        Some(t)
    }

    // ---- small sections -----------------------------------------------------------------

    fn userlist_kw(&mut self, i: usize, line: &Line) {
        let span = line.span;
        match line.arg(0) {
            "group" => {
                if !line.has(1) {
                    self.alert_loc(
                        Loc::ParsingTight,
                        span,
                        "'group' expects <name> as arguments.",
                    );
                    return;
                }
                let mut g = Group {
                    name: line.arg(1).to_string(),
                    users: vec![],
                    span,
                };
                if line.arg(2) == "users" {
                    g.users = line
                        .arg(3)
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect();
                }
                self.cfg.userlists[i].groups.push(g);
            }
            "user" => {
                if !line.has(1) {
                    self.alert_loc(
                        Loc::ParsingTight,
                        span,
                        "'user' expects <name> as arguments.",
                    );
                    return;
                }
                let mut u = User {
                    name: line.arg(1).to_string(),
                    password: Password::None,
                    groups: vec![],
                    span,
                };
                let mut k = 2;
                while line.has(k) {
                    match line.arg(k) {
                        "password" => u.password = Password::Secure(line.arg(k + 1).to_string()),
                        "insecure-password" => {
                            u.password = Password::Insecure(line.arg(k + 1).to_string())
                        }
                        "groups" => {
                            u.groups = line
                                .arg(k + 1)
                                .split(',')
                                .filter(|s| !s.is_empty())
                                .map(str::to_string)
                                .collect()
                        }
                        _ => {
                            self.alert_loc(Loc::ParsingTight, span, "'user' only supports 'password', 'insecure-password' and 'groups' options.");
                            return;
                        }
                    }
                    k += 2;
                }
                self.cfg.userlists[i].users.push(u);
            }
            kw => self.alert_loc(
                Loc::ParsingTight,
                span,
                format!("unknown keyword '{kw}' in 'users' section"),
            ),
        }
    }

    fn peers_kw(&mut self, i: usize, line: &Line) {
        let span = line.span;
        match line.arg(0) {
            "peer" | "server" => {
                let name = line.arg(1).to_string();
                let addr = if line.has(2) {
                    match self.resolved_addr(line.arg(2), false) {
                        Ok(a) => Some(a),
                        Err(msg) => {
                            self.alert_loc(
                                Loc::Bracket,
                                span,
                                format!("'server (null)/{name}' : {msg}"),
                            );
                            return;
                        }
                    }
                } else {
                    None
                };
                let p = Peer { name, addr, span };
                if line.arg(0) == "peer" {
                    self.cfg.peers[i].peers.push(p);
                } else {
                    self.cfg.peers[i].servers.push(p);
                }
            }
            "bind" => {
                let text = line.arg(1).to_string();
                let mut addrs = Vec::new();
                for part in text.split(',') {
                    let expanded = self.expand_env(part);
                    match values::parse_listen_addr(&expanded) {
                        Ok(a) => addrs.push(a),
                        Err(e) => {
                            // peers sections name the address in the message
                            self.alert(span, format!("'bind {text}' : {}", e.message()));
                            return;
                        }
                    }
                }
                let options = self
                    .parse_bind_options(line, 2, &format!("bind {text}"), "peers")
                    .unwrap_or_default();
                self.cfg.peers[i].binds.push(Bind {
                    addrs,
                    addr_text: text,
                    options,
                    span,
                });
            }
            "disabled" => self.cfg.peers[i].disabled = true,
            "enabled" | "enable" => self.cfg.peers[i].disabled = false,
            "table" => {
                self.cfg.peers[i].table.push(RawDirective {
                    keyword: "table".into(),
                    args: line.args_from(1),
                    span,
                });
                let name = line.arg(1).to_string();
                if name.is_empty() {
                    self.alert(span, "'table' expects a table name.");
                } else if let Some(st) = self.parse_stick_table(line, 2) {
                    self.cfg.peers[i].tables.push((name, st));
                }
            }
            kw if catalogue::lookup("peers", kw).is_some() => {
                self.unimplemented(span, kw);
                self.cfg.peers[i].raw.push(RawDirective {
                    keyword: kw.into(),
                    args: line.args_from(1),
                    span,
                });
            }
            kw => self.alert(
                span,
                format!("unknown keyword '{kw}' in '{}' section", "peers"),
            ),
        }
    }

    fn resolvers_kw(&mut self, i: usize, line: &Line) {
        let span = line.span;
        let r = &mut self.cfg.resolvers[i];
        match line.arg(0) {
            "nameserver" => {
                if !line.has(2) {
                    self.alert(
                        span,
                        "'nameserver' expects <name> and <addr>[:<port>] as arguments.",
                    );
                    return;
                }
                let name = line.arg(1).to_string();
                match self.resolved_addr(line.arg(2), true) {
                    Ok(addr) => self.cfg.resolvers[i].nameservers.push(Nameserver { name, addr, span }),
                    Err(msg) => self.alert(span, format!("'nameserver {name}' : {msg}")),
                }
            }
            "parse-resolv-conf" => r.parse_resolv_conf = true,
            "accepted_payload_size" => {
                r.accepted_payload_size = Some(values::atol(line.arg(1)).max(0) as u32)
            }
            "resolve_retries" => r.resolve_retries = Some(values::atol(line.arg(1)).max(0) as u32),
            "hold" if !matches!(line.arg(1), "nx" | "timeout" | "valid" | "obsolete" | "other" | "refused") => {
                self.alert(span, format!("'hold' unknown <event>: '{}', expects either 'nx', 'timeout', 'valid', 'obsolete' or 'other'.", line.arg(1)));
            }
            "hold" => match values::parse_time_ms(line.arg(2)) {
                Ok(d) => r.hold.push((line.arg(1).to_string(), d)),
                Err(_) => self.alert(span, format!("'hold {}' : unexpected value", line.arg(1))),
            },
            "timeout" => match values::parse_time_ms(line.arg(2)) {
                Ok(d) => match line.arg(1) {
                    "resolve" => r.timeout_resolve = Some(d),
                    "retry" => r.timeout_retry = Some(d),                    o => self.alert(span, format!("'timeout' expects 'retry' or 'resolve' and <time> as arguments got '{o}'.")),},
                Err(_) => self.alert(
                    span,
                    format!("'timeout {}' : unexpected value", line.arg(1)),
                ),
            },
            kw => self.alert(
                span,
                format!("unknown keyword '{kw}' in '{}' section", "resolvers"),
            ),
        }
    }

    fn mailers_kw(&mut self, i: usize, line: &Line) {
        let span = line.span;
        match line.arg(0) {
            "mailer" if !line.has(2) => self.alert(
                span,
                "'mailer' expects <name> and <addr>[:<port>] as arguments.",
            ),
            "mailer" => match self.resolved_addr(line.arg(2), true) {
                Ok(addr) => self.cfg.mailers[i].mailers.push(Nameserver {
                    name: line.arg(1).to_string(),
                    addr,
                    span,
                }),
                Err(msg) => self.alert(span, format!("'mailer {}' : {msg}", line.arg(1))),
            },
            "timeout" if line.arg(1) == "mail" => match self.ptime(line.arg(2)) {
                Ok(d) => self.cfg.mailers[i].timeout_mail = Some(d),
                Err(e) => {
                    let c = match e {
                        values::TimeError::BadChar(c) => c,
                        _ => '?',
                    };
                    self.alert_loc(
                        Loc::ParsingTight,
                        span,
                        format!("unexpected character '{c}' in argument to <timeout mail>."),
                    )
                }
            },
            kw => self.alert(
                span,
                format!("unknown keyword '{kw}' in '{}' section", "mailers"),
            ),
        }
    }

    fn http_errors_kw(&mut self, i: usize, line: &Line) {
        let span = line.span;
        match line.arg(0) {
            "errorfile" => {
                let status = values::atol(line.arg(1)) as u16;
                let path = line.arg(2).to_string();
                match crate::haproxy::parser::read_config_file(&path).ok_or(()) {
                    Ok(content) => self.cfg.http_errors[i].errorfiles.push(ErrorFile {
                        status,
                        path,
                        content,
                        span,
                    }),
                    Err(_) => self.alert(span, format!("errorfile : error opening file '{path}'.")),
                }
            }
            kw => self.alert(
                span,
                format!("unknown keyword '{kw}' in '{}' section", "http-errors"),
            ),
        }
    }

    fn cache_kw(&mut self, i: usize, line: &Line) {
        let span = line.span;
        let c = &mut self.cfg.caches[i];
        let v = values::atol(line.arg(1)).max(0) as u64;
        match line.arg(0) {
            "total-max-size" => c.total_max_size_mb = Some(v),
            "max-object-size" => c.max_object_size = Some(v),
            "max-age" => c.max_age = Some(v),
            "process-vary" => c.process_vary = Some(line.arg(1) == "on"),
            "max-secondary-entries" => c.max_secondary_entries = Some(v as u32),
            kw => self.alert(
                span,
                format!("unknown keyword '{kw}' in '{}' section", "cache"),
            ),
        }
    }

    fn program_kw(&mut self, i: usize, line: &Line) {
        let span = line.span;
        let p = &mut self.cfg.programs[i];
        match line.arg(0) {
            "command" if !line.has(1) => self.alert_loc(
                Loc::ParsingTight,
                span,
                "'command' expects a command with optional arguments separated in words.",
            ),
            "command" => p.command = line.args_from(1),
            "user" => p.user = Some(line.arg(1).to_string()),
            "group" => p.group = Some(line.arg(1).to_string()),
            "option" if line.arg(1) == "start-on-reload" => p.start_on_reload = true,
            kw => self.alert(
                span,
                format!("unknown keyword '{kw}' in '{}' section", "program"),
            ),
        }
    }

    fn ring_kw(&mut self, i: usize, line: &Line) {
        let span = line.span;
        match line.arg(0) {
            "size" => self.cfg.rings[i].size = values::parse_size(line.arg(1)),
            "format" => self.cfg.rings[i].format = Some(line.arg(1).to_string()),
            "maxlen" => self.cfg.rings[i].maxlen = Some(values::atol(line.arg(1)).max(0) as u32),
            kw if catalogue::lookup("ring", kw).is_some()
                || catalogue::lookup("ring", &format!("{kw} {}", line.arg(1))).is_some() =>
            {
                self.cfg.rings[i].raw.push(RawDirective {
                    keyword: kw.into(),
                    args: line.args_from(1),
                    span,
                });
            }
            kw => self.alert(span, format!("unknown statement '{kw}'.")),
        }
    }

    /// An address resolved at parse time (peers, nameservers, mailers): numeric or /etc/hosts.
    fn resolved_addr(&self, text: &str, port_mandatory: bool) -> Result<ServerAddr, String> {
        let expanded = self.expand_env(text);
        let addr = values::parse_server_addr(&expanded).map_err(|e| e.message())?;
        if let ServerAddr::Inet {
            host,
            resolved,
            port,
        } = &addr
        {
            if port_mandatory && *port == ServerPort::None {
                return Err(format!("missing port specification in '{text}'"));
            }
            if resolved.is_none() {
                return match values::resolve_hosts_file(host) {
                    Some(ip) => Ok(ServerAddr::Inet {
                        host: host.clone(),
                        resolved: Some(ip),
                        port: *port,
                    }),
                    None => Err(format!("invalid address: '{host}' in '{text}'")),
                };
            }
        }
        Ok(addr)
    }

    fn other_kw(&mut self, line: &Line) {
        // log-forward sections listen on their bind/dgram-bind lines
        if matches!(line.arg(0), "bind" | "dgram-bind") && self.section_name == "log-forward" {
            self.cfg.global.raw.push(RawDirective {
                keyword: format!("log-forward {}", line.arg(0)),
                args: line.args_from(1),
                span: line.span,
            });
        }
    }

    /// The name of a loaded file.
    pub(crate) fn file_name(&self, id: FileId) -> String {
        self.file_names
            .get(id.0 as usize)
            .cloned()
            .unwrap_or_default()
    }

    pub fn finish(self) -> Parsed {
        Parsed {
            config: self.cfg,
            findings: self.findings,
            deferred: self.deferred,
            aborted: self.aborted,
        }
    }
}

/// haproxy's `sanitize_for_printing()`: about `width` characters of `line` around `pos`
/// (with "..." when shifted), non-printable characters as '?'. Returns the text and the new
/// position of `pos` in it.
pub fn sanitize_for_printing(line: &str, pos: usize, width: usize) -> (String, usize) {
    let bytes = line.as_bytes();
    let mut out = String::new();
    let (mut start, mut max, mut shift) = (0usize, width, 0usize);
    let shifted = pos >= width;
    if shifted {
        shift = pos - width / 2;
        start = shift + 3;
        max = width.saturating_sub(6);
        out.push_str("...");
    }
    for &c in bytes.iter().skip(start).take(max) {
        out.push(if c.is_ascii_whitespace() {
            ' '
        } else if c.is_ascii_graphic() {
            c as char
        } else {
            '?'
        });
    }
    if shifted {
        out.push_str("...");
    }
    (out, pos - shift)
}

/// Reads a file named by the configuration (errorfiles, pattern files, ...): regular files
/// only (never blocks on a FIFO or a device), at most 16 MiB. None when it cannot be read.
pub fn read_config_file(path: impl AsRef<std::path::Path>) -> Option<Vec<u8>> {
    use std::io::Read;
    let path = path.as_ref();
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() && path != std::path::Path::new("/dev/null") {
        return None;
    }
    let f = std::fs::File::open(path).ok()?;
    let mut buf = Vec::new();
    f.take(16 << 20).read_to_end(&mut buf).ok()?;
    Some(buf)
}

/// Whether a file named by the configuration can be opened (regular files only).
pub fn config_file_readable(path: impl AsRef<std::path::Path>) -> bool {
    let path = path.as_ref();
    (std::fs::metadata(path)
        .map(|m| m.is_file())
        .unwrap_or(false)
        || path == std::path::Path::new("/dev/null"))
        && std::fs::File::open(path).is_ok()
}

/// Parses all files of a source map into a configuration (no post-parse validation).
pub fn parse_sources(sources: &SourceMap, opts: ParseOptions) -> Parsed {
    let mut p = Parser::new(opts);
    for (id, f) in sources.files() {
        p.parse_file(id, &f.name, &f.text);
    }
    p.finish()
}

/// Parses one text (tests, fuzzing).
pub fn parse_text(name: &str, text: &str, opts: ParseOptions) -> (Parsed, SourceMap) {
    let mut sources = SourceMap::new();
    sources.add(name, text);
    let parsed = parse_sources(&sources, opts);
    (parsed, sources)
}

/// Whether `name` is the first field of a line of a passwd/group-style file.
fn name_in_db(db: &str, name: &str) -> bool {
    let Some(text) = read_config_file(db) else {
        return true;
    };
    String::from_utf8_lossy(&text)
        .lines()
        .any(|l| l.split(':').next() == Some(name))
}

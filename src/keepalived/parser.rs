//! keepalived.conf parser: keepalived's keyword-table-driven block reader (`process_stream`)
//! over the lexer's lines, then typed extraction into the IR ([`crate::keepalived::ir`]).
//!
//! The keyword tables come from `grammar/keepalived-keywords.tsv` (keepalived's
//! install_keyword tables). Structure errors are reported like keepalived: unknown keywords,
//! unexpected / missing `{`, value blocks with extra parameters.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use crate::diag::Span;
use crate::keepalived::lexer::Line;
use crate::keepalived::report::{ErrorClass, Finding, Phase};

/// How a keyword takes its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeywordKind {
    /// One line.
    Leaf,
    /// A `{ }` block with its own keyword table.
    Block,
    /// A `{ }` list of values read without keyword checks (virtual_ipaddress, ...).
    ValueBlock,
}

/// The keyword catalogue: context path → keyword → kind, and which keywords the engines do
/// not act on yet (status `parsed-warned` in the catalogue).
pub struct Catalogue {
    table: HashMap<String, HashMap<String, KeywordKind>>,
    not_implemented: HashSet<(String, String)>,
}

const CATALOGUE_TSV: &str = include_str!("../../grammar/keepalived-keywords.tsv");

impl Catalogue {
    pub fn get() -> &'static Catalogue {
        static CAT: OnceLock<Catalogue> = OnceLock::new();
        CAT.get_or_init(|| {
            let mut table: HashMap<String, HashMap<String, KeywordKind>> = HashMap::new();
            let mut not_implemented = HashSet::new();
            for line in CATALOGUE_TSV.lines() {
                if line.starts_with('#') || line.trim().is_empty() {
                    continue;
                }
                let mut cols = line.split('\t');
                let (Some(ctx), Some(kw), Some(kind)) = (cols.next(), cols.next(), cols.next())
                else {
                    continue;
                };
                let kind = match kind {
                    "block" => KeywordKind::Block,
                    "valueblock" => KeywordKind::ValueBlock,
                    _ => KeywordKind::Leaf,
                };
                if cols.next().map(str::trim) == Some("parsed-warned") {
                    not_implemented.insert((ctx.to_string(), kw.to_string()));
                }
                table
                    .entry(ctx.to_string())
                    .or_default()
                    .insert(kw.to_string(), kind);
            }
            Catalogue {
                table,
                not_implemented,
            }
        })
    }

    /// Whether rkeepalived's daemon acts on keyword `kw` in context `ctx` (unknown keywords
    /// count as implemented: they are reported as unknown instead).
    pub fn is_implemented(&self, ctx: &str, kw: &str) -> bool {
        !self
            .not_implemented
            .contains(&(ctx.to_string(), kw.to_string()))
    }

    pub fn lookup(&self, ctx: &str, kw: &str) -> Option<KeywordKind> {
        self.table.get(ctx).and_then(|t| t.get(kw)).copied()
    }

    /// Keywords of a context (for "did you mean").
    pub fn keywords(&self, ctx: &str) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .table
            .get(ctx)
            .map(|t| t.keys().map(String::as_str).collect())
            .unwrap_or_default();
        v.sort_unstable();
        v
    }

    pub fn contexts(&self) -> HashSet<&str> {
        self.table.keys().map(String::as_str).collect()
    }
}

/// A keyword line with what belongs to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub words: Vec<String>,
    /// The line as read (after expansion).
    pub raw: String,
    pub span: Span,
    /// Context path of the block this node sits in ("root", "vrrp_instance", ...).
    pub context: String,
    /// Sub-keywords of a block keyword.
    pub children: Vec<Node>,
    /// Lines of a value block.
    pub values: Vec<Line>,
    pub kind: KeywordKind,
    /// The line that closed the block (keepalived reports block-end checks there).
    pub end_span: Span,
}

impl Node {
    pub fn keyword(&self) -> &str {
        self.words.first().map(String::as_str).unwrap_or("")
    }
    pub fn arg(&self, i: usize) -> Option<&str> {
        self.words.get(i).map(String::as_str)
    }
}

/// Builds the keyword tree like keepalived's process_stream, reporting structure errors.
pub struct TreeBuilder<'a> {
    lines: &'a [Line],
    pos: usize,
    cat: &'static Catalogue,
    pub findings: Vec<Finding>,
    unknown: usize,
    /// Which keepalived process this read emulates (None: everything active, for the IR).
    pass: Option<Phase>,
}

const MAX_LISTED_UNKNOWN: usize = 1000;

/// Which keepalived process reports problems of keyword `kw` in context `ctx`.
pub fn phase_of(ctx: &str, kw: &str, known: bool) -> Phase {
    if ctx == "root" && !known {
        // Unknown top-level words are reported by every process, the parent first.
        return Phase::Parent;
    }
    let top = if ctx == "root" {
        kw
    } else {
        ctx.split('/').next().unwrap_or(ctx)
    };
    match top {
        "global_defs"
        | "net_namespace"
        | "net_namespace_ipvs"
        | "namespace_with_ipsets"
        | "use_pid_dir"
        | "instance"
        | "child_wait_time"
        | "linkbeat_use_polling" => Phase::Parent,
        "virtual_server" | "virtual_server_group" | "SSL" => Phase::Checker,
        "bfd_instance" => Phase::Bfd,
        _ => Phase::Vrrp,
    }
}

impl<'a> TreeBuilder<'a> {
    pub fn new(lines: &'a [Line]) -> Self {
        TreeBuilder {
            lines,
            pos: 0,
            cat: Catalogue::get(),
            findings: Vec::new(),
            unknown: 0,
            pass: None,
        }
    }

    /// A read as keepalived's process `pass` does it: blocks that process does not handle are
    /// skipped by counting braces, so only its own structure errors are reported.
    pub fn for_pass(lines: &'a [Line], pass: Phase) -> Self {
        let mut b = Self::new(lines);
        b.pass = Some(pass);
        b
    }

    fn active(&self, top: &str) -> bool {
        let Some(pass) = self.pass else { return true };
        let own = phase_of("root", top, true);
        let track_file = matches!(top, "track_file" | "vrrp_track_file");
        match pass {
            Phase::Parent => own == Phase::Parent,
            Phase::Checker => own == Phase::Checker || own == Phase::Bfd || track_file,
            Phase::Vrrp => own == Phase::Vrrp || own == Phase::Bfd,
            Phase::Bfd => own == Phase::Bfd,
        }
    }

    /// keepalived's skip of an inactive block: a following `{` starts a brace-counted skip.
    fn skip_inactive_block(&mut self) {
        if !self.lines.get(self.pos).map(Line::is_open).unwrap_or(false) {
            return;
        }
        self.pos += 1;
        let mut depth = 1usize;
        while let Some(l) = self.next() {
            if l.is_open() {
                depth += 1;
            } else if l.is_close() {
                depth -= 1;
                if depth == 0 {
                    return;
                }
            }
        }
    }

    /// Span of the line read last.
    fn last_span(&self) -> Span {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.lines.get(i))
            .map(|l| l.span)
            .unwrap_or_default()
    }

    fn next(&mut self) -> Option<&'a Line> {
        let l = self.lines.get(self.pos)?;
        self.pos += 1;
        Some(l)
    }

    fn report(&mut self, class: ErrorClass, span: Span, phase: Phase, msg: String) -> &mut Finding {
        let mut f = Finding::new(class, Some(span), msg).in_phase(phase);
        f.order = self.pos.saturating_sub(1);
        self.findings.push(f);
        let n = self.findings.len() - 1;
        &mut self.findings[n]
    }

    /// Reads the whole configuration.
    pub fn build(mut self) -> (Vec<Node>, Vec<Finding>) {
        let nodes = self.stream("root", false, 0);
        (nodes, self.findings)
    }

    fn stream(&mut self, ctx: &str, need_bob: bool, level: usize) -> Vec<Node> {
        let mut nodes = Vec::new();
        let mut need_bob = need_bob;
        while let Some(line) = self.next() {
            let s = line.first();
            let known = self.cat.lookup(ctx, s).is_some();
            let child = self.pass.unwrap_or_else(|| phase_of(ctx, s, known));
            if need_bob {
                need_bob = false;
                if s == "{" && level > 0 {
                    continue;
                }
                self.report(
                    ErrorClass::MissingBlockStart,
                    line.span,
                    child,
                    "Missing '{' at beginning of configuration block".into(),
                );
            } else if s == "{" {
                self.report(
                    ErrorClass::UnexpectedBlockStart,
                    line.span,
                    child,
                    "Unexpected '{' - ignoring".into(),
                );
                continue;
            }
            if s == "}" && level > 0 {
                break;
            }
            if level == 0 && known && !self.active(s) {
                self.skip_inactive_block();
                continue;
            }
            match self.cat.lookup(ctx, s) {
                Some(kind) => {
                    let mut node = Node {
                        words: line.words.clone(),
                        raw: line.raw.clone(),
                        span: line.span,
                        context: ctx.to_string(),
                        children: Vec::new(),
                        values: Vec::new(),
                        kind,
                        end_span: line.span,
                    };
                    match kind {
                        KeywordKind::Block => {
                            let sub = if ctx == "root" {
                                s.to_string()
                            } else {
                                format!("{ctx}/{s}")
                            };
                            node.children = self.stream(&sub, true, level + 1);
                            node.end_span = self.last_span();
                        }
                        KeywordKind::ValueBlock => {
                            node.values = self.value_block(line, child);
                            node.end_span = self.last_span();
                        }
                        KeywordKind::Leaf => {}
                    }
                    nodes.push(node);
                }
                None => {
                    // Past a limit, further unknown keywords are counted, not listed (a
                    // runaway expansion can produce millions).
                    self.unknown += 1;
                    if self.unknown == MAX_LISTED_UNKNOWN + 1 {
                        self.report(
                            ErrorClass::UnknownKeyword,
                            line.span,
                            child,
                            "Too many unknown keywords - not listing the rest".to_string(),
                        );
                    }
                    if self.unknown > MAX_LISTED_UNKNOWN {
                        continue;
                    }
                    let cands = self.cat.keywords(ctx);
                    let hint = crate::diag::did_you_mean(s, cands.iter().copied())
                        .map(|k| format!("did you mean '{k}'?"));
                    let f = self.report(
                        ErrorClass::UnknownKeyword,
                        line.span,
                        child,
                        format!("Unknown keyword '{s}'"),
                    );
                    if let Some(h) = hint {
                        f.diag = f.diag.clone().with_help(h);
                    }
                }
            }
        }
        nodes
    }

    /// keepalived's alloc_value_block().
    fn value_block(&mut self, head: &Line, child: Phase) -> Vec<Line> {
        // virtual_server_group NAME { ... } is the one value block with a name.
        if head.words.len() > 1 && head.words[0] != "virtual_server_group" {
            self.report(
                ErrorClass::General,
                head.span,
                child,
                format!(
                    "Block {} has extra parameters {} ...",
                    head.words[0], head.words[1]
                ),
            );
        }
        let mut out = Vec::new();
        let mut need_bob = true;
        while let Some(line) = self.next() {
            if need_bob {
                need_bob = false;
                if line.is_open() {
                    continue;
                }
            }
            if line.is_close() {
                break;
            }
            out.push(line.clone());
        }
        out
    }
}

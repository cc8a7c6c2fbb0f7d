//! keepalived.conf lexer: turns files into a flat list of [`Line`]s the way keepalived's
//! `read_line()` does (lib/parser.c, behaviour re-implemented, not copied):
//!
//! - `#` and `!` start comments outside `"..."`; `\#` / `\!` are literal;
//! - `@ID line` is kept only when ID is the config id (`-i`, default: host name up to the
//!   first dot); `@^ID line` only when it is not;
//! - `$NAME=value` defines a parameter (a value ending in `\` continues on following lines:
//!   a multi-line definition); `$NAME` / `${NAME}` are replaced, repeatedly;
//! - `~SEQ(var, [start,] [step,] end) text` repeats `text` with `$var` set to each number;
//! - `include PATTERN` reads the files matching the glob (with `{a,b}`), relative to the
//!   directory of the including file when its name has a `/`;
//! - every `{` and `}` outside quotes becomes a line of its own;
//! - words split on white space, `"..."` is one word without its quotes.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use crate::diag::{FileId, SourceMap, Span};
use crate::keepalived::report::{ErrorClass, Finding};

/// One logical configuration line: its words and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub words: Vec<String>,
    /// The line's text after expansion (scripts re-read it with their own quoting rules).
    pub raw: String,
    pub span: Span,
}

impl Line {
    pub fn first(&self) -> &str {
        self.words.first().map(String::as_str).unwrap_or("")
    }
    pub fn is_open(&self) -> bool {
        self.words.len() == 1 && self.words[0] == "{"
    }
    pub fn is_close(&self) -> bool {
        self.words.len() == 1 && self.words[0] == "}"
    }
}

/// What lexing produced.
#[derive(Debug, Clone, Default)]
pub struct Lexed {
    pub lines: Vec<Line>,
    pub sources: SourceMap,
    pub findings: Vec<Finding>,
    /// More than one file was read (keepalived then names the file in messages).
    pub multi_file: bool,
}

/// Options of the lexer.
#[derive(Debug, Clone, Default)]
pub struct LexOptions {
    /// `-i` / config id; `@ID` lines match it.
    pub config_id: Option<String>,
}

const MAX_INCLUDE_DEPTH: usize = 32;
const MAX_LINE_LEN: usize = 64 * 1024;
const MAX_EXPANSIONS_PER_LINE: usize = 256;
const MAX_TOTAL_LINES: usize = 500_000;
const MAX_SEQ_ITEMS: i64 = 100_000;
const MAX_RAW_READS: usize = 1_000_000;
const MAX_FILES: usize = 4096;

#[derive(Debug, Clone)]
struct Definition {
    name: String,
    /// Lines of the value (one unless multi-line).
    value: Vec<String>,
    multiline: bool,
    std_fn: Option<StdDef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StdDef {
    Pwd,
    Instance,
    Random,
}

#[derive(Debug)]
struct Seq {
    var: String,
    next: i64,
    step: i64,
    last: i64,
    hex: bool,
    text: String,
    /// For ~LST: the remaining sets of (variable, value) assignments.
    lst: Option<VecDeque<Vec<(String, String)>>>,
}

struct OpenFile {
    id: FileId,
    /// Byte offset and text of each physical line.
    lines: Vec<(usize, String)>,
    next: usize,
    dir: PathBuf,
}

/// The lexer state (keepalived's read_line statics, as a struct).
struct Lexer {
    opts: LexOptions,
    out: Lexed,
    defs: Vec<Definition>,
    files: Vec<OpenFile>,
    residue: Option<String>,
    /// Pending lines of multi-line parameter expansions: (lines, ~SEQ depth when started).
    multiline_pending: Vec<(VecDeque<String>, usize)>,
    seqs: Vec<Seq>,
    /// Index into `defs` of a multi-line definition being read.
    multiline_def: Option<usize>,
    block_depth: i64,
    span: Span,
    files_read: usize,
    random_state: u64,
    /// Lines handed out so far (bounds ~SEQ / include / definition blow-ups).
    raw_reads: usize,
    random_range: std::cell::Cell<(u64, u64)>,
}

/// Reads `path` (and its includes) into lines. `display` is the name messages use.
pub fn lex_file(path: &Path, opts: &LexOptions) -> Lexed {
    let mut lx = Lexer::new(opts.clone());
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    lx.open_path(&path.to_string_lossy(), &cwd);
    lx.run();
    lx.finish()
}

/// Lexes `text` as if read from a file called `name` (includes resolve against the current
/// directory).
pub fn lex_str(name: &str, text: &str, opts: &LexOptions) -> Lexed {
    let mut lx = Lexer::new(opts.clone());
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    lx.push_text(name, text, cwd);
    lx.run();
    lx.finish()
}

impl Lexer {
    fn new(opts: LexOptions) -> Self {
        let std = |name: &str, value: &str, f: Option<StdDef>| Definition {
            name: name.to_string(),
            value: vec![value.to_string()],
            multiline: false,
            std_fn: f,
        };
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            | 1;
        Lexer {
            opts,
            out: Lexed::default(),
            defs: vec![
                std("_PWD", "", Some(StdDef::Pwd)),
                std("_INSTANCE", "", Some(StdDef::Instance)),
                std("_RANDOM", "", Some(StdDef::Random)),
                std("_HASH", "#", None),
                std("_BANG", "!", None),
            ],
            files: Vec::new(),
            residue: None,
            multiline_pending: Vec::new(),
            seqs: Vec::new(),
            multiline_def: None,
            block_depth: 0,
            span: Span::default(),
            files_read: 0,
            random_state: seed,
            raw_reads: 0,
            random_range: std::cell::Cell::new((0, 32767)),
        }
    }

    fn report(&mut self, class: ErrorClass, msg: impl Into<String>) {
        let span = if self.files.is_empty() && self.out.sources.get(self.span.file).is_none() {
            None
        } else {
            Some(self.span)
        };
        let mut f = Finding::new(class, span, msg);
        if self.span.line == 0 {
            f = f.unlocated();
        }
        f.order = self.out.lines.len();
        self.out.findings.push(f);
    }

    fn finish(mut self) -> Lexed {
        if self.block_depth > 0 {
            let n = self.block_depth;
            self.out.findings.push(
                Finding::new(
                    ErrorClass::MissingBlockEnd,
                    None,
                    format!("There are {n} missing '}}'s or extra '{{'s"),
                )
                .unlocated(),
            );
        }
        self.out.multi_file = self.files_read > 1;
        self.out
    }

    fn push_text(&mut self, name: &str, text: &str, dir: PathBuf) {
        let id = self.out.sources.add(name, text);
        let mut lines = Vec::new();
        let mut off = 0;
        for l in text.split_inclusive('\n') {
            lines.push((off, l.to_string()));
            off += l.len();
        }
        self.files_read += 1;
        self.files.push(OpenFile {
            id,
            lines,
            next: 0,
            dir,
        });
    }

    /// Opens the files matching `pattern` (relative to `base`), pushing them in reverse so the
    /// first match is read first.
    fn open_path(&mut self, pattern: &str, base: &Path) {
        if self.files_read >= MAX_FILES {
            self.report(
                ErrorClass::General,
                format!("Too many configuration files read - skipping '{pattern}'"),
            );
            return;
        }
        if self.files.len() >= MAX_INCLUDE_DEPTH {
            self.report(
                ErrorClass::General,
                format!("Include depth exceeded with '{pattern}' - skipping"),
            );
            return;
        }
        let mut matches = Vec::new();
        let mut missing = false;
        for pat in expand_braces(pattern) {
            let full = if Path::new(&pat).is_absolute() {
                PathBuf::from(&pat)
            } else {
                base.join(&pat)
            };
            let full_s = full.to_string_lossy().to_string();
            let has_wild = pat.contains(['*', '?', '[']);
            if !has_wild {
                if full.exists() {
                    matches.push((pat.clone(), full));
                } else {
                    missing = true;
                }
                continue;
            }
            match glob::glob(&full_s) {
                Ok(paths) => {
                    let mut found: Vec<PathBuf> = paths.filter_map(Result::ok).collect();
                    found.sort();
                    if found.is_empty() {
                        // keepalived reports "missing" when a directory on the way does not exist.
                        let dir_exists = full
                            .parent()
                            .map(|p| p.is_dir() || p.to_string_lossy().contains(['*', '?', '[']))
                            .unwrap_or(false);
                        if !dir_exists {
                            missing = true;
                        }
                    }
                    for p in found {
                        let shown = if Path::new(&pat).is_absolute() {
                            p.to_string_lossy().to_string()
                        } else {
                            p.strip_prefix(base)
                                .map(|r| r.to_string_lossy().to_string())
                                .unwrap_or_else(|_| p.to_string_lossy().to_string())
                        };
                        matches.push((shown, p));
                    }
                }
                Err(_) => missing = true,
            }
        }
        if matches.is_empty() {
            if missing {
                self.report(
                    ErrorClass::Info,
                    format!("Config files missing '{pattern}'."),
                );
            }
            return;
        }
        for (shown, path) in matches.into_iter().rev() {
            if path.is_dir() {
                self.report(
                    ErrorClass::Info,
                    format!("Configuration file '{shown}/' is a directory - skipping"),
                );
                continue;
            }
            let meta = std::fs::metadata(&path);
            let regular = meta.as_ref().map(|m| m.is_file()).unwrap_or(false);
            let exec = {
                use std::os::unix::fs::PermissionsExt;
                meta.as_ref()
                    .map(|m| m.permissions().mode() & 0o111 != 0)
                    .unwrap_or(false)
            };
            if !regular || exec {
                self.report(
                    ErrorClass::Info,
                    format!("Configuration file '{shown}' is not a regular non-executable file - skipping"),
                );
                continue;
            }
            match std::fs::read(&path) {
                Ok(bytes) => {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    let dir = if shown.contains('/') {
                        path.parent()
                            .map(Path::to_path_buf)
                            .unwrap_or_else(|| base.to_path_buf())
                    } else {
                        base.to_path_buf()
                    };
                    self.push_text(&shown, &text, dir);
                }
                Err(e) => self.report(
                    ErrorClass::Info,
                    format!("Configuration file '{shown}' open problem ({e}) - skipping"),
                ),
            }
        }
    }

    fn run(&mut self) {
        while let Some(buf) = self.next_raw() {
            if self.out.lines.len() >= MAX_TOTAL_LINES {
                self.report(
                    ErrorClass::General,
                    "Configuration too large after expansion - stopping",
                );
                break;
            }
            if let Some(text) = self.process_logical(buf) {
                self.emit(text);
            }
        }
    }

    /// The next raw line: residue, pending multi-line expansion, ~SEQ iteration, then file lines.
    fn next_raw(&mut self) -> Option<String> {
        loop {
            self.raw_reads += 1;
            if self.raw_reads > MAX_RAW_READS {
                if self.raw_reads == MAX_RAW_READS + 1 {
                    self.report(ErrorClass::General, "Configuration expansion too large (~SEQ, includes or definitions) - stopping");
                }
                return None;
            }
            if let Some(r) = self.residue.take() {
                return Some(r);
            }
            // A ~SEQ started inside a multi-line expansion runs before the expansion goes on.
            let seq_first = match self.multiline_pending.last() {
                Some((_, depth)) => self.seqs.len() > *depth,
                None => true,
            };
            if !seq_first {
                if let Some((frame, _)) = self.multiline_pending.last_mut() {
                    let l = frame.pop_front();
                    if frame.is_empty() {
                        self.multiline_pending.pop();
                    }
                    if let Some(l) = l {
                        return Some(l);
                    }
                    continue;
                }
            }
            if let Some(seq) = self.seqs.last_mut() {
                if let Some(sets) = seq.lst.as_mut() {
                    let set = sets.pop_front().unwrap_or_default();
                    let text = seq.text.clone();
                    if sets.is_empty() {
                        self.seqs.pop();
                    }
                    for (var, val) in set {
                        self.set_definition(&var, &val);
                    }
                    return Some(text);
                }
                let val = if seq.hex {
                    format!("{:x}", seq.next)
                } else {
                    seq.next.to_string()
                };
                let var = seq.var.clone();
                let text = seq.text.clone();
                seq.next = seq.next.saturating_add(seq.step);
                let done =
                    (seq.step > 0 && seq.next > seq.last) || (seq.step < 0 && seq.next < seq.last);
                if done {
                    self.seqs.pop();
                }
                self.set_definition(&var, &val);
                return Some(text);
            }
            let file = self.files.last_mut()?;
            if file.next >= file.lines.len() {
                self.files.pop();
                continue;
            }
            let (off, raw) = file.lines[file.next].clone();
            file.next += 1;
            let line_no = file.next as u32;
            let trimmed = raw.trim_end_matches(['\n', '\r']);
            self.span = Span::new(file.id, line_no, off, off + trimmed.len());
            if trimmed.is_empty() {
                self.end_multiline_def();
                continue;
            }
            let mut buf = trimmed.to_string();
            self.decomment(&mut buf);
            if let Some(idx) = self.multiline_def {
                self.continue_multiline_def(idx, &buf);
                continue;
            }
            if buf.is_empty() {
                continue;
            }
            return Some(buf);
        }
    }

    fn end_multiline_def(&mut self) {
        if let Some(idx) = self.multiline_def.take() {
            if let Some(d) = self.defs.get_mut(idx) {
                if d.value.iter().all(String::is_empty) {
                    d.multiline = false;
                }
            }
        }
    }

    fn continue_multiline_def(&mut self, idx: usize, buf: &str) {
        let (text, more) = match buf.strip_suffix('\\') {
            Some(t) => (t.trim_end_matches([' ', '\t']).to_string(), true),
            None => (buf.to_string(), false),
        };
        if let Some(d) = self.defs.get_mut(idx) {
            if !text.is_empty() {
                d.value.push(text);
            }
        }
        if !more {
            self.end_multiline_def();
        }
    }

    /// keepalived's decomment(): strips leading blanks, comments (outside quotes), `\#`/`\!`
    /// escapes and trailing blanks, keeping a final `\`.
    fn decomment(&mut self, buf: &mut String) {
        let src = buf.trim_start_matches([' ', '\t']).as_bytes().to_vec();
        let mut out: Vec<u8> = Vec::with_capacity(src.len());
        let mut quote = false;
        let mut cont = false;
        let mut i = 0;
        while i < src.len() {
            let c = src[i];
            match c {
                b'"' => {
                    quote = !quote;
                    out.push(c);
                    i += 1;
                }
                b'\\' => {
                    if i + 1 < src.len() {
                        let n = src[i + 1];
                        if !quote && (n == b'#' || n == b'!') {
                            out.push(n);
                        } else {
                            out.push(c);
                            out.push(n);
                        }
                        i += 2;
                    } else {
                        cont = true;
                        i += 1;
                    }
                }
                b'!' | b'#' if !quote => {
                    // keepalived still notices a trailing `\` after a comment start.
                    let mut j = i;
                    while j < src.len() {
                        if src[j] == b'\\' {
                            if j + 1 < src.len() {
                                j += 2;
                                continue;
                            }
                            cont = true;
                        }
                        j += 1;
                    }
                    break;
                }
                _ => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        if quote {
            let s = String::from_utf8_lossy(&src).into_owned();
            self.report(ErrorClass::General, format!("Unterminated quote '{s}'"));
        }
        while matches!(out.last(), Some(b' ' | b'\t')) {
            out.pop();
        }
        if cont {
            out.push(b'\\');
        }
        *buf = String::from_utf8_lossy(&out).into_owned();
    }

    fn is_include(&self, buf: &str) -> bool {
        let b = buf.as_bytes();
        if !buf.starts_with("include") || b.len() < 8 {
            return false;
        }
        if b[7].is_ascii_whitespace() {
            return true;
        }
        b.len() > 8 && b[8].is_ascii_whitespace() && b"rmwba".contains(&b[7])
    }

    /// The conditional / definition / ~SEQ / parameter loop of read_line. Returns the text of
    /// a configuration line, or None when the line was consumed.
    fn process_logical(&mut self, mut buf: String) -> Option<String> {
        if let Some(idx) = self.multiline_def {
            self.continue_multiline_def(idx, &buf);
            return None;
        }
        let mut rounds = 0;
        loop {
            rounds += 1;
            if rounds > MAX_EXPANSIONS_PER_LINE {
                self.report(
                    ErrorClass::General,
                    format!("Parameter expansion does not terminate (recursive definition?) - ignoring line '{}'", truncate(&buf, 80)),
                );
                return None;
            }
            if buf.starts_with('@') {
                let (rev, ofs) = if buf.as_bytes().get(1) == Some(&b'^') {
                    (true, 2)
                } else {
                    (false, 1)
                };
                let rest = &buf[ofs..];
                let end = rest.find([' ', '\t'])?;
                let id = &rest[..end];
                let matches = self.opts.config_id.as_deref() == Some(id);
                if matches == rev {
                    return None;
                }
                buf = rest[end..].trim_start_matches([' ', '\t']).to_string();
            }
            if buf.starts_with('$') && self.check_definition(&buf) {
                return None;
            }
            if buf.starts_with("~SEQ") || buf.starts_with("~LST") {
                if buf.as_bytes().get(1) == Some(&b'S') {
                    if !self.add_seq(&buf) {
                        self.report(
                            ErrorClass::General,
                            format!("Invalid ~SEQ specification '{buf}'"),
                        );
                    }
                } else if !self.add_lst(&buf) {
                    self.report(
                        ErrorClass::General,
                        format!("Invalid ~LST specification '{buf}'"),
                    );
                }
                return None;
            }
            if buf.starts_with('~') {
                break;
            }
            if buf.contains('$') {
                match self.replace_params(&buf) {
                    None => break,
                    Some(new) => {
                        buf = new;
                        if buf.len() > MAX_LINE_LEN {
                            self.report(
                                ErrorClass::General,
                                "Parameter substitution would exceed maximum line length",
                            );
                            return None;
                        }
                        self.decomment(&mut buf);
                        if buf.starts_with('@') || buf.contains('$') {
                            continue;
                        }
                    }
                }
            }
            break;
        }
        if buf.is_empty() {
            return None;
        }
        if self.is_include(&buf) {
            let pattern = buf[buf.find([' ', '\t']).unwrap_or(buf.len())..]
                .trim_start()
                .to_string();
            let base = self.files.last().map(|f| f.dir.clone()).unwrap_or_default();
            self.open_path(&pattern, &base);
            return None;
        }
        Some(buf)
    }

    /// Splits at braces and emits words.
    fn emit(&mut self, mut buf: String) {
        loop {
            let bytes = buf.as_bytes();
            let mut pos: Option<usize> = None;
            if matches!(bytes.first(), Some(b'{' | b'}')) {
                pos = Some(0);
            } else {
                let mut i = 0;
                while i < bytes.len() {
                    match bytes[i] {
                        b'{' | b'}' => {
                            pos = Some(i);
                            break;
                        }
                        b'"' => match bytes[i + 1..].iter().position(|&c| c == b'"') {
                            Some(j) => i += j + 2,
                            None => break,
                        },
                        _ => i += 1,
                    }
                }
            }
            let mut residue = None;
            if let Some(p) = pos {
                let skip = if p == 0 {
                    1 + bytes[1..]
                        .iter()
                        .take_while(|&&c| c == b' ' || c == b'\t')
                        .count()
                } else {
                    0
                };
                if p + skip < bytes.len() {
                    let r = buf[p + skip..].trim_end_matches([' ', '\t']).to_string();
                    if !r.is_empty() {
                        residue = Some(r);
                    }
                    buf.truncate(p + skip);
                }
            }
            let head = buf.trim_end_matches([' ', '\t']).to_string();
            if head == "{" {
                self.block_depth += 1;
            } else if head == "}" {
                self.block_depth -= 1;
                if self.block_depth < 0 {
                    self.report(ErrorClass::UnexpectedBlockEnd, "Extra '}' found");
                    self.block_depth = 0;
                }
            }
            if let Some(words) = self.split_words(&head) {
                self.out.lines.push(Line {
                    words,
                    raw: head.clone(),
                    span: self.span,
                });
            }
            match residue {
                None => return,
                Some(r) => match self.process_logical(r) {
                    Some(next) => buf = next,
                    None => return,
                },
            }
        }
    }

    /// keepalived's alloc_strvec(): blanks separate words, `"..."` is one word.
    fn split_words(&mut self, s: &str) -> Option<Vec<String>> {
        let mut words = Vec::new();
        let b = s.as_bytes();
        let ws = |c: u8| matches!(c, b' ' | b'\t' | 0x0c | b'\n' | b'\r' | 0x0b);
        let mut i = 0;
        while i < b.len() {
            while i < b.len() && ws(b[i]) {
                i += 1;
            }
            if i >= b.len() {
                break;
            }
            if b[i] == b'"' {
                match b[i + 1..].iter().position(|&c| c == b'"') {
                    Some(j) => {
                        words.push(String::from_utf8_lossy(&b[i + 1..i + 1 + j]).into_owned());
                        i += j + 2;
                    }
                    None => {
                        self.report(
                            ErrorClass::UnmatchedQuote,
                            format!("Unmatched quote: '{s}'"),
                        );
                        break;
                    }
                }
            } else {
                let start = i;
                while i < b.len() && !ws(b[i]) && b[i] != b'"' {
                    i += 1;
                }
                words.push(String::from_utf8_lossy(&b[start..i]).into_owned());
            }
        }
        if words.is_empty() {
            None
        } else {
            Some(words)
        }
    }

    fn find_def(&self, name: &str) -> Option<usize> {
        self.defs.iter().position(|d| d.name == name)
    }

    fn set_definition(&mut self, name: &str, value: &str) {
        let def = Definition {
            name: name.to_string(),
            value: vec![value.to_string()],
            multiline: false,
            std_fn: None,
        };
        match self.find_def(name) {
            Some(i) => self.defs[i] = def,
            None => self.defs.push(def),
        }
    }

    /// `$NAME=value`: returns true when `buf` was a definition.
    fn check_definition(&mut self, buf: &str) -> bool {
        let b = buf.as_bytes();
        if b.len() < 2 || !(b[1].is_ascii_alphabetic() || b[1] == b'_') {
            return false;
        }
        let mut p = 2;
        while p < b.len() && b[p] != b'=' {
            if !(b[p].is_ascii_alphanumeric() || b[p] == b'_') {
                return false;
            }
            p += 1;
        }
        if p >= b.len() {
            return false;
        }
        let name = &buf[1..p];
        let mut value = buf[p + 1..].trim_start_matches([' ', '\t']).to_string();
        let multiline = value.ends_with('\\');
        if multiline {
            value.pop();
            value = value.trim_end_matches([' ', '\t']).to_string();
        }
        let def = Definition {
            name: name.to_string(),
            value: if value.is_empty() && multiline {
                Vec::new()
            } else {
                vec![value]
            },
            multiline,
            std_fn: None,
        };
        let idx = match self.find_def(name) {
            Some(i) => {
                self.defs[i] = def;
                i
            }
            None => {
                self.defs.push(def);
                self.defs.len() - 1
            }
        };
        if multiline {
            self.multiline_def = Some(idx);
        }
        true
    }

    /// One pass of replace_param over `buf`: None when nothing was replaced.
    fn replace_params(&mut self, buf: &str) -> Option<String> {
        let mut out = String::with_capacity(buf.len());
        let mut rest = buf;
        let mut found = false;
        let mut pending_lines: Vec<String> = Vec::new();
        while let Some(pos) = rest.find('$') {
            let after = &rest[pos + 1..];
            if after.is_empty() {
                break;
            }
            match self.match_param(after) {
                Some((idx, consumed)) => {
                    found = true;
                    out.push_str(&rest[..pos]);
                    let value = self.def_value(idx);
                    let multiline = self.defs[idx].multiline;
                    let first = value.first().cloned().unwrap_or_default();
                    out.push_str(&first);
                    if multiline {
                        pending_lines.extend(value.into_iter().skip(1));
                    }
                    rest = &after[consumed..];
                    if first.trim_start_matches([' ', '\t']).starts_with('~') {
                        break;
                    }
                }
                None => {
                    out.push_str(&rest[..pos + 1]);
                    rest = after;
                }
            }
        }
        if !found {
            return None;
        }
        out.push_str(rest);
        if !pending_lines.is_empty() {
            self.multiline_pending
                .push((pending_lines.into_iter().collect(), self.seqs.len()));
        }
        Some(out)
    }

    /// Matches a parameter name at the start of `s` (after `$`): (definition index, bytes used).
    fn match_param(&self, s: &str) -> Option<(usize, usize)> {
        let b = s.as_bytes();
        let braces = b.first() == Some(&b'{');
        let start = usize::from(braces);
        let first = *b.get(start)?;
        if !(first.is_ascii_alphabetic() || first == b'_') {
            return None;
        }
        let mut end = start + 1;
        while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b'_') {
            end += 1;
        }
        let name = &s[start..end];
        let mut consumed = end;
        let mut has_params = false;
        if braces {
            let mut p = end;
            while p < b.len() && (b[p] == b' ' || b[p].is_ascii_digit()) {
                if b[p] != b' ' {
                    has_params = true;
                }
                p += 1;
            }
            if has_params && b[p - 1] == b' ' {
                return None;
            }
            if b.get(p) != Some(&b'}') {
                return None;
            }
            consumed = p + 1;
        } else if let Some(&c) = b.get(end) {
            if !matches!(c, b' ' | b'\t' | b',' | b')') {
                return None;
            }
        }
        let at_end = consumed == b.len();
        let idx = self.find_def(name)?;
        let d = &self.defs[idx];
        if d.multiline && !at_end {
            return None;
        }
        if has_params && d.std_fn != Some(StdDef::Random) {
            return None;
        }
        if has_params {
            // ${_RANDOM max} / ${_RANDOM min max}.
            let nums: Vec<u64> = s[end..consumed - 1]
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            let range = match nums.as_slice() {
                [max] => (0, *max),
                [min, max, ..] => (*min, *max),
                _ => (0, 32767),
            };
            self.random_range.set(range);
            return Some((idx, consumed));
        }
        self.random_range.set((0, 32767));
        Some((idx, consumed))
    }

    fn def_value(&mut self, idx: usize) -> Vec<String> {
        match self.defs[idx].std_fn {
            Some(StdDef::Pwd) => {
                let d = self
                    .files
                    .last()
                    .map(|f| f.dir.to_string_lossy().to_string())
                    .unwrap_or_default();
                vec![d]
            }
            Some(StdDef::Instance) => vec![self.opts.config_id.clone().unwrap_or_default()],
            Some(StdDef::Random) => {
                self.random_state ^= self.random_state << 13;
                self.random_state ^= self.random_state >> 7;
                self.random_state ^= self.random_state << 17;
                let (lo, hi) = self.random_range.get();
                let span = hi.saturating_sub(lo).saturating_add(1).max(1);
                vec![(lo + self.random_state % span).to_string()]
            }
            None => self.defs[idx].value.clone(),
        }
    }

    /// `~SEQ[x](var, [start,] [step,] end) text`.
    fn add_seq(&mut self, buf: &str) -> bool {
        let mut p = &buf[4..];
        let hex = p.starts_with('x');
        if hex {
            p = &p[1..];
        }
        p = p.trim_start_matches([' ', '\t']);
        let Some(p) = p.strip_prefix('(') else {
            return false;
        };
        let p = p.trim_start_matches([' ', '\t']);
        let var_end = p.find([' ', '\t', ',', ')']).unwrap_or(p.len());
        let var = &p[..var_end];
        let p2 = p[var_end..].trim_start_matches([' ', '\t']);
        if var.is_empty() || p2.is_empty() || p2.starts_with(')') {
            self.report(
                ErrorClass::General,
                format!("Invalid ~SEQ definition '{buf}'"),
            );
            return false;
        }
        let mut rest_chars = p2.chars();
        rest_chars.next();
        let p2 = rest_chars.as_str();
        let Some(close) = p2.find(')') else {
            self.report(
                ErrorClass::General,
                format!("Invalid ~SEQ definition '{buf}'"),
            );
            return false;
        };
        let mut args = p2[..close].to_string();
        if args.contains('$') {
            if let Some(n) = self.replace_params(&args) {
                args = n;
            }
        }
        let text = p2[close + 1..].trim_start_matches([' ', '\t']).to_string();
        let nums: Vec<Option<i64>> = args.split(',').map(|s| parse_c_long(s.trim())).collect();
        if nums.iter().any(Option::is_none) || nums.is_empty() || nums.len() > 3 {
            self.report(
                ErrorClass::General,
                format!("Invalid ~SEQ definition '{buf}'"),
            );
            return false;
        }
        let n: Vec<i64> = nums.into_iter().flatten().collect();
        let (start, step, end) = match n.as_slice() {
            [e] => (if *e < 0 { -1 } else { 1 }, if *e < 1 { -1 } else { 1 }, *e),
            [s, e] => (*s, if s <= e { 1 } else { -1 }, *e),
            [s, st, e] => {
                if *st == 0 || (s < e && *st < 0) || (s > e && *st > 0) {
                    self.report(ErrorClass::General, format!("Invalid ~SEQ values '{buf}'"));
                    return false;
                }
                (*s, *st, *e)
            }
            _ => return false,
        };
        if hex && (start < 0 || end < 0) {
            self.report(
                ErrorClass::General,
                format!("~SEQx is only valid for positive numbers '{buf}'"),
            );
            return false;
        }
        let count = (end.saturating_sub(start) / step.max(1).min(step.abs()).max(1)).abs();
        if count > MAX_SEQ_ITEMS {
            self.report(
                ErrorClass::General,
                format!("~SEQ would generate too many lines '{buf}'"),
            );
            return false;
        }
        self.seqs.push(Seq {
            lst: None,
            var: var.to_string(),
            next: start,
            step,
            last: end,
            hex,
            text,
        });
        true
    }
}

impl Lexer {
    /// `~LST(VAR | {VAR, ...}, VALUE | {VALUE, ...}, ...) text`.
    fn add_lst(&mut self, buf: &str) -> bool {
        let b: Vec<char> = buf.chars().collect();
        let mut p = 4;
        let skip_ws = |p: &mut usize| {
            while *p < b.len() && (b[*p] == ' ' || b[*p] == '\t') {
                *p += 1;
            }
        };
        let word = |p: &mut usize, stops: &str| -> String {
            let start = *p;
            while *p < b.len() && !stops.contains(b[*p]) {
                *p += 1;
            }
            b[start..*p].iter().collect()
        };
        skip_ws(&mut p);
        if b.get(p) != Some(&'(') {
            return false;
        }
        p += 1;
        skip_ws(&mut p);
        let mut end_char = ',';
        if b.get(p) == Some(&'{') {
            end_char = '}';
            p += 1;
            skip_ws(&mut p);
        }
        let mut vars = Vec::new();
        loop {
            vars.push(word(&mut p, " \t,}"));
            skip_ws(&mut p);
            match b.get(p) {
                Some(&c) if c == end_char => break,
                Some(',') => {
                    p += 1;
                    skip_ws(&mut p);
                }
                _ => return false,
            }
        }
        if b.get(p) == Some(&'}') {
            p += 1;
            skip_ws(&mut p);
        }
        if b.get(p) != Some(&',') {
            return false;
        }
        p += 1;
        skip_ws(&mut p);
        let mut sets = VecDeque::new();
        loop {
            let mut end_char = ',';
            if b.get(p) == Some(&'{') {
                end_char = '}';
                p += 1;
                skip_ws(&mut p);
            }
            let mut values = Vec::new();
            loop {
                values.push(word(&mut p, " \t,})"));
                skip_ws(&mut p);
                match b.get(p) {
                    Some(&c) if c == end_char || (c == ')' && end_char == ',') => break,
                    Some(',') => {
                        p += 1;
                        skip_ws(&mut p);
                        if values.len() >= vars.len() {
                            self.report(
                                ErrorClass::General,
                                format!("~LST specification has too many values '{buf}'"),
                            );
                            return false;
                        }
                    }
                    _ => return false,
                }
            }
            let set: Vec<(String, String)> = vars
                .iter()
                .enumerate()
                .map(|(i, v)| (v.clone(), values.get(i).cloned().unwrap_or_default()))
                .collect();
            sets.push_back(set);
            if sets.len() > MAX_SEQ_ITEMS as usize {
                return false;
            }
            if b.get(p) == Some(&'}') && end_char == '}' {
                p += 1;
                skip_ws(&mut p);
            }
            match b.get(p) {
                Some(')') => break,
                Some(',') => {
                    p += 1;
                    skip_ws(&mut p);
                }
                _ => return false,
            }
        }
        if vars.is_empty() || sets.is_empty() {
            return false;
        }
        p += 1;
        skip_ws(&mut p);
        let text: String = b[p.min(b.len())..].iter().collect();
        self.seqs.push(Seq {
            var: String::new(),
            next: 0,
            step: 1,
            last: 0,
            hex: false,
            text,
            lst: Some(sets),
        });
        true
    }
}

/// strtol(s, 0) on a whole (trimmed) string: decimal, 0x hex, 0 octal; empty = 0.
fn parse_c_long(s: &str) -> Option<i64> {
    if s.is_empty() {
        return Some(0);
    }
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()?
    } else if body.len() > 1 && body.starts_with('0') {
        i64::from_str_radix(&body[1..], 8).ok()?
    } else {
        body.parse::<i64>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// Expands `{a,b}` alternatives like glob(3) with GLOB_BRACE.
pub fn expand_braces(pattern: &str) -> Vec<String> {
    let b = pattern.as_bytes();
    let Some(open) = b.iter().position(|&c| c == b'{') else {
        return vec![pattern.to_string()];
    };
    let mut depth = 0;
    let mut close = None;
    let mut commas = Vec::new();
    for (i, &c) in b.iter().enumerate().skip(open) {
        match c {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            b',' if depth == 1 => commas.push(i),
            _ => {}
        }
    }
    let Some(close) = close else {
        return vec![pattern.to_string()];
    };
    let pre = &pattern[..open];
    let post = &pattern[close + 1..];
    let mut bounds = vec![open];
    bounds.extend(commas);
    bounds.push(close);
    let mut out = Vec::new();
    for w in bounds.windows(2) {
        let alt = &pattern[w[0] + 1..w[1]];
        for e in expand_braces(&format!("{pre}{alt}{post}")) {
            if out.len() < 1024 {
                out.push(e);
            }
        }
    }
    out
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str, id: Option<&str>) -> Vec<Vec<String>> {
        let opts = LexOptions {
            config_id: id.map(str::to_string),
        };
        lex_str("t.conf", text, &opts)
            .lines
            .into_iter()
            .map(|l| l.words)
            .collect()
    }

    fn w(v: &[&[&str]]) -> Vec<Vec<String>> {
        v.iter()
            .map(|l| l.iter().map(|s| s.to_string()).collect())
            .collect()
    }

    #[test]
    fn braces_become_lines_and_comments_go() {
        assert_eq!(
            words("vrrp_instance VI_1 { # c\n state MASTER ! x\n}\n", None),
            w(&[
                &["vrrp_instance", "VI_1"],
                &["{"],
                &["state", "MASTER"],
                &["}"]
            ])
        );
        assert_eq!(
            words("a \"b { c\" } d\n", None),
            w(&[&["a", "b { c"], &["}"], &["d"]])
        );
        assert_eq!(words("a \\#b\n", None), w(&[&["a", "#b"]]));
    }

    #[test]
    fn conditionals_definitions_and_seq() {
        assert_eq!(
            words("@a x 1\n@^a y 2\n@b z 3\n", Some("a")),
            w(&[&["x", "1"]])
        );
        assert_eq!(
            words("$P=100\npriority $P\nname ${P}x\n", None),
            w(&[&["priority", "100"], &["name", "100x"]])
        );
        assert_eq!(
            words("$M=a 1 \\\n b 2\n$M\n", None),
            w(&[&["a", "1"], &["b", "2"]])
        );
        assert_eq!(
            words("~SEQ(i,1,3) n $i\n", None),
            w(&[&["n", "1"], &["n", "2"], &["n", "3"]])
        );
        assert_eq!(words("$X=$X\nv $X\n", None), Vec::<Vec<String>>::new());
    }

    #[test]
    fn brace_expansion() {
        assert_eq!(
            expand_braces("/a/{b,c}.conf"),
            vec!["/a/b.conf", "/a/c.conf"]
        );
    }
}

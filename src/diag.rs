//! Diagnostics shared by both configuration front ends.
//!
//! A [`Diagnostic`] names a place in a [`SourceMap`] file by [`Span`]. Front ends collect
//! them (every error in a file, not just the first) and render them either as miette reports
//! (on a terminal) or in the reference tool's own line format (see each front end's `check`).

use std::fmt;
use std::sync::Arc;

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A region of a source file: byte offsets plus the 1-based line of `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub line: u32,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, line: u32, start: usize, end: usize) -> Self {
        Span {
            file,
            line,
            start: start as u32,
            end: end as u32,
        }
    }
    /// The smallest span covering both (same file assumed).
    pub fn join(self, other: Span) -> Span {
        Span {
            file: self.file,
            line: self.line.min(other.line),
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// One loaded configuration file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name as the user gave it (what diagnostics print).
    pub name: String,
    pub text: Arc<str>,
}

/// Every file a configuration was read from, in load order.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<Arc<str>>) -> FileId {
        self.files.push(SourceFile {
            name: name.into(),
            text: text.into(),
        });
        FileId((self.files.len() - 1) as u32)
    }
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }
    pub fn name(&self, id: FileId) -> &str {
        self.get(id).map(|f| f.name.as_str()).unwrap_or("<unknown>")
    }
    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Informational (`.notice`, `.diag`).
    Notice,
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Notice => "notice",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One finding about a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The message, worded like the reference tool where one exists.
    pub message: String,
    pub span: Option<Span>,
    /// A hint: "did you mean", the replacement of a removed keyword, ...
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(span: Option<Span>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span,
            help: None,
        }
    }
    pub fn warning(span: Option<Span>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            message: message.into(),
            span,
            help: None,
        }
    }
    pub fn notice(span: Option<Span>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Notice,
            message: message.into(),
            span,
            help: None,
        }
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders as a miette report (fancy on a terminal), with the source snippet.
    pub fn to_report(&self, sources: &SourceMap) -> miette::Report {
        let mut labels = Vec::new();
        let mut src = None;
        if let Some(span) = self.span {
            if let Some(file) = sources.get(span.file) {
                let len = span.end.saturating_sub(span.start) as usize;
                labels.push(miette::LabeledSpan::at(
                    span.start as usize..span.start as usize + len,
                    "here",
                ));
                src = Some(miette::NamedSource::new(
                    format!("{}:{}", file.name, span.line),
                    file.text.to_string(),
                ));
            }
        }
        let severity = match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Notice => miette::Severity::Advice,
        };
        let mut diag = miette::MietteDiagnostic::new(self.message.clone())
            .with_severity(severity)
            .with_labels(labels);
        if let Some(help) = &self.help {
            diag = diag.with_help(help.clone());
        }
        let report = miette::Report::new(diag);
        match src {
            Some(s) => report.with_source_code(s),
            None => report,
        }
    }
}

/// The closest candidate to `word` by edit distance, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (levenshtein(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Classic edit distance over chars.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keywords_only() {
        let kw = ["balance", "backend", "bind", "timeout"];
        assert_eq!(did_you_mean("balanse", kw), Some("balance"));
        assert_eq!(did_you_mean("timout", kw), Some("timeout"));
        assert_eq!(did_you_mean("zzzzzzzz", kw), None);
    }
}

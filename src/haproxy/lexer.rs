//! haproxy.cfg lexer (configuration.txt §2.2–2.5), one physical line at a time.
//!
//! Rules, checked against `haproxy -c`:
//! - unprotected blanks split words; `#` starts a comment outside quotes;
//! - backslash escapes `\ `, `\\`, `\#`, `\'`, `\"`, `\t`, `\n`, `\r`, `\xNN` (and `\$` inside
//!   double quotes); any other `\c` is kept as is; no escapes inside single quotes;
//! - single quotes are literal; double quotes expand `$VAR`, `${VAR}`, `${VAR-default}`,
//!   `${VAR[*]}` (several words); an unquoted `$` is literal;
//! - adjacent quoted/unquoted pieces join into one word;
//! - no line continuation; CR ends a line; a missing LF on the last line is fatal (reported by
//!   the caller with [`split_lines`]'s flag).
//!
//! Like haproxy, an empty word (`""`, or a variable expanding to nothing) ends the argument list.

use crate::diag::{FileId, Span};

/// HAProxy's limit on words per line.
pub const MAX_LINE_ARGS: usize = 64;

/// One word after unquoting/expansion, with the span of its source bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub span: Span,
}

/// A physical line of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhysLine<'a> {
    /// 1-based line number.
    pub number: u32,
    /// Byte offset of the line in the file.
    pub offset: usize,
    /// The line without its LF.
    pub text: &'a str,
    /// False only for a last line that is not terminated by LF.
    pub has_lf: bool,
}

/// Splits file text into physical lines, as `fgets` does (LF only).
pub fn split_lines(text: &str) -> impl Iterator<Item = PhysLine<'_>> {
    let mut offset = 0usize;
    let mut number = 0u32;
    std::iter::from_fn(move || {
        if offset >= text.len() {
            return None;
        }
        number += 1;
        let rest = &text[offset..];
        let (line, has_lf, adv) = match rest.find('\n') {
            Some(i) => (&rest[..i], true, i + 1),
            None => (rest, false, rest.len()),
        };
        let l = PhysLine {
            number,
            offset,
            text: line,
            has_lf,
        };
        offset += adv;
        Some(l)
    })
}

/// A lexing error; `pos` is the 1-based column haproxy reports ("at position N").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LexErrorKind {
    UnmatchedQuote,
    UnmatchedBrace,
    VarName,
    Hex,
    WrongExpand,
    TooManyWords,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    pub kind: LexErrorKind,
    /// 1-based byte position in the physical line.
    pub pos: usize,
    /// For TooManyWords: the 64th word.
    pub word: String,
}

impl LexError {
    /// haproxy's first-line wording (after `parsing [FILE:LINE]: `).
    pub fn message(&self) -> String {
        let what = match self.kind {
            LexErrorKind::UnmatchedQuote => "unmatched quote",
            LexErrorKind::UnmatchedBrace => "unmatched brace in environment variable name",
            LexErrorKind::VarName => "forbidden first char in environment variable name",
            LexErrorKind::Hex => "truncated or invalid hexadecimal sequence",
            LexErrorKind::WrongExpand => "truncated or invalid word expansion sequence",
            LexErrorKind::TooManyWords => {
                return format!(
                    "too many words, truncating after word {}, position {}: <{}>.",
                    MAX_LINE_ARGS, self.pos, self.word
                )
            }
        };
        format!("{what} at position {}:", self.pos)
    }
}

/// Where `$NAME` values come from (process environment plus `setenv` done by the config).
pub trait EnvLookup {
    fn get(&self, name: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> EnvLookup for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// Splits one physical line (without LF) into words. `offset` is the line's byte offset in
/// the file (for spans). Returns the words up to (not including) the first empty one.
pub fn lex_line(
    line: &str,
    file: FileId,
    number: u32,
    offset: usize,
    env: &dyn EnvLookup,
) -> Result<Vec<Word>, LexError> {
    let b = line.as_bytes();
    let mut i = 0usize;
    // haproxy skips leading blanks before parsing
    while i < b.len() && is_space(b[i]) {
        i += 1;
    }
    let mut words: Vec<Word> = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut start = i;
    let mut squote = false;
    let mut dquote = false;
    let mut quote_pos = 0usize;
    let mut nwords = 0usize;

    let err = |kind, pos: usize| LexError {
        kind,
        pos: pos + 1,
        word: String::new(),
    };

    macro_rules! push_word {
        ($end:expr) => {{
            let text = bytes_to_text(&cur);
            words.push(Word {
                text,
                span: Span::new(file, number, offset + start, offset + $end),
            });
            cur.clear();
            nwords += 1;
        }};
    }

    loop {
        let c = match b.get(i) {
            None | Some(b'\0') | Some(b'\n') | Some(b'\r') => break,
            Some(&c) => c,
        };
        if c >= b'-' && c != b'\\' {
            cur.push(c);
            i += 1;
        } else if c == b'#' && !squote && !dquote {
            break;
        } else if c == b'"' && !squote {
            dquote = !dquote;
            quote_pos = i;
            i += 1;
        } else if c == b'\'' && !dquote {
            squote = !squote;
            quote_pos = i;
            i += 1;
        } else if c == b'\\' && !squote {
            let next = b.get(i + 1).copied().unwrap_or(0);
            let mut tosend = c;
            match next {
                b' ' | b'\\' => {
                    tosend = next;
                    i += 1;
                }
                b't' => {
                    tosend = b'\t';
                    i += 1;
                }
                b'n' => {
                    tosend = b'\n';
                    i += 1;
                }
                b'r' => {
                    tosend = b'\r';
                    i += 1;
                }
                b'#' | b'\'' | b'"' => {
                    tosend = next;
                    i += 1;
                }
                b'$' if dquote => {
                    tosend = next;
                    i += 1;
                }
                b'x' => {
                    let h1 = b.get(i + 2).copied().and_then(hex_val);
                    let h2 = b.get(i + 3).copied().and_then(hex_val);
                    match (h1, h2) {
                        (Some(h1), Some(h2)) => {
                            tosend = (h1 << 4) | h2;
                            i += 3;
                        }
                        _ => return Err(err(LexErrorKind::Hex, i)),
                    }
                }
                _ => {}
            }
            i += 1;
            cur.push(tosend);
        } else if is_space(c) && !squote && !dquote {
            let end = i;
            while i < b.len() && is_space(b[i]) {
                i += 1;
            }
            push_word!(end);
            start = i;
        } else if c == b'$' && dquote {
            i += 1;
            let mut brace = None;
            if b.get(i) == Some(&b'{') {
                brace = Some(i);
                i += 1;
            }
            let first = b.get(i).copied().unwrap_or(0);
            if !(first.is_ascii_alphabetic() || first == b'_' || first == b'.') {
                return Err(err(LexErrorKind::VarName, i));
            }
            let name_start = i;
            if first == b'.' {
                i += 1;
            }
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let name = &line[name_start..i];
            let mut value = if name.starts_with('.') {
                match name {
                    ".LINE" => Some(number.to_string()),
                    ".FILE" | ".SECTION" => env.get(name),
                    _ => return Err(err(LexErrorKind::VarName, name_start)),
                }
            } else {
                env.get(name)
            };
            let mut word_expand = false;
            if b.get(i) == Some(&b'[') && brace.is_some() {
                let wpos = i;
                i += 1;
                if b.get(i) != Some(&b'*') || b.get(i + 1) != Some(&b']') {
                    return Err(err(LexErrorKind::WrongExpand, wpos));
                }
                i += 2;
                word_expand = true;
            }
            if let Some(bpos) = brace {
                if b.get(i) == Some(&b'-') {
                    let dstart = i + 1;
                    while i < b.len() && b[i] != b'}' {
                        i += 1;
                    }
                    if i >= b.len() {
                        return Err(err(LexErrorKind::UnmatchedBrace, bpos));
                    }
                    if value.is_none() {
                        value = Some(line[dstart..i].to_string());
                    }
                } else if b.get(i) != Some(&b'}') {
                    return Err(err(LexErrorKind::UnmatchedBrace, bpos));
                }
                i += 1;
            }
            if let Some(v) = value {
                let vb = v.as_bytes();
                let mut k = 0;
                while k < vb.len() {
                    if word_expand && is_space(vb[k]) {
                        push_word!(i);
                        start = i;
                        while k < vb.len() && is_space(vb[k]) {
                            k += 1;
                        }
                    } else {
                        cur.push(vb[k]);
                        k += 1;
                    }
                }
            }
        } else {
            cur.push(c);
            i += 1;
        }
    }
    if squote || dquote {
        return Err(err(LexErrorKind::UnmatchedQuote, quote_pos));
    }
    push_word!(i.min(b.len()));
    if nwords > MAX_LINE_ARGS {
        let w = words
            .get(MAX_LINE_ARGS - 1)
            .map(|w| w.text.clone())
            .unwrap_or_default();
        // haproxy reports the 1-based offset of that word in its NUL-separated output buffer
        let pos = words
            .iter()
            .take(MAX_LINE_ARGS - 1)
            .map(|w| w.text.len() + 1)
            .sum::<usize>()
            + 1;
        return Err(LexError {
            kind: LexErrorKind::TooManyWords,
            pos,
            word: w,
        });
    }
    // an empty word ends the argument list
    if let Some(p) = words.iter().position(|w| w.text.is_empty()) {
        words.truncate(p);
    }
    Ok(words)
}

/// First of the private-use code points that stand for raw bytes 0x80..=0xFF a `\xNN`
/// escape put into a word where they are not valid UTF-8 (see [`text_to_bytes`]).
const RAW_BYTE_BASE: u32 = 0x10_FF00;

/// A word's bytes as text: valid UTF-8 as is, each byte of an invalid sequence as the
/// private-use character `RAW_BYTE_BASE + byte`, so no byte of the file is lost.
fn bytes_to_text(b: &[u8]) -> String {
    if let Ok(s) = std::str::from_utf8(b) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(b.len() + 8);
    for chunk in b.utf8_chunks() {
        out.push_str(chunk.valid());
        for &x in chunk.invalid() {
            out.extend(char::from_u32(RAW_BYTE_BASE + u32::from(x)));
        }
    }
    out
}

/// The bytes a word stands for: the inverse of the lexer's raw-byte escaping, for the
/// places that use a word's bytes as data (`str()`, log-format literals).
pub fn text_to_bytes(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for ch in s.chars() {
        let cp = u32::from(ch);
        if (RAW_BYTE_BASE + 0x80..=RAW_BYTE_BASE + 0xFF).contains(&cp) {
            out.push((cp - RAW_BYTE_BASE) as u8);
        } else {
            let mut buf = [0u8; 4];
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        }
    }
    out
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\x0b' | b'\x0c')
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {

    #[test]
    fn raw_bytes_survive_a_word() {
        for b in [&b"\xe0"[..], b"-\xe0-", b"caf\xc3\xa9", b"\xff\xfe ok"] {
            assert_eq!(super::text_to_bytes(&super::bytes_to_text(b)), b);
        }
        assert_eq!(super::bytes_to_text(b"plain"), "plain");
    }

    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOME" => Some("/root".into()),
            "LIST" => Some("a  b c".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn words(line: &str) -> Vec<String> {
        lex_line(line, FileId(0), 1, 0, &env)
            .unwrap()
            .into_iter()
            .map(|w| w.text)
            .collect()
    }

    fn kind(line: &str) -> LexErrorKind {
        lex_line(line, FileId(0), 1, 0, &env).unwrap_err().kind
    }

    #[test]
    fn lexer_rules_table() {
        let cases: &[(&str, &[&str])] = &[
            ("  bind :80   ssl", &["bind", ":80", "ssl"]),
            ("a b # comment", &["a", "b"]),
            ("a b#c", &["a", "b"]),
            (r"a\ b c", &["a b", "c"]),
            (r"a\#b", &["a#b"]),
            (r"a\\b", &[r"a\b"]),
            (r"a\1b", &[r"a\1b"]),
            (r"a\x41b", &["aAb"]),
            (r#"'a "b" $HOME \x41'"#, &[r#"a "b" $HOME \x41"#]),
            (r#""$HOME/x""#, &["/root/x"]),
            (r#""${HOME}x""#, &["/rootx"]),
            (r#""${NOPE-dflt}""#, &["dflt"]),
            (r#""${HOME-dflt}""#, &["/root"]),
            (r#"x "${LIST[*]}" y"#, &["x", "a", "b", "c", "y"]),
            ("a $HOME", &["a", "$HOME"]),
            (r#"a"b"'c'd"#, &["abcd"]),
            (r#"x "" y"#, &["x"]),
            (r#"x "$NOPE" y"#, &["x"]),
            ("a\rb", &["a"]),
            (r#"a "b # c""#, &["a", "b # c"]),
            (r#""a\"b""#, &["a\"b"]),
            (r#""a\$b""#, &["a$b"]),
            ("", &[]),
            ("   # only comment", &[]),
        ];
        for (line, expected) in cases {
            assert_eq!(words(line), *expected, "line {line:?}");
        }
    }

    #[test]
    fn lexer_errors() {
        assert_eq!(kind(r#"a "b"#), LexErrorKind::UnmatchedQuote);
        assert_eq!(kind("a 'b"), LexErrorKind::UnmatchedQuote);
        assert_eq!(kind(r#""${HOME""#), LexErrorKind::UnmatchedBrace);
        assert_eq!(kind(r#""$1""#), LexErrorKind::VarName);
        assert_eq!(kind(r"\xZZ"), LexErrorKind::Hex);
        assert_eq!(kind(r#""${HOME[x]}""#), LexErrorKind::WrongExpand);
        let many = vec!["w"; 70].join(" ");
        assert_eq!(kind(&many), LexErrorKind::TooManyWords);
    }

    #[test]
    fn error_positions_are_one_based_columns() {
        let e = lex_line(r#"  a "b"#, FileId(0), 1, 0, &env).unwrap_err();
        assert_eq!(e.pos, 5);
        assert_eq!(e.message(), "unmatched quote at position 5:");
    }

    #[test]
    fn split_lines_flags_missing_lf() {
        let l: Vec<_> = split_lines("a\nb\nc").collect();
        assert_eq!(l.len(), 3);
        assert!(l[0].has_lf && l[1].has_lf && !l[2].has_lf);
        assert_eq!(l[2].number, 3);
        let l: Vec<_> = split_lines("a\n").collect();
        assert_eq!(l.len(), 1);
        assert!(l[0].has_lf);
    }

    #[test]
    fn spans_cover_source_words() {
        let w = lex_line("  ab  cd", FileId(0), 7, 100, &env).unwrap();
        assert_eq!(
            (w[0].span.start, w[0].span.end, w[0].span.line),
            (102, 104, 7)
        );
        assert_eq!((w[1].span.start, w[1].span.end), (106, 108));
    }
}

//! Conditional blocks: `.if/.elif/.else/.endif` expressions (configuration.txt §2.4).
//!
//! Grammar (as haproxy parses it):
//! ```text
//! expr  := and ( "||" and )*
//! and   := term ( "&&" term )*
//! term  := "!"* ( NUMBER | "(" expr ")" | PREDICATE "(" args ")" )
//! ```
//! Predicates: defined, feature, streq, strneq, version_atleast, version_before,
//! openssl_version_atleast, openssl_version_before, ssllib_name_startswith.

use super::lexer::EnvLookup;

/// The HAProxy version we present to `version_atleast()` / `version_before()`.
pub const COMPAT_VERSION: &str = "2.6.12";

/// Build features reported as enabled (Debian's haproxy 2.6 build).
const FEATURES: &str = "-51DEGREES +ACCEPT4 +BACKTRACE -CLOSEFROM +CPU_AFFINITY +CRYPT_H -DEVICEATLAS +DL -ENGINE +EPOLL -EVPORTS +GETADDRINFO -KQUEUE +LIBCRYPT +LINUX_SPLICE +LINUX_TPROXY +LUA -MEMORY_PROFILING +NETFILTER +NS -OBSOLETE_LINKER +OPENSSL +OT -PCRE +PCRE2 +PCRE2_JIT -PCRE_JIT +POLL +PRCTL -PROCCTL +PROMEX -QUIC +RT +SLZ -STATIC_PCRE -STATIC_PCRE2 +SYSTEMD +TFO +THREAD +THREAD_DUMP +TPROXY -WURFL -ZLIB";

const OPENSSL_VERSION: &str = "3.0.0";

/// An evaluation error: haproxy's message and the 0-based byte offset in the expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CondError {
    pub message: String,
    pub pos: usize,
}

const MAX_DEPTH: usize = 1024;

struct P<'a> {
    s: &'a [u8],
    text: &'a str,
    env: &'a dyn EnvLookup,
}

/// Evaluates the text after `.if` / `.elif` (words re-joined with single spaces).
pub fn eval_condition(text: &str, env: &dyn EnvLookup) -> Result<bool, CondError> {
    if text.is_empty() {
        return Ok(false);
    }
    let p = P {
        s: text.as_bytes(),
        text,
        env,
    };
    let mut pos = 0;
    match p.expr(&mut pos, MAX_DEPTH)? {
        Some(v) => {
            p.skip_ws(&mut pos);
            if pos < p.s.len() {
                return Err(CondError {
                    message: format!(
                        "unexpected character '{}' at the end of conditional expression '{}'",
                        p.s[pos] as char, text
                    ),
                    pos,
                });
            }
            Ok(v)
        }
        None => Err(CondError {
            message: format!("unparsable conditional expression '{text}'"),
            pos,
        }),
    }
}

impl<'a> P<'a> {
    fn skip_ws(&self, pos: &mut usize) {
        while *pos < self.s.len() && (self.s[*pos] == b' ' || self.s[*pos] == b'\t') {
            *pos += 1;
        }
    }

    fn rest(&self, pos: usize) -> &str {
        self.text.get(pos..).unwrap_or("")
    }

    /// Ok(None): nothing parsable here (empty).
    fn expr(&self, pos: &mut usize, depth: usize) -> Result<Option<bool>, CondError> {
        if *pos >= self.s.len() {
            return Ok(None);
        }
        if depth == 0 {
            return Err(CondError {
                message: format!("unparsable conditional expression '{}'", self.rest(*pos)),
                pos: *pos,
            });
        }
        let mut value = false;
        loop {
            let start = *pos;
            let v = self.and(pos, depth - 1)?.ok_or_else(|| CondError {
                message: format!("unparsable conditional expression '{}'", self.rest(start)),
                pos: start,
            })?;
            value |= v;
            self.skip_ws(pos);
            if self.s.get(*pos) == Some(&b'|') && self.s.get(*pos + 1) == Some(&b'|') {
                let op = *pos;
                *pos += 2;
                self.skip_ws(pos);
                if *pos >= self.s.len() {
                    return Err(CondError {
                        message: format!("unparsable conditional expression '{}'", self.rest(op)),
                        pos: op,
                    });
                }
                continue;
            }
            return Ok(Some(value));
        }
    }

    fn and(&self, pos: &mut usize, depth: usize) -> Result<Option<bool>, CondError> {
        if *pos >= self.s.len() {
            return Ok(None);
        }
        let mut value = true;
        loop {
            let start = *pos;
            let v = self.term(pos, depth)?.ok_or_else(|| CondError {
                message: format!(
                    "unparsable conditional sub-expression '{}'",
                    self.rest(start)
                ),
                pos: start,
            })?;
            value &= v;
            self.skip_ws(pos);
            if self.s.get(*pos) == Some(&b'&') && self.s.get(*pos + 1) == Some(&b'&') {
                let op = *pos;
                *pos += 2;
                self.skip_ws(pos);
                if *pos >= self.s.len() {
                    return Err(CondError {
                        message: format!("unparsable conditional expression '{}'", self.rest(op)),
                        pos: op,
                    });
                }
                continue;
            }
            return Ok(Some(value));
        }
    }

    fn term(&self, pos: &mut usize, depth: usize) -> Result<Option<bool>, CondError> {
        self.skip_ws(pos);
        if *pos >= self.s.len() {
            return Ok(None);
        }
        let start = *pos;
        let unparsable = |at: usize| CondError {
            message: format!("unparsable conditional expression '{}'", self.rest(at)),
            pos: at,
        };
        if depth == 0 {
            return Err(unparsable(start));
        }
        let mut neg = false;
        while self.s.get(*pos) == Some(&b'!') {
            neg = !neg;
            *pos += 1;
            self.skip_ws(pos);
        }
        // a number (strtol base 0)
        if let Some((val, len)) = parse_strtol(&self.s[*pos..]) {
            *pos += len;
            return Ok(Some((val != 0) ^ neg));
        }
        if self.s.get(*pos) == Some(&b'(') {
            *pos += 1;
            self.skip_ws(pos);
            let v = self
                .expr(pos, depth - 1)?
                .ok_or_else(|| unparsable(start))?;
            self.skip_ws(pos);
            if self.s.get(*pos) != Some(&b')') {
                return Err(CondError {
                    message: format!(
                        "expected ')' after conditional expression '{}'",
                        self.rest(start)
                    ),
                    pos: start,
                });
            }
            *pos += 1;
            self.skip_ws(pos);
            return Ok(Some(v ^ neg));
        }
        let name_end = self.s[*pos..]
            .iter()
            .position(|&c| c == b' ' || c == b'(')
            .map(|n| *pos + n)
            .unwrap_or(self.s.len());
        let name = &self.text[*pos..name_end];
        let (nargs, pred): (usize, &str) = match name {
            "defined"
            | "feature"
            | "version_atleast"
            | "version_before"
            | "openssl_version_atleast"
            | "openssl_version_before"
            | "ssllib_name_startswith" => (1, name),
            "streq" | "strneq" => (2, name),
            _ => return Err(unparsable(start)),
        };
        *pos = name_end;
        let args = self.arg_list(pos, nargs, pred)?;
        let a0 = args.first().map(String::as_str).unwrap_or("");
        let a1 = args.get(1).map(String::as_str).unwrap_or("");
        let v = match pred {
            "defined" => self.env.get(a0).is_some(),
            "feature" => feature_enabled(a0),
            "streq" => a0 == a1,
            "strneq" => a0 != a1,
            "version_atleast" => compare_versions(COMPAT_VERSION, a0) != std::cmp::Ordering::Less,
            "version_before" => compare_versions(COMPAT_VERSION, a0) == std::cmp::Ordering::Less,
            "openssl_version_atleast" => {
                compare_versions(OPENSSL_VERSION, a0) != std::cmp::Ordering::Less
            }
            "openssl_version_before" => {
                compare_versions(OPENSSL_VERSION, a0) == std::cmp::Ordering::Less
            }
            _ => "OpenSSL".starts_with(a0),
        };
        Ok(Some(v ^ neg))
    }

    /// `(a, b)`: comma-separated, quotes and backslashes honoured.
    fn arg_list(
        &self,
        pos: &mut usize,
        nargs: usize,
        pred: &str,
    ) -> Result<Vec<String>, CondError> {
        let mut args = Vec::new();
        if self.s.get(*pos) != Some(&b'(') {
            if nargs > 0 {
                return Err(CondError {
                    message: format!(
                        "missing arguments (got 0/{nargs}) in argument 1 of predicate '{pred}' used in conditional expression"
                    ),
                    pos: *pos,
                });
            }
            return Ok(args);
        }
        *pos += 1;
        let mut cur = Vec::new();
        let mut q: Option<u8> = None;
        loop {
            let Some(&c) = self.s.get(*pos) else {
                return Err(CondError {
                    message: format!(
                        "expected ')' in argument {} of predicate '{pred}' used in conditional expression",
                        args.len() + 1
                    ),
                    pos: *pos,
                });
            };
            *pos += 1;
            match (q, c) {
                (None, b')') => {
                    args.push(String::from_utf8_lossy(&cur).into_owned());
                    break;
                }
                (None, b',') if args.len() + 1 >= nargs => {
                    // one argument too many: haproxy stops at this comma
                    let rest = self.text.get(*pos - 1..).unwrap_or("");
                    return Err(CondError {
                        message: format!(
                            "expected ')' before '{rest}' in argument {} of predicate '{pred}' used in conditional expression",
                            nargs.saturating_sub(1).max(1)
                        ),
                        pos: *pos - 1,
                    });
                }
                (None, b',') => {
                    args.push(String::from_utf8_lossy(&cur).into_owned());
                    cur.clear();
                }
                (None, b'\'' | b'"') => q = Some(c),
                (Some(qc), _) if qc == c => q = None,
                (_, b'\\') if q != Some(b'\'') => {
                    if let Some(&n) = self.s.get(*pos) {
                        cur.push(n);
                        *pos += 1;
                    }
                }
                _ => cur.push(c),
            }
        }
        if args.len() < nargs {
            let msg = format!(
                "missing arguments (got {}/{nargs}), type 'string' expected in argument {} of predicate '{pred}' used in conditional expression",
                args.len(),
                args.len()
            );
            return Err(CondError {
                message: msg,
                pos: *pos - 1,
            });
        }
        Ok(args)
    }
}

/// C `strtol(s, &end, 0)`: Some((value, consumed)) when at least one digit was read.
fn parse_strtol(s: &[u8]) -> Option<(i64, usize)> {
    let mut i = 0;
    while i < s.len() && (s[i] as char).is_ascii_whitespace() {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let (radix, digits_start) = if s.get(i) == Some(&b'0')
        && matches!(s.get(i + 1), Some(b'x' | b'X'))
        && s.get(i + 2).map(|c| c.is_ascii_hexdigit()).unwrap_or(false)
    {
        (16, i + 2)
    } else if s.get(i) == Some(&b'0') {
        (8, i)
    } else {
        (10, i)
    };
    let mut j = digits_start;
    let mut v: i64 = 0;
    while let Some(d) = s.get(j).and_then(|&c| (c as char).to_digit(radix)) {
        v = v.saturating_mul(radix as i64).saturating_add(d as i64);
        j += 1;
    }
    if j == digits_start {
        return None;
    }
    Some((if neg { -v } else { v }, j))
}

fn feature_enabled(name: &str) -> bool {
    if name.is_empty() {
        return false;
    }
    for tok in FEATURES.split(' ') {
        if let Some(rest) = tok.strip_prefix('+') {
            if rest == name {
                return true;
            }
        } else if let Some(rest) = tok.strip_prefix('-') {
            if rest == name {
                return false;
            }
        }
    }
    false
}

/// Compares dotted versions numerically ("2.6.12" vs "2.6"); missing parts count as 0,
/// trailing non-numeric suffixes ("-dev1") are ignored.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |s: &str| -> Vec<u64> {
        s.split(['.', '-'])
            .map_while(|p| {
                let d: String = p.chars().take_while(|c| c.is_ascii_digit()).collect();
                d.parse().ok()
            })
            .collect()
    };
    let (pa, pb) = (parts(a), parts(b));
    let n = pa.len().max(pb.len());
    for i in 0..n {
        let (x, y) = (
            pa.get(i).copied().unwrap_or(0),
            pb.get(i).copied().unwrap_or(0),
        );
        if x != y {
            return x.cmp(&y);
        }
    }
    std::cmp::Ordering::Equal
}

/// The state of one `.if` nesting level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockState {
    /// Lines are taken.
    Take,
    /// Lines are dropped, a later `.elif/.else` may still be taken.
    Drop,
    /// Lines are dropped and no later branch can be taken.
    Skip,
}

/// Tracks `.if` nesting while reading a file.
#[derive(Debug, Default, Clone)]
pub struct CondStack {
    levels: Vec<(BlockState, bool)>, // (state, seen .else)
}

/// haproxy's limit on nested `.if`.
pub const MAX_NESTED: usize = 99;

impl CondStack {
    /// Whether lines at the current level are active.
    pub fn active(&self) -> bool {
        self.levels.iter().all(|(s, _)| *s == BlockState::Take)
    }
    pub fn depth(&self) -> usize {
        self.levels.len()
    }
    fn parent_active(&self) -> bool {
        let n = self.levels.len();
        self.levels[..n.saturating_sub(1)]
            .iter()
            .all(|(s, _)| *s == BlockState::Take)
    }

    /// Handles a `.if/.elif/.else/.endif` line; `cond` evaluates the expression when needed.
    /// Err: haproxy's message (fatal, parsing stops).
    pub fn directive(
        &mut self,
        keyword: &str,
        has_args: Option<&str>,
        cond: &mut dyn FnMut() -> Result<bool, String>,
    ) -> Result<(), String> {
        match keyword {
            ".if" => {
                if self.levels.len() >= MAX_NESTED {
                    return Err(format!("too many nested '.if', max is {}.", MAX_NESTED + 1));
                }
                if !self.active() {
                    self.levels.push((BlockState::Skip, false));
                    return Ok(());
                }
                let v = cond()?;
                self.levels.push((
                    if v {
                        BlockState::Take
                    } else {
                        BlockState::Drop
                    },
                    false,
                ));
                Ok(())
            }
            ".elif" => {
                let Some(&(state, seen_else)) = self.levels.last() else {
                    return Err("lone '.elif' with no matching '.if'.".into());
                };
                if seen_else {
                    return Err("'.elif' after '.else' is not permitted.".into());
                }
                let n = self.levels.len() - 1;
                if state != BlockState::Drop || !self.parent_active() {
                    self.levels[n].0 = BlockState::Skip;
                    return Ok(());
                }
                let v = cond()?;
                self.levels[n].0 = if v {
                    BlockState::Take
                } else {
                    BlockState::Drop
                };
                Ok(())
            }
            ".else" | ".endif" => {
                if let Some(a) = has_args {
                    return Err(format!("Unexpected argument '{a}' for '{keyword}'."));
                }
                let Some(&(state, seen_else)) = self.levels.last() else {
                    return Err(format!("lone '{keyword}' with no matching '.if'."));
                };
                if keyword == ".endif" {
                    self.levels.pop();
                    return Ok(());
                }
                if seen_else {
                    return Err("'.else' after '.else' is not permitted.".into());
                }
                let n = self.levels.len() - 1;
                self.levels[n] = (
                    if state == BlockState::Drop {
                        BlockState::Take
                    } else {
                        BlockState::Skip
                    },
                    true,
                );
                Ok(())
            }
            _ => Err(format!("unknown directive '{keyword}'.")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "HOME").then(|| "/root".to_string())
    }

    #[test]
    fn condition_table() {
        let cases: &[(&str, bool)] = &[
            ("1", true),
            ("0", false),
            ("", false),
            ("!0", true),
            ("! 1", false),
            ("defined(HOME)", true),
            ("defined(NOPE)", false),
            ("!defined(NOPE)", true),
            ("feature(OPENSSL)", true),
            ("feature(QUIC)", false),
            ("feature(NOPE)", false),
            ("streq(a,a)", true),
            ("streq(a,b)", false),
            ("strneq(a,b)", true),
            ("version_atleast(2.4)", true),
            ("version_atleast(2.6.12)", true),
            ("version_atleast(2.7)", false),
            ("version_before(2.7)", true),
            ("version_before(2.6)", false),
            ("1 && 0", false),
            ("1 || 0", true),
            ("0 || 0 && 1", false),
            ("(0 || 1) && 1", true),
            ("!(1 && 0)", true),
            ("0x10", true),
        ];
        for (text, expected) in cases {
            assert_eq!(eval_condition(text, &env), Ok(*expected), "{text}");
        }
    }

    #[test]
    fn condition_errors() {
        assert!(eval_condition("bogus(1)", &env)
            .unwrap_err()
            .message
            .contains("unparsable"));
        assert!(eval_condition("1 1", &env)
            .unwrap_err()
            .message
            .contains("unexpected character '1'"));
        assert!(eval_condition("(1", &env)
            .unwrap_err()
            .message
            .contains("expected ')'"));
        assert!(eval_condition("streq(a)", &env).is_err());
        assert!(eval_condition("streq(a,b,c)", &env)
            .unwrap_err()
            .message
            .starts_with("expected ')' before ',c)'"));
        assert_eq!(eval_condition("defined()", &env), Ok(false));
    }

    #[test]
    fn nesting() {
        let mut s = CondStack::default();
        let mut t = || Ok(true);
        let mut f = || Ok(false);
        s.directive(".if", None, &mut f).unwrap();
        assert!(!s.active());
        s.directive(".elif", None, &mut t).unwrap();
        assert!(s.active());
        s.directive(".else", None, &mut t).unwrap();
        assert!(!s.active());
        s.directive(".endif", None, &mut t).unwrap();
        assert!(s.active());
        assert!(s.directive(".endif", None, &mut t).is_err());
        assert!(s.directive(".else", Some("x"), &mut t).is_err());
    }
}

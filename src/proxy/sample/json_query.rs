//! The `json_query(<json_path>[,int])` converter: finds one value in a JSON text by a
//! JSONPath made of `$`, `.member` (a `\.` is a literal dot) and `[index]` steps, as
//! HAProxy (mjson) does. Strings come back unescaped, numbers as `%g` text (or an
//! integer with `int`), booleans as booleans; null, objects, arrays and misses fail.

/// One step of a compiled path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Member(Vec<u8>),
    Index(usize),
}

/// What the path found.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    Str(Vec<u8>),
    /// The number's text as it appears in the document.
    Number(Vec<u8>),
    Bool(bool),
}

/// Compiles `$.a.b[2]`; None when the path does not start with `$` or is malformed.
pub fn compile(path: &str) -> Option<Vec<Step>> {
    let b = path.as_bytes();
    if b.first() != Some(&b'$') {
        return None;
    }
    let mut steps = Vec::new();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'.' => {
                i += 1;
                let mut name = Vec::new();
                while i < b.len() && b[i] != b'.' && b[i] != b'[' {
                    if b[i] == b'\\' && i + 1 < b.len() {
                        i += 1;
                    }
                    name.push(b[i]);
                    i += 1;
                }
                if name.is_empty() {
                    return None;
                }
                steps.push(Step::Member(name));
            }
            b'[' => {
                let end = i + b[i..].iter().position(|&c| c == b']')?;
                let n = std::str::from_utf8(&b[i + 1..end])
                    .ok()?
                    .trim()
                    .parse()
                    .ok()?;
                steps.push(Step::Index(n));
                i = end + 1;
            }
            _ => return None,
        }
    }
    Some(steps)
}

/// Runs a compiled path over a JSON document.
pub fn query(doc: &[u8], steps: &[Step]) -> Option<Found> {
    let mut p = Parser { b: doc, i: 0 };
    p.ws();
    for step in steps {
        match step {
            Step::Member(name) => p.enter_member(name)?,
            Step::Index(n) => p.enter_index(*n)?,
        }
    }
    p.ws();
    match *p.b.get(p.i)? {
        b'"' => p.string().map(Found::Str),
        b't' if p.b[p.i..].starts_with(b"true") => Some(Found::Bool(true)),
        b'f' if p.b[p.i..].starts_with(b"false") => Some(Found::Bool(false)),
        b'-' | b'0'..=b'9' => {
            let start = p.i;
            p.number()?;
            Some(Found::Number(p.b[start..p.i].to_vec()))
        }
        _ => None,
    }
}

/// A number as C's `printf("%g")` prints it (6 significant digits).
pub fn format_g(v: f64) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "nan".into()
        } else if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let exp = v.abs().log10().floor() as i32;
    // round to 6 significant digits first; rounding may bump the exponent
    let sci = format!("{v:.5e}");
    let exp = sci
        .split('e')
        .nth(1)
        .and_then(|e| e.parse::<i32>().ok())
        .unwrap_or(exp);
    let trim = |s: String| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if !(-4..6).contains(&exp) {
        let (mant, _) = sci.split_once('e').unwrap_or((&sci, ""));
        let mant = trim(mant.to_string());
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (5 - exp).max(0) as usize;
        trim(format!("{v:.decimals$}"))
    }
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\r' | b'\n') {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.b.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    /// Positions on the value of member `name` of the object at the cursor.
    fn enter_member(&mut self, name: &[u8]) -> Option<()> {
        self.eat(b'{')?;
        self.ws();
        if self.b.get(self.i) == Some(&b'}') {
            return None;
        }
        loop {
            self.ws();
            let key = self.string()?;
            self.eat(b':')?;
            self.ws();
            if key == name {
                return Some(());
            }
            self.skip_value()?;
            self.ws();
            match self.b.get(self.i)? {
                b',' => self.i += 1,
                _ => return None,
            }
        }
    }

    /// Positions on element `n` of the array at the cursor.
    fn enter_index(&mut self, n: usize) -> Option<()> {
        self.eat(b'[')?;
        self.ws();
        if self.b.get(self.i) == Some(&b']') {
            return None;
        }
        for _ in 0..n {
            self.skip_value()?;
            self.eat(b',')?;
        }
        self.ws();
        Some(())
    }

    fn skip_value(&mut self) -> Option<()> {
        self.ws();
        match *self.b.get(self.i)? {
            b'"' => self.string().map(drop),
            b'{' | b'[' => {
                // balanced scan, strings skipped
                let mut depth = 0usize;
                while self.i < self.b.len() {
                    match self.b[self.i] {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
                None
            }
            b't' | b'f' | b'n' => {
                for w in [&b"true"[..], b"false", b"null"] {
                    if self.b[self.i..].starts_with(w) {
                        self.i += w.len();
                        return Some(());
                    }
                }
                None
            }
            _ => self.number(),
        }
    }

    fn number(&mut self) -> Option<()> {
        let start = self.i;
        while self.i < self.b.len()
            && matches!(
                self.b[self.i],
                b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
            )
        {
            self.i += 1;
        }
        (self.i > start).then_some(())
    }

    /// Reads a string at the cursor, unescaped.
    fn string(&mut self) -> Option<Vec<u8>> {
        if self.b.get(self.i) != Some(&b'"') {
            return None;
        }
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let c = *self.b.get(self.i)?;
            self.i += 1;
            match c {
                b'"' => return Some(out),
                b'\\' => {
                    let e = *self.b.get(self.i)?;
                    self.i += 1;
                    match e {
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let hex = std::str::from_utf8(self.b.get(self.i..self.i + 4)?).ok()?;
                            let cp = u32::from_str_radix(hex, 16).ok()?;
                            self.i += 4;
                            let ch = char::from_u32(cp).unwrap_or('\u{fffd}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                c => out.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_find_values() {
        let doc = br#"{"iss":"k8s/sa","n":{"a":[1,{"b":"x\"y"}]},"my.key":"v","t":true,"f":false,"d":4.5,"z":null}"#;
        let q = |p: &str| query(doc, &compile(p).unwrap());
        assert_eq!(q("$.iss"), Some(Found::Str(b"k8s/sa".to_vec())));
        assert_eq!(q("$.n.a[0]"), Some(Found::Number(b"1".to_vec())));
        assert_eq!(q("$.n.a[1].b"), Some(Found::Str(b"x\"y".to_vec())));
        assert_eq!(q("$.my\\.key"), Some(Found::Str(b"v".to_vec())));
        assert_eq!(q("$.t"), Some(Found::Bool(true)));
        assert_eq!(q("$.f"), Some(Found::Bool(false)));
        assert_eq!(q("$.d"), Some(Found::Number(b"4.5".to_vec())));
        assert_eq!(q("$.z"), None);
        assert_eq!(q("$.n"), None);
        assert_eq!(q("$.missing"), None);
        assert!(compile("iss").is_none());
        assert_eq!(query(b"{not json", &compile("$.a").unwrap()), None);
    }

    #[test]
    fn numbers_print_like_printf_g() {
        for (v, s) in [
            (4.5, "4.5"),
            (4.0, "4"),
            (-3.25, "-3.25"),
            (1e20, "1e+20"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (123456.0, "123456"),
            (1234567.0, "1.23457e+06"),
        ] {
            assert_eq!(format_g(v), s, "{v}");
        }
    }
}

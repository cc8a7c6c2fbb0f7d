use super::*;
use crate::proxy::ctx::{RequestCtx, Vars};
use crate::proxy::testutil::{conn, expr, req};

fn eval_str(e: &str, uri: &str, hdrs: &[(&str, &str)]) -> Option<String> {
    let env = CompileEnv::default();
    let x = CompiledExpr::compile(&expr(e), &env).unwrap_or_else(|err| panic!("{e}: {err}"));
    let mut vars = Vars::new();
    vars.set("txn.n", VarValue::Int(5));
    let h = req("GET", uri, hdrs);
    let c = conn("10.1.2.3:4567", "127.0.0.1:8080");
    let r = RequestCtx::new(&h, &c, "fe", "be", &vars);
    x.eval(&EvalCtx::new(&r))
        .map(|s| String::from_utf8_lossy(&s.to_bytes()).into_owned())
}

#[test]
fn sample_table() {
    let h: &[(&str, &str)] = &[
        ("Host", "Www.Example.com:81"),
        ("X-A", "a, b"),
        ("X-A", "c"),
        ("Cookie", "s=1; t=two"),
    ];
    // (expression, uri, expected)
    let cases: &[(&str, &str, Option<&str>)] = &[
        ("path", "/p/q?x=1", Some("/p/q")),
        ("query", "/p/q?x=1", Some("x=1")),
        ("url", "/p/q?x=1", Some("/p/q?x=1")),
        ("pathq", "/p?x", Some("/p?x")),
        ("base", "/p?x", Some("Www.Example.com:81/p")),
        ("url_param(x)", "/p?y=2&x=1", Some("1")),
        ("url_param(z)", "/p?y=2&x=1", None),
        ("method", "/", Some("GET")),
        ("req.ver", "/", Some("1.1")),
        ("hdr(x-a)", "/", Some("c")),
        ("hdr(x-a,1)", "/", Some("a")),
        ("hdr(x-a,-2)", "/", Some("b")),
        ("req.fhdr(x-a,1)", "/", Some("a, b")),
        ("hdr_cnt(x-a)", "/", Some("3")),
        ("hdr(host),lower", "/", Some("www.example.com:81")),
        ("hdr(host),upper", "/", Some("WWW.EXAMPLE.COM:81")),
        ("hdr(host),field(1,:)", "/", Some("Www.Example.com")),
        ("hdr(host),field(2,.,2)", "/", Some("Example.com:81")),
        ("hdr(host),field(-1,.)", "/", Some("com:81")),
        ("hdr(host),word(2,.)", "/", Some("Example")),
        ("path,regsub(^/old/,/new/)", "/old/x", Some("/new/x")),
        ("path,regsub(o,0,g)", "/foo", Some("/f00")),
        ("path,regsub(^/(a)(b),/\\2\\1)", "/abx", Some("/bax")),
        ("str(hello),base64", "/", Some("aGVsbG8=")),
        ("str(aGVsbG8=),b64dec", "/", Some("hello")),
        ("str(AB),hex", "/", Some("4142")),
        ("path,length", "/abcd", Some("5")),
        ("src", "/", Some("10.1.2.3")),
        ("src,ipmask(16)", "/", Some("10.1.0.0")),
        ("src_port", "/", Some("4567")),
        ("dst_port", "/", Some("8080")),
        ("cook(t)", "/", Some("two")),
        ("req.cook_cnt", "/", Some("2")),
        ("var(txn.n)", "/", Some("5")),
        ("var(txn.n),add(2)", "/", Some("7")),
        ("var(txn.n),mul(txn.n)", "/", Some("25")),
        ("var(txn.none)", "/", None),
        ("int(7),sub(10)", "/", Some("-3")),
        ("str(a%20b),url_dec", "/", Some("a b")),
        ("str(xx),concat(<,txn.n,>)", "/", Some("xx<5>")),
        ("fe_name", "/", Some("fe")),
        ("be_name", "/", Some("be")),
        ("str(a\"b),json", "/", Some("a\\\"b")),
        ("str(  x ),ltrim( )", "/", Some("x ")),
        ("str(abcdef),bytes(2,3)", "/", Some("cde")),
    ];
    for (e, uri, want) in cases {
        assert_eq!(eval_str(e, uri, h).as_deref(), *want, "{e} on {uri}");
    }
}

#[test]
fn unknown_names_are_errors() {
    let env = CompileEnv::default();
    // Names the front end accepted but we do not implement degrade (never / identity).
    assert!(matches!(
        CompiledExpr::compile(&expr("nosuchfetch"), &env).map(|e| e.fetch),
        Ok(Fetch::Never)
    ));
    assert!(
        matches!(CompiledExpr::compile(&expr("path,nosuchconv"), &env).map(|e| e.convs), Ok(v) if matches!(v[..], [Conv::Identity]))
    );
    assert!(matches!(
        CompiledExpr::compile(&expr("http_auth(nope)"), &env),
        Err(CompileError::UnknownUserlist(_))
    ));
}

#[test]
fn base64_roundtrip_and_ints() {
    for s in ["", "a", "ab", "abc", "abcd", "hello world"] {
        assert_eq!(
            base64_decode(base64_encode(s.as_bytes()).as_bytes()).as_deref(),
            Some(s.as_bytes())
        );
    }
    assert_eq!(parse_int_prefix(b" 42abc"), Some(42));
    assert_eq!(parse_int_prefix(b"-7"), Some(-7));
    assert_eq!(parse_int_prefix(b"x"), None);
}

proptest::proptest! {
    #[test]
    fn base64_roundtrip_any(v in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
        proptest::prop_assert_eq!(base64_decode(base64_encode(&v).as_bytes()), Some(v));
    }
}

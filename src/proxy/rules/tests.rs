use super::*;
use crate::haproxy::ir::HttpAction as A;
use crate::proxy::testutil::{acl, conn, lf, re, req, rule};

fn proxy(rules: Vec<ir::HttpRule>, acls: Vec<ir::Acl>) -> ir::Proxy {
    ir::Proxy {
        name: "fe".into(),
        http_request: rules,
        acls,
        ..Default::default()
    }
}

fn run(p: &ir::Proxy, h: &mut RequestHead) -> (Verdict, Vars) {
    let env = CompileEnv::default();
    let rs = RuleSet::compile(p, &env).expect("compile");
    let c = conn("10.0.0.1:1234", "127.0.0.1:80");
    let renv = RuleEnv {
        conn: &c,
        frontend: "fe",
        backend: "be",
        proxies: None,
    };
    let mut vars = Vars::new();
    let v = rs.apply_request(h, &renv, &mut vars);
    (v, vars)
}

fn hdr(h: &RequestHead, n: &str) -> Vec<String> {
    h.headers
        .iter()
        .filter(|x| x.is(n.as_bytes()))
        .map(|x| String::from_utf8_lossy(&x.value).into_owned())
        .collect()
}

fn redirect(
    kind: ir::RedirectKind,
    target: &str,
    code: u16,
    drop_query: bool,
    append_slash: bool,
) -> ir::Redirect {
    ir::Redirect {
        kind,
        target: lf(target),
        code,
        drop_query,
        append_slash,
        set_cookie: None,
        clear_cookie: None,
        ignore_empty: false,
    }
}

#[test]
fn header_edits_in_order() {
    let p = proxy(
        vec![
            rule(
                A::SetHeader {
                    name: "X-Src".into(),
                    value: lf("%[src]:%cp"),
                },
                None,
            ),
            rule(
                A::AddHeader {
                    name: "X-Multi".into(),
                    value: lf("a"),
                },
                None,
            ),
            rule(
                A::AddHeader {
                    name: "X-Multi".into(),
                    value: lf("b"),
                },
                None,
            ),
            rule(
                A::DelHeader {
                    name: "X-Drop".into(),
                    method: None,
                },
                None,
            ),
            rule(
                A::DelHeader {
                    name: "x-pre".into(),
                    method: Some("beg".into()),
                },
                None,
            ),
            rule(
                A::SetHeader {
                    name: "X-Seen".into(),
                    value: lf("%[hdr(x-src)]"),
                },
                None,
            ),
            rule(
                A::ReplaceHeader {
                    name: "Cookie".into(),
                    regex: re("foo=([^;]*);(.*)"),
                    replace: "foo=\\1;ip=1;\\2".into(),
                },
                None,
            ),
            rule(
                A::ReplaceValue {
                    name: "X-List".into(),
                    regex: re("^b$"),
                    replace: "B".into(),
                },
                None,
            ),
        ],
        vec![],
    );
    let mut h = req(
        "GET",
        "/",
        &[
            ("X-Src", "old"),
            ("X-Drop", "1"),
            ("X-Pre-A", "1"),
            ("x-pre-b", "2"),
            ("Cookie", "foo=bar; x=y"),
            ("X-List", "a, b, c"),
        ],
    );
    let (v, _) = run(&p, &mut h);
    assert_eq!(v, Verdict::Continue);
    assert_eq!(hdr(&h, "x-src"), vec!["10.0.0.1:1234"]);
    assert_eq!(hdr(&h, "x-multi"), vec!["a", "b"]);
    assert!(hdr(&h, "x-drop").is_empty());
    assert!(hdr(&h, "x-pre-a").is_empty() && hdr(&h, "x-pre-b").is_empty());
    assert_eq!(
        hdr(&h, "x-seen"),
        vec!["10.0.0.1:1234"],
        "later rules see earlier edits"
    );
    assert_eq!(hdr(&h, "cookie"), vec!["foo=bar;ip=1; x=y"]);
    assert_eq!(
        hdr(&h, "x-list"),
        vec!["a,B, c"],
        "replaced element loses its blanks, as haproxy"
    );
}

#[test]
fn uri_edits() {
    // (action, uri before, uri after)
    let cases: Vec<(ir::HttpAction, &str, &str)> = vec![
        (A::SetPath(lf("/new")), "/old?q=1", "/new?q=1"),
        (A::SetPath(lf("/v2%[path]")), "/a/b?x", "/v2/a/b?x"),
        (A::SetQuery(lf("a=1")), "/p?q=1", "/p?a=1"),
        (A::SetQuery(lf("a=1")), "/p", "/p?a=1"),
        (A::SetUri(lf("/x?y")), "/p?q", "/x?y"),
        (A::SetPathq(lf("/z?k")), "/p?q", "/z?k"),
        (
            A::ReplacePath {
                regex: re("^/api/(.*)"),
                replace: "/\\1".into(),
            },
            "/api/users?id=3",
            "/users?id=3",
        ),
        (
            A::ReplacePath {
                regex: re("^/nomatch"),
                replace: "/x".into(),
            },
            "/api",
            "/api",
        ),
        (
            A::ReplaceUri {
                regex: re("^/(.*)"),
                replace: "/app/\\1".into(),
            },
            "/p?q",
            "/app/p?q",
        ),
        (
            A::SetPath(lf("/p")),
            "http://h.example/old?q",
            "http://h.example/p?q",
        ),
    ];
    for (a, before, after) in cases {
        let p = proxy(vec![rule(a.clone(), None)], vec![]);
        let mut h = req("GET", before, &[]);
        run(&p, &mut h);
        assert_eq!(String::from_utf8_lossy(&h.uri), after, "{a:?} on {before}");
    }
    let p = proxy(vec![rule(A::SetMethod(lf("POST")), None)], vec![]);
    let mut h = req("GET", "/", &[]);
    run(&p, &mut h);
    assert_eq!(&h.method[..], b"POST");
}

#[test]
fn first_stopping_rule_wins() {
    let acls = vec![
        acl("admin", "path_beg /admin"),
        acl("local", "src 10.0.0.0/8"),
    ];
    let p = proxy(
        vec![
            rule(A::Allow, Some("if admin local")),
            rule(
                A::Deny {
                    status: None,
                    content_type: None,
                    body: None,
                    headers: vec![],
                },
                Some("if admin"),
            ),
            rule(
                A::SetHeader {
                    name: "X-After".into(),
                    value: lf("1"),
                },
                None,
            ),
            rule(
                A::Deny {
                    status: Some(429),
                    content_type: None,
                    body: None,
                    headers: vec![],
                },
                Some("if { path /limited }"),
            ),
        ],
        acls,
    );
    let mut h = req("GET", "/admin/x", &[]);
    let (v, _) = run(&p, &mut h);
    assert_eq!(v, Verdict::Continue);
    assert!(hdr(&h, "x-after").is_empty(), "allow stops the rule list");

    let mut h = req("GET", "/limited", &[]);
    assert_eq!(run(&p, &mut h).0, Verdict::Deny { status: 429 });
    assert_eq!(hdr(&h, "x-after"), vec!["1"]);

    let p2 = proxy(
        vec![rule(
            A::Deny {
                status: None,
                content_type: None,
                body: None,
                headers: vec![],
            },
            Some("unless { src 10.0.0.0/8 }"),
        )],
        vec![],
    );
    let mut h = req("GET", "/", &[]);
    assert_eq!(run(&p2, &mut h).0, Verdict::Continue);
}

#[test]
fn redirects() {
    use ir::RedirectKind as K;
    // (redirect, uri, host, expected status, expected location)
    let cases: Vec<(ir::Redirect, &str, u16, &str)> = vec![
        (
            redirect(K::Scheme, "https", 302, false, false),
            "/a?b=1",
            302,
            "https://ex.com/a?b=1",
        ),
        (
            redirect(K::Scheme, "https", 301, true, false),
            "/a?b=1",
            301,
            "https://ex.com/a",
        ),
        (
            redirect(K::Prefix, "https://new.example", 302, false, false),
            "/x/y?z",
            302,
            "https://new.example/x/y?z",
        ),
        (
            redirect(K::Prefix, "/", 302, true, true),
            "/x/y?z",
            302,
            "/x/y/",
        ),
        (
            redirect(K::Location, "/login?from=%[path]", 303, false, false),
            "/secret",
            303,
            "/login?from=/secret",
        ),
        (
            redirect(
                K::Location,
                "https://%[hdr(host)]%[pathq]",
                308,
                false,
                false,
            ),
            "/p?q",
            308,
            "https://ex.com/p?q",
        ),
    ];
    for (rd, uri, code, loc) in cases {
        let p = proxy(vec![rule(A::Redirect(rd.clone()), None)], vec![]);
        let mut h = req("GET", uri, &[("Host", "ex.com")]);
        match run(&p, &mut h).0 {
            Verdict::Reply(r) => {
                assert_eq!(r.status, code, "{rd:?}");
                assert_eq!(r.headers[0].1, Bytes::from(loc.to_string()), "{rd:?}");
                let cc = r
                    .headers
                    .iter()
                    .any(|(n, v)| &n[..] == b"cache-control" && &v[..] == b"no-cache");
                assert_eq!(cc, matches!(code, 302 | 303 | 307));
            }
            v => panic!("{rd:?}: {v:?}"),
        }
    }
    let mut rd = redirect(K::Location, "/", 302, false, false);
    rd.set_cookie = Some("SEEN=1".into());
    let p = proxy(vec![rule(A::Redirect(rd), None)], vec![]);
    let mut h = req("GET", "/", &[]);
    let Verdict::Reply(r) = run(&p, &mut h).0 else {
        panic!("reply")
    };
    assert!(r
        .headers
        .iter()
        .any(|(n, v)| &n[..] == b"set-cookie" && &v[..] == b"SEEN=1; path=/;"));
}

#[test]
fn return_auth_tarpit_vars() {
    let p = proxy(
        vec![
            rule(
                A::SetVar {
                    name: "txn.p".into(),
                    expr: crate::proxy::testutil::expr("path"),
                },
                None,
            ),
            rule(
                A::SetVarFmt {
                    name: "txn.f".into(),
                    format: lf("<%[var(txn.p)]>"),
                },
                None,
            ),
            rule(
                A::Tarpit {
                    status: None,
                    content_type: None,
                    body: None,
                    headers: vec![],
                },
                Some("if { path /tar }"),
            ),
            rule(A::Auth { realm: None }, Some("if { path /auth }")),
            rule(
                A::Return {
                    status: 200,
                    content_type: Some("text/plain".into()),
                    body: Some(ir::ReturnBody::LfString(lf("hello %[var(txn.f)]"))),
                    headers: vec![("X-R".into(), lf("1"))],
                },
                Some("if { path /ret }"),
            ),
        ],
        vec![],
    );
    let mut h = req("GET", "/ret", &[]);
    let (v, vars) = run(&p, &mut h);
    assert_eq!(
        vars.get("txn.f"),
        Some(&crate::proxy::ctx::VarValue::Str(Bytes::from_static(
            b"</ret>"
        )))
    );
    let Verdict::Reply(r) = v else {
        panic!("{v:?}")
    };
    assert_eq!((r.status, &r.body[..]), (200, &b"hello </ret>"[..]));
    assert!(r.headers.contains(&(
        Bytes::from_static(b"content-type"),
        Bytes::from_static(b"text/plain")
    )));
    assert!(r
        .headers
        .contains(&(Bytes::from_static(b"X-R"), Bytes::from_static(b"1"))));
    assert_eq!(
        run(&p, &mut req("GET", "/tar", &[])).0,
        Verdict::Tarpit { status: 500 }
    );
    assert_eq!(
        run(&p, &mut req("GET", "/auth", &[])).0,
        Verdict::Auth { realm: "fe".into() }
    );
}

#[test]
fn response_rules() {
    let mut p = proxy(vec![], vec![]);
    p.http_response = vec![
        rule(
            A::SetHeader {
                name: "X-Server".into(),
                value: lf("rh"),
            },
            None,
        ),
        rule(
            A::DelHeader {
                name: "Server".into(),
                method: None,
            },
            None,
        ),
        rule(
            A::SetStatus {
                code: 404,
                reason: None,
            },
            Some("if { status 500 }"),
        ),
        rule(
            A::Deny {
                status: None,
                content_type: None,
                body: None,
                headers: vec![],
            },
            Some("if { res.hdr(x-leak) -m found }"),
        ),
    ];
    let env = CompileEnv::default();
    let rs = RuleSet::compile(&p, &env).expect("compile");
    let c = conn("10.0.0.1:1", "127.0.0.1:80");
    let renv = RuleEnv {
        conn: &c,
        frontend: "fe",
        backend: "be",
        proxies: None,
    };
    let rq = req("GET", "/", &[]);
    let mut vars = Vars::new();
    let mut res = ResponseHead {
        version: Bytes::from_static(b"HTTP/1.1"),
        status: 500,
        reason: Bytes::from_static(b"Internal Server Error"),
        headers: vec![HdrField::new(&b"Server"[..], &b"nginx"[..])],
    };
    assert_eq!(
        rs.apply_response(&rq, &mut res, &renv, &mut vars),
        Verdict::Continue
    );
    assert_eq!((res.status, &res.reason[..]), (404, &b"Not Found"[..]));
    assert_eq!(
        res.headers,
        vec![HdrField::new(&b"X-Server"[..], &b"rh"[..])]
    );
    res.headers.push(HdrField::new(&b"X-Leak"[..], &b"1"[..]));
    assert_eq!(
        rs.apply_response(&rq, &mut res, &renv, &mut vars),
        Verdict::Deny { status: 502 }
    );
}

#[test]
fn backend_switching() {
    let mut p = proxy(vec![], vec![acl("is_api", "path_beg /api")]);
    p.use_backends = vec![
        ir::UseBackend {
            target: ir::BackendRef::Static("api".into()),
            cond: Some(crate::proxy::testutil::cond("if is_api")),
            span: Default::default(),
        },
        ir::UseBackend {
            target: ir::BackendRef::Dynamic(lf("be_%[hdr(x-tenant)]")),
            cond: Some(crate::proxy::testutil::cond(
                "if { hdr(x-tenant) -m found }",
            )),
            span: Default::default(),
        },
        ir::UseBackend {
            target: ir::BackendRef::Static("never".into()),
            cond: None,
            span: Default::default(),
        },
    ];
    p.default_backend = Some(ir::BackendRef::Static("web".into()));
    let rs = RuleSet::compile(&p, &CompileEnv::default()).expect("compile");
    let exists = |n: &str| ["api", "web", "be_a", "never"].contains(&n);
    let c = conn("1.1.1.1:1", "2.2.2.2:80");
    let vars = Vars::new();
    // (uri, tenant header, expected backend)
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("/api/x", None, "api"),
        ("/x", Some("a"), "be_a"),
        ("/x", Some("zzz"), "web"),
        ("/x", None, "never"),
    ];
    for (uri, tenant, want) in cases {
        let hs: Vec<(&str, &str)> = tenant.iter().map(|t| ("X-Tenant", *t)).collect();
        let h = req("GET", uri, &hs);
        let r = RequestCtx::new(&h, &c, "fe", "", &vars);
        let got = rs.switching.select(&EvalCtx::new(&r), &exists);
        assert_eq!(got.as_deref(), Some(*want), "{uri} {tenant:?}");
    }
}

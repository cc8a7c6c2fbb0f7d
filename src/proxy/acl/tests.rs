use super::*;
use crate::proxy::ctx::{RequestCtx, Vars};
use crate::proxy::testutil::{acl, cond, conn, req};

fn env_with_users() -> CompileEnv {
    let ul = ir::Userlist {
        name: "users".into(),
        groups: vec![ir::Group {
            name: "admin".into(),
            users: vec!["bob".into()],
            span: Default::default(),
        }],
        users: vec![
            ir::User {
                name: "bob".into(),
                password: ir::Password::Insecure("pw".into()),
                groups: vec![],
                span: Default::default(),
            },
            ir::User {
                name: "alice".into(),
                // crypt("secret", "$6$saltsalt$")
                password: ir::Password::Secure(
                    crate::proxy::crypt::crypt(b"secret", "$6$saltsalt$").unwrap_or_default(),
                ),
                groups: vec![],
                span: Default::default(),
            },
        ],
        span: Default::default(),
    };
    CompileEnv {
        userlists: vec![Arc::new(crate::proxy::sample::AuthList::from_ir(&ul))],
    }
}

/// (acl text, method, uri, headers, src, expected)
#[allow(clippy::type_complexity)]
const CASES: &[(&str, &str, &str, &[(&str, &str)], &str, bool)] = &[
    (
        "path_beg /api",
        "GET",
        "/api/v1?x=1",
        &[],
        "1.2.3.4:5",
        true,
    ),
    ("path_beg /api", "GET", "/ap", &[], "1.2.3.4:5", false),
    ("path_beg -i /API", "GET", "/api/v1", &[], "1.2.3.4:5", true),
    (
        "path_end .jpg .png",
        "GET",
        "/a/b.png?z",
        &[],
        "1.2.3.4:5",
        true,
    ),
    ("path_end .jpg", "GET", "/a/b.JPG", &[], "1.2.3.4:5", false),
    (
        "path_sub admin",
        "GET",
        "/x/admin/y",
        &[],
        "1.2.3.4:5",
        true,
    ),
    (
        "path_reg ^/u/[0-9]+$",
        "GET",
        "/u/123",
        &[],
        "1.2.3.4:5",
        true,
    ),
    (
        "path_reg ^/u/[0-9]+$",
        "GET",
        "/u/12a",
        &[],
        "1.2.3.4:5",
        false,
    ),
    (
        "path_dir img",
        "GET",
        "/static/img/a.png",
        &[],
        "1.2.3.4:5",
        true,
    ),
    (
        "path_dir img",
        "GET",
        "/static/images/a.png",
        &[],
        "1.2.3.4:5",
        false,
    ),
    ("path_len 3", "GET", "/ab?long", &[], "1.2.3.4:5", true),
    ("path /exact", "GET", "/exact?q", &[], "1.2.3.4:5", true),
    ("path -m beg /ex", "GET", "/exact", &[], "1.2.3.4:5", true),
    ("url_beg /a?b", "GET", "/a?b=1", &[], "1.2.3.4:5", true),
    (
        "query -m sub debug",
        "GET",
        "/a?x=1&debug=1",
        &[],
        "1.2.3.4:5",
        true,
    ),
    (
        "url_param(id) 42",
        "GET",
        "/a?x=1&id=42",
        &[],
        "1.2.3.4:5",
        true,
    ),
    (
        "urlp(id) -m found",
        "GET",
        "/a?x=1",
        &[],
        "1.2.3.4:5",
        false,
    ),
    (
        "hdr(host) -i example.com",
        "GET",
        "/",
        &[("Host", "EXAMPLE.com")],
        "1.2.3.4:5",
        true,
    ),
    (
        "hdr_beg(host) -i www.",
        "GET",
        "/",
        &[("host", "www.example.com")],
        "1.2.3.4:5",
        true,
    ),
    (
        "hdr_end(host) .org",
        "GET",
        "/",
        &[("host", "www.example.com")],
        "1.2.3.4:5",
        false,
    ),
    (
        "hdr_dom(host) example",
        "GET",
        "/",
        &[("host", "www.example.com")],
        "1.2.3.4:5",
        true,
    ),
    (
        "hdr_sub(user-agent) -i curl",
        "GET",
        "/",
        &[("User-Agent", "Mozilla Curl/8")],
        "1.2.3.4:5",
        true,
    ),
    (
        "hdr_cnt(x-a) 2",
        "GET",
        "/",
        &[("X-A", "1, 2")],
        "1.2.3.4:5",
        true,
    ),
    (
        "req.fhdr_cnt(x-a) 1",
        "GET",
        "/",
        &[("X-A", "1, 2")],
        "1.2.3.4:5",
        true,
    ),
    (
        "hdr_val(content-length) gt 10",
        "POST",
        "/",
        &[("Content-Length", "11")],
        "1.2.3.4:5",
        true,
    ),
    (
        "hdr(x-a,2) b",
        "GET",
        "/",
        &[("X-A", "a, b"), ("X-A", "c")],
        "1.2.3.4:5",
        true,
    ),
    (
        "hdr(x-a,-1) c",
        "GET",
        "/",
        &[("X-A", "a, b"), ("X-A", "c")],
        "1.2.3.4:5",
        true,
    ),
    (
        "hdr(x-a) c",
        "GET",
        "/",
        &[("X-A", "a, b"), ("X-A", "c")],
        "1.2.3.4:5",
        true,
    ),
    (
        "req.fhdr(x-a) -m sub a,",
        "GET",
        "/",
        &[("X-A", "a, b")],
        "1.2.3.4:5",
        true,
    ),
    (
        "hdr(x-missing) -m found",
        "GET",
        "/",
        &[],
        "1.2.3.4:5",
        false,
    ),
    (
        "hdr_ip(x-forwarded-for) 10.0.0.0/8",
        "GET",
        "/",
        &[("X-Forwarded-For", "10.1.2.3")],
        "1.2.3.4:5",
        true,
    ),
    ("method GET HEAD", "HEAD", "/", &[], "1.2.3.4:5", true),
    ("method POST", "GET", "/", &[], "1.2.3.4:5", false),
    (
        "src 10.0.0.0/8 192.168.0.0/16",
        "GET",
        "/",
        &[],
        "192.168.1.1:9",
        true,
    ),
    (
        "src 10.0.0.0/255.0.0.0",
        "GET",
        "/",
        &[],
        "10.9.9.9:9",
        true,
    ),
    (
        "src 10.0.0.0/8",
        "GET",
        "/",
        &[],
        "[::ffff:10.1.1.1]:9",
        true,
    ),
    ("src ::1", "GET", "/", &[], "[::1]:9", true),
    ("src_port 1024:", "GET", "/", &[], "1.2.3.4:5000", true),
    ("src_port lt 1024", "GET", "/", &[], "1.2.3.4:5000", false),
    ("dst_port 80 443", "GET", "/", &[], "1.2.3.4:5", true),
    ("ssl_fc", "GET", "/", &[], "1.2.3.4:5", false),
    (
        "cook(SESS) -m found",
        "GET",
        "/",
        &[("Cookie", "a=1; SESS=xyz")],
        "1.2.3.4:5",
        true,
    ),
    (
        "req.cook(SESS) xyz",
        "GET",
        "/",
        &[("Cookie", "a=1; SESS=xyz")],
        "1.2.3.4:5",
        true,
    ),
    (
        "cook_cnt(a) 1",
        "GET",
        "/",
        &[("Cookie", "a=1; SESS=xyz")],
        "1.2.3.4:5",
        true,
    ),
    ("path,lower /abc", "GET", "/AbC", &[], "1.2.3.4:5", true),
    (
        "hdr(host),field(1,:) example.com",
        "GET",
        "/",
        &[("host", "example.com:8080")],
        "1.2.3.4:5",
        true,
    ),
    ("path,length 4", "GET", "/abc", &[], "1.2.3.4:5", true),
    ("req.ver 1.1", "GET", "/", &[], "1.2.3.4:5", true),
    (
        "base -m beg example.com/x",
        "GET",
        "/x/y",
        &[("host", "example.com")],
        "1.2.3.4:5",
        true,
    ),
    (
        "http_auth(users)",
        "GET",
        "/",
        &[("Authorization", "Basic Ym9iOnB3")],
        "1.2.3.4:5",
        true,
    ),
    (
        "http_auth(users)",
        "GET",
        "/",
        &[("Authorization", "Basic Ym9iOnd4")],
        "1.2.3.4:5",
        false,
    ),
    (
        "http_auth(users)",
        "GET",
        "/",
        &[("Authorization", "Basic YWxpY2U6c2VjcmV0")],
        "1.2.3.4:5",
        true,
    ),
    (
        "http_auth_group(users) admin",
        "GET",
        "/",
        &[("Authorization", "Basic Ym9iOnB3")],
        "1.2.3.4:5",
        true,
    ),
    ("always_true", "GET", "/", &[], "1.2.3.4:5", true),
    ("str(abc) abc", "GET", "/", &[], "1.2.3.4:5", true),
    ("int(5) 1:9", "GET", "/", &[], "1.2.3.4:5", true),
];

#[test]
fn acl_table() {
    let env = env_with_users();
    let vars = Vars::new();
    for (text, method, uri, hdrs, src, want) in CASES {
        if text.contains("YWxpY2") && !crate::proxy::crypt::available() {
            continue;
        }
        let a =
            CompiledAcl::compile(&acl("x", text), &env).unwrap_or_else(|e| panic!("{text}: {e}"));
        let h = req(method, uri, hdrs);
        let c = conn(src, "127.0.0.1:80");
        let r = RequestCtx::new(&h, &c, "fe", "be", &vars);
        let ec = EvalCtx::new(&r);
        assert_eq!(
            a.matches(&ec),
            *want,
            "acl `{text}` on {method} {uri} {hdrs:?} from {src}"
        );
    }
}

#[test]
fn conditions_and_predefined() {
    let env = CompileEnv::default();
    let set = AclSet::compile(
        &[
            acl("api", "path_beg /api"),
            acl("api", "path_beg /v2"),
            acl("local", "src 127.0.0.0/8"),
            acl("post", "method POST"),
        ],
        &env,
    )
    .unwrap();
    let vars = Vars::new();
    // (condition, method, uri, src, expected)
    let cases: &[(&str, &str, &str, &str, bool)] = &[
        ("if api", "GET", "/v2/x", "1.1.1.1:1", true),
        ("if api local", "GET", "/api", "1.1.1.1:1", false),
        ("if api local || post", "POST", "/x", "1.1.1.1:1", true),
        ("if api !local", "GET", "/api", "1.1.1.1:1", true),
        ("unless api", "GET", "/api", "1.1.1.1:1", false),
        ("if METH_GET", "HEAD", "/", "1.1.1.1:1", true),
        ("if LOCALHOST", "GET", "/", "127.0.0.2:1", true),
        ("if TRUE", "GET", "/", "1.1.1.1:1", true),
        ("if FALSE || !TRUE", "GET", "/", "1.1.1.1:1", false),
        ("if HTTP_1.1 HTTP", "GET", "/", "1.1.1.1:1", true),
        (
            "if HTTP_URL_SLASH !HTTP_URL_ABS",
            "GET",
            "/",
            "1.1.1.1:1",
            true,
        ),
        (
            "if { path_end .css } || api",
            "GET",
            "/s.css",
            "1.1.1.1:1",
            true,
        ),
        ("if !{ method GET }", "GET", "/", "1.1.1.1:1", false),
    ];
    for (ctext, m, uri, src, want) in cases {
        let c = CompiledCond::compile(&cond(ctext), &set, &env)
            .unwrap_or_else(|e| panic!("{ctext}: {e}"));
        let h = req(m, uri, &[]);
        let ci = conn(src, "127.0.0.1:80");
        let r = RequestCtx::new(&h, &ci, "fe", "be", &vars);
        assert_eq!(
            c.eval(&EvalCtx::new(&r)),
            *want,
            "`{ctext}` on {m} {uri} from {src}"
        );
    }
    assert!(matches!(
        CompiledCond::compile(&cond("if nope"), &set, &env),
        Err(CompileError::UnknownAcl(_))
    ));
}

#[test]
fn dir_and_dom() {
    assert!(match_delimited(b"/a/img/b", b"/img/", b'/', false));
    assert!(match_delimited(
        b"www.example.com",
        b"example.com",
        b'.',
        false
    ));
    assert!(!match_delimited(
        b"www.myexample.com",
        b"example.com",
        b'.',
        false
    ));
}

proptest::proptest! {
    #[test]
    fn beg_matches_iff_prefix(s in "[a-z/]{0,12}", p in "[a-z/]{0,4}") {
        let env = CompileEnv::default();
        let a = CompiledAcl::compile(&acl("x", &format!("path_beg -- /{p}")), &env).unwrap();
        let vars = Vars::new();
        let uri = format!("/{s}");
        let h = req("GET", &uri, &[]);
        let c = conn("1.1.1.1:1", "2.2.2.2:2");
        let r = RequestCtx::new(&h, &c, "fe", "be", &vars);
        let path = uri.split('?').next().unwrap_or("");
        proptest::prop_assert_eq!(a.matches(&EvalCtx::new(&r)), path.starts_with(&format!("/{p}")));
    }
}

proptest::proptest! {
    #[test]
    fn sub_multi_literal_equals_naive(pats in proptest::collection::vec("[a-cA-C.*]{1,3}", 1..5), hay in "[a-cA-C.*]{0,12}", icase in proptest::bool::ANY) {
        let ir_pats: Vec<ir::Pattern> = pats.iter().map(|p| ir::Pattern::Value(p.clone())).collect();
        let m = Matcher::compile(MatchMethod::Sub, &ir_pats, icase).unwrap();
        let naive = pats.iter().any(|p| contains_sub(hay.as_bytes(), p.as_bytes(), icase));
        proptest::prop_assert_eq!(m.matches(&Smp::str(hay.as_bytes())), naive);
    }
}

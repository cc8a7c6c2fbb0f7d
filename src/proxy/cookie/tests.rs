use super::*;
use crate::proxy::server_state::ServerState;
use crate::proxy::testutil::req;

fn settings(mode: ir::CookieMode) -> ir::CookieSettings {
    ir::CookieSettings {
        name: "SRV".into(),
        mode,
        indirect: false,
        nocache: false,
        postonly: false,
        preserve: false,
        httponly: false,
        secure: false,
        dynamic: false,
        domains: vec![],
        maxidle: None,
        maxlife: None,
        attrs: vec![],
    }
}

fn live() -> ServerSet {
    ServerSet::new(vec![
        ServerState::new(1, false, 0),
        ServerState::new(1, false, 0),
        ServerState::new(1, false, 0),
    ])
}

fn cookies() -> Vec<Option<String>> {
    vec![Some("s1".into()), Some("s2".into()), None]
}

fn res(hdrs: &[(&str, &str)]) -> ResponseHead {
    ResponseHead {
        version: Bytes::from_static(b"HTTP/1.1"),
        status: 200,
        reason: Bytes::from_static(b"OK"),
        headers: hdrs
            .iter()
            .map(|(n, v)| HdrField::new(n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect(),
    }
}

fn hv(hs: &[HdrField], n: &str) -> Vec<String> {
    hs.iter()
        .filter(|h| h.is(n.as_bytes()))
        .map(|h| String::from_utf8_lossy(&h.value).into_owned())
        .collect()
}

#[test]
fn insert_indirect_nocache() {
    let mut s = settings(ir::CookieMode::Insert);
    s.indirect = true;
    s.nocache = true;
    s.httponly = true;
    s.domains = vec![".ex.com".into()];
    let p = CookiePersist::from_ir(&s, &cookies());
    let lv = live();
    // No cookie: nothing chosen, insert on response.
    let mut h = req("GET", "/", &[("Cookie", "a=1")]);
    let t = p.on_request(&mut h, &lv, false, 1000);
    assert_eq!((t.server, t.status), (None, CookieStatus::None));
    let mut r = res(&[
        ("Set-Cookie", "SRV=fromapp; path=/"),
        ("Cache-Control", "max-age=60"),
    ]);
    assert_eq!(
        p.on_response(&req("GET", "/", &[]), &mut r, &t, Some(1), 1000),
        'I'
    );
    assert_eq!(
        hv(&r.headers, "set-cookie"),
        vec!["SRV=s2; path=/; domain=.ex.com; HttpOnly"]
    );
    assert_eq!(
        hv(&r.headers, "cache-control"),
        vec!["max-age=60", "private"]
    );
    // Valid cookie: server chosen, cookie stripped from the request, nothing inserted.
    let mut h = req("GET", "/", &[("Cookie", "a=1; SRV=s2; b=2")]);
    let t = p.on_request(&mut h, &lv, false, 1000);
    assert_eq!((t.server, t.status), (Some(1), CookieStatus::Valid));
    assert_eq!(hv(&h.headers, "cookie"), vec!["a=1; b=2"]);
    let mut r = res(&[]);
    p.on_response(&req("GET", "/", &[]), &mut r, &t, Some(1), 1000);
    assert!(hv(&r.headers, "set-cookie").is_empty());
    // Only our cookie: header removed.
    let mut h = req("GET", "/", &[("Cookie", "SRV=s1")]);
    p.on_request(&mut h, &lv, false, 1000);
    assert!(hv(&h.headers, "cookie").is_empty());
    // Down server: not used, status D; with option persist it is used.
    lv.set_running(0, false);
    let mut h = req("GET", "/", &[("Cookie", "SRV=s1")]);
    let t = p.on_request(&mut h, &lv, false, 1000);
    assert_eq!((t.server, t.status), (None, CookieStatus::Down));
    let mut h = req("GET", "/", &[("Cookie", "SRV=s1")]);
    let t = p.on_request(&mut h, &lv, true, 1000);
    assert_eq!((t.server, t.status), (Some(0), CookieStatus::Down));
    // Unknown value: invalid.
    let mut h = req("GET", "/", &[("Cookie", "SRV=zz")]);
    assert_eq!(
        p.on_request(&mut h, &lv, false, 1000).status,
        CookieStatus::Invalid
    );
    // Server without cookie value: removal cookie.
    let mut r = res(&[]);
    p.on_response(
        &req("GET", "/", &[]),
        &mut r,
        &CookieTxn::default(),
        Some(2),
        1000,
    );
    assert_eq!(
        hv(&r.headers, "set-cookie"),
        vec!["SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/; domain=.ex.com; HttpOnly"]
    );
}

#[test]
fn insert_without_indirect_keeps_request_cookie() {
    let p = CookiePersist::from_ir(&settings(ir::CookieMode::Insert), &cookies());
    let mut h = req("GET", "/", &[("Cookie", "SRV=s1; x=y")]);
    let t = p.on_request(&mut h, &live(), false, 0);
    assert_eq!(t.server, Some(0));
    assert_eq!(hv(&h.headers, "cookie"), vec!["SRV=s1; x=y"]);
}

#[test]
fn rewrite_and_prefix() {
    let p = CookiePersist::from_ir(&settings(ir::CookieMode::Rewrite), &cookies());
    let mut r = res(&[("Set-Cookie", "SRV=appvalue; path=/; HttpOnly")]);
    p.on_response(
        &req("GET", "/", &[]),
        &mut r,
        &CookieTxn::default(),
        Some(0),
        0,
    );
    assert_eq!(
        hv(&r.headers, "set-cookie"),
        vec!["SRV=s1; path=/; HttpOnly"]
    );

    let p = CookiePersist::from_ir(&settings(ir::CookieMode::Prefix), &cookies());
    let mut r = res(&[("Set-Cookie", "SRV=sess42; path=/")]);
    p.on_response(
        &req("GET", "/", &[]),
        &mut r,
        &CookieTxn::default(),
        Some(1),
        0,
    );
    assert_eq!(hv(&r.headers, "set-cookie"), vec!["SRV=s2~sess42; path=/"]);
    let mut h = req("GET", "/", &[("Cookie", "x=1; SRV=s2~sess42")]);
    let t = p.on_request(&mut h, &live(), false, 0);
    assert_eq!(t.server, Some(1));
    assert_eq!(hv(&h.headers, "cookie"), vec!["x=1; SRV=sess42"]);
}

#[test]
fn preserve_and_postonly() {
    let mut s = settings(ir::CookieMode::Insert);
    s.preserve = true;
    let p = CookiePersist::from_ir(&s, &cookies());
    let mut r = res(&[("Set-Cookie", "SRV=mine")]);
    p.on_response(
        &req("GET", "/", &[]),
        &mut r,
        &CookieTxn::default(),
        Some(0),
        0,
    );
    assert_eq!(
        hv(&r.headers, "set-cookie"),
        vec!["SRV=mine"],
        "preserved, nothing inserted"
    );
    let mut s = settings(ir::CookieMode::Insert);
    s.postonly = true;
    let p = CookiePersist::from_ir(&s, &cookies());
    let mut r = res(&[]);
    p.on_response(
        &req("GET", "/", &[]),
        &mut r,
        &CookieTxn::default(),
        Some(0),
        0,
    );
    assert!(hv(&r.headers, "set-cookie").is_empty());
    p.on_response(
        &req("POST", "/", &[]),
        &mut r,
        &CookieTxn::default(),
        Some(0),
        0,
    );
    assert_eq!(hv(&r.headers, "set-cookie"), vec!["SRV=s1; path=/"]);
}

#[test]
fn maxidle_dates() {
    let mut s = settings(ir::CookieMode::Insert);
    s.maxidle = Some(std::time::Duration::from_secs(60));
    s.maxlife = Some(std::time::Duration::from_secs(600));
    let p = CookiePersist::from_ir(&s, &cookies());
    let now = 1_700_000_000u64;
    let mut r = res(&[]);
    p.on_response(
        &req("GET", "/", &[]),
        &mut r,
        &CookieTxn::default(),
        Some(0),
        now,
    );
    let sc = hv(&r.headers, "set-cookie").remove(0);
    let val = sc
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("SRV=")
        .to_string();
    // Fresh cookie is valid and refreshed dates parse back.
    let mut h = req("GET", "/", &[("Cookie", &format!("SRV={val}"))]);
    let t = p.on_request(&mut h, &live(), false, now + 10);
    assert_eq!((t.server, t.status), (Some(0), CookieStatus::Valid));
    assert!(t.last_date.abs_diff(now as u32) <= 4 && t.first_date.abs_diff(now as u32) <= 4);
    // Idle too long: expired.
    let mut h = req("GET", "/", &[("Cookie", &format!("SRV={val}"))]);
    let t = p.on_request(&mut h, &live(), false, now + 120);
    assert_eq!((t.server, t.status), (None, CookieStatus::Expired));
    assert_eq!(b64_to_s30(&s30_to_b64(123456)), Some(123456));
}

proptest::proptest! {
    #[test]
    fn indirect_strips_only_our_cookie(others in proptest::collection::vec(("[a-z]{1,4}", "[a-z0-9]{0,4}"), 0..5), pos in 0usize..6, ours in proptest::bool::ANY) {
        let mut s = settings(ir::CookieMode::Insert);
        s.indirect = true;
        let p = CookiePersist::from_ir(&s, &cookies());
        let mut parts: Vec<String> = others.iter().filter(|(n, _)| n != "SRV").map(|(n, v)| format!("{n}={v}")).collect();
        let expected = parts.join("; ");
        if ours {
            let at = pos.min(parts.len());
            parts.insert(at, "SRV=s2".into());
        }
        if parts.is_empty() {
            return Ok(());
        }
        let line = parts.join(";  ");
        let mut h = req("GET", "/", &[("Cookie", &line)]);
        let t = p.on_request(&mut h, &live(), false, 0);
        proptest::prop_assert_eq!(t.server, if ours { Some(1) } else { None });
        let got = hv(&h.headers, "cookie");
        if ours {
            if expected.is_empty() {
                proptest::prop_assert!(got.is_empty());
            } else {
                proptest::prop_assert_eq!(got, vec![expected]);
            }
        } else {
            proptest::prop_assert_eq!(got, vec![line]);
        }
    }
}

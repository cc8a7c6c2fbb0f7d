//! Hot paths of the HTTP engine: request/response head parsing into the engine's heads,
//! header edits (X-Forwarded-For, Connection) and serialization.
use bytes::{Bytes, BytesMut};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use rhaproxy::proxy::ctx::{RequestHead, ResponseHead};
use rhaproxy::proxy::http1::{self, HeadParser};

const REQ: &[u8] = b"GET /api/v1/items?id=42&sort=desc HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36\r\nAccept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\nCookie: SERVERID=s1; session=abcdef0123456789\r\nConnection: keep-alive\r\n\r\n";
const RESP: &[u8] = b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sat, 21 Nov 2026 14:00:00 GMT\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nweb1\n";

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("http1");
    g.throughput(Throughput::Bytes(REQ.len() as u64));
    let mut parser = HeadParser::new();
    let mut head = RequestHead::default();
    let mut buf = BytesMut::with_capacity(16384);
    g.bench_function("parse_request", |b| {
        b.iter(|| {
            buf.clear();
            buf.extend_from_slice(REQ);
            let r = parser.parse_request(&mut buf, &mut head);
            black_box(r.is_ok());
            head.headers.clear();
        })
    });
    let mut rhead = ResponseHead::default();
    g.bench_function("parse_response", |b| {
        b.iter(|| {
            buf.clear();
            buf.extend_from_slice(RESP);
            let r = parser.parse_response(&mut buf, &mut rhead);
            black_box(r.is_ok());
            rhead.headers.clear();
        })
    });
    let mut out = Vec::with_capacity(4096);
    g.bench_function("parse_edit_serialize_request", |b| {
        b.iter(|| {
            buf.clear();
            buf.extend_from_slice(REQ);
            let _ = parser.parse_request(&mut buf, &mut head);
            let _ = http1::request_body(&head.headers);
            let ka = http1::wants_keep_alive(&head.version, &head.headers);
            http1::del_header(&mut head.headers, b"connection");
            http1::add_header(
                &mut head.headers,
                b"x-forwarded-for",
                Bytes::from_static(b"10.0.0.1"),
            );
            out.clear();
            http1::write_request(&head, &mut out);
            black_box((ka, out.len()));
            head.headers.clear();
        })
    });
    g.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);

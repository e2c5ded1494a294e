//! The HTTP listener against hostile clients, with raw sockets: headers sent slowly are cut
//! off, connections per address are limited, a request that outlasts its deadline is
//! answered and ended, every answer carries the security headers, and the listener speaks
//! TLS itself when `[http]` gives a certificate and key. No timing is asserted: each wait is
//! bounded only by a generous patience.

use std::sync::Arc;
use std::time::Duration;

use segel_server::config;
use segel_tests::pki;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::grpc::{spawn_web, WebServer};

/// How long any wait may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(60);

/// The development configuration with a log in `data`, adjusted.
async fn start(data: &std::path::Path, adjust: impl FnOnce(&mut config::RawConfig)) -> WebServer {
    let mut raw = config::dev(&pki().path, &data.join("log"), "127.0.0.1:0");
    adjust(&mut raw);
    spawn_web(raw).await
}

/// A TCP connection to the HTTP port from the loopback address `from`.
async fn tcp_from(port: u16, from: [u8; 4]) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind((std::net::Ipv4Addr::from(from), 0).into())
        .expect("bind");
    socket
        .connect(([127, 0, 0, 1], port).into())
        .await
        .expect("connect")
}

/// Everything the peer sends until it closes (or resets) the connection; fails after
/// [`PATIENCE`].
async fn read_to_close(s: &mut (impl AsyncReadExt + Unpin)) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let done = tokio::time::timeout(PATIENCE, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(done.is_ok(), "the server did not close the connection");
    out
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`): the whole answer.
async fn request(s: &mut (impl AsyncReadExt + AsyncWriteExt + Unpin), head: &str) -> String {
    s.write_all(head.as_bytes()).await.expect("write");
    String::from_utf8_lossy(&read_to_close(s).await).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_sent_too_slowly_are_cut_off() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = start(data.path(), |c| c.http.header_timeout_secs = 1).await;
    let mut slow = tcp_from(server.http_port, [127, 0, 0, 1]).await;
    // Half a request line, then nothing: the server closes the connection on its own.
    slow.write_all(b"GET / HT").await.expect("write");
    let answer = read_to_close(&mut slow).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "a slow client gets nothing or a 408: {text}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_address_are_limited() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = start(data.path(), |c| {
        c.http.max_connections_per_address = 2;
        c.http.header_timeout_secs = 3600;
    })
    .await;
    let _first = tcp_from(server.http_port, [127, 0, 0, 2]).await;
    let _second = tcp_from(server.http_port, [127, 0, 0, 2]).await;
    // A third from the same address is closed at once, without an answer.
    let mut third = tcp_from(server.http_port, [127, 0, 0, 2]).await;
    let _ = third
        .write_all(b"GET /log/checkpoint HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    assert!(read_to_close(&mut third).await.is_empty());
    // Another address is served meanwhile.
    let mut other = tcp_from(server.http_port, [127, 0, 0, 3]).await;
    let answer = request(
        &mut other,
        "GET /no-such-thing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_outlasts_its_deadline_is_answered_and_ended() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = start(data.path(), |c| {
        c.request_timeout_secs = 1;
        c.idle_timeout_secs = 5;
    })
    .await;
    // An upload that promises 10,000 bytes and sends 10: its slot is held until the deadline,
    // then the answer says why: as JSON to programs, as a page to people.
    for (path, kind) in [
        ("/api/v1/verify", "application/json"),
        ("/", "text/html"),
        ("/?lang=en", "text/html"),
    ] {
        let mut s = tcp_from(server.http_port, [127, 0, 0, 1]).await;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/pdf\r\n\
             Content-Length: 10000\r\nConnection: close\r\n\r\n%PDF-1.7\r\n"
        );
        s.write_all(head.as_bytes()).await.expect("write");
        let answer = String::from_utf8_lossy(&read_to_close(&mut s).await).into_owned();
        assert!(answer.starts_with("HTTP/1.1 503"), "{path}: {answer}");
        assert!(answer.contains(kind), "{path}: {answer}");
        assert!(
            answer.contains("longer than the server"),
            "{path}: {answer}"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_security_headers() {
    let server = crate::grpc::start_web().await;
    let client = reqwest::Client::new();
    for (method, path) in [
        ("GET", "/no-such-thing"),
        ("POST", "/api/v1/verify"),
        ("GET", "/"),
        ("GET", "/log/checkpoint"),
    ] {
        let r = client
            .request(
                method.parse().expect("method"),
                format!("{}{path}", server.base()),
            )
            .send()
            .await
            .expect("answer");
        let h = r.headers();
        let csp = h
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{method} {path}: {csp:?}"
        );
        assert_eq!(
            h.get("x-content-type-options").map(|v| v.as_bytes()),
            Some(&b"nosniff"[..])
        );
        assert_eq!(
            h.get("x-frame-options").map(|v| v.as_bytes()),
            Some(&b"DENY"[..])
        );
        assert_eq!(
            h.get("referrer-policy").map(|v| v.as_bytes()),
            Some(&b"no-referrer"[..])
        );
        // Plain HTTP (a proxy in front does TLS): no HSTS from here.
        assert!(h.get("strict-transport-security").is_none());
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_speaks_tls_when_configured() {
    let data = tempfile::tempdir().expect("tempdir");
    let p = pki();
    let server = start(data.path(), |c| {
        c.http.cert = Some(p.file("server.pem"));
        c.http.key = Some(p.file("server.key"));
    })
    .await;
    let mut roots = rustls::RootCertStore::empty();
    for c in
        pades::pem::certificates(&std::fs::read(p.file("tls-ca.pem")).expect("ca")).expect("ca pem")
    {
        roots.add(c.into()).expect("root");
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let tcp = tcp_from(server.http_port, [127, 0, 0, 1]).await;
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(cfg))
        .connect(name, tcp)
        .await
        .expect("TLS handshake with the HTTP listener");
    let answer = request(
        &mut tls,
        "GET /no-such-thing HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("strict-transport-security: max-age="),
        "{answer}"
    );
    // Plain HTTP on the TLS port is not served.
    let mut plain = tcp_from(server.http_port, [127, 0, 0, 1]).await;
    let answer = request(&mut plain, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(!answer.starts_with("HTTP/1.1 200"), "{answer}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_files_without_http_listen_are_refused() {
    let data = tempfile::tempdir().expect("tempdir");
    let p = pki();
    let mut raw = config::dev(&p.path, &data.path().join("log"), "127.0.0.1:0");
    raw.http_listen = None;
    raw.http.cert = Some(p.file("server.pem"));
    raw.http.key = Some(p.file("server.key"));
    let e = raw
        .resolve(pades::UnixTime::now().0)
        .expect_err("refused")
        .to_string();
    assert!(e.contains("http_listen"), "{e}");
    // One file without the other.
    raw.http_listen = Some("127.0.0.1:0".into());
    raw.http.key = None;
    let e = raw
        .resolve(pades::UnixTime::now().0)
        .expect_err("refused")
        .to_string();
    assert!(e.contains("go together"), "{e}");
    // A key of another certificate.
    raw.http.key = Some(p.file("client.key"));
    assert!(raw.resolve(pades::UnixTime::now().0).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_stops_with_a_keep_alive_connection_open() {
    let server = crate::grpc::start_web().await;
    let mut s = tcp_from(server.http_port, [127, 0, 0, 1]).await;
    s.write_all(b"GET /no-such-thing HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut buf = [0u8; 1024];
    let n = s.read(&mut buf).await.expect("an answer");
    assert!(buf[..n].starts_with(b"HTTP/1.1 404"));
    // The connection stays open (keep-alive); stopping does not wait for the client.
    tokio::time::timeout(PATIENCE, server.stop())
        .await
        .expect("the server stops with an idle keep-alive connection open");
    drop(s);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_trickling_in_is_cut_off_and_holds_no_slot_meanwhile() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = start(data.path(), |c| {
        c.max_concurrent_verifications = 1;
        c.max_queued_verifications = 0;
    })
    .await;
    let mut s = tcp_from(server.http_port, [127, 0, 0, 1]).await;
    s.write_all(
        b"POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/pdf\r\n\
          Content-Length: 100000\r\nConnection: close\r\n\r\n",
    )
    .await
    .expect("head");
    // One byte every half second, far below the minimum pace, until the server answers.
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let trickle = async {
        loop {
            tokio::select! {
                r = s.read(&mut buf) => match r {
                    Ok(0) | Err(_) => break,
                    Ok(n) => answer.extend_from_slice(&buf[..n]),
                },
                () = tokio::time::sleep(Duration::from_millis(500)) => {
                    if s.write_all(b"%").await.is_err() {
                        // Closed for writing: read what the server said.
                    }
                }
            }
        }
    };
    tokio::time::timeout(PATIENCE, trickle)
        .await
        .expect("the server cuts a trickling upload off");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("UPLOAD_TOO_SLOW"), "{answer}");
    // Meanwhile nothing held the one verification slot: an upload now is verified.
    let pdf = std::fs::read(segel_tests::corpus().join("reportlab-1page.pdf")).expect("corpus");
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/verify", server.base()))
        .header("content-type", "application/pdf")
        .body(pdf)
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status().as_u16(), 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_a_route_does_not_answer_is_a_json_405() {
    let server = crate::grpc::start_web().await;
    let client = reqwest::Client::new();
    for (method, path) in [
        ("PUT", "/"),
        ("DELETE", "/d/NeverLoggedId_0123456"),
        ("POST", "/log/checkpoint"),
        ("POST", "/static/segel.css"),
        ("GET", "/api/v1/verify"),
    ] {
        let r = client
            .request(
                method.parse().expect("method"),
                format!("{}{path}", server.base()),
            )
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status().as_u16(), 405, "{method} {path}");
        let body: serde_json::Value = r.json().await.expect("a JSON refusal");
        assert!(body["error"].is_string(), "{method} {path}: {body}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_that_sends_no_body_loses_its_place_and_one_address_holds_few() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = start(data.path(), |c| {
        c.http.max_uploads_per_address = 2;
    })
    .await;
    let head = "POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/pdf\r\n\
                Content-Length: 20000000\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n";
    // Two uploads from 127.0.0.5 hold that address's two places, each sending 16 KiB every
    // half second (above the minimum pace)...
    let mut feeders = Vec::new();
    for _ in 0..2 {
        let mut s = tcp_from(server.http_port, [127, 0, 0, 5]).await;
        s.write_all(head.as_bytes()).await.expect("head");
        let mut buf = [0u8; 256];
        let n = s.read(&mut buf).await.expect("100 Continue");
        assert!(buf[..n].starts_with(b"HTTP/1.1 100"));
        feeders.push(tokio::spawn(async move {
            let chunk = vec![b'%'; 16 * 1024];
            while s.write_all(&chunk).await.is_ok() {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }));
    }
    // ...so a third from there is refused at once, while another address is served.
    let mut third = tcp_from(server.http_port, [127, 0, 0, 5]).await;
    let answer = request(&mut third, head).await;
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(answer.contains("from your address"), "{answer}");
    let pdf = std::fs::read(segel_tests::corpus().join("reportlab-1page.pdf")).expect("corpus");
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/verify", server.base()))
        .header("content-type", "application/pdf")
        .body(pdf)
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status().as_u16(), 200);
    // An upload that sends no body at all loses its place: 408.
    let mut silent = tcp_from(server.http_port, [127, 0, 0, 6]).await;
    let answer = request(&mut silent, head).await;
    assert!(answer.starts_with("HTTP/1.1 100"), "{answer}");
    assert!(answer.contains("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("UPLOAD_TOO_SLOW"), "{answer}");
    for f in feeders {
        f.abort();
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_of_other_origins_may_call_the_apis() {
    let server = crate::grpc::start_web().await;
    let client = reqwest::Client::new();
    for (path, method) in [
        ("/api/v1/verify", "POST"),
        ("/api/v2/verify/pdf", "POST"),
        ("/api/v1/documents/NeverLoggedId_0123456", "GET"),
    ] {
        // The preflight a browser sends before a POST of application/pdf or JSON.
        let r = client
            .request(reqwest::Method::OPTIONS, format!("{}{path}", server.base()))
            .header("origin", "https://siola.example.go.id")
            .header("access-control-request-method", method)
            .header("access-control-request-headers", "content-type")
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status().as_u16(), 204, "{path}");
        let h = r.headers();
        assert_eq!(h["access-control-allow-origin"], "*", "{path}");
        assert_eq!(h["access-control-allow-methods"], method, "{path}");
        assert_eq!(h["access-control-allow-headers"], "content-type", "{path}");
    }
    // The answers themselves, refusals included, may be read by such a page.
    let r = client
        .post(format!("{}/api/v1/verify", server.base()))
        .header("content-type", "application/pdf")
        .body("not a pdf")
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    // The page is not an API: no such header there.
    let r = client.get(server.base()).send().await.expect("answer");
    assert!(r.headers().get("access-control-allow-origin").is_none());
    server.stop().await;
}

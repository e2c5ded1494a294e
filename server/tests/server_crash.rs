//! Crash test of the server: the `segel-server` binary is SIGKILLed while clients sign over
//! mutual TLS; after the kill, every signature a client received has its entry in the log
//! (same document hash, same message digest), and the log verifies. Repeated three times on the
//! same log.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use segel_proto::v1 as pb;
use segel_proto::v1::signer_client::SignerClient;
use segel_server::store::{check_dir, load_or_create_key, Log};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

fn config(dir: &Path, certs: &Path) -> std::path::PathBuf {
    let c = |f: &str| certs.join(f).display().to_string();
    let text = format!(
        r#"listen = "127.0.0.1:0"
data = "{data}"
trust_anchors = ["{root}"]
metrics_listen = "127.0.0.1:0"
[tls]
cert = "{cert}"
key = "{key}"
client_ca = "{ca}"
[[agency]]
id = "dev"
name = "Dev Agency"
key = "{akey}"
cert = "{acert}"
chain = "{achain}"
[[allow]]
client = "siola-dev"
agencies = ["dev"]
"#,
        data = dir.join("log").display(),
        root = c("doc-root.pem"),
        cert = c("server.pem"),
        key = c("server.key"),
        ca = c("tls-ca.pem"),
        akey = c("dev-agency.key"),
        acert = c("dev-agency.pem"),
        achain = c("dev-agency-chain.pem"),
    );
    let path = dir.join("segel.toml");
    std::fs::write(&path, text).expect("config");
    path
}

/// Start the server and read its port (and its metrics address) from what it prints.
fn spawn(config: &Path) -> (Child, u16) {
    let (child, port, _) = spawn_with_metrics(config);
    (child, port)
}

fn spawn_with_metrics(config: &Path) -> (Child, u16, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_segel-server"))
        .arg("--config")
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn segel-server");
    let out = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(out).lines();
    let mut metrics = String::new();
    let port = loop {
        let line = lines
            .next()
            .expect("the server printed its address")
            .expect("line");
        if let Some(rest) = line.strip_prefix("metrics on http://") {
            metrics = rest.trim_end_matches("/metrics").to_string();
        }
        if let Some(rest) = line.strip_prefix("segel-server listening on https://") {
            let addr = rest.split_whitespace().next().expect("addr");
            break addr
                .rsplit(':')
                .next()
                .expect("port")
                .parse()
                .expect("port number");
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, port, metrics)
}

async fn channel(port: u16, certs: &Path) -> Channel {
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(
            std::fs::read(certs.join("tls-ca.pem")).expect("ca"),
        ))
        .identity(Identity::from_pem(
            std::fs::read(certs.join("client.pem")).expect("cert"),
            std::fs::read(certs.join("client.key")).expect("key"),
        ))
        .domain_name("localhost");
    Channel::from_shared(format!("https://localhost:{port}"))
        .expect("uri")
        .tls_config(tls)
        .expect("tls")
        .connect()
        .await
        .expect("connect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_signature_received_is_in_the_log_after_sigkill() {
    let t = tempfile::tempdir().expect("tempdir");
    let certs = t.path().join("certs");
    segel_devpki::generate(&certs).expect("dev PKI");
    let cfg = config(t.path(), &certs);
    let pdf = pades::testing::synthetic_pdf(2, 20 * 1024);
    for round in 0..3u64 {
        let (mut child, port) = spawn(&cfg);
        let ch = channel(port, &certs).await;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<pb::SignPdfResponse>();
        let mut workers = Vec::new();
        for w in 0..8 {
            let mut client = SignerClient::new(ch.clone());
            let tx = tx.clone();
            let pdf = pdf.clone();
            workers.push(tokio::spawn(async move {
                for i in 0.. {
                    let req = pb::SignPdfRequest {
                        agency_id: "dev".into(),
                        pdf: pdf.clone().into(),
                        request_id: format!("r{round}-w{w}-{i}"),
                        document_ref: String::new(),
                        options: None,
                        size_hint: 0,
                        update_only: false,
                    };
                    match client.sign_pdf(req).await {
                        Ok(r) => {
                            if tx.send(r.into_inner()).is_err() {
                                break;
                            }
                        }
                        Err(_) => break, // the server is gone
                    }
                }
            }));
        }
        drop(tx);
        // Kill after a varying number of received signatures (at least one).
        let target = 5 + round as usize * 17;
        let mut received = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while received.len() < target && Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_secs(60), rx.recv()).await {
                Ok(Some(r)) => received.push(r),
                _ => break,
            }
        }
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        for w in workers {
            let _ = w.await;
        }
        while let Ok(r) = rx.try_recv() {
            received.push(r);
        }
        assert!(!received.is_empty(), "round {round}: no signature received");
        let data = t.path().join("log");
        check_dir(&data).unwrap_or_else(|e| panic!("round {round}: the log does not verify: {e}"));
        let log = Log::open(
            &data,
            "segel.dev/log",
            load_or_create_key(&data, "segel.dev/log").expect("key"),
        )
        .expect("reopen");
        for r in &received {
            let e = r.entry.as_ref().expect("entry");
            let stored = log
                .entry(e.index)
                .expect("read")
                .unwrap_or_else(|| panic!("round {round}: entry {} lost", e.index));
            assert_eq!(
                stored.encode().expect("encode"),
                e.record,
                "round {round}: entry {} changed",
                e.index
            );
            // The entry names the PDF the client received.
            let doc = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &r.signed_pdf);
            assert_eq!(stored.document_sha256.as_slice(), doc.as_ref());
        }
        eprintln!(
            "round {round}: {} signatures received before SIGKILL, log size {}",
            received.len(),
            log.size()
        );
        log.close();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_signatures_and_log_size() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let t = tempfile::tempdir().expect("tempdir");
    let certs = t.path().join("certs");
    segel_devpki::generate(&certs).expect("dev PKI");
    let cfg = config(t.path(), &certs);
    let (mut child, port, metrics) = spawn_with_metrics(&cfg);
    let mut client = SignerClient::new(channel(port, &certs).await);
    let pdf = pades::testing::synthetic_pdf(1, 1000);
    for i in 0..3 {
        client
            .sign_pdf(pb::SignPdfRequest {
                agency_id: "dev".into(),
                pdf: pdf.clone().into(),
                request_id: format!("metrics-{i}"),
                ..Default::default()
            })
            .await
            .expect("signed");
    }
    let e = client
        .sign_pdf(pb::SignPdfRequest {
            agency_id: "dev".into(),
            pdf: b"not a pdf".to_vec().into(),
            request_id: "metrics-bad".into(),
            ..Default::default()
        })
        .await
        .expect_err("refused");
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    // A streamed signature and a digest signature count too.
    use pb::sign_pdf_stream_request::Part;
    let parts = vec![
        pb::SignPdfStreamRequest {
            part: Some(Part::Metadata(pb::SignPdfRequest {
                agency_id: "dev".into(),
                request_id: "metrics-stream".into(),
                update_only: true,
                ..Default::default()
            })),
        },
        pb::SignPdfStreamRequest {
            part: Some(Part::Chunk(pdf.clone().into())),
        },
    ];
    let mut answer = client
        .sign_pdf_stream(tokio_stream::iter(parts))
        .await
        .expect("streamed")
        .into_inner();
    while answer.message().await.expect("answer").is_some() {}
    let time = pades::UnixTime::now();
    let prepared =
        pades::prepare(&pdf, &pades::SignatureRequest::new(time), 16 * 1024).expect("prepare");
    client
        .sign_digest(pb::SignDigestRequest {
            agency_id: "dev".into(),
            message_digest: prepared.digest().to_vec(),
            request_id: "metrics-digest".into(),
            signing_time: time.0,
            ..Default::default()
        })
        .await
        .expect("digest signed");
    // A made-up agency is counted under `unknown`, not under a label the caller chose.
    let e = client
        .sign_pdf(pb::SignPdfRequest {
            agency_id: "made-up-agency".into(),
            pdf: pdf.clone().into(),
            request_id: "metrics-unknown".into(),
            ..Default::default()
        })
        .await
        .expect_err("refused");
    assert_eq!(e.code(), tonic::Code::NotFound);
    let mut sock = tokio::net::TcpStream::connect(&metrics)
        .await
        .expect("metrics port");
    sock.write_all(b"GET /metrics HTTP/1.0\r\n\r\n")
        .await
        .expect("request");
    let mut text = String::new();
    sock.read_to_string(&mut text).await.expect("response");
    child.kill().expect("kill");
    let _ = child.wait();
    assert!(text.starts_with("HTTP/1.0 200 OK"), "{text}");
    let line = |needle: &str| {
        text.lines()
            .find(|l| {
                l.starts_with(needle) && l.contains("outcome=\"ok\"")
                    || l.starts_with(needle) && !needle.contains("total")
            })
            .map(str::to_string)
    };
    let ok = line("segel_signatures_total").expect("signatures counter");
    assert!(
        ok.ends_with(" 5"),
        "three unary, one streamed, one digest: {ok}"
    );
    assert!(text.contains("outcome=\"InvalidArgument\""), "{text}");
    assert!(
        text.contains("agency=\"unknown\"") && !text.contains("made-up-agency"),
        "{text}"
    );
    let size = line("segel_log_size").expect("log size gauge");
    assert!(size.ends_with(" 5"), "{size}");
    assert!(text.contains("segel_commit_batch_size"), "{text}");
}

//! Refusals a program can act on: the reason in each status's `google.rpc.ErrorInfo` for the
//! refusals `grpc.rs` does not cover, `request_id` required on every signing call (and made by
//! the client library and the CLI when the user gives none), a unary answer over 4 MiB refused
//! before signing, the client library's `Refused { reason }`, and reflection `v1alpha`.

use segel_client::online::{Client, SignRequest};
use segel_client::ClientError;
use segel_proto::v1 as pb;
use segel_proto::v1::{log_client::LogClient, signer_client::SignerClient};
use segel_tests::corpus;
use tonic::Code;

use crate::client::{cli, log_size, output, settings, text};
use crate::grpc::{assert_refused, start};

fn sign_request(pdf: Vec<u8>, request_id: &str) -> pb::SignPdfRequest {
    pb::SignPdfRequest {
        agency_id: "dev".into(),
        pdf: pdf.into(),
        request_id: request_id.into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_without_a_request_id_is_refused_on_every_call_and_nothing_is_logged() {
    use pb::sign_pdf_stream_request::Part;
    let server = start(4 * 1024 * 1024).await;
    let mut signer = SignerClient::new(server.channel(Some("client")).await);
    let pdf = std::fs::read(corpus().join("reportlab-1page.pdf")).expect("corpus");
    let e = signer
        .sign_pdf(sign_request(pdf.clone(), ""))
        .await
        .expect_err("refused");
    assert_refused(&e, Code::InvalidArgument, "REQUEST_ID_REQUIRED");
    assert!(e.message().contains("a second time"), "{}", e.message());
    let parts = vec![
        pb::SignPdfStreamRequest {
            part: Some(Part::Metadata(sign_request(Vec::new(), ""))),
        },
        pb::SignPdfStreamRequest {
            part: Some(Part::Chunk(pdf.clone().into())),
        },
    ];
    let e = match signer.sign_pdf_stream(tokio_stream::iter(parts)).await {
        Err(s) => s,
        Ok(r) => r.into_inner().message().await.expect_err("refused"),
    };
    assert_refused(&e, Code::InvalidArgument, "REQUEST_ID_REQUIRED");
    let e = signer
        .sign_digest(pb::SignDigestRequest {
            agency_id: "dev".into(),
            message_digest: vec![7; 32],
            ..Default::default()
        })
        .await
        .expect_err("refused");
    assert_refused(&e, Code::InvalidArgument, "REQUEST_ID_REQUIRED");
    assert_eq!(log_size(&server).await, 0, "nothing logged");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unary_answer_over_4_mib_is_refused_before_signing() {
    use pb::sign_pdf_stream_request::Part;
    let server = start(8 * 1024 * 1024).await;
    let mut signer = SignerClient::new(server.channel(Some("client")).await);
    let pdf = pades::testing::synthetic_pdf(2, 4_500_000);
    assert!(pdf.len() >= 4_500_000);
    // The whole signed document in one message: more than a stock client receives.
    let e = signer
        .sign_pdf(sign_request(pdf.clone(), "large-1"))
        .await
        .expect_err("refused");
    assert_refused(&e, Code::ResourceExhausted, "ANSWER_TOO_LARGE");
    assert!(
        e.message().contains("update_only") && e.message().contains("SignPdfStream"),
        "{}",
        e.message()
    );
    assert_eq!(log_size(&server).await, 0, "refused before signing");
    // The update alone, unary: accepted, under the same id (the refusal left no record).
    let only = signer
        .sign_pdf(pb::SignPdfRequest {
            update_only: true,
            ..sign_request(pdf.clone(), "large-1")
        })
        .await
        .expect("the update alone fits")
        .into_inner();
    assert!(only.signed_pdf.is_empty() && !only.update.is_empty());
    assert!(only.update.len() < 64 * 1024, "{}", only.update.len());
    // Streamed, the whole document: accepted.
    let mut parts = vec![pb::SignPdfStreamRequest {
        part: Some(Part::Metadata(pb::SignPdfRequest {
            size_hint: pdf.len() as u64,
            ..sign_request(Vec::new(), "large-2")
        })),
    }];
    for c in pdf.chunks(1 << 20) {
        parts.push(pb::SignPdfStreamRequest {
            part: Some(Part::Chunk(c.to_vec().into())),
        });
    }
    let mut answer = signer
        .sign_pdf_stream(tokio_stream::iter(parts))
        .await
        .expect("streamed")
        .into_inner();
    let mut chunks = 0;
    while let Some(m) = answer.message().await.expect("answer") {
        chunks += usize::from(matches!(
            m.part,
            Some(pb::sign_pdf_stream_response::Part::Chunk(_))
        ));
    }
    assert!(chunks >= 5, "the signed document came back in chunks");
    assert_eq!(log_size(&server).await, 2);
    server.stop().await;
}

/// A one-page PDF of exactly `total` bytes whose page dictionary carries a `big`-byte string
/// (the signer rewrites that page whole in its update), padded with an unused stream.
fn pdf_with_a_big_page(total: usize, big: usize) -> Vec<u8> {
    let build = |pad: usize| {
        let mut out = b"%PDF-1.7\n".to_vec();
        let mut offsets = Vec::new();
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Note ({}) >>",
                "a".repeat(big)
            ),
            format!(
                "<< /Length {pad} >>\nstream\n{}\nendstream",
                "p".repeat(pad)
            ),
        ];
        for (i, o) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(b"xref\n0 5\n0000000000 65535 f \n");
        for o in offsets {
            out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!("trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
        );
        out
    };
    let mut pad = total - build(0).len();
    while build(pad).len() != total {
        pad -= build(pad).len() - total;
    }
    build(pad)
}

/// The size check before signing assumes an ordinary update; a document whose update is larger
/// (a page carrying a large dictionary is rewritten whole) is measured once signed, and
/// refused before it is logged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_answer_over_4_mib_is_refused_before_it_is_logged() {
    let server = start(8 * 1024 * 1024).await;
    let mut signer = SignerClient::new(server.channel(Some("client")).await);
    let total = segel_server::command::MAX_UNARY_ANSWER - segel_server::command::ANSWER_ALLOWANCE;
    let pdf = pdf_with_a_big_page(total, 300 * 1024);
    assert_eq!(pdf.len(), total, "passes the check before signing");
    let e = signer
        .sign_pdf(sign_request(pdf.clone(), "big-page"))
        .await
        .expect_err("refused");
    assert_refused(&e, Code::ResourceExhausted, "ANSWER_TOO_LARGE");
    assert_eq!(log_size(&server).await, 0, "nothing logged");
    let only = signer
        .sign_pdf(pb::SignPdfRequest {
            update_only: true,
            ..sign_request(pdf, "big-page")
        })
        .await
        .expect("the update alone fits")
        .into_inner();
    assert!(
        only.update.len() > 300 * 1024,
        "the page was rewritten whole"
    );
    assert_eq!(log_size(&server).await, 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_and_idempotency_refusals_carry_their_reason() {
    let server = start(4 * 1024 * 1024).await;
    let mut signer = SignerClient::new(server.channel(Some("client")).await);
    let pdf = std::fs::read(corpus().join("reportlab-1page.pdf")).expect("corpus");
    signer
        .sign_pdf(sign_request(pdf.clone(), "once"))
        .await
        .expect("signed");
    let other = std::fs::read(corpus().join("surat-rekomendasi.pdf")).expect("corpus");
    let e = signer
        .sign_pdf(sign_request(other, "once"))
        .await
        .expect_err("another document under the same id");
    assert_refused(&e, Code::AlreadyExists, "REQUEST_ID_REUSED");
    let e = signer
        .sign_pdf(pb::SignPdfRequest {
            agency_id: "d".repeat(65),
            ..sign_request(pdf, "long")
        })
        .await
        .expect_err("long agency");
    assert_refused(&e, Code::InvalidArgument, "FIELD_TOO_LONG");
    let mut log = LogClient::new(server.channel(None).await);
    let e = log
        .get_entry(pb::GetEntryRequest {
            key: Some(pb::get_entry_request::Key::Index(7)),
        })
        .await
        .expect_err("no entry 7");
    assert_refused(&e, Code::NotFound, "ENTRY_NOT_FOUND");
    let e = log
        .get_entry(pb::GetEntryRequest { key: None })
        .await
        .expect_err("no key");
    assert_refused(&e, Code::InvalidArgument, "INVALID_REQUEST");
    let e = log
        .get_inclusion_proof(pb::GetInclusionProofRequest {
            index: 0,
            tree_size: 5,
        })
        .await
        .expect_err("beyond");
    assert_refused(&e, Code::OutOfRange, "BEYOND_LOG_SIZE");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_library_reads_the_reason_and_makes_request_ids() {
    let server = start(4 * 1024 * 1024).await;
    let work = tempfile::tempdir().expect("tempdir");
    let client = Client::connect(&settings(&server, &work.path().join("state")))
        .await
        .expect("connect");
    let enc = std::fs::read(corpus().join("bad/password-protected.pdf")).expect("corpus");
    let e = client
        .sign_pdf(&SignRequest::new("dev"), enc.into())
        .await
        .expect_err("encrypted");
    match &e {
        ClientError::Refused { code, reason, .. } => {
            assert_eq!(*code, Code::InvalidArgument);
            assert_eq!(reason.as_deref(), Some("ENCRYPTED_PDF"));
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("(ENCRYPTED_PDF)"), "{e}");
    // No id given: each call makes its own, so the same document twice is two signatures.
    let pdf = std::fs::read(corpus().join("reportlab-1page.pdf")).expect("corpus");
    let req = SignRequest::new("dev");
    let a = client.sign_pdf(&req, pdf.clone().into()).await.expect("a");
    let b = client.sign_pdf(&req, pdf.clone().into()).await.expect("b");
    assert_ne!(a.entry.index, b.entry.index);
    // An id given: the retry is answered with the first entry.
    let mut req = SignRequest::new("dev");
    req.request_id = "lib-1".into();
    let c = client.sign_pdf(&req, pdf.clone().into()).await.expect("c");
    let d = client.sign_pdf(&req, pdf.into()).await.expect("d");
    assert_eq!(c.entry.index, d.entry.index);
    drop(client);
    // The CLI without --request-id: each run signs anew (its own id), and succeeds.
    let before = log_size(&server).await;
    for n in 0..2 {
        let mut c = cli(&server, &work.path().join("state"));
        c.args(["sign", "--agency", "dev"])
            .arg(corpus().join("reportlab-1page.pdf"))
            .arg("-o")
            .arg(work.path().join(format!("out-{n}.pdf")));
        let o = output(c).await;
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    assert_eq!(log_size(&server).await, before + 2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_v1alpha_lists_the_services() {
    use tonic_reflection::pb::v1alpha::{
        server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
        ServerReflectionRequest,
    };
    let server = start(1024 * 1024).await;
    let mut reflection = ServerReflectionClient::new(server.channel(None).await);
    let ask = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = reflection
        .server_reflection_info(tokio_stream::iter(vec![ask]))
        .await
        .expect("v1alpha served")
        .into_inner();
    let answer = answers
        .message()
        .await
        .expect("answer")
        .expect("one answer");
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("not a service list: {answer:?}");
    };
    let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
    for want in ["segel.v1.Signer", "segel.v1.Verifier", "segel.v1.Log"] {
        assert!(names.contains(&want), "{names:?}");
    }
    server.stop().await;
}

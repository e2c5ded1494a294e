//! A fake server, validly signed by its own key, lying about its tree: the client library
//! refuses its tampered checkpoints and proofs, and links honest ones through the proofs its
//! answers carry.

use std::sync::{Arc, Mutex};

use segel_client::online::{Client, EntryKey, SignRequest};
use segel_client::settings::Settings;
use segel_client::ClientError;
use segel_proto::v1 as pb;
use segel_tests::{corpus, pki};
use tonic::{Request, Response, Status};

#[derive(Clone)]
struct Fake {
    signer: Arc<tlog::NoteSigner>,
    /// Checkpoints handed out by GetCheckpoint, in turn (the last one repeats).
    checkpoints: Arc<Mutex<Vec<pb::Checkpoint>>>,
    /// The consistency proof it gives, whatever is asked.
    consistency: Vec<Vec<u8>>,
    /// SignPdf's answer: (entry, checkpoint note, inclusion proof hashes, tree size).
    signed: Option<(pb::LogEntry, String, Vec<Vec<u8>>, u64)>,
    /// SignPdf's answers in turn, before `signed` (their `signed_pdf` is filled in).
    answers: Arc<Mutex<Vec<pb::SignPdfResponse>>>,
}

impl Fake {
    fn note(&self, size: u64, root: tlog::Hash) -> String {
        let cp = tlog::Checkpoint {
            origin: self.signer.verifier().name().to_string(),
            size,
            root,
            extensions: Vec::new(),
        };
        self.signer.sign(&cp.to_text()).expect("sign note")
    }
    fn cp(&self, note: String) -> pb::Checkpoint {
        pb::Checkpoint {
            note,
            verifier_key: self.signer.verifier().to_vkey(),
        }
    }
}

#[tonic::async_trait]
impl pb::log_server::Log for Fake {
    async fn get_checkpoint(
        &self,
        _: Request<pb::GetCheckpointRequest>,
    ) -> Result<Response<pb::Checkpoint>, Status> {
        let mut q = self.checkpoints.lock().expect("lock");
        let cp = if q.len() > 1 {
            q.remove(0)
        } else {
            q[0].clone()
        };
        Ok(Response::new(cp))
    }
    /// The signed entry, whatever is asked.
    async fn get_entry(
        &self,
        _: Request<pb::GetEntryRequest>,
    ) -> Result<Response<pb::GetEntryResponse>, Status> {
        let (entry, ..) = self.signed.clone().ok_or(Status::unimplemented("fake"))?;
        Ok(Response::new(pb::GetEntryResponse {
            entries: vec![entry],
        }))
    }
    /// The signed entry's proof, whatever is asked.
    async fn get_inclusion_proof(
        &self,
        _: Request<pb::GetInclusionProofRequest>,
    ) -> Result<Response<pb::InclusionProof>, Status> {
        let (entry, _, hashes, size) = self.signed.clone().ok_or(Status::unimplemented("fake"))?;
        Ok(Response::new(pb::InclusionProof {
            leaf_index: entry.index,
            tree_size: size,
            hashes,
        }))
    }
    async fn get_consistency_proof(
        &self,
        r: Request<pb::GetConsistencyProofRequest>,
    ) -> Result<Response<pb::ConsistencyProof>, Status> {
        let r = r.into_inner();
        Ok(Response::new(pb::ConsistencyProof {
            old_size: r.old_size,
            new_size: r.new_size,
            hashes: self.consistency.clone(),
        }))
    }
}

type Chunks = std::pin::Pin<
    Box<dyn tokio_stream::Stream<Item = Result<pb::SignPdfStreamResponse, Status>> + Send>,
>;

#[tonic::async_trait]
impl pb::signer_server::Signer for Fake {
    async fn sign_pdf(
        &self,
        r: Request<pb::SignPdfRequest>,
    ) -> Result<Response<pb::SignPdfResponse>, Status> {
        let mut pdf = r.into_inner().pdf.to_vec();
        pdf.extend_from_slice(b"\n% fake update\n");
        {
            let mut q = self.answers.lock().expect("lock");
            if !q.is_empty() {
                let mut a = q.remove(0);
                a.signed_pdf = pdf.into();
                return Ok(Response::new(a));
            }
        }
        let (entry, note, hashes, size) = self.signed.clone().ok_or(Status::internal("no"))?;
        // The whole signed PDF, whatever was asked (a server may ignore `update_only`).
        Ok(Response::new(pb::SignPdfResponse {
            signed_pdf: pdf.into(),
            update: Default::default(),
            document_id: String::new(),
            inclusion_proof: Some(pb::InclusionProof {
                leaf_index: entry.index,
                tree_size: size,
                hashes,
            }),
            entry: Some(entry),
            checkpoint: Some(self.cp(note)),
            consistency_proof: None,
        }))
    }
    type SignPdfStreamStream = Chunks;
    async fn sign_pdf_stream(
        &self,
        _: Request<tonic::Streaming<pb::SignPdfStreamRequest>>,
    ) -> Result<Response<Chunks>, Status> {
        Err(Status::unimplemented("fake"))
    }
    async fn sign_digest(
        &self,
        _: Request<pb::SignDigestRequest>,
    ) -> Result<Response<pb::SignDigestResponse>, Status> {
        Err(Status::unimplemented("fake"))
    }
    async fn list_agencies(
        &self,
        _: Request<pb::ListAgenciesRequest>,
    ) -> Result<Response<pb::ListAgenciesResponse>, Status> {
        Ok(Response::new(pb::ListAgenciesResponse::default()))
    }
}

/// Serve `fake` over TLS with the development server certificate; returns its port.
async fn serve_fake(fake: Fake) -> u16 {
    use tonic::transport::{Identity, Server, ServerTlsConfig};
    let p = pki();
    let tls = ServerTlsConfig::new().identity(Identity::from_pem(
        std::fs::read(p.file("server.pem")).expect("cert"),
        std::fs::read(p.file("server.key")).expect("key"),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let _ = Server::builder()
            .tls_config(tls)
            .expect("tls")
            .add_service(pb::log_server::LogServer::new(fake.clone()))
            .add_service(pb::signer_server::SignerServer::new(fake))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await;
    });
    port
}

/// The size of the newest checkpoint `client` has accepted.
async fn newest_size(client: &Client) -> u64 {
    client
        .view()
        .await
        .newest()
        .expect("newest")
        .checkpoint
        .size
}

/// A refusal for a consistency proof from size 2 to size 3 that does not check out.
fn inconsistent_2_to_3(e: &ClientError) -> bool {
    matches!(
        e,
        ClientError::Log {
            source: segel_client::logcheck::LogCheckError::Inconsistent { old: 2, new: 3, .. },
            ..
        }
    )
}

fn record(index: u64, pdf: &[u8]) -> Vec<u8> {
    tlog::LogEntry {
        index,
        time_ms: 1_796_000_000_000,
        agency: "dev".into(),
        certificate_sha256: [1; 32],
        caller: "CN=siola-dev".into(),
        message_digest: [2; 32],
        signature_sha256: [3; 32],
        document_sha256: pades::sha256(pdf),
        document_source: tlog::DocumentSource::Server,
        document_ref: None,
        document_ref_hmac: None,
        document_id_sha256: tlog::DocumentIdHash::Absent,
    }
    .encode()
    .expect("record")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_server_is_caught_by_the_client() {
    let (signer, _) = tlog::NoteSigner::generate("fake.example/log").expect("key");
    let signer = Arc::new(signer);
    let work = tempfile::tempdir().expect("tempdir");
    let leaf = |b: &[u8]| tlog::leaf_hash(b);
    let (a0, a1) = (leaf(b"a0"), leaf(b"a1"));
    let (b0, b1, b2) = (leaf(b"b0"), leaf(b"b1"), leaf(b"b2"));
    let root_a = tlog::node_hash(&a0, &a1);
    let root_b = tlog::node_hash(&tlog::node_hash(&b0, &b1), &b2);
    let base = Fake {
        signer: signer.clone(),
        checkpoints: Arc::new(Mutex::new(Vec::new())),
        consistency: vec![b2.to_vec()],
        signed: None,
        answers: Arc::new(Mutex::new(Vec::new())),
    };
    let connect = |port: u16, state: &str| {
        let p = pki();
        let s = Settings {
            server: Some(format!("https://localhost:{port}")),
            ca: Some(p.file("tls-ca.pem")),
            cert: Some(p.file("client.pem")),
            key: Some(p.file("client.key")),
            log_key: Some(signer.verifier().to_vkey()),
            state: Some(work.path().join(state)),
        };
        async move { Client::connect(&s).await }
    };
    // 1. A history rewritten: size 2 (tree A), then size 3 of another tree (B), with B's own
    //    consistency proof: refused.
    let fake = base.clone();
    *fake.checkpoints.lock().expect("lock") =
        vec![fake.cp(fake.note(2, root_a)), fake.cp(fake.note(3, root_b))];
    let port = serve_fake(fake).await;
    let client = connect(port, "s1").await.expect("first checkpoint is fine");
    let e = client.checkpoint().await.expect_err("rewritten history");
    assert!(inconsistent_2_to_3(&e), "{e}");
    // The newest accepted checkpoint stays the first one, in memory and on disk: a new
    // client with the same state refuses tree B too.
    assert_eq!(newest_size(&client).await, 2);
    let e = connect(port, "s1")
        .await
        .expect_err("remembered across runs");
    assert!(
        e.to_string().contains("consistency from size 2 to 3"),
        "{e}"
    );

    // 2. Two trees of the same size shown in turn: a fork.
    let fake = base.clone();
    let other = tlog::node_hash(&b0, &b1);
    *fake.checkpoints.lock().expect("lock") =
        vec![fake.cp(fake.note(2, root_a)), fake.cp(fake.note(2, other))];
    let port = serve_fake(fake).await;
    let client = connect(port, "s2").await.expect("first");
    let e = client.checkpoint().await.expect_err("fork");
    assert!(e.to_string().contains("forked"), "{e}");

    // 3. A checkpoint whose text was changed after signing.
    let fake = base.clone();
    let forged = fake.note(2, root_a).replacen("\n2\n", "\n5\n", 1);
    *fake.checkpoints.lock().expect("lock") = vec![fake.cp(forged)];
    let port = serve_fake(fake).await;
    let e = connect(port, "s3").await.expect_err("forged note");
    assert!(e.to_string().contains("checkpoint"), "{e}");

    // 4. A signing answer whose inclusion proof was tampered with: refused; and one whose
    //    entry does not hash the returned PDF: refused.
    let input = std::fs::read(corpus().join("surat-rekomendasi.pdf")).expect("corpus");
    let mut signed_pdf = input.clone();
    signed_pdf.extend_from_slice(b"\n% fake update\n");
    let rec = record(1, &signed_pdf);
    let l0 = leaf(b"earlier entry");
    let l1 = tlog::leaf_hash(&rec);
    let root = tlog::node_hash(&l0, &l1);
    let entry = pb::LogEntry {
        index: 1,
        leaf_hash: l1.to_vec(),
        record: rec,
    };
    for (hashes, what) in [
        (vec![l0.to_vec()], "honest"),
        (vec![leaf(b"tampered").to_vec()], "tampered proof"),
    ] {
        let mut fake = base.clone();
        let note = fake.note(2, root);
        *fake.checkpoints.lock().expect("lock") = vec![fake.cp(note.clone())];
        fake.signed = Some((entry.clone(), note, hashes, 2));
        let port = serve_fake(fake).await;
        let client = connect(port, &format!("s4-{what}")).await.expect("connect");
        let r = client
            .sign_pdf(&SignRequest::new("dev"), input.clone().into())
            .await;
        match what {
            "honest" => {
                let sealed = r.expect("an honest answer is accepted");
                assert_eq!(sealed.entry.index, 1);
                // Lookups answered with a valid entry, but not the one asked for: refused.
                let got = client.entries(EntryKey::Index(1)).await.expect("asked for");
                assert_eq!(got[0].index, 1);
                let by_doc = EntryKey::DocumentSha256(pades::sha256(&signed_pdf).to_vec());
                assert_eq!(client.entries(by_doc).await.expect("its document").len(), 1);
                for key in [
                    EntryKey::Index(0),
                    EntryKey::DocumentSha256(pades::sha256(b"another").to_vec()),
                    EntryKey::SignatureSha256(vec![9; 32]),
                ] {
                    let e = client
                        .entries(key.clone())
                        .await
                        .expect_err("another entry");
                    assert!(
                        e.to_string().contains("is not one asked for"),
                        "{key:?}: {e}"
                    );
                }
            }
            _ => {
                let e = r.expect_err(what);
                assert!(e.to_string().contains("inclusion proof"), "{what}: {e}");
            }
        }
    }
    let mut fake = base.clone();
    let wrong = record(1, b"another document");
    let lw = tlog::leaf_hash(&wrong);
    let root_w = tlog::node_hash(&l0, &lw);
    let note = fake.note(2, root_w);
    *fake.checkpoints.lock().expect("lock") = vec![fake.cp(note.clone())];
    fake.signed = Some((
        pb::LogEntry {
            index: 1,
            leaf_hash: lw.to_vec(),
            record: wrong,
        },
        note,
        vec![l0.to_vec()],
        2,
    ));
    let port = serve_fake(fake).await;
    let client = connect(port, "s5").await.expect("connect");
    let e = client
        .sign_pdf(&SignRequest::new("dev"), input.into())
        .await
        .expect_err("entry for another document");
    assert!(
        e.to_string().contains("does not hash the signed PDF"),
        "{e}"
    );

    // 5. A server presenting another log key than the pinned one.
    let (other_signer, _) = tlog::NoteSigner::generate("fake.example/log").expect("key");
    let mut fake = base.clone();
    fake.signer = Arc::new(other_signer);
    let note = fake.note(2, root_a);
    *fake.checkpoints.lock().expect("lock") = vec![fake.cp(note)];
    let port = serve_fake(fake).await;
    let e = connect(port, "s6").await.expect_err("other key");
    assert!(e.to_string().contains("log key"), "{e}");

    // 6. Trusted on first use (no pinned key): the key is kept per server, and the same
    //    server later presenting another key is refused, saying where the trusted key is kept.
    let (second, _) = tlog::NoteSigner::generate("fake.example/log").expect("key");
    let fake = base.clone();
    let mut by_second = base.clone();
    by_second.signer = Arc::new(second);
    *fake.checkpoints.lock().expect("lock") = vec![
        fake.cp(fake.note(2, root_a)),
        by_second.cp(by_second.note(2, root_a)),
    ];
    let port = serve_fake(fake).await;
    let p = pki();
    let tofu = Settings {
        server: Some(format!("https://localhost:{port}")),
        ca: Some(p.file("tls-ca.pem")),
        cert: None,
        key: None,
        log_key: None,
        state: Some(work.path().join("s7")),
    };
    let first = Client::connect(&tofu).await.expect("first use");
    assert_eq!(
        first.view().await.verifier_key(),
        signer.verifier().to_vkey()
    );
    drop(first);
    let e = Client::connect(&tofu).await.expect_err("key changed");
    assert!(e.to_string().contains("trusted on first use"), "{e}");

    // 7. Consistency proofs carried by signing answers (from the log's previous checkpoint):
    //    used instead of a request when they link the sizes needed, kept for an older
    //    checkpoint arriving later, and checked like fetched ones. Tree: L0, L1 (entry 1),
    //    L2 (entry 2).
    let signed_input = std::fs::read(corpus().join("surat-rekomendasi.pdf")).expect("corpus");
    let mut out = signed_input.clone();
    out.extend_from_slice(b"\n% fake update\n");
    let (rec1, rec2) = (record(1, &out), record(2, &out));
    let (l0, l1, l2) = (
        leaf(b"earlier entry"),
        tlog::leaf_hash(&rec1),
        tlog::leaf_hash(&rec2),
    );
    let h01 = tlog::node_hash(&l0, &l1);
    let root3 = tlog::node_hash(&h01, &l2);
    let consistency = |old: u64, new: u64, hashes: &[tlog::Hash]| pb::ConsistencyProof {
        old_size: old,
        new_size: new,
        hashes: hashes.iter().map(|h| h.to_vec()).collect(),
    };
    let answer =
        |fake: &Fake, index: u64, rec: &[u8], size: u64, root, path: &[tlog::Hash], offered| {
            pb::SignPdfResponse {
                signed_pdf: Default::default(),
                update: Default::default(),
                document_id: String::new(),
                entry: Some(pb::LogEntry {
                    index,
                    leaf_hash: tlog::leaf_hash(rec).to_vec(),
                    record: rec.to_vec(),
                }),
                checkpoint: Some(fake.cp(fake.note(size, root))),
                inclusion_proof: Some(pb::InclusionProof {
                    leaf_index: index,
                    tree_size: size,
                    hashes: path.iter().map(|h| h.to_vec()).collect(),
                }),
                consistency_proof: offered,
            }
        };
    // Entry 2 with checkpoint 3, carrying `path` as its proof from size 2.
    let answer2 = |fake: &Fake, path: tlog::Hash| {
        answer(
            fake,
            2,
            &rec2,
            3,
            root3,
            &[h01],
            Some(consistency(2, 3, &[path])),
        )
    };
    // The client knows size 1. Entry 2 comes with checkpoint 3 and the proof 2 → 3 (not the
    // 1 → 3 needed: fetched, honestly); then entry 1 with the older checkpoint 2, linked to 3
    // through the kept proof 2 → 3, with no request.
    let mut fake = base.clone();
    fake.consistency = vec![l1.to_vec(), l2.to_vec()];
    *fake.checkpoints.lock().expect("lock") = vec![fake.cp(fake.note(1, l0))];
    *fake.answers.lock().expect("lock") = vec![
        answer2(&fake, l2),
        answer(
            &fake,
            1,
            &rec1,
            2,
            h01,
            &[l0],
            Some(consistency(1, 2, &[l1])),
        ),
    ];
    let port = serve_fake(fake).await;
    let client = connect(port, "s8").await.expect("connect");
    for index in [2, 1] {
        let sealed = client
            .sign_pdf(&SignRequest::new("dev"), signed_input.clone().into())
            .await
            .unwrap_or_else(|e| panic!("entry {index}: {e}"));
        assert_eq!(sealed.entry.index, index);
    }
    assert_eq!(client.consistency_proofs_fetched(), 1);
    assert_eq!(newest_size(&client).await, 3);
    // The client knows size 2: the carried proof 2 → 3 is used (the fake's own answer to a
    // request would not check out), and a tampered one is refused.
    for (path, what) in [(l2, "carried"), (leaf(b"tampered"), "tampered")] {
        let fake = base.clone();
        *fake.checkpoints.lock().expect("lock") = vec![fake.cp(fake.note(2, h01))];
        *fake.answers.lock().expect("lock") = vec![answer2(&fake, path)];
        let port = serve_fake(fake).await;
        let client = connect(port, &format!("s9-{what}")).await.expect("connect");
        let r = client
            .sign_pdf(&SignRequest::new("dev"), signed_input.clone().into())
            .await;
        assert_eq!(client.consistency_proofs_fetched(), 0, "{what}");
        match what {
            "carried" => assert_eq!(r.expect(what).entry.index, 2),
            _ => {
                let e = r.expect_err(what);
                assert!(inconsistent_2_to_3(&e), "{e}");
            }
        }
    }
    // A kept proof cannot vouch for a fork: after checkpoint 3 (reached by a fetched proof
    // 1 → 3, carrying 2 → 3), a checkpoint of size 2 with another root is refused.
    let mut fake = base.clone();
    fake.consistency = vec![l1.to_vec(), l2.to_vec()];
    let forked = tlog::node_hash(&l0, &leaf(b"another entry 1"));
    *fake.checkpoints.lock().expect("lock") = vec![fake.cp(fake.note(1, l0))];
    *fake.answers.lock().expect("lock") = vec![
        answer2(&fake, l2),
        answer(&fake, 1, &rec1, 2, forked, &[l0], None),
    ];
    let port = serve_fake(fake).await;
    let client = connect(port, "s10").await.expect("connect");
    client
        .sign_pdf(&SignRequest::new("dev"), signed_input.clone().into())
        .await
        .expect("entry 2");
    let e = client
        .sign_pdf(&SignRequest::new("dev"), signed_input.into())
        .await
        .expect_err("fork at size 2");
    assert!(inconsistent_2_to_3(&e), "{e}");
}

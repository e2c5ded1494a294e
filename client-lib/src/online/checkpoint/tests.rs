//! The transitions of the checkpoint state machine, honest and hostile.

use std::sync::atomic::AtomicUsize;

use super::*;
use crate::logcheck::testing::Honest;

fn signed(log: &Honest, size: usize) -> SignedCheckpoint {
    SignedCheckpoint {
        note: log.note(size),
        verifier_key: log.signer.verifier().to_vkey(),
    }
}

fn key(log: &Honest) -> String {
    log.signer.verifier().to_vkey()
}

/// The same key signing other leaves: a second history.
fn forged(honest: &Honest, n: usize) -> Honest {
    Honest {
        signer: honest.signer.clone(),
        leaves: (0..n)
            .map(|i| tlog::leaf_hash(format!("forged {i}").as_bytes()))
            .collect(),
    }
}

/// A server's proofs from `log`, counting the requests.
struct Server<'a> {
    log: &'a Honest,
    asked: AtomicUsize,
}

impl<'a> Server<'a> {
    fn new(log: &'a Honest) -> Self {
        Self {
            log,
            asked: AtomicUsize::new(0),
        }
    }

    fn fetch(
        &self,
    ) -> impl Fn(u64, u64) -> std::future::Ready<Result<ConsistencyProof, ClientError>> + '_ {
        move |old, new| {
            self.asked.fetch_add(1, Ordering::SeqCst);
            std::future::ready(Ok(self.log.consistency(old as usize, new as usize)))
        }
    }

    fn asked(&self) -> usize {
        self.asked.load(Ordering::SeqCst)
    }
}

/// Checkpoints trusting `log`'s key with nothing kept, after observing `log`'s `size`.
async fn seen(log: &Honest, size: usize) -> Checkpoints {
    let cp = signed(log, size);
    let c = Checkpoints::new(None, Kept::default(), &cp).expect("new");
    c.observe("test", &cp, None, Server::new(log).fetch())
        .await
        .expect("first");
    c
}

async fn newest(c: &Checkpoints) -> Option<u64> {
    c.view().await.newest().map(|n| n.checkpoint.size)
}

fn refusal(e: ClientError) -> LogCheckError {
    match e {
        ClientError::Log { source, .. } => source,
        other => panic!("not a log refusal: {other}"),
    }
}

#[tokio::test]
async fn the_first_checkpoint_is_accepted_without_a_proof() {
    let log = Honest::new(5);
    let server = Server::new(&log);
    let c = Checkpoints::new(None, Kept::default(), &signed(&log, 5)).expect("new");
    assert_eq!(newest(&c).await, None);
    let v = c
        .observe("test", &signed(&log, 5), None, server.fetch())
        .await
        .expect("accepted");
    assert_eq!(v.checkpoint.size, 5);
    assert_eq!(newest(&c).await, Some(5));
    assert_eq!(server.asked(), 0);
}

#[tokio::test]
async fn a_newer_checkpoint_advances_the_newest_with_one_proof() {
    let log = Honest::new(9);
    let server = Server::new(&log);
    let c = seen(&log, 3).await;
    c.observe("test", &signed(&log, 9), None, server.fetch())
        .await
        .expect("consistent");
    assert_eq!(newest(&c).await, Some(9));
    assert_eq!((server.asked(), c.proofs_fetched()), (1, 1));
    // Seen again: known, no proof.
    c.observe("test", &signed(&log, 9), None, server.fetch())
        .await
        .expect("known");
    assert_eq!(server.asked(), 1);
}

#[tokio::test]
async fn an_older_checkpoint_is_linked_to_the_newest_which_stays() {
    let log = Honest::new(9);
    let server = Server::new(&log);
    let c = seen(&log, 9).await;
    for size in [4, 1, 9] {
        let v = c
            .observe("test", &signed(&log, size), None, server.fetch())
            .await
            .expect("a prefix");
        assert_eq!(v.checkpoint.size, size as u64);
    }
    assert_eq!(newest(&c).await, Some(9));
    // Sizes 4 and 1 needed a proof each; the newest itself none.
    assert_eq!(server.asked(), 2);
}

#[tokio::test]
async fn a_proof_the_answer_carried_replaces_a_request() {
    let log = Honest::new(8);
    let server = Server::new(&log);
    let c = seen(&log, 2).await;
    let offered = log.consistency(2, 8);
    c.observe("test", &signed(&log, 8), Some(&offered), server.fetch())
        .await
        .expect("consistent");
    assert_eq!(newest(&c).await, Some(8));
    assert_eq!(server.asked(), 0);
    // Kept for an older checkpoint of its starting size that comes later.
    let other = Checkpoints::new(None, Kept::default(), &signed(&log, 2)).expect("new");
    other
        .observe("test", &signed(&log, 8), Some(&offered), server.fetch())
        .await
        .expect("first");
    other
        .observe("test", &signed(&log, 2), None, server.fetch())
        .await
        .expect("linked by the kept proof");
    assert_eq!(server.asked(), 0);
}

#[tokio::test]
async fn a_smaller_tree_that_is_not_a_prefix_is_refused() {
    let log = Honest::new(6);
    let liar = forged(&log, 6);
    let c = seen(&log, 6).await;
    // The forged tree's own proof to the honest newest does not verify.
    let e = c
        .observe("test", &signed(&liar, 3), None, Server::new(&liar).fetch())
        .await
        .expect_err("not a prefix");
    assert!(
        matches!(
            refusal(e),
            LogCheckError::Inconsistent { old: 3, new: 6, .. }
        ),
        "not an inconsistency"
    );
    assert_eq!(newest(&c).await, Some(6));
}

#[tokio::test]
async fn another_tree_of_a_size_seen_is_a_fork() {
    let log = Honest::new(4);
    let liar = forged(&log, 4);
    let c = seen(&log, 4).await;
    // An "empty" tree whose root is not the empty tree's.
    let not_empty = tlog::Checkpoint {
        origin: "test.example/log".into(),
        size: 0,
        root: [1; 32],
        extensions: Vec::new(),
    };
    let not_empty = SignedCheckpoint {
        note: liar.signer.sign(&not_empty.to_text()).expect("sign"),
        verifier_key: key(&liar),
    };
    for (size, cp) in [(4, signed(&liar, 4)), (0, not_empty)] {
        let e = c
            .observe("test", &cp, None, Server::new(&liar).fetch())
            .await
            .expect_err("a fork");
        assert!(
            matches!(refusal(e), LogCheckError::Fork { size: s } if s == size as u64),
            "size {size}"
        );
    }
    assert_eq!(newest(&c).await, Some(4));
}

#[tokio::test]
async fn a_larger_tree_that_does_not_extend_the_newest_is_refused() {
    let log = Honest::new(3);
    let liar = forged(&log, 7);
    let c = seen(&log, 3).await;
    let e = c
        .observe("test", &signed(&liar, 7), None, Server::new(&liar).fetch())
        .await
        .expect_err("another history");
    assert!(matches!(
        refusal(e),
        LogCheckError::Inconsistent { old: 3, new: 7, .. }
    ));
    // An offered proof for other sizes is not used, and a missing proof is no proof.
    let offered = liar.consistency(2, 7);
    let e = c
        .observe(
            "test",
            &signed(&liar, 7),
            Some(&offered),
            Server::new(&liar).fetch(),
        )
        .await
        .expect_err("another history");
    assert!(matches!(refusal(e), LogCheckError::Inconsistent { .. }));
    assert_eq!(newest(&c).await, Some(3));
}

#[tokio::test]
async fn a_checkpoint_from_another_key_is_refused() {
    let log = Honest::new(3);
    let stranger = Honest::new(3);
    let c = seen(&log, 3).await;
    // Presenting its own key.
    let e = c
        .observe(
            "test",
            &signed(&stranger, 3),
            None,
            Server::new(&stranger).fetch(),
        )
        .await
        .expect_err("another key");
    assert!(matches!(refusal(e), LogCheckError::KeyChanged { .. }));
    // Saying nothing of its key: the signature does not verify.
    let mut quiet = signed(&stranger, 3);
    quiet.verifier_key.clear();
    let e = c
        .observe("test", &quiet, None, Server::new(&stranger).fetch())
        .await
        .expect_err("not signed by the key");
    assert!(matches!(refusal(e), LogCheckError::Checkpoint(_)));
    // At connection, with the key pinned: refused before anything is observed.
    let e = Checkpoints::new(Some(&key(&log)), Kept::default(), &signed(&stranger, 3))
        .err()
        .expect("another key");
    assert!(e.to_string().contains("pinned"), "{e}");
}

#[tokio::test]
async fn the_newest_is_kept_in_the_state_file_and_trusted_on_the_next_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = state_file(dir.path(), "https://log.example:50051");
    assert_eq!(file, dir.path().join("https___log_example_50051.json"));
    let log = Honest::new(8);
    let server = Server::new(&log);
    {
        let kept = Kept::read(Some(file.clone())).expect("nothing kept yet");
        let c = Checkpoints::new(None, kept, &signed(&log, 5)).expect("first use");
        c.observe("test", &signed(&log, 5), None, server.fetch())
            .await
            .expect("first");
    }
    let stored: Stored =
        serde_json::from_slice(&std::fs::read(&file).expect("state")).expect("json");
    assert_eq!(stored.log_key, key(&log));
    assert_eq!(stored.checkpoint, Some(log.note(5)));
    // The next run starts from it: the server's tree must extend it.
    let kept = Kept::read(Some(file.clone())).expect("kept");
    let c = Checkpoints::new(None, kept, &signed(&log, 8)).expect("same key");
    assert_eq!(newest(&c).await, Some(5));
    c.observe("test", &signed(&log, 8), None, server.fetch())
        .await
        .expect("extends");
    assert_eq!(server.asked(), 1);
    c.save_state().await;
    let stored: Stored =
        serde_json::from_slice(&std::fs::read(&file).expect("state")).expect("json");
    assert_eq!(stored.checkpoint, Some(log.note(8)));
    // A rewritten log under the same key, smaller than what was kept: refused.
    let liar = forged(&log, 8);
    let kept = Kept::read(Some(file.clone())).expect("kept");
    let c = Checkpoints::new(None, kept, &signed(&liar, 6)).expect("same key");
    let e = c
        .observe("test", &signed(&liar, 6), None, Server::new(&liar).fetch())
        .await
        .expect_err("rewritten");
    assert!(matches!(refusal(e), LogCheckError::Inconsistent { .. }));
    // A server with another key: refused, naming the file that keeps the trusted one.
    let kept = Kept::read(Some(file.clone())).expect("kept");
    let e = Checkpoints::new(None, kept, &signed(&Honest::new(2), 2))
        .err()
        .expect("another key");
    assert!(e.to_string().contains("trusted on first use"), "{e}");
    assert!(e.to_string().contains(&file.display().to_string()), "{e}");
}

#[tokio::test]
async fn a_pinned_key_ignores_a_checkpoint_kept_under_another() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("server.json");
    let old = Honest::new(5);
    let stored = Stored {
        log_key: key(&old),
        checkpoint: Some(old.note(5)),
    };
    std::fs::write(&file, serde_json::to_vec(&stored).expect("json")).expect("write");
    let log = Honest::new(2);
    let kept = Kept::read(Some(file)).expect("kept");
    let c = Checkpoints::new(Some(&key(&log)), kept, &signed(&log, 2)).expect("pinned");
    assert_eq!(newest(&c).await, None);
    c.observe("test", &signed(&log, 2), None, Server::new(&log).fetch())
        .await
        .expect("first");
    assert_eq!(newest(&c).await, Some(2));
}

#[test]
fn a_corrupt_state_file_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("server.json");
    for garbage in [&b"{\"log_key\": 7}"[..], b"not json", b""] {
        std::fs::write(&file, garbage).expect("write");
        let e = Kept::read(Some(file.clone())).expect_err("corrupt");
        assert!(matches!(e, ClientError::StateFile { .. }), "{e}");
        assert!(e.to_string().contains("remove the file"), "{e}");
    }
    // Parses, but its checkpoint is not signed by its key.
    let (a, b) = (Honest::new(3), Honest::new(3));
    let stored = Stored {
        log_key: key(&a),
        checkpoint: Some(b.note(3)),
    };
    std::fs::write(&file, serde_json::to_vec(&stored).expect("json")).expect("write");
    let kept = Kept::read(Some(file.clone())).expect("parses");
    let e = Checkpoints::new(None, kept, &signed(&a, 3))
        .err()
        .expect("unsigned");
    assert!(matches!(refusal(e), LogCheckError::Checkpoint(_)));
    // A folder where the file should be: unreadable.
    std::fs::remove_file(&file).expect("rm");
    std::fs::create_dir(&file).expect("mkdir");
    assert!(matches!(
        Kept::read(Some(file)),
        Err(ClientError::Read { .. })
    ));
}

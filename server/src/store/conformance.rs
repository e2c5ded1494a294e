//! The conformance suite: the log's behaviour, written once and run on every [`Backend`]
//! (`on_sled` and `in_memory` below). A backend that passes it keeps the log's promises:
//! appends, group commit, proofs, lookups, idempotency records, the external checkpoint,
//! reopening with the start-up check, and tampering refused at start-up. Tests that tamper
//! with the database do it through the [`Backend`] trait, so they mean the same on each.
//!
//! Tests that need real files (sled's lock, copies of its files, crashes) are sled-only and
//! live in `sled_backend.rs` and `server/tests/`.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tlog::{Checkpoint, Hash, LogEntry, NoteSigner, SignedNote};

use super::external::read_external;
use super::keys::REF_KEY;
use super::memory::MemoryBackend;
use super::records::i_key;
use super::sled_backend::SledBackend;
use super::{
    check, check_dir, e_key, load_or_create_key, n_key, Appended, Backend, Batch, CheckReport, Log,
    NewEntry, RequestRecord, StoreError, StoredRequest, MAX_REPLAY, MAX_REQUEST_VALUE,
    META_CHECKPOINT, META_SIZE,
};

/// The origin line of the test logs.
pub(super) const ORIGIN: &str = "segel.test/log";

/// A log directory (key files, external checkpoint) with a database on one backend.
pub(super) trait Harness {
    /// A new, empty log directory and database.
    fn new() -> Self;
    /// The log directory.
    fn dir(&self) -> &Path;
    /// A raw handle on the database, for tampering; no log may have it open.
    fn backend(&self) -> Box<dyn Backend>;
    /// Open the log (again) on the database.
    fn open_with(&self, key: NoteSigner) -> Result<Log, StoreError>;
    /// The offline check of the log.
    fn check(&self) -> Result<CheckReport, StoreError>;
}

/// The log on sled in a temporary folder.
pub(super) struct OnSled {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Harness for OnSled {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("log");
        Self { _tmp: tmp, dir }
    }

    fn dir(&self) -> &Path {
        &self.dir
    }

    fn backend(&self) -> Box<dyn Backend> {
        Box::new(SledBackend::open(&self.dir).expect("raw open"))
    }

    fn open_with(&self, key: NoteSigner) -> Result<Log, StoreError> {
        Log::open(&self.dir, ORIGIN, key)
    }

    fn check(&self) -> Result<CheckReport, StoreError> {
        check_dir(&self.dir)
    }
}

/// The log in memory; its key files and external checkpoint in a temporary folder.
pub(super) struct InMemory {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    db: MemoryBackend,
}

impl Harness for InMemory {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("log");
        Self {
            _tmp: tmp,
            dir,
            db: MemoryBackend::new(),
        }
    }

    fn dir(&self) -> &Path {
        &self.dir
    }

    fn backend(&self) -> Box<dyn Backend> {
        Box::new(self.db.clone())
    }

    fn open_with(&self, key: NoteSigner) -> Result<Log, StoreError> {
        Log::open_on(self.db.clone(), &self.dir, ORIGIN, key)
    }

    fn check(&self) -> Result<CheckReport, StoreError> {
        let verifier = load_or_create_key(&self.dir, ORIGIN)?.verifier();
        check(&self.db, &self.dir, &verifier, None)
    }
}

/// Each test once per backend.
macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        mod on_sled {
            $(#[test] fn $test() { super::$test::<super::OnSled>() })*
        }
        mod in_memory {
            $(#[test] fn $test() { super::$test::<super::InMemory>() })*
        }
    };
}

conformance!(
    the_backend_applies_batches_in_order_and_scans_in_key_order,
    appends_are_readable_provable_and_survive_reopening,
    async_appends_are_committed_in_groups_and_acknowledged_durable,
    a_changed_record_is_detected_at_startup,
    deleting_the_newest_entries_is_detected,
    restoring_an_older_copy_is_detected,
    anything_past_the_tree_size_or_unknown_is_detected,
    the_external_checkpoint_survives_one_torn_slot_but_not_two,
    log_key_with_loose_mode_is_refused,
    a_lost_log_key_is_not_replaced,
    a_lost_ref_key_is_refused_and_references_are_found_by_their_keyed_hash,
    idempotency_records_are_small_and_keyed_by_a_hash,
    entries_are_found_by_document_id_in_a_log_of_mixed_versions,
);

/// A valid entry, different for each `i`.
pub(super) fn entry(i: u64) -> NewEntry {
    let doc = tlog::leaf_hash(format!("doc {i}").as_bytes());
    NewEntry {
        record: LogEntry {
            index: 0,
            time_ms: 1_795_942_800_000 + i as i64,
            agency: "dev".into(),
            certificate_sha256: [9; 32],
            caller: "CN=siola-dev".into(),
            message_digest: tlog::leaf_hash(format!("md {i}").as_bytes()),
            signature_sha256: tlog::leaf_hash(format!("sig {i}").as_bytes()),
            document_sha256: doc,
            document_source: tlog::DocumentSource::Server,
            document_ref: None,
            document_ref_hmac: (i % 2 == 0).then(|| pades::sha256(format!("B-{i}").as_bytes())),
            document_id_sha256: if i % 3 == 0 {
                tlog::DocumentIdHash::Present(pades::sha256(document_id(i).as_bytes()))
            } else {
                tlog::DocumentIdHash::Absent
            },
        },
        request: None,
        document_id: (i % 3 == 0).then(|| document_id(i)),
    }
}

/// The document id of [`entry`]`(i)` when it carries one (every third entry).
pub(super) fn document_id(i: u64) -> String {
    format!("doc-id-{i:016}")
}

fn open<H: Harness>(h: &H) -> Result<Log, StoreError> {
    h.open_with(load_or_create_key(h.dir(), ORIGIN)?)
}

fn filled<H: Harness>(n: u64) -> H {
    let h = H::new();
    let log = open(&h).expect("open");
    for i in 0..n {
        log.append(entry(i)).expect("append");
    }
    h
}

/// Apply `batch` to the raw database and make it durable.
fn tamper(db: &dyn Backend, batch: Batch) {
    db.apply(batch).expect("apply");
    db.flush().expect("flush");
}

impl Appended {
    fn checkpoint_root(&self) -> Hash {
        let n = SignedNote::parse(&self.checkpoint).expect("note");
        Checkpoint::parse(&n.text).expect("cp").root
    }
}

fn the_backend_applies_batches_in_order_and_scans_in_key_order<H: Harness>() {
    let h = H::new();
    let db = h.backend();
    let mut b = Batch::default();
    for k in [b"b2".as_slice(), b"a", b"b1", b"b\xff", b"c", b"b"] {
        b.insert(k, k);
    }
    b.insert(b"x".as_slice(), b"first".as_slice());
    b.insert(b"x".as_slice(), b"second".as_slice());
    b.remove(b"c".as_slice());
    b.remove(b"absent".as_slice());
    db.apply(b).expect("apply");
    db.flush().expect("flush");
    let keys =
        |pairs: super::Pairs<'_>| -> Vec<Vec<u8>> { pairs.map(|kv| kv.expect("kv").0).collect() };
    assert_eq!(
        db.get(b"x").expect("get"),
        Some(b"second".to_vec()),
        "the later write wins"
    );
    assert_eq!(db.get(b"c").expect("get"), None);
    assert_eq!(
        keys(db.scan(b"", None)),
        [&b"a"[..], b"b", b"b1", b"b2", b"b\xff", b"x"]
    );
    assert_eq!(
        keys(db.scan_prefix(b"b")),
        [&b"b"[..], b"b1", b"b2", b"b\xff"]
    );
    assert_eq!(keys(db.scan(b"b1", Some(b"b\xff"))), [&b"b1"[..], b"b2"]);
    assert_eq!(keys(db.scan(b"b\xff", None)), [&b"b\xff"[..], b"x"]);
    assert!(keys(db.scan(b"x", Some(b"b"))).is_empty());
    drop(db);
    // A new handle (a reopen) sees the same data.
    assert_eq!(h.backend().get(b"b1").expect("get"), Some(b"b1".to_vec()));
}

fn appends_are_readable_provable_and_survive_reopening<H: Harness>() {
    let h = filled::<H>(0);
    let log = open(&h).expect("open");
    let mut acks = Vec::new();
    for i in 0..37 {
        let a = log.append(entry(i)).expect("append");
        assert_eq!(a.index, i);
        acks.push(a);
    }
    // Concurrent callers: every index handed out once.
    let log = Arc::new(log);
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                (0..25)
                    .map(|i| log.append(entry(1000 + t * 100 + i)).expect("append").index)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<u64> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("thread"))
        .collect();
    all.sort_unstable();
    assert_eq!(all, (37..237).collect::<Vec<_>>());
    assert_eq!(log.size(), 237);
    // Checkpoint, proofs and lookups, checked as a client would.
    let note = SignedNote::parse(&log.checkpoint()).expect("note");
    note.verify(std::slice::from_ref(log.verifier()))
        .expect("signed by the log key");
    let cp = Checkpoint::parse(&note.text).expect("checkpoint");
    assert_eq!(cp.size, 237);
    for i in [0u64, 1, 36, 100, 236] {
        let e = log.entry(i).expect("read").expect("present");
        let leaf = e.leaf_hash().expect("leaf");
        for size in [i + 1, 237] {
            let p = log.inclusion_proof(i, size).expect("proof");
            tlog::verify_inclusion(&leaf, i, size, &p, &log.root(size).expect("root"))
                .expect("verifies");
        }
        assert!(log
            .find_by_document(&e.document_sha256)
            .expect("find")
            .contains(&i));
        assert!(log
            .find_by_signature(&e.signature_sha256)
            .expect("find")
            .contains(&i));
    }
    let p = log.consistency_proof(37, 237).expect("proof");
    tlog::verify_consistency(37, 237, &p, &acks[36].checkpoint_root(), &cp.root)
        .expect("consistent");
    assert!(log.entry(237).expect("read").is_none());
    assert!(log.inclusion_proof(5, 238).is_err());
    let first = acks[0].clone();
    drop(log);
    let log = open(&h).expect("reopens after the full check");
    assert_eq!(log.size(), 237);
    assert_eq!(
        log.entry(0).expect("read").expect("entry").document_sha256,
        entry(0).record.document_sha256
    );
    assert_eq!(first.index, 0);
    let mut invalid = entry(1);
    invalid.record.agency = String::new();
    assert!(log.append(invalid).is_err(), "invalid entries are refused");
    drop(log);
    assert_eq!(h.check().expect("the offline check passes").size, 237);
}

fn async_appends_are_committed_in_groups_and_acknowledged_durable<H: Harness>() {
    let h = filled::<H>(3);
    let log = Arc::new(open(&h).expect("open"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    let acks: Vec<Appended> = rt.block_on(async {
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let log = log.clone();
                tokio::spawn(async move {
                    let announced = log.announce();
                    log.append_async(entry(100 + i), Some(announced)).await
                })
            })
            .collect();
        let mut acks = Vec::new();
        for t in tasks {
            acks.push(t.await.expect("task").expect("append"));
        }
        acks
    });
    let mut indices: Vec<u64> = acks.iter().map(|a| a.index).collect();
    indices.sort_unstable();
    assert_eq!(indices, (3..67).collect::<Vec<_>>());
    // One checkpoint per commit: the appends of a commit are all answered with its newest.
    let mut sizes: Vec<u64> = acks.iter().map(|a| a.size).collect();
    sizes.sort_unstable();
    sizes.dedup();
    assert_eq!(sizes.len() as u64, log.commits());
    assert!(log.commits() <= 64);
    // Every acknowledgement names a checkpoint that covers its entry, after the size
    // published before its commit.
    for a in &acks {
        assert!(a.previous_size <= a.index && a.index < a.size, "{a:?}");
        let note = SignedNote::parse(&a.checkpoint).expect("note");
        note.verify(std::slice::from_ref(log.verifier()))
            .expect("signed");
        let cp = Checkpoint::parse(&note.text).expect("checkpoint");
        assert_eq!(cp.size, a.size);
        let leaf = log
            .entry(a.index)
            .expect("read")
            .expect("present")
            .leaf_hash()
            .expect("leaf");
        let p = log.inclusion_proof(a.index, a.size).expect("proof");
        tlog::verify_inclusion(&leaf, a.index, a.size, &p, &cp.root).expect("included");
    }
    // What was acknowledged is in the external checkpoint and the database.
    let ext = read_external(h.dir(), log.verifier())
        .expect("read")
        .expect("external checkpoint");
    assert_eq!(ext.size, 67);
    // An announcement that ends without an append holds nothing up.
    drop(log.announce());
    assert_eq!(log.append(entry(7)).expect("append").index, 67);
    drop(rt);
    match Arc::try_unwrap(log) {
        Ok(log) => drop(log),
        Err(_) => panic!("the log is still shared"),
    }
    assert_eq!(open(&h).expect("reopen").size(), 68);
}

fn a_changed_record_is_detected_at_startup<H: Harness>() {
    let h = filled::<H>(20);
    {
        let db = h.backend();
        let v = db.get(&e_key(7)).expect("get").expect("entry");
        let e = LogEntry::decode(&v).expect("decode");
        // Same length, other document reference: a silent rewrite.
        let changed = LogEntry {
            caller: "CN=someone-else".chars().take(e.caller.len()).collect(),
            ..e
        };
        let mut b = Batch::default();
        b.insert(e_key(7), changed.encode().expect("encode"));
        tamper(&*db, b);
    }
    let err = open(&h).expect_err("must refuse");
    assert!(err.to_string().contains("do not match the tree"), "{err}");
    assert!(h.check().is_err());
}

fn deleting_the_newest_entries_is_detected<H: Harness>() {
    // Deleted records.
    let h = filled::<H>(20);
    {
        let mut b = Batch::default();
        for i in 17..20 {
            b.remove(e_key(i));
        }
        tamper(&*h.backend(), b);
    }
    let err = open(&h).expect_err("must refuse");
    assert!(
        err.to_string()
            .contains("entries are stored but the tree size is 20"),
        "{err}"
    );
    // Cut off cleanly: records, nodes, indexes, size and an older *signed* checkpoint put
    // back — only the external checkpoint can tell.
    let h2 = filled::<H>(10);
    let old_note = h2
        .backend()
        .get(META_CHECKPOINT)
        .expect("get")
        .expect("note");
    {
        let log = open(&h2).expect("open");
        for i in 10..15 {
            log.append(entry(i)).expect("append");
        }
    }
    {
        let mut b = Batch::default();
        for i in 10..15u64 {
            b.remove(e_key(i));
        }
        for level in 1..8u8 {
            let first = 10u64 >> level;
            for idx in first..(16u64 >> level) + 1 {
                if (idx + 1) << level > 10 {
                    b.remove(n_key(level, idx));
                }
            }
        }
        b.insert(META_SIZE, 10u64.to_be_bytes());
        b.insert(META_CHECKPOINT, old_note);
        tamper(&*h2.backend(), b);
    }
    assert!(
        check(
            &*h2.backend(),
            Path::new("/nonexistent"),
            &load_or_create_key(h2.dir(), ORIGIN)
                .expect("key")
                .verifier(),
            None
        )
        .is_ok(),
        "the cut database is self-consistent"
    );
    let err = open(&h2).expect_err("must refuse");
    assert!(
        matches!(
            err,
            StoreError::BehindExternal {
                db: 10,
                external: 15
            }
        ),
        "{err}"
    );
}

fn restoring_an_older_copy_is_detected<H: Harness>() {
    let h = filled::<H>(12);
    let copy: Vec<(Vec<u8>, Vec<u8>)> = h
        .backend()
        .scan(b"", None)
        .collect::<Result<_, _>>()
        .expect("copy");
    {
        let log = open(&h).expect("open");
        for i in 12..30 {
            log.append(entry(i)).expect("append");
        }
    }
    {
        let db = h.backend();
        let mut b = Batch::default();
        for kv in db.scan(b"", None) {
            b.remove(kv.expect("kv").0);
        }
        for (k, v) in copy {
            b.insert(k, v);
        }
        tamper(&*db, b);
    }
    let err = open(&h).expect_err("must refuse");
    assert!(
        matches!(
            err,
            StoreError::BehindExternal {
                db: 12,
                external: 30
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("older copy restored"), "{err}");
}

fn anything_past_the_tree_size_or_unknown_is_detected<H: Harness>() {
    let h = filled::<H>(9);
    {
        let mut b = Batch::default();
        b.insert(e_key(9), entry(9).at(9).encode().expect("enc"));
        tamper(&*h.backend(), b);
    }
    let err = open(&h).expect_err("must refuse");
    assert!(err.to_string().contains("past the tree size"), "{err}");
    // Keys under no prefix the log writes, between and after its prefixes, are refused.
    for key in [b"zz".as_slice(), b"r-key", b"a", b"m", b"m:other"] {
        let h2 = filled::<H>(4);
        {
            let mut b = Batch::default();
            b.insert(key, b"?".as_slice());
            tamper(&*h2.backend(), b);
        }
        let err = open(&h2).expect_err("must refuse");
        assert!(err.to_string().contains("unknown key"), "{key:?}: {err}");
    }
}

fn the_external_checkpoint_survives_one_torn_slot_but_not_two<H: Harness>() {
    let h = filled::<H>(5);
    let slots = [
        h.dir().join("checkpoint.a.note"),
        h.dir().join("checkpoint.b.note"),
    ];
    let verifier = load_or_create_key(h.dir(), ORIGIN).expect("key").verifier();
    assert_eq!(
        read_external(h.dir(), &verifier)
            .expect("read")
            .expect("external")
            .size,
        5
    );
    // The newest slot torn: the other one, a commit older and still signed, is taken.
    let newest = slots
        .iter()
        .max_by_key(|p| {
            let text = fs::read_to_string(p).expect("slot");
            text.lines()
                .nth(1)
                .and_then(|l| l.parse::<u64>().ok())
                .unwrap_or(0)
        })
        .expect("slot");
    fs::write(newest, b"torn").expect("tear");
    assert_eq!(
        read_external(h.dir(), &verifier)
            .expect("read")
            .expect("external")
            .size,
        4
    );
    let log = open(&h).expect("opens on the older slot");
    log.append(entry(5)).expect("append");
    drop(log);
    // Both torn: nothing proves what was committed, and the log does not open.
    for p in &slots {
        fs::write(p, b"torn").expect("tear");
    }
    let err = open(&h).expect_err("must refuse");
    assert!(
        err.to_string().contains("no external checkpoint verifies"),
        "{err}"
    );
}

fn a_lost_log_key_is_not_replaced<H: Harness>() {
    let h = filled::<H>(3);
    let dir = h.dir();
    let vkey = fs::read_to_string(dir.join("log.vkey")).expect("vkey");
    fs::remove_file(dir.join("log.key")).expect("rm");
    let err = load_or_create_key(dir, ORIGIN).expect_err("a new key beside a log");
    assert!(matches!(err, StoreError::LogKeyMissing { .. }), "{err}");
    assert!(err.to_string().contains("restore log.key"), "{err}");
    assert!(!dir.join("log.key").exists(), "no key was made");
    assert_eq!(
        fs::read_to_string(dir.join("log.vkey")).expect("vkey"),
        vkey,
        "the verifier key is untouched"
    );
    // A first start stopped between log.vkey and log.key left no log: a key is made.
    let fresh = tempfile::tempdir().expect("tempdir");
    fs::write(fresh.path().join("log.vkey"), "stale\n").expect("vkey");
    load_or_create_key(fresh.path(), ORIGIN).expect("a first start finishes");
    assert!(fresh.path().join("log.key").is_file());
}

fn log_key_with_loose_mode_is_refused<H: Harness>() {
    use std::os::unix::fs::PermissionsExt;
    let h = H::new();
    let dir = h.dir();
    let key = load_or_create_key(dir, ORIGIN).expect("created");
    let path = dir.join("log.key");
    assert_eq!(
        fs::metadata(&path).expect("meta").permissions().mode() & 0o777,
        0o600
    );
    assert!(!dir.join("log.key.tmp").exists());
    assert!(dir.join("log.vkey").is_file());
    for mode in [0o640, 0o604, 0o644] {
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
        let err = load_or_create_key(dir, ORIGIN).expect_err("loose mode");
        assert!(
            err.to_string().contains(&format!(
                "has mode {mode:o}; it must not be readable by others"
            )),
            "{err}"
        );
    }
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
    let again = load_or_create_key(dir, ORIGIN).expect("loads");
    assert_eq!(again.verifier().to_vkey(), key.verifier().to_vkey());
    // The reference key likewise.
    drop(h.open_with(again).expect("open"));
    let refs = dir.join(REF_KEY);
    assert_eq!(
        fs::metadata(&refs).expect("meta").permissions().mode() & 0o777,
        0o600
    );
    fs::set_permissions(&refs, fs::Permissions::from_mode(0o640)).expect("chmod");
    let err = open(&h).expect_err("loose ref.key");
    assert!(err.to_string().contains("ref.key"), "{err}");
    assert!(err.to_string().contains("has mode 640"), "{err}");
}

fn a_lost_ref_key_is_refused_and_references_are_found_by_their_keyed_hash<H: Harness>() {
    let h = filled::<H>(0);
    let log = open(&h).expect("open");
    let mut e = entry(1);
    e.record.document_ref_hmac = Some(log.reference_hmac("dev", "3171234567890001"));
    let a = log.append(e).expect("append").index;
    log.append(entry(3)).expect("append");
    assert_eq!(
        log.find_by_reference("dev", "3171234567890001")
            .expect("find"),
        vec![a]
    );
    assert!(log
        .find_by_reference("dev-2", "3171234567890001")
        .expect("find")
        .is_empty());
    assert!(log
        .find_by_reference("dev", "317123456789000")
        .expect("find")
        .is_empty());
    drop(log);
    // Rebuilt at startup.
    let log = open(&h).expect("reopen");
    assert_eq!(
        log.find_by_reference("dev", "3171234567890001")
            .expect("find"),
        vec![a]
    );
    drop(log);
    // Without its key the hashes cannot be looked up: refused, not silently replaced.
    fs::remove_file(h.dir().join(REF_KEY)).expect("rm");
    let err = open(&h).expect_err("lost ref.key");
    assert!(err.to_string().contains("restore it"), "{err}");
    assert!(!h.dir().join(REF_KEY).exists(), "no new key written");
    // A log whose entries carry no keyed reference gets a new key.
    let h2 = filled::<H>(0);
    let mut plain = entry(5);
    plain.record.document_ref_hmac = None;
    open(&h2).expect("open").append(plain).expect("append");
    fs::remove_file(h2.dir().join(REF_KEY)).expect("rm");
    drop(open(&h2).expect("open"));
    assert!(h2.dir().join(REF_KEY).is_file());
}

fn idempotency_records_are_small_and_keyed_by_a_hash<H: Harness>() {
    let h = filled::<H>(2);
    let log = open(&h).expect("open");
    let key = b"siola-dev\0surat-1".to_vec();
    let with = |replay: Vec<u8>| NewEntry {
        request: Some(RequestRecord {
            key: key.clone(),
            fingerprint: [7; 32],
            replay,
        }),
        ..entry(9)
    };
    let err = log
        .append(with(vec![1; MAX_REPLAY + 1]))
        .expect_err("too large");
    assert!(matches!(err, StoreError::TooLarge(_)), "{err}");
    let index = log.append(with(vec![2; MAX_REPLAY])).expect("append").index;
    assert_eq!(
        log.request(&key).expect("read"),
        Some(StoredRequest {
            fingerprint: [7; 32],
            index,
            replay: vec![2; MAX_REPLAY],
        })
    );
    assert_eq!(log.request(b"siola-dev\0surat-2").expect("read"), None);
    drop(log);
    let db = h.backend();
    let stored: Vec<_> = db.scan_prefix(b"i").map(|kv| kv.expect("kv")).collect();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].0.len(),
        33,
        "the key is a hash, not the caller and id"
    );
    assert!(stored[0].1.len() <= MAX_REQUEST_VALUE);
    // A malformed record is refused at startup.
    let mut b = Batch::default();
    b.insert(i_key(b"x"), vec![2, 1, 2]);
    tamper(&*db, b);
    drop(db);
    let err = open(&h).expect_err("malformed");
    assert!(err.to_string().contains("idempotency record"), "{err}");
}

fn entries_are_found_by_document_id_in_a_log_of_mixed_versions<H: Harness>() {
    let h = filled::<H>(0);
    let log = open(&h).expect("open");
    // Versions 2 (no document id recorded) and 3 (with or without one) side by side.
    let mut v2 = entry(0);
    v2.record.document_id_sha256 = tlog::DocumentIdHash::Unrecorded;
    // An id kept beside a record that does not carry its hash is refused.
    assert!(matches!(
        log.append(v2.clone()).expect_err("id without its hash"),
        StoreError::Request(_)
    ));
    v2.document_id = None;
    log.append(v2)
        .expect("a version 2 record is still accepted");
    for i in 1..=9 {
        log.append(entry(i)).expect("append");
    }
    let id_hash = |i: u64| pades::sha256(document_id(i).as_bytes());
    // A second seal of another document with the same id prefix in its hash is told apart
    // by the whole hash; the same id twice lists both entries.
    let mut same_prefix = entry(10);
    let mut h6 = id_hash(6);
    h6[31] ^= 1;
    same_prefix.record.document_id_sha256 = tlog::DocumentIdHash::Present(h6);
    let other = log.append(same_prefix).expect("append").index;
    let mut twice = entry(11);
    twice.record.document_id_sha256 = tlog::DocumentIdHash::Present(id_hash(9));
    let again = log.append(twice).expect("append").index;
    let check = |log: &Log| {
        assert_eq!(log.entry(0).expect("read").expect("e").version(), 2);
        assert_eq!(log.entry(3).expect("read").expect("e").version(), 3);
        assert!(log
            .find_by_document_id(&id_hash(0))
            .expect("find")
            .is_empty());
        assert_eq!(log.find_by_document_id(&id_hash(3)).expect("find"), vec![3]);
        assert_eq!(log.find_by_document_id(&id_hash(6)).expect("find"), vec![6]);
        assert_eq!(log.find_by_document_id(&h6).expect("find"), vec![other]);
        assert_eq!(
            log.find_by_document_id(&id_hash(9)).expect("find"),
            vec![9, again]
        );
        // Entries without a document id are never found by one.
        assert!(log
            .find_by_document_id(&id_hash(4))
            .expect("find")
            .is_empty());
        assert!(log.find_by_document_id(&[0; 32]).expect("find").is_empty());
        // The ids themselves are kept beside their entries.
        assert_eq!(
            log.document_id(&id_hash(3)).expect("read"),
            Some(document_id(3))
        );
        assert_eq!(log.document_id(&id_hash(0)).expect("read"), None);
        assert_eq!(log.document_id(&h6).expect("read"), None);
    };
    check(&log);
    drop(log);
    // Rebuilt by the start-up check, which accepts every version.
    let log = open(&h).expect("reopen");
    check(&log);
    drop(log);
    assert_eq!(h.check().expect("the offline check passes").size, 12);
    // An id stored under another id's hash is refused at start-up; put back, all is well.
    let put_id = |value: &[u8]| {
        let db = h.backend();
        let mut b = Batch::default();
        b.insert(super::records::d_key(&id_hash(3)), value.to_vec());
        tamper(&*db, b);
    };
    put_id(document_id(6).as_bytes());
    let err = open(&h).expect_err("an id under another hash");
    assert!(err.to_string().contains("its own SHA-256"), "{err}");
    put_id(document_id(3).as_bytes());
    drop(open(&h).expect("sound again"));
    // A record whose document id hash is changed breaks the tree: refused at start-up.
    {
        let db = h.backend();
        let mut e = entry(3).record;
        e.index = 3;
        e.document_id_sha256 = tlog::DocumentIdHash::Present([7; 32]);
        let mut b = Batch::default();
        b.insert(e_key(3), e.encode().expect("encode"));
        tamper(&*db, b);
    }
    let err = open(&h).expect_err("changed document id");
    assert!(err.to_string().contains("do not match the tree"), "{err}");
    assert!(h.check().is_err());
}

//! The signature log over HTTP as a C2SP tlog-tiles log, read by an independent tile client
//! written here from the specification alone: its own tile paths and widths, its own bundle
//! decoding, RFC 6962 hashing with SHA-256 from aws-lc-rs, and RFC 6962 / RFC 9162 proof
//! construction and verification. It never calls `tlog::tiles` or the server's code; the only
//! log code it uses is `tlog`'s signed-note parser and verifier for the checkpoint signature
//! and `LogEntry::decode` to read a record's index. A real server on loopback answers it over
//! plain HTTP; the log is filled beforehand with synthetic records (hundreds, to cross tile
//! boundaries, far faster than sealing them one by one) and grown while serving by signing
//! over gRPC.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use aws_lc_rs::digest::{digest, SHA256};
use segel_proto::v1 as pb;
use segel_proto::v1::signer_client::SignerClient;
use segel_server::config;
use segel_server::store::{self, Log, NewEntry};
use segel_tests::pki;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::grpc::{spawn_web, WebServer};

type Hash = [u8; 32];

// ---------------------------------------------------------------------------------------------
// Filling a log with synthetic records (the server is not running on it meanwhile).

/// Append `count` synthetic records to the log in `dir` (created if new) with `threads`
/// callers at once, so that group commit makes many durable per flush.
fn fill(dir: &Path, origin: &str, count: u64) {
    let key = store::load_or_create_key(dir, origin).expect("log key");
    let log = Arc::new(Log::open(dir, origin, key).expect("open the log"));
    let start = log.size();
    let threads = 32;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                for i in (t..count).step_by(threads as usize) {
                    let doc = digest(&SHA256, format!("tiles {start} {i}").as_bytes());
                    let doc: Hash = doc.as_ref().try_into().expect("32 bytes");
                    log.append(NewEntry {
                        record: tlog::LogEntry {
                            index: 0,
                            time_ms: 1_767_225_600_000 + i as i64,
                            agency: "dev".into(),
                            certificate_sha256: [1; 32],
                            caller: format!("CN=tiles test {}", "x".repeat((i % 50) as usize)),
                            message_digest: doc,
                            signature_sha256: [2; 32],
                            document_sha256: doc,
                            document_source: tlog::DocumentSource::Server,
                            document_ref: None,
                            document_ref_hmac: None,
                            document_id_sha256: tlog::DocumentIdHash::Absent,
                        },
                        request: None,
                        document_id: None,
                    })
                    .expect("append");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("append thread");
    }
    assert_eq!(log.size(), start + count);
    log.close();
}

/// A log folder with `count` entries and the development configuration serving it.
fn filled(count: u64) -> (tempfile::TempDir, config::RawConfig) {
    let data = tempfile::tempdir().expect("tempdir");
    let raw = config::dev(&pki().path, &data.path().join("log"), "127.0.0.1:0");
    fill(&raw.data, &raw.origin, count);
    (data, raw)
}

// ---------------------------------------------------------------------------------------------
// HTTP, as bytes on a socket (paths sent exactly as written, with no URL normalisation).

struct Answer {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// One HTTP/1.1 request for `target` (sent as given), the whole answer read.
async fn raw_request(port: u16, method: &str, target: &str) -> Answer {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let req = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut all = Vec::new();
    s.read_to_end(&mut all).await.expect("read");
    let end = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of the headers");
    let head = String::from_utf8(all[..end].to_vec()).expect("headers are text");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect::<HashMap<_, _>>();
    let mut body = all[end + 4..].to_vec();
    if headers.get("transfer-encoding").map(String::as_str) == Some("chunked") {
        body = dechunk(&body);
    }
    Answer {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n").expect("chunk size");
        let n = usize::from_str_radix(std::str::from_utf8(&b[..eol]).expect("hex"), 16)
            .expect("chunk size");
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + n]);
        b = &b[eol + 2 + n + 2..];
    }
}

async fn get(web: &WebServer, path: &str) -> Answer {
    raw_request(web.http_port, "GET", path).await
}

// ---------------------------------------------------------------------------------------------
// The independent tile client.

fn sha256(parts: &[&[u8]]) -> Hash {
    let mut all = Vec::new();
    for p in parts {
        all.extend_from_slice(p);
    }
    digest(&SHA256, &all).as_ref().try_into().expect("32 bytes")
}

/// RFC 6962 leaf hash.
fn leaf(data: &[u8]) -> Hash {
    sha256(&[&[0], data])
}

/// RFC 6962 interior node hash.
fn node(l: &Hash, r: &Hash) -> Hash {
    sha256(&[&[1], l, r])
}

/// MTH over leaf hashes held in memory (RFC 6962 §2.1), to check tiles against.
fn mth_of(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => sha256(&[]),
        1 => leaves[0],
        n => {
            let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            node(&mth_of(&leaves[..k]), &mth_of(&leaves[k..]))
        }
    }
}

/// The largest power of two below `n` (n ≥ 2).
fn split(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// `<N>`: zero-padded three-digit groups, all but the last prefixed with `x`.
fn spec_index(n: u64) -> String {
    let mut groups = vec![format!("{:03}", n % 1000)];
    let mut rest = n / 1000;
    while rest > 0 {
        groups.push(format!("x{:03}", rest % 1000));
        rest /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

/// A tile client for the tree of `size` leaves whose tiles are at `base` (`…/log/`).
struct TileClient {
    port: u16,
    size: u64,
    rt: tokio::runtime::Handle,
    tiles: RefCell<HashMap<(u32, u64), Vec<Hash>>>,
    fetched: RefCell<Vec<String>>,
}

impl TileClient {
    fn new(web: &WebServer, size: u64) -> Self {
        Self {
            port: web.http_port,
            size,
            rt: tokio::runtime::Handle::current(),
            tiles: RefCell::default(),
            fetched: RefCell::default(),
        }
    }

    /// GET `/log/{path}`, expecting 200 with a binary body (the client is synchronous; the
    /// runtime is multi-threaded, so it may block this worker).
    fn fetch(&self, path: &str) -> Vec<u8> {
        let target = format!("/log/{path}");
        let a = tokio::task::block_in_place(|| {
            self.rt.block_on(raw_request(self.port, "GET", &target))
        });
        assert_eq!(
            a.status,
            200,
            "{target}: {}",
            String::from_utf8_lossy(&a.body)
        );
        assert_eq!(
            a.header("content-type"),
            Some("application/octet-stream"),
            "{target}"
        );
        self.fetched.borrow_mut().push(path.to_string());
        a.body
    }

    /// The path and width of tile `n` at level `l`: full if the tree covers all of it, else
    /// the partial tile of width floor(size / 256^l) mod 256.
    fn tile_ref(&self, l: u32, n: u64) -> (String, usize) {
        let s = u128::from(self.size);
        let span = 1u128 << (8 * (l + 1));
        if (u128::from(n) + 1) * span <= s {
            return (spec_index(n), 256);
        }
        assert_eq!(
            u128::from(n),
            s / span,
            "only tiles the tree has are asked for"
        );
        let w = ((s >> (8 * l)) % 256) as usize;
        assert!(w > 0);
        (format!("{}.p/{w}", spec_index(n)), w)
    }

    /// The hashes of tile `n` at level `l`.
    fn tile(&self, l: u32, n: u64) -> Vec<Hash> {
        if let Some(t) = self.tiles.borrow().get(&(l, n)) {
            return t.clone();
        }
        let (p, w) = self.tile_ref(l, n);
        let path = format!("tile/{l}/{p}");
        let bytes = self.fetch(&path);
        assert_eq!(bytes.len(), 32 * w, "{path}");
        let hashes: Vec<Hash> = bytes
            .chunks(32)
            .map(|c| c.try_into().expect("32"))
            .collect();
        self.tiles.borrow_mut().insert((l, n), hashes.clone());
        hashes
    }

    /// The entries of bundle `n`: u16 big-endian lengths, exactly the tile's width of them.
    fn bundle(&self, n: u64) -> Vec<Vec<u8>> {
        let (p, w) = self.tile_ref(0, n);
        let path = format!("tile/entries/{p}");
        let bytes = self.fetch(&path);
        let mut out = Vec::new();
        let mut rest = bytes.as_slice();
        while !rest.is_empty() {
            assert!(rest.len() >= 2, "{path}: cut inside a length");
            let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
            assert!(rest.len() >= 2 + len, "{path}: cut inside an entry");
            out.push(rest[2..2 + len].to_vec());
            rest = &rest[2 + len..];
        }
        assert_eq!(out.len(), w, "{path}");
        out
    }

    /// The hash of the complete subtree of height `h` and index `k`: its 2^(h mod 8) hashes at
    /// level 8·floor(h/8), read from the tile holding them and hashed up.
    fn subtree(&self, h: u32, k: u64) -> Hash {
        let (l, r) = (h / 8, h % 8);
        let first = k << r;
        let tile = self.tile(l, first / 256);
        let off = (first % 256) as usize;
        let mut row: Vec<Hash> = tile[off..off + (1 << r)].to_vec();
        while row.len() > 1 {
            row = row.chunks(2).map(|p| node(&p[0], &p[1])).collect();
        }
        row[0]
    }

    /// MTH(D[a:b]) (RFC 6962 §2.1) from tiles.
    fn mth(&self, a: u64, b: u64) -> Hash {
        let n = b - a;
        if n.is_power_of_two() && a % n == 0 {
            return self.subtree(n.trailing_zeros(), a / n);
        }
        let k = split(n);
        node(&self.mth(a, a + k), &self.mth(a + k, b))
    }

    /// The root of the tree.
    fn root(&self) -> Hash {
        self.mth(0, self.size)
    }

    /// The leaf hash of entry `i`, from its level-0 tile.
    fn leaf(&self, i: u64) -> Hash {
        self.tile(0, i / 256)[(i % 256) as usize]
    }

    /// PATH(m, D[0:size]) (RFC 6962 §2.1.1).
    fn inclusion(&self, m: u64) -> Vec<Hash> {
        let mut out = Vec::new();
        self.path(m, 0, self.size, &mut out);
        out
    }

    fn path(&self, m: u64, a: u64, b: u64, out: &mut Vec<Hash>) {
        let n = b - a;
        if n <= 1 {
            return;
        }
        let k = split(n);
        if m < k {
            self.path(m, a, a + k, out);
            out.push(self.mth(a + k, b));
        } else {
            self.path(m - k, a + k, b, out);
            out.push(self.mth(a, a + k));
        }
    }

    /// PROOF(old, D[0:size]) (RFC 6962 §2.1.2).
    fn consistency(&self, old: u64) -> Vec<Hash> {
        let mut out = Vec::new();
        self.subproof(old, 0, self.size, true, &mut out);
        out
    }

    fn subproof(&self, m: u64, a: u64, b: u64, whole: bool, out: &mut Vec<Hash>) {
        let n = b - a;
        if m == n {
            if !whole {
                out.push(self.mth(a, b));
            }
            return;
        }
        let k = split(n);
        if m <= k {
            self.subproof(m, a, a + k, whole, out);
            out.push(self.mth(a + k, b));
        } else {
            self.subproof(m - k, a + k, b, false, out);
            out.push(self.mth(a, a + k));
        }
    }
}

/// RFC 9162 §2.1.3.2: verify an inclusion proof.
fn verify_inclusion(index: u64, size: u64, leaf: Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s, mut r) = (index, size - 1, leaf);
    for p in proof {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && &r == root
}

/// RFC 9162 §2.1.4.2: verify a consistency proof between two non-empty trees.
fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    if old == 0 || old > new || proof.is_empty() {
        return false;
    }
    let mut path = proof.to_vec();
    if old.is_power_of_two() {
        path.insert(0, *old_root);
    }
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node(c, &fr);
            sr = node(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && &fr == old_root && &sr == new_root
}

/// The checkpoint, its signature verified with the log's verifier key as served at
/// `/log/vkey` (which must be the key in the log folder): its size and root.
async fn checkpoint(web: &WebServer, log_dir: &Path) -> (u64, Hash, String) {
    let vkey = get(web, "/log/vkey").await;
    assert_eq!(vkey.status, 200);
    let vkey = String::from_utf8(vkey.body).expect("text");
    let on_disk = std::fs::read_to_string(log_dir.join("log.vkey")).expect("log.vkey");
    assert_eq!(vkey.trim_end(), on_disk.trim_end());
    let verifier = tlog::NoteVerifier::parse(vkey.trim_end()).expect("a verifier key");
    let a = get(web, "/log/checkpoint").await;
    assert_eq!(a.status, 200);
    let note = String::from_utf8(a.body).expect("text");
    let signed = tlog::SignedNote::parse(&note).expect("a signed note");
    signed.verify(&[verifier]).expect("signed by the log key");
    // The checkpoint text (C2SP tlog-checkpoint), read here: origin, size, base64 root.
    let mut lines = signed.text.lines();
    let origin = lines.next().expect("origin").to_string();
    let size: u64 = lines.next().expect("size").parse().expect("a number");
    let root = lines.next().expect("root");
    let root = base64_decode(root);
    (size, root, origin)
}

/// Standard base64 of 32 bytes, decoded here.
fn base64_decode(s: &str) -> Hash {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.trim_end_matches('=').bytes() {
        let v = ALPHABET.iter().position(|&a| a == c).expect("base64") as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    out.try_into().expect("32 bytes")
}

/// Check every entry from its bundle to its leaf: each bundle entry hashes to the level-0 tile
/// hash at its position and is the record of that index.
fn check_entries(c: &TileClient) -> Vec<Hash> {
    let mut leaves = Vec::new();
    for n in 0..c.size.div_ceil(256) {
        let entries = c.bundle(n);
        let tile = c.tile(0, n);
        for (j, e) in entries.iter().enumerate() {
            let i = n * 256 + j as u64;
            assert_eq!(
                leaf(e),
                tile[j],
                "entry {i}: its hash is not the tile's leaf"
            );
            let record = tlog::LogEntry::decode(e).expect("a log record");
            assert_eq!(record.index, i);
            leaves.push(leaf(e));
        }
    }
    assert_eq!(leaves.len() as u64, c.size);
    leaves
}

// ---------------------------------------------------------------------------------------------
// Tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tile_client_proves_entries_and_growth_from_http_alone() {
    let (_data, raw) = filled(600);
    let web = spawn_web(raw.clone()).await;
    let (size, root, origin) = checkpoint(&web, &raw.data).await;
    assert_eq!((size, origin.as_str()), (600, raw.origin.as_str()));

    // The root from tiles: a level-1 partial tile and the level-0 partial tile suffice.
    let c = TileClient::new(&web, size);
    assert_eq!(c.root(), root, "root from tiles");
    assert_eq!(
        *c.fetched.borrow(),
        vec!["tile/1/000.p/2".to_string(), "tile/0/002.p/88".to_string()]
    );
    // A level-1 hash is the MTH of the full level-0 tile below it.
    assert_eq!(c.tile(1, 0)[0], mth_of(&c.tile(0, 0)));
    assert_eq!(c.tile(1, 0)[1], mth_of(&c.tile(0, 1)));

    // Every entry, from its bundle to its leaf; the leaves' MTH is the checkpoint's root.
    let leaves = check_entries(&c);
    assert_eq!(mth_of(&leaves), root);

    // Inclusion of entries at the edges, each proved from tile hashes alone.
    for i in [0, 1, 254, 255, 256, 257, 300, 511, 512, 513, 598, 599] {
        let proof = c.inclusion(i);
        assert!(
            verify_inclusion(i, size, c.leaf(i), &proof, &root),
            "inclusion of {i}"
        );
        // The proof is not vacuous: another leaf does not verify.
        assert!(!verify_inclusion(
            i,
            size,
            leaf(b"not an entry"),
            &proof,
            &root
        ));
    }

    // A partial tile narrower than the current one (of a tree of 517, no checkpoint of its
    // own) is served, is a prefix of the current one, and yields that tree's root.
    let old = TileClient::new(&web, 517);
    assert_eq!(old.tile(0, 2)[..], c.tile(0, 2)[..5]);
    assert_eq!(old.bundle(2)[..], c.bundle(2)[..5]);
    assert_eq!(old.root(), mth_of(&leaves[..517]));
    assert!(old.fetched.borrow().contains(&"tile/0/002.p/5".to_string()));

    // Keep the tiles as served at 600, then grow the log to 900 with the server stopped.
    let mut before = HashMap::new();
    for p in [
        "tile/0/000",
        "tile/0/001",
        "tile/entries/000",
        "tile/entries/001",
        "tile/0/002.p/88",
        "tile/entries/002.p/88",
        "tile/1/000.p/2",
    ] {
        before.insert(p, c.fetch(p));
    }
    web.stop().await;
    fill(&raw.data, &raw.origin, 300);
    let web = spawn_web(raw.clone()).await;
    let (size2, root2, _) = checkpoint(&web, &raw.data).await;
    assert_eq!(size2, 900);
    let c2 = TileClient::new(&web, size2);
    assert_eq!(c2.root(), root2);
    // Tiles never change: the full ones, and the partial ones of the smaller tree.
    for (p, bytes) in &before {
        assert_eq!(&c2.fetch(p), bytes, "{p} changed");
    }
    assert_eq!(c2.tile(0, 2)[..88], c.tile(0, 2)[..]);
    // The new tree extends the old one: a consistency proof from the new tree's tiles.
    let proof = c2.consistency(size);
    assert!(verify_consistency(size, size2, &root, &root2, &proof));
    assert!(!verify_consistency(
        size,
        size2,
        &leaf(b"forged"),
        &root2,
        &proof
    ));
    // The old tree's root, recomputed from the tiles of the new one.
    assert_eq!(TileClient::new(&web, size).root(), root);
    let leaves2 = check_entries(&c2);
    assert_eq!(leaves2[..600], leaves[..]);

    // Entries sealed while serving (by digest over gRPC) appear in the next checkpoint.
    let mut signer = SignerClient::new(web.channel(Some("client")).await);
    for i in 0..2u8 {
        signer
            .sign_digest(pb::SignDigestRequest {
                agency_id: "dev".into(),
                message_digest: vec![i + 1; 32],
                request_id: format!("tiles-{i}"),
                signing_time: pades::UnixTime::now().0,
                ..Default::default()
            })
            .await
            .expect("signed by digest");
    }
    let (size3, root3, _) = checkpoint(&web, &raw.data).await;
    assert_eq!(size3, 902);
    let c3 = TileClient::new(&web, size3);
    assert_eq!(c3.root(), root3);
    assert!(verify_consistency(
        size2,
        size3,
        &root2,
        &root3,
        &c3.consistency(size2)
    ));
    assert!(verify_consistency(
        size,
        size3,
        &root,
        &root3,
        &c3.consistency(size)
    ));
    let last = c3.bundle(3);
    assert_eq!(last.len(), 902 - 768);
    let record = tlog::LogEntry::decode(&last[133]).expect("record");
    assert_eq!((record.index, record.message_digest), (901, [2; 32]));
    assert!(verify_inclusion(
        901,
        size3,
        leaf(&last[133]),
        &c3.inclusion(901),
        &root3
    ));
    web.stop().await;
}

#[tokio::test]
async fn log_answers_carry_the_specified_types_and_caching() {
    let (_data, raw) = filled(300);
    let web = spawn_web(raw.clone()).await;

    let cp = get(&web, "/log/checkpoint").await;
    assert_eq!(cp.status, 200);
    assert_eq!(cp.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(cp.header("cache-control"), Some("no-cache"));
    assert_eq!(cp.header("access-control-allow-origin"), Some("*"));
    assert!(String::from_utf8(cp.body)
        .expect("text")
        .contains("\n300\n"));

    let vkey = get(&web, "/log/vkey").await;
    assert_eq!(vkey.status, 200);
    assert_eq!(
        vkey.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(vkey.header("access-control-allow-origin"), Some("*"));

    for (path, len) in [
        ("/log/tile/0/000", 8192),
        ("/log/tile/0/001.p/44", 44 * 32),
        ("/log/tile/0/001.p/1", 32),
        ("/log/tile/1/000.p/1", 32),
        ("/log/tile/entries/001.p/44", 0),
        ("/log/tile/entries/000", 0),
    ] {
        let a = get(&web, path).await;
        assert_eq!(a.status, 200, "{path}");
        assert_eq!(a.header("content-type"), Some("application/octet-stream"));
        // Full and partial tiles alike: a tile path always names the same bytes.
        assert_eq!(
            a.header("cache-control"),
            Some("public, max-age=31536000, immutable"),
            "{path}"
        );
        assert_eq!(a.header("access-control-allow-origin"), Some("*"));
        assert_eq!(a.header("x-content-type-options"), Some("nosniff"));
        if len > 0 {
            assert_eq!(a.body.len(), len, "{path}");
        }
        assert_eq!(
            a.header("content-length"),
            Some(a.body.len().to_string().as_str()),
            "{path}"
        );
        // HEAD: the same headers, no body.
        let h = raw_request(web.http_port, "HEAD", path).await;
        assert_eq!(h.status, 200);
        assert_eq!(h.header("content-length"), a.header("content-length"));
        assert_eq!(h.header("cache-control"), a.header("cache-control"));
        assert!(h.body.is_empty());
    }

    // Tiles the tree does not have (yet): 404, short text, not cached.
    for path in [
        "/log/tile/0/001",
        "/log/tile/0/001.p/45",
        "/log/tile/0/002.p/1",
        "/log/tile/entries/001",
        "/log/tile/entries/001.p/45",
        "/log/tile/1/000",
        "/log/tile/1/000.p/2",
        "/log/tile/2/000.p/1",
        "/log/tile/8/000.p/1",
        "/log/tile/63/000.p/1",
    ] {
        let a = get(&web, path).await;
        assert_eq!(a.status, 404, "{path}");
        assert_eq!(a.header("cache-control"), Some("no-store"), "{path}");
        assert_eq!(a.header("content-type"), Some("text/plain; charset=utf-8"));
        assert_eq!(a.header("access-control-allow-origin"), Some("*"));
        assert!(a.body.len() < 200, "{path}");
    }
    web.stop().await;
}

#[tokio::test]
async fn hostile_log_paths_are_refused() {
    let (_data, raw) = filled(300);
    let web = spawn_web(raw.clone()).await;
    // The canonical spellings exist...
    assert_eq!(get(&web, "/log/tile/0/000").await.status, 200);
    assert_eq!(get(&web, "/log/tile/0/001.p/44").await.status, 200);
    // ...and nothing else names them or anything else.
    let long_index = format!("/log/tile/0/{}000", "x999/".repeat(20_000));
    let long_segment = format!("/log/tile/0/{}", "0".repeat(50_000));
    let hostile: Vec<&str> = vec![
        "/log/tile/0/x018/x446/x744/x073/x709/x551/615",
        "/log/tile/0/x999/x999/x999/x999/x999/x999/999",
        "/log/tile/0/x001/x000/x000/x000/x000/x000/x000/000",
        "/log/tile/64/000",
        "/log/tile/99999999999999999999/000",
        "/log/tile/01/000",
        "/log/tile/-1/000",
        "/log/tile/0/0000",
        "/log/tile/0/00",
        "/log/tile/0/x000/000",
        "/log/tile/0/001/000",
        "/log/tile/0/x000",
        "/log/tile/0/X001/000",
        "/log/tile/0/000.p/0",
        "/log/tile/0/000.p/256",
        "/log/tile/0/001.p/044",
        "/log/tile/0/001.p/44/",
        "/log/tile/0/000/",
        "/log/tile/0/000//",
        "/log/tile//0/000",
        "/log/tile/0/%30%30%30",
        "/log/tile/0/001%2Ep/44",
        "/log/tile/0/001%2ep%2f44",
        "/log/tile/%30/000",
        "/log/%74ile/0/000",
        "/log/tile/0/../0/000",
        "/log/tile/0/%2e%2e/000",
        "/log/tile/0/./000",
        "/log/tile/entries/../0/000",
        "/log/tile/entries/000.p/0",
        "/log/tile/entries/001.p/044",
        "/log/tile/Entries/000",
        "/log/tile/entries",
        "/log/tile/0",
        "/log/tile/",
        "/log/tile",
        "/log/",
        "/log/checkpoint/",
        "/log/Checkpoint",
        "/log/checkpoint.txt",
        "/log/tile/0/000%00",
        "/log/tile/0/000;x",
        &long_index,
        &long_segment,
    ];
    for path in hostile {
        let a = get(&web, path).await;
        let shown = &path[..path.len().min(80)];
        // A path too long for the HTTP server's buffers may be refused before routing.
        let long = path.len() > 1000;
        assert!(
            a.status == 404 || (long && matches!(a.status, 400 | 414 | 431)),
            "{shown}: {} {}",
            a.status,
            String::from_utf8_lossy(&a.body)
        );
        assert!(a.body.len() < 300, "{shown}: a long answer");
        if path.starts_with("/log/") && a.status == 404 {
            assert_eq!(
                a.header("content-type"),
                Some("text/plain; charset=utf-8"),
                "{shown}"
            );
            assert_eq!(a.header("cache-control"), Some("no-store"), "{shown}");
        }
    }
    // Other methods are not served.
    for m in ["POST", "PUT", "DELETE"] {
        let a = raw_request(web.http_port, m, "/log/tile/0/000").await;
        assert_eq!(a.status, 405, "{m}");
    }
    web.stop().await;
}

//! C2SP tlog-tiles: paths (round trips and hostile refusals), which tiles a tree has, entry
//! bundles, and an independent tile reader written here from the specification (its own path
//! spelling, widths, RFC 6962 hashing and proof recursion; it never calls `tlog::tiles` except
//! through the "server" that answers its fetches) that recomputes roots and inclusion proofs
//! from tile bytes alone and checks them against `tlog::root` / `verify_inclusion`.

use std::cell::RefCell;
use std::collections::HashMap;

use aws_lc_rs::digest::{digest, SHA256};
use proptest::prelude::*;
use tlog::tiles::{
    decode_bundle, encode_bundle, hash_tile, tiles_of_size, BundleError, LevelTiles, TileError,
    TileKind, TilePath, TilePathError,
};
use tlog::{append_nodes, inclusion_proof, leaf_hash, root, verify_inclusion, Hash};

// ---------------------------------------------------------------------------------------------
// Paths

#[test]
fn index_spelling_follows_the_specification() {
    let cases: &[(u64, &str)] = &[
        (0, "000"),
        (7, "007"),
        (999, "999"),
        (1000, "x001/000"),
        (1_234_067, "x001/x234/067"),
        (1_000_000, "x001/x000/000"),
        (u64::MAX, "x018/x446/x744/x073/x709/x551/615"),
    ];
    for &(n, s) in cases {
        let hash = TilePath::hash(3, n, 256).expect("tile");
        assert_eq!(hash.to_string(), format!("tile/3/{s}"));
        assert_eq!(TilePath::parse(&format!("tile/3/{s}")), Ok(hash));
        let bundle = TilePath::entries(n, 17).expect("bundle");
        assert_eq!(bundle.to_string(), format!("tile/entries/{s}.p/17"));
        assert_eq!(
            format!("tile/entries/{s}.p/17").parse::<TilePath>(),
            Ok(bundle)
        );
    }
}

#[test]
fn parsed_paths_say_what_they_name() {
    let t = TilePath::parse("tile/63/x001/x234/067.p/255").expect("parse");
    assert_eq!(t.kind(), TileKind::Hash { level: 63 });
    assert_eq!(
        (t.level(), t.index(), t.width(), t.is_full()),
        (63, 1_234_067, 255, false)
    );
    let t = TilePath::parse("tile/0/000").expect("parse");
    assert_eq!(
        (t.level(), t.index(), t.width(), t.is_full()),
        (0, 0, 256, true)
    );
    let t = TilePath::parse("tile/entries/001.p/1").expect("parse");
    assert_eq!(t.kind(), TileKind::Entries);
    assert_eq!((t.index(), t.width()), (1, 1));
}

#[test]
fn constructors_refuse_out_of_range_values() {
    assert_eq!(TilePath::hash(64, 0, 256), Err(TilePathError::Level));
    assert_eq!(TilePath::hash(0, 0, 0), Err(TilePathError::Width));
    assert_eq!(TilePath::hash(0, 0, 257), Err(TilePathError::Width));
    assert_eq!(TilePath::entries(0, 0), Err(TilePathError::Width));
    assert!(TilePath::hash(63, u64::MAX, 1).is_ok());
}

#[test]
fn hostile_paths_are_refused() {
    use TilePathError::*;
    let cases: &[(&str, TilePathError)] = &[
        ("", Prefix),
        ("tile", Prefix),
        ("/tile/0/000", Prefix),
        ("Tile/0/000", Prefix),
        ("tile/", Level),
        ("tile/0", Level),
        ("tile//000", Level),
        ("tile/00/000", Level),
        ("tile/01/000", Level),
        ("tile/64/000", Level),
        ("tile/100/000", Level),
        ("tile/-1/000", Level),
        ("tile/+1/000", Level),
        ("tile/ 1/000", Level),
        ("tile/１/000", Level),
        ("tile/entry/000", Level),
        ("tile/Entries/000", Level),
        ("tile/data/000", Level),
        ("tile/0/", Index),
        ("tile/0/00", Index),
        ("tile/0/0000", Index),
        ("tile/0/+01", Index),
        ("tile/0/-01", Index),
        ("tile/0/ 01", Index),
        ("tile/0/x000/001", Index), // a leading all-zero group: another spelling of 1
        ("tile/0/x000/x001/000", Index),
        ("tile/0/001/002", Index),   // an x missing
        ("tile/0/x001/x002", Index), // an x too many
        ("tile/0/X001/002", Index),
        ("tile/0/x01/002", Index),
        ("tile/0/x0001/002", Index),
        ("tile/0/xx001/002", Index),
        ("tile/0/000/", Index),
        ("tile/0/000/extra", Index),
        ("tile/0/../000", Index),
        ("tile/0/./000", Index),
        ("tile/0/000?x=1", Index),
        ("tile/0/000#f", Index),
        ("tile/0/000 ", Index),
        ("tile/0/000\n", Index),
        ("tile/0/000\0", Index),
        ("tile/0/001%2Ep/1", Index),
        ("tile/0/001.P/1", Index),
        ("tile/0/001.p1", Index),
        ("tile/0/٠٠١", Index),    // Arabic-Indic digits
        ("tile/0/００１", Index), // full-width digits
        ("tile/0/0١0", Index),
        // 2^64: one past u64::MAX
        ("tile/0/x018/x446/x744/x073/x709/x551/616", Index),
        ("tile/0/x999/x999/x999/x999/x999/x999/999", Index),
        // eight groups
        ("tile/0/x001/x000/x000/x000/x000/x000/x000/000", Index),
        ("tile/entries/x001/x000/x000/x000/x000/x000/x000/000", Index),
        ("tile/0/000.p/", Width),
        ("tile/0/000.p/0", Width),
        ("tile/0/000.p/00", Width),
        ("tile/0/000.p/012", Width),
        ("tile/0/000.p/256", Width), // a full tile has no .p/
        ("tile/0/000.p/1000", Width),
        ("tile/0/000.p/+1", Width),
        ("tile/0/000.p/-1", Width),
        ("tile/0/000.p/２", Width),
        ("tile/0/000.p/1 ", Width),
        ("tile/0/000.p/1.p/1", Trailing),
        ("tile/0/000.p/1/", Trailing),
        ("tile/0/000.p/1/000", Trailing),
        ("tile/entries/000.p/0", Width),
        ("tile/entries/000.p/256", Width),
    ];
    for (s, want) in cases {
        assert_eq!(TilePath::parse(s), Err(want.clone()), "{s:?}");
    }
    // A long hostile string is refused without trouble.
    let long = format!("tile/0/{}000", "x999/".repeat(100_000));
    assert_eq!(TilePath::parse(&long), Err(Index));
}

proptest! {
    #[test]
    fn paths_round_trip(
        level in 0u8..=63,
        index in any::<u64>(),
        width in 1u16..=256,
        entries in any::<bool>(),
    ) {
        let t = if entries {
            TilePath::entries(index, width).expect("bundle")
        } else {
            TilePath::hash(level, index, width).expect("tile")
        };
        let s = t.to_string();
        prop_assert_eq!(TilePath::parse(&s), Ok(t));
    }

    #[test]
    fn parsing_never_panics_and_accepts_only_canonical_spellings(
        s in "tile/([0-9]{1,3}|entries)/(x[0-9]{3}/){0,8}[0-9]{2,4}(\\.p/[0-9]{1,4})?",
    ) {
        if let Ok(t) = TilePath::parse(&s) {
            prop_assert_eq!(t.to_string(), s);
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC{0,64}") {
        if let Ok(t) = TilePath::parse(&s) {
            prop_assert_eq!(t.to_string(), s);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Which tiles a tree has

#[test]
fn tiles_of_size_matches_the_specification_examples() {
    assert_eq!(tiles_of_size(0), vec![]);
    assert_eq!(
        tiles_of_size(70_000),
        vec![
            LevelTiles {
                level: 0,
                full: 273,
                partial: Some(112)
            },
            LevelTiles {
                level: 1,
                full: 1,
                partial: Some(17)
            },
            LevelTiles {
                level: 2,
                full: 0,
                partial: Some(1)
            },
        ]
    );
    assert_eq!(
        tiles_of_size(256),
        vec![
            LevelTiles {
                level: 0,
                full: 1,
                partial: None
            },
            LevelTiles {
                level: 1,
                full: 0,
                partial: Some(1)
            },
        ]
    );
    let top = tiles_of_size(u64::MAX);
    assert_eq!(top.len(), 8);
    assert_eq!(
        top[7],
        LevelTiles {
            level: 7,
            full: 0,
            partial: Some(255)
        }
    );
    assert_eq!(
        tiles_of_size(70_000)[1].partial_tile(),
        Some(TilePath::hash(1, 1, 17).expect("tile"))
    );
}

/// For every size near the boundaries, `exists_in` agrees with `tiles_of_size` and with the
/// specification's formula for every tile at or near the edge.
#[test]
fn existence_agrees_with_the_layout() {
    let sizes = [
        0u64,
        1,
        2,
        255,
        256,
        257,
        511,
        512,
        513,
        65_535,
        65_536,
        65_537,
        70_000,
        16_777_216,
        u64::MAX - 1,
        u64::MAX,
    ];
    for &s in &sizes {
        let layout = tiles_of_size(s);
        for level in 0u8..10 {
            let lt = layout.iter().find(|t| t.level == level);
            let full = lt.map_or(0, |t| t.full);
            let partial = lt.and_then(|t| t.partial);
            // spec: floor(s / 256^l) mod 256
            let below = if level >= 8 {
                0
            } else {
                s >> (8 * u32::from(level))
            };
            assert_eq!(
                partial.map_or(0, u64::from),
                below % 256,
                "size {s} level {level}"
            );
            for n in [0, 1, full.saturating_sub(1), full, full + 1] {
                let Ok(t) = TilePath::hash(level, n, 256) else {
                    continue;
                };
                assert_eq!(t.exists_in(s), n < full, "full {t} in {s}");
                for w in [1u16, 2, 17, 112, 255] {
                    let t = TilePath::hash(level, n, w).expect("tile");
                    assert_eq!(
                        t.exists_in(s),
                        n == full && partial == Some(w),
                        "{t} in {s}"
                    );
                    let e = TilePath::entries(n, w).expect("bundle");
                    if level == 0 {
                        assert_eq!(e.exists_in(s), t.exists_in(s), "{e} in {s}");
                    }
                    if let Some(min) = t.min_tree_size() {
                        assert!(t.exists_in(min), "{t} in its min size {min}");
                    }
                }
            }
        }
    }
    // Tiles beyond any 64-bit tree.
    assert!(!TilePath::hash(8, 0, 1).expect("tile").exists_in(u64::MAX));
    assert!(!TilePath::hash(63, u64::MAX, 256)
        .expect("tile")
        .exists_in(u64::MAX));
    assert!(!TilePath::hash(0, u64::MAX, 256)
        .expect("tile")
        .exists_in(u64::MAX));
    assert_eq!(
        TilePath::hash(7, 0, 256).expect("tile").min_tree_size(),
        None
    );
    assert_eq!(
        TilePath::hash(7, 0, 1).expect("tile").min_tree_size(),
        Some(1 << 56)
    );
}

// ---------------------------------------------------------------------------------------------
// Entry bundles

#[test]
fn bundles_round_trip_and_are_length_prefixed() {
    let entries: Vec<Vec<u8>> = vec![b"abc".to_vec(), vec![], vec![7; 65_535], vec![1; 300]];
    let b = encode_bundle(&entries).expect("encode");
    assert_eq!(&b[..5], &[0, 3, b'a', b'b', b'c']);
    assert_eq!(&b[5..7], &[0, 0]);
    assert_eq!(&b[7..9], &[0xff, 0xff]);
    assert_eq!(b.len(), 4 * 2 + 3 + 65_535 + 300);
    let back = decode_bundle(&b, 4).expect("decode");
    assert_eq!(back, entries.iter().map(Vec::as_slice).collect::<Vec<_>>());
    let full: Vec<Vec<u8>> = (0..256u32).map(|i| i.to_be_bytes().to_vec()).collect();
    let b = encode_bundle(&full).expect("encode");
    assert_eq!(decode_bundle(&b, 256).expect("decode").len(), 256);
}

#[test]
fn bundles_refuse_what_they_cannot_hold() {
    let none: [&[u8]; 0] = [];
    assert_eq!(encode_bundle(&none), Err(BundleError::Count(0)));
    let many = vec![b"x".to_vec(); 257];
    assert_eq!(encode_bundle(&many), Err(BundleError::Count(257)));
    let big = vec![b"ok".to_vec(), vec![0; 65_536]];
    assert_eq!(
        encode_bundle(&big),
        Err(BundleError::EntryTooLong {
            index: 1,
            len: 65_536
        })
    );
}

#[test]
fn bundle_decoding_is_strict() {
    let b = encode_bundle(&[b"hello".as_slice(), b"world!".as_slice()]).expect("encode");
    assert!(decode_bundle(&b, 2).is_ok());
    assert_eq!(decode_bundle(&b, 1), Err(BundleError::Overlong(8)));
    assert_eq!(decode_bundle(&b, 3), Err(BundleError::Truncated(2)));
    assert_eq!(
        decode_bundle(&b[..b.len() - 1], 2),
        Err(BundleError::Truncated(1))
    );
    assert_eq!(decode_bundle(&b[..8], 2), Err(BundleError::Truncated(1))); // inside the prefix
    let mut longer = b.clone();
    longer.push(0);
    assert_eq!(decode_bundle(&longer, 2), Err(BundleError::Overlong(1)));
    assert_eq!(decode_bundle(&[], 1), Err(BundleError::Truncated(0)));
    assert_eq!(decode_bundle(&[0], 1), Err(BundleError::Truncated(0)));
    assert_eq!(
        decode_bundle(&[0xff, 0xff, 1], 1),
        Err(BundleError::Truncated(0))
    );
    assert_eq!(decode_bundle(&b, 0), Err(BundleError::Count(0)));
    assert_eq!(decode_bundle(&b, 257), Err(BundleError::Count(257)));
}

proptest! {
    #[test]
    fn bundle_decoding_never_panics(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        count in 0u16..300,
    ) {
        if let Ok(entries) = decode_bundle(&bytes, count) {
            prop_assert_eq!(entries.len(), usize::from(count));
            prop_assert_eq!(encode_bundle(&entries).expect("re-encode"), bytes);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The server side: tiles from a tlog store

type Store = HashMap<(u8, u64), Hash>;

/// Entries of varying length, one empty and one of the largest size.
fn entry(i: u64) -> Vec<u8> {
    match i {
        3 => vec![],
        300 => vec![0xab; 65_535],
        _ => format!("entry {i} {}", "z".repeat((i % 37) as usize)).into_bytes(),
    }
}

/// Answers a fetch of `path` for the tree of `size` leaves as a tiles server would: a hash
/// tile from the store, an entry bundle from the entries; `None` for what it refuses.
fn serve(store: &Store, entries: &[Vec<u8>], size: u64, path: &str) -> Option<Vec<u8>> {
    let t = TilePath::parse(path).ok()?;
    match t.kind() {
        TileKind::Hash { .. } => hash_tile(store, size, &t).ok(),
        TileKind::Entries => {
            if !t.exists_in(size) {
                return None;
            }
            let first = usize::try_from(t.index() * 256).ok()?;
            encode_bundle(&entries[first..first + usize::from(t.width())]).ok()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The independent reader: only the specification, its own hashing, and fetches by path.

fn sha256(parts: &[&[u8]]) -> Hash {
    let mut all = Vec::new();
    for p in parts {
        all.extend_from_slice(p);
    }
    digest(&SHA256, &all).as_ref().try_into().expect("32 bytes")
}

fn rfc_leaf(data: &[u8]) -> Hash {
    sha256(&[&[0], data])
}

fn rfc_node(l: &Hash, r: &Hash) -> Hash {
    sha256(&[&[1], l, r])
}

/// `<N>` as the specification spells it, written here independently.
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

struct Reader<'a> {
    size: u64,
    fetch: &'a dyn Fn(&str) -> Option<Vec<u8>>,
    tiles: RefCell<HashMap<(u32, u64), Vec<Hash>>>,
    fetched: RefCell<Vec<String>>,
}

impl<'a> Reader<'a> {
    fn new(size: u64, fetch: &'a dyn Fn(&str) -> Option<Vec<u8>>) -> Self {
        Self {
            size,
            fetch,
            tiles: RefCell::default(),
            fetched: RefCell::default(),
        }
    }

    /// The path and width of tile `n` at level `l` in a tree of `self.size`: full if the tree
    /// covers it, else the partial tile of width floor(s / 256^l) mod 256.
    fn tile_path(&self, prefix: &str, l: u32, n: u64) -> (String, usize) {
        let s = u128::from(self.size);
        let span = 1u128 << (8 * (l + 1));
        if (u128::from(n) + 1) * span <= s {
            return (format!("{prefix}{}", spec_index(n)), 256);
        }
        assert_eq!(
            u128::from(n),
            s / span,
            "the reader asks only for tiles the tree has"
        );
        let w = (s >> (8 * l)) % 256;
        assert!(w > 0);
        (format!("{prefix}{}.p/{w}", spec_index(n)), w as usize)
    }

    fn tile(&self, l: u32, n: u64) -> Vec<Hash> {
        if let Some(t) = self.tiles.borrow().get(&(l, n)) {
            return t.clone();
        }
        let (path, w) = self.tile_path(&format!("tile/{l}/"), l, n);
        let bytes = (self.fetch)(&path).unwrap_or_else(|| panic!("{path} refused"));
        assert_eq!(bytes.len(), 32 * w, "{path}");
        let hashes: Vec<Hash> = bytes
            .chunks(32)
            .map(|c| c.try_into().expect("32"))
            .collect();
        self.fetched.borrow_mut().push(path);
        self.tiles.borrow_mut().insert((l, n), hashes.clone());
        hashes
    }

    /// The entries of bundle `n`, decoded here from the specification (u16 big-endian lengths).
    fn bundle(&self, n: u64) -> Vec<Vec<u8>> {
        let (path, w) = self.tile_path("tile/entries/", 0, n);
        let bytes = (self.fetch)(&path).unwrap_or_else(|| panic!("{path} refused"));
        let mut out = Vec::new();
        let mut rest = bytes.as_slice();
        while !rest.is_empty() {
            let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
            out.push(rest[2..2 + len].to_vec());
            rest = &rest[2 + len..];
        }
        assert_eq!(out.len(), w, "{path}");
        out
    }

    /// The hash of the complete subtree of height `h` and index `k`: the tile at level h / 8
    /// holding its 2^(h mod 8) hashes of level-8·(h/8) subtrees, hashed up.
    fn subtree(&self, h: u32, k: u64) -> Hash {
        let (l, r) = (h / 8, h % 8);
        let first = k << r;
        let tile = self.tile(l, first / 256);
        let off = (first % 256) as usize;
        let mut row: Vec<Hash> = tile[off..off + (1 << r)].to_vec();
        while row.len() > 1 {
            row = row.chunks(2).map(|p| rfc_node(&p[0], &p[1])).collect();
        }
        row[0]
    }

    /// MTH(D[a:b]) per RFC 6962 §2.1.
    fn mth(&self, a: u64, b: u64) -> Hash {
        let n = b - a;
        if n.is_power_of_two() && a % n == 0 {
            return self.subtree(n.trailing_zeros(), a / n);
        }
        let k = 1u64 << (63 - (n - 1).leading_zeros());
        rfc_node(&self.mth(a, a + k), &self.mth(a + k, b))
    }

    /// PATH(m, D[a:b]) per RFC 6962 §2.1.1.
    fn path(&self, m: u64, a: u64, b: u64, out: &mut Vec<Hash>) {
        let n = b - a;
        if n <= 1 {
            return;
        }
        let k = 1u64 << (63 - (n - 1).leading_zeros());
        if m < k {
            self.path(m, a, a + k, out);
            out.push(self.mth(a + k, b));
        } else {
            self.path(m - k, a + k, b, out);
            out.push(self.mth(a, a + k));
        }
    }
}

fn grow(store: &mut Store, entries: &mut Vec<Vec<u8>>, to: u64) {
    for i in entries.len() as u64..to {
        let e = entry(i);
        for (l, idx, h) in append_nodes(store, i, leaf_hash(&e)).expect("append") {
            store.insert((l, idx), h);
        }
        entries.push(e);
    }
}

#[test]
fn an_independent_reader_proves_from_tiles_alone() {
    let mut store = Store::new();
    let mut entries = Vec::new();
    for size in [
        1u64, 2, 3, 255, 256, 257, 511, 512, 513, 1000, 65_535, 65_536, 65_537, 70_000,
    ] {
        grow(&mut store, &mut entries, size);
        let snapshot = store.clone();
        let fetch = |p: &str| serve(&snapshot, &entries, size, p);
        let reader = Reader::new(size, &fetch);
        let want = root(&snapshot, size).expect("root");
        let got = reader.mth(0, size);
        assert_eq!(got, want, "root of size {size}");

        let mut indices = vec![
            0,
            1,
            2,
            3,
            254,
            255,
            256,
            257,
            300,
            size / 2,
            size.saturating_sub(2),
            size - 1,
        ];
        indices.extend((1..8u64).map(|j| (j * 7919 * 7907) % size));
        indices.retain(|&i| i < size);
        for i in indices {
            let mut proof = Vec::new();
            reader.path(i, 0, size, &mut proof);
            // The leaf from the entry bundle, hashed here, is the level-0 tile's hash.
            let e = &reader.bundle(i / 256)[(i % 256) as usize];
            assert_eq!(e, &entry(i));
            let leaf = rfc_leaf(e);
            assert_eq!(leaf, reader.subtree(0, i), "leaf {i} of {size}");
            verify_inclusion(&leaf, i, size, &proof, &want)
                .unwrap_or_else(|e| panic!("inclusion of {i} in {size}: {e}"));
            assert_eq!(proof, inclusion_proof(&snapshot, i, size).expect("proof"));
        }
        // Only tiles the layout lists were fetched, with the widths it gives.
        let layout = tiles_of_size(size);
        for p in reader.fetched.borrow().iter() {
            let t = TilePath::parse(p).expect("own path parses");
            assert_eq!(&t.to_string(), p);
            let lt = layout[usize::from(t.level())];
            assert!(
                t.index() < lt.full || lt.partial_tile() == Some(t),
                "{p} in {size}"
            );
        }
    }
}

#[test]
fn the_server_refuses_tiles_the_tree_does_not_have() {
    let (mut store, mut entries) = (Store::new(), Vec::new());
    grow(&mut store, &mut entries, 70_000);
    let size = 70_000;
    let ok = |p: &str| serve(&store, &entries, size, p).is_some();
    for p in [
        "tile/0/000",
        "tile/0/272",
        "tile/0/273.p/112",
        "tile/1/000",
        "tile/1/001.p/17",
        "tile/2/000.p/1",
        "tile/entries/000",
        "tile/entries/272",
        "tile/entries/273.p/112",
    ] {
        assert!(ok(p), "{p}");
    }
    for p in [
        "tile/0/273",       // full beyond the size
        "tile/0/274.p/1",   // partial beyond
        "tile/0/273.p/111", // partial of another width
        "tile/0/273.p/113",
        "tile/0/272.p/112", // partial at a full tile's index
        "tile/1/001",
        "tile/1/001.p/16",
        "tile/2/000",
        "tile/2/000.p/2",
        "tile/3/000.p/1",
        "tile/7/000.p/1",
        "tile/8/000.p/1",
        "tile/63/x018/x446/x744/x073/x709/x551/615",
        "tile/entries/273",
        "tile/entries/273.p/111",
    ] {
        assert!(!ok(p), "{p}");
    }
    // An entry bundle is not a hash tile.
    let bundle = TilePath::entries(0, 256).expect("bundle");
    assert!(matches!(
        hash_tile(&store, size, &bundle),
        Err(TileError::NotInTree { size: 70_000, .. })
    ));
    // A full tile is 8,192 bytes: the 256 leaf hashes.
    let t = hash_tile(&store, size, &TilePath::parse("tile/0/001").expect("p")).expect("tile");
    assert_eq!(t.len(), 8192);
    assert_eq!(&t[..32], &store[&(0, 256)]);
    // A partial tile of an earlier tree is served at its own size: a prefix of today's.
    let old = TilePath::parse("tile/0/273.p/5").expect("p");
    let at = old.min_tree_size().expect("size");
    assert_eq!(at, 273 * 256 + 5);
    let old_bytes = hash_tile(&store, at, &old).expect("old partial");
    let now = hash_tile(
        &store,
        size,
        &TilePath::parse("tile/0/273.p/112").expect("p"),
    )
    .expect("now");
    assert_eq!(&now[..old_bytes.len()], old_bytes.as_slice());
    // A store that lacks a node says so.
    let empty = Store::new();
    assert!(matches!(
        hash_tile(&empty, size, &TilePath::parse("tile/0/000").expect("p")),
        Err(TileError::Store(_))
    ));
}

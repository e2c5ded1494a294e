//! Property tests: for random sizes every proof verifies, and any single-bit change, wrong size
//! or wrong index makes it fail; parsers never panic.

use std::collections::HashMap;

use proptest::prelude::*;
use tlog::{
    append_nodes, consistency_proof, inclusion_proof, leaf_hash, root, verify_consistency,
    verify_inclusion, Checkpoint, Hash, SignedNote,
};

fn tree(size: u64) -> HashMap<(u8, u64), Hash> {
    let mut store = HashMap::new();
    for i in 0..size {
        for (l, idx, h) in append_nodes(&store, i, leaf_hash(&i.to_be_bytes())).expect("append") {
            store.insert((l, idx), h);
        }
    }
    store
}

fn flip(h: &mut Hash, bit: usize) {
    h[bit / 8 % 32] ^= 1 << (bit % 8);
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 200,
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::WithSource("regressions"))),
        .. ProptestConfig::default()
    })]

    #[test]
    fn inclusion_verifies_and_every_mutation_fails(size in 1u64..600, idx in any::<prop::sample::Index>(), bit in 0usize..256, which in any::<prop::sample::Index>()) {
        let store = tree(size);
        let i = idx.index(size as usize) as u64;
        let r = root(&store, size).expect("root");
        let leaf = store[&(0, i)];
        let p = inclusion_proof(&store, i, size).expect("proof");
        prop_assert!(verify_inclusion(&leaf, i, size, &p, &r).is_ok());
        // A flipped bit in the leaf, the root, or one proof hash.
        let mut bad_leaf = leaf;
        flip(&mut bad_leaf, bit);
        prop_assert!(verify_inclusion(&bad_leaf, i, size, &p, &r).is_err());
        let mut bad_root = r;
        flip(&mut bad_root, bit);
        prop_assert!(verify_inclusion(&leaf, i, size, &p, &bad_root).is_err());
        if !p.is_empty() {
            let mut bad = p.clone();
            let k = which.index(bad.len());
            flip(&mut bad[k], bit);
            prop_assert!(verify_inclusion(&leaf, i, size, &bad, &r).is_err());
            prop_assert!(verify_inclusion(&leaf, i, size, &p[1..], &r).is_err());
        }
        // Wrong sizes: a tree size is only meaningful with the root of that size (a signed
        // checkpoint binds the two), so the proof is checked against the other size's root.
        // (Against the *same* root a shape-compatible size can pass: for index 0, sizes 5 and
        // 6 have proofs of the same shape. RFC 9162 verification cannot tell; the checkpoint
        // does.)
        let bigger = tree(size + 1);
        let r_bigger = root(&bigger, size + 1).expect("root");
        prop_assert!(verify_inclusion(&leaf, i, size + 1, &p, &r_bigger).is_err());
        if i + 1 < size {
            let r_smaller = root(&store, size - 1).expect("root");
            prop_assert!(verify_inclusion(&leaf, i, size - 1, &p, &r_smaller).is_err());
        }
        if size > 1 {
            let other = (i + 1) % size;
            prop_assert!(verify_inclusion(&leaf, other, size, &p, &r).is_err());
        }
    }

    #[test]
    fn consistency_verifies_and_every_mutation_fails(size in 2u64..600, old in any::<prop::sample::Index>(), bit in 0usize..256, which in any::<prop::sample::Index>()) {
        let store = tree(size);
        let m = old.index(size as usize - 1) as u64 + 1;
        let (r1, r2) = (root(&store, m).expect("r1"), root(&store, size).expect("r2"));
        let p = consistency_proof(&store, m, size).expect("proof");
        prop_assert!(verify_consistency(m, size, &p, &r1, &r2).is_ok());
        let mut b1 = r1;
        flip(&mut b1, bit);
        prop_assert!(verify_consistency(m, size, &p, &b1, &r2).is_err());
        let mut b2 = r2;
        flip(&mut b2, bit);
        prop_assert!(verify_consistency(m, size, &p, &r1, &b2).is_err());
        if !p.is_empty() {
            let mut bad = p.clone();
            let k = which.index(bad.len());
            flip(&mut bad[k], bit);
            prop_assert!(verify_consistency(m, size, &bad, &r1, &r2).is_err());
        }
        let bigger = tree(size + 1);
        let r_bigger = root(&bigger, size + 1).expect("root");
        prop_assert!(verify_consistency(m, size + 1, &p, &r1, &r_bigger).is_err());
        if m > 1 {
            let r_smaller = root(&store, m - 1).expect("root");
            prop_assert!(verify_consistency(m - 1, size, &p, &r_smaller, &r2).is_err());
        }
        prop_assert!(verify_consistency(0, size, &p, &r1, &r2).is_err());
    }

    #[test]
    fn checkpoints_round_trip(origin in "[a-z./]{1,30}", size in any::<u64>(), root_bytes in any::<[u8; 32]>()) {
        let c = Checkpoint { origin, size, root: root_bytes, extensions: vec![] };
        prop_assert_eq!(Checkpoint::parse(&c.to_text()).expect("parses"), c);
    }

    #[test]
    fn parsers_never_panic(s in "\\PC{0,200}") {
        let _ = Checkpoint::parse(&s);
        let _ = SignedNote::parse(&s);
        let _ = tlog::NoteVerifier::parse(&s);
    }

    /// Any decodable byte string is canonical: it encodes back to itself (so its leaf hash is
    /// the one anyone recomputes), whatever its version.
    #[test]
    fn decoded_entries_encode_back_to_their_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(e) = tlog::LogEntry::decode(&bytes) {
            prop_assert_eq!(e.encode().expect("encodes"), bytes);
        }
    }

    /// Version 3 records round-trip with or without a document id, and every single-bit change
    /// either is refused or decodes to another record.
    #[test]
    fn version_3_entries_round_trip(id in proptest::option::of(any::<[u8; 32]>()), hmac in proptest::option::of(any::<[u8; 32]>()), caller in "[ -~]{1,80}", bit in any::<prop::sample::Index>()) {
        let e = tlog::LogEntry {
            index: 3,
            time_ms: 1_795_942_800_123,
            agency: "dev".into(),
            certificate_sha256: [1; 32],
            caller,
            message_digest: [2; 32],
            signature_sha256: [3; 32],
            document_sha256: [4; 32],
            document_source: tlog::DocumentSource::Server,
            document_ref: None,
            document_ref_hmac: hmac,
            document_id_sha256: id.map_or(tlog::DocumentIdHash::Absent, tlog::DocumentIdHash::Present),
        };
        let b = e.encode().expect("encodes");
        prop_assert_eq!(tlog::LogEntry::decode(&b).expect("decodes"), e.clone());
        let mut flipped = b.clone();
        let i = bit.index(b.len() * 8);
        flipped[i / 8] ^= 1 << (i % 8);
        if let Ok(other) = tlog::LogEntry::decode(&flipped) {
            prop_assert_ne!(other, e);
        }
    }
}

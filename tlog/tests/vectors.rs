//! The test vectors (`tests/vectors`, with their sources in `NOTICE`): RFC 6962 reference roots, the
//! transparency-dev inclusion and consistency probes, and the C2SP signed-note cases.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::Value;
use tlog::hash::hash_from_slice;
use tlog::{
    append_nodes, consistency_proof, inclusion_proof, leaf_hash, root, verify_consistency,
    verify_inclusion, Hash, NoteVerifier, SignedNote,
};

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("vector file")).expect("json")
}

fn b64(v: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().unwrap_or(""))
        .expect("base64")
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn files(kind: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![vectors().join(kind)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn proof_of(v: &Value) -> Result<Vec<Hash>, tlog::ProofError> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(a) => a.iter().map(|h| hash_from_slice(&b64(h))).collect(),
        other => panic!("proof: {other}"),
    }
}

/// A tree built with `append_nodes` over the 8 reference leaves, and the expected roots.
fn reference_tree() -> (HashMap<(u8, u64), Hash>, Vec<String>) {
    let v = json(&vectors().join("rfc6962-roots.json"));
    let mut store = HashMap::new();
    let leaves: Vec<String> = v["leaves_hex"]
        .as_array()
        .expect("leaves")
        .iter()
        .map(|l| l.as_str().expect("hex").to_string())
        .collect();
    for (i, l) in leaves.iter().enumerate() {
        for (level, index, h) in
            append_nodes(&store, i as u64, leaf_hash(&unhex(l))).expect("append")
        {
            store.insert((level, index), h);
        }
    }
    let roots = (0..=leaves.len())
        .map(|n| {
            v["roots_hex"][n.to_string()]
                .as_str()
                .expect("root")
                .to_string()
        })
        .collect();
    (store, roots)
}

#[test]
fn rfc6962_reference_roots() {
    let (store, roots) = reference_tree();
    assert_eq!(roots.len(), 9);
    for (n, want) in roots.iter().enumerate() {
        let got = root(&store, n as u64).expect("root");
        assert_eq!(got.to_vec(), unhex(want), "root of {n} leaves");
    }
}

#[test]
fn our_proofs_over_the_reference_tree_verify() {
    let (store, _) = reference_tree();
    for size in 1..=8u64 {
        let r = root(&store, size).expect("root");
        for i in 0..size {
            let p = inclusion_proof(&store, i, size).expect("proof");
            let leaf = store[&(0, i)];
            verify_inclusion(&leaf, i, size, &p, &r).expect("inclusion");
        }
        for old in 1..=size {
            let p = consistency_proof(&store, old, size).expect("proof");
            let r1 = root(&store, old).expect("root");
            verify_consistency(old, size, &p, &r1, &r).expect("consistency");
        }
    }
}

#[test]
fn inclusion_probes() {
    let all = files("inclusion");
    assert_eq!(all.len(), 98);
    let mut valid = 0;
    for f in &all {
        let v = json(f);
        let want_err = v["wantErr"].as_bool().expect("wantErr");
        let idx = v["leafIdx"].as_u64().expect("leafIdx");
        let size = v["treeSize"].as_u64().expect("treeSize");
        let outcome = (|| {
            let root = hash_from_slice(&b64(&v["root"]))?;
            let leaf = hash_from_slice(&b64(&v["leafHash"]))?;
            let proof = proof_of(&v["proof"])?;
            verify_inclusion(&leaf, idx, size, &proof, &root)
        })();
        assert_eq!(outcome.is_err(), want_err, "{}: {outcome:?}", f.display());
        valid += usize::from(!want_err);
    }
    assert_eq!(valid, 6);
}

#[test]
fn consistency_probes() {
    let all = files("consistency");
    assert_eq!(all.len(), 98);
    let mut valid = 0;
    for f in &all {
        let v = json(f);
        let want_err = v["wantErr"].as_bool().expect("wantErr");
        let (s1, s2) = (
            v["size1"].as_u64().expect("size1"),
            v["size2"].as_u64().expect("size2"),
        );
        let outcome = (|| {
            let r1 = hash_from_slice(&b64(&v["root1"]))?;
            let r2 = hash_from_slice(&b64(&v["root2"]))?;
            let proof = proof_of(&v["proof"])?;
            verify_consistency(s1, s2, &proof, &r1, &r2)
        })();
        if f.ends_with("additional/sizes-are-equal-one-and-proof-is-empty.json") {
            // 12-byte placeholder roots: this probe expects success because nothing is
            // recomputed, but our API takes 32-byte hashes and refuses them when parsing.
            assert!(!want_err);
            assert_eq!(outcome, Err(tlog::ProofError::BadHash(12)));
            // With equal 32-byte roots the same shape verifies.
            verify_consistency(1, 1, &[], &[7; 32], &[7; 32]).expect("equal sizes, equal roots");
            valid += 1;
            continue;
        }
        assert_eq!(outcome.is_err(), want_err, "{}: {outcome:?}", f.display());
        valid += usize::from(!want_err);
    }
    assert_eq!(valid, 6);
}

#[test]
fn signed_note_cases() {
    let v = json(&vectors().join("signed-note/cases.json"));
    let key =
        NoteVerifier::parse(v["vkey"].as_str().expect("vkey")).expect("the spec's verifier key");
    assert_eq!(key.to_vkey(), v["vkey"].as_str().expect("vkey"));
    let cases = v["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 9);
    for c in cases {
        let note = c["note"].as_str().expect("note");
        let ok = SignedNote::parse(note).and_then(|n| n.verify(std::slice::from_ref(&key)));
        assert_eq!(
            ok.is_ok(),
            c["valid"].as_bool().expect("valid"),
            "{}: {ok:?}",
            c["desc"]
        );
    }
}

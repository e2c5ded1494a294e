#![no_main]
// Signed notes, checkpoints and verifier keys from arbitrary text; proofs from arbitrary bytes.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = tlog::SignedNote::parse(s);
        let _ = tlog::Checkpoint::parse(s);
        let _ = tlog::NoteVerifier::parse(s);
    }
    if data.len() >= 80 {
        let n = u64::from_le_bytes(data[..8].try_into().unwrap_or_default());
        let m = u64::from_le_bytes(data[8..16].try_into().unwrap_or_default());
        let root: [u8; 32] = data[16..48].try_into().unwrap_or_default();
        let leaf: [u8; 32] = data[48..80].try_into().unwrap_or_default();
        let proof: Vec<[u8; 32]> = data[80..].chunks_exact(32).map(|c| c.try_into().unwrap_or_default()).collect();
        let _ = tlog::verify_inclusion(&leaf, m, n, &proof, &root);
        let _ = tlog::verify_consistency(m, n, &proof, &leaf, &root);
    }
});

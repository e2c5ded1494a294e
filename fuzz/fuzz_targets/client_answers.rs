#![no_main]
// What a (hostile) server can send the client: a SignPdfResponse or ConsistencyProof decoded
// from arbitrary bytes, checked by the client's LogView. Nothing may panic; nothing may pass
// unless its checkpoint is signed by the trusted key (this key never signs in the fuzzer).
use prost::Message;
use segel_proto::v1 as pb;

const KEY: &str = "segel.dev/log+1190379e+ASyCcXaHPj+kIMOJ4D12qwYqZTZTVBKVFkrx4acZ1aoD";

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(mut view) = segel_client::logcheck::LogView::new(KEY, None) else {
        return;
    };
    if let Ok(r) = pb::SignPdfResponse::decode(data) {
        if let Some(cp) = &r.checkpoint {
            let _ = view.check_key(&cp.verifier_key);
            if let Ok(v) = view.check_note(&cp.note) {
                panic!("a note not signed by the key passed: {v:?}");
            }
        }
    }
    if let Ok(p) = pb::ConsistencyProof::decode(data) {
        if let Ok(s) = std::str::from_utf8(data) {
            if let Ok(v) = view.check_note(s) {
                let _ = view.needs(&v);
                let p = segel_client::logcheck::ConsistencyProof {
                    old_size: p.old_size,
                    new_size: p.new_size,
                    hashes: p.hashes,
                };
                let _ = view.accept(v, Some(&p));
            }
        }
    }
});

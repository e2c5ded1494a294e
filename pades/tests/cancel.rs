//! `verify_until`: a caller that stops waiting stops the work.

mod common;

use std::cell::Cell;

use pades::testing::synthetic_pdf;
use pades::verify::verify_until;
use pades::{sign, Error, SignatureRequest};
use pades::{UnixTime, VerifyOptions};

const NOW: UnixTime = UnixTime(1_795_942_800);

fn signed_pdf() -> (Vec<u8>, Vec<u8>) {
    let seal = common::seal("Cancel Test Seal");
    // 40 MiB, so that hashing it takes ten slices.
    let pdf = synthetic_pdf(2, 40 << 20);
    let out = sign(
        &pdf,
        &SignatureRequest::new(NOW),
        &seal.signer,
        &seal.identity,
    )
    .expect("sign")
    .to_vec();
    (out, seal.cert)
}

#[test]
fn verification_stops_when_the_caller_stops_waiting() {
    let (pdf, cert) = signed_pdf();
    let opts = VerifyOptions {
        trust_anchors: vec![cert],
        time: NOW,
    };
    // Never stopped: the answer.
    let asked = Cell::new(0u32);
    let report = verify_until(&pdf, &opts, &|| {
        asked.set(asked.get() + 1);
        false
    })
    .expect("reads");
    assert!(report.all_passed(), "{report:#?}");
    let whole = asked.get();
    assert!(whole >= 10, "asked {whole} times over 40 MiB");
    // Stopped after the second question: no answer, and no more questions than a few.
    let asked = Cell::new(0u32);
    let err = verify_until(&pdf, &opts, &|| {
        asked.set(asked.get() + 1);
        asked.get() > 2
    })
    .expect_err("stopped");
    assert!(matches!(err, Error::Cancelled), "{err}");
    assert!(
        asked.get() <= 4,
        "asked {} times after stopping",
        asked.get()
    );
}

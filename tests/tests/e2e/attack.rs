//! The attack classes of the PDF-Insecurity research, built on our signed outputs and on the
//! corpus' `signed-other-ca.pdf`: each must come out not TOTAL-PASSED, with the right reason;
//! benign later revisions must keep every signature TOTAL-PASSED.

use std::path::Path;

use pades::{Indication, SubIndication};
use segel_client::offline;
use segel_tests::attacks;
use segel_tests::{corpus, pki};

use super::opts;

fn verify_bytes(data: &[u8]) -> Result<pades::Report, pades::Error> {
    let anchors = [
        pki().file("doc-root.pem"),
        corpus().join("other-ca-root.pem"),
    ]
    .iter()
    .flat_map(|p| segel_client::pem::read_certificates(p).expect("anchors"))
    .collect();
    pades::verify(
        data,
        &pades::VerifyOptions {
            trust_anchors: anchors,
            time: pades::UnixTime::now(),
        },
    )
}

/// Our signature on `name`, as bytes.
fn ours(name: &str, work: &Path) -> Vec<u8> {
    let out = work.join(format!("ours-{name}"));
    offline::sign_file(
        &corpus().join(name),
        &out,
        &opts("dev-agency.key", "dev-agency.pem", false),
    )
    .expect("sign");
    std::fs::read(out).expect("read")
}

/// The targets: our signed letter, and the other CA's signed file as shipped.
fn targets(work: &Path) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("ours", ours("surat-rekomendasi.pdf", work)),
        (
            "other-ca",
            std::fs::read(corpus().join("signed-other-ca.pdf")).expect("corpus"),
        ),
    ]
}

fn assert_first_rejected(what: &str, data: &[u8], sub: SubIndication, needle: &str) {
    let report = verify_bytes(data).unwrap_or_else(|e| panic!("{what}: unreadable: {e}"));
    let s = &report.signatures[0];
    assert_ne!(s.indication, Indication::TotalPassed, "{what}: {s:#?}");
    assert_eq!(s.sub_indication, Some(sub), "{what}: {}", s.reason);
    assert!(
        s.reason.contains(needle),
        "{what}: reason {:?} lacks {needle:?}",
        s.reason
    );
    assert!(!report.all_passed());
}

#[test]
fn unmodified_targets_pass() {
    let work = tempfile::tempdir().expect("tempdir");
    for (name, data) in targets(work.path()) {
        let r = verify_bytes(&data).expect("reads");
        assert!(r.all_passed(), "{name}: {r:#?}");
    }
}

#[test]
fn incremental_saving_attacks_are_caught() {
    let work = tempfile::tempdir().expect("tempdir");
    let c = SubIndication::SigConstraintsFailure;
    for (name, data) in targets(work.path()) {
        assert_first_rejected(
            &format!("{name}: new page"),
            &attacks::add_page(&data),
            c,
            "/Pages",
        );
        assert_first_rejected(
            &format!("{name}: content replaced"),
            &attacks::replace_content(&data),
            c,
            "replaced",
        );
        assert_first_rejected(
            &format!("{name}: annotation"),
            &attacks::add_annotation(&data),
            c,
            "/Annot",
        );
        assert_first_rejected(
            &format!("{name}: catalog"),
            &attacks::change_catalog(&data),
            c,
            "catalog changed",
        );
        assert_first_rejected(
            &format!("{name}: resources"),
            &attacks::change_resources(&data),
            c,
            "/Resources",
        );
    }
}

/// A later revision posing as a visible seal over the whole page, whose "signature" is never
/// a valid one (unsigned, hidden from the verifier as a non-terminal field or under another
/// field, or reusing the first signature's value): the first signature is not TOTAL-PASSED.
#[test]
fn a_forged_later_seal_over_the_page_is_caught() {
    let work = tempfile::tempdir().expect("tempdir");
    for (name, target) in targets(work.path()) {
        for how in [
            attacks::FakeSeal::Unsigned,
            attacks::FakeSeal::WithKid,
            attacks::FakeSeal::UnderExisting,
            attacks::FakeSeal::ReusedValue,
        ] {
            assert_first_rejected(
                &format!("{name}: {how:?}"),
                &attacks::fake_seal(&target, how),
                SubIndication::SigConstraintsFailure,
                "is not a signature that verifies",
            );
        }
        // A zero-area rectangle does not hide an appearance that draws.
        assert_first_rejected(
            &format!("{name}: zero rectangle"),
            &attacks::fake_seal(&target, attacks::FakeSeal::ZeroRect),
            SubIndication::SigConstraintsFailure,
            "unsigned visible signature widget",
        );
    }
}

#[test]
fn byte_range_and_contents_tampering_is_caught() {
    let work = tempfile::tempdir().expect("tempdir");
    for (name, data) in targets(work.path()) {
        let report = verify_bytes(&data).expect("reads");
        let br: Vec<usize> = report.signatures[0]
            .byte_range
            .iter()
            .map(|&v| v as usize)
            .collect();
        let (a, b, d) = (br[1], br[2], br[3]);

        // /Contents zeroed in place.
        let mut zeroed = data.clone();
        zeroed[a + 1..b - 1].fill(b'0');
        assert_first_rejected(
            &format!("{name}: zeroed"),
            &zeroed,
            SubIndication::FormatFailure,
            "cms",
        );

        // /ByteRange removed: the signature dictionary rewritten without it in a new revision.
        let doc = pades::pdf::Document::open(&data).expect("opens");
        let (_, cat) = attacks::catalog(&doc);
        let form = doc
            .resolve_dict(cat.get(b"AcroForm").expect("form"), "form")
            .expect("form");
        let fields = match doc
            .deref(form.get(b"Fields").expect("fields"))
            .expect("fields")
        {
            pades::pdf::Object::Array(a) => a,
            other => panic!("{other:?}"),
        };
        let sig_ref = fields
            .iter()
            .filter_map(|f| doc.resolve_dict(f, "field").ok())
            .find_map(|f| f.get(b"V").and_then(pades::pdf::Object::as_ref))
            .expect("a signed field");
        let no_br = attacks::append(&data, |doc, u| {
            let mut s = doc
                .resolve_dict(&pades::pdf::Object::Reference(sig_ref), "sig")
                .expect("sig");
            s.remove(b"ByteRange");
            u.put_object(sig_ref, &pades::pdf::Object::Dict(s));
        });
        assert_first_rejected(
            &format!("{name}: no ByteRange"),
            &no_br,
            SubIndication::FormatFailure,
            "ByteRange",
        );

        // /ByteRange made to stop short of the end of the file (a digit changed in place).
        // The /ByteRange is written before /Contents (ours) or after it (pyHanko).
        let text = String::from_utf8_lossy(&data).into_owned();
        let key = text[..a]
            .rfind("/ByteRange")
            .or_else(|| text[b..].find("/ByteRange").map(|k| k + b))
            .expect("ByteRange key");
        let close = key + text[key..].find(']').expect("]");
        let at = key
            + text[key..close]
                .rfind(&d.to_string())
                .expect("last ByteRange number");
        let mut short = data.clone();
        let shorter = format!("{:0width$}", d - 1, width = d.to_string().len());
        short[at..at + shorter.len()].copy_from_slice(shorter.as_bytes());
        let r = verify_bytes(&short).expect("reads");
        assert_ne!(
            r.signatures[0].indication,
            Indication::TotalPassed,
            "{name}: short range"
        );

        // Signature wrapping: the gap holds the /Contents and inserted bytes.
        let wrapped = attacks::wrap_signature(&data, sig_ref, [0, a, b, d]);
        assert_first_rejected(
            &format!("{name}: wrapping"),
            &wrapped,
            SubIndication::FormatFailure,
            "gap",
        );

        // Truncation after the signature: before the final %%EOF, and inside /Contents.
        let cut = &data[..data.len() - 8];
        match verify_bytes(cut) {
            Ok(r) => assert!(!r.all_passed(), "{name}: truncated file passed"),
            // Refused as unreadable: that is not a pass either.
            Err(e) => eprintln!("{name}: truncated file refused: {e}"),
        }
        let cut = &data[..a + 100];
        assert!(
            verify_bytes(cut).is_err_or_fails(),
            "{name}: cut inside /Contents passed"
        );
    }
}

trait FailsOrErr {
    fn is_err_or_fails(&self) -> bool;
}

impl FailsOrErr for Result<pades::Report, pades::Error> {
    fn is_err_or_fails(&self) -> bool {
        self.as_ref().map_or(true, |r| !r.all_passed())
    }
}

#[test]
fn benign_later_signatures_keep_every_signature_valid() {
    let Some(pyhanko) = segel_tests::tool("pyhanko") else {
        return;
    };
    let work = tempfile::tempdir().expect("tempdir");
    let first = work.path().join("first.pdf");
    std::fs::write(&first, ours("surat-rekomendasi.pdf", work.path())).expect("write");
    let second = work.path().join("second.pdf");
    let p = pki();
    let o = std::process::Command::new(pyhanko)
        .args([
            "sign",
            "addsig",
            "--use-pades",
            "--field",
            "2/350,100,550,160/Paraf",
            "pemder",
            "--no-pass",
            "--key",
        ])
        .arg(p.file("dev-agency-3072.key"))
        .arg("--cert")
        .arg(p.file("dev-agency-3072.pem"))
        .arg("--chain")
        .arg(p.file("agency-ca.pem"))
        .arg(&first)
        .arg(&second)
        .output()
        .expect("pyhanko");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let data = std::fs::read(&second).expect("read");
    let r = verify_bytes(&data).expect("reads");
    assert_eq!(r.signatures.len(), 2);
    assert!(r.all_passed(), "{r:#?}");
    assert!(
        !r.signatures[0].changes.is_empty(),
        "the visible pyHanko signature is a recorded change"
    );
    // And ours on top of pyHanko's, once more.
    let third = work.path().join("third.pdf");
    offline::sign_file(
        &second,
        &third,
        &opts("dev-agency.key", "dev-agency.pem", false),
    )
    .expect("sign");
    let r = verify_bytes(&std::fs::read(&third).expect("read")).expect("reads");
    assert_eq!(r.signatures.len(), 3);
    assert!(r.all_passed(), "{r:#?}");
}

/// Sign `name` with a certification of level `p`.
fn certified(name: &str, p: u8, work: &Path) -> Vec<u8> {
    let out = work.join(format!("cert{p}-{name}"));
    let mut o = opts("dev-agency.key", "dev-agency.pem", false);
    o.request.certify = Some(p);
    offline::sign_file(&corpus().join(name), &out, &o).expect("certify");
    std::fs::read(out).expect("read")
}

#[test]
fn docmdp_permissions_are_enforced_on_later_revisions() {
    let work = tempfile::tempdir().expect("tempdir");
    let f = "acroform-textfield.pdf";
    let c = SubIndication::SigConstraintsFailure;
    // P=1: nothing may follow, not even a form change.
    let p1 = certified(f, 1, work.path());
    let r = verify_bytes(&p1).expect("reads");
    assert!(r.all_passed());
    assert_eq!(r.signatures[0].certification, Some(1));
    assert_first_rejected(
        "P1 + form",
        &attacks::set_field_value(&p1, "nama_pemohon", "Mallory"),
        c,
        "DocMDP /P 1",
    );
    // P=2: changing a form value passes; an annotation does not.
    let p2 = certified(f, 2, work.path());
    let filled = attacks::set_field_value(&p2, "nama_pemohon", "Budi Santoso");
    let r = verify_bytes(&filled).expect("reads");
    assert!(r.all_passed(), "P2 + form: {r:#?}");
    assert_first_rejected(
        "P2 + annotation",
        &attacks::add_annotation(&p2),
        c,
        "DocMDP /P 2",
    );
    // P=3: annotations pass too; content changes never.
    let p3 = certified(f, 3, work.path());
    let r = verify_bytes(&attacks::add_annotation(&p3)).expect("reads");
    assert!(r.all_passed(), "P3 + annotation: {r:#?}");
    assert_first_rejected(
        "P3 + content",
        &attacks::replace_content(&p3),
        c,
        "replaced",
    );
    // Approval signature (no certification): a filled-in value may not change afterwards.
    let approval = ours(f, work.path());
    assert_first_rejected(
        "approval + changed value",
        &attacks::set_field_value(&approval, "nama_pemohon", "Mallory"),
        c,
        "changed its value",
    );
}

#[test]
fn field_locks_are_enforced() {
    let work = tempfile::tempdir().expect("tempdir");
    let base = std::fs::read(corpus().join("acroform-textfield.pdf")).expect("corpus");
    for (locked, expect_pass) in [(&["catatan"][..], false), (&["lainnya"][..], true)] {
        let with_fields = attacks::add_fields_with_lock(&base, "catatan", "Stempel", locked);
        let input = work.path().join("fields.pdf");
        std::fs::write(&input, &with_fields).expect("write");
        let signed = work.path().join("signed.pdf");
        let mut o = opts("dev-agency.key", "dev-agency.pem", false);
        o.request.field = Some("Stempel".into());
        offline::sign_file(&input, &signed, &o).expect("sign into the locked field");
        let data = std::fs::read(&signed).expect("read");
        assert!(verify_bytes(&data).expect("reads").all_passed());
        // Filling the empty field afterwards: allowed form filling, unless the lock covers it.
        let filled = attacks::set_field_value(&data, "catatan", "diisi setelah ditandatangani");
        let r = verify_bytes(&filled).expect("reads");
        if expect_pass {
            assert!(r.all_passed(), "unlocked field: {r:#?}");
        } else {
            assert_first_rejected(
                "locked field filled",
                &filled,
                SubIndication::SigConstraintsFailure,
                "locked",
            );
        }
    }
}

/// A legacy `adbe.pkcs7.sha1` signature (made with `openssl cms -sign -nodetach` over the SHA-1
/// of the byte range) is verified and reported with its level: cryptographically intact, but
/// INDETERMINATE because SHA-1 is not accepted; a changed byte is a HASH_FAILURE.
#[test]
fn legacy_pkcs7_sha1_signatures_are_verified_and_reported() {
    let Some(openssl) = segel_tests::tool("openssl") else {
        return;
    };
    let work = tempfile::tempdir().expect("tempdir");
    let pdf = std::fs::read(corpus().join("reportlab-1page.pdf")).expect("corpus");
    let prepared = pades::prepare(
        &pdf,
        &pades::SignatureRequest::new(pades::UnixTime::now()),
        8192,
    )
    .expect("prepare");
    let [_, a, b, d] = prepared.byte_range();
    let mut data = prepared.embed(&[]).expect("empty").to_vec();
    let at = data
        .windows(19)
        .rposition(|w| w == b"ETSI.CAdES.detached")
        .expect("subfilter");
    data[at..at + 19].copy_from_slice(b"adbe.pkcs7.sha1    ");
    let mut covered = data[..a].to_vec();
    covered.extend_from_slice(&data[b..b + d]);
    let sha1 = openssl_sha1(&covered);
    let input = work.path().join("sha1.bin");
    std::fs::write(&input, sha1).expect("write");
    let der = work.path().join("cms.der");
    let p = pki();
    let o = std::process::Command::new(openssl)
        .args([
            "cms",
            "-sign",
            "-binary",
            "-nodetach",
            "-outform",
            "DER",
            "-md",
            "sha256",
            "-in",
        ])
        .arg(&input)
        .arg("-signer")
        .arg(p.file("dev-agency.pem"))
        .arg("-inkey")
        .arg(p.file("dev-agency.key"))
        .arg("-certfile")
        .arg(p.file("agency-ca.pem"))
        .arg("-out")
        .arg(&der)
        .output()
        .expect("openssl");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cms = std::fs::read(&der).expect("cms");
    let hex: String = cms.iter().map(|x| format!("{x:02X}")).collect();
    data[a + 1..a + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    let r = verify_bytes(&data).expect("reads");
    let s = &r.signatures[0];
    assert_eq!(s.sub_filter, "adbe.pkcs7.sha1");
    assert!(
        s.level.is_some_and(|l| l.describe().contains("SHA-1")),
        "{:?}",
        s.level
    );
    assert!(
        s.checks
            .iter()
            .filter(|c| c.name == "signature" || c.name == "message-digest")
            .all(|c| c.passed),
        "{s:#?}"
    );
    assert!(
        s.checks.iter().any(|c| c.name == "digest" && c.passed),
        "{s:#?}"
    );
    assert_eq!(s.indication, Indication::Indeterminate);
    assert_eq!(
        s.sub_indication,
        Some(SubIndication::CryptoConstraintsFailure)
    );
    // One changed byte in the signed part.
    let mut bad = data.clone();
    bad[100] ^= 1;
    let r = verify_bytes(&bad).expect("reads");
    assert_eq!(
        r.signatures[0].indication,
        Indication::TotalFailed,
        "{:#?}",
        r.signatures[0]
    );
    assert_eq!(
        r.signatures[0].sub_indication,
        Some(SubIndication::HashFailure)
    );
}

fn openssl_sha1(data: &[u8]) -> [u8; 20] {
    // The test crate has no crypto dependency of its own: openssl computes the SHA-1.
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("data");
    std::fs::write(&f, data).expect("write");
    let o = std::process::Command::new("openssl")
        .args(["dgst", "-sha1", "-binary"])
        .arg(&f)
        .output()
        .expect("openssl dgst");
    o.stdout.try_into().expect("20 bytes")
}

//! `segel sign` with a visible seal, offline, through the binary: the document id and link it
//! prints, the output judged by our verifier and pdfsig, the seal's text searchable, and the
//! refusals (a bad document id, a tag that is not in the text, no verification URL, a tag with
//! a rectangle) that leave no file behind.

use std::path::Path;
use std::process::{Command, Output};

use segel_tests::{corpus, pdfsig_check, pki, tool};

const VERIFY_URL: &str = "http://127.0.0.1:8080";

/// `segel sign IN -o OUT` offline with the development agency's key, plus `args`.
fn sign(input: &Path, output: &Path, args: &[&str]) -> Output {
    let p = pki();
    Command::new(segel_tests::segel_bin())
        .arg("sign")
        .arg(input)
        .arg("-o")
        .arg(output)
        .arg("--agency-key")
        .arg(p.file("dev-agency.key"))
        .arg("--agency-cert")
        .arg(p.file("dev-agency.pem"))
        .arg("--agency-chain")
        .arg(p.file("dev-agency-chain.pem"))
        .args(args)
        .env_remove("SEGEL_VERIFY_URL")
        .output()
        .expect("runs segel")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The value of the stdout line `key: value`.
fn line<'a>(stdout: &'a str, key: &str) -> Option<&'a str> {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(": "))
}

/// Nothing but `keep` in `dir`: no output, no temporary file.
fn only(dir: &Path, keep: &[&str]) {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, keep, "files left in {}", dir.display());
}

#[test]
fn a_tag_seal_prints_its_document_id_and_link_and_verifies() {
    let work = tempfile::tempdir().expect("tempdir");
    let template = work.path().join("stempel.txt");
    std::fs::write(
        &template,
        "# the seal of the test agency\nDitandatangani secara elektronik oleh:\n?{jabatan}\n\
         *{instansi}\n?*{nama}\nDokumen {dokumen}\n{tanggal}\n",
    )
    .expect("template");
    let out = work.path().join("sealed.pdf");
    let o = sign(
        &corpus().join("surat-rekomendasi.pdf"),
        &out,
        &[
            "--tag",
            "#ttd#",
            "--verify-url",
            VERIFY_URL,
            "--stamp-template",
            template.to_str().expect("utf-8 path"),
            "--stamp-field",
            "jabatan=Sekretaris Jenderal",
            "--stamp-field",
            "nama=Budi Santoso",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let id = line(&stdout, "document id").unwrap_or_else(|| panic!("no id: {stdout}"));
    assert!(
        id.len() >= 22
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
        "{id:?}"
    );
    assert_eq!(
        line(&stdout, "verification link"),
        Some(format!("{VERIFY_URL}/d/{id}").as_str()),
        "{stdout}"
    );
    // Our verifier, through the binary, and pdfsig.
    let v = Command::new(segel_tests::segel_bin())
        .arg("verify")
        .arg(&out)
        .arg("--trust")
        .arg(crate::trust())
        .output()
        .expect("runs segel verify");
    assert_eq!(v.status.code(), Some(0), "{}", text(&v));
    pdfsig_check(&out, 1).unwrap_or_else(|e| panic!("{e:#}"));
    // The seal's text is on the page and searchable (embedded font with a ToUnicode map):
    // the document id line of the template, and the signer's name.
    if let Some(pdftotext) = tool("pdftotext") {
        let t = Command::new(pdftotext)
            .arg(&out)
            .arg("-")
            .output()
            .expect("pdftotext");
        let page_text = String::from_utf8_lossy(&t.stdout);
        // In the narrow text column the id's line wraps, and a 22-character id may be broken
        // across lines: compare without the line breaks.
        let joined: String = page_text.split_whitespace().collect();
        assert!(
            page_text.contains("Dokumen")
                && joined.contains(id)
                && page_text.contains("Budi Santoso"),
            "the seal's text is not in the page text:\n{page_text}"
        );
    }
    // A fixed document id is used as given.
    let again = work.path().join("fixed.pdf");
    let o = sign(
        &corpus().join("surat-rekomendasi.pdf"),
        &again,
        &[
            "--tag",
            "#ttd#",
            "--verify-url",
            VERIFY_URL,
            "--document-id",
            "Surat-B17_2026-Kemendagri",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        line(&stdout, "document id"),
        Some("Surat-B17_2026-Kemendagri")
    );
}

#[test]
fn a_document_id_of_the_wrong_form_is_refused_before_signing() {
    let work = tempfile::tempdir().expect("tempdir");
    let out = work.path().join("out.pdf");
    for bad in [
        "short",
        "has space in it 12345",
        "slash/in/the/id/12345",
        &"a".repeat(65),
    ] {
        let o = sign(
            &corpus().join("surat-rekomendasi.pdf"),
            &out,
            &[
                "--tag",
                "#ttd#",
                "--verify-url",
                VERIFY_URL,
                "--document-id",
                bad,
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", text(&o));
        assert!(text(&o).contains("document id"), "{bad}: {}", text(&o));
        only(work.path(), &[]);
    }
}

#[test]
fn a_tag_that_is_not_in_the_text_is_refused_naming_it_and_nothing_is_written() {
    let work = tempfile::tempdir().expect("tempdir");
    let out = work.path().join("out.pdf");
    let o = sign(
        &corpus().join("surat-rekomendasi.pdf"),
        &out,
        &["--tag", "#tidak-ada#", "--verify-url", VERIFY_URL],
    );
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("#tidak-ada#"), "{}", text(&o));
    only(work.path(), &[]);
}

#[test]
fn seal_usage_errors_say_what_to_give() {
    let work = tempfile::tempdir().expect("tempdir");
    let out = work.path().join("out.pdf");
    let input = corpus().join("surat-rekomendasi.pdf");
    // No verification URL: neither the flag nor SEGEL_VERIFY_URL.
    let o = sign(&input, &out, &["--tag", "#ttd#"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("--verify-url") && text(&o).contains("SEGEL_VERIFY_URL"),
        "{}",
        text(&o)
    );
    // A tag and a rectangle; --visible without a place; a NaN rectangle.
    for args in [
        &[
            "--tag",
            "#ttd#",
            "--rect",
            "10,10,200,110",
            "--verify-url",
            VERIFY_URL,
        ][..],
        &["--visible", "--verify-url", VERIFY_URL],
        &["--rect", "NaN,10,200,110", "--verify-url", VERIFY_URL],
        &["--stamp-field", "nama=Budi", "--verify-url", VERIFY_URL],
    ] {
        let o = sign(&input, &out, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
    }
    only(work.path(), &[]);
    // Seals that cannot be composed are refused before anything is signed: a required
    // template line without its value (named), a tag with a control character or of 65 bytes,
    // too many stamp fields, a value with a newline, a template that is not UTF-8 text.
    let template = work.path().join("nip.txt");
    std::fs::write(&template, "*{instansi}\nNIP. {nip}\n").expect("template");
    let binary = work.path().join("binary.txt");
    std::fs::write(&binary, b"*{instansi}\n\xff\xfe\n").expect("template");
    let long_tag = "#".repeat(65);
    let many: Vec<String> = (0..17).map(|i| format!("f{i}=x")).collect();
    let mut too_many = vec!["--tag", "#ttd#"];
    for f in &many {
        too_many.extend(["--stamp-field", f.as_str()]);
    }
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "--tag",
                "#ttd#",
                "--stamp-template",
                template.to_str().expect("path"),
            ],
            "{nip}",
        ),
        (vec!["--tag", "#t\u{7}d#"], "tag"),
        (vec!["--tag", &long_tag], "tag"),
        (too_many, "at most"),
        (
            vec!["--tag", "#ttd#", "--stamp-field", "nama=Budi\nSantoso"],
            "nama",
        ),
        (
            vec![
                "--tag",
                "#ttd#",
                "--stamp-template",
                binary.to_str().expect("path"),
            ],
            "UTF-8",
        ),
    ];
    for (args, want) in cases {
        let mut args = args;
        args.extend(["--verify-url", VERIFY_URL]);
        let o = sign(&input, &out, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(want), "{args:?}: {}", text(&o));
        only(work.path(), &["binary.txt", "nip.txt"]);
    }
}

/// Online, the server draws the seal and assigns the document id; with `--digest-only` the
/// client draws it with the agency's stamp settings and sends the id. Either way the id and
/// the agency's link are printed, and the output verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn online_and_digest_only_seals_print_the_document_id_and_link() {
    use crate::client::{cli, output};
    let server = crate::grpc::start(8 * 1024 * 1024).await;
    let work = tempfile::tempdir().expect("tempdir");
    let state = work.path().join("state");
    let mut ids = Vec::new();
    for (name, extra) in [
        ("server.pdf", &[][..]),
        ("digest.pdf", &["--digest-only"][..]),
    ] {
        let out = work.path().join(name);
        let mut c = cli(&server, &state);
        c.args(["sign", "--agency", "dev", "--tag", "#ttd#"])
            .args(["--stamp-field", "nama=Budi Santoso"])
            .args(extra)
            .arg(corpus().join("surat-rekomendasi.pdf"))
            .arg("-o")
            .arg(&out);
        let o = output(c).await;
        assert_eq!(o.status.code(), Some(0), "{name}: {}", text(&o));
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        let id = line(&stdout, "document id")
            .unwrap_or_else(|| panic!("{name}: no id: {stdout}"))
            .to_string();
        let link = line(&stdout, "verification link").unwrap_or_default();
        assert!(link.ends_with(&format!("/d/{id}")), "{name}: {stdout}");
        pdfsig_check(&out, 1).unwrap_or_else(|e| panic!("{name}: {e:#}"));
        ids.push(id);
    }
    assert_ne!(ids[0], ids[1], "two documents share a document id");
    // Each id finds its entry in the log (the QR code's link is all a reader needs).
    for id in &ids {
        let mut c = cli(&server, &state);
        c.args(["log", "entry", "--document-id", id]);
        let o = output(c).await;
        assert_eq!(o.status.code(), Some(0), "{id}: {}", text(&o));
        let list: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
        let want: String = pades::sha256(id.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(list[0]["document_id_sha256"], want.as_str(), "{list}");
    }
    // A tag that is not in the text: refused naming it, nothing written, in both modes.
    for extra in [&[][..], &["--digest-only"][..]] {
        let out = work.path().join("missing-tag.pdf");
        let mut c = cli(&server, &state);
        c.args(["sign", "--agency", "dev", "--tag", "#tidak-ada#"])
            .args(extra)
            .arg(corpus().join("surat-rekomendasi.pdf"))
            .arg("-o")
            .arg(&out);
        let o = output(c).await;
        assert_ne!(o.status.code(), Some(0), "{extra:?}: {}", text(&o));
        assert!(text(&o).contains("#tidak-ada#"), "{extra:?}: {}", text(&o));
        assert!(!out.exists());
    }
    server.stop().await;
}

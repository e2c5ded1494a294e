//! The binary's checks tell the truth: `--check` and start-up refuse a TLS key of another
//! certificate (naming both files) before anything says it listens, and `log verify` on the
//! folder of a running log says "in use" with its own exit code, not "not intact".

use std::path::Path;
use std::process::{Command, Output};

use segel_server::store::{load_or_create_key, Log};

fn server(certs: &Path, data: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_segel-server"))
        .args([
            "--dev",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "off",
        ])
        .arg("--certs")
        .arg(certs)
        .arg("--data")
        .arg(data)
        .args(extra)
        .output()
        .expect("run segel-server")
}

/// A development PKI whose TLS server key is the client's key.
fn pki_with_a_foreign_tls_key(dir: &Path) -> std::path::PathBuf {
    let certs = dir.join("certs");
    segel_devpki::generate(&certs).expect("dev PKI");
    std::fs::copy(certs.join("client.key"), certs.join("server.key")).expect("swap the key");
    certs
}

#[test]
fn check_refuses_a_tls_key_of_another_certificate_naming_both_files() {
    let t = tempfile::tempdir().expect("tempdir");
    let certs = pki_with_a_foreign_tls_key(t.path());
    let o = server(&certs, &t.path().join("data"), &["--check"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stdout {stdout}\nstderr {stderr}");
    assert!(!stdout.contains("configuration OK"), "{stdout}");
    assert!(
        stderr.contains(&certs.join("server.pem").display().to_string())
            && stderr.contains(&certs.join("server.key").display().to_string())
            && stderr.contains("does not belong"),
        "{stderr}"
    );
}

#[test]
fn a_server_with_a_tls_key_of_another_certificate_never_says_it_listens() {
    let t = tempfile::tempdir().expect("tempdir");
    let certs = pki_with_a_foreign_tls_key(t.path());
    let o = server(&certs, &t.path().join("data"), &[]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stdout {stdout}\nstderr {stderr}");
    assert!(!stdout.contains("listening"), "{stdout}");
    assert!(stderr.contains("server.key"), "{stderr}");
}

#[test]
fn check_accepts_the_matching_pair() {
    let t = tempfile::tempdir().expect("tempdir");
    let certs = t.path().join("certs");
    segel_devpki::generate(&certs).expect("dev PKI");
    let o = server(&certs, &t.path().join("data"), &["--check"]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("configuration OK"), "{stdout}");
    assert!(
        stdout.contains("agency \"dev\": visible seals link to http://127.0.0.1:8080/d/"),
        "{stdout}"
    );
}

/// `--check` of a configuration file reads the stamp settings too: a stamp image that is not a
/// PNG or JPEG is refused naming the agency and the key, a good one is summed up.
#[test]
fn check_reads_the_stamp_settings_naming_agency_and_key() {
    let t = tempfile::tempdir().expect("tempdir");
    let certs = t.path().join("certs");
    segel_devpki::generate(&certs).expect("dev PKI");
    let image = t.path().join("logo.png");
    std::fs::write(&image, b"GIF89a, not a PNG").expect("write");
    let c = |f: &str| certs.join(f).display().to_string();
    let config = |stamp: &str| {
        format!(
            "listen = \"127.0.0.1:0\"\ndata = \"{data}\"\n\
             [tls]\ncert = \"{cert}\"\nkey = \"{key}\"\nclient_ca = \"{ca}\"\n\
             [[agency]]\nid = \"kemenkes\"\nname = \"Kementerian Kesehatan\"\n\
             key = \"{akey}\"\ncert = \"{acert}\"\nchain = \"{chain}\"\n{stamp}",
            data = t.path().join("data").display(),
            cert = c("server.pem"),
            key = c("server.key"),
            ca = c("tls-ca.pem"),
            akey = c("dev-agency.key"),
            acert = c("dev-agency.pem"),
            chain = c("dev-agency-chain.pem"),
        )
    };
    let run = |text: String| {
        let file = t.path().join("segel.toml");
        std::fs::write(&file, text).expect("write");
        Command::new(env!("CARGO_BIN_EXE_segel-server"))
            .arg("--config")
            .arg(&file)
            .arg("--check")
            .output()
            .expect("run segel-server")
    };
    let bad = format!(
        "[agency.stamp]\nverify_url = \"https://segel.kemkes.go.id\"\nimage = \"{}\"\n",
        image.display()
    );
    let o = run(config(&bad));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("agency kemenkes: stamp.image") && stderr.contains("neither a PNG"),
        "{stderr}"
    );
    std::fs::write(&image, b"\x89PNG\r\n\x1a\n").expect("write");
    let o = run(config(&bad));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("agency \"kemenkes\": visible seals link to https://segel.kemkes.go.id/d/")
            && stdout.contains("image: 8 bytes"),
        "{stdout}"
    );
    let o = run(config(""));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("agency \"kemenkes\": invisible signatures only"),
        "{stdout}"
    );
}

fn verify(data: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_segel-server"))
        .args(["log", "verify", "--data"])
        .arg(data)
        .output()
        .expect("run segel-server log verify")
}

#[test]
fn verifying_the_log_of_a_running_server_says_in_use_not_tampered() {
    let t = tempfile::tempdir().expect("tempdir");
    let data = t.path().join("data");
    let origin = "segel.dev/log";
    let key = load_or_create_key(&data, origin).expect("log key");
    let log = Log::open(&data, origin, key).expect("open the log");

    let o = verify(&data);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(3), "{stdout}");
    assert!(!stdout.contains("NOT intact"), "{stdout}");
    assert!(
        stdout.contains("in use by a running server") && stdout.contains("stop the server"),
        "{stdout}"
    );

    log.close();
    drop(log);
    let o = verify(&data);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}");
    assert!(stdout.starts_with("log intact"), "{stdout}");
}

/// Forged external checkpoints are NOT intact even while a server holds the database: "in
/// use" never hides what can be checked without it.
#[test]
fn forged_checkpoint_files_are_not_intact_even_while_the_log_is_in_use() {
    let t = tempfile::tempdir().expect("tempdir");
    let data = t.path().join("data");
    let origin = "segel.dev/log";
    let key = load_or_create_key(&data, origin).expect("log key");
    let log = Log::open(&data, origin, key).expect("open the log");
    let mut forged = 0;
    for slot in ["checkpoint.a.note", "checkpoint.b.note"] {
        let path = data.join(slot);
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if text.lines().count() < 3 {
            continue;
        }
        forged += 1;
        // Another root on the third line: the signature no longer covers the text.
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        lines[2] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into();
        std::fs::write(&path, lines.join("\n") + "\n").expect("forge");
    }
    assert!(forged > 0, "a checkpoint file to forge");
    let o = verify(&data);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("NOT intact"), "{stdout}");
    drop(log);
}

#[test]
fn log_verify_documents_its_exit_codes() {
    let o = Command::new(env!("CARGO_BIN_EXE_segel-server"))
        .args(["log", "verify", "--help"])
        .output()
        .expect("run segel-server log verify --help");
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(
        help.contains("0 the log is intact")
            && help.contains("1 it is NOT intact")
            && help.contains("3 the log is in use"),
        "{help}"
    );
}

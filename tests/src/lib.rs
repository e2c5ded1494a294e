//! Helpers for the end-to-end tests: the development PKI, the shared corpus, and the independent
//! verifiers (poppler `pdfsig` with an NSS database, `qpdf --check`, `openssl cms -verify`,
//! pyHanko).
//!
//! When `SEGEL_REQUIRE_TOOLS=1` (set by the README's test command) a missing verifier fails the
//! test; otherwise the check is skipped with a message, so that `cargo test` alone still runs.

#![allow(missing_docs)]

pub mod attacks;
pub mod browser;
pub mod fixtures;
pub mod poppler;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use anyhow::{bail, Context, Result};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The test corpus (`tests/corpus`), or `SEGEL_CORPUS`.
pub fn corpus() -> PathBuf {
    std::env::var_os("SEGEL_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("tests/corpus"))
}

/// Files of the corpus with their expected outcome (`sign`, `reject`), from MANIFEST.tsv.
pub fn manifest() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(corpus().join("MANIFEST.tsv")).expect("corpus MANIFEST.tsv");
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.len() >= 4).then(|| (cols[0].to_string(), cols[3].to_string()))
        })
        .collect()
}

/// The development PKI, generated once per test process.
pub struct Pki {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    pub nss: PathBuf,
}

impl Pki {
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

/// The dev PKI for this test process.
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("certs");
        segel_devpki::generate(&path).expect("dev PKI");
        let nss = dir.path().join("nss");
        std::fs::create_dir_all(&nss).expect("nss dir");
        if tool("certutil").is_some() {
            let db = format!("sql:{}", nss.display());
            run(Command::new("certutil").args(["-N", "-d", &db, "--empty-password"]))
                .expect("certutil -N");
            for (nick, pem) in [
                ("segel-dev-root", path.join("doc-root.pem")),
                ("other-ca-root", corpus().join("other-ca-root.pem")),
            ] {
                run(Command::new("certutil")
                    .args(["-A", "-d", &db, "-n", nick, "-t", "CT,C,C", "-i"])
                    .arg(pem))
                .expect("certutil -A");
            }
        }
        Pki {
            _dir: dir,
            path,
            nss,
        }
    })
}

fn required() -> bool {
    std::env::var("SEGEL_REQUIRE_TOOLS").is_ok_and(|v| v == "1")
}

/// Path of an external tool, or `None` (panics when tools are required).
pub fn tool(name: &str) -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = match name {
        "pyhanko" => {
            let mut v = Vec::new();
            if let Some(p) = std::env::var_os("SEGEL_PYHANKO") {
                v.push(PathBuf::from(p));
            }
            v.push(root().join(".venv/bin/pyhanko"));
            v
        }
        _ => std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).map(|d| d.join(name)).collect())
            .unwrap_or_default(),
    };
    let found = candidates.into_iter().find(|p| p.is_file());
    if found.is_none() {
        assert!(
            !required(),
            "required verifier `{name}` is not installed (run the README's test command)"
        );
        eprintln!("skipping checks by `{name}`: not installed");
    }
    found
}

/// Run a command, returning its output whatever the exit status.
pub fn run(cmd: &mut Command) -> Result<Output> {
    cmd.output().with_context(|| format!("running {cmd:?}"))
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `qpdf --check` must report no error and no warning.
pub fn qpdf_check(file: &Path) -> Result<()> {
    let Some(qpdf) = tool("qpdf") else {
        return Ok(());
    };
    let o = run(Command::new(qpdf).arg("--check").arg(file))?;
    let t = text(&o);
    if !o.status.success() || t.contains("WARNING") {
        bail!(
            "qpdf --check {} failed ({}):\n{t}",
            file.display(),
            o.status
        );
    }
    Ok(())
}

/// pdfsig must find `expected` signatures, all "Signature is Valid." and, for the trusted ones,
/// "Certificate is Trusted.".
pub fn pdfsig_check(file: &Path, expected: usize) -> Result<()> {
    let Some(pdfsig) = tool("pdfsig") else {
        return Ok(());
    };
    let db = format!("sql:{}", pki().nss.display());
    let o = run(Command::new(pdfsig).args(["-nssdir", &db]).arg(file))?;
    let t = text(&o);
    let valid = t
        .matches("Signature Validation: Signature is Valid.")
        .count();
    let trusted = t
        .matches("Certificate Validation: Certificate is Trusted.")
        .count();
    if valid != expected || trusted != expected {
        bail!(
            "pdfsig: {valid} valid and {trusted} trusted of {expected} signatures in {}:\n{t}",
            file.display()
        );
    }
    Ok(())
}

/// pdfsig's view of signature `index` (0-based): `Signature is Valid.` or not.
pub fn pdfsig_says_valid(file: &Path) -> Result<Vec<bool>> {
    let Some(pdfsig) = tool("pdfsig") else {
        return Ok(Vec::new());
    };
    let db = format!("sql:{}", pki().nss.display());
    let o = run(Command::new(pdfsig).args(["-nssdir", &db]).arg(file))?;
    Ok(text(&o)
        .lines()
        .filter(|l| l.contains("Signature Validation:"))
        .map(|l| l.contains("Signature is Valid."))
        .collect())
}

/// pyHanko's executive summary must say VALID for `expected` signatures and nothing else.
pub fn pyhanko_check(file: &Path, expected: usize) -> Result<()> {
    pyhanko_check_with(file, expected, &[])
}

/// As [`pyhanko_check`], with extra options (`--no-strict-syntax` for hybrid-reference files,
/// which pyHanko refuses in strict mode whoever signed them).
pub fn pyhanko_check_with(file: &Path, expected: usize, extra: &[&str]) -> Result<()> {
    let Some(ph) = tool("pyhanko") else {
        return Ok(());
    };
    let o = run(Command::new(ph)
        .args(["sign", "validate"])
        .args(extra)
        .args([
            "--no-revocation-check",
            "--trust-replace",
            "--executive-summary",
            "--trust",
        ])
        .arg(pki().file("doc-root.pem"))
        .arg("--trust")
        .arg(corpus().join("other-ca-root.pem"))
        .arg(file))?;
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let valid = out.lines().filter(|l| l.ends_with(":VALID")).count();
    if !o.status.success() || valid != expected {
        bail!(
            "pyHanko judged {valid} of {expected} signatures VALID in {} ({}):\n{}",
            file.display(),
            o.status,
            text(&o)
        );
    }
    Ok(())
}

/// Extract the CMS and the signed bytes of the *last* signature by its /ByteRange (plain byte
/// slicing, no PDF parsing), and let `openssl cms -verify` check them against the dev root.
pub fn openssl_check(file: &Path, work: &Path) -> Result<()> {
    let Some(openssl) = tool("openssl") else {
        return Ok(());
    };
    let data = std::fs::read(file)?;
    let at = data
        .windows(10)
        .rposition(|w| w == b"/ByteRange")
        .context("no /ByteRange")?;
    let open = at + data[at..].iter().position(|&b| b == b'[').context("[")?;
    let close = open + data[open..].iter().position(|&b| b == b']').context("]")?;
    let nums: Vec<usize> = std::str::from_utf8(&data[open + 1..close])?
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let [a, b, c, d] = nums[..] else {
        bail!("ByteRange {nums:?}")
    };
    let mut signed = data[a..a + b].to_vec();
    signed.extend_from_slice(&data[c..c + d]);
    let hex = &data[b + 1..c - 1];
    let mut cms: Vec<u8> = hex
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap_or("zz"), 16))
        .collect::<Result<_, _>>()?;
    // DER length of the outer SEQUENCE, to cut the zero padding.
    let len = match cms.get(1) {
        Some(&l) if l < 0x80 => 2 + usize::from(l),
        Some(&l) => {
            let n = usize::from(l & 0x7f);
            2 + n
                + cms[2..2 + n]
                    .iter()
                    .fold(0usize, |acc, &x| acc << 8 | usize::from(x))
        }
        None => bail!("empty /Contents"),
    };
    cms.truncate(len);
    let sig = work.join("sig.der");
    let content = work.join("content.bin");
    std::fs::write(&sig, &cms)?;
    std::fs::write(&content, &signed)?;
    let o = run(Command::new(openssl)
        .args([
            "cms", "-verify", "-binary", "-inform", "DER", "-purpose", "any", "-in",
        ])
        .arg(&sig)
        .arg("-content")
        .arg(&content)
        .arg("-CAfile")
        .arg(pki().file("doc-root.pem"))
        .args(["-out", "/dev/null"]))?;
    let t = text(&o);
    if !o.status.success() || !t.contains("Verification successful") {
        bail!("openssl cms -verify failed for {}:\n{t}", file.display());
    }
    Ok(())
}

/// The `segel` CLI binary of this build (`target/<profile>/segel`), built on first use when a
/// test runs without the rest of the workspace.
pub fn segel_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // The test executable is target/<profile>/deps/<name>-<hash>.
        let exe = std::env::current_exe().expect("test executable");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .expect("target/<profile>");
        let bin = profile_dir.join("segel");
        if !bin.is_file() {
            let release = profile_dir.file_name().is_some_and(|n| n == "release");
            let mut cmd = Command::new(env!("CARGO"));
            cmd.args(["build", "-p", "segel-cli", "--bin", "segel"]);
            if release {
                cmd.arg("--release");
            }
            let o = run(&mut cmd).expect("cargo build segel");
            assert!(o.status.success(), "building segel: {}", text(&o));
        }
        bin
    })
    .clone()
}

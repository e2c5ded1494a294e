//! `segel`: seal and verify PDFs, online through a Segel server or offline with a key file.
//!
//! Exit codes: 0 success (for `verify`: every signature TOTAL-PASSED; for `batch`: every file
//! signed or skipped); 1 a document was refused, a signature did not pass, or some batch files
//! failed; 2 usage errors, unreadable input, or no connection to the server.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use segel_client::batch::{self, BatchOptions, FileResult, Outcome};
use segel_client::logcheck::ProvenEntry;
use segel_client::offline::{self, SignFileOptions};
use segel_client::online::{Client, SignRequest};
use segel_client::settings::Settings;
use segel_client::{render, ClientError};

/// mimalloc, as in the server: a batch allocates and frees every file's buffers, messages and
/// PDF objects, and the load tool's batch figures (docs/performance.md) are measured with it.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes, in one place.
mod exit {
    pub(crate) const OK: u8 = 0;
    pub(crate) const NOT_PASSED: u8 = 1;
    pub(crate) const USAGE: u8 = 2;
}

#[derive(Debug, Parser)]
#[command(
    name = "segel",
    version,
    about = "Seal and verify PDFs (PAdES), through a Segel server or offline",
    after_help = "Examples:
  segel --dev sign --agency dev letter.pdf -o letter-signed.pdf
  segel --dev verify letter-signed.pdf
  segel --dev batch --agency dev letters/ signed/ --jobs 16 --report report.json
  segel --dev log checkpoint
  segel sign letter.pdf -o out.pdf --key agency.key --cert agency.pem   (offline)

Connection settings come from the flags, then SEGEL_SERVER, SEGEL_CA, SEGEL_CERT, SEGEL_KEY,
SEGEL_LOG_KEY, SEGEL_STATE, then the file --config (or SEGEL_CONFIG, or
~/.config/segel/config.toml), then --dev (the files in certs-dev/ and https://localhost:50051)."
)]
struct Cli {
    #[command(flatten)]
    conn: Conn,
    #[command(subcommand)]
    command: Command,
}

/// How to reach the server (online commands).
#[derive(Debug, Args)]
#[command(next_help_heading = "Connection (online commands)")]
struct Conn {
    /// Server URL, e.g. https://segel.example.go.id:50051 [env: SEGEL_SERVER].
    #[arg(long, global = true)]
    server: Option<String>,
    /// CA certificate(s) of the server's TLS certificate, PEM [env: SEGEL_CA].
    #[arg(long, global = true)]
    ca: Option<PathBuf>,
    /// This client's TLS certificate, PEM, for signing [env: SEGEL_CERT].
    #[arg(long, global = true)]
    client_cert: Option<PathBuf>,
    /// This client's TLS private key, PEM [env: SEGEL_KEY].
    #[arg(long, global = true)]
    client_key: Option<PathBuf>,
    /// The log's verifier key to pin (C2SP), as printed by the server [env: SEGEL_LOG_KEY].
    #[arg(long, global = true)]
    log_key: Option<String>,
    /// Folder keeping the newest checkpoint seen [env: SEGEL_STATE; default
    /// ~/.local/state/segel].
    #[arg(long, global = true)]
    state: Option<PathBuf>,
    /// Settings file (TOML: server, ca, cert, key, log_key, state) [env: SEGEL_CONFIG].
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Use the development server and the files in --certs.
    #[arg(long, global = true)]
    dev: bool,
    /// Folder of the development PKI for --dev.
    #[arg(long, global = true, default_value = "certs-dev")]
    certs: PathBuf,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sign a PDF: online with --agency (the server seals and logs it), or offline with --key
    /// and --cert.
    #[command(after_help = "Examples:
  segel --dev sign --agency dev letter.pdf -o letter-signed.pdf --reason 'Disetujui'
  segel sign letter.pdf -o out.pdf --key agency.key --cert agency.pem --chain chain.pem")]
    Sign {
        /// The PDF to sign.
        input: PathBuf,
        /// Where to write the signed PDF (written atomically).
        #[arg(short, long)]
        output: PathBuf,
        /// Online: the agency whose key seals the document.
        #[arg(long, conflicts_with_all = ["key", "cert", "chain", "name", "certify"])]
        agency: Option<String>,
        /// Online: idempotency key; a retry with the same id returns the same signature.
        #[arg(long, requires = "agency")]
        request_id: Option<String>,
        /// Online: the document's reference (e.g. the letter number), recorded in the log.
        #[arg(long, requires = "agency")]
        document_ref: Option<String>,
        /// Online: send only the digest of the locally prepared file (large files).
        #[arg(long, requires = "agency")]
        digest_only: bool,
        /// Offline: private key, PEM (PKCS#8 or PKCS#1), unencrypted, ideally mode 0600.
        #[arg(long)]
        key: Option<PathBuf>,
        /// Offline: signer certificate, PEM.
        #[arg(long)]
        cert: Option<PathBuf>,
        /// Offline: intermediate (and root) certificates, PEM; roots are not embedded.
        #[arg(long)]
        chain: Option<PathBuf>,
        #[command(flatten)]
        look: Look,
        /// Offline: /Name of the signer (normally taken from the certificate by viewers).
        #[arg(long)]
        name: Option<String>,
        /// Offline: certify the document (first signature only) with DocMDP permissions: 1 no
        /// changes, 2 form filling and signing, 3 also annotations.
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=3))]
        certify: Option<u8>,
    },
    /// Verify every signature of a PDF: online (the server's verdict, each log entry's
    /// inclusion proof checked here), or offline with --trust. Exit 0 only if every signature
    /// is TOTAL-PASSED.
    #[command(after_help = "Examples:
  segel --dev verify letter-signed.pdf
  segel verify letter-signed.pdf --trust doc-root.pem --json")]
    Verify {
        /// The PDF.
        file: PathBuf,
        /// Offline: trust anchors, PEM.
        #[arg(long)]
        trust: Option<PathBuf>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Sign every PDF under a folder into another, through one connection.
    #[command(after_help = "Examples:
  segel --dev batch --agency dev letters/ signed/
  segel --dev batch --agency dev scans/ signed/ --digest-only --jobs 4 --report report.csv

A rerun skips outputs that exist and verify, and retries use the same request ids, so an
interrupted batch never logs a document twice. Ctrl-C lets the files in flight finish.

No file name or path is sent to the server (names often hold personal data, and the log is
public) unless --document-ref-from-path is given. The output folder must lie outside the input
folder and not contain it. An output, or an output subfolder, that is a symbolic link fails
that file: nothing is written through a link.
Exit 0: every file signed or skipped; 1: some failed (see the report); 2: usage or connection.")]
    Batch {
        /// The agency whose key seals the documents.
        #[arg(long)]
        agency: String,
        /// Folder of PDFs (searched recursively).
        input: PathBuf,
        /// Folder for the signed PDFs (same relative paths).
        output: PathBuf,
        /// Files in flight at once.
        #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1024))]
        jobs: u16,
        /// MiB of input documents in memory at once, over all the files in flight: a large
        /// scan waits until it fits (and one larger than this runs alone).
        #[arg(long, default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..))]
        memory_mib: u32,
        /// Prepare each PDF here and send only its digest (nothing large crosses the network).
        #[arg(long)]
        digest_only: bool,
        /// Write a report: CSV if the name ends in .csv, JSON otherwise.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Seconds one attempt at one file may take before it is retried.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
        /// Send each file's path (relative to the input folder) as its document reference,
        /// which the server records in its public log as a hash. Off by default: file names
        /// often hold personal data (names, ID numbers).
        #[arg(long)]
        document_ref_from_path: bool,
        #[command(flatten)]
        look: Look,
    },
    /// Read the signature log; every answer is checked against the log's key and the newest
    /// checkpoint seen.
    Log {
        #[command(subcommand)]
        what: LogCommand,
    },
}

/// Appearance and kind of the signature.
#[derive(Debug, Args)]
struct Look {
    /// /Reason of the signature.
    #[arg(long)]
    reason: Option<String>,
    /// /Location of the signature.
    #[arg(long)]
    location: Option<String>,
    /// /ContactInfo of the signature.
    #[arg(long)]
    contact: Option<String>,
    /// Signature field name; an existing empty signature field of that name is signed.
    #[arg(long)]
    field: Option<String>,
    /// Page (1-based) that carries a new field's widget.
    #[arg(long, default_value_t = 1)]
    page: u32,
    /// Sign with RSASSA-PSS instead of PKCS#1 v1.5.
    #[arg(long)]
    pss: bool,
}

impl Look {
    fn options(&self) -> pades::SignOptions {
        // An empty text is no text, as on the wire.
        let text = |t: &Option<String>| t.clone().filter(|t| !t.is_empty());
        pades::SignOptions {
            field: text(&self.field),
            page: self.page,
            reason: text(&self.reason),
            location: text(&self.location),
            contact_info: text(&self.contact),
            pss: self.pss,
        }
    }
}

#[derive(Debug, Subcommand)]
enum LogCommand {
    /// The current checkpoint (signed note), checked and accepted.
    #[command(after_help = "Example:\n  segel --dev log checkpoint")]
    Checkpoint,
    /// Entries by index, by document or signature hash, or for a signed PDF.
    #[command(after_help = "Examples:
  segel --dev log entry 17
  segel --dev log entry --document-sha256 3f0a…
  segel --dev log entry --file letter-signed.pdf
  segel --dev log entry --document-ref B-17/2026")]
    Entry {
        /// The entry's index.
        #[arg(required_unless_present_any = ["document_sha256", "signature_sha256", "file", "document_ref"])]
        index: Option<u64>,
        /// SHA-256 (hex) of a signed document.
        #[arg(long, conflicts_with_all = ["index", "signature_sha256", "file"])]
        document_sha256: Option<String>,
        /// SHA-256 (hex) of a signature value.
        #[arg(long, conflicts_with_all = ["index", "file"])]
        signature_sha256: Option<String>,
        /// A signed PDF: its entries are looked up by the file's hash.
        #[arg(long, conflicts_with = "index")]
        file: Option<PathBuf>,
        /// The document reference given when signing. The log holds only a keyed hash of it,
        /// so the server looks it up, for a client certificate allowed for the agency.
        #[arg(long, conflicts_with_all = ["index", "document_sha256", "signature_sha256", "file"])]
        document_ref: Option<String>,
    },
    /// The inclusion proof of an entry in the current checkpoint, checked, as JSON that
    /// `segel log check` verifies offline.
    #[command(after_help = "Examples:
  segel --dev log proof 17 > proof.json
  segel log check proof.json --log-key 'segel-log+…'")]
    Proof {
        /// The entry's index.
        index: u64,
    },
    /// Check a proof saved by `segel log proof`, offline: the checkpoint's signature by the
    /// log key (--log-key, or SEGEL_LOG_KEY), the entry's leaf hash and the inclusion proof.
    Check {
        /// The proof file (JSON).
        proof: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    ExitCode::from(run(cli))
}

fn fail(e: &ClientError) -> u8 {
    eprintln!("segel: {e}");
    if e.is_unreadable_input() || e.is_connection() {
        exit::USAGE
    } else {
        exit::NOT_PASSED
    }
}

fn settings(c: &Conn) -> Result<Settings, ClientError> {
    let flags = Settings {
        server: c.server.clone(),
        ca: c.ca.clone(),
        cert: c.client_cert.clone(),
        key: c.client_key.clone(),
        log_key: c.log_key.clone(),
        state: c.state.clone(),
    };
    let file = match c.config.clone().or_else(Settings::default_file) {
        Some(p) => Settings::from_file(&p)?,
        None => Settings::default(),
    };
    let mut s = flags.or(Settings::from_env()).or(file);
    if c.dev {
        s = s.or(Settings::dev(&c.certs));
    }
    Ok(s)
}

fn runtime() -> Result<tokio::runtime::Runtime, ClientError> {
    segel_client::runtime_builder()
        .build()
        .map_err(|source| ClientError::Runtime { source })
}

/// Run an online command: connect, then `f`.
fn online<F, Fut>(conn: &Conn, f: F) -> u8
where
    F: FnOnce(Arc<Client>) -> Fut,
    Fut: std::future::Future<Output = Result<u8, ClientError>>,
{
    let result = (|| {
        let s = settings(conn)?;
        let rt = runtime()?;
        rt.block_on(async move {
            let client = Arc::new(Client::connect(&s).await?);
            f(client).await
        })
    })();
    match result {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

fn unhex(s: &str) -> Result<Vec<u8>, ClientError> {
    let s = s.trim();
    hex::decode(s).map_err(|_| ClientError::NotHex {
        text: s.to_string(),
    })
}

fn entry_json(e: &ProvenEntry) -> serde_json::Value {
    let r = &e.record;
    serde_json::json!({
        "index": e.index,
        "leaf_hash": hex::encode(e.leaf_hash),
        "time_ms": r.time_ms,
        "agency": r.agency,
        "caller": r.caller,
        "certificate_sha256": hex::encode(r.certificate_sha256),
        "message_digest": hex::encode(r.message_digest),
        "signature_sha256": hex::encode(r.signature_sha256),
        "document_sha256": hex::encode(r.document_sha256),
        "document_source": r.document_source.as_str(),
        "document_ref": r.document_ref,
        "document_ref_hmac": r.document_ref_hmac.map(hex::encode),
        "tree_size": e.checkpoint.checkpoint.size,
        "proof_checked": true,
    })
}

fn run(cli: Cli) -> u8 {
    let conn = &cli.conn;
    match cli.command {
        Command::Sign {
            input,
            output,
            agency: Some(agency),
            request_id,
            document_ref,
            digest_only,
            look,
            ..
        } => online(conn, |client| async move {
            let mut req = SignRequest::new(&agency);
            req.request_id = request_id.unwrap_or_default();
            req.document_ref = document_ref.unwrap_or_default();
            req.options = look.options();
            let (index, bytes) = if digest_only {
                let (i, b) =
                    batch::sign_file_by_digest(client.clone(), &req, &input, &output).await?;
                (i, b as usize)
            } else {
                let data = segel_client::read_file(&input)?;
                let sealed = client.sign_pdf(&req, data.into()).await?;
                offline::write_atomically(&output, &[&sealed.pdf])?;
                (sealed.entry.index, sealed.pdf.len())
            };
            println!(
                "signed {} -> {} ({bytes} bytes), log entry {index} (inclusion proof checked)",
                input.display(),
                output.display()
            );
            Ok(exit::OK)
        }),
        Command::Sign {
            input,
            output,
            key,
            cert,
            chain,
            look,
            name,
            certify,
            ..
        } => {
            let (Some(key), Some(cert)) = (key, cert) else {
                eprintln!(
                    "segel: give --agency ID to sign through the server, or --key and --cert to \
                     sign offline (see `segel sign --help`)"
                );
                return exit::USAGE;
            };
            let mut request = pades::SignatureRequest::new(pades::UnixTime::now());
            request.reason = look.reason;
            request.location = look.location;
            request.contact_info = look.contact;
            request.name = name;
            request.field = look.field;
            request.page = look.page;
            request.certify = certify;
            let opts = SignFileOptions {
                key,
                cert,
                chain,
                pss: look.pss,
                request,
            };
            match offline::sign_file(&input, &output, &opts) {
                Ok(s) => {
                    println!(
                        "signed {} -> {} (field {}, {} bytes, ByteRange {:?})",
                        input.display(),
                        output.display(),
                        s.field,
                        s.bytes,
                        s.byte_range
                    );
                    exit::OK
                }
                Err(e) => fail(&e),
            }
        }
        Command::Verify {
            file,
            trust: Some(trust),
            json,
        } => match offline::verify_file(&file, &trust) {
            Ok(report) => {
                let name = file.display().to_string();
                if json {
                    println!("{}", render::json(&name, &report));
                } else {
                    print!("{}", render::text(&name, &report));
                }
                if report.all_passed() {
                    exit::OK
                } else {
                    exit::NOT_PASSED
                }
            }
            Err(e) => {
                eprintln!("segel: {e}");
                exit::USAGE
            }
        },
        Command::Verify {
            file,
            trust: None,
            json,
        } => online(conn, |client| async move {
            let data = segel_client::read_file(&file)?;
            let v = client.verify_pdf(data.into()).await?;
            let name = file.display().to_string();
            if json {
                let sigs: Vec<serde_json::Value> = v
                    .signatures
                    .iter()
                    .map(|s| {
                        serde_json::json!({
                            "field": s.field,
                            "indication": s.indication,
                            "sub_indication": s.sub_indication,
                            "signer": s.signer,
                            "reason": s.reason,
                            "log_entry": s.entry.as_ref().map(entry_json),
                            "report": serde_json::from_str::<serde_json::Value>(&s.report_json).ok(),
                        })
                    })
                    .collect();
                let out = serde_json::json!({
                    "file": name,
                    "overall": v.overall,
                    "checkpoint_size": v.checkpoint.checkpoint.size,
                    "signatures": sigs,
                });
                println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            } else {
                if v.signatures.is_empty() {
                    println!("{name}: no signatures");
                }
                for (i, s) in v.signatures.iter().enumerate() {
                    let log = match &s.entry {
                        Some(e) => format!("log entry {} (inclusion proof checked)", e.index),
                        None => "not in this log".into(),
                    };
                    let verdict = if s.sub_indication.is_empty() {
                        s.indication.clone()
                    } else {
                        format!("{}/{}", s.indication, s.sub_indication)
                    };
                    println!(
                        "#{} {}: {verdict} — {} — {} — {log}",
                        i + 1,
                        s.field,
                        s.signer,
                        s.reason
                    );
                }
            }
            Ok(if v.overall == "TOTAL-PASSED" {
                exit::OK
            } else {
                exit::NOT_PASSED
            })
        }),
        Command::Batch {
            agency,
            input,
            output,
            jobs,
            memory_mib,
            digest_only,
            report,
            timeout,
            document_ref_from_path,
            look,
        } => {
            if !input.is_dir() {
                eprintln!(
                    "segel: {} is not a folder (batch signs every PDF under a folder; for one \
                     file use `segel sign`)",
                    input.display()
                );
                return exit::USAGE;
            }
            let mut opts = BatchOptions::new(&agency, &input, &output);
            opts.jobs = usize::from(jobs);
            opts.memory = u64::from(memory_mib) << 20;
            opts.digest_only = digest_only;
            opts.timeout = std::time::Duration::from_secs(timeout.max(1));
            opts.document_ref_from_path = document_ref_from_path;
            opts.options = look.options();
            online(conn, |client| run_batch(client, opts, report))
        }
        Command::Log { what } => run_log(conn, what),
    }
}

async fn run_batch(
    client: Arc<Client>,
    opts: BatchOptions,
    report: Option<PathBuf>,
) -> Result<u8, ClientError> {
    let bar = if std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} files  {per_sec}  ETA {eta}  {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let failed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let on_result: batch::OnResult = {
        let bar = bar.clone();
        let failed = failed.clone();
        Arc::new(move |r: &FileResult, total: usize| {
            let line = match &r.outcome {
                Outcome::Signed { log_index } => format!(
                    "signed  {} -> {} (log entry {log_index})",
                    r.file.display(),
                    r.output.display()
                ),
                Outcome::Skipped { reason } => format!("skipped {}: {reason}", r.file.display()),
                Outcome::Failed { reason } => {
                    failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    format!("FAILED  {}: {reason}", r.file.display())
                }
            };
            match &bar {
                Some(b) => {
                    b.set_length(total as u64);
                    if matches!(r.outcome, Outcome::Failed { .. }) {
                        b.println(&line);
                    }
                    b.set_message(format!(
                        "{} failed",
                        failed.load(std::sync::atomic::Ordering::Relaxed)
                    ));
                    b.inc(1);
                }
                None => println!("{line}"),
            }
        })
    };
    let stop = async {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "segel: stopping: the files in flight finish, no new ones start \
                 (Ctrl-C again to quit at once; outputs are never partial)"
            );
            tokio::spawn(async {
                if tokio::signal::ctrl_c().await.is_ok() {
                    eprintln!("segel: quitting; rerun the same command to continue");
                    std::process::exit(130);
                }
            });
        } else {
            std::future::pending::<()>().await;
        }
    };
    let summary = batch::run(client, opts.clone(), on_result, stop).await?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if let Some(path) = &report {
        let text = if path
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("csv"))
        {
            summary.to_csv()
        } else {
            summary.to_json(&opts)
        };
        offline::write_atomically(path, &[text.as_bytes()])?;
    }
    let secs = summary.elapsed.as_secs_f64();
    println!(
        "{} signed, {} skipped, {} failed of {} files in {secs:.1} s ({:.1} signed/s){}",
        summary.signed(),
        summary.skipped(),
        summary.failed(),
        summary.files.len(),
        summary.signed() as f64 / secs.max(1e-9),
        if summary.interrupted {
            "; interrupted: rerun the same command to continue"
        } else {
            ""
        }
    );
    Ok(if summary.failed() == 0 {
        exit::OK
    } else {
        exit::NOT_PASSED
    })
}

fn run_log(conn: &Conn, what: LogCommand) -> u8 {
    match what {
        LogCommand::Checkpoint => online(conn, |client| async move {
            let cp = client.checkpoint().await?;
            print!("{}", cp.note);
            eprintln!(
                "checkpoint of {} entries, signed by {} (checked, consistent with the newest seen)",
                cp.checkpoint.size,
                client.view().await.verifier_key()
            );
            Ok(exit::OK)
        }),
        LogCommand::Entry {
            index,
            document_sha256,
            signature_sha256,
            file,
            document_ref,
        } => online(conn, |client| async move {
            use segel_client::online::EntryKey as Key;
            let key = match (index, document_sha256, signature_sha256, file) {
                _ if document_ref.is_some() => Key::DocumentRef(document_ref.unwrap_or_default()),
                (Some(i), ..) => Key::Index(i),
                (_, Some(h), ..) => Key::DocumentSha256(unhex(&h)?),
                (_, _, Some(h), _) => Key::SignatureSha256(unhex(&h)?),
                (_, _, _, Some(f)) => {
                    let data = segel_client::read_file(&f)?;
                    Key::DocumentSha256(pades::sha256(&data).to_vec())
                }
                _ => return Ok(exit::USAGE),
            };
            let entries = client.entries(key).await?;
            let list: Vec<serde_json::Value> = entries.iter().map(entry_json).collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&list).unwrap_or_default()
            );
            Ok(if entries.is_empty() {
                eprintln!("segel: no such entry in this log");
                exit::NOT_PASSED
            } else {
                exit::OK
            })
        }),
        LogCommand::Proof { index } => online(conn, |client| async move {
            let entries = client
                .entries(segel_client::online::EntryKey::Index(index))
                .await?;
            let Some(e) = entries.first() else {
                eprintln!("segel: no entry {index} in this log");
                return Ok(exit::NOT_PASSED);
            };
            let proof = ProofFile {
                index: e.index,
                record: base64_encode(&e.encoded),
                leaf_hash: hex::encode(e.leaf_hash),
                tree_size: e.checkpoint.checkpoint.size,
                hashes: e.proof.iter().map(hex::encode).collect(),
                checkpoint: e.checkpoint.note.clone(),
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&proof).unwrap_or_default()
            );
            Ok(exit::OK)
        }),
        LogCommand::Check { proof } => match check_proof_file(conn, &proof) {
            Ok(msg) => {
                println!("{msg}");
                exit::OK
            }
            Err(e) => {
                eprintln!("segel: {}: {e}", proof.display());
                exit::NOT_PASSED
            }
        },
    }
}

/// A saved inclusion proof (`segel log proof`), checkable offline.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ProofFile {
    index: u64,
    /// The encoded record, base64.
    record: String,
    leaf_hash: String,
    tree_size: u64,
    hashes: Vec<String>,
    /// The signed checkpoint note.
    checkpoint: String,
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
}

fn check_proof_file(conn: &Conn, path: &std::path::Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let p: ProofFile = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let key = conn
        .log_key
        .clone()
        .or_else(|| std::env::var("SEGEL_LOG_KEY").ok())
        .ok_or(
            "give the log's key with --log-key (or SEGEL_LOG_KEY): without it the \
                checkpoint's signature means nothing",
        )?;
    let view = segel_client::logcheck::LogView::new(&key, None).map_err(|e| e.to_string())?;
    let cp = view.check_note(&p.checkpoint).map_err(|e| e.to_string())?;
    let record = base64_decode(&p.record).ok_or("the record is not base64")?;
    let hashes = p
        .hashes
        .iter()
        .map(|h| unhex(h).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let entry = segel_client::logcheck::UncheckedEntry {
        index: p.index,
        leaf_hash: unhex(&p.leaf_hash).map_err(|e| e.to_string())?,
        record,
    };
    let proof = segel_client::logcheck::InclusionProof {
        leaf_index: p.index,
        tree_size: p.tree_size,
        hashes,
    };
    let e = view
        .check_entry(&entry, &proof, &cp)
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "entry {} (agency {}, document {}) is in the log of {} entries whose checkpoint is signed by {}",
        e.index,
        e.record.agency,
        hex::encode(e.record.document_sha256),
        cp.checkpoint.size,
        key
    ))
}

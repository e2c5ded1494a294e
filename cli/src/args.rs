//! The command line as the user typed it (clap derive): commands, their flags and help texts.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::stamp::{LocalStamp, Stamp};

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
  segel sign letter.pdf -o out.pdf --agency-key agency.key --agency-cert agency.pem   (offline)

Connection settings come from the flags, then SEGEL_SERVER, SEGEL_CA, SEGEL_CLIENT_CERT,
SEGEL_CLIENT_KEY, SEGEL_LOG_KEY, SEGEL_STATE, then the file --config (or SEGEL_CONFIG, or
~/.config/segel/config.toml), then --dev (the files in certs-dev/ and https://localhost:50051)."
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) conn: Conn,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// How to reach the server (online commands).
#[derive(Debug, Args)]
#[command(next_help_heading = "Connection (online commands)")]
pub(crate) struct Conn {
    /// Server URL, e.g. https://segel.example.go.id:50051 [env: SEGEL_SERVER].
    #[arg(long, global = true)]
    pub(crate) server: Option<String>,
    /// CA certificate(s) of the server's TLS certificate, PEM [env: SEGEL_CA].
    #[arg(long, global = true)]
    pub(crate) ca: Option<PathBuf>,
    /// This client's TLS certificate, PEM, for signing [env: SEGEL_CLIENT_CERT].
    #[arg(long, global = true)]
    pub(crate) client_cert: Option<PathBuf>,
    /// This client's TLS private key, PEM [env: SEGEL_CLIENT_KEY].
    #[arg(long, global = true)]
    pub(crate) client_key: Option<PathBuf>,
    /// The log's verifier key to pin (C2SP), as printed by the server [env: SEGEL_LOG_KEY].
    #[arg(long, global = true)]
    pub(crate) log_key: Option<String>,
    /// Folder keeping the newest checkpoint seen [env: SEGEL_STATE; default
    /// ~/.local/state/segel].
    #[arg(long, global = true)]
    pub(crate) state: Option<PathBuf>,
    /// Settings file (TOML: server, ca, cert, key, log_key, state) [env: SEGEL_CONFIG].
    #[arg(long, global = true)]
    pub(crate) config: Option<PathBuf>,
    /// Use the development server and the files in --certs.
    #[arg(long, global = true)]
    pub(crate) dev: bool,
    /// Folder of the development PKI for --dev.
    #[arg(long, global = true, default_value = "certs-dev")]
    pub(crate) certs: PathBuf,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Sign a PDF: online with --agency (the server seals and logs it), or offline with
    /// --agency-key and --agency-cert (the agency's own key file).
    #[command(after_help = "Examples:
  segel --dev sign --agency dev letter.pdf -o letter-signed.pdf --reason 'Disetujui'
  segel sign letter.pdf -o out.pdf --agency-key agency.key --agency-cert agency.pem \\
      --agency-chain chain.pem

Visible seals (a QR code linking to VERIFY_URL/d/DOCUMENT_ID and the template's text):
  segel --dev sign --agency dev surat.pdf -o surat-ttd.pdf --tag '#ttd#' \\
      --stamp-field jabatan='Sekretaris Jenderal' --stamp-field nama='Budi Santoso' \\
      --stamp-field nip='198702152010011001'
  segel --dev sign --agency dev surat.pdf -o out.pdf --page 2 --rect 330,600,200,110 --footer
  segel sign surat.pdf -o out.pdf --agency-key agency.key --agency-cert agency.pem \\
      --tag '#ttd#' --verify-url https://segel.example.go.id --stamp-template stempel.txt
  segel sign form.pdf -o out.pdf --agency-key agency.key --agency-cert agency.pem \\
      --visible --field Pejabat --verify-url https://segel.example.go.id

A visible seal adds two lines to the output, stable for scripts:
  document id: DOCUMENT_ID
  verification link: VERIFY_URL/d/DOCUMENT_ID
Offline, the verification base URL is --verify-url or SEGEL_VERIFY_URL, the document id is
--document-id or 128 random bits, and {instansi} is --stamp-field instansi=…, else the
certificate's organisation (O), else its common name (CN). Online, the server draws the seal
with the agency's template and URL and assigns the document id; with --digest-only this
client draws it with the agency's settings (from ListAgencies) and sends the document id.
A tag that does not occur in the text is refused, naming it, and nothing is written.")]
    Sign {
        /// The PDF to sign.
        input: PathBuf,
        /// Where to write the signed PDF (written atomically).
        #[arg(short, long)]
        output: PathBuf,
        /// Online: the agency whose key seals the document.
        #[arg(long, conflicts_with_all = ["agency_key", "agency_cert", "agency_chain", "name"])]
        agency: Option<String>,
        /// Online: idempotency key; running the command again with the same id returns the
        /// same signature and log entry. Without it each run gets an id of its own, so running
        /// it again signs and logs the document again.
        #[arg(long, requires = "agency")]
        request_id: Option<String>,
        /// Online: the document's reference (e.g. the letter number), recorded in the log.
        #[arg(long, requires = "agency")]
        document_ref: Option<String>,
        /// Online: send only the digest of the locally prepared file (large files).
        #[arg(long, requires = "agency")]
        digest_only: bool,
        /// Offline: the agency's private key, PEM (PKCS#8 or PKCS#1), unencrypted, ideally
        /// mode 0600 (not the TLS client key: that is --client-key).
        #[arg(long)]
        agency_key: Option<PathBuf>,
        /// Offline: the agency's signing certificate, PEM.
        #[arg(long)]
        agency_cert: Option<PathBuf>,
        /// Offline: intermediate (and root) certificates of --agency-cert, PEM; roots are not
        /// embedded.
        #[arg(long)]
        agency_chain: Option<PathBuf>,
        #[command(flatten)]
        look: Look,
        /// Offline: /Name of the signer (normally taken from the certificate by viewers).
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        stamp: Stamp,
        #[command(flatten)]
        local: LocalStamp,
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
  segel --dev batch --agency dev letters/ signed/ --tag '#ttd#' --stamp-field nama='Budi Santoso' \\
      --report report.json

With a visible seal every file gets one at the same placement, and its own document id: the
report gives it (`document_id`) with the file's log entry.

A rerun skips outputs that exist and verify, and retries use the same request ids, so an
interrupted batch never logs a document twice. Ctrl-C lets the files in flight finish; the
others are `not started`.

No file name or path is sent to the server (names often hold personal data, and the log is
public) unless --document-ref-from-path is given. The output folder must lie outside the input
folder and not contain it. An output, or an output subfolder, that is a symbolic link fails
that file: nothing is written through a link.
The report (--report) gives each file's status (signed, skipped, failed, not started), its log
entry and when it was logged, and which run signed it (`signed_in`: this run, or an earlier run
for a skipped file, whose entry is looked up in the log by the output's hash).
Exit 0: every file signed or skipped; 1: some failed (see the report); 2: usage or connection;
130: stopped by Ctrl-C before every file started, none failed (rerun to continue).")]
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
        #[arg(long, conflicts_with = "document_refs")]
        document_ref_from_path: bool,
        /// Each file's document reference (its letter number), recorded in the log as a keyed
        /// hash: one line per file, `relative/path.pdf,B-17/2026` (CSV, quoted where a field
        /// holds a comma) or with a tab between them (TSV). The whole file is checked first:
        /// unknown paths, a path given twice and references over 256 bytes are refused with
        /// their line numbers, and nothing is signed.
        #[arg(long, value_name = "FILE")]
        document_refs: Option<PathBuf>,
        #[command(flatten)]
        look: Look,
        #[command(flatten)]
        stamp: Stamp,
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
pub(crate) struct Look {
    /// /Reason of the signature.
    #[arg(long)]
    pub(crate) reason: Option<String>,
    /// /Location of the signature.
    #[arg(long)]
    pub(crate) location: Option<String>,
    /// /ContactInfo of the signature.
    #[arg(long)]
    pub(crate) contact: Option<String>,
    /// Signature field name; an existing empty signature field of that name is signed.
    #[arg(long)]
    pub(crate) field: Option<String>,
    /// Page (1-based) that carries a new field's widget (and a seal placed with --rect).
    #[arg(long, default_value_t = 1)]
    pub(crate) page: u32,
    /// Sign with RSASSA-PSS instead of PKCS#1 v1.5.
    #[arg(long)]
    pub(crate) pss: bool,
    /// Certify the document (first signature only) with DocMDP permissions: 1 no changes,
    /// 2 form filling and signing, 3 also annotations.
    #[arg(long, value_name = "P", value_parser = clap::value_parser!(u8).range(1..=3))]
    pub(crate) certify: Option<u8>,
    /// Lock the document's signed signature fields, this one included (FieldMDP), so later
    /// signers cannot change them.
    #[arg(long)]
    pub(crate) lock_fields: bool,
}

impl Look {
    pub(crate) fn options(&self) -> pades::SignOptions {
        // An empty text is no text, as on the wire.
        let text = |t: &Option<String>| t.clone().filter(|t| !t.is_empty());
        pades::SignOptions {
            field: text(&self.field),
            page: self.page,
            reason: text(&self.reason),
            location: text(&self.location),
            contact_info: text(&self.contact),
            pss: self.pss,
            certify: self.certify,
            lock_fields: self.lock_fields,
            ..pades::SignOptions::default()
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum LogCommand {
    /// The current checkpoint (signed note), checked and accepted.
    #[command(after_help = "Example:\n  segel --dev log checkpoint")]
    Checkpoint,
    /// Entries by index, by document or signature hash, or for a signed PDF.
    #[command(after_help = "Examples:
  segel --dev log entry 17
  segel --dev log entry --document-sha256 3f0a…
  segel --dev log entry --file letter-signed.pdf
  segel --dev log entry --document-ref B-17/2026
  segel --dev log entry --document-id Xk3v9QmT2pLr8WnZ4bYc7A")]
    Entry {
        /// The entry's index.
        #[arg(required_unless_present_any = ["document_sha256", "signature_sha256", "file", "document_ref", "document_id"])]
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
        /// The document id of a visible seal (the end of its QR code's link). The log holds
        /// only its SHA-256; anyone holding the id may look it up.
        #[arg(long, conflicts_with_all = ["index", "document_sha256", "signature_sha256", "file", "document_ref"])]
        document_id: Option<String>,
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

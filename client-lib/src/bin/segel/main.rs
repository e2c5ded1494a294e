//! `segel`: sign and verify PDFs offline.
//!
//! Exit codes: 0 success (for `verify`: every signature TOTAL-PASSED); 1 the document was refused
//! or a signature did not pass; 2 usage error or unreadable input.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use segel_client::offline::{self, SignFileOptions};
use segel_client::{render, ClientError};

/// Exit codes, in one place.
mod exit {
    pub(crate) const OK: u8 = 0;
    pub(crate) const NOT_PASSED: u8 = 1;
    pub(crate) const USAGE: u8 = 2;
}

#[derive(Debug, Parser)]
#[command(name = "segel", version, about = "Sign and verify PDFs (PAdES)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sign a PDF offline with a key file (PAdES B-B, incremental update).
    Sign {
        /// The PDF to sign.
        input: PathBuf,
        /// Where to write the signed PDF (written atomically).
        #[arg(short, long)]
        output: PathBuf,
        /// Private key, PEM (PKCS#8 or PKCS#1), unencrypted, ideally mode 0600.
        #[arg(long)]
        key: PathBuf,
        /// Signer certificate, PEM.
        #[arg(long)]
        cert: PathBuf,
        /// Intermediate (and root) certificates, PEM; roots are not embedded.
        #[arg(long)]
        chain: Option<PathBuf>,
        /// /Reason of the signature.
        #[arg(long)]
        reason: Option<String>,
        /// /Location of the signature.
        #[arg(long)]
        location: Option<String>,
        /// /ContactInfo of the signature.
        #[arg(long)]
        contact: Option<String>,
        /// /Name of the signer (normally taken from the certificate by viewers).
        #[arg(long)]
        name: Option<String>,
        /// Signature field name; an existing empty signature field of that name is signed.
        #[arg(long)]
        field: Option<String>,
        /// Page (1-based) that carries a new field's widget.
        #[arg(long, default_value_t = 1)]
        page: u32,
        /// Sign with RSASSA-PSS instead of PKCS#1 v1.5.
        #[arg(long)]
        pss: bool,
        /// Certify the document (first signature only) with DocMDP permissions: 1 no changes,
        /// 2 form filling and signing, 3 also annotations.
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=3))]
        certify: Option<u8>,
    },
    /// Verify every signature of a PDF. Exit 0 only if every one is TOTAL-PASSED.
    Verify {
        /// The PDF.
        file: PathBuf,
        /// Trust anchors, PEM.
        #[arg(long)]
        trust: PathBuf,
        /// JSON output.
        #[arg(long)]
        json: bool,
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
    if e.is_unreadable_input() {
        exit::USAGE
    } else {
        exit::NOT_PASSED
    }
}

fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Sign {
            input,
            output,
            key,
            cert,
            chain,
            reason,
            location,
            contact,
            name,
            field,
            page,
            pss,
            certify,
        } => {
            let mut request = pades::SignatureRequest::new(offline::now());
            request.reason = reason;
            request.location = location;
            request.contact_info = contact;
            request.name = name;
            request.field = field;
            request.page = page;
            request.certify = certify;
            let opts = SignFileOptions {
                key,
                cert,
                chain,
                pss,
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
        Command::Verify { file, trust, json } => match offline::verify_file(&file, &trust) {
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
    }
}

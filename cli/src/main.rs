//! `segel`: seal and verify PDFs, online through a Segel server or offline with a key file.
//!
//! Exit codes: 0 success (for `verify`: every signature TOTAL-PASSED; for `batch`: every file
//! signed or skipped); 1 a document was refused, a signature did not pass, or some batch files
//! failed; 2 usage errors, unreadable input, or no connection to the server; 130 a batch
//! stopped by Ctrl-C before every file started, none having failed (rerun to continue).

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use segel_client::batch::{sign_file_by_digest, BatchOptions};
use segel_client::offline::{self, SignFileOptions};
use segel_client::online::{Client, SignRequest};
use segel_client::settings::Settings;
use segel_client::{render, ClientError};

mod args;
mod batch;
mod log;
mod stamp;

use args::{Cli, Command, Conn};

/// mimalloc, as in the server: a batch allocates and frees every file's buffers, messages and
/// PDF objects, and the load tool's batch figures (docs/performance.md) are measured with it.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes, in one place.
mod exit {
    pub(crate) const OK: u8 = 0;
    pub(crate) const NOT_PASSED: u8 = 1;
    pub(crate) const USAGE: u8 = 2;
    /// A batch stopped (Ctrl-C) before every file started, with no file failed: the shell's
    /// code for a command ended by SIGINT.
    pub(crate) const INTERRUPTED: u8 = 130;
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

/// Whether the settings name a server (an unreadable settings file counts as one: connecting
/// then reports it).
fn has_server(c: &Conn) -> bool {
    settings(c).map_or(true, |s| s.server.is_some())
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
            stamp,
            ..
        } => {
            // The seal's flags and files are checked before connecting.
            let visible = match stamp.options(look.field.as_deref(), look.page) {
                Ok(v) => v,
                Err(e) => return fail(&e),
            };
            online(conn, |client| async move {
                // An agency this client may not use is refused with the list of those it may.
                let chosen = client.agency(&agency).await?;
                let mut req = SignRequest::new(&agency);
                // Without --request-id the library makes one for this call: a retry within it is
                // answered once, running the command again signs anew.
                if let Some(id) = request_id {
                    req.request_id = id;
                }
                req.document_ref = document_ref.unwrap_or_default();
                req.options = look.options();
                req.options.visible = visible;
                let (index, bytes, document_id) = if digest_only {
                    let s = sign_file_by_digest(client.clone(), &req, &input, &output).await?;
                    (s.log_index, s.bytes as usize, s.document_id)
                } else {
                    let data = segel_client::read_file(&input)?;
                    let sealed = client.sign_pdf(&req, data.into()).await?;
                    offline::write_atomically(&output, &[&sealed.pdf])?;
                    (sealed.entry.index, sealed.pdf.len(), sealed.document_id)
                };
                println!(
                    "signed {} -> {} ({bytes} bytes), log entry {index} (inclusion proof checked)",
                    input.display(),
                    output.display()
                );
                if let Some(id) = document_id {
                    // The agency's verification URL, as ListAgencies gives it.
                    let link = chosen.stamp.ok().flatten().and_then(|settings| {
                        pades::stamp::DocumentId::parse(&id)
                            .ok()
                            .map(|d| settings.link(&d))
                    });
                    stamp::print_seal(Some(&id), link.as_deref());
                }
                Ok(exit::OK)
            })
        }
        Command::Sign {
            input,
            output,
            agency_key,
            agency_cert,
            agency_chain,
            look,
            name,
            stamp,
            local,
            ..
        } => {
            let (Some(key), Some(cert)) = (agency_key, agency_cert) else {
                eprintln!(
                    "segel: give --agency ID to sign through the server, or --agency-key and \
                     --agency-cert to sign offline (see `segel sign --help`)"
                );
                return exit::USAGE;
            };
            // The same options as online, plus what only offline signing offers.
            let options = look.options();
            let mut request = options.request(pades::UnixTime::now());
            request.name = name;
            let verify_url_env = std::env::var(stamp::VERIFY_URL_ENV).ok();
            let seal = match stamp::offline_seal(&stamp, &local, &look, verify_url_env) {
                Ok(seal) => seal,
                Err(e) => return fail(&e),
            };
            let opts = SignFileOptions {
                key,
                cert,
                chain: agency_chain,
                pss: options.pss,
                request,
                seal,
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
                    stamp::print_seal(s.document_id.as_deref(), s.link.as_deref());
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
            file, trust: None, ..
        } if !has_server(conn) => {
            eprintln!(
                "segel: no server to verify {} with: give --server URL, set SEGEL_SERVER, or use \
                 --dev to verify through a server; or give --trust ROOTS (PEM trust anchors) to \
                 verify offline",
                file.display()
            );
            exit::USAGE
        }
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
                            "log_entry": s.entry.as_ref().map(log::entry_json),
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
                    let verdict = match s.sub_indication {
                        None => s.indication.to_string(),
                        Some(sub) => format!("{}/{sub}", s.indication),
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
            Ok(if v.overall == pades::Indication::TotalPassed {
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
            document_refs,
            look,
            stamp,
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
            if let Some(file) = document_refs {
                match segel_client::batch::DocumentRefs::read(&file) {
                    Ok(refs) => opts.document_refs = Some(refs),
                    Err(e) => return fail(&e),
                }
            }
            opts.options = look.options();
            opts.options.visible = match stamp.options(look.field.as_deref(), look.page) {
                Ok(v) => v,
                Err(e) => return fail(&e),
            };
            online(conn, |client| batch::run_batch(client, opts, report))
        }
        Command::Log { what } => log::run_log(conn, what),
    }
}

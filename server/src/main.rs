//! `segel-server`: wiring only.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use segel_server::devpki;

/// The Segel signing server.
#[derive(Debug, Parser)]
#[command(name = "segel-server", version, about)]
struct Args {
    /// Development mode: generate the development PKI (if missing) in --certs.
    #[arg(long)]
    dev: bool,
    /// Where the development PKI lives.
    #[arg(long, default_value = "certs-dev")]
    certs: PathBuf,
    /// Regenerate the development PKI even if it exists.
    #[arg(long, requires = "dev")]
    regenerate: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("segel-server: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(args: &Args) -> anyhow::Result<()> {
    if !args.dev {
        anyhow::bail!(
            "only development mode exists so far: run `segel-server --dev` (the gRPC server is not built yet)"
        );
    }
    let outcome = if args.regenerate {
        devpki::generate(&args.certs).map(|()| devpki::Outcome::Generated)
    } else {
        devpki::ensure(&args.certs)
    }
    .with_context(|| format!("development PKI in {}", args.certs.display()))?;
    match outcome {
        devpki::Outcome::Generated => {
            println!("generated the development PKI in {}", args.certs.display())
        }
        devpki::Outcome::Reused => println!("development PKI present in {}", args.certs.display()),
    }
    for (name, secret) in devpki::FILES {
        println!(
            "  {}{}",
            args.certs.join(name).display(),
            if *secret { "  (private key, 0600)" } else { "" }
        );
    }
    println!(
        "agency `{}`: sign offline with\n  segel sign IN.pdf -o OUT.pdf --key {k} --cert {c} --chain {ch}",
        devpki::DEV_AGENCY,
        k = args.certs.join("dev-agency.key").display(),
        c = args.certs.join("dev-agency.pem").display(),
        ch = args.certs.join("dev-agency-chain.pem").display(),
    );
    println!("the gRPC signing server is not built yet; development mode stops after the PKI.");
    Ok(())
}

//! `segel-server`: wiring only.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};
use segel_devpki as devpki;
use segel_server::config::{MetricsListen, DEV_METRICS_LISTEN};
use segel_server::store::{self, Log, NewEntry};

/// mimalloc: the request path allocates per request (frames, messages, PDF objects); the
/// system allocator's locks and consolidation showed as several percent of CPU under load.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The Segel signing server: seals PDF documents (PAdES) with agency keys over gRPC with mutual
/// TLS, logs every signature in a Merkle log, and verifies signed documents.
#[derive(Debug, Parser)]
#[command(
    name = "segel-server",
    version,
    about = "The Segel signing server: PAdES seals over gRPC (mutual TLS), every signature in a \
             Merkle log",
    after_help = "Serve with --config FILE, or with --dev for development. Two development \
                  servers run side by side with different --listen, --data and \
                  --metrics-listen (or --metrics-listen off)."
)]
struct Args {
    /// Development mode: generate the development PKI in --certs (if missing), open the log in
    /// --data and serve on --listen (loopback only) with the development configuration
    /// (agency `dev`, client `siola-dev`), metrics on --metrics-listen.
    #[arg(long)]
    dev: bool,
    /// Serve with this configuration file (TOML: listen address, log directory, TLS,
    /// agencies, who may seal for which, limits; see the README).
    #[arg(long, value_name = "FILE", conflicts_with = "dev")]
    config: Option<PathBuf>,
    /// Check the configuration instead of serving: read every file, load and match every key
    /// and certificate, print the settings and exit (with --dev, after generating the
    /// development PKI if missing).
    #[arg(long)]
    check: bool,
    /// Development mode: the address to serve on, a loopback address only (the development
    /// PKI's keys are not secret). A configuration file sets its own `listen`.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:50051")]
    listen: String,
    /// Development mode: the log directory (created, with a new log key, if missing). A
    /// configuration file sets its own `data`.
    #[arg(long, value_name = "DIR", default_value = "data")]
    data: PathBuf,
    /// Development mode: the folder of the development PKI (generated there if missing).
    #[arg(long, value_name = "DIR", default_value = "certs-dev")]
    certs: PathBuf,
    /// Development mode: where to serve Prometheus metrics (plain HTTP, GET /metrics), or
    /// `off` for none. A configuration file sets its own `metrics_listen`.
    #[arg(
        long,
        value_name = "ADDR|off",
        default_value = DEV_METRICS_LISTEN,
        requires = "dev",
        conflicts_with = "config"
    )]
    metrics_listen: MetricsListen,
    /// Where to serve the verification page, the JSON APIs and the log's tiles (plain HTTP
    /// unless `[http]` gives TLS files), or `off` for none. Development mode serves on
    /// 127.0.0.1:8080 (loopback only); with --config this replaces its `http_listen`.
    #[arg(long, value_name = "ADDR|off")]
    http_listen: Option<MetricsListen>,
    /// Development mode: generate the development PKI anew even if it exists.
    #[arg(long, requires = "dev")]
    regenerate: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Work on a signature log directory without serving: check it, or load it.
    #[command(subcommand)]
    Log(LogCommand),
}

#[derive(Debug, Subcommand)]
enum LogCommand {
    /// Check a log directory offline: every record decodes and sits at its index, every node
    /// is recomputed, nothing lies past the tree size, the checkpoint is signed by the log's
    /// key (log.vkey) and names the recomputed root, and the external checkpoint is neither
    /// ahead nor forked.
    #[command(
        after_help = "Exit codes: 0 the log is intact; 1 it is NOT intact (or a file \
                            of it cannot be read); 2 usage error; 3 the log is in use by a \
                            running server (or another process), so nothing was checked: stop \
                            the server first, or check the running log through its API \
                            (`segel log checkpoint`)."
    )]
    Verify {
        /// The log directory.
        #[arg(long)]
        data: PathBuf,
    },
    /// Append synthetic entries as fast as durability allows, then print the rate on stderr
    /// (a load test, and the child of the crash tests). With --acks, prints `ack INDEX
    /// DOCUMENT-SHA256` on stdout for every durable append.
    Load {
        /// The log directory (created, with a new log key, if missing).
        #[arg(long)]
        data: PathBuf,
        /// Entries to append in all (divided evenly among the threads, the remainder dropped).
        #[arg(long, default_value_t = 10_000)]
        count: u64,
        /// Threads appending at once (0 is read as 1).
        #[arg(long, default_value_t = 1)]
        threads: u64,
        /// Print every acknowledgement (`ack INDEX DOCUMENT-SHA256`) on stdout.
        #[arg(long)]
        acks: bool,
        /// The log's origin line (its public name); an existing log's must be the same.
        #[arg(long, default_value = "segel.dev/log")]
        origin: String,
    },
}

/// Exit codes, in one place.
mod exit {
    /// `log verify`: the log is not intact, or a file of it cannot be read.
    pub(crate) const LOG_NOT_INTACT: u8 = 1;
    /// Configuration, usage or start-up errors.
    pub(crate) const FAILED: u8 = 2;
    /// `log verify`: the log is held open by a running server; nothing was checked.
    pub(crate) const LOG_IN_USE: u8 = 3;
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match &args.command {
        Some(Command::Log(c)) => run_log(c),
        None => run_server(&args).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("segel-server: {e:#}");
            ExitCode::from(exit::FAILED)
        }
    }
}

fn run_log(c: &LogCommand) -> anyhow::Result<ExitCode> {
    match c {
        LogCommand::Verify { data } => {
            let t = Instant::now();
            match store::check_dir(data) {
                Ok(r) => {
                    println!(
                        "log intact: {} entries, {} nodes, root {}, external checkpoint at {} — checked in {:.3} s",
                        r.size,
                        r.nodes,
                        hex::encode(r.root),
                        r.external_size.map_or("none".into(), |s| s.to_string()),
                        t.elapsed().as_secs_f64()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e @ store::StoreError::InUse { .. }) => {
                    println!("log not checked: {e}");
                    Ok(ExitCode::from(exit::LOG_IN_USE))
                }
                Err(e) => {
                    println!("log NOT intact: {e}");
                    Ok(ExitCode::from(exit::LOG_NOT_INTACT))
                }
            }
        }
        LogCommand::Load {
            data,
            count,
            threads,
            acks,
            origin,
        } => load(data, *count, *threads, *acks, origin).map(|()| ExitCode::SUCCESS),
    }
}

fn load(dir: &Path, count: u64, threads: u64, acks: bool, origin: &str) -> anyhow::Result<()> {
    let key = store::load_or_create_key(dir, origin).context("log key")?;
    let log = Arc::new(Log::open(dir, origin, key).context("opening the log")?);
    let start_size = log.size();
    let t = Instant::now();
    let threads = threads.max(1);
    let per = count / threads;
    let pid = std::process::id();
    let stdout = Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let mut handles = Vec::new();
    for th in 0..threads {
        let log = log.clone();
        let stdout = stdout.clone();
        handles.push(std::thread::spawn(move || -> anyhow::Result<()> {
            for i in 0..per {
                let doc = tlog::leaf_hash(format!("{pid}/{th}/{i}").as_bytes());
                let ms = pades::time::now_ms();
                let a = log.append(NewEntry {
                    record: tlog::LogEntry {
                        index: 0,
                        time_ms: ms,
                        agency: "dev".into(),
                        certificate_sha256: [1; 32],
                        caller: "CN=segel-load".into(),
                        message_digest: doc,
                        signature_sha256: tlog::leaf_hash(&doc),
                        document_sha256: doc,
                        document_source: tlog::DocumentSource::Server,
                        document_ref: None,
                        document_ref_hmac: None,
                        document_id_sha256: tlog::DocumentIdHash::Absent,
                    },
                    request: None,
                    document_id: None,
                })?;
                if acks {
                    let mut o = stdout.lock().map_err(|_| anyhow::anyhow!("stdout lock"))?;
                    writeln!(o, "ack {} {}", a.index, hex::encode(doc))?;
                    o.flush()?;
                }
            }
            Ok(())
        }));
    }
    for h in handles {
        h.join()
            .map_err(|_| anyhow::anyhow!("a load thread panicked"))??;
    }
    let n = log.size() - start_size;
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "appended {n} entries with {threads} caller(s) in {secs:.3} s: {:.0} durable appends/s; log size {}",
        n as f64 / secs,
        log.size()
    );
    log.close();
    Ok(())
}

fn run_server(args: &Args) -> anyhow::Result<()> {
    use segel_server::config::{self, RawConfig};
    let raw = match (&args.config, args.dev) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            RawConfig::parse(&text).with_context(|| path.display().to_string())?
        }
        (None, true) => {
            dev_listen_is_loopback(&args.listen)?;
            dev_metrics_is_loopback(args.metrics_listen)?;
            prepare_dev_pki(args)?;
            let mut c = config::dev(&args.certs, &args.data, &args.listen);
            c.metrics_listen = args.metrics_listen.setting();
            if let Some(h) = args.http_listen {
                dev_http_is_loopback(h)?;
                c.http_listen = h.setting();
            }
            // The development seal's QR code links to this server's own page.
            for a in &mut c.agencies {
                if let (Some(stamp), Some(at)) = (&mut a.stamp, &c.http_listen) {
                    stamp.verify_url = Some(format!("http://{at}"));
                }
            }
            c
        }
        (None, false) => anyhow::bail!("give --config FILE, or --dev for development mode"),
    };
    let raw = match (args.http_listen, args.dev) {
        (Some(h), false) => config::RawConfig {
            http_listen: h.setting(),
            ..raw
        },
        _ => raw,
    };
    let config = raw
        .resolve(pades::UnixTime::now().0)
        .context("configuration")?;
    // The whole TLS setup is built before anything says the configuration is fine or the
    // server listens (resolving already matched the key to its certificate).
    segel_server::tls::Acceptor::new(&config).context("configuration")?;
    if args.check {
        println!(
            "configuration OK: listen {}, log in {}, {} agencies, {} allowed clients",
            config.listen,
            config.data.display(),
            config.agencies.len(),
            config.allow.len()
        );
        println!(
            "limits: max_concurrent_verifications {}, max_queued_verifications {}, \
             max_connections {}, max_connections_per_address {}, max_concurrent_streams {}, \
             idle_timeout_secs {}, \
             request_timeout_secs {}, tls.handshake_timeout_secs {}, max_document_bytes {}, \
             max_concurrent_signatures {}",
            config.max_concurrent_verifications,
            config.max_queued_verifications,
            config.max_connections,
            config.max_connections_per_address,
            config.max_concurrent_streams,
            config.idle_timeout.as_secs(),
            config.request_timeout.as_secs(),
            config.handshake_timeout.as_secs(),
            config.max_document_bytes,
            config.max_concurrent_signatures,
        );
        match &config.http {
            Some(h) => {
                println!(
                "HTTP listener: {} ({}), uploads up to {} bytes, {} connections ({} per address)",
                h.listen,
                if h.tls.is_some() { "TLS" } else { "plain HTTP: put TLS in front" },
                h.max_upload_bytes,
                h.max_connections,
                h.max_connections_per_address
            )
            }
            None => println!("HTTP listener: none (http_listen not set)"),
        }
        match &config.client_crl {
            Some((path, crls)) => println!(
                "client CRL: {} ({} CRL(s), each signed by the client CA; looked at every {} s)",
                path.display(),
                crls.len(),
                config.crl_check.as_secs()
            ),
            None => println!("client CRL: none (tls.client_crl not set)"),
        }
        let now = pades::UnixTime::now().0;
        let certificates = segel_server::expiry::watched(&config);
        for f in segel_server::expiry::findings(&certificates, now) {
            match f.state {
                segel_server::expiry::ExpiryState::Ok => println!("certificate: {f}"),
                segel_server::expiry::ExpiryState::Warn { .. } => println!("WARNING: {f}"),
                segel_server::expiry::ExpiryState::Expired => {
                    println!("ERROR: {f}: its agency is refused until it is replaced");
                }
            }
        }
        let mut ids: Vec<&String> = config.agencies.keys().collect();
        ids.sort();
        for id in ids {
            match &config.agencies[id].stamp {
                Some(s) => println!(
                    "agency {id:?}: visible seals link to {}/d/…; template of {} lines; image: {}",
                    s.verify_url,
                    s.template.sources().len(),
                    s.image
                        .as_ref()
                        .map_or("none".to_string(), |i| format!("{} bytes", i.len()))
                ),
                None => println!("agency {id:?}: invisible signatures only (no [agency.stamp])"),
            }
        }
        for a in config.agencies.values() {
            if let Err(e @ segel_server::expiry::NotValid::NotYetValid { .. }) =
                a.validity.check(now)
            {
                println!(
                    "ERROR: agency {:?}'s e-seal certificate {e}: the agency is refused until then",
                    a.id
                );
            }
        }
        return Ok(());
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let served = runtime.block_on(async move {
        if let Some(addr) = config.metrics_listen {
            let handle = segel_server::metrics::install().map_err(|e| anyhow::anyhow!("metrics: {e}"))?;
            let at = segel_server::metrics::serve(addr, handle)
                .await
                .with_context(|| format!("metrics on {addr}"))?;
            println!("metrics on http://{at}/metrics");
        }
        let log = segel_server::serve::open_log(&config).context("opening the signature log")?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        let addr = listener.local_addr()?;
        let http = match &config.http {
            None => None,
            Some(h) => {
                let l = tokio::net::TcpListener::bind(h.listen)
                    .await
                    .with_context(|| format!("HTTP listener on {}", h.listen))?;
                let scheme = if h.tls.is_some() { "https" } else { "http" };
                println!(
                    "verification page on {scheme}://{}/ (JSON API under /api/, the log's tiles under /log/)",
                    l.local_addr()?
                );
                Some(l)
            }
        };
        println!("segel-server listening on https://{addr} (mutual TLS for signing)");
        println!("log {} — {} entries; verifier key:\n  {}", config.data.display(), log.size(), log.verifier().to_vkey());
        if args.dev {
            println!(
                "sign a file with this server: cargo run -p segel-cli --bin segel -- --dev --certs {certs} --server https://localhost:{port} sign --agency dev IN.pdf -o OUT.pdf",
                certs = args.certs.display(),
                port = addr.port(),
            );
            println!(
                "verify it: ... segel --dev verify OUT.pdf; a folder: ... segel --dev batch --agency dev IN_DIR OUT_DIR"
            );
        }
        let shutdown = async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
            }
            tracing::info!("shutting down: finishing in-flight requests");
        };
        segel_server::serve::serve_with_http(config, log, listener, http, shutdown).await?;
        println!("segel-server stopped; the log is durable");
        anyhow::Ok(())
    });
    // Verifications abandoned at shutdown may still run on blocking threads: the log is
    // closed, so do not wait for them.
    runtime.shutdown_background();
    served
}

/// Development mode serves with the development PKI, whose private keys sit unprotected in
/// --certs: never on an address other machines can reach.
fn dev_listen_is_loopback(listen: &str) -> anyhow::Result<()> {
    let addr: std::net::SocketAddr = listen
        .parse()
        .with_context(|| format!("--listen {listen:?} is not an address:port"))?;
    anyhow::ensure!(
        addr.ip().is_loopback(),
        "--dev refuses --listen {addr}: it is not a loopback address, and development mode \
         serves with the development PKI, whose keys are not secret; use 127.0.0.1 or [::1], \
         or a configuration file (--config) for anything reachable from other machines"
    );
    Ok(())
}

/// Development mode's HTTP listener stays on this machine too.
fn dev_http_is_loopback(http: MetricsListen) -> anyhow::Result<()> {
    if let MetricsListen::At(addr) = http {
        anyhow::ensure!(
            addr.ip().is_loopback(),
            "--dev refuses --http-listen {addr}: it is not a loopback address; use 127.0.0.1 \
             or [::1], `off`, or a configuration file (--config) for a page other machines reach"
        );
    }
    Ok(())
}

/// Development mode's metrics stay on this machine too, like everything else it serves.
fn dev_metrics_is_loopback(metrics: MetricsListen) -> anyhow::Result<()> {
    if let MetricsListen::At(addr) = metrics {
        anyhow::ensure!(
            addr.ip().is_loopback(),
            "--dev refuses --metrics-listen {addr}: it is not a loopback address; use 127.0.0.1 \
             or [::1], `off`, or a configuration file (--config) for metrics other machines read"
        );
    }
    Ok(())
}

fn prepare_dev_pki(args: &Args) -> anyhow::Result<()> {
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
    Ok(())
}

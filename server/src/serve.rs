//! Serving: TLS with optional client certificates ([`crate::tls`]), the three services under
//! the limits of [`crate::limits`], the certificates' expiry watched ([`crate::expiry`]),
//! graceful shutdown that does not wait for abandoned verifications.

use std::future::Future;
use std::sync::Arc;

use segel_proto::v1::{
    log_server::LogServer, signer_server::SignerServer, verifier_server::VerifierServer,
};
use tonic::transport::Server;

use crate::config::Config;
use crate::limits::Admitted;
use crate::service::{LogService, Segel, SignerService, VerifierService};
use crate::store::{self, Log};

/// Open the log of `config` (running its startup check).
///
/// # Errors
/// A failing startup check or key file.
pub fn open_log(config: &Config) -> Result<Arc<Log>, store::StoreError> {
    let key = store::load_or_create_key(&config.data, &config.origin)?;
    Ok(Arc::new(Log::open(&config.data, &config.origin, key)?))
}

/// Why serving failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The TLS configuration.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// The transport.
    #[error(transparent)]
    Transport(#[from] tonic::transport::Error),
}

/// Serve on `listener` until `shutdown` completes, then finish in-flight requests and close
/// the log (everything acknowledged is durable already; queued appends are completed).
/// Verifications in progress are abandoned at shutdown (their callers get UNAVAILABLE).
///
/// # Errors
/// TLS setup or transport failures.
pub async fn serve(
    config: Config,
    log: Arc<Log>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    serve_with_http(config, log, listener, None, shutdown).await
}

/// [`serve`], and the HTTP listener ([`crate::http`]) on `http` when given (with the
/// configuration's `[http]` settings), sharing the verification limits and the log. Both stop
/// at `shutdown`.
///
/// # Errors
/// TLS setup or transport failures.
pub async fn serve_with_http(
    config: Config,
    log: Arc<Log>,
    listener: tokio::net::TcpListener,
    http: Option<tokio::net::TcpListener>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let acceptor = Arc::new(crate::tls::Acceptor::new(&config)?);
    let conn_limits = crate::tls::ConnLimits {
        max_connections: config.max_connections,
        max_per_address: config.max_connections_per_address,
        handshake_timeout: config.handshake_timeout,
        idle_timeout: config.idle_timeout,
    };
    let max_streams = config.max_concurrent_streams;
    let limit = config.max_document_bytes + 64 * 1024;
    let timeout = config.request_timeout;
    let certificates = watch_certificates(&config);
    let http_config = config
        .http
        .clone()
        .unwrap_or_else(|| crate::config::HttpConfig::plain_defaults(([127, 0, 0, 1], 0).into()));
    // gRPC VerifyPdf calls in progress, from their headers to their reply (a message being
    // received holds one): their own pool, so that slow gRPC uploads never take the shared
    // verification slots the page and the JSON APIs need. The slot itself is taken by the
    // handler once the message is in (`Segel::verify_document`'s callers).
    let grpc_calls = crate::limits::VerifyLimit::new(
        config.max_concurrent_verifications,
        config.max_queued_verifications,
    );
    let segel = Segel::new(config, log.clone());
    let verify_limit = segel.verify_limit.clone();
    let grpc_limit = grpc_calls.clone();
    let (signalled, on_signal) = tokio::sync::oneshot::channel::<()>();
    let (http_stop, mut http_stopped) = tokio::sync::watch::channel(false);
    let shutdown = async move {
        shutdown.await;
        verify_limit.close();
        grpc_limit.close();
        let _ = http_stop.send(true);
        let _ = signalled.send(());
    };
    let http_task = match http {
        None => None,
        Some(listener) => {
            let app = crate::http::router(
                segel.clone(),
                &crate::http::HttpSettings {
                    max_upload_bytes: http_config.max_upload_bytes,
                    max_concurrent_uploads: http_config.max_concurrent_uploads,
                    max_uploads_per_address: http_config.max_uploads_per_address,
                    tls: http_config.tls.is_some(),
                    request_timeout: timeout,
                },
            );
            // Checked before anything is served: a TLS configuration that cannot be built
            // fails the start.
            if let Some((cert, key)) = &http_config.tls {
                crate::tls::web_config(cert, key)?;
            }
            Some(tokio::spawn(async move {
                let stop = async move {
                    let _ = http_stopped.wait_for(|s| *s).await;
                };
                if let Err(e) =
                    crate::http::serve_http(listener, app, &http_config, timeout, stop).await
                {
                    tracing::error!(error = %e, "the HTTP listener stopped");
                }
            }))
        }
    };
    // After the signal, connections get as long as a request may take to finish theirs; a
    // peer that keeps its connection open beyond that (or never answers the closing ping)
    // does not hold up the stop.
    let grace = async move {
        match on_signal.await {
            Ok(()) => tokio::time::sleep(timeout).await,
            Err(_) => std::future::pending().await,
        }
    };
    let incoming = crate::tls::incoming(listener, acceptor, conn_limits);
    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<SignerServer<SignerService>>()
        .await;
    health_reporter
        .set_serving::<VerifierServer<VerifierService>>()
        .await;
    health_reporter.set_serving::<LogServer<LogService>>().await;
    // Reflection in both versions: `v1`, and `v1alpha` for the clients that ask only for it
    // (Python's grpcio-reflection, older grpcurl and tools). The descriptors are compiled in:
    // failing to load them is a build defect, reported at start-up and not fatal (reflection
    // is a convenience).
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(segel_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let unavailable = |e| tracing::error!(error = %e, "gRPC reflection unavailable");
    let reflection_v1 = reflection().build_v1().map_err(unavailable).ok();
    let reflection_v1alpha = reflection().build_v1alpha().map_err(unavailable).ok();
    let server = Server::builder()
        .timeout(timeout)
        .max_concurrent_streams(Some(max_streams))
        // Documents are large messages: windows that hold one without waiting for updates.
        .initial_stream_window_size(Some(4 << 20))
        .initial_connection_window_size(Some(16 << 20))
        .add_service(health)
        .add_optional_service(reflection_v1)
        .add_optional_service(reflection_v1alpha)
        .add_service(
            SignerServer::new(SignerService(segel.clone()))
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit * 2),
        )
        .add_service(Admitted::new(
            VerifierServer::new(VerifierService(segel.clone()))
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit),
            grpc_calls,
        ))
        .add_service(LogServer::new(LogService(segel)).max_encoding_message_size(limit))
        .serve_with_incoming_shutdown(incoming, shutdown);
    let result = tokio::select! {
        r = server => r,
        () = grace => {
            tracing::warn!("connections still open after the shutdown grace period: stopping anyway");
            Ok(())
        }
    };
    if let Some(t) = http_task {
        // It stops on the same signal, within the same grace period.
        let _ = tokio::time::timeout(timeout + std::time::Duration::from_secs(1), t).await;
    }
    drop(certificates);
    let log2 = log.clone();
    let _ = tokio::task::spawn_blocking(move || log2.close()).await;
    Ok(result?)
}

/// A task that ends when this is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Export the certificates' expiry times, log those expiring or expired now, and look again
/// once a day while serving (until the returned guard is dropped).
fn watch_certificates(config: &Config) -> AbortOnDrop {
    use crate::expiry;
    let certs = expiry::watched(config);
    expiry::export_metrics(&certs);
    let now = || pades::UnixTime::now().0;
    expiry::log_findings(&expiry::findings(&certs, now()));
    AbortOnDrop(tokio::spawn(expiry::watch(
        certs,
        expiry::CHECK_EVERY,
        now,
        expiry::log_findings,
    )))
}

//! Serving: TLS with optional client certificates, the three services, graceful shutdown.

use std::future::Future;
use std::sync::Arc;

use segel_proto::v1::{
    log_server::LogServer, signer_server::SignerServer, verifier_server::VerifierServer,
};
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};

use crate::config::Config;
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

/// Serve on `listener` until `shutdown` completes, then finish in-flight requests and close
/// the log (everything acknowledged is durable already; queued appends are completed).
///
/// # Errors
/// TLS setup or transport failures.
pub async fn serve(
    config: Config,
    log: Arc<Log>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    let tls = ServerTlsConfig::new()
        .identity(Identity::from_pem(
            &config.tls_cert_pem,
            config.tls_key_pem.as_slice(),
        ))
        .client_ca_root(Certificate::from_pem(&config.client_ca_pem))
        .client_auth_optional(true);
    let limit = config.max_document_bytes + 64 * 1024;
    let timeout = config.request_timeout;
    let segel = Segel::new(config, log.clone());
    // Small gRPC messages must not wait for Nagle's algorithm and delayed ACKs (40 ms).
    let incoming = tokio_stream::StreamExt::map(
        tokio_stream::wrappers::TcpListenerStream::new(listener),
        |s| {
            s.inspect(|s| {
                let _ = s.set_nodelay(true);
            })
        },
    );
    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<SignerServer<SignerService>>()
        .await;
    health_reporter
        .set_serving::<VerifierServer<VerifierService>>()
        .await;
    health_reporter.set_serving::<LogServer<LogService>>().await;
    // The descriptors are compiled in: failing to load them is a build defect, reported at
    // start-up and not fatal (reflection is a convenience).
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(segel_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| tracing::error!(error = %e, "gRPC reflection unavailable"))
        .ok();
    let result = Server::builder()
        .tls_config(tls)?
        .timeout(timeout)
        // Documents are large messages: windows that hold one without waiting for updates.
        .initial_stream_window_size(Some(4 << 20))
        .initial_connection_window_size(Some(16 << 20))
        .add_service(health)
        .add_optional_service(reflection)
        .add_service(
            SignerServer::new(SignerService(segel.clone()))
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit * 2),
        )
        .add_service(
            VerifierServer::new(VerifierService(segel.clone()))
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit),
        )
        .add_service(LogServer::new(LogService(segel)).max_encoding_message_size(limit))
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await;
    let log2 = log.clone();
    let _ = tokio::task::spawn_blocking(move || log2.close()).await;
    result
}

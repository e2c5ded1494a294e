//! The HTTP listener's accept loop: HTTP/1.1, plain or TLS, with bounded connections (in all
//! and per source address), a TLS handshake deadline, a deadline for request headers, and a
//! graceful stop.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::config::HttpConfig;
use crate::limits::PerAddress;

/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serve `app` on `listener` under the limits of `cfg` until `shutdown` completes; then stop
/// accepting, let requests in progress finish for up to `grace`, and return.
///
/// # Errors
/// The TLS configuration cannot be built.
pub async fn serve_http(
    listener: TcpListener,
    app: Router,
    cfg: &HttpConfig,
    grace: Duration,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), crate::tls::TlsError> {
    let tls = match &cfg.tls {
        Some((cert, key)) => Some(tokio_rustls::TlsAcceptor::from(Arc::new(
            crate::tls::web_config(cert, key)?,
        ))),
        None => None,
    };
    let open = Arc::new(Semaphore::new(cfg.max_connections));
    let per_address = PerAddress::new(cfg.max_connections_per_address);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let header_timeout = cfg.header_timeout;
    tokio::pin!(shutdown);
    loop {
        let (tcp, remote) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, do not spin.
                    tracing::warn!(error = %e, "HTTP accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            metrics::counter!("segel_http_connections_refused_total", "why" => "max_connections")
                .increment(1);
            continue;
        };
        let Some(slot) = per_address.take(remote.ip()) else {
            metrics::counter!("segel_http_connections_refused_total", "why" => "per_address")
                .increment(1);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let app = app.clone();
        let service =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(remote));
                let app = app.clone();
                async move {
                    Ok::<_, Infallible>(
                        app.oneshot(req.map(axum::body::Body::new))
                            .await
                            .unwrap_or_else(|e: Infallible| match e {}),
                    )
                }
            });
        let builder = {
            let mut b = hyper::server::conn::http1::Builder::new();
            b.timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .keep_alive(true)
                .max_buf_size(64 * 1024);
            b
        };
        let tls = tls.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _held = (permit, slot);
            match tls {
                None => {
                    let conn = builder.serve_connection(TokioIo::new(tcp), service);
                    let _ = watcher.watch(conn).await;
                }
                Some(acceptor) => {
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await
                    else {
                        return;
                    };
                    let conn = builder.serve_connection(TokioIo::new(stream), service);
                    let _ = watcher.watch(conn).await;
                }
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("HTTP connections still open after the shutdown grace period");
    }
    Ok(())
}

//! Limits against hostile callers: VerifyPdf (open to anyone) admitted up to a bound of running
//! and queued calls, its CPU work bounded per core and abandoned at shutdown; connections that
//! count against the connection limit and close when idle.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tonic::codegen::http;
use tonic::server::NamedService;
use tonic::transport::server::{Connected, TcpConnectInfo};

/// Why a verification did not run to its end.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyRefused {
    /// Every slot, running and queued, is taken.
    #[error(
        "the server is verifying {running} documents and has {queued} more waiting, its limit; \
         try again later"
    )]
    Busy {
        /// Running at once.
        running: usize,
        /// Waiting beyond those.
        queued: usize,
    },
    /// The server is stopping.
    #[error("the server is shutting down")]
    ShuttingDown,
    /// The verification panicked.
    #[error("the verification failed: {0}")]
    Failed(String),
}

/// Cancellation of one verification: set when its caller goes away (deadline passed,
/// disconnected, stream reset) or the server shuts down. The verifier asks it as it goes
/// (`pades::verify::verify_until`) and stops soon after; until then the work keeps its running
/// slot on its blocking thread, so abandoned work never exceeds the running limit.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// Has the caller gone away or the server begun shutting down?
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Sets the flag when the caller's future is dropped or done.
struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0 .0.store(true, Ordering::Relaxed);
    }
}

/// The VerifyPdf limits.
#[derive(Debug)]
pub struct VerifyLimit {
    admitted: Arc<Semaphore>,
    running: Arc<Semaphore>,
    max_running: usize,
    max_queued: usize,
    shutdown: watch::Sender<bool>,
}

impl VerifyLimit {
    /// At most `running` verifications at once and `queued` more waiting for a slot.
    pub fn new(running: usize, queued: usize) -> Arc<Self> {
        Arc::new(Self {
            admitted: Arc::new(Semaphore::new(running.saturating_add(queued))),
            running: Arc::new(Semaphore::new(running)),
            max_running: running,
            max_queued: queued,
            shutdown: watch::channel(false).0,
        })
    }

    /// A slot for one call, from its arrival (before its document is received) to its reply;
    /// none free: [`VerifyRefused::Busy`] at once.
    ///
    /// # Errors
    /// Busy or shutting down.
    pub fn admit(&self) -> Result<OwnedSemaphorePermit, VerifyRefused> {
        if *self.shutdown.borrow() {
            return Err(VerifyRefused::ShuttingDown);
        }
        self.admitted.clone().try_acquire_owned().map_err(|_| {
            metrics::counter!("segel_verifications_refused_total").increment(1);
            VerifyRefused::Busy {
                running: self.max_running,
                queued: self.max_queued,
            }
        })
    }

    /// Run `work` on the blocking pool once a running slot is free. The slot is held by the
    /// work itself, until it ends: a caller that goes away stops waiting at once (its
    /// [`Cancel`] is set), but its work still counts against the limit while it runs. At
    /// shutdown the call returns [`VerifyRefused::ShuttingDown`] at once without waiting for
    /// the work.
    ///
    /// # Errors
    /// Shutting down, or the work panicked.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Cancel) -> T + Send + 'static,
    ) -> Result<T, VerifyRefused> {
        let cancel = Cancel::default();
        let _on_drop = CancelOnDrop(cancel.clone());
        let mut shutdown = self.shutdown.subscribe();
        let stopping = async move {
            let _ = shutdown.wait_for(|s| *s).await;
        };
        tokio::pin!(stopping);
        let permit = tokio::select! {
            p = self.running.clone().acquire_owned() => p.map_err(|_| VerifyRefused::ShuttingDown)?,
            () = &mut stopping => return Err(VerifyRefused::ShuttingDown),
        };
        let c = cancel.clone();
        let job = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work(&c)
        });
        tokio::select! {
            r = job => r.map_err(|e| VerifyRefused::Failed(e.to_string())),
            () = &mut stopping => Err(VerifyRefused::ShuttingDown),
        }
    }

    /// Shutting down: refuse new calls, end waiting and running ones at once (their work is
    /// told through [`Cancel`] and abandoned).
    pub fn close(&self) {
        self.shutdown.send_replace(true);
        self.admitted.close();
        self.running.close();
    }
}

/// A service (the Verifier) whose calls each need a [`VerifyLimit::admit`] place, taken when the
/// call's headers arrive (so a document being uploaded holds one too) and kept until its reply.
/// The server gives it a pool of its own: the verification slot proper is taken by the handler
/// once the message is in, from the pool every edge shares.
#[derive(Debug, Clone)]
pub struct Admitted<S> {
    inner: S,
    limit: Arc<VerifyLimit>,
}

impl<S> Admitted<S> {
    /// `inner` under `limit`.
    pub fn new(inner: S, limit: Arc<VerifyLimit>) -> Self {
        Self { inner, limit }
    }
}

impl<S: NamedService> NamedService for Admitted<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> tonic::codegen::Service<http::Request<B>> for Admitted<S>
where
    S: tonic::codegen::Service<
            http::Request<B>,
            Response = http::Response<tonic::body::Body>,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = std::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        match self.limit.admit() {
            Err(e) => {
                let response = crate::status::verify_refused(&e).into_http();
                Box::pin(async move { Ok(response) })
            }
            Ok(permit) => {
                let call = self.inner.call(req);
                Box::pin(async move {
                    let response = call.await;
                    drop(permit);
                    response
                })
            }
        }
    }
}

/// Open connections per source: an IPv4 address, or an IPv6 /64 (what one host is usually
/// given).
#[derive(Debug)]
pub struct PerAddress {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection's place under [`PerAddress`], given back when dropped.
#[derive(Debug)]
pub struct AddressSlot {
    of: Arc<PerAddress>,
    source: IpAddr,
}

impl PerAddress {
    /// At most `max` open connections per source.
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A place for a connection from `ip`, if its source has fewer than the maximum open.
    pub fn take(self: &Arc<Self>, ip: IpAddr) -> Option<AddressSlot> {
        let source = match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let mut o = v6.octets();
                o[8..].fill(0);
                IpAddr::from(o)
            }
            v4 => v4,
        };
        let mut open = self.open.lock().ok()?;
        let n = open.entry(source).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(AddressSlot {
            of: self.clone(),
            source,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.of.open.lock() {
            if let Some(n) = open.get_mut(&self.source) {
                *n -= 1;
                if *n == 0 {
                    open.remove(&self.source);
                }
            }
        }
    }
}

/// An accepted TCP connection: holds its place under the connection limits until closed, and
/// fails reads once no byte has moved either way for the idle timeout.
#[derive(Debug)]
pub struct Conn {
    tcp: TcpStream,
    _slots: (OwnedSemaphorePermit, AddressSlot),
    idle: Duration,
    last: Instant,
    timer: Pin<Box<Sleep>>,
}

impl Conn {
    /// `tcp`, counted by `slots` (total and per address), closed after `idle` without
    /// traffic.
    pub fn new(tcp: TcpStream, slots: (OwnedSemaphorePermit, AddressSlot), idle: Duration) -> Self {
        let last = Instant::now();
        Self {
            tcp,
            _slots: slots,
            idle,
            last,
            timer: Box::pin(tokio::time::sleep_until(last + idle)),
        }
    }

    /// Ready with an error once the connection has been idle for the timeout; otherwise
    /// pending, woken when that would next be the case.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        loop {
            let deadline = self.last + self.idle;
            if self.timer.deadline() != deadline {
                self.timer.as_mut().reset(deadline);
            }
            match self.timer.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(()) if Instant::now() >= self.last + self.idle => {
                    metrics::counter!("segel_idle_connections_closed_total").increment(1);
                    return Poll::Ready(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "connection idle for too long",
                    ));
                }
                Poll::Ready(()) => {}
            }
        }
    }
}

impl Connected for Conn {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.tcp.connect_info()
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.tcp).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    this.last = Instant::now();
                }
                Poll::Ready(r)
            }
            Poll::Pending => this.poll_idle(cx).map(Err),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.tcp).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.last = Instant::now();
        }
        r
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.tcp).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.last = Instant::now();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A verification whose work never ends by itself (it waits for the test) does not hold
    /// up shutdown: the call returns at once, its work is told to stop and keeps its running
    /// slot until it ends.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sigterm_does_not_wait_for_abandoned_verifications() {
        let limit = VerifyLimit::new(1, 0);
        let (started_tx, started_rx) = tokio::sync::oneshot::channel::<Cancel>();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let (ended_tx, ended_rx) = tokio::sync::oneshot::channel::<bool>();
        let l = limit.clone();
        let call = tokio::spawn(async move {
            let _slot = l.admit().expect("a free slot");
            l.run(move |cancel| {
                let _ = started_tx.send(cancel.clone());
                let _ = release_rx.recv();
                let _ = ended_tx.send(cancel.is_cancelled());
            })
            .await
        });
        let cancel = started_rx.await.expect("the work started");
        assert!(!cancel.is_cancelled());
        // While it runs, a second caller is refused at once.
        assert!(matches!(limit.admit(), Err(VerifyRefused::Busy { .. })));
        limit.close();
        let r = call.await.expect("the call task");
        assert!(matches!(r, Err(VerifyRefused::ShuttingDown)), "{r:?}");
        assert!(cancel.is_cancelled(), "the abandoned work is told to stop");
        assert!(matches!(limit.admit(), Err(VerifyRefused::ShuttingDown)));
        release_tx.send(()).expect("the work still waits");
        assert!(ended_rx.await.expect("the work ended"));
    }

    /// A caller that goes away (its future dropped: deadline or disconnect) leaves its work
    /// holding the running slot until the work ends, with its cancellation flag set.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn abandoned_verification_keeps_its_slot_until_its_work_ends() {
        let limit = VerifyLimit::new(1, 1);
        let (started_tx, started_rx) = tokio::sync::oneshot::channel::<Cancel>();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let l = limit.clone();
        let call = tokio::spawn(async move {
            l.run(move |cancel| {
                let _ = started_tx.send(cancel.clone());
                let _ = release_rx.recv();
            })
            .await
        });
        let cancel = started_rx.await.expect("started");
        call.abort();
        assert!(call.await.is_err(), "the call was dropped");
        assert!(cancel.is_cancelled());
        // The slot is still taken by the abandoned work.
        assert_eq!(limit.running.available_permits(), 0);
        release_tx.send(()).expect("release");
        // Once the work ends, the next verification runs.
        assert_eq!(limit.run(|_| 7).await.expect("runs"), 7);
    }
}

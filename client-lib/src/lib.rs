//! # segel-client
//!
//! The client side of Segel:
//! - [`online`]: typed async calls to the signing server over mutual TLS (sign a PDF, unary or
//!   streamed; sign a locally prepared PDF by its digest; verify; read the log), with every
//!   proof checked against the log's key and the newest checkpoint seen ([`logcheck`]);
//! - [`batch`]: signing folders of PDFs with bounded concurrency, resumable, with a report;
//! - [`offline`]: signing and verifying files with the `pades` engine and a local key;
//! - [`seal`]: visible seals drawn on this side (offline, and in digest-only mode);
//! - [`settings`] (where to connect, from flags, the environment and a file), [`pem`] (reading
//!   keys and certificates) and [`render`] (a verification report as text or JSON), shared with
//!   the `segel` CLI (crate `segel-cli`), which adds only arguments, progress and exit codes.
//!
//! The API speaks domain types (`pades::SignOptions`, `tlog::LogEntry`, its own result types),
//! never protobuf: the wire messages stay inside [`online`].

#![forbid(unsafe_code)]

pub mod batch;
pub mod error;
pub mod logcheck;
pub mod offline;
pub mod online;
pub mod pem;
pub mod render;
pub mod seal;
pub mod settings;

pub use error::ClientError;

/// Read a whole file; an error names it.
///
/// # Errors
/// [`ClientError::Read`].
pub fn read_file(path: &std::path::Path) -> Result<Vec<u8>, ClientError> {
    std::fs::read(path).map_err(|source| ClientError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// The async runtime the `segel` CLI runs on, for embedders that want the same: multi-threaded,
/// I/O and timers enabled, and a blocking pool of at most [`blocking_threads`] threads.
///
/// The batch reads and writes large files on the blocking pool, where tokio's default would
/// start a thread for every file in flight (up to 512), each with its own stack and allocator
/// arenas, for writers that a few cores and one disk cannot use at once.
pub fn runtime_builder() -> tokio::runtime::Builder {
    let mut b = tokio::runtime::Builder::new_multi_thread();
    b.max_blocking_threads(blocking_threads()).enable_all();
    b
}

/// The blocking pool's size in [`runtime_builder`]: four per core, at least eight.
pub fn blocking_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(2, std::num::NonZeroUsize::get)
        .saturating_mul(4)
        .max(8)
}

/// The SHA-256 state after `data` (to finish, or to continue with what follows it).
pub(crate) fn sha256_state(data: &[u8]) -> aws_lc_rs::digest::Context {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    ctx.update(data);
    ctx
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn the_runtime_runs_more_blocking_work_than_it_has_threads_never_more_at_once() {
        let rt = super::runtime_builder().build().expect("runtime");
        let limit = super::blocking_threads();
        assert!(limit >= 8);
        let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let done = rt.block_on(async {
            let tasks: Vec<_> = (0..3 * limit)
                .map(|_| {
                    let (now, most) = (now.clone(), most.clone());
                    tokio::task::spawn_blocking(move || {
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(n, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        now.fetch_sub(1, Ordering::SeqCst);
                    })
                })
                .collect();
            let mut done = 0;
            for t in tasks {
                t.await.expect("task");
                done += 1;
            }
            done
        });
        assert_eq!(done, 3 * limit);
        let most = most.load(Ordering::SeqCst);
        assert!(
            most <= limit,
            "{most} blocking tasks at once, limit {limit}"
        );
        assert!(most > 1, "blocking tasks never overlapped");
    }
}

//! # segel-bench
//!
//! Segel's benchmark tools and what they share. The tools are binaries of this crate:
//!
//! - `load` (`cargo run --release -p segel-bench --bin load [-- SECONDS_PER_LEVEL]`): an
//!   in-process server over mutual TLS, callers signing 100 KB PDFs at several concurrency
//!   levels, an open-loop run, and a batch phase through the client library and the `segel`
//!   binary;
//! - `floor` (`cargo run --release -p segel-bench --bin floor [-- SECONDS_PER_LEVEL]`): the
//!   least work any signing service does for the same request, without and with the gRPC stack:
//!   the ceiling for what `load` can reach on the same machine;
//! - `peer_pyhanko.py` (`.venv/bin/python bench/peer_pyhanko.py KEY CERT CHAIN FILE…`):
//!   pyHanko's in-process signing time, the peer to compare with `cargo bench -p pades`.
//!
//! The library holds what both tools measure with: CPU time and context switches from `/proc`
//! ([`proc`]), `openssl speed` as the machine's yardstick ([`openssl`]), and the development
//! PKI and the callers' TLS ([`tls`]).

#![forbid(unsafe_code)]

pub mod openssl;
pub mod proc;
pub mod tls;

use std::time::Duration;

/// The `p` quantile (0.0 to 1.0) of the `sorted` latencies, the nearest rank; zero when there
/// are none.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// The comma-separated values of the environment variable `name` that `parse` takes, or
/// `default` when it is unset or holds none.
pub fn env_list<T>(name: &str, parse: impl Fn(&str) -> Option<T>, default: Vec<T>) -> Vec<T> {
    std::env::var(name)
        .ok()
        .map(|v| v.split(',').filter_map(|x| parse(x.trim())).collect())
        .filter(|v: &Vec<T>| !v.is_empty())
        .unwrap_or(default)
}

/// The seconds per level a tool was given as its first argument, or `default`.
pub fn seconds_arg(default: u64) -> u64 {
    std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_takes_the_nearest_rank_and_is_zero_for_no_samples() {
        let ms: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&ms, 0.5), Duration::from_millis(51));
        assert_eq!(percentile(&ms, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&ms, 1.0), Duration::from_millis(100));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }
}

use std::io::Write;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use super::*;

/// 2030-01-01T00:00:00Z.
const NOT_AFTER: i64 = 1_893_456_000;

fn agency(id: &str, not_before: i64, not_after: i64) -> Watched {
    Watched {
        subject: Subject::Agency(id.into()),
        validity: Validity {
            not_before,
            not_after,
        },
    }
}

#[test]
fn the_warning_starts_30_days_before_expiry_and_turns_into_expired_after_not_after() {
    assert_eq!(
        expiry_state(NOT_AFTER, NOT_AFTER - 365 * DAY),
        ExpiryState::Ok
    );
    assert_eq!(
        expiry_state(NOT_AFTER, NOT_AFTER - 30 * DAY - 1),
        ExpiryState::Ok
    );
    assert_eq!(
        expiry_state(NOT_AFTER, NOT_AFTER - 30 * DAY),
        ExpiryState::Warn { days: 30 }
    );
    assert_eq!(
        expiry_state(NOT_AFTER, NOT_AFTER - 30 * DAY + 1),
        ExpiryState::Warn { days: 29 }
    );
    assert_eq!(
        expiry_state(NOT_AFTER, NOT_AFTER - DAY),
        ExpiryState::Warn { days: 1 }
    );
    // notAfter itself is still within the validity (RFC 5280: inclusive).
    assert_eq!(
        expiry_state(NOT_AFTER, NOT_AFTER),
        ExpiryState::Warn { days: 0 }
    );
    assert_eq!(expiry_state(NOT_AFTER, NOT_AFTER + 1), ExpiryState::Expired);
    assert_eq!(
        expiry_state(NOT_AFTER, NOT_AFTER + 400 * DAY),
        ExpiryState::Expired
    );
    // No overflow at the ends of time.
    assert_eq!(expiry_state(i64::MAX, i64::MIN), ExpiryState::Ok);
    assert_eq!(expiry_state(i64::MIN, i64::MAX), ExpiryState::Expired);
}

#[test]
fn validity_includes_both_ends_and_names_the_end_passed() {
    let v = Validity {
        not_before: NOT_AFTER - 100,
        not_after: NOT_AFTER,
    };
    assert_eq!(v.check(NOT_AFTER - 100), Ok(()));
    assert_eq!(v.check(NOT_AFTER), Ok(()));
    let expired = v.check(NOT_AFTER + 1).expect_err("after notAfter");
    assert_eq!(
        expired,
        NotValid::Expired {
            not_after: NOT_AFTER
        }
    );
    assert_eq!(expired.to_string(), "expired at 2030-01-01T00:00:00Z");
    let early = v.check(NOT_AFTER - 101).expect_err("before notBefore");
    assert_eq!(
        early.to_string(),
        "is not valid before 2029-12-31T23:58:20Z"
    );
}

#[test]
fn validity_is_read_from_the_certificate() {
    let t = tempfile::tempdir().expect("tempdir");
    segel_devpki::generate(t.path()).expect("dev PKI");
    let pem = std::fs::read(t.path().join("server.pem")).expect("server.pem");
    let v = Validity::of_pem_chain(&pem).expect("parses");
    let now = pades::UnixTime::now().0;
    // The development server certificate: from a day ago, for a year.
    assert!((v.not_before - (now - DAY)).abs() < 600, "{v:?}");
    assert!((v.not_after - (now + 365 * DAY)).abs() < 600, "{v:?}");
    assert!(Validity::of_pem_chain(b"no certificate here").is_err());
    assert!(Validity::of_der(b"\x30\x03\x02\x01\x00").is_err());
}

#[test]
fn the_expiry_gauges_carry_each_not_after() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let certs = [
        agency("dev", 0, NOT_AFTER),
        agency("kemenkes", 0, NOT_AFTER + 7),
        Watched {
            subject: Subject::TlsServer,
            validity: Validity {
                not_before: 0,
                not_after: NOT_AFTER - 9,
            },
        },
    ];
    metrics::with_local_recorder(&recorder, || export_metrics(&certs));
    let text = handle.render();
    let values: Vec<&str> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    for line in [
        "segel_certificate_expiry_timestamp_seconds{agency=\"dev\"} 1893456000",
        "segel_certificate_expiry_timestamp_seconds{agency=\"kemenkes\"} 1893456007",
        "segel_tls_certificate_expiry_timestamp_seconds 1893455991",
    ] {
        assert!(values.contains(&line), "{line:?} missing from:\n{text}");
    }
    assert_eq!(values.len(), 3, "{text}");
}

#[test]
fn findings_read_as_sentences_with_the_time() {
    let certs = [
        agency("dev", 0, NOT_AFTER),
        Watched {
            subject: Subject::TlsServer,
            validity: Validity {
                not_before: 0,
                not_after: NOT_AFTER + 90 * DAY,
            },
        },
    ];
    let lines: Vec<String> = findings(&certs, NOT_AFTER - 12 * DAY - 5)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        lines,
        [
            "agency \"dev\"'s e-seal certificate expires in 12 day(s), at 2030-01-01T00:00:00Z: \
             renew it",
            "the TLS server certificate is valid until 2030-04-01T00:00:00Z",
        ]
    );
    let expired = findings(&certs[..1], NOT_AFTER + 1);
    assert_eq!(
        expired[0].to_string(),
        "agency \"dev\"'s e-seal certificate expired at 2030-01-01T00:00:00Z"
    );
}

/// A writer into a shared buffer, for the log lines.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn expiring_certificates_are_warned_about_and_expired_ones_are_errors() {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let certs = [
        agency("fresh", 0, NOT_AFTER + 100 * DAY),
        agency("soon", 0, NOT_AFTER + 3 * DAY),
        agency("gone", 0, NOT_AFTER - 1),
    ];
    tracing::subscriber::with_default(subscriber, || {
        log_findings(&findings(&certs, NOT_AFTER));
    });
    let text = String::from_utf8(out.0.lock().expect("buffer").clone()).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].contains("WARN") && lines[0].contains("\"soon\"") && lines[0].contains("3 day"),
        "{text}"
    );
    assert!(
        lines[1].contains("ERROR")
            && lines[1].contains("\"gone\"")
            && lines[1].contains("expired at 2029-12-31T23:59:59Z"),
        "{text}"
    );
    assert!(!text.contains("fresh"), "{text}");
}

/// The watch over simulated days: a clock that moves a day per round, rounds a millisecond
/// apart. Quiet until 30 days before, then a warning every day, then expired.
#[tokio::test]
async fn the_watch_reports_every_round_at_the_clock_it_is_given() {
    let clock = Arc::new(AtomicI64::new(NOT_AFTER - 32 * DAY));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let ticking = clock.clone();
    let task = tokio::spawn(watch(
        vec![agency("dev", 0, NOT_AFTER)],
        Duration::from_millis(1),
        move || ticking.fetch_add(DAY, Ordering::SeqCst),
        move |f: &[Finding]| {
            let _ = tx.send(f[0].state);
        },
    ));
    let mut states = Vec::new();
    for _ in 0..35 {
        states.push(rx.recv().await.expect("a round"));
    }
    task.abort();
    let mut expected = vec![ExpiryState::Ok, ExpiryState::Ok];
    expected.extend((0..=30).rev().map(|days| ExpiryState::Warn { days }));
    expected.extend([ExpiryState::Expired, ExpiryState::Expired]);
    assert_eq!(states, expected);
}

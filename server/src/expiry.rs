//! Certificate validity over time: the agencies' e-seal certificates and the TLS server
//! certificate.
//!
//! - **At every signature** the signing core asks [`Validity::check`] at the signing time; a
//!   certificate outside its validity (before notBefore, after notAfter, both inclusive as in
//!   RFC 5280 §4.1.2.5) refuses that agency's signatures with [`crate::status::certificate_not_valid`],
//!   before anything is signed or logged. Other agencies go on signing.
//! - **Metrics**: [`export_metrics`] sets `segel_certificate_expiry_timestamp_seconds{agency}` for
//!   each agency and `segel_tls_certificate_expiry_timestamp_seconds` for the TLS server
//!   certificate (notAfter as Unix seconds), at start-up (certificates are read once, at start).
//! - **Logs**: [`log_findings`] warns from [`WARN_BEFORE_SECS`] (30 days) before a certificate's
//!   notAfter and logs an error once it has passed; the server does so at start-up and then every
//!   [`CHECK_EVERY`] ([`watch`]). `--check` prints the same findings.
//!
//! The log key (`data/log.key`) is a bare Ed25519 key with no certificate and no expiry: nothing
//! here watches it.
//!
//! [`expiry_state`] is the pure rule; the clock is always passed in.

use std::time::Duration;

/// A certificate is reported as expiring from this long before its notAfter: 30 days.
pub const WARN_BEFORE_SECS: i64 = 30 * DAY;

/// How often the running server looks at its certificates again: once a day.
pub const CHECK_EVERY: Duration = Duration::from_secs(DAY as u64);

const DAY: i64 = 86_400;

/// A certificate's validity period, in Unix seconds (RFC 5280 §4.1.2.5: both ends inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// notBefore.
    pub not_before: i64,
    /// notAfter.
    pub not_after: i64,
}

/// Why a certificate cannot be used at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotValid {
    /// The time is after the certificate's notAfter.
    #[error("expired at {}", rfc3339(*not_after))]
    Expired {
        /// notAfter, Unix seconds.
        not_after: i64,
    },
    /// The time is before the certificate's notBefore.
    #[error("is not valid before {}", rfc3339(*not_before))]
    NotYetValid {
        /// notBefore, Unix seconds.
        not_before: i64,
    },
}

impl Validity {
    /// The validity of a DER certificate.
    ///
    /// # Errors
    /// The parser's message when `der` is not an X.509 certificate.
    pub fn of_der(der: &[u8]) -> Result<Self, String> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| e.to_string())?;
        let v = cert.validity();
        Ok(Self {
            not_before: v.not_before.timestamp(),
            not_after: v.not_after.timestamp(),
        })
    }

    /// The validity of the first certificate of a PEM chain.
    ///
    /// # Errors
    /// When the PEM holds no certificate or the first does not parse.
    pub fn of_pem_chain(pem: &[u8]) -> Result<Self, String> {
        let chain = pades::pem::certificates(pem).map_err(|e| e.0)?;
        let first = chain.first().ok_or("no certificate")?;
        Self::of_der(first)
    }

    /// Is the certificate valid at `at` (Unix seconds)?
    ///
    /// # Errors
    /// [`NotValid`] saying which end of the period `at` lies beyond.
    pub fn check(self, at: i64) -> Result<(), NotValid> {
        if at > self.not_after {
            return Err(NotValid::Expired {
                not_after: self.not_after,
            });
        }
        if at < self.not_before {
            return Err(NotValid::NotYetValid {
                not_before: self.not_before,
            });
        }
        Ok(())
    }
}

/// How close a certificate is to its notAfter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryState {
    /// More than [`WARN_BEFORE_SECS`] left.
    Ok,
    /// At most [`WARN_BEFORE_SECS`] left: `days` whole days (0 on its last day).
    Warn {
        /// Whole days left.
        days: i64,
    },
    /// notAfter has passed.
    Expired,
}

/// The state of a certificate whose notAfter is `not_after` at time `now` (Unix seconds).
pub fn expiry_state(not_after: i64, now: i64) -> ExpiryState {
    let left = not_after.saturating_sub(now);
    if left < 0 {
        ExpiryState::Expired
    } else if left <= WARN_BEFORE_SECS {
        ExpiryState::Warn { days: left / DAY }
    } else {
        ExpiryState::Ok
    }
}

/// Whose certificate it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// An agency's e-seal certificate.
    Agency(String),
    /// The server's TLS certificate.
    TlsServer,
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Agency(id) => write!(f, "agency {id:?}'s e-seal certificate"),
            Self::TlsServer => f.write_str("the TLS server certificate"),
        }
    }
}

/// A certificate the server watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    /// Whose it is.
    pub subject: Subject,
    /// Its validity.
    pub validity: Validity,
}

/// The certificates of a checked configuration: each agency's (by id), then the TLS server's.
pub fn watched(config: &crate::config::Config) -> Vec<Watched> {
    let mut agencies: Vec<&crate::config::Agency> = config.agencies.values().collect();
    agencies.sort_by(|a, b| a.id.cmp(&b.id));
    let mut out: Vec<Watched> = agencies
        .into_iter()
        .map(|a| Watched {
            subject: Subject::Agency(a.id.clone()),
            validity: a.validity,
        })
        .collect();
    out.push(Watched {
        subject: Subject::TlsServer,
        validity: config.tls_cert_validity,
    });
    out
}

/// One certificate's state at one time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Whose certificate.
    pub subject: Subject,
    /// Its notAfter, Unix seconds.
    pub not_after: i64,
    /// Its state.
    pub state: ExpiryState,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = rfc3339(self.not_after);
        match self.state {
            ExpiryState::Ok => write!(f, "{} is valid until {at}", self.subject),
            ExpiryState::Warn { days } => write!(
                f,
                "{} expires in {days} day(s), at {at}: renew it",
                self.subject
            ),
            ExpiryState::Expired => write!(f, "{} expired at {at}", self.subject),
        }
    }
}

/// The state of every certificate at `now` (Unix seconds).
pub fn findings(certs: &[Watched], now: i64) -> Vec<Finding> {
    certs
        .iter()
        .map(|c| Finding {
            subject: c.subject.clone(),
            not_after: c.validity.not_after,
            state: expiry_state(c.validity.not_after, now),
        })
        .collect()
}

/// Log what needs attention: a warning for a certificate that expires within 30 days, an error
/// for one that has expired; nothing for the others.
pub fn log_findings(findings: &[Finding]) {
    for f in findings {
        match f.state {
            ExpiryState::Ok => {}
            ExpiryState::Warn { days } => tracing::warn!(
                certificate = %f.subject,
                days_left = days,
                not_after = %rfc3339(f.not_after),
                "{f}"
            ),
            ExpiryState::Expired => tracing::error!(
                certificate = %f.subject,
                not_after = %rfc3339(f.not_after),
                "{f}"
            ),
        }
    }
}

/// Set the expiry gauges: `segel_certificate_expiry_timestamp_seconds{agency}` for agencies,
/// `segel_tls_certificate_expiry_timestamp_seconds` for the TLS server certificate.
pub fn export_metrics(certs: &[Watched]) {
    for c in certs {
        // Unix seconds are exact in an f64 for any date a certificate can hold.
        let not_after = c.validity.not_after as f64;
        match &c.subject {
            Subject::Agency(id) => {
                metrics::gauge!("segel_certificate_expiry_timestamp_seconds", "agency" => id.clone())
                    .set(not_after);
            }
            Subject::TlsServer => {
                metrics::gauge!("segel_tls_certificate_expiry_timestamp_seconds").set(not_after);
            }
        }
    }
}

/// Look at `certs` every `every`, at the time `clock` gives (Unix seconds), and hand each
/// round's findings to `report` ([`log_findings`] in the server). Runs until dropped; the
/// first round comes after `every` (the server reports at start-up itself).
pub async fn watch(
    certs: Vec<Watched>,
    every: Duration,
    clock: impl Fn() -> i64,
    mut report: impl FnMut(&[Finding]),
) {
    loop {
        tokio::time::sleep(every).await;
        report(&findings(&certs, clock()));
    }
}

/// Unix seconds as RFC 3339 (`YYYY-MM-DDTHH:MM:SSZ`).
pub fn rfc3339(t: i64) -> String {
    pades::UnixTime(t).rfc3339()
}

#[cfg(test)]
mod tests;

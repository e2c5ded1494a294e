//! Connection settings: from flags, then the environment (`SEGEL_SERVER`, `SEGEL_CA`,
//! `SEGEL_CLIENT_CERT`, `SEGEL_CLIENT_KEY`, `SEGEL_LOG_KEY`, `SEGEL_STATE`), then a TOML file, then the
//! development defaults (`--dev`: the files in `certs-dev/` and `https://localhost:50051`).
//!
//! The file (`--config FILE`, `SEGEL_CONFIG`, or `$XDG_CONFIG_HOME/segel/config.toml`):
//! ```toml
//! server = "https://segel.example.go.id:50051"
//! ca = "/etc/segel/tls-ca.pem"            # CA of the server's TLS certificate (default: the
//!                                         # system's root certificates)
//! cert = "/etc/segel/client.pem"          # this client's certificate (signing only)
//! key = "/etc/segel/client.key"           # its private key (mode 0600)
//! log_key = "segel-log+1a2b3c4d+AXk..."   # the log's verifier key, pinned
//! state = "/var/lib/segel/client-state"   # where the newest checkpoint seen is kept
//! ```

use std::path::{Path, PathBuf};

use crate::error::ClientError;

/// The development server's address.
pub const DEV_SERVER: &str = "https://localhost:50051";

/// Where to connect and with which identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Server URL, `https://host:port`.
    pub server: Option<String>,
    /// CA certificate(s) of the server's TLS certificate, PEM; without it the system's root
    /// certificates are used (see [`Settings::server_trust`]).
    pub ca: Option<PathBuf>,
    /// This client's certificate, PEM (needed for signing).
    pub cert: Option<PathBuf>,
    /// This client's private key, PEM.
    pub key: Option<PathBuf>,
    /// The log's verifier key (C2SP), pinned; without it the key is trusted on first use and
    /// kept in the state folder.
    pub log_key: Option<String>,
    /// Folder where the newest checkpoint seen (and a first-use log key) is kept.
    pub state: Option<PathBuf>,
}

/// Which certificates the client accepts for the server's TLS certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerTrust {
    /// The operating system's root certificates (a server certificate from a public CA).
    System,
    /// Only the CA certificate(s) of this PEM file (`--ca`): the system's roots are not used.
    CaFile(PathBuf),
}

impl Settings {
    /// The trust for the server's TLS certificate: the `ca` file alone when one is set, else
    /// the system's root certificates.
    pub fn server_trust(&self) -> ServerTrust {
        match &self.ca {
            Some(ca) => ServerTrust::CaFile(ca.clone()),
            None => ServerTrust::System,
        }
    }

    /// Fill every unset field from `other`.
    #[must_use]
    pub fn or(self, other: Self) -> Self {
        Self {
            server: self.server.or(other.server),
            ca: self.ca.or(other.ca),
            cert: self.cert.or(other.cert),
            key: self.key.or(other.key),
            log_key: self.log_key.or(other.log_key),
            state: self.state.or(other.state),
        }
    }

    /// The settings in the environment.
    pub fn from_env() -> Self {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
        Self {
            server: var("SEGEL_SERVER"),
            ca: var("SEGEL_CA").map(PathBuf::from),
            cert: var("SEGEL_CLIENT_CERT").map(PathBuf::from),
            key: var("SEGEL_CLIENT_KEY").map(PathBuf::from),
            log_key: var("SEGEL_LOG_KEY"),
            state: var("SEGEL_STATE").map(PathBuf::from),
        }
    }

    /// The development defaults: `certs` (normally `certs-dev/`) and [`DEV_SERVER`].
    pub fn dev(certs: &Path) -> Self {
        Self {
            server: Some(DEV_SERVER.into()),
            ca: Some(certs.join("tls-ca.pem")),
            cert: Some(certs.join("client.pem")),
            key: Some(certs.join("client.key")),
            log_key: None,
            state: None,
        }
    }

    /// Read a settings file. Relative paths in it are taken relative to the file's folder.
    ///
    /// # Errors
    /// [`ClientError::Settings`] for an unreadable or malformed file.
    pub fn from_file(path: &Path) -> Result<Self, ClientError> {
        let text = std::fs::read_to_string(path).map_err(|source| ClientError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut s: Self = toml::from_str(&text)
            .map_err(|e| ClientError::Settings(format!("{}: {e}", path.display())))?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [&mut s.ca, &mut s.cert, &mut s.key, &mut s.state]
            .into_iter()
            .flatten()
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok(s)
    }

    /// The default settings file, if it exists: `SEGEL_CONFIG`, else
    /// `$XDG_CONFIG_HOME/segel/config.toml` (or `~/.config/segel/config.toml`).
    pub fn default_file() -> Option<PathBuf> {
        if let Some(p) = std::env::var_os("SEGEL_CONFIG").filter(|p| !p.is_empty()) {
            return Some(PathBuf::from(p));
        }
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
        let p = base.join("segel").join("config.toml");
        p.exists().then_some(p)
    }

    /// The state folder: the setting, else `$XDG_STATE_HOME/segel` (or
    /// `~/.local/state/segel`), else none (nothing is kept between runs).
    pub fn state_dir(&self) -> Option<PathBuf> {
        self.state.clone().or_else(|| {
            std::env::var_os("XDG_STATE_HOME")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
                .map(|b| b.join("segel"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_env_over_file_over_dev() {
        let flags = Settings {
            server: Some("https://flag:1".into()),
            ..Settings::default()
        };
        let env = Settings {
            server: Some("https://env:1".into()),
            ca: Some("env-ca.pem".into()),
            ..Settings::default()
        };
        let file = Settings {
            ca: Some("file-ca.pem".into()),
            cert: Some("file-cert.pem".into()),
            ..Settings::default()
        };
        let s = flags
            .or(env)
            .or(file)
            .or(Settings::dev(Path::new("certs-dev")));
        assert_eq!(s.server.as_deref(), Some("https://flag:1"));
        assert_eq!(s.ca, Some(PathBuf::from("env-ca.pem")));
        assert_eq!(s.cert, Some(PathBuf::from("file-cert.pem")));
        assert_eq!(s.key, Some(PathBuf::from("certs-dev/client.key")));
    }

    #[test]
    fn without_a_ca_the_system_roots_are_trusted() {
        let s = Settings {
            server: Some("https://segel.example.go.id:50051".into()),
            ..Settings::default()
        };
        assert_eq!(s.server_trust(), ServerTrust::System);
    }

    #[test]
    fn a_ca_from_any_source_is_the_only_trust() {
        let flags = Settings {
            ca: Some("flag-ca.pem".into()),
            ..Settings::default()
        };
        assert_eq!(
            flags.server_trust(),
            ServerTrust::CaFile("flag-ca.pem".into())
        );
        // Development mode names its own CA: the system roots do not apply there either.
        let dev = Settings::default().or(Settings::dev(Path::new("certs-dev")));
        assert_eq!(
            dev.server_trust(),
            ServerTrust::CaFile(PathBuf::from("certs-dev/tls-ca.pem"))
        );
    }

    #[test]
    fn a_file_with_an_unknown_key_is_refused_by_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("config.toml");
        std::fs::write(&p, "server = \"https://x:1\"\nsever = 1\n").expect("write");
        let e = Settings::from_file(&p).expect_err("refused");
        assert!(e.to_string().contains("sever"), "{e}");
        std::fs::write(&p, "server = \"https://x:1\"\nca = \"ca.pem\"\n").expect("write");
        let s = Settings::from_file(&p).expect("read");
        assert_eq!(s.ca, Some(dir.path().join("ca.pem")));
    }
}

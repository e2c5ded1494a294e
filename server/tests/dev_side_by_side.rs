//! Two development servers side by side: each with its own `--listen`, `--data` and
//! `--metrics-listen` (one of them with metrics off), from one development PKI.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A `segel-server --dev` child and the lines it printed up to the one that says it listens.
struct DevServer {
    child: Child,
    /// Everything printed before `segel-server listening on …`.
    startup: Vec<String>,
    /// The gRPC address.
    addr: String,
}

impl DevServer {
    /// Start a development server with `certs` and `data`, metrics and the HTTP listener as
    /// `metrics` and `http` say, and wait until it listens (or panic with what it printed).
    fn start(certs: &Path, data: &Path, metrics: &str, http: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_segel-server"))
            .args([
                "--dev",
                "--listen",
                "127.0.0.1:0",
                "--metrics-listen",
                metrics,
                "--http-listen",
                http,
            ])
            .arg("--certs")
            .arg(certs)
            .arg("--data")
            .arg(data)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn segel-server --dev");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut startup = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(120)) {
                Ok(line) => match line.strip_prefix("segel-server listening on https://") {
                    Some(rest) => {
                        let addr = rest.split(' ').next().unwrap_or_default().to_string();
                        return Self {
                            child,
                            startup,
                            addr,
                        };
                    }
                    None => startup.push(line),
                },
                Err(e) => {
                    let _ = child.kill();
                    let status = child.wait();
                    panic!("the server did not listen ({e}, {status:?}); it printed {startup:?}");
                }
            }
        }
    }

    /// The verification page's address the server printed, if it serves one.
    fn page(&self) -> Option<String> {
        self.startup.iter().find_map(|l| {
            l.strip_prefix("verification page on http://")
                .and_then(|r| r.split('/').next())
                .map(str::to_string)
        })
    }

    /// The metrics address the server printed, if it serves metrics.
    fn metrics(&self) -> Option<String> {
        self.startup.iter().find_map(|l| {
            l.strip_prefix("metrics on http://")
                .and_then(|r| r.strip_suffix("/metrics"))
                .map(str::to_string)
        })
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The metrics page at `addr`.
fn scrape(addr: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect to the metrics port");
    s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n")
        .expect("request");
    let mut page = String::new();
    s.read_to_string(&mut page).expect("response");
    page
}

#[test]
fn two_dev_servers_run_side_by_side_with_their_own_metrics_or_none() {
    let t = tempfile::tempdir().expect("tempdir");
    let certs = t.path().join("certs");
    let first = DevServer::start(&certs, &t.path().join("a"), "127.0.0.1:0", "127.0.0.1:0");
    let second = DevServer::start(&certs, &t.path().join("b"), "off", "off");

    // The first serves its verification page; the second, with --http-listen off, none.
    let page = first.page().expect("the first server's page address");
    let mut s = TcpStream::connect(&page).expect("connect to the page");
    s.write_all(b"GET /?lang=en HTTP/1.0\r\n\r\n")
        .expect("request");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("response");
    assert!(answer.starts_with("HTTP/1.0 200 OK"), "{answer}");
    assert!(answer.contains("<html lang=\"en\""), "{answer}");
    assert_eq!(second.page(), None, "{:?}", second.startup);

    let metrics = first.metrics().expect("the first server serves metrics");
    assert!(
        scrape(&metrics).starts_with("HTTP/1.0 200 OK"),
        "metrics of the first server"
    );
    assert_eq!(
        second.metrics(),
        None,
        "metrics are off: {:?}",
        second.startup
    );
    assert!(
        second
            .startup
            .iter()
            .any(|l| l.starts_with("development PKI present in")),
        "the second server reuses the first one's PKI: {:?}",
        second.startup
    );
    assert_ne!(first.addr, second.addr);
    for s in [&first, &second] {
        TcpStream::connect(&s.addr).expect("the gRPC port accepts connections");
    }

    // A third one on the first one's metrics address cannot start: that is what the flag is for.
    let o = Command::new(env!("CARGO_BIN_EXE_segel-server"))
        .args([
            "--dev",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            &metrics,
            "--http-listen",
            "off",
        ])
        .arg("--certs")
        .arg(&certs)
        .arg("--data")
        .arg(t.path().join("c"))
        .output()
        .expect("run a third server");
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(&format!("metrics on {metrics}")),
        "{stderr}"
    );
}

/// Development mode serves nothing beyond this machine: metrics on a reachable address are
/// refused, like a reachable `--listen`.
#[test]
fn dev_metrics_on_a_reachable_address_are_refused() {
    let t = tempfile::tempdir().expect("tempdir");
    let o = Command::new(env!("CARGO_BIN_EXE_segel-server"))
        .args([
            "--dev",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "0.0.0.0:0",
        ])
        .arg("--certs")
        .arg(t.path().join("certs"))
        .arg("--data")
        .arg(t.path().join("data"))
        .output()
        .expect("run segel-server");
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("--dev refuses --metrics-listen 0.0.0.0:0"),
        "{stderr}"
    );
    // The same for the HTTP listener.
    let o = Command::new(env!("CARGO_BIN_EXE_segel-server"))
        .args([
            "--dev",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "off",
        ])
        .args(["--http-listen", "0.0.0.0:0"])
        .arg("--certs")
        .arg(t.path().join("certs"))
        .arg("--data")
        .arg(t.path().join("data"))
        .output()
        .expect("run segel-server");
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("--dev refuses --http-listen 0.0.0.0:0"),
        "{stderr}"
    );
}

/// `--metrics-listen` is development mode's: a configuration file sets its own
/// `metrics_listen`, so giving both is a usage error rather than a flag silently ignored.
#[test]
fn metrics_listen_is_refused_beside_a_configuration_file() {
    let o = Command::new(env!("CARGO_BIN_EXE_segel-server"))
        .args(["--config", "segel.toml", "--metrics-listen", "off"])
        .output()
        .expect("run segel-server");
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("--metrics-listen") && stderr.contains("cannot be used with"),
        "{stderr}"
    );
}

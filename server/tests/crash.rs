//! Crash test: a child process appends under load (8 concurrent callers) and is killed with
//! SIGKILL at a varying moment; after each kill the log must open (its startup check passes)
//! and hold every entry the child saw acknowledged, unchanged. Repeated on the same log.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use segel_server::store::{check_dir, load_or_create_key, Log};

const ORIGIN: &str = "segel.dev/log";

/// Run the load child until `after` acks arrived or `wait` passed, then SIGKILL it; return
/// every acknowledged (index, document hash) it printed.
fn run_and_kill(dir: &Path, wait: Duration) -> Vec<(u64, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_segel-server"))
        .args([
            "log",
            "load",
            "--count",
            "100000000",
            "--threads",
            "8",
            "--acks",
            "--data",
        ])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the load child");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let mut acks = Vec::new();
    let deadline = Instant::now() + wait;
    // Wait for the first ack (the child's startup check may take a moment), then until the
    // deadline.
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(60)) {
        parse_ack(&line, &mut acks);
        if Instant::now() >= deadline && !acks.is_empty() {
            break;
        }
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    reader.join().expect("reader");
    // Acks already written to the pipe before the kill count too.
    while let Ok(line) = rx.try_recv() {
        parse_ack(&line, &mut acks);
    }
    acks
}

fn parse_ack(line: &str, acks: &mut Vec<(u64, String)>) {
    let mut parts = line.split(' ');
    if let (Some("ack"), Some(i), Some(h)) = (parts.next(), parts.next(), parts.next()) {
        if let Ok(i) = i.parse() {
            acks.push((i, h.to_string()));
        }
    }
}

#[test]
fn acknowledged_entries_survive_sigkill() {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path().join("log");
    let seed = u32::try_from(pades::time::now_ms() % 1_000_000).unwrap_or(7);
    let mut total = 0;
    for round in 0..5u32 {
        // A different kill moment each round: 50..450 ms after the first acks.
        let wait = Duration::from_millis(
            50 + u64::from(seed.wrapping_mul(round + 1).wrapping_add(round * 97) % 400),
        );
        let acks = run_and_kill(&dir, wait);
        assert!(
            !acks.is_empty(),
            "round {round}: the child acknowledged nothing"
        );
        let report = check_dir(&dir).unwrap_or_else(|e| {
            panic!("round {round}: the log does not verify after SIGKILL: {e}")
        });
        let key = load_or_create_key(&dir, ORIGIN).expect("key");
        let log = Log::open(&dir, ORIGIN, key)
            .unwrap_or_else(|e| panic!("round {round}: reopen failed: {e}"));
        for (i, doc) in &acks {
            let e = log.entry(*i).expect("read").unwrap_or_else(|| {
                panic!(
                    "round {round}: acknowledged entry {i} is lost (log size {})",
                    log.size()
                )
            });
            assert_eq!(
                &hex::encode(e.document_sha256),
                doc,
                "round {round}: entry {i} changed"
            );
        }
        assert_eq!(
            log.size(),
            report.size,
            "round {round}: reopening saw another size than the check"
        );
        total += acks.len();
        eprintln!(
            "round {round}: killed after {wait:?}, {} acks, log size {}",
            acks.len(),
            log.size()
        );
        log.close();
    }
    assert!(total > 0);
}

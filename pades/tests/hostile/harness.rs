//! The harness: each case runs in a child process (this test binary, run again for that one
//! test) under a counting allocator's limit, and its work counters are checked to be linear in
//! the input.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pades::fuzzing::work;
use pades::{SignatureRequest, UnixTime, VerifyOptions};

use crate::ALLOC;

/// Memory every case may use at once, whatever its size.
const MEMORY_FLOOR: usize = 64 << 20;
/// Memory allowed per input byte, on top of the floor.
const MEMORY_PER_BYTE: usize = 4;
/// The environment variable that makes this binary the child running one case.
const CHILD: &str = "PADES_HOSTILE_CASE";
/// A child that has not finished by then hangs (no case needs a tenth of it).
const HANG: Duration = Duration::from_secs(300);

/// What a case expects besides the budget.
pub(crate) enum Expect {
    /// Any clear outcome (an error with a message, or a report).
    Anything,
    /// A report from `verify` and a prepared signature: the document is odd but readable
    /// within the budget.
    Readable,
    /// `verify` and `prepare` both fail, and their messages contain this.
    BothFail(&'static str),
    /// `verify` fails with a message that contains this; `prepare` succeeds.
    VerifyFails(&'static str),
    /// `verify` gives a report, which this checks.
    Report(fn(&pades::Report)),
}

/// Run `make`'s document through the engine in a child process and check the budget there.
/// `name` is the test's path (`module::test`), which the child is run with.
pub(crate) fn holds_budget(name: &str, make: fn() -> Vec<u8>, expect: Expect) {
    if std::env::var(CHILD).as_deref() == Ok(name) {
        run_case(make, &expect);
        return;
    }
    let exe = std::env::current_exe().expect("test binary path");
    let mut child = Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, name)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the child");
    let mut pipes = [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ];
    let readers: Vec<_> = pipes
        .iter_mut()
        .filter_map(Option::take)
        .map(|mut p| {
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = p.read_to_string(&mut s);
                s
            })
        })
        .collect();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break Some(status);
        }
        if started.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output: String = readers
        .into_iter()
        .map(|r| r.join().unwrap_or_default())
        .collect();
    let lines: Vec<&str> = output
        .lines()
        .filter(|l| l.starts_with("hostile:"))
        .collect();
    println!("{}", lines.join("\n"));
    match status {
        None => panic!("{name}: still running after {HANG:?} (hang)\n{output}"),
        Some(s) if !s.success() => panic!(
            "{name}: the child failed ({s}): a panic, a stack overflow, or an allocation over \
             the budget of {MEMORY_FLOOR} + {MEMORY_PER_BYTE} x input bytes\n{output}"
        ),
        Some(_) => assert!(
            output.contains("hostile: input"),
            "{name}: the child ran no case (is the name the test's path?)\n{output}"
        ),
    }
}

fn run_case(make: fn() -> Vec<u8>, expect: &Expect) {
    let input = make();
    let n = input.len();
    let budget = MEMORY_FLOOR + MEMORY_PER_BYTE * n;
    let base = ALLOC.allocated();
    let peak_before = ALLOC.max_allocated();
    // Past this, an allocation fails and the child aborts ("memory allocation of N bytes
    // failed"), which the parent reports.
    ALLOC
        .set_limit(base + budget)
        .expect("limit above what is allocated");
    let opts = VerifyOptions {
        trust_anchors: Vec::new(),
        time: UnixTime(1_795_942_800),
    };
    let w0 = work();
    let verified = pades::verify(&input, &opts);
    let w1 = work();
    let prepared = pades::prepare(&input, &SignatureRequest::new(UnixTime(0)), 8192).map(|_| ());
    let w2 = work();
    let peak = ALLOC.max_allocated();
    ALLOC.set_limit(usize::MAX).expect("no limit");

    let verify_outcome = match &verified {
        Ok(r) => format!(
            "report with {} signature(s): {:?}",
            r.signatures.len(),
            r.signatures.first().map(|s| s.reason.as_str())
        ),
        Err(e) => format!("error: {e}"),
    };
    let prepare_outcome = match &prepared {
        Ok(()) => "prepared".to_string(),
        Err(e) => format!("error: {e}"),
    };
    println!("hostile: input {n} bytes; verify -> {verify_outcome}");
    println!("hostile: prepare -> {prepare_outcome}");
    println!(
        "hostile: peak {} bytes allocated (budget {budget}); verify {:?}; prepare {:?}",
        peak.saturating_sub(base),
        diff(w0, w1),
        diff(w1, w2)
    );
    // The allocator's peak includes the generator's own, which happened first.
    if peak > peak_before {
        assert!(peak - base <= budget, "peak {} over {budget}", peak - base);
    }
    for e in [verified.as_ref().err(), prepared.as_ref().err()]
        .into_iter()
        .flatten()
    {
        assert!(!e.to_string().is_empty());
    }
    match expect {
        Expect::Anything => {}
        Expect::BothFail(what) => {
            for e in [verified.err(), prepared.err()] {
                let e = e.expect("must refuse");
                assert!(e.to_string().contains(what), "{e}");
            }
        }
        Expect::VerifyFails(what) => {
            let e = match verified {
                Err(e) => e,
                Ok(r) => panic!(
                    "verify must refuse; it gave a report of {} signatures",
                    r.signatures.len()
                ),
            };
            assert!(e.to_string().contains(what), "{e}");
            if let Err(e) = &prepared {
                panic!("prepare refused: {e}");
            }
        }
        Expect::Readable => {
            if let Err(e) = &verified {
                panic!("verify refused: {e}");
            }
            if let Err(e) = &prepared {
                panic!("prepare refused: {e}");
            }
        }
        Expect::Report(check) => check(&verified.expect("verify must give a report")),
    }
    for w in [diff(w0, w1), diff(w1, w2)] {
        assert_linear(w, n);
    }
}

fn diff(a: pades::pdf::budget::Counters, b: pades::pdf::budget::Counters) -> [u64; 5] {
    [
        b.objects - a.objects,
        b.parsed - a.parsed,
        b.decoded - a.decoded,
        b.hashed - a.hashed,
        b.rows - a.rows,
    ]
}

/// The work of one entry point on an input of `n` bytes: objects ≤ 1 Mi + n/4, bytes parsed
/// ≤ 64 MiB + 17 n (the last object read may pass the budget by its size), inflated
/// ≤ 32 MiB + 2 n, hashed ≤ 8 × (64 MiB + 16 n), rows ≤ 1 Mi + n/16.
fn assert_linear(w: [u64; 5], n: usize) {
    let n = n as u64;
    let [objects, parsed, decoded, hashed, rows] = w;
    assert!(objects <= (1 << 20) + n / 4, "{objects} objects read");
    assert!(parsed <= (64 << 20) + 17 * n, "{parsed} bytes parsed");
    assert!(decoded <= (32 << 20) + 2 * n, "{decoded} bytes inflated");
    assert!(hashed <= 8 * ((64 << 20) + 16 * n), "{hashed} bytes hashed");
    assert!(rows <= (1 << 20) + n / 16, "{rows} xref rows");
}

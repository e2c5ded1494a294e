//! Hostile documents: one generator per way a small file once made the engine do far more than
//! linear work, plus others of the same kind. Each document goes through `verify` (which is also
//! the CLI batch's "already signed?" check) and `prepare`, and must give a clear error or a
//! report within the budget: no panic, no stack overflow, at most 64 MiB plus 4× the input of
//! memory allocated at once, and work counters (objects read, bytes parsed, inflated, hashed,
//! cross-reference rows) linear in the input.
//!
//! Each case runs in a child process (this test binary, run again for that one test), so that a
//! stack overflow or an allocation over the limit fails the test instead of taking the whole
//! suite down, and so that the allocator's counters see that case alone. Memory is measured by a
//! counting global allocator whose limit is set to the budget: an allocation past it aborts the
//! child, and the parent reports it.

use std::alloc::System;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cap::Cap;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use pades::fuzzing::work;
use pades::{SignatureRequest, UnixTime, VerifyOptions};

#[global_allocator]
static ALLOC: Cap<System> = Cap::new(System, usize::MAX);

/// Memory every case may use at once, whatever its size.
const MEMORY_FLOOR: usize = 64 << 20;
/// Memory allowed per input byte, on top of the floor.
const MEMORY_PER_BYTE: usize = 4;
/// The environment variable that makes this binary the child running one case.
const CHILD: &str = "PADES_HOSTILE_CASE";
/// A child that has not finished by then hangs (no case needs a tenth of it).
const HANG: Duration = Duration::from_secs(300);

/// What a case expects besides the budget.
enum Expect {
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
fn holds_budget(name: &str, make: fn() -> Vec<u8>, expect: Expect) {
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
        Some(_) => {}
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

// ---------------------------------------------------------------------------------------------
// A small PDF writer for the generators.

struct Pdf {
    out: Vec<u8>,
    offsets: Vec<(u32, usize)>,
}

impl Pdf {
    fn new() -> Self {
        Self {
            out: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec(),
            offsets: Vec::new(),
        }
    }

    fn obj(&mut self, num: u32, body: &[u8]) {
        self.offsets.push((num, self.out.len()));
        self.out
            .extend_from_slice(format!("{num} 0 obj\n").as_bytes());
        self.out.extend_from_slice(body);
        self.out.extend_from_slice(b"\nendobj\n");
    }

    /// A stream object; `dict` is the dictionary's inside, `/Length` is added unless given.
    fn stream(&mut self, num: u32, dict: &str, data: &[u8]) {
        let mut body = if dict.contains("/Length") {
            format!("<<{dict}>>stream\n").into_bytes()
        } else {
            format!("<<{dict}/Length {}>>stream\n", data.len()).into_bytes()
        };
        body.extend_from_slice(data);
        body.extend_from_slice(b"\nendstream");
        self.obj(num, &body);
    }

    /// A classic xref table of every object written so far, and the trailer.
    fn table(&mut self, trailer: &str) -> usize {
        let at = self.out.len();
        let mut offs = std::mem::take(&mut self.offsets);
        offs.sort_unstable();
        let size = offs.last().map_or(1, |(n, _)| n + 1);
        self.out
            .extend_from_slice(b"xref\n0 1\n0000000000 65535 f \n");
        for (num, off) in &offs {
            self.out
                .extend_from_slice(format!("{num} 1\n{off:010} 00000 n \n").as_bytes());
        }
        self.out
            .extend_from_slice(format!("trailer\n<<{trailer}/Size {size}>>\n").as_bytes());
        at
    }

    fn finish(mut self, startxref: usize) -> Vec<u8> {
        self.out
            .extend_from_slice(format!("startxref\n{startxref}\n%%EOF\n").as_bytes());
        self.out
    }
}

/// `len` zero bytes, deflated (about 1 KiB per MiB), without holding them.
fn zero_bomb(len: usize) -> Vec<u8> {
    let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
    let chunk = vec![0u8; 1 << 16];
    let mut left = len;
    while left > 0 {
        let k = left.min(chunk.len());
        z.write_all(&chunk[..k]).expect("deflate");
        left -= k;
    }
    z.finish().expect("deflate")
}

/// The objects of a one-page document: 1 catalog (with `catalog_extra`), 2 pages, 3 page.
fn skeleton(pdf: &mut Pdf, catalog_extra: &str) {
    pdf.obj(
        1,
        format!("<</Type/Catalog/Pages 2 0 R{catalog_extra}>>").as_bytes(),
    );
    pdf.obj(2, b"<</Type/Pages/Kids[3 0 R]/Count 1>>");
    pdf.obj(3, b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>");
}

// ---------------------------------------------------------------------------------------------
// Reference cycles.

/// The 286-byte file: the catalog is a stream whose `/Length` is a stream whose `/Length` is
/// the catalog.
fn length_cycle() -> Vec<u8> {
    let mut pdf = Pdf::new();
    pdf.stream(1, "/Type/Catalog/Pages 3 0 R/Length 2 0 R", b"x");
    pdf.stream(2, "/Length 1 0 R", b"y");
    let x = pdf.table("/Root 1 0 R");
    pdf.finish(x)
}

#[test]
fn length_reference_cycle_is_refused() {
    holds_budget(
        "length_reference_cycle_is_refused",
        length_cycle,
        Expect::BothFail("loops"),
    );
}

/// An object stream whose `/Length` lives inside itself (found through the xref stream).
fn objstm_own_length() -> Vec<u8> {
    let mut pdf = Pdf::new();
    let objs = b"1 0 2 40 <</Type/Catalog/Pages 9 0 R/AcroForm<</Fields[]>>>> 5 ";
    let first = 9;
    pdf.stream(
        4,
        &format!("/Type/ObjStm/N 2/First {first}/Length 2 0 R"),
        objs,
    );
    let at = pdf.out.len();
    // Rows: 0 free; 1 and 2 in stream 4; 4 in the file; 5 the xref stream itself.
    let mut rows = Vec::new();
    let row = |t: u8, a: u32, b: u16| {
        let mut r = vec![t];
        r.extend_from_slice(&a.to_be_bytes());
        r.extend_from_slice(&b.to_be_bytes());
        r
    };
    rows.extend(row(0, 0, 65535));
    rows.extend(row(2, 4, 0));
    rows.extend(row(2, 4, 1));
    rows.extend(row(0, 0, 0));
    rows.extend(row(1, pdf.offsets[0].1 as u32, 0));
    rows.extend(row(1, at as u32, 0));
    pdf.stream(5, "/Type/XRef/Size 6/W[1 4 2]/Root 1 0 R", &rows);
    pdf.finish(at)
}

#[test]
fn object_stream_holding_its_own_length_is_refused() {
    holds_budget(
        "object_stream_holding_its_own_length_is_refused",
        objstm_own_length,
        Expect::BothFail("loops"),
    );
}

/// 50,000 streams, each one's `/Length` the next stream: no cycle, but a chain as deep as the
/// file is long.
fn length_chain() -> Vec<u8> {
    let mut pdf = Pdf::new();
    let n = 50_000;
    pdf.stream(1, "/Type/Catalog/Pages 3 0 R/Length 10 0 R", b"x");
    for i in 10..10 + n {
        pdf.stream(i, &format!("/Length {} 0 R", i + 1), b"y");
    }
    pdf.obj(10 + n, b"1");
    let x = pdf.table("/Root 1 0 R");
    pdf.finish(x)
}

#[test]
fn reference_chains_are_bounded() {
    holds_budget(
        "reference_chains_are_bounded",
        length_chain,
        Expect::BothFail("nests too deeply"),
    );
}

/// Object streams in a ring: each stream's `/Length` is an object inside the next one.
fn objstm_ring() -> Vec<u8> {
    let mut pdf = Pdf::new();
    let k = 8u32;
    // Object 100 + i lives in stream 10 + i and is the /Length of stream 10 + (i + 1) % k.
    for i in 0..k {
        let body = b"1 ".to_vec();
        let head = format!("{} 0 ", 100 + i);
        let mut data = head.clone().into_bytes();
        data.extend_from_slice(&body);
        let prev = 100 + (i + k - 1) % k;
        pdf.stream(
            10 + i,
            &format!("/Type/ObjStm/N 1/First {}/Length {prev} 0 R", head.len()),
            &data,
        );
    }
    skeleton(&mut pdf, "/AcroForm<</Fields[100 0 R]>>");
    let at = pdf.out.len();
    let mut rows = Vec::new();
    let mut index = String::new();
    let mut push = |num: u32, t: u8, a: u32, b: u16| {
        index.push_str(&format!("{num} 1 "));
        rows.push(t);
        rows.extend_from_slice(&a.to_be_bytes());
        rows.extend_from_slice(&b.to_be_bytes());
    };
    push(0, 0, 0, 65535);
    let offsets = pdf.offsets.clone();
    for (num, off) in offsets {
        push(num, 1, off as u32, 0);
    }
    for i in 0..k {
        push(100 + i, 2, 10 + i, 0);
    }
    push(200, 1, at as u32, 0);
    pdf.stream(
        200,
        &format!("/Type/XRef/Size 201/W[1 4 2]/Index[{index}]/Root 1 0 R"),
        &rows,
    );
    pdf.finish(at)
}

#[test]
fn object_streams_in_a_ring_are_refused() {
    holds_budget(
        "object_streams_in_a_ring_are_refused",
        objstm_ring,
        Expect::Anything,
    );
}

// ---------------------------------------------------------------------------------------------
// Sizes from decoded parameters.

/// 300 cross-reference sections, each an xref stream of two bytes whose PNG predictor claims
/// 64 MiB rows.
fn predictor_rows() -> Vec<u8> {
    let mut pdf = Pdf::new();
    skeleton(&mut pdf, "");
    let mut prev = pdf.table("/Root 1 0 R");
    for i in 0..300u32 {
        let at = pdf.out.len();
        pdf.stream(
            10 + i,
            &format!(
                "/Type/XRef/Size {}/W[1 0 0]/Index[0 1]/Root 1 0 R/Prev {prev}\
                 /DecodeParms<</Predictor 12/Columns 1048576/Colors 32/BitsPerComponent 16>>",
                11 + i
            ),
            &[2, 0],
        );
        prev = at;
    }
    pdf.finish(prev)
}

#[test]
fn predictor_rows_are_checked_against_the_data() {
    holds_budget(
        "predictor_rows_are_checked_against_the_data",
        predictor_rows,
        Expect::BothFail("longer than the 2 decoded bytes"),
    );
}

/// An object stream that claims 16 million objects and a `/First` past its data, then one that
/// claims as many objects as its 32 MiB of (deflated) zeros has bytes.
fn objstm_n_first() -> Vec<u8> {
    let mut pdf = Pdf::new();
    let bomb = zero_bomb(30 << 20);
    pdf.stream(
        4,
        "/Type/ObjStm/N 31457280/First 31457280/Filter/FlateDecode",
        &bomb,
    );
    pdf.obj(
        1,
        b"<</Type/Catalog/Pages 3 0 R/AcroForm<</Fields[7 0 R]>>>>",
    );
    let at = pdf.out.len();
    let mut rows = Vec::new();
    let offsets = pdf.offsets.clone();
    let mut index = String::new();
    let mut push = |num: u32, t: u8, a: u32, b: u16| {
        index.push_str(&format!("{num} 1 "));
        rows.push(t);
        rows.extend_from_slice(&a.to_be_bytes());
        rows.extend_from_slice(&b.to_be_bytes());
    };
    for (num, off) in offsets {
        push(num, 1, off as u32, 0);
    }
    push(7, 2, 4, 5);
    push(8, 1, at as u32, 0);
    pdf.stream(
        8,
        &format!("/Type/XRef/Size 9/W[1 4 2]/Index[{index}]/Root 1 0 R"),
        &rows,
    );
    pdf.finish(at)
}

#[test]
fn object_stream_n_and_first_are_checked_against_the_data() {
    holds_budget(
        "object_stream_n_and_first_are_checked_against_the_data",
        objstm_n_first,
        Expect::Anything,
    );
}

/// An xref stream whose `/W` and `/Index` promise three times 8,388,606 rows of 11 bytes, with
/// data for 20,000 of them.
fn w_and_index() -> Vec<u8> {
    let mut pdf = Pdf::new();
    skeleton(&mut pdf, "");
    let prev = pdf.table("/Root 1 0 R");
    let at = pdf.out.len();
    let rows = vec![0u8; 11 * 20_000];
    pdf.stream(
        10,
        &format!(
            "/Type/XRef/Size 8388607/W[1 8 2]/Index[0 8388606 0 8388606 0 8388606]/Root 1 0 R\
             /Prev {prev}"
        ),
        &rows,
    );
    pdf.finish(at)
}

#[test]
fn huge_w_and_index_are_checked_against_the_data() {
    holds_budget(
        "huge_w_and_index_are_checked_against_the_data",
        w_and_index,
        Expect::Anything,
    );
}

/// A trailer `/Size` of 4,294,967,295 (the first of two `/Size` keys is the one read).
fn huge_size() -> Vec<u8> {
    let mut pdf = Pdf::new();
    skeleton(&mut pdf, "");
    let x = pdf.table("/Size 4294967295/Root 1 0 R");
    pdf.finish(x)
}

#[test]
fn huge_size_is_harmless() {
    holds_budget("huge_size_is_harmless", huge_size, Expect::Readable);
}

// ---------------------------------------------------------------------------------------------
// Cross-reference rows and inflation.

/// A 64 KiB xref stream that inflates to 60 MiB of one-byte rows, listed again and again by
/// `/Index`.
fn xref_rows() -> Vec<u8> {
    let mut pdf = Pdf::new();
    skeleton(&mut pdf, "");
    let prev = pdf.table("/Root 1 0 R");
    let at = pdf.out.len();
    let bomb = zero_bomb(60 << 20);
    let index = "0 8388606 ".repeat(8);
    pdf.stream(
        10,
        &format!(
            "/Type/XRef/Size 8388607/W[1 0 0]/Index[{index}]/Root 1 0 R/Prev {prev}/Filter/FlateDecode"
        ),
        &bomb,
    );
    pdf.finish(at)
}

#[test]
fn xref_stream_rows_are_bounded_by_the_input() {
    holds_budget(
        "xref_stream_rows_are_bounded_by_the_input",
        xref_rows,
        Expect::BothFail("limit exceeded"),
    );
}

/// 4,000 table sections, each pointing (`/XRefStm`) at the same xref stream of 2,000 rows.
fn xrefstm_reread() -> Vec<u8> {
    let mut pdf = Pdf::new();
    skeleton(&mut pdf, "");
    let mut prev = pdf.table("/Root 1 0 R");
    let xs = pdf.out.len();
    let rows: Vec<u8> = (0..2000u32).flat_map(|_| [1u8, 0, 0, 0, 9, 0, 0]).collect();
    pdf.stream(10, "/Type/XRef/Size 2000/W[1 4 2]/Index[3000 2000]", &rows);
    for _ in 0..4000 {
        let at = pdf.out.len();
        pdf.out.extend_from_slice(
            format!("xref\n0 0\ntrailer\n<</Size 5000/Root 1 0 R/Prev {prev}/XRefStm {xs}>>\n")
                .as_bytes(),
        );
        prev = at;
    }
    pdf.finish(prev)
}

#[test]
fn a_shared_xref_stream_is_not_a_multiplier() {
    holds_budget(
        "a_shared_xref_stream_is_not_a_multiplier",
        xrefstm_reread,
        Expect::Anything,
    );
}

/// Four object streams, each 24 MiB inflated (a form field and white space), each holding a
/// form field.
fn inflate_bombs() -> Vec<u8> {
    let mut pdf = Pdf::new();
    let k = 4u32;
    let mut fields = String::new();
    for i in 0..k {
        let head = format!("{} 0 ", 100 + i);
        let mut z = ZlibEncoder::new(Vec::new(), Compression::best());
        z.write_all(head.as_bytes()).expect("deflate");
        z.write_all(b"<</T(f)/FT/Tx>>").expect("deflate");
        let spaces = vec![b' '; 1 << 16];
        for _ in 0..(24 << 20) / spaces.len() {
            z.write_all(&spaces).expect("deflate");
        }
        let z = z.finish().expect("deflate");
        pdf.stream(
            10 + i,
            &format!("/Type/ObjStm/N 1/First {}/Filter/FlateDecode", head.len()),
            &z,
        );
        fields.push_str(&format!("{} 0 R ", 100 + i));
    }
    skeleton(&mut pdf, &format!("/AcroForm<</Fields[{fields}]>>"));
    let at = pdf.out.len();
    let mut rows = Vec::new();
    let mut index = String::new();
    let mut push = |num: u32, t: u8, a: u32, b: u16| {
        index.push_str(&format!("{num} 1 "));
        rows.push(t);
        rows.extend_from_slice(&a.to_be_bytes());
        rows.extend_from_slice(&b.to_be_bytes());
    };
    let offsets = pdf.offsets.clone();
    for (num, off) in offsets {
        push(num, 1, off as u32, 0);
    }
    for i in 0..k {
        push(100 + i, 2, 10 + i, 0);
    }
    push(200, 1, at as u32, 0);
    pdf.stream(
        200,
        &format!("/Type/XRef/Size 201/W[1 4 2]/Index[{index}]/Root 1 0 R"),
        &rows,
    );
    pdf.finish(at)
}

#[test]
fn inflate_bombs_are_capped_per_open() {
    holds_budget(
        "inflate_bombs_are_capped_per_open",
        inflate_bombs,
        Expect::BothFail("bytes inflated"),
    );
}

// ---------------------------------------------------------------------------------------------
// Form fields and signatures.

/// A field with a 400 KB name and 20,000 kid fields.
fn long_field_name() -> Vec<u8> {
    let mut pdf = Pdf::new();
    let n = 20_000u32;
    let kids: String = (0..n).map(|i| format!("{} 0 R ", 100 + i)).collect();
    skeleton(&mut pdf, "/AcroForm<</Fields[10 0 R]>>");
    let mut parent = format!("<</T({})/FT/Tx/Kids[{kids}]>>", "N".repeat(400_000)).into_bytes();
    parent.shrink_to_fit();
    pdf.obj(10, &parent);
    for i in 0..n {
        pdf.obj(100 + i, b"<</T(k)/Parent 10 0 R>>");
    }
    let x = pdf.table("/Root 1 0 R");
    pdf.finish(x)
}

#[test]
fn field_names_are_not_copied_per_kid() {
    holds_budget(
        "field_names_are_not_copied_per_kid",
        long_field_name,
        Expect::BothFail("field names"),
    );
}

/// A field whose `/Kids` lists one 200 KB widget 30,000 times.
fn repeated_kid() -> Vec<u8> {
    let mut pdf = Pdf::new();
    skeleton(&mut pdf, "/AcroForm<</Fields[10 0 R]>>");
    let kids = "11 0 R ".repeat(30_000);
    pdf.obj(10, format!("<</T(a)/FT/Tx/Kids[{kids}]>>").as_bytes());
    let big: String = (0..20_000).map(|i| format!("{i} ")).collect();
    pdf.obj(
        11,
        format!("<</Subtype/Widget/Parent 10 0 R/Rect[0 0 1 1]/Junk[{big}]>>").as_bytes(),
    );
    let x = pdf.table("/Root 1 0 R");
    pdf.finish(x)
}

#[test]
fn a_kid_listed_many_times_is_read_once() {
    holds_budget(
        "a_kid_listed_many_times_is_read_once",
        repeated_kid,
        Expect::Readable,
    );
}

/// A one-page document of about `filler` bytes, signed once.
fn signed_pdf(filler: usize) -> Vec<u8> {
    let key = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
        .expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Hostile Test Seal");
    params.not_before = rcgen::date_time_ymd(2026, 1, 1);
    params.not_after = rcgen::date_time_ymd(2030, 1, 1);
    let cert = params.self_signed(&key).expect("cert");
    let signer = pades::RsaKeySigner::from_der(
        &key.serialize_der(),
        pades::SignatureAlgorithm::RsaPkcs1Sha256,
    )
    .expect("signer");
    let identity = pades::SignerIdentity::new(vec![cert.der().to_vec()]).expect("identity");
    let input = pades::testing::synthetic_pdf(1, filler);
    pades::sign(
        &input,
        &SignatureRequest::new(UnixTime(1_795_000_000)),
        &signer,
        &identity,
    )
    .expect("signs")
    .to_vec()
}

/// A signed document, then an update adding 2,000 signature fields whose `/V` is the one
/// signature; the file is padded to 1 MB so that each re-hash would cost a megabyte.
fn shared_signature_value() -> Vec<u8> {
    use pades::pdf::object::{Dict, Object};
    use pades::pdf::update::Update;
    use pades::pdf::Document;
    let signed = signed_pdf(1_000_000);
    let doc = Document::open(&signed).expect("opens");
    let root = doc.trailer().get(b"Root").cloned().expect("root");
    let catalog = doc.resolve_dict(&root, "catalog").expect("catalog");
    let form_obj = catalog.get(b"AcroForm").cloned().expect("form");
    let form_ref = form_obj.as_ref().expect("indirect form");
    let mut form = doc.resolve_dict(&form_obj, "form").expect("form");
    let fields = doc
        .deref(form.get(b"Fields").expect("fields"))
        .expect("fields");
    let mut fields = fields.as_array().expect("array").to_vec();
    let first = doc.resolve_dict(&fields[0], "field").expect("field");
    let v = first.get(b"V").cloned().expect("value");
    let mut update = Update::new(&doc);
    for i in 0..2000 {
        let r = update.allocate();
        let mut f = Dict::new();
        f.set(b"FT", Object::Name(b"Sig".to_vec()));
        f.set(b"T", Object::String(format!("Copy{i}").into_bytes()));
        f.set(b"V", v.clone());
        update.put_object(r, &Object::Dict(f));
        fields.push(Object::Reference(r));
    }
    form.set(b"Fields", Object::Array(fields));
    update.put_object(form_ref, &Object::Dict(form));
    let tail = update.finish([7; 16]).expect("update");
    let mut out = signed.clone();
    out.extend_from_slice(&tail.bytes);
    out
}

#[test]
fn a_signature_shared_by_fields_is_checked_once() {
    holds_budget(
        "a_signature_shared_by_fields_is_checked_once",
        shared_signature_value,
        Expect::Report(|report| {
            assert_eq!(report.signatures.len(), 2001);
            let copies = report
                .signatures
                .iter()
                .filter(|s| s.reason.contains("is already the value of field"))
                .count();
            assert_eq!(copies, 2000, "{:?}", report.signatures[1].reason);
        }),
    );
}

// ---------------------------------------------------------------------------------------------
// Nesting, long tokens, many objects.

/// Arrays nested 100,000 deep in the catalog, a field tree 10,000 deep and a page tree 10,000
/// deep.
fn deep_nesting() -> Vec<u8> {
    let mut pdf = Pdf::new();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    pdf.obj(
        1,
        b"<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[100 0 R]>>/Deep 5 0 R>>",
    );
    pdf.obj(5, deep.as_bytes());
    let depth = 10_000u32;
    for i in 0..depth {
        let parent = if i == 0 { 1 } else { 1_000 + i - 1 };
        let kid = 1_000 + i + 1;
        let num = if i == 0 { 2 } else { 1_000 + i };
        pdf.obj(
            num,
            format!("<</Type/Pages/Kids[{kid} 0 R]/Count 1/Parent {parent} 0 R>>").as_bytes(),
        );
        pdf.obj(
            100 + i,
            format!("<</T(x)/Kids[{} 0 R]>>", 100 + i + 1).as_bytes(),
        );
    }
    pdf.obj(1_000 + depth, b"<</Type/Page/MediaBox[0 0 1 1]>>");
    pdf.obj(100 + depth, b"<</T(leaf)/FT/Sig>>");
    let x = pdf.table("/Root 1 0 R");
    pdf.finish(x)
}

#[test]
fn deep_nesting_is_bounded() {
    holds_budget("deep_nesting_is_bounded", deep_nesting, Expect::Anything);
}

/// A 4 MB string, a 4 MB name and a 4 MB hex string in the catalog.
fn long_tokens() -> Vec<u8> {
    let mut pdf = Pdf::new();
    let s = "a".repeat(4_000_000);
    let n = "N".repeat(4_000_000);
    let h = "0f".repeat(2_000_000);
    skeleton(&mut pdf, &format!("/S({s})/N/{n}/H<{h}>"));
    let x = pdf.table("/Root 1 0 R");
    pdf.finish(x)
}

#[test]
fn long_names_and_strings_cost_their_length() {
    holds_budget(
        "long_names_and_strings_cost_their_length",
        long_tokens,
        Expect::Readable,
    );
}

/// 300,000 tiny objects, every one a form field listed in `/Fields`.
fn tiny_objects() -> Vec<u8> {
    let mut pdf = Pdf::new();
    let n = 300_000u32;
    let fields: String = (0..n).map(|i| format!("{} 0 R ", 10 + i)).collect();
    skeleton(&mut pdf, "/AcroForm 4 0 R");
    pdf.obj(4, format!("<</Fields[{fields}]>>").as_bytes());
    for i in 0..n {
        pdf.obj(10 + i, b"null");
    }
    let x = pdf.table("/Root 1 0 R");
    pdf.finish(x)
}

/// A form whose `/Fields` array holds four million one-digit numbers (8 MB).
fn tiny_values() -> Vec<u8> {
    let mut pdf = Pdf::new();
    let values = "0 ".repeat(4_000_000);
    skeleton(&mut pdf, &format!("/AcroForm<</Fields[{values}]>>"));
    let x = pdf.table("/Root 1 0 R");
    pdf.finish(x)
}

#[test]
fn a_long_array_of_tiny_values_is_bounded() {
    holds_budget(
        "a_long_array_of_tiny_values_is_bounded",
        tiny_values,
        Expect::BothFail("values in one object"),
    );
}

/// A form whose direct `/Fields` array holds 480,000 one-digit numbers, just under what one
/// object may hold: read, it takes about 20 MB; every copy of it takes as much again.
fn long_fields_array() -> Vec<u8> {
    let mut pdf = Pdf::new();
    let values = "0 ".repeat(480_000);
    skeleton(&mut pdf, &format!("/AcroForm<</Fields[{values}]>>"));
    let x = pdf.table("/Root 1 0 R");
    pdf.finish(x)
}

#[test]
fn a_long_fields_array_is_not_copied() {
    holds_budget(
        "a_long_fields_array_is_not_copied",
        long_fields_array,
        Expect::Readable,
    );
}

#[test]
fn millions_of_tiny_objects_cost_linear_work() {
    holds_budget(
        "millions_of_tiny_objects_cost_linear_work",
        tiny_objects,
        Expect::Anything,
    );
}

/// 9,000 cross-reference sections chained by `/Prev`, each re-listing the same objects.
fn many_sections() -> Vec<u8> {
    let mut pdf = Pdf::new();
    skeleton(&mut pdf, "");
    let offs: Vec<usize> = pdf.offsets.iter().map(|(_, o)| *o).collect();
    let mut prev = pdf.table("/Root 1 0 R");
    for _ in 0..9_000 {
        let at = pdf.out.len();
        let mut t = String::from("xref\n1 3\n");
        for o in &offs {
            t.push_str(&format!("{o:010} 00000 n \n"));
        }
        t.push_str(&format!("trailer\n<</Size 4/Root 1 0 R/Prev {prev}>>\n"));
        pdf.out.extend_from_slice(t.as_bytes());
        prev = at;
    }
    pdf.finish(prev)
}

#[test]
fn many_xref_sections_cost_linear_work() {
    holds_budget(
        "many_xref_sections_cost_linear_work",
        many_sections,
        Expect::Readable,
    );
}

/// A signed document, then an update adding 1,000 signature dictionaries of their own (each a
/// copy of the CMS), each with a byte range that covers the whole 5 MB file: every one is
/// hashed over the whole file.
fn many_whole_file_signatures() -> Vec<u8> {
    use pades::pdf::object::{Dict, Object};
    use pades::pdf::update::Update;
    use pades::pdf::Document;
    const PLACEHOLDER: &str = "[0 0000000000 0000000000 0000000000]";
    let signed = signed_pdf(200_000);
    let doc = Document::open(&signed).expect("opens");
    let root = doc.trailer().get(b"Root").cloned().expect("root");
    let catalog = doc.resolve_dict(&root, "catalog").expect("catalog");
    let form_obj = catalog.get(b"AcroForm").cloned().expect("form");
    let form_ref = form_obj.as_ref().expect("indirect form");
    let mut form = doc.resolve_dict(&form_obj, "form").expect("form");
    let mut fields = doc
        .deref(form.get(b"Fields").expect("fields"))
        .expect("fields")
        .as_array()
        .expect("array")
        .to_vec();
    let first = doc.resolve_dict(&fields[0], "field").expect("field");
    let sig = doc
        .resolve_dict(first.get(b"V").expect("value"), "sig")
        .expect("sig");
    let cms = sig
        .get(b"Contents")
        .and_then(Object::as_string)
        .expect("contents");
    let hex: String = cms.iter().map(|b| format!("{b:02X}")).collect();
    let mut update = Update::new(&doc);
    let mut sigs = Vec::new();
    for i in 0..1000 {
        let s = update.allocate();
        update.put(
            s,
            format!(
                "<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/ETSI.CAdES.detached\
                 /ByteRange{PLACEHOLDER}/Contents<{hex}>>>"
            )
            .into_bytes(),
        );
        sigs.push(s);
        let f = update.allocate();
        let mut d = Dict::new();
        d.set(b"FT", Object::Name(b"Sig".to_vec()));
        d.set(b"T", Object::String(format!("Whole{i}").into_bytes()));
        d.set(b"V", Object::Reference(s));
        update.put_object(f, &Object::Dict(d));
        fields.push(Object::Reference(f));
    }
    form.set(b"Fields", Object::Array(fields));
    update.put_object(form_ref, &Object::Dict(form));
    let mut tail = update.finish([7; 16]).expect("update");
    let base = signed.len();
    let total = base + tail.bytes.len();
    for (r, body) in tail.body_offsets.clone() {
        if !sigs.contains(&r) {
            continue;
        }
        let text = &tail.bytes[body..];
        let find = |what: &[u8]| {
            text.windows(what.len())
                .position(|w| w == what)
                .expect("in the body")
        };
        let br = body + find(b"/ByteRange") + "/ByteRange".len();
        let open = base + body + find(b"/Contents<") + "/Contents".len();
        let close = open + 1 + hex.len() + 1;
        let value = format!("[0 {open} {close} {}]", total - close);
        let value = format!("{value:<width$}", width = PLACEHOLDER.len());
        tail.bytes[br..br + value.len()].copy_from_slice(value.as_bytes());
    }
    let mut out = signed;
    out.extend_from_slice(&tail.bytes);
    out
}

#[test]
fn signatures_that_each_cover_the_file_share_one_hash_budget() {
    holds_budget(
        "signatures_that_each_cover_the_file_share_one_hash_budget",
        many_whole_file_signatures,
        Expect::VerifyFails("work units"),
    );
}

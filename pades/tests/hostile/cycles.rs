//! Reference cycles: lengths, object streams and chains that lead back to themselves.

use super::*;

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
        "cycles::length_reference_cycle_is_refused",
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
        "cycles::object_stream_holding_its_own_length_is_refused",
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
        "cycles::reference_chains_are_bounded",
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
        "cycles::object_streams_in_a_ring_are_refused",
        objstm_ring,
        Expect::Anything,
    );
}

//! Sizes from decoded parameters: predictors, object stream counts, `/W` and `/Index`,
//! `/Size`, each checked against the data there is.

use super::*;

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
        "sizes::predictor_rows_are_checked_against_the_data",
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
        "sizes::object_stream_n_and_first_are_checked_against_the_data",
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
        "sizes::huge_w_and_index_are_checked_against_the_data",
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
    holds_budget("sizes::huge_size_is_harmless", huge_size, Expect::Readable);
}

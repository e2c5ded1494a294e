//! Form fields: long names and kids listed many times.

use super::*;

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
        "forms::field_names_are_not_copied_per_kid",
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
        "forms::a_kid_listed_many_times_is_read_once",
        repeated_kid,
        Expect::Readable,
    );
}

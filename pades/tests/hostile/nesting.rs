//! Nesting, long tokens, many objects and many cross-reference sections.

use super::*;

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
    holds_budget(
        "nesting::deep_nesting_is_bounded",
        deep_nesting,
        Expect::Anything,
    );
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
        "nesting::long_names_and_strings_cost_their_length",
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
        "nesting::a_long_array_of_tiny_values_is_bounded",
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
        "nesting::a_long_fields_array_is_not_copied",
        long_fields_array,
        Expect::Readable,
    );
}

#[test]
fn millions_of_tiny_objects_cost_linear_work() {
    holds_budget(
        "nesting::millions_of_tiny_objects_cost_linear_work",
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
        "nesting::many_xref_sections_cost_linear_work",
        many_sections,
        Expect::Readable,
    );
}

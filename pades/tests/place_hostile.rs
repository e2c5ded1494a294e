//! Hostile input for the tag search: every case ends, quickly, without a panic, and either
//! finds what a viewer would show or nothing.

mod place_support;

use std::io::Write;

use pades::place::{find_tag, locate_in, MAX_TAG_CHARS};
use pades::stamp::Placement;
use place_support::{one_page, pdf, stream, HELVETICA};
use proptest::prelude::*;

fn found(pdf: &[u8], tag: &str) -> bool {
    find_tag(pdf, tag).expect("reads").is_some()
}

#[test]
fn megabytes_of_content_are_read_in_one_pass() {
    let mut content = b"1 0 0 1 0 0 cm ".repeat(500_000);
    content.extend_from_slice(b"BT /F1 12 Tf 100 100 Td (#ttd#) Tj ET");
    let pdf = one_page("", &content, HELVETICA, &[]);
    assert!(pdf.len() > 7_000_000);
    let start = std::time::Instant::now();
    assert!(found(&pdf, "#ttd#"));
    eprintln!("7.5 MB of operators: {:?}", start.elapsed());
}

#[test]
fn a_million_saved_states() {
    let mut content = b"q ".repeat(1_000_000);
    content.extend_from_slice(b"2 0 0 2 0 0 cm BT /F1 10 Tf 10 10 Td (#ttd#) Tj ET");
    content.extend_from_slice(&b"Q ".repeat(1_000_001));
    content.extend_from_slice(b"BT /F1 10 Tf 10 10 Td (MARK) Tj ET");
    let pdf = one_page("", &content, HELVETICA, &[]);
    let hit = find_tag(&pdf, "#ttd#").expect("reads").expect("found");
    assert!((hit.rect.x0 - 20.0).abs() < 1e-9, "{hit:?}");
    // Every Q matched its q: the CTM is back to the identity.
    let mark = find_tag(&pdf, "MARK").expect("reads").expect("found");
    assert!((mark.rect.x0 - 10.0).abs() < 1e-9, "{mark:?}");
}

#[test]
fn huge_numbers_and_overflowing_matrices() {
    let big = "9".repeat(400);
    let content = format!(
        "BT /F1 12 Tf {big} 0 0 {big} 0 0 Tm (#a#) Tj \
         1e10 0 0 1e10 0 0 Tm (#b#) Tj ET \
         q 1000000000000000000000000 0 0 1000000000000000000000000 0 0 cm \
         1000000000000000000000000 0 0 1000000000000000000000000 0 0 cm \
         1000000000000000000000000000000000000000000000000000000000000000 0 0 1 0 0 cm \
         1000000000000000000000000000000000000000000000000000000000000000 0 0 1 0 0 cm \
         1000000000000000000000000000000000000000000000000000000000000000 0 0 1 0 0 cm \
         1000000000000000000000000000000000000000000000000000000000000000 0 0 1 0 0 cm \
         1000000000000000000000000000000000000000000000000000000000000000 0 0 1 0 0 cm \
         BT /F1 12 Tf (#c#) Tj ET Q BT /F1 12 Tf 1 2 Td (#d#) Tj ET"
    );
    let pdf = one_page("", content.as_bytes(), HELVETICA, &[]);
    // The 400-digit Tm is ignored (identity stays): #a# is shown at the origin.
    assert!(found(&pdf, "#a#"));
    // 1e10 is a number: the box is huge but finite.
    assert!(found(&pdf, "#b#"));
    // A CTM scaled past the largest float has no finite box: not findable, no panic.
    assert!(!found(&pdf, "#c#"));
    let d = find_tag(&pdf, "#d#").expect("reads").expect("found");
    assert!((d.rect.x0 - 1.0).abs() < 1e-9);
    // A finite but absurd tag box cannot take a stamp on the page.
    assert!(locate_in(
        &pdf,
        &Placement::Tag {
            text: "#b#".into(),
            width: 200.0,
            height: 110.0
        }
    )
    .is_err());
}

#[test]
fn fonts_with_bad_entries_and_missing_fonts() {
    let fonts = [
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /FirstChar 99999999999999 /Widths [1 2] >>",
        "<< /Type /Font /Subtype /Type1 /FirstChar -5 /Widths (x) /FontDescriptor 5 0 R >>",
        "<< /Type /Font /Subtype /TrueType /FirstChar 0 /Widths [/a (b) -1e300 99999999999 5 0 R] \
         /Encoding << /Differences [35 /numbersign 1e9 /x -3 /y 300 /z (q) /t] >> /ToUnicode 5 0 R >>",
        "<< /Type /Font /Subtype /Type3 /FontMatrix [0 0 0 0 0 0] /Widths [1] /FirstChar 35 >>",
        "<< /Type /Font /Subtype /Type0 /DescendantFonts 5 0 R /Encoding /Identity-H >>",
        "<< /Type /Font /Subtype /Type0 /DescendantFonts [] >>",
        "<< /Type /Font /Subtype /Unknown >>",
        "(not a font)",
    ];
    for font in fonts {
        let pdf = one_page(
            "",
            b"BT /F1 12 Tf (#ttd#) Tj /F9 12 Tf (#ttd#) Tj /F1 Tf 12 (x) Tj ET",
            font,
            &[],
        );
        // Simple fonts still have their encoding's text; the rest none. No panic either way.
        let _ = find_tag(&pdf, "#ttd#").expect("reads");
    }
    // An unknown font resource shows nothing.
    let pdf = one_page("", b"BT /F9 12 Tf (#ttd#) Tj ET", HELVETICA, &[]);
    assert!(!found(&pdf, "#ttd#"));
}

#[test]
fn type0_fonts_with_absurd_cmaps_and_widths() {
    let to_unicode = stream(
        "",
        b"1 begincodespacerange <0000> <FFFF> endcodespacerange \
          2 beginbfrange <00000000> <FFFFFFFF> <0023> <0001> <0003> [<0074> <0074> <0064>] endbfrange \
          1 beginbfchar <0004> <0023> endbfchar",
    );
    let encoding = stream(
        "",
        b"1 begincodespacerange <00> <FF> endcodespacerange \
          1 begincidrange <00> <FF> 4294967295 endcidrange",
    );
    let descendant = "<< /Type /Font /Subtype /CIDFontType2 /DW -99999999999 \
                      /W [0 4294967295 500 5 [1 2 3] 7 (x) 1 2 3 4 5] >>";
    for enc in ["/Identity-H", "8 0 R", "/UniJIS-UCS2-H", "9 0 R"] {
        let font = format!(
            "<< /Type /Font /Subtype /Type0 /Encoding {enc} /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>"
        );
        let pdf = one_page(
            "",
            b"BT /F1 10 Tf <00000001000200030004> Tj ET",
            &font,
            &[
                descendant.as_bytes().to_vec(),
                to_unicode.clone(),
                encoding.clone(),
                b"(x)".to_vec(),
            ],
        );
        let hit = find_tag(&pdf, "#ttd#").expect("reads");
        if enc != "8 0 R" {
            // Two-byte codes 0..4 give #, t, t, d, #.
            assert!(hit.is_some(), "{enc}");
        }
    }
}

#[test]
fn cycles_through_resources_and_forms() {
    // Form 6 draws itself and form 7, which draws 6; their resources are each other's.
    let f6 = stream(
        "/Type /XObject /Subtype /Form /BBox [0 0 1 1] /Resources 8 0 R",
        b"/X6 Do /X7 Do BT /F1 12 Tf (#in6#) Tj ET",
    );
    let f7 = stream(
        "/Type /XObject /Subtype /Form /BBox [0 0 1 1] /Resources 8 0 R /Matrix [1 0 0 1 5 5]",
        b"/X7 Do /X6 Do BT /F1 12 Tf (#in7#) Tj ET",
    );
    let res = b"<< /Font << /F1 5 0 R >> /XObject << /X6 6 0 R /X7 7 0 R >> >>".to_vec();
    let pdf = pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /Contents [4 0 R 4 0 R 9 0 R] /Resources 8 0 R >>".to_vec(),
        stream("", b"/X6 Do /X6 Do"),
        HELVETICA.as_bytes().to_vec(),
        f6,
        f7,
        res,
        b"[9 0 R]".to_vec(),
    ]);
    assert!(found(&pdf, "#in6#"));
    assert!(found(&pdf, "#in7#"));
}

#[test]
fn forms_nest_only_a_few_levels() {
    // Form k draws form k+1; the tag is drawn by each form at its depth.
    let mut objs = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /XObject << /X 6 0 R >> >> >>"
            .to_vec(),
        stream("", b"/X Do"),
        HELVETICA.as_bytes().to_vec(),
    ];
    for k in 1..=8 {
        objs.push(stream(
            &format!(
                "/Subtype /Form /BBox [0 0 1 1] /Resources << /Font << /F1 5 0 R >> /XObject << /X {} 0 R >> >>",
                6 + k
            ),
            format!("BT /F1 12 Tf (#depth{k}#) Tj ET /X Do").as_bytes(),
        ));
    }
    let pdf = pdf(&objs);
    assert!(found(&pdf, "#depth1#"));
    assert!(found(&pdf, "#depth4#"));
    assert!(!found(&pdf, "#depth5#"));
}

#[test]
fn page_tree_cycles_are_refused() {
    let pdf = pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>".to_vec(),
    ]);
    let err = find_tag(&pdf, "x").expect_err("a cycle");
    assert!(
        err.to_string().to_lowercase().contains("cycle") || err.to_string().contains("2 0 R"),
        "{err}"
    );
}

#[test]
fn garbage_content_inline_images_and_unknown_filters() {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut junk = Vec::with_capacity(1 << 20);
    while junk.len() < 1 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        junk.extend_from_slice(&x.to_le_bytes());
    }
    junk.extend_from_slice(b" ET Q Q BT /F1 12 Tf (#end#) Tj ET");
    let garbage = one_page("", &junk, HELVETICA, &[]);
    let _ = find_tag(&garbage, "#end#").expect("reads");
    // Text inside an inline image's data is not text.
    let image = one_page(
        "",
        b"BT /F1 12 Tf BI /W 4 /H 1 /BPC 8 /CS /G ID (#img#) Tj\nEI (#after#) Tj ET",
        HELVETICA,
        &[],
    );
    assert!(!found(&image, "#img#"));
    assert!(found(&image, "#after#"));
    // A filter the reader does not know: the content is treated as absent.
    let lzw = pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_vec(),
        stream("/Filter /LZWDecode", b"BT /F1 12 Tf (#lzw#) Tj ET"),
        HELVETICA.as_bytes().to_vec(),
    ]);
    assert!(!found(&lzw, "#lzw#"));
}

#[test]
fn an_inflation_bomb_spends_the_budget_and_is_refused() {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b' '; 1 << 20];
    for _ in 0..40 {
        z.write_all(&zeros).expect("deflate");
    }
    let bomb = z.finish().expect("deflate");
    let pdf = pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>".to_vec(),
        {
            let mut s = format!(
                "<< /Length {} /Filter /FlateDecode >>\nstream\n",
                bomb.len()
            )
            .into_bytes();
            s.extend_from_slice(&bomb);
            s.extend_from_slice(b"\nendstream");
            s
        },
    ]);
    let err = find_tag(&pdf, "x").expect_err("40 MB from a small file");
    assert!(matches!(err, pades::Error::Limit(_)), "{err}");
}

#[test]
fn tags_are_bounded() {
    let pdf = one_page("", b"BT /F1 12 Tf (aaaa) Tj ET", HELVETICA, &[]);
    assert!(find_tag(&pdf, &"a".repeat(MAX_TAG_CHARS + 1)).is_err());
    assert!(find_tag(&pdf, "").is_err());
    assert!(found(&pdf, "aaaa"));
    assert!(!found(&pdf, "aaaaa"));
}

const WORDS: &[&str] = &[
    "q",
    "Q",
    "BT",
    "ET",
    "(#t)",
    "(t#)",
    "<0023>",
    "Tj",
    "TJ",
    "'",
    "\"",
    "[",
    "]",
    "<<",
    ">>",
    "1",
    "0",
    "-3.5",
    "1e3",
    "999999999999999999999",
    "/F1",
    "/F2",
    "/X",
    "Tf",
    "cm",
    "Tm",
    "Td",
    "TD",
    "T*",
    "Tz",
    "Tc",
    "Tw",
    "TL",
    "Ts",
    "Do",
    "BI",
    "ID",
    "EI",
    "(",
    ")",
    "<",
    ">",
    "%",
    "\n",
    "{",
    "/",
    "begincodespacerange",
    "endcodespacerange",
    "beginbfrange",
    "endbfrange",
    "beginbfchar",
    "endbfchar",
    "begincidrange",
    "endcidrange",
    "<00>",
    "<FFFF>",
    "<00000000>",
];

fn words() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(0..WORDS.len(), 0..400).prop_map(|ix| {
        ix.iter()
            .map(|&i| WORDS[i])
            .collect::<Vec<_>>()
            .join(" ")
            .into_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_content_fonts_and_cmaps_never_panic(
        content in words(),
        cmap in words(),
        form in words(),
        raw in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let font = "<< /Type /Font /Subtype /Type0 /Encoding 8 0 R /DescendantFonts [6 0 R] \
                    /ToUnicode 7 0 R >>";
        let mut all = content.clone();
        all.extend_from_slice(&raw);
        let pdf = one_page(
            "/Resources << /Font << /F1 5 0 R /F2 9 0 R >> /XObject << /X 10 0 R >> >>",
            &all,
            font,
            &[
                b"<< /Subtype /CIDFontType0 /W [1 [500] 2 9 300] >>".to_vec(),
                stream("", &cmap),
                stream("", &cmap),
                HELVETICA.as_bytes().to_vec(),
                stream("/Subtype /Form /Resources << /Font << /F1 9 0 R >> /XObject << /X 10 0 R >> >>", &form),
            ],
        );
        let _ = find_tag(&pdf, "#t");
        let _ = locate_in(&pdf, &Placement::Tag { text: "t#".into(), width: 50.0, height: 20.0 });
    }
}

//! Cost of drawing a visible seal: the stamp's form XObject with its font subsets (and, in a
//! second case, a PNG logo), and the footer note with its font. A stamped signature should stay
//! within twice an invisible one, so drawing must be well under a millisecond.
//! Run: `cargo bench -p pades --bench stamp`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use pades::stamp::testing::{draw, footer};
use pades::stamp::{Appearance, Placement, QrCode, StampLine};

fn letter(image: Option<Vec<u8>>) -> Appearance {
    let line = |text: &str, bold: bool| StampLine {
        text: text.into(),
        bold,
    };
    Appearance {
        placement: Placement::Field,
        lines: vec![
            line("Ditandatangani secara elektronik oleh:", false),
            line("Sekretaris Jenderal", false),
            line("Kementerian Dalam Negeri", true),
            line("Budi Santoso", true),
            line("NIP. 198701012010011001", false),
            line("5 Desember 2026 08:30 WIB", false),
        ],
        link: "http://127.0.0.1:8080/d/Zx3_q9LmT0a-Bc7dEf1GhK".into(),
        image,
        footer: None,
        alt_text: String::new(),
    }
}

/// A 160 x 80 RGBA PNG (a logo with a transparent margin).
fn logo() -> Vec<u8> {
    let (w, h) = (160u32, 80u32);
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().expect("PNG header");
    let data: Vec<u8> = (0..w * h)
        .flat_map(|i| {
            let (x, y) = (i % w, i / w);
            let a = if x > 10 && x < w - 10 && y > 10 && y < h - 10 {
                255
            } else {
                0
            };
            [(x % 256) as u8, (y * 3 % 256) as u8, 120, a]
        })
        .collect();
    writer.write_image_data(&data).expect("PNG data");
    writer.finish().expect("PNG end");
    out
}

fn bench(c: &mut Criterion) {
    let plain = letter(None);
    let with_logo = letter(Some(logo()));
    let note = "Dokumen ini telah ditandatangani secara elektronik. Untuk memastikan \
                keasliannya, pindai kode QR atau kunjungi http://127.0.0.1:8080";
    let mut g = c.benchmark_group("stamp");
    g.bench_function("draw-200x110", |b| {
        b.iter(|| draw(black_box(&plain), 200.0, 110.0, 0, 10).expect("drawn"))
    });
    // A different name each time. Every subset holds printable ASCII, so a name in ASCII uses
    // the kept subset of the bold face.
    let named: Vec<Appearance> = (0..64u8)
        .map(|i| {
            let mut a = letter(None);
            a.lines[3].text = format!(
                "Nama {}{}",
                char::from(b'A' + i / 8),
                char::from(b'q' + i % 8)
            );
            a
        })
        .collect();
    let mut i = 0;
    g.bench_function("draw-200x110-new-name", |b| {
        b.iter(|| {
            i = (i + 1) % named.len();
            draw(black_box(&named[i]), 200.0, 110.0, 0, 10).expect("drawn")
        })
    });
    // A different letter outside ASCII in each name (64 glyph sets, more than the subsets
    // kept), so the bold face is subset and compressed on every draw: the cost of a name
    // such as "Ñoman" the first time.
    let accented: Vec<Appearance> = ('\u{C0}'..='\u{FF}')
        .filter(|c| c.is_alphabetic())
        .map(|c| {
            let mut a = letter(None);
            a.lines[3].text = format!("Nama {c}");
            a
        })
        .collect();
    let mut j = 0;
    g.bench_function("draw-200x110-new-accented-name", |b| {
        b.iter(|| {
            j = (j + 1) % accented.len();
            draw(black_box(&accented[j]), 200.0, 110.0, 0, 10).expect("drawn")
        })
    });
    g.bench_function("draw-200x110-png-logo", |b| {
        b.iter(|| draw(black_box(&with_logo), 200.0, 110.0, 0, 10).expect("drawn"))
    });
    // The QR code alone (all eight masks are tried), for comparison.
    g.bench_function("qr-encode", |b| {
        b.iter(|| QrCode::new(black_box(&plain.link)).expect("fits"))
    });
    g.bench_function("footer-a4", |b| {
        b.iter(|| footer(black_box(note), 595.0, "FSegel", 10).expect("footer"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

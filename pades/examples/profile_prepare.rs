//! Where does prepare spend its time on a many-page file? `cargo run --release -p pades --example profile_prepare`
use std::time::Instant;

fn main() {
    let pdf = pades::testing::synthetic_pdf(2000, 100 * 1024);
    let req = pades::SignatureRequest::new(pades::UnixTime(0));
    for _ in 0..3 {
        let t = Instant::now();
        for _ in 0..100 {
            let d = pades::pdf::Document::open(&pdf).expect("open");
            std::hint::black_box(d.max_object_number());
        }
        let open = t.elapsed().as_secs_f64() / 100.0;
        let t = Instant::now();
        for _ in 0..100 {
            std::hint::black_box(pades::prepare(&pdf, &req, 8192).expect("prepare"));
        }
        let prep = t.elapsed().as_secs_f64() / 100.0;
        println!("open {:.3} ms, prepare {:.3} ms", open * 1e3, prep * 1e3);
    }
}

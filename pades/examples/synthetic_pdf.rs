//! Write a synthetic PDF for benchmarks and memory measurements:
//! `cargo run --release -p pades --example synthetic_pdf -- OUT.pdf PAGES BYTES`
fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(out), Some(pages), Some(bytes)) = (
        args.get(1),
        args.get(2).and_then(|p| p.parse().ok()),
        args.get(3).and_then(|b| b.parse().ok()),
    ) else {
        eprintln!("usage: synthetic_pdf OUT.pdf PAGES BYTES");
        return std::process::ExitCode::from(2);
    };
    match std::fs::write(out, pades::testing::synthetic_pdf(pages, bytes)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{out}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

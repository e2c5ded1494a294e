//! Compile `segel/v1/*.proto` with protox (pure Rust; no system protoc needed).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=segel/v1/segel.proto");
    let fds = protox::compile(["segel/v1/segel.proto"], ["."])?;
    tonic_prost_build::configure().compile_fds(fds)?;
    Ok(())
}

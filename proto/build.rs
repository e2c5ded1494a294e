//! Compile `segel/v1/*.proto` with protox (pure Rust; no system protoc needed), and keep the
//! encoded descriptor set for gRPC server reflection.

use prost::Message as _;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=segel/v1/segel.proto");
    let fds = protox::compile(["segel/v1/segel.proto"], ["."])?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("segel_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure().compile_fds(fds)?;
    Ok(())
}

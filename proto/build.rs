//! Compile `segel/v1/*.proto` with protox (pure Rust; no system protoc needed), and keep the
//! encoded descriptor set for gRPC server reflection.

use prost::Message as _;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=segel/v1/segel.proto");
    let fds = protox::compile(["segel/v1/segel.proto"], ["."])?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("segel_descriptor.bin"), fds.encode_to_vec())?;
    // Documents as `bytes::Bytes`: decoding takes a slice of the received buffer instead of
    // copying the document, and a streamed reply can hand out slices of the signed document.
    let mut config = tonic_prost_build::configure();
    for field in [
        ".segel.v1.SignPdfRequest.pdf",
        ".segel.v1.SignPdfResponse.signed_pdf",
        ".segel.v1.SignPdfResponse.update",
        ".segel.v1.SignPdfStreamRequest",
        ".segel.v1.SignPdfStreamResponse",
        ".segel.v1.VerifyPdfRequest.pdf",
    ] {
        config = config.bytes(field);
    }
    config.compile_fds(fds)?;
    Ok(())
}

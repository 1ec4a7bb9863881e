//! Compiles `proto/attestlog/v1/log.proto` (needs `protoc`, from Debian's
//! protobuf-compiler; scripts/test.sh installs it) and writes the file
//! descriptor set that gRPC server reflection serves.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Read at run time, not with `env!`: a build script binary compiled in
    // one checkout may be reused by cargo from a shared target directory
    // for another checkout of the same sources.
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let file = root.join("attestlog/v1/log.proto");
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    println!("cargo:rerun-if-changed={}", file.display());
    tonic_prost_build::configure()
        .file_descriptor_set_path(out.join("attestlog_v1_descriptor.bin"))
        .compile_protos(&[file], &[root])?;
    Ok(())
}

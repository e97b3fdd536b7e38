//! Generates `proto/bench.proto` twice: gust's service into `OUT_DIR/gust`,
//! tonic's into `OUT_DIR/tonic`. Both parse it with protox, so no protoc is
//! needed.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    println!("cargo:rerun-if-changed=proto/bench.proto");

    gust_build::configure().out_dir(out_dir.join("gust")).compile(&["proto/bench.proto"], &["proto"])?;

    let tonic_dir = out_dir.join("tonic");
    std::fs::create_dir_all(&tonic_dir)?;
    let descriptors = protox::compile(["bench.proto"], ["proto"])?;
    tonic_prost_build::configure().out_dir(&tonic_dir).compile_fds(descriptors)?;
    Ok(())
}

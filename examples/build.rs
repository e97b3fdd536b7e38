//! Generates the seeds' services from their unchanged `.proto` files.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    gust_build::compile_protos(
        &["proto/helloworld.proto", "proto/unary.proto", "proto/request_streaming.proto", "proto/fibonacci.proto"],
        &["proto"],
    )?;
    Ok(())
}

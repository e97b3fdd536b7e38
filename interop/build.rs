//! Generates `grpc.testing` (messages, TestService, UnimplementedService,
//! ReconnectService) from the interop protos in `proto/`.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    gust_build::compile_protos(
        &["proto/grpc/testing/empty.proto", "proto/grpc/testing/messages.proto", "proto/grpc/testing/test.proto"],
        &["proto"],
    )?;
    Ok(())
}

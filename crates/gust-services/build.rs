//! Generates the messages and services of the standard protos in `proto/`
//! with gust-build, like any gust application's build script does.
fn main() -> Result<(), gust_build::Error> {
    gust_build::compile_protos(
        &[
            "grpc/health/v1/health.proto",
            "grpc/reflection/v1/reflection.proto",
            "grpc/reflection/v1alpha/reflection.proto",
        ],
        &["proto"],
    )
}

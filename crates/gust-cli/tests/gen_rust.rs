//! Runs the built `gust` binary the way a person would: `gust gen rust`.

use std::{fs, path::Path, process::Command};

use tempfile::TempDir;

const GREETER: &str = r#"syntax = "proto3";
package helloworld;

// The greeting service.
service Greeter {
  rpc SayHello (HelloRequest) returns (HelloReply) {}
}
message HelloRequest { string name = 1; }
message HelloReply { string message = 1; }
"#;

/// A temporary directory holding `name` with `text` under `proto/`.
fn project(name: &str, text: &str) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("proto")).unwrap();
    fs::write(dir.path().join("proto").join(name), text).unwrap();
    dir
}

/// `gust gen rust -I proto --out <out> proto/<name>`, run inside `dir`.
fn gen_rust(dir: &Path, out: &str, name: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gust"))
        .current_dir(dir)
        .args(["gen", "rust", "-I", "proto", "--out", out])
        .arg(Path::new("proto").join(name))
        .output()
        .unwrap()
}

#[test]
fn writes_one_file_per_package_into_a_new_directory() {
    let dir = project("helloworld.proto", GREETER);
    let output = gen_rust(dir.path(), "src/generated", "helloworld.proto");
    assert!(output.status.success(), "{output:?}");
    assert!(output.stderr.is_empty(), "{output:?}");

    let code = fs::read_to_string(dir.path().join("src/generated/helloworld.rs")).unwrap();
    assert!(code.contains("pub struct HelloRequest {"));
    assert!(code.contains("/// The greeting service.\n///\n/// Implement this trait"));
    assert!(code.contains("pub trait Greeter:"));
    assert!(code.contains("pub struct GreeterServer<T>"));
    assert!(code.contains("pub struct GreeterClient"));
    assert!(code.contains("\"/helloworld.Greeter/SayHello\""));
}

#[test]
fn server_and_client_can_be_skipped() {
    let dir = project("helloworld.proto", GREETER);
    let output = Command::new(env!("CARGO_BIN_EXE_gust"))
        .current_dir(dir.path())
        .args(["gen", "rust", "-I", "proto", "--out", "out", "--no-client", "proto/helloworld.proto"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let code = fs::read_to_string(dir.path().join("out/helloworld.rs")).unwrap();
    assert!(code.contains("pub struct GreeterServer<T>"));
    assert!(!code.contains("GreeterClient"));
}

#[test]
fn syntax_error_exits_1_with_its_location() {
    let dir = project("broken.proto", "syntax = \"proto3\";\nmessage A {\n  int32 x = ;\n}\n");
    let output = gen_rust(dir.path(), "out", "broken.proto");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with("error: broken.proto:3:13: "), "{stderr}");
    assert!(!dir.path().join("out").exists());
}

#[test]
fn missing_file_exits_1() {
    let dir = project("helloworld.proto", GREETER);
    let output = gen_rust(dir.path(), "out", "absent.proto");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("absent.proto: file not found"), "{stderr}");
}

#[test]
fn include_defaults_to_the_current_directory() {
    let dir = project("helloworld.proto", GREETER);
    let output = Command::new(env!("CARGO_BIN_EXE_gust"))
        .current_dir(dir.path().join("proto"))
        .args(["gen", "rust", "--out", "../out", "helloworld.proto"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(dir.path().join("out/helloworld.rs").is_file());
}

//! Runs the built `gust` binary the way `python -m grpc_tools.protoc` is run:
//! `gust gen python -I... --python_out=... --pyi_out=... --grpc_python_out=...`.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use tempfile::TempDir;

const GREETER: &str = r#"syntax = "proto3";
package helloworld;

// The greeting service.
service Greeter {
  // Sends a greeting.
  rpc SayHello (HelloRequest) returns (HelloReply) {}
}
message HelloRequest { string name = 1; }
message HelloReply { string message = 1; }
"#;

/// A temporary directory holding `files` under `proto/`.
fn project(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join("proto").join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    dir
}

/// `gust <args>`, run inside `dir`.
fn gust(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gust")).current_dir(dir).args(args).output().unwrap()
}

fn read(dir: &Path, path: &str) -> String {
    fs::read_to_string(dir.join(path)).unwrap_or_else(|error| panic!("{path}: {error}"))
}

#[test]
fn writes_the_three_modules_with_protoc_spellings() {
    let dir = project(&[("helloworld.proto", GREETER)]);
    // `=` and separate values, `-IDIR` glued: as grpc_tools.protoc takes them.
    let output = gust(
        dir.path(),
        &[
            "gen",
            "python",
            "-Iproto",
            "--python_out=out",
            "--pyi_out",
            "stubs",
            "--grpc_python_out=out",
            "proto/helloworld.proto",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    assert!(output.stderr.is_empty(), "{output:?}");

    let messages = read(dir.path(), "out/helloworld_pb2.py");
    assert!(messages.contains("DESCRIPTOR = _descriptor_pool.Default().AddSerializedFile(b'"));
    assert!(messages.contains("_builder.BuildTopDescriptorsAndMessages(DESCRIPTOR, 'helloworld_pb2', _globals)"));
    let stubs = read(dir.path(), "stubs/helloworld_pb2.pyi");
    assert!(stubs.contains("class HelloRequest(_message.Message):"));
    assert!(stubs.contains("def __init__(self, name: _Optional[str] = ...) -> None: ..."));
    let services = read(dir.path(), "out/helloworld_pb2_grpc.py");
    assert!(services.contains("import helloworld_pb2 as helloworld__pb2\n"));
    assert!(services.contains("class GreeterStub:\n    \"\"\"The greeting service.\n    \"\"\"\n"));
    assert!(services.contains("        \"\"\"Sends a greeting.\n        \"\"\"\n"));
    assert!(services.contains("def add_GreeterServicer_to_server(servicer, server):"));
    // Only what was asked for.
    assert!(!dir.path().join("out/helloworld_pb2.pyi").exists());
    assert!(!dir.path().join("stubs/helloworld_pb2.py").exists());
}

#[test]
fn relative_imports_and_long_include_flag() {
    let dir = project(&[("pkg/greeter.proto", &GREETER.replace("package helloworld;", "package pkg;"))]);
    let output = gust(
        dir.path(),
        &["gen", "python", "--proto_path=proto", "--grpc_python_out", "gen", "--relative_imports", "pkg/greeter.proto"],
    );
    assert!(output.status.success(), "{output:?}");
    let services = read(dir.path(), "gen/pkg/greeter_pb2_grpc.py");
    assert!(services.contains("from . import greeter_pb2 as pkg_dot_greeter__pb2\n"), "{services}");
    assert!(!dir.path().join("gen/pkg/greeter_pb2.py").exists());
}

#[test]
fn syntax_error_exits_1_with_its_location() {
    let dir = project(&[("broken.proto", "syntax = \"proto3\";\nmessage A {\n  int32 x = ;\n}\n")]);
    let output = gust(dir.path(), &["gen", "python", "-I", "proto", "--python_out=out", "broken.proto"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with("error: broken.proto:3:13: "), "{stderr}");
    assert!(!dir.path().join("out").exists());
}

#[test]
fn an_output_directory_is_required() {
    let dir = project(&[("helloworld.proto", GREETER)]);
    let output = gust(dir.path(), &["gen", "python", "-Iproto", "helloworld.proto"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("--python_out"), "{stderr}");
}

/// With the repository's venv present, the output also imports and serves.
#[test]
fn generated_modules_import_with_grpcio() {
    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    if !python.is_file() {
        eprintln!("SKIPPED: {} is missing (scripts/setup-python.sh creates it)", python.display());
        return;
    }
    let dir = project(&[("helloworld.proto", GREETER)]);
    let output = gust(
        dir.path(),
        &["gen", "python", "-Iproto", "--python_out=out", "--grpc_python_out=out", "helloworld.proto"],
    );
    assert!(output.status.success(), "{output:?}");
    let script = r#"
import concurrent.futures, sys
sys.path.insert(0, "out")
import grpc, helloworld_pb2, helloworld_pb2_grpc

class Greeter(helloworld_pb2_grpc.GreeterServicer):
    def SayHello(self, request, context):
        return helloworld_pb2.HelloReply(message="Hello, " + request.name)

server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=2))
helloworld_pb2_grpc.add_GreeterServicer_to_server(Greeter(), server)
port = server.add_insecure_port("127.0.0.1:0")
server.start()
with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
    reply = helloworld_pb2_grpc.GreeterStub(channel).SayHello(helloworld_pb2.HelloRequest(name="gust"))
server.stop(None)
assert reply.message == "Hello, gust", reply
"#;
    let run = Command::new(&python).current_dir(dir.path()).args(["-c", script]).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
}

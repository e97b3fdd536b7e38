//! Python generation end to end: `.proto` files through
//! `gust_build::python::generate` to modules that the official protobuf
//! runtime and grpcio load, checked against grpcio-tools' output for the same
//! files.
//!
//! The tests that run Python need `<repo>/.venv` (made by
//! `scripts/setup-python.sh`, with protobuf, grpcio and grpcio-tools); without
//! it they print why and pass.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use gust_build::python::{self, GeneratedFile, Options, Output};
use tempfile::TempDir;

/// Nested messages and enums, maps, a oneof, proto3 `optional`, a field
/// named after a Python keyword, well-known types, imports across files and
/// packages, a public import, options, and two services with comments.
const SHOP: &str = r#"syntax = "proto3";

package shop.v1;

import "google/protobuf/empty.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/duration.proto";
import "common/money.proto";
import public "shop/v1/tags.proto";

option java_package = "com.example.shop";

// An order.
message Order {
  // Where an order is in its life.
  enum State {
    STATE_UNKNOWN = 0;
    STATE_OPEN = 1;
    STATE_CLOSED = 2 [deprecated = true];
  }
  message Line {
    string sku = 1;
    common.Money price = 2;
    uint32 quantity = 3;
  }
  repeated Line lines = 1;
  State state = 2;
  google.protobuf.Timestamp placed_at = 3;
  map<string, int32> counts = 4;
  map<string, Line> by_sku = 5;
  oneof payment {
    string card = 6;
    bytes token = 7;
  }
  optional string note = 8;
  repeated int64 ids = 9;
  int32 from = 10;
  common.Currency currency = 11;
  string old = 12 [deprecated = true, json_name = "legacy"];
  google.protobuf.Duration ttl = 13;
  repeated Tag tags = 14;
  Color color = 15;
  double ratio = 16;
  bool gift = 17;
}

enum Priority {
  PRIORITY_LOW = 0;
  PRIORITY_HIGH = 1;
}

// Takes orders.
// Second line of the service comment.
service Orders {
  // Places one order.
  rpc PlaceOrder(Order) returns (Order);
  rpc WatchOrders(google.protobuf.Empty) returns (stream Order); // Streams every new order.
  rpc UploadLines(stream Order.Line) returns (common.Money);
  rpc Chat(stream Order) returns (stream Order);
}

// Says whether the shop is open.
service Health {
  rpc Check(google.protobuf.Empty) returns (google.protobuf.Empty) {
    option deprecated = true;
  }
}
"#;

const TAGS: &str = r#"syntax = "proto3";
package shop.v1;

message Tag { string name = 1; }
enum Color { COLOR_NONE = 0; RED = 1; }
"#;

const MONEY: &str = r#"syntax = "proto3";
package common;

// An amount of money.
message Money {
  int64 cents = 1;
  Currency currency = 2;
}

enum Currency {
  CURRENCY_UNSPECIFIED = 0;
  EUR = 1;
  USD = 2;
}
"#;

/// proto2: required fields, defaults, extensions, a custom option; and a
/// hyphen in the file name.
const LEGACY: &str = r#"syntax = "proto2";
package legacy;

import "google/protobuf/descriptor.proto";

extend google.protobuf.MessageOptions {
  optional string table = 50001;
}

message Record {
  option (table) = "records";
  required int32 id = 1;
  optional string name = 2 [default = "anon"];
  optional double weight = 3 [default = 1.5];
  extensions 100 to 199;
}

extend Record {
  optional int32 extra = 100;
}
"#;

/// A module path with a Python keyword in it (`in.kw_pb2`) can only be
/// imported through importlib.
const KEYWORD_PATH: &str = r#"syntax = "proto3";
package kw;
message Kw { string word = 1; }
"#;

const USES_KEYWORD_PATH: &str = r#"syntax = "proto3";
package uses;
import "in/kw.proto";
message Holder { kw.Kw kw = 1; }
"#;

/// Only gust gets this one: grpcio-tools writes its comment into a docstring
/// unescaped, which does not compile.
const QUOTES: &str = r#"syntax = "proto3";
package quotes;

message Note { string text = 1; }

// Says "hi", with a \backslash and """triple quotes""".
service Quoted {
  // Echoes """ back.
  rpc Echo(Note) returns (Note);
}
"#;

/// The seeds' protos, read where the examples keep them.
fn seeds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/proto")
}

const SEEDS: &[&str] = &["helloworld.proto", "unary.proto", "request_streaming.proto", "fibonacci.proto"];

/// The protos of this file that both gust and grpcio-tools generate.
const COMPARED: &[&str] = &[
    "shop/v1/shop.proto",
    "shop/v1/tags.proto",
    "common/money.proto",
    "legacy/old-records.proto",
    "in/kw.proto",
    "uses_kw.proto",
];

/// The venv's interpreter, or `None` (after saying so) when there is none.
fn venv_python() -> Option<PathBuf> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    if python.is_file() {
        Some(python)
    } else {
        eprintln!(
            "SKIPPED: {} is missing; run scripts/setup-python.sh to create the venv \
             (protobuf, grpcio, grpcio-tools) that this test runs",
            python.display()
        );
        None
    }
}

/// A temporary directory with the test protos under `proto/`.
fn project() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("shop/v1/shop.proto", SHOP),
        ("shop/v1/tags.proto", TAGS),
        ("common/money.proto", MONEY),
        ("legacy/old-records.proto", LEGACY),
        ("in/kw.proto", KEYWORD_PATH),
        ("uses_kw.proto", USES_KEYWORD_PATH),
        ("quotes.proto", QUOTES),
    ] {
        let path = dir.path().join("proto").join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    dir
}

/// Generates `files` (names under the seeds' or the project's protos) with
/// `options` and writes every output into `out`.
fn generate_into(project: &Path, files: &[&str], options: &Options, out: &Path) -> Vec<GeneratedFile> {
    let includes = [seeds_dir(), project.join("proto")];
    let generated = python::generate(files, &includes, options).unwrap();
    for file in &generated {
        let path = out.join(&file.path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, &file.content).unwrap();
    }
    generated
}

/// Runs `script` with the venv's interpreter; panics with its output unless
/// it succeeds.
fn run_python(python: &Path, cwd: &Path, script: &str, args: &[&Path], envs: &[(&str, &str)]) {
    let output = Command::new(python)
        .current_dir(cwd)
        .arg("-c")
        .arg(script)
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "python failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}", output.status);
    print!("{stdout}");
}

/// Imports the generated modules (argv[1]) and checks messages, enums,
/// options and the four call kinds over real grpcio, then compares names,
/// descriptors and stubs with grpcio-tools' output (argv[2]).
const CHECK_GENERATED: &str = r##"
import ast, concurrent.futures, json, pickle, subprocess, sys, warnings

GEN, REF = sys.argv[1], sys.argv[2]
sys.path.insert(0, GEN)

import grpc
from google.protobuf import descriptor_pb2
from google.protobuf.internal import api_implementation

import fibonacci_pb2, fibonacci_pb2_grpc
import helloworld_pb2, helloworld_pb2_grpc
import unary_pb2, unary_pb2_grpc
import request_streaming_pb2, request_streaming_pb2_grpc
from request_streaming_pb2 import Data, STARVED, THIRSTY, TIRED, UNKNOWN, OK
from request_streaming_pb2_grpc import RequestStreamingStub
from shop.v1 import shop_pb2, shop_pb2_grpc, tags_pb2
from common import money_pb2
from legacy import old_records_pb2
import uses_kw_pb2, quotes_pb2, quotes_pb2_grpc

def roundtrip(message):
    back = type(message).FromString(message.SerializeToString())
    assert back == message, (back, message)
    return back

# Messages and enums.
assert roundtrip(fibonacci_pb2.Number(value=42)).value == 42
assert roundtrip(helloworld_pb2.HelloRequest(name="you")).name == "you"
d = roundtrip(unary_pb2.Displacement(start=unary_pb2.Point(x=1, y=2), end=unary_pb2.Point(x=4, y=6)))
assert d.end.y == 6
data = roundtrip(Data(status=STARVED, info="hungry"))
assert data.status == STARVED == 3 and (UNKNOWN, OK, THIRSTY, TIRED) == (0, 1, 2, 4)
assert request_streaming_pb2.Status.Name(STARVED) == "STARVED"
assert request_streaming_pb2.Status.Value("TIRED") == TIRED
assert Data(status="THIRSTY").status == THIRSTY

order = shop_pb2.Order(
    lines=[shop_pb2.Order.Line(sku="a", price=money_pb2.Money(cents=250, currency=money_pb2.EUR), quantity=2)],
    state=shop_pb2.Order.STATE_OPEN,
    counts={"x": 1},
    by_sku={"a": shop_pb2.Order.Line(sku="a")},
    card="4111",
    note="",
    ids=[1, 2, 3],
    currency=money_pb2.USD,
    old="o",
    tags=[shop_pb2.Tag(name="t")],
    color=shop_pb2.RED,
    ratio=0.5,
    gift=True,
    **{"from": 7},
)
order.placed_at.FromSeconds(1_700_000_000)
order.ttl.FromSeconds(60)
back = roundtrip(order)
assert back.WhichOneof("payment") == "card" and back.HasField("note")
assert getattr(back, "from") == 7 and back.by_sku["a"].sku == "a"
assert back.placed_at.ToDatetime().year == 2023
assert shop_pb2.Order.State.Name(1) == "STATE_OPEN" and shop_pb2.Order.STATE_CLOSED == 2
assert shop_pb2.PRIORITY_HIGH == 1 and shop_pb2.Priority.Value("PRIORITY_LOW") == 0
# The public import re-exports tags.proto's names.
assert shop_pb2.Tag is tags_pb2.Tag and shop_pb2.RED == 1
assert shop_pb2.Order.__module__ == "shop.v1.shop_pb2"
assert pickle.loads(pickle.dumps(order)) == order
assert shop_pb2.Order.DESCRIPTOR.fields_by_name["old"].GetOptions().deprecated
assert shop_pb2.Order.DESCRIPTOR.fields_by_name["old"].json_name == "legacy"
assert shop_pb2.Order.DESCRIPTOR.fields_by_name["placed_at"].json_name == "placedAt"
assert shop_pb2.DESCRIPTOR.GetOptions().java_package == "com.example.shop"
assert shop_pb2.DESCRIPTOR.services_by_name["Health"].methods_by_name["Check"].GetOptions().deprecated

record = old_records_pb2.Record(id=1)
record.Extensions[old_records_pb2.extra] = 5
back = roundtrip(record)
assert back.Extensions[old_records_pb2.extra] == 5 and back.name == "anon" and back.weight == 1.5
assert old_records_pb2.Record.DESCRIPTOR.GetOptions().Extensions[old_records_pb2.table] == "records"
assert roundtrip(uses_kw_pb2.Holder(kw={"word": "in"})).kw.word == "in"

# Every descriptor finds its own bytes (the pure-Python runtime slices the
# embedded file with _serialized_start/_serialized_end for this).
def check_copies(descriptor, proto):
    copied = type(proto)()
    descriptor.CopyToProto(copied)
    assert copied == proto, (descriptor.full_name, copied, proto)
    for nested, nested_proto in zip(getattr(descriptor, "nested_types", []), getattr(proto, "nested_type", [])):
        check_copies(nested, nested_proto)
    for enum, enum_proto in zip(getattr(descriptor, "enum_types", []), getattr(proto, "enum_type", [])):
        check_copies(enum, enum_proto)

for module in (shop_pb2, money_pb2, old_records_pb2, fibonacci_pb2, request_streaming_pb2):
    file = descriptor_pb2.FileDescriptorProto.FromString(module.DESCRIPTOR.serialized_pb)
    for message in file.message_type:
        check_copies(module.DESCRIPTOR.message_types_by_name[message.name], message)
    for enum in file.enum_type:
        check_copies(module.DESCRIPTOR.enum_types_by_name[enum.name], enum)
    for service in file.service:
        check_copies(module.DESCRIPTOR.services_by_name[service.name], service)

# Comments became docstrings; escaped where they would end the string.
assert shop_pb2_grpc.OrdersServicer.__doc__.splitlines()[0] == "Takes orders."
assert "Second line of the service comment." in shop_pb2_grpc.OrdersStub.__doc__
assert shop_pb2_grpc.OrdersServicer.PlaceOrder.__doc__.strip() == "Places one order."
assert shop_pb2_grpc.OrdersServicer.WatchOrders.__doc__.strip() == "Streams every new order."
assert fibonacci_pb2_grpc.FibonacciServicer.__doc__ == "Missing associated documentation comment in .proto file."
assert quotes_pb2_grpc.QuotedServicer.__doc__.strip() == 'Says "hi", with a \\backslash and """triple quotes""".'
assert quotes_pb2_grpc.QuotedServicer.Echo.__doc__.strip() == 'Echoes """ back.'

# The four call kinds, over real grpcio.
def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a

Number = fibonacci_pb2.Number

class Fibonacci(fibonacci_pb2_grpc.FibonacciServicer):
    def AtIndex(self, request, context):
        return Number(value=fib(request.value))
    def GetSequence(self, request, context):
        for i in range(request.value):
            yield Number(value=fib(i))
    def SumIndicies(self, request_iterator, context):
        return Number(value=sum(fib(n.value) for n in request_iterator))
    def StreamSequence(self, request_iterator, context):
        for n in request_iterator:
            yield Number(value=fib(n.value))

class Greeter(helloworld_pb2_grpc.GreeterServicer):
    def SayHello(self, request, context):
        return helloworld_pb2.HelloReply(message="Hello, " + request.name)

class Displacement(unary_pb2_grpc.DisplacementServiceServicer):
    def computeDisplacement(self, request, context):
        dx, dy = request.end.x - request.start.x, request.end.y - request.start.y
        return unary_pb2.DisplacementResponse(distance=(dx * dx + dy * dy) ** 0.5)

class Streaming(request_streaming_pb2_grpc.RequestStreamingServicer):
    received = []
    def stream_state(self, request_iterator, context):
        self.received.extend(data.status for data in request_iterator)
        return request_streaming_pb2.Empty()

class Orders(shop_pb2_grpc.OrdersServicer):
    def PlaceOrder(self, request, context):
        return request
    def WatchOrders(self, request, context):
        yield shop_pb2.Order(card="1")
        yield shop_pb2.Order(card="2")

server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=8))
fibonacci_pb2_grpc.add_FibonacciServicer_to_server(Fibonacci(), server)
helloworld_pb2_grpc.add_GreeterServicer_to_server(Greeter(), server)
unary_pb2_grpc.add_DisplacementServiceServicer_to_server(Displacement(), server)
request_streaming_pb2_grpc.add_RequestStreamingServicer_to_server(Streaming(), server)
shop_pb2_grpc.add_OrdersServicer_to_server(Orders(), server)
shop_pb2_grpc.add_HealthServicer_to_server(shop_pb2_grpc.HealthServicer(), server)
port = server.add_insecure_port("127.0.0.1:0")
server.start()
target = f"127.0.0.1:{port}"
try:
    with grpc.insecure_channel(target) as channel:
        stub = fibonacci_pb2_grpc.FibonacciStub(channel)
        assert stub.AtIndex(Number(value=10)).value == 55
        assert [n.value for n in stub.GetSequence(Number(value=7))] == [0, 1, 1, 2, 3, 5, 8]
        assert stub.SumIndicies(iter([Number(value=i) for i in (3, 4, 5)])).value == 10
        assert [n.value for n in stub.StreamSequence(iter([Number(value=7), Number(value=8)]))] == [13, 21]
        response, call = stub.AtIndex.with_call(Number(value=1))
        assert response.value == 1 and call.code() == grpc.StatusCode.OK

        greeting = helloworld_pb2_grpc.GreeterStub(channel).SayHello(helloworld_pb2.HelloRequest(name="gust"))
        assert greeting.message == "Hello, gust"
        d = unary_pb2_grpc.DisplacementServiceStub(channel).computeDisplacement(
            unary_pb2.Displacement(start=unary_pb2.Point(x=0, y=0), end=unary_pb2.Point(x=3, y=4)))
        assert d.distance == 5.0
        RequestStreamingStub(channel).stream_state(iter([Data(status=OK), Data(status=TIRED)]))
        assert Streaming.received == [OK, TIRED]

        orders = shop_pb2_grpc.OrdersStub(channel)
        assert orders.PlaceOrder(order) == order
        assert [o.card for o in orders.WatchOrders(shop_pb2.google_dot_protobuf_dot_empty__pb2.Empty())] == ["1", "2"]
        # Methods left to the generated servicer answer UNIMPLEMENTED.
        for call in (
            lambda: list(orders.Chat(iter([order]))),
            lambda: orders.UploadLines(iter([shop_pb2.Order.Line()])),
            lambda: shop_pb2_grpc.HealthStub(channel).Check(shop_pb2.google_dot_protobuf_dot_empty__pb2.Empty()),
        ):
            try:
                call()
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.UNIMPLEMENTED, error
                assert error.details() == "Method not implemented!", error
            else:
                raise AssertionError("expected UNIMPLEMENTED")

    # The experimental one-shot API.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert fibonacci_pb2_grpc.Fibonacci.AtIndex(Number(value=12), target, insecure=True).value == 144
        assert [n.value for n in fibonacci_pb2_grpc.Fibonacci.GetSequence(Number(value=3), target, insecure=True)] == [0, 1, 1]
finally:
    server.stop(None)

# Same names and equivalent descriptors as grpcio-tools' modules. Each module
# loads in its own process: both sets define the same protobuf types.
PROBE = r'''
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
from google.protobuf import descriptor_pb2
module = importlib.import_module(sys.argv[2])
names = sorted(n for n in vars(module) if not (n.startswith("__") and n.endswith("__")))
result = {"names": [n for n in names if n != "_runtime_version"]}
if hasattr(module, "DESCRIPTOR"):
    copied = descriptor_pb2.FileDescriptorProto()
    module.DESCRIPTOR.CopyToProto(copied)
    embedded = descriptor_pb2.FileDescriptorProto.FromString(module.DESCRIPTOR.serialized_pb)
    result["copied"] = copied.SerializeToString(deterministic=True).hex()
    result["embedded"] = embedded.SerializeToString(deterministic=True).hex()
print(json.dumps(result))
'''

def probe(root, module):
    done = subprocess.run([sys.executable, "-c", PROBE, root, module], capture_output=True, text=True)
    assert done.returncode == 0, (root, module, done.stderr)
    return json.loads(done.stdout)

MODULES = [
    "helloworld", "unary", "request_streaming", "fibonacci",
    "shop.v1.shop", "shop.v1.tags", "common.money", "legacy.old_records", "in.kw", "uses_kw",
]
for base in MODULES:
    for module in (base + "_pb2", base + "_pb2_grpc"):
        ours, theirs = probe(GEN, module), probe(REF, module)
        assert ours == theirs, (module, ours, theirs)

# The stubs declare the same things; ours add docstrings.
def shape(path):
    def strip(body):
        kept = []
        for node in body:
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                continue
            if isinstance(node, ast.ClassDef):
                node.body = strip(node.body)
            kept.append(node)
        return kept
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    tree.body = strip(tree.body)
    return ast.dump(tree)

for base in MODULES:
    path = base.replace(".", "/") + "_pb2.pyi"
    assert shape(f"{GEN}/{path}") == shape(f"{REF}/{path}"), path
ast.parse(open(f"{GEN}/quotes_pb2.pyi").read())

print(f"ok ({api_implementation.Type()} protobuf runtime)")
"##;

#[test]
fn generated_modules_work_with_protobuf_and_grpcio_like_grpcio_tools_output() {
    let Some(python) = venv_python() else { return };
    let project = project();
    let (gen, reference) = (project.path().join("gen"), project.path().join("ref"));

    let mut files: Vec<&str> = SEEDS.to_vec();
    files.extend(COMPARED);
    files.push("quotes.proto");
    generate_into(project.path(), &files, &Options::new(), &gen);

    fs::create_dir_all(&reference).unwrap();
    let status = Command::new(&python)
        .args(["-m", "grpc_tools.protoc"])
        .arg(format!("-I{}", seeds_dir().display()))
        .arg(format!("-I{}", project.path().join("proto").display()))
        .arg(format!("--python_out={}", reference.display()))
        .arg(format!("--pyi_out={}", reference.display()))
        .arg(format!("--grpc_python_out={}", reference.display()))
        .args(SEEDS)
        .args(COMPARED)
        .status()
        .unwrap();
    assert!(status.success(), "grpc_tools.protoc failed");

    // The default runtime (upb), then the pure-Python one, which reads the
    // options and byte ranges the C runtimes ignore.
    run_python(&python, project.path(), CHECK_GENERATED, &[&gen, &reference], &[]);
    run_python(
        &python,
        project.path(),
        CHECK_GENERATED,
        &[&gen, &reference],
        &[("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", "python")],
    );
}

/// Imports the package `pkg.gen` from the current directory (which is not
/// on `sys.path` under any other name) and calls a service through it.
const CHECK_RELATIVE: &str = r##"
import concurrent.futures, pickle, sys
sys.path.insert(0, ".")
import grpc
from pkg.gen.shop.v1 import shop_pb2, shop_pb2_grpc
from pkg.gen import fibonacci_pb2, fibonacci_pb2_grpc, uses_kw_pb2
from pkg.gen.request_streaming_pb2 import Data, STARVED

# Nothing was imported as a top-level module.
for name in ("shop", "common", "legacy", "fibonacci_pb2", "request_streaming_pb2", "in"):
    assert name not in sys.modules, name

order = shop_pb2.Order(lines=[shop_pb2.Order.Line(price={"cents": 5})], tags=[shop_pb2.Tag(name="t")])
assert shop_pb2.Order.FromString(order.SerializeToString()) == order
assert shop_pb2.Order.__module__ == "pkg.gen.shop.v1.shop_pb2"
assert pickle.loads(pickle.dumps(order)) == order
assert type(order.lines[0].price).__module__ == "pkg.gen.common.money_pb2"
assert Data(status=STARVED).status == 3
assert uses_kw_pb2.Holder(kw={"word": "w"}).kw.word == "w"

class Fibonacci(fibonacci_pb2_grpc.FibonacciServicer):
    def AtIndex(self, request, context):
        return fibonacci_pb2.Number(value=request.value * 2)

server = grpc.server(concurrent.futures.ThreadPoolExecutor(max_workers=2))
fibonacci_pb2_grpc.add_FibonacciServicer_to_server(Fibonacci(), server)
port = server.add_insecure_port("127.0.0.1:0")
server.start()
try:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        assert fibonacci_pb2_grpc.FibonacciStub(channel).AtIndex(fibonacci_pb2.Number(value=21)).value == 42
finally:
    server.stop(None)
print("ok")
"##;

#[test]
fn relative_imports_make_the_output_a_package() {
    let project = project();
    let gen = project.path().join("pkg/gen");
    let mut files: Vec<&str> = SEEDS.to_vec();
    files.extend(COMPARED);
    let generated = generate_into(project.path(), &files, &Options::new().relative_imports(true), &gen);
    let text = |path: &str| {
        &generated.iter().find(|file| file.path == path).unwrap_or_else(|| panic!("{path} not generated")).content
    };
    let shop = text("shop/v1/shop_pb2.py");
    assert!(shop.contains("from ...common import money_pb2 as common_dot_money__pb2\n"));
    assert!(shop.contains("from . import tags_pb2 as shop_dot_v1_dot_tags__pb2\n"));
    assert!(shop.contains("from .tags_pb2 import *\n"));
    // The runtime's own modules stay absolute.
    assert!(shop.contains("from google.protobuf import timestamp_pb2 as google_dot_protobuf_dot_timestamp__pb2\n"));
    assert!(shop.contains("BuildTopDescriptorsAndMessages(DESCRIPTOR, __name__, _globals)"));
    assert!(text("fibonacci_pb2_grpc.py").contains("from . import fibonacci_pb2 as fibonacci__pb2\n"));
    assert!(text("shop/v1/shop_pb2.pyi").contains("from ...common import money_pb2 as _money_pb2\n"));
    assert!(text("uses_kw_pb2.py").contains("importlib.import_module('.in.kw_pb2', __package__)"));

    let Some(python) = venv_python() else { return };
    run_python(&python, project.path(), CHECK_RELATIVE, &[], &[]);
}

#[test]
fn files_come_in_order_with_protoc_paths() {
    let project = project();
    let files = python::generate(
        &["legacy/old-records.proto", "fibonacci.proto"],
        &[seeds_dir(), project.path().join("proto")],
        &Options::new(),
    )
    .unwrap();
    let listed: Vec<(Output, &str)> = files.iter().map(|f| (f.output, f.path.as_str())).collect();
    assert_eq!(
        listed,
        [
            (Output::Messages, "legacy/old_records_pb2.py"),
            (Output::TypeStubs, "legacy/old_records_pb2.pyi"),
            (Output::Grpc, "legacy/old_records_pb2_grpc.py"),
            (Output::Messages, "fibonacci_pb2.py"),
            (Output::TypeStubs, "fibonacci_pb2.pyi"),
            (Output::Grpc, "fibonacci_pb2_grpc.py"),
        ]
    );

    let only_grpc =
        python::generate(&["fibonacci.proto"], &[seeds_dir()], &Options::new().messages(false).type_stubs(false))
            .unwrap();
    assert_eq!(only_grpc.len(), 1);
    assert_eq!(only_grpc[0].output, Output::Grpc);
}

#[test]
fn grpc_module_matches_grpcio_tools_layout() {
    let files =
        python::generate(&["fibonacci.proto"], &[seeds_dir()], &Options::new().messages(false).type_stubs(false))
            .unwrap();
    let code = &files[0].content;
    for expected in [
        "import grpc\nimport warnings\n\nimport fibonacci_pb2 as fibonacci__pb2\n",
        "GRPC_GENERATED_VERSION = '1.64.0'\nGRPC_VERSION = grpc.__version__\n",
        "first_version_is_lower(GRPC_VERSION, GRPC_GENERATED_VERSION)",
        "class FibonacciStub:\n",
        "        self.AtIndex = channel.unary_unary(\n                '/fibonacci.Fibonacci/AtIndex',\n                request_serializer=fibonacci__pb2.Number.SerializeToString,\n                response_deserializer=fibonacci__pb2.Number.FromString,\n                _registered_method=True)\n",
        "self.GetSequence = channel.unary_stream(",
        "self.SumIndicies = channel.stream_unary(",
        "self.StreamSequence = channel.stream_stream(",
        "    def SumIndicies(self, request_iterator, context):\n",
        "        context.set_code(grpc.StatusCode.UNIMPLEMENTED)\n        context.set_details('Method not implemented!')\n        raise NotImplementedError('Method not implemented!')\n",
        "def add_FibonacciServicer_to_server(servicer, server):\n",
        "'StreamSequence': grpc.stream_stream_rpc_method_handler(",
        "generic_handler = grpc.method_handlers_generic_handler(\n            'fibonacci.Fibonacci', rpc_method_handlers)\n    server.add_generic_rpc_handlers((generic_handler,))\n    server.add_registered_method_handlers('fibonacci.Fibonacci', rpc_method_handlers)\n",
        " # This class is part of an EXPERIMENTAL API.\nclass Fibonacci:\n",
        "        return grpc.experimental.unary_unary(\n            request,\n            target,\n            '/fibonacci.Fibonacci/AtIndex',\n",
    ] {
        assert!(code.contains(expected), "`{expected}` not found in:\n{code}");
    }
}

#[test]
fn syntax_errors_read_file_line_column() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("broken.proto"), "syntax = \"proto3\";\nmessage A {\n  int32 x = ;\n}\n").unwrap();
    let error = python::generate(&["broken.proto"], &[dir.path()], &Options::new()).unwrap_err();
    assert!(error.to_string().starts_with("broken.proto:3:13: "), "{error}");

    let error = python::generate(&["absent.proto"], &[dir.path()], &Options::new()).unwrap_err();
    assert_eq!(error.to_string(), "absent.proto: file not found");
}

#[test]
fn python_keywords_cannot_name_rpcs() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("kw.proto"),
        "syntax = \"proto3\";\nmessage M {}\nservice S {\n  rpc Fine(M) returns (M);\n  rpc import(M) returns (M);\n}\n",
    )
    .unwrap();
    let error = python::generate(&["kw.proto"], &[dir.path()], &Options::new()).unwrap_err();
    let error = error.to_string();
    assert!(error.starts_with("kw.proto:5:3: rpc `import` is a Python keyword"), "{error}");
}

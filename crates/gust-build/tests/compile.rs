//! End to end: `.proto` files on disk, through protox and prost-build, to the
//! generated Rust text.

use std::{fs, path::Path};

use protox::prost::Message as _;
use tempfile::TempDir;

/// A service with one rpc of each kind, comments, a nested message and enum,
/// well-known types, an import from another package and a keyword rpc name.
const SHOP: &str = r#"syntax = "proto3";

package shop.v1;

import "google/protobuf/empty.proto";
import "google/protobuf/timestamp.proto";
import "common/money.proto";

message Order {
  // Where an order is in its life.
  enum State {
    STATE_UNKNOWN = 0;
    STATE_OPEN = 1;
  }
  message Line {
    string sku = 1;
    common.Money price = 2;
  }
  repeated Line lines = 1;
  State state = 2;
  google.protobuf.Timestamp placed_at = 3;
  bytes receipt = 4;
}

// Takes orders.
// Second line of the service comment.
service Orders {
  // Places one order.
  rpc PlaceOrder(Order) returns (Order);
  rpc WatchOrders(google.protobuf.Empty) returns (stream Order); // Streams every new order.
  rpc UploadLines(stream Order.Line) returns (common.Money);
  rpc Chat(stream Order) returns (stream Order);
  rpc Type(Order) returns (google.protobuf.Timestamp);
}

// Says whether the shop is open.
service Health {
  rpc check(google.protobuf.Empty) returns (google.protobuf.Empty);
}
"#;

const MONEY: &str = r#"syntax = "proto3";
package common;
message Money { int64 cents = 1; }
"#;

/// A temporary tree with `proto/` (the include directory) and `out/`.
struct Project {
    dir: TempDir,
}

impl Project {
    fn new(files: &[(&str, &str)]) -> Project {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join("proto").join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        Project { dir }
    }

    fn proto(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join("proto").join(name)
    }

    fn out(&self) -> std::path::PathBuf {
        self.dir.path().join("out")
    }

    fn builder(&self) -> gust_build::Builder {
        gust_build::configure().out_dir(self.out()).emit_rerun_if_changed(false)
    }

    fn compile(&self, builder: gust_build::Builder, name: &str) -> Result<(), gust_build::Error> {
        builder.compile(&[self.proto(name)], &[self.dir.path().join("proto")])
    }

    fn generated(&self, file: &str) -> String {
        fs::read_to_string(self.out().join(file)).unwrap()
    }
}

fn shop() -> Project {
    Project::new(&[("shop.proto", SHOP), ("common/money.proto", MONEY)])
}

fn assert_contains(code: &str, needle: &str) {
    assert!(code.contains(needle), "`{needle}` not found in:\n{code}");
}

#[test]
fn generates_one_file_per_package() {
    let project = shop();
    project.compile(project.builder(), "shop.proto").unwrap();
    let mut names: Vec<_> =
        fs::read_dir(project.out()).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    // Well-known types map to prost-types and get no file of their own.
    assert_eq!(names, ["common.rs", "shop.v1.rs"]);
}

#[test]
fn messages_come_from_prost() {
    let project = shop();
    project.compile(project.builder(), "shop.proto").unwrap();
    let code = project.generated("shop.v1.rs");
    assert_contains(&code, "pub struct Order {");
    assert_contains(&code, "pub mod order {");
    assert_contains(&code, "pub struct Line {");
    assert_contains(&code, "pub enum State {");
    assert_contains(&code, "::core::option::Option<::prost_types::Timestamp>");
    assert_contains(&code, "super::super::common::Money");
    assert_contains(&code, "pub receipt: ::prost::bytes::Bytes,");
}

#[test]
fn services_follow_rust_naming() {
    let project = shop();
    project.compile(project.builder(), "shop.proto").unwrap();
    let code = project.generated("shop.v1.rs");
    for item in [
        "pub trait Orders: ::core::marker::Send + ::core::marker::Sync + 'static {",
        "pub struct OrdersServer<T> {",
        "impl<T: Orders> ::gust::server::Service for OrdersServer<T> {",
        "pub struct OrdersClient {",
        "pub trait Health:",
        "pub struct HealthServer<T> {",
        "pub struct HealthClient {",
        "fn place_order(",
        "fn watch_orders(",
        "fn r#type(",
        "pub async fn check(",
    ] {
        assert_contains(&code, item);
    }
    assert_contains(&code, "\"shop.v1.Orders\"");
    assert_contains(&code, "\"shop.v1.Health\"");
}

#[test]
fn wire_paths_keep_proto_names() {
    let project = shop();
    project.compile(project.builder(), "shop.proto").unwrap();
    let code = project.generated("shop.v1.rs");
    for (arm, path) in [
        ("\"PlaceOrder\" =>", "\"/shop.v1.Orders/PlaceOrder\""),
        ("\"WatchOrders\" =>", "\"/shop.v1.Orders/WatchOrders\""),
        ("\"UploadLines\" =>", "\"/shop.v1.Orders/UploadLines\""),
        ("\"Chat\" =>", "\"/shop.v1.Orders/Chat\""),
        ("\"Type\" =>", "\"/shop.v1.Orders/Type\""),
        ("\"check\" =>", "\"/shop.v1.Health/check\""),
    ] {
        assert_contains(&code, arm);
        assert_contains(&code, path);
    }
}

#[test]
fn each_kind_uses_its_runtime_entry_point() {
    let project = shop();
    project.compile(project.builder(), "shop.proto").unwrap();
    // prettyplease reflows the code; compare without whitespace.
    let code: String = project.generated("shop.v1.rs").split_whitespace().collect();
    for needle in [
        // Server side.
        "call.unary(move|request:::gust::Request<Order>|asyncmove{inner.place_order(request).await})",
        "call.server_streaming(move|request:::gust::Request<()>,responses:::gust::ResponseSink<Order>|",
        "call.client_streaming(move|requests:::gust::Request<::gust::Streaming<order::Line>>|",
        "call.bidi_streaming(move|requests:::gust::Request<::gust::Streaming<Order>>,responses:::gust::ResponseSink<Order>|",
        // Client side.
        "request:impl::gust::IntoRequest<Order>,)->::core::result::Result<::gust::Response<Order>,::gust::Status>",
        "request:impl::gust::IntoRequest<()>,)->::core::result::Result<::gust::Streaming<Order>,::gust::Status>",
        "requests:impl::gust::IntoStreamingRequest<Message=order::Line>,)->::core::result::Result<::gust::Response<super::super::common::Money>,::gust::Status,>",
        ".bidi_streaming(\"/shop.v1.Orders/Chat\",requests.into_streaming_request())",
        // Well-known types in signatures.
        "::core::result::Result<::prost_types::Timestamp,::gust::Status>",
    ] {
        assert_contains(&code, needle);
    }
}

#[test]
fn comments_become_doc_comments() {
    let project = shop();
    project.compile(project.builder(), "shop.proto").unwrap();
    let code = project.generated("shop.v1.rs");
    assert_contains(&code, "/// Takes orders.\n/// Second line of the service comment.\n///\n/// Implement this trait");
    assert_contains(
        &code,
        "/// Takes orders.\n/// Second line of the service comment.\n///\n/// Client for `shop.v1.Orders`.",
    );
    assert_contains(&code, "    /// Places one order.\n    fn place_order(");
    assert_contains(&code, "    /// Places one order.\n    pub async fn place_order(");
    assert_contains(&code, "    /// Streams every new order.\n    fn watch_orders(");
    assert_contains(&code, "/// Where an order is in its life.");
}

#[test]
fn server_or_client_can_be_left_out() {
    let project = shop();
    project.compile(project.builder().build_client(false), "shop.proto").unwrap();
    let code = project.generated("shop.v1.rs");
    assert_contains(&code, "pub struct OrdersServer<T>");
    assert!(!code.contains("OrdersClient"));

    let project = shop();
    project.compile(project.builder().build_server(false), "shop.proto").unwrap();
    let code = project.generated("shop.v1.rs");
    assert_contains(&code, "pub struct OrdersClient");
    assert!(!code.contains("pub trait Orders"));
    assert!(!code.contains("OrdersServer"));

    let project = shop();
    let builder = project.builder().build_server(false).build_client(false);
    project.compile(builder, "shop.proto").unwrap();
    let code = project.generated("shop.v1.rs");
    assert_contains(&code, "pub struct Order {");
    assert!(!code.contains("::gust::"));
}

#[test]
fn empty_package_goes_to_underscore_file() {
    let project = Project::new(&[(
        "plain.proto",
        "syntax = \"proto3\";\nmessage M {}\nservice Plain { rpc Do(M) returns (M); }\n",
    )]);
    project.compile(project.builder(), "plain.proto").unwrap();
    let code = project.generated("_.rs");
    assert_contains(&code, "\"Plain\"");
    assert_contains(&code, "\"/Plain/Do\"");
}

#[test]
fn descriptor_set_is_written_relative_to_out_dir() {
    let project = shop();
    let builder = project.builder().file_descriptor_set_path("shop_descriptor.bin");
    project.compile(builder, "shop.proto").unwrap();
    let bytes = fs::read(project.out().join("shop_descriptor.bin")).unwrap();
    let set = prost_types::FileDescriptorSet::decode(bytes.as_slice()).unwrap();
    let names: Vec<&str> = set.file.iter().map(|file| file.name()).collect();
    assert!(names.contains(&"shop.proto"), "{names:?}");
    assert!(names.contains(&"google/protobuf/timestamp.proto"), "{names:?}");
}

#[test]
fn packages_with_services_embed_their_descriptors() {
    let project = shop();
    project.compile(project.builder().build_server(false).build_client(false), "shop.proto").unwrap();
    assert_contains(&project.generated("shop.v1.rs"), "pub const FILE_DESCRIPTOR_SET: &[u8] = b\"");
    // A package without services is described by the sets that import it.
    assert!(!project.generated("common.rs").contains("FILE_DESCRIPTOR_SET"));
}

#[test]
fn syntax_error_reports_file_line_and_column() {
    let project = Project::new(&[("bad.proto", "syntax = \"proto3\";\n\nmessage A {\n  int32 x = ;\n}\n")]);
    let error = project.compile(project.builder(), "bad.proto").unwrap_err();
    let message = error.to_string();
    assert!(message.starts_with("bad.proto:4:13: "), "{message}");
    // Nothing half-written.
    assert!(!project.out().exists());
}

#[test]
fn undefined_type_reports_file_line_and_column() {
    let project = Project::new(&[("undefined.proto", "syntax = \"proto3\";\nmessage A {\n  Missing x = 1;\n}\n")]);
    let error = project.compile(project.builder(), "undefined.proto").unwrap_err();
    let message = error.to_string();
    assert!(message.starts_with("undefined.proto:3:3: "), "{message}");
    assert!(message.contains("Missing"), "{message}");
}

#[test]
fn missing_import_is_reported_at_the_import() {
    let project = Project::new(&[("imports.proto", "syntax = \"proto3\";\nimport \"absent.proto\";\n")]);
    let error = project.compile(project.builder(), "imports.proto").unwrap_err();
    let message = error.to_string();
    assert!(message.starts_with("imports.proto:2:1: "), "{message}");
    assert!(message.contains("absent.proto"), "{message}");
}

#[test]
fn missing_file_is_reported_as_missing() {
    let project = shop();
    let error = project.compile(project.builder(), "nowhere.proto").unwrap_err();
    let message = error.to_string();
    assert!(message.ends_with("nowhere.proto: file not found"), "{message}");
}

#[test]
fn rpc_clashing_with_client_constructor_is_rejected() {
    let proto = "syntax = \"proto3\";\nmessage M {}\nservice Net {\n  rpc Connect(M) returns (M);\n}\n";
    let project = Project::new(&[("net.proto", proto)]);
    let error = project.compile(project.builder(), "net.proto").unwrap_err();
    let message = error.to_string();
    assert!(message.starts_with("net.proto:4:3: rpc `Connect`"), "{message}");
    assert!(!project.out().exists());

    // Without a client there is nothing to clash with.
    project.compile(project.builder().build_client(false), "net.proto").unwrap();
    assert_contains(&project.generated("_.rs"), "fn connect(");
}

#[test]
fn protos_can_be_named_relative_to_an_include() {
    let project = shop();
    let include = project.dir.path().join("proto");
    project.builder().include(&include).compile(&[Path::new("shop.proto")], &[] as &[&Path]).unwrap();
    assert_contains(&project.generated("shop.v1.rs"), "pub trait Orders");
}

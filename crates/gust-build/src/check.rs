//! Checks that run on the parsed descriptors before any code is written, for
//! protos that are valid protobuf but would generate Rust that cannot compile.

use heck::ToSnakeCase;
use prost_types::{FileDescriptorProto, FileDescriptorSet};

use crate::{client, Error};

/// Field numbers in `FileDescriptorProto` and `ServiceDescriptorProto`, used
/// to find an rpc's position in `SourceCodeInfo` (descriptor.proto).
const FILE_SERVICE_FIELD: i32 = 6;
const SERVICE_METHOD_FIELD: i32 = 2;

/// Rejects an rpc whose client method would take the name of one of the
/// client's own methods (`Connect` would become a second `connect`).
///
/// prost-build names methods with heck's snake case, so the same conversion
/// here predicts its output exactly.
pub(crate) fn client_method_names(files: &FileDescriptorSet) -> Result<(), Error> {
    for file in &files.file {
        for (service_index, service) in file.service.iter().enumerate() {
            for (method_index, method) in service.method.iter().enumerate() {
                let rust_name = method.name().to_snake_case();
                if client::RESERVED_METHOD_NAMES.contains(&rust_name.as_str()) {
                    let at = location(
                        file,
                        &[FILE_SERVICE_FIELD, service_index as i32, SERVICE_METHOD_FIELD, method_index as i32],
                    );
                    return Err(Error::unsupported(format!(
                        "{at}: rpc `{rpc}` would generate the client method `{rust_name}`, \
                         which every gust client already has; rename the rpc",
                        rpc = method.name(),
                    )));
                }
            }
        }
    }
    Ok(())
}

/// `file:line:column` of the element at `path`, or just `file` when the
/// descriptor carries no source info for it.
fn location(file: &FileDescriptorProto, path: &[i32]) -> String {
    let span = file
        .source_code_info
        .iter()
        .flat_map(|info| &info.location)
        .find(|location| location.path == path)
        .map(|location| &location.span);
    match span {
        // Spans are zero-based; people count lines and columns from one.
        Some(span) if span.len() >= 2 => format!("{}:{}:{}", file.name(), span[0] + 1, span[1] + 1),
        _ => file.name().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost_types::{MethodDescriptorProto, ServiceDescriptorProto, SourceCodeInfo};

    fn file_with_rpc(name: &str) -> FileDescriptorProto {
        FileDescriptorProto {
            name: Some("svc.proto".to_owned()),
            service: vec![ServiceDescriptorProto {
                name: Some("Svc".to_owned()),
                method: vec![
                    MethodDescriptorProto { name: Some("Fine".to_owned()), ..Default::default() },
                    MethodDescriptorProto { name: Some(name.to_owned()), ..Default::default() },
                ],
                ..Default::default()
            }],
            source_code_info: Some(SourceCodeInfo {
                location: vec![prost_types::source_code_info::Location {
                    path: vec![6, 0, 2, 1],
                    span: vec![4, 2, 40],
                    ..Default::default()
                }],
            }),
            ..Default::default()
        }
    }

    #[test]
    fn ordinary_names_pass() {
        let files = FileDescriptorSet { file: vec![file_with_rpc("Connection")] };
        assert!(client_method_names(&files).is_ok());
    }

    #[test]
    fn constructor_names_are_rejected_with_their_location() {
        for name in ["Connect", "new", "CLONE"] {
            let files = FileDescriptorSet { file: vec![file_with_rpc(name)] };
            let error = client_method_names(&files).unwrap_err().to_string();
            assert!(error.starts_with("svc.proto:5:3: rpc `"), "{error}");
        }
    }

    #[test]
    fn location_falls_back_to_the_file() {
        let mut file = file_with_rpc("Connect");
        file.source_code_info = None;
        let error = client_method_names(&FileDescriptorSet { file: vec![file] }).unwrap_err();
        assert!(error.to_string().starts_with("svc.proto: rpc `Connect`"));
    }
}

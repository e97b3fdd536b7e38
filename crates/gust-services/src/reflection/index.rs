//! What reflection looks things up in: the registered files by name, and
//! where each symbol and extension is defined.

use std::collections::{BTreeSet, HashMap};

use prost::bytes::Bytes;
use prost::Message as _;
use prost_types::{DescriptorProto, FieldDescriptorProto, FileDescriptorProto, FileDescriptorSet};

/// The registered `.proto` files, indexed for the reflection queries.
#[derive(Debug, Default)]
pub(crate) struct Index {
    files: HashMap<String, File>,
    /// Fully qualified name (no leading dot) of every service, method,
    /// message, field, oneof, enum, enum value and extension, with the name
    /// of the file defining it.
    symbols: HashMap<String, String>,
    /// Every message type, with the field numbers of its known extensions.
    extension_numbers: HashMap<String, BTreeSet<i32>>,
    /// The file defining each extension, by extended message and number.
    extensions: HashMap<(String, i32), String>,
    /// The fully qualified names of the services, sorted.
    services: BTreeSet<String>,
}

/// One file: what reflection sends, and what else it must send with it.
#[derive(Debug)]
pub(crate) struct File {
    /// The encoded `FileDescriptorProto`, shared by every response that sends it.
    pub(crate) encoded: Bytes,
    /// The names of the files it imports.
    pub(crate) dependencies: Vec<String>,
}

impl Index {
    /// Adds the files of an encoded `FileDescriptorSet`. A file already
    /// present by name is kept as it was: modules generated from one build
    /// share their imports, and the first copy describes them as well.
    pub(crate) fn add_encoded_set(&mut self, encoded: &[u8]) -> Result<(), prost::DecodeError> {
        for file in FileDescriptorSet::decode(encoded)?.file {
            if !self.files.contains_key(file.name()) {
                self.add_file(file);
            }
        }
        Ok(())
    }

    fn add_file(&mut self, file: FileDescriptorProto) {
        let name = file.name().to_owned();
        let scope = file.package().to_owned();
        for message in &file.message_type {
            self.add_message(&name, &scope, message);
        }
        for enumeration in &file.enum_type {
            self.add_enum(&name, &scope, enumeration);
        }
        for extension in &file.extension {
            self.add_extension(&name, &scope, extension);
        }
        for service in &file.service {
            let service_name = qualify(&scope, service.name());
            for method in &service.method {
                self.add_symbol(&name, qualify(&service_name, method.name()));
            }
            self.services.insert(service_name.clone());
            self.add_symbol(&name, service_name);
        }
        let dependencies = file.dependency.clone();
        self.files.insert(name, File { encoded: file.encode_to_vec().into(), dependencies });
    }

    fn add_message(&mut self, file: &str, scope: &str, message: &DescriptorProto) {
        let message_name = qualify(scope, message.name());
        self.extension_numbers.entry(message_name.clone()).or_default();
        for field in &message.field {
            self.add_symbol(file, qualify(&message_name, field.name()));
        }
        for oneof in &message.oneof_decl {
            self.add_symbol(file, qualify(&message_name, oneof.name()));
        }
        for nested in &message.nested_type {
            self.add_message(file, &message_name, nested);
        }
        for enumeration in &message.enum_type {
            self.add_enum(file, &message_name, enumeration);
        }
        for extension in &message.extension {
            self.add_extension(file, &message_name, extension);
        }
        self.add_symbol(file, message_name);
    }

    /// An enum, and its values: these are siblings of the enum in its scope
    /// (C++ scoping), so `pkg.Color.RED` is named `pkg.RED`.
    fn add_enum(&mut self, file: &str, scope: &str, enumeration: &prost_types::EnumDescriptorProto) {
        for value in &enumeration.value {
            self.add_symbol(file, qualify(scope, value.name()));
        }
        self.add_symbol(file, qualify(scope, enumeration.name()));
    }

    fn add_extension(&mut self, file: &str, scope: &str, extension: &FieldDescriptorProto) {
        // Resolved type names are absolute, with a leading dot.
        let extended = extension.extendee().trim_start_matches('.').to_owned();
        self.extension_numbers.entry(extended.clone()).or_default().insert(extension.number());
        self.extensions.entry((extended, extension.number())).or_insert_with(|| file.to_owned());
        self.add_symbol(file, qualify(scope, extension.name()));
    }

    fn add_symbol(&mut self, file: &str, symbol: String) {
        self.symbols.entry(symbol).or_insert_with(|| file.to_owned());
    }

    pub(crate) fn file(&self, name: &str) -> Option<&File> {
        self.files.get(name)
    }

    /// The name of the file defining `symbol`.
    pub(crate) fn file_containing_symbol(&self, symbol: &str) -> Option<&str> {
        self.symbols.get(symbol).map(String::as_str)
    }

    /// The name of the file defining extension `number` of `message`.
    pub(crate) fn file_containing_extension(&self, message: &str, number: i32) -> Option<&str> {
        self.extensions.get(&(message.to_owned(), number)).map(String::as_str)
    }

    /// The known extension numbers of `message` (in increasing order), or
    /// `None` when no such message type is known.
    pub(crate) fn extension_numbers(&self, message: &str) -> Option<&BTreeSet<i32>> {
        self.extension_numbers.get(message)
    }

    pub(crate) fn services(&self) -> impl Iterator<Item = &str> {
        self.services.iter().map(String::as_str)
    }
}

/// `scope.name`, or `name` in the empty scope (a file without package).
fn qualify(scope: &str, name: &str) -> String {
    if scope.is_empty() {
        name.to_owned()
    } else {
        format!("{scope}.{name}")
    }
}

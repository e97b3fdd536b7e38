//! How `.proto` file names become Python module names, import aliases, file
//! paths and import statements.
//!
//! The names follow the layout every protobuf Python user already has:
//! `pkg/x-y.proto` is the module `pkg.x_y_pb2`, written to `pkg/x_y_pb2.py`
//! and imported by other generated modules under the alias
//! `pkg_dot_x__y__pb2`. Keeping these names means code written against
//! protoc's output (including code that reaches for the aliases) runs on ours.

use crate::Error;

/// Python's hard keywords: names that cannot be used as identifiers. (Soft
/// keywords such as `match` and `type` are ordinary identifiers.)
pub(crate) const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
    "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
    "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
];

/// Whether `name` cannot be written as a Python identifier because it is a
/// keyword.
pub(crate) fn is_keyword(name: &str) -> bool {
    KEYWORDS.contains(&name)
}

/// The module a `.proto` file generates: `pkg/x-y.proto` → `pkg.x_y_pb2`.
pub(crate) fn module_name(proto: &str) -> String {
    let stem = proto.strip_suffix(".protodevel").or_else(|| proto.strip_suffix(".proto")).unwrap_or(proto);
    format!("{}_pb2", stem.replace('-', "_").replace('/', "."))
}

/// The name under which generated code binds an imported module: dots become
/// `_dot_` and underscores are doubled first, so that `a.b` and `a_dot_b`
/// cannot collide. `pkg/x.proto` → `pkg_dot_x__pb2`.
pub(crate) fn module_alias(proto: &str) -> String {
    module_name(proto).replace('_', "__").replace('.', "_dot_")
}

/// The path of a generated file relative to its output directory, always
/// with `/`: `pkg/x.proto` with suffix `_grpc.py` → `pkg/x_pb2_grpc.py`.
pub(crate) fn file_path(proto: &str, suffix: &str) -> String {
    format!("{}{suffix}", module_name(proto).replace('.', "/"))
}

/// Whether `module` is usable in an import statement: every dotted
/// component is an ASCII identifier.
fn is_valid_module_name(module: &str) -> bool {
    module.split('.').all(|component| {
        let mut chars = component.chars();
        matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// Rejects a file whose module name, or that of one of its imports, could not
/// appear in a Python import: `my.file.proto` is fine (`my.file_pb2`),
/// `3d/model.proto` is not.
pub(crate) fn check_module_names<'a>(file: &'a str, imports: impl IntoIterator<Item = &'a str>) -> Result<(), Error> {
    for proto in std::iter::once(file).chain(imports) {
        let module = module_name(proto);
        if !is_valid_module_name(&module) {
            return Err(Error::unsupported(format!(
                "{proto}: cannot generate Python for this file: its name gives the module \
                 `{module}`, which is not a valid Python module name"
            )));
        }
    }
    Ok(())
}

/// Files whose modules ship with the protobuf runtime (`google.protobuf.*`,
/// the well-known types) rather than being generated next to the user's: they
/// are always imported absolutely.
pub(crate) fn is_runtime_module(proto: &str) -> bool {
    proto.starts_with("google/protobuf/")
}

/// Writes the import statements of one generated module.
///
/// With `relative` set, modules generated from the user's files are imported
/// relative to the importing module's package (`from . import y_pb2`,
/// `from ..common import money_pb2`), so that the output directory can be a
/// package anywhere in a project rather than having to sit on `sys.path`.
pub(crate) struct Importer {
    /// The package of the importing module, split on dots (`["pkg", "v1"]`
    /// for `pkg.v1.x_pb2`; empty at the top of the output directory).
    package: Vec<String>,
    /// Emit package-relative imports for generated modules.
    relative: bool,
}

impl Importer {
    /// An importer for the module generated from `proto`.
    pub(crate) fn new(proto: &str, relative: bool) -> Importer {
        let module = module_name(proto);
        let mut package: Vec<String> = module.split('.').map(str::to_owned).collect();
        package.pop();
        Importer { package, relative }
    }

    /// Whether `proto`'s module is imported relatively.
    fn is_relative(&self, proto: &str) -> bool {
        self.relative && !is_runtime_module(proto)
    }

    /// `(package, name)` to import the module of `proto` as
    /// `from <package> import <name>`; `package` is empty for a top-level
    /// module imported absolutely.
    fn split(&self, proto: &str) -> (String, String) {
        let module = module_name(proto);
        let mut parts: Vec<&str> = module.split('.').collect();
        let name = parts.pop().unwrap_or_default().to_owned();
        if !self.is_relative(proto) {
            return (parts.join("."), name);
        }
        // Climb from the importing package to the longest common prefix,
        // then descend: one dot is the importing module's own package.
        let common = self.package.iter().zip(&parts).take_while(|(a, b)| a.as_str() == **b).count();
        let dots = ".".repeat(1 + self.package.len() - common);
        (format!("{dots}{}", parts[common..].join(".")), name)
    }

    /// The statement binding `alias` to the module of `proto`:
    /// `from common import money_pb2 as common_dot_money__pb2`.
    ///
    /// A module path containing a Python keyword (`pkg/in/x.proto`) cannot
    /// appear in an import statement, so it is imported by name through
    /// `importlib` instead; `needs_importlib` is set when that happens.
    pub(crate) fn import_as(&self, proto: &str, alias: &str, needs_importlib: &mut bool) -> String {
        let (package, name) = self.split(proto);
        let has_keyword = module_name(proto).split('.').any(is_keyword);
        if has_keyword {
            *needs_importlib = true;
            let dotted = if package.ends_with('.') || package.is_empty() {
                format!("{package}{name}")
            } else {
                format!("{package}.{name}")
            };
            if self.is_relative(proto) {
                format!("{alias} = importlib.import_module('{dotted}', __package__)")
            } else {
                format!("{alias} = importlib.import_module('{dotted}')")
            }
        } else if package.is_empty() {
            format!("import {name} as {alias}")
        } else {
            format!("from {package} import {name} as {alias}")
        }
    }

    /// The module path to use in `from <path> import ...` for the module of
    /// `proto` itself: `common.money_pb2`, or `..common.money_pb2`.
    pub(crate) fn module_path(&self, proto: &str) -> String {
        let (package, name) = self.split(proto);
        if package.is_empty() || package.ends_with('.') {
            format!("{package}{name}")
        } else {
            format!("{package}.{name}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names_follow_protoc() {
        assert_eq!(module_name("fibonacci.proto"), "fibonacci_pb2");
        assert_eq!(module_name("pkg/x-y.proto"), "pkg.x_y_pb2");
        assert_eq!(module_alias("pkg/x-y.proto"), "pkg_dot_x__y__pb2");
        assert_eq!(module_alias("google/protobuf/timestamp.proto"), "google_dot_protobuf_dot_timestamp__pb2");
        assert_eq!(file_path("pkg/x.proto", ".py"), "pkg/x_pb2.py");
        assert_eq!(file_path("a/b.c.proto", "_grpc.py"), "a/b/c_pb2_grpc.py");
    }

    #[test]
    fn invalid_module_names_are_rejected() {
        assert!(check_module_names("ok/file.proto", ["google/protobuf/empty.proto"]).is_ok());
        let error = check_module_names("ok.proto", ["3d/model.proto"]).unwrap_err();
        assert!(error.to_string().starts_with("3d/model.proto: "), "{error}");
    }

    #[test]
    fn absolute_imports() {
        let importer = Importer::new("shop/v1/shop.proto", false);
        let mut importlib = false;
        assert_eq!(
            importer.import_as("common/money.proto", "common_dot_money__pb2", &mut importlib),
            "from common import money_pb2 as common_dot_money__pb2"
        );
        assert_eq!(importer.import_as("top.proto", "top__pb2", &mut importlib), "import top_pb2 as top__pb2");
        assert!(!importlib);
        assert_eq!(importer.module_path("shop/v1/tags.proto"), "shop.v1.tags_pb2");
    }

    #[test]
    fn relative_imports_climb_to_the_common_package() {
        let importer = Importer::new("shop/v1/shop.proto", true);
        let mut importlib = false;
        let import = |proto| importer.import_as(proto, "m", &mut false);
        assert_eq!(import("shop/v1/tags.proto"), "from . import tags_pb2 as m");
        assert_eq!(import("shop/other.proto"), "from .. import other_pb2 as m");
        assert_eq!(import("common/money.proto"), "from ...common import money_pb2 as m");
        assert_eq!(import("top.proto"), "from ... import top_pb2 as m");
        assert_eq!(import("shop/v1/sub/x.proto"), "from .sub import x_pb2 as m");
        assert_eq!(import("google/protobuf/timestamp.proto"), "from google.protobuf import timestamp_pb2 as m");
        assert_eq!(importer.module_path("shop/v1/tags.proto"), ".tags_pb2");
        assert_eq!(importer.module_path("common/money.proto"), "...common.money_pb2");
        let top = Importer::new("top.proto", true);
        assert_eq!(top.import_as("pkg/x.proto", "m", &mut importlib), "from .pkg import x_pb2 as m");
        assert_eq!(top.import_as("y.proto", "m", &mut importlib), "from . import y_pb2 as m");
    }

    #[test]
    fn keyword_modules_go_through_importlib() {
        let mut importlib = false;
        let absolute = Importer::new("x.proto", false);
        assert_eq!(
            absolute.import_as("a/in/y.proto", "m", &mut importlib),
            "m = importlib.import_module('a.in.y_pb2')"
        );
        assert!(importlib);
        let relative = Importer::new("x.proto", true);
        assert_eq!(
            relative.import_as("a/in/y.proto", "m", &mut importlib),
            "m = importlib.import_module('.a.in.y_pb2', __package__)"
        );
    }
}

//! Comments from the `.proto` file, turned into Python docstrings.

use std::collections::HashMap;

use protox::prost_reflect::FileDescriptor;

/// The comments of one file, by the descriptor path of the element they
/// belong to (`[6, 0]` is the first service, `[6, 0, 2, 1]` its second rpc).
pub(crate) struct Comments {
    by_path: HashMap<Vec<i32>, Vec<String>>,
    /// Spans by path: zero-based start line and column, then end line and
    /// column (columns are byte offsets within the line, as protox counts).
    spans: HashMap<Vec<i32>, [i32; 4]>,
}

impl Comments {
    pub(crate) fn new(file: &FileDescriptor) -> Comments {
        let mut by_path = HashMap::new();
        let mut spans = HashMap::new();
        let locations = file.file_descriptor_proto().source_code_info.iter().flat_map(|info| &info.location);
        for location in locations {
            // Three numbers when the element starts and ends on one line.
            let span = match location.span[..] {
                [line, start, end] => Some([line, start, line, end]),
                [line, start, end_line, end] => Some([line, start, end_line, end]),
                _ => None,
            };
            if let Some(span) = span {
                spans.entry(location.path.clone()).or_insert(span);
            }
            // Like grpcio-tools: each detached block followed by a blank line,
            // then the leading comment, then the trailing one.
            let mut lines = Vec::new();
            for detached in &location.leading_detached_comments {
                lines.extend(split_lines(detached));
                lines.push(String::new());
            }
            lines.extend(split_lines(location.leading_comments()));
            lines.extend(split_lines(location.trailing_comments()));
            by_path.entry(location.path.clone()).or_insert(lines);
        }
        Comments { by_path, spans }
    }

    /// The comment lines of the element at `path`, each without the single
    /// space that usually follows `//`; empty when it has none.
    pub(crate) fn lines(&self, path: &[i32]) -> &[String] {
        self.by_path.get(path).map(Vec::as_slice).unwrap_or(&[])
    }

    /// `file:line:column` of the element at `path`, or `file` when unknown.
    pub(crate) fn location(&self, file: &str, path: &[i32]) -> String {
        match self.spans.get(path) {
            // Spans are zero-based; people count from one.
            Some([line, column, ..]) => format!("{file}:{}:{}", line + 1, column + 1),
            None => file.to_owned(),
        }
    }

    /// The last byte of the element at `path` in `source`, the text of the
    /// file these comments come from.
    pub(crate) fn last_byte(&self, path: &[i32], source: &str) -> Option<u8> {
        let [_, _, line, column] = *self.spans.get(path)?;
        let line_start = source.split_inclusive('\n').take(usize::try_from(line).ok()?).map(str::len).sum::<usize>();
        let end = line_start + usize::try_from(column).ok()?;
        source.as_bytes().get(end.checked_sub(1)?).copied()
    }
}

/// Splits a comment into lines, dropping the newline that ends the last one
/// and the leading spaces of each.
fn split_lines(comment: &str) -> impl Iterator<Item = String> + '_ {
    comment
        .strip_suffix('\n')
        .unwrap_or(comment)
        .split('\n')
        .filter(move |_| !comment.is_empty())
        .map(|line| line.trim_end_matches('\r').trim_start_matches(' ').to_owned())
}

/// A docstring holding `lines`, indented for a body at `indent`, followed by
/// a newline. With no lines it says so, the way grpcio-tools does, since a
/// class or function needs a body anyway.
///
/// The text is escaped, so a comment containing `"""` or a backslash cannot
/// end the string early or turn into an escape sequence.
pub(crate) fn docstring(lines: &[String], indent: &str) -> String {
    if lines.is_empty() {
        return format!("{indent}\"\"\"Missing associated documentation comment in .proto file.\"\"\"\n");
    }
    let mut out = format!("{indent}\"\"\"");
    for (i, line) in lines.iter().enumerate() {
        if i > 0 && !line.is_empty() {
            out.push_str(indent);
        }
        out.push_str(&escape(line));
        out.push('\n');
    }
    out.push_str(indent);
    out.push_str("\"\"\"\n");
    out
}

/// `text` made safe inside a `"""` string.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace("\"\"\"", "\\\"\\\"\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_trimmed_like_grpcio_tools() {
        let lines: Vec<_> = split_lines(" Takes orders.\n   Indented.\n\n").collect();
        assert_eq!(lines, ["Takes orders.", "Indented.", ""]);
        assert_eq!(split_lines("").count(), 0);
    }

    #[test]
    fn docstrings() {
        let lines = vec!["Takes orders.".to_owned(), String::new(), "More.".to_owned()];
        assert_eq!(docstring(&lines, "    "), "    \"\"\"Takes orders.\n\n    More.\n    \"\"\"\n");
        assert_eq!(docstring(&[], "  "), "  \"\"\"Missing associated documentation comment in .proto file.\"\"\"\n");
    }

    #[test]
    fn docstrings_are_escaped() {
        let lines = vec![r#"a """b""" \n"#.to_owned()];
        assert_eq!(docstring(&lines, ""), "\"\"\"a \\\"\\\"\\\"b\\\"\\\"\\\" \\\\n\n\"\"\"\n");
    }
}

//! The little Markdown the spec's descriptions are written in, rendered to HTML for
//! the API reference: paragraphs, `-`/`1.` lists (with indented continuation lines),
//! fenced code blocks, `#` headings, and inline `code`, **bold**, *emphasis* and
//! links to this site. Everything else is text, escaped.

use maud::{Markup, PreEscaped};

/// HTML-escapes text.
fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

/// Inline spans of one block of text.
fn inline(s: &str, out: &mut String) {
    let mut rest = s;
    while !rest.is_empty() {
        // `code`: taken literally.
        if let Some(after) = rest.strip_prefix('`') {
            if let Some(end) = after.find('`') {
                out.push_str("<code>");
                escape(&after[..end], out);
                out.push_str("</code>");
                rest = &after[end + 1..];
                continue;
            }
        }
        if let Some(after) = rest.strip_prefix("**") {
            if let Some(end) = after.find("**").filter(|&e| e > 0) {
                out.push_str("<strong>");
                inline(&after[..end], out);
                out.push_str("</strong>");
                rest = &after[end + 2..];
                continue;
            }
        }
        if let Some(after) = rest.strip_prefix('[') {
            if let Some((text, url, used)) = link(after) {
                if url.starts_with('/') || url.starts_with('#') {
                    out.push_str("<a href=\"");
                    escape(url, out);
                    out.push_str("\">");
                    inline(text, out);
                    out.push_str("</a>");
                } else {
                    // Other hosts are named, never linked (the pages fetch nothing elsewhere).
                    inline(text, out);
                    out.push_str(" (");
                    escape(url, out);
                    out.push(')');
                }
                rest = &after[used..];
                continue;
            }
        }
        if let Some(after) = rest.strip_prefix('*') {
            let closes = after
                .find('*')
                .filter(|&e| e > 0 && !after.starts_with(' ') && !after[..e].ends_with(' '));
            if let Some(end) = closes {
                out.push_str("<em>");
                inline(&after[..end], out);
                out.push_str("</em>");
                rest = &after[end + 1..];
                continue;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        escape(&rest[..c.len_utf8()], out);
        rest = &rest[c.len_utf8()..];
    }
}

/// `text](url)…` → (text, url, bytes used after the opening bracket).
fn link(after: &str) -> Option<(&str, &str, usize)> {
    let close = after.find("](")?;
    let text = &after[..close];
    if text.contains('\n') {
        return None;
    }
    let tail = &after[close + 2..];
    let end = tail.find(')')?;
    let url = &tail[..end];
    if url.contains(char::is_whitespace) {
        return None;
    }
    Some((text, url, close + 2 + end + 1))
}

enum Block {
    Para(Vec<String>),
    List {
        ordered: bool,
        items: Vec<Vec<String>>,
    },
    Code(Vec<String>),
    Heading(String),
}

/// A list marker: `- x`, `* x` or `12. x` → (ordered, x).
fn list_item(line: &str) -> Option<(bool, &str)> {
    let t = line.trim_start();
    if let Some(x) = t.strip_prefix("- ").or_else(|| t.strip_prefix("* ")) {
        return Some((false, x));
    }
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 {
        if let Some(x) = t[digits..].strip_prefix(". ") {
            return Some((true, x));
        }
    }
    None
}

fn blocks(src: &str) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut in_code = false;
    for line in src.lines() {
        if line.trim_start().starts_with("```") {
            if in_code {
                in_code = false;
            } else {
                in_code = true;
                out.push(Block::Code(Vec::new()));
            }
            continue;
        }
        if in_code {
            if let Some(Block::Code(lines)) = out.last_mut() {
                lines.push(line.to_owned());
            }
            continue;
        }
        let blank = line.trim().is_empty();
        if blank {
            // A blank line ends a paragraph; a list goes on if an item follows.
            if let Some(Block::Para(_)) = out.last() {
                out.push(Block::Para(Vec::new()));
            }
            continue;
        }
        if let Some(h) = line.strip_prefix('#') {
            out.push(Block::Heading(h.trim_start_matches('#').trim().to_owned()));
            continue;
        }
        if let Some((ordered, text)) = list_item(line) {
            match out.last_mut() {
                Some(Block::List { ordered: o, items }) if *o == ordered => {
                    items.push(vec![text.to_owned()])
                }
                _ => out.push(Block::List {
                    ordered,
                    items: vec![vec![text.to_owned()]],
                }),
            }
            continue;
        }
        let indented = line.starts_with(' ') || line.starts_with('\t');
        match out.last_mut() {
            Some(Block::List { items, .. }) if indented => {
                if let Some(item) = items.last_mut() {
                    item.push(line.trim().to_owned());
                }
            }
            Some(Block::Para(lines)) => lines.push(line.trim().to_owned()),
            _ => out.push(Block::Para(vec![line.trim().to_owned()])),
        }
    }
    out
}

/// Renders `src` as HTML blocks.
pub fn render(src: &str) -> Markup {
    let mut out = String::new();
    for block in blocks(src) {
        match block {
            Block::Para(lines) if lines.is_empty() => {}
            Block::Para(lines) => {
                out.push_str("<p>");
                inline(&lines.join(" "), &mut out);
                out.push_str("</p>");
            }
            Block::Heading(text) => {
                out.push_str("<h4>");
                inline(&text, &mut out);
                out.push_str("</h4>");
            }
            Block::Code(lines) => {
                out.push_str("<pre><code>");
                escape(&lines.join("\n"), &mut out);
                out.push_str("</code></pre>");
            }
            Block::List { ordered, items } => {
                out.push_str(if ordered { "<ol>" } else { "<ul>" });
                for item in items {
                    out.push_str("<li>");
                    inline(&item.join(" "), &mut out);
                    out.push_str("</li>");
                }
                out.push_str(if ordered { "</ol>" } else { "</ul>" });
            }
        }
    }
    PreEscaped(out)
}

/// One line of text with inline spans only (table cells, summaries).
pub fn render_inline(src: &str) -> Markup {
    let mut out = String::new();
    inline(src.trim(), &mut out);
    PreEscaped(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(s: &str) -> String {
        render(s).into_string()
    }

    #[test]
    fn paragraphs_lists_and_code_become_html() {
        let src = "Quy ước chung:\n- Nội dung là JSON (`Content-Type`), tên\n  trường `snake_case`;\n- lỗi **rõ ràng**.\n\nĐoạn hai.";
        assert_eq!(
            html(src),
            "<p>Quy ước chung:</p><ul><li>Nội dung là JSON (<code>Content-Type</code>), tên trường \
             <code>snake_case</code>;</li><li>lỗi <strong>rõ ràng</strong>.</li></ul><p>Đoạn hai.</p>"
        );
        assert_eq!(html("1. một\n2. hai"), "<ol><li>một</li><li>hai</li></ol>");
        assert_eq!(html("```\na < b\n```"), "<pre><code>a &lt; b</code></pre>");
    }

    #[test]
    fn text_is_escaped_and_only_local_links_are_links() {
        assert_eq!(
            html("<script>alert(1)</script> `<b>`"),
            "<p>&lt;script&gt;alert(1)&lt;/script&gt; <code>&lt;b&gt;</code></p>"
        );
        assert_eq!(
            html("[spec](/api-spec/openapi.yaml) [x](https://example.com)"),
            "<p><a href=\"/api-spec/openapi.yaml\">spec</a> x (https://example.com)</p>"
        );
        // Lone markers stay as they are.
        assert_eq!(html("a * b ` c"), "<p>a * b ` c</p>");
    }
}

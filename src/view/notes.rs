//! Lesson notes: a Markdown file per lesson (`lessons/NN-slug/notes.md`), compiled into the binary.
//!
//! A notes file is a `# ` title, an introduction, then one `## ` section per step of the
//! lesson, in order; the section headings are the step titles. This module splits a file into
//! those parts and renders them for a terminal (wrapped, with `code` and **bold** highlighted).

use colored::Colorize;

/// A lesson's notes, split into the introduction and one section per step.
#[derive(Debug, Clone, PartialEq)]
pub struct Notes {
    pub title: String,
    pub intro: String,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// The step's title (the `## ` heading).
    pub title: String,
    pub body: String,
}

impl Notes {
    pub fn parse(markdown: &str) -> Notes {
        let mut notes = Notes {
            title: String::new(),
            intro: String::new(),
            sections: Vec::new(),
        };
        // A `## ` inside a code fence is code, not a step.
        let mut in_fence = false;
        for line in markdown.lines() {
            if line.trim_start().starts_with("```") {
                in_fence = !in_fence;
            }
            if let (Some(title), false) = (line.strip_prefix("## "), in_fence) {
                notes.sections.push(Section {
                    title: title.trim().to_string(),
                    body: String::new(),
                });
            } else if let (Some(title), true, false) =
                (line.strip_prefix("# "), notes.title.is_empty(), in_fence)
            {
                notes.title = title.trim().to_string();
            } else {
                let body = match notes.sections.last_mut() {
                    Some(section) => &mut section.body,
                    None => &mut notes.intro,
                };
                body.push_str(line);
                body.push('\n');
            }
        }
        notes.intro = notes.intro.trim().to_string();
        for section in &mut notes.sections {
            section.body = section.body.trim().to_string();
        }
        notes
    }

    pub fn step_titles(&self) -> Vec<&str> {
        self.sections.iter().map(|s| s.title.as_str()).collect()
    }
}

/// Renders Markdown text for a terminal `width` columns wide: paragraphs and list items are
/// wrapped, code blocks kept as they are.
pub fn render(markdown: &str, width: usize, indent: &str) -> String {
    let width = width.saturating_sub(indent.len()).clamp(30, 100);
    let mut out = String::new();
    let mut paragraph = String::new();
    let mut in_code = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            flush_paragraph(&mut out, &mut paragraph, width, indent);
            in_code = !in_code;
            continue;
        }
        if in_code {
            out.push_str(&format!("{indent}    {}\n", line.dimmed()));
        } else if line.trim().is_empty() {
            flush_paragraph(&mut out, &mut paragraph, width, indent);
            out.push_str(indent.trim_end());
            out.push('\n');
        } else if line.starts_with("- ") || line.starts_with("* ") || starts_numbered(line) {
            flush_paragraph(&mut out, &mut paragraph, width, indent);
            paragraph.push_str(line);
        } else {
            if !paragraph.is_empty() {
                paragraph.push(' ');
            }
            paragraph.push_str(line.trim());
        }
    }
    flush_paragraph(&mut out, &mut paragraph, width, indent);
    // No trailing blank lines (with or without the indent's bar).
    let mut lines: Vec<&str> = out.lines().collect();
    while lines
        .last()
        .is_some_and(|l| l.trim().is_empty() || l.trim() == indent.trim())
    {
        lines.pop();
    }
    lines.join("\n")
}

fn starts_numbered(line: &str) -> bool {
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && line[digits..].starts_with(". ")
}

fn flush_paragraph(out: &mut String, paragraph: &mut String, width: usize, indent: &str) {
    if paragraph.is_empty() {
        return;
    }
    // List items hang: their continuation lines line up after the marker.
    let hang = if paragraph.starts_with("- ") || paragraph.starts_with("* ") {
        2
    } else if starts_numbered(paragraph) {
        paragraph.find(". ").map_or(0, |i| i + 2)
    } else {
        0
    };
    for (i, line) in wrap(paragraph, width, hang).iter().enumerate() {
        let pad = if i == 0 { 0 } else { hang };
        out.push_str(&format!("{indent}{}{}\n", " ".repeat(pad), inline(line)));
    }
    paragraph.clear();
}

/// Splits text into lines of at most `width` columns (counting characters, a CJK character
/// as two), breaking at spaces.
pub fn wrap(text: &str, width: usize, hang: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut columns = 0;
    for word in unbreakable_words(text) {
        let word = word.as_str();
        let word_columns = display_width(word);
        let limit = if lines.is_empty() {
            width
        } else {
            width - hang
        };
        if !line.is_empty() && columns + 1 + word_columns > limit {
            lines.push(std::mem::take(&mut line));
            columns = 0;
        }
        if !line.is_empty() {
            line.push(' ');
            columns += 1;
        }
        line.push_str(word);
        columns += word_columns;
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The words of `text`, except that a `code span` with spaces in it stays one word.
fn unbreakable_words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut open_span = false;
    for word in text.split_whitespace() {
        match words.last_mut() {
            Some(last) if open_span => {
                last.push(' ');
                last.push_str(word);
            }
            _ => words.push(word.to_string()),
        }
        if word.matches('`').count() % 2 == 1 {
            open_span = !open_span;
        }
    }
    words
}

/// Terminal columns taken by `text`: wide (CJK) characters take two.
pub fn display_width(text: &str) -> usize {
    text.chars().map(|c| if is_wide(c) { 2 } else { 1 }).sum()
}

fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF |
        0x4E00..=0x9FFF | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF |
        0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6)
}

/// `code` in cyan, **bold** in bold; the markers themselves are dropped.
fn inline(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find(['`', '*']) {
        let marker = if rest[start..].starts_with("**") {
            "**"
        } else if rest[start..].starts_with('`') {
            "`"
        } else {
            out.push_str(&rest[..start + 1]);
            rest = &rest[start + 1..];
            continue;
        };
        let after = &rest[start + marker.len()..];
        let Some(end) = after.find(marker) else {
            break;
        };
        out.push_str(&rest[..start]);
        let inner = &after[..end];
        let styled = if marker == "`" {
            inner.cyan()
        } else {
            inner.bold()
        };
        out.push_str(&styled.to_string());
        rest = &after[end + marker.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heading_inside_a_code_fence_is_not_a_step() {
        let notes =
            Notes::parse("# Lesson 9\nintro\n## One\n```sh\n## not a step\n```\n## Two\nb\n");
        assert_eq!(notes.step_titles(), ["One", "Two"]);
        assert!(notes.sections[0].body.contains("## not a step"));
    }

    #[test]
    fn splits_into_intro_and_step_sections() {
        let notes = Notes::parse("# Title\n\nIntro.\n\n## First step\nOne.\n\n## Second\nTwo.\n");
        assert_eq!(notes.title, "Title");
        assert_eq!(notes.intro, "Intro.");
        assert_eq!(notes.step_titles(), vec!["First step", "Second"]);
        assert_eq!(notes.sections[1].body, "Two.");
    }

    #[test]
    fn wraps_at_spaces_and_counts_wide_characters_twice() {
        assert_eq!(wrap("aa bb cc", 5, 0), vec!["aa bb", "cc"]);
        assert_eq!(display_width("主进程"), 6);
        assert_eq!(wrap("a `b c` d", 4, 0), vec!["a", "`b c`", "d"]);
    }

    #[test]
    fn inline_markers_are_removed() {
        colored::control::set_override(false);
        assert_eq!(inline("call `join()` **now**"), "call join() now");
    }
}

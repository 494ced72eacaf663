//! Lesson notes: a Markdown file per lesson (`lessons/NN-slug/notes.md`), compiled into the binary.
//!
//! A notes file is a `# ` title, an introduction, then one `## ` section per step of the
//! lesson, in order; the section headings are the step titles. This module splits a file into
//! those parts and renders Markdown for a terminal: wrapped to the width, `code`, **bold** and
//! *emphasis* styled, lists hanging, code blocks kept as they are.
//!
//! The text handling is done by crates that do it completely, not by hand: `pulldown-cmark`
//! parses CommonMark (so a `## ` inside a code fence is code, and a span may cross a line
//! break), `textwrap` wraps, and `unicode-width` gives each character's width in columns
//! (CJK characters take two, combining marks none).

use colored::{Color, Colorize};
use pulldown_cmark::{Event as Md, HeadingLevel, Parser, Tag, TagEnd};
use textwrap::core::Word;
use textwrap::wrap_algorithms::wrap_first_fit;
use unicode_width::UnicodeWidthStr;

use crate::i18n;

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
        // Where each heading is in the text, and its words: the parser knows what is a heading
        // and what only looks like one (inside a code block, say).
        let mut headings: Vec<(HeadingLevel, std::ops::Range<usize>, String)> = Vec::new();
        let mut in_heading: Option<(HeadingLevel, std::ops::Range<usize>, String)> = None;
        for (event, range) in Parser::new(markdown).into_offset_iter() {
            match event {
                Md::Start(Tag::Heading { level, .. }) => {
                    in_heading = Some((level, range, String::new()));
                }
                Md::End(TagEnd::Heading(_)) => headings.extend(in_heading.take()),
                Md::Text(text) | Md::Code(text) => {
                    if let Some((_, _, words)) = in_heading.as_mut() {
                        words.push_str(&text);
                    }
                }
                _ => {}
            }
        }
        let mut notes = Notes {
            title: String::new(),
            intro: String::new(),
            sections: Vec::new(),
        };
        // The text after a heading runs to the next title or step heading; text before the
        // first step heading is the introduction.
        let mut body_from = 0;
        let mut section: Option<usize> = None;
        let give = |notes: &mut Notes, section: Option<usize>, body: &str| {
            let body = body.trim();
            match section {
                Some(i) => notes.sections[i].body = body.to_string(),
                None if body.is_empty() => {}
                None if notes.intro.is_empty() => notes.intro = body.to_string(),
                None => notes.intro = format!("{}\n\n{body}", notes.intro),
            }
        };
        for (level, range, words) in headings {
            let is_title = level == HeadingLevel::H1 && notes.title.is_empty();
            if !is_title && level != HeadingLevel::H2 {
                continue;
            }
            give(&mut notes, section, &markdown[body_from..range.start]);
            body_from = range.end;
            if is_title {
                notes.title = words.trim().to_string();
            } else {
                notes.sections.push(Section {
                    title: words.trim().to_string(),
                    body: String::new(),
                });
                section = Some(notes.sections.len() - 1);
            }
        }
        give(&mut notes, section, &markdown[body_from..]);
        notes
    }

    pub fn step_titles(&self) -> Vec<&str> {
        self.sections.iter().map(|s| s.title.as_str()).collect()
    }
}

/// How inline Markdown looks: the colour of `code`, and whether code blocks are dimmed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ink {
    pub code: Color,
    pub dim_code_blocks: bool,
}

impl Default for Ink {
    fn default() -> Ink {
        Ink {
            code: Color::Cyan,
            dim_code_blocks: true,
        }
    }
}

/// Terminal columns taken by `text` (CJK characters two, combining marks none; escape
/// sequences of colours none).
pub fn display_width(text: &str) -> usize {
    if text.contains('\x1b') {
        textwrap::core::display_width(text)
    } else {
        text.width()
    }
}

/// `text` followed by spaces up to `columns` terminal columns: what `{:<n}` does, counting
/// columns instead of characters (a Chinese character takes two).
pub fn pad(text: &str, columns: usize) -> String {
    let fill = columns.saturating_sub(display_width(text));
    format!("{text}{}", " ".repeat(fill))
}

/// `text` after spaces up to `columns` terminal columns: `{:>n}`, counting columns.
pub fn pad_left(text: &str, columns: usize) -> String {
    let fill = columns.saturating_sub(display_width(text));
    format!("{}{text}", " ".repeat(fill))
}

/// Renders Markdown text for a terminal `width` columns wide: paragraphs and list items are
/// wrapped, code blocks kept as they are. Each line starts with `indent`.
pub fn render(markdown: &str, width: usize, indent: &str) -> String {
    render_lines(markdown, width, indent, Ink::default()).join("\n")
}

/// `render`, as lines.
pub fn render_lines(markdown: &str, width: usize, indent: &str, ink: Ink) -> Vec<String> {
    let width = width.saturating_sub(display_width(indent)).clamp(30, 100);
    let blank = indent.trim_end().to_string();
    let mut out: Vec<String> = Vec::new();
    let mut spans = Spans::new(ink, is_chinese(markdown));
    // The marker of each list item being read ("- ", "3. "), and the next number of each
    // ordered list we are in.
    let mut item_marker: Option<String> = None;
    let mut lists: Vec<Option<u64>> = Vec::new();
    let mut code_block: Option<String> = None;
    let flush =
        |spans: &mut Spans, marker: &mut Option<String>, out: &mut Vec<String>, depth: usize| {
            if spans.is_empty() {
                return;
            }
            let nesting = "  ".repeat(depth.saturating_sub(1));
            let marker = marker.take().unwrap_or_default();
            let hang = display_width(&marker);
            let first = format!("{indent}{nesting}{marker}");
            let rest = format!("{indent}{nesting}{}", " ".repeat(hang));
            let room = width.saturating_sub(nesting.len() + hang).max(10);
            for (i, line) in spans.take_words_wrapped(room).into_iter().enumerate() {
                let lead = if i == 0 { &first } else { &rest };
                out.push(format!("{lead}{line}"));
            }
        };
    for event in Parser::new(markdown) {
        if let Some(code) = code_block.as_mut() {
            match event {
                Md::Text(text) => code.push_str(&text),
                Md::End(TagEnd::CodeBlock) => {
                    for line in code.trim_end_matches('\n').lines() {
                        let line = if ink.dim_code_blocks {
                            line.dimmed().to_string()
                        } else {
                            line.to_string()
                        };
                        out.push(format!("{indent}    {line}"));
                    }
                    out.push(blank.clone());
                    code_block = None;
                }
                _ => {}
            }
            continue;
        }
        match event {
            Md::Start(Tag::CodeBlock(_)) => code_block = Some(String::new()),
            Md::Start(Tag::List(first)) => {
                flush(&mut spans, &mut item_marker, &mut out, lists.len());
                lists.push(first);
            }
            Md::End(TagEnd::List(_)) => {
                lists.pop();
                if lists.is_empty() {
                    out.push(blank.clone());
                }
            }
            Md::Start(Tag::Item) => {
                flush(&mut spans, &mut item_marker, &mut out, lists.len());
                item_marker = Some(match lists.last_mut() {
                    Some(Some(number)) => {
                        *number += 1;
                        format!("{}. ", *number - 1)
                    }
                    _ => "- ".to_string(),
                });
            }
            Md::End(TagEnd::Item) => flush(&mut spans, &mut item_marker, &mut out, lists.len()),
            Md::End(TagEnd::Paragraph) => {
                flush(&mut spans, &mut item_marker, &mut out, lists.len());
                if lists.is_empty() {
                    out.push(blank.clone());
                }
            }
            Md::Start(Tag::Heading { .. }) => {
                flush(&mut spans, &mut item_marker, &mut out, lists.len());
                spans.strong += 1;
            }
            Md::End(TagEnd::Heading(_)) => {
                spans.strong -= 1;
                flush(&mut spans, &mut item_marker, &mut out, lists.len());
                out.push(blank.clone());
            }
            Md::Rule => {
                flush(&mut spans, &mut item_marker, &mut out, lists.len());
                out.push(format!("{indent}{}", "─".repeat(width.min(40))));
                out.push(blank.clone());
            }
            Md::Html(html) => {
                for line in html.trim_end().lines() {
                    out.push(format!("{indent}{line}"));
                }
            }
            other => spans.inline(other),
        }
    }
    flush(&mut spans, &mut item_marker, &mut out, lists.len());
    // No blank lines at the end (with or without the indent's bar).
    while out
        .last()
        .is_some_and(|l| l.trim().is_empty() || l.trim() == indent.trim())
    {
        out.pop();
    }
    out
}

/// A line of inline Markdown (a note's text), wrapped to `width` columns; markers styled,
/// not printed. Block syntax is kept as written: a note is one paragraph or a few.
pub fn inline_lines(text: &str, width: usize, ink: Ink) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut spans = Spans::new(ink, is_chinese(paragraph));
        for event in Parser::new(paragraph) {
            match event {
                Md::Start(Tag::Item) => spans.push_plain("- "),
                Md::Start(Tag::List(Some(first))) => spans.push_plain(&format!("{first}. ")),
                Md::Start(Tag::Heading { level, .. }) => {
                    spans.push_plain(&format!("{} ", "#".repeat(level as usize)))
                }
                Md::Start(Tag::BlockQuote(_)) => spans.push_plain("> "),
                Md::Rule => spans.push_plain("---"),
                Md::Html(html) => spans.push_plain(&html),
                Md::Text(text) if spans.in_code_block => spans.push_plain(&text),
                Md::Start(Tag::CodeBlock(_)) => spans.in_code_block = true,
                Md::End(TagEnd::CodeBlock) => spans.in_code_block = false,
                other => spans.inline(other),
            }
        }
        lines.extend(spans.take_words_wrapped(width));
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// Plain text (a program's own output: no Markdown), wrapped to `width` columns.
pub fn plain_lines(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        if fits_as_it_is(paragraph, width) {
            lines.push(paragraph.to_string());
        } else {
            lines.extend(wrapped_plain(paragraph, width));
        }
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// Whether wrapping would give `paragraph` back as it is: a short line of printable ASCII,
/// words apart by single spaces. Most of what a program says is such a line (`reaped 25951:
/// exitcode 0`), and the supervisor shows thousands of them a second (`proclab serve`): it
/// keeps them without building words.
fn fits_as_it_is(paragraph: &str, width: usize) -> bool {
    !paragraph.is_empty()
        && paragraph.len() <= width.max(1)
        && paragraph.bytes().all(|b| (b' '..=b'~').contains(&b))
        && !paragraph.starts_with(' ')
        && !paragraph.ends_with(' ')
        && !paragraph.contains("  ")
}

/// One paragraph of plain text, wrapped.
fn wrapped_plain(paragraph: &str, width: usize) -> Vec<String> {
    let mut spans = Spans::new(Ink::default(), is_chinese(paragraph));
    spans.push_plain(paragraph);
    spans.take_words_wrapped(width)
}

/// The longest English term in brackets that Chinese prose keeps on one line.
const GLOSS_AT_MOST: usize = 30;

/// Whether `text` is Chinese prose (more Chinese characters than English words), where a line
/// may break between characters, rather than English prose with a Chinese term in it
/// (`a zombie (僵尸进程)`), where the term is one word that no line break cuts in two.
fn is_chinese(text: &str) -> bool {
    let characters = text.chars().filter(|&c| i18n::is_cjk(c)).count();
    let english_words = text
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|word| !word.is_empty())
        .count();
    characters > english_words
}

/// Whether a line may break between `before` and `after` where no space separates them: next
/// to a Chinese character, unless that would start a line with closing punctuation or end one
/// with opening punctuation.
fn may_break_between(before: char, after: char) -> bool {
    const CLOSING: &str = "，。、；：！？）」』》】〉”’,.;:!?)]}%";
    const OPENING: &str = "（「『《【〈“‘([{";
    (i18n::is_cjk(before) || i18n::is_cjk(after))
        && !CLOSING.contains(after)
        && !OPENING.contains(before)
}

/// Inline text being gathered into words: each word carries its own styling, so a bold span
/// that a wrap cuts in two is bold on both lines.
struct Spans {
    ink: Ink,
    /// The words so far, each with whether a space follows it.
    words: Vec<(String, bool)>,
    /// The last character added, to find where Chinese text may break.
    last_char: Option<char>,
    /// A line break of the source came last: a space, unless Chinese on both sides (or its
    /// punctuation) says otherwise (`i18n::space_at_line_break`).
    after_soft_break: bool,
    /// The word being built, and whether it has any text yet.
    word: String,
    word_started: bool,
    /// Chinese prose: a line may break between its characters, and an English term in
    /// brackets (`(race condition)`) stays on one line. In English prose neither: a Chinese
    /// term is one word.
    chinese: bool,
    /// In Chinese prose, the characters so far of an English term in brackets that began a
    /// word, `(race condition)`: a space in it does not break a line (up to a line's worth).
    in_gloss: Option<usize>,
    strong: u32,
    emphasis: u32,
    in_code_block: bool,
}

impl Spans {
    fn new(ink: Ink, chinese: bool) -> Spans {
        Spans {
            ink,
            words: Vec::new(),
            last_char: None,
            after_soft_break: false,
            word: String::new(),
            word_started: false,
            chinese,
            in_gloss: None,
            strong: 0,
            emphasis: 0,
            in_code_block: false,
        }
    }

    fn is_empty(&self) -> bool {
        self.words.is_empty() && !self.word_started
    }

    fn inline(&mut self, event: Md) {
        match event {
            Md::Text(text) => self.push_text(&text, false),
            Md::Code(code) => self.push_text(&code, true),
            Md::InlineHtml(html) | Md::InlineMath(html) | Md::DisplayMath(html) => {
                self.push_text(&html, false)
            }
            // A line break inside a paragraph is a space between English words, and nothing
            // between Chinese characters (see `i18n::space_at_line_break`).
            Md::SoftBreak => {
                self.end_word_without_space();
                self.after_soft_break = true;
            }
            Md::HardBreak => self.end_word(),
            Md::Start(Tag::Strong) => self.strong += 1,
            Md::End(TagEnd::Strong) => self.strong = self.strong.saturating_sub(1),
            Md::Start(Tag::Emphasis) => self.emphasis += 1,
            Md::End(TagEnd::Emphasis) => self.emphasis = self.emphasis.saturating_sub(1),
            Md::FootnoteReference(text) => self.push_text(&text, false),
            Md::TaskListMarker(done) => self.push_text(if done { "[x]" } else { "[ ]" }, false),
            _ => {}
        }
    }

    fn push_plain(&mut self, text: &str) {
        let (strong, emphasis) = (self.strong, self.emphasis);
        self.strong = 0;
        self.emphasis = 0;
        self.push_text(text, false);
        if text.ends_with(' ') {
            self.end_word();
        }
        (self.strong, self.emphasis) = (strong, emphasis);
    }

    /// Adds text in the current style. Spaces end words, except inside `code`, which stays
    /// one unbreakable word. Chinese has no spaces: a line may break between any two of its
    /// characters, but never before closing punctuation (，。）) or after opening (（「).
    fn push_text(&mut self, text: &str, code: bool) {
        let mut piece = String::new();
        for c in text.chars() {
            if self.chinese && !code {
                self.in_gloss = match (c, self.in_gloss) {
                    ('(', _) if piece.is_empty() && !self.word_started => Some(0),
                    (')', _) => None,
                    (c, _) if i18n::is_cjk(c) => None,
                    (_, Some(length)) if length < GLOSS_AT_MOST => Some(length + 1),
                    _ => None,
                };
            }
            // Inside an English term in brackets in Chinese prose, a space is part of the
            // word: `(race condition)` is never cut after `(race`.
            if c == ' ' && self.in_gloss.is_some() && !code {
                piece.push(c);
                self.last_char = Some(c);
                continue;
            }
            if c.is_whitespace() && !code {
                self.add_piece(&piece, code);
                piece.clear();
                self.end_word();
                self.last_char = None;
                continue;
            }
            if self.after_soft_break {
                self.after_soft_break = false;
                let space = self
                    .last_char
                    .is_none_or(|before| i18n::space_at_line_break(before, c));
                if let Some((_, space_after)) = self.words.last_mut()
                    && space
                {
                    *space_after = true;
                }
            }
            if !code
                && self.chinese
                && self
                    .last_char
                    .is_some_and(|before| may_break_between(before, c))
            {
                self.add_piece(&piece, code);
                piece.clear();
                self.end_word_without_space();
            }
            piece.push(c);
            self.last_char = Some(c);
        }
        self.add_piece(&piece, code);
    }

    fn add_piece(&mut self, piece: &str, code: bool) {
        if piece.is_empty() {
            return;
        }
        self.word_started = true;
        let mut styled = if code {
            piece.color(self.ink.code)
        } else {
            piece.normal()
        };
        if self.strong > 0 {
            styled = styled.bold();
        }
        if self.emphasis > 0 {
            styled = styled.italic();
        }
        self.word.push_str(&styled.to_string());
    }

    fn end_word(&mut self) {
        if self.word_started {
            self.words.push((std::mem::take(&mut self.word), true));
            self.word_started = false;
        }
    }

    /// Ends a word that the next one follows with no space between (Chinese).
    fn end_word_without_space(&mut self) {
        if self.word_started {
            self.words.push((std::mem::take(&mut self.word), false));
            self.word_started = false;
        }
    }

    /// The words gathered so far, wrapped into lines of at most `width` columns (a word
    /// longer than a line is broken).
    fn take_words_wrapped(&mut self, width: usize) -> Vec<String> {
        self.end_word();
        let width = width.max(1);
        // Each word with the space that follows it, if any, which the wrapping counts between
        // words (and drops at the end of a line).
        let spaced: Vec<String> = self
            .words
            .iter()
            .map(|(w, space)| if *space { format!("{w} ") } else { w.clone() })
            .collect();
        let words: Vec<Word> = spaced.iter().map(|w| Word::from(w.as_str())).collect();
        let words = textwrap::core::break_words(words, width);
        let lines: Vec<String> = wrap_first_fit(&words, &[width as f64])
            .into_iter()
            .map(|line| {
                let mut text = String::new();
                for (i, word) in line.iter().enumerate() {
                    if i > 0 {
                        text.push_str(line[i - 1].whitespace);
                    }
                    text.push_str(word.word);
                }
                text
            })
            .collect();
        self.words.clear();
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines without colour: tests run at the same time, and one of them turns colour on.
    fn plain(lines: Vec<String>) -> Vec<String> {
        lines
            .iter()
            .map(|line| {
                let mut out = String::new();
                let mut escape = false;
                for c in line.chars() {
                    match c {
                        '\x1b' => escape = true,
                        'm' if escape => escape = false,
                        _ if escape => {}
                        _ => out.push(c),
                    }
                }
                out
            })
            .collect()
    }

    #[test]
    fn a_line_kept_as_it_is_is_what_wrapping_would_give() {
        // Lines built from the characters that wrapping treats specially (spaces, brackets,
        // Markdown's marks, punctuation), at every width they fit in.
        let alphabet: Vec<char> = "ab1:,.()[]*_`-|#>".chars().collect();
        let mut seed = 7u32;
        let mut next = |n: usize| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (seed >> 16) as usize % n
        };
        let mut checked = 0;
        for _ in 0..2000 {
            let mut line = String::new();
            for _ in 0..1 + next(30) {
                if !line.is_empty() && next(4) == 0 && !line.ends_with(' ') {
                    line.push(' ');
                }
                line.push(alphabet[next(alphabet.len())]);
            }
            for width in [line.len(), line.len() + 1, 40] {
                if fits_as_it_is(&line, width) {
                    assert_eq!(
                        wrapped_plain(&line, width),
                        [line.clone()],
                        "{line:?} at {width}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 3000, "{checked}");
        // And the lines it must not keep: too long, doubled or edge spaces, a tab, not ASCII.
        for (line, width) in [
            ("aa bb", 4),
            ("aa  bb", 40),
            (" aa", 40),
            ("aa ", 40),
            ("a\tb", 40),
            ("主进程", 40),
            ("", 40),
        ] {
            assert!(!fits_as_it_is(line, width), "{line:?}");
        }
    }

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
        assert_eq!(notes.sections[0].body, "One.");
        assert_eq!(notes.sections[1].body, "Two.");
    }

    #[test]
    fn a_step_title_keeps_its_code_span_text() {
        let notes = Notes::parse("# T\n\n## join() waits\nx\n\n## `start()` returns\ny\n");
        assert_eq!(notes.step_titles(), ["join() waits", "start() returns"]);
    }

    #[test]
    fn wraps_at_spaces_and_counts_wide_characters_twice() {
        assert_eq!(plain(plain_lines("aa bb cc", 5)), ["aa bb", "cc"]);
        assert_eq!(display_width("主进程"), 6);
        assert_eq!(
            display_width("e\u{301}"),
            1,
            "a combining accent takes no column"
        );
        assert_eq!(
            plain(inline_lines("a `b c` d", 4, Ink::default())),
            ["a", "b c", "d"]
        );
        assert_eq!(plain_lines("主进程 主进程", 8), ["主进程", "主进程"]);
    }

    #[test]
    fn an_english_term_in_chinese_and_a_chinese_term_in_english_stay_whole() {
        // Chinese prose: `(race condition)` is never cut after `(race`, at any width.
        let chinese = "这就是共享文件上的竞争条件 (race condition)，最后一次写入覆盖了前面的。";
        for width in 12..40 {
            let lines = plain(inline_lines(chinese, width, Ink::default()));
            assert!(
                lines.iter().all(|l| !l.trim_end().ends_with("(race")),
                "{width}: {lines:?}"
            );
        }
        // English prose: 僵尸进程 is one word, never `僵尸进` / `程`.
        let english = "Until it is reaped the child is a zombie (僵尸进程): its exit status waits for its parent.";
        for width in 20..60 {
            let lines = plain(inline_lines(english, width, Ink::default()));
            assert!(
                lines.iter().any(|l| l.contains("僵尸进程")),
                "{width}: {lines:?}"
            );
        }
    }

    #[test]
    fn chinese_wraps_between_characters_and_never_before_closing_punctuation() {
        let lines = plain(inline_lines(
            "主进程调用 `start()` 之后立即返回，子进程（child）各自运行。",
            12,
            Ink::default(),
        ));
        assert!(lines.iter().all(|l| display_width(l) <= 12), "{lines:?}");
        assert_eq!(
            lines.concat().replace(' ', ""),
            "主进程调用start()之后立即返回，子进程（child）各自运行。"
        );
        assert!(
            lines
                .iter()
                .all(|l| !l.starts_with(['，', '。', '）']) && !l.ends_with('（')),
            "{lines:?}"
        );
        assert!(lines.iter().any(|l| l.contains("start()")), "{lines:?}");
        for width in 6..16 {
            let lines = plain(inline_lines(
                "可能是“自动加了锁”。并没有。",
                width,
                Ink::default(),
            ));
            assert!(
                lines
                    .iter()
                    .all(|l| !l.starts_with(['”', '。']) && !l.ends_with('“')),
                "{lines:?}"
            );
        }
    }

    #[test]
    fn a_line_break_is_a_space_in_english_and_nothing_in_chinese() {
        let lines = plain(render_lines(
            "one\ntwo 写端\n的孙进程",
            80,
            "",
            Ink::default(),
        ));
        assert_eq!(lines, ["one two 写端的孙进程"]);
    }

    #[test]
    fn inline_markers_are_removed() {
        assert_eq!(
            plain(inline_lines(
                "call `join()` **now**, the *caller* waits",
                80,
                Ink::default()
            )),
            ["call join() now, the caller waits"]
        );
    }

    #[test]
    fn a_span_that_crosses_a_wrap_is_styled_on_both_lines() {
        colored::control::set_override(true);
        let lines = inline_lines(
            "it made itself a **child subreaper** of the lab",
            22,
            Ink::default(),
        );
        colored::control::unset_override();
        assert!(lines.len() >= 2, "{lines:?}");
        assert!(lines.iter().all(|l| !l.contains("**")), "{lines:?}");
        let bold_child = lines.iter().any(|l| l.contains("\x1b[1mchild"));
        let bold_subreaper = lines.iter().any(|l| l.contains("\x1b[1msubreaper"));
        assert!(bold_child && bold_subreaper, "{lines:?}");
        let child_line = lines.iter().position(|l| l.contains("child")).unwrap();
        let subreaper_line = lines.iter().position(|l| l.contains("subreaper")).unwrap();
        assert_ne!(
            child_line, subreaper_line,
            "the test must cross a wrap: {lines:?}"
        );
    }

    #[test]
    fn markdown_blocks_render_as_a_terminal_shows_them() {
        let text = "A paragraph that\nspans two source lines.\n\n- one item\n- two *items*\n\n\
                    ```sh\n## kept as code\n```\n\n1. first\n2. second";
        let lines = plain(render_lines(text, 80, "  │ ", Ink::default()));
        assert_eq!(
            lines,
            [
                "  │ A paragraph that spans two source lines.",
                "  │",
                "  │ - one item",
                "  │ - two items",
                "  │",
                "  │     ## kept as code",
                "  │",
                "  │ 1. first",
                "  │ 2. second",
            ]
        );
    }

    #[test]
    fn list_items_hang_under_their_text() {
        let lines = plain(render_lines(
            "- a list item long enough to wrap onto a second line here",
            30,
            "",
            Ink::default(),
        ));
        assert!(lines.len() >= 2, "{lines:?}");
        assert!(lines[0].starts_with("- "));
        assert!(
            lines[1].starts_with("  ") && !lines[1].starts_with("   "),
            "{lines:?}"
        );
        assert!(lines.iter().all(|l| display_width(l) <= 30), "{lines:?}");
    }
}

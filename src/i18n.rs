//! The two languages of the lab's prose, English and Chinese (中文): the language of this run,
//! text in both, and the helpers that know that Chinese is written without spaces. The bottom
//! layer: every other module may use it (the runtime's notes included); it uses none.
//!
//! Everything the lab says *about* a run — titles, notes, prompts, labels — exists in both,
//! written side by side so that a change to one is seen next to the other: a lesson's
//! `notes.md` beside its `notes.zh.md`, and each run-time note as
//! `note!(en: "...", zh: "...", args)`. What a lesson's processes print themselves (`say!`) is
//! their program output and stays as the program prints it, as Python's `print` would.
//!
//! The language is chosen once, when the lab starts (`--lang`, else the locale), and every
//! process of the run inherits it through `fork`.

use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

/// A language the lab speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    /// Its code, as `--lang` takes it and the JSON `lesson` event reports it.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// The language the locale asks for: the first of `LC_ALL`, `LC_MESSAGES` and `LANG` that
    /// is set and not empty decides (the order in which the C library reads them), and a
    /// value starting with `zh` (`zh_CN.UTF-8`, `zh_TW`) means Chinese.
    pub fn from_locale(var: impl Fn(&str) -> Option<String>) -> Lang {
        let chosen = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|name| var(name))
            .find(|value| !value.is_empty());
        match chosen {
            Some(value) if value.starts_with("zh") => Lang::Zh,
            _ => Lang::En,
        }
    }
}

static CURRENT: AtomicU8 = AtomicU8::new(0);

/// Chooses the language of this process and of every process it forks from now on.
pub fn set(lang: Lang) {
    CURRENT.store(lang as u8, Relaxed);
}

/// The language chosen for this run.
pub fn current() -> Lang {
    match CURRENT.load(Relaxed) {
        1 => Lang::Zh,
        _ => Lang::En,
    }
}

/// A fixed piece of prose in both languages: a lesson's title, what it teaches, its notes.
#[derive(Debug, Clone, Copy)]
pub struct Text {
    pub en: &'static str,
    pub zh: &'static str,
}

impl Text {
    /// The text in the language of this run.
    pub fn get(&self) -> &'static str {
        self.of(current())
    }

    /// The text in `lang`.
    pub fn of(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en,
            Lang::Zh => self.zh,
        }
    }
}

/// A piece of the lab's prose, formatted in the language of this run:
/// `text!(en: "{n} children", zh: "{n} 个子进程", n = count)`. Both strings take the same
/// arguments (`format!` refuses one that leaves an argument unused), so the two cannot drift
/// apart in what they report.
#[macro_export]
macro_rules! text {
    (en: $en:literal, zh: $zh:literal $(,)?) => {
        match $crate::i18n::current() {
            $crate::i18n::Lang::En => format!($en),
            $crate::i18n::Lang::Zh => format!($zh),
        }
    };
    (en: $en:literal, zh: $zh:literal, $($arg:tt)*) => {
        match $crate::i18n::current() {
            $crate::i18n::Lang::En => format!($en, $($arg)*),
            $crate::i18n::Lang::Zh => format!($zh, $($arg)*),
        }
    };
}

/// Whether `text` reads as Chinese: it has CJK characters, and no run of five English words
/// in a row outside `code` (a sentence left in English). English terms beside the Chinese
/// ones, `(daemon process)`, are shorter than that. A Chinese word between two English ones
/// ends the run: `start() 执行 fork` is two identifiers in a Chinese sentence.
pub fn reads_as_chinese(text: &str) -> bool {
    let has_cjk = text.chars().any(is_cjk);
    let mut words_in_a_row = 0;
    let mut longest = 0;
    let mut in_code = false;
    // Each CJK character is a word of its own, which ends a run of English words.
    let mut spaced = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if is_cjk(c) {
            spaced.extend([' ', c, ' ']);
        } else {
            spaced.push(c);
        }
    }
    for word in spaced.split_whitespace() {
        if word.matches('`').count() % 2 == 1 {
            in_code = !in_code;
            words_in_a_row = 0;
            continue;
        }
        let english = !in_code
            && word.len() > 1
            && !word.chars().any(is_cjk)
            && word
                .trim_matches(|c: char| c.is_ascii_punctuation())
                .chars()
                .all(|c| c.is_ascii_alphabetic())
            && word.chars().any(|c| c.is_ascii_alphabetic());
        if english {
            words_in_a_row += 1;
            longest = longest.max(words_in_a_row);
        } else {
            words_in_a_row = 0;
        }
    }
    has_cjk && longest < 5
}

/// Whether a line break of the source between `before` and `after` reads as a space. Not
/// between two Chinese characters, nor next to Chinese punctuation (Chinese has no spaces to
/// put back); but between a Chinese character and a Latin word it does, as the notes write
/// `调用 terminate()` with a space.
pub fn space_at_line_break(before: char, after: char) -> bool {
    let punctuation = |c: char| matches!(c, '\u{3000}'..='\u{303F}' | '\u{FF00}'..='\u{FFEF}');
    !((is_cjk(before) && is_cjk(after)) || punctuation(before) || punctuation(after))
}

/// A CJK ideograph or a full-width sign: the characters that Chinese writes without spaces
/// between them.
pub fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{2E80}'..='\u{2FDF}'     // radicals
        | '\u{3000}'..='\u{303F}'   // CJK punctuation: 、。「」
        | '\u{3400}'..='\u{4DBF}'   // extension A
        | '\u{4E00}'..='\u{9FFF}'   // unified ideographs
        | '\u{F900}'..='\u{FAFF}'   // compatibility ideographs
        | '\u{FE30}'..='\u{FE4F}'   // compatibility forms
        | '\u{FF00}'..='\u{FFEF}'   // full-width forms: ，（）：；！？
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locale(pairs: &[(&str, &str)]) -> Lang {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Lang::from_locale(|name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn the_locale_chooses_the_language_in_the_c_library_order() {
        assert_eq!(locale(&[]), Lang::En);
        assert_eq!(locale(&[("LANG", "zh_CN.UTF-8")]), Lang::Zh);
        assert_eq!(locale(&[("LANG", "en_US.UTF-8")]), Lang::En);
        assert_eq!(
            locale(&[("LC_ALL", "C.UTF-8"), ("LANG", "zh_CN.UTF-8")]),
            Lang::En
        );
        assert_eq!(
            locale(&[("LC_ALL", ""), ("LC_MESSAGES", "zh_TW"), ("LANG", "en")]),
            Lang::Zh
        );
    }

    #[test]
    fn a_line_break_is_a_space_except_inside_chinese() {
        assert!(space_at_line_break('a', 'b'));
        assert!(!space_at_line_break('写', '的'));
        assert!(space_at_line_break('用', 's'));
        assert!(space_at_line_break('n', '的'));
        assert!(!space_at_line_break('。', 'P'));
        assert!(!space_at_line_break(')', '，'));
    }

    #[test]
    fn an_english_sentence_does_not_read_as_chinese() {
        assert!(reads_as_chinese("主进程 (main process) 等待子进程。"));
        assert!(reads_as_chinese(
            "`join()` 等待 `Process(target=f, kwargs={'name': 'alex'})` 结束"
        ));
        assert!(!reads_as_chinese(
            "The three start() calls returned at once."
        ));
        assert!(!reads_as_chinese(
            "子进程: every parent pid is the main process"
        ));
        // Identifiers and English terms between Chinese words are not an English sentence.
        assert!(reads_as_chinese(
            "start() 执行 fork 后立刻返回，不等子进程 (child process)。主进程 pid 是 7"
        ));
        assert!(!reads_as_chinese(
            "子进程：the main process forked it，然后"
        ));
    }
}

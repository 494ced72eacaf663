//! The tutorial's code and the lab's, beside each step: `proclab code <LESSON> [--step K]`, and
//! `proclab run --code`.
//!
//! Each step of a lesson has two programs in the lesson's folder, `code/stepK.py` and
//! `code/stepK.rs`: the tutorial's Python for that step, corrected (ASCII quotes, and each fix
//! the lesson teaches marked with a `FIX:` comment), and the same program in Rust with the
//! lab's API, without the lab's annotations. The Rust ones are cargo examples
//! (`cargo run --example lesson1-step1`), and the tests run both kinds. They are compiled into
//! the binary here, so `proclab code` works from any directory.

use crate::error::{Error, Result};
use crate::lessons::Lesson;
use crate::text;
use crate::view::notes::{Notes, Section, display_width};

/// The two programs of one step.
#[derive(Debug)]
pub struct StepCode {
    pub python: &'static str,
    pub rust: &'static str,
}

/// One `StepCode` per step number given, read from `lessons/<folder>/code/step<K>.{py,rs}`.
macro_rules! steps {
    ($folder:literal: $($step:literal),*) => {
        &[$(StepCode {
            python: include_str!(concat!("../../lessons/", $folder, "/code/step", $step, ".py")),
            rust: include_str!(concat!("../../lessons/", $folder, "/code/step", $step, ".rs")),
        }),*]
    };
}

/// The lessons that have their code beside each step, by folder, and each step's programs.
const CODE: &[(&str, &[StepCode])] = &[
    ("01-spawn-function", steps!("01-spawn-function": 1, 2, 3, 4)),
    ("02-spawn-worker", steps!("02-spawn-worker": 1, 2, 3, 4)),
    (
        "03-daemon-terminate",
        steps!("03-daemon-terminate": 1, 2, 3, 4, 5),
    ),
    (
        "04-socket-concurrency",
        steps!("04-socket-concurrency": 1, 2, 3, 4, 5, 6, 7),
    ),
];

/// Each step's programs, for a lesson that has them.
pub fn of(lesson: &Lesson) -> Option<&'static [StepCode]> {
    CODE.iter()
        .find(|(folder, _)| *folder == lesson.folder())
        .map(|(_, steps)| *steps)
}

/// The file of step `step` (from 1), relative to the repository: `kind` is `py` or `rs`.
pub fn path(lesson: &Lesson, step: usize, kind: &str) -> String {
    format!("lessons/{}/code/step{step}.{kind}", lesson.folder())
}

/// The cargo example of step `step`: `lesson1-step2`.
pub fn example(lesson: &Lesson, step: usize) -> String {
    format!("lesson{}-step{step}", lesson.number())
}

/// What `proclab code` prints: for each step (or only `only`, from 1), its title, the Python
/// and the Rust.
pub fn render(lesson: &Lesson, only: Option<usize>) -> Result<String> {
    let steps = of(lesson).ok_or_else(|| {
        Error::Usage(format!(
            "lesson {} has no code beside its steps yet",
            lesson.number()
        ))
    })?;
    let notes = Notes::parse(lesson.notes.get());
    if let Some(step) = only
        && !(1..=steps.len()).contains(&step)
    {
        return Err(Error::Usage(format!(
            "lesson {} has steps 1 to {}, not {step}",
            lesson.number(),
            steps.len()
        )));
    }
    let mut out = String::new();
    for (i, (code, section)) in steps.iter().zip(&notes.sections).enumerate() {
        let step = i + 1;
        if only.is_some_and(|only| only != step) {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        let (count, title) = (steps.len(), &section.title);
        let heading = text!(
            en: "Step {step} of {count}: {title}",
            zh: "第 {step} 步（共 {count} 步）：{title}",
        );
        // Underlined across the heading's columns: a Chinese character takes two.
        out.push_str(&format!(
            "{heading}\n{}\n\n",
            "=".repeat(display_width(&heading))
        ));
        out.push_str(&text!(
            en: "--- Python, the tutorial's, corrected: {}\n    run it: python3 {0}\n\n{}\n\n",
            zh: "--- Python，教程里的代码（已改正）：{}\n    运行：python3 {0}\n\n{}\n\n",
            path(lesson, step, "py"),
            code.python.trim_end()
        ));
        out.push_str(&text!(
            en: "--- Rust, with the lab's API: {}\n    run it: cargo run --example {}\n\n{}\n",
            zh: "--- Rust，用实验室的 API 写：{}\n    运行：cargo run --example {}\n\n{}\n",
            path(lesson, step, "rs"),
            example(lesson, step),
            code.rust.trim_end()
        ));
    }
    Ok(out)
}

/// `run --code`: the notes a run shows before each step, with the step's two programs added
/// (after the notes' own text with `--notes`, alone without it).
pub fn beside_notes(lesson: &Lesson, notes: Notes, with_notes: bool) -> Notes {
    let Some(steps) = of(lesson) else {
        return notes;
    };
    let sections = notes
        .sections
        .iter()
        .enumerate()
        .map(|(i, section)| {
            let mut body = if with_notes {
                format!("{}\n\n", section.body)
            } else {
                String::new()
            };
            if let Some(code) = steps.get(i) {
                body.push_str(&text!(
                    en: "Python, the tutorial's, corrected (`{}`):\n\n```python\n{}\n```\n\n\
                         Rust, with the lab's API (`cargo run --example {}`):\n\n```rust\n{}\n```\n",
                    zh: "Python，教程里的代码，已改正（`{}`）：\n\n```python\n{}\n```\n\n\
                         Rust，用实验室的 API 写（`cargo run --example {}`）：\n\n```rust\n{}\n```\n",
                    path(lesson, i + 1, "py"),
                    code.python.trim_end(),
                    example(lesson, i + 1),
                    code.rust.trim_end()
                ));
            }
            Section {
                title: section.title.clone(),
                body,
            }
        })
        .collect();
    Notes { sections, ..notes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lessons::LESSONS;

    /// Every lesson listed here has two programs per step, each one a cargo example, and no
    /// other file in its `code/` folder than those and the formatting settings.
    #[test]
    fn each_step_has_its_two_programs_and_an_example() {
        let manifest = include_str!("../../Cargo.toml");
        for (folder, steps) in CODE {
            let lesson = LESSONS
                .iter()
                .find(|lesson| lesson.folder() == *folder)
                .expect("a lesson of that folder");
            let notes = Notes::parse(lesson.notes.get());
            assert_eq!(steps.len(), notes.sections.len(), "{folder}");
            for step in 1..=steps.len() {
                let entry = format!(
                    "[[example]]\nname = \"{}\"\npath = \"{}\"\n",
                    example(lesson, step),
                    path(lesson, step, "rs")
                );
                assert!(manifest.contains(&entry), "Cargo.toml lacks:\n{entry}");
            }
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("lessons")
                .join(folder)
                .join("code");
            let mut files: Vec<String> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|entry| entry.unwrap().file_name().into_string().unwrap())
                .collect();
            files.sort();
            // rustfmt.toml keeps the Rust narrow enough for `run --code` at 80 columns.
            let mut expected: Vec<String> = (1..=steps.len())
                .flat_map(|step| [format!("step{step}.py"), format!("step{step}.rs")])
                .chain(["rustfmt.toml".to_string()])
                .collect();
            expected.sort();
            assert_eq!(files, expected, "{folder}");
        }
    }

    #[test]
    fn the_python_is_plain_ascii_quoted() {
        for (folder, steps) in CODE {
            for code in *steps {
                for curly in ['‘', '’', '“', '”'] {
                    assert!(!code.python.contains(curly), "{folder}: {curly}");
                }
            }
        }
    }
}

//! The lessons, one module each, and the registry that numbers them.
//!
//! A lesson is a little data (number, slug, title, notes) and one function, `run`, which the
//! lesson's main process calls. Numbers follow the tutorial's order and never change:
//! classrooms write them on the board.

use crate::error::{Error, Result};
use crate::lab::Lab;

#[path = "03_daemon_terminate.rs"]
pub mod daemon_terminate;
#[path = "04_socket_concurrency.rs"]
pub mod socket_concurrency;
#[path = "01_spawn_function.rs"]
pub mod spawn_function;
#[path = "02_spawn_worker.rs"]
pub mod spawn_worker;

/// One lesson: what the registry and the CLI know of it, and the code that runs it.
#[derive(Debug)]
pub struct Lesson {
    pub number: u32,
    pub slug: &'static str,
    pub title: &'static str,
    /// One line for `proclab list`.
    pub teaches: &'static str,
    /// The notes, `lessons/NN-slug.md`, compiled in; one `## ` section per step.
    pub notes: &'static str,
    /// Runs in the lesson's main process.
    pub run: fn(&mut Lab) -> Result<()>,
}

/// Every lesson, in curriculum order (the order matters: it is the numbering).
pub const LESSONS: &[&Lesson] = &[
    &spawn_function::LESSON,
    &spawn_worker::LESSON,
    &daemon_terminate::LESSON,
    &socket_concurrency::LESSON,
];

/// Finds a lesson by number (`1`, `01`) or slug (`spawn-function`).
pub fn find(wanted: &str) -> Result<&'static Lesson> {
    let wanted = wanted.trim();
    let by_number = wanted.parse::<u32>().ok();
    LESSONS
        .iter()
        .copied()
        .find(|lesson| Some(lesson.number) == by_number || lesson.slug == wanted)
        .ok_or_else(|| {
            let valid: Vec<String> = LESSONS
                .iter()
                .map(|l| format!("{} ({})", l.number, l.slug))
                .collect();
            Error::Usage(format!(
                "unknown lesson '{wanted}'; valid lessons: {}",
                valid.join(", ")
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notes::Notes;

    #[test]
    fn numbers_and_slugs_are_unique_and_in_order() {
        for pair in LESSONS.windows(2) {
            assert!(
                pair[0].number < pair[1].number,
                "{} then {}",
                pair[0].slug,
                pair[1].slug
            );
        }
        for (i, a) in LESSONS.iter().enumerate() {
            for b in &LESSONS[i + 1..] {
                assert_ne!(a.slug, b.slug);
            }
        }
    }

    #[test]
    fn every_lesson_has_notes_with_an_intro_and_steps() {
        for lesson in LESSONS {
            let notes = Notes::parse(lesson.notes);
            assert!(
                notes
                    .title
                    .starts_with(&format!("Lesson {}", lesson.number)),
                "{}: notes title {:?}",
                lesson.slug,
                notes.title
            );
            assert!(!notes.intro.is_empty(), "{}: no introduction", lesson.slug);
            assert!(
                !notes.sections.is_empty(),
                "{}: no step sections",
                lesson.slug
            );
            for section in &notes.sections {
                assert!(
                    !section.body.is_empty(),
                    "{}: empty section {}",
                    lesson.slug,
                    section.title
                );
            }
        }
    }

    #[test]
    fn finds_by_number_or_slug_and_refuses_the_rest() {
        assert_eq!(find("1").unwrap().slug, "spawn-function");
        assert_eq!(find("02").unwrap().slug, "spawn-worker");
        assert_eq!(find("spawn-worker").unwrap().number, 2);
        let error = find("99").unwrap_err().to_string();
        assert!(error.contains("unknown lesson '99'") && error.contains("1 (spawn-function)"));
    }
}

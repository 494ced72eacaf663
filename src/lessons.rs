//! The lesson registry: which lessons exist, in which order, and how to find one.
//!
//! A lesson is one folder under `lessons/` (at the top of the repository): `lesson.rs`, the
//! code its main process runs, and `notes.md`, one `## ` section per step. The folder's name
//! is `NN-slug`: the number is written there and nowhere else. Numbers follow the tutorial's
//! order and never change (classrooms write them on the board). Adding a lesson means one
//! folder and one line below.

use crate::error::{Error, Result};
use crate::lab::Lab;
use crate::view::lang::Text;

/// One lesson: what the registry and the CLI know of it, and the code that runs it.
#[derive(Debug)]
pub struct Lesson {
    /// Its code, `../lessons/NN-slug/lesson.rs` (relative to `src/`).
    pub path: &'static str,
    pub title: Text,
    /// One line for `proclab list`.
    pub teaches: Text,
    /// The notes, `lessons/NN-slug/notes.md` and `notes.zh.md`, compiled in; one `## `
    /// section per step, the same steps in the same order in both.
    pub notes: Text,
    /// The lesson's own code, compiled in too, so that a unit test can compare its step titles
    /// with the notes' headings.
    pub source: &'static str,
    /// Runs in the lesson's main process.
    pub run: fn(&mut Lab) -> Result<()>,
}

impl Lesson {
    /// Its folder's name, `NN-slug`.
    pub fn folder(&self) -> &'static str {
        let folder = self.path.trim_end_matches("/lesson.rs");
        &folder[folder.rfind('/').map_or(0, |slash| slash + 1)..]
    }

    /// The number, from the folder's name (`03-daemon-terminate` is lesson 3).
    pub fn number(&self) -> u32 {
        let digits: String = self
            .folder()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits
            .parse()
            .expect("a lesson folder starts with its number")
    }

    /// The slug, the folder's name after the number (`daemon-terminate`).
    pub fn slug(&self) -> &'static str {
        let folder = self.folder();
        &folder[folder.find('-').expect("a lesson folder is NN-slug") + 1..]
    }
}

/// Declares each lesson's module (its `lesson.rs`) and lists it in `LESSONS`. (`#[path]` takes
/// only a plain string, so the path is written whole; number and slug are read from it.)
macro_rules! registry {
    ($($path:literal => $module:ident,)*) => {
        $(
            #[path = $path]
            pub mod $module;
        )*

        /// Every lesson, in curriculum order (the order matters: it is the numbering).
        pub const LESSONS: &[Lesson] = &[$(Lesson {
            path: $path,
            title: $module::TITLE,
            teaches: $module::TEACHES,
            notes: $module::NOTES,
            source: include_str!($path),
            run: $module::run,
        }),*];
    };
}

registry! {
    "../lessons/01-spawn-function/lesson.rs" => spawn_function,
    "../lessons/02-spawn-worker/lesson.rs" => spawn_worker,
    "../lessons/03-daemon-terminate/lesson.rs" => daemon_terminate,
    "../lessons/04-socket-concurrency/lesson.rs" => socket_concurrency,
    "../lessons/05-process-lock/lesson.rs" => process_lock,
    "../lessons/06-queue/lesson.rs" => queue,
    "../lessons/07-pipe/lesson.rs" => pipe,
    "../lessons/08-shared-data/lesson.rs" => shared_data,
    "../lessons/09-semaphore-event/lesson.rs" => semaphore_event,
    "../lessons/10-pool/lesson.rs" => pool,
    "../lessons/11-threads-vs-processes/lesson.rs" => threads_vs_processes,
    "../lessons/12-gil/lesson.rs" => gil,
    "../lessons/13-thread-locks/lesson.rs" => thread_locks,
    "../lessons/14-thread-sync/lesson.rs" => thread_sync,
    "../lessons/15-producer-consumer/lesson.rs" => producer_consumer,
    "../lessons/16-io-models/lesson.rs" => io_models,
    "../lessons/17-coroutines/lesson.rs" => coroutines,
}
/// Finds a lesson by number (`1`, `01`) or slug (`spawn-function`).
pub fn find(wanted: &str) -> Result<&'static Lesson> {
    let wanted = wanted.trim();
    let by_number = wanted.parse::<u32>().ok();
    LESSONS
        .iter()
        .find(|lesson| Some(lesson.number()) == by_number || lesson.slug() == wanted)
        .ok_or_else(|| {
            let valid: Vec<String> = LESSONS
                .iter()
                .map(|l| format!("{} ({})", l.number(), l.slug()))
                .collect();
            Error::Usage(format!(
                "unknown lesson '{}'; valid lessons: {}",
                wanted.escape_debug(),
                valid.join(", ")
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::notes::Notes;

    #[test]
    fn numbers_and_slugs_are_unique_and_in_order() {
        for pair in LESSONS.windows(2) {
            assert!(
                pair[0].number() < pair[1].number(),
                "{} then {}",
                pair[0].slug(),
                pair[1].slug()
            );
        }
        for (i, a) in LESSONS.iter().enumerate() {
            for b in &LESSONS[i + 1..] {
                assert_ne!(a.slug(), b.slug());
            }
        }
    }

    #[test]
    fn every_lesson_has_notes_with_an_intro_and_steps() {
        for lesson in LESSONS {
            let english = Notes::parse(lesson.notes.en);
            let languages = [
                (english.clone(), format!("Lesson {}", lesson.number())),
                (
                    Notes::parse(lesson.notes.zh),
                    format!("第 {} 课", lesson.number()),
                ),
            ];
            for (notes, title) in languages {
                assert!(
                    notes.title.starts_with(&title),
                    "{}: notes title {:?}, not {title:?}",
                    lesson.slug(),
                    notes.title
                );
                assert!(
                    !notes.intro.is_empty(),
                    "{}: no introduction",
                    lesson.slug()
                );
                // The same steps in both languages, in the same order.
                assert_eq!(
                    notes.sections.len(),
                    english.sections.len(),
                    "{}: {title}",
                    lesson.slug()
                );
                for section in &notes.sections {
                    assert!(
                        !section.body.is_empty(),
                        "{}: empty section {}",
                        lesson.slug(),
                        section.title
                    );
                }
            }
        }
    }

    /// Every lesson speaks both languages: its title and what it teaches read as Chinese, and
    /// so does the introduction and every step of its notes (some Chinese in each: a step may
    /// quote a program's English output at length).
    #[test]
    fn every_lesson_is_in_chinese_too() {
        use crate::view::lang::{is_cjk, reads_as_chinese};
        for lesson in LESSONS {
            assert!(
                reads_as_chinese(lesson.title.zh) && reads_as_chinese(lesson.teaches.zh),
                "lesson {}: title or what it teaches is not Chinese",
                lesson.number()
            );
            let notes = Notes::parse(lesson.notes.zh);
            let bodies = std::iter::once(&notes.intro)
                .chain(notes.sections.iter().map(|section| &section.body));
            for body in bodies {
                assert!(
                    body.chars().filter(|&c| is_cjk(c)).count() > 20,
                    "lesson {}: notes.zh.md has a part without Chinese: {body:.60}",
                    lesson.number()
                );
            }
            for section in &notes.sections {
                assert!(
                    reads_as_chinese(&section.title),
                    "lesson {}: step title {:?}",
                    lesson.number(),
                    section.title
                );
            }
        }
    }

    #[test]
    fn finds_by_number_or_slug_and_refuses_the_rest() {
        assert_eq!(find("1").unwrap().slug(), "spawn-function");
        assert_eq!(find("02").unwrap().slug(), "spawn-worker");
        assert_eq!(find("spawn-worker").unwrap().number(), 2);
        let error = find("99").unwrap_err().to_string();
        assert!(error.contains("unknown lesson '99'") && error.contains("1 (spawn-function)"));
    }

    /// The code's `lab.step("...")` titles are the notes' `## ` headings, in order: code and
    /// notes cannot drift apart, and this is checked here rather than in a classroom.
    #[test]
    fn step_titles_in_the_code_match_the_notes() {
        for lesson in LESSONS {
            let in_code: Vec<&str> = lesson
                .source
                .split("lab.step(\"")
                .skip(1)
                .map(|rest| &rest[..rest.find('"').expect("a closing quote")])
                .collect();
            let notes = Notes::parse(lesson.notes.en);
            assert_eq!(in_code, notes.step_titles(), "lesson {}", lesson.slug());
        }
    }

    /// A title fits its column of `proclab list` at 80 columns, beside the number and slug
    /// (a Chinese character takes two columns).
    #[test]
    fn titles_fit_the_lesson_list() {
        for lesson in LESSONS {
            for title in [lesson.title.en, lesson.title.zh] {
                assert!(
                    crate::view::notes::display_width(title) <= 52,
                    "lesson {}: title too long for the list: {title:?}",
                    lesson.number(),
                );
            }
        }
    }

    #[test]
    fn number_and_slug_come_from_the_folder() {
        let lesson = &LESSONS[2];
        assert_eq!(lesson.folder(), "03-daemon-terminate");
        assert_eq!((lesson.number(), lesson.slug()), (3, "daemon-terminate"));
    }
}

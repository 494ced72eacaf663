//! Adding a lesson is adding its folder: with a throw-away lesson 18
//! (`tests/new_lesson/18-one-more/`) beside the real lessons, the registry generator
//! (`build.rs`, included here) lists it in every registry it writes (the lessons, their
//! outcomes, the per-lesson tests), and no other file is involved. Folders that break the
//! rules stop the build with a line that names the file.
//!
//! What this does not do is compile the crate with lesson 18 (a second build of the crate, too
//! slow for every `cargo test`): the last step of `.ci/run` does, in the same target folder,
//! then checks that `proclab list` shows lesson 18 and that `proclab run 18 --json` runs it.

#[allow(dead_code)]
#[path = "../build.rs"]
mod build_script;

use std::fs;
use std::path::{Path, PathBuf};

/// Files to write: a path under the lessons' folder, and the text.
type Files = Vec<(String, String)>;

/// A temporary folder of lessons: a link to each real one, and `extra` copied in.
struct Lessons(PathBuf);

impl Lessons {
    fn with(name: &str, extra: &[(&str, &str)]) -> Lessons {
        let dir =
            std::env::temp_dir().join(format!("proclab-new-lesson-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons");
        for entry in fs::read_dir(&real).unwrap() {
            let entry = entry.unwrap();
            std::os::unix::fs::symlink(entry.path(), dir.join(entry.file_name())).unwrap();
        }
        for (path, text) in extra {
            let path = dir.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        Lessons(dir)
    }

    /// The throw-away lesson 18's files, with `change` applied to the list.
    fn lesson_18(change: impl FnOnce(&mut Files)) -> Files {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/new_lesson/18-one-more");
        let mut files: Files = fs::read_dir(&fixture)
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                let name = entry.file_name().into_string().unwrap();
                (
                    format!("18-one-more/{name}"),
                    fs::read_to_string(entry.path()).unwrap(),
                )
            })
            .collect();
        change(&mut files);
        files
    }

    fn generated(&self) -> Result<Vec<(&'static str, String)>, String> {
        build_script::read_lessons(&self.0).map(|lessons| build_script::generate(&lessons))
    }
}

impl Drop for Lessons {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn borrowed(files: &[(String, String)]) -> Vec<(&str, &str)> {
    files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect()
}

#[test]
fn a_new_folder_is_in_every_registry() {
    let files = Lessons::lesson_18(|_| {});
    let lessons = Lessons::with("ok", &borrowed(&files));
    let generated = lessons.generated().unwrap();
    let file = |name: &str| &generated.iter().find(|(n, _)| *n == name).unwrap().1;
    let registry = file("lessons.rs");
    assert!(registry.contains("pub mod one_more;"), "{registry}");
    assert!(registry.contains("folder: \"18-one-more\""), "{registry}");
    assert!(registry.contains("\"One more lesson\"") && registry.contains("\"再加一课\""));
    assert!(registry.contains("run: one_more::run"), "{registry}");
    // Last, after lesson 17: the order is the numbering.
    assert!(registry.find("folder: \"17-").unwrap() < registry.find("folder: \"18-").unwrap());
    assert!(file("outcomes.rs").contains("(\"18-one-more\", one_more::measure)"));
    assert!(file("each_lesson.rs").contains("lesson_18 => \"18\""));
    // It has no questions and no code beside its steps, and needs none.
    assert!(!file("questions.rs").contains("18-one-more"));
    assert!(!file("code.rs").contains("18-one-more"));
    // The real lessons are all still there.
    for lesson in 1..=17 {
        assert!(file("each_lesson.rs").contains(&format!("lesson_{lesson:02} =>")));
    }
}

#[test]
fn a_step_may_have_python_only() {
    let files = Lessons::lesson_18(|files| {
        files.push(("18-one-more/code/step1.py".into(), "print('one')\n".into()));
    });
    let lessons = Lessons::with("python", &borrowed(&files));
    let generated = lessons.generated().unwrap();
    let code = &generated.iter().find(|(n, _)| *n == "code.rs").unwrap().1;
    let ours = &code[code.find("18-one-more").unwrap()..];
    assert!(
        ours.contains("code/step1.py") && ours.contains("rust: None"),
        "{ours}"
    );
    let steps = &generated.iter().find(|(n, _)| *n == "steps.rs").unwrap().1;
    assert!(!steps.contains("lesson18_"), "{steps}");
}

#[test]
fn a_folder_that_breaks_the_rules_is_refused_with_its_name() {
    let refused = |name: &str, change: &dyn Fn(&mut Files)| -> String {
        let files = Lessons::lesson_18(change);
        Lessons::with(name, &borrowed(&files))
            .generated()
            .unwrap_err()
    };
    let no_toml = refused("toml", &|files| {
        files.retain(|(p, _)| !p.ends_with("lesson.toml"))
    });
    assert_eq!(no_toml, "lessons/18-one-more: no lesson.toml");
    let no_title = refused("title", &|files| {
        for (path, text) in files.iter_mut() {
            if path.ends_with("lesson.toml") {
                *text = text.replace("[title]", "[heading]");
            }
        }
    });
    assert_eq!(no_title, "lessons/18-one-more/lesson.toml: no title.en");
    let rust_alone = refused("rust", &|files| {
        files.push((
            "18-one-more/code/step1.rs".into(),
            "pub fn main() {}\n".into(),
        ));
    });
    assert_eq!(
        rust_alone,
        "lessons/18-one-more/code: step1.rs has no step1.py beside it"
    );
    let same_number = refused("number", &|files| {
        let twice: Files = files
            .iter()
            .map(|(p, t)| (p.replace("18-one-more", "18-twice"), t.clone()))
            .collect();
        files.extend(twice);
    });
    assert_eq!(same_number, "18-one-more and 18-twice have the same number");
}

//! Two jobs before the crate compiles: the lesson registry, generated from the `lessons/`
//! folder, and one instruction to the linker.
//!
//! **The registry.** A lesson is one folder, `lessons/NN-slug/`, and nothing else names it: this
//! script reads every such folder and writes the lists the lab used to keep by hand, into
//! `OUT_DIR` where `src/` includes them:
//! - `lessons.rs` (for `src/lessons.rs`): each lesson's module (its `lesson.rs`), its title and
//!   teaching line (from `lesson.toml`) and its notes (`notes.md`, `notes.zh.md`);
//! - `outcomes.rs` (for `src/outcomes.rs`): each lesson's `outcomes.rs` as a module;
//! - `questions.rs` (for `src/predict.rs`): `questions.md` and `questions.zh.md`, where present;
//! - `code.rs` (for `src/view/code.rs`): `code/stepK.py` and, where there is one, `stepK.rs`;
//! - `steps.rs` (for `examples/step.rs`): every `stepK.rs` as a module, with its `main`;
//! - `each_lesson.rs` (for the tests): a macro that hands another macro one `name => "N"`
//!   pair per lesson, so that a per-lesson test exists for every folder.
//!
//! The folder's name gives the number and the module's name (`03-daemon-terminate` is lesson 3,
//! module `daemon_terminate`). A folder that breaks the rules stops the build with one line
//! that says which file and why.
//!
//! `PROCLAB_LESSONS_DIR` reads the lessons from another folder: only the proof that a new
//! folder is all a lesson needs sets it (the last step of `.ci/run`). `tests/new_lesson.rs`
//! includes this file to test the generator itself.
//!
//! **The linker**, for the speed of `Process::start`. A freshly forked child has none of the
//! program's code mapped: each 64 KiB stretch of code it runs for the first time is a page
//! fault, a few µs each (`proclab bench spawn` counts them). The functions a new child runs
//! (`start`'s child side, naming itself, its `start` and `done` events, its way out) are marked
//! `#[unsafe(link_section = ".text.hot.new_child")]`. By default the linker merges every
//! `.text.*` section into `.text` in the order it reads them, so functions from different
//! modules would still land far apart; `-z keep-text-section-prefix` makes it gather all
//! `.text.hot.*` sections in one place, so a new child faults in one stretch for them instead
//! of one per function.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rustc-link-arg-bins=-Wl,-z,keep-text-section-prefix");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PROCLAB_LESSONS_DIR");

    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let dir = match std::env::var_os("PROCLAB_LESSONS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => manifest.join("lessons"),
    };
    // Cargo scans a directory given here for any change in it, so a new lesson folder, or a
    // new or edited file in one, runs this script again.
    println!("cargo:rerun-if-changed={}", dir.display());
    let lessons = match read_lessons(&dir) {
        Ok(lessons) => lessons,
        Err(why) => {
            // `cargo:error` is too new for every toolchain; a panic shows the line too.
            panic!("proclab: {why}")
        }
    };
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    for (name, text) in generate(&lessons) {
        write_if_changed(&out.join(name), &text);
    }
    let exercises_dir = manifest.join("exercises");
    println!("cargo:rerun-if-changed={}", exercises_dir.display());
    let exercises = read_exercises(&exercises_dir).unwrap_or_else(|why| panic!("proclab: {why}"));
    write_if_changed(&out.join("exercises.rs"), &generate_exercises(&exercises));
}

/// One exercise folder, `exercises/NN-slug/`, as read from disk: its `exercise.toml` (title,
/// statement and hints in both languages, the lesson it follows, its limits), its judge
/// `check.rs`, and its programs: `starter.py` and `solution.py`, and where the exercise has
/// one in Rust, `starter.rs` and `solution.rs`.
#[derive(Debug)]
struct ExerciseDir {
    folder: String,
    number: u32,
    path: PathBuf,
    lesson: u32,
    title: (String, String),
    statement: (String, String),
    hints: Vec<(String, String)>,
    seconds: f64,
    processes: u32,
    has_rust: bool,
}

/// Every `NN-slug` folder under `dir`, in number order (none if there is no such folder).
fn read_exercises(dir: &Path) -> Result<Vec<ExerciseDir>, String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut exercises = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        if !entry.path().is_dir() {
            continue;
        }
        let folder = entry.file_name().to_string_lossy().into_owned();
        exercises.push(read_exercise(&entry.path(), &folder)?);
    }
    exercises.sort_by_key(|e| e.number);
    for pair in exercises.windows(2) {
        if pair[0].number == pair[1].number {
            return Err(format!(
                "exercises/{} and {} have the same number",
                pair[0].folder, pair[1].folder
            ));
        }
    }
    Ok(exercises)
}

fn read_exercise(path: &Path, folder: &str) -> Result<ExerciseDir, String> {
    let at = |why: String| format!("exercises/{folder}: {why}");
    let number = folder
        .split_once('-')
        .filter(|(digits, slug)| {
            digits.len() == 2
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !slug.is_empty()
                && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        .and_then(|(digits, _)| digits.parse().ok())
        .ok_or_else(|| at("an exercise folder is named NN-slug (two digits, a dash, lower-case words joined by dashes)".into()))?;
    for file in ["exercise.toml", "check.rs", "starter.py", "solution.py"] {
        if !path.join(file).is_file() {
            return Err(at(format!("no {file}")));
        }
    }
    let has_rust = path.join("starter.rs").is_file();
    if path.join("solution.rs").is_file() != has_rust {
        return Err(at("starter.rs and solution.rs go together".into()));
    }
    let text = fs::read_to_string(path.join("exercise.toml")).map_err(|e| at(e.to_string()))?;
    let table = parse_exercise_toml(&text).map_err(|why| at(format!("exercise.toml: {why}")))?;
    let one = |key: &str| -> Result<String, String> {
        match table.iter().find(|(k, _)| k == key) {
            Some((_, TomlValue::One(value))) => Ok(value.clone()),
            Some(_) => Err(at(format!("exercise.toml: {key} is one value, not a list"))),
            None => Err(at(format!("exercise.toml: no {key}"))),
        }
    };
    let list = |key: &str| -> Result<Vec<String>, String> {
        match table.iter().find(|(k, _)| k == key) {
            Some((_, TomlValue::List(values))) => Ok(values.clone()),
            Some(_) => Err(at(format!("exercise.toml: {key} is a list [\"...\", ...]"))),
            None => Err(at(format!("exercise.toml: no {key}"))),
        }
    };
    let number_of = |key: &str| -> Result<f64, String> {
        one(key)?
            .parse::<f64>()
            .map_err(|_| at(format!("exercise.toml: {key} is a number")))
    };
    let hints_en = list("hints.en")?;
    let hints_zh = list("hints.zh")?;
    if hints_en.len() != hints_zh.len() || hints_en.is_empty() {
        return Err(at(
            "exercise.toml: hints.en and hints.zh have the same number of hints, one at least"
                .into(),
        ));
    }
    Ok(ExerciseDir {
        folder: folder.to_string(),
        number,
        path: path.to_path_buf(),
        lesson: number_of("lesson")? as u32,
        title: (one("title.en")?, one("title.zh")?),
        statement: (one("statement.en")?, one("statement.zh")?),
        hints: hints_en.into_iter().zip(hints_zh).collect(),
        seconds: number_of("limits.seconds")?,
        processes: number_of("limits.processes")? as u32,
        has_rust,
    })
}

/// A value of `exercise.toml`: a string or a number (kept as its text), or a list of strings.
#[derive(Debug, PartialEq)]
enum TomlValue {
    One(String),
    List(Vec<String>),
}

/// The part of TOML that `exercise.toml` uses: `lesson.toml`'s (see `parse_toml`), plus bare
/// numbers and lists of strings (`en = [` and one `"string",` per line, then `]`).
fn parse_exercise_toml(text: &str) -> Result<Vec<(String, TomlValue)>, String> {
    let mut plain = String::new();
    let mut pairs = Vec::new();
    let mut lines = text.lines().enumerate();
    let mut table = String::new();
    while let Some((i, line)) = lines.next() {
        let trimmed = line.trim();
        if let Some(name) = trimmed.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            table = format!("{}.", name.trim());
        }
        let Some((key, value)) = trimmed.split_once('=') else {
            plain.push_str(line);
            plain.push('\n');
            continue;
        };
        let key = format!("{table}{}", key.trim());
        let value = value.trim();
        if value == "[" {
            let mut items = Vec::new();
            loop {
                let Some((j, item)) = lines.next() else {
                    return Err(format!("line {}: the list is not closed with ]", i + 1));
                };
                let item = item.trim();
                if item == "]" {
                    break;
                }
                let item = item.strip_suffix(',').unwrap_or(item);
                let parsed = parse_toml(&format!("item = {item}"))
                    .map_err(|why| format!("line {}: {why}", j + 1))?;
                items.push(
                    parsed
                        .into_iter()
                        .next()
                        .map(|(_, v)| v)
                        .unwrap_or_default(),
                );
            }
            pairs.push((key, TomlValue::List(items)));
        } else if !value.starts_with('"') {
            if value.parse::<f64>().is_err() {
                return Err(format!(
                    "line {}: a value is a \"string\", a number or a list",
                    i + 1
                ));
            }
            pairs.push((key, TomlValue::One(value.to_string())));
        } else {
            plain.push_str(line);
            plain.push('\n');
        }
    }
    for (key, value) in parse_toml(&plain)? {
        pairs.push((key, TomlValue::One(value)));
    }
    Ok(pairs)
}

/// `exercises.rs` (for `src/exercise/mod.rs`): each exercise's `check.rs` as a module, and
/// `EXERCISES`, with their texts and programs embedded.
fn generate_exercises(exercises: &[ExerciseDir]) -> String {
    let file = |exercise: &ExerciseDir, name: &str| {
        format!("{:?}", exercise.path.join(name).display().to_string())
    };
    let mut out = String::from(
        "// Generated by build.rs from the exercises/ folder: edit the folders, not this.\n\n",
    );
    for exercise in exercises {
        writeln!(
            out,
            "#[path = {}]\nmod check_{:02};",
            file(exercise, "check.rs"),
            exercise.number
        )
        .unwrap();
    }
    out.push_str(
        "\n/// Every exercise, in curriculum order.\npub static EXERCISES: &[Exercise] = &[\n",
    );
    for exercise in exercises {
        let hints: Vec<String> = exercise
            .hints
            .iter()
            .map(|(en, zh)| format!("Text {{ en: {en:?}, zh: {zh:?} }}"))
            .collect();
        let code = |kind: &str| {
            format!(
                "Code {{ starter: include_str!({}), solution: include_str!({}) }}",
                file(exercise, &format!("starter.{kind}")),
                file(exercise, &format!("solution.{kind}"))
            )
        };
        writeln!(
            out,
            "    Exercise {{\n        folder: {:?},\n        lesson: {},\n        \
             title: Text {{ en: {:?}, zh: {:?} }},\n        \
             statement: Text {{ en: {:?}, zh: {:?} }},\n        hints: &[{}],\n        \
             limits: Limits {{ seconds: {:?}, processes: {} }},\n        python: {},\n        \
             rust: {},\n        check: check_{:02}::check,\n    }},",
            exercise.folder,
            exercise.lesson,
            exercise.title.0,
            exercise.title.1,
            exercise.statement.0,
            exercise.statement.1,
            hints.join(", "),
            exercise.seconds,
            exercise.processes,
            code("py"),
            match exercise.has_rust {
                true => format!("Some({})", code("rs")),
                false => "None".to_string(),
            },
            exercise.number
        )
        .unwrap();
    }
    out.push_str("];\n");
    out
}

/// One lesson folder, as read from disk.
#[derive(Debug, PartialEq)]
pub(crate) struct LessonDir {
    /// The folder's name, `NN-slug`.
    folder: String,
    number: u32,
    /// The module's name: the slug with `_` for `-`.
    module: String,
    /// The folder's absolute path.
    path: PathBuf,
    title: (String, String),
    teaches: (String, String),
    has_outcomes: bool,
    has_questions: bool,
    /// Whether `lesson.rs` has `pub fn spawned_child(port: u16)`: a child that the lesson
    /// starts by running the lab's binary again (`proclab spawn-child --lesson N --port P`).
    has_spawned_child: bool,
    /// For each step that has code (from 1, without gaps): whether it has Rust beside its
    /// Python.
    code_steps: Vec<bool>,
}

/// Reads every `NN-slug` folder under `dir`, in number order.
pub(crate) fn read_lessons(dir: &Path) -> Result<Vec<LessonDir>, String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut lessons = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        // (`path().is_dir()` follows a symbolic link to a folder.)
        if !entry.path().is_dir() {
            continue;
        }
        let folder = entry.file_name().into_string().map_err(|name| {
            format!(
                "{}: a lesson folder's name is ASCII",
                name.to_string_lossy()
            )
        })?;
        lessons.push(read_lesson(&entry.path(), &folder)?);
    }
    lessons.sort_by(|a, b| (a.number, &a.folder).cmp(&(b.number, &b.folder)));
    for pair in lessons.windows(2) {
        if pair[0].number == pair[1].number {
            return Err(format!(
                "{} and {} have the same number",
                pair[0].folder, pair[1].folder
            ));
        }
    }
    if lessons.is_empty() {
        return Err(format!("no lesson folder in {}", dir.display()));
    }
    Ok(lessons)
}

fn read_lesson(path: &Path, folder: &str) -> Result<LessonDir, String> {
    let (digits, slug) = folder
        .split_once('-')
        .filter(|(digits, slug)| {
            !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !slug.is_empty()
                && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && slug.as_bytes()[0].is_ascii_lowercase()
        })
        .ok_or_else(|| {
            format!("lessons/{folder}: a lesson folder is named NN-slug (digits, a dash, then lower-case words joined by dashes)")
        })?;
    let number = digits
        .parse()
        .map_err(|_| format!("lessons/{folder}: number too large"))?;
    let need = |file: &str| -> Result<PathBuf, String> {
        let file = path.join(file);
        match file.is_file() {
            true => Ok(file),
            false => Err(format!(
                "lessons/{folder}: no {}",
                file.file_name().unwrap().to_string_lossy()
            )),
        }
    };
    need("lesson.rs")?;
    need("notes.md")?;
    need("notes.zh.md")?;
    let toml_path = need("lesson.toml")?;
    let toml =
        fs::read_to_string(&toml_path).map_err(|e| format!("lessons/{folder}/lesson.toml: {e}"))?;
    let table = parse_toml(&toml).map_err(|why| format!("lessons/{folder}/lesson.toml: {why}"))?;
    let get = |key: &str| -> Result<String, String> {
        table
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, value)| value.clone())
            .ok_or_else(|| format!("lessons/{folder}/lesson.toml: no {key}"))
    };
    let title = (get("title.en")?, get("title.zh")?);
    let teaches = (get("teaches.en")?, get("teaches.zh")?);

    let has_outcomes = path.join("outcomes.rs").is_file();
    let has_spawned_child = fs::read_to_string(path.join("lesson.rs"))
        .map_err(|e| format!("lessons/{folder}/lesson.rs: {e}"))?
        .contains("pub fn spawned_child(port: u16)");
    let has_questions = path.join("questions.md").is_file();
    if path.join("questions.zh.md").is_file() != has_questions {
        return Err(format!(
            "lessons/{folder}: questions.md and questions.zh.md go together"
        ));
    }
    let code_steps = read_code_steps(&path.join("code"))
        .map_err(|why| format!("lessons/{folder}/code: {why}"))?;
    Ok(LessonDir {
        folder: folder.to_string(),
        number,
        module: slug.replace('-', "_"),
        path: path.to_path_buf(),
        title,
        teaches,
        has_outcomes,
        has_questions,
        has_spawned_child,
        code_steps,
    })
}

/// The steps with code in `code/`: `step1.py`, `step2.py`, ... without gaps, each with its
/// `stepK.rs` or without one (a step may have only the tutorial's Python). A `stepK.rs` needs
/// its `stepK.py`.
fn read_code_steps(code: &Path) -> Result<Vec<bool>, String> {
    let Ok(entries) = fs::read_dir(code) else {
        return Ok(Vec::new());
    };
    let mut python = Vec::new();
    let mut rust = Vec::new();
    for entry in entries {
        let name = entry.map_err(|e| e.to_string())?.file_name();
        let name = name.to_string_lossy();
        let Some(rest) = name.strip_prefix("step") else {
            continue;
        };
        let Some((step, kind)) = rest.split_once('.') else {
            continue;
        };
        let Ok(step) = step.parse::<usize>() else {
            continue;
        };
        match kind {
            "py" => python.push(step),
            "rs" => rust.push(step),
            _ => {}
        }
    }
    python.sort();
    if python.iter().enumerate().any(|(i, &step)| step != i + 1) {
        return Err(format!(
            "the steps' Python files are step1.py to stepN.py without gaps, not {python:?}"
        ));
    }
    if let Some(step) = rust.iter().find(|step| !python.contains(step)) {
        return Err(format!("step{step}.rs has no step{step}.py beside it"));
    }
    Ok(python.iter().map(|step| rust.contains(step)).collect())
}

/// The part of TOML that `lesson.toml` uses: `[table]` headers, `key = "string"` lines (basic
/// strings, with `\"`, `\\`, `\n` and `\t`), comments and blank lines. Returns `table.key`
/// and value pairs. Anything else is an error, so that nothing in the file is silently ignored.
fn parse_toml(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut table = String::new();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        let at = |why: &str| format!("line {}: {why}", i + 1);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            table = format!("{}.", name.trim());
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| at("expected key = \"value\""))?;
        let key = format!("{table}{}", key.trim());
        let value = value.trim();
        let inner = value
            .strip_prefix('"')
            .ok_or_else(|| at("a value is a \"quoted string\""))?;
        let mut unescaped = String::new();
        let mut chars = inner.chars();
        let mut closed = false;
        while let Some(c) = chars.next() {
            match c {
                '"' => {
                    closed = true;
                    break;
                }
                '\\' => unescaped.push(match chars.next() {
                    Some('"') => '"',
                    Some('\\') => '\\',
                    Some('n') => '\n',
                    Some('t') => '\t',
                    other => return Err(at(&format!("unknown escape \\{}", other.unwrap_or(' ')))),
                }),
                c => unescaped.push(c),
            }
        }
        let rest = chars.as_str().trim();
        if !closed || !(rest.is_empty() || rest.starts_with('#')) {
            return Err(at("a value is one \"quoted string\" on its line"));
        }
        if pairs.iter().any(|(k, _)| *k == key) {
            return Err(at(&format!("{key} is given twice")));
        }
        pairs.push((key, unescaped));
    }
    Ok(pairs)
}

/// The generated files, by name.
pub(crate) fn generate(lessons: &[LessonDir]) -> Vec<(&'static str, String)> {
    let file = |lesson: &LessonDir, name: &str| {
        format!("{:?}", lesson.path.join(name).display().to_string())
    };
    let header =
        "// Generated by build.rs from the lessons/ folder: edit the lesson folders, not this.\n\n";

    let mut registry = header.to_string();
    for lesson in lessons {
        writeln!(
            registry,
            "#[path = {}]\npub mod {};",
            file(lesson, "lesson.rs"),
            lesson.module
        )
        .unwrap();
    }
    registry.push_str(
        "\n/// Every lesson, in curriculum order (the order matters: it is the numbering).\n",
    );
    registry.push_str("pub static LESSONS: &[Lesson] = &[\n");
    for lesson in lessons {
        writeln!(
            registry,
            "    Lesson {{\n        folder: {:?},\n        title: Text {{ en: {:?}, zh: {:?} }},\n        \
             teaches: Text {{ en: {:?}, zh: {:?} }},\n        \
             notes: Text {{ en: include_str!({}), zh: include_str!({}) }},\n        run: {}::run,\n        \
             spawned_child: {},\n    }},",
            lesson.folder,
            lesson.title.0,
            lesson.title.1,
            lesson.teaches.0,
            lesson.teaches.1,
            file(lesson, "notes.md"),
            file(lesson, "notes.zh.md"),
            lesson.module,
            match lesson.has_spawned_child {
                true => format!("Some({}::spawned_child)", lesson.module),
                false => "None".to_string(),
            }
        )
        .unwrap();
    }
    registry.push_str("];\n");

    let mut outcomes = header.to_string();
    for lesson in lessons.iter().filter(|l| l.has_outcomes) {
        writeln!(
            outcomes,
            "#[path = {}]\nmod {};",
            file(lesson, "outcomes.rs"),
            lesson.module
        )
        .unwrap();
    }
    outcomes.push_str("\n/// The lessons with an `outcomes.rs`, by folder.\nstatic MEASURES: &[(&str, Measure)] = &[\n");
    for lesson in lessons.iter().filter(|l| l.has_outcomes) {
        writeln!(
            outcomes,
            "    ({:?}, {}::measure),",
            lesson.folder, lesson.module
        )
        .unwrap();
    }
    outcomes.push_str("];\n");

    let mut questions = header.to_string();
    questions.push_str("/// The questions of each lesson that has some, by folder.\nstatic QUESTIONS: &[(&str, Text)] = &[\n");
    for lesson in lessons.iter().filter(|l| l.has_questions) {
        writeln!(
            questions,
            "    ({:?}, Text {{ en: include_str!({}), zh: include_str!({}) }}),",
            lesson.folder,
            file(lesson, "questions.md"),
            file(lesson, "questions.zh.md")
        )
        .unwrap();
    }
    questions.push_str("];\n");

    let mut code = header.to_string();
    code.push_str(
        "/// The lessons that have code beside their steps, by folder, and each step's programs.\n",
    );
    code.push_str("static CODE: &[(&str, &[StepCode])] = &[\n");
    for lesson in lessons.iter().filter(|l| !l.code_steps.is_empty()) {
        writeln!(code, "    ({:?}, &[", lesson.folder).unwrap();
        for (i, has_rust) in lesson.code_steps.iter().enumerate() {
            let step = i + 1;
            let rust = match has_rust {
                true => format!(
                    "Some(include_str!({}))",
                    file(lesson, &format!("code/step{step}.rs"))
                ),
                false => "None".to_string(),
            };
            writeln!(
                code,
                "        StepCode {{ python: include_str!({}), rust: {rust} }},",
                file(lesson, &format!("code/step{step}.py"))
            )
            .unwrap();
        }
        code.push_str("    ]),\n");
    }
    code.push_str("];\n");

    let mut steps = header.to_string();
    let mut table = String::from(
        "\n/// Every step's Rust program: lesson, step, and its `main`, whose result becomes the\n\
         /// exit status as a program's would.\n\
         static STEPS: &[(u32, usize, Main)] = &[\n",
    );
    for lesson in lessons {
        for (i, _) in lesson
            .code_steps
            .iter()
            .enumerate()
            .filter(|(_, rust)| **rust)
        {
            let step = i + 1;
            let module = format!("lesson{}_step{step}", lesson.number);
            writeln!(
                steps,
                "#[path = {}]\nmod {module};",
                file(lesson, &format!("code/step{step}.rs"))
            )
            .unwrap();
            writeln!(
                table,
                "    ({}, {step}, || std::process::Termination::report({module}::main())),",
                lesson.number
            )
            .unwrap();
        }
    }
    steps.push_str(&table);
    steps.push_str("];\n");

    let mut each = header.to_string();
    each.push_str(
        "/// `each_lesson!(m)` calls `m! { lesson_01 => \"1\", ... }`: one name and number per lesson\n\
         /// folder, for tests that are one test per lesson.\n\
         #[allow(unused_macros)]\nmacro_rules! each_lesson {\n    ($m:ident) => {\n        $m! {\n",
    );
    for lesson in lessons {
        writeln!(
            each,
            "            lesson_{:02} => \"{}\",",
            lesson.number, lesson.number
        )
        .unwrap();
    }
    each.push_str("        }\n    };\n}\n");

    vec![
        ("lessons.rs", registry),
        ("outcomes.rs", outcomes),
        ("questions.rs", questions),
        ("code.rs", code),
        ("steps.rs", steps),
        ("each_lesson.rs", each),
    ]
}

/// Writes `text` to `path` unless it is there already (an unchanged file does not make cargo
/// compile again).
fn write_if_changed(path: &Path, text: &str) {
    if fs::read_to_string(path).is_ok_and(|old| old == text) {
        return;
    }
    fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

//! `--export` and `proclab export`: the pictures of a run, checked against the run's own
//! events. The SVG is read as XML, one lane per process and thread; the Chrome trace is read
//! as the trace event format; the page must reach nothing outside itself. Then a real browser
//! (headless Chromium) opens the SVG and the page of lessons 1, 5, 12 and 16, in English and
//! in Chinese: each screenshot must show a picture, and each lane's name must be in the page.
//!
//! Chromium (Debian's `chromium`) and a CJK font (`fonts-noto-cjk`) are installed by `.ci/run`;
//! elsewhere, without them, the browser test says it skipped; with `PROCLAB_CI` set it fails.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{Events, Lab};
use serde_json::Value;

/// A folder for one test's pictures, beside the lab's own temp dir (which must be left empty
/// by every run), removed when the test ends.
struct Pictures(PathBuf);

impl Pictures {
    fn new(test: &str) -> Pictures {
        let dir =
            std::env::temp_dir().join(format!("proclab-export-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Pictures(dir)
    }

    fn join(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for Pictures {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Who the events say lived in the run, as lanes: (pid, tid or none) with its name.
fn actors(events: &Events) -> BTreeMap<(i64, Option<i64>), String> {
    let mut actors = BTreeMap::new();
    for event in &events.0 {
        let pid = event["pid"].as_i64().unwrap();
        let tid = event["tid"].as_i64();
        let name = match tid {
            Some(_) => event["thread"].as_str().unwrap_or_default(),
            None => event["name"].as_str().unwrap(),
        };
        actors.entry((pid, tid)).or_insert_with(|| name.to_string());
        if event["kind"] == "spawn" {
            let child = event["child"].as_i64().unwrap();
            let name = event["child_name"].as_str().unwrap();
            actors
                .entry((child, None))
                .or_insert_with(|| name.to_string());
        }
    }
    actors
}

/// Runs `lesson` with `--json --speed 20 --export FILE` (and `extra`): its events, and the file.
#[track_caller]
fn run_exported(
    lab: &Lab,
    pictures: &Pictures,
    lesson: &str,
    file: &str,
    extra: &[&str],
) -> (Events, PathBuf) {
    let path = pictures.join(file);
    let path_text = path.to_str().unwrap().to_string();
    let mut args = vec!["--export", &path_text];
    args.extend_from_slice(extra);
    let events = lab.lesson(lesson, &args);
    assert!(path.exists(), "{} was not written", path.display());
    (events, path)
}

/// `proclab export EVENTS FILE` of `events`, which must succeed: the file's text.
#[track_caller]
fn exported(lab: &Lab, pictures: &Pictures, events: &Events, file: &str, extra: &[&str]) -> String {
    let input = pictures.join(&format!("{file}.events.jsonl"));
    let lines: Vec<String> = events.0.iter().map(Value::to_string).collect();
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let output = pictures.join(file);
    let mut args = vec!["export", input.to_str().unwrap(), output.to_str().unwrap()];
    args.extend_from_slice(extra);
    let finished = lab.run(&args, "");
    assert!(finished.status.success(), "{}", finished.stderr);
    std::fs::read_to_string(&output).unwrap()
}

#[test]
fn the_svg_has_one_lane_per_process_and_thread_named_as_in_the_events() {
    let (lab, pictures) = (Lab::new(), Pictures::new("lanes"));
    let (events, path) = run_exported(&lab, &pictures, "12", "gil.svg", &[]);
    let svg = std::fs::read_to_string(&path).unwrap();
    let document = roxmltree::Document::parse(&svg).expect("the SVG is well-formed XML");
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.attribute("width"),
        Some("1280"),
        "drawn for a 1280-pixel slide"
    );
    let lanes: BTreeMap<(String, String), usize> = root
        .descendants()
        .filter(|node| node.attribute("class") == Some("lane"))
        .fold(BTreeMap::new(), |mut lanes, lane| {
            let key = (
                lane.attribute("data-name").unwrap().to_string(),
                lane.attribute("data-id").unwrap().to_string(),
            );
            *lanes.entry(key).or_default() += 1;
            lanes
        });
    let expected: BTreeMap<(String, String), usize> = actors(&events)
        .into_iter()
        .map(|((pid, tid), name)| ((name, tid.unwrap_or(pid).to_string()), 1))
        .collect();
    assert!(
        expected.keys().any(|(name, _)| name.starts_with("worker")),
        "lesson 12 has threads"
    );
    assert_eq!(
        lanes, expected,
        "one lane per process and thread of the run"
    );
    // Readable when projected: no text under 12 pixels.
    for node in root.descendants().filter(|n| n.has_attribute("font-size")) {
        let size: f64 = node.attribute("font-size").unwrap().parse().unwrap();
        assert!(size >= 12.0, "text of {size} px: {:?}", node);
    }
    // Every step is a band with its title.
    let titles: BTreeSet<String> = root
        .descendants()
        .filter(|n| n.tag_name().name() == "title")
        .filter_map(|n| n.text().map(str::to_string))
        .collect();
    for event in events.of_kind("step") {
        let wanted = format!("{} · {}", event["index"], event["title"].as_str().unwrap());
        assert!(titles.contains(&wanted), "no band titled {wanted}");
    }
}

#[test]
fn the_trace_follows_the_chrome_trace_event_format() {
    let (lab, pictures) = (Lab::new(), Pictures::new("trace"));
    let events = lab.lesson("1", &["--seed", "5"]);
    let trace: Value = serde_json::from_str(&exported(&lab, &pictures, &events, "run.json", &[]))
        .expect("the trace is JSON");
    let trace_events = trace["traceEvents"].as_array().expect("traceEvents");
    let last_t = events.0.iter().map(common::t).fold(0.0, f64::max);
    let mut names: BTreeMap<(i64, i64), String> = BTreeMap::new();
    let mut process_names: BTreeMap<i64, String> = BTreeMap::new();
    let mut flows: BTreeMap<i64, Vec<&str>> = BTreeMap::new();
    let mut says = 0;
    for event in trace_events {
        let ph = event["ph"].as_str().expect("every event has a phase");
        assert!(
            ["M", "X", "i", "s", "f"].contains(&ph),
            "unknown phase: {event}"
        );
        let (pid, tid) = (event["pid"].as_i64(), event["tid"].as_i64());
        let (Some(pid), Some(tid)) = (pid, tid) else {
            panic!("pid and tid are integers: {event}")
        };
        if ph == "M" {
            let name = event["args"]["name"].as_str().map(str::to_string);
            match event["name"].as_str().unwrap() {
                "process_name" => drop(process_names.insert(pid, name.unwrap())),
                "thread_name" => drop(names.insert((pid, tid), name.unwrap())),
                "process_sort_index" | "thread_sort_index" => {}
                other => panic!("unknown metadata {other}"),
            }
            continue;
        }
        // Microseconds since the run began: within the run's time.
        let ts = event["ts"].as_f64().expect("ts is a number");
        assert!(
            (0.0..=last_t * 1e6 + 1.0).contains(&ts),
            "ts {ts} µs outside the run: {event}"
        );
        match ph {
            "X" => assert!(event["dur"].as_f64().unwrap() >= 0.0, "{event}"),
            "s" | "f" => flows
                .entry(event["id"].as_i64().unwrap())
                .or_default()
                .push(ph),
            "i" if event["cat"] == "say" => says += 1,
            _ => {}
        }
    }
    for ((pid, tid), name) in actors(&events) {
        let tid = tid.unwrap_or(pid);
        assert_eq!(names.get(&(pid, tid)), Some(&name), "track {pid}/{tid}");
        if tid == pid {
            assert_eq!(process_names.get(&pid), Some(&name), "process {pid}");
        }
    }
    assert_eq!(
        says,
        events.of_kind("say").len(),
        "an instant for each say line"
    );
    let forks = events.of_kind("spawn").len();
    assert_eq!(flows.len(), forks, "a flow arrow for each fork");
    assert!(flows.values().all(|ends| ends == &["s", "f"]), "{flows:?}");
}

#[test]
fn the_page_reaches_nothing_outside_itself() {
    let (lab, pictures) = (Lab::new(), Pictures::new("page"));
    let events = lab.lesson("5", &["--seed", "3"]);
    for extra in [&[][..], &["--lang", "zh", "--theme", "dark"][..]] {
        let page = exported(&lab, &pictures, &events, "lesson5.html", extra);
        assert!(page.starts_with("<!DOCTYPE html>"), "{}", &page[..40]);
        let lower = page.to_lowercase();
        for reference in ["http:", "https:", "src=", "href=", "@import", "url(//"] {
            assert!(!lower.contains(reference), "the page holds {reference}");
        }
        // Any url() is to something inside the page (a pattern, a clip).
        for (at, _) in lower.match_indices("url(") {
            assert!(lower[at..].starts_with("url(#"), "{}", &page[at..at + 40]);
        }
        for name in actors(&events).values() {
            assert!(page.contains(&format!("\"{name}")), "no lane for {name}");
        }
    }
}

#[test]
fn a_file_that_is_no_picture_or_no_events_is_refused_in_one_line() {
    let (lab, pictures) = (Lab::new(), Pictures::new("refused"));
    let cases: [(&[&str], &str); 3] = [
        (&["run", "1", "--export", "run.png"], ".svg"),
        (&["export", "missing.jsonl", "run.svg"], "cannot read"),
        (&["export", "cast", "run.svg"], "recording"),
    ];
    let cast = pictures.join("cast");
    std::fs::write(
        &cast,
        "{\"version\": 2, \"width\": 80, \"height\": 24}\n[0.1, \"o\", \"hi\"]\n",
    )
    .unwrap();
    for (args, says) in cases {
        let mut command = lab.command(args);
        command.current_dir(&pictures.0);
        let finished = lab.run_command(command, "");
        assert_eq!(
            finished.status.code(),
            Some(2),
            "{args:?}: {}",
            finished.stderr
        );
        let stderr = finished.stderr.trim_end();
        assert!(
            stderr.starts_with("proclab:") && !stderr.contains('\n') && stderr.contains(says),
            "{args:?}: {stderr}"
        );
        assert!(
            finished.stdout.is_empty(),
            "nothing ran: {}",
            finished.stdout
        );
    }
}

#[test]
fn pauses_at_prompts_are_cut_to_a_narrow_gap() {
    // A run whose main process waited 100 s at a prompt between two stretches of 1 s of work.
    let event = |t: f64, kind: &str, more: &str| {
        format!(r#"{{"t":{t},"pid":10,"ppid":1,"name":"main","kind":"{kind}"{more}}}"#)
    };
    let lines = [
        event(0.0, "start", ""),
        event(0.0, "step", r#","index":1,"title":"One""#),
        event(1.0, "say", r#","text":"working""#),
        event(101.0, "pause", r#","seconds":100.0"#),
        event(101.0, "step", r#","index":2,"title":"Two""#),
        event(102.0, "done", r#","code":0"#),
    ];
    let (lab, pictures) = (Lab::new(), Pictures::new("pauses"));
    let events = Events(
        lines
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
    );
    let svg = exported(&lab, &pictures, &events, "paused.svg", &[]);
    let document = roxmltree::Document::parse(&svg).unwrap();
    let gaps: Vec<f64> = document
        .descendants()
        .filter(|n| n.attribute("class") == Some("pauses"))
        .flat_map(|g| g.descendants().filter(|n| n.tag_name().name() == "rect"))
        .map(|rect| rect.attribute("width").unwrap().parse().unwrap())
        .collect();
    assert_eq!(gaps.len(), 1, "one pause");
    assert!(
        gaps[0] < 40.0,
        "cut to a narrow gap, not 98% of the width: {}",
        gaps[0]
    );
    assert!(
        svg.contains("cut out"),
        "the subtitle says the pause was cut"
    );
}

/// Headless Chromium, or why not: `None` outside CI when it is missing (the test says it
/// skipped); in CI (`PROCLAB_CI`) a missing browser or CJK font fails.
fn chromium() -> Option<String> {
    let browser = ["chromium", "chromium-browser"].into_iter().find(|name| {
        Command::new(name)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .is_ok_and(|out| out.status.success())
    });
    let cjk_font = Command::new("fc-list")
        .arg(":lang=zh")
        .output()
        .is_ok_and(|out| !out.stdout.is_empty());
    let missing = match (browser, cjk_font) {
        (Some(browser), true) => return Some(browser.to_string()),
        (None, _) => "chromium (apt-get install chromium)",
        (Some(_), false) => "a CJK font (apt-get install fonts-noto-cjk)",
    };
    if std::env::var_os("PROCLAB_CI").is_some() {
        panic!("{missing} is not installed (in CI it must be: .ci/run installs it)");
    }
    eprintln!("skipped: {missing} is not installed");
    None
}

/// Opens `file` in headless Chromium at 1280 x 800: its screenshot (a PNG) and its rendered
/// text (the DOM after the page's script ran).
fn look_at(browser: &str, file: &Path) -> (Vec<u8>, String) {
    let profile = file.with_file_name(format!(
        "profile-{}",
        file.file_name().unwrap().to_string_lossy()
    ));
    let screenshot = file.with_extension("png");
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1280,800",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg("--dump-dom")
        .arg(file)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .expect("chromium runs");
    let _ = std::fs::remove_dir_all(&profile);
    let png = std::fs::read(&screenshot)
        .unwrap_or_else(|error| panic!("no screenshot of {}: {error}", file.display()));
    (png, String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The share of a screenshot's pixels that are not its background (the top-left pixel).
fn share_drawn(png: &[u8]) -> f64 {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    let channels = info.color_type.samples();
    let pixels = &pixels[..info.buffer_size()];
    let background = &pixels[..3];
    let drawn = pixels
        .chunks(channels)
        .filter(|pixel| {
            pixel[..3]
                .iter()
                .zip(background)
                .any(|(a, b)| a.abs_diff(*b) > 24)
        })
        .count();
    drawn as f64 / (pixels.len() / channels) as f64
}

#[test]
fn a_browser_shows_the_pictures_of_lessons_1_5_12_and_16_in_both_languages() {
    let Some(browser) = chromium() else { return };
    let pictures = Pictures::new("browser");
    // Each lesson runs once per language, exporting its SVG as it runs; the page comes from
    // its events read back; the browser opens both. Four runs at a time, each with a lab of
    // its own (the harness checks what each run leaves behind).
    let runs: Vec<(&str, &str)> = ["1", "5", "12", "16"]
        .into_iter()
        .flat_map(|lesson| [(lesson, "en"), (lesson, "zh")])
        .collect();
    let look_at_run = |(lesson, lang): (&str, &str)| {
        let lab = Lab::new();
        let mut extra = vec!["--lang", lang];
        if lang == "zh" {
            extra.extend(["--theme", "dark"]);
        }
        let svg = format!("lesson{lesson}-{lang}.svg");
        let (events, svg) = run_exported(&lab, &pictures, lesson, &svg, &extra);
        let html = format!("lesson{lesson}-{lang}.html");
        exported(&lab, &pictures, &events, &html, &extra);
        let names: Vec<String> = actors(&events).into_values().collect();
        [svg, pictures.join(&html)].map(|file| {
            let (png, text) = look_at(&browser, &file);
            (file, names.clone(), png, text)
        })
    };
    let looked: Vec<(PathBuf, Vec<String>, Vec<u8>, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .chunks(2)
            .map(|chunk| {
                scope.spawn(|| {
                    chunk
                        .iter()
                        .flat_map(|run| look_at_run(*run))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().unwrap())
            .collect()
    });
    assert_eq!(looked.len(), 16);
    for (file, names, png, text) in looked {
        let drawn = share_drawn(&png);
        assert!(
            drawn > 0.03,
            "{}: the screenshot is almost blank ({:.1}% drawn)",
            file.display(),
            drawn * 100.0
        );
        for name in names {
            assert!(
                text.contains(&name),
                "{}: lane {name} is not in the page's text",
                file.display()
            );
        }
    }
}

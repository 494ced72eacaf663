//! Lesson 12 through the real binary: the GIL model's measurements, judged robustly on a busy
//! machine, the handovers reported as waits on `gil`, I/O overlapping, and nothing left.
//!
//! Timing on a shared machine: a wall-clock speed-up can only be demanded when the workers got
//! the CPUs. Each measured line says how long the workers waited in a run queue for a CPU that
//! another program had (`/proc/thread-self/schedstat`); a thread blocked on a lock does not
//! wait there, it sleeps. So a run whose workers queued little was not slowed by the machine,
//! and its speed-up is asserted; otherwise the assertion is skipped, with the reason printed.
//! What holds on any machine is asserted always: under the GIL, the workers together never
//! kept more than one CPU busy.

mod common;

use common::{Events, Lab, assert_shows, notes_headings, step_of, step_titles, t};

/// One measured line: wall, on a CPU, waiting for a CPU (ms), and the speed-up.
#[derive(Debug, Clone, Copy)]
struct Run {
    wall: f64,
    cpu: f64,
    queued: f64,
    speed_up: f64,
}

impl Run {
    /// How many CPUs the workers kept busy on average.
    fn cpus_busy(&self) -> f64 {
        self.cpu / self.wall.max(1e-9)
    }

    /// The share of the workers' time spent waiting for a CPU.
    fn queued_share(&self) -> f64 {
        self.queued / (self.cpu + self.queued).max(1e-9)
    }
}

fn number_after(text: &str, label: &str) -> f64 {
    let rest = &text[text
        .find(label)
        .unwrap_or_else(|| panic!("{label} in {text}"))
        + label.len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    rest[..end].parse().unwrap()
}

#[track_caller]
fn measured(events: &Events, what: &str) -> Run {
    let line = events.find("say", |e| {
        e["text"]
            .as_str()
            .unwrap_or("")
            .starts_with(&format!("{what}: wall"))
    });
    let text = line["text"].as_str().unwrap();
    Run {
        wall: number_after(text, "wall "),
        cpu: number_after(text, "on a CPU "),
        queued: number_after(text, "waiting for a CPU "),
        speed_up: number_after(text, "speed-up "),
    }
}

/// The tests of this file take turns: two runs of the lesson at once, or Python's busy
/// threads beside one, would make the machine busy by themselves.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Machines quieter than this (the share of the workers' time spent queued for a CPU) must
/// show the speed-ups. (At 17% queued, with the suite's other tests running beside it, one
/// run's threads without a GIL reached only 1.24x: a share that small already hides a core.)
const QUIET: f64 = 0.1;

/// How many times the lesson may run before its speed-ups must have shown. The cores of a
/// virtual machine can slow each other down or be taken away by the host without any of it
/// showing as queueing (seen: 1.23x with 1.5 CPUs busy and 1% queued). A GIL that wrongly
/// held the free threads or the processes back would fail every run, so one good run of three
/// is proof that they ran side by side.
const ATTEMPTS: usize = 3;

#[test]
fn the_gil_keeps_one_cpu_busy_while_processes_and_free_threads_use_the_cores() {
    let _alone = one_at_a_time();
    let lab = Lab::new();
    let mut seen = Vec::new();
    let mut not_judged = Vec::new();
    for _ in 0..ATTEMPTS {
        match one_run_of_the_gil_lesson(&lab) {
            Parallel::Shown => return,
            // A busy machine cannot show a speed-up: try again, it may be quieter.
            Parallel::NotJudged(why) => not_judged.push(why),
            Parallel::NotShown(runs) => seen.push(runs),
        }
    }
    if seen.is_empty() {
        // Never judged: a skip, said where it shows (the test harness keeps a passing test's
        // `eprintln!` to itself; a write to standard error goes through).
        let line = format!(
            "SKIPPED lesson_12 speed-ups, not judged in {ATTEMPTS} runs: {}\n",
            not_judged.join("; ")
        );
        let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
        return;
    }
    panic!(
        "in {} quiet runs, the workers never ran side by side: {seen:#?}",
        seen.len()
    );
}

enum Parallel {
    Shown,
    NotJudged(String),
    NotShown([Run; 2]),
}

/// Runs lesson 12 once, asserts what holds on any machine, and says whether the workers
/// without a GIL were seen running side by side.
fn one_run_of_the_gil_lesson(lab: &Lab) -> Parallel {
    let events = lab.lesson("12", &[]);
    assert_eq!(step_titles(&events), notes_headings("12-gil"));
    let cores_line = events.find("say", |e| {
        e["text"].as_str().unwrap_or("").starts_with("cores=")
    });
    let cores = number_after(cores_line["text"].as_str().unwrap(), "cores=") as usize;
    let workers = cores.clamp(2, 4);

    let gil_one = measured(&events, "1 thread with the GIL");
    let gil_many = measured(&events, &format!("{workers} threads with the GIL"));
    // On any machine: with the GIL, at most one CPU busy at a time (10% for the handovers).
    assert!(
        gil_many.cpus_busy() < 1.1,
        "the GIL let {:.2} CPUs work at once: {gil_many:?}",
        gil_many.cpu / gil_many.wall
    );
    // And it does hand over: the threads waited on `gil`, and got it each time.
    let gil_waits = events.of_kind("woke");
    let gil_waits: Vec<_> = gil_waits.iter().filter(|e| e["on"] == "gil").collect();
    assert!(!gil_waits.is_empty(), "no handover reported");
    assert!(gil_waits.iter().all(|e| e["got"] == true));
    assert!(
        gil_waits
            .iter()
            .all(|e| e["thread"].as_str().unwrap().starts_with("worker-")
                || e["thread"].as_str().unwrap().starts_with("reader-"))
    );
    // Bounded: about two per switch interval of work (20 intervals), with room to spare.
    assert!(gil_waits.len() < 200, "{} handovers", gil_waits.len());

    let free_many = measured(&events, &format!("{workers} threads without a GIL"));
    let processes = measured(&events, &format!("{workers} processes"));
    let quiet = [gil_one, gil_many, free_many, processes]
        .iter()
        .all(|run| run.queued_share() < QUIET);
    if cores < 2 {
        return Parallel::NotJudged(format!("cores={cores}: one CPU, no speed-up is possible"));
    }
    if !quiet {
        return Parallel::NotJudged(format!(
            "the machine was busy (workers queued for a CPU: {:.0}%, {:.0}%, {:.0}%, {:.0}% of \
             their time)",
            gil_one.queued_share() * 100.0,
            gil_many.queued_share() * 100.0,
            free_many.queued_share() * 100.0,
            processes.queued_share() * 100.0
        ));
    }
    assert!(gil_many.speed_up < 1.3, "{gil_many:?}");
    // Without a GIL the workers ran side by side: faster than one thread by more than 1.5x,
    // or at least 1.3 CPUs kept busy on average, which one thread at a time can never do
    // (the GIL's runs stay under 1.1, asserted above).
    let side_by_side = |run: &Run| run.speed_up > 1.5 || run.cpus_busy() > 1.3;
    if side_by_side(&free_many) && side_by_side(&processes) {
        Parallel::Shown
    } else {
        Parallel::NotShown([free_many, processes])
    }
}

#[test]
fn io_bound_threads_overlap_under_the_gil_and_not_when_it_is_held() {
    let _alone = one_at_a_time();
    let lab = Lab::new();
    let events = lab.lesson("gil", &[]);
    let wall = |what: &str| {
        let line = events.find("say", |e| e["text"].as_str().unwrap_or("").contains(what));
        number_after(line["text"].as_str().unwrap(), "wall ")
    };
    let released = wall("GIL released while reading");
    let held = wall("GIL held while reading");
    // Each thread sleeps 3 × 25 ms at speed 20: overlapped, about 75 ms; held, N × 75 ms.
    // Sleeps are not slowed by a busy CPU the way work is, so the margins can be firm.
    assert!(held >= 2.0 * 75.0 * 0.95, "held: {held} ms");
    assert!(released < held, "released {released} ms, held {held} ms");
}

/// The claim the notes make about CPython 3.11, checked against the Python here: two threads
/// sharing a CPU-bound job never keep more than one CPU busy (skipped without python3).
#[test]
fn cpython_threads_never_keep_two_cpus_busy() {
    // Python's busy threads, beside the lesson's measured run, would slow that run down.
    let _alone = one_at_a_time();
    let program = r#"
import threading, time, sys
def count(n):
    while n > 0:
        n -= 1
cpu = []
def work():
    t = time.thread_time(); count(1_000_000); cpu.append(time.thread_time() - t)
threads = [threading.Thread(target=work) for _ in range(2)]
start = time.perf_counter()
for t in threads: t.start()
for t in threads: t.join()
print(sum(cpu) / (time.perf_counter() - start), sys.getswitchinterval(),
      hasattr(sys, "_is_gil_enabled"), sys.version_info[1])
"#;
    let Some(out) = common::python3_if_here(program, std::time::Duration::from_secs(60)) else {
        return;
    };
    let fields: Vec<&str> = out.split_whitespace().collect();
    let busy: f64 = fields[0].parse().unwrap();
    assert!(busy < 1.1, "{out}");
    assert_eq!(fields[1], "0.005", "{out}");
    // sys._is_gil_enabled() came with 3.13.
    let minor: u32 = fields[3].parse().unwrap();
    assert_eq!(fields[2] == "True", minor >= 13, "{out}");
}

/// `--predict`: each question is answered from the lines of the same run, computed here
/// independently: CPUs busy = time on a CPU / wall time of the N workers' line (over 1.2 is
/// more than one), and the released readers' wall time against one thread's reads alone.
#[test]
fn each_prediction_is_answered_from_the_runs_own_lines() {
    let _alone = one_at_a_time();
    let lab = Lab::new();
    let english = [
        ["about one or less", "more than one"],
        ["about one thread's time", "about N times as long"],
    ];
    let chinese = [
        ["大约一个或更少", "多于一个"],
        ["和一个线程差不多", "大约 N 倍"],
    ];
    for (seed, lang) in [("3", "en"), ("8", "en"), ("5", "zh")] {
        let run = lab.predicted("12", seed, "1\n2\n1\n2\n", &["--lang", lang]);
        let choices = if lang == "en" { &english } else { &chinese };
        // The lab's measurement lines are in the language of the run.
        let zh = lang == "zh";
        let in_lang = |en: &'static str, chinese: &'static str| if zh { chinese } else { en };
        let workers_line = |step: usize, label: &str| -> Run {
            let line = run.find("say", |e| {
                let text = e["text"].as_str().unwrap_or("");
                step_of(&run, t(e)) == step && text.contains(label) && !text.starts_with("1 ")
            });
            let text = line["text"].as_str().unwrap();
            Run {
                wall: number_after(text, in_lang("wall ", "墙钟时间 ")),
                cpu: number_after(text, in_lang("on a CPU ", "在 CPU 上 ")),
                queued: number_after(text, in_lang("waiting for a CPU ", "等待 CPU ")),
                speed_up: number_after(text, in_lang("speed-up ", "加速比 ")),
            }
        };
        for (step, label) in [
            (2, in_lang("processes: wall", "个进程：墙钟时间")),
            (
                3,
                in_lang("threads with the GIL: wall", "个线程（有 GIL）：墙钟时间"),
            ),
            (
                4,
                in_lang(
                    "threads without a GIL: wall",
                    "个线程（没有 GIL）：墙钟时间",
                ),
            ),
        ] {
            let busy = workers_line(step, label).cpus_busy();
            let expected = choices[0][usize::from(busy > 1.2)];
            assert_shows(run.verdict(step as i64), expected);
            // Under the GIL the answer is the same on every machine.
            if step == 3 {
                assert_shows(run.verdict(3), choices[0][0]);
            }
        }
        let speed = run.find("lesson", |_| true)["speed"].as_f64().unwrap();
        let released = run.find("say", |e| {
            e["text"]
                .as_str()
                .unwrap_or("")
                .contains(in_lang("GIL released while reading", "读的时候释放 GIL"))
        });
        let released = released["text"].as_str().unwrap();
        let threads = number_after(released, "");
        let one_thread_ms = 3.0 * 500.0 / speed;
        let overlapped = number_after(released, in_lang("wall ", "墙钟时间 "))
            < one_thread_ms * (1.0 + threads) / 2.0;
        assert_shows(run.verdict(5), choices[1][usize::from(!overlapped)]);
        run.assert_measured(2..=5);
    }
}

/// On one core (`taskset -c 0 proclab run 12`), step 2's note says what one core means: the
/// processes take turns, and their wait for a CPU is a wait for each other, not for another
/// program; nor does it say they ran side by side, whatever the speed-up's noise.
#[test]
fn on_one_core_the_note_says_the_processes_take_turns() {
    let _alone = one_at_a_time();
    let lab = Lab::new();
    // This test's thread, and so the lab it forks, may run on one CPU only.
    let size = std::mem::size_of::<libc::cpu_set_t>();
    // SAFETY: a zeroed cpu_set_t is an empty set; the calls get its true size, and pid 0 is
    // the calling thread.
    let all = unsafe {
        let mut all: libc::cpu_set_t = std::mem::zeroed();
        assert_eq!(libc::sched_getaffinity(0, size, &mut all), 0);
        let first = (0..libc::CPU_SETSIZE as usize)
            .find(|&cpu| libc::CPU_ISSET(cpu, &all))
            .unwrap();
        let mut one: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(first, &mut one);
        assert_eq!(libc::sched_setaffinity(0, size, &one), 0);
        all
    };
    let events = lab.lesson("12", &[]);
    // SAFETY: as above.
    assert_eq!(unsafe { libc::sched_setaffinity(0, size, &all) }, 0);

    let text = |e: &serde_json::Value| e["text"].as_str().unwrap_or("").to_string();
    assert!(
        text(events.find("say", |e| text(e).starts_with("cores="))).starts_with("cores=1:"),
        "{}",
        events.dump()
    );
    let note = text(events.find("note", |e| text(e).starts_with("2 processes, each")));
    assert!(
        note.contains("With 1 core for 2 processes they take turns on the CPU"),
        "{note}"
    );
    assert!(!note.contains("side by side"), "{note}");
    assert!(!note.contains("another program"), "{note}");
    let setup = text(events.find("note", |e| text(e).starts_with("The job:")));
    assert!(setup.contains("use 1 core:"), "{setup}");
}

/// Step 3 runs its own Python (code/step3.py) with python3 in the same run, and the note puts
/// CPython's times beside the model's: the numbers it states are the ones CPython's line says.
#[test]
fn cpythons_gil_is_said_beside_the_models() {
    let _alone = one_at_a_time();
    if common::python3_if_here("print(1)", std::time::Duration::from_secs(20)).is_none() {
        return;
    }
    let lab = Lab::new();
    let events = lab.lesson("12", &[]);
    let line = events.find("say", |e| {
        e["text"].as_str().unwrap_or("").starts_with("CPython ")
            && e["text"]
                .as_str()
                .unwrap_or("")
                .contains("threads under its GIL")
    });
    assert_eq!(step_of(&events, t(line)), 3, "{line}");
    // While CPython runs, the lesson's main process waits for it (drawn waiting, not running),
    // and its line comes after that wait.
    let waited = events.find("woke", |e| e["object"] == "python3 step3.py");
    assert_eq!(waited["name"], "main", "{waited}");
    assert!(t(waited) <= t(line), "{waited} {line}");
    let text = line["text"].as_str().unwrap();
    let wall = number_after(text, "wall ");
    let one = number_after(text, "one thread ");
    // "..., 0.21 CPUs busy": the figure the note must state too.
    let busy = text
        .rsplit(", ")
        .next()
        .unwrap()
        .trim_end_matches(" CPUs busy");
    let stated = format!("took {wall:.2} s, one thread {one:.2} s");
    let notes = events.texts("note");
    let note = notes
        .iter()
        .find(|n| n.starts_with("And CPython "))
        .unwrap_or_else(|| panic!("{notes:#?}"));
    assert!(note.contains(&stated), "{stated}\n{note}");
    assert!(
        note.contains(&format!("and kept {busy} CPUs busy together")),
        "{busy}\n{note}"
    );
}

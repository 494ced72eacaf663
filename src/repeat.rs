//! `proclab run N --repeat R`: run a lesson R times, quickly and quietly, and show what varied
//! across the runs as a histogram, with the seeds behind each bar so that any bar can be
//! replayed alone with `--seed`.
//!
//! Each run is a run like any other: `proclab run N --json --speed X --seed S+i`, a child
//! process of this one, with its own supervisor that cleans up after it. This process only
//! reads the events, measures each run with the lesson's outcome function (`outcomes.rs`), and
//! counts. Each run is bounded in time, and Ctrl-C stops between runs: the run under way is
//! stopped by its own supervisor (as Ctrl-C stops any run) and left out, and the histogram of
//! the runs made so far is shown.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use colored::Colorize;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::error::{Error, Result};
use crate::i18n::{self, Text};
use crate::lessons::Lesson;
use crate::outcomes::{self, Record};
use crate::runtime::event::{Bar, Event, Histogram, Kind, Measured};
use crate::runtime::stop;
use crate::text;
use crate::view::output::Output;
use crate::view::render::{JsonView, View};
use crate::view::terminal::terminal_width;
use crate::view::theme::to_ascii;

/// What `--repeat` was asked to do.
pub struct RepeatOptions {
    pub lesson: &'static Lesson,
    pub runs: u32,
    /// The first run's seed; run i (from 0) has `first_seed + i`.
    pub first_seed: u64,
    pub speed: f64,
    /// `--only-step K`: measure step K alone (the steps before it still run; the run is
    /// stopped as soon as step K + 1 begins).
    pub only_step: Option<u32>,
    pub json: bool,
    pub ascii: bool,
}

/// How one run of the lesson ended, seen from here.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ended {
    Finished,
    /// `--only-step K`: stopped once step K + 1 began, as asked.
    StoppedAfterStep,
    Failed,
    TimedOut,
    /// Ctrl-C (or another stop signal) came during the run: it is not counted.
    Interrupted,
}

impl Ended {
    fn word(self) -> &'static str {
        match self {
            Ended::Finished => "finished",
            Ended::StoppedAfterStep => "stopped after the step",
            Ended::Failed => "failed",
            Ended::TimedOut => "timed out",
            Ended::Interrupted => "interrupted",
        }
    }

    /// How it ended, for a person, in the language of the run (`word` is for the JSON).
    fn shown(self) -> &'static str {
        let zh = match self {
            Ended::Finished => "已完成",
            Ended::StoppedAfterStep => "在这一步之后停止",
            Ended::Failed => "失败",
            Ended::TimedOut => "超时",
            Ended::Interrupted => "被中断",
        };
        Text {
            en: self.word(),
            zh,
        }
        .get()
    }
}

/// One run: its seed, how it ended, what it measured.
struct RunResult {
    seed: u64,
    ended: Ended,
    measured: Vec<Measured>,
}

/// Runs the lesson `options.runs` times and shows the histogram. Returns the signal that
/// stopped it, if one did.
pub fn run(options: &RepeatOptions) -> Result<Option<i32>> {
    if let Some(step) = options.only_step {
        let steps = crate::view::notes::Notes::parse(options.lesson.notes.en)
            .sections
            .len() as u32;
        if step == 0 || step > steps {
            return Err(Error::Usage(format!(
                "--only-step {step}: lesson {} has steps 1 to {steps}",
                options.lesson.number()
            )));
        }
    }
    stop::catch_stop_signals()?;
    match repeat_and_show(options) {
        // A stop signal also makes a write to an unread standard output give up (see
        // `runtime::stop`): `run --repeat 1000 | sleep 600` ends on Ctrl-C, as a stop.
        Err(_) if stop::stop_signal().is_some() => Ok(stop::stop_signal()),
        ended => ended,
    }
}

/// The runs, and what they measured, shown as they come and summed up at the end.
fn repeat_and_show(options: &RepeatOptions) -> Result<Option<i32>> {
    let began = Instant::now();
    let mut view = options.json.then(|| View::Json(JsonView::new()));
    if let Some(view) = view.as_mut() {
        view.show(&said_here(
            began,
            Kind::Lesson {
                number: options.lesson.number(),
                slug: options.lesson.slug().to_string(),
                title: options.lesson.title.get().to_string(),
                seed: options.first_seed,
                speed: options.speed,
                lang: i18n::current().code().to_string(),
            },
        ))?;
        view.flush()?;
    }
    let progress = Progress::new(options.runs);
    let mut results: Vec<RunResult> = Vec::new();
    for index in 0..options.runs {
        if stop::stop_signal().is_some() {
            break;
        }
        progress.show(index, began);
        let seed = options.first_seed.wrapping_add(index as u64);
        let run_began = Instant::now();
        let (ended, events) = run_once(options, seed)?;
        if ended == Ended::Interrupted {
            break;
        }
        let record = Record::new(&events);
        let measured: Vec<Measured> = (outcomes::measure_of(options.lesson))(&record)
            .into_iter()
            .filter(|m| options.only_step.is_none_or(|step| m.step == step))
            .collect();
        if let Some(view) = view.as_mut() {
            view.show(&said_here(
                began,
                Kind::Outcome {
                    run: index + 1,
                    seed,
                    ended: ended.word().to_string(),
                    wall: run_began.elapsed().as_secs_f64(),
                    measured: measured.clone(),
                },
            ))?;
            view.flush()?;
        }
        results.push(RunResult {
            seed,
            ended,
            measured,
        });
    }
    progress.clear();
    let histograms = histograms(&results);
    let signal = stop::stop_signal();
    match view.as_mut() {
        Some(view) => {
            view.show(&said_here(
                began,
                Kind::Summary {
                    runs: results.len() as u32,
                    asked: options.runs,
                    histograms,
                },
            ))?;
            view.flush()?;
        }
        None => {
            let text = human_summary(options, &results, &histograms, began.elapsed(), signal);
            let text = if options.ascii {
                to_ascii(&text).into_owned()
            } else {
                text
            };
            let mut out = Output::new();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(signal)
}

/// An event said by this process (the one that repeats), `t` seconds since it began.
fn said_here(began: Instant, kind: Kind) -> Event {
    Event {
        t: began.elapsed().as_secs_f64(),
        pid: std::process::id() as i32,
        ppid: nix::unistd::getppid().as_raw(),
        tid: None,
        name: "proclab".to_string(),
        thread: None,
        task: None,
        kind,
    }
}

/// How long one run may take before it is stopped: generous, since the machine may be busy,
/// and longer at a lower `--speed` (a lesson at speed 1 takes up to a minute or so).
fn time_limit(speed: f64) -> Duration {
    Duration::from_secs_f64((600.0 / speed).clamp(60.0, 900.0))
}

/// Runs the lesson once as `proclab run N --json --speed X --seed S` and collects its events.
fn run_once(options: &RepeatOptions, seed: u64) -> Result<(Ended, Vec<Event>)> {
    let me = std::env::current_exe()
        .map_err(|e| Error::System(format!("cannot find the proclab binary: {e}")))?;
    let mut command = Command::new(me);
    command
        .args(["run", &options.lesson.number().to_string(), "--json"])
        .args(["--speed", &options.speed.to_string()])
        .args(["--seed", &seed.to_string()])
        .args(["--lang", i18n::current().code()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        // Its own process group: Ctrl-C at the terminal reaches this process alone, which
        // then stops the run through its supervisor.
        .process_group(0);
    // SAFETY: between fork and exec the closure makes one system call, prctl, which is
    // async-signal-safe. If this process dies, the run's supervisor is told to stop (SIGTERM)
    // and cleans up after its lesson as it always does.
    unsafe {
        command
            .pre_exec(|| nix::sys::prctl::set_pdeathsig(Signal::SIGTERM).map_err(io::Error::from));
    }
    let mut child = command
        .spawn()
        .map_err(|e| Error::System(format!("cannot start a run: {e}")))?;
    let lines = read_lines(&mut child);
    let supervisor = Pid::from_raw(child.id() as i32);
    let deadline = Instant::now() + time_limit(options.speed);
    let mut events = Vec::new();
    let mut asked_to_stop: Option<Ended> = None;
    let status = loop {
        for line in lines.try_iter() {
            if let Some(event) = Event::from_json(&line) {
                let past_the_step = matches!(
                    (&event.kind, options.only_step),
                    (Kind::Step { index, .. }, Some(only)) if *index > only
                );
                if past_the_step && asked_to_stop.is_none() {
                    // Step K has run: what comes after it is not measured.
                    let _ = kill(supervisor, Signal::SIGINT);
                    asked_to_stop = Some(Ended::StoppedAfterStep);
                }
                events.push(event);
            }
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if stop::stop_signal().is_some() && asked_to_stop != Some(Ended::Interrupted) {
            let _ = kill(supervisor, Signal::SIGINT);
            asked_to_stop = Some(Ended::Interrupted);
        }
        if Instant::now() > deadline && asked_to_stop.is_none() {
            let _ = kill(supervisor, Signal::SIGTERM);
            asked_to_stop = Some(Ended::TimedOut);
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    // The rest of its output, up to the end of the pipe.
    events.extend(lines.iter().filter_map(|line| Event::from_json(&line)));
    let ended = match asked_to_stop {
        Some(reason) => reason,
        None if status.success() => Ended::Finished,
        None => Ended::Failed,
    };
    Ok((ended, events))
}

/// The child's standard output, line by line, from a thread that reads it to its end.
fn read_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    if let Some(stdout) = child.stdout.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
    }
    receiver
}

/// Counts each value of each measure; bars in a natural order (numbers ascending, anything
/// else most frequent first).
fn histograms(results: &[RunResult]) -> Vec<Histogram> {
    // (step, what) -> value -> seeds, in the order measures were first seen.
    let mut order: Vec<(u32, String)> = Vec::new();
    let mut counts: BTreeMap<(u32, String), BTreeMap<String, Vec<u64>>> = BTreeMap::new();
    for result in results {
        for m in &result.measured {
            let key = (m.step, m.what.clone());
            if !counts.contains_key(&key) {
                order.push(key.clone());
            }
            counts
                .entry(key)
                .or_default()
                .entry(m.value.clone())
                .or_default()
                .push(result.seed);
        }
    }
    order.sort_by_key(|(step, _)| *step);
    order
        .into_iter()
        .map(|key| {
            let values = counts.remove(&key).unwrap_or_default();
            let mut bars: Vec<Bar> = values
                .into_iter()
                .map(|(value, seeds)| Bar {
                    count: seeds.len() as u32,
                    value,
                    seeds,
                })
                .collect();
            if bars.iter().all(|bar| leading_number(&bar.value).is_some()) {
                bars.sort_by_key(|bar| leading_number(&bar.value));
            } else {
                bars.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
            }
            Histogram {
                step: key.0,
                what: key.1,
                bars,
            }
        })
        .collect()
}

/// The number a value starts with (`5`, `100-999`, `3 of 20`), for ordering bars.
fn leading_number(value: &str) -> Option<i64> {
    let digits: String = value
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits.trim_end_matches('-').parse().ok()
}

/// The histograms for a person: one block per measure, one bar per value, the seeds of each.
fn human_summary(
    options: &RepeatOptions,
    results: &[RunResult],
    histograms: &[Histogram],
    took: Duration,
    signal: Option<i32>,
) -> String {
    let lesson = options.lesson;
    let width = terminal_width().max(60);
    let speed = options.speed;
    let mut out = String::new();
    let heading = text!(
        en: "proclab · lesson {} · {} — {}",
        zh: "proclab · 第 {} 课 · {} — {}",
        lesson.number(),
        lesson.slug(),
        lesson.title.get()
    );
    out.push_str(&format!("{}\n", heading.bold()));
    let last_seed = options
        .first_seed
        .wrapping_add(results.len().saturating_sub(1) as u64);
    let what = match options.only_step {
        Some(step) => text!(
            en: ", measuring step {step} alone (the steps before it ran too; each run was \
                 stopped when step {} began)",
            zh: "，只测第 {step} 步（它前面的步骤也都运行了；每次运行在第 {} 步开始时停止）",
            step + 1
        ),
        None => String::new(),
    };
    out.push_str(&text!(
        en: "{} of {} runs at --speed {speed}, seeds {} to {last_seed}{what}\n",
        zh: "完成 {} 次运行（要求 {} 次），--speed {speed}，种子 {} 到 {last_seed}{what}\n",
        results.len(),
        options.runs,
        options.first_seed
    ));
    let value_width = histograms
        .iter()
        .flat_map(|h| &h.bars)
        .map(|bar| crate::view::notes::display_width(&bar.value))
        .max()
        .unwrap_or(1)
        .min(32);
    let count_width = results.len().to_string().len();
    // A third of what is left for the bar, the rest for the seeds that replay it.
    let bar_width = (width.saturating_sub(value_width + count_width + 12) / 3).clamp(8, 30);
    for histogram in histograms {
        let title = text!(
            en: "Step {} · {}",
            zh: "第 {} 步 · {}",
            histogram.step,
            histogram.what
        );
        out.push_str(&format!("\n{}\n", title.bold()));
        let most = histogram.bars.iter().map(|b| b.count).max().unwrap_or(1);
        for bar in &histogram.bars {
            let length = ((bar.count as usize * bar_width) as f64 / most as f64).ceil() as usize;
            let value = clip(&bar.value, value_width);
            let pad = value_width.saturating_sub(crate::view::notes::display_width(&value));
            let lead = text!(
                en: "  {value}{} {:<bar_width$} {:>count_width$}  seeds ",
                zh: "  {value}{} {:<bar_width$} {:>count_width$}  种子 ",
                " ".repeat(pad),
                "█".repeat(length.max(1)),
                bar.count
            );
            let room = width.saturating_sub(crate::view::notes::display_width(&lead) + 1);
            out.push_str(&format!("{lead}{}\n", seed_list(&bar.seeds, room)));
        }
    }
    let unusual: Vec<String> = results
        .iter()
        .filter(|r| matches!(r.ended, Ended::Failed | Ended::TimedOut))
        .map(|r| text!(en: "seed {} {}", zh: "种子 {} {}", r.seed, r.ended.shown()))
        .collect();
    if !unusual.is_empty() {
        let unusual = unusual.join(&text!(en: ", ", zh: "、"));
        out.push_str(&text!(
            en: "\nNot measured: {unusual}.\n",
            zh: "\n没有测到：{unusual}。\n",
        ));
    }
    if histograms.is_empty() && !results.is_empty() {
        out.push_str(&text!(
            en: "\nNothing was measured in these runs.\n",
            zh: "\n这些运行什么都没有测到。\n",
        ));
    }
    out.push_str(&text!(
        en: "\nReplay any bar alone: proclab run {} --speed {speed} --seed <one of its seeds>\n",
        zh: "\n单独重放任意一条：proclab run {} --speed {speed} --seed <它的一个种子>\n",
        lesson.number()
    ));
    let stopped = match signal {
        Some(_) => text!(
            en: " (stopped by Ctrl-C: the run under way was ended and is not counted)",
            zh: "（被 Ctrl-C 停止：正在进行的那次运行已结束，不计入）",
        ),
        None => String::new(),
    };
    out.push_str(&text!(
        en: "{} runs in {:.1} s{stopped}.\n",
        zh: "{} 次运行，用时 {:.1} s{stopped}。\n",
        results.len(),
        took.as_secs_f64()
    ));
    out
}

/// Seeds, as many as fit in `room` columns, then how many more.
fn seed_list(seeds: &[u64], room: usize) -> String {
    let mut text = String::new();
    for (i, seed) in seeds.iter().enumerate() {
        let more = format!(" +{}", seeds.len() - i);
        let next = if text.is_empty() {
            seed.to_string()
        } else {
            format!(" {seed}")
        };
        let is_last = i + 1 == seeds.len();
        let needed = text.len() + next.len() + if is_last { 0 } else { more.len() };
        if needed > room && !text.is_empty() {
            text.push_str(&more);
            return text;
        }
        text.push_str(&next);
    }
    text
}

/// `text` cut to `columns` display columns, with `…` when cut.
fn clip(text: &str, columns: usize) -> String {
    if crate::view::notes::display_width(text) <= columns {
        return text.to_string();
    }
    let mut out = String::new();
    for c in text.chars() {
        if crate::view::notes::display_width(&out) + 2 > columns {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// A progress line on a terminal (standard error), once the runs have taken over a second.
struct Progress {
    runs: u32,
    on_terminal: bool,
}

impl Progress {
    fn new(runs: u32) -> Progress {
        Progress {
            runs,
            on_terminal: io::stderr().is_terminal(),
        }
    }

    fn show(&self, done: u32, began: Instant) {
        if self.on_terminal && began.elapsed() > Duration::from_secs(1) {
            let width = 24;
            let filled = (done as usize * width) / self.runs.max(1) as usize;
            // Short enough for 80 columns, so that it stays on one line.
            eprint!(
                "\r\x1b[K[{}{}] run {} of {} · {:.1} s · Ctrl-C stops",
                "#".repeat(filled),
                " ".repeat(width - filled),
                done + 1,
                self.runs,
                began.elapsed().as_secs_f64()
            );
        }
    }

    fn clear(&self) {
        if self.on_terminal {
            eprint!("\r\x1b[K");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_cut_to_fit_and_counted() {
        assert_eq!(seed_list(&[1, 2, 3], 80), "1 2 3");
        assert_eq!(seed_list(&[100, 101, 102, 103, 104], 12), "100 101 +3");
    }

    #[test]
    fn bars_of_numbers_go_in_order() {
        let result = |seed, value: &str| RunResult {
            seed,
            ended: Ended::Finished,
            measured: vec![outcomes::measured(1, "sold", value)],
        };
        let h = histograms(&[result(1, "10"), result(2, "5"), result(3, "10")]);
        let values: Vec<&str> = h[0].bars.iter().map(|b| b.value.as_str()).collect();
        assert_eq!(values, ["5", "10"]);
        assert_eq!(h[0].bars[1].seeds, [1, 3]);
    }
}

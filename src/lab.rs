//! `Lab`: what a lesson's main process is handed. It marks the steps (pausing for Enter in
//! `--step` mode) and draws the seeded random numbers that make a run replayable.
//!
//! Everything else a lesson uses is plain: `Process` to fork, `say!` and `note!` to report,
//! `context::sleep` for sleeps scaled by `--speed`, `procfs` to read `/proc`.

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;

use crate::error::{Error, Result};
use crate::runtime::context;
use crate::runtime::event::{Kind, Prompt};

pub struct Lab {
    /// The titles of the steps in English, which the code's `step` calls name, and in the
    /// language of the run, which the `step` events carry.
    step_titles: Vec<String>,
    shown_titles: Vec<String>,
    steps_begun: usize,
    pacing: Pacing,
    rng: ChaCha8Rng,
    /// With `--predict`: the lesson's questions, one asked before each step that has one.
    questions: Vec<AskedQuestion>,
}

/// A `--predict` question as the main process asks it: before step `step`, with its choices
/// (the lab judges the answer elsewhere, from the events: see `predict.rs`).
#[derive(Debug, Clone, PartialEq)]
pub struct AskedQuestion {
    pub step: u32,
    pub text: String,
    pub choices: Vec<String>,
}

/// The titles of a lesson's steps, the `## ` headings of its notes: in English, which the
/// code's `step` calls name, and in the language of the run, which the `step` events carry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StepTitles {
    pub en: Vec<String>,
    pub shown: Vec<String>,
}

/// How `--step` paces a lesson: notes, run, discuss. Before a step runs there is one prompt
/// per page of its notes (the last page's prompt runs the step); after it has run, one more,
/// so the class can read the result before the next step's title clears the screen.
///
/// The view that draws the prompts and the main process that reads the answers are two
/// processes: both are handed this same plan, so they agree on what each Enter means.
#[derive(Debug, Clone, PartialEq)]
pub struct Pacing {
    /// `--step`: wait for Enter at each prompt.
    pub step_mode: bool,
    /// For each step, how many pages its notes take on this screen (at least 1).
    pub pages: Vec<usize>,
    /// `--predict`: before a step runs, ask its question and wait for a prediction.
    pub predict: bool,
}

impl Pacing {
    /// No prompts at all (the default without `--step`).
    pub fn none() -> Pacing {
        Pacing {
            step_mode: false,
            pages: Vec::new(),
            predict: false,
        }
    }

    /// `--step`, with one page per step (no notes shown, or a screen of unknown height).
    pub fn step_by_step() -> Pacing {
        Pacing {
            step_mode: true,
            pages: Vec::new(),
            predict: false,
        }
    }

    /// Pages of notes before step `index` (from 1) runs.
    pub fn pages_of(&self, index: usize) -> usize {
        self.pages
            .get(index.wrapping_sub(1))
            .copied()
            .unwrap_or(1)
            .max(1)
    }
}

/// The generator behind `--seed`. `ChaCha8Rng` is named by its algorithm (ChaCha with 8
/// rounds), which rand counts among its portable generators: the same seed gives the same
/// numbers on every machine and in every release of the crate. (`StdRng`, before it, promises
/// neither: rand may swap its algorithm in any release, and a class's `--seed 7` would then
/// replay a different run.) The ranges lessons draw (`random_range`) are rand's too; the test
/// below pins the first draws of a seed, so an upgrade that would change a replay fails it.
fn seeded(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

impl Lab {
    pub fn new(titles: StepTitles, seed: u64, pacing: Pacing) -> Lab {
        Lab {
            step_titles: titles.en,
            shown_titles: titles.shown,
            steps_begun: 0,
            pacing,
            rng: seeded(seed),
            questions: Vec::new(),
        }
    }

    /// `--predict`: the questions to ask, each before its step runs.
    pub fn ask_questions(&mut self, questions: Vec<AskedQuestion>) {
        self.questions = questions;
    }

    /// Begins the next step. Its title must be the next `## ` heading of the lesson's notes
    /// (the notes and the code are kept in step this way). In `--step` mode it waits first:
    /// for Enter after the previous step's output (time to discuss it), then for Enter at each
    /// page of this step's notes, with `--predict` for the prediction before the last Enter;
    /// `q` and Enter stops the lesson.
    ///
    /// A step is a unit of work: what a lesson measures, it measures between two calls of
    /// `step`, never across one, so the time a prompt waits is in no note. Each wait is an
    /// event of its own (`pause`), which the timeline cuts out.
    pub fn step(&mut self, title: &str) -> Result<()> {
        let expected = self.step_titles.get(self.steps_begun);
        if expected.map(String::as_str) != Some(title) {
            return Err(Error::lesson(format!(
                "step {} is titled {title:?} in the code but {expected:?} in the notes",
                self.steps_begun + 1
            )));
        }
        // The previous step's output stays on the screen until the class has read it.
        if self.steps_begun > 0 {
            self.prompt()?;
        }
        self.steps_begun += 1;
        context::emit(Kind::Step {
            index: self.steps_begun as u32,
            title: self
                .shown_titles
                .get(self.steps_begun - 1)
                .map_or(title, String::as_str)
                .to_string(),
        });
        // With --predict, the question comes with the last page of notes, before the prompt
        // that runs the step: the class predicts, then the teacher runs it.
        let pages = self.pacing.pages_of(self.steps_begun);
        for page in 1..=pages {
            if page == pages {
                self.ask(self.steps_begun as u32)?;
            }
            self.prompt()?;
        }
        Ok(())
    }

    /// With `--predict`, before step `step` runs: its question, if it has one, and the
    /// prediction read from standard input (a choice's number or its text; `q` quits). The
    /// supervisor answers it once the step has run, from the events.
    fn ask(&mut self, step: u32) -> Result<()> {
        if !self.pacing.predict {
            return Ok(());
        }
        let Some(question) = self.questions.iter().find(|q| q.step == step).cloned() else {
            return Ok(());
        };
        context::emit(Kind::Question {
            step,
            question: question.text.clone(),
            choices: question.choices.clone(),
        });
        // Input that is not a terminal (a file, a pipe, `< /dev/zero`) has no one to correct
        // it: a few answers in a row that are not choices, and there are no more questions,
        // as at its end, rather than asking again for as long as it lasts. (The supervisor
        // knows: this process reads the answers from a pipe it fills.)
        let typed = crate::runtime::input::typed();
        let mut not_choices = 0;
        loop {
            let (line, quit) = wait_at(Prompt::Prediction);
            let Some(line) = line else {
                // Input ended: no more questions.
                self.pacing.predict = false;
                context::emit(Kind::Answer { step, given: None });
                return Ok(());
            };
            if quit {
                return Err(Error::Quit);
            }
            if let Some(choice) = pick(&line, &question.choices) {
                context::emit(Kind::Answer {
                    step,
                    given: Some(choice.clone()),
                });
                return Ok(());
            }
            not_choices += 1;
            if !typed && not_choices == NOT_CHOICES_FROM_A_FILE {
                crate::note!(
                    en: "{not_choices} answers in a row are not choices, and the input is not a terminal: no more questions.",
                    zh: "连续 {not_choices} 个回答都不是选项，而输入不是终端：不再提问。",
                );
                self.pacing.predict = false;
                context::emit(Kind::Answer { step, given: None });
                return Ok(());
            }
            crate::note!(
                en: "{:?} is not one of the choices: answer with a number from 1 to {}.",
                zh: "{:?} 不是选项之一：请回答 1 到 {} 之间的一个序号。",
                short(line.trim()),
                question.choices.len()
            );
        }
    }

    /// After the last step: in `--step` mode, one more prompt, so that the last step's output
    /// can be discussed before the process tree and the timeline are drawn. Then checks that
    /// the lesson ran every step its notes describe.
    pub fn finish(&mut self) -> Result<()> {
        if self.steps_begun > 0 {
            self.prompt()?;
        }
        self.check_all_steps_ran()
    }

    /// Waits for a line on standard input (in `--step` mode) and reports how long it waited.
    fn prompt(&mut self) -> Result<()> {
        if !self.pacing.step_mode {
            return Ok(());
        }
        let (line, quit) = wait_at(Prompt::Enter);
        match line {
            _ if quit => Err(Error::Quit),
            Some(_) => Ok(()),
            // Input ended: run the rest without pausing.
            None => {
                self.pacing.step_mode = false;
                Ok(())
            }
        }
    }

    /// The seeded random number generator: the same `--seed` gives the same numbers.
    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }

    /// Checks, at the end, that the lesson ran every step its notes describe.
    pub fn check_all_steps_ran(&self) -> Result<()> {
        if self.steps_begun == self.step_titles.len() {
            Ok(())
        } else {
            Err(Error::lesson(format!(
                "the lesson ran {} of the {} steps in its notes",
                self.steps_begun,
                self.step_titles.len()
            )))
        }
    }
}

/// How many answers in a row that are not choices `--predict` takes from input that is not a
/// terminal before it asks no more.
const NOT_CHOICES_FROM_A_FILE: u32 = 3;

/// An answer as a note quotes it: at most 40 characters (a line may be 4 KiB of anything).
fn short(answer: &str) -> String {
    match answer.char_indices().nth(40) {
        Some((end, _)) => format!("{}…", &answer[..end]),
        None => answer.to_string(),
    }
}

/// The choice a typed answer picks: its number (`2`) or its text, or None.
pub fn pick<'a>(answer: &str, choices: &'a [String]) -> Option<&'a String> {
    let answer = answer.trim();
    if let Ok(number) = answer.parse::<usize>() {
        return choices.get(number.checked_sub(1)?);
    }
    choices.iter().find(|c| c.eq_ignore_ascii_case(answer))
}

/// One line from standard input, bounded (see `runtime::input`).
/// Waits at a prompt: says so (the view draws the prompt when it sees this wait: the main
/// process is the one that reads the answer, the supervisor the one that draws), reads a line
/// of standard input, and reports how long it waited (`pause`, which the timeline cuts out).
/// Returns the line (`None` when input ended) and whether it was `q`.
fn wait_at(prompt: Prompt) -> (Option<String>, bool) {
    context::emit(Kind::prompt(prompt));
    let began = Instant::now();
    let line = read_line_from_stdin();
    let quit = line
        .as_deref()
        .is_some_and(|line| line.trim().eq_ignore_ascii_case("q"));
    context::emit(Kind::Pause {
        seconds: began.elapsed().as_secs_f64(),
        quit,
    });
    (line, quit)
}

fn read_line_from_stdin() -> Option<String> {
    crate::runtime::input::read_line(std::io::stdin().as_fd(), || true)
}

/// A duration for a note: `850 ms` below two seconds, `2.31 s` above.
pub fn describe(duration: Duration) -> String {
    if duration.as_secs_f64() < 2.0 {
        format!("{:.0} ms", duration.as_secs_f64() * 1000.0)
    } else {
        format!("{:.2} s", duration.as_secs_f64())
    }
}

/// A duration as the program states it, and what it really is at this `--speed`: `1 s` at
/// speed 1, `1 s (50 ms at --speed 20)` at speed 20. For every sleep or timeout a lesson
/// announces, so that what it says matches what the timeline shows.
pub fn stated(duration: Duration) -> String {
    let written = if duration.subsec_millis() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{} s", duration.as_secs_f64())
    };
    let speed = context::speed();
    if speed == 1.0 {
        written
    } else {
        let scaled = describe(context::scaled(duration));
        crate::text!(
            en: "{written} ({scaled} at --speed {speed})",
            zh: "{written}（--speed {speed} 下实为 {scaled}）",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    /// `--seed 7` replays the same run after an upgrade: its first draws, made as lessons make
    /// them (`random_range` over integer ranges), are written here, and so is the generator's
    /// own first number for seed 42, which is the one published for rand_chacha 0.3's
    /// `ChaCha8Rng` (2020): the algorithm has not changed since, across two crates. If this
    /// fails after an upgrade, seeds no longer replay the runs they did: say so in the README.
    #[test]
    fn a_seed_draws_the_same_numbers_in_every_version() {
        let mut rng = seeded(7);
        let seconds: Vec<u64> = (0..6).map(|_| rng.random_range(1..=3)).collect();
        let millis: Vec<u64> = (0..4).map(|_| rng.random_range(100..1500)).collect();
        let small: Vec<u32> = (0..4).map(|_| rng.random_range(0..1000)).collect();
        let whole: u64 = rng.random_range(0..=u64::MAX);
        assert_eq!(seconds, [1, 1, 3, 3, 2, 2]);
        assert_eq!(millis, [216, 1289, 610, 1485]);
        assert_eq!(small, [456, 200, 736, 384]);
        assert_eq!(whole, 9615363258934375705);
        assert_eq!(rand::Rng::next_u64(&mut seeded(42)), 12578764544318200737);
    }
}

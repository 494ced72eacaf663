//! `proclab run N --predict`: before a step runs, the lab asks the question the step answers,
//! with choices, and waits for a prediction; once the step has run, it answers the question
//! from *this run's* events, says whether the prediction was right, and explains what decides
//! the answer when it was not. At the end, the score.
//!
//! The questions live beside each lesson's notes, in `lessons/NN-slug/questions.md` (one `## `
//! section per step that has a question, titled as the step is). Their answers are never
//! written down: each question names one of the lesson's outcomes (`outcomes.rs`), and the
//! answer is what that outcome measured in this run.
//!
//! Two processes take part, as with the prompts of `--step`: the lesson's main process asks
//! (`question`), reads the answer from its standard input and reports it (`answer`); the
//! supervisor, which has every event, judges once the step has run (`predict`) through a
//! [`Referee`].

use crate::lessons::Lesson;
use crate::outcomes::{self, Record};
use crate::runtime::event::{Event, Kind};
use crate::text;
use crate::view::lang::{self, Lang, Text};
use crate::view::render::PROMPT;

/// The questions of each lesson that has some, by folder.
const QUESTIONS: &[(&str, Text)] = &[
    (
        "01-spawn-function",
        Text {
            en: include_str!("../lessons/01-spawn-function/questions.md"),
            zh: include_str!("../lessons/01-spawn-function/questions.zh.md"),
        },
    ),
    (
        "02-spawn-worker",
        Text {
            en: include_str!("../lessons/02-spawn-worker/questions.md"),
            zh: include_str!("../lessons/02-spawn-worker/questions.zh.md"),
        },
    ),
    (
        "03-daemon-terminate",
        Text {
            en: include_str!("../lessons/03-daemon-terminate/questions.md"),
            zh: include_str!("../lessons/03-daemon-terminate/questions.zh.md"),
        },
    ),
    (
        "04-socket-concurrency",
        Text {
            en: include_str!("../lessons/04-socket-concurrency/questions.md"),
            zh: include_str!("../lessons/04-socket-concurrency/questions.zh.md"),
        },
    ),
    (
        "05-process-lock",
        Text {
            en: include_str!("../lessons/05-process-lock/questions.md"),
            zh: include_str!("../lessons/05-process-lock/questions.zh.md"),
        },
    ),
    (
        "09-semaphore-event",
        Text {
            en: include_str!("../lessons/09-semaphore-event/questions.md"),
            zh: include_str!("../lessons/09-semaphore-event/questions.zh.md"),
        },
    ),
    (
        "10-pool",
        Text {
            en: include_str!("../lessons/10-pool/questions.md"),
            zh: include_str!("../lessons/10-pool/questions.zh.md"),
        },
    ),
    (
        "11-threads-vs-processes",
        Text {
            en: include_str!("../lessons/11-threads-vs-processes/questions.md"),
            zh: include_str!("../lessons/11-threads-vs-processes/questions.zh.md"),
        },
    ),
    (
        "14-thread-sync",
        Text {
            en: include_str!("../lessons/14-thread-sync/questions.md"),
            zh: include_str!("../lessons/14-thread-sync/questions.zh.md"),
        },
    ),
    (
        "15-producer-consumer",
        Text {
            en: include_str!("../lessons/15-producer-consumer/questions.md"),
            zh: include_str!("../lessons/15-producer-consumer/questions.zh.md"),
        },
    ),
    (
        "12-gil",
        Text {
            en: include_str!("../lessons/12-gil/questions.md"),
            zh: include_str!("../lessons/12-gil/questions.zh.md"),
        },
    ),
    (
        "13-thread-locks",
        Text {
            en: include_str!("../lessons/13-thread-locks/questions.md"),
            zh: include_str!("../lessons/13-thread-locks/questions.zh.md"),
        },
    ),
    (
        "16-io-models",
        Text {
            en: include_str!("../lessons/16-io-models/questions.md"),
            zh: include_str!("../lessons/16-io-models/questions.zh.md"),
        },
    ),
    (
        "17-coroutines",
        Text {
            en: include_str!("../lessons/17-coroutines/questions.md"),
            zh: include_str!("../lessons/17-coroutines/questions.zh.md"),
        },
    ),
    (
        "06-queue",
        Text {
            en: include_str!("../lessons/06-queue/questions.md"),
            zh: include_str!("../lessons/06-queue/questions.zh.md"),
        },
    ),
    (
        "07-pipe",
        Text {
            en: include_str!("../lessons/07-pipe/questions.md"),
            zh: include_str!("../lessons/07-pipe/questions.zh.md"),
        },
    ),
    (
        "08-shared-data",
        Text {
            en: include_str!("../lessons/08-shared-data/questions.md"),
            zh: include_str!("../lessons/08-shared-data/questions.zh.md"),
        },
    ),
];

/// What the main process's prompt waits for when it waits for a prediction (the `object` of
/// its `wait` on `prompt`), so that the view draws the right prompt.
pub const PREDICTION: &str = "prediction";

/// One question, as written in `questions.md`.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    /// The step it is asked before (from 1), found by the step's title.
    pub step: u32,
    pub text: String,
    pub choices: Vec<String>,
    /// The outcome that answers it: a `what` of the lesson's outcome function.
    pub measured: String,
    /// What decides the answer, said when the prediction was wrong; `{observed}` is replaced
    /// by this run's answer.
    pub why: String,
    /// The choices in English, as the outcome functions measure them (`choices` are in the
    /// language of the run, in the same order).
    pub measured_choices: Vec<String>,
}

/// The questions of `lesson` (none for a lesson without `questions.md`), in the language of
/// the run: `questions.zh.md` has the same questions under the same steps, its choices in the
/// same order.
pub fn questions_of(lesson: &Lesson) -> Vec<Question> {
    let Some((_, text)) = QUESTIONS.iter().find(|(f, _)| *f == lesson.folder()) else {
        return Vec::new();
    };
    let titles = |notes: &str| -> Vec<String> {
        let notes = crate::view::notes::Notes::parse(notes);
        notes.step_titles().iter().map(|t| t.to_string()).collect()
    };
    let mut questions = parse(text.en, &titles(lesson.notes.en));
    if lang::current() == Lang::Zh && !text.zh.is_empty() {
        for shown in parse(text.zh, &titles(lesson.notes.zh)) {
            if let Some(question) = questions.iter_mut().find(|q| q.step == shown.step)
                && shown.choices.len() == question.choices.len()
            {
                question.text = shown.text;
                question.choices = shown.choices;
                question.why = shown.why;
            }
        }
    }
    // The files are Markdown, but a question is shown as plain text, in the terminal and in
    // the JSON: code marks would show as stray backticks.
    for question in &mut questions {
        for text in [&mut question.text, &mut question.why]
            .into_iter()
            .chain(question.choices.iter_mut())
        {
            *text = text.replace('`', "");
        }
    }
    questions
}

/// Parses `questions.md`: a `# ` title, then for each question a `## Step title` section with
/// the question (a paragraph), its choices (a `- ` list), `Measured: <outcome>` and
/// `Why: <explanation>` (which may go on over several lines).
pub fn parse(text: &str, step_titles: &[String]) -> Vec<Question> {
    let mut questions = Vec::new();
    for section in text.split("\n## ").skip(1) {
        let mut lines = section.lines();
        let title = lines.next().unwrap_or("").trim();
        let Some(index) = step_titles.iter().position(|t| t == title) else {
            continue;
        };
        let mut question = Question {
            step: index as u32 + 1,
            text: String::new(),
            choices: Vec::new(),
            measured: String::new(),
            why: String::new(),
            measured_choices: Vec::new(),
        };
        let mut in_why = false;
        for line in lines.map(str::trim) {
            if let Some(choice) = line.strip_prefix("- ") {
                question.choices.push(choice.trim().to_string());
            } else if let Some(measured) = line.strip_prefix("Measured:") {
                question.measured = measured.trim().to_string();
            } else if let Some(why) = line
                .strip_prefix("Why:")
                .or_else(|| line.strip_prefix("为什么："))
            {
                question.why = why.trim().to_string();
                in_why = true;
            } else if line.is_empty() {
                in_why = false;
            } else if in_why {
                question.why = joined(&question.why, line);
            } else if question.choices.is_empty() {
                question.text = joined(&question.text, line);
            }
        }
        question.measured_choices = question.choices.clone();
        questions.push(question);
    }
    questions
}

/// Two lines of one paragraph joined as the notes are (`lang::space_at_line_break`).
fn joined(before: &str, line: &str) -> String {
    match (before.chars().last(), line.chars().next()) {
        (None, _) => line.to_string(),
        (Some(last), Some(first)) if !lang::space_at_line_break(last, first) => {
            format!("{before}{line}")
        }
        _ => format!("{before} {line}"),
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

/// The choice that `observed` (a value an outcome function measured) falls under: the choice
/// with the same text, or a range of numbers that holds it (`2 to 5`, `6 or more`).
pub fn choice_for<'a>(observed: &str, choices: &'a [String]) -> Option<&'a String> {
    if let Some(same) = choices.iter().find(|c| c.as_str() == observed) {
        return Some(same);
    }
    let number: i64 = observed.trim().parse().ok()?;
    choices.iter().find(|choice| {
        let words: Vec<&str> = choice.split_whitespace().collect();
        match words.as_slice() {
            [low, "to", high] => match (low.parse::<i64>(), high.parse::<i64>()) {
                (Ok(low), Ok(high)) => (low..=high).contains(&number),
                _ => false,
            },
            [low, "or", "more"] => low.parse::<i64>().is_ok_and(|low| number >= low),
            _ => false,
        }
    })
}

/// The supervisor's side: it sees every event, remembers each prediction given, and judges it
/// once its step has run (when the main process next waits at a prompt, asks the next
/// question, begins the next step, or ends).
pub struct Referee {
    questions: Vec<Question>,
    measure: outcomes::Measure,
    /// The prediction given for the step now running: (step, the choice given).
    pending: Option<(u32, String)>,
    right: u32,
    judged: u32,
}

impl Referee {
    pub fn new(lesson: &Lesson) -> Referee {
        Referee {
            questions: questions_of(lesson),
            measure: outcomes::measure_of(lesson),
            pending: None,
            right: 0,
            judged: 0,
        }
    }

    /// Called with each event before it is shown, and with the events shown so far: the
    /// `predict` event due before this one, if any.
    pub fn before(&mut self, event: &Event, history: &[Event]) -> Option<Kind> {
        let step_is_over = match &event.kind {
            Kind::Question { .. } | Kind::Step { .. } | Kind::End { .. } => true,
            Kind::Wait { on, .. } => on == PROMPT,
            _ => false,
        };
        if step_is_over && self.pending.is_some() {
            return self.judge(history);
        }
        if let Kind::Answer {
            step,
            given: Some(given),
        } = &event.kind
        {
            self.pending = Some((*step, given.clone()));
        }
        None
    }

    /// After the run: the verdict still due (only when the run finished: a step cut short
    /// has no answer), then the score, if anything was predicted.
    pub fn finish(&mut self, history: &[Event], finished: bool) -> Vec<Kind> {
        let mut said = Vec::new();
        if finished && let Some(verdict) = self.judge(history) {
            said.push(verdict);
        }
        if self.judged > 0 {
            said.push(Kind::Note {
                text: text!(
                    en: "You predicted {} of {} right.",
                    zh: "共 {1} 题，你预测对了 {0} 题。",
                    self.right,
                    self.judged
                ),
            });
        }
        said
    }

    /// Answers the pending question from the events so far.
    fn judge(&mut self, history: &[Event]) -> Option<Kind> {
        let (step, given) = self.pending.take()?;
        let question = self.questions.iter().find(|q| q.step == step)?;
        let record = Record::new(history);
        let measured = (self.measure)(&record)
            .into_iter()
            .find(|m| m.step == step && m.what == question.measured);
        // The measured value falls under an English choice; the run shows the choice in its
        // own language, at the same place in the list.
        let observed = match measured {
            Some(measured) => match choice_for(&measured.value, &question.measured_choices) {
                Some(choice) => {
                    let place = question.measured_choices.iter().position(|c| c == choice);
                    let shown = place
                        .and_then(|i| question.choices.get(i))
                        .unwrap_or(choice);
                    // The measured value beside its choice only where the choice is a
                    // range that holds it (`2 to 5 (4)`), not where it is that choice.
                    if *choice != measured.value {
                        format!("{shown} ({})", measured.value)
                    } else {
                        shown.clone()
                    }
                }
                None => measured.value,
            },
            None => text!(en: "not measured in this run", zh: "这次运行没有测到"),
        };
        let observed_choice = observed.split(" (").next().unwrap_or(&observed).to_string();
        let right = given == observed_choice || given == observed;
        self.judged += 1;
        if right {
            self.right += 1;
        }
        Some(Kind::Predict {
            step,
            question: question.text.clone(),
            choices: question.choices.clone(),
            given: Some(given),
            observed: observed.clone(),
            right,
            why: question.why.replace("{observed}", &observed),
        })
    }
}

/// The text the human view shows for the events of predictions (and of `--repeat`, which a
/// lesson's human view never receives, but every kind has its words).
pub fn shown(event: &Event) -> String {
    match &event.kind {
        Kind::Question {
            step,
            question,
            choices,
        } => {
            let mut text = text!(
                en: "Predict, before step {step} runs: {question}",
                zh: "在第 {step} 步运行之前，请预测：{question}",
            );
            for (i, choice) in choices.iter().enumerate() {
                text.push_str(&format!("\n  {}) {choice}", i + 1));
            }
            text
        }
        Kind::Answer { given, .. } => match given {
            Some(given) => text!(en: "Your prediction: {given}", zh: "你的预测：{given}"),
            None => text!(
                en: "No prediction: input ended, so no more questions.",
                zh: "没有预测：输入已经结束，不再提问。",
            ),
        },
        Kind::Predict {
            step,
            given,
            observed,
            right,
            why,
            ..
        } => {
            let nothing = text!(en: "nothing", zh: "（无）");
            let given = given.as_deref().unwrap_or(&nothing);
            if *right {
                text!(
                    en: "Step {step}: you predicted {given}, and this run says {observed}. Right.",
                    zh: "第 {step} 步：你预测的是 {given}，这次运行的结果是 {observed}。对了。",
                )
            } else {
                text!(
                    en: "Step {step}: you predicted {given}; this run says {observed}. Why: {why}",
                    zh: "第 {step} 步：你预测的是 {given}；这次运行的结果是 {observed}。原因：{why}",
                )
            }
        }
        Kind::Outcome {
            run, seed, ended, ..
        } => {
            text!(en: "run {run} (seed {seed}) {ended}", zh: "第 {run} 次运行（种子 {seed}）{ended}")
        }
        Kind::Summary { runs, asked, .. } => text!(
            en: "{runs} of {asked} runs made",
            zh: "要求 {asked} 次运行，完成了 {runs} 次",
        ),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lessons::LESSONS;

    fn choices(list: &[&str]) -> Vec<String> {
        list.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn answers_are_picked_by_number_or_text() {
        let c = choices(&["主进程", "alex is done"]);
        assert_eq!(pick("1", &c), Some(&c[0]));
        assert_eq!(pick(" 2 ", &c), Some(&c[1]));
        assert_eq!(pick("ALEX IS DONE", &c), Some(&c[1]));
        assert_eq!(pick("3", &c), None);
        assert_eq!(pick("0", &c), None);
        assert_eq!(pick("", &c), None);
    }

    #[test]
    fn a_number_falls_under_its_range() {
        let c = choices(&["1", "2 to 5", "6 or more"]);
        assert_eq!(choice_for("1", &c), Some(&c[0]));
        assert_eq!(choice_for("4", &c), Some(&c[1]));
        assert_eq!(choice_for("10", &c), Some(&c[2]));
        assert_eq!(choice_for("0", &c), None);
    }

    /// Every questions.md belongs to a lesson, every section to one of its steps, and every
    /// question has two choices or more, an outcome that answers it and an explanation; its
    /// questions.zh.md asks the same questions, before the same steps, with as many choices.
    #[test]
    fn every_question_is_complete_and_under_a_step_of_its_lesson() {
        let titles = |notes: &str| -> Vec<String> {
            let notes = crate::view::notes::Notes::parse(notes);
            notes.step_titles().iter().map(|t| t.to_string()).collect()
        };
        for (folder, text) in QUESTIONS {
            let lesson = LESSONS.iter().find(|l| l.folder() == *folder).unwrap();
            let sections = text.en.matches("\n## ").count();
            let questions = parse(text.en, &titles(lesson.notes.en));
            assert_eq!(
                questions.len(),
                sections,
                "{folder}: a section is not a step"
            );
            for q in &questions {
                assert!(!q.text.is_empty(), "{folder} step {}", q.step);
                assert!(q.choices.len() >= 2, "{folder} step {}", q.step);
                assert!(!q.measured.is_empty(), "{folder} step {}", q.step);
                assert!(!q.why.is_empty(), "{folder} step {}", q.step);
            }
            if text.zh.is_empty() {
                continue;
            }
            let in_chinese = parse(text.zh, &titles(lesson.notes.zh));
            assert_eq!(
                in_chinese.len(),
                text.zh.matches("\n## ").count(),
                "{folder}: a section of questions.zh.md is not a step of notes.zh.md"
            );
            assert_eq!(in_chinese.len(), questions.len(), "{folder}");
            for (zh, en) in in_chinese.iter().zip(&questions) {
                assert_eq!(zh.step, en.step, "{folder}");
                assert_eq!(
                    zh.choices.len(),
                    en.choices.len(),
                    "{folder} step {}",
                    en.step
                );
                assert!(
                    lang::reads_as_chinese(&zh.text) && lang::reads_as_chinese(&zh.why),
                    "{folder} step {}",
                    en.step
                );
            }
        }
    }
}

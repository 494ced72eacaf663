//! What a run of a lesson measured: its *outcomes*, computed from the run's events, as the
//! notes' numbers are. `--repeat` runs a lesson many times and counts each outcome's values;
//! `--predict` answers a step's question with one of them.
//!
//! Each lesson has its own `outcomes.rs` in its folder (read
//! `lessons/05-process-lock/outcomes.rs` first), listed below by folder name: what varies
//! from run to run is different in every lesson, so each declares its own.

use crate::lessons::Lesson;
use crate::runtime::event::{Event, Kind, Measured};

/// A lesson's outcome function: what one run measured, from its events.
pub type Measure = fn(&Record) -> Vec<Measured>;

#[path = "../lessons/17-coroutines/outcomes.rs"]
mod coroutines;
#[path = "../lessons/03-daemon-terminate/outcomes.rs"]
mod daemon_terminate;
#[path = "../lessons/12-gil/outcomes.rs"]
mod gil;
#[path = "../lessons/16-io-models/outcomes.rs"]
mod io_models;
#[path = "../lessons/07-pipe/outcomes.rs"]
mod pipe;
#[path = "../lessons/10-pool/outcomes.rs"]
mod pool;
#[path = "../lessons/05-process-lock/outcomes.rs"]
mod process_lock;
#[path = "../lessons/15-producer-consumer/outcomes.rs"]
mod producer_consumer;
#[path = "../lessons/06-queue/outcomes.rs"]
mod queue;
#[path = "../lessons/09-semaphore-event/outcomes.rs"]
mod semaphore_event;
#[path = "../lessons/08-shared-data/outcomes.rs"]
mod shared_data;
#[path = "../lessons/04-socket-concurrency/outcomes.rs"]
mod socket_concurrency;
#[path = "../lessons/01-spawn-function/outcomes.rs"]
mod spawn_function;
#[path = "../lessons/02-spawn-worker/outcomes.rs"]
mod spawn_worker;
#[path = "../lessons/13-thread-locks/outcomes.rs"]
mod thread_locks;
#[path = "../lessons/14-thread-sync/outcomes.rs"]
mod thread_sync;
#[path = "../lessons/11-threads-vs-processes/outcomes.rs"]
mod threads_vs_processes;

/// The lessons with outcomes of their own, by folder.
const MEASURES: &[(&str, Measure)] = &[
    ("01-spawn-function", spawn_function::measure),
    ("02-spawn-worker", spawn_worker::measure),
    ("03-daemon-terminate", daemon_terminate::measure),
    ("04-socket-concurrency", socket_concurrency::measure),
    ("05-process-lock", process_lock::measure),
    ("06-queue", queue::measure),
    ("07-pipe", pipe::measure),
    ("08-shared-data", shared_data::measure),
    ("09-semaphore-event", semaphore_event::measure),
    ("10-pool", pool::measure),
    ("11-threads-vs-processes", threads_vs_processes::measure),
    ("12-gil", gil::measure),
    ("13-thread-locks", thread_locks::measure),
    ("14-thread-sync", thread_sync::measure),
    ("15-producer-consumer", producer_consumer::measure),
    ("16-io-models", io_models::measure),
    ("17-coroutines", coroutines::measure),
];

/// The outcome function of `lesson` (a lesson not yet listed measures nothing; a unit test
/// requires every lesson to be listed).
pub fn measure_of(lesson: &Lesson) -> Measure {
    MEASURES
        .iter()
        .find(|(folder, _)| *folder == lesson.folder())
        .map_or(|_| Vec::new(), |(_, measure)| *measure)
}

/// One measured value: step `step`, `what`, `value`.
pub fn measured(step: u32, what: &str, value: impl ToString) -> Measured {
    Measured {
        step,
        what: what.to_string(),
        value: value.to_string(),
    }
}

/// The events of one run, with the questions outcome functions ask of them: which step an
/// event belongs to, what a process is called, what was said.
pub struct Record<'a> {
    events: &'a [Event],
    /// When each step began (`t` of its `step` event), in order.
    step_starts: Vec<f64>,
    lab_pid: i32,
    main_pid: i32,
}

impl<'a> Record<'a> {
    /// `events` in the order they were shown (by time).
    pub fn new(events: &'a [Event]) -> Record<'a> {
        let step_starts = events
            .iter()
            .filter(|e| matches!(e.kind, Kind::Step { .. }))
            .map(|e| e.t)
            .collect();
        let lab_pid = events
            .iter()
            .find(|e| matches!(e.kind, Kind::Lesson { .. }))
            .map_or(0, |e| e.pid);
        let main_pid = events
            .iter()
            .find_map(|e| match &e.kind {
                Kind::Spawn { child, child_name } if e.pid == lab_pid && child_name == "main" => {
                    Some(*child)
                }
                _ => None,
            })
            .unwrap_or(0);
        Record {
            events,
            step_starts,
            lab_pid,
            main_pid,
        }
    }

    /// How many steps began.
    pub fn steps(&self) -> u32 {
        self.step_starts.len() as u32
    }

    /// The step (from 1) during which `event` happened: the last to begin before it (0 before
    /// the first step). A child that runs on across a step boundary is in the later step.
    pub fn step_of(&self, event: &Event) -> u32 {
        self.step_starts.partition_point(|&start| start <= event.t) as u32
    }

    /// Every event of the run.
    pub fn all(&self) -> impl Iterator<Item = &'a Event> + '_ {
        self.events.iter()
    }

    /// The events of step `step`.
    pub fn in_step(&self, step: u32) -> impl Iterator<Item = &'a Event> + '_ {
        self.events.iter().filter(move |e| self.step_of(e) == step)
    }

    /// The texts said (`say`) in step `step`, with who said them.
    pub fn says_in_step(&self, step: u32) -> impl Iterator<Item = (&'a Event, &'a str)> + '_ {
        self.in_step(step).filter_map(|e| match &e.kind {
            Kind::Say { text } => Some((e, text.as_str())),
            _ => None,
        })
    }

    /// The first `say` anywhere in the run whose text contains `part`.
    pub fn first_say(&self, part: &str) -> Option<&'a Event> {
        self.events
            .iter()
            .find(|e| matches!(&e.kind, Kind::Say { text } if text.contains(part)))
    }

    /// The pid of the `proclab` process that supervised the run.
    pub fn lab_pid(&self) -> i32 {
        self.lab_pid
    }

    /// The pid of the lesson's main process.
    pub fn main_pid(&self) -> i32 {
        self.main_pid
    }

    /// The first child forked with this name.
    pub fn pid_of(&self, name: &str) -> Option<i32> {
        self.events.iter().find_map(|e| match &e.kind {
            Kind::Spawn { child, child_name } if child_name == name => Some(*child),
            _ => None,
        })
    }

    /// What process `pid` is called: `proclab` for the lab, the name it was forked with,
    /// `init (pid 1)`, or its number.
    pub fn name_of(&self, pid: i32) -> String {
        if pid == self.lab_pid {
            return "proclab".to_string();
        }
        if pid == 1 {
            return "init (pid 1)".to_string();
        }
        self.events
            .iter()
            .find_map(|e| match &e.kind {
                Kind::Spawn { child, child_name } if *child == pid => Some(child_name.clone()),
                _ => None,
            })
            .unwrap_or_else(|| pid.to_string())
    }

    /// The exit code a parent reaped `pid` with.
    pub fn exitcode_of(&self, pid: i32) -> Option<i32> {
        self.events.iter().find_map(|e| match &e.kind {
            Kind::Exit {
                child,
                exitcode,
                is_thread: false,
            } if *child == pid => Some(*exitcode),
            _ => None,
        })
    }
}

/// The whole number that follows `after` in `text` (`"print(n): 99"`, `"print(n): "` → 99).
pub fn number_after(text: &str, after: &str) -> Option<i64> {
    let rest = &text[text.find(after)? + after.len()..];
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits.parse().ok()
}

/// A count put in a bin, for values that spread widely (lost updates out of 10000): `0`,
/// `1-9`, `10-99`, `100-999`, `1000 or more`.
pub fn order_of_magnitude(count: i64) -> String {
    match count {
        i64::MIN..=0 => "0".to_string(),
        1..=9 => "1-9".to_string(),
        10..=99 => "10-99".to_string(),
        100..=999 => "100-999".to_string(),
        _ => "1000 or more".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lessons::LESSONS;

    #[test]
    fn every_lesson_declares_its_outcomes() {
        for lesson in LESSONS {
            assert!(
                MEASURES
                    .iter()
                    .any(|(folder, _)| *folder == lesson.folder()),
                "lesson {} has no outcomes.rs listed here",
                lesson.number()
            );
        }
    }

    #[test]
    fn every_listed_folder_is_a_lesson() {
        for (folder, _) in MEASURES {
            assert!(
                LESSONS.iter().any(|l| l.folder() == *folder),
                "{folder} is not a lesson"
            );
        }
    }

    #[test]
    fn numbers_are_read_after_their_label() {
        assert_eq!(number_after("print(n): 99", "print(n):"), Some(99));
        assert_eq!(number_after("counter.value = 9611", "="), Some(9611));
        assert_eq!(number_after("nothing here", "="), None);
        assert_eq!(order_of_magnitude(0), "0");
        assert_eq!(order_of_magnitude(389), "100-999");
    }
}

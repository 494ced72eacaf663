//! The event: one thing that happened in a lesson, said by one actor: a process, a thread in
//! it, or a task in a thread.
//!
//! Every process a lesson starts reports what it does as events; it never prints. The lab's
//! supervising process collects them and a view (see `render.rs`) decides how they look. With
//! `--json` each event is printed as one line of JSON: that stream is the lab's contract with
//! graders and tools, so the field names below are stable and documented in the README.

use serde::{Deserialize, Serialize};

pub mod line;

/// Who said it, when, and what happened.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Event {
    /// Seconds since the lesson started, on one monotonic clock shared by every process.
    pub t: f64,
    /// The process that emitted the event.
    pub pid: i32,
    /// Its parent pid at the moment it emitted the event (it changes when a process is orphaned).
    pub ppid: i32,
    /// The emitting thread's id, only when it is not the process's main thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<i32>,
    /// The process's name (`main`, `alex`, `Process-1` ...).
    pub name: String,
    /// The emitting thread's own name, when the event comes from a thread other than the
    /// process's main thread (`worker-1`, `Thread-2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<String>,
    /// The task (a coroutine run by an executor on this thread) that emitted it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    #[serde(flatten)]
    pub kind: Kind,
}

/// What happened. The variant name is the JSON field `kind`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Kind {
    /// First event of a run: which lesson, and the seed and speed that replay it.
    Lesson {
        number: u32,
        slug: String,
        title: String,
        seed: u64,
        speed: f64,
        /// The language of the prose in this run's events: `en` or `zh`.
        #[serde(default)]
        lang: String,
    },
    /// First event of `proclab trace`: the program traced, with its arguments. Every event
    /// after it that is not the lab's own was seen from the outside (`traced_by`: `ptrace`
    /// with a seccomp filter), not reported by the program.
    Trace {
        command: Vec<String>,
        traced_by: String,
    },
    /// A step of the lesson begins.
    Step { index: u32, title: String },
    /// Said by a parent right after `fork` gave it a child.
    Spawn { child: i32, child_name: String },
    /// Said by a child process (or a new thread, with `tid` and `thread`, or a task), first
    /// thing.
    Start,
    /// The process replaced its program (`execve`, seen by `proclab trace`): the new program's
    /// path and its arguments.
    Exec { program: String, args: Vec<String> },
    /// The program's own output line.
    Say { text: String },
    /// The lab's annotation: what just happened and why.
    Note { text: String },
    /// Said by a child just before it calls `_exit(code)`; by a thread or a task as its
    /// target returns (`code` 0, or 1 after a panic or an `Err`).
    Done { code: i32 },
    /// Said by a parent when it reaps a child. `exitcode` follows Python: the exit status, or
    /// `-N` when signal N killed the child. With `is_thread`: said by the thread that joined
    /// thread `child` (a thread id) of the same process; `exitcode` is then 0, or 1 when its
    /// target panicked or returned an error.
    Exit {
        child: i32,
        exitcode: i32,
        #[serde(default, skip_serializing_if = "is_false")]
        is_thread: bool,
    },
    /// The actor is about to block: on what kind of thing (`on`: `lock`, `queue`, `join`,
    /// `accept` ...), and which one (`object`: its name).
    Wait { on: String, object: String },
    /// The actor sleeps for `seconds` (already scaled by `--speed`): a `time.sleep`. One event
    /// for the whole sleep (a sleep is never cut short), so that the timeline draws it as
    /// waiting, not running. The line view does not print it.
    Sleep { seconds: f64 },
    /// The wait that began with the actor's last `wait` on the same object is over: after
    /// `after` seconds, and `got` tells whether it got what it waited for. `ended` says how it
    /// ended: `got`, `end_of_file`, `timed_out`, `interrupted` or `error` (absent in
    /// recordings made before it existed, where `got: false` says only "not got").
    Woke {
        on: String,
        object: String,
        after: f64,
        got: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ended: Option<Ended>,
    },
    /// A process state read from `/proc/<of>/stat`: the state letter (`R`, `S`, `Z` ...) or
    /// `gone`, and the parent pid at that moment (absent when gone).
    State {
        of: i32,
        state: String,
        ppid_of: Option<i32>,
    },
    /// Something went wrong: a panic in a child, or an error that ended the lesson.
    Error { text: String },
    /// Said by the lesson's main process when a `--step` prompt has been answered: it waited
    /// `seconds` for the answer (so the pause began at `t - seconds`). `quit` is true when the
    /// answer was `q`. Nothing a note reports includes this time; the timeline cuts it out.
    Pause {
        seconds: f64,
        #[serde(default, skip_serializing_if = "is_false")]
        quit: bool,
    },
    /// Last event of a run: wall-clock seconds, and how the run ended.
    End { wall: f64, outcome: String },
    /// `--repeat`: what run `run` (from 1, with `--seed seed`) measured, said by the repeating
    /// `proclab` once that run has ended (`ended`: `finished`, `failed`, `interrupted`,
    /// `timed out`), `wall` seconds after it began.
    Outcome {
        run: u32,
        seed: u64,
        ended: String,
        wall: f64,
        measured: Vec<Measured>,
    },
    /// `--repeat`: last line; `runs` of the `asked` runs were made (fewer when Ctrl-C stopped
    /// them), and how often each value of each measure came up, with the seeds that gave it.
    Summary {
        runs: u32,
        asked: u32,
        histograms: Vec<Histogram>,
    },
    /// `--predict`: the question step `step` answers, asked by the main process before the
    /// step runs; the answer is read as a prompt's is.
    Question {
        step: u32,
        question: String,
        choices: Vec<String>,
    },
    /// `--predict`: the choice given as the prediction (`null`: none, input ended).
    Answer { step: u32, given: Option<String> },
    /// `--predict`: said by the lab once step `step` has run: the prediction given, the answer
    /// this run's events give, and whether they agree; `why` explains what decides it.
    Predict {
        step: u32,
        question: String,
        choices: Vec<String>,
        given: Option<String>,
        observed: String,
        /// Where the lesson ran the step's Python beside its own model (lesson 8's Manager):
        /// the answer CPython's run in the same run gives. `right` is true when the prediction
        /// is the lab's answer or CPython's; the verdict says which.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cpython: Option<String>,
        right: bool,
        why: String,
    },
}

/// One thing a run measured: in which step, what (`tickets sold without the lock`), and the
/// value this run gave (`5`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Measured {
    pub step: u32,
    pub what: String,
    pub value: String,
}

/// How often each value of one measure came up across the runs of `--repeat`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Histogram {
    pub step: u32,
    pub what: String,
    pub bars: Vec<Bar>,
}

/// One value, how many runs gave it, and their seeds (each replays that run with `--seed`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Bar {
    pub value: String,
    pub count: u32,
    pub seeds: Vec<u64>,
}

/// A `--step` prompt: the lesson's main process waits for a line on its standard input, and
/// the view, which sees this wait, draws the question. On the wire it is a `wait` on `prompt`
/// (its `object` says what for), so the JSON stays what tools already read; in the code it is
/// this type, so the process that asks and the view that draws share no string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prompt {
    /// Enter: the next page of notes, run the step, or go on after it.
    Enter,
    /// `--predict`: a choice's number, before the step runs.
    Prediction,
}

impl Prompt {
    /// The `on` of the `wait` that carries a prompt.
    const ON: &'static str = "prompt";

    fn object(self) -> &'static str {
        match self {
            Prompt::Enter => "Enter",
            Prompt::Prediction => "prediction",
        }
    }
}

impl Kind {
    /// The event the main process says just before it waits at `prompt`.
    pub fn prompt(prompt: Prompt) -> Kind {
        Kind::Wait {
            on: Prompt::ON.to_string(),
            object: prompt.object().to_string(),
        }
    }

    /// The prompt this event begins, if it is one.
    pub fn as_prompt(&self) -> Option<Prompt> {
        match self {
            Kind::Wait { on, object } if on == Prompt::ON => match object.as_str() {
                "prediction" => Some(Prompt::Prediction),
                _ => Some(Prompt::Enter),
            },
            _ => None,
        }
    }

    /// Whether this is a prompt's wait.
    pub fn is_prompt(&self) -> bool {
        self.as_prompt().is_some()
    }
}

/// How a wait ended: each `woke` event says one of these.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Ended {
    /// It got what it waited for: the lock, a message, the child's end.
    Got,
    /// What it read from was closed at the other end: nothing will ever come. (`closed` in
    /// the first traces that said how a wait ended.)
    #[serde(alias = "closed")]
    EndOfFile,
    /// Its timeout ran out first.
    TimedOut,
    /// A signal cut it short (`EINTR`).
    Interrupted,
    /// The call failed (a connection reset, a broken queue ...).
    Error,
}

impl Ended {
    /// Its name in the JSON field `ended`.
    pub fn code(self) -> &'static str {
        match self {
            Ended::Got => "got",
            Ended::EndOfFile => "end_of_file",
            Ended::TimedOut => "timed_out",
            Ended::Interrupted => "interrupted",
            Ended::Error => "error",
        }
    }

    /// How a read (`read`, `recv`) that waited ended: bytes are got; 0 bytes are the end of
    /// file; a read timeout is `WouldBlock` or `TimedOut`.
    pub fn of_read(result: &std::io::Result<usize>) -> Ended {
        match result {
            Ok(0) => Ended::EndOfFile,
            Ok(_) => Ended::Got,
            Err(error) => Ended::of_error(error),
        }
    }

    /// How a wait that failed with `error` ended.
    pub fn of_error(error: &std::io::Error) -> Ended {
        match error.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => Ended::TimedOut,
            std::io::ErrorKind::Interrupted => Ended::Interrupted,
            std::io::ErrorKind::UnexpectedEof => Ended::EndOfFile,
            _ => Ended::Error,
        }
    }
}

fn is_false(flag: &bool) -> bool {
    !flag
}

impl Event {
    /// Who said it, as the human view's prefix shows it: `main`, `main/worker-1`,
    /// `main/loop/echo-3`.
    pub fn actor_label(&self) -> String {
        let mut label = self.name.clone();
        if let Some(thread) = &self.thread {
            label.push('/');
            label.push_str(thread);
        } else if let Some(tid) = self.tid {
            label.push_str(&format!("/{tid}"));
        }
        if let Some(task) = &self.task {
            label.push('/');
            label.push_str(task);
        }
        label
    }

    /// The actor that said it: the key of its lane in the timeline.
    pub fn actor(&self) -> Actor {
        Actor {
            pid: self.pid,
            tid: self.tid,
            task: self.task.clone(),
        }
    }

    /// The event as one line of JSON, without the newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an event always serializes")
    }

    /// Parses one line written by `to_json`.
    pub fn from_json(line: &str) -> Option<Event> {
        serde_json::from_str(line).ok()
    }

    /// The text of a `say`, `note` or `error` event.
    pub fn text(&self) -> Option<&str> {
        match &self.kind {
            Kind::Say { text } | Kind::Note { text } | Kind::Error { text } => Some(text),
            _ => None,
        }
    }
}

/// Who: a process (`tid` and `task` absent), a thread of it, or a task on one of its threads.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Actor {
    pub pid: i32,
    pub tid: Option<i32>,
    pub task: Option<String>,
}

impl Actor {
    pub fn process(pid: i32) -> Actor {
        Actor {
            pid,
            tid: None,
            task: None,
        }
    }

    /// A thread of `pid`; `tid == pid` is the process itself (its main thread).
    pub fn thread(pid: i32, tid: i32) -> Actor {
        Actor {
            pid,
            tid: (tid != pid).then_some(tid),
            task: None,
        }
    }
}

/// Describes an exit code the way Python's `exitcode` does, for notes: `0`, `3`, `-15 (SIGTERM)`.
pub fn describe_exitcode(exitcode: i32) -> String {
    if exitcode >= 0 {
        return exitcode.to_string();
    }
    match nix::sys::signal::Signal::try_from(-exitcode) {
        Ok(signal) => format!("{exitcode} ({})", signal.as_str()),
        Err(_) => exitcode.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_every_field() {
        let event = Event {
            t: 1.25,
            pid: 10,
            ppid: 9,
            tid: None,
            name: "alex".into(),
            thread: None,
            task: None,
            kind: Kind::Exit {
                child: 11,
                exitcode: -15,
                is_thread: false,
            },
        };
        let line = event.to_json();
        assert_eq!(
            line,
            r#"{"t":1.25,"pid":10,"ppid":9,"name":"alex","kind":"exit","child":11,"exitcode":-15}"#
        );
        assert_eq!(Event::from_json(&line), Some(event));
    }

    #[test]
    fn unit_kind_and_thread_id() {
        let event = Event {
            t: 0.0,
            pid: 1,
            ppid: 0,
            tid: Some(7),
            name: "main".into(),
            thread: Some("worker-1".into()),
            task: None,
            kind: Kind::Start,
        };
        let line = event.to_json();
        assert!(line.contains(r#""kind":"start""#), "{line}");
        assert!(line.contains(r#""tid":7"#), "{line}");
        assert!(line.contains(r#""thread":"worker-1""#), "{line}");
        assert_eq!(event.actor_label(), "main/worker-1");
        assert_eq!(Event::from_json(&line), Some(event));
    }

    #[test]
    fn a_prompt_is_a_wait_on_prompt_in_the_json_and_comes_back_as_itself() {
        for (prompt, object) in [(Prompt::Enter, "Enter"), (Prompt::Prediction, "prediction")] {
            let kind = Kind::prompt(prompt);
            let line = serde_json::to_string(&kind).unwrap();
            assert_eq!(
                line,
                format!(r#"{{"kind":"wait","on":"prompt","object":"{object}"}}"#)
            );
            assert_eq!(kind.as_prompt(), Some(prompt));
        }
        let lock = Kind::Wait {
            on: "lock".into(),
            object: "prompt".into(),
        };
        assert_eq!(lock.as_prompt(), None);
    }

    #[test]
    fn exitcodes_are_described_like_python() {
        assert_eq!(describe_exitcode(0), "0");
        assert_eq!(describe_exitcode(-15), "-15 (SIGTERM)");
        assert_eq!(describe_exitcode(-9), "-9 (SIGKILL)");
    }
}

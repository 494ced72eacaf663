//! proclab: a live teaching lab for Linux processes and threads.
//!
//! `proclab run 1` runs lesson 1 for real (real `fork`, real sockets, real threads) and shows
//! what the operating system does while it happens: every line carries the time, pid, parent
//! pid and name of the process that said it; notes explain what just happened; a process tree
//! and a timeline close the run. The lessons follow a Chinese tutorial on Python's
//! `multiprocessing` and `threading`, and correct it where it is wrong.
//!
//! How a run works: the `proclab` process (the *supervisor*) forks the lesson's main process
//! and reads events from a pipe that every process of the lesson writes to; it renders them,
//! and at the end (or on Ctrl-C) kills and reaps whatever is left, so that nothing outlives
//! the lesson.
//!
//! The map. Dependencies point one way: the runtime at the bottom, the Python-shaped API on it,
//! lessons on the API; the supervisor, the views and the tools above them all.
//! - `i18n`: the two languages of the lab's prose (`Text`, `text!`, the language of the run)
//!   and the helpers that know Chinese is written without spaces.
//! - `runtime`: what every process of a run uses: who am I and where my events go
//!   (`context`), the event record and its JSON line (`event`), waiting made visible (`wait`),
//!   `/proc` (`procfs`), what a failed system call means and how to remedy it (`errno`).
//! - `multiprocessing`: Python's `multiprocessing`: `Process`, `Worker`, `Lock`, `Semaphore`,
//!   `Event`, `Queue`, `pipe`, `Value`, `Array`, `Manager`, `Pool` (its module doc maps them).
//! - `threading`: Python's `threading` and `queue`: `Thread`, `Lock`, `RLock`, `Semaphore`,
//!   `Event`, `Condition`, `Timer`, the queues, and a model of the GIL.
//! - `lab`: what a lesson's main process is handed: steps, pauses, the seeded random numbers.
//!   `cpython`: a step's own Python (`code/stepK.py`) run by `python3` in the same run, so that
//!   a lesson that models CPython can say what CPython did beside what the lab did.
//!   `lesson::prelude`: what a lesson's code imports in one line.
//! - `measure`: what a process and a thread cost, measured the same way by `bench` and lessons.
//! - `lessons`: the registry; each lesson is a folder `lessons/NN-slug/` at the top of the
//!   repository (its `lesson.rs` and `notes.md`): start reading there.
//! - `outcomes`: what a run measured, from its events (each lesson's `outcomes.rs`);
//!   `repeat`: `run --repeat N`, many runs of a lesson and the histogram of their outcomes;
//!   `predict`: `run --predict`, a question before a step, answered from the step's events.
//! - `supervisor`: runs a lesson (or `proclab serve`), collects its events, and cleans up after
//!   it; its guard process cleans up even when the supervisor itself is killed.
//! - `view`: how events look: the human view (lines, tree, timeline), the JSON view, the model
//!   of every actor's life they draw from, the notes renderer, and standard output as they
//!   write it, which a reader that stopped reading cannot use to stall the lab (`output`);
//!   `--record`'s asciicast file of the human view (`record`), `proclab code`'s view of
//!   each step's Python and Rust (`code`), and `--export`'s pictures of a run: SVG, a page to
//!   explore, a Chrome trace (`export`).
//! - `tools`: `serve`/`client` (`echo`: the echo service and its client; `models`: the same
//!   service served five ways: forking, iterative, a thread per connection, poll and epoll),
//!   `bench`, `load`, `replay` (plays a recording).
//! - `trace`: `proclab trace PROGRAM`, any program (the tutorial's Python first) watched from
//!   the outside with `ptrace` and a seccomp filter, its events in the lab's schema.
//! - `exercise`: `proclab exercise`, programs the students write, judged from what the kernel
//!   saw while they ran under `trace` (each exercise is a folder `exercises/NN-slug/`).
//! - `cli`: every command-line definition, and the dispatch to the rest.
//! - `error`: the lab's errors, and the exit status each one gives.
//!
//! The layers, bottom first. A module imports from its own layer and the layers below it,
//! never from one above, and no files import each other in a circle (`tests/layers.rs` reads
//! this list and checks both):
//! 1. `i18n`
//! 2. `runtime`
//! 3. `threading`, `multiprocessing`
//! 4. `error`, `measure`; `tools::echo` and `tools::models` (the forking server among them),
//!    the servers lessons run;
//!    `view::notes`, the notes' Markdown (the lab reads its step titles there), and
//!    `view::output`
//! 5. `lab`, `lesson` (the prelude a lesson imports), `cpython` (a step's Python run beside it)
//! 6. `lessons`
//! 7. `outcomes`, `predict`
//! 8. `supervisor`, `repeat`, `view`, `tools`, `trace`, `exercise`
//! 9. `cli`

pub mod cli;
pub mod cpython;
pub mod error;
pub mod exercise;
pub mod i18n;
pub mod lab;
pub mod lesson;
pub mod lessons;
pub mod measure;
pub mod multiprocessing;
pub mod outcomes;
pub mod predict;
pub mod repeat;
pub mod runtime;
pub mod supervisor;
pub mod threading;
pub mod tools;
pub mod trace;
pub mod view;

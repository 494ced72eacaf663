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
//! The map, one line a module:
//! - `cli`: every command-line definition, and the dispatch to the rest.
//! - `lessons`: the registry (`LESSONS`), and one file per lesson: start reading there.
//! - `process`: `Process` and `Worker`, Python's `multiprocessing.Process` over `fork`.
//! - `thread`: `Thread`, Python's `threading.Thread` over `pthread_create`.
//! - `lab`: what a lesson's main process is handed: steps, pauses, the seeded random numbers.
//! - `context`: who this process is and where its events go (`say!`, `note!`, `sleep`).
//! - `event`: the event record, which is also the `--json` format.
//! - `supervisor`: runs a lesson (or `proclab serve`), collects its events, and cleans up after it.
//! - `render`: the human view (lines, process tree, timeline) and the JSON view.
//! - `echo`: the upper-casing echo server (forking and iterative) and client, for lesson 4,
//!   `proclab serve` and `proclab client`.
//! - `procfs`: process state read from `/proc/<pid>/stat`.
//! - `shared`: memory shared between processes (`SharedMemory<T>`), and a semaphore in it.
//! - `notes`: the lesson notes (`lessons/NN-slug.md`), split by step and rendered.
//! - `error`: the lab's errors.
//! - `bench`: `proclab bench spawn`, what a process and a thread cost, and what the lab adds.
//! - `load`: `proclab load`, a bounded load client for the class's echo server.

pub mod bench;
pub mod cli;
pub mod context;
pub mod echo;
pub mod error;
pub mod event;
pub mod lab;
pub mod lessons;
pub mod load;
pub mod notes;
pub mod process;
pub mod procfs;
pub mod render;
pub mod shared;
pub mod supervisor;
pub mod thread;

//! How a run is shown: to a person (aligned lines, a tree and a timeline) or to a program
//! (JSON lines). Only the supervisor renders; lessons emit events.
//!
//! - `render`: the views the supervisor hands events to: the line view and the JSON view;
//!   `screen`: the full-screen view of `run --step` on a terminal; `out`: standard output as
//!   both write it (`--ascii`, `--record`).
//! - `step`: a `--step` step's page: its heading, its notes cut into pages, its prompt.
//! - `tree`, `timeline`: the process tree and the timeline, built as drawn lines from the
//!   one model of the run (`lives`), which every view inks in its own way.
//! - `theme`: the colours (`--theme`), the pieces of drawn text, `--ascii`.
//! - `terminal`: the terminal's size; `wording`: what each lifecycle event says in words.
//! - `export`: `--export FILE` and `proclab export`: the same model drawn as an SVG picture,
//!   a page to explore (HTML) and a Chrome trace for Perfetto.

pub mod code;
pub mod export;
pub mod lives;
pub mod notes;
pub mod out;
pub mod output;
pub mod record;
pub mod render;
pub mod screen;
pub mod step;
pub mod terminal;
pub mod theme;
pub mod timeline;
pub mod tree;
pub mod wording;

//! How a run is shown: to a person (aligned lines, a tree and a timeline) or to a program
//! (JSON lines). Only the supervisor renders; lessons emit events.

pub mod code;
pub mod lang;
pub mod lives;
pub mod notes;
pub mod output;
pub mod record;
pub mod render;

//! The runtime every process of a run uses. It sits at the bottom: it imports nothing above it
//! (no views, no lesson registry, no `Process`).

pub mod context;
pub mod errno;
pub mod event;
pub mod input;
pub mod lifeline;
pub mod outcome;
pub mod procfs;
pub mod raw;
pub mod socket;
pub mod stop;
pub mod wait;

//! What a lesson's code is written with.
//!
//! A lesson's `lesson.rs` begins with `use crate::lesson::prelude::*;`: the lab's side of a
//! lesson in one line (its errors, the `Lab` it is handed, `say!` and `note!`, the process's
//! context, `/proc`, waiting made visible, shared memory, the seeded random numbers' methods).
//! What it teaches it imports by name, as a Python program does (`from multiprocessing import
//! Process, Lock` is `use crate::multiprocessing::{Lock, Process};`): the two modules have
//! their own `Lock`, `Semaphore`, `Event` and `Queue`, so no one line could bring both. A
//! lesson's `outcomes.rs` has its own prelude, `crate::outcomes::prelude`.
//!
//! When an item moves between the lab's modules, this list follows it and no lesson changes.

pub mod prelude {
    pub use crate::error::{Error, Result};
    pub use crate::i18n::Text;
    pub use crate::lab::{Lab, describe, stated};
    pub use crate::multiprocessing::shared::SharedMemory;
    pub use crate::runtime::{context, procfs, wait};
    pub use crate::{note, process_shared, say, text};
    /// `lab.rng().random_range(..)` and the other methods of the seeded generator.
    pub use rand::RngExt;
}

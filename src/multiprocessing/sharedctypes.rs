//! Python's `multiprocessing.Value` and `multiprocessing.Array`: numbers in shared memory
//! (共享内存), each with a lock of its own (`get_lock()`).
//!
//! ```ignore
//! let counter = Value::new(0)?;                 // Value('i', 0): a C int, shared
//! let in_child = counter.clone();               // a handle to the same number, for a child
//! let mut child = Process::new(move || -> Result<(), SyncError> {
//!     let _held = in_child.get_lock().hold()?;   // with counter.get_lock():
//!     in_child.set_value(in_child.value() + 1);  //     counter.value += 1
//!     Ok(())
//! });
//! ```
//!
//! The number lives in an anonymous `MAP_SHARED` mapping made before the fork (see
//! `shared.rs`), so every process forked afterwards reads and writes the same one.
//!
//! `value()` is one read and `set_value()` one write; each alone is whole (an atomic load or
//! store: no process ever sees half a number), but `set_value(value() + 1)` is two steps, and
//! another process can write between them. Its write is then lost under ours. Python's
//! `counter.value += 1` is the same two steps: its `value` property takes the value's lock
//! for the read, lets go, and takes it again for the write, so the lock never covers the
//! whole increment. Only holding `get_lock()` around both makes it one step for everyone.
//!
//! Python's `get_lock()` is a recursive lock (`RLock`), because its `value` property takes the
//! same lock again inside `with counter.get_lock():`. Here `value()` and `set_value()` take no
//! lock themselves, so a plain `Lock` is enough, and the lock is all there is to it.

use std::sync::atomic::{AtomicI32, Ordering};

use crate::multiprocessing::shared::SharedMemory;
use crate::multiprocessing::synchronize::{Lock, SyncError};

/// `multiprocessing.Value('i', initial)`: one C `int` in shared memory, and its lock. Clones
/// are handles to the same value.
#[derive(Clone)]
pub struct Value {
    number: SharedMemory<AtomicI32>,
    lock: Lock,
}

impl Value {
    pub fn new(initial: i32) -> Result<Value, SyncError> {
        Ok(Value {
            number: SharedMemory::new(AtomicI32::new(initial))
                .map_err(|errno| SyncError::System("mmap", errno))?,
            lock: Lock::new()?.named("value"),
        })
    }

    /// A name for its lock, shown in the `wait` events.
    pub fn named(mut self, name: &str) -> Value {
        self.lock = self.lock.named(name);
        self
    }

    /// Reads the number (`counter.value`): one load.
    pub fn value(&self) -> i32 {
        // Relaxed: a plain read. Whoever needs the reads and writes of several processes in
        // one order takes the lock, whose semaphore orders them.
        self.number.load(Ordering::Relaxed)
    }

    /// Writes the number (`counter.value = n`): one store.
    pub fn set_value(&self, number: i32) {
        self.number.store(number, Ordering::Relaxed);
    }

    /// The value's own lock (`counter.get_lock()`): hold it around a read-modify-write.
    pub fn get_lock(&self) -> &Lock {
        &self.lock
    }
}

/// `multiprocessing.Array('i', N)`: `N` C `int`s in shared memory, and one lock for them all.
#[derive(Clone)]
pub struct Array<const N: usize> {
    numbers: SharedMemory<[AtomicI32; N]>,
    lock: Lock,
}

impl<const N: usize> Array<N> {
    /// `Array('i', initial)`: as many numbers as `initial` has, starting with its values.
    pub fn new(initial: [i32; N]) -> Result<Array<N>, SyncError> {
        Ok(Array {
            numbers: SharedMemory::new(initial.map(AtomicI32::new))
                .map_err(|errno| SyncError::System("mmap", errno))?,
            lock: Lock::new()?.named("array"),
        })
    }

    pub fn named(mut self, name: &str) -> Array<N> {
        self.lock = self.lock.named(name);
        self
    }

    pub fn len(&self) -> usize {
        N
    }

    pub fn is_empty(&self) -> bool {
        N == 0
    }

    /// `array[index]`; `None` past the end (Python: `IndexError`).
    pub fn get(&self, index: usize) -> Option<i32> {
        Some(self.numbers.get(index)?.load(Ordering::Relaxed))
    }

    /// `array[index] = number`; false past the end.
    pub fn set(&self, index: usize, number: i32) -> bool {
        match self.numbers.get(index) {
            Some(slot) => {
                slot.store(number, Ordering::Relaxed);
                true
            }
            None => false,
        }
    }

    /// `array[:]`: a copy of every number, read one by one.
    pub fn to_vec(&self) -> Vec<i32> {
        self.numbers
            .iter()
            .map(|slot| slot.load(Ordering::Relaxed))
            .collect()
    }

    pub fn get_lock(&self) -> &Lock {
        &self.lock
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_number_and_the_lock() {
        let counter = Value::new(5).unwrap();
        let other = counter.clone();
        other.set_value(other.value() + 1);
        assert_eq!(counter.value(), 6);
        assert!(other.get_lock().try_acquire().unwrap());
        assert!(counter.get_lock().is_held());
        counter.get_lock().release().unwrap();
    }

    #[test]
    fn an_array_refuses_an_index_past_its_end() {
        let array = Array::new([1, 2, 3]).unwrap();
        assert!(array.set(2, 30));
        assert!(!array.set(3, 40));
        assert_eq!(array.get(3), None);
        assert_eq!(array.to_vec(), vec![1, 2, 30]);
    }
}

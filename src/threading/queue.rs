//! Python's `queue` module (队列): `Queue` (first in, first out), `LifoQueue` (last in, first
//! out, a stack) and `PriorityQueue` (smallest first), for the threads of one process.
//!
//! ```ignore
//! let buns: Arc<Queue<String>> = Arc::new(Queue::new(10).named("buns"));  // queue.Queue(10)
//! buns.put("包子 1".to_string());          // waits while the queue is full
//! let bun = buns.get();                    // waits while it is empty
//! buns.task_done()?;                       // one item fully dealt with
//! buns.join();                             // waits until every item put is done
//! ```
//!
//! `maxsize` 0 means unbounded, as in Python. `put` on a full queue and `get` on an empty one
//! wait; their `_timeout` and `_nowait` forms give up with `Full` or `Empty` instead. Every
//! item put counts as an unfinished task until a `task_done()` for it; `join()` waits until
//! none is left, and one `task_done()` too many is Python's `ValueError`.
//!
//! Built as CPython's `queue.Queue` is: one mutex around the items, and three conditions on it,
//! "not empty" (for `get`), "not full" (for `put`) and "all tasks done" (for `join`). The three
//! classes differ only in how items are stored and which comes out next (the `Store` trait
//! below; in Python, the `_put` and `_get` methods a subclass overrides). A thread that has to
//! wait reports it (`wait`/`woke` events, kind `queue`, the queue's name), whether it waits to
//! put, to get or to join; one that can go ahead at once does so without a word.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::runtime::context;
use crate::runtime::wait;

/// `put` gave up: the queue was full (Python's `queue.Full`, an exception with no message).
#[derive(Debug, Clone, PartialEq)]
pub struct Full;

impl fmt::Display for Full {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "queue.Full")
    }
}

impl std::error::Error for Full {}

/// `get` gave up: the queue was empty (Python's `queue.Empty`, an exception with no message).
#[derive(Debug, Clone, PartialEq)]
pub struct Empty;

impl fmt::Display for Empty {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "queue.Empty")
    }
}

impl std::error::Error for Empty {}

/// More `task_done()` calls than items put (Python's `ValueError`).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskDoneTooManyTimes;

impl fmt::Display for TaskDoneTooManyTimes {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "task_done() called too many times")
    }
}

impl std::error::Error for TaskDoneTooManyTimes {}

/// How a queue keeps its items, and which one comes out next: CPython's `_put`, `_get` and
/// `_qsize`, which `LifoQueue` and `PriorityQueue` override.
pub trait Store: Default {
    type Item;
    fn put(&mut self, item: Self::Item);
    fn get(&mut self) -> Option<Self::Item>;
    fn qsize(&self) -> usize;
}

/// First in, first out: a ring buffer, items join at the back and leave from the front.
pub struct Fifo<T>(VecDeque<T>);

/// Last in, first out: a stack.
pub struct Lifo<T>(Vec<T>);

/// Smallest first: a binary heap (Python's uses `heapq`, a min-heap; Rust's `BinaryHeap` is a
/// max-heap, so the items are kept wrapped in `Reverse`). Items that compare equal come out in
/// no promised order, in both languages: put `(priority, sequence number, item)` to keep the
/// order of equals.
pub struct Priority<T: Ord>(BinaryHeap<Reverse<T>>);

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Fifo(VecDeque::new())
    }
}

impl<T> Default for Lifo<T> {
    fn default() -> Self {
        Lifo(Vec::new())
    }
}

impl<T: Ord> Default for Priority<T> {
    fn default() -> Self {
        Priority(BinaryHeap::new())
    }
}

impl<T> Store for Fifo<T> {
    type Item = T;
    fn put(&mut self, item: T) {
        self.0.push_back(item);
    }
    fn get(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    fn qsize(&self) -> usize {
        self.0.len()
    }
}

impl<T> Store for Lifo<T> {
    type Item = T;
    fn put(&mut self, item: T) {
        self.0.push(item);
    }
    fn get(&mut self) -> Option<T> {
        self.0.pop()
    }
    fn qsize(&self) -> usize {
        self.0.len()
    }
}

impl<T: Ord> Store for Priority<T> {
    type Item = T;
    fn put(&mut self, item: T) {
        self.0.push(Reverse(item));
    }
    fn get(&mut self) -> Option<T> {
        self.0.pop().map(|Reverse(item)| item)
    }
    fn qsize(&self) -> usize {
        self.0.len()
    }
}

/// `queue.Queue(maxsize)`: first in, first out.
pub type Queue<T> = BaseQueue<Fifo<T>>;
/// `queue.LifoQueue(maxsize)`: last in, first out.
pub type LifoQueue<T> = BaseQueue<Lifo<T>>;
/// `queue.PriorityQueue(maxsize)`: the smallest item first.
pub type PriorityQueue<T> = BaseQueue<Priority<T>>;

/// What the mutex guards.
struct State<S> {
    items: S,
    /// Items put and not yet marked `task_done`.
    unfinished_tasks: usize,
}

/// The queue itself, whichever way it stores its items (use `Queue`, `LifoQueue` or
/// `PriorityQueue`).
pub struct BaseQueue<S: Store> {
    name: String,
    maxsize: usize,
    /// Whether waits are reported as events (see `without_events`).
    reporting: bool,
    state: Mutex<State<S>>,
    not_empty: Condvar,
    not_full: Condvar,
    all_tasks_done: Condvar,
}

impl<S: Store> BaseQueue<S> {
    /// A queue that holds at most `maxsize` items; 0 means no limit (Python's default).
    pub fn new(maxsize: usize) -> Self {
        BaseQueue {
            name: "queue".to_string(),
            maxsize,
            reporting: true,
            state: Mutex::new(State {
                items: S::default(),
                unfinished_tasks: 0,
            }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            all_tasks_done: Condvar::new(),
        }
    }

    /// A name for the queue, shown in the `wait` events and on the timeline.
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A queue that does not report its waits: for measuring what a queue costs (lesson 15's
    /// throughput), where writing an event for each of thousands of short waits would be
    /// measured too. (As `Thread::without_events`.)
    pub fn without_events(mut self) -> Self {
        self.reporting = false;
        self
    }

    /// Reports a wait that is about to begin, unless this queue is silent.
    fn begin_wait(&self) -> Option<wait::Waiting> {
        self.reporting.then(|| wait::begin("queue", &self.name))
    }

    pub fn maxsize(&self) -> usize {
        self.maxsize
    }

    fn state(&self) -> MutexGuard<'_, State<S>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_full(&self, state: &State<S>) -> bool {
        self.maxsize > 0 && state.items.qsize() >= self.maxsize
    }

    /// Puts an item in, waiting as long as the queue is full.
    pub fn put(&self, item: S::Item) {
        // Without a deadline the wait only ends with room, so this cannot fail.
        let _ = self.put_until(item, None);
    }

    /// Puts an item in, waiting at most `timeout` (scaled by `--speed`) for room:
    /// `put(item, timeout=...)`.
    pub fn put_timeout(&self, item: S::Item, timeout: Duration) -> Result<(), Full> {
        self.put_until(item, Some(Instant::now() + context::scaled(timeout)))
    }

    /// Puts an item in only if there is room now: `put_nowait(item)`.
    pub fn put_nowait(&self, item: S::Item) -> Result<(), Full> {
        let mut state = self.state();
        if self.is_full(&state) {
            return Err(Full);
        }
        self.push(&mut state, item);
        Ok(())
    }

    fn put_until(&self, item: S::Item, deadline: Option<Instant>) -> Result<(), Full> {
        let mut state = self.state();
        if self.is_full(&state) {
            let waiting = self.begin_wait();
            let (back, room) =
                wait_while(&self.not_full, state, deadline, |state| self.is_full(state));
            state = back;
            if let Some(waiting) = waiting {
                waiting.end(room);
            }
            if !room {
                return Err(Full);
            }
        }
        self.push(&mut state, item);
        Ok(())
    }

    fn push(&self, state: &mut State<S>, item: S::Item) {
        state.items.put(item);
        state.unfinished_tasks += 1;
        self.not_empty.notify_one();
    }

    /// Takes the next item out, waiting as long as the queue is empty.
    pub fn get(&self) -> S::Item {
        loop {
            // Without a deadline the wait only ends with an item.
            if let Ok(item) = self.get_until(None) {
                return item;
            }
        }
    }

    /// Takes the next item out, waiting at most `timeout` (scaled by `--speed`) for one:
    /// `get(timeout=...)`.
    pub fn get_timeout(&self, timeout: Duration) -> Result<S::Item, Empty> {
        self.get_until(Some(Instant::now() + context::scaled(timeout)))
    }

    /// Takes the next item out only if there is one now: `get_nowait()`.
    pub fn get_nowait(&self) -> Result<S::Item, Empty> {
        self.pop(&mut self.state()).ok_or(Empty)
    }

    fn get_until(&self, deadline: Option<Instant>) -> Result<S::Item, Empty> {
        let mut state = self.state();
        if state.items.qsize() == 0 {
            let waiting = self.begin_wait();
            let (back, got) = wait_while(&self.not_empty, state, deadline, |state| {
                state.items.qsize() == 0
            });
            state = back;
            if let Some(waiting) = waiting {
                waiting.end(got);
            }
        }
        self.pop(&mut state).ok_or(Empty)
    }

    fn pop(&self, state: &mut State<S>) -> Option<S::Item> {
        let item = state.items.get()?;
        self.not_full.notify_one();
        Some(item)
    }

    /// Says that one item taken out has been fully dealt with.
    pub fn task_done(&self) -> Result<(), TaskDoneTooManyTimes> {
        let mut state = self.state();
        if state.unfinished_tasks == 0 {
            return Err(TaskDoneTooManyTimes);
        }
        state.unfinished_tasks -= 1;
        if state.unfinished_tasks == 0 {
            self.all_tasks_done.notify_all();
        }
        Ok(())
    }

    /// Waits until every item ever put has been marked `task_done`.
    pub fn join(&self) {
        let state = self.state();
        if state.unfinished_tasks == 0 {
            return;
        }
        let waiting = self.begin_wait();
        let (state, done) = wait_while(&self.all_tasks_done, state, None, |state| {
            state.unfinished_tasks > 0
        });
        drop(state);
        if let Some(waiting) = waiting {
            waiting.end(done);
        }
    }

    /// Items in the queue right now (a snapshot: it may change at once).
    pub fn qsize(&self) -> usize {
        self.state().items.qsize()
    }

    pub fn empty(&self) -> bool {
        self.qsize() == 0
    }

    pub fn full(&self) -> bool {
        self.is_full(&self.state())
    }

    /// Items put and not yet marked done (Python keeps it in `unfinished_tasks`).
    pub fn unfinished_tasks(&self) -> usize {
        self.state().unfinished_tasks
    }
}

/// Sleeps on `condvar` while `blocked(state)`, until `deadline` if there is one. Returns the
/// state's guard and whether it got out because `blocked` became false. A condition variable
/// may wake a thread for nothing, or another thread may take the item first: the loop checks
/// again each time (this is the `while`, never `if`, of lesson 14).
fn wait_while<'a, T>(
    condvar: &Condvar,
    mut state: MutexGuard<'a, T>,
    deadline: Option<Instant>,
    blocked: impl Fn(&T) -> bool,
) -> (MutexGuard<'a, T>, bool) {
    while blocked(&state) {
        state = match deadline {
            None => condvar.wait(state).unwrap_or_else(|e| e.into_inner()),
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return (state, false);
                }
                condvar
                    .wait_timeout(state, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
        };
    }
    (state, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_orders_for_the_same_puts() {
        let fifo: Queue<&str> = Queue::new(0);
        let lifo: LifoQueue<&str> = LifoQueue::new(0);
        for item in ["first", "second", "third"] {
            fifo.put(item);
            lifo.put(item);
        }
        let taken: Vec<&str> = (0..3).map(|_| fifo.get()).collect();
        assert_eq!(taken, ["first", "second", "third"]);
        let taken: Vec<&str> = (0..3).map(|_| lifo.get()).collect();
        assert_eq!(taken, ["third", "second", "first"]);
        let priority: PriorityQueue<(u32, &str)> = PriorityQueue::new(0);
        for item in [(20, "a"), (10, "b"), (30, "c")] {
            priority.put(item);
        }
        let taken: Vec<(u32, &str)> = (0..3).map(|_| priority.get()).collect();
        assert_eq!(taken, [(10, "b"), (20, "a"), (30, "c")]);
    }

    #[test]
    fn bounded_nowait_and_task_done() {
        let queue: Queue<u32> = Queue::new(1);
        assert!(!queue.full());
        queue.put_nowait(1).unwrap();
        assert!(queue.full());
        assert_eq!(queue.put_nowait(2), Err(Full));
        assert_eq!(queue.get_nowait(), Ok(1));
        assert_eq!(queue.get_nowait(), Err(Empty));
        assert!(queue.empty());
        queue.task_done().unwrap();
        assert_eq!(queue.task_done(), Err(TaskDoneTooManyTimes));
        queue.join();
        assert_eq!(
            TaskDoneTooManyTimes.to_string(),
            "task_done() called too many times"
        );
    }
}

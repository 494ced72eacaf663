//! A small executor for coroutines (协程), written to be read: what `asyncio`, gevent and tokio
//! do, in one file.
//!
//! - A *task* is a named `Future`: a computation that can stop half-way (`Poll::Pending`) and
//!   be resumed later (polled again). An `async fn` is compiled into such a thing; every
//!   `.await` is a place where it may stop.
//! - The *run queue* holds the tasks that can make progress now. `run` takes the first, polls
//!   it until it stops or ends, takes the next: one thread, one task at a time, and a task
//!   gives the thread up only where it waits (cooperative, 协作式).
//! - A task that must wait leaves a `Waker` with the *reactor*, the one place where the thread
//!   blocks: an `epoll` set of the sockets tasks wait on, and the timers of sleeping tasks.
//!   When a socket is ready or a timer is due, the reactor wakes the task: its number goes
//!   back on the run queue.
//!
//! The non-blocking socket calls that tasks await (`accept`, `read`, `write_all`) are in
//! `lesson.rs`, built on [`ready`]. The tasks are the lab's actors: around each poll the executor says which task runs
//! (`context::set_task`), so every line a task emits carries its name, and its waits are drawn.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags};

use crate::multiprocessing::process::poll_timeout;
use crate::runtime::context;
use crate::runtime::event::Kind;
use crate::runtime::wait::{self, Waiting};

type BoxedTask = Pin<Box<dyn Future<Output = ()>>>;

/// The run queue. `Waker`s must be `Send + Sync` (the standard library's rule, for executors
/// with many threads), hence the `Arc<Mutex<..>>`, uncontended here.
type RunQueue = Arc<Mutex<VecDeque<usize>>>;

/// What a `Waker` does here: put its task's number back on the run queue.
struct TaskWaker {
    task: usize,
    run_queue: RunQueue,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.run_queue.lock().unwrap().push_back(self.task);
    }
}

thread_local! {
    static REACTOR: Reactor = Reactor::new();
    /// Tasks spawned by tasks, picked up by `run` after the current poll.
    static SPAWNED: RefCell<Vec<(String, BoxedTask)>> = const { RefCell::new(Vec::new()) };
    static SHOW_WAITS: Cell<bool> = const { Cell::new(true) };
}

/// Starts a task: it joins the run queue once the current poll is over.
pub fn spawn(name: &str, task: impl Future<Output = ()> + 'static) {
    SPAWNED.with_borrow_mut(|spawned| spawned.push((name.to_string(), Box::pin(task))));
}

/// Whether waits are reported as `wait`/`woke` (the lesson's small examples: yes; under load,
/// where that is two events per request: no).
pub fn show_waits(show: bool) {
    SHOW_WAITS.with(|flag| flag.set(show));
}

/// Runs every task, and those they spawn, until all have ended. Returns how many times a
/// task was polled (each poll after the first is a switch back to a task that had waited).
pub fn run() -> u64 {
    let run_queue: RunQueue = Arc::default();
    let mut tasks: HashMap<usize, (String, BoxedTask)> = HashMap::new();
    let (mut next_number, mut polls) = (0, 0);
    loop {
        for (name, future) in SPAWNED.with_borrow_mut(std::mem::take) {
            context::set_task(Some(&name));
            context::emit(Kind::Start);
            context::set_task(None);
            tasks.insert(next_number, (name, future));
            run_queue.lock().unwrap().push_back(next_number);
            next_number += 1;
        }
        let Some(number) = run_queue.lock().unwrap().pop_front() else {
            if tasks.is_empty() {
                return polls;
            }
            // Nothing can run: the thread blocks here, and only here, until a socket is
            // ready or a timer is due.
            REACTOR.with(Reactor::wait);
            continue;
        };
        let Some((name, future)) = tasks.get_mut(&number) else {
            continue;
        };
        let waker = Waker::from(Arc::new(TaskWaker {
            task: number,
            run_queue: run_queue.clone(),
        }));
        context::set_task(Some(name));
        polls += 1;
        let poll = future.as_mut().poll(&mut Context::from_waker(&waker));
        if poll.is_ready() {
            context::emit(Kind::Done { code: 0 });
            tasks.remove(&number);
        }
        context::set_task(None);
    }
}

/// Set by the reactor when what a task waits for has come.
type ReadyFlag = Rc<Cell<bool>>;

/// What a task waits for: a time, or a socket to be ready to read (`EPOLLIN`) or write. The
/// socket is borrowed: the task that waits on it keeps it open (the compiler checks it).
enum Awaited<'socket> {
    Time(Instant),
    Socket(BorrowedFd<'socket>, EpollFlags),
}

/// The reactor: the sockets tasks wait on (an epoll set, one-shot: a socket is reported once,
/// then must be asked for again) and the sleeping tasks' timers.
struct Reactor {
    epoll: Epoll,
    sockets: RefCell<HashMap<RawFd, (Waker, ReadyFlag)>>,
    timers: RefCell<Vec<(Instant, Waker, ReadyFlag)>>,
}

impl Reactor {
    fn new() -> Reactor {
        Reactor {
            epoll: Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).expect("an epoll instance"),
            sockets: RefCell::default(),
            timers: RefCell::default(),
        }
    }

    /// Wakes `waker`, and sets `ready`, once `awaited` has come.
    fn watch(&self, awaited: &Awaited, waker: Waker, ready: ReadyFlag) {
        match *awaited {
            Awaited::Time(at) => self.timers.borrow_mut().push((at, waker, ready)),
            Awaited::Socket(socket, interest) => {
                let fd = socket.as_raw_fd();
                let mut event = EpollEvent::new(interest | EpollFlags::EPOLLONESHOT, fd as u64);
                if self.epoll.modify(socket, &mut event).is_err() {
                    self.epoll.add(socket, event).expect("epoll_ctl ADD");
                }
                self.sockets.borrow_mut().insert(fd, (waker, ready));
            }
        }
    }

    /// Blocks until a watched socket is ready or the next timer is due; wakes their tasks.
    fn wait(&self) {
        let next_timer = self.timers.borrow().iter().map(|(at, ..)| *at).min();
        let timeout = next_timer.map_or(nix::poll::PollTimeout::NONE, |at| {
            // The timers' times are scaled when they are set (`sleep`).
            poll_timeout(at.saturating_duration_since(Instant::now()))
        });
        let waiting = begin_wait("epoll_wait", reactor_name());
        let mut events = [EpollEvent::empty(); 64];
        let count = self.epoll.wait(&mut events, timeout).unwrap_or(0);
        if let Some(waiting) = waiting {
            waiting.end(true);
        }
        let mut sockets = self.sockets.borrow_mut();
        for event in &events[..count] {
            if let Some((waker, ready)) = sockets.remove(&(event.data() as RawFd)) {
                ready.set(true);
                waker.wake();
            }
        }
        let now = Instant::now();
        self.timers.borrow_mut().retain(|(at, waker, ready)| {
            ready.set(*at <= now);
            if *at <= now {
                waker.wake_by_ref();
            }
            *at > now
        });
    }
}

/// What the reactor's wait is called where the student sees it, in the run's language (no
/// `format!`: it is asked for at every wait, also under load).
fn reactor_name() -> &'static str {
    match crate::i18n::current() {
        crate::i18n::Lang::En => "the reactor",
        crate::i18n::Lang::Zh => "反应器 (reactor)",
    }
}

/// A wait, drawn on the timeline when waits are shown: `wait` where the task stops, `woke`
/// where it goes on.
fn begin_wait(on: &'static str, object: &str) -> Option<Waiting> {
    SHOW_WAITS.with(Cell::get).then(|| wait::begin(on, object))
}

/// The future of every wait. Its first poll leaves the task's `Waker` with the reactor and
/// returns `Pending`: there the task stops, and the executor runs another. Polled again after
/// the reactor set its flag, it is `Ready`, and the task goes on from there.
pub struct Wait<'socket> {
    awaited: Awaited<'socket>,
    on: &'static str,
    ready: Option<ReadyFlag>,
    waiting: Option<Waiting>,
}

impl Future for Wait<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context) -> Poll<()> {
        if let Some(ready) = &self.ready {
            if !ready.get() {
                return Poll::Pending;
            }
            if let Some(waiting) = self.waiting.take() {
                waiting.end(true);
            }
            return Poll::Ready(());
        }
        let ready = ReadyFlag::default();
        let object = match self.awaited {
            Awaited::Time(at) => crate::lab::describe(at - Instant::now()),
            Awaited::Socket(socket, _) => format!("socket {}", socket.as_raw_fd()),
        };
        self.waiting = begin_wait(self.on, &object);
        REACTOR.with(|r| r.watch(&self.awaited, cx.waker().clone(), ready.clone()));
        self.ready = Some(ready);
        Poll::Pending
    }
}

impl<'socket> Wait<'socket> {
    fn new(awaited: Awaited<'socket>, on: &'static str) -> Wait<'socket> {
        let (ready, waiting) = (None, None);
        Wait {
            awaited,
            on,
            ready,
            waiting,
        }
    }
}

/// Sleeps `duration` (scaled by `--speed`) without blocking the thread: other tasks run.
pub fn sleep(duration: Duration) -> Wait<'static> {
    Wait::new(
        Awaited::Time(Instant::now() + context::scaled(duration)),
        "sleep",
    )
}

/// Waits until `socket` is ready for `interest` (`EPOLLIN`: to read or accept; `EPOLLOUT`: to
/// send); `on` names the wait (`recv`, `accept` ...).
pub fn ready<'socket>(
    socket: BorrowedFd<'socket>,
    interest: EpollFlags,
    on: &'static str,
) -> Wait<'socket> {
    Wait::new(Awaited::Socket(socket, interest), on)
}

//! Python's `multiprocessing.Pool` (进程池): a few worker processes, forked once, that run many
//! tasks one after another.
//!
//! ```ignore
//! let mut tasks = Tasks::new();
//! let square = tasks.register("square", square);   // before the fork: the workers inherit it
//! let pool = Pool::new(Some(3), tasks)?;           // forks 3 workers, now
//! let nine = pool.apply(&square, 3)?;              // blocks until a worker has the answer
//! let later = pool.apply_async(&square, 4)?;       // returns at once: an AsyncResult
//! let all = pool.map(&square, 0..10)?;             // results in the order of the inputs
//! assert_eq!(later.get()?, 16);
//! pool.close()?;                                   // no more tasks; workers leave when done
//! pool.join()?;
//! ```
//!
//! How a task reaches a worker. Python pickles the function *by its name* and the arguments by
//! value, and the worker looks the name up in its own copy of the program. Here the same: a
//! task is a plain `fn(A) -> Result<R, String>` registered under a name in a [`Tasks`] table
//! *before* the workers are forked, so every worker has the table in its copy of memory; what
//! travels is the task's number in the table and its argument as JSON.
//!
//! What travels how (a pool is processes talking through pipes, 管道):
//! - one *task pipe*: the parent writes each task as one frame (a 4-byte length, then JSON);
//!   the workers all read from it, so a worker holds a small lock (a semaphore in shared
//!   memory) while it reads one whole frame, or two workers could each read half of one.
//!   Python's pool does the same (its `_inqueue` has a read lock).
//! - one *result pipe*: each worker writes each result as one frame in a single `write` of at
//!   most `PIPE_BUF` bytes, which the kernel never interleaves with another writer's.
//! - the parent never blocks on sending a task while results pile up unread: it `poll`s both
//!   pipes and reads results whenever the task pipe is full (Python uses helper threads).
//!
//! Where it differs from Python: a callback runs in the parent when the parent next reads
//! results (in `get`, `join`, `apply_async` ...), not on a helper thread as soon as the result
//! arrives; and `map` sends one task per item (Python's `chunksize` groups them).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::File;
use std::io::{Read, Write};
use std::marker::PhantomData;
use std::os::fd::{AsFd, OwnedFd};
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::unistd::{Pid, getpid};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::multiprocessing::process::{Process, ProcessError};
use crate::multiprocessing::shared::Semaphore as SharedSemaphore;
use crate::runtime::wait;

/// Longest frame on either pipe: `PIPE_BUF`, up to which a pipe write is atomic.
const MAX_FRAME: usize = 4096;

/// A task as a worker runs it: JSON argument in, JSON result or the error's message out.
type ErasedTask = Box<dyn Fn(serde_json::Value) -> Result<serde_json::Value, String>>;

/// The functions a pool's workers can run, each under a name. Fill it before `Pool::new`.
#[derive(Default)]
pub struct Tasks {
    table: Vec<(&'static str, ErasedTask)>,
}

/// A handle to one registered task: says which it is and what it takes and gives.
pub struct Task<A, R> {
    index: usize,
    name: &'static str,
    types: PhantomData<fn(A) -> R>,
}

impl<A, R> Clone for Task<A, R> {
    fn clone(&self) -> Self {
        Task {
            index: self.index,
            name: self.name,
            types: PhantomData,
        }
    }
}

impl<A, R> Task<A, R> {
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl Tasks {
    pub fn new() -> Tasks {
        Tasks::default()
    }

    /// Adds `function` under `name`. An `Err` it returns (or a panic) comes back to whoever
    /// calls `get()` on its result, as an exception raised in a Python task does.
    pub fn register<A, R>(
        &mut self,
        name: &'static str,
        function: fn(A) -> Result<R, String>,
    ) -> Task<A, R>
    where
        A: DeserializeOwned + 'static,
        R: Serialize + 'static,
    {
        let erased: ErasedTask = Box::new(move |argument| {
            let argument: A = serde_json::from_value(argument).map_err(|e| e.to_string())?;
            let result = function(argument)?;
            serde_json::to_value(result).map_err(|e| e.to_string())
        });
        self.table.push((name, erased));
        Task {
            index: self.table.len() - 1,
            name,
            types: PhantomData,
        }
    }
}

/// Misuse of a pool, a task's own error, or the kernel refusing.
#[derive(Debug, Clone, PartialEq)]
pub enum PoolError {
    /// A task given to a pool that was closed or terminated (Python: `ValueError: Pool not
    /// running`).
    NotRunning,
    /// `join()` before `close()` or `terminate()` (Python: `ValueError: Pool is still
    /// running`).
    StillRunning,
    /// The task failed: its own message, as the exception a Python task raised comes back at
    /// `get()`.
    Task(String),
    /// The result will never come: the pool was terminated, or its workers died, first.
    Lost,
    /// A task's argument did not fit in one frame of `PIPE_BUF` bytes (its size).
    TooLarge(usize),
    /// Starting a worker failed.
    Process(ProcessError),
    /// A pipe or semaphore call failed.
    System(&'static str, Errno),
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            PoolError::NotRunning => write!(f, "Pool not running"),
            PoolError::StillRunning => write!(f, "Pool is still running"),
            PoolError::Task(message) => write!(f, "{message}"),
            PoolError::Lost => write!(
                f,
                "the result was lost: the pool's workers ended before they sent it"
            ),
            PoolError::TooLarge(size) => write!(
                f,
                "a task of {size} bytes does not fit in one pipe frame of {MAX_FRAME}"
            ),
            PoolError::Process(error) => write!(f, "{error}"),
            PoolError::System(call, errno) => write!(f, "{call}: {errno:?} ({})", errno.desc()),
        }
    }
}

impl std::error::Error for PoolError {}

impl From<ProcessError> for PoolError {
    fn from(error: ProcessError) -> PoolError {
        PoolError::Process(error)
    }
}

/// What the parent sends a worker.
#[derive(Serialize, Deserialize)]
enum Order {
    /// Run task `task` of the table on `argument`; `job` numbers the result.
    Run {
        job: u64,
        task: usize,
        argument: serde_json::Value,
    },
    /// No more work: leave (Python puts one `None` in the queue per worker).
    Stop,
}

/// What a worker sends back.
#[derive(Serialize, Deserialize)]
struct Answer {
    job: u64,
    /// The worker that ran it.
    pid: i32,
    outcome: Result<serde_json::Value, String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Running,
    Closed,
    Terminated,
}

/// `multiprocessing.Pool`.
pub struct Pool {
    inner: Rc<RefCell<Inner>>,
}

/// The parent's side of the pool, shared with every `AsyncResult` it handed out.
struct Inner {
    state: State,
    workers: Vec<Process>,
    /// The parent's ends of the two pipes.
    task_pipe: File,
    result_pipe: File,
    /// Bytes read from the result pipe that do not make a whole frame yet.
    unread: Vec<u8>,
    next_job: u64,
    /// Results that arrived and that nobody has collected with `get()` yet.
    arrived: HashMap<u64, Result<serde_json::Value, String>>,
    /// Callbacks waiting for their job's result: they run here, in the parent.
    callbacks: HashMap<u64, Box<dyn FnOnce(serde_json::Value)>>,
    /// Jobs sent and not answered yet.
    outstanding: usize,
    /// How many tasks each worker has run.
    served: BTreeMap<i32, usize>,
    /// The process that made the pool: only it may use or end it.
    creator: Pid,
}

/// Python's `AsyncResult`: what `apply_async` returns; `get()` waits for the value.
pub struct AsyncResult<R> {
    job: u64,
    inner: Rc<RefCell<Inner>>,
    types: PhantomData<R>,
}

/// Python's `os.cpu_count()`: the number of CPUs online (`sysconf(_SC_NPROCESSORS_ONLN)`).
pub fn cpu_count() -> usize {
    // SAFETY: sysconf only reads a system setting.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(online).unwrap_or(1).max(1)
}

impl Pool {
    /// Forks `processes` workers (`None`: one per CPU, as `Pool()` does), each able to run
    /// every task in `tasks`. They wait for tasks at once.
    pub fn new(processes: Option<usize>, tasks: Tasks) -> Result<Pool, PoolError> {
        let processes = processes.unwrap_or_else(cpu_count).max(1);
        let (tasks_read, tasks_write) = pipe()?;
        let (results_read, results_write) = pipe()?;
        // One reader of the task pipe at a time, across the workers.
        let read_lock = SharedSemaphore::shared(1).map_err(|e| PoolError::System("sem_init", e))?;
        // The workers share these; the parent's handles go when the last worker's closure is
        // dropped in the parent (at its start()), which closes the parent's copies.
        let tasks = Rc::new(tasks);
        let (tasks_read, results_write) = (Rc::new(tasks_read), Rc::new(results_write));
        let mut workers = Vec::new();
        for n in 1..=processes {
            let (tasks, tasks_read, results_write, read_lock) = (
                tasks.clone(),
                tasks_read.clone(),
                results_write.clone(),
                read_lock.clone(),
            );
            let mut worker = Process::new(move || {
                work_until_stopped(&tasks, &tasks_read, &results_write, &read_lock)
            })
            .named(&format!("ForkPoolWorker-{n}"));
            worker.start()?;
            workers.push(worker);
        }
        Ok(Pool {
            inner: Rc::new(RefCell::new(Inner {
                state: State::Running,
                workers,
                task_pipe: File::from(tasks_write),
                result_pipe: File::from(results_read),
                unread: Vec::new(),
                next_job: 0,
                arrived: HashMap::new(),
                callbacks: HashMap::new(),
                outstanding: 0,
                served: BTreeMap::new(),
                creator: getpid(),
            })),
        })
    }

    /// The workers' pids.
    pub fn pids(&self) -> Vec<Pid> {
        let inner = self.inner.borrow();
        inner.workers.iter().filter_map(Process::pid).collect()
    }

    /// How many tasks each worker (by pid) has run so far, as far as the parent has read.
    pub fn tasks_per_worker(&self) -> BTreeMap<i32, usize> {
        self.inner.borrow().served.clone()
    }

    /// Runs `task(argument)` in a worker and waits for the result (`pool.apply`).
    pub fn apply<A: Serialize, R: DeserializeOwned>(
        &self,
        task: &Task<A, R>,
        argument: A,
    ) -> Result<R, PoolError> {
        self.apply_async(task, argument)?.get()
    }

    /// Sends `task(argument)` to the workers and returns at once (`pool.apply_async`).
    pub fn apply_async<A: Serialize, R: DeserializeOwned>(
        &self,
        task: &Task<A, R>,
        argument: A,
    ) -> Result<AsyncResult<R>, PoolError> {
        let job = self.inner.borrow_mut().send(task.index, &argument)?;
        Ok(AsyncResult {
            job,
            inner: self.inner.clone(),
            types: PhantomData,
        })
    }

    /// `apply_async(..., callback=...)`: `callback` gets the result, in this (the parent's)
    /// process, once it has arrived. A failed task does not call it.
    pub fn apply_async_with_callback<A: Serialize, R: DeserializeOwned + 'static>(
        &self,
        task: &Task<A, R>,
        argument: A,
        callback: impl FnOnce(R) + 'static,
    ) -> Result<AsyncResult<R>, PoolError> {
        let result = self.apply_async(task, argument)?;
        let call: Box<dyn FnOnce(serde_json::Value)> = Box::new(move |value| {
            if let Ok(value) = serde_json::from_value(value) {
                callback(value);
            }
        });
        let mut inner = self.inner.borrow_mut();
        match inner.arrived.get(&result.job) {
            // Already here (possible while sending): call it now.
            Some(Ok(value)) => call(value.clone()),
            Some(Err(_)) => {}
            None => {
                inner.callbacks.insert(result.job, call);
            }
        }
        Ok(result)
    }

    /// `task` on every item, in a worker each; the results in the order of the items
    /// (`pool.map`), whichever worker finished first.
    pub fn map<A: Serialize, R: DeserializeOwned>(
        &self,
        task: &Task<A, R>,
        items: impl IntoIterator<Item = A>,
    ) -> Result<Vec<R>, PoolError> {
        let pending: Vec<AsyncResult<R>> = items
            .into_iter()
            .map(|item| self.apply_async(task, item))
            .collect::<Result<_, _>>()?;
        // One wait for them all (not one per item), then the results in the items' order.
        let jobs: Vec<u64> = pending.iter().map(|result| result.job).collect();
        let outcomes = self.inner.borrow_mut().wait_for(&jobs)?;
        outcomes
            .into_iter()
            .map(|outcome| match outcome {
                Ok(value) => {
                    serde_json::from_value(value).map_err(|e| PoolError::Task(e.to_string()))
                }
                Err(message) => Err(PoolError::Task(message)),
            })
            .collect()
    }

    /// No more tasks: each worker leaves once the tasks before this are done (`pool.close`).
    pub fn close(&self) -> Result<(), PoolError> {
        let mut inner = self.inner.borrow_mut();
        if inner.state != State::Running {
            return Ok(());
        }
        inner.state = State::Closed;
        // One Stop per worker, after every task already sent: a worker that reads one leaves.
        for _ in 0..inner.workers.len() {
            inner.write_frame(&Order::Stop)?;
        }
        Ok(())
    }

    /// Waits for the workers to leave, collecting the results they send meanwhile
    /// (`pool.join`); only after `close()` or `terminate()`.
    pub fn join(&self) -> Result<(), PoolError> {
        let mut inner = self.inner.borrow_mut();
        if inner.state == State::Running {
            return Err(PoolError::StillRunning);
        }
        // Read results until every job is answered or no worker is left to answer: a worker
        // blocked writing into a full result pipe would never leave otherwise.
        while inner.outstanding > 0 && inner.workers.iter().any(Process::is_alive) {
            inner.read_results(Some(Duration::from_millis(20)))?;
        }
        for worker in &mut inner.workers {
            worker.join()?;
        }
        inner.read_results(Some(Duration::ZERO))?;
        Ok(())
    }

    /// Ends the workers now, whatever they are doing (`pool.terminate`): `SIGTERM` to each,
    /// then each is reaped. Results not yet arrived are lost.
    pub fn terminate(&self) -> Result<(), PoolError> {
        let mut inner = self.inner.borrow_mut();
        inner.state = State::Terminated;
        for worker in &inner.workers {
            worker.terminate()?;
        }
        for worker in &mut inner.workers {
            worker.join()?;
        }
        Ok(())
    }
}

impl Drop for Pool {
    /// Like leaving Python's `with Pool() as pool:` block: a pool still running is terminated,
    /// so no worker outlives it. (Only in the process that made it: a child forked later has a
    /// copy of this handle, but the workers are not its children.)
    fn drop(&mut self) {
        let creator = self.inner.borrow().creator;
        let any_alive = self.inner.borrow().workers.iter().any(Process::is_alive);
        if creator == getpid() && any_alive {
            let _ = self.terminate();
        }
    }
}

impl<R: DeserializeOwned> AsyncResult<R> {
    /// Waits for the result and returns it, or the task's error (`result.get()`).
    pub fn get(&self) -> Result<R, PoolError> {
        let outcome = self.inner.borrow_mut().wait_for(&[self.job]);
        match outcome?.remove(0) {
            Ok(value) => serde_json::from_value(value).map_err(|e| PoolError::Task(e.to_string())),
            Err(message) => Err(PoolError::Task(message)),
        }
    }

    /// Whether the result has arrived (`result.ready()`), reading what is there to read.
    pub fn ready(&self) -> bool {
        let mut inner = self.inner.borrow_mut();
        let _ = inner.read_results(Some(Duration::ZERO));
        inner.arrived.contains_key(&self.job)
    }
}

impl Inner {
    /// Waits until every job in `jobs` has its result, and takes them, in that order. One
    /// visible wait (`result`) if they are not all here already.
    fn wait_for(
        &mut self,
        jobs: &[u64],
    ) -> Result<Vec<Result<serde_json::Value, String>>, PoolError> {
        let mut waiting = None;
        let outcome = loop {
            if jobs.iter().all(|job| self.arrived.contains_key(job)) {
                break Ok(());
            }
            if self.state == State::Terminated {
                break Err(PoolError::Lost);
            }
            // Not all here yet: the parent really waits, so it says so.
            if waiting.is_none() {
                let what = match jobs {
                    [job] => format!("job {job}"),
                    _ => format!("{} jobs", jobs.len()),
                };
                waiting = Some(wait::begin("result", &what));
            }
            let alive = self.workers.iter().any(Process::is_alive);
            let patience = if alive {
                Duration::from_millis(20)
            } else {
                Duration::ZERO
            };
            match self.read_results(Some(patience)) {
                Err(error) => break Err(error),
                // Nothing more to read and nobody left to write it.
                Ok(0) if !alive => break Err(PoolError::Lost),
                Ok(_) => {}
            }
        };
        if let Some(waiting) = waiting {
            waiting.ended(match &outcome {
                Ok(()) => crate::runtime::wait::Ended::Got,
                // Nothing more to read and nobody left to write it.
                Err(PoolError::Lost) => crate::runtime::wait::Ended::EndOfFile,
                Err(_) => crate::runtime::wait::Ended::Error,
            });
        }
        outcome?;
        Ok(jobs
            .iter()
            .filter_map(|job| self.arrived.remove(job))
            .collect())
    }

    /// Sends one task; returns its job number.
    fn send<A: Serialize>(&mut self, task: usize, argument: &A) -> Result<u64, PoolError> {
        if self.state != State::Running {
            return Err(PoolError::NotRunning);
        }
        let argument =
            serde_json::to_value(argument).map_err(|e| PoolError::Task(e.to_string()))?;
        let job = self.next_job;
        self.next_job += 1;
        self.write_frame(&Order::Run {
            job,
            task,
            argument,
        })?;
        self.outstanding += 1;
        Ok(job)
    }

    /// Writes one frame to the task pipe. If the pipe is full, reads results until there is
    /// room: the workers may be blocked writing results nobody reads.
    fn write_frame(&mut self, order: &Order) -> Result<(), PoolError> {
        let frame = frame(order);
        if frame.len() > MAX_FRAME {
            return Err(PoolError::TooLarge(frame.len()));
        }
        loop {
            let mut fds = [
                PollFd::new(self.task_pipe.as_fd(), PollFlags::POLLOUT),
                PollFd::new(self.result_pipe.as_fd(), PollFlags::POLLIN),
            ];
            match poll(&mut fds, PollTimeout::NONE) {
                Err(Errno::EINTR) => continue,
                Err(errno) => return Err(PoolError::System("poll", errno)),
                Ok(_) => {}
            }
            let writable = fds[0].any().unwrap_or(false);
            let readable = fds[1].any().unwrap_or(false);
            if readable {
                self.read_results(Some(Duration::ZERO))?;
            }
            if writable {
                // A pipe that polls writable has room for at least PIPE_BUF bytes: this write
                // does not block, and it is not split.
                return self
                    .task_pipe
                    .write_all(&frame)
                    .map_err(|e| PoolError::System("write", io_errno(&e)));
            }
        }
    }

    /// Reads whatever results are in the pipe, waiting up to `patience` for the first (`None`:
    /// as long as it takes). Runs the callbacks of those that arrived.
    /// Returns how many bytes it read (0: none came).
    fn read_results(&mut self, patience: Option<Duration>) -> Result<usize, PoolError> {
        let timeout = match patience {
            None => PollTimeout::NONE,
            Some(patience) => crate::multiprocessing::process::poll_timeout(patience),
        };
        let mut fds = [PollFd::new(self.result_pipe.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(0) | Err(Errno::EINTR) => return Ok(0),
            Err(errno) => return Err(PoolError::System("poll", errno)),
            Ok(_) => {}
        }
        let mut chunk = [0u8; 16 * 1024];
        let read = self
            .result_pipe
            .read(&mut chunk)
            .map_err(|e| PoolError::System("read", io_errno(&e)))?;
        self.unread.extend_from_slice(&chunk[..read]);
        while let Some(body) = take_frame(&mut self.unread) {
            let Ok(answer) = serde_json::from_slice::<Answer>(&body) else {
                continue;
            };
            self.outstanding = self.outstanding.saturating_sub(1);
            *self.served.entry(answer.pid).or_default() += 1;
            if let (Some(callback), Ok(value)) =
                (self.callbacks.remove(&answer.job), &answer.outcome)
            {
                callback(value.clone());
            }
            self.arrived.insert(answer.job, answer.outcome);
        }
        Ok(read)
    }
}

/// The worker's life: take a task, run it, send the answer, until told to stop.
fn work_until_stopped(
    tasks: &Tasks,
    tasks_read: &OwnedFd,
    results_write: &OwnedFd,
    read_lock: &SharedSemaphore,
) -> Result<(), PoolError> {
    let pid = getpid().as_raw();
    let mut tasks_pipe = File::from(
        tasks_read
            .try_clone()
            .map_err(|e| PoolError::System("dup", io_errno(&e)))?,
    );
    let mut results_pipe = File::from(
        results_write
            .try_clone()
            .map_err(|e| PoolError::System("dup", io_errno(&e)))?,
    );
    loop {
        let order = next_order(&mut tasks_pipe, read_lock)?;
        let Order::Run {
            job,
            task,
            argument,
        } = order
        else {
            return Ok(());
        };
        let outcome = match tasks.table.get(task) {
            None => Err(format!("no task number {task}")),
            Some((_, function)) => {
                match panic::catch_unwind(AssertUnwindSafe(|| function(argument))) {
                    Ok(outcome) => outcome,
                    Err(_) => Err("the task panicked".to_string()),
                }
            }
        };
        let mut answer = frame(&Answer { job, pid, outcome });
        if answer.len() > MAX_FRAME {
            answer = frame(&Answer {
                job,
                pid,
                outcome: Err(format!(
                    "the result ({} bytes) does not fit in one pipe frame",
                    answer.len()
                )),
            });
        }
        // One write of at most PIPE_BUF bytes: never interleaved with another worker's.
        results_pipe
            .write_all(&answer)
            .map_err(|e| PoolError::System("write", io_errno(&e)))?;
    }
}

/// Reads the next order from the task pipe, one whole frame, under the read lock. Reports a
/// wait (`queue`, "pool tasks") when none comes within a millisecond: a worker of a pool of
/// tiny tasks finds the lock taken or the pipe empty for a few microseconds all the time, and
/// reporting each of those would print thousands of lines about waits too short to see on
/// the timeline.
fn next_order(tasks_pipe: &mut File, read_lock: &SharedSemaphore) -> Result<Order, PoolError> {
    let system = |errno| PoolError::System("sem_wait", errno);
    let grace = Duration::from_millis(1);
    let got_lock = read_lock.acquire_timeout(grace).map_err(system)?;
    let ready = got_lock && {
        let mut fds = [PollFd::new(tasks_pipe.as_fd(), PollFlags::POLLIN)];
        let grace = crate::multiprocessing::process::poll_timeout(grace);
        matches!(poll(&mut fds, grace), Ok(n) if n > 0)
    };
    let waiting = (!ready).then(|| wait::begin("queue", "pool tasks"));
    if !got_lock {
        read_lock.acquire().map_err(system)?;
    }
    let mut length = [0u8; 4];
    let body = tasks_pipe.read_exact(&mut length).and_then(|()| {
        let mut body = vec![0u8; u32::from_le_bytes(length) as usize];
        tasks_pipe.read_exact(&mut body).map(|()| body)
    });
    let _ = read_lock.release();
    if let Some(waiting) = waiting {
        waiting.ended(match &body {
            Ok(_) => crate::runtime::wait::Ended::Got,
            Err(error) => crate::runtime::wait::Ended::of_error(error),
        });
    }
    // The parent gone (end of file) means stop, too.
    let Ok(body) = body else {
        return Ok(Order::Stop);
    };
    serde_json::from_slice(&body).map_err(|_| PoolError::System("a task frame", Errno::EINVAL))
}

/// A frame: the length of the JSON body (4 bytes, little-endian), then the body.
fn frame(message: &impl Serialize) -> Vec<u8> {
    let body = serde_json::to_vec(message).unwrap_or_default();
    let mut frame = (body.len() as u32).to_le_bytes().to_vec();
    frame.extend_from_slice(&body);
    frame
}

/// Takes the first whole frame's body off the front of `bytes`, if a whole one is there.
fn take_frame(bytes: &mut Vec<u8>) -> Option<Vec<u8>> {
    let length = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    if bytes.len() < 4 + length {
        return None;
    }
    let body = bytes[4..4 + length].to_vec();
    bytes.drain(..4 + length);
    Some(body)
}

fn pipe() -> Result<(OwnedFd, OwnedFd), PoolError> {
    nix::unistd::pipe().map_err(|errno| PoolError::System("pipe", errno))
}

fn io_errno(error: &std::io::Error) -> Errno {
    Errno::from_raw(error.raw_os_error().unwrap_or(0))
}

// ---------------------------------------------------------------------------------------------
// What a pool is measured against.

/// Runs `work` in a new child process that reports nothing (no `spawn`/`start`/`done`
/// events, and none of its own): a bare `fork`, the work, `_exit(0)`. Returns the child's pid; reap it with
/// [`wait_unreported`]. A lesson uses it where it starts hundreds of processes (a process per
/// task, a race repeated many times) and the tree and timeline would drown in them. It is the
/// cheapest a new process can be, so a pool that beats it beats any process per task.
pub fn fork_unreported(work: impl FnOnce()) -> Result<Pid, ProcessError> {
    let threads = crate::runtime::context::threads_not_joined();
    if threads > 0 {
        return Err(ProcessError::ThreadsRunning(threads));
    }
    let _ = std::io::stdout().flush();
    let parent = nix::unistd::getpid();
    // SAFETY: no other thread of the lab's runs (checked above), so no lock is copied into the
    // child held. The child runs `work` and leaves with `_exit`, never returning into the
    // parent's code, and runs none of its clean-up.
    match unsafe { nix::unistd::fork() } {
        Err(errno) => Err(ProcessError::System("fork", errno)),
        Ok(nix::unistd::ForkResult::Child) => {
            crate::runtime::lifeline::follow_the_run(parent.as_raw());
            // Not a word from this child, not even the waits of the locks it takes: events
            // from a pid the lab never saw forked would have no place in its tree.
            crate::runtime::context::stop_emitting();
            let code = match panic::catch_unwind(AssertUnwindSafe(work)) {
                Ok(()) => 0,
                Err(_) => 1,
            };
            // SAFETY: `_exit` ends the process at once; always safe to call.
            unsafe { libc::_exit(code) }
        }
        Ok(nix::unistd::ForkResult::Parent { child }) => Ok(child),
    }
}

/// Reaps a child made by [`fork_unreported`]; returns its exit code.
pub fn wait_unreported(pid: Pid) -> Result<i32, ProcessError> {
    loop {
        match nix::sys::wait::waitpid(pid, None) {
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(ProcessError::System("waitpid", errno)),
            Ok(status) => {
                if let Some(code) = crate::multiprocessing::process::exitcode_of(status) {
                    return Ok(code);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_come_apart_whole_and_in_order() {
        let mut bytes = frame(&Order::Stop);
        bytes.extend(frame(&Order::Run {
            job: 7,
            task: 1,
            argument: serde_json::json!(3),
        }));
        let half = bytes.split_off(bytes.len() - 3);
        let first = take_frame(&mut bytes).unwrap();
        assert!(matches!(serde_json::from_slice(&first), Ok(Order::Stop)));
        // The second frame is not whole yet.
        assert_eq!(take_frame(&mut bytes), None);
        bytes.extend(half);
        let second = take_frame(&mut bytes).unwrap();
        assert!(matches!(
            serde_json::from_slice(&second),
            Ok(Order::Run {
                job: 7,
                task: 1,
                ..
            })
        ));
        assert!(bytes.is_empty());
    }

    #[test]
    fn errors_read_as_python_s() {
        assert_eq!(PoolError::NotRunning.to_string(), "Pool not running");
        assert_eq!(PoolError::StillRunning.to_string(), "Pool is still running");
        assert_eq!(PoolError::Task("no threes".into()).to_string(), "no threes");
    }

    #[test]
    fn a_registered_task_runs_from_json() {
        fn square(n: u64) -> Result<u64, String> {
            Ok(n * n)
        }
        let mut tasks = Tasks::new();
        let handle = tasks.register("square", square);
        assert_eq!(handle.name(), "square");
        let (_, run) = &tasks.table[handle.index];
        assert_eq!(run(serde_json::json!(5)), Ok(serde_json::json!(25)));
        assert!(run(serde_json::json!("five")).is_err());
    }
}

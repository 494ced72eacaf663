//! Python's `multiprocessing.Manager()`: a server process that owns dicts and lists, and
//! *proxies* (代理) that other processes use to ask it to read or change them.
//!
//! ```ignore
//! let mut manager = Manager::start()?;          // forks the server process
//! let d = manager.dict([("count", 100.into())])?;   // a dict that lives in the server
//! let in_child = d.clone();                     // a proxy: an address, not the data
//! let mut child = Process::new(move || -> Result<(), ManagerError> {
//!     let count = in_child.get("count")?;       // one round trip: ask, wait, answer
//!     in_child.set("count", count - 1)          // another: d['count'] -= 1
//! });
//! ...
//! manager.shutdown()?;
//! ```
//!
//! The data is not in shared memory: it is in the server's own memory, and nobody else can
//! touch it. Every operation is a message over a Unix socket (`socket(AF_UNIX)`, a file in the
//! run's temporary directory) and a reply: a round trip to another process. The server handles
//! one request at a time, so each single operation is whole; but `d['count'] -= 1` is two
//! operations (get, then set), and another process's can come between them, exactly as with
//! shared memory. The dict needs a lock around the two, like everything else.
//!
//! A proxy opens its own connection the first time a process uses it, and a process forked
//! later opens its own again: two processes on one connection would read each other's
//! replies. (Python's proxies reconnect after a fork for the same reason.)
//!
//! Messages are JSON lines: one request, one reply, `\n` at the end of each.

use std::cell::RefCell;
use std::fmt;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::unistd::{Pid, getpid};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::multiprocessing::process::{Process, ProcessError, poll_timeout};
use crate::runtime::{context, wait};

/// What can go wrong talking to a manager.
#[derive(Debug, Clone, PartialEq)]
pub enum ManagerError {
    /// A key the dict does not have (Python: `KeyError: 'count'`).
    KeyError(String),
    /// The manager is gone, or the socket failed: what was being done, and the error.
    Connection(String),
    /// Starting the server process failed.
    Process(ProcessError),
}

impl fmt::Display for ManagerError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ManagerError::KeyError(key) => write!(f, "KeyError: '{key}'"),
            ManagerError::Connection(what) => write!(f, "the manager cannot be reached: {what}"),
            ManagerError::Process(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for ManagerError {}

impl From<ProcessError> for ManagerError {
    fn from(error: ProcessError) -> ManagerError {
        ManagerError::Process(error)
    }
}

fn connection(what: &str, error: impl fmt::Display) -> ManagerError {
    ManagerError::Connection(format!("{what}: {error}"))
}

/// A request to the server. Dicts and lists are numbered in the order they were made.
#[derive(Serialize, Deserialize)]
enum Request {
    NewDict(Map<String, Json>),
    NewList(Vec<Json>),
    DictGet {
        dict: usize,
        key: String,
    },
    DictSet {
        dict: usize,
        key: String,
        value: Json,
    },
    DictCopy {
        dict: usize,
    },
    ListAppend {
        list: usize,
        value: Json,
    },
    ListCopy {
        list: usize,
    },
    Shutdown,
}

/// The server's answer: a value, or Python's error message.
type Reply = Result<Json, String>;

/// `multiprocessing.Manager()`: the handle of the process that started the server.
pub struct Manager {
    server: Process,
    address: PathBuf,
    /// The connection this (the starting) process uses for its own requests.
    own: Connection,
    shut_down: bool,
}

impl Manager {
    /// Forks the server process (named `SyncManager`, as Python's is) and returns once it can
    /// take requests. The listening socket is made here, before the fork, so a request sent
    /// at once waits in the socket's queue instead of finding nobody there.
    pub fn start() -> Result<Manager, ManagerError> {
        let address = context::temp_dir().join(format!("manager-{}.sock", getpid()));
        let listener = UnixListener::bind(&address).map_err(|e| connection("bind", e))?;
        let mut server = Process::new(move || serve(&listener)).named("SyncManager");
        // The closure, and with it the parent's copy of the listening socket, is dropped by
        // start(): only the server accepts.
        server.start()?;
        Ok(Manager {
            server,
            own: Connection::new(&address),
            address,
            shut_down: false,
        })
    }

    /// The server's pid.
    pub fn pid(&self) -> Option<Pid> {
        self.server.pid()
    }

    /// The socket the proxies talk to.
    pub fn address(&self) -> &Path {
        &self.address
    }

    /// `manager.dict({...})`: a new dict in the server, and a proxy to it.
    pub fn dict<'a>(
        &self,
        initial: impl IntoIterator<Item = (&'a str, Json)>,
    ) -> Result<DictProxy, ManagerError> {
        let initial: Map<String, Json> = initial
            .into_iter()
            .map(|(key, value)| (key.to_string(), value))
            .collect();
        let id = self.own.ask(&Request::NewDict(initial))?;
        Ok(DictProxy {
            dict: id.as_u64().unwrap_or(0) as usize,
            connection: Connection::new(&self.address),
        })
    }

    /// `manager.list()`: a new, empty list in the server, and a proxy to it.
    pub fn list(&self) -> Result<ListProxy, ManagerError> {
        let id = self.own.ask(&Request::NewList(Vec::new()))?;
        Ok(ListProxy {
            list: id.as_u64().unwrap_or(0) as usize,
            connection: Connection::new(&self.address),
        })
    }

    /// Stops the server and reaps it (`manager.shutdown()`, or the end of `with Manager() as
    /// m:`). Returns its exit code. The proxies can reach nothing after this.
    pub fn shutdown(&mut self) -> Result<i32, ManagerError> {
        if !self.shut_down {
            self.shut_down = true;
            // If the server is already gone, joining it is all that is left to do.
            let _ = self.own.ask(&Request::Shutdown);
        }
        Ok(self.server.join()?)
    }
}

impl Drop for Manager {
    /// A manager never outlives its handle: like Python's `with Manager() as m:`, the server
    /// is stopped when the handle goes (in the process that started it).
    fn drop(&mut self) {
        if !self.shut_down && self.server.pid().is_some() && self.server.exitcode().is_none() {
            let _ = self.shutdown();
        }
    }
}

/// A proxy to a dict in the manager (`manager.dict()`). Clones share nothing but the address:
/// each process that uses one opens its own connection.
pub struct DictProxy {
    dict: usize,
    connection: Connection,
}

impl Clone for DictProxy {
    fn clone(&self) -> Self {
        DictProxy {
            dict: self.dict,
            connection: Connection::new(&self.connection.address),
        }
    }
}

impl DictProxy {
    /// `d[key]`: asks the server; `KeyError` if the dict has no such key.
    pub fn get(&self, key: &str) -> Result<Json, ManagerError> {
        self.connection.ask(&Request::DictGet {
            dict: self.dict,
            key: key.to_string(),
        })
    }

    /// `d[key] = value`.
    pub fn set(&self, key: &str, value: impl Into<Json>) -> Result<(), ManagerError> {
        self.connection
            .ask(&Request::DictSet {
                dict: self.dict,
                key: key.to_string(),
                value: value.into(),
            })
            .map(drop)
    }

    /// `dict(d)`: a copy of the whole dict, as it is in the server now.
    pub fn copy(&self) -> Result<Map<String, Json>, ManagerError> {
        match self
            .connection
            .ask(&Request::DictCopy { dict: self.dict })?
        {
            Json::Object(map) => Ok(map),
            other => Err(connection("a dict", other)),
        }
    }
}

/// A proxy to a list in the manager (`manager.list()`).
pub struct ListProxy {
    list: usize,
    connection: Connection,
}

impl Clone for ListProxy {
    fn clone(&self) -> Self {
        ListProxy {
            list: self.list,
            connection: Connection::new(&self.connection.address),
        }
    }
}

impl ListProxy {
    /// `l.append(value)`: one request, so two processes appending at once both get in.
    pub fn append(&self, value: impl Into<Json>) -> Result<(), ManagerError> {
        self.connection
            .ask(&Request::ListAppend {
                list: self.list,
                value: value.into(),
            })
            .map(drop)
    }

    /// `list(l)`: a copy of the whole list.
    pub fn copy(&self) -> Result<Vec<Json>, ManagerError> {
        match self
            .connection
            .ask(&Request::ListCopy { list: self.list })?
        {
            Json::Array(items) => Ok(items),
            other => Err(connection("a list", other)),
        }
    }
}

/// One process's connection to the manager, opened on first use, and opened again in a
/// process forked after that.
struct Connection {
    address: PathBuf,
    open: RefCell<Option<(Pid, BufReader<UnixStream>)>>,
}

impl Connection {
    fn new(address: &Path) -> Connection {
        Connection {
            address: address.to_path_buf(),
            open: RefCell::new(None),
        }
    }

    /// Sends one request and waits for its reply: a round trip to the server.
    fn ask(&self, request: &Request) -> Result<Json, ManagerError> {
        let mut open = self.open.borrow_mut();
        let me = getpid();
        // A connection opened by another process (our parent, before the fork) is not ours
        // to use: its replies go to whoever reads first.
        if open.as_ref().is_none_or(|(owner, _)| *owner != me) {
            let stream =
                UnixStream::connect(&self.address).map_err(|e| connection("connect", e))?;
            *open = Some((me, BufReader::new(stream)));
        }
        let (_, reader) = open.as_mut().expect("opened just above");
        let mut line = serde_json::to_string(request).map_err(|e| connection("encode", e))?;
        line.push('\n');
        reader
            .get_mut()
            .write_all(line.as_bytes())
            .map_err(|e| connection("send", e))?;
        // Most replies come within microseconds. One that takes longer than a millisecond
        // means the server was busy with other processes' requests: that wait is shown.
        let quick = !reader.buffer().is_empty() || {
            let mut fds = [PollFd::new(reader.get_ref().as_fd(), PollFlags::POLLIN)];
            matches!(poll(&mut fds, poll_timeout(QUICK_REPLY)), Ok(n) if n > 0)
        };
        let waiting = (!quick).then(|| wait::begin("manager", "reply"));
        let mut reply = String::new();
        let read = reader.read_line(&mut reply);
        if let Some(waiting) = waiting {
            waiting.ended(crate::runtime::wait::Ended::of_read(&read));
        }
        match read {
            Ok(0) => return Err(connection("receive", "the manager closed the connection")),
            Err(error) => return Err(connection("receive", error)),
            Ok(_) => {}
        }
        let reply: Reply = serde_json::from_str(&reply).map_err(|e| connection("decode", e))?;
        reply.map_err(|message| match message.strip_prefix("KeyError: ") {
            Some(key) => ManagerError::KeyError(key.trim_matches('\'').to_string()),
            None => ManagerError::Connection(message),
        })
    }
}

/// The server: the dicts and lists, and every connection, served one request at a time.
#[derive(Default)]
struct Server {
    dicts: Vec<Map<String, Json>>,
    lists: Vec<Vec<Json>>,
}

/// The server process's whole life: accept connections, answer requests, until `Shutdown`.
fn serve(listener: &UnixListener) -> Result<(), ManagerError> {
    let mut server = Server::default();
    let mut clients: Vec<BufReader<UnixStream>> = Vec::new();
    loop {
        // Wait for a new connection or a request on any of them.
        let mut fds: Vec<PollFd> = std::iter::once(listener.as_fd())
            .chain(clients.iter().map(|client| client.get_ref().as_fd()))
            .map(|fd| PollFd::new(fd, PollFlags::POLLIN))
            .collect();
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(errno) => return Err(connection("poll", errno)),
            Ok(_) => {}
        }
        let ready: Vec<bool> = fds.iter().map(|fd| fd.any().unwrap_or(false)).collect();
        drop(fds);
        let mut closed = Vec::new();
        for (i, client) in clients.iter_mut().enumerate() {
            if !ready[i + 1] {
                continue;
            }
            let mut line = String::new();
            // A client sends one request and waits for the reply, so a readable connection
            // holds one whole line (or the end: the client process left).
            match client.read_line(&mut line) {
                Ok(0) | Err(_) => {
                    closed.push(i);
                    continue;
                }
                Ok(_) => {}
            }
            let Ok(request) = serde_json::from_str::<Request>(&line) else {
                closed.push(i);
                continue;
            };
            let stop = matches!(request, Request::Shutdown);
            let reply = server.answer(request);
            let mut answer = serde_json::to_string(&reply).unwrap_or_default();
            answer.push('\n');
            let _ = client.get_mut().write_all(answer.as_bytes());
            if stop {
                // Nothing of the manager may be left behind: its socket file goes with it.
                if let Ok(address) = listener.local_addr()
                    && let Some(path) = address.as_pathname()
                {
                    let _ = std::fs::remove_file(path);
                }
                return Ok(());
            }
        }
        for i in closed.into_iter().rev() {
            clients.remove(i);
        }
        // New connections last, so that `ready` still matches `clients` above.
        if ready[0] {
            let (stream, _) = listener.accept().map_err(|e| connection("accept", e))?;
            clients.push(BufReader::new(stream));
        }
    }
}

impl Server {
    fn answer(&mut self, request: Request) -> Reply {
        match request {
            Request::NewDict(initial) => {
                self.dicts.push(initial);
                Ok(Json::from(self.dicts.len() - 1))
            }
            Request::NewList(initial) => {
                self.lists.push(initial);
                Ok(Json::from(self.lists.len() - 1))
            }
            Request::DictGet { dict, key } => self
                .dict(dict)?
                .get(&key)
                .cloned()
                .ok_or(format!("KeyError: '{key}'")),
            Request::DictSet { dict, key, value } => {
                self.dict(dict)?.insert(key, value);
                Ok(Json::Null)
            }
            Request::DictCopy { dict } => Ok(Json::Object(self.dict(dict)?.clone())),
            Request::ListAppend { list, value } => {
                self.list(list)?.push(value);
                Ok(Json::Null)
            }
            Request::ListCopy { list } => Ok(Json::Array(self.list(list)?.clone())),
            Request::Shutdown => Ok(Json::Null),
        }
    }

    fn dict(&mut self, dict: usize) -> Result<&mut Map<String, Json>, String> {
        self.dicts.get_mut(dict).ok_or(format!("no dict {dict}"))
    }

    fn list(&mut self, list: usize) -> Result<&mut Vec<Json>, String> {
        self.lists.get_mut(list).ok_or(format!("no list {list}"))
    }
}

/// How long a reply may take before the wait for it is shown (see `Connection::ask`).
const QUICK_REPLY: Duration = Duration::from_millis(1);

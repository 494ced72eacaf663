//! `proclab load`: a load client for the class's upper-casing echo server.
//!
//! Three shapes of load, the three a process-per-connection server is judged on:
//! - `--connections N`: N connections one after the other, each connect, send `hello`,
//!   receive `HELLO`, close. What it costs the server to *start* serving a client (for a
//!   forking server: one fork per connection).
//! - `--clients C --round-trips K --size B`: C connections opened first, then C threads each
//!   doing K round trips of B bytes on its own connection. What it costs to *serve* requests.
//! - `--hold N`: N connections opened one by one and all kept open, then each asked once more
//!   whether it still answers. What it costs to *keep* clients (a process each, their memory,
//!   the descriptors).
//!
//! Every reply must be the message upper-cased, byte for byte, or it counts as an error.
//! Everything is bounded, so that a teacher can point it at a broken server without fear:
//! loopback unless another address is given explicitly, counts and sizes capped, a 5 s
//! timeout on every connect, send and receive, and a global time limit after which whatever is
//! not done counts as not done and the run exits with status 1. The load client never forks,
//! so it may use threads freely.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use nix::sys::resource::{Resource, getrlimit, setrlimit};

use crate::error::{Error, Result};

/// Caps on what one run may ask for: generous for a classroom, far from hurting the machine.
pub const MAX_CONNECTIONS: u64 = 1_000_000;
pub const MAX_CLIENTS: u64 = 1_000;
pub const MAX_ROUND_TRIPS: u64 = 1_000_000;
/// Clients × round trips: one latency sample (8 bytes) is kept for each.
pub const MAX_TOTAL_ROUND_TRIPS: u64 = 5_000_000;
pub const MAX_SIZE: u64 = 64 * 1024;
pub const MAX_HOLD: u64 = 10_000;
pub const MAX_TIME_LIMIT_S: f64 = 600.0;

/// Longest wait for any single connect, send or receive.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// What to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// N connections, one at a time.
    Connections { count: u64 },
    /// C persistent connections, each doing K round trips of B bytes, all at once.
    RoundTrips {
        clients: u64,
        round_trips: u64,
        size: u64,
    },
    /// N connections held open at once, for `hold_for` once they all are.
    Hold {
        connections: u64,
        hold_for: Duration,
    },
}

#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub address: SocketAddr,
    pub shape: Shape,
    /// Everything, holding included, ends by then.
    pub time_limit: Duration,
}

/// Checks that `value` of `option` is within `low..=high`: one clear line otherwise.
pub fn check_range(option: &str, value: u64, low: u64, high: u64) -> Result<u64> {
    if (low..=high).contains(&value) {
        Ok(value)
    } else {
        Err(Error::Usage(format!(
            "{option} must be between {low} and {high}, not {value}"
        )))
    }
}

impl LoadOptions {
    /// Checks every bound; the error is one line naming the option.
    pub fn new(host: IpAddr, port: u16, shape: Shape, time_limit_s: f64) -> Result<LoadOptions> {
        if port == 0 {
            return Err(Error::Usage("--port must be between 1 and 65535".into()));
        }
        if !(time_limit_s.is_finite() && time_limit_s > 0.0 && time_limit_s <= MAX_TIME_LIMIT_S) {
            return Err(Error::Usage(format!(
                "--time-limit must be above 0 and at most {MAX_TIME_LIMIT_S} seconds, not {time_limit_s}"
            )));
        }
        let time_limit = Duration::from_secs_f64(time_limit_s);
        match &shape {
            Shape::Connections { count } => {
                check_range("--connections", *count, 1, MAX_CONNECTIONS)?;
            }
            Shape::RoundTrips {
                clients,
                round_trips,
                size,
            } => {
                check_range("--clients", *clients, 1, MAX_CLIENTS)?;
                check_range("--round-trips", *round_trips, 1, MAX_ROUND_TRIPS)?;
                check_range("--size", *size, 1, MAX_SIZE)?;
                if clients * round_trips > MAX_TOTAL_ROUND_TRIPS {
                    return Err(Error::Usage(format!(
                        "--clients × --round-trips must be at most {MAX_TOTAL_ROUND_TRIPS}, not {}",
                        clients * round_trips
                    )));
                }
            }
            Shape::Hold {
                connections,
                hold_for,
            } => {
                check_range("--hold", *connections, 1, MAX_HOLD)?;
                if *hold_for >= time_limit {
                    return Err(Error::Usage(format!(
                        "--hold-for ({} s) must be shorter than --time-limit ({time_limit_s} s)",
                        hold_for.as_secs_f64()
                    )));
                }
            }
        }
        Ok(LoadOptions {
            address: SocketAddr::new(host, port),
            shape,
            time_limit,
        })
    }
}

/// What one run did, for the report.
#[derive(Default)]
struct Tally {
    /// Operations asked for, and those that succeeded.
    wanted: u64,
    done: u64,
    errors: u64,
    first_error: Option<String>,
    /// True when the time limit stopped the run.
    timed_out: bool,
    /// One latency per successful operation.
    samples: Vec<Duration>,
    elapsed: Duration,
}

impl Tally {
    fn error(&mut self, what: impl Into<String>) {
        self.errors += 1;
        self.first_error.get_or_insert_with(|| what.into());
    }

    fn absorb(&mut self, other: Tally) {
        self.done += other.done;
        self.errors += other.errors;
        self.timed_out |= other.timed_out;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.samples.extend(other.samples);
    }

    fn rate(&self) -> f64 {
        self.done as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Runs the load and prints its report. An error (any failed operation, the time limit) is
/// returned after the report, so the run exits with status 1.
pub fn run(options: &LoadOptions) -> Result<()> {
    let deadline = Instant::now() + options.time_limit;
    let mut out = io::stdout().lock();
    let tally = match options.shape {
        Shape::Connections { count } => {
            writeln!(
                out,
                "proclab load · {} · {count} connections one at a time (connect, send \"hello\", \
                 receive \"HELLO\", close)",
                options.address
            )?;
            out.flush()?;
            let tally = connections(options.address, count, deadline)?;
            report(&mut out, &tally, &[("connections/s", tally.rate())])?;
            tally
        }
        Shape::RoundTrips {
            clients,
            round_trips,
            size,
        } => {
            writeln!(
                out,
                "proclab load · {} · {clients} clients × {round_trips} round trips of {size} bytes, \
                 all clients at once, each on its own connection",
                options.address
            )?;
            out.flush()?;
            let tally = round_trips_at_once(
                options.address,
                clients as usize,
                round_trips,
                size as usize,
                deadline,
            )?;
            report(&mut out, &tally, &[("requests/s", tally.rate())])?;
            tally
        }
        Shape::Hold {
            connections,
            hold_for,
        } => {
            writeln!(
                out,
                "proclab load · {} · open {connections} connections one by one (each checked \
                 with one round trip) and hold them all",
                options.address
            )?;
            if let Some((before, after, hard)) = raise_open_files_limit(connections)? {
                writeln!(
                    out,
                    "  raised the soft limit on open files from {before} to {after} (hard limit \
                     {hard}) to hold {connections} connections"
                )?;
            }
            out.flush()?;
            let tally = hold(&mut out, options.address, connections, hold_for, deadline)?;
            report(&mut out, &tally, &[("connections/s", tally.rate())])?;
            tally
        }
    };
    out.flush()?;
    drop(out);
    verdict(&tally, options)
}

/// The table every shape ends with.
fn report(out: &mut impl Write, tally: &Tally, rates: &[(&str, f64)]) -> io::Result<()> {
    writeln!(
        out,
        "  {:<16} {} of {}",
        "completed", tally.done, tally.wanted
    )?;
    writeln!(out, "  {:<16} {}", "errors", tally.errors)?;
    writeln!(
        out,
        "  {:<16} {:.3} s",
        "elapsed",
        tally.elapsed.as_secs_f64()
    )?;
    for (label, rate) in rates {
        writeln!(out, "  {label:<16} {rate:.1}")?;
    }
    let mut samples = tally.samples.clone();
    samples.sort();
    if tally.done == 0 {
        // Latencies of nothing done would only mislead ("0 of 5 done", "p50 12 µs").
        samples.clear();
    }
    for (label, p) in [("latency p50", 50), ("latency p99", 99)] {
        match percentile(&samples, p) {
            Some(latency) => writeln!(out, "  {label:<16} {:.1} µs", latency.as_secs_f64() * 1e6)?,
            None => writeln!(out, "  {label:<16} -")?,
        }
    }
    Ok(())
}

/// The nearest-rank percentile of sorted samples: the smallest sample that at least `p`% of
/// the samples do not exceed.
fn percentile(sorted: &[Duration], p: usize) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    Some(sorted[rank - 1])
}

/// Ok when everything asked for was done without an error; else one line saying what failed.
fn verdict(tally: &Tally, options: &LoadOptions) -> Result<()> {
    if tally.timed_out {
        let first = match &tally.first_error {
            Some(error) => format!("; the first error: {error}"),
            None => String::new(),
        };
        return Err(Error::System(format!(
            "stopped at the time limit of {} s with {} of {} done and {} errors (is the server at \
             {} still answering?){first}",
            options.time_limit.as_secs_f64(),
            tally.done,
            tally.wanted,
            tally.errors,
            options.address
        )));
    }
    if tally.errors > 0 || tally.done < tally.wanted {
        return Err(Error::System(format!(
            "{} errors, {} of {} done; the first error: {}",
            tally.errors,
            tally.done,
            tally.wanted,
            tally.first_error.as_deref().unwrap_or("none")
        )));
    }
    Ok(())
}

/// How long the next connect, send or receive may wait: 5 s, or what is left before the
/// deadline; `None` once the deadline has passed.
fn io_timeout(deadline: Instant) -> Option<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    (left > Duration::ZERO).then(|| left.min(IO_TIMEOUT))
}

/// Connects, with timeouts on everything that can wait. `TCP_NODELAY`: each message is one
/// small write that must leave at once (as in the C client).
fn dial(address: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&address, timeout)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    Ok(stream)
}

/// When one operation must be over: `IO_TIMEOUT` from now, or the run's deadline if sooner.
fn operation_deadline(deadline: Instant) -> Instant {
    deadline.min(Instant::now() + IO_TIMEOUT)
}

/// Seconds for a message: `5`, `2.5`.
fn seconds(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 10.0).round() / 10.0
}

/// Sends `message`, receives exactly as many bytes, and checks they are `want`; all of it by
/// `until`. The socket's timeouts are set before each call to what is left, so that a server
/// answering one byte at a time cannot stretch one round trip past `until`.
fn round_trip(
    stream: &mut TcpStream,
    message: &[u8],
    want: &[u8],
    reply: &mut [u8],
    until: Instant,
) -> io::Result<()> {
    let allowed = seconds(until.saturating_duration_since(Instant::now()));
    let left = || {
        let left = until.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    };
    let late = |what: &str| {
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!("{what} within {allowed} s"),
        )
    };
    let is_late = |error: &io::Error| {
        matches!(
            error.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        )
    };
    let mut sent = 0;
    while sent < message.len() {
        stream.set_write_timeout(Some(left().ok_or_else(|| late("could not send"))?))?;
        match stream.write(&message[sent..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => sent += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) if is_late(&error) => return Err(late("could not send")),
            Err(error) => return Err(error),
        }
    }
    let reply = &mut reply[..message.len()];
    let mut got = 0;
    while got < reply.len() {
        stream.set_read_timeout(Some(left().ok_or_else(|| late("no reply"))?))?;
        match stream.read(&mut reply[got..]) {
            Ok(0) => return Err(io::Error::other("the server closed the connection")),
            Ok(n) => got += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) if is_late(&error) => return Err(late("no reply")),
            Err(error) => return Err(error),
        }
    }
    if reply != want {
        return Err(io::Error::other(format!(
            "the reply was not the message upper-cased: sent {:?}, got {:?}",
            String::from_utf8_lossy(&message[..message.len().min(32)]),
            String::from_utf8_lossy(&reply[..reply.len().min(32)])
        )));
    }
    Ok(())
}

/// What failed in one operation: the connect itself, or the conversation after it.
enum Failure {
    Connect(io::Error),
    Talk(io::Error),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Failure::Connect(error) => write!(f, "connect: {error}"),
            Failure::Talk(error) => write!(f, "{error}"),
        }
    }
}

/// Connects and checks the connection with one round trip, all of it by `until`.
fn open_checked(
    address: SocketAddr,
    until: Instant,
    message: &[u8],
    want: &[u8],
    reply: &mut [u8],
) -> std::result::Result<TcpStream, Failure> {
    let timeout = until.saturating_duration_since(Instant::now());
    if timeout.is_zero() {
        return Err(Failure::Connect(io::ErrorKind::TimedOut.into()));
    }
    let mut stream = dial(address, timeout).map_err(Failure::Connect)?;
    round_trip(&mut stream, message, want, reply, until).map_err(Failure::Talk)?;
    Ok(stream)
}

/// The error for a first connect that failed: most likely nothing listens there.
fn cannot_reach(address: SocketAddr, error: io::Error) -> Error {
    Error::System(format!(
        "the first connection to {address} failed: {error} (is the server running?)"
    ))
}

/// `--connections N`: connect, one round trip, close; N times, one after the other.
fn connections(address: SocketAddr, count: u64, deadline: Instant) -> Result<Tally> {
    let mut tally = Tally {
        wanted: count,
        samples: Vec::with_capacity(count.min(MAX_CONNECTIONS) as usize),
        ..Tally::default()
    };
    let mut reply = [0u8; 5];
    let started = Instant::now();
    for i in 0..count {
        if io_timeout(deadline).is_none() {
            tally.timed_out = true;
            break;
        }
        let began = Instant::now();
        // The connection is closed (dropped) as soon as the round trip is done.
        let until = operation_deadline(deadline);
        match open_checked(address, until, b"hello", b"HELLO", &mut reply) {
            Ok(_) => {
                tally.samples.push(began.elapsed());
                tally.done += 1;
            }
            Err(Failure::Connect(error)) if i == 0 => return Err(cannot_reach(address, error)),
            Err(error) => tally.error(error.to_string()),
        }
    }
    tally.elapsed = started.elapsed();
    Ok(tally)
}

/// `--clients C --round-trips K --size B`: open C connections one by one (each checked with
/// one round trip), then let C threads loose at once, each doing its K round trips.
fn round_trips_at_once(
    address: SocketAddr,
    clients: usize,
    round_trips: u64,
    size: usize,
    deadline: Instant,
) -> Result<Tally> {
    // Lower-case letters, so that upper-casing changes every byte.
    let message: Vec<u8> = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
    let want = message.to_ascii_uppercase();
    let mut tally = Tally {
        wanted: clients as u64 * round_trips,
        ..Tally::default()
    };
    let mut streams = Vec::with_capacity(clients);
    let mut reply = vec![0u8; size];
    for i in 0..clients {
        if io_timeout(deadline).is_none() {
            tally.timed_out = true;
            break;
        }
        let until = operation_deadline(deadline);
        match open_checked(address, until, &message, &want, &mut reply) {
            Ok(stream) => streams.push(stream),
            Err(Failure::Connect(error)) if i == 0 => return Err(cannot_reach(address, error)),
            Err(error) => tally.error(format!("opening client {}: {error}", i + 1)),
        }
    }

    // Every thread waits at the barrier, so that the clock starts when all can go at once.
    let barrier = Barrier::new(streams.len() + 1);
    let (message, want, barrier) = (&message, &want, &barrier);
    let (started, per_client) = std::thread::scope(|scope| {
        let workers: Vec<_> = streams
            .into_iter()
            .map(|mut stream| {
                scope.spawn(move || {
                    let mut mine = Tally {
                        samples: Vec::with_capacity(round_trips as usize),
                        ..Tally::default()
                    };
                    let mut reply = vec![0u8; message.len()];
                    barrier.wait();
                    for _ in 0..round_trips {
                        let began = Instant::now();
                        if began >= deadline {
                            mine.timed_out = true;
                            break;
                        }
                        let until = operation_deadline(deadline);
                        match round_trip(&mut stream, message, want, &mut reply, until) {
                            Ok(()) => {
                                mine.samples.push(began.elapsed());
                                mine.done += 1;
                            }
                            Err(error) => {
                                // The connection is out of step now: this client stops.
                                mine.error(error.to_string());
                                break;
                            }
                        }
                    }
                    mine
                })
            })
            .collect();
        barrier.wait();
        let started = Instant::now();
        let per_client: Vec<Tally> = workers
            .into_iter()
            .map(|worker| {
                worker.join().unwrap_or_else(|_| {
                    let mut lost = Tally::default();
                    lost.error("a client thread panicked");
                    lost
                })
            })
            .collect();
        (started, per_client)
    });
    tally.elapsed = started.elapsed();
    for mine in per_client {
        tally.absorb(mine);
    }
    Ok(tally)
}

/// What `--hold` found, for a caller that is itself the client (an exercise's judge).
pub struct Held {
    /// Connections opened and answered once, then kept open.
    pub opened: u64,
    /// Of those, how many answered again while all the others were open.
    pub answered_again: u64,
    /// The first thing that went wrong: "opening connection 2: no reply within 5 s".
    pub first_error: Option<String>,
    /// From the first connect to the last one opened (or the failure).
    pub opening: Duration,
}

/// `--hold count` without the report: opens `count` connections to `address` one by one, each
/// checked with one round trip, keeps them all open, asks each once more, and closes them; all
/// of it within `time_limit`. An error only when the first connection cannot be made.
pub fn hold_connections(address: SocketAddr, count: u64, time_limit: Duration) -> Result<Held> {
    let deadline = Instant::now() + time_limit;
    let tally = hold(&mut io::sink(), address, count, Duration::ZERO, deadline)?;
    Ok(Held {
        opened: tally.samples.len() as u64,
        answered_again: tally.done,
        first_error: tally.first_error,
        opening: tally.elapsed,
    })
}

/// `--connections count` without the report: `count` connections to `address`, one after the
/// other, each one round trip (`hello`, answered `HELLO`) and then closed, all of it within
/// `time_limit`; how many were answered, and the first thing that went wrong. An error only
/// when the first connection cannot be made. For a caller that is itself the client (an
/// exercise's judge).
pub fn connect_one_by_one(
    address: SocketAddr,
    count: u64,
    time_limit: Duration,
) -> Result<(u64, Option<String>)> {
    let tally = connections(address, count, Instant::now() + time_limit)?;
    Ok((tally.done, tally.first_error))
}

/// `--hold N`: open N connections one by one, each checked with one round trip, keep them
/// all; then one more round trip on each; hold them `hold_for`; close them all.
fn hold(
    out: &mut impl Write,
    address: SocketAddr,
    count: u64,
    hold_for: Duration,
    deadline: Instant,
) -> Result<Tally> {
    let mut tally = Tally {
        wanted: count,
        samples: Vec::with_capacity(count as usize),
        ..Tally::default()
    };
    let mut held: Vec<TcpStream> = Vec::with_capacity(count as usize);
    let mut reply = [0u8; 4];
    let started = Instant::now();
    for i in 0..count {
        if io_timeout(deadline).is_none() {
            tally.timed_out = true;
            break;
        }
        let began = Instant::now();
        let until = operation_deadline(deadline);
        match open_checked(address, until, b"ping", b"PING", &mut reply) {
            Ok(stream) => {
                tally.samples.push(began.elapsed());
                held.push(stream);
            }
            Err(Failure::Connect(error)) if i == 0 => return Err(cannot_reach(address, error)),
            Err(error) => {
                // A server out of processes or descriptors refuses from here on: stop.
                tally.error(format!("opening connection {}: {error}", i + 1));
                break;
            }
        }
    }
    tally.elapsed = started.elapsed();
    writeln!(
        out,
        "  {:<16} {} of {count} in {:.3} s",
        "held",
        held.len(),
        tally.elapsed.as_secs_f64()
    )?;
    out.flush()?;

    // Does every one still answer, with all the others open?
    let asked_again = Instant::now();
    for (i, stream) in held.iter_mut().enumerate() {
        if io_timeout(deadline).is_none() {
            tally.timed_out = true;
            break;
        }
        let until = operation_deadline(deadline);
        match round_trip(stream, b"pong", b"PONG", &mut reply, until) {
            Ok(()) => tally.done += 1,
            Err(error) => tally.error(format!("connection {} no longer answers: {error}", i + 1)),
        }
    }
    writeln!(
        out,
        "  {:<16} {} of {} in {:.3} s",
        "answered again",
        tally.done,
        held.len(),
        asked_again.elapsed().as_secs_f64()
    )?;
    if hold_for > Duration::ZERO {
        writeln!(
            out,
            "  {:<16} all {} open for {:.1} s",
            "holding",
            held.len(),
            hold_for.as_secs_f64()
        )?;
    }
    out.flush()?;
    std::thread::sleep(hold_for.min(deadline.saturating_duration_since(Instant::now())));
    let closed = held.len();
    drop(held);
    writeln!(out, "  {:<16} {closed}", "closed")?;
    Ok(tally)
}

/// Makes sure this process may open `connections` sockets (plus a few descriptors of its own):
/// raises the soft `RLIMIT_NOFILE` when needed, never above the hard limit. Returns (before,
/// after, hard) when it raised it.
fn raise_open_files_limit(connections: u64) -> Result<Option<(u64, u64, u64)>> {
    let needed = connections + 32;
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    if soft >= needed {
        return Ok(None);
    }
    if hard < needed {
        return Err(Error::Usage(format!(
            "--hold {connections} needs {needed} open files, above this process's hard limit of \
             {hard} (ulimit -Hn)"
        )));
    }
    setrlimit(Resource::RLIMIT_NOFILE, needed, hard)?;
    Ok(Some((soft, needed, hard)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn micros(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|&v| Duration::from_micros(v)).collect()
    }

    #[test]
    fn nearest_rank_percentiles() {
        let samples = micros(&(1..=100).collect::<Vec<_>>());
        assert_eq!(percentile(&samples, 50), Some(Duration::from_micros(50)));
        assert_eq!(percentile(&samples, 99), Some(Duration::from_micros(99)));
        assert_eq!(
            percentile(&micros(&[7]), 99),
            Some(Duration::from_micros(7))
        );
        assert_eq!(
            percentile(&micros(&[1, 2]), 50),
            Some(Duration::from_micros(1))
        );
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn bounds_are_checked_with_the_option_named() {
        let localhost = IpAddr::from([127, 0, 0, 1]);
        let size_zero = Shape::RoundTrips {
            clients: 8,
            round_trips: 10,
            size: 0,
        };
        let error = LoadOptions::new(localhost, 20000, size_zero, 60.0).unwrap_err();
        assert!(error.to_string().starts_with("--size"), "{error}");
        let too_many = Shape::Connections { count: u64::MAX };
        let error = LoadOptions::new(localhost, 20000, too_many, 60.0).unwrap_err();
        assert!(error.to_string().starts_with("--connections"), "{error}");
        let fine = Shape::Hold {
            connections: 10,
            hold_for: Duration::ZERO,
        };
        assert!(LoadOptions::new(localhost, 20000, fine.clone(), 60.0).is_ok());
        assert!(LoadOptions::new(localhost, 0, fine.clone(), 60.0).is_err());
        assert!(LoadOptions::new(localhost, 20000, fine, 0.0).is_err());
    }
}

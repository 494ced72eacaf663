//! The JSON line of an event, built by hand in a fixed buffer on the stack: what `emit` sends.
//!
//! It must match `Event`'s serde form exactly (a unit test checks that every kind parses back
//! to the same event), which is why it lives next to the definitions. Why by hand: see
//! `context::emit` (a new child's first and last events must not touch the allocator).

use std::fmt;
use std::io;
use std::time::Duration;

use crate::runtime::event::{Ended, Event, Kind};

/// Longest event line: `PIPE_BUF`, the size up to which a pipe write is atomic.
pub const MAX_EVENT_BYTES: usize = 4096;

/// Which text event `say!` or `note!` sends.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub enum TextKind {
    Say,
    Note,
}

/// The fields every event has: `t`, `pid`, `ppid`, `tid` (when not the main thread), `name`,
/// and the thread's and task's names when there are.
#[derive(Clone, Copy)]
pub struct Stamp<'a> {
    pub t: Duration,
    pub pid: i32,
    pub ppid: i32,
    pub tid: Option<i32>,
    pub name: &'a str,
    pub thread: Option<&'a str>,
    pub task: Option<&'a str>,
}

/// Longest line `emit` builds on the stack; longer ones (a long note) take the slow path. 512
/// bytes hold every lifecycle event and most lines a program says, and keep the buffer off one
/// more page of stack: with 1 KiB, a fork's parent and child each wrote a stack page they
/// otherwise share, two copies per `Process` (`perf record -e minor-faults -d` showed them).
pub const STACK_LINE_BYTES: usize = 512;

/// One event line being built in a fixed buffer on the stack. (What a new child's `start` and
/// `done` run of it is either inlined or in the section `.text.hot.new_child`, next to the
/// rest of what a new child runs, rather than on pages of their own that each new child would
/// fault in: see `build.rs`.)
pub struct Line {
    bytes: [u8; STACK_LINE_BYTES],
    len: usize,
}

impl Default for Line {
    fn default() -> Line {
        Line::new()
    }
}

impl Line {
    #[inline]
    pub fn new() -> Line {
        Line {
            bytes: [0; STACK_LINE_BYTES],
            len: 0,
        }
    }

    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The whole line, newline included, in the same JSON as `Event::to_json` (`t` is written
    /// with nanosecond digits rather than the shortest float, which parses to the same time).
    /// The kinds a `Process` sends in its life are written by hand, each by its own method,
    /// which a caller that has no `Kind` (and so allocates none) calls directly; serde writes
    /// the others.
    pub fn event(&mut self, stamp: &Stamp, kind: &Kind) -> io::Result<()> {
        match kind {
            Kind::Start => self.start(stamp),
            Kind::Done { code } => self.done(stamp, *code),
            Kind::Spawn { child, child_name } => self.spawn(stamp, *child, child_name),
            Kind::Wait { on, object } => self.wait(stamp, on, object),
            Kind::Woke {
                on,
                object,
                after,
                got,
                ended,
            } => self.woke(
                stamp,
                on,
                object,
                *after,
                ended.unwrap_or(if *got { Ended::Got } else { Ended::TimedOut }),
            ),
            _ => {
                self.header(stamp)?;
                // serde writes `{"kind":...}`; its `{` becomes our `,`.
                let brace = self.len;
                serde_json::to_writer(&mut *self, kind).map_err(io::Error::other)?;
                self.bytes[brace] = b',';
                self.push(b"\n")
            }
        }
    }

    /// A new child's first line, `start` (see `context::emit_start`).
    #[inline(always)]
    pub fn start(&mut self, stamp: &Stamp) -> io::Result<()> {
        self.header(stamp)?;
        self.push(b",\"kind\":\"start\"}\n")
    }

    /// A process's last line, `done`, with its exit code.
    #[inline(always)]
    pub fn done(&mut self, stamp: &Stamp, code: i32) -> io::Result<()> {
        self.header(stamp)?;
        self.push(b",\"kind\":\"done\",\"code\":")?;
        self.integer(code)?;
        self.push(b"}\n")
    }

    /// The parent's `spawn` line for a new child. It is sent while the child still shares
    /// the parent's memory, when every page the parent writes is copied: built from borrowed
    /// names, it writes no heap page.
    pub fn spawn(&mut self, stamp: &Stamp, child: i32, child_name: &str) -> io::Result<()> {
        self.header(stamp)?;
        self.push(b",\"kind\":\"spawn\",\"child\":")?;
        self.integer(child)?;
        self.push(b",\"child_name\":")?;
        self.string(child_name)?;
        self.push(b"}\n")
    }

    /// A `wait` line: `object`, a thing of kind `on`, is about to block its caller (see
    /// `runtime::wait`; a join's wait, like `spawn`, is sent while the child shares pages).
    pub fn wait(&mut self, stamp: &Stamp, on: &str, object: &str) -> io::Result<()> {
        self.header(stamp)?;
        self.push(b",\"kind\":\"wait\",\"on\":")?;
        self.string(on)?;
        self.push(b",\"object\":")?;
        self.string(object)?;
        self.push(b"}\n")
    }

    /// A `woke` line: the wait on `object` is over after `after` seconds, `ended` as it did.
    pub fn woke(
        &mut self,
        stamp: &Stamp,
        on: &str,
        object: &str,
        after: f64,
        ended: Ended,
    ) -> io::Result<()> {
        self.header(stamp)?;
        self.push(b",\"kind\":\"woke\",\"on\":")?;
        self.string(on)?;
        self.push(b",\"object\":")?;
        self.string(object)?;
        self.push(b",\"after\":")?;
        self.seconds(Duration::from_secs_f64(after.max(0.0)))?;
        self.push(if ended == Ended::Got {
            b",\"got\":true,\"ended\":\""
        } else {
            b",\"got\":false,\"ended\":\""
        })?;
        self.push(ended.code().as_bytes())?;
        self.push(b"\"}\n")
    }

    /// A `say` or `note` line, its text formatted straight into the line (`say!`, `note!`).
    pub fn text_event(
        &mut self,
        stamp: &Stamp,
        kind: TextKind,
        text: fmt::Arguments,
    ) -> io::Result<()> {
        self.header(stamp)?;
        self.push(match kind {
            TextKind::Say => b",\"kind\":\"say\",\"text\":\"",
            TextKind::Note => b",\"kind\":\"note\",\"text\":\"",
        })?;
        fmt::write(&mut Escaping(self), text).map_err(|_| io::ErrorKind::WriteZero)?;
        self.push(b"\"}\n")
    }

    /// `{"t":...,"pid":...,"ppid":...[,"tid":...],"name":"..."`: what every event starts with.
    #[inline(always)]
    fn header(&mut self, stamp: &Stamp) -> io::Result<()> {
        self.push(b"{\"t\":")?;
        self.seconds(stamp.t)?;
        self.push(b",\"pid\":")?;
        self.integer(stamp.pid)?;
        self.push(b",\"ppid\":")?;
        self.integer(stamp.ppid)?;
        if let Some(tid) = stamp.tid {
            self.push(b",\"tid\":")?;
            self.integer(tid)?;
        }
        self.push(b",\"name\":")?;
        self.string(stamp.name)?;
        if let Some(thread) = stamp.thread {
            self.push(b",\"thread\":")?;
            self.string(thread)?;
        }
        if let Some(task) = stamp.task {
            self.push(b",\"task\":")?;
            self.string(task)?;
        }
        Ok(())
    }

    /// Seconds with nanosecond digits: `3.004005006`.
    #[unsafe(link_section = ".text.hot.new_child")]
    fn seconds(&mut self, time: Duration) -> io::Result<()> {
        self.number(time.as_secs())?;
        self.push(b".")?;
        let nanos = time.subsec_nanos();
        for power in (0..9).rev() {
            self.push(&[b'0' + (nanos / 10u32.pow(power) % 10) as u8])?;
        }
        Ok(())
    }

    #[inline(always)]
    fn push(&mut self, bytes: &[u8]) -> io::Result<()> {
        let end = self.len + bytes.len();
        if end > STACK_LINE_BYTES {
            return Err(io::ErrorKind::WriteZero.into());
        }
        self.bytes[self.len..end].copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    #[inline(always)]
    fn integer(&mut self, value: i32) -> io::Result<()> {
        if value < 0 {
            self.push(b"-")?;
        }
        self.number(value.unsigned_abs().into())
    }

    #[unsafe(link_section = ".text.hot.new_child")]
    fn number(&mut self, mut value: u64) -> io::Result<()> {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        self.push(&digits[start..])
    }

    /// A JSON string: quotes, backslashes and control characters escaped, the rest as is
    /// (JSON text is UTF-8, so 主进程 needs no escaping).
    #[inline(always)]
    fn string(&mut self, text: &str) -> io::Result<()> {
        self.push(b"\"")?;
        self.escaped(text)?;
        self.push(b"\"")
    }

    /// The inside of a JSON string.
    #[unsafe(link_section = ".text.hot.new_child")]
    fn escaped(&mut self, text: &str) -> io::Result<()> {
        for &byte in text.as_bytes() {
            match byte {
                b'"' => self.push(b"\\\"")?,
                b'\\' => self.push(b"\\\\")?,
                0..=0x1f => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    let escaped = [
                        b'\\',
                        b'u',
                        b'0',
                        b'0',
                        HEX[(byte >> 4) as usize],
                        HEX[(byte & 15) as usize],
                    ];
                    self.push(&escaped)?;
                }
                _ => self.push(&[byte])?,
            }
        }
        Ok(())
    }
}

/// Formats into a `Line`, escaped for the inside of a JSON string.
struct Escaping<'a>(&'a mut Line);

impl fmt::Write for Escaping<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.0.escaped(text).map_err(|_| fmt::Error)
    }
}

impl io::Write for Line {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.push(bytes)?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Cuts a long text so that the event still fits in one atomic write.
pub fn shortened(mut event: Event) -> String {
    if let Kind::Say { text } | Kind::Note { text } | Kind::Error { text } = &mut event.kind {
        let mut cut = MAX_EVENT_BYTES / 2;
        while !text.is_char_boundary(cut.min(text.len())) {
            cut -= 1;
        }
        text.truncate(cut.min(text.len()));
        text.push_str(" [...]");
    }
    event.to_json()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line `emit` builds by hand parses to the same event serde would have written.
    #[test]
    fn hand_built_lines_parse_to_the_same_event() {
        let kinds = [
            Kind::Start,
            Kind::Done { code: 0 },
            Kind::Done { code: -15 },
            Kind::Spawn {
                child: 42,
                child_name: "alex".into(),
            },
            Kind::Exit {
                child: 42,
                exitcode: -9,
                is_thread: false,
            },
            Kind::Exit {
                child: 43,
                exitcode: 1,
                is_thread: true,
            },
            Kind::Wait {
                on: "lock".into(),
                object: "tickets".into(),
            },
            Kind::Woke {
                on: "lock".into(),
                object: "tickets".into(),
                after: 0.25,
                got: false,
                ended: Some(Ended::TimedOut),
            },
            Kind::Say {
                text: "主进程 \"quoted\" back\\slash\ttab\u{1}".into(),
            },
            Kind::State {
                of: 7,
                state: "Z".into(),
                ppid_of: None,
            },
            Kind::End {
                wall: 1.25,
                outcome: "finished".into(),
            },
        ];
        for name in ["main", "wu\"pei\\qi", "主进程", "tab\tand\u{1f}"] {
            for (tid, thread, task) in [
                (None, None, None),
                (Some(12), Some("worker-1"), None),
                (Some(12), Some("loop"), Some("echo \"3\"")),
            ] {
                for kind in &kinds {
                    let stamp = Stamp {
                        t: Duration::new(3, 4_005_006),
                        pid: 10,
                        ppid: 1,
                        tid,
                        name,
                        thread,
                        task,
                    };
                    let mut line = Line::new();
                    line.event(&stamp, kind).unwrap();
                    let text = std::str::from_utf8(line.as_bytes()).unwrap();
                    assert!(text.ends_with('\n'), "{text}");
                    let parsed = Event::from_json(text.trim_end())
                        .unwrap_or_else(|| panic!("does not parse: {text}"));
                    let expected = Event {
                        t: 3.004005006,
                        pid: 10,
                        ppid: 1,
                        tid,
                        name: name.to_string(),
                        thread: thread.map(str::to_string),
                        task: task.map(str::to_string),
                        kind: kind.clone(),
                    };
                    assert_eq!(parsed, expected, "{text}");
                }
            }
        }
    }

    #[test]
    fn say_and_note_lines_parse_to_the_same_event() {
        let stamp = Stamp {
            t: Duration::new(0, 50_000_000),
            pid: 3,
            ppid: 2,
            tid: None,
            name: "alex",
            thread: None,
            task: None,
        };
        let tricky = "主进程 \"q\" \\ \n\u{7}";
        for (kind, expected) in [
            (
                TextKind::Say,
                Kind::Say {
                    text: format!("pid {} says {tricky}", 3),
                },
            ),
            (
                TextKind::Note,
                Kind::Note {
                    text: format!("pid {} says {tricky}", 3),
                },
            ),
        ] {
            let mut line = Line::new();
            line.text_event(&stamp, kind, format_args!("pid {} says {tricky}", 3))
                .unwrap();
            let text = std::str::from_utf8(line.as_bytes()).unwrap();
            let parsed = Event::from_json(text.trim_end()).expect(text);
            assert_eq!(parsed.kind, expected, "{text}");
            assert_eq!(parsed.t, 0.05, "{text}");
        }
    }

    #[test]
    fn a_line_that_does_not_fit_is_refused() {
        let stamp = Stamp {
            t: Duration::ZERO,
            pid: 1,
            ppid: 0,
            tid: None,
            name: "main",
            thread: None,
            task: None,
        };
        let long = Kind::Say {
            text: "x".repeat(MAX_EVENT_BYTES),
        };
        assert!(Line::new().event(&stamp, &long).is_err());
    }
}

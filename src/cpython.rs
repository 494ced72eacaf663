//! The tutorial's own Python beside a lesson's numbers: where a lesson models CPython (the
//! Manager's lost updates and round trips ...), the step's program, `code/stepK.py` (the one
//! `proclab code N` shows), is run by this machine's `python3` in the same run, and its
//! printed lines are read back, so that the lesson's note can say what CPython did next to
//! what the lab did.
//!
//! The program runs untraced: `proclab trace` shows what it does, but every wait it traces
//! stops the program twice for the tracer, which changes exactly what these numbers measure
//! (lesson 8's Manager increment: about 110 µs untraced, 1200 µs traced, on the machine the
//! lesson was written on). It is a child of the lesson's main process, in the run's process
//! group (so a Ctrl-C or the end of the run ends it and its children like the lesson's own),
//! with its temporary files in the run's temp directory; it is given `limit`, then killed.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::runtime::{context, wait};
use crate::text;

/// What CPython printed, running a step's program.
#[derive(Debug, Clone)]
pub struct Printed {
    /// `3.11.7`.
    pub version: String,
    pub lines: Vec<String>,
}

impl Printed {
    /// The first line that starts with `prefix`, without it.
    pub fn after(&self, prefix: &str) -> Option<&str> {
        self.lines.iter().find_map(|line| line.strip_prefix(prefix))
    }

    /// The number just after `prefix` in the first line that starts with it.
    pub fn number_after(&self, prefix: &str) -> Option<f64> {
        let rest = self.after(prefix)?;
        let number: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | '-'))
            .collect();
        number.parse().ok()
    }
}

/// CPython's run of a step's program: what it printed, or why there is nothing to compare
/// (said in the language of the run, to be put in a note as it is).
pub type Beside = std::result::Result<Printed, String>;

/// Runs `source` (a step's `stepK.py`, included in the lesson with `include_str!`) with
/// `python3`, for at most `limit`.
pub fn run_step(file_name: &str, source: &str, limit: Duration) -> Beside {
    let version = match python_version() {
        Some(version) => version,
        None => {
            return Err(text!(
                en: "python3 is not installed here, so CPython's numbers cannot be put beside \
                     the lab's (install python3 and run the lesson again)",
                zh: "这台机器上没有安装 python3，所以没法把 CPython 的数字放在 proclab 的旁边\
                     （装上 python3 再运行一次这节课）",
            ));
        }
    };
    let folder = context::temp_dir().join("cpython");
    let path = folder.join(file_name);
    if let Err(error) =
        std::fs::create_dir_all(&folder).and_then(|()| std::fs::write(&path, source))
    {
        return Err(text!(
            en: "CPython did not run: cannot write {file_name} ({error})",
            zh: "CPython 没有运行：无法写入 {file_name}（{error}）",
        ));
    }
    match run_for(path, limit) {
        Ok(lines) => Ok(Printed { version, lines }),
        Err(why) => Err(why),
    }
}

/// `3.11.7`, from `python3 --version`; `None` without a `python3`.
fn python_version() -> Option<String> {
    let output = Command::new("python3")
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let said = String::from_utf8_lossy(&output.stdout);
    let version = said.trim().strip_prefix("Python ")?.to_string();
    output.status.success().then_some(version)
}

/// Runs `python3 path`, and returns the lines it printed when it succeeded in time.
fn run_for(path: PathBuf, limit: Duration) -> std::result::Result<Vec<String>, String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let spawned = Command::new("python3")
        .arg(&path)
        .current_dir(path.parent().unwrap_or(&path))
        .env("TMPDIR", context::temp_dir())
        .env_remove("PYTHONPATH")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let mut child = spawned.map_err(|error| {
        text!(
            en: "CPython did not run: python3 {name} cannot start ({error})",
            zh: "CPython 没有运行：python3 {name} 无法启动（{error}）",
        )
    })?;
    // Read while it runs, so that a long output never fills the pipe and stops it; without a
    // thread (the lesson forks again after this, and must not while another thread runs).
    let mut stdout = child.stdout.take().expect("piped");
    let _ = nix::fcntl::fcntl(
        &stdout,
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    );
    let mut printed = Vec::new();
    let mut read_what_there_is = |printed: &mut Vec<u8>| {
        let mut buffer = [0u8; 8192];
        while let Ok(n @ 1..) = stdout.read(&mut buffer) {
            printed.extend_from_slice(&buffer[..n]);
        }
    };
    // The lesson's process waits for CPython's as a join would: drawn waiting, not running.
    let waiting = wait::begin("join", &format!("python3 {name}"));
    let deadline = Instant::now() + limit;
    let status = loop {
        read_what_there_is(&mut printed);
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                // Its own children are the run's: they end with it, as the lesson's do.
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    waiting.end(status.is_some());
    read_what_there_is(&mut printed);
    let lines = printed;
    let lines: Vec<String> = String::from_utf8_lossy(&lines)
        .lines()
        .map(str::to_string)
        .collect();
    let seconds = limit.as_secs();
    match status {
        Some(status) if status.success() => Ok(lines),
        Some(status) => Err(text!(
            en: "CPython's run of {name} failed ({status}), so there is no number of its to compare",
            zh: "CPython 运行 {name} 失败了（{status}），所以没有它的数字可比",
        )),
        None => Err(text!(
            en: "CPython's run of {name} did not finish within {seconds} s (a busy machine?), and was stopped",
            zh: "CPython 运行 {name} 没有在 {seconds} 秒内结束（机器太忙？），已被停止",
        )),
    }
}

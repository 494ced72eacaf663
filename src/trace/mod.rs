//! `proclab trace PROGRAM [ARGS...]`: the lab's view of a program it did not write, first of
//! all the tutorial's own Python, watched from the outside with `ptrace`.
//!
//! How it runs: the supervisor forks its main process as for a lesson; that process is the
//! *tracer*. It starts the program as its child, attaches to it with `PTRACE_SEIZE` (with the
//! options that make the kernel attach it to every process and thread the program creates too,
//! and kill them all if the tracer dies: `PTRACE_O_EXITKILL`), and the child installs a
//! seccomp filter (`seccomp.rs`) before its `execve`, so that only the system calls the lab
//! shows stop it. The tracer turns what it sees into the lab's own events (`tracer.rs`), said
//! in the name of the process or thread that did it; the supervisor shows them as it shows a
//! lesson's, and cleans up after them the same way (the traced processes are in the run's
//! process group, below the supervisor, and die with the tracer).
//!
//! Python's names: see `sitecustomize.py`, put on `PYTHONPATH` for the traced program only.

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
mod objects;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub mod seccomp;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
mod tracer;

use std::ffi::CString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};
use crate::runtime::context;

/// The program to trace, checked before anything is started.
#[derive(Debug, Clone)]
pub struct Command {
    /// The executable's path, found as a shell finds it.
    pub path: PathBuf,
    /// The arguments, the program's name first.
    pub argv: Vec<String>,
}

impl Command {
    /// `trace step1.py` runs `python3 step1.py`; anything else is run as it is.
    pub fn new(words: &[String]) -> Result<Command> {
        let Some(first) = words.first() else {
            return Err(Error::Usage(
                "trace needs a program to run, e.g. proclab trace python3 step1.py".into(),
            ));
        };
        let mut argv = words.to_vec();
        if first.ends_with(".py") {
            if !Path::new(first).is_file() {
                return Err(Error::Usage(format!(
                    "cannot trace {first}: no such file (give its path, e.g. \
                     lessons/05-lock/code/step1.py)"
                )));
            }
            argv.insert(0, "python3".to_string());
        }
        let mut command = Command {
            path: find_program(&argv[0])?,
            argv,
        };
        if command.is_python() {
            command.path = real_interpreter(command.path);
            // Python finds `sys.executable` from its argv[0]: the interpreter's own path, so
            // that `spawn` and `forkserver` children start it, not the shim, again.
            command.argv[0] = command.path.display().to_string();
        }
        Ok(command)
    }

    /// Whether it runs Python (its lanes are then named as Python names them).
    pub fn is_python(&self) -> bool {
        self.path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with("python"))
    }
}

/// The run's header, its first event: what is traced, and how. The supervisor shows it before
/// anything else, as it shows a lesson's.
pub fn header(command: &Command) -> crate::runtime::event::Kind {
    crate::runtime::event::Kind::Trace {
        command: command.argv.clone(),
        traced_by: "ptrace+seccomp".into(),
    }
}

/// A `python3` that is a script (a pyenv shim: a shell script that finds the interpreter and
/// execs it) is replaced by the interpreter it runs, asked once, untraced, for
/// `sys.executable`: the trace then shows Python from its first line, not the shim's shell.
fn real_interpreter(path: PathBuf) -> PathBuf {
    let is_script = fs::read(&path).is_ok_and(|bytes| bytes.starts_with(b"#!"));
    if !is_script {
        return path;
    }
    let asked = std::process::Command::new(&path)
        .args(["-c", "import sys; print(sys.executable)"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output();
    match asked {
        Ok(output) if output.status.success() => {
            let answer = String::from_utf8_lossy(&output.stdout).trim().to_string();
            match answer.is_empty() {
                true => path,
                false => PathBuf::from(answer),
            }
        }
        _ => path,
    }
}

/// Finds `program` as `execvp` would: a name with a `/` as it is, others along `PATH`. Not
/// found or not executable is bad input, said with what to do.
fn find_program(program: &str) -> Result<PathBuf> {
    let candidates: Vec<PathBuf> = if program.contains('/') {
        vec![PathBuf::from(program)]
    } else {
        std::env::var_os("PATH")
            .map(|path| {
                std::env::split_paths(&path)
                    .map(|dir| dir.join(program))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut not_executable = None;
    for candidate in candidates {
        if !candidate.is_file() {
            continue;
        }
        if is_executable(&candidate) {
            return Ok(candidate);
        }
        not_executable.get_or_insert(candidate);
    }
    Err(Error::Usage(match not_executable {
        Some(path) => format!(
            "cannot trace {}: it is not executable (chmod +x it, or name its interpreter: \
             proclab trace python3 {})",
            path.display(),
            path.display()
        ),
        None if program.contains('/') => {
            format!("cannot trace {program}: no such file")
        }
        None => format!("cannot trace {program}: not found in PATH (is it installed?)"),
    }))
}

fn is_executable(path: &Path) -> bool {
    let Ok(path) = CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `access` only reads the path.
    unsafe { libc::access(path.as_ptr(), libc::X_OK) == 0 }
}

/// Whether this machine lets proclab trace at all, checked before the run begins: proclab
/// itself under a tracer (a process has one tracer at most), Yama's `ptrace_scope` 3, or a
/// container without `CAP_SYS_PTRACE` (or whose seccomp policy forbids `ptrace`). Checked by
/// doing it: a child is forked, seized and killed.
pub fn check_permission() -> Result<()> {
    if let Some(refused) = unknown_architecture() {
        return Err(refused);
    }
    if let Some(tracer) = own_tracer() {
        return Err(Error::Usage(format!(
            "cannot trace: proclab is itself being traced (by pid {tracer}, perhaps strace or \
             a debugger), and a process can have only one tracer; run proclab trace outside it"
        )));
    }
    let scope = fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope").unwrap_or_default();
    if scope.trim() == "3" {
        return Err(Error::Usage(
            "cannot trace: ptrace is disabled on this machine (kernel.yama.ptrace_scope = 3, \
             which only a reboot undoes); use a machine or VM where it is 0, 1 or 2"
                .into(),
        ));
    }
    // SAFETY: the child only waits to be killed (`pause`), and never returns here.
    let child = unsafe { libc::fork() };
    if child < 0 {
        return Err(Error::System(format!(
            "cannot fork: {}",
            std::io::Error::last_os_error()
        )));
    }
    if child == 0 {
        loop {
            // SAFETY: `pause` only waits for a signal.
            unsafe { libc::pause() };
        }
    }
    // SAFETY: plain system calls on the child just forked.
    let seized = unsafe { libc::ptrace(libc::PTRACE_SEIZE, child, 0, 0) };
    let error = std::io::Error::last_os_error();
    // SAFETY: as above.
    unsafe {
        libc::kill(child, libc::SIGKILL);
        libc::waitpid(child, std::ptr::null_mut(), libc::__WALL);
    }
    if seized != 0 {
        return Err(Error::Usage(format!(
            "cannot trace: the kernel refused ptrace ({error}); in a container, give it \
             CAP_SYS_PTRACE (docker run --cap-add SYS_PTRACE), or set kernel.yama.ptrace_scope \
             to 0 or 1"
        )));
    }
    Ok(())
}

/// The file in a run's temp directory where the tracer lists what the traced program created
/// under `/dev/shm` (a line each: device, inode, path).
const SHARED_FILES: &str = "shared-files-made";

/// Lists `path` (just created under `/dev/shm` by the traced program) for removal at the end
/// of the run, with its device and inode: what is removed then is that file, not another of
/// the same name made since by someone else.
fn note_shared_file(path: &str) {
    use std::io::Write;
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = fs::symlink_metadata(path) else {
        return;
    };
    let listed = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(context::temp_dir().join(SHARED_FILES));
    if let Ok(mut listed) = listed {
        let _ = writeln!(listed, "{} {} {path}", meta.dev(), meta.ino());
    }
}

/// Removes what a traced program created under `/dev/shm` and left there (a shared memory
/// block or a named semaphore of a program killed with the run), as listed in run directory
/// `run_dir`: only a file that is still the one listed (same device and inode), and this
/// user's. Called by the supervisor (or its guard) as it removes the run's directory.
pub fn remove_shared_files(run_dir: &Path) {
    use std::os::unix::fs::MetadataExt;
    let Ok(listed) = fs::read_to_string(run_dir.join(SHARED_FILES)) else {
        return;
    };
    // SAFETY: geteuid cannot fail.
    let me = unsafe { libc::geteuid() };
    for line in listed.lines() {
        let mut fields = line.splitn(3, ' ');
        let (Some(dev), Some(ino), Some(path)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if !path.starts_with("/dev/shm/") || path.contains("/../") {
            continue;
        }
        let same = fs::symlink_metadata(path).is_ok_and(|meta| {
            meta.dev().to_string() == dev && meta.ino().to_string() == ino && meta.uid() == me
        });
        if same {
            let _ = fs::remove_file(path);
        }
    }
}

/// The tracer knows the system calls of x86_64 and aarch64 (`seccomp::arch`); elsewhere it
/// refuses, in one line, rather than trace with the wrong numbers.
fn unknown_architecture() -> Option<Error> {
    let known = cfg!(any(target_arch = "x86_64", target_arch = "aarch64"));
    (!known).then(|| {
        Error::Usage(format!(
            "cannot trace on {}: proclab trace knows the system calls of x86_64 and aarch64 \
             only (a seccomp filter with another architecture's numbers would trace the wrong \
             calls)",
            std::env::consts::ARCH
        ))
    })
}

/// The pid tracing this process, if any (`TracerPid` in `/proc/self/status`).
fn own_tracer() -> Option<i32> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let pid: i32 = status
        .lines()
        .find_map(|line| line.strip_prefix("TracerPid:"))?
        .trim()
        .parse()
        .ok()?;
    (pid != 0).then_some(pid)
}

/// Most processes the traced program may have at once (0: no limit).
static PROCESS_LIMIT: AtomicUsize = AtomicUsize::new(0);

/// Sets the most processes (running, or ended and not yet reaped) the traced program may have
/// at once; past it the tracer kills every one of them (`proclab exercise check` stops a fork
/// bomb so). Set before the run: the tracer, forked after, inherits it.
pub fn set_process_limit(limit: usize) {
    PROCESS_LIMIT.store(limit, Ordering::Relaxed);
}

fn process_limit() -> Option<usize> {
    match PROCESS_LIMIT.load(Ordering::Relaxed) {
        0 => None,
        limit => Some(limit),
    }
}

/// The tracer's life, in the run's main process: start the program, trace it and everything
/// it creates until none is left, and return the exit status for proclab to exit with (the
/// program's own, or 128 + N when signal N killed it, as a shell says it).
pub fn trace(command: Command) -> Result<i32> {
    let python_dir = context::temp_dir().join("python");
    if command.is_python() {
        fs::create_dir_all(&python_dir)?;
        fs::write(
            python_dir.join("sitecustomize.py"),
            include_str!("sitecustomize.py"),
        )?;
    }
    // The program's temp files (Python's `pymp-*` folders ...) go in the run's temp
    // directory, which goes at the end of the run, however it ends.
    let temp_dir = context::temp_dir().join("tmp");
    fs::create_dir_all(&temp_dir)?;
    let env = environment(&command, &python_dir, &temp_dir);
    run_traced(&command, env)
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn run_traced(command: &Command, env: Vec<CString>) -> Result<i32> {
    tracer::run(command, env)
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
fn run_traced(_: &Command, _: Vec<CString>) -> Result<i32> {
    Err(unknown_architecture().expect("an architecture the tracer does not know"))
}

/// The traced program's environment: proclab's own, with `sitecustomize.py`'s folder first on
/// `PYTHONPATH` for a Python program, and `TMPDIR` in the run's temp directory.
fn environment(command: &Command, python_dir: &Path, temp_dir: &Path) -> Vec<CString> {
    let mut env = Vec::new();
    let mut python_path = python_dir.display().to_string();
    for (key, value) in std::env::vars_os() {
        if key == "TMPDIR" {
            continue;
        }
        if key == "PYTHONPATH" && command.is_python() {
            python_path = format!("{python_path}:{}", value.to_string_lossy());
            continue;
        }
        let mut entry = key.as_bytes().to_vec();
        entry.push(b'=');
        entry.extend_from_slice(value.as_bytes());
        if let Ok(entry) = CString::new(entry) {
            env.push(entry);
        }
    }
    if command.is_python() {
        env.extend(CString::new(format!("PYTHONPATH={python_path}")));
    }
    env.extend(CString::new(format!("TMPDIR={}", temp_dir.display())));
    env
}

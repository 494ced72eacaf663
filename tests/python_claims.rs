//! What the lessons say about Python, checked against Python itself.
//!
//! Each program in `tests/python_claims/` is a small experiment with CPython's
//! `multiprocessing` (3.11 here, start method `fork`, the Linux default up to 3.13); each test
//! runs one with `python3`, bounded in time, and checks what it prints. A claim in the notes
//! that these programs disprove is a claim to correct.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::free_port;

/// Runs `python3 [flags] tests/python_claims/<program> args...` and returns what it printed on
/// standard output. Fails the test if it does not finish within `limit`.
#[track_caller]
fn python(flags: &[&str], program: &str, args: &[&str], limit: Duration) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python_claims")
        .join(program);
    common::output_within(
        Command::new("python3").args(flags).arg(path).args(args),
        limit,
    )
}

/// Whether CPython is here to run the experiments. Without it a test says so and skips; in CI
/// (`PROCLAB_CI` set) a missing python3 fails it instead.
fn python_is_here() -> bool {
    let here = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if !here {
        assert!(
            std::env::var_os("PROCLAB_CI").is_none(),
            "python3 is needed to check the notes' claims about Python"
        );
        eprintln!("python3 is not here: the experiment is skipped");
    }
    here
}

/// A lesson's notes in both languages, joined.
fn notes(folder: &str) -> (String, String) {
    let read = |name: &str| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("lessons")
            .join(folder)
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    // Source line breaks are spaces (in English) or nothing (in Chinese).
    let joined = |text: String| text.split('\n').collect::<Vec<_>>().join(" ");
    (joined(read("notes.md")), joined(read("notes.zh.md")))
}

/// The notes of `folder` say each of `english` and `chinese` (in the notes and the notes.zh),
/// and none of `wrong` (an earlier claim that the experiment disproved).
#[track_caller]
fn notes_say(folder: &str, english: &[&str], chinese: &[&str], wrong: &[&str]) {
    let (en, zh) = notes(folder);
    let zh_compact: String = zh.split(' ').collect();
    for claim in english {
        assert!(
            en.contains(claim),
            "{folder}/notes.md does not say {claim:?}"
        );
    }
    for claim in chinese {
        let compact: String = claim.split(' ').collect();
        assert!(
            zh_compact.contains(&compact),
            "{folder}/notes.zh.md does not say {claim:?}"
        );
    }
    for claim in wrong {
        assert!(
            !en.contains(claim) && !zh.contains(claim),
            "{folder}: the notes still say {claim:?}"
        );
    }
}

#[test]
fn the_sentinel_waits_for_a_grandchild_that_inherited_it() {
    let out = python(&[], "sentinel.py", &[], Duration::from_secs(30));
    let seconds = |prefix: &str| -> f64 {
        let line = out.lines().find(|l| l.starts_with(prefix)).expect(&out);
        line.rsplit(' ').nth(1).unwrap().parse().unwrap()
    };
    // The child ends after 0.2 s, the grandchild after 3 s: the sentinel follows the latter.
    assert!(seconds("child ended after") < 2.0, "{out}");
    assert!(seconds("sentinel ready after") >= 2.9, "{out}");
}

#[test]
fn an_unnamed_subclass_instance_is_named_after_its_class() {
    let out = python(&[], "subclass_name.py", &[], Duration::from_secs(30));
    assert_eq!(out, "Piao-5\nProcess-6\n");
}

#[test]
fn is_alive_exitcode_active_children_and_start_all_reap() {
    let out = python(&[], "reaping.py", &[], Duration::from_secs(30));
    assert_eq!(
        out,
        "nothing called: Z\nafter is_alive(): gone\nafter exitcode: gone\n\
         after active_children(): gone\nafter another start(): gone\n"
    );
}

#[test]
fn a_late_daemon_flag_is_refused_unless_asserts_are_off() {
    // The child's line and the parent's may come in either order on a busy machine.
    let sorted = |out: String| {
        let mut lines: Vec<String> = out.lines().map(str::to_string).collect();
        lines.sort();
        lines
    };
    let out = python(&[], "late_daemon.py", &[], Duration::from_secs(30));
    assert_eq!(
        sorted(out),
        [
            "child: finished my work",
            "child: my daemon flag is False",
            "parent: late daemon = True: AssertionError: process has already started",
        ]
    );
    // Under -O the flag changes in the parent only, and the parent terminates the child as it
    // exits, before the child finishes its work.
    let out = python(&["-O"], "late_daemon.py", &[], Duration::from_secs(30));
    assert_eq!(
        sorted(out),
        [
            "child: my daemon flag is False",
            "parent: late daemon = True accepted, p.daemon is True",
        ]
    );
}

#[test]
fn a_daemon_starting_a_child_dies_of_the_assertion_error() {
    let out = python(&[], "daemon_child.py", &[], Duration::from_secs(30));
    assert_eq!(out, "daemon exitcode: 1\n");
}

#[test]
fn the_tutorial_server_keeps_zombies_only_until_the_next_start() {
    let port = free_port().to_string();
    let out = python(&[], "zombies.py", &[&port, "50"], Duration::from_secs(120));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    // One after the other, each handler ended before the next client came: each start()
    // reaps the handlers that ended before it, so only the last one is left.
    assert_eq!(
        lines[0], "50 clients one after the other: 1 zombie(s)",
        "{out}"
    );
    // All at once: no start() after they ended, so every one stays, holding two descriptors
    // (the two pipe ends of its Popen) in the server: 50 x 2 + stdio, the socket, and so on.
    assert!(
        lines[1].starts_with("50 clients at once: 50 zombie(s), "),
        "{out}"
    );
    let descriptors: u32 = number_after(lines[1], "zombie(s), ");
    assert!((100..=110).contains(&descriptors), "{out}");
    // One more client: its start() reaps them all but its own handler.
    assert_eq!(lines[2], "one more client: 1 zombie(s)", "{out}");
}

#[test]
fn a_spawned_child_runs_the_module_level_bind_again() {
    let port = free_port().to_string();
    let out = python(&[], "spawn_rebinds.py", &[&port], Duration::from_secs(30));
    assert_eq!(
        out,
        format!(
            "MainProcess: module level: bound port {port}\n\
             fork-child: child runs, socket ('127.0.0.1', {port})\n\
             fork: exitcode 0\n\
             spawn-child: module level: Address already in use\n\
             spawn: exitcode 1\n"
        )
    );
}

#[test]
fn join_with_a_timeout_returns_with_the_child_alive() {
    let out = python(&[], "join_timeout.py", &[], Duration::from_secs(30));
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("join(0.2) returned None after ")
            && lines[0].ends_with("is_alive() True, exitcode None"),
        "{out}"
    );
    assert!(lines[1].ends_with("is_alive() False, exitcode 0"), "{out}");
}

#[test]
fn one_recv_per_line_leaves_the_rest_of_a_long_reply_for_the_next() {
    let port = free_port().to_string();
    let out = python(&[], "byte_stream.py", &[&port], Duration::from_secs(30));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "sent 1500 x a, got 1024 x A", "{out}");
    // The answer to "b" starts with what was left of the long reply (476 bytes, then the
    // "B" if it had arrived too): the client is one reply behind.
    assert!(
        lines[1].starts_with("sent 1 x b, got 47") && lines[1].ends_with(" x A"),
        "{out}"
    );
}

#[test]
fn sigchld_ignored_leaves_no_zombie_and_no_exit_status() {
    let out = python(&[], "sigchld_ignored.py", &[], Duration::from_secs(30));
    assert_eq!(
        out,
        "SIGCHLD default: 3 zombie(s) after 3 children ended\n\
         SIGCHLD default: exitcodes [0, 0, 0]\n\
         SIGCHLD ignored: 0 zombie(s) after 3 children ended\n\
         SIGCHLD ignored: exitcodes [None, None, None]\n"
    );
}

#[test]
fn a_handler_holding_a_connection_blocks_a_bind_without_so_reuseaddr() {
    let port = free_port().to_string();
    let out = python(&[], "rebind_held.py", &[&port], Duration::from_secs(30));
    assert_eq!(
        out,
        "handler closed the listening socket: without SO_REUSEADDR: Address already in use; \
         with SO_REUSEADDR: bound\n\
         handler kept the listening socket: without SO_REUSEADDR: Address already in use; \
         with SO_REUSEADDR: Address already in use\n"
    );
}

// Round two: claims checked by experiment, each against the notes that make it.

/// Lesson 11, item 1: a named thread draws no number for a default name.
#[test]
fn a_named_thread_draws_no_number_for_a_default_name() {
    notes_say(
        "11-threads-vs-processes",
        &["a named thread draws no number", "`Thread-2 (f)`"],
        &["起了名的线程不占编号"],
        &["N counting every Thread"],
    );
    if !python_is_here() {
        return;
    }
    let out = python(&[], "thread_names.py", &[], Duration::from_secs(30));
    assert_eq!(
        out,
        "MainThread\nThread-1 (sayhi)\nyuanhao\nThread-2 (sayhi)\nThread-3\nThread-4\n\
         named-subclass\nThread-5 (<lambda>)\n"
    );
}

/// Lesson 14, item 2: a Python thread has no exit code.
#[test]
fn a_thread_that_raises_has_no_exit_code_and_join_returns_none() {
    notes_say(
        "14-thread-sync",
        &["A Python thread has no exit code", "`threading.excepthook`"],
        &["Python 的线程没有退出码"],
        &[
            "the way a Python thread ends with an uncaught exception",
            "线程以退出码 1 结束",
        ],
    );
    if !python_is_here() {
        return;
    }
    let out = python(&[], "thread_exception.py", &[], Duration::from_secs(30));
    assert_eq!(
        out,
        "join() returned None\nexcepthook got ['TimeoutError']\n\
         has exitcode: False is_alive: False\n"
    );
}

/// Lesson 9, item 3 and the looser list: what multiprocessing.Event is made of, where its
/// waiter sleeps, and the bound that tells a Lock from a Semaphore.
#[test]
fn a_multiprocessing_event_is_a_condition_and_a_semaphore() {
    notes_say(
        "09-semaphore-event",
        &[
            "the lab's event is one word",
            "a `Condition` (a `Lock` and three semaphores) plus a `Semaphore`",
            "a second `release()` is an error",
        ],
        &[
            "一个 `Condition`（一把 `Lock` 加三个信号量）",
            "第二次 `release()` 会报错",
        ],
        &["the event is one word in shared memory"],
    );
    if !python_is_here() {
        return;
    }
    let out = python(&[], "mp_event.py", &[], Duration::from_secs(30));
    assert_eq!(
        out,
        "Event: Semaphore + Condition\nCondition: Lock + Semaphore, Semaphore, Semaphore\n\
         waiter: in futex state S\n\
         Lock: second release: semaphore or lock released too many times\n\
         Semaphore(1): released twice, value 2\n"
    );
}

/// Lessons 12 and 13, items 4 and 6: CPython 3.11 switches at certain instructions, not
/// between any two bytecodes; with a call between read and write, updates are lost.
#[test]
fn cpython_switches_threads_at_calls_and_backward_jumps_only() {
    notes_say(
        "12-gil",
        &["CPython 3.11 checks at certain instructions"],
        &["CPython 3.11 只在某些指令处检查"],
        &[
            "as CPython checks between bytecodes",
            "就像 CPython 在字节码之间检查一样",
        ],
    );
    notes_say(
        "13-thread-locks",
        &["a large share of the four million updates were lost"],
        &["丢多少每次运行差别很大"],
        &["1.9 to 2.5 million", "190 万到 250"],
    );
    if !python_is_here() {
        return;
    }
    let out = python(&[], "gil_checks.py", &[], Duration::from_secs(60));
    assert_eq!(
        out,
        "minus_in_place: 4 x 1000000: lost none\n\
         minus_with_a_call_between: 4 x 250000: lost some\n"
    );
}

/// Lesson 12, item 5: POSIX allows a fork while other threads run; CPython 3.11 does it
/// silently (3.12 and later warn); the child has one thread.
#[test]
fn cpython_forks_a_process_with_threads_running() {
    notes_say(
        "12-gil",
        &["the lab refuses to fork a process", "CPython 3.11 forks"],
        &["POSIX 允许这样做"],
        &["a process with threads running may not fork"],
    );
    if !python_is_here() {
        return;
    }
    let out = python(&[], "fork_with_threads.py", &[], Duration::from_secs(30));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..2],
        ["parent threads: 2", "child threads: 1"],
        "{out}"
    );
    let minor: u32 = lines[2]["python 3.".len()..]
        .split(' ')
        .next()
        .and_then(|m| m.parse().ok())
        .expect(&out);
    if minor <= 11 {
        assert!(lines[2].ends_with("warnings: []"), "{out}");
    } else {
        assert!(lines[2].contains("DeprecationWarning"), "{out}");
    }
}

/// Lesson 6, item 7: task_done() is bounded by the items put, not got.
#[test]
fn task_done_is_bounded_by_the_items_put() {
    notes_say(
        "06-queue",
        &["more often than items were *put* is an error"],
        &["调用次数多于*放入*的条目数时是一个错误"],
        &["often than items were got is an error"],
    );
    if !python_is_here() {
        return;
    }
    let out = python(&[], "task_done.py", &[], Duration::from_secs(30));
    assert_eq!(
        out,
        "2 put(), 1 get(), 2 task_done(): ok\n\
         a third task_done(): error: task_done() called too many times\n"
    );
}

/// Lesson 12, item 8: on one core no speed-up is possible; what waiting there means.
#[test]
fn on_one_core_processes_take_turns() {
    if !python_is_here() {
        return;
    }
    let out = python(&[], "one_core.py", &[], Duration::from_secs(60));
    let busy: f64 = out
        .lines()
        .find_map(|l| l.strip_prefix("cpus busy "))
        .and_then(|s| s.parse().ok())
        .expect(&out);
    assert!(out.starts_with("cores 1\n"), "{out}");
    // Taking turns, two never keep more than the one CPU busy (a sliver of slack for the
    // clocks' granularity).
    assert!(busy < 1.1, "{out}");
}

/// Lesson 12, item 9: two CPU-bound CPython threads hand the GIL over at most about once per
/// switch interval (fewer on a busy machine), not twice.
#[test]
fn the_gil_changes_hands_at_most_about_once_per_switch_interval() {
    notes_say(
        "12-gil",
        &["at most about one handover per interval"],
        &["每个间隔最多大约交接一次"],
        &["about two per switch interval"],
    );
    if !python_is_here() {
        return;
    }
    let out = python(&[], "gil_switches.py", &[], Duration::from_secs(30));
    let per_interval: f64 = out
        .trim()
        .strip_prefix("switches per switch interval: ")
        .and_then(|s| s.parse().ok())
        .expect(&out);
    assert!(per_interval < 1.5, "{out}");
}

/// Lesson 16, item 10: a recv on a closed connection returns the end of file at once; a time-out
/// is another ending.
#[test]
fn recv_on_a_closed_connection_is_the_end_of_file_not_a_timeout() {
    if !python_is_here() {
        return;
    }
    let out = python(&[], "recv_end_of_file.py", &[], Duration::from_secs(30));
    assert_eq!(
        out,
        "peer closed: recv returned b'' after less than 1 s: True\n\
         peer silent: recv raised TimeoutError\n"
    );
}

/// Lessons 2, 10 and 15, the looser claims made exact: Pool.map's chunks, get() on a task lost
/// to terminate(), the assert behind join() of a process never started, and the fourth queue.
#[test]
fn pool_chunks_lost_results_unstarted_joins_and_the_fourth_queue() {
    notes_say(
        "10-pool",
        &["`ceil(n / (4 × workers))`", "in CPython it never returns"],
        &["在 CPython 里它永远不会返回"],
        &[],
    );
    notes_say(
        "02-spawn-worker",
        &["it is an `assert`", "`python -O`"],
        &["在去掉断言的 `python -O`"],
        &[],
    );
    notes_say(
        "15-producer-consumer",
        &["four queues", "`SimpleQueue`"],
        &["四种队列"],
        &["has three queues"],
    );
    if !python_is_here() {
        return;
    }
    let out = python(&[], "pool_and_join.py", &[], Duration::from_secs(60));
    assert_eq!(
        out,
        "map chunksize for 1000 items on 2 workers: 125\n\
         get() after terminate(): TimeoutError, ready() False\n"
    );
    let out = python(&[], "pool_and_join.py", &["join"], Duration::from_secs(30));
    assert_eq!(out, "join() before start(): AssertionError\n");
    let out = python(
        &["-O"],
        "pool_and_join.py",
        &["join"],
        Duration::from_secs(30),
    );
    assert_eq!(out, "join() before start(): AttributeError\n");
    let out = common::python3(
        "import queue; print(sorted(n for n in dir(queue) if n.endswith('Queue') and not n.startswith('_')))",
    );
    assert_eq!(
        out,
        "['LifoQueue', 'PriorityQueue', 'Queue', 'SimpleQueue']\n"
    );
}

/// The notes' Chinese says the lab is proclab, calls a ※ note 注解 everywhere (注释 is a code
/// comment), and none of the translationese a native reader marked.
#[test]
fn the_chinese_notes_read_naturally() {
    let folders: Vec<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("lessons"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.as_bytes()[0].is_ascii_digit())
            .collect();
    assert_eq!(folders.len(), 17);
    for folder in folders {
        let (_, zh) = notes(&folder);
        for marked in [
            "实验室",
            "注释",
            "说明 (note)",
            "提示 (note)",
            "子收割者",
            "送料线程",
            "兴趣集合",
            "不是每次都会输",
        ] {
            assert!(!zh.contains(marked), "{folder}/notes.zh.md says {marked:?}");
        }
    }
}

/// The number right after `marker` in `line`.
#[track_caller]
fn number_after(line: &str, marker: &str) -> u32 {
    let rest = &line[line
        .find(marker)
        .unwrap_or_else(|| panic!("{marker:?} in {line:?}"))
        + marker.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("a number after {marker:?} in {line:?}"))
}

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

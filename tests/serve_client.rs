//! `proclab serve` and `proclab client` through the real binary, on loopback: piped client,
//! raw `TcpStream`, hostile clients, the handler limit, 200 clients at once, a busy port, an
//! unreachable server, and Ctrl-C leaving nothing behind.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::Stdio;
use std::thread;
use std::time::Duration;

use common::{Lab, Server};

/// Sends `message`, reads exactly as many bytes back.
#[track_caller]
fn round_trip(stream: &mut TcpStream, message: &[u8]) -> Vec<u8> {
    stream.write_all(message).unwrap();
    let mut reply = vec![0u8; message.len()];
    stream.read_exact(&mut reply).unwrap();
    reply
}

#[test]
fn piped_client_and_plain_tcp_stream_get_upper_cased_replies() {
    let lab = Lab::new();
    let mut server = Server::start(&lab, &[]);
    let port = server.port.to_string();
    // The client runs under a harness of its own: the server's is still running.
    let client = Lab::new().run(
        &["client", "--port", &port],
        "hello\n\n  world of alex \nok\n",
    );
    assert!(client.status.success(), "{}", client.stderr);
    assert_eq!(client.stdout, "HELLO\nWORLD OF ALEX\nOK\n");
    assert!(
        !client.stdout.contains(">>:"),
        "a prompt without a terminal"
    );

    let mut stream = server.connect();
    assert_eq!(round_trip(&mut stream, b"abc xyz 123"), b"ABC XYZ 123");
    let address = stream.local_addr().unwrap().to_string();
    drop(stream);
    // The server annotated the connection: client address, handler pid, its parent.
    let accepted = server.wait_for(|e| {
        e["kind"] == "say"
            && e["text"]
                .as_str()
                .unwrap_or("")
                .starts_with(&format!("connection from {address}: handler "))
    });
    let server_pid = server.server_pid;
    let handler = server.wait_for(|e| {
        e["kind"] == "spawn"
            && e["pid"] == server_pid
            && accepted["text"]
                .as_str()
                .unwrap()
                .contains(&format!("handler {}", e["child"]))
    });
    let handler_pid = handler["child"].clone();
    let start = server.wait_for(|e| e["kind"] == "start" && e["pid"] == handler_pid);
    assert_eq!(start["ppid"], server_pid);
    server.wait_for(|e| {
        e["pid"] == handler_pid && e["text"].as_str().unwrap_or("").contains("11 bytes")
    });
    server.wait_for(|e| e["kind"] == "exit" && e["child"] == handler_pid && e["exitcode"] == 0);
    assert_eq!(server.zombies(), 0);
    server.stop(&lab);
}

#[test]
fn hostile_clients_do_not_hurt_the_server_or_the_next_client() {
    let lab = Lab::new();
    let server = Server::start(&lab, &[]);

    // Binary garbage, every byte value: only ASCII letters change.
    let garbage: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let mut stream = server.connect();
    stream.write_all(&garbage).unwrap();
    let mut reply = vec![0u8; garbage.len()];
    stream.read_exact(&mut reply).unwrap();
    assert_eq!(reply, garbage.to_ascii_uppercase());
    drop(stream);

    // A very long line (1 MiB, no newline), written while the replies are read.
    let long: Vec<u8> = b"abcdefghij"
        .iter()
        .copied()
        .cycle()
        .take(1 << 20)
        .collect();
    let stream = server.connect();
    let mut writer = stream.try_clone().unwrap();
    let to_send = long.clone();
    let sending = thread::spawn(move || {
        writer.write_all(&to_send).unwrap();
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut reply = Vec::new();
    (&stream).read_to_end(&mut reply).unwrap();
    sending.join().unwrap();
    assert_eq!(reply.len(), long.len());
    assert!(reply == long.to_ascii_uppercase());
    drop(stream);

    // Disconnects in the middle: half a message then gone; and a reset (SO_LINGER 0).
    let mut stream = server.connect();
    stream.write_all(b"half a mess").unwrap();
    drop(stream);
    let stream = server.connect();
    nix::sys::socket::setsockopt(
        &stream,
        nix::sys::socket::sockopt::Linger,
        &nix::libc::linger {
            l_onoff: 1,
            l_linger: 0,
        },
    )
    .unwrap();
    (&stream).write_all(&[b'x'; 5000]).unwrap();
    drop(stream);

    // A normal client still gets its answer.
    let mut stream = server.connect();
    assert_eq!(round_trip(&mut stream, b"still there?"), b"STILL THERE?");
    drop(stream);
    assert_eq!(server.zombies(), 0);
    let events = server.stop(&lab);
    assert!(events.of_kind("error").is_empty(), "{}", events.dump());
}

#[test]
fn beyond_max_clients_a_connection_is_told_the_server_is_busy() {
    let lab = Lab::new();
    let mut server = Server::start(&lab, &["--max-clients", "2"]);
    let mut first = server.connect();
    let mut second = server.connect();
    assert_eq!(round_trip(&mut first, b"one"), b"ONE");
    assert_eq!(round_trip(&mut second, b"two"), b"TWO");
    // The third is answered at once, not left in the listen queue: busy, then closed.
    let mut third = server.connect();
    third.write_all(b"three").unwrap();
    third
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut said = String::new();
    let _ = third.read_to_string(&mut said);
    assert!(said.contains("busy"), "{said:?}");
    server.wait_for(|e| {
        e["text"]
            .as_str()
            .unwrap_or("")
            .contains("the limit (--max-clients)")
    });
    // One hangs up: the next is served.
    drop(first);
    server.wait_for(|e| {
        e["text"]
            .as_str()
            .unwrap_or("")
            .starts_with("a handler ended: serving again")
    });
    let mut fourth = server.connect();
    assert_eq!(round_trip(&mut fourth, b"four"), b"FOUR");
    drop(second);
    drop(fourth);
    assert_eq!(server.zombies(), 0);
    server.stop(&lab);
}

#[test]
fn two_hundred_clients_at_once_a_hundred_round_trips_each() {
    let lab = Lab::new();
    let server = Server::start(&lab, &[]);
    let streams: Vec<TcpStream> = (0..200).map(|_| server.connect()).collect();
    let workers: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(i, mut stream)| {
            thread::spawn(move || {
                for round in 0..100 {
                    let message = format!("client {i} round {round} abc");
                    let reply = round_trip(&mut stream, message.as_bytes());
                    assert_eq!(reply, message.to_uppercase().as_bytes());
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("every reply correct");
    }
    assert_eq!(server.zombies(), 0, "zombies after 200 clients left");
    let events = server.stop(&lab);
    let spawned = events.of_kind("spawn").len();
    // The supervisor's spawn of the server, and one handler per client.
    assert_eq!(spawned, 201);
}

#[test]
fn busy_port_is_one_line_and_status_2() {
    let lab = Lab::new();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let finished = lab.run(&["serve", "--port", &port], "");
    assert_eq!(finished.status.code(), Some(2), "{}", finished.stderr);
    assert_eq!(finished.stderr.lines().count(), 1, "{}", finished.stderr);
    assert!(
        finished.stderr.contains(&format!("port {port}")),
        "{}",
        finished.stderr
    );
    assert!(finished.stderr.contains("--port 0"), "{}", finished.stderr);
    assert!(finished.stdout.is_empty());
}

#[test]
fn client_without_a_server_says_so_and_fails() {
    let lab = Lab::new();
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port().to_string()
    };
    let finished = lab.run(&["client", "--port", &port], "hello\n");
    assert_eq!(finished.status.code(), Some(1), "{}", finished.stderr);
    assert!(
        finished.stderr.contains("cannot reach a server"),
        "{}",
        finished.stderr
    );
    assert!(!finished.stderr.contains("panicked"));
}

/// A Python socket client in the tutorial's style (our own code): one line, one `recv(1024)`.
const PYTHON_CLIENT: &str = r#"
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as s:
    for line in ["hello", "alex and wupeiqi"]:
        s.sendall(line.encode())
        print(s.recv(1024).decode(), flush=True)
"#;

/// A Python server in the tutorial's style (our own code): one forked child per connection,
/// upper-casing what it receives until the client closes. Ends itself after 30 s whatever happens.
const PYTHON_SERVER: &str = r#"
import os, signal, socket
signal.alarm(30)
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 0))
server.listen(5)
print(server.getsockname()[1], flush=True)
while True:
    conn, _ = server.accept()
    if os.fork() == 0:
        server.close()
        while True:
            data = conn.recv(1024)
            if not data:
                break
            conn.sendall(data.upper())
        os._exit(0)
    conn.close()
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break
"#;

#[test]
fn plain_tcp_both_ways_with_python_socket_programs() {
    // A Python client against `proclab serve`.
    let lab = Lab::new();
    let server = Server::start(&lab, &[]);
    let output = std::process::Command::new("python3")
        .args(["-c", PYTHON_CLIENT, &server.port.to_string()])
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "HELLO\nALEX AND WUPEIQI\n"
    );
    server.stop(&lab);

    // `proclab client` against a Python server.
    let python_lab = Lab::new();
    let mut python = std::process::Command::new("python3");
    python
        .args(["-c", PYTHON_SERVER])
        .env("PROCLAB_TEST_TAG", &python_lab.tag)
        .stdout(Stdio::piped());
    std::os::unix::process::CommandExt::process_group(&mut python, 0);
    let mut python = python.spawn().expect("python3 runs");
    let group = python.id() as i32;
    let mut port = String::new();
    BufReader::new(python.stdout.take().unwrap())
        .read_line(&mut port)
        .unwrap();
    let client = Lab::new().run(&["client", "--port", port.trim()], "hello\nworld\n");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(-group),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    python.wait().unwrap();
    python_lab.assert_nothing_left(group);
    assert!(client.status.success(), "{}", client.stderr);
    assert_eq!(client.stdout, "HELLO\nWORLD\n");
}

/// A socket timeout that would round to zero ("wait for ever" to the kernel) is bad input
/// before anything starts, not a server that dies at its first client.
#[test]
fn serve_timeouts_below_a_millisecond_are_bad_input() {
    let lab = Lab::new();
    for option in ["--idle-timeout", "--write-timeout"] {
        for bad in ["1e-300", "0.0000001", "0", "-1", "nan", "601"] {
            let finished = lab.run(&["serve", "--port", "0", option, bad], "");
            assert_eq!(
                finished.status.code(),
                Some(2),
                "{option} {bad}: {}",
                finished.stderr
            );
            assert_eq!(finished.stderr.lines().count(), 1, "{}", finished.stderr);
            assert!(
                finished.stderr.starts_with("proclab:"),
                "{}",
                finished.stderr
            );
        }
    }
}

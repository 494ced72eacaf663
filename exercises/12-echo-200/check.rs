//! Exercise 12's judge: the echo server serves 200 clients at once. The lab is the client, with
//! `proclab load --hold`'s code: it opens 200 connections one by one, each answered once
//! (its line back upper-cased within 5 s) and then kept open, and asks each of them once more
//! while all the others are open. What the server said about itself counts for nothing: the
//! replies are what the lab received. When it falls short, the trace says where the server was
//! waiting meanwhile (a blocking server sits in `recv` on one client for as long as that client
//! stays).

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::exercise::prelude::*;
use crate::tools::load::{self, Held};

const CLIENTS: u64 = 200;

/// What the driver found: the load's result, or why it could not begin.
type Found = Arc<Mutex<Option<std::result::Result<Held, String>>>>;

pub fn check(judge: &mut Judge) -> Result<Verdict> {
    let port = free_port()?;
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let found: Found = Arc::new(Mutex::new(None));
    let driver_found = found.clone();
    let scenario = Scenario::new()
        .env("PROCLAB_PORT", port)
        .driver(move |live| {
            let result = drive(live, address);
            if let Ok(mut found) = driver_found.lock() {
                *found = Some(result);
            }
        })
        .stop_when_driven();
    let run = judge.run(scenario)?;
    let found = found.lock().ok().and_then(|mut f| f.take());
    if let Some(stopped) = run.stopped(1, 1) {
        return Ok(stopped);
    }
    if let Ending::Exited(code) = run.ending {
        let code = crate::runtime::event::describe_exitcode(code);
        let why = run.failed(1, 1).map(|v| v.why).unwrap_or_default();
        return Ok(Verdict::fail(text!(
            en: "the server ended by itself (exit code {code}) before the lab was done with it: \
                 a server serves until it is stopped. {why}",
            zh: "服务器在实验室测完之前自己结束了（退出码 {code}）：服务器应该一直服务到被停止。{why}",
        ))
        .hint(1)
        .shown_in_step(1));
    }
    let held = match found {
        Some(Ok(held)) => held,
        Some(Err(why)) => {
            return Ok(Verdict::fail(text!(
                en: "the lab could not talk to the server on 127.0.0.1:{port} (PROCLAB_PORT): {why}",
                zh: "实验室连不上 127.0.0.1:{port}（PROCLAB_PORT）上的服务器：{why}",
            ))
            .hint(1)
            .shown_in_step(1));
        }
        None => {
            return Ok(Verdict::fail(text!(
                en: "the lab's client did not finish",
                zh: "实验室的客户端没有跑完",
            )));
        }
    };
    let Held {
        opened,
        answered_again,
        ..
    } = held;
    if opened == CLIENTS && answered_again == CLIENTS {
        let opening = held.opening.as_secs_f64();
        let shape = shape(&run);
        return Ok(Verdict::pass(text!(
            en: "all {CLIENTS} connections were answered, opened one by one in {opening:.2} s and \
                 kept open, and each answered again while the other {} were open{shape}",
            zh: "{CLIENTS} 个连接都得到了回答：在 {opening:.2} 秒内一个接一个打开并保持打开，\
                 而且在其余 {} 个都开着的时候每个又回答了一次{shape}",
            CLIENTS - 1
        )));
    }
    let error = held.first_error.unwrap_or_default();
    let stuck = longest_wait(&run, opened + 1);
    Ok(Verdict::fail(text!(
        en: "{opened} of {CLIENTS} connections were answered and kept open, {answered_again} \
             answered again; then the lab's client said: \"{error}\"{stuck}",
        zh: "{CLIENTS} 个连接里有 {opened} 个得到回答并保持打开，{answered_again} 个再次回答；\
             然后实验室的客户端报告：“{error}”{stuck}",
    ))
    .hint(2)
    .shown_in_step(1))
}

/// The load, once the server accepts connections (a spawned one takes a while to start).
fn drive(live: &Live, address: SocketAddr) -> std::result::Result<Held, String> {
    loop {
        if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            break;
        }
        if live.time_left().is_zero() {
            return Err(text!(
                en: "nothing accepted a connection there before the time limit",
                zh: "到时限为止，那里一直没有人接受连接",
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Leave a second of the time limit for the lab to stop the server and clean up.
    let time = live.time_left().saturating_sub(Duration::from_secs(1));
    load::hold_connections(address, CLIENTS, time).map_err(|e| e.to_string())
}

/// A port nobody uses now, for the server to listen on.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// How the server was built, as the trace shows it: its processes and threads.
fn shape(run: &Evidence) -> String {
    let processes = run.processes.len();
    let threads = run.threads.len();
    text!(
        en: " (the server had {processes} process(es) and {threads} more thread(s))",
        zh: "（服务器有 {processes} 个进程，另有 {threads} 个线程）",
    )
}

/// The server's longest wait on one connection: where a blocking server spends the time
/// another client waits.
fn longest_wait(run: &Evidence, unanswered: u64) -> String {
    let longest = run
        .waits
        .iter()
        .filter(|w| w.on == "recv" || w.on == "read")
        .max_by(|a, b| {
            let length = |w: &WaitSpan| w.ended.map_or(run.last, |(t, _)| t) - w.began;
            length(a).total_cmp(&length(b))
        });
    let Some(wait) = longest else {
        return String::new();
    };
    let (who, tid, on, object, from) = (&wait.who, wait.tid, &wait.on, &wait.object, wait.began);
    let to = wait.ended.map_or(run.last, |(t, _)| t);
    text!(
        en: ". The server's longest wait on one client: {who} ({tid}) in {on} on {object}, from \
             {from:.2} s to {to:.2} s, while the lab's connection {unanswered} had no reply",
        zh: "。服务器在一个客户端上等得最久的一次：{who}（{tid}）从 {from:.2} 秒到 {to:.2} 秒\
             一直在 {on}（{object}）里等，而实验室的第 {unanswered} 个连接一直没得到回复",
    )
}

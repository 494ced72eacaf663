// Exercise 5, a solution: one sentinel per consumer. A consumer that
// takes a None stops and never takes another, so three consumers need
// three Nones; sent after every 包子, they come out of the channel last.
// (Dropping every Sender would end them too: recv() then fails. A
// Python Queue has no such end: get() waits for ever once the producers
// are gone, so the sentinel is how the consumers are told.)
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread;

fn items() -> usize {
    // the lab may pick
    std::env::var("PROCLAB_ITEMS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(12)
}

fn consumer(q: &Mutex<Receiver<Option<String>>>, name: &str) {
    loop {
        // the lock is held while waiting: one consumer at a time at the queue
        let res = q.lock().unwrap().recv().unwrap();
        match res {
            Some(baozi) => println!("{name} 吃 {baozi}"),
            None => break, // the sentinel: nothing more will come
        }
    }
}

fn producer(q: &Sender<Option<String>>, consumers: usize) {
    for i in 0..items() {
        q.send(Some(format!("包子{i}"))).unwrap();
    }
    for _ in 0..consumers {
        q.send(None).unwrap(); // one "no more" for each consumer
    }
}

fn main() {
    let (tx, rx) = channel();
    let rx = Arc::new(Mutex::new(rx));
    let consumers: Vec<_> = ["alex", "wupeiqi", "yuanhao"]
        .into_iter()
        .map(|name| {
            let rx = Arc::clone(&rx);
            thread::Builder::new()
                .name(name.into())
                .spawn(move || consumer(&rx, name))
                .unwrap()
        })
        .collect();
    producer(&tx, consumers.len());
    for c in consumers {
        c.join().unwrap();
    }
    println!("主线程: every consumer ended");
}

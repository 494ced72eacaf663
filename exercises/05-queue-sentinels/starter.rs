// Exercise 5: three consumers eat from one queue (队列); the producer
// says "no more" with a sentinel (哨兵), None. Run it: the program never
// ends. Make every consumer stop by itself once the 包子 are all eaten,
// each 包子 eaten exactly once. Python's Queue is an mpsc channel here:
// one Receiver shared by the consumers behind a Mutex (Python's Lock),
// and Option's None is Python's None.
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

fn producer(q: &Sender<Option<String>>) {
    for i in 0..items() {
        q.send(Some(format!("包子{i}"))).unwrap();
    }
    q.send(None).unwrap(); // "no more"
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
    producer(&tx);
    for c in consumers {
        c.join().unwrap();
    }
    println!("主线程: every consumer ended");
}

// Exercise 11, a solution: wait for the state, not for a notify. A
// notify that comes while nobody waits is lost (the first 包子 was on the
// shelf before the eater came); the shelf is not. wait_while looks at the
// shelf first and waits only while it is empty, and looks again after
// every wake-up (Python's wait_for; a Condvar may also wake for nothing).
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

/// The shelf: Some(包子) or None, "no more"; the Mutex is Python's Lock.
type Shelf = Mutex<VecDeque<Option<String>>>;

fn items() -> usize {
    // the lab may pick
    std::env::var("PROCLAB_ITEMS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5)
}

fn speed() -> f64 {
    std::env::var("PROCLAB_SPEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
}

fn cook(shelf: &Shelf, con: &Condvar) {
    for i in 1..items() {
        thread::sleep(Duration::from_secs_f64(0.05 / speed()));
        shelf.lock().unwrap().push_back(Some(format!("包子{i}")));
        con.notify_one();
    }
    shelf.lock().unwrap().push_back(None); // "no more"
    con.notify_one();
}

fn eater(shelf: &Shelf, con: &Condvar) {
    loop {
        let guard = shelf.lock().unwrap();
        let mut guard = con.wait_while(guard, |shelf| shelf.is_empty()).unwrap();
        let res = guard.pop_front().expect("the shelf is not empty");
        drop(guard);
        match res {
            Some(baozi) => println!("eater 吃 {baozi}"),
            None => break,
        }
    }
}

fn main() {
    // made before the shop opened
    let shelf = Arc::new((
        Mutex::new(VecDeque::from([Some("包子0".to_string())])),
        Condvar::new(),
    ));
    let for_eater = Arc::clone(&shelf);
    let eater = thread::Builder::new()
        .name("eater".into())
        .spawn(move || eater(&for_eater.0, &for_eater.1))
        .unwrap();
    let for_cook = Arc::clone(&shelf);
    let cook = thread::Builder::new()
        .name("cook".into())
        .spawn(move || cook(&for_cook.0, &for_cook.1))
        .unwrap();
    eater.join().unwrap();
    cook.join().unwrap();
    println!("the shelf is empty: {}", shelf.0.lock().unwrap().is_empty());
}

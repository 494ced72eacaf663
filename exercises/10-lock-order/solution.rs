// Four threads, two locks (Mutex ≈ Python's Lock), one order: every thread
// takes MUTEX_A before MUTEX_B. Whoever holds B already holds A, so nobody
// can hold B and wait for A: the cycle a deadlock needs cannot form.
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

static MUTEX_A: Mutex<()> = Mutex::new(());
static MUTEX_B: Mutex<()> = Mutex::new(());

fn f1(name: &str) {
    let _a = MUTEX_A.lock().unwrap();
    println!("{name} got A");
    let _b = MUTEX_B.lock().unwrap();
    println!("{name} got B");
}

fn f2(name: &str) {
    let _a = MUTEX_A.lock().unwrap(); // the same order as f1: A first, then B
    println!("{name} got A");
    thread::sleep(Duration::from_millis(100));
    let _b = MUTEX_B.lock().unwrap();
    println!("{name} got B");
}

fn main() {
    let threads: Vec<_> = (1..=4)
        .map(|i| {
            let name = format!("Thread-{i}");
            thread::Builder::new()
                .name(name.clone())
                .spawn(move || {
                    f1(&name);
                    f2(&name);
                })
                .unwrap()
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

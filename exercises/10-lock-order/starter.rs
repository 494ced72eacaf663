// Four threads, two locks (Mutex ≈ Python's Lock). f1 takes MUTEX_A then
// MUTEX_B; f2 takes them the other way round, with a nap in between. Run
// it: it never ends. Standard library only: rustc -O starter.rs
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
} // the guards drop here: B is released, then A

fn f2(name: &str) {
    let _b = MUTEX_B.lock().unwrap();
    println!("{name} got B");
    thread::sleep(Duration::from_millis(100));
    let _a = MUTEX_A.lock().unwrap();
    println!("{name} got A");
}

fn main() {
    // Thread(target=...).start() for each, then join() each.
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

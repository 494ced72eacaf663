// Exercise 8: a room with three places and seven visitors, each a thread;
// a visitor stays a while (thread::sleep) inside. std has no semaphore,
// so this program makes one from a Mutex (Python's Lock) and a Condvar
// (Python's Condition). Run it: everyone goes in at once. Make it so
// that at most three are inside at any moment, and three at some
// moment. The lab counts who is inside from each visitor's sleep, as
// the kernel sees it.
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::thread;
use std::time::Duration;

/// Python's Semaphore(n): `places` free places, and a line to wait in.
struct Semaphore {
    places: Mutex<usize>,
    freed: Condvar,
}

impl Semaphore {
    fn new(places: usize) -> Semaphore {
        Semaphore {
            places: Mutex::new(places),
            freed: Condvar::new(),
        }
    }

    fn acquire(&self) {
        let mut places = self.places.lock().unwrap();
        while *places == 0 {
            places = self.freed.wait(places).unwrap(); // until one leaves
        }
        *places -= 1;
    }

    fn release(&self) {
        *self.places.lock().unwrap() += 1;
        self.freed.notify_all(); // tell the line a place is free
    }
}

fn speed() -> f64 {
    std::env::var("PROCLAB_SPEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
}

fn visit(name: &str, arrive: &Barrier) {
    arrive.wait(); // all together, however long each took to start
    let room = Semaphore::new(3); // three places
    room.acquire();
    println!("{name} is in the room");
    thread::sleep(Duration::from_secs_f64(0.3 / speed())); // the stay: "inside"
    println!("{name} leaves");
    room.release();
}

fn main() {
    let arrive = Arc::new(Barrier::new(7));
    let visitors: Vec<_> = (1..=7)
        .map(|i| {
            let arrive = Arc::clone(&arrive);
            let name = format!("visitor-{i}");
            thread::Builder::new()
                .name(name.clone())
                .spawn(move || visit(&name, &arrive))
                .unwrap()
        })
        .collect();
    for visitor in visitors {
        visitor.join().unwrap();
    }
}

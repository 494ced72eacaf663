// Exercise 8, a solution: a woken thread looks again. notify_all()
// wakes the whole line for one free place; each woken visitor takes the
// lock back in turn, and only the first finds the place. With `while`
// the others see 0 and wait again (Python's Semaphore does the same;
// a Condvar may also wake a thread for nothing).
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

/// Python's Semaphore(n): `places` free places, and a line to wait in.
struct Semaphore {
    places: Mutex<isize>, // signed: a bug that lets too many in shows as negative
    freed: Condvar,
}

impl Semaphore {
    fn new(places: isize) -> Semaphore {
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

fn visit(room: &Semaphore, name: &str) {
    room.acquire();
    println!("{name} is in the room");
    thread::sleep(Duration::from_secs_f64(0.3 / speed())); // the stay: "inside"
    println!("{name} leaves");
    room.release();
}

fn main() {
    let room = Arc::new(Semaphore::new(3)); // three places
    let visitors: Vec<_> = (1..=7)
        .map(|i| {
            let room = Arc::clone(&room);
            let name = format!("visitor-{i}");
            thread::Builder::new()
                .name(name.clone())
                .spawn(move || visit(&room, &name))
                .unwrap()
        })
        .collect();
    for visitor in visitors {
        visitor.join().unwrap();
    }
}

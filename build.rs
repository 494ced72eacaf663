//! One instruction to the linker, for the speed of `Process::start`.
//!
//! A freshly forked child has none of the program's code mapped: each 64 KiB stretch of code
//! it runs for the first time is a page fault, a few µs each (`proclab bench spawn` counts
//! them). The functions a new child runs (`start`'s child side, naming itself, its `start`
//! and `done` events, its way out) are marked `#[unsafe(link_section =
//! ".text.hot.new_child")]`. By default the linker merges every `.text.*` section into
//! `.text` in the order it reads them, so functions from different modules would still land
//! far apart; `-z keep-text-section-prefix` makes it gather all `.text.hot.*` sections in one
//! place, so a new child faults in one stretch for them instead of one per function.

fn main() {
    println!("cargo:rustc-link-arg-bins=-Wl,-z,keep-text-section-prefix");
    println!("cargo:rerun-if-changed=build.rs");
}

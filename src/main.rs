//! `proclab`: parse the command line and hand over; everything else is in the library.

fn main() -> std::process::ExitCode {
    proclab::cli::main()
}

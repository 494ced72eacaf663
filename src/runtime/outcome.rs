//! What a target (of a `Process` or a `Thread`) may return: nothing, or a `Result`, so that the
//! code a child runs can use `?`. An `Err` is what an uncaught exception is in Python: it is
//! reported (an `error` event) and the child ends with exit code 1.

use std::fmt::Display;

/// A target's return value: `()`, or `Result<(), E>` for any error that can be displayed.
pub trait TargetResult {
    /// `Err` with the error's text when the target failed.
    fn into_result(self) -> Result<(), String>;
}

impl TargetResult for () {
    fn into_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: Display> TargetResult for Result<(), E> {
    fn into_result(self) -> Result<(), String> {
        self.map_err(|error| error.to_string())
    }
}

//! Standard output as the views write it: through the lab's `Output` (which never blocks a
//! stop), with `--ascii` applied, and copied into the `--record` recording. Both the line
//! view (`render`) and the full-screen view (`screen`) write through it.

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

use crate::view::output::Output;
use crate::view::record::Recorder;
use crate::view::theme::to_ascii;

/// Standard output (through the lab's `Output`, which never blocks a stop), with `--ascii`
/// applied to everything written; with `--record`, everything written is also handed to the
/// recording, which notes the time it reached standard output (at each flush).
pub struct Out {
    inner: io::BufWriter<Output>,
    ascii: bool,
    /// Shared with the command line, which finishes the recording after the run.
    recording: Option<Rc<RefCell<Recorder>>>,
}

impl Out {
    pub fn new(ascii: bool) -> Out {
        Out {
            inner: io::BufWriter::new(Output::new()),
            ascii,
            recording: None,
        }
    }

    /// `--record`: everything written goes into `recording` too.
    pub fn record_to(&mut self, recording: Rc<RefCell<Recorder>>) {
        self.recording = Some(recording);
    }

    /// A step begins or ends: everything so far is shown, then a marker with `label`.
    pub fn marker(&mut self, label: &str) -> io::Result<()> {
        self.flush()?;
        if let Some(recording) = &self.recording {
            recording.borrow_mut().marker(label);
        }
        Ok(())
    }

    /// Whether this output is recorded (`--record`).
    pub fn recording(&self) -> bool {
        self.recording.is_some()
    }

    /// A prompt has been drawn (and flushed) and waits for the student.
    pub fn prompt_waits(&mut self) {
        if let Some(recording) = &self.recording {
            recording.borrow_mut().prompt_waits();
        }
    }

    /// The prompt was answered; `echo` is what the terminal showed of the answer, which only
    /// the recording needs (the terminal has drawn it already).
    pub fn prompt_answered(&mut self, echo: &str) {
        if let Some(recording) = &self.recording {
            let mut recording = recording.borrow_mut();
            recording.prompt_answered();
            recording.output(echo.as_bytes());
        }
    }
}

impl Write for Out {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        // `write!` hands over whole formatted pieces, so a piece is whole UTF-8.
        match (self.ascii, std::str::from_utf8(bytes)) {
            (true, Ok(text)) => {
                let text = to_ascii(text);
                self.inner.write_all(text.as_bytes())?;
                if let Some(recording) = &self.recording {
                    recording.borrow_mut().output(text.as_bytes());
                }
                Ok(bytes.len())
            }
            _ => {
                let written = self.inner.write(bytes)?;
                if let Some(recording) = &self.recording {
                    recording.borrow_mut().output(&bytes[..written]);
                }
                Ok(written)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()?;
        if let Some(recording) = &self.recording {
            recording.borrow_mut().shown();
        }
        Ok(())
    }
}

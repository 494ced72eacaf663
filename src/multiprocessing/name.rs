//! A process's name and identity (`handler`, `Process-3`, `2:1`), kept inside the value
//! rather than on the heap when short, as they nearly always are.
//!
//! Why it matters: a forking server creates a `Process` for every connection. Every heap page
//! the server writes while a handler still shares it is copied (copy-on-write), and the old
//! copy then belongs to the handler alone: measured with `proclab serve` holding 300
//! connections, the names and identities on the heap were 4 of the 6 heap pages each handler
//! kept for itself (16 KiB of its memory, PSS).

use std::fmt::{self, Write};

/// Names up to this many bytes are kept inline; longer ones on the heap.
const INLINE: usize = 38;

#[derive(Clone)]
pub enum Name {
    Inline { bytes: [u8; INLINE], len: u8 },
    Heap(String),
}

impl Name {
    /// The empty name (usable in a `static`).
    pub const fn empty() -> Name {
        Name::Inline {
            bytes: [0; INLINE],
            len: 0,
        }
    }

    pub fn new(text: &str) -> Name {
        let mut name = Name::empty();
        let _ = name.write_str(text);
        name
    }

    /// `format!` without the heap, for a short result.
    pub fn formatted(args: fmt::Arguments) -> Name {
        let mut name = Name::empty();
        let _ = name.write_fmt(args);
        name
    }

    pub fn as_str(&self) -> &str {
        match self {
            // SAFETY: `write_str` only ever appends whole `&str`s, so the bytes are UTF-8.
            Name::Inline { bytes, len } => unsafe {
                std::str::from_utf8_unchecked(&bytes[..*len as usize])
            },
            Name::Heap(text) => text,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.as_str().is_empty()
    }
}

impl Write for Name {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        if let Name::Inline { bytes, len } = self {
            let at = *len as usize;
            if at + text.len() <= INLINE {
                bytes[at..at + text.len()].copy_from_slice(text.as_bytes());
                *len = (at + text.len()) as u8;
                return Ok(());
            }
            // Too long to keep inline: from now on, on the heap.
            *self = Name::Heap(self.as_str().to_string());
        }
        if let Name::Heap(long) = self {
            long.push_str(text);
        }
        Ok(())
    }
}

impl Default for Name {
    fn default() -> Name {
        Name::empty()
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_stay_inline_and_long_ones_go_to_the_heap_whole() {
        let short = Name::formatted(format_args!("Process-{}:{}", 2, 1));
        assert_eq!(short.as_str(), "Process-2:1");
        assert!(matches!(short, Name::Inline { .. }));
        let long = "a name longer than the inline buffer, with 中文 in it";
        let name = Name::new(long);
        assert_eq!(name.as_str(), long);
        assert!(matches!(name, Name::Heap(_)));
        // A formatted name that outgrows the buffer part way keeps every piece.
        let grown = Name::formatted(format_args!("{}-{}", "x".repeat(30), "y".repeat(30)));
        assert_eq!(
            grown.as_str(),
            format!("{}-{}", "x".repeat(30), "y".repeat(30))
        );
        assert!(Name::empty().is_empty());
    }
}

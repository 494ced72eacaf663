//! The keys of the full-screen view, read from the terminal's bytes. The terminal stays in
//! its own signal mode (Ctrl-C is still SIGINT, which ends the run the usual way), so these
//! are only the keys that move the view or answer a prompt.

/// A key pressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Enter,
    Left,
    Right,
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    Tab,
    Escape,
    Char(char),
}

/// The keys in `bytes` (what one read of the terminal gave). An escape sequence the view does
/// not know is skipped whole.
pub fn parse(bytes: &[u8]) -> Vec<Key> {
    let mut keys = Vec::new();
    let text = String::from_utf8_lossy(bytes);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let key = match c {
            '\r' | '\n' => Key::Enter,
            '\t' => Key::Tab,
            '\x1b' => match chars.peek() {
                Some('[') | Some('O') => {
                    chars.next();
                    // Parameters (digits and ;), then the final character.
                    let mut parameters = String::new();
                    let mut last = None;
                    for c in chars.by_ref() {
                        if c.is_ascii_digit() || c == ';' {
                            parameters.push(c);
                        } else {
                            last = Some(c);
                            break;
                        }
                    }
                    match (last, parameters.as_str()) {
                        (Some('A'), _) => Key::Up,
                        (Some('B'), _) => Key::Down,
                        (Some('C'), _) => Key::Right,
                        (Some('D'), _) => Key::Left,
                        (Some('H'), _) => Key::Home,
                        (Some('F'), _) => Key::End,
                        (Some('~'), "1" | "7") => Key::Home,
                        (Some('~'), "4" | "8") => Key::End,
                        (Some('~'), "5") => Key::PageUp,
                        (Some('~'), "6") => Key::PageDown,
                        _ => continue,
                    }
                }
                _ => Key::Escape,
            },
            c if c.is_control() => continue,
            c => Key::Char(c),
        };
        keys.push(key);
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrows_pages_and_letters_are_read_from_the_bytes() {
        assert_eq!(
            parse(b"\x1b[D\x1b[C\x1b[5~\x1b[6~q\r"),
            [
                Key::Left,
                Key::Right,
                Key::PageUp,
                Key::PageDown,
                Key::Char('q'),
                Key::Enter
            ]
        );
        assert_eq!(parse(b"\x1bOH\x1b[4~\x1b[1;5Z"), [Key::Home, Key::End]);
        assert_eq!(parse(b"\x1b"), [Key::Escape]);
    }
}

//! The colours a run is drawn in (`--theme`): each role's colour, the same in every run; how
//! the lab's own lines look; the pieces of drawn text both views ink; `--ascii`.

use colored::{Color, ColoredString, Colorize};

use crate::view::notes::Ink;
use crate::view::terminal::Screen;

/// Who a process is in the lesson, which decides its colour: the same role has the same
/// colour in every run and every lesson, whatever its pid or parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The `proclab` process itself (the supervisor).
    Lab,
    /// The lesson's main process (主进程).
    Main,
    /// The tutorial's named children.
    Alex,
    Wupeiqi,
    Yuanhao,
    /// Lesson 4 and `proclab serve`: the server, every handler, every other client.
    Server,
    Handler,
    Client,
    /// Anything else: a colour picked from its name, so it too is the same on every run.
    Other(u64),
}

impl Role {
    /// The role of a process named `name` (a thread shares its process's role).
    pub fn of(name: &str) -> Role {
        match name {
            "proclab" => Role::Lab,
            "main" => Role::Main,
            "alex" => Role::Alex,
            "wupeiqi" => Role::Wupeiqi,
            "yuanhao" => Role::Yuanhao,
            "server" => Role::Server,
            _ if name.starts_with("handler") => Role::Handler,
            _ if name.starts_with("client") => Role::Client,
            // FNV-1a: a fixed hash (std's is seeded afresh on every run).
            _ => Role::Other(name.bytes().fold(0xcbf29ce484222325, |hash, byte| {
                (hash ^ byte as u64).wrapping_mul(0x100000001b3)
            })),
        }
    }
}

/// Which colours a run is drawn in (`--theme`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThemeName {
    /// For a dark terminal (the default).
    Dark,
    /// For a light terminal: no yellow, no bright colours on white.
    Light,
    /// For a projector: nothing dimmed, every coloured word bold, no yellow.
    Contrast,
}

/// The colours of a theme, by role, and how the lab's own kinds of line look.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: ThemeName,
    lab: Color,
    main: Color,
    alex: Color,
    wupeiqi: Color,
    yuanhao: Color,
    server: Color,
    handler: Color,
    client: Color,
    others: &'static [Color],
    pub note: Option<Color>,
    pub error: Color,
    code: Color,
    /// Whether lifecycle lines (forked, started, reaped ...) and rules are dimmed. Never in
    /// `contrast`, where dim text vanishes on a projected screen.
    pub dim: bool,
    /// Whether every coloured word is bold (a projector washes thin colours out).
    pub bold: bool,
}

impl Theme {
    pub fn new(name: ThemeName) -> Theme {
        match name {
            ThemeName::Dark => Theme {
                name,
                lab: Color::White,
                main: Color::BrightCyan,
                alex: Color::BrightGreen,
                wupeiqi: Color::BrightMagenta,
                yuanhao: Color::BrightBlue,
                server: Color::Cyan,
                handler: Color::Green,
                client: Color::Magenta,
                others: &[Color::Blue, Color::Cyan, Color::Green, Color::Magenta],
                note: Some(Color::Yellow),
                error: Color::BrightRed,
                code: Color::Cyan,
                dim: true,
                bold: false,
            },
            ThemeName::Light => Theme {
                name,
                lab: Color::Black,
                main: Color::Blue,
                alex: Color::Green,
                wupeiqi: Color::Magenta,
                yuanhao: Color::Cyan,
                server: Color::Blue,
                handler: Color::Green,
                client: Color::Magenta,
                others: &[Color::Blue, Color::Cyan, Color::Green, Color::Magenta],
                note: Some(Color::Red),
                error: Color::Red,
                code: Color::Blue,
                dim: false,
                bold: false,
            },
            ThemeName::Contrast => Theme {
                name,
                lab: Color::White,
                main: Color::BrightCyan,
                alex: Color::BrightGreen,
                wupeiqi: Color::BrightMagenta,
                yuanhao: Color::BrightBlue,
                server: Color::BrightCyan,
                handler: Color::BrightGreen,
                client: Color::BrightMagenta,
                others: &[Color::BrightBlue, Color::BrightCyan, Color::BrightGreen],
                // Notes in the terminal's own text colour, bold: readable on any background.
                note: None,
                error: Color::BrightRed,
                code: Color::BrightCyan,
                dim: false,
                bold: true,
            },
        }
    }

    /// The colour of a role.
    pub fn colour(&self, role: Role) -> Color {
        match role {
            Role::Lab => self.lab,
            Role::Main => self.main,
            Role::Alex => self.alex,
            Role::Wupeiqi => self.wupeiqi,
            Role::Yuanhao => self.yuanhao,
            Role::Server => self.server,
            Role::Handler => self.handler,
            Role::Client => self.client,
            Role::Other(hash) => self.others[(hash % self.others.len() as u64) as usize],
        }
    }

    /// `text` in the colour of the process named `name`.
    pub fn paint(&self, text: &str, name: &str) -> ColoredString {
        let painted = text.color(self.colour(Role::of(name)));
        if self.bold { painted.bold() } else { painted }
    }

    /// The lab's quieter lines (rules, the legend, lifecycle lines): dimmed where the theme
    /// allows it.
    pub fn quiet(&self, text: ColoredString) -> ColoredString {
        if self.dim { text.dimmed() } else { text }
    }

    pub fn note(&self, text: &str) -> ColoredString {
        match self.note {
            Some(colour) => text.color(colour),
            None => text.bold(),
        }
    }

    pub fn ink(&self) -> Ink {
        Ink {
            code: self.code,
            dim_code_blocks: self.dim,
        }
    }
}

/// Replaces what a terminal may draw one or two columns wide (box drawing, `※ · × ≈`, the
/// timeline's blocks: "ambiguous width" in East Asian terminal settings) by plain ASCII, for
/// `--ascii`. CJK text itself is always two columns wide, and stays.
pub fn to_ascii(text: &str) -> std::borrow::Cow<'_, str> {
    if text.is_ascii() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '│' | '├' | '┊' => out.push(if c == '┊' { ':' } else { '|' }),
            '─' | '—' | '–' => out.push('-'),
            '└' => out.push('`'),
            '※' => out.push('*'),
            '·' => out.push('-'),
            '×' => out.push('x'),
            '≈' => out.push('~'),
            '█' => out.push('#'),
            '▒' => out.push('='),
            '▁' => out.push('_'),
            '░' => out.push('.'),
            '…' => out.push_str("..."),
            '→' => out.push_str("->"),
            '≤' => out.push_str("<="),
            '≥' => out.push_str(">="),
            'µ' => out.push('u'),
            '“' | '”' => out.push('"'),
            '‘' | '’' => out.push('\''),
            '\u{a0}' => out.push(' '),
            _ => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// What a piece of drawn text is, which decides how a view colours it: the tree and the
/// timeline are built once as pieces, and each view (the lines, the full screen) inks them.
#[derive(Debug, Clone, PartialEq)]
pub enum Paint {
    Plain,
    Bold,
    /// The lab's quieter text (rules, the legend, endings): dimmed where the theme allows.
    Quiet,
    /// In the colour of the process with this name.
    Process(String),
    /// The same, bold.
    ProcessBold(String),
}

/// A run of text drawn one way.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub text: String,
    pub paint: Paint,
}

impl Piece {
    pub fn new(text: impl Into<String>, paint: Paint) -> Piece {
        Piece {
            text: text.into(),
            paint,
        }
    }
}

/// One drawn line: its pieces, left to right.
pub type Drawn = Vec<Piece>;

/// A drawn line's text without its paint.
pub fn text_of(line: &[Piece]) -> String {
    line.iter().map(|piece| piece.text.as_str()).collect()
}

impl Theme {
    /// A piece in this theme's colours, for the line view.
    pub fn colour_piece(&self, piece: &Piece) -> ColoredString {
        let text = piece.text.as_str();
        match &piece.paint {
            Paint::Plain => text.normal(),
            Paint::Bold => text.bold(),
            Paint::Quiet => self.quiet(text.normal()),
            Paint::Process(name) => self.paint(text, name),
            Paint::ProcessBold(name) => self.paint(text, name).bold(),
        }
    }
}

/// How a human view looks.
#[derive(Debug, Clone)]
pub struct Looks {
    pub screen: Screen,
    pub theme: Theme,
    pub ascii: bool,
    /// Whether the tree and the timeline fold crowds of alike processes or threads (the
    /// default; `--no-fold` draws every one).
    pub fold: bool,
}

impl Looks {
    /// Plain looks for `width` columns, no terminal behind them.
    pub fn plain(width: usize) -> Looks {
        Looks {
            screen: Screen {
                width,
                height: None,
                clear: false,
                end_prompt_lines: true,
            },
            theme: Theme::new(ThemeName::Dark),
            ascii: false,
            fold: true,
        }
    }
}

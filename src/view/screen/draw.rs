//! Draws the full-screen view's state on a screen of any size (a terminal, or a test's
//! `TestBackend`): the title, the page (output and notes, side by side from `SIDE_BY_SIDE`
//! columns), the step's result pinned under it, and the footer that says what Enter does.

use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::runtime::event::Prompt;
use crate::text;
use crate::view::lives::Lives;
use crate::view::notes;
use crate::view::screen::page::Phase;
use crate::view::screen::state::{Half, Showing, State};
use crate::view::screen::{MIN_COLUMNS, MIN_ROWS};
use crate::view::theme::{Paint, Piece, Role, Theme};
use crate::view::timeline::{self, Window};
use crate::view::tree;
use crate::view::wording::clip;

/// From this many columns, notes and output side by side.
pub const SIDE_BY_SIDE: usize = 120;

/// The result pinned under the output takes at most this share of the page's rows.
const RESULT_SHARE: f64 = 0.4;

pub fn draw(frame: &mut Frame, state: &mut State, theme: &Theme) {
    let area = frame.area();
    if (area.width as usize) < MIN_COLUMNS || (area.height as usize) < MIN_ROWS {
        let (columns, rows) = (area.width, area.height);
        let text = text!(
            en: "{columns}x{rows} is too small: make the terminal at least {MIN_COLUMNS}x{MIN_ROWS}",
            zh: "{columns}x{rows} 太小：终端至少要 {MIN_COLUMNS}x{MIN_ROWS}",
        );
        frame.render_widget(Paragraph::new(text), area);
        return;
    }
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(1),
        ])
        .split(area);
    frame.render_widget(title(state, rows[0].width as usize), rows[0]);
    match state.showing {
        Showing::Page => page(frame, state, theme, rows[1]),
        Showing::Tree => tree_view(frame, state, theme, rows[1]),
        Showing::Timeline => timeline_view(frame, state, theme, rows[1]),
        Showing::Keys => keys_view(frame, rows[1]),
    }
    frame.render_widget(footer(state, rows[2].width as usize), rows[2]);
    state.prompt_drawn = state.waiting.is_some();
}

fn title(state: &State, width: usize) -> Paragraph<'static> {
    let page = &state.pages[state.on_screen];
    let steps = state.steps_in_lesson;
    let text = match page.index {
        0 => state.lesson_line.clone(),
        index => {
            let title = &page.title;
            text!(
                en: "Step {index} of {steps}: {title}",
                zh: "第 {index} 步（共 {steps} 步）：{title}",
            )
        }
    };
    let line = notes::pad(&clip(&text, width), width);
    Paragraph::new(line).style(Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD))
}

/// What Enter does now, or why it does nothing; and the keys.
fn footer(state: &State, width: usize) -> Paragraph<'static> {
    let page = &state.pages[state.on_screen];
    let index = page.index;
    let (steps, last) = (state.steps_in_lesson, state.pages.len() - 1);
    let what = if let Some(hint) = &state.hint {
        hint.clone()
    } else if state.ended.is_some() {
        text!(en: "the run is over: q leaves", zh: "运行已结束：按 q 离开")
    } else if !state.at_current() {
        let current = state.pages[last].index;
        text!(
            en: "page {index}: step {current} is the current one (→)",
            zh: "第 {index} 页：当前是第 {current} 步（→）",
        )
    } else {
        match (state.asks(), page.phase) {
            (Some(Prompt::Prediction), _) => {
                text!(en: "type your prediction's number", zh: "输入你预测的序号")
            }
            (Some(Prompt::Enter), Phase::NotRun) if index == 0 => {
                text!(en: "Enter: begin", zh: "Enter：开始")
            }
            (Some(Prompt::Enter), Phase::NotRun) => {
                text!(en: "Enter: run step {index}", zh: "Enter：运行第 {index} 步")
            }
            (Some(Prompt::Enter), _) if (index as usize) < steps => {
                let next = index + 1;
                text!(en: "Enter: step {next}", zh: "Enter：第 {next} 步")
            }
            (Some(Prompt::Enter), _) => text!(en: "Enter: finish", zh: "Enter：结束"),
            (None, _) => text!(
                en: "step {index} is running (keys do not advance it)",
                zh: "第 {index} 步正在运行（按键不会让它前进）",
            ),
        }
    };
    let keys = text!(
        en: " · ←/→ pages · t tree · l timeline · ? keys · q quit",
        zh: " · ←/→ 翻页 · t 进程树 · l 时间线 · ? 按键 · q 退出",
    );
    let line = notes::pad(&clip(&format!("{what}{keys}"), width), width);
    Paragraph::new(line).style(Style::default().add_modifier(Modifier::REVERSED))
}

/// The page: its output and its notes (side by side, or the half chosen), and its result.
fn page(frame: &mut Frame, state: &mut State, theme: &Theme, area: Rect) {
    let width = area.width as usize;
    let result_width = width.saturating_sub(2);
    let result = state.pages[state.on_screen].result(result_width);
    let question = question_lines(state, width);
    let most = ((area.height as f64) * RESULT_SHARE) as usize;
    let pinned = if !question.is_empty() {
        question.len().min(most) + 1
    } else if !result.is_empty() {
        result.len().min(most) + 1
    } else {
        0
    };
    let parts = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Min(1), Constraint::Length(pinned as u16)])
        .split(area);
    let body = parts[0];
    let has_notes = state.notes.is_some() && state.pages[state.on_screen].index > 0;
    if has_notes && width >= SIDE_BY_SIDE {
        let halves = Layout::default()
            .direction(Direction::Horizontal)
            .constraints([Constraint::Percentage(58), Constraint::Percentage(42)])
            .split(body);
        output_half(frame, state, theme, halves[0]);
        notes_half(frame, state, halves[1], true);
    } else if has_notes && state.half == Half::Notes {
        notes_half(frame, state, body, false);
    } else {
        output_half(frame, state, theme, body);
    }
    if pinned > 0 {
        let (heading, lines) = if !question.is_empty() {
            (text!(en: " Predict ", zh: " 预测 "), question)
        } else {
            let page = &state.pages[state.on_screen];
            let index = page.index;
            let heading = match page.phase {
                Phase::Ended => text!(en: " Result of step {index} ", zh: " 第 {index} 步的结果 "),
                // Before the step's end, only the prediction is pinned.
                _ => text!(en: " Your prediction ", zh: " 你的预测 "),
            };
            (heading, result)
        };
        let block = Block::default().borders(Borders::TOP).title(heading);
        let shown: Vec<Line> = lines.iter().map(|row| ink_row(row, theme)).collect();
        frame.render_widget(Clear, parts[1]);
        frame.render_widget(Paragraph::new(shown).block(block), parts[1]);
    }
}

/// The question of `--predict` now waiting for its answer, and its choices.
fn question_lines(state: &State, width: usize) -> Vec<Vec<Piece>> {
    let Some((_, question, choices)) = &state.question else {
        return Vec::new();
    };
    if state.asks() != Some(Prompt::Prediction) || !state.at_current() {
        return Vec::new();
    }
    let mut lines: Vec<Vec<Piece>> = notes::plain_lines(question, width.max(20))
        .into_iter()
        .map(|line| vec![Piece::new(line, Paint::Bold)])
        .collect();
    for (i, choice) in choices.iter().enumerate() {
        let text = format!("  {}) {choice}", i + 1);
        lines.extend(
            notes::plain_lines(&text, width.max(20))
                .into_iter()
                .map(|line| vec![Piece::new(line, Paint::Plain)]),
        );
    }
    lines
}

fn output_half(frame: &mut Frame, state: &mut State, theme: &Theme, area: Rect) {
    let width = area.width as usize;
    let rows = state.pages[state.on_screen].output(width, &state.filter);
    // Output taller than its half ends in a line that says where the view is in it: the
    // teacher sees there is more, and where.
    let total = rows.len();
    let scrolls = total > area.height as usize;
    let height = (area.height as usize).saturating_sub(usize::from(scrolls));
    state.output_rows = height;
    let bottom = rows.len().saturating_sub(height);
    state.output_tail_top = bottom;
    let top = match state.output_scroll {
        None => bottom,
        Some(at) => at.min(bottom),
    };
    if state.output_scroll.is_some_and(|at| at >= bottom) {
        // Scrolled back to the tail: follow it again.
        state.output_scroll = None;
    } else if let Some(at) = state.output_scroll.as_mut() {
        *at = top;
    }
    let mut shown: Vec<Line> = rows[top..]
        .iter()
        .take(height)
        .map(|row| ink_row(row, theme))
        .collect();
    if let Some(only) = &state.filter.only
        && let Some(first) = shown.first_mut()
        && top == 0
    {
        first.spans.insert(0, Span::raw(format!("[{only}] ")));
    }
    if scrolls {
        let (first, last) = (top + 1, (top + height).min(total));
        let place = text!(
            en: "lines {first}–{last} of {total} · ↑ ↓ PgUp PgDn Home End",
            zh: "第 {first}–{last} 行，共 {total} 行 · ↑ ↓ PgUp PgDn Home End",
        );
        shown.push(Line::styled(
            clip(&place, width),
            style_of(&Paint::Quiet, theme).add_modifier(Modifier::ITALIC),
        ));
    }
    frame.render_widget(Paragraph::new(shown), area);
}

fn notes_half(frame: &mut Frame, state: &mut State, area: Rect, beside: bool) {
    let inner = if beside {
        Rect {
            x: area.x + 2,
            width: area.width.saturating_sub(2),
            ..area
        }
    } else {
        area
    };
    let lines = state.notes_of_page(inner.width as usize);
    let bottom = lines.len().saturating_sub(inner.height as usize);
    state.notes_scroll = state.notes_scroll.min(bottom);
    let shown: Vec<Line> = lines
        .iter()
        .skip(state.notes_scroll)
        .map(|line| Line::raw(line.clone()))
        .collect();
    if beside {
        let bar = Block::default().borders(Borders::LEFT);
        frame.render_widget(bar, area);
    }
    frame.render_widget(Paragraph::new(shown), inner);
}

fn tree_view(frame: &mut Frame, state: &mut State, theme: &Theme, area: Rect) {
    let lives = Lives::from_events(&state.history);
    let lines = tree::tree(&lives, area.width as usize, true);
    scrolled(frame, state, theme, area, &lines);
}

fn timeline_view(frame: &mut Frame, state: &mut State, theme: &Theme, area: Rect) {
    let lives = Lives::from_events(&state.history);
    let width = area.width as usize;
    let page = &state.pages[state.on_screen];
    let window = match (state.whole_run, page.events.last()) {
        (false, Some(last)) if page.index > 0 => Window {
            from: page.ran_from.unwrap_or(page.began),
            until: last.t.max(page.ran_from.unwrap_or(page.began) + 0.001),
            zoom: state.zoom.factor,
            pan: state.zoom.from_column,
        },
        _ => Window {
            from: 0.0,
            until: lives_end(&state.history),
            zoom: state.zoom.factor,
            pan: state.zoom.from_column,
        },
    };
    // Folding follows the screen: crowds are folded only when their lanes would not fit.
    let unfolded = timeline::timeline_in(&lives, width, false, Some(window));
    let lines = if unfolded.len() <= area.height as usize {
        unfolded
    } else {
        timeline::timeline_in(&lives, width, true, Some(window))
    };
    scrolled(frame, state, theme, area, &lines);
}

fn lives_end(history: &[crate::runtime::event::Event]) -> f64 {
    history.iter().map(|e| e.t).fold(0.001, f64::max)
}

fn scrolled(frame: &mut Frame, state: &mut State, theme: &Theme, area: Rect, lines: &[Vec<Piece>]) {
    let bottom = lines.len().saturating_sub(area.height as usize);
    state.view_scroll = state.view_scroll.min(bottom);
    let shown: Vec<Line> = lines
        .iter()
        .skip(state.view_scroll)
        .map(|row| ink_row(row, theme))
        .collect();
    frame.render_widget(Paragraph::new(shown), area);
}

/// Every key, for `?`.
pub fn keys_text() -> Vec<String> {
    let text = text!(
        en: "Enter        run the step, or go on after it (only at the current step's prompt)\n\
             ← → p n      earlier and later pages (nothing runs)\n\
             ↑ ↓ PgUp PgDn Home End   scroll\n\
             Tab          notes or output (under 120 columns)\n\
             a            every line, crowds' lives too (again: the story)\n\
             f            one lane's lines after another (then all again)\n\
             t  l         the tree, the timeline (again, or Esc: the page)\n\
             w            tree and timeline of the whole run, or of the step\n\
             + -          timeline: zoom in, out;  ← →: earlier, later\n\
             1-9          your prediction, when asked\n\
             q            quit (Ctrl-C too); the summary stays on the screen after\n\
             ?            this list (any key closes it)",
        zh: "Enter        运行这一步，或在它之后继续（只在当前这一步的提示处）\n\
             ← → p n      前面、后面的页（不会运行任何东西）\n\
             ↑ ↓ PgUp PgDn Home End   滚动\n\
             Tab          笔记或输出（不到 120 列时）\n\
             a            显示每一行，包括一群进程的生命周期（再按：只看要点）\n\
             f            逐个只看一条泳道的行（最后回到全部）\n\
             t  l         进程树、时间线（再按或 Esc：回到页面）\n\
             w            整次运行或这一步的进程树和时间线\n\
             + -          时间线：放大、缩小；← →：更早、更晚\n\
             1-9          被提问时，你的预测\n\
             q            退出（Ctrl-C 也可以）；之后总结留在屏幕上\n\
             ?            这个列表（按任意键关闭）",
    );
    text.lines().map(str::to_string).collect()
}

fn keys_view(frame: &mut Frame, area: Rect) {
    let lines: Vec<Line> = keys_text().into_iter().map(Line::raw).collect();
    frame.render_widget(Paragraph::new(lines), area);
}

/// A row of pieces in the theme's colours.
fn ink_row(row: &[Piece], theme: &Theme) -> Line<'static> {
    Line::from(
        row.iter()
            .map(|piece| Span::styled(piece.text.clone(), style_of(&piece.paint, theme)))
            .collect::<Vec<_>>(),
    )
}

fn style_of(paint: &Paint, theme: &Theme) -> Style {
    let quiet = || match theme.dim {
        true => Style::default().add_modifier(Modifier::DIM),
        false => Style::default(),
    };
    let bold = |style: Style| match theme.bold {
        true => style.add_modifier(Modifier::BOLD),
        false => style,
    };
    match paint {
        Paint::Plain => Style::default(),
        Paint::Bold => Style::default().add_modifier(Modifier::BOLD),
        Paint::Quiet => quiet(),
        Paint::Process(name) => bold(Style::default().fg(colour(theme.colour(Role::of(name))))),
        Paint::ProcessBold(name) => Style::default()
            .fg(colour(theme.colour(Role::of(name))))
            .add_modifier(Modifier::BOLD),
    }
}

/// A colour of the line view's theme, for ratatui.
fn colour(colour: colored::Color) -> Color {
    use colored::Color as C;
    match colour {
        C::Black => Color::Black,
        C::Red => Color::Red,
        C::Green => Color::Green,
        C::Yellow => Color::Yellow,
        C::Blue => Color::Blue,
        C::Magenta => Color::Magenta,
        C::Cyan => Color::Cyan,
        C::White => Color::Gray,
        C::BrightBlack => Color::DarkGray,
        C::BrightRed => Color::LightRed,
        C::BrightGreen => Color::LightGreen,
        C::BrightYellow => Color::LightYellow,
        C::BrightBlue => Color::LightBlue,
        C::BrightMagenta => Color::LightMagenta,
        C::BrightCyan => Color::LightCyan,
        C::BrightWhite => Color::White,
        C::TrueColor { r, g, b } => Color::Rgb(r, g, b),
        C::AnsiColor(n) => Color::Indexed(n),
    }
}

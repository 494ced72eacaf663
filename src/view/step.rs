//! The step page of a `--step` run: which step, its title, its notes cut into pages that fit
//! the screen, and what its prompt says.

use crate::i18n::{self, Lang};
use crate::text;
use crate::view::notes::{self, Notes};
use crate::view::theme::Looks;
use crate::view::wording::{clip, clip_with_ellipsis};

/// Rows a notes page leaves free: the lesson's line, the step's title, a blank line, the
/// prompt, and one spare for a line another process prints while the prompt waits.
const ROWS_AROUND_NOTES: usize = 5;

/// A screen never gets fewer rows of notes than this, however small the terminal.
const MIN_NOTES_ROWS: usize = 6;

/// Where a `--step` lesson is, as the view follows it.
#[derive(Debug, Default)]
pub struct StepState {
    pub index: u32,
    pub title: String,
    /// The step's notes, cut into pages that fit the screen, and the page on screen.
    pub pages: Vec<Vec<String>>,
    pub page: usize,
    /// Whether the step has been run (its run prompt answered).
    pub ran: bool,
}

/// Step `index`'s notes (from 1), rendered and cut into pages of what fits under its title.
pub fn pages_of(notes: Option<&Notes>, index: usize, looks: &Looks) -> Vec<Vec<String>> {
    let lines = match notes.and_then(|n| n.sections.get(index - 1)) {
        Some(section) => {
            notes::render_lines(&section.body, looks.screen.width, "  │ ", looks.theme.ink())
        }
        None => Vec::new(),
    };
    let rows = match looks.screen.height {
        Some(height) => height.saturating_sub(ROWS_AROUND_NOTES).max(MIN_NOTES_ROWS),
        None => usize::MAX,
    };
    if lines.is_empty() {
        return vec![Vec::new()];
    }
    lines.chunks(rows).map(<[String]>::to_vec).collect()
}

impl StepState {
    /// The step's heading, `── Step 2 of 5: title `, cut to `width`.
    pub fn heading(&self, steps: usize, width: usize) -> String {
        let continued = match (self.page > 0, i18n::current()) {
            (false, _) => "",
            (true, Lang::En) => " (continued)",
            (true, Lang::Zh) => "（续）",
        };
        let (index, title) = (self.index, &self.title);
        clip(
            &text!(
                en: "── Step {index} of {steps}: {title}{continued} ",
                zh: "── 第 {index} 步（共 {steps} 步）：{title}{continued} ",
            ),
            width,
        )
    }

    /// What the prompt says: for the next page of notes, to run the step, or (after its
    /// output) to move on. Every prompt names its step, so that the step and the prompt are on
    /// the screen together whatever has scrolled.
    pub fn prompt(&self, steps: usize, width: usize) -> String {
        let pages = self.pages.len();
        let index = self.index;
        let (lead, keys) = if self.ran {
            let next = if (index as usize) < steps {
                let next = index + 1;
                text!(en: "step {next}", zh: "第 {next} 步")
            } else {
                text!(en: "tree and timeline", zh: "进程树和时间线")
            };
            (
                text!(en: "End of step {index} of {steps}", zh: "第 {index}/{steps} 步结束"),
                text!(en: ". Enter: {next}; q: quit ", zh: "。Enter：{next}；q：退出 "),
            )
        } else if self.page + 1 < pages {
            let page = self.page + 2;
            (
                text!(en: "Step {index} of {steps}", zh: "第 {index}/{steps} 步"),
                text!(
                    en: ". Enter: more notes (page {page} of {pages}); q: quit ",
                    zh: "。Enter：下一页笔记（{page}/{pages}）；q：退出 ",
                ),
            )
        } else {
            (
                text!(en: "Step {index} of {steps}", zh: "第 {index}/{steps} 步"),
                text!(
                    en: ". Press Enter to run it (q and Enter to quit) ",
                    zh: "。按 Enter 运行（q 加 Enter 退出） ",
                ),
            )
        };
        // The keys are the point of a prompt: the title gives way first, then the words.
        let room = width.saturating_sub(1);
        let title_room =
            room.saturating_sub(notes::display_width(&lead) + notes::display_width(&keys) + 3);
        if title_room >= 8 {
            let title = clip_with_ellipsis(&self.title, title_room);
            text!(en: "{lead} ({title}){keys}", zh: "{lead}（{title}）{keys}")
        } else if notes::display_width(&lead) + notes::display_width(&keys) <= room {
            format!("{lead}{keys}")
        } else {
            clip(&self.short_prompt(steps), room)
        }
    }

    /// The prompt in the fewest words, for a narrow terminal (40 columns).
    fn short_prompt(&self, steps: usize) -> String {
        let index = self.index;
        if self.ran && (index as usize) < steps {
            let next = index + 1;
            text!(
                en: "{index}/{steps} done. Enter: step {next}; q quits ",
                zh: "第 {index}/{steps} 步结束。Enter：第 {next} 步 ",
            )
        } else if self.ran {
            text!(
                en: "{index}/{steps} done. Enter: tree, timeline ",
                zh: "第 {index}/{steps} 步结束。Enter：进程树 ",
            )
        } else if self.page + 1 < self.pages.len() {
            text!(
                en: "Step {index}/{steps}. Enter: more notes ",
                zh: "第 {index}/{steps} 步。Enter：下一页 ",
            )
        } else {
            text!(
                en: "Step {index}/{steps}. Enter: run it; q quits ",
                zh: "第 {index}/{steps} 步。Enter：运行；q 退出 ",
            )
        }
    }
}

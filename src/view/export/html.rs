//! The page to explore: one HTML file that holds everything it needs (its style, its script,
//! the run's data), opens from disk in any browser, and never touches the network.
//!
//! It draws the same picture as the SVG (the tree beside the timeline, the same spans, forks,
//! steps and cut pauses), and lets a student explore it:
//! - hover or tap a span: what the actor was doing, from when to when, and its events then
//!   (its `say` lines, notes, forks, waits ...); a lane's name: all of its events;
//! - zoom with the wheel, the buttons, or a step's title, down to a millisecond of work, and
//!   drag to move along;
//! - filter the lanes by name, pid or tid, and hide threads;
//! - each step's notes (the lesson's `notes.md` section, and this run's own notes) beside it.
//!
//! The data goes in as JSON inside a `<script type="application/json">` element, and the
//! script draws from it; the drawing is plain SVG markup put into the page.

use pulldown_cmark::{CodeBlockKind, Event as Md, Parser, Tag, TagEnd};
use serde_json::{Value, json};

use crate::i18n;
use crate::lessons;
use crate::runtime::event::Kind;
use crate::text;
use crate::view::export::{
    Background, FONTS, Legend, Palette, Run, doing_label, escape, time_label,
};
use crate::view::lives::{Doing, Sort};
use crate::view::notes::Notes;
use crate::view::wording::lifecycle_text;

pub fn page(run: &Run, background: Background) -> String {
    let palette = Palette::new(background);
    let data = serde_json::to_string(&data(run, &palette))
        .expect("the page's data always serializes")
        // Inside a <script> element, `</` could close it.
        .replace("</", "<\\/");
    let words = Legend::new();
    let whole = text!(en: "Whole run", zh: "整个运行");
    let filter = text!(en: "Filter lanes: name, pid or tid", zh: "筛选：名字、pid 或 tid");
    let threads = text!(en: "threads", zh: "线程");
    let hint = text!(
        en: "Hover or tap a span to see its events; wheel or + − to zoom, drag to move; a \
             step's title zooms to it.",
        zh: "把鼠标放在（或点一下）一段上，看它的事件；滚轮或 + − 缩放，拖动平移；点步骤标题就放大到那一步。",
    );
    let steps_title = text!(en: "Steps and their notes", zh: "各步骤及其笔记");
    let lang = i18n::current().code();
    let swatch = |class: &str, text: &str| {
        format!(
            "<span class=\"key\"><span class=\"sw {class}\"></span>{}</span>",
            escape(text)
        )
    };
    let legend = [
        swatch("running", &words.running),
        swatch("waiting", &words.waiting),
        swatch("ended", &words.ended),
        swatch("pause", &words.pause),
        swatch("fork", &words.fork),
        swatch("thread", &words.thread),
    ]
    .join("");
    format!(
        r#"<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
:root {{ --bg: {bg}; --text: {text}; --quiet: {quiet}; --band: {band}; }}
* {{ box-sizing: border-box; }}
body {{ margin: 0; background: var(--bg); color: var(--text); font-family: {fonts}; font-size: 14px; }}
header {{ padding: 12px 20px 4px; }}
h1 {{ font-size: 20px; margin: 0 0 4px; }}
.sub {{ color: var(--quiet); font-size: 13px; }}
#controls {{ display: flex; flex-wrap: wrap; gap: 8px; align-items: center; padding: 6px 20px; }}
button {{ font: inherit; color: var(--text); background: var(--band); border: 1px solid var(--quiet); border-radius: 4px; padding: 2px 10px; cursor: pointer; }}
input[type=search] {{ font: inherit; color: var(--text); background: var(--bg); border: 1px solid var(--quiet); border-radius: 4px; padding: 2px 6px; width: 16em; }}
#window {{ color: var(--quiet); font-size: 13px; }}
#main {{ display: flex; align-items: flex-start; gap: 12px; padding: 0 12px 12px 20px; }}
#chart {{ flex: 1 1 auto; min-width: 0; overflow: hidden; cursor: grab; user-select: none; touch-action: pan-y; }}
#chart.dragging {{ cursor: grabbing; }}
aside {{ flex: 0 0 360px; max-height: 100vh; overflow-y: auto; position: sticky; top: 0; font-size: 13px; }}
#details {{ border: 1px solid var(--quiet); border-radius: 6px; padding: 8px 10px; margin-bottom: 10px; min-height: 4em; }}
#details h3 {{ font-size: 14px; margin: 0 0 4px; }}
aside ol {{ margin: 4px 0 0; padding-left: 0; list-style: none; }}
aside li {{ margin: 2px 0; }}
.t {{ color: var(--quiet); font-variant-numeric: tabular-nums; margin-right: 6px; }}
.step {{ border-top: 1px solid var(--band); padding: 6px 0; }}
.step h3 {{ font-size: 14px; margin: 0; }}
.step h3 button {{ text-align: left; width: 100%; }}
.step.current h3 button {{ outline: 2px solid var(--quiet); }}
.notes p, .notes li {{ line-height: 1.45; }}
.notes pre {{ background: var(--band); padding: 6px; overflow-x: auto; font-size: 12px; }}
.notes code {{ font-size: 12px; }}
.ran {{ color: var(--quiet); }}
#legend {{ padding: 4px 20px 16px; display: flex; flex-wrap: wrap; gap: 6px 22px; font-size: 13px; }}
.key {{ display: inline-flex; align-items: center; gap: 6px; }}
.sw {{ display: inline-block; width: 26px; height: 14px; }}
.sw.running {{ background: var(--quiet); }}
.sw.waiting {{ background: repeating-linear-gradient(45deg, var(--quiet) 0 2px, transparent 2px 6px); border: 1px solid var(--quiet); }}
.sw.ended {{ border: 1px dashed var(--quiet); }}
.sw.pause {{ border-left: 1px dashed var(--quiet); border-right: 1px dashed var(--quiet); width: 12px; }}
.sw.fork {{ height: 0; border-top: 2px solid var(--quiet); }}
.sw.thread {{ height: 0; border-top: 2px dashed var(--quiet); }}
svg text {{ font-family: {fonts}; }}
.span:hover, .span.picked {{ stroke: var(--text); stroke-width: 2px; }}
.lane-label {{ cursor: pointer; }}
@media (max-width: 900px) {{ #main {{ flex-direction: column; }} aside {{ flex: none; width: 100%; max-height: none; position: static; }} }}
</style>
</head>
<body>
<header><h1>{title}</h1><div class="sub">{subtitle}</div></header>
<div id="controls">
<button id="whole">{whole}</button><button id="out" aria-label="zoom out">−</button><button id="in" aria-label="zoom in">+</button>
<span id="window"></span>
<input type="search" id="filter" placeholder="{filter}" aria-label="{filter}">
<label><input type="checkbox" id="threads" checked> {threads}</label>
</div>
<div id="main">
<div id="chart"></div>
<aside><div id="details">{hint}</div><h2 style="font-size:15px;margin:6px 0">{steps_title}</h2><div id="steps"></div></aside>
</div>
<div id="legend">{legend}</div>
<script type="application/json" id="run-data">{data}</script>
<script>
{script}
</script>
</body>
</html>
"#,
        title = escape(&run.title),
        subtitle = escape(&run.subtitle()),
        bg = palette.background,
        text = palette.text,
        quiet = palette.quiet,
        band = palette.band,
        fonts = FONTS,
        whole = escape(&whole),
        filter = escape(&filter),
        threads = escape(&threads),
        hint = escape(&hint),
        steps_title = escape(&steps_title),
        script = SCRIPT,
    )
}

/// What the script draws from.
fn data(run: &Run, palette: &Palette) -> Value {
    let axis = &run.axis;
    let events_by_lane = run.events_by_lane();
    let lanes: Vec<Value> = run
        .lanes
        .iter()
        .zip(&events_by_lane)
        .map(|(lane, said)| {
            let spans: Vec<Value> = lane
                .spans
                .iter()
                .map(|span| {
                    let (kind, on) = match &span.doing {
                        Doing::Running => (0, String::new()),
                        Doing::Waiting { on, .. } => (1, on.clone()),
                        Doing::Ended => (2, String::new()),
                    };
                    json!([
                        axis.at(span.from),
                        axis.at(span.until),
                        span.from,
                        span.until,
                        kind,
                        on,
                        doing_label(&span.doing, lane.sort)
                    ])
                })
                .collect();
            let events: Vec<Value> = said
                .iter()
                .filter_map(|event| {
                    let said = match &event.kind {
                        Kind::Say { text } => text.clone(),
                        Kind::Note { text } => format!("※ {text}"),
                        Kind::Error { text } => format!("✗ {text}"),
                        Kind::Spawn { .. }
                        | Kind::Exec { .. }
                        | Kind::Start
                        | Kind::Done { .. }
                        | Kind::Exit { .. }
                        | Kind::Wait { .. }
                        | Kind::Woke { .. }
                        | Kind::State { .. } => lifecycle_text(event),
                        // The run's own frame (lesson, steps, prompts, predictions, the end):
                        // shown beside the steps or not at all.
                        Kind::Lesson { .. }
                        | Kind::Trace { .. }
                        | Kind::Step { .. }
                        | Kind::Pause { .. }
                        | Kind::End { .. }
                        | Kind::Question { .. }
                        | Kind::Answer { .. }
                        | Kind::Predict { .. }
                        | Kind::Outcome { .. }
                        | Kind::Summary { .. } => return None,
                        // Drawn as the span it is (asleep), not as a line.
                        Kind::Sleep { .. } => return None,
                    };
                    (!said.is_empty()).then(|| json!([event.t, said]))
                })
                .collect();
            let label = lane.label();
            let name_end = label.find(" · ").unwrap_or(label.len());
            json!({
                "label": label,
                "name": &label[..name_end],
                "ids": &label[name_end..],
                "depth": lane.depth,
                "colour": palette.of_process(&lane.process_name),
                "process": lane.sort == Sort::Process,
                "spans": spans,
                "events": events,
            })
        })
        .collect();
    let forks: Vec<Value> = run
        .forks
        .iter()
        .map(|fork| {
            json!([
                fork.parent,
                fork.child,
                axis.at(fork.at),
                axis.at(fork.started),
                fork.is_thread
            ])
        })
        .collect();
    let notes = run
        .lesson_number
        .and_then(|number| lessons::find(&number.to_string()).ok())
        .map(|lesson| Notes::parse(lesson.notes.get()));
    let steps: Vec<Value> = run
        .steps
        .iter()
        .map(|step| {
            let section = notes
                .as_ref()
                .and_then(|notes| notes.sections.get((step.index as usize).checked_sub(1)?));
            let ran: Vec<Value> = run
                .events
                .iter()
                .filter(|event| event.t >= step.from.min(step_said(run, step)))
                .filter(|event| event.t < step.until)
                .filter_map(|event| match &event.kind {
                    Kind::Note { text } => Some(json!([event.t, text])),
                    _ => None,
                })
                .collect();
            json!({
                "index": step.index,
                "title": step.title,
                "at": axis.at(step.from),
                "to": axis.at(step.until),
                "notes": section.map_or(String::new(), |section| markdown(&section.body)),
                "ran": ran,
            })
        })
        .collect();
    let segments: Vec<Value> = axis
        .segments
        .iter()
        .map(|s| json!([s.at, s.to, s.from, s.until, s.is_pause]))
        .collect();
    let words = Legend::new();
    json!({
        "length": axis.length,
        "lanes": lanes,
        "forks": forks,
        "steps": steps,
        "segments": segments,
        "words": {
            "step": text!(en: "Step", zh: "第"),
            "stepAfter": text!(en: "", zh: " 步"),
            "noEvents": text!(en: "No events of its own in this span.", zh: "这一段里它自己没有事件。"),
            "allEvents": text!(en: "All its events", zh: "它的全部事件"),
            "shown": text!(en: "shown:", zh: "显示："),
            "ofWork": text!(en: "of work", zh: "的工作"),
            "pause": words.pause,
            "ranNotes": text!(en: "This run's notes", zh: "这次运行的笔记"),
            "zeroTime": time_label(0.0, 1.0),
        },
    })
}

/// When a step's `step` event was said: its band may begin later, after its prompt; the
/// notes said between belong to it.
fn step_said(run: &Run, step: &crate::view::export::Step) -> f64 {
    run.events
        .iter()
        .find_map(|event| match &event.kind {
            Kind::Step { index, .. } if *index == step.index && event.t <= step.from => {
                Some(event.t)
            }
            _ => None,
        })
        .unwrap_or(step.from)
}

/// A lesson's Markdown notes as HTML: paragraphs, lists, emphasis, code. A link keeps its
/// words only: the page leads nowhere outside itself.
fn markdown(text: &str) -> String {
    let mut html = String::new();
    for event in Parser::new(text) {
        match event {
            Md::Start(tag) => html.push_str(match tag {
                Tag::Paragraph => "<p>",
                Tag::Heading { .. } => "<h4>",
                Tag::BlockQuote(_) => "<blockquote>",
                Tag::CodeBlock(CodeBlockKind::Fenced(_) | CodeBlockKind::Indented) => "<pre><code>",
                Tag::List(Some(_)) => "<ol>",
                Tag::List(None) => "<ul>",
                Tag::Item => "<li>",
                Tag::Emphasis => "<em>",
                Tag::Strong => "<strong>",
                Tag::Strikethrough => "<s>",
                _ => "",
            }),
            Md::End(tag) => html.push_str(match tag {
                TagEnd::Paragraph => "</p>\n",
                TagEnd::Heading(_) => "</h4>\n",
                TagEnd::BlockQuote(_) => "</blockquote>\n",
                TagEnd::CodeBlock => "</code></pre>\n",
                TagEnd::List(true) => "</ol>\n",
                TagEnd::List(false) => "</ul>\n",
                TagEnd::Item => "</li>\n",
                TagEnd::Emphasis => "</em>",
                TagEnd::Strong => "</strong>",
                TagEnd::Strikethrough => "</s>",
                _ => "",
            }),
            Md::Text(text) | Md::Html(text) | Md::InlineHtml(text) => html.push_str(&escape(&text)),
            Md::Code(code) => html.push_str(&format!("<code>{}</code>", escape(&code))),
            Md::SoftBreak => html.push(' '),
            Md::HardBreak => html.push_str("<br>"),
            Md::Rule => html.push_str("<hr>"),
            _ => {}
        }
    }
    html
}

/// The page's script: draws the lanes from the data, and answers the pointer and the controls.
/// (Comments in it are block comments, so the page holds no `//` at all.)
const SCRIPT: &str = include_str!("page.js");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_become_html_and_a_link_keeps_only_its_words() {
        let html = markdown("A *child* runs `fork()`.\n\n- one\n- [two](https://example.org)\n");
        assert_eq!(
            html,
            "<p>A <em>child</em> runs <code>fork()</code>.</p>\n<ul><li>one</li>\n<li>two</li>\n</ul>\n"
        );
    }
}

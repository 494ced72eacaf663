//! The process tree and the timeline as one SVG picture, for a slide or a handout.
//!
//! Left, the tree: every process and thread on a row of its own, indented under the process
//! that forked or started it, with its name, pid (or tid) and parent. Right, the timeline:
//! the same rows as lanes, each span of the actor's life drawn as the terminal draws it
//! (running solid, waiting hatched and named, ended-but-not-reaped pale and dashed), fork
//! arrows from parent to child, the steps as labelled bands, pauses at prompts cut out to a
//! narrow gap, and a time axis in real units. Everything is sized for a 1280-pixel-wide
//! slide, where no text is smaller than 12 pixels.

use std::fmt::Write;

use crate::text;
use crate::view::export::{
    Background, FONTS, Legend, Palette, Run, doing_label, escape, fit, seconds, text_width,
    time_label,
};
use crate::view::lives::Doing;

/// The sizes of a picture, in pixels.
pub struct Layout {
    pub width: f64,
    pub margin: f64,
    /// The height of a lane, and of the bar drawn in it.
    pub lane: f64,
    pub bar: f64,
    /// Labels of lanes and steps; the smallest text (axis, names inside bars).
    pub font: f64,
    pub small: f64,
}

impl Layout {
    /// For a 1280-pixel slide: nothing under 12 pixels.
    pub fn slide() -> Layout {
        Layout {
            width: 1280.0,
            margin: 20.0,
            lane: 24.0,
            bar: 16.0,
            font: 14.0,
            small: 12.0,
        }
    }
}

/// Where the parts of the picture are: the tree's column, the timeline's, the rows.
struct Frame {
    label_width: f64,
    left: f64,
    right: f64,
    /// The top of the step labels, of the axis labels, of the first lane.
    steps_y: f64,
    axis_y: f64,
    lanes_y: f64,
    scale: f64,
}

impl Frame {
    fn x(&self, at: f64) -> f64 {
        self.left + at * self.scale
    }
}

/// A child more lanes than this below its parent gets a short arrow into its lane instead of
/// one all the way from the parent's.
pub const FAR_CHILD: usize = 8;

/// How far in a level of the tree is indented.
const INDENT: f64 = 16.0;

pub fn draw(run: &Run, background: Background, layout: &Layout) -> String {
    let palette = Palette::new(background);
    let labels: Vec<String> = run.lanes.iter().map(|lane| lane.label()).collect();
    let widest = run
        .lanes
        .iter()
        .zip(&labels)
        .map(|(lane, label)| lane.depth as f64 * INDENT + text_width(label, layout.font))
        .fold(160.0, f64::max);
    // A little more than the estimate of the widest: a real font is never quite the estimate.
    let label_width = (widest * 1.04 + 6.0).min(layout.width * 0.42);
    let left = layout.margin + label_width + 14.0;
    let right = layout.width - layout.margin;
    let frame = Frame {
        label_width,
        left,
        right,
        steps_y: 102.0,
        axis_y: 126.0,
        lanes_y: 138.0,
        scale: (right - left) / run.axis.length,
    };
    let lanes_bottom = frame.lanes_y + run.lanes.len() as f64 * layout.lane;
    let legend_y = lanes_bottom + 30.0;
    let has_threads = run.forks.iter().any(|fork| fork.is_thread);
    let shows = Shows {
        pauses: run.axis.pauses() > 0,
        threads: has_threads,
    };
    let (legend, legend_height) = legend(&palette, layout, legend_y, &shows);
    let height = (legend_y + legend_height + layout.margin).ceil();

    let mut svg = String::with_capacity(4096 + run.lanes.len() * 600);
    let width = layout.width;
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"{fonts}\" font-size=\"{font}\">",
        fonts = escape(FONTS),
        font = layout.font,
    );
    let _ = writeln!(svg, "<title>{}</title>", escape(&run.title));
    svg.push_str(&defs(run, &palette));
    let _ = writeln!(
        svg,
        "<rect width=\"100%\" height=\"100%\" fill=\"{}\"/>",
        palette.background
    );
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"34\" font-size=\"20\" font-weight=\"bold\" fill=\"{}\">{}</text>",
        layout.margin,
        palette.text,
        escape(&fit(&run.title, 20.0, width - 2.0 * layout.margin))
    );
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"58\" font-size=\"13\" fill=\"{}\">{}</text>",
        layout.margin,
        palette.quiet,
        escape(&fit(&run.subtitle(), 13.0, width - 2.0 * layout.margin))
    );
    steps(&mut svg, run, &frame, &palette, layout, lanes_bottom);
    axis(&mut svg, run, &frame, &palette, layout, lanes_bottom);
    tree(&mut svg, run, &frame, &palette, layout, &labels);
    lanes(&mut svg, run, &frame, &palette, layout);
    forks(&mut svg, run, &frame, &palette, layout);
    pauses(&mut svg, run, &frame, &palette, lanes_bottom);
    svg.push_str(&legend);
    svg.push_str("</svg>\n");
    svg
}

/// The patterns of waiting (a hatch in each process's colour) and the arrow heads.
fn defs(run: &Run, palette: &Palette) -> String {
    let mut colours: Vec<&str> = run
        .lanes
        .iter()
        .map(|lane| palette.of_process(&lane.process_name))
        .collect();
    colours.push(palette.quiet);
    colours.sort_unstable();
    colours.dedup();
    let mut defs = String::from("<defs>\n");
    for colour in colours {
        let id = &colour[1..];
        let _ = writeln!(
            defs,
            "<pattern id=\"wait-{id}\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" \
             patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"{colour}\" \
             fill-opacity=\"0.28\"/><rect width=\"2\" height=\"6\" fill=\"{colour}\" \
             fill-opacity=\"0.85\"/></pattern>\n\
             <marker id=\"arrow-{id}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" \
             markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">\
             <path d=\"M0,0 L10,5 L0,10 z\" fill=\"{colour}\"/></marker>"
        );
    }
    defs.push_str("</defs>\n");
    defs
}

/// The steps: a band each, every other one shaded, its number and title on top. A step too
/// narrow for its title has it on the row above, moved right of the label before it there
/// when they would overlap.
fn steps(
    svg: &mut String,
    run: &Run,
    frame: &Frame,
    palette: &Palette,
    layout: &Layout,
    lanes_bottom: f64,
) {
    svg.push_str("<g class=\"steps\">\n");
    let top = frame.steps_y - 16.0;
    let bands: Vec<(f64, f64)> = run
        .steps
        .iter()
        .map(|step| {
            let from = frame.x(run.axis.at(step.from));
            (from, frame.x(run.axis.at(step.until)).max(from + 1.0))
        })
        .collect();
    let titles: Vec<String> = run
        .steps
        .iter()
        .map(|step| {
            let (index, title) = (step.index, &step.title);
            text!(en: "{index} · {title}", zh: "{index} · {title}")
        })
        .collect();
    // Whether each title fits its own band (a few words of it, at least).
    let fits: Vec<bool> = bands
        .iter()
        .zip(&titles)
        .map(|((from, until), title)| {
            let words = fit(title, layout.font, until - from - 8.0);
            words.chars().count() > 8 || words == *title
        })
        .collect();
    // Where the last label on the row above ends.
    let mut upper_end = f64::NEG_INFINITY;
    for (i, ((from, until), full)) in bands.iter().zip(&titles).enumerate() {
        let (from, until) = (*from, *until);
        if i % 2 == 0 {
            let _ = writeln!(
                svg,
                "<rect x=\"{from:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"/>",
                until - from,
                lanes_bottom - top,
                palette.band
            );
        }
        let _ = writeln!(
            svg,
            "<line x1=\"{from:.1}\" x2=\"{from:.1}\" y1=\"{top}\" y2=\"{lanes_bottom}\" \
             stroke=\"{}\" stroke-width=\"1\" stroke-dasharray=\"3 3\"/>",
            palette.quiet
        );
        let (label, x, y) = if fits[i] {
            let label = fit(full, layout.font, until - from - 8.0);
            (label, from + 4.0, frame.steps_y)
        } else {
            // On the row above, after the label before it there: a line leads down to the
            // step's band when it had to move right.
            let x = (from + 4.0).max(upper_end + 12.0);
            let y = frame.steps_y - 20.0;
            let mut label = fit(full, layout.font, (frame.right - x).min(360.0));
            if label.chars().count() <= 4 {
                label = fit(
                    &run.steps[i].index.to_string(),
                    layout.font,
                    frame.right - x,
                );
            }
            upper_end = x + text_width(&label, layout.font);
            let _ = writeln!(
                svg,
                "<path d=\"M{:.1},{:.1} H{from:.1} V{top}\" fill=\"none\" stroke=\"{}\" \
                 stroke-width=\"1\"/>",
                x - 2.0,
                y + 4.0,
                palette.quiet
            );
            (label, x, y)
        };
        let _ = writeln!(
            svg,
            "<text x=\"{x:.1}\" y=\"{y}\" font-weight=\"bold\" fill=\"{}\"><title>{}</title>{}</text>",
            palette.text,
            escape(full),
            escape(&label)
        );
    }
    svg.push_str("</g>\n");
}

/// The time axis: real times at round steps, a faint line down through the lanes at each.
fn axis(
    svg: &mut String,
    run: &Run,
    frame: &Frame,
    palette: &Palette,
    layout: &Layout,
    lanes_bottom: f64,
) {
    svg.push_str("<g class=\"axis\">\n");
    let (step, ticks) = run
        .axis
        .ticks(0.0, run.axis.length, frame.right - frame.left);
    let mut last_end = f64::NEG_INFINITY;
    for (t, at) in ticks {
        let x = frame.x(at);
        let label = time_label(t, step);
        let half = text_width(&label, layout.small) / 2.0;
        let _ = writeln!(
            svg,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{}\" y2=\"{lanes_bottom}\" stroke=\"{}\" \
             stroke-opacity=\"0.18\"/>",
            frame.axis_y + 4.0,
            palette.quiet
        );
        let under_a_gap = run.axis.segments.iter().any(|segment| {
            segment.is_pause
                && x + half > frame.x(segment.at) - 2.0
                && x - half < frame.x(segment.to) + 2.0
        });
        if under_a_gap || x - half < last_end + 10.0 || x + half > frame.right + 10.0 {
            continue;
        }
        last_end = x + half;
        let _ = writeln!(
            svg,
            "<text x=\"{x:.1}\" y=\"{}\" font-size=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>",
            frame.axis_y,
            layout.small,
            palette.quiet,
            escape(&label)
        );
    }
    svg.push_str("</g>\n");
}

/// The tree: each lane's label, indented by depth, with a line from its parent.
fn tree(
    svg: &mut String,
    run: &Run,
    frame: &Frame,
    palette: &Palette,
    layout: &Layout,
    labels: &[String],
) {
    svg.push_str("<g class=\"tree\">\n");
    let mut parent_of = vec![None; run.lanes.len()];
    for fork in &run.forks {
        parent_of[fork.child] = Some(fork.parent);
    }
    for (i, (lane, label)) in run.lanes.iter().zip(labels).enumerate() {
        let top = frame.lanes_y + i as f64 * layout.lane;
        let indent = layout.margin + lane.depth as f64 * INDENT;
        let colour = palette.of_process(&lane.process_name);
        if let (Some(parent), true) = (parent_of[i], lane.depth > 0) {
            let parent_top = frame.lanes_y + parent as f64 * layout.lane;
            let x = indent - INDENT + 5.0;
            let y = top + layout.lane / 2.0;
            let _ = writeln!(
                svg,
                "<path d=\"M{x:.1},{:.1} V{y:.1} H{:.1}\" fill=\"none\" stroke=\"{}\" \
                 stroke-opacity=\"0.6\"/>",
                parent_top + layout.lane - 4.0,
                indent - 2.0,
                palette.quiet
            );
        }
        // The name in its process's colour, then its ids, quieter; cut to the column.
        let name_end = label.find(" · ").unwrap_or(label.len());
        let (name, ids) = label.split_at(name_end);
        let room = frame.label_width - (indent - layout.margin);
        let name_fitted = fit(name, layout.font, room);
        let ids_fitted = fit(
            ids,
            layout.font,
            room - text_width(&name_fitted, layout.font) - 2.0,
        );
        let weight = if lane.sort == crate::view::lives::Sort::Process {
            " font-weight=\"bold\""
        } else {
            ""
        };
        let _ = writeln!(
            svg,
            "<text class=\"lane-label\" x=\"{indent:.1}\" y=\"{:.1}\"><title>{}</title>\
             <tspan fill=\"{colour}\"{weight}>{}</tspan><tspan fill=\"{}\">{}</tspan></text>",
            top + layout.lane / 2.0 + layout.font * 0.36,
            escape(label),
            escape(&name_fitted),
            palette.quiet,
            escape(&ids_fitted)
        );
    }
    svg.push_str("</g>\n");
}

/// The lanes: each span of each life.
fn lanes(svg: &mut String, run: &Run, frame: &Frame, palette: &Palette, layout: &Layout) {
    svg.push_str("<g class=\"lanes\">\n");
    for (i, lane) in run.lanes.iter().enumerate() {
        let top = frame.lanes_y + i as f64 * layout.lane + (layout.lane - layout.bar) / 2.0;
        let colour = palette.of_process(&lane.process_name);
        let id = lane.id().map_or(String::new(), |id| id.to_string());
        let _ = writeln!(
            svg,
            "<g class=\"lane\" data-name=\"{}\" data-id=\"{id}\">",
            escape(&lane.name)
        );
        for span in &lane.spans {
            let x = frame.x(run.axis.at(span.from));
            let width = (frame.x(run.axis.at(span.until)) - x).max(1.5);
            let what = doing_label(&span.doing, lane.sort);
            let tip = format!(
                "{} — {what}: {} → {} ({})",
                lane.label(),
                time_label(span.from, 0.000_1),
                time_label(span.until, 0.000_1),
                seconds(span.until - span.from)
            );
            let (fill, extra) = match &span.doing {
                Doing::Running => (colour.to_string(), String::new()),
                Doing::Waiting { .. } => (format!("url(#wait-{})", &colour[1..]), String::new()),
                Doing::Ended => (
                    colour.to_string(),
                    format!(
                        " fill-opacity=\"0.14\" stroke=\"{colour}\" stroke-dasharray=\"3 2\" \
                         stroke-width=\"1\""
                    ),
                ),
            };
            let _ = writeln!(
                svg,
                "<rect x=\"{x:.2}\" y=\"{top:.1}\" width=\"{width:.2}\" height=\"{}\" \
                 fill=\"{fill}\"{extra}><title>{}</title></rect>",
                layout.bar,
                escape(&tip)
            );
            // A wait long enough to hold its name says what it waits on.
            if let Doing::Waiting { on, .. } = &span.doing
                && width > text_width(on, layout.small) + 8.0
            {
                let _ = writeln!(
                    svg,
                    "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"{}\" text-anchor=\"middle\" \
                     font-weight=\"bold\" fill=\"{}\" stroke=\"{}\" stroke-width=\"3\" \
                     paint-order=\"stroke\">{}</text>",
                    x + width / 2.0,
                    top + layout.bar / 2.0 + layout.small * 0.36,
                    layout.small,
                    palette.text,
                    palette.background,
                    escape(on)
                );
            }
        }
        svg.push_str("</g>\n");
    }
    svg.push_str("</g>\n");
}

/// An arrow from the parent's lane, when it forked, to the child's, when it started: solid for
/// a process, dashed for a thread.
fn forks(svg: &mut String, run: &Run, frame: &Frame, palette: &Palette, layout: &Layout) {
    svg.push_str("<g class=\"forks\">\n");
    for fork in &run.forks {
        let colour = palette.of_process(&run.lanes[fork.child].process_name);
        let x1 = frame.x(run.axis.at(fork.at));
        let x2 = frame.x(run.axis.at(fork.started)).max(x1);
        let below = fork.child > fork.parent;
        let child_top = frame.lanes_y + fork.child as f64 * layout.lane;
        let y2 = if below {
            child_top + (layout.lane - layout.bar) / 2.0
        } else {
            child_top + (layout.lane + layout.bar) / 2.0
        };
        // A child far down the tree gets the arrow's head only: a thousand long arrows
        // from one parent would cover the lanes between (the tree says whose child it is).
        let y1 = if fork.child.abs_diff(fork.parent) > FAR_CHILD {
            y2 - layout.lane * 0.6
        } else {
            frame.lanes_y + (fork.parent as f64 + 0.5) * layout.lane
        };
        let x1 = if fork.child.abs_diff(fork.parent) > FAR_CHILD {
            x2
        } else {
            x1
        };
        let dash = if fork.is_thread {
            " stroke-dasharray=\"4 3\""
        } else {
            ""
        };
        let _ = writeln!(
            svg,
            "<path d=\"M{x1:.1},{y1:.1} L{x2:.1},{y2:.1}\" stroke=\"{colour}\" \
             stroke-width=\"1.5\" stroke-opacity=\"0.9\" fill=\"none\"{dash} \
             marker-end=\"url(#arrow-{})\"/>",
            &colour[1..]
        );
    }
    svg.push_str("</g>\n");
}

/// Each pause at a prompt: a narrow gap over every lane, edged like the terminal's `┊`.
fn pauses(svg: &mut String, run: &Run, frame: &Frame, palette: &Palette, lanes_bottom: f64) {
    svg.push_str("<g class=\"pauses\">\n");
    for segment in run.axis.segments.iter().filter(|s| s.is_pause) {
        let (x1, x2) = (frame.x(segment.at), frame.x(segment.to));
        let top = frame.steps_y - 16.0;
        let paused = seconds(segment.until - segment.from);
        let tip = text!(
            en: "a pause at a prompt: {paused}, cut out",
            zh: "在提示处停下的时间：{paused}，已剪去",
        );
        let _ = writeln!(
            svg,
            "<g><title>{}</title><rect x=\"{x1:.1}\" y=\"{top}\" width=\"{:.1}\" height=\"{:.1}\" \
             fill=\"{}\"/><path d=\"M{x1:.1},{top} V{lanes_bottom} M{x2:.1},{top} V{lanes_bottom}\" \
             stroke=\"{}\" stroke-dasharray=\"2 3\"/></g>",
            escape(&tip),
            x2 - x1,
            lanes_bottom - top,
            palette.background,
            palette.quiet,
        );
    }
    svg.push_str("</g>\n");
}

/// What a picture has that not every run has: its legend names only what is drawn.
struct Shows {
    pauses: bool,
    threads: bool,
}

/// The legend under the lanes, wrapped to the width; and its height.
fn legend(palette: &Palette, layout: &Layout, top: f64, shows: &Shows) -> (String, f64) {
    let words = Legend::new();
    let colour = palette.quiet;
    let id = &colour[1..];
    let mut svg = String::from("<g class=\"legend\">\n");
    let (mut x, mut y) = (layout.margin, top);
    let row = 26.0;
    let swatch = 28.0;
    let items: [(&String, String); 6] = [
        (
            &words.running,
            format!(
                "<rect width=\"{swatch}\" height=\"{}\" fill=\"{colour}\"/>",
                layout.bar
            ),
        ),
        (
            &words.waiting,
            format!(
                "<rect width=\"{swatch}\" height=\"{}\" fill=\"url(#wait-{id})\"/>",
                layout.bar
            ),
        ),
        (
            &words.ended,
            format!(
                "<rect width=\"{swatch}\" height=\"{}\" fill=\"{colour}\" fill-opacity=\"0.14\" \
                 stroke=\"{colour}\" stroke-dasharray=\"3 2\"/>",
                layout.bar
            ),
        ),
        (
            &words.pause,
            format!(
                "<path d=\"M8,-2 V{b} M20,-2 V{b}\" stroke=\"{colour}\" stroke-dasharray=\"2 3\"/>",
                b = layout.bar + 2.0
            ),
        ),
        (
            &words.fork,
            format!(
                "<path d=\"M2,2 L24,{}\" stroke=\"{colour}\" stroke-width=\"1.5\" \
                 marker-end=\"url(#arrow-{id})\"/>",
                layout.bar - 2.0
            ),
        ),
        (
            &words.thread,
            format!(
                "<path d=\"M2,2 L24,{}\" stroke=\"{colour}\" stroke-width=\"1.5\" \
                 stroke-dasharray=\"4 3\" marker-end=\"url(#arrow-{id})\"/>",
                layout.bar - 2.0
            ),
        ),
    ];
    for (text, shape) in items {
        if (text == &words.pause && !shows.pauses) || (text == &words.thread && !shows.threads) {
            continue;
        }
        let width = swatch + 8.0 + text_width(text, 13.0) + 24.0;
        if x + width > layout.width - layout.margin && x > layout.margin {
            x = layout.margin;
            y += row;
        }
        let _ = writeln!(
            svg,
            "<g transform=\"translate({x:.1},{:.1})\">{shape}<text x=\"{}\" y=\"{:.1}\" \
             font-size=\"13\" fill=\"{}\">{}</text></g>",
            y - layout.bar + 4.0,
            swatch + 8.0,
            layout.bar - 3.0,
            palette.text,
            escape(text)
        );
        x += width;
    }
    svg.push_str("</g>\n");
    (svg, y - top + row)
}

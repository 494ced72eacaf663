//! The model every drawing of a run reads: each actor's life (a process, a thread of it, or a
//! task on a thread), gathered from the events. When it started, when it was blocked and on
//! what, when it ended, and when (and by whom) it was reaped or joined. The tree, the timeline
//! and the colours all read this one model, so they cannot disagree.
//!
//! It also knows when the lesson stood still at a `--step` prompt (`pause` events), so that a
//! drawing can cut that time out: `Scale` maps the times of a run to the columns of a timeline
//! where each pause is one narrow break and the rest of the width is the work.

use std::collections::HashMap;

use crate::runtime::event::{Actor, Event, Kind, Prompt};

/// Which sort of actor a life is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Process,
    Thread,
    Task,
}

/// A span during which an actor was blocked.
#[derive(Debug, Clone, PartialEq)]
pub struct Blocked {
    pub from: f64,
    /// `None` while the wait has not ended (or the actor died waiting).
    pub until: Option<f64>,
    /// What kind of thing it waited on (`lock`, `join` ...), and which one.
    pub on: String,
    pub object: String,
    /// Whether it got what it waited for; `None` while waiting.
    pub got: Option<bool>,
}

/// The `on` of a [`Blocked`] span that is a sleep (`time.sleep`), not a wait for something.
pub const SLEEP: &str = "sleep";

/// A sleep's length as its span's `object`: `50 ms`.
fn describe_seconds(seconds: f64) -> String {
    format!("{:.0} ms", seconds * 1000.0)
}

impl Blocked {
    /// Whether this span is a sleep rather than a wait for something.
    pub fn is_sleep(&self) -> bool {
        self.on == SLEEP
    }
}

/// One actor's life.
#[derive(Debug, Clone, PartialEq)]
pub struct Life {
    pub sort: Sort,
    /// The process's name, the thread's own name, or the task's.
    pub name: String,
    /// For a process: the pid that forked it (`None` for the lab itself).
    pub parent: Option<i32>,
    pub started: Option<f64>,
    /// When it said it was leaving (`done`); absent when a signal ended it.
    pub done: Option<f64>,
    /// When it was reaped (a process) or joined (a thread), and by which pid.
    pub reaped: Option<f64>,
    pub reaped_by: Option<i32>,
    pub exitcode: Option<i32>,
    pub blocked: Vec<Blocked>,
}

impl Life {
    fn new(sort: Sort, name: &str) -> Life {
        Life {
            sort,
            name: name.to_string(),
            parent: None,
            started: None,
            done: None,
            reaped: None,
            reaped_by: None,
            exitcode: None,
            blocked: Vec::new(),
        }
    }

    /// When it stopped running: `done`, or else when it was reaped (killed by a signal).
    pub fn ran_until(&self) -> Option<f64> {
        self.done.or(self.reaped)
    }

    /// Whether it was blocked at time `t` (a sleep included).
    pub fn blocked_at(&self, t: f64, end_of_run: f64) -> bool {
        self.waits_at(t, end_of_run).next().is_some()
    }

    /// Whether it was asleep at time `t`, and waiting for nothing else.
    pub fn asleep_at(&self, t: f64, end_of_run: f64) -> bool {
        let mut waits = self.waits_at(t, end_of_run).peekable();
        waits.peek().is_some() && waits.all(Blocked::is_sleep)
    }

    /// Its waits under way at time `t`.
    fn waits_at(&self, t: f64, end_of_run: f64) -> impl Iterator<Item = &Blocked> {
        self.blocked
            .iter()
            .filter(move |span| span.from <= t && t < span.until.unwrap_or(end_of_run))
    }
}

/// What an actor was doing over a stretch of its life, as every drawing shows it: the
/// terminal's `█`, `▒` and `░`.
#[derive(Debug, Clone, PartialEq)]
pub enum Doing {
    Running,
    /// Blocked on something (`join`, `lock`, `queue` ...): the innermost wait when waits nest.
    Waiting {
        on: String,
        object: String,
    },
    /// Ended, not yet reaped (a process: a zombie) or joined (a thread).
    Ended,
}

/// A stretch of an actor's life, `from` up to `until`, spent doing one thing.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub from: f64,
    pub until: f64,
    pub doing: Doing,
}

impl Life {
    /// Its life from start to reaping as stretches of running, waiting and having ended,
    /// in order, none empty; what never ended lasts until `end_of_run`. Waits count only
    /// while it ran: one that ends after the actor did is cut where the actor ended.
    pub fn spans(&self, end_of_run: f64) -> Vec<Span> {
        let started = self.started.unwrap_or(0.0).min(end_of_run);
        let ran_until = self.ran_until().unwrap_or(end_of_run).max(started);
        // A task has no zombie time: nobody joins it, it is simply over when it ends.
        let gone = match self.sort {
            Sort::Task => Some(ran_until),
            Sort::Process | Sort::Thread => self.reaped,
        };
        let gone = gone.unwrap_or(end_of_run).max(ran_until);
        // Every moment a wait begins or ends splits the running time; between two such
        // moments the actor does one thing.
        let waits: Vec<(f64, f64, &Blocked)> = self
            .blocked
            .iter()
            .map(|wait| {
                let from = wait.from.clamp(started, ran_until);
                (
                    from,
                    wait.until.unwrap_or(ran_until).clamp(from, ran_until),
                    wait,
                )
            })
            .filter(|(from, until, _)| until > from)
            .collect();
        let mut moments: Vec<f64> = vec![started, ran_until];
        moments.extend(waits.iter().flat_map(|(from, until, _)| [*from, *until]));
        moments.sort_by(f64::total_cmp);
        moments.dedup();
        let mut spans: Vec<Span> = Vec::new();
        let mut push = |from: f64, until: f64, doing: Doing| match spans.last_mut() {
            Some(last) if last.doing == doing && last.until == from => last.until = until,
            _ => spans.push(Span { from, until, doing }),
        };
        for pair in moments.windows(2) {
            let (from, until) = (pair[0], pair[1]);
            // The innermost wait: the latest begun of those under way.
            let waiting = waits
                .iter()
                .filter(|(begun, ended, _)| *begun <= from && until <= *ended)
                .max_by(|a, b| a.0.total_cmp(&b.0));
            let doing = match waiting {
                Some((_, _, wait)) => Doing::Waiting {
                    on: wait.on.clone(),
                    object: wait.object.clone(),
                },
                None => Doing::Running,
            };
            push(from, until, doing);
        }
        if ran_until == started {
            // It ended as it began: still one moment of running, so that it is seen.
            push(started, started, Doing::Running);
        }
        if gone > ran_until {
            push(ran_until, gone, Doing::Ended);
        }
        spans
    }
}

/// How a life ended, as far as folding a crowd goes: siblings are alike only if they ended
/// the same way (their exit codes may differ; a fold counts each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Reaped by its parent (a process) or joined (a thread), with an exit code.
    Reaped,
    /// A process reaped by someone other than the parent that forked it (an orphan).
    Orphan,
    /// It ended, but nobody reaped or joined it.
    NotReaped,
    /// It never said it ended (killed, or a thread still running when its process ended).
    Running,
}

impl Life {
    pub fn ending(&self) -> Ending {
        match (self.exitcode, self.reaped_by) {
            (Some(_), Some(reaper))
                if self.sort == Sort::Process && self.parent != Some(reaper) =>
            {
                Ending::Orphan
            }
            (Some(_), _) => Ending::Reaped,
            (None, _) if self.done.is_some() => Ending::NotReaped,
            (None, _) => Ending::Running,
        }
    }
}

/// The part of a name that says what kind of actor it is: its leading letters (`buyer` in
/// `buyer-7`, `r` in `r12-left`, `Thread` in `Thread-3`). Empty for a name that starts with
/// anything else: such an actor is never folded into a crowd.
pub fn family(name: &str) -> &str {
    let end = name
        .find(|c: char| !c.is_alphabetic())
        .unwrap_or(name.len());
    &name[..end]
}

/// A run of more alike siblings than this is a crowd, folded in the human view (`--no-fold`
/// draws each one). Lesson 1's three children, lesson 10's pool of six: never a crowd.
pub const CROWD_ABOVE: usize = 6;

/// The children (or threads) of one process, in order, with each run of alike ones gathered.
#[derive(Debug, Clone, PartialEq)]
pub enum Group {
    One(Actor),
    /// More than `CROWD_ABOVE` alike siblings in a row: leaves (no threads or children of
    /// their own), of the same sort and family, ended the same way.
    Crowd(Vec<Actor>),
}

/// A time the lesson's main process waited at `--step` prompts (one or more in a row).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pause {
    pub from: f64,
    pub until: f64,
}

/// Prompts closer together than this (the next page of notes, then the prompt that runs the
/// step) are one pause.
const SAME_PAUSE: f64 = 0.001;

/// Every actor's life in a run, in the order each first appeared.
#[derive(Debug, Default)]
pub struct Lives {
    pub by_actor: HashMap<Actor, Life>,
    order: Vec<Actor>,
    /// The time of the last event.
    pub last_t: f64,
    /// The pauses at prompts, in order.
    pub pauses: Vec<Pause>,
    /// Whether the student quit at a prompt before the first step ran.
    pub quit_before_any_step: bool,
    steps_begun: u32,
    /// Events of work (anything but steps, prompts and pauses) since the first step began.
    work_since_first_step: usize,
    /// The time of the latest event of work: a pause is cut out only from there on, so that
    /// what other processes did while the main one waited at a prompt stays on the timeline.
    last_work_t: f64,
}

impl Lives {
    pub fn from_events(events: &[Event]) -> Lives {
        let mut lives = Lives::default();
        for event in events {
            lives.add(event);
        }
        lives
    }

    /// Takes one event into the model.
    pub fn add(&mut self, event: &Event) {
        self.last_t = self.last_t.max(event.t);
        let pacing = match &event.kind {
            Kind::Step { .. } | Kind::Pause { .. } => true,
            kind => kind.is_prompt(),
        };
        if !pacing {
            self.last_work_t = self.last_work_t.max(event.t);
            if self.steps_begun > 0 {
                self.work_since_first_step += 1;
            }
        }
        let t = event.t;
        // Every kind is listed: a new kind must be thought about here, not fall through.
        match &event.kind {
            Kind::Lesson { .. } => {
                let life = self.life(Actor::process(event.pid), Sort::Process, &event.name);
                life.started = Some(0.0);
            }
            Kind::Spawn { child, child_name } => {
                let life = self.life(Actor::process(*child), Sort::Process, child_name);
                life.parent = Some(event.pid);
                life.started.get_or_insert(t);
            }
            Kind::Start => {
                let (sort, name) = self.sort_and_name(event);
                self.life(event.actor(), sort, &name).started = Some(t);
            }
            // A sleep is a wait with a known end: on nothing but time.
            Kind::Sleep { seconds } => {
                let (sort, name) = self.sort_and_name(event);
                self.life(event.actor(), sort, &name).blocked.push(Blocked {
                    from: t,
                    until: Some(t + seconds),
                    on: SLEEP.to_string(),
                    object: describe_seconds(*seconds),
                    got: Some(true),
                });
            }
            Kind::Done { .. } => {
                let (sort, name) = self.sort_and_name(event);
                self.life(event.actor(), sort, &name).done = Some(t);
                if sort == Sort::Process {
                    self.end_threads_with_process(event.pid, t);
                }
            }
            Kind::Exit {
                child,
                exitcode,
                is_thread,
            } => {
                let (actor, sort) = match is_thread {
                    true => (Actor::thread(event.pid, *child), Sort::Thread),
                    false => (Actor::process(*child), Sort::Process),
                };
                let life = self.life(actor, sort, "");
                life.reaped = Some(t);
                life.reaped_by = Some(event.pid);
                life.exitcode = Some(*exitcode);
                if !is_thread {
                    self.end_threads_with_process(*child, t);
                }
            }
            // A prompt is not blocking in the lesson's sense: its time is a pause (below).
            Kind::Wait { .. } if event.kind.is_prompt() => {}
            Kind::Wait { on, object } => {
                let (sort, name) = self.sort_and_name(event);
                self.life(event.actor(), sort, &name).blocked.push(Blocked {
                    from: t,
                    until: None,
                    on: on.clone(),
                    object: object.clone(),
                    got: None,
                });
            }
            Kind::Woke {
                on, object, got, ..
            } => {
                let (sort, name) = self.sort_and_name(event);
                let life = self.life(event.actor(), sort, &name);
                if let Some(span) =
                    life.blocked.iter_mut().rev().find(|span| {
                        span.until.is_none() && &span.on == on && &span.object == object
                    })
                {
                    span.until = Some(t);
                    span.got = Some(*got);
                }
            }
            Kind::Pause { seconds, quit } => {
                // Children may still run when their parent stops at a prompt (lesson 1 starts
                // three and does not wait): the pause, cut out of the timeline, begins when
                // the last of that work was seen. That moment is the children's, not the
                // prompt's: only work that goes on for the whole pause (a process printing
                // until it is stopped) is drawn for as long as the prompt waited.
                let asked = (t - seconds).max(0.0);
                let from = asked.max(self.last_work_t.min(t));
                if from > asked {
                    // Meanwhile the one at the prompt was waiting, for the teacher's Enter.
                    let (sort, name) = self.sort_and_name(event);
                    let Kind::Wait { on, object } = Kind::prompt(Prompt::Enter) else {
                        unreachable!("a prompt is a wait")
                    };
                    self.life(event.actor(), sort, &name).blocked.push(Blocked {
                        from: asked,
                        until: Some(from),
                        on,
                        object,
                        got: Some(true),
                    });
                }
                match self.pauses.last_mut() {
                    Some(last) if from - last.until < SAME_PAUSE => last.until = t,
                    _ => self.pauses.push(Pause { from, until: t }),
                }
                if *quit && self.work_since_first_step == 0 {
                    self.quit_before_any_step = true;
                }
            }
            Kind::Step { .. } => self.steps_begun += 1,
            Kind::Say { .. }
            | Kind::Trace { .. }
            | Kind::Exec { .. }
            | Kind::Note { .. }
            | Kind::State { .. }
            | Kind::Error { .. }
            | Kind::End { .. }
            | Kind::Outcome { .. }
            | Kind::Summary { .. }
            | Kind::Question { .. }
            | Kind::Answer { .. }
            | Kind::Predict { .. } => {}
        }
    }

    /// A process's threads end with it (a daemon thread is never joined, and says nothing as
    /// `_exit` ends it): those still running stop at `t`, when the process ended.
    fn end_threads_with_process(&mut self, pid: i32, t: f64) {
        for (actor, life) in self.by_actor.iter_mut() {
            if actor.pid == pid && actor.tid.is_some() && life.ran_until().is_none() {
                life.reaped = Some(t);
            }
        }
    }

    /// What sort of actor said `event`, and its own name.
    fn sort_and_name(&self, event: &Event) -> (Sort, String) {
        match (&event.task, &event.thread, event.tid) {
            (Some(task), _, _) => (Sort::Task, task.clone()),
            (None, Some(thread), _) => (Sort::Thread, thread.clone()),
            (None, None, Some(tid)) => (Sort::Thread, format!("thread {tid}")),
            (None, None, None) => (Sort::Process, event.name.clone()),
        }
    }

    fn life(&mut self, actor: Actor, sort: Sort, name: &str) -> &mut Life {
        if !self.by_actor.contains_key(&actor) {
            self.order.push(actor.clone());
        }
        let life = self
            .by_actor
            .entry(actor)
            .or_insert_with(|| Life::new(sort, name));
        if life.name.is_empty() {
            life.name = name.to_string();
        }
        life
    }

    /// The lab itself: the first process seen.
    pub fn root(&self) -> Option<i32> {
        self.order.iter().find(|a| a.tid.is_none()).map(|a| a.pid)
    }

    pub fn process(&self, pid: i32) -> Option<&Life> {
        self.by_actor.get(&Actor::process(pid))
    }

    /// The processes `pid` forked, in the order they were forked.
    pub fn children_of(&self, pid: i32) -> Vec<i32> {
        self.order
            .iter()
            .filter(|actor| actor.tid.is_none() && actor.task.is_none())
            .filter(|actor| self.by_actor[*actor].parent == Some(pid))
            .map(|actor| actor.pid)
            .collect()
    }

    /// The threads and tasks of process `pid` (not the process itself), in order of appearance.
    pub fn threads_of(&self, pid: i32) -> Vec<&Actor> {
        self.order
            .iter()
            .filter(|actor| actor.pid == pid && (actor.tid.is_some() || actor.task.is_some()))
            .collect()
    }

    /// Every process, in order of appearance.
    pub fn processes(&self) -> Vec<i32> {
        self.order
            .iter()
            .filter(|actor| actor.tid.is_none() && actor.task.is_none())
            .map(|actor| actor.pid)
            .collect()
    }

    /// The children of `pid`, each run of alike ones gathered into a crowd.
    pub fn child_groups(&self, pid: i32) -> Vec<Group> {
        let children = self.children_of(pid).into_iter().map(Actor::process);
        self.groups(children.collect())
    }

    /// The threads and tasks of `pid`, each run of alike ones gathered into a crowd.
    pub fn thread_groups(&self, pid: i32) -> Vec<Group> {
        self.groups(self.threads_of(pid).into_iter().cloned().collect())
    }

    /// Gathers the runs of alike actors in `actors` (in their order) into crowds.
    fn groups(&self, actors: Vec<Actor>) -> Vec<Group> {
        let mut groups = Vec::new();
        let mut run: Vec<Actor> = Vec::new();
        for actor in actors {
            let joins_run = run.last().is_some_and(|last| self.alike(last, &actor));
            if !joins_run {
                groups.extend(Self::close_run(std::mem::take(&mut run)));
            }
            run.push(actor);
        }
        groups.extend(Self::close_run(run));
        groups
    }

    /// A finished run: one crowd if it is long enough, else each actor on its own.
    fn close_run(run: Vec<Actor>) -> Vec<Group> {
        if run.len() > CROWD_ABOVE {
            vec![Group::Crowd(run)]
        } else {
            run.into_iter().map(Group::One).collect()
        }
    }

    /// Whether two siblings could stand in one crowd: both leaves, the same sort and family
    /// of name, ended the same way.
    fn alike(&self, a: &Actor, b: &Actor) -> bool {
        let (one, other) = (self.get(a), self.get(b));
        let family_of_one = family(&one.name);
        !family_of_one.is_empty()
            && family_of_one == family(&other.name)
            && one.sort == other.sort
            && one.ending() == other.ending()
            && self.is_leaf(a)
            && self.is_leaf(b)
    }

    /// Whether an actor has nothing of its own under it in the tree: a thread always, a
    /// process when it forked no child and started no thread.
    fn is_leaf(&self, actor: &Actor) -> bool {
        if actor.tid.is_some() || actor.task.is_some() {
            return true;
        }
        self.children_of(actor.pid).is_empty() && self.threads_of(actor.pid).is_empty()
    }

    /// The names of `actors` in short: each pattern once, a number in it as the range it
    /// takes (`buyer-1..buyer-10`, `r1-left..r20-left, r1-right..r20-right`).
    pub fn name_range(&self, actors: &[Actor]) -> String {
        // Each pattern (the name with its digits as `#`), in order, with its numbers.
        let mut patterns: Vec<(String, Vec<u64>, usize)> = Vec::new();
        for actor in actors {
            let name = &self.get(actor).name;
            let mut pattern = String::new();
            let mut numbers = Vec::new();
            let mut digits = String::new();
            for c in name.chars().chain(std::iter::once('\0')) {
                if c.is_ascii_digit() {
                    digits.push(c);
                    continue;
                }
                if !digits.is_empty() {
                    pattern.push('#');
                    numbers.push(digits.parse().unwrap_or(u64::MAX));
                    digits.clear();
                }
                if c != '\0' {
                    pattern.push(c);
                }
            }
            let number = match numbers[..] {
                [number] => number,
                _ => 0,
            };
            match patterns.iter_mut().find(|(p, ..)| *p == pattern) {
                Some((_, seen, _)) => seen.push(number),
                None => patterns.push((pattern, vec![number], numbers.len())),
            }
        }
        let described: Vec<String> = patterns
            .into_iter()
            .map(|(pattern, numbers, digit_runs)| {
                if digit_runs != 1 {
                    // No number (`bare-a`), or several (`r#-#`): the pattern as it is.
                    return pattern;
                }
                let (low, high) = (numbers.iter().min(), numbers.iter().max());
                let with = |n: &u64| pattern.replacen('#', &n.to_string(), 1);
                match (low, high) {
                    (Some(low), Some(high)) if low != high => {
                        format!("{}..{}", with(low), with(high))
                    }
                    (Some(low), _) => with(low),
                    _ => pattern,
                }
            })
            .collect();
        described.join(", ")
    }

    pub fn get(&self, actor: &Actor) -> &Life {
        &self.by_actor[actor]
    }

    /// Seconds of work up to `t`: `t` less the time spent at prompts before it.
    pub fn work_time(&self, t: f64) -> f64 {
        let paused: f64 = self
            .pauses
            .iter()
            .map(|pause| (t.min(pause.until) - pause.from).max(0.0))
            .sum();
        t - paused
    }

    /// Seconds of work in the whole run.
    pub fn work_span(&self) -> f64 {
        self.work_time(self.last_t)
    }

    /// Seconds spent at prompts in the whole run.
    pub fn paused(&self) -> f64 {
        self.last_t - self.work_span()
    }
}

/// What one column of a timeline shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    /// A pause at a prompt, cut out: one column however long it lasted.
    Break,
    /// Work: the column stands for the time around `t` (real time, as in the events).
    At(f64),
}

/// Maps the times of a run to the columns of a timeline: every pause at a prompt is one
/// column (a break); the stretches of work between pauses share the other columns in
/// proportion to their length, each at least one column, so a short step is still seen.
#[derive(Debug, Clone)]
pub struct Scale {
    segments: Vec<Segment>,
    columns: usize,
    work: f64,
    work_columns: usize,
}

/// A stretch of the timeline: work from one time to another, or a pause (a break).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Segment {
    from: f64,
    until: f64,
    is_pause: bool,
    first_column: usize,
    columns: usize,
}

impl Scale {
    pub fn new(lives: &Lives, columns: usize) -> Scale {
        let end = lives.last_t;
        // Only pauses inside the run, and never more breaks than half the width.
        let pauses: Vec<Pause> = lives
            .pauses
            .iter()
            .filter(|pause| pause.from < end)
            .take(columns / 2)
            .copied()
            .collect();
        let mut segments = Vec::new();
        let mut at = 0.0;
        for pause in &pauses {
            if pause.from > at {
                segments.push(Segment::new(at, pause.from, false));
            }
            segments.push(Segment::new(pause.from, pause.until.min(end), true));
            at = pause.until;
        }
        if end > at || segments.is_empty() {
            segments.push(Segment::new(at, end.max(at), false));
        }
        let work: f64 = segments
            .iter()
            .filter(|s| !s.is_pause)
            .map(|s| s.until - s.from)
            .sum();
        let work_columns = columns.saturating_sub(pauses.len()).max(1);
        // Each stretch of work gets its share of the columns, at least one; the longest
        // stretch gives back (or takes) what rounding got wrong.
        for segment in segments.iter_mut() {
            segment.columns = if segment.is_pause {
                1
            } else if work > 0.0 {
                (((segment.until - segment.from) / work) * work_columns as f64)
                    .round()
                    .max(1.0) as usize
            } else {
                work_columns
            };
        }
        let used: usize = segments
            .iter()
            .filter(|s| !s.is_pause)
            .map(|s| s.columns)
            .sum();
        if let Some(longest) = segments
            .iter_mut()
            .filter(|s| !s.is_pause)
            .max_by(|a, b| (a.until - a.from).total_cmp(&(b.until - b.from)))
        {
            longest.columns = (longest.columns + work_columns).saturating_sub(used).max(1);
        }
        let mut first = 0;
        for segment in segments.iter_mut() {
            segment.first_column = first;
            first += segment.columns;
        }
        Scale {
            segments,
            columns: first,
            work: work.max(0.001),
            work_columns,
        }
    }

    /// How many columns the timeline has (the width asked for, unless breaks took more).
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// Seconds of work one column stands for.
    pub fn seconds_per_column(&self) -> f64 {
        self.work / self.work_columns as f64
    }

    /// The column where time `t` is drawn (a pause's break column for a time inside it);
    /// `columns()` for a time at or after the end.
    pub fn column(&self, t: f64) -> usize {
        for segment in &self.segments {
            if t < segment.until || (segment.is_pause && t <= segment.from) {
                if t < segment.from {
                    return segment.first_column;
                }
                if segment.is_pause {
                    return segment.first_column;
                }
                // A time inside a stretch of work is always in one of its columns.
                let share = (t - segment.from) / (segment.until - segment.from);
                let column = (share * segment.columns as f64).floor() as usize;
                return segment.first_column + column.min(segment.columns - 1);
            }
        }
        self.columns
    }

    /// What column `c` shows.
    pub fn cell(&self, c: usize) -> Cell {
        let Some(segment) = self
            .segments
            .iter()
            .find(|s| s.first_column <= c && c < s.first_column + s.columns)
        else {
            return Cell::At(self.segments.last().map_or(0.0, |s| s.until));
        };
        if segment.is_pause {
            return Cell::Break;
        }
        // The middle of the column.
        let share = ((c - segment.first_column) as f64 + 0.5) / segment.columns as f64;
        Cell::At(segment.from + share * (segment.until - segment.from))
    }
}

impl Segment {
    fn new(from: f64, until: f64, is_pause: bool) -> Segment {
        Segment {
            from,
            until,
            is_pause,
            first_column: 0,
            columns: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(t: f64, pid: i32, tid: Option<i32>, thread: Option<&str>, kind: Kind) -> Event {
        Event {
            t,
            pid,
            ppid: 1,
            tid,
            name: "main".into(),
            thread: thread.map(str::to_string),
            task: None,
            kind,
        }
    }

    fn wait(on: &str) -> Kind {
        Kind::Wait {
            on: on.into(),
            object: "x".into(),
        }
    }

    fn woke(on: &str, got: bool) -> Kind {
        Kind::Woke {
            on: on.into(),
            object: "x".into(),
            after: 0.0,
            got,
            ended: None,
        }
    }

    #[test]
    fn a_process_is_forked_runs_ends_and_is_reaped() {
        let events = [
            event(0.0, 10, None, None, Kind::Start),
            event(
                0.1,
                10,
                None,
                None,
                Kind::Spawn {
                    child: 11,
                    child_name: "alex".into(),
                },
            ),
            event(0.2, 11, None, None, Kind::Start),
            event(0.5, 11, None, None, Kind::Done { code: 0 }),
            event(
                0.7,
                10,
                None,
                None,
                Kind::Exit {
                    child: 11,
                    exitcode: 0,
                    is_thread: false,
                },
            ),
        ];
        let lives = Lives::from_events(&events);
        assert_eq!(lives.children_of(10), [11]);
        let alex = lives.process(11).unwrap();
        assert_eq!(alex.name, "alex");
        assert_eq!(
            (alex.started, alex.done, alex.reaped),
            (Some(0.2), Some(0.5), Some(0.7))
        );
        assert_eq!((alex.reaped_by, alex.exitcode), (Some(10), Some(0)));
        assert_eq!(lives.last_t, 0.7);
    }

    #[test]
    fn threads_have_lives_of_their_own_under_their_process() {
        let events = [
            event(0.0, 10, None, None, Kind::Start),
            event(0.1, 10, Some(12), Some("worker-1"), Kind::Start),
            event(0.3, 10, Some(12), Some("worker-1"), Kind::Done { code: 1 }),
            event(
                0.4,
                10,
                None,
                None,
                Kind::Exit {
                    child: 12,
                    exitcode: 1,
                    is_thread: true,
                },
            ),
        ];
        let lives = Lives::from_events(&events);
        assert_eq!(lives.processes(), [10]);
        let threads = lives.threads_of(10);
        assert_eq!(threads.len(), 1);
        let worker = lives.get(threads[0]);
        assert_eq!(
            (worker.sort, worker.name.as_str()),
            (Sort::Thread, "worker-1")
        );
        assert_eq!((worker.done, worker.reaped), (Some(0.3), Some(0.4)));
        assert_eq!(worker.exitcode, Some(1));
    }

    #[test]
    fn a_thread_never_joined_ends_with_its_process() {
        let events = [
            event(0.0, 10, None, None, Kind::Start),
            event(0.1, 10, Some(12), Some("daemon"), Kind::Start),
            event(0.5, 10, None, None, Kind::Done { code: 0 }),
        ];
        let lives = Lives::from_events(&events);
        let daemon = lives.get(lives.threads_of(10)[0]);
        assert_eq!((daemon.done, daemon.ran_until()), (None, Some(0.5)));
        assert_eq!(daemon.exitcode, None);
    }

    #[test]
    fn waits_become_blocked_spans_matched_by_what_they_wait_on() {
        let events = [
            event(0.0, 10, None, None, Kind::Start),
            event(0.1, 10, None, None, wait("lock")),
            event(0.2, 10, None, None, wait("join")),
            event(0.3, 10, None, None, woke("join", true)),
            event(0.6, 10, None, None, woke("lock", false)),
            event(0.8, 10, None, None, wait("queue")),
        ];
        let lives = Lives::from_events(&events);
        let main = lives.process(10).unwrap();
        let spans: Vec<(&str, f64, Option<f64>, Option<bool>)> = main
            .blocked
            .iter()
            .map(|b| (b.on.as_str(), b.from, b.until, b.got))
            .collect();
        assert_eq!(
            spans,
            [
                ("lock", 0.1, Some(0.6), Some(false)),
                ("join", 0.2, Some(0.3), Some(true)),
                ("queue", 0.8, None, None),
            ]
        );
        assert!(main.blocked_at(0.15, 1.0));
        assert!(!main.blocked_at(0.7, 1.0));
        assert!(
            main.blocked_at(0.9, 1.0),
            "a wait never ended lasts to the end"
        );
    }

    #[test]
    fn a_life_is_spans_of_running_waiting_and_ended() {
        let events = [
            event(0.0, 10, None, None, Kind::Start),
            event(
                0.1,
                10,
                None,
                None,
                Kind::Spawn {
                    child: 11,
                    child_name: "alex".into(),
                },
            ),
            event(0.2, 11, None, None, Kind::Start),
            event(0.3, 11, None, None, wait("lock")),
            event(0.4, 11, None, None, wait("queue")),
            event(0.5, 11, None, None, woke("queue", true)),
            event(0.6, 11, None, None, woke("lock", true)),
            event(0.7, 11, None, None, wait("join")),
            event(0.8, 11, None, None, Kind::Done { code: 0 }),
            event(
                0.9,
                10,
                None,
                None,
                Kind::Exit {
                    child: 11,
                    exitcode: 0,
                    is_thread: false,
                },
            ),
        ];
        let lives = Lives::from_events(&events);
        let alex = lives.process(11).unwrap().spans(1.0);
        let spans: Vec<(f64, f64, &str)> = alex
            .iter()
            .map(|span| {
                let what = match &span.doing {
                    Doing::Running => "running",
                    Doing::Waiting { on, .. } => on.as_str(),
                    Doing::Ended => "ended",
                };
                (span.from, span.until, what)
            })
            .collect();
        assert_eq!(
            spans,
            [
                (0.2, 0.3, "running"),
                (0.3, 0.4, "lock"),
                (0.4, 0.5, "queue"),
                (0.5, 0.6, "lock"),
                (0.6, 0.7, "running"),
                // A wait never ended stops where the actor did.
                (0.7, 0.8, "join"),
                (0.8, 0.9, "ended"),
            ]
        );
        let main = lives.process(10).unwrap().spans(1.0);
        assert_eq!(
            main,
            [Span {
                from: 0.0,
                until: 1.0,
                doing: Doing::Running
            }],
            "still running at the end of the run"
        );
    }

    fn pause(t: f64, seconds: f64) -> Event {
        event(
            t,
            10,
            None,
            None,
            Kind::Pause {
                seconds,
                quit: false,
            },
        )
    }

    #[test]
    fn pauses_at_prompts_are_not_work() {
        let events = [
            event(0.0, 10, None, None, Kind::Start),
            // 5 s at a prompt, from 1 to 6 s; then two prompts in a row (a page of notes,
            // then the prompt that runs the step): one pause of 4 s, from 7 to 11 s.
            pause(6.0, 5.0),
            pause(9.0, 2.0),
            pause(11.0, 1.9995),
            event(12.0, 10, None, None, Kind::Done { code: 0 }),
        ];
        let lives = Lives::from_events(&events);
        assert_eq!(
            lives.pauses,
            [
                Pause {
                    from: 1.0,
                    until: 6.0
                },
                Pause {
                    from: 7.0,
                    until: 11.0
                }
            ]
        );
        assert_eq!(lives.work_time(0.5), 0.5);
        assert_eq!(
            lives.work_time(3.0),
            1.0,
            "inside a pause, work stands still"
        );
        assert_eq!(lives.work_time(6.5), 1.5);
        assert_eq!(lives.work_span(), 3.0);
        assert_eq!(lives.paused(), 9.0);
        assert!(!lives.quit_before_any_step);
    }

    #[test]
    fn work_done_during_a_pause_is_not_cut_out() {
        let events = [
            event(0.0, 10, None, None, Kind::Start),
            event(0.5, 11, None, None, Kind::Start),
            // The main process waits at a prompt from 1 to 6 s; its child works on until
            // 1.4 s: only 1.4 to 6 s is a pause.
            event(1.4, 11, None, None, Kind::Done { code: 0 }),
            pause(6.0, 5.0),
            event(7.0, 10, None, None, Kind::Done { code: 0 }),
        ];
        let lives = Lives::from_events(&events);
        assert_eq!(
            lives.pauses,
            [Pause {
                from: 1.4,
                until: 6.0
            }]
        );
        assert_eq!(lives.work_span(), 7.0 - 4.6);
        let main = lives.get(&Actor::process(10));
        assert!(
            main.blocked_at(1.2, 7.0),
            "waiting at the prompt while its child works"
        );
        assert!(!main.blocked_at(0.7, 7.0));
    }

    #[test]
    fn a_timeline_scale_gives_each_pause_one_column_and_the_work_the_rest() {
        let events = [
            event(0.0, 10, None, None, Kind::Start),
            pause(11.0, 10.0),
            event(12.0, 10, None, None, Kind::Done { code: 0 }),
        ];
        let lives = Lives::from_events(&events);
        // 2 s of work in 21 columns: 20 for the work (0.1 s each), 1 for the pause.
        let scale = Scale::new(&lives, 21);
        assert!((scale.seconds_per_column() - 0.1).abs() < 1e-9);
        assert_eq!(scale.column(0.0), 0);
        assert_eq!(scale.column(0.5), 5);
        assert_eq!(
            scale.column(0.99),
            9,
            "a time inside the work is in the work's columns"
        );
        assert_eq!(scale.column(1.0), 10, "the pause begins: its break");
        assert_eq!(scale.column(5.0), 10, "inside the pause: the break");
        assert_eq!(scale.column(11.0), 11, "after the pause: the next column");
        assert_eq!(scale.column(12.0), 21);
        assert_eq!(scale.cell(10), Cell::Break);
        let Cell::At(t) = scale.cell(4) else {
            panic!("column 4 is work")
        };
        assert!((t - 0.45).abs() < 1e-9, "{t}");
        let Cell::At(t) = scale.cell(11) else {
            panic!("column 11 is work")
        };
        assert!((t - 11.05).abs() < 1e-9, "after the pause, real time: {t}");
    }

    #[test]
    fn quitting_at_the_first_prompt_means_no_step_ran() {
        let events = [
            event(0.0, 10, None, None, Kind::Start),
            event(
                0.001,
                10,
                None,
                None,
                Kind::Step {
                    index: 1,
                    title: "One".into(),
                },
            ),
            event(
                2.0,
                10,
                None,
                None,
                Kind::Pause {
                    seconds: 1.99,
                    quit: true,
                },
            ),
        ];
        let lives = Lives::from_events(&events);
        assert!(lives.quit_before_any_step);
        assert!(lives.work_span() < 0.02);
    }

    /// Events in which process 10 forks a child for each name, each started; those in
    /// `reaped` (by index) reaped with the code given, the others left unreaped.
    fn family_of_children(names: &[&str], reaped: &[(usize, i32)]) -> Vec<Event> {
        let mut events = vec![event(0.0, 10, None, None, Kind::Start)];
        for (i, name) in names.iter().enumerate() {
            let pid = 100 + i as i32;
            let spawn = Kind::Spawn {
                child: pid,
                child_name: name.to_string(),
            };
            events.push(event(0.1, 10, None, None, spawn));
            events.push(event(0.2, pid, None, None, Kind::Done { code: 0 }));
        }
        for &(i, exitcode) in reaped {
            let exit = Kind::Exit {
                child: 100 + i as i32,
                exitcode,
                is_thread: false,
            };
            events.push(event(0.3, 10, None, None, exit));
        }
        events
    }

    fn buyers(count: usize) -> Vec<String> {
        (1..=count).map(|i| format!("buyer-{i}")).collect()
    }

    fn sizes(groups: &[Group]) -> Vec<usize> {
        groups
            .iter()
            .map(|group| match group {
                Group::One(_) => 1,
                Group::Crowd(actors) => actors.len(),
            })
            .collect()
    }

    #[test]
    fn a_family_is_the_leading_letters_of_a_name() {
        assert_eq!(family("buyer-7"), "buyer");
        assert_eq!(family("r12-left"), "r");
        assert_eq!(family("Thread-3"), "Thread");
        assert_eq!(family("main"), "main");
        assert_eq!(family("7up"), "", "no letters first: never in a crowd");
    }

    #[test]
    fn more_than_six_alike_siblings_in_a_row_are_a_crowd() {
        let names = buyers(10);
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let reaped: Vec<(usize, i32)> = (0..10).map(|i| (i, if i == 4 { 1 } else { 0 })).collect();
        let lives = Lives::from_events(&family_of_children(&names, &reaped));
        // Different exit codes are still the same way of ending: reaped by the parent.
        assert_eq!(sizes(&lives.child_groups(10)), [10]);
        let six = Lives::from_events(&family_of_children(&names[..6], &reaped[..6]));
        assert_eq!(sizes(&six.child_groups(10)), [1; 6], "six are not a crowd");
    }

    #[test]
    fn a_crowd_is_broken_by_another_name_another_ending_or_a_child_of_its_own() {
        let mut names: Vec<String> = buyers(7);
        names.push("alex".into());
        names.extend(buyers(7));
        names.extend(buyers(8));
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        // Reaped: 7 buyers, alex, 7 buyers, then 4 of the last 8; 4 left unreaped.
        let reaped: Vec<(usize, i32)> = (0..19).map(|i| (i, 0)).collect();
        let mut events = family_of_children(&names, &reaped);
        let lives = Lives::from_events(&events);
        // The 7 + 4 reaped buyers after alex are one run; the 4 unreaped ones end it.
        assert_eq!(sizes(&lives.child_groups(10)), [7, 1, 11, 1, 1, 1, 1]);
        // A buyer in the middle of the first seven forks a child: no longer a leaf.
        let fork = Kind::Spawn {
            child: 500,
            child_name: "helper".into(),
        };
        events.push(event(0.4, 103, None, None, fork));
        let lives = Lives::from_events(&events);
        assert_eq!(
            sizes(&lives.child_groups(10))[..5],
            [1, 1, 1, 1, 1],
            "three alike, one with a child, three alike, alex: no crowd before the 7"
        );
    }

    #[test]
    fn alike_threads_of_a_process_are_a_crowd_too() {
        let mut events = vec![event(0.0, 10, None, None, Kind::Start)];
        for i in 0..8 {
            let name = format!("work-{}", i + 1);
            events.push(event(0.1, 10, Some(20 + i), Some(&name), Kind::Start));
            let joined = Kind::Exit {
                child: 20 + i,
                exitcode: 0,
                is_thread: true,
            };
            events.push(event(0.2, 10, None, None, joined));
        }
        let lives = Lives::from_events(&events);
        assert_eq!(sizes(&lives.thread_groups(10)), [8]);
        assert_eq!(lives.get(lives.threads_of(10)[0]).ending(), Ending::Reaped);
    }

    #[test]
    fn an_orphan_and_an_unreaped_child_end_differently_from_a_reaped_one() {
        let mut events = family_of_children(&["a-1", "a-2", "a-3"], &[(0, 0)]);
        events.push(event(
            0.5,
            1,
            None,
            None,
            Kind::Exit {
                child: 101,
                exitcode: -15,
                is_thread: false,
            },
        ));
        let lives = Lives::from_events(&events);
        let endings: Vec<Ending> = [100, 101, 102]
            .iter()
            .map(|pid| lives.process(*pid).unwrap().ending())
            .collect();
        assert_eq!(endings, [Ending::Reaped, Ending::Orphan, Ending::NotReaped]);
    }

    #[test]
    fn a_name_range_gives_each_pattern_once_with_its_numbers() {
        let names = [
            "buyer-3", "buyer-10", "buyer-1", "r2-left", "r9-left", "bare-a", "x1y2", "solo-4",
        ];
        let lives = Lives::from_events(&family_of_children(&names, &[]));
        let actors: Vec<Actor> = lives
            .children_of(10)
            .into_iter()
            .map(Actor::process)
            .collect();
        assert_eq!(
            lives.name_range(&actors),
            "buyer-1..buyer-10, r2-left..r9-left, bare-a, x#y#, solo-4"
        );
    }
}

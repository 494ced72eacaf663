//! The lab's frame in Chinese (`--lang zh`), through the real binary: the lesson list, the
//! human view of a run (header, column names, event lines, step headings, prompts, tree,
//! timeline, summary), `--repeat`'s histograms, and the locale that chooses Chinese when
//! `--lang` does not. Chinese takes two columns a character: every line must still fit the
//! terminal, and the columns must still line up.

mod common;

use common::Lab;
use proclab::i18n::is_cjk;
use proclab::view::notes::display_width;

/// The human view of `proclab <args>` at `columns`, without colour, standard input `stdin`.
fn human(lab: &Lab, args: &[&str], columns: usize, stdin: &str) -> String {
    let mut args = args.to_vec();
    args.push("--no-color");
    let mut command = lab.command(&args);
    command.env("COLUMNS", columns.to_string());
    let finished = lab.run_command(command, stdin);
    assert!(
        finished.status.success(),
        "{args:?}: {:?}\n{}",
        finished.status,
        finished.stderr
    );
    finished.stdout
}

/// Every line of `out` fits `columns` terminal columns.
#[track_caller]
fn fits(out: &str, columns: usize) {
    for line in out.lines() {
        assert!(
            display_width(line) <= columns,
            "{} columns at {columns}: {line}\n{out}",
            display_width(line)
        );
    }
}

/// The terminal column at which `bar` first appears in `line`, if it does.
fn column_of(line: &str, bar: char) -> Option<usize> {
    line.find(bar).map(|at| display_width(&line[..at]))
}

#[test]
fn the_lesson_list_in_chinese_fits_and_is_chinese() {
    let lab = Lab::new();
    for columns in [80, 120] {
        let listed = human(&lab, &["list", "--lang", "zh"], columns, "");
        fits(&listed, columns);
        let mut lines = listed.lines();
        assert!(
            lines.next().unwrap().starts_with("proclab 的课程"),
            "{listed}"
        );
        assert!(listed.contains("标题"), "{listed}");
        // In the wide table, the column of what each lesson teaches starts at the same place
        // on every lesson's first line, however wide its Chinese title is.
        if columns == 120 {
            let header = listed.lines().find(|l| l.contains("标题")).unwrap();
            let teaches_at = column_of(header, '这').unwrap();
            let mut rows = 0;
            for row in listed.lines().filter(|l| {
                l.split_whitespace()
                    .next()
                    .is_some_and(|w| w.parse::<u32>().is_ok())
            }) {
                // The teaches text starts after the title's padding: the character at
                // `teaches_at` is not a space, and the one before it is.
                let mut width = 0;
                let mut previous = ' ';
                let mut at_column = None;
                for c in row.chars() {
                    if width == teaches_at {
                        at_column = Some((previous, c));
                        break;
                    }
                    width += display_width(&c.to_string());
                    previous = c;
                }
                let (previous, first) = at_column.unwrap_or_else(|| panic!("short row: {row}"));
                assert!(
                    previous == ' ' && first != ' ',
                    "teaches column off at {teaches_at}: {row}"
                );
                rows += 1;
            }
            assert!(rows >= 4, "{listed}");
        }
    }
}

/// The lines of the run's own list of events (from the column names to the summary).
fn event_lines(out: &str, names: &str, summary: &str) -> Vec<String> {
    out.lines()
        .skip_while(|l| !l.contains(names))
        .take_while(|l| !l.starts_with(summary))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_run_in_chinese_fits_80_and_120_columns_with_and_without_ascii() {
    let lab = Lab::new();
    for columns in [80, 120] {
        for ascii in [false, true] {
            let mut args = vec!["run", "1", "--lang", "zh", "--speed", "20"];
            if ascii {
                args.push("--ascii");
            }
            let out = human(&lab, &args, columns, "");
            fits(&out, columns);
            let context = format!("{columns} columns, ascii {ascii}:\n{out}");
            for chinese in [
                "proclab · 第 1 课",
                "种子",
                "发生了什么",
                "第 1 步（共 4 步）",
                "fork 出子进程",
                "回收了子进程",
                "课程完成",
                "进程树",
                "时间线",
                "运行，",
                "阻塞（等待）",
                "退出码 0",
            ] {
                let chinese = match ascii {
                    true => proclab::view::theme::to_ascii(chinese),
                    false => chinese.into(),
                };
                assert!(out.contains(chinese.as_ref()), "{chinese}: {context}");
            }
            for english in ["what happened", "Step 1 of", "Timeline:", "Process tree"] {
                assert!(!out.contains(english), "{english}: {context}");
            }
            // Every event line has its bar in one column: the prefix is as wide with a
            // Chinese column name as with an English one.
            let bar = if ascii { '|' } else { '│' };
            let lines = event_lines(&out, "发生了什么", "课程完成");
            assert!(lines.len() > 20, "{context}");
            for line in &lines {
                if line.is_empty() || line.starts_with("──") || line.starts_with("--") {
                    continue;
                }
                assert_eq!(column_of(line, bar), Some(38), "{line}\n{context}");
            }
            // And every lane of the timeline starts and ends its cells in the same columns.
            let lanes: Vec<&str> = out
                .lines()
                .skip_while(|l| !l.starts_with("时间线"))
                .filter(|l| l.ends_with(bar))
                .collect();
            assert!(lanes.len() >= 5, "{context}");
            let ends: Vec<usize> = lanes.iter().map(|l| display_width(l)).collect();
            assert!(ends.iter().all(|&e| e == ends[0]), "{ends:?}: {context}");
            for lane in lanes {
                assert_eq!(column_of(lane, bar), Some(22), "{lane}\n{context}");
            }
        }
    }
}

#[test]
fn step_prompts_are_chinese_with_enter_piped_in() {
    let lab = Lab::new();
    let enter = "\n".repeat(20);
    let out = human(
        &lab,
        &["run", "1", "--lang", "zh", "--speed", "20", "--step"],
        80,
        &enter,
    );
    fits(&out, 80);
    for prompt in [
        "第 1/4 步（",
        "。按 Enter 运行（q 加 Enter 退出）",
        "第 1/4 步结束（",
        "。Enter：第 2 步；q：退出",
        "第 4/4 步结束（",
        "。Enter：进程树和时间线；q：退出",
    ] {
        assert!(out.contains(prompt), "{prompt}:\n{out}");
    }
    assert!(!out.contains("Press Enter"), "{out}");
    assert!(!out.contains("End of step"), "{out}");
}

#[test]
fn the_locale_chooses_chinese_and_lang_overrides_it() {
    let lab = Lab::new();
    let run = |lang: Option<&str>| {
        let mut args = vec!["run", "1", "--speed", "20", "--no-color"];
        if let Some(lang) = lang {
            args.extend(["--lang", lang]);
        }
        let mut command = lab.command(&args);
        command.env("LANG", "zh_CN.UTF-8").env("COLUMNS", "80");
        let finished = lab.run_command(command, "");
        assert!(finished.status.success(), "{}", finished.stderr);
        finished.stdout
    };
    let from_locale = run(None);
    assert!(from_locale.contains("发生了什么"), "{from_locale}");
    assert!(from_locale.contains("课程完成"), "{from_locale}");
    let english = run(Some("en"));
    assert!(english.contains("what happened"), "{english}");
    assert!(english.contains("lesson finished after"), "{english}");
    // The lab's own lines are English through and through (the lesson's notes are its own).
    let frame: Vec<&str> = english
        .lines()
        .filter(|l| {
            l.starts_with("Process tree") || l.starts_with("Timeline") || l.contains("name")
        })
        .collect();
    assert!(frame.len() >= 3, "{english}");
    for line in frame {
        assert!(!line.chars().any(is_cjk), "{line}");
    }
    // The JSON says which language the run spoke.
    let mut command = lab.command(&["run", "1", "--speed", "20", "--json"]);
    command.env("LANG", "zh_CN.UTF-8");
    let events = lab.run_command(command, "").events();
    assert_eq!(events.find("lesson", |_| true)["lang"], "zh");
}

#[test]
fn repeat_speaks_chinese() {
    let lab = Lab::new();
    let out = human(
        &lab,
        &[
            "run", "1", "--repeat", "3", "--lang", "zh", "--speed", "20", "--seed", "5",
        ],
        80,
        "",
    );
    fits(&out, 80);
    for chinese in [
        "proclab · 第 1 课",
        "完成 3 次运行（要求 3 次）",
        "种子 5 到 7",
        "第 1 步 · ",
        "单独重放任意一条",
        "3 次运行，用时",
    ] {
        assert!(out.contains(chinese), "{chinese}:\n{out}");
    }
    assert!(!out.contains("Replay any bar"), "{out}");
}

#[test]
fn a_folded_crowd_is_counted_in_chinese() {
    let lab = Lab::new();
    let out = human(&lab, &["run", "5", "--lang", "zh", "--speed", "20"], 80, "");
    fits(&out, 80);
    let folded = out
        .lines()
        .find(|l| l.contains("… 还有 "))
        .unwrap_or_else(|| panic!("no folded line:\n{out}"));
    assert!(folded.contains(" 个进程 buyer-"), "{folded}");
    assert!(folded.contains("，pid "), "{folded}");
    assert!(folded.contains("：全部退出码 0"), "{folded}");
    assert!(
        out.contains("N name*：N 个相似的进程或线程合用一行"),
        "{out}"
    );
}

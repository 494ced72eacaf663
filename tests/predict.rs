//! `proclab run N --predict`: questions before steps, predictions read from standard input,
//! answers computed from the run's own events, the score; through the real binary.

mod common;

use common::{Lab, step_of, t};

#[test]
fn right_predictions_score_and_wrong_ones_are_explained() {
    let lab = Lab::new();
    let right = lab.predicted("1", "5", "1\n2\n", &[]);
    for step in [1, 2] {
        let v = right.verdict(step);
        assert_eq!(v["right"], true, "{v}");
        assert!(v["choices"].as_array().unwrap().len() >= 2);
        assert!(v["question"].as_str().unwrap().ends_with('?'));
    }
    assert_eq!(right.verdict(1)["given"], "主进程");
    assert!(
        right
            .texts("note")
            .contains(&"You predicted 2 of 2 right.".to_string())
    );

    let wrong = lab.predicted("1", "5", "2\n1\n", &[]);
    for step in [1, 2] {
        let v = wrong.verdict(step);
        assert_eq!(v["right"], false, "{v}");
        assert_ne!(v["given"], v["observed"]);
        assert!(!v["why"].as_str().unwrap().is_empty());
    }
    assert!(
        wrong
            .texts("note")
            .contains(&"You predicted 0 of 2 right.".to_string())
    );
    // The question came before the step's work, the verdict after it.
    let question = wrong.position("question", |e| e["step"] == 1);
    let answer = wrong.position("answer", |e| e["step"] == 1);
    let main_line = wrong.position("say", |e| e["text"].as_str().unwrap().contains("主进程"));
    let judged = wrong.position("predict", |e| e["step"] == 1);
    assert!(question < answer && answer < main_line && main_line < judged);
}

/// The answers are computed from the events of the same run, lesson by lesson; where they can
/// vary, with two seeds.
#[test]
fn each_answer_is_what_the_runs_own_events_say() {
    let lab = Lab::new();
    for seed in ["3", "8"] {
        // Lesson 1: which line first; the sleeps in all.
        let run = lab.predicted("1", seed, "1\n1\n", &[]);
        let main_line = t(run.find("say", |e| e["text"] == "主进程 / main process"));
        let alex_done = t(run.find("say", |e| e["text"] == "alex is done"));
        let first = if alex_done < main_line {
            "alex is done"
        } else {
            "主进程"
        };
        assert_eq!(run.verdict(1)["observed"], first);
        let lives: Vec<(f64, f64)> = ["alex", "wupeiqi", "yuanhao"]
            .iter()
            .map(|name| {
                let pid = run.pid_of(name);
                (run.time_of("start", pid), run.time_of("done", pid))
            })
            .collect();
        let span = lives.iter().map(|l| l.1).fold(0.0, f64::max)
            - lives.iter().map(|l| l.0).fold(f64::INFINITY, f64::min);
        let sum: f64 = lives.iter().map(|l| l.1 - l.0).sum();
        let longest = lives.iter().map(|l| l.1 - l.0).fold(0.0, f64::max);
        let expected = if (span - longest).abs() <= (sum - span).abs() {
            "about the longest sleep"
        } else {
            "about the sum of the sleeps"
        };
        assert_eq!(run.verdict(2)["observed"], expected);

        // Lesson 2: whose line first in step 1 (a race); who runs run() called directly.
        let run = lab.predicted("2", seed, "1\n1\n", &[]);
        let main = run.main_pid();
        let first = run
            .of_kind("say")
            .into_iter()
            .find(|e| {
                step_of(&run, t(e)) == 1
                    && (e["pid"] != main || e["text"].as_str().unwrap().contains("主进程"))
            })
            .unwrap();
        let expected = if first["pid"] == main {
            "主进程".to_string()
        } else {
            first["name"].as_str().unwrap().to_string()
        };
        assert_eq!(run.verdict(1)["observed"], expected);
        let direct = run.find("say", |e| e["text"] == "run-direct is working");
        let expected = if direct["pid"] == main {
            "the main process"
        } else {
            "a new child process"
        };
        assert_eq!(run.verdict(2)["observed"], expected);

        // Lesson 5: the buyers' own 购票成功 lines, counted in each step.
        let run = lab.predicted("5", seed, "1\n1\n", &[]);
        for step in [1, 2] {
            let sold = run
                .of_kind("say")
                .into_iter()
                .filter(|e| step_of(&run, t(e)) == step)
                .filter(|e| e["text"].as_str().unwrap().contains("bought the ticket"))
                .count();
            let observed = run.verdict(step as i64)["observed"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(
                observed == sold.to_string() || observed.ends_with(&format!("({sold})")),
                "step {step}: {observed} against {sold} sold"
            );
        }
    }

    // Lesson 3: the daemon's exit code as reaped; the orphan's parent read from /proc.
    let run = lab.predicted("3", "3", "2\n2\n3\n", &[]);
    let counter = run.pid_of("counter");
    assert_eq!(run.exitcode_of(counter), -15);
    assert_eq!(run.verdict(1)["observed"], "-15 (SIGTERM)");
    let doomed_reaped = t(run.find("exit", |e| e["child"] == run.pid_of("doomed")));
    let grandchild = run.pid_of("grandchild");
    let read = run.find("state", |e| {
        e["of"] == grandchild && t(e) >= doomed_reaped && !e["ppid_of"].is_null()
    });
    assert_eq!(read["ppid_of"], run.lab_pid());
    assert_eq!(run.verdict(3)["observed"], "proclab");
    assert_eq!(run.verdict(3)["right"], true);

    // Lesson 4: who forked the handlers.
    let run = lab.predicted("4", "3", "1\n", &[]);
    let spawner = run.find("spawn", |e| e["child_name"] == "handler");
    assert_eq!(run.verdict(1)["observed"], spawner["name"]);
}

#[test]
fn a_choice_outside_the_list_is_asked_again_and_q_quits() {
    let lab = Lab::new();
    let run = lab.predicted("1", "2", "7\nmaybe\n1\n2\n", &[]);
    assert!(
        run.texts("note")
            .iter()
            .any(|n| n.contains("\"7\" is not one of the choices")),
        "{}",
        run.dump()
    );
    assert_eq!(run.verdict(1)["given"], "主进程");
    assert_eq!(run.of_kind("answer").len(), 2);

    let finished = lab.run(&["run", "1", "--predict", "--speed", "20"], "q\n");
    assert_eq!(finished.status.code(), Some(0), "{}", finished.stderr);
    assert!(finished.stdout.contains("Stopped at the prompt"));
    assert!(!finished.stdout.contains("You predicted"));
}

/// With `--step`, the verdict comes at the prompt after the step's output, before the next
/// step; the human view shows the question, its choices and the verdict.
#[test]
fn with_step_mode_the_verdict_comes_at_the_end_of_the_step() {
    let lab = Lab::new();
    // Step 1: run it, predict, then Enter after its output; the same for step 2; step 3.
    let answers = "\n1\n\n\n2\n\n\n\n";
    let run = lab.run(
        &[
            "run",
            "1",
            "--predict",
            "--step",
            "--json",
            "--speed",
            "20",
            "--seed",
            "4",
        ],
        answers,
    );
    assert!(run.status.success(), "{}", run.stderr);
    let events = run.events();
    let judged = events.position("predict", |e| e["step"] == 1);
    let step_2 = events.position("step", |e| e["index"] == 2);
    assert!(judged < step_2);
    assert!(matches!(
        events.0[judged + 1]["kind"].as_str(),
        Some("wait")
    ));
    assert_eq!(events.verdict(2)["right"], true);

    let human = lab.run(
        &["run", "1", "--predict", "--speed", "20", "--color", "never"],
        "2\n2\n",
    );
    let text = &human.stdout;
    assert!(text.contains("Predict, before step 1 runs"), "{text}");
    assert!(text.contains("1) 主进程"), "{text}");
    assert!(text.contains("Your prediction: alex is done"), "{text}");
    assert!(
        text.contains("Step 1: you predicted alex is done; this run says 主进程"),
        "{text}"
    );
    assert!(text.contains("You predicted 1 of 2 right."), "{text}");
}

/// The questions files are Markdown, but a question is asked in plain text: no code marks
/// reach the terminal or the JSON (lesson 9's first question names `Semaphore(3)`).
#[test]
fn questions_are_asked_without_markdown_code_marks() {
    let lab = Lab::new();
    for lang in ["en", "zh"] {
        let run = lab.predicted("9", "3", "1\n1\n", &["--lang", lang]);
        let questions = run.of_kind("question");
        assert!(!questions.is_empty());
        for question in questions {
            let text = question.to_string();
            assert!(
                text.contains("Semaphore(3)") || question["step"] != 1,
                "{text}"
            );
            assert!(!text.contains('`'), "{text}");
        }
    }
}

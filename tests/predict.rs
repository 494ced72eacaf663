//! `proclab run N --predict`: questions before steps, predictions read from standard input,
//! answers computed from the run's own events, the score; through the real binary.

mod common;

use common::Lab;

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

// That each answer is what the run's own events say is tested lesson by lesson, with two
// seeds in English and once in Chinese, in `tests/lesson_NN.rs`
// (`predictions_are_answered_from_the_runs_own_events` and its kin).

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
    // Step 1: predict, run it, then Enter after its output; the same for step 2; step 3.
    let answers = "1\n\n\n2\n\n\n\n\n";
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
    // Before the step runs: its question and the prediction, then the Enter that runs it.
    let step_1 = events.position("step", |e| e["index"] == 1);
    let prompts: Vec<(usize, &str)> = events
        .0
        .iter()
        .enumerate()
        .skip(step_1)
        .filter(|(_, e)| e["kind"] == "question" || e["on"] == "prompt")
        .map(|(i, e)| (i, e["object"].as_str().unwrap_or("question")))
        .take(4)
        .collect();
    let asked: Vec<&str> = prompts.iter().map(|(_, what)| *what).collect();
    assert_eq!(
        asked,
        ["question", "prediction", "Enter", "Enter"],
        "{}",
        events.dump()
    );
    let answered = events.position("answer", |e| e["step"] == 1);
    let (run_it, after_it) = (prompts[2].0, prompts[3].0);
    assert!(answered < run_it, "{}", events.dump());
    let judged = events.position("predict", |e| e["step"] == 1);
    // Judged once the step has run: after its own events, at the prompt after them.
    assert!(
        run_it + 2 < judged && judged < after_it,
        "{}",
        events.dump()
    );
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
    // Without --step, each verdict is said as its step ends, and the next step's lines follow
    // at once: the summary says them all again, last, after the timeline.
    let timeline = text.rfind("of work, one column").expect("the timeline");
    let recap = &text[timeline..];
    assert!(recap.contains("Your predictions, step by step:"), "{recap}");
    for verdict in [
        "Step 1: you predicted alex is done; this run says 主进程",
        "Step 2: you predicted",
        "You predicted 1 of 2 right.",
    ] {
        assert!(recap.contains(verdict), "{verdict}: {recap}");
    }
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

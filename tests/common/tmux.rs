//! A real terminal for tests: tmux, on a server of its own.

use std::process::Command;

use crate::common::Lab;

/// tmux on its own server (`-L`), so the test never touches anyone's sessions.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Runs `command` in a new terminal of `size` (columns, rows); `None` when tmux is not
    /// installed (with `PROCLAB_CI` set, that fails instead).
    pub fn start(lab: &Lab, name: &str, command: &str, size: (u16, u16)) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            assert!(
                std::env::var_os("PROCLAB_CI").is_none(),
                "tmux is needed for the real-terminal tests (PROCLAB_CI is set)"
            );
            return None;
        }
        let (columns, rows) = (size.0.to_string(), size.1.to_string());
        let tmux = Tmux {
            socket: format!("{}-tmux-{name}", lab.tag),
        };
        // Bounded, whatever happens to this test: a test process that is killed never runs
        // `Drop`, and a lesson waiting at a `--step` prompt would wait for ever in a terminal
        // nobody types into. `timeout` ends it (SIGTERM, which the lab cleans up after;
        // `--foreground` keeps the lab in the terminal's foreground, for its keys), and
        // then the session ends, and with it this tmux server.
        let shell = format!(
            "timeout --foreground 300 env TMPDIR={} PROCLAB_TEST_TAG={} {command}; echo EXITED $?; sleep 60",
            lab.tmp.display(),
            lab.tag
        );
        let started = tmux.run(&[
            "new-session",
            "-d",
            "-x",
            &columns,
            "-y",
            &rows,
            "-s",
            "lesson",
            &shell,
        ]);
        assert!(started.status.success(), "tmux: {started:?}");
        Some(tmux)
    }

    pub fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .env_remove("TMUX")
            .output()
            .unwrap()
    }

    /// The screen with what has scrolled off it above (up to `rows` lines of scrollback).
    pub fn history(&self, rows: usize) -> String {
        let start = format!("-{rows}");
        let captured = self.run(&["capture-pane", "-p", "-S", &start]);
        String::from_utf8_lossy(&captured.stdout).into_owned()
    }

    /// The screen's rows (one tmux call: for polling).
    pub fn rows(&self) -> Vec<String> {
        let text = String::from_utf8_lossy(&self.run(&["capture-pane", "-p"]).stdout).into_owned();
        text.lines().map(str::to_string).collect()
    }

    /// The screen, and the line the cursor is on.
    pub fn screen(&self) -> (Vec<String>, usize) {
        let text = String::from_utf8_lossy(&self.run(&["capture-pane", "-p"]).stdout).into_owned();
        let cursor =
            String::from_utf8_lossy(&self.run(&["display-message", "-p", "#{cursor_y}"]).stdout)
                .trim()
                .parse()
                .unwrap_or(0);
        (text.lines().map(str::to_string).collect(), cursor)
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
        // tmux leaves its socket file behind when its server ends: remove it too (it lives in
        // $TMUX_TMPDIR, or /tmp, under tmux-<uid>).
        let dir = std::env::var("TMUX_TMPDIR").unwrap_or_else(|_| "/tmp".to_string());
        // The uid of this process: the owner of its own /proc entry.
        let uid = std::os::unix::fs::MetadataExt::uid(
            &std::fs::metadata("/proc/self").expect("/proc/self"),
        );
        let socket = std::path::Path::new(&dir)
            .join(format!("tmux-{uid}"))
            .join(&self.socket);
        let _ = std::fs::remove_file(socket);
    }
}

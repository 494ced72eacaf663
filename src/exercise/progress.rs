//! The student's progress, kept in their folder as `.proclab-progress.json`, a small file a
//! teacher can collect: for each exercise, when it was started, in which language, how many
//! checks were run, when it first passed, and the last verdict.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::CodeLang;
use super::judge::Verdict;
use crate::error::{Error, Result};

/// The file's name, in the student's folder.
pub const FILE: &str = ".proclab-progress.json";

#[derive(Serialize, Deserialize, Default, Debug)]
pub struct Progress {
    /// By exercise folder (`01-overlap`).
    pub exercises: BTreeMap<String, ExerciseProgress>,
}

#[derive(Serialize, Deserialize, Default, Debug, Clone)]
pub struct ExerciseProgress {
    /// When `start` wrote the starter (UTC, `2026-12-07T19:30:00Z`).
    pub started: Option<String>,
    /// `py` or `rs`.
    pub lang: Option<String>,
    pub file: Option<String>,
    /// The starter as written (FNV-1a, hex): a file with another hash has the student's changes.
    pub starter_hash: String,
    pub checks: u32,
    /// When a check first passed.
    pub passed_at: Option<String>,
    pub last_verdict: Option<LastVerdict>,
    /// How many hints `hint` has shown.
    pub hints_seen: usize,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct LastVerdict {
    pub at: String,
    pub lang: String,
    pub passed: bool,
    pub verdict: String,
    pub hint: Option<usize>,
}

impl Progress {
    /// The folder's progress (empty when it has none yet).
    pub fn load(dir: &Path) -> Result<Progress> {
        let path = dir.join(FILE);
        match fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                Error::Usage(format!(
                    "{} is damaged ({e}): move it away to start a new one",
                    path.display()
                ))
            }),
            Err(_) => Ok(Progress::default()),
        }
    }

    /// Writes it whole, through a temp file and a rename, so that a reader never sees half.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let path = dir.join(FILE);
        let temp = dir.join(format!("{FILE}.{}", std::process::id()));
        let text = serde_json::to_string_pretty(self).unwrap_or_default() + "\n";
        fs::write(&temp, text)
            .and_then(|_| fs::rename(&temp, &path))
            .map_err(|e| {
                let _ = fs::remove_file(&temp);
                Error::Usage(format!("cannot write {}: {e}", path.display()))
            })
    }

    pub fn of(&self, folder: &str) -> Option<&ExerciseProgress> {
        self.exercises.get(folder)
    }

    pub fn started(&mut self, folder: &str, lang: CodeLang, file: &str, text: &str) {
        let entry = self.exercises.entry(folder.to_string()).or_default();
        entry.started = Some(now());
        entry.lang = Some(lang.extension().to_string());
        entry.file = Some(file.to_string());
        entry.starter_hash = hash(text.as_bytes());
    }

    pub fn checked(&mut self, folder: &str, lang: CodeLang, verdict: &Verdict) {
        let entry = self.exercises.entry(folder.to_string()).or_default();
        entry.checks += 1;
        let at = now();
        if verdict.passed && entry.passed_at.is_none() {
            entry.passed_at = Some(at.clone());
        }
        entry.last_verdict = Some(LastVerdict {
            at,
            lang: lang.extension().to_string(),
            passed: verdict.passed,
            verdict: verdict.why.clone(),
            hint: verdict.hint,
        });
    }

    /// How many hints to show now: up to the one the last failing check named, or one more
    /// than last time (at most `count`).
    pub fn next_hint(&mut self, folder: &str, count: usize) -> usize {
        let entry = self.exercises.entry(folder.to_string()).or_default();
        let named = entry
            .last_verdict
            .as_ref()
            .filter(|v| !v.passed)
            .and_then(|v| v.hint)
            .unwrap_or(0);
        let shown = (entry.hints_seen + 1).max(named).min(count);
        entry.hints_seen = shown;
        shown
    }
}

/// FNV-1a, 64 bits, in hex: enough to tell a changed file from the starter.
pub fn hash(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf29ce484222325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x100000001b3);
    }
    format!("{hash:016x}")
}

/// Now, in UTC, as `2026-12-07T19:30:00Z`.
fn now() -> String {
    let seconds = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_file_has_another_hash() {
        assert_eq!(hash(b"print(1)\n"), hash(b"print(1)\n"));
        assert_ne!(hash(b"print(1)\n"), hash(b"print(2)\n"));
    }
}

//! A planner run's transcript: one JSON Lines file per run under `.agentry/transcripts/`,
//! one line per model answer (prompt, answer, validation result, metadata) and a last line
//! with the run's end. A transcript that cannot be written is logged as a warning; the run
//! goes on without it.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use agentry_core::Timestamp;
use agentry_lean::contract::Rejection;
use agentry_store::planner::PlannerRunEnd;
use serde_json::{Value, json};

/// Where transcripts go, relative to the repository root.
pub const TRANSCRIPTS_DIR: &str = ".agentry/transcripts";

pub struct Transcript {
    run_id: i64,
    path: PathBuf,
    /// None once a write failed (logged once).
    file: Option<File>,
}

impl Transcript {
    /// Opens `DIR/plan-RUN.jsonl`, creating the folder; a failure is logged.
    pub fn open(dir: &Path, run_id: i64) -> Self {
        let path = dir.join(format!("plan-{run_id}.jsonl"));
        let opened = std::fs::create_dir_all(dir)
            .and_then(|()| OpenOptions::new().create(true).append(true).open(&path));
        let file = match opened {
            Ok(file) => Some(file),
            Err(err) => {
                warn(run_id, &path, &err);
                None
            }
        };
        Self { run_id, path, file }
    }

    pub(super) fn attempt(
        &mut self,
        planner: &str,
        attempt: u32,
        prompt: &str,
        answer: &str,
        rejections: &[Rejection],
    ) {
        self.write(json!({
            "run_id": self.run_id,
            "attempt": attempt,
            "prompt": prompt,
            "response": answer,
            "validation": {"accepted": rejections.is_empty(), "rejections": rejections},
            "metadata": {"planner": planner, "at": Timestamp::now()},
        }));
    }

    pub(super) fn failed_call(&mut self, planner: &str, attempt: u32, prompt: &str, error: &str) {
        self.write(json!({
            "run_id": self.run_id,
            "attempt": attempt,
            "prompt": prompt,
            "response": Value::Null,
            "error": error,
            "metadata": {"planner": planner, "at": Timestamp::now()},
        }));
    }

    pub(super) fn end(&mut self, end: &PlannerRunEnd) {
        self.write(json!({
            "run_id": self.run_id,
            "end": {
                "outcome": end.outcome,
                "error": end.error,
                "durationMs": end.duration_ms,
                "attempts": end.attempts,
            },
            "metadata": {"at": Timestamp::now()},
        }));
    }

    fn write(&mut self, line: Value) {
        let Some(file) = &mut self.file else { return };
        if let Err(err) = writeln!(file, "{line}") {
            warn(self.run_id, &self.path, &err);
            self.file = None;
        }
    }
}

fn warn(run_id: i64, path: &Path, err: &std::io::Error) {
    tracing::warn!(
        operation = "plan",
        run_id,
        path = %path.display(),
        error = %err,
        "cannot write the planner transcript; the run goes on without it"
    );
}

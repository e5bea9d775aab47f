//! `agentry lean state|clear-queue`: the lean fallbacks' state objects, and the runbook's
//! step of clearing their queue once an error's cause is dealt with.

use agentry_core::Timestamp;
use agentry_engine::lean::{FeatureState, LeanStates};
use anyhow::Result;

use crate::cli::LeanCommand;
use crate::output::{self, outln};
use crate::project::Project;

pub fn run(project: &Project, command: LeanCommand) -> Result<()> {
    let store = project.open_store()?;
    let now = Timestamp::now();
    match command {
        LeanCommand::State { json } => {
            let states = agentry_engine::lean::states(&store, &project.config, now)?;
            if json {
                return output::json(&states);
            }
            print(&states);
        }
        LeanCommand::ClearQueue => {
            let states = agentry_engine::lean::clear_queue(&store, &project.config, now)?;
            outln!("cleared the lean fallback queues and last errors");
            print(&states);
        }
    }
    Ok(())
}

fn print(states: &LeanStates) {
    print_state("plan rewrite", &states.plan_rewrite);
    print_state("field fallback", &states.field_fallback);
}

fn print_state(name: &str, state: &FeatureState) {
    let on = if state.enabled { "on" } else { "off" };
    let queue = &state.queue;
    outln!(
        "{name}: {on}, concurrency {}, cooldown {} ms{}",
        state.concurrency,
        state.cooldown_ms,
        if state.pending_cooldown {
            " (cooling down)"
        } else {
            ""
        }
    );
    outln!(
        "  queue: {} pending, {} in flight, {} completed, {} failed",
        queue.pending,
        queue.in_flight,
        queue.completed,
        queue.failed
    );
    let shown = |at: Option<Timestamp>| at.map_or("never".to_string(), |at| at.to_string());
    outln!(
        "  last attempt {}, success {}, failure {}",
        shown(state.last_attempt_at),
        shown(state.last_success_at),
        shown(state.last_failure_at)
    );
    if let Some(counts) = state.counts {
        outln!(
            "  attempts {}, successes {}, failures {}",
            counts.attempts,
            counts.successes,
            counts.failures
        );
    }
    if let Some(error) = &state.last_error {
        outln!("  last error: {error}");
    }
}

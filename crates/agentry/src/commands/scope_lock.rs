//! `agentry scope-lock ID GLOB...` reserves paths for an issue (the dispatcher runs no other
//! issue whose scope may touch them), `--release` ends the lock, `--list` shows the locks.

use agentry_core::Timestamp;
use agentry_core::scope_lock::ScopeLock;
use agentry_engine::scope_lock::{ScopeLockError, held, lock, release};
use anyhow::Result;

use super::engine::RUNTIME_DIR;
use crate::cli::ScopeLockArgs;
use crate::error::usage;
use crate::output::{self, outln};
use crate::project::Project;

pub fn run(project: &Project, args: ScopeLockArgs) -> Result<()> {
    let store = project.open_store()?;
    let now = Timestamp::now();
    let Some(id) = args.id else {
        let locks = held(&store, now)?;
        if args.json {
            return output::json(&locks);
        }
        if locks.is_empty() {
            outln!("no scope locks");
        }
        locks.iter().for_each(print);
        return Ok(());
    };
    let changed = match args.release {
        true => release(&store, &id, now),
        false => lock(&store, &id, &args.globs, now),
    }
    .map_err(refusal)?;
    // A running dispatcher looks at the queue now: a release may let an issue start.
    agentry_engine::wake::wake_dispatchers(&project.root.join(RUNTIME_DIR));
    if args.json {
        return output::json(&changed);
    }
    match args.release {
        true => outln!("{id} released {}", changed.globs.join(" ")),
        false => outln!("{id} locks {}", changed.globs.join(" ")),
    }
    Ok(())
}

fn print(lock: &ScopeLock) {
    outln!(
        "{:<10} {}  {}",
        lock.issue_id,
        lock.locked_at,
        lock.globs.join(" ")
    );
}

fn refusal(err: ScopeLockError) -> anyhow::Error {
    match err {
        ScopeLockError::Store(err) => err.into(),
        refused => usage(refused.to_string()),
    }
}

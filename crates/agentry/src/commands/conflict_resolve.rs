//! `agentry conflict-resolve [--apply]`: issue branches that change the same files or would
//! conflict, the later issue of each pair to freeze, its owner and the merge path; `--apply`
//! blocks the frozen issues.

use agentry_core::Timestamp;
use agentry_engine::conflict_resolve::resolve;
use anyhow::Result;

use crate::output::{self, outln};
use crate::project::Project;

pub fn run(project: &Project, apply: bool, json: bool) -> Result<()> {
    let store = project.open_store()?;
    let base = &project.config.session.base_branch;
    let report = resolve(&store, &project.root, base, apply, Timestamp::now())?;
    if json {
        return output::json(&report);
    }
    if report.freezes.is_empty() {
        outln!(
            "no conflicts among {} branch(es) against {base}",
            report.compared.len()
        );
    }
    for f in &report.freezes {
        let verb = match (apply, f.when_session_ends) {
            (true, true) => "frozen when its running session ends",
            (true, false) => "frozen",
            (false, _) => "to freeze",
        };
        outln!(
            "{} {verb}: {} with {} in {}",
            f.freeze.frozen,
            f.freeze.kind.as_str(),
            f.freeze.owner,
            f.freeze.files.join(", ")
        );
        outln!("  owner {}; {}", f.freeze.owner, f.merge_path);
    }
    if !apply && !report.freezes.is_empty() {
        outln!("nothing changed; run with --apply to block the issues to freeze");
    }
    Ok(())
}

//! The files an issue's verify commands run (`sh tests/login.sh`), as the base branch has
//! them when the session begins: read-only in its agents' sandbox, and checked after every
//! turn, so that no agent passes its checks by changing them (without a sandbox, or by moving
//! the folder a read-only file lies in). Files the issue's branch made or changed are its
//! agents' own work, theirs to change.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use agentry_core::Role;
use agentry_core::verify_scripts::verify_scripts;

use crate::driver::SessionRun;

/// Each file, relative to the worktree, with a digest of what it held.
#[derive(Clone, Debug, Default)]
pub(crate) struct VerifyFiles(Vec<(PathBuf, Option<u64>)>);

impl VerifyFiles {
    /// The files `commands` run that are files of `worktree` now, but for those the branch
    /// changed (`branch_changed`).
    pub(crate) fn snapshot(
        commands: &[String],
        worktree: &Path,
        branch_changed: &[String],
    ) -> Self {
        let files = verify_scripts(commands)
            .into_iter()
            .filter(|path| !branch_changed.contains(path))
            .map(PathBuf::from)
            .filter(|path| worktree.join(path).is_file())
            .map(|path| {
                let digest = digest(&worktree.join(&path));
                (path, digest)
            });
        Self(files.collect())
    }

    pub(crate) fn paths(&self, worktree: &Path) -> Vec<PathBuf> {
        self.0.iter().map(|(path, _)| worktree.join(path)).collect()
    }

    /// The first file that no longer holds what it held.
    pub(crate) fn changed(&self, worktree: &Path) -> Option<&Path> {
        self.0
            .iter()
            .find(|(path, was)| digest(&worktree.join(path)) != *was)
            .map(|(path, _)| path.as_path())
    }
}

impl SessionRun {
    /// The verify scripts, as they were when the session's first turn began.
    pub(crate) async fn verify_files(&mut self) -> Result<VerifyFiles, String> {
        if let Some(files) = &self.verify_files {
            return Ok(files.clone());
        }
        let changed = self.branch_changes().await?;
        let files = VerifyFiles::snapshot(&self.issue.verify, &self.workdir, &changed);
        self.verify_files = Some(files.clone());
        Ok(files)
    }

    /// The files the issue's branch changed since it forked from the base branch.
    async fn branch_changes(&self) -> Result<Vec<String>, String> {
        let Some(workspace) = self.engine.workspace.clone() else {
            return Ok(Vec::new());
        };
        let (id, base) = (
            self.issue.id.clone(),
            self.engine.settings.base_branch.clone(),
        );
        tokio::task::spawn_blocking(move || workspace.changed_files(&id, &base))
            .await
            .map_err(|e| e.to_string())?
            .map(Option::unwrap_or_default)
            .map_err(|e| e.to_string())
    }

    /// An error when the turn that just ended changed a verify script.
    pub(crate) fn check_verify_scripts(&self, role: Role) -> Result<(), String> {
        let changed = self
            .verify_files
            .as_ref()
            .and_then(|files| files.changed(&self.workdir));
        match changed {
            Some(changed) => Err(format!(
                "verify_script_changed: the {role} agent changed {}, which the verify commands run; an agent may not change its own checks",
                changed.display()
            )),
            None => Ok(()),
        }
    }
}

fn digest(path: &Path) -> Option<u64> {
    let bytes = std::fs::read(path).ok()?;
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    Some(hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_changed_or_removed_is_found_but_not_the_branchs_own() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("tests")).unwrap();
        std::fs::write(dir.path().join("tests/login.sh"), "grep -q ok out\n").unwrap();
        std::fs::write(dir.path().join("made.sh"), "true\n").unwrap();
        std::fs::write(dir.path().join("read.txt"), "ok\n").unwrap();
        let commands = ["sh tests/login.sh && sh made.sh && grep -q ok read.txt".to_string()];
        let files = VerifyFiles::snapshot(&commands, dir.path(), &["made.sh".to_string()]);
        assert_eq!(files.paths(dir.path()), [dir.path().join("tests/login.sh")]);
        std::fs::write(dir.path().join("made.sh"), "false\n").unwrap();
        std::fs::write(dir.path().join("read.txt"), "changed\n").unwrap();
        assert_eq!(files.changed(dir.path()), None);
        std::fs::write(dir.path().join("tests/login.sh"), "exit 0\n").unwrap();
        assert_eq!(files.changed(dir.path()), Some(Path::new("tests/login.sh")));
        std::fs::remove_file(dir.path().join("tests/login.sh")).unwrap();
        assert_eq!(files.changed(dir.path()), Some(Path::new("tests/login.sh")));
    }
}

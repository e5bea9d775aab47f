//! Scope locks: paths reserved for one issue, so that the dispatcher starts no other issue whose
//! scope may touch them. The rules only; the store keeps each lock as a state object.

use serde::{Deserialize, Serialize};

use crate::schedule::scopes_overlap;
use crate::{Issue, IssueId, Timestamp};

/// The state-object keys of the locks start with this, followed by the issue id.
pub const KEY_PREFIX: &str = "scope_lock:";
/// The most globs one lock holds (the dispatch packet's limit for a scope).
pub const MAX_GLOBS: usize = 40;
/// The longest glob accepted, in characters.
pub const MAX_GLOB_LEN: usize = 260;

/// Paths reserved for an issue, and since when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeLock {
    pub issue_id: IssueId,
    pub globs: Vec<String>,
    pub locked_at: Timestamp,
}

impl ScopeLock {
    /// The state-object key of the issue's lock.
    pub fn key(issue: &IssueId) -> String {
        format!("{KEY_PREFIX}{issue}")
    }

    /// The lock with `more` globs added (each once, in the order given); it keeps its start.
    pub fn with_globs(mut self, more: &[String]) -> Self {
        for glob in more {
            if !self.globs.contains(glob) {
                self.globs.push(glob.clone());
            }
        }
        self
    }
}

/// The lock that holds `issue` back, if any: one of another issue whose globs may overlap the
/// issue's scope, with the glob of each that overlaps. An issue without a scope declares
/// nothing and so is held back by no lock, as with running sessions' scopes: a lock would
/// otherwise stop every issue that does not say what it touches.
pub fn holding_lock<'a>(
    issue: &Issue,
    locks: &'a [ScopeLock],
) -> Option<(&'a ScopeLock, String, String)> {
    locks
        .iter()
        .filter(|lock| lock.issue_id != issue.id)
        .find_map(|lock| {
            scopes_overlap(&issue.scope, &lock.globs).map(|(mine, theirs)| (lock, mine, theirs))
        })
}

/// Checks globs to lock: one to [`MAX_GLOBS`], each a pattern on one line whose brackets
/// close; the error names the glob and what is wrong with it. (A glob that can match nothing
/// in the repository, such as `/etc/**`, is not malformed: it holds nothing back.)
pub fn check_globs(globs: &[String]) -> Result<(), String> {
    if globs.is_empty() {
        return Err("globs: give at least one path or glob to lock".into());
    }
    if globs.len() > MAX_GLOBS {
        return Err(format!("globs: at most {MAX_GLOBS}, got {}", globs.len()));
    }
    globs
        .iter()
        .try_for_each(|glob| check_glob(glob).map_err(|why| format!("glob {glob:?}: {why}")))
}

fn check_glob(glob: &str) -> Result<(), &'static str> {
    if glob.trim().is_empty() {
        return Err("must not be empty");
    }
    if glob.chars().count() > MAX_GLOB_LEN {
        return Err("longer than 260 characters");
    }
    if glob.chars().any(char::is_control) {
        return Err("must be one line without control characters");
    }
    check_brackets(glob)
}

/// Each `[` closes with a `]` in the same path segment, with something between and no `[`
/// inside; no `]` stands alone.
fn check_brackets(glob: &str) -> Result<(), &'static str> {
    let mut rest = glob;
    while let Some(at) = rest.find(['[', ']']) {
        if rest[at..].starts_with(']') {
            return Err("has a `]` without its `[`");
        }
        let class = &rest[at + 1..];
        let end = class
            .find(['[', ']', '/'])
            .filter(|end| class[*end..].starts_with(']'));
        match end {
            Some(end) if end > 0 => rest = &class[end + 1..],
            _ => return Err("has a `[` without its `]`"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NewIssue;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn issue(id: &str, scope: &[&str]) -> Issue {
        let mut new = NewIssue::new("t");
        new.scope = strings(scope);
        new.into_issue(id.parse().unwrap(), Timestamp::from_unix_micros(0))
    }

    fn lock(id: &str, globs: &[&str]) -> ScopeLock {
        ScopeLock {
            issue_id: id.parse().unwrap(),
            globs: strings(globs),
            locked_at: Timestamp::from_unix_micros(0),
        }
    }

    #[test]
    fn a_lock_holds_back_overlapping_scopes_of_other_issues_only() {
        let locks = [lock("i-a", &["src/**"])];
        let (held_by, mine, theirs) = holding_lock(&issue("i-b", &["src/lib.rs"]), &locks).unwrap();
        assert_eq!(held_by.issue_id.as_str(), "i-a");
        assert_eq!((mine.as_str(), theirs.as_str()), ("src/lib.rs", "src/**"));
        assert!(holding_lock(&issue("i-a", &["src/lib.rs"]), &locks).is_none());
        assert!(holding_lock(&issue("i-c", &["docs/**"]), &locks).is_none());
        assert!(holding_lock(&issue("i-d", &[]), &locks).is_none());
    }

    #[test]
    fn adding_globs_keeps_each_once_and_the_start() {
        let added = lock("i-a", &["src/**"]).with_globs(&strings(&["docs/*", "src/**"]));
        assert_eq!(added.globs, strings(&["src/**", "docs/*"]));
        assert_eq!(added.locked_at, Timestamp::from_unix_micros(0));
    }

    #[test]
    fn malformed_globs_are_refused_naming_the_glob() {
        assert!(check_globs(&strings(&["src/**", "docs/a.md", "a/[ab].rs"])).is_ok());
        assert!(check_globs(&[]).unwrap_err().contains("at least one"));
        for (glob, why) in [
            ("", "empty"),
            ("  ", "empty"),
            ("src/[ab.rs", "without its `]`"),
            ("src/[a/b].rs", "without its `]`"),
            ("src/[].rs", "without its `]`"),
            ("src/a].rs", "without its `[`"),
            ("a\nb", "one line"),
        ] {
            let err = check_globs(&strings(&[glob])).unwrap_err();
            assert!(
                err.contains(&format!("{glob:?}")) && err.contains(why),
                "{err}"
            );
        }
        let many: Vec<String> = (0..41).map(|i| format!("f{i}")).collect();
        assert!(check_globs(&many).unwrap_err().contains("at most 40"));
    }
}

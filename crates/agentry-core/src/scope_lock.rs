//! Scope locks: paths reserved for one issue, so that no other issue whose scope may touch them
//! is started; and what holds an issue back, a lock or the scope of an issue being worked on.
//! The rules only; the store keeps each lock as a state object and asks these rules as it
//! claims.

use serde::{Deserialize, Serialize};

use crate::scope::{check_glob, scopes_overlap};
use crate::{Issue, IssueId, Timestamp};

/// The state-object keys of the locks start with this, followed by the issue id.
pub const KEY_PREFIX: &str = "scope_lock:";
/// The most globs one lock holds (the dispatch packet's limit for a scope).
pub const MAX_GLOBS: usize = 40;

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

/// Why an issue may not start now: its scope may overlap that of `waits_for`, an issue being
/// worked on or holding a scope lock. As a `SCOPE_WAIT` event's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScopeWait {
    pub waits_for: IssueId,
    /// The issue's path or glob that may overlap.
    pub scope: String,
    /// The other issue's path or glob it may overlap.
    pub overlaps: String,
    /// Whether the other issue holds it back with a lock rather than by being worked on.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub scope_lock: bool,
}

/// What holds `issue` back: the first other issue being worked on (`running`: each with its
/// scope) whose scope may overlap the issue's, else the first lock of another issue that may.
pub fn scope_wait<'a>(
    issue: &Issue,
    running: impl IntoIterator<Item = (&'a IssueId, &'a [String])>,
    locks: &[ScopeLock],
) -> Option<ScopeWait> {
    let wait = |waits_for: &IssueId, (scope, overlaps), scope_lock| ScopeWait {
        waits_for: waits_for.clone(),
        scope,
        overlaps,
        scope_lock,
    };
    running
        .into_iter()
        .filter(|(id, _)| **id != issue.id)
        .find_map(|(id, scope)| scopes_overlap(&issue.scope, scope).map(|o| wait(id, o, false)))
        .or_else(|| {
            holding_lock(issue, locks)
                .map(|(lock, mine, theirs)| wait(&lock.issue_id, (mine, theirs), true))
        })
}

/// Checks globs to lock: one to [`MAX_GLOBS`], each a path or glob a scope takes (see
/// [`crate::scope::check_glob`]); the error names the glob and what is wrong with it. (A glob
/// that can match nothing in the repository, such as `/etc/**`, is not malformed: it holds
/// nothing back.)
pub fn check_globs(globs: &[String]) -> Result<(), String> {
    if globs.is_empty() {
        return Err("globs: give at least one path or glob to lock".into());
    }
    if globs.len() > MAX_GLOBS {
        return Err(format!("globs: at most {MAX_GLOBS}, got {}", globs.len()));
    }
    globs
        .iter()
        .try_for_each(|glob| check_glob(glob).map_err(|err| format!("glob {err}")))
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
    fn a_running_scope_holds_back_before_a_lock_does() {
        let ids: [IssueId; 2] = ["i-b".parse().unwrap(), "i-r".parse().unwrap()];
        let scopes = [strings(&["src/**"]), strings(&["src/*.rs"])];
        let running: Vec<(&IssueId, &[String])> =
            ids.iter().zip(scopes.iter().map(Vec::as_slice)).collect();
        let locks = [lock("i-a", &["src/**"])];
        let wait = scope_wait(&issue("i-b", &["src/lib.rs"]), running.clone(), &locks).unwrap();
        assert_eq!(
            serde_json::to_value(&wait).unwrap(),
            serde_json::json!({"waits_for": "i-r", "scope": "src/lib.rs", "overlaps": "src/*.rs"})
        );
        let wait = scope_wait(
            &issue("i-b", &["src/lib.rs"]),
            running[..1].to_vec(),
            &locks,
        );
        assert_eq!(
            wait.map(|w| (w.waits_for.to_string(), w.scope_lock)),
            Some(("i-a".to_string(), true))
        );
        assert_eq!(
            scope_wait(&issue("i-c", &["tests/**"]), running, &locks),
            None
        );
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
            ("src/[ab.rs", "unclosed character class"),
            ("src/[].rs", "unclosed character class"),
            ("src/a}.rs", "unopened alternate group"),
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

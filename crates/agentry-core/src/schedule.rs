//! Scheduling rules: the backoff after a failed session, when an issue is blocked for a
//! person, and whether two issues' scopes may touch the same files.

use crate::Timestamp;

/// The first retry waits this long; each later one twice as long as the one before.
const BACKOFF_BASE_SECS: i64 = 10;
const BACKOFF_CAP_SECS: i64 = 300;

/// Where an issue goes after a failed session (verify failure or error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AfterFailure {
    /// Back to the queue, not before `ready_at`.
    Retry { ready_at: Timestamp },
    /// Too many failed sessions: a person has to look.
    Block { reason: String },
}

/// `failed_sessions` counts this failure too: 10 s · 2^(n−1), capped at 5 minutes, and
/// blocked once `max_sessions` sessions have failed.
pub fn after_failure(failed_sessions: u32, max_sessions: u32, now: Timestamp) -> AfterFailure {
    if failed_sessions >= max_sessions {
        return AfterFailure::Block {
            reason: format!(
                "{failed_sessions} of {max_sessions} sessions failed; a person has to look"
            ),
        };
    }
    AfterFailure::Retry {
        ready_at: now.plus_secs(backoff_secs(failed_sessions)),
    }
}

pub fn backoff_secs(failed_sessions: u32) -> i64 {
    let doublings = failed_sessions.saturating_sub(1).min(16);
    (BACKOFF_BASE_SECS << doublings).min(BACKOFF_CAP_SECS)
}

/// Whether work on scopes `a` and `b` may touch a common path. An issue without a scope
/// declares nothing and locks nothing.
pub fn scopes_overlap(a: &[String], b: &[String]) -> Option<(String, String)> {
    a.iter()
        .flat_map(|x| b.iter().map(move |y| (x, y)))
        .find(|(x, y)| globs_overlap(x, y))
        .map(|(x, y)| (x.clone(), y.clone()))
}

/// Conservative: a plain path is matched against the other glob; two globs overlap when the
/// literal parts before their first wildcard could lead to the same path.
fn globs_overlap(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim_start_matches("./"), b.trim_start_matches("./"));
    match (has_wildcard(a), has_wildcard(b)) {
        (false, false) => a == b || is_under(a, b) || is_under(b, a),
        (false, true) => glob_matches(b, a) || is_under(a, literal_prefix(b)),
        (true, false) => glob_matches(a, b) || is_under(b, literal_prefix(a)),
        (true, true) => {
            let (pa, pb) = (literal_prefix(a), literal_prefix(b));
            pa.starts_with(pb) || pb.starts_with(pa)
        }
    }
}

fn has_wildcard(glob: &str) -> bool {
    glob.contains(['*', '?', '['])
}

fn literal_prefix(glob: &str) -> &str {
    &glob[..glob.find(['*', '?', '[']).unwrap_or(glob.len())]
}

/// Whether `path` is `dir` or lies inside it (a scope naming a folder covers what is in it).
fn is_under(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    !dir.is_empty() && (path == dir || path.starts_with(&format!("{dir}/")))
}

/// `*` matches within a path segment, `**` across segments, `?` one character.
pub fn glob_matches(glob: &str, path: &str) -> bool {
    fn go(g: &[u8], p: &[u8]) -> bool {
        match g {
            [] => p.is_empty(),
            [b'*', b'*', rest @ ..] => {
                let rest = rest.strip_prefix(b"/").unwrap_or(rest);
                (0..=p.len()).any(|i| go(rest, &p[i..]))
            }
            [b'*', rest @ ..] => {
                let segment_end = p.iter().position(|c| *c == b'/').unwrap_or(p.len());
                (0..=segment_end).any(|i| go(rest, &p[i..]))
            }
            [b'?', rest @ ..] => p.first().is_some_and(|c| *c != b'/') && go(rest, &p[1..]),
            [c, rest @ ..] => p.first() == Some(c) && go(rest, &p[1..]),
        }
    }
    go(glob.as_bytes(), path.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn backoff_doubles_from_ten_seconds_up_to_five_minutes() {
        let secs: Vec<i64> = (1..=7).map(backoff_secs).collect();
        assert_eq!(secs, vec![10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(backoff_secs(u32::MAX), 300);
    }

    #[test]
    fn the_last_allowed_failure_blocks() {
        let now = Timestamp::from_unix_micros(0);
        assert_eq!(
            after_failure(1, 3, now),
            AfterFailure::Retry {
                ready_at: now.plus_secs(10)
            }
        );
        assert!(
            matches!(after_failure(3, 3, now), AfterFailure::Block { reason } if reason.contains("3 of 3"))
        );
    }

    #[test]
    fn globs_match_like_shells_do() {
        assert!(glob_matches("src/**", "src/a/b.rs"));
        assert!(glob_matches("src/**/*.rs", "src/a/b.rs"));
        assert!(glob_matches("src/*.rs", "src/main.rs"));
        assert!(!glob_matches("src/*.rs", "src/a/main.rs"));
        assert!(glob_matches("docs/?.md", "docs/a.md"));
    }

    #[test]
    fn overlapping_scopes_are_found_and_disjoint_ones_are_not() {
        assert!(scopes_overlap(&scope(&["src/login/**"]), &scope(&["src/**"])).is_some());
        assert!(scopes_overlap(&scope(&["src/main.rs"]), &scope(&["src/*.rs"])).is_some());
        assert!(scopes_overlap(&scope(&["src"]), &scope(&["src/lib.rs"])).is_some());
        assert!(scopes_overlap(&scope(&["src/a.rs"]), &scope(&["src/b.rs"])).is_none());
        assert!(scopes_overlap(&scope(&["docs/**"]), &scope(&["src/**"])).is_none());
        assert!(scopes_overlap(&scope(&["src/*.rs"]), &scope(&["tests/x.rs"])).is_none());
        assert!(scopes_overlap(&scope(&[]), &scope(&["src/**"])).is_none());
    }
}

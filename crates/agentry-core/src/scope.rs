//! Scopes: the paths and globs an issue's work may touch. A glob follows globset's syntax (`*`
//! and `?` within one path segment, `**` across segments, `[ab]` classes, `{a,b}`
//! alternatives, `\` escapes); each is checked as it comes in, so a bad one is refused by name.
//!
//! Whether two scopes overlap is decided conservatively: two issues may be held apart that
//! would not have clashed, never the other way round.
//! - Two literal paths overlap when they are one path, or one is a folder holding the other.
//! - A literal path and a glob overlap when the glob matches the path or a folder above it,
//!   or when the path and the glob's literal prefix (its text before the first special
//!   character) are one path or one is a folder holding the other.
//! - Two globs overlap when one's literal prefix starts the other's: from there both may lead
//!   to one path.

use std::cell::OnceCell;

use globset::{GlobBuilder, GlobMatcher};

/// The longest glob accepted, in characters.
pub const MAX_GLOB_LEN: usize = 260;

/// The characters that start a wildcard, a class, an alternative or an escape.
const SPECIAL: [char; 5] = ['*', '?', '[', '{', '\\'];

/// A path or glob that cannot be a scope, and why.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
#[error("{glob:?}: {reason}")]
pub struct GlobError {
    pub glob: String,
    pub reason: String,
}

/// Checks one path or glob of a scope: not blank, one line, at most [`MAX_GLOB_LEN`]
/// characters, and a glob that parses.
pub fn check_glob(glob: &str) -> Result<(), GlobError> {
    let refuse = |reason: String| GlobError {
        glob: glob.to_string(),
        reason,
    };
    if glob.trim().is_empty() {
        return Err(refuse("must not be empty".into()));
    }
    if glob.chars().count() > MAX_GLOB_LEN {
        return Err(refuse(format!("longer than {MAX_GLOB_LEN} characters")));
    }
    if glob.chars().any(char::is_control) {
        return Err(refuse("must be one line without control characters".into()));
    }
    matcher(normal(glob))
        .map(drop)
        .map_err(|err| refuse(err.kind().to_string()))
}

/// Checks every entry of a scope; the error names the first bad one.
pub fn check_scope(scope: &[String]) -> Result<(), GlobError> {
    scope.iter().try_for_each(|glob| check_glob(glob))
}

/// Whether work on scopes `a` and `b` may touch a common path: the first pair of entries that
/// may, `a`'s first. An issue without a scope declares nothing and overlaps nothing.
pub fn scopes_overlap(a: &[String], b: &[String]) -> Option<(String, String)> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let theirs: Vec<Pattern> = b.iter().map(|glob| Pattern::new(glob)).collect();
    a.iter().find_map(|mine| {
        let mine_pattern = Pattern::new(mine);
        theirs
            .iter()
            .find(|their| mine_pattern.overlaps(their))
            .map(|their| (mine.clone(), their.given.to_string()))
    })
}

/// One scope entry, read once: its normal form, and whether it is a glob, whose matcher is
/// compiled only when a literal path must be matched against it.
struct Pattern<'a> {
    given: &'a str,
    text: &'a str,
    glob: bool,
    /// `None` when it does not parse (stored before globs were checked): then it is taken to
    /// overlap whatever its prefix may lead to.
    matcher: OnceCell<Option<GlobMatcher>>,
}

impl<'a> Pattern<'a> {
    fn new(given: &'a str) -> Self {
        let text = normal(given);
        Self {
            given,
            text,
            glob: text.contains(SPECIAL),
            matcher: OnceCell::new(),
        }
    }

    fn overlaps(&self, other: &Pattern) -> bool {
        match (self.glob, other.glob) {
            (false, false) => on_one_line(self.text, other.text),
            (false, true) => other.meets_path(self.text),
            (true, false) => self.meets_path(other.text),
            (true, true) => {
                let (mine, theirs) = (literal_prefix(self.text), literal_prefix(other.text));
                mine.starts_with(theirs) || theirs.starts_with(mine)
            }
        }
    }

    /// Whether this glob may touch the literal `path` (a file, or a folder and what it holds).
    fn meets_path(&self, path: &str) -> bool {
        if on_one_line(path, literal_prefix(self.text)) {
            return true;
        }
        match self.matcher.get_or_init(|| matcher(self.text).ok()) {
            Some(matcher) => folders_and_self(path).any(|p| matcher.is_match(p)),
            None => true,
        }
    }
}

/// `*` stays within a path segment, as in a shell.
fn matcher(glob: &str) -> Result<GlobMatcher, globset::Error> {
    GlobBuilder::new(glob)
        .literal_separator(true)
        .build()
        .map(|glob| glob.compile_matcher())
}

/// Without a leading `./` or a trailing `/`: `./src/` names the folder `src`.
fn normal(glob: &str) -> &str {
    let mut text = glob.trim_end_matches('/');
    while let Some(rest) = text.strip_prefix("./") {
        text = rest;
    }
    text
}

fn literal_prefix(glob: &str) -> &str {
    &glob[..glob.find(SPECIAL).unwrap_or(glob.len())]
}

/// `a/b/c`, `a/b`, `a`.
fn folders_and_self(path: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(path), |p| p.rsplit_once('/').map(|(folder, _)| folder))
}

/// Whether `a` and `b` are one path, or one is a folder holding the other.
fn on_one_line(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim_end_matches('/'), b.trim_end_matches('/'));
    !a.is_empty() && !b.is_empty() && (a == b || is_under(a, b) || is_under(b, a))
}

fn is_under(path: &str, folder: &str) -> bool {
    path.strip_prefix(folder)
        .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn overlap(a: &str, b: &str) -> bool {
        let found = scopes_overlap(&scope(&[a]), &scope(&[b])).is_some();
        let reversed = scopes_overlap(&scope(&[b]), &scope(&[a])).is_some();
        assert_eq!(found, reversed, "overlap is symmetric: {a} / {b}");
        found
    }

    #[test]
    fn overlapping_scopes_are_found_and_disjoint_ones_are_not() {
        for (a, b) in [
            ("src/login/**", "src/**"),
            ("src/main.rs", "src/*.rs"),
            ("src", "src/lib.rs"),
            ("./src/", "src/lib.rs"),
            ("src", "src/login/*.rs"),
            ("src/login/a.rs", "src/log*"),
            ("docs/guide/intro.md", "**/*.md"),
            ("a.rs", "[ab].rs"),
            ("src/b.rs", "src/{a,b}.rs"),
        ] {
            assert!(overlap(a, b), "{a} / {b}");
        }
        for (a, b) in [
            ("src/a.rs", "src/b.rs"),
            ("src/ab", "src/a"),
            ("docs/**", "src/**"),
            ("src/*.rs", "tests/x.rs"),
            ("c.rs", "[ab].rs"),
            ("notes.txt", "**/*.md"),
        ] {
            assert!(!overlap(a, b), "{a} / {b}");
        }
        assert_eq!(
            scopes_overlap(&scope(&["docs/a.md", "src/x.rs"]), &scope(&["src/**"])),
            Some(("src/x.rs".into(), "src/**".into()))
        );
        assert!(scopes_overlap(&scope(&[]), &scope(&["src/**"])).is_none());
    }

    #[test]
    fn a_star_stays_within_a_segment_and_a_class_is_a_class() {
        let m = |glob: &str, path: &str| matcher(glob).unwrap().is_match(path);
        assert!(m("src/*.rs", "src/main.rs") && !m("src/*.rs", "src/a/main.rs"));
        assert!(m("src/**/*.rs", "src/a/b.rs") && m("docs/?.md", "docs/a.md"));
        assert!(m("[ab].rs", "a.rs") && m("[ab].rs", "b.rs") && !m("[ab].rs", "[ab].rs"));
    }

    #[test]
    fn a_pathological_glob_is_decided_at_once() {
        let glob = "**/".repeat(12) + "x";
        let path = "d/".repeat(40) + "y";
        assert!(!overlap(&glob, &path));
        assert!(overlap(&glob, &format!("{path}/x")));
    }

    #[test]
    fn bad_globs_are_refused_naming_the_glob() {
        assert!(check_scope(&scope(&["src/**", "docs/a.md", "a/[ab].rs", "{a,b}/*"])).is_ok());
        for (glob, why) in [
            ("  ", "empty"),
            ("src/[ab.rs", "unclosed character class"),
            ("src/{a,b.rs", "unclosed alternate group"),
            ("src/a}.rs", "unopened alternate group"),
            ("src/[z-a].rs", "invalid range"),
            ("a\\", "dangling"),
            ("a\nb", "one line"),
        ] {
            let err = check_glob(glob).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("{glob:?}: ")) && err.contains(why),
                "{err}"
            );
        }
        let long = "a".repeat(MAX_GLOB_LEN + 1);
        assert!(
            check_glob(&long)
                .unwrap_err()
                .reason
                .contains("longer than 260")
        );
    }
}

//! The answer to `session/request_permission`, always for this once. Inside a sandbox the
//! sandbox decides what a tool call can reach, so it is allowed. Without one, a call is
//! allowed only when it names paths and every one of them lies inside the worktree; a call
//! that names none (a shell command) could write anywhere, so it is refused.

use std::path::{Component, Path, PathBuf};

use serde_json::{Value, json};

/// Keys of a tool's raw input that hold a path (Claude Code's Read, Write, Edit, Glob, ...).
const PATH_KEYS: [&str; 3] = ["file_path", "path", "notebook_path"];

/// The `outcome` for a permission request about `tool_call`, offering `options`.
pub(crate) fn answer(
    tool_call: &Value,
    options: &Value,
    worktree: &Path,
    sandboxed: bool,
) -> Value {
    let kind = match sandboxed || confined_to(tool_call, worktree) {
        true => "allow_once",
        false => "reject_once",
    };
    let chosen = options
        .as_array()
        .into_iter()
        .flatten()
        .find(|option| option["kind"] == kind);
    match chosen {
        Some(option) => {
            json!({"outcome": {"outcome": "selected", "optionId": option["optionId"]}})
        }
        // Without the option to answer once, withdrawing the request is the only answer
        // that grants nothing for later.
        None => json!({"outcome": {"outcome": "cancelled"}}),
    }
}

/// Whether the tool call names at least one path and all of them lie inside `worktree`.
fn confined_to(tool_call: &Value, worktree: &Path) -> bool {
    let paths = paths(tool_call);
    !paths.is_empty() && paths.iter().all(|path| inside(Path::new(path), worktree))
}

/// Every path the tool call names: its locations and the path-like keys of its raw input.
fn paths(tool_call: &Value) -> Vec<&str> {
    let locations = tool_call["locations"].as_array().into_iter().flatten();
    let located = locations.filter_map(|location| location["path"].as_str());
    let input = &tool_call["rawInput"];
    let named = PATH_KEYS.iter().filter_map(|key| input[*key].as_str());
    located.chain(named).collect()
}

/// Whether `path`, relative ones taken from the worktree, stays inside it once `..` is
/// resolved. Lexically: a file about to be written need not exist yet.
fn inside(path: &Path, worktree: &Path) -> bool {
    normal(&worktree.join(path)).starts_with(normal(worktree))
}

fn normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `allow_always` first, as agents offer it: it must never be the one chosen.
    fn options() -> Value {
        json!([
            {"optionId": "always", "name": "Always", "kind": "allow_always"},
            {"optionId": "allow", "name": "Allow", "kind": "allow_once"},
            {"optionId": "never", "name": "Never", "kind": "reject_always"},
            {"optionId": "reject", "name": "Reject", "kind": "reject_once"}
        ])
    }

    fn chosen(tool_call: Value, sandboxed: bool) -> Value {
        answer(&tool_call, &options(), Path::new("/srv/tree"), sandboxed)["outcome"].clone()
    }

    #[test]
    fn paths_inside_the_worktree_are_allowed_once() {
        let call = json!({"locations": [{"path": "/srv/tree/a.txt"}], "rawInput": {"file_path": "src/b.rs"}});
        assert_eq!(chosen(call, false)["optionId"], "allow");
    }

    #[test]
    fn without_a_sandbox_a_call_naming_no_path_is_refused_once() {
        let bash =
            json!({"title": "echo x > ../../x", "rawInput": {"command": "echo x > ../../x"}});
        assert_eq!(chosen(bash.clone(), false)["optionId"], "reject");
        assert_eq!(chosen(bash, true)["optionId"], "allow");
    }

    #[test]
    fn without_a_sandbox_any_path_outside_the_worktree_is_refused() {
        let outside = json!({"locations": [{"path": "/srv/tree/a"}, {"path": "/etc/passwd"}]});
        assert_eq!(chosen(outside.clone(), false)["optionId"], "reject");
        let escaping = json!({"rawInput": {"file_path": "/srv/tree/../other/x"}});
        assert_eq!(chosen(escaping, false)["optionId"], "reject");
        let sibling = json!({"rawInput": {"path": "/srv/tree2/x"}});
        assert_eq!(chosen(sibling, false)["optionId"], "reject");
        assert_eq!(chosen(outside, true)["optionId"], "allow");
    }

    #[test]
    fn without_an_answer_for_this_once_the_request_is_withdrawn() {
        let call = json!({"rawInput": {"file_path": "src/a.rs"}});
        let lasting = json!([
            {"optionId": "always", "kind": "allow_always"},
            {"optionId": "never", "kind": "reject_always"}
        ]);
        let cancelled = json!({"outcome": {"outcome": "cancelled"}});
        assert_eq!(
            answer(&call, &lasting, Path::new("/srv/tree"), true),
            cancelled
        );
        let outside = json!({"rawInput": {"file_path": "/etc/x"}});
        assert_eq!(
            answer(&outside, &lasting, Path::new("/srv/tree"), false),
            cancelled
        );
    }
}

//! The answer to `session/request_permission`: the worktree is the sandbox, so a tool call
//! is allowed when every path it names lies inside it, and refused otherwise.

use std::path::{Component, Path, PathBuf};

use serde_json::{Value, json};

/// Keys of a tool's raw input that hold a path (Claude Code's Read, Write, Edit, Glob, ...).
const PATH_KEYS: [&str; 3] = ["file_path", "path", "notebook_path"];

/// The `outcome` for a permission request about `tool_call`, offering `options`.
pub(crate) fn answer(tool_call: &Value, options: &Value, worktree: &Path) -> Value {
    let allowed = paths(tool_call)
        .iter()
        .all(|path| inside(Path::new(path), worktree));
    let kinds: &[&str] = match allowed {
        true => &["allow_once", "allow_always"],
        false => &["reject_once", "reject_always"],
    };
    let chosen = options.as_array().into_iter().flatten().find(|option| {
        option["kind"]
            .as_str()
            .is_some_and(|kind| kinds.contains(&kind))
    });
    match chosen {
        Some(option) => {
            json!({"outcome": {"outcome": "selected", "optionId": option["optionId"]}})
        }
        // No option says no: withdrawing the request is the only refusal left.
        None => json!({"outcome": {"outcome": "cancelled"}}),
    }
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

    fn options() -> Value {
        json!([
            {"optionId": "allow", "name": "Allow", "kind": "allow_once"},
            {"optionId": "always", "name": "Always", "kind": "allow_always"},
            {"optionId": "reject", "name": "Reject", "kind": "reject_once"}
        ])
    }

    fn chosen(tool_call: Value) -> Value {
        answer(&tool_call, &options(), Path::new("/srv/tree"))["outcome"].clone()
    }

    #[test]
    fn paths_inside_the_worktree_are_allowed() {
        let call = json!({"locations": [{"path": "/srv/tree/a.txt"}], "rawInput": {"file_path": "src/b.rs"}});
        assert_eq!(chosen(call)["optionId"], "allow");
        assert_eq!(
            chosen(json!({"rawInput": {"command": "ls"}}))["optionId"],
            "allow"
        );
    }

    #[test]
    fn any_path_outside_the_worktree_is_refused() {
        let outside = json!({"locations": [{"path": "/srv/tree/a"}, {"path": "/etc/passwd"}]});
        assert_eq!(chosen(outside)["optionId"], "reject");
        let escaping = json!({"rawInput": {"file_path": "/srv/tree/../other/x"}});
        assert_eq!(chosen(escaping)["optionId"], "reject");
        let sibling = json!({"rawInput": {"path": "/srv/tree2/x"}});
        assert_eq!(chosen(sibling)["optionId"], "reject");
    }

    #[test]
    fn a_refusal_without_a_reject_option_cancels() {
        let call = json!({"rawInput": {"file_path": "/etc/x"}});
        let only_allow = json!([{"optionId": "allow", "kind": "allow_once"}]);
        let answered = answer(&call, &only_allow, Path::new("/srv/tree"));
        assert_eq!(answered, json!({"outcome": {"outcome": "cancelled"}}));
    }
}

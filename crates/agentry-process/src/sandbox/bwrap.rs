//! bwrap's command line for a [`Sandbox`]: the mounts in an order where a deeper path wins
//! over the folder it lies in, then the network, then the isolation flags.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::{Network, Sandbox};

/// The file system every sandbox starts from: all read-only, private `/dev`, `/proc`, `/tmp`.
const BASE: [&str; 9] = [
    "--ro-bind",
    "/",
    "/",
    "--dev",
    "/dev",
    "--proc",
    "/proc",
    "--tmpfs",
    "/tmp",
];
/// A pid namespace that dies with agentry, no capabilities (even for root, who could
/// otherwise unmount what hides the store), a session of its own (no TIOCSTI into
/// agentry's terminal), no shared IPC.
const ISOLATION: [&str; 6] = [
    "--unshare-pid",
    "--unshare-ipc",
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
];
/// Where the proxy's socket and the bridge appear inside.
pub(super) const SOCKET_INSIDE: &str = "/tmp/.agentry-sandbox/proxy.sock";
pub(super) const BRIDGE_INSIDE: &str = "/tmp/.agentry-sandbox/bridge";

/// What becomes of one path, from the least restrictive to the most: where a path is listed
/// twice, the later kind wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Visible,
    Writable,
    ReadOnly,
    Hidden,
}

/// The arguments of a trial run that asks for everything a sandbox may use; the command
/// follows.
pub(super) fn trial_args() -> Vec<&'static str> {
    [&BASE[..], &ISOLATION[..], &["--unshare-net", "--"]].concat()
}

/// The arguments that run `command` in `cwd` inside `sandbox`; `socket` is the proxy's,
/// when the network goes through one.
pub(super) fn args(
    sandbox: &Sandbox,
    cwd: &Path,
    socket: Option<&Path>,
    command: &[String],
) -> Vec<OsString> {
    let mut args: Vec<OsString> = BASE.iter().map(OsString::from).collect();
    let mounts = mounts(sandbox);
    let mut hidden_dirs = Vec::new();
    for (path, kind) in &mounts {
        match kind {
            Kind::Visible | Kind::ReadOnly => push(&mut args, "--ro-bind", path, path),
            Kind::Writable => push(&mut args, "--bind", path, path),
            Kind::Hidden if path.is_dir() => {
                args.extend(["--tmpfs".into(), path.into()]);
                hidden_dirs.push(path);
            }
            Kind::Hidden => push(&mut args, "--ro-bind", Path::new("/dev/null"), path),
        }
    }
    if let (Network::Allow(proxied), Some(socket)) = (&sandbox.network, socket) {
        push(&mut args, "--ro-bind", socket, Path::new(SOCKET_INSIDE));
        push(
            &mut args,
            "--ro-bind",
            &proxied.bridge,
            Path::new(BRIDGE_INSIDE),
        );
    }
    // Last, once everything inside them is bound: writes there fail instead of vanishing.
    for dir in hidden_dirs {
        args.extend(["--remount-ro".into(), dir.into()]);
    }
    args.extend(["--chdir".into(), cwd.into()]);
    args.extend(ISOLATION.iter().map(OsString::from));
    if sandbox.network != Network::Host {
        args.push("--unshare-net".into());
    }
    args.push("--".into());
    args.extend(command.iter().map(OsString::from));
    args
}

fn push(args: &mut Vec<OsString>, flag: &str, source: &Path, dest: &Path) {
    args.extend([flag.into(), source.into(), dest.into()]);
}

/// Every listed path that exists, as the kernel resolves it, with the kind that wins for
/// it; shallower paths first. Paths to keep visible matter only under the private `/tmp`,
/// and nothing needs hiding inside what is hidden already.
fn mounts(sandbox: &Sandbox) -> Vec<(PathBuf, Kind)> {
    let listed = [
        (Kind::Visible, &sandbox.visible),
        (Kind::Writable, &sandbox.writable),
        (Kind::ReadOnly, &sandbox.read_only),
        (Kind::Hidden, &sandbox.hidden),
    ];
    let mut kinds: BTreeMap<PathBuf, Kind> = BTreeMap::new();
    for (kind, paths) in listed {
        for path in paths.iter().filter_map(|path| path.canonicalize().ok()) {
            if kind == Kind::Visible && !path.starts_with("/tmp") {
                continue;
            }
            let entry = kinds.entry(path).or_insert(kind);
            *entry = (*entry).max(kind);
        }
    }
    let mut mounts: Vec<(PathBuf, Kind)> = kinds.into_iter().collect();
    mounts.sort_by_key(|(path, _)| path.components().count());
    let mut needed: Vec<(PathBuf, Kind)> = Vec::with_capacity(mounts.len());
    for (path, kind) in mounts {
        let within = needed
            .iter()
            .rev()
            .find(|(outer, _)| path.starts_with(outer))
            .map(|(_, outer)| *outer);
        if !(kind == Kind::Hidden && within == Some(Kind::Hidden)) {
            needed.push((path, kind));
        }
    }
    needed
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn joined(args: &[OsString], root: &Path) -> String {
        let text: Vec<String> = args.iter().map(|a| a.to_string_lossy().into()).collect();
        text.join(" ").replace(&root.display().to_string(), "R")
    }

    #[test]
    fn deeper_paths_win_and_the_most_restrictive_kind_wins_for_one_path() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path().canonicalize().unwrap();
        for dir in [".agentry/worktrees/w", "home/.ssh", "shared"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        std::fs::write(root.join(".agentry/worktrees/w/.git"), "gitdir: x").unwrap();
        std::fs::write(root.join(".agentry/agentry.db"), "").unwrap();
        let sandbox = Sandbox {
            writable: vec![
                root.join(".agentry/worktrees/w"),
                root.join("home"),
                root.join("shared"),
            ],
            read_only: vec![root.join(".agentry/worktrees/w/.git")],
            hidden: vec![
                root.join(".agentry"),
                root.join(".agentry/agentry.db"),
                root.join("home/.ssh"),
                root.join("shared"),
            ],
            visible: vec![root.clone(), PathBuf::from("/usr"), root.join("missing")],
            network: Network::None,
        };
        let command = ["sh".to_string(), "-c".to_string(), "true".to_string()];
        let args = args(&sandbox, &root.join(".agentry/worktrees/w"), None, &command);
        let expected = [
            "--ro-bind / / --dev /dev --proc /proc --tmpfs /tmp",
            "--ro-bind R R",
            "--tmpfs R/.agentry",
            "--bind R/home R/home",
            "--tmpfs R/shared",
            "--tmpfs R/home/.ssh",
            "--bind R/.agentry/worktrees/w R/.agentry/worktrees/w",
            "--ro-bind R/.agentry/worktrees/w/.git R/.agentry/worktrees/w/.git",
            "--remount-ro R/.agentry --remount-ro R/shared --remount-ro R/home/.ssh",
            "--chdir R/.agentry/worktrees/w",
            "--unshare-pid --unshare-ipc --die-with-parent --new-session --cap-drop ALL",
            "--unshare-net -- sh -c true",
        ];
        assert_eq!(joined(&args, &root), expected.join(" "));
    }

    #[test]
    fn hidden_files_become_empty_and_the_host_network_stays() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path().canonicalize().unwrap();
        std::fs::write(root.join("netrc"), "machine x password y").unwrap();
        let sandbox = Sandbox {
            hidden: vec![root.join("netrc")],
            ..Sandbox::default()
        };
        let args = joined(&args(&sandbox, &root, None, &["true".into()]), &root);
        assert!(args.contains("--ro-bind /dev/null R/netrc"), "{args}");
        assert!(args.ends_with("--cap-drop ALL -- true"), "{args}");
    }
}

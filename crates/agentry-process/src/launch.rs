//! Starting a child the way agentry does: in its own process group, with only the
//! environment it is given, its stdio piped, the size of the files it may write limited, and
//! in its sandbox when it has one.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::{Child, Command};

use crate::Spec;
use crate::sandbox::{Sandbox, Wrapped};

/// How a child is held in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Confinement {
    /// Where it runs; None runs it on the host as it is.
    pub sandbox: Option<Sandbox>,
    /// The largest file it may write (RLIMIT_FSIZE), sandboxed or not.
    pub max_file_bytes: Option<u64>,
}

/// A started child, and what must live as long as it does (its network proxy).
pub struct Started {
    pub child: Child,
    pub pid: u32,
    _proxy: Option<crate::sandbox::Running>,
}

/// Starts `spec`'s program with stdin, stdout and stderr piped; nothing is written to stdin.
pub fn start(spec: &Spec) -> io::Result<Started> {
    let not_started =
        |e: io::Error| io::Error::new(e.kind(), format!("could not start {}: {e}", spec.program));
    let wrapped = match &spec.confinement.sandbox {
        Some(sandbox) => confine(sandbox, spec).map_err(not_started)?,
        None => Wrapped {
            program: spec.program.clone().into(),
            args: spec.args.iter().map(OsString::from).collect(),
            env: spec.env.clone(),
            proxy: None,
        },
    };
    let mut command = Command::new(&wrapped.program);
    command
        .args(&wrapped.args)
        .current_dir(&spec.cwd)
        .env_clear()
        .envs(wrapped.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(bytes) = spec.confinement.max_file_bytes {
        limit_file_size(&mut command, bytes);
    }
    let child = command.spawn().map_err(not_started)?;
    let pid = child.id().expect("a child that was just spawned has a pid");
    Ok(Started {
        child,
        pid,
        _proxy: wrapped.proxy,
    })
}

/// The sandboxed command line. The program is found first, as the child's PATH finds it, so
/// that a missing one is the same error as without a sandbox, and so that it stays visible.
fn confine(sandbox: &Sandbox, spec: &Spec) -> io::Result<Wrapped> {
    let program = find_program(&spec.program, &spec.cwd, &spec.env)?;
    let mut sandbox = sandbox.clone();
    sandbox.visible.push(program.clone());
    let program = program.to_string_lossy().into_owned();
    sandbox.wrap(&program, &spec.args, &spec.cwd, &spec.env)
}

fn find_program(program: &str, cwd: &Path, env: &[(String, String)]) -> io::Result<PathBuf> {
    let not_found = || io::Error::from_raw_os_error(libc::ENOENT);
    if program.contains('/') {
        let path = cwd.join(program);
        return path.is_file().then_some(path).ok_or_else(not_found);
    }
    let path = env
        .iter()
        .find(|(name, _)| name == "PATH")
        .map(|(_, value)| value.into())
        .or_else(|| std::env::var_os("PATH"))
        .unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| cwd.join(dir).join(program))
        .find(|candidate| candidate.is_file())
        .ok_or_else(not_found)
}

/// Limits the files the child (and all it starts) may write to `bytes`; past it a write
/// fails and the writer gets SIGXFSZ. Never above the limit agentry itself has.
fn limit_file_size(command: &mut Command, bytes: u64) {
    let mut current = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only fills the struct it is given.
    let known = unsafe { libc::getrlimit(libc::RLIMIT_FSIZE, &mut current) } == 0;
    let bytes = bytes as libc::rlim_t;
    let bytes = match known {
        true => bytes.min(current.rlim_max),
        false => bytes,
    };
    let limit = libc::rlimit {
        rlim_cur: bytes,
        rlim_max: bytes,
    };
    // SAFETY: the closure runs in the child between fork and exec; it only calls setrlimit,
    // which is async-signal-safe, and allocates nothing.
    unsafe {
        command.pre_exec(move || match libc::setrlimit(libc::RLIMIT_FSIZE, &limit) {
            0 => Ok(()),
            _ => Err(io::Error::last_os_error()),
        });
    }
}

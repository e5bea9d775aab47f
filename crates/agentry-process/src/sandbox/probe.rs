//! Whether bubblewrap works on this machine: found on PATH and able to start a trivial
//! sandbox with the namespaces agentry asks for. Asked once per process.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

static BWRAP: OnceLock<Result<PathBuf, String>> = OnceLock::new();

/// The path of a working `bwrap`, or why there is none (to tell the user).
pub fn bwrap() -> Result<&'static Path, &'static str> {
    match BWRAP.get_or_init(probe) {
        Ok(path) => Ok(path),
        Err(why) => Err(why),
    }
}

fn probe() -> Result<PathBuf, String> {
    if !cfg!(target_os = "linux") {
        return Err("bubblewrap is Linux only".into());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let bwrap = std::env::split_paths(&path)
        .map(|dir| dir.join("bwrap"))
        .find(|candidate| candidate.is_file())
        .ok_or("bwrap is not installed (Debian: apt-get install bubblewrap)")?;
    let tried = Command::new(&bwrap)
        .args(super::bwrap::trial_args())
        .arg("true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("{} does not start: {e}", bwrap.display()))?;
    match tried.status.success() {
        true => Ok(bwrap),
        false => Err(format!(
            "{} cannot make a sandbox here: {}",
            bwrap.display(),
            String::from_utf8_lossy(&tried.stderr).trim()
        )),
    }
}

//! Signals to process groups.

use std::time::Duration;

/// Sends `signal` to every process in the group led by `pgid`. A group that is gone is fine.
pub(crate) fn signal_group(pgid: u32, signal: libc::c_int) {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return;
    };
    if pgid > 1 {
        // SAFETY: killpg only sends a signal; a stale or empty group makes it fail with ESRCH.
        unsafe { libc::killpg(pgid, signal) };
    }
}

/// Whether a process with this pid exists (it may belong to someone else after pid reuse;
/// callers check that it is theirs by other means).
pub fn is_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 checks for existence and permission without sending anything.
    pid > 0 && unsafe { libc::kill(pid, 0) } == 0
}

/// Stops a group left behind by another process (a crashed orchestrator): SIGTERM, then
/// SIGKILL once `grace` has passed if it is still there.
pub async fn stop_group(pgid: u32, grace: Duration) {
    signal_group(pgid, libc::SIGTERM);
    let deadline = tokio::time::Instant::now() + grace;
    while group_exists(pgid) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    signal_group(pgid, libc::SIGKILL);
}

fn group_exists(pgid: u32) -> bool {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return false;
    };
    // SAFETY: signal 0 to a group checks that some member exists.
    pgid > 1 && unsafe { libc::killpg(pgid, 0) } == 0
}

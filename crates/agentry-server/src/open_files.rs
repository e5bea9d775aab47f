//! The process's limit on open files: each connection holds a descriptor, and the soft limit
//! (often 1024) is lower than what the hard limit lets a process raise it to.

/// Raises the soft limit on open files to the hard limit; a failure leaves it as it was.
pub fn raise_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 || limit.rlim_cur >= limit.rlim_max
        {
            return;
        }
        limit.rlim_cur = limit.rlim_max;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
            let err = std::io::Error::last_os_error();
            tracing::warn!(
                operation = "serve",
                "could not raise the open files limit: {err}"
            );
        }
    }
}

//! Who this orchestrator is: its host, process and id, and fresh session ids.

use std::ffi::CStr;

/// The running orchestrator, as claims record it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub orchestrator_id: String,
    pub host: String,
    pub pid: u32,
}

impl Identity {
    /// This process.
    pub fn current() -> Self {
        let host = hostname();
        let pid = std::process::id();
        Self {
            orchestrator_id: format!("{host}-{pid}-{:04x}", fastrand::u16(..)),
            host,
            pid,
        }
    }
}

/// A random (version 4) UUID for a session.
pub fn session_id() -> String {
    let bits = fastrand::u128(..) & !(0xf << 76) & !(0x3 << 62) | (0x4 << 76) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes a NUL-terminated name.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let name = CStr::from_bytes_until_nul(&buf)
        .ok()
        .and_then(|c| c.to_str().ok());
    match name {
        Some(name) if ok && !name.is_empty() => name.to_string(),
        _ => "localhost".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_version_4_uuids() {
        let id = session_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        assert_ne!(session_id(), id);
    }
}

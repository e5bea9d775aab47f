//! Finding process groups by a variable in their environment: the agents a crashed
//! orchestrator left behind carry their session id, whatever their pid became.

use std::path::PathBuf;

/// A process that leads its own group and has the variable looked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaggedGroup {
    pub pid: u32,
    /// The variable's value.
    pub tag: String,
    /// Its working directory, where it can be read.
    pub cwd: Option<PathBuf>,
}

/// Every process group leader on this machine whose environment sets `var`.
pub fn groups_tagged(var: &str) -> Vec<TaggedGroup> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let prefix = format!("{var}=");
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| leads_group(*pid))
        .filter_map(|pid| {
            let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
            let tag = environ
                .split(|b| *b == 0)
                .find_map(|entry| entry.strip_prefix(prefix.as_bytes()))
                .map(|value| String::from_utf8_lossy(value).into_owned())?;
            let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok();
            Some(TaggedGroup { pid, tag, cwd })
        })
        .collect()
}

fn leads_group(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may contain spaces.
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    fields.get(2) == Some(&pid.to_string().as_str())
}

#[cfg(test)]
mod tests {
    use std::process::{Command, Stdio};

    use super::*;

    #[test]
    fn finds_a_tagged_group_leader_with_its_directory() {
        let dir = std::env::temp_dir();
        let mut child = std::os::unix::process::CommandExt::process_group(
            Command::new("sleep")
                .arg("30")
                .env("AGENTRY_SCAN_TEST", "tag-1")
                .current_dir(&dir)
                .stdout(Stdio::null()),
            0,
        )
        .spawn()
        .unwrap();
        let found = groups_tagged("AGENTRY_SCAN_TEST");
        child.kill().unwrap();
        child.wait().unwrap();
        let mine: Vec<_> = found.into_iter().filter(|g| g.pid == child.id()).collect();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].tag, "tag-1");
        assert_eq!(
            mine[0].cwd.as_deref(),
            Some(dir.canonicalize().unwrap().as_path())
        );
    }
}

//! The service token made for one run of the server when none is configured: random, and kept
//! in the runtime folder (readable by its owner only) for the user's tools and tests to find.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Where, in the runtime folder, the token is kept.
pub const TOKEN_FILE: &str = "token";
/// Random bytes in a token (written as twice as many hex digits).
const TOKEN_BYTES: usize = 32;

/// A token written to its file, which is removed when this is dropped, unless another
/// server has written its own there since.
pub struct RuntimeToken {
    value: String,
    path: PathBuf,
}

impl RuntimeToken {
    /// Makes a token and writes it to `dir`/token: a new file made readable by its owner
    /// only, then renamed over the old one, so that no reader sees a partial token.
    pub fn create(dir: &Path) -> std::io::Result<Self> {
        let value = random_hex()?;
        std::fs::create_dir_all(dir)?;
        let path = dir.join(TOKEN_FILE);
        let temporary = dir.join(format!("{TOKEN_FILE}.{}", std::process::id()));
        // A file left by a crashed process of the same id may have other permissions.
        let _ = std::fs::remove_file(&temporary);
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)?;
        file.write_all(value.as_bytes())?;
        std::fs::rename(&temporary, &path)?;
        Ok(Self { value, path })
    }

    pub fn value(&self) -> &str {
        &self.value
    }
}

impl Drop for RuntimeToken {
    fn drop(&mut self) {
        if std::fs::read_to_string(&self.path).is_ok_and(|kept| kept == self.value) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Random bytes from the operating system, as lowercase hex.
fn random_hex() -> std::io::Result<String> {
    let mut bytes = [0u8; TOKEN_BYTES];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn the_token_is_private_random_and_removed_with_its_server() {
        let dir = tempfile::tempdir().unwrap();
        let runtime = dir.path().join("runtime");
        let first = RuntimeToken::create(&runtime).unwrap();
        let path = runtime.join(TOKEN_FILE);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), first.value());
        assert_eq!(first.value().len(), 2 * TOKEN_BYTES);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let second = RuntimeToken::create(&runtime).unwrap();
        assert_ne!(first.value(), second.value());
        drop(first);
        assert!(path.exists(), "the newer server's token stays");
        drop(second);
        assert!(!path.exists());
        assert_eq!(std::fs::read_dir(&runtime).unwrap().count(), 0);
    }
}

//! Secrets at rest, owner-only, for both sides: the store's data folder (0700) and its SQLite
//! database (0600); the app's profile folder, `library.db` and sealed device key.
//!
//! On Windows there are no mode bits: the folders are made under the account that runs the
//! program (the app's profile lives in the user's profile folder), and the user profile's ACL,
//! inherited by what is created in it, already keeps other users out; nothing is loosened here.

use std::path::Path;

use anyhow::Context;

/// Creates `dir` (and its parents) and makes it owner-only, whether or not it existed.
pub fn create_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        builder.mode(0o700);
        builder
            .create(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
        // The mode above is masked by the umask and skipped for a folder that existed.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("making {} owner-only", dir.display()))?;
    }
    #[cfg(not(unix))]
    builder
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    Ok(())
}

/// Creates `file` if missing and makes it owner-only. SQLite creates its `-wal` and `-shm`
/// files with the mode of the database file, so they follow.
pub fn create_file(file: &Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        options
            .open(file)
            .with_context(|| format!("creating {}", file.display()))?;
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("making {} owner-only", file.display()))?;
    }
    #[cfg(not(unix))]
    options
        .open(file)
        .with_context(|| format!("creating {}", file.display()))?;
    Ok(())
}

/// Writes `bytes` to a new owner-only `file` (replacing one that exists).
pub fn write_file(file: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let _ = std::fs::remove_file(file);
    let mut options = std::fs::OpenOptions::new();
    options.create_new(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Owner-only from the first byte: never readable by others, not even for a moment.
        options.mode(0o600);
    }
    let mut f = options
        .open(file)
        .with_context(|| format!("creating {}", file.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("writing {}", file.display()))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn folders_and_files_are_owner_only_new_or_old() {
        let tmp = std::env::temp_dir().join(format!("private-fs-{}", std::process::id()));
        let dir = tmp.join("a/b");
        create_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700, "an existing folder is tightened");
        let db = dir.join("x.db");
        std::fs::write(&db, b"kept").unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        create_file(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        assert_eq!(
            std::fs::read(&db).unwrap(),
            b"kept",
            "an existing file keeps its bytes"
        );
        let key = dir.join("k");
        write_file(&key, b"secret").unwrap();
        assert_eq!(mode(&key), 0o600);
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}

//! This computer's identity: the app-specific device id (a keyed hash of the OS machine id,
//! never the raw id) and the device key pair, whose secret is sealed at rest under a key derived
//! from the machine id, so a profile copied to another computer cannot open it.

use std::path::Path;

use marquee_licence::{DeviceError, DeviceId, DeviceKeys};

use crate::error::{Error, Result};

/// Where the machine id comes from.
#[derive(Clone)]
pub enum MachineIdSource {
    /// The operating system's machine id (`machine-uid`).
    Os,
    /// A given id: lets one test run several "computers" in one process.
    Fixed(String),
}

impl std::fmt::Debug for MachineIdSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The raw machine id never reaches a log.
        match self {
            MachineIdSource::Os => f.write_str("Os"),
            MachineIdSource::Fixed(_) => f.write_str("Fixed(<redacted>)"),
        }
    }
}

impl MachineIdSource {
    fn read(&self) -> Result<String> {
        match self {
            MachineIdSource::Fixed(id) => Ok(id.clone()),
            // machine-uid's error is not Send: turn it into text at once.
            MachineIdSource::Os => machine_uid::get().map_err(|e| {
                Error::Internal(anyhow::anyhow!("cannot read this computer's id: {e}"))
            }),
        }
    }
}

/// The identity of this install on this computer.
pub struct Identity {
    /// App-specific device id.
    pub device_id: DeviceId,
    /// The device key pair.
    pub keys: DeviceKeys,
}

/// File name of the sealed device key in the profile.
const DEVICE_KEY_FILE: &str = "device.key";

impl Identity {
    /// Loads the sealed device key from the profile, or creates one on first start.
    pub fn load_or_create(profile: &Path, source: &MachineIdSource) -> Result<Identity> {
        let machine_id = source.read()?;
        let device_id = marquee_licence::device::app_specific_id(&machine_id)?;
        let path = profile.join(DEVICE_KEY_FILE);
        let keys = match std::fs::read(&path) {
            Ok(sealed) => DeviceKeys::unseal(&sealed, &machine_id)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let keys = DeviceKeys::generate();
                let sealed = keys.seal(&machine_id);
                let tmp = path.with_extension("key.part");
                // Owner-only (0600 on Unix; on Windows the user profile's ACL).
                marquee_protocol::private_fs::write_file(&tmp, &sealed)?;
                std::fs::rename(&tmp, &path).map_err(anyhow::Error::from)?;
                keys
            }
            Err(e) => {
                return Err(Error::Internal(
                    anyhow::Error::from(e).context("reading the device key"),
                ))
            }
        };
        Ok(Identity { device_id, keys })
    }
}

/// Sets aside a device key made on another computer (kept as `device.key.other-<time>`, never
/// deleted), so the next start registers this computer as a new device. The library stays;
/// purchases can then be moved here and rentals rented again. `now` (Unix seconds) names the
/// kept file.
pub fn set_aside_device_key(profile: &Path, now: i64) -> Result<()> {
    let path = profile.join(DEVICE_KEY_FILE);
    if path.exists() {
        let aside = profile.join(format!("{DEVICE_KEY_FILE}.other-{now}"));
        std::fs::rename(&path, aside).map_err(anyhow::Error::from)?;
    }
    Ok(())
}

/// True when the error means the profile was made on another computer.
pub fn is_other_computer(e: &Error) -> bool {
    matches!(e, Error::Device(DeviceError::OtherComputer))
}

/// What this domain tells of the core.
impl crate::Core {
    /// This computer's app-specific device id.
    pub fn device_id(&self) -> marquee_licence::DeviceId {
        self.identity.device_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_copied_to_another_computer_does_not_open() {
        let dir = tempfile::tempdir().unwrap();
        let a = MachineIdSource::Fixed("4f6c3b1a9e2d4c7b8a1f0e3d2c5b6a79".into());
        let first = Identity::load_or_create(dir.path(), &a).unwrap();
        let again = Identity::load_or_create(dir.path(), &a).unwrap();
        assert_eq!(first.device_id, again.device_id);
        assert_eq!(first.keys.public_key(), again.keys.public_key());

        let b = MachineIdSource::Fixed("9a8b7c6d5e4f40312233445566778899".into());
        let err = Identity::load_or_create(dir.path(), &b).err().unwrap();
        assert!(is_other_computer(&err), "{err}");

        // Re-activation: the other computer's key is kept aside and a new one is made here.
        set_aside_device_key(dir.path(), 1_700_000_000).unwrap();
        let here = Identity::load_or_create(dir.path(), &b).unwrap();
        assert_ne!(here.device_id, first.device_id);
        let kept = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("device.key.other-")
            });
        assert!(kept, "the old key is kept, not deleted");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_device_key_and_the_library_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let profile = dir.path().join("profile");
        marquee_protocol::private_fs::create_dir(&profile).unwrap();
        let a = MachineIdSource::Fixed("4f6c3b1a9e2d4c7b8a1f0e3d2c5b6a79".into());
        Identity::load_or_create(&profile, &a).unwrap();
        let db = crate::db::open(&profile.join("library.db")).await.unwrap();
        sqlx::query("CREATE TABLE t (x)")
            .execute(&db)
            .await
            .unwrap();
        assert_eq!(mode(&profile), 0o700, "the profile folder");
        assert_eq!(
            mode(&profile.join(DEVICE_KEY_FILE)),
            0o600,
            "the device key"
        );
        for file in ["library.db", "library.db-wal", "library.db-shm"] {
            assert_eq!(mode(&profile.join(file)), 0o600, "{file}");
        }
        db.close().await;
    }
}

//! Where the session secret waits between runs: the OS credential store where one answers
//! (Secret Service, Keychain, Credential Manager, through the `keyring` crate), else a file in
//! the profile that only this user can read. The password is never kept, only the session
//! token the store handed out for it, which the store can end.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::api::SessionVaultKind;
use crate::error::{Error, Result};

/// The service name entries are filed under in the OS credential store.
const SERVICE: &str = "net.marquee.desktop";

/// The file used when no credential store answers.
const FILE: &str = "session.json";

/// A session kept between runs.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct KeptSession {
    /// The account's e-mail (shown as "signed in as").
    pub(crate) email: String,
    /// The bearer token.
    pub(crate) token: String,
    /// When the store ends it, unix seconds.
    pub(crate) expires_at: i64,
}

impl std::fmt::Debug for KeptSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tokens never reach a log.
        f.debug_struct("KeptSession")
            .field("email", &self.email)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// Which vault to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VaultChoice {
    /// The OS credential store if it answers, else the owner-only file.
    Auto,
    /// Always the owner-only file (tests: they must not touch the person's keyring).
    File,
}

/// The session vault of one profile and one store.
pub(crate) struct SessionVault {
    kind: SessionVaultKind,
    file: PathBuf,
    /// The entry's user name in the credential store: the store and the profile, so two
    /// profiles (or two stores) on one computer never share a session.
    user: String,
}

impl SessionVault {
    /// Opens the vault of the profile in `data_dir` for `store_url`.
    pub(crate) fn open(data_dir: &Path, store_url: &str, choice: VaultChoice) -> SessionVault {
        let profile = hex::encode(&Sha256::digest(data_dir.to_string_lossy().as_bytes())[..8]);
        let user = format!("{store_url} {profile}");
        let kind = match choice {
            VaultChoice::File => SessionVaultKind::OwnerOnlyFile,
            VaultChoice::Auto if os_store_answers(&user) => SessionVaultKind::OsCredentialStore,
            VaultChoice::Auto => SessionVaultKind::OwnerOnlyFile,
        };
        tracing::info!(vault = ?kind, "session vault");
        SessionVault {
            kind,
            file: data_dir.join(FILE),
            user,
        }
    }

    /// Where sessions are kept.
    pub(crate) fn kind(&self) -> SessionVaultKind {
        self.kind
    }

    /// The kept session, if any. A damaged one counts as none (the person signs in again).
    pub(crate) fn load(&self) -> Option<KeptSession> {
        let raw = match self.kind {
            SessionVaultKind::OsCredentialStore => os_entry(&self.user)?.get_password().ok()?,
            SessionVaultKind::OwnerOnlyFile => std::fs::read_to_string(&self.file).ok()?,
            SessionVaultKind::NotKept => return None,
        };
        serde_json::from_str(&raw).ok()
    }

    /// Keeps a session, replacing any other.
    pub(crate) fn save(&self, session: &KeptSession) -> Result<()> {
        let raw = serde_json::to_string(session).map_err(anyhow::Error::from)?;
        match self.kind {
            SessionVaultKind::OsCredentialStore => os_entry(&self.user)
                .ok_or_else(|| anyhow::anyhow!("the credential store went away"))?
                .set_password(&raw)
                .map_err(|e| anyhow::anyhow!("keeping the session: {e}").into()),
            SessionVaultKind::OwnerOnlyFile => write_owner_only(&self.file, raw.as_bytes()),
            SessionVaultKind::NotKept => Ok(()),
        }
    }

    /// Forgets the kept session.
    pub(crate) fn clear(&self) -> Result<()> {
        match self.kind {
            SessionVaultKind::OsCredentialStore => {
                if let Some(entry) = os_entry(&self.user) {
                    match entry.delete_credential() {
                        Ok(()) | Err(keyring::Error::NoEntry) => {}
                        Err(e) => return Err(anyhow::anyhow!("forgetting the session: {e}").into()),
                    }
                }
                Ok(())
            }
            SessionVaultKind::OwnerOnlyFile => match std::fs::remove_file(&self.file) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(Error::Internal(
                    anyhow::Error::new(e).context("forgetting the session"),
                )),
            },
            SessionVaultKind::NotKept => Ok(()),
        }
    }
}

fn os_entry(user: &str) -> Option<keyring::Entry> {
    keyring::Entry::new(SERVICE, user).ok()
}

/// True when the OS credential store answers for this entry (it has it, or says it has none).
/// No Secret Service on the session bus (a bare Linux machine), a locked store that refuses
/// access: the file is used instead.
fn os_store_answers(user: &str) -> bool {
    match os_entry(user).map(|e| e.get_password()) {
        Some(Ok(_)) | Some(Err(keyring::Error::NoEntry)) => true,
        Some(Err(e)) => {
            tracing::info!(error = %e, "no OS credential store; the session is kept in an owner-only file");
            false
        }
        None => false,
    }
}

/// Writes a file only this user can read: created with mode 0600 on Unix, then renamed over
/// the old one, so the secret is never readable by others, not even for a moment. On Windows
/// the profile folder's ACL (the user's own AppData) is what protects it.
pub(crate) fn write_owner_only(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let written = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    written.map_err(|e| Error::Internal(anyhow::Error::new(e).context("keeping the session")))
}

//! Device identity: the app-specific device id and the device's X25519 key pair.
//!
//! The OS machine id is never used raw and never leaves this module in any form but a keyed
//! hash ([`DeviceId`]) or an encryption key derived from it (the seal of [`DeviceKeys`]).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::Aes256Gcm;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroize;

/// HMAC key of [`app_specific_id`]. Any app using a different key derives unrelated ids from
/// the same machine id.
pub const DEVICE_ID_KEY: &[u8] = b"marquee device id v1";
/// HKDF salt of the key that seals the device secret at rest.
pub const SEAL_SALT: &[u8] = b"marquee device seal v1";
/// HKDF info of the key that seals the device secret at rest.
pub const SEAL_INFO: &[u8] = b"device x25519 secret";
/// HKDF salt of [`DeviceKeys::publisher_key`].
pub const PUBLISHER_SALT: &[u8] = b"marquee publisher key v1";
/// First byte of [`DeviceKeys::seal`]'s output.
pub const SEAL_VERSION: u8 = 1;
/// Length of [`DeviceKeys::seal`]'s output: version (1) + nonce (12) + secret (32) + tag (16).
pub const SEALED_LEN: usize = 1 + 12 + 32 + 16;
/// Machine ids shorter than this (after trimming, without `-`) are refused: they cannot be
/// unique enough to tell computers apart.
pub const MIN_MACHINE_ID_LEN: usize = 16;

/// Machine ids known to be shared by many computers, which therefore cannot tell them apart.
///
/// The list is conservative: it only names ids known to be identical on many machines. Ids are
/// compared case-insensitively and without `-`, `{` and `}`. Any all-zero id and any id shorter
/// than [`MIN_MACHINE_ID_LEN`] (such as systemd's `uninitialized` marker) are refused by rule and
/// need no entry.
pub const KNOWN_SHARED_MACHINE_IDS: &[&str] = &[
    // All zeros, as a 32-digit machine id (also caught by the all-zero rule).
    "00000000000000000000000000000000",
    // Whonix and Kicksecure ship this /etc/machine-id on every install, on purpose (privacy),
    // and privacy guides tell users of other distributions to copy it.
    "b08dfa6083e7567a1921a715000001fb",
    // SMBIOS "not set" UUID reported by some firmware (macOS reads the id from SMBIOS).
    "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
    // Placeholder SMBIOS UUID left in place by the firmware of many consumer boards.
    "03000200-0400-0500-0006-000700080009",
];

/// The app-specific device id: `HMAC-SHA256(key = "marquee device id v1", msg = trimmed machine
/// id)`. It identifies this computer to the store without revealing the machine id, and differs
/// from the id any other app derives.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceId(pub [u8; 32]);

impl DeviceId {
    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex characters (either case).
    pub fn from_hex(s: &str) -> Result<Self, DeviceError> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(s.trim(), &mut bytes).map_err(|_| DeviceError::BadHex)?;
        Ok(DeviceId(bytes))
    }
}

impl std::fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeviceId({})", self.to_hex())
    }
}

impl std::fmt::Display for DeviceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Derives the app-specific [`DeviceId`] from the OS machine id, after refusing ids that cannot
/// tell computers apart: empty or whitespace ([`DeviceError::EmptyMachineId`]), all zeros or in
/// [`KNOWN_SHARED_MACHINE_IDS`] ([`DeviceError::SharedMachineId`]), shorter than
/// [`MIN_MACHINE_ID_LEN`] ([`DeviceError::MachineIdTooShort`]).
///
/// The hash input is the machine id with surrounding whitespace trimmed (a file's trailing
/// newline must not change the id), otherwise unchanged.
pub fn app_specific_id(machine_id: &str) -> Result<DeviceId, DeviceError> {
    let machine_id = check_machine_id(machine_id)?;
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(DEVICE_ID_KEY).expect("HMAC accepts any key length");
    mac.update(machine_id.as_bytes());
    Ok(DeviceId(mac.finalize().into_bytes().into()))
}

/// Validates a machine id and returns it trimmed.
fn check_machine_id(machine_id: &str) -> Result<&str, DeviceError> {
    let trimmed = machine_id.trim();
    if trimmed.is_empty() {
        return Err(DeviceError::EmptyMachineId);
    }
    let normalised = normalise(trimmed);
    if normalised.chars().all(|c| c == '0') {
        return Err(DeviceError::SharedMachineId);
    }
    if KNOWN_SHARED_MACHINE_IDS
        .iter()
        .any(|known| normalise(known) == normalised)
    {
        return Err(DeviceError::SharedMachineId);
    }
    if normalised.chars().count() < MIN_MACHINE_ID_LEN {
        return Err(DeviceError::MachineIdTooShort);
    }
    Ok(trimmed)
}

/// Lowercase, without UUID punctuation, so `{ABC-...}` and `abc...` compare equal.
fn normalise(id: &str) -> String {
    id.chars()
        .filter(|c| !matches!(c, '-' | '{' | '}'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Checks that `public` is a usable X25519 public key: not one of the low-order points, for
/// which every shared secret is all zeros (a key wrapped for such a "device" could be unwrapped
/// by anyone). The store calls this when a device registers.
pub fn check_public_key(public: &[u8; 32]) -> Result<(), DeviceError> {
    // Any clamped scalar is a multiple of 8, so it maps exactly the low-order points to zero.
    let probe = StaticSecret::from([0x42; 32]);
    if probe
        .diffie_hellman(&PublicKey::from(*public))
        .was_contributory()
    {
        Ok(())
    } else {
        Err(DeviceError::BadPublicKey)
    }
}

/// The device's X25519 key pair. Content keys are wrapped for its public key; the secret, kept
/// sealed at rest ([`DeviceKeys::seal`]), unwraps them.
///
/// `Debug` shows the public key only; the secret is wiped from memory on drop.
#[derive(Clone)]
pub struct DeviceKeys {
    secret: StaticSecret,
}

impl DeviceKeys {
    /// Draws a fresh key pair from the operating system's random number generator.
    pub fn generate() -> Self {
        DeviceKeys {
            secret: StaticSecret::random_from_rng(OsRng),
        }
    }

    /// Builds the key pair from raw secret bytes (for tests and test vectors).
    pub fn from_secret_bytes(bytes: [u8; 32]) -> Self {
        DeviceKeys {
            secret: StaticSecret::from(bytes),
        }
    }

    /// The public key, sent to the store when the device registers.
    pub fn public_key(&self) -> [u8; 32] {
        PublicKey::from(&self.secret).to_bytes()
    }

    pub(crate) fn secret(&self) -> &StaticSecret {
        &self.secret
    }

    /// The device's Ed25519 publishing key: what the device signs with when it publishes a
    /// video, so nobody else can publish in its creator's name. Derived from the sealed secret
    /// (`HKDF-SHA256(ikm = X25519 secret, salt = "marquee publisher key v1")`), so it needs no
    /// storage of its own and is exactly as bound to this computer as the device key.
    pub fn publisher_key(&self) -> ed25519_dalek::SigningKey {
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(PUBLISHER_SALT), self.secret.as_bytes());
        let mut seed = [0u8; 32];
        hk.expand(b"ed25519 seed", &mut seed)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        ed25519_dalek::SigningKey::from_bytes(&seed)
    }

    /// A 32-byte key for authenticating the app's own records on this computer (its library's
    /// licence state, its trusted clock), one per `purpose`:
    /// `HKDF-SHA256(ikm = X25519 secret, salt = "marquee local seal v1", info = purpose)`. Bound
    /// to this computer exactly as the device key is; never leaves it.
    pub fn local_seal_key(&self, purpose: &[u8]) -> [u8; 32] {
        let hk =
            hkdf::Hkdf::<sha2::Sha256>::new(Some(b"marquee local seal v1"), self.secret.as_bytes());
        let mut key = [0u8; 32];
        hk.expand(purpose, &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        key
    }

    /// Seals the secret for storage on disk: AES-256-GCM under
    /// `HKDF-SHA256(ikm = trimmed machine id, salt = "marquee device seal v1", info = "device
    /// x25519 secret")`, with the version byte as associated data. Output ([`SEALED_LEN`] bytes):
    /// `version (1) || random nonce (12) || ciphertext + tag (48)`.
    ///
    /// A profile copied to another computer therefore cannot open its device key. Validate the
    /// machine id with [`app_specific_id`] first; this function does not refuse weak ids.
    pub fn seal(&self, machine_id: &str) -> Vec<u8> {
        let cipher = seal_cipher(machine_id);
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        let mut secret = self.secret.to_bytes();
        let sealed = cipher
            .encrypt(
                (&nonce).into(),
                Payload {
                    msg: &secret,
                    aad: &[SEAL_VERSION],
                },
            )
            .expect("AES-GCM seals 32 bytes");
        secret.zeroize();
        let mut out = Vec::with_capacity(SEALED_LEN);
        out.push(SEAL_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens what [`DeviceKeys::seal`] produced. Fails with [`DeviceError::OtherComputer`] when
    /// the machine id differs from the one used to seal (or the bytes were altered: the two
    /// cannot be told apart), and with [`DeviceError::Corrupt`] for bytes of the wrong shape.
    pub fn unseal(sealed: &[u8], machine_id: &str) -> Result<DeviceKeys, DeviceError> {
        if sealed.len() != SEALED_LEN {
            return Err(DeviceError::Corrupt(
                "the sealed device key has the wrong length",
            ));
        }
        if sealed[0] != SEAL_VERSION {
            return Err(DeviceError::Corrupt(
                "the sealed device key has an unknown version",
            ));
        }
        let cipher = seal_cipher(machine_id);
        let mut secret = cipher
            .decrypt(
                sealed[1..13]
                    .try_into()
                    .expect("the length was checked: 12 nonce bytes"),
                Payload {
                    msg: &sealed[13..],
                    aad: &sealed[..1],
                },
            )
            .map_err(|_| DeviceError::OtherComputer)?;
        let bytes: [u8; 32] = secret
            .as_slice()
            .try_into()
            .map_err(|_| DeviceError::Corrupt("the sealed device key has the wrong length"))?;
        secret.zeroize();
        Ok(DeviceKeys::from_secret_bytes(bytes))
    }
}

fn seal_cipher(machine_id: &str) -> Aes256Gcm {
    let hk = Hkdf::<Sha256>::new(Some(SEAL_SALT), machine_id.trim().as_bytes());
    let mut key = [0u8; 32];
    hk.expand(SEAL_INFO, &mut key)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    let cipher = Aes256Gcm::new((&key).into());
    key.zeroize();
    cipher
}

impl std::fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceKeys")
            .field("public", &hex::encode(self.public_key()))
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Why a device identity could not be derived or opened.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The OS reported no machine id.
    #[error("this computer reports no machine id, which Marquee needs to tie purchases to it; on Linux, create one with `systemd-machine-id-setup`")]
    EmptyMachineId,
    /// The OS reported a machine id that many computers share.
    #[error("this computer reports a machine id that many computers share (a placeholder from a disk image, container or privacy setting), so purchases could not be tied to it; give it a unique machine id and try again")]
    SharedMachineId,
    /// The OS reported a machine id too short to be unique.
    #[error("this computer reports a machine id too short to tell it apart from others; give it a unique machine id and try again")]
    MachineIdTooShort,
    /// The sealed device key was made on another computer.
    #[error("this profile was created on another computer; register this computer as a new device to continue")]
    OtherComputer,
    /// The sealed device key is malformed.
    #[error(
        "the saved device key is damaged ({0}); register this computer as a new device to continue"
    )]
    Corrupt(&'static str),
    /// A device id was not 64 hex characters.
    #[error("a device id must be 64 hexadecimal characters")]
    BadHex,
    /// A device public key is a low-order point and cannot protect anything.
    #[error("the device public key is not a usable X25519 key")]
    BadPublicKey,
}

#[cfg(test)]
mod tests {
    use super::*;

    const MACHINE_A: &str = "4c4c4544003957108052b4c04f4d3532";
    const MACHINE_B: &str = "9f1e2d3c4b5a69788796a5b4c3d2e1f0";

    #[test]
    fn publisher_key_is_stable_per_device_and_differs_between_devices() {
        use ed25519_dalek::{Signer, Verifier};
        let a = DeviceKeys::from_secret_bytes([7; 32]);
        let again = DeviceKeys::unseal(&a.seal(MACHINE_A), MACHINE_A).unwrap();
        assert_eq!(
            a.publisher_key().to_bytes(),
            again.publisher_key().to_bytes()
        );
        let b = DeviceKeys::from_secret_bytes([8; 32]);
        assert_ne!(a.publisher_key().to_bytes(), b.publisher_key().to_bytes());
        let sig = a.publisher_key().sign(b"my film");
        assert!(a
            .publisher_key()
            .verifying_key()
            .verify(b"my film", &sig)
            .is_ok());
        assert!(b
            .publisher_key()
            .verifying_key()
            .verify(b"my film", &sig)
            .is_err());
    }

    #[test]
    fn app_specific_id_is_deterministic_and_hides_the_machine_id() {
        let a1 = app_specific_id(MACHINE_A).unwrap();
        let a2 = app_specific_id(&format!("  {MACHINE_A}\n")).unwrap();
        assert_eq!(
            a1, a2,
            "trailing newline of /etc/machine-id must not matter"
        );
        let b = app_specific_id(MACHINE_B).unwrap();
        assert_ne!(a1, b);
        let hex = a1.to_hex();
        assert_eq!(hex.len(), 64);
        assert!(!hex.contains(MACHINE_A));
        assert_ne!(&a1.0[..16], hex::decode(MACHINE_A).unwrap().as_slice());
        assert_eq!(DeviceId::from_hex(&hex).unwrap(), a1);
        assert_eq!(DeviceId::from_hex(&hex.to_uppercase()).unwrap(), a1);
        assert_eq!(format!("{a1}"), hex);
        assert!(matches!(
            DeviceId::from_hex("abc"),
            Err(DeviceError::BadHex)
        ));
        assert!(matches!(
            DeviceId::from_hex(&"zz".repeat(32)),
            Err(DeviceError::BadHex)
        ));
    }

    #[test]
    fn app_specific_id_vector() {
        // Pins the derivation: HMAC-SHA256("marquee device id v1", machine id).
        let id = app_specific_id("0123456789abcdef0123456789abcdef").unwrap();
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"marquee device id v1").unwrap();
        mac.update(b"0123456789abcdef0123456789abcdef");
        assert_eq!(id.0, <[u8; 32]>::from(mac.finalize().into_bytes()));
    }

    #[test]
    fn unusable_machine_ids_are_refused() {
        for empty in ["", "   ", "\n\t"] {
            assert!(matches!(
                app_specific_id(empty),
                Err(DeviceError::EmptyMachineId)
            ));
        }
        for shared in [
            "00000000000000000000000000000000",
            "0",
            "00000000-0000-0000-0000-000000000000",
            "b08dfa6083e7567a1921a715000001fb\n",
            "B08DFA6083E7567A1921A715000001FB",
            "ffffffff-ffff-ffff-ffff-ffffffffffff",
            "{03000200-0400-0500-0006-000700080009}",
        ] {
            assert!(
                matches!(app_specific_id(shared), Err(DeviceError::SharedMachineId)),
                "{shared:?}"
            );
        }
        for short in ["uninitialized", "abc", "0123456789abcde"] {
            assert!(
                matches!(app_specific_id(short), Err(DeviceError::MachineIdTooShort)),
                "{short:?}"
            );
        }
        assert!(app_specific_id("0123456789abcdef").is_ok());
    }

    #[test]
    fn seal_round_trip() {
        let keys = DeviceKeys::generate();
        let sealed = keys.seal(MACHINE_A);
        assert_eq!(sealed.len(), SEALED_LEN);
        assert_eq!(sealed[0], SEAL_VERSION);
        let opened = DeviceKeys::unseal(&sealed, &format!("{MACHINE_A}\n")).unwrap();
        assert_eq!(opened.public_key(), keys.public_key());
        assert_eq!(opened.secret.to_bytes(), keys.secret.to_bytes());
        // Fresh nonce every time.
        assert_ne!(keys.seal(MACHINE_A), sealed);
    }

    #[test]
    fn unseal_on_another_computer_fails() {
        let keys = DeviceKeys::generate();
        let sealed = keys.seal(MACHINE_A);
        let err = DeviceKeys::unseal(&sealed, MACHINE_B).unwrap_err();
        assert!(matches!(err, DeviceError::OtherComputer));
        assert_eq!(
            err.to_string(),
            "this profile was created on another computer; register this computer as a new device to continue"
        );
    }

    #[test]
    fn unseal_refuses_malformed_bytes() {
        let keys = DeviceKeys::generate();
        let sealed = keys.seal(MACHINE_A);
        assert!(matches!(
            DeviceKeys::unseal(&sealed[..SEALED_LEN - 1], MACHINE_A),
            Err(DeviceError::Corrupt(_))
        ));
        assert!(matches!(
            DeviceKeys::unseal(&[], MACHINE_A),
            Err(DeviceError::Corrupt(_))
        ));
        let mut bad = sealed.clone();
        bad[0] = 2;
        assert!(matches!(
            DeviceKeys::unseal(&bad, MACHINE_A),
            Err(DeviceError::Corrupt(_))
        ));
        for i in 1..SEALED_LEN {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(matches!(
                DeviceKeys::unseal(&bad, MACHINE_A),
                Err(DeviceError::OtherComputer)
            ));
        }
    }

    #[test]
    fn debug_hides_the_secret() {
        let keys = DeviceKeys::from_secret_bytes([0x77; 32]);
        let dbg = format!("{keys:?}");
        assert!(!dbg.contains("7777"), "{dbg}");
        assert!(dbg.contains(&hex::encode(keys.public_key())));
    }

    #[test]
    fn low_order_public_keys_are_refused() {
        assert!(check_public_key(&DeviceKeys::generate().public_key()).is_ok());
        assert!(matches!(
            check_public_key(&[0; 32]),
            Err(DeviceError::BadPublicKey)
        ));
        let mut one = [0u8; 32];
        one[0] = 1;
        assert!(matches!(
            check_public_key(&one),
            Err(DeviceError::BadPublicKey)
        ));
    }
}

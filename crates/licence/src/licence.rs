//! Signed licences, format v1, and the wrapping of content keys for one device.
//!
//! See the [crate documentation](crate) for the byte layout.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::Aes256Gcm;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use hkdf::Hkdf;
use rand::rngs::OsRng;
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroize;

use crate::container::{ContentKey, NONCE_PREFIX_LEN};
use crate::device::{DeviceId, DeviceKeys};

/// The first six bytes of every encoded licence.
pub const MAGIC: [u8; 6] = *b"MRQLIC";
/// The licence format version this crate writes and reads.
pub const VERSION: u16 = 1;
/// Prefix of the signed message: the signature covers `SIGNATURE_DOMAIN || body`, so a
/// signature made by the store key for any other purpose can never pass as a licence.
pub const SIGNATURE_DOMAIN: &[u8] = b"marquee licence v1";
/// Length of the Ed25519 signature at the end of a licence.
pub const SIGNATURE_LEN: usize = 64;
/// Longest title id a licence can carry, in bytes of UTF-8.
pub const MAX_TITLE_ID_LEN: usize = 255;
/// HKDF salt of the key-wrapping key.
pub const WRAP_SALT: &[u8] = b"marquee licence key wrap v1";
/// Default time to start a rental: 30 days.
pub const DEFAULT_START_WITHIN_S: u64 = 30 * 24 * 3600;
/// Default viewing window once a rental has started: 48 hours.
pub const DEFAULT_PLAY_WINDOW_S: u64 = 48 * 3600;

// Body field offsets (see the table in the crate docs).
const OFF_LICENCE_ID: usize = 8;
const OFF_DEVICE_ID: usize = 24;
const OFF_DEVICE_PUBLIC: usize = 56;
const OFF_KIND: usize = 88;
const OFF_RULES_FLAG: usize = 89;
const OFF_ISSUED_AT: usize = 90;
const OFF_START_WITHIN: usize = 98;
const OFF_PLAY_WINDOW: usize = 106;
const OFF_COMMITMENT: usize = 114;
const OFF_EPHEMERAL: usize = 146;
const OFF_WRAPPED: usize = 178;
const OFF_TITLE_LEN: usize = 226;
/// Length of the body before the title bytes.
const FIXED_LEN: usize = 227;

/// What a licence grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LicenceKind {
    /// A rental, limited by [`RentalRules`].
    Rent,
    /// A purchase: no time limit.
    Buy,
    /// A free title: no time limit.
    Free,
}

impl LicenceKind {
    /// `"rent"`, `"buy"` or `"free"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            LicenceKind::Rent => "rent",
            LicenceKind::Buy => "buy",
            LicenceKind::Free => "free",
        }
    }

    /// The inverse of [`LicenceKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "rent" => Some(LicenceKind::Rent),
            "buy" => Some(LicenceKind::Buy),
            "free" => Some(LicenceKind::Free),
            _ => None,
        }
    }

    fn to_byte(self) -> u8 {
        match self {
            LicenceKind::Rent => 1,
            LicenceKind::Buy => 2,
            LicenceKind::Free => 3,
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(LicenceKind::Rent),
            2 => Some(LicenceKind::Buy),
            3 => Some(LicenceKind::Free),
            _ => None,
        }
    }
}

/// The time limits of a rental.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RentalRules {
    /// Seconds after `issued_at` within which playback must start.
    pub start_within_s: u64,
    /// Seconds after the first frame during which the title may be watched.
    pub play_window_s: u64,
}

impl Default for RentalRules {
    /// 30 days to start, 48 hours once started.
    fn default() -> Self {
        RentalRules {
            start_within_s: DEFAULT_START_WITHIN_S,
            play_window_s: DEFAULT_PLAY_WINDOW_S,
        }
    }
}

/// A content key encrypted for one device's X25519 public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrappedKey {
    /// The sender's one-time X25519 public key.
    pub ephemeral_public: [u8; 32],
    /// The AES-256-GCM encrypted content key: 32 bytes plus the 16-byte tag.
    pub ciphertext: [u8; 48],
}

/// Wraps `key` for the device whose X25519 public key is `device_public`:
///
/// 1. a fresh ephemeral X25519 key pair; `shared = X25519(ephemeral secret, device_public)`;
/// 2. `HKDF-SHA256(ikm = shared, salt = "marquee licence key wrap v1", info = licence_id (16) ||
///    title length (1) || title_id || device_public (32) || ephemeral_public (32))` expanded to
///    44 bytes: a 32-byte AES key, then a 12-byte nonce;
/// 3. `AES-256-GCM(key, nonce, content key, no associated data)` = 48 bytes.
///
/// The `info` binds the wrap to this licence, title and device, so a wrapped key cannot be
/// lifted into another licence. Only the holder of the device secret can unwrap it
/// ([`Licence::unwrap_key`]). Validate device keys at registration with
/// [`crate::device::check_public_key`]: for a low-order "public key" the wrap protects nothing.
/// Title ids longer than [`MAX_TITLE_ID_LEN`] are cut in the `info` only; such a licence cannot
/// be signed anyway.
pub fn wrap_content_key(
    key: &ContentKey,
    device_public: &[u8; 32],
    licence_id: &[u8; 16],
    title_id: &str,
) -> WrappedKey {
    let ephemeral = StaticSecret::random_from_rng(OsRng);
    wrap_with_ephemeral(key, &ephemeral, device_public, licence_id, title_id)
}

/// [`wrap_content_key`] with a given ephemeral secret: deterministic, for test vectors only.
pub(crate) fn wrap_with_ephemeral(
    key: &ContentKey,
    ephemeral: &StaticSecret,
    device_public: &[u8; 32],
    licence_id: &[u8; 16],
    title_id: &str,
) -> WrappedKey {
    let ephemeral_public = PublicKey::from(ephemeral).to_bytes();
    let shared = ephemeral.diffie_hellman(&PublicKey::from(*device_public));
    let cipher_and_nonce = wrap_cipher(
        shared.as_bytes(),
        licence_id,
        title_id,
        device_public,
        &ephemeral_public,
    );
    let (cipher, nonce) = cipher_and_nonce;
    let sealed = cipher
        .encrypt((&nonce).into(), key.as_bytes().as_slice())
        .expect("AES-GCM seals 32 bytes");
    WrappedKey {
        ephemeral_public,
        ciphertext: sealed
            .as_slice()
            .try_into()
            .expect("32 bytes of key plus a 16-byte tag"),
    }
}

/// Derives the wrapping cipher and nonce (step 2 of [`wrap_content_key`]).
fn wrap_cipher(
    shared: &[u8; 32],
    licence_id: &[u8; 16],
    title_id: &str,
    device_public: &[u8; 32],
    ephemeral_public: &[u8; 32],
) -> (Aes256Gcm, [u8; 12]) {
    let title = &title_id.as_bytes()[..title_id.len().min(MAX_TITLE_ID_LEN)];
    // The title is the only variable-length part, so it gets a length prefix: no two different
    // (title, device) pairs can produce the same info.
    let mut info = Vec::with_capacity(16 + 1 + title.len() + 64);
    info.extend_from_slice(licence_id);
    info.push(title.len() as u8);
    info.extend_from_slice(title);
    info.extend_from_slice(device_public);
    info.extend_from_slice(ephemeral_public);
    let hk = Hkdf::<Sha256>::new(Some(WRAP_SALT), shared);
    let mut okm = [0u8; 44];
    hk.expand(&info, &mut okm)
        .expect("44 bytes is a valid HKDF-SHA256 output length");
    let cipher = Aes256Gcm::new(
        okm[..32]
            .try_into()
            .expect("32 of the 44 bytes are the key"),
    );
    let nonce: [u8; 12] = okm[32..].try_into().expect("12 bytes");
    okm.zeroize();
    (cipher, nonce)
}

/// The content of a licence. Build one and [`Licence::sign`] it (store), or get one from
/// [`SignedLicence::verify`] (client).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Licence {
    /// Random id chosen by the store; also binds the wrapped key to this licence.
    pub licence_id: [u8; 16],
    /// The catalog title id, 1 to 255 bytes of UTF-8.
    pub title_id: String,
    /// The device the licence is for.
    pub device_id: DeviceId,
    /// That device's X25519 public key, which `wrapped_key` is wrapped for.
    pub device_public_key: [u8; 32],
    /// Rent, buy or free.
    pub kind: LicenceKind,
    /// Issue time, unix seconds (the store's clock).
    pub issued_at: i64,
    /// The rental rules: `Some` exactly when `kind` is [`LicenceKind::Rent`].
    pub rules: Option<RentalRules>,
    /// The container's key commitment ([`ContentKey::commitment`]).
    pub key_commitment: [u8; 32],
    /// The content key, wrapped for `device_public_key`.
    pub wrapped_key: WrappedKey,
}

impl Licence {
    /// Encodes and signs the licence with the store's key.
    ///
    /// # Panics
    ///
    /// If the licence cannot be encoded (see [`Licence::try_sign`]): that is a bug in the
    /// caller, not bad input.
    pub fn sign(&self, store_key: &SigningKey) -> SignedLicence {
        self.try_sign(store_key)
            .expect("licence fields must be encodable")
    }

    /// Like [`Licence::sign`], but returns [`LicenceError::Malformed`] instead of panicking
    /// when the title id is empty or longer than [`MAX_TITLE_ID_LEN`] bytes, or `rules` is not
    /// `Some` exactly for rentals. Such a licence would be refused by every client.
    pub fn try_sign(&self, store_key: &SigningKey) -> Result<SignedLicence, LicenceError> {
        let mut bytes = self.encode_body()?;
        let signature = store_key.sign(&signed_message(&bytes));
        bytes.extend_from_slice(&signature.to_bytes());
        Ok(SignedLicence {
            bytes,
            licence: self.clone(),
        })
    }

    fn encode_body(&self) -> Result<Vec<u8>, LicenceError> {
        let title = self.title_id.as_bytes();
        if title.is_empty() {
            return Err(LicenceError::Malformed("the title id is empty"));
        }
        if title.len() > MAX_TITLE_ID_LEN {
            return Err(LicenceError::Malformed(
                "the title id is longer than 255 bytes",
            ));
        }
        let rules = match (self.kind, self.rules) {
            (LicenceKind::Rent, Some(rules)) => Some(rules),
            (LicenceKind::Rent, None) => {
                return Err(LicenceError::Malformed("a rental has no rental rules"))
            }
            (_, Some(_)) => {
                return Err(LicenceError::Malformed(
                    "only a rental may carry rental rules",
                ))
            }
            (_, None) => None,
        };
        let mut out = Vec::with_capacity(FIXED_LEN + title.len() + SIGNATURE_LEN);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_be_bytes());
        out.extend_from_slice(&self.licence_id);
        out.extend_from_slice(&self.device_id.0);
        out.extend_from_slice(&self.device_public_key);
        out.push(self.kind.to_byte());
        out.push(u8::from(rules.is_some()));
        out.extend_from_slice(&self.issued_at.to_be_bytes());
        let rules = rules.unwrap_or(RentalRules {
            start_within_s: 0,
            play_window_s: 0,
        });
        out.extend_from_slice(&rules.start_within_s.to_be_bytes());
        out.extend_from_slice(&rules.play_window_s.to_be_bytes());
        out.extend_from_slice(&self.key_commitment);
        out.extend_from_slice(&self.wrapped_key.ephemeral_public);
        out.extend_from_slice(&self.wrapped_key.ciphertext);
        out.push(title.len() as u8);
        out.extend_from_slice(title);
        debug_assert_eq!(out.len(), FIXED_LEN + title.len());
        Ok(out)
    }

    /// Checks that the licence was issued for `device` ([`LicenceError::OtherDevice`]).
    pub fn check_device(&self, device: &DeviceId) -> Result<(), LicenceError> {
        if self.device_id == *device {
            Ok(())
        } else {
            Err(LicenceError::OtherDevice)
        }
    }

    /// Checks the licence's time rules at `now` (unix seconds). `first_frame_at` is when the
    /// first frame of this title was played on this device, if ever.
    ///
    /// - Buy and free: [`Validity::Unlimited`].
    /// - Rent, not started: valid until `issued_at + start_within_s`
    ///   ([`Validity::NotStarted`]), then [`LicenceError::StartWindowPassed`].
    /// - Rent, started: valid until `first_frame_at + play_window_s` ([`Validity::Running`]),
    ///   a first frame before `issued_at` counting from `issued_at`,
    ///   then [`LicenceError::Expired`]. A first frame recorded at or after the start deadline
    ///   does not count: [`LicenceError::StartWindowPassed`].
    ///
    /// Deadlines are exclusive: at exactly the deadline the licence is no longer valid. The
    /// caller supplies a trusted `now` (the core keeps a high-water mark so that a clock set
    /// back cannot revive a rental); this function has no clock of its own.
    pub fn check_time(
        &self,
        now: i64,
        first_frame_at: Option<i64>,
    ) -> Result<Validity, LicenceError> {
        let rules = match (self.kind, self.rules) {
            (LicenceKind::Buy | LicenceKind::Free, _) => return Ok(Validity::Unlimited),
            (LicenceKind::Rent, Some(rules)) => rules,
            (LicenceKind::Rent, None) => {
                return Err(LicenceError::Malformed("a rental has no rental rules"))
            }
        };
        let start_by = add_secs(self.issued_at, rules.start_within_s);
        match first_frame_at {
            None if now < start_by => Ok(Validity::NotStarted { start_by }),
            None => Err(LicenceError::StartWindowPassed { deadline: start_by }),
            Some(first) if first >= start_by => {
                Err(LicenceError::StartWindowPassed { deadline: start_by })
            }
            Some(first) => {
                // A first frame cannot precede the licence: the store clamps reports to the
                // same bound, so a client whose trusted clock runs a second behind the store's
                // (the offset is read in whole seconds) and the store agree on the window.
                let ends_at = add_secs(first.max(self.issued_at), rules.play_window_s);
                if now < ends_at {
                    Ok(Validity::Running { ends_at })
                } else {
                    Err(LicenceError::Expired { ended_at: ends_at })
                }
            }
        }
    }

    /// Unwraps the content key with the device secret, then checks that it is the key the
    /// container commits to. Pass the container header's nonce prefix.
    ///
    /// Errors: [`LicenceError::OtherDevice`] if `device` is not the key pair the licence was
    /// issued for; [`LicenceError::UnwrapFailed`] if the wrapped key does not open;
    /// [`LicenceError::KeyMismatch`] if the key does not match `key_commitment` for this nonce
    /// prefix (the licence is for another file).
    pub fn unwrap_key(
        &self,
        device: &DeviceKeys,
        nonce_prefix: &[u8; NONCE_PREFIX_LEN],
    ) -> Result<ContentKey, LicenceError> {
        if device.public_key() != self.device_public_key {
            return Err(LicenceError::OtherDevice);
        }
        let shared = device
            .secret()
            .diffie_hellman(&PublicKey::from(self.wrapped_key.ephemeral_public));
        // A low-order ephemeral key gives an all-zero shared secret that anyone can compute:
        // such a wrap was not made by `wrap_content_key`.
        if !shared.was_contributory() {
            return Err(LicenceError::UnwrapFailed);
        }
        let (cipher, nonce) = wrap_cipher(
            shared.as_bytes(),
            &self.licence_id,
            &self.title_id,
            &self.device_public_key,
            &self.wrapped_key.ephemeral_public,
        );
        let mut plain = cipher
            .decrypt((&nonce).into(), self.wrapped_key.ciphertext.as_slice())
            .map_err(|_| LicenceError::UnwrapFailed)?;
        let bytes: Result<[u8; 32], _> = plain.as_slice().try_into();
        plain.zeroize();
        let key = ContentKey::from_bytes(bytes.map_err(|_| LicenceError::UnwrapFailed)?);
        if !key.verify_commitment(nonce_prefix, &self.key_commitment) {
            return Err(LicenceError::KeyMismatch);
        }
        Ok(key)
    }
}

/// `t + secs`, saturating instead of overflowing on absurd rules.
fn add_secs(t: i64, secs: u64) -> i64 {
    t.saturating_add(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// What [`Licence::check_time`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validity {
    /// Bought or free: no time limit.
    Unlimited,
    /// A rental not started yet; playback must start before `start_by` (unix seconds).
    NotStarted {
        /// Start deadline, exclusive.
        start_by: i64,
    },
    /// A started rental, watchable until `ends_at` (unix seconds).
    Running {
        /// End of the viewing window, exclusive.
        ends_at: i64,
    },
}

/// An encoded, signed licence: the bytes the store sends and the client stores.
///
/// [`SignedLicence::from_bytes`] checks the structure only; call [`SignedLicence::verify`]
/// before trusting anything in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedLicence {
    bytes: Vec<u8>,
    /// The parsed fields, not yet verified.
    licence: Licence,
}

impl SignedLicence {
    /// Parses the structure of an encoded licence: magic, version, every length, known kind,
    /// consistent rental rules, UTF-8 title, no trailing bytes. Does not check the signature.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<SignedLicence, LicenceError> {
        let licence = parse(&bytes)?;
        Ok(SignedLicence { bytes, licence })
    }

    /// The encoded licence, signature included.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The encoded licence, signature included.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// Verifies the store's signature (strict Ed25519 verification) and returns the licence.
    /// Does not check the device or the time: see [`Licence::check_device`] and
    /// [`Licence::check_time`].
    pub fn verify(&self, store_public: &VerifyingKey) -> Result<Licence, LicenceError> {
        let body_len = self.bytes.len() - SIGNATURE_LEN;
        let signature: [u8; SIGNATURE_LEN] = self.bytes[body_len..]
            .try_into()
            .expect("from_bytes checked the length");
        store_public
            .verify_strict(
                &signed_message(&self.bytes[..body_len]),
                &Signature::from_bytes(&signature),
            )
            .map_err(|_| LicenceError::BadSignature)?;
        Ok(self.licence.clone())
    }

    /// The title id, **not verified**: for display and lookup only.
    pub fn unverified_title_id(&self) -> String {
        self.licence.title_id.clone()
    }

    /// The licence id, **not verified**: for lookup only.
    pub fn unverified_licence_id(&self) -> [u8; 16] {
        self.licence.licence_id
    }
}

/// The message the store signs: the domain label, then the body.
fn signed_message(body: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(SIGNATURE_DOMAIN.len() + body.len());
    msg.extend_from_slice(SIGNATURE_DOMAIN);
    msg.extend_from_slice(body);
    msg
}

/// Copies the `N` bytes at `offset` into an array (the caller checked the length).
fn field<const N: usize>(bytes: &[u8], offset: usize) -> [u8; N] {
    bytes[offset..offset + N]
        .try_into()
        .expect("length checked before")
}

/// The strict parser behind [`SignedLicence::from_bytes`].
fn parse(bytes: &[u8]) -> Result<Licence, LicenceError> {
    if bytes.len() < FIXED_LEN + 1 + SIGNATURE_LEN {
        return Err(LicenceError::Malformed("the licence is too short"));
    }
    if bytes[..6] != MAGIC {
        return Err(LicenceError::Malformed("this is not a Marquee licence"));
    }
    let version = u16::from_be_bytes(field(bytes, 6));
    if version != VERSION {
        return Err(LicenceError::UnsupportedVersion(version));
    }
    let title_len = usize::from(bytes[OFF_TITLE_LEN]);
    if title_len == 0 {
        return Err(LicenceError::Malformed("the title id is empty"));
    }
    let expected = FIXED_LEN + title_len + SIGNATURE_LEN;
    if bytes.len() < expected {
        return Err(LicenceError::Malformed("the licence is cut short"));
    }
    if bytes.len() > expected {
        return Err(LicenceError::Malformed(
            "the licence has bytes after its signature",
        ));
    }
    let kind = LicenceKind::from_byte(bytes[OFF_KIND])
        .ok_or(LicenceError::Malformed("the licence kind is unknown"))?;
    let start_within_s = u64::from_be_bytes(field(bytes, OFF_START_WITHIN));
    let play_window_s = u64::from_be_bytes(field(bytes, OFF_PLAY_WINDOW));
    let rules = match bytes[OFF_RULES_FLAG] {
        0 if start_within_s == 0 && play_window_s == 0 => None,
        0 => {
            return Err(LicenceError::Malformed(
                "rental rule fields are set but marked absent",
            ))
        }
        1 => Some(RentalRules {
            start_within_s,
            play_window_s,
        }),
        _ => return Err(LicenceError::Malformed("the rental rules flag is invalid")),
    };
    match (kind, rules.is_some()) {
        (LicenceKind::Rent, false) => {
            return Err(LicenceError::Malformed("a rental has no rental rules"))
        }
        (LicenceKind::Buy | LicenceKind::Free, true) => {
            return Err(LicenceError::Malformed(
                "only a rental may carry rental rules",
            ))
        }
        _ => {}
    }
    let title_id = std::str::from_utf8(&bytes[FIXED_LEN..FIXED_LEN + title_len])
        .map_err(|_| LicenceError::Malformed("the title id is not UTF-8"))?
        .to_owned();
    Ok(Licence {
        licence_id: field(bytes, OFF_LICENCE_ID),
        title_id,
        device_id: DeviceId(field(bytes, OFF_DEVICE_ID)),
        device_public_key: field(bytes, OFF_DEVICE_PUBLIC),
        kind,
        issued_at: i64::from_be_bytes(field(bytes, OFF_ISSUED_AT)),
        rules,
        key_commitment: field(bytes, OFF_COMMITMENT),
        wrapped_key: WrappedKey {
            ephemeral_public: field(bytes, OFF_EPHEMERAL),
            ciphertext: field(bytes, OFF_WRAPPED),
        },
    })
}

/// Why a licence was refused.
#[derive(Debug, thiserror::Error)]
pub enum LicenceError {
    /// The bytes are not a well-formed licence; the text says how.
    #[error("this licence is damaged: {0}")]
    Malformed(&'static str),
    /// The licence format version is not [`VERSION`].
    #[error("this licence uses format version {0}, which this version of Marquee cannot read; update Marquee")]
    UnsupportedVersion(u16),
    /// The signature does not verify under the store's key.
    #[error("this licence was not issued by the store or was altered")]
    BadSignature,
    /// The licence is for another device.
    #[error("this licence belongs to another computer")]
    OtherDevice,
    /// The rental was not started in time.
    #[error("this rental had to be started by {deadline} (unix time) and can no longer be played")]
    StartWindowPassed {
        /// The start deadline, unix seconds.
        deadline: i64,
    },
    /// The rental's viewing window is over.
    #[error("this rental ended at {ended_at} (unix time)")]
    Expired {
        /// End of the viewing window, unix seconds.
        ended_at: i64,
    },
    /// The unwrapped key is not the key of this title's file.
    #[error("this licence's key does not match the downloaded file; the file or the licence is for a different version of the title")]
    KeyMismatch,
    /// The wrapped key could not be opened with this device's key.
    #[error("this licence's key could not be unlocked on this computer")]
    UnwrapFailed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::app_specific_id;
    use sha2::Digest;

    const PREFIX: [u8; 7] = [1, 2, 3, 4, 5, 6, 7];

    struct Fixture {
        store: SigningKey,
        device: DeviceKeys,
        key: ContentKey,
        licence: Licence,
    }

    fn fixture(kind: LicenceKind) -> Fixture {
        let store = SigningKey::generate(&mut OsRng);
        let device = DeviceKeys::generate();
        let key = ContentKey::generate();
        let licence_id = [0x11; 16];
        let title_id = "film-0042-hd";
        let licence = Licence {
            licence_id,
            title_id: title_id.into(),
            device_id: app_specific_id("4c4c4544003957108052b4c04f4d3532").unwrap(),
            device_public_key: device.public_key(),
            kind,
            issued_at: 1_700_000_000,
            rules: (kind == LicenceKind::Rent).then(RentalRules::default),
            key_commitment: key.commitment(&PREFIX),
            wrapped_key: wrap_content_key(&key, &device.public_key(), &licence_id, title_id),
        };
        Fixture {
            store,
            device,
            key,
            licence,
        }
    }

    #[test]
    fn kind_strings_round_trip() {
        for kind in [LicenceKind::Rent, LicenceKind::Buy, LicenceKind::Free] {
            assert_eq!(LicenceKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(LicenceKind::parse("Rent"), None);
        assert_eq!(RentalRules::default().start_within_s, 2_592_000);
        assert_eq!(RentalRules::default().play_window_s, 172_800);
    }

    #[test]
    fn sign_verify_round_trip() {
        for kind in [LicenceKind::Rent, LicenceKind::Buy, LicenceKind::Free] {
            let f = fixture(kind);
            let signed = f.licence.sign(&f.store);
            assert_eq!(
                signed.as_bytes().len(),
                FIXED_LEN + f.licence.title_id.len() + SIGNATURE_LEN
            );
            let parsed = SignedLicence::from_bytes(signed.as_bytes().to_vec()).unwrap();
            assert_eq!(parsed, signed);
            assert_eq!(parsed.unverified_title_id(), "film-0042-hd");
            assert_eq!(parsed.unverified_licence_id(), [0x11; 16]);
            let licence = parsed.verify(&f.store.verifying_key()).unwrap();
            assert_eq!(licence, f.licence);
            let key = licence.unwrap_key(&f.device, &PREFIX).unwrap();
            assert_eq!(key.as_bytes(), f.key.as_bytes());
        }
    }

    #[test]
    fn another_store_key_is_refused() {
        let f = fixture(LicenceKind::Buy);
        let signed = f.licence.sign(&f.store);
        let other = SigningKey::generate(&mut OsRng);
        assert!(matches!(
            signed.verify(&other.verifying_key()),
            Err(LicenceError::BadSignature)
        ));
    }

    #[test]
    fn every_flipped_bit_is_refused() {
        let f = fixture(LicenceKind::Rent);
        let signed = f.licence.sign(&f.store);
        let public = f.store.verifying_key();
        let bytes = signed.as_bytes();
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut bad = bytes.to_vec();
                bad[i] ^= 1 << bit;
                let refused = match SignedLicence::from_bytes(bad) {
                    Err(_) => true,
                    Ok(s) => s.verify(&public).is_err(),
                };
                assert!(refused, "byte {i} bit {bit} flipped, licence accepted");
            }
        }
        // Truncated and extended copies too.
        for len in 0..bytes.len() {
            assert!(SignedLicence::from_bytes(bytes[..len].to_vec()).is_err());
        }
        let mut longer = bytes.to_vec();
        longer.push(0);
        assert!(matches!(
            SignedLicence::from_bytes(longer),
            Err(LicenceError::Malformed(_))
        ));
    }

    #[test]
    fn strict_parser_checks() {
        let f = fixture(LicenceKind::Buy);
        let bytes = f.licence.sign(&f.store).into_bytes();
        let with = |offset: usize, value: u8| {
            let mut b = bytes.clone();
            b[offset] = value;
            SignedLicence::from_bytes(b)
        };
        assert!(matches!(with(OFF_KIND, 4), Err(LicenceError::Malformed(_))));
        assert!(matches!(with(OFF_KIND, 0), Err(LicenceError::Malformed(_))));
        // Buy with rules.
        assert!(matches!(
            with(OFF_RULES_FLAG, 1),
            Err(LicenceError::Malformed(_))
        ));
        assert!(matches!(
            with(OFF_RULES_FLAG, 2),
            Err(LicenceError::Malformed(_))
        ));
        assert!(matches!(
            with(OFF_START_WITHIN, 1),
            Err(LicenceError::Malformed(_))
        ));
        assert!(matches!(
            with(7, 2),
            Err(LicenceError::UnsupportedVersion(2))
        ));
        assert!(matches!(
            with(FIXED_LEN, 0xff),
            Err(LicenceError::Malformed(_))
        ));
        assert!(matches!(
            with(OFF_TITLE_LEN, 0),
            Err(LicenceError::Malformed(_))
        ));
        // Unsignable licences.
        let mut l = f.licence.clone();
        l.title_id = String::new();
        assert!(l.try_sign(&f.store).is_err());
        l.title_id = "x".repeat(256);
        assert!(l.try_sign(&f.store).is_err());
        l.title_id = "x".repeat(255);
        assert!(l.try_sign(&f.store).is_ok());
        l.rules = Some(RentalRules::default());
        assert!(l.try_sign(&f.store).is_err());
        l.kind = LicenceKind::Rent;
        l.rules = None;
        assert!(l.try_sign(&f.store).is_err());
    }

    #[test]
    fn licence_for_device_b_is_refused_on_device_a() {
        let f = fixture(LicenceKind::Rent);
        let device_a = app_specific_id("9f1e2d3c4b5a69788796a5b4c3d2e1f0").unwrap();
        let err = f.licence.check_device(&device_a).unwrap_err();
        assert!(matches!(err, LicenceError::OtherDevice));
        assert_eq!(err.to_string(), "this licence belongs to another computer");
        assert!(f.licence.check_device(&f.licence.device_id).is_ok());
    }

    #[test]
    fn rental_time_rules() {
        let l = fixture(LicenceKind::Rent).licence;
        let issued = l.issued_at;
        let start_by = issued + 30 * 86_400;
        // Not started.
        assert_eq!(
            l.check_time(issued, None).unwrap(),
            Validity::NotStarted { start_by }
        );
        assert_eq!(
            l.check_time(start_by - 1, None).unwrap(),
            Validity::NotStarted { start_by }
        );
        // Start window passed.
        assert!(matches!(
            l.check_time(start_by, None),
            Err(LicenceError::StartWindowPassed { deadline }) if deadline == start_by
        ));
        // Started: running, then expired 48 hours after the first frame.
        let first = issued + 10 * 86_400;
        let ends_at = first + 48 * 3600;
        assert_eq!(
            l.check_time(first + 3600, Some(first)).unwrap(),
            Validity::Running { ends_at }
        );
        // Starting late in the window still gives the full 48 hours, past the start deadline.
        let late = start_by - 60;
        assert_eq!(
            l.check_time(start_by + 3600, Some(late)).unwrap(),
            Validity::Running {
                ends_at: late + 48 * 3600
            }
        );
        assert!(matches!(
            l.check_time(ends_at, Some(first)),
            Err(LicenceError::Expired { ended_at }) if ended_at == ends_at
        ));
        // A first frame stamped a second before the licence (a client clock a second behind
        // the store's) counts from the licence, as the store records it.
        assert_eq!(
            l.check_time(issued + 60, Some(issued - 1)).unwrap(),
            Validity::Running {
                ends_at: issued + 48 * 3600
            }
        );
        // A first frame after the deadline does not count.
        assert!(matches!(
            l.check_time(start_by + 10, Some(start_by + 1)),
            Err(LicenceError::StartWindowPassed { .. })
        ));
        // Buy and free never expire.
        for kind in [LicenceKind::Buy, LicenceKind::Free] {
            let l = fixture(kind).licence;
            assert_eq!(
                l.check_time(i64::MAX, Some(0)).unwrap(),
                Validity::Unlimited
            );
        }
        // Absurd rules saturate instead of overflowing.
        let mut huge = l.clone();
        huge.rules = Some(RentalRules {
            start_within_s: u64::MAX,
            play_window_s: u64::MAX,
        });
        assert_eq!(
            huge.check_time(0, Some(1)).unwrap(),
            Validity::Running { ends_at: i64::MAX }
        );
    }

    #[test]
    fn unwrap_with_wrong_device_keys_fails() {
        let f = fixture(LicenceKind::Buy);
        let other = DeviceKeys::generate();
        assert!(matches!(
            f.licence.unwrap_key(&other, &PREFIX),
            Err(LicenceError::OtherDevice)
        ));
        // A licence whose wrap was made for another key but that claims this device's public
        // key (a store bug or a forgery that passed signing): the unwrap itself fails.
        let mut l = f.licence.clone();
        l.device_public_key = other.public_key();
        assert!(matches!(
            l.unwrap_key(&other, &PREFIX),
            Err(LicenceError::UnwrapFailed)
        ));
        // A wrap lifted into a licence for another title fails too: the info binds the title.
        let mut l = f.licence.clone();
        l.title_id = "another-title".into();
        assert!(matches!(
            l.unwrap_key(&f.device, &PREFIX),
            Err(LicenceError::UnwrapFailed)
        ));
        // Low-order ephemeral key.
        let mut l = f.licence.clone();
        l.wrapped_key.ephemeral_public = [0; 32];
        assert!(matches!(
            l.unwrap_key(&f.device, &PREFIX),
            Err(LicenceError::UnwrapFailed)
        ));
    }

    #[test]
    fn unwrap_checks_the_key_commitment() {
        let f = fixture(LicenceKind::Buy);
        // The licence is for a file with another nonce prefix.
        assert!(matches!(
            f.licence.unwrap_key(&f.device, &[9; 7]),
            Err(LicenceError::KeyMismatch)
        ));
        let mut l = f.licence.clone();
        l.key_commitment = ContentKey::generate().commitment(&PREFIX);
        assert!(matches!(
            l.unwrap_key(&f.device, &PREFIX),
            Err(LicenceError::KeyMismatch)
        ));
    }

    /// Builds the licence of the test vector in the crate docs.
    pub(crate) fn vector_licence() -> (SigningKey, DeviceKeys, Licence) {
        let store = SigningKey::from_bytes(&[0x5e; 32]);
        let device = DeviceKeys::from_secret_bytes([0x22; 32]);
        let key = ContentKey::from_bytes(core::array::from_fn(|i| i as u8));
        let nonce_prefix = [0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6];
        let licence_id = [0x11; 16];
        let title_id = "vector-title";
        let wrapped_key = wrap_with_ephemeral(
            &key,
            &StaticSecret::from([0x33; 32]),
            &device.public_key(),
            &licence_id,
            title_id,
        );
        let licence = Licence {
            licence_id,
            title_id: title_id.into(),
            device_id: app_specific_id("0123456789abcdef0123456789abcdef").unwrap(),
            device_public_key: device.public_key(),
            kind: LicenceKind::Rent,
            issued_at: 1_700_000_000,
            rules: Some(RentalRules::default()),
            key_commitment: key.commitment(&nonce_prefix),
            wrapped_key,
        };
        (store, device, licence)
    }

    /// The licence test vector printed in the crate docs.
    #[test]
    fn licence_test_vector() {
        let (store, device, licence) = vector_licence();
        let signed = licence.sign(&store);
        assert_eq!(signed.as_bytes().len(), 227 + 12 + 64);
        assert_eq!(
            hex::encode(store.verifying_key().to_bytes()),
            "8146640f02493af4fbc54fe33388e75dc2c937ae0b7727cc2b2afb1b75199a3e"
        );
        assert_eq!(
            hex::encode(device.public_key()),
            "0faa684ed28867b97f4a6a2dee5df8ce974e76b7018e3f22a1c4cf2678570f20"
        );
        assert_eq!(
            licence.device_id.to_hex(),
            "65b952870f801e4a9df9c81dcaebee6dff3feb5a13e916b4c3f78a33e5b9740f"
        );
        assert_eq!(
            hex::encode(licence.wrapped_key.ephemeral_public),
            "7b0d47d93427f8311160781c7c733fd89f88970aef490d8aa0ee19a4cb8a1b14"
        );
        assert_eq!(
            hex::encode(licence.wrapped_key.ciphertext),
            concat!(
                "543d16523a6f771ccfd87e2e9b165cec3731da40e65ca51e6f6e0b2203cf2be3",
                "3b9e8d6058721fb40500f54d7fcd4235"
            )
        );
        assert_eq!(
            hex::encode(Sha256::digest(signed.as_bytes())),
            "6558d75c8213b20c0287a372141d31e17bea236e243fd18c013f213753fc77bb"
        );
        let verified = signed.verify(&store.verifying_key()).unwrap();
        let key = verified
            .unwrap_key(&device, &[0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6])
            .unwrap();
        assert_eq!(
            key.as_bytes(),
            &core::array::from_fn::<u8, 32, _>(|i| i as u8)
        );
    }
}

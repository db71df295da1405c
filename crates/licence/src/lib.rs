//! # Marquee licence formats
//!
//! The formats the Marquee app and store share: the encrypted **content container** (v1),
//! **device identity**, and the signed **licence** (v1). This crate does no I/O beyond byte
//! slices and `std::io` readers and writers; it has no clock and no network.
//!
//! This page is the specification. The tests in each module check every statement marked
//! *(tested)*, and the test vectors at the end are checked byte for byte by
//! `container::tests::container_test_vector` and `licence::tests::licence_test_vector` (they
//! were also reproduced independently with Python's `cryptography` package).
//!
//! All integers are **big-endian**. "‖" is concatenation.
//!
//! ## Key hierarchy
//!
//! | key | what it is | who holds it | protects |
//! | --- | --- | --- | --- |
//! | **content key** | 256-bit random AES key, one per title ([`ContentKey`]) | the store; the licensed device, only in memory while playing | the film itself, inside the container |
//! | **device key** | X25519 key pair, one per install ([`DeviceKeys`]) | the device; the secret is sealed at rest under a key derived from the OS machine id | the content key, while it travels inside a licence |
//! | **machine-derived seal key** | `HKDF-SHA256(ikm = machine id, salt = "marquee device seal v1", info = "device x25519 secret")` | recomputed on the device, never stored | the device secret on disk |
//! | **store key** | Ed25519 key pair | the store (secret); every client (public key, built in) | the licence: who may play what, where, until when |
//!
//! The store encrypts a title once, with its content key, into a container that anyone may
//! seed. When a person rents or buys it, the store wraps the content key for that person's
//! device public key ([`wrap_content_key`]) and signs a licence around it. The device verifies
//! the signature with the store's public key, unwraps the content key with its secret, checks it
//! against the container's key commitment, and decrypts only the chunks it plays.
//!
//! ## Content container v1
//!
//! A container is a 64-byte header followed by `chunk_count` sealed chunks, nothing else.
//!
//! ### Header (64 bytes, at offset 0)
//!
//! | offset | length | field | value |
//! | ---: | ---: | --- | --- |
//! | 0 | 8 | magic | `"MRQCONT1"` ([`container::MAGIC`]) |
//! | 8 | 2 | version | `1` (u16) |
//! | 10 | 4 | chunk_size | plaintext bytes per chunk (u32), 4096 ..= 16 MiB; the app writes 65536 |
//! | 14 | 8 | plaintext_len | total plaintext bytes (u64) |
//! | 22 | 7 | nonce_prefix | random per file |
//! | 29 | 32 | key_commitment | `HMAC-SHA256(content key, "marquee container v1 key commitment" ‖ nonce_prefix)` |
//! | 61 | 3 | reserved | must be zero |
//!
//! A reader refuses a bad magic, another version, an out-of-range chunk size, non-zero reserved
//! bytes, and a file that would need more than 2³² − 1 chunks *(tested)*.
//!
//! ### Chunks
//!
//! `chunk_count = max(1, ceil(plaintext_len / chunk_size))`: an empty file still has one empty
//! chunk, so that it carries a tag and cannot be cut off unnoticed. Every chunk holds
//! `chunk_size` plaintext bytes except the last, which holds the rest.
//!
//! Chunk *i* is sealed as
//!
//! ```text
//! nonce_i  = nonce_prefix (7) ‖ i as u32 (4) ‖ last (1)      last = 1 for the final chunk, else 0
//! sealed_i = AES-256-GCM(content key, nonce_i, aad = the 64 header bytes, plaintext chunk i)
//!          = ciphertext (same length as the plaintext) ‖ tag (16)
//! ```
//!
//! which is exactly the STREAM construction `StreamBE32` (`aead-stream`) *(tested)*. Sealed chunk
//! *i* sits at offset `64 + i × (chunk_size + 16)`, so a byte range of the plaintext is read by
//! fetching and opening only the chunks that cover it ([`ContainerHeader::chunks_covering`],
//! [`Opener::open_chunk`]). The container length is
//! `64 + plaintext_len + 16 × chunk_count`; a sequential reader refuses trailing bytes.
//!
//! ### What each field protects against
//!
//! - **Per-chunk tag**: any change to a chunk's bytes is detected before any of its plaintext
//!   is released; the error names the chunk *(tested)*. [`Opener::open_chunk`] wipes the buffer
//!   on failure.
//! - **Chunk index in the nonce**: chunks cannot be swapped or moved *(tested)*.
//! - **Last flag in the nonce**: dropping chunks from the end cannot pass off a shorter file,
//!   even in a reader that ignored the header's length: chunk *i* sealed as "not last" fails
//!   when opened as the last one *(tested)*.
//! - **Header as associated data of every chunk**: the length, chunk size, nonce prefix and
//!   commitment cannot be changed without every chunk failing, so the header is trustworthy as
//!   soon as chunk 0 opens *(tested: every single-bit flip of the header is refused)*.
//! - **Random nonce prefix**: with a fresh random prefix per file, re-encrypting a title (even
//!   under the same content key) does not reuse a GCM nonce, which would leak plaintext and
//!   allow forgeries. Never call [`container::encrypt_with`] twice with the same key and prefix.
//! - **Key commitment**: GCM is not key-committing; a ciphertext can be built that opens under
//!   two keys. The commitment ties the file to one key, so a wrong key is refused up front with
//!   a clear error rather than through a chunk failure ([`ContainerError::WrongKey`]), and a
//!   licence whose key is for another file is caught before playback
//!   ([`LicenceError::KeyMismatch`]). The commitment covers the nonce prefix, so it differs per
//!   file and does not reveal which files share a key.
//!
//! ## Device identity
//!
//! - **Device id** ([`DeviceId`]): `HMAC-SHA256(key = "marquee device id v1", msg = machine
//!   id with surrounding whitespace trimmed)`. The OS machine id (`/etc/machine-id`, the Windows
//!   `MachineGuid`, the macOS `IOPlatformUUID`) is never stored or sent; the keyed hash cannot be
//!   turned back into it and differs from what any other app derives. Empty ids, all-zero ids,
//!   ids shorter than 16 characters and ids known to be shared by many computers
//!   ([`device::KNOWN_SHARED_MACHINE_IDS`]) are refused with a clear error *(tested)*.
//! - **Device key pair** ([`DeviceKeys`]): X25519, generated once per install. The secret is
//!   stored sealed ([`DeviceKeys::seal`]):
//!
//! | offset | length | field |
//! | ---: | ---: | --- |
//! | 0 | 1 | version = 1 (also the AES-GCM associated data) |
//! | 1 | 12 | random nonce |
//! | 13 | 48 | AES-256-GCM(seal key, secret (32)) ‖ tag (16) |
//!
//! A profile copied to another computer fails to unseal ([`DeviceError::OtherComputer`],
//! *tested*).
//!
//! ## Licence v1
//!
//! An encoded licence is a body followed by a 64-byte Ed25519 signature by the store key over
//! `"marquee licence v1" ‖ body`. The domain label means no other signature the store key ever
//! makes can pass as a licence.
//!
//! | offset | length | field | value |
//! | ---: | ---: | --- | --- |
//! | 0 | 6 | magic | `"MRQLIC"` |
//! | 6 | 2 | version | `1` (u16) |
//! | 8 | 16 | licence_id | random, chosen by the store |
//! | 24 | 32 | device_id | [`DeviceId`] of the licensed device |
//! | 56 | 32 | device_public_key | its X25519 public key |
//! | 88 | 1 | kind | 1 = rent, 2 = buy, 3 = free; anything else is refused |
//! | 89 | 1 | rules_present | 1 for rent, 0 otherwise; anything else is refused |
//! | 90 | 8 | issued_at | unix seconds (i64) |
//! | 98 | 8 | start_within_s | seconds to start a rental (u64); 0 when rules_present = 0 |
//! | 106 | 8 | play_window_s | seconds of viewing once started (u64); 0 when rules_present = 0 |
//! | 114 | 32 | key_commitment | the container's key commitment |
//! | 146 | 32 | ephemeral_public | of the wrapped key |
//! | 178 | 48 | wrapped_key | encrypted content key ‖ tag |
//! | 226 | 1 | title_len | 1 ..= 255 |
//! | 227 | title_len | title_id | UTF-8 |
//! | 227 + title_len | 64 | signature | Ed25519 (verified strictly) |
//!
//! The parser checks every length, refuses trailing bytes, unknown kinds, rules on a
//! non-rental, a rental without rules and a non-UTF-8 title; verification uses
//! `verify_strict`. Every single-bit change of an encoded licence is refused *(tested)*.
//!
//! **Key wrapping** ([`wrap_content_key`]): a fresh ephemeral X25519 key; `shared =
//! X25519(ephemeral, device_public_key)`; `HKDF-SHA256(ikm = shared, salt = "marquee licence key
//! wrap v1", info = licence_id ‖ title_len (1) ‖ title_id ‖ device_public_key ‖
//! ephemeral_public)` expanded to 44 bytes = AES key (32) ‖ nonce (12); `wrapped_key =
//! AES-256-GCM(content key)`. Only the device secret opens it, and the `info` binds it to this
//! licence, title and device *(tested)*.
//!
//! ### What each field protects against
//!
//! - **Signature**: forged or altered licences, including a changed kind, longer windows or a
//!   changed device ([`LicenceError::BadSignature`]).
//! - **device_id**: a licence copied to another computer ([`LicenceError::OtherDevice`]).
//! - **device_public_key + wrapped_key**: even a licence copied together with the app's files
//!   does not yield the content key without the device secret, which is sealed to the machine.
//! - **issued_at + rules**: rentals end. The window starts at the first frame played
//!   ([`Licence::check_time`]); the caller supplies a trusted time (the core keeps a high-water
//!   mark so that setting the clock back does not revive a rental).
//! - **key_commitment**: the unwrapped key is the key of the file on disk
//!   ([`LicenceError::KeyMismatch`]).
//!
//! ## What this does not promise
//!
//! This is a licence scheme, not a fortress. It keeps honest people honest and makes casual
//! copying fail with a clear message; it does **not** stop a determined attacker who controls
//! the licensed PC. Such a person can read `/etc/machine-id` (it is world-readable) and unseal
//! the device key, attach a debugger to the app and read the content key or the decrypted frames
//! from memory, or capture the screen. Nor does it hide *which* title a file is (the container
//! reveals its length and its chunk size) or who seeds it. A leaked content key decrypts that one
//! title for everyone; it reveals nothing about other titles. The client's clock checks are only
//! as good as the time the caller passes in. Free titles are DRM-free by design.
//!
//! ## Test vectors
//!
//! ### Container
//!
//! ```text
//! content key    00 01 02 .. 1f                      (byte i = i)
//! nonce prefix   a0 a1 a2 a3 a4 a5 a6
//! chunk size     65536
//! plaintext      102400 bytes, byte i = (i * 31 + 7) mod 251  -> 2 chunks (65536 + 36864)
//!
//! key commitment 901cbcc963f7cb8b56cd21b329245e5dd0e379d510caf7a7bf66c4c62a207b6d
//! header         4d5251434f4e5431 0001 00010000 0000000000019000 a0a1a2a3a4a5a6
//!                901cbcc963f7cb8b56cd21b329245e5dd0e379d510caf7a7bf66c4c62a207b6d 000000
//! SHA-256(header)    30252c7b7d0c71780f2b29766d390c377892e33e96afc96cda35a8ed234b14a1
//! container length   102496 = 64 + (65536 + 16) + (36864 + 16)
//! last tag           f929da2c0b4eb5558acf0f751caca97f
//! SHA-256(container) b11f0b421e600b96e4f045f579e92b771ad896bf0956e8a44eb11b761e26eaf9
//! ```
//!
//! ### Licence
//!
//! ```text
//! store Ed25519 seed   5e 5e .. 5e (32 bytes)
//!   public key         8146640f02493af4fbc54fe33388e75dc2c937ae0b7727cc2b2afb1b75199a3e
//! device X25519 secret 22 22 .. 22 (32 bytes)
//!   public key         0faa684ed28867b97f4a6a2dee5df8ce974e76b7018e3f22a1c4cf2678570f20
//! device id            app_specific_id("0123456789abcdef0123456789abcdef")
//!                      = 65b952870f801e4a9df9c81dcaebee6dff3feb5a13e916b4c3f78a33e5b9740f
//! licence id           11 11 .. 11 (16 bytes)
//! title id             "vector-title"
//! kind                 rent, start_within_s = 2592000, play_window_s = 172800
//! issued_at            1700000000
//! key commitment       of the container vector's key and nonce prefix (above)
//! wrap ephemeral secret 33 33 .. 33 (32 bytes)
//!   ephemeral public   7b0d47d93427f8311160781c7c733fd89f88970aef490d8aa0ee19a4cb8a1b14
//!   wrapped key        543d16523a6f771ccfd87e2e9b165cec3731da40e65ca51e6f6e0b2203cf2be3
//!                      3b9e8d6058721fb40500f54d7fcd4235
//! encoded length       303 = 227 + 12 + 64
//! SHA-256(encoded)     6558d75c8213b20c0287a372141d31e17bea236e243fd18c013f213753fc77bb
//! ```
//!
//! ## Example
//!
//! ```
//! use marquee_licence::{container, wrap_content_key, ContentKey, DeviceKeys, Licence,
//!     LicenceKind, RentalRules, SignedLicence, Validity};
//!
//! // Store: encrypt a title.
//! let key = ContentKey::generate();
//! let film = vec![7u8; 200_000];
//! let mut packed = Vec::new();
//! let header = container::encrypt(&key, film.len() as u64, film.as_slice(), &mut packed)?;
//!
//! // Device: identity and key pair.
//! let device_id = marquee_licence::device::app_specific_id("4c4c4544003957108052b4c04f4d3532")?;
//! let device = DeviceKeys::generate();
//!
//! // Store: issue a rental for that device.
//! let store = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
//! let licence_id = [9; 16];
//! let signed = Licence {
//!     licence_id,
//!     title_id: "film-1".into(),
//!     device_id,
//!     device_public_key: device.public_key(),
//!     kind: LicenceKind::Rent,
//!     issued_at: 1_700_000_000,
//!     rules: Some(RentalRules::default()),
//!     key_commitment: header.key_commitment,
//!     wrapped_key: wrap_content_key(&key, &device.public_key(), &licence_id, "film-1"),
//! }
//! .sign(&store);
//!
//! // Device: verify, check, unwrap, then decrypt the chunks covering bytes 70000..=70009.
//! let licence = SignedLicence::from_bytes(signed.as_bytes().to_vec())?
//!     .verify(&store.verifying_key())?;
//! licence.check_device(&device_id)?;
//! assert!(matches!(licence.check_time(1_700_000_100, None)?, Validity::NotStarted { .. }));
//! let header = marquee_licence::ContainerHeader::parse(&packed)?;
//! let opener = marquee_licence::Opener::new(&licence.unwrap_key(&device, &header.nonce_prefix)?, header)?;
//! for index in header.chunks_covering(70_000, 70_009) {
//!     let start = header.chunk_offset(index) as usize;
//!     let mut chunk = packed[start..start + header.sealed_chunk_len(index)].to_vec();
//!     opener.open_chunk(index, &mut chunk)?;
//!     assert!(chunk.iter().all(|&b| b == 7));
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod container;
pub mod device;
pub mod licence;

pub use container::{ContainerError, ContentKey, Header as ContainerHeader, Opener};
pub use device::{DeviceError, DeviceId, DeviceKeys};
pub use licence::{
    wrap_content_key, Licence, LicenceError, LicenceKind, RentalRules, SignedLicence, Validity,
    WrappedKey,
};

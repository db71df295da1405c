//! The checks behind the fuzz targets of `marquee-licence`, and the seeds of their corpora.
//!
//! Both targets must never panic on any input. Beyond "no panic", they check properties the crate
//! docs promise:
//!
//! - [`licence_parse`]: a parsed licence keeps its exact bytes; a licence that verifies under the
//!   store key re-encodes to exactly the same bytes; `check_device`, `check_time` and
//!   `unwrap_key` are panic-free on *every* parsable body (the body is also re-signed with the
//!   fixed store key, as if the store had issued it, so the fuzzer reaches the code behind the
//!   signature check), a rental never revives as time moves forward, and a key that unwraps
//!   always matches the licence's key commitment.
//! - [`container_read`]: a parsed header re-encodes to the input's 64 bytes; the wrong key is
//!   refused up front; every chunk the input claims is opened with [`Opener::open_chunk`], which
//!   either returns exactly the chunk's plaintext or fails with an error naming the chunk and
//!   an emptied buffer; [`container::decrypt`] succeeds exactly when every chunk opens and the
//!   length is right, and on failure has written only whole chunks that opened (never
//!   unauthenticated bytes).
//!
//! The fixed keys are the crate's test-vector keys, so the seeds are real, verifiable licences
//! and containers.

use std::sync::OnceLock;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use marquee_licence::container::{self, MIN_CHUNK_SIZE, NONCE_PREFIX_LEN, TAG_LEN};
use marquee_licence::licence::{SIGNATURE_DOMAIN, SIGNATURE_LEN};
use marquee_licence::{
    device, wrap_content_key, ContainerHeader, ContentKey, DeviceId, DeviceKeys, Licence,
    LicenceKind, Opener, RentalRules, SignedLicence, Validity, WrappedKey,
};

/// The fixed keys both targets use.
pub struct Fixtures {
    /// The store's signing key (the crate's test-vector store seed `5e 5e ..`).
    pub store: SigningKey,
    /// Its public half, the key every client trusts.
    pub store_public: VerifyingKey,
    /// Device A: the licensed device (test-vector device secret `22 22 ..`).
    pub device_a: DeviceKeys,
    /// Device A's id.
    pub device_a_id: DeviceId,
    /// Device B: another computer.
    pub device_b: DeviceKeys,
    /// Device B's id.
    pub device_b_id: DeviceId,
    /// The content key of every seed container (test-vector key `00 01 .. 1f`).
    pub key: ContentKey,
    /// A key no seed uses.
    pub wrong_key: ContentKey,
    /// The nonce prefix of every seed container (`a0 .. a6`).
    pub nonce_prefix: [u8; NONCE_PREFIX_LEN],
}

/// The fixtures, built once per process.
pub fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let store = SigningKey::from_bytes(&[0x5e; 32]);
        let mut key = [0u8; 32];
        for (i, b) in key.iter_mut().enumerate() {
            *b = i as u8;
        }
        Fixtures {
            store_public: store.verifying_key(),
            store,
            device_a: DeviceKeys::from_secret_bytes([0x22; 32]),
            device_a_id: device::app_specific_id("0123456789abcdef0123456789abcdef")
                .expect("a valid machine id"),
            device_b: DeviceKeys::from_secret_bytes([0x44; 32]),
            device_b_id: device::app_specific_id("fedcba9876543210fedcba9876543210")
                .expect("a valid machine id"),
            key: ContentKey::from_bytes(key),
            wrong_key: ContentKey::from_bytes([0xee; 32]),
            nonce_prefix: [0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6],
        }
    })
}

/// Fuzz target `licence_parse`: `data` is an encoded licence.
pub fn licence_parse(data: &[u8]) {
    let Ok(signed) = SignedLicence::from_bytes(data.to_vec()) else {
        return;
    };
    assert_eq!(signed.as_bytes(), data, "a parsed licence keeps its bytes");
    let _ = signed.unverified_title_id();
    let _ = signed.unverified_licence_id();
    let fx = fixtures();

    // The input as it is: only the store's own licences verify. Ed25519 signing is
    // deterministic and the encoding canonical, so re-signing gives back the same bytes.
    if let Ok(licence) = signed.verify(&fx.store_public) {
        let again = licence
            .try_sign(&fx.store)
            .expect("a verified licence re-encodes");
        assert_eq!(
            again.as_bytes(),
            data,
            "a verified licence re-encodes exactly"
        );
        exercise_verified(&licence, fx);
    }

    // The same body as if the store had signed it: the fuzzer cannot forge signatures, so this
    // is how it reaches the checks behind `verify` with arbitrary field values.
    let body = &data[..data.len() - SIGNATURE_LEN];
    let mut message = Vec::with_capacity(SIGNATURE_DOMAIN.len() + body.len());
    message.extend_from_slice(SIGNATURE_DOMAIN);
    message.extend_from_slice(body);
    let mut resigned = body.to_vec();
    resigned.extend_from_slice(&fx.store.sign(&message).to_bytes());
    let licence = SignedLicence::from_bytes(resigned.clone())
        .expect("only the signature changed, so it still parses")
        .verify(&fx.store_public)
        .expect("signed with the store key");
    let again = licence
        .try_sign(&fx.store)
        .expect("a verified licence re-encodes");
    assert_eq!(again.as_bytes(), resigned.as_slice());
    exercise_verified(&licence, fx);
}

/// Everything the client does with a verified licence, on both fixed devices.
fn exercise_verified(licence: &Licence, fx: &Fixtures) {
    let on_a = licence.check_device(&fx.device_a_id).is_ok();
    let on_b = licence.check_device(&fx.device_b_id).is_ok();
    assert_eq!(on_a, licence.device_id == fx.device_a_id);
    assert_eq!(on_b, licence.device_id == fx.device_b_id);

    check_times(licence);

    for device in [&fx.device_a, &fx.device_b] {
        if let Ok(key) = licence.unwrap_key(device, &fx.nonce_prefix) {
            assert_eq!(
                device.public_key(),
                licence.device_public_key,
                "only the licensed device key unwraps"
            );
            assert!(
                key.verify_commitment(&fx.nonce_prefix, &licence.key_commitment),
                "an unwrapped key always matches the licence's commitment"
            );
        }
    }
}

/// `check_time` at the edges of the licence's own windows: never panics, results agree with the
/// kind, and a licence that is refused at some time stays refused at every later time.
fn check_times(licence: &Licence) {
    let issued = licence.issued_at;
    let (start_within, window) = licence
        .rules
        .map(|r| (r.start_within_s, r.play_window_s))
        .unwrap_or((0, 0));
    let add = |t: i64, s: u64| t.saturating_add(i64::try_from(s).unwrap_or(i64::MAX));
    let start_by = add(issued, start_within);
    let mut times = vec![
        i64::MIN,
        -1,
        0,
        1_700_000_000,
        issued.saturating_sub(1),
        issued,
        issued.saturating_add(1),
        start_by.saturating_sub(1),
        start_by,
        start_by.saturating_add(1),
        add(issued, window),
        add(start_by.saturating_sub(1), window),
        add(start_by.saturating_sub(1), window).saturating_sub(1),
        i64::MAX - 1,
        i64::MAX,
    ];
    times.sort_unstable();
    times.dedup();
    let firsts = [
        None,
        Some(i64::MIN),
        Some(issued),
        Some(issued.saturating_add(1)),
        Some(start_by.saturating_sub(1)),
        Some(start_by),
        Some(i64::MAX),
    ];
    for first in firsts {
        let mut refused_since: Option<i64> = None;
        for &now in &times {
            let result = licence.check_time(now, first);
            match (&result, licence.kind) {
                (Ok(Validity::Unlimited), LicenceKind::Buy | LicenceKind::Free) => {}
                (Ok(Validity::NotStarted { start_by }), LicenceKind::Rent) => {
                    assert!(first.is_none() && now < *start_by, "{result:?} at {now}");
                }
                (Ok(Validity::Running { ends_at }), LicenceKind::Rent) => {
                    assert!(first.is_some() && now < *ends_at, "{result:?} at {now}");
                }
                (Err(_), LicenceKind::Rent) => {}
                _ => panic!("{:?} licence gave {result:?} at {now}", licence.kind),
            }
            match (result.is_ok(), refused_since) {
                (false, None) => refused_since = Some(now),
                (true, Some(since)) => {
                    panic!("refused at {since} but valid again at {now} (first frame {first:?})")
                }
                _ => {}
            }
        }
    }
}

/// Fuzz target `container_read`: `data` is a whole container file.
pub fn container_read(data: &[u8]) {
    let fx = fixtures();

    // The wrong key never opens anything and writes nothing.
    let mut out = Vec::new();
    assert!(container::decrypt(&fx.wrong_key, data, &mut out).is_err());
    assert!(out.is_empty(), "wrong key, yet bytes were written");

    let header = match ContainerHeader::parse(data) {
        Ok(header) => header,
        Err(_) => {
            let result = container::decrypt(&fx.key, data, &mut out);
            assert!(result.is_err() && out.is_empty());
            return;
        }
    };
    assert_eq!(header.to_bytes()[..], data[..container::HEADER_LEN]);
    let count = header.chunk_count();
    assert!((1..=u64::from(u32::MAX)).contains(&count));
    let expected_len = (container::HEADER_LEN as u64)
        .checked_add(header.plaintext_len)
        .and_then(|n| n.checked_add(count.checked_mul(TAG_LEN as u64)?))
        .expect("a valid header's length fits in a u64");
    assert_eq!(header.container_len(), expected_len);
    assert_eq!(
        header.chunks_covering(0, header.plaintext_len.saturating_sub(1)),
        0..=count - 1
    );
    assert!(*header.chunks_covering(header.plaintext_len, u64::MAX).end() < count);
    assert!(Opener::new(&fx.wrong_key, header).is_err());

    let opener = match Opener::new(&fx.key, header) {
        Ok(opener) => opener,
        Err(_) => {
            let result = container::decrypt(&fx.key, data, &mut out);
            assert!(result.is_err() && out.is_empty());
            return;
        }
    };

    // Every chunk the input claims, as the playback server reads them: by offset, one at a time.
    // `authentic` is the plaintext of the chunks that opened, up to the first that did not.
    let mut authentic = Vec::new();
    let mut all_open = true;
    for index in 0..count {
        let Ok(offset) = usize::try_from(header.chunk_offset(index)) else {
            break;
        };
        if offset > data.len() {
            break;
        }
        let want = header.sealed_chunk_len(index);
        let end = offset.saturating_add(want).min(data.len());
        let mut buf = data[offset..end].to_vec();
        match opener.open_chunk(index, &mut buf) {
            Ok(()) => {
                assert_eq!(end - offset, want, "only a whole chunk opens");
                assert_eq!(buf.len(), header.plaintext_chunk_len(index));
                if all_open {
                    authentic.extend_from_slice(&buf);
                }
            }
            Err(e) => {
                assert!(buf.is_empty(), "a failed chunk must release nothing");
                let message = e.to_string();
                assert!(
                    message.contains(&format!("chunk {index}")),
                    "the error names the chunk: {message}"
                );
                all_open = false;
            }
        }
    }
    let mut past_end = vec![0u8; 32];
    assert!(opener.open_chunk(count, &mut past_end).is_err());
    assert!(past_end.is_empty());

    // The same chunks as one run, spread over two threads (`Opener::open_chunks_on`): it must
    // open exactly when every chunk opened one by one and the length is exact, give the same
    // bytes, and otherwise release nothing.
    let mut run = vec![0xEE; 7];
    match opener.open_chunks_on(0..=count - 1, &data[container::HEADER_LEN..], &mut run, 2) {
        Ok(()) => {
            assert!(
                all_open && data.len() as u64 == expected_len,
                "the run opened more"
            );
            assert_eq!(run, authentic);
        }
        Err(_) => {
            assert!(run.is_empty(), "a failed run must release nothing");
            assert!(
                !(all_open && data.len() as u64 == expected_len),
                "the run refused a complete, authentic container"
            );
        }
    }
    let mut in_place = data[container::HEADER_LEN..].to_vec();
    match opener.open_chunks_in_place_on(0..=count - 1, &mut in_place, 2) {
        Ok(ranges) => {
            assert!(
                all_open && data.len() as u64 == expected_len,
                "the run opened more"
            );
            let joined: Vec<u8> = ranges
                .into_iter()
                .flat_map(|r| in_place[r].to_vec())
                .collect();
            assert_eq!(joined, authentic);
        }
        Err(_) => assert!(
            in_place.iter().all(|&b| b == 0),
            "a failed run in place must be wiped"
        ),
    }

    match container::decrypt(&fx.key, data, &mut out) {
        Ok(parsed) => {
            assert_eq!(parsed, header);
            assert!(all_open, "decrypt accepted a chunk that open_chunk refused");
            assert_eq!(data.len() as u64, expected_len);
            assert_eq!(out, authentic);
        }
        Err(_) => {
            assert!(
                authentic.starts_with(&out),
                "decrypt wrote bytes that are not authenticated plaintext"
            );
            assert!(
                !(all_open && data.len() as u64 == expected_len),
                "a complete, authentic container was refused"
            );
        }
    }
}

/// Seed inputs: `(target, name, bytes)`. Valid encodings of every shape the format allows, so
/// the fuzzer starts past the signature and the key commitment.
pub fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let fx = fixtures();
    let mut seeds = Vec::new();

    // Licences, all signed by the store key: (name, kind, rules, on device B?, title, issued_at).
    let commitment = fx.key.commitment(&fx.nonce_prefix);
    let rent = Some(RentalRules::default());
    let extreme = Some(RentalRules {
        start_within_s: u64::MAX,
        play_window_s: u64::MAX,
    });
    let zero = Some(RentalRules {
        start_within_s: 0,
        play_window_s: 0,
    });
    let long_title = "t".repeat(255);
    let cases = [
        (
            "rent",
            LicenceKind::Rent,
            rent,
            false,
            "vector-title",
            1_700_000_000,
        ),
        (
            "buy",
            LicenceKind::Buy,
            None,
            false,
            "film-0042-hd",
            1_700_000_000,
        ),
        ("free", LicenceKind::Free, None, false, "f", 0),
        (
            "other-device",
            LicenceKind::Rent,
            rent,
            true,
            "vector-title",
            1_700_000_000,
        ),
        (
            "extreme-rules",
            LicenceKind::Rent,
            extreme,
            false,
            "épisode-ü-🎬",
            i64::MAX,
        ),
        ("zero-rules", LicenceKind::Rent, zero, false, "x", i64::MIN),
        (
            "long-title",
            LicenceKind::Buy,
            None,
            false,
            long_title.as_str(),
            1,
        ),
    ];
    for (name, kind, rules, on_b, title, issued_at) in cases {
        let (device, device_id) = if on_b {
            (&fx.device_b, fx.device_b_id)
        } else {
            (&fx.device_a, fx.device_a_id)
        };
        let licence_id = [0x11; 16];
        let licence = Licence {
            licence_id,
            title_id: title.to_owned(),
            device_id,
            device_public_key: device.public_key(),
            kind,
            issued_at,
            rules,
            key_commitment: commitment,
            wrapped_key: wrap_content_key(&fx.key, &device.public_key(), &licence_id, title),
        };
        seeds.push((
            "licence_parse",
            name.to_owned(),
            licence.sign(&fx.store).into_bytes(),
        ));
    }
    // A wrapped key whose ephemeral key has low order (unwrap must refuse it, not panic).
    let low_order = Licence {
        licence_id: [0x22; 16],
        title_id: "low-order".into(),
        device_id: fx.device_a_id,
        device_public_key: fx.device_a.public_key(),
        kind: LicenceKind::Buy,
        issued_at: 1,
        rules: None,
        key_commitment: commitment,
        wrapped_key: WrappedKey {
            ephemeral_public: [0; 32],
            ciphertext: [0; 48],
        },
    };
    seeds.push((
        "licence_parse",
        "low-order-ephemeral".into(),
        low_order.sign(&fx.store).into_bytes(),
    ));

    // Containers: the smallest chunk size keeps inputs small; one 64 KiB-chunk file for the
    // size the app writes.
    let sizes: [(u32, u64); 7] = [
        (MIN_CHUNK_SIZE, 0),
        (MIN_CHUNK_SIZE, 1),
        (MIN_CHUNK_SIZE, 4095),
        (MIN_CHUNK_SIZE, 4096),
        (MIN_CHUNK_SIZE, 4097),
        (MIN_CHUNK_SIZE, 3 * 4096 + 5),
        (container::DEFAULT_CHUNK_SIZE, 100),
    ];
    for (chunk_size, len) in sizes {
        let plain: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
        let mut packed = Vec::new();
        container::encrypt_with(
            &fx.key,
            fx.nonce_prefix,
            chunk_size,
            len,
            plain.as_slice(),
            &mut packed,
        )
        .expect("encrypting into memory");
        seeds.push((
            "container_read",
            format!("chunk{chunk_size}-len{len}"),
            packed,
        ));
    }
    seeds
}

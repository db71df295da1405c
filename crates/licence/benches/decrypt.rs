//! Decrypt throughput of the content container, beside OpenSSL measured in the same run.
//!
//! `cargo bench -p marquee-licence --bench decrypt` (or `cargo xtask bench`). Builds a 256 MiB
//! container in memory, then decrypts all of it on one thread the way the playback server does:
//! chunk by chunk, each sealed chunk copied out of the file's bytes into a buffer and opened with
//! [`Opener::open_chunk`]. Best of 3 runs. The reference is
//! `openssl speed -evp aes-256-gcm -bytes 65536 -seconds 3` (64 KiB blocks, the app's chunk
//! size), also on one thread. Prints the ratio and writes `target/bench/decrypt.json`.
//!
//! To explain the figure it also measures, on the same chunks: raw `aes-gcm` decrypting in place
//! (no copy, no `Opener`), its two halves alone (AES-256-CTR and GHASH, which `aes-gcm` 0.11
//! still runs as two separate passes), AWS-LC's AES-256-GCM (already in the app through rustls)
//! opening the same container, and OpenSSL limited to AES-NI + PCLMULQDQ + AVX (no AVX2,
//! AVX-512, VAES or VPCLMULQDQ). `MARQUEE_BENCH_MIB` changes the container size (for a quick
//! run).

use std::hint::black_box;
use std::io::Read;
use std::process::Command;
use std::time::{Duration, Instant};

use aes_gcm::aead::AeadInOut;
use aes_gcm::{Aes256Gcm, KeyInit};
use marquee_licence::container::{self, HEADER_LEN, TAG_LEN};
use marquee_licence::{ContainerHeader, ContentKey, Opener};

const MIB: f64 = 1024.0 * 1024.0;
const RUNS: usize = 3;

/// The plaintext pattern: cheap to generate, not all zeros, checkable.
fn plain_byte(i: u64) -> u8 {
    (i.wrapping_mul(31).wrapping_add(7) % 251) as u8
}

/// A reader that yields the pattern, so the plaintext never sits in memory whole.
struct Pattern {
    pos: u64,
    len: u64,
}

impl Read for Pattern {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (self.len - self.pos).min(buf.len() as u64) as usize;
        for (k, b) in buf[..n].iter_mut().enumerate() {
            *b = plain_byte(self.pos + k as u64);
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// Runs `f` `RUNS` times; returns the fastest.
fn best_of(mut f: impl FnMut() -> Duration) -> Duration {
    (0..RUNS).map(|_| f()).min().expect("RUNS > 0")
}

fn mib_per_s(bytes: u64, time: Duration) -> f64 {
    bytes as f64 / MIB / time.as_secs_f64()
}

/// The 12-byte nonce of chunk `index` (see the crate docs): prefix ‖ index (u32 BE) ‖ last.
fn nonce(header: &ContainerHeader, index: u64) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[..7].copy_from_slice(&header.nonce_prefix);
    n[7..11].copy_from_slice(&(index as u32).to_be_bytes());
    n[11] = u8::from(index + 1 == header.chunk_count());
    n
}

fn chunk_range(header: &ContainerHeader, index: u64) -> std::ops::Range<usize> {
    let start = header.chunk_offset(index) as usize;
    start..start + header.sealed_chunk_len(index)
}

fn main() {
    let Some(run) = marquee_bench::Run::from_args("decrypt") else {
        return;
    };
    // Under `cargo test`: only check that every path opens a 1 MiB container.
    let mib: u64 = run.size(256, 1, "MARQUEE_BENCH_MIB");
    let len = mib << 20;

    let key = ContentKey::from_bytes([0x42; 32]);
    let t = Instant::now();
    let mut packed = Vec::with_capacity(len as usize + len as usize / 4096 + HEADER_LEN);
    let header = container::encrypt(&key, len, Pattern { pos: 0, len }, &mut packed)
        .expect("encrypting into memory");
    let encrypt_time = t.elapsed();
    let header_bytes = header.to_bytes();
    let chunks = header.chunk_count();
    let opener = Opener::new(&key, header).expect("the right key");
    eprintln!(
        "decrypt bench: {mib} MiB container, {chunks} chunks of {} KiB (built in {:.1} s, {:.0} MiB/s)",
        header.chunk_size / 1024,
        encrypt_time.as_secs_f64(),
        mib_per_s(len, encrypt_time)
    );

    // 1. The figure: Opener::open_chunk, chunk by chunk, as the playback server does.
    let mut buf = Vec::with_capacity(header.chunk_size as usize + TAG_LEN);
    let mut checked = false;
    let best = best_of(|| {
        let t = Instant::now();
        for index in 0..chunks {
            buf.clear();
            buf.extend_from_slice(&packed[chunk_range(&header, index)]);
            opener
                .open_chunk(index, &mut buf)
                .expect("an authentic chunk");
            black_box(&buf);
        }
        let elapsed = t.elapsed();
        if !checked {
            // The last chunk, checked outside the timed loop on the first run.
            let base = header.plaintext_offset(chunks - 1);
            assert!(buf
                .iter()
                .enumerate()
                .all(|(k, &b)| b == plain_byte(base + k as u64)));
            checked = true;
        }
        elapsed
    });
    let ours = mib_per_s(len, best);

    // 2. Raw aes-gcm, in place on a copy of the container: no per-chunk copy, no Opener.
    let cipher = Aes256Gcm::new(key.as_bytes().into());
    let mut scratch = packed.clone();
    let raw = best_of(|| {
        scratch.copy_from_slice(&packed);
        let t = Instant::now();
        for index in 0..chunks {
            let sealed = &mut scratch[chunk_range(&header, index)];
            let (body, tag) = sealed.split_at_mut(sealed.len() - TAG_LEN);
            cipher
                .decrypt_inout_detached(
                    &nonce(&header, index).into(),
                    &header_bytes,
                    body.into(),
                    (&*tag).try_into().expect("a 16-byte tag"),
                )
                .expect("an authentic chunk");
            black_box(&body);
        }
        t.elapsed()
    });
    let raw_in_place = mib_per_s(len, raw);

    // 3. The two passes of aes-gcm 0.11 on their own, over the same bytes, 64 KiB at a time.
    let chunk = header.chunk_size as usize;
    let ctr_only = {
        use aes_gcm::aes::cipher::{KeyIvInit, StreamCipher};
        type Ctr = ctr::Ctr32BE<aes_gcm::aes::Aes256>;
        let best = best_of(|| {
            scratch.copy_from_slice(&packed);
            let t = Instant::now();
            for part in scratch.chunks_mut(chunk) {
                let mut c = Ctr::new(key.as_bytes().into(), &[7u8; 16].into());
                c.apply_keystream(part);
                black_box(&part);
            }
            t.elapsed()
        });
        mib_per_s(len, best)
    };
    let ghash_only = {
        use ghash::universal_hash::UniversalHash;
        let best = best_of(|| {
            let t = Instant::now();
            for part in packed.chunks(chunk) {
                let mut g = ghash::GHash::new(&[9u8; 16].into());
                g.update_padded(part);
                black_box(g.finalize());
            }
            t.elapsed()
        });
        mib_per_s(len, best)
    };

    // 4. AWS-LC (in the app already, through rustls) opening the same chunks, copied as in 1.
    let aws_lc = {
        use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
        let lc =
            LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key.as_bytes()).expect("a 256-bit key"));
        let best = best_of(|| {
            let t = Instant::now();
            for index in 0..chunks {
                buf.clear();
                buf.extend_from_slice(&packed[chunk_range(&header, index)]);
                let plain = lc
                    .open_in_place(
                        Nonce::assume_unique_for_key(nonce(&header, index)),
                        Aad::from(&header_bytes[..]),
                        &mut buf,
                    )
                    .expect("AWS-LC opens a Marquee chunk");
                black_box(&plain);
            }
            t.elapsed()
        });
        mib_per_s(len, best)
    };
    drop(scratch);
    drop(packed);

    if !run.measuring() {
        run.write_figures("decrypt", "");
        return;
    }

    // 5. The reference, and OpenSSL held to the instructions aes-gcm uses.
    let openssl = openssl_speed(None);
    // OPENSSL_ia32cap's second word is CPUID leaf 7 (EBX low, ECX high): clear AVX2 (EBX 5),
    // AVX-512F (EBX 16), VAES (ECX 9) and VPCLMULQDQ (ECX 10).
    let openssl_aesni = openssl
        .as_ref()
        .ok()
        .and_then(|_| openssl_speed(Some(":~0x60000010020")).ok());

    let ratio = openssl.as_ref().ok().map(|o| ours / o);
    match &openssl {
        Ok(o) => println!(
            "decrypt: {ours:.0} MiB/s, openssl aes-256-gcm 64 KiB blocks: {o:.0} MiB/s, ratio {:.2}",
            ours / o
        ),
        Err(why) => println!("decrypt: {ours:.0} MiB/s; openssl reference skipped: {why}"),
    }
    println!("  why (same chunks, one thread, best of {RUNS}):");
    println!("    aes-gcm 0.11 in place, no copy, no Opener  {raw_in_place:>7.0} MiB/s");
    println!("    of which AES-256-CTR pass alone            {ctr_only:>7.0} MiB/s");
    println!("    of which GHASH pass alone                  {ghash_only:>7.0} MiB/s");
    println!(
        "    two passes combined (1 / (1/ctr + 1/ghash)) {:>7.0} MiB/s",
        1.0 / (1.0 / ctr_only + 1.0 / ghash_only)
    );
    println!("    AWS-LC AES-256-GCM, same copy per chunk     {aws_lc:>7.0} MiB/s");
    if let Some(o) = openssl_aesni {
        println!("    openssl without AVX2/AVX-512/VAES          {o:>7.0} MiB/s");
    }
    println!("  cpu: {}", cpu_summary());

    let json = format!(
        "{{\n  \"bench\": \"decrypt\",\n  \"container_mib\": {mib},\n  \"chunk_size\": {},\n  \
         \"runs\": {RUNS},\n  \"mib_per_s\": {ours:.1},\n  \"openssl_mib_per_s\": {},\n  \
         \"ratio_vs_openssl\": {},\n  \"aes_gcm_in_place_mib_per_s\": {raw_in_place:.1},\n  \
         \"aes_ctr_only_mib_per_s\": {ctr_only:.1},\n  \"ghash_only_mib_per_s\": {ghash_only:.1},\n  \
         \"aws_lc_mib_per_s\": {aws_lc:.1},\n  \"openssl_aesni_only_mib_per_s\": {},\n  \
         \"cpu_flags\": \"{}\"\n}}\n",
        header.chunk_size,
        json_num(openssl.as_ref().ok().copied()),
        ratio.map(|r| format!("{r:.3}")).unwrap_or_else(|| "null".into()),
        json_num(openssl_aesni),
        cpu_summary(),
    );
    run.write_figures("decrypt", &json);
}

fn json_num(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.1}"))
        .unwrap_or_else(|| "null".into())
}

/// `openssl speed -evp aes-256-gcm -bytes 65536 -seconds 3` in MiB/s, one thread. `-mr` makes
/// the same measurement print machine-readable lines: `+F:<n>:AES-256-GCM:<bytes per second>`.
fn openssl_speed(ia32cap: Option<&str>) -> Result<f64, String> {
    let mut cmd = Command::new("openssl");
    cmd.args([
        "speed",
        "-mr",
        "-evp",
        "aes-256-gcm",
        "-bytes",
        "65536",
        "-seconds",
        "3",
    ]);
    if let Some(cap) = ia32cap {
        cmd.env("OPENSSL_ia32cap", cap);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("`openssl` could not be run ({e}); install openssl"))?;
    if !out.status.success() {
        return Err(format!(
            "`openssl speed` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("+F:"))
        .and_then(|l| l.rsplit(':').next())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|bytes_per_s| bytes_per_s / MIB)
        .ok_or_else(|| format!("could not read `openssl speed` output: {text}"))
}

/// The CPU features that decide AES-GCM speed, as `/proc/cpuinfo` lists them.
fn cpu_summary() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let flags = info
        .lines()
        .find(|l| l.starts_with("flags"))
        .unwrap_or_default();
    let want = [
        "aes",
        "pclmulqdq",
        "avx",
        "avx2",
        "avx512f",
        "vaes",
        "vpclmulqdq",
    ];
    let have: Vec<&str> = want
        .iter()
        .copied()
        .filter(|w| flags.split_whitespace().any(|f| f == *w))
        .collect();
    if have.is_empty() {
        std::env::consts::ARCH.to_string()
    } else {
        have.join(" ")
    }
}

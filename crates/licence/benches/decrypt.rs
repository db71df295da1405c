//! Decrypt throughput of the content container, beside OpenSSL measured in the same run.
//!
//! `cargo bench -p marquee-licence --bench decrypt` (or `cargo xtask bench`). Builds a 256 MiB
//! container in memory, then decrypts all of it on one thread the way the playback server does:
//! chunk by chunk, each sealed chunk copied out of the file's bytes into a buffer and opened with
//! [`Opener::open_chunk`]. Best of 3 runs. The reference is
//! `openssl speed -evp aes-256-gcm -bytes 65536 -seconds 3` (64 KiB blocks, the app's chunk
//! size), also on one thread. Prints the ratio and writes `target/bench/decrypt.json`.
//!
//! Then the same container opened the way [`Opener::open_chunks_in_place`] does it: reads of
//! [`READ_MIB`] MiB, each a run of consecutive chunks decrypted where the read put them (no copy
//! of the sealed bytes), first on one thread (single-core) and then spread over every core
//! (all-core); and the same with [`Opener::open_chunks`], which writes the plaintext to a
//! separate buffer, contiguous. Beside them: OpenSSL on one core and on all cores
//! (`-multi N`), both with `-elapsed` (wall-clock time, like ours; plain `openssl speed` divides
//! by CPU user time, which on a busy machine flatters it), and the ratios. These four are
//! measured in interleaved rounds of at least a second each, best of each kept, so that a burst
//! of load from elsewhere does not land on one side only. The single-core run
//! is also timed in the thread's own CPU time (`/proc/thread-self/schedstat`) and compared with
//! the CPU-time OpenSSL figure: of all the ratios that one moves least when other work shares
//! the cores. Last, all-core MiB/s by read size, to show how long a read has to be before
//! spreading it pays (a thread costs tens to hundreds of microseconds to start).
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
use marquee_licence::container::{self, parallelism, HEADER_LEN, TAG_LEN};
use marquee_licence::{ContainerHeader, ContentKey, Opener};

const MIB: f64 = 1024.0 * 1024.0;
const RUNS: usize = 3;
/// Rounds of the interleaved headline measurement (ours and OpenSSL's, one and all cores).
const ROUNDS: usize = 3;
/// The least time each of our headline measurements runs, to match `openssl speed -seconds 1`.
const WINDOW: Duration = Duration::from_secs(1);
/// The read size of the `open_chunks` figures, in MiB: a few seconds of a high-bitrate film,
/// long enough to spread, short enough to hold in memory per request.
const READ_MIB: u64 = 4;

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

/// CPU time this thread has run so far, from `/proc/thread-self/schedstat` (its first field, in
/// nanoseconds). `None` where that file does not exist.
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// How a bench run of [`open_in_runs`] opens each read.
#[derive(Clone, Copy, PartialEq)]
enum Way {
    /// `Opener::open_chunks_in_place_on`: decrypted where it lies.
    InPlace,
    /// `Opener::open_chunks_on`: from the read buffer into a separate output.
    IntoOutput,
}

/// Opens the whole container in reads of `read_len` sealed bytes (whole chunks) on `threads`
/// threads, as a server answering range requests would. `data` holds the container's bytes and
/// is restored from `packed` first (outside the timing), since opening in place overwrites it.
/// Returns the wall-clock and (for the calling thread) CPU time, and checks every plaintext byte
/// on request (outside the timing too).
#[allow(clippy::too_many_arguments)] // a bench helper: every knob is spelled out at each call
fn open_in_runs(
    opener: &Opener,
    packed: &[u8],
    data: &mut [u8],
    read_len: u64,
    threads: usize,
    way: Way,
    out: &mut Vec<u8>,
    check: bool,
) -> (Duration, Option<Duration>) {
    data.copy_from_slice(packed);
    let header = *opener.header();
    let per_read = (read_len / (u64::from(header.chunk_size) + TAG_LEN as u64)).max(1);
    let chunks = header.chunk_count();
    let (mut wall, mut cpu) = (Duration::ZERO, Some(Duration::ZERO));
    let mut first = 0;
    while first < chunks {
        let last = (first + per_read).min(chunks) - 1;
        let start = header.chunk_offset(first) as usize;
        let end = header.chunk_offset(last) as usize + header.sealed_chunk_len(last);
        let read = &mut data[start..end];
        let (t, c) = (Instant::now(), thread_cpu_time());
        let ranges = match way {
            Way::InPlace => opener
                .open_chunks_in_place_on(first..=last, read, threads)
                .expect("an authentic run"),
            Way::IntoOutput => {
                opener
                    .open_chunks_on(first..=last, read, out, threads)
                    .expect("an authentic run");
                Vec::new() // the plaintext is all of `out`; checked from there
            }
        };
        black_box(&read);
        black_box(&out);
        wall += t.elapsed();
        cpu = match (cpu, c, thread_cpu_time()) {
            (Some(sum), Some(a), Some(b)) => Some(sum + b.saturating_sub(a)),
            _ => None,
        };
        if check {
            let plain: Vec<u8> = match way {
                Way::InPlace => ranges.into_iter().flat_map(|r| read[r].to_vec()).collect(),
                Way::IntoOutput => out.clone(),
            };
            let base = header.plaintext_offset(first);
            assert_eq!(
                plain.len(),
                (header.plaintext_offset(last + 1).min(header.plaintext_len) - base) as usize
            );
            assert!(plain
                .iter()
                .enumerate()
                .all(|(k, &b)| b == plain_byte(base + k as u64)));
        }
        first = last + 1;
    }
    (wall, cpu)
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

/// Opens the container in place in reads of [`READ_MIB`] on `threads` threads, pass after pass,
/// until at least [`WINDOW`] of wall-clock time has been spent opening. MiB/s on wall-clock
/// time and on the calling thread's CPU time.
fn sustained(
    opener: &Opener,
    packed: &[u8],
    data: &mut [u8],
    threads: usize,
    out: &mut Vec<u8>,
) -> (f64, Option<f64>) {
    let len = opener.header().plaintext_len;
    let (mut bytes, mut wall, mut cpu) = (0, Duration::ZERO, Some(Duration::ZERO));
    while wall < WINDOW {
        let (w, c) = open_in_runs(
            opener,
            packed,
            data,
            READ_MIB << 20,
            threads,
            Way::InPlace,
            out,
            false,
        );
        bytes += len;
        wall += w;
        cpu = cpu.zip(c).map(|(a, b)| a + b);
    }
    (mib_per_s(bytes, wall), cpu.map(|c| mib_per_s(bytes, c)))
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

    // 1b. Opener::open_chunks_in_place and ::open_chunks: reads of READ_MIB of the container,
    // on one thread and on all of them. Every byte is checked on the first run of each. The
    // headline in-place figures are measured again below, interleaved with OpenSSL.
    let threads = parallelism();
    let read_len = READ_MIB << 20;
    let mut out = Vec::with_capacity(read_len as usize);
    let mut data = packed.clone();
    let mut run_figures = |threads: usize, way: Way, out: &mut Vec<u8>| {
        let mut first = true;
        let best = best_of(|| {
            let check = std::mem::take(&mut first);
            let (wall, _) = open_in_runs(
                &opener, &packed, &mut data, read_len, threads, way, out, check,
            );
            wall
        });
        mib_per_s(len, best)
    };
    run_figures(1, Way::InPlace, &mut out);
    run_figures(threads, Way::InPlace, &mut out);
    let single_core_into = run_figures(1, Way::IntoOutput, &mut out);
    let all_core_into = run_figures(threads, Way::IntoOutput, &mut out);
    // All cores by read size: below 2 x PARALLEL_MIN_BYTES_PER_THREAD a read stays on one thread.
    let by_read_size: Vec<(u64, f64)> = [256u64 << 10, 1 << 20, 4 << 20, 16 << 20]
        .into_iter()
        .filter(|&r| r <= len)
        .map(|r| {
            let best = best_of(|| {
                let way = Way::InPlace;
                open_in_runs(
                    &opener, &packed, &mut data, r, threads, way, &mut out, false,
                )
                .0
            });
            (r, mib_per_s(len, best))
        })
        .collect();

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

    if !run.measuring() {
        run.write_figures("decrypt", "");
        return;
    }

    // 5. The reference, and OpenSSL held to the instructions aes-gcm uses.
    let openssl = openssl_speed(None, 3, &[]);

    // 6. The headline: open_chunks_in_place on one core and on all of them, beside OpenSSL on
    // wall-clock time on one core and on all of them. On a shared machine the load changes from
    // second to second, so the four are interleaved, ROUNDS times, each given the same window
    // of at least a second, and the best of each is kept: both sides get the same chances.
    let multi = threads.to_string();
    let (mut single_core, mut all_core, mut single_core_cpu) = (0.0f64, 0.0f64, None::<f64>);
    let (mut openssl_elapsed, mut openssl_multi) = (None::<f64>, None::<f64>);
    let best = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    for _ in 0..ROUNDS {
        let (wall, cpu) = sustained(&opener, &packed, &mut data, 1, &mut out);
        single_core = single_core.max(wall);
        single_core_cpu = best(single_core_cpu, cpu);
        all_core = all_core.max(sustained(&opener, &packed, &mut data, threads, &mut out).0);
        if openssl.is_ok() {
            openssl_elapsed = best(openssl_elapsed, openssl_speed(None, 1, &["-elapsed"]).ok());
            let all = openssl_speed(None, 1, &["-elapsed", "-multi", &multi]).ok();
            openssl_multi = best(openssl_multi, all);
        }
    }
    drop(out);
    drop(data);
    drop(packed);

    // OPENSSL_ia32cap's second word is CPUID leaf 7 (EBX low, ECX high): clear AVX2 (EBX 5),
    // AVX-512F (EBX 16), VAES (ECX 9) and VPCLMULQDQ (ECX 10).
    let openssl_aesni = openssl
        .as_ref()
        .ok()
        .and_then(|_| openssl_speed(Some(":~0x60000010020"), 3, &[]).ok());

    let ratio = openssl.as_ref().ok().map(|o| ours / o);
    match &openssl {
        Ok(o) => println!(
            "decrypt: {ours:.0} MiB/s, openssl aes-256-gcm 64 KiB blocks: {o:.0} MiB/s, ratio {:.2}",
            ours / o
        ),
        Err(why) => println!("decrypt: {ours:.0} MiB/s; openssl reference skipped: {why}"),
    }
    let ratio_of = |ours: f64, theirs: Option<f64>| theirs.map(|t| ours / t);
    let ratio_single = ratio_of(single_core, openssl_elapsed);
    let ratio_all = ratio_of(all_core, openssl_multi);
    let ratio_single_cpu =
        single_core_cpu.and_then(|c| ratio_of(c, openssl.as_ref().ok().copied()));
    let show = |r: Option<f64>| r.map_or_else(|| "-".to_string(), |r| format!("{r:.2}"));
    let show_mib = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.0}"));
    println!(
        "open_chunks_in_place, reads of {READ_MIB} MiB (wall clock, best of {ROUNDS} rounds \
         interleaved with openssl, at least {} s each):",
        WINDOW.as_secs()
    );
    println!(
        "  single-core: {single_core:>6.0} MiB/s   openssl -elapsed:          {:>6} MiB/s   ratio {}",
        show_mib(openssl_elapsed),
        show(ratio_single)
    );
    println!(
        "  all-core ({threads}): {all_core:>6.0} MiB/s   openssl -multi {threads} -elapsed: {:>6} MiB/s   ratio {}",
        show_mib(openssl_multi),
        show(ratio_all)
    );
    println!(
        "  single-core in thread CPU time: {} MiB/s, beside openssl's CPU-time figure: ratio {}",
        show_mib(single_core_cpu),
        show(ratio_single_cpu)
    );
    println!(
        "  open_chunks into a separate output: single-core {single_core_into:.0} MiB/s, all-core {all_core_into:.0} MiB/s"
    );
    let sizes: Vec<String> = by_read_size
        .iter()
        .map(|(r, v)| format!("{} KiB {v:.0}", r >> 10))
        .collect();
    println!("  all-core MiB/s by read size: {}", sizes.join(", "));
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
         \"cpu_flags\": \"{}\",\n  \"read_mib\": {READ_MIB},\n  \"threads\": {threads},\n  \
         \"interleaved_rounds\": {ROUNDS},\n  \
         \"single_core_mib_per_s\": {single_core:.1},\n  \"all_core_mib_per_s\": {all_core:.1},\n  \
         \"openssl_elapsed_mib_per_s\": {},\n  \"openssl_multi_elapsed_mib_per_s\": {},\n  \
         \"ratio_single_core_vs_openssl\": {},\n  \"ratio_all_core_vs_openssl\": {},\n  \
         \"single_core_cpu_time_mib_per_s\": {},\n  \"ratio_single_core_cpu_time_vs_openssl\": {},\n  \
         \"single_core_into_output_mib_per_s\": {single_core_into:.1},\n  \
         \"all_core_into_output_mib_per_s\": {all_core_into:.1},\n  \
         \"all_core_mib_per_s_by_read_kib\": {{{}}}\n}}\n",
        header.chunk_size,
        json_num(openssl.as_ref().ok().copied()),
        json_ratio(ratio),
        json_num(openssl_aesni),
        cpu_summary(),
        json_num(openssl_elapsed),
        json_num(openssl_multi),
        json_ratio(ratio_single),
        json_ratio(ratio_all),
        json_num(single_core_cpu),
        json_ratio(ratio_single_cpu),
        by_read_size
            .iter()
            .map(|(r, v)| format!("\"{}\": {v:.1}", r >> 10))
            .collect::<Vec<_>>()
            .join(", "),
    );
    run.write_figures("decrypt", &json);
}

fn json_ratio(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.3}"))
        .unwrap_or_else(|| "null".into())
}

fn json_num(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.1}"))
        .unwrap_or_else(|| "null".into())
}

/// `openssl speed -evp aes-256-gcm -bytes 65536 -seconds <seconds>` in MiB/s, one thread unless
/// `extra` says `-multi N`. `-mr` makes the same measurement print machine-readable lines:
/// `+F:<n>:AES-256-GCM:<bytes per second>`; with `-multi` each child's line is prefixed `Got:`
/// and the first line that starts with `+F:` is the parent's sum over them.
fn openssl_speed(ia32cap: Option<&str>, seconds: u32, extra: &[&str]) -> Result<f64, String> {
    let mut cmd = Command::new("openssl");
    cmd.args([
        "speed",
        "-mr",
        "-evp",
        "aes-256-gcm",
        "-bytes",
        "65536",
        "-seconds",
        &seconds.to_string(),
    ]);
    cmd.args(extra);
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

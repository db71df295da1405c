//! Publishing time for a 1 GiB video beside `sha1sum` on the same file (the hashing floor: a
//! torrent must SHA-1 every byte), measured in the same run.
//!
//! `cargo bench -p marquee-core --bench publish` (or `cargo xtask bench`). Publishing here is
//! what happens before the title can be listed: probe the file, copy it into the app's data
//! folder while hashing it (SHA-256, for duplicate detection), then make the torrent from the
//! copy (SHA-1 of every piece). Prints the ratio `sha1sum_s / publish_s` and writes
//! `target/bench/publish.json`. `MARQUEE_BENCH_MIB` changes the size (for a quick run); under
//! `cargo test` (no `--bench`) it runs on 8 MiB and writes nothing.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use marquee_bench::target_dir;

/// A playable WebM header (a real demo video) followed by filler up to `size` bytes: the probe
/// reads only the header, and hashing costs the same whatever the bytes are.
fn make_video(path: &Path, size: u64) {
    let head = std::fs::read(marquee_store::bundled_demo_dir().join("media/paper-boats.webm"))
        .expect("the demo video");
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    f.write_all(&head).unwrap();
    let mut written = head.len() as u64;
    let block: Vec<u8> = (0..1 << 20)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    while written < size {
        let n = (size - written).min(block.len() as u64) as usize;
        f.write_all(&block[..n]).unwrap();
        written += n as u64;
    }
    f.flush().unwrap();
}

fn main() {
    let Some(run) = marquee_bench::Run::from_args("publish") else {
        return;
    };
    let mib: u64 = run.size(1024, 8, "MARQUEE_BENCH_MIB");
    let dir = tempfile::tempdir_in(target_dir()).unwrap();
    let video = dir.path().join("big-film.webm");
    make_video(&video, mib << 20);

    // Reference: sha1sum over the same file, after a read so both start with a warm cache.
    let _ = std::fs::read(&video).map(|b| std::hint::black_box(b.len()));
    let t = Instant::now();
    let sha = Command::new("sha1sum").arg(&video).output();
    let sha1sum_s = t.elapsed().as_secs_f64();
    let sha1sum_ok = sha.map(|o| o.status.success()).unwrap_or(false);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let out = dir.path().join("published");
    let t = Instant::now();
    let prepared =
        marquee_core::publishing::file::prepare(&video, &out, &AtomicBool::new(false), |_, _| {})
            .expect("the video is publishable");
    let copy_s = t.elapsed().as_secs_f64();
    let torrent = rt.block_on(async {
        librqbit::create_torrent(
            &prepared.path,
            librqbit::CreateTorrentOptions {
                name: None,
                trackers: vec![],
                piece_length: Some(1024 * 1024),
            },
            &librqbit::spawn_utils::BlockingSpawner::new(1),
        )
        .await
        .expect("the torrent")
    });
    let publish_s = t.elapsed().as_secs_f64();
    std::hint::black_box(torrent.info_hash());

    let ratio = if sha1sum_ok {
        sha1sum_s / publish_s
    } else {
        f64::NAN
    };
    println!(
        "publish {mib} MiB: {publish_s:.2} s (copy + SHA-256 {copy_s:.2} s, torrent {:.2} s); sha1sum {sha1sum_s:.2} s; ratio {ratio:.2}",
        publish_s - copy_s
    );
    // Publishing copied all of the video.
    assert_eq!(
        std::fs::metadata(&prepared.path).unwrap().len(),
        std::fs::metadata(&video).unwrap().len()
    );
    let json = format!(
        "{{\n  \"size_mib\": {mib},\n  \"publish_s\": {publish_s:.3},\n  \"copy_and_sha256_s\": {copy_s:.3},\n  \"torrent_s\": {:.3},\n  \"sha1sum_s\": {sha1sum_s:.3},\n  \"ratio_vs_sha1sum\": {ratio:.3}\n}}\n",
        publish_s - copy_s
    );
    run.write_figures("publish", &json);
}

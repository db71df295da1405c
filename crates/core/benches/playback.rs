//! Playback of a large paid title while and after it downloads: what the app's memory does
//! during a 4 GiB download, how soon a seek into a part not downloaded yet gets its bytes, and
//! how fast the playback server reads a downloaded title end to end beside decrypting the same
//! container straight from the disk.
//!
//! `cargo bench -p marquee-core --bench playback` (or `cargo xtask bench`). Makes a rented film
//! of `MARQUEE_PLAYBACK_MIB` MiB (default 4096) of pseudo-random bytes, sold by a store that runs
//! as a process of its own (this benchmark started again in the store's role), so that the
//! memory measured is the core's alone. Then, in a core driven as the app drives it:
//!
//! 1. **`rss_mb_4gib`**: rents the film and samples this process's resident memory every
//!    100 ms until the download is complete (peak and median; the core at rest is the
//!    reference).
//! 2. **`seek_ms`**: while it downloads, asks the playback server for 64 KiB at places not
//!    downloaded yet (60, 70, 80 and 90 % in), as a `<video>` does after a seek, and times the
//!    first bytes (median). The reference: the same request once the title is complete.
//! 3. **`read_vs_decrypt_ratio`**: once complete, reads the whole title through the playback
//!    server (one HTTP response, as a player reading on would) and compares it with reading the
//!    same container file and opening it with `Opener::open_chunks_in_place` in 4 MiB reads,
//!    the key taken from the store's database. Both read from the page cache; three interleaved
//!    rounds, the best of each kept.
//!
//! Writes `target/bench/playback.json`. The click-to-first-frame figure needs the window and
//! is the storefront benchmark's (`tests/bench/storefront.rs`). Under `cargo test` it runs the
//! same steps on 8 MiB and writes nothing.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use marquee_core::api::DownloadState;
use marquee_core::{Core, CoreConfig, MachineIdSource};
use marquee_licence::{ContainerHeader, ContentKey, Opener};

const MIB: f64 = 1024.0 * 1024.0;
/// The film's id in the store made for the benchmark.
const TITLE: &str = "big-film";
/// Set in the store's process: the folder its data and demo catalog are in.
const STORE_ROLE: &str = "MARQUEE_PLAYBACK_BENCH_STORE";
/// What a seek asks for: the first 64 KiB at the new place.
const SEEK_BYTES: u64 = 64 * 1024;
/// How much of the container one direct read takes.
const READ_BYTES: usize = 4 << 20;
/// Rounds of reading the whole title each way.
const ROUNDS: usize = 3;

fn main() {
    if let Some(dir) = std::env::var_os(STORE_ROLE) {
        return store_process(Path::new(&dir));
    }
    let Some(run) = marquee_bench::Run::from_args("playback") else {
        return;
    };
    let mib: u64 = run.size(4096, 8, "MARQUEE_PLAYBACK_MIB");
    let dir = tempfile::tempdir_in(marquee_bench::target_dir()).expect("a scratch folder");
    let demo = dir.path().join("demo");
    write_demo(&demo, mib << 20);

    // The store, in a process of its own.
    let t = Instant::now();
    let mut store = Command::new(std::env::current_exe().unwrap())
        .env(STORE_ROLE, dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the store's process starts");
    let mut line = String::new();
    BufReader::new(store.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("store ")
        .unwrap_or_else(|| panic!("the store says where it listens: {line:?}"))
        .to_owned();
    println!(
        "playback: {mib} MiB film packaged and seeded in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let figures = rt.block_on(measure(&url, dir.path(), mib << 20));
    // Closing its input stops the store.
    drop(store.stdin.take());
    let _ = store.wait();

    println!("playback {mib} MiB:");
    println!(
        "  memory while downloading: peak {:.0} MB, median {:.0} MB (the core at rest: {:.0} MB); download {:.1} s",
        figures.rss_peak_mb, figures.rss_median_mb, figures.rss_rest_mb, figures.download_s
    );
    println!(
        "  seek into a part not downloaded: median {:.0} ms (each {:?}); once complete {:.1} ms",
        figures.seek_ms, figures.seeks_ms, figures.seek_complete_ms
    );
    println!(
        "  end to end: playback server {:.0} MiB/s, container decrypted straight from the disk {:.0} MiB/s; ratio {:.2}",
        figures.read_mib_s,
        figures.decrypt_mib_s,
        figures.read_mib_s / figures.decrypt_mib_s
    );
    let json = format!(
        "{{\n  \"size_mib\": {mib},\n  \"rss_mb_4gib\": {:.0},\n  \"rss_median_mb\": {:.0},\n  \"rss_rest_mb\": {:.0},\n  \"download_s\": {:.2},\n  \"seek_ms\": {:.1},\n  \"seeks_ms\": [{}],\n  \"seek_complete_ms\": {:.2},\n  \"read_mib_s\": {:.1},\n  \"decrypt_mib_s\": {:.1},\n  \"read_vs_decrypt_ratio\": {:.3}\n}}\n",
        figures.rss_peak_mb,
        figures.rss_median_mb,
        figures.rss_rest_mb,
        figures.download_s,
        figures.seek_ms,
        figures
            .seeks_ms
            .iter()
            .map(|s| format!("{s:.1}"))
            .collect::<Vec<_>>()
            .join(", "),
        figures.seek_complete_ms,
        figures.read_mib_s,
        figures.decrypt_mib_s,
        figures.read_mib_s / figures.decrypt_mib_s
    );
    run.write_figures("playback", &json);
}

/// What one run measured.
struct Figures {
    rss_peak_mb: f64,
    rss_median_mb: f64,
    rss_rest_mb: f64,
    download_s: f64,
    seek_ms: f64,
    seeks_ms: Vec<f64>,
    seek_complete_ms: f64,
    read_mib_s: f64,
    decrypt_mib_s: f64,
}

async fn measure(url: &str, dir: &Path, size: u64) -> Figures {
    let profile = dir.join("profile");
    let mut config = CoreConfig::new(
        &profile,
        url,
        marquee_store::DEMO_EMAIL,
        marquee_store::DEMO_PASSWORD,
    );
    config.machine_id = MachineIdSource::Fixed("0123456789abcdef0123456789abcdef".into());
    config.session_vault = marquee_core::account::vault::VaultChoice::File;
    let core = Core::open(config).await.expect("the core opens");
    let rss_rest_mb = rss_mb();

    // 1 and 2: rent, then sample the memory until complete, seeking as the download goes.
    let started = Instant::now();
    core.title_acquire(TITLE, "bench-1")
        .await
        .expect("the film is rented");
    let source = core.playback_open(TITLE).await.expect("it opens to play");
    let http = reqwest::Client::new();
    let mut rss = Vec::new();
    let mut seeks_ms = Vec::new();
    let mut next_seek = [0.6, 0.7, 0.8, 0.9].into_iter().peekable();
    loop {
        rss.push(rss_mb());
        let p = core
            .downloads()
            .into_iter()
            .find(|d| d.title_id == TITLE)
            .expect("the film is in the session");
        if p.state == DownloadState::Seeding {
            break;
        }
        // A seek to a place well past the bytes that have arrived (librqbit fetches a title
        // roughly from its start on), or none if the download has passed it.
        let done = p.downloaded_bytes as f64 / size as f64;
        if let Some(&at) = next_seek.peek() {
            if done + 0.05 < at {
                next_seek.next();
                seeks_ms.push(seek(&http, &source.url, (size as f64 * at) as u64).await);
                continue;
            }
            // Too late for this one: the download passed it.
            next_seek.next();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let download_s = started.elapsed().as_secs_f64();
    let seek_complete_ms = seek(&http, &source.url, size * 3 / 4).await;

    // 3: end to end through the playback server, and straight from the disk, in interleaved
    // rounds (best of each), so that a burst of other work does not land on one side only.
    let key = content_key(dir).await;
    let container = find_container(&profile.join("downloads"));
    let (mut read_s, mut decrypt_s) = (f64::MAX, f64::MAX);
    for _ in 0..ROUNDS {
        read_s = read_s.min(read_whole(&http, &source.url, size).await);
        let (container, key) = (container.clone(), key.clone());
        let took = tokio::task::spawn_blocking(move || decrypt_file(&container, &key, size));
        decrypt_s = decrypt_s.min(took.await.unwrap());
    }
    core.shutdown().await;

    let mut sorted = rss.clone();
    sorted.sort_by(f64::total_cmp);
    Figures {
        rss_peak_mb: sorted.last().copied().unwrap_or(0.0),
        rss_median_mb: sorted[sorted.len() / 2],
        rss_rest_mb,
        download_s,
        seek_ms: median(seeks_ms.clone()),
        seeks_ms,
        seek_complete_ms,
        read_mib_s: size as f64 / MIB / read_s,
        decrypt_mib_s: size as f64 / MIB / decrypt_s,
    }
}

/// Reads the whole title through the playback server, as one response; returns the seconds.
async fn read_whole(http: &reqwest::Client, url: &str, size: u64) -> f64 {
    let t = Instant::now();
    let mut resp = http
        .get(url)
        .send()
        .await
        .expect("the playback server answers");
    assert!(resp.status().is_success(), "{}", resp.status());
    let mut read = 0u64;
    while let Some(chunk) = resp.chunk().await.expect("the body arrives") {
        read += chunk.len() as u64;
    }
    assert_eq!(read, size, "the whole film, clear");
    t.elapsed().as_secs_f64()
}

/// Asks the playback server for [`SEEK_BYTES`] at `at`, as a `<video>` does after a seek, and
/// returns how long the bytes took, ms.
async fn seek(http: &reqwest::Client, url: &str, at: u64) -> f64 {
    let t = Instant::now();
    let mut resp = http
        .get(url)
        .header("Range", format!("bytes={at}-{}", at + SEEK_BYTES - 1))
        .send()
        .await
        .expect("the playback server answers");
    assert_eq!(resp.status().as_u16(), 206);
    let mut got = 0;
    while let Some(chunk) = resp.chunk().await.expect("the range arrives") {
        got += chunk.len() as u64;
    }
    assert_eq!(got, SEEK_BYTES);
    t.elapsed().as_secs_f64() * 1000.0
}

/// Reads the container at `path` in [`READ_BYTES`] reads of whole chunks and opens each in
/// place; returns the seconds it took. Checks the plaintext's length and its pattern's start.
fn decrypt_file(path: &Path, key: &ContentKey, size: u64) -> f64 {
    let t = Instant::now();
    let mut file = std::fs::File::open(path).unwrap();
    let mut head = [0u8; marquee_licence::container::HEADER_LEN];
    file.read_exact(&mut head).unwrap();
    let header = ContainerHeader::parse(&head).unwrap();
    let opener = Opener::new(key, header).expect("the store's key opens its container");
    let sealed_chunk = header.sealed_chunk_len(0);
    let per_read = (READ_BYTES / sealed_chunk).max(1) as u64;
    let mut buf = vec![0u8; per_read as usize * sealed_chunk];
    let mut clear = 0u64;
    let mut first = 0u64;
    while first < header.chunk_count() {
        let last = (first + per_read - 1).min(header.chunk_count() - 1);
        let len: usize = (first..=last).map(|i| header.sealed_chunk_len(i)).sum();
        file.read_exact(&mut buf[..len]).unwrap();
        let opened = opener
            .open_chunks_in_place(first..=last, &mut buf[..len])
            .expect("authentic chunks");
        if first == 0 {
            assert_eq!(buf[opened[0].start], pattern(0));
        }
        clear += opened.iter().map(|r| r.len() as u64).sum::<u64>();
        first = last + 1;
    }
    assert_eq!(clear, size);
    t.elapsed().as_secs_f64()
}

/// The film's content key, from the store's own database.
async fn content_key(dir: &Path) -> ContentKey {
    let url = format!("sqlite://{}?mode=ro", dir.join("store/store.db").display());
    let db = sqlx::SqlitePool::connect(&url).await.unwrap();
    let key: Vec<u8> = sqlx::query_scalar("SELECT content_key FROM titles WHERE id = ?")
        .bind(TITLE)
        .fetch_one(&db)
        .await
        .unwrap();
    db.close().await;
    ContentKey::from_bytes(key.try_into().expect("a 32-byte key"))
}

/// The one container file under `downloads`.
fn find_container(downloads: &Path) -> PathBuf {
    let mut stack = vec![downloads.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "mqc") {
                return path;
            }
        }
    }
    panic!("no container under {}", downloads.display())
}

/// The film's byte at `at`: a pattern no compression or cache can guess.
fn pattern(at: u64) -> u8 {
    (at.wrapping_mul(2_654_435_761) >> 13) as u8
}

/// Writes a demo catalog of one rented film of `size` bytes into `demo`.
fn write_demo(demo: &Path, size: u64) {
    let media = demo.join("media");
    std::fs::create_dir_all(&media).unwrap();
    let shipped = marquee_store::bundled_demo_dir().join("media");
    for art in ["neon-harbor.jpg", "neon-harbor-backdrop.jpg"] {
        std::fs::copy(shipped.join(art), media.join(art)).unwrap();
    }
    let mut film =
        std::io::BufWriter::new(std::fs::File::create(media.join("big-film.webm")).unwrap());
    let mut block = vec![0u8; 1 << 20];
    let mut at = 0u64;
    while at < size {
        let n = (size - at).min(block.len() as u64) as usize;
        for (k, b) in block[..n].iter_mut().enumerate() {
            *b = pattern(at + k as u64);
        }
        film.write_all(&block[..n]).unwrap();
        at += n as u64;
    }
    film.flush().unwrap();
    let catalog = serde_json::json!([{
        "id": TITLE,
        "kind": "film",
        "name": "Big Film",
        "synopsis": "A long film, for measuring.",
        "year": 2026,
        "runtime_s": 7200,
        "genre": "Drama",
        "studio": "Bench Pictures",
        "new_release": true,
        "offer": "rent",
        "price_cents": 400,
        "series": null,
        "artist": null,
        "media": "big-film.webm",
        "mime": "video/webm",
        "poster": "neon-harbor.jpg",
        "backdrop": "neon-harbor-backdrop.jpg",
        "width": 1920,
        "height": 1080,
        "licence_to_share": null
    }]);
    std::fs::write(demo.join("catalog.json"), catalog.to_string()).unwrap();
}

/// The store's role: sells the demo catalog in `dir/demo` from `dir/store`, says where it
/// listens on its first line, and stops when its input closes.
fn store_process(dir: &Path) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let config =
            marquee_store::StoreConfig::loopback(dir.join("store"), Some(dir.join("demo")));
        let store = marquee_store::Store::start(config)
            .await
            .expect("the store starts");
        println!("store {}", store.url());
        std::io::stdout().flush().unwrap();
        tokio::task::spawn_blocking(|| {
            let mut rest = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut rest);
        })
        .await
        .unwrap();
        store.shutdown().await;
    });
}

/// This process's resident memory, MB.
fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb * 1024.0 / 1e6)
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

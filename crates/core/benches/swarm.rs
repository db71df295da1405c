//! Downloading a large title over loopback from one seeder: Marquee's BitTorrent engine (the
//! core's librqbit session, driven as the app drives it) beside the standard Debian clients
//! `aria2c` and `transmission-cli`, each downloading the same file from the same seeder in the
//! same run.
//!
//! `cargo bench -p marquee-core --bench swarm` (or `cargo xtask bench`). Makes a 1 GiB file of
//! pseudo-random bytes and its torrent (one file, the piece size Marquee itself uses for that
//! size, [`marquee_protocol::swarm::piece_length`]), seeds it with `aria2c`, and downloads it
//! with each client in turn, `MARQUEE_SWARM_RUNS` rounds (default 3; the median is kept).
//! Prints each client's MiB/s and Marquee's ratio to it, and writes `target/bench/swarm.json`
//! (`marquee_mib_s`, each reference's MiB/s, `best_reference_mib_s`, `ratio_vs_best`).
//! `MARQUEE_SWARM_MIB` changes the size (for a quicker run), `MARQUEE_SWARM_CLIENTS` (say
//! `marquee,aria2c`) measures only those. Under `cargo test` (no `--bench`)
//! it downloads 8 MiB once with Marquee and `aria2c`, checks both copies and writes nothing.
//!
//! The seeder is one `aria2c` process kept running for every download: each leecher then meets
//! the same seeder in the same state (a restart per leecher would add only a start-up that
//! varies), and the file is read once before each download so that the seeder reads it from
//! the page cache every time, whatever the previous download evicted. Peers come from a tiny
//! tracker in this process that hands every client the seeder's address and nothing else
//! (Transmission, which refuses loopback addresses from a tracker, is connected to by the
//! seeder instead: see `start_tracker`). DHT, local peer discovery, peer exchange and port mapping
//! are off in every client, and everything listens on 127.0.0.1.
//!
//! A download's time runs from adding the torrent (starting the client's process; for Marquee,
//! registering the dropped `.torrent` and importing it into a running core) to the client
//! saying it has every piece, each checked against its SHA-1 (`aria2c` runs its
//! `--on-bt-download-complete` script, Transmission its "torrent done" script, the core
//! reports the title seeding). Then the client is stopped and its copy compared byte for byte
//! with the original, outside the time. So each figure includes the client's start: aria2c
//! asks the tracker and connects on its one-second ticks (about 2 s before its first byte),
//! Marquee's core is already running (its first byte comes some 0.5 s after the import).
//!
//! qbittorrent-nox is not measured: it is not among the packages `cargo xtask setup` installs,
//! and its Web API would be a client of its own to drive; when it is installed, a line says so.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use marquee_core::api::DownloadState;
use marquee_core::{Core, CoreConfig, MachineIdSource};
use marquee_store::{Store, StoreConfig};
use sha1::{Digest, Sha1};

const MIB: f64 = 1024.0 * 1024.0;
/// How often a waiting loop looks again: the same for every client, small beside a download.
const POLL: Duration = Duration::from_millis(5);
/// The file's name in every client's folder.
const NAME: &str = "big-film.webm";

/// A client's process, stopped (SIGTERM, so it can write out what it holds) when dropped.
struct Process {
    child: Child,
    name: &'static str,
}

impl Process {
    fn spawn(command: &mut Command, name: &'static str) -> Process {
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("{name} does not start: {e}"));
        Process { child, name }
    }

    /// Its exit status, if it has exited.
    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().expect("the child's status")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.exited().is_some() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.exited().is_some() {
                return;
            }
            std::thread::sleep(POLL);
        }
        eprintln!("swarm: {} did not stop on SIGTERM; killing it", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The path of `name` on this computer, or `None`. Missing under `CI=true` is an error: there
/// a figure without a reference would pass unnoticed.
fn tool(name: &str) -> Option<PathBuf> {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if found.is_none() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("swarm: {name} is not installed; `cargo xtask setup` installs it");
        }
        println!("swarm: {name} is not installed: skipped (`cargo xtask setup` installs it)");
    }
    found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Writes `size` pseudo-random bytes (xorshift: no two pieces alike, nothing compressible) to
/// `path` and returns the SHA-1 of each `piece`-byte piece.
fn make_file(path: &Path, size: u64, piece: u64) -> Vec<[u8; 20]> {
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut hashes = Vec::new();
    let mut buf = vec![0u8; piece as usize];
    let mut left = size;
    while left > 0 {
        let n = left.min(piece) as usize;
        for word in buf[..n].chunks_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes()[..word.len()]);
        }
        f.write_all(&buf[..n]).unwrap();
        hashes.push(Sha1::digest(&buf[..n]).into());
        left -= n as u64;
    }
    f.flush().unwrap();
    hashes
}

/// A single-file torrent announcing to `announce`: its bytes and its info hash.
fn torrent(announce: &str, size: u64, piece: u64, hashes: &[[u8; 20]]) -> (Vec<u8>, [u8; 20]) {
    let mut info = format!(
        "d6:lengthi{size}e4:name{}:{NAME}12:piece lengthi{piece}e6:pieces{}:",
        NAME.len(),
        hashes.len() * 20
    )
    .into_bytes();
    info.extend(hashes.iter().flatten());
    info.push(b'e');
    let mut t = format!("d8:announce{}:{announce}4:info", announce.len()).into_bytes();
    t.extend_from_slice(&info);
    t.push(b'e');
    (t, Sha1::digest(&info).into())
}

/// The bencoded answer to an announce: these IPv4 loopback peers.
fn tracker_answer(ports: &[u16]) -> Vec<u8> {
    let mut body = format!(
        "d8:completei1e10:incompletei0e8:intervali600e12:min intervali600e5:peers{}:",
        ports.len() * 6
    )
    .into_bytes();
    for port in ports {
        body.extend_from_slice(&[127, 0, 0, 1]);
        body.extend_from_slice(&port.to_be_bytes());
    }
    body.push(b'e');
    body
}

/// An HTTP tracker on loopback. Every leecher is told the seeder at `seeder_port` and no one
/// else, at once. Transmission 3.00 drops any loopback address a tracker gives it (its
/// `isMartianAddr`) and takes loopback peers only when they connect to it; so the seeder, which
/// announces every second, is told the Transmission leechers that announced (by their `-TR`
/// peer id) and connects to them. Only to them: a second connection to a leecher that already
/// has one would change what is measured. Its thread lives as long as the process.
fn start_tracker(seeder_port: u16) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/announce", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut transmission: Vec<u16> = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            // The request line and headers; a GET has no body.
            let mut request = Vec::new();
            let mut chunk = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&chunk[..n]),
                }
            }
            let line = String::from_utf8_lossy(&request);
            let query = line
                .split_whitespace()
                .nth(1)
                .and_then(|target| target.split_once('?'))
                .map_or("", |(_, q)| q);
            let param = |name: &str| {
                query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                    .unwrap_or("")
            };
            let port: u16 = param("port").parse().unwrap_or(0);
            let stopped = param("event") == "stopped";
            let body = if port == seeder_port {
                tracker_answer(&transmission)
            } else {
                if param("peer_id").starts_with("-TR") {
                    transmission.retain(|&p| p != port);
                    if !stopped {
                        transmission.push(port);
                    }
                }
                tracker_answer(&[seeder_port])
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    url
}

/// Whether the two files hold the same bytes.
fn same_bytes(a: &Path, b: &Path) -> bool {
    let (Ok(fa), Ok(fb)) = (std::fs::File::open(a), std::fs::File::open(b)) else {
        return false;
    };
    if fa.metadata().unwrap().len() != fb.metadata().unwrap().len() {
        return false;
    }
    let (mut ra, mut rb) = (
        std::io::BufReader::with_capacity(4 << 20, fa),
        std::io::BufReader::with_capacity(4 << 20, fb),
    );
    let (mut ba, mut bb) = (vec![0u8; 4 << 20], vec![0u8; 4 << 20]);
    loop {
        let n = ra.read(&mut ba).unwrap();
        if n == 0 {
            return true;
        }
        rb.read_exact(&mut bb[..n]).unwrap();
        if ba[..n] != bb[..n] {
            return false;
        }
    }
}

/// Reads all of `path`, so the seeder serves it from the page cache.
fn warm(path: &Path) {
    let mut f = std::fs::File::open(path).unwrap();
    let mut buf = vec![0u8; 4 << 20];
    while f.read(&mut buf).unwrap() > 0 {}
}

/// Everything every leecher is given.
struct Title {
    original: PathBuf,
    torrent: PathBuf,
    info_hash: String,
    size: u64,
    /// A download slower than this has failed.
    timeout: Duration,
}

/// aria2c on loopback and to itself, quiet.
fn aria2c(dir: &Path, port: u16) -> Command {
    let mut c = marquee_testsupport::aria2c(dir, port);
    c.stdout(Stdio::null());
    c
}

/// Starts the seeder on `port`: the existing file is seeded as it is (no check first, no ratio
/// at which to stop). It announces every second, to hear of the leechers that cannot come to
/// it (see [`start_tracker`]).
fn start_seeder(title: &Title, port: u16) -> Process {
    let mut seeder = Process::spawn(
        aria2c(title.original.parent().unwrap(), port)
            .args([
                "--seed-ratio=0.0",
                "--bt-seed-unverified=true",
                "--check-integrity=false",
                "--bt-tracker-interval=1",
            ])
            .arg(&title.torrent),
        "aria2c seeder",
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the aria2c seeder never listened"
        );
        assert!(seeder.exited().is_none(), "the aria2c seeder stopped");
        std::thread::sleep(Duration::from_millis(20));
    }
    seeder
}

/// A script that marks `dir/done` when run, for a client to run once it has every piece: the
/// end of its time. A client's exit would count its shutdown too (aria2c announces that it
/// stopped on its next one-second tick).
fn done_script(dir: &Path) -> (PathBuf, PathBuf) {
    let done = dir.join("done");
    let script = dir.join("done.sh");
    std::fs::write(&script, format!("#!/bin/sh\n: > '{}'\n", done.display())).unwrap();
    let mut perms = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&script, perms).unwrap();
    (script, done)
}

/// Waits for `done` to exist while `client` runs: the time since `started`.
fn wait_done(done: &Path, client: &mut Process, started: Instant, title: &Title) -> Duration {
    while !done.exists() {
        assert!(
            started.elapsed() < title.timeout,
            "{} did not finish in time",
            client.name
        );
        assert!(
            client.exited().is_none(),
            "{} stopped before finishing",
            client.name
        );
        std::thread::sleep(POLL);
    }
    started.elapsed()
}

/// One download by aria2c into `dir`: its time, once the copy is checked.
fn aria2c_download(title: &Title, dir: &Path) -> Duration {
    let (script, done) = done_script(dir);
    let out = dir.join("out");
    let started = Instant::now();
    let mut child = Process::spawn(
        aria2c(&out, free_port())
            // Run the script once every piece is in and checked, then exit (no seeding).
            .arg(format!("--on-bt-download-complete={}", script.display()))
            .args(["--seed-time=0", "--allow-overwrite=true"])
            // Its default (`prealloc`) writes the whole file with zeros before downloading it;
            // `falloc`, which its manual recommends on ext4, reserves the space at once. Marquee
            // and Transmission write no zeros first either.
            .arg("--file-allocation=falloc")
            .arg(&title.torrent),
        "aria2c",
    );
    let took = wait_done(&done, &mut child, started, title);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.exited() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "aria2c did not exit after finishing"
        );
        std::thread::sleep(POLL);
    };
    assert!(status.success(), "aria2c finished: {status}");
    check_copy(title, &out.join(NAME), "aria2c");
    took
}

/// One download by transmission-cli into `dir`: its time, once the copy is checked.
fn transmission_download(title: &Title, dir: &Path) -> Duration {
    let config = dir.join("config");
    let out = dir.join("out");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    let port = free_port();
    // Plain (unencrypted) connections, as Marquee and the aria2c seeder make by default: an
    // RC4 stream would be measured beside one without. TCP only, like the two others.
    let settings = format!(
        r#"{{
  "bind-address-ipv4": "127.0.0.1",
  "bind-address-ipv6": "::1",
  "dht-enabled": false,
  "download-dir": "{}",
  "encryption": 0,
  "incomplete-dir-enabled": false,
  "lpd-enabled": false,
  "peer-port": {port},
  "peer-port-random-on-start": false,
  "pex-enabled": false,
  "port-forwarding-enabled": false,
  "rename-partial-files": false,
  "rpc-enabled": false,
  "utp-enabled": false
}}
"#,
        out.display()
    );
    std::fs::write(config.join("settings.json"), settings).unwrap();
    let (script, done) = done_script(dir);
    let log = std::fs::File::create(dir.join("transmission.log")).unwrap();

    let started = Instant::now();
    let mut child = Process::spawn(
        Command::new("transmission-cli")
            .arg("-g")
            .arg(&config)
            .arg("-w")
            .arg(&out)
            .args(["-p", &port.to_string(), "-M", "-D", "-U", "-et", "-f"])
            .arg(&script)
            .arg(&title.torrent)
            .stdout(Stdio::null())
            .stderr(log),
        "transmission-cli",
    );
    let took = wait_done(&done, &mut child, started, title);
    // It seeds on until stopped; stopping writes out what it still holds.
    drop(child);
    check_copy(title, &out.join(NAME), "transmission-cli");
    took
}

/// One download by a new Marquee profile in `dir`: its time, once the copy is checked.
async fn marquee_download(title: &Title, store: &Store, dir: &Path) -> Duration {
    let profile = dir.join("profile");
    let mut config = CoreConfig::signed_out(&profile, store.url());
    config.machine_id = MachineIdSource::Fixed("0123456789abcdef0123456789abcdef".into());
    // The tests' vault: never the keyring of whoever runs the benchmark.
    config.session_vault = marquee_core::account::vault::VaultChoice::File;
    let core = Core::open(config).await.expect("the core opens");

    // What the app does with a `.torrent` it is given: register the file, import it.
    let started = Instant::now();
    let dropped = core.drop_register(title.torrent.clone());
    let entry = core
        .torrent_import(&dropped.drop_id)
        .await
        .expect("the torrent is added");
    loop {
        let d = core
            .downloads()
            .into_iter()
            .find(|d| d.title_id == entry.title.id);
        match d {
            Some(d) if d.state == DownloadState::Seeding => break,
            Some(d) if matches!(d.state, DownloadState::Error | DownloadState::DiskFull) => {
                panic!("Marquee's download failed: {:?}", d.error)
            }
            _ => {}
        }
        assert!(
            started.elapsed() < title.timeout,
            "Marquee did not finish in time"
        );
        tokio::time::sleep(POLL).await;
    }
    let took = started.elapsed();
    core.shutdown().await;
    let copy = profile.join("downloads").join(&title.info_hash).join(NAME);
    check_copy(title, &copy, "Marquee");
    took
}

fn check_copy(title: &Title, copy: &Path, client: &str) {
    assert!(
        same_bytes(&title.original, copy),
        "{client}'s copy {} is not the original's {} bytes",
        copy.display(),
        title.size
    );
}

/// The clients measured, in the order each round runs them.
#[derive(Clone, Copy, PartialEq)]
enum Client {
    Marquee,
    Aria2c,
    Transmission,
}

impl Client {
    /// The name printed, and the key's stem in the figures.
    fn name(self) -> &'static str {
        match self {
            Client::Marquee => "marquee",
            Client::Aria2c => "aria2c",
            Client::Transmission => "transmission_cli",
        }
    }
}

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    let n = times.len();
    if n % 2 == 1 {
        times[n / 2]
    } else {
        (times[n / 2 - 1] + times[n / 2]) / 2.0
    }
}

fn main() {
    let Some(run) = marquee_bench::Run::from_args("swarm") else {
        return;
    };
    let mib: u64 = run.size(1024, 8, "MARQUEE_SWARM_MIB");
    let rounds: usize = run.size(3, 1, "MARQUEE_SWARM_RUNS").max(1);
    // aria2c is the seeder: without it nothing can be measured.
    if tool("aria2c").is_none() {
        return;
    }
    // Marquee is always measured: the figures are about it.
    let only = std::env::var("MARQUEE_SWARM_CLIENTS").ok();
    let wanted = |c: Client| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|n| n == c.name()))
    };
    let mut clients = vec![Client::Marquee];
    if wanted(Client::Aria2c) {
        clients.push(Client::Aria2c);
    }
    // The smoke checks Marquee against one reference; measuring adds the others.
    if run.measuring() && wanted(Client::Transmission) && tool("transmission-cli").is_some() {
        clients.push(Client::Transmission);
    }
    if run.measuring() && tool_quiet("qbittorrent-nox") {
        println!(
            "swarm: qbittorrent-nox is installed but not measured (no driver for its Web API)"
        );
    } else if run.measuring() {
        println!("swarm: qbittorrent-nox is not installed: skipped");
    }

    let dir = tempfile::tempdir().unwrap();
    let size = mib << 20;
    let piece = u64::from(marquee_protocol::swarm::piece_length(size));
    let seed_dir = dir.path().join("seed");
    std::fs::create_dir_all(&seed_dir).unwrap();
    let original = seed_dir.join(NAME);
    let hashes = make_file(&original, size, piece);
    let seeder_port = free_port();
    let announce = start_tracker(seeder_port);
    let (bytes, info_hash) = torrent(&announce, size, piece, &hashes);
    let torrent_path = dir.path().join("big-film.torrent");
    std::fs::write(&torrent_path, bytes).unwrap();
    let title = Title {
        original,
        torrent: torrent_path,
        info_hash: hex::encode(info_hash),
        size,
        // Anything slower than 4 MiB/s (and a minute to start) has gone wrong.
        timeout: Duration::from_secs(60 + mib / 4),
    };
    let _seeder = start_seeder(&title, seeder_port);
    let seeder_version = Command::new("aria2c")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "aria2c".into());

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // The core needs a store to open against; an empty one, on loopback. Its tracker does not
    // know this torrent, so Marquee's peers come from the same tracker as everyone's.
    let store = rt
        .block_on(Store::start(StoreConfig::loopback(
            dir.path().join("store"),
            None,
        )))
        .expect("the store starts");

    // Rounds, each running every client once, so that a slow spell of the machine falls on
    // all of them rather than on one.
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); clients.len()];
    for round in 0..rounds {
        for (k, &client) in clients.iter().enumerate() {
            let leech = dir.path().join(format!("{}-{round}", client.name()));
            std::fs::create_dir_all(&leech).unwrap();
            warm(&title.original);
            let took = match client {
                Client::Marquee => rt.block_on(marquee_download(&title, &store, &leech)),
                Client::Aria2c => aria2c_download(&title, &leech),
                Client::Transmission => transmission_download(&title, &leech),
            };
            // Each copy goes before the next download, so the page cache and the disk hold
            // the same for every client.
            std::fs::remove_dir_all(&leech).unwrap();
            let s = took.as_secs_f64();
            println!(
                "  round {}: {:<16} {s:6.2} s  {:7.1} MiB/s",
                round + 1,
                client.name(),
                size as f64 / MIB / s
            );
            times[k].push(s);
        }
    }
    rt.block_on(store.shutdown());

    let mib_s: Vec<f64> = times
        .iter()
        .map(|t| size as f64 / MIB / median(t.clone()))
        .collect();
    let marquee = mib_s[0];
    let Some((best_k, best)) = mib_s
        .iter()
        .enumerate()
        .skip(1)
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(k, v)| (k, *v))
    else {
        println!("swarm {mib} MiB: marquee {marquee:.1} MiB/s; no reference measured, no figures written");
        return;
    };
    let ratio = marquee / best;
    println!(
        "swarm {mib} MiB ({} KiB pieces, seeder {seeder_version}), median of {rounds}:",
        piece / 1024
    );
    println!("  marquee          {marquee:7.1} MiB/s");
    for (k, &client) in clients.iter().enumerate().skip(1) {
        println!(
            "  {:<16} {:7.1} MiB/s  (marquee / {} = {:.2})",
            client.name(),
            mib_s[k],
            client.name(),
            marquee / mib_s[k]
        );
    }
    println!(
        "  best reference: {} {best:.1} MiB/s; ratio {ratio:.2}",
        clients[best_k].name()
    );

    let mut json = format!(
        "{{\n  \"size_mib\": {mib},\n  \"piece_kib\": {},\n  \"runs\": {rounds},\n  \"seeder\": \"{seeder_version} (--seed-ratio=0.0 --bt-seed-unverified, one process for every download, file in the page cache)\",\n  \"marquee_mib_s\": {marquee:.1},\n",
        piece / 1024
    );
    for (k, &client) in clients.iter().enumerate().skip(1) {
        json.push_str(&format!(
            "  \"{}_mib_s\": {:.1},\n",
            client.name(),
            mib_s[k]
        ));
    }
    let times_s: Vec<String> = clients
        .iter()
        .zip(&times)
        .map(|(c, t)| {
            let t: Vec<String> = t.iter().map(|s| format!("{s:.3}")).collect();
            format!("\"{}\": [{}]", c.name(), t.join(", "))
        })
        .collect();
    json.push_str(&format!("  \"times_s\": {{ {} }},\n", times_s.join(", ")));
    json.push_str(&format!(
        "  \"best_reference\": \"{}\",\n  \"best_reference_mib_s\": {best:.1},\n  \"ratio_vs_best\": {ratio:.3}\n}}\n",
        clients[best_k].name()
    ));
    run.write_figures("swarm", &json);
}

/// Whether `name` is installed, without a word either way.
fn tool_quiet(name: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

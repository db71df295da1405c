//! A store on loopback selling the demo catalog: in the test's own process, or as a
//! `marquee-store` process.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use marquee_store::{Store, StoreConfig};

use crate::Guard;

/// A store on loopback selling the demo catalog, its data in `dir/store`.
pub async fn start_store(dir: &Path) -> Store {
    start_store_with(dir, |_| {}).await
}

/// [`start_store`] with its configuration changed by `tune` first (a clock, a limit, an address).
pub async fn start_store_with(dir: &Path, tune: impl FnOnce(&mut StoreConfig)) -> Store {
    let mut config =
        StoreConfig::loopback(dir.join("store"), Some(marquee_store::bundled_demo_dir()));
    tune(&mut config);
    Store::start(config).await.expect("store starts")
}

/// `marquee-store serve` as its own process, selling the demo catalog; stopped when the test
/// ends, however it ends.
pub struct StoreProcess {
    process: Guard,
    url: String,
    data: PathBuf,
}

impl StoreProcess {
    /// Starts `bin serve` listening at `listen` (`127.0.0.1:0` for a free port; a fixed address
    /// for a store coming back at it), its data in `data`, and waits up to two minutes for it to
    /// say where it listens.
    pub fn start(bin: &Path, data: &Path, listen: &str) -> StoreProcess {
        let demo = marquee_store::bundled_demo_dir();
        StoreProcess::start_with(bin, data, listen, &["--demo".as_ref(), demo.as_os_str()])
    }

    /// [`StoreProcess::start`] with other arguments after `serve --listen LISTEN --data DATA`
    /// instead of the demo catalog's (`--database-url URL`, with or without `--demo DIR`).
    pub fn start_with(
        bin: &Path,
        data: &Path,
        listen: &str,
        args: &[&std::ffi::OsStr],
    ) -> StoreProcess {
        let mut child = Command::new(bin)
            .args(["serve", "--listen", listen, "--data"])
            .arg(data)
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("marquee-store starts");
        let stdout = child.stdout.take().expect("piped");
        let process = Guard::new(child, "marquee-store");
        // It prints its address once the catalog is packaged and the API listens. Its output is
        // read to the end, so it never blocks on a full pipe.
        let (address, heard) = mpsc::channel();
        std::thread::spawn(move || {
            let mut address = Some(address);
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix("marquee-store listening on ") {
                    if let Some(address) = address.take() {
                        let _ = address.send(url.trim().to_owned());
                    }
                }
            }
        });
        let url = match heard.recv_timeout(Duration::from_secs(120)) {
            Ok(url) => url,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("the store did not listen within two minutes")
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!("marquee-store exited before listening")
            }
        };
        StoreProcess {
            process,
            url,
            data: data.to_owned(),
        }
    }

    /// Its address, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its data folder.
    pub fn data(&self) -> &Path {
        &self.data
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.process.id()
    }
}

/// The `marquee-store` binary that `cargo build --workspace` puts beside the test binaries
/// (`target/<profile>/marquee-store`, one folder up from the running test's `deps`). Panics
/// with the command that builds it when it is missing.
pub fn store_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .expect("tests run from target/<profile>/deps");
    let bin = profile.join(format!("marquee-store{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: `cargo build --workspace` (or `cargo build -p marquee-store`) builds it",
        bin.display()
    );
    bin
}

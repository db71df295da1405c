//! What Marquee's benchmarks share: whether this run measures or only checks, and where the
//! figures go.
//!
//! `cargo bench` builds the benchmarks optimised and passes `--bench` to each `harness = false`
//! target. `cargo test --all-targets` builds and runs the same targets too, unoptimised and
//! without `--bench`: a figure from that run would be a debug build's, so there a benchmark runs
//! a small smoke of the same code, still asserting what it asserts, and writes no figures.
//! Every benchmark asks [`Run::from_args`] which of the two it is.

use std::path::{Path, PathBuf};
use std::str::FromStr;

/// How this run of one benchmark was started.
#[derive(Debug)]
pub struct Run {
    measuring: bool,
}

impl Run {
    /// Reads the command line of the benchmark target `name`. `None` when a filter was given
    /// that does not match `name` (`cargo bench -- search` runs only the search benchmark, as
    /// libtest filters its tests).
    pub fn from_args(name: &str) -> Option<Run> {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if let Some(filter) = args.iter().find(|a| !a.starts_with('-')) {
            if !name.contains(filter.as_str()) {
                return None;
            }
        }
        let bench = args.iter().any(|a| a == "--bench");
        // `cargo bench --profile dev` passes `--bench` to a debug build: no figures from it.
        let measuring = bench && !cfg!(debug_assertions);
        if bench && !measuring {
            eprintln!("{name}: an unoptimised build measures nothing: running the smoke test");
        }
        Some(Run { measuring })
    }

    /// True under `cargo bench`: measure at full size and write the figures.
    pub fn measuring(&self) -> bool {
        self.measuring
    }

    /// The size to run at: when measuring, the number in the environment variable `var` if set
    /// (for a quicker run), else `full`; under `cargo test`, always `smoke`.
    pub fn size<T: FromStr>(&self, full: T, smoke: T, var: &str) -> T {
        if !self.measuring {
            return smoke;
        }
        std::env::var(var)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(full)
    }

    /// Writes `json` to `target/bench/<stem>.json` when measuring and returns the path; under
    /// `cargo test` writes nothing (the figures there are from a debug build) and says so.
    pub fn write_figures(&self, stem: &str, json: &str) -> Option<PathBuf> {
        if !self.measuring {
            println!("{stem}: smoke test passed; `cargo bench` measures and writes the figures");
            return None;
        }
        let dir = target_dir().join("bench");
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        let path = dir.join(format!("{stem}.json"));
        std::fs::write(&path, json).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        println!("  wrote {}", path.display());
        Some(path)
    }
}

/// `CARGO_TARGET_DIR` if set, else the workspace's `target/` (this crate is `crates/bench`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .ancestors()
                .nth(2)
                .expect("crates/bench sits two levels below the workspace root")
                .join("target")
        })
}

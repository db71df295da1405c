//! Writes the seed corpora: `make-corpus-core DIR` creates `DIR/<target>/seed-<name>` for each
//! fuzz target, overwriting earlier seeds, and runs every seed through its target's checks once.
//! The seeds are regenerated on every run and live under `target/`, so nothing large is
//! committed.

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(
        std::env::args_os()
            .nth(1)
            .expect("usage: make-corpus-core DIR (writes DIR/<target>/seed-*)"),
    );
    let mut written = 0;
    for (target, name, bytes) in marquee_core_fuzz::seeds()? {
        match target {
            "video_probe" => marquee_core_fuzz::video_probe(&bytes),
            "playback_range" => marquee_core_fuzz::playback_range(&bytes),
            "torrent_import" => marquee_core_fuzz::torrent_import(&bytes),
            other => unreachable!("unknown target {other}"),
        }
        let target_dir = dir.join(target);
        std::fs::create_dir_all(&target_dir)?;
        std::fs::write(target_dir.join(format!("seed-{name}")), bytes)?;
        written += 1;
    }
    eprintln!("make-corpus-core: {written} seeds in {}", dir.display());
    Ok(())
}

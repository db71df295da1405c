//! Writes the seed corpora: `make-corpus-live DIR` creates `DIR/<target>/seed-<name>` for each
//! fuzz target and runs every seed through its target's checks once.

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(
        std::env::args_os()
            .nth(1)
            .expect("usage: make-corpus-live DIR (writes DIR/<target>/seed-*)"),
    );
    let mut written = 0;
    for (target, name, bytes) in marquee_live_fuzz::seeds()? {
        match target {
            "live_segment" => marquee_live_fuzz::live_segment(&bytes),
            "live_announcement" => marquee_live_fuzz::live_announcement(&bytes),
            "live_relay" => marquee_live_fuzz::live_relay(&bytes),
            other => unreachable!("unknown target {other}"),
        }
        let target_dir = dir.join(target);
        std::fs::create_dir_all(&target_dir)?;
        std::fs::write(target_dir.join(format!("seed-{name}")), bytes)?;
        written += 1;
    }
    eprintln!("make-corpus-live: {written} seeds in {}", dir.display());
    Ok(())
}

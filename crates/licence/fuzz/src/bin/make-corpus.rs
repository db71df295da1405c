//! Writes the seed corpora: `make-corpus DIR` creates `DIR/<target>/seed-<name>` for each fuzz
//! target, overwriting earlier seeds, and runs every seed through its target's checks once.
//! The seeds are regenerated on every run and live under `target/`, so nothing large is
//! committed.

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(
        std::env::args_os()
            .nth(1)
            .expect("usage: make-corpus DIR (writes DIR/<target>/seed-*)"),
    );
    let mut written = 0;
    for (target, name, bytes) in marquee_licence_fuzz::seeds() {
        match target {
            "licence_parse" => {
                // Every licence seed is signed by the store key, so the fuzzer starts past it.
                let fx = marquee_licence_fuzz::fixtures();
                marquee_licence::SignedLicence::from_bytes(bytes.clone())
                    .and_then(|l| l.verify(&fx.store_public))
                    .expect("a licence seed verifies");
                marquee_licence_fuzz::licence_parse(&bytes)
            }
            "container_read" => marquee_licence_fuzz::container_read(&bytes),
            other => unreachable!("unknown target {other}"),
        }
        let target_dir = dir.join(target);
        std::fs::create_dir_all(&target_dir)?;
        std::fs::write(target_dir.join(format!("seed-{name}")), bytes)?;
        written += 1;
    }
    eprintln!("make-corpus: {written} seeds in {}", dir.display());
    Ok(())
}

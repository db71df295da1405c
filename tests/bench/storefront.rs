//! The storefront at 5,000 titles in the app that ships (`cargo xtask bench` runs `cargo xtask
//! bundle` first): the window test `storefront_in_window` measured again, this time with the
//! release binary inside the `.deb` and a release `marquee-store`. Start to the painted
//! storefront, search as you type, frames while scrolling a shelf and the Films grid, and the
//! web process's memory, each beside the same at the demo catalog. Writes
//! `target/bench/storefront.json`.
//!
//! Under `cargo test` the window test itself runs these steps on the debug build (and writes
//! `target/e2e/storefront.json`), so this target only says so.

use std::process::Command;

use marquee_bench::Run;

// Xvfb, tauri-driver and waiting on the page: the window tests' own helpers.
#[allow(dead_code)]
#[path = "../window/common.rs"]
mod common;

// The measurement itself, shared with the window test.
#[allow(dead_code)]
#[path = "../window/storefront_in_window.rs"]
mod storefront_in_window;

fn main() {
    let Some(run) = Run::from_args("storefront") else {
        return;
    };
    if !run.measuring() {
        println!(
            "storefront: the window test `storefront_in_window` measures the debug build under \
             `cargo test`; `cargo bench` measures the release app"
        );
        return;
    }
    if !cfg!(target_os = "linux") {
        println!("storefront: the window is measured on Linux only");
        return;
    }
    let deb = common::built_deb("release").unwrap_or_else(|| {
        panic!(
            "storefront: no release .deb in target/release/bundle/deb: `cargo xtask bundle` \
             builds it (`cargo xtask bench` runs it first)"
        )
    });
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    common::run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root));
    let bins = storefront_in_window::Binaries {
        app: root.join("usr/bin/marquee"),
        store: common::store_bin_in("release"),
    };
    println!("storefront: the release app from {}", deb.display());
    let shots = work.path().join("shots");
    std::fs::create_dir_all(&shots).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let figures = rt.block_on(storefront_in_window::storefront_figures(&bins, &shots));
    run.write_figures(
        "storefront",
        &serde_json::to_string_pretty(&figures).unwrap(),
    );
}

//! Marquee's developer tasks. The README's two commands live here:
//!
//! - `cargo xtask run`: install what a fresh machine lacks, build the UI, build the app, run it.
//! - `cargo xtask test`: the same set-up, then formatting, lints, UI checks, and every test,
//!   including the end-to-end test in a real window under Xvfb. Builds once, shared by all tests.
//!
//! Also `cargo xtask bindings` (regenerate the TypeScript bindings) and `cargo xtask bench`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

/// Debian/Ubuntu packages the build, the window and the tests need.
const APT_PACKAGES: &[&str] = &[
    "build-essential",
    "pkg-config",
    "libwebkit2gtk-4.1-dev",
    "libssl-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "libxdo-dev",
    "xvfb",
    "xauth",
    "dbus-x11",
    "webkit2gtk-driver",
    "gstreamer1.0-plugins-base",
    "gstreamer1.0-plugins-good",
    "gstreamer1.0-plugins-bad",
    "gstreamer1.0-libav",
    "gstreamer1.0-gl",
    // Standard BitTorrent clients for the interoperability tests.
    "aria2",
    "transmission-cli",
];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = root();
    std::env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("run") => run(&root),
        Some("test") => test(&root),
        Some("bindings") => bindings(),
        Some("bench") => bench(&root),
        Some("setup") => setup(&root, false),
        _ => {
            eprintln!(
                "usage: cargo xtask <run | test | bench | bindings | setup>\n\
                 \n  run       install what is missing, build the UI and the app, start Marquee\
                 \n  test      the same set-up, then fmt, clippy, UI checks and every test (end-to-end included)\
                 \n  bench     run the benchmarks; figures go to target/bench/*.json\
                 \n  bindings  regenerate ui/src/lib/ipc/bindings.ts from the Rust types\
                 \n  setup     only install what is missing and build the UI"
            );
            std::process::exit(2);
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
}

/// Runs a command, echoing it, and fails with its exit status.
fn sh(cmd: &mut Command) -> Result<()> {
    eprintln!("$ {}", display(cmd));
    let status = cmd
        .status()
        .with_context(|| format!("could not start {}", display(cmd)))?;
    if !status.success() {
        bail!("`{}` failed with {status}", display(cmd));
    }
    Ok(())
}

fn display(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn step<T>(name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    eprintln!("\n==> {name}");
    let t = Instant::now();
    let r = f();
    eprintln!("<== {name}: {:.1} s", t.elapsed().as_secs_f64());
    r
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program} >/dev/null 2>&1")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Installs missing system packages (apt-get as root; otherwise prints the line to run), the
/// UI's npm packages and tauri-driver; then builds the UI.
fn setup(root: &Path, for_tests: bool) -> Result<()> {
    step("system packages", install_system_packages)?;
    if for_tests {
        step("tauri-driver", install_tauri_driver)?;
    }
    step("UI packages and build", || build_ui(root))
}

fn install_system_packages() -> Result<()> {
    if !have("dpkg-query") {
        eprintln!(
            "not a Debian/Ubuntu system: install the equivalents of {} yourself",
            APT_PACKAGES.join(" ")
        );
        return Ok(());
    }
    let mut missing: Vec<&str> = APT_PACKAGES
        .iter()
        .copied()
        .filter(|p| {
            let out = Command::new("dpkg-query")
                .args(["-W", "-f=${Status}", p])
                .output();
            !matches!(out, Ok(o) if String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        })
        .collect();
    if !have("npm") {
        missing.extend(["nodejs", "npm"]);
    }
    if missing.is_empty() {
        eprintln!("all {} system packages are installed", APT_PACKAGES.len());
        return Ok(());
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !is_root {
        bail!(
            "these system packages are missing; install them and run again:\n\n    sudo apt-get install -y {}\n",
            missing.join(" ")
        );
    }
    sh(Command::new("apt-get").args(["update", "-qq"]))?;
    sh(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

fn install_tauri_driver() -> Result<()> {
    if have("tauri-driver") || cargo_bin("tauri-driver").exists() {
        eprintln!("tauri-driver is installed");
        return Ok(());
    }
    // crates.io's newest tauri-driver is a 3.0 alpha; stay on 2.x like the rest of Tauri.
    sh(
        Command::new(env!("CARGO")).args([
            "install",
            "tauri-driver",
            "--locked",
            "--version",
            "^2",
        ]),
    )
}

fn cargo_bin(name: &str) -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_default();
    home.join("bin").join(name)
}

fn npm(ui: &Path) -> Command {
    let mut c = Command::new("npm");
    c.current_dir(ui);
    c
}

fn build_ui(root: &Path) -> Result<()> {
    let ui = root.join("ui");
    let stamp = ui.join("node_modules/.package-lock.json");
    let lock = ui.join("package-lock.json");
    let fresh = match (std::fs::metadata(&stamp), std::fs::metadata(&lock)) {
        (Ok(s), Ok(l)) => s.modified()? >= l.modified()?,
        _ => false,
    };
    if !fresh {
        // Not `npm ci`: npm 11 writes lock files without other platforms' optional packages
        // (rollup's native builds) and `npm ci` then refuses them; `--no-save` keeps the lock.
        sh(npm(&ui).args(["install", "--no-audit", "--no-fund", "--no-save"]))?;
    }
    sh(npm(&ui).args(["run", "build"]))
}

fn run(root: &Path) -> Result<()> {
    setup(root, false)?;
    step("build the app", || {
        sh(Command::new(env!("CARGO")).args(["build", "--package", "marquee"]))
    })?;
    let bin = target_dir(root).join("debug").join(exe("marquee"));
    sh(&mut Command::new(bin))
}

fn exe(name: &str) -> String {
    format!("{name}{}", std::env::consts::EXE_SUFFIX)
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

fn test(root: &Path) -> Result<()> {
    let started = Instant::now();
    setup(root, true)?;
    let cargo = env!("CARGO");
    step("cargo fmt --check", || {
        sh(Command::new(cargo).args(["fmt", "--all", "--check"]))
    })?;
    step("UI type check and unit tests", || {
        let ui = root.join("ui");
        sh(npm(&ui).args(["run", "check"]))?;
        sh(npm(&ui).args(["test"]))
    })?;
    step("cargo clippy", || {
        sh(Command::new(cargo).args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    // One build of everything (the app binary with the production `custom-protocol` feature
    // on by default, every test binary); the test run below reuses it.
    step("build once", || {
        sh(Command::new(cargo).args(["build", "--workspace", "--all-targets"]))
    })?;
    step(
        "cargo test (unit, system and end-to-end in a real window)",
        || {
            sh(Command::new(cargo)
                .args(["test", "--workspace", "--all-targets", "--no-fail-fast"])
                .env("MARQUEE_TAURI_DRIVER", tauri_driver_path()))
        },
    )?;
    eprintln!(
        "\nall checks passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn tauri_driver_path() -> PathBuf {
    let installed = cargo_bin("tauri-driver");
    if installed.exists() {
        installed
    } else {
        PathBuf::from("tauri-driver")
    }
}

fn bindings() -> Result<()> {
    sh(Command::new(env!("CARGO"))
        .args([
            "test",
            "--package",
            "marquee-core",
            "--lib",
            "api::tests::committed_typescript_bindings_are_current",
        ])
        .env("MARQUEE_WRITE_BINDINGS", "1"))
}

fn bench(root: &Path) -> Result<()> {
    std::fs::create_dir_all(target_dir(root).join("bench"))?;
    sh(Command::new(env!("CARGO")).args(["bench", "--workspace"]))
}

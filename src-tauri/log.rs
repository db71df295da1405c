//! The app's log: to stderr, and from the moment the profile folder is known, also to
//! `<data folder>/logs/marquee.log` (what a person sends when asking for help; the log never
//! holds secrets: tokens, keys and passwords are not logged anywhere).

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::fmt::MakeWriter;

/// A log file above this size is moved to `marquee.log.1` at start (one old log is kept).
const ROTATE_BYTES: u64 = 8 * 1024 * 1024;

static FILE: OnceLock<Mutex<File>> = OnceLock::new();

/// Starts logging to stderr (`RUST_LOG` filters; quiet librqbit by default), and to the file
/// once [`to_file`] names it (plain text there: no terminal colours).
pub fn init() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,librqbit=warn,librqbit_core=warn".into()),
        )
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(ToFile),
        )
        .init();
}

/// From now on also writes the log to `data_dir/logs/marquee.log` (mode 0600 on Unix).
pub fn to_file(data_dir: &Path) -> std::io::Result<()> {
    let dir = data_dir.join("logs");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("marquee.log");
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > ROTATE_BYTES) {
        std::fs::rename(&path, dir.join("marquee.log.1"))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(&path)?;
    let _ = FILE.set(Mutex::new(file));
    Ok(())
}

/// Writes each log line to the file, once [`to_file`] has run; before that, nowhere.
struct ToFile;

impl<'a> MakeWriter<'a> for ToFile {
    type Writer = FileWriter;

    fn make_writer(&'a self) -> FileWriter {
        FileWriter
    }
}

struct FileWriter;

impl Write for FileWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(file) = FILE.get() {
            // A full disk must not stop the app: the file is best effort.
            let _ = file.lock().map(|mut f| f.write_all(buf));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

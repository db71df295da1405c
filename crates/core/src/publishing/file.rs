//! Publishing a viewer's own video: check that the window can play it, copy it into the app's
//! data folder (the original is only ever opened for reading), make its torrent from the copy,
//! and seed it.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};

use super::probe::{self, MediaInfo};

/// The largest file we publish.
pub const MAX_PUBLISH_BYTES: u64 = 16 * 1024 * 1024 * 1024;

/// Why a file cannot be published, in words.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Not a file.
    #[error("“{0}” is not a file")]
    NotAFile(String),
    /// Empty.
    #[error("“{0}” is empty")]
    Empty(String),
    /// Over the limit.
    #[error("“{name}” is {size_gib:.1} GiB; Marquee publishes videos of up to 16 GiB")]
    TooLarge {
        /// Display name.
        name: String,
        /// Size in GiB.
        size_gib: f64,
    },
    /// Cannot be played.
    #[error("“{name}” cannot be published: {reason}")]
    NotPlayable {
        /// Display name.
        name: String,
        /// The probe's sentence.
        reason: String,
    },
    /// The title's name is empty or too long.
    #[error("a title needs a name of 1 to 200 characters")]
    BadName,
    /// The name to show beside the video is missing or unusable.
    #[error("the video is not published yet: {0}")]
    BadPublisherName(&'static str),
    /// The chosen poster frame is not an image Marquee accepts.
    #[error("the poster cannot be used: {0}")]
    BadPoster(&'static str),
    /// Already published.
    #[error("“{name}” is already published as “{existing}”")]
    Duplicate {
        /// Display name.
        name: String,
        /// The title it duplicates.
        existing: String,
    },
    /// The person cancelled.
    #[error("publishing was cancelled; nothing was kept")]
    Cancelled,
    /// Reading or writing failed.
    #[error("“{name}” could not be copied: {source}")]
    Io {
        /// Display name.
        name: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// A file copied into the app's data folder, checked and hashed, ready to seed.
#[derive(Clone, Debug)]
pub struct PreparedFile {
    /// The copy in the data folder.
    pub path: PathBuf,
    /// A name to start the title from: the file name without its extension.
    pub suggested_name: String,
    /// What the probe found.
    pub media: MediaInfo,
    /// SHA-256 of the copy, hex: the same content published twice is refused.
    pub sha256: String,
    /// Size of the copy.
    pub size: u64,
}

/// The display name of a path, even if it is not valid UTF-8.
pub fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// A title name from a file name: extension dropped, separators turned into spaces.
pub fn suggested_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let cleaned: String = stem
        .chars()
        .map(|c| {
            if c == '_' || c == '.' || c.is_control() {
                ' '
            } else {
                c
            }
        })
        .collect();
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    if words.is_empty() {
        "Untitled video".to_owned()
    } else {
        words.join(" ")
    }
}

/// Checks `source` and copies it to `dir` as `<sha256 prefix>.<ext>`, hashing as it goes.
/// `progress(done, total)` is called as bytes are copied; `cancel` stops the copy, and nothing
/// is left behind. The source is opened read-only.
pub fn prepare(
    source: &Path,
    dir: &Path,
    cancel: &AtomicBool,
    mut progress: impl FnMut(u64, u64),
) -> Result<PreparedFile, PublishError> {
    let name = display_name(source);
    let io = |source: std::io::Error| PublishError::Io {
        name: name.clone(),
        source,
    };
    let meta = std::fs::metadata(source).map_err(io)?;
    if !meta.is_file() {
        return Err(PublishError::NotAFile(name));
    }
    let total = meta.len();
    if total == 0 {
        return Err(PublishError::Empty(name));
    }
    if total > MAX_PUBLISH_BYTES {
        return Err(PublishError::TooLarge {
            name,
            size_gib: total as f64 / (1u64 << 30) as f64,
        });
    }
    let media = probe::probe(source).map_err(|e| PublishError::NotPlayable {
        name: name.clone(),
        reason: e.to_string(),
    })?;
    std::fs::create_dir_all(dir).map_err(io)?;
    let ext = if media.mime == "video/mp4" {
        "mp4"
    } else {
        "webm"
    };
    let partial = dir.join(format!(".partial-{}", uuid::Uuid::new_v4()));
    let result = copy_hashed(source, &partial, &media, total, cancel, &mut progress);
    let (sha, size) = match result {
        Ok(v) => v,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(match e {
                CopyError::Cancelled => PublishError::Cancelled,
                CopyError::Io(e) => io(e),
            });
        }
    };
    let path = dir.join(format!("{}.{ext}", &sha[..16]));
    if path.exists() {
        // The same bytes are already in the data folder: keep the existing copy.
        let _ = std::fs::remove_file(&partial);
    } else {
        std::fs::rename(&partial, &path).map_err(io)?;
    }
    // Probe the copy too: after a faststart re-mux, `needs_faststart` is now false.
    let media = probe::probe(&path).map_err(|e| PublishError::NotPlayable {
        name: name.clone(),
        reason: e.to_string(),
    })?;
    Ok(PreparedFile {
        path,
        suggested_name: suggested_name(source),
        media,
        sha256: sha,
        size,
    })
}

enum CopyError {
    Cancelled,
    Io(std::io::Error),
}

/// A writer that hashes what passes through it.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
    written: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn copy_hashed(
    source: &Path,
    dest: &Path,
    media: &MediaInfo,
    total: u64,
    cancel: &AtomicBool,
    progress: &mut impl FnMut(u64, u64),
) -> Result<(String, u64), CopyError> {
    let out = File::create(dest).map_err(CopyError::Io)?;
    let mut w = Hashing {
        inner: BufWriter::with_capacity(1 << 20, out),
        hash: Sha256::new(),
        written: 0,
    };
    if media.needs_faststart {
        probe::faststart_copy(source, &mut w, |done| {
            progress(done, total);
            !cancel.load(Ordering::Relaxed)
        })
        .map_err(|e| match e {
            _ if cancel.load(Ordering::Relaxed) => CopyError::Cancelled,
            probe::ProbeError::Io(e) => CopyError::Io(e),
            other => CopyError::Io(std::io::Error::other(other.to_string())),
        })?;
    } else {
        let mut r = BufReader::with_capacity(1 << 20, File::open(source).map_err(CopyError::Io)?);
        let mut buf = vec![0u8; 1 << 20];
        let mut done = 0u64;
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Err(CopyError::Cancelled);
            }
            let n = r.read(&mut buf).map_err(CopyError::Io)?;
            if n == 0 {
                break;
            }
            w.write_all(&buf[..n]).map_err(CopyError::Io)?;
            done += n as u64;
            progress(done, total);
        }
    }
    w.flush().map_err(CopyError::Io)?;
    let Hashing {
        inner,
        hash,
        written,
        ..
    } = w;
    let file = inner
        .into_inner()
        .map_err(|e| CopyError::Io(e.into_error()))?;
    file.sync_all().map_err(CopyError::Io)?;
    Ok((hex::encode(hash.finalize()), written))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo(name: &str) -> PathBuf {
        marquee_store::bundled_demo_dir().join("media").join(name)
    }

    #[test]
    fn copies_a_webm_without_touching_the_original() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("My_Holiday.Film.webm");
        std::fs::copy(demo("paper-boats.webm"), &src).unwrap();
        let before = std::fs::metadata(&src).unwrap().modified().unwrap();
        let mut calls = 0;
        let p = prepare(
            &src,
            &dir.path().join("pub"),
            &AtomicBool::new(false),
            |d, t| {
                assert!(d <= t);
                calls += 1;
            },
        )
        .unwrap();
        assert!(calls > 0);
        assert_eq!(p.suggested_name, "My Holiday Film");
        assert_eq!(
            std::fs::read(&p.path).unwrap(),
            std::fs::read(&src).unwrap()
        );
        assert_eq!(std::fs::metadata(&src).unwrap().modified().unwrap(), before);
        assert_eq!(p.media.video_codec, "VP9");
    }

    #[test]
    fn refuses_with_clear_messages_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("pub");
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "not a video").unwrap();
        let e = prepare(&text, &out, &AtomicBool::new(false), |_, _| {}).unwrap_err();
        assert!(
            e.to_string().contains("“notes.txt” cannot be published"),
            "{e}"
        );
        let empty = dir.path().join("empty.webm");
        std::fs::write(&empty, "").unwrap();
        let e = prepare(&empty, &out, &AtomicBool::new(false), |_, _| {}).unwrap_err();
        assert!(matches!(e, PublishError::Empty(_)), "{e}");
        let e = prepare(dir.path(), &out, &AtomicBool::new(false), |_, _| {}).unwrap_err();
        assert!(matches!(e, PublishError::NotAFile(_)), "{e}");
        let e = prepare(
            &dir.path().join("missing.webm"),
            &out,
            &AtomicBool::new(false),
            |_, _| {},
        )
        .unwrap_err();
        assert!(e.to_string().contains("could not be copied"), "{e}");

        let cancel = AtomicBool::new(true);
        let e = prepare(&demo("open-skies.webm"), &out, &cancel, |_, _| {}).unwrap_err();
        assert!(matches!(e, PublishError::Cancelled), "{e}");
        let left: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
        assert!(left.is_empty(), "a cancelled copy leaves nothing behind");
    }

    #[cfg(unix)]
    #[test]
    fn odd_and_non_utf8_names_are_handled() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let odd = dir
            .path()
            .join(std::ffi::OsStr::from_bytes(b"caf\xe9 \xff night.webm"));
        std::fs::copy(demo("paper-boats.webm"), &odd).unwrap();
        let p = prepare(
            &odd,
            &dir.path().join("pub"),
            &AtomicBool::new(false),
            |_, _| {},
        )
        .unwrap();
        assert_eq!(p.suggested_name, "caf\u{fffd} \u{fffd} night");
        assert!(p.path.to_str().is_some(), "the copy has a plain UTF-8 name");
    }

    #[test]
    fn a_moov_last_mp4_is_made_streamable_in_the_copy() {
        let dir = tempfile::tempdir().unwrap();
        let src =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/h264-aac-moov-last.mp4");
        let p = prepare(&src, dir.path(), &AtomicBool::new(false), |_, _| {}).unwrap();
        assert!(!p.media.needs_faststart);
        assert_eq!(p.media.mime, "video/mp4");
    }
}

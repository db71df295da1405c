//! Posters and backdrops: fetched from the store once, kept in the profile (`art/`) and served
//! to the window by the loopback playback server (`/TOKEN/art/NAME`). The window's CSP allows
//! images from loopback only, so a store on a network reaches the page this way or not at all;
//! and offline the storefront keeps its pictures.
//!
//! The window asks for a poster at the width it shows it (`?w=180`): a copy shrunk to one of
//! [`WIDTHS`] is made once and kept beside the original, so the page decodes what it shows.
//!
//! Only images are kept: an answer that is not a JPEG, PNG or WebP, or is larger than
//! [`MAX_BYTES`], is refused and not cached, so the store (or anyone between) cannot make the
//! page load something else from the playback origin.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{OnceLock, RwLock};

use bytes::Bytes;
use marquee_protocol::StoreClient;
use sha2::{Digest, Sha256};

/// The largest picture kept.
pub const MAX_BYTES: usize = 8 * 1024 * 1024;

/// The store's pictures, cached.
pub(crate) struct Art {
    store: StoreClient,
    dir: PathBuf,
    /// `http://127.0.0.1:PORT/TOKEN/art/`, once the playback server serves art.
    base: OnceLock<String>,
    /// Which store path each name stands for, learnt as titles are shown this run.
    paths: RwLock<HashMap<String, String>>,
    /// One picture shrunk at a time: a storefront's first screen asks for a few dozen at once,
    /// and on two cores they would take the one the page paints with.
    shrinking: tokio::sync::Semaphore,
}

impl Art {
    pub(crate) fn new(store: StoreClient, dir: PathBuf) -> Art {
        Art {
            store,
            dir,
            base: OnceLock::new(),
            paths: RwLock::default(),
            shrinking: tokio::sync::Semaphore::new(1),
        }
    }

    /// Art is served from `base` from now on.
    pub(crate) fn serve_from(&self, base: String) {
        let _ = self.base.set(base);
    }

    /// The URL the window loads a store picture from (`path` as the feed names it, e.g.
    /// `/media/neon-harbor.jpg`). Before the playback server serves art: the store's own URL.
    pub(crate) fn url(&self, path: &str) -> String {
        let Some(base) = self.base.get() else {
            return format!("{}{path}", self.store.base());
        };
        let name = name_of(self.store.base(), path);
        self.paths
            .write()
            .expect("art lock")
            .insert(name.clone(), path.to_owned());
        format!("{base}{name}")
    }

    /// A picture by name, with its content type: from the profile, else fetched from the store
    /// and kept. `None` for a name this run has not shown, or a store that does not answer
    /// for one not kept yet.
    pub(crate) async fn get(&self, name: &str) -> Option<(Bytes, &'static str)> {
        if !valid_name(name) {
            return None;
        }
        let file = self.dir.join(name);
        if let Ok(bytes) = tokio::fs::read(&file).await {
            if let Some(kind) = image_type(&bytes) {
                return Some((Bytes::from(bytes), kind));
            }
        }
        let path = self.paths.read().expect("art lock").get(name).cloned()?;
        let bytes = match self.store.asset(&path, MAX_BYTES).await {
            Ok(b) => b,
            Err(e) => {
                tracing::debug!(%path, error = %e, "no picture");
                return None;
            }
        };
        let Some(kind) = image_type(&bytes) else {
            tracing::warn!(%path, "the store's picture is not an image; not shown");
            return None;
        };
        if let Err(e) = keep(&self.dir, name, &bytes).await {
            tracing::warn!(%path, error = %e, "keeping a picture");
        }
        Some((bytes, kind))
    }

    /// A picture by name at about `width` pixels wide (see [`WIDTHS`]): made once from the
    /// kept original, shrunk and kept beside it as a JPEG, so the window decodes a poster at
    /// the size it shows it rather than the store's full size. A picture no wider than asked
    /// is the original.
    pub(crate) async fn get_sized(&self, name: &str, width: u32) -> Option<(Bytes, &'static str)> {
        let Some(width) = WIDTHS.iter().copied().find(|w| *w >= width) else {
            return self.get(name).await;
        };
        if !valid_name(name) {
            return None;
        }
        let sized = sized_name(name, width);
        if let Ok(bytes) = tokio::fs::read(self.dir.join(&sized)).await {
            if let Some(kind) = image_type(&bytes) {
                return Some((Bytes::from(bytes), kind));
            }
        }
        let (original, kind) = self.get(name).await?;
        let _turn = self.shrinking.acquire().await.ok()?;
        // Another request for the same picture may have made it while this one waited.
        if let Ok(bytes) = tokio::fs::read(self.dir.join(&sized)).await {
            if let Some(kind) = image_type(&bytes) {
                return Some((Bytes::from(bytes), kind));
            }
        }
        let source = original.clone();
        let shrunk = tokio::task::spawn_blocking(move || shrink(&source, width))
            .await
            .ok()
            .flatten();
        // Kept either way: a picture already small enough is not decoded again for this width.
        let (bytes, kind) = match shrunk {
            Some(jpeg) => (Bytes::from(jpeg), "image/jpeg"),
            None => (original, kind),
        };
        if let Err(e) = keep(&self.dir, &sized, &bytes).await {
            tracing::warn!(error = %e, "keeping a shrunk picture");
        }
        Some((bytes, kind))
    }
}

/// Written whole or not at all: a picture cut short by a crash is never served.
async fn keep(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let tmp = dir.join(format!(".{name}.{}", std::process::id()));
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, dir.join(name)).await
}

/// The widths pictures are shrunk to, in pixels: the smallest at least as wide as asked is
/// served. A few sizes, not one per request, so each is made once and cached (by the window
/// too).
pub const WIDTHS: [u32; 5] = [180, 360, 540, 720, 1080];

/// The largest picture decoded, in pixels a side; anything bigger is served as it is.
const MAX_SIDE: u32 = 8192;

/// The file a picture's shrunk copy is kept in: `HASH.w360.img`.
fn sized_name(name: &str, width: u32) -> String {
    format!("{}.w{width}.img", name.trim_end_matches(".img"))
}

/// `bytes` (a JPEG, PNG or WebP) `width` pixels wide, as a JPEG; `None` when it is no wider
/// than that already, or cannot be read. The decoder is bounded (side and memory), so a
/// picture made to exhaust memory is refused rather than decoded.
fn shrink(bytes: &[u8], width: u32) -> Option<Vec<u8>> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .ok()?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let picture = reader.decode().ok()?;
    if picture.width() <= width {
        return None;
    }
    let height =
        (u64::from(picture.height()) * u64::from(width) / u64::from(picture.width())).max(1) as u32;
    // Box-filtered (`thumbnail`): fast, and what a downscale by two or more needs.
    let small = picture.thumbnail_exact(width, height).to_rgb8();
    let mut out = Vec::with_capacity(small.len() / 8);
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&small)
        .ok()?;
    Some(out)
}

/// A picture's name: a hash of the store and the path (the same path on another store is
/// another picture), and an image extension.
fn name_of(store: &str, path: &str) -> String {
    let digest = Sha256::digest(format!("{store}{path}").as_bytes());
    format!("{}.img", hex::encode(&digest[..16]))
}

/// 32 hex digits and `.img`: nothing else is looked up on disk.
fn valid_name(name: &str) -> bool {
    name.strip_suffix(".img")
        .is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The content type of a JPEG, PNG or WebP by its first bytes; `None` for anything else.
fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.len() > MAX_BYTES {
        return None;
    }
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n', ..] => Some("image/png"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_images_and_only_our_names() {
        assert_eq!(image_type(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_type(b"<svg onload=alert(1)>"), None);
        assert_eq!(image_type(b"<html>"), None);
        let n = name_of("http://127.0.0.1:1", "/media/a.jpg");
        assert!(valid_name(&n), "{n}");
        assert_ne!(n, name_of("http://127.0.0.1:2", "/media/a.jpg"));
        for bad in ["../library.db", "a.img", &n.replace(".img", ".db"), ""] {
            assert!(!valid_name(bad), "{bad}");
        }
        assert!(
            !valid_name(&sized_name(&n, 180)),
            "a shrunk copy is not asked for by name"
        );
    }

    /// A poster-sized PNG (480×720, a gradient so it is not one colour).
    fn poster_png() -> Vec<u8> {
        let picture = image::RgbImage::from_fn(480, 720, |x, y| {
            image::Rgb([(x / 2) as u8, (y / 3) as u8, 90])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        picture.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn pictures_shrink_to_the_width_asked_and_never_grow() {
        let png = poster_png();
        let small = shrink(&png, 180).expect("shrunk");
        assert_eq!(image_type(&small), Some("image/jpeg"));
        let decoded = image::load_from_memory(&small).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (180, 270));
        assert_eq!(shrink(&png, 480), None, "no wider than asked: the original");
        assert_eq!(shrink(&png, 720), None);
        assert_eq!(shrink(b"\x89PNG\r\n\x1a\nnot really", 180), None);
    }

    #[test]
    fn a_picture_made_to_exhaust_memory_is_not_decoded() {
        // A PNG header claiming 60,000 × 60,000 pixels (14 GB decoded), and nothing else.
        let mut bomb = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        bomb.extend_from_slice(&60_000u32.to_be_bytes());
        bomb.extend_from_slice(&60_000u32.to_be_bytes());
        bomb.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(shrink(&bomb, 180), None);
    }
}

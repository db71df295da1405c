//! Posters and backdrops: fetched from the store once, kept in the profile (`art/`) and served
//! to the window by the loopback playback server (`/TOKEN/art/NAME`). The window's CSP allows
//! images from loopback only, so a store on a network reaches the page this way or not at all;
//! and offline the storefront keeps its pictures.
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
}

impl Art {
    pub(crate) fn new(store: StoreClient, dir: PathBuf) -> Art {
        Art {
            store,
            dir,
            base: OnceLock::new(),
            paths: RwLock::default(),
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
}

/// Written whole or not at all: a picture cut short by a crash is never served.
async fn keep(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let tmp = dir.join(format!(".{name}.{}", std::process::id()));
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, dir.join(name)).await
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
    }
}

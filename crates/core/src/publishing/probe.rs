//! Checks that a file is a video the window can play, without ffmpeg: WebM (Matroska) with
//! VP8, VP9 or AV1 video and Opus or Vorbis audio, or MP4 with H.264 video and AAC audio.
//! Reads only the file's headers (EBML elements up to the first cluster; MP4 boxes up to `moov`).
//!
//! MP4s whose `moov` box sits after the media data cannot start playing until their tail has
//! downloaded; [`faststart_copy`] rewrites them with `moov` first while copying.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// What a probe learnt about a playable file.
#[derive(Clone, Debug, PartialEq)]
pub struct MediaInfo {
    /// `video/webm` or `video/mp4`.
    pub mime: &'static str,
    /// Video codec, e.g. "VP9", "H.264".
    pub video_codec: String,
    /// Audio codec, if the file has sound.
    pub audio_codec: Option<String>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Duration in seconds, when the header says.
    pub duration_s: Option<f64>,
    /// For MP4: true when `moov` comes after the media data and must be moved first.
    pub needs_faststart: bool,
}

/// Why a file is refused: each message names the problem in words.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// Neither WebM nor MP4.
    #[error("this is not a video Marquee can play: only WebM (VP8, VP9, AV1) and MP4 (H.264 with AAC) files can be published")]
    UnknownFormat,
    /// A known container with a codec the window cannot decode.
    #[error("this {container} uses {codec}, which Marquee cannot play; re-export it as WebM (VP9 or AV1) or MP4 (H.264 with AAC)")]
    UnsupportedCodec {
        /// WebM or MP4.
        container: &'static str,
        /// The codec found.
        codec: String,
    },
    /// No video track.
    #[error("this file has no video track")]
    NoVideo,
    /// The headers are damaged.
    #[error("this file looks damaged: {0}")]
    Damaged(&'static str),
    /// Reading failed.
    #[error("the file could not be read: {0}")]
    Io(#[from] std::io::Error),
}

/// Probes a file.
pub fn probe(path: &Path) -> Result<MediaInfo, ProbeError> {
    let mut f = File::open(path)?;
    let mut magic = [0u8; 12];
    let n = read_up_to(&mut f, &mut magic)?;
    f.seek(SeekFrom::Start(0))?;
    if n >= 4 && magic[..4] == [0x1A, 0x45, 0xDF, 0xA3] {
        return probe_webm(&mut f);
    }
    if n >= 8 && &magic[4..8] == b"ftyp" {
        return probe_mp4(&mut f);
    }
    Err(ProbeError::UnknownFormat)
}

fn read_up_to(f: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

// ---- WebM / Matroska -------------------------------------------------------------------------

/// How much of a WebM file's start we read: Tracks sit before the first Cluster, well within.
const WEBM_HEAD: usize = 4 * 1024 * 1024;

const EBML: u32 = 0x1A45_DFA3;
const DOCTYPE: u32 = 0x4282;
const SEGMENT: u32 = 0x1853_8067;
const INFO: u32 = 0x1549_A966;
const TIMECODE_SCALE: u32 = 0x2A_D7B1;
const DURATION: u32 = 0x4489;
const TRACKS: u32 = 0x1654_AE6B;
const TRACK_ENTRY: u32 = 0xAE;
const TRACK_TYPE: u32 = 0x83;
const CODEC_ID: u32 = 0x86;
const VIDEO: u32 = 0xE0;
const PIXEL_WIDTH: u32 = 0xB0;
const PIXEL_HEIGHT: u32 = 0xBA;
const CLUSTER: u32 = 0x1F43_B675;

struct Ebml<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Ebml<'a> {
    fn id(&mut self) -> Option<u32> {
        let first = *self.buf.get(self.pos)?;
        let len = first.leading_zeros() as usize + 1;
        if len > 4 {
            return None;
        }
        let bytes = self.buf.get(self.pos..self.pos + len)?;
        self.pos += len;
        Some(bytes.iter().fold(0u32, |acc, b| acc << 8 | *b as u32))
    }

    /// An element size; `None` inside `Some` means "unknown size".
    fn size(&mut self) -> Option<Option<u64>> {
        let first = *self.buf.get(self.pos)?;
        let len = first.leading_zeros() as usize + 1;
        if len > 8 {
            return None;
        }
        let bytes = self.buf.get(self.pos..self.pos + len)?;
        self.pos += len;
        let mask = if len == 8 { 0 } else { 0xFFu8 >> len };
        let mut v = (bytes[0] & mask) as u64;
        let mut all_ones = bytes[0] & mask == mask;
        for b in &bytes[1..] {
            v = v << 8 | *b as u64;
            all_ones &= *b == 0xFF;
        }
        Some(if all_ones { None } else { Some(v) })
    }

    /// Reads the next element header: (id, start of data, end of data).
    fn element(&mut self, parent_end: usize) -> Option<(u32, usize, usize)> {
        if self.pos >= parent_end {
            return None;
        }
        let id = self.id()?;
        let size = self.size()?;
        let start = self.pos;
        let end = match size {
            Some(s) => start.checked_add(s as usize)?.min(parent_end),
            None => parent_end,
        };
        Some((id, start, end))
    }
}

fn uint(b: &[u8]) -> u64 {
    b.iter().take(8).fold(0u64, |acc, x| acc << 8 | *x as u64)
}

fn float(b: &[u8]) -> Option<f64> {
    match b.len() {
        4 => Some(f32::from_be_bytes(b.try_into().ok()?) as f64),
        8 => Some(f64::from_be_bytes(b.try_into().ok()?)),
        _ => None,
    }
}

fn probe_webm(f: &mut File) -> Result<MediaInfo, ProbeError> {
    let mut buf = vec![0u8; WEBM_HEAD];
    let n = read_up_to(f, &mut buf)?;
    buf.truncate(n);
    let mut r = Ebml { buf: &buf, pos: 0 };
    let (id, start, end) = r
        .element(buf.len())
        .ok_or(ProbeError::Damaged("no EBML header"))?;
    if id != EBML {
        return Err(ProbeError::UnknownFormat);
    }
    let mut doctype = String::new();
    r.pos = start;
    while let Some((id, s, e)) = r.element(end) {
        if id == DOCTYPE {
            doctype = String::from_utf8_lossy(&buf[s..e])
                .trim_end_matches('\0')
                .to_owned();
        }
        r.pos = e;
    }
    if doctype != "webm" && doctype != "matroska" {
        return Err(ProbeError::UnknownFormat);
    }
    r.pos = end;
    let (id, seg_start, seg_end) = r
        .element(buf.len())
        .ok_or(ProbeError::Damaged("no segment"))?;
    if id != SEGMENT {
        return Err(ProbeError::Damaged("no segment"));
    }

    let mut scale = 1_000_000u64;
    let mut duration = None;
    let mut video: Option<(String, u32, u32)> = None;
    let mut audio: Option<String> = None;
    let mut saw_tracks = false;
    r.pos = seg_start;
    while let Some((id, s, e)) = r.element(seg_end) {
        match id {
            INFO => {
                let mut i = Ebml { buf: &buf, pos: s };
                while let Some((id, s2, e2)) = i.element(e) {
                    match id {
                        TIMECODE_SCALE => scale = uint(&buf[s2..e2]),
                        DURATION => duration = float(&buf[s2..e2]),
                        _ => {}
                    }
                    i.pos = e2;
                }
            }
            TRACKS => {
                saw_tracks = true;
                let mut t = Ebml { buf: &buf, pos: s };
                while let Some((id, s2, e2)) = t.element(e) {
                    if id == TRACK_ENTRY {
                        let (kind, codec, w, h) = track_entry(&buf, s2, e2);
                        match kind {
                            1 if video.is_none() => video = Some((codec, w, h)),
                            2 if audio.is_none() => audio = Some(codec),
                            _ => {}
                        }
                    }
                    t.pos = e2;
                }
            }
            CLUSTER => break,
            _ => {}
        }
        r.pos = e;
    }
    if !saw_tracks {
        return Err(ProbeError::Damaged(
            "no track list near the start of the file",
        ));
    }
    let (vcodec, width, height) = video.ok_or(ProbeError::NoVideo)?;
    let video_codec = match vcodec.as_str() {
        "V_VP8" => "VP8",
        "V_VP9" => "VP9",
        "V_AV1" => "AV1",
        other => {
            return Err(ProbeError::UnsupportedCodec {
                container: "WebM file",
                codec: other.trim_start_matches("V_").to_owned(),
            })
        }
    };
    let audio_codec = match audio.as_deref() {
        None => None,
        Some("A_OPUS") => Some("Opus".to_owned()),
        Some("A_VORBIS") => Some("Vorbis".to_owned()),
        Some(other) => {
            return Err(ProbeError::UnsupportedCodec {
                container: "WebM file",
                codec: other.trim_start_matches("A_").to_owned(),
            })
        }
    };
    Ok(MediaInfo {
        mime: "video/webm",
        video_codec: video_codec.to_owned(),
        audio_codec,
        width,
        height,
        duration_s: duration.map(|d| d * scale as f64 / 1e9),
        needs_faststart: false,
    })
}

fn track_entry(buf: &[u8], start: usize, end: usize) -> (u64, String, u32, u32) {
    let mut r = Ebml { buf, pos: start };
    let (mut kind, mut codec, mut w, mut h) = (0, String::new(), 0, 0);
    while let Some((id, s, e)) = r.element(end) {
        match id {
            TRACK_TYPE => kind = uint(&buf[s..e]),
            CODEC_ID => {
                codec = String::from_utf8_lossy(&buf[s..e])
                    .trim_end_matches('\0')
                    .to_owned()
            }
            VIDEO => {
                let mut v = Ebml { buf, pos: s };
                while let Some((id, s2, e2)) = v.element(e) {
                    match id {
                        PIXEL_WIDTH => w = uint(&buf[s2..e2]) as u32,
                        PIXEL_HEIGHT => h = uint(&buf[s2..e2]) as u32,
                        _ => {}
                    }
                    v.pos = e2;
                }
            }
            _ => {}
        }
        r.pos = e;
    }
    (kind, codec, w, h)
}

// ---- MP4 --------------------------------------------------------------------------------------

/// A box header: type, offset of the box, header length and total length.
#[derive(Clone, Copy, Debug)]
struct Mp4Box {
    kind: [u8; 4],
    offset: u64,
    header: u64,
    len: u64,
}

/// Lists the top-level boxes of an MP4 file.
fn top_level_boxes(f: &mut File) -> Result<Vec<Mp4Box>, ProbeError> {
    let file_len = f.metadata()?.len();
    let mut boxes = Vec::new();
    let mut pos = 0u64;
    while pos + 8 <= file_len {
        f.seek(SeekFrom::Start(pos))?;
        let mut h = [0u8; 16];
        let n = read_up_to(f, &mut h)?;
        if n < 8 {
            break;
        }
        let size32 = u32::from_be_bytes(h[..4].try_into().expect("4 bytes")) as u64;
        let kind: [u8; 4] = h[4..8].try_into().expect("4 bytes");
        let (header, len) = match size32 {
            0 => (8, file_len - pos),
            1 if n >= 16 => (
                16,
                u64::from_be_bytes(h[8..16].try_into().expect("8 bytes")),
            ),
            1 => return Err(ProbeError::Damaged("truncated box header")),
            s => (8, s),
        };
        if len < header || pos + len > file_len {
            return Err(ProbeError::Damaged("a box runs past the end of the file"));
        }
        boxes.push(Mp4Box {
            kind,
            offset: pos,
            header,
            len,
        });
        pos += len;
    }
    Ok(boxes)
}

/// Child boxes within `buf[start..end]`: (type, data start, end).
fn children(buf: &[u8], start: usize, end: usize) -> Vec<([u8; 4], usize, usize)> {
    let mut out = Vec::new();
    let mut pos = start;
    while pos + 8 <= end {
        let size = u32::from_be_bytes(buf[pos..pos + 4].try_into().expect("4 bytes")) as usize;
        let kind: [u8; 4] = buf[pos + 4..pos + 8].try_into().expect("4 bytes");
        let (header, len) = match size {
            0 => (8, end - pos),
            1 if pos + 16 <= end => (
                16,
                u64::from_be_bytes(buf[pos + 8..pos + 16].try_into().expect("8 bytes")) as usize,
            ),
            s => (8, s),
        };
        if len < header || pos + len > end {
            break;
        }
        out.push((kind, pos + header, pos + len));
        pos += len;
    }
    out
}

fn find<'b>(
    list: &'b [([u8; 4], usize, usize)],
    kind: &[u8; 4],
) -> Option<&'b ([u8; 4], usize, usize)> {
    list.iter().find(|(k, _, _)| k == kind)
}

/// At most this much `moov` is read into memory (real files have a few MB at most).
const MAX_MOOV: u64 = 64 * 1024 * 1024;

fn read_moov(f: &mut File, boxes: &[Mp4Box]) -> Result<(Mp4Box, Vec<u8>), ProbeError> {
    let moov = *boxes
        .iter()
        .find(|b| &b.kind == b"moov")
        .ok_or(ProbeError::Damaged("no movie header (moov)"))?;
    if moov.len > MAX_MOOV {
        return Err(ProbeError::Damaged("the movie header is implausibly large"));
    }
    f.seek(SeekFrom::Start(moov.offset))?;
    let mut buf = vec![0u8; moov.len as usize];
    f.read_exact(&mut buf)?;
    Ok((moov, buf))
}

fn probe_mp4(f: &mut File) -> Result<MediaInfo, ProbeError> {
    let boxes = top_level_boxes(f)?;
    let (moov, buf) = read_moov(f, &boxes)?;
    let mdat = boxes.iter().find(|b| &b.kind == b"mdat");
    let needs_faststart = mdat.is_some_and(|m| m.offset < moov.offset);
    let top = children(&buf, moov.header as usize, buf.len());
    let mut duration_s = None;
    if let Some((_, s, e)) = find(&top, b"mvhd") {
        let d = &buf[*s..*e];
        duration_s = match d.first() {
            Some(1) if d.len() >= 32 => {
                let scale = u32::from_be_bytes(d[20..24].try_into().expect("4")) as f64;
                let dur = u64::from_be_bytes(d[24..32].try_into().expect("8")) as f64;
                (scale > 0.0).then(|| dur / scale)
            }
            Some(0) if d.len() >= 20 => {
                let scale = u32::from_be_bytes(d[12..16].try_into().expect("4")) as f64;
                let dur = u32::from_be_bytes(d[16..20].try_into().expect("4")) as f64;
                (scale > 0.0).then(|| dur / scale)
            }
            _ => None,
        };
    }
    let mut video: Option<(String, u32, u32)> = None;
    let mut audio: Option<String> = None;
    for (kind, s, e) in &top {
        if kind != b"trak" {
            continue;
        }
        let trak = children(&buf, *s, *e);
        let Some((_, ms, me)) = find(&trak, b"mdia") else {
            continue;
        };
        let mdia = children(&buf, *ms, *me);
        let handler =
            find(&mdia, b"hdlr").and_then(|(_, hs, he)| buf.get(hs + 8..(hs + 12).min(*he)));
        let Some((_, ns, ne)) = find(&mdia, b"minf") else {
            continue;
        };
        let minf = children(&buf, *ns, *ne);
        let Some((_, ss, se)) = find(&minf, b"stbl") else {
            continue;
        };
        let stbl = children(&buf, *ss, *se);
        let Some((_, ds, de)) = find(&stbl, b"stsd") else {
            continue;
        };
        // stsd: version/flags (4), entry count (4), then sample entries (boxes).
        let entries = children(&buf, (ds + 8).min(*de), *de);
        let Some((codec, es, ee)) = entries.first() else {
            continue;
        };
        let codec = String::from_utf8_lossy(codec).into_owned();
        match handler {
            Some(b"vide") if video.is_none() => {
                // VisualSampleEntry: 6 reserved + 2 index + 16 pre-defined, then width, height.
                let (w, h) = match buf.get(es + 24..(es + 28).min(*ee)) {
                    Some(d) if d.len() == 4 => (
                        u16::from_be_bytes([d[0], d[1]]) as u32,
                        u16::from_be_bytes([d[2], d[3]]) as u32,
                    ),
                    _ => (0, 0),
                };
                video = Some((codec, w, h));
            }
            Some(b"soun") if audio.is_none() => audio = Some(codec),
            _ => {}
        }
    }
    let (vcodec, width, height) = video.ok_or(ProbeError::NoVideo)?;
    if vcodec != "avc1" && vcodec != "avc3" {
        return Err(ProbeError::UnsupportedCodec {
            container: "MP4 file",
            codec: match vcodec.as_str() {
                "hvc1" | "hev1" => "H.265 (HEVC)".to_owned(),
                other => other.to_owned(),
            },
        });
    }
    let audio_codec = match audio.as_deref() {
        None => None,
        Some("mp4a") => Some("AAC".to_owned()),
        Some(other) => {
            return Err(ProbeError::UnsupportedCodec {
                container: "MP4 file",
                codec: other.to_owned(),
            })
        }
    };
    Ok(MediaInfo {
        mime: "video/mp4",
        video_codec: "H.264".to_owned(),
        audio_codec,
        width,
        height,
        duration_s,
        needs_faststart,
    })
}

/// Copies an MP4 with its `moov` box moved to the front (after `ftyp`), shifting every chunk
/// offset (`stco`/`co64`) by the size of `moov`, so playback can start from the first bytes.
/// `progress` gets the bytes written so far; returning `false` from it cancels the copy.
pub fn faststart_copy(
    src: &Path,
    dst: &mut impl Write,
    mut progress: impl FnMut(u64) -> bool,
) -> Result<u64, ProbeError> {
    let mut f = File::open(src)?;
    let boxes = top_level_boxes(&mut f)?;
    let (moov, mut buf) = read_moov(&mut f, &boxes)?;
    let shift = moov.len;
    patch_chunk_offsets(&mut buf, moov.header as usize, shift)?;
    let mut written = 0u64;
    let mut copy_box = |f: &mut File, b: &Mp4Box, dst: &mut dyn Write| -> Result<(), ProbeError> {
        f.seek(SeekFrom::Start(b.offset))?;
        let mut left = b.len;
        let mut chunk = vec![0u8; 1 << 20];
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            f.read_exact(&mut chunk[..n])?;
            dst.write_all(&chunk[..n])?;
            left -= n as u64;
            written += n as u64;
            if !progress(written) {
                return Err(ProbeError::Io(std::io::Error::new(
                    std::io::ErrorKind::Interrupted,
                    "cancelled",
                )));
            }
        }
        Ok(())
    };
    let ftyp = boxes.iter().position(|b| &b.kind == b"ftyp").unwrap_or(0);
    for (i, b) in boxes.iter().enumerate() {
        if i == ftyp {
            copy_box(&mut f, b, dst)?;
            dst.write_all(&buf)?;
        } else if &b.kind != b"moov" {
            copy_box(&mut f, b, dst)?;
        }
    }
    Ok(written + buf.len() as u64)
}

/// Adds `shift` to every entry of every `stco` and `co64` box inside `moov`.
fn patch_chunk_offsets(buf: &mut [u8], start: usize, shift: u64) -> Result<(), ProbeError> {
    let end = buf.len();
    patch_chunk_offsets_in(buf, start, end, shift)
}

fn patch_chunk_offsets_in(
    buf: &mut [u8],
    start: usize,
    end: usize,
    shift: u64,
) -> Result<(), ProbeError> {
    for (kind, s, e) in children(buf, start, end) {
        match &kind {
            b"trak" | b"mdia" | b"minf" | b"stbl" => patch_chunk_offsets_in(buf, s, e, shift)?,
            b"stco" | b"co64" => {
                let wide = &kind == b"co64";
                let count = u32::from_be_bytes(
                    buf.get(s + 4..s + 8)
                        .ok_or(ProbeError::Damaged("short chunk offset table"))?
                        .try_into()
                        .expect("4"),
                ) as usize;
                let width = if wide { 8 } else { 4 };
                if s + 8 + count * width > e {
                    return Err(ProbeError::Damaged("short chunk offset table"));
                }
                for i in 0..count {
                    let at = s + 8 + i * width;
                    if wide {
                        let v = u64::from_be_bytes(buf[at..at + 8].try_into().expect("8")) + shift;
                        buf[at..at + 8].copy_from_slice(&v.to_be_bytes());
                    } else {
                        let v = u32::from_be_bytes(buf[at..at + 4].try_into().expect("4")) as u64
                            + shift;
                        let v = u32::try_from(v).map_err(|_| {
                            ProbeError::Damaged("chunk offsets overflow; export with fast start")
                        })?;
                        buf[at..at + 4].copy_from_slice(&v.to_be_bytes());
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    #[test]
    fn demo_webm_is_vp9_with_opus() {
        let info =
            probe(&marquee_store::bundled_demo_dir().join("media/neon-harbor.webm")).unwrap();
        assert_eq!(info.mime, "video/webm");
        assert_eq!(info.video_codec, "VP9");
        assert_eq!(info.audio_codec.as_deref(), Some("Opus"));
        assert_eq!((info.width, info.height), (1280, 720));
        let d = info.duration_s.unwrap();
        assert!((33.0..36.0).contains(&d), "{d}");
    }

    #[test]
    fn mp4_h264_aac_is_accepted_and_moov_position_is_seen() {
        let fast = probe(&fixture("h264-aac-faststart.mp4")).unwrap();
        assert_eq!(fast.mime, "video/mp4");
        assert_eq!(fast.video_codec, "H.264");
        assert_eq!(fast.audio_codec.as_deref(), Some("AAC"));
        assert_eq!((fast.width, fast.height), (320, 180));
        assert!(!fast.needs_faststart);
        assert!(
            probe(&fixture("h264-aac-moov-last.mp4"))
                .unwrap()
                .needs_faststart
        );
    }

    #[test]
    fn faststart_copy_matches_ffmpeg_faststart() {
        let mut out = Vec::new();
        let mut calls = 0;
        faststart_copy(&fixture("h264-aac-moov-last.mp4"), &mut out, |_| {
            calls += 1;
            true
        })
        .unwrap();
        assert!(calls > 0);
        // ffmpeg's `-movflags +faststart` makes the same layout: ftyp, moov, then the rest.
        let reference = std::fs::read(fixture("h264-aac-faststart.mp4")).unwrap();
        assert_eq!(out.len(), reference.len());
        assert!(
            out == reference,
            "byte-identical to ffmpeg's faststart output"
        );
        // Cancelling stops the copy with an error.
        let e = faststart_copy(&fixture("h264-aac-moov-last.mp4"), &mut Vec::new(), |_| {
            false
        });
        assert!(e.is_err());
    }

    #[test]
    fn other_formats_and_codecs_are_refused_by_name() {
        let e = probe(&fixture("hevc.mp4")).unwrap_err();
        assert!(e.to_string().contains("H.265"), "{e}");
        let e = probe(&fixture("mpeg4.avi")).unwrap_err();
        assert!(matches!(e, ProbeError::UnknownFormat), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.webm");
        std::fs::write(&text, b"hello, not a video").unwrap();
        assert!(matches!(
            probe(&text).unwrap_err(),
            ProbeError::UnknownFormat
        ));
        let cut = dir.path().join("cut.webm");
        let head = std::fs::read(marquee_store::bundled_demo_dir().join("media/neon-harbor.webm"))
            .unwrap();
        std::fs::write(&cut, &head[..40]).unwrap();
        assert!(probe(&cut).is_err());
    }
}

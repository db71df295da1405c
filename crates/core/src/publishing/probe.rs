//! Checks that a file is a video the window can play, without ffmpeg: WebM (Matroska) with
//! VP8, VP9 or AV1 video and Opus or Vorbis audio, or MP4 with H.264 video and AAC audio.
//! Reads only the file's headers (EBML elements up to the first cluster; MP4 boxes up to `moov`).
//!
//! MP4s whose `moov` box sits after the media data cannot start playing until their tail has
//! downloaded; [`faststart_copy`] rewrites them with `moov` first while copying.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use marquee_ebml as ebml;

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
    probe_reader(&mut File::open(path)?)
}

/// Probes a file given as any seekable reader, from its first byte (the fuzzer feeds a
/// `Cursor`). Reads at most the first 4 MiB of a WebM file and at most the box headers and
/// `moov` of an MP4 file.
pub fn probe_reader<R: Read + Seek>(r: &mut R) -> Result<MediaInfo, ProbeError> {
    r.seek(SeekFrom::Start(0))?;
    let mut magic = [0u8; 12];
    let n = read_up_to(r, &mut magic)?;
    r.seek(SeekFrom::Start(0))?;
    if n >= 4 && magic[..4] == [0x1A, 0x45, 0xDF, 0xA3] {
        return probe_webm(r);
    }
    if n >= 8 && &magic[4..8] == b"ftyp" {
        return probe_mp4(r);
    }
    Err(ProbeError::UnknownFormat)
}

fn read_up_to(f: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

// ---- WebM / Matroska -------------------------------------------------------------------------

/// How much of a WebM file's start we read: Tracks sit before the first Cluster, well within.
const WEBM_HEAD: u64 = 4 * 1024 * 1024;

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

/// The refusal for headers cut off by the end of the file.
const WEBM_CUT: ProbeError = ProbeError::Damaged("the file ends in the middle of its headers");
/// The refusal for headers cut off by the end of what is read.
const WEBM_TOO_LONG: ProbeError =
    ProbeError::Damaged("its headers do not fit in the first 4 MiB of the file");

/// The EBML reader's refusals in the probe's words: what the person publishing can act on,
/// without the byte offset.
impl From<ebml::Error> for ProbeError {
    fn from(e: ebml::Error) -> ProbeError {
        ProbeError::Damaged(match e {
            ebml::Error::HeaderCut { .. } => {
                "an element's header runs past the end of the element that holds it"
            }
            ebml::Error::IdTooLong { .. } => {
                "an element ID is longer than the four bytes EBML allows"
            }
            // The probe reads no vint but IDs and sizes.
            ebml::Error::VintTooLong { .. } => {
                "an element size is longer than the eight bytes EBML allows"
            }
            ebml::Error::PastParent { .. } => {
                "an element runs past the end of the element that holds it"
            }
            ebml::Error::UnknownSize { .. } => "an element that holds a value has no size",
            ebml::Error::IntegerTooLong { .. } => {
                "a number in its headers is longer than eight bytes"
            }
            ebml::Error::FloatSize { .. } => {
                "a number in its headers is a float of neither 4 nor 8 bytes"
            }
        })
    }
}

/// One EBML element as the probe sees it: its data always lies within the buffer.
#[derive(Clone, Debug)]
struct Element {
    /// Its ID, where it starts, and its data; when `cut` or `unknown_size`, the data ends
    /// where the range holding it ends.
    el: ebml::Element,
    /// The data runs past what was read (the end of the file or of the 4 MiB read), so its
    /// end is where the buffer stops, not where the element does.
    cut: bool,
    /// The size field said "unknown" (live streams): the element runs to its parent's end.
    unknown_size: bool,
}

impl Element {
    fn id(&self) -> u32 {
        self.el.id
    }
}

/// The elements in `buf[pos..end]`, one after the other.
struct Ebml<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
    /// This range was cut short by the end of the buffer: an element that runs past `end`
    /// is cut too, not damaged.
    cut: bool,
    /// The buffer holds the whole file (it is shorter than the 4 MiB read): what is cut is cut
    /// by the end of the file.
    whole_file: bool,
}

impl<'a> Ebml<'a> {
    /// The whole buffer, as the elements at the top of the file. Always `cut`: the Segment
    /// is larger than the 4 MiB read, and a file that ends early is caught where a value is
    /// missing.
    fn top(buf: &'a [u8], whole_file: bool) -> Ebml<'a> {
        Ebml {
            buf,
            pos: 0,
            end: buf.len(),
            cut: true,
            whole_file,
        }
    }

    /// The children of an element.
    fn inside(&self, parent: &Element) -> Ebml<'a> {
        Ebml {
            buf: self.buf,
            pos: parent.el.data.start,
            end: parent.el.data.end,
            cut: parent.cut,
            whole_file: self.whole_file,
        }
    }

    /// Why a value cut by the end of the buffer cannot be read.
    fn cut_error(&self) -> ProbeError {
        if self.whole_file {
            WEBM_CUT
        } else {
            WEBM_TOO_LONG
        }
    }

    /// Reads the next element header, or `None` at the end of the range.
    fn next(&mut self) -> Result<Option<Element>, ProbeError> {
        if self.pos >= self.end {
            return Ok(None);
        }
        let header = match ebml::Header::read(self.buf, self.pos, self.end) {
            Ok(header) => header,
            // A header cut by the end of the 4 MiB read ends the list; cut by the end of the
            // file, it is damage, and so is one cut by the end of a parent whose size we trust.
            Err(ebml::Error::HeaderCut { .. }) if self.cut => {
                self.pos = self.end;
                return if self.whole_file {
                    Err(WEBM_CUT)
                } else {
                    Ok(None)
                };
            }
            Err(e) => return Err(e.into()),
        };
        let (end, cut, unknown_size) = match header.end(self.end) {
            Ok(Some(end)) => (end, false, false),
            Ok(None) => (self.end, self.cut, true),
            // Past the end of what was read: cut, not damaged.
            Err(ebml::Error::PastParent { .. }) if self.cut => (self.end, true, false),
            Err(e) => return Err(e.into()),
        };
        self.pos = end;
        Ok(Some(Element {
            el: ebml::Element {
                id: header.id,
                offset: header.offset,
                data: header.data..end,
            },
            cut,
            unknown_size,
        }))
    }

    /// An element that holds a value: refused when it was cut off or has no size.
    fn value<'e>(&self, el: &'e Element) -> Result<&'e ebml::Element, ProbeError> {
        if el.unknown_size {
            return Err(ebml::Error::UnknownSize {
                id: el.el.id,
                offset: el.el.offset,
            }
            .into());
        }
        if el.cut {
            return Err(self.cut_error());
        }
        Ok(&el.el)
    }

    fn uint(&self, el: &Element) -> Result<u64, ProbeError> {
        Ok(self.value(el)?.uint(self.buf)?)
    }

    fn string(&self, el: &Element) -> Result<String, ProbeError> {
        Ok(self.value(el)?.string(self.buf))
    }

    /// A float, or `None` when it is not 0, 4 or 8 bytes long: the only float read is the
    /// duration, which is optional (the title's runtime), so an odd one is left out, not refused.
    fn float(&self, el: &Element) -> Result<Option<f64>, ProbeError> {
        Ok(self.value(el)?.float(self.buf).ok())
    }
}

fn probe_webm<R: Read>(f: &mut R) -> Result<MediaInfo, ProbeError> {
    // Grows with what is there, up to WEBM_HEAD: a short file never costs 4 MiB.
    let mut buf = Vec::new();
    f.take(WEBM_HEAD).read_to_end(&mut buf)?;
    let whole_file = (buf.len() as u64) < WEBM_HEAD;
    let mut r = Ebml::top(&buf, whole_file);
    let header = r
        .next()?
        .ok_or(ProbeError::Damaged("it has no EBML header"))?;
    if header.id() != EBML {
        return Err(ProbeError::UnknownFormat);
    }
    if header.unknown_size {
        return Err(ProbeError::Damaged("its EBML header has no size"));
    }
    if header.cut {
        return Err(r.cut_error());
    }
    let mut doctype = String::new();
    let mut h = r.inside(&header);
    while let Some(el) = h.next()? {
        if el.id() == DOCTYPE {
            doctype = h.string(&el)?;
        }
    }
    if doctype != "webm" && doctype != "matroska" {
        return Err(ProbeError::UnknownFormat);
    }
    let segment = r
        .next()?
        .filter(|el| el.id() == SEGMENT)
        .ok_or(ProbeError::Damaged(
            "there is no segment after its EBML header",
        ))?;

    let mut scale = 1_000_000u64;
    let mut duration = None;
    let mut video: Option<(String, u32, u32)> = None;
    let mut audio: Option<String> = None;
    let mut saw_tracks = false;
    let mut s = r.inside(&segment);
    while let Some(el) = s.next()? {
        match el.id() {
            INFO => {
                let mut i = s.inside(&el);
                while let Some(el) = i.next()? {
                    match el.id() {
                        TIMECODE_SCALE => scale = i.uint(&el)?,
                        DURATION => duration = i.float(&el)?,
                        _ => {}
                    }
                }
            }
            TRACKS => {
                saw_tracks = true;
                let mut t = s.inside(&el);
                while let Some(el) = t.next()? {
                    if el.id() == TRACK_ENTRY {
                        let (kind, codec, w, h) = track_entry(t.inside(&el))?;
                        match kind {
                            1 if video.is_none() => video = Some((codec, w, h)),
                            2 if audio.is_none() => audio = Some(codec),
                            _ => {}
                        }
                    }
                }
            }
            CLUSTER => break,
            _ => {}
        }
    }
    if !saw_tracks {
        return Err(ProbeError::Damaged(
            "there is no track list near the start of the file",
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
        // Scale 0 or a NaN duration would be nonsense to show: no duration then.
        duration_s: duration
            .map(|d| d * scale as f64 / 1e9)
            .filter(|d| d.is_finite() && *d > 0.0),
        needs_faststart: false,
    })
}

/// Reads a TrackEntry's children: (track type, codec ID, width, height).
fn track_entry(mut r: Ebml<'_>) -> Result<(u64, String, u32, u32), ProbeError> {
    let (mut kind, mut codec, mut w, mut h) = (0, String::new(), 0, 0);
    let pixels = |n: u64| {
        u32::try_from(n).map_err(|_| ProbeError::Damaged("its video size is implausibly large"))
    };
    while let Some(el) = r.next()? {
        match el.id() {
            TRACK_TYPE => kind = r.uint(&el)?,
            CODEC_ID => codec = r.string(&el)?,
            VIDEO => {
                let mut v = r.inside(&el);
                while let Some(el) = v.next()? {
                    match el.id() {
                        PIXEL_WIDTH => w = pixels(v.uint(&el)?)?,
                        PIXEL_HEIGHT => h = pixels(v.uint(&el)?)?,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok((kind, codec, w, h))
}

// ---- MP4 --------------------------------------------------------------------------------------

/// A box header: type, offset of the box, header length and total length.
#[derive(Clone, Copy, Debug)]
struct Mp4Box {
    kind: [u8; 4],
    offset: u64,
    header: u64,
    len: u64,
    /// Its size field is 0: "to the end of the file".
    to_end: bool,
}

impl Mp4Box {
    /// Where the box ends; cannot overflow, [`top_level_boxes`] checked it.
    fn end(&self) -> u64 {
        self.offset + self.len
    }
}

/// More top-level boxes than this is not a real file (a fragmented MP4 has two per fragment:
/// a film in two-second fragments has a few thousand); the list is kept in memory.
const MAX_TOP_LEVEL_BOXES: usize = 100_000;

/// Lists the top-level boxes of an MP4 file.
fn top_level_boxes<R: Read + Seek>(f: &mut R) -> Result<Vec<Mp4Box>, ProbeError> {
    let file_len = f.seek(SeekFrom::End(0))?;
    let mut boxes = Vec::new();
    let mut pos = 0u64;
    // Invariant: pos <= file_len. Fewer than 8 bytes left are trailing padding, not a box.
    while file_len - pos >= 8 {
        f.seek(SeekFrom::Start(pos))?;
        let mut h = [0u8; 16];
        let n = read_up_to(f, &mut h)?;
        if n < 8 {
            return Err(ProbeError::Damaged(
                "the file ends in the middle of a box header",
            ));
        }
        let size32 = u64::from(u32::from_be_bytes([h[0], h[1], h[2], h[3]]));
        let kind = [h[4], h[5], h[6], h[7]];
        let (header, len) = match size32 {
            // Size 0: the box runs to the end of the file.
            0 => (8, file_len - pos),
            // Size 1: a 64-bit size follows the type.
            1 if n >= 16 => (
                16,
                u64::from_be_bytes([h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]]),
            ),
            1 => {
                return Err(ProbeError::Damaged(
                    "the file ends in the middle of a box header",
                ))
            }
            s => (8, s),
        };
        if len < header {
            return Err(ProbeError::Damaged("a box is shorter than its own header"));
        }
        let end = pos
            .checked_add(len)
            .filter(|&end| end <= file_len)
            .ok_or(ProbeError::Damaged("a box runs past the end of the file"))?;
        if boxes.len() == MAX_TOP_LEVEL_BOXES {
            return Err(ProbeError::Damaged(
                "it is split into more boxes than any real video has",
            ));
        }
        boxes.push(Mp4Box {
            kind,
            offset: pos,
            header,
            len,
            to_end: size32 == 0,
        });
        pos = end;
    }
    Ok(boxes)
}

/// A box inside `moov`: its type and its data, `buf[start..end]`.
#[derive(Clone, Copy, Debug)]
struct Child {
    kind: [u8; 4],
    start: usize,
    end: usize,
}

impl Child {
    /// Its data (empty if the positions were not this buffer's, which cannot happen).
    fn data<'b>(&self, buf: &'b [u8]) -> &'b [u8] {
        buf.get(self.start..self.end).unwrap_or_default()
    }
}

/// The boxes within `buf[pos..end]`. Yields each box or the first damage found, then stops.
/// An iterator, not a list: a hostile `moov` of 8-byte boxes must not cost memory per box.
struct Children<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
}

/// The children of the box whose data is `buf[start..end]`.
fn children(buf: &[u8], start: usize, end: usize) -> Children<'_> {
    // Clamped so that `pos <= end <= buf.len()` holds whatever the caller passed.
    let end = end.min(buf.len());
    Children {
        buf,
        pos: start.min(end),
        end,
    }
}

impl Iterator for Children<'_> {
    type Item = Result<Child, ProbeError>;

    fn next(&mut self) -> Option<Self::Item> {
        // Fewer than 8 bytes left: padding (QuickTime ends some lists with four zero bytes).
        if self.end - self.pos < 8 {
            return None;
        }
        let item = self.read();
        self.pos = match &item {
            Ok(child) => child.end,
            Err(_) => self.end,
        };
        Some(item)
    }
}

impl Children<'_> {
    fn read(&self) -> Result<Child, ProbeError> {
        let (pos, left) = (self.pos, self.end - self.pos);
        let size = u32::from_be_bytes(be(self.buf, pos)?);
        let kind = be(self.buf, pos + 4)?;
        let (header, len) = match size {
            0 => (8, left as u64),
            1 if left >= 16 => (16, u64::from_be_bytes(be(self.buf, pos + 8)?)),
            1 => {
                return Err(ProbeError::Damaged(
                    "a box header runs past the end of the box that holds it",
                ))
            }
            s => (8, u64::from(s)),
        };
        if len < header as u64 {
            return Err(ProbeError::Damaged("a box is shorter than its own header"));
        }
        if len > left as u64 {
            return Err(ProbeError::Damaged(
                "a box runs past the end of the box that holds it",
            ));
        }
        // len <= left, so it fits in usize and pos + len <= end.
        Ok(Child {
            kind,
            start: pos + header,
            end: pos + len as usize,
        })
    }
}

/// `N` bytes at `at`, or a refusal when the buffer ends first.
fn be<const N: usize>(buf: &[u8], at: usize) -> Result<[u8; N], ProbeError> {
    at.checked_add(N)
        .and_then(|end| buf.get(at..end))
        .and_then(|b| b.try_into().ok())
        .ok_or(ProbeError::Damaged("a box is cut short"))
}

/// The first child of this type, or the damage found before it.
fn find(mut list: Children<'_>, kind: &[u8; 4]) -> Result<Option<Child>, ProbeError> {
    list.find(|c| !matches!(c, Ok(c) if &c.kind != kind))
        .transpose()
}

/// At most this much `moov` is read into memory (real files have a few MB at most).
const MAX_MOOV: u64 = 64 * 1024 * 1024;

fn read_moov<R: Read + Seek>(f: &mut R, boxes: &[Mp4Box]) -> Result<(Mp4Box, Vec<u8>), ProbeError> {
    let mut moovs = boxes.iter().filter(|b| &b.kind == b"moov");
    let moov = *moovs
        .next()
        .ok_or(ProbeError::Damaged("it has no movie header (moov box)"))?;
    if moovs.next().is_some() {
        // Which one a player reads is anyone's guess, and the faststart copy moves only one.
        return Err(ProbeError::Damaged("it has two movie headers (moov boxes)"));
    }
    if moov.len > MAX_MOOV {
        return Err(ProbeError::Damaged(
            "its movie header (moov box) is implausibly large",
        ));
    }
    f.seek(SeekFrom::Start(moov.offset))?;
    // moov.len <= MAX_MOOV and <= the file's length (top_level_boxes checked both ends).
    let mut buf = vec![0u8; moov.len as usize];
    f.read_exact(&mut buf)?;
    Ok((moov, buf))
}

fn probe_mp4<R: Read + Seek>(f: &mut R) -> Result<MediaInfo, ProbeError> {
    let boxes = top_level_boxes(f)?;
    let (moov, buf) = read_moov(f, &boxes)?;
    let mdat = boxes.iter().find(|b| &b.kind == b"mdat");
    let needs_faststart = mdat.is_some_and(|m| m.offset < moov.offset);
    // header is 8 or 16, and moov.len >= header.
    let top = || children(&buf, moov.header as usize, buf.len());
    let mut duration_s = None;
    if let Some(mvhd) = find(top(), b"mvhd")? {
        let d = mvhd.data(&buf);
        duration_s = match d.first() {
            Some(1) if d.len() >= 32 => {
                let scale = u32::from_be_bytes(be(d, 20)?) as f64;
                let dur = u64::from_be_bytes(be(d, 24)?) as f64;
                (scale > 0.0).then(|| dur / scale)
            }
            Some(0) if d.len() >= 20 => {
                let scale = u32::from_be_bytes(be(d, 12)?) as f64;
                let dur = u32::from_be_bytes(be(d, 16)?) as f64;
                (scale > 0.0).then(|| dur / scale)
            }
            _ => None,
        };
    }
    let mut video: Option<(String, u32, u32)> = None;
    let mut audio: Option<String> = None;
    for trak in top() {
        let trak = trak?;
        if &trak.kind != b"trak" {
            continue;
        }
        let Some(mdia) = find(children(&buf, trak.start, trak.end), b"mdia")? else {
            continue;
        };
        // hdlr: version/flags (4), pre-defined (4), then the handler type.
        let handler = find(children(&buf, mdia.start, mdia.end), b"hdlr")?
            .and_then(|h| h.data(&buf).get(8..12));
        let Some(minf) = find(children(&buf, mdia.start, mdia.end), b"minf")? else {
            continue;
        };
        let Some(stbl) = find(children(&buf, minf.start, minf.end), b"stbl")? else {
            continue;
        };
        let Some(stsd) = find(children(&buf, stbl.start, stbl.end), b"stsd")? else {
            continue;
        };
        // stsd: version/flags (4), entry count (4), then sample entries (boxes).
        if stsd.data(&buf).len() < 8 {
            return Err(ProbeError::Damaged(
                "a track's sample description (stsd box) is cut short",
            ));
        }
        let Some(entry) = children(&buf, stsd.start + 8, stsd.end)
            .next()
            .transpose()?
        else {
            continue;
        };
        let codec = String::from_utf8_lossy(&entry.kind).into_owned();
        match handler {
            Some(b"vide") if video.is_none() => {
                // VisualSampleEntry: 6 reserved + 2 index + 16 pre-defined, then width, height.
                let d = entry.data(&buf);
                let (Ok(w), Ok(h)) = (be(d, 24), be(d, 26)) else {
                    return Err(ProbeError::Damaged(
                        "its video track's sample description is cut short",
                    ));
                };
                let (w, h) = (u16::from_be_bytes(w), u16::from_be_bytes(h));
                video = Some((codec, w.into(), h.into()));
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
        duration_s: duration_s.filter(|d| d.is_finite()),
        needs_faststart,
    })
}

/// Copies an MP4 with its `moov` box moved to the front (after `ftyp`), shifting every chunk
/// offset (`stco`/`co64`) by the size of `moov`, so playback can start from the first bytes.
/// `progress` gets the bytes written so far; returning `false` from it cancels the copy.
pub fn faststart_copy(
    src: &Path,
    dst: &mut impl Write,
    progress: impl FnMut(u64) -> bool,
) -> Result<u64, ProbeError> {
    faststart_copy_from(&mut File::open(src)?, dst, progress)
}

/// [`faststart_copy`] from any seekable reader (the fuzzer copies from a `Cursor` into a
/// `Vec`). Returns the bytes written.
pub fn faststart_copy_from<R: Read + Seek>(
    f: &mut R,
    dst: &mut impl Write,
    mut progress: impl FnMut(u64) -> bool,
) -> Result<u64, ProbeError> {
    let boxes = top_level_boxes(f)?;
    let (moov, mut buf) = read_moov(f, &boxes)?;
    // `moov` goes right after `ftyp` (first when there is none): `insert_at` is the index
    // of the box it precedes, `at` that place as an offset of the source.
    let insert_at = boxes
        .iter()
        .position(|b| &b.kind == b"ftyp")
        .map_or(0, |i| i + 1);
    let at = insert_at
        .checked_sub(1)
        .and_then(|i| boxes.get(i))
        .map_or(0, Mp4Box::end);
    // A size of 0 means "to the end of the file": true of the last box, not of one that
    // something follows, which would swallow it. A moved moov gets its real size
    // (moov.len <= MAX_MOOV fits in 32 bits); any other box keeps its place, but moov may land
    // after the last one (when ftyp is last; only a hostile file does that).
    if let Some(size) = buf.get_mut(..4).filter(|_| moov.to_end) {
        size.copy_from_slice(&(moov.len as u32).to_be_bytes());
    }
    if insert_at == boxes.len() && boxes.last().is_some_and(|b| b.to_end && &b.kind != b"moov") {
        return Err(ProbeError::Damaged(
            "its last box runs to the end of the file, so its movie header cannot follow it",
        ));
    }
    let shift = OffsetShift::new(&moov, at);
    patch_chunk_offsets(&mut buf, moov.header as usize, &shift)?;
    // One buffer for every box, no larger than the largest box needs.
    let largest = boxes.iter().map(|b| b.len).max().unwrap_or(0);
    let mut chunk = vec![0u8; largest.min(1 << 20) as usize];
    let mut written = 0u64;
    let mut copy_box = |f: &mut R, b: &Mp4Box, dst: &mut dyn Write| -> Result<(), ProbeError> {
        f.seek(SeekFrom::Start(b.offset))?;
        let mut left = b.len;
        while left > 0 {
            // left.min(chunk.len()) fits in usize.
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
    for (i, b) in boxes.iter().enumerate() {
        if i == insert_at {
            dst.write_all(&buf)?;
        }
        if &b.kind != b"moov" {
            copy_box(f, b, dst)?;
        }
    }
    if insert_at == boxes.len() {
        dst.write_all(&buf)?;
    }
    Ok(written + buf.len() as u64)
}

/// How the bytes between `moov`'s old and new places move when `moov` (`len` bytes at `from`)
/// is moved to offset `to` of the source: everything else keeps its place.
struct OffsetShift {
    moov: std::ops::Range<u64>,
    /// The bytes that move, and whether forward (moov moved before them) or backward.
    moved: std::ops::Range<u64>,
    forward: bool,
    by: u64,
}

impl OffsetShift {
    fn new(moov: &Mp4Box, to: u64) -> OffsetShift {
        let (from, end) = (moov.offset, moov.end());
        let (moved, forward) = if to <= from {
            (to..from, true)
        } else {
            // `to` is the end of a box after moov, so to >= end.
            (end..to, false)
        };
        OffsetShift {
            moov: from..end,
            moved,
            forward,
            by: moov.len,
        }
    }

    /// The new place of the byte at `offset` of the source.
    fn apply(&self, offset: u64) -> Result<u64, ProbeError> {
        if self.moov.contains(&offset) {
            return Err(ProbeError::Damaged(
                "a chunk offset points into its movie header",
            ));
        }
        if !self.moved.contains(&offset) {
            return Ok(offset);
        }
        // Forward: offset < moov's start, and moov ends within the file, so no overflow;
        // backward: offset >= moov's end >= by. Checked anyway: the values come from the file.
        let moved = if self.forward {
            offset.checked_add(self.by)
        } else {
            offset.checked_sub(self.by)
        };
        moved.ok_or(ProbeError::Damaged("a chunk offset is out of range"))
    }
}

/// Rewrites every entry of every `stco` and `co64` box in `moov` (whose children start at
/// `start`) for the new layout. Walks only moov/trak/mdia/minf/stbl, the boxes that hold the
/// tables: a fixed depth, so no nesting in a hostile file can exhaust the stack.
fn patch_chunk_offsets(
    buf: &mut [u8],
    start: usize,
    shift: &OffsetShift,
) -> Result<(), ProbeError> {
    let mut tables = Vec::new();
    for trak in children(buf, start, buf.len()) {
        let trak = trak?;
        if &trak.kind != b"trak" {
            continue;
        }
        for mdia in children(buf, trak.start, trak.end) {
            let mdia = mdia?;
            if &mdia.kind != b"mdia" {
                continue;
            }
            for minf in children(buf, mdia.start, mdia.end) {
                let minf = minf?;
                if &minf.kind != b"minf" {
                    continue;
                }
                for stbl in children(buf, minf.start, minf.end) {
                    let stbl = stbl?;
                    if &stbl.kind != b"stbl" {
                        continue;
                    }
                    for table in children(buf, stbl.start, stbl.end) {
                        let table = table?;
                        if &table.kind == b"stco" || &table.kind == b"co64" {
                            tables.push(table);
                        }
                    }
                }
            }
        }
    }
    for table in tables {
        patch_table(buf, &table, shift)?;
    }
    Ok(())
}

/// Rewrites the offsets of one `stco` (32-bit) or `co64` (64-bit) box.
fn patch_table(buf: &mut [u8], table: &Child, shift: &OffsetShift) -> Result<(), ProbeError> {
    const SHORT: ProbeError =
        ProbeError::Damaged("a chunk offset table is shorter than its entry count");
    let data = buf.get_mut(table.start..table.end).ok_or(SHORT)?;
    // version/flags (4), entry count (4), then the entries.
    let count = u64::from(u32::from_be_bytes(be(data, 4).map_err(|_| SHORT)?));
    let width: u64 = if &table.kind == b"co64" { 8 } else { 4 };
    // count < 2^32 and width <= 8: the product fits in u64.
    let needed = (count * width).checked_add(8).ok_or(SHORT)?;
    if needed > data.len() as u64 {
        return Err(SHORT);
    }
    // needed <= data.len(), so every entry below is inside `data`.
    let entries = data.get_mut(8..needed as usize).ok_or(SHORT)?;
    for entry in entries.chunks_exact_mut(width as usize) {
        if width == 8 {
            let v = shift.apply(u64::from_be_bytes(be(entry, 0)?))?;
            entry.copy_from_slice(&v.to_be_bytes());
        } else {
            let v = shift.apply(u64::from(u32::from_be_bytes(be(entry, 0)?)))?;
            let v = u32::try_from(v).map_err(|_| {
                ProbeError::Damaged(
                    "moving its movie header would push chunk offsets past 4 GiB; export it again with fast start",
                )
            })?;
            entry.copy_from_slice(&v.to_be_bytes());
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

    // ---- hostile input: every refusal has its kind and its sentence -----------------------

    /// The sentence of a `Damaged` refusal, in full as the person sees it.
    fn damaged(result: Result<MediaInfo, ProbeError>) -> String {
        match result {
            Err(e @ ProbeError::Damaged(_)) => e.to_string(),
            other => panic!("expected a refusal as damaged, got {other:?}"),
        }
    }

    fn probe_bytes(bytes: &[u8]) -> Result<MediaInfo, ProbeError> {
        probe_reader(&mut std::io::Cursor::new(bytes))
    }

    /// An EBML element with a one-byte size (or an eight-byte one from 127 bytes).
    fn el(id: &[u8], data: &[u8]) -> Vec<u8> {
        let mut out = id.to_vec();
        if data.len() < 0x7F {
            out.push(0x80 | data.len() as u8);
        } else {
            out.push(0x01);
            out.extend_from_slice(&(data.len() as u64).to_be_bytes()[1..]);
        }
        out.extend_from_slice(data);
        out
    }

    /// The same with an "unknown" size (all value bits set).
    fn el_unknown(id: &[u8], data: &[u8]) -> Vec<u8> {
        let mut out = id.to_vec();
        out.extend_from_slice(&[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        out.extend_from_slice(data);
        out
    }

    fn ebml_header(doctype: &str) -> Vec<u8> {
        el(
            &[0x1A, 0x45, 0xDF, 0xA3],
            &el(&[0x42, 0x82], doctype.as_bytes()),
        )
    }

    fn vp9_track() -> Vec<u8> {
        let video = [el(&[0xB0], &[0x02, 0x80]), el(&[0xBA], &[0x01, 0x68])].concat();
        el(
            &[0xAE],
            &[
                el(&[0x83], &[1]),
                el(&[0x86], b"V_VP9"),
                el(&[0xE0], &video),
            ]
            .concat(),
        )
    }

    #[test]
    fn webm_element_header_past_its_parent_is_refused() {
        // Panicked (slice out of bounds) before: the EBML header says one byte, and the DocType
        // header inside it needs two.
        let bytes = [0x1A, 0x45, 0xDF, 0xA3, 0x81, 0x42, 0x82, 0x84, 0, 0, 0, 0];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tiny.webm");
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(
            damaged(probe(&path)),
            "this file looks damaged: an element's header runs past the end of the element that holds it"
        );
    }

    #[test]
    fn webm_hostile_sizes_are_refused() {
        // The EBML header of unknown size.
        let mut bytes = vec![0x1A, 0x45, 0xDF, 0xA3, 0xFF];
        bytes.extend_from_slice(&el(&[0x42, 0x82], b"webm"));
        assert_eq!(
            damaged(probe_bytes(&bytes)),
            "this file looks damaged: its EBML header has no size"
        );
        // A size of nine bytes or more (a first byte of zero).
        let bytes = [
            0x1A, 0x45, 0xDF, 0xA3, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        ];
        assert_eq!(
            damaged(probe_bytes(&bytes)),
            "this file looks damaged: an element size is longer than the eight bytes EBML allows"
        );
        // An ID of five bytes.
        let bytes = el(&[0x1A, 0x45, 0xDF, 0xA3], &[0x08, 1, 2, 3, 4, 0x80]);
        assert_eq!(
            damaged(probe_bytes(&bytes)),
            "this file looks damaged: an element ID is longer than the four bytes EBML allows"
        );
        // A DocType larger than the header holding it.
        let mut bytes = el(&[0x1A, 0x45, 0xDF, 0xA3], &[0x42, 0x82, 0x90, b'w']);
        bytes.extend_from_slice(&[0; 32]);
        assert_eq!(
            damaged(probe_bytes(&bytes)),
            "this file looks damaged: an element runs past the end of the element that holds it"
        );
        // The largest eight-byte size, on an element near the end of the buffer: clamped, then
        // refused where its value is needed (no addition overflows).
        let mut bytes = ebml_header("webm");
        bytes.extend_from_slice(&[
            0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
        ]);
        bytes.extend_from_slice(&[
            0x16, 0x54, 0xAE, 0x6B, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
        ]);
        assert_eq!(
            probe_bytes(&bytes).unwrap_err().to_string(),
            "this file has no video track"
        );
        // A value with no size, and a number of nine bytes.
        for (track, why) in [
            (
                el(&[0xAE], &el_unknown(&[0x86], b"V_VP9")),
                "this file looks damaged: an element that holds a value has no size",
            ),
            (
                el(&[0xAE], &el(&[0x83], &[0; 9])),
                "this file looks damaged: a number in its headers is longer than eight bytes",
            ),
        ] {
            let mut bytes = ebml_header("webm");
            bytes.extend_from_slice(&el(
                &[0x18, 0x53, 0x80, 0x67],
                &el(&[0x16, 0x54, 0xAE, 0x6B], &track),
            ));
            assert_eq!(damaged(probe_bytes(&bytes)), why);
        }
    }

    #[test]
    fn webm_missing_or_cut_headers_are_refused() {
        assert_eq!(
            damaged(probe_bytes(&ebml_header("webm"))),
            "this file looks damaged: there is no segment after its EBML header"
        );
        assert!(matches!(
            probe_bytes(&ebml_header("mkv2")).unwrap_err(),
            ProbeError::UnknownFormat
        ));
        let mut bytes = ebml_header("webm");
        bytes.extend_from_slice(&el(
            &[0x18, 0x53, 0x80, 0x67],
            &el(&[0x15, 0x49, 0xA9, 0x66], &[]),
        ));
        assert_eq!(
            damaged(probe_bytes(&bytes)),
            "this file looks damaged: there is no track list near the start of the file"
        );
        // The demo film, cut inside its headers.
        let head = std::fs::read(marquee_store::bundled_demo_dir().join("media/neon-harbor.webm"))
            .unwrap();
        for cut in [5, 40, 200, 400] {
            let e = probe_bytes(&head[..cut]).unwrap_err();
            assert!(matches!(e, ProbeError::Damaged(_)), "cut at {cut}: {e}");
        }
        assert_eq!(
            damaged(probe_bytes(&head[..40])),
            "this file looks damaged: the file ends in the middle of its headers"
        );
    }

    #[test]
    fn webm_of_unknown_size_as_live_streams_write_is_accepted() {
        let mut bytes = ebml_header("webm");
        let info = el(
            &[0x15, 0x49, 0xA9, 0x66],
            &el(&[0x44, 0x89], &2500f32.to_be_bytes()),
        );
        let tracks = el(&[0x16, 0x54, 0xAE, 0x6B], &vp9_track());
        let cluster = el_unknown(&[0x1F, 0x43, 0xB6, 0x75], &[0xE7, 0x81, 0x00]);
        bytes.extend_from_slice(&el_unknown(
            &[0x18, 0x53, 0x80, 0x67],
            &[info, tracks, cluster].concat(),
        ));
        let info = probe_bytes(&bytes).unwrap();
        assert_eq!(info.video_codec, "VP9");
        assert_eq!((info.width, info.height), (640, 360));
        assert_eq!(info.duration_s, Some(2.5));
        assert_eq!(info.audio_codec, None);
    }

    /// An MP4 box.
    fn bx(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = ((data.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out
    }

    fn ftyp() -> Vec<u8> {
        bx(b"ftyp", b"isom\0\0\x02\0isomavc1")
    }

    /// A `moov` with one H.264 track of 640x360, five seconds, whose one chunk starts at
    /// `chunk_offset`; `stsd` and `stco` as given.
    fn moov_with(stsd: Vec<u8>, stco: Vec<u8>) -> Vec<u8> {
        let mut mvhd = vec![0u8; 20];
        mvhd[12..16].copy_from_slice(&1000u32.to_be_bytes());
        mvhd[16..20].copy_from_slice(&5000u32.to_be_bytes());
        let hdlr = [&[0u8; 8][..], b"vide", &[0; 12]].concat();
        let stbl = bx(b"stbl", &[stsd, stco].concat());
        let minf = bx(b"minf", &stbl);
        let mdia = bx(b"mdia", &[bx(b"hdlr", &hdlr), minf].concat());
        bx(b"moov", &[bx(b"mvhd", &mvhd), bx(b"trak", &mdia)].concat())
    }

    fn avc1_stsd() -> Vec<u8> {
        let mut entry = vec![0u8; 78];
        entry[24..26].copy_from_slice(&640u16.to_be_bytes());
        entry[26..28].copy_from_slice(&360u16.to_be_bytes());
        bx(
            b"stsd",
            &[&[0, 0, 0, 0, 0, 0, 0, 1][..], &bx(b"avc1", &entry)].concat(),
        )
    }

    fn stco(offsets: &[u32]) -> Vec<u8> {
        let mut data = vec![0, 0, 0, 0];
        data.extend_from_slice(&(offsets.len() as u32).to_be_bytes());
        for o in offsets {
            data.extend_from_slice(&o.to_be_bytes());
        }
        bx(b"stco", &data)
    }

    fn moov(chunk_offset: u32) -> Vec<u8> {
        moov_with(avc1_stsd(), stco(&[chunk_offset]))
    }

    #[test]
    fn hand_built_mp4_is_accepted_and_faststart_moves_its_offsets() {
        let mdat = bx(b"mdat", &[7; 100]);
        let ftyp = ftyp();
        // moov last: the chunk sits 8 bytes into mdat, right after ftyp.
        let chunk = (ftyp.len() + 8) as u32;
        let file = [ftyp.clone(), mdat.clone(), moov(chunk)].concat();
        let info = probe_bytes(&file).unwrap();
        assert_eq!(info.video_codec, "H.264");
        assert_eq!((info.width, info.height), (640, 360));
        assert_eq!(info.duration_s, Some(5.0));
        assert!(info.needs_faststart);

        let mut out = Vec::new();
        let n = faststart_copy_from(&mut std::io::Cursor::new(&file), &mut out, |_| true).unwrap();
        assert_eq!(n, out.len() as u64);
        let moved = moov(chunk + moov(0).len() as u32);
        assert_eq!(out, [ftyp.clone(), moved.clone(), mdat.clone()].concat());
        assert!(!probe_bytes(&out).unwrap().needs_faststart);

        // Already fast: the copy is the same bytes (nothing moves, so no offset changes).
        let mut again = Vec::new();
        faststart_copy_from(&mut std::io::Cursor::new(&out), &mut again, |_| true).unwrap();
        assert_eq!(again, out);

        // moov as a size-0 box (to the end of the file) is read the same, and moved with its
        // real size: at the front, size 0 would swallow the media after it.
        let mut last = [ftyp.clone(), mdat.clone(), moov(chunk)].concat();
        let at = ftyp.len() + mdat.len();
        last[at..at + 4].copy_from_slice(&[0; 4]);
        assert!(probe_bytes(&last).unwrap().needs_faststart);
        let mut moved_last = Vec::new();
        faststart_copy_from(&mut std::io::Cursor::new(&last), &mut moved_last, |_| true).unwrap();
        assert_eq!(moved_last, out);

        // Found by the fuzzer: moov before an ftyp of size 0 that ends the file. Moved after
        // it, moov would be swallowed; the copy is refused instead.
        let mut ftyp_last = [moov(chunk), mdat.clone(), ftyp.clone()].concat();
        let at = ftyp_last.len() - ftyp.len();
        ftyp_last[at..at + 4].copy_from_slice(&[0; 4]);
        let e = faststart_copy_from(
            &mut std::io::Cursor::new(&ftyp_last),
            &mut Vec::new(),
            |_| true,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "this file looks damaged: its last box runs to the end of the file, so its movie header cannot follow it"
        );
    }

    #[test]
    fn mp4_hostile_top_level_boxes_are_refused() {
        let ftyp = ftyp();
        let with = |tail: &[u8]| [ftyp.clone(), tail.to_vec()].concat();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            // Size 0 runs to the end of the file: no moov after it.
            (
                with(&[0, 0, 0, 0, b'm', b'd', b'a', b't', 1, 2, 3]),
                "it has no movie header (moov box)",
            ),
            // Size 1 announces a 64-bit size the file does not have room for.
            (
                with(&[0, 0, 0, 1, b'f', b'r', b'e', b'e', 0, 0, 0, 0]),
                "the file ends in the middle of a box header",
            ),
            // The largest 64-bit size: the end would overflow.
            (
                with(&[[0, 0, 0, 1], *b"free", [0xFF; 4], [0xFF; 4]].concat()),
                "a box runs past the end of the file",
            ),
            // A 64-bit size smaller than the 16-byte header.
            (
                with(&[[0, 0, 0, 1], *b"free", [0; 4], [0, 0, 0, 8]].concat()),
                "a box is shorter than its own header",
            ),
            // A 32-bit size smaller than the 8-byte header.
            (
                with(&[0, 0, 0, 4, b'f', b'r', b'e', b'e']),
                "a box is shorter than its own header",
            ),
            // moov larger than the file.
            (
                with(&[&[0, 0, 0x10, 0][..], b"moov", &[0; 24]].concat()),
                "a box runs past the end of the file",
            ),
            // Two movie headers.
            (
                with(&[moov(0), moov(0)].concat()),
                "it has two movie headers (moov boxes)",
            ),
        ];
        for (bytes, why) in cases {
            assert_eq!(
                damaged(probe_bytes(&bytes)),
                format!("this file looks damaged: {why}")
            );
            let e =
                faststart_copy_from(&mut std::io::Cursor::new(&bytes), &mut Vec::new(), |_| true)
                    .unwrap_err();
            assert_eq!(e.to_string(), format!("this file looks damaged: {why}"));
        }
    }

    #[test]
    fn mp4_hostile_boxes_inside_moov_are_refused() {
        let long_entry = bx(b"avc1", &[0; 20]);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            // stsd without its entry count.
            (
                moov_with(bx(b"stsd", &[0; 4]), vec![]),
                "a track's sample description (stsd box) is cut short",
            ),
            // stsd whose entry claims more than stsd holds.
            (
                moov_with(
                    bx(
                        b"stsd",
                        &[&[0; 7][..], &[1, 0, 0, 0, 0x60], b"avc1"].concat(),
                    ),
                    vec![],
                ),
                "a box runs past the end of the box that holds it",
            ),
            // A video entry too short to hold the picture size.
            (
                moov_with(
                    bx(
                        b"stsd",
                        &[&[0, 0, 0, 0, 0, 0, 0, 1][..], &long_entry].concat(),
                    ),
                    vec![],
                ),
                "its video track's sample description is cut short",
            ),
            // A 64-bit size of u64::MAX inside moov: `pos + len` overflowed before.
            (
                bx(
                    b"moov",
                    &[[0, 0, 0, 1], *b"trak", [0xFF; 4], [0xFF; 4]].concat(),
                ),
                "a box runs past the end of the box that holds it",
            ),
            (
                bx(b"moov", &[0, 0, 0, 1, b't', b'r', b'a', b'k']),
                "a box header runs past the end of the box that holds it",
            ),
            (
                bx(b"moov", &[0, 0, 0, 3, b't', b'r', b'a', b'k']),
                "a box is shorter than its own header",
            ),
        ];
        for (moov, why) in cases {
            let file = [ftyp(), moov].concat();
            assert_eq!(
                damaged(probe_bytes(&file)),
                format!("this file looks damaged: {why}")
            );
        }
    }

    #[test]
    fn faststart_refuses_bad_chunk_tables() {
        let ftyp = ftyp();
        let mdat = bx(b"mdat", &[7; 16]);
        // An entry count larger than the table.
        let mut short = stco(&[40]);
        short[12..16].copy_from_slice(&1000u32.to_be_bytes());
        // A chunk that points into the movie header itself.
        let into_moov = stco(&[(ftyp.len() + mdat.len() + 4) as u32]);
        for (table, why) in [
            (
                short,
                "a chunk offset table is shorter than its entry count",
            ),
            (into_moov, "a chunk offset points into its movie header"),
        ] {
            let file = [ftyp.clone(), mdat.clone(), moov_with(avc1_stsd(), table)].concat();
            let e =
                faststart_copy_from(&mut std::io::Cursor::new(&file), &mut Vec::new(), |_| true)
                    .unwrap_err();
            assert_eq!(e.to_string(), format!("this file looks damaged: {why}"));
        }
        // A 32-bit table whose chunks would pass 4 GiB: a source of 4 GiB is too large for a
        // test, so the shift is as for a moov of 16 bytes at 4 GiB.
        let mut table = stco(&[u32::MAX - 2]);
        let child = Child {
            kind: *b"stco",
            start: 8,
            end: table.len(),
        };
        let moov = Mp4Box {
            kind: *b"moov",
            offset: 1 << 32,
            header: 8,
            len: 16,
            to_end: false,
        };
        let e = patch_table(&mut table, &child, &OffsetShift::new(&moov, 0)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "this file looks damaged: moving its movie header would push chunk offsets past 4 GiB; export it again with fast start"
        );
        // A 64-bit table near u64::MAX moves exactly, without wrapping.
        let mut data = vec![0, 0, 0, 0, 0, 0, 0, 1];
        data.extend_from_slice(&(u64::MAX - 2).to_be_bytes());
        let mut table = bx(b"co64", &data);
        let child = Child {
            kind: *b"co64",
            start: 8,
            end: table.len(),
        };
        let moov = Mp4Box {
            offset: u64::MAX - 1,
            len: 1,
            ..moov
        };
        patch_table(&mut table, &child, &OffsetShift::new(&moov, 0)).unwrap();
        assert_eq!(table[16..24], (u64::MAX - 1).to_be_bytes());
    }

    #[test]
    fn deeply_nested_boxes_do_not_exhaust_the_stack() {
        // 100,000 traks, each inside the one before: the walk has a fixed depth.
        let depth = 100_000usize;
        let mut nested = Vec::with_capacity(depth * 8 + 8);
        for i in 0..depth {
            nested.extend_from_slice(&(((depth - i) * 8) as u32).to_be_bytes());
            nested.extend_from_slice(b"trak");
        }
        let file = [ftyp(), bx(b"moov", &nested)].concat();
        assert!(matches!(
            probe_bytes(&file).unwrap_err(),
            ProbeError::NoVideo
        ));
        let mut out = Vec::new();
        faststart_copy_from(&mut std::io::Cursor::new(&file), &mut out, |_| true).unwrap();
        assert_eq!(out, file);
    }

    #[test]
    fn readers_and_paths_agree() {
        for name in ["h264-aac-faststart.mp4", "h264-aac-moov-last.mp4"] {
            let bytes = std::fs::read(fixture(name)).unwrap();
            assert_eq!(probe_bytes(&bytes).unwrap(), probe(&fixture(name)).unwrap());
        }
    }
}

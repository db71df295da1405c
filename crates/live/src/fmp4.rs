//! # Re-cutting a fragmented MP4 file into live segments
//!
//! The MP4 side of [`crate::segment::LiveSource`]. A fragmented MP4 (`ftyp`, `moov` with
//! `mvex`, then `moof`+`mdat` pairs, as `ffmpeg -movflags +frag_keyframe+empty_moov+
//! default_base_moof` writes it) is already cut the way Media Source Extensions wants it: the
//! init segment is `ftyp`+`moov` byte for byte, and each fragment is a media segment. Nothing is
//! re-encoded: a live segment is one or more whole fragments, starting on one whose first video
//! sample is a sync sample, about the target long; looping rewrites each track fragment's
//! `tfdt` (its decode time) so the timeline keeps running, and `mfhd`'s sequence number.
//!
//! `tfdt` is always written in its 64-bit form (version 1): a version-0 box grows by four
//! bytes, and the `moof` and `traf` sizes and every `trun`'s data offset (counted from the
//! `moof`, `default-base-is-moof`) grow with it.
//!
//! The input is untrusted: every box size is checked against the bytes that are there before it
//! is used, and bad input is a [`SegmentError`], never a panic. What cannot be re-cut without
//! re-muxing (a `tfhd` with an absolute base data offset, a `trun` without a data offset) is
//! refused with the command that re-muxes it.

use std::collections::HashMap;
use std::ops::Range;

use crate::segment::{SegmentError, DEFAULT_TARGET_MS};

/// The `sample_is_non_sync_sample` bit of ISO BMFF sample flags.
const NON_SYNC: u32 = 0x0001_0000;
/// `tfhd` flags.
const TFHD_BASE_DATA_OFFSET: u32 = 0x01;
const TFHD_SAMPLE_DESCRIPTION: u32 = 0x02;
const TFHD_DEFAULT_DURATION: u32 = 0x08;
const TFHD_DEFAULT_SIZE: u32 = 0x10;
const TFHD_DEFAULT_FLAGS: u32 = 0x20;
/// `trun` flags.
const TRUN_DATA_OFFSET: u32 = 0x01;
const TRUN_FIRST_FLAGS: u32 = 0x04;
const TRUN_DURATION: u32 = 0x100;
const TRUN_SIZE: u32 = 0x200;
const TRUN_FLAGS: u32 = 0x400;
const TRUN_CTO: u32 = 0x800;
/// Decode times above this are refused, so loop offsets cannot overflow.
const MAX_TIME: u64 = 1 << 56;
/// What re-muxes a file into the shape cut here.
pub(crate) const REMUX: &str =
    "ffmpeg -i IN -c copy -movflags +frag_keyframe+empty_moov+default_base_moof OUT.mp4";

/// One box: its type, where it starts, and where its payload is.
#[derive(Debug, Clone)]
struct Bx {
    kind: [u8; 4],
    start: usize,
    payload: Range<usize>,
}

/// The boxes in `data[range]`, each checked to fit.
fn boxes(data: &[u8], range: Range<usize>) -> Result<Vec<Bx>, SegmentError> {
    let mut out = Vec::new();
    let mut at = range.start;
    while at < range.end {
        let refuse = |why: &str| SegmentError::Mp4 {
            reason: why.to_owned(),
            offset: at,
        };
        if range.end - at < 8 {
            return Err(refuse("a box header is cut short"));
        }
        let size32 = u32::from_be_bytes(data[at..at + 4].try_into().expect("4 bytes"));
        let kind: [u8; 4] = data[at + 4..at + 8].try_into().expect("4 bytes");
        let (size, header) = match size32 {
            0 => ((range.end - at) as u64, 8),
            1 => {
                if range.end - at < 16 {
                    return Err(refuse("a box's 64-bit size is cut short"));
                }
                (
                    u64::from_be_bytes(data[at + 8..at + 16].try_into().expect("8 bytes")),
                    16,
                )
            }
            n => (u64::from(n), 8),
        };
        if size < header as u64 || size > (range.end - at) as u64 {
            return Err(refuse("a box's size runs past its parent"));
        }
        let end = at + size as usize;
        out.push(Bx {
            kind,
            start: at,
            payload: at + header..end,
        });
        at = end;
    }
    Ok(out)
}

fn child<'a>(list: &'a [Bx], kind: &[u8; 4]) -> Option<&'a Bx> {
    list.iter().find(|b| &b.kind == kind)
}

/// A big-endian reader over one box's payload that refuses to read past it.
struct Reader<'a> {
    data: &'a [u8],
    at: usize,
    end: usize,
}

impl<'a> Reader<'a> {
    fn of(data: &'a [u8], b: &Bx) -> Reader<'a> {
        Reader {
            data,
            at: b.payload.start,
            end: b.payload.end,
        }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], SegmentError> {
        if self.end - self.at < n {
            return Err(SegmentError::Mp4 {
                reason: "a box is shorter than its fields".into(),
                offset: self.at,
            });
        }
        let s = &self.data[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, SegmentError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, SegmentError> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().expect("4")))
    }
    fn u64(&mut self) -> Result<u64, SegmentError> {
        Ok(u64::from_be_bytes(self.take(8)?.try_into().expect("8")))
    }
    /// A full box's version and flags.
    fn version_flags(&mut self) -> Result<(u8, u32), SegmentError> {
        let v = self.u32()?;
        Ok(((v >> 24) as u8, v & 0x00FF_FFFF))
    }
}

/// What the cutter knows of a track from `moov`.
#[derive(Debug, Clone)]
struct Track {
    id: u32,
    timescale: u32,
    video: bool,
    codec: String,
    /// `trex`'s defaults: sample duration and flags.
    default_duration: u32,
    default_flags: u32,
}

/// One track fragment of a fragment, as the cutter needs it.
#[derive(Debug, Clone)]
struct TrafAt {
    track: u32,
    /// Where the `tfdt` box starts, its version, and its decode time.
    tfdt: usize,
    tfdt_v1: bool,
    time: u64,
    /// The sum of its samples' durations, in its track's timescale.
    duration: u64,
    /// Where each `trun`'s data offset field is.
    data_offsets: Vec<usize>,
    /// Whether its first sample is a sync sample.
    sync: bool,
}

/// One `moof`+`mdat` pair.
#[derive(Debug, Clone)]
struct Fragment {
    /// The `moof` box and its `mdat`, in the file.
    moof: Bx,
    mdat: Range<usize>,
    /// Where `mfhd`'s sequence number is.
    sequence_at: usize,
    trafs: Vec<TrafAt>,
    /// The `traf` boxes' starts, to grow their sizes when a `tfdt` grows.
    traf_starts: Vec<usize>,
    /// Whether its first video sample is a sync sample.
    keyframe: bool,
}

/// A parsed fragmented MP4 file, ready to be cut into live segments.
pub(crate) struct Mp4Source {
    data: Vec<u8>,
    init: Range<usize>,
    mime: String,
    tracks: Vec<Track>,
    fragments: Vec<Fragment>,
    /// Each track's first decode time (the live timeline starts there) and loop period, in its
    /// own timescale.
    first: HashMap<u32, u64>,
    period: HashMap<u32, u64>,
    /// The loop period, in nanoseconds (the longest track's).
    period_ns: u64,
    /// The video track's id: segment times are read on its clock.
    video: u32,
}

/// Whether `data` looks like an ISO BMFF file (it starts with `ftyp`).
pub(crate) fn is_mp4(data: &[u8]) -> bool {
    data.len() >= 8 && &data[4..8] == b"ftyp"
}

fn refuse(reason: impl Into<String>, offset: usize) -> SegmentError {
    SegmentError::Mp4 {
        reason: reason.into(),
        offset,
    }
}

impl Mp4Source {
    /// Parses a fragmented MP4 file.
    pub(crate) fn parse(data: Vec<u8>) -> Result<Mp4Source, SegmentError> {
        let top = boxes(&data, 0..data.len())?;
        let ftyp = child(&top, b"ftyp").ok_or_else(|| refuse("no ftyp box", 0))?;
        let moov = child(&top, b"moov").ok_or_else(|| refuse("no moov box", 0))?;
        if ftyp.start != 0 || moov.start != ftyp.payload.end {
            return Err(refuse(
                format!("the file does not start with ftyp and moov: re-mux it with `{REMUX}`"),
                moov.start,
            ));
        }
        let tracks = tracks(&data, moov)?;
        let video = tracks
            .iter()
            .find(|t| t.video)
            .ok_or(SegmentError::NoVideoTrack)?
            .id;
        let mut fragments = Vec::new();
        for (i, b) in top.iter().enumerate() {
            if &b.kind != b"moof" {
                continue;
            }
            let mdat = top
                .get(i + 1)
                .filter(|m| &m.kind == b"mdat")
                .ok_or_else(|| refuse("a moof box without its mdat", b.start))?;
            fragments.push(fragment(&data, b, mdat, &tracks, video)?);
        }
        if fragments.is_empty() {
            return Err(refuse(
                format!("the MP4 file is not fragmented: re-mux it with `{REMUX}`"),
                moov.start,
            ));
        }
        if !fragments[0].keyframe {
            return Err(SegmentError::FirstFragmentNotKeyframe);
        }
        let mut first = HashMap::new();
        let mut end = HashMap::new();
        for f in &fragments {
            for t in &f.trafs {
                let e = first.entry(t.track).or_insert(t.time);
                *e = (*e).min(t.time);
                let stop = t.time.saturating_add(t.duration);
                let e = end.entry(t.track).or_insert(stop);
                *e = (*e).max(stop);
            }
        }
        let ns = |track: &Track, ticks: u64| {
            u64::try_from(u128::from(ticks) * 1_000_000_000 / u128::from(track.timescale))
                .unwrap_or(u64::MAX)
        };
        let mut period_ns = 0;
        for t in &tracks {
            if let (Some(f), Some(e)) = (first.get(&t.id), end.get(&t.id)) {
                period_ns = period_ns.max(ns(t, e - f));
            }
        }
        if period_ns == 0 {
            return Err(refuse("the fragments hold no samples", moov.start));
        }
        // Each track's period in its own ticks, rounded up: a shorter track leaves a sliver of
        // a gap at the seam rather than overlapping the next pass.
        let period = tracks
            .iter()
            .map(|t| {
                let ticks =
                    (u128::from(period_ns) * u128::from(t.timescale)).div_ceil(1_000_000_000);
                (t.id, u64::try_from(ticks).unwrap_or(u64::MAX))
            })
            .collect();
        let codecs: Vec<&str> = tracks.iter().map(|t| t.codec.as_str()).collect();
        let mime = format!("video/mp4; codecs=\"{}\"", codecs.join(","));
        Ok(Mp4Source {
            init: 0..moov.payload.end,
            data,
            mime,
            tracks,
            fragments,
            first,
            period,
            period_ns,
            video,
        })
    }

    pub(crate) fn init_segment(&self) -> &[u8] {
        &self.data[self.init.clone()]
    }

    pub(crate) fn mime(&self) -> String {
        self.mime.clone()
    }

    pub(crate) fn duration_ms(&self) -> u64 {
        self.period_ns / 1_000_000
    }

    /// The fragments' video start times in the file's first pass, in nanoseconds from the
    /// first, and whether each starts on a keyframe.
    fn starts(&self) -> Vec<(u64, bool)> {
        let track = self
            .tracks
            .iter()
            .find(|t| t.id == self.video)
            .expect("video");
        let first = self.first[&self.video];
        // A fragment without video (audio only) starts where the one before it did: it joins
        // that segment, and times never run backwards.
        let mut last = first;
        self.fragments
            .iter()
            .map(|f| {
                let t = f
                    .trafs
                    .iter()
                    .find(|t| t.track == self.video)
                    .map_or(last, |t| t.time.max(last));
                last = t;
                let ns = u128::from(t - first) * 1_000_000_000 / u128::from(track.timescale);
                (u64::try_from(ns).unwrap_or(u64::MAX), f.keyframe)
            })
            .collect()
    }

    /// One pass cut into segments of about `target_ms`: runs of whole fragments, each run
    /// starting on a keyframe fragment, as (fragments, start ns, end ns).
    pub(crate) fn plan(&self, target_ms: u64) -> Vec<(Range<usize>, u64, u64)> {
        let target = if target_ms == 0 {
            DEFAULT_TARGET_MS
        } else {
            target_ms
        } * 1_000_000;
        let starts = self.starts();
        let mut plan: Vec<(Range<usize>, u64, u64)> = Vec::new();
        for (i, &(at, key)) in starts.iter().enumerate() {
            match plan.last_mut() {
                Some(last) if !key || at.saturating_sub(last.1) < target => last.0.end = i + 1,
                _ => plan.push((i..i + 1, at, at)),
            }
        }
        for i in 0..plan.len() {
            plan[i].2 = plan.get(i + 1).map_or(self.period_ns, |next| next.1);
        }
        plan
    }

    /// The bytes of fragments `range` in pass `lap`, the `n`th fragment of the stream first:
    /// decode times moved on by `lap` periods, `tfdt` in its 64-bit form, sequence numbers
    /// counted from `n`.
    pub(crate) fn bytes(&self, range: Range<usize>, lap: u64, n: u64) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for (k, f) in self.fragments[range].iter().enumerate() {
            let grow = 4 * f.trafs.iter().filter(|t| !t.tfdt_v1).count();
            let base = out.len();
            let data = &self.data;
            // The moof, with each v0 tfdt rewritten as v1 in place.
            let mut at = f.moof.start;
            let mut tfdts: Vec<&TrafAt> = f.trafs.iter().collect();
            tfdts.sort_by_key(|t| t.tfdt);
            for t in tfdts {
                out.extend_from_slice(&data[at..t.tfdt]);
                let time = t
                    .time
                    .checked_sub(self.first[&t.track])?
                    .checked_add(lap.checked_mul(self.period[&t.track])?)?;
                out.extend_from_slice(&20u32.to_be_bytes());
                out.extend_from_slice(b"tfdt");
                out.extend_from_slice(&0x0100_0000u32.to_be_bytes());
                out.extend_from_slice(&time.to_be_bytes());
                at = t.tfdt + if t.tfdt_v1 { 20 } else { 16 };
            }
            out.extend_from_slice(&data[at..f.moof.payload.end]);
            if grow > 0 {
                // The sizes of the moof and of each traf that holds a grown tfdt, and every
                // trun's data offset (counted from the moof's start).
                let moved = |pos: usize| {
                    let before = f
                        .trafs
                        .iter()
                        .filter(|t| !t.tfdt_v1 && t.tfdt < pos)
                        .count();
                    base + pos - f.moof.start + 4 * before
                };
                add_u32(&mut out, base, grow as u32)?;
                for (traf_start, t) in f.traf_starts.iter().zip(&f.trafs) {
                    if !t.tfdt_v1 {
                        add_u32(&mut out, moved(*traf_start), 4)?;
                    }
                }
                for t in &f.trafs {
                    for &off in &t.data_offsets {
                        add_u32(&mut out, moved(off), grow as u32)?;
                    }
                }
            }
            let seq = u32::try_from((n + k as u64) % u64::from(u32::MAX)).ok()? + 1;
            let seq_at = base + f.sequence_at - f.moof.start;
            out[seq_at..seq_at + 4].copy_from_slice(&seq.to_be_bytes());
            out.extend_from_slice(&data[f.mdat.clone()]);
        }
        Some(out)
    }

    /// How many fragments one pass has.
    pub(crate) fn fragment_count(&self) -> usize {
        self.fragments.len()
    }

    /// The loop period in nanoseconds.
    pub(crate) fn period_ns(&self) -> u64 {
        self.period_ns
    }
}

/// Adds `n` to the big-endian u32 at `out[at..at + 4]`.
fn add_u32(out: &mut [u8], at: usize, n: u32) -> Option<()> {
    let v = u32::from_be_bytes(out.get(at..at + 4)?.try_into().ok()?);
    out[at..at + 4].copy_from_slice(&v.checked_add(n)?.to_be_bytes());
    Some(())
}

/// The tracks `moov` declares, with their codecs as MSE names them.
fn tracks(data: &[u8], moov: &Bx) -> Result<Vec<Track>, SegmentError> {
    let inside = boxes(data, moov.payload.clone())?;
    let mut defaults = HashMap::new();
    if let Some(mvex) = child(&inside, b"mvex") {
        for trex in boxes(data, mvex.payload.clone())?
            .iter()
            .filter(|b| &b.kind == b"trex")
        {
            let mut r = Reader::of(data, trex);
            r.version_flags()?;
            let id = r.u32()?;
            let _description = r.u32()?;
            let duration = r.u32()?;
            let _size = r.u32()?;
            let flags = r.u32()?;
            defaults.insert(id, (duration, flags));
        }
    } else {
        return Err(refuse(
            format!("the MP4 file is not fragmented: re-mux it with `{REMUX}`"),
            moov.start,
        ));
    }
    let mut out = Vec::new();
    for trak in inside.iter().filter(|b| &b.kind == b"trak") {
        let parts = boxes(data, trak.payload.clone())?;
        let tkhd =
            child(&parts, b"tkhd").ok_or_else(|| refuse("a track without tkhd", trak.start))?;
        let mut r = Reader::of(data, tkhd);
        let (v, _) = r.version_flags()?;
        r.take(if v == 1 { 16 } else { 8 })?;
        let id = r.u32()?;
        let mdia =
            child(&parts, b"mdia").ok_or_else(|| refuse("a track without mdia", trak.start))?;
        let mdia_parts = boxes(data, mdia.payload.clone())?;
        let mdhd = child(&mdia_parts, b"mdhd")
            .ok_or_else(|| refuse("a track without mdhd", mdia.start))?;
        let mut r = Reader::of(data, mdhd);
        let (v, _) = r.version_flags()?;
        r.take(if v == 1 { 16 } else { 8 })?;
        let timescale = r.u32()?;
        if timescale == 0 {
            return Err(refuse("a track's timescale is 0", mdhd.start));
        }
        let hdlr = child(&mdia_parts, b"hdlr")
            .ok_or_else(|| refuse("a track without hdlr", mdia.start))?;
        let mut r = Reader::of(data, hdlr);
        r.version_flags()?;
        r.u32()?;
        let handler: [u8; 4] = r.take(4)?.try_into().expect("4");
        let video = match &handler {
            b"vide" => true,
            b"soun" => false,
            // Subtitles, timed metadata: MSE takes none of them in a live stream.
            other => {
                return Err(SegmentError::UnsupportedCodec(format!(
                    "a {} track",
                    String::from_utf8_lossy(other)
                )))
            }
        };
        let stsd = ["minf", "stbl", "stsd"]
            .iter()
            .try_fold(mdia.clone(), |b, name| {
                boxes(data, b.payload.clone())
                    .ok()
                    .and_then(|l| child(&l, name.as_bytes().try_into().expect("4")).cloned())
            })
            .ok_or_else(|| refuse("a track without its sample description", mdia.start))?;
        let codec = codec(data, &stsd)?;
        let (default_duration, default_flags) = defaults.get(&id).copied().unwrap_or((0, 0));
        out.push(Track {
            id,
            timescale,
            video,
            codec,
            default_duration,
            default_flags,
        });
    }
    if out.is_empty() {
        return Err(SegmentError::NoVideoTrack);
    }
    Ok(out)
}

/// The codec of a sample description, as MSE names it (`avc1.4d401e`, `mp4a.40.2`, `opus`).
fn codec(data: &[u8], stsd: &Bx) -> Result<String, SegmentError> {
    let mut r = Reader::of(data, stsd);
    r.version_flags()?;
    r.u32()?;
    let entries = boxes(data, r.at..stsd.payload.end)?;
    let entry = entries
        .first()
        .ok_or_else(|| refuse("an empty sample description", stsd.start))?;
    match &entry.kind {
        b"avc1" | b"avc3" => {
            // A VisualSampleEntry's fixed fields take 78 bytes before its child boxes.
            let start = entry.payload.start + 78;
            if start > entry.payload.end {
                return Err(refuse("a video sample entry is cut short", entry.start));
            }
            let kids = boxes(data, start..entry.payload.end)?;
            let avcc = child(&kids, b"avcC")
                .ok_or_else(|| refuse("an H.264 track without avcC", entry.start))?;
            let mut r = Reader::of(data, avcc);
            r.u8()?;
            let p = r.take(3)?;
            Ok(format!(
                "{}.{:02x}{:02x}{:02x}",
                String::from_utf8_lossy(&entry.kind),
                p[0],
                p[1],
                p[2]
            ))
        }
        b"mp4a" => Ok("mp4a.40.2".into()),
        b"Opus" => Ok("opus".into()),
        other => Err(SegmentError::UnsupportedCodec(
            String::from_utf8_lossy(other).into_owned(),
        )),
    }
}

/// One `moof` read: its track fragments' times, durations, data offsets and first flags.
fn fragment(
    data: &[u8],
    moof: &Bx,
    mdat: &Bx,
    tracks: &[Track],
    video: u32,
) -> Result<Fragment, SegmentError> {
    // Sizes that grow when a tfdt does are rewritten as 32-bit fields.
    if moof.payload.start - moof.start != 8 {
        return Err(refuse("a moof box with a 64-bit size", moof.start));
    }
    let parts = boxes(data, moof.payload.clone())?;
    let mfhd = child(&parts, b"mfhd").ok_or_else(|| refuse("a moof without mfhd", moof.start))?;
    let mut trafs = Vec::new();
    let mut traf_starts = Vec::new();
    for traf in parts.iter().filter(|b| &b.kind == b"traf") {
        if traf.payload.start - traf.start != 8 {
            return Err(refuse("a traf box with a 64-bit size", traf.start));
        }
        let kids = boxes(data, traf.payload.clone())?;
        let tfhd =
            child(&kids, b"tfhd").ok_or_else(|| refuse("a traf without tfhd", traf.start))?;
        let mut r = Reader::of(data, tfhd);
        let (_, flags) = r.version_flags()?;
        let id = r.u32()?;
        let track = tracks.iter().find(|t| t.id == id).ok_or_else(|| {
            refuse(
                format!("a fragment of track {id}, which moov does not declare"),
                tfhd.start,
            )
        })?;
        if flags & TFHD_BASE_DATA_OFFSET != 0 {
            return Err(refuse(
                format!(
                    "its fragments address their data by file offset: re-mux it with `{REMUX}`"
                ),
                tfhd.start,
            ));
        }
        if flags & TFHD_SAMPLE_DESCRIPTION != 0 {
            r.u32()?;
        }
        let default_duration = if flags & TFHD_DEFAULT_DURATION != 0 {
            r.u32()?
        } else {
            track.default_duration
        };
        if flags & TFHD_DEFAULT_SIZE != 0 {
            r.u32()?;
        }
        let default_flags = if flags & TFHD_DEFAULT_FLAGS != 0 {
            r.u32()?
        } else {
            track.default_flags
        };
        let tfdt = child(&kids, b"tfdt").ok_or_else(|| {
            refuse(
                format!("a fragment without its decode time: re-mux it with `{REMUX}`"),
                traf.start,
            )
        })?;
        let mut r = Reader::of(data, tfdt);
        let (v, _) = r.version_flags()?;
        let time = if v == 1 {
            r.u64()?
        } else {
            u64::from(r.u32()?)
        };
        if tfdt.payload.end - tfdt.start != if v == 1 { 20 } else { 16 } {
            return Err(refuse("a tfdt box of an unexpected size", tfdt.start));
        }
        if time > MAX_TIME {
            return Err(refuse("a decode time too large to loop", tfdt.start));
        }
        let mut duration = 0u64;
        let mut data_offsets = Vec::new();
        let mut sync = None;
        for trun in kids.iter().filter(|b| &b.kind == b"trun") {
            let mut r = Reader::of(data, trun);
            let (_, tr) = r.version_flags()?;
            let count = r.u32()?;
            if tr & TRUN_DATA_OFFSET == 0 {
                return Err(refuse(
                    format!("a fragment's samples have no data offset: re-mux it with `{REMUX}`"),
                    trun.start,
                ));
            }
            data_offsets.push(r.at);
            r.u32()?;
            let first_flags = if tr & TRUN_FIRST_FLAGS != 0 {
                Some(r.u32()?)
            } else {
                None
            };
            let per_sample = [TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_CTO]
                .iter()
                .filter(|f| tr & **f != 0)
                .count();
            // Every sample's fields must be there before any is read.
            if (count as usize).saturating_mul(4 * per_sample) > r.end - r.at {
                return Err(refuse(
                    "a trun lists more samples than it holds",
                    trun.start,
                ));
            }
            if per_sample == 0 {
                // No field of their own: the defaults hold for every sample, and nothing bounds
                // the count by the box's size (one by one, four billion took 27 s to add up).
                if count > 0 && sync.is_none() {
                    sync = Some(first_flags.unwrap_or(default_flags) & NON_SYNC == 0);
                }
                duration = duration.saturating_add(u64::from(count) * u64::from(default_duration));
                continue;
            }
            for i in 0..count {
                let d = if tr & TRUN_DURATION != 0 {
                    r.u32()?
                } else {
                    default_duration
                };
                if tr & TRUN_SIZE != 0 {
                    r.u32()?;
                }
                let f = if tr & TRUN_FLAGS != 0 {
                    r.u32()?
                } else {
                    default_flags
                };
                if tr & TRUN_CTO != 0 {
                    r.u32()?;
                }
                if i == 0 && sync.is_none() {
                    sync = Some(first_flags.unwrap_or(f) & NON_SYNC == 0);
                }
                duration = duration.saturating_add(u64::from(d));
            }
        }
        if duration > MAX_TIME {
            return Err(refuse(
                "a fragment's samples last too long to loop",
                traf.start,
            ));
        }
        traf_starts.push(traf.start);
        trafs.push(TrafAt {
            track: id,
            tfdt: tfdt.start,
            tfdt_v1: v == 1,
            time,
            duration,
            data_offsets,
            sync: sync.unwrap_or(false),
        });
    }
    let keyframe = trafs.iter().any(|t| t.track == video && t.sync);
    let sequence_at = mfhd.payload.start + 4;
    if sequence_at + 4 > mfhd.payload.end {
        return Err(refuse("an mfhd box is cut short", mfhd.start));
    }
    Ok(Fragment {
        moof: moof.clone(),
        mdat: mdat.start..mdat.payload.end,
        sequence_at,
        trafs,
        traf_starts,
        keyframe,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::{LiveSource, Segment};

    /// Eight seconds of the live demo as fragmented MP4 (H.264 Main 640x360 with a keyframe
    /// every second, AAC), made with `ffmpeg -i crates/store/demo/media/glass-rain.webm -t 8
    /// -vf scale=640:360 -c:v libx264 -profile:v main -b:v 300k -g 24 -keyint_min 24
    /// -sc_threshold 0 -c:a aac -b:a 64k -movflags +frag_keyframe+empty_moov+default_base_moof`.
    const MP4: &[u8] = include_bytes!("../testdata/glass-rain-8s.mp4");

    /// Reads a segment's boxes back: each moof's tfdt per track and its trun data offsets,
    /// checked to land on its mdat's payload.
    fn decode_times(bytes: &[u8]) -> Vec<(u32, u64)> {
        let top = boxes(bytes, 0..bytes.len()).unwrap();
        let mut out = Vec::new();
        for (i, b) in top.iter().enumerate() {
            if &b.kind != b"moof" {
                continue;
            }
            let mdat = &top[i + 1];
            assert_eq!(&mdat.kind, b"mdat");
            for traf in boxes(bytes, b.payload.clone())
                .unwrap()
                .iter()
                .filter(|t| &t.kind == b"traf")
            {
                let kids = boxes(bytes, traf.payload.clone()).unwrap();
                let id = u32::from_be_bytes(
                    bytes[kids[0].payload.start + 4..kids[0].payload.start + 8]
                        .try_into()
                        .unwrap(),
                );
                let tfdt = child(&kids, b"tfdt").unwrap();
                assert_eq!(
                    bytes[tfdt.payload.start], 1,
                    "tfdt is written in its 64-bit form"
                );
                let mut r = Reader::of(bytes, tfdt);
                r.version_flags().unwrap();
                out.push((id, r.u64().unwrap()));
                let trun = child(&kids, b"trun").unwrap();
                let off = i32::from_be_bytes(
                    bytes[trun.payload.start + 8..trun.payload.start + 12]
                        .try_into()
                        .unwrap(),
                );
                let at = b.start as i64 + i64::from(off);
                assert!(
                    (mdat.payload.start as i64..mdat.payload.end as i64).contains(&at),
                    "a trun's data offset lands in its mdat"
                );
            }
        }
        out
    }

    /// A trun whose samples have no field of their own costs no bytes per sample, so its count
    /// is bounded by nothing in the file: four billion of them are counted at once, not one by
    /// one (the fuzzer's input took 27 s).
    #[test]
    fn a_trun_of_four_billion_samples_without_fields_is_counted_at_once() {
        let mut bytes = MP4.to_vec();
        let top = boxes(&bytes, 0..bytes.len()).unwrap();
        let moof = top.iter().find(|b| &b.kind == b"moof").unwrap();
        let kids = boxes(&bytes, moof.payload.clone()).unwrap();
        let traf = child(&kids, b"traf").unwrap();
        let kids = boxes(&bytes, traf.payload.clone()).unwrap();
        let trun = child(&kids, b"trun").unwrap();
        let at = trun.payload.start;
        // Version 0; of the flags only the data offset and the first sample's flags stay (they
        // keep their places), so no sample has a field; the count is the largest there is.
        let flags = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap())
            & (TRUN_DATA_OFFSET | TRUN_FIRST_FLAGS);
        bytes[at..at + 4].copy_from_slice(&flags.to_be_bytes());
        bytes[at + 4..at + 8].copy_from_slice(&u32::MAX.to_be_bytes());
        let source = LiveSource::parse(&bytes).unwrap();
        // Each of the 2^32 - 1 samples lasts the track's default (1/24 s here): years.
        let years = source.duration_ms() / (365 * 24 * 3_600_000);
        assert!((5..=6).contains(&years), "{} ms", source.duration_ms());
    }

    #[test]
    fn a_fragmented_mp4_is_cut_at_its_keyframe_fragments_and_loops_seamlessly() {
        let source = LiveSource::parse(MP4).unwrap();
        assert!(
            source.mime().starts_with("video/mp4; codecs=\"avc1.4d"),
            "{}",
            source.mime()
        );
        assert!(source.mime().ends_with(",mp4a.40.2\""), "{}", source.mime());
        assert!(MP4.starts_with(source.init_segment()));
        assert!(
            (7_900..=8_200).contains(&source.duration_ms()),
            "{}",
            source.duration_ms()
        );
        let looper = source.segments(0);
        let per_loop = looper.segments_per_loop();
        assert_eq!(
            per_loop,
            source.cluster_count(),
            "one-second fragments, one segment each"
        );
        let segments: Vec<Segment> = source.segments(0).take(2 * per_loop + 2).collect();
        let mut at = 0;
        let mut last_video = None;
        for (i, s) in segments.iter().enumerate() {
            assert_eq!(s.sequence, i as u64);
            assert_eq!(s.start_ms, at, "segment {i} starts where the last ended");
            assert!((900..=1_100).contains(&s.duration_ms), "{}", s.duration_ms);
            at += s.duration_ms;
            let times = decode_times(&s.bytes);
            let video = times.iter().find(|(id, _)| *id == 1).unwrap().1;
            if let Some(prev) = last_video {
                assert!(video > prev, "decode times keep rising across the loop");
            }
            last_video = Some(video);
        }
        assert_eq!(segments[per_loop].start_ms, source.duration_ms());
        // The second pass is the first, moved on by one period.
        let first = decode_times(&segments[0].bytes);
        let again = decode_times(&segments[per_loop].bytes);
        assert_eq!(
            first.iter().map(|t| t.0).collect::<Vec<_>>(),
            again.iter().map(|t| t.0).collect::<Vec<_>>()
        );
        assert!(first.iter().all(|(_, t)| *t == 0), "{first:?}");
        assert!(again.iter().all(|(_, t)| *t > 0));
        assert!(
            source.mean_bitrate_bps() > 200_000,
            "{}",
            source.mean_bitrate_bps()
        );
    }

    /// `MP4` with every `tfdt` in its 32-bit form (version 0), sizes and offsets adjusted: what
    /// other muxers write.
    fn with_short_decode_times() -> Vec<u8> {
        let top = boxes(MP4, 0..MP4.len()).unwrap();
        let mut out = Vec::new();
        for b in &top {
            if &b.kind != b"moof" {
                out.extend_from_slice(&MP4[b.start..b.payload.end]);
                continue;
            }
            let parts = boxes(MP4, b.payload.clone()).unwrap();
            let trafs = parts.iter().filter(|p| &p.kind == b"traf").count() as u32;
            let mut moof = Vec::new();
            for p in &parts {
                if &p.kind != b"traf" {
                    moof.extend_from_slice(&MP4[p.start..p.payload.end]);
                    continue;
                }
                let mut traf = Vec::new();
                for k in boxes(MP4, p.payload.clone()).unwrap() {
                    match &k.kind {
                        b"tfdt" => {
                            let t = u64::from_be_bytes(
                                MP4[k.payload.start + 4..k.payload.start + 12]
                                    .try_into()
                                    .unwrap(),
                            );
                            traf.extend_from_slice(&16u32.to_be_bytes());
                            traf.extend_from_slice(b"tfdt");
                            traf.extend_from_slice(&0u32.to_be_bytes());
                            traf.extend_from_slice(&(t as u32).to_be_bytes());
                        }
                        b"trun" => {
                            let mut trun = MP4[k.start..k.payload.end].to_vec();
                            let off = u32::from_be_bytes(trun[16..20].try_into().unwrap());
                            trun[16..20].copy_from_slice(&(off - 4 * trafs).to_be_bytes());
                            traf.extend_from_slice(&trun);
                        }
                        _ => traf.extend_from_slice(&MP4[k.start..k.payload.end]),
                    }
                }
                moof.extend_from_slice(&(traf.len() as u32 + 8).to_be_bytes());
                moof.extend_from_slice(b"traf");
                moof.extend_from_slice(&traf);
            }
            out.extend_from_slice(&(moof.len() as u32 + 8).to_be_bytes());
            out.extend_from_slice(b"moof");
            out.extend_from_slice(&moof);
        }
        out
    }

    #[test]
    fn short_decode_times_are_written_long_with_sizes_and_offsets_moved() {
        let short = with_short_decode_times();
        assert!(short.len() < MP4.len());
        let a = LiveSource::parse(MP4).unwrap();
        let b = LiveSource::parse(&short).unwrap();
        let per_loop = a.segments(0).segments_per_loop();
        for (x, y) in a.segments(0).zip(b.segments(0)).take(2 * per_loop) {
            assert_eq!(x, y, "segment {}", x.sequence);
        }
    }

    /// Random bytes changed anywhere in the file: refused or cut, two passes of it, never a
    /// panic (the fuzz target `live_segment` goes further).
    #[test]
    fn mutated_mp4_files_never_panic() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..3_000 {
            let mut file = MP4.to_vec();
            for _ in 0..rng.gen_range(1..4) {
                let at = rng.gen_range(0..file.len().min(4_000));
                file[at] = rng.gen();
            }
            if let Ok(source) = LiveSource::parse(&file) {
                let per_loop = source.segments(0).segments_per_loop();
                for s in source.segments(0).take(2 * per_loop) {
                    assert!(!s.bytes.is_empty());
                }
            }
        }
    }

    #[test]
    fn mp4_files_that_cannot_be_cut_are_refused_in_words() {
        // Cut short anywhere: an error, never a panic.
        for end in [9, 100, 700, 1_400, 2_000, 50_000] {
            let _ = LiveSource::parse(&MP4[..end]);
        }
        assert!(LiveSource::parse(&MP4[..1_000]).is_err());
        // Not fragmented: ftyp and moov only.
        let top = boxes(MP4, 0..MP4.len()).unwrap();
        let moov_end = top[1].payload.end;
        let e = LiveSource::parse(&MP4[..moov_end]).unwrap_err().to_string();
        assert!(
            e.contains("not fragmented") && e.contains("-movflags"),
            "{e}"
        );
        // A box claiming more than the file holds.
        let mut huge = MP4.to_vec();
        let moof = top.iter().find(|b| &b.kind == b"moof").unwrap().start;
        huge[moof..moof + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(LiveSource::parse(&huge).is_err());
        // Data addressed by file offset (tfhd's base-data-offset flag).
        let mut absolute = MP4.to_vec();
        let tfhd = MP4.windows(4).position(|w| w == b"tfhd").unwrap();
        absolute[tfhd + 7] |= 0x01;
        let e = LiveSource::parse(&absolute).unwrap_err().to_string();
        assert!(
            e.contains("by file offset") && e.contains("default_base_moof"),
            "{e}"
        );
        // A first fragment that does not start on a keyframe.
        let mut late = MP4.to_vec();
        let trun = MP4.windows(4).position(|w| w == b"trun").unwrap();
        // The video trun's first-sample flags (after version/flags, count and data offset).
        late[trun + 16..trun + 20].copy_from_slice(&NON_SYNC.to_be_bytes());
        assert_eq!(
            LiveSource::parse(&late).unwrap_err(),
            SegmentError::FirstFragmentNotKeyframe
        );
    }
}

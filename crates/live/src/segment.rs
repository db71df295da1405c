//! # Re-cutting a WebM file into live segments
//!
//! A broadcaster "goes live" from a video file played in a loop. Nothing is re-encoded: the file's
//! Clusters are copied byte for byte, only their `Timecode` is rewritten so that the timeline keeps
//! running across loops.
//!
//! * [`LiveSource::init_segment`] is what a Media Source Extensions `SourceBuffer` is given first:
//!   the EBML header, a Segment header of *unknown size*, Info (without Duration) and Tracks.
//! * [`LiveSource::segments`] yields [`Segment`]s forever: Clusters, each segment starting on a
//!   video keyframe, about a target duration long, loop `k` shifted by `k` × the file's duration.
//!
//! Segments start at Cluster boundaries where they can. Many encoders put several keyframes in
//! one Cluster (5 s Clusters with a keyframe every second), and a viewer can only start, or
//! resume after a missed chunk, at a segment boundary: so a Cluster longer than the target is cut
//! at a video keyframe inside it. The bytes from that keyframe on become a Cluster of their own,
//! with the keyframe's time as its `Timecode` and every block's 16-bit relative timecode rebased
//! on it (a keyframe where one would not fit is not a cut point); the blocks stay in file order,
//! audio included, and the bytes are otherwise untouched.
//!
//! The input is untrusted (a broadcaster may pick any file): every size is checked against the
//! bytes that are actually there before it is used, nothing is allocated from a declared size,
//! and bad input is a [`SegmentError`], never a panic.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use marquee_ebml::{children, read_id, read_vint, Element, Error as EbmlError, Header};
use thiserror::Error;

/// The default target length of a media segment, in milliseconds.
pub const DEFAULT_TARGET_MS: u64 = 1000;

/// Element IDs (Matroska / WebM), with their marker bits, as they appear in the file.
mod id {
    pub const EBML: u32 = 0x1A45_DFA3;
    pub const EBML_READ_VERSION: u32 = 0x42F7;
    pub const EBML_MAX_ID_LENGTH: u32 = 0x42F2;
    pub const EBML_MAX_SIZE_LENGTH: u32 = 0x42F3;
    pub const DOC_TYPE: u32 = 0x4282;
    pub const SEGMENT: u32 = 0x1853_8067;
    pub const INFO: u32 = 0x1549_A966;
    pub const TIMECODE_SCALE: u32 = 0x2A_D7B1;
    pub const DURATION: u32 = 0x4489;
    pub const TRACKS: u32 = 0x1654_AE6B;
    pub const TRACK_ENTRY: u32 = 0xAE;
    pub const TRACK_NUMBER: u32 = 0xD7;
    pub const TRACK_TYPE: u32 = 0x83;
    pub const CODEC_ID: u32 = 0x86;
    pub const CODEC_PRIVATE: u32 = 0x63A2;
    pub const DEFAULT_DURATION: u32 = 0x23_E383;
    pub const CLUSTER: u32 = 0x1F43_B675;
    pub const TIMECODE: u32 = 0xE7;
    pub const SILENT_TRACKS: u32 = 0x5854;
    pub const POSITION: u32 = 0xA7;
    pub const PREV_SIZE: u32 = 0xAB;
    pub const SIMPLE_BLOCK: u32 = 0xA3;
    pub const BLOCK_GROUP: u32 = 0xA0;
    pub const BLOCK: u32 = 0xA1;
    pub const BLOCK_DURATION: u32 = 0x9B;
    pub const REFERENCE_BLOCK: u32 = 0xFB;
    pub const DISCARD_PADDING: u32 = 0x75A2;
    pub const ENCRYPTED_BLOCK: u32 = 0xAF;
    pub const VOID: u32 = 0xEC;
    pub const CRC32: u32 = 0xBF;
}

/// Matroska TrackType values.
const TRACK_VIDEO: u64 = 1;
const TRACK_AUDIO: u64 = 2;

/// The Segment size that means "unknown": all value bits set in an 8-byte size.
const UNKNOWN_SIZE_8: [u8; 8] = [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];

/// Timestamps (in TimecodeScale ticks) above this are refused, so that sums and products of them
/// (block times, loop offsets, conversion to ms through `u128`) cannot overflow.
const MAX_TICKS: u64 = 1 << 62;

/// Why a file cannot be cut into live segments.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SegmentError {
    /// The input does not start with an EBML header.
    #[error("not an EBML file: no EBML header at the start")]
    NotEbml,
    /// The EBML DocType is neither `webm` nor `matroska`.
    #[error("unsupported DocType {0:?}: expected \"webm\" or \"matroska\"")]
    DocType(String),
    /// The EBML header asks for a reader this parser is not (read version, ID or size length).
    #[error("unsupported EBML header: {0}")]
    EbmlHeader(&'static str),
    /// An element header runs past the end of the input (or of its parent).
    #[error("truncated input: an element header at byte {offset} runs past the end")]
    Truncated {
        /// Byte offset of the element header.
        offset: usize,
    },
    /// A variable-length integer (ID or size) is malformed.
    #[error("invalid variable-length integer at byte {offset}")]
    InvalidVint {
        /// Byte offset of the integer.
        offset: usize,
    },
    /// An element declares more bytes than remain in its parent: a truncated file or a bogus,
    /// possibly absurdly large, size.
    #[error("element 0x{id:X} at byte {offset} declares {size} bytes but only {available} remain")]
    SizePastEnd {
        /// The element's ID.
        id: u32,
        /// Byte offset of the element header.
        offset: usize,
        /// The declared size.
        size: u64,
        /// The bytes actually left in the parent.
        available: u64,
    },
    /// An element other than Segment or Cluster has an unknown size.
    #[error(
        "element 0x{id:X} at byte {offset} has an unknown size (only Segment and Cluster may)"
    )]
    UnknownSize {
        /// The element's ID.
        id: u32,
        /// Byte offset of the element header.
        offset: usize,
    },
    /// There is no Segment after the EBML header.
    #[error("no Segment element")]
    NoSegment,
    /// A required element is missing (Info or Tracks before the first Cluster).
    #[error("missing {0}")]
    Missing(&'static str),
    /// Tracks has no video track.
    #[error("no video track")]
    NoVideoTrack,
    /// A video or audio track's codec cannot be carried through Media Source Extensions.
    #[error(
        "unsupported codec {0:?} (a live channel carries VP8, VP9, AV1, Vorbis or Opus in WebM, \
         H.264 with AAC or Opus in MP4)"
    )]
    UnsupportedCodec(String),
    /// An MP4 file that cannot be cut as it is: what is wrong, and where.
    #[error("{reason} (at byte {offset})")]
    Mp4 {
        /// What is wrong, with what to do when re-muxing helps.
        reason: String,
        /// Byte offset of the offending box.
        offset: usize,
    },
    /// The first fragment of an MP4 file does not start with a video sync sample.
    #[error("the first fragment does not start with a video keyframe")]
    FirstFragmentNotKeyframe,
    /// The Segment has no Cluster.
    #[error("no clusters")]
    NoClusters,
    /// The first Cluster does not start with a video keyframe, so a viewer could not start there.
    #[error("the first cluster does not start with a video keyframe")]
    FirstClusterNotKeyframe,
    /// A value is out of range or an element is malformed.
    #[error("invalid {what} at byte {offset}")]
    Invalid {
        /// What is wrong.
        what: &'static str,
        /// Byte offset of the offending element.
        offset: usize,
    },
}

/// One live media segment: one or more Clusters (whole ones of the file, or the parts of one cut
/// at a video keyframe), starting on a video keyframe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Position in the live stream: 0, 1, 2, … across loops.
    pub sequence: u64,
    /// Presentation time of the segment's first Cluster (its `Timecode`) in the live timeline, in
    /// milliseconds.
    pub start_ms: u64,
    /// Length in milliseconds: `start_ms + duration_ms` is the next segment's `start_ms`.
    pub duration_ms: u64,
    /// Whether the segment starts on a video keyframe (always true for segments cut here).
    pub keyframe: bool,
    /// The Clusters, each with a known size and a rewritten Timecode.
    pub bytes: Vec<u8>,
}

/// A parsed WebM file, ready to be cut into live segments.
pub(crate) struct WebmSource {
    /// The whole file; Clusters are copied out of it.
    data: Vec<u8>,
    init: Vec<u8>,
    mime: String,
    /// Nanoseconds per Timecode tick.
    timecode_scale: u64,
    clusters: Vec<ClusterMeta>,
    /// Where a segment may start, in file order: every Cluster, and the video keyframes inside
    /// them where a Cluster may be cut.
    pieces: Vec<Piece>,
    /// The first cluster's Timecode: the live timeline starts there.
    first_ticks: u64,
    /// Ticks from the first cluster to the end of the last frame: the loop period.
    period_ticks: u64,
}

/// What the cutter keeps of one Cluster.
#[derive(Debug, Clone)]
struct ClusterMeta {
    /// The Cluster's Timecode, in ticks.
    timecode: u64,
    /// Whether its first video block is a keyframe.
    keyframe: bool,
    /// The children copied verbatim: everything but Timecode, and Position, PrevSize and CRC-32,
    /// which would be wrong in the re-cut stream. Adjacent children are merged into one range.
    kept: Vec<Range<usize>>,
    /// Its SimpleBlocks and BlockGroups, in file order: where it may be cut, and the relative
    /// timecodes to rebase when it is.
    blocks: Vec<BlockAt>,
    /// No cut may go before `blocks[first_cut]`: something follows whose timecode a cut could
    /// not rebase (an EncryptedBlock, or a BlockGroup with more than one Block).
    first_cut: usize,
}

/// A block of a Cluster, as a cut needs it.
#[derive(Debug, Clone, Copy)]
struct BlockAt {
    /// Where the SimpleBlock or BlockGroup element starts: a cut before it goes there.
    offset: usize,
    /// Where its (or its Block's) two-byte relative timecode is.
    timecode_at: usize,
    /// Its timecode relative to the Cluster's, in ticks.
    relative: i16,
    /// A video keyframe that is not the Cluster's first video block: the Cluster may be cut
    /// before it (cutting before the first one would only split off the audio ahead of it).
    key: bool,
}

/// Where a segment may start: a Cluster's start, or a video keyframe inside it. A piece runs to
/// the next piece of the same Cluster, or to the Cluster's end.
#[derive(Debug, Clone, Copy)]
struct Piece {
    /// Index in [`WebmSource::clusters`].
    cluster: usize,
    /// The keyframe it starts at (an index in the Cluster's `blocks`); `None` for the Cluster's
    /// start.
    from: Option<usize>,
    /// Its start in the file's ticks: the Cluster's Timecode, or the keyframe's time.
    ticks: u64,
    /// Whether its first video block is a keyframe (always, for a piece that starts at one).
    keyframe: bool,
}

impl fmt::Debug for WebmSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebmSource")
            .field("bytes", &self.data.len())
            .field("mime", &self.mime)
            .field("timecode_scale", &self.timecode_scale)
            .field("clusters", &self.clusters.len())
            .field("duration_ms", &self.duration_ms())
            .finish()
    }
}

impl WebmSource {
    /// Parses a WebM (or Matroska with WebM codecs) file. The bytes are validated first and copied
    /// only if they are good; see [`WebmSource::from_vec`] to avoid the copy.
    pub fn parse(webm: &[u8]) -> Result<WebmSource, SegmentError> {
        let layout = scan(webm)?;
        Ok(layout.into_source(webm.to_vec()))
    }

    /// Parses a WebM file that the caller already owns, without copying it.
    pub fn from_vec(webm: Vec<u8>) -> Result<WebmSource, SegmentError> {
        let layout = scan(&webm)?;
        Ok(layout.into_source(webm))
    }

    /// The initialisation segment: EBML header, Segment header of unknown size, Info without
    /// Duration, Tracks. Append it to a `SourceBuffer` before any media segment.
    pub fn init_segment(&self) -> &[u8] {
        &self.init
    }

    /// The loop period in milliseconds: from the first Cluster to the end of the last frame (or
    /// the file's declared Duration, if that is later).
    pub fn duration_ms(&self) -> u64 {
        ticks_to_ms(self.period_ticks, self.timecode_scale)
    }

    /// The MIME type for `MediaSource.addSourceBuffer`, e.g. `video/webm; codecs="vp9,opus"`.
    pub fn mime(&self) -> String {
        self.mime.clone()
    }

    /// Nanoseconds per Timecode tick (the file's TimecodeScale; 1,000,000 unless it says
    /// otherwise).
    #[cfg(test)]
    fn timecode_scale_ns(&self) -> u64 {
        self.timecode_scale
    }

    /// The number of Clusters in one pass of the file.
    pub fn cluster_count(&self) -> usize {
        self.clusters.len()
    }

    /// An endless iterator of media segments of about `target_ms` milliseconds each (0 means
    /// [`DEFAULT_TARGET_MS`]). A segment starts at a Cluster that starts on a video keyframe, or
    /// at a video keyframe inside a Cluster, which is then cut there; a Cluster with no keyframe
    /// to cut at stays whole, however much longer than the target it is.
    pub fn segments(&self, target_ms: u64) -> WebmLooper<'_> {
        let target_ms = if target_ms == 0 {
            DEFAULT_TARGET_MS
        } else {
            target_ms
        };
        // Plan in ticks, so that a non-millisecond TimecodeScale loses nothing.
        let target = u64::try_from(
            (u128::from(target_ms) * 1_000_000).div_ceil(u128::from(self.timecode_scale)),
        )
        .unwrap_or(u64::MAX)
        .max(1);
        WebmLooper {
            source: self,
            plan: self.plan(target),
            index: 0,
            lap: 0,
            sequence: 0,
        }
    }

    /// The piece's start relative to the live timeline's origin, in ticks (the loop period past
    /// the last one).
    fn piece_start(&self, i: usize) -> u64 {
        match self.pieces.get(i) {
            // Piece times never go below the first Cluster's Timecode (see `pieces`).
            Some(p) => p.ticks - self.first_ticks,
            None => self.period_ticks,
        }
    }

    /// Groups the pieces (Clusters, or their parts from a keyframe on) of one loop into segments
    /// of about `target` ticks.
    fn plan(&self, target: u64) -> Vec<Planned> {
        let mut plan = Vec::new();
        let mut first = 0;
        for i in 1..self.pieces.len() {
            // A segment may only start on a keyframe: a Cluster that does not is appended to the
            // segment before it.
            if !self.pieces[i].keyframe {
                continue;
            }
            let start = self.piece_start(first);
            let so_far = self.piece_start(i) - start;
            if so_far == 0 {
                continue;
            }
            let with_next = self.piece_start(i + 1) - start;
            // Cut once the target is reached, or earlier if taking this piece too would
            // overshoot the target by more than stopping here undershoots it.
            if so_far >= target || with_next.saturating_sub(target) > target - so_far {
                plan.push(self.planned(first..i));
                first = i;
            }
        }
        plan.push(self.planned(first..self.pieces.len()));
        plan
    }

    fn planned(&self, pieces: Range<usize>) -> Planned {
        Planned {
            start: self.piece_start(pieces.start),
            end: self.piece_start(pieces.end),
            keyframe: self.pieces[pieces.start].keyframe,
            pieces,
        }
    }

    /// The Clusters of the pieces in `pieces`, shifted by `offset` ticks, each rewritten with a
    /// known size. Consecutive pieces of one Cluster go out as one Cluster, so a Cluster is cut
    /// only where a segment starts. `None` if a timecode would overflow (after centuries of
    /// looping).
    fn segment_bytes(&self, pieces: Range<usize>, offset: u64) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut i = pieces.start;
        while i < pieces.end {
            let piece = self.pieces.get(i)?;
            let mut next = i + 1;
            while next < pieces.end && self.pieces.get(next)?.cluster == piece.cluster {
                next += 1;
            }
            // The part ends where the next segment cuts the same Cluster, if it does.
            let to = self
                .pieces
                .get(next)
                .filter(|p| p.cluster == piece.cluster)
                .and_then(|p| p.from);
            self.write_cluster(&mut out, piece, to, offset)?;
            i = next;
        }
        Some(out)
    }

    /// Writes the Cluster of `piece` up to its block `to` (its end if `None`), shifted by `offset`
    /// ticks. From a keyframe, the Timecode is the keyframe's time and the relative timecodes of
    /// the blocks written are rebased on it.
    fn write_cluster(
        &self,
        out: &mut Vec<u8>,
        piece: &Piece,
        to: Option<usize>,
        offset: u64,
    ) -> Option<()> {
        let cluster = self.clusters.get(piece.cluster)?;
        let timecode = (piece.ticks - self.first_ticks).checked_add(offset)?;
        let to = to.unwrap_or(cluster.blocks.len());
        let end = match cluster.blocks.get(to) {
            Some(b) => b.offset,
            None => usize::MAX,
        };
        // Where the part starts, the blocks to rebase and by how much: none from the start.
        let (start, rebased, base) = match piece.from {
            Some(k) => {
                let key = cluster.blocks.get(k)?;
                (key.offset, cluster.blocks.get(k..to)?, key.relative)
            }
            None => (0, &[][..], 0),
        };
        // The kept children within the part: cuts fall between children, so whole ones.
        let ranges = || {
            cluster
                .kept
                .iter()
                .map(move |r| r.start.max(start)..r.end.min(end))
                .filter(|r| !r.is_empty())
        };
        let mut tc_element = Vec::with_capacity(10);
        write_uint_element(&mut tc_element, id::TIMECODE, timecode);
        let body: usize = tc_element.len() + ranges().map(|r| r.len()).sum::<usize>();
        out.reserve(body + 12);
        write_id(out, id::CLUSTER);
        write_size(out, body as u64);
        // The Timecode first: players (and the Matroska spec) expect it before any block.
        out.extend_from_slice(&tc_element);
        let mut blocks = rebased.iter().peekable();
        for range in ranges() {
            let at = out.len();
            out.extend_from_slice(self.data.get(range.clone())?);
            // Blocks are kept children, so each block's timecode lies in one of these ranges,
            // and both are in file order.
            while let Some(block) = blocks.next_if(|b| b.timecode_at < range.end) {
                // `pieces` only cuts where every rebased timecode fits.
                let relative = i16::try_from(i32::from(block.relative) - i32::from(base)).ok()?;
                let pos = at + block.timecode_at.checked_sub(range.start)?;
                out.get_mut(pos..pos + 2)?
                    .copy_from_slice(&relative.to_be_bytes());
            }
        }
        Some(())
    }
}

/// One planned segment of a loop, times in ticks from the live timeline's origin.
#[derive(Debug, Clone)]
struct Planned {
    pieces: Range<usize>,
    start: u64,
    end: u64,
    keyframe: bool,
}

/// An endless iterator of [`Segment`]s over a looped [`WebmSource`]; use `.take(n)` for `n`.
///
/// Loop `k`'s Cluster timecodes are those of the file, shifted so that the first Cluster is at 0,
/// plus `k` × [`WebmSource::duration_ms`] (in ticks): the timeline has neither gap nor overlap at
/// the seam. (The iterator only ends if a timestamp would overflow `u64` ticks.)
#[derive(Debug)]
pub(crate) struct WebmLooper<'a> {
    source: &'a WebmSource,
    plan: Vec<Planned>,
    /// The next segment's index in `plan`.
    index: usize,
    /// The next segment's loop number.
    lap: u64,
    sequence: u64,
}

impl WebmLooper<'_> {
    /// How many segments one pass of the file makes.
    pub fn segments_per_loop(&self) -> usize {
        self.plan.len()
    }

    /// The loop number of the next segment (0 for the first pass).
    pub fn loop_index(&self) -> u64 {
        self.lap
    }

    /// Makes `sequence` the next segment, e.g. to resume a channel after a restart, without
    /// building the segments in between.
    pub fn seek(&mut self, sequence: u64) {
        let per_loop = self.plan.len() as u64;
        self.lap = sequence / per_loop;
        self.index = (sequence % per_loop) as usize;
        self.sequence = sequence;
    }
}

impl Iterator for WebmLooper<'_> {
    type Item = Segment;

    fn next(&mut self) -> Option<Segment> {
        let source = self.source;
        let planned = &self.plan[self.index];
        let offset = self.lap.checked_mul(source.period_ticks)?;
        let start = offset.checked_add(planned.start)?;
        let end = offset.checked_add(planned.end)?;
        let bytes = source.segment_bytes(planned.pieces.clone(), offset)?;
        let start_ms = ticks_to_ms(start, source.timecode_scale);
        let segment = Segment {
            sequence: self.sequence,
            start_ms,
            // From the rounded ends, so that start + duration is exactly the next start.
            duration_ms: ticks_to_ms(end, source.timecode_scale) - start_ms,
            keyframe: planned.keyframe,
            bytes,
        };
        self.sequence += 1;
        self.index += 1;
        if self.index == self.plan.len() {
            self.index = 0;
            self.lap += 1;
        }
        Some(segment)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }

    fn nth(&mut self, n: usize) -> Option<Segment> {
        self.seek(self.sequence.checked_add(n as u64)?);
        self.next()
    }
}

fn ticks_to_ms(ticks: u64, scale: u64) -> u64 {
    u64::try_from(u128::from(ticks) * u128::from(scale) / 1_000_000).unwrap_or(u64::MAX)
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// The EBML reader's refusals as the cutter's, each keeping its reason and offset.
impl From<EbmlError> for SegmentError {
    fn from(e: EbmlError) -> SegmentError {
        match e {
            EbmlError::HeaderCut { offset } => SegmentError::Truncated { offset },
            EbmlError::IdTooLong { offset } | EbmlError::VintTooLong { offset } => {
                SegmentError::InvalidVint { offset }
            }
            EbmlError::PastParent {
                id,
                offset,
                size,
                available,
            } => SegmentError::SizePastEnd {
                id,
                offset,
                size,
                available,
            },
            EbmlError::UnknownSize { id, offset } => SegmentError::UnknownSize { id, offset },
            EbmlError::IntegerTooLong { offset, .. } => SegmentError::Invalid {
                what: "integer longer than 8 bytes",
                offset,
            },
            EbmlError::FloatSize { offset, .. } => SegmentError::Invalid {
                what: "float that is not 0, 4 or 8 bytes",
                offset,
            },
        }
    }
}

/// A string element, for error messages and codec IDs: at most its first 64 bytes.
fn read_string(buf: &[u8], el: &Element) -> String {
    let start = el.data.start;
    let first = Element {
        data: start..el.data.end.min(start + 64),
        ..el.clone()
    };
    first.string(buf)
}

/// A track as far as the cutter cares.
#[derive(Debug, Clone)]
struct Track {
    number: u64,
    kind: u64,
    /// The codec as MSE names it (`vp9`, `opus`, …); `None` for tracks that are neither video
    /// nor audio (subtitles, …).
    codec: Option<String>,
    default_duration_ns: Option<u64>,
}

/// What the cutter reads of one SimpleBlock or BlockGroup.
#[derive(Debug, Clone, Copy)]
struct BlockInfo {
    track: u64,
    /// Timecode relative to the cluster's, in ticks.
    relative: i16,
    /// Where that relative timecode is in the file.
    timecode_at: usize,
    keyframe: bool,
    /// BlockDuration, in ticks, if given.
    duration: Option<u64>,
    /// DiscardPadding at the end of the block (Opus's last packet usually has some), in ticks.
    discard: u64,
}

/// Per-track block times, to find where the last frame ends.
#[derive(Debug, Clone, Copy, Default)]
struct BlockStats {
    count: u64,
    min: i64,
    max: i64,
    /// BlockDuration of the latest block, if it had one.
    max_duration: Option<u64>,
    /// DiscardPadding of the latest block.
    max_discard: u64,
}

impl BlockStats {
    fn record(&mut self, time: i64, block: &BlockInfo) {
        if self.count == 0 || time >= self.max {
            self.max = time;
            self.max_duration = block.duration;
            self.max_discard = block.discard;
        }
        if self.count == 0 || time < self.min {
            self.min = time;
        }
        self.count += 1;
    }
}

/// Everything [`scan`] learns, before the file is copied.
struct Layout {
    init: Vec<u8>,
    mime: String,
    timecode_scale: u64,
    clusters: Vec<ClusterMeta>,
    pieces: Vec<Piece>,
    first_ticks: u64,
    period_ticks: u64,
}

impl Layout {
    fn into_source(self, data: Vec<u8>) -> WebmSource {
        WebmSource {
            data,
            init: self.init,
            mime: self.mime,
            timecode_scale: self.timecode_scale,
            clusters: self.clusters,
            pieces: self.pieces,
            first_ticks: self.first_ticks,
            period_ticks: self.period_ticks,
        }
    }
}

/// Checks the EBML header and returns where it ends.
fn parse_ebml_header(buf: &[u8]) -> Result<Element, SegmentError> {
    if buf.len() < 4 || buf[..4] != id::EBML.to_be_bytes() {
        return Err(SegmentError::NotEbml);
    }
    let ebml = Element::read(buf, 0, buf.len())?;
    // DocType defaults to "matroska" when absent.
    let mut doc_type = String::from("matroska");
    for child in children(buf, ebml.data.clone()) {
        let child = child?;
        match child.id {
            id::DOC_TYPE => doc_type = read_string(buf, &child),
            id::EBML_READ_VERSION if child.uint(buf)? != 1 => {
                return Err(SegmentError::EbmlHeader("EBMLReadVersion is not 1"))
            }
            id::EBML_MAX_ID_LENGTH if child.uint(buf)? > 4 => {
                return Err(SegmentError::EbmlHeader("IDs longer than 4 bytes"))
            }
            id::EBML_MAX_SIZE_LENGTH if child.uint(buf)? > 8 => {
                return Err(SegmentError::EbmlHeader("sizes longer than 8 bytes"))
            }
            _ => {}
        }
    }
    if doc_type != "webm" && doc_type != "matroska" {
        return Err(SegmentError::DocType(doc_type));
    }
    Ok(ebml)
}

/// Info, rebuilt: Duration dropped (a live stream has none: with it, MSE would set the
/// MediaSource's duration to one pass of the file and stop there), CRC-32 dropped (it would no
/// longer match), Void dropped (padding is useless in a stream).
fn parse_info(buf: &[u8], info: &Element) -> Result<(Vec<u8>, u64, Option<f64>), SegmentError> {
    let mut scale = 1_000_000;
    let mut duration = None;
    let mut kept = Vec::with_capacity(info.data.len());
    for child in children(buf, info.data.clone()) {
        let child = child?;
        match child.id {
            id::TIMECODE_SCALE => {
                scale = child.uint(buf)?;
                if scale == 0 {
                    return Err(SegmentError::Invalid {
                        what: "TimecodeScale of 0",
                        offset: child.offset,
                    });
                }
            }
            id::DURATION => {
                let d = child.float(buf)?;
                if !(d.is_finite() && d >= 0.0 && d <= MAX_TICKS as f64) {
                    return Err(SegmentError::Invalid {
                        what: "Duration",
                        offset: child.offset,
                    });
                }
                duration = Some(d);
            }
            _ => {}
        }
        if !matches!(child.id, id::DURATION | id::CRC32 | id::VOID) {
            kept.extend_from_slice(&buf[child.whole()]);
        }
    }
    let mut out = Vec::with_capacity(kept.len() + 12);
    write_id(&mut out, id::INFO);
    write_size(&mut out, kept.len() as u64);
    out.extend_from_slice(&kept);
    Ok((out, scale, duration))
}

fn parse_tracks(buf: &[u8], tracks: &Element) -> Result<Vec<Track>, SegmentError> {
    let mut out = Vec::new();
    for entry in children(buf, tracks.data.clone()) {
        let entry = entry?;
        if entry.id != id::TRACK_ENTRY {
            continue;
        }
        let mut number = None;
        let mut kind = 0;
        let mut codec_id = String::new();
        let mut codec_private = None;
        let mut default_duration_ns = None;
        for child in children(buf, entry.data.clone()) {
            let child = child?;
            match child.id {
                id::TRACK_NUMBER => number = Some(child.uint(buf)?),
                id::TRACK_TYPE => kind = child.uint(buf)?,
                id::CODEC_ID => codec_id = read_string(buf, &child),
                id::CODEC_PRIVATE => codec_private = Some(child.data.clone()),
                id::DEFAULT_DURATION => default_duration_ns = Some(child.uint(buf)?),
                _ => {}
            }
        }
        let number = number.filter(|&n| n != 0).ok_or(SegmentError::Invalid {
            what: "TrackEntry without a TrackNumber",
            offset: entry.offset,
        })?;
        let codec = match kind {
            TRACK_VIDEO | TRACK_AUDIO => Some(mse_codec(
                &codec_id,
                codec_private.map(|r| &buf[r]).unwrap_or_default(),
            )?),
            _ => None,
        };
        out.push(Track {
            number,
            kind,
            codec,
            default_duration_ns,
        });
    }
    Ok(out)
}

/// The `codecs` parameter MSE wants for a Matroska CodecID.
fn mse_codec(codec_id: &str, codec_private: &[u8]) -> Result<String, SegmentError> {
    Ok(match codec_id {
        "V_VP8" => "vp8".into(),
        "V_VP9" => "vp9".into(),
        "V_AV1" => av1_codec(codec_private),
        "A_VORBIS" => "vorbis".into(),
        "A_OPUS" => "opus".into(),
        other => return Err(SegmentError::UnsupportedCodec(other.into())),
    })
}

/// `av01.P.LLT.DD` from the AV1CodecConfigurationRecord in CodecPrivate: browsers want the
/// profile, level, tier and bit depth, not a bare "av1".
fn av1_codec(av1c: &[u8]) -> String {
    match av1c {
        [marker, profile_level, flags, ..] if marker & 0x80 != 0 => {
            let profile = profile_level >> 5;
            let level = profile_level & 0x1F;
            let tier = if flags & 0x80 != 0 { 'H' } else { 'M' };
            let depth = match (flags & 0x40 != 0, flags & 0x20 != 0) {
                (true, true) => 12,
                (true, false) => 10,
                _ => 8,
            };
            format!("av01.{profile}.{level:02}{tier}.{depth:02}")
        }
        // No (or a malformed) configuration record: the main profile at 8 bits is by far the
        // most common, and a wrong level is only a hint.
        _ => "av01.0.08M.08".into(),
    }
}

/// The IDs that may appear directly in a Cluster: an unknown-size Cluster ends at the first
/// element that is not one of them (normally the next Cluster, or Cues).
fn is_cluster_child(id: u32) -> bool {
    matches!(
        id,
        id::TIMECODE
            | id::SILENT_TRACKS
            | id::POSITION
            | id::PREV_SIZE
            | id::SIMPLE_BLOCK
            | id::BLOCK_GROUP
            | id::ENCRYPTED_BLOCK
            | id::VOID
            | id::CRC32
    )
}

/// The start of a Block or SimpleBlock: track number, relative timecode, flags, and where the
/// relative timecode is in `buf`.
fn block_header(buf: &[u8], el: &Element) -> Result<(u64, i16, u8, usize), SegmentError> {
    let bad = SegmentError::Invalid {
        what: "block header",
        offset: el.offset,
    };
    let data = el.bytes(buf);
    let (track, len) = read_vint(data, 0, data.len()).map_err(|_| bad.clone())?;
    if data.len() < len + 3 {
        return Err(bad);
    }
    let relative = i16::from_be_bytes([data[len], data[len + 1]]);
    Ok((track, relative, data[len + 2], el.data.start + len))
}

/// What [`parse_cluster`] needs to know of the tracks.
struct ClusterContext<'a> {
    video_track: u64,
    timecode_scale: u64,
    /// Track number → index in `stats`.
    tracks: &'a HashMap<u64, usize>,
    stats: &'a mut [BlockStats],
}

/// Parses the Cluster whose header is `h` (its parent ends at `parent_end`); returns it and
/// where it ends.
fn parse_cluster(
    buf: &[u8],
    h: Header,
    parent_end: usize,
    cx: &mut ClusterContext<'_>,
) -> Result<(ClusterMeta, usize), SegmentError> {
    let (end, unknown_size) = match h.end(parent_end)? {
        Some(end) => (end, false),
        None => (parent_end, true),
    };
    let mut pos = h.data;
    let mut timecode = None;
    let mut keyframe = None;
    let mut kept: Vec<Range<usize>> = Vec::new();
    let mut blocks: Vec<BlockAt> = Vec::new();
    let mut first_cut = 0;
    while pos < end {
        if unknown_size && !is_cluster_child(read_id(buf, pos, end)?.0) {
            break;
        }
        let el = Element::read(buf, pos, end)?;
        pos = el.data.end;
        let block = match el.id {
            id::TIMECODE => {
                if timecode.is_some() {
                    return Err(SegmentError::Invalid {
                        what: "second Timecode in a cluster",
                        offset: el.offset,
                    });
                }
                let value = el.uint(buf)?;
                if value > MAX_TICKS {
                    return Err(SegmentError::Invalid {
                        what: "cluster Timecode (too large)",
                        offset: el.offset,
                    });
                }
                timecode = Some(value);
                continue;
            }
            // Where the cluster was in the file and how big the previous one was are wrong in
            // the re-cut stream, and a CRC-32 would no longer match the rewritten Timecode.
            id::POSITION | id::PREV_SIZE | id::CRC32 => continue,
            // Its timecode is inside transformed data: a cut before it would leave it relative
            // to the wrong Cluster. (Matroska never used it; WebM does not allow it.)
            id::ENCRYPTED_BLOCK => {
                first_cut = blocks.len();
                None
            }
            id::SIMPLE_BLOCK => {
                let (track, relative, flags, timecode_at) = block_header(buf, &el)?;
                Some(BlockInfo {
                    track,
                    relative,
                    timecode_at,
                    keyframe: flags & 0x80 != 0,
                    duration: None,
                    discard: 0,
                })
            }
            id::BLOCK_GROUP => {
                let mut block = None;
                let mut block_count = 0;
                let mut referenced = false;
                let mut duration = None;
                let mut discard = 0;
                for child in children(buf, el.data.clone()) {
                    let child = child?;
                    match child.id {
                        id::BLOCK => {
                            block = Some(block_header(buf, &child)?);
                            block_count += 1;
                        }
                        id::REFERENCE_BLOCK => referenced = true,
                        id::BLOCK_DURATION => duration = Some(child.uint(buf)?.min(MAX_TICKS)),
                        id::DISCARD_PADDING => {
                            // A signed integer of nanoseconds; negative means padding at the
                            // start, which does not move the end.
                            let ns = child.int(buf)?.max(0) as u64;
                            discard = (ns / cx.timecode_scale).min(MAX_TICKS);
                        }
                        _ => {}
                    }
                }
                let (track, relative, _, timecode_at) = block.ok_or(SegmentError::Invalid {
                    what: "BlockGroup without a Block",
                    offset: el.offset,
                })?;
                // Matroska allows one Block per group; with more, a cut before this group
                // would rebase the last one only.
                if block_count > 1 {
                    first_cut = blocks.len() + 1;
                }
                Some(BlockInfo {
                    track,
                    relative,
                    timecode_at,
                    // A Block that references no other block is a keyframe.
                    keyframe: !referenced,
                    duration,
                    discard,
                })
            }
            _ => None,
        };
        if let Some(block) = block {
            let base = timecode.ok_or(SegmentError::Invalid {
                what: "block before its cluster's Timecode",
                offset: el.offset,
            })?;
            let video = block.track == cx.video_track;
            blocks.push(BlockAt {
                offset: el.offset,
                timecode_at: block.timecode_at,
                relative: block.relative,
                key: video && block.keyframe && keyframe.is_some(),
            });
            if video && keyframe.is_none() {
                keyframe = Some(block.keyframe);
            }
            if let Some(&i) = cx.tracks.get(&block.track) {
                // base <= 2^62, so this cannot overflow.
                cx.stats[i].record(base as i64 + i64::from(block.relative), &block);
            }
        }
        match kept.last_mut() {
            Some(last) if last.end == el.offset => last.end = el.data.end,
            _ => kept.push(el.whole()),
        }
    }
    let timecode = timecode.ok_or(SegmentError::Invalid {
        what: "cluster without a Timecode",
        offset: h.offset,
    })?;
    let meta = ClusterMeta {
        timecode,
        keyframe: keyframe == Some(true),
        kept,
        blocks,
        first_cut,
    };
    Ok((meta, pos))
}

/// Validates the file and works out everything needed to cut it.
fn scan(buf: &[u8]) -> Result<Layout, SegmentError> {
    let ebml = parse_ebml_header(buf)?;

    // The Segment: the first top-level element with its ID (Void may come before it).
    let mut pos = ebml.data.end;
    let (segment, end) = loop {
        if pos >= buf.len() {
            return Err(SegmentError::NoSegment);
        }
        let h = Header::read(buf, pos, buf.len())?;
        let end = h.end(buf.len())?;
        if h.id == id::SEGMENT {
            break (h, end);
        }
        pos = end.ok_or(SegmentError::UnknownSize {
            id: h.id,
            offset: pos,
        })?;
    };
    // A live recording may have an unknown-size Segment: it runs to the end of the input.
    let segment_end = end.unwrap_or(buf.len());

    let mut info: Option<(Vec<u8>, u64, Option<f64>)> = None;
    let mut tracks: Option<(Range<usize>, Vec<Track>)> = None;
    let mut track_index = HashMap::new();
    let mut stats: Vec<BlockStats> = Vec::new();
    let mut video_track = 0;
    let mut clusters: Vec<ClusterMeta> = Vec::new();
    let mut pos = segment.data;
    while pos < segment_end {
        let (element_id, _) = read_id(buf, pos, segment_end)?;
        // Another EBML header or Segment: a chained file; only the first Segment is used.
        if element_id == id::EBML || element_id == id::SEGMENT {
            break;
        }
        if element_id == id::CLUSTER {
            // Info and Tracks must come first: that is what the init segment is made of, and the
            // video track is needed to find keyframes.
            if info.is_none() {
                return Err(SegmentError::Missing("Info before the first Cluster"));
            }
            if tracks.is_none() {
                return Err(SegmentError::Missing("Tracks before the first Cluster"));
            }
            let h = Header::read(buf, pos, segment_end)?;
            let mut cx = ClusterContext {
                video_track,
                timecode_scale: info.as_ref().map_or(1_000_000, |i| i.1),
                tracks: &track_index,
                stats: &mut stats,
            };
            let (cluster, end) = parse_cluster(buf, h, segment_end, &mut cx)?;
            if let Some(last) = clusters.last() {
                if cluster.timecode < last.timecode {
                    return Err(SegmentError::Invalid {
                        what: "cluster Timecode earlier than the previous cluster's",
                        offset: pos,
                    });
                }
            }
            clusters.push(cluster);
            pos = end;
            continue;
        }
        // SeekHead, Cues, Tags, Chapters, Attachments, Void: skipped (offsets into the original
        // file mean nothing in a live stream), but still bounds-checked.
        let el = Element::read(buf, pos, segment_end)?;
        pos = el.data.end;
        match el.id {
            id::INFO if info.is_none() => info = Some(parse_info(buf, &el)?),
            id::TRACKS if tracks.is_none() => {
                let list = parse_tracks(buf, &el)?;
                video_track = list
                    .iter()
                    .find(|t| t.kind == TRACK_VIDEO)
                    .ok_or(SegmentError::NoVideoTrack)?
                    .number;
                for (i, track) in list.iter().enumerate() {
                    track_index.entry(track.number).or_insert(i);
                }
                stats = vec![BlockStats::default(); list.len()];
                tracks = Some((el.whole(), list));
            }
            _ => {}
        }
    }

    let (info, timecode_scale, info_duration) = info.ok_or(SegmentError::Missing("Info"))?;
    let (tracks_range, tracks) = tracks.ok_or(SegmentError::Missing("Tracks"))?;
    let (first, last) = match (clusters.first(), clusters.last()) {
        (Some(first), Some(last)) => (first.timecode, last.timecode),
        _ => return Err(SegmentError::NoClusters),
    };
    if !clusters[0].keyframe {
        return Err(SegmentError::FirstClusterNotKeyframe);
    }

    // Where the last frame ends, so that loop k + 1 starts exactly there: per track, its latest
    // block plus one frame (the block's own duration, else the track's DefaultDuration, else the
    // mean spacing of its blocks) less the block's DiscardPadding; the latest of those, or the
    // declared Duration if later. Tracks rarely end at exactly the same time: taking the latest
    // means no frame overlaps the next loop's, at the price of a gap shorter than one frame on
    // the track that ends first.
    let mut end = last as i64 + 1;
    for (track, s) in tracks.iter().zip(&stats) {
        if s.count == 0 {
            continue;
        }
        let frame = s
            .max_duration
            .or(track
                .default_duration_ns
                .map(|ns| ns.div_ceil(timecode_scale)))
            .unwrap_or_else(|| {
                if s.count > 1 {
                    (s.max - s.min) as u64 / (s.count - 1)
                } else {
                    0
                }
            })
            .min(MAX_TICKS);
        end = end.max(
            s.max
                .saturating_add((frame - s.max_discard.min(frame)) as i64),
        );
    }
    if let Some(duration) = info_duration {
        end = end.max(duration.ceil() as i64);
    }
    let period_ticks = end as u64 - first;
    let pieces = pieces(&clusters, end as u64);

    let codecs: Vec<&str> = tracks.iter().filter_map(|t| t.codec.as_deref()).collect();
    let mime = format!("video/webm; codecs=\"{}\"", codecs.join(","));

    // The init segment. The Segment's size is unknown because a live stream never ends; Cues
    // and SeekHead are dropped because they point into the original file.
    let mut init = Vec::with_capacity(ebml.data.end + 12 + info.len() + tracks_range.len());
    init.extend_from_slice(&buf[ebml.whole()]);
    write_id(&mut init, id::SEGMENT);
    init.extend_from_slice(&UNKNOWN_SIZE_8);
    init.extend_from_slice(&info);
    init.extend_from_slice(&buf[tracks_range]);

    Ok(Layout {
        init,
        mime,
        timecode_scale,
        clusters,
        pieces,
        first_ticks: first,
        period_ticks,
    })
}

/// Where segments may start: each Cluster's start, and the video keyframes inside it where it
/// can be cut. `end` is where the loop ends, in the file's ticks.
///
/// A keyframe is a cut point only if it is strictly later than the previous piece and earlier
/// than the next Cluster (or the loop's end), so that piece times keep increasing and every
/// piece has a length, and only if the relative timecode of every block after it in the Cluster
/// still fits in an `i16` once rebased on it. That is checked against the Cluster's end, not just
/// against the next cut, because which cuts a plan takes depends on its target.
///
/// A rebased timecode is negative only for a block muxed after the keyframe but timed before
/// it. Matroska allows that. Chromium's MSE parser refuses it, but it refuses the uncut Cluster
/// too (block times going backwards), so such a cut breaks nothing that played before.
fn pieces(clusters: &[ClusterMeta], end: u64) -> Vec<Piece> {
    let mut out = Vec::with_capacity(clusters.len());
    // The smallest relative timecode from each block to the Cluster's end.
    let mut lowest_after: Vec<i16> = Vec::new();
    for (i, cluster) in clusters.iter().enumerate() {
        out.push(Piece {
            cluster: i,
            from: None,
            ticks: cluster.timecode,
            keyframe: cluster.keyframe,
        });
        let limit = clusters.get(i + 1).map_or(end, |next| next.timecode);
        lowest_after.clear();
        lowest_after.extend(cluster.blocks.iter().rev().scan(i16::MAX, |low, b| {
            *low = (*low).min(b.relative);
            Some(*low)
        }));
        lowest_after.reverse();
        let mut last = cluster.timecode;
        for (k, (block, &lowest)) in cluster.blocks.iter().zip(&lowest_after).enumerate() {
            if !block.key || k < cluster.first_cut || block.relative <= 0 {
                continue;
            }
            // A Timecode is at most MAX_TICKS and `relative` is positive: no overflow.
            let ticks = cluster.timecode + u64::from(block.relative.unsigned_abs());
            // Rebasing subtracts a positive `relative` from every later block's timecode: the
            // highest stays within i16, the lowest must too.
            let fits = i32::from(lowest) - i32::from(block.relative) >= i32::from(i16::MIN);
            if ticks > last && ticks < limit && fits {
                out.push(Piece {
                    cluster: i,
                    from: Some(k),
                    ticks,
                    keyframe: true,
                });
                last = ticks;
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

fn write_id(out: &mut Vec<u8>, id: u32) {
    let bytes = id.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(3);
    out.extend_from_slice(&bytes[skip..]);
}

/// Writes a known size in as few bytes as possible (all-ones values mean "unknown", so a length
/// holds up to 2^(7·len) − 2).
fn write_size(out: &mut Vec<u8>, size: u64) {
    let len = (1..=8)
        .find(|&len| size < (1u64 << (7 * len)) - 1)
        .expect("sizes come from in-memory lengths, far below 2^56");
    let marked = size | (1u64 << (7 * len));
    out.extend_from_slice(&marked.to_be_bytes()[8 - len..]);
}

fn write_uint_element(out: &mut Vec<u8>, id: u32, value: u64) {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(7);
    write_id(out, id);
    write_size(out, (8 - skip) as u64);
    out.extend_from_slice(&bytes[skip..]);
}

// ---------------------------------------------------------------------------------------------
// The two containers behind one type
// ---------------------------------------------------------------------------------------------

/// A video file parsed for going live: WebM (or Matroska with WebM codecs), or a fragmented MP4
/// ([`crate::fmp4`]); which one is read from its first bytes.
pub struct LiveSource {
    inner: Inner,
}

enum Inner {
    Webm(WebmSource),
    Mp4(Box<crate::fmp4::Mp4Source>),
}

impl fmt::Debug for LiveSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Inner::Webm(w) => w.fmt(f),
            Inner::Mp4(m) => f
                .debug_struct("Mp4Source")
                .field("mime", &m.mime())
                .field("fragments", &m.fragment_count())
                .field("duration_ms", &m.duration_ms())
                .finish(),
        }
    }
}

impl LiveSource {
    /// Parses a WebM or fragmented MP4 file. The bytes are validated first and copied only if
    /// they are good; see [`LiveSource::from_vec`] to avoid the copy.
    pub fn parse(file: &[u8]) -> Result<LiveSource, SegmentError> {
        if crate::fmp4::is_mp4(file) {
            return Self::from_vec(file.to_vec());
        }
        Ok(LiveSource {
            inner: Inner::Webm(WebmSource::parse(file)?),
        })
    }

    /// Parses a file that the caller already owns, without copying it.
    pub fn from_vec(file: Vec<u8>) -> Result<LiveSource, SegmentError> {
        let inner = if crate::fmp4::is_mp4(&file) {
            Inner::Mp4(Box::new(crate::fmp4::Mp4Source::parse(file)?))
        } else {
            Inner::Webm(WebmSource::from_vec(file)?)
        };
        Ok(LiveSource { inner })
    }

    /// The initialisation segment a Media Source Extensions `SourceBuffer` is given first:
    /// for WebM the EBML header, a Segment of unknown size, Info without Duration and Tracks;
    /// for MP4 `ftyp` and `moov` as they are.
    pub fn init_segment(&self) -> &[u8] {
        match &self.inner {
            Inner::Webm(w) => w.init_segment(),
            Inner::Mp4(m) => m.init_segment(),
        }
    }

    /// The loop period in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        match &self.inner {
            Inner::Webm(w) => w.duration_ms(),
            Inner::Mp4(m) => m.duration_ms(),
        }
    }

    /// The mean bitrate of one pass of the file, bits per second (what a channel of it
    /// declares).
    pub fn mean_bitrate_bps(&self) -> u64 {
        let looper = self.segments(0);
        let per_loop = looper.segments_per_loop();
        let bytes: u64 = looper.take(per_loop).map(|s| s.bytes.len() as u64).sum();
        bytes * 8 * 1000 / self.duration_ms().max(1)
    }

    /// How long one pass's segments mostly are (the median), ms: the file's keyframes decide,
    /// so a file with a keyframe every 2 s makes 2 s segments whatever the target.
    pub fn typical_segment_ms(&self) -> u64 {
        let looper = self.segments(0);
        let per_loop = looper.segments_per_loop();
        let mut durations: Vec<u64> = looper.take(per_loop).map(|s| s.duration_ms).collect();
        durations.sort_unstable();
        durations.get(durations.len() / 2).copied().unwrap_or(0)
    }

    /// The MIME type for `MediaSource.addSourceBuffer`, e.g. `video/webm; codecs="vp9,opus"`
    /// or `video/mp4; codecs="avc1.4d401e,mp4a.40.2"`.
    pub fn mime(&self) -> String {
        match &self.inner {
            Inner::Webm(w) => w.mime(),
            Inner::Mp4(m) => m.mime(),
        }
    }

    /// The number of Clusters (WebM) or fragments (MP4) in one pass of the file.
    pub fn cluster_count(&self) -> usize {
        match &self.inner {
            Inner::Webm(w) => w.cluster_count(),
            Inner::Mp4(m) => m.fragment_count(),
        }
    }

    /// An endless iterator of media segments of about `target_ms` milliseconds each (0 means
    /// [`DEFAULT_TARGET_MS`]), each starting on a video keyframe.
    pub fn segments(&self, target_ms: u64) -> Looper<'_> {
        let inner = match &self.inner {
            Inner::Webm(w) => LooperInner::Webm(w.segments(target_ms)),
            Inner::Mp4(m) => LooperInner::Mp4 {
                plan: m.plan(target_ms),
                source: m,
                index: 0,
                lap: 0,
                sequence: 0,
            },
        };
        Looper { inner }
    }
}

/// An endless iterator of [`Segment`]s over a looped [`LiveSource`]; use `.take(n)` for `n`.
/// Loop `k`'s timestamps are the file's, shifted so that the first segment is at 0, plus `k` ×
/// [`LiveSource::duration_ms`].
pub struct Looper<'a> {
    inner: LooperInner<'a>,
}

enum LooperInner<'a> {
    Webm(WebmLooper<'a>),
    Mp4 {
        source: &'a crate::fmp4::Mp4Source,
        /// One pass: fragments, start and end in ns.
        plan: Vec<(Range<usize>, u64, u64)>,
        index: usize,
        lap: u64,
        sequence: u64,
    },
}

impl fmt::Debug for Looper<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Looper")
            .field("segments_per_loop", &self.segments_per_loop())
            .field("loop_index", &self.loop_index())
            .finish()
    }
}

impl Looper<'_> {
    /// How many segments one pass of the file makes.
    pub fn segments_per_loop(&self) -> usize {
        match &self.inner {
            LooperInner::Webm(l) => l.segments_per_loop(),
            LooperInner::Mp4 { plan, .. } => plan.len(),
        }
    }

    /// The loop number of the next segment (0 for the first pass).
    pub fn loop_index(&self) -> u64 {
        match &self.inner {
            LooperInner::Webm(l) => l.loop_index(),
            LooperInner::Mp4 { lap, .. } => *lap,
        }
    }

    /// Makes `sequence` the next segment, e.g. to resume a channel after a restart, without
    /// building the segments in between.
    pub fn seek(&mut self, to: u64) {
        match &mut self.inner {
            LooperInner::Webm(l) => l.seek(to),
            LooperInner::Mp4 {
                plan,
                index,
                lap,
                sequence,
                ..
            } => {
                let per_loop = plan.len() as u64;
                *lap = to / per_loop;
                *index = (to % per_loop) as usize;
                *sequence = to;
            }
        }
    }
}

impl Iterator for Looper<'_> {
    type Item = Segment;

    fn next(&mut self) -> Option<Segment> {
        match &mut self.inner {
            LooperInner::Webm(l) => l.next(),
            LooperInner::Mp4 {
                source,
                plan,
                index,
                lap,
                sequence,
            } => {
                let (fragments, start_ns, end_ns) = plan[*index].clone();
                let offset = lap.checked_mul(source.period_ns())?;
                let start_ms = offset.checked_add(start_ns)? / 1_000_000;
                let end_ms = offset.checked_add(end_ns)? / 1_000_000;
                let first = lap
                    .checked_mul(source.fragment_count() as u64)?
                    .checked_add(fragments.start as u64)?;
                let bytes = source.bytes(fragments, *lap, first)?;
                let segment = Segment {
                    sequence: *sequence,
                    start_ms,
                    duration_ms: end_ms - start_ms,
                    keyframe: true,
                    bytes,
                };
                *sequence += 1;
                *index += 1;
                if *index == plan.len() {
                    *index = 0;
                    *lap += 1;
                }
                Some(segment)
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }

    fn nth(&mut self, n: usize) -> Option<Segment> {
        let next = match &self.inner {
            LooperInner::Webm(l) => l.sequence,
            LooperInner::Mp4 { sequence, .. } => *sequence,
        };
        self.seek(next.checked_add(n as u64)?);
        self.next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use rand::{Rng, RngCore, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::alloc::{GlobalAlloc, Layout as AllocLayout, System};
    use std::cell::Cell;

    const MEDIA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../store/demo/media");
    const DEMOS: [&str; 8] = [
        "glass-rain",
        "midnight-circuit",
        "neon-harbor",
        "open-skies",
        "orbital-s01e01",
        "orbital-s01e02",
        "paper-boats",
        "the-quiet-orchard",
    ];

    fn demo(name: &str) -> Vec<u8> {
        std::fs::read(format!("{MEDIA}/{name}.webm")).expect("demo file")
    }

    // --- The largest single allocation made on this thread while a closure runs. ------------

    struct Tracking;

    thread_local! {
        static WATCHING: Cell<bool> = const { Cell::new(false) };
        static LARGEST: Cell<usize> = const { Cell::new(0) };
    }

    fn note(size: usize) {
        let _ = WATCHING.try_with(|watching| {
            if watching.get() {
                let _ = LARGEST.try_with(|largest| largest.set(largest.get().max(size)));
            }
        });
    }

    // SAFETY: every call is passed straight to the system allocator; `note` only touches
    // const-initialised thread-locals, which do not allocate.
    unsafe impl GlobalAlloc for Tracking {
        unsafe fn alloc(&self, layout: AllocLayout) -> *mut u8 {
            note(layout.size());
            System.alloc(layout)
        }
        unsafe fn alloc_zeroed(&self, layout: AllocLayout) -> *mut u8 {
            note(layout.size());
            System.alloc_zeroed(layout)
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: AllocLayout, new_size: usize) -> *mut u8 {
            note(new_size);
            System.realloc(ptr, layout, new_size)
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: AllocLayout) {
            System.dealloc(ptr, layout)
        }
    }

    #[global_allocator]
    static ALLOCATOR: Tracking = Tracking;

    fn largest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
        LARGEST.with(|l| l.set(0));
        WATCHING.with(|w| w.set(true));
        let out = f();
        WATCHING.with(|w| w.set(false));
        (out, LARGEST.with(|l| l.get()))
    }

    /// Parses hostile input: it must fail, and allocate nothing much bigger than the input.
    fn refused(input: &[u8]) -> SegmentError {
        let (result, largest) = largest_allocation(|| WebmSource::parse(input));
        assert!(
            largest <= 64 * input.len() + 64 * 1024,
            "{largest} bytes allocated at once for {} bytes of input",
            input.len()
        );
        result.expect_err("hostile input accepted")
    }

    // --- An EBML walk for the tests, written independently of the cutter's parser. ----------

    #[derive(Debug, Clone)]
    struct Node {
        id: u32,
        depth: usize,
        /// Where the element's ID starts.
        offset: usize,
        data: Range<usize>,
        unknown: bool,
    }

    const MASTERS: [u32; 7] = [
        id::EBML,
        id::SEGMENT,
        id::INFO,
        id::TRACKS,
        id::TRACK_ENTRY,
        id::CLUSTER,
        id::BLOCK_GROUP,
    ];

    fn vint(buf: &[u8], pos: usize, keep_marker: bool) -> Result<(u64, usize, bool), String> {
        let first = *buf.get(pos).ok_or(format!("vint past the end at {pos}"))?;
        let len = (0..8)
            .find(|i| first & (0x80 >> i) != 0)
            .ok_or(format!("bad vint at {pos}"))?
            + 1;
        let bytes = buf
            .get(pos..pos + len)
            .ok_or(format!("vint past the end at {pos}"))?;
        let mut v = u64::from(if keep_marker {
            first
        } else {
            first & 0xFFu8.checked_shr(len as u32).unwrap_or(0)
        });
        for &b in &bytes[1..] {
            v = (v << 8) | u64::from(b);
        }
        let all_ones = !keep_marker && v == (1 << (7 * len)) - 1;
        Ok((v, len, all_ones))
    }

    /// Every element in `buf[range]`, depth first; children must tile their parent exactly.
    fn walk(
        buf: &[u8],
        range: Range<usize>,
        depth: usize,
        out: &mut Vec<Node>,
    ) -> Result<(), String> {
        let mut pos = range.start;
        while pos < range.end {
            let (id, id_len, _) = vint(buf, pos, true)?;
            let (size, size_len, unknown) = vint(buf, pos + id_len, false)?;
            let data = pos + id_len + size_len;
            let end = if unknown {
                if id != u64::from(id::SEGMENT) {
                    return Err(format!("unknown size for 0x{id:X} at {pos}"));
                }
                range.end
            } else {
                data + size as usize
            };
            if end > range.end {
                return Err(format!("0x{id:X} at {pos} overruns its parent"));
            }
            out.push(Node {
                id: id as u32,
                depth,
                offset: pos,
                data: data..end,
                unknown,
            });
            if MASTERS.contains(&(id as u32)) {
                walk(buf, data..end, depth + 1, out)?;
            }
            pos = end;
        }
        Ok(())
    }

    fn tree(buf: &[u8]) -> Vec<Node> {
        let mut out = Vec::new();
        walk(buf, 0..buf.len(), 0, &mut out).expect("well-formed EBML");
        out
    }

    fn uint(buf: &[u8], node: &Node) -> u64 {
        buf[node.data.clone()]
            .iter()
            .fold(0, |a, &b| (a << 8) | u64::from(b))
    }

    /// The payload of every SimpleBlock and Block, in order.
    fn block_payloads<'a>(buf: &'a [u8], nodes: &[Node]) -> Vec<&'a [u8]> {
        nodes
            .iter()
            .filter(|n| n.id == id::SIMPLE_BLOCK || n.id == id::BLOCK)
            .map(|n| &buf[n.data.clone()])
            .collect()
    }

    /// A media segment's Cluster timecodes, and its bytes with the Cluster headers and Timecode
    /// elements left out (what must not change between loops).
    fn without_timecodes(bytes: &[u8]) -> (Vec<u64>, Vec<u8>) {
        let nodes = tree(bytes);
        let mut timecodes = Vec::new();
        let mut rest = Vec::new();
        for node in nodes.iter().filter(|n| n.depth == 1) {
            if node.id == id::TIMECODE {
                timecodes.push(uint(bytes, node));
            } else {
                rest.extend_from_slice(&bytes[node.offset..node.data.end]);
            }
        }
        (timecodes, rest)
    }

    /// Checks one media segment; returns its cluster timecodes (in ticks).
    fn check_segment(source: &WebmSource, segment: &Segment) -> Vec<u64> {
        let bytes = &segment.bytes;
        assert_eq!(
            &bytes[..4],
            &[0x1F, 0x43, 0xB6, 0x75],
            "starts with a Cluster"
        );
        let nodes = tree(bytes);
        assert!(nodes
            .iter()
            .filter(|n| n.depth == 0)
            .all(|n| n.id == id::CLUSTER && !n.unknown));
        let timecodes: Vec<u64> = nodes
            .iter()
            .filter(|n| n.depth == 1 && n.id == id::TIMECODE)
            .map(|n| uint(bytes, n))
            .collect();
        assert_eq!(
            timecodes.len(),
            nodes.iter().filter(|n| n.depth == 0).count(),
            "one Timecode per Cluster"
        );
        assert_eq!(
            ticks_to_ms(timecodes[0], source.timecode_scale),
            segment.start_ms,
            "start_ms is the first Cluster's Timecode"
        );
        // The first video block of the first Cluster is a keyframe (track 1 in the demo files;
        // the synthetic ones use track 1 for video too).
        let first_video = nodes
            .iter()
            .find(|n| n.id == id::SIMPLE_BLOCK && bytes[n.data.start] == 0x81)
            .expect("a video block");
        assert_ne!(bytes[first_video.data.start + 3] & 0x80, 0, "keyframe");
        assert!(segment.keyframe);
        timecodes
    }

    // --- Demo files. --------------------------------------------------------------------------

    #[test]
    fn demo_files_parse_with_a_clean_init_segment() {
        for name in DEMOS {
            let file = demo(name);
            let source = WebmSource::parse(&file).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(source.mime(), "video/webm; codecs=\"vp9,opus\"", "{name}");

            let init = source.init_segment();
            let nodes = tree(init);
            let top: Vec<u32> = nodes
                .iter()
                .filter(|n| n.depth == 0)
                .map(|n| n.id)
                .collect();
            assert_eq!(top, [id::EBML, id::SEGMENT], "{name}");
            let segment = nodes.iter().find(|n| n.id == id::SEGMENT).unwrap();
            assert!(segment.unknown, "{name}: the Segment has an unknown size");
            assert_eq!(
                &init[segment.data.start - 8..segment.data.start],
                &UNKNOWN_SIZE_8
            );
            let level1: Vec<u32> = nodes
                .iter()
                .filter(|n| n.depth == 1 && n.offset >= segment.data.start)
                .map(|n| n.id)
                .collect();
            assert_eq!(
                level1,
                [id::INFO, id::TRACKS],
                "{name}: no Cluster, Cues, SeekHead"
            );
            let info: Vec<&Node> = nodes
                .iter()
                .filter(|n| n.depth == 2)
                .take_while(|n| n.id != id::TRACK_ENTRY)
                .collect();
            assert!(
                info.iter().all(|n| n.id != id::DURATION),
                "{name}: no Duration"
            );
            let scale = info.iter().find(|n| n.id == id::TIMECODE_SCALE).unwrap();
            assert_eq!(uint(init, scale), 1_000_000);
            // Tracks is the original's, byte for byte.
            let original = tree(&file);
            let tracks = original.iter().find(|n| n.id == id::TRACKS).unwrap();
            let ours = nodes.iter().find(|n| n.id == id::TRACKS).unwrap();
            assert_eq!(init[ours.data.clone()], file[tracks.data.clone()]);
        }
    }

    /// What the demo files look like: the numbers in the module's report come from here.
    #[test]
    fn demo_cluster_spacing() {
        for name in DEMOS {
            let source = WebmSource::parse(&demo(name)).unwrap();
            let tcs: Vec<u64> = source.clusters.iter().map(|c| c.timecode).collect();
            let gaps: Vec<u64> = tcs.windows(2).map(|w| w[1] - w[0]).collect();
            eprintln!(
                "{name}: {} clusters, every one on a keyframe: {}, spacing {}..={} ms, \
                 last at {} ms, loop {} ms",
                tcs.len(),
                source.clusters.iter().all(|c| c.keyframe),
                gaps.iter().min().unwrap(),
                gaps.iter().max().unwrap(),
                tcs.last().unwrap(),
                source.duration_ms()
            );
            // A keyframe every 2 s, and every second in the live demo (glass-rain).
            let gop = if name == "glass-rain" { 1000 } else { 2000 };
            assert!(
                gaps.iter().all(|&g| (gop - 100..=gop + 100).contains(&g)),
                "{name}: {gaps:?}"
            );
        }
    }

    #[test]
    fn demo_segments_are_keyframe_clusters_contiguous_across_loops() {
        for name in DEMOS {
            let source = WebmSource::parse(&demo(name)).unwrap();
            let looper = source.segments(DEFAULT_TARGET_MS);
            let per_loop = looper.segments_per_loop();
            // The demo clusters are 1 or 2 s apart, no shorter than the 1 s target: one cluster
            // each.
            assert_eq!(per_loop, source.cluster_count(), "{name}");
            let segments: Vec<Segment> = looper.take(2 * per_loop + 3).collect();
            let mut expected_start = 0;
            for (i, segment) in segments.iter().enumerate() {
                assert_eq!(segment.sequence, i as u64);
                assert_eq!(
                    segment.start_ms, expected_start,
                    "{name}: contiguous at {i}"
                );
                assert!(segment.duration_ms > 0);
                // Near the target: no more than one cluster (2 s) when clusters exceed it; the
                // loop's last segment runs to the end of the file.
                if i % per_loop != per_loop - 1 {
                    assert!(
                        segment.duration_ms <= 2001,
                        "{name}: {}",
                        segment.duration_ms
                    );
                }
                let timecodes = check_segment(&source, segment);
                assert_eq!(timecodes.len(), 1);
                expected_start = segment.start_ms + segment.duration_ms;
            }
            // Loop 1 begins where loop 0 ends: one file duration later.
            assert_eq!(segments[per_loop].start_ms, source.duration_ms());
            assert_eq!(segments[2 * per_loop].start_ms, 2 * source.duration_ms());
        }
    }

    #[test]
    fn loop_one_equals_loop_zero_but_for_the_timecodes() {
        for name in DEMOS {
            let source = WebmSource::parse(&demo(name)).unwrap();
            let looper = source.segments(DEFAULT_TARGET_MS);
            let per_loop = looper.segments_per_loop();
            let segments: Vec<Segment> = looper.take(2 * per_loop).collect();
            for i in 0..per_loop {
                let (tc0, rest0) = without_timecodes(&segments[i].bytes);
                let (tc1, rest1) = without_timecodes(&segments[i + per_loop].bytes);
                assert_eq!(rest0, rest1, "{name}: segment {i}: blocks untouched");
                let shifted: Vec<u64> = tc0.iter().map(|t| t + source.period_ticks).collect();
                assert_eq!(tc1, shifted, "{name}: segment {i}");
                assert_eq!(
                    segments[i + per_loop].start_ms,
                    segments[i].start_ms + source.duration_ms()
                );
            }
            // The first cluster's Timecode grows from 1 byte (0) to 2 (the loop period): the
            // cluster header is re-encoded and still parses (checked by `tree` above).
            assert_eq!(without_timecodes(&segments[0].bytes).0, [0]);
        }
    }

    #[test]
    fn one_loop_carries_every_block_payload_in_order() {
        for name in DEMOS {
            let file = demo(name);
            let source = WebmSource::parse(&file).unwrap();
            let looper = source.segments(DEFAULT_TARGET_MS);
            let per_loop = looper.segments_per_loop();
            let mut stream = source.init_segment().to_vec();
            for segment in looper.take(per_loop) {
                stream.extend_from_slice(&segment.bytes);
            }
            let original = tree(&file);
            let recut = tree(&stream);
            let expected = block_payloads(&file, &original);
            assert!(expected.len() > 1000, "{name}: {} blocks", expected.len());
            assert_eq!(block_payloads(&stream, &recut), expected, "{name}");
            // The re-cut stream is itself a good live source, with the same clusters.
            let again = WebmSource::parse(&stream).unwrap();
            assert_eq!(again.cluster_count(), source.cluster_count());
            // Without Info's Duration, the end of the last frame (the last Opus packet less its
            // DiscardPadding) gives the same loop period.
            assert_eq!(again.duration_ms(), source.duration_ms(), "{name}");
            let tcs = |s: &WebmSource| s.clusters.iter().map(|c| c.timecode).collect::<Vec<_>>();
            assert_eq!(tcs(&again), tcs(&source));
        }
    }

    #[test]
    fn segments_are_grouped_to_the_target() {
        let source = WebmSource::parse(&demo("paper-boats")).unwrap();
        for target in [1, 1000, 2500, 4000, 5000, 10_000, 60_000] {
            let looper = source.segments(target);
            let per_loop = looper.segments_per_loop();
            let segments: Vec<Segment> = looper.take(per_loop * 2).collect();
            let total: u64 = segments[..per_loop].iter().map(|s| s.duration_ms).sum();
            assert_eq!(total, source.duration_ms(), "target {target}");
            for (i, s) in segments.iter().enumerate() {
                check_segment(&source, s);
                let last_of_loop = i % per_loop == per_loop - 1;
                if !last_of_loop {
                    // Whole clusters of ~2 s: within a cluster's length of the target, and never
                    // shorter than one cluster.
                    assert!(s.duration_ms >= 2000, "target {target}: {}", s.duration_ms);
                    assert!(
                        s.duration_ms.abs_diff(target) <= 2001 || s.duration_ms <= 2001,
                        "target {target}: {}",
                        s.duration_ms
                    );
                }
            }
            eprintln!(
                "paper-boats, target {target} ms: {per_loop} segments a loop, durations {:?}",
                segments[..per_loop]
                    .iter()
                    .map(|s| s.duration_ms)
                    .collect::<Vec<_>>()
            );
        }
        // A target of 0 means the default.
        assert_eq!(
            source.segments(0).segments_per_loop(),
            source.segments(DEFAULT_TARGET_MS).segments_per_loop()
        );
        // The whole file in one segment when the target is longer than it.
        assert_eq!(source.segments(60_000).segments_per_loop(), 1);
    }

    #[test]
    fn seeking_matches_iterating() {
        let source = WebmSource::parse(&demo("open-skies")).unwrap();
        let all: Vec<Segment> = source.segments(4000).take(30).collect();
        let mut looper = source.segments(4000);
        looper.seek(23);
        assert_eq!(looper.next().as_ref(), Some(&all[23]));
        assert_eq!(source.segments(4000).nth(17).as_ref(), Some(&all[17]));
        assert_eq!(looper.loop_index(), 24 / looper.segments_per_loop() as u64);
    }

    // --- Synthetic files, for what the demo files do not have. --------------------------------

    fn el(id: u32, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_id(&mut out, id);
        write_size(&mut out, payload.len() as u64);
        out.extend_from_slice(payload);
        out
    }

    fn uint_el(id: u32, value: u64) -> Vec<u8> {
        let mut out = Vec::new();
        write_uint_element(&mut out, id, value);
        out
    }

    /// An element with an unknown size (8-byte form).
    fn unknown_el(id: u32, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_id(&mut out, id);
        out.extend_from_slice(&UNKNOWN_SIZE_8);
        out.extend_from_slice(payload);
        out
    }

    fn ebml_header(doc_type: &str) -> Vec<u8> {
        let mut body = uint_el(id::EBML_READ_VERSION, 1);
        body.extend(el(id::DOC_TYPE, doc_type.as_bytes()));
        el(id::EBML, &body)
    }

    fn simple_block(track: u8, relative: i16, key: bool, payload: &[u8]) -> Vec<u8> {
        let mut body = vec![0x80 | track];
        body.extend_from_slice(&relative.to_be_bytes());
        body.push(if key { 0x80 } else { 0 });
        body.extend_from_slice(payload);
        el(id::SIMPLE_BLOCK, &body)
    }

    fn block_group(track: u8, relative: i16, reference: bool, payload: &[u8]) -> Vec<u8> {
        let mut block = vec![0x80 | track];
        block.extend_from_slice(&relative.to_be_bytes());
        block.push(0);
        block.extend_from_slice(payload);
        let mut body = el(id::BLOCK, &block);
        if reference {
            body.extend(el(id::REFERENCE_BLOCK, &[0xFF]));
        }
        el(id::BLOCK_GROUP, &body)
    }

    fn track(number: u64, kind: u64, codec: &str) -> Vec<u8> {
        let mut body = uint_el(id::TRACK_NUMBER, number);
        body.extend(uint_el(id::TRACK_TYPE, kind));
        body.extend(el(id::CODEC_ID, codec.as_bytes()));
        el(id::TRACK_ENTRY, &body)
    }

    /// A cluster: Timecode, then `blocks` (already encoded).
    fn cluster(timecode: u64, blocks: &[Vec<u8>]) -> Vec<u8> {
        let mut body = uint_el(id::TIMECODE, timecode);
        body.extend(blocks.concat());
        el(id::CLUSTER, &body)
    }

    /// A file: EBML header, Segment (known size), Info with `scale`, Tracks with `tracks`, then
    /// `clusters`.
    fn file(doc_type: &str, scale: u64, tracks: &[Vec<u8>], clusters: &[Vec<u8>]) -> Vec<u8> {
        let mut info = uint_el(id::TIMECODE_SCALE, scale);
        info.extend(el(id::DURATION, &1.0f64.to_be_bytes()));
        let mut segment = el(id::INFO, &info);
        segment.extend(el(id::TRACKS, &tracks.concat()));
        segment.extend(clusters.concat());
        let mut out = ebml_header(doc_type);
        out.extend(el(id::SEGMENT, &segment));
        out
    }

    fn av_tracks() -> Vec<Vec<u8>> {
        vec![
            track(1, TRACK_VIDEO, "V_VP8"),
            track(2, TRACK_AUDIO, "A_VORBIS"),
        ]
    }

    #[test]
    fn unknown_size_clusters_block_groups_and_non_key_clusters() {
        // Three clusters 400 ticks apart (ticks of 0.5 ms, so 200 ms), of unknown size in an
        // unknown-size Segment, the second not starting on a keyframe.
        let frame = |t: u8, rel: i16, key: bool| simple_block(t, rel, key, &[t, rel as u8, 9]);
        let bodies = [
            vec![
                block_group(1, 0, false, b"key0"),
                frame(2, 0, true),
                frame(1, 200, false),
            ],
            vec![
                frame(2, 0, true),
                block_group(1, 0, true, b"p1"),
                frame(1, 200, false),
            ],
            vec![frame(1, 0, true), frame(2, 0, true), frame(1, 200, false)],
        ];
        let mut segment = el(id::INFO, &uint_el(id::TIMECODE_SCALE, 500_000));
        segment.extend(el(id::TRACKS, &av_tracks().concat()));
        for (i, blocks) in bodies.iter().enumerate() {
            let mut body = el(id::CRC32, &[0; 4]);
            body.extend(uint_el(id::TIMECODE, 1000 + 400 * i as u64));
            body.extend(uint_el(id::POSITION, 12345));
            body.extend(blocks.concat());
            segment.extend(unknown_el(id::CLUSTER, &body));
        }
        segment.extend(el(id::VOID, &[0; 3]));
        let mut input = ebml_header("webm");
        input.extend(unknown_el(id::SEGMENT, &segment));

        let source = WebmSource::parse(&input).unwrap();
        assert_eq!(source.mime(), "video/webm; codecs=\"vp8,vorbis\"");
        assert_eq!(source.cluster_count(), 3);
        assert_eq!(source.timecode_scale_ns(), 500_000);
        assert!(!source.clusters[1].keyframe);
        // The live timeline starts at the first cluster (1000 ticks = 500 ms in the file).
        // Last video frame at 1800 + 200 ticks, plus its mean spacing (200) = 2200 ticks.
        assert_eq!(source.period_ticks, 2200 - 1000);
        assert_eq!(source.duration_ms(), 600);

        let looper = source.segments(100);
        // The non-keyframe cluster joins the first segment.
        assert_eq!(looper.segments_per_loop(), 2);
        let segments: Vec<Segment> = looper.take(4).collect();
        let starts: Vec<u64> = segments.iter().map(|s| s.start_ms).collect();
        assert_eq!(starts, [0, 400, 600, 1000]);
        let durations: Vec<u64> = segments.iter().map(|s| s.duration_ms).collect();
        assert_eq!(durations, [400, 200, 400, 200]);
        let mut payloads = Vec::new();
        for segment in &segments[..2] {
            let nodes = tree(&segment.bytes);
            // Known sizes, no Position, no CRC-32, Timecode first.
            assert!(nodes.iter().all(|n| !n.unknown));
            assert!(nodes
                .iter()
                .all(|n| n.id != id::POSITION && n.id != id::CRC32));
            payloads.extend(
                block_payloads(&segment.bytes, &nodes)
                    .into_iter()
                    .map(<[u8]>::to_vec),
            );
        }
        let (tcs, _) = without_timecodes(&segments[0].bytes);
        assert_eq!(tcs, [0, 400]);
        let (tcs, _) = without_timecodes(&segments[3].bytes);
        assert_eq!(tcs, [1200 + 800]);
        let mut original = Vec::new();
        for blocks in &bodies {
            let buf = blocks.concat();
            original.extend(
                block_payloads(&buf, &tree(&buf))
                    .into_iter()
                    .map(<[u8]>::to_vec),
            );
        }
        assert_eq!(payloads, original);
    }

    // --- Clusters cut at the keyframes inside them. -------------------------------------------

    /// A block as the tests read it back: track, absolute time in ticks, payload.
    type Timed = (u8, i64, Vec<u8>);

    /// Every SimpleBlock and Block in `buf`, in order, with its absolute time: its Cluster's
    /// Timecode plus its own relative timecode (track numbers are one byte in the synthetic
    /// files, and no element but a Cluster's Timecode has the ID 0xE7).
    fn timed_blocks(buf: &[u8]) -> Vec<Timed> {
        let mut out = Vec::new();
        let mut base = None;
        for node in tree(buf) {
            match node.id {
                id::CLUSTER => base = None,
                id::TIMECODE => base = Some(uint(buf, &node) as i64),
                id::SIMPLE_BLOCK | id::BLOCK => {
                    let data = &buf[node.data.clone()];
                    let relative = i16::from_be_bytes([data[1], data[2]]);
                    let base = base.expect("the Timecode before the blocks");
                    out.push((
                        data[0] & 0x7F,
                        base + i64::from(relative),
                        data[4..].to_vec(),
                    ));
                }
                _ => {}
            }
        }
        out
    }

    /// Checks a media segment of a synthetic file: Clusters of known size only, each with one
    /// Timecode, first, and no CRC-32, Position or PrevSize; `start_ms` is the first Cluster's
    /// Timecode; the first video block is a keyframe (a SimpleBlock with the key flag, or a Block
    /// whose BlockGroup has no ReferenceBlock). Returns the Cluster Timecodes.
    fn check_cut_segment(source: &WebmSource, segment: &Segment) -> Vec<u64> {
        let bytes = &segment.bytes;
        let nodes = tree(bytes);
        let mut timecodes = Vec::new();
        for cluster in nodes.iter().filter(|n| n.depth == 0) {
            assert!(cluster.id == id::CLUSTER && !cluster.unknown, "{cluster:?}");
            let children: Vec<&Node> = nodes
                .iter()
                .filter(|n| n.depth == 1 && cluster.data.contains(&n.offset))
                .collect();
            assert_eq!(children[0].id, id::TIMECODE, "the Timecode first");
            assert_eq!(
                children.iter().filter(|n| n.id == id::TIMECODE).count(),
                1,
                "one Timecode"
            );
            assert!(children
                .iter()
                .all(|n| !matches!(n.id, id::CRC32 | id::POSITION | id::PREV_SIZE)));
            timecodes.push(uint(bytes, children[0]));
        }
        assert_eq!(
            ticks_to_ms(timecodes[0], source.timecode_scale),
            segment.start_ms
        );
        let (i, first_video) = nodes
            .iter()
            .enumerate()
            .find(|(_, n)| {
                matches!(n.id, id::SIMPLE_BLOCK | id::BLOCK) && bytes[n.data.start] == 0x81
            })
            .expect("a video block");
        let key = if first_video.id == id::SIMPLE_BLOCK {
            bytes[first_video.data.start + 3] & 0x80 != 0
        } else {
            let group = nodes[..i]
                .iter()
                .rev()
                .find(|n| n.id == id::BLOCK_GROUP)
                .expect("a Block is in a BlockGroup");
            !nodes
                .iter()
                .any(|n| n.id == id::REFERENCE_BLOCK && group.data.contains(&n.offset))
        };
        assert!(key, "segment {} starts on a keyframe", segment.sequence);
        assert!(segment.keyframe);
        timecodes
    }

    /// Synthetic blocks in file order, each encoded and as (track, time relative to its
    /// Cluster, payload).
    struct Blocks(Vec<(Vec<u8>, Timed)>);

    impl Blocks {
        fn encoded(&self) -> Vec<Vec<u8>> {
            self.0.iter().map(|(e, _)| e.clone()).collect()
        }
        /// With absolute times: `cluster` is their Cluster's Timecode in the file, `shift` moves
        /// it into the live timeline (and a loop further on).
        fn timed(&self, cluster: u64, shift: i64) -> Vec<Timed> {
            self.0
                .iter()
                .map(|(_, (t, rel, p))| (*t, cluster as i64 + rel + shift, p.clone()))
                .collect()
        }
    }

    /// Four seconds (ticks of 1 ms) of blocks for one Cluster: a video frame every 250 ms, a
    /// keyframe every second (the one at 2 s a BlockGroup without ReferenceBlock, some of the
    /// others BlockGroups with one), and an audio block every 50 ms, muxed 60 ms late so that
    /// some land after the keyframe that follows them in time.
    fn four_seconds() -> Blocks {
        let mut blocks = Vec::new();
        for t in (0..4000i16).step_by(250) {
            let payload = format!("video {t}").into_bytes();
            let encoded = match t {
                2000 => block_group(1, t, false, &payload),
                t if t % 1000 == 0 => simple_block(1, t, true, &payload),
                t if t % 500 == 250 => block_group(1, t, true, &payload),
                _ => simple_block(1, t, false, &payload),
            };
            blocks.push((i32::from(t), encoded, (1, i64::from(t), payload)));
        }
        for t in (0..4000i16).step_by(50) {
            let payload = format!("audio {t}").into_bytes();
            let encoded = simple_block(2, t, true, &payload);
            blocks.push((i32::from(t) + 60, encoded, (2, i64::from(t), payload)));
        }
        // Stable: at equal times, video first.
        blocks.sort_by_key(|b| b.0);
        Blocks(blocks.into_iter().map(|(_, e, t)| (e, t)).collect())
    }

    /// A Cluster with `blocks`, and the children a cut must drop: CRC-32, Position, PrevSize.
    fn cluster_with_extras(timecode: u64, blocks: &[Vec<u8>]) -> Vec<u8> {
        let mut body = el(id::CRC32, &[1, 2, 3, 4]);
        body.extend(uint_el(id::TIMECODE, timecode));
        body.extend(uint_el(id::POSITION, 4321));
        body.extend(uint_el(id::PREV_SIZE, 1234));
        body.extend(blocks.concat());
        el(id::CLUSTER, &body)
    }

    #[test]
    fn a_long_cluster_is_cut_at_its_keyframes() {
        // The file's one Cluster is at 7 s: the live timeline starts there.
        let blocks = four_seconds();
        let input = file(
            "webm",
            1_000_000,
            &av_tracks(),
            &[cluster_with_extras(7000, &blocks.encoded())],
        );
        let source = WebmSource::parse(&input).unwrap();
        assert_eq!(source.cluster_count(), 1);
        assert_eq!(source.duration_ms(), 4000);

        let looper = source.segments(1000);
        assert_eq!(looper.segments_per_loop(), 4);
        let segments: Vec<Segment> = looper.take(8).collect();
        let starts: Vec<u64> = segments.iter().map(|s| s.start_ms).collect();
        assert_eq!(starts, [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000]);
        assert!(segments.iter().all(|s| s.duration_ms == 1000));
        for (lap, laps) in segments.chunks(4).enumerate() {
            let mut got = Vec::new();
            for segment in laps {
                // One Cluster each, at the segment's start, opening with the keyframe there.
                let timecodes = check_cut_segment(&source, segment);
                assert_eq!(timecodes, [segment.start_ms]);
                let timed = timed_blocks(&segment.bytes);
                let first = &timed[0];
                assert_eq!((first.0, first.1), (1, segment.start_ms as i64));
                got.extend(timed);
            }
            // Every block at its original time, shifted to the live timeline and by the loop.
            let want = blocks.timed(7000, lap as i64 * 4000 - 7000);
            assert_eq!(got, want, "loop {lap}");
        }
        // Audio muxed after a keyframe though earlier in time stays after it, its relative
        // timecode negative in the new Cluster: the audio at 950 ms follows the keyframe at 1 s.
        let second = timed_blocks(&segments[1].bytes);
        assert_eq!((second[1].1, &second[1].2[..]), (950, &b"audio 950"[..]));
        let audio = tree(&segments[1].bytes)
            .into_iter()
            .filter(|n| n.id == id::SIMPLE_BLOCK)
            .nth(1)
            .unwrap();
        let at = audio.data.start + 1;
        assert_eq!(segments[1].bytes[at..at + 2], (-50i16).to_be_bytes());
        // And what is muxed before the keyframe at 2 s stays before it.
        assert_eq!(second.last().unwrap().2, b"audio 1900");

        // The target picks the cuts: two segments of 2 s at 2000, the whole Cluster at 4000.
        let two: Vec<Segment> = source.segments(2000).take(2).collect();
        assert_eq!(
            two.iter().map(|s| s.duration_ms).collect::<Vec<_>>(),
            [2000, 2000]
        );
        for segment in &two {
            assert_eq!(check_cut_segment(&source, segment), [segment.start_ms]);
        }
        let whole = source.segments(4000).next().unwrap();
        assert_eq!(source.segments(4000).segments_per_loop(), 1);
        assert_eq!(check_cut_segment(&source, &whole), [0]);
        assert_eq!(timed_blocks(&whole.bytes), blocks.timed(7000, -7000));
        // Uncut, the Cluster's blocks are its bytes as they were.
        let (_, rest) = without_timecodes(&whole.bytes);
        assert_eq!(rest, blocks.encoded().concat());
    }

    #[test]
    fn cut_clusters_carry_every_frame_in_order_and_parse_again() {
        let blocks = four_seconds();
        let input = file(
            "webm",
            1_000_000,
            &av_tracks(),
            &[cluster_with_extras(0, &blocks.encoded())],
        );
        let source = WebmSource::parse(&input).unwrap();
        let looper = source.segments(1000);
        let per_loop = looper.segments_per_loop();
        let segments: Vec<Segment> = looper.take(per_loop).collect();
        let mut stream = source.init_segment().to_vec();
        for segment in &segments {
            stream.extend_from_slice(&segment.bytes);
        }
        // The frames (block data after track, relative timecode and flags, which a cut
        // rewrites) are the file's, in its order, each at its time: the first Cluster is at 0.
        let expected = timed_blocks(&input);
        assert_eq!(expected.len(), 16 + 80);
        assert_eq!(timed_blocks(&stream), expected);
        // Block headers aside, the blocks are the file's bytes: flags, lacing, BlockGroups.
        let headless = |buf: &[u8]| {
            block_payloads(buf, &tree(buf))
                .into_iter()
                .map(|b| b[3..].to_vec())
                .collect::<Vec<_>>()
        };
        assert_eq!(headless(&stream), headless(&input));
        // The re-cut stream is a live source of four one-second Clusters, each on a keyframe,
        // with the same loop, and cutting it again changes nothing.
        let again = WebmSource::parse(&stream).unwrap();
        assert_eq!(again.cluster_count(), 4);
        assert!(again.clusters.iter().all(|c| c.keyframe));
        assert_eq!(again.duration_ms(), source.duration_ms());
        let recut: Vec<Segment> = again.segments(1000).take(per_loop).collect();
        assert_eq!(recut, segments);
    }

    #[test]
    fn a_keyframe_whose_rebased_timecodes_overflow_i16_is_not_a_cut_point() {
        // Keyframes at 0, 10 s and 30 s; an audio block at -5 s comes last. Cut at 30 s, it
        // would be at -35,000 ticks from the new Cluster, past i16::MIN; cut at 10 s, -15,000.
        let mut blocks = vec![
            (simple_block(1, 0, true, b"k0"), (1, 0, b"k0".to_vec())),
            (
                simple_block(1, 5000, false, b"p5"),
                (1, 5000, b"p5".to_vec()),
            ),
            (
                simple_block(1, 10_000, true, b"k10"),
                (1, 10_000, b"k10".to_vec()),
            ),
            (
                block_group(1, 20_000, true, b"p20"),
                (1, 20_000, b"p20".to_vec()),
            ),
            (
                block_group(1, 30_000, false, b"k30"),
                (1, 30_000, b"k30".to_vec()),
            ),
            (
                simple_block(1, 32_000, false, b"p32"),
                (1, 32_000, b"p32".to_vec()),
            ),
            (
                simple_block(2, -5000, true, b"a-5"),
                (2, -5000, b"a-5".to_vec()),
            ),
        ];
        let next = cluster(40_000, &[simple_block(1, 0, true, b"k40")]);
        let with_tail = |blocks: &Blocks| {
            let input = file(
                "webm",
                1_000_000,
                &av_tracks(),
                &[cluster(0, &blocks.encoded()), next.clone()],
            );
            let source = WebmSource::parse(&input).unwrap();
            let looper = source.segments(1000);
            let per_loop = looper.segments_per_loop();
            let segments: Vec<Segment> = looper.take(2 * per_loop).collect();
            let mut got = Vec::new();
            for segment in &segments {
                check_cut_segment(&source, segment);
                got.extend(timed_blocks(&segment.bytes));
            }
            let period = source.period_ticks as i64;
            let mut want = Vec::new();
            for lap in 0..2 {
                want.extend(blocks.timed(0, lap * period));
                want.push((1, 40_000 + lap * period, b"k40".to_vec()));
            }
            assert_eq!(got, want);
            let starts: Vec<u64> = segments[..per_loop].iter().map(|s| s.start_ms).collect();
            starts
        };
        assert_eq!(with_tail(&Blocks(blocks.clone())), [0, 10_000, 40_000]);
        // Without that audio block, 30 s is a cut point.
        blocks.pop();
        assert_eq!(with_tail(&Blocks(blocks)), [0, 10_000, 30_000, 40_000]);
    }

    #[test]
    fn not_every_keyframe_is_a_cut_point() {
        // In unknown-size Clusters: keyframes at 3 s, then back at 2 s (not after the previous
        // cut), then at 6 s (past the next Cluster, at 5 s); and an EncryptedBlock after the
        // keyframe at 1 s of the next Cluster, which must not move to a Cluster of its own.
        let first = Blocks(vec![
            (simple_block(1, 0, true, b"k0"), (1, 0, b"k0".to_vec())),
            (
                simple_block(1, 3000, true, b"k3"),
                (1, 3000, b"k3".to_vec()),
            ),
            (
                simple_block(1, 2000, true, b"k2"),
                (1, 2000, b"k2".to_vec()),
            ),
            (
                simple_block(1, 6000, true, b"k6"),
                (1, 6000, b"k6".to_vec()),
            ),
        ]);
        let second = Blocks(vec![
            (simple_block(1, 0, true, b"k5"), (1, 0, b"k5".to_vec())),
            (
                simple_block(1, 1000, true, b"k6b"),
                (1, 1000, b"k6b".to_vec()),
            ),
            (
                el(id::ENCRYPTED_BLOCK, &[0x81, 0, 0, 0]),
                (0, 0, Vec::new()),
            ),
            (
                simple_block(1, 2000, true, b"k7"),
                (1, 2000, b"k7".to_vec()),
            ),
            (
                simple_block(1, 3000, false, b"p8"),
                (1, 3000, b"p8".to_vec()),
            ),
        ]);
        let mut tail = Vec::new();
        for (timecode, blocks) in [(0, &first), (5000, &second)] {
            let mut body = uint_el(id::TIMECODE, timecode);
            body.extend(blocks.encoded().concat());
            tail.extend(unknown_el(id::CLUSTER, &body));
        }
        let source = WebmSource::parse(&file_with_raw_segment_tail(&tail)).unwrap();
        let looper = source.segments(1000);
        let per_loop = looper.segments_per_loop();
        let segments: Vec<Segment> = looper.take(2 * per_loop).collect();
        let starts: Vec<u64> = segments[..per_loop].iter().map(|s| s.start_ms).collect();
        assert_eq!(starts, [0, 3000, 5000, 7000]);
        let mut got = Vec::new();
        for segment in &segments {
            check_cut_segment(&source, segment);
            got.extend(timed_blocks(&segment.bytes));
        }
        let period = source.period_ticks as i64;
        let mut want = Vec::new();
        for lap in 0..2 {
            want.extend(first.timed(0, lap * period));
            want.extend(
                second
                    .timed(5000, lap * period)
                    .into_iter()
                    .filter(|b| b.0 != 0),
            );
        }
        assert_eq!(got, want);
        // The EncryptedBlock stays in the Cluster it was in, which starts at 5 s.
        let encrypted = tree(&segments[2].bytes)
            .iter()
            .any(|n| n.id == id::ENCRYPTED_BLOCK);
        assert!(encrypted);
        assert_eq!(check_cut_segment(&source, &segments[2]), [5000]);

        // A BlockGroup with two Blocks (Matroska allows one): a cut before it would rebase only
        // the second, so the keyframe at 1 s is no cut point; the one at 2 s, after it, is.
        let mut group = el(id::BLOCK, &[0x81, 0x05, 0xDC, 0, b'x']); // 1500 ms
        group.extend(el(id::BLOCK, &[0x81, 0x06, 0x40, 0, b'y'])); // 1600 ms
        group.extend(el(id::REFERENCE_BLOCK, &[0xFF]));
        let blocks = [
            simple_block(1, 0, true, b"k0"),
            simple_block(1, 1000, true, b"k1"),
            el(id::BLOCK_GROUP, &group),
            simple_block(1, 2000, true, b"k2"),
            simple_block(1, 2500, false, b"p"),
        ];
        let input = file("webm", 1_000_000, &av_tracks(), &[cluster(0, &blocks)]);
        let source = WebmSource::parse(&input).unwrap();
        let segments: Vec<Segment> = source.segments(1000).take(2).collect();
        let starts: Vec<u64> = segments.iter().map(|s| s.start_ms).collect();
        assert_eq!(starts, [0, 2000]);
        let times: Vec<i64> = segments
            .iter()
            .flat_map(|s| timed_blocks(&s.bytes))
            .map(|b| b.1)
            .collect();
        assert_eq!(times, [0, 1000, 1500, 1600, 2000, 2500]);
    }

    /// Figures for the report: a 30 s file muxed as many encoders do, 5 s Clusters with a
    /// keyframe every second (25 fps video, 20 ms audio frames), cut at the 1 s target.
    #[test]
    fn five_second_clusters_with_a_keyframe_a_second_give_one_second_segments() {
        let mut clusters = Vec::new();
        for c in 0..6u64 {
            let mut blocks = Vec::new();
            for t in (0..5000i16).step_by(20) {
                if t % 40 == 0 {
                    let payload = format!("v{c}:{t}").into_bytes();
                    blocks.push(simple_block(1, t, t % 1000 == 0, &payload));
                }
                blocks.push(simple_block(2, t, true, format!("a{c}:{t}").as_bytes()));
            }
            clusters.push(cluster(5000 * c, &blocks));
        }
        let source = WebmSource::parse(&file("webm", 1_000_000, &av_tracks(), &clusters)).unwrap();
        let looper = source.segments(DEFAULT_TARGET_MS);
        let per_loop = looper.segments_per_loop();
        let durations: Vec<u64> = looper.take(per_loop).map(|s| s.duration_ms).collect();
        eprintln!(
            "30 s file, 5 s clusters, a keyframe every 1 s, target {DEFAULT_TARGET_MS} ms: \
             {per_loop} segments a loop, durations {durations:?}"
        );
        assert_eq!(durations, [1000; 30]);
    }

    #[test]
    fn mutated_files_with_long_clusters_never_panic() {
        let blocks = four_seconds();
        let input = file(
            "webm",
            1_000_000,
            &av_tracks(),
            &[
                cluster_with_extras(0, &blocks.encoded()),
                cluster(4000, &blocks.encoded()),
            ],
        );
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut accepted = 0;
        for round in 0..400 {
            let mut mutated = input.clone();
            for _ in 0..1 + round % 3 {
                let at = rng.gen_range(0..mutated.len());
                mutated[at] = rng.gen();
            }
            let Ok(source) = WebmSource::parse(&mutated) else {
                continue;
            };
            accepted += 1;
            let looper = source.segments(1000);
            let per_loop = looper.segments_per_loop();
            let mut next_start = 0;
            for segment in looper.take(2 * per_loop) {
                assert_eq!(segment.start_ms, next_start);
                next_start += segment.duration_ms;
                // Whatever was accepted is cut into Clusters of known size that tile the
                // segment, each with its Timecode first. (Only the top level is walked: the
                // children are the file's, whatever the mutation made of them.)
                let bytes = &segment.bytes;
                let mut pos = 0;
                while pos < bytes.len() {
                    let (id, id_len, _) = vint(bytes, pos, true).unwrap();
                    let (size, size_len, unknown) = vint(bytes, pos + id_len, false).unwrap();
                    assert!(id == u64::from(id::CLUSTER) && !unknown);
                    let data = pos + id_len + size_len;
                    assert_eq!(bytes[data], 0xE7, "the Timecode first");
                    pos = data + size as usize;
                }
                assert_eq!(pos, bytes.len());
            }
            let end = ticks_to_ms(2 * source.period_ticks, source.timecode_scale);
            assert_eq!(next_start, end);
        }
        eprintln!("{accepted} of 400 mutated files still parse");
    }

    #[test]
    fn av1_codec_string_comes_from_codec_private() {
        // seq_profile 0, level 8 (4.0), main tier, 10-bit.
        assert_eq!(av1_codec(&[0x81, 0x08, 0x4C, 0x00]), "av01.0.08M.10");
        assert_eq!(av1_codec(&[0x81, 0x2D, 0x80]), "av01.1.13H.08");
        assert_eq!(av1_codec(&[]), "av01.0.08M.08");
    }

    #[test]
    fn size_encoding_round_trips() {
        for size in [0, 1, 126, 127, 128, 16_382, 16_383, 1 << 40, (1 << 56) - 2] {
            let mut out = Vec::new();
            write_size(&mut out, size);
            assert_eq!(
                marquee_ebml::read_size(&out, 0, out.len()).unwrap(),
                (Some(size), out.len())
            );
        }
        assert_eq!(
            marquee_ebml::read_size(&UNKNOWN_SIZE_8, 0, 8).unwrap(),
            (None, 8)
        );
        assert_eq!(marquee_ebml::read_size(&[0xFF], 0, 1).unwrap(), (None, 1));
    }

    // --- Hostile input. -----------------------------------------------------------------------

    #[test]
    fn empty_and_random_bytes_are_refused() {
        assert_eq!(refused(&[]), SegmentError::NotEbml);
        assert_eq!(refused(&[0x1A, 0x45]), SegmentError::NotEbml);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for len in [1, 3, 4, 5, 16, 100, 4096, 100_000] {
            let mut bytes = vec![0; len];
            rng.fill_bytes(&mut bytes);
            refused(&bytes);
            // Random bytes behind a real EBML magic number, too.
            if len >= 4 {
                bytes[..4].copy_from_slice(&id::EBML.to_be_bytes());
                refused(&bytes);
            }
        }
    }

    #[test]
    fn truncated_demo_files_are_refused() {
        let file = demo("paper-boats");
        let len = file.len();
        let mut cuts: Vec<usize> = (1..300).collect();
        cuts.extend((1..64).map(|i| i * len / 64));
        cuts.extend(len - 300..len);
        for cut in cuts {
            let err = refused(&file[..cut]);
            assert!(
                matches!(
                    err,
                    SegmentError::NotEbml
                        | SegmentError::NoSegment
                        | SegmentError::Truncated { .. }
                        | SegmentError::SizePastEnd { .. }
                ),
                "cut at {cut}: {err}"
            );
        }
    }

    #[test]
    fn an_absurd_size_inside_a_cluster_is_refused() {
        const ABSURD: [u8; 8] = [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE]; // 2^56 - 2
                                                                                  // In a demo file: the first SimpleBlock's size replaced.
        let file = demo("glass-rain");
        let nodes = tree(&file);
        let block = nodes.iter().find(|n| n.id == id::SIMPLE_BLOCK).unwrap();
        // The ID 0xA3 is one byte: the size follows it.
        let size_start = block.offset + 1;
        assert!(block.data.start - size_start < 8);
        let mut hostile = file[..size_start].to_vec();
        hostile.extend_from_slice(&ABSURD);
        hostile.extend_from_slice(&file[block.data.start..]);
        assert!(matches!(
            refused(&hostile),
            SegmentError::SizePastEnd {
                id: id::SIMPLE_BLOCK,
                size,
                ..
            } if size == (1 << 56) - 2
        ));

        // In a synthetic file, as the size of the Cluster itself and of a child.
        let mut huge_cluster = vec![0x1F, 0x43, 0xB6, 0x75];
        huge_cluster.extend_from_slice(&ABSURD);
        huge_cluster.extend(uint_el(id::TIMECODE, 0));
        let input = file_with_raw_segment_tail(&huge_cluster);
        assert!(matches!(
            refused(&input),
            SegmentError::SizePastEnd {
                id: id::CLUSTER,
                ..
            }
        ));
        let mut body = uint_el(id::TIMECODE, 0);
        body.extend_from_slice(&[0xA3]);
        body.extend_from_slice(&ABSURD);
        body.extend_from_slice(&[0x81, 0, 0, 0x80]);
        let input = file_with_raw_segment_tail(&unknown_el(id::CLUSTER, &body));
        assert!(matches!(
            refused(&input),
            SegmentError::SizePastEnd {
                id: id::SIMPLE_BLOCK,
                ..
            }
        ));
    }

    /// EBML header, an unknown-size Segment with Info and Tracks, then `tail` as is.
    fn file_with_raw_segment_tail(tail: &[u8]) -> Vec<u8> {
        let mut segment = el(id::INFO, &uint_el(id::TIMECODE_SCALE, 1_000_000));
        segment.extend(el(id::TRACKS, &av_tracks().concat()));
        segment.extend_from_slice(tail);
        let mut out = ebml_header("webm");
        out.extend(unknown_el(id::SEGMENT, &segment));
        out
    }

    #[test]
    fn wrong_files_are_refused_with_the_reason() {
        let key = || simple_block(1, 0, true, b"k");
        let good = || vec![cluster(0, &[key()]), cluster(40, &[key()])];
        // The synthetic baseline is good, so each case below fails for its own reason.
        WebmSource::parse(&file("webm", 1_000_000, &av_tracks(), &good())).unwrap();
        WebmSource::parse(&file("matroska", 1_000_000, &av_tracks(), &good())).unwrap();

        assert_eq!(
            refused(&file("foo", 1_000_000, &av_tracks(), &good())),
            SegmentError::DocType("foo".into())
        );
        let audio_only = [track(2, TRACK_AUDIO, "A_OPUS")];
        assert_eq!(
            refused(&file("webm", 1_000_000, &audio_only, &good())),
            SegmentError::NoVideoTrack
        );
        let h264 = [track(1, TRACK_VIDEO, "V_MPEG4/ISO/AVC")];
        assert_eq!(
            refused(&file("matroska", 1_000_000, &h264, &good())),
            SegmentError::UnsupportedCodec("V_MPEG4/ISO/AVC".into())
        );
        assert_eq!(
            refused(&file("webm", 1_000_000, &av_tracks(), &[])),
            SegmentError::NoClusters
        );
        let not_key = [cluster(0, &[simple_block(1, 0, false, b"p")])];
        assert_eq!(
            refused(&file("webm", 1_000_000, &av_tracks(), &not_key)),
            SegmentError::FirstClusterNotKeyframe
        );
        let referenced = [cluster(0, &[block_group(1, 0, true, b"p")])];
        assert_eq!(
            refused(&file("webm", 1_000_000, &av_tracks(), &referenced)),
            SegmentError::FirstClusterNotKeyframe
        );
        let audio_first_only = [cluster(0, &[simple_block(2, 0, true, b"a")])];
        assert_eq!(
            refused(&file("webm", 1_000_000, &av_tracks(), &audio_first_only)),
            SegmentError::FirstClusterNotKeyframe
        );
        assert!(matches!(
            refused(&file("webm", 0, &av_tracks(), &good())),
            SegmentError::Invalid { .. }
        ));
        let backwards = [cluster(40, &[key()]), cluster(0, &[key()])];
        assert!(matches!(
            refused(&file("webm", 1_000_000, &av_tracks(), &backwards)),
            SegmentError::Invalid { .. }
        ));
        let no_timecode = [el(id::CLUSTER, &key())];
        assert!(matches!(
            refused(&file("webm", 1_000_000, &av_tracks(), &no_timecode)),
            SegmentError::Invalid { .. }
        ));
        // Unknown size where it is not allowed.
        let input = file_with_raw_segment_tail(&unknown_el(id::TRACKS, &[]));
        let mut input = input;
        input.extend(cluster(0, &[key()]));
        assert!(matches!(
            refused(&input),
            SegmentError::UnknownSize { id: id::TRACKS, .. }
        ));
        // IDs longer than 4 bytes, sizes longer than 8.
        assert!(matches!(
            refused(&file_with_raw_segment_tail(&[0x08, 1, 2, 3, 4, 0x80])),
            SegmentError::InvalidVint { .. }
        ));
        assert!(matches!(
            refused(&file_with_raw_segment_tail(&[0xA3, 0x00, 1, 2, 3])),
            SegmentError::InvalidVint { .. }
        ));
        // An EBML header asking for an EBML reader version we are not.
        let mut header = uint_el(id::EBML_READ_VERSION, 2);
        header.extend(el(id::DOC_TYPE, b"webm"));
        assert!(matches!(
            refused(&el(id::EBML, &header)),
            SegmentError::EbmlHeader(_)
        ));
        // No Segment.
        assert_eq!(refused(&ebml_header("webm")), SegmentError::NoSegment);
    }

    #[test]
    fn mutated_demo_files_never_panic() {
        let file = demo("open-skies");
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let mut accepted = 0;
        for round in 0..200 {
            let mut mutated = file.clone();
            for _ in 0..1 + round % 4 {
                // Mostly in the headers, where the structure is; sometimes anywhere.
                let at = if rng.gen_bool(0.7) {
                    rng.gen_range(0..2048)
                } else {
                    rng.gen_range(0..mutated.len())
                };
                mutated[at] = rng.gen();
            }
            if let Ok(source) = WebmSource::parse(&mutated) {
                accepted += 1;
                for segment in source.segments(DEFAULT_TARGET_MS).take(3) {
                    assert!(!segment.bytes.is_empty());
                }
            }
        }
        eprintln!("{accepted} of 200 mutated files still parse");
    }
}

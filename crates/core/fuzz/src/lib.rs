//! The checks behind the fuzz targets of `marquee-core`'s parsers, and the seeds of their
//! corpora.
//!
//! The parsers are included by path instead of depending on `marquee-core`: the core crate
//! pulls librqbit, sqlx, reqwest and aws-lc, and cargo-fuzz would instrument all of them (minutes
//! per build) to fuzz files that need only `std`, `thiserror` and `sha1` (the torrent reader's
//! bencode comes from `marquee-protocol`, included the same way), and the probe's EBML reader,
//! the leaf crate `marquee-ebml`. The files are the very ones the app compiles, so what is
//! fuzzed is what ships.
//!
//! Every target must never panic on any input. Beyond that they check properties the parsers
//! promise:
//!
//! - [`video_probe`]: a probe that succeeds describes WebM or MP4 with a finite duration; an
//!   MP4 faststart copy writes exactly the bytes it reports, copying its own output changes
//!   nothing, and the copy of a file that probes probes the same with `moov` first.
//! - [`playback_range`]: no header means the whole file; a partial answer lies inside the file
//!   (`start <= end < len`), an open-ended one is at most `MAX_OPEN_RANGE` long, and the range
//!   written back as a header parses to itself.
//! - [`torrent_import`]: an accepted torrent has files, lengths that add up, a power-of-two
//!   piece length, as many piece hashes as its length needs, only names that are safe to write
//!   to disk on Windows, macOS and Linux, and no two files that one disk would merge.

use std::io::Cursor;

#[path = "../../src/publishing/probe.rs"]
pub mod probe;
#[path = "../../src/playback/range.rs"]
pub mod range;
#[path = "../../../protocol/src/bencode.rs"]
pub mod bencode;
#[path = "../../../protocol/src/torrent_file.rs"]
pub mod torrent_file;

use range::{parse_range, RangeRequest, MAX_OPEN_RANGE};

/// Fuzz target `video_probe`: `data` is a whole video file.
pub fn video_probe(data: &[u8]) {
    let probed = probe::probe_reader(&mut Cursor::new(data));
    if let Ok(info) = &probed {
        assert!(matches!(info.mime, "video/webm" | "video/mp4"), "{info:?}");
        assert!(info.duration_s.is_none_or(f64::is_finite), "{info:?}");
        assert!(info.mime == "video/mp4" || !info.needs_faststart);
    }

    let mut out = Vec::new();
    let Ok(written) = probe::faststart_copy_from(&mut Cursor::new(data), &mut out, |_| true) else {
        return;
    };
    assert_eq!(written, out.len() as u64, "the copy reports what it wrote");
    // Boxes are copied whole and only trailing bytes too few for a box are left out.
    assert!(out.len() <= data.len() && data.len() - out.len() < 8);

    let mut again = Vec::new();
    probe::faststart_copy_from(&mut Cursor::new(&out), &mut again, |_| true)
        .expect("a faststart copy copies again");
    assert!(again == out, "copying a faststart copy changes it");

    if let Ok(info) = probed {
        if info.mime == "video/mp4" {
            let moved = probe::probe_reader(&mut Cursor::new(&out))
                .expect("the faststart copy of a playable MP4 probes");
            assert!(!moved.needs_faststart, "moov is not first in the copy");
            assert_eq!(
                probe::MediaInfo {
                    needs_faststart: info.needs_faststart,
                    ..moved
                },
                info
            );
        }
    }
}

/// Fuzz target `playback_range`: the first 8 bytes are the file's length (little-endian), the
/// rest is the header's value.
pub fn playback_range(data: &[u8]) {
    let Some((len, header)) = data.split_first_chunk::<8>() else {
        return;
    };
    let len = u64::from_le_bytes(*len);
    let header = String::from_utf8_lossy(header);
    assert_eq!(parse_range(None, len), RangeRequest::Full);
    match parse_range(Some(&header), len) {
        RangeRequest::Full => panic!("a header was read as no header: {header:?}"),
        RangeRequest::Unsatisfiable => {}
        RangeRequest::Partial { start, end } => {
            assert!(
                start <= end && end < len,
                "{start}-{end} of {len}: {header:?}"
            );
            // Only the first range counts: `bytes=0-99999,-` is closed (a crash of an earlier
            // version of this check, kept as a unit test in range.rs).
            let first = header
                .trim()
                .get(6..)
                .and_then(|spec| spec.split(',').map(str::trim).find(|r| !r.is_empty()));
            if first.is_some_and(|r| r.ends_with('-')) {
                assert!(end - start < MAX_OPEN_RANGE, "{start}-{end}: {header:?}");
            }
            assert_eq!(
                parse_range(Some(&format!("bytes={start}-{end}")), len),
                RangeRequest::Partial { start, end }
            );
        }
    }
}

/// Fuzz target `torrent_import`: `data` is a dropped `.torrent` file.
pub fn torrent_import(data: &[u8]) {
    let t = match torrent_file::inspect(data) {
        Ok(t) => t,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    assert_eq!(t.info_hash.len(), 40);
    assert!(t
        .info_hash
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    assert!(!t.files.is_empty());
    let total = t.files.iter().map(|f| u128::from(f.length)).sum::<u128>();
    assert_eq!(total, u128::from(t.total_size));
    assert!(t.total_size > 0);
    assert!(
        (torrent_file::MIN_PIECE_LENGTH..=torrent_file::MAX_PIECE_LENGTH).contains(&t.piece_length)
    );
    assert!(t.piece_length.is_power_of_two());
    assert_eq!(t.piece_count, t.total_size.div_ceil(t.piece_length));
    // Restated here rather than calling `name_problem`, so the fuzzer checks the rule, not the
    // function against itself.
    let safe = |part: &str| {
        let stem = part.split('.').next().unwrap_or_default().trim_end();
        let device = ["CON", "PRN", "AUX", "NUL"]
            .iter()
            .any(|d| stem.eq_ignore_ascii_case(d))
            || (stem.len() == 4
                && ["COM", "LPT"]
                    .iter()
                    .any(|d| stem.get(..3).is_some_and(|s| s.eq_ignore_ascii_case(d)))
                && stem.as_bytes()[3].is_ascii_digit());
        !part.is_empty()
            && part != "."
            && part != ".."
            && !part.contains(['/', '\\', ':'])
            && !part.chars().any(char::is_control)
            && !part.ends_with(['.', ' '])
            && !device
    };
    assert!(safe(&t.name), "{:?}", t.name);
    let mut seen = std::collections::HashSet::new();
    for file in &t.files {
        assert!(!file.path.is_empty());
        assert!(file.path.iter().all(|p| safe(p)), "{:?}", file.path);
        // No two real files land on one path of a disk that ignores case.
        if !file.padding {
            assert!(
                seen.insert(file.path.join("/").to_lowercase()),
                "{:?}",
                file.path
            );
        }
    }
    if !t.multi_file {
        assert_eq!(t.files.len(), 1);
        assert_eq!(t.files[0].path, std::slice::from_ref(&t.name));
    }
}

/// Seed inputs: `(target, name, bytes)`. The demo films' first 64 KiB, the MP4 test fixtures
/// whole (their `moov` may sit at the end), small hand-built files of each shape, Range headers,
/// and valid torrents.
pub fn seeds() -> std::io::Result<Vec<(&'static str, String, Vec<u8>)>> {
    let core = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut seeds = Vec::new();

    let media = core.join("../store/demo/media");
    let mut films: Vec<_> = std::fs::read_dir(&media)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "webm"))
        .collect();
    films.sort();
    for path in films {
        let mut head = std::fs::read(&path)?;
        head.truncate(64 * 1024);
        let name = path.file_stem().unwrap_or_default().to_string_lossy();
        seeds.push(("video_probe", format!("{name}-head.webm"), head));
    }
    for name in [
        "h264-aac-faststart.mp4",
        "h264-aac-moov-last.mp4",
        "hevc.mp4",
    ] {
        let bytes = std::fs::read(core.join("tests/fixtures").join(name))?;
        seeds.push(("video_probe", name.to_owned(), bytes));
    }
    let (fast, moov_last) = tiny_mp4s();
    for (name, bytes) in [
        ("tiny-faststart.mp4", fast),
        ("tiny-moov-last.mp4", moov_last),
        ("tiny-live.webm", tiny_webm()),
    ] {
        let info = probe::probe_reader(&mut Cursor::new(&bytes)).expect("a hand-built seed probes");
        assert_eq!(info.width, 640, "{name}");
        seeds.push(("video_probe", name.to_owned(), bytes));
    }

    let lengths: [(&str, u64); 4] = [
        ("len0", 0),
        ("len100", 100),
        ("len100mib", 100 << 20),
        ("lenmax", u64::MAX),
    ];
    let headers = [
        "bytes=0-1",
        "bytes=0-",
        "bytes=-500",
        "bytes=10-20, 30-40",
        "bytes=18446744073709551615-",
        "Bytes= 5 - 9 ",
    ];
    for (i, header) in headers.iter().enumerate() {
        let (len_name, len) = lengths[i % lengths.len()];
        let bytes = [&len.to_le_bytes()[..], header.as_bytes()].concat();
        seeds.push(("playback_range", format!("{i}-{len_name}"), bytes));
    }

    for (name, bytes) in torrents() {
        torrent_file::inspect(&bytes).expect("a torrent seed is valid");
        seeds.push(("torrent_import", name.to_owned(), bytes));
    }
    Ok(seeds)
}

/// An MP4 box.
fn bx(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = ((data.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out
}

/// A 640x360 H.264 + AAC MP4 of 300 bytes of media: moov first, and moov last.
fn tiny_mp4s() -> (Vec<u8>, Vec<u8>) {
    let ftyp = bx(b"ftyp", b"isom\0\0\x02\0isomavc1");
    let mdat = bx(b"mdat", &[0x5a; 300]);
    let moov = |chunk: u32| {
        let mut mvhd = vec![0u8; 100];
        mvhd[12..16].copy_from_slice(&1000u32.to_be_bytes());
        mvhd[16..20].copy_from_slice(&5000u32.to_be_bytes());
        let track = |handler: &[u8; 4], entry: Vec<u8>, offsets: &[u32]| {
            let hdlr = [&[0u8; 8][..], handler, &[0; 12]].concat();
            let stsd = bx(b"stsd", &[&[0, 0, 0, 0, 0, 0, 0, 1][..], &entry].concat());
            let mut stco = vec![0, 0, 0, 0];
            stco.extend_from_slice(&(offsets.len() as u32).to_be_bytes());
            for o in offsets {
                stco.extend_from_slice(&o.to_be_bytes());
            }
            let stbl = bx(b"stbl", &[stsd, bx(b"stco", &stco)].concat());
            let mdia = [bx(b"hdlr", &hdlr), bx(b"minf", &stbl)].concat();
            bx(b"trak", &bx(b"mdia", &mdia))
        };
        let mut visual = vec![0u8; 78];
        visual[24..26].copy_from_slice(&640u16.to_be_bytes());
        visual[26..28].copy_from_slice(&360u16.to_be_bytes());
        let video = track(b"vide", bx(b"avc1", &visual), &[chunk, chunk + 100]);
        let audio = track(b"soun", bx(b"mp4a", &[0; 28]), &[chunk + 200]);
        bx(b"moov", &[bx(b"mvhd", &mvhd), video, audio].concat())
    };
    let moov_len = moov(0).len() as u32;
    let fast = [
        ftyp.clone(),
        moov(ftyp.len() as u32 + moov_len + 8),
        mdat.clone(),
    ]
    .concat();
    let last = [ftyp.clone(), mdat, moov(ftyp.len() as u32 + 8)].concat();
    (fast, last)
}

/// An EBML element with a one-byte size.
fn el(id: &[u8], data: &[u8]) -> Vec<u8> {
    assert!(data.len() < 0x7F);
    [id, &[0x80 | data.len() as u8], data].concat()
}

/// A 640x360 VP9 + Opus WebM whose Segment and Cluster have unknown sizes, as live streams
/// are written.
fn tiny_webm() -> Vec<u8> {
    const UNKNOWN: [u8; 8] = [0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
    let header = el(&[0x1A, 0x45, 0xDF, 0xA3], &el(&[0x42, 0x82], b"webm"));
    let info = el(
        &[0x15, 0x49, 0xA9, 0x66],
        &[
            el(&[0x2A, 0xD7, 0xB1], &[0x0F, 0x42, 0x40]),
            el(&[0x44, 0x89], &2500f32.to_be_bytes()),
        ]
        .concat(),
    );
    let video = [el(&[0xB0], &[0x02, 0x80]), el(&[0xBA], &[0x01, 0x68])].concat();
    let tracks = el(
        &[0x16, 0x54, 0xAE, 0x6B],
        &[
            el(
                &[0xAE],
                &[
                    el(&[0x83], &[1]),
                    el(&[0x86], b"V_VP9"),
                    el(&[0xE0], &video),
                ]
                .concat(),
            ),
            el(
                &[0xAE],
                &[el(&[0x83], &[2]), el(&[0x86], b"A_OPUS")].concat(),
            ),
        ]
        .concat(),
    );
    let cluster = [&[0x1F, 0x43, 0xB6, 0x75][..], &UNKNOWN, &[0xE7, 0x81, 0x00]].concat();
    let segment = [
        &[0x18, 0x53, 0x80, 0x67][..],
        &UNKNOWN,
        &info,
        &tracks,
        &cluster,
    ]
    .concat();
    [header, segment].concat()
}

/// Valid torrents: one file, a folder with a padding file, and one with trackers.
fn torrents() -> Vec<(&'static str, Vec<u8>)> {
    let string = |s: &[u8]| [format!("{}:", s.len()).as_bytes(), s].concat();
    let file = |path: &[&str], len: u64, attr: Option<&str>| {
        let mut out = b"d".to_vec();
        if let Some(attr) = attr {
            out.extend(string(b"attr"));
            out.extend(string(attr.as_bytes()));
        }
        out.extend(string(b"length"));
        out.extend(format!("i{len}e").into_bytes());
        out.extend(string(b"path"));
        out.push(b'l');
        for p in path {
            out.extend(string(p.as_bytes()));
        }
        out.extend(b"ee");
        out
    };
    let info = |files: Option<Vec<Vec<u8>>>, length: u64, name: &str, piece: u64| {
        let pieces = vec![0x3c; 20 * length.div_ceil(piece) as usize];
        let mut out = b"d".to_vec();
        match files {
            Some(files) => {
                out.extend(string(b"files"));
                out.push(b'l');
                files.iter().for_each(|f| out.extend(f));
                out.push(b'e');
            }
            None => {
                out.extend(string(b"length"));
                out.extend(format!("i{length}e").into_bytes());
            }
        }
        out.extend(string(b"name"));
        out.extend(string(name.as_bytes()));
        out.extend(string(b"piece length"));
        out.extend(format!("i{piece}e").into_bytes());
        out.extend(string(b"pieces"));
        out.extend(string(&pieces));
        out.push(b'e');
        out
    };
    let single = [
        &b"d"[..],
        &string(b"info"),
        &info(None, 40_000, "clip.webm", 16_384),
        b"e",
    ]
    .concat();
    let folder_files = vec![
        file(&["Episode 1.webm"], 16_000, None),
        file(&[".pad", "384"], 384, Some("p")),
        file(&["extras", "Trailer.webm"], 5_000, None),
    ];
    let folder = [
        &b"d"[..],
        &string(b"info"),
        &info(Some(folder_files), 21_384, "Orbital S01", 16_384),
        b"e",
    ]
    .concat();
    let trackers = [
        &b"d"[..],
        &string(b"announce"),
        &string(b"http://127.0.0.1:8640/announce"),
        &string(b"announce-list"),
        b"ll",
        &string(b"udp://tracker.example:6969"),
        b"ee",
        &string(b"comment"),
        &string(b"made by hand"),
        &string(b"info"),
        &info(None, 1, "one byte", 16_384),
        b"e",
    ]
    .concat();
    vec![
        ("single.torrent", single),
        ("folder.torrent", folder),
        ("trackers.torrent", trackers),
    ]
}

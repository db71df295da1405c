//! Reads a dropped `.torrent` file before librqbit sees it, and refuses, with a sentence, what
//! librqbit would choke on (it panics on some malformed torrents, and divides by a piece length
//! of zero) or what would be unsafe to write to disk on any system Marquee runs on: non-UTF-8
//! names, paths that climb out of the download folder, names Windows reserves or silently
//! changes (`CON`, `name.`, `a:stream`), names that differ only in capitals (one file on Windows
//! and macOS), lengths that overflow, piece layouts that do not match the files.
//!
//! A torrent is written on the computer that opens it, whichever that is: a name that is fine
//! on Linux is still refused when Windows or macOS would save it elsewhere or under another
//! name, so that a torrent behaves the same for everyone it is shared with.
//!
//! Pure on purpose: `std`, `sha1` and the protocol's bencode reader (`crate::bencode`, the one
//! the store's trackers are written with: small and careful, see its docs), so the fuzz crate
//! builds this file and that one on their own.

use std::collections::HashMap;

use sha1::{Digest, Sha1};

use crate::bencode::{parse, BencodeError, Dict, Value};

/// Torrent files are small (the piece hashes of a 100 GB torrent with 4 MiB pieces take
/// 500 KB); anything larger is not one.
pub const MAX_TORRENT_FILE: usize = 16 << 20;

/// The largest piece length accepted. Real torrents use 16 KiB to 64 MiB; librqbit keeps whole
/// pieces in memory while it checks them.
pub const MAX_PIECE_LENGTH: u64 = 256 << 20;

/// The smallest piece length accepted: one 16 KiB block, the unit peers request (BEP 3), and
/// BitTorrent v2's minimum (BEP 52). Smaller pieces only multiply hashes and requests.
pub const MIN_PIECE_LENGTH: u64 = 16 << 10;

/// What the person can do about a torrent refused for how it was made: the file itself is the
/// problem, so only whoever made it can fix it.
pub const ASK_FOR_ANOTHER: &str = "ask whoever shared it for another torrent";

/// How deeply lists and dictionaries may nest. A torrent needs four levels (the file, `info`,
/// `files`, a file's `path`); the limit keeps a hostile file from exhausting the stack.
pub use crate::bencode::MAX_DEPTH;

impl From<BencodeError> for TorrentFileError {
    fn from(e: BencodeError) -> TorrentFileError {
        match e {
            BencodeError::Malformed { why, at } => TorrentFileError::NotBencode { why, at },
            BencodeError::DuplicateKey(key) => {
                malformed(format!("it gives “{key}” twice in one section"))
            }
        }
    }
}

/// What a torrent file shares, as the importer needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TorrentFile {
    /// The torrent's name: the file's name (single-file torrents) or the folder's.
    pub name: String,
    /// True for a torrent of a folder (a `files` list), false for one file.
    pub multi_file: bool,
    /// The files in torrent order. A single-file torrent has one, whose path is `[name]`; a
    /// folder's paths are relative to the folder `name`.
    pub files: Vec<TorrentEntry>,
    /// The sum of the files' lengths (padding files included, as in the piece layout).
    pub total_size: u64,
    /// Bytes per piece.
    pub piece_length: u64,
    /// Number of pieces (each has a 20-byte SHA-1 hash in the file).
    pub piece_count: u64,
    /// SHA-1 of the raw `info` dictionary, 40 lowercase hex digits: the torrent's identity.
    pub info_hash: String,
    /// Tracker URLs from `announce-list` and `announce`, in order, without repeats. URLs that
    /// are not UTF-8 text are left out (trackers are hints; Marquee adds its own).
    pub announce: Vec<String>,
}

/// One file of a torrent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TorrentEntry {
    /// Its path, one component per element; each is a name [`name_problem`] finds nothing
    /// wrong with.
    pub path: Vec<String>,
    /// Its length in bytes.
    pub length: u64,
    /// A BEP 47 padding file (`attr` contains `p`): it aligns the next file to a piece and is
    /// never written to disk.
    pub padding: bool,
}

/// Why a torrent file is refused: each message completes "This cannot be added: " (and the
/// sentence ends after it).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TorrentFileError {
    /// Larger than [`MAX_TORRENT_FILE`].
    #[error(
        "this is too large to be a torrent file ({size} bytes; torrent files are at most 16 MiB)"
    )]
    TooLarge {
        /// The file's size in bytes.
        size: usize,
    },
    /// Not bencoded data (or not a dictionary at the top).
    #[error("this is not a torrent file: {why} (at byte {at})")]
    NotBencode {
        /// What is wrong.
        why: &'static str,
        /// Where, from the start of the file.
        at: usize,
    },
    /// No `info` dictionary.
    #[error("this torrent file has no info section, so it does not say what it shares")]
    NoInfo,
    /// A field that is missing, has the wrong type, or appears twice.
    #[error("this torrent file is damaged: {0}")]
    Malformed(String),
    /// A name or path component that is not UTF-8.
    #[error("this torrent gives {what} in an encoding other than UTF-8, which Marquee cannot save safely; {ASK_FOR_ANOTHER}")]
    NotUtf8 {
        /// "its name" or "the path of file N".
        what: String,
    },
    /// An empty name or path component.
    #[error("in this torrent, {what} is empty or has an empty part; {ASK_FOR_ANOTHER}")]
    EmptyName {
        /// "its name" or "the path of file N".
        what: String,
    },
    /// A name or path component that some system would save outside the torrent's folder, under
    /// another name, or not at all.
    #[error(
        "this torrent names a file “{}”, which {problem}; {ASK_FOR_ANOTHER}",
        printable(name)
    )]
    UnsafeName {
        /// The offending path, components joined with `/`.
        name: String,
        /// What is wrong with it.
        problem: NameProblem,
    },
    /// No files at all.
    #[error("this torrent file lists no files")]
    NoFiles,
    /// The same path twice.
    #[error("this torrent lists the file “{}” twice; {ASK_FOR_ANOTHER}", printable(.0))]
    DuplicatePath(String),
    /// Two paths that differ only in capitals: Windows and macOS (case-insensitive by default)
    /// would write both into one file.
    #[error("this torrent lists both “{}” and “{}”, names that differ only in capitals, which Windows and macOS would save as one file; {ASK_FOR_ANOTHER}", printable(first), printable(second))]
    CaseClash {
        /// The path listed first.
        first: String,
        /// The path listed later.
        second: String,
    },
    /// A path that is a file and also the folder of another file.
    #[error("this torrent uses “{}” as a file and as a folder, which no disk can hold; {ASK_FOR_ANOTHER}", printable(.0))]
    FileAndFolder(String),
    /// The lengths do not fit in 64 bits.
    #[error(
        "the sizes of this torrent's files add up to more than 16 EiB, which no real torrent has"
    )]
    SizeOverflow,
    /// Every file is empty.
    #[error("this torrent shares nothing: all of its files are empty")]
    NoData,
    /// Not a power of two from [`MIN_PIECE_LENGTH`] to [`MAX_PIECE_LENGTH`] (zero among them:
    /// librqbit would divide by it).
    #[error("this torrent's piece length of {0} bytes is not usable (it must be a power of two from 16 KiB to 256 MiB); {ASK_FOR_ANOTHER}")]
    PieceLength(i64),
    /// `pieces` is not a whole number of 20-byte hashes.
    #[error("this torrent's piece hashes are damaged: {0} bytes is not a whole number of 20-byte hashes; {ASK_FOR_ANOTHER}")]
    PiecesNotWhole(usize),
    /// `pieces` does not match the total length.
    #[error("this torrent has {have} piece hashes, but its files need {want}, so it is damaged; {ASK_FOR_ANOTHER}")]
    PiecesMismatch {
        /// Hashes in the file.
        have: u64,
        /// Pieces the total length needs.
        want: u64,
    },
}

/// What is wrong with one name or path component; each completes "…, which ".
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameProblem {
    /// `.` or `..`: the folder itself or its parent.
    #[error("would be written outside its folder")]
    OutsideFolder,
    /// Starts with `/` or `\`.
    #[error("is an absolute path, so it would be written outside its folder")]
    Absolute,
    /// `C:` or `C:name`: drive-relative on Windows, whatever the folder.
    #[error("starts with a drive letter, so Windows would write it outside its folder")]
    Drive,
    /// A `/` or `\` inside one component.
    #[error("has a slash or backslash inside one part of its path, so it would be saved in another folder")]
    Separator,
    /// A `:` elsewhere: on NTFS `name:stream` writes a hidden stream of the file `name`.
    #[error("contains a colon, which Windows reads as a hidden part of another file")]
    Colon,
    /// NUL or another control character.
    #[error(
        "contains a control character (such as NUL or a line break) that disks refuse or hide"
    )]
    Control,
    /// Ends with `.` or a space, which Windows strips: `a.` and `a` are one file there.
    #[error(
        "ends with a dot or a space, which Windows drops, so it would be saved under another name"
    )]
    TrailingDotOrSpace,
    /// `CON`, `PRN`, `AUX`, `NUL`, `COM0`–`COM9`, `LPT0`–`LPT9` (with any extension).
    #[error("is a name Windows keeps for a device (such as CON, AUX, NUL, COM1 or LPT1), so it cannot be saved there")]
    Reserved,
}

/// What is wrong with `part` as one component of a path saved on Windows, macOS or Linux, if
/// anything. Emptiness is the caller's to judge (it is reported apart).
pub fn name_problem(part: &str) -> Option<NameProblem> {
    use NameProblem::*;
    let bytes = part.as_bytes();
    Some(if part.chars().any(char::is_control) {
        Control
    } else if part.starts_with(['/', '\\']) {
        Absolute
    } else if part.contains(['/', '\\']) {
        Separator
    } else if part == "." || part == ".." {
        OutsideFolder
    } else if matches!(bytes, [letter, b':', ..] if letter.is_ascii_alphabetic()) {
        Drive
    } else if part.contains(':') {
        Colon
    } else if part.ends_with(['.', ' ']) {
        TrailingDotOrSpace
    } else if reserved_on_windows(part) {
        Reserved
    } else {
        return None;
    })
}

/// Windows' device names: the part before the first dot, spaces at its end ignored, in any
/// case; `COM¹`–`COM³` and `LPT¹`–`LPT³` count too.
fn reserved_on_windows(part: &str) -> bool {
    let stem = part.split('.').next().unwrap_or(part).trim_end_matches(' ');
    let upper = stem.to_ascii_uppercase();
    match upper.as_str() {
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$" => true,
        _ => {
            let numbered = upper
                .strip_prefix("COM")
                .or_else(|| upper.strip_prefix("LPT"));
            matches!(
                numbered,
                Some("0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "¹" | "²" | "³")
            )
        }
    }
}

/// A name as a message shows it: control characters written out (`\u{1}`), the rest as is.
fn printable(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

type Result<T> = std::result::Result<T, TorrentFileError>;

/// Reads a `.torrent` file: checks everything the import relies on and returns what it shares.
pub fn inspect(bytes: &[u8]) -> Result<TorrentFile> {
    read(bytes, true)
}

/// Reads a torrent that is already in the library and checks its names as [`inspect`] does,
/// but not its piece layout, which librqbit has accepted and verifies piece by piece. Used
/// where only a path is built from the torrent (moving and exporting its files). Torrents
/// librqbit 9 makes of a file whose size is a whole number of pieces carry one empty piece's
/// hash too many, which [`inspect`] refuses; such a title must still export.
pub fn inspect_names(bytes: &[u8]) -> Result<TorrentFile> {
    read(bytes, false)
}

fn read(bytes: &[u8], check_pieces: bool) -> Result<TorrentFile> {
    if bytes.len() > MAX_TORRENT_FILE {
        return Err(TorrentFileError::TooLarge { size: bytes.len() });
    }
    if bytes.first() != Some(&b'd') {
        return Err(not_bencode(
            if bytes.is_empty() {
                "it is empty"
            } else {
                "it does not start with a bencoded dictionary"
            },
            0,
        ));
    }
    // One pass over the whole file checks its syntax; everything below reads validated data.
    let (top, end) = parse(bytes, 0, 0)?;
    if end != bytes.len() {
        return Err(not_bencode("there are extra bytes after its end", end));
    }
    let top = top
        .dict()
        .ok_or_else(|| not_bencode("it does not start with a bencoded dictionary", 0))?;
    let info_value = top.get(b"info")?.ok_or(TorrentFileError::NoInfo)?;
    let info = info_value.dict().ok_or(TorrentFileError::NoInfo)?;
    let info_hash = hex(&Sha1::digest(info_value.raw()));

    let name = match info.get(b"name")? {
        None => return Err(malformed("it does not name what it shares")),
        Some(v) => v.bytes().ok_or_else(|| malformed("its name is not text"))?,
    };
    let name = component(name, "its name", || {
        String::from_utf8_lossy(name).into_owned()
    })?;

    let (multi_file, files) = match (info.get(b"length")?, info.get(b"files")?) {
        (Some(_), Some(_)) => {
            return Err(malformed(
                "it describes both a single file and a list of files",
            ))
        }
        (None, None) => return Err(TorrentFileError::NoFiles),
        (Some(length), None) => {
            let length = length_of(length, "its length")?;
            let padding = attr_padding(info.get(b"attr")?)?;
            let entry = TorrentEntry {
                path: vec![name.clone()],
                length,
                padding,
            };
            (false, vec![entry])
        }
        (None, Some(list)) => {
            let list = list
                .list()
                .ok_or_else(|| malformed("its file list is not a list"))?;
            let mut files = Vec::new();
            for (i, file) in list.enumerate() {
                files.push(file_entry(file?, i + 1)?);
            }
            if files.is_empty() {
                return Err(TorrentFileError::NoFiles);
            }
            (true, files)
        }
    };

    distinct_paths(&files)?;
    let total_size = files
        .iter()
        .try_fold(0u64, |sum, f| sum.checked_add(f.length))
        .ok_or(TorrentFileError::SizeOverflow)?;
    if total_size == 0 {
        return Err(TorrentFileError::NoData);
    }

    let piece_length = match info.get(b"piece length")? {
        None => return Err(malformed("it gives no piece length")),
        Some(v) => number(v, "its piece length")?,
    };
    let pieces = match info.get(b"pieces")? {
        None => return Err(malformed("it has no piece hashes")),
        Some(v) => v
            .bytes()
            .ok_or_else(|| malformed("its piece hashes are not a string"))?,
    };
    if !check_pieces {
        return Ok(TorrentFile {
            name,
            multi_file,
            files,
            total_size,
            piece_length: u64::try_from(piece_length).unwrap_or(0),
            piece_count: (pieces.len() / 20) as u64,
            info_hash,
            announce: trackers(&top)?,
        });
    }
    let piece_length = u64::try_from(piece_length)
        .ok()
        .filter(|p| p.is_power_of_two() && (MIN_PIECE_LENGTH..=MAX_PIECE_LENGTH).contains(p))
        .ok_or(TorrentFileError::PieceLength(piece_length))?;
    if pieces.len() % 20 != 0 {
        return Err(TorrentFileError::PiecesNotWhole(pieces.len()));
    }
    let piece_count = (pieces.len() / 20) as u64;
    let want = total_size.div_ceil(piece_length);
    if piece_count != want {
        return Err(TorrentFileError::PiecesMismatch {
            have: piece_count,
            want,
        });
    }

    Ok(TorrentFile {
        name,
        multi_file,
        files,
        total_size,
        piece_length,
        piece_count,
        info_hash,
        announce: trackers(&top)?,
    })
}

/// Refuses two files at one path, on a disk that ignores case too: the same path twice, two
/// paths that differ only in capitals, and a path that is a file and another file's folder.
/// Padding files legitimately share names (".pad/16384") and are never written: left out.
fn distinct_paths(files: &[TorrentEntry]) -> Result<()> {
    // Lowercased path -> the path as listed, for files and for the folders above them.
    let mut seen_files: HashMap<String, String> = HashMap::new();
    let mut seen_folders: HashMap<String, String> = HashMap::new();
    for file in files.iter().filter(|f| !f.padding) {
        let joined = file.path.join("/");
        let folded = joined.to_lowercase();
        if let Some(first) = seen_files.get(&folded) {
            return Err(if *first == joined {
                TorrentFileError::DuplicatePath(joined)
            } else {
                TorrentFileError::CaseClash {
                    first: first.clone(),
                    second: joined,
                }
            });
        }
        if let Some(folder) = seen_folders.get(&folded) {
            return Err(TorrentFileError::FileAndFolder(folder.clone()));
        }
        for depth in 1..file.path.len() {
            let folder = file.path[..depth].join("/");
            let folded = folder.to_lowercase();
            if let Some(other) = seen_files.get(&folded) {
                return Err(TorrentFileError::FileAndFolder(other.clone()));
            }
            seen_folders.entry(folded).or_insert(folder);
        }
        seen_files.insert(folded, joined);
    }
    Ok(())
}

/// One entry of a `files` list (numbered from 1 in messages).
fn file_entry(value: Value<'_>, n: usize) -> Result<TorrentEntry> {
    let file = value
        .dict()
        .ok_or_else(|| malformed(format!("file {n} in its list is not a dictionary")))?;
    let length = match file.get(b"length")? {
        Some(v) => length_of(v, &format!("the length of file {n}"))?,
        None => return Err(malformed(format!("file {n} in its list has no length"))),
    };
    let parts = match file.get(b"path")? {
        Some(v) => v
            .list()
            .ok_or_else(|| malformed(format!("the path of file {n} is not a list")))?,
        None => return Err(malformed(format!("file {n} in its list has no path"))),
    };
    let raw: Vec<&[u8]> = parts
        .map(|p| {
            p?.bytes().ok_or_else(|| {
                malformed(format!(
                    "the path of file {n} holds something other than text"
                ))
            })
        })
        .collect::<Result<_>>()?;
    let what = format!("the path of file {n}");
    if raw.is_empty() {
        return Err(TorrentFileError::EmptyName { what });
    }
    let shown = || {
        raw.iter()
            .map(|p| String::from_utf8_lossy(p))
            .collect::<Vec<_>>()
            .join("/")
    };
    let path = raw
        .iter()
        .map(|p| component(p, &what, shown))
        .collect::<Result<_>>()?;
    Ok(TorrentEntry {
        path,
        length,
        padding: attr_padding(file.get(b"attr")?)?,
    })
}

/// Checks one name or path component and returns it as text. `shown` gives the whole path for
/// the message.
fn component(part: &[u8], what: &str, shown: impl Fn() -> String) -> Result<String> {
    let text = std::str::from_utf8(part).map_err(|_| TorrentFileError::NotUtf8 {
        what: what.to_owned(),
    })?;
    if text.is_empty() {
        return Err(TorrentFileError::EmptyName {
            what: what.to_owned(),
        });
    }
    if let Some(problem) = name_problem(text) {
        return Err(TorrentFileError::UnsafeName {
            name: shown(),
            problem,
        });
    }
    Ok(text.to_owned())
}

/// An integer that fits in 64 bits.
fn number(value: Value<'_>, what: &str) -> Result<i64> {
    match value.int() {
        None => Err(malformed(format!("{what} is not a number"))),
        Some(None) => Err(malformed(format!("{what} is out of range"))),
        Some(Some(n)) => Ok(n),
    }
}

/// A file length: a whole number of bytes, not negative.
fn length_of(value: Value<'_>, what: &str) -> Result<u64> {
    u64::try_from(number(value, what)?).map_err(|_| malformed(format!("{what} is negative")))
}

/// BEP 47 attributes: `p` marks a padding file.
fn attr_padding(attr: Option<Value<'_>>) -> Result<bool> {
    match attr {
        None => Ok(false),
        Some(v) => Ok(v
            .bytes()
            .ok_or_else(|| malformed("a file's attributes are not text"))?
            .contains(&b'p')),
    }
}

/// `announce-list` (a list of tiers, each a list of URLs) then `announce`, without repeats.
fn trackers(top: &Dict<'_>) -> Result<Vec<String>> {
    let mut urls: Vec<String> = Vec::new();
    let mut add = |url: &[u8]| {
        if let Ok(url) = std::str::from_utf8(url) {
            if !url.is_empty() && !urls.iter().any(|u| u == url) {
                urls.push(url.to_owned());
            }
        }
    };
    const BAD_LIST: &str = "its tracker list is not a list of lists of addresses";
    if let Some(tiers) = top.get(b"announce-list")? {
        for tier in tiers.list().ok_or_else(|| malformed(BAD_LIST))? {
            for url in tier?.list().ok_or_else(|| malformed(BAD_LIST))? {
                add(url?.bytes().ok_or_else(|| malformed(BAD_LIST))?);
            }
        }
    }
    if let Some(url) = top.get(b"announce")? {
        add(url
            .bytes()
            .ok_or_else(|| malformed("its tracker address is not text"))?);
    }
    Ok(urls)
}

fn malformed(why: impl Into<String>) -> TorrentFileError {
    TorrentFileError::Malformed(why.into())
}

fn not_bencode(why: &'static str, at: usize) -> TorrentFileError {
    TorrentFileError::NotBencode { why, at }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bencoded value, built by hand.
    enum B<'a> {
        I(i64),
        S(&'a [u8]),
        L(Vec<B<'a>>),
        /// Keys in the order given (the encoder does not sort, so tests can be non-canonical).
        D(Vec<(&'a str, B<'a>)>),
    }

    fn enc(v: &B<'_>) -> Vec<u8> {
        match v {
            B::I(n) => format!("i{n}e").into_bytes(),
            B::S(s) => [format!("{}:", s.len()).as_bytes(), s].concat(),
            B::L(items) => [
                &b"l"[..],
                &items.iter().flat_map(enc).collect::<Vec<_>>(),
                b"e",
            ]
            .concat(),
            B::D(items) => {
                let mut out = b"d".to_vec();
                for (k, v) in items {
                    out.extend(enc(&B::S(k.as_bytes())));
                    out.extend(enc(v));
                }
                out.push(b'e');
                out
            }
        }
    }

    fn s(text: &str) -> B<'_> {
        B::S(text.as_bytes())
    }

    /// A multi-file info dictionary: (path, length) per file, 16 KiB pieces.
    fn info_multi<'a>(files: &[(&[&'a str], i64)], pieces: &'a [u8]) -> B<'a> {
        B::D(vec![
            (
                "files",
                B::L(
                    files
                        .iter()
                        .map(|(path, len)| {
                            B::D(vec![
                                ("length", B::I(*len)),
                                ("path", B::L(path.iter().map(|p| s(p)).collect())),
                            ])
                        })
                        .collect(),
                ),
            ),
            ("name", s("Orbital S01")),
            ("piece length", B::I(16384)),
            ("pieces", B::S(pieces)),
        ])
    }

    fn torrent(info: B<'_>) -> Vec<u8> {
        enc(&B::D(vec![
            ("announce", s("http://tracker.example/announce")),
            (
                "announce-list",
                B::L(vec![
                    B::L(vec![
                        s("udp://a.example:6969"),
                        s("http://tracker.example/announce"),
                    ]),
                    B::L(vec![B::S(b"\xff\xfe")]),
                ]),
            ),
            ("info", info),
        ]))
    }

    /// 20 * n bytes of piece hashes.
    fn hashes(n: usize) -> Vec<u8> {
        vec![0xAB; 20 * n]
    }

    fn refusal(bytes: &[u8]) -> (TorrentFileError, String) {
        let e = inspect(bytes).unwrap_err();
        let text = e.to_string();
        (e, text)
    }

    #[test]
    fn a_real_multi_file_torrent_is_read() {
        // 20,000 + 16,384 + 1 bytes = 3 pieces of 16 KiB.
        let pieces = hashes(3);
        let info = info_multi(
            &[
                (&["Episode 1.webm"], 20_000),
                (&["extras", "Trailer.webm"], 16_384),
                (&["notes.txt"], 1),
            ],
            &pieces,
        );
        let info_bytes = enc(&info);
        let bytes = torrent(info);
        let t = inspect(&bytes).unwrap();
        assert_eq!(t.name, "Orbital S01");
        assert!(t.multi_file);
        assert_eq!(
            t.files,
            vec![
                TorrentEntry {
                    path: vec!["Episode 1.webm".into()],
                    length: 20_000,
                    padding: false
                },
                TorrentEntry {
                    path: vec!["extras".into(), "Trailer.webm".into()],
                    length: 16_384,
                    padding: false
                },
                TorrentEntry {
                    path: vec!["notes.txt".into()],
                    length: 1,
                    padding: false
                },
            ]
        );
        assert_eq!(t.total_size, 36_385);
        assert_eq!((t.piece_length, t.piece_count), (16_384, 3));
        // The info hash is the SHA-1 of the info dictionary exactly as it is in the file.
        assert_eq!(t.info_hash, hex(&Sha1::digest(&info_bytes)));
        assert_eq!(t.info_hash.len(), 40);
        // announce-list first, no repeats, the non-UTF-8 URL left out.
        assert_eq!(
            t.announce,
            vec![
                "udp://a.example:6969".to_owned(),
                "http://tracker.example/announce".to_owned()
            ]
        );
    }

    #[test]
    fn a_single_file_torrent_and_known_hash_are_read() {
        // The SHA-1 of "abc", as a known vector for the hex encoding.
        assert_eq!(
            hex(&Sha1::digest(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        let pieces = hashes(1);
        let info = B::D(vec![
            ("length", B::I(5)),
            ("name", s("clip.webm")),
            ("piece length", B::I(262_144)),
            ("pieces", B::S(&pieces)),
        ]);
        let bytes = enc(&B::D(vec![("info", info)]));
        let t = inspect(&bytes).unwrap();
        assert!(!t.multi_file);
        assert_eq!(
            t.files,
            vec![TorrentEntry {
                path: vec!["clip.webm".into()],
                length: 5,
                padding: false
            }]
        );
        assert!(t.announce.is_empty());
    }

    #[test]
    fn padding_files_may_share_a_name() {
        let pieces = hashes(2);
        let pad = |len| {
            B::D(vec![
                ("attr", s("p")),
                ("length", B::I(len)),
                ("path", B::L(vec![s(".pad"), s("100")])),
            ])
        };
        let file = |name, len| B::D(vec![("length", B::I(len)), ("path", B::L(vec![s(name)]))]);
        let info = B::D(vec![
            (
                "files",
                B::L(vec![
                    file("a", 16_284),
                    pad(100),
                    file("b", 16_284),
                    pad(100),
                ]),
            ),
            ("name", s("padded")),
            ("piece length", B::I(16384)),
            ("pieces", B::S(&pieces)),
        ]);
        let t = inspect(&torrent(info)).unwrap();
        assert_eq!(t.files.iter().filter(|f| f.padding).count(), 2);
        assert_eq!(t.total_size, 32_768);
    }

    #[test]
    fn too_large_and_not_bencode_are_refused() {
        let (e, text) = refusal(&vec![b'd'; MAX_TORRENT_FILE + 1]);
        assert_eq!(
            e,
            TorrentFileError::TooLarge {
                size: MAX_TORRENT_FILE + 1
            }
        );
        assert_eq!(
            text,
            "this is too large to be a torrent file (16777217 bytes; torrent files are at most 16 MiB)"
        );
        for (bytes, why, at) in [
            (&b""[..], "it is empty", 0),
            (b"<html>", "it does not start with a bencoded dictionary", 0),
            (b"d", "a list or dictionary is not closed", 0),
            (b"d4:info", "it ends where a value should start", 7),
            (b"d4:infoe", "a dictionary key has no value", 7),
            (b"di1ei2ee", "a dictionary key is not a string", 1),
            (b"d3:keyi03ee", "a number is malformed", 6),
            (b"d3:keyi-0ee", "a number is malformed", 6),
            (b"d3:keyi1x2ee", "a number is malformed", 6),
            (b"d3:keyie", "a number is malformed", 6),
            (b"d3:keyi12", "a number is not closed", 6),
            (
                b"d3:key99999999999999999999999:xe",
                "a string is longer than the file",
                6,
            ),
            (
                b"d3:key18446744073709551615:xe",
                "a string is longer than the file",
                6,
            ),
            (b"d3:key5:abe", "a string is longer than the file", 6),
            (b"d3:key5", "a string's length is not followed by ':'", 6),
            (b"d3:keyxe", "a value has an unknown type", 6),
            (b"de\n", "there are extra bytes after its end", 2),
        ] {
            let (e, text) = refusal(bytes);
            assert_eq!(e, TorrentFileError::NotBencode { why, at }, "{bytes:?}");
            assert_eq!(
                text,
                format!("this is not a torrent file: {why} (at byte {at})")
            );
        }
        // Nesting: 64 levels are read, 65 are refused, a million do not exhaust the stack.
        let nested = |levels: usize| {
            [
                b"d1:x".as_slice(),
                &vec![b'l'; levels - 1],
                &vec![b'e'; levels],
            ]
            .concat()
        };
        assert_eq!(refusal(&nested(64)).0, TorrentFileError::NoInfo);
        assert_eq!(
            refusal(&nested(65)).1,
            "this is not a torrent file: lists and dictionaries nest more than 64 levels deep (at byte 67)"
        );
        assert!(matches!(
            refusal(&nested(1_000_000)).0,
            TorrentFileError::NotBencode { .. }
        ));
    }

    #[test]
    fn missing_info_and_files_are_refused() {
        assert_eq!(
            refusal(b"de").1,
            "this torrent file has no info section, so it does not say what it shares"
        );
        assert_eq!(refusal(b"d4:infoi1ee").0, TorrentFileError::NoInfo);
        let pieces = hashes(1);
        let no_files = B::D(vec![
            ("name", s("x")),
            ("piece length", B::I(16384)),
            ("pieces", B::S(&pieces)),
        ]);
        assert_eq!(
            refusal(&torrent(no_files)).1,
            "this torrent file lists no files"
        );
        let empty_list = info_multi(&[], &pieces);
        assert_eq!(refusal(&torrent(empty_list)).0, TorrentFileError::NoFiles);
        let both = B::D(vec![
            ("files", B::L(vec![])),
            ("length", B::I(1)),
            ("name", s("x")),
            ("piece length", B::I(16384)),
            ("pieces", B::S(&pieces)),
        ]);
        assert_eq!(
            refusal(&torrent(both)).1,
            "this torrent file is damaged: it describes both a single file and a list of files"
        );
        let twice = b"d4:infod4:name1:a4:name1:bee";
        assert_eq!(
            refusal(twice).1,
            "this torrent file is damaged: it gives “name” twice in one section"
        );
        let nameless = B::D(vec![
            ("length", B::I(1)),
            ("piece length", B::I(16384)),
            ("pieces", B::S(&pieces)),
        ]);
        assert_eq!(
            refusal(&torrent(nameless)).1,
            "this torrent file is damaged: it does not name what it shares"
        );
    }

    #[test]
    fn unsafe_names_are_refused() {
        use NameProblem::*;
        let pieces = hashes(1);
        let one = |path: &[&str]| refusal(&torrent(info_multi(&[(path, 1)], &pieces)));
        assert_eq!(
            one(&["..", "etc", "passwd"]).1,
            "this torrent names a file “../etc/passwd”, which would be written outside its folder; ask whoever shared it for another torrent"
        );
        let unsafe_name = |name: &str, problem| TorrentFileError::UnsafeName {
            name: name.into(),
            problem,
        };
        for (path, name, problem) in [
            (&["a", "."][..], "a/.", OutsideFolder),
            (&["C:", "Windows"], "C:/Windows", Drive),
            (&["c:evil.exe"], "c:evil.exe", Drive),
            (&["/etc/passwd"], "/etc/passwd", Absolute),
            (&["\\server\\share"], "\\server\\share", Absolute),
            (&["a\\..\\..\\b"], "a\\..\\..\\b", Separator),
            (&["a", "b/c"], "a/b/c", Separator),
            (&["nul\0byte"], "nul\0byte", Control),
            (&["line\nbreak.webm"], "line\nbreak.webm", Control),
            (&["bell\u{7}"], "bell\u{7}", Control),
            (&["film.webm:hidden"], "film.webm:hidden", Colon),
            (&["Film: the sequel.webm"], "Film: the sequel.webm", Colon),
            (&["dots..."], "dots...", TrailingDotOrSpace),
            (&["extras ", "a.webm"], "extras /a.webm", TrailingDotOrSpace),
            (&["CON"], "CON", Reserved),
            (&["con"], "con", Reserved),
            (&["AUX.webm"], "AUX.webm", Reserved),
            (&["com1"], "com1", Reserved),
            (&["LPT9.txt"], "LPT9.txt", Reserved),
            (&["Nul.tar.gz"], "Nul.tar.gz", Reserved),
            (&["prn .txt"], "prn .txt", Reserved),
            (&["COM²"], "COM²", Reserved),
            (&["extras", "conout$"], "extras/conout$", Reserved),
        ] {
            assert_eq!(one(path).0, unsafe_name(name, problem), "{path:?}");
        }
        // Control characters are written out in the sentence, not printed raw.
        assert_eq!(
            one(&["a\u{1b}[2J.webm"]).1,
            "this torrent names a file “a\\u{1b}[2J.webm”, which contains a control character (such as NUL or a line break) that disks refuse or hide; ask whoever shared it for another torrent"
        );
        assert_eq!(
            one(&["AUX.webm"]).1,
            "this torrent names a file “AUX.webm”, which is a name Windows keeps for a device (such as CON, AUX, NUL, COM1 or LPT1), so it cannot be saved there; ask whoever shared it for another torrent"
        );
        assert_eq!(
            one(&["a", ""]).1,
            "in this torrent, the path of file 1 is empty or has an empty part; ask whoever shared it for another torrent"
        );
        assert_eq!(
            one(&[]).0,
            TorrentFileError::EmptyName {
                what: "the path of file 1".into()
            }
        );
        // Names that merely look like the reserved ones, or hold dots and spaces inside, are
        // ordinary.
        for ok in [
            "CONSOLE.webm",
            "com10",
            "LPT",
            "auxiliary",
            "x.con",
            ".hidden",
            "a .b",
            "Film - the sequel.webm",
            "Ünïcödé 日本.webm",
        ] {
            assert!(
                inspect(&torrent(info_multi(&[(&[ok], 1)], &pieces))).is_ok(),
                "{ok}"
            );
            assert_eq!(name_problem(ok), None, "{ok}");
        }

        // Not UTF-8: librqbit panics on such names.
        let latin1 = B::D(vec![
            (
                "files",
                B::L(vec![B::D(vec![
                    ("length", B::I(1)),
                    ("path", B::L(vec![B::S(b"caf\xe9.webm")])),
                ])]),
            ),
            ("name", s("x")),
            ("piece length", B::I(16384)),
            ("pieces", B::S(&pieces)),
        ]);
        assert_eq!(
            refusal(&torrent(latin1)).1,
            "this torrent gives the path of file 1 in an encoding other than UTF-8, which Marquee cannot save safely; ask whoever shared it for another torrent"
        );
        for (name, expected) in [
            (
                &b"\xff"[..],
                TorrentFileError::NotUtf8 {
                    what: "its name".into(),
                },
            ),
            (
                b"",
                TorrentFileError::EmptyName {
                    what: "its name".into(),
                },
            ),
            (
                b"..",
                TorrentFileError::UnsafeName {
                    name: "..".into(),
                    problem: NameProblem::OutsideFolder,
                },
            ),
            (
                b"a/b",
                TorrentFileError::UnsafeName {
                    name: "a/b".into(),
                    problem: NameProblem::Separator,
                },
            ),
            (
                b"C:x",
                TorrentFileError::UnsafeName {
                    name: "C:x".into(),
                    problem: NameProblem::Drive,
                },
            ),
            (
                b"clip.webm ",
                TorrentFileError::UnsafeName {
                    name: "clip.webm ".into(),
                    problem: NameProblem::TrailingDotOrSpace,
                },
            ),
            (
                b"Con.webm",
                TorrentFileError::UnsafeName {
                    name: "Con.webm".into(),
                    problem: NameProblem::Reserved,
                },
            ),
        ] {
            let info = B::D(vec![
                ("length", B::I(1)),
                ("name", B::S(name)),
                ("piece length", B::I(16384)),
                ("pieces", B::S(&pieces)),
            ]);
            assert_eq!(refusal(&torrent(info)).0, expected, "{name:?}");
        }
        let dup = info_multi(&[(&["a"], 1), (&["a"], 1)], &pieces);
        assert_eq!(
            refusal(&torrent(dup)).1,
            "this torrent lists the file “a” twice; ask whoever shared it for another torrent"
        );
    }

    #[test]
    fn names_that_one_disk_would_merge_are_refused() {
        let pieces = hashes(1);
        let files = |paths: &[&[&str]]| {
            let list: Vec<(&[&str], i64)> = paths.iter().map(|p| (*p, 1)).collect();
            refusal(&torrent(info_multi(&list, &pieces)))
        };
        assert_eq!(
            files(&[&["a.webm"], &["A.webm"]]).1,
            "this torrent lists both “a.webm” and “A.webm”, names that differ only in capitals, which Windows and macOS would save as one file; ask whoever shared it for another torrent"
        );
        assert_eq!(
            files(&[&["Extras", "a.webm"], &["extras", "A.WEBM"]]).0,
            TorrentFileError::CaseClash {
                first: "Extras/a.webm".into(),
                second: "extras/A.WEBM".into()
            }
        );
        // Beyond ASCII too: "Ä" and "ä" are one name on APFS and NTFS.
        assert!(matches!(
            files(&[&["Ärger.webm"], &["ärger.webm"]]).0,
            TorrentFileError::CaseClash { .. }
        ));
        // A file, then a file inside a folder of that name (and the other way round).
        assert_eq!(
            files(&[&["extras"], &["Extras", "a.webm"]]).1,
            "this torrent uses “extras” as a file and as a folder, which no disk can hold; ask whoever shared it for another torrent"
        );
        assert_eq!(
            files(&[&["extras", "a.webm"], &["extras"]]).0,
            TorrentFileError::FileAndFolder("extras".into())
        );
        // Two files in one folder, and folders that differ only in case, are fine: nothing
        // is overwritten.
        assert!(inspect(&torrent(info_multi(
            &[(&["extras", "a.webm"], 1), (&["extras", "b.webm"], 1)],
            &pieces
        )))
        .is_ok());
    }

    #[test]
    fn bad_lengths_and_pieces_are_refused() {
        let pieces = hashes(1);
        let max = i64::MAX;
        let overflow = info_multi(&[(&["a"], max), (&["b"], max), (&["c"], 2)], &pieces);
        assert_eq!(
            refusal(&torrent(overflow)).1,
            "the sizes of this torrent's files add up to more than 16 EiB, which no real torrent has"
        );
        let negative = info_multi(&[(&["a"], -1)], &pieces);
        assert_eq!(
            refusal(&torrent(negative)).1,
            "this torrent file is damaged: the length of file 1 is negative"
        );
        let huge = b"d4:infod5:filesld6:lengthi99999999999999999999e4:pathl1:aeee4:name1:x12:piece lengthi16384e6:pieces0:ee";
        assert_eq!(
            refusal(huge).1,
            "this torrent file is damaged: the length of file 1 is out of range"
        );
        let empty = info_multi(&[(&["a"], 0), (&["b"], 0)], &[]);
        assert_eq!(
            refusal(&torrent(empty)).1,
            "this torrent shares nothing: all of its files are empty"
        );

        let with_piece_length = |len: i64, pieces: &[u8]| {
            let info = B::D(vec![
                ("length", B::I(100)),
                ("name", s("x")),
                ("piece length", B::I(len)),
                ("pieces", B::S(pieces)),
            ]);
            refusal(&torrent(info))
        };
        assert_eq!(
            with_piece_length(0, &pieces).1,
            "this torrent's piece length of 0 bytes is not usable (it must be a power of two from 16 KiB to 256 MiB); ask whoever shared it for another torrent"
        );
        // Negative, absurdly large, not a power of two, smaller than one block.
        for len in [
            -5,
            -16384,
            1 << 40,
            512 << 20,
            20_000,
            16_385,
            3 << 20,
            1,
            8192,
        ] {
            assert_eq!(
                with_piece_length(len, &pieces).0,
                TorrentFileError::PieceLength(len),
                "{len}"
            );
        }
        // Both ends of the range are usable.
        for len in [16384, 256 << 20] {
            let info = B::D(vec![
                ("length", B::I(len)),
                ("name", s("x")),
                ("piece length", B::I(len)),
                ("pieces", B::S(&pieces)),
            ]);
            assert_eq!(inspect(&torrent(info)).unwrap().piece_length, len as u64);
        }
        assert_eq!(
            with_piece_length(16384, &[0; 30]).1,
            "this torrent's piece hashes are damaged: 30 bytes is not a whole number of 20-byte hashes; ask whoever shared it for another torrent"
        );
        let mismatch = |length: i64, pieces: &[u8]| {
            let info = B::D(vec![
                ("length", B::I(length)),
                ("name", s("x")),
                ("piece length", B::I(16384)),
                ("pieces", B::S(pieces)),
            ]);
            refusal(&torrent(info))
        };
        assert_eq!(
            mismatch(10 * 16384, &hashes(3)).1,
            "this torrent has 3 piece hashes, but its files need 10, so it is damaged; ask whoever shared it for another torrent"
        );
        // One too many, one too few, and none at all.
        assert_eq!(
            mismatch(16384, &hashes(2)).0,
            TorrentFileError::PiecesMismatch { have: 2, want: 1 }
        );
        assert_eq!(
            mismatch(16385, &hashes(1)).0,
            TorrentFileError::PiecesMismatch { have: 1, want: 2 }
        );
        assert_eq!(
            mismatch(1, &[]).0,
            TorrentFileError::PiecesMismatch { have: 0, want: 1 }
        );
        let no_pieces = B::D(vec![
            ("length", B::I(1)),
            ("name", s("x")),
            ("piece length", B::I(16384)),
        ]);
        assert_eq!(
            refusal(&torrent(no_pieces)).1,
            "this torrent file is damaged: it has no piece hashes"
        );
    }

    #[test]
    fn names_alone_are_checked_for_a_torrent_already_added() {
        // librqbit 9's own torrent of a file of exactly one piece: two hashes.
        let info = |name: &'static str| {
            B::D(vec![
                ("length", B::I(16384)),
                ("name", s(name)),
                ("piece length", B::I(16384)),
                ("pieces", B::S(&[1; 40])),
            ])
        };
        let extra_hash = torrent(info("clip.webm"));
        assert_eq!(
            refusal(&extra_hash).0,
            TorrentFileError::PiecesMismatch { have: 2, want: 1 }
        );
        let t = inspect_names(&extra_hash).unwrap();
        assert_eq!((t.name.as_str(), t.piece_count), ("clip.webm", 2));
        assert_eq!(
            inspect_names(&torrent(info("CON"))).unwrap_err(),
            TorrentFileError::UnsafeName {
                name: "CON".into(),
                problem: NameProblem::Reserved
            }
        );
    }

    #[test]
    fn malformed_tracker_lists_are_refused() {
        let pieces = hashes(1);
        let info = enc(&info_multi(&[(&["a"], 1)], &pieces));
        let bytes = [&b"d13:announce-listl3:urle4:info"[..], &info, b"e"].concat();
        assert_eq!(
            refusal(&bytes).1,
            "this torrent file is damaged: its tracker list is not a list of lists of addresses"
        );
        let bytes = [&b"d8:announcei1e4:info"[..], &info, b"e"].concat();
        assert_eq!(
            refusal(&bytes).1,
            "this torrent file is damaged: its tracker address is not text"
        );
    }
}

//! Torrents from strangers: `.torrent` files made by anyone, opened in Marquee. Each is built
//! here byte by byte (real bencode), handed to the core as a drop, shown before it is added, and
//! refused in words when its names or pieces are unsafe, adding nothing and writing nothing; a
//! torrent that is fine gets a folder of its own, so two with one name never meet.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use marquee_core::api::{DownloadState, ErrorKind, TitleOrigin};
use marquee_core::Core;
use marquee_testsupport::{start_store, wait_for};

use crate::{config, seed_stranger_file, stranger_seeder};

const MACHINE: &str = "7e1d2c3b4a5968778695a4b3c2d1e0f9";

/// A bencoded value, built by hand.
enum B {
    I(i64),
    S(Vec<u8>),
    L(Vec<B>),
    /// Keys in the order given (tests write them sorted, as real torrents do).
    D(Vec<(&'static str, B)>),
}

fn enc(v: &B) -> Vec<u8> {
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
                out.extend(enc(&B::S(k.as_bytes().to_vec())));
                out.extend(enc(v));
            }
            out.push(b'e');
            out
        }
    }
}

fn s(text: &[u8]) -> B {
    B::S(text.to_vec())
}

const PIECE: i64 = 16 * 1024;

/// A `.torrent` file: its info dictionary under a tracker, as a stranger would share it.
fn torrent_of(info: B) -> Vec<u8> {
    enc(&B::D(vec![
        ("announce", s(b"http://tracker.example/announce")),
        ("info", info),
    ]))
}

/// One file called `name`, of `len` bytes, with 16 KiB pieces.
fn single(name: &[u8], len: i64) -> Vec<u8> {
    let pieces = vec![0x5a; 20 * (len as usize).div_ceil(PIECE as usize)];
    torrent_of(B::D(vec![
        ("length", B::I(len)),
        ("name", s(name)),
        ("piece length", B::I(PIECE)),
        ("pieces", B::S(pieces)),
    ]))
}

/// A folder `name` holding `files` (path parts, length), with 16 KiB pieces.
fn folder(name: &[u8], files: &[(&[&[u8]], i64)]) -> Vec<u8> {
    let total: i64 = files.iter().map(|f| f.1).sum();
    let pieces = vec![0x5a; 20 * (total as usize).div_ceil(PIECE as usize)];
    let list = files
        .iter()
        .map(|(path, len)| {
            B::D(vec![
                ("length", B::I(*len)),
                ("path", B::L(path.iter().map(|p| s(p)).collect())),
            ])
        })
        .collect();
    torrent_of(B::D(vec![
        ("files", B::L(list)),
        ("name", s(name)),
        ("piece length", B::I(PIECE)),
        ("pieces", B::S(pieces)),
    ]))
}

/// One file of 100,000 bytes with the given piece length and number of piece hashes.
fn pieces(piece_length: i64, hashes: usize) -> Vec<u8> {
    torrent_of(B::D(vec![
        ("length", B::I(100_000)),
        ("name", s(b"clip.webm")),
        ("piece length", B::I(piece_length)),
        ("pieces", B::S(vec![0x5a; 20 * hashes])),
    ]))
}

/// Every file under `dir` (recursively) with its bytes; folders as `None`.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let path = e.path();
            let rel = path.strip_prefix(dir).unwrap().to_path_buf();
            if e.file_type().unwrap().is_dir() {
                out.insert(rel, None);
                todo.push(path);
            } else {
                out.insert(rel, Some(std::fs::read(&path).unwrap()));
            }
        }
    }
    out
}

/// The sentence for a refused name.
fn unsafe_name(name: &str, why: &str) -> String {
    format!(
        "This cannot be added: this torrent names a file “{name}”, which {why}; ask whoever shared it for another torrent."
    )
}

const OUTSIDE: &str = "would be written outside its folder";
const DRIVE: &str = "starts with a drive letter, so Windows would write it outside its folder";
const DEVICE: &str = "is a name Windows keeps for a device (such as CON, AUX, NUL, COM1 or LPT1), so it cannot be saved there";
const TRAILING: &str =
    "ends with a dot or a space, which Windows drops, so it would be saved under another name";
const COLON: &str = "contains a colon, which Windows reads as a hidden part of another file";
const CONTROL: &str =
    "contains a control character (such as NUL or a line break) that disks refuse or hide";
const ABSOLUTE: &str = "is an absolute path, so it would be written outside its folder";
const SEPARATOR: &str =
    "has a slash or backslash inside one part of its path, so it would be saved in another folder";

/// Each hostile torrent is refused by `torrent_import` with its sentence (and its preview says
/// the same before anything is added); the library stays empty, the profile's downloads stay
/// empty, and nothing beside the profile changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_torrents_are_refused_in_words_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    // The profile and the dropped files share a parent, which is watched as a whole.
    let home = dir.path().join("home");
    let profile = home.join("profile");
    let drops = home.join("drops");
    std::fs::create_dir_all(&drops).unwrap();
    let core = Core::open(config(&profile, &store, MACHINE)).await.unwrap();

    let ask = "ask whoever shared it for another torrent";
    let cases: Vec<(&str, Vec<u8>, String)> = vec![
        ("drive", single(b"C:x", 10), unsafe_name("C:x", DRIVE)),
        (
            "drive-in-folder",
            folder(b"show", &[(&[b"c:", b"Windows"], 10)]),
            unsafe_name("c:/Windows", DRIVE),
        ),
        ("con", single(b"CON", 10), unsafe_name("CON", DEVICE)),
        (
            "aux-webm",
            folder(b"show", &[(&[b"AUX.webm"], 10)]),
            unsafe_name("AUX.webm", DEVICE),
        ),
        ("com1", single(b"com1", 10), unsafe_name("com1", DEVICE)),
        (
            "lpt9-txt",
            folder(b"show", &[(&[b"extras", b"LPT9.txt"], 10)]),
            unsafe_name("extras/LPT9.txt", DEVICE),
        ),
        (
            "folder-named-nul",
            folder(b"nul", &[(&[b"a.webm"], 10)]),
            unsafe_name("nul", DEVICE),
        ),
        (
            "trailing-dot",
            single(b"clip.webm.", 10),
            unsafe_name("clip.webm.", TRAILING),
        ),
        (
            "trailing-space",
            folder(b"show", &[(&[b"extras ", b"a.webm"], 10)]),
            unsafe_name("extras /a.webm", TRAILING),
        ),
        (
            "stream",
            single(b"clip.webm:payload.exe", 10),
            unsafe_name("clip.webm:payload.exe", COLON),
        ),
        (
            "absolute",
            folder(b"show", &[(&[b"/etc/cron.d/x"], 10)]),
            unsafe_name("/etc/cron.d/x", ABSOLUTE),
        ),
        (
            "parent",
            folder(b"show", &[(&[b"..", b"..", b"escape.webm"], 10)]),
            unsafe_name("../../escape.webm", OUTSIDE),
        ),
        ("dot", single(b".", 10), unsafe_name(".", OUTSIDE)),
        (
            "dot-in-path",
            folder(b"show", &[(&[b".", b"a.webm"], 10)]),
            unsafe_name("./a.webm", OUTSIDE),
        ),
        (
            "empty-part",
            folder(b"show", &[(&[b"extras", b""], 10)]),
            format!(
                "This cannot be added: in this torrent, the path of file 1 is empty or has an empty part; {ask}."
            ),
        ),
        (
            "empty-name",
            single(b"", 10),
            format!("This cannot be added: in this torrent, its name is empty or has an empty part; {ask}."),
        ),
        (
            "nul",
            single(b"clip\0.webm", 10),
            unsafe_name("clip\\u{0}.webm", CONTROL),
        ),
        (
            "escape-sequence",
            folder(b"show", &[(&[b"\x1b[2Jclip.webm"], 10)]),
            unsafe_name("\\u{1b}[2Jclip.webm", CONTROL),
        ),
        (
            "backslash",
            folder(b"show", &[(&[b"..\\..\\escape.webm"], 10)]),
            unsafe_name("..\\..\\escape.webm", SEPARATOR),
        ),
        (
            "case-twins",
            folder(b"show", &[(&[b"a.webm"], 10), (&[b"A.webm"], 10)]),
            format!(
                "This cannot be added: this torrent lists both “a.webm” and “A.webm”, names that differ only in capitals, which Windows and macOS would save as one file; {ask}."
            ),
        ),
        (
            "zero-piece-length",
            pieces(0, 7),
            format!(
                "This cannot be added: this torrent's piece length of 0 bytes is not usable (it must be a power of two from 16 KiB to 256 MiB); {ask}."
            ),
        ),
        (
            "odd-piece-length",
            pieces(20_000, 5),
            format!(
                "This cannot be added: this torrent's piece length of 20000 bytes is not usable (it must be a power of two from 16 KiB to 256 MiB); {ask}."
            ),
        ),
        (
            "absurd-piece-length",
            pieces(1 << 40, 1),
            format!(
                "This cannot be added: this torrent's piece length of 1099511627776 bytes is not usable (it must be a power of two from 16 KiB to 256 MiB); {ask}."
            ),
        ),
        (
            // 100,000 bytes in 16 KiB pieces need 7 hashes.
            "too-few-pieces",
            pieces(PIECE, 3),
            format!(
                "This cannot be added: this torrent has 3 piece hashes, but its files need 7, so it is damaged; {ask}."
            ),
        ),
        (
            "too-many-pieces",
            pieces(PIECE, 8),
            format!(
                "This cannot be added: this torrent has 8 piece hashes, but its files need 7, so it is damaged; {ask}."
            ),
        ),
    ];
    let mut dropped = Vec::new();
    for (label, bytes, _) in &cases {
        let path = drops.join(format!("{label}.torrent"));
        std::fs::write(&path, bytes).unwrap();
        dropped.push(core.drop_register(path));
    }
    let before = snapshot(&home);
    let downloads_before = snapshot(&profile.join("downloads"));

    for ((label, _, sentence), file) in cases.iter().zip(&dropped) {
        let preview = core.torrent_preview(&file.drop_id).await.unwrap();
        assert_eq!(
            preview.refusal.as_deref(),
            Some(sentence.as_str()),
            "{label}"
        );
        assert!(
            preview.files.is_empty() && preview.info_hash.is_none(),
            "{label}"
        );
        assert_eq!(preview.name, format!("{label}.torrent"));

        let e = core.torrent_import(&file.drop_id).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TorrentRefused, "{label}: {e}");
        assert_eq!(&e.to_string(), sentence, "{label}");
    }

    assert!(core.library_list().await.unwrap().is_empty());
    assert!(core.downloads().is_empty(), "{:?}", core.downloads());
    assert!(downloads_before.is_empty(), "{downloads_before:?}");
    assert_eq!(snapshot(&profile.join("downloads")), downloads_before);
    // Nothing beside the profile was written, moved or removed.
    let outside = |snap: BTreeMap<PathBuf, Option<Vec<u8>>>| {
        snap.into_iter()
            .filter(|(p, _)| !p.starts_with("profile"))
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(outside(snapshot(&home)), outside(before));
    core.shutdown().await;
    store.shutdown().await;
}

/// Opening a torrent shows what it holds (name, files without padding, sizes, trackers, info
/// hash) and adds nothing; adding it then gives the same info hash, and a second preview says
/// it is already in the library.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torrent_is_shown_before_it_is_added() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let profile = dir.path().join("profile");
    let core = Core::open(config(&profile, &store, MACHINE)).await.unwrap();

    let file = |path: &[&[u8]], len: i64, attr: Option<&[u8]>| {
        let mut d = vec![];
        if let Some(a) = attr {
            d.push(("attr", s(a)));
        }
        d.push(("length", B::I(len)));
        d.push(("path", B::L(path.iter().map(|p| s(p)).collect())));
        B::D(d)
    };
    let info = B::D(vec![
        (
            "files",
            B::L(vec![
                file(&[b"Episode 1.webm"], 20_000, None),
                file(&[b".pad", b"12768"], 12_768, Some(b"p")),
                file(&[b"extras", b"Trailer.webm"], 5_000, None),
            ]),
        ),
        ("name", s("Orbital S01".as_bytes())),
        ("piece length", B::I(PIECE)),
        ("pieces", B::S(vec![0x11; 20 * 3])),
    ]);
    let bytes = enc(&B::D(vec![
        ("announce", s(b"http://tracker.example/announce")),
        (
            "announce-list",
            B::L(vec![B::L(vec![s(b"udp://tracker.example:6969")])]),
        ),
        ("info", info),
    ]));
    let path = dir.path().join("orbital.torrent");
    std::fs::write(&path, &bytes).unwrap();
    let drop = core.drop_register(path);

    let preview = core.torrent_preview(&drop.drop_id).await.unwrap();
    assert_eq!(preview.refusal, None);
    assert_eq!(preview.name, "Orbital S01");
    let files: Vec<_> = preview
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.size_bytes))
        .collect();
    assert_eq!(
        files,
        [("Episode 1.webm", 20_000), ("extras/Trailer.webm", 5_000)]
    );
    assert_eq!(preview.total_bytes, 37_768);
    assert_eq!(
        preview.trackers,
        [
            "udp://tracker.example:6969",
            "http://tracker.example/announce"
        ]
    );
    let info_hash = preview.info_hash.clone().unwrap();
    assert_eq!(info_hash.len(), 40);
    assert_eq!(preview.in_library, None);
    assert!(
        core.library_list().await.unwrap().is_empty(),
        "a preview adds nothing"
    );
    assert!(core.downloads().is_empty());

    let entry = core.torrent_import(&drop.drop_id).await.unwrap();
    // External titles are named by their info hash.
    assert_eq!(entry.title.id, format!("ext-{}", &info_hash[..16]));
    let again = core.torrent_preview(&drop.drop_id).await.unwrap();
    assert_eq!(again.in_library.as_deref(), Some(entry.title.name.as_str()));
    core.shutdown().await;
    store.shutdown().await;
}

/// Two strangers share different videos both called `clip.webm`: each lands in a folder of
/// its own, both download whole, and neither overwrites the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_torrents_with_one_name_never_meet() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let session = stranger_seeder(&dir.path().join("seed")).await;

    let mut shared = Vec::new();
    for (who, seed) in [("a", 3u32), ("b", 7u32)] {
        let folder = dir.path().join("seed").join(who);
        std::fs::create_dir_all(&folder).unwrap();
        // Bytes of its own, different in every piece: five pieces, the last one short (librqbit
        // 9 gives a file of whole pieces one hash too many, which the import refuses).
        let content: Vec<u8> = (0..80 * 1024 - 1234u32)
            .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 11) as u8)
            .collect();
        let file = folder.join("clip.webm");
        std::fs::write(&file, &content).unwrap();
        let (bytes, _) = seed_stranger_file(&store, &session, &file, PIECE as u32).await;
        let path = dir.path().join(format!("{who}.torrent"));
        std::fs::write(&path, &bytes).unwrap();
        shared.push((path, content));
    }
    assert_ne!(shared[0].1, shared[1].1);

    let profile = dir.path().join("profile");
    let core = Core::open(config(&profile, &store, MACHINE)).await.unwrap();
    let mut titles = Vec::new();
    for (path, content) in &shared {
        let drop = core.drop_register(path.clone());
        let preview = core.torrent_preview(&drop.drop_id).await.unwrap();
        assert_eq!(
            (preview.name.as_str(), preview.refusal),
            ("clip.webm", None)
        );
        let entry = core.torrent_import(&drop.drop_id).await.unwrap();
        assert_eq!(entry.title.origin, TitleOrigin::External);
        titles.push((
            entry.title.id.clone(),
            preview.info_hash.clone().unwrap(),
            content,
        ));
    }
    assert_ne!(titles[0].0, titles[1].0, "two titles");
    assert_eq!(core.library_list().await.unwrap().len(), 2);

    for (id, _, _) in &titles {
        wait_for(
            &format!("{id} to download whole"),
            Duration::from_secs(60),
            || async {
                match core.downloads().into_iter().find(|d| &d.title_id == id) {
                    Some(d) if d.state == DownloadState::Seeding => Ok(()),
                    other => Err(other),
                }
            },
        )
        .await;
    }
    for (id, info_hash, content) in &titles {
        // Its own folder, named by its info hash, inside the profile's downloads.
        let on_disk = profile.join("downloads").join(info_hash).join("clip.webm");
        assert!(std::fs::read(&on_disk).unwrap() == **content, "{id}");
        let exported = dir.path().join(format!("{id}.webm"));
        core.title_export(id, &exported).await.unwrap();
        assert!(std::fs::read(&exported).unwrap() == **content, "{id}");
    }
    // And nothing in the shared folder itself.
    assert!(!profile.join("downloads").join("clip.webm").exists());
    core.shutdown().await;
    session.stop().await;
    store.shutdown().await;
}

/// A magnet link from a stranger: its torrent is asked of its peers and shown before anything
/// is added; one naming a file Windows would not save is refused in the same words as a
/// `.torrent` file, adding nothing and writing nothing; a title already in the library comes
/// back as it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_magnet_link_is_shown_before_it_is_added_and_its_names_are_checked() {
    use marquee_core::api::{DroppedKind, MagnetOpened};
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    let session = stranger_seeder(&dir.path().join("seed")).await;
    let mut links = Vec::new();
    for name in ["clip.webm", "CON.webm"] {
        let folder = dir.path().join("seed").join(name.replace('.', "-"));
        std::fs::create_dir_all(&folder).unwrap();
        let content: Vec<u8> = (0..80 * 1024 - 777u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 ^ name.len() as u8)
            .collect();
        let file = folder.join(name);
        std::fs::write(&file, &content).unwrap();
        let (_, info_hash) = seed_stranger_file(&store, &session, &file, PIECE as u32).await;
        links.push((
            format!(
                "magnet:?xt=urn:btih:{info_hash}&dn={}&tr={}/announce",
                name.replace(' ', "+"),
                store.url()
            ),
            info_hash,
        ));
    }

    let profile = dir.path().join("profile");
    let core = Core::open(config(&profile, &store, MACHINE)).await.unwrap();
    let preview_of = |opened: MagnetOpened| match opened {
        MagnetOpened::Preview { file } => file,
        other => panic!("a preview, not {other:?}"),
    };

    // A fine one: shown, then added on consent.
    let (link, info_hash) = &links[0];
    let file = preview_of(core.magnet_open(link).await.unwrap());
    assert_eq!(
        (file.name.as_str(), file.kind),
        ("clip.webm", DroppedKind::Magnet)
    );
    assert!(
        core.library_list().await.unwrap().is_empty(),
        "opening adds nothing"
    );
    let preview = core.torrent_preview(&file.drop_id).await.unwrap();
    assert_eq!(preview.refusal, None);
    assert_eq!(preview.info_hash.as_deref(), Some(info_hash.as_str()));
    assert_eq!(preview.files.len(), 1);
    assert_eq!(preview.files[0].path, "clip.webm");
    assert!(
        core.library_list().await.unwrap().is_empty() && core.downloads().is_empty(),
        "a preview adds nothing"
    );
    let entry = core.torrent_import(&file.drop_id).await.unwrap();
    assert_eq!(entry.title.origin, TitleOrigin::External);
    wait_for(
        "the magnet's title to download whole",
        Duration::from_secs(60),
        || async {
            match core
                .downloads()
                .into_iter()
                .find(|d| d.title_id == entry.title.id)
            {
                Some(d) if d.state == DownloadState::Seeding => Ok(()),
                other => Err(other),
            }
        },
    )
    .await;
    match core.magnet_open(link).await.unwrap() {
        MagnetOpened::InLibrary { entry: again } => assert_eq!(again.title.id, entry.title.id),
        other => panic!("the title in the library, not {other:?}"),
    }

    // A hostile one: refused in words before and at adding; nothing written.
    let before = snapshot(&profile.join("downloads"));
    let (link, info_hash) = &links[1];
    let file = preview_of(core.magnet_open(link).await.unwrap());
    let preview = core.torrent_preview(&file.drop_id).await.unwrap();
    let refusal = unsafe_name("CON.webm", DEVICE);
    assert_eq!(preview.refusal.as_deref(), Some(refusal.as_str()));
    assert_eq!(preview.name, "CON.webm");
    let e = core.torrent_import(&file.drop_id).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TorrentRefused);
    assert_eq!(e.to_string(), refusal);
    assert_eq!(core.library_list().await.unwrap().len(), 1);
    assert!(!profile.join("downloads").join(info_hash).exists());
    assert_eq!(snapshot(&profile.join("downloads")), before);

    // Not a magnet link at all.
    let e = core
        .magnet_open("https://example.com/x.torrent")
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.to_string().as_str()),
        (
            ErrorKind::TorrentRefused,
            "This cannot be added: this is not a magnet link."
        )
    );
    core.shutdown().await;
    session.stop().await;
    store.shutdown().await;
}

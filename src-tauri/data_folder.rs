//! The data folder (the profile: library, licences, keys, downloads, logs) and moving it to
//! another folder or disk from the settings page.
//!
//! The folder Marquee starts from (`MARQUEE_DATA_DIR`, else the OS's data folder for the app)
//! is the *home* folder. After a move, home holds only `data-folder.json`, which names where
//! the profile went; every start follows it ([`resolve`]).
//!
//! A move copies, then switches, then deletes: every file is copied to the new folder with the
//! core stopped (a library database is never copied while it is written), the copy is checked
//! byte for byte in size, then `data-folder.json` is written (a new file renamed over the old,
//! so a start sees the old folder or the new one, never half of either), and only then is the
//! old folder emptied. A crash before the switch leaves the old folder in use and a stray copy;
//! after it, the new folder in use and old files to delete: nothing is lost either way. It
//! copies even within one disk (a rename of the whole folder cannot be switched atomically with
//! the pointer), so the room check applies there too.

use std::path::{Path, PathBuf};

use marquee_core::api::AppError;
use marquee_core::error::human_bytes;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_dialog::DialogExt;

use crate::settings::refused;
use crate::state::{self, internal, AppState};

/// The file in the home folder that says where the profile moved.
const POINTER: &str = "data-folder.json";

/// Room kept free beyond the folder's size on the target disk: the moved library keeps
/// downloading there, and a disk filled to the last byte fails every write.
const SPARE_BYTES: u64 = 64 * 1024 * 1024;

/// The folder made inside a chosen folder that already holds other files.
const SUBFOLDER: &str = "Marquee";

/// Where the data folder is and how much room it takes, for the settings page.
#[derive(Clone, Debug, serde::Serialize, specta::Type)]
pub struct DataFolder {
    /// The folder, as the OS writes it.
    pub path: String,
    /// What its files take, bytes.
    // A JavaScript number holds any size a disk has (below 2^53 bytes).
    #[specta(type = f64)]
    pub bytes: u64,
    /// Free space on its disk, bytes (`null` when the OS does not say).
    // A JavaScript number holds any size a disk has (below 2^53 bytes).
    #[specta(type = Option<f64>)]
    pub free_bytes: Option<u64>,
}

/// How far a move has come, for the settings page's progress bar.
#[derive(Clone, Debug, serde::Serialize, specta::Type)]
pub struct DataFolderProgress {
    /// Bytes copied so far.
    // A JavaScript number holds any size a disk has (below 2^53 bytes).
    #[specta(type = f64)]
    pub copied_bytes: u64,
    /// Bytes to copy in all.
    // A JavaScript number holds any size a disk has (below 2^53 bytes).
    #[specta(type = f64)]
    pub total_bytes: u64,
}

/// `<home>/data-folder.json`.
#[derive(serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct Pointer {
    /// Where the profile is.
    moved_to: PathBuf,
}

/// The profile folder for the home folder `home`: where its `data-folder.json` points, else
/// `home` itself.
pub(crate) fn resolve(home: PathBuf) -> Result<PathBuf, AppError> {
    let path = home.join(POINTER);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice::<Pointer>(&bytes)
            .map(|p| p.moved_to)
            .map_err(|e| {
                internal(&format!(
                    "{} is not valid ({e}): it should name the folder Marquee's data moved to. Fix it, or remove it to start from {}.",
                    path.display(),
                    home.display()
                ))
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(home),
        Err(e) => Err(internal(&format!("{} cannot be read: {e}", path.display()))),
    }
}

/// The data folder now, with its size and the free space on its disk.
pub(crate) async fn get<R: Runtime>(app: &AppHandle<R>) -> Result<DataFolder, AppError> {
    let dir = state::data_dir(app)?;
    tokio::task::spawn_blocking(move || {
        let bytes =
            tree_bytes(&dir).map_err(|e| internal(&format!("reading {}: {e}", dir.display())))?;
        Ok(DataFolder {
            path: dir.display().to_string(),
            bytes,
            free_bytes: fs4::available_space(&dir).ok(),
        })
    })
    .await
    .map_err(|e| internal(&format!("measuring the data folder: {e}")))?
}

/// Lets the person pick the folder to move to with the system's dialog; `None` when they
/// cancelled.
pub(crate) async fn pick<R: Runtime>(app: &AppHandle<R>) -> Result<Option<String>, AppError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog().file().pick_folder(move |picked| {
        let _ = tx.send(picked);
    });
    let picked = rx.await.map_err(|_| internal("the folder dialog closed"))?;
    Ok(picked
        .and_then(|f| f.into_path().ok())
        .map(|p| p.display().to_string()))
}

/// Moves the data folder to `to` (the folder itself when it is empty or new, else a `Marquee`
/// folder inside it), then restarts Marquee there. Refuses, with the core still running and
/// nothing changed, a folder inside the data folder, one that cannot be written, and a disk
/// without room. Returns only when it did not move: a copy that failed part way is removed and
/// Marquee goes on from the old folder.
pub(crate) async fn move_to<R: Runtime>(
    app: &AppHandle<R>,
    to: &str,
    progress: Channel<DataFolderProgress>,
) -> Result<(), AppError> {
    let home = state::home_dir(app)?;
    let from = resolve(home.clone())?;
    let plan = {
        let (from, to, home) = (from.clone(), PathBuf::from(to.trim()), home.clone());
        tokio::task::spawn_blocking(move || plan(&from, &to, &home))
            .await
            .map_err(|e| internal(&format!("checking the new folder: {e}")))??
    };
    let app_state = app.state::<AppState>();
    // Commands wait for the core from here on; it stops so that nothing writes while it is
    // copied.
    let running = app_state.core.send_replace(None);
    if let Some(Ok(core)) = running {
        core.shutdown().await;
    }
    if let Some(store) = app_state.demo_store.lock().await.take() {
        store.shutdown().await;
    }
    tracing::info!(from = %from.display(), to = %plan.target.display(), bytes = plan.bytes, "moving the data folder");
    let moved = {
        let (from, home, plan) = (from.clone(), home.clone(), plan.clone());
        tokio::task::spawn_blocking(move || {
            carry(&from, &home, &plan, &mut |copied| {
                let _ = progress.send(DataFolderProgress {
                    copied_bytes: copied,
                    total_bytes: plan.bytes,
                });
            })
        })
        .await
        .map_err(|e| internal(&format!("moving the data folder: {e}")))
        .and_then(|r| r)
    };
    match moved {
        Ok(()) => {
            tracing::info!(to = %plan.target.display(), "the data folder moved; restarting");
            app.restart()
        }
        Err(e) => {
            tracing::warn!(error = %e.message, "the data folder did not move; going on from the old one");
            let opened = match state::profile(app) {
                Ok(profile) => state::open_core(app, profile).await,
                Err(e) => Err(e),
            };
            app_state.core.send_replace(Some(opened));
            Err(e)
        }
    }
}

/// What a move will do, decided before anything stops.
#[derive(Clone, Debug)]
struct Plan {
    /// The new data folder.
    target: PathBuf,
    /// What the old one's files take.
    bytes: u64,
}

/// Checks a move from `from` to the chosen folder `to` (`home` is where the pointer lives) and
/// says where the data goes, or why not, in words.
fn plan(from: &Path, to: &Path, home: &Path) -> Result<Plan, AppError> {
    if !to.is_absolute() {
        return Err(refused(
            "data_not_absolute",
            format!(
                "“{}” is not a full folder path. Choose the folder with Choose…",
                to.display()
            ),
            &[("folder", to.display().to_string())],
        ));
    }
    let from = from.canonicalize().unwrap_or_else(|_| from.to_path_buf());
    let home = home.canonicalize().unwrap_or_else(|_| home.to_path_buf());
    let chosen = canonical_as_far_as_exists(to);
    if chosen == from {
        return Err(refused(
            "data_same",
            format!("Marquee's data is already in {}.", chosen.display()),
            &[("folder", chosen.display().to_string())],
        ));
    }
    if chosen.starts_with(&from) {
        return Err(refused(
            "data_inside",
            format!(
                "{} is inside Marquee's data folder: a folder cannot move into itself. Choose a folder elsewhere.",
                chosen.display()
            ),
            &[("folder", chosen.display().to_string())],
        ));
    }
    if from.starts_with(&chosen) && chosen != home {
        return Err(refused(
            "data_holds",
            format!(
                "{} holds Marquee's data folder already. Choose a folder beside it or on another disk.",
                chosen.display()
            ),
            &[("folder", chosen.display().to_string())],
        ));
    }
    if chosen.exists() && !chosen.is_dir() {
        return Err(refused(
            "data_file",
            format!(
                "{} is a file, not a folder. Choose a folder.",
                chosen.display()
            ),
            &[("folder", chosen.display().to_string())],
        ));
    }
    // The chosen folder itself when it is empty (or new, or the home folder coming back);
    // otherwise a folder of Marquee's own inside it, never mixed with someone's files.
    let target = if chosen == home || is_empty_or_missing(&chosen) {
        chosen.clone()
    } else {
        let inside = chosen.join(SUBFOLDER);
        if !is_empty_or_missing(&inside) {
            return Err(refused(
                "data_taken",
                format!(
                    "{} already holds files. Choose an empty folder, or one without a “{SUBFOLDER}” folder in it.",
                    inside.display()
                ),
                &[("folder", inside.display().to_string())],
            ));
        }
        inside
    };
    let bytes =
        tree_bytes(&from).map_err(|e| internal(&format!("reading {}: {e}", from.display())))?;
    let existing = nearest_existing(&target);
    let writable = tempfile_probe(&existing);
    if let Err(e) = writable {
        return Err(refused(
            "data_unwritable",
            format!(
                "Marquee cannot write in {} ({e}). Choose a folder you can write to.",
                existing.display()
            ),
            &[
                ("folder", existing.display().to_string()),
                ("detail", e.to_string()),
            ],
        ));
    }
    let free = fs4::available_space(&existing)
        .map_err(|e| internal(&format!("the free space of {}: {e}", existing.display())))?;
    check_room(&target, bytes, free)?;
    Ok(Plan { target, bytes })
}

/// Whether a disk with `free` bytes holds a copy of `bytes` and the spare room.
fn check_room(target: &Path, bytes: u64, free: u64) -> Result<(), AppError> {
    if free < bytes.saturating_add(SPARE_BYTES) {
        return Err(refused(
            "data_no_room",
            format!(
                "The disk holding {} has {} free, and Marquee's data needs {} there (with {} to spare). Free some space there, or choose a folder on another disk.",
                target.display(),
                human_bytes(free),
                human_bytes(bytes),
                human_bytes(SPARE_BYTES)
            ),
            &[
                ("folder", target.display().to_string()),
                ("free_bytes", free.to_string()),
                ("needed_bytes", bytes.to_string()),
                ("spare_bytes", SPARE_BYTES.to_string()),
            ],
        ));
    }
    Ok(())
}

/// Copies `from` to the plan's target, switches the pointer in `home`, then deletes the old
/// files. On failure, removes what it copied and leaves everything as it was.
fn carry(
    from: &Path,
    home: &Path,
    plan: &Plan,
    progress: &mut dyn FnMut(u64),
) -> Result<(), AppError> {
    let target = &plan.target;
    let made_target = !target.exists();
    let mut copied = 0;
    let result = copy_tree(from, target, home, &mut copied, progress).and_then(|()| {
        // What landed is what was read (the folder's size moved a little since the plan: the
        // database folds its journal in as it closes).
        let now = tree_bytes(target)? - pointer_bytes(target, home);
        if now != copied {
            return Err(std::io::Error::other(format!(
                "the copy holds {now} bytes of the {copied} read"
            )));
        }
        Ok(())
    });
    if let Err(e) = result {
        // Nothing of the copy stays: the old folder is still the one in use.
        if made_target {
            let _ = std::fs::remove_dir_all(target);
        } else {
            let _ = empty_folder(target, home);
        }
        return Err(internal(&format!(
            "copying Marquee's data to {} failed ({e}); nothing moved, and Marquee goes on from {}",
            target.display(),
            from.display()
        )));
    }
    switch_pointer(home, target).map_err(|e| {
        internal(&format!(
            "{} cannot be written: {e}",
            home.join(POINTER).display()
        ))
    })?;
    // Switched: what remains of the old folder is only deleted, never needed again.
    if from == home {
        if let Err(e) = empty_folder(from, home) {
            tracing::warn!(error = %e, "removing the old data folder's files");
        }
    } else if let Err(e) = std::fs::remove_dir_all(from) {
        tracing::warn!(error = %e, "removing the old data folder");
    }
    Ok(())
}

/// Points `home` at `target` (or removes the pointer when the data comes home), written whole
/// and renamed over the old one.
fn switch_pointer(home: &Path, target: &Path) -> std::io::Result<()> {
    let path = home.join(POINTER);
    if target == home {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    std::fs::create_dir_all(home)?;
    let fresh = home.join(format!("{POINTER}.new"));
    let bytes = serde_json::to_vec_pretty(&Pointer {
        moved_to: target.to_path_buf(),
    })
    .expect("a pointer serialises");
    std::fs::write(&fresh, bytes)?;
    std::fs::File::open(&fresh)?.sync_all()?;
    std::fs::rename(&fresh, &path)
}

/// Copies the tree `from` into `to` (made if missing), skipping the pointer when `from` is the
/// home folder; permissions go along (keys and the session file stay readable by this user
/// only). Each file is flushed to disk before the next, so a switch never points at data still
/// in the page cache.
fn copy_tree(
    from: &Path,
    to: &Path,
    home: &Path,
    copied: &mut u64,
    progress: &mut dyn FnMut(u64),
) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    std::fs::set_permissions(to, std::fs::metadata(from)?.permissions())?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let path = entry.path();
        if from == home && entry.file_name() == POINTER {
            continue;
        }
        let kind = entry.file_type()?;
        let dest = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&path, &dest, home, copied, progress)?;
        } else if kind.is_file() {
            *copied += match std::fs::copy(&path, &dest) {
                Ok(n) => n,
                // Gone since the listing: a journal the database removed as it closed.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !path.exists() => continue,
                Err(e) => return Err(e),
            };
            std::fs::File::open(&dest)?.sync_all()?;
            progress(*copied);
        } else {
            #[cfg(unix)]
            std::os::unix::fs::symlink(std::fs::read_link(&path)?, &dest)?;
        }
    }
    Ok(())
}

/// Removes everything in `dir` but the pointer (when `dir` is the home folder).
fn empty_folder(dir: &Path, home: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if dir == home && entry.file_name() == POINTER {
            continue;
        }
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(entry.path())?;
        } else {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// What the files under `dir` take, bytes (links not followed).
fn tree_bytes(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_dir() {
            total += tree_bytes(&entry.path())?;
        } else if meta.is_file() {
            total += meta.len();
        }
    }
    Ok(total)
}

/// The pointer's size when `dir` is the home folder (it is not part of the profile).
fn pointer_bytes(dir: &Path, home: &Path) -> u64 {
    if dir == home {
        std::fs::metadata(dir.join(POINTER)).map_or(0, |m| m.len())
    } else {
        0
    }
}

fn is_empty_or_missing(dir: &Path) -> bool {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
    }
}

/// `path`, or its nearest folder that exists (where the new folder will be made).
fn nearest_existing(path: &Path) -> PathBuf {
    path.ancestors()
        .find(|p| p.exists())
        .unwrap_or(Path::new("/"))
        .to_path_buf()
}

/// `path` with its existing part made canonical (links and `..` resolved) and the rest kept.
fn canonical_as_far_as_exists(path: &Path) -> PathBuf {
    let existing = nearest_existing(path);
    let rest = path.strip_prefix(&existing).unwrap_or(Path::new(""));
    let existing = existing.canonicalize().unwrap_or(existing);
    // `join("")` would add a trailing slash, and `a-file/` does not exist.
    if rest.as_os_str().is_empty() {
        existing
    } else {
        existing.join(rest)
    }
}

/// Whether a file can be made in `dir`: made and removed at once.
fn tempfile_probe(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".marquee-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}

#[cfg(test)]
mod tests {
    use super::*;
    use marquee_core::api::ErrorKind;

    fn profile(dir: &Path) {
        std::fs::create_dir_all(dir.join("downloads/film")).unwrap();
        std::fs::write(dir.join("library.db"), vec![7u8; 5000]).unwrap();
        std::fs::write(dir.join("downloads/film/a.mqc"), vec![1u8; 70_000]).unwrap();
        std::fs::write(dir.join("settings.json"), b"{}").unwrap();
    }

    #[test]
    fn a_move_copies_switches_then_deletes_and_a_second_move_goes_back_home() {
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join("home");
        profile(&home);
        let away = root.path().join("elsewhere");
        let plan = plan(&home, &away, &home).unwrap();
        assert_eq!(plan.target, away.canonicalize().unwrap_or(away.clone()));
        assert_eq!(plan.bytes, 75_002);
        let mut seen = Vec::new();
        carry(&home, &home, &plan, &mut |c| seen.push(c)).unwrap();
        assert_eq!(resolve(home.clone()).unwrap(), plan.target);
        assert_eq!(
            std::fs::read(plan.target.join("downloads/film/a.mqc"))
                .unwrap()
                .len(),
            70_000
        );
        // Home holds the pointer alone.
        let left: Vec<_> = std::fs::read_dir(&home)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from(POINTER)]);
        assert_eq!(seen.last(), Some(&75_002));

        // Back home: the pointer goes, the files come back, the other folder is removed.
        let back = plan_back(&plan.target, &home);
        carry(&plan.target, &home, &back, &mut |_| {}).unwrap();
        assert_eq!(resolve(home.clone()).unwrap(), home);
        assert!(!home.join(POINTER).exists());
        assert_eq!(std::fs::read(home.join("library.db")).unwrap().len(), 5000);
        assert!(!plan.target.exists());
    }

    fn plan_back(from: &Path, home: &Path) -> Plan {
        plan(from, home, home).unwrap()
    }

    #[test]
    fn a_folder_with_files_gets_a_marquee_folder_inside_and_odd_targets_are_refused_in_words() {
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join("home");
        profile(&home);
        let busy = root.path().join("Videos");
        std::fs::create_dir_all(&busy).unwrap();
        std::fs::write(busy.join("holiday.webm"), b"x").unwrap();
        let p = plan(&home, &busy, &home).unwrap();
        assert!(p.target.ends_with("Videos/Marquee"), "{:?}", p.target);

        let says = |to: &Path, words: &str| {
            let e = plan(&home, to, &home).unwrap_err();
            assert_eq!(e.kind, ErrorKind::SettingsRefused);
            assert!(e.message.contains(words), "{}", e.message);
        };
        says(&home, "already in");
        says(&home.join("downloads"), "cannot move into itself");
        says(Path::new("relative/folder"), "not a full folder path");
        std::fs::create_dir_all(busy.join("Marquee")).unwrap();
        std::fs::write(busy.join("Marquee/x"), b"x").unwrap();
        says(&busy, "already holds files");
        let file = root.path().join("a-file");
        std::fs::write(&file, b"x").unwrap();
        says(&file, "is a file");
    }

    #[test]
    fn a_disk_without_room_is_refused_with_both_sizes() {
        let e = check_room(
            Path::new("/media/stick/Marquee"),
            2_300_000_000,
            1_200_000_000,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::SettingsRefused);
        assert!(e.message.contains("1.2 GB free"), "{}", e.message);
        assert!(e.message.contains("needs 2.3 GB"), "{}", e.message);
        // The page writes its own sentence from the variant and the sizes in bytes.
        assert_eq!(e.params["variant"], "data_no_room");
        assert_eq!(e.params["free_bytes"], "1200000000");
        assert_eq!(e.params["needed_bytes"], "2300000000");
        // The spare room counts: exactly the folder's size does not fit.
        assert!(check_room(Path::new("/x"), 1_000, 1_000).is_err());
        assert!(check_room(Path::new("/x"), 1_000, 1_000 + SPARE_BYTES).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn a_copy_that_fails_part_way_leaves_the_old_folder_in_use_and_nothing_behind() {
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join("home");
        profile(&home);
        let away = root.path().join("away");
        let p = plan(&home, &away, &home).unwrap();
        // A file that cannot be read stands for a copy cut short (a full disk, a pulled
        // stick): the copy stops there and is removed.
        let locked = home.join("downloads/film/locked.mqc");
        std::fs::write(&locked, b"x").unwrap();
        std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000))
            .unwrap();
        let as_root = std::fs::read(&locked).is_ok();
        if as_root {
            // Root reads anything: a folder in the way of a file does the same.
            std::fs::remove_file(&locked).unwrap();
            std::fs::create_dir_all(away.join("library.db")).unwrap();
        }
        let e = carry(&home, &home, &p, &mut |_| {}).unwrap_err();
        assert!(e.message.contains("nothing moved"), "{}", e.message);
        assert!(
            !away.exists() || std::fs::read_dir(&away).unwrap().count() == 0,
            "the copy was removed"
        );
        assert_eq!(resolve(home.clone()).unwrap(), home);
        assert_eq!(
            std::fs::read(home.join("downloads/film/a.mqc"))
                .unwrap()
                .len(),
            70_000
        );
    }

    #[test]
    fn a_broken_pointer_is_refused_in_words() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join(POINTER), b"{not json").unwrap();
        let e = resolve(root.path().to_path_buf()).unwrap_err();
        assert!(
            e.message.contains("data-folder.json is not valid"),
            "{}",
            e.message
        );
    }
}

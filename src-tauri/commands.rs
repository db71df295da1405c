//! Every command the page may call, declared once in the table below. A line of the table
//! yields the `#[tauri::command]` function (typed for the bindings by specta, with a tracing
//! span named after the command that records a refusal's kind), its registration in [`ipc`],
//! and, through `cargo xtask bindings`, its TypeScript function in `ui/src/lib/ipc/bindings.ts`
//! and its `allow-<command>` permission in `permissions/commands.toml`.
//!
//! Adding an operation: write it on `Core` in its domain (`crates/core/src/<domain>`), add a
//! line here, run `cargo xtask bindings`, and call `commands.<name>(..)` from the UI.
//!
//! A line reads `fn name(args..) -> Output = |..| body;`, where the closure's parameters say
//! what the body needs: `|core: Core|` the opened core (waited for while it opens), `|app: App|`
//! the app handle, or `|app: App, core: Core|` both. The body is an expression of type
//! `Result<Output, E>` for any error the UI's `AppError` comes from (use [`ok`] for an
//! operation that cannot fail).

use marquee_core::api::*;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime};

use crate::data_folder::{DataFolder, DataFolderProgress};
use crate::desktop::LinksOpened;
use crate::publish::FilesDropped;
use crate::state::AppState;
use crate::updates::{self, UpdateInfo};

/// The result of an operation that cannot fail, for a body of the table.
fn ok<T>(value: T) -> Result<T, AppError> {
    Ok(value)
}

/// Expands one line of the table into its command. Every command is generic over the runtime
/// and takes the app handle (the mock runtime drives them in tests; the page never sees the
/// handle); the span skips every argument, as some are passwords.
macro_rules! command {
    (@fn $(#[$doc:meta])* $name:ident($app:ident $(, $arg:ident: $ty:ty)*) -> $out:ty
        { $($prelude:stmt;)* } $body:expr) => {
        $(#[$doc])*
        #[tauri::command]
        #[specta::specta]
        #[tracing::instrument(skip_all, err(level = "info", Debug))]
        async fn $name<R: Runtime>($app: AppHandle<R> $(, $arg: $ty)*) -> Result<$out, AppError> {
            $($prelude;)*
            Ok($body?)
        }
    };
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $out:ty
        = |$core:ident: Core| $body:expr) => {
        command!(@fn $(#[$doc])* $name(app $(, $arg: $ty)*) -> $out
            { let $core = app.state::<AppState>().core().await?; } $body);
    };
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $out:ty
        = |$app:ident: App| $body:expr) => {
        command!(@fn $(#[$doc])* $name($app $(, $arg: $ty)*) -> $out {} $body);
    };
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*) -> $out:ty
        = |$app:ident: App, $core:ident: Core| $body:expr) => {
        command!(@fn $(#[$doc])* $name($app $(, $arg: $ty)*) -> $out
            { let $core = $app.state::<AppState>().core().await?; } $body);
    };
}

/// The table: every command, then every event the page hears. Generates the commands and
/// [`ipc`], the one list the invoke handler, the bindings and the permissions come from.
macro_rules! commands {
    (
        $(
            $(#[$doc:meta])*
            fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $out:ty
                = |$($ctx:ident: $kind:ident),+| $body:expr;
        )*
        events: [$($event:path),* $(,)?];
    ) => {
        $(command! { $(#[$doc])* $name($($arg: $ty),*) -> $out = |$($ctx: $kind),+| $body })*

        /// Every command the page may call and every event it hears: the one list. The invoke
        /// handler and the event names come from here at run time; `cargo xtask bindings`
        /// writes the UI's typed bindings and the permission each command needs from it (see
        /// `bindings.rs`). A command not in the table cannot be called at all.
        pub fn ipc<R: Runtime>() -> tauri_specta::Builder<R> {
            // The commands name a runtime only for their TypeScript signature (which does not
            // depend on it): the handler itself stays generic over `R`.
            tauri_specta::Builder::new()
                .commands(tauri_specta::collect_commands![$($name::<tauri::Wry>),*])
                .events(tauri_specta::collect_events![$($event),*])
                // Rejections stay rejections: `ui/src/lib/ipc` turns them into `AppError`s,
                // including the bare strings Tauri itself rejects with (a refused permission).
                .error_handling(tauri_specta::ErrorHandlingMode::Throw)
        }
    };
}

commands! {
    // Catalog.

    /// The catalog of the store.
    fn catalog_list() -> Vec<Title> = |core: Core| core.catalog_list().await;
    /// Full-text search of the catalog.
    fn catalog_search(query: String) -> Vec<Title> = |core: Core| core.catalog_search(&query).await;

    // Account and wallet.

    /// The wallet.
    fn wallet_get() -> Wallet = |core: Core| core.wallet_get().await;
    /// Who is signed in, on which store.
    fn account_get() -> AccountInfo = |core: Core| ok(core.account_get());
    /// Signs in with an e-mail and password (the password is not kept).
    fn account_sign_in(email: String, password: String) -> AccountInfo =
        |core: Core| core.account_sign_in(&email, &password).await;
    /// Creates an account and signs in to it.
    fn account_sign_up(email: String, password: String) -> AccountInfo =
        |core: Core| core.account_sign_up(&email, &password).await;
    /// Signs out.
    fn account_sign_out() -> AccountInfo = |core: Core| core.account_sign_out().await;
    /// Signs out on every computer, this one too.
    fn account_sign_out_everywhere() -> AccountInfo =
        |core: Core| core.account_sign_out_everywhere().await;
    /// A new password, given the current one; every other computer is signed out.
    fn account_change_password(current: String, replacement: String) -> () =
        |core: Core| core.account_change_password(&current, &replacement).await;
    /// The account page: wallet, receipts, computers.
    fn account_overview() -> AccountOverview = |core: Core| core.account_overview().await;
    /// Tops the wallet up with a voucher code.
    fn voucher_redeem(code: String) -> Wallet = |core: Core| core.voucher_redeem(&code).await;
    /// Deactivates one of the account's computers.
    fn device_deactivate(device_id: String) -> AccountInfo =
        |core: Core| core.device_deactivate(&device_id).await;

    // Library, orders and playback.

    /// Puts back what the account holds on this computer, without a charge.
    fn library_restore() -> RestoreResult = |core: Core| core.library_restore().await;
    /// The library.
    fn library_list() -> Vec<LibraryEntry> = |core: Core| core.library_list().await;
    /// Rent, buy or get a free title.
    fn title_acquire(title_id: String, client_order_id: String) -> AcquireResult =
        |core: Core| core.title_acquire(&title_id, &client_order_id).await;
    /// Open a title for playback.
    fn playback_open(title_id: String) -> PlaybackSource =
        |core: Core| core.playback_open(&title_id).await;
    /// Report the playback position (and the first frame).
    fn playback_report(title_id: String, position_s: f64, first_frame: bool) -> () =
        |core: Core| core.playback_report(&title_id, position_s, first_frame).await;

    // Downloads and the connection to the store.

    /// Push download progress to the window twice a second until the window goes away.
    fn downloads_watch(on_progress: Channel<Vec<DownloadProgress>>) -> () =
        |core: Core| ok(crate::progress::downloads(core, on_progress));
    /// Push whether the store answers to the window: now, and at every change, until the window
    /// goes away.
    fn connection_watch(on_change: Channel<Connection>) -> () =
        |core: Core| ok(crate::progress::connection(core, on_change));
    /// Offline: tries the store now instead of at the end of the wait.
    fn connection_retry() -> () = |core: Core| ok(core.connection_retry());
    /// Every download and seed, with its state, progress, speeds, peers and time left.
    fn downloads_list() -> Vec<DownloadItem> = |core: Core| core.downloads_list().await;
    /// Pauses a title's download (or seeding); it stays paused after a restart.
    fn download_pause(title_id: String) -> () = |core: Core| core.download_pause(&title_id).await;
    /// Resumes a paused title, or downloads a removed one again.
    fn download_resume(title_id: String) -> () =
        |core: Core| core.download_resume(&title_id).await;
    /// Removes a title from the downloads, keeping its files or deleting them.
    fn download_remove(title_id: String, delete_files: bool) -> () =
        |core: Core| core.download_remove(&title_id, delete_files).await;
    /// Moves a title to place `to_position` (from 1) in the download queue.
    fn download_move(title_id: String, to_position: u32) -> () =
        |core: Core| core.download_move(&title_id, to_position).await;
    /// The global limits: download and upload speeds and how many titles download at once.
    fn downloads_limits_get() -> DownloadLimits = |core: Core| core.downloads_limits_get().await;
    /// Sets the global limits: speeds in KiB/s and how many titles download at once (`null`
    /// for none).
    fn downloads_limits_set(limits: DownloadLimits) -> DownloadLimits =
        |core: Core| core.downloads_limits_set(limits).await;
    /// The speed limits in force now (the schedule applied).
    fn downloads_speeds_in_force() -> SpeedsInForce =
        |core: Core| ok(core.downloads_speeds_in_force());
    /// When complete titles stop being shared with other viewers.
    fn downloads_seeding_get() -> SeedingPolicy = |core: Core| core.downloads_seeding_get().await;
    /// Sets when complete titles stop being shared: titles past it stop now.
    fn downloads_seeding_set(policy: SeedingPolicy) -> SeedingPolicy =
        |core: Core| core.downloads_seeding_set(policy).await;
    /// What this computer received (from other viewers, from the store) and gave to others:
    /// in total, and slot by slot over the last hour, day or month.
    fn downloads_give_back(span: GiveBackSpan) -> GiveBack =
        |core: Core| core.downloads_give_back(span).await;

    // Files and links from the desktop, and updates.

    /// Files dropped or opened before the page listened for [`FilesDropped`]; taken once.
    fn drops_pending() -> Vec<DroppedFile> =
        |app: App| ok(app.state::<AppState>().take_pending_drops());
    /// `magnet:` links opened with the app before the page listened for [`LinksOpened`]; taken
    /// once.
    fn links_pending() -> Vec<String> =
        |app: App| ok(app.state::<AppState>().take_pending_links());
    /// Whether a newer Marquee is published (nothing when this build has no update channel).
    fn update_check() -> Option<UpdateInfo> = |app: App| updates::check(&app).await;
    /// Installs the published update once the person agrees, then restarts into it.
    fn update_install() -> () = |app: App| updates::install(&app).await;
    /// Keeps the window's language (`en`, `ar` or `it`) as the person's choice.
    fn language_choose(language: String) -> () = |app: App| crate::language::choose(&app, &language);
    /// Buys from the store at `url` (`null`: the demo store) from now on: signs out and
    /// restarts Marquee on it; answers only when it refused.
    fn settings_store_set(url: Option<String>) -> () =
        |app: App| crate::settings::set_store(&app, url.as_deref()).await;
    /// Where Marquee keeps its data, what it takes and the room left on its disk.
    fn settings_data_folder_get() -> DataFolder = |app: App| crate::data_folder::get(&app).await;
    /// Lets the person pick a folder to move the data to (`null`: cancelled).
    fn settings_data_folder_pick() -> Option<String> =
        |app: App| crate::data_folder::pick(&app).await;
    /// Moves the data folder to `to` (a `Marquee` folder inside it when it holds files) and
    /// restarts there; answers only when it refused or failed, with Marquee going on as before.
    fn settings_data_folder_move(to: String, on_progress: Channel<DataFolderProgress>) -> () =
        |app: App| crate::data_folder::move_to(&app, &to, on_progress).await;

    // Publishing and sharing.

    /// Lets the person pick videos or torrent files with the system's file dialog; the paths stay
    /// on the Rust side.
    fn publish_pick() -> Vec<DroppedFile> =
        |app: App, core: Core| crate::publish::pick(&app, &core).await;
    /// Checks, copies and starts seeding a dropped video; progress goes to `on_progress`.
    fn publish_prepare(drop_id: String, on_progress: Channel<PublishProgress>) -> PublishDraft =
        |core: Core| {
            core.publish_prepare(&drop_id, move |p| {
                let _ = on_progress.send(p);
            })
            .await
        };
    /// Cancels preparing a dropped video.
    fn publish_cancel(drop_id: String) -> () = |core: Core| ok(core.publish_cancel(&drop_id));
    /// Drops a draft and its copy.
    fn publish_discard(draft_id: String) -> () = |core: Core| core.publish_discard(&draft_id).await;
    /// Publishes a draft to the community shelf.
    fn publish_submit(draft_id: String, form: PublishForm) -> LibraryEntry =
        |core: Core| core.publish_submit(&draft_id, form).await;
    /// A magnet link for a free title.
    fn title_share(title_id: String) -> ShareLinks = |core: Core| core.share_links(&title_id).await;
    /// Asks where to save, then writes a free title's `.torrent` there.
    fn title_save_torrent(title_id: String) -> Option<String> =
        |app: App, core: Core| crate::publish::save_torrent(&app, &core, &title_id).await;
    /// Asks where to save, then copies a free title's file there.
    fn title_export(title_id: String) -> Option<String> =
        |app: App, core: Core| crate::publish::export(&app, &core, &title_id).await;

    // Titles from elsewhere: magnet links and `.torrent` files.

    /// Opens a magnet link (pasted, or from the desktop): the title if it is in the library,
    /// else a file of kind `magnet` for the torrent sheet; adds nothing.
    fn magnet_open(link: String) -> MagnetOpened = |core: Core| core.magnet_open(&link).await;
    /// What a dropped `.torrent` file (or an opened magnet link, asked of its peers) holds, or
    /// why it cannot be added; adds nothing.
    fn torrent_preview(drop_id: String) -> TorrentPreview =
        |core: Core| core.torrent_preview(&drop_id).await;
    /// Adds a dropped `.torrent` file (or an opened magnet link) as a free title not from the
    /// store.
    fn torrent_import(drop_id: String) -> LibraryEntry =
        |core: Core| core.torrent_import(&drop_id).await;

    // Live channels.

    /// The channels live now, from the store's directory.
    fn live_channels() -> Vec<LiveChannel> = |core: Core| core.live_channels().await;
    /// Starts watching a channel (leaving any other); where this viewer stands goes to
    /// `on_status` once a second until it stops watching.
    fn live_watch(channel: String, on_status: Channel<LiveStatus>) -> LiveSession =
        |core: Core| {
            core.live_watch(&channel, Box::new(move |s| {
                let _ = on_status.send(s);
            }))
            .await
        };
    /// Stops watching: the relay is left and the player's stream ends.
    fn live_leave() -> () = |core: Core| ok(core.live_leave().await);
    /// Lets the person pick a WebM video to go live with (the system's file dialog); the path
    /// stays on the Rust side. `null` when they cancelled.
    fn live_pick() -> Option<DroppedFile> =
        |app: App, core: Core| crate::publish::pick_live(&app, &core).await;
    /// Checks a dropped or picked video for going live; nothing starts yet.
    fn live_prepare(drop_id: String) -> LiveDraft = |core: Core| core.live_prepare(&drop_id).await;
    /// The first seconds of the checked video, for the sheet's preview and poster frame.
    fn live_preview(drop_id: String) -> LivePreview = |core: Core| core.live_preview(&drop_id).await;
    /// Goes live with the checked video, looped, under `title`, with `poster` (a JPEG `data:`
    /// URL) as its picture; its viewers and this computer's upload go to `on_status` once a
    /// second until it stops.
    fn live_go_live(
        drop_id: String,
        title: String,
        poster: Option<String>,
        on_status: Channel<BroadcastStatus>,
    ) -> LiveBroadcast =
        |core: Core| {
            core.live_go_live(&drop_id, &title, poster.as_deref(), Box::new(move |s| {
                let _ = on_status.send(s);
            }))
            .await
        };
    /// Ends the broadcast running from this computer.
    fn live_broadcast_stop() -> () = |core: Core| ok(core.live_broadcast_stop().await);

    // This computer and its licences.

    /// Moves a purchase licensed to another computer of the account to this one.
    fn licence_move(title_id: String) -> LibraryEntry =
        |core: Core| core.licence_move(&title_id).await;
    /// Registers this computer as a new device when the profile was made on another one: the old
    /// device key is kept aside, the library stays, and the core opens again.
    fn device_reactivate() -> () = |app: App| crate::state::reactivate_device(&app).await;

    events: [FilesDropped, LinksOpened];
}

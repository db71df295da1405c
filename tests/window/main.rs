//! The app in a real window, one test binary (`cargo test -p marquee --test window`): the app
//! built with Tauri's production (`custom-protocol`) feature runs under Xvfb, driven by
//! tauri-driver and WebKitWebDriver. One window at a time ([`common::ONE_WINDOW`]). The tests
//! without a window (store, cores, BitTorrent interop) are `marquee-core`'s.

// Xvfb, tauri-driver, waiting on the page, and the checks the tests share.
mod common;
// Rent and watch against the embedded demo store; the restart.
mod rent_and_watch;
// A person's own account on a `marquee-store` process: sign up, voucher, rent, receipt, sign
// out and in.
mod accounts_in_window;
// `.torrent` files opened with the app: shown before they are added, hostile ones refused.
mod torrent_in_window;
// Publishing a dropped video, finding it on the community shelf, playing it.
mod publish_in_window;
// The Downloads tab: a limit, pause and resume, the remove question.
mod downloads_in_window;
// Starting with the store unreachable: the saved catalog, the offline banner, reconnecting.
mod offline_in_window;
// The `.deb` installed with apt, driven in a window from /usr/bin, a magnet link handed to the
// running app, and purged without a trace.
mod installed;
// Closing the window: hidden in the tray while seeding, a second launch brings it back, quit.
mod tray;
// Updating the installed app to a newer signed .deb from loopback; a bad signature refused.
mod updates;
// Live channels: the Live section, watching from the live edge beside viewer processes, the
// broadcaster ending the channel.
mod live_in_window;
// The storefront at 5,000 titles: start, search and scrolling times, and memory, beside the
// demo catalog.
mod storefront_in_window;
// Browsing like a store: sections with filters and sort, a series' page and buying its season,
// a studio's page, more like this, Back.
mod browse_in_window;
// Accessibility: axe-core inside the window on every page, no serious or critical finding.
mod a11y_in_window;
// Arabic from the system, mirrored; Italian from the settings page, kept across a restart.
mod languages_in_window;
// The settings page: the store changed, refused in words or signed out and restarted on it.
mod settings_in_window;

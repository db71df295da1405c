//! What the Marquee app and the Marquee store say to each other, in one place, so both sides of
//! every contract are the same Rust code:
//!
//! - [`api`]: the bodies of the store's HTTP API (`/api/v1/...`) and its stable error codes;
//! - [`sign`]: the signature contexts, with one way to sign and one way to verify;
//! - [`channels`]: live channels in the store's directory, each word signed by the channel's
//!   or the viewer's own key;
//! - [`swarm`]: the BitTorrent settings every Marquee peer shares (app, store seeder, seed node),
//!   and how content is cut into pieces;
//! - [`trackers`]: the trackers a `.torrent` names, written without touching its info hash;
//! - [`torrent_file`]: a `.torrent` from anyone read and checked before librqbit sees it (names
//!   every system can save, pieces that add up), by the app for every torrent it adds and by
//!   the store for every title it packages or lists;
//! - [`clock`]: Unix seconds, and a clock that tests can move;
//! - [`client`]: the typed client of the store's API, used by the app and by `marquee-store seed`;
//! - [`private_fs`]: owner-only folders and files for the secrets both sides keep at rest;
//! - [`server`]: HTTP/1.1 served with a header timeout and a connection cap (store and app).
//!
//! The app's core depends on this crate and on `marquee-licence`, never on the store server.

#![deny(missing_docs)]

pub mod api;
pub mod bencode;
pub mod channels;
pub mod client;
pub mod clock;
pub mod private_fs;
pub mod server;
pub mod sign;
pub mod swarm;
pub mod torrent_file;
pub mod trackers;

pub use client::{CatalogPage, ClientError, Reachability, StoreClient};

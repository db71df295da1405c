//! # Marquee live channels
//!
//! A live channel is an Ed25519 key pair. The broadcaster cuts its stream into segments of about
//! one second at keyframe boundaries ([`segment`]: WebM, and fragmented MP4 in `fmp4`), splits each segment into chunks and signs a
//! small announcement per chunk ([`chunk`]). Viewers relay to each other ([`relay`]): the
//! protocol core here does no I/O, so the same code runs under the deterministic simulator
//! ([`sim`]) and over real QUIC connections ([`net`], with the messages encoded by [`wire`]).
//! A broadcaster lists its channel in the store's directory and a viewer joins through it
//! ([`directory`]). The `marquee-live` binary is a thin command line over [`net`] and
//! [`directory`].

pub mod chunk;
pub mod directory;
mod fmp4;
pub mod net;
pub mod relay;
pub mod segment;
pub mod sim;
pub mod wire;

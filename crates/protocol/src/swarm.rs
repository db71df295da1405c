//! The BitTorrent settings every Marquee peer shares (the store's seeder, `marquee-store seed`
//! and the app), and how Marquee cuts content into pieces.

use std::net::SocketAddr;

use anyhow::Context;
use librqbit::{ListenerOptions, SessionOptions};

/// Session options for a Marquee peer listening on `listen` (port 0 picks a free one).
///
/// DHT, local service discovery and librqbit's own persistence are off: peers come from the
/// store's tracker and peer hints, and each program keeps its own record of what it serves.
/// librqbit announces no port at all for a loopback listener (it assumes nobody could reach
/// it), which would list a wrong one on the tracker; so the port is picked here and announced.
pub fn session_options(listen: SocketAddr) -> anyhow::Result<SessionOptions> {
    let listen = if listen.port() == 0 {
        std::net::TcpListener::bind(listen)
            .and_then(|probe| probe.local_addr())
            .with_context(|| format!("finding a free port on {}", listen.ip()))?
    } else {
        listen
    };
    Ok(SessionOptions {
        dht: None,
        persistence: None,
        fastresume: false,
        disable_local_service_discovery: true,
        listen: Some(ListenerOptions {
            listen_addr: listen,
            announce_port: Some(listen.port()),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// The piece size of every torrent Marquee makes (studio titles packaged by the store, videos
/// published by viewers): small pieces let playback start after a few hundred KiB, larger ones
/// keep the piece list of a big file short.
pub fn piece_length(size: u64) -> u32 {
    match size {
        0..=0x400_0000 => 256 * 1024,
        0x400_0001..=0x4000_0000 => 1024 * 1024,
        _ => 4 * 1024 * 1024,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_grow_with_the_file() {
        assert_eq!(piece_length(0), 256 * 1024);
        assert_eq!(piece_length(64 << 20), 256 * 1024);
        assert_eq!(piece_length((64 << 20) + 1), 1024 * 1024);
        assert_eq!(piece_length(1 << 30), 1024 * 1024);
        assert_eq!(piece_length((1 << 30) + 1), 4 * 1024 * 1024);
    }
}

//! The librqbit session settings every Marquee peer uses: the store's seeder, `marquee-store
//! seed` and the app.

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

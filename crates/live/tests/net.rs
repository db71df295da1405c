//! The network layer against a hostile peer, in one process: a raw iroh endpoint speaks the
//! protocol's framing to a viewer node and sends it what an honest node never would.

use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use iroh::endpoint::{presets, Connection};
use iroh::{Endpoint, EndpointAddr, PublicKey};
use marquee_live::chunk::{ChannelSigner, SegmentInfo};
use marquee_live::net::{Clock, Node, NodeConfig, NodeStats, Role, ALPN};
use marquee_live::relay::Message;
use marquee_live::wire;

/// A connection from a new endpoint; the endpoint is returned too, as dropping it closes it.
async fn hostile(viewer: &Node) -> (Endpoint, Connection) {
    let endpoint = Endpoint::builder(presets::Minimal)
        .clear_ip_transports()
        .bind_addr("127.0.0.1:0")
        .unwrap()
        .bind()
        .await
        .unwrap();
    let target =
        EndpointAddr::new(PublicKey::from_bytes(&viewer.id()).unwrap()).with_ip_addr(viewer.addr());
    let conn = endpoint.connect(target, ALPN).await.unwrap();
    (endpoint, conn)
}

async fn wait_for(viewer: &Node, what: &str, done: impl Fn(&NodeStats) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done(&viewer.stats()) {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn forged_chunks_never_play_and_garbage_closes_the_connection() {
    let channel = SigningKey::from_bytes(&[1; 32]).verifying_key();
    let config = NodeConfig::new(
        channel,
        Role::Viewer { upload_x: 2.0 },
        "127.0.0.1:0".parse().unwrap(),
    );
    let viewer = Node::start(config, Clock::new()).await.unwrap();

    // Chunks signed by another key, framed exactly as a node frames them.
    let (_endpoint, conn) = hostile(&viewer).await;
    let mut stream = conn.open_uni().await.unwrap();
    let mut forger = ChannelSigner::new(SigningKey::from_bytes(&[2; 32]), 4096);
    let info = SegmentInfo {
        segment: 0,
        pts_ms: 0,
        duration_ms: 1000,
        capture_ms: Clock::new().now_ms(),
        keyframe: true,
        epoch: 0,
    };
    for chunk in forger.chunks(info, &[7u8; 10_000]) {
        let frame = wire::encode(&Message::Chunk { chunk, hops: 0 });
        stream
            .write_all(&(frame.len() as u32).to_be_bytes())
            .await
            .unwrap();
        stream.write_all(&frame).await.unwrap();
    }
    wait_for(&viewer, "the forged chunk is refused", |s| {
        s.relay.refused > 0
    })
    .await;
    // The relay drops the forger; the node closes its connection.
    tokio::time::timeout(Duration::from_secs(5), conn.closed())
        .await
        .expect("the forger's connection is closed");
    assert_eq!(viewer.stats().relay.played, 0);
    assert_eq!(viewer.stats().relay.received, 0);

    // A length prefix over the limit: refused before anything is allocated.
    let (_endpoint, conn) = hostile(&viewer).await;
    let mut stream = conn.open_uni().await.unwrap();
    stream.write_all(&u32::MAX.to_be_bytes()).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), conn.closed())
        .await
        .expect("an oversized frame closes the connection");

    // A frame of the right length holding no message.
    let (_endpoint, conn) = hostile(&viewer).await;
    let mut stream = conn.open_uni().await.unwrap();
    stream.write_all(&[0, 0, 0, 3, 0xEE, 1, 2]).await.unwrap();
    wait_for(&viewer, "the garbage is counted", |s| s.malformed == 1).await;
    tokio::time::timeout(Duration::from_secs(5), conn.closed())
        .await
        .expect("a malformed frame closes the connection");

    assert_eq!(viewer.stats().relay.played, 0);
    viewer.shutdown().await;
}

/// Frames a hostile connection sends, each after its length.
async fn send_frames(stream: &mut iroh::endpoint::SendStream, frames: &[Vec<u8>]) {
    for frame in frames {
        stream
            .write_all(&(frame.len() as u32).to_be_bytes())
            .await
            .unwrap();
        stream.write_all(frame).await.unwrap();
    }
}

/// A viewer playing a real broadcast over loopback is flooded: 200 frames of 32 made-up peer
/// addresses each, then a thousand connections from fresh node ids, each asking to be its child.
/// It keeps playing, and its address book, its connections, the peers it keeps state for and
/// its relay's maps stay within their bounds.
#[test]
fn floods_of_addresses_and_connections_leave_a_viewer_playing_within_bounds() {
    heavy_run(flood());
}

/// Runs a CPU-heavy test on a runtime of its own, its turn taken before the runtime starts.
fn heavy_run<F: std::future::Future>(test: F) -> F::Output {
    let _turn = crate::heavy();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(test)
}

/// The demo title, paced as a live channel by the tests' broadcasters.
fn demo_source() -> marquee_live::segment::LiveSource {
    let file = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../store/demo/media/glass-rain.webm"
    ))
    .unwrap();
    marquee_live::segment::LiveSource::from_vec(file).unwrap()
}

async fn flood() {
    use marquee_live::net::{pace, BOOK_MAX, MAX_INCOMING};
    // The attackers' endpoints are made first: binding a thousand (each watches the machine's
    // interfaces) costs seconds of this process's CPU, which is the attacker's cost, not the
    // viewer's, and would otherwise land on the same two cores while the viewer plays.
    let mut attackers = Vec::new();
    for _ in 0..1000 {
        attackers.push(
            Endpoint::builder(presets::Minimal)
                .clear_ip_transports()
                .bind_addr("127.0.0.1:0")
                .unwrap()
                .bind()
                .await
                .unwrap(),
        );
    }
    let clock = Clock::new();
    let loopback = "127.0.0.1:0".parse().unwrap();
    let mut signer = ChannelSigner::new(SigningKey::from_bytes(&[5; 32]), 4096);
    let channel = signer.channel();
    let broadcaster = Node::start(NodeConfig::new(channel, Role::Broadcaster, loopback), clock)
        .await
        .unwrap();
    let mut config = NodeConfig::new(channel, Role::Viewer { upload_x: 2.0 }, loopback);
    config.peers = vec![broadcaster.peer_addr()];
    let viewer = Node::start(config, clock).await.unwrap();
    let source = demo_source();
    let broadcast = {
        let broadcaster = std::sync::Arc::new(broadcaster);
        let b = broadcaster.clone();
        (
            tokio::spawn(async move { pace(&b, &source, &mut signer, clock).await }),
            broadcaster,
        )
    };
    let wait = |what: &'static str, done: fn(&NodeStats) -> bool| {
        let viewer = &viewer;
        async move {
            let deadline = Instant::now() + Duration::from_secs(30);
            while !done(&viewer.stats()) {
                assert!(Instant::now() < deadline, "timed out waiting until {what}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    wait("the viewer plays", |s| s.relay.played >= 10).await;
    let calm = viewer.stats().relay;

    // Addresses: 200 × 32 made-up peers on loopback ports.
    let (_endpoint, conn) = hostile(&viewer).await;
    let mut stream = conn.open_uni().await.unwrap();
    let frames: Vec<Vec<u8>> = (0..200u32)
        .map(|f| {
            let mut frame = vec![0x41, 32];
            for i in 0..32u32 {
                let id = (f * 32 + i + 1).to_be_bytes();
                frame.extend_from_slice(
                    &[id, [7; 4], [7; 4], [7; 4], [7; 4], [7; 4], [7; 4], [7; 4]].concat(),
                );
                frame.extend_from_slice(&[4, 127, 0, 0, 1]);
                frame.extend_from_slice(&(1024 + (f * 32 + i) as u16 % 60_000).to_be_bytes());
            }
            frame
        })
        .collect();
    send_frames(&mut stream, &frames).await;
    wait("the book is full", |s| s.known_peers >= BOOK_MAX).await;
    assert_eq!(viewer.stats().known_peers, BOOK_MAX);

    // Connections: a thousand fresh node ids, a hundred at a time, all kept open, each asking
    // to be a child in stripe 0.
    let mut kept = Vec::new();
    let mut refused = 0;
    let (id, addr) = (viewer.id(), viewer.addr());
    for _ in 0..10 {
        let mut wave = tokio::task::JoinSet::new();
        for endpoint in attackers.drain(..100) {
            wave.spawn(async move {
                let target =
                    EndpointAddr::new(PublicKey::from_bytes(&id).unwrap()).with_ip_addr(addr);
                let conn = endpoint.connect(target, ALPN).await.ok()?;
                let mut stream = conn.open_uni().await.ok()?;
                let join = wire::encode(&Message::Join {
                    stripe: 0,
                    home: 0,
                    slots: u16::MAX,
                });
                send_frames(&mut stream, &[join]).await;
                Some((endpoint, conn, stream))
            });
        }
        while let Some(result) = wave.join_next().await {
            match result.unwrap() {
                Some(open) => kept.push(open),
                None => refused += 1,
            }
        }
        let s = viewer.stats();
        assert!(
            s.connections <= MAX_INCOMING + 8,
            "{} connections",
            s.connections
        );
    }
    assert!(
        refused >= 1000 - MAX_INCOMING,
        "only {refused} were refused"
    );
    let flooded = viewer.stats().relay;
    let before = flooded.played;
    let deadline = Instant::now() + Duration::from_secs(30);
    while viewer.stats().relay.played < before + 15 {
        assert!(
            Instant::now() < deadline,
            "the viewer stopped playing: {:?}",
            viewer.stats()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let s = viewer.stats();
    let f = s.footprint.unwrap();
    assert!(s.known_peers <= BOOK_MAX, "{s:?}");
    assert!(s.peer_states <= MAX_INCOMING + 21, "{s:?}");
    // A viewer at twice the bitrate has 5 child slots: 12 chosen neighbours + 5 children + 4 parents.
    assert!(f.neighbours <= 12 + 5 + 4, "{f:?}");
    assert!(f.children <= 5, "{f:?}");
    println!(
        "flooded viewer: played/missed {}/{} before the floods, {}/{} through them, {}/{} after; \
         {} connections, {} peers in the book, {refused} of 1000 connections refused",
        calm.played,
        calm.missed,
        flooded.played - calm.played,
        flooded.missed - calm.missed,
        s.relay.played - flooded.played,
        s.relay.missed - flooded.missed,
        s.connections,
        s.known_peers
    );
    drop(kept);
    broadcast.0.abort();
    viewer.shutdown().await;
}

/// Behind NAT a peer's address is of no use to anyone outside; the iroh relay server a store's
/// operator runs (here in-process on loopback, plain HTTP) carries the connection instead. The
/// viewer is given the broadcaster's id with an address nothing listens at, and plays; without
/// the relay the same viewer never connects.
#[test]
fn a_viewer_reaches_a_broadcaster_it_cannot_address_through_the_relay_server() {
    heavy_run(through_relay());
}

async fn through_relay() {
    use iroh_relay::server::{RelayConfig, Server, ServerConfig};
    use marquee_live::net::{pace, PeerAddr};

    let mut config = ServerConfig::default();
    config.relay = Some(RelayConfig::new(([127, 0, 0, 1], 0)));
    let server = Server::spawn(config).await.unwrap();
    let url: iroh::RelayUrl = format!("http://{}", server.http_addr().unwrap())
        .parse()
        .unwrap();

    // An address nothing listens at: a port bound a moment ago, then let go.
    let nowhere = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let clock = Clock::new();
    let loopback = "127.0.0.1:0".parse().unwrap();
    let mut signer = ChannelSigner::new(SigningKey::from_bytes(&[6; 32]), 4096);
    let channel = signer.channel();
    let mut config = NodeConfig::new(channel, Role::Broadcaster, loopback);
    config.relay_url = Some(url.clone());
    let broadcaster = std::sync::Arc::new(Node::start(config, clock).await.unwrap());
    let unaddressable = PeerAddr {
        id: broadcaster.id(),
        addr: nowhere,
    };
    let source = demo_source();
    let b = broadcaster.clone();
    let broadcast = tokio::spawn(async move { pace(&b, &source, &mut signer, clock).await });

    let viewer_config = |relay: Option<iroh::RelayUrl>| {
        let mut config = NodeConfig::new(channel, Role::Viewer { upload_x: 2.0 }, loopback);
        config.peers = vec![unaddressable];
        config.relay_url = relay;
        config
    };
    // Without the relay: the address leads nowhere, and nothing plays.
    let alone = Node::start(viewer_config(None), clock).await.unwrap();
    // Through the relay: it plays.
    let viewer = Node::start(viewer_config(Some(url)), clock).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while viewer.stats().relay.played < 10 {
        assert!(
            Instant::now() < deadline,
            "the viewer did not play through the relay: {:?}",
            viewer.stats()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let through = viewer.stats();
    let without = alone.stats();
    assert_eq!(without.relay.received, 0, "{without:?}");
    assert_eq!(without.connections, 0, "{without:?}");
    println!(
        "through the relay: {} chunks played, {} missed; without it: {} received",
        through.relay.played, through.relay.missed, without.relay.received
    );
    broadcast.abort();
    viewer.shutdown().await;
    alone.shutdown().await;
}

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

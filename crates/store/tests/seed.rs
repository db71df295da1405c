//! `marquee-store seed`, the seeding-only node, as its own process: it reads the catalog with
//! the wire crate's client, checks the store's signature, fetches what it seeds from the swarm
//! (a paid title's private one with the operator's passkey), and serves it to a viewer that
//! knows no other peer.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use librqbit::{AddTorrent, AddTorrentOptions, Session};
use marquee_protocol::StoreClient;
use tokio::io::{AsyncBufReadExt, BufReader};

use marquee_testsupport::start_store;

/// Kills the seed node when the test ends, however it ends.
struct Kill(tokio::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.start_kill();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seed_node_serves_a_title_to_a_viewer_that_knows_only_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = start_store(dir.path()).await;
    // A free port on loopback for the node's peers (tests never listen beyond loopback).
    let peer: SocketAddr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap();
    let passkey = marquee_store::cli::operator_passkey(&marquee_store::StoreConfig::loopback(
        dir.path().join("store"),
        None,
    ))
    .await
    .unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_marquee-store"))
        .arg("--data")
        .arg(dir.path().join("seed-node"))
        // A free title and a paid one: the operator's passkey opens the paid title's private
        // swarm to the node.
        .args([
            "seed",
            "--store",
            &store.url(),
            "--titles",
            "paper-boats,orbital-s01e01",
        ])
        .env("MARQUEE_STORE_SEED_PASSKEY", &passkey)
        .arg("--peer-listen")
        .arg(peer.to_string())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("marquee-store starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let _node = Kill(child);
    let started = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.starts_with("seeding ") {
                return line;
            }
        }
        panic!("marquee-store seed exited without seeding");
    })
    .await
    .expect("the seed node starts seeding within a minute");
    assert!(started.starts_with("seeding 2 titles"), "{started}");

    // A viewer with no tracker and one peer: the seed node, for both titles.
    let client = StoreClient::new(&store.url()).unwrap();
    let out = dir.path().join("viewer");
    let session = Session::new_with_opts(
        out.clone(),
        marquee_protocol::swarm::session_options("127.0.0.1:0".parse().unwrap()).unwrap(),
    )
    .await
    .unwrap();
    for title in ["paper-boats", "orbital-s01e01"] {
        let torrent = client.torrent(title).await.unwrap();
        let added = session
            .add_torrent(
                AddTorrent::from_bytes(torrent),
                Some(AddTorrentOptions {
                    output_folder: Some(out.to_string_lossy().into_owned()),
                    disable_trackers: true,
                    initial_peers: Some(vec![peer]),
                    overwrite: true,
                    ..Default::default()
                }),
            )
            .await
            .unwrap();
        let handle = added.into_handle().expect("a new torrent");
        tokio::time::timeout(Duration::from_secs(120), handle.wait_until_completed())
            .await
            .unwrap_or_else(|_| {
                panic!("{title}: the viewer finishes within two minutes, from the seed node alone")
            })
            .unwrap();
    }
    let original =
        std::fs::read(marquee_store::bundled_demo_dir().join("media/paper-boats.webm")).unwrap();
    let got = std::fs::read(out.join("paper-boats.webm")).unwrap();
    assert!(got == original, "the viewer's copy is byte-identical");
    session.stop().await;
    store.shutdown().await;
}

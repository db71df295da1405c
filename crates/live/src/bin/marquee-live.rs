//! `marquee-live`: a live channel's broadcaster or viewer without the window, so tests and
//! benchmarks can run many real viewers as processes. A thin command line over
//! [`marquee_live::net`]: arguments are parsed into [`Cli`], everything else is the library's.
//!
//! ```text
//! marquee-live broadcast <file.webm> [--key <seed file>] [--store URL [--title T]] [--listen 127.0.0.1:0]
//!                        [--advertise ip:port] [--relay URL] [--seconds N] [--json] [--report-ms MS]
//! marquee-live watch <channel-hex> (--store URL | --peer <node-hex>@<ip:port> [--peer ...])
//!                    [--listen 127.0.0.1:0] [--advertise ip:port] [--relay URL] [--seconds N] [--json] [--report-ms MS] [--upload-x X]
//! ```
//!
//! With `--store`, the broadcaster lists its channel in that store's directory (signed in with
//! the account in `MARQUEE_EMAIL` and `MARQUEE_PASSWORD`: not arguments, which other users of
//! the computer can read), keeps it listed and ends it on exit; a viewer joins through the
//! store, which hands it peers, and keeps reporting where it stands. `--peer` introduces peers
//! by hand instead (the tests of the transport alone).
//!
//! `--listen` defaults to `127.0.0.1:0`: a node on loopback talks to loopback peers only. On a
//! LAN, or across the internet with direct addresses, listen on `0.0.0.0:<port>` (or the
//! machine's address): peers learn the address they reached it at. Behind NAT, peers reach
//! each other through the iroh relay server the store names in its directory (or `--relay`).
//!
//! `broadcast` prints `channel <channel-hex> node <node-hex> addr <ip:port>` on its first line;
//! `watch` prints `node <node-hex> addr <ip:port>`. Both then print their figures every
//! `--report-ms` (default 2000) and once more on exit, as JSON lines with `--json`. A viewer
//! that joined through the store exits once the store no longer lists the channel.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ed25519_dalek::{SigningKey, VerifyingKey};
use marquee_live::chunk::ChannelSigner;
use marquee_live::directory::{self, Broadcast, Listing, Membership};
use marquee_live::net::{pace, Clock, Node, NodeConfig, NodeStats, PeerAddr, Role};
use marquee_live::segment::LiveSource;
use marquee_protocol::StoreClient;

const USAGE: &str = "usage:
  marquee-live broadcast <file.webm> [--key <seed file>] [--store URL [--title T]] [--listen <ip:port>] [--advertise <ip:port>] [--relay URL] [--seconds N] [--json] [--report-ms MS]
  marquee-live watch <channel-hex> (--store URL | --peer <node-hex>@<ip:port> [--peer ...]) [--listen <ip:port>] [--advertise <ip:port>] [--relay URL] [--seconds N] [--json] [--report-ms MS] [--upload-x X]
--store: the broadcaster signs in with MARQUEE_EMAIL and MARQUEE_PASSWORD from the environment
--listen defaults to 127.0.0.1:0 (loopback peers only); on a LAN use 0.0.0.0:<port>
--relay: an iroh relay server for peers behind NAT (default: the one the store names, if any)";

/// Options both commands take.
#[derive(Debug, Clone, PartialEq)]
struct Common {
    listen: SocketAddr,
    /// The address peers are told (default: `listen`, unless that is every interface).
    advertise: Option<SocketAddr>,
    /// The store whose directory lists the channel.
    store: Option<String>,
    /// The iroh relay server for peers behind NAT (default: the one the store names, if any).
    relay: Option<iroh::RelayUrl>,
    seconds: Option<u64>,
    json: bool,
    report_ms: u64,
}

/// What to do, parsed from the arguments.
#[derive(Debug, Clone, PartialEq)]
enum Cli {
    Broadcast {
        file: PathBuf,
        /// A file holding the channel's 32-byte secret seed in hex; made if missing. None: a new
        /// channel each run.
        key: Option<PathBuf>,
        /// The title listed in the store (default: the file's name).
        title: Option<String>,
        common: Common,
    },
    Watch {
        channel: [u8; 32],
        peers: Vec<PeerAddr>,
        upload_x: f64,
        common: Common,
    },
}

impl Cli {
    fn parse(args: impl IntoIterator<Item = String>) -> Result<Cli, String> {
        let mut args = args.into_iter();
        let command = args.next().ok_or("no command")?;
        let target = args.next().ok_or("missing argument")?;
        let mut common = Common {
            listen: "127.0.0.1:0".parse().expect("a valid address"),
            advertise: None,
            store: None,
            relay: None,
            seconds: None,
            json: false,
            report_ms: 2_000,
        };
        let mut key = None;
        let mut title = None;
        let mut peers = Vec::new();
        let mut upload_x = 1.5;
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or(format!("{flag} needs a value"));
            match flag.as_str() {
                "--listen" => {
                    common.listen = value()?.parse().map_err(|e| format!("--listen: {e}"))?
                }
                "--seconds" => {
                    common.seconds = Some(value()?.parse().map_err(|e| format!("--seconds: {e}"))?)
                }
                "--report-ms" => {
                    common.report_ms = value()?.parse().map_err(|e| format!("--report-ms: {e}"))?
                }
                "--json" => common.json = true,
                "--store" => common.store = Some(value()?),
                "--relay" => {
                    let v = value()?;
                    marquee_protocol::channels::check_relay_url(&v).map_err(|e| e.to_string())?;
                    common.relay = Some(v.parse().map_err(|e| format!("--relay: {e}"))?)
                }
                "--advertise" => {
                    common.advertise =
                        Some(value()?.parse().map_err(|e| format!("--advertise: {e}"))?)
                }
                "--title" if command == "broadcast" => title = Some(value()?),
                "--key" if command == "broadcast" => {
                    let v = value()?;
                    key = (v != "generate").then(|| PathBuf::from(v));
                }
                "--peer" if command == "watch" => {
                    peers.push(value()?.parse::<PeerAddr>().map_err(|e| e.to_string())?)
                }
                "--upload-x" if command == "watch" => {
                    upload_x = value()?.parse().map_err(|e| format!("--upload-x: {e}"))?
                }
                other => return Err(format!("unknown option {other}")),
            }
        }
        common.report_ms = common.report_ms.max(100);
        match command.as_str() {
            "broadcast" => Ok(Cli::Broadcast {
                file: target.into(),
                key,
                title,
                common,
            }),
            "watch" => {
                let channel = hex::decode(&target)
                    .ok()
                    .and_then(|v| v.try_into().ok())
                    .ok_or("the channel is 64 hex digits")?;
                if peers.is_empty() && common.store.is_none() {
                    return Err("watch needs --store, or at least one --peer".into());
                }
                Ok(Cli::Watch {
                    channel,
                    peers,
                    upload_x,
                    common,
                })
            }
            other => Err(format!("unknown command {other}")),
        }
    }
}

/// The channel's key: read from `path` (hex seed), or made and written there, or made afresh.
fn channel_key(path: Option<&PathBuf>) -> Result<SigningKey, String> {
    let fresh = || SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let Some(path) = path else {
        return Ok(fresh());
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let seed: [u8; 32] = hex::decode(text.trim())
                .ok()
                .and_then(|v| v.try_into().ok())
                .ok_or(format!("{}: not a 64-hex-digit seed", path.display()))?;
            Ok(SigningKey::from_bytes(&seed))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = fresh();
            std::fs::write(path, hex::encode(key.to_bytes()))
                .map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(key)
        }
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

fn print_stats(node: &Node, stats: &NodeStats, common: &Common, last: bool) {
    let report = stats.report(node.id(), last);
    let line = if common.json {
        serde_json::to_string(&report).expect("a report serialises")
    } else {
        format!(
            "played {} missed {} lag {} ms startup {} ms sent {} B refused {} neighbours {}",
            report.played,
            report.missed,
            report.lag_ms.map_or("-".into(), |v| v.to_string()),
            report.startup_ms.map_or("-".into(), |v| v.to_string()),
            report.bytes_sent,
            report.refused,
            report.neighbours
        )
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Resolves on SIGINT, SIGTERM (Unix) or after `seconds`.
async fn stopped(seconds: Option<u64>) {
    let timer = async {
        match seconds {
            Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
            None => std::future::pending().await,
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = timer => {}
        _ = term => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

// One thread: many viewers run side by side on one machine in the tests, and a viewer's work
// (a few dozen messages a second) needs no more.
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = match Cli::parse(std::env::args().skip(1)) {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("marquee-live: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(cli).await {
        eprintln!("marquee-live: {e}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let clock = Clock::new();
    match cli {
        Cli::Broadcast {
            file,
            key,
            title,
            common,
        } => {
            let key = channel_key(key.as_ref())?;
            let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let source =
                LiveSource::from_vec(bytes).map_err(|e| format!("{}: {e}", file.display()))?;
            let channel = key.verifying_key();
            let client = match &common.store {
                Some(url) => Some(signed_in(url).await?),
                None => None,
            };
            let mut config = NodeConfig::new(channel, Role::Broadcaster, common.listen);
            config.bitrate_bps = source.mean_bitrate_bps();
            config.relay_url = relay(&common, client.as_ref()).await?;
            let node = Node::start(config.clone(), clock)
                .await
                .map_err(|e| e.to_string())?;
            let addr = directory::advertised(&node, common.advertise).map_err(|e| e.to_string())?;
            let mut listed = match client {
                Some(client) => {
                    let listing = Listing {
                        title: title.unwrap_or_else(|| {
                            file.file_stem()
                                .map_or("Live".into(), |s| s.to_string_lossy().into_owned())
                        }),
                        poster: None,
                        price_cents: 0,
                        stripes: config.stripes,
                    };
                    let b = Broadcast::go_live(
                        client,
                        key.clone(),
                        &node,
                        addr,
                        &source,
                        config.bitrate_bps,
                        listing,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                    Some(b)
                }
                None => None,
            };
            println!(
                "channel {} node {} addr {addr}",
                hex::encode(channel.as_bytes()),
                hex::encode(node.id()),
            );
            let mut signer = ChannelSigner::new(key, 8 * 1024);
            let keep_listed = async {
                match &mut listed {
                    Some(b) => b.keep_listed().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = pace(&node, &source, &mut signer, clock) => {}
                _ = report_until_stopped(&node, &common) => {}
                _ = keep_listed => {}
            }
            if let Some(b) = listed {
                if let Err(e) = b.end().await {
                    eprintln!("marquee-live: ending the channel: {e}");
                }
            }
            node.shutdown().await;
        }
        Cli::Watch {
            channel,
            peers,
            upload_x,
            common,
        } => {
            let channel = VerifyingKey::from_bytes(&channel)
                .map_err(|_| "the channel is not an Ed25519 public key")?;
            let client = match &common.store {
                Some(url) => Some(StoreClient::new(url).map_err(|e| e.to_string())?),
                None => None,
            };
            let mut config = NodeConfig::new(channel, Role::Viewer { upload_x }, common.listen);
            config.peers = peers;
            config.relay_url = relay(&common, client.as_ref()).await?;
            // The node's key signs its reports to the directory.
            let node_key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
            config.secret_key = Some(node_key.to_bytes());
            let mut node = Node::start(config.clone(), clock)
                .await
                .map_err(|e| e.to_string())?;
            let addr = directory::advertised(&node, common.advertise).map_err(|e| e.to_string())?;
            println!("node {} addr {addr}", hex::encode(node.id()));
            // No player here: read the feed so it never fills.
            if let Some(mut player) = node.take_player() {
                tokio::spawn(async move { while player.recv().await.is_some() {} });
            }
            let mut membership = match client {
                Some(client) => {
                    let (m, _record) =
                        Membership::join(client, channel, config.stripes, &node, node_key, addr)
                            .await
                            .map_err(|e| e.to_string())?;
                    Some(m)
                }
                None => None,
            };
            let keep_reporting = async {
                match &mut membership {
                    Some(m) => m.keep_reporting(&node).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = report_until_stopped(&node, &common) => {}
                _ = keep_reporting => {
                    eprintln!("marquee-live: the channel ended");
                    print_stats(&node, &node.stats(), &common, true);
                }
            }
            node.shutdown().await;
        }
    }
    Ok(())
}

/// The relay server to start with: `--relay`, else the one the store names, else none.
async fn relay(
    common: &Common,
    client: Option<&StoreClient>,
) -> Result<Option<iroh::RelayUrl>, String> {
    match (&common.relay, client) {
        (Some(url), _) => Ok(Some(url.clone())),
        (None, Some(client)) => directory::store_relay(client)
            .await
            .map_err(|e| e.to_string()),
        (None, None) => Ok(None),
    }
}

/// A client of the store at `url`, signed in with `MARQUEE_EMAIL` and `MARQUEE_PASSWORD`.
async fn signed_in(url: &str) -> Result<StoreClient, String> {
    let var = |name: &str| {
        std::env::var(name)
            .map_err(|_| format!("--store needs the account to list the channel with: set {name}"))
    };
    let (email, password) = (var("MARQUEE_EMAIL")?, var("MARQUEE_PASSWORD")?);
    let client = StoreClient::new(url).map_err(|e| e.to_string())?;
    client
        .sign_in(&email, &password)
        .await
        .map_err(|e| format!("signing in to {url}: {e}"))?;
    Ok(client)
}

/// Prints figures every `report_ms` until stopped, then the last ones.
async fn report_until_stopped(node: &Node, common: &Common) {
    let stop = stopped(common.seconds);
    tokio::pin!(stop);
    let mut every = tokio::time::interval(Duration::from_millis(common.report_ms));
    every.tick().await;
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = every.tick() => print_stats(node, &node.stats(), common, false),
        }
    }
    print_stats(node, &node.stats(), common, true);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_both_commands() {
        let peer = format!("{}@127.0.0.1:7000", "cd".repeat(32));
        let cli = Cli::parse(args(&format!(
            "watch {} --peer {peer} --seconds 5 --json --upload-x 2",
            "ab".repeat(32)
        )))
        .unwrap();
        match cli {
            Cli::Watch {
                channel,
                peers,
                upload_x,
                common,
            } => {
                assert_eq!(channel, [0xab; 32]);
                assert_eq!(peers.len(), 1);
                assert_eq!(upload_x, 2.0);
                assert_eq!(common.seconds, Some(5));
                assert!(common.json);
            }
            other => panic!("{other:?}"),
        }
        let cli = Cli::parse(args("broadcast a.webm --key generate --listen 127.0.0.1:9")).unwrap();
        assert!(matches!(cli, Cli::Broadcast { key: None, .. }));
        let cli = Cli::parse(args(
            "broadcast a.webm --store http://127.0.0.1:8640 --relay https://relay.example.com",
        ))
        .unwrap();
        let Cli::Broadcast { common, .. } = cli else {
            panic!("{cli:?}")
        };
        assert_eq!(
            common.relay.map(|u| u.to_string()),
            Some("https://relay.example.com/".into())
        );
    }

    #[test]
    fn refuses_bad_arguments() {
        for bad in [
            "",
            "watch",
            "watch abcd --peer x",
            &format!("watch {}", "ab".repeat(32)),
            &format!("watch {} --advertise nowhere", "ab".repeat(32)),
            "broadcast a.webm --relay ftp://relay.example.com",
            "broadcast a.webm --relay relay.example.com",
            "broadcast a.webm --peer x",
            "broadcast a.webm --seconds",
            "fly a.webm",
        ] {
            assert!(Cli::parse(args(bad)).is_err(), "{bad}");
        }
    }
}

//! `marquee-live`: a live channel's broadcaster or viewer without the window, so tests and
//! benchmarks can run many real viewers as processes. A thin command line over
//! [`marquee_live::net`]: arguments are parsed into [`Cli`], everything else is the library's.
//!
//! ```text
//! marquee-live broadcast <file.webm> [--key <seed file>] [--listen 127.0.0.1:0] [--seconds N] [--json] [--report-ms MS]
//! marquee-live watch <channel-hex> --peer <node-hex>@<ip:port> [--peer ...] [--listen 127.0.0.1:0]
//!                    [--seconds N] [--json] [--report-ms MS] [--upload-x X]
//! ```
//!
//! `--listen` defaults to `127.0.0.1:0`: a node on loopback talks to loopback peers only. On a
//! LAN, or across the internet with direct addresses, listen on `0.0.0.0:<port>` (or the
//! machine's address): peers learn the address they reached it at.
//!
//! `broadcast` prints `channel <channel-hex> node <node-hex> addr <ip:port>` on its first line;
//! `watch` prints `node <node-hex> addr <ip:port>`. Both then print their figures every
//! `--report-ms` (default 2000) and once more on exit, as JSON lines with `--json`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ed25519_dalek::{SigningKey, VerifyingKey};
use marquee_live::chunk::ChannelSigner;
use marquee_live::net::{pace, Clock, Node, NodeConfig, NodeStats, PeerAddr, Role};
use marquee_live::segment::LiveSource;

const USAGE: &str = "usage:
  marquee-live broadcast <file.webm> [--key <seed file>] [--listen <ip:port>] [--seconds N] [--json] [--report-ms MS]
  marquee-live watch <channel-hex> --peer <node-hex>@<ip:port> [--peer ...] [--listen <ip:port>] [--seconds N] [--json] [--report-ms MS] [--upload-x X]
--listen defaults to 127.0.0.1:0 (loopback peers only); on a LAN use 0.0.0.0:<port>";

/// Options both commands take.
#[derive(Debug, Clone, PartialEq)]
struct Common {
    listen: SocketAddr,
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
            seconds: None,
            json: false,
            report_ms: 2_000,
        };
        let mut key = None;
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
                common,
            }),
            "watch" => {
                let channel = hex::decode(&target)
                    .ok()
                    .and_then(|v| v.try_into().ok())
                    .ok_or("the channel is 64 hex digits")?;
                if peers.is_empty() {
                    return Err("watch needs at least one --peer".into());
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
        Cli::Broadcast { file, key, common } => {
            let key = channel_key(key.as_ref())?;
            let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let source =
                LiveSource::from_vec(bytes).map_err(|e| format!("{}: {e}", file.display()))?;
            let channel = key.verifying_key();
            let mut config = NodeConfig::new(channel, Role::Broadcaster, common.listen);
            config.bitrate_bps = bitrate(&source);
            let node = Node::start(config, clock)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "channel {} node {} addr {}",
                hex::encode(channel.as_bytes()),
                hex::encode(node.id()),
                node.addr()
            );
            let mut signer = ChannelSigner::new(key, 8 * 1024);
            tokio::select! {
                _ = pace(&node, &source, &mut signer, clock) => {}
                _ = report_until_stopped(&node, &common) => {}
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
            let mut config = NodeConfig::new(channel, Role::Viewer { upload_x }, common.listen);
            config.peers = peers;
            let mut node = Node::start(config, clock)
                .await
                .map_err(|e| e.to_string())?;
            println!("node {} addr {}", hex::encode(node.id()), node.addr());
            // No player here: read the feed so it never fills.
            if let Some(mut player) = node.take_player() {
                tokio::spawn(async move { while player.recv().await.is_some() {} });
            }
            report_until_stopped(&node, &common).await;
            node.shutdown().await;
        }
    }
    Ok(())
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

/// The file's mean bitrate, bits per second.
fn bitrate(source: &LiveSource) -> u64 {
    let period_ms = source.duration_ms().max(1);
    let bytes: u64 = source
        .segments(0)
        .take_while(|s| s.start_ms < period_ms)
        .map(|s| s.bytes.len() as u64)
        .sum();
    bytes * 8 * 1000 / period_ms
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
    }

    #[test]
    fn refuses_bad_arguments() {
        for bad in [
            "",
            "watch",
            "watch abcd --peer x",
            &format!("watch {}", "ab".repeat(32)),
            "broadcast a.webm --peer x",
            "broadcast a.webm --seconds",
            "fly a.webm",
        ] {
            assert!(Cli::parse(args(bad)).is_err(), "{bad}");
        }
    }
}

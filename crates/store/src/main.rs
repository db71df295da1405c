//! `marquee-store`: the store as its own process.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context};
use marquee_store::{Store, StoreConfig};

const HELP: &str = "\
marquee-store: the Marquee store server (catalog, wallet, orders, licences, tracker, seeder)

USAGE:
    marquee-store serve [OPTIONS]

OPTIONS:
    --data <DIR>          where the store keeps its database and packages [default: ./store-data]
    --listen <ADDR>       HTTP API address [default: 127.0.0.1:8640]
    --peer-listen <ADDR>  BitTorrent seeder address [default: 127.0.0.1:0]
    --demo <DIR>          package and sell the demo catalog in DIR (catalog.json + media/)
    --name <NAME>         the store's display name
    -h, --help            print this help
";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,librqbit=warn".into()),
        )
        .init();
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("serve") => {}
        Some("-h" | "--help") | None => {
            print!("{HELP}");
            return Ok(());
        }
        Some(other) => bail!("unknown command {other:?}\n\n{HELP}"),
    }
    let mut config = StoreConfig::loopback("store-data", None);
    config.http_addr = SocketAddr::from(([127, 0, 0, 1], 8640));
    config.name = "Marquee Store".to_owned();
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--data" => config.data_dir = PathBuf::from(value()?),
            "--listen" => config.http_addr = value()?.parse().context("--listen")?,
            "--peer-listen" => config.peer_addr = value()?.parse().context("--peer-listen")?,
            "--demo" => config.demo_dir = Some(PathBuf::from(value()?)),
            "--name" => config.name = value()?,
            "-h" | "--help" => {
                print!("{HELP}");
                return Ok(());
            }
            other => bail!("unknown option {other:?}\n\n{HELP}"),
        }
    }
    let store = Store::start(config).await?;
    // Tests and scripts read this line to learn the address when --listen used port 0.
    println!("marquee-store listening on {}", store.url());
    tokio::signal::ctrl_c().await?;
    store.shutdown().await;
    Ok(())
}

//! The `marquee-store` command line: parsing, configuration (file, environment, flags) and
//! the sub-commands. `main.rs` only calls [`run`].
//!
//! Every setting can come from three places; the first that has it wins:
//! 1. a flag (`--listen 0.0.0.0:8640`),
//! 2. an environment variable (`MARQUEE_STORE_LISTEN=0.0.0.0:8640`),
//! 3. the TOML file named by `--config` / `MARQUEE_STORE_CONFIG` (`listen = "0.0.0.0:8640"`).
//!
//! ```toml
//! # marquee-store.toml
//! data_dir = "/var/lib/marquee-store"
//! database_url = "postgres://marquee:secret@localhost/marquee"   # default: SQLite in data_dir
//! listen = "0.0.0.0:8640"
//! peer_listen = "0.0.0.0:6881"
//! public_url = "https://store.example.com"  # where viewers reach it; its tracker is URL/announce
//! trackers = ["udp://tracker.example.org:6969/announce"]  # listed after the store's own
//! live_relay = "https://relay.example.com"  # an iroh-relay for live viewers behind NAT
//! live_channels = false                     # titles only: no live channel directory
//! trusted_proxies = ["127.0.0.1", "10.0.0.0/8"]  # whose X-Forwarded-For is believed
//! name = "Example Store"
//! device_limit = 5
//! session_ttl_s = 2592000
//! rescan_interval_s = 5
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use rand::Rng;
use serde::Deserialize;

use marquee_protocol::sign::{public_key_from_hex, verify, SignatureContext};
use marquee_protocol::StoreClient;

use crate::api::OfferKind;
use crate::error::parse_cents;
use crate::package::CatalogEntry;
use crate::{db, Store, StoreConfig};

/// The Marquee store server: catalog feed, accounts, wallet, orders, licences, packaging,
/// an HTTP tracker and a seeder.
///
/// Settings come from flags, then MARQUEE_STORE_* environment variables, then the TOML file
/// given with --config (in that order of precedence).
///
/// A first store in three commands:
///
///   marquee-store package film.webm --title "My Film" --kind film --price 3.00
///
///   marquee-store voucher create --value 10.00
///
///   marquee-store serve --listen 0.0.0.0:8640
#[derive(Debug, Parser)]
#[command(name = "marquee-store", version, verbatim_doc_comment)]
pub struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

/// Settings every sub-command shares.
#[derive(Debug, Args)]
struct Common {
    /// A TOML configuration file.
    #[arg(long, global = true, env = "MARQUEE_STORE_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where the store keeps its database (unless --database-url) and packaged titles
    /// [default: ./store-data].
    #[arg(
        long = "data",
        global = true,
        env = "MARQUEE_STORE_DATA_DIR",
        value_name = "DIR"
    )]
    data_dir: Option<PathBuf>,
    /// The database: sqlite://PATH or postgres://USER:PASSWORD@HOST/DB
    /// [default: SQLite file store.db in the data folder].
    #[arg(
        long,
        global = true,
        env = "MARQUEE_STORE_DATABASE_URL",
        value_name = "URL"
    )]
    database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API, the tracker and the seeder until Ctrl-C.
    ///
    /// Titles that `marquee-store package` registers in the same database while the server runs
    /// are listed and seeded within --rescan seconds.
    Serve(ServeArgs),
    /// Package a video: encrypt it (paid titles), make its torrent and register the title.
    ///
    /// A running `serve` on the same data folder lists and seeds it within its rescan interval;
    /// otherwise the next `serve` does.
    Package(PackageArgs),
    /// Run a seeding-only node: fetch the store's torrents from its seeder and keep seeding
    /// them, announcing to the store's tracker so that viewers find this node too.
    Seed(SeedArgs),
    /// Wallet vouchers.
    #[command(subcommand)]
    Voucher(VoucherCommand),
    /// The catalog.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Print the passkey the operator's seed nodes announce with (`seed --passkey`): with it a
    /// node joins the private swarms of paid titles, which viewers join with their accounts'.
    /// A secret: anyone holding it is told who watches every paid title.
    Passkey,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address of the HTTP API [default: 127.0.0.1:8640].
    #[arg(long, env = "MARQUEE_STORE_LISTEN", value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Address the seeder accepts peers on [default: 127.0.0.1:0, a free port].
    #[arg(long, env = "MARQUEE_STORE_PEER_LISTEN", value_name = "ADDR")]
    peer_listen: Option<SocketAddr>,
    /// Package and sell the demo catalog in DIR (catalog.json and media/), and create the demo
    /// account.
    #[arg(long = "demo", env = "MARQUEE_STORE_DEMO_DIR", value_name = "DIR")]
    demo_dir: Option<PathBuf>,
    /// The store's display name [default: Marquee Store].
    #[arg(long, env = "MARQUEE_STORE_NAME")]
    name: Option<String>,
    /// How many active computers an account may have [default: 5].
    #[arg(long, env = "MARQUEE_STORE_DEVICE_LIMIT", value_name = "N")]
    device_limit: Option<u32>,
    /// How long a sign-in lasts, seconds [default: 2592000, 30 days].
    #[arg(
        long = "session-ttl",
        env = "MARQUEE_STORE_SESSION_TTL_S",
        value_name = "SECONDS"
    )]
    session_ttl_s: Option<i64>,
    /// How often to look for newly packaged titles, seconds; 0 never [default: 5].
    #[arg(
        long = "rescan",
        env = "MARQUEE_STORE_RESCAN_INTERVAL_S",
        value_name = "SECONDS"
    )]
    rescan_interval_s: Option<u64>,
    /// The address viewers reach this store at, e.g. https://store.example.com, when it is not
    /// http://LISTEN (behind a proxy, or listening on 0.0.0.0): torrents and peer lists name
    /// its tracker as URL/announce [default: http:// and the --listen address].
    #[arg(long, env = "MARQUEE_STORE_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// A further tracker for every torrent the store serves, listed after the store's own
    /// (repeat the flag, or separate with commas): a store that outgrows its own tracker points
    /// viewers at an established one.
    #[arg(
        long = "tracker",
        env = "MARQUEE_STORE_TRACKERS",
        value_name = "URL",
        value_delimiter = ','
    )]
    trackers: Vec<String>,
    /// The iroh relay server (`iroh-relay`) this store's live channels use to reach viewers
    /// behind NAT: broadcasters and viewers read it from the channel directory. Off unless
    /// given: without it, live peers connect by their direct addresses only.
    #[arg(long, env = "MARQUEE_STORE_LIVE_RELAY", value_name = "URL")]
    live_relay: Option<String>,
    /// Sell titles only: no directory of live channels (its routes answer 404, and the app
    /// says this store carries no live channels).
    #[arg(long, env = "MARQUEE_STORE_NO_LIVE_CHANNELS")]
    no_live_channels: bool,
    /// A reverse proxy of yours, by address or network (10.0.0.5, 10.0.0.0/8; repeat the flag,
    /// or separate with commas): only from these is X-Forwarded-For believed, for rate limits
    /// and the peers the tracker hands out. Without it every client is its connection's address.
    #[arg(
        long = "trusted-proxy",
        env = "MARQUEE_STORE_TRUSTED_PROXIES",
        value_name = "ADDR",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<String>,
}

#[derive(Debug, Args)]
struct PackageArgs {
    /// The video file (WebM or MP4 with its index at the front, so it streams).
    video: PathBuf,
    /// Display name.
    #[arg(long)]
    title: String,
    /// film, episode, music_video, game or community_video.
    #[arg(long)]
    kind: String,
    /// Price, e.g. 4.00 (0 for a free title).
    #[arg(long)]
    price: String,
    /// rent, buy or free [default: free for price 0, rent for films, buy otherwise].
    #[arg(long)]
    offer: Option<String>,
    /// Stable id [default: made from the title, e.g. "my-film"].
    #[arg(long)]
    id: Option<String>,
    /// Poster image (JPEG, PNG or WebP), copied into the store's media folder.
    #[arg(long)]
    poster: Option<PathBuf>,
    /// A few sentences about the title.
    #[arg(long, default_value = "")]
    synopsis: String,
    /// Release year [default: this year].
    #[arg(long)]
    year: Option<i32>,
    /// Genre.
    #[arg(long, default_value = "")]
    genre: String,
    /// Studio or creator.
    #[arg(long, default_value = "")]
    studio: String,
    /// Performing artist, for music videos.
    #[arg(long)]
    artist: Option<String>,
    /// Running time, seconds.
    #[arg(long, default_value_t = 0)]
    runtime: u32,
    /// Video width in pixels.
    #[arg(long, default_value_t = 1280)]
    width: u32,
    /// Video height in pixels.
    #[arg(long, default_value_t = 720)]
    height: u32,
    /// Mark as a new release.
    #[arg(long)]
    new_release: bool,
    /// The licence others get, for free titles ("CC BY 4.0").
    #[arg(long)]
    licence_to_share: Option<String>,
}

#[derive(Debug, Args)]
struct SeedArgs {
    /// The store to seed for, e.g. http://store.example.com:8640
    #[arg(long, env = "MARQUEE_STORE_URL", value_name = "URL")]
    store: String,
    /// Address to accept peers on [default: 0.0.0.0:0, a free port].
    #[arg(long, env = "MARQUEE_STORE_PEER_LISTEN", value_name = "ADDR")]
    peer_listen: Option<SocketAddr>,
    /// Seed only these title ids (comma-separated) [default: every title for sale].
    #[arg(long, value_delimiter = ',')]
    titles: Vec<String>,
    /// The store's operator passkey (`marquee-store passkey` on the store's data): without it
    /// the node finds the swarms of free titles only, since a paid title's is private.
    #[arg(
        long,
        env = "MARQUEE_STORE_SEED_PASSKEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    passkey: Option<String>,
}

#[derive(Debug, Subcommand)]
enum VoucherCommand {
    /// Create vouchers and print their codes (the store keeps only a hash of each).
    Create {
        /// What each voucher adds to a wallet, e.g. 10.00
        #[arg(long)]
        value: String,
        /// How many.
        #[arg(long, default_value_t = 1)]
        count: u32,
    },
}

#[derive(Debug, Subcommand)]
enum CatalogCommand {
    /// Add a synthetic catalog (films, series, music videos, games; SD and HD) for scale tests.
    /// Its titles have no video, so they are listed as not for sale.
    Generate {
        /// How many titles.
        #[arg(long, default_value_t = 5000)]
        count: usize,
    },
}

/// The configuration file's settings; all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    listen: Option<SocketAddr>,
    peer_listen: Option<SocketAddr>,
    demo_dir: Option<PathBuf>,
    name: Option<String>,
    device_limit: Option<u32>,
    session_ttl_s: Option<i64>,
    rescan_interval_s: Option<u64>,
    public_url: Option<String>,
    trackers: Option<Vec<String>>,
    live_relay: Option<String>,
    live_channels: Option<bool>,
    trusted_proxies: Option<Vec<String>>,
}

fn read_file_config(path: Option<&Path>) -> anyhow::Result<FileConfig> {
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// Flags and environment first (clap resolved those), then the file, then the default.
fn store_config(common: &Common, serve: Option<&ServeArgs>) -> anyhow::Result<StoreConfig> {
    let file = read_file_config(common.config.as_deref())?;
    let data_dir = common
        .data_dir
        .clone()
        .or(file.data_dir)
        .unwrap_or_else(|| PathBuf::from("store-data"));
    let mut c = StoreConfig::loopback(data_dir, None);
    c.database_url = common.database_url.clone().or(file.database_url);
    c.http_addr = serve
        .and_then(|s| s.listen)
        .or(file.listen)
        .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8640)));
    if let Some(peer) = serve.and_then(|s| s.peer_listen).or(file.peer_listen) {
        c.peer_addr = peer;
    }
    c.demo_dir = serve.and_then(|s| s.demo_dir.clone()).or(file.demo_dir);
    c.name = serve
        .and_then(|s| s.name.clone())
        .or(file.name)
        .unwrap_or_else(|| "Marquee Store".to_owned());
    c.device_limit = serve
        .and_then(|s| s.device_limit)
        .or(file.device_limit)
        .unwrap_or(crate::DEFAULT_DEVICE_LIMIT);
    c.session_ttl_s = serve
        .and_then(|s| s.session_ttl_s)
        .or(file.session_ttl_s)
        .unwrap_or(crate::DEFAULT_SESSION_TTL_S);
    let rescan = serve
        .and_then(|s| s.rescan_interval_s)
        .or(file.rescan_interval_s)
        .unwrap_or(5);
    c.rescan_interval = (rescan > 0).then(|| Duration::from_secs(rescan));
    if c.device_limit == 0 {
        bail!("device_limit must be at least 1");
    }
    if c.session_ttl_s <= 0 {
        bail!("session_ttl_s must be positive");
    }
    c.public_url = serve.and_then(|s| s.public_url.clone()).or(file.public_url);
    if let Some(url) = &c.public_url {
        let ok = url.starts_with("http://") || url.starts_with("https://");
        marquee_protocol::trackers::check_tracker_url(url)
            .ok()
            .filter(|()| ok)
            .with_context(|| {
                format!("public_url {url:?} must be an http:// or https:// address with a host")
            })?;
    }
    c.trackers = match serve.map(|s| &s.trackers) {
        Some(flags) if !flags.is_empty() => flags.clone(),
        _ => file.trackers.unwrap_or_default(),
    };
    for url in &c.trackers {
        marquee_protocol::trackers::check_tracker_url(url)?;
    }
    c.live_relay = serve.and_then(|s| s.live_relay.clone()).or(file.live_relay);
    c.live_channels =
        !serve.is_some_and(|s| s.no_live_channels) && file.live_channels != Some(false);
    if let Some(url) = &c.live_relay {
        marquee_protocol::channels::check_relay_url(url)?;
    }
    let proxies = match serve.map(|s| &s.trusted_proxies) {
        Some(flags) if !flags.is_empty() => flags.clone(),
        _ => file.trusted_proxies.unwrap_or_default(),
    };
    c.trusted_proxies = crate::TrustedProxies::parse(&proxies).map_err(anyhow::Error::msg)?;
    // On loopback, only the store's own names are answered (a web page reaching 127.0.0.1
    // under a name of its own is refused); on a network, any name its operator gives it.
    c.loopback_hosts_only = c.http_addr.ip().is_loopback();
    if c.demo_dir.is_some() && serve.is_some() && !c.http_addr.ip().is_loopback() {
        bail!(
            "--demo creates the account {} with the password {:?}, so it serves only on a loopback address (127.0.0.1 or [::1]), not {}: package your titles with `marquee-store package` to sell on a network",
            crate::DEMO_EMAIL,
            crate::DEMO_PASSWORD,
            c.http_addr
        );
    }
    // A secret: from the environment only, never a flag (flags show in process lists).
    c.operator_token = std::env::var("MARQUEE_STORE_OPERATOR_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty());
    Ok(c)
}

/// Runs one command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Serve(args) => serve(store_config(&cli.common, Some(args))?).await,
        Command::Package(args) => package(&store_config(&cli.common, None)?, args).await,
        Command::Seed(args) => seed(&store_config(&cli.common, None)?, args).await,
        Command::Voucher(VoucherCommand::Create { value, count }) => {
            let cents = parse_cents(value)
                .filter(|c| *c > 0)
                .with_context(|| format!("--value {value:?} is not an amount such as 10.00"))?;
            let codes = create_vouchers(&store_config(&cli.common, None)?, cents, *count).await?;
            // The codes go to standard output only, never to the log.
            for code in codes {
                println!("{code}");
            }
            Ok(())
        }
        Command::Passkey => {
            // To standard output only, never to the log.
            println!(
                "{}",
                operator_passkey(&store_config(&cli.common, None)?).await?
            );
            Ok(())
        }
        Command::Catalog(CatalogCommand::Generate { count }) => {
            let config = store_config(&cli.common, None)?;
            let started = std::time::Instant::now();
            let version = generate_catalog(&config, *count).await?;
            println!(
                "added {count} synthetic titles in {:.1} s; catalog version {version}",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

async fn serve(config: StoreConfig) -> anyhow::Result<()> {
    let store = Store::start(config).await?;
    // Tests and scripts read this line to learn the address when --listen used port 0.
    println!("marquee-store listening on {}", store.url());
    tokio::signal::ctrl_c().await?;
    store.shutdown().await;
    Ok(())
}

/// An id made from a display name: "The Quiet Orchard!" becomes "the-quiet-orchard".
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

fn mime_of(path: &Path) -> anyhow::Result<&'static str> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    marquee_protocol::api::mime_of(&name).with_context(|| {
        format!(
            "{} is not a video Marquee can stream: use a .webm or .mp4 file",
            path.display()
        )
    })
}

async fn package(config: &StoreConfig, args: &PackageArgs) -> anyhow::Result<()> {
    if !args.video.is_file() {
        bail!("{} is not a file", args.video.display());
    }
    let mime = mime_of(&args.video)?;
    let price = parse_cents(&args.price)
        .with_context(|| format!("--price {:?} is not an amount such as 4.00", args.price))?;
    let offer = match args.offer.as_deref() {
        Some("rent") => OfferKind::Rent,
        Some("buy") => OfferKind::Buy,
        Some("free") => OfferKind::Free,
        Some(other) => bail!("--offer must be rent, buy or free, not {other:?}"),
        None if price == 0 => OfferKind::Free,
        None if args.kind == "film" => OfferKind::Rent,
        None => OfferKind::Buy,
    };
    if offer != OfferKind::Free && price == 0 {
        bail!("a {} title needs a --price above 0", offer.as_str());
    }
    let known_kinds = ["film", "episode", "music_video", "game", "community_video"];
    if !known_kinds.contains(&args.kind.as_str()) {
        bail!("--kind must be one of {}", known_kinds.join(", "));
    }
    let id = args.id.clone().unwrap_or_else(|| slug(&args.title));
    if id.is_empty() || id.len() > 200 {
        bail!("the title id must be 1 to 200 characters; give one with --id");
    }
    config.prepare_data_dir()?;
    let media_dir = config.data_dir.join("media");
    std::fs::create_dir_all(&media_dir)?;
    let poster = match &args.poster {
        Some(p) => {
            let ext = p
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .filter(|e| ["jpg", "jpeg", "png", "webp"].contains(&e.as_str()))
                .with_context(|| format!("{} is not a JPEG, PNG or WebP", p.display()))?;
            let name = format!("{id}.{ext}");
            std::fs::copy(p, media_dir.join(&name))
                .with_context(|| format!("copying {}", p.display()))?;
            name
        }
        None => String::new(),
    };
    let entry = CatalogEntry {
        id: id.clone(),
        kind: args.kind.clone(),
        name: args.title.clone(),
        synopsis: args.synopsis.clone(),
        year: args.year.unwrap_or(2026),
        runtime_s: args.runtime,
        genre: args.genre.clone(),
        studio: args.studio.clone(),
        new_release: args.new_release,
        offer,
        price_cents: price,
        series: None,
        artist: args.artist.clone(),
        media: String::new(),
        mime: mime.to_owned(),
        poster,
        backdrop: None,
        width: args.width,
        height: args.height,
        licence_to_share: args.licence_to_share.clone(),
        variant: None,
        work: None,
    };
    let db = db::open(&config.database_url()).await?;
    let packages = config.data_dir.join("packages");
    std::fs::create_dir_all(&packages)?;
    let feed = crate::package::package(&db, &entry, &args.video, &packages).await?;
    println!(
        "packaged {id}: {} bytes, info hash {}, {}",
        feed.size_bytes,
        feed.info_hash,
        if feed.encrypted {
            "encrypted"
        } else {
            "clear (free)"
        }
    );
    Ok(())
}

/// The characters of voucher codes: no 0/O, 1/I/L, so a code read aloud or typed is unambiguous.
const VOUCHER_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

fn new_voucher_code() -> String {
    let mut rng = rand::rngs::OsRng;
    // 16 characters of a 31-letter alphabet: about 79 bits, not guessable.
    (0..4)
        .map(|_| {
            (0..4)
                .map(|_| VOUCHER_ALPHABET[rng.gen_range(0..VOUCHER_ALPHABET.len())] as char)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Creates `count` vouchers worth `value_cents` each; returns their codes (not kept anywhere).
pub async fn create_vouchers(
    config: &StoreConfig,
    value_cents: i64,
    count: u32,
) -> anyhow::Result<Vec<String>> {
    config.prepare_data_dir()?;
    let db = db::open(&config.database_url()).await?;
    let codes: Vec<String> = (0..count).map(|_| new_voucher_code()).collect();
    db::wallet::create_vouchers(&db, &codes, value_cents, config.clock.now()).await?;
    Ok(codes)
}

/// The passkey the operator's seed nodes announce with: any title's swarm takes it.
pub async fn operator_passkey(config: &StoreConfig) -> anyhow::Result<String> {
    config.prepare_data_dir()?;
    let db = db::open(&config.database_url()).await?;
    let key = db::signing_key(&db).await?;
    Ok(crate::tracker::Passkeys::new(&key.to_bytes()).of(crate::tracker::OPERATOR))
}

/// Adds `count` synthetic titles (see [`crate::generate`]); returns the catalog version.
pub async fn generate_catalog(config: &StoreConfig, count: usize) -> anyhow::Result<i64> {
    config.prepare_data_dir()?;
    let db = db::open(&config.database_url()).await?;
    let titles = crate::generate::synthetic_catalog(count);
    let mut version = 0;
    // One transaction per batch: fast, and a crash leaves whole batches.
    for chunk in titles.chunks(5000) {
        let rows: Vec<db::catalog::NewTitle<'_>> = chunk
            .iter()
            .map(|feed| db::catalog::NewTitle {
                feed,
                media_path: "",
                package_path: "",
                content_key: None,
                key_commitment: None,
                torrent: &[],
            })
            .collect();
        version = db::catalog::upsert_titles(&db, &rows).await?;
    }
    Ok(version)
}

async fn seed(config: &StoreConfig, args: &SeedArgs) -> anyhow::Result<()> {
    use librqbit::{AddTorrent, AddTorrentOptions, Session};

    let store = StoreClient::new(&args.store)?;
    let base = store.base().to_owned();
    let info = store.store_info().await?;
    let signed = store.catalog().await?;
    let key = public_key_from_hex(&info.public_key).context("the store's key")?;
    verify(
        &key,
        SignatureContext::Feed,
        signed.feed.as_bytes(),
        &signed.signature,
    )
    .context("the store's catalog is not signed by the store")?;
    let feed: crate::api::CatalogFeed =
        serde_json::from_str(&signed.feed).context("the store's catalog does not parse")?;

    let out = config.data_dir.join("seed");
    std::fs::create_dir_all(&out)?;
    let session = Session::new_with_opts(
        out.clone(),
        marquee_protocol::swarm::session_options(
            args.peer_listen
                .unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0))),
        )?,
    )
    .await
    .context("starting the seeder")?;
    // The operator's passkey opens paid titles' private swarms to this node.
    let announce = match &args.passkey {
        Some(key) => format!("{base}/announce/{}", key.trim()),
        None => format!("{base}/announce"),
    };
    let mut seeding = 0;
    for t in feed
        .titles
        .iter()
        .filter(|t| t.for_sale && !t.info_hash.is_empty())
    {
        if !args.titles.is_empty() && !args.titles.contains(&t.id) {
            continue;
        }
        let torrent = store.torrent(&t.id).await?;
        // Peer lists are for signed-in accounts; the node finds the store's seeder and the
        // viewers through the tracker instead.
        let peers = store
            .peers(&t.id)
            .await
            .map(|p| p.peers)
            .unwrap_or_default();
        session
            .add_torrent(
                AddTorrent::from_bytes(torrent),
                Some(AddTorrentOptions {
                    output_folder: Some(out.to_string_lossy().into_owned()),
                    overwrite: true,
                    trackers: Some(vec![announce.clone()]),
                    initial_peers: Some(peers.iter().filter_map(|p| p.parse().ok()).collect()),
                    ..Default::default()
                }),
            )
            .await
            .with_context(|| format!("adding {}", t.id))?;
        seeding += 1;
    }
    println!(
        "seeding {seeding} titles for {base} from {} (peers: {:?})",
        out.display(),
        session.listen_addr()
    );
    tokio::signal::ctrl_c().await?;
    session.stop().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_demo_account_is_refused_off_loopback_and_proxies_are_parsed() {
        let config = |args: &[&str]| {
            let cli = Cli::try_parse_from(
                ["marquee-store", "--data", "unused", "serve"]
                    .iter()
                    .chain(args),
            )
            .unwrap();
            let Command::Serve(serve) = &cli.command else {
                panic!()
            };
            store_config(&cli.common, Some(serve))
        };
        let e = config(&["--listen", "0.0.0.0:8640", "--demo", "demo"]).unwrap_err();
        let e = format!("{e:#}");
        assert!(e.contains("only on a loopback address"), "{e}");
        let c = config(&["--listen", "[::1]:8640", "--demo", "demo"]).unwrap();
        assert!(c.loopback_hosts_only, "on loopback, only its own names");
        let c = config(&["--listen", "0.0.0.0:8640"]).unwrap();
        assert!(!c.loopback_hosts_only, "on a network, any name");
        assert!(c.trusted_proxies.is_empty());
        let c = config(&[
            "--trusted-proxy",
            "10.0.0.0/8,::1",
            "--trusted-proxy",
            "192.0.2.1",
        ])
        .unwrap();
        assert_eq!(
            c.trusted_proxies,
            crate::TrustedProxies::parse(&["10.0.0.0/8", "::1", "192.0.2.1"]).unwrap()
        );
        let e = format!(
            "{:#}",
            config(&["--trusted-proxy", "proxy.lan"]).unwrap_err()
        );
        assert!(e.contains("\"proxy.lan\" is neither an address"), "{e}");
    }

    #[test]
    fn flags_beat_environment_beat_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("store.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:1111\"\nname = \"From file\"\ndevice_limit = 3\n",
        )
        .unwrap();
        let cli = Cli::try_parse_from([
            "marquee-store",
            "--config",
            file.to_str().unwrap(),
            "serve",
            "--listen",
            "127.0.0.1:2222",
        ])
        .unwrap();
        let Command::Serve(args) = &cli.command else {
            panic!()
        };
        let c = store_config(&cli.common, Some(args)).unwrap();
        assert_eq!(c.http_addr.port(), 2222, "the flag wins over the file");
        assert_eq!(c.name, "From file");
        // No other test reads this variable.
        std::env::set_var("MARQUEE_STORE_NAME", "From env");
        let cli_env =
            Cli::try_parse_from(["marquee-store", "--config", file.to_str().unwrap(), "serve"])
                .unwrap();
        std::env::remove_var("MARQUEE_STORE_NAME");
        let Command::Serve(env_args) = &cli_env.command else {
            panic!()
        };
        let c_env = store_config(&cli_env.common, Some(env_args)).unwrap();
        assert_eq!(c_env.name, "From env", "the environment wins over the file");
        assert_eq!(c_env.http_addr.port(), 1111);
        assert_eq!(c.device_limit, 3);
        assert_eq!(c.rescan_interval, Some(Duration::from_secs(5)));

        assert_eq!(c.public_url, None);
        assert!(c.trackers.is_empty());

        // Further trackers: the flags (repeated) win over the file's list; each is checked.
        std::fs::write(
            &file,
            "public_url = \"https://store.example.com/\"\ntrackers = [\"udp://file.example:6969\"]\n",
        )
        .unwrap();
        let from_file =
            Cli::try_parse_from(["marquee-store", "--config", file.to_str().unwrap(), "serve"])
                .unwrap();
        let Command::Serve(file_args) = &from_file.command else {
            panic!()
        };
        let c = store_config(&from_file.common, Some(file_args)).unwrap();
        assert_eq!(c.public_url.as_deref(), Some("https://store.example.com/"));
        assert_eq!(c.trackers, ["udp://file.example:6969"]);
        let flagged = Cli::try_parse_from([
            "marquee-store",
            "--config",
            file.to_str().unwrap(),
            "serve",
            "--tracker",
            "udp://a.example:6969/announce",
            "--tracker",
            "https://b.example/announce",
        ])
        .unwrap();
        let Command::Serve(flag_args) = &flagged.command else {
            panic!()
        };
        let c = store_config(&flagged.common, Some(flag_args)).unwrap();
        assert_eq!(
            c.trackers,
            [
                "udp://a.example:6969/announce",
                "https://b.example/announce"
            ]
        );
        let bad = Cli::try_parse_from(["marquee-store", "serve", "--tracker", "ftp://x.example"])
            .unwrap();
        let Command::Serve(bad_args) = &bad.command else {
            panic!()
        };
        let e = store_config(&bad.common, Some(bad_args)).unwrap_err();
        assert_eq!(
            format!("{e:#}"),
            "\"ftp://x.example\" cannot be a tracker address: it must start with http://, https:// or udp://"
        );

        // The live relay: off unless given; checked like the clients will read it.
        assert_eq!(c.live_relay, None);
        let relayed = Cli::try_parse_from([
            "marquee-store",
            "serve",
            "--live-relay",
            "https://relay.example.com",
        ])
        .unwrap();
        let Command::Serve(relay_args) = &relayed.command else {
            panic!()
        };
        let c = store_config(&relayed.common, Some(relay_args)).unwrap();
        assert_eq!(c.live_relay.as_deref(), Some("https://relay.example.com"));
        let bad = Cli::try_parse_from(["marquee-store", "serve", "--live-relay", "relay.example"])
            .unwrap();
        let Command::Serve(bad_args) = &bad.command else {
            panic!()
        };
        let e = store_config(&bad.common, Some(bad_args)).unwrap_err();
        assert!(format!("{e:#}").contains("must be an https://"), "{e:#}");

        // Live channels: on unless the flag or the file turns them off.
        assert!(c.live_channels);
        let titles_only =
            Cli::try_parse_from(["marquee-store", "serve", "--no-live-channels"]).unwrap();
        let Command::Serve(titles_args) = &titles_only.command else {
            panic!()
        };
        assert!(
            !store_config(&titles_only.common, Some(titles_args))
                .unwrap()
                .live_channels
        );

        std::fs::write(&file, "listen = \"127.0.0.1:1111\"\nunknown = 1\n").unwrap();
        let e = store_config(&cli.common, Some(args)).unwrap_err();
        assert!(format!("{e:#}").contains("unknown"), "{e:#}");
    }

    #[test]
    fn slugs_and_codes() {
        assert_eq!(slug("The Quiet Orchard!"), "the-quiet-orchard");
        assert_eq!(slug("  Ça va? 2 "), "a-va-2");
        let code = new_voucher_code();
        assert_eq!(code.len(), 19);
        assert_eq!(
            db::wallet::voucher_hash(&code),
            db::wallet::voucher_hash(&code.to_lowercase().replace('-', ""))
        );
    }
}

//! `marquee-store`: the store as its own process. Everything lives in
//! [`marquee_store::cli`]; this only sets up logging and parses the command line.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,librqbit=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    marquee_store::cli::run(marquee_store::cli::Cli::parse()).await
}

//! Prints one simulated run: `cargo run --release -p marquee-live --example probe -- 300 60`.
fn main() {
    let mut args = std::env::args().skip(1);
    let viewers = args.next().and_then(|v| v.parse().ok()).unwrap_or(100);
    let seconds = args.next().and_then(|v| v.parse().ok()).unwrap_or(60);
    let mut config = marquee_live::sim::SimConfig::new(viewers, 1);
    config.stream_s = seconds;
    println!("{:#?}", marquee_live::sim::simulate(&config));
}

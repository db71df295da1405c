//! Transfer rates from a node's byte counts, sampled about once a second: what a viewer and a
//! broadcaster are told they give back. A leaf: it imports nothing of the live domain's.

use std::time::Instant;

use marquee_live::net::NodeStats;

/// The byte counts of the previous sample.
#[derive(Default)]
pub(crate) struct Rates {
    last: Option<(Instant, u64, u64)>,
}

impl Rates {
    /// (upload, download) in bytes a second since the previous sample; zeros the first time.
    pub(crate) fn sample(&mut self, stats: &NodeStats) -> (u64, u64) {
        let now = Instant::now();
        let rates = match self.last {
            Some((at, sent, received)) => {
                let s = now.duration_since(at).as_secs_f64().max(0.001);
                (
                    (stats.bytes_sent.saturating_sub(sent) as f64 / s) as u64,
                    (stats.bytes_received.saturating_sub(received) as f64 / s) as u64,
                )
            }
            None => (0, 0),
        };
        self.last = Some((now, stats.bytes_sent, stats.bytes_received));
        rates
    }
}

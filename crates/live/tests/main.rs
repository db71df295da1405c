//! The live crate's integration tests: one binary, a module per concern.

// Relays exchanging real signed chunks: forged and altered chunks never play.
mod relay;
// The simulator at 100 viewers: the figures stay within bounds, and a seed replays exactly.
mod simulation;
// Real processes over iroh on loopback: a broadcaster and a swarm of `marquee-live watch`
// viewers play, and keep playing when some of them are killed.
mod processes;
// The network layer in one process: a hostile peer's forged chunks never play, and garbage on
// the wire closes its connection.
mod net;

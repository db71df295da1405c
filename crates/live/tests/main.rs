//! The live crate's integration tests: one binary, a module per concern.

// Relays exchanging real signed chunks: forged and altered chunks never play.
mod relay;
// The simulator at 100 viewers: the figures stay within bounds, and a seed replays exactly.
mod simulation;

//! Any bytes as a chunk announcement from a peer. Must never panic; what decodes must encode
//! back to itself. See `marquee_live_fuzz::live_announcement`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| marquee_live_fuzz::live_announcement(data));

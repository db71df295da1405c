//! A viewer's relay fed frames from eight peers through the wire decoder. Must never panic or
//! hang; its maps stay within their bounds. See `marquee_live_fuzz::live_relay`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| marquee_live_fuzz::live_relay(data));

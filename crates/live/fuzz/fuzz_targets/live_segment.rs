//! Any bytes as the WebM file a broadcaster goes live with. Must never panic, and what it
//! accepts must cut into well-formed, contiguous segments. See `marquee_live_fuzz::live_segment`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| marquee_live_fuzz::live_segment(data));

//! Any `Range` header against any length. Must never panic and must only answer ranges inside
//! the file. See `marquee_core_fuzz::playback_range`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| marquee_core_fuzz::playback_range(data));

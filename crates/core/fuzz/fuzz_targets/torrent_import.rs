//! Any bytes as a dropped `.torrent` file. Must never panic, and whatever it accepts must be
//! safe to hand to librqbit. See `marquee_core_fuzz::torrent_import`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| marquee_core_fuzz::torrent_import(data));

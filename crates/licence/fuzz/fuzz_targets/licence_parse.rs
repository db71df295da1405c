//! Any bytes as an encoded licence: parse, verify against the fixed store key, then the device,
//! time and key checks. Must never panic. See `marquee_licence_fuzz::licence_parse`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| marquee_licence_fuzz::licence_parse(data));

//! Any bytes as a container file: header, key check, every chunk it claims, and a sequential
//! decrypt. Must never panic and never release unauthenticated plaintext. See
//! `marquee_licence_fuzz::container_read`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| marquee_licence_fuzz::container_read(data));

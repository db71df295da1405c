//! Any bytes as a video file: the probe (WebM and MP4) and the MP4 faststart copy into memory.
//! Must never panic. See `marquee_core_fuzz::video_probe`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| marquee_core_fuzz::video_probe(data));

//! Posters for the generated catalog (`marquee-store catalog generate`), drawn on first request
//! and kept in the store's media folder: 480×720 PNG, the size of the demo posters, and distinct
//! for every work (colours, light and skyline from a hash of its name), so the storefront at
//! 5,000 titles decodes 5,000 different pictures, as it would with a studio's catalog.

/// Poster width in pixels (the demo posters' size).
pub(crate) const WIDTH: u32 = 480;
/// Poster height in pixels.
pub(crate) const HEIGHT: u32 = 720;

/// The file name of the generated poster for the work or series `key` (a generated id, which
/// starts with `gen-`).
pub(crate) fn file_name(key: &str) -> String {
    format!("{key}.png")
}

/// The work or series a generated poster's file name is drawn for, if it is one.
pub(crate) fn key_of(file: &str) -> Option<&str> {
    file.strip_suffix(".png").filter(|k| k.starts_with("gen-"))
}

/// A stable hash of the key, the seed of everything drawn: FNV-1a, then SplitMix64's finaliser
/// so that ids differing in one digit still get unrelated colours and shapes.
fn hash(key: &str) -> u64 {
    let fnv = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut z = fnv.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A colour of hue `h` (0..1) at saturation `s` and value `v`, as RGB floats.
fn hsv(h: f32, s: f32, v: f32) -> [f32; 3] {
    let i = (h * 6.0).floor();
    let f = h * 6.0 - i;
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - f * s), v * (1.0 - (1.0 - f) * s));
    match i as i32 % 6 {
        0 => [v, t, p],
        1 => [q, v, p],
        2 => [p, v, t],
        3 => [p, q, v],
        4 => [t, p, v],
        _ => [v, p, q],
    }
}

/// Draws the poster for `key` and answers it PNG-encoded.
pub(crate) fn draw(key: &str) -> Vec<u8> {
    let seed = hash(key);
    let unit = |shift: u32| ((seed >> shift) & 0xffff) as f32 / 65535.0;
    let (hue, sun_x, sun_y, sun_r) = (
        unit(0),
        0.2 + 0.6 * unit(16),
        0.18 + 0.3 * unit(32),
        0.12 + 0.14 * unit(48),
    );
    let sky_top = hsv(hue, 0.75, 0.18);
    let sky_low = hsv((hue + 0.08) % 1.0, 0.8, 0.75);
    let sun = hsv((hue + 0.5) % 1.0, 0.35, 1.0);
    let ground = hsv((hue + 0.6) % 1.0, 0.6, 0.08);
    // A skyline: building tops across the width, from the same seed.
    let mut tops = [0f32; 24];
    let mut state = seed | 1;
    for top in &mut tops {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *top = 0.55 + 0.3 * ((state >> 40) as f32 / (1u64 << 24) as f32);
    }
    let (w, h) = (WIDTH as usize, HEIGHT as usize);
    let to_byte = |c: [f32; 3]| c.map(|v| (v.clamp(0.0, 1.0) * 255.0) as u8);
    let (sun_px, ground_px) = (to_byte(sun), to_byte(ground));
    // Per column: where its building starts; per row: the sky's colour. The sun's glow is
    // worked out only in the box around it: a debug build draws a poster in milliseconds.
    let roof: Vec<usize> = (0..w)
        .map(|x| (tops[x * tops.len() / w] * h as f32) as usize)
        .collect();
    let (cx, cy, reach) = (sun_x * w as f32, sun_y * h as f32, sun_r * w as f32 * 2.7);
    let mut pixels = vec![0u8; w * h * 3];
    for (y, row) in pixels.chunks_exact_mut(w * 3).enumerate() {
        let t = (y as f32 / h as f32 / 0.75).min(1.0);
        let sky = to_byte(std::array::from_fn(|i| {
            sky_top[i] * (1.0 - t) + sky_low[i] * t
        }));
        let glow_rows = (y as f32 - cy).abs() < reach;
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            if y >= roof[x] {
                // Lit windows on a grid, some of them, from the seed and the cell.
                let lit =
                    x % 8 < 4 && y % 12 < 6 && hash_cell(seed, x / 8, y / 12).is_multiple_of(5);
                px.copy_from_slice(if lit { &sun_px } else { &ground_px });
                continue;
            }
            let mut c = sky;
            if glow_rows && (x as f32 - cx).abs() < reach {
                let (dx, dy) = ((x as f32 - cx) / w as f32, (y as f32 - cy) / w as f32);
                let d = (dx * dx + dy * dy).sqrt() / sun_r;
                let glow = if d < 1.0 {
                    1.0
                } else {
                    (1.0 - (d - 1.0) * 0.6).max(0.0).powi(3) * 0.6
                };
                c = std::array::from_fn(|i| {
                    (f32::from(sky[i]) * (1.0 - glow) + f32::from(sun_px[i]) * glow) as u8
                });
            }
            px.copy_from_slice(&c);
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().expect("a PNG header in memory");
    writer
        .write_image_data(&pixels)
        .expect("PNG data in memory");
    writer.finish().expect("a PNG in memory");
    out
}

fn hash_cell(seed: u64, x: usize, y: usize) -> u64 {
    let mut h = seed
        ^ (x as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ^ (y as u64).wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
    h ^= h >> 29;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^ (h >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_work_has_its_own_poster_at_the_demo_posters_size() {
        let a = draw("gen-film-000001");
        let b = draw("gen-film-000002");
        assert_ne!(a, b);
        assert_eq!(a, draw("gen-film-000001"), "the same work, the same poster");
        let decoder = png::Decoder::new(std::io::Cursor::new(&a));
        let reader = decoder.read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), (WIDTH, HEIGHT));
        assert!(
            a.len() > 20_000,
            "a real picture's weight: {} bytes",
            a.len()
        );
    }
}

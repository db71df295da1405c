//! A synthetic catalog for load and scale tests: films (new releases and library), series with
//! seasons and episodes, music videos and games, films and episodes in SD and HD variants, at
//! the prices of the seed store. None of them has a real video, so every one is listed with
//! `for_sale: false` and never sold.

use crate::api::{FeedTitle, OfferKind, RentalTerms, SeriesRef};

/// New-release rental price, cents.
pub const NEW_RELEASE_RENTAL_CENTS: i64 = 400;
/// Library rental price, cents.
pub const LIBRARY_RENTAL_CENTS: i64 = 300;
/// Episode and music-video purchase price, cents.
pub const EPISODE_PURCHASE_CENTS: i64 = 200;
/// Game purchase price, cents.
pub const GAME_PURCHASE_CENTS: i64 = 999;

const ADJECTIVES: &[&str] = &[
    "Silent",
    "Crimson",
    "Hidden",
    "Electric",
    "Broken",
    "Golden",
    "Distant",
    "Frozen",
    "Hollow",
    "Restless",
    "Paper",
    "Iron",
    "Velvet",
    "Burning",
    "Quiet",
    "Wild",
    "Lonely",
    "Bright",
    "Forgotten",
    "Endless",
];
const NOUNS: &[&str] = &[
    "Harbor", "Circuit", "Orchard", "Skies", "Rain", "Tide", "Signal", "Garden", "Frontier",
    "Mirror", "Lantern", "Canyon", "Archive", "Station", "Meridian", "Empire", "River", "Voyage",
    "Letters", "Machine",
];
const GENRES: &[&str] = &[
    "Drama",
    "Thriller",
    "Comedy",
    "Action",
    "Science Fiction",
    "Documentary",
    "Romance",
    "Horror",
    "Animation",
    "Mystery",
];
const STUDIOS: &[&str] = &[
    "Halcyon Pictures",
    "Redline Filmworks",
    "Fernwood Films",
    "Northlight Studios",
    "Tinybyte Games",
    "Orbital Media",
    "Blue Door Records",
];
const ARTISTS: &[&str] = &[
    "The Lanterns",
    "Mira Vale",
    "Static Bloom",
    "Juno & the Tides",
    "Kasimir",
    "Hollow Pines",
];
const POSTERS: &[&str] = &[
    "neon-harbor.jpg",
    "midnight-circuit.jpg",
    "the-quiet-orchard.jpg",
    "open-skies.jpg",
    "glass-rain.jpg",
    "orbital-s01e01.jpg",
    "paper-boats.jpg",
    "pixel-drift.jpg",
];

/// A tiny deterministic generator (SplitMix64): the same `count` always makes the same catalog.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

fn base(id: String, kind: &str, name: String, rng: &mut Rng) -> FeedTitle {
    // Drawn in the sequence as the demo posters once were, so the same count still makes the
    // same titles; each work now has a poster of its own (see `crate::poster`).
    let _ = rng.pick(POSTERS);
    let poster_path = format!("/media/{}", crate::poster::file_name(&id));
    let genre = rng.pick(GENRES).to_owned();
    FeedTitle {
        id,
        kind: kind.to_owned(),
        synopsis: format!(
            "A {} {} from the generated catalog: {name} has no video yet, so it is listed but not for sale.",
            genre.to_lowercase(),
            kind.replace('_', " ")
        ),
        name,
        year: rng.range(1970, 2026) as i32,
        runtime_s: 0,
        genre,
        studio: rng.pick(STUDIOS).to_owned(),
        artist: None,
        new_release: false,
        offer: OfferKind::Buy,
        price_cents: 0,
        currency: crate::CURRENCY.to_owned(),
        series: None,
        poster_path,
        backdrop_path: None,
        width: 0,
        height: 0,
        mime: "video/webm".to_owned(),
        size_bytes: 0,
        info_hash: String::new(),
        encrypted: true,
        key_commitment: None,
        licence_to_share: None,
        rental: None,
        version: 0,
        for_sale: false,
        variant: None,
        work: None,
        publisher: None,
        hidden: false,
    }
}

fn rental(new_release: bool) -> (i64, Option<RentalTerms>) {
    let rules = marquee_licence::RentalRules::default();
    (
        if new_release {
            NEW_RELEASE_RENTAL_CENTS
        } else {
            LIBRARY_RENTAL_CENTS
        },
        Some(RentalTerms {
            start_within_s: rules.start_within_s,
            play_window_s: rules.play_window_s,
        }),
    )
}

/// Makes the SD and HD variants of one title.
fn variants(t: FeedTitle, out: &mut Vec<FeedTitle>, count: usize) {
    for (variant, w, h, bytes_per_s) in [("sd", 854, 480, 250_000u64), ("hd", 1920, 1080, 900_000)]
    {
        if out.len() >= count {
            return;
        }
        let mut v = t.clone();
        v.id = format!("{}-{variant}", t.id);
        v.variant = Some(variant.to_owned());
        v.work = Some(t.id.clone());
        v.width = w;
        v.height = h;
        v.size_bytes = bytes_per_s * u64::from(t.runtime_s);
        out.push(v);
    }
}

/// Makes `count` synthetic titles: about 40% films (a fifth of them new releases), 35% episodes,
/// 15% music videos and 10% games.
pub fn synthetic_catalog(count: usize) -> Vec<FeedTitle> {
    let mut rng = Rng(count as u64);
    let mut out = Vec::with_capacity(count);
    let (mut film, mut series, mut mv, mut game) = (0u32, 0u32, 0u32, 0u32);
    while out.len() < count {
        let share = out.len() * 100 / count.max(1);
        let name = format!("{} {}", rng.pick(ADJECTIVES), rng.pick(NOUNS));
        if share < 40 {
            film += 1;
            let mut t = base(format!("gen-film-{film:06}"), "film", name, &mut rng);
            t.new_release = film % 5 == 0;
            if t.new_release {
                t.year = 2026;
            }
            t.offer = OfferKind::Rent;
            (t.price_cents, t.rental) = rental(t.new_release);
            t.runtime_s = rng.range(80, 150) as u32 * 60;
            variants(t, &mut out, count);
        } else if share < 75 {
            series += 1;
            let seasons = rng.range(1, 4) as u32;
            let episodes = rng.range(6, 10) as u32;
            for season in 1..=seasons {
                for episode in 1..=episodes {
                    let mut t = base(
                        format!("gen-series-{series:05}-s{season:02}e{episode:02}"),
                        "episode",
                        format!("{name}: Episode {episode}"),
                        &mut rng,
                    );
                    t.series = Some(SeriesRef {
                        series: name.clone(),
                        season,
                        episode,
                    });
                    t.price_cents = EPISODE_PURCHASE_CENTS;
                    t.runtime_s = rng.range(22, 60) as u32 * 60;
                    // A series has one poster, as on a real shelf.
                    t.poster_path = format!(
                        "/media/{}",
                        crate::poster::file_name(&format!("gen-series-{series:05}"))
                    );
                    variants(t, &mut out, count);
                }
            }
        } else if share < 90 {
            mv += 1;
            let mut t = base(format!("gen-mv-{mv:06}"), "music_video", name, &mut rng);
            t.artist = Some(rng.pick(ARTISTS).to_owned());
            t.price_cents = EPISODE_PURCHASE_CENTS;
            t.runtime_s = rng.range(150, 300) as u32;
            t.width = 1920;
            t.height = 1080;
            t.size_bytes = 900_000 * u64::from(t.runtime_s);
            out.push(t);
        } else {
            game += 1;
            let mut t = base(format!("gen-game-{game:06}"), "game", name, &mut rng);
            t.price_cents = GAME_PURCHASE_CENTS;
            t.mime = "application/zip".to_owned();
            t.size_bytes = rng.range(50, 4000) * 1_000_000;
            out.push(t);
        }
    }
    out.truncate(count);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makes_every_kind_at_the_seed_prices_and_nothing_for_sale() {
        let titles = synthetic_catalog(5000);
        assert_eq!(titles.len(), 5000);
        let ids: std::collections::HashSet<_> = titles.iter().map(|t| &t.id).collect();
        assert_eq!(ids.len(), 5000, "ids are unique");
        for kind in ["film", "episode", "music_video", "game"] {
            assert!(titles.iter().any(|t| t.kind == kind), "{kind}");
        }
        assert!(titles.iter().all(|t| !t.for_sale));
        for t in &titles {
            let expected = match (t.kind.as_str(), t.new_release) {
                ("film", true) => NEW_RELEASE_RENTAL_CENTS,
                ("film", false) => LIBRARY_RENTAL_CENTS,
                ("episode" | "music_video", _) => EPISODE_PURCHASE_CENTS,
                _ => GAME_PURCHASE_CENTS,
            };
            assert_eq!(t.price_cents, expected, "{}", t.id);
        }
        assert!(titles.iter().any(|t| t.variant.as_deref() == Some("hd")));
        assert!(titles.iter().any(|t| t.variant.as_deref() == Some("sd")));
        assert_eq!(synthetic_catalog(100_000).len(), 100_000);
    }
}

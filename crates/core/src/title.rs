//! The title record a profile keeps: what the library stores of a title when it is acquired
//! (its own record, so the store's wire type can change without breaking a profile), made from
//! the signed feed's entry in one place. A leaf: it imports nothing of the core's but the UI's
//! transfer types.

use marquee_protocol::api::FeedTitle;

use crate::api::{OfferKind, RentalTerms, SeriesInfo};

/// What the library keeps of a title: the library's own record, so the store's wire type can
/// change without breaking a profile. Made from the feed entry in one place
/// ([`LibraryTitle::from`]).
#[derive(Clone, Debug, PartialEq)]
pub struct LibraryTitle {
    /// Title id.
    pub id: String,
    /// `film`, `episode`, `game`, `music_video`, `community_video`…
    pub kind: String,
    /// Display name.
    pub name: String,
    /// Synopsis.
    pub synopsis: String,
    /// Release year.
    pub year: i32,
    /// Running time in seconds.
    pub runtime_s: u32,
    /// Genre.
    pub genre: String,
    /// Studio.
    pub studio: String,
    /// Artist, for music videos.
    pub artist: Option<String>,
    /// Marked new when acquired.
    pub new_release: bool,
    /// Series, season and episode, for episodes.
    pub series: Option<SeriesInfo>,
    /// How it was offered.
    pub offer: OfferKind,
    /// The price when acquired.
    pub price_cents: i64,
    /// Its currency.
    pub currency: String,
    /// Poster path on the store (empty: none).
    pub poster_path: String,
    /// Backdrop path on the store.
    pub backdrop_path: Option<String>,
    /// Video width.
    pub width: u32,
    /// Video height.
    pub height: u32,
    /// Media type of the content.
    pub mime: String,
    /// Size of the torrent's content.
    pub size_bytes: u64,
    /// The torrent's info hash (hex), as the signed feed named it.
    pub info_hash: String,
    /// The content is a licensed container.
    pub encrypted: bool,
    /// Hex commitment to the content key, for encrypted titles.
    pub key_commitment: Option<String>,
    /// The licence free titles are shared under.
    pub licence_to_share: Option<String>,
    /// Publisher, for community titles.
    pub publisher: Option<String>,
    /// The store still sold it when acquired.
    pub for_sale: bool,
    /// A rental's terms as the feed states them; not kept in the library (what was rented
    /// carries its own rules in its licence).
    pub rental: Option<RentalTerms>,
    /// `sd` or `hd` for one variant of a work offered in both, as the feed states it; not kept
    /// in the library.
    pub variant: Option<String>,
    /// For a variant: the work's id, as the feed states it; not kept in the library.
    pub work: Option<String>,
}

impl From<&FeedTitle> for LibraryTitle {
    fn from(t: &FeedTitle) -> LibraryTitle {
        LibraryTitle {
            id: t.id.clone(),
            kind: t.kind.clone(),
            name: t.name.clone(),
            synopsis: t.synopsis.clone(),
            year: t.year,
            runtime_s: t.runtime_s,
            genre: t.genre.clone(),
            studio: t.studio.clone(),
            artist: t.artist.clone(),
            new_release: t.new_release,
            series: t.series.as_ref().map(|s| SeriesInfo {
                series: s.series.clone(),
                season: s.season,
                episode: s.episode,
            }),
            offer: t.offer,
            price_cents: t.price_cents,
            currency: t.currency.clone(),
            poster_path: t.poster_path.clone(),
            backdrop_path: t.backdrop_path.clone(),
            width: t.width,
            height: t.height,
            mime: t.mime.clone(),
            size_bytes: t.size_bytes,
            info_hash: t.info_hash.clone(),
            encrypted: t.encrypted,
            key_commitment: t.key_commitment.clone(),
            licence_to_share: t.licence_to_share.clone(),
            publisher: t.publisher.clone(),
            for_sale: t.for_sale,
            rental: t.rental.as_ref().map(|r| RentalTerms {
                start_within_s: r.start_within_s,
                play_window_s: r.play_window_s,
            }),
            variant: t.variant.clone(),
            work: t.work.clone(),
        }
    }
}

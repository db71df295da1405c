-- The library keeps its own title record in columns instead of the store's wire type as JSON:
-- the wire type can change without breaking a profile. Existing rows move out of title_json
-- (written by serde from the store's feed entry), then title_json goes. `offer`, `info_hash`
-- and `encrypted` were columns already.
ALTER TABLE library ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE library ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE library ADD COLUMN synopsis TEXT NOT NULL DEFAULT '';
ALTER TABLE library ADD COLUMN year INTEGER NOT NULL DEFAULT 0;
ALTER TABLE library ADD COLUMN runtime_s INTEGER NOT NULL DEFAULT 0;
ALTER TABLE library ADD COLUMN genre TEXT NOT NULL DEFAULT '';
ALTER TABLE library ADD COLUMN studio TEXT NOT NULL DEFAULT '';
ALTER TABLE library ADD COLUMN artist TEXT;
ALTER TABLE library ADD COLUMN new_release INTEGER NOT NULL DEFAULT 0;
ALTER TABLE library ADD COLUMN price_cents INTEGER NOT NULL DEFAULT 0;
ALTER TABLE library ADD COLUMN currency TEXT NOT NULL DEFAULT '';
ALTER TABLE library ADD COLUMN series TEXT;              -- NULL: not an episode
ALTER TABLE library ADD COLUMN season INTEGER;
ALTER TABLE library ADD COLUMN episode INTEGER;
ALTER TABLE library ADD COLUMN poster_path TEXT NOT NULL DEFAULT '';
ALTER TABLE library ADD COLUMN backdrop_path TEXT;
ALTER TABLE library ADD COLUMN width INTEGER NOT NULL DEFAULT 0;
ALTER TABLE library ADD COLUMN height INTEGER NOT NULL DEFAULT 0;
ALTER TABLE library ADD COLUMN mime TEXT NOT NULL DEFAULT '';
ALTER TABLE library ADD COLUMN size_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE library ADD COLUMN key_commitment TEXT;     -- hex; NULL for clear titles
ALTER TABLE library ADD COLUMN licence_to_share TEXT;
ALTER TABLE library ADD COLUMN publisher TEXT;
ALTER TABLE library ADD COLUMN for_sale INTEGER NOT NULL DEFAULT 1;

UPDATE library SET
    kind = json_extract(title_json, '$.kind'),
    name = json_extract(title_json, '$.name'),
    synopsis = json_extract(title_json, '$.synopsis'),
    year = json_extract(title_json, '$.year'),
    runtime_s = json_extract(title_json, '$.runtime_s'),
    genre = json_extract(title_json, '$.genre'),
    studio = json_extract(title_json, '$.studio'),
    artist = json_extract(title_json, '$.artist'),
    new_release = json_extract(title_json, '$.new_release'),
    price_cents = json_extract(title_json, '$.price_cents'),
    currency = json_extract(title_json, '$.currency'),
    series = json_extract(title_json, '$.series.series'),
    season = json_extract(title_json, '$.series.season'),
    episode = json_extract(title_json, '$.series.episode'),
    poster_path = json_extract(title_json, '$.poster_path'),
    backdrop_path = json_extract(title_json, '$.backdrop_path'),
    width = json_extract(title_json, '$.width'),
    height = json_extract(title_json, '$.height'),
    mime = json_extract(title_json, '$.mime'),
    size_bytes = json_extract(title_json, '$.size_bytes'),
    key_commitment = json_extract(title_json, '$.key_commitment'),
    licence_to_share = json_extract(title_json, '$.licence_to_share'),
    publisher = json_extract(title_json, '$.publisher'),
    -- Feed entries from before `for_sale` existed were for sale.
    for_sale = COALESCE(json_extract(title_json, '$.for_sale'), 1);

ALTER TABLE library DROP COLUMN title_json;

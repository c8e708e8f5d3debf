-- The catalog: artists, albums and tracks read from audio files. Artist and album ids are
-- derived from their identity (name; album artist + title or MusicBrainz id), so a rebuild gives
-- the same ids. Track ids are generated once per file and kept across rescans and moves.
CREATE TABLE artists (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    sort_name    TEXT NOT NULL,
    mb_artist_id TEXT,
    album_count  BIGINT NOT NULL DEFAULT 0,  -- kept up to date by each scan
    track_count  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX artists_sort ON artists(sort_name, id);

CREATE TABLE albums (
    id             TEXT PRIMARY KEY,
    title          TEXT NOT NULL,
    sort_title     TEXT NOT NULL,
    year           BIGINT,
    mb_album_id    TEXT,
    compilation    BIGINT NOT NULL DEFAULT 0,
    cover_path     TEXT,     -- absolute path of a folder image, or NULL
    cover_track_id TEXT,     -- a track with an embedded picture, or NULL
    track_count    BIGINT NOT NULL DEFAULT 0,  -- live tracks, kept up to date by each scan
    duration_ms    BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL
);
CREATE INDEX albums_sort_title ON albums(sort_title, id);
CREATE INDEX albums_created ON albums(created_at, id);
CREATE INDEX albums_year ON albums(year, id);

CREATE TABLE album_artists (
    album_id  TEXT NOT NULL,
    artist_id TEXT NOT NULL,
    position  BIGINT NOT NULL,
    PRIMARY KEY (album_id, artist_id)
);
CREATE INDEX album_artists_artist ON album_artists(artist_id);

CREATE TABLE tracks (
    id              TEXT PRIMARY KEY,
    library         TEXT NOT NULL,   -- the library folder, or "uploads"
    path            TEXT NOT NULL,   -- relative to the library folder, or the blob key
    size            BIGINT NOT NULL,
    mtime           BIGINT NOT NULL,
    title           TEXT NOT NULL,
    sort_title      TEXT NOT NULL,
    album_id        TEXT NOT NULL,
    track_number    BIGINT,
    disc_number     BIGINT,
    year            BIGINT,
    date            TEXT,
    duration_ms     BIGINT NOT NULL,
    bitrate_kbps    BIGINT,
    sample_rate     BIGINT,
    channels        BIGINT,
    format          TEXT NOT NULL,
    mb_recording_id TEXT,
    mb_track_id     TEXT,
    -- ReplayGain as integers (sqlx's Any driver mishandles NULL floats on PostgreSQL):
    -- gains in hundredths of a dB, peaks in millionths of full scale.
    rg_track_gain   BIGINT,
    rg_track_peak   BIGINT,
    rg_album_gain   BIGINT,
    rg_album_peak   BIGINT,
    lyrics          TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    removed_at      BIGINT,
    UNIQUE (library, path)
);
CREATE INDEX tracks_album ON tracks(album_id, disc_number, track_number);
CREATE INDEX tracks_sort ON tracks(sort_title, id);

CREATE TABLE track_artists (
    track_id  TEXT NOT NULL,
    artist_id TEXT NOT NULL,
    position  BIGINT NOT NULL,
    PRIMARY KEY (track_id, artist_id)
);
CREATE INDEX track_artists_artist ON track_artists(artist_id);

CREATE TABLE track_genres (
    track_id TEXT NOT NULL,
    genre    TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (track_id, genre)
);
CREATE INDEX track_genres_genre ON track_genres(genre);

CREATE TABLE scans (
    id             TEXT PRIMARY KEY,
    state          TEXT NOT NULL,
    files_seen     BIGINT NOT NULL,
    tracks_added   BIGINT NOT NULL,
    tracks_updated BIGINT NOT NULL,
    tracks_removed BIGINT NOT NULL,
    errors         TEXT NOT NULL,    -- JSON [{path, reason}], capped
    started_at     BIGINT,
    finished_at    BIGINT
);

-- Secrets of this service (the key that signs stream URLs).
CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE outbox (
    seq      BIGSERIAL PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    topic    TEXT NOT NULL,
    envelope TEXT NOT NULL
);

CREATE TABLE processed_events (
    consumer     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    processed_at BIGINT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);

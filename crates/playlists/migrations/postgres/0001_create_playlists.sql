-- Playlists and the listener's library (likes, plays), plus read models of the tracks and
-- users this service shows, kept from catalog and auth events (never read from their tables).
CREATE TABLE playlists (
    id            TEXT PRIMARY KEY,
    owner_id      TEXT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    public        BIGINT NOT NULL DEFAULT 0,
    collaborative BIGINT NOT NULL DEFAULT 0,
    track_count   BIGINT NOT NULL DEFAULT 0,
    duration_ms   BIGINT NOT NULL DEFAULT 0,  -- of every entry's track; refreshed when one changes
    version       BIGINT NOT NULL DEFAULT 1,  -- bumped by every change; the ETag
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX playlists_owner ON playlists(owner_id, id);

CREATE TABLE playlist_collaborators (
    playlist_id TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (playlist_id, user_id)
);
CREATE INDEX playlist_collaborators_user ON playlist_collaborators(user_id);

-- Positions are 0-based and dense; an edit renumbers in the same transaction. Not unique as an
-- index: a renumbering UPDATE passes through duplicates on PostgreSQL.
CREATE TABLE playlist_entries (
    playlist_id TEXT NOT NULL,
    position    BIGINT NOT NULL,
    track_id    TEXT NOT NULL,
    added_by    TEXT NOT NULL,
    added_at    BIGINT NOT NULL
);
CREATE INDEX playlist_entries_position ON playlist_entries(playlist_id, position);
CREATE INDEX playlist_entries_track ON playlist_entries(track_id);

CREATE TABLE likes (
    user_id  TEXT NOT NULL,
    track_id TEXT NOT NULL,
    liked_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, track_id)
);
CREATE INDEX likes_recent ON likes(user_id, liked_at, track_id);

CREATE TABLE plays (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    track_id   TEXT NOT NULL,
    played_ms  BIGINT NOT NULL,
    played_at  BIGINT NOT NULL,
    skipped    BIGINT NOT NULL
);
CREATE INDEX plays_recent ON plays(user_id, skipped, played_at, id);

-- Read model of catalog tracks (catalog.track.* events). Removed tracks stay, unavailable.
CREATE TABLE tracks (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    title_key    TEXT NOT NULL,  -- folded title, for matching M3U entries
    artists      TEXT NOT NULL,  -- JSON [{id, name}]
    album_id     TEXT NOT NULL,
    album_title  TEXT NOT NULL,
    genres       TEXT NOT NULL,  -- JSON [name]
    year         BIGINT,
    track_number BIGINT,
    disc_number  BIGINT,
    duration_ms  BIGINT NOT NULL,
    format       TEXT NOT NULL,
    bitrate_kbps BIGINT,
    path         TEXT NOT NULL,  -- relative to its library folder, for matching M3U entries
    file_name    TEXT NOT NULL,  -- folded last part of the path, for matching M3U entries
    available    BIGINT NOT NULL,
    event_id     TEXT NOT NULL DEFAULT ''  -- the last catalog event applied (UUIDv7: ordered)
);
CREATE INDEX tracks_title_key ON tracks(title_key);
CREATE INDEX tracks_file_name ON tracks(file_name);

-- One-off jobs done, by name (the first fill of the track read model from the catalog).
CREATE TABLE jobs_done (
    name    TEXT PRIMARY KEY,
    done_at BIGINT NOT NULL
);

-- Read model of accounts (auth.user.created), for owner and added_by names.
CREATE TABLE users (
    id       TEXT PRIMARY KEY,
    username TEXT NOT NULL
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

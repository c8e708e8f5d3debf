-- Playlists and the listener's library (likes, plays), plus read models of the tracks and
-- users this service shows, kept from catalog and auth events (never read from their tables).
CREATE TABLE playlists (
    id            TEXT PRIMARY KEY,
    owner_id      TEXT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    public        INTEGER NOT NULL DEFAULT 0,
    collaborative INTEGER NOT NULL DEFAULT 0,
    track_count   INTEGER NOT NULL DEFAULT 0,
    duration_ms   INTEGER NOT NULL DEFAULT 0,  -- of every entry's track; refreshed when one changes
    version       INTEGER NOT NULL DEFAULT 1,  -- bumped by every change; the ETag
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX playlists_owner ON playlists(owner_id, id);

CREATE TABLE playlist_collaborators (
    playlist_id TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    added_at    INTEGER NOT NULL,
    PRIMARY KEY (playlist_id, user_id)
);
CREATE INDEX playlist_collaborators_user ON playlist_collaborators(user_id);

-- Positions are 0-based and dense; an edit renumbers in the same transaction. Not unique as an
-- index: a renumbering UPDATE passes through duplicates on PostgreSQL.
CREATE TABLE playlist_entries (
    playlist_id TEXT NOT NULL,
    position    INTEGER NOT NULL,
    track_id    TEXT NOT NULL,
    added_by    TEXT NOT NULL,
    added_at    INTEGER NOT NULL
);
CREATE INDEX playlist_entries_position ON playlist_entries(playlist_id, position);
CREATE INDEX playlist_entries_track ON playlist_entries(track_id);

CREATE TABLE likes (
    user_id  TEXT NOT NULL,
    track_id TEXT NOT NULL,
    liked_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, track_id)
);
CREATE INDEX likes_recent ON likes(user_id, liked_at, track_id);

CREATE TABLE plays (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    track_id   TEXT NOT NULL,
    played_ms  INTEGER NOT NULL,
    played_at  INTEGER NOT NULL,
    skipped    INTEGER NOT NULL
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
    year         INTEGER,
    track_number INTEGER,
    disc_number  INTEGER,
    duration_ms  INTEGER NOT NULL,
    format       TEXT NOT NULL,
    bitrate_kbps INTEGER,
    path         TEXT NOT NULL,  -- relative to its library folder, for matching M3U entries
    file_name    TEXT NOT NULL,  -- folded last part of the path, for matching M3U entries
    available    INTEGER NOT NULL,
    event_id     TEXT NOT NULL DEFAULT ''  -- the last catalog event applied (UUIDv7: ordered)
);
CREATE INDEX tracks_title_key ON tracks(title_key);
CREATE INDEX tracks_file_name ON tracks(file_name);

-- One-off jobs done, by name (the first fill of the track read model from the catalog).
CREATE TABLE jobs_done (
    name    TEXT PRIMARY KEY,
    done_at INTEGER NOT NULL
);

-- Read model of accounts (auth.user.created), for owner and added_by names.
CREATE TABLE users (
    id       TEXT PRIMARY KEY,
    username TEXT NOT NULL
);

CREATE TABLE outbox (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    topic    TEXT NOT NULL,
    envelope TEXT NOT NULL
);

CREATE TABLE processed_events (
    consumer     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    processed_at INTEGER NOT NULL,
    PRIMARY KEY (consumer, event_id)
);

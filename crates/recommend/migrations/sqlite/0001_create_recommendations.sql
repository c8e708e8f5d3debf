-- The recommendations service's read models: the signals it learns from, as events describe them.

-- Catalog tracks as their last event described them (a TrackSummary as JSON).
CREATE TABLE tracks (
    id       TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    summary  TEXT NOT NULL,
    removed  INTEGER NOT NULL DEFAULT 0
);

-- One row per listener and track: plays, skips and the like, from library events.
CREATE TABLE listens (
    user_id        TEXT NOT NULL,
    track_id       TEXT NOT NULL,
    plays          INTEGER NOT NULL DEFAULT 0,
    skips          INTEGER NOT NULL DEFAULT 0,
    last_played_at INTEGER,
    liked          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, track_id)
);

-- Playlists and which tracks they hold (how many times), from playlist events.
CREATE TABLE playlists (
    id       TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL,
    public   INTEGER NOT NULL,
    version  INTEGER NOT NULL
);
CREATE INDEX playlists_owner ON playlists (owner_id);

CREATE TABLE playlist_tracks (
    playlist_id TEXT NOT NULL,
    track_id    TEXT NOT NULL,
    copies      INTEGER NOT NULL,
    PRIMARY KEY (playlist_id, track_id)
);

-- Stated taste, from users.preferences.changed (JSON arrays of names).
CREATE TABLE preferences (
    user_id TEXT PRIMARY KEY,
    genres  TEXT NOT NULL,
    artists TEXT NOT NULL
);

-- One-off jobs done (filling the track read model from a catalog older than this service).
CREATE TABLE jobs_done (
    name    TEXT PRIMARY KEY,
    done_at INTEGER NOT NULL
);

CREATE TABLE processed_events (
    consumer     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    processed_at INTEGER NOT NULL,
    PRIMARY KEY (consumer, event_id)
);

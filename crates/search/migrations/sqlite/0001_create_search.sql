-- The search service's read models (what its index is built from) and its queue of index changes.

-- Catalog tracks as their last event described them (a TrackSummary as JSON).
CREATE TABLE tracks (
    id       TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    album_id TEXT NOT NULL,
    summary  TEXT NOT NULL,
    removed  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tracks_album ON tracks (album_id);

-- Which artists (track or album artists) each track names, to rebuild an artist's entry.
CREATE TABLE track_artists (
    artist_id TEXT NOT NULL,
    track_id  TEXT NOT NULL,
    PRIMARY KEY (artist_id, track_id)
);
CREATE INDEX track_artists_track ON track_artists (track_id);

-- Plays (not skips) per track, from library.track.played: popularity.
CREATE TABLE track_plays (
    track_id TEXT PRIMARY KEY,
    plays    INTEGER NOT NULL
);

-- Playlists as their last event described them (a PlaylistChanged as JSON).
CREATE TABLE playlists (
    id      TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    summary TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
);

-- Entries of the index to rebuild, in order. The index records the last one it applied.
CREATE TABLE index_changes (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    kind   TEXT NOT NULL,
    doc_id TEXT NOT NULL
);

-- `beatstream search reindex` asks a running server to rebuild through this table.
CREATE TABLE reindex_requests (
    id           TEXT PRIMARY KEY,
    requested_at INTEGER NOT NULL,
    finished_at  INTEGER,
    documents    INTEGER
);

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

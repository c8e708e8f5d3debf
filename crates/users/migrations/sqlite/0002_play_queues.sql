-- Each user's saved play queue (what Subsonic apps save with savePlayQueue), to pick up on
-- another device. Track ids are the catalog's; this service does not check them.
CREATE TABLE play_queues (
    user_id       TEXT PRIMARY KEY,
    track_ids     TEXT NOT NULL,  -- JSON array
    current_index INTEGER,
    position_ms   INTEGER NOT NULL,
    changed_by    TEXT NOT NULL,
    updated_at    INTEGER NOT NULL
);

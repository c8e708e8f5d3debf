-- What each listener's players say they are playing now (Subsonic's scrobble with
-- submission=false), one row per user and player; old rows are ignored and swept.
CREATE TABLE now_playing (
    user_id   TEXT NOT NULL,
    player    TEXT NOT NULL,
    track_id  TEXT NOT NULL,
    since     INTEGER NOT NULL,
    PRIMARY KEY (user_id, player)
);
CREATE INDEX now_playing_since ON now_playing(since);

-- Likes of albums and artists (tracks have `likes`), with the name when liked.
CREATE TABLE item_likes (
    user_id  TEXT NOT NULL,
    kind     TEXT NOT NULL,  -- album or artist
    item_id  TEXT NOT NULL,
    name     TEXT NOT NULL,
    liked_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind, item_id)
);
CREATE INDEX item_likes_recent ON item_likes(user_id, kind, liked_at, item_id);

-- Ratings from 1 to 5 of tracks, albums and artists.
CREATE TABLE ratings (
    user_id  TEXT NOT NULL,
    kind     TEXT NOT NULL,  -- track, album or artist
    item_id  TEXT NOT NULL,
    rating   INTEGER NOT NULL,
    rated_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind, item_id)
);

-- Users' profiles and preferences, created from `auth.user.created` events.
CREATE TABLE profiles (
    user_id      TEXT PRIMARY KEY,
    username     TEXT NOT NULL,
    display_name TEXT,
    email        TEXT,
    role         TEXT NOT NULL,
    disabled     BIGINT NOT NULL DEFAULT 0,
    preferences  TEXT NOT NULL,  -- JSON: favorite_genres, favorite_artists, streaming_quality
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX profiles_role ON profiles(role, disabled);

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

-- Each listener's streaming quality, from `users.preferences.changed` events: the default
-- bitrate of their transcodes.
CREATE TABLE listener_preferences (
    user_id           TEXT PRIMARY KEY,
    streaming_quality TEXT NOT NULL,
    updated_at        BIGINT NOT NULL
);

-- The tables every service's migrations include, for the outbox tests.
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
CREATE TABLE effects (id TEXT PRIMARY KEY);

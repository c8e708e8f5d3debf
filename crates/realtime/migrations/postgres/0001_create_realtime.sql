-- The listener's players ("devices") and their last playback state.
CREATE TABLE devices (
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    -- The last state the device reported (JSON), and when; NULL before its first report.
    state TEXT,
    state_at BIGINT,
    last_connected_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, device_id)
);

-- Open sockets of devices, per realtime instance. An instance refreshes `last_seen_at` of its
-- rows while it runs; rows of an instance that died stop counting once they are stale.
CREATE TABLE connections (
    connection_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    connected_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX connections_by_device ON connections (user_id, device_id);
CREATE INDEX connections_by_instance ON connections (instance_id);

-- Events already turned into messages (redeliveries are skipped).
CREATE TABLE processed_events (
    consumer     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    processed_at BIGINT NOT NULL,
    PRIMARY KEY (consumer, event_id)
);

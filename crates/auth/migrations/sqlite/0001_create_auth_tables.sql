-- Accounts' credentials. The users service keeps profiles; this keeps what signs people in.
CREATE TABLE credentials (
    user_id       TEXT PRIMARY KEY,
    username      TEXT NOT NULL,
    username_key  TEXT NOT NULL UNIQUE,  -- lowercased: usernames are unique regardless of case
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

-- Refresh tokens, stored as SHA-256 hashes. One family per login; rotation adds to it.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES credentials(user_id),
    family_id  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    revoked_at INTEGER
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);

-- Ed25519 keys that sign access tokens. Retired keys stay published until their tokens expire.
CREATE TABLE signing_keys (
    kid          TEXT PRIMARY KEY,
    private_der  TEXT NOT NULL,  -- PKCS#8, base64
    public_x     TEXT NOT NULL,  -- raw public key, base64url (the JWK `x`)
    created_at   INTEGER NOT NULL,
    retired_at   INTEGER
);

-- Personal API tokens, stored as SHA-256 hashes.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES credentials(user_id),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

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

-- App passwords for Subsonic clients. The Subsonic token scheme needs the password itself, so
-- it is sealed (XChaCha20-Poly1305) under a key kept outside the database, not hashed.
CREATE TABLE app_passwords (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES credentials(user_id),
    name         TEXT NOT NULL,
    sealed       TEXT NOT NULL,  -- base64 of nonce + ciphertext, bound to id
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX app_passwords_user ON app_passwords(user_id);

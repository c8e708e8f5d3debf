-- Group sessions ("listening together"): one shared queue and playback, led by the owner.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL,
    invite_code TEXT NOT NULL UNIQUE,
    -- The shared queue and playback (JSON), changed only through `version` compare-and-set.
    state TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    ended_at BIGINT
);

CREATE TABLE session_members (
    session_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    username TEXT NOT NULL,
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, user_id)
);
CREATE INDEX session_members_by_user ON session_members (user_id);

-- Refresh tokens that were rotated out. Presenting one again means someone else holds a
-- copy (RFC 9700 refresh-token reuse detection): the whole session is revoked.
CREATE TABLE retired_refresh_tokens (
    refresh_hash TEXT PRIMARY KEY NOT NULL,
    session_id   TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    retired_at   TEXT NOT NULL
);
CREATE INDEX retired_refresh_tokens_session ON retired_refresh_tokens (session_id);

-- Idempotency keys: a client that retries a POST with the same `Idempotency-Key` gets the
-- stored answer instead of a second change. A row is written in the same transaction as the
-- change it answers, so it exists exactly when the change does. `scope` is the caller and
-- the route ("user:7 POST /api/admin/products"), so two callers' keys never collide;
-- `request_hash` is a SHA-256 of the request, to refuse the same key with another request;
-- `response` is the JSON body sent. Rows older than the configured TTL count as absent and
-- are purged by the worker.
CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    response     TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- Operations: the background workers' heartbeats (with the last pass's report, as text), so that the server (and its /metrics and
-- dashboard) can tell how long ago a worker last finished a pass, whichever process it runs in.
CREATE TABLE worker_heartbeats (
    worker       TEXT    PRIMARY KEY NOT NULL CHECK (length(worker) BETWEEN 1 AND 200),
    beat_at      TEXT    NOT NULL,
    passes       BIGINT  NOT NULL DEFAULT 0 CHECK (passes >= 0),
    last_report  TEXT    NOT NULL DEFAULT ''
);

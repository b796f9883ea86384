-- Partner feeds (issue 9): suppliers whose systems push product data over HTTP.

CREATE TABLE partners (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT    NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    contact_email    TEXT    NOT NULL CHECK (length(contact_email) BETWEEN 3 AND 254),
    status           TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    -- how feeds are applied unless a request says otherwise
    mode             TEXT    NOT NULL DEFAULT 'lenient' CHECK (mode IN ('lenient', 'strict')),
    -- the price contract: `price` (decimal string, major units) or `price_cents` (integer)
    price_column     TEXT    NOT NULL DEFAULT 'price' CHECK (price_column IN ('price', 'price_cents')),
    currency         TEXT    NOT NULL DEFAULT 'EUR' CHECK (length(currency) = 3),
    rate_per_minute  INTEGER NOT NULL DEFAULT 60 CHECK (rate_per_minute BETWEEN 1 AND 100000),
    max_body_bytes   INTEGER NOT NULL DEFAULT 52428800 CHECK (max_body_bytes BETWEEN 1024 AND 1073741824),
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL
);

-- API keys: only a SHA-256 of the key is kept; `prefix` (public, in the key) finds the row.
CREATE TABLE partner_keys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id  INTEGER NOT NULL REFERENCES partners (id) ON DELETE CASCADE,
    prefix      TEXT    NOT NULL UNIQUE CHECK (length(prefix) BETWEEN 8 AND 32),
    key_hash    TEXT    NOT NULL CHECK (length(key_hash) = 64),
    created_at  TEXT    NOT NULL,
    -- set when rotated out: works until then
    retires_at  TEXT,
    revoked_at  TEXT
);
CREATE INDEX partner_keys_partner ON partner_keys (partner_id, id);

-- The partner whose feed owns the product (NULL: the shop's own).
ALTER TABLE products ADD COLUMN partner_id INTEGER REFERENCES partners (id) ON DELETE RESTRICT;
CREATE INDEX products_partner ON products (partner_id) WHERE partner_id IS NOT NULL;

-- One upload (or scheduled pull, or CLI import) and what became of it. The file waits in
-- `body` until a worker (or the request itself) has applied it.
CREATE TABLE feed_jobs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id     INTEGER NOT NULL REFERENCES partners (id) ON DELETE CASCADE,
    source         TEXT    NOT NULL CHECK (source IN ('upload', 'schedule', 'cli', 'admin')),
    schedule_id    INTEGER,
    format         TEXT    NOT NULL CHECK (format IN ('csv', 'json')),
    mode           TEXT    NOT NULL CHECK (mode IN ('validate_only', 'lenient', 'strict')),
    state          TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    content_hash   TEXT    NOT NULL CHECK (length(content_hash) = 64),
    bytes          INTEGER NOT NULL CHECK (bytes >= 0),
    body           BLOB,
    rows_total     INTEGER NOT NULL DEFAULT 0,
    rows_created   INTEGER NOT NULL DEFAULT 0,
    rows_updated   INTEGER NOT NULL DEFAULT 0,
    rows_unchanged INTEGER NOT NULL DEFAULT 0,
    rows_rejected  INTEGER NOT NULL DEFAULT 0,
    applied        BOOLEAN NOT NULL DEFAULT 0,
    attempts       INTEGER NOT NULL DEFAULT 0,
    lease_owner    TEXT,
    lease_until    TEXT,
    next_attempt_at TEXT   NOT NULL,
    last_error     TEXT,
    actor_id       INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at     TEXT    NOT NULL,
    started_at     TEXT,
    finished_at    TEXT
);
CREATE INDEX feed_jobs_partner ON feed_jobs (partner_id, id);
CREATE INDEX feed_jobs_due ON feed_jobs (state, next_attempt_at);
-- the same file is applied once: a second upload finds the first
CREATE INDEX feed_jobs_hash ON feed_jobs (partner_id, content_hash);

CREATE TABLE feed_row_errors (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id   INTEGER NOT NULL REFERENCES feed_jobs (id) ON DELETE CASCADE,
    row_num  INTEGER NOT NULL,
    field    TEXT    NOT NULL,
    reason   TEXT    NOT NULL
);
CREATE INDEX feed_row_errors_job ON feed_row_errors (job_id, id);

-- Scheduled pulls of a partner's feed URL.
CREATE TABLE feed_schedules (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id     INTEGER NOT NULL REFERENCES partners (id) ON DELETE CASCADE,
    url            TEXT    NOT NULL CHECK (length(url) BETWEEN 8 AND 2000),
    interval_secs  INTEGER NOT NULL CHECK (interval_secs BETWEEN 60 AND 2592000),
    enabled        BOOLEAN NOT NULL DEFAULT 1,
    etag           TEXT,
    last_modified  TEXT,
    next_run_at    TEXT    NOT NULL,
    last_run_at    TEXT,
    last_outcome   TEXT,
    lease_until    TEXT,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL
);
CREATE INDEX feed_schedules_due ON feed_schedules (enabled, next_run_at);

-- Every run of a schedule, with its outcome (`not_modified`, `queued`, `failed: ...`).
CREATE TABLE feed_schedule_runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule_id  INTEGER NOT NULL REFERENCES feed_schedules (id) ON DELETE CASCADE,
    outcome      TEXT    NOT NULL,
    http_status  INTEGER,
    job_id       INTEGER REFERENCES feed_jobs (id) ON DELETE SET NULL,
    created_at   TEXT    NOT NULL
);
CREATE INDEX feed_schedule_runs_schedule ON feed_schedule_runs (schedule_id, id);

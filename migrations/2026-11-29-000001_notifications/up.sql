-- Notifications: the outbox of mail to send (written in the same transaction as the change
-- it reports), the in-app notifications fed by the same events, and who wants what.

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event           TEXT    NOT NULL,
    user_id         INTEGER REFERENCES users (id) ON DELETE SET NULL,
    recipient       TEXT    NOT NULL CHECK (length(recipient) BETWEEN 3 AND 254),
    -- The rendered content (subject, title, paragraphs, link), JSON.
    content         TEXT    NOT NULL,
    -- Stable across attempts: a resend after a crash carries the same Message-ID. Unique by
    -- construction (a random UUID in it), so no index is paid for on the checkout's write.
    message_id      TEXT    NOT NULL,
    -- One row per event, entity and recipient: the same event never queues twice.
    dedupe_key      TEXT    NOT NULL UNIQUE,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at TEXT    NOT NULL,
    lease_owner     TEXT,
    lease_until     TEXT,
    last_error      TEXT,
    sent_at         TEXT,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event      TEXT    NOT NULL,
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    link       TEXT    NOT NULL,
    dedupe_key TEXT    NOT NULL UNIQUE,
    read_at    TEXT,
    created_at TEXT    NOT NULL
);
-- The list and the unread count both go by user (a user's notifications are few).
CREATE INDEX notifications_user ON notifications (user_id, id);

-- Mail preferences; an account without a row gets everything.
CREATE TABLE notification_prefs (
    user_id         INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- Customers: mail that is not about money (shipping, return steps).
    non_essential   BOOLEAN NOT NULL DEFAULT 1,
    -- Staff alerts.
    sla_breach      BOOLEAN NOT NULL DEFAULT 1,
    refund_failure  BOOLEAN NOT NULL DEFAULT 1,
    updated_at      TEXT    NOT NULL
);

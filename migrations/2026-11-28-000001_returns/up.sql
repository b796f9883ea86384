-- Returns (RMA): a return of some lines of a delivered order, the stages it moves through,
-- its photos, and every money and stock movement it made. Times are UTC (RFC 3339, written
-- by the application); money is integer minor units.

-- Whether a product may be returned at all (gift cards, hygiene goods: no).
ALTER TABLE products ADD COLUMN returnable BOOLEAN NOT NULL DEFAULT 1;

CREATE TABLE rmas (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id              INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    order_id             INTEGER NOT NULL REFERENCES orders (id) ON DELETE RESTRICT,
    stage                TEXT    NOT NULL CHECK (stage IN ('submitted', 'validating', 'approved', 'shipping',
                                                  'received', 'inspecting', 'inspected', 'disposition',
                                                  'processing', 'completed', 'rejected', 'cancelled')),
    -- Bumped by every change: an action names the version it was decided on, so two staff
    -- acting at once cannot both move the return.
    version              INTEGER NOT NULL DEFAULT 1,
    reason               TEXT    NOT NULL,
    description          TEXT,
    -- Why the automatic check refused it (JSON array), for a return rejected on submission.
    problems             TEXT,
    currency             TEXT    NOT NULL CHECK (length(currency) = 3),
    gross_cents          INTEGER NOT NULL CHECK (gross_cents >= 0),
    carrier              TEXT,
    tracking             TEXT,
    condition            TEXT,
    inspection_note      TEXT,
    disposition          TEXT,
    decision_note        TEXT,
    -- Decided by finance: the refund or credit (refund, store_credit), after the fee.
    fee_cents            INTEGER CHECK (fee_cents IS NULL OR fee_cents >= 0),
    amount_cents         INTEGER CHECK (amount_cents IS NULL OR amount_cents >= 0),
    -- How a refund splits across card and store credit, fixed when first processed so a
    -- retry repeats exactly the same movements.
    refund_card_cents    INTEGER CHECK (refund_card_cents IS NULL OR refund_card_cents >= 0),
    refund_credit_cents  INTEGER CHECK (refund_credit_cents IS NULL OR refund_credit_cents >= 0),
    attempts             INTEGER NOT NULL DEFAULT 0,
    last_error           TEXT,
    replacement_order_id INTEGER REFERENCES orders (id) ON DELETE RESTRICT,
    -- A repair shipped back, or rejected goods returned: how they left the warehouse.
    outcome              TEXT,
    outcome_carrier      TEXT,
    outcome_tracking     TEXT,
    stage_entered_at     TEXT    NOT NULL,
    created_at           TEXT    NOT NULL,
    updated_at           TEXT    NOT NULL
);
CREATE INDEX rmas_user ON rmas (user_id, id);
CREATE INDEX rmas_order ON rmas (order_id);
CREATE INDEX rmas_stage ON rmas (stage, stage_entered_at);

CREATE TABLE rma_lines (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    rma_id           INTEGER NOT NULL REFERENCES rmas (id) ON DELETE CASCADE,
    order_line_id    INTEGER NOT NULL REFERENCES order_lines (id) ON DELETE RESTRICT,
    product_id       INTEGER NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    sku              TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0),
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    UNIQUE (rma_id, order_line_id)
);
CREATE INDEX rma_lines_order_line ON rma_lines (order_line_id);

-- The RMA's own log: every transition, append-only. `stage_secs` is how long the return
-- spent in `from_stage` (the per-stage medians come from it).
CREATE TABLE rma_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    rma_id     INTEGER NOT NULL REFERENCES rmas (id) ON DELETE RESTRICT,
    actor_id   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    actor_role TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    from_stage TEXT,
    to_stage   TEXT    NOT NULL,
    note       TEXT,
    stage_secs INTEGER NOT NULL DEFAULT 0 CHECK (stage_secs >= 0),
    created_at TEXT    NOT NULL
);
CREATE INDEX rma_events_rma ON rma_events (rma_id, id);
CREATE INDEX rma_events_from ON rma_events (from_stage, stage_secs);
CREATE TRIGGER rma_events_no_update BEFORE UPDATE ON rma_events
BEGIN SELECT RAISE(ABORT, 'rma_events is append-only'); END;
CREATE TRIGGER rma_events_no_delete BEFORE DELETE ON rma_events
BEGIN SELECT RAISE(ABORT, 'rma_events is append-only'); END;

CREATE TABLE rma_photos (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    rma_id       INTEGER NOT NULL REFERENCES rmas (id) ON DELETE RESTRICT,
    stored_name  TEXT    NOT NULL UNIQUE,
    content_type TEXT    NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    size_bytes   INTEGER NOT NULL CHECK (size_bytes > 0),
    sha256       TEXT    NOT NULL CHECK (length(sha256) = 64),
    uploaded_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at   TEXT    NOT NULL
);
CREATE INDEX rma_photos_rma ON rma_photos (rma_id, id);

-- Every money and stock movement a return made, each under its own idempotency key: a key
-- is written once, in the same transaction as the movement, so a second attempt moves nothing.
CREATE TABLE rma_effects (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    rma_id          INTEGER NOT NULL REFERENCES rmas (id) ON DELETE RESTRICT,
    idempotency_key TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL CHECK (kind IN ('refund_card', 'refund_credit', 'store_credit',
                                                     'restock', 'replacement')),
    amount_cents    INTEGER NOT NULL DEFAULT 0 CHECK (amount_cents >= 0),
    product_id      INTEGER REFERENCES products (id) ON DELETE RESTRICT,
    quantity        INTEGER NOT NULL DEFAULT 0 CHECK (quantity >= 0),
    reference       TEXT,
    created_at      TEXT    NOT NULL
);
CREATE INDEX rma_effects_rma ON rma_effects (rma_id);
CREATE TRIGGER rma_effects_no_update BEFORE UPDATE ON rma_effects
BEGIN SELECT RAISE(ABORT, 'rma_effects is append-only'); END;
CREATE TRIGGER rma_effects_no_delete BEFORE DELETE ON rma_effects
BEGIN SELECT RAISE(ABORT, 'rma_effects is append-only'); END;

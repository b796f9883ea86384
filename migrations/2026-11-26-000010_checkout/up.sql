-- Checkout: carts, orders with their lines, payments, and the store-credit ledger.
-- Times are UTC (RFC 3339, written by the application); money is integer minor units.

-- One server-side cart per customer: a line per product. `price_seen_cents` is the price the
-- customer last saw and accepted; checkout refuses a cart whose prices moved since.
CREATE TABLE cart_lines (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    product_id       INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    quantity         INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    price_seen_cents INTEGER NOT NULL CHECK (price_seen_cents >= 0),
    added_at         TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    UNIQUE (user_id, product_id)
);

CREATE TABLE orders (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    state           TEXT    NOT NULL CHECK (state IN ('pending_payment', 'paid', 'shipped', 'delivered',
                                                      'cancelled', 'partially_refunded', 'refunded')),
    currency        TEXT    NOT NULL CHECK (length(currency) = 3),
    subtotal_cents  INTEGER NOT NULL CHECK (subtotal_cents >= 0),
    credit_cents    INTEGER NOT NULL CHECK (credit_cents >= 0),
    card_cents      INTEGER NOT NULL CHECK (card_cents >= 0),
    total_cents     INTEGER NOT NULL CHECK (total_cents = credit_cents + card_cents),
    refunded_cents  INTEGER NOT NULL DEFAULT 0 CHECK (refunded_cents BETWEEN 0 AND total_cents),
    idempotency_key TEXT    NOT NULL,
    carrier         TEXT,
    tracking        TEXT,
    shipped_at      TEXT,
    delivered_at    TEXT,
    cancelled_at    TEXT,
    cancel_reason   TEXT,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    UNIQUE (user_id, idempotency_key)
);
CREATE INDEX orders_user ON orders (user_id, id);
CREATE INDEX orders_state ON orders (state, id);

-- What was bought, at the price charged; name and SKU copied so receipts never change.
CREATE TABLE order_lines (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id         INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id       INTEGER NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    sku              TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0),
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    line_total_cents INTEGER NOT NULL CHECK (line_total_cents = unit_price_cents * quantity)
);
CREATE INDEX order_lines_order ON order_lines (order_id);

-- Card payments at the provider. A row is written before the provider is asked
-- (`authorizing`), so a crash between the two leaves a trace the worker can void.
CREATE TABLE payments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    order_id        INTEGER REFERENCES orders (id) ON DELETE RESTRICT,
    provider        TEXT    NOT NULL,
    reference       TEXT,
    amount_cents    INTEGER NOT NULL CHECK (amount_cents > 0),
    currency        TEXT    NOT NULL CHECK (length(currency) = 3),
    state           TEXT    NOT NULL CHECK (state IN ('authorizing', 'authorized', 'captured', 'declined',
                                                      'failed', 'voided', 'refunded', 'partially_refunded')),
    refunded_cents  INTEGER NOT NULL DEFAULT 0 CHECK (refunded_cents BETWEEN 0 AND amount_cents),
    idempotency_key TEXT    NOT NULL UNIQUE,
    card_hint       TEXT    NOT NULL DEFAULT '',
    error_code      TEXT,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL
);
CREATE INDEX payments_order ON payments (order_id);
CREATE INDEX payments_state ON payments (state, created_at);

-- Store credit: append-only. The balance is the last entry's `balance_after` (and equals the
-- sum of deltas); the CHECK keeps it from ever going negative, whatever the caller checked.
CREATE TABLE store_credit_entries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    kind            TEXT    NOT NULL CHECK (kind IN ('grant', 'spend', 'reversal')),
    delta_cents     INTEGER NOT NULL CHECK (delta_cents <> 0),
    balance_after   INTEGER NOT NULL CHECK (balance_after >= 0),
    currency        TEXT    NOT NULL CHECK (length(currency) = 3),
    reason          TEXT    NOT NULL CHECK (length(reason) BETWEEN 1 AND 200),
    actor_id        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    order_id        INTEGER REFERENCES orders (id) ON DELETE RESTRICT,
    idempotency_key TEXT    NOT NULL UNIQUE,
    created_at      TEXT    NOT NULL
);
CREATE INDEX store_credit_entries_user ON store_credit_entries (user_id, id);
CREATE TRIGGER store_credit_no_update BEFORE UPDATE ON store_credit_entries
BEGIN SELECT RAISE(ABORT, 'store_credit_entries is append-only'); END;
CREATE TRIGGER store_credit_no_delete BEFORE DELETE ON store_credit_entries
BEGIN SELECT RAISE(ABORT, 'store_credit_entries is append-only'); END;

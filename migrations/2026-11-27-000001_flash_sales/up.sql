-- Flash sales: a sale, its items with their allocation counters, and reservations (holds
-- with a time to live). Times are UTC (written by the application); money is minor units.

CREATE TABLE sales (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT    NOT NULL,
    starts_at        TEXT    NOT NULL,
    -- the scheduled end (excluded)
    ends_at          TEXT    NOT NULL,
    -- set when an admin ends the sale before `ends_at`
    ended_early_at   TEXT,
    per_customer_cap INTEGER NOT NULL CHECK (per_customer_cap >= 1),
    -- when the units left unsold went back to stock
    settled_at       TEXT,
    version          INTEGER NOT NULL DEFAULT 1,
    created_by       INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX sales_ends ON sales (ends_at);

-- One product of a sale. `allocated` units were taken from stock through the ledger; of
-- them `sold` are paid and `reserved` are held. The CHECK is the last line against overselling.
CREATE TABLE sale_items (
    sale_id        INTEGER NOT NULL REFERENCES sales (id) ON DELETE CASCADE,
    product_id     INTEGER NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    position       INTEGER NOT NULL,
    discount_kind  TEXT    NOT NULL CHECK (discount_kind IN ('percent_off', 'sale_price')),
    discount_value INTEGER NOT NULL CHECK (discount_value >= 0),
    allocated      INTEGER NOT NULL CHECK (allocated >= 0),
    sold           INTEGER NOT NULL DEFAULT 0 CHECK (sold >= 0),
    reserved       INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    PRIMARY KEY (sale_id, product_id),
    CHECK (sold + reserved <= allocated)
) WITHOUT ROWID;
CREATE INDEX sale_items_product ON sale_items (product_id);

CREATE TABLE sale_reservations (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    sale_id          INTEGER NOT NULL,
    product_id       INTEGER NOT NULL,
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    units            INTEGER NOT NULL CHECK (units >= 1),
    unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0),
    currency         TEXT    NOT NULL CHECK (length(currency) = 3),
    state            TEXT    NOT NULL CHECK (state IN ('held', 'paid', 'cancelled', 'expired')),
    expires_at       TEXT    NOT NULL,
    order_id         INTEGER REFERENCES orders (id) ON DELETE RESTRICT,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    FOREIGN KEY (sale_id, product_id) REFERENCES sale_items (sale_id, product_id)
);
CREATE INDEX sale_reservations_customer ON sale_reservations (sale_id, user_id, state);
CREATE INDEX sale_reservations_held ON sale_reservations (state, expires_at);
CREATE INDEX sale_reservations_mine ON sale_reservations (user_id, id);

-- What catalog pages show of a sale (its window, name and prices) invalidates them; its
-- counters do not (lists show remaining units at most `cache.product_list_ttl_ms` late).
CREATE TRIGGER sales_ai_catalog_version AFTER INSERT ON sales BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER sales_au_catalog_version AFTER UPDATE OF name, starts_at, ends_at, ended_early_at ON sales BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER sale_items_ai_catalog_version AFTER INSERT ON sale_items BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER sale_items_ad_catalog_version AFTER DELETE ON sale_items BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;

-- Accounts, sessions, catalog with its stock ledger, and the audit log.
-- Times are UTC, written by the application (RFC 3339). Money is integer minor units.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL UNIQUE COLLATE NOCASE CHECK (length(email) BETWEEN 3 AND 254),
    password_hash TEXT    NOT NULL,
    display_name  TEXT    NOT NULL CHECK (length(display_name) BETWEEN 1 AND 80),
    role          TEXT    NOT NULL DEFAULT 'customer'
                  CHECK (role IN ('customer', 'support', 'warehouse', 'finance', 'admin')),
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE INDEX users_role ON users (role);

-- One row per login. The access JWT names its session (sid); logout and refresh-token
-- reuse revoke the session, which invalidates its access tokens at once.
CREATE TABLE sessions (
    id            TEXT    PRIMARY KEY NOT NULL,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    refresh_hash  TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    expires_at    TEXT    NOT NULL,
    revoked_at    TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE UNIQUE INDEX sessions_refresh ON sessions (refresh_hash);

CREATE TABLE products (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    sku         TEXT    NOT NULL UNIQUE CHECK (length(sku) BETWEEN 1 AND 64),
    name        TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description TEXT    NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    currency    TEXT    NOT NULL CHECK (length(currency) = 3),
    stock       INTEGER NOT NULL DEFAULT 0 CHECK (stock >= 0),
    category    TEXT    NOT NULL CHECK (length(category) BETWEEN 1 AND 64),
    image_url   TEXT,
    active      BOOLEAN NOT NULL DEFAULT 1,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);
CREATE INDEX products_active_category_name ON products (active, category, name);
CREATE INDEX products_active_name ON products (active, name);
CREATE INDEX products_active_price ON products (active, price_cents);

-- Every stock change, with who and why; products.stock always equals the sum of deltas.
CREATE TABLE stock_movements (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id  INTEGER NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    delta       INTEGER NOT NULL CHECK (delta <> 0),
    stock_after INTEGER NOT NULL CHECK (stock_after >= 0),
    reason      TEXT    NOT NULL CHECK (length(reason) BETWEEN 1 AND 200),
    actor_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at  TEXT    NOT NULL
);
CREATE INDEX stock_movements_product ON stock_movements (product_id, id);

-- Append-only record of every state change that matters.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id    INTEGER REFERENCES users (id),
    action      TEXT    NOT NULL,
    entity_type TEXT    NOT NULL,
    entity_id   TEXT    NOT NULL,
    detail      TEXT    NOT NULL DEFAULT '{}',
    created_at  TEXT    NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- A counter bumped by every catalog write, from any process: list ETags and the
-- list cache are keyed on it, so a change made by the worker invalidates them too.
CREATE TABLE catalog_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 1);

-- Full-text index over the searchable product text (external content: no copy of the rows).
CREATE VIRTUAL TABLE products_fts USING fts5 (
    name, description, category, sku,
    content = 'products', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER products_ai AFTER INSERT ON products BEGIN
    INSERT INTO products_fts (rowid, name, description, category, sku)
    VALUES (new.id, new.name, new.description, new.category, new.sku);
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER products_ad AFTER DELETE ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, name, description, category, sku)
    VALUES ('delete', old.id, old.name, old.description, old.category, old.sku);
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER products_au AFTER UPDATE ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, name, description, category, sku)
    VALUES ('delete', old.id, old.name, old.description, old.category, old.sku);
    INSERT INTO products_fts (rowid, name, description, category, sku)
    VALUES (new.id, new.name, new.description, new.category, new.sku);
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;

-- A sale changes only `stock` (and `updated_at`): it must neither re-index the search text
-- nor bump the catalog version, which would throw away every cached list page. Product lists
-- show stock from pages at most `cache.product_list_ttl_ms` old; a product's own page and the
-- cart read it live.
DROP TRIGGER products_au;

-- Re-index only when the indexed text itself changed.
CREATE TRIGGER products_au AFTER UPDATE OF name, description, category, sku ON products
WHEN old.name IS NOT new.name OR old.description IS NOT new.description
  OR old.category IS NOT new.category OR old.sku IS NOT new.sku
BEGIN
    INSERT INTO products_fts (products_fts, rowid, name, description, category, sku)
    VALUES ('delete', old.id, old.name, old.description, old.category, old.sku);
    INSERT INTO products_fts (rowid, name, description, category, sku)
    VALUES (new.id, new.name, new.description, new.category, new.sku);
END;

-- A new catalog version for any change a list shows other than stock: the listed fields
-- and the editable `version` (an edit, even one that changes nothing else, bumps it, and a
-- catalog manager editing from a list needs the current one).
CREATE TRIGGER products_au_catalog_version AFTER UPDATE OF
    name, description, price_cents, currency, category, image_url, active, sku, version ON products
WHEN old.name IS NOT new.name OR old.description IS NOT new.description
  OR old.price_cents IS NOT new.price_cents OR old.currency IS NOT new.currency
  OR old.category IS NOT new.category OR old.image_url IS NOT new.image_url
  OR old.active IS NOT new.active OR old.sku IS NOT new.sku OR old.version IS NOT new.version
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;

DROP TRIGGER products_ai;
CREATE TRIGGER products_ai AFTER INSERT ON products BEGIN
    INSERT INTO products_fts (rowid, name, description, category, sku)
    VALUES (new.id, new.name, new.description, new.category, new.sku);
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;

DROP TRIGGER products_ad;
CREATE TRIGGER products_ad AFTER DELETE ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, name, description, category, sku)
    VALUES ('delete', old.id, old.name, old.description, old.category, old.sku);
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;

DROP TRIGGER products_au_catalog_version;
CREATE TRIGGER products_au_catalog_version AFTER UPDATE OF
    name, description, price_cents, currency, category, image_url, active, sku, version ON products
WHEN old.name IS NOT new.name OR old.description IS NOT new.description
  OR old.price_cents IS NOT new.price_cents OR old.currency IS NOT new.currency
  OR old.category IS NOT new.category OR old.image_url IS NOT new.image_url
  OR old.active IS NOT new.active OR old.sku IS NOT new.sku OR old.version IS NOT new.version
BEGIN
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;

ALTER TABLE catalog_version DROP COLUMN active_products;

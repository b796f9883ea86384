DROP TRIGGER products_au_catalog_version;
DROP TRIGGER products_au;
CREATE TRIGGER products_au AFTER UPDATE ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, name, description, category, sku)
    VALUES ('delete', old.id, old.name, old.description, old.category, old.sku);
    INSERT INTO products_fts (rowid, name, description, category, sku)
    VALUES (new.id, new.name, new.description, new.category, new.sku);
    UPDATE catalog_version SET version = version + 1 WHERE id = 1;
END;

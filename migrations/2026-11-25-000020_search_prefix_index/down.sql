DROP TABLE products_fts;
CREATE VIRTUAL TABLE products_fts USING fts5 (
    name, description, category, sku,
    content = 'products', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO products_fts (products_fts) VALUES ('rebuild');

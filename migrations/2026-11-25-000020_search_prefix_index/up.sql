-- Prefix indexes for one- and two-character prefixes: search-as-you-type sends `"k"*`,
-- which without them merges the doclist of every token starting with k on each query.
-- External content: dropping the index loses nothing, 'rebuild' re-reads `products`.
-- The products_a* triggers refer to products_fts by name and keep working.
DROP TABLE products_fts;
CREATE VIRTUAL TABLE products_fts USING fts5 (
    name, description, category, sku,
    content = 'products', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2'
);
INSERT INTO products_fts (products_fts) VALUES ('rebuild');

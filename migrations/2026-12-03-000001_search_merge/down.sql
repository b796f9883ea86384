INSERT INTO products_fts (products_fts, rank) VALUES ('automerge', 4);

-- Every committed write to products adds a segment to the full-text index. With FTS5's
-- default `automerge` (4) a 100,000-row feed, committed in chunks, merges the growing index
-- over and over while it is applied. At 16 writes merge less often; the server and the worker
-- merge the index between writes instead (`merge_search_index`, `usermerge` 4), so searches
-- still read few segments.
INSERT INTO products_fts (products_fts, rank) VALUES ('automerge', 16);
